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
