/* td_launch_run(): KVM_RUN and the userspace half of its exits, as QEMU's kvm_cpu_exec() and
 * tdx.c serve them, with the engine's device model behind IO and MMIO. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi_status.h"
#include "qemu_cpu.h"
#include "td_launch_internal.h"

static void exit_io(struct td_launch *l, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	TD_LAUNCH_COUNT(l, pio);
	l->ops->pio(l->ctx, run->io.port, data, run->io.size, run->io.direction == KVM_EXIT_IO_OUT);
	if (l->trace)
		td_launch_log(l, "IO %s port %#x size %u", run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			      run->io.port, run->io.size);
}

static void exit_mmio(struct td_launch *l, struct kvm_run *run)
{
	TD_LAUNCH_COUNT(l, mmio);
	l->ops->mmio(l->ctx, run->mmio.phys_addr, run->mmio.data, run->mmio.len, run->mmio.is_write);
	if (l->trace)
		td_launch_log(l, "MMIO %s %#llx size %u", run->mmio.is_write ? "write" : "read",
			      (unsigned long long)run->mmio.phys_addr, run->mmio.len);
}

/* KVM_HC_MAP_GPA_RANGE: QEMU's kvm_convert_memory() flips the range's attributes. */
static void exit_map_gpa(struct td_launch *l, struct kvm_run *run)
{
	uint64_t gpa = run->hypercall.args[0], size = run->hypercall.args[1] * 4096;
	bool priv = run->hypercall.args[2] & KVM_MAP_GPA_RANGE_ENCRYPTED;

	TD_LAUNCH_COUNT(l, map_gpas);
	run->hypercall.ret = kvm_set_memory_attributes(l->vm, gpa, size, priv ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0) ? 1 : 0;
	if (!priv && !run->hypercall.ret)
		__atomic_fetch_add(&l->stats.pages_made_shared, run->hypercall.args[1], __ATOMIC_RELAXED);
	if (l->trace)
		td_launch_log(l, "MapGPA %#llx+%#llx %s", (unsigned long long)gpa, (unsigned long long)size,
			      priv ? "private" : "shared");
}

static void exit_tdx(struct td_launch *l, unsigned vcpu, struct kvm_run *run)
{
	switch (run->tdx.nr) {
	case TDVMCALL_GET_QUOTE:
		td_quote_get_quote(l, run);
		break;
	case TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT:
		td_quote_setup_event_notify(l, vcpu, run);
		break;
	case TDVMCALL_GET_TD_VM_CALL_INFO:
		td_quote_tdvmcall_info(l, run);
		break;
	}
}

/* KVM_EXIT_INTERNAL_ERROR carries TDH.VP.ENTER's status (data[0]), which QEMU prints before
 * it stops the guest. A TD the module made FATAL after the engine's machine check says where
 * the engine met the poisoned memory. */
static int exit_internal_error(struct kvm_run *run, char *err, size_t errlen)
{
	uint64_t status = run->internal.data[0], gpa;
	const char *name = abi_status_name(status);
	bool mce = td_launch_take_machine_check(&gpa);

	if (mce && (status >> 32) == (TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE >> 32))
		snprintf(err, errlen, "TD fatal: machine check at GPA %#llx (TDH.VP.ENTER %#llx, %s)", (unsigned long long)gpa,
			 (unsigned long long)status, name);
	else if (status & TDX_STATUS_FATAL_BIT)
		snprintf(err, errlen, "TD fatal: TDH.VP.ENTER %#llx (%s)", (unsigned long long)status, name ? name : "unknown status");
	else
		snprintf(err, errlen, "KVM internal error: TD exit %#llx, exit qualification/GPA in the log",
			 (unsigned long long)status);
	return 1;
}

/* One KVM_RUN exit: 0 served (run again), 1 the TD ended (err says how). */
static int serve_exit(struct td_launch *l, unsigned vcpu, struct kvm_run *run, char *err, size_t errlen)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit_io(l, run);
		return 0;
	case KVM_EXIT_MMIO:
		exit_mmio(l, run);
		return 0;
	case KVM_EXIT_HYPERCALL:
		exit_map_gpa(l, run);
		return 0;
	case KVM_EXIT_TDX:
		exit_tdx(l, vcpu, run);
		return 0;
	case KVM_EXIT_SHUTDOWN:
		snprintf(err, errlen, "TD shut down (triple fault)");
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		snprintf(err, errlen, "TD reported a fatal error (TDG.VP.VMCALL<ReportFatalError>, R12 %#llx)",
			 (unsigned long long)run->system_event.data[12]);
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		return exit_internal_error(run, err, errlen);
	default:
		snprintf(err, errlen, "unexpected KVM exit %u", run->exit_reason);
		return 1;
	}
}

int td_launch_run(struct td_launch *l, unsigned vcpu, void *vcpu_ctx, char *err, size_t errlen)
{
	struct kvm_vcpu *v;
	struct kvm_run *run;

	if (vcpu >= l->nr_vcpus) {
		snprintf(err, errlen, "no vCPU %u (the TD has %u)", vcpu, l->nr_vcpus);
		return -1;
	}
	v = l->vcpu[vcpu];
	run = kvm_vcpu_run_struct(v);
	td_launch_set_engine_ctx(vcpu_ctx);
	for (;;) {
		int r = kvm_vcpu_run(v);

		TD_LAUNCH_COUNT(l, kvm_runs);
		if (r == -EINTR)
			return 0;
		if (r < 0) {
			snprintf(err, errlen, "KVM_RUN: %s", strerror(-r));
			return 1;
		}
		if (serve_exit(l, vcpu, run, err, errlen))
			return 1;
	}
}
