/* The 64-bit start of every vCPU, and q35 power-off. */
#include "td.h"

/* q35 (QEMU hw/isa/lpc_ich9.c, include/hw/southbridge/ich9.h; ICH9 datasheet): the LPC
 * bridge at 00:1f.0 holds the ACPI PM I/O base (PMBASE, config 0x40) and the ACPI enable
 * bit (ACPI_CNTL, config 0x44, bit 7). PM1a_CNT is PMBASE + 4; SLP_EN is bit 13 and
 * SLP_TYP bits 12:10, where QEMU's DSDT gives S5 the type 0 (hw/acpi/core.c powers off). */
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_CONFIG_ENABLE 0x80000000u
#define ICH9_LPC_DEVFN ((31u << 3) | 0)
#define ICH9_LPC_PMBASE 0x40
#define ICH9_LPC_ACPI_CNTL 0x44
#define ICH9_LPC_ACPI_CNTL_ACPI_EN 0x80
#define TD_PMBASE 0x600 /* where OVMF and SeaBIOS put it on q35 */
#define PM1_CNT_OFF 4
#define PM1_CNT_SLP_EN (1u << 13)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define QEMU_S5_SLP_TYP 0
#define FATAL_POWEROFF 0xE2000000u

static uint64_t pci_write(unsigned devfn, unsigned reg, unsigned size, uint32_t v)
{
	uint64_t st = td_io_out(PCI_CONFIG_ADDRESS, 4, PCI_CONFIG_ENABLE | devfn << 8 | (reg & 0xFC));

	return st ? st : td_io_out((uint16_t)(PCI_CONFIG_DATA + (reg & 3)), size, v);
}

TD_NORETURN void td_poweroff_q35(void)
{
	uint64_t st = pci_write(ICH9_LPC_DEVFN, ICH9_LPC_PMBASE, 4, TD_PMBASE);

	if (!st)
		st = pci_write(ICH9_LPC_DEVFN, ICH9_LPC_ACPI_CNTL, 1, ICH9_LPC_ACPI_CNTL_ACPI_EN);
	if (!st)
		st = td_io_out(TD_PMBASE + PM1_CNT_OFF, 2, PM1_CNT_SLP_EN | QEMU_S5_SLP_TYP << PM1_CNT_SLP_TYP_SHIFT);
	if (st)
		td_fatal(FATAL_POWEROFF, "ACPI S5 could not be requested (TDVMCALL status %#lx)", st);
	/* QEMU powers off from its main loop, a moment after the write: wait for it halted (with
	 * interrupts blocked only its pause of the vCPUs wakes this), as firmware dead-loops */
	for (;;)
		td_hlt(true);
}

void td_start(uint32_t vcpu, uint64_t hob, uint32_t gpaw);
TD_NORETURN void td_start(uint32_t vcpu, uint64_t hob, uint32_t gpaw)
{
	struct td_boot b = { vcpu, gpaw, hob };

	td_main(&b);
}
