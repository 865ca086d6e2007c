/* TDH.PHYMEM.PAGE.WBINVD (leaf 41): write back and invalidate the cache lines of a
 * reclaimed page for the KeyID in RCX. The simulated memory has no cache: after the checks
 * there is nothing left to flush. */
#include "td.h"

uint64_t tdh_phymem_page_wbinvd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t pa = regs->r[TDX_REG_RCX] & plat_pa_mask(m->plat);
	struct pamt_lock l;
	uint64_t ret;

	(void)lp;
	if (regs->r[TDX_REG_RCX] >= (UINT64_C(1) << MODULE_MAX_PA))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	ret = pamt_check_lock_explicit(m, pa, OPERAND_ID_RCX, false, PT_NDA, &l);
	if (ret)
		return ret;
	pamt_unlock(&l);
	return TDX_SUCCESS;
}
