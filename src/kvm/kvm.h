/* The KVM-TDX-like API: what Linux KVM offers userspace for a TD (arch/x86/kvm/vmx/tdx.c and
 * Documentation/virt/kvm/x86/intel-tdx.rst), as C calls instead of ioctls. Functions return 0
 * or a negative errno exactly where KVM's ioctls do; a SEAMCALL status goes back in
 * cmd->hw_error where KVM puts it. Everything below goes through the host's tdh_*() wrappers. */
#ifndef KVM_H
#define KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "host/host.h"
#include "kvm_uapi.h"

struct kvm_dev;  /* "/dev/kvm": the host-wide part (HKID allocator, page pool) */
struct kvm_vm;   /* a VM fd */
struct kvm_vcpu; /* a vCPU fd */

/* Open /dev/kvm on a host whose TDX module is up (tdx_enable() done). NULL: no memory. */
struct kvm_dev *kvm_open(struct tdx_host *h);
/* Every VM must have been destroyed. */
void kvm_close(struct kvm_dev *d);
/* Pages KVM took from the host allocator and has not got back (0 when every TD is gone). */
uint64_t kvm_dev_pages_in_use(const struct kvm_dev *d);
/* Copy up to max pool pages (free host pages KVM keeps for reuse) to pas; returns the count. */
unsigned kvm_dev_free_pages(const struct kvm_dev *d, uint64_t *pas, unsigned max);

/* A module parameter of this KVM, as `modprobe kvm_intel NAME=VALUE` would set it; it applies
 * to VMs initialised afterwards. 0, or -EINVAL for an unknown NAME or a VALUE the parameter's
 * type rejects (bool: y/Y/1/on, n/N/0/off). The one parameter:
 *   no_rbp_mod (bool, default Y): CONFIG_FLAGS.NO_RBP_MOD in TD_PARAMS at KVM_TDX_INIT_VM, as
 *   Linux always sets it. N is the KVM of the TDX 1.0-era host kernels, which did not: the
 *   module then passes RBP in TDG.VP.VMCALL (clobbering it), which TD firmware of that era
 *   (edk2 before its TDVMCALL stopped exposing RBP) relies on. */
int kvm_set_param(struct kvm_dev *d, const char *name, const char *value);
bool kvm_param_no_rbp_mod(const struct kvm_dev *d);

/* KVM_CREATE_VM. Only KVM_X86_TDX_VM is modelled: other types give -EINVAL. */
int kvm_create_vm(struct kvm_dev *d, uint64_t type, struct kvm_vm **out);
/* Close the VM fd: full TD teardown, every page back to the pool. */
void kvm_destroy_vm(struct kvm_vm *vm);
/* KVM_BUG_ON() happened: the VM is dead, every call answers -EIO. */
bool kvm_vm_is_bugged(const struct kvm_vm *vm);

/* KVM_MEMORY_ENCRYPT_OP on the VM fd: KVM_TDX_CAPABILITIES, INIT_VM, FINALIZE_VM.
 * cmd->data is a pointer (struct kvm_tdx_capabilities * / struct kvm_tdx_init_vm *). */
int kvm_vm_memory_encrypt_op(struct kvm_vm *vm, struct kvm_tdx_cmd *cmd);
/* KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS) on a TD (tdx_vm_enable_cap()): TD_PARAMS.MAX_VCPUS at
 * INIT_VM, which QEMU sets to -smp's CPU count. -EINVAL for flags or 0, -E2BIG above
 * KVM_MAX_VCPUS, -EBUSY once a vCPU exists. Without it: the host's CPU count. */
int kvm_vm_enable_cap_max_vcpus(struct kvm_vm *vm, uint64_t flags, uint64_t n);
/* KVM_SET_TSC_KHZ on the VM (the TD's TSC_FREQUENCY at INIT_VM): 0 means the host's;
 * -EINVAL once a vCPU exists (Linux's rule) or for a frequency the host cannot scale to. */
int kvm_vm_set_tsc_khz(struct kvm_vm *vm, uint32_t khz);
/* Typed forms of the same. */
int kvm_tdx_capabilities(struct kvm_vm *vm, struct kvm_tdx_capabilities *caps);
int kvm_tdx_init_vm(struct kvm_vm *vm, struct kvm_tdx_init_vm *init, uint64_t *hw_error);
int kvm_tdx_finalize_vm(struct kvm_vm *vm, uint64_t *hw_error);
/* KVM_TDX_TERMINATE_VM: the VM is dead (every later call -EIO) and its HKID released, so
 * its pages are reclaimed without BLOCK/TRACK/REMOVE when the VM is destroyed. */
int kvm_tdx_terminate_vm(struct kvm_vm *vm);

/* KVM_SET_USER_MEMORY_REGION2 (subset). flags KVM_MEM_GUEST_MEMFD gives the slot private
 * backing (guest_memfd-like: host pages allocated on first use). memory_size 0 deletes. */
struct kvm_memory_region {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	void *userspace_addr; /* shared backing, may be NULL */
};
int kvm_set_user_memory_region2(struct kvm_vm *vm, const struct kvm_memory_region *r);
/* KVM_SET_MEMORY_ATTRIBUTES: attributes is 0 or KVM_MEMORY_ATTRIBUTE_PRIVATE. */
int kvm_set_memory_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint64_t attributes);
bool kvm_gpa_is_private(const struct kvm_vm *vm, uint64_t gpa);
/* The attributes of the page at gpa (0 or KVM_MEMORY_ATTRIBUTE_PRIVATE). */
uint64_t kvm_get_memory_attributes(const struct kvm_vm *vm, uint64_t gpa);

/* KVM_CREATE_VCPU (after INIT_VM, else -EIO as tdx_vcpu_create()). */
int kvm_create_vcpu(struct kvm_vm *vm, unsigned id, struct kvm_vcpu **out);
/* KVM_MEMORY_ENCRYPT_OP on the vCPU fd: INIT_VCPU (data = RCX), INIT_MEM_REGION
 * (data = struct kvm_tdx_init_mem_region *, updated in place), GET_CPUID (data = kvm_cpuid2 *). */
int kvm_vcpu_memory_encrypt_op(struct kvm_vcpu *vcpu, struct kvm_tdx_cmd *cmd);
int kvm_tdx_init_vcpu(struct kvm_vcpu *vcpu, uint64_t initial_rcx);
int kvm_tdx_init_mem_region(struct kvm_vcpu *vcpu, struct kvm_tdx_init_mem_region *r, uint32_t flags);
int kvm_tdx_get_cpuid(struct kvm_vcpu *vcpu, struct kvm_cpuid2 *cpuid);

/* KVM_SET_CPUID2: the table TDVMCALL<CPUID> answers from (the TD's own CPUID instruction is
 * virtualised by the module). -EBUSY for a different table after the first KVM_RUN. */
int kvm_vcpu_set_cpuid2(struct kvm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid);

/* KVM_X86_GET_MCE_CAP_SUPPORTED (with KVM_CHECK_EXTENSION(KVM_CAP_MCE)'s bank count in
 * *banks when banks is not NULL), and KVM_X86_SETUP_MCE: the vCPU's IA32_MCG_CAP (bank count
 * in bits 7:0, 1..the supported count; -EINVAL for more, none, or unsupported bits). It sets
 * IA32_MCG_CTL (with MCG_CTL_P) and every bank's MCi_CTL to all ones. Before it, the vCPU has
 * KVM's default MCG_CAP: KVM_MAX_MCE_BANKS banks, no MCG_CTL_P, MCi_CTL 0. */
uint64_t kvm_mce_cap_supported(unsigned *banks);
int kvm_vcpu_setup_mce(struct kvm_vcpu *vcpu, uint64_t mcg_cap);

/* ---- running a vCPU ------------------------------------------------------------------ */
/* TDH.VP.ENTER's view of an exit: the returned value is RAX (exit reason in bits 15:0 on
 * success), args the guest GPRs the module exposes (TDVMCALL: R10 = 0, R11 = sub-function,
 * R12.. = operands). On the next enter, KVM has written R10/R11 (and outputs) back. */
struct kvm_vp_enter_args {
	uint64_t rcx, rdx, rbx, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};
/* A scripted guest for tests: each enter() plays the guest from one TD entry to its next
 * VM exit. args are the guest's GPRs (after a TDG.VP.VMCALL, R10/R11.. hold what KVM
 * answered); returning EXIT_REASON_TDCALL with args->r10 == 0 makes the guest issue
 * TDG.VP.VMCALL with R11 = sub-function and R12.. = operands; another basic exit reason
 * (triple fault, EPT violation...) is that VM exit. It runs inside the real TDH.VP.ENTER. */
struct kvm_engine_ops {
	uint64_t (*enter)(void *ctx, struct kvm_vcpu *vcpu, struct kvm_vp_enter_args *args);
};
void kvm_vcpu_set_engine(struct kvm_vcpu *vcpu, const struct kvm_engine_ops *ops, void *ctx);
/* KVM's per-vCPU statistics (the binary stats fd's counters that matter here). */
struct kvm_vcpu_stat {
	uint64_t exits;                /* TD exits (TDH.VP.ENTER returns) */
	uint64_t host_state_reload;    /* KVM_RUN returned with the guest state put */
	uint64_t user_return_restores; /* user-return MSRs written back on the way to userspace */
	uint64_t after_exit_restores;  /* registers written back right after a TD exit */
};
const struct kvm_vcpu_stat *kvm_vcpu_get_stat(const struct kvm_vcpu *vcpu);
/* Per-VM: private pages KVM added to the running TD with TDH.MEM.PAGE.AUG (the guest's
 * accepts and first touches of pending memory). */
uint64_t kvm_vm_pages_augmented(const struct kvm_vm *vm);

/* KVM_RUN: 0 with run->exit_reason set when userspace must act; -EINVAL before FINALIZE.
 * It enters the TD with TDH.VP.ENTER on the vCPU's LP; the guest runs on the platform's
 * guest engine (kvm_vcpu_set_engine() installs a scripted one for tests). Exits KVM handles
 * itself loop back into the TD; host registers are intact whenever it returns. */
int kvm_vcpu_run(struct kvm_vcpu *vcpu);
struct kvm_run *kvm_vcpu_run_struct(struct kvm_vcpu *vcpu);
/* While a scripted guest's enter() runs: the engine interface TDH.VP.ENTER gave the vCPU
 * (its virtual-APIC callbacks), so a script can take interrupts as a CPU core would. NULL
 * otherwise. */
const struct plat_guest_mem *kvm_vcpu_script_mem(const struct kvm_vcpu *vcpu);

/* ---- interrupts (kvm_intr.c, kvm_lapic.c) ----------------------------------------------
 * Each vCPU has KVM's in-kernel x2APIC (ID = vCPU id) for the registers a TD reaches with
 * TDVMCALL<RDMSR/WRMSR>, and a posted-interrupt descriptor the module drains into its
 * virtual APIC. IPIs (ICR), the APIC timer and kvm_irq_msi() post there. TDVMCALL<HLT>
 * blocks inside KVM_RUN until an interrupt is pending for the vCPU or it is kicked.
 * All vCPUs must be created before any of them runs. These calls are thread-safe. */
/* Wake a vCPU blocked in HLT, and make its KVM_RUN return -EINTR with KVM_EXIT_INTR at the
 * next exit that would re-enter the TD (immediately if it is halted, or at the start of the
 * next KVM_RUN when none is in progress) — a signal to the vCPU thread in Linux. When the
 * vCPU is inside the engine, the kick fn is called too; the engine should then leave the
 * guest (an external-interrupt exit) if kvm_vcpu_kick_pending(). Always 0. */
int kvm_vcpu_kick(struct kvm_vcpu *vcpu);
bool kvm_vcpu_kick_pending(const struct kvm_vcpu *vcpu);
/* The engine's notification: fn(ctx, vcpu_id) is called, from whatever thread posted the
 * interrupt (another vCPU's, the timer thread, the VMM's), when an interrupt is posted to a
 * vCPU that is inside TDH.VP.ENTER, so the engine calls intr_pending() soon. NULL: none. */
void kvm_set_vcpu_kick_fn(struct kvm_vm *vm, void (*fn)(void *ctx, unsigned vcpu_id), void *ctx);
/* KVM_SIGNAL_MSI, x2APIC physical destination apic_id (0xFFFFFFFF: every vCPU), fixed
 * delivery: the number of APICs that accepted it (a software-disabled APIC does not), -EINVAL
 * for vectors 0-15, -EIO on a dead VM. */
int kvm_irq_msi(struct kvm_vm *vm, uint32_t apic_id, uint8_t vector);
/* The TD's TSC as this KVM sees it (CLOCK_MONOTONIC at the TD's TSC frequency): the clock of
 * IA32_TSC_DEADLINE, so an engine's RDTSC should read it too. */
uint64_t kvm_vm_guest_tsc(const struct kvm_vm *vm);

#endif
