/* The freestanding TD guest library: entry, TDCALL and TDVMCALL wrappers, a serial console,
 * memory acceptance, shared memory, interrupts and #VE. Leaf numbers, status codes and
 * structure offsets come from the headers generated from data/ (abi_*.h, td_ghci.h). */
#ifndef TD_H
#define TD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi_leaves.h"
#include "abi_status.h"
#include "abi_structs.h"
#include "td_ghci.h"
#include "td_layout.h"

#define TD_PAGE_4K 0x1000ull
#define TD_PAGE_2M 0x200000ull
#define TD_ACCEPT_LEVEL_4K 0u /* PAGE_INFO.LEVEL of TDG.MEM.PAGE.ACCEPT */
#define TD_ACCEPT_LEVEL_2M 1u
#define TD_NORETURN __attribute__((noreturn))
#define TD_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* x86 GPR numbers (the ModRM encoding), the bit positions of TDVMCALL_CONTROL.GPR_SELECT. */
enum td_gpr { TD_RAX, TD_RCX, TD_RDX, TD_RBX, TD_RSP, TD_RBP, TD_RSI, TD_RDI, TD_R8, TD_R9, TD_R10, TD_R11,
	      TD_R12, TD_R13, TD_R14, TD_R15 };

/* Registers in and out of one TDCALL (tdcall.S relies on this order). */
struct td_regs {
	uint64_t rax, rcx, rdx, rbx, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(sizeof(struct td_regs) == 14 * 8, "tdcall.S offsets");

void td_tdcall(struct td_regs *r);
void td_tdcall_sti(struct td_regs *r); /* STI immediately before the TDCALL */

/* ---- TDCALL leaves: each returns the completion status (RAX) ---------------------------- */
struct td_info {
	uint32_t gpaw, num_vcpus, max_vcpus, vcpu_index;
	uint64_t attributes, commands_available;
};
uint64_t td_vp_info(struct td_info *out);
uint64_t td_accept_page(uint64_t gpa, unsigned level);
uint64_t td_rtmr_extend(const void *data48, unsigned index); /* data 64-byte aligned */
uint64_t td_mr_report(void *report1024, const void *reportdata64); /* 1024 / 64 aligned */
struct td_ve_info {
	uint32_t exit_reason, instr_len, instr_info;
	uint64_t exit_qual, gla, gpa;
};
uint64_t td_veinfo_get(struct td_ve_info *out);
/* The status class (bits 63:32) of a completion status, for comparisons with TDX_*. */
static inline uint64_t td_status_class(uint64_t st) { return st & 0xFFFFFFFF00000000ull; }

/* ---- TDVMCALLs (GHCI): each returns the TDVMCALL status (R10) --------------------------- */
uint64_t td_vmcall(struct td_regs *r); /* R10 = 0 (standard), R11.. as given */
uint64_t td_io_out(uint16_t port, unsigned size, uint32_t value);
uint64_t td_io_in(uint16_t port, unsigned size, uint32_t *value);
uint64_t td_map_gpa(uint64_t gpa, uint64_t size, uint64_t *stopped_at);
uint64_t td_get_quote(uint64_t shared_gpa, uint64_t size);
uint64_t td_wrmsr(uint32_t msr, uint64_t value);
uint64_t td_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* Instruction.HLT; with interrupts enabled (irq_blocked false) the STI is part of it. */
uint64_t td_hlt(bool irq_blocked);
/* Print, TDVMCALL<ReportFatalError> with the code and the message, then never return. */
TD_NORETURN void td_fatal(uint32_t code, const char *fmt, ...) TD_PRINTF(2, 3);
const char *td_vmcall_status_name(uint64_t st);

/* ---- console (COM1 through TDVMCALL<Instruction.IO>) ----------------------------------- */
extern const char *td_log_prefix; /* printed by td_fatal */
void td_printf(const char *fmt, ...) TD_PRINTF(1, 2);
void td_vprintf(const char *fmt, va_list ap);
int td_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);
void td_print_hex(const void *p, size_t n); /* lowercase hex, no separators */
unsigned td_this_vcpu(void);               /* from the stack in use */

/* ---- memory --------------------------------------------------------------------------- */
extern uint64_t td_shared_bit; /* set by td_paging_shared_init() */
/* Build the shared alias window (td_layout.h) for the TD's GPAW. */
void td_paging_shared_init(unsigned gpaw);
static inline void *td_shared_ptr(uint64_t gpa) { return (void *)(uintptr_t)(TD_SHARED_VA + gpa); }
static inline void *td_private_ptr(uint64_t gpa) { return (void *)(uintptr_t)gpa; }

struct td_accept_stats {
	uint64_t bytes, calls, calls_2m, calls_4k, already;
};
/* Accept [base, base + size): 2 MiB at a time where aligned, 4 KiB where the host mapped
 * the range at 4 KiB (TDX_PAGE_SIZE_MISMATCH). 0, or the failing status. */
uint64_t td_accept_range(uint64_t base, uint64_t size, struct td_accept_stats *st);
/* Accept the RAM the TD HOB lists as unaccepted, at most `limit` bytes (0: all). Returns
 * 0, or the failing status (bad HOB: TDX_OPERAND_INVALID). */
uint64_t td_accept_hob_ram(uint64_t hob, uint64_t limit, struct td_accept_stats *st);
/* Bytes of RAM the HOB describes (accepted and not). */
uint64_t td_hob_ram_bytes(uint64_t hob);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---- interrupts ----------------------------------------------------------------------- */
struct td_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*td_irq_fn)(struct td_frame *f);
void td_idt_init(void); /* once, before any vCPU loads it */
void td_idt_load(void);
void td_irq_set(unsigned vector, td_irq_fn fn);
/* #VE: the number handled so far (CPUID is emulated; anything else is fatal). */
extern volatile uint64_t td_ve_count;
/* x2APIC MSRs (SDM Vol. 3 11.12.1.2) and the fields the guests program. */
#define MSR_X2APIC_EOI 0x80B
#define MSR_X2APIC_SVR 0x80F
#define MSR_X2APIC_ICR 0x830
#define MSR_X2APIC_LVT_TIMER 0x832
#define MSR_X2APIC_TMICT 0x838
#define MSR_X2APIC_TDCR 0x83E
#define APIC_SVR_ENABLE 0x100
#define TDCR_DIVIDE_BY_1 0xB
void td_apic_eoi(void);
static inline void td_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void td_pause(void) { __asm__ volatile("pause" ::: "memory"); }

/* ---- platform ------------------------------------------------------------------------- */
/* ACPI S5 through q35's ICH9 LPC/PM registers: QEMU exits with status 0. */
TD_NORETURN void td_poweroff_q35(void);

/* ---- entry ---------------------------------------------------------------------------- */
struct td_boot {
	uint32_t vcpu, gpaw;
	uint64_t hob;
};
/* The program's entry, called by every vCPU on its own stack in 64-bit mode. */
TD_NORETURN void td_main(const struct td_boot *b);

#endif
