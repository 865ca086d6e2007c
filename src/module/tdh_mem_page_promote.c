/* TDH.MEM.PAGE.PROMOTE (leaf 23): merge the 512 leaves of the Secure EPT page below a non-leaf
 * entry at PAGE_INFO.LEVEL (1: 2 MiB, 2: 1 GiB) into one leaf of that size, when they map one
 * physically contiguous, size-aligned range in the same state (all MAPPED or all PENDING, same
 * attributes). The SEPT page is freed (PT_NDA, its HPA in RCX) and the PAMT merged: the 4 KiB
 * (or 2 MiB) entries of the range become PT_NDA, the larger entry takes their type and owner.
 *
 * In a running TD the non-leaf entry must be blocked and its blocking epoch tracked, as for
 * REMOVE. Version 1 also returns the freed L2 SEPT pages in R9..R11: this module has no L2 VMs,
 * so they are always NULL_PA. The real module may stop with TDX_INTERRUPTED_RESTARTABLE on a
 * pending host interrupt before it commits anything; no interrupt is ever pending here.
 *
 * The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c). */
#include "sept.h"

#define PROMOTE_ALLOWED (SEPT_SET(SEPT_NL_MAPPED) | SEPT_SET(SEPT_NL_BLOCKED))

struct page_promote {
	struct sept_op op;
	uint64_t sept_pa;            /* the SEPT page to free */
	struct pamt_lock sept_lock;  /* its 4K PAMT entry, exclusive */
	uint64_t *children;          /* the SEPT page, mapped */
	unsigned nr_locked;          /* children whose host lock is held */
	uint64_t first;              /* children[0] as found (locked) */
	struct pamt_lock range_lock; /* the merged PAMT entry, exclusive */
	struct pamt_entry *child_pamt[SEPT_ENTRIES];
};

/* Lock every child in order and compare it to the first: a leaf of the expected HPA (first +
 * i * child size, after clearing a pending 2 MiB child's accept counter) with the very same
 * state and attribute bits. */
static uint64_t lock_and_check_children(struct page_promote *p)
{
	unsigned child_level = p->op.level - 1;
	uint64_t step = sept_level_size(child_level), expect = 0;

	for (unsigned i = 0; i < SEPT_ENTRIES; i++) {
		struct sept_walk w = { .entry = &p->children[i] };
		uint64_t e;

		if (!sept_entry_try_lock(&w))
			return TDX_OPERAND_BUSY;
		p->nr_locked++;
		e = sept_cleanup_if_pending(w.value, child_level);
		if (i == 0) {
			p->first = w.value;
			if ((sept_hpa(e) & (sept_level_size(p->op.level) - 1)) ||
			    !sept_state_in(sept_state_of(e), SEPT_STATESET_MAPPED_OR_PENDING))
				return TDX_EPT_INVALID_PROMOTE_CONDITIONS;
			expect = e;
		} else if (e != (expect += step)) {
			return TDX_EPT_INVALID_PROMOTE_CONDITIONS;
		}
	}
	return TDX_SUCCESS;
}

/* The non-leaf entry is locked: its SEPT page's PAMT entry, the tracking gate, the children. */
static uint64_t check_sept_page(struct tdx_module *m, struct tdx_regs *regs, struct page_promote *p)
{
	uint64_t ret;

	if (!sept_state_in(sept_state_of(p->op.w.value), PROMOTE_ALLOWED))
		return sept_op_entry_error(regs, &p->op, TDX_EPT_ENTRY_STATE_INCORRECT);
	p->sept_pa = sept_hpa(p->op.w.value);
	ret = sept_pamt_lock(m, p->sept_pa, 0, &p->sept_lock);
	if (!ret)
		ret = sept_op_tracking_gate(regs, &p->op, p->sept_lock.leaf->bepoch, OPERAND_ID_RCX);
	if (ret)
		return ret;
	p->children = sept_map_page(m, p->op.tdr, p->sept_pa);
	if (!p->children)
		return TDX_SEAMCALL_VMFAILINVALID;
	ret = lock_and_check_children(p);
	if (ret)
		return sept_op_entry_error(regs, &p->op, ret);
	return TDX_SUCCESS;
}

/* pamt_promote's checks: the larger entry exclusive, the child entries found. */
static uint64_t lock_range(struct tdx_module *m, struct page_promote *p)
{
	uint64_t base = sept_hpa(sept_cleanup_if_pending(p->first, p->op.level - 1));
	uint64_t ret = sept_pamt_lock(m, base, p->op.level, &p->range_lock);

	if (!ret)
		ret = sept_pamt_children(m, base, p->op.level, p->child_pamt);
	return ret;
}

static void commit(struct tdx_regs *regs, struct page_promote *p)
{
	struct pamt_entry *big = p->range_lock.leaf;

	/* The merged PAMT entry inherits the children's type and owner (all equal: PT_REG, the
	 * TDR, since every child leaf maps a page of this TD); the children become PT_NDA. */
	pamt_set(big, p->child_pamt[0]->pt, pamt_owner(p->child_pamt[0]));
	for (unsigned i = 0; i < SEPT_ENTRIES; i++)
		p->child_pamt[i]->pt = PT_NDA;
	/* The first child's value is the large leaf (state, attributes, HPA); one store publishes
	 * it and drops the entry lock. */
	sept_op_store(&p->op, p->first);
	__atomic_fetch_sub(&p->op.tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	p->sept_lock.leaf->pt = PT_NDA; /* owner stays: only the type frees the page */
	regs->r[TDX_REG_RCX] = p->sept_pa;
}

static void unlock_all(struct page_promote *p)
{
	for (unsigned i = 0; i < p->nr_locked; i++) {
		struct sept_walk w = { .entry = &p->children[i] };
		sept_entry_unlock(&w);
	}
	pamt_unlock(&p->range_lock);
	pamt_unlock(&p->sept_lock);
	sept_op_unlock(&p->op);
}

uint64_t tdh_mem_page_promote(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	unsigned version = (unsigned)((regs->r[TDX_REG_RAX] & VERSION_MASK) >> VERSION_SHIFT);
	uint64_t page_info = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX], ret;
	struct page_promote p = { 0 };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	/* No L2 VMs: no L2 SEPT page is ever freed. Set first, so failures report it too. */
	if (version)
		regs->r[TDX_REG_R9] = regs->r[TDX_REG_R10] = regs->r[TDX_REG_R11] = NULL_PA;
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_PAGE_PROMOTE_LEAF, &p.op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 1, 2, false, &p.op);
	if (!ret)
		ret = check_sept_page(m, regs, &p);
	if (!ret)
		ret = lock_range(m, &p);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	commit(regs, &p);
out:
	unlock_all(&p);
	return ret;
}
