/* The in-kernel local APIC of a TD vCPU, in x2APIC mode (the only mode of a TD), for the
 * registers the CPU does not virtualize: what a TD reaches with TDG.VP.VMCALL<Instruction.RDMSR/
 * WRMSR> after the #VE of an intercepted x2APIC MSR (Linux lapic.c under tdx.c's
 * tdx_has_emulated_msr()). TPR, PPR, EOI, ISR/TMR/IRR and SELF_IPI live in the module's
 * virtual-APIC page, which KVM cannot see: reading or writing them here faults, like
 * tdx_has_emulated_msr() refusing them; SELF_IPI is the exception KVM serves by posting.
 *
 * ID is the vCPU id, LDR the x2APIC logical ID derived from it. The APIC timer counts at the
 * 25 MHz bus clock QEMU gives every TD (TDX_APIC_BUS_CYCLES_NS); one-shot and periodic run
 * on TMICT/TDCR, TSC-deadline on IA32_TSC_DEADLINE against kvm_vm_guest_tsc(). One timer
 * thread per VM sleeps until the earliest armed expiry and posts the LVT timer vector. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "kvm_internal.h"
#include "x2apic.h"

#define APIC_LVT_COMMON (APIC_LVT_MASKED | APIC_VECTOR_MASK)
#define NS_PER_SEC UINT64_C(1000000000)

static const uint32_t lvt_writable[KVM_NR_LVT] = {
	[KVM_LVT_TIMER] = APIC_LVT_COMMON | APIC_LVT_TIMER_MODE,
	[KVM_LVT_THERMAL] = APIC_LVT_COMMON | APIC_LVT_DELIVERY_MODE,
	[KVM_LVT_PERF] = APIC_LVT_COMMON | APIC_LVT_DELIVERY_MODE,
	[KVM_LVT_LINT0] = APIC_LVT_COMMON | APIC_LVT_DELIVERY_MODE | APIC_LVT_POLARITY | APIC_LVT_LEVEL,
	[KVM_LVT_LINT1] = APIC_LVT_COMMON | APIC_LVT_DELIVERY_MODE | APIC_LVT_POLARITY | APIC_LVT_LEVEL,
	[KVM_LVT_ERROR] = APIC_LVT_COMMON,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t kvm_vm_guest_tsc(const struct kvm_vm *vm)
{
	return (uint64_t)((unsigned __int128)now_ns() * vm->tsc_khz / 1000000u);
}

/* CLOCK_MONOTONIC time at which the guest TSC reaches tsc (now if it already has). */
static uint64_t tsc_to_ns(const struct kvm_vm *vm, uint64_t tsc)
{
	uint64_t now = now_ns(), cur = (uint64_t)((unsigned __int128)now * vm->tsc_khz / 1000000u);

	return tsc <= cur ? now : now + (uint64_t)((unsigned __int128)(tsc - cur) * 1000000u / vm->tsc_khz);
}

uint64_t kvm_lapic_x2apic_id(const struct kvm_vcpu *v)
{
	return v->id;
}

static uint32_t x2apic_ldr(const struct kvm_vcpu *v)
{
	return ((v->id >> 4) << 16) | (UINT32_C(1) << (v->id & 0xF));
}

bool kvm_lapic_sw_enabled(const struct kvm_vcpu *v)
{
	return __atomic_load_n(&v->apic.svr, __ATOMIC_ACQUIRE) & APIC_SVR_ENABLE;
}

/* x2APIC logical destination: same cluster (bits 31:16), a common bit in 15:0. */
bool kvm_lapic_match_logical(const struct kvm_vcpu *v, uint32_t dest)
{
	uint32_t ldr = x2apic_ldr(v);

	return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xFFFF);
}

/* Reset state (SDM "Local APIC State After Power-Up or Reset"): LVTs masked, SVR 0FFH
 * (software-disabled), timer idle. */
void kvm_lapic_reset(struct kvm_vcpu *v)
{
	struct kvm_lapic *a = &v->apic;

	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < KVM_NR_LVT; i++)
		a->lvt[i] = APIC_LVT_MASKED;
	__atomic_store_n(&a->svr, 0xFFu, __ATOMIC_RELEASE);
}

static unsigned timer_mode(const struct kvm_lapic *a)
{
	return (a->lvt[KVM_LVT_TIMER] & APIC_LVT_TIMER_MODE) >> APIC_LVT_TIMER_MODE_SHIFT;
}

/* TDCR bits 0, 1, 3 -> divide by 2, 4, ... 128, or 1 for 1011b. */
static unsigned timer_divisor(uint32_t tdcr)
{
	unsigned v = (tdcr & 3u) | ((tdcr & 8u) >> 1);

	return 1u << ((v + 1u) & 7u);
}

static uint64_t bus_ns(const struct kvm_lapic *a)
{
	return (uint64_t)TDX_APIC_BUS_CYCLES_NS * timer_divisor(a->tdcr);
}

/* ---- the timer thread ------------------------------------------------------------------ */
static void *timer_main(void *arg);

/* Called with apic_lock held whenever an expiry changes. */
static void timer_changed(struct kvm_vm *vm)
{
	if (!vm->timer_started && !vm->timer_stop)
		vm->timer_started = pthread_create(&vm->timer_thread, NULL, timer_main, vm) == 0;
	pthread_cond_signal(&vm->timer_cond);
}

static void timer_arm(struct kvm_vcpu *v, uint64_t expires, uint64_t period)
{
	v->apic.expires_ns = expires;
	v->apic.period_ns = period;
	timer_changed(v->vm);
}

/* The expiry of vCPU v's timer at now: the vector to post, or -1 when its LVT is masked. */
static int timer_expire(struct kvm_vcpu *v, uint64_t now)
{
	struct kvm_lapic *a = &v->apic;
	uint32_t lvt = a->lvt[KVM_LVT_TIMER];

	if (timer_mode(a) == APIC_TIMER_PERIODIC && a->period_ns) {
		a->expires_ns += a->period_ns;
		if (a->expires_ns <= now) /* a late thread: skip the periods it missed */
			a->expires_ns = now + a->period_ns;
	} else {
		a->expires_ns = 0;
		a->tsc_deadline = 0;
	}
	return (lvt & APIC_LVT_MASKED) ? -1 : (int)(lvt & APIC_VECTOR_MASK);
}

static void deadline_to_timespec(uint64_t ns, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ns / NS_PER_SEC);
	ts->tv_nsec = (long)(ns % NS_PER_SEC);
}

/* One pass: fire the first expired timer (returns true with the vCPU and the vector to post) or find the next
 * expiry (0 = none). */
static bool timer_scan(struct kvm_vm *vm, struct kvm_vcpu **fired, int *vector, uint64_t *next)
{
	uint64_t now = now_ns();

	*next = 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = vm->vcpus[i];
		uint64_t e = v->apic.expires_ns;
		if (!e)
			continue;
		if (e <= now) {
			*fired = v;
			*vector = timer_expire(v, now);
			return true;
		}
		if (!*next || e < *next)
			*next = e;
	}
	return false;
}

static void *timer_main(void *arg)
{
	struct kvm_vm *vm = arg;

	pthread_mutex_lock(&vm->apic_lock);
	while (!vm->timer_stop) {
		struct kvm_vcpu *v;
		int vector;
		uint64_t next;

		if (timer_scan(vm, &v, &vector, &next)) {
			pthread_mutex_unlock(&vm->apic_lock);
			if (vector >= 0)
				kvm_intr_post(v, (unsigned)vector);
			pthread_mutex_lock(&vm->apic_lock);
		} else if (next) {
			struct timespec ts;
			deadline_to_timespec(next, &ts);
			pthread_cond_timedwait(&vm->timer_cond, &vm->apic_lock, &ts);
		} else {
			pthread_cond_wait(&vm->timer_cond, &vm->apic_lock);
		}
	}
	pthread_mutex_unlock(&vm->apic_lock);
	return NULL;
}

void kvm_lapic_vm_init(struct kvm_vm *vm)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&vm->apic_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	vm->tsc_khz = KVM_TDX_DEFAULT_TSC_KHZ;
}

void kvm_lapic_vm_destroy(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->apic_lock);
	vm->timer_stop = true;
	pthread_cond_signal(&vm->timer_cond);
	pthread_mutex_unlock(&vm->apic_lock);
	if (vm->timer_started)
		pthread_join(vm->timer_thread, NULL);
	pthread_cond_destroy(&vm->timer_cond);
	pthread_mutex_destroy(&vm->apic_lock);
}

/* ---- registers (apic_lock held) ---------------------------------------------------------- */
static uint32_t tmcct(const struct kvm_lapic *a)
{
	uint64_t now = now_ns();

	if (!a->expires_ns || timer_mode(a) == APIC_TIMER_TSC_DEADLINE || a->expires_ns <= now)
		return 0;
	return (uint32_t)((a->expires_ns - now) / bus_ns(a));
}

static uint32_t version(void)
{
	return (uint32_t)(KVM_APIC_VERSION | ((KVM_APIC_NR_LVT - 1) << 16) | KVM_APIC_LVR_DIRECTED_EOI);
}

static int reg_read(const struct kvm_vcpu *v, uint32_t reg, uint64_t *val)
{
	const struct kvm_lapic *a = &v->apic;

	if (reg >= APIC_REG_LVT_TIMER && reg <= APIC_REG_LVT_ERROR) {
		*val = a->lvt[(reg - APIC_REG_LVT_TIMER) >> 4];
		return 0;
	}
	switch (reg) {
	case APIC_REG_ID: *val = kvm_lapic_x2apic_id(v); return 0;
	case APIC_REG_VERSION: *val = version(); return 0;
	case APIC_REG_LDR: *val = x2apic_ldr(v); return 0;
	case APIC_REG_SVR: *val = a->svr; return 0;
	case APIC_REG_ESR: *val = a->esr; return 0;
	case APIC_REG_ICR: *val = a->icr; return 0;
	case APIC_REG_TMICT: *val = a->tmict; return 0;
	case APIC_REG_TMCCT: *val = tmcct(a); return 0;
	case APIC_REG_TDCR: *val = a->tdcr; return 0;
	default: return 1; /* the CPU's (TPR, PPR, ISR...), write-only, or not an x2APIC register */
	}
}

static void svr_write(struct kvm_vcpu *v, uint32_t val)
{
	struct kvm_lapic *a = &v->apic;

	__atomic_store_n(&a->svr, val & (0xFFu | APIC_SVR_ENABLE | APIC_SVR_FOCUS_DISABLE | APIC_SVR_EOI_SUPPRESS),
			 __ATOMIC_RELEASE);
	if (!(val & APIC_SVR_ENABLE)) /* software disable masks every LVT entry */
		for (unsigned i = 0; i < KVM_NR_LVT; i++)
			a->lvt[i] |= APIC_LVT_MASKED;
}

/* LVT timer: a mode change stops the timer; leaving or entering TSC-deadline mode also
 * clears TMICT (apic_update_lvtt()). */
static void lvt_write(struct kvm_vcpu *v, unsigned i, uint32_t val)
{
	struct kvm_lapic *a = &v->apic;
	unsigned old_mode = timer_mode(a);

	val &= lvt_writable[i];
	if (!kvm_lapic_sw_enabled(v))
		val |= APIC_LVT_MASKED;
	if (i == KVM_LVT_TIMER && ((val & APIC_LVT_TIMER_MODE) >> APIC_LVT_TIMER_MODE_SHIFT) == 3u)
		val &= ~APIC_LVT_TIMER_MODE; /* reserved mode: KVM keeps one-shot */
	a->lvt[i] = val;
	if (i == KVM_LVT_TIMER && timer_mode(a) != old_mode) {
		if ((old_mode == APIC_TIMER_TSC_DEADLINE) != (timer_mode(a) == APIC_TIMER_TSC_DEADLINE))
			a->tmict = 0;
		a->tsc_deadline = 0;
		timer_arm(v, 0, 0);
	}
}

static void tmict_write(struct kvm_vcpu *v, uint32_t val)
{
	struct kvm_lapic *a = &v->apic;
	uint64_t period;

	if (timer_mode(a) == APIC_TIMER_TSC_DEADLINE)
		return;
	a->tmict = val;
	period = (uint64_t)val * bus_ns(a);
	timer_arm(v, val ? now_ns() + period : 0, period);
}

/* A new divisor rescales the count still to run, as KVM does. */
static void tdcr_write(struct kvm_vcpu *v, uint32_t val)
{
	struct kvm_lapic *a = &v->apic;
	unsigned old = timer_divisor(a->tdcr), div;
	uint64_t now = now_ns();

	a->tdcr = val & APIC_TDCR_MASK;
	div = timer_divisor(a->tdcr);
	if (div == old || !a->expires_ns || timer_mode(a) == APIC_TIMER_TSC_DEADLINE)
		return;
	a->period_ns = a->period_ns / old * div;
	timer_arm(v, a->expires_ns > now ? now + (a->expires_ns - now) / old * div : now, a->period_ns);
}

static int icr_write(struct kvm_vcpu *v, uint64_t val);

static int reg_write(struct kvm_vcpu *v, uint32_t reg, uint64_t val)
{
	if (reg == APIC_REG_ICR)
		return icr_write(v, val);
	if (val >> 32) /* every other x2APIC register is 32 bits wide */
		return 1;
	if (reg >= APIC_REG_LVT_TIMER && reg <= APIC_REG_LVT_ERROR) {
		lvt_write(v, (reg - APIC_REG_LVT_TIMER) >> 4, (uint32_t)val);
		return 0;
	}
	switch (reg) {
	case APIC_REG_SVR: svr_write(v, (uint32_t)val); return 0;
	case APIC_REG_ESR:
		if (val) /* x2APIC: only 0 may be written */
			return 1;
		v->apic.esr = 0;
		return 0;
	case APIC_REG_TMICT: tmict_write(v, (uint32_t)val); return 0;
	case APIC_REG_TDCR: tdcr_write(v, (uint32_t)val); return 0;
	default: return 1; /* read-only (ID, LDR, VERSION, TMCCT...), the CPU's, or none */
	}
}

/* ---- IPIs ------------------------------------------------------------------------------- */
static bool icr_targets(const struct kvm_vcpu *self, const struct kvm_vcpu *t, uint64_t icr)
{
	uint32_t dest = (uint32_t)(icr >> X2APIC_ICR_DEST_SHIFT);

	switch ((icr & APIC_ICR_SHORTHAND) >> APIC_ICR_SHORTHAND_SHIFT) {
	case APIC_DEST_SELF: return t == self;
	case APIC_DEST_ALL: return true;
	case APIC_DEST_ALL_BUT_SELF: return t != self;
	default:
		if (icr & APIC_ICR_LOGICAL)
			return kvm_lapic_match_logical(t, dest);
		return dest == X2APIC_BROADCAST || dest == kvm_lapic_x2apic_id(t);
	}
}

/* kvm_x2apic_icr_write() + kvm_apic_send_ipi(): fixed (and lowest-priority, given to the
 * first target) interrupts are posted; NMI/INIT/SIPI have no meaning for a TD and are
 * dropped. A vector below 16 is refused with ESR "send illegal vector". Called without
 * apic_lock (posting wakes other vCPUs). */
static int icr_send(struct kvm_vcpu *v, uint64_t icr)
{
	struct kvm_vm *vm = v->vm;
	unsigned dm = (unsigned)((icr & APIC_ICR_DELIVERY_MODE) >> APIC_ICR_DELIVERY_MODE_SHIFT);
	unsigned vector = (unsigned)(icr & APIC_VECTOR_MASK);

	if (dm != APIC_DM_FIXED && dm != APIC_DM_LOWEST)
		return 0;
	if (vector < 16) {
		pthread_mutex_lock(&vm->apic_lock);
		v->apic.esr |= APIC_ESR_SEND_ILLEGAL_VECTOR;
		pthread_mutex_unlock(&vm->apic_lock);
		return 0;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (icr_targets(v, vm->vcpus[i], icr) && kvm_intr_post(vm->vcpus[i], vector) && dm == APIC_DM_LOWEST)
			break;
	return 0;
}

static int icr_write(struct kvm_vcpu *v, uint64_t val)
{
	if (val & KVM_X2APIC_ICR_RESERVED_BITS)
		return 1;
	v->apic.icr = val;
	return 0;
}

/* ---- the MSR entry points ---------------------------------------------------------------- */
static bool is_x2apic(uint32_t msr)
{
	return msr >= X2APIC_MSR_BASE && msr <= X2APIC_MSR_LAST;
}

int kvm_lapic_rdmsr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val)
{
	int r;

	if (msr == MSR_IA32_APIC_BASE) {
		*val = APIC_DEFAULT_PHYS_BASE | APIC_BASE_EN | APIC_BASE_EXTD | (v->id == 0 ? APIC_BASE_BSP : 0);
		return 0;
	}
	pthread_mutex_lock(&v->vm->apic_lock);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*val = timer_mode(&v->apic) == APIC_TIMER_TSC_DEADLINE ? v->apic.tsc_deadline : 0;
		r = 0;
	} else {
		r = is_x2apic(msr) ? reg_read(v, X2APIC_REG(msr), val) : 1;
	}
	pthread_mutex_unlock(&v->vm->apic_lock);
	return r;
}

static void tsc_deadline_write(struct kvm_vcpu *v, uint64_t val)
{
	if (timer_mode(&v->apic) != APIC_TIMER_TSC_DEADLINE)
		return; /* ignored outside TSC-deadline mode */
	v->apic.tsc_deadline = val;
	timer_arm(v, val ? tsc_to_ns(v->vm, val) : 0, 0);
}

/* IA32_APIC_BASE is read-only for a TD (tdx_is_read_only_msr()): the APIC stays in x2APIC
 * mode at the architectural base. */
int kvm_lapic_wrmsr(struct kvm_vcpu *v, uint32_t msr, uint64_t val)
{
	int r = 0;

	if (msr == X2APIC_MSR(APIC_REG_SELF_IPI)) {
		if (val & ~(uint64_t)APIC_VECTOR_MASK)
			return 1;
		kvm_intr_post(v, (unsigned)val);
		return 0;
	}
	if (msr != MSR_IA32_TSC_DEADLINE && !is_x2apic(msr))
		return 1;
	pthread_mutex_lock(&v->vm->apic_lock);
	if (msr == MSR_IA32_TSC_DEADLINE)
		tsc_deadline_write(v, val);
	else
		r = reg_write(v, X2APIC_REG(msr), val);
	pthread_mutex_unlock(&v->vm->apic_lock);
	if (!r && msr == X2APIC_MSR(APIC_REG_ICR))
		return icr_send(v, val);
	return r;
}
