/* TDH.MNG.WR: HP_LOCK_TIMEOUT bounds and mask rules, non-writable fields, field-id rules,
 * TDR and state checks. */
#include "fixture.h"

#define BIT(n) (UINT64_C(1) << (n))
#define ALL UINT64_MAX
#define HP_ID MD_TD_FIELDS_HP_LOCK_TIMEOUT_FIELD_ID

static bool td_init_attr(struct fx *f, struct fx_td *td, uint64_t attributes)
{
	struct td_params p;
	fx_td_params_default(&p);
	p.attributes = attributes;
	return fx_td_create(f, td) && fx_td_init(f, td, &p, NULL) == TDX_SUCCESS;
}

static uint64_t rd(struct fx *f, struct fx_td *td, uint64_t field_id)
{
	uint64_t v = UINT64_MAX;
	uint64_t ret = tdh_mng_rd(f->h, 0, td->tdr, field_id, &v);
	return ret ? ret : v;
}

/* Status of the write; *old is R8 (0 on failure). */
static uint64_t wr(struct fx *f, struct fx_td *td, uint64_t field_id, uint64_t value, uint64_t mask, uint64_t *old)
{
	*old = UINT64_MAX;
	return tdh_mng_wr(f->h, 0, td->tdr, field_id, value, mask, old);
}

/* The native TSC frequency the module converts with (CPUID 0x15 of the LP). */
static uint64_t native_tsc_hz(struct fx *f)
{
	struct cpuid_regs r;

	plat_cpuid(f->p, 0, 0x15, 0, &r);
	return r.eax ? (uint64_t)r.ecx * r.ebx / r.eax : 0;
}

TEST(mng_wr_hp_lock_timeout)
{
	struct fx f;
	struct fx_td td;
	uint64_t old, hz;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &td, 0));
	CHECK_EQ(rd(&f, &td, HP_ID), 1000000); /* TDH.MNG.INIT's default: one second */
	CHECK_EQ(wr(&f, &td, HP_ID, 20000, ALL, &old), TDX_SUCCESS);
	CHECK_EQ(old, 1000000);
	CHECK_EQ(rd(&f, &td, HP_ID), 20000);
	/* bounds [10 ms, 100 s], inclusive */
	CHECK_EQ(wr(&f, &td, HP_ID, 10000, ALL, &old), TDX_SUCCESS);
	CHECK_EQ(old, 20000);
	CHECK_EQ(rd(&f, &td, HP_ID), 10000);
	CHECK_EQ(wr(&f, &td, HP_ID, 9999, ALL, &old), TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(old, 0);
	CHECK_EQ(wr(&f, &td, HP_ID, 100000001, ALL, &old), TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(wr(&f, &td, HP_ID, 0, ALL, &old), TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(rd(&f, &td, HP_ID), 10000);
	/* the upper bound is accepted; kept as 32-bit TSC ticks (1.5.01), so on a GHz TSC it reads
	 * back as the truncated tick count converted to microseconds */
	CHECK_EQ(wr(&f, &td, HP_ID, 100000000, ALL, &old), TDX_SUCCESS);
	hz = native_tsc_hz(&f);
	REQUIRE(hz > UINT32_MAX / 100);
	CHECK_EQ(rd(&f, &td, HP_ID), (uint64_t)(uint32_t)(100000000ull * hz / 1000000ull) * 1000000ull / hz);
	/* only a whole-field write: any other non-zero mask is refused, a zero mask is "no bits" */
	CHECK_EQ(wr(&f, &td, HP_ID, 50000, 0xffffffff, &old), TDX_METADATA_WR_MASK_NOT_VALID);
	CHECK_EQ(wr(&f, &td, HP_ID, 50000, ALL >> 1, &old), TDX_METADATA_WR_MASK_NOT_VALID);
	CHECK_EQ(wr(&f, &td, HP_ID, 50000, 0, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(wr(&f, &td, HP_ID, 50000, ALL, &old), TDX_SUCCESS);
	CHECK_EQ(rd(&f, &td, HP_ID), 50000);
	fx_destroy(&f);
}

TEST(mng_wr_not_writable_fields)
{
	struct fx f;
	struct fx_td prod, dbg;
	uint64_t old;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &prod, 0));
	REQUIRE(td_init_attr(&f, &dbg, TD_ATTRIBUTES_DEBUG_MASK));
	/* write mask 0 for the host, debug TD or not */
	CHECK_EQ(wr(&f, &prod, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID, 0, ALL, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(old, 0);
	CHECK_EQ(wr(&f, &dbg, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID, 0, ALL, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(wr(&f, &dbg, MD_TD_FIELDS_MAX_VCPUS_FIELD_ID, 1, ALL, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(wr(&f, &prod, MD_TD_FIELDS_HKID_FIELD_ID, 1, ALL, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(wr(&f, &prod, MD_TD_FIELDS_MRTD_FIELD_ID + 2, 1, ALL, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(wr(&f, &dbg, MD_TD_FIELDS_TD_CTLS_FIELD_ID, 0, ALL, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	/* NOTIFY_ENABLES: no write mask for a production TD */
	CHECK_EQ(wr(&f, &prod, MD_TD_FIELDS_NOTIFY_ENABLES_FIELD_ID, 1, 1, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	/* VM_CTLS / debug NOTIFY_ENABLES are host-writable in 1.5.01 but not kept by this module */
	CHECK_EQ(wr(&f, &prod, MD_TD_FIELDS_VM_CTLS_FIELD_ID, 1, 1, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(wr(&f, &dbg, MD_TD_FIELDS_NOTIFY_ENABLES_FIELD_ID, 1, 1, &old), TDX_METADATA_FIELD_NOT_WRITABLE);
	/* CPUID values: no write mask; faulting leaves are refused as unreadable first */
	CHECK_EQ(wr(&f, &dbg, MD_TD_FIELDS_CPUID_VALUES_FIELD_ID | 0x100 | (1u << 9), 0, ALL, &old),
		 TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(wr(&f, &dbg, MD_TD_FIELDS_CPUID_VALUES_FIELD_ID | 0x100 | (6u << 9), 0, ALL, &old),
		 TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(wr(&f, &dbg, MD_TD_FIELDS_CPUID_VALUES_FIELD_ID | 0x100 | (2u << 9), 0, ALL, &old),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID), 0);
	fx_destroy(&f);
}

TEST(mng_wr_field_id_rules)
{
	struct fx f;
	struct fx_td td;
	uint64_t old;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &td, 0));
	CHECK_EQ(wr(&f, &td, HP_ID | BIT(24), 20000, ALL, &old), TDX_METADATA_FIELD_ID_INCORRECT); /* RESERVED_0 */
	CHECK_EQ(wr(&f, &td, HP_ID | BIT(34), 20000, ALL, &old), TDX_METADATA_FIELD_ID_INCORRECT); /* LAST_ELEMENT */
	CHECK_EQ(wr(&f, &td, HP_ID | BIT(38), 20000, ALL, &old), TDX_METADATA_FIELD_ID_INCORRECT); /* LAST_FIELD */
	CHECK_EQ(wr(&f, &td, HP_ID | BIT(62), 20000, ALL, &old), TDX_METADATA_FIELD_ID_INCORRECT); /* RESERVED_3 */
	CHECK_EQ(wr(&f, &td, UINT64_MAX, 20000, ALL, &old), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(wr(&f, &td, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID + 5, 0, ALL, &old), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(wr(&f, &td, MD_TD_FIELDS_L2_SEPT_ROOT_1_FIELD_ID, 0, ALL, &old), TDX_METADATA_FIELD_ID_INCORRECT);
	/* element size, increment size, write-mask-valid and context are ignored */
	CHECK_EQ(wr(&f, &td, HP_ID & ~(MD_FIELD_ID_CONTEXT_CODE_MASK | MD_FIELD_ID_ELEMENT_SIZE_CODE_MASK), 30000, ALL,
		    &old),
		 TDX_SUCCESS);
	CHECK_EQ(wr(&f, &td, HP_ID | MD_FIELD_ID_WRITE_MASK_VALID_MASK, 40000, ALL, &old), TDX_SUCCESS);
	CHECK_EQ(old, 30000);
	fx_destroy(&f);
}

TEST(mng_wr_tdr_and_states)
{
	struct fx f;
	struct fx_td td;
	struct td_params p;
	struct tdx_regs r;
	uint64_t old, vpr;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	/* before TDH.MNG.INIT */
	CHECK_EQ(wr(&f, &td, HP_ID, 20000, ALL, &old), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(old, 0);
	fx_td_params_default(&p);
	REQUIRE_EQ(fx_td_init(&f, &td, &p, NULL), TDX_SUCCESS);
	/* the TDR operand (RCX) */
	CHECK_EQ(tdh_mng_wr(f.h, 0, td.tdr + 16, HP_ID, 20000, ALL, &old), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mng_wr(f.h, 0, td.tdcx[1], HP_ID, 20000, ALL, &old), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, true) == 0);
	CHECK_EQ(wr(&f, &td, HP_ID, 20000, ALL, &old), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, false);
	/* version 1 does not exist for MNG.WR */
	CHECK_EQ(fx_call(&f, 0, TDH_MNG_WR_LEAF | (1u << 16), td.tdr, HP_ID, 20000, ALL, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	/* RUNNABLE: still writable */
	vpr = fx_page(&f);
	REQUIRE_EQ(tdh_vp_create(f.h, 0, td.tdr, vpr), TDX_SUCCESS);
	for (int i = 0; i < 5; i++)
		REQUIRE_EQ(tdh_vp_addcx(f.h, 0, vpr, fx_page(&f)), TDX_SUCCESS);
	REQUIRE_EQ(tdh_vp_init(f.h, 0, vpr, 0), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mr_finalize(f.h, 0, td.tdr), TDX_SUCCESS);
	CHECK_EQ(wr(&f, &td, HP_ID, 20000, ALL, &old), TDX_SUCCESS);
	CHECK_EQ(old, 1000000);
	/* teardown */
	REQUIRE_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_FLUSHVP_NOT_DONE); /* VP.INIT associated it */
	REQUIRE_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_SUCCESS);
	CHECK_EQ(wr(&f, &td, HP_ID, 30000, ALL, &old), TDX_TD_KEYS_NOT_CONFIGURED);
	fx_destroy(&f);
}
