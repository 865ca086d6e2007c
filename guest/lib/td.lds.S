/* Linker script of the in-tree TD firmware (preprocessed with td_layout.h). The image is
 * the BFV: code, read-only data and data from TD_IMAGE_BASE up to 4 GiB, the reset vector
 * in its last 16 bytes. .bss lives in TempMem, which the host adds zeroed. */
#include "td_layout.h"

OUTPUT_FORMAT("elf64-x86-64")
OUTPUT_ARCH(i386:x86-64)
ENTRY(td_reset_vector)

MEMORY
{
	BFV (rx) : ORIGIN = TD_IMAGE_BASE, LENGTH = TD_IMAGE_SIZE
	TEMPMEM (rw) : ORIGIN = TD_TEMPMEM_BASE, LENGTH = TD_TEMPMEM_SIZE
}

SECTIONS
{
	.text : { *(.text.entry32) *(.text .text.*) } > BFV
	.rodata : ALIGN(16) { *(.rodata .rodata.*) } > BFV
	.data : ALIGN(16) { *(.data .data.*) } > BFV
	__td_image_used_end = .;
	.resetvec (TD_IMAGE_BASE + TD_IMAGE_SIZE - 16) : { KEEP(*(.resetvec)) } > BFV
	.bss (NOLOAD) : ALIGN(4096) { *(.bss.pagetables) *(.bss .bss.* COMMON) } > TEMPMEM
	__td_bss_end = .;
	/DISCARD/ : { *(.eh_frame*) *(.note*) *(.comment) }

	/* For tools/mk_tdvf.py, which writes the TDVF metadata from these. */
	__tdvf_image_base = TD_IMAGE_BASE;
	__tdvf_image_size = TD_IMAGE_SIZE;
	__tdvf_tail_size = TD_IMAGE_TAIL_SIZE;
	__tdvf_hob_base = TD_HOB_BASE;
	__tdvf_hob_size = TD_HOB_SIZE;
	__tdvf_tempmem_base = TD_TEMPMEM_BASE;
	__tdvf_tempmem_size = TD_TEMPMEM_SIZE;
}

ASSERT(__td_image_used_end <= TD_IMAGE_BASE + TD_IMAGE_SIZE - TD_IMAGE_TAIL_SIZE,
       "TD firmware code and data overlap the TDVF tail: raise TD_IMAGE_SIZE")
ASSERT(SIZEOF(.resetvec) == 16, "the reset vector must be exactly 16 bytes")
