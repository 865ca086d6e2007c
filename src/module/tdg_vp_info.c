/* TDG.VP.INFO (leaf 1): what a TD learns about itself at boot. RCX = the GPA width (52 when
 * TDCS.GPAW is set, else 48), RDX = ATTRIBUTES, R8 = NUM_VCPUS | MAX_VCPUS << 32, R9 = the
 * calling vCPU's VCPU_INDEX, R10 = the optional TDCALLs available (1.5.01: TDG.SYS.RD/RDALL),
 * R11 = 0. No operand, nothing to fail. */
#include "td_guest.h"

uint64_t tdg_vp_info(struct td_guest *g)
{
	const struct tdcs *c = g->tdcs;
	uint64_t *gpr = g->regs->gpr;
	uint64_t width = c->gpaw ? GPAW_MAX_PA_WIDE : GPAW_MAX_PA_NARROW;
	/* NUM_VCPUS grows while the host still adds vCPUs (TDH.VP.INIT of others). */
	uint64_t num = __atomic_load_n(&c->num_vcpus, __ATOMIC_RELAXED);

	gpr[GPR_RCX] = (width << TDG_VP_INFO_GPAW_GPAW_SHIFT) & TDG_VP_INFO_GPAW_GPAW_MASK;
	gpr[GPR_RDX] = c->attributes;
	gpr[GPR_R8] = ((num << TD_NUM_OF_VCPUS_NUM_VCPUS_SHIFT) & TD_NUM_OF_VCPUS_NUM_VCPUS_MASK) |
		      (((uint64_t)c->max_vcpus << TD_NUM_OF_VCPUS_MAX_VCPUS_SHIFT) & TD_NUM_OF_VCPUS_MAX_VCPUS_MASK);
	gpr[GPR_R9] = g->vp->vcpu_index;
	gpr[GPR_R10] = TDG_COMMANDS_AVAILABLE_TDG_SYS_RD_AVAILABLE_MASK;
	gpr[GPR_R11] = 0;
	return TDX_SUCCESS;
}
