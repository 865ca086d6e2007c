/* TDH.MEM.PAGE.AUG (leaf 6): after TDH.MNG.INIT (also before TDH.MR.FINALIZE), map a free page
 * of 4 KiB (PAGE_INFO level 0) or 2 MiB (level 1, a 2 MiB aligned HPA whose 512 4 KiB pages are
 * all free) as PENDING at a private GPA whose Secure EPT reaches that level. The guest must
 * accept it (TDG.MEM.PAGE.ACCEPT, which initialises it under the TD's key) before use.
 *
 * The page's contents are left as they are, as in the real module: AUG does not copy, zero
 * or measure anything. In this simulation the page therefore keeps the KeyID and bytes the
 * host last wrote until acceptance; a PENDING leaf has no permissions, so no leaf (not even
 * TDH.MEM.RD of a debug TD) reads through it meanwhile.
 *
 * A 2 MiB page is owned at the 2 MiB level of the PAMT (PT_REG, owner TDR); its 4 KiB entries
 * stay PT_NDA, as in the real module. A pending 2 MiB leaf starts with its accept counter (HPA
 * bits 20:12) zero, which the aligned HPA gives. */
#include "sept.h"

#define AUG_ALLOWED (SEPT_SET(SEPT_FREE) | SEPT_SET(SEPT_REMOVED))

/* PENDING leaf: no permissions, TDP set, write-back with IPAT like every leaf. */
static uint64_t pending_leaf_entry(uint64_t page_pa)
{
	return SEPTE_SVE | SEPTE_TDP | (page_pa & SEPTE_HPA_MASK) | SEPTE_PS | SEPTE_IPAT | SEPTE_MT_WB;
}

uint64_t tdh_mem_page_aug(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_info = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX], page_pa = regs->r[TDX_REG_R8], ret;
	struct sept_op op = { 0 };
	struct pamt_lock page_lock = { 0 };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_PAGE_AUG_LEAF, &op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 0, 1, false, &op);
	if (!ret && !sept_state_in(sept_state_of(op.w.value), AUG_ALLOWED))
		ret = sept_op_entry_error(regs, &op, TDX_EPT_ENTRY_STATE_INCORRECT);
	if (!ret)
		ret = sept_pamt_lock_free_range(m, page_pa, OPERAND_ID_R8, op.level, &page_lock);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	sept_op_store(&op, pending_leaf_entry(page_pa));
	/* Other AUGs and REMOVEs of this TD run concurrently (the TDR is only held shared). */
	__atomic_fetch_add(&op.tdr->chldcnt, UINT64_C(1) << (SEPT_LEVEL_BITS * op.level), __ATOMIC_SEQ_CST);
	pamt_set(page_lock.leaf, PT_REG, tdr_pa);
	page_lock.leaf->bepoch = 0;
out:
	pamt_unlock(&page_lock);
	sept_op_unlock(&op);
	return ret;
}
