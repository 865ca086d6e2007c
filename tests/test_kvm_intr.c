/* Interrupts for TD vCPUs through KVM_RUN and the real TDH.VP.ENTER: the posted-interrupt
 * descriptor KVM_TDX_INIT_VCPU sets up, TDVMCALL<RDMSR/WRMSR> on KVM's x2APIC (results and
 * refusals), IPIs by ICR (physical, logical, shorthands, broadcast, a software-disabled
 * target), kvm_irq_msi(), the engine kick fn, the APIC timer (one-shot, periodic,
 * TSC-deadline, masked), and HLT blocking until an IPI, an MSI or kvm_vcpu_kick() (threaded:
 * the concurrent_* tests, also run under TSan). The scripted guests take interrupts the way
 * an engine does: intr_pending(), intr_ack(), then an EOI through apic_msr(). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "kvm/kvm_internal.h"
#include "x2apic.h"

#define INVALID TDVMCALL_STATUS_INVALID_OPERAND
#define MAX_STEPS 40

enum op {
	OP_VMCALL,   /* TDVMCALL r11 (sub-function), r12, r13 */
	OP_TAKE,     /* take the pending interrupt if any (records the vector or -1), EOI */
	OP_TSC_DL,   /* WRMSR IA32_TSC_DEADLINE = guest TSC + r13 */
	OP_SLEEP_MS, /* the guest spins r13 ms */
	OP_MSI_SELF, /* the VMM sends vector r13 to this vCPU while it is inside the TD */
	OP_VSELF,    /* WRMSR SELF_IPI r13 as the CPU virtualizes it (apic_msr, no exit) */
	OP_DRAIN,    /* take whatever is pending, unrecorded */
};

struct step {
	enum op op;
	uint64_t r11, r12, r13;
};

struct vscript {
	const struct step *s;
	unsigned n, i;
	int last; /* index of the last TDVMCALL step, -1 none */
	uint64_t r10[MAX_STEPS], r11[MAX_STEPS];
	int taken[MAX_STEPS];
	unsigned ntaken;
	struct kvm_vm *vm;
};

#define RD(msr) { OP_VMCALL, EXIT_REASON_RDMSR, (msr), 0 }
#define WR(msr, v) { OP_VMCALL, EXIT_REASON_WRMSR, (msr), (v) }
#define HLT { OP_VMCALL, EXIT_REASON_HLT, 0, 0 }
#define YIELD { OP_VMCALL, EXIT_REASON_IO_INSTRUCTION, 1, 1 } /* OUT: back to userspace */
#define TAKE { OP_TAKE, 0, 0, 0 }
#define SVR_ON WR(X2APIC_MSR(APIC_REG_SVR), 0x1FF)
#define ICR(v) WR(X2APIC_MSR(APIC_REG_ICR), (v))

static void take(struct vscript *sc, const struct plat_guest_mem *m)
{
	uint64_t eoi = 0;
	int v = m ? m->intr_pending(m->ctx) : -2;

	if (v >= 0) {
		m->intr_ack(m->ctx, v);
		m->apic_msr(m->ctx, X2APIC_MSR(APIC_REG_EOI), true, &eoi);
	}
	if (sc->ntaken < MAX_STEPS)
		sc->taken[sc->ntaken++] = v;
}

static void spin_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Steps that run inside the TD; false when the script reached a TDVMCALL or its end. */
static bool local_step(struct vscript *sc, struct kvm_vcpu *v, const struct step *st)
{
	const struct plat_guest_mem *m = kvm_vcpu_script_mem(v);

	switch (st->op) {
	case OP_TAKE: take(sc, m); return true;
	case OP_SLEEP_MS: spin_ms((unsigned)st->r13); return true;
	case OP_DRAIN: {
		unsigned keep = sc->ntaken;
		do
			take(sc, m);
		while (sc->ntaken > keep && sc->taken[--sc->ntaken] >= 0);
		return true;
	}
	case OP_MSI_SELF: kvm_irq_msi(sc->vm, (uint32_t)kvm_lapic_x2apic_id(v), (uint8_t)st->r13); return true;
	case OP_VSELF: {
		uint64_t val = st->r13;
		if (m)
			m->apic_msr(m->ctx, X2APIC_MSR(APIC_REG_SELF_IPI), true, &val);
		return true;
	}
	default: return false;
	}
}

static uint64_t play(void *ctx, struct kvm_vcpu *v, struct kvm_vp_enter_args *a)
{
	struct vscript *sc = ctx;
	const struct step *st;

	if (sc->last >= 0)
		sc->r10[sc->last] = a->r10, sc->r11[sc->last] = a->r11;
	while (sc->i < sc->n && local_step(sc, v, &sc->s[sc->i]))
		sc->i++;
	if (sc->i >= sc->n)
		return EXIT_REASON_TRIPLE_FAULT;
	st = &sc->s[sc->i];
	sc->last = (int)sc->i++;
	if (st->op == OP_TSC_DL)
		*a = (struct kvm_vp_enter_args){ .r11 = EXIT_REASON_WRMSR, .r12 = MSR_IA32_TSC_DEADLINE,
						 .r13 = kvm_vm_guest_tsc(sc->vm) + st->r13 };
	else
		*a = (struct kvm_vp_enter_args){ .r11 = st->r11, .r12 = st->r12, .r13 = st->r13, .r14 = 0x80 };
	return EXIT_REASON_TDCALL;
}

static const struct kvm_engine_ops play_ops = { play };

static void script(struct vscript *sc, struct kvm_vm *vm, const struct step *s, unsigned n)
{
	memset(sc, 0, sizeof(*sc));
	sc->s = s, sc->n = n, sc->last = -1, sc->vm = vm;
}

/* A finalized TD with nr vCPUs (0..nr-1), each KVM_TDX_INIT_VCPU'd. */
static bool intr_up(struct fx_kvm *k, struct kvm_vcpu **v, unsigned nr)
{
	uint64_t hw;

	if (!fx_kvm_up(k) || !fx_kvm_init(k))
		return false;
	v[0] = k->vcpu;
	for (unsigned i = 1; i < nr; i++)
		if (kvm_create_vcpu(k->vm, i, &v[i]) || kvm_tdx_init_vcpu(v[i], 0))
			return false;
	return kvm_tdx_finalize_vm(k->vm, &hw) == 0;
}

static uint64_t pid_ctrl(struct fx_kvm *k, const struct kvm_vcpu *v)
{
	uint64_t c = 0;

	plat_shared_atomic64(k->f.p, v->pid + PID_CTRL_OFFSET, PLAT_ATOMIC_LOAD, 0, &c);
	return c;
}

/* A watchdog for tests that block: kicks the vCPU if nothing happened in 20 s, so a lost
 * wake-up fails the test instead of hanging it. */
struct watchdog {
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done, fired;
	struct kvm_vcpu *v;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&w->lock);
	while (!w->done && pthread_cond_timedwait(&w->cond, &w->lock, &ts) != ETIMEDOUT)
		;
	if (!w->done) {
		w->fired = true;
		kvm_vcpu_kick(w->v);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void watchdog_start(struct watchdog *w, struct kvm_vcpu *v)
{
	memset(w, 0, sizeof(*w));
	w->v = v;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_create(&w->th, NULL, watchdog_main, w);
}

static bool watchdog_stop(struct watchdog *w)
{
	bool fired;

	pthread_mutex_lock(&w->lock);
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->th, NULL);
	fired = w->fired;
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	return !fired;
}

TEST(kvm_intr_pid_written_at_init_vcpu)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[2];
	uint8_t pid[PID_SIZE];
	uint64_t ctrl, shadow = 0, nv = 0;

	REQUIRE(intr_up(&k, v, 2));
	for (unsigned i = 0; i < 2; i++) {
		REQUIRE(v[i]->pid != 0);
		REQUIRE_EQ(plat_host_read(k.f.p, v[i]->pid, pid, sizeof(pid)), PLAT_MEM_OK);
		memcpy(&ctrl, pid + PID_CTRL_OFFSET, sizeof(ctrl));
		CHECK_EQ(ctrl, (uint64_t)POSTED_INTR_VECTOR << PID_NV_SHIFT | (uint64_t)i << PID_NDST_SHIFT);
		/* the TD VMCS as KVM's TDH.VP.WRs left it */
		REQUIRE_EQ(tdh_vp_rd(k.f.h, v[i]->lp, v[i]->tdvpr, MD_TD_VMCS_FIELDS_POSTED_INTERRUPT_DESCRIPTOR_ADDRESS_FIELD_ID, &shadow),
			   TDX_SUCCESS);
		CHECK_EQ(shadow, v[i]->pid);
		REQUIRE_EQ(tdh_vp_rd(k.f.h, v[i]->lp, v[i]->tdvpr,
				     MD_TD_VMCS_FIELDS_POSTED_INTERRUPT_NOTIFICATION_VECTOR_FIELD_ID, &nv), TDX_SUCCESS);
		CHECK_EQ(nv, POSTED_INTR_VECTOR);
		REQUIRE_EQ(tdh_vp_rd(k.f.h, v[i]->lp, v[i]->tdvpr, MD_TD_VMCS_FIELDS_PIN_BASED_VM_EXECTION_CONTROLS_FIELD_ID, &nv),
			   TDX_SUCCESS);
		CHECK_EQ(nv & 0x80, 0x80u);
	}
	CHECK(v[0]->pid != v[1]->pid);
	fx_kvm_down(&k);
	/* every page, the PIDs included, went back */
}

static const struct step msr_steps[] = {
	RD(MSR_IA32_APIC_BASE),                       /* 0 */
	WR(MSR_IA32_APIC_BASE, 0xFEE00C00),           /* 1: read-only for a TD */
	RD(X2APIC_MSR(APIC_REG_ID)),                  /* 2 */
	RD(X2APIC_MSR(APIC_REG_VERSION)),             /* 3 */
	RD(X2APIC_MSR(APIC_REG_LDR)),                 /* 4 */
	RD(X2APIC_MSR(APIC_REG_SVR)),                 /* 5: reset 0FFH */
	RD(X2APIC_MSR(APIC_REG_LVT_TIMER)),           /* 6: masked */
	WR(X2APIC_MSR(APIC_REG_LVT_LINT0), 0x8700),   /* 7: software-disabled: stays masked */
	RD(X2APIC_MSR(APIC_REG_LVT_LINT0)),           /* 8 */
	SVR_ON,                                       /* 9 */
	RD(X2APIC_MSR(APIC_REG_SVR)),                 /* 10 */
	WR(X2APIC_MSR(APIC_REG_LVT_LINT0), 0xFFFED700), /* 11: delivery status, remote IRR, 31:17 dropped */
	RD(X2APIC_MSR(APIC_REG_LVT_LINT0)),           /* 12 */
	WR(X2APIC_MSR(APIC_REG_TDCR), 0xF),           /* 13 */
	RD(X2APIC_MSR(APIC_REG_TDCR)),                /* 14 */
	WR(X2APIC_MSR(APIC_REG_ESR), 1),              /* 15: x2APIC ESR takes only 0 */
	WR(X2APIC_MSR(APIC_REG_ID), 5),               /* 16: read-only */
	WR(X2APIC_MSR(APIC_REG_LDR), 5),              /* 17: read-only in x2APIC mode */
	RD(X2APIC_MSR(APIC_REG_TPR)),                 /* 18: the CPU's, not KVM's */
	RD(X2APIC_MSR(APIC_REG_EOI)),                 /* 19 */
	RD(X2APIC_MSR(APIC_REG_ICR) + 1),             /* 20: no ICR2 in x2APIC mode */
	RD(0x10),                                     /* 21: TSC: not KVM's to emulate for a TD */
	WR(X2APIC_MSR(APIC_REG_SVR), UINT64_C(1) << 32), /* 22: 32-bit register */
	ICR(0x2000 | 0x40),                           /* 23: reserved bit 13 */
	ICR(APIC_DEST_SELF << APIC_ICR_SHORTHAND_SHIFT | 5), /* 24: illegal vector */
	RD(X2APIC_MSR(APIC_REG_ESR)),                 /* 25: send illegal vector */
	WR(X2APIC_MSR(APIC_REG_ESR), 0),              /* 26 */
	RD(X2APIC_MSR(APIC_REG_ESR)),                 /* 27 */
	ICR(APIC_DEST_SELF << APIC_ICR_SHORTHAND_SHIFT | 0x40), /* 28 */
	RD(X2APIC_MSR(APIC_REG_ICR)),                 /* 29 */
	WR(X2APIC_MSR(APIC_REG_SELF_IPI), 0x41),      /* 30: KVM posts it too */
	TAKE,                                         /* 0x41 */
	TAKE,                                         /* 0x40 */
	TAKE,                                         /* -1 */
	{ OP_VMCALL, EXIT_REASON_RDMSR, UINT64_C(1) << 32 | 0x802, 0 }, /* 34: R12 above 32 bits */
	YIELD,                                        /* 35 */
};

TEST(kvm_intr_x2apic_msr_tdvmcalls)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[1];
	struct vscript sc;
	struct kvm_run *run;

	REQUIRE(intr_up(&k, v, 1));
	script(&sc, k.vm, msr_steps, sizeof(msr_steps) / sizeof(msr_steps[0]));
	kvm_vcpu_set_engine(v[0], &play_ops, &sc);
	run = kvm_vcpu_run_struct(v[0]);
	/* a software-disabled APIC accepts no MSI */
	CHECK_EQ(kvm_irq_msi(k.vm, 0, 0x50), 0);
	CHECK_EQ(kvm_irq_msi(k.vm, 0, 3), -EINVAL);
	REQUIRE_EQ(kvm_vcpu_run(v[0]), 0);
	REQUIRE_EQ(run->exit_reason, KVM_EXIT_IO);
	CHECK_EQ(sc.r10[0], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(sc.r11[0], APIC_DEFAULT_PHYS_BASE | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP);
	CHECK_EQ(sc.r10[1], INVALID);
	CHECK_EQ(sc.r11[2], 0u);
	CHECK_EQ(sc.r11[3], 0x01050014u);
	CHECK_EQ(sc.r11[4], 1u);
	CHECK_EQ(sc.r11[5], 0xFFu);
	CHECK_EQ(sc.r11[6], APIC_LVT_MASKED);
	CHECK_EQ(sc.r10[7], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(sc.r11[8], APIC_LVT_MASKED | 0x8700u);
	CHECK_EQ(sc.r11[10], 0x1FFu);
	CHECK_EQ(sc.r11[12], 0x8700u);
	CHECK_EQ(sc.r11[14], 0xBu);
	for (unsigned i = 15; i <= 23; i++)
		CHECK_EQ(sc.r10[i], INVALID);
	CHECK_EQ(sc.r10[24], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(sc.r11[25], APIC_ESR_SEND_ILLEGAL_VECTOR);
	CHECK_EQ(sc.r11[27], 0u);
	CHECK_EQ(sc.r11[29], APIC_DEST_SELF << APIC_ICR_SHORTHAND_SHIFT | 0x40u);
	CHECK_EQ(sc.r10[30], TDVMCALL_STATUS_SUCCESS);
	REQUIRE_EQ(sc.ntaken, 3u);
	CHECK_EQ(sc.taken[0], 0x41);
	CHECK_EQ(sc.taken[1], 0x40);
	CHECK_EQ(sc.taken[2], -1);
	CHECK_EQ(sc.r10[34], INVALID);
	/* enabled now: an MSI lands in the PID, for the next entry */
	CHECK_EQ(kvm_irq_msi(k.vm, 0, 0x50), 1);
	CHECK_EQ(pid_ctrl(&k, v[0]) & PID_ON, PID_ON);
	CHECK_EQ(kvm_irq_msi(k.vm, 7, 0x50), 0); /* no such APIC */
	REQUIRE_EQ(kvm_vcpu_run(v[0]), 0); /* the script's end: a triple fault */
	CHECK_EQ(run->exit_reason, KVM_EXIT_SHUTDOWN);
	CHECK_EQ(pid_ctrl(&k, v[0]) & PID_ON, 0u); /* the entry took the PIR */
	fx_kvm_down(&k);
}

/* vCPU 0 sends; vCPU 1 (software-disabled at first, then enabled) takes, in priority order. */
static const struct step ipi0_a[] = {
	SVR_ON,
	ICR((uint64_t)1 << X2APIC_ICR_DEST_SHIFT | 0x60), /* dropped: vCPU 1 is disabled */
	YIELD,
	ICR((uint64_t)1 << X2APIC_ICR_DEST_SHIFT | 0x50),                  /* physical */
	ICR((uint64_t)0x2 << X2APIC_ICR_DEST_SHIFT | APIC_ICR_LOGICAL | 0x71), /* logical: cluster 0, ID 1 */
	ICR(APIC_DEST_ALL_BUT_SELF << APIC_ICR_SHORTHAND_SHIFT | 0x82),
	ICR((uint64_t)X2APIC_BROADCAST << X2APIC_ICR_DEST_SHIFT | 0x93),   /* everyone, self too */
	ICR(APIC_DEST_ALL << APIC_ICR_SHORTHAND_SHIFT | 0xA4),
	ICR(4 << APIC_ICR_DELIVERY_MODE_SHIFT | (uint64_t)1 << X2APIC_ICR_DEST_SHIFT | 0xB5), /* NMI: dropped */
	TAKE, TAKE, TAKE,
	YIELD,
};
static const struct step ipi1[] = {
	SVR_ON, YIELD,
	TAKE, TAKE, TAKE, TAKE, TAKE, TAKE,
	YIELD,
};

TEST(kvm_intr_ipi_lands_in_target_at_next_entry)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[2];
	struct vscript s0, s1;

	REQUIRE(intr_up(&k, v, 2));
	script(&s0, k.vm, ipi0_a, sizeof(ipi0_a) / sizeof(ipi0_a[0]));
	script(&s1, k.vm, ipi1, sizeof(ipi1) / sizeof(ipi1[0]));
	kvm_vcpu_set_engine(v[0], &play_ops, &s0);
	kvm_vcpu_set_engine(v[1], &play_ops, &s1);
	REQUIRE_EQ(kvm_vcpu_run(v[0]), 0);
	CHECK_EQ(pid_ctrl(&k, v[1]) & PID_ON, 0u);
	REQUIRE_EQ(kvm_vcpu_run(v[1]), 0);
	REQUIRE_EQ(kvm_vcpu_run(v[0]), 0);
	CHECK_EQ(pid_ctrl(&k, v[1]) & PID_ON, PID_ON);
	REQUIRE_EQ(s0.ntaken, 3u);
	CHECK_EQ(s0.taken[0], 0xA4);
	CHECK_EQ(s0.taken[1], 0x93);
	CHECK_EQ(s0.taken[2], -1);
	REQUIRE_EQ(kvm_vcpu_run(v[1]), 0);
	REQUIRE_EQ(s1.ntaken, 6u);
	CHECK_EQ(s1.taken[0], 0xA4);
	CHECK_EQ(s1.taken[1], 0x93);
	CHECK_EQ(s1.taken[2], 0x82);
	CHECK_EQ(s1.taken[3], 0x71);
	CHECK_EQ(s1.taken[4], 0x50);
	CHECK_EQ(s1.taken[5], -1); /* neither 0x60 nor the NMI */
	fx_kvm_down(&k);
}

/* The engine kick fn: called for a vCPU inside the TD, not for one outside it. */
struct kicks {
	unsigned n, last_id;
};

static void kick_fn(void *ctx, unsigned id)
{
	struct kicks *k = ctx;

	__atomic_fetch_add(&k->n, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&k->last_id, id, __ATOMIC_SEQ_CST);
}

static const struct step kick_steps[] = {
	SVR_ON,
	{ OP_MSI_SELF, 0, 0, 0x66 },
	{ OP_MSI_SELF, 0, 0, 0x67 }, /* ON still set: no second notification */
	TAKE,
	YIELD,
	TAKE,
};

TEST(kvm_intr_engine_kick_fn)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[2];
	struct vscript sc;
	struct kicks kk = { 0, 99 };

	REQUIRE(intr_up(&k, v, 2));
	kvm_set_vcpu_kick_fn(k.vm, kick_fn, &kk);
	script(&sc, k.vm, kick_steps, sizeof(kick_steps) / sizeof(kick_steps[0]));
	kvm_vcpu_set_engine(v[1], &play_ops, &sc);
	REQUIRE_EQ(kvm_vcpu_run(v[1]), 0);
	CHECK_EQ(kk.n, 1u);
	CHECK_EQ(kk.last_id, 1u);
	CHECK_EQ(sc.taken[0], 0x67);
	CHECK_EQ(kvm_irq_msi(k.vm, 1, 0x68), 1); /* outside the TD: no kick, the entry takes it */
	CHECK_EQ(kk.n, 1u);
	REQUIRE_EQ(kvm_vcpu_run(v[1]), 0);
	REQUIRE_EQ(sc.ntaken, 2u);
	CHECK_EQ(sc.taken[1], 0x68);
	/* kvm_vcpu_kick between runs: the next KVM_RUN returns at once */
	CHECK_EQ(kvm_vcpu_kick(v[1]), 0);
	CHECK(kvm_vcpu_kick_pending(v[1]));
	CHECK_EQ(kvm_vcpu_run(v[1]), -EINTR);
	CHECK_EQ(kvm_vcpu_run_struct(v[1])->exit_reason, KVM_EXIT_INTR);
	CHECK(!kvm_vcpu_kick_pending(v[1]));
	CHECK_EQ(kk.n, 1u); /* not inside the TD: the fn is not called */
	fx_kvm_down(&k);
}

/* One-shot at 1 ms (TDCR 1011b: divide by 1, 25 MHz), periodic twice, TSC-deadline, and a
 * masked timer that fires without an interrupt. HLT waits for each. */
static const struct step timer_steps[] = {
	SVR_ON,                                         /* 0 */
	WR(X2APIC_MSR(APIC_REG_LVT_TIMER), 0x40),       /* 1 */
	WR(X2APIC_MSR(APIC_REG_TDCR), 0xB),             /* 2 */
	WR(X2APIC_MSR(APIC_REG_TMICT), 0xFFFFFFFF),     /* 3: 171 s: counting down when read */
	RD(X2APIC_MSR(APIC_REG_TMCCT)),                 /* 4 */
	WR(X2APIC_MSR(APIC_REG_TMICT), 25000),          /* 5: restarts it at 1 ms */
	HLT,                                            /* 6 */
	TAKE,
	RD(X2APIC_MSR(APIC_REG_TMCCT)),                 /* 8: expired */
	WR(X2APIC_MSR(APIC_REG_LVT_TIMER), APIC_TIMER_PERIODIC << APIC_LVT_TIMER_MODE_SHIFT | 0x41), /* 9 */
	WR(X2APIC_MSR(APIC_REG_TMICT), 2500),           /* 10: 100 us */
	HLT, TAKE, HLT, TAKE,                           /* 11-14 */
	WR(X2APIC_MSR(APIC_REG_TMICT), 0),              /* 15: stop */
	{ OP_SLEEP_MS, 0, 0, 5 },                       /* a period that fired meanwhile is pending: */
	{ OP_DRAIN, 0, 0, 0 },                          /* take it, so the next HLT waits for 0x42 */
	WR(X2APIC_MSR(APIC_REG_LVT_TIMER), APIC_TIMER_TSC_DEADLINE << APIC_LVT_TIMER_MODE_SHIFT | 0x42), /* 18 */
	WR(X2APIC_MSR(APIC_REG_TMICT), 5),              /* 19: ignored in TSC-deadline mode */
	RD(X2APIC_MSR(APIC_REG_TMICT)),                 /* 20 */
	{ OP_TSC_DL, 0, 0, 125000000 },                 /* 21: 50 ms at 2.5 GHz */
	RD(MSR_IA32_TSC_DEADLINE),                      /* 22 */
	HLT, TAKE,                                      /* 23, 24 */
	RD(MSR_IA32_TSC_DEADLINE),                      /* 25: 0 once fired */
	WR(X2APIC_MSR(APIC_REG_LVT_TIMER), APIC_LVT_MASKED | 0x43), /* 26: one-shot, masked */
	WR(X2APIC_MSR(APIC_REG_TMICT), 25),             /* 27: 1 us */
	{ OP_SLEEP_MS, 0, 0, 5 },
	TAKE,                                           /* -1 */
	RD(X2APIC_MSR(APIC_REG_TMCCT)),                 /* 30 */
	YIELD,
};

TEST(concurrent_kvm_apic_timer_fires)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[1];
	struct vscript sc;
	struct watchdog w;

	REQUIRE(intr_up(&k, v, 1));
	script(&sc, k.vm, timer_steps, sizeof(timer_steps) / sizeof(timer_steps[0]));
	kvm_vcpu_set_engine(v[0], &play_ops, &sc);
	watchdog_start(&w, v[0]);
	CHECK_EQ(kvm_vcpu_run(v[0]), 0);
	CHECK(watchdog_stop(&w));
	CHECK_EQ(kvm_vcpu_run_struct(v[0])->exit_reason, KVM_EXIT_IO);
	CHECK(sc.r11[4] > 0 && sc.r11[4] < 0xFFFFFFFFu);
	CHECK_EQ(sc.r10[6], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(sc.r11[8], 0u);
	CHECK_EQ(sc.r11[20], 0u);
	CHECK(sc.r11[22] != 0);
	CHECK_EQ(sc.r11[25], 0u);
	CHECK_EQ(sc.r11[30], 0u);
	REQUIRE_EQ(sc.ntaken, 5u);
	CHECK_EQ(sc.taken[0], 0x40);
	CHECK_EQ(sc.taken[1], 0x41);
	CHECK_EQ(sc.taken[2], 0x41);
	CHECK_EQ(sc.taken[3], 0x42);
	CHECK_EQ(sc.taken[4], -1);
	fx_kvm_down(&k);
}

/* ---- HLT blocking, two threads ------------------------------------------------------------ */
struct runner {
	struct kvm_vcpu *v;
	int ret[4];
	uint32_t exit[4];
	unsigned runs;
	unsigned done; /* runs returned (atomic) */
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	for (unsigned i = 0; i < r->runs; i++) {
		r->ret[i] = kvm_vcpu_run(r->v);
		r->exit[i] = kvm_vcpu_run_struct(r->v)->exit_reason;
		__atomic_fetch_add(&r->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The vCPU sleeps in KVM (HLT); false if it has not within 20 s. */
static bool wait_until_blocked(struct kvm_vcpu *v)
{
	for (unsigned ms = 0; ms < 20000; ms++) {
		bool w;
		pthread_mutex_lock(&v->wait_lock);
		w = v->waiting;
		pthread_mutex_unlock(&v->wait_lock);
		if (w)
			return true;
		spin_ms(1);
	}
	return false;
}

static const struct step hlt1[] = { SVR_ON, HLT, TAKE };
static const struct step send0[] = { SVR_ON, ICR((uint64_t)1 << X2APIC_ICR_DEST_SHIFT | 0x45), YIELD };

TEST(concurrent_kvm_hlt_wakes_on_ipi)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[2];
	struct vscript s0, s1;
	struct runner r1;
	struct watchdog w;
	pthread_t th;

	REQUIRE(intr_up(&k, v, 2));
	script(&s0, k.vm, send0, 3);
	script(&s1, k.vm, hlt1, 3);
	kvm_vcpu_set_engine(v[0], &play_ops, &s0);
	kvm_vcpu_set_engine(v[1], &play_ops, &s1);
	r1 = (struct runner){ .v = v[1], .runs = 1 };
	watchdog_start(&w, v[1]);
	REQUIRE_EQ(pthread_create(&th, NULL, run_thread, &r1), 0);
	CHECK(wait_until_blocked(v[1])); /* vCPU 1 sleeps in HLT inside KVM_RUN */
	CHECK_EQ(kvm_vcpu_run(v[0]), 0);
	CHECK_EQ(kvm_vcpu_run_struct(v[0])->exit_reason, KVM_EXIT_IO);
	pthread_join(th, NULL);
	CHECK(watchdog_stop(&w));
	CHECK_EQ(r1.ret[0], 0);
	CHECK_EQ(r1.exit[0], KVM_EXIT_SHUTDOWN); /* its script ran on to the end */
	CHECK_EQ(s1.r10[1], TDVMCALL_STATUS_SUCCESS);
	REQUIRE_EQ(s1.ntaken, 1u);
	CHECK_EQ(s1.taken[0], 0x45);
	fx_kvm_down(&k);
}

/* A kick ends the KVM_RUN with -EINTR; the vCPU stays halted and the next KVM_RUN sleeps
 * again until an MSI. An HLT with interrupts blocked (R12 = 1) also sleeps. */
static const struct step hlt_kick[] = { SVR_ON, { OP_VMCALL, EXIT_REASON_HLT, 1, 0 }, TAKE };

TEST(concurrent_kvm_hlt_kick_then_msi)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[1];
	struct vscript sc;
	struct runner r = { 0 };
	struct watchdog w;
	pthread_t th;

	REQUIRE(intr_up(&k, v, 1));
	script(&sc, k.vm, hlt_kick, 3);
	kvm_vcpu_set_engine(v[0], &play_ops, &sc);
	r = (struct runner){ .v = v[0], .runs = 1 };
	REQUIRE_EQ(pthread_create(&th, NULL, run_thread, &r), 0);
	CHECK(wait_until_blocked(v[0]));
	CHECK_EQ(kvm_vcpu_kick(v[0]), 0);
	pthread_join(th, NULL);
	CHECK_EQ(r.ret[0], -EINTR);
	CHECK_EQ(r.exit[0], KVM_EXIT_INTR);
	CHECK_EQ(sc.ntaken, 0u);

	watchdog_start(&w, v[0]);
	REQUIRE_EQ(pthread_create(&th, NULL, run_thread, &r), 0);
	CHECK(wait_until_blocked(v[0])); /* halted still: the new KVM_RUN sleeps without entering */
	CHECK_EQ(kvm_irq_msi(k.vm, 0, 0x58), 1);
	pthread_join(th, NULL);
	CHECK(watchdog_stop(&w));
	CHECK_EQ(r.ret[0], 0);
	CHECK_EQ(r.exit[0], KVM_EXIT_SHUTDOWN);
	REQUIRE_EQ(sc.ntaken, 1u);
	CHECK_EQ(sc.taken[0], 0x58);
	fx_kvm_down(&k);
}

/* A virtual interrupt already in the module's vAPIC (RVI above PPR, VCPU_STATE_DETAILS.VMXIP)
 * ends an HLT with interrupts enabled at once; with interrupts blocked (R12 = 1) only the PID
 * counts, so the vCPU sleeps (here until the kick). */
static const struct step vmxip_steps[] = {
	SVR_ON, { OP_VSELF, 0, 0, 0x5A }, HLT, TAKE,
	{ OP_VSELF, 0, 0, 0x5B }, { OP_VMCALL, EXIT_REASON_HLT, 1, 0 }, TAKE,
};

TEST(concurrent_kvm_hlt_sees_module_pending_interrupt)
{
	struct fx_kvm k;
	struct kvm_vcpu *v[1];
	struct vscript sc;
	struct runner r;
	struct watchdog w;
	pthread_t th;

	REQUIRE(intr_up(&k, v, 1));
	script(&sc, k.vm, vmxip_steps, sizeof(vmxip_steps) / sizeof(vmxip_steps[0]));
	kvm_vcpu_set_engine(v[0], &play_ops, &sc);
	r = (struct runner){ .v = v[0], .runs = 2 };
	watchdog_start(&w, v[0]);
	REQUIRE_EQ(pthread_create(&th, NULL, run_thread, &r), 0);
	CHECK(wait_until_blocked(v[0])); /* the second HLT */
	CHECK_EQ(sc.ntaken, 1u);
	CHECK_EQ(sc.taken[0], 0x5A);
	CHECK_EQ(kvm_vcpu_kick(v[0]), 0);
	/* the second KVM_RUN sleeps again; the pending 0x5B is taken once the guest is woken by
	 * something the PID carries */
	while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) < 1)
		spin_ms(1);
	CHECK(wait_until_blocked(v[0]));
	CHECK_EQ(kvm_irq_msi(k.vm, 0, 0x30), 1);
	pthread_join(th, NULL);
	CHECK(watchdog_stop(&w));
	CHECK_EQ(r.ret[0], -EINTR);
	CHECK_EQ(r.ret[1], 0);
	CHECK_EQ(r.exit[1], KVM_EXIT_SHUTDOWN);
	REQUIRE_EQ(sc.ntaken, 2u);
	CHECK_EQ(sc.taken[1], 0x5B); /* above the 0x30 the MSI posted */
	fx_kvm_down(&k);
}
