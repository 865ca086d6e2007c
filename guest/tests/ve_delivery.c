/* #VE delivery: instructions a TD cannot execute natively (CPUID of a leaf the module does
 * not virtualise, HLT, IN/OUT, RDMSR of an MSR that is not passed through) raise #VE, and
 * TDG.VP.VEINFO.GET gives the exit reason, qualification and instruction length. The GHCI's
 * Instruction.* sub-function numbers are the VMX exit reasons. */
#include "gtest.h"

#define VECTOR_VE 20
#define VE_CPUID_LEAF 0x40000000u
#define MSR_MTRR_DEF_TYPE 0x2FFu /* emulated by KVM for a TD: not native */
#define IO_PORT_IMM 0x80
#define IO_PORT_DX 0x3F8
/* VMX exit qualification of I/O instructions (SDM Vol. 3 Table 28-5). */
#define IOQ_SIZE_MINUS_1(n) ((uint64_t)(n) - 1)
#define IOQ_IN (1ull << 3)
#define IOQ_IMM (1ull << 6)
#define IOQ_PORT(p) ((uint64_t)(p) << 16)

static volatile uint32_t ve_seen;
static struct td_ve_info last;
static uint64_t last_status, last_rip, again_status;

/* Record what VEINFO.GET says, check the info is consumed, step over the instruction. */
static void ve_handler(struct td_frame *f)
{
	struct td_ve_info again;

	last_status = td_veinfo_get(&last);
	again_status = td_veinfo_get(&again);
	last_rip = f->rip;
	if (last.exit_reason == TDVMCALL_INSTRUCTION_IO && (last.exit_qual & IOQ_IN))
		f->rax = 0xFFFFFFFF; /* nothing on the port */
	if (last.exit_reason == TDVMCALL_INSTRUCTION_RDMSR)
		f->rax = 0, f->rdx = 0;
	f->rip += last.instr_len;
	ve_seen++;
}

static void expect_ve(const char *what, uint64_t rip, uint32_t reason, uint64_t qual, uint32_t len)
{
	gt_check(ve_seen == 1, "%s: %u #VE (want 1)", what, ve_seen);
	gt_status("TDG.VP.VEINFO.GET in the handler", last_status, TDX_SUCCESS);
	gt_status("a second TDG.VP.VEINFO.GET", again_status, TDX_NO_VALID_VE_INFO);
	gt_check(last_rip == rip, "%s: #VE at rip %#lx, want %#lx", what, last_rip, rip);
	gt_check(last.exit_reason == reason, "%s: exit reason %u, want %u", what, last.exit_reason, reason);
	gt_check(last.exit_qual == qual, "%s: exit qualification %#lx, want %#lx", what, last.exit_qual, qual);
	gt_check(last.instr_len == len, "%s: instruction length %u, want %u", what, last.instr_len, len);
	ve_seen = 0;
}

/* Each instruction is bracketed by labels so that its RIP and length are known. */
static void case_cpuid(void)
{
	uint32_t a = VE_CPUID_LEAF, b, c = 0, d;
	uint64_t rip;

	gt_case("cpuid");
	__asm__ volatile("lea 1f(%%rip), %0\n1: cpuid" : "=&r"(rip), "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	expect_ve("CPUID(0x40000000)", rip, TDVMCALL_INSTRUCTION_CPUID, 0, 2);
	gt_case_end();
}

static void case_hlt(void)
{
	uint64_t rip;

	gt_case("hlt");
	__asm__ volatile("lea 1f(%%rip), %0\n1: hlt" : "=&r"(rip));
	expect_ve("HLT", rip, TDVMCALL_INSTRUCTION_HLT, 0, 1);
	gt_case_end();
}

static void case_io(void)
{
	uint64_t rip;
	uint32_t v;

	gt_case("io");
	__asm__ volatile("lea 1f(%%rip), %0\n1: outb %%al, %2" : "=&r"(rip) : "a"(0x55), "i"(IO_PORT_IMM));
	expect_ve("OUT imm8", rip, TDVMCALL_INSTRUCTION_IO, IOQ_SIZE_MINUS_1(1) | IOQ_IMM | IOQ_PORT(IO_PORT_IMM), 2);
	__asm__ volatile("lea 1f(%%rip), %0\n1: inl %%dx, %%eax" : "=&r"(rip), "=a"(v) : "d"(IO_PORT_DX));
	expect_ve("IN DX", rip, TDVMCALL_INSTRUCTION_IO, IOQ_SIZE_MINUS_1(4) | IOQ_IN | IOQ_PORT(IO_PORT_DX), 1);
	gt_check(v == 0xFFFFFFFF, "IN: EAX %#x after the handler, want 0xffffffff", v);
	gt_case_end();
}

static void case_rdmsr(void)
{
	uint64_t rip;
	uint32_t lo, hi;

	gt_case("rdmsr");
	__asm__ volatile("lea 1f(%%rip), %0\n1: rdmsr" : "=&r"(rip), "=a"(lo), "=d"(hi) : "c"(MSR_MTRR_DEF_TYPE));
	expect_ve("RDMSR(0x2ff)", rip, TDVMCALL_INSTRUCTION_RDMSR, 0, 2);
	gt_case_end();
}

static void case_no_ve_info(void)
{
	struct td_ve_info ve;

	gt_case("veinfo_without_ve");
	gt_status("TDG.VP.VEINFO.GET with no #VE pending", td_veinfo_get(&ve), TDX_NO_VALID_VE_INFO);
	gt_case_end();
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	gt_start("ve_delivery", b);
	td_irq_set(VECTOR_VE, ve_handler);
	case_no_ve_info();
	case_cpuid();
	case_hlt();
	case_io();
	case_rdmsr();
	td_irq_set(VECTOR_VE, NULL);
	gt_finish();
}
