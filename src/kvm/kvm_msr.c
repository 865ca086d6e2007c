/* The MSRs KVM emulates for a TD besides its LAPIC's (Linux tdx.c tdx_has_emulated_msr(),
 * tdx_{get,set}_msr() and the kvm_{get,set}_msr_common() / mtrr.c / set_msr_mce() rules they
 * fall through to): what a TD reaches with TDG.VP.VMCALL<Instruction.RDMSR/WRMSR>. Values and
 * rules come from data/kvm/tdx-msrs.json. State is per vCPU and touched only by the vCPU's
 * own KVM_RUN (and KVM_X86_SETUP_MCE before it), so it takes no lock. */
#include <errno.h>
#include <string.h>

#include "kvm_internal.h"

#define ALL_ONES UINT64_MAX
#define MC_BANK_MSRS 4u /* MCi_CTL, MCi_STATUS, MCi_ADDR, MCi_MISC */
#define MTRR_FIXED_4K_COUNT (KVM_MSR_MTRRfix4K_F8000 - KVM_MSR_MTRRfix4K_C0000 + 1)

static bool is_emulated(uint32_t msr)
{
	for (unsigned i = 0; i < KVM_TDX_EMULATED_MSRS_COUNT; i++)
		if (msr >= kvm_tdx_emulated_msrs[i].first && msr <= kvm_tdx_emulated_msrs[i].last)
			return true;
	return false;
}

static bool is_read_only(uint32_t msr)
{
	for (unsigned i = 0; i < KVM_TDX_READ_ONLY_MSRS_COUNT; i++)
		if (msr == kvm_tdx_read_only_msrs[i])
			return true;
	return false;
}

/* kvm_get_arch_capabilities() on this host: its IA32_ARCH_CAPABILITIES as KVM passes it on,
 * the bits KVM vouches for itself, and no TAA_NO when the host has no RTM. */
static uint64_t arch_capabilities(const struct kvm_vm *vm)
{
	struct cpuid_regs r;
	uint64_t host = 0;

	if (plat_rdmsr(vm->h->plat, 0, (uint32_t)KVM_MSR_IA32_ARCH_CAPABILITIES, &host))
		host = 0;
	host = (host & KVM_SUPPORTED_ARCH_CAP) | KVM_ARCH_CAP_SET;
	plat_cpuid(vm->h->plat, 0, 7, 0, &r);
	if (!(r.ebx & KVM_CPUID_7_0_EBX_RTM))
		host &= ~KVM_ARCH_CAP_CLEARED_WITHOUT_RTM;
	return host;
}

void kvm_msr_vcpu_reset(struct kvm_vcpu *v)
{
	struct kvm_msr_state *m = &v->msr;

	memset(m, 0, sizeof(*m));
	m->ucode_rev = KVM_UCODE_REV_RESET;
	m->arch_capabilities = arch_capabilities(v->vm);
	m->pat = KVM_MSR_IA32_CR_PAT_DEFAULT;
	m->misc_enable = KVM_MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL | KVM_MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
	m->platform_info = KVM_MSR_PLATFORM_INFO_CPUID_FAULT;
	m->poll_control = KVM_POLL_CONTROL_RESET;
	m->efer = KVM_TDX_EFER;
	m->mcg_cap = KVM_MAX_MCE_BANKS; /* until KVM_X86_SETUP_MCE */
}

uint64_t kvm_mce_cap_supported(unsigned *banks)
{
	if (banks)
		*banks = KVM_MAX_MCE_BANKS;
	return KVM_SUPPORTED_MCE_CAP;
}

/* kvm_vcpu_ioctl_x86_setup_mce(). */
int kvm_vcpu_setup_mce(struct kvm_vcpu *v, uint64_t mcg_cap)
{
	unsigned banks = (unsigned)(mcg_cap & KVM_MCG_BANKCNT_MASK);
	struct kvm_msr_state *m = &v->msr;

	if (kvm_vm_dead(v->vm))
		return -EIO;
	if (!banks || banks > KVM_MAX_MCE_BANKS)
		return -EINVAL;
	if (mcg_cap & ~(KVM_SUPPORTED_MCE_CAP | KVM_MCG_BANKCNT_MASK | KVM_MCG_CAP_EXTRA_OK))
		return -EINVAL;
	m->mcg_cap = mcg_cap;
	if (mcg_cap & KVM_MCG_CTL_P)
		m->mcg_ctl = ALL_ONES;
	for (unsigned b = 0; b < banks; b++) {
		m->mce_banks[b * MC_BANK_MSRS] = ALL_ONES;
		if (mcg_cap & KVM_MCG_CMCI_P)
			m->mci_ctl2[b] = 0;
	}
	return 0;
}

/* ---- MTRRs and PAT (mtrr.c) -------------------------------------------------------------- */
/* cpuid_query_maxphyaddr(): CPUID.80000008H:EAX[7:0] when the table reaches that leaf. */
static unsigned maxphyaddr(const struct kvm_vcpu *v)
{
	const struct kvm_cpuid_entry2 *e = kvm_find_cpuid_entry(v, 0x80000000u, 0);

	if (!e || e->eax < 0x80000008u || !(e = kvm_find_cpuid_entry(v, 0x80000008u, 0)))
		return KVM_MAXPHYADDR_DEFAULT;
	return e->eax & 0xffu;
}

static uint64_t *find_mtrr(struct kvm_msr_state *m, uint32_t msr)
{
	uint32_t var_end = KVM_MSR_MTRR_PHYSBASE0 + 2 * KVM_NR_VAR_MTRR;

	if (msr >= KVM_MSR_MTRR_PHYSBASE0 && msr < var_end)
		return &m->mtrr_var[msr - KVM_MSR_MTRR_PHYSBASE0];
	if (msr == KVM_MSR_MTRRfix64K_00000)
		return &m->mtrr_fixed[0];
	if (msr == KVM_MSR_MTRRfix16K_80000 || msr == KVM_MSR_MTRRfix16K_A0000)
		return &m->mtrr_fixed[1 + msr - KVM_MSR_MTRRfix16K_80000];
	if (msr >= KVM_MSR_MTRRfix4K_C0000 && msr <= KVM_MSR_MTRRfix4K_F8000)
		return &m->mtrr_fixed[3 + msr - KVM_MSR_MTRRfix4K_C0000];
	if (msr == KVM_MSR_MTRRdefType)
		return &m->mtrr_deftype;
	return NULL;
}

/* Eight memory-type bytes, each of a type in valid_mask (bit n = type n allowed). */
static bool types_valid(uint64_t val, uint64_t valid_mask)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned t = (unsigned)(val >> (i * 8)) & 0xffu;
		if (t >= 8 || !(valid_mask >> t & 1))
			return false;
	}
	return true;
}

static bool mtrr_valid(const struct kvm_vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t rsvd;

	if (msr == KVM_MSR_MTRRdefType)
		return !(val & ~KVM_MTRR_DEFTYPE_VALID) && (KVM_MTRR_VALID_TYPES >> (val & 0xff) & 1);
	if (msr >= KVM_MSR_MTRRfix64K_00000)
		return types_valid(val, KVM_MTRR_VALID_TYPES);
	rsvd = ~UINT64_C(0) << maxphyaddr(v); /* kvm_vcpu_reserved_gpa_bits_raw() */
	if (!(msr & 1)) { /* PHYSBASE: type in bits 7:0 */
		if ((val & 0xff) >= 8 || !(KVM_MTRR_VALID_TYPES >> (val & 0xff) & 1))
			return false;
		rsvd |= KVM_MTRR_PHYSBASE_RSVD;
	} else {
		rsvd |= KVM_MTRR_PHYSMASK_RSVD;
	}
	return !(val & rsvd);
}

/* ---- machine check (set_msr_mce() / get_msr_mce()) --------------------------------------- */
static unsigned nr_banks(const struct kvm_msr_state *m)
{
	return (unsigned)(m->mcg_cap & KVM_MCG_BANKCNT_MASK);
}

static bool is_bank_msr(uint32_t msr)
{
	return msr >= KVM_MSR_IA32_MC0_CTL && msr < KVM_MSR_IA32_MC0_CTL + MC_BANK_MSRS * KVM_MAX_MCE_BANKS;
}

static bool is_ctl2_msr(uint32_t msr)
{
	return msr >= KVM_MSR_IA32_MC0_CTL2 && msr < KVM_MSR_IA32_MC0_CTL2 + KVM_MAX_MCE_BANKS;
}

static int mce_get(const struct kvm_msr_state *m, uint32_t msr, uint64_t *val)
{
	if (msr == KVM_MSR_IA32_MCG_CAP)
		*val = m->mcg_cap;
	else if (msr == KVM_MSR_IA32_MCG_STATUS)
		*val = m->mcg_status;
	else if (msr == KVM_MSR_IA32_MCG_CTL && (m->mcg_cap & KVM_MCG_CTL_P))
		*val = m->mcg_ctl;
	else if (is_ctl2_msr(msr) && msr - KVM_MSR_IA32_MC0_CTL2 < nr_banks(m) && (m->mcg_cap & KVM_MCG_CMCI_P))
		*val = m->mci_ctl2[msr - KVM_MSR_IA32_MC0_CTL2];
	else if (is_bank_msr(msr) && msr - KVM_MSR_IA32_MC0_CTL < MC_BANK_MSRS * nr_banks(m))
		*val = m->mce_banks[msr - KVM_MSR_IA32_MC0_CTL];
	else
		return 1;
	return 0;
}

/* MCi_CTL takes 0 or all ones (bits 10 and 0 may be clear: old guests' workarounds);
 * MCi_STATUS only 0 on Intel; MCi_ADDR and MCi_MISC anything. */
static int bank_set(struct kvm_msr_state *m, uint32_t msr, uint64_t val)
{
	uint32_t off = msr - KVM_MSR_IA32_MC0_CTL;

	if (off >= MC_BANK_MSRS * nr_banks(m))
		return 1;
	if (off % MC_BANK_MSRS == 0 && val && (val | KVM_MCI_CTL_OPTIONAL_BITS) != ALL_ONES)
		return 1;
	if (off % MC_BANK_MSRS == 1 && val)
		return 1;
	m->mce_banks[off] = val;
	return 0;
}

static int mce_set(struct kvm_msr_state *m, uint32_t msr, uint64_t val)
{
	if (msr == KVM_MSR_IA32_MCG_STATUS) {
		m->mcg_status = val;
		return 0;
	}
	if (msr == KVM_MSR_IA32_MCG_CTL) {
		if (!(m->mcg_cap & KVM_MCG_CTL_P) || (val && val != ALL_ONES))
			return 1;
		m->mcg_ctl = val;
		return 0;
	}
	if (is_ctl2_msr(msr)) {
		uint32_t b = msr - KVM_MSR_IA32_MC0_CTL2;
		if (b >= nr_banks(m) || !(m->mcg_cap & KVM_MCG_CMCI_P) || (val & ~KVM_MCI_CTL2_VALID))
			return 1;
		m->mci_ctl2[b] = val;
		return 0;
	}
	if (is_bank_msr(msr))
		return bank_set(m, msr, val);
	return 1; /* MCG_CAP: KVM_X86_SETUP_MCE's */
}

static bool is_mce_msr(uint32_t msr)
{
	return (msr >= KVM_MSR_IA32_MCG_CAP && msr <= KVM_MSR_IA32_MCG_CTL) || is_bank_msr(msr) || is_ctl2_msr(msr);
}

/* ---- the entry points ------------------------------------------------------------------- */
static bool guest_has_arch_capabilities(const struct kvm_vcpu *v)
{
	const struct kvm_cpuid_entry2 *e = kvm_find_cpuid_entry(v, 7, 0);

	return e && (e->edx & KVM_CPUID_7_0_EDX_ARCH_CAPABILITIES);
}

/* kvm_get_msr_common()'s values for the MSRs it keeps in one field. */
static uint64_t *plain_msr(struct kvm_msr_state *m, uint32_t msr)
{
	switch (msr) {
	case KVM_MSR_IA32_UCODE_REV: return &m->ucode_rev;
	case KVM_MSR_IA32_POWER_CTL: return &m->power_ctl;
	case KVM_MSR_IA32_CR_PAT: return &m->pat;
	case KVM_MSR_IA32_MISC_ENABLE: return &m->misc_enable;
	case KVM_MSR_PLATFORM_INFO: return &m->platform_info;
	case KVM_MSR_MISC_FEATURES_ENABLES: return &m->misc_features;
	case KVM_MSR_KVM_POLL_CONTROL: return &m->poll_control;
	case KVM_MSR_EFER: return &m->efer;
	default: return NULL;
	}
}

int kvm_msr_rdmsr(struct kvm_vcpu *v, uint32_t msr, uint64_t *val)
{
	struct kvm_msr_state *m = &v->msr;
	uint64_t *p;

	if (msr == KVM_MSR_IA32_FEAT_CTL) { /* tdx_get_msr() */
		*val = KVM_FEAT_CTL_LOCKED | (m->mcg_cap & KVM_MCG_LMCE_P ? KVM_FEAT_CTL_LMCE_ENABLED : 0);
		return 0;
	}
	if (msr == KVM_MSR_IA32_MCG_EXT_CTL) {
		if (!(m->mcg_cap & KVM_MCG_LMCE_P))
			return 1;
		*val = m->mcg_ext_ctl;
		return 0;
	}
	if (!is_emulated(msr))
		return 1;
	if (msr == KVM_MSR_IA32_ARCH_CAPABILITIES) {
		if (!guest_has_arch_capabilities(v))
			return 1;
		*val = m->arch_capabilities;
		return 0;
	}
	if (msr == KVM_MSR_MTRRcap) {
		*val = KVM_MTRRCAP_VALUE | KVM_NR_VAR_MTRR;
		return 0;
	}
	if (is_mce_msr(msr))
		return mce_get(m, msr, val);
	if ((p = plain_msr(m, msr)) || (p = find_mtrr(m, msr))) {
		*val = *p;
		return 0;
	}
	return 1; /* the LAPIC's (APICBASE, TSC_DEADLINE, x2APIC), or no MTRR there */
}

/* MISC_ENABLE: the PMU "unavailable" bits are read-only (a change faults), EMON writes are
 * dropped; MWAIT is an ordinary bit (KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT is on by default). */
static int misc_enable_set(struct kvm_msr_state *m, uint64_t val)
{
	const uint64_t ro = KVM_MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL | KVM_MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;

	if ((m->misc_enable ^ val) & ro)
		return 1;
	val = (val & ~KVM_MSR_IA32_MISC_ENABLE_EMON) | (m->misc_enable & KVM_MSR_IA32_MISC_ENABLE_EMON);
	m->misc_enable = val;
	return 0;
}

static int misc_features_set(struct kvm_msr_state *m, uint64_t val)
{
	if (val & ~KVM_MSR_MISC_FEATURES_ENABLES_CPUID_FAULT)
		return 1;
	if (val && !(m->platform_info & KVM_MSR_PLATFORM_INFO_CPUID_FAULT))
		return 1;
	m->misc_features = val;
	return 0;
}

static int common_set(struct kvm_vcpu *v, uint32_t msr, uint64_t val)
{
	struct kvm_msr_state *m = &v->msr;
	uint64_t *p;

	switch (msr) {
	case KVM_MSR_IA32_UCODE_REV: return 0; /* a guest write is ignored */
	case KVM_MSR_IA32_ARCH_CAPABILITIES: return 1;
	case KVM_MSR_PLATFORM_INFO: return 1;
	case KVM_MSR_MTRRcap: return 1;
	case KVM_MSR_IA32_POWER_CTL: m->power_ctl = val; return 0;
	case KVM_MSR_IA32_CR_PAT:
		if (!types_valid(val, KVM_PAT_VALID_TYPES))
			return 1;
		m->pat = val;
		return 0;
	case KVM_MSR_IA32_MISC_ENABLE: return misc_enable_set(m, val);
	case KVM_MSR_MISC_FEATURES_ENABLES: return misc_features_set(m, val);
	case KVM_MSR_KVM_POLL_CONTROL:
		if (val & ~KVM_POLL_CONTROL_VALID)
			return 1;
		m->poll_control = val;
		return 0;
	default: break;
	}
	if (is_mce_msr(msr))
		return mce_set(m, msr, val);
	if (!(p = find_mtrr(m, msr)) || !mtrr_valid(v, msr, val))
		return 1;
	*p = val;
	return 0;
}

int kvm_msr_wrmsr(struct kvm_vcpu *v, uint32_t msr, uint64_t val)
{
	struct kvm_msr_state *m = &v->msr;

	if (msr == KVM_MSR_IA32_MCG_EXT_CTL) { /* tdx_set_msr() */
		if (!(m->mcg_cap & KVM_MCG_LMCE_P) || (val & ~KVM_MCG_EXT_CTL_LMCE_EN))
			return 1;
		m->mcg_ext_ctl = val;
		return 0;
	}
	if (is_read_only(msr) || !is_emulated(msr))
		return 1;
	return common_set(v, msr, val);
}
