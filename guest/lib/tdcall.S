/* TDCALL with every GPR the ABI uses loaded from and stored back to a struct td_regs
 * (tdx.h: rax, rcx, rdx, rbx, rsi, rdi, r8..r15 at 8-byte steps). RBP is never exposed to
 * the VMM (NO_RBP_MOD) and RSP cannot be; callee-saved registers are preserved here. The
 * TDCALL opcode is spelled out so that older assemblers build it. */
#define TDCALL .byte 0x66, 0x0f, 0x01, 0xcc

.macro TDCALL_BODY sti
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi
	movq 0(%rdi), %rax
	movq 8(%rdi), %rcx
	movq 16(%rdi), %rdx
	movq 24(%rdi), %rbx
	movq 32(%rdi), %rsi
	movq 48(%rdi), %r8
	movq 56(%rdi), %r9
	movq 64(%rdi), %r10
	movq 72(%rdi), %r11
	movq 80(%rdi), %r12
	movq 88(%rdi), %r13
	movq 96(%rdi), %r14
	movq 104(%rdi), %r15
	movq 40(%rdi), %rdi
.if \sti
	sti                             /* the STI shadow covers the TDCALL: no interrupt in between */
.endif
	TDCALL
	xchgq %rdi, (%rsp)              /* RDI = the struct again, its output on the stack */
	movq %rax, 0(%rdi)
	movq %rcx, 8(%rdi)
	movq %rdx, 16(%rdi)
	movq %rbx, 24(%rdi)
	movq %rsi, 32(%rdi)
	movq %r8, 48(%rdi)
	movq %r9, 56(%rdi)
	movq %r10, 64(%rdi)
	movq %r11, 72(%rdi)
	movq %r12, 80(%rdi)
	movq %r13, 88(%rdi)
	movq %r14, 96(%rdi)
	movq %r15, 104(%rdi)
	popq %rax
	movq %rax, 40(%rdi)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
.endm

	.text
	.globl td_tdcall, td_tdcall_sti
td_tdcall:
	TDCALL_BODY 0
td_tdcall_sti:
	TDCALL_BODY 1
