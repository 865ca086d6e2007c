/* SEAMCALL instruction and dispatcher: faults, leaf/version decoding, state gating. */
#include <errno.h>

#include "fixture.h"

TEST(seamcall_without_vmx_is_ud)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	plat_lp_set_vmx(f.p, 1, false);
	CHECK_EQ(fx_call(&f, 1, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SEAMCALL_UD);
	fx_destroy(&f);
}

TEST(seamcall_without_module_is_vmfailinvalid)
{
	struct plat_config cfg;
	struct sim s;
	struct tdx_regs r = { { 0 } };
	char err[128];

	fx_small_config(&cfg);
	REQUIRE(sim_create(&s, &cfg, NULL, NULL, NULL, err, sizeof(err)) == 0);
	plat_lp_set_vmx(s.plat, 0, true);
	r.r[TDX_REG_RAX] = TDH_SYS_INIT_LEAF;
	CHECK_EQ(plat_seamcall(s.plat, 0, &r), TDX_SEAMCALL_VMFAILINVALID);
	/* and the host's errno for it */
	CHECK_EQ(tdx_cpu_enable(&s.host, 0), -ENODEV);
	sim_destroy(&s);
}

TEST(seamcall_on_nonexistent_lp_is_gp)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 4096, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SEAMCALL_GP);
	fx_destroy(&f);
}

TEST(dispatch_rax_reserved_bits)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF | (1ull << 24), 0, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF | (1ull << 40), 0, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	fx_destroy(&f);
}

TEST(dispatch_version_not_supported)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_INIT_LEAF | (1ull << 16), 0, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	fx_destroy(&f);
}

TEST(dispatch_not_ready_gating)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	/* Non-SYS leaves, SYS leaves that need SYS_READY, and unknown leaf numbers. */
	CHECK_EQ(fx_call(&f, 0, TDH_MNG_CREATE_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_SHUTDOWN_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY);
	CHECK_EQ(fx_call(&f, 0, TDH_PHYMEM_PAGE_RDMD_LEAF, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY);
	CHECK_EQ(fx_call(&f, 0, 99, 0, 0, 0, 0, NULL), TDX_SYS_NOT_READY);
	fx_destroy(&f);
}

TEST(dispatch_unknown_and_unimplemented_leaves_after_ready)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_ready(&f));
	CHECK_EQ(fx_call(&f, 0, 99, 0, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(fx_call(&f, 0, 0xffff, 0, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	/* Not implemented by this module build: never reported as success. */
	CHECK_EQ(fx_call(&f, 0, TDH_EXPORT_ABORT_LEAF, 0, 0, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	fx_destroy(&f);
}
