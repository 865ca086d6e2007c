/* TDH.VP.INIT (leaf 22, version 0): initialise a vCPU whose TDVPS pages are all added; it
 * gets the next vCPU index, the initial RCX (the TD HOB address) and the initial vCPU state
 * of tdvps_init_state() (reset vector, GPRs, TD VMCS), which TDH.VP.RD reads back.
 * Like the real module it associates the vCPU with this LP (its VMCS would now be loaded
 * here), so tearing the TD down needs TDH.VP.FLUSH on this LP before TDH.MNG.VPFLUSHDONE. */
#include "tdvps.h"

uint64_t tdh_vp_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdvpr_pa = regs->r[REG_RCX], initial_rcx = regs->r[REG_RDX];
	struct pamt_lock lv;
	struct tdvps *vp;
	struct tdr *tdr;
	struct tdcs *tdcs;
	struct tdvps_pages pg;
	uint32_t index;
	uint64_t ret;

	/* The TSC is sampled (LAST_EXIT_TSC): IA32_TSC_ADJUST must be what TDH.SYS.INIT saw. */
	ret = module_check_tsc_adjust(m, lp);
	if (ret)
		return ret;
	ret = tdvps_lock_and_map(m, tdvpr_pa, OPERAND_ID_RCX, TDH_VP_INIT_LEAF, &lv, &vp, &tdr, &tdcs);
	if (ret)
		return ret;
	ret = tdvps_map_pages(m, tdr, vp, &pg); /* TDCX_NUM_INCORRECT while TDVPX pages are missing */
	if (ret)
		goto out;
	if (vp->state != VCPU_UNINITIALIZED) {
		ret = TDX_VCPU_STATE_INCORRECT;
		goto out;
	}
	index = __atomic_fetch_add(&tdcs->num_vcpus, 1, __ATOMIC_SEQ_CST);
	if (index >= tdcs->max_vcpus) {
		__atomic_fetch_sub(&tdcs->num_vcpus, 1, __ATOMIC_SEQ_CST);
		ret = TDX_MAX_VCPUS_EXCEEDED;
		goto out;
	}

	/* Nothing can fail past this point. */
	vp->vcpu_index = index;
	vp->initial_rcx = initial_rcx;
	tdvps_init_state(m, tdr, tdcs, vp, tdvpr_pa, &pg);
	vp->state = VCPU_READY;
	(void)tdvps_associate(vp, tdcs, lp); /* never associated before: cannot fail */
	ret = TDX_SUCCESS;
out:
	pamt_unlock(&lv);
	return ret;
}
