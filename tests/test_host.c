/* Host bring-up: tdx_enable() semantics, TDMR construction over e820 edge cases, errno. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

static bool fx_e820(struct fx *f, const char *spec, unsigned lps)
{
	struct plat_config cfg;
	char err[256];
	plat_config_default(&cfg);
	cfg.packages = 1;
	cfg.lps_per_package = lps;
	if (plat_config_parse_e820(&cfg, spec, err, sizeof(err)))
		return false;
	return fx_create_cfg(f, &cfg);
}

TEST(host_errno_mapping)
{
	CHECK_EQ(tdx_status_to_errno(TDX_SUCCESS), 0);
	CHECK_EQ(tdx_status_to_errno(TDX_SEAMCALL_VMFAILINVALID), -ENODEV);
	CHECK_EQ(tdx_status_to_errno(TDX_SEAMCALL_GP), -EOPNOTSUPP);
	CHECK_EQ(tdx_status_to_errno(TDX_SEAMCALL_UD), -EACCES);
	CHECK_EQ(tdx_status_to_errno(TDX_OPERAND_BUSY + OPERAND_ID_RCX), -EBUSY);
	CHECK_EQ(tdx_status_to_errno(TDX_SYS_BUSY), -EBUSY);
	CHECK_EQ(tdx_status_to_errno(TDX_RND_NO_ENTROPY), -EAGAIN);
	CHECK_EQ(tdx_status_to_errno(TDX_OPERAND_INVALID + OPERAND_ID_R8), -EIO);
	CHECK_EQ(tdx_status_to_errno(TDX_KEY_CONFIGURED), 0);
	{
		char buf[64];
		CHECK(strcmp(tdx_status_str(TDX_OPERAND_INVALID + OPERAND_ID_RCX, buf, sizeof(buf)),
			     "TDX_OPERAND_INVALID+RCX") == 0);
		CHECK(strcmp(tdx_status_str(TDX_SEAMCALL_UD, buf, sizeof(buf)), "TDX_SEAMCALL_UD") == 0);
	}
}

TEST(host_enable_once_per_lifetime)
{
	struct fx f;
	uint64_t calls;
	REQUIRE(fx_create(&f));
	CHECK_EQ(sim_tdx_bringup(&f.s), 0);
	CHECK_EQ(f.h->status, TDX_MODULE_INITIALIZED);
	calls = f.h->tdmr_init_calls;
	CHECK_EQ(calls, 4 * GiB / (4 * MiB)); /* 3 TDMRs: [0,2G), [4G,5G), [5G,6G) */
	CHECK_EQ(tdx_enable(f.h), 0); /* no-op */
	CHECK_EQ(f.h->tdmr_init_calls, calls);
	/* the PAMT is about 1/256 of the TDMRs */
	CHECK_EQ(f.h->pamt_bytes[0], 4 * GiB / 256);
	fx_destroy(&f);
}

TEST(host_enable_failure_is_final)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	REQUIRE(tdx_cpu_enable_all(f.h) == 0);
	/* make TDH.SYS.CONFIG fail: another LP holds the module's global lock */
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, true) == 0);
	CHECK_EQ(tdx_enable(f.h), -EBUSY);
	CHECK_EQ(f.h->status, TDX_MODULE_ERROR);
	CHECK(strstr(f.h->last_error, "TDX_SYS_BUSY") != NULL);
	module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, false);
	CHECK_EQ(tdx_enable(f.h), -EINVAL);
	fx_destroy(&f);
}

TEST(host_no_tdx_keyids)
{
	struct plat_config cfg;
	struct fx f;
	fx_small_config(&cfg);
	cfg.nr_tdx_keyids = 0;
	REQUIRE(fx_create_cfg(&f, &cfg));
	CHECK_EQ(tdx_cpu_enable(f.h, 0), -ENODEV);
	CHECK_EQ(tdx_enable(f.h), -ENODEV);
	fx_destroy(&f);
}

TEST(host_holes_become_reserved_areas)
{
	struct fx f;
	const struct tdx_tdmr *t;
	bool hole = false;
	REQUIRE(fx_e820(&f, "ram@0+640K,ram@1M+1023M,reserved@1G+256M,ram@1280M+768M,ram@4G+1G", 2));
	REQUIRE(sim_tdx_bringup(&f.s) == 0);
	/* Like Linux, a TDMR is never grown: [1M,1G) gives [0,1G), [1280M,2G) gives [1G,2G). */
	REQUIRE_EQ(f.h->nr_tdmrs, 3);
	t = &f.h->tdmrs[0];
	CHECK_EQ(t->base, 0);
	CHECK_EQ(t->size, GiB);
	REQUIRE(t->nr_rsvd >= 1);
	CHECK_EQ(t->rsvd[0].offset, 0); /* the legacy first MiB */
	CHECK_EQ(t->rsvd[0].size, MiB);
	t = &f.h->tdmrs[1];
	CHECK_EQ(t->base, GiB);
	for (unsigned r = 0; r < t->nr_rsvd; r++)
		hole |= t->rsvd[r].offset == 0 && t->rsvd[r].size == 256 * MiB;
	CHECK(hole);
	fx_destroy(&f);
}

TEST(host_tiny_memory)
{
	struct plat_config cfg;
	struct fx f;
	fx_small_config(&cfg);
	cfg.ram_bytes = GiB;
	plat_config_default_e820(&cfg);
	REQUIRE(fx_create_cfg(&f, &cfg));
	CHECK_EQ(sim_tdx_bringup(&f.s), 0);
	CHECK_EQ(f.h->nr_tdmrs, 1);
	fx_destroy(&f);
}

TEST(host_4tib_tdmrs_and_pamt_sizes)
{
	struct plat_config cfg;
	struct fx f;
	uint64_t tdmr_bytes = 0;
	fx_small_config(&cfg);
	cfg.ram_bytes = 4ull << 40;
	plat_config_default_e820(&cfg);
	REQUIRE(fx_create_cfg(&f, &cfg));
	REQUIRE(fx_sys_and_lp_init(&f));
	REQUIRE(fx_build_tdmrs(&f));
	for (unsigned i = 0; i < f.h->nr_tdmrs; i++) {
		const struct tdx_tdmr *t = &f.h->tdmrs[i];
		tdmr_bytes += t->size;
		CHECK_EQ(t->pamt_size[0], t->size / 4096 * 16);
		CHECK_EQ(t->pamt_size[1], (t->size / (2 * MiB) * 16 + 4095) & ~4095ull);
		CHECK_EQ(t->pamt_size[2], (t->size / GiB * 16 + 4095) & ~4095ull);
	}
	CHECK_EQ(f.h->pamt_bytes[0], tdmr_bytes / 256);
	/* nothing has touched the PAMT yet: the 16 GiB of it cost nothing */
	CHECK(plat_mem_touched_bytes(f.p) < 16 * MiB);
	fx_destroy(&f);
}

TEST(host_too_many_tdmrs)
{
	struct fx f;
	char spec[8192];
	size_t n = 0;
	/* 70 RAM ranges 2 GiB apart: each needs its own TDMR, the module allows 64 */
	n += (size_t)snprintf(spec + n, sizeof(spec) - n, "ram@1M+255M");
	for (unsigned i = 1; i < 70; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, ",ram@%uG+256M", 2 * i);
	REQUIRE(fx_e820(&f, spec, 1));
	CHECK_EQ(sim_tdx_bringup(&f.s), -ENOSPC);
	CHECK(strstr(f.h->last_error, "TDMRs") != NULL);
	CHECK_EQ(f.h->status, TDX_MODULE_ERROR);
	fx_destroy(&f);
}

TEST(host_too_many_reserved_areas)
{
	struct fx f;
	char spec[8192];
	size_t n = 0;
	/* 20 small RAM islands inside one GiB: 19+ holes exceed 16 reserved areas */
	n += (size_t)snprintf(spec + n, sizeof(spec) - n, "ram@1M+31M");
	for (unsigned i = 1; i < 20; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, ",ram@%uM+16M", 32 * i);
	n += (size_t)snprintf(spec + n, sizeof(spec) - n, ",ram@4G+1G");
	REQUIRE(fx_e820(&f, spec, 1));
	CHECK_EQ(sim_tdx_bringup(&f.s), -ENOSPC);
	CHECK(strstr(f.h->last_error, "reserved areas") != NULL);
	fx_destroy(&f);
}

TEST(host_pamt_outside_cmrs_is_rejected_by_module)
{
	struct plat_config cfg;
	struct fx f;
	/* MCHECK says only the first 3 GiB above 4G are convertible, but RAM goes further:
	 * the host builds TDMRs from e820 and the module refuses them. */
	fx_small_config(&cfg);
	cfg.nr_cmrs = 2;
	cfg.cmr[0] = (struct plat_range){ MiB, 2 * GiB - 65 * MiB };
	cfg.cmr[1] = (struct plat_range){ 4 * GiB, GiB };
	REQUIRE(fx_create_cfg(&f, &cfg));
	CHECK_EQ(sim_tdx_bringup(&f.s), -EIO);
	CHECK(strstr(f.h->last_error, "OUTSIDE_CMRS") != NULL);
	fx_destroy(&f);
}

TEST(host_status_strings_decode_tdmr_errors)
{
	char buf[128];
	CHECK(strcmp(tdx_status_str(TDX_PAMT_OVERLAP + 2 + (1 << 8), buf, sizeof(buf)),
		     "TDX_PAMT_OVERLAP (TDMR 2, PAMT 2M, with TDMR 0)") == 0);
	CHECK(strcmp(tdx_status_str(TDX_INVALID_RESERVED_IN_TDMR + 1 + (3 << 8), buf, sizeof(buf)),
		     "TDX_INVALID_RESERVED_IN_TDMR (TDMR 1, reserved area 3)") == 0);
	CHECK(strcmp(tdx_status_str(TDX_TDMR_OUTSIDE_CMRS, buf, sizeof(buf)), "TDX_TDMR_OUTSIDE_CMRS") == 0);
}
