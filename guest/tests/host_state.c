/* The TD's own state across many TD exits: MSRs a TD writes natively (KERNEL_GS_BASE, STAR,
 * LSTAR, SFMASK, TSC_AUX) and XCR0 keep the values the TD gave them after TDVMCALL I/O,
 * CPUID #VEs and TDVMCALL MSR accesses, although the host loads its own values at each exit. */
#include "gtest.h"

#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_SFMASK 0xC0000084u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_TSC_AUX 0xC0000103u
#define MSR_MTRR_DEF_TYPE 0x2FFu
#define CR4_OSXSAVE (1ull << 18)
#define XCR0_X87_SSE 0x3ull
#define XCR0_AVX 0x4ull
#define ROUNDS 64
#define VE_CPUID_LEAF 0x40000000u
#define POST_PORT 0x80

struct msr_value {
	uint32_t msr;
	const char *name;
	uint64_t value;
};

static struct msr_value msrs[] = {
	{ MSR_STAR, "STAR", 0x0023001000000000ull },
	{ MSR_LSTAR, "LSTAR", 0xFFFFFFFF81A00000ull },
	{ MSR_SFMASK, "SFMASK", 0x47700ull },
	{ MSR_KERNEL_GS_BASE, "KERNEL_GS_BASE", 0xFFFF888012345678ull },
	{ MSR_TSC_AUX, "TSC_AUX", 0x1ull },
};
#define NR_MSRS (sizeof(msrs) / sizeof(msrs[0]))

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static void xsetbv0(uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* XCR0 with AVX when CPUID.(0xD,0).EAX offers it (leaf 0xD is virtualised: no #VE). */
static uint64_t enable_xsave(void)
{
	uint64_t cr4;
	uint32_t a = 0xD, b, c = 0, d, want = XCR0_X87_SSE;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (a & XCR0_AVX)
		want |= XCR0_AVX;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_OSXSAVE));
	xsetbv0(want);
	return want;
}

static unsigned check_all(uint64_t xcr0, const char *after)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < NR_MSRS; i++) {
		uint64_t v = gt_rdmsr(msrs[i].msr);

		bad += !gt_check(v == msrs[i].value, "after %s: %s %#lx, want %#lx", after, msrs[i].name, v,
				 msrs[i].value);
	}
	bad += !gt_check(xgetbv0() == xcr0, "after %s: XCR0 %#lx, want %#lx", after, xgetbv0(), xcr0);
	return bad;
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	uint64_t xcr0, before = td_ve_count;
	uint32_t v, out[4];
	struct td_regs r;

	gt_start("host_state", b);
	gt_case("native_msrs_xcr0");
	xcr0 = enable_xsave();
	for (unsigned i = 0; i < NR_MSRS; i++)
		gt_wrmsr(msrs[i].msr, msrs[i].value);
	check_all(xcr0, "the writes");
	for (unsigned i = 0; i < ROUNDS; i++) {
		uint32_t a = VE_CPUID_LEAF, bx, c = 0, d;

		if (td_io_out(POST_PORT, 1, i) || td_io_in(POST_PORT, 1, &v))
			gt_check(false, "round %u: TDVMCALL I/O failed", i);
		__asm__ volatile("cpuid" : "+a"(a), "=b"(bx), "+c"(c), "=d"(d)); /* #VE + TDVMCALL */
		r = (struct td_regs){ .r11 = TDVMCALL_INSTRUCTION_RDMSR, .r12 = MSR_MTRR_DEF_TYPE };
		td_vmcall(&r);
		td_cpuid(1, 0, out);
		if (check_all(xcr0, "TD exits"))
			break;
	}
	gt_check(td_ve_count - before == ROUNDS, "%lu CPUID #VEs, want %u", td_ve_count - before, ROUNDS);
	gt_case_end();
	gt_finish();
}
