/* The VM exits an external engine reports to the module, with their SDM exit reasons and
 * EPT-violation qualification bits (td_launch.h). */
#include "td_guest_events.h"
#include "td_launch_internal.h"

static const uint32_t insn_reason[] = {
	[TD_LAUNCH_INSN_TDCALL] = EXIT_REASON_TDCALL, [TD_LAUNCH_INSN_CPUID] = EXIT_REASON_CPUID,
	[TD_LAUNCH_INSN_RDMSR] = EXIT_REASON_RDMSR,   [TD_LAUNCH_INSN_WRMSR] = EXIT_REASON_WRMSR,
	[TD_LAUNCH_INSN_HLT] = EXIT_REASON_HLT,
};

void td_launch_exit_insn(struct plat_guest_exit *ex, enum td_launch_insn insn, unsigned instr_len)
{
	*ex = (struct plat_guest_exit){ .reason = insn < sizeof(insn_reason) / sizeof(insn_reason[0]) ? insn_reason[insn] : 0,
					.instr_len = instr_len };
}

void td_launch_exit_io(struct plat_guest_exit *ex, uint16_t port, unsigned size, bool in, bool string, bool rep,
		       bool imm, unsigned instr_len)
{
	uint64_t q = ((uint64_t)(size - 1) << IO_QUAL_SIZE_SHIFT) & IO_QUAL_SIZE;

	q |= ((uint64_t)port << IO_QUAL_PORT_SHIFT) & IO_QUAL_PORT;
	if (in)
		q |= IO_QUAL_DIRECTION_IN;
	if (string)
		q |= IO_QUAL_STRING;
	if (rep)
		q |= IO_QUAL_REP;
	if (imm)
		q |= IO_QUAL_OPERAND_IMM;
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_IO_INSTRUCTION, .qualification = q, .instr_len = instr_len };
}

void td_launch_exit_ept(struct plat_guest_exit *ex, uint64_t gpa, unsigned access, uint64_t leaf_rwx)
{
	uint64_t q = 0;

	if (access & PLAT_GUEST_ACC_READ)
		q |= EPT_VIOL_QUAL_DATA_READ;
	if (access & PLAT_GUEST_ACC_WRITE)
		q |= EPT_VIOL_QUAL_DATA_WRITE;
	if (access & PLAT_GUEST_ACC_FETCH)
		q |= EPT_VIOL_QUAL_INSN_FETCH;
	/* the leaf's R/W/X (Secure EPT bits 2:0) go to qualification bits 5:3 */
	if (leaf_rwx & PLAT_GUEST_ACC_READ)
		q |= EPT_VIOL_QUAL_GPA_READABLE;
	if (leaf_rwx & PLAT_GUEST_ACC_WRITE)
		q |= EPT_VIOL_QUAL_GPA_WRITEABLE;
	if (leaf_rwx & PLAT_GUEST_ACC_FETCH)
		q |= EPT_VIOL_QUAL_GPA_EXECUTABLE;
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_EPT_VIOLATION, .qualification = q, .gpa = gpa };
}

/* A #MC while the vCPU runs: exit reason EXCEPTION_OR_NMI with the interruption information
 * of a hardware exception, vector 18, valid; no exit qualification. The GPA is the engine's
 * own report of what it was accessing (the module gives the VMM GPA 0, as the real one). */
_Static_assert(TD_GUEST_INTR_INFO_MC == (INTR_INFO_VALID_MASK | INTR_TYPE_HARDWARE_EXCEPTION << INTR_INFO_TYPE_SHIFT |
					 X86_VECTOR_MC << INTR_INFO_VECTOR_SHIFT),
	       "the #MC interruption information is a valid hardware exception 18 without error code");

void td_launch_exit_machine_check(struct plat_guest_exit *ex, uint64_t gpa)
{
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_EXCEPTION_OR_NMI, .intr_info = TD_GUEST_INTR_INFO_MC,
					.gpa = gpa };
}

void td_launch_exit_host(struct plat_guest_exit *ex)
{
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_EXTERNAL_INTERRUPT };
}

void td_launch_exit_triple_fault(struct plat_guest_exit *ex)
{
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_TRIPLE_FAULT };
}

uint64_t td_launch_pa_mask(const struct td_launch *l)
{
	return plat_pa_mask(l->sim.plat);
}
