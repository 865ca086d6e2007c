/* TDH.MNG.WR (leaf 13, version 0): write one element of a TD's metadata under the host
 * write masks of a debug or a production TD; R8 returns the previous value. In 1.5.01 the
 * host may write HP_LOCK_TIMEOUT (microseconds, whole field), VM_CTLS bit 0 and, for debug
 * TDs, NOTIFY_ENABLES bit 0; the rules are in metadata_td.c. */
#include "metadata_td.h"

/* As in TDH.MNG.RD the op-state lock is not modelled: the shared TDR PAMT lock already
 * orders this against the OP_STATE changes of TDH.MNG.INIT and TDH.MR.FINALIZE. */
uint64_t tdh_mng_wr(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdr_pa = regs->r[TDX_REG_RCX], field_id = regs->r[TDX_REG_RDX], value = regs->r[TDX_REG_R8];
	uint64_t wr_request = regs->r[TDX_REG_R9], old = 0, ret;
	struct md_td t = { .m = m, .lp = lp };
	struct pamt_lock l;

	regs->r[TDX_REG_R8] = 0;
	ret = md_td_open(&t, tdr_pa, TDH_MNG_WR_LEAF, &l);
	if (ret)
		return ret;
	/* The element is written, or nothing is: md_td_write checks everything before storing. */
	ret = md_td_write(&t, field_id, value, wr_request, &old);
	regs->r[TDX_REG_R8] = old;
	pamt_unlock(&l);
	return ret;
}
