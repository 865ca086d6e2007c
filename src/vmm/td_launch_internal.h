/* td_launch's private state, shared by its build (td_launch.c) and run (td_launch_run.c) halves. */
#ifndef TD_LAUNCH_INTERNAL_H
#define TD_LAUNCH_INTERNAL_H

#include <pthread.h>
#include <sys/socket.h>

#include "kvm/kvm.h"
#include "sim.h"
#include "td_launch.h"

/* GetQuote, SetupEventNotifyInterrupt and GetTdVmCallInfo (td_quote.c). */
struct td_quote {
	bool init;
	bool qgs; /* a quote-generation-socket was given */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char addr_text[128];
	pthread_mutex_t lock; /* the fields below */
	pthread_cond_t idle;  /* in_flight dropped */
	unsigned in_flight;
	bool stopping;
	int stop[2]; /* a pipe: written at teardown, wakes every transaction */
	int event_vector; /* -1: none */
	uint32_t event_apicid;
	/* KVM_TDX_CAPABILITIES' tdvmcallinfo_1 words */
	uint64_t kernel_info_r11, kernel_info_r12, user_info_r11, user_info_r12;
};

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
	struct td_quote quote;
};

/* Counters are bumped from every vCPU thread. */
#define TD_LAUNCH_COUNT(l, field) __atomic_fetch_add(&(l)->stats.field, 1, __ATOMIC_RELAXED)

/* The vcpu_ctx ops->run gets for TD entries made on this thread. */
void td_launch_set_engine_ctx(void *vcpu_ctx);
/* Did the engine report a machine check (td_launch_exit_machine_check) on this thread since
 * the last call? Its GPA in *gpa; the record is consumed. */
bool td_launch_take_machine_check(uint64_t *gpa);
/* td_quote.c */
int td_quote_init(struct td_launch *l);
void td_quote_fini(struct td_launch *l);
/* "unix:PATH", "inet:HOST:PORT" or "vsock:CID:PORT" (QEMU's SocketAddress, flattened). */
int td_quote_set_socket(struct td_launch *l, const char *spec, char *err, size_t errlen);
void td_quote_get_quote(struct td_launch *l, struct kvm_run *run);
void td_quote_setup_event_notify(struct td_launch *l, unsigned vcpu, struct kvm_run *run);
void td_quote_tdvmcall_info(struct td_launch *l, struct kvm_run *run);

void td_launch_log(struct td_launch *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
