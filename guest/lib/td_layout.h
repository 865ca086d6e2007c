/* Where the in-tree TD firmware lives in the TD's guest-physical address space. These are
 * our choices (any layout the TDVF metadata describes is valid), shared by the linker
 * script, the 32-bit entry code and the C code. No integer suffixes: ld reads this too. */
#ifndef TD_LAYOUT_H
#define TD_LAYOUT_H

/* The image (the BFV section) ends at 4 GiB, where the reset vector must be. QEMU's -bios
 * wants a multiple of 64 KiB. */
#define TD_IMAGE_SIZE 0x10000
#define TD_IMAGE_BASE (0x100000000 - TD_IMAGE_SIZE)
/* The last bytes of the image: TDVF descriptor, OVMF GUIDed footer table and the reset
 * vector, written by tools/mk_tdvf.py (the reset vector by entry.S). */
#define TD_IMAGE_TAIL_SIZE 0x400

/* TD HOB and TempMem in low RAM, together inside one 2 MiB page, so that all other 2 MiB
 * pages of RAM are wholly unaccepted and can be accepted with one TDCALL each. */
#define TD_HOB_BASE 0x800000
#define TD_HOB_SIZE 0x1000
#define TD_TEMPMEM_BASE 0x801000
#define TD_TEMPMEM_SIZE 0x3F000

#define TD_MAX_VCPUS 8
#define TD_STACK_SIZE 0x4000

/* The shared alias window: virtual address TD_SHARED_VA + GPA maps GPA | shared bit, for
 * GPAs below TD_SHARED_WINDOW (one page directory of 2 MiB pages). */
#define TD_SHARED_VA 0x100000000
#define TD_SHARED_WINDOW 0x40000000

/* GDT selectors of entry.S. */
#define TD_GDT_CODE64 0x08
#define TD_GDT_DATA 0x10

#endif
