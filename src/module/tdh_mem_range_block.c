/* TDH.MEM.RANGE.BLOCK (leaf 7): make the range an entry maps (a page, or everything below a
 * SEPT page) inaccessible to the TD and record in the PAMT the TLB epoch it was blocked in, so
 * that after TDH.MEM.TRACK the host can remove, demote or unblock it knowing no vCPU still
 * holds a translation.
 *
 * The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c). */
#include "sept.h"

#define BLOCK_ALLOWED                                                                                 \
	(SEPT_SET(SEPT_NL_MAPPED) | SEPT_SET(SEPT_MAPPED) | SEPT_SET(SEPT_BLOCKEDW) | SEPT_SET(SEPT_PENDING) | \
	 SEPT_SET(SEPT_PENDING_BLOCKEDW))

/* The locked entry made blocked: no permissions (MT kept), the blocked state. */
static uint64_t blocked_value(uint64_t e, unsigned level)
{
	enum sept_state s = sept_state_of(e);

	e = sept_cleanup_if_pending(e, level) & ~SEPTE_RWX;
	if (s == SEPT_NL_MAPPED)
		e = sept_with_state(e, SEPT_NL_BLOCKED);
	else if (s == SEPT_PENDING || s == SEPT_PENDING_BLOCKEDW)
		e = sept_with_state(e, SEPT_PENDING_BLOCKED);
	else
		e = sept_with_state(e, SEPT_BLOCKED);
	return e | SEPTE_SVE;
}

static uint64_t check_entry(struct tdx_regs *regs, const struct sept_op *op)
{
	enum sept_state s = sept_state_of(op->w.value);

	if (sept_state_in(s, BLOCK_ALLOWED))
		return TDX_SUCCESS;
	/* A warning (bit 63 clear): the range is blocked as asked, nothing changes. */
	if (sept_state_in(s, SEPT_STATESET_ANY_BLOCKED))
		return sept_op_entry_error(regs, op, TDX_GPA_RANGE_ALREADY_BLOCKED);
	return sept_op_entry_error(regs, op, TDX_EPT_ENTRY_STATE_INCORRECT);
}

uint64_t tdh_mem_range_block(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_info = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX], ret;
	struct sept_op op = { 0 };
	struct pamt_entry *pe = NULL;
	bool leaf;

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_RANGE_BLOCK_LEAF, &op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 0, UINT32_MAX, true, &op);
	if (!ret)
		ret = check_entry(regs, &op);
	if (ret)
		goto out;
	/* A leaf's data page at its size; a non-leaf's child SEPT page. */
	leaf = sept_is_leaf(op.w.value);
	pe = sept_pamt_entry(m, sept_hpa(sept_cleanup_if_pending(op.w.value, op.level)), leaf ? op.level : 0);
	if (!pe) {
		ret = TDX_SEAMCALL_VMFAILINVALID;
		goto out;
	}

	/* Nothing can fail past this point. */
	sept_op_store(&op, blocked_value(op.w.value, op.level));
	/* Unlocked, like the real module: only BLOCK writes BEPOCH of a mapped page, and it holds
	 * the SEPT tree exclusively. */
	__atomic_store_n(&pe->bepoch, __atomic_load_n(&op.tdcs->td_epoch, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
out:
	sept_op_unlock(&op);
	return ret;
}
