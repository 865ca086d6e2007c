/* TDH.MEM.PAGE.AUG: PENDING leaves before and after TDH.MR.FINALIZE, PAMT ownership, CHLDCNT,
 * the walk/entry/operand failures with their RCX/RDX details. */
#include <string.h>

#include "fixture.h"

#define SVE (UINT64_C(1) << 63)
/* SEPT_ENTRY_ARCH_INFO (RDX): level 2:0, public state 15:8. */
#define ARCH_INFO(level, state) ((uint64_t)(level) | ((uint64_t)(state) << 8))
#define PUB_FREE 0x00
#define PUB_PENDING 0x02
#define PUB_MAPPED 0x04
/* Architectural view of a PENDING 4 KiB leaf: no RWX, MT = WB, IPAT, PS, SVE. */
#define PENDING_4K(hpa) (SVE | (hpa) | 0xF0)
#define SZ_2M_TEST UINT64_C(0x200000)

struct aug_td {
	struct fx f;
	struct fx_td td;
	uint64_t vpr;
};

/* A TD past TDH.MNG.INIT with one initialised vCPU (so that it can be finalised). */
static bool aug_setup(struct aug_td *t)
{
	struct td_params p;

	if (!fx_create(&t->f))
		return false;
	fx_td_params_default(&p);
	if (!fx_bringup(&t->f) || !fx_td_create(&t->f, &t->td) || fx_td_init(&t->f, &t->td, &p, NULL)) {
		fx_destroy(&t->f);
		return false;
	}
	t->vpr = fx_page(&t->f);
	if (tdh_vp_create(t->f.h, 0, t->td.tdr, t->vpr))
		return false;
	for (int i = 0; i < 5; i++)
		if (tdh_vp_addcx(t->f.h, 0, t->vpr, fx_page(&t->f)))
			return false;
	/* VP.INIT associates the vCPU with LP 0; flush it now so that teardown needs no vCPU list */
	return tdh_vp_init(t->f.h, 0, t->vpr, 0) == TDX_SUCCESS && tdh_vp_flush(t->f.h, 0, t->vpr) == TDX_SUCCESS;
}

static uint64_t add_sept(struct fx *f, const struct fx_td *td, uint64_t gpa, unsigned top, unsigned bottom)
{
	struct tdx_module_args a;

	for (unsigned level = top; level >= bottom && level >= 1; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		uint64_t st = tdh_mem_sept_add(f->h, 0, td->tdr, gpa & ~(span - 1), level, fx_page(f), &a);
		if (st)
			return st;
	}
	return TDX_SUCCESS;
}

static uint64_t pamt_type(struct fx *f, uint64_t pa, uint64_t *owner)
{
	struct tdx_module_args a;

	if (tdh_phymem_page_rdmd(f->h, 0, pa, &a))
		return UINT64_MAX;
	if (owner)
		*owner = a.rdx;
	return a.rcx;
}

static uint64_t chldcnt(struct fx *f, const struct fx_td *td)
{
	uint64_t v = UINT64_MAX;
	tdh_mng_rd(f->h, 0, td->tdr, MD_TD_FIELDS_CHLDCNT_FIELD_ID, &v);
	return v;
}

/* An AUG over a taken 4K entry is refused and reports that entry (PENDING or MAPPED). */
static void check_leaf_state(struct aug_td *t, uint64_t gpa, uint64_t page, uint8_t pub)
{
	struct tdx_module_args a;

	CHECK_EQ(tdh_mem_page_aug(t->f.h, 0, t->td.tdr, gpa, 0, fx_page(&t->f), &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, pub == PUB_PENDING ? PENDING_4K(page) : (SVE | page | 0xF7));
	CHECK_EQ(a.rdx, ARCH_INFO(0, pub));
}

TEST(page_aug_before_and_after_finalize)
{
	struct aug_td t;
	struct tdx_module_args a;
	uint8_t host[4096], seen[4096];
	uint64_t gpa = 0x40000, p1, p2, owner = 0, cnt;
	REQUIRE(aug_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1), TDX_SUCCESS);
	cnt = chldcnt(&t.f, &t.td);
	/* OP_STATE INITIALIZED: allowed (1.5.01 seamcall_state_lookup) */
	p1 = fx_page(&t.f);
	memset(host, 0xA5, sizeof(host));
	REQUIRE(plat_host_write(t.f.p, p1, host, sizeof(host)) == 0);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, p1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(pamt_type(&t.f, p1, &owner), PT_REG);
	CHECK_EQ(owner, t.td.tdr);
	CHECK_EQ(chldcnt(&t.f, &t.td), cnt + 1);
	/* the page is not touched: still the host's bytes under the host's key until accepted */
	REQUIRE(plat_host_read(t.f.p, p1, seen, sizeof(seen)) == 0);
	CHECK(memcmp(seen, host, sizeof(host)) == 0);
	/* AUG twice at the same GPA: the entry is PENDING now */
	check_leaf_state(&t, gpa, p1, PUB_PENDING);
	CHECK_EQ(chldcnt(&t.f, &t.td), cnt + 1);
	/* PAGE.ADD cannot take a PENDING entry either; MR.EXTEND sees nothing present */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, fx_page(&t.f), fx_page(&t.f), &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, PENDING_4K(p1));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_PENDING));
	/* RUNNABLE: still allowed */
	REQUIRE_EQ(tdh_mr_finalize(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	p2 = fx_page(&t.f);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa + 4096, 0, p2, &a), TDX_SUCCESS);
	CHECK_EQ(pamt_type(&t.f, p2, &owner), PT_REG);
	CHECK_EQ(owner, t.td.tdr);
	CHECK_EQ(chldcnt(&t.f, &t.td), cnt + 2);
	check_leaf_state(&t, gpa + 4096, p2, PUB_PENDING);
	fx_destroy(&t.f);
}

TEST(page_aug_td_state_and_tdr_checks)
{
	struct fx f;
	struct fx_td td;
	struct tdx_module_args a;
	uint64_t page;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	page = fx_page(&f);
	/* before TDH.MNG.INIT */
	REQUIRE(fx_td_create(&f, &td));
	CHECK_EQ(tdh_mem_page_aug(f.h, 0, td.tdr, 0, 0, page, &a), TDX_OP_STATE_INCORRECT);
	/* the TDR operand */
	CHECK_EQ(tdh_mem_page_aug(f.h, 0, td.tdr + 8, 0, 0, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_aug(f.h, 0, td.tdcx[0], 0, 0, page, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_aug(f.h, 0, 3 * GiB, 0, 0, page, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RDX);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, true) == 0);
	CHECK_EQ(tdh_mem_page_aug(f.h, 0, td.tdr, 0, 0, page, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, false);
	/* in teardown the keys are gone */
	REQUIRE_EQ(tdh_mng_vpflushdone(f.h, 0, td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_aug(f.h, 0, td.tdr, 0, 0, page, &a), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(pamt_type(&f, page, NULL), PT_NDA);
	fx_destroy(&f);
}

TEST(page_aug_page_info_walk_and_entry_errors)
{
	struct aug_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t gpa = 2 * GiB + 3 * 4096, page, added;
	REQUIRE(aug_setup(&t));
	page = fx_page(&t.f);
	/* PAGE_INFO: reserved bits, level (0 or 1), alignment to the level */
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_PAGE_AUG_LEAF, gpa | 0x8, t.td.tdr, page, 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_PAGE_AUG_LEAF, gpa | (1ull << 52), t.td.tdr, page, 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, 2 * GiB, 2, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, 2 * GiB, 3, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* private GPAs only (GPAW 48: shared bit 47, bits 51:48 zero) */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa | (1ull << 47), 0, page, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa | (1ull << 50), 0, page, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* no SEPT below the root, then no page table */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, page, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_FREE));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 2), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, page, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 1, 1), TDX_SUCCESS);
	/* a MAPPED entry (PAGE.ADD) is not FREE */
	REQUIRE_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, added = fx_page(&t.f), fx_page(&t.f), &a), TDX_SUCCESS);
	check_leaf_state(&t, gpa, added, PUB_MAPPED);
	CHECK_EQ(pamt_type(&t.f, page, NULL), PT_NDA);
	fx_destroy(&t.f);
}

TEST(page_aug_target_page_checks)
{
	struct aug_td t;
	struct fx_td other;
	struct td_params p;
	struct tdx_module_args a;
	uint64_t gpa = 0x200000, page, opage;
	REQUIRE(aug_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1), TDX_SUCCESS);
	page = fx_page(&t.f);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, page + 8, &a), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, page | (1ull << plat_hkid_shift(t.f.p)), &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, 3 * GiB, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, t.td.tdcx[2], &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, t.vpr, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	/* the TDR, held shared by this very call */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, t.td.tdr, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, true) == 0);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, page, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, false);
	/* a page another TD owns (its AUGed page, its TDR) */
	REQUIRE(fx_td_create(&t.f, &other));
	fx_td_params_default(&p);
	REQUIRE_EQ(fx_td_init(&t.f, &other, &p, NULL), TDX_SUCCESS);
	REQUIRE_EQ(add_sept(&t.f, &other, gpa, 3, 1), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, other.tdr, gpa, 0, opage = fx_page(&t.f), &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, opage, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, other.tdr, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* none of that changed the entry: it is still FREE, the page still the host's */
	CHECK_EQ(pamt_type(&t.f, page, NULL), PT_NDA);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, page, &a), TDX_SUCCESS);
	fx_destroy(&t.f);
}

/* Teardown gives the AUGed page back with the others; the TDR only after it (CHLDCNT). */
TEST(page_aug_page_is_reclaimed_before_the_tdr)
{
	struct aug_td t;
	struct tdx_module_args a;
	uint64_t gpa = 0x1000, page;
	REQUIRE(aug_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, page = fx_page(&t.f), &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_vpflushdone(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	for (unsigned pkg = 0; pkg < plat_nr_packages(t.f.p); pkg++)
		REQUIRE_EQ(tdh_phymem_cache_wb(t.f.h, plat_package_first_lp(t.f.p, pkg), false), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_key_freeid(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, page, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_REG);
	CHECK_EQ(a.rdx, t.td.tdr);
	CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, t.td.tdr, &a), TDX_TD_ASSOCIATED_PAGES_EXIST);
	fx_destroy(&t.f);
}

/* ---- 2 MiB AUG (PAGE_INFO level 1). ---- */

/* A PENDING 2 MiB leaf as the host sees it, and the PAMT level RDMD reports (R8). */
#define PUB_NL_MAPPED 0x84
#define PENDING_2M(hpa) PENDING_4K(hpa)

static uint64_t pamt_level(struct fx *f, uint64_t pa)
{
	struct tdx_module_args a;

	return tdh_phymem_page_rdmd(f->h, 0, pa, &a) ? UINT64_MAX : a.r8;
}

static uint64_t chunk_2m(struct fx *f)
{
	return host_alloc_phys(f->h, SZ_2M_TEST, SZ_2M_TEST, 0);
}

TEST(page_aug_2m_pending_leaf_and_pamt)
{
	struct aug_td t;
	struct tdx_module_args a;
	uint64_t gpa = 0x40000000, chunk, owner = 0, cnt;
	REQUIRE(aug_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 2), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mr_finalize(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	REQUIRE((chunk = chunk_2m(&t.f)) != 0);
	cnt = chldcnt(&t.f, &t.td);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* owned at the 2 MiB level: every 4 KiB page inside reports the 2M entry */
	CHECK_EQ(pamt_type(&t.f, chunk, &owner), PT_REG);
	CHECK_EQ(owner, t.td.tdr);
	CHECK_EQ(pamt_level(&t.f, chunk), PT_2MB);
	CHECK_EQ(pamt_type(&t.f, chunk + SZ_2M_TEST - 4096, &owner), PT_REG);
	CHECK_EQ(pamt_level(&t.f, chunk + SZ_2M_TEST - 4096), PT_2MB);
	CHECK_EQ(chldcnt(&t.f, &t.td), cnt + 512);
	CHECK_EQ(tdh_mem_sept_rd(t.f.h, 0, t.td.tdr, gpa, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PENDING_2M(chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING));
	/* the same GPA again, and a 4 KiB AUG below the 2 MiB leaf (the walk stops at it) */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk_2m(&t.f), &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, PENDING_2M(chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING));
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa + 4096, 0, fx_page(&t.f), &a),
		 TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, PENDING_2M(chunk));
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_PENDING));
	/* no 4 KiB page of the 2 MiB page can be given to anything else */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, gpa + SZ_2M_TEST, 1, chunk + 4096, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	/* REMOVE (blocked and tracked, the TD is running) gives back the whole 2 MiB */
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, gpa, 1, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, gpa, 1, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, chunk);
	CHECK_EQ(chldcnt(&t.f, &t.td), cnt);
	CHECK_EQ(pamt_type(&t.f, chunk, NULL), PT_NDA);
	CHECK_EQ(pamt_level(&t.f, chunk), PT_4KB);
	fx_destroy(&t.f);
}

TEST(page_aug_2m_errors)
{
	struct aug_td t;
	struct tdx_module_args a;
	uint64_t gpa = 0x40000000, chunk, used, cnt;
	REQUIRE(aug_setup(&t));
	REQUIRE((chunk = chunk_2m(&t.f)) != 0);
	/* GPA not 2 MiB aligned for level 1 */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa + 4096, 1, chunk, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* no level-2 SEPT page yet: the walk stops at level 2 */
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 3), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(2, PUB_FREE));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 2, 2), TDX_SUCCESS);
	/* R8: 2 MiB alignment, KeyID bits, TDMR, PAMT type at 2 MiB, every 4 KiB page free */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk + 4096, &a), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk | (1ull << plat_hkid_shift(t.f.p)), &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, 3 * GiB, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_R8);
	used = chunk + 511 * 4096;
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa + SZ_2M_TEST, 1, 1), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa + SZ_2M_TEST, 0, used, &a), TDX_SUCCESS);
	cnt = chldcnt(&t.f, &t.td);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(pamt_type(&t.f, chunk, NULL), PT_NDA);
	CHECK_EQ(chldcnt(&t.f, &t.td), cnt);
	/* a 2 MiB range that is already a TD page at 2 MiB */
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa + 2 * SZ_2M_TEST, 1, chunk = chunk_2m(&t.f), &a),
		   TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	/* a 4 KiB page inside it neither */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa + SZ_2M_TEST + 4096, 0, chunk + 8192, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	/* a level-1 entry that links a page table is not FREE */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa + SZ_2M_TEST, 1, chunk_2m(&t.f), &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0x7);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	/* nothing was left locked: a free 2 MiB range is taken now */
	CHECK_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 1, chunk_2m(&t.f), &a), TDX_SUCCESS);
	CHECK_EQ(chldcnt(&t.f, &t.td), cnt + 1024);
	fx_destroy(&t.f);
}
