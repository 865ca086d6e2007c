/* The SEAMCALL instruction and the SEAM loader. */
#include <string.h>

#include "plat_internal.h"

int plat_seamldr_install(struct plat *p, const struct seam_module_ops *ops, void *module,
			 const struct seamldr_module_info *info)
{
	if (!p->cfg.seamrr_enabled || p->seam_ops)
		return -1;
	p->seam_ops = ops;
	p->seam_module = module;
	p->seam_info = *info;
	return 0;
}

void *plat_seamldr_module(const struct plat *p)
{
	return p->seam_module;
}

bool plat_seamldr_module_loaded(const struct plat *p)
{
	return p->seam_ops != NULL;
}

/* The persistent SEAM loader answers SEAMLDR.INFO; loading and updating modules is done
 * by firmware here (plat_seamldr_install), so the other P-SEAMLDR leaves are unsupported. */
static uint64_t pseamldr_call(struct plat *p, struct tdx_regs *regs)
{
	struct plat_sysinfo si;
	struct seamldr_info info;
	uint64_t pa = regs->r[TDX_REG_RCX], addr = pa & plat_pa_mask(p);

	if (regs->r[TDX_REG_RAX] != SEAMLDR_INFO_LEAF)
		return SEAMLDR_EUNSUPPORTED;
	plat_sysinfo_get(p, &si);
	if ((pa & (SEAMLDR_INFO_ALIGN - 1)) || plat_pa_keyid(p, pa) ||
	    (addr < si.seamrr_base + si.seamrr_size && addr + sizeof(info) > si.seamrr_base))
		return SEAMLDR_EBADPARAM;
	memset(&info, 0, sizeof(info));
	info.vendor_id = 0x8086;
	info.major_version = 1;
	info.minor_version = 5; /* the P-SEAMLDR generation that loads 1.5 modules */
	info.num_remaining_updates = 32;
	info.p_seam_ready = 1;
	info.seam_ready = p->seam_ops != NULL;
	if (plat_host_write(p, pa, &info, sizeof(info)))
		return SEAMLDR_EBADPARAM;
	return 0;
}

static uint64_t seamcall(struct plat *p, unsigned lpi, struct tdx_regs *regs)
{
	struct plat_lp *lp;
	uint64_t ret;

	if (lpi >= p->nr_lps)
		return TDX_SEAMCALL_GP; /* no such CPU: treat like a fault, never crash */
	lp = &p->lps[lpi];
	/* SEAMCALL outside VMX operation is #UD; with SEAMRR disabled it is #UD as well. */
	if (!atomic_load(&lp->vmx_on) || !p->cfg.seamrr_enabled)
		return TDX_SEAMCALL_UD;
	if (regs->r[TDX_REG_RAX] & SEAMLDR_INFO_LEAF)
		return pseamldr_call(p, regs);
	if (!p->seam_ops || atomic_load(&p->seam_disabled))
		return TDX_SEAMCALL_VMFAILINVALID;
	/* One instruction at a time per LP: a second thread on the same LP is a host bug
	 * that real hardware cannot even express; report it as #GP rather than racing. */
	if (atomic_flag_test_and_set(&lp->in_seam))
		return TDX_SEAMCALL_GP;
	ret = p->seam_ops->seamcall(p->seam_module, lpi, regs);
	/* Releasing the LP is an unlock: release ordering publishes the call's effects, and a
	 * plain store is all x86 needs for it (a full fence here cost a locked op per call). */
	atomic_flag_clear_explicit(&lp->in_seam, memory_order_release);
	if (atomic_load(&p->seam_disabled))
		ret = TDX_SEAMCALL_VMFAILINVALID; /* the call died in the machine check */
	return ret;
}

uint64_t plat_seamcall(struct plat *p, unsigned lpi, struct tdx_regs *regs)
{
	return regs->r[TDX_REG_RAX] = seamcall(p, lpi, regs);
}

void plat_seam_machine_check(struct plat *p, uint64_t pa)
{
	atomic_store(&p->mce_last_pa, pa);
	atomic_fetch_add(&p->mce_count, 1);
	atomic_store(&p->seam_disabled, true);
}

unsigned plat_mce_count(const struct plat *p, uint64_t *last_pa)
{
	struct plat *q = (struct plat *)p;
	if (last_pa)
		*last_pa = atomic_load(&q->mce_last_pa);
	return atomic_load(&q->mce_count);
}

/* What MCHECK measured at boot and the SEAMLDR hands to the module. The SEAM range
 * comes from the SEAMRR MSRs the BIOS programmed (base bits 51:12, mask bits 51:12). */
void plat_sysinfo_get(const struct plat *p, struct plat_sysinfo *si)
{
	const uint64_t pa_bits = (UINT64_C(1) << 52) - 1, page_mask = ~UINT64_C(0xfff);
	uint64_t base = 0, mask = 0;

	memset(si, 0, sizeof(*si));
	si->num_lps = p->nr_lps;
	si->num_pkgs = p->cfg.packages;
	for (unsigned pkg = 0; pkg < p->cfg.packages; pkg++) {
		struct cpuid_regs r;
		plat_cpuid(p, plat_package_first_lp(p, pkg), 1, 0, &r);
		si->pkg_fms[pkg] = r.eax;
	}
	for (unsigned i = 0; i < p->cfg.nr_cmrs && i < MAX_CMR; i++)
		si->cmr[i] = p->cfg.cmr[i];
	if (!plat_rdmsr(p, 0, MSR_IA32_SEAMRR_PHYS_BASE, &base) &&
	    !plat_rdmsr(p, 0, MSR_IA32_SEAMRR_PHYS_MASK, &mask) && (mask & page_mask & pa_bits)) {
		si->seamrr_base = base & page_mask & pa_bits;
		si->seamrr_size = ((~(mask & page_mask)) & pa_bits) + 1;
	}
}
