/* TDH.MEM.RD (leaf 12): read one qword of a debug TD's private memory (R8). A production TD
 * refuses with TDX_TD_NON_DEBUG: no leaf ever gives the host plaintext of its memory. */
#include "td_debug_mem.h"

uint64_t tdh_mem_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	struct td_debug_mem a;
	uint64_t ret = td_debug_mem_begin(m, regs, TDH_MEM_RD_LEAF, &a);

	(void)lp;
	if (!ret)
		regs->r[TDX_REG_R8] = __atomic_load_n(a.qword, __ATOMIC_RELAXED);
	td_debug_mem_end(&a);
	return ret;
}
