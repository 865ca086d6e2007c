/* The TD's MSR virtualization (data/module/td-msr-virtualization.json): the VMX MSR bitmap
 * TDH.MNG.INIT builds in the TDCS MSR_BITMAPS page from the table and the TD's ATTRIBUTES,
 * XFAM and virtual CPUID, as the real module's set_msr_bitmaps() does, and the table lookups
 * the RDMSR/WRMSR exit handler (td_guest_msr.c) uses. */
#ifndef MODULE_TD_MSR_H
#define MODULE_TD_MSR_H

#include "td.h"
#include "td_msr_table.h"

/* Build the bitmap of a TD whose ATTRIBUTES, XFAM and CPUID are configured: every bit set
 * (an MSR not in the table exits), then cleared for FIXED_0 accesses and DYN_* ones whose
 * conditions hold. The platform MSR conditions read the MSR on lp. */
void td_msr_bitmap_build(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs, uint8_t *bitmap);
/* Map the TD's MSR bitmap page (TDCS page MSR_BITMAPS). NULL after a machine check. */
uint8_t *td_msr_bitmap_map(struct tdx_module *m, const struct tdr *tdr);
/* Is msr inside one of the two ranges the bitmap covers? */
bool td_msr_in_bitmap(uint32_t msr);
/* The bitmap's bit for msr (true = the access is a VM exit); true outside the ranges. */
bool td_msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write);
/* The table entry covering msr, NULL if none. */
const struct td_msr_entry *td_msr_find(uint32_t msr);
/* Does condition cond (TD_MSR_COND_*) hold for the TD? A TD_MSR_COND_PLATFORM_MSR condition
 * reads the MSR on lp. */
bool td_msr_cond_holds(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs, unsigned cond);

#endif
