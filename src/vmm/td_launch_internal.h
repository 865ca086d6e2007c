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
	struct kvm_vcpu *vcpu;
	const struct td_launch_ops *ops;
	void *ctx;
	bool trace;
	struct td_launch_config cfg; /* a copy; bios is not kept past td_launch_create() */
	unsigned nr_slots;
	struct td_launch_stats stats;
	uint8_t *hob;
};

void td_launch_log(struct td_launch *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
