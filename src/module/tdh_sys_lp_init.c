/* TDH.SYS.LP.INIT (leaf 35): per-LP initialisation, once on every LP, after TDH.SYS.INIT
 * and before TDH.SYS.CONFIG. Checks that this LP looks like the one TDH.SYS.INIT sampled. */
#include "module_internal.h"

uint64_t tdh_sys_lp_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t ret;

	regs->r[TDX_REG_RCX] = regs->r[TDX_REG_RDX] = regs->r[TDX_REG_R8] = 0;
	if (!sharex_try_shared(&m->global_lock))
		return TDX_SYS_BUSY;
	if (atomic_load(&m->sys_state) != SYSINIT_DONE) {
		ret = TDX_SYS_LP_INIT_NOT_PENDING;
		goto out;
	}
	if (atomic_load(&m->lp[lp].is_init)) {
		ret = TDX_SYS_LP_INIT_DONE;
		goto out;
	}
	ret = module_cpuid_check_lp(m, lp, regs);
	if (ret)
		goto out;
	if (plat_lp_package(m->plat, lp) >= MAX_PKGS) {
		ret = api_error_with_operand_id(TDX_INVALID_PKG_ID, plat_lp_package(m->plat, lp));
		goto out;
	}
	ret = module_check_tsc_adjust(m, lp);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	m->lp[lp].pkg = plat_lp_package(m->plat, lp);
	atomic_store(&m->lp[lp].is_init, true);
	atomic_fetch_add(&m->num_init_lps, 1);
	ret = TDX_SUCCESS;
out:
	sharex_release_shared(&m->global_lock);
	return ret;
}
