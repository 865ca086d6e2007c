/* The bench image's reset path: the same image boots as a TD and as a plain q35 guest.
 *
 * A TD vCPU starts in 32-bit protected mode at 0xFFFFFFF0 (EFER.LME set, TD HOB in ECX,
 * vCPU index in ESI); a plain q35 CPU starts there in 16-bit real mode with CS base
 * 0xFFFF0000. The reset vector uses only encodings that mean the same in both modes
 * (MOV EAX,CR0 / TEST AL / JNZ rel8) to test CR0.PE, then takes a 16-bit near jump
 * (within the 64 KiB image, which CS covers) or a 32-bit one. The real-mode path enters
 * protected mode, notes that it is not a TD (bench_plain_mode), sets EFER.LME as the TDX
 * module would have, and joins the library's 32-bit entry (guest/lib/entry.S) as vCPU 0
 * without a TD HOB. */
#define TD_CUSTOM_RESET_VECTOR
#include "entry.S"

#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
#define CR0_PE 0x1
#define BENCH_GDT_CODE32 0x08
#define BENCH_GDT_DATA 0x10
#define BENCH_PLAIN_GPAW 48 /* what a TD would be told; the plain guest has no shared bit */

	.section .resetvec, "ax"
	.code32
	.globl td_reset_vector
td_reset_vector:
	movl %cr0, %eax                 /* 0F 20 C0 in both modes */
	testb $CR0_PE, %al              /* A8 01 */
	.byte 0x75, 0x03                /* JNZ over the 3-byte 16-bit jump */
	.code16
	.byte 0xe9                      /* JMP rel16 (spelled out: no relaxation to a short jump) */
	.word bench_entry16 - (td_reset_vector + 10)
	.code32
	jmp td_entry32                  /* E9 rel32: a TD */
	.balign 16, 0xcc

	.section .text.entry16, "ax"
	.code16
bench_entry16:
	cli
	lgdtl %cs:(bench_gdt_desc - TD_IMAGE_BASE)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $BENCH_GDT_CODE32, $bench_entry32

	.code32
bench_entry32:
	movl $BENCH_GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $1, bench_plain_mode       /* RAM is zero at reset: a TD never sees this set */
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	xorl %ecx, %ecx                 /* no TD HOB */
	xorl %esi, %esi                 /* vCPU 0 */
	movl $BENCH_PLAIN_GPAW, %ebx
	jmp td_entry32

	.section .rodata
	.balign 16
bench_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff        /* 0x08: flat 32-bit code */
	.quad 0x00cf93000000ffff        /* 0x10: flat data */
bench_gdt_end:
	.balign 8
bench_gdt_desc:
	.word bench_gdt_end - bench_gdt - 1
	.long bench_gdt
