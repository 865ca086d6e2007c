/* The IDT: every vector goes through isr.S to td_isr_dispatch(). #VE (vector 20) asks the
 * module for the VE info (TDG.VP.VEINFO.GET); a CPUID #VE is emulated with
 * TDVMCALL<Instruction.CPUID>, anything else is fatal. Other exceptions are fatal; any vector
 * with a registered handler (#VE and exceptions included) runs that handler instead. */
#include "td.h"

#define VECTOR_VE 20
#define NR_VECTORS 256
#define IDT_GATE_INTERRUPT 0x8E00 /* present, DPL 0, 64-bit interrupt gate */
#define EXIT_REASON_CPUID TDVMCALL_INSTRUCTION_CPUID /* instruction sub-functions = exit reasons */
#define FATAL_EXCEPTION 0xE0000000u
#define FATAL_VE 0xE1000000u

struct idt_gate {
	uint16_t off_lo, sel, type, off_mid;
	uint32_t off_hi, zero;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

extern const uint64_t td_isr_stubs[NR_VECTORS];
static struct idt_gate idt[NR_VECTORS] __attribute__((aligned(16)));
static td_irq_fn handlers[NR_VECTORS];
volatile uint64_t td_ve_count;

void td_idt_init(void)
{
	for (unsigned v = 0; v < NR_VECTORS; v++) {
		uint64_t a = td_isr_stubs[v];
		idt[v] = (struct idt_gate){ (uint16_t)a, TD_GDT_CODE64, IDT_GATE_INTERRUPT, (uint16_t)(a >> 16),
					    (uint32_t)(a >> 32), 0 };
	}
}

void td_idt_load(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} d = { sizeof(idt) - 1, (uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d));
}

void td_irq_set(unsigned vector, td_irq_fn fn)
{
	if (vector < NR_VECTORS)
		handlers[vector] = fn;
}

/* x2APIC EOI: TDX virtualises the x2APIC, the EOI write does not leave the TD. */
void td_apic_eoi(void)
{
	__asm__ volatile("wrmsr" : : "c"(MSR_X2APIC_EOI), "a"(0), "d"(0) : "memory");
}

static void handle_ve(struct td_frame *f)
{
	struct td_ve_info ve;
	uint64_t st = td_veinfo_get(&ve);
	uint32_t out[4];

	if (st != TDX_SUCCESS)
		td_fatal(FATAL_VE, "#VE at rip %#lx: TDG.VP.VEINFO.GET failed with %#lx", f->rip, st);
	td_printf("%s: #VE on vCPU %u: TDG.VP.VEINFO.GET exit reason %u, qualification %#lx, GPA %#lx, "
		  "instruction length %u\n",
		  td_log_prefix, td_this_vcpu(), ve.exit_reason, ve.exit_qual, ve.gpa, ve.instr_len);
	if (ve.exit_reason != EXIT_REASON_CPUID)
		td_fatal(FATAL_VE | ve.exit_reason, "unhandled #VE (exit reason %u) at rip %#lx, GPA %#lx",
			 ve.exit_reason, f->rip, ve.gpa);
	st = td_cpuid((uint32_t)f->rax, (uint32_t)f->rcx, out);
	if (st != TDVMCALL_STATUS_SUCCESS)
		td_fatal(FATAL_VE | ve.exit_reason, "#VE CPUID(%#lx): TDVMCALL status %#lx", f->rax, st);
	f->rax = out[0], f->rbx = out[1], f->rcx = out[2], f->rdx = out[3];
	f->rip += ve.instr_len;
	td_ve_count++;
}

void td_isr_dispatch(struct td_frame *f);
void td_isr_dispatch(struct td_frame *f)
{
	uint64_t cr2;

	/* A handler registered for #VE or an exception replaces the default (guest tests
	 * check the delivery itself); without one #VE is the CPUID emulation, others fatal. */
	if (f->vector < NR_VECTORS && handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	if (f->vector == VECTOR_VE) {
		handle_ve(f);
		return;
	}
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	td_fatal(FATAL_EXCEPTION | (uint32_t)f->vector,
		 "vCPU %u: exception/interrupt %lu (error code %#lx) at rip %#lx, rsp %#lx, cr2 %#lx",
		 td_this_vcpu(), f->vector, f->error, f->rip, f->rsp, cr2);
}
