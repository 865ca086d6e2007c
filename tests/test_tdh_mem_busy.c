/* The busy paths no single-threaded test reaches without help: the SEPT tree lock, a SEPT
 * entry's host lock and the TD epoch lock, held through module_debug_td_lock() so that each
 * leaf's TDX_OPERAND_BUSY + operand id (the real module's) is deterministic, and nothing the
 * failed leaf touched changes. */
#include <string.h>

#include "fixture.h"
#include "module/module_debug.h"

#define SVE (UINT64_C(1) << 63)
#define ARCH_INFO(level, state) ((uint64_t)(level) | ((uint64_t)(state) << 8))
#define PUB_MAPPED 0x04
#define PUB_BLOCKED 0x01
#define MAPPED_4K(hpa) (SVE | (hpa) | 0xF7)
#define BLOCKED_4K(hpa) (SVE | (hpa) | 0xF0)

#define GPA0 UINT64_C(0x200000)

/* An initialised TD with its Secure EPT down to level 1 above GPA0 and one page added there. */
struct busy_td {
	struct fx f;
	struct fx_td td;
	uint64_t page;
};

static bool busy_setup(struct busy_td *t)
{
	struct tdx_module_args a;
	struct td_params p;
	uint64_t src;

	memset(t, 0, sizeof(*t));
	if (!fx_create(&t->f))
		return false;
	fx_td_params_default(&p);
	if (!fx_bringup(&t->f) || !fx_td_create(&t->f, &t->td) || fx_td_init(&t->f, &t->td, &p, NULL))
		goto fail;
	for (unsigned level = 3; level >= 1; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		if (tdh_mem_sept_add(t->f.h, 0, t->td.tdr, GPA0 & ~(span - 1), level, fx_page(&t->f), &a))
			goto fail;
	}
	src = fx_page(&t->f);
	t->page = fx_page(&t->f);
	if (tdh_mem_page_add(t->f.h, 0, t->td.tdr, GPA0, t->page, src, &a))
		goto fail;
	return true;
fail:
	fx_destroy(&t->f);
	return false;
}

static uint64_t entry_of(struct busy_td *t, uint64_t *info)
{
	struct tdx_module_args a;

	if (tdh_mem_sept_rd(t->f.h, 0, t->td.tdr, GPA0, 0, &a))
		return UINT64_MAX;
	*info = a.rdx;
	return a.rcx;
}

static uint64_t td_epoch(struct busy_td *t)
{
	uint64_t v = 0;

	if (tdh_mng_rd(t->f.h, 0, t->td.tdr, MD_TD_FIELDS_TD_EPOCH_FIELD_ID, &v))
		return UINT64_MAX;
	return v;
}

/* Held exclusively (a restructuring leaf on another LP): every leaf that walks reports the tree
 * busy; shared (a walking leaf), only the restructuring ones do. */
TEST(busy_sept_tree)
{
	struct busy_td t;
	struct tdx_module_args a;
	uint64_t dst, info = 0;
	REQUIRE(busy_setup(&t));
	dst = fx_page(&t.f);
	REQUIRE(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_EXCLUSIVE, t.td.tdr, 0, true) == 0);
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_SHARED, t.td.tdr, 0, true) == -1);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_OPERAND_BUSY + OPERAND_ID_SEPT_TREE);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_SEPT_TREE);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_SEPT_TREE);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_SEPT_TREE);
	CHECK_EQ(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_EXCLUSIVE, t.td.tdr, 0, false), 0);
	CHECK_EQ(entry_of(&t, &info), MAPPED_4K(t.page));
	CHECK_EQ(info, ARCH_INFO(0, PUB_MAPPED));

	REQUIRE(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_SHARED, t.td.tdr, 0, true) == 0);
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_EXCLUSIVE, t.td.tdr, 0, true) == -1);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_SEPT_TREE);
	CHECK_EQ(entry_of(&t, &info), MAPPED_4K(t.page));
	/* RELOCATE only walks: it proceeds beside a shared holder */
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, t.page);
	CHECK_EQ(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_SHARED, t.td.tdr, 0, false), 0);
	/* released locks are not released twice */
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_SHARED, t.td.tdr, 0, false) == -1);
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_EXCLUSIVE, t.td.tdr, 0, false) == -1);
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	fx_destroy(&t.f);
}

/* A SEPT entry locked by someone else (a guest-side ACCEPT, another host leaf): busy on RCX,
 * with the entry reported (its lock bit never shows). */
TEST(busy_sept_entry)
{
	struct busy_td t;
	struct tdx_module_args a;
	uint64_t dst, info = 0;
	REQUIRE(busy_setup(&t));
	dst = fx_page(&t.f);
	/* not an entry the walk reaches */
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_ENTRY, t.td.tdr, (1ull << 39), true) == -1);
	REQUIRE(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_ENTRY, t.td.tdr, GPA0, true) == 0);
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_ENTRY, t.td.tdr, GPA0, true) == -1);
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, MAPPED_4K(t.page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, MAPPED_4K(t.page));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	CHECK_EQ(tdh_mem_page_remove(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_MAPPED));
	/* the entry above is a different lock */
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_range_unblock(t.f.h, 0, t.td.tdr, GPA0, 1, &a), TDX_SUCCESS);
	CHECK_EQ(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_ENTRY, t.td.tdr, GPA0, false), 0);
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_ENTRY, t.td.tdr, GPA0, false) == -1);
	/* nothing changed, and the entry works again */
	CHECK_EQ(entry_of(&t, &info), MAPPED_4K(t.page));
	CHECK_EQ(info, ARCH_INFO(0, PUB_MAPPED));
	CHECK_EQ(tdh_mem_range_block(t.f.h, 0, t.td.tdr, GPA0, 0, &a), TDX_SUCCESS);
	CHECK_EQ(entry_of(&t, &info), BLOCKED_4K(t.page));
	CHECK_EQ(info, ARCH_INFO(0, PUB_BLOCKED));
	CHECK_EQ(tdh_mem_page_relocate(t.f.h, 0, t.td.tdr, GPA0, 0, dst, &a), TDX_SUCCESS);
	CHECK_EQ(entry_of(&t, &info), MAPPED_4K(dst));
	fx_destroy(&t.f);
}

/* The epoch lock (TDH.MEM.TRACK against TDH.VP.ENTER): TRACK reports TD_EPOCH busy and the
 * epoch stays. */
TEST(busy_td_epoch)
{
	struct busy_td t;
	REQUIRE(busy_setup(&t));
	CHECK_EQ(td_epoch(&t), 1);
	REQUIRE(module_debug_td_lock(t.f.p, MODULE_DEBUG_TD_EPOCH, t.td.tdr, 0, true) == 0);
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_TD_EPOCH, t.td.tdr, 0, true) == -1);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_OPERAND_BUSY + OPERAND_ID_TD_EPOCH);
	CHECK_EQ(td_epoch(&t), 1);
	CHECK_EQ(module_debug_td_lock(t.f.p, MODULE_DEBUG_TD_EPOCH, t.td.tdr, 0, false), 0);
	CHECK_EQ(tdh_mem_track(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(td_epoch(&t), 2);
	fx_destroy(&t.f);
}

/* The hook only reaches real TDs with their keys. */
TEST(busy_debug_lock_needs_a_td)
{
	struct busy_td t;
	struct fx_td fresh;
	REQUIRE(busy_setup(&t));
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_SEPT_TREE_EXCLUSIVE, t.page, 0, true) == -1);
	CHECK(module_debug_td_lock(t.f.p, MODULE_DEBUG_TD_EPOCH, t.td.tdr + 8, 0, true) == -1);
	REQUIRE(fx_td_create(&t.f, &fresh));
	/* keys configured, TDCS allocated, not initialised: the locks exist */
	CHECK_EQ(module_debug_td_lock(t.f.p, MODULE_DEBUG_TD_EPOCH, fresh.tdr, 0, true), 0);
	CHECK_EQ(module_debug_td_lock(t.f.p, MODULE_DEBUG_TD_EPOCH, fresh.tdr, 0, false), 0);
	fx_destroy(&t.f);
}
