/* Interrupt delivery to TD vCPUs the way KVM does it for TDX (Linux vmx/posted_intr.c and
 * tdx.c): each vCPU has a posted-interrupt descriptor in host memory whose address and
 * notification vector KVM writes into the TD VMCS at INIT_VCPU; delivering a vector sets its
 * PIR bit and ON, then notifies the vCPU. The module moves PIR into the virtual APIC at the
 * next TD entry, or the engine does it at once when kicked while the vCPU is inside the TD.
 * A vCPU halted in TDVMCALL<HLT> sleeps in KVM_RUN until ON is set (or, when it halted with
 * interrupts enabled, the module reports a pending virtual interrupt in VCPU_STATE_DETAILS,
 * tdx_protected_apic_has_interrupt()), or until kvm_vcpu_kick(). The PID is touched only
 * through the platform's locked accessors. SN is never set: notifications are always sent,
 * and ON limits them to one per batch as on hardware. */
#include <errno.h>
#include <string.h>

#include "abi_metadata.h"
#include "kvm_internal.h"
#include "x2apic.h"

#define PINBASED_POSTED_INTERRUPTS (UINT64_C(1) << 7)
#define VCPU_STATE_DETAILS_VMXIP UINT64_C(1)

void kvm_intr_vcpu_create(struct kvm_vcpu *v)
{
	pthread_mutex_init(&v->wait_lock, NULL);
	pthread_cond_init(&v->wait_cond, NULL);
	kvm_lapic_reset(v);
}

static struct plat *plat_of(const struct kvm_vcpu *v)
{
	return v->vm->h->plat;
}

/* The PID page: zero, NV and NDST (the vCPU's x2APIC ID) as vmx_vcpu_pi_load() sets them. */
static int pid_alloc(struct kvm_vcpu *v)
{
	uint8_t pid[PID_SIZE] = { 0 };
	uint64_t ctrl = (uint64_t)POSTED_INTR_VECTOR << PID_NV_SHIFT | kvm_lapic_x2apic_id(v) << PID_NDST_SHIFT;

	if (!(v->pid = kvm_shared_page_alloc(v->vm->dev)))
		return -ENOMEM;
	memcpy(pid + PID_CTRL_OFFSET, &ctrl, sizeof(ctrl));
	if (plat_host_write(plat_of(v), v->pid, pid, sizeof(pid)))
		return kvm_vm_bug(v->vm, "PID write", 0);
	return 0;
}

int kvm_intr_vcpu_init(struct kvm_vcpu *v)
{
	struct kvm_vm *vm = v->vm;
	uint64_t old, st;
	int r = pid_alloc(v);

	if (r)
		return r;
	if ((st = tdh_vp_wr(vm->h, v->lp, v->tdvpr, MD_TD_VMCS_FIELDS_POSTED_INTERRUPT_NOTIFICATION_VECTOR_FIELD_ID,
			    POSTED_INTR_VECTOR, 0xFFFF, &old)) ||
	    (st = tdh_vp_wr(vm->h, v->lp, v->tdvpr, MD_TD_VMCS_FIELDS_POSTED_INTERRUPT_DESCRIPTOR_ADDRESS_FIELD_ID, v->pid,
			    ~UINT64_C(0), &old)) ||
	    (st = tdh_vp_wr(vm->h, v->lp, v->tdvpr, MD_TD_VMCS_FIELDS_PIN_BASED_VM_EXECTION_CONTROLS_FIELD_ID,
			    PINBASED_POSTED_INTERRUPTS, PINBASED_POSTED_INTERRUPTS, &old)))
		return kvm_vm_bug(vm, "TDH.VP.WR", st);
	return 0;
}

void kvm_intr_vcpu_free(struct kvm_vcpu *v)
{
	if (v->pid)
		kvm_shared_page_free(v->vm->dev, v->pid);
	v->pid = 0;
	pthread_cond_destroy(&v->wait_cond);
	pthread_mutex_destroy(&v->wait_lock);
}

static bool pid_on(const struct kvm_vcpu *v)
{
	uint64_t ctrl = 0;

	return v->pid && !plat_shared_atomic64(plat_of(v), v->pid + PID_CTRL_OFFSET, PLAT_ATOMIC_LOAD, 0, &ctrl) &&
	       (ctrl & PID_ON);
}

/* The notification: wake a halted vCPU; a vCPU inside the TD gets the engine's kick fn, so
 * the engine's next intr_pending() takes the PIR (called unlocked: it may take the engine's
 * own locks). */
static void notify(struct kvm_vcpu *v)
{
	struct kvm_vm *vm = v->vm;
	bool inside;

	pthread_mutex_lock(&v->wait_lock);
	inside = v->in_guest;
	if (v->waiting)
		pthread_cond_signal(&v->wait_cond);
	pthread_mutex_unlock(&v->wait_lock);
	if (inside && vm->kick_fn)
		vm->kick_fn(vm->kick_ctx, v->id);
}

bool kvm_intr_post(struct kvm_vcpu *v, unsigned vector)
{
	struct plat *p = plat_of(v);
	uint64_t old;

	if (!v->pid || vector > APIC_VECTOR_MASK || !kvm_lapic_sw_enabled(v))
		return false;
	if (plat_shared_atomic64(p, v->pid + 8u * (vector / 64u), PLAT_ATOMIC_OR, UINT64_C(1) << (vector % 64u), &old) ||
	    plat_shared_atomic64(p, v->pid + PID_CTRL_OFFSET, PLAT_ATOMIC_OR, PID_ON, &old))
		return false;
	if (!(old & PID_ON)) /* the first since the PIR was last taken: notify */
		notify(v);
	return true;
}

void kvm_intr_guest_enter(struct kvm_vcpu *v)
{
	pthread_mutex_lock(&v->wait_lock);
	v->in_guest = true;
	pthread_mutex_unlock(&v->wait_lock);
}

void kvm_intr_guest_exit(struct kvm_vcpu *v)
{
	pthread_mutex_lock(&v->wait_lock);
	v->in_guest = false;
	v->guest_exits++;
	pthread_cond_broadcast(&v->wait_cond);
	pthread_mutex_unlock(&v->wait_lock);
}

bool kvm_intr_take_kick(struct kvm_vcpu *v)
{
	return __atomic_exchange_n(&v->kick, false, __ATOMIC_ACQ_REL);
}

/* A virtual interrupt the module already holds (RVI above PPR), readable only while the
 * vCPU is outside the TD: only worth asking when the guest halted with interrupts enabled. */
static bool module_intr_pending(struct kvm_vcpu *v)
{
	uint64_t details = 0;

	if (v->hlt_irq_blocked)
		return false;
	return !tdh_vp_rd(v->vm->h, v->lp, v->tdvpr, MD_TDVPS_FIELDS_VCPU_STATE_DETAILS_FIELD_ID, &details) &&
	       (details & VCPU_STATE_DETAILS_VMXIP);
}

int kvm_intr_halt(struct kvm_vcpu *v)
{
	bool woken;

	if (module_intr_pending(v)) {
		v->halted = false;
		return 1;
	}
	pthread_mutex_lock(&v->wait_lock);
	while (!(woken = pid_on(v)) && !__atomic_load_n(&v->kick, __ATOMIC_ACQUIRE)) {
		v->waiting = true;
		pthread_cond_wait(&v->wait_cond, &v->wait_lock);
		v->waiting = false;
	}
	pthread_mutex_unlock(&v->wait_lock);
	if (woken) {
		v->halted = false;
		return 1;
	}
	kvm_intr_take_kick(v);
	v->run.exit_reason = KVM_EXIT_INTR;
	return -EINTR;
}

/* ---- the API ------------------------------------------------------------------------------ */
int kvm_vcpu_kick(struct kvm_vcpu *v)
{
	struct kvm_vm *vm = v->vm;
	bool inside;

	pthread_mutex_lock(&v->wait_lock);
	__atomic_store_n(&v->kick, true, __ATOMIC_RELEASE);
	if (v->waiting)
		pthread_cond_signal(&v->wait_cond);
	inside = v->in_guest;
	pthread_mutex_unlock(&v->wait_lock);
	if (inside && vm->kick_fn)
		vm->kick_fn(vm->kick_ctx, v->id);
	return 0;
}

bool kvm_vcpu_kick_pending(const struct kvm_vcpu *v)
{
	return __atomic_load_n(&v->kick, __ATOMIC_ACQUIRE);
}

void kvm_set_vcpu_kick_fn(struct kvm_vm *vm, void (*fn)(void *ctx, unsigned vcpu_id), void *ctx)
{
	vm->kick_fn = fn;
	vm->kick_ctx = ctx;
}

/* KVM_SIGNAL_MSI in x2APIC physical mode (or broadcast): a fixed interrupt. */
int kvm_irq_msi(struct kvm_vm *vm, uint32_t apic_id, uint8_t vector)
{
	int n = 0;

	if (kvm_vm_dead(vm))
		return -EIO;
	if (vector < 16)
		return -EINVAL;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = vm->vcpus[i];
		if ((apic_id == X2APIC_BROADCAST || apic_id == kvm_lapic_x2apic_id(v)) && kvm_intr_post(v, vector))
			n++;
	}
	return n;
}

void kvm_hold_vcpus_out(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->hold_lock);
	vm->enter_hold++;
	pthread_mutex_unlock(&vm->hold_lock);
}

void kvm_release_vcpus(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->hold_lock);
	if (!--vm->enter_hold)
		pthread_cond_broadcast(&vm->hold_cond);
	pthread_mutex_unlock(&vm->hold_lock);
}

void kvm_wait_vcpus_outside_guest(struct kvm_vm *vm)
{
	kvm_hold_vcpus_out(vm);
	/* kvm_make_all_cpus_request(): every kick first, then the waits, so that the vCPUs leave
	 * the guest in parallel rather than one after the other */
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		pthread_mutex_lock(&v->wait_lock);
		v->wait_kicked = v->in_guest;
		v->wait_seen = v->guest_exits;
		pthread_mutex_unlock(&v->wait_lock);
		if (v->wait_kicked && vm->kick_fn)
			vm->kick_fn(vm->kick_ctx, v->id);
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct kvm_vcpu *v = vm->vcpus[i];

		if (!v || !v->wait_kicked)
			continue;
		pthread_mutex_lock(&v->wait_lock);
		while (v->in_guest && v->guest_exits == v->wait_seen)
			pthread_cond_wait(&v->wait_cond, &v->wait_lock);
		pthread_mutex_unlock(&v->wait_lock);
	}
	kvm_release_vcpus(vm);
}

void kvm_wait_enter_hold(struct kvm_vm *vm)
{
	pthread_mutex_lock(&vm->hold_lock);
	while (vm->enter_hold)
		pthread_cond_wait(&vm->hold_cond, &vm->hold_lock);
	pthread_mutex_unlock(&vm->hold_lock);
}
