/* TDH.VP.RD / TDH.VP.WR: initial vCPU state after TDH.VP.INIT, debug vs production masks,
 * writes with masks and special rules, operand and field-id errors, version-1 iteration. */
#include "fixture.h"

#define VMCS_ID(name) MD_TD_VMCS_FIELDS_##name##_FIELD_ID
#define TDVPS_ID(name) MD_TDVPS_FIELDS_##name##_FIELD_ID

/* A TD (debug or not) with one initialised vCPU whose initial RCX is 0x809000. */
static bool vcpu_ready(struct fx *f, struct fx_td *td, bool debug, uint64_t *vpr)
{
	struct td_params p;

	if (!fx_bringup(f) || !fx_td_create(f, td))
		return false;
	fx_td_params_default(&p);
	if (debug)
		p.attributes |= TD_ATTRIBUTES_DEBUG_MASK;
	if (fx_td_init(f, td, &p, NULL) != TDX_SUCCESS)
		return false;
	*vpr = fx_page(f);
	if (tdh_vp_create(f->h, 0, td->tdr, *vpr) != TDX_SUCCESS)
		return false;
	for (int i = 0; i < 5; i++)
		if (tdh_vp_addcx(f->h, 0, *vpr, fx_page(f)) != TDX_SUCCESS)
			return false;
	return tdh_vp_init(f->h, 0, *vpr, 0x809000) == TDX_SUCCESS;
}

static uint64_t rd(struct fx *f, uint64_t vpr, uint64_t id)
{
	uint64_t v = 0xdead;
	return tdh_vp_rd(f->h, 0, vpr, id, &v) == TDX_SUCCESS ? v : 0xbad0bad0bad0bad0ull;
}

TEST(vp_rd_initial_state_debug_td)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr;
	REQUIRE(fx_create(&f));
	REQUIRE(vcpu_ready(&f, &td, true, &vpr));
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_RIP)), 0xFFFFFFF0ull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_RFLAGS)), 0x2ull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_CR0)), 0x21ull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_CR4)), 0x2040ull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_CS_ACCESS_RIGHTS)), 0xC09Bull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_CS_LIMIT)), 0xFFFFFFFFull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_TR_ACCESS_RIGHTS)), 0x8Bull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(IA32_EFER)), 0x901ull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(POSTED_INTERRUPT_NOTIFICATION_VECTOR)), 0xFFFFull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS)), UINT64_MAX);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(RCX)), 0x809000ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(R8)), 0x809000ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(RBX)), 48ull); /* default TD_PARAMS: GPAW off */
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(RSI)), 0ull);
	CHECK(rd(&f, vpr, TDVPS_ID(RDX)) != 0 && rd(&f, vpr, TDVPS_ID(RDX)) != 0xbad0bad0bad0bad0ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(XCR0)), 1ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(DR6)), 0xFFFF0FF0ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(IA32_FMASK)), 0x20200ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(VCPU_STATE)), (uint64_t)VCPU_READY);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(VCPU_INDEX)), 0ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(NUM_TDVPS_PAGES)), (uint64_t)MIN_TDVPS_PAGES);
	/* VP.INIT associated the vCPU with LP 0 */
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(ASSOC_LPID)), 0ull);
	fx_destroy(&f);
}

TEST(vp_rd_production_td_hides_guest_state)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr, v;
	REQUIRE(fx_create(&f));
	REQUIRE(vcpu_ready(&f, &td, false, &vpr));
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, VMCS_ID(GUEST_RIP), &v), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(v, 0ull);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RCX), &v), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(VCPU_STATE), &v), TDX_METADATA_FIELD_NOT_READABLE);
	/* production-readable fields */
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(VCPU_INDEX)), 0ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(XFAM)) & 3, 3ull); /* x87 and SSE are always on */
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(TDVPS_PAGE_PA)) & ~UINT64_C(0xFFFFFFFFFF000), 0ull);
	/* writes: guest state is not writable, the posted-interrupt vector is */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(RAX), 1, ~0ull, &v), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(GUEST_RIP), 1, ~0ull, &v), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(POSTED_INTERRUPT_NOTIFICATION_VECTOR), 0xF2, 0xFFFF, &v), TDX_SUCCESS);
	CHECK_EQ(v, 0xFFFFull);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(POSTED_INTERRUPT_NOTIFICATION_VECTOR), 0x10, 0xFFFF, &v),
		 TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(POSTED_INTERRUPT_NOTIFICATION_VECTOR)), 0xF2ull);
	fx_destroy(&f);
}

TEST(vp_wr_masks_and_special_rules)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr, v;
	REQUIRE(fx_create(&f));
	REQUIRE(vcpu_ready(&f, &td, true, &vpr));
	/* partial write keeps the other bits; old value returned */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(RAX), 0x1234, 0xFF, &v), TDX_SUCCESS);
	CHECK_EQ(v, 0ull);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(RAX), 0xAB00, 0xFF00, &v), TDX_SUCCESS);
	CHECK_EQ(v, 0x34ull);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(RAX)), 0xAB34ull);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(GUEST_RIP), 0xFFFF0000, ~0ull, &v), TDX_SUCCESS);
	CHECK_EQ(v, 0xFFFFFFF0ull);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_RIP)), 0xFFFF0000ull);
	/* mask 0 and read-only fields */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(RAX), 1, 0, &v), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(VCPU_STATE), 8, 0xFF, &v), TDX_METADATA_FIELD_NOT_WRITABLE);
	/* DR6: only bits 31:0 writable; changing a requested non-writable bit is refused */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(DR6), UINT64_C(1) << 40, ~0ull, &v),
		 TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(DR6)), 0xFFFF0FF0ull);
	/* CR0: host-owned bits must match the read shadow (NE cleared -> refused) */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(GUEST_CR0), 0x1, ~0ull, &v), TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(GUEST_CR0)), 0x21ull);
	/* EFER.LMA follows LME and CR0.PG */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(GUEST_CR0), 0x80000021, ~0ull, &v), TDX_SUCCESS);
	CHECK_EQ(rd(&f, vpr, VMCS_ID(IA32_EFER)) & 0x500, 0x500ull);
	/* XSAVE header is the module's */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(XBUFF) + 65, 0, ~0ull, &v), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(XBUFF) + 65), UINT64_C(1) << 63);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(XBUFF) + 1, 7, ~0ull, &v), TDX_SUCCESS);
	/* posted interrupts need the vector and the descriptor first */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(PIN_BASED_VM_EXECTION_CONTROLS), 0x80, 0x80, &v),
		 TDX_TD_VMCS_FIELD_NOT_INITIALIZED + (VMCS_ID(POSTED_INTERRUPT_NOTIFICATION_VECTOR) & 0xFFFFFF));
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(POSTED_INTERRUPT_NOTIFICATION_VECTOR), 0xF2, 0xFFFF, &v), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(PIN_BASED_VM_EXECTION_CONTROLS), 0x80, 0x80, &v),
		 TDX_TD_VMCS_FIELD_NOT_INITIALIZED + (VMCS_ID(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS) & 0xFFFFFF));
	/* beyond MAX_PA: not a shared HPA */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS), UINT64_C(1) << 52, 
			   ~0ull, &v), TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS), 0x100000, ~0ull, &v), TDX_SUCCESS);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(PIN_BASED_VM_EXECTION_CONTROLS), 0x80, 0x80, &v), TDX_SUCCESS);
	/* CR3 must be a private GPA */
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, VMCS_ID(GUEST_CR3), UINT64_C(1) << 47, ~0ull, &v),
		 TDX_METADATA_FIELD_VALUE_NOT_VALID);
	fx_destroy(&f);
}

TEST(vp_rd_wr_errors)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr, v;
	REQUIRE(fx_create(&f));
	REQUIRE(vcpu_ready(&f, &td, true, &vpr));
	/* operands */
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr + 8, TDVPS_ID(RAX), &v), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_vp_rd(f.h, 0, td.tdr, TDVPS_ID(RAX), &v), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(tdh_vp_wr(f.h, 0, td.tdr, TDVPS_ID(RAX), 0, ~0ull, &v), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, vpr, true) == 0);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RAX), &v), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, vpr, false);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, true) == 0);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RAX), &v), TDX_OPERAND_BUSY + OPERAND_ID_TDR);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, false);
	/* field ids */
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RAX) | (UINT64_C(1) << 24), &v), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, VMCS_ID(GUEST_RIP) + 1, &v), TDX_METADATA_FIELD_ID_INCORRECT); /* high */
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RAX) + 0x100, &v), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RSP_PLACEHOLDER), &v), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(L2_MSR_BITMAPS_1), &v), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdh_vp_wr(f.h, 0, vpr, TDVPS_ID(RAX) | (UINT64_C(1) << 38), 0, ~0ull, &v),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	/* version above the maximum: the dispatcher */
	CHECK_EQ(fx_call(&f, 0, TDH_VP_RD_LEAF | (UINT64_C(2) << 16), vpr, TDVPS_ID(RAX), 0, 0, NULL),
		 TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(fx_call(&f, 0, TDH_VP_WR_LEAF | (UINT64_C(1) << 16), vpr, TDVPS_ID(RAX), 0, 0, NULL),
		 TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	/* associated with LP 0: another LP is refused */
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RAX), &v), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_rd(f.h, 1, vpr, TDVPS_ID(RAX), &v), TDX_VCPU_ASSOCIATED);
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_rd(f.h, 1, vpr, TDVPS_ID(ASSOC_LPID), &v), TDX_SUCCESS);
	CHECK_EQ(v, 1ull);
	fx_destroy(&f);
}

TEST(vp_rd_missing_tdvpx_and_uninitialized)
{
	struct fx f;
	struct fx_td td;
	struct td_params p;
	uint64_t vpr, v;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f) && fx_td_create(&f, &td));
	fx_td_params_default(&p);
	p.attributes |= TD_ATTRIBUTES_DEBUG_MASK;
	REQUIRE_EQ(fx_td_init(&f, &td, &p, NULL), TDX_SUCCESS);
	vpr = fx_page(&f);
	REQUIRE_EQ(tdh_vp_create(f.h, 0, td.tdr, vpr), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr, TDVPS_ID(RAX), &v), TDX_TDCX_NUM_INCORRECT);
	for (int i = 0; i < 5; i++)
		REQUIRE_EQ(tdh_vp_addcx(f.h, 0, vpr, fx_page(&f)), TDX_SUCCESS);
	CHECK_EQ(rd(&f, vpr, TDVPS_ID(VCPU_STATE)), (uint64_t)VCPU_UNINITIALIZED);
	fx_destroy(&f);
}

/* Version 1 walks every readable field once, in order, and ends with -1. */
static unsigned walk(struct fx *f, uint64_t vpr, bool *ok)
{
	uint64_t id, next, v;
	unsigned n = 0;

	*ok = tdh_vp_rd_next(f->h, 0, vpr, UINT64_MAX, &v, &id) == TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
	while (*ok && id != UINT64_MAX && n < 4000) {
		*ok = tdh_vp_rd_next(f->h, 0, vpr, id, &v, &next) == TDX_SUCCESS && next != id;
		id = next;
		n++;
	}
	return n;
}

TEST(vp_rd_version1_iteration)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr;
	bool ok;
	unsigned n;
	REQUIRE(fx_create(&f));
	REQUIRE(vcpu_ready(&f, &td, true, &vpr));
	n = walk(&f, vpr, &ok);
	CHECK(ok);
	/* debug TD: VAPIC 128 + XBUFF 1536 + the other TDVPS and VMCS elements */
	CHECK(n > 128 + 1536 + 100 && n < 4000);
	fx_destroy(&f);
	REQUIRE(fx_create(&f));
	REQUIRE(vcpu_ready(&f, &td, false, &vpr));
	n = walk(&f, vpr, &ok);
	CHECK(ok);
	CHECK(n > 5 && n < 60); /* production: only the handful of prod-readable fields */
	fx_destroy(&f);
}
