/* TDH.SYS.INIT: success and every failure it documents. */
#include "fixture.h"

TEST(sys_init_success_then_not_pending)
{
	struct fx f;
	struct tdx_regs r;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, &r), TDX_SUCCESS);
	CHECK_EQ(r.r[TDX_REG_RCX], 0);
	CHECK_EQ(r.r[TDX_REG_RDX], 0);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_INIT_NOT_PENDING);
	fx_destroy(&f);
}

TEST(sys_init_attributes_must_be_zero)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 1, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 1ull << 63, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* the failure left the module pending: a correct call still works */
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(sys_init_busy_when_global_lock_held)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, true) == 0);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_BUSY);
	module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, false);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(sys_init_incorrect_cpuid_value)
{
	struct fx f;
	struct tdx_regs r;
	struct cpuid_regs c;
	REQUIRE(fx_create(&f));
	/* CPUID(1).ECX bit 13 (CMPXCHG16B) must be 1 for TDX: verify_mask/value of lookup entry 0. */
	plat_cpuid(f.p, 0, 1, 0, &c);
	c.ecx &= ~(1u << 13);
	plat_cpuid_override(f.p, 0, 1, 0, &c);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, &r), TDX_INCORRECT_CPUID_VALUE);
	CHECK_EQ(r.r[TDX_REG_RCX], 1 | (0xffffffffull << 32));
	CHECK_EQ(r.r[TDX_REG_R8] & 0xffffffff, cpuid_tables_tdx_1_5_01.lookup[0].verify_mask.ecx);
	CHECK_EQ(r.r[TDX_REG_R10] & 0xffffffff, cpuid_tables_tdx_1_5_01.lookup[0].verify_value.ecx);
	fx_destroy(&f);
}

TEST(sys_init_cpuid_max_leaf_too_low)
{
	struct fx f;
	struct cpuid_regs c;
	REQUIRE(fx_create(&f));
	plat_cpuid(f.p, 0, 0, 0, &c);
	c.eax = 0x1e;
	plat_cpuid_override(f.p, 0, 0, 0, &c);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_CPUID_LEAF_NOT_SUPPORTED + 0x1f);
	fx_destroy(&f);
}

TEST(sys_init_limit_cpuid_maxval)
{
	struct fx f;
	uint64_t misc;
	REQUIRE(fx_create(&f));
	REQUIRE(plat_rdmsr(f.p, 0, MSR_IA32_MISC_ENABLE, &misc) == 0);
	plat_wrmsr(f.p, 0, MSR_IA32_MISC_ENABLE, misc | (1ull << 22));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_LIMIT_CPUID_MAXVAL_SET);
	fx_destroy(&f);
}

TEST(sys_init_too_many_hkids)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	plat_wrmsr(f.p, 0, MSR_IA32_MKTME_KEYID_PARTITIONING, (2048ull << 32) | 31);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_NUM_ACTIVATED_HKIDS_NOT_SUPPORTED + MAX_HKIDS);
	fx_destroy(&f);
}

TEST(sys_init_cmr_list_invalid)
{
	struct plat_config cfg;
	struct fx f;
	fx_small_config(&cfg);
	cfg.nr_cmrs = 2; /* descending CMRs: MCHECK would never report this */
	cfg.cmr[0] = (struct plat_range){ 4 * GiB, 1 * GiB };
	cfg.cmr[1] = (struct plat_range){ 1 * MiB, 1 * GiB };
	REQUIRE(fx_create_cfg(&f, &cfg));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_CMR_LIST_INVALID);
	fx_destroy(&f);
	fx_small_config(&cfg);
	cfg.nr_cmrs = 1;
	cfg.cmr[0] = (struct plat_range){ 1 * MiB + 8, 1 * GiB }; /* not 4K aligned */
	REQUIRE(fx_create_cfg(&f, &cfg));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_CMR_LIST_INVALID);
	fx_destroy(&f);
}
