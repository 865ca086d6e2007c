/* Private memory life cycle: touching RAM that was never accepted raises #VE (EPT violation
 * on the pending page; the runner starts this TD with sept-ve-disable=off); ACCEPT makes it
 * usable and zero-filled; accepting again is TDX_PAGE_ALREADY_ACCEPTED; MapGPA to shared and
 * back to private drops the content and the page must be accepted again. */
#include "gtest.h"

#define VECTOR_VE 20
#define ATTR_SEPT_VE_DISABLE (1ull << 28)
#define UNACCEPTED_GPA 0x6000000ull /* 96 MiB: RAM the HOB lists as unaccepted */
#define TWICE_GPA 0x8000000ull
#define PATTERN 0xA5u

static volatile uint32_t ve_seen;
static struct td_ve_info last;
static uint64_t accept_in_handler = ~0ull;
static uint8_t convert_page[4096] __attribute__((aligned(4096)));

/* The EPT-violation #VE on a pending page: accept the page and retry the access. */
static void ve_handler(struct td_frame *f)
{
	struct td_accept_stats s = { 0 };

	if (td_veinfo_get(&last) != TDX_SUCCESS || last.exit_reason != TDVMCALL_VE_REQUEST_MMIO_EPT_VIOLATION)
		td_fatal(GT_FATAL_FAILED, "unexpected #VE (exit reason %u) at rip %#lx", last.exit_reason, f->rip);
	accept_in_handler = td_accept_range(last.gpa & ~(TD_PAGE_4K - 1), TD_PAGE_4K, &s);
	ve_seen++;
}

static bool all_bytes(const volatile uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void case_unaccepted_access(const struct td_info *info)
{
	volatile uint8_t *p = td_private_ptr(UNACCEPTED_GPA);

	gt_case("unaccepted_access_ve");
	if (!gt_check(!(info->attributes & ATTR_SEPT_VE_DISABLE), "ATTRIBUTES.SEPT_VE_DISABLE is set (%#lx)",
		      info->attributes)) {
		gt_case_end();
		return;
	}
	td_irq_set(VECTOR_VE, ve_handler);
	gt_check(p[100] == 0, "the first byte read from a newly accepted page is not 0");
	td_irq_set(VECTOR_VE, NULL);
	gt_check(ve_seen == 1, "%u #VE on the unaccepted page (want 1)", ve_seen);
	gt_check(last.exit_reason == TDVMCALL_VE_REQUEST_MMIO_EPT_VIOLATION, "exit reason %u, want %u",
		 last.exit_reason, TDVMCALL_VE_REQUEST_MMIO_EPT_VIOLATION);
	gt_check(last.gpa == UNACCEPTED_GPA + 100, "#VE GPA %#lx, want %#llx", last.gpa, UNACCEPTED_GPA + 100);
	gt_status("ACCEPT in the #VE handler", accept_in_handler, TDX_SUCCESS);
	gt_check(all_bytes(p, TD_PAGE_4K, 0), "the accepted page is not zero-filled");
	memset((void *)p, PATTERN, TD_PAGE_4K);
	gt_check(all_bytes(p, TD_PAGE_4K, PATTERN), "the accepted page does not keep what was written");
	gt_case_end();
}

static void case_accept_twice(void)
{
	struct td_accept_stats s = { 0 };
	uint64_t st;

	gt_case("accept_twice");
	gt_status("first ACCEPT", td_accept_range(TWICE_GPA, TD_PAGE_4K, &s), TDX_SUCCESS);
	gt_check(s.bytes == TD_PAGE_4K && !s.already, "first ACCEPT: %lu bytes accepted, %lu already", s.bytes,
		 s.already);
	gt_check(all_bytes(td_private_ptr(TWICE_GPA), TD_PAGE_4K, 0), "the accepted page is not zero-filled");
	st = td_accept_page(TWICE_GPA, TD_ACCEPT_LEVEL_4K);
	gt_check(td_status_class(st) == TDX_PAGE_ALREADY_ACCEPTED, "second ACCEPT: status %#lx, want class %#llx", st,
		 (unsigned long long)TDX_PAGE_ALREADY_ACCEPTED);
	gt_case_end();
}

static uint64_t map_gpa(uint64_t gpa)
{
	uint64_t stopped = 0;

	return td_map_gpa(gpa, TD_PAGE_4K, &stopped);
}

static void case_convert(void)
{
	uint64_t gpa = (uintptr_t)convert_page;
	volatile uint8_t *shared = td_shared_ptr(gpa);
	uint64_t st;

	gt_case("convert_shared_private");
	memset(convert_page, PATTERN, sizeof(convert_page));
	if (!gt_status("MapGPA to shared", map_gpa(gpa | td_shared_bit), TDVMCALL_STATUS_SUCCESS)) {
		gt_case_end();
		return;
	}
	gt_check(!all_bytes(shared, TD_PAGE_4K, PATTERN), "the shared page shows the private content");
	shared[0] = 0x5A;
	gt_check(shared[0] == 0x5A, "the shared page does not keep a write");
	gt_status("MapGPA back to private", map_gpa(gpa), TDVMCALL_STATUS_SUCCESS);
	st = td_accept_page(gpa, TD_ACCEPT_LEVEL_4K);
	gt_status("ACCEPT after the conversion (not already accepted)", st, TDX_SUCCESS);
	gt_check(all_bytes(convert_page, sizeof(convert_page), 0), "the re-accepted page kept content (not zero)");
	gt_case_end();
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	struct td_info info;

	gt_start_paged("accept_convert", b, &info);
	case_unaccepted_access(&info);
	case_accept_twice();
	case_convert();
	gt_finish();
}
