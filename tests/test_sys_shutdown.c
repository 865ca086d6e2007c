/* TDH.SYS.SHUTDOWN and TDH.SYS.LP.SHUTDOWN. */
#include "fixture.h"

TEST(shutdown_needs_ready_and_valid_hv)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_SHUTDOWN_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_LP_SHUTDOWN_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	REQUIRE(fx_ready(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_SHUTDOWN_LEAF, 1, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, true) == 0);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_SHUTDOWN_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_BUSY);
	module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, false);
	fx_destroy(&f);
}

TEST(shutdown_stops_everything_but_lp_shutdown)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_ready(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_SHUTDOWN_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_RD_LEAF, 0, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, 0, 0, NULL), TDX_SYS_SHUTDOWN);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_SHUTDOWN);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_TDMR_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_SHUTDOWN);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_SHUTDOWN_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_SHUTDOWN);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_LP_SHUTDOWN_LEAF, 0, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}
