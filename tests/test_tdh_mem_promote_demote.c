/* TDH.MEM.PAGE.PROMOTE and TDH.MEM.PAGE.DEMOTE: 512 4 KiB leaves merged into a 2 MiB leaf and
 * split again, in a running TD (BLOCK + TRACK first) and before TDH.MR.FINALIZE (no tracking),
 * the PAMT (TDH.PHYMEM.PAGE.RDMD) and CHLDCNT at every step, every failure with its status,
 * operand and RCX/RDX details, and a teardown that reclaims every page. */
#include <string.h>

#include "fixture.h"

#define SVE (UINT64_C(1) << 63)
#define ARCH_INFO(level, state) ((uint64_t)(level) | ((uint64_t)(state) << 8))
#define PUB_FREE 0x00
#define PUB_BLOCKED 0x01
#define PUB_PENDING 0x02
#define PUB_PENDING_BLOCKED 0x03
#define PUB_MAPPED 0x04
#define PUB_NL_MAPPED 0x84
#define PUB_NL_BLOCKED 0x81
/* Architectural views: leaves show HPA, MT WB, IPAT, PS (+ RWX when mapped); non-leaves RWX. */
#define LEAF_NO_RWX(hpa) (SVE | (hpa) | 0xF0)
#define LEAF_RWX(hpa) (SVE | (hpa) | 0xF7)
#define NL_MAPPED_ARCH UINT64_C(0x7)
#define NL_BLOCKED_ARCH UINT64_C(0)
#define SZ2M UINT64_C(0x200000)

#define GPA0 UINT64_C(0x40000000) /* the 2 MiB range promoted and demoted */
#define MAX_OWNED 16

struct pd_td {
	struct fx f;
	struct fx_td td;
	uint64_t chunk;   /* 2 MiB of contiguous, aligned host memory */
	uint64_t sept1;   /* the level-1 SEPT page of GPA0 */
	uint64_t owned[MAX_OWNED];
	unsigned nr_owned;
	bool data_owned;  /* the 512 pages are still the TD's */
	bool merged;      /* ... as one 2 MiB page */
};

static void own(struct pd_td *t, uint64_t pa)
{
	if (t->nr_owned < MAX_OWNED)
		t->owned[t->nr_owned++] = pa;
}

static void disown(struct pd_td *t, uint64_t pa)
{
	for (unsigned i = 0; i < t->nr_owned; i++)
		if (t->owned[i] == pa)
			t->owned[i] = t->owned[--t->nr_owned];
}

static uint64_t sept_add(struct pd_td *t, uint64_t gpa, unsigned level, uint64_t page)
{
	struct tdx_module_args a;
	uint64_t st = tdh_mem_sept_add(t->f.h, 0, t->td.tdr, gpa, level, page, &a);

	if (!st)
		own(t, page);
	return st;
}

static bool add_vcpu(struct pd_td *t)
{
	uint64_t pg[MIN_TDVPS_PAGES];
	bool ok = fx_vcpu_ready(&t->f, t->td.tdr, pg);

	for (unsigned i = 0; i < MIN_TDVPS_PAGES; i++)
		if (pg[i])
			own(t, pg[i]);
	return ok;
}

/* SEPT down to level 1 at GPA0 and 512 4 KiB pages of one 2 MiB chunk there: PAGE.ADD (MAPPED)
 * before finalisation, or AUG (PENDING) after it. */
static bool pd_setup(struct pd_td *t, bool runnable)
{
	struct td_params p;
	struct tdx_module_args a;
	uint64_t src;

	memset(t, 0, sizeof(*t));
	fx_td_params_default(&p);
	if (!fx_create(&t->f))
		return false;
	if (!fx_bringup(&t->f) || !fx_td_create(&t->f, &t->td) || fx_td_init(&t->f, &t->td, &p, NULL))
		goto fail;
	if (sept_add(t, GPA0 & ~(512 * GiB - 1), 3, fx_page(&t->f)) || sept_add(t, GPA0, 2, fx_page(&t->f)) ||
	    sept_add(t, GPA0, 1, t->sept1 = fx_page(&t->f)) || !add_vcpu(t))
		goto fail;
	t->chunk = host_alloc_phys(t->f.h, SZ2M, SZ2M, 0);
	src = fx_page(&t->f);
	if (!t->chunk || (runnable && tdh_mr_finalize(t->f.h, 0, t->td.tdr)))
		goto fail;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t gpa = GPA0 + i * 4096, hpa = t->chunk + i * 4096;
		if (runnable ? tdh_mem_page_aug(t->f.h, 0, t->td.tdr, gpa, 0, hpa, &a)
			     : tdh_mem_page_add(t->f.h, 0, t->td.tdr, gpa, hpa, src, &a))
			goto fail;
	}
	t->data_owned = true;
	return true;
fail:
	fx_destroy(&t->f);
	return false;
}

/* Every page the TD owns comes back; the TDR only last, which needs CHLDCNT exactly 0. */
static void pd_teardown(struct pd_td *t)
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
	for (unsigned i = 0; t->data_owned && i < (t->merged ? 1u : 512u); i++)
		CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->chunk + i * 4096, &a), TDX_SUCCESS);
	for (unsigned i = 0; i < t->td.nr_tdcx; i++)
		CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->td.tdcx[i], &a), TDX_SUCCESS);
	CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->td.tdr, &a), TDX_SUCCESS);
	fx_destroy(&t->f);
}

/* RDMD of pa: type, owner, PAMT level (R8), BEPOCH (R9). */
struct md {
	uint64_t pt, owner, level, bepoch;
};

static struct md rdmd(struct pd_td *t, uint64_t pa)
{
	struct tdx_module_args a;
	struct md m = { UINT64_MAX, 0, 0, 0 };

	if (!tdh_phymem_page_rdmd(t->f.h, 0, pa, &a))
		m = (struct md){ a.rcx, a.rdx, a.r8, a.r9 };
	return m;
}

static uint64_t chldcnt(struct pd_td *t)
{
	uint64_t v = UINT64_MAX;
	tdh_mng_rd(t->f.h, 0, t->td.tdr, MD_TD_FIELDS_CHLDCNT_FIELD_ID, &v);
	return v;
}

/* The 512 data pages: owned by the TD at 4 KiB (PAMT level 0) or merged at 2 MiB. */
static void check_data_pamt(struct pd_td *t, bool merged)
{
	static const unsigned probe[] = { 0, 1, 255, 511 };

	for (unsigned k = 0; k < 4; k++) {
		struct md m = rdmd(t, t->chunk + probe[k] * 4096);
		CHECK_EQ(m.pt, PT_REG);
		CHECK_EQ(m.owner, t->td.tdr);
		CHECK_EQ(m.level, merged ? PT_2MB : PT_4KB);
	}
}

/* The 4 KiB leaves under GPA0 all in one state. */
static void check_small_leaves(struct pd_td *t, uint64_t (*view)(uint64_t), uint8_t pub)
{
	static const unsigned probe[] = { 0, 1, 255, 511 };
	struct tdx_module_args a;

	for (unsigned k = 0; k < 4; k++) {
		CHECK_EQ(tdh_mem_sept_rd(t->f.h, 0, t->td.tdr, GPA0 + probe[k] * 4096, 0, &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, view(t->chunk + probe[k] * 4096));
		CHECK_EQ(a.rdx, ARCH_INFO(0, pub));
	}
}

static uint64_t view_pending(uint64_t hpa)
{
	return LEAF_NO_RWX(hpa);
}

static uint64_t view_mapped(uint64_t hpa)
{
	return LEAF_RWX(hpa);
}

static void block_track(struct pd_td *t, unsigned level)
{
	struct tdx_module_args a;

	REQUIRE_EQ(tdh_mem_range_block(t->f.h, 0, t->td.tdr, GPA0, level, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t->f.h, 0, t->td.tdr), TDX_SUCCESS);
}

/* The scenario: AUG 512 pages, BLOCK the parent, TRACK, PROMOTE; BLOCK, TRACK, DEMOTE; then
 * every page removed and reclaimed. */
TEST(promote_demote_runnable_scenario)
{
	struct pd_td t;
	struct tdx_module_args a;
	uint64_t cnt, sept_new;
	struct md m;
	REQUIRE(pd_setup(&t, true));
	cnt = chldcnt(&t);
	check_data_pamt(&t, false);
	check_small_leaves(&t, view_pending, PUB_PENDING);
	/* running TD: the parent must be blocked, then tracked */
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a), TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a), TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.sept1);
	CHECK_EQ(a.rdx, 0);
	disown(&t, t.sept1);
	/* a 2 MiB PENDING leaf; the SEPT page is free again; the PAMT merged */
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, LEAF_NO_RWX(t.chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING));
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(chldcnt(&t), cnt - 1);
	m = rdmd(&t, t.sept1);
	CHECK_EQ(m.pt, PT_NDA);
	check_data_pamt(&t, true);
	/* promoting a leaf is refused */
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING));
	/* DEMOTE: blocked and tracked again */
	sept_new = fx_page(&t.f);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, sept_new, &a), TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, LEAF_NO_RWX(t.chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING));
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	m = rdmd(&t, t.chunk);
	CHECK_EQ(m.bepoch, 2); /* the 2M entry: blocked in epoch 2 (one TRACK so far) */
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, sept_new, &a), TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_RCX);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, sept_new, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(a.r9, NULL_PA);
	own(&t, sept_new);
	/* 512 PENDING 4 KiB leaves (PENDING_BLOCKED unblocked) in the new page */
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	check_small_leaves(&t, view_pending, PUB_PENDING);
	check_data_pamt(&t, false);
	m = rdmd(&t, t.chunk + 4096);
	CHECK_EQ(m.bepoch, 0);
	m = rdmd(&t, sept_new);
	CHECK_EQ(m.pt, PT_EPT);
	CHECK_EQ(m.owner, t.td.tdr);
	CHECK_EQ(chldcnt(&t), cnt);
	/* removal: block each page, one TRACK, remove each */
	for (unsigned i = 0; i < 512; i++)
		REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 + i * 4096, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	for (unsigned i = 0; i < 512; i++) {
		REQUIRE_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + i * 4096, 0, &a), TDX_SUCCESS);
		REQUIRE_EQ(a.rcx, t.chunk + i * 4096);
	}
	t.data_owned = false;
	CHECK_EQ(chldcnt(&t), cnt - 512);
	m = rdmd(&t, t.chunk + 4096);
	CHECK_EQ(m.pt, PT_NDA);
	pd_teardown(&t);
	/* the freed SEPT page went back to the host at PROMOTE: it is no TD page any more */
}

/* Before TDH.MR.FINALIZE no tracking is needed: MAPPED pages promote and demote directly, and
 * version 1 of PROMOTE reports no L2 SEPT page. DEMOTE returns R9..R11 as given. */
TEST(promote_demote_mapped_before_finalize)
{
	struct pd_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t cnt, sept_new;
	REQUIRE(pd_setup(&t, false));
	cnt = chldcnt(&t);
	check_small_leaves(&t, view_mapped, PUB_MAPPED);
	a.r9 = a.r10 = a.r11 = 0x1234;
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.sept1);
	CHECK_EQ(a.r9, NULL_PA);
	CHECK_EQ(a.r10, NULL_PA);
	CHECK_EQ(a.r11, NULL_PA);
	disown(&t, t.sept1);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, LEAF_RWX(t.chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_MAPPED));
	CHECK_EQ(chldcnt(&t), cnt - 1);
	check_data_pamt(&t, true);
	/* DEMOTE with garbage in R9..R11 (no L2 VMs: neither checked nor used) */
	sept_new = fx_page(&t.f);
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_PAGE_DEMOTE_LEAF, GPA0 | 1, t.td.tdr, sept_new, 0xdead000, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_R9], 0xdead000);
	own(&t, sept_new);
	check_small_leaves(&t, view_mapped, PUB_MAPPED);
	check_data_pamt(&t, false);
	CHECK_EQ(chldcnt(&t), cnt);
	pd_teardown(&t);
}

TEST(promote_errors)
{
	struct pd_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t other, cnt;
	REQUIRE(pd_setup(&t, false));
	cnt = chldcnt(&t);
	/* version 2 does not exist */
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_PAGE_PROMOTE_LEAF | (2ull << 16), GPA0 | 1, t.td.tdr, 0, 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	/* the TDR */
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr + 8, GPA0, 1, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdcx[0], GPA0, 1, 0, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	/* version 1 reports NULL_PA L2 pages on failure too */
	a.r9 = 5;
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr + 8, GPA0, 1, 1, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(a.r9, NULL_PA);
	/* PAGE_INFO: level 1..2, alignment, reserved bits; private GPA */
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 0, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 3, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0 + 4096, 1, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0 | 8, 1, 0, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0 | (1ull << 47), 1, 0, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* walk: no level-2 SEPT at 2 GiB */
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, 2 * GiB, 1, 0, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(2, PUB_FREE));
	/* a FREE level-1 entry */
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0 + SZ2M, 1, 0, &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	/* the SEPT page's PAMT entry busy */
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.sept1, true) == 0);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.sept1, false);
	/* the children: not contiguous (page 7 moved elsewhere) */
	REQUIRE_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + 7 * 4096, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a),
		 TDX_EPT_INVALID_PROMOTE_CONDITIONS + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, GPA0 + 7 * 4096, 0, other = fx_page(&t.f), &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a),
		 TDX_EPT_INVALID_PROMOTE_CONDITIONS + OPERAND_ID_RCX);
	/* right page, wrong state (PENDING among MAPPED) */
	REQUIRE_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + 7 * 4096, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, GPA0 + 7 * 4096, 0, t.chunk + 7 * 4096, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a),
		 TDX_EPT_INVALID_PROMOTE_CONDITIONS + OPERAND_ID_RCX);
	/* a blocked first child */
	REQUIRE_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0 + 7 * 4096, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, GPA0 + 7 * 4096, t.chunk + 7 * 4096, fx_page(&t.f), &a),
		   TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a),
		 TDX_EPT_INVALID_PROMOTE_CONDITIONS + OPERAND_ID_RCX);
	REQUIRE_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	/* nothing was left changed or locked: all 512 back in place, the merge works */
	CHECK_EQ(chldcnt(&t), cnt);
	check_data_pamt(&t, false);
	CHECK_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a), TDX_SUCCESS);
	disown(&t, t.sept1);
	t.merged = true;
	check_data_pamt(&t, true);
	/* the removed pages went back free */
	CHECK_EQ(rdmd(&t, other).pt, PT_NDA);
	pd_teardown(&t);
}

TEST(demote_errors)
{
	struct pd_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t cnt, sept_new = 0;
	REQUIRE(pd_setup(&t, true));
	/* a NL entry is not a leaf */
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, fx_page(&t.f), &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	block_track(&t, 1);
	REQUIRE_EQ(tdh_mem_page_promote(t.f.h, 0, t.td.tdr, GPA0, 1, 0, &a), TDX_SUCCESS);
	disown(&t, t.sept1);
	cnt = chldcnt(&t);
	/* the TD handle: reserved bits, then the TDR */
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_PAGE_DEMOTE_LEAF, GPA0 | 1, t.td.tdr | 2, fx_page(&t.f), 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_PAGE_DEMOTE_LEAF, GPA0 | 1, t.td.tdr | (1ull << 52), fx_page(&t.f), 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdcx[1], GPA0, 1, fx_page(&t.f), &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	/* PAGE_INFO */
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 0, fx_page(&t.f), &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0 + 4096, 1, fx_page(&t.f), &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* a FREE entry */
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0 + SZ2M, 1, fx_page(&t.f), &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	/* running TD: not blocked, then not tracked */
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, fx_page(&t.f), &a),
		 TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, LEAF_NO_RWX(t.chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING));
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, fx_page(&t.f), &a),
		 TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_RCX);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	/* the new SEPT page (R8) */
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, fx_page(&t.f) + 8, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, 3 * GiB, &a),
		 TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, t.td.tdcx[2], &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, t.chunk + 4096, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	sept_new = fx_page(&t.f);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, sept_new, true) == 0);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, sept_new, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, sept_new, false);
	/* nothing changed: still one blocked 2 MiB leaf, the PAMT merged, the page the host's */
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, LEAF_NO_RWX(t.chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING_BLOCKED));
	check_data_pamt(&t, true);
	CHECK_EQ(rdmd(&t, sept_new).pt, PT_NDA);
	CHECK_EQ(chldcnt(&t), cnt);
	CHECK_EQ(tdh_mem_page_demote(t.f.h, 0, t.td.tdr, GPA0, 1, sept_new, &a), TDX_SUCCESS);
	own(&t, sept_new);
	check_small_leaves(&t, view_pending, PUB_PENDING);
	CHECK_EQ(chldcnt(&t), cnt + 1);
	pd_teardown(&t);
}
