/* td_launch_run(): KVM_RUN and the userspace half of its exits, as QEMU's kvm_cpu_exec() and
 * tdx.c serve them, with the engine's device model behind IO and MMIO. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "td_launch_internal.h"

static void exit_io(struct td_launch *l, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	l->stats.pio++;
	l->ops->pio(l->ctx, run->io.port, data, run->io.size, run->io.direction == KVM_EXIT_IO_OUT);
	if (l->trace)
		td_launch_log(l, "IO %s port %#x size %u", run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			      run->io.port, run->io.size);
}

static void exit_mmio(struct td_launch *l, struct kvm_run *run)
{
	l->stats.mmio++;
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

	run->hypercall.ret = kvm_set_memory_attributes(l->vm, gpa, size, priv ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0) ? 1 : 0;
	if (l->trace)
		td_launch_log(l, "MapGPA %#llx+%#llx %s", (unsigned long long)gpa, (unsigned long long)size,
			      priv ? "private" : "shared");
}

/* One KVM_RUN exit: 0 served (run again), 1 the TD ended (err says how). */
static int serve_exit(struct td_launch *l, struct kvm_run *run, char *err, size_t errlen)
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
	case KVM_EXIT_HLT:
		return 0; /* no interrupt virtualisation yet: the guest resumes at once */
	case KVM_EXIT_TDX:
		return 0; /* GetQuote & co. answered "unsupported", the default KVM put in */
	case KVM_EXIT_SHUTDOWN:
		snprintf(err, errlen, "TD shut down (triple fault)");
		return 1;
	case KVM_EXIT_SYSTEM_EVENT:
		snprintf(err, errlen, "TD reported a fatal error (TDG.VP.VMCALL<ReportFatalError>, R12 %#llx)",
			 (unsigned long long)run->system_event.data[12]);
		return 1;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(err, errlen, "KVM internal error: TD exit %#llx, exit qualification/GPA in the log",
			 (unsigned long long)run->internal.data[0]);
		return 1;
	default:
		snprintf(err, errlen, "unexpected KVM exit %u", run->exit_reason);
		return 1;
	}
}

int td_launch_run(struct td_launch *l, char *err, size_t errlen)
{
	struct kvm_run *run = kvm_vcpu_run_struct(l->vcpu);

	for (;;) {
		int r = kvm_vcpu_run(l->vcpu);

		l->stats.kvm_runs++;
		if (r == -EINTR)
			return 0;
		if (r < 0) {
			snprintf(err, errlen, "KVM_RUN: %s", strerror(-r));
			return 1;
		}
		if (serve_exit(l, run, err, errlen))
			return 1;
	}
}
