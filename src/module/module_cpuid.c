/* CPUID sampling at TDH.SYS.INIT, consistency at TDH.SYS.LP.INIT, and the values the
 * system leaves report. Tables are the profile's (data/abi/cpuid-virtualization.json plus the
 * profile's overlay in data/profiles/). */
#include "module_internal.h"

#define IA32_MISC_ENABLE_BOOT_NT4 (UINT64_C(1) << 22)

static uint64_t lo(const struct cpuid_regs *r) { return ((uint64_t)r->ebx << 32) | r->eax; }
static uint64_t hi(const struct cpuid_regs *r) { return ((uint64_t)r->edx << 32) | r->ecx; }

static struct cpuid_regs and_regs(struct cpuid_regs a, struct cpuid_regs b)
{
	return (struct cpuid_regs){ a.eax & b.eax, a.ebx & b.ebx, a.ecx & b.ecx, a.edx & b.edx };
}

static bool regs_eq(struct cpuid_regs a, struct cpuid_regs b)
{
	return a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

static uint32_t entry_subleaf(const struct cpuid_lookup_desc *d)
{
	return d->subleaf == CPUID_SUBLEAF_NA ? 0 : d->subleaf;
}

/* Native CPUID, all-zero above the native maximum of the leaf's range. */
static struct cpuid_regs native(struct tdx_module *m, unsigned lp, uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	plat_cpuid(m->plat, lp, leaf, subleaf, &r);
	return r;
}

static uint64_t leaf_not_supported(uint32_t leaf)
{
	return api_error_with_operand_id(TDX_CPUID_LEAF_NOT_SUPPORTED, leaf);
}

static uint64_t incorrect_value(struct tdx_regs *regs, uint32_t leaf, uint32_t subleaf,
				struct cpuid_regs mask, struct cpuid_regs value)
{
	regs->r[TDX_REG_RCX] = leaf | ((uint64_t)subleaf << 32);
	regs->r[TDX_REG_RDX] = lo(&mask);
	regs->r[TDX_REG_R8] = hi(&mask);
	regs->r[TDX_REG_R9] = lo(&value);
	regs->r[TDX_REG_R10] = hi(&value);
	return TDX_INCORRECT_CPUID_VALUE;
}

/* Leaf-specific checks the table cannot express. */
static uint64_t check_special(struct tdx_module *m, uint32_t leaf, const struct cpuid_regs *r,
			      struct tdx_regs *regs)
{
	if (leaf == 0xa) {
		if ((r->eax & 0xff) < CPUID_PERFMON_MIN_SUPPORTED_VER || (r->edx & 0x1f) > MAX_FIXED_CTR)
			return incorrect_value(regs, leaf, 0, (struct cpuid_regs){ 0xff, 0, 0, 0x1f },
					       (struct cpuid_regs){ CPUID_PERFMON_MIN_SUPPORTED_VER, 0, 0, 0 });
	}
	if (leaf == 0x15 && r->ebx == 0)
		return leaf_not_supported(0x15);
	return TDX_SUCCESS;
}

static uint64_t sample_limits(struct tdx_module *m, unsigned lp)
{
	struct cpuid_regs r0 = native(m, lp, 0, 0), r80 = native(m, lp, CPUID_FIRST_EXTENDED_LEAF, 0);

	if (r0.eax < CPUID_MIN_LAST_CPU_BASE_LEAF)
		return leaf_not_supported(CPUID_MIN_LAST_CPU_BASE_LEAF);
	if (r80.eax < CPUID_LAST_EXTENDED_LEAF)
		return leaf_not_supported(CPUID_LAST_EXTENDED_LEAF);
	m->last_ext_leaf = r80.eax;
	return TDX_SUCCESS;
}

static uint32_t min_stepping_fms(const struct plat_sysinfo *si)
{
	uint32_t fms = si->pkg_fms[0];
	for (unsigned i = 1; i < si->num_pkgs; i++)
		if ((si->pkg_fms[i] & 0xf) < (fms & 0xf))
			fms = (fms & ~0xfu) | (si->pkg_fms[i] & 0xf);
	return fms;
}

/* The address-width check on CPUID(0x80000008). */
static uint64_t sample_address_widths(struct tdx_module *m, struct tdx_regs *regs)
{
	const struct cpuid_regs *r7 = NULL, *r88 = NULL;

	for (unsigned i = 0; i < module_cpuid_tables(m)->num_lookup; i++) {
		if (module_cpuid_tables(m)->lookup[i].leaf == 7 && module_cpuid_tables(m)->lookup[i].subleaf == 0)
			r7 = &m->cpuid_native[i];
		if (module_cpuid_tables(m)->lookup[i].leaf == 0x80000008u)
			r88 = &m->cpuid_native[i];
	}
	if (!r7 || !r88)
		return TDX_SUCCESS;
	m->max_pa = r88->eax & 0xff;
	m->la_width = (r88->eax >> 8) & 0xff;
	{
		unsigned want = (r7->ecx & (1u << 16)) ? LA57_LINEAR_ADDRESS_WIDTH : LEGACY_LINEAR_ADDRESS_WIDTH;
		if (m->la_width != want)
			return incorrect_value(regs, 0x80000008u, 0, (struct cpuid_regs){ 0, 0xff00, 0, 0 },
					       (struct cpuid_regs){ want << 8, 0, 0, 0 });
	}
	return TDX_SUCCESS;
}

uint64_t module_cpuid_sample(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t st = module_check_cpuid_maxval(m, lp);

	if (st)
		return st;
	st = sample_limits(m, lp);
	if (st)
		return st;
	for (unsigned i = 0; i < module_cpuid_tables(m)->num_lookup; i++) {
		const struct cpuid_lookup_desc *d = &module_cpuid_tables(m)->lookup[i];
		struct cpuid_regs v;

		if (!d->valid)
			continue;
		v = native(m, lp, d->leaf, entry_subleaf(d));
		if (!regs_eq(and_regs(v, d->verify_mask), d->verify_value))
			return incorrect_value(regs, d->leaf, d->subleaf, d->verify_mask, d->verify_value);
		st = check_special(m, d->leaf, &v, regs);
		if (st)
			return st;
		m->cpuid_native[i] = v;
	}
	m->platform_fms = min_stepping_fms(&m->sysinfo);
	for (unsigned i = 0; i < module_cpuid_tables(m)->num_lookup; i++)
		if (module_cpuid_tables(m)->lookup[i].valid && module_cpuid_tables(m)->lookup[i].leaf == 1)
			m->cpuid_native[i].eax = m->platform_fms;
	{
		struct cpuid_regs d0 = native(m, lp, 0xd, 0), d1 = native(m, lp, 0xd, 1);
		m->xcr0_supported = d0.eax & XCR0_USER_BIT_MASK;
		m->xss_supported = d1.ecx & XCR0_SUPERVISOR_BIT_MASK;
	}
	return sample_address_widths(m, regs);
}

uint64_t module_cpuid_check_lp(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t st = module_check_cpuid_maxval(m, lp);

	if (st)
		return st;
	for (unsigned i = 0; i < module_cpuid_tables(m)->num_lookup; i++) {
		const struct cpuid_lookup_desc *d = &module_cpuid_tables(m)->lookup[i];
		struct cpuid_regs v, sampled = m->cpuid_native[i];

		if (!d->valid)
			continue;
		v = native(m, lp, d->leaf, entry_subleaf(d));
		if (d->leaf == 1)
			sampled.eax = v.eax; /* stepping may differ per package; F/M is in verify_same */
		if (!regs_eq(and_regs(v, d->verify_same), and_regs(sampled, d->verify_same))) {
			regs->r[TDX_REG_RCX] = d->leaf | ((uint64_t)d->subleaf << 32);
			regs->r[TDX_REG_RDX] = lo(&d->verify_same);
			regs->r[TDX_REG_R8] = hi(&d->verify_same);
			return TDX_INCONSISTENT_CPUID_FIELD;
		}
	}
	return TDX_SUCCESS;
}

/* complete_cpuid_handling(): fixed-0/dynamic bits cleared, fixed-1 bits set (TDH.SYS.CONFIG). */
void module_cpuid_finalize(struct tdx_module *m)
{
	for (unsigned i = 0; i < module_cpuid_tables(m)->num_lookup; i++) {
		const struct cpuid_lookup_desc *d = &module_cpuid_tables(m)->lookup[i];
		struct cpuid_regs *v = &m->cpuid_native[i];
		v->eax = (v->eax & ~d->fixed0_or_dynamic.eax) | d->fixed1.eax;
		v->ebx = (v->ebx & ~d->fixed0_or_dynamic.ebx) | d->fixed1.ebx;
		v->ecx = (v->ecx & ~d->fixed0_or_dynamic.ecx) | d->fixed1.ecx;
		v->edx = (v->edx & ~d->fixed0_or_dynamic.edx) | d->fixed1.edx;
	}
	m->cpuid_finalized = true;
}

struct cpuid_regs module_cpuid_config_reported(const struct tdx_module *m, unsigned i)
{
	const struct cpuid_config_desc *c = &module_cpuid_tables(m)->configurable[i];
	struct cpuid_regs n = m->cpuid_native[c->lookup_index];

	return (struct cpuid_regs){ c->config_direct.eax | (c->allow_direct.eax & n.eax),
				    c->config_direct.ebx | (c->allow_direct.ebx & n.ebx),
				    c->config_direct.ecx | (c->allow_direct.ecx & n.ecx),
				    c->config_direct.edx | (c->allow_direct.edx & n.edx) };
}

uint64_t module_xfam_fixed0(const struct tdx_module *m)
{
	return TDX_XFAM_FIXED0 & (m->xcr0_supported | m->xss_supported);
}

/* Index of the platform's family/model in the allowed table, or -1. */
static int fms_index(uint32_t fms)
{
	for (unsigned i = 0; i < CPUID_NUM_ALLOWED_FMS; i++)
		if ((cpuid_allowed_fms[i].native_fms & ~0xfu) == (fms & ~0xfu))
			return (int)i;
	return -1;
}

unsigned module_num_allowed_fms(const struct tdx_module *m)
{
	int i = fms_index(m->platform_fms);
	return i < 0 ? 1 : CPUID_NUM_ALLOWED_FMS - (unsigned)i;
}

/* Element 0: the platform; then older generations with their newest allowed stepping. */
uint64_t module_allowed_fms(const struct tdx_module *m, unsigned n)
{
	int start = fms_index(m->platform_fms);

	if (n == 0)
		return m->platform_fms;
	if (start < 0 || start + n >= CPUID_NUM_ALLOWED_FMS)
		return 0;
	return cpuid_allowed_fms[start + n].native_fms | cpuid_allowed_fms[start + n].latest_stepping;
}

uint64_t module_check_cpuid_maxval(struct tdx_module *m, unsigned lp)
{
	uint64_t misc;

	if (!plat_rdmsr(m->plat, lp, MSR_IA32_MISC_ENABLE, &misc) && (misc & IA32_MISC_ENABLE_BOOT_NT4))
		return TDX_LIMIT_CPUID_MAXVAL_SET;
	return TDX_SUCCESS;
}

uint64_t module_check_tsc_adjust(struct tdx_module *m, unsigned lp)
{
	uint64_t v;

	if (plat_rdmsr(m->plat, lp, MSR_IA32_TSC_ADJUST, &v))
		v = 0;
	if (v != m->ia32_tsc_adjust)
		return api_error_with_operand_id(TDX_INCONSISTENT_MSR, MSR_IA32_TSC_ADJUST);
	return TDX_SUCCESS;
}
