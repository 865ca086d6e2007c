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

#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_1_EBX_APIC_ID_MASK (UINT32_C(0xFF) << CPUID_1_EBX_APIC_ID_SHIFT)
#define CPUID_7_ECX_OSPKE (UINT32_C(1) << 4)
#define CR4_PKE (UINT64_C(1) << 22)
#define CPUID_80000001_EDX_SYSCALL (UINT32_C(1) << 11)
#define EFER_LMA (UINT64_C(1) << 10)
#define SEG_AR_L (UINT64_C(1) << 13)

static uint32_t with_bit(uint32_t v, uint32_t bit, bool on)
{
	return on ? v | bit : v & ~bit;
}

/* The dynamic fields of td_cpuid_exit(), computed at each CPUID from the vCPU's state rather
 * than taken from the TDCS: leaf 1 initial APIC ID (the VCPU_INDEX, 8 bits) and OSXSAVE
 * (CR4.OSXSAVE); leaf 7.0 OSPKE (CR4.PKE); leaf 0xD subleaves 0/1 EBX, the XSAVE area size the
 * CPU reports for the state components enabled now; leaf 0x80000001 SYSCALL (64-bit mode). */
static void cpuid_dynamic(struct td_guest *g, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *v)
{
	const struct plat_guest_sys *sys = &g->regs->sys;
	struct cpuid_regs native;

	switch (leaf) {
	case 1:
		v->ebx = (v->ebx & ~CPUID_1_EBX_APIC_ID_MASK) |
			 ((g->vp->vcpu_index & 0xFFu) << CPUID_1_EBX_APIC_ID_SHIFT);
		v->ecx = with_bit(v->ecx, CPUID_1_ECX_OSXSAVE, sys->cr4 & CR4_OSXSAVE);
		break;
	case 7:
		if (subleaf == 0)
			v->ecx = with_bit(v->ecx, CPUID_7_ECX_OSPKE, sys->cr4 & CR4_PKE);
		break;
	case 0xd:
		if (subleaf <= 1) {
			plat_cpuid(g->m->plat, g->lp, leaf, subleaf, &native);
			v->ebx = native.ebx;
		}
		break;
	case 0x80000001:
		v->edx = with_bit(v->edx, CPUID_80000001_EDX_SYSCALL,
				  (sys->efer & EFER_LMA) && (sys->seg[PLAT_SEG_CS].ar & SEG_AR_L));
		break;
	default:
		break;
	}
}

static void emulate_cpuid(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint64_t *r = g->regs->gpr;
	uint32_t leaf = (uint32_t)r[GPR_RAX], subleaf = (uint32_t)r[GPR_RCX];
	int i = cpuid_lookup(g, leaf, subleaf);
	struct cpuid_regs v;

	if (i < 0) {
		td_guest_inject_ve_instr(g, ex);
		return;
	}
	v = g->tdcs->cpuid_values[i];
	cpuid_dynamic(g, leaf, subleaf, &v);
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
