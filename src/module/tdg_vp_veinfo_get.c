/* TDG.VP.VEINFO.GET (leaf 3, version 0): the guest's #VE handler reads the VE_INFO the module
 * left in its TDVPS and releases it, so that the next #VE can be delivered. RCX = exit
 * reason, RDX = exit qualification, R8 = GLA, R9 = GPA, R10 = instruction length | info << 32;
 * all 0 and TDX_NO_VALID_VE_INFO when nothing is pending. (VE_CATEGORY in RCX[63:32] is a
 * version-1 output of later modules; the dispatcher refuses version 1 for 1.5.01.) */
#include "td_guest.h"

uint64_t tdg_vp_veinfo_get(struct td_guest *g)
{
	uint64_t *gpr = g->regs->gpr;
	struct td_ve_info vi;

	gpr[GPR_RCX] = gpr[GPR_RDX] = gpr[GPR_R8] = gpr[GPR_R9] = gpr[GPR_R10] = 0;
	td_ve_info_get(&g->pg, &vi);
	if (!vi.valid)
		return TDX_NO_VALID_VE_INFO;

	/* Nothing can fail past this point. */
	gpr[GPR_RCX] = vi.exit_reason;
	gpr[GPR_RDX] = vi.exit_qualification;
	gpr[GPR_R8] = vi.gla;
	gpr[GPR_R9] = vi.gpa;
	gpr[GPR_R10] = (((uint64_t)vi.instr_len << TDG_VP_VEINFO_INSTR_INSTRUCTION_LENGTH_SHIFT) &
			TDG_VP_VEINFO_INSTR_INSTRUCTION_LENGTH_MASK) |
		       (((uint64_t)vi.instr_info << TDG_VP_VEINFO_INSTR_INSTRUCTION_INFO_SHIFT) &
			TDG_VP_VEINFO_INSTR_INSTRUCTION_INFO_MASK);
	vi.valid = 0;
	td_ve_info_put(&g->pg, &vi);
	return TDX_SUCCESS;
}
