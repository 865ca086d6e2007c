/* TDH.MNG.KEY.RECLAIMID (leaf 27): kept for compatibility; in 1.5 it does nothing and
 * succeeds (KEY.FREEID does the work). */
#include "td.h"

uint64_t tdh_mng_key_reclaimid(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	(void)m;
	(void)lp;
	(void)regs;
	return TDX_SUCCESS;
}
