/* TDH.SYS.TDMR.INIT and the PAMT it builds (checked through TDH.PHYMEM.PAGE.RDMD). */
#include <string.h>

#include "fixture.h"

TEST(tdmr_init_operands)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_ready(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, f.h->tdmrs[1].base + 4096, 0, 0, 0, NULL),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, f.h->tdmrs[1].base + GiB * 64, 0, 0, 0, NULL),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX); /* aligned, but no such TDMR */
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, 2 * GiB, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, f.h->tdmrs[1].base | (1ull << plat_hkid_shift(f.p)), 0, 0, 0, NULL),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_TDMR, 1, true) == 0);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, f.h->tdmrs[1].base, 0, 0, 0, NULL), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	/* other TDMRs are independent */
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, f.h->tdmrs[2].base, 0, 0, 0, NULL), TDX_SUCCESS);
	module_debug_lock(f.p, MODULE_DEBUG_TDMR, 1, false);
	fx_destroy(&f);
}

TEST(tdmr_init_progress_and_completion)
{
	struct fx f;
	struct tdx_regs r;
	uint64_t base, calls = 0, chunk = 1024 * 4096;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_ready(&f));
	base = f.h->tdmrs[1].base; /* a 1 GiB TDMR */
	REQUIRE_EQ(f.h->tdmrs[1].size, GiB);
	for (;;) {
		REQUIRE_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, base, 0, 0, 0, &r), TDX_SUCCESS);
		calls++;
		if (calls < GiB / chunk)
			CHECK_EQ(r.r[TDX_REG_RDX], base); /* rounded down to 1 GiB until the block is done */
		if (r.r[TDX_REG_RDX] >= base + GiB)
			break;
		REQUIRE(calls < 1000);
	}
	CHECK_EQ(calls, GiB / chunk);
	CHECK_EQ(r.r[TDX_REG_RDX], base + GiB);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, base, 0, 0, 0, &r), TDX_TDMR_ALREADY_INITIALIZED);
	CHECK_EQ(r.r[TDX_REG_RDX], 0);
	fx_destroy(&f);
}

TEST(tdmr_init_pamt_contents)
{
	struct fx f;
	struct tdx_module_args a;
	const struct tdx_tdmr *t;
	uint64_t pamt_pa;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	t = &f.h->tdmrs[0];
	/* a reserved page (legacy first MiB) and an ordinary page */
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 0x1000, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_RSVD);
	CHECK_EQ(a.r8, PT_4KB);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 256 * MiB, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_NDA);
	CHECK_EQ(a.rdx, 0);
	/* the PAMT itself lies in a reserved area */
	pamt_pa = t->pamt_base[0];
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, pamt_pa, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_RSVD);
	/* PAMT pages belong to the global private KeyID; the host reads only ciphertext */
	{
		unsigned keyid;
		bool poisoned;
		uint8_t buf[64], zero[64] = { 0 };
		REQUIRE(plat_page_state(f.p, pamt_pa, &keyid, &poisoned) == 0);
		CHECK_EQ(keyid, f.h->global_keyid);
		CHECK(!poisoned);
		REQUIRE(plat_host_read(f.p, pamt_pa, buf, sizeof(buf)) == 0);
		CHECK(memcmp(buf, zero, sizeof(buf)) != 0); /* entries are mostly zero in plaintext */
	}
	fx_destroy(&f);
}

TEST(tdmr_init_clears_stale_pamt_memory)
{
	struct fx f;
	struct tdx_module_args a;
	uint64_t junk[64], next = 0, page;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_sys_and_lp_init(&f));
	REQUIRE(fx_build_tdmrs(&f));
	/* The host used that memory before: its PAMT range is full of old data. */
	memset(junk, 0xff, sizeof(junk));
	page = f.h->tdmrs[1].base + 2 * 4096;
	REQUIRE(plat_host_write(f.p, f.h->tdmrs[1].pamt_base[0] + 2 * 16, junk, sizeof(junk)) == 0);
	REQUIRE(plat_host_write(f.p, f.h->tdmrs[1].pamt_base[2], junk, 16) == 0);
	REQUIRE_EQ(fx_config(&f), TDX_SUCCESS);
	REQUIRE_EQ(tdh_sys_key_config(f.h, 0), TDX_SUCCESS);
	REQUIRE_EQ(tdh_sys_key_config(f.h, 2), TDX_SUCCESS);
	do
		REQUIRE_EQ(tdh_sys_tdmr_init(f.h, 0, f.h->tdmrs[1].base, &next), TDX_SUCCESS);
	while (next < f.h->tdmrs[1].base + f.h->tdmrs[1].size);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, page, &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx, PT_NDA);
	CHECK_EQ(a.rdx, 0);
	CHECK_EQ(a.r8, PT_4KB);
	fx_destroy(&f);
}
