/* TDH.MNG.INIT (leaf 21): configure a TD from the host's TD_PARAMS (attributes, XFAM, EPT,
 * TSC, measurement registers, the virtual CPUID and IA32_ARCH_CAPABILITIES) and move it
 * to OP_STATE INITIALIZED, ready for TD build. */
#include <string.h>

#include "td.h"
#include "td_msr.h"

#define BIT(n) (UINT64_C(1) << (n))

/* TD_PARAMS limits (cpuid-virtualization.json constants, module-td-mgmt.md §5). */
#define MAX_L2_VMS 3u
#define VIRT_TSC_FREQUENCY_MIN 4u
#define VIRT_TSC_FREQUENCY_MAX 400u
#define VIRT_TSC_FREQUENCY_UNIT_HZ 25000000u
#define MIN_PA_FOR_PML5 49u
#define EPT_MT_WB 6u
#define EPT_PWL_4LEVEL 3u
#define EPT_PWL_5LEVEL 4u
#define TD_CTLS_PENDING_VE_DISABLE BIT(0)
#define MSR_CONFIG_CTLS_IA32_ARCH_CAP 0x01u
#define HP_LOCK_TIMEOUT_USEC 1000000u

/* XFAM components (XCR0 / IA32_XSS bit numbers). */
#define XFAM_AVX BIT(2)
#define XFAM_AVX512 (BIT(5) | BIT(6) | BIT(7))
#define XFAM_PT BIT(8)
#define XFAM_CET (BIT(11) | BIT(12))
#define XFAM_LBR BIT(15)
#define XFAM_AMX (BIT(17) | BIT(18))
#define XFAM_FIRST_EXTENDED 2u
#define XFAM_LAST_BIT 18u /* XCR0_MAX_VALID_BIT */
#define XSAVE_LEGACY_AND_HEADER 576u
#define XSAVE_ALIGN 64u
#define CPUID_D_ECX_ALIGNED 0x2u
#define CPUID_D_ECX_XFD 0x4u
#define CPUID_D1_EAX_XFD 0x10u

/* IA32_ARCH_CAPABILITIES bits TDH.MNG.INIT virtualises. */
#define ARCH_CAP_TSX_CTRL BIT(7)
#define ARCH_CAP_RRSBA BIT(19)
#define ARCH_CAP_FORCED0 (BIT(9) | BIT(10) | BIT(11) | BIT(16) | BIT(17) | BIT(18) | BIT(21) | \
			  BIT(22) | BIT(23) | ~(BIT(25) - 1))

/* Virtual CPUID bits with a rule of their own. */
#define CPUID_1_ECX_MONITOR BIT(3)
#define CPUID_7_EBX_HLE BIT(4)
#define CPUID_7_EBX_RTM BIT(11)
#define CPUID_7_ECX_LA57 BIT(16)
#define CPUID_7_ECX_KL BIT(23)
#define CPUID_7_ECX_PKS BIT(31)
#define CPUID_80000008_LA_SHIFT 8
#define CPUID_80000008_LA_MASK 0xff00u
#define CPUID_FMS_STEPPING_MASK 0xfu


static uint64_t invalid(uint64_t operand)
{
	return api_error_with_operand_id(TDX_OPERAND_INVALID, operand);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* Index of the lookup entry of (leaf, subleaf), or -1. */
static int lookup_index(const struct tdx_module *m, uint32_t leaf, uint32_t subleaf)
{
	const struct cpuid_tables *ct = module_cpuid_tables(m);

	for (unsigned i = 0; i < ct->num_lookup; i++)
		if (ct->lookup[i].valid && ct->lookup[i].leaf == leaf && ct->lookup[i].subleaf == subleaf)
			return (int)i;
	return -1;
}

/* Native CPUID(0xD, n) as sampled at TDH.SYS.INIT: EAX size, EBX offset, ECX flags. */
static const struct cpuid_regs *xsave_component(const struct tdx_module *m, unsigned n)
{
	static const struct cpuid_regs none;
	int i = lookup_index(m, 0xd, n);
	return i < 0 ? &none : &m->cpuid_native[i];
}

/* Native TSC frequency: crystal Hz x EBX / EAX of CPUID(0x15), read on this LP (the module
 * keeps no copy; TDH.SYS.INIT checked EBX != 0). */
static uint64_t native_tsc_hz(const struct tdx_module *m, unsigned lp)
{
	struct cpuid_regs r;

	plat_cpuid(m->plat, lp, 0x15, 0, &r);
	return r.eax ? (uint64_t)r.ecx * r.ebx / r.eax : 0;
}

/* ---- read_and_set_td_configurations ---------------------------------------------------- */

static bool attributes_ok(const struct tdx_module *m, uint64_t attr)
{
	uint64_t fixed0 = module_sys_const(m, MD_SYS_FIELDS_ATTRIBUTES_FIXED0_IDX);
	uint64_t fixed1 = module_sys_const(m, MD_SYS_FIELDS_ATTRIBUTES_FIXED1_IDX);

	if ((attr & ~fixed0) || (attr & fixed1) != fixed1)
		return false;
	/* A migratable TD can be neither debugged nor profiled: its state leaves the platform. */
	return !((attr & TD_ATTRIBUTES_MIGRATABLE_MASK) &&
		 (attr & (TD_ATTRIBUTES_DEBUG_MASK | TD_ATTRIBUTES_PERFMON_MASK)));
}

/* All bits of a feature's XFAM group must agree: the CPU saves them as one component set. */
static bool xfam_group_ok(uint64_t xfam, uint64_t group)
{
	return (xfam & group) == 0 || (xfam & group) == group;
}

static bool xfam_ok(const struct tdx_module *m, uint64_t xfam)
{
	if ((xfam & ~module_xfam_fixed0(m)) || (xfam & TDX_XFAM_FIXED1) != TDX_XFAM_FIXED1)
		return false;
	if (!xfam_group_ok(xfam, XFAM_AVX512) || ((xfam & XFAM_AVX512) && !(xfam & XFAM_AVX)))
		return false;
	return xfam_group_ok(xfam, XFAM_CET) && xfam_group_ok(xfam, XFAM_AMX);
}

_Static_assert(XFAM_LAST_BIT < sizeof(((struct tdcs *)0)->xbuff_offsets) / sizeof(uint32_t),
	       "one XBUFF offset per XSAVE component");

/* Offsets of the enabled extended components in the compacted XSAVE buffer. */
static void set_xbuff(const struct tdx_module *m, struct tdcs *tdcs, uint64_t xfam)
{
	uint32_t off = XSAVE_LEGACY_AND_HEADER;

	memset(tdcs->xbuff_offsets, 0, sizeof(tdcs->xbuff_offsets));
	for (unsigned n = XFAM_FIRST_EXTENDED; n <= XFAM_LAST_BIT; n++) {
		const struct cpuid_regs *c = xsave_component(m, n);
		if (!(xfam & BIT(n)))
			continue;
		if (c->ecx & CPUID_D_ECX_ALIGNED)
			off = (off + XSAVE_ALIGN - 1) & ~(XSAVE_ALIGN - 1);
		tdcs->xbuff_offsets[n] = off;
		off += c->eax;
	}
	tdcs->xbuff_size = off;
}

static uint64_t set_attributes_xfam(struct tdx_module *m, struct tdcs *tdcs, const struct td_params *tp)
{
	if (!attributes_ok(m, tp->attributes))
		return invalid(OPERAND_ID_ATTRIBUTES);
	tdcs->attributes = tp->attributes;
	tdcs->td_ctls = (tp->attributes & TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK) ? TD_CTLS_PENDING_VE_DISABLE : 0;
	if (!xfam_ok(m, tp->xfam))
		return invalid(OPERAND_ID_XFAM);
	tdcs->xfam = tp->xfam;
	set_xbuff(m, tdcs, tp->xfam);
	return TDX_SUCCESS;
}

static uint64_t set_vcpus_and_l2(struct tdr *tdr, struct tdcs *tdcs, const struct td_params *tp)
{
	if (!tp->max_vcpus)
		return invalid(OPERAND_ID_MAX_VCPUS);
	tdcs->max_vcpus = tp->max_vcpus;
	if (tp->num_l2_vms > MAX_L2_VMS)
		return invalid(OPERAND_ID_NUM_L2_VMS);
	/* Each L2 VM needs its own SEPT root page beyond the base TDCS pages. */
	if (tdr->num_tdcx < MIN_NUM_TDCS_PAGES + tp->num_l2_vms)
		return TDX_TDCS_NOT_ALLOCATED;
	tdcs->num_l2_vms = tp->num_l2_vms;
	return all_zero(tp->reserved_0, sizeof(tp->reserved_0)) ? TDX_SUCCESS : invalid(OPERAND_ID_RDX);
}

static bool config_flags_ok(const struct tdx_module *m, uint64_t flags)
{
	uint64_t fixed0 = module_sys_const(m, MD_SYS_FIELDS_CONFIG_FLAGS_FIXED0_IDX);
	uint64_t fixed1 = module_sys_const(m, MD_SYS_FIELDS_CONFIG_FLAGS_FIXED1_IDX);

	return !(flags & ~fixed0) && (flags & fixed1) == fixed1;
}

/* The simulated CPU's IA32_VMX_EPT_VPID_CAP always reports 5-level EPT (PML5), so that
 * check of the real module never fails here; the platform MAX_PA one still applies. */
static bool eptp_ok(const struct tdx_module *m, uint64_t eptp, uint64_t flags)
{
	uint64_t pwl = (eptp & EPTP_CONTROLS_EPT_PWL_MASK) >> EPTP_CONTROLS_EPT_PWL_SHIFT;
	uint64_t must_be_zero = EPTP_CONTROLS_ENABLE_AD_BITS_MASK | EPTP_CONTROLS_ENABLE_SSS_CONTROL_MASK |
				EPTP_CONTROLS_RESERVED_0_MASK | EPTP_CONTROLS_RESERVED_1_MASK |
				EPTP_CONTROLS_BASE_PA_MASK;

	if ((eptp & EPTP_CONTROLS_EPT_PS_MT_MASK) != EPT_MT_WB || (eptp & must_be_zero))
		return false;
	if (pwl != EPT_PWL_4LEVEL && pwl != EPT_PWL_5LEVEL)
		return false;
	if (pwl == EPT_PWL_5LEVEL && m->max_pa < MIN_PA_FOR_PML5)
		return false;
	/* A 52-bit GPA space needs the fifth paging level. */
	return !(flags & CONFIG_FLAGS_GPAW_MASK) || pwl == EPT_PWL_5LEVEL;
}

static uint64_t set_flags_and_eptp(struct tdx_module *m, struct tdr *tdr, struct tdcs *tdcs,
				   const struct td_params *tp)
{
	uint64_t flags = tp->config_flags;

	if (!config_flags_ok(m, flags))
		return invalid(OPERAND_ID_EXEC_CONTROLS);
	if (!eptp_ok(m, tp->eptp_controls, flags))
		return invalid(OPERAND_ID_EPTP_CONTROLS);
	tdcs->gpaw = (flags & CONFIG_FLAGS_GPAW_MASK) ? 1 : 0;
	tdcs->eptp = tp->eptp_controls | (tdr->tdcx_pa[TDCS_PAGE_SEPT_ROOT] & plat_pa_mask(m->plat));
	tdcs->config_flags = flags;
	return TDX_SUCCESS;
}

/* The virtual TSC runs at TSC_FREQUENCY x 25 MHz: multiplier in 16.48 fixed point. The TSC
 * is about to be read, so IA32_TSC_ADJUST must still be what TDH.SYS.INIT sampled. RDTSC is
 * not modelled: the native TSC reads 0 now and the offset that makes the virtual TSC start
 * at 0 is 0. */
static uint64_t set_tsc(struct tdx_module *m, unsigned lp, struct tdcs *tdcs, const struct td_params *tp)
{
	uint64_t hz = native_tsc_hz(m, lp), ret;
	unsigned __int128 virt_hz = (unsigned __int128)tp->tsc_frequency * VIRT_TSC_FREQUENCY_UNIT_HZ;

	if (tp->tsc_frequency < VIRT_TSC_FREQUENCY_MIN || tp->tsc_frequency > VIRT_TSC_FREQUENCY_MAX)
		return invalid(OPERAND_ID_TSC_FREQUENCY);
	tdcs->tsc_frequency = tp->tsc_frequency;
	ret = module_check_tsc_adjust(m, lp);
	if (ret)
		return ret;
	tdcs->tsc_multiplier = hz ? (uint64_t)((virt_hz << 48) / hz) : 0;
	tdcs->tsc_offset = 0;
	return TDX_SUCCESS;
}

static uint64_t set_measurements_and_msr_ctls(struct tdcs *tdcs, const struct td_params *tp)
{
	if (!all_zero(tp->reserved_1, sizeof(tp->reserved_1)))
		return invalid(OPERAND_ID_RDX);
	memcpy(tdcs->mr_config_id, tp->mr_config_id, sizeof(tdcs->mr_config_id));
	memcpy(tdcs->mr_owner, tp->mr_owner, sizeof(tdcs->mr_owner));
	memcpy(tdcs->mr_owner_config, tp->mr_owner_config, sizeof(tdcs->mr_owner_config));
	if (tp->msr_config_ctls & ~MSR_CONFIG_CTLS_IA32_ARCH_CAP)
		return invalid(OPERAND_ID_RDX);
	return all_zero(tp->reserved_2, sizeof(tp->reserved_2)) ? TDX_SUCCESS : invalid(OPERAND_ID_RDX);
}

/* Each field is stored as soon as it passes, like the real module: a failed call leaves a
 * partly written TDCS behind, harmless because OP_STATE stays UNINITIALIZED. */
static uint64_t set_td_config(struct tdx_module *m, unsigned lp, struct tdr *tdr, struct tdcs *tdcs,
			      const struct td_params *tp)
{
	uint64_t ret = set_attributes_xfam(m, tdcs, tp);

	if (!ret)
		ret = set_vcpus_and_l2(tdr, tdcs, tp);
	if (!ret)
		ret = set_flags_and_eptp(m, tdr, tdcs, tp);
	if (!ret)
		ret = set_tsc(m, lp, tdcs, tp);
	if (!ret)
		ret = set_measurements_and_msr_ctls(tdcs, tp);
	return ret;
}

/* ---- read_and_set_cpuid_configurations (cpuid-virtualization.json algorithm) ----------- */

struct cpuid_ctx {
	const struct tdx_module *m;
	struct tdcs *tdcs;
	const struct td_params *tp;
	struct tdx_regs *regs;
	uint64_t arch_cap; /* platform IA32_ARCH_CAPABILITIES */
	bool monitor, la57; /* virtual CPUID(1).ECX.MONITOR, CPUID(7,0).ECX.LA57 */
};

static void clear_regs(struct cpuid_regs *v, const struct cpuid_regs *mask)
{
	v->eax &= ~mask->eax;
	v->ebx &= ~mask->ebx;
	v->ecx &= ~mask->ecx;
	v->edx &= ~mask->edx;
}

static void zero_regs(struct cpuid_regs *v)
{
	memset(v, 0, sizeof(*v));
}

static bool config_bits_ok(const struct cpuid_config_vals *c, const struct cpuid_config_desc *d)
{
	return !(c->eax & ~(d->config_direct.eax | d->allow_direct.eax)) &&
	       !(c->ebx & ~(d->config_direct.ebx | d->allow_direct.ebx)) &&
	       !(c->ecx & ~(d->config_direct.ecx | d->allow_direct.ecx)) &&
	       !(c->edx & ~(d->config_direct.edx | d->allow_direct.edx));
}

/* One register: fixed bits, then CONFIG_DIRECT bits from TD_PARAMS, then ALLOW_DIRECT bits
 * only where TD_PARAMS keeps them set. */
static uint32_t config_reg(uint32_t v, uint32_t fixed0, uint32_t fixed1, uint32_t direct, uint32_t allow,
			   uint32_t cfg)
{
	v = (v & ~fixed0) | fixed1;
	v = (v & ~direct) | (cfg & direct);
	return v & (cfg | ~allow);
}

static uint64_t cpuid_config_error(struct cpuid_ctx *c, const struct cpuid_lookup_desc *d)
{
	c->regs->r[TDX_REG_RCX] = d->leaf | ((uint64_t)d->subleaf << 32);
	return invalid(OPERAND_ID_CPUID_CONFIG);
}

/* TD_PARAMS.CPUID_CONFIG_VALS[i]: a later profile has more entries than the 1.5.01 layout of
 * struct td_params names; they continue into what 1.5.01 reserves, so read by offset. */
static struct cpuid_config_vals td_params_cpuid_config(const struct td_params *tp, uint32_t i)
{
	struct cpuid_config_vals v;

	memcpy(&v, (const uint8_t *)tp + TD_PARAMS_OFF_CPUID_CONFIG_VALS + (size_t)i * sizeof(v), sizeof(v));
	return v;
}

/* The bytes after the profile's CPUID_CONFIG_VALS entries are reserved. */
static bool td_params_tail_reserved_ok(const struct tdx_module *m, const struct td_params *tp)
{
	size_t start = TD_PARAMS_OFF_CPUID_CONFIG_VALS + module_cpuid_tables(m)->num_config * sizeof(struct cpuid_config_vals);

	return all_zero((const uint8_t *)tp + start, sizeof(*tp) - start);
}

static uint64_t apply_config(struct cpuid_ctx *c, const struct cpuid_lookup_desc *d, struct cpuid_regs *v)
{
	const struct cpuid_config_desc *cd = &module_cpuid_tables(c->m)->configurable[d->config_index];
	const struct cpuid_config_vals cfg = td_params_cpuid_config(c->tp, d->config_index);
	const struct cpuid_regs *f0 = &d->fixed0_or_dynamic, *f1 = &d->fixed1;

	if (!config_bits_ok(&cfg, cd))
		return cpuid_config_error(c, d);
	v->eax = config_reg(v->eax, f0->eax, f1->eax, cd->config_direct.eax, cd->allow_direct.eax, cfg.eax);
	v->ebx = config_reg(v->ebx, f0->ebx, f1->ebx, cd->config_direct.ebx, cd->allow_direct.ebx, cfg.ebx);
	v->ecx = config_reg(v->ecx, f0->ecx, f1->ecx, cd->config_direct.ecx, cd->allow_direct.ecx, cfg.ecx);
	v->edx = config_reg(v->edx, f0->edx, f1->edx, cd->config_direct.edx, cd->allow_direct.edx, cfg.edx);
	return TDX_SUCCESS;
}

static void apply_xfam_masks(const struct cpuid_ctx *c, const struct cpuid_lookup_desc *d, uint64_t xfam,
			     struct cpuid_regs *v)
{
	const struct cpuid_tables *ct = module_cpuid_tables(c->m);

	for (unsigned k = 0; k < ct->num_xfam_masks; k++) {
		const struct cpuid_xfam_mask *x = &ct->xfam_masks[k];
		if (x->leaf == d->leaf && x->subleaf == d->subleaf && !(xfam & BIT(x->bit)))
			clear_regs(v, &x->clear);
	}
}

/* check_fms_config: the platform's family/model with a stepping no newer than the
 * platform's, or an older generation of the allowed table up to its latest stepping. */
static bool fms_config_ok(uint32_t platform, uint32_t fms)
{
	uint32_t fm = fms & ~CPUID_FMS_STEPPING_MASK, step = fms & CPUID_FMS_STEPPING_MASK;
	bool older = false;

	if (fm == (platform & ~CPUID_FMS_STEPPING_MASK))
		return step <= (platform & CPUID_FMS_STEPPING_MASK);
	for (unsigned i = 0; i < CPUID_NUM_ALLOWED_FMS; i++) {
		if (older && cpuid_allowed_fms[i].native_fms == fm)
			return step <= cpuid_allowed_fms[i].latest_stepping;
		if (cpuid_allowed_fms[i].native_fms == (platform & ~CPUID_FMS_STEPPING_MASK))
			older = true;
	}
	return false;
}

static uint64_t leaf_1(struct cpuid_ctx *c, const struct cpuid_lookup_desc *d, struct cpuid_regs *v)
{
	uint32_t platform = c->m->platform_fms;

	bool migratable = c->tdcs->attributes & TD_ATTRIBUTES_MIGRATABLE_MASK;

	/* 0 asks for the platform's own F/M/S; only a migratable TD may claim an older one. */
	if (v->eax == 0)
		v->eax = platform;
	else if (migratable ? !fms_config_ok(platform, v->eax) : v->eax != platform)
		return cpuid_config_error(c, d);
	c->monitor = v->ecx & CPUID_1_ECX_MONITOR;
	return TDX_SUCCESS;
}

/* TSX is either fully on or off, and needs IA32_TSX_CTRL (ARCH_CAPABILITIES.TSX_CTRL) so the
 * module can hide it again; PKS follows the TD attribute; Key Locker is never exposed. */
static uint64_t leaf_7_0(struct cpuid_ctx *c, struct cpuid_regs *v)
{
	bool hle = v->ebx & CPUID_7_EBX_HLE, rtm = v->ebx & CPUID_7_EBX_RTM;

	if (hle != rtm)
		return invalid(OPERAND_ID_CPUID_CONFIG);
	if (hle && !(c->arch_cap & ARCH_CAP_TSX_CTRL))
		return api_error_with_operand_id(TDX_INCORRECT_MSR_VALUE, MSR_IA32_ARCH_CAPABILITIES);
	v->ecx &= (uint32_t)~(CPUID_7_ECX_PKS | CPUID_7_ECX_KL);
	if (c->tdcs->attributes & TD_ATTRIBUTES_PKS_MASK)
		v->ecx |= (uint32_t)CPUID_7_ECX_PKS;
	c->la57 = v->ecx & CPUID_7_ECX_LA57;
	return TDX_SUCCESS;
}

/* Largest standard-format XSAVE area for the user components in xcr0. */
static uint32_t xsave_max_size(const struct tdx_module *m, uint64_t xcr0)
{
	uint32_t size = XSAVE_LEGACY_AND_HEADER;

	for (unsigned n = XFAM_FIRST_EXTENDED; n <= XFAM_LAST_BIT; n++) {
		const struct cpuid_regs *r = xsave_component(m, n);
		if ((xcr0 & BIT(n)) && r->ebx + r->eax > size)
			size = r->ebx + r->eax;
	}
	return size;
}

static void leaf_d(struct cpuid_ctx *c, uint32_t subleaf, struct cpuid_regs *v)
{
	uint64_t xfam = c->tdcs->xfam;

	if (subleaf == 0) {
		v->ecx = xsave_max_size(c->m, xfam & XCR0_USER_BIT_MASK);
	} else if (subleaf == 1) {
		bool xfd = false;
		for (unsigned n = XFAM_FIRST_EXTENDED; n <= XFAM_LAST_BIT; n++)
			xfd |= (xfam & BIT(n)) && (xsave_component(c->m, n)->ecx & CPUID_D_ECX_XFD);
		if (!xfd)
			v->eax &= ~CPUID_D1_EAX_XFD;
	} else if (subleaf <= XFAM_LAST_BIT && !(xfam & BIT(subleaf))) {
		zero_regs(v);
	}
}

static void zero_unless(struct cpuid_regs *v, bool keep)
{
	if (!keep)
		zero_regs(v);
}

/* The rules of tdh_mng_init_final_value the generated tables cannot express. */
static uint64_t leaf_rules(struct cpuid_ctx *c, const struct cpuid_lookup_desc *d, struct cpuid_regs *v)
{
	uint64_t xfam = c->tdcs->xfam;

	apply_xfam_masks(c, d, xfam, v);
	switch (d->leaf) {
	case 0x1: return leaf_1(c, d, v);
	case 0x5: zero_unless(v, c->monitor); break;
	case 0x7: return d->subleaf == 0 ? leaf_7_0(c, v) : TDX_SUCCESS;
	case 0xa: zero_unless(v, c->tdcs->attributes & TD_ATTRIBUTES_PERFMON_MASK); break;
	case 0xd: leaf_d(c, d->subleaf, v); break;
	case 0x14: zero_unless(v, xfam & XFAM_PT); break;
	case 0x15: v->ebx = c->tdcs->tsc_frequency; break;
	case 0x19: zero_regs(v); break;
	case 0x1c: zero_unless(v, xfam & XFAM_LBR); break;
	case 0x1d: zero_unless(v, (xfam & XFAM_AMX) == XFAM_AMX); break;
	case 0x80000008:
		v->eax = (v->eax & ~CPUID_80000008_LA_MASK) |
			 ((c->la57 ? LA57_LINEAR_ADDRESS_WIDTH : LEGACY_LINEAR_ADDRESS_WIDTH) << CPUID_80000008_LA_SHIFT);
		break;
	default: break;
	}
	return TDX_SUCCESS;
}

/* Every lookup entry in table order (later entries depend on earlier ones: leaf 5 on leaf 1,
 * 0x80000008 on 7.0); the first violation wins. */
static uint64_t set_cpuid(struct cpuid_ctx *c)
{
	const struct cpuid_tables *ct = module_cpuid_tables(c->m);

	for (unsigned i = 0; i < ct->num_lookup; i++) {
		const struct cpuid_lookup_desc *d = &ct->lookup[i];
		struct cpuid_regs v = c->m->cpuid_native[i];
		uint64_t ret = TDX_SUCCESS;

		if (d->valid && d->config_index != CPUID_CONFIG_NULL_IDX)
			ret = apply_config(c, d, &v);
		if (!ret)
			ret = leaf_rules(c, d, &v);
		if (ret)
			return ret;
		c->tdcs->cpuid_values[i] = v;
		c->tdcs->cpuid_valid[i] = d->valid && !d->faulting;
	}
	return td_params_tail_reserved_ok(c->m, c->tp) ? TDX_SUCCESS : invalid(OPERAND_ID_RDX);
}

/* Virtual IA32_ARCH_CAPABILITIES: only the ALLOW_DIRECT bits (SSB_NO, BHI_NO, PBRSB_NO) and
 * RRSBA (forced to 1) may be configured, and only with MSR_CONFIG_CTLS.IA32_ARCH_CAP. */
static uint64_t set_arch_cap(struct cpuid_ctx *c)
{
	uint64_t cfg = c->tp->ia32_arch_capabilities_config, v = c->arch_cap;
	uint64_t mask = module_sys_const(c->m, MD_SYS_FIELDS_IA32_ARCH_CAPABILITIES_CONFIG_MASK_IDX);
	uint64_t allow = mask & ~ARCH_CAP_RRSBA;
	int i7 = lookup_index(c->m, 0x7, 0);

	if ((cfg && !(c->tp->msr_config_ctls & MSR_CONFIG_CTLS_IA32_ARCH_CAP)) || (cfg & ~mask))
		return invalid(OPERAND_ID_IA32_ARCH_CAPABILITIES_CONFIG);
	v &= ~allow | cfg;
	if (i7 < 0 || !(c->tdcs->cpuid_values[i7].ebx & CPUID_7_EBX_RTM))
		v &= ~ARCH_CAP_TSX_CTRL; /* TSX not virtualised */
	v |= cfg & ARCH_CAP_RRSBA;
	c->tdcs->virt_ia32_arch_capabilities = v & ~ARCH_CAP_FORCED0;
	return TDX_SUCCESS;
}

static void sha384_init(struct tdcs *tdcs)
{
	/* OpenSSL 3 deprecates the low-level API; the hash state must live in the TDCS, where a
	 * heap-allocated EVP context cannot. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	SHA384_Init(&tdcs->td_sha_ctx);
#pragma GCC diagnostic pop
}

/* TD_PARAMS: a 1024-byte, 1024-aligned shared structure, read once into module memory so the
 * host cannot change it under the checks. */
static uint64_t read_td_params(struct tdx_module *m, uint64_t pa, struct td_params *tp)
{
	if (!module_is_shared_hpa(m, pa, sizeof(*tp), sizeof(*tp)))
		return invalid(OPERAND_ID_RDX);
	return plat_seam_read_shared(m->plat, pa, tp, sizeof(*tp)) ? invalid(OPERAND_ID_RDX) : TDX_SUCCESS;
}

/* Values set before any TD_PARAMS check. */
static void preset_tdcs(struct tdx_module *m, unsigned lp, struct tdcs *tdcs)
{
	tdcs->num_vcpus = 0;
	tdcs->num_assoc_vcpus = 0;
	tdcs->td_epoch = 1;
	memset(tdcs->refcount, 0, sizeof(tdcs->refcount));
	tdcs->hp_lock_timeout = native_tsc_hz(m, lp) * HP_LOCK_TIMEOUT_USEC / 1000000u;
}

static uint64_t configure(struct tdx_module *m, unsigned lp, struct tdr *tdr, struct tdcs *tdcs,
			 const struct td_params *tp, struct tdx_regs *regs)
{
	struct cpuid_ctx c = { .m = m, .tdcs = tdcs, .tp = tp, .regs = regs };
	uint64_t ret;

	/* The real module samples this MSR at TDH.SYS.INIT; the simulated one is the same on
	 * every LP, so reading it on this LP gives the same answer. */
	if (plat_rdmsr(m->plat, lp, MSR_IA32_ARCH_CAPABILITIES, &c.arch_cap))
		c.arch_cap = 0;
	preset_tdcs(m, lp, tdcs);
	ret = set_td_config(m, lp, tdr, tdcs, tp);
	if (!ret)
		ret = set_cpuid(&c);
	if (!ret)
		ret = set_arch_cap(&c);
	if (!ret && (tdcs->attributes & TD_ATTRIBUTES_MIGRATABLE_MASK) && tdcs->num_l2_vms)
		ret = invalid(OPERAND_ID_RDX); /* migration of L2 VMs is not supported */
	return ret;
}

uint64_t tdh_mng_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdr_pa = regs->r[TDX_REG_RCX], params_pa = regs->r[TDX_REG_RDX], ret;
	struct td_params tp;
	struct pamt_lock l;
	struct tdr *tdr;
	struct tdcs *tdcs;
	uint8_t *bitmap = NULL;

	regs->r[TDX_REG_RCX] = 0;
	ret = module_check_cpuid_maxval(m, lp);
	if (ret)
		return ret;
	ret = td_open(m, tdr_pa, OPERAND_ID_RCX, true, TDH_MNG_INIT_LEAF, &l, &tdr, &tdcs);
	if (!ret)
		ret = read_td_params(m, params_pa, &tp);
	if (!ret)
		ret = configure(m, lp, tdr, tdcs, &tp, regs);
	if (!ret)
		ret = (bitmap = td_msr_bitmap_map(m, tdr)) ? TDX_SUCCESS : TDX_SEAMCALL_VMFAILINVALID;
	if (ret)
		goto out;

	/* Nothing can fail past this point. TD_PARAMS is not measured: MRTD covers only what
	 * TDH.MEM.PAGE.ADD and TDH.MR.EXTEND feed in. The MSR bitmaps depend on ATTRIBUTES, XFAM
	 * and the virtual CPUID, all final now. No virtual VMX capability MSRs are computed (their
	 * RDMSR is a #VE, td_guest_msr.c). */
	td_msr_bitmap_build(m, lp, tdcs, bitmap);
	sha384_init(tdcs);
	memset(tdcs->rtmr, 0, sizeof(tdcs->rtmr));
	tdcs->op_state = OP_STATE_INITIALIZED;
out:
	pamt_unlock(&l);
	return ret;
}
