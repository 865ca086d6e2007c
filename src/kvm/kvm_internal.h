/* State behind the KVM API: what struct kvm_tdx / struct vcpu_tdx hold in Linux. */
#ifndef KVM_INTERNAL_H
#define KVM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "abi_status.h"
#include "kvm.h"
#include "td_exit_state.h"

#define KVM_PAGE 4096u
#define KVM_MAX_SLOTS 32u

struct kvm_dev {
	struct tdx_host *h;
	pthread_mutex_t lock; /* pool and HKID bitmap; also Linux's tdx_lock for CREATE/CACHE.WB */
	uint64_t *pool;       /* free host pages, reused before asking the host allocator */
	unsigned nr_pool, cap_pool;
	uint64_t in_use;
	/* Pages KVM only ever writes with KeyID 0 (TD_PARAMS, PAGE.ADD sources). Kept apart:
	 * a page a TD owned comes back with its private KeyID's integrity state, Linux clears
	 * it with MOVDIR64B (tdx_clear_page()), which the host layer does not offer yet. */
	uint64_t *shared;
	unsigned nr_shared, cap_shared;
	bool *hkid_used; /* indexed by KeyID */
	bool no_rbp_mod; /* module parameter no_rbp_mod (kvm_set_param) */
	uint64_t ctl_next, ctl_end; /* the 2 MiB block control pages are carved from */
};

/* Linux's enum kvm_tdx_state / vcpu_td_state. */
enum kvm_td_state { TD_STATE_UNINITIALIZED, TD_STATE_INITIALIZED, TD_STATE_RUNNABLE };
enum kvm_vcpu_td_state { VCPU_TD_STATE_UNINITIALIZED, VCPU_TD_STATE_INITIALIZED };

struct kvm_slot {
	bool used;
	struct kvm_memory_region r;
	uint64_t *gmem; /* guest_memfd: host PA per page, 0 = not allocated yet */
	bool *populated;
};

/* A page-sized range with one attribute value (private or shared). */
struct kvm_attr_range {
	uint64_t start, end, attrs;
};

struct kvm_sept_page {
	uint64_t key; /* gpa of the mapped range | level */
	uint64_t pa;
};

/* The in-kernel x2APIC of a TD vCPU (kvm_lapic.c): the registers the CPU does not
 * virtualize. Guarded by the VM's apic_lock, except svr, which senders read atomically. */
enum kvm_lvt { KVM_LVT_TIMER, KVM_LVT_THERMAL, KVM_LVT_PERF, KVM_LVT_LINT0, KVM_LVT_LINT1, KVM_LVT_ERROR, KVM_NR_LVT };
struct kvm_lapic {
	uint32_t svr;
	uint32_t esr;
	uint64_t icr;
	uint32_t lvt[KVM_NR_LVT];
	uint32_t tmict, tdcr;
	uint64_t tsc_deadline;
	uint64_t expires_ns; /* CLOCK_MONOTONIC time the armed timer fires, 0 = not armed */
	uint64_t period_ns;  /* one timer period (one-shot and periodic modes) */
};

/* The other MSRs KVM emulates for a TD (kvm_msr.c): struct kvm_vcpu_arch's fields for them. */
struct kvm_msr_state {
	uint64_t ucode_rev, arch_capabilities, power_ctl, pat, misc_enable, platform_info;
	uint64_t misc_features, poll_control, efer;
	uint64_t mtrr_var[2 * KVM_NR_VAR_MTRR]; /* PHYSBASEn, PHYSMASKn pairs */
	uint64_t mtrr_fixed[3 + KVM_MSR_MTRRfix4K_F8000 - KVM_MSR_MTRRfix4K_C0000 + 1]; /* 64K, 2 x 16K, 4K */
	uint64_t mtrr_deftype;
	uint64_t mcg_cap, mcg_status, mcg_ctl, mcg_ext_ctl;
	uint64_t mce_banks[4 * KVM_MAX_MCE_BANKS]; /* MCi_CTL, STATUS, ADDR, MISC */
	uint64_t mci_ctl2[KVM_MAX_MCE_BANKS];
};

struct kvm_vm {
	struct kvm_dev *dev;
	struct tdx_host *h;
	enum kvm_td_state state;
	bool bugged;
	bool dead; /* kvm_vm_dead(): KVM_TDX_TERMINATE_VM happened, every ioctl answers -EIO */
	/* While non-zero no vCPU does TDH.VP.ENTER (kvm_hold_vcpus_out()). Held by a SEAMCALL
	 * retried with every vCPU out of the guest (tdx_no_vcpus_enter_start/stop()), and by
	 * every wait for the vCPUs to leave the guest: with more vCPU threads than host CPUs, the
	 * ones already out would otherwise take the CPU from the ones still to be seen. */
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;
	_Atomic unsigned enter_hold;
	_Atomic uint64_t pages_augmented;
	int hkid; /* -1: none */
	unsigned max_vcpus;
	uint64_t attributes, xfam, shared_bit;
	uint64_t tdr;
	uint64_t tdcs[16];
	unsigned nr_tdcs, tdcx_per_vcpu;
	uint64_t src_page; /* shared bounce page for PAGE.ADD sources */
	struct kvm_vcpu **vcpus;
	unsigned nr_vcpus;
	struct kvm_slot slots[KVM_MAX_SLOTS];
	struct kvm_attr_range *attrs;
	unsigned nr_attrs;
	/* Secure EPT pages in the order they were added (top-down), and an open-addressing
	 * index of their keys (entry = array index + 1, 0 = empty), so that a fault does not
	 * search them all. Which private leaves are mapped is each slot's populated[]. */
	struct kvm_sept_page *sept;
	unsigned nr_sept, cap_sept;
	uint32_t *sept_index;
	unsigned sept_index_cap; /* a power of two, at least twice nr_sept */
	/* Interrupts (kvm_lapic.c, kvm_intr.c). apic_lock guards every vCPU's struct kvm_lapic
	 * and the vcpus array against the timer thread. */
	pthread_mutex_t apic_lock;
	/* Linux's kvm->mmu_lock: private-page faults, conversions and zaps, one at a time */
	pthread_mutex_t mmu_lock;
	pthread_cond_t timer_cond; /* CLOCK_MONOTONIC; the timer thread sleeps on it */
	pthread_t timer_thread;
	bool timer_started, timer_stop;
	uint64_t tsc_khz; /* kvm->arch.default_tsc_khz: KVM_SET_TSC_KHZ, else the host's */
	void (*kick_fn)(void *ctx, unsigned vcpu_id);
	void *kick_ctx;
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	unsigned id;
	enum kvm_vcpu_td_state state;
	uint64_t tdvpr;
	uint64_t tdcx[16];
	unsigned nr_tdcx;
	struct kvm_run run;
	const struct kvm_engine_ops *engine;
	void *engine_ctx;
	struct kvm_vp_enter_args args;
	/* complete_userspace_io: what to do with run's outputs on the next KVM_RUN */
	int (*complete)(struct kvm_vcpu *vcpu);
	uint64_t map_gpa_next, map_gpa_end;
	unsigned lp; /* the LP this vCPU's TDH.VP.INIT associated it with; it runs there */
	/* Host values of the registers a TD exit clobbers (kvm_host_state.c). */
	struct {
		uint64_t value[TD_EXIT_STATE_COUNT];
		bool loaded;        /* vt->guest_state_loaded */
		bool guest_entered; /* tdx->guest_entered: user-return MSRs to restore */
	} host;
	struct kvm_vcpu_stat stat;
	struct kvm_cpuid_entry2 *cpuid; /* KVM_SET_CPUID2 */
	unsigned cpuid_nent;
	bool ran; /* KVM_RUN entered the TD at least once */
	const struct plat_guest_mem *script_mem; /* while a scripted guest's enter() runs */
	struct kvm_lapic apic;
	struct kvm_msr_state msr;
	uint64_t pid; /* the posted-interrupt descriptor (a KeyID-0 host page), 0 before INIT_VCPU */
	/* Blocking in HLT and kicks (kvm_intr.c): wait_lock guards waiting and in_guest. */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	uint64_t guest_exits; /* bumped at every exit from the TD (wait_lock; wait_cond signalled) */
	bool waiting;  /* asleep on wait_cond */
	bool in_guest; /* inside TDH.VP.ENTER: a new interrupt needs the engine kick fn */
	/* kvm_wait_vcpus_outside_guest() (its caller holds the VM's mmu_lock): kicked by it, and
	 * guest_exits when it did */
	bool wait_kicked;
	uint64_t wait_seen;
	bool kick;     /* kvm_vcpu_kick() not yet answered (atomic) */
	bool halted;   /* TDVMCALL<HLT> not yet woken (Linux's KVM_MP_STATE_HALTED) */
	bool hlt_irq_blocked; /* its R12: the guest halted with interrupts blocked */
};

/* kvm.c */
/* Linux's kvm->vm_dead (KVM_BUG_ON() implies it): the checks kvm_vm_ioctl() and
 * kvm_vcpu_ioctl() make first. */
static inline bool kvm_vm_dead(const struct kvm_vm *vm)
{
	return vm->bugged || vm->dead;
}
/* Control pages (TDR, TDCS, TDVPR, Secure EPT): carved out of 2 MiB blocks, so they never
 * share a huge page of simulated DRAM with guest memory. A TD's guest_memfd pages come from
 * kvm_gmem_page_alloc(): backed (host RSS) only once the guest or the module writes them. */
uint64_t kvm_page_alloc(struct kvm_dev *d);
uint64_t kvm_gmem_page_alloc(struct kvm_dev *d);
void kvm_page_free(struct kvm_dev *d, uint64_t pa);
/* A page for host (KeyID 0) writes: never one a TD owned before. */
uint64_t kvm_shared_page_alloc(struct kvm_dev *d);
void kvm_shared_page_free(struct kvm_dev *d, uint64_t pa);
/* KVM_BUG_ON(): log once, the VM is dead from now on. Returns -EIO for the caller. */
int kvm_vm_bug(struct kvm_vm *vm, const char *what, uint64_t status);
unsigned kvm_nr_packages(const struct kvm_vm *vm);
unsigned kvm_package_cpu(const struct kvm_vm *vm, unsigned pkg);

/* kvm_mem.c */
int kvm_tdx_fault_private(struct kvm_vm *vm, uint64_t gpa);
int kvm_tdx_init_mem_region_locked(struct kvm_vcpu *vcpu, struct kvm_tdx_cmd *cmd);
/* Zap every private leaf (BLOCK/TRACK/REMOVE/WBINVD while the HKID lives, else RECLAIM). */
void kvm_mem_zap_private(struct kvm_vm *vm);
/* After the HKID is gone: reclaim every Secure EPT page; drop the slots' backing. */
void kvm_mem_free_sept(struct kvm_vm *vm);
void kvm_mem_free_slots(struct kvm_vm *vm);
/* Reclaim a TD page after KEY.FREEID and give it back to the pool (leak it on failure). */
void kvm_reclaim_page(struct kvm_vm *vm, uint64_t pa);

/* kvm_host_state.c */
void kvm_host_state_prepare(struct kvm_vcpu *vcpu);
void kvm_host_state_after_exit(struct kvm_vcpu *vcpu);
void kvm_host_state_put(struct kvm_vcpu *vcpu);
/* TD ATTRIBUTES / CPUID bits KVM refuses because it cannot restore their host state. */
uint64_t kvm_host_state_blocked_attrs(void);
void kvm_host_state_blocked_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t mask[4]);

/* kvm_cpuid.c: kvm_cpuid(exact_only = false) over the vCPU's KVM_SET_CPUID2 table, and its
 * exact lookup (kvm_find_cpuid_entry_index(); NULL when the table has no such entry). */
const struct kvm_cpuid_entry2 *kvm_find_cpuid_entry(const struct kvm_vcpu *vcpu, uint32_t fn, uint32_t index);
void kvm_cpuid(const struct kvm_vcpu *vcpu, uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx);

/* kvm_lapic.c */
void kvm_lapic_vm_init(struct kvm_vm *vm);
void kvm_lapic_vm_destroy(struct kvm_vm *vm); /* stops the timer thread */
void kvm_lapic_reset(struct kvm_vcpu *vcpu);
/* x2APIC MSRs (800H-8FFH), IA32_APIC_BASE and IA32_TSC_DEADLINE as KVM emulates them for a
 * TD: 0, or 1 when the access faults (KVM's kvm_{get,set}_msr convention); any other MSR 1. */
int kvm_lapic_rdmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t *val);
int kvm_lapic_wrmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t val);
uint64_t kvm_lapic_x2apic_id(const struct kvm_vcpu *vcpu);
bool kvm_lapic_sw_enabled(const struct kvm_vcpu *vcpu);
bool kvm_lapic_match_logical(const struct kvm_vcpu *vcpu, uint32_t dest);

/* kvm_msr.c: the emulated MSRs that are not the LAPIC's, with KVM_X86_SETUP_MCE's state.
 * 0, or 1 when the access faults or the MSR is not one of them (kvm_{get,set}_msr). */
void kvm_msr_vcpu_reset(struct kvm_vcpu *vcpu);
int kvm_msr_rdmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t *val);
int kvm_msr_wrmsr(struct kvm_vcpu *vcpu, uint32_t msr, uint64_t val);

/* kvm_intr.c */
void kvm_intr_vcpu_create(struct kvm_vcpu *vcpu);
/* INIT_VCPU after TDH.VP.INIT: the PID page, its TD VMCS fields (NV, address, pin-based
 * "process posted interrupts"), as tdx_vcpu_init() does. 0 or -errno (KVM_BUG_ON -> -EIO). */
int kvm_intr_vcpu_init(struct kvm_vcpu *vcpu);
void kvm_intr_vcpu_free(struct kvm_vcpu *vcpu);
/* A fixed interrupt for vcpu's APIC: PIR bit, ON, and the notification (wake from HLT, or
 * the engine's kick fn when the vCPU is inside the TD). false: the APIC does not accept it
 * (software-disabled, or no PID yet). */
bool kvm_intr_post(struct kvm_vcpu *vcpu, unsigned vector);
/* KVM_RUN around TDH.VP.ENTER. */
void kvm_intr_guest_enter(struct kvm_vcpu *vcpu);
/* The LP of the vCPU whose thread this is (set by its first KVM_RUN; 0 for other threads):
 * KVM's own SEAMCALLs (AUG, BLOCK, TRACK, REMOVE...) run on the calling CPU, as in Linux. */
unsigned kvm_thread_lp(void);
/* After TDH.MEM.TRACK: kick every vCPU inside the TD and wait until each has left it
 * (Linux's kvm_make_all_cpus_request(KVM_REQ_OUTSIDE_GUEST_MODE)). */
void kvm_wait_vcpus_outside_guest(struct kvm_vm *vm);
/* Keep every vCPU from entering the TD until the matching kvm_release_vcpus() (nests). */
void kvm_hold_vcpus_out(struct kvm_vm *vm);
void kvm_release_vcpus(struct kvm_vm *vm);
/* Before TDH.VP.ENTER: wait while vCPUs are held out. */
void kvm_wait_enter_hold(struct kvm_vm *vm);
void kvm_intr_guest_exit(struct kvm_vcpu *vcpu);
/* A kvm_vcpu_kick() to answer: true once per kick. */
bool kvm_intr_take_kick(struct kvm_vcpu *vcpu);
/* Block a halted vCPU until an interrupt is pending for it (1: resume the guest) or it is
 * kicked (-EINTR with KVM_EXIT_INTR; it stays halted for the next KVM_RUN). */
int kvm_intr_halt(struct kvm_vcpu *vcpu);

/* kvm_vcpu.c */
void kvm_vcpu_flush(struct kvm_vcpu *vcpu);
void kvm_vcpu_free(struct kvm_vcpu *vcpu);

/* The 64-bit status class (bits 63:32, operand id aside) of a SEAMCALL status. */
#define KVM_STATUS_CLASS(st) ((st) & UINT64_C(0xFFFFFFFF00000000))
/* tdx_operand_busy(): a resource the SEAMCALL needs is held by another one; try again. */
static inline bool kvm_operand_busy(uint64_t st)
{
	return KVM_STATUS_CLASS(st) == TDX_OPERAND_BUSY;
}

#endif
