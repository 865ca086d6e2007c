/* TDH.VP.FLUSH (leaf 18): on the LP a vCPU is associated with, write its cached state back
 * (VMCLEAR, INVEPT of the TD's EPTs) and dissociate it, so that TDH.MNG.VPFLUSHDONE can
 * later find no associated vCPU.
 *
 * Like the real module it does not check FATAL or OP_STATE: only the TD's keys, then that
 * the call runs on the vCPU's LP (TDX_VCPU_NOT_ASSOCIATED otherwise, or once flushed; Linux
 * ignores that status). TDH.VP.INIT associates a vCPU with the LP it ran on. */
#include "tdvps.h"

/* Keys configured, TDCS and TDVPS mapped, every TDVPX page present. */
static uint64_t map_vcpu(struct tdx_module *m, uint64_t tdr_pa, uint64_t tdvpr_pa, struct tdcs **tdcs,
			 struct tdvps **vp)
{
	struct tdr *tdr = td_map_tdr(m, tdr_pa);

	if (!tdr)
		return TDX_SEAMCALL_VMFAILINVALID;
	if (tdr->lifecycle_state != TD_KEYS_CONFIGURED)
		return TDX_TD_KEYS_NOT_CONFIGURED;
	*tdcs = td_map_tdcs(m, tdr);
	if (!*tdcs)
		return TDX_SEAMCALL_VMFAILINVALID;
	if (plat_seam_map(m->plat, tdvpr_pa, tdr->hkid, (void **)vp)) {
		plat_seam_machine_check(m->plat, tdvpr_pa);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	return (*vp)->num_tdvpx < MIN_TDVPS_PAGES - 1 ? TDX_TDCX_NUM_INCORRECT : TDX_SUCCESS;
}

uint64_t tdh_vp_flush(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdvpr_pa = regs->r[TDX_REG_RCX], tdr_pa, ret;
	struct pamt_entry *tdr_entry = NULL;
	struct pamt_lock lv;
	struct tdcs *tdcs;
	struct tdvps *vp;

	ret = pamt_check_lock_explicit(m, tdvpr_pa, OPERAND_ID_RCX, true, PT_TDVPR, &lv);
	if (ret)
		return ret;
	tdr_pa = pamt_owner(lv.leaf);
	ret = tdvps_lock_tdr_implicit(m, tdr_pa, &tdr_entry);
	if (!ret)
		ret = map_vcpu(m, tdr_pa, tdvpr_pa, &tdcs, &vp);
	if (!ret && !tdvps_associated_with(vp, lp))
		ret = TDX_VCPU_NOT_ASSOCIATED;
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	/* No VMCS or EPT translations are cached by the simulated LP: dissociating is all. */
	__atomic_store_n(&vp->assoc_lp1, 0, __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&tdcs->num_assoc_vcpus, 1, __ATOMIC_SEQ_CST);
out:
	if (tdr_entry)
		pamt_entry_unlock_shared(tdr_entry);
	pamt_unlock(&lv);
	return ret;
}
