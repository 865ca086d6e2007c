/* TDH.MEM.SEPT.REMOVE (leaf 30): unlink an empty Secure EPT page (all 512 entries FREE) from
 * the entry at PAGE_INFO.LEVEL and hand it back to the host as a free page. In a running TD
 * the entry must be blocked and its blocking epoch tracked.
 *
 * Version 1 also removes the L2 SEPT pages aliased to the entry (R9..R11). TD partitioning is
 * not modelled (SEPT.ADD refuses L2 pages), so no entry has aliases and version 1 reports
 * NULL_PA for all three. The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c). */
#include "sept.h"

#define SEPT_REMOVE_ALLOWED (SEPT_SET(SEPT_NL_MAPPED) | SEPT_SET(SEPT_NL_BLOCKED))

struct sept_remove {
	struct sept_op op;
	struct pamt_lock page_lock;
	uint64_t child;
};

static uint64_t check_child(struct tdx_module *m, struct tdx_regs *regs, struct sept_remove *r)
{
	bool is_free;
	uint64_t ret;

	if (!sept_state_in(sept_state_of(r->op.w.value), SEPT_REMOVE_ALLOWED))
		return sept_op_entry_error(regs, &r->op, TDX_EPT_ENTRY_STATE_INCORRECT);
	r->child = sept_hpa(r->op.w.value);
	ret = sept_pamt_lock(m, r->child, 0, &r->page_lock);
	if (!ret)
		ret = sept_op_tracking_gate(regs, &r->op, r->page_lock.leaf->bepoch, OPERAND_ID_RCX);
	if (!ret)
		ret = sept_page_is_free(m, r->op.tdr, r->child, &is_free);
	if (!ret && !is_free)
		ret = sept_op_entry_error(regs, &r->op, TDX_EPT_PAGE_NOT_FREE);
	return ret;
}

uint64_t tdh_mem_sept_remove(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	unsigned version = (unsigned)((regs->r[TDX_REG_RAX] & VERSION_MASK) >> VERSION_SHIFT);
	uint64_t page_info = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX], ret;
	struct sept_remove r = { 0 };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	if (version)
		regs->r[TDX_REG_R9] = regs->r[TDX_REG_R10] = regs->r[TDX_REG_R11] = NULL_PA;
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_SEPT_REMOVE_LEAF, &r.op);
	/* Exclusive: no walker may be below the page while it is unlinked. */
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 1, UINT32_MAX, true, &r.op);
	if (!ret)
		ret = check_child(m, regs, &r);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	sept_op_store(&r.op, SEPTE_INIT_VALUE);
	__atomic_fetch_sub(&r.op.tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	r.page_lock.leaf->pt = PT_NDA; /* contents are not cleared: the host flushes the page */
	regs->r[TDX_REG_RCX] = r.child;
out:
	pamt_unlock(&r.page_lock);
	sept_op_unlock(&r.op);
	return ret;
}
