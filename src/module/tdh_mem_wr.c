/* TDH.MEM.WR (leaf 14): write one qword of a debug TD's private memory (R8 in, the previous
 * value out). A production TD refuses with TDX_TD_NON_DEBUG. */
#include "td_debug_mem.h"

uint64_t tdh_mem_wr(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t value = regs->r[TDX_REG_R8];
	struct td_debug_mem a;
	uint64_t ret = td_debug_mem_begin(m, regs, TDH_MEM_WR_LEAF, &a);

	(void)lp;
	/* An ordinary store, as the guest's own would be: the old value is what it replaced. */
	if (!ret)
		regs->r[TDX_REG_R8] = __atomic_exchange_n(a.qword, value, __ATOMIC_RELAXED);
	td_debug_mem_end(&a);
	return ret;
}
