/* TDH.SYS.LP.INIT: once per LP, only between SYS.INIT and SYS.CONFIG, consistent CPUs. */
#include "fixture.h"

TEST(lp_init_before_sys_init)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_LP_INIT_NOT_PENDING);
	fx_destroy(&f);
}

TEST(lp_init_once_per_lp)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	CHECK_EQ(fx_call(&f, 2, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	CHECK_EQ(fx_call(&f, 2, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_LP_INIT_DONE);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(lp_init_after_config_not_pending)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_ready(&f));
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_LP_INIT_NOT_PENDING);
	fx_destroy(&f);
}

TEST(lp_init_busy_when_global_lock_exclusive)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_EXCLUSIVE, 0, true) == 0);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_BUSY);
	module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_EXCLUSIVE, 0, false);
	/* LP inits share the lock with each other */
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, true) == 0);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, false);
	fx_destroy(&f);
}

TEST(lp_init_inconsistent_cpuid)
{
	struct fx f;
	struct tdx_regs r;
	struct cpuid_regs c;
	REQUIRE(fx_create(&f));
	REQUIRE_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	/* LP 3 reports a different stepping-independent feature bit (CPUID(7,0).EBX bit 9, ERMS). */
	plat_cpuid(f.p, 3, 7, 0, &c);
	c.ebx ^= 1u << 9;
	plat_cpuid_override(f.p, 3, 7, 0, &c);
	CHECK_EQ(fx_call(&f, 3, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, &r), TDX_INCONSISTENT_CPUID_FIELD);
	CHECK_EQ(r.r[TDX_REG_RCX], 7);
	CHECK(r.r[TDX_REG_RDX] != 0 || r.r[TDX_REG_R8] != 0);
	/* the LP was not initialised, others still can be */
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(lp_init_inconsistent_tsc_adjust)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	/* the host moved LP 1's TSC after TDH.SYS.INIT sampled IA32_TSC_ADJUST on LP 0 */
	plat_wrmsr(f.p, 1, MSR_IA32_TSC_ADJUST, 1000);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_INCONSISTENT_MSR + MSR_IA32_TSC_ADJUST);
	plat_wrmsr(f.p, 1, MSR_IA32_TSC_ADJUST, 0);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}
