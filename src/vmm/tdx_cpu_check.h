/* QEMU's CPU feature check for a TD, as a library: the CPUID QEMU asks for with
 * -cpu MODEL,+feat,..., filtered against what KVM/TDX supports ("host doesn't support
 * requested feature"), a throw-away TD created through the KVM API with the CPUID QEMU
 * would pass, and the TD's real CPUID compared with the request ("TDX forcibly sets the
 * feature"). Every bit of the TD's CPUID is tagged with where its value comes from, found
 * by experiment (capabilities, probe TDs, native CPUID), not from the module's tables.
 * The launcher that links QEMU against tdxemu calls the same code. */
#ifndef TDX_CPU_CHECK_H
#define TDX_CPU_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/kvm.h"
#include "qemu_cpu.h"

enum tcc_origin {
	TCC_ORIGIN_NATIVE,     /* what CPUID says on the host, passed through */
	TCC_ORIGIN_FIXED1,     /* 1 in the TD although the host says 0 */
	TCC_ORIGIN_FIXED0,     /* 0 in the TD although the host says 1 */
	TCC_ORIGIN_CONFIGURED, /* configurable per KVM_TDX_CAPABILITIES: the VMM chose it */
	TCC_ORIGIN_ATTRIBUTE,  /* follows TD ATTRIBUTES (probe TDs differ) */
	TCC_ORIGIN_XFAM,       /* follows XFAM (probe TDs differ) */
	TCC_ORIGIN_COUNT
};
const char *tcc_origin_name(enum tcc_origin o);

/* The host's own CPUID (what the CPUID instruction says outside any TD). */
struct tcc_native {
	void (*cpuid)(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
	void *ctx;
};

/* A parsed -cpu string: MODEL[,+feat|-feat|feat=on|off|feat|enforce|check=on|off...]. */
struct tcc_cpu {
	int model;                               /* index into qemu_cpu_models[] */
	uint32_t on[QEMU_FEATURE_WORDS];         /* feat=on / bare feat (last one wins) */
	uint32_t off[QEMU_FEATURE_WORDS];        /* feat=off */
	uint32_t plus[QEMU_FEATURE_WORDS];       /* +feat, applied after the properties */
	uint32_t minus[QEMU_FEATURE_WORDS];      /* -feat, applied last */
	bool check, enforce;
};
/* 0, or -1 with a precise message in err (unknown model, unknown feature, bad syntax). */
int tcc_parse_cpu(const char *spec, struct tcc_cpu *cpu, char *err, size_t errlen);

struct tcc_request {
	const char *cpu;     /* the -cpu argument */
	uint64_t attributes; /* tdx-guest attributes before QEMU adds PKS/PERFMON (QEMU: SEPT_VE_DISABLE) */
	bool legacy_wording; /* "CPUID.07H:EBX" (QEMU < 10.1) instead of "CPUID[eax=07h,ecx=00h].EBX" */
};

enum tcc_msg_kind { TCC_MSG_WARNING, TCC_MSG_ERROR, TCC_MSG_NOTE };
struct tcc_msg {
	enum tcc_msg_kind kind;
	char text[224];
};

/* One register of the TD's CPUID as KVM_TDX_GET_CPUID reports it. */
struct tcc_reg {
	uint32_t leaf, subleaf;
	uint8_t reg;          /* 0 EAX .. 3 EDX */
	int word;             /* enum qemu_feature_word, or -1 */
	uint32_t value;       /* in the TD */
	uint32_t native;      /* on the host */
	uint32_t configurable, xfam_dep, attr_dep;
	uint8_t origin[32];   /* enum tcc_origin per bit */
};

struct tcc_result {
	const char *model;               /* canonical model name */
	bool qemu_accepts_model;
	bool check, enforce;
	bool failed;                     /* QEMU would refuse to start (an error message says why) */
	uint64_t attributes, xfam;       /* what QEMU passes to KVM_TDX_INIT_VM */
	uint32_t requested[QEMU_FEATURE_WORDS]; /* after filtering, before the TDX check */
	uint32_t final[QEMU_FEATURE_WORDS];     /* after the TDX check (what the guest sees) */
	unsigned nmsg;
	struct tcc_msg *msg;
	unsigned nreg;                   /* 0 when QEMU stopped before the TD existed */
	struct tcc_reg *reg;
};

/* Run the check. 0: result filled (result->failed tells whether QEMU would stop);
 * -1: bad request, -2: KVM/TDX failure; err says which. The messages gathered so far are
 * kept either way: always release with tcc_result_free(). */
int tdx_cpu_check(struct kvm_dev *kvm, const struct tcc_native *native, const struct tcc_request *req,
		  struct tcc_result *res, char *err, size_t errlen);
void tcc_result_free(struct tcc_result *res);

/* KVM_TDX_CAPABILITIES through a throw-away VM, the buffer grown like QEMU does.
 * 0 with *caps malloc'ed, or a negative errno. */
int tcc_get_capabilities(struct kvm_dev *kvm, struct kvm_tdx_capabilities **caps);

/* QEMU's feature word for a CPUID register (-1: none), and a bit's name (NULL: unnamed). */
int tcc_word_of(uint32_t leaf, uint32_t subleaf, unsigned reg);
const char *tcc_bit_name(uint32_t leaf, uint32_t subleaf, unsigned reg, unsigned bit);

#endif
