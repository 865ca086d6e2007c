/* Reset vector and the 32-bit -> 64-bit entry of every vCPU.
 *
 * A TD vCPU starts (TDX module spec, initial state) in 32-bit protected mode with flat
 * segments and paging off at RIP 0xFFFFFFF0, with EBX = GPAW, ECX = R8 = TD HOB GPA,
 * ESI = vCPU index, and IA32_EFER.LME already set: enabling PAE paging enters long mode.
 * vCPU 0 builds 4-level page tables in TempMem identity-mapping the first 4 GiB with
 * private 2 MiB pages; the other vCPUs wait for them, then all load the same CR3, switch to
 * 64-bit code and call td_start(vcpu, hob, gpaw) on their own stack. */
#include "td_layout.h"

#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define PD_ENTRIES_4G 2048 /* 4 page directories of 512 2 MiB pages */

#ifndef TD_CUSTOM_RESET_VECTOR /* an image with its own reset path includes this file */
	.section .resetvec, "ax"
	.code32
	.globl td_reset_vector
td_reset_vector:
	jmp td_entry32
	.balign 16, 0xcc
#endif

	.section .text.entry32, "ax"
	.code32
td_entry32:
	movl %ecx, %ebp                 /* TD HOB GPA; EBX (GPAW) and ESI (index) stay put */
	cmpl $TD_MAX_VCPUS, %esi
	jae td_park32
	testl %esi, %esi
	jnz 3f

	/* vCPU 0: PML4[0] -> PDPT, PDPT[0..3] -> PD0..3, PD entries = 2 MiB pages. TempMem
	 * is zero when the TD starts, so only present entries are written. */
	movl $td_pdpt + (PTE_P | PTE_RW), td_pml4
	xorl %ecx, %ecx
	movl $td_pd + (PTE_P | PTE_RW), %eax
1:	movl %eax, td_pdpt(, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_RW | PTE_PS), %eax
	movl %eax, td_pd(, %ecx, 8)
	movl %ecx, %edx
	shrl $11, %edx                  /* bits 63:32 of index * 2 MiB */
	movl %edx, td_pd + 4(, %ecx, 8)
	incl %ecx
	cmpl $PD_ENTRIES_4G, %ecx
	jb 2b
	movl $1, td_tables_ready
	jmp 4f

	/* other vCPUs: wait until vCPU 0 has written the tables */
3:	pause
	cmpl $0, td_tables_ready
	je 3b

4:	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $td_pml4, %eax
	movl %eax, %cr3
	lgdt td_gdt_desc
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	ljmp $TD_GDT_CODE64, $td_entry64

	/* a vCPU index beyond the stacks we have: spin (HLT would be a #VE with no IDT yet) */
td_park32:
	pause
	jmp td_park32

	.code64
td_entry64:
	movl $TD_GDT_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl %esi, %eax                 /* 32-bit moves zero the upper halves */
	incl %eax
	imull $TD_STACK_SIZE, %eax, %eax
	addq $td_stacks, %rax
	movq %rax, %rsp
	movl %esi, %edi                 /* td_start(vcpu, hob, gpaw) */
	movl %ebp, %esi
	movl %ebx, %edx
	andl $0x3f, %edx
	xorl %ebp, %ebp                 /* the outermost frame for backtraces */
	call td_start
	ud2

	.section .rodata
	.balign 16
td_gdt:
	.quad 0
	.quad 0x00af9b000000ffff        /* 0x08: 64-bit code, present, accessed */
	.quad 0x00cf93000000ffff        /* 0x10: flat data, present, accessed */
td_gdt_end:
	.balign 8
td_gdt_desc:
	.word td_gdt_end - td_gdt - 1
	.quad td_gdt

	.section .bss.pagetables, "aw", @nobits
	.balign 4096
	.globl td_pml4, td_pdpt, td_pd
td_pml4: .skip 4096
td_pdpt: .skip 4096
td_pd: .skip 4 * 4096

	.bss
	.balign 16
	.globl td_stacks
td_stacks: .skip TD_MAX_VCPUS * TD_STACK_SIZE
	.balign 4
td_tables_ready: .skip 4
