/* The built-in demo TD: one console line per step, from the reset vector to ACPI S5.
 * vCPU 0 runs the steps; vCPU 1 (when the TD has one) waits for vCPU 0's IPI. Any failure
 * ends in TDVMCALL<ReportFatalError> with a code naming the step (DEMO_ERR_*). */
#include "td.h"

#define SAY(...) td_printf("tdxemu demo TD: " __VA_ARGS__)

/* How much of the unaccepted RAM to accept (0: all of it). */
#define DEMO_ACCEPT_LIMIT 0
#define DEMO_RTMR_INDEX 2
#define DEMO_IPI_VECTOR 0x40
#define DEMO_VE_CPUID_LEAF 0x40000000u
#define DEMO_SPURIOUS_VECTOR 0xFF
#define DEMO_WAIT_TSC (30ull * 2500000000ull) /* ~30 s at the TD's default 2.5 GHz TSC */
#define QUOTE_MESSAGE_OFF 2048

/* x2APIC ICR destination field (the MSRs are in td.h) */
#define ICR_DEST_SHIFT 32

enum demo_err {
	DEMO_ERR_VP_INFO = 1,
	DEMO_ERR_ACCEPT,
	DEMO_ERR_RTMR,
	DEMO_ERR_REPORT,
	DEMO_ERR_MAP_GPA,
	DEMO_ERR_QUOTE,
	DEMO_ERR_IPI,
	DEMO_ERR_VE,
};

/* Fixed inputs: 48 bytes for RTMR[2], 64 bytes of REPORTDATA (the CLI test recomputes
 * RTMR[2] from the same bytes). */
#define RTMR_TEXT "tdxemu demo TD: RTMR[2] extension, 48 bytes...!"
#define REPORT_DATA_TEXT "tdxemu demo TD REPORTDATA: 64 bytes bound into the TDREPORT...."
_Static_assert(sizeof(RTMR_TEXT) == 48, "the RTMR extension is 48 bytes, the NUL included");
_Static_assert(sizeof(REPORT_DATA_TEXT) == 64, "REPORTDATA is 64 bytes, the NUL included");
static const char rtmr_value[48] __attribute__((aligned(64))) = RTMR_TEXT;
static const char report_data[64] __attribute__((aligned(64))) = REPORT_DATA_TEXT;
static const char quote_message[] = "hello from the tdxemu demo TD, through a shared page";

static uint8_t report[TDREPORT_STRUCT_SIZE] __attribute__((aligned(1024)));
static uint8_t quote_page[4096] __attribute__((aligned(4096)));

static volatile uint32_t ap_ready, ap_ack, ipi_vector_seen;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Spin until *flag is non-zero; false after about DEMO_WAIT_TSC TSC ticks. */
static bool wait_flag(volatile uint32_t *flag)
{
	uint64_t start = rdtsc();

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (rdtsc() - start > DEMO_WAIT_TSC)
			return false;
		td_pause();
	}
	return true;
}

static char *hex(char *buf, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = "0123456789abcdef"[b[i] >> 4];
		buf[2 * i + 1] = "0123456789abcdef"[b[i] & 15];
	}
	buf[2 * n] = '\0';
	return buf;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void step_vp_info(const struct td_boot *b, struct td_info *info)
{
	uint64_t st = td_vp_info(info);

	if (st != TDX_SUCCESS)
		td_fatal(DEMO_ERR_VP_INFO, "TDG.VP.INFO failed: %#lx", st);
	SAY("TDG.VP.INFO: GPAW %u, ATTRIBUTES %#018lx, NUM_VCPUS %u, MAX_VCPUS %u, VCPU_INDEX %u\n", info->gpaw,
	    info->attributes, info->num_vcpus, info->max_vcpus, info->vcpu_index);
	if (info->gpaw != b->gpaw || info->vcpu_index != b->vcpu)
		td_fatal(DEMO_ERR_VP_INFO, "TDG.VP.INFO disagrees with the reset state (EBX GPAW %u, ESI index %u)",
			 b->gpaw, b->vcpu);
	td_paging_shared_init(info->gpaw);
	SAY("shared bit is GPA bit %u; shared pages are mapped at %#lx + GPA\n", info->gpaw - 1,
	    (uint64_t)TD_SHARED_VA);
}

/* CPUID of a leaf in the range the module never virtualises (0x40000000-0x4FFFFFFF,
 * data/abi/cpuid-virtualization.json) is a #VE; the library's handler asks the VMM with
 * TDVMCALL<Instruction.CPUID> and steps over the instruction. */
static void step_ve(void)
{
	uint32_t a = DEMO_VE_CPUID_LEAF, b, c = 0, d;
	uint64_t before = td_ve_count;
	char sig[13];

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	if (td_ve_count != before + 1)
		td_fatal(DEMO_ERR_VE, "CPUID(%#x) did not raise #VE", DEMO_VE_CPUID_LEAF);
	memcpy(sig, &b, 4), memcpy(sig + 4, &c, 4), memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	for (unsigned i = 0; i < 12; i++)
		if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
			sig[i] = '.';
	SAY("CPUID(%#x) raised #VE, emulated by the VMM: EAX %#x, signature \"%s\"\n", DEMO_VE_CPUID_LEAF, a, sig);
}

static void step_accept(const struct td_boot *b)
{
	struct td_accept_stats s = { 0 };
	uint64_t ram = td_hob_ram_bytes(b->hob);
	uint64_t st = td_accept_hob_ram(b->hob, DEMO_ACCEPT_LIMIT, &s);

	if (!ram || st)
		td_fatal(DEMO_ERR_ACCEPT, "accepting RAM from the TD HOB failed: status %#lx after %lu bytes", st,
			 s.bytes);
	SAY("TDG.MEM.PAGE.ACCEPT: accepted %lu MiB of the %lu MiB RAM in %lu TDCALLs (%lu at 2 MiB, %lu at 4 KiB)\n",
	    s.bytes >> 20, ram >> 20, s.calls, s.calls_2m, s.calls_4k);
}

static void step_rtmr(void)
{
	uint64_t st = td_rtmr_extend(rtmr_value, DEMO_RTMR_INDEX);

	if (st != TDX_SUCCESS)
		td_fatal(DEMO_ERR_RTMR, "TDG.MR.RTMR.EXTEND failed: %#lx", st);
	SAY("TDG.MR.RTMR.EXTEND: RTMR[%u] extended with the 48 bytes \"%s\"\n", DEMO_RTMR_INDEX, rtmr_value);
}

static void print_measurement(const char *name, const uint8_t *p)
{
	char buf[2 * 48 + 1];

	SAY("%s %s\n", name, hex(buf, p, 48));
}

static void step_report(void)
{
	const uint8_t *mac = report + TDREPORT_STRUCT_OFF_REPORTMACSTRUCT;
	const uint8_t *ti = report + TDREPORT_STRUCT_OFF_TDINFO;
	const uint8_t *rt = mac + REPORTMACSTRUCT_OFF_REPORTTYPE;
	uint64_t st = td_mr_report(report, report_data);
	const unsigned rtmr_off[4] = { TDINFO_OFF_RTMR_0, TDINFO_OFF_RTMR_1, TDINFO_OFF_RTMR_2, TDINFO_OFF_RTMR_3 };
	char name[8] = "RTMR0";

	if (st != TDX_SUCCESS)
		td_fatal(DEMO_ERR_REPORT, "TDG.MR.REPORT failed: %#lx", st);
	if (memcmp(mac + REPORTMACSTRUCT_OFF_REPORTDATA, report_data, sizeof(report_data)))
		td_fatal(DEMO_ERR_REPORT, "the TDREPORT does not carry our REPORTDATA");
	SAY("TDG.MR.REPORT: TDREPORT type %#x subtype %u version %u, REPORTDATA bound\n",
	    rt[REPORTTYPE_OFF_TYPE], rt[REPORTTYPE_OFF_SUBTYPE], rt[REPORTTYPE_OFF_VERSION]);
	print_measurement("MRTD ", ti + TDINFO_OFF_MRTD);
	for (unsigned i = 0; i < 4; i++) {
		name[4] = (char)('0' + i);
		print_measurement(name, ti + rtmr_off[i]);
	}
	SAY("ATTRIBUTES %#018lx XFAM %#018lx\n", le64(ti + TDINFO_OFF_ATTRIBUTES), le64(ti + TDINFO_OFF_XFAM));
}

static uint64_t map_gpa(uint64_t gpa, uint64_t size, const char *to)
{
	uint64_t stopped = 0, st;

	/* RETRY: the VMM did part of the range; continue from where it stopped. */
	while ((st = td_map_gpa(gpa, size, &stopped)) == TDVMCALL_STATUS_RETRY && stopped > gpa &&
	       stopped < gpa + size) {
		size -= stopped - gpa;
		gpa = stopped;
	}
	if (st != TDVMCALL_STATUS_SUCCESS)
		td_fatal(DEMO_ERR_MAP_GPA, "MapGPA %#lx (%s) failed: %s (%#lx)", gpa, to, td_vmcall_status_name(st), st);
	return st;
}

static const char *quote_status_name(uint64_t s)
{
	switch (s) {
	case GET_QUOTE_SUCCESS: return "GET_QUOTE_SUCCESS";
	case GET_QUOTE_IN_FLIGHT: return "GET_QUOTE_IN_FLIGHT";
	case GET_QUOTE_ERROR: return "GET_QUOTE_ERROR";
	case GET_QUOTE_SERVICE_UNAVAILABLE: return "GET_QUOTE_SERVICE_UNAVAILABLE";
	default: return "unknown";
	}
}

/* The GetQuote buffer: GHCI header, then the TDREPORT; our message further on. */
static void quote_buffer_fill(uint8_t *buf)
{
	uint64_t version = GET_QUOTE_BUF_VERSION, status = GET_QUOTE_SUCCESS;
	uint32_t in_len = TDREPORT_STRUCT_SIZE, out_len = 0;

	memset(buf, 0, sizeof(quote_page));
	memcpy(buf + GET_QUOTE_BUF_OFF_VERSION, &version, GET_QUOTE_BUF_SZ_VERSION);
	memcpy(buf + GET_QUOTE_BUF_OFF_STATUS, &status, GET_QUOTE_BUF_SZ_STATUS);
	memcpy(buf + GET_QUOTE_BUF_OFF_IN_LEN, &in_len, GET_QUOTE_BUF_SZ_IN_LEN);
	memcpy(buf + GET_QUOTE_BUF_OFF_OUT_LEN, &out_len, GET_QUOTE_BUF_SZ_OUT_LEN);
	memcpy(buf + GET_QUOTE_BUF_OFF_DATA, report, TDREPORT_STRUCT_SIZE);
	memcpy(buf + QUOTE_MESSAGE_OFF, quote_message, sizeof(quote_message));
}

static void step_shared_quote(void)
{
	uint64_t gpa = (uintptr_t)quote_page, sgpa = gpa | td_shared_bit, st, status, start;
	volatile uint8_t *shared = td_shared_ptr(gpa);
	struct td_accept_stats acc = { 0 };
	uint32_t out_len;

	map_gpa(sgpa, sizeof(quote_page), "shared");
	SAY("MapGPA: page %#lx converted to shared (GPA %#lx)\n", gpa, sgpa);
	quote_buffer_fill((uint8_t *)shared);
	st = td_get_quote(sgpa, sizeof(quote_page));
	SAY("TDVMCALL<GetQuote>(%#lx, %lu bytes): TDVMCALL status %s (%#lx)\n", sgpa, (uint64_t)sizeof(quote_page),
	    td_vmcall_status_name(st), st);
	memcpy(&status, (const uint8_t *)shared + GET_QUOTE_BUF_OFF_STATUS, sizeof(status));
	for (start = rdtsc(); status == GET_QUOTE_IN_FLIGHT && rdtsc() - start < DEMO_WAIT_TSC;) {
		td_pause();
		memcpy(&status, (const uint8_t *)shared + GET_QUOTE_BUF_OFF_STATUS, sizeof(status));
	}
	memcpy(&out_len, (const uint8_t *)shared + GET_QUOTE_BUF_OFF_OUT_LEN, sizeof(out_len));
	SAY("GetQuote buffer: status %#018lx (%s), out_len %u%s\n", status, quote_status_name(status), out_len,
	    status == GET_QUOTE_SUCCESS && out_len ? "" : ": no quote (attestation is not available)");
	if (st != TDVMCALL_STATUS_SUCCESS && st != TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED)
		td_fatal(DEMO_ERR_QUOTE, "GetQuote refused: %s (%#lx)", td_vmcall_status_name(st), st);

	map_gpa(gpa, sizeof(quote_page), "private");
	st = td_accept_range(gpa, sizeof(quote_page), &acc);
	if (st != TDX_SUCCESS || acc.bytes != sizeof(quote_page))
		td_fatal(DEMO_ERR_MAP_GPA, "re-accepting page %#lx failed: %#lx", gpa, st);
	for (size_t i = 0; i < sizeof(quote_page); i++)
		if (quote_page[i])
			td_fatal(DEMO_ERR_MAP_GPA, "re-accepted page %#lx is not zero at offset %zu", gpa, i);
	SAY("MapGPA: page %#lx converted back to private, re-accepted with TDG.MEM.PAGE.ACCEPT, reads as zeros\n", gpa);
}

static void ipi_handler(struct td_frame *f)
{
	__atomic_store_n(&ipi_vector_seen, (uint32_t)f->vector, __ATOMIC_RELEASE);
	td_apic_eoi();
}

static void spurious_handler(struct td_frame *f)
{
	(void)f; /* a spurious interrupt takes no EOI */
}

static void step_ipi(const struct td_info *info)
{
	uint64_t st, start;

	if (info->num_vcpus < 2) {
		SAY("only %u vCPU (NUM_VCPUS from TDG.VP.INFO): IPI step skipped\n", info->num_vcpus);
		return;
	}
	if (!wait_flag(&ap_ready))
		td_fatal(DEMO_ERR_IPI, "vCPU 1 did not come up (NUM_VCPUS %u)", info->num_vcpus);
	st = td_wrmsr(MSR_X2APIC_ICR, (uint64_t)1 << ICR_DEST_SHIFT | DEMO_IPI_VECTOR);
	SAY("vCPU 0: IPI vector %#x to APIC ID 1 with TDVMCALL<Instruction.WRMSR>(ICR %#x): %s\n", DEMO_IPI_VECTOR,
	    MSR_X2APIC_ICR, td_vmcall_status_name(st));
	if (st != TDVMCALL_STATUS_SUCCESS)
		td_fatal(DEMO_ERR_IPI, "WRMSR ICR failed: %#lx", st);
	start = rdtsc();
	if (!wait_flag(&ap_ack))
		td_fatal(DEMO_ERR_IPI, "vCPU 1 did not acknowledge the IPI");
	SAY("vCPU 0: vCPU 1 acknowledged the IPI (%lu TSC ticks)\n", rdtsc() - start);
}

/* vCPU 1: its own stack and IDT, interrupts on, halted until vCPU 0's IPI arrives. */
static TD_NORETURN void ap_main(const struct td_boot *b)
{
	uint64_t st;

	td_irq_set(DEMO_IPI_VECTOR, ipi_handler);
	td_irq_set(DEMO_SPURIOUS_VECTOR, spurious_handler);
	st = td_wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | DEMO_SPURIOUS_VECTOR);
	SAY("vCPU %u: in 64-bit mode, x2APIC enabled (%s), halting with TDVMCALL<Instruction.HLT> until an IPI\n",
	    b->vcpu, td_vmcall_status_name(st));
	__atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&ipi_vector_seen, __ATOMIC_ACQUIRE))
		td_hlt(false);
	td_cli();
	SAY("vCPU %u: IPI vector %#x received, acknowledging\n", b->vcpu, ipi_vector_seen);
	__atomic_store_n(&ap_ack, 1, __ATOMIC_RELEASE);
	for (;;)
		td_hlt(true);
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	struct td_info info;

	td_log_prefix = "tdxemu demo TD";
	td_idt_init();
	td_idt_load();
	if (b->vcpu == 1)
		ap_main(b);
	if (b->vcpu != 0)
		for (;;)
			td_hlt(true);
	SAY("vCPU 0 in 64-bit mode (reset vector, 4-level paging), GPAW %u, TD HOB at %#lx\n", b->gpaw, b->hob);
	step_vp_info(b, &info);
	step_ve();
	step_accept(b);
	step_rtmr();
	step_report();
	step_shared_quote();
	step_ipi(&info);
	SAY("done, powering off with ACPI S5\n");
	td_poweroff_q35();
}
