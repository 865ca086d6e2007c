/* TDH.MEM.RD / TDH.MEM.WR: only a debug TD's memory is readable, through the TD's key; the
 * host's own view of the same page stays ciphertext. */
#include <string.h>

#include "fixture.h"

#define SVE (UINT64_C(1) << 63)
#define ARCH_INFO(level, state) ((uint64_t)(level) | ((uint64_t)(state) << 8))
#define PUB_FREE 0x00
#define PUB_PENDING 0x02
#define PENDING_4K(hpa) (SVE | (hpa) | 0xF0)

/* A TD (debug or not) with one page added at GPA 0x10000 holding a known pattern. */
struct dbg_td {
	struct fx f;
	struct fx_td td;
	uint64_t gpa, page;
	uint8_t data[4096];
};

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

static bool dbg_setup(struct dbg_td *t, uint64_t attributes)
{
	struct tdx_module_args a;
	struct td_params p;
	uint64_t src;

	if (!fx_create(&t->f))
		return false;
	fx_td_params_default(&p);
	p.attributes = attributes;
	if (!fx_bringup(&t->f) || !fx_td_create(&t->f, &t->td) || fx_td_init(&t->f, &t->td, &p, NULL))
		return false;
	t->gpa = 0x10000;
	for (size_t i = 0; i < sizeof(t->data); i++)
		t->data[i] = (uint8_t)(i * 13 + 1);
	src = fx_page(&t->f);
	t->page = fx_page(&t->f);
	plat_host_write(t->f.p, src, t->data, sizeof(t->data));
	return add_sept(&t->f, &t->td, t->gpa, 3, 1) == TDX_SUCCESS &&
	       tdh_mem_page_add(t->f.h, 0, t->td.tdr, t->gpa, t->page, src, &a) == TDX_SUCCESS;
}

static uint64_t qword_of(const uint8_t *data, unsigned off)
{
	uint64_t v;
	memcpy(&v, data + off, sizeof(v));
	return v;
}

TEST(mem_rd_wr_refused_for_a_production_td)
{
	struct dbg_td t;
	struct tdx_module_args a;
	struct tdx_regs r;
	uint64_t v = 1, old = 1;
	REQUIRE(dbg_setup(&t, 0));
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa, &v, &a), TDX_TD_NON_DEBUG);
	CHECK_EQ(v, 0);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa, 0x1234, &old, &a), TDX_TD_NON_DEBUG);
	CHECK_EQ(old, 0);
	/* refused before the GPA is even looked at, and R8 is cleared */
	CHECK_EQ(fx_call(&t.f, 0, TDH_MEM_WR_LEAF, t.gpa + 1, t.td.tdr, 0x55, 0, &r), TDX_TD_NON_DEBUG);
	CHECK_EQ(r.r[TDX_REG_R8], 0);
	/* the page is untouched: a debug-off TD's memory never leaves the module in plaintext */
	REQUIRE_EQ(tdh_mr_extend(t.f.h, 0, t.td.tdr, t.gpa, &a), TDX_SUCCESS);
	fx_destroy(&t.f);
}

TEST(mem_wr_then_rd_round_trips_in_a_debug_td)
{
	struct dbg_td t;
	struct tdx_module_args a;
	uint8_t host_view[4096];
	uint64_t v = 0, old = 0;
	REQUIRE(dbg_setup(&t, TD_ATTRIBUTES_DEBUG_MASK));
	/* what PAGE.ADD copied in, read through the TD's key */
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa + 64, &v, &a), TDX_SUCCESS);
	CHECK_EQ(v, qword_of(t.data, 64));
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa + 4088, 0x0123456789abcdefull, &old, &a), TDX_SUCCESS);
	CHECK_EQ(old, qword_of(t.data, 4088));
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa + 4088, &v, &a), TDX_SUCCESS);
	CHECK_EQ(v, 0x0123456789abcdefull);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa + 4088, 7, &old, &a), TDX_SUCCESS);
	CHECK_EQ(old, 0x0123456789abcdefull);
	/* the host's own read of the same page is ciphertext, and does not poison it */
	REQUIRE(plat_host_read(t.f.p, t.page, host_view, sizeof(host_view)) == 0);
	CHECK(qword_of(host_view, 4088) != 7);
	CHECK(memcmp(host_view, t.data, 4088) != 0);
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa + 4088, &v, &a), TDX_SUCCESS);
	CHECK_EQ(v, 7);
	fx_destroy(&t.f);
}

TEST(mem_rd_wr_gpa_and_walk_errors)
{
	struct dbg_td t;
	struct tdx_module_args a;
	uint64_t v, old, aug = 0;
	REQUIRE(dbg_setup(&t, TD_ATTRIBUTES_DEBUG_MASK));
	/* 8-byte aligned private GPAs */
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa + 4, &v, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa + 1, 0, &old, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa | (1ull << 47), &v, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa | (1ull << 52), 0, &old, &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, 0);
	CHECK_EQ(a.rdx, 0);
	/* nothing mapped: the entry where the walk stopped */
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa + 4096, &v, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, SVE);
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_FREE));
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, 1ull << 39, 0, &old, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rdx, ARCH_INFO(3, PUB_FREE));
	/* a PENDING page (AUG, not accepted) has no permissions: not present either */
	REQUIRE_EQ(tdh_mem_page_aug(t.f.h, 0, t.td.tdr, t.gpa + 8192, 0, aug = fx_page(&t.f), &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa + 8192, &v, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	CHECK_EQ(a.rcx, PENDING_4K(aug));
	CHECK_EQ(a.rdx, ARCH_INFO(0, PUB_PENDING));
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa + 8192, 0, &old, &a), TDX_EPT_ENTRY_NOT_PRESENT + OPERAND_ID_RCX);
	fx_destroy(&t.f);
}

TEST(mem_rd_wr_tdr_and_state_checks)
{
	struct dbg_td t;
	struct tdx_module_args a;
	uint64_t v, old;
	REQUIRE(dbg_setup(&t, TD_ATTRIBUTES_DEBUG_MASK));
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr + 8, t.gpa, &v, &a), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.page, t.gpa, 0, &old, &a), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, 3 * GiB, t.gpa, &v, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RDX);
	REQUIRE(module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, true) == 0);
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa, &v, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa, 0, &old, &a), TDX_OPERAND_BUSY + OPERAND_ID_RDX);
	module_debug_lock(t.f.p, MODULE_DEBUG_PAMT_ENTRY, t.td.tdr, false);
	/* in teardown the keys are gone, before the DEBUG check */
	REQUIRE_EQ(tdh_mng_vpflushdone(t.f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa, &v, &a), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(tdh_mem_wr(t.f.h, 0, t.td.tdr, t.gpa, 0, &old, &a), TDX_TD_KEYS_NOT_CONFIGURED);
	fx_destroy(&t.f);
}

TEST(mem_rd_wr_need_an_initialised_td)
{
	struct fx f;
	struct fx_td td;
	struct tdx_module_args a;
	uint64_t v, old;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	CHECK_EQ(tdh_mem_rd(f.h, 0, td.tdr, 0, &v, &a), TDX_OP_STATE_INCORRECT);
	CHECK_EQ(tdh_mem_wr(f.h, 0, td.tdr, 0, 0, &old, &a), TDX_OP_STATE_INCORRECT);
	fx_destroy(&f);
}

/* A host write to the page poisons it; the next debug access is a machine check. */
TEST(mem_rd_of_a_poisoned_page_is_a_machine_check)
{
	struct dbg_td t;
	struct tdx_module_args a;
	uint64_t v, junk = 0;
	REQUIRE(dbg_setup(&t, TD_ATTRIBUTES_DEBUG_MASK));
	REQUIRE(plat_host_write(t.f.p, t.page + 128, &junk, sizeof(junk)) == 0);
	CHECK_EQ(tdh_mem_rd(t.f.h, 0, t.td.tdr, t.gpa, &v, &a), TDX_SEAMCALL_VMFAILINVALID);
	CHECK_EQ(plat_mce_count(t.f.p, NULL), 1);
	fx_destroy(&t.f);
}
