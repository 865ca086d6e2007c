/* TDH.VP.CREATE, TDH.VP.ADDCX, TDH.VP.INIT and TDH.MR.FINALIZE. */
#include "fixture.h"

static bool td_initialised(struct fx *f, struct fx_td *td, unsigned max_vcpus)
{
	struct td_params p;
	if (!fx_bringup(f) || !fx_td_create(f, td))
		return false;
	fx_td_params_default(&p);
	p.max_vcpus = (uint16_t)max_vcpus;
	return fx_td_init(f, td, &p, NULL) == TDX_SUCCESS;
}

TEST(vp_create_addcx_init)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr, cx[6];
	struct tdx_module_args a;
	REQUIRE(fx_create(&f));
	REQUIRE(td_initialised(&f, &td, 1));
	vpr = fx_page(&f);
	for (int i = 0; i < 6; i++)
		cx[i] = fx_page(&f);
	CHECK_EQ(tdh_vp_create(f.h, 0, cx[0], vpr), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	CHECK_EQ(tdh_vp_create(f.h, 0, td.tdr, vpr + 16), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_vp_create(f.h, 0, td.tdr, td.tdcx[0]), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	REQUIRE_EQ(tdh_vp_create(f.h, 0, td.tdr, vpr), TDX_SUCCESS);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, vpr, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_TDVPR);
	CHECK_EQ(a.rdx, td.tdr);
	/* not all TDVPX pages yet */
	CHECK_EQ(tdh_vp_init(f.h, 0, vpr, 0x809000), TDX_TDCX_NUM_INCORRECT);
	CHECK_EQ(tdh_vp_addcx(f.h, 0, td.tdr, cx[0]), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(tdh_vp_addcx(f.h, 0, vpr, cx[i]), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_addcx(f.h, 0, vpr, cx[5]), TDX_TDCX_NUM_INCORRECT);
	CHECK_EQ(tdh_mr_finalize(f.h, 0, td.tdr), TDX_NO_VCPUS);
	/* the host moved this LP's TSC since TDH.SYS.INIT */
	plat_wrmsr(f.p, 0, MSR_IA32_TSC_ADJUST, 77);
	CHECK_EQ(tdh_vp_init(f.h, 0, vpr, 0x809000), TDX_INCONSISTENT_MSR + MSR_IA32_TSC_ADJUST);
	plat_wrmsr(f.p, 0, MSR_IA32_TSC_ADJUST, 0);
	CHECK_EQ(tdh_vp_init(f.h, 0, vpr, 0x809000), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_init(f.h, 0, vpr, 0x809000), TDX_VCPU_STATE_INCORRECT);
	CHECK_EQ(tdh_vp_addcx(f.h, 0, vpr, cx[5]), TDX_VCPU_STATE_INCORRECT);
	/* max_vcpus = 1: a second vCPU cannot be initialised */
	{
		uint64_t vpr2 = fx_page(&f);
		REQUIRE_EQ(tdh_vp_create(f.h, 0, td.tdr, vpr2), TDX_SUCCESS);
		for (int i = 0; i < 5; i++)
			REQUIRE_EQ(tdh_vp_addcx(f.h, 0, vpr2, fx_page(&f)), TDX_SUCCESS);
		CHECK_EQ(tdh_vp_init(f.h, 0, vpr2, 0), TDX_MAX_VCPUS_EXCEEDED);
	}
	fx_destroy(&f);
}

TEST(mr_finalize_states)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr, v;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	/* before TDH.MNG.INIT */
	CHECK_EQ(tdh_mr_finalize(f.h, 0, td.tdr), TDX_OP_STATE_INCORRECT);
	{
		struct td_params p;
		fx_td_params_default(&p);
		REQUIRE_EQ(fx_td_init(&f, &td, &p, NULL), TDX_SUCCESS);
	}
	vpr = fx_page(&f);
	REQUIRE_EQ(tdh_vp_create(f.h, 0, td.tdr, vpr), TDX_SUCCESS);
	for (int i = 0; i < 5; i++)
		REQUIRE_EQ(tdh_vp_addcx(f.h, 0, vpr, fx_page(&f)), TDX_SUCCESS);
	REQUIRE_EQ(tdh_vp_init(f.h, 0, vpr, 0), TDX_SUCCESS);
	CHECK_EQ(tdh_mr_finalize(f.h, 0, td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mr_finalize(f.h, 0, td.tdr), TDX_OP_STATE_INCORRECT);
	/* an empty measurement is SHA-384 of nothing */
	CHECK_EQ(tdh_mng_rd(f.h, 0, td.tdr, MD_TD_FIELDS_MRTD_FIELD_ID, &v), TDX_SUCCESS);
	CHECK_EQ(v, 0x3896ac51a760b038ull); /* SHA-384("") = 38b060a751ac9638..., first qword little-endian */
	fx_destroy(&f);
}

/* ---- TDH.VP.INIT version 1 (x2APIC ID in R8): tdx-1.5.06 only ---- */

#define VP_INIT_V1 (TDH_VP_INIT_LEAF | (UINT64_C(1) << LEAF_AND_VERSION_VERSION_SHIFT))
#define VP_INIT_V2 (TDH_VP_INIT_LEAF | (UINT64_C(2) << LEAF_AND_VERSION_VERSION_SHIFT))

/* A vCPU with all its TDVPS pages, not initialised yet. */
static uint64_t vp_created(struct fx *f, uint64_t tdr)
{
	uint64_t vpr = fx_page(f);

	if (tdh_vp_create(f->h, 0, tdr, vpr))
		return 0;
	for (unsigned i = 0; i < MIN_TDVPS_PAGES - 1; i++)
		if (tdh_vp_addcx(f->h, 0, vpr, fx_page(f)))
			return 0;
	return vpr;
}

static uint64_t vp_init_v1(struct fx *f, uint64_t vpr, uint64_t x2apic_id)
{
	return fx_call(f, 0, VP_INIT_V1, vpr, 0x809000, x2apic_id, 0, NULL);
}

static uint64_t td_num_vcpus(struct fx *f, uint64_t tdr)
{
	uint64_t v = UINT64_MAX;
	CHECK_EQ(tdh_mng_rd(f->h, 0, tdr, MD_TD_FIELDS_NUM_VCPUS_FIELD_ID, &v), TDX_SUCCESS);
	return v;
}

TEST(vp_init_v1_rejected_by_1_5_01)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr;
	REQUIRE(fx_create(&f));
	REQUIRE(td_initialised(&f, &td, 2));
	REQUIRE((vpr = vp_created(&f, td.tdr)) != 0);
	/* 1.5.01 has no version 1: the dispatcher refuses it before looking at any operand */
	CHECK_EQ(vp_init_v1(&f, vpr, 3), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(td_num_vcpus(&f, td.tdr), 0);
	CHECK_EQ(tdh_vp_init(f.h, 0, vpr, 0x809000), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(vp_init_v1_x2apic_ids)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr[3], v;
	REQUIRE(fx_create_profile(&f, "tdx-1.5.06"));
	REQUIRE(td_initialised(&f, &td, 4));
	for (int i = 0; i < 3; i++)
		REQUIRE((vpr[i] = vp_created(&f, td.tdr)) != 0);
	CHECK_EQ(fx_call(&f, 0, VP_INIT_V2, vpr[0], 0, 5, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(vp_init_v1(&f, vpr[0], 5), TDX_SUCCESS);
	CHECK_EQ(vp_init_v1(&f, vpr[0], 6), TDX_VCPU_STATE_INCORRECT);
	/* bits 63:32 of R8 are reserved; the index taken for the attempt is given back */
	CHECK_EQ(vp_init_v1(&f, vpr[1], UINT64_C(1) << 32 | 6), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(td_num_vcpus(&f, td.tdr), 1);
	/* the detail is the clashing ID; 1.5.06 keeps the index it took (num_vcpus stays 2) */
	CHECK_EQ(vp_init_v1(&f, vpr[1], 5), TDX_X2APIC_ID_NOT_UNIQUE + 5);
	CHECK_EQ(td_num_vcpus(&f, td.tdr), 2);
	CHECK_EQ(vp_init_v1(&f, vpr[1], 9), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_rd(f.h, 0, vpr[1], MD_TDVPS_FIELDS_VCPU_INDEX_FIELD_ID, &v), TDX_SUCCESS);
	CHECK_EQ(v, 2);
	/* version 0 still works next to version 1 and does not check IDs */
	CHECK_EQ(tdh_vp_init(f.h, 0, vpr[2], 0), TDX_SUCCESS);
	CHECK_EQ(td_num_vcpus(&f, td.tdr), 4);
	fx_destroy(&f);
}

TEST(vp_init_v1_takes_tdr_exclusively)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr;
	REQUIRE(fx_create_profile(&f, "tdx-1.5.06"));
	REQUIRE(td_initialised(&f, &td, 2));
	REQUIRE((vpr = vp_created(&f, td.tdr)) != 0);
	REQUIRE_EQ(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, true), 0);
	CHECK_EQ(vp_init_v1(&f, vpr, 1), TDX_OPERAND_BUSY + OPERAND_ID_TDR);
	REQUIRE_EQ(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, false), 0);
	CHECK_EQ(td_num_vcpus(&f, td.tdr), 0);
	CHECK_EQ(vp_init_v1(&f, vpr, 1), TDX_SUCCESS);
	fx_destroy(&f);
}
