/* TDH.MEM.PAGE.AUG (leaf 6): after TDH.MNG.INIT (also before TDH.MR.FINALIZE), map a free
 * 4 KiB page as PENDING at a private GPA whose Secure EPT reaches level 0. The guest must
 * accept it (TDG.MEM.PAGE.ACCEPT, which initialises it under the TD's key) before use.
 *
 * The page's contents are left as they are, as in the real module: AUG does not copy, zero
 * or measure anything. In this simulation the page therefore keeps the KeyID and bytes the
 * host last wrote until acceptance; a PENDING leaf has no permissions, so no leaf (not even
 * TDH.MEM.RD of a debug TD) reads through it meanwhile.
 *
 * Deviation: PAGE_INFO level 1 (2 MiB AUG, allowed by 1.5.01) is refused with
 * TDX_OPERAND_INVALID + RCX; this build has no 2 MiB PAMT ownership yet. */
#include "sept.h"

struct page_aug {
	uint64_t page_info, tdr_pa, page_pa;
	uint64_t gpa;
	struct pamt_lock tdr_lock, page_lock;
	struct tdr *tdr;
	struct tdcs *tdcs;
	bool tree_locked, entry_locked;
	struct sept_walk w;
};

/* PENDING 4 KiB leaf: no permissions, TDP set, write-back with IPAT like every leaf. */
static uint64_t pending_leaf_entry(uint64_t page_pa)
{
	return SEPTE_SVE | SEPTE_TDP | (page_pa & SEPTE_HPA_MASK) | SEPTE_PS | SEPTE_IPAT | SEPTE_MT_WB;
}

/* TDR (shared), TD state, PAGE_INFO and the private GPA, in the real module's order. */
static uint64_t check_td(struct tdx_module *m, struct page_aug *a)
{
	unsigned level;
	uint64_t ret = td_open(m, a->tdr_pa, OPERAND_ID_RDX, false, TDH_MEM_PAGE_AUG_LEAF, &a->tdr_lock, &a->tdr, &a->tdcs);
	if (!ret)
		ret = sept_check_page_info(a->page_info, 0, 0, &a->gpa, &level);
	if (!ret)
		ret = sept_check_private_gpa(a->tdcs, a->gpa);
	return ret;
}

/* Tree lock (shared), walk to level 0, host entry lock, FREE or REMOVED entry. */
static uint64_t lock_entry(struct tdx_module *m, struct tdx_regs *regs, struct page_aug *a)
{
	uint64_t ret;

	if (!sept_tree_try_lock(a->tdcs, false))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_SEPT_TREE);
	a->tree_locked = true;
	ret = sept_walk_to_level(m, a->tdr, a->tdcs, a->gpa, 0, &a->w);
	if (ret == api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX))
		sept_set_details(regs, a->w.value, a->w.level);
	if (ret)
		return ret;
	if (!sept_entry_try_lock(&a->w)) {
		sept_set_details(regs, a->w.value, 0);
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
	}
	a->entry_locked = true;
	if (sept_state_of(a->w.value) != SEPT_FREE && sept_state_of(a->w.value) != SEPT_REMOVED) {
		sept_set_details(regs, a->w.value, 0);
		return api_error_with_operand_id(TDX_EPT_ENTRY_STATE_INCORRECT, OPERAND_ID_RCX);
	}
	return TDX_SUCCESS;
}

static void unlock_all(struct page_aug *a)
{
	if (a->entry_locked)
		sept_entry_unlock(&a->w);
	if (a->tree_locked)
		sept_tree_unlock(a->tdcs, false);
	pamt_unlock(&a->page_lock);
	pamt_unlock(&a->tdr_lock);
}

uint64_t tdh_mem_page_aug(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	struct page_aug a = { .page_info = regs->r[REG_RCX], .tdr_pa = regs->r[REG_RDX], .page_pa = regs->r[REG_R8] };
	uint64_t ret;

	(void)lp;
	regs->r[REG_RCX] = 0;
	regs->r[REG_RDX] = 0;
	ret = check_td(m, &a);
	if (!ret)
		ret = lock_entry(m, regs, &a);
	if (!ret)
		ret = pamt_check_lock_explicit(m, a.page_pa, OPERAND_ID_R8, true, PT_NDA, &a.page_lock);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	/* One store publishes the leaf and drops the entry lock (TDEL is 0 in the new value). */
	__atomic_store_n(a.w.entry, pending_leaf_entry(a.page_pa), __ATOMIC_RELEASE);
	a.entry_locked = false;
	__atomic_fetch_add(&a.tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	pamt_set(a.page_lock.leaf, PT_REG, a.tdr_pa);
	a.page_lock.leaf->bepoch = 0;
out:
	unlock_all(&a);
	return ret;
}
