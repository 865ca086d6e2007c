/* The guest-test reporting helpers (gtest.h). */
#include "gtest.h"

#define GT_TSC_PER_SECOND 2500000000ull

const char *gt_image = "gtest";
static const char *cur;
static unsigned case_failures, cases, failed_cases;

void gt_case(const char *name)
{
	cur = name;
	case_failures = 0;
	cases++;
}

bool gt_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	td_printf("TEST %s.%s: FAIL ", gt_image, cur);
	va_start(ap, fmt);
	td_vprintf(fmt, ap);
	va_end(ap);
	td_printf("\n");
	case_failures++;
	return false;
}

bool gt_status(const char *what, uint64_t got, uint64_t want)
{
	return gt_check(got == want, "%s: status %#lx, want %#lx", what, got, want);
}

void gt_case_end(void)
{
	if (case_failures)
		failed_cases++;
	else
		td_printf("TEST %s.%s: PASS\n", gt_image, cur);
}

TD_NORETURN void gt_finish(void)
{
	td_printf("TEST %s: %u cases, %u failed\n", gt_image, cases, failed_cases);
	if (failed_cases)
		td_fatal(GT_FATAL_FAILED | failed_cases, "%s: %u of %u cases failed", gt_image, failed_cases, cases);
	td_poweroff_q35();
}

uint64_t gt_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

bool gt_wait(volatile uint32_t *flag, unsigned seconds)
{
	uint64_t start = gt_rdtsc();

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (gt_rdtsc() - start > seconds * GT_TSC_PER_SECOND)
			return false;
		td_pause();
	}
	return true;
}

uint64_t gt_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

void gt_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

void gt_start(const char *image, const struct td_boot *b)
{
	gt_image = td_log_prefix = image;
	td_idt_init();
	td_idt_load();
	if (b->vcpu != 0)
		for (;;)
			td_hlt(true);
}

void gt_start_paged(const char *image, const struct td_boot *b, struct td_info *info)
{
	gt_start(image, b);
	if (td_vp_info(info) != TDX_SUCCESS)
		td_fatal(GT_FATAL_FAILED, "TDG.VP.INFO failed");
	td_paging_shared_init(info->gpaw);
}
