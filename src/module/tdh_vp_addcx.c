/* TDH.VP.ADDCX (leaf 4): add one TDVPX page to a vCPU that is not initialised yet. */
#include "tdvps.h"

uint64_t tdh_vp_addcx(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_pa = regs->r[TDX_REG_RCX], tdvpr_pa = regs->r[TDX_REG_RDX];
	struct pamt_lock lv, lp_ = { 0 };
	struct tdvps *vp;
	struct tdr *tdr;
	struct tdcs *tdcs;
	uint64_t ret = tdvps_lock_and_map(m, tdvpr_pa, OPERAND_ID_RDX, TDH_VP_ADDCX_LEAF, &lv, &vp, &tdr, &tdcs);

	(void)lp;
	if (ret)
		return ret;
	if (vp->state != VCPU_UNINITIALIZED) {
		ret = TDX_VCPU_STATE_INCORRECT;
		goto out;
	}
	if (vp->num_tdvpx >= MIN_TDVPS_PAGES - 1) {
		ret = TDX_TDCX_NUM_INCORRECT;
		goto out;
	}
	ret = pamt_check_lock_explicit(m, page_pa, OPERAND_ID_RCX, true, PT_NDA, &lp_);
	if (ret)
		goto out;
	if (plat_seam_init_pages(m->plat, page_pa, 1, tdr->hkid)) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
		goto out;
	}

	/* Nothing can fail past this point. */
	vp->tdvpx_pa[vp->num_tdvpx++] = td_hkid_pa(m, page_pa, tdr->hkid);
	__atomic_fetch_add(&tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	pamt_set(lp_.leaf, PT_TDCX, pamt_owner(lv.leaf));
	ret = TDX_SUCCESS;
out:
	if (lp_.leaf)
		pamt_unlock(&lp_);
	pamt_unlock(&lv);
	return ret;
}
