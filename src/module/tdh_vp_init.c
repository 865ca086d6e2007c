/* TDH.VP.INIT (leaf 22, version 0): initialise a vCPU whose TDVPS pages are all added; it
 * gets the next vCPU index and the initial RCX (the TD HOB address). */
#include "tdvps.h"

uint64_t tdh_vp_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdvpr_pa = regs->r[REG_RCX], initial_rcx = regs->r[REG_RDX];
	struct pamt_lock lv;
	struct tdvps *vp;
	struct tdr *tdr;
	struct tdcs *tdcs;
	uint32_t index;
	uint64_t ret = tdvps_lock_and_map(m, tdvpr_pa, OPERAND_ID_RCX, TDH_VP_INIT_LEAF, &lv, &vp, &tdr, &tdcs);

	(void)lp;
	if (ret)
		return ret;
	if (vp->state != VCPU_UNINITIALIZED) {
		ret = TDX_VCPU_STATE_INCORRECT;
		goto out;
	}
	if (vp->num_tdvpx < MIN_TDVPS_PAGES - 1) {
		ret = TDX_TDCX_NUM_INCORRECT;
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
	vp->state = VCPU_READY;
	ret = TDX_SUCCESS;
out:
	pamt_unlock(&lv);
	return ret;
}
