/* The engine benchmark guest (build/bench-td.fd), driven by `tdxemu-bench engine`.
 *
 * One image, two modes (reset.S): as a TD it talks to the VMM with TDVMCALLs; as a plain
 * q35 guest (no -object tdx-guest) it uses port IO directly. vCPU 0 runs, in order:
 *   mem    a load/add/store loop over a BENCH_BUF_SIZE buffer, BENCH_MEM_INSNS instructions
 *          per iteration (both modes: the TD/plain ratio);
 *   tdcall TDG.VP.INFO in a loop (TD only; served by the module without a TD exit);
 *   io     OUT to the COM1 scratch register: TDVMCALL<Instruction.IO> in a TD, OUT in plain.
 * Each phase prints "BENCH <phase> begin", runs for about BENCH_PHASE_TSC guest TSC ticks
 * (whole batches), then "BENCH <phase> end" and a result line
 *   "BENCH <phase> count=N insns=N tsc=N"
 * The host times the phases between the begin and end lines (the same clock for both modes);
 * the TSC figures are the guest's own view. The guest then powers off with ACPI S5. Any
 * failure prints "BENCH error ..." and powers off (plain) or reports a fatal error (TD). */
#include "td.h"

#define COM1_THR 0x3F8
#define COM1_SCRATCH 0x3FF         /* the 16550 scratch register: QEMU stores the byte, nothing else */
#define BENCH_BUF_BASE 0x1000000ull /* 16 MiB: RAM in both modes, above the TD HOB and TempMem */
#define BENCH_BUF_SIZE 0x400000ul   /* 4 MiB, two 2 MiB pages to accept in a TD */
#define BENCH_MEM_INSNS 6           /* the loop body in mem_pass() */
#define BENCH_TSC_HZ 2500000000ull  /* KVM's default TD TSC; only a rough run length in plain mode */
#define BENCH_MEM_TSC (BENCH_TSC_HZ * 8 / 10)
#define BENCH_CALL_TSC (BENCH_TSC_HZ * 3 / 10)
#define BENCH_MAX_BATCHES 100000u  /* a bound whatever the TSC does */
#define BENCH_CALL_BATCH 256u
#define BENCH_ERR 0xBE000000u

/* Set by reset.S on the real-mode path: this is not a TD. */
uint32_t bench_plain_mode;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void port_out8(uint16_t port, uint8_t v)
{
	if (bench_plain_mode)
		__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
	else
		td_io_out(port, 1, v);
}

static void say(const char *fmt, ...) TD_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = td_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (int i = 0; i < n && i < (int)sizeof(buf) - 1; i++)
		port_out8(COM1_THR, (uint8_t)buf[i]);
	port_out8(COM1_THR, '\n');
}

/* ACPI S5 on q35 (guest/lib/platform.c has the register story) for the plain guest. */
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define ICH9_LPC_CONFIG(reg) (0x80000000u | (31u << 11) | (reg))
#define ICH9_LPC_PMBASE 0x40
#define ICH9_LPC_ACPI_CNTL 0x44
#define BENCH_PMBASE 0x600
#define PM1_CNT_SLP_EN (1u << 13)

static TD_NORETURN void plain_poweroff(void)
{
	__asm__ volatile("outl %0, %1" : : "a"(ICH9_LPC_CONFIG(ICH9_LPC_PMBASE)), "Nd"((uint16_t)PCI_CONFIG_ADDRESS));
	__asm__ volatile("outl %0, %1" : : "a"((uint32_t)BENCH_PMBASE), "Nd"((uint16_t)PCI_CONFIG_DATA));
	__asm__ volatile("outl %0, %1" : : "a"(ICH9_LPC_CONFIG(ICH9_LPC_ACPI_CNTL)), "Nd"((uint16_t)PCI_CONFIG_ADDRESS));
	__asm__ volatile("outb %0, %1" : : "a"((uint8_t)0x80), "Nd"((uint16_t)PCI_CONFIG_DATA));
	__asm__ volatile("outw %0, %1" : : "a"((uint16_t)PM1_CNT_SLP_EN), "Nd"((uint16_t)(BENCH_PMBASE + 4)));
	for (;;)
		__asm__ volatile("cli; hlt");
}

static TD_NORETURN void poweroff(void)
{
	if (bench_plain_mode)
		plain_poweroff();
	td_poweroff_q35();
}

static TD_NORETURN void fail(const char *what, uint64_t st)
{
	say("BENCH error %s: status %#lx", what, st);
	if (bench_plain_mode)
		plain_poweroff();
	td_fatal(BENCH_ERR, "bench: %s failed (%#lx)", what, st);
}

/* One pass over the buffer: BENCH_MEM_INSNS instructions per 8 bytes. */
static uint64_t mem_pass(uint64_t acc)
{
	uint64_t p = BENCH_BUF_BASE, end = BENCH_BUF_BASE + BENCH_BUF_SIZE, tmp;

	__asm__ volatile("1:\n\t"
			 "movq (%[p]), %[t]\n\t"
			 "addq %[t], %[acc]\n\t"
			 "movq %[acc], (%[p])\n\t"
			 "addq $8, %[p]\n\t"
			 "cmpq %[end], %[p]\n\t"
			 "jb 1b"
			 : [p] "+r"(p), [acc] "+r"(acc), [t] "=&r"(tmp)
			 : [end] "r"(end)
			 : "memory", "cc");
	return acc;
}

static void bench_mem(void)
{
	uint64_t acc = 1, passes = 0, t0, t;

	acc = mem_pass(acc); /* first touch outside the timed part */
	say("BENCH mem begin");
	t0 = rdtsc();
	do {
		acc = mem_pass(acc);
		passes++;
		t = rdtsc() - t0;
	} while (t < BENCH_MEM_TSC && passes < BENCH_MAX_BATCHES);
	say("BENCH mem end");
	say("BENCH mem count=%lu insns=%lu tsc=%lu sum=%#lx", passes,
	    passes * (uint64_t)(BENCH_BUF_SIZE / 8 * BENCH_MEM_INSNS), t, acc);
}

static void bench_tdcall(void)
{
	uint64_t calls = 0, t0, t;
	struct td_info info;

	say("BENCH tdcall begin");
	t0 = rdtsc();
	do {
		for (unsigned i = 0; i < BENCH_CALL_BATCH; i++) {
			uint64_t st = td_vp_info(&info);
			if (st)
				fail("TDG.VP.INFO", st);
		}
		calls += BENCH_CALL_BATCH;
		t = rdtsc() - t0;
	} while (t < BENCH_CALL_TSC && calls < (uint64_t)BENCH_MAX_BATCHES * BENCH_CALL_BATCH);
	say("BENCH tdcall end");
	say("BENCH tdcall count=%lu insns=0 tsc=%lu", calls, t);
}

static void bench_io(void)
{
	uint64_t outs = 0, t0, t;

	say("BENCH io begin");
	t0 = rdtsc();
	do {
		for (unsigned i = 0; i < BENCH_CALL_BATCH; i++) {
			if (bench_plain_mode) {
				__asm__ volatile("outb %0, %1" : : "a"((uint8_t)i), "Nd"((uint16_t)COM1_SCRATCH));
			} else {
				uint64_t st = td_io_out(COM1_SCRATCH, 1, (uint8_t)i);
				if (st)
					fail("TDVMCALL<Instruction.IO>", st);
			}
		}
		outs += BENCH_CALL_BATCH;
		t = rdtsc() - t0;
	} while (t < BENCH_CALL_TSC && outs < (uint64_t)BENCH_MAX_BATCHES * BENCH_CALL_BATCH);
	say("BENCH io end");
	say("BENCH io count=%lu insns=0 tsc=%lu", outs, t);
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	if (b->vcpu != 0)
		for (;;)
			td_pause(); /* the bench is single-vCPU; HLT would be a #VE without an IDT */
	say("BENCH mode=%s", bench_plain_mode ? "plain" : "td");
	if (!bench_plain_mode) {
		struct td_accept_stats acc = { 0 };
		uint64_t st = td_accept_range(BENCH_BUF_BASE, BENCH_BUF_SIZE, &acc);
		if (st)
			fail("TDG.MEM.PAGE.ACCEPT of the buffer", st);
	}
	bench_mem();
	if (!bench_plain_mode)
		bench_tdcall();
	bench_io();
	say("BENCH done");
	poweroff();
}
