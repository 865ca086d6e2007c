/* Several host threads issuing SEAMCALLs on shared resources at once (run under TSan in CI).
 * Each thread owns one LP, as on real hardware. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

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
		if (st != TDX_SUCCESS || r.r[TDX_REG_R8] != 64)
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

/* A vCPU entering and leaving its TD on LP 0 while TDH.MEM.TRACK runs on LP 1: the epoch
 * refcount keeps a TRACK from overtaking a vCPU still inside the previous epoch, and every
 * entry and exit is seen exactly once. */
struct enter_track {
	struct fx *f;
	struct fx_td1 *t;
	unsigned rounds;
	_Atomic unsigned inside;
	unsigned entered, tracks_ok, tracks_busy, bad;
};

static void et_guest(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		     const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct enter_track *w = ctx;

	(void)p, (void)lp, (void)tag;
	atomic_fetch_add(&w->inside, 1);
	sched_yield(); /* let TRACK run while the vCPU is inside */
	atomic_fetch_sub(&w->inside, 1);
	r->gpr[0] = TDG_VP_VMCALL_LEAF;
	r->gpr[1] = 0;
	ex->reason = 77; /* TDCALL */
	ex->instr_len = 4;
}

static const struct plat_guest_engine et_engine = { et_guest };

static void *et_enterer(void *arg)
{
	struct enter_track *w = arg;

	for (unsigned i = 0; i < w->rounds; i++) {
		struct tdx_regs io = { { 0 } };
		io.r[TDX_REG_RCX] = w->t->vp[0];
		uint64_t st = tdh_vp_enter(w->f->h, 0, &io);
		if (st == 77)
			w->entered++;
		else if (st != (TDX_OPERAND_BUSY | OPERAND_ID_TD_EPOCH))
			w->bad++;
	}
	return NULL;
}

static void *et_tracker(void *arg)
{
	struct enter_track *w = arg;

	for (unsigned i = 0; i < w->rounds; i++) {
		uint64_t st = tdh_mem_track(w->f->h, 1, w->t->td.tdr);
		if (st == TDX_SUCCESS)
			w->tracks_ok++;
		else if (st == TDX_PREVIOUS_TLB_EPOCH_BUSY || st == (TDX_OPERAND_BUSY | OPERAND_ID_TD_EPOCH))
			w->tracks_busy++;
		else
			w->bad++;
		sched_yield();
	}
	return NULL;
}

TEST(concurrent_vp_enter_and_track)
{
	struct fx f;
	struct fx_td1 t;
	struct enter_track w = { .f = &f, .t = &t, .rounds = 300 };
	pthread_t a, b;
	uint64_t v0, v1;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	plat_set_guest_engine(f.p, &et_engine, &w);
	pthread_create(&a, NULL, et_enterer, &w);
	pthread_create(&b, NULL, et_tracker, &w);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	CHECK_EQ(w.bad, 0u);
	CHECK(w.entered > 0);
	CHECK(w.tracks_ok > 0);
	CHECK_EQ(atomic_load(&w.inside), 0u);
	/* nobody inside: both epoch counters are back to 0 */
	REQUIRE_EQ(tdh_mng_rd(f.h, 2, t.td.tdr, MD_TD_FIELDS_REFCOUNT_FIELD_ID, &v0), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_rd(f.h, 2, t.td.tdr, MD_TD_FIELDS_REFCOUNT_FIELD_ID + 1, &v1), TDX_SUCCESS);
	CHECK_EQ(v0 + v1, 0u);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}
