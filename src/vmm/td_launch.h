/* Launching a TD on tdxemu's stack for an external CPU engine (QEMU's TCG in TD mode): a
 * simulated TDX host with the module up, the TD built through the KVM-TDX API exactly as QEMU
 * builds one on Linux (INIT_VM, memslots with guest_memfd, INIT_VCPU, the TDVF sections with
 * KVM_TDX_INIT_MEM_REGION, the TD HOB, FINALIZE), and the KVM_RUN loop whose exits go to the
 * engine's device model. The engine only executes guest instructions: it is the platform's
 * guest engine inside TDH.VP.ENTER and sees private memory through the Secure EPT.
 *
 * Plain C types only: QEMU's sources include this header. */
#ifndef TD_LAUNCH_H
#define TD_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

struct td_launch;

#define TD_LAUNCH_MAX_VCPUS 64u

struct td_launch_ops {
	/* Run the vCPU from regs until its next VM exit (the platform's guest engine). vcpu_ctx is
	 * what the caller of td_launch_run() passed for this vCPU. */
	void (*run)(void *vcpu_ctx, struct plat_guest_regs *regs, const struct plat_guest_mem *mem,
		    struct plat_guest_exit *exit);
	/* TDVMCALL<Instruction.IO> / <#VE.RequestMMIO> that KVM hands to userspace: data is
	 * size bytes, little endian, filled by the callee for reads. */
	void (*pio)(void *ctx, uint16_t port, void *data, unsigned size, bool write);
	void (*mmio)(void *ctx, uint64_t gpa, void *data, unsigned size, bool write);
	/* The VMM's own view of shared guest memory (its RAM behind the GPA without the shared
	 * bit), for the buffers of GetQuote. 0, or -1 when gpa..gpa+len is not RAM. */
	int (*shared_rw)(void *ctx, uint64_t gpa, void *data, size_t len, bool write);
	/* One line of the launch log (no newline). */
	void (*log)(void *ctx, const char *line);
	/* One message of QEMU's TD CPU feature check (optional): a warning, or the error that
	 * stops the launch. */
	void (*cpu_message)(void *ctx, bool error, const char *text);
	/* An interrupt was posted to a vCPU that is inside the engine: make it leave the guest
	 * soon (any thread; optional). The next entry delivers it through the virtual APIC. */
	void (*kick)(void *ctx, unsigned vcpu);
};

struct td_launch_config {
	const uint8_t *bios; /* the TDVF image */
	size_t bios_size;
	uint64_t ram_size;   /* guest RAM, laid out as q35 does */
	unsigned nr_vcpus;   /* 0 means 1; at most TD_LAUNCH_MAX_VCPUS */
	uint32_t tsc_khz;    /* KVM_SET_TSC_KHZ before INIT_VM; 0: the host's */
	/* -cpu MODEL,feat...: QEMU's TD feature check (vmm/tdx_cpu_check.h) runs on it and its
	 * ATTRIBUTES go to INIT_VM; NULL: no check, `attributes` as given. */
	const char *cpu;
	const char *profile; /* module profile, NULL: default */
	bool trace;          /* log every TDCALL and KVM exit */
	/* QEMU's tdx-guest quote-generation-socket as "unix:PATH", "inet:HOST:PORT" or
	 * "vsock:CID:PORT"; NULL: none (GetQuote answers QGS_UNAVAILABLE in the buffer) */
	const char *quote_socket;
	/* KVM module parameters, "NAME=VALUE[,NAME=VALUE...]" (kvm_set_param()); NULL: defaults */
	const char *kvm_params;
	/* tdx-guest properties, as KVM_TDX_INIT_VM takes them (QEMU's defaults are the caller's). */
	uint64_t attributes;
	uint8_t mrconfigid[48], mrowner[48], mrownerconfig[48];
};

/* Build the host and the TD. 0, or -1 with err set (the step and its status). */
int td_launch_create(const struct td_launch_config *cfg, const struct td_launch_ops *ops, void *ctx,
		     struct td_launch **out, char *err, size_t errlen);
void td_launch_destroy(struct td_launch *l);
/* The i-th DRAM range of the simulated host (physical address, host pointer, length) for the
 * engine to map once: translate() results point into these. -1 past the last. */
int td_launch_dram_range(struct td_launch *l, unsigned i, uint64_t *hpa, void **ptr, uint64_t *len);
/* GPA bit that marks shared memory (GPAW - 1). */
uint64_t td_launch_shared_bit(const struct td_launch *l);
/* KVM_RUN vCPU `vcpu` (on the calling thread, which is that vCPU's thread from now on) until
 * KVM returns to userspace with something the caller must see: 0 when the engine stopped for
 * the host (KVM_EXIT_INTR), 1 when the TD ended (shutdown, ReportFatalError, KVM internal
 * error: err says which), -1 for a vCPU that does not exist. IO, MMIO, MapGPA, GetQuote,
 * HLT and the other exits are served inside. vcpu_ctx goes to ops->run. */
int td_launch_run(struct td_launch *l, unsigned vcpu, void *vcpu_ctx, char *err, size_t errlen);
unsigned td_launch_nr_vcpus(const struct td_launch *l);
/* The engine wants vCPU `vcpu`'s thread back (any thread): a KVM_RUN blocked in HLT returns,
 * one in the engine leaves at its next exit (KVM_EXIT_INTR, td_launch_run() returns 0). */
void td_launch_kick(struct td_launch *l, unsigned vcpu);
/* An interrupt from the engine's device model (IOAPIC, MSI), as KVM_SIGNAL_MSI: fixed
 * delivery to x2APIC ID apic_id (0xFFFFFFFF: every vCPU). The number of vCPUs it reached. */
int td_launch_irq_msi(struct td_launch *l, uint32_t apic_id, uint8_t vector);
/* The TD's TSC as KVM's LAPIC timer counts it (the engine's RDTSC reads this). */
uint64_t td_launch_guest_tsc(const struct td_launch *l);
/* Physical address bits of the simulated host below its KeyID bits: an HPA from translate()
 * masked with it is the DRAM address td_launch_dram_range() reports. */
uint64_t td_launch_pa_mask(const struct td_launch *l);

/* VM exits as the engine reports them (struct plat_guest_exit), with the SDM's exit reasons. */
enum td_launch_insn {
	TD_LAUNCH_INSN_TDCALL,
	TD_LAUNCH_INSN_CPUID,
	TD_LAUNCH_INSN_RDMSR,
	TD_LAUNCH_INSN_WRMSR,
	TD_LAUNCH_INSN_HLT,
};
void td_launch_exit_insn(struct plat_guest_exit *ex, enum td_launch_insn insn, unsigned instr_len);
/* IN/OUT/INS/OUTS (the TD takes a #VE for it): port, size 1/2/4, direction, string, REP
 * prefix, immediate port operand, as the SDM's exit qualification has them. */
void td_launch_exit_io(struct plat_guest_exit *ex, uint16_t port, unsigned size, bool in, bool string, bool rep,
		       bool imm, unsigned instr_len);
/* An EPT violation on private gpa: access PLAT_GUEST_ACC_*, leaf_rwx as translate() gave it. */
void td_launch_exit_ept(struct plat_guest_exit *ex, uint64_t gpa, unsigned access, uint64_t leaf_rwx);
/* A machine check on private gpa: translate() answered with PLAT_GUEST_MCE. The TD becomes
 * fatal; td_launch_run() ends with "TD fatal: machine check at GPA ...". */
void td_launch_exit_machine_check(struct plat_guest_exit *ex, uint64_t gpa);
/* The engine stopped for the host (its thread was kicked): an external-interrupt exit. */
void td_launch_exit_host(struct plat_guest_exit *ex);
/* The vCPU triple-faulted (shutdown). */
void td_launch_exit_triple_fault(struct plat_guest_exit *ex);

/* TDXEMU_TRACE-style logging of every TDCALL is on: the engine then takes every TDCALL as a
 * VM exit (no fast path), so each one is seen and logged. */
bool td_launch_tracing(const struct td_launch *l);
/* Counters for tests and the log (tdcalls: those that left the engine). */
struct td_launch_stats {
	uint64_t tdcalls, tdvmcalls, pio, mmio, ept_faults, kvm_runs, get_quotes;
	/* MapGPA (KVM_HC_MAP_GPA_RANGE) exits, and the 4 KiB pages they made shared */
	uint64_t map_gpas, pages_made_shared;
};
const struct td_launch_stats *td_launch_get_stats(const struct td_launch *l);

#endif
