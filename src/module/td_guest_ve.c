/* Virtualization exceptions and EPT-violation exits of a running TD vCPU: what the module
 * does when a guest access or a TDCALL meets a Secure EPT entry it cannot use (the real
 * module's tdx_inject_ve, tdx_ept_violation_exit_to_vmm and td_ept_violation_exit), and the
 * #GP(0) of an MSR access (inject_gp). */
#include <string.h>

#include "sept.h"
#include "td_guest.h"
#include "td_exit_state.h"
#include "td_guest_events.h"

/* A #VE's information for TDG.VP.VEINFO.GET; reserved bytes cleared. EPTP index and
 * instruction information stay 0: no EPTP switching or L2 VMs here, and the simulated exits
 * carry no instruction information. */
static void ve_info_fill(const struct td_guest *g, uint32_t exit_reason, uint64_t qual, uint64_t gla, uint64_t gpa,
			 uint32_t instr_len)
{
	const struct td_ve_info vi = { .exit_reason = exit_reason, .valid = (uint32_t)VE_INFO_VALID,
				       .exit_qualification = qual, .gla = gla, .gpa = gpa, .instr_len = instr_len };

	memset((uint8_t *)tdvps_store(&g->pg, tdvps_store_offset(0)) + VE_INFO_OFF_EPTP_INDEX, 0,
	       VE_INFO_SIZE - VE_INFO_OFF_EPTP_INDEX);
	td_ve_info_put(&g->pg, &vi);
}

static uint32_t ve_info_valid(const struct td_guest *g)
{
	struct td_ve_info vi;

	td_ve_info_get(&g->pg, &vi);
	return vi.valid;
}

/* td_guest_inject_ve() with the VM exit's instruction length for the #VE handler. */
static void inject_ve(struct td_guest *g, uint32_t exit_reason, uint64_t qualification, uint64_t gla, uint64_t gpa,
		      uint32_t instr_len)
{
	/* Information the guest has not read yet is never overwritten: a second #VE before
	 * TDG.VP.VEINFO.GET is a double fault. */
	if (ve_info_valid(g) == 0) {
		ve_info_fill(g, exit_reason, qualification, gla, gpa, instr_len);
		g->regs->event_inject = TD_GUEST_INTR_INFO_VE;
		g->regs->event_error_code = 0;
	} else {
		g->regs->event_inject = TD_GUEST_INTR_INFO_DF;
		g->regs->event_error_code = TD_GUEST_INTR_INFO_DF_ERROR_CODE;
	}
	/* The faulting instruction is restarted without a new instruction breakpoint match. */
	g->regs->rflags |= TD_GUEST_RFLAGS_RF;
	g->tdcall_pending = true;
}

void td_guest_inject_ve_instr(struct td_guest *g, const struct plat_guest_exit *ex)
{
	/* The #VE handler skips the instruction by VE_INFO's length. */
	inject_ve(g, ex->reason & 0xFFFF, ex->qualification, 0, 0, ex->instr_len);
}

void td_guest_inject_gp(struct td_guest *g)
{
	g->regs->event_inject = TD_GUEST_INTR_INFO_GP;
	g->regs->event_error_code = TD_GUEST_INTR_INFO_GP_ERROR_CODE;
	/* As for #VE: the faulting instruction restarts without a new instruction breakpoint match. */
	g->regs->rflags |= TD_GUEST_RFLAGS_RF;
}

uint64_t td_guest_inject_ve(struct td_guest *g, uint32_t exit_reason, uint64_t qualification, uint64_t gla,
			    uint64_t gpa)
{
	inject_ve(g, exit_reason, qualification, gla, gpa, 0);
	return TDX_SUCCESS;
}

void td_guest_ept_violation_exit(struct td_guest *g, uint64_t gpa, uint64_t qualification, uint64_t eeq)
{
	/* The VMM learns the page, not the offset, and nothing about the guest linear address. */
	g->ept_violation = true;
	g->ept_violation_gpa = gpa & ~(SZ_4K - 1);
	g->ept_violation_qual = qualification & ~EPT_VIOL_QUAL_CLEARED_ON_TD_EXIT;
	g->ept_violation_eeq = eeq;
}

/* Is the leaf at gpa a PENDING page the guest may still accept? (A walk that stops higher up
 * ends at a non-present non-leaf entry, which is not.) */
static bool gpa_is_pending(struct td_guest *g, uint64_t gpa)
{
	struct sept_walk w;

	if (sept_walk_to_level(g->m, g->tdr, g->tdcs, gpa & ~(SZ_4K - 1), 0, &w) == TDX_SEAMCALL_VMFAILINVALID)
		return false;
	return sept_state_in(sept_state_of(w.value), SEPT_STATESET_ANY_PENDING_AND_GUEST_ACCEPTABLE);
}

static bool pending_ve_disabled(const struct td_guest *g)
{
	return (g->tdcs->td_ctls & TD_CTLS_PENDING_VE_DISABLE_BIT) != 0;
}

/* A pending page met by a guest access or a TDCALL operand: #VE or a TD exit with the
 * PENDING_EPT_VIOLATION extended qualification, per TD_CTLS.PENDING_VE_DISABLE. Anything else
 * is a plain EPT-violation exit. True when the guest got a #VE. */
static bool pending_or_exit(struct td_guest *g, uint64_t qual, uint64_t gla, uint64_t gpa)
{
	uint64_t eeq = 0;

	if (gpa_is_pending(g, gpa)) {
		if (!pending_ve_disabled(g)) {
			td_guest_inject_ve(g, VMEXIT_REASON_EPT_VIOLATION, qual, gla, gpa);
			return true;
		}
		eeq = (uint64_t)VMX_EEQ_TYPE_PENDING_EPT_VIOLATION << VMX_EEQ_TYPE_SHIFT;
	}
	td_guest_ept_violation_exit(g, gpa, qual, eeq);
	return false;
}

bool td_guest_vm_exit_ept_violation(struct td_guest *g, uint64_t qualification, uint64_t gla, uint64_t gpa)
{
	/* Shared GPAs (and GPAs beyond the GPA width) are the VMM's business. */
	if (sept_check_private_gpa(g->tdcs, gpa & ~(SZ_4K - 1))) {
		td_guest_ept_violation_exit(g, gpa, qualification, 0);
		return false;
	}
	return pending_or_exit(g, qualification, gla, gpa);
}

/* check_walk_and_map_guest_side_gpa()'s failure: the exit qualification says which access
 * failed (read, and write for a writable mapping) and what the leaf allowed. */
uint64_t td_guest_operand_walk_failed(struct td_guest *g, uint64_t gpa, bool write, uint64_t leaf_rwx)
{
	uint64_t access = EPT_VIOL_QUAL_DATA_READ | (write ? EPT_VIOL_QUAL_DATA_WRITE : 0);
	uint64_t allowed = (leaf_rwx & SEPTE_R ? EPT_VIOL_QUAL_DATA_READ : 0) |
			   (leaf_rwx & SEPTE_W ? EPT_VIOL_QUAL_DATA_WRITE : 0);
	uint64_t found = (leaf_rwx & SEPTE_R ? EPT_VIOL_QUAL_GPA_READABLE : 0) |
			 (leaf_rwx & SEPTE_W ? EPT_VIOL_QUAL_GPA_WRITEABLE : 0) |
			 (leaf_rwx & SEPTE_X ? EPT_VIOL_QUAL_GPA_EXECUTABLE : 0);

	pending_or_exit(g, (access & ~allowed) | found, 0, gpa);
	return TDX_EPT_WALK_FAILED;
}
