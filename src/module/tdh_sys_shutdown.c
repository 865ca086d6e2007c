/* TDH.SYS.SHUTDOWN (leaf 52): stop the module and leave handoff data for a successor. */
#include "module_internal.h"

uint64_t tdh_sys_shutdown(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t hv = regs->r[TDX_REG_RCX];
	uint64_t module_hv = module_sys_const(m, MD_SYS_FIELDS_MODULE_HV_IDX);
	uint64_t min_hv = module_sys_const(m, MD_SYS_FIELDS_MIN_UPDATE_HV_IDX);
	bool no_downgrade = module_sys_const(m, MD_SYS_FIELDS_NO_DOWNGRADE_IDX) != 0;
	unsigned busy = 0;

	if (hv < min_hv || hv > module_hv || (no_downgrade && hv != module_hv))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	if (!sharex_try_exclusive(&m->global_lock))
		return TDX_SYS_BUSY;
	atomic_store(&m->sys_state, SYS_SHUTDOWN);
	for (unsigned i = 0; i < plat_nr_lps(m->plat); i++)
		busy += atomic_load(&m->lp[i].is_busy);
	if (busy > 1) {
		/* Another LP is inside a SEAMCALL: back out, the host must retry. */
		atomic_store(&m->sys_state, SYS_READY);
		sharex_release_exclusive(&m->global_lock);
		return TDX_SYS_BUSY;
	}

	/* Nothing can fail past this point. */
	m->handoff.valid = true;
	m->handoff.hv = (uint16_t)hv;
	m->handoff.size = (uint32_t)sizeof(m->handoff);
	sharex_release_exclusive(&m->global_lock);
	return TDX_SUCCESS;
}
