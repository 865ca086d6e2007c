/* TDH.SYS.KEY.CONFIG: once per package; the last package makes the module SYS_READY. */
#include "fixture.h"

TEST(key_config_before_config)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_sys_and_lp_init(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_KEY_CONFIG_NOT_PENDING);
	fx_destroy(&f);
}

TEST(key_config_per_package)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_configured(&f));
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, true) == 0);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_BUSY);
	module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, false);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	CHECK(plat_keyid_programmed(f.p, 0, f.h->global_keyid));
	CHECK(!plat_keyid_programmed(f.p, 1, f.h->global_keyid));
	/* the other LP of package 0: already configured (an informational status) */
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL), TDX_KEY_CONFIGURED);
	/* not ready until every package is done */
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY);
	CHECK_EQ(fx_call(&f, 3, TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	CHECK(plat_keyid_programmed(f.p, 1, f.h->global_keyid));
	CHECK_EQ(fx_call(&f, 2, TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_KEY_CONFIG_NOT_PENDING);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, f.h->tdmrs[0].base, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}
