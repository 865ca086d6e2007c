/* TDH.MEM.RANGE.UNBLOCK (leaf 39): give back a blocked range to the TD, once the epoch it was
 * blocked in is tracked (in a running TD), with the permissions a mapped entry has.
 *
 * The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c). */
#include "sept.h"

/* The locked (blocked) entry unblocked: NL_MAPPED (RWX, MT 0), or for a leaf MAPPED (RWX, MT
 * WB) or PENDING, the rule DEMOTE and RELOCATE share (sept_unblocked_leaf). */
static uint64_t unblocked_value(uint64_t e)
{
	if (sept_state_of(e) == SEPT_NL_BLOCKED)
		e = sept_with_state((e & ~SEPTE_MT_MASK) | SEPTE_RWX, SEPT_NL_MAPPED);
	else
		e = sept_unblocked_leaf(e);
	return e | SEPTE_SVE;
}

static uint64_t check_entry(struct tdx_module *m, struct tdx_regs *regs, const struct sept_op *op)
{
	bool leaf = sept_is_leaf(op->w.value);
	struct pamt_entry *pe;

	if (!sept_state_in(sept_state_of(op->w.value), SEPT_STATESET_ANY_BLOCKED))
		return sept_op_entry_error(regs, op, TDX_EPT_ENTRY_STATE_INCORRECT);
	pe = sept_pamt_entry(m, sept_hpa(op->w.value), leaf ? op->level : 0);
	if (!pe)
		return TDX_SEAMCALL_VMFAILINVALID;
	/* Read without the PAMT lock, as BLOCK wrote it: the SEPT tree lock orders the two. */
	return sept_op_tracking_gate(regs, op, __atomic_load_n(&pe->bepoch, __ATOMIC_ACQUIRE), OPERAND_ID_SEPT_TREE);
}

uint64_t tdh_mem_range_unblock(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_info = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX], ret;
	struct sept_op op = { 0 };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_RANGE_UNBLOCK_LEAF, &op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 0, UINT32_MAX, true, &op);
	if (!ret)
		ret = check_entry(m, regs, &op);

	/* Nothing can fail past this point. */
	if (!ret)
		sept_op_store(&op, unblocked_value(op.w.value));
	sept_op_unlock(&op);
	return ret;
}
