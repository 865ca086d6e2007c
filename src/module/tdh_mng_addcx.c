/* TDH.MNG.ADDCX (leaf 1): add one TDCS page (TDCX) to a TD, initialised under its KeyID. */
#include <openssl/rand.h>
#include <string.h>

#include "td.h"

/* Fill the new page like MOVDIR64B does: MSR bitmaps all ones, the SEPT root all FREE. */
static int fill_tdcx(struct tdx_module *m, uint64_t pa, unsigned hkid, unsigned idx)
{
	uint64_t *q;

	if (plat_seam_init_pages(m->plat, pa, 1, hkid) || plat_seam_map(m->plat, pa, hkid, (void **)&q))
		return -1;
	if (idx == TDCS_PAGE_MSR_BITMAPS)
		memset(q, 0xff, PLAT_PAGE_SIZE);
	else if (idx == TDCS_PAGE_SEPT_ROOT)
		for (unsigned i = 0; i < PLAT_PAGE_SIZE / 8; i++)
			q[i] = SEPTE_INIT_VALUE;
	return 0;
}

uint64_t tdh_mng_addcx(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_pa = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX];
	struct pamt_lock lt, lp_;
	struct tdr *tdr;
	struct tdcs *tdcs;
	unsigned idx;
	uint64_t ret = td_lock_map_tdr(m, tdr_pa, OPERAND_ID_RDX, true, &lt, &tdr);

	(void)lp;
	memset(&lp_, 0, sizeof(lp_));
	if (ret)
		return ret;
	if (tdr->fatal) {
		ret = TDX_TD_FATAL;
		goto out;
	}
	if (tdr->lifecycle_state != TD_KEYS_CONFIGURED) {
		ret = TDX_TD_KEYS_NOT_CONFIGURED;
		goto out;
	}
	idx = tdr->num_tdcx;
	if (idx >= MAX_NUM_TDCS_PAGES) {
		ret = TDX_TDCX_NUM_INCORRECT;
		goto out;
	}
	ret = pamt_check_lock_explicit(m, page_pa, OPERAND_ID_RCX, true, PT_NDA, &lp_);
	if (ret)
		goto out;
	if (fill_tdcx(m, page_pa, tdr->hkid, idx)) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
		goto out;
	}
	if (idx + 1 == MIN_NUM_TDCS_PAGES) {
		tdcs = td_map_tdcs(m, tdr); /* page 0 is tdcx_pa[0], added first */
		if (!tdcs || RAND_bytes(tdcs->mig_enc_key, sizeof(tdcs->mig_enc_key)) != 1) {
			ret = TDX_RND_NO_ENTROPY;
			goto out;
		}
	} else if (idx + 1 > MIN_NUM_TDCS_PAGES) {
		tdcs = td_map_tdcs(m, tdr);
		if (!tdcs || tdcs->op_state != OP_STATE_UNINITIALIZED) {
			ret = TDX_OP_STATE_INCORRECT;
			goto out;
		}
	}

	/* Nothing can fail past this point. */
	tdr->tdcx_pa[idx] = td_hkid_pa(m, page_pa, tdr->hkid);
	tdr->num_tdcx = idx + 1;
	tdr->chldcnt++;
	pamt_set(lp_.leaf, PT_TDCX, tdr_pa);
	ret = TDX_SUCCESS;
out:
	if (lp_.leaf)
		pamt_unlock(&lp_);
	pamt_unlock(&lt);
	return ret;
}
