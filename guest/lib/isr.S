/* Interrupt and exception entry stubs: one per vector, each pushing a uniform frame
 * (struct td_frame in td.h) for td_isr_dispatch(). Vectors whose exceptions push an error
 * code (SDM Vol. 3 6.3.1: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX) skip the dummy. */
	.text
	.code64

.macro STUB vec
	.balign 16
td_isr_\vec:
.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq $0
.endif
	pushq $\vec
	jmp td_isr_common
.endm

.altmacro
.macro STUBS from, to
	STUB \from
.if \to-\from
	STUBS %(\from+1), \to
.endif
.endm

.macro ADDR vec
	.quad td_isr_\vec
.endm
.macro ADDRS from, to
	ADDR \from
.if \to-\from
	ADDRS %(\from+1), \to
.endif
.endm

	STUBS 0, 63
	STUBS 64, 127
	STUBS 128, 191
	STUBS 192, 255

td_isr_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call td_isr_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp                  /* vector and error code */
	iretq

	.section .rodata
	.balign 8
	.globl td_isr_stubs
td_isr_stubs:
	ADDRS 0, 63
	ADDRS 64, 127
	ADDRS 128, 191
	ADDRS 192, 255
