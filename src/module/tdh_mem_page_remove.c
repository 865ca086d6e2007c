/* TDH.MEM.PAGE.REMOVE (leaf 29): unmap a private page (4 KiB, 2 MiB or 1 GiB) from the TD and
 * hand it back to the host as a free page (PT_NDA, still encrypted with the TD's key: the host
 * flushes it with TDH.PHYMEM.PAGE.WBINVD before reuse). In a running TD only a blocked page
 * whose blocking epoch is tracked may go.
 *
 * The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c); the import states that
 * leave a REMOVED entry behind are not reached by this module, so the entry becomes FREE. */
#include "sept.h"

#define REMOVE_ALLOWED                                                                                 \
	(SEPT_SET(SEPT_MAPPED) | SEPT_SET(SEPT_BLOCKED) | SEPT_SET(SEPT_BLOCKEDW) | SEPT_SET(SEPT_PENDING) | \
	 SEPT_SET(SEPT_PENDING_BLOCKED) | SEPT_SET(SEPT_PENDING_BLOCKEDW))

struct page_remove {
	struct sept_op op;
	struct pamt_lock page_lock;
	uint64_t hpa;
};

static uint64_t check_page(struct tdx_module *m, struct tdx_regs *regs, struct page_remove *r)
{
	uint64_t e = r->op.w.value, ret;

	if (!sept_is_leaf(e) || !sept_state_in(sept_state_of(e), REMOVE_ALLOWED))
		return sept_op_entry_error(regs, &r->op, TDX_EPT_ENTRY_STATE_INCORRECT);
	r->hpa = sept_hpa(sept_cleanup_if_pending(e, r->op.level));
	ret = sept_pamt_lock(m, r->hpa, r->op.level, &r->page_lock);
	if (ret)
		return ret;
	return sept_op_tracking_gate(regs, &r->op, r->page_lock.leaf->bepoch, OPERAND_ID_RCX);
}

uint64_t tdh_mem_page_remove(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_info = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX], ret;
	struct page_remove r = { 0 };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_PAGE_REMOVE_LEAF, &r.op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 0, 2, false, &r.op);
	if (!ret)
		ret = check_page(m, regs, &r);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	sept_op_store(&r.op, SEPTE_INIT_VALUE);
	/* Other REMOVEs and AUGs of this TD run concurrently (the TDR is only held shared). */
	__atomic_fetch_sub(&r.op.tdr->chldcnt, UINT64_C(1) << (SEPT_LEVEL_BITS * r.op.level), __ATOMIC_SEQ_CST);
	r.page_lock.leaf->pt = PT_NDA; /* owner and BEPOCH stay: only the type frees the page */
	regs->r[TDX_REG_RCX] = r.hpa;
out:
	pamt_unlock(&r.page_lock);
	sept_op_unlock(&r.op);
	return ret;
}
