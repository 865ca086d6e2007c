/* TDG.VP.VMCALL (leaf 0): a trap-like TD exit that hands the VMM the guest GPRs selected by
 * RCX.GPR_SELECT (RAX, RCX and RSP never; RBP neither with NO_RBP_MOD); the others reach the
 * VMM as 0. The VMM sees RAX = the TDCALL exit reason and RCX = the selection. A bad RCX is
 * answered in the guest (TDX_OPERAND_INVALID + RCX) without an exit. XMM passing (XMM_SELECT)
 * is accepted and reported but the simulated LP carries no XMM state. */
#include "td_exit_state.h"
#include "td_guest.h"

#define TDVMCALL_GPR_FORBIDDEN ((1u << GPR_RAX) | (1u << GPR_RCX) | (1u << GPR_RSP))

uint64_t tdg_vp_vmcall(struct td_guest *g)
{
	uint64_t control = g->regs->gpr[GPR_RCX];
	uint64_t select = control & TDVMCALL_CONTROL_GPR_SELECT_MASK;
	uint64_t forbidden = TDVMCALL_GPR_FORBIDDEN | (td_guest_no_rbp_mod(g) ? 1u << GPR_RBP : 0);

	if ((select & forbidden) || (control & TDVMCALL_CONTROL_RESERVED_MASK))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	g->vmm->r[TDX_REG_RAX] = VMEXIT_REASON_TDCALL;
	g->vmm->r[TDX_REG_RCX] = control & (TDVMCALL_CONTROL_GPR_SELECT_MASK | TDVMCALL_CONTROL_XMM_SELECT_MASK);
	for (unsigned i = GPR_RDX; i <= GPR_R15; i++) {
		if (select & (UINT64_C(1) << i))
			g->vmm->r[i] = g->regs->gpr[i];
		else if (i != GPR_RBP || !td_guest_no_rbp_mod(g))
			g->vmm->r[i] = 0;
	}
	g->exit_to_vmm = true;
	return TDX_SUCCESS;
}
