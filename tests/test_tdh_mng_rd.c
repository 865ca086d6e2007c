/* TDH.MNG.RD: states, field-id rules, production vs debug read masks, the CPUID_VALUES
 * encoding and version 1's iteration over the TD context. */
#include <string.h>

#include "fixture.h"

#define BIT(n) (UINT64_C(1) << (n))
#define RD_V1 (TDH_MNG_RD_LEAF | (1u << 16))

static uint64_t rd(struct fx *f, struct fx_td *td, uint64_t field_id)
{
	uint64_t v = UINT64_MAX;
	uint64_t ret = tdh_mng_rd(f->h, 0, td->tdr, field_id, &v);
	return ret ? ret : v;
}

/* Version 1: status, with R8 (value) and RDX (next field id). */
static uint64_t rd_v1(struct fx *f, struct fx_td *td, uint64_t field_id, uint64_t *value, uint64_t *next)
{
	struct tdx_regs r;
	uint64_t ret = fx_call(f, 0, RD_V1, td->tdr, field_id, 0, 0, &r);

	*value = r.r[TDX_REG_R8];
	*next = r.r[TDX_REG_RDX];
	return ret;
}

static uint64_t cpuid_id(uint32_t leaf, uint32_t subleaf, unsigned elem)
{
	uint64_t code = elem | ((uint64_t)(leaf & 0x7f) << 9) | ((uint64_t)(leaf >> 31) << 16);
	code |= subleaf == UINT32_MAX ? 0x100 : (uint64_t)(subleaf & 0x7f) << 1;
	return MD_TD_FIELDS_CPUID_VALUES_FIELD_ID | code;
}

static bool td_init_attr(struct fx *f, struct fx_td *td, uint64_t attributes)
{
	struct td_params p;
	fx_td_params_default(&p);
	p.attributes = attributes;
	return fx_td_create(f, td) && fx_td_init(f, td, &p, NULL) == TDX_SUCCESS;
}

TEST(mng_rd_states_and_tdr)
{
	struct fx f;
	struct fx_td td;
	struct td_params p;
	struct tdx_regs r;
	uint64_t tdr, cx[6], v, next;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	tdr = fx_page(&f);
	REQUIRE_EQ(tdh_mng_create(f.h, 0, tdr, f.h->global_keyid + 1), TDX_SUCCESS);
	td.tdr = tdr;
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_TD_KEYS_NOT_CONFIGURED);
	for (unsigned pkg = 0; pkg < plat_nr_packages(f.p); pkg++)
		REQUIRE_EQ(tdh_mng_key_config(f.h, plat_package_first_lp(f.p, pkg), tdr), TDX_SUCCESS);
	for (unsigned i = 0; i < 6; i++) {
		CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_TDCS_NOT_ALLOCATED);
		cx[i] = fx_page(&f);
		REQUIRE_EQ(tdh_mng_addcx(f.h, 0, tdr, cx[i]), TDX_SUCCESS);
	}
	/* no reads before TDH.MNG.INIT; version 1 still reports "no next field" */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(rd_v1(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID, &v, &next), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(next, UINT64_MAX);
	CHECK_EQ(v, 0);
	fx_td_params_default(&p);
	REQUIRE_EQ(fx_td_init(&f, &td, &p, NULL), TDX_SUCCESS);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), f.h->global_keyid + 1);
	/* the TDR operand */
	td.tdr = tdr + 0x10;
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	td.tdr = cx[2];
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	td.tdr = 3 * GiB;
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RCX);
	td.tdr = tdr;
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, tdr, true) == 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, tdr, false);
	/* versions: 0 and 1 only */
	CHECK_EQ(fx_call(&f, 0, TDH_MNG_RD_LEAF | (2u << 16), tdr, MD_TD_FIELDS_HKID_FIELD_ID, 0, 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	/* in teardown the keys are gone */
	REQUIRE_EQ(tdh_mng_vpflushdone(f.h, 0, tdr), TDX_SUCCESS);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), TDX_TD_KEYS_NOT_CONFIGURED);
	fx_destroy(&f);
}

TEST(mng_rd_tdr_and_tdcs_values)
{
	struct fx f;
	struct fx_td td;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &td, 0));
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_FATAL_FIELD_ID), 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_NUM_TDCX_FIELD_ID), 6);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_CHLDCNT_FIELD_ID), 6);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_LIFECYCLE_STATE_FIELD_ID), TD_KEYS_CONFIGURED);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_TDCX_PA_FIELD_ID + i),
			 td.tdcx[i] | ((uint64_t)td.hkid << plat_hkid_shift(f.p)));
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_TDCX_PA_FIELD_ID + 8), 0);
	CHECK(rd(&f, &td, MD_TD_FIELDS_TD_UUID_FIELD_ID) | rd(&f, &td, MD_TD_FIELDS_TD_UUID_FIELD_ID + 3));
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID), td.hkid);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_PKG_CONFIG_BITMAP_FIELD_ID), (1u << plat_nr_packages(f.p)) - 1);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_NUM_ASSOC_VCPUS_FIELD_ID), 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_NUM_CPUID_VALUES_FIELD_ID), 64);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_REFCOUNT_FIELD_ID + 1), 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_MRTD_FIELD_ID + 5), 0);
	/* the element size code and context of the input are ignored */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HKID_FIELD_ID & ~(MD_FIELD_ID_CONTEXT_CODE_MASK |
							    MD_FIELD_ID_ELEMENT_SIZE_CODE_MASK)),
		 td.hkid);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_MAX_VCPUS_FIELD_ID | MD_FIELD_ID_INC_SIZE_MASK |
				     MD_FIELD_ID_WRITE_MASK_VALID_MASK),
		 8);
	fx_destroy(&f);
}

TEST(mng_rd_field_id_rules)
{
	struct fx f;
	struct fx_td td;
	const uint64_t id = MD_TD_FIELDS_ATTRIBUTES_FIELD_ID;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &td, TD_ATTRIBUTES_DEBUG_MASK));
	CHECK_EQ(rd(&f, &td, id), TD_ATTRIBUTES_DEBUG_MASK);
	CHECK_EQ(rd(&f, &td, id | BIT(24)), TDX_METADATA_FIELD_ID_INCORRECT);  /* RESERVED_0 */
	CHECK_EQ(rd(&f, &td, id | BIT(34)), TDX_METADATA_FIELD_ID_INCORRECT);  /* LAST_ELEMENT */
	CHECK_EQ(rd(&f, &td, id | BIT(38)), TDX_METADATA_FIELD_ID_INCORRECT);  /* LAST_FIELD */
	CHECK_EQ(rd(&f, &td, id | BIT(47)), TDX_METADATA_FIELD_ID_INCORRECT);  /* RESERVED_1 */
	CHECK_EQ(rd(&f, &td, id | BIT(55)), TDX_METADATA_FIELD_ID_INCORRECT);  /* RESERVED_2 */
	CHECK_EQ(rd(&f, &td, id | BIT(62)), TDX_METADATA_FIELD_ID_INCORRECT);  /* RESERVED_3 */
	CHECK_EQ(rd(&f, &td, id + 5), TDX_METADATA_FIELD_ID_INCORRECT);        /* gap in class 17 */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_TDCX_PA_FIELD_ID + 9), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, &td, (id & ~MD_FIELD_ID_CLASS_CODE_MASK) | (21ull << 56)), TDX_METADATA_FIELD_ID_INCORRECT);
	/* version 0 has no null-id iteration start */
	CHECK_EQ(rd(&f, &td, UINT64_MAX), TDX_METADATA_FIELD_ID_INCORRECT);
	/* the L2 SEPT roots exist only for the TD's L2 VMs, even for a debug TD */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_L2_SEPT_ROOT_1_FIELD_ID), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_L2_SEPT_ROOT_3_FIELD_ID + 7), TDX_METADATA_FIELD_ID_INCORRECT);
	fx_destroy(&f);
}

/* prod_rd = 0, dbg_rd != 0: TD_CTLS, RTMR, CPUID_VALID, SEPT_ROOT, the virtual
 * IA32_ARCH_CAPABILITIES. VIRTUAL_TSC has both masks 0; VM_CTLS is not kept by this module. */
TEST(mng_rd_debug_vs_production_masks)
{
	struct fx f;
	struct fx_td prod, dbg;
	const uint64_t ve = TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &prod, ve));
	REQUIRE(td_init_attr(&f, &dbg, ve | TD_ATTRIBUTES_DEBUG_MASK));
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_TD_CTLS_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_TD_CTLS_FIELD_ID), 1); /* PENDING_VE_DISABLE */
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_RTMR_FIELD_ID + 23), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_RTMR_FIELD_ID + 23), 0);
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_CPUID_VALID_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_CPUID_VALID_FIELD_ID), 1);       /* leaf 1 */
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_CPUID_VALID_FIELD_ID + 13), 0);  /* leaf 6 faults */
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_CPUID_VALID_FIELD_ID + 79), 0);
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_SEPT_ROOT_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_SEPT_ROOT_FIELD_ID + 511), 0x80E0000000000000ull); /* FREE */
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_VIRTUAL_IA32_ARCH_CAPABILITIES_FIELD_ID),
		 TDX_METADATA_FIELD_NOT_READABLE);
	CHECK(rd(&f, &dbg, MD_TD_FIELDS_VIRTUAL_IA32_ARCH_CAPABILITIES_FIELD_ID) < TDX_OPERAND_INVALID);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_VIRTUAL_TSC_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_VIRTUAL_TSC_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_VM_CTLS_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_MSR_BITMAPS_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_MIG_ENC_KEY_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	/* readable by both */
	CHECK_EQ(rd(&f, &prod, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID), ve);
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID), ve | TD_ATTRIBUTES_DEBUG_MASK);
	fx_destroy(&f);
}

TEST(mng_rd_cpuid_values_encoding)
{
	struct fx f;
	struct fx_td td;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &td, 0));
	CHECK_EQ(rd(&f, &td, cpuid_id(1, UINT32_MAX, 0)) & 0xffffffff, 0x806f8);
	CHECK_EQ(rd(&f, &td, cpuid_id(0x15, UINT32_MAX, 1)), 25000000);
	CHECK_EQ(rd(&f, &td, cpuid_id(0x80000008, UINT32_MAX, 0)) & 0xff, 52);
	CHECK_EQ(rd(&f, &td, cpuid_id(0xd, 0x12, 0)), 0); /* AMX off */
	/* leaf 1 has no subleaves, leaf 4 no "any subleaf" entry, leaf 2 is not virtualised */
	CHECK_EQ(rd(&f, &td, cpuid_id(1, 0, 0)), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, &td, cpuid_id(4, UINT32_MAX, 0)), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, &td, cpuid_id(2, UINT32_MAX, 0)), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, &td, cpuid_id(0xd, 0x13, 0)), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, &td, cpuid_id(1, UINT32_MAX, 0) | BIT(17)), TDX_METADATA_FIELD_ID_INCORRECT);
	/* faulting entries (#VE to the guest) have no value */
	CHECK_EQ(rd(&f, &td, cpuid_id(6, UINT32_MAX, 0)), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &td, cpuid_id(0x1f, 3, 1)), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(rd(&f, &td, cpuid_id(0x80000006, UINT32_MAX, 0)), TDX_METADATA_FIELD_NOT_READABLE);
	fx_destroy(&f);
}

/* Walk the whole context with version 1; every id handed out reads successfully. */
static unsigned walk(struct fx *f, struct fx_td *td, uint64_t *ids, unsigned max)
{
	uint64_t v, next, id;
	unsigned n = 0;

	if (rd_v1(f, td, UINT64_MAX, &v, &next) != TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT || v)
		return 0;
	for (id = next; id != UINT64_MAX && n < max; id = next) {
		if (rd_v1(f, td, id, &v, &next) != TDX_SUCCESS)
			return 0;
		ids[n++] = id;
	}
	return n;
}

static bool seen(const uint64_t *ids, unsigned n, uint64_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

TEST(mng_rd_v1_next_field)
{
	static uint64_t ids[4096];
	struct fx f;
	struct fx_td prod, dbg;
	uint64_t v, next;
	unsigned n;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(td_init_attr(&f, &prod, 0));
	REQUIRE(td_init_attr(&f, &dbg, TD_ATTRIBUTES_DEBUG_MASK));
	CHECK_EQ(rd_v1(&f, &prod, UINT64_MAX, &v, &next), TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT);
	CHECK_EQ(next, MD_TD_FIELDS_FATAL_FIELD_ID);
	/* within a field, across fields, across classes */
	CHECK_EQ(rd_v1(&f, &prod, MD_TD_FIELDS_TDCX_PA_FIELD_ID, &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, MD_TD_FIELDS_TDCX_PA_FIELD_ID + 1);
	CHECK_EQ(rd_v1(&f, &prod, MD_TD_FIELDS_TD_UUID_FIELD_ID + 3, &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, MD_TD_FIELDS_HKID_FIELD_ID);
	/* skipped: SEAMDB_NONCE (no read mask), VIRTUAL_TSC, NOTIFY_ENABLES (prod) */
	CHECK_EQ(rd_v1(&f, &prod, MD_TD_FIELDS_SEAMDB_INDEX_FIELD_ID, &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, MD_TD_FIELDS_NUM_VCPUS_FIELD_ID);
	CHECK_EQ(rd_v1(&f, &prod, MD_TD_FIELDS_TSC_FREQUENCY_FIELD_ID, &v, &next), TDX_SUCCESS);
	CHECK_EQ(v, 100);
	CHECK_EQ(next, MD_TD_FIELDS_NUM_CPUID_VALUES_FIELD_ID);
	CHECK_EQ(rd_v1(&f, &prod, MD_TD_FIELDS_XBUFF_SIZE_FIELD_ID, &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, MD_TD_FIELDS_HP_LOCK_TIMEOUT_FIELD_ID);
	/* CPUID values in lookup-table order, two qwords each, faulting leaves skipped */
	CHECK_EQ(rd_v1(&f, &prod, MD_TD_FIELDS_MROWNERCONFIG_FIELD_ID + 5, &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, cpuid_id(1, UINT32_MAX, 0));
	CHECK_EQ(rd_v1(&f, &prod, cpuid_id(1, UINT32_MAX, 0), &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, cpuid_id(1, UINT32_MAX, 1));
	CHECK_EQ(rd_v1(&f, &prod, cpuid_id(1, UINT32_MAX, 1), &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, cpuid_id(4, 0, 0));
	CHECK_EQ(rd_v1(&f, &prod, cpuid_id(4, 4, 1), &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, cpuid_id(7, 2, 0)); /* lookup entry 13 (leaf 6) faults */
	/* the last CPUID entry (leaf 5) ends a production TD's context */
	CHECK_EQ(rd_v1(&f, &prod, cpuid_id(5, UINT32_MAX, 1), &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, UINT64_MAX);
	CHECK_EQ(rd_v1(&f, &dbg, cpuid_id(5, UINT32_MAX, 1), &v, &next), TDX_SUCCESS);
	CHECK_EQ(next, MD_TD_FIELDS_VIRTUAL_IA32_ARCH_CAPABILITIES_FIELD_ID);
	/* errors: no next id */
	CHECK_EQ(rd_v1(&f, &prod, MD_TD_FIELDS_TD_CTLS_FIELD_ID, &v, &next), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(next, UINT64_MAX);
	CHECK_EQ(v, 0);

	n = walk(&f, &prod, ids, 4096);
	CHECK(n > 0 && n < 4096);
	CHECK(seen(ids, n, MD_TD_FIELDS_MRTD_FIELD_ID + 5));
	CHECK(seen(ids, n, cpuid_id(0x80000008, UINT32_MAX, 1)));
	CHECK(!seen(ids, n, MD_TD_FIELDS_RTMR_FIELD_ID));
	CHECK(!seen(ids, n, MD_TD_FIELDS_VIRTUAL_TSC_FIELD_ID));
	CHECK(!seen(ids, n, cpuid_id(6, UINT32_MAX, 0)));
	n = walk(&f, &dbg, ids, 4096);
	CHECK(n > 0 && n < 4096);
	CHECK(seen(ids, n, MD_TD_FIELDS_RTMR_FIELD_ID + 23));
	CHECK(seen(ids, n, MD_TD_FIELDS_TD_CTLS_FIELD_ID));
	CHECK_EQ(ids[n - 1], MD_TD_FIELDS_SEPT_ROOT_FIELD_ID + 511);
	CHECK(!seen(ids, n, MD_TD_FIELDS_VM_CTLS_FIELD_ID));
	fx_destroy(&f);
}
