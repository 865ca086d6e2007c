/* TDH.MNG.VPFLUSHDONE (leaf 19): all vCPUs are flushed; block the TD and mark its HKID as
 * needing a cache write-back on every package. */
#include "td.h"

uint64_t tdh_mng_vpflushdone(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdr_pa = regs->r[TDX_REG_RCX];
	struct pamt_lock l;
	struct tdr *tdr;
	uint64_t ret = pamt_check_lock_explicit(m, tdr_pa, OPERAND_ID_RCX, true, PT_TDR, &l);

	(void)lp;
	if (ret)
		return ret;
	if (!kot_try_lock(m, true)) {
		ret = api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_KOT);
		goto out_pamt;
	}
	tdr = td_map_tdr(m, tdr_pa);
	if (!tdr) {
		ret = TDX_SEAMCALL_VMFAILINVALID;
		goto out;
	}
	if (tdr->lifecycle_state != TD_KEYS_CONFIGURED && tdr->lifecycle_state != TD_HKID_ASSIGNED) {
		ret = TDX_LIFECYCLE_STATE_INCORRECT;
		goto out;
	}
	if (tdr->num_tdcx >= MIN_NUM_TDCS_PAGES) {
		struct tdcs *tdcs = td_map_tdcs(m, tdr);
		if (!tdcs) {
			ret = TDX_SEAMCALL_VMFAILINVALID;
			goto out;
		}
		if (tdcs->op_state != OP_STATE_UNINITIALIZED && tdcs->num_assoc_vcpus) {
			ret = TDX_FLUSHVP_NOT_DONE;
			goto out;
		}
	}

	/* Nothing can fail past this point. */
	m->kot_wbinvd_bitmap[tdr->hkid] = atomic_load(&m->pkg_config_bitmap);
	tdr->lifecycle_state = TD_BLOCKED;
	m->kot_state[tdr->hkid] = HKID_FLUSHED;
	ret = TDX_SUCCESS;
out:
	kot_unlock(m, true);
out_pamt:
	pamt_unlock(&l);
	return ret;
}
