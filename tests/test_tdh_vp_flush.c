/* TDH.VP.FLUSH: operand and state checks; TDH.VP.INIT associates a vCPU with its LP, VP.FLUSH
 * on that LP dissociates it, and TDH.MNG.VPFLUSHDONE needs every vCPU flushed. */
#include "fixture.h"

static bool td_initialised(struct fx *f, struct fx_td *td)
{
	struct td_params p;
	if (!fx_bringup(f) || !fx_td_create(f, td))
		return false;
	fx_td_params_default(&p);
	return fx_td_init(f, td, &p, NULL) == TDX_SUCCESS;
}

/* TDVPR plus `ncx` TDVPX pages; initialised when all five are there. */
static uint64_t vcpu(struct fx *f, struct fx_td *td, unsigned ncx)
{
	uint64_t vpr = fx_page(f);

	if (tdh_vp_create(f->h, 0, td->tdr, vpr))
		return 0;
	for (unsigned i = 0; i < ncx; i++)
		if (tdh_vp_addcx(f->h, 0, vpr, fx_page(f)))
			return 0;
	if (ncx == 5 && tdh_vp_init(f->h, 0, vpr, 0))
		return 0;
	return vpr;
}

TEST(vp_flush_association_from_vp_init)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr, v;
	REQUIRE(fx_create(&f));
	REQUIRE(td_initialised(&f, &td));
	REQUIRE((vpr = vcpu(&f, &td, 5)) != 0);
	/* VP.INIT ran on LP 0: only there can the vCPU be flushed */
	for (unsigned lp = 1; lp < plat_nr_lps(f.p); lp++)
		CHECK_EQ(tdh_vp_flush(f.h, lp, vpr), TDX_VCPU_NOT_ASSOCIATED);
	REQUIRE_EQ(tdh_mng_rd(f.h, 0, td.tdr, MD_TD_FIELDS_NUM_ASSOC_VCPUS_FIELD_ID, &v), TDX_SUCCESS);
	CHECK_EQ(v, 1);
	REQUIRE_EQ(tdh_mr_finalize(f.h, 0, td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_FLUSHVP_NOT_DONE);
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_rd(f.h, 0, td.tdr, MD_TD_FIELDS_NUM_ASSOC_VCPUS_FIELD_ID, &v), TDX_SUCCESS);
	CHECK_EQ(v, 0);
	/* flushed: associated with no LP any more */
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_VCPU_NOT_ASSOCIATED);
	CHECK_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_SUCCESS);
	/* the keys are gone in teardown */
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_TD_KEYS_NOT_CONFIGURED);
	fx_destroy(&f);
}

TEST(vp_flush_operand_checks)
{
	struct fx f;
	struct fx_td td;
	uint64_t vpr, partial;
	REQUIRE(fx_create(&f));
	REQUIRE(td_initialised(&f, &td));
	REQUIRE((vpr = vcpu(&f, &td, 5)) != 0);
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr + 8), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr | (1ull << plat_hkid_shift(f.p))), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_vp_flush(f.h, 0, 3 * GiB), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RCX);
	CHECK_EQ(tdh_vp_flush(f.h, 0, td.tdr), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(tdh_vp_flush(f.h, 0, fx_page(&f)), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	/* the TDVPR is locked exclusively, its TDR (implicitly) shared */
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, vpr, true) == 0);
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, vpr, false);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, true) == 0);
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_OPERAND_BUSY + OPERAND_ID_TDR);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, false);
	/* a vCPU still missing TDVPX pages cannot be mapped whole */
	REQUIRE((partial = vcpu(&f, &td, 2)) != 0);
	CHECK_EQ(tdh_vp_flush(f.h, 0, partial), TDX_TDCX_NUM_INCORRECT);
	CHECK_EQ(tdh_vp_flush(f.h, 1, vpr), TDX_VCPU_NOT_ASSOCIATED);
	CHECK_EQ(tdh_vp_flush(f.h, 0, vpr), TDX_SUCCESS);
	fx_destroy(&f);
}
