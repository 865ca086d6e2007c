/* Taking memory away from a TD: TDH.MEM.RANGE.BLOCK, TDH.MEM.TRACK, TDH.MEM.RANGE.UNBLOCK,
 * TDH.MEM.PAGE.REMOVE, TDH.MEM.SEPT.REMOVE and TDH.MEM.SEPT.RD — the SEPT states they move
 * through, the TLB-epoch rules of a running TD, the RCX/RDX details of their errors, and the
 * PAMT and TDR child count, checked by tearing every TD down to its TDR. */
#include <string.h>

#include "fixture.h"

#define SVE (UINT64_C(1) << 63)
#define SHARED_BIT_48 (UINT64_C(1) << 47)
#define ARCH_INFO(level, state) ((uint64_t)(level) | ((uint64_t)(state) << 8))
#define PUB_FREE 0x00
#define PUB_MAPPED 0x04
#define PUB_BLOCKED 0x01
#define PUB_NL_MAPPED 0x84
#define PUB_NL_BLOCKED 0x81
/* Architectural views: a 4 KiB leaf (MT WB, IPAT, PS, SVE) with and without RWX; non-leaves
 * show only RWX. */
#define MAPPED_4K(hpa) (SVE | (hpa) | 0xF7)
#define BLOCKED_4K(hpa) (SVE | (hpa) | 0xF0)
#define NL_MAPPED_ARCH UINT64_C(0x7)
#define NL_BLOCKED_ARCH UINT64_C(0)

#define GPA0 UINT64_C(0x200000) /* two data pages here, in one page table */
#define NR_DATA 2
#define MAX_OWNED 32

/* A TD with a Secure EPT down to level 1 above GPA0 and NR_DATA pages added there, optionally
 * finalised (one vCPU, TDH.MR.FINALIZE: OP_STATE RUNNABLE). Every page it owns is listed so
 * that the teardown can reclaim them all and prove CHLDCNT ends at 0. */
struct blk_td {
	struct fx f;
	struct fx_td td;
	uint64_t src;
	uint64_t sept[4]; /* sept[l]: the page the level-l entry for GPA0 points to */
	uint64_t data[NR_DATA];
	uint64_t owned[MAX_OWNED];
	unsigned nr_owned;
};

static void own(struct blk_td *t, uint64_t pa)
{
	if (t->nr_owned < MAX_OWNED)
		t->owned[t->nr_owned++] = pa;
}

/* A page REMOVE handed back: the teardown must not find it owned any more. */
static void disown(struct blk_td *t, uint64_t pa)
{
	for (unsigned i = 0; i < t->nr_owned; i++)
		if (t->owned[i] == pa)
			t->owned[i] = t->owned[--t->nr_owned];
}

static uint64_t sept_add(struct blk_td *t, uint64_t gpa, unsigned level, uint64_t page)
{
	struct tdx_module_args a;
	uint64_t st = tdh_mem_sept_add(t->f.h, 0, t->td.tdr, gpa, level, page, &a);

	if (!st)
		own(t, page);
	return st;
}

static bool build_memory(struct blk_td *t)
{
	struct tdx_module_args a;

	for (unsigned level = 3; level >= 1; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		t->sept[level] = fx_page(&t->f);
		if (sept_add(t, GPA0 & ~(span - 1), level, t->sept[level]))
			return false;
	}
	for (unsigned i = 0; i < NR_DATA; i++) {
		t->data[i] = fx_page(&t->f);
		if (tdh_mem_page_add(t->f.h, 0, t->td.tdr, GPA0 + i * 4096, t->data[i], t->src, &a))
			return false;
		own(t, t->data[i]);
	}
	return true;
}

static bool add_vcpu(struct blk_td *t)
{
	uint64_t pg[MIN_TDVPS_PAGES];
	bool ok = fx_vcpu_ready(&t->f, t->td.tdr, pg);

	for (unsigned i = 0; i < MIN_TDVPS_PAGES; i++)
		if (pg[i])
			own(t, pg[i]);
	return ok;
}

static bool blk_setup_params(struct blk_td *t, const struct td_params *p, bool finalize)
{
	memset(t, 0, sizeof(*t));
	if (!fx_create(&t->f))
		return false;
	if (!fx_bringup(&t->f) || !fx_td_create(&t->f, &t->td) || fx_td_init(&t->f, &t->td, p, NULL) != TDX_SUCCESS)
		goto fail;
	t->src = fx_page(&t->f);
	if (!build_memory(t))
		goto fail;
	if (finalize && (!add_vcpu(t) || tdh_mr_finalize(t->f.h, 0, t->td.tdr) != TDX_SUCCESS))
		goto fail;
	return true;
fail:
	fx_destroy(&t->f);
	return false;
}

static bool blk_setup(struct blk_td *t, bool finalize)
{
	struct td_params p;

	fx_td_params_default(&p);
	return blk_setup_params(t, &p, finalize);
}

/* The whole teardown: every page the TD still owns comes back, the TDR only last (which
 * fails with TDX_TD_ASSOCIATED_PAGES_EXIST unless CHLDCNT is exactly 0). */
static void blk_teardown(struct blk_td *t)
{
	struct tdx_module_args a;

	CHECK_EQ(tdh_mng_vpflushdone(t->f.h, 0, t->td.tdr), TDX_SUCCESS);
	for (unsigned pkg = 0; pkg < plat_nr_packages(t->f.p); pkg++)
		CHECK_EQ(tdh_phymem_cache_wb(t->f.h, plat_package_first_lp(t->f.p, pkg), false), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_key_freeid(t->f.h, 0, t->td.tdr), TDX_SUCCESS);
	for (unsigned i = 0; i < t->nr_owned; i++) {
		CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->owned[i], &a), TDX_SUCCESS);
		CHECK_EQ(a.rdx, t->td.tdr);
	}
	for (unsigned i = 0; i < t->td.nr_tdcx; i++)
		CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->td.tdcx[i], &a), TDX_SUCCESS);
	CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->td.tdr, &a), TDX_SUCCESS);
	fx_destroy(&t->f);
}

/* PAMT of a page as TDH.PHYMEM.PAGE.RDMD reports it: type, and (bepoch) BEPOCH. */
static uint64_t pamt_type(struct blk_td *t, uint64_t pa, uint64_t *bepoch)
{
	struct tdx_module_args a;

	if (tdh_phymem_page_rdmd(t->f.h, 0, pa, &a))
		return UINT64_MAX;
	if (bepoch)
		*bepoch = a.r9;
	return a.rcx;
}

static uint64_t td_epoch(struct blk_td *t)
{
	uint64_t v = 0;

	if (tdh_mng_rd(t->f.h, 0, t->td.tdr, MD_TD_FIELDS_TD_EPOCH_FIELD_ID, &v))
		return UINT64_MAX;
	return v;
}

static uint64_t raw(struct blk_td *t, uint64_t rax, uint64_t rcx, uint64_t rdx, struct tdx_regs *r)
{
	return fx_call(&t->f, 0, rax, rcx, rdx, 0, 0, r);
}

/* The scenario of a running TD: removing a mapped page needs BLOCK, then TRACK. */
TEST(runnable_remove_needs_block_then_track)
{
	struct blk_td t;
	struct tdx_module_args a;
	uint64_t page, bepoch = 0;
	REQUIRE(blk_setup(&t, true));
	page = t.data[0];
	CHECK_EQ(td_epoch(&t), 1);
	/* not blocked: the entry is reported, nothing changes */
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, MAPPED_4K(page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	CHECK_EQ(pamt_type(&t, page, NULL), PT_REG);
	/* BLOCK records the current epoch in the page's PAMT entry */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(pamt_type(&t, page, &bepoch), PT_REG);
	CHECK_EQ(bepoch, 1);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, BLOCKED_4K(page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_BLOCKED));
	/* blocking twice is a warning with the entry reported */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_GPA_RANGE_ALREADY_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, BLOCKED_4K(page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_BLOCKED));
	/* blocked but not tracked: neither REMOVE nor UNBLOCK, and no details */
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 0, &a),
		 TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_SEPT_TREE);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(pamt_type(&t, page, NULL), PT_REG);
	/* TRACK: no vCPU ran in epoch 1, so the page is tracked at once */
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(td_epoch(&t), 2);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, page);
	CHECK_EQ(a.rdx, 0);
	disown(&t, page);
	CHECK_EQ(pamt_type(&t, page, NULL), PT_NDA);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_FREE));
	/* gone twice: the entry is FREE now */
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_FREE));
	/* the page is free memory: not reclaimable as a TD page, flushable, reusable */
	CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, page, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(tdh_phymem_page_wbinvd(t.f.h, 0, page | ((uint64_t)t.td.hkid << plat_hkid_shift(t.f.p))), TDX_SUCCESS);
	CHECK_EQ(sept_add(&t, 3 * GiB, 2, page), TDX_SUCCESS);
	CHECK_EQ(pamt_type(&t, page, NULL), PT_EPT);
	blk_teardown(&t);
}

TEST(runnable_unblock_after_track_and_old_epochs)
{
	struct blk_td t;
	struct tdx_module_args a;
	uint64_t page, bepoch = 0, gpa = GPA0 + 4096;
	REQUIRE(blk_setup(&t, true));
	page = t.data[1];
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, gpa, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, gpa, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, gpa, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, MAPPED_4K(page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	/* only blocked entries unblock */
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, gpa, 0, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, MAPPED_4K(page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	/* blocked again in epoch 2; two TRACKs later the epoch is older than the previous one */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, gpa, 0, &a), TDX_SUCCESS);
	CHECK_EQ(pamt_type(&t, page, &bepoch), PT_REG);
	CHECK_EQ(bepoch, 2);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(td_epoch(&t), 4);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, gpa, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, page);
	disown(&t, page);
	blk_teardown(&t);
}

/* The parent of mapped pages: blocking it blocks the range, but the SEPT page stays until it
 * is empty. */
TEST(runnable_sept_remove)
{
	struct blk_td t;
	struct tdx_module_args a;
	uint64_t bepoch = 0;
	REQUIRE(blk_setup(&t, true));
	/* not blocked */
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	/* the level-1 entry blocked: BEPOCH goes to the child SEPT page */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(pamt_type(&t, t.sept[1], &bepoch), PT_EPT);
	CHECK_EQ(bepoch, 1);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, NL_BLOCKED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_BLOCKED));
	/* the pages below cannot be reached any more: walks stop at the blocked entry */
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_BLOCKED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_BLOCKED));
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_BLOCKED));
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	/* tracked, but two pages are still mapped below */
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_EPT_PAGE_NOT_FREE + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_BLOCKED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_BLOCKED));
	CHECK_EQ(pamt_type(&t, t.sept[1], NULL), PT_EPT);
	/* unblock, take the pages out the proper way, then the page table */
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	for (unsigned i = 0; i < NR_DATA; i++)
		CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 + i * 4096, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_EPT_PAGE_NOT_FREE + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	for (unsigned i = 0; i < NR_DATA; i++) {
		CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + i * 4096, 0, &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, t.data[i]);
		disown(&t, t.data[i]);
	}
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.sept[1]);
	CHECK_EQ(a.rdx, 0);
	disown(&t, t.sept[1]);
	CHECK_EQ(pamt_type(&t, t.sept[1], NULL), PT_NDA);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	blk_teardown(&t);
}

/* Before TDH.MR.FINALIZE no vCPU can have run: pages and SEPT pages go directly. */
TEST(initialized_td_removes_without_tracking)
{
	struct blk_td t;
	struct tdx_module_args a;
	REQUIRE(blk_setup(&t, false));
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.data[0]);
	disown(&t, t.data[0]);
	/* a blocked page needs no TRACK either */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 + 4096, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + 4096, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.data[1]);
	disown(&t, t.data[1]);
	/* the SEPT pages bottom-up; BLOCK + UNBLOCK work without TRACK too */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	for (unsigned level = 1; level <= 3; level++) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0 & ~(span - 1), level, &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, t.sept[level]);
		CHECK_EQ(pamt_type(&t, t.sept[level], NULL), PT_NDA);
		disown(&t, t.sept[level]);
	}
	CHECK_EQ(t.nr_owned, 0);
	/* and the memory can be built again from the same pages */
	CHECK_EQ(sept_add(&t, 0, 3, t.sept[3]), TDX_SUCCESS);
	blk_teardown(&t);
}

TEST(page_remove_operand_and_state_errors)
{
	struct blk_td t;
	struct fx_td other;
	struct tdx_module_args a;
	struct tdx_regs r;
	REQUIRE(blk_setup(&t, false));
	/* TDR operand */
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr + 8, GPA0, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdcx[0], GPA0, 0, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, 3 * GiB, GPA0, 0, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RDX);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, true) == 0);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, false);
	/* PAGE_INFO: levels 0..2, alignment, reserved bits; private GPAs */
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, 0, 3, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + 4096, 1, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(raw(&t, TDH_MEM_PAGE_REMOVE_LEAF, GPA0 | 8, t.td.tdr, &r), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 | SHARED_BIT_48, 0, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* walks that stop early, entries of the wrong kind */
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + 2 * MiB, 0, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + 2 * 4096, 0, &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_FREE));
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	/* the page's own PAMT entry is taken exclusively */
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.data[0], true) == 0);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.data[0], false);
	/* another TD's TDR does not reach this TD's memory */
	REQUIRE(fx_td_create(&t.f, &other));
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, other.tdr, GPA0, 0, &a), TDX_OP_STATE_INCORRECT);
	/* none of it changed anything */
	CHECK_EQ(pamt_type(&t, t.data[0], NULL), PT_REG);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, MAPPED_4K(t.data[0]));
	blk_teardown(&t);
}

TEST(block_and_unblock_errors)
{
	struct blk_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	REQUIRE(blk_setup(&t, true));
	/* LEVEL 0..PWL (3) */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, 0, 4, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, 0, 4, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 + 4096, 1, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(raw(&t, TDH_MEM_RANGE_UNBLOCK_LEAF, GPA0 | (1ull << 52), t.td.tdr, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 | (1ull << 48), 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* TDR operand */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr | 1, GPA0, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.data[0], GPA0, 0, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, true) == 0);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, false);
	/* walks and states */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, 1 * GiB, 0, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(2, PUB_FREE));
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 + 8192, 0, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_FREE));
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, 1 * GiB, 2, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(2, PUB_FREE));
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	/* BLOCK does not lock the page's PAMT entry (it only writes BEPOCH) */
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.data[0], true) == 0);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.data[0], false);
	/* the root's entries: a whole 512 GiB slot is blocked and unblocked */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, 0, 3, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, 0, 3, &a), TDX_SUCCESS);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_NL_BLOCKED));
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, 0, 3, &a), TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_SEPT_TREE);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, 0, 3, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, MAPPED_4K(t.data[0]));
	CHECK_EQ(pamt_type(&t, t.data[0], NULL), PT_REG);
	blk_teardown(&t);
}

TEST(track_operands_and_epochs)
{
	struct blk_td t;
	struct fx_td fresh;
	struct tdx_regs r;
	REQUIRE(blk_setup(&t, false));
	/* allowed from INITIALIZED on; RCX is the TDR and RCX/RDX come back as passed */
	CHECK_EQ(raw(&t, TDH_MEM_TRACK_LEAF, t.td.tdr, 0x1234, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_RCX], t.td.tdr);
	CHECK_EQ(r.r[TDX_REG_RDX], 0x1234);
	CHECK_EQ(td_epoch(&t), 2);
	CHECK_EQ(raw(&t, TDH_MEM_TRACK_LEAF, t.td.tdr + 0x800, 0x1234, &r), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(r.r[TDX_REG_RDX], 0x1234);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr | (1ull << plat_hkid_shift(t.f.p))), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, 3 * GiB), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.sept[1]), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, true) == 0);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, false);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(td_epoch(&t), 3);
	/* a TD before TDH.MNG.INIT */
	REQUIRE(fx_td_create(&t.f, &fresh));
	CHECK_EQ(tdh_mem_track(t.f.h, 0, fresh.tdr), TDX_OP_STATE_INCORRECT);
	blk_teardown(&t);
}

TEST(sept_remove_operand_and_state_errors)
{
	struct blk_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	REQUIRE(blk_setup(&t, false));
	/* LEVEL 1..PWL */
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, 0, 4, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 2, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr + 2, GPA0, 1, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	/* non-empty page tables, from the bottom and from the top */
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_EPT_PAGE_NOT_FREE + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, 0, 3, &a), TDX_EPT_PAGE_NOT_FREE + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_NL_MAPPED));
	/* FREE entries, walks that stop early */
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0 + 2 * MiB, 1, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, 1 * GiB, 1, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(2, PUB_FREE));
	/* the child page's PAMT entry is taken exclusively */
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.sept[1], true) == 0);
	CHECK_EQ(tdh_mem_sept_remove(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.sept[1], false);
	/* version 1 reports no L2 pages; there is no version 2 */
	CHECK_EQ(raw(&t, TDH_MEM_SEPT_REMOVE_LEAF | (2ull << 16), GPA0 | 1, t.td.tdr, &r), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(raw(&t, TDH_MEM_SEPT_REMOVE_LEAF | (1ull << 16), GPA0 | 1, t.td.tdr, &r), TDX_EPT_PAGE_NOT_FREE + OPERAND_ID_RCX);
	CHECK_EQ(r.r[TDX_REG_R9], NULL_PA);
	CHECK_EQ(r.r[TDX_REG_R10], NULL_PA);
	CHECK_EQ(r.r[TDX_REG_R11], NULL_PA);
	for (unsigned i = 0; i < NR_DATA; i++) {
		CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + i * 4096, 0, &a), TDX_SUCCESS);
		disown(&t, t.data[i]);
	}
	CHECK_EQ(raw(&t, TDH_MEM_SEPT_REMOVE_LEAF | (1ull << 16), GPA0 | 1, t.td.tdr, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_RCX], t.sept[1]);
	CHECK_EQ(r.r[TDX_REG_R9], NULL_PA);
	disown(&t, t.sept[1]);
	blk_teardown(&t);
}

TEST(sept_rd_reports_every_level)
{
	struct blk_td t;
	struct td_params p;
	struct tdx_module_args a;
	struct tdx_regs r;
	REQUIRE(blk_setup(&t, false));
	for (unsigned level = 3; level >= 1; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0 & ~(span - 1), level, &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
		CHECK_EQ(a.rdx, ARCH_INFO(level, PUB_NL_MAPPED));
	}
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0 + 4096, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, MAPPED_4K(t.data[1]));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	/* FREE entries at any level; a walk that stops above the level asked */
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, 1ull << 39, 3, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_FREE));
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, 1ull << 39, 0, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_FREE));
	/* operands */
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, 0, 4, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0 | SHARED_BIT_48, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr + 2, GPA0, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.data[0], GPA0, 0, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	/* RDX bit 0 (L2 attributes) is for debug TDs only */
	r.r[TDX_REG_R8] = 0;
	CHECK_EQ(raw(&t, TDH_MEM_SEPT_RD_LEAF, GPA0, t.td.tdr | 1, &r), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(r.r[TDX_REG_RCX], 0);
	blk_teardown(&t);

	fx_td_params_default(&p);
	p.attributes = TD_ATTRIBUTES_DEBUG_MASK;
	REQUIRE(blk_setup_params(&t, &p, false));
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_SEPT_RD_LEAF, GPA0, t.td.tdr | 1, 0x5555, 0, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_RCX], MAPPED_4K(t.data[0]));
	CHECK_EQ(r.r[TDX_REG_RDX], ARCH_INFO(0, PUB_MAPPED));
	CHECK_EQ(r.r[TDX_REG_R8], 0); /* no L2 VM aliases the GPA */
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_SEPT_RD_LEAF, GPA0, t.td.tdr, 0x5555, 0, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_R8], 0x5555); /* R8 is written only when asked for */
	blk_teardown(&t);
}

/* Leaves that need an initialised TD. */
TEST(mem_remove_leaves_need_an_initialised_td)
{
	struct fx f;
	struct fx_td td;
	struct tdx_module_args a;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	CHECK_EQ(tdh_mem_range_block(f.h, 0, td.tdr, 0, 0, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mem_range_unblock(f.h, 0, td.tdr, 0, 0, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mem_page_remove(f.h, 0, td.tdr, 0, 0, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mem_sept_remove(f.h, 0, td.tdr, 0, 1, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mem_sept_rd(f.h, 0, td.tdr, 0, 0, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mem_track(f.h, 0, td.tdr), TDX_OP_STATE_INCORRECT);
	CHECK(fx_td_destroy(&f, &td));
	fx_destroy(&f);
}
