/* TDH.MEM.PAGE.ADD (leaf 2): during the TD build, map a 4 KiB private page at a GPA whose
 * Secure EPT already reaches level 0, fill it with a copy of a host (shared) page, and record
 * the GPA (not the contents: TDH.MR.EXTEND does that) in MRTD. */
#include "measure.h"
#include "sept.h"

struct page_add {
	uint64_t page_info, tdr_pa, page_pa, src_pa;
	uint64_t gpa;
	struct pamt_lock tdr_lock, page_lock;
	struct tdr *tdr;
	struct tdcs *tdcs;
	struct sept_walk w;
};

/* Steps up to the SEPT entry: TDR (exclusive: it also stands for the SEPT tree and entry
 * locks), TD state, PAGE_INFO, GPA, walk, entry state. */
static uint64_t check_td_and_gpa(struct tdx_module *m, struct tdx_regs *regs, struct page_add *a)
{
	unsigned level;
	uint64_t ret = td_open(m, a->tdr_pa, OPERAND_ID_RDX, true, TDH_MEM_PAGE_ADD_LEAF, &a->tdr_lock, &a->tdr, &a->tdcs);
	if (!ret)
		ret = sept_check_page_info(a->page_info, 0, 0, &a->gpa, &level);
	if (!ret)
		ret = sept_check_private_gpa(a->tdcs, a->gpa);
	if (!ret)
		ret = sept_walk_to_level(m, a->tdr, a->tdcs, a->gpa, 0, &a->w);
	if (ret == api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX))
		sept_set_details(regs, a->w.value, a->w.level);
	if (ret)
		return ret;
	if (sept_state_of(a->w.value) != SEPT_FREE) {
		sept_set_details(regs, a->w.value, 0);
		return api_error_with_operand_id(TDX_EPT_ENTRY_STATE_INCORRECT, OPERAND_ID_RCX);
	}
	return TDX_SUCCESS;
}

/* R9, then R8. The copy is made here rather than at commit so that nothing can fail after
 * the target is claimed; a source with no DRAM behind it is refused like other unreadable
 * shared operands (TDX_OPERAND_INVALID + R9), where hardware would copy the abort page. */
static uint64_t check_pages(struct tdx_module *m, struct page_add *a)
{
	uint64_t ret;

	if (!module_is_shared_hpa(m, a->src_pa, SZ_4K, SZ_4K) ||
	    !plat_pa_is_backed(m->plat, a->src_pa & plat_pa_mask(m->plat), PLAT_PAGE_SIZE))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R9);
	ret = pamt_check_lock_explicit(m, a->page_pa, OPERAND_ID_R8, true, PT_NDA, &a->page_lock);
	if (ret)
		return ret;
	/* MOVDIR64B from the source under the TD's key, one pass over the page: the page is the
	 * TD's from now on, and holds the copy. The source was checked above, so a failure here
	 * is the target's. */
	if (plat_seam_init_page_from(m->plat, a->page_pa, a->tdr->hkid, a->src_pa))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	return TDX_SUCCESS;
}

uint64_t tdh_mem_page_add(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	struct page_add a = { .page_info = regs->r[TDX_REG_RCX], .tdr_pa = regs->r[TDX_REG_RDX],
			      .page_pa = regs->r[TDX_REG_R8], .src_pa = regs->r[TDX_REG_R9] };
	uint64_t ret;

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	ret = check_td_and_gpa(m, regs, &a);
	if (!ret)
		ret = check_pages(m, &a);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	__atomic_store_n(a.w.entry, sept_mapped_leaf_entry(a.page_pa), __ATOMIC_RELEASE);
	td_mrtd_extend_header(a.tdcs, "MEM.PAGE.ADD", a.gpa);
	a.tdr->chldcnt++;
	pamt_set(a.page_lock.leaf, PT_REG, a.tdr_pa);
	a.page_lock.leaf->bepoch = 0;
out:
	pamt_unlock(&a.page_lock);
	pamt_unlock(&a.tdr_lock);
	return ret;
}
