/* Instruction VM exits of a running TD vCPU that the module handles itself, as the real
 * module's td_exit dispatcher does: CPUID is answered from the TD's virtual CPUID values
 * (TDCS), leaves it does not virtualise and the instructions a TD may not execute natively
 * (HLT, IN/OUT, INVD/WBINVD, MONITOR/MWAIT) become a #VE, which the guest's handler turns into
 * a TDG.VP.VMCALL. RDMSR/WRMSR exits go to td_guest_msr.c (#VE, #GP or emulation per MSR). */
#include <string.h>

#include "td_exit_state.h"
#include "td_guest.h"
#include "td_guest_events.h"

#define CPUID_1_ECX_OSXSAVE (UINT32_C(1) << 27)
#define CR4_OSXSAVE (UINT64_C(1) << 18)

/* The TDCS entry virtualising (leaf, subleaf), -1 if the module has none for it. */
static int cpuid_lookup(const struct td_guest *g, uint32_t leaf, uint32_t subleaf)
{
	const struct cpuid_tables *ct = module_cpuid_tables(g->m);

	for (unsigned i = 0; i < ct->num_lookup; i++) {
		const struct cpuid_lookup_desc *d = &ct->lookup[i];
		if (d->leaf == leaf && (d->subleaf == CPUID_SUBLEAF_NA || d->subleaf == subleaf))
			return g->tdcs->cpuid_valid[i] && !d->faulting ? (int)i : -1;
	}
	return -1;
}

static void emulate_cpuid(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint64_t *r = g->regs->gpr;
	int i = cpuid_lookup(g, (uint32_t)r[GPR_RAX], (uint32_t)r[GPR_RCX]);
	struct cpuid_regs v;

	if (i < 0) {
		td_guest_inject_ve_instr(g, ex);
		return;
	}
	v = g->tdcs->cpuid_values[i];
	/* OSXSAVE follows the guest's CR4 (a dynamic bit, as on hardware). Other dynamic values
	 * (APIC IDs of leaves 1/0xB/0x1F, XSAVE sizes of leaf 0xD) are the TDCS's as configured. */
	if ((uint32_t)r[GPR_RAX] == 1)
		v.ecx = (g->regs->sys.cr4 & CR4_OSXSAVE) ? v.ecx | CPUID_1_ECX_OSXSAVE : v.ecx & ~CPUID_1_ECX_OSXSAVE;
	r[GPR_RAX] = v.eax, r[GPR_RBX] = v.ebx, r[GPR_RCX] = v.ecx, r[GPR_RDX] = v.edx;
	g->regs->rip += ex->instr_len;
}

/* Exits that are a #VE in the guest whatever their operands. */
static const uint16_t ve_exits[] = {
	VMEXIT_REASON_HLT,    VMEXIT_REASON_IO_INSTRUCTION, VMEXIT_REASON_INVD,
	VMEXIT_REASON_WBINVD, VMEXIT_REASON_MWAIT,          VMEXIT_REASON_MONITOR,
};

bool td_guest_vm_exit_instruction(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint32_t reason = ex->reason & 0xFFFF;

	if (reason == VMEXIT_REASON_CPUID) {
		emulate_cpuid(g, ex);
		return true;
	}
	if (reason == VMEXIT_REASON_RDMSR || reason == VMEXIT_REASON_WRMSR) {
		td_guest_msr_exit(g, ex, reason == VMEXIT_REASON_WRMSR);
		return true;
	}
	for (unsigned i = 0; i < sizeof(ve_exits) / sizeof(ve_exits[0]); i++)
		if (reason == ve_exits[i]) {
			td_guest_inject_ve_instr(g, ex);
			return true;
		}
	return false;
}
