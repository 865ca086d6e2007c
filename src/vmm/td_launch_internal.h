/* td_launch's private state, shared by its build (td_launch.c) and run (td_launch_run.c) halves. */
#ifndef TD_LAUNCH_INTERNAL_H
#define TD_LAUNCH_INTERNAL_H

#include "kvm/kvm.h"
#include "sim.h"
#include "td_launch.h"

struct td_launch {
	struct sim sim;
	bool sim_up;
	struct kvm_dev *dev;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu[TD_LAUNCH_MAX_VCPUS];
	unsigned nr_vcpus;
	const struct td_launch_ops *ops;
	void *ctx;
	bool trace;
	struct td_launch_config cfg; /* a copy; bios is not kept past td_launch_create() */
	unsigned nr_slots;
	struct td_launch_stats stats;
	uint8_t *hob;
	bool vmcall_refusal_said; /* the first refused TDG.VP.VMCALL was logged */
};

/* Counters are bumped from every vCPU thread. */
#define TD_LAUNCH_COUNT(l, field) __atomic_fetch_add(&(l)->stats.field, 1, __ATOMIC_RELAXED)

/* The vcpu_ctx ops->run gets for TD entries made on this thread. */
void td_launch_set_engine_ctx(void *vcpu_ctx);
/* Did the engine report a machine check (td_launch_exit_machine_check) on this thread since
 * the last call? Its GPA in *gpa; the record is consumed. */
bool td_launch_take_machine_check(uint64_t *gpa);
void td_launch_log(struct td_launch *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
