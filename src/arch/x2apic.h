/* The local APIC in x2APIC mode and the posted-interrupt descriptor as the Intel SDM defines
 * them (vol. 3, "Advanced Programmable Interrupt Controller", "APIC Virtualization and Virtual
 * Interrupts", "Posted-Interrupt Processing"): what both the module's virtual APIC and KVM's
 * emulated x2APIC speak. */
#ifndef X2APIC_H
#define X2APIC_H

#include <stdint.h>

/* Register offsets in the APIC page (the virtual-APIC page has the same layout). */
#define APIC_REG_ID 0x20u
#define APIC_REG_VERSION 0x30u
#define APIC_REG_TPR 0x80u
#define APIC_REG_PPR 0xA0u
#define APIC_REG_EOI 0xB0u
#define APIC_REG_LDR 0xD0u
#define APIC_REG_SVR 0xF0u
#define APIC_REG_ISR 0x100u /* 8 x 32 bits, 16 bytes apart */
#define APIC_REG_TMR 0x180u
#define APIC_REG_IRR 0x200u
#define APIC_REG_ESR 0x280u
#define APIC_REG_LVT_CMCI 0x2F0u
#define APIC_REG_ICR 0x300u
#define APIC_REG_LVT_TIMER 0x320u
#define APIC_REG_LVT_THERMAL 0x330u
#define APIC_REG_LVT_PERF 0x340u
#define APIC_REG_LVT_LINT0 0x350u
#define APIC_REG_LVT_LINT1 0x360u
#define APIC_REG_LVT_ERROR 0x370u
#define APIC_REG_TMICT 0x380u
#define APIC_REG_TMCCT 0x390u
#define APIC_REG_TDCR 0x3E0u
#define APIC_REG_SELF_IPI 0x3F0u

/* x2APIC MSR n addresses the register at offset (n - 800H) << 4. */
#define X2APIC_MSR_BASE 0x800u
#define X2APIC_MSR_LAST 0x8FFu
#define X2APIC_MSR(reg) (X2APIC_MSR_BASE + ((reg) >> 4))
#define X2APIC_REG(msr) (((msr) - X2APIC_MSR_BASE) << 4)

#define MSR_IA32_APIC_BASE 0x1Bu
#define MSR_IA32_TSC_DEADLINE 0x6E0u
#define APIC_BASE_BSP (UINT64_C(1) << 8)
#define APIC_BASE_EXTD (UINT64_C(1) << 10)
#define APIC_BASE_EN (UINT64_C(1) << 11)
#define APIC_DEFAULT_PHYS_BASE UINT64_C(0xFEE00000)

#define APIC_VECTOR_MASK 0xFFu
#define APIC_PRIO_CLASS(v) ((v) & 0xF0u)
#define APIC_SVR_ENABLE (1u << 8)
#define APIC_SVR_FOCUS_DISABLE (1u << 9)
#define APIC_SVR_EOI_SUPPRESS (1u << 12)

/* LVT entries */
#define APIC_LVT_DELIVERY_MODE (7u << 8)
#define APIC_LVT_SEND_PENDING (1u << 12)
#define APIC_LVT_POLARITY (1u << 13)
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_LVT_LEVEL (1u << 15)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_TIMER_MODE_SHIFT 17
#define APIC_LVT_TIMER_MODE (3u << APIC_LVT_TIMER_MODE_SHIFT)
#define APIC_TIMER_ONESHOT 0u
#define APIC_TIMER_PERIODIC 1u
#define APIC_TIMER_TSC_DEADLINE 2u
#define APIC_TDCR_MASK 0xBu /* divide value bits 0, 1 and 3 */

/* ICR (one 64-bit register in x2APIC mode) */
#define APIC_ICR_DELIVERY_MODE_SHIFT 8
#define APIC_ICR_DELIVERY_MODE (7u << APIC_ICR_DELIVERY_MODE_SHIFT)
#define APIC_DM_FIXED 0u
#define APIC_DM_LOWEST 1u
#define APIC_ICR_LOGICAL (1u << 11)
#define APIC_ICR_SHORTHAND_SHIFT 18
#define APIC_ICR_SHORTHAND (3u << APIC_ICR_SHORTHAND_SHIFT)
#define APIC_DEST_NONE 0u
#define APIC_DEST_SELF 1u
#define APIC_DEST_ALL 2u
#define APIC_DEST_ALL_BUT_SELF 3u
#define X2APIC_ICR_DEST_SHIFT 32
#define X2APIC_BROADCAST 0xFFFFFFFFu

/* ESR bits */
#define APIC_ESR_SEND_ILLEGAL_VECTOR (1u << 5)

/* Posted-interrupt descriptor: 64 bytes, PIR in bits 255:0, ON bit 256, SN bit 257, NV in
 * bits 279:272 (byte 34), NDST in bits 319:288; the last four fields share the 64-bit word at
 * byte 32. */
#define PID_SIZE 64u
#define PID_PIR_WORDS 4u
#define PID_CTRL_OFFSET 32u /* the 64-bit word holding ON, SN, NV and NDST */
#define PID_ON (UINT64_C(1) << 0)
#define PID_SN (UINT64_C(1) << 1)
#define PID_NV_SHIFT 16
#define PID_NDST_SHIFT 32

#endif
