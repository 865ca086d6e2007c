/* TDH.MNG.KEY.FREEID (leaf 20): release the TD's HKID once every package wrote back its
 * caches; the TD moves to TD_TEARDOWN and its pages can be reclaimed. */
#include "td.h"

uint64_t tdh_mng_key_freeid(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdr_pa = regs->r[TDX_REG_RCX];
	struct pamt_lock l;
	struct tdr *tdr;
	uint64_t ret = td_lock_map_tdr(m, tdr_pa, OPERAND_ID_RCX, true, &l, &tdr);

	(void)lp;
	if (ret)
		return ret;
	if (tdr->lifecycle_state != TD_BLOCKED) {
		ret = TDX_LIFECYCLE_STATE_INCORRECT;
		goto out_pamt;
	}
	if (!kot_try_lock(m, true)) {
		ret = api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_KOT);
		goto out_pamt;
	}
	if (m->kot_wbinvd_bitmap[tdr->hkid]) {
		ret = TDX_WBCACHE_NOT_COMPLETE;
		goto out;
	}

	/* Nothing can fail past this point. */
	m->kot_state[tdr->hkid] = HKID_FREE;
	tdr->lifecycle_state = TD_TEARDOWN;
	ret = TDX_SUCCESS;
out:
	kot_unlock(m, true);
out_pamt:
	pamt_unlock(&l);
	return ret;
}
