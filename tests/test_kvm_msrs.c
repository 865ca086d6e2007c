/* The MSRs KVM emulates for a TD (kvm_msr.c) through TDVMCALL<Instruction.RDMSR/WRMSR> in
 * KVM_RUN and the real TDH.VP.ENTER: reset values, write/read-back, read-only refusals, KVM's
 * MTRR/PAT validity checks, MSRs outside the set, and the machine-check MSRs before and after
 * KVM_X86_SETUP_MCE. Every refusal is TDVMCALL_STATUS_INVALID_OPERAND. */
#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm_internal.h"
#include "x2apic.h"

#define OK TDVMCALL_STATUS_SUCCESS
#define INVALID TDVMCALL_STATUS_INVALID_OPERAND
#define MAX_STEPS 64

struct mstep {
	uint64_t r11, r12, r13;
};

struct mscript {
	const struct mstep *s;
	unsigned n, i;
	uint64_t r10[MAX_STEPS], r11[MAX_STEPS];
};

#define RD(msr) { EXIT_REASON_RDMSR, (msr), 0 }
#define WR(msr, v) { EXIT_REASON_WRMSR, (msr), (v) }

/* Each entry: record what KVM answered to the previous TDVMCALL, issue the next one; the
 * script's end is a triple fault (KVM_EXIT_SHUTDOWN). */
static uint64_t play(void *ctx, struct kvm_vcpu *v, struct kvm_vp_enter_args *a)
{
	struct mscript *sc = ctx;

	(void)v;
	if (sc->i > 0)
		sc->r10[sc->i - 1] = a->r10, sc->r11[sc->i - 1] = a->r11;
	if (sc->i >= sc->n)
		return EXIT_REASON_TRIPLE_FAULT;
	*a = (struct kvm_vp_enter_args){ .r11 = sc->s[sc->i].r11, .r12 = sc->s[sc->i].r12, .r13 = sc->s[sc->i].r13 };
	sc->i++;
	return EXIT_REASON_TDCALL;
}

static const struct kvm_engine_ops play_ops = { play };

static bool set_td_cpuid(struct fx_kvm *k);

/* A finalized TD with vCPU 0; with_cpuid: KVM_SET_CPUID2 with the TD's CPUID first. */
static bool td_up_cpuid(struct fx_kvm *k, bool with_cpuid)
{
	uint64_t hw;

	return fx_kvm_up(k) && fx_kvm_init(k) && (!with_cpuid || set_td_cpuid(k)) &&
	       kvm_tdx_finalize_vm(k->vm, &hw) == 0;
}

static bool td_up(struct fx_kvm *k)
{
	return td_up_cpuid(k, false);
}

/* Run the whole script on vCPU 0; false unless it ended in the triple fault. */
static bool run_script(struct fx_kvm *k, struct mscript *sc, const struct mstep *s, unsigned n)
{
	memset(sc, 0, sizeof(*sc));
	sc->s = s, sc->n = n;
	kvm_vcpu_set_engine(k->vcpu, &play_ops, sc);
	return kvm_vcpu_run(k->vcpu) == 0 && kvm_vcpu_run_struct(k->vcpu)->exit_reason == KVM_EXIT_SHUTDOWN &&
	       sc->i == n;
}

/* KVM_SET_CPUID2 with the TD's own CPUID (KVM_TDX_GET_CPUID, before FINALIZE_VM), as the
 * launcher and QEMU do. */
static bool set_td_cpuid(struct fx_kvm *k)
{
	static struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[KVM_MAX_CPUID_ENTRIES];
	} t;

	t.c.nent = KVM_MAX_CPUID_ENTRIES;
	return kvm_tdx_get_cpuid(k->vcpu, &t.c) == 0 && kvm_vcpu_set_cpuid2(k->vcpu, &t.c) == 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MC_CTL(b) (KVM_MSR_IA32_MC0_CTL + 4 * (b))
#define MC_STATUS(b) (MC_CTL(b) + 1)
#define MC_ADDR(b) (MC_CTL(b) + 2)
#define MC_CTL2(b) (KVM_MSR_IA32_MC0_CTL2 + (b))

static const struct mstep reset_steps[] = {
	RD(KVM_MSR_IA32_UCODE_REV),        /* 0 */
	RD(KVM_MSR_IA32_POWER_CTL),        /* 1 */
	RD(KVM_MSR_IA32_CR_PAT),           /* 2 */
	RD(KVM_MSR_MTRRcap),               /* 3 */
	RD(KVM_MSR_MTRRdefType),           /* 4 */
	RD(KVM_MSR_MTRR_PHYSBASE0 + 15),   /* 5: PHYSMASK7 */
	RD(KVM_MSR_MTRRfix4K_F8000),       /* 6 */
	RD(KVM_MSR_IA32_MISC_ENABLE),      /* 7 */
	RD(KVM_MSR_PLATFORM_INFO),         /* 8 */
	RD(KVM_MSR_MISC_FEATURES_ENABLES), /* 9 */
	RD(KVM_MSR_EFER),                  /* 10 */
	RD(KVM_MSR_IA32_FEAT_CTL),         /* 11 */
	RD(KVM_MSR_KVM_POLL_CONTROL),      /* 12 */
	RD(KVM_MSR_IA32_MCG_CAP),          /* 13: KVM's default before KVM_X86_SETUP_MCE */
	RD(KVM_MSR_IA32_MCG_STATUS),       /* 14 */
	RD(KVM_MSR_IA32_MCG_CTL),          /* 15: no MCG_CTL_P */
	RD(MC_CTL(0)),                     /* 16 */
	RD(MC_CTL(31)),                    /* 17: the 32nd bank exists */
	RD(KVM_MSR_IA32_MCG_EXT_CTL),      /* 18: no LMCE_P */
	RD(KVM_MSR_IA32_ARCH_CAPABILITIES), /* 19: no CPUID table: the guest lacks the feature */
	RD(MSR_IA32_APIC_BASE),            /* 20: still the LAPIC's */
};

TEST(kvm_msrs_reset_values)
{
	struct fx_kvm k;
	struct mscript sc;

	REQUIRE(td_up(&k));
	REQUIRE(run_script(&k, &sc, reset_steps, N(reset_steps)));
	for (unsigned i = 0; i < N(reset_steps); i++)
		if (i != 15 && i != 18 && i != 19)
			CHECK_EQ(sc.r10[i], OK);
	CHECK_EQ(sc.r11[0], UINT64_C(0x100000000));
	CHECK_EQ(sc.r11[1], 0u);
	CHECK_EQ(sc.r11[2], UINT64_C(0x0007040600070406));
	CHECK_EQ(sc.r11[3], 0x508u); /* WC | FIX | 8 variable MTRRs */
	CHECK_EQ(sc.r11[4], 0u);
	CHECK_EQ(sc.r11[5], 0u);
	CHECK_EQ(sc.r11[6], 0u);
	CHECK_EQ(sc.r11[7], 0x1800u); /* PEBS_UNAVAIL | BTS_UNAVAIL */
	CHECK_EQ(sc.r11[8], 0x80000000u); /* CPUID_FAULT */
	CHECK_EQ(sc.r11[9], 0u);
	CHECK_EQ(sc.r11[10], 0xD01u); /* SCE | LME | LMA | NX */
	CHECK_EQ(sc.r11[11], 1u);     /* locked, no LMCE */
	CHECK_EQ(sc.r11[12], 1u);
	CHECK_EQ(sc.r11[13], 32u);
	CHECK_EQ(sc.r11[14], 0u);
	CHECK_EQ(sc.r10[15], INVALID);
	CHECK_EQ(sc.r11[16], 0u);
	CHECK_EQ(sc.r11[17], 0u);
	CHECK_EQ(sc.r10[18], INVALID);
	CHECK_EQ(sc.r10[19], INVALID);
	CHECK_EQ(sc.r11[20] & APIC_BASE_EXTD, APIC_BASE_EXTD);
	fx_kvm_down(&k);
}

static const struct mstep rw_steps[] = {
	WR(KVM_MSR_IA32_CR_PAT, UINT64_C(0x0007010600070406)),   /* 0: UC, WC, WT, WP, WB, UC- */
	RD(KVM_MSR_IA32_CR_PAT),                                 /* 1 */
	WR(KVM_MSR_IA32_CR_PAT, UINT64_C(0x0007040600070402)),   /* 2: type 2 */
	WR(KVM_MSR_IA32_CR_PAT, UINT64_C(0x0807040600070406)),   /* 3: type 8 */
	RD(KVM_MSR_IA32_CR_PAT),                                 /* 4: unchanged */
	WR(KVM_MSR_MTRRdefType, 0xC06),                          /* 5: E | FE | WB */
	RD(KVM_MSR_MTRRdefType),                                 /* 6 */
	WR(KVM_MSR_MTRRdefType, 0xC07),                          /* 7: type 7 is PAT-only */
	WR(KVM_MSR_MTRRdefType, 0xC02),                          /* 8: type 2 reserved */
	WR(KVM_MSR_MTRRdefType, 0x1006),                         /* 9: reserved bit 12 */
	WR(KVM_MSR_MTRR_PHYSBASE0 + 2, UINT64_C(0x80000006)),    /* 10: PHYSBASE1 WB at 2 GiB */
	RD(KVM_MSR_MTRR_PHYSBASE0 + 2),                          /* 11 */
	WR(KVM_MSR_MTRR_PHYSBASE0 + 3, UINT64_C(0xF80000800)),   /* 12: PHYSMASK1, valid, 2 GiB */
	RD(KVM_MSR_MTRR_PHYSBASE0 + 3),                          /* 13 */
	WR(KVM_MSR_MTRR_PHYSBASE0, 0x106),                       /* 14: base reserved bit 8 */
	WR(KVM_MSR_MTRR_PHYSBASE0 + 1, 0x400),                   /* 15: mask reserved bit 10 */
	WR(KVM_MSR_MTRR_PHYSBASE0, 3),                           /* 16: type 3 */
	WR(KVM_MSR_MTRR_PHYSBASE0 + 1, UINT64_C(1) << 63 | 0x800), /* 17: above MAXPHYADDR */
	WR(KVM_MSR_MTRRfix64K_00000, UINT64_C(0x0606060606060606)), /* 18 */
	RD(KVM_MSR_MTRRfix64K_00000),                            /* 19 */
	WR(KVM_MSR_MTRRfix16K_A0000, UINT64_C(0x0000000001010101)), /* 20: UC and WC */
	RD(KVM_MSR_MTRRfix16K_A0000),                            /* 21 */
	WR(KVM_MSR_MTRRfix4K_C0000, UINT64_C(0x0606060607060606)), /* 22: a type-7 byte */
	WR(KVM_MSR_MTRR_PHYSBASE0 + 16, 6),                      /* 23: a 9th variable MTRR */
	RD(KVM_MSR_MTRRfix64K_00000 + 1),                        /* 24: a hole in the range */
	WR(KVM_MSR_MTRRcap, 0x508),                              /* 25: read-only */
	WR(KVM_MSR_IA32_POWER_CTL, UINT64_C(0xDEADBEEF00000001)), /* 26: any value */
	RD(KVM_MSR_IA32_POWER_CTL),                              /* 27 */
	WR(KVM_MSR_IA32_UCODE_REV, 0),                           /* 28: ignored */
	RD(KVM_MSR_IA32_UCODE_REV),                              /* 29 */
	WR(KVM_MSR_IA32_MISC_ENABLE, 0x1801),                    /* 30: fast strings */
	RD(KVM_MSR_IA32_MISC_ENABLE),                            /* 31 */
	WR(KVM_MSR_IA32_MISC_ENABLE, 0x1001),                    /* 32: BTS_UNAVAIL is read-only */
	WR(KVM_MSR_IA32_MISC_ENABLE, 0x1881),                    /* 33: EMON write dropped */
	RD(KVM_MSR_IA32_MISC_ENABLE),                            /* 34 */
	WR(KVM_MSR_MISC_FEATURES_ENABLES, 1),                    /* 35: CPUID faulting */
	RD(KVM_MSR_MISC_FEATURES_ENABLES),                       /* 36 */
	WR(KVM_MSR_MISC_FEATURES_ENABLES, 2),                    /* 37 */
	WR(KVM_MSR_KVM_POLL_CONTROL, 0),                         /* 38 */
	RD(KVM_MSR_KVM_POLL_CONTROL),                            /* 39 */
	WR(KVM_MSR_KVM_POLL_CONTROL, 2),                         /* 40 */
	WR(KVM_MSR_PLATFORM_INFO, 0),                            /* 41: host-initiated only */
	WR(KVM_MSR_EFER, 0xD01),                                 /* 42: read-only for a TD */
	WR(KVM_MSR_IA32_FEAT_CTL, 1),                            /* 43: read-only for a TD */
	WR(MSR_IA32_APIC_BASE, 0xFEE00D00),                      /* 44: read-only for a TD */
	WR(KVM_MSR_IA32_ARCH_CAPABILITIES, 0),                   /* 45: host-initiated only */
	RD(0x10),                                                /* 46: TSC: not in the set */
	WR(0x1D9, 0),                                            /* 47: DEBUGCTL: not in the set */
	RD(UINT64_C(0xC0000081)),                                /* 48: STAR: not in the set */
	RD(UINT64_C(1) << 32 | KVM_MSR_IA32_CR_PAT),             /* 49: R12 above 32 bits */
	WR(KVM_MSR_IA32_MCG_CAP, 0x10A),                         /* 50: KVM_X86_SETUP_MCE's */
};

TEST(kvm_msrs_write_read_back_and_refusals)
{
	static const unsigned refused[] = { 2, 3, 7, 8, 9, 14, 15, 16, 17, 22, 23, 24, 25, 32,
					    37, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50 };
	struct fx_kvm k;
	struct mscript sc;
	bool bad[N(rw_steps)] = { false };

	REQUIRE(td_up(&k));
	REQUIRE(run_script(&k, &sc, rw_steps, N(rw_steps)));
	for (unsigned i = 0; i < N(refused); i++)
		bad[refused[i]] = true;
	for (unsigned i = 0; i < N(rw_steps); i++)
		CHECK_EQ(sc.r10[i], bad[i] ? INVALID : OK);
	CHECK_EQ(sc.r11[1], UINT64_C(0x0007010600070406));
	CHECK_EQ(sc.r11[4], UINT64_C(0x0007010600070406));
	CHECK_EQ(sc.r11[6], 0xC06u);
	CHECK_EQ(sc.r11[11], UINT64_C(0x80000006));
	CHECK_EQ(sc.r11[13], UINT64_C(0xF80000800));
	CHECK_EQ(sc.r11[19], UINT64_C(0x0606060606060606));
	CHECK_EQ(sc.r11[21], UINT64_C(0x0000000001010101));
	CHECK_EQ(sc.r11[27], UINT64_C(0xDEADBEEF00000001));
	CHECK_EQ(sc.r11[29], UINT64_C(0x100000000));
	CHECK_EQ(sc.r11[31], 0x1801u);
	CHECK_EQ(sc.r11[34], 0x1801u);
	CHECK_EQ(sc.r11[36], 1u);
	CHECK_EQ(sc.r11[39], 0u);
	fx_kvm_down(&k);
}

/* MAXPHYADDR comes from the vCPU's CPUID (0x80000008): 36 bits without a table. */
static const struct mstep maxpa_steps[] = {
	WR(KVM_MSR_MTRR_PHYSBASE0 + 1, UINT64_C(0xFFFFFF000) | 0x800), /* 0: bits 35:12 */
	WR(KVM_MSR_MTRR_PHYSBASE0 + 1, UINT64_C(0x1FFFFFF000) | 0x800), /* 1: bit 36 */
	RD(KVM_MSR_IA32_ARCH_CAPABILITIES),                             /* 2 */
};

TEST(kvm_msrs_maxphyaddr_and_arch_capabilities_follow_cpuid)
{
	struct fx_kvm k;
	struct mscript sc;
	struct cpuid_regs r7;
	uint64_t host = 0;
	const struct kvm_cpuid_entry2 *e;

	REQUIRE(td_up(&k));
	REQUIRE(run_script(&k, &sc, maxpa_steps, N(maxpa_steps)));
	CHECK_EQ(sc.r10[0], OK);
	CHECK_EQ(sc.r10[1], INVALID);
	CHECK_EQ(sc.r10[2], INVALID);
	fx_kvm_down(&k);

	REQUIRE(td_up_cpuid(&k, true));
	e = kvm_find_cpuid_entry(k.vcpu, 0x80000008u, 0);
	REQUIRE(e != NULL);
	REQUIRE((e->eax & 0xff) > 36);
	REQUIRE(run_script(&k, &sc, maxpa_steps, N(maxpa_steps)));
	CHECK_EQ(sc.r10[0], OK);
	CHECK_EQ(sc.r10[1], OK); /* bit 36 is below the TD's MAXPHYADDR now */
	e = kvm_find_cpuid_entry(k.vcpu, 7, 0);
	REQUIRE(e != NULL);
	if (e->edx & KVM_CPUID_7_0_EDX_ARCH_CAPABILITIES) {
		/* the host's value as KVM passes it on: no bit outside KVM's list (the host has
		 * e.g. XAPIC_DISABLE_STATUS and MISC_PACKAGE_CTLS), plus what KVM vouches for */
		REQUIRE_EQ(plat_rdmsr(k.f.p, 0, (uint32_t)KVM_MSR_IA32_ARCH_CAPABILITIES, &host), 0);
		CHECK_EQ(sc.r10[2], OK);
		CHECK_EQ(sc.r11[2] & ~KVM_SUPPORTED_ARCH_CAP, 0u);
		CHECK(host & ~KVM_SUPPORTED_ARCH_CAP); /* so the masking was exercised */
		CHECK_EQ(sc.r11[2] & KVM_ARCH_CAP_SET, KVM_ARCH_CAP_SET);
		plat_cpuid(k.f.p, 0, 7, 0, &r7);
		CHECK_EQ(sc.r11[2], ((host & KVM_SUPPORTED_ARCH_CAP) | KVM_ARCH_CAP_SET) &
				     ~(r7.ebx & KVM_CPUID_7_0_EBX_RTM ? 0 : KVM_ARCH_CAP_TAA_NO));
	} else {
		CHECK_EQ(sc.r10[2], INVALID);
	}
	fx_kvm_down(&k);
}

/* QEMU's default MCG_CAP: MCG_CTL_P | MCG_SER_P, 10 banks. */
static const struct mstep mce_steps[] = {
	RD(KVM_MSR_IA32_MCG_CAP),              /* 0 */
	RD(KVM_MSR_IA32_MCG_CTL),              /* 1: all ones after setup */
	RD(MC_CTL(0)),                         /* 2 */
	RD(MC_CTL(9)),                         /* 3 */
	RD(MC_CTL(10)),                        /* 4: no 11th bank */
	WR(MC_CTL(10), 0),                     /* 5 */
	WR(MC_CTL(0), 0),                      /* 6 */
	RD(MC_CTL(0)),                         /* 7 */
	WR(MC_CTL(0), 0x1234),                 /* 8: neither 0 nor all ones */
	WR(MC_CTL(1), ~UINT64_C(0x401)),       /* 9: bits 10 and 0 may be clear */
	RD(MC_CTL(1)),                         /* 10 */
	WR(MC_STATUS(2), 0),                   /* 11 */
	WR(MC_STATUS(2), UINT64_C(1) << 63),   /* 12: only 0 on Intel */
	WR(MC_ADDR(3), UINT64_C(0x123456789)), /* 13 */
	RD(MC_ADDR(3)),                        /* 14 */
	WR(KVM_MSR_IA32_MCG_CTL, 5),           /* 15 */
	WR(KVM_MSR_IA32_MCG_CTL, 0),           /* 16 */
	RD(KVM_MSR_IA32_MCG_CTL),              /* 17 */
	WR(KVM_MSR_IA32_MCG_STATUS, 4),        /* 18: MCIP */
	RD(KVM_MSR_IA32_MCG_STATUS),           /* 19 */
	RD(MC_CTL2(0)),                        /* 20: no MCG_CMCI_P */
	WR(MC_CTL2(0), 0),                     /* 21 */
	RD(KVM_MSR_IA32_MCG_EXT_CTL),          /* 22: no MCG_LMCE_P */
	WR(KVM_MSR_IA32_MCG_EXT_CTL, 1),       /* 23 */
	RD(KVM_MSR_IA32_FEAT_CTL),             /* 24 */
};

TEST(kvm_msrs_mce_banks_qemu_default)
{
	static const unsigned refused[] = { 4, 5, 8, 12, 15, 20, 21, 22, 23 };
	struct fx_kvm k;
	struct mscript sc;
	unsigned banks = 0;
	uint64_t sup = kvm_mce_cap_supported(&banks);
	bool bad[N(mce_steps)] = { false };

	CHECK_EQ(banks, 32u);
	CHECK_EQ(sup & (KVM_MCG_CTL_P | KVM_MCG_SER_P), KVM_MCG_CTL_P | KVM_MCG_SER_P);
	REQUIRE(td_up(&k));
	REQUIRE_EQ(kvm_vcpu_setup_mce(k.vcpu, QEMU_MCE_CAP_DEF | QEMU_MCE_BANKS_DEF), 0);
	REQUIRE(run_script(&k, &sc, mce_steps, N(mce_steps)));
	for (unsigned i = 0; i < N(refused); i++)
		bad[refused[i]] = true;
	for (unsigned i = 0; i < N(mce_steps); i++)
		CHECK_EQ(sc.r10[i], bad[i] ? INVALID : OK);
	CHECK_EQ(sc.r11[0], UINT64_C(0x100010A));
	CHECK_EQ(sc.r11[1], UINT64_MAX);
	CHECK_EQ(sc.r11[2], UINT64_MAX);
	CHECK_EQ(sc.r11[3], UINT64_MAX);
	CHECK_EQ(sc.r11[7], 0u);
	CHECK_EQ(sc.r11[10], ~UINT64_C(0x401));
	CHECK_EQ(sc.r11[14], UINT64_C(0x123456789));
	CHECK_EQ(sc.r11[17], 0u);
	CHECK_EQ(sc.r11[19], 4u);
	CHECK_EQ(sc.r11[24], 1u);
	fx_kvm_down(&k);
}

static const struct mstep lmce_steps[] = {
	RD(KVM_MSR_IA32_FEAT_CTL),               /* 0: LMCE enabled by "BIOS" */
	WR(KVM_MSR_IA32_MCG_EXT_CTL, 1),         /* 1 */
	RD(KVM_MSR_IA32_MCG_EXT_CTL),            /* 2 */
	WR(KVM_MSR_IA32_MCG_EXT_CTL, 2),         /* 3: only LMCE_EN */
	RD(MC_CTL2(1)),                          /* 4: reset 0 */
	WR(MC_CTL2(1), UINT64_C(0x40000010)),    /* 5: CMCI_EN, threshold 16 */
	RD(MC_CTL2(1)),                          /* 6 */
	WR(MC_CTL2(1), 0x8000),                  /* 7: reserved bit 15 */
	WR(MC_CTL2(2), 0),                       /* 8: two banks only */
	RD(KVM_MSR_IA32_MCG_CTL),                /* 9: no MCG_CTL_P */
};

TEST(kvm_msrs_mce_lmce_cmci_and_setup_errors)
{
	static const unsigned refused[] = { 3, 7, 8, 9 };
	struct fx_kvm k;
	struct mscript sc;
	bool bad[N(lmce_steps)] = { false };

	REQUIRE(td_up(&k));
	CHECK_EQ(kvm_vcpu_setup_mce(k.vcpu, 0), -EINVAL);            /* no bank */
	CHECK_EQ(kvm_vcpu_setup_mce(k.vcpu, 33), -EINVAL);           /* above KVM_MAX_MCE_BANKS */
	CHECK_EQ(kvm_vcpu_setup_mce(k.vcpu, 1u << 9 | 2), -EINVAL);  /* MCG_EXT_P: unsupported */
	REQUIRE_EQ(kvm_vcpu_setup_mce(k.vcpu, KVM_MCG_LMCE_P | KVM_MCG_CMCI_P | 2), 0);
	REQUIRE(run_script(&k, &sc, lmce_steps, N(lmce_steps)));
	for (unsigned i = 0; i < N(refused); i++)
		bad[refused[i]] = true;
	for (unsigned i = 0; i < N(lmce_steps); i++)
		CHECK_EQ(sc.r10[i], bad[i] ? INVALID : OK);
	CHECK_EQ(sc.r11[0], KVM_FEAT_CTL_LOCKED | KVM_FEAT_CTL_LMCE_ENABLED);
	CHECK_EQ(sc.r11[2], 1u);
	CHECK_EQ(sc.r11[4], 0u);
	CHECK_EQ(sc.r11[6], UINT64_C(0x40000010));
	fx_kvm_down(&k);
}
