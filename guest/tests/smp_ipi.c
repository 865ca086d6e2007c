/* Two vCPUs: each reads its VCPU_INDEX from TDG.VP.INFO, IPIs go both ways (ICR writes through
 * TDVMCALL<Instruction.WRMSR>), and the x2APIC timer programmed the same way fires and its
 * handler EOIs natively (the EOI is virtualised). */
#include "gtest.h"

#define IPI_TO_1 0x40
#define IPI_TO_0 0x41
#define TIMER_VECTOR 0x50
#define SPURIOUS_VECTOR 0xFF
#define WAIT_SECONDS 30
/* x2APIC ICR destination field; the timer's initial count */
#define ICR_DEST_SHIFT 32
#define TIMER_COUNT 100000

static volatile uint32_t idt_ready, ap_ready, ap_got_ipi, bsp_got_ipi, timer_fired, ap_sent;
static volatile uint32_t ap_index = ~0u;

static void on_ipi(struct td_frame *f)
{
	if (f->vector == IPI_TO_1)
		__atomic_store_n(&ap_got_ipi, 1, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&bsp_got_ipi, 1, __ATOMIC_RELEASE);
	td_apic_eoi();
}

static void on_timer(struct td_frame *f)
{
	(void)f;
	__atomic_add_fetch(&timer_fired, 1, __ATOMIC_ACQ_REL);
	td_apic_eoi();
}

static void on_spurious(struct td_frame *f)
{
	(void)f;
}

/* Halt with interrupts enabled until *flag is set or the time is up. */
static bool halt_until(volatile uint32_t *flag)
{
	uint64_t start = gt_rdtsc();

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (gt_rdtsc() - start > WAIT_SECONDS * 2500000000ull)
			break;
		td_hlt(false);
		td_cli();
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static TD_NORETURN void ap_main(void)
{
	struct td_info info;

	if (td_vp_info(&info) == TDX_SUCCESS)
		ap_index = info.vcpu_index;
	td_wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
	__atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
	if (halt_until(&ap_got_ipi) &&
	    td_wrmsr(MSR_X2APIC_ICR, (uint64_t)0 << ICR_DEST_SHIFT | IPI_TO_0) == TDVMCALL_STATUS_SUCCESS)
		__atomic_store_n(&ap_sent, 1, __ATOMIC_RELEASE);
	for (;;)
		td_hlt(true);
}

static void case_vcpu_index(const struct td_info *info)
{
	gt_case("vcpu_index");
	gt_check(info->num_vcpus == 2, "NUM_VCPUS %u, want 2 (the runner starts -smp 2)", info->num_vcpus);
	/* QEMU sets KVM_CAP_MAX_VCPUS to -smp's count before INIT_VM */
	gt_check(info->max_vcpus == 2, "MAX_VCPUS %u, want 2 (-smp 2)", info->max_vcpus);
	gt_check(info->vcpu_index == 0, "vCPU 0: VCPU_INDEX %u", info->vcpu_index);
	gt_check(gt_wait(&ap_ready, WAIT_SECONDS), "vCPU 1 did not come up");
	gt_check(ap_index == 1, "vCPU 1: VCPU_INDEX %u", ap_index);
	gt_case_end();
}

static void case_ipi(void)
{
	gt_case("ipi_both_ways");
	gt_status("WRMSR ICR (IPI to vCPU 1)", td_wrmsr(MSR_X2APIC_ICR, (uint64_t)1 << ICR_DEST_SHIFT | IPI_TO_1),
		  TDVMCALL_STATUS_SUCCESS);
	gt_check(halt_until(&bsp_got_ipi), "vCPU 0 got no IPI back (vCPU 1 got ours: %u, sent back: %u)", ap_got_ipi,
		 ap_sent);
	gt_case_end();
}

static void case_timer(void)
{
	gt_case("x2apic_timer");
	gt_status("WRMSR TDCR", td_wrmsr(MSR_X2APIC_TDCR, TDCR_DIVIDE_BY_1), TDVMCALL_STATUS_SUCCESS);
	gt_status("WRMSR LVT timer (one-shot)", td_wrmsr(MSR_X2APIC_LVT_TIMER, TIMER_VECTOR), TDVMCALL_STATUS_SUCCESS);
	gt_status("WRMSR TMICT", td_wrmsr(MSR_X2APIC_TMICT, TIMER_COUNT), TDVMCALL_STATUS_SUCCESS);
	gt_check(halt_until(&timer_fired), "the timer interrupt did not arrive");
	/* A second one-shot only fires if the first was EOIed (else the vector stays in service). */
	gt_status("WRMSR TMICT again", td_wrmsr(MSR_X2APIC_TMICT, TIMER_COUNT), TDVMCALL_STATUS_SUCCESS);
	for (uint64_t start = gt_rdtsc(); __atomic_load_n(&timer_fired, __ATOMIC_ACQUIRE) < 2 &&
					  gt_rdtsc() - start < WAIT_SECONDS * 2500000000ull;) {
		td_hlt(false);
		td_cli();
	}
	gt_check(timer_fired == 2, "%u timer interrupts after two one-shots, want 2", timer_fired);
	gt_case_end();
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	struct td_info info;

	gt_image = td_log_prefix = "smp_ipi";
	if (b->vcpu == 0) {
		td_idt_init();
		td_irq_set(IPI_TO_1, on_ipi);
		td_irq_set(IPI_TO_0, on_ipi);
		td_irq_set(TIMER_VECTOR, on_timer);
		td_irq_set(SPURIOUS_VECTOR, on_spurious);
		__atomic_store_n(&idt_ready, 1, __ATOMIC_RELEASE);
	} else {
		gt_wait(&idt_ready, WAIT_SECONDS);
	}
	td_idt_load();
	if (b->vcpu == 1)
		ap_main();
	if (b->vcpu != 0)
		for (;;)
			td_hlt(true);
	if (td_vp_info(&info) != TDX_SUCCESS)
		td_fatal(GT_FATAL_FAILED, "TDG.VP.INFO failed");
	td_wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
	case_vcpu_index(&info);
	case_ipi();
	case_timer();
	gt_finish();
}
