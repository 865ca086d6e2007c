/* Randomised, seeded (reproducible) fuzzing of the SEAMCALL interface and of the e820
 * parser: hostile operands and out-of-order sequences must only ever produce
 * architectural statuses; nothing may crash (these also run under ASan/UBSan in CI). */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t pick(const uint64_t *v, unsigned n)
{
	return v[rnd() % n];
}

static bool known_status(uint64_t st)
{
	return abi_status_name(st) != NULL || st == TDX_SEAMCALL_VMFAILINVALID || st == TDX_SEAMCALL_GP ||
	       st == TDX_SEAMCALL_UD;
}

static const uint64_t sys_leaves[] = { TDH_SYS_INIT_LEAF, TDH_SYS_LP_INIT_LEAF, TDH_SYS_INFO_LEAF,
				       TDH_SYS_RD_LEAF, TDH_SYS_RDALL_LEAF, TDH_SYS_CONFIG_LEAF,
				       TDH_SYS_KEY_CONFIG_LEAF, TDH_SYS_TDMR_INIT_LEAF, TDH_SYS_LP_SHUTDOWN_LEAF,
				       TDH_SYS_SHUTDOWN_LEAF, TDH_PHYMEM_PAGE_RDMD_LEAF, TDH_MNG_CREATE_LEAF,
				       TDH_VP_ENTER_LEAF, 0x7777 };

TEST(fuzz_seamcall_sequences)
{
	unsigned unknown = 0;
	for (unsigned round = 0; round < 40; round++) {
		struct fx f;
		uint64_t vals[24];
		unsigned nv = 0;

		rng_state = 0x9e3779b97f4a7c15ull * (round + 1);
		REQUIRE(fx_create(&f));
		/* Some rounds start with a correct TDMR list in memory to reach deeper states. */
		if (round % 2 && fx_sys_and_lp_init(&f) && fx_build_tdmrs(&f)) {
			struct tdmr_info_entry e[HOST_MAX_TDMRS];
			for (unsigned i = 0; i < f.h->nr_tdmrs; i++)
				fx_tdmr_info(&f, i, &e[i]);
			vals[nv++] = fx_tdmr_array(&f, e, f.h->nr_tdmrs);
			vals[nv++] = f.h->tdmrs[0].base;
			vals[nv++] = f.h->tdmrs[1].base;
		}
		vals[nv++] = 0;
		vals[nv++] = UINT64_MAX;
		vals[nv++] = 3;
		vals[nv++] = 32;
		vals[nv] = host_alloc_phys(f.h, 4096, 4096, 0);
		vals[nv + 1] = vals[nv] + 8;
		nv += 2;
		vals[nv++] = 3 * GiB; /* MMIO hole */
		vals[nv++] = 1ull << 51;
		vals[nv++] = (uint64_t)32 << plat_hkid_shift(f.p);
		vals[nv++] = MD_SYS_FIELDS_CMR_BASE_FIELD_ID;
		vals[nv++] = MD_SYS_FIELDS_CPUID_CONFIG_VALUES_FIELD_ID + 5;
		vals[nv++] = 256 * MiB;
		for (unsigned i = 0; i < 400; i++) {
			struct tdx_regs r;
			uint64_t leaf = pick(sys_leaves, sizeof(sys_leaves) / sizeof(sys_leaves[0]));
			uint64_t st;
			if (rnd() % 16 == 0)
				leaf |= (rnd() % 4) << 16; /* versions */
			st = fx_call(&f, (unsigned)(rnd() % 4), leaf, pick(vals, nv), pick(vals, nv),
				     rnd() % 3 ? pick(vals, nv) : rnd(), pick(vals, nv), &r);
			if (!known_status(st & ~UINT64_C(0xffffffff)) && !known_status(st)) {
				if (unknown++ < 5)
					fprintf(stderr, "    unknown status %#llx from leaf %#llx\n", (unsigned long long)st,
						(unsigned long long)leaf);
			}
		}
		fx_destroy(&f);
	}
	CHECK_EQ(unknown, 0);
}

TEST(fuzz_e820_parser)
{
	static const char alphabet[] = "ram@+,KMGTreservedacpinvs0123456789x@+,";
	struct plat_config cfg;
	char spec[64], err[256];

	rng_state = 12345;
	for (unsigned i = 0; i < 20000; i++) {
		unsigned len = (unsigned)(rnd() % (sizeof(spec) - 1));
		for (unsigned k = 0; k < len; k++)
			spec[k] = alphabet[rnd() % (sizeof(alphabet) - 1)];
		spec[len] = '\0';
		plat_config_default(&cfg);
		err[0] = '\0';
		if (plat_config_parse_e820(&cfg, spec, err, sizeof(err)))
			CHECK(err[0] != '\0'); /* every rejection says why */
		else
			CHECK(cfg.nr_e820 > 0);
	}
}
