/* TDH.MEM.PAGE.RELOCATE: a TD's 4 KiB page moves to a free page the host donates. The TD sees
 * the same plaintext at the same GPA (read back with TDH.MEM.RD on a debug TD), the host sees
 * only ciphertext, the PAMT moves the ownership (TDH.PHYMEM.PAGE.RDMD), and every failure
 * reports the real module's status and operand id and changes nothing. Each TD is torn down
 * to its TDR, which proves CHLDCNT and the PAMT owners stayed consistent. */
#include <string.h>

#include "fixture.h"

#define SVE (UINT64_C(1) << 63)
#define SHARED_BIT_48 (UINT64_C(1) << 47)
#define ARCH_INFO(level, state) ((uint64_t)(level) | ((uint64_t)(state) << 8))
#define PUB_FREE 0x00
#define PUB_MAPPED 0x04
#define PUB_BLOCKED 0x01
#define PUB_PENDING 0x02
#define PUB_PENDING_BLOCKED 0x03
/* Architectural views of a 4 KiB leaf (MT WB, IPAT, PS, SVE): mapped (RWX) or not. */
#define MAPPED_4K(hpa) (SVE | (hpa) | 0xF7)
#define NO_RWX_4K(hpa) (SVE | (hpa) | 0xF0)

#define GPA0 UINT64_C(0x200000) /* NR_DATA pages here, in one page table */
#define NR_DATA 2
#define MAX_OWNED 32

struct rel_td {
	struct fx f;
	struct fx_td td;
	uint64_t sept[4];
	uint64_t data[NR_DATA];
	uint8_t plain[NR_DATA][4096]; /* what the TD holds at GPA0 + i * 4 KiB */
	uint64_t owned[MAX_OWNED];
	unsigned nr_owned;
};

static void own(struct rel_td *t, uint64_t pa)
{
	if (t->nr_owned < MAX_OWNED)
		t->owned[t->nr_owned++] = pa;
}

static void disown(struct rel_td *t, uint64_t pa)
{
	for (unsigned i = 0; i < t->nr_owned; i++)
		if (t->owned[i] == pa)
			t->owned[i] = t->owned[--t->nr_owned];
}

static bool build_memory(struct rel_td *t)
{
	struct tdx_module_args a;
	uint64_t src = fx_page(&t->f);

	for (unsigned level = 3; level >= 1; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		t->sept[level] = fx_page(&t->f);
		if (tdh_mem_sept_add(t->f.h, 0, t->td.tdr, GPA0 & ~(span - 1), level, t->sept[level], &a))
			return false;
		own(t, t->sept[level]);
	}
	for (unsigned i = 0; i < NR_DATA; i++) {
		for (unsigned j = 0; j < 4096; j++)
			t->plain[i][j] = (uint8_t)(j * 7 + i * 31 + 3);
		t->data[i] = fx_page(&t->f);
		if (plat_host_write(t->f.p, src, t->plain[i], 4096) ||
		    tdh_mem_page_add(t->f.h, 0, t->td.tdr, GPA0 + i * 4096, t->data[i], src, &a))
			return false;
		own(t, t->data[i]);
	}
	return true;
}

static bool add_vcpu(struct rel_td *t)
{
	uint64_t pg[MIN_TDVPS_PAGES];
	bool ok = fx_vcpu_ready(&t->f, t->td.tdr, pg);

	for (unsigned i = 0; i < MIN_TDVPS_PAGES; i++)
		if (pg[i])
			own(t, pg[i]);
	return ok;
}

/* A TD (debug if asked) with NR_DATA pages of known contents at GPA0, finalised (RUNNABLE, one
 * vCPU) if asked. */
static bool rel_setup(struct rel_td *t, bool debug, bool finalize)
{
	struct td_params p;

	memset(t, 0, sizeof(*t));
	if (!fx_create(&t->f))
		return false;
	fx_td_params_default(&p);
	if (debug)
		p.attributes = TD_ATTRIBUTES_DEBUG_MASK;
	if (!fx_bringup(&t->f) || !fx_td_create(&t->f, &t->td) || fx_td_init(&t->f, &t->td, &p, NULL) != TDX_SUCCESS)
		goto fail;
	if (!build_memory(t))
		goto fail;
	if (finalize && (!add_vcpu(t) || tdh_mr_finalize(t->f.h, 0, t->td.tdr) != TDX_SUCCESS))
		goto fail;
	return true;
fail:
	fx_destroy(&t->f);
	return false;
}

/* Keys released: every page the TD owns comes back, the TDR last (CHLDCNT must be 0). */
static void rel_release_keys(struct rel_td *t)
{
	CHECK_EQ(tdh_mng_vpflushdone(t->f.h, 0, t->td.tdr), TDX_SUCCESS);
	for (unsigned pkg = 0; pkg < plat_nr_packages(t->f.p); pkg++)
		CHECK_EQ(tdh_phymem_cache_wb(t->f.h, plat_package_first_lp(t->f.p, pkg), false), TDX_SUCCESS);
	CHECK_EQ(tdh_mng_key_freeid(t->f.h, 0, t->td.tdr), TDX_SUCCESS);
}

static void rel_reclaim_all(struct rel_td *t)
{
	struct tdx_module_args a;

	for (unsigned i = 0; i < t->nr_owned; i++) {
		CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->owned[i], &a), TDX_SUCCESS);
		CHECK_EQ(a.rdx, t->td.tdr);
	}
	for (unsigned i = 0; i < t->td.nr_tdcx; i++)
		CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->td.tdcx[i], &a), TDX_SUCCESS);
	CHECK_EQ(tdh_phymem_page_reclaim(t->f.h, 0, t->td.tdr, &a), TDX_SUCCESS);
	fx_destroy(&t->f);
}

static void rel_teardown(struct rel_td *t)
{
	rel_release_keys(t);
	rel_reclaim_all(t);
}

/* PAMT type of a page (TDH.PHYMEM.PAGE.RDMD), with its owner and BEPOCH if asked. */
static uint64_t pamt_type(struct rel_td *t, uint64_t pa, uint64_t *owner, uint64_t *bepoch)
{
	struct tdx_module_args a;

	if (tdh_phymem_page_rdmd(t->f.h, 0, pa, &a))
		return UINT64_MAX;
	if (owner)
		*owner = a.rdx;
	if (bepoch)
		*bepoch = a.r9;
	return a.rcx;
}

/* Does the TD read `expect` at gpa, qword by qword, through TDH.MEM.RD (debug TDs)? */
static bool td_holds(struct rel_td *t, uint64_t gpa, const uint8_t *expect)
{
	struct tdx_module_args a;

	for (unsigned off = 0; off < 4096; off += 8) {
		uint64_t v = 0, want;
		memcpy(&want, expect + off, sizeof(want));
		if (tdh_mem_rd(t->f.h, 0, t->td.tdr, gpa + off, &v, &a) != TDX_SUCCESS || v != want)
			return false;
	}
	return true;
}

/* The host's view of a page: ciphertext, never the TD's plaintext. */
static bool host_sees_plaintext(struct rel_td *t, uint64_t pa, const uint8_t *plain)
{
	uint8_t buf[4096];

	if (plat_host_read(t->f.p, pa, buf, sizeof(buf)))
		return false;
	return memcmp(buf, plain, sizeof(buf)) == 0;
}

static unsigned page_keyid(struct rel_td *t, uint64_t pa)
{
	unsigned keyid = UINT32_MAX;
	bool poisoned = true;

	if (plat_page_state(t->f.p, pa, &keyid, &poisoned) || poisoned)
		return UINT32_MAX;
	return keyid;
}

static uint64_t sept_entry(struct rel_td *t, uint64_t gpa, uint64_t *info)
{
	struct tdx_module_args a;

	if (tdh_mem_sept_rd(t->f.h, 0, t->td.tdr, gpa, 0, &a))
		return UINT64_MAX;
	*info = a.rdx;
	return a.rcx;
}

static uint64_t raw(struct rel_td *t, uint64_t rcx, uint64_t rdx, uint64_t r8, struct tdx_regs *r)
{
	return fx_call(&t->f, 0, TDH_MEM_PAGE_RELOCATE_LEAF, rcx, rdx, r8, 0, r);
}

/* The flow of a running TD: BLOCK, TRACK, RELOCATE; the entry comes back MAPPED at the new
 * page, the TD reads the same bytes, the old page is free memory. */
TEST(relocate_running_debug_td_keeps_contents)
{
	struct rel_td t;
	struct tdx_module_args a;
	uint64_t old, dst, owner = 0, bepoch = 1, info = 0;
	REQUIRE(rel_setup(&t, true, true));
	old = t.data[0];
	dst = fx_page(&t.f);
	CHECK(td_holds(&t, GPA0, t.plain[0]));
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, old);
	CHECK_EQ(a.rdx, 0);
	own(&t, dst);
	disown(&t, old);
	/* unblocked, pointing at the new page */
	CHECK_EQ(sept_entry(&t, GPA0, &info), MAPPED_4K(dst));
	CHECK_EQ(info, ARCH_INFO(0, PUB_MAPPED));
	/* the TD's plaintext moved; the host sees ciphertext under the TD's KeyID */
	CHECK(td_holds(&t, GPA0, t.plain[0]));
	CHECK(td_holds(&t, GPA0 + 4096, t.plain[1]));
	CHECK_EQ(page_keyid(&t, dst), t.td.hkid);
	CHECK(!host_sees_plaintext(&t, dst, t.plain[0]));
	/* PAMT: the new page is the TD's (BEPOCH 0), the old one free */
	CHECK_EQ(pamt_type(&t, dst, &owner, &bepoch), PT_REG);
	CHECK_EQ(owner, t.td.tdr);
	CHECK_EQ(bepoch, 0);
	CHECK_EQ(pamt_type(&t, old, NULL, NULL), PT_NDA);
	CHECK_EQ(tdh_phymem_page_reclaim(t.f.h, 0, old, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	/* the old page is reusable once flushed: it becomes the next target */
	CHECK_EQ(tdh_phymem_page_wbinvd(t.f.h, 0, old | ((uint64_t)t.td.hkid << plat_hkid_shift(t.f.p))), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 + 4096, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0 + 4096, 0, old, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.data[1]);
	own(&t, old);
	disown(&t, t.data[1]);
	/* the BEPOCH the old page kept from its blocking is reset */
	CHECK_EQ(pamt_type(&t, old, &owner, &bepoch), PT_REG);
	CHECK_EQ(owner, t.td.tdr);
	CHECK_EQ(bepoch, 0);
	CHECK(td_holds(&t, GPA0 + 4096, t.plain[1]));
	CHECK(td_holds(&t, GPA0, t.plain[0]));
	/* a relocated page goes away the usual way */
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, dst);
	disown(&t, dst);
	rel_teardown(&t);
}

/* Before TDH.MR.FINALIZE nothing needs blocking: a MAPPED page moves and stays MAPPED, a
 * BLOCKED one comes back MAPPED. */
TEST(relocate_initialized_td_without_tracking)
{
	struct rel_td t;
	struct tdx_module_args a;
	uint64_t dst[2], info = 0;
	REQUIRE(rel_setup(&t, true, false));
	dst[0] = fx_page(&t.f);
	dst[1] = fx_page(&t.f);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst[0], &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.data[0]);
	CHECK_EQ(sept_entry(&t, GPA0, &info), MAPPED_4K(dst[0]));
	CHECK_EQ(info, ARCH_INFO(0, PUB_MAPPED));
	CHECK(td_holds(&t, GPA0, t.plain[0]));
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0 + 4096, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0 + 4096, 0, dst[1], &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.data[1]);
	CHECK_EQ(sept_entry(&t, GPA0 + 4096, &info), MAPPED_4K(dst[1]));
	CHECK_EQ(info, ARCH_INFO(0, PUB_MAPPED));
	CHECK(td_holds(&t, GPA0 + 4096, t.plain[1]));
	for (unsigned i = 0; i < NR_DATA; i++) {
		CHECK_EQ(pamt_type(&t, t.data[i], NULL, NULL), PT_NDA);
		CHECK_EQ(pamt_type(&t, dst[i], NULL, NULL), PT_REG);
		disown(&t, t.data[i]);
		own(&t, dst[i]);
	}
	/* the TD can still be measured and finalised over the moved pages */
	CHECK_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, GPA0, &a), TDX_SUCCESS);
	rel_teardown(&t);
}

/* A PENDING page has nothing to copy: the target is neither initialised nor written, and the
 * entry stays PENDING (a blocked one goes back to PENDING). */
TEST(relocate_pending_page_copies_nothing)
{
	struct rel_td t;
	struct tdx_module_args a;
	uint64_t gpa = GPA0 + 2 * 4096, aug, dst, info = 0;
	uint8_t junk[4096];
	REQUIRE(rel_setup(&t, false, true));
	aug = fx_page(&t.f);
	dst = fx_page(&t.f);
	memset(junk, 0x5A, sizeof(junk));
	REQUIRE(plat_host_write(t.f.p, dst, junk, sizeof(junk)) == 0);
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, gpa, 0, aug, &a), TDX_SUCCESS);
	own(&t, aug);
	/* PENDING still needs blocking in a running TD */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, gpa, 0, dst, &a), TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, NO_RWX_4K(aug));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_PENDING));
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, gpa, 0, &a), TDX_SUCCESS);
	CHECK_EQ(sept_entry(&t, gpa, &info), NO_RWX_4K(aug));
	CHECK_EQ(info, ARCH_INFO(0, PUB_PENDING_BLOCKED));
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, gpa, 0, dst, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, aug);
	own(&t, dst);
	disown(&t, aug);
	CHECK_EQ(sept_entry(&t, gpa, &info), NO_RWX_4K(dst));
	CHECK_EQ(info, ARCH_INFO(0, PUB_PENDING));
	/* untouched: still the host's KeyID 0 bytes */
	CHECK_EQ(page_keyid(&t, dst), 0);
	CHECK(host_sees_plaintext(&t, dst, junk));
	CHECK_EQ(pamt_type(&t, dst, NULL, NULL), PT_REG);
	CHECK_EQ(pamt_type(&t, aug, NULL, NULL), PT_NDA);
	rel_teardown(&t);
}

/* Nothing a failure touched changed: the entry, both PAMT entries, the target's memory. */
static void check_unchanged(struct rel_td *t, uint64_t src_entry, uint64_t src_info, uint64_t dst)
{
	uint64_t info = 0;

	CHECK_EQ(sept_entry(t, GPA0, &info), src_entry);
	CHECK_EQ(info, src_info);
	CHECK_EQ(pamt_type(t, t->data[0], NULL, NULL), PT_REG);
	CHECK_EQ(pamt_type(t, dst, NULL, NULL), PT_NDA);
	CHECK_EQ(page_keyid(t, dst), 0);
}

/* The real module's order: TDR, TD state, PAGE_INFO, GPA, walk, entry state, target equal to
 * the source, the source's PAMT entry, blocking and tracking, and only then the target. */
TEST(relocate_source_errors)
{
	struct rel_td t;
	struct fx_td fresh;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t dst, page;
	REQUIRE(rel_setup(&t, false, true));
	page = t.data[0];
	dst = fx_page(&t.f);
	/* TDR operand (RDX) */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr + 8, GPA0, 0, dst, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdcx[0], GPA0, 0, dst, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, 3 * GiB, GPA0, 0, dst, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RDX);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, true) == 0);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, false);
	/* a TD before TDH.MNG.INIT */
	REQUIRE(fx_td_create(&t.f, &fresh));
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, fresh.tdr, GPA0, 0, dst, &a), TDX_OP_STATE_INCORRECT);
	/* PAGE_INFO: 4 KiB only, reserved bits, private GPA (RCX) */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 1, dst, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(raw(&t, GPA0 | 8, t.td.tdr, dst, &r), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(raw(&t, GPA0 | (UINT64_C(1) << 52), t.td.tdr, dst, &r), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0 | SHARED_BIT_48, 0, dst, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* the walk stops above level 0; a FREE leaf */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0 + 2 * MiB, 0, dst, &a), TDX_EPT_WALK_FAILED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(1, PUB_FREE));
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0 + 2 * 4096, 0, dst, &a),
		 TDX_EPT_ENTRY_STATE_INCORRECT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_FREE));
	/* the target is the source: reported before anything about blocking */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, page, &a), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* the source's PAMT entry is taken exclusively (RCX) */
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, true) == 0);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, false);
	/* running TD: not blocked, with the entry; a bad target is not even looked at */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, MAPPED_4K(page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, t.data[1], &a),
		 TDX_GPA_RANGE_NOT_BLOCKED + OPERAND_ID_RCX);
	check_unchanged(&t, MAPPED_4K(page), ARCH_INFO(0, PUB_MAPPED), dst);
	/* blocked, not tracked: no details */
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_TLB_TRACKING_NOT_DONE + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	check_unchanged(&t, NO_RWX_4K(page), ARCH_INFO(0, PUB_BLOCKED), dst);
	/* and after TRACK it goes */
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, page);
	own(&t, dst);
	disown(&t, page);
	rel_teardown(&t);
}

/* R8: a free 4 KiB page of TDX memory, no KeyID bits, not locked by anyone. */
TEST(relocate_target_errors)
{
	struct rel_td t;
	struct fx_td other;
	struct tdx_module_args a;
	uint64_t dst, page, hkid_bit;
	REQUIRE(rel_setup(&t, false, true));
	page = t.data[0];
	dst = fx_page(&t.f);
	hkid_bit = UINT64_C(1) << plat_hkid_shift(t.f.p);
	REQUIRE_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst | hkid_bit, &a), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, page | hkid_bit, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst + 0x800, &a), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, UINT64_C(1) << 52, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, 3 * GiB, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_R8);
	/* pages that are not free: this TD's own page and SEPT page, another TD's TDR and TDCS */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, t.data[1], &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, t.sept[1], &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	REQUIRE(fx_td_create(&t.f, &other));
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, other.tdr, &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, other.tdcx[0], &a),
		 TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_R8);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* busy target */
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, dst, true) == 0);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_OPERAND_BUSY + OPERAND_ID_R8);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, dst, false);
	/* nothing moved, nothing stayed locked: the source's PAMT entry is free to lock */
	check_unchanged(&t, NO_RWX_4K(page), ARCH_INFO(0, PUB_BLOCKED), dst);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, true) == 0);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, page, false);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_SUCCESS);
	own(&t, dst);
	disown(&t, page);
	rel_teardown(&t);
}

/* After TDH.MNG.KEY.FREEID the TD's keys are gone: no page moves any more. */
TEST(relocate_refused_after_key_release)
{
	struct rel_td t;
	struct tdx_module_args a;
	uint64_t dst;
	REQUIRE(rel_setup(&t, false, false));
	dst = fx_page(&t.f);
	rel_release_keys(&t);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(pamt_type(&t, dst, NULL, NULL), PT_NDA);
	rel_reclaim_all(&t);
}
