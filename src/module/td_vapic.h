/* A TD vCPU's virtual APIC: the virtual-APIC page (TDVPS page TDVPS_PAGE_VAPIC) with IRR, ISR,
 * TMR, TPR and PPR, and RVI/SVI in the TD VMCS guest interrupt status, updated the way the
 * CPU's APIC virtualization does (SDM vol. 3, "APIC Virtualization and Virtual Interrupts"):
 * posted-interrupt processing, virtual-interrupt delivery, TPR/EOI/self-IPI virtualization
 * and the x2APIC MSR reads it serves from the page. TDH.VP.RD's VCPU_STATE_DETAILS reads the
 * same RVI and PPR. */
#ifndef MODULE_TD_VAPIC_H
#define MODULE_TD_VAPIC_H

#include "td_guest.h"

/* Posted-interrupt processing, if the pin-based "process posted interrupts" control is set
 * and the PID's ON bit is: ON cleared, then each PIR word taken with an atomic exchange and
 * ORed into the IRR, RVI raised to the highest requested vector. The PID is host memory
 * (KeyID 0) at the TD VMCS's posted-interrupt descriptor address. */
void td_vapic_process_posted(struct td_guest *g);

/* The struct plat_guest_mem callbacks (ctx = the struct td_guest); see platform.h. */
int td_vapic_intr_pending(void *ctx);
void td_vapic_intr_ack(void *ctx, int vector);
bool td_vapic_msr(void *ctx, uint32_t msr, bool write, uint64_t *val);

#endif
