/* TDH.VP.CREATE (leaf 10): turn a free page into the TDVPR (root page) of a new vCPU. */
#include "tdvps.h"

uint64_t tdh_vp_create(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdvpr_pa = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX];
	struct pamt_lock lt, lv = { 0 };
	struct tdr *tdr;
	struct tdcs *tdcs;
	struct tdvps *vp;
	uint64_t ret = td_open(m, tdr_pa, OPERAND_ID_RDX, false, TDH_VP_CREATE_LEAF, &lt, &tdr, &tdcs);

	(void)lp;
	if (ret)
		return ret;
	ret = pamt_check_lock_explicit(m, tdvpr_pa, OPERAND_ID_RCX, true, PT_NDA, &lv);
	if (ret)
		goto out;
	if (plat_seam_init_pages(m->plat, tdvpr_pa, 1, tdr->hkid) ||
	    plat_seam_map(m->plat, tdvpr_pa, tdr->hkid, (void **)&vp)) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
		goto out;
	}

	/* Nothing can fail past this point. */
	vp->state = VCPU_UNINITIALIZED;
	vp->tdr_pa = tdr_pa;
	__atomic_fetch_add(&tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	pamt_set(lv.leaf, PT_TDVPR, tdr_pa);
	ret = TDX_SUCCESS;
out:
	if (lv.leaf)
		pamt_unlock(&lv);
	pamt_unlock(&lt);
	return ret;
}
