/* TDH.PHYMEM.PAGE.RECLAIM (leaf 28): give a TD's page (or its TDR, last) back to the host
 * once the TD is torn down. */
#include "td.h"

static uint64_t release_child(struct tdx_module *m, uint64_t owner_pa, unsigned level)
{
	struct pamt_entry *e1g, *e2m, *e4k;
	struct tdr *tdr;
	uint64_t ret;

	if (pamt_walk(m, owner_pa, &e1g, &e2m, &e4k) || !pamt_entry_try_lock_shared(e4k))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_TDR);
	tdr = td_map_tdr(m, owner_pa);
	if (!tdr)
		ret = TDX_SEAMCALL_VMFAILINVALID;
	else if (tdr->lifecycle_state != TD_TEARDOWN)
		ret = TDX_LIFECYCLE_STATE_INCORRECT;
	else {
		__atomic_fetch_sub(&tdr->chldcnt, UINT64_C(1) << (9 * level), __ATOMIC_SEQ_CST);
		ret = TDX_SUCCESS;
	}
	pamt_entry_unlock_shared(e4k);
	return ret;
}

uint64_t tdh_phymem_page_reclaim(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t pa = regs->r[TDX_REG_RCX], ret;
	struct pamt_entry *e1g, *e2m, *e4k, *leaf;
	unsigned level;

	(void)lp;
	for (int r = TDX_REG_RCX; r <= TDX_REG_R11; r++)
		if (r == TDX_REG_RCX || r == TDX_REG_RDX || r >= TDX_REG_R8)
			regs->r[r] = 0;
	if ((pa & (SZ_4K - 1)) || module_pa_has_hkid(m, pa) || pa >= (UINT64_C(1) << MODULE_MAX_PA))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	ret = pamt_walk(m, pa, &e1g, &e2m, &e4k);
	if (ret == TDX_OPERAND_ADDR_RANGE_ERROR)
		return api_error_with_operand_id(ret, OPERAND_ID_RCX);
	if (ret)
		return ret;
	leaf = e1g->pt == PT_REG ? e1g : e2m->pt == PT_REG ? e2m : e4k;
	level = leaf == e1g ? PT_1GB : leaf == e2m ? PT_2MB : PT_4KB;
	if (!pamt_entry_try_lock_exclusive(leaf))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
	if (leaf->pt == PT_NDA || leaf->pt == PT_RSVD) {
		ret = api_error_with_operand_id(TDX_PAGE_METADATA_INCORRECT, OPERAND_ID_RCX);
		goto out;
	}
	/* The real module reports the page's metadata before its last checks. */
	regs->r[TDX_REG_RCX] = leaf->pt;
	regs->r[TDX_REG_RDX] = pamt_owner(leaf);
	regs->r[TDX_REG_R8] = level;
	if (level != PT_4KB && (pa & ((SZ_4K << (9 * level)) - 1))) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
		goto out;
	}
	if (leaf->pt != PT_TDR) {
		ret = release_child(m, pamt_owner(leaf), level);
		if (ret)
			goto out;
	} else {
		struct tdr *tdr = td_map_tdr(m, pa);
		if (!tdr) {
			ret = TDX_SEAMCALL_VMFAILINVALID;
			goto out;
		}
		if (tdr->lifecycle_state != TD_TEARDOWN) {
			ret = TDX_LIFECYCLE_STATE_INCORRECT;
			goto out;
		}
		if (tdr->chldcnt) {
			ret = TDX_TD_ASSOCIATED_PAGES_EXIST;
			goto out;
		}
	}

	/* Nothing can fail past this point. */
	leaf->pt = PT_NDA; /* owner and epoch stay: only the type says the page is free */
	ret = TDX_SUCCESS;
out:
	pamt_entry_unlock_exclusive(leaf);
	return ret;
}
