/* TDH.PHYMEM.PAGE.RDMD: operand checks, range, and contention on the PAMT entry. */
#include "fixture.h"

TEST(rdmd_operands_and_range)
{
	struct fx f;
	struct tdx_module_args a;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_ready(&f));
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 256 * MiB + 8, &a), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, (256 * MiB) | (1ull << plat_hkid_shift(f.p)), &a),
		 TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* not initialised yet */
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 256 * MiB, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RCX);
	/* no TDMR covers the MMIO hole */
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 3 * GiB, &a), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RCX);
	fx_destroy(&f);
}

TEST(rdmd_busy_entry)
{
	struct fx f;
	struct tdx_module_args a;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, 256 * MiB, true) == 0);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 256 * MiB, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 256 * MiB + 4096, &a), TDX_SUCCESS);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, 256 * MiB, false);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 256 * MiB, &a), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(rdmd_host_write_to_pamt_is_machine_check)
{
	struct fx f;
	struct tdx_module_args a;
	uint64_t garbage = 0x4141414141414141ull, pa;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	/* the host scribbles over the PAMT_4K entry of 256 MiB */
	pa = f.h->tdmrs[0].pamt_base[0] + (256 * MiB / 4096) * 16;
	REQUIRE(plat_host_write(f.p, pa, &garbage, sizeof(garbage)) == 0);
	CHECK_EQ(plat_mce_count(f.p, NULL), 0);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 256 * MiB, &a), TDX_SEAMCALL_VMFAILINVALID);
	CHECK_EQ(plat_mce_count(f.p, NULL), 1);
	/* SEAM is gone until reset */
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, 512 * MiB, &a), TDX_SEAMCALL_VMFAILINVALID);
	fx_destroy(&f);
}
