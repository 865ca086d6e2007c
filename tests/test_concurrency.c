/* Several host threads issuing SEAMCALLs on shared resources at once (run under TSan in CI).
 * Each thread owns one LP, as on real hardware. */
#include <pthread.h>
#include <sched.h>

#include "fixture.h"

struct worker {
	struct fx *f;
	unsigned lp;
	unsigned iterations;
	uint64_t bad, busy, ok;
};

static void *readers(void *arg)
{
	struct worker *w = arg;
	for (unsigned i = 0; i < w->iterations; i++) {
		struct tdx_regs r;
		struct tdx_module_args a;
		uint64_t st = fx_call(w->f, w->lp, TDH_SYS_RD_LEAF, 0, MD_SYS_FIELDS_MAX_TDMRS_FIELD_ID, 0, 0, &r);
		if (st != TDX_SUCCESS || r.r[REG_R8] != 64)
			w->bad++;
		/* everybody reads the metadata of the same pages */
		st = tdh_phymem_page_rdmd(w->f->h, w->lp, 256 * MiB + (i % 16) * 4096, &a);
		if (st != TDX_SUCCESS || a.rcx != PT_NDA)
			w->bad++;
	}
	return NULL;
}

TEST(concurrent_readers)
{
	struct fx f;
	struct worker w[4];
	pthread_t t[4];
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ &f, i, 2000, 0, 0, 0 };
		pthread_create(&t[i], NULL, readers, &w[i]);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].bad, 0);
	}
	fx_destroy(&f);
}

static void *tdmr_initer(void *arg)
{
	struct worker *w = arg;
	uint64_t base = w->f->h->tdmrs[1].base;

	for (;;) {
		struct tdx_regs r;
		uint64_t st = fx_call(w->f, w->lp, TDH_SYS_TDMR_INIT_LEAF, base, 0, 0, 0, &r);
		if (st == TDX_SUCCESS)
			w->ok++;
		else if (st == TDX_OPERAND_BUSY + OPERAND_ID_RCX)
			w->busy++;
		else if (st == TDX_TDMR_ALREADY_INITIALIZED)
			break;
		else {
			w->bad++;
			break;
		}
	}
	return NULL;
}

TEST(concurrent_tdmr_init_same_tdmr)
{
	struct fx f;
	struct worker w[4];
	pthread_t t[4];
	uint64_t ok = 0;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_ready(&f));
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ &f, i, 0, 0, 0, 0 };
		pthread_create(&t[i], NULL, tdmr_initer, &w[i]);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].bad, 0);
		ok += w[i].ok;
	}
	/* every chunk was initialised exactly once, whoever did it */
	CHECK_EQ(ok, f.h->tdmrs[1].size / (4 * MiB));
	{
		struct tdx_module_args a;
		CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, f.h->tdmrs[1].base + 4096, &a), TDX_SUCCESS);
	}
	fx_destroy(&f);
}

/* Keep calling until 100 calls got past the lock (a key generation can hold it a while). */
static void *key_configurer(void *arg)
{
	struct worker *w = arg;
	unsigned answered = 0;
	for (unsigned long i = 0; answered < 100 && i < 100000000ul; i++) {
		uint64_t st = fx_call(w->f, w->lp, TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL);
		if (st == TDX_SYS_BUSY) {
			w->busy++;
			sched_yield();
			continue;
		}
		answered++;
		if (st == TDX_SUCCESS)
			w->ok++;
		else if (st != TDX_KEY_CONFIGURED && st != TDX_SYS_KEY_CONFIG_NOT_PENDING)
			w->bad++;
	}
	if (answered < 100)
		w->bad++;
	return NULL;
}

TEST(concurrent_key_config_all_lps)
{
	struct fx f;
	struct worker w[4];
	pthread_t t[4];
	uint64_t ok = 0;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_configured(&f));
	for (unsigned i = 0; i < 4; i++) {
		w[i] = (struct worker){ &f, i, 0, 0, 0, 0 };
		pthread_create(&t[i], NULL, key_configurer, &w[i]);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].bad, 0);
		ok += w[i].ok;
	}
	if (ok != 2)
		for (unsigned i = 0; i < 4; i++)
			fprintf(stderr, "    LP%u: ok %llu busy %llu bad %llu\n", i, (unsigned long long)w[i].ok,
				(unsigned long long)w[i].busy, (unsigned long long)w[i].bad);
	CHECK_EQ(ok, 2); /* one per package, never more */
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_TDMR_INIT_LEAF, f.h->tdmrs[0].base, 0, 0, 0, NULL), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(concurrent_bringup_threads_per_lp)
{
	struct plat_config cfg;
	struct fx f;
	fx_small_config(&cfg);
	cfg.lps_per_package = 16; /* 32 LP.INIT threads */
	REQUIRE(fx_create_cfg(&f, &cfg));
	CHECK_EQ(sim_tdx_bringup(&f.s), 0);
	fx_destroy(&f);
}
