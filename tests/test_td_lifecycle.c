/* TD management and teardown leaves: TDH.MNG.CREATE, KEY.CONFIG, ADDCX, VPFLUSHDONE,
 * PHYMEM.CACHE.WB, KEY.FREEID, KEY.RECLAIMID, PHYMEM.PAGE.RECLAIM, PHYMEM.PAGE.WBINVD. */
#include <string.h>

#include "fixture.h"

static uint64_t rdmd_pt(struct fx *f, uint64_t pa, uint64_t *owner)
{
	struct tdx_module_args a;
	if (tdh_phymem_page_rdmd(f->h, 0, pa, &a))
		return UINT64_MAX;
	if (owner)
		*owner = a.rdx;
	return a.rcx;
}

TEST(td_full_lifecycle_and_pamt)
{
	struct fx f;
	struct fx_td td;
	uint64_t owner = UINT64_MAX;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	CHECK_EQ(rdmd_pt(&f, td.tdr, &owner), PT_TDR);
	CHECK_EQ(owner, 0);
	CHECK_EQ(rdmd_pt(&f, td.tdcx[3], &owner), PT_TDCX);
	CHECK_EQ(owner, td.tdr);
	{
		/* the TD's pages are private: the host reads ciphertext, not the SEPT root pattern */
		uint64_t q[4];
		unsigned keyid;
		bool poisoned;
		plat_host_read(f.p, td.tdcx[3], q, sizeof(q));
		CHECK(q[0] != 0x80E0000000000000ull);
		plat_page_state(f.p, td.tdcx[3], &keyid, &poisoned);
		CHECK_EQ(keyid, td.hkid);
		plat_page_state(f.p, td.tdr, &keyid, &poisoned);
		CHECK_EQ(keyid, f.h->global_keyid);
	}
	REQUIRE(fx_td_destroy(&f, &td));
	CHECK_EQ(rdmd_pt(&f, td.tdr, NULL), PT_NDA);
	CHECK_EQ(rdmd_pt(&f, td.tdcx[0], NULL), PT_NDA);
	/* the HKID is free again: a new TD can use it */
	{
		uint64_t tdr = fx_page(&f);
		CHECK_EQ(tdh_mng_create(f.h, 0, tdr, td.hkid), TDX_SUCCESS);
	}
	fx_destroy(&f);
}

TEST(td_create_errors)
{
	struct fx f;
	struct fx_td td;
	uint64_t tdr, other;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	tdr = fx_page(&f);
	other = fx_page(&f);
	/* HKID operand: reserved bits, MKTME and host KeyIDs, the module's own KeyID is not free */
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr, 40 | (1ull << 16)), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr, 5), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr, 0), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr, f.h->global_keyid), TDX_HKID_NOT_FREE);
	/* TDR operand */
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr + 8, 40), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr | (33ull << plat_hkid_shift(f.p)), 40), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mng_create(f.h, 0, 3 * GiB, 40), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mng_create(f.h, 0, 0x1000, 40), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX); /* reserved */
	CHECK_EQ(tdh_mng_create(f.h, 0, f.h->tdmrs[0].pamt_base[0], 40), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, tdr, true) == 0);
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr, 40), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, tdr, false);
	REQUIRE_EQ(tdh_mng_create(f.h, 0, tdr, 40), TDX_SUCCESS);
	/* the same page twice, the same HKID twice */
	CHECK_EQ(tdh_mng_create(f.h, 0, tdr, 41), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mng_create(f.h, 0, other, 40), TDX_HKID_NOT_FREE);
	(void)td;
	fx_destroy(&f);
}

TEST(td_key_config_and_addcx_errors)
{
	struct fx f;
	uint64_t tdr, cx[10];
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	tdr = fx_page(&f);
	for (int i = 0; i < 10; i++)
		cx[i] = fx_page(&f);
	REQUIRE_EQ(tdh_mng_create(f.h, 0, tdr, 45), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_key_config(f.h, 0, cx[0]), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	/* TDCS pages only after the keys are on every package */
	CHECK_EQ(tdh_mng_addcx(f.h, 0, tdr, cx[0]), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(tdh_mng_key_config(f.h, 0, tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_key_config(f.h, 1, tdr), TDX_KEY_CONFIGURED); /* same package */
	CHECK_EQ(tdh_mng_addcx(f.h, 0, tdr, cx[0]), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(tdh_mng_key_config(f.h, 2, tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_key_config(f.h, 3, tdr), TDX_LIFECYCLE_STATE_INCORRECT);
	CHECK_EQ(tdh_mng_addcx(f.h, 0, cx[1], cx[0]), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	/* the TDR itself: its PAMT entry is already held exclusively by this very call */
	CHECK_EQ(tdh_mng_addcx(f.h, 0, tdr, tdr), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mng_addcx(f.h, 0, tdr, 0x1000), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	for (int i = 0; i < 9; i++)
		CHECK_EQ(tdh_mng_addcx(f.h, 0, tdr, cx[i]), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_addcx(f.h, 0, tdr, cx[9]), TDX_TDCX_NUM_INCORRECT);
	fx_destroy(&f);
}

TEST(td_teardown_order_is_enforced)
{
	struct fx f;
	struct fx_td td;
	struct tdx_module_args a;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	/* reclaiming a page of a live TD, freeing its KeyID before flushing */
	CHECK_EQ(tdh_phymem_page_reclaim(f.h, 0, td.tdcx[0], &a), TDX_LIFECYCLE_STATE_INCORRECT);
	CHECK_EQ(a.rcx, PT_TDCX); /* the metadata is reported even so */
	CHECK_EQ(tdh_phymem_page_reclaim(f.h, 0, td.tdr, &a), TDX_LIFECYCLE_STATE_INCORRECT);
	CHECK_EQ(tdh_mng_key_freeid(f.h, 0, td.tdr), TDX_LIFECYCLE_STATE_INCORRECT);
	CHECK_EQ(tdh_phymem_cache_wb(f.h, 0, false), TDX_NO_HKID_READY_TO_WBCACHE);
	CHECK_EQ(tdh_phymem_cache_wb(f.h, 0, true), TDX_WBCACHE_RESUME_ERROR);
	CHECK_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_LIFECYCLE_STATE_INCORRECT);
	/* reuse of the KeyID before it is freed */
	CHECK_EQ(tdh_mng_create(f.h, 0, fx_page(&f), td.hkid), TDX_HKID_NOT_FREE);
	/* only package 0 wrote back its caches */
	CHECK_EQ(tdh_phymem_cache_wb(f.h, 0, false), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_key_freeid(f.h, 0, td.tdr), TDX_WBCACHE_NOT_COMPLETE);
	CHECK_EQ(tdh_phymem_cache_wb(f.h, 3, false), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_key_freeid(f.h, 0, td.tdr), TDX_SUCCESS);
	/* the TDR goes last */
	CHECK_EQ(tdh_phymem_page_reclaim(f.h, 0, td.tdr, &a), TDX_TD_ASSOCIATED_PAGES_EXIST);
	for (unsigned i = 0; i < td.nr_tdcx; i++) {
		CHECK_EQ(tdh_phymem_page_wbinvd(f.h, 0, td.tdcx[i] | ((uint64_t)td.hkid << plat_hkid_shift(f.p))),
			 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX); /* not reclaimed yet */
		CHECK_EQ(tdh_phymem_page_reclaim(f.h, 0, td.tdcx[i], &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, PT_TDCX);
		CHECK_EQ(a.rdx, td.tdr);
		CHECK_EQ(tdh_phymem_page_wbinvd(f.h, 0, td.tdcx[i] | ((uint64_t)td.hkid << plat_hkid_shift(f.p))),
			 TDX_SUCCESS);
	}
	CHECK_EQ(tdh_phymem_page_reclaim(f.h, 0, td.tdcx[0], &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(tdh_phymem_page_reclaim(f.h, 0, td.tdr, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_TDR);
	CHECK_EQ(tdh_mng_key_reclaimid(f.h, 0, td.tdr), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(td_host_write_into_td_memory_is_caught)
{
	struct fx f;
	struct fx_td td;
	uint64_t junk = 0x4242424242424242ull;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	/* a host write into the TDR poisons it; the next module access is a machine check */
	REQUIRE(plat_host_write(f.p, td.tdr + 64, &junk, sizeof(junk)) == 0);
	CHECK_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_SEAMCALL_VMFAILINVALID);
	CHECK_EQ(plat_mce_count(f.p, NULL), 1);
	fx_destroy(&f);
}
