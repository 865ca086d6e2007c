/* The module's virtual APIC through the guest-engine interface (struct plat_guest_mem):
 * posted-interrupt processing at TDH.VP.ENTER and in intr_pending(), delivery order by
 * priority class, TPR masking, EOI, SELF_IPI, the x2APIC MSRs the CPU virtualizes and the #GP
 * convention, VCPU_STATE_DETAILS, and a sender posting while the guest takes interrupts. */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "fixture.h"
#include "td_exit_state.h"
#include "x2apic.h"

#define GPR_RAX 0
#define GPR_RCX 1
#define PINBASED_POSTED_INTERRUPTS (UINT64_C(1) << 7)
#define NV 0xF2u
#define MAX_LOG 64

struct vguest {
	unsigned runs;
	void (*step)(struct vguest *g, const struct plat_guest_mem *m);
	int log[MAX_LOG]; /* what the step recorded, in order */
	unsigned n;
	uint64_t val[MAX_LOG];
	unsigned nval;
	/* concurrent test */
	uint64_t taken, target;
};

static void logi(struct vguest *g, int v)
{
	if (g->n < MAX_LOG)
		g->log[g->n++] = v;
}

static uint64_t msr(const struct plat_guest_mem *m, uint32_t index, bool write, uint64_t v, bool *handled)
{
	*handled = m->apic_msr(m->ctx, index, write, &v);
	return v;
}

static void vg_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		   const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct vguest *g = ctx;

	(void)p, (void)lp, (void)tag;
	g->runs++;
	if (g->step)
		g->step(g, mem);
	r->gpr[GPR_RAX] = TDG_VP_VMCALL_LEAF;
	r->gpr[GPR_RCX] = 0;
	r->gpr[10] = 0, r->gpr[11] = 0x10;
	ex->reason = VMEXIT_REASON_TDCALL;
	ex->instr_len = 4;
}

static const struct plat_guest_engine vg_engine = { vg_run };

/* The host's part: a PID page, then what KVM writes at vCPU init. */
static bool setup_pid(struct fx *f, struct fx_td1 *t, uint64_t *pid, bool enable)
{
	uint64_t old;

	*pid = fx_page(f);
	if (!*pid || tdh_vp_wr(f->h, 0, t->vp[0], MD_TD_VMCS_FIELDS_POSTED_INTERRUPT_NOTIFICATION_VECTOR_FIELD_ID, NV,
			       0xFFFF, &old) ||
	    tdh_vp_wr(f->h, 0, t->vp[0], MD_TD_VMCS_FIELDS_POSTED_INTERRUPT_DESCRIPTOR_ADDRESS_FIELD_ID, *pid, ~UINT64_C(0),
		      &old))
		return false;
	return !enable || !tdh_vp_wr(f->h, 0, t->vp[0], MD_TD_VMCS_FIELDS_PIN_BASED_VM_EXECTION_CONTROLS_FIELD_ID,
				     PINBASED_POSTED_INTERRUPTS, PINBASED_POSTED_INTERRUPTS, &old);
}

/* What KVM's delivery does: PIR bit, then ON. */
static void post(struct fx *f, uint64_t pid, unsigned vector)
{
	uint64_t old;

	plat_shared_atomic64(f->p, pid + 8u * (vector / 64u), PLAT_ATOMIC_OR, UINT64_C(1) << (vector % 64u), &old);
	plat_shared_atomic64(f->p, pid + PID_CTRL_OFFSET, PLAT_ATOMIC_OR, PID_ON, &old);
}

static uint64_t pid_word(struct fx *f, uint64_t pid, unsigned off)
{
	uint64_t v = 0;

	plat_shared_atomic64(f->p, pid + off, PLAT_ATOMIC_LOAD, 0, &v);
	return v;
}

static uint64_t enter(struct fx *f, struct fx_td1 *t)
{
	struct tdx_regs io = { { 0 } };

	io.r[TDX_REG_RCX] = t->vp[0];
	return tdh_vp_enter(f->h, 0, &io);
}

static void ack(const struct plat_guest_mem *m, int v)
{
	m->intr_ack(m->ctx, v);
}

static int pending(const struct plat_guest_mem *m)
{
	return m->intr_pending(m->ctx);
}

/* run 1: 0x31 and 0x52 were posted before the entry. */
static void step_order(struct vguest *g, const struct plat_guest_mem *m)
{
	bool h;

	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_IRR) + 1, false, 0, &h); /* 0x20..0x3F */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_IRR) + 2, false, 0, &h); /* 0x40..0x5F */
	logi(g, pending(m));                                                    /* 0x52 */
	ack(m, 0x52);
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_ISR) + 2, false, 0, &h);
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_PPR), false, 0, &h);    /* 0x50 */
	logi(g, pending(m));                                                    /* -1: 0x31 is below */
	ack(m, 0x99);                                                           /* not requested: ignored */
	msr(m, X2APIC_MSR(APIC_REG_EOI), true, 0, &h);
	logi(g, h);
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_ISR) + 2, false, 0, &h); /* 0 */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_ISR) + 4, false, 0, &h); /* 0: 0x99 never in service */
	logi(g, pending(m));                                                    /* 0x31 */
	msr(m, X2APIC_MSR(APIC_REG_TPR), true, 0x40, &h);                       /* masks class 3 */
	logi(g, pending(m));                                                    /* -1 */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_TPR), false, 0, &h);
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_PPR), false, 0, &h);
	msr(m, X2APIC_MSR(APIC_REG_TPR), true, 0x20, &h);
	logi(g, pending(m));                                                    /* 0x31 */
	ack(m, 0x31);
	msr(m, X2APIC_MSR(APIC_REG_SELF_IPI), true, 0x61, &h);
	logi(g, h);
	logi(g, pending(m));                                                    /* 0x61 nests above 0x31 */
	ack(m, 0x61);
	msr(m, X2APIC_MSR(APIC_REG_EOI), true, 0, &h);                          /* retires 0x61 */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_PPR), false, 0, &h);    /* 0x30: 0x31 in service */
	msr(m, X2APIC_MSR(APIC_REG_EOI), true, 0, &h);                          /* retires 0x31 */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_PPR), false, 0, &h);    /* 0x20: the TPR */
	msr(m, X2APIC_MSR(APIC_REG_SELF_IPI), true, 0x70, &h);                  /* left pending at exit */
}

/* The #GP convention and the MSRs that are not the CPU's to virtualize. */
static void step_faults(struct vguest *g, const struct plat_guest_mem *m)
{
	bool h;

	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_EOI), true, 1, &h);       /* GP */
	logi(g, h);
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_TPR), true, 0x100, &h);   /* GP */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_SELF_IPI), true, UINT64_C(1) << 32, &h); /* GP */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_EOI), false, 0, &h);      /* GP: write-only */
	g->val[g->nval++] = msr(m, X2APIC_MSR(APIC_REG_SELF_IPI), false, 0, &h); /* GP */
	msr(m, X2APIC_MSR(APIC_REG_ID), false, 0, &h);
	logi(g, h); /* false: KVM's */
	msr(m, X2APIC_MSR(APIC_REG_ICR), true, 0x30, &h);
	logi(g, h);
	msr(m, X2APIC_MSR(APIC_REG_PPR), true, 0, &h); /* a read-only register's write: VM exit */
	logi(g, h);
	msr(m, X2APIC_MSR(APIC_REG_IRR) + 8, false, 0, &h); /* 828H is the ESR */
	logi(g, h);
	msr(m, 0x10, false, 0, &h); /* not an APIC MSR at all */
	logi(g, h);
	logi(g, pending(m)); /* nothing changed by the refused accesses: 0x70 from run 1 */
	ack(m, 0x70);
	msr(m, X2APIC_MSR(APIC_REG_EOI), true, 0, &h);
}

TEST(td_vapic_posted_priority_tpr_eoi_self_ipi)
{
	struct fx f;
	struct fx_td1 t;
	struct vguest g = { .step = step_order };
	uint64_t pid, details;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	REQUIRE(setup_pid(&f, &t, &pid, true));
	plat_set_guest_engine(f.p, &vg_engine, &g);
	post(&f, pid, 0x31);
	post(&f, pid, 0x52);
	REQUIRE_EQ(enter(&f, &t), VMEXIT_REASON_TDCALL);
	/* the entry took the PIR: ON and every PIR word are clear again */
	CHECK_EQ(pid_word(&f, pid, PID_CTRL_OFFSET) & PID_ON, 0u);
	for (unsigned w = 0; w < PID_PIR_WORDS; w++)
		CHECK_EQ(pid_word(&f, pid, 8u * w), 0u);
	REQUIRE_EQ(g.n, 8u);
	CHECK_EQ(g.val[0], UINT32_C(1) << (0x31 - 0x20));
	CHECK_EQ(g.val[1], UINT32_C(1) << (0x52 - 0x40));
	CHECK_EQ(g.log[0], 0x52);
	CHECK_EQ(g.val[2], UINT32_C(1) << (0x52 - 0x40));
	CHECK_EQ(g.val[3], 0x50u);
	CHECK_EQ(g.log[1], -1);
	CHECK_EQ(g.log[2], 1);
	CHECK_EQ(g.val[4], 0u);
	CHECK_EQ(g.val[5], 0u);
	CHECK_EQ(g.log[3], 0x31);
	CHECK_EQ(g.log[4], -1);
	CHECK_EQ(g.val[6], 0x40u);
	CHECK_EQ(g.val[7], 0x40u);
	CHECK_EQ(g.log[5], 0x31);
	CHECK_EQ(g.log[6], 1);
	CHECK_EQ(g.log[7], 0x61);
	CHECK_EQ(g.val[8], 0x30u);
	CHECK_EQ(g.val[9], 0x20u);
	/* outside the TD, the host sees the pending 0x70 (RVI above PPR) */
	REQUIRE_EQ(tdh_vp_rd(f.h, 0, t.vp[0], MD_TDVPS_FIELDS_VCPU_STATE_DETAILS_FIELD_ID, &details), TDX_SUCCESS);
	CHECK_EQ(details & 1, 1u);

	g = (struct vguest){ .step = step_faults };
	REQUIRE_EQ(enter(&f, &t), VMEXIT_REASON_TDCALL);
	REQUIRE_EQ(g.n, 7u);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(g.val[i], PLAT_APIC_MSR_GP);
	CHECK_EQ(g.log[0], 1);
	CHECK_EQ(g.log[1], 0);
	CHECK_EQ(g.log[2], 0);
	CHECK_EQ(g.log[3], 0);
	CHECK_EQ(g.log[4], 0);
	CHECK_EQ(g.log[5], 0);
	CHECK_EQ(g.log[6], 0x70);
	REQUIRE_EQ(tdh_vp_rd(f.h, 0, t.vp[0], MD_TDVPS_FIELDS_VCPU_STATE_DETAILS_FIELD_ID, &details), TDX_SUCCESS);
	CHECK_EQ(details & 1, 0u);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

static void step_peek(struct vguest *g, const struct plat_guest_mem *m)
{
	logi(g, pending(m));
}

/* Without the pin-based "process posted interrupts" control the PID is not the CPU's. */
TEST(td_vapic_posted_needs_pinbased_control)
{
	struct fx f;
	struct fx_td1 t;
	struct vguest g = { .step = step_peek };
	uint64_t pid, old;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	REQUIRE(setup_pid(&f, &t, &pid, false));
	plat_set_guest_engine(f.p, &vg_engine, &g);
	post(&f, pid, 0x40);
	REQUIRE_EQ(enter(&f, &t), VMEXIT_REASON_TDCALL);
	CHECK_EQ(g.log[0], -1);
	CHECK_EQ(pid_word(&f, pid, PID_CTRL_OFFSET) & PID_ON, PID_ON);
	REQUIRE_EQ(tdh_vp_wr(f.h, 0, t.vp[0], MD_TD_VMCS_FIELDS_PIN_BASED_VM_EXECTION_CONTROLS_FIELD_ID,
			     PINBASED_POSTED_INTERRUPTS, PINBASED_POSTED_INTERRUPTS, &old), TDX_SUCCESS);
	REQUIRE_EQ(enter(&f, &t), VMEXIT_REASON_TDCALL);
	CHECK_EQ(g.log[1], 0x40);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

/* A sender thread posts while the guest takes and retires interrupts: every post is
 * delivered once (the same vector may merge while it is still requested, as on hardware, so
 * the sender waits for each to be taken before posting it again). */
struct sender {
	struct fx *f;
	uint64_t pid;
	unsigned count;
	uint64_t *taken;
};

static void *send_loop(void *arg)
{
	struct sender *s = arg;

	for (unsigned i = 0; i < s->count; i++) {
		while (__atomic_load_n(s->taken, __ATOMIC_ACQUIRE) < i)
			sched_yield();
		post(s->f, s->pid, 0x40 + (i % 0x80));
	}
	return NULL;
}

static void step_take_all(struct vguest *g, const struct plat_guest_mem *m)
{
	bool h;

	while (__atomic_load_n(&g->taken, __ATOMIC_ACQUIRE) < g->target) {
		int v = pending(m);
		if (v < 0) {
			sched_yield();
			continue;
		}
		ack(m, v);
		msr(m, X2APIC_MSR(APIC_REG_EOI), true, 0, &h);
		__atomic_fetch_add(&g->taken, 1, __ATOMIC_RELEASE);
	}
}

TEST(concurrent_vapic_posting)
{
	struct fx f;
	struct fx_td1 t;
	struct vguest g = { .step = step_take_all, .target = 500 };
	struct sender s;
	pthread_t th;
	uint64_t pid;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	REQUIRE(setup_pid(&f, &t, &pid, true));
	plat_set_guest_engine(f.p, &vg_engine, &g);
	s = (struct sender){ &f, pid, 500, &g.taken };
	REQUIRE_EQ(pthread_create(&th, NULL, send_loop, &s), 0);
	CHECK_EQ(enter(&f, &t), VMEXIT_REASON_TDCALL);
	pthread_join(th, NULL);
	CHECK_EQ(g.taken, 500u);
	CHECK_EQ(pid_word(&f, pid, PID_CTRL_OFFSET) & PID_ON, 0u);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}
