/* Guest-side tests: each image is a TD firmware running named cases and printing one line
 * per case over serial, "TEST <image>.<case>: PASS" or "TEST <image>.<case>: FAIL <what>"
 * (tests/guest_test.sh checks them), then powering off with ACPI S5 when every case
 * passed, or ending with TDVMCALL<ReportFatalError> when one failed. */
#ifndef GTEST_H
#define GTEST_H

#include "td.h"

/* ReportFatalError code of a failed image: the runner sees the TD's end as a failure. */
#define GT_FATAL_FAILED 0x6e0000u

extern const char *gt_image; /* set by each image before gt_case() */

/* The common start of a single-vCPU test image: names it, loads the IDT and parks every vCPU
 * but 0 (halted with interrupts blocked; QEMU's power-off wakes them). */
void gt_start(const char *image, const struct td_boot *b);
/* gt_start() and TDG.VP.INFO into *info, then the shared-memory window set up. */
void gt_start_paged(const char *image, const struct td_boot *b, struct td_info *info);
void gt_case(const char *name);                          /* start a case */
bool gt_check(bool ok, const char *fmt, ...) TD_PRINTF(2, 3); /* FAIL line when !ok */
bool gt_status(const char *what, uint64_t got, uint64_t want);   /* exact TDX/TDVMCALL status */
void gt_case_end(void);                                  /* PASS line if the case had no failure */
TD_NORETURN void gt_finish(void);                        /* S5 when all passed, else fatal */

uint64_t gt_rdtsc(void);
/* Spin until *flag != 0 or about `seconds` of TSC ticks (the TD's 2.5 GHz default) pass. */
bool gt_wait(volatile uint32_t *flag, unsigned seconds);
uint64_t gt_rdmsr(uint32_t msr); /* native RDMSR */
void gt_wrmsr(uint32_t msr, uint64_t v); /* native WRMSR */

#endif
