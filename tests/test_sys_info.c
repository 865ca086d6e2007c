/* TDH.SYS.INFO: TDSYSINFO_STRUCT and the CMR table. */
#include "fixture.h"

static void init_lp0(struct fx *f)
{
	fx_call(f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL);
	fx_call(f, 0, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL);
}

TEST(sys_info_requires_lp_init)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_INFO_LEAF, 0, 1024, 0, 32, NULL), TDX_SYS_LP_INIT_NOT_DONE);
	fx_destroy(&f);
}

TEST(sys_info_operand_checks)
{
	struct fx f;
	uint64_t info, cmr, priv;
	REQUIRE(fx_create(&f));
	init_lp0(&f);
	info = host_alloc_phys(f.h, 1024, 1024, 0);
	cmr = host_alloc_phys(f.h, 512, 512, 0);
	priv = info | ((uint64_t)f.h->global_keyid << plat_hkid_shift(f.p));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INFO_LEAF, info + 512, 1024, cmr, 32, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INFO_LEAF, priv, 1024, cmr, 32, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INFO_LEAF, info, 1023, cmr, 32, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INFO_LEAF, info, 1024, cmr + 256, 32, NULL), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INFO_LEAF, info, 1024, cmr, 31, NULL), TDX_OPERAND_INVALID + OPERAND_ID_R9);
	fx_destroy(&f);
}

TEST(sys_info_contents)
{
	struct fx f;
	struct tdx_regs r;
	struct td_sys_info si;
	struct cmr_info_entry cmrs[MAX_CMR];
	uint64_t info, cmr;
	REQUIRE(fx_create(&f));
	init_lp0(&f);
	info = host_alloc_phys(f.h, 1024, 1024, 0);
	cmr = host_alloc_phys(f.h, 512, 512, 0);
	REQUIRE_EQ(fx_call(&f, 0, TDH_SYS_INFO_LEAF, info, 4096, cmr, 64, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_RDX], 1024);
	CHECK_EQ(r.r[TDX_REG_R9], 32);
	plat_host_read(f.p, info, &si, sizeof(si));
	plat_host_read(f.p, cmr, cmrs, sizeof(cmrs));
	CHECK_EQ(si.vendor_id, 0x8086);
	CHECK_EQ(si.major_version, 1);
	CHECK_EQ(si.minor_version, 5);
	CHECK_EQ(si.sys_rd, 1);
	CHECK_EQ(si.max_tdmrs, 64);
	CHECK_EQ(si.max_reserved_per_tdmr, 16);
	CHECK_EQ(si.pamt_entry_size, 16);
	CHECK_EQ(si.tdcs_base_size, 0x6000);
	CHECK_EQ(si.attributes_fixed0, 0x8000000070000001ull);
	CHECK_EQ(si.xfam_fixed1, 3);
	CHECK_EQ(si.num_cpuid_config, 12);
	CHECK_EQ(si.cpuid_config_list[0].leaf, 1);
	CHECK_EQ(si.cpuid_config_list[0].sub_leaf, 0xffffffff);
	/* config_direct bits are always reported */
	CHECK_EQ(si.cpuid_config_list[0].eax & cpuid_tables_tdx_1_5_01.configurable[0].config_direct.eax,
		 cpuid_tables_tdx_1_5_01.configurable[0].config_direct.eax);
	CHECK_EQ(cmrs[0].cmr_base, plat_config(f.p)->cmr[0].base);
	CHECK_EQ(cmrs[0].cmr_size, plat_config(f.p)->cmr[0].size);
	CHECK_EQ(cmrs[31].cmr_size, 0);
	fx_destroy(&f);
}
