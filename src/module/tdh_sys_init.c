/* TDH.SYS.INIT (leaf 33): global initialisation, once per module lifetime. Samples and
 * checks the platform (MSRs, CPUID, KeyID partitioning, CMRs) and moves the system to
 * SYSINIT_DONE. A failed check leaves the state at SYSINIT_PENDING so it can be retried. */
#include "module_internal.h"

/* Each non-null CMR: no overflow, no KeyID bits, below 2^52, 4K aligned, ascending. */
static bool cmr_table_valid(const struct tdx_module *m)
{
	uint64_t prev_end = 0;

	for (unsigned i = 0; i < MAX_CMR; i++) {
		const struct plat_range *c = &m->sysinfo.cmr[i];
		uint64_t end = c->base + c->size;

		if (!c->size)
			continue;
		if (end < c->base || module_pa_has_hkid(m, c->base) || module_pa_has_hkid(m, end - 1) ||
		    end > (UINT64_C(1) << MODULE_MAX_PA) || ((c->base | c->size) & (SZ_4K - 1)) ||
		    c->base < prev_end)
			return false;
		prev_end = end;
	}
	return true;
}

/* IA32_MKTME_KEYID_PARTITIONING: private KeyIDs follow the MKTME KeyIDs. */
static uint64_t sample_keyids(struct tdx_module *m, unsigned lp)
{
	uint64_t part;
	uint32_t nr_mktme, nr_tdx;

	if (plat_rdmsr(m->plat, lp, MSR_IA32_MKTME_KEYID_PARTITIONING, &part))
		return api_error_with_operand_id(TDX_INCORRECT_MSR_VALUE, MSR_IA32_MKTME_KEYID_PARTITIONING);
	nr_mktme = (uint32_t)part;
	nr_tdx = (uint32_t)(part >> 32);
	m->hkid_private_min = nr_mktme + 1;
	m->hkid_private_max = nr_mktme + nr_tdx;
	if (m->hkid_private_max >= MAX_HKIDS)
		return api_error_with_operand_id(TDX_NUM_ACTIVATED_HKIDS_NOT_SUPPORTED, MAX_HKIDS);
	return TDX_SUCCESS;
}

uint64_t tdh_sys_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t attributes = regs->r[TDX_REG_RCX];
	uint64_t ret;

	regs->r[TDX_REG_RCX] = regs->r[TDX_REG_RDX] = regs->r[TDX_REG_R8] = regs->r[TDX_REG_R9] = regs->r[TDX_REG_R10] = 0;
	if (!sharex_try_exclusive(&m->global_lock))
		return TDX_SYS_BUSY;
	if (attributes) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
		goto out;
	}
	if (atomic_load(&m->sys_state) != SYSINIT_PENDING) {
		ret = TDX_SYS_INIT_NOT_PENDING;
		goto out;
	}
	plat_sysinfo_get(m->plat, &m->sysinfo);
	ret = module_cpuid_sample(m, lp, regs);
	if (ret)
		goto out;
	ret = sample_keyids(m, lp);
	if (ret)
		goto out;
	/* An unreadable MSR reads as 0, like the platform default. */
	if (plat_rdmsr(m->plat, lp, MSR_IA32_TSC_ADJUST, &m->ia32_tsc_adjust))
		m->ia32_tsc_adjust = 0;
	if (!cmr_table_valid(m)) {
		ret = TDX_CMR_LIST_INVALID;
		goto out;
	}

	/* Nothing can fail past this point. */
	m->sys_attributes = attributes;
	atomic_store(&m->num_init_lps, 0);
	atomic_store(&m->num_init_pkgs, 0);
	atomic_store(&m->pkg_config_bitmap, 0);
	atomic_store(&m->sys_state, SYSINIT_DONE);
	ret = TDX_SUCCESS;
out:
	sharex_release_exclusive(&m->global_lock);
	return ret;
}
