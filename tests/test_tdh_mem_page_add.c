/* TD build-time memory leaves: TDH.MEM.SEPT.ADD, TDH.MEM.PAGE.ADD, TDH.MR.EXTEND — the Secure
 * EPT they walk and build, the PAMT they update, the RCX/RDX EPT error details and MRTD. */
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "fixture.h"

#define SVE (UINT64_C(1) << 63)
#define NOT_USED (UINT64_C(1) << 63)
#define SHARED_BIT_48 (UINT64_C(1) << 47)
#define ALLOW_EXISTING UINT64_C(1)
/* SEPT_ENTRY_ARCH_INFO (RDX): level 2:0, public state 15:8. */
#define ARCH_INFO(level, state) ((uint64_t)(level) | ((uint64_t)(state) << 8))
#define PUB_FREE 0x00
#define PUB_MAPPED 0x04
#define PUB_NL_MAPPED 0x84
/* Architectural view of a MAPPED 4 KiB leaf: RWX, MT = WB, IPAT, PS, SVE. */
#define MAPPED_4K(hpa) (SVE | (hpa) | 0xF7)
#define NL_MAPPED_ARCH UINT64_C(0x7)

/* A TD past TDH.MNG.INIT (OP_STATE INITIALIZED) plus a host page to copy from. */
struct mem_td {
	struct fx f;
	struct fx_td td;
	uint64_t src;
};

static bool mem_td_setup_params(struct mem_td *t, const struct td_params *p)
{
	if (!fx_create(&t->f))
		return false;
	if (!fx_bringup(&t->f) || !fx_td_create(&t->f, &t->td) || fx_td_init(&t->f, &t->td, p, NULL) != TDX_SUCCESS) {
		fx_destroy(&t->f);
		return false;
	}
	t->src = fx_page(&t->f);
	return true;
}

static bool mem_td_setup(struct mem_td *t)
{
	struct td_params p;

	fx_td_params_default(&p);
	return mem_td_setup_params(t, &p);
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

/* SEPT.ADD from level `top` down to `bottom` for gpa, each with a fresh page (pages[level]). */
static uint64_t add_sept(struct fx *f, const struct fx_td *td, uint64_t gpa, unsigned top, unsigned bottom,
			 uint64_t pages[5])
{
	struct tdx_module_args a;

	for (unsigned level = top; level >= bottom && level >= 1; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level), page = fx_page(f);
		uint64_t st = tdh_mem_sept_add(f->h, 0, td->tdr, gpa & ~(span - 1), level, page, &a);

		if (pages)
			pages[level] = page;
		if (st)
			return st;
	}
	return TDX_SUCCESS;
}

static void fill_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* PAGE.ADD of a fresh page at gpa with a pattern; returns the status, *page the target. */
static uint64_t add_page_to(struct fx *f, const struct fx_td *td, uint64_t src, uint64_t gpa, uint8_t seed,
			    uint64_t *page, struct tdx_module_args *a)
{
	uint8_t data[4096];

	fill_pattern(data, sizeof(data), seed);
	plat_host_write(f->p, src, data, sizeof(data));
	*page = fx_page(f);
	return tdh_mem_page_add(f->h, 0, td->tdr, gpa, *page, src, a);
}

static uint64_t add_page(struct mem_td *t, uint64_t gpa, uint8_t seed, uint64_t *page, struct tdx_module_args *a)
{
	return add_page_to(&t->f, &t->td, t->src, gpa, seed, page, a);
}

/* SEPT.ADD with every register, for the version-1 and flag cases the typed wrapper hides. */
static uint64_t sept_add_raw(struct fx *f, unsigned version, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9,
			     uint64_t r10, uint64_t r11, struct tdx_regs *out)
{
	struct tdx_regs r = { { 0 } };

	r.r[TDX_REG_RAX] = TDH_MEM_SEPT_ADD_LEAF | ((uint64_t)version << 16);
	r.r[TDX_REG_RCX] = rcx;
	r.r[TDX_REG_RDX] = rdx;
	r.r[TDX_REG_R8] = r8;
	r.r[TDX_REG_R9] = r9;
	r.r[TDX_REG_R10] = r10;
	r.r[TDX_REG_R11] = r11;
	plat_seamcall(f->p, 0, &r);
	*out = r;
	return r.r[TDX_REG_RAX];
}

TEST(mem_leaves_need_an_initialised_td)
{
	struct fx f;
	struct fx_td td;
	struct tdx_module_args a;
	uint64_t tdr, page, src;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	page = fx_page(&f);
	src = fx_page(&f);
	/* keys not configured yet */
	tdr = fx_page(&f);
	REQUIRE_EQ(tdh_mng_create(f.h, 0, tdr, f.h->global_keyid + 1), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_add(f.h, 0, tdr, 0, 3, page, &a), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(tdh_mem_page_add(f.h, 0, tdr, 0, page, src, &a), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(tdh_mr_extend(f.h, 0, tdr, 0, &a), TDX_TD_KEYS_NOT_CONFIGURED);
	/* keys configured, but fewer than 6 TDCS pages */
	for (unsigned pkg = 0; pkg < plat_nr_packages(f.p); pkg++)
		REQUIRE_EQ(tdh_mng_key_config(f.h, plat_package_first_lp(f.p, pkg), tdr), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_addcx(f.h, 0, tdr, fx_page(&f)), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_add(f.h, 0, tdr, 0, 3, page, &a), TDX_TDCS_NOT_ALLOCATED);
	CHECK_EQ(tdh_mem_page_add(f.h, 0, tdr, 0, page, src, &a), TDX_TDCS_NOT_ALLOCATED);
	CHECK_EQ(tdh_mr_extend(f.h, 0, tdr, 0, &a), TDX_TDCS_NOT_ALLOCATED);
	/* all TDCS pages, but no TDH.MNG.INIT: OP_STATE is UNINITIALIZED */
	REQUIRE(fx_td_create(&f, &td));
	CHECK_EQ(tdh_mem_sept_add(f.h, 0, td.tdr, 0, 3, page, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mem_page_add(f.h, 0, td.tdr, 0, page, src, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mr_extend(f.h, 0, td.tdr, 0, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(pamt_type(&f, page, NULL), PT_NDA);
	/* the TDR operand itself: not a TDR, busy */
	CHECK_EQ(tdh_mem_sept_add(f.h, 0, td.tdcx[0], 0, 3, page, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_add(f.h, 0, td.tdcx[0], 0, page, src, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mr_extend(f.h, 0, page, 0, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, true) == 0);
	CHECK_EQ(tdh_mem_sept_add(f.h, 0, td.tdr, 0, 3, page, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_add(f.h, 0, td.tdr, 0, page, src, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mr_extend(f.h, 0, td.tdr, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, false);
	fx_destroy(&f);
}

TEST(sept_add_version_and_handle_checks)
{
	struct fx f;
	struct fx_td td;
	struct tdx_regs r;
	uint64_t page;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	page = fx_page(&f);
	/* version 2 does not exist; version 1 with L2 SEPT pages is not modelled */
	CHECK_EQ(sept_add_raw(&f, 2, 3, td.tdr, page, NULL_PA, NULL_PA, NULL_PA, &r), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(sept_add_raw(&f, 1, 3, td.tdr, page, fx_page(&f), NULL_PA, NULL_PA, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(r.r[TDX_REG_R8], page); /* refused before any output is written */
	CHECK_EQ(sept_add_raw(&f, 1, 3, td.tdr, page, NULL_PA, NULL_PA, 0, &r), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	/* TD_HANDLE_AND_FLAGS reserved bits 11:1 and 63:52 */
	CHECK_EQ(sept_add_raw(&f, 0, 3, td.tdr | 2, page, 0, 0, 0, &r), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(sept_add_raw(&f, 0, 3, td.tdr | (1ull << 11), page, 0, 0, 0, &r), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(sept_add_raw(&f, 0, 3, td.tdr | (1ull << 52), page, 0, 0, 0, &r), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	/* version 1 reports R8 even on failure: bit 63 of the input is ignored */
	CHECK_EQ(sept_add_raw(&f, 1, 3, td.tdr | 2, page | NOT_USED, NULL_PA, NULL_PA, NULL_PA, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(r.r[TDX_REG_R8], page);
	CHECK_EQ(r.r[TDX_REG_R9], NULL_PA);
	/* the HKID bits of the TDR field are checked like any explicit HPA */
	CHECK_EQ(sept_add_raw(&f, 0, 3, td.tdr | ((uint64_t)td.hkid << plat_hkid_shift(f.p)), page, 0, 0, 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(pamt_type(&f, page, NULL), PT_NDA);
	fx_destroy(&f);
}

TEST(sept_add_builds_the_tree_down_to_level_1)
{
	struct mem_td t;
	struct tdx_module_args a;
	uint64_t pages[5] = { 0 }, gpa = 1 * GiB + 5 * 4096, owner, target;
	REQUIRE(mem_td_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1, pages), TDX_SUCCESS);
	for (unsigned level = 1; level <= 3; level++) {
		uint64_t q[4];
		unsigned keyid;
		bool poisoned;
		owner = 0;
		CHECK_EQ(pamt_type(&t.f, pages[level], &owner), PT_EPT);
		CHECK_EQ(owner, t.td.tdr);
		/* initialised under the TD's key: the host sees ciphertext, not FREE entries */
		plat_page_state(t.f.p, pages[level], &keyid, &poisoned);
		CHECK_EQ(keyid, t.td.hkid);
		CHECK(!poisoned);
		plat_host_read(t.f.p, pages[level], q, sizeof(q));
		CHECK(q[0] != 0x80E0000000000000ull);
	}
	/* outputs are zero on success */
	CHECK_EQ(add_page(&t, gpa, 1, &target, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* the other GPAs of the same page table need no new SEPT page */
	CHECK_EQ(add_page(&t, gpa + 4096, 2, &target, &a), TDX_SUCCESS);
	CHECK_EQ(add_page(&t, (gpa & ~(2 * MiB - 1)) + 511 * 4096, 3, &target, &a), TDX_SUCCESS);
	/* the next 2 MiB needs its own page table */
	CHECK_EQ(add_page(&t, (gpa & ~(2 * MiB - 1)) + 2 * MiB, 4, &target, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	fx_destroy(&t.f);
}

TEST(sept_add_twice_and_allow_existing)
{
	struct mem_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t p1 = 0, p2 = 0;
	REQUIRE(mem_td_setup(&t));
	p1 = fx_page(&t.f);
	p2 = fx_page(&t.f);
	REQUIRE_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, p1, &a), TDX_SUCCESS);
	/* the same entry again: it is NL_MAPPED now */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, p2, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NL_MAPPED_ARCH); /* the child page's address is not disclosed */
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_NL_MAPPED));
	CHECK_EQ(pamt_type(&t.f, p2, NULL), PT_NDA);
	/* ALLOW_EXISTING, version 0: silent success, nothing done, R8 untouched */
	CHECK_EQ(sept_add_raw(&t.f, 0, 3, t.td.tdr | ALLOW_EXISTING, p2, 0, 0, 0, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_R8], p2);
	CHECK_EQ(r.r[TDX_REG_RCX], 0);
	CHECK_EQ(pamt_type(&t.f, p2, NULL), PT_NDA);
	/* ALLOW_EXISTING, version 1: R8 comes back flagged "not used" */
	CHECK_EQ(sept_add_raw(&t.f, 1, 3, t.td.tdr | ALLOW_EXISTING, p2, NULL_PA, NULL_PA, NULL_PA, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_R8], p2 | NOT_USED);
	CHECK_EQ(r.r[TDX_REG_R9], NULL_PA);
	CHECK_EQ(r.r[TDX_REG_R10], NULL_PA);
	CHECK_EQ(r.r[TDX_REG_R11], NULL_PA);
	/* version 1 without an L1 page: fine under an existing page, refused under a FREE entry */
	CHECK_EQ(sept_add_raw(&t.f, 1, 3, t.td.tdr, NULL_PA, NULL_PA, NULL_PA, NULL_PA, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_R8], NULL_PA);
	CHECK_EQ(sept_add_raw(&t.f, 1, 2, t.td.tdr, NULL_PA, NULL_PA, NULL_PA, NULL_PA, &r),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(r.r[TDX_REG_RCX], SVE);
	CHECK_EQ(r.r[TDX_REG_RDX], ARCH_INFO(2, PUB_FREE));
	/* version 0 without an L1 page */
	CHECK_EQ(sept_add_raw(&t.f, 0, 2, t.td.tdr, NULL_PA, 0, 0, 0, &r), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	/* version 1 that consumes its page: R8 = NULL_PA; bit 63 of the input is ignored */
	CHECK_EQ(sept_add_raw(&t.f, 1, 2, t.td.tdr, p2 | NOT_USED, NULL_PA, NULL_PA, NULL_PA, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_R8], NULL_PA);
	CHECK_EQ(r.r[TDX_REG_RCX], 0);
	CHECK_EQ(r.r[TDX_REG_RDX], 0);
	CHECK_EQ(pamt_type(&t.f, p2, NULL), PT_EPT);
	fx_destroy(&t.f);
}

TEST(sept_add_page_info_and_gpa_checks)
{
	struct mem_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t page;
	REQUIRE(mem_td_setup(&t));
	page = fx_page(&t.f);
	/* LEVEL 1..PWL (3 for the default 4-level EPT) */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 0, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 4, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 7, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* GPA aligned to what the entry maps */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 2 * MiB, 2, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 4096, 1, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* PAGE_INFO reserved bits 11:3 and 63:52 */
	CHECK_EQ(sept_add_raw(&t.f, 0, 3 | 8, t.td.tdr, page, 0, 0, 0, &r), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(sept_add_raw(&t.f, 0, 3 | (1ull << 52), t.td.tdr, page, 0, 0, 0, &r),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* GPAW 48: the shared bit 47 and bits 51:48 are not private GPAs */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, SHARED_BIT_48, 3, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 1ull << 48, 3, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 1ull << 51, 3, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* a level-1 page with nothing above it: the walk stops at the FREE root entry (level 3) */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 1, page, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_FREE));
	CHECK_EQ(pamt_type(&t.f, page, NULL), PT_NDA);
	/* the highest private 512 GiB slot of a 48-bit GPA space */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 255ull << 39, 3, page, &a), TDX_SUCCESS);
	fx_destroy(&t.f);
}

TEST(sept_add_new_page_checks)
{
	struct mem_td t;
	struct fx_td other;
	struct tdx_module_args a;
	uint64_t page;
	REQUIRE(mem_td_setup(&t));
	page = fx_page(&t.f);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, page + 8, &a), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, page | (1ull << plat_hkid_shift(t.f.p)), &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, 3 * GiB, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, 0x1000, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	/* pages in use by this TD: a TDCS page, the TDR itself (held shared by this very call) */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, t.td.tdcx[3], &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, t.td.tdr, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, true) == 0);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, page, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, false);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* none of that touched the entry */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 3, page, &a), TDX_SUCCESS);
	/* a page of another TD on the same machine */
	REQUIRE(fx_td_create(&t.f, &other));
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 2, other.tdr, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 2, other.tdcx[0], &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	fx_destroy(&t.f);
}

TEST(page_add_copies_under_the_td_key)
{
	struct mem_td t;
	struct tdx_module_args a;
	uint8_t data[4096], seen[4096];
	uint64_t gpa = 0x80000, target, owner = 0;
	unsigned keyid;
	bool poisoned;
	REQUIRE(mem_td_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1, NULL), TDX_SUCCESS);
	REQUIRE_EQ(add_page(&t, gpa, 0x5a, &target, &a), TDX_SUCCESS);
	CHECK_EQ(pamt_type(&t.f, target, &owner), PT_REG);
	CHECK_EQ(owner, t.td.tdr);
	CHECK_EQ(pamt_type(&t.f, t.src, NULL), PT_NDA); /* the source stays the host's */
	plat_page_state(t.f.p, target, &keyid, &poisoned);
	CHECK_EQ(keyid, t.td.hkid);
	CHECK(!poisoned);
	/* the host reads ciphertext, not what it asked to copy; its own source is unchanged */
	fill_pattern(data, sizeof(data), 0x5a);
	REQUIRE(plat_host_read(t.f.p, target, seen, sizeof(seen)) == 0);
	CHECK(memcmp(seen, data, sizeof(data)) != 0);
	REQUIRE(plat_host_read(t.f.p, t.src, seen, sizeof(seen)) == 0);
	CHECK(memcmp(seen, data, sizeof(data)) == 0);
	/* a source addressed with a shared MKTME KeyID (below the TDX KeyIDs) is read as given */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa + 4096, fx_page(&t.f), t.src | (1ull << plat_hkid_shift(t.f.p)),
				  &a),
		 TDX_SUCCESS);
	fx_destroy(&t.f);
}

TEST(page_add_walk_and_entry_errors)
{
	struct mem_td t;
	struct tdx_module_args a;
	uint64_t gpa = 3 * GiB + 16 * 4096, first, second, again;
	REQUIRE(mem_td_setup(&t));
	/* nothing below the root */
	CHECK_EQ(add_page(&t, gpa, 1, &first, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_FREE));
	/* no page table (level 1 SEPT page) yet */
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 2, NULL), TDX_SUCCESS);
	CHECK_EQ(add_page(&t, gpa, 1, &first, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	CHECK_EQ(pamt_type(&t.f, first, NULL), PT_NDA);
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 1, 1, NULL), TDX_SUCCESS);
	REQUIRE_EQ(add_page(&t, gpa, 1, &first, &a), TDX_SUCCESS);
	/* a hostile second add at the same GPA: refused before its page is looked at */
	CHECK_EQ(add_page(&t, gpa, 2, &second, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, MAPPED_4K(first));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	CHECK_EQ(pamt_type(&t.f, second, NULL), PT_NDA);
	CHECK_EQ(pamt_type(&t.f, first, NULL), PT_REG);
	/* even with the very page that is mapped there, or a bad source */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, first, t.src, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, second, t.src + 1, &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	/* the same page at another GPA: its PAMT says it is taken */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa + 4096, first, t.src, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* SEPT.ADD over a mapped 4 KiB leaf's parent: that entry is NL_MAPPED */
	again = fx_page(&t.f);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, gpa & ~(2 * MiB - 1), 1, again, &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_NL_MAPPED));
	fx_destroy(&t.f);
}

TEST(page_add_operand_errors)
{
	struct mem_td t;
	struct fx_td other;
	struct tdx_module_args a;
	struct plat_sysinfo si;
	struct td_params p;
	uint64_t gpa = 0x200000, page, opage;
	unsigned shift;
	REQUIRE(mem_td_setup(&t));
	shift = plat_hkid_shift(t.f.p);
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1, NULL), TDX_SUCCESS);
	page = fx_page(&t.f);
	/* PAGE_INFO: 4 KiB only, reserved bits, private GPA */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa | 1, page, t.src, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa | 0x10, page, t.src, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa | (1ull << 60), page, t.src, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa | SHARED_BIT_48, page, t.src, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa | (1ull << 49), page, t.src, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* source: aligned, shared KeyID, below 2^52, not SEAM memory, backed (64 GiB is beyond RAM) */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page, t.src + 64, &a), TDX_OPERAND_INVALID + OPERAND_ID_R9);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page, t.src | ((uint64_t)t.td.hkid << shift), &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R9);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page, 1ull << 52, &a), TDX_OPERAND_INVALID + OPERAND_ID_R9);
	plat_sysinfo_get(t.f.p, &si);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page, si.seamrr_base, &a), TDX_OPERAND_INVALID + OPERAND_ID_R9);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page, 64 * GiB, &a), TDX_OPERAND_INVALID + OPERAND_ID_R9);
	/* the source is checked before the target */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page + 1, t.src + 1, &a), TDX_OPERAND_INVALID + OPERAND_ID_R9);
	/* target: an explicit free private page */
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page + 8, t.src, &a), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page | (1ull << shift), t.src, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, 3 * GiB, t.src, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, t.td.tdr, t.src, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, t.td.tdcx[3], t.src, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, true) == 0);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page, t.src, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, false);
	/* pages of another TD: its TDR, its TDCS, a page it mapped */
	REQUIRE(fx_td_create(&t.f, &other));
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, other.tdr, t.src, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, other.tdcx[5], t.src, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	fx_td_params_default(&p);
	REQUIRE_EQ(fx_td_init(&t.f, &other, &p, NULL), TDX_SUCCESS);
	REQUIRE_EQ(add_sept(&t.f, &other, gpa, 3, 1, NULL), TDX_SUCCESS);
	REQUIRE_EQ(add_page_to(&t.f, &other, t.src, gpa, 9, &opage, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, opage, t.src, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	/* nothing above was added: the entry is still FREE, the page still free */
	CHECK_EQ(pamt_type(&t.f, page, NULL), PT_NDA);
	CHECK_EQ(tdh_mem_page_add(t.f.h, 0, t.td.tdr, gpa, page, t.src, &a), TDX_SUCCESS);
	fx_destroy(&t.f);
}

TEST(mr_extend_checks_and_walk_errors)
{
	struct mem_td t;
	struct tdx_module_args a;
	uint64_t gpa = 1 * GiB + 2 * MiB + 7 * 4096, target;
	REQUIRE(mem_td_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1, NULL), TDX_SUCCESS);
	REQUIRE_EQ(add_page(&t, gpa, 3, &target, &a), TDX_SUCCESS);
	for (unsigned off = 0; off < 4096; off += 256) {
		CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa + off, &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, 0);
		CHECK_EQ(a.rdx, 0);
	}
	/* 256-byte chunks, private GPAs */
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa + 128, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa + 8, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa | SHARED_BIT_48, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa | (1ull << 50), &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa | (1ull << 52), &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* unmapped GPAs: the entry where the walk stopped is reported */
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa + 4096, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_FREE));
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa + 2 * MiB, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa + GiB, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(2, PUB_FREE));
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, 1ull << 39, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_FREE));
	/* the TDR is taken exclusively: a concurrent holder makes it busy */
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, true) == 0);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, false);
	/* a host write into the added page poisons it: measuring it is a machine check */
	{
		uint64_t junk = 0;
		REQUIRE(plat_host_write(t.f.p, target + 512, &junk, sizeof(junk)) == 0);
		CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa, &a), TDX_SEAMCALL_VMFAILINVALID);
		CHECK_EQ(plat_mce_count(t.f.p, NULL), 1);
	}
	fx_destroy(&t.f);
}

/* Teardown gives every SEPT and data page back, and the TDR only after them (CHLDCNT). */
TEST(mem_pages_are_reclaimed_before_the_tdr)
{
	struct mem_td t;
	struct tdx_module_args a;
	uint64_t pages[5] = { 0 }, gpa = 0x1000, target;
	REQUIRE(mem_td_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, gpa, 3, 1, pages), TDX_SUCCESS);
	REQUIRE_EQ(add_page(&t, gpa, 7, &target, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_vpflushdone(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	for (unsigned pkg = 0; pkg < plat_nr_packages(t.f.p); pkg++)
		REQUIRE_EQ(tdh_phymem_cache_wb(t.f.h, plat_package_first_lp(t.f.p, pkg), false), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_key_freeid(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	for (unsigned i = 0; i < t.td.nr_tdcx; i++)
		REQUIRE_EQ(tdh_phymem_page_reclaim(t.f.h, 0, t.td.tdcx[i], &a), TDX_SUCCESS);
	CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, t.td.tdr, &a), TDX_TD_ASSOCIATED_PAGES_EXIST);
	CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, target, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_REG);
	CHECK_EQ(a.rdx, t.td.tdr);
	for (unsigned level = 1; level <= 3; level++) {
		CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, t.td.tdr, &a), TDX_TD_ASSOCIATED_PAGES_EXIST);
		CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, pages[level], &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, PT_EPT);
		CHECK_EQ(a.rdx, t.td.tdr);
	}
	CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, t.td.tdr, &a), TDX_SUCCESS);
	fx_destroy(&t.f);
}

/* 5-level Secure EPT with a 52-bit GPA width: the root is a PML5, the shared bit is 51. */
TEST(sept_five_levels_gpaw_52)
{
	struct mem_td t;
	struct td_params p;
	struct tdx_module_args a;
	uint64_t gpa = (1ull << 50) + (3ull << 39) + 0x3000, target;
	fx_td_params_default(&p);
	p.eptp_controls = (4ull << EPTP_CONTROLS_EPT_PWL_SHIFT) | 6;
	p.config_flags = CONFIG_FLAGS_GPAW_MASK;
	REQUIRE(mem_td_setup_params(&t, &p));
	CHECK_EQ(add_page(&t, gpa, 1, &target, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(4, PUB_FREE));
	CHECK_EQ(add_sept(&t.f, &t.td, gpa, 4, 1, NULL), TDX_SUCCESS);
	CHECK_EQ(add_page(&t, gpa, 1, &target, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa + 3840, &a), TDX_SUCCESS);
	/* bit 47 is an ordinary GPA bit now, bit 51 the shared one */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 1ull << 47, 3, fx_page(&t.f), &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(4, PUB_FREE)); /* PML5 slot 0 has no page yet */
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 4, fx_page(&t.f), &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 1ull << 47, 3, fx_page(&t.f), &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 1ull << 51, 4, fx_page(&t.f), &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_sept_add(t.f.h, 0, t.td.tdr, 0, 5, fx_page(&t.f), &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	fx_destroy(&t.f);
}

/* Two LPs link a page under the same entry at once: one wins, the other sees the entry
 * taken (locked: BUSY, or already NL_MAPPED), and only the winner's page becomes PT_EPT. */
struct racer {
	struct mem_td *t;
	unsigned lp;
	uint64_t gpa, page, status, rcx;
};

static void *race_sept_add(void *arg)
{
	struct racer *r = arg;
	struct tdx_module_args a;

	r->status = tdh_mem_sept_add(r->t->f.h, r->lp, r->t->td.tdr, r->gpa, 2, r->page, &a);
	r->rcx = a.rcx;
	return NULL;
}

TEST(concurrent_sept_add_same_entry)
{
	struct mem_td t;
	REQUIRE(mem_td_setup(&t));
	REQUIRE_EQ(add_sept(&t.f, &t.td, 0, 3, 3, NULL), TDX_SUCCESS);
	for (unsigned round = 0; round < 32; round++) {
		struct racer r[2];
		pthread_t th[2];
		unsigned wins = 0;
		for (unsigned i = 0; i < 2; i++) {
			r[i] = (struct racer){ .t = &t, .lp = 1 + 2 * i, .gpa = (uint64_t)round * GiB, .page = fx_page(&t.f) };
			REQUIRE(pthread_create(&th[i], NULL, race_sept_add, &r[i]) == 0);
		}
		for (unsigned i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		for (unsigned i = 0; i < 2; i++) {
			if (r[i].status == TDX_SUCCESS) {
				wins++;
				CHECK_EQ(pamt_type(&t.f, r[i].page, NULL), PT_EPT);
				continue;
			}
			CHECK(r[i].status == TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX ||
			      r[i].status == TDX_OPERAND_BUSY + OPERAND_ID_RCX);
			CHECK_EQ(pamt_type(&t.f, r[i].page, NULL), PT_NDA);
		}
		CHECK_EQ(wins, 1);
	}
	fx_destroy(&t.f);
}

/* An MRTD extension header block as structures.json "MRTD measurement blocks" lays it out. */
static void mrtd_header(EVP_MD_CTX *c, const char *name, uint64_t gpa)
{
	uint8_t block[128] = { 0 };

	memcpy(block, name, strlen(name));
	for (unsigned i = 0; i < 8; i++)
		block[16 + i] = (uint8_t)(gpa >> (8 * i));
	EVP_DigestUpdate(c, block, sizeof(block));
}

static bool add_vcpu(struct fx *f, const struct fx_td *td)
{
	uint64_t vpr = fx_page(f);

	if (tdh_vp_create(f->h, 0, td->tdr, vpr))
		return false;
	for (int i = 0; i < 5; i++)
		if (tdh_vp_addcx(f->h, 0, vpr, fx_page(f)))
			return false;
	/* VP.INIT associates the vCPU with LP 0; flush it now so that teardown needs no vCPU list */
	return tdh_vp_init(f->h, 0, vpr, 0) == TDX_SUCCESS && tdh_vp_flush(f->h, 0, vpr) == TDX_SUCCESS;
}

/* MRTD after TDH.MR.FINALIZE is the SHA-384 of exactly the blocks PAGE.ADD and MR.EXTEND fed,
 * and the extended contents are the source pages as seen through the TD's key. */
TEST(mrtd_is_the_sha384_of_the_build_blocks)
{
	struct mem_td t;
	struct tdx_module_args a;
	uint64_t gpa[2] = { 0xFFC000, 0x60000000 }, page;
	uint8_t data[4096], expected[48], mrtd[48];
	unsigned len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	REQUIRE(c);
	REQUIRE(EVP_DigestInit_ex(c, EVP_sha384(), NULL) == 1);
	REQUIRE(mem_td_setup(&t));
	for (unsigned i = 0; i < 2; i++) {
		REQUIRE_EQ(add_sept(&t.f, &t.td, gpa[i], i ? 2 : 3, 1, NULL), TDX_SUCCESS);
		REQUIRE_EQ(add_page(&t, gpa[i], (uint8_t)(0x30 + i), &page, &a), TDX_SUCCESS);
		mrtd_header(c, "MEM.PAGE.ADD", gpa[i]);
	}
	/* the first page measured completely, then the second only in part, out of order */
	fill_pattern(data, sizeof(data), 0x30);
	for (unsigned off = 0; off < 4096; off += 256) {
		REQUIRE_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa[0] + off, &a), TDX_SUCCESS);
		mrtd_header(c, "MR.EXTEND", gpa[0] + off);
		EVP_DigestUpdate(c, data + off, 256);
	}
	fill_pattern(data, sizeof(data), 0x31);
	REQUIRE_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa[1] + 3840, &a), TDX_SUCCESS);
	mrtd_header(c, "MR.EXTEND", gpa[1] + 3840);
	EVP_DigestUpdate(c, data + 3840, 256);
	REQUIRE_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa[1], &a), TDX_SUCCESS);
	mrtd_header(c, "MR.EXTEND", gpa[1]);
	EVP_DigestUpdate(c, data, 256);
	/* failed calls measure nothing */
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa[1] + 4096, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(add_page(&t, gpa[1], 0x99, &page, &a), TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	REQUIRE(EVP_DigestFinal_ex(c, expected, &len) == 1 && len == 48);
	EVP_MD_CTX_free(c);

	REQUIRE(add_vcpu(&t.f, &t.td));
	REQUIRE_EQ(tdh_mr_finalize(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	for (unsigned i = 0; i < 6; i++) {
		uint64_t v = 0;
		CHECK_EQ(tdh_mng_rd(t.f.h, 0, t.td.tdr, MD_TD_FIELDS_MRTD_FIELD_ID + i, &v), TDX_SUCCESS);
		memcpy(mrtd + 8 * i, &v, 8);
	}
	CHECK(memcmp(mrtd, expected, sizeof(mrtd)) == 0);
	/* RUNNABLE: nothing more is added or measured; the Secure EPT may still grow */
	CHECK_EQ(add_page(&t, gpa[0] + 4096, 1, &page, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, gpa[0], &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(add_sept(&t.f, &t.td, 2 * GiB, 2, 1, NULL), TDX_SUCCESS);
	fx_destroy(&t.f);
}
