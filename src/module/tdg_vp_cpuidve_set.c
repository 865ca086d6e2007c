/* TDG.VP.CPUIDVE.SET (leaf 5): the vCPU's choice of a #VE instead of the module's CPUID
 * virtualisation, for CPUID at CPL 0 (RCX bit 0) and above (bit 1); kept in the TDVPS fields
 * CPUID_SUPERVISOR_VE / CPUID_USER_VE that TDH.VP.RD shows. The other RCX bits are reserved.
 * (TD_CTLS.LOCK, which freezes these in later modules, does not exist in 1.5.01.) */
#include "td_guest.h"

uint64_t tdg_vp_cpuidve_set(struct td_guest *g)
{
	uint64_t control = g->regs->gpr[GPR_RCX];

	if (control & TDG_VP_CPUIDVE_CONTROL_RESERVED_MASK)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);

	/* Nothing can fail past this point. */
	tdvps_put(&g->pg, MD_TDVPS_FIELDS_CPUID_SUPERVISOR_VE_IDX, 0,
		  (control & TDG_VP_CPUIDVE_CONTROL_SUPERVISOR_MASK) >> TDG_VP_CPUIDVE_CONTROL_SUPERVISOR_SHIFT);
	tdvps_put(&g->pg, MD_TDVPS_FIELDS_CPUID_USER_VE_IDX, 0,
		  (control & TDG_VP_CPUIDVE_CONTROL_USER_MASK) >> TDG_VP_CPUIDVE_CONTROL_USER_SHIFT);
	return TDX_SUCCESS;
}
