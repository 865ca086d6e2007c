/* General purpose registers as SEAMCALL/TDCALL pass them. Indexed by the x86
 * register number, which is also the TDX operand id of each register. The TDX_ prefix keeps
 * them clear of glibc's REG_R8.. (sys/ucontext.h), which QEMU's files see. */
#ifndef TDX_REGS_H
#define TDX_REGS_H

#include <stdint.h>

enum tdx_reg {
	TDX_REG_RAX = 0, TDX_REG_RCX, TDX_REG_RDX, TDX_REG_RBX, TDX_REG_RSP, TDX_REG_RBP, TDX_REG_RSI, TDX_REG_RDI,
	TDX_REG_R8, TDX_REG_R9, TDX_REG_R10, TDX_REG_R11, TDX_REG_R12, TDX_REG_R13, TDX_REG_R14, TDX_REG_R15,
	TDX_REG_COUNT
};

struct tdx_regs {
	uint64_t r[TDX_REG_COUNT];
};

/* Software-defined results of the SEAMCALL instruction itself, as Linux encodes them
 * (arch/x86/include/asm/tdx.h): TDX_SW_ERROR is TDX_ERROR with class bits 47:40 all
 * ones, which no module status uses. */
#define TDX_ERROR_BIT UINT64_C(0x8000000000000000)
#define TDX_SW_ERROR (TDX_ERROR_BIT | UINT64_C(0x0000FF0000000000))
#define X86_TRAP_UD 6u
#define X86_TRAP_GP 13u
#define TDX_SEAMCALL_VMFAILINVALID (TDX_SW_ERROR | UINT64_C(0xFFFF0000))
#define TDX_SEAMCALL_GP (TDX_SW_ERROR | X86_TRAP_GP)
#define TDX_SEAMCALL_UD (TDX_SW_ERROR | X86_TRAP_UD)

#endif
