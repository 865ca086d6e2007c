/* Attestation TDVMCALLs against a quote generation service (the runner starts
 * tests/fake_qgs.py and gives QEMU its socket): GetTdVmCallInfo leaf 1 names
 * SetupEventNotifyInterrupt; the vector is range-checked; GetQuote with a TDREPORT in a shared
 * buffer comes back with the QGS's quote (which carries our REPORTDATA) and the event-notify
 * interrupt; a QGS error or hang-up ends the request with GET_QUOTE_ERROR, still notified;
 * malformed requests fail as QEMU and KVM fail them. */
#include "gtest.h"

#define NOTIFY_VECTOR 0x60
#define WATCHDOG_VECTOR 0x61
#define SPURIOUS_VECTOR 0xFF
#define WAIT_SECONDS 30
#define APIC_TIMER_HZ 25000000u /* KVM's TDX APIC bus: 40 ns per tick */
#define BUF_PAGES 2
#define QUOTE_MAGIC "TDXEMU-TEST-QUOTE" /* fake_qgs.py: magic, NUL, SHA-384 of the report, REPORTDATA */
#define QUOTE_LEN (sizeof(QUOTE_MAGIC) + 48 + 64)
#define TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT 0x2ull /* GHCI GetTdVmCallInfo leaf 1, R11 bit 1 */

static uint8_t buf[BUF_PAGES * 4096] __attribute__((aligned(4096)));
static uint8_t report[1024] __attribute__((aligned(1024)));
static uint8_t reportdata[64] __attribute__((aligned(64)));
static volatile uint32_t notified, watchdog;

static void on_notify(struct td_frame *f)
{
	(void)f;
	__atomic_add_fetch(&notified, 1, __ATOMIC_ACQ_REL);
	td_apic_eoi();
}

static void on_watchdog(struct td_frame *f)
{
	(void)f;
	__atomic_store_n(&watchdog, 1, __ATOMIC_RELEASE);
	td_apic_eoi();
}

static void on_spurious(struct td_frame *f)
{
	(void)f;
}

/* Halt with interrupts enabled until `notified` reaches want, or the APIC timer armed as a
 * watchdog fires (a halted vCPU has nothing else to wake it if the notification never comes). */
static bool wait_notified(uint32_t want)
{
	__atomic_store_n(&watchdog, 0, __ATOMIC_RELEASE);
	td_wrmsr(MSR_X2APIC_TMICT, (uint64_t)WAIT_SECONDS * APIC_TIMER_HZ);
	while (__atomic_load_n(&notified, __ATOMIC_ACQUIRE) < want && !__atomic_load_n(&watchdog, __ATOMIC_ACQUIRE)) {
		td_hlt(false);
		td_cli();
	}
	td_wrmsr(MSR_X2APIC_TMICT, 0);
	return __atomic_load_n(&notified, __ATOMIC_ACQUIRE) >= want;
}

static uint64_t vmcall2(uint64_t leaf, uint64_t r12, struct td_regs *out)
{
	*out = (struct td_regs){ .r11 = leaf, .r12 = r12 };
	return td_vmcall(out);
}

static void case_tdvmcall_info(void)
{
	struct td_regs r;

	gt_case("tdvmcall_info");
	gt_status("GetTdVmCallInfo leaf 0", vmcall2(TDVMCALL_GET_TD_VM_CALL_INFO, 0, &r), TDVMCALL_STATUS_SUCCESS);
	gt_check(!r.r11 && !r.r12 && !r.r13 && !r.r14, "leaf 0: R11..R14 %#lx %#lx %#lx %#lx, want 0", r.r11, r.r12, r.r13,
		 r.r14);
	gt_status("GetTdVmCallInfo leaf 1", vmcall2(TDVMCALL_GET_TD_VM_CALL_INFO, 1, &r), TDVMCALL_STATUS_SUCCESS);
	gt_check(r.r11 == TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT, "leaf 1: R11 %#lx, want %#llx (SetupEventNotifyInterrupt)",
		 r.r11, TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT);
	gt_check(!r.r12 && !r.r13 && !r.r14, "leaf 1: R12..R14 %#lx %#lx %#lx, want 0", r.r12, r.r13, r.r14);
	gt_status("GetTdVmCallInfo leaf 2", vmcall2(TDVMCALL_GET_TD_VM_CALL_INFO, 2, &r), TDVMCALL_STATUS_INVALID_OPERAND);
	gt_case_end();
}

static void case_event_notify_vector(void)
{
	struct td_regs r;

	gt_case("event_notify_vector");
	gt_status("vector 31", vmcall2(TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT, 31, &r), TDVMCALL_STATUS_INVALID_OPERAND);
	gt_status("vector 256", vmcall2(TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT, 256, &r), TDVMCALL_STATUS_INVALID_OPERAND);
	gt_status("vector 0x60", vmcall2(TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT, NOTIFY_VECTOR, &r), TDVMCALL_STATUS_SUCCESS);
	gt_case_end();
}

static uint64_t buf_gpa(void)
{
	return (uintptr_t)buf;
}

static volatile uint8_t *shared_buf(void)
{
	return td_shared_ptr(buf_gpa());
}

static void put_hdr(uint64_t status, uint32_t in_len, uint32_t out_len)
{
	uint64_t version = GET_QUOTE_BUF_VERSION;
	volatile uint8_t *s = shared_buf();

	memcpy((void *)(s + GET_QUOTE_BUF_OFF_VERSION), &version, sizeof(version));
	memcpy((void *)(s + GET_QUOTE_BUF_OFF_STATUS), &status, sizeof(status));
	memcpy((void *)(s + GET_QUOTE_BUF_OFF_IN_LEN), &in_len, sizeof(in_len));
	memcpy((void *)(s + GET_QUOTE_BUF_OFF_OUT_LEN), &out_len, sizeof(out_len));
}

static uint64_t hdr_status(void)
{
	uint64_t v;

	memcpy(&v, (const void *)(shared_buf() + GET_QUOTE_BUF_OFF_STATUS), sizeof(v));
	return v;
}

static uint32_t hdr_out_len(void)
{
	uint32_t v;

	memcpy(&v, (const void *)(shared_buf() + GET_QUOTE_BUF_OFF_OUT_LEN), sizeof(v));
	return v;
}

/* A fresh request: TDREPORT over REPORTDATA = tag, then GetQuote on the shared buffer. */
static uint64_t request(const char *tag)
{
	memset(reportdata, 0, sizeof(reportdata));
	memcpy(reportdata, tag, strlen(tag));
	if (!gt_status("TDG.MR.REPORT", td_mr_report(report, reportdata), TDX_SUCCESS))
		return ~0ull;
	memset((void *)shared_buf(), 0, sizeof(buf));
	put_hdr(GET_QUOTE_SUCCESS, sizeof(report), 0);
	memcpy((void *)(shared_buf() + GET_QUOTE_BUF_OFF_DATA), report, sizeof(report));
	return td_get_quote(buf_gpa() | td_shared_bit, sizeof(buf));
}

static void case_quote(void)
{
	static const char tag[] = "tdxemu get_quote test nonce 42";
	volatile uint8_t *q = shared_buf() + GET_QUOTE_BUF_OFF_DATA;
	uint64_t st;
	bool ok;

	gt_case("quote_event_notify");
	gt_status("GetQuote", request(tag), TDVMCALL_STATUS_SUCCESS);
	ok = wait_notified(1);
	st = hdr_status(); /* after the wait (not in gt_check's arguments: their order is unspecified) */
	gt_check(ok, "no event-notify interrupt within %u s (buffer status %#lx)", WAIT_SECONDS, st);
	gt_check(st == GET_QUOTE_SUCCESS, "buffer status %#lx, want GET_QUOTE_SUCCESS", st);
	gt_check(hdr_out_len() == QUOTE_LEN, "out_len %u, want %zu", hdr_out_len(), QUOTE_LEN);
	gt_check(!memcmp((const void *)q, QUOTE_MAGIC, sizeof(QUOTE_MAGIC)), "the quote is not the QGS's");
	gt_check(!memcmp((const void *)(q + QUOTE_LEN - 64), reportdata, 64), "the quote does not carry our REPORTDATA");
	gt_check(notified == 1, "%u interrupts, want 1", notified);
	gt_case_end();
}

/* The QGS answers with an error, or hangs up: GET_QUOTE_ERROR, no quote, still notified. */
static void case_qgs_failures(void)
{
	static const char *const tags[] = { "QGS-ERROR", "QGS-HANGUP" };

	gt_case("quote_qgs_error_and_hangup");
	for (unsigned i = 0; i < 2; i++) {
		gt_status(tags[i], request(tags[i]), TDVMCALL_STATUS_SUCCESS);
		gt_check(wait_notified(2 + i), "%s: no event-notify interrupt", tags[i]);
		gt_check(hdr_status() == GET_QUOTE_ERROR, "%s: buffer status %#lx, want GET_QUOTE_ERROR", tags[i], hdr_status());
		gt_check(hdr_out_len() == 0, "%s: out_len %u, want 0", tags[i], hdr_out_len());
	}
	gt_case_end();
}

/* KVM's checks (private GPA, alignment, size 0) and QEMU's (version, error_code and out_len
 * must be 0, in_len within the buffer). */
static void case_malformed(void)
{
	uint64_t sgpa = buf_gpa() | td_shared_bit;

	gt_case("quote_malformed");
	put_hdr(GET_QUOTE_SUCCESS, sizeof(report), 0);
	gt_status("private GPA", td_get_quote(buf_gpa(), sizeof(buf)), TDVMCALL_STATUS_INVALID_OPERAND);
	gt_status("unaligned GPA", td_get_quote(sgpa + 8, 4096), TDVMCALL_STATUS_ALIGN_ERROR);
	gt_status("unaligned size", td_get_quote(sgpa, 4000), TDVMCALL_STATUS_ALIGN_ERROR);
	gt_status("size 0", td_get_quote(sgpa, 0), TDVMCALL_STATUS_INVALID_OPERAND);
	put_hdr(GET_QUOTE_IN_FLIGHT, sizeof(report), 0);
	gt_status("status not 0", td_get_quote(sgpa, sizeof(buf)), TDVMCALL_STATUS_INVALID_OPERAND);
	put_hdr(GET_QUOTE_SUCCESS, sizeof(report), 16);
	gt_status("out_len not 0", td_get_quote(sgpa, sizeof(buf)), TDVMCALL_STATUS_INVALID_OPERAND);
	put_hdr(GET_QUOTE_SUCCESS, sizeof(buf), 0);
	gt_status("in_len past the buffer", td_get_quote(sgpa, sizeof(buf)), TDVMCALL_STATUS_INVALID_OPERAND);
	gt_check(notified == 3, "%u interrupts after malformed requests, want still 3", notified);
	gt_case_end();
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	struct td_info info;
	uint64_t stopped;

	gt_start_paged("get_quote", b, &info);
	td_irq_set(NOTIFY_VECTOR, on_notify);
	td_irq_set(WATCHDOG_VECTOR, on_watchdog);
	td_irq_set(SPURIOUS_VECTOR, on_spurious);
	td_wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
	td_wrmsr(MSR_X2APIC_TDCR, TDCR_DIVIDE_BY_1);
	td_wrmsr(MSR_X2APIC_LVT_TIMER, WATCHDOG_VECTOR); /* one-shot, armed by wait_notified() */
	if (td_map_gpa(buf_gpa() | td_shared_bit, sizeof(buf), &stopped) != TDVMCALL_STATUS_SUCCESS)
		td_fatal(GT_FATAL_FAILED, "MapGPA of the quote buffer failed");
	case_tdvmcall_info();
	case_event_notify_vector();
	case_quote();
	case_qgs_failures();
	case_malformed();
	gt_finish();
}
