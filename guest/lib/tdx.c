/* TDCALL leaves and TDVMCALLs (GHCI register conventions: data/abi/tdcall-leaves.json). */
#include "td.h"

#define GPR(r) (1u << (r))
/* Registers the VMM sees and may write: RDX, RBX, RSI, RDI, R8-R15. Never RBP (the TD may
 * run with NO_RBP_MOD, which refuses it) nor RAX, RCX, RSP (the ABI forbids them). */
#define TDVMCALL_GPRS                                                                                      \
	(GPR(TD_RDX) | GPR(TD_RBX) | GPR(TD_RSI) | GPR(TD_RDI) | GPR(TD_R8) | GPR(TD_R9) | GPR(TD_R10) |     \
	 GPR(TD_R11) | GPR(TD_R12) | GPR(TD_R13) | GPR(TD_R14) | GPR(TD_R15))
#define FIELD(v, name) (((v) & name##_MASK) >> name##_SHIFT)

uint64_t td_vp_info(struct td_info *out)
{
	struct td_regs r = { .rax = TDG_VP_INFO_LEAF };

	td_tdcall(&r);
	out->gpaw = (uint32_t)FIELD(r.rcx, TDG_VP_INFO_GPAW_GPAW);
	out->attributes = r.rdx;
	out->num_vcpus = (uint32_t)FIELD(r.r8, TD_NUM_OF_VCPUS_NUM_VCPUS);
	out->max_vcpus = (uint32_t)FIELD(r.r8, TD_NUM_OF_VCPUS_MAX_VCPUS);
	out->vcpu_index = (uint32_t)r.r9;
	out->commands_available = r.r10;
	return r.rax;
}

uint64_t td_accept_page(uint64_t gpa, unsigned level)
{
	struct td_regs r = { .rax = TDG_MEM_PAGE_ACCEPT_LEAF, .rcx = gpa | ((uint64_t)level << PAGE_INFO_LEVEL_SHIFT) };

	td_tdcall(&r);
	return r.rax;
}

uint64_t td_rtmr_extend(const void *data48, unsigned index)
{
	struct td_regs r = { .rax = TDG_MR_RTMR_EXTEND_LEAF, .rcx = (uintptr_t)data48, .rdx = index };

	td_tdcall(&r);
	return r.rax;
}

uint64_t td_mr_report(void *report, const void *reportdata)
{
	struct td_regs r = { .rax = TDG_MR_REPORT_LEAF, .rcx = (uintptr_t)report, .rdx = (uintptr_t)reportdata };

	td_tdcall(&r);
	return r.rax;
}

uint64_t td_veinfo_get(struct td_ve_info *out)
{
	struct td_regs r = { .rax = TDG_VP_VEINFO_GET_LEAF };

	td_tdcall(&r);
	out->exit_reason = (uint32_t)r.rcx;
	out->exit_qual = r.rdx;
	out->gla = r.r8;
	out->gpa = r.r9;
	out->instr_len = (uint32_t)FIELD(r.r10, TDG_VP_VEINFO_INSTR_INSTRUCTION_LENGTH);
	out->instr_info = (uint32_t)FIELD(r.r10, TDG_VP_VEINFO_INSTR_INSTRUCTION_INFO);
	return r.rax;
}

/* No way left to report anything: an empty IDT turns the breakpoint into a triple fault,
 * which the host sees as the TD shutting down. */
static TD_NORETURN void triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(none));
	for (;;)
		td_pause();
}

/* TDG.VP.VMCALL itself failing means the TD cannot talk to the VMM at all. */
static uint64_t vmcall(struct td_regs *r, bool sti)
{
	r->rax = TDG_VP_VMCALL_LEAF;
	r->rcx = TDVMCALL_GPRS;
	r->r10 = 0; /* a standard GHCI TDVMCALL */
	if (sti)
		td_tdcall_sti(r);
	else
		td_tdcall(r);
	if (r->rax != TDX_SUCCESS)
		triple_fault();
	return r->r10;
}

uint64_t td_vmcall(struct td_regs *r)
{
	return vmcall(r, false);
}

uint64_t td_io_out(uint16_t port, unsigned size, uint32_t value)
{
	struct td_regs r = { .r11 = TDVMCALL_INSTRUCTION_IO, .r12 = size, .r13 = 1, .r14 = port, .r15 = value };

	return vmcall(&r, false);
}

uint64_t td_io_in(uint16_t port, unsigned size, uint32_t *value)
{
	struct td_regs r = { .r11 = TDVMCALL_INSTRUCTION_IO, .r12 = size, .r13 = 0, .r14 = port };
	uint64_t st = vmcall(&r, false);

	*value = (uint32_t)r.r11;
	return st;
}

uint64_t td_map_gpa(uint64_t gpa, uint64_t size, uint64_t *stopped_at)
{
	struct td_regs r = { .r11 = TDVMCALL_MAP_GPA, .r12 = gpa, .r13 = size };
	uint64_t st = vmcall(&r, false);

	if (stopped_at)
		*stopped_at = r.r11;
	return st;
}

uint64_t td_get_quote(uint64_t shared_gpa, uint64_t size)
{
	struct td_regs r = { .r11 = TDVMCALL_GET_QUOTE, .r12 = shared_gpa, .r13 = size };

	return vmcall(&r, false);
}

uint64_t td_wrmsr(uint32_t msr, uint64_t value)
{
	struct td_regs r = { .r11 = TDVMCALL_INSTRUCTION_WRMSR, .r12 = msr, .r13 = value };

	return vmcall(&r, false);
}

uint64_t td_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct td_regs r = { .r11 = TDVMCALL_INSTRUCTION_CPUID, .r12 = leaf, .r13 = subleaf };
	uint64_t st = vmcall(&r, false);

	out[0] = (uint32_t)r.r12, out[1] = (uint32_t)r.r13, out[2] = (uint32_t)r.r14, out[3] = (uint32_t)r.r15;
	return st;
}

uint64_t td_hlt(bool irq_blocked)
{
	struct td_regs r = { .r11 = TDVMCALL_INSTRUCTION_HLT, .r12 = irq_blocked };

	return vmcall(&r, !irq_blocked);
}

const char *td_vmcall_status_name(uint64_t st)
{
	switch (st) {
	case TDVMCALL_STATUS_SUCCESS: return "SUCCESS";
	case TDVMCALL_STATUS_RETRY: return "RETRY";
	case TDVMCALL_STATUS_INVALID_OPERAND: return "INVALID_OPERAND";
	case TDVMCALL_STATUS_GPA_INUSE: return "GPA_INUSE";
	case TDVMCALL_STATUS_ALIGN_ERROR: return "ALIGN_ERROR";
	case TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED: return "SUBFUNC_UNSUPPORTED";
	default: return "unknown";
	}
}

/* ReportFatalError: R12 = error code, the message (64 bytes, NUL-terminated) in R14, R15,
 * RBX, RDI, RSI, R8, R9, RDX in that order. */
static void report_fatal(uint32_t code, const char *msg)
{
	uint64_t words[8] = { 0 };
	struct td_regs r = { .r11 = TDVMCALL_REPORT_FATAL_ERROR, .r12 = code };
	uint64_t *regs[8] = { &r.r14, &r.r15, &r.rbx, &r.rdi, &r.rsi, &r.r8, &r.r9, &r.rdx };
	size_t n = strlen(msg);

	if (n > sizeof(words) - 1)
		n = sizeof(words) - 1;
	memcpy(words, msg, n);
	for (unsigned i = 0; i < 8; i++)
		*regs[i] = words[i];
	vmcall(&r, false);
}

TD_NORETURN void td_fatal(uint32_t code, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	td_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	td_printf("%s: FATAL (error code %#x): %s\n", td_log_prefix, code, msg);
	report_fatal(code, msg);
	for (;;)
		td_hlt(true);
}
