/* TDH.MEM.PAGE.DEMOTE (leaf 15): split a 2 MiB (PAGE_INFO level 1) or 1 GiB (level 2) leaf into
 * 512 leaves of the next size down, in a new Secure EPT page the host gives in R8. The small
 * leaves keep the large one's state, unblocked (BLOCKED becomes MAPPED, PENDING_BLOCKED becomes
 * PENDING), and the PAMT is split: the 512 smaller entries take the large entry's type and owner
 * with BEPOCH 0, the large entry becomes PT_NDA. The new page becomes PT_EPT of the TD.
 *
 * In a running TD the leaf must be blocked and its blocking epoch tracked. RDX is a TD handle
 * (reserved bits checked, L2_SEPT_ADD_MODE only matters with L2 VMs). R9..R11 name new L2 SEPT
 * pages for L2 VMs 1..3: this module has no L2 VMs, so like the real module with none it
 * neither checks nor uses them, and returns them unchanged on success.
 *
 * The real module is interruptible: on a pending host interrupt (checked before each L2 split
 * and before the PAMT split) it stops with TDX_INTERRUPTED_RESTARTABLE, RCX/RDX restored and
 * nothing committed. No host interrupt is ever pending here, so this one completes in one call.
 *
 * The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c). */
#include "sept.h"

#define TD_HANDLE_RESERVED (TD_HANDLE_AND_FLAGS_RESERVED_0_MASK | TD_HANDLE_AND_FLAGS_RESERVED_1_MASK)
#define DEMOTE_ALLOWED                                                                                 \
	(SEPT_SET(SEPT_MAPPED) | SEPT_SET(SEPT_BLOCKED) | SEPT_SET(SEPT_PENDING) | SEPT_SET(SEPT_PENDING_BLOCKED))

struct page_demote {
	struct sept_op op;
	uint64_t leaf;               /* the large leaf, accept counter cleared */
	uint64_t hpa;                /* the large page */
	struct pamt_lock page_lock;  /* the new SEPT page (R8), exclusive */
	struct pamt_lock range_lock; /* the large page's PAMT entry, exclusive */
	struct pamt_entry *child_pamt[SEPT_ENTRIES];
};

/* The leaf is locked: state, then (running TD) blocked and tracked. */
static uint64_t check_leaf(struct tdx_module *m, struct tdx_regs *regs, struct page_demote *d)
{
	struct pamt_entry *pe;

	if (!sept_state_in(sept_state_of(d->op.w.value), DEMOTE_ALLOWED))
		return sept_op_entry_error(regs, &d->op, TDX_EPT_ENTRY_STATE_INCORRECT);
	d->leaf = sept_cleanup_if_pending(d->op.w.value, d->op.level);
	d->hpa = sept_hpa(d->leaf);
	/* BEPOCH read unlocked, as BLOCK wrote it: the entry lock orders the two. */
	pe = sept_pamt_entry(m, d->hpa, d->op.level);
	if (!pe)
		return TDX_SEAMCALL_VMFAILINVALID;
	return sept_op_tracking_gate(regs, &d->op, __atomic_load_n(&pe->bepoch, __ATOMIC_ACQUIRE), OPERAND_ID_RCX);
}

/* The new SEPT page, then pamt_demote's lock on the large entry and its children. The page is
 * written only once everything that can fail has passed (the real module fills it before the
 * PAMT lock; the statuses are the same). */
static uint64_t check_pages(struct tdx_module *m, struct page_demote *d, uint64_t sept_pa)
{
	uint64_t ret = pamt_check_lock_explicit(m, sept_pa, OPERAND_ID_R8, true, PT_NDA, &d->page_lock);

	if (ret)
		return ret;
	ret = sept_pamt_lock(m, d->hpa, d->op.level, &d->range_lock);
	if (!ret)
		ret = sept_pamt_children(m, d->hpa, d->op.level, d->child_pamt);
	if (ret)
		return ret;
	if (sept_page_init(m, sept_pa, d->op.tdr->hkid))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	/* The small leaves: unblocked, unlocked, the next HPA each. */
	if (sept_page_fill(m, sept_pa, d->op.tdr->hkid, sept_unblocked_leaf(d->leaf) & ~SEPTE_TDEL,
			   sept_level_size(d->op.level - 1)))
		return TDX_SEAMCALL_VMFAILINVALID;
	return TDX_SUCCESS;
}

static void commit(struct page_demote *d, uint64_t sept_pa, uint64_t tdr_pa)
{
	struct pamt_entry *big = d->range_lock.leaf;
	uint64_t owner = pamt_owner(big);

	for (unsigned i = 0; i < SEPT_ENTRIES; i++) {
		pamt_set(d->child_pamt[i], big->pt, owner);
		d->child_pamt[i]->bepoch = 0;
	}
	big->pt = PT_NDA; /* owner and BEPOCH stay, as in the real module */
	pamt_set(d->page_lock.leaf, PT_EPT, tdr_pa);
	d->page_lock.leaf->bepoch = 0;
	/* Other SEPT.ADDs and DEMOTEs of this TD run concurrently (the TDR is only held shared). */
	__atomic_fetch_add(&d->op.tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	/* One store links the new page and drops the entry lock. */
	sept_op_store(&d->op, sept_nl_mapped_entry(sept_pa));
}

uint64_t tdh_mem_page_demote(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_info = regs->r[TDX_REG_RCX], handle = regs->r[TDX_REG_RDX], sept_pa = regs->r[TDX_REG_R8], ret;
	uint64_t tdr_pa = handle & TD_HANDLE_AND_FLAGS_TDR_HPA_MASK;
	struct page_demote d = { 0 };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	if (handle & TD_HANDLE_RESERVED)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_PAGE_DEMOTE_LEAF, &d.op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 1, 2, false, &d.op);
	if (!ret)
		ret = check_leaf(m, regs, &d);
	if (!ret)
		ret = check_pages(m, &d, sept_pa);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	commit(&d, sept_pa, tdr_pa);
	/* R9..R11 (no L2 VMs) are returned as given. */
out:
	pamt_unlock(&d.range_lock);
	pamt_unlock(&d.page_lock);
	sept_op_unlock(&d.op);
	return ret;
}
