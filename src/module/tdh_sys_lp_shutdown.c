/* TDH.SYS.LP.SHUTDOWN (leaf 44): deprecated in 1.5; succeeds unconditionally and is the
 * only leaf the module still accepts once it is shut down. */
#include "module_internal.h"

uint64_t tdh_sys_lp_shutdown(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	(void)m;
	(void)lp;
	(void)regs;
	return TDX_SUCCESS;
}
