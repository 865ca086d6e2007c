/* Simulated TDX-capable platform: physical memory with per-KeyID encryption and
 * integrity, logical processors grouped in packages, MSRs, native CPUID, and the
 * SEAMCALL instruction with its SEAMLDR.
 *
 * Everything above this layer (module, host) touches memory and CPUs only through
 * these accessors, the way real software only has loads, stores and instructions.
 */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi_cpuid.h"
#include "abi_structs.h"
#include "tdx_regs.h"

#define PLAT_PAGE_SIZE 4096ull
#define PLAT_PAGE_SHIFT 12
#define PLAT_MAX_E820 128
#define PLAT_MAX_LPS 1024
#define PLAT_MAX_MEMORY (64ull << 40) /* 64 TiB: far beyond the 4 TiB we promise */

enum plat_e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
	E820_NVS = 4,
};

struct plat_range {
	uint64_t base;
	uint64_t size;
};

struct plat_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct cpu_model;

/* How to build a host. plat_config_default() fills a 2-socket Sapphire Rapids box. */
struct plat_config {
	unsigned packages;
	unsigned lps_per_package;
	uint64_t ram_bytes; /* used by plat_config_default_e820() */
	struct plat_e820_entry e820[PLAT_MAX_E820];
	unsigned nr_e820;
	struct plat_range cmr[MAX_CMR]; /* Convertible Memory Ranges reported by MCHECK */
	unsigned nr_cmrs;                 /* 0: derive from e820 RAM (first 1 MiB excluded) */
	unsigned max_pa;                  /* physical address width incl. KeyID bits */
	unsigned total_keyids;            /* MKTME KeyIDs incl. KeyID 0; power of two */
	unsigned nr_tdx_keyids;           /* top of the KeyID space is TDX-private */
	const struct cpu_model *model;
	bool seamrr_enabled;              /* BIOS enabled SEAM range registers */
};

/* One CPUID leaf of a CPU model. */
struct cpu_model_leaf {
	uint32_t leaf, subleaf;
	bool subleaf_na;
	struct cpuid_regs regs;
};

struct cpu_model_msr {
	uint32_t index;
	uint64_t value;
};

struct cpu_model {
	const char *name;
	const char *description;
	unsigned max_pa, max_va;
	const struct cpu_model_leaf *leaves;
	unsigned nr_leaves;
	const struct cpu_model_msr *msrs;
	unsigned nr_msrs;
};

const struct cpu_model *plat_cpu_model_find(const char *name);
const struct cpu_model *plat_cpu_model_default(void);

void plat_config_default(struct plat_config *cfg);
/* Rebuild cfg->e820 for cfg->ram_bytes and cfg->packages (low RAM, a 2 GiB MMIO hole, high RAM). */
void plat_config_default_e820(struct plat_config *cfg);
/* Parse "ram@BASE+SIZE,reserved@BASE+SIZE,..." (sizes take K/M/G/T). 0 or -1 with *err set. */
int plat_config_parse_e820(struct plat_config *cfg, const char *spec, char *err, size_t errlen);
/* Parse sizes like "64G", "1T", "4096", "0x1000". Returns 0 on success. */
int plat_parse_size(const char *s, uint64_t *out);

struct plat;

/* NULL with err filled when the configuration is impossible. */
struct plat *plat_create(const struct plat_config *cfg, char *err, size_t errlen);
void plat_destroy(struct plat *p);
const struct plat_config *plat_config(const struct plat *p);

/* --- KeyIDs ------------------------------------------------------------ */
unsigned plat_keyid_bits(const struct plat *p);
unsigned plat_hkid_shift(const struct plat *p); /* lowest PA bit holding the KeyID */
uint64_t plat_pa_mask(const struct plat *p);    /* PA bits below the KeyID bits */
unsigned plat_tdx_keyid_first(const struct plat *p);
unsigned plat_tdx_keyid_count(const struct plat *p);
bool plat_keyid_is_private(const struct plat *p, unsigned keyid);
static inline unsigned plat_pa_keyid(const struct plat *p, uint64_t pa)
{
	return (unsigned)((pa >> plat_hkid_shift(p)) & ((1u << plat_keyid_bits(p)) - 1));
}
/* Program the ephemeral key of a KeyID on one package (PCONFIG). */
void plat_keyid_program(struct plat *p, unsigned pkg, unsigned keyid, const uint8_t key[32]);
bool plat_keyid_programmed(const struct plat *p, unsigned pkg, unsigned keyid);

/* --- Physical memory ----------------------------------------------------- */
enum plat_mem_status {
	PLAT_MEM_OK = 0,
	PLAT_MEM_UNBACKED = -1,     /* no DRAM at that address (abort page semantics) */
	PLAT_MEM_MCE = -2,          /* machine check: integrity failure / poisoned line */
	PLAT_MEM_PRIVATE_KEYID = -3, /* non-SEAM access with a TDX private KeyID: #GP-like */
	PLAT_MEM_NOT_CONVERTIBLE = -4 /* private KeyID on memory outside the CMRs */
};

/* Host (non-SEAM) accesses. The KeyID comes from the address bits, as on real hardware.
 * Reading a page owned by a TDX private KeyID yields its ciphertext; writing it poisons it. */
int plat_host_read(struct plat *p, uint64_t pa, void *buf, size_t len);
int plat_host_write(struct plat *p, uint64_t pa, const void *buf, size_t len);
int plat_host_read64(struct plat *p, uint64_t pa, uint64_t *val);

/* A locked 8-byte operation on shared memory (KeyID 0 or an MKTME KeyID), for structures the
 * CPU, the module and the host update concurrently (posted-interrupt descriptors): LOAD, LOCK
 * OR / LOCK AND with operand, XCHG with operand. *old gets the value before the operation. The
 * same rules as host access; in addition pa must be 8-byte aligned (PLAT_MEM_UNBACKED if not)
 * and a page a TDX private KeyID owns is refused (PLAT_MEM_PRIVATE_KEYID), nothing changed. */
enum plat_atomic_op { PLAT_ATOMIC_LOAD, PLAT_ATOMIC_OR, PLAT_ATOMIC_AND, PLAT_ATOMIC_XCHG };
int plat_shared_atomic64(struct plat *p, uint64_t pa, enum plat_atomic_op op, uint64_t operand, uint64_t *old);

/* SEAM accesses (the TDX module only). */
/* Shared (KeyID 0 or MKTME) access from SEAM mode: same rules as host access. */
int plat_seam_read_shared(struct plat *p, uint64_t pa, void *buf, size_t len);
int plat_seam_write_shared(struct plat *p, uint64_t pa, const void *buf, size_t len);
/* MOVDIR64B-style initialisation of whole pages with a KeyID: takes ownership, clears
 * poison, zero-fills. pa must be page aligned; n pages. A TDX private KeyID can only be
 * used on convertible memory (inside a CMR): PLAT_MEM_NOT_CONVERTIBLE otherwise. */
int plat_seam_init_pages(struct plat *p, uint64_t pa, uint64_t npages, unsigned keyid);
/* The same for one page, filled with the page at src_pa as a shared read returns it
 * (TDH.MEM.PAGE.ADD's copy). src_pa follows the shared-access rules (PLAT_MEM_PRIVATE_KEYID,
 * PLAT_MEM_UNBACKED); both addresses must be page aligned (PLAT_MEM_UNBACKED if not). The
 * two may be the same page. */
int plat_seam_init_page_from(struct plat *p, uint64_t pa, unsigned keyid, uint64_t src_pa);
/* Direct map of one private page for the module. Fails with PLAT_MEM_MCE when the page
 * is poisoned or was last written with another KeyID (integrity check). */
int plat_seam_map(struct plat *p, uint64_t pa, unsigned keyid, void **ptr);
/* Plaintext view for the module's own bookkeeping when it already owns the page. */
bool plat_pa_is_backed(const struct plat *p, uint64_t pa, uint64_t len);
/* Which KeyID last wrote the page and whether it is poisoned (for tests and tools). */
int plat_page_state(const struct plat *p, uint64_t pa, unsigned *keyid, bool *poisoned);
/* Bytes of simulated DRAM actually backed by host memory (sparse accounting). */
uint64_t plat_mem_touched_bytes(const struct plat *p);

/* --- Logical processors ---------------------------------------------------- */
unsigned plat_nr_lps(const struct plat *p);
unsigned plat_nr_packages(const struct plat *p);
unsigned plat_lp_package(const struct plat *p, unsigned lp);
/* The first LP of a package. */
unsigned plat_package_first_lp(const struct plat *p, unsigned pkg);
void plat_lp_set_vmx(struct plat *p, unsigned lp, bool on);
bool plat_lp_vmx(const struct plat *p, unsigned lp);
/* Native CPUID as seen on that LP (the model, plus per-LP topology, plus test overrides). */
void plat_cpuid(const struct plat *p, unsigned lp, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);
/* Tests and fault injection: make one LP report a different CPUID leaf. */
void plat_cpuid_override(struct plat *p, unsigned lp, uint32_t leaf, uint32_t subleaf, const struct cpuid_regs *r);
int plat_rdmsr(const struct plat *p, unsigned lp, uint32_t msr, uint64_t *val);
void plat_wrmsr(struct plat *p, unsigned lp, uint32_t msr, uint64_t val);

/* Non-MSR architectural registers of an LP that TD entry and exit touch. */
enum plat_lp_reg {
	PLAT_REG_CR2,
	PLAT_REG_DR0,
	PLAT_REG_DR1,
	PLAT_REG_DR2,
	PLAT_REG_DR3,
	PLAT_REG_DR6,
	PLAT_REG_DR7,
	PLAT_REG_XCR0,
	PLAT_LP_NR_REGS
};
uint64_t plat_lp_reg_read(const struct plat *p, unsigned lp, enum plat_lp_reg r);
void plat_lp_reg_write(struct plat *p, unsigned lp, enum plat_lp_reg r, uint64_t val);
/* An MSR (is_msr) or a register of enum plat_lp_reg, as tables of both kinds name them; an
 * MSR the LP never held reads as 0 (its reset value) instead of faulting. */
uint64_t plat_lp_state_read(const struct plat *p, unsigned lp, bool is_msr, uint32_t index);
void plat_lp_state_write(struct plat *p, unsigned lp, bool is_msr, uint32_t index, uint64_t val);

#define MSR_IA32_MKTME_KEYID_PARTITIONING 0x87u
#define MSR_IA32_SEAMRR_PHYS_BASE 0x1400u
#define MSR_IA32_SEAMRR_PHYS_MASK 0x1401u
#define MSR_IA32_TSC_ADJUST 0x3bu
#define MSR_IA32_MISC_ENABLE 0x1a0u
#define MSR_IA32_ARCH_CAPABILITIES 0x10au
#define MSR_IA32_TME_ACTIVATE 0x982u
#define MSR_IA32_XSS 0xda0u

/* --- Guest execution ---------------------------------------------------------
 * A TD vCPU runs on an LP in SEAM VMX non-root mode between TDH.VP.ENTER and the next VM
 * exit. The CPU core that executes its instructions is pluggable: QEMU's TCG in TD mode,
 * or a script in tests. It sees the guest GPRs (SDM order RAX, RCX, RDX, RBX, RSP, RBP,
 * RSI, RDI, R8-R15), RIP and RFLAGS, may read and write the LP's MSRs and registers as
 * guest WRMSR/MOV DR/XSETBV would, and reports the VM exit that ends the run. */
/* A segment register as the VMCS guest-state area holds it (access rights in the VMCS
 * format: type, S, DPL, P, AVL, L, D/B, G, unusable at bit 16). */
struct plat_guest_seg {
	uint64_t selector, base, limit, ar;
};
enum plat_guest_seg_id {
	PLAT_SEG_ES,
	PLAT_SEG_CS,
	PLAT_SEG_SS,
	PLAT_SEG_DS,
	PLAT_SEG_FS,
	PLAT_SEG_GS,
	PLAT_SEG_LDTR,
	PLAT_SEG_TR,
	PLAT_NR_SEGS
};
/* The rest of the guest-state area a CPU core needs to run the vCPU on: control registers,
 * EFER, PAT, DR7, segments and descriptor tables. The module keeps it in the TD VMCS and
 * loads/saves it around every run, as VM entry and VM exit do. */
struct plat_guest_sys {
	uint64_t cr0, cr3, cr4, efer, pat; /* DR7 travels in the LP's register (td-exit table) */
	struct plat_guest_seg seg[PLAT_NR_SEGS];
	uint64_t gdtr_base, gdtr_limit, idtr_base, idtr_limit;
};
struct plat_guest_regs {
	uint64_t gpr[16];
	uint64_t rip, rflags;
	/* An event to deliver through the guest IDT on resuming (the module's #VE, #GP...):
	 * VM-entry interruption-information format (bit 31 valid, 10:8 type, 7:0 vector, bit 11
	 * error code valid). The engine clears it once delivered. */
	uint32_t event_inject;
	uint32_t event_error_code;
	struct plat_guest_sys sys;
};
struct plat_guest_exit {
	uint32_t reason;      /* basic VM-exit reason (bits 15:0) plus flags */
	uint32_t instr_len;   /* VM-exit instruction length (TDCALL: 4) */
	uint64_t qualification, gpa, intr_info;
};
/* Guest-physical memory as the module's Secure EPT defines it, for the engine's memory
 * accesses to private GPAs (shared GPAs, GPA bit shared_bit set, are the VMM's memory and
 * never come here). translate() walks the Secure EPT for the 4 KiB page of gpa and the
 * access (PLAT_GUEST_ACC_* bits): true with *hpa (KeyID bits included) when the page is
 * mapped and allows the access; false for an EPT violation, with *leaf_rwx the R/W/X bits
 * (bits 2:0) of the leaf entry found, 0 when none. The host pointer behind an HPA comes
 * from plat_guest_dram().
 * A page the access may use but whose memory fails its integrity check (poisoned, e.g. by a
 * host write with another KeyID, or last written with a KeyID that is not the TD's) is a
 * machine check, not an EPT violation: false with PLAT_GUEST_MCE set in *leaf_rwx (above
 * the leaf's R/W/X, which stay valid). The engine does not perform the access and reports
 * td_launch_exit_machine_check() (the VM exit of a #MC in the TD). Integrity is checked when
 * translate() is called: an engine that caches translations sees a page poisoned later at
 * its next translate() of that page. */
#define PLAT_GUEST_ACC_READ 0x1u
#define PLAT_GUEST_ACC_WRITE 0x2u
#define PLAT_GUEST_ACC_FETCH 0x4u
/*
 * Virtual-interrupt delivery (the TD's virtual APIC, SDM "APIC Virtualization and Virtual
 * Interrupts"): the module keeps the vCPU's virtual-APIC page (IRR, ISR, TMR, TPR, PPR) and
 * RVI/SVI; the engine asks it what to deliver and reports deliveries. All three take ctx.
 *   intr_pending(): first does posted-interrupt processing if the vCPU's posted-interrupt
 *     descriptor has ON set (ON cleared, PIR taken atomically and ORed into IRR, RVI updated);
 *     then returns the vector the CPU would deliver now if RFLAGS.IF and the interruptibility
 *     state allowed it (RVI when RVI[7:4] > PPR[7:4]), or -1. The engine calls it at
 *     instruction boundaries where it could take an interrupt, and after a kick.
 *   intr_ack(vector): the engine delivered that vector through the guest IDT (virtual-interrupt
 *     delivery): IRR -> ISR, SVI = vector, PPR = vector & F0H, RVI = highest IRR left. A vector
 *     whose IRR bit is clear is ignored.
 *   apic_msr(msr, write, val): RDMSR (*val out) / WRMSR (*val in) of the x2APIC MSRs the CPU
 *     virtualizes without a VM exit: TPR 808H (read/write), PPR 80AH, ISR 810H-817H,
 *     TMR 818H-81FH, IRR 820H-827H (read), EOI 80BH and SELF_IPI 83FH (write). true: handled;
 *     false: any other MSR or access (writes of the read-only ones included): the engine goes
 *     on as msr_bitmap says for it. When the access must raise #GP(0)
 *     instead (reserved bits set in a TPR/EOI/SELF_IPI write, a read of EOI or SELF_IPI), it
 *     returns true with *val = PLAT_APIC_MSR_GP; no architectural read or accepted write gives
 *     that value. EOI clears the highest ISR bit; SELF_IPI sets the vector's IRR bit.
 */
#define PLAT_APIC_MSR_GP UINT64_MAX
#define PLAT_GUEST_MCE (UINT64_C(1) << 63)
struct plat_guest_mem {
	bool (*translate)(void *ctx, uint64_t gpa, unsigned access, uint64_t *hpa, uint64_t *leaf_rwx);
	int (*intr_pending)(void *ctx);
	void (*intr_ack)(void *ctx, int vector);
	bool (*apic_msr)(void *ctx, uint32_t msr, bool write, uint64_t *val);
	/* Optional fast path for a TDCALL the engine decoded (64-bit, CPL 0): regs holds the
	 * guest's GPRs (rip/rflags/sys unused). true: the module served it in place (regs updated,
	 * the guest goes on after the TDCALL, no VM exit); false: take the TDCALL VM exit as
	 * usual. Same result either way, only faster for leaves that touch nothing but registers. */
	bool (*tdcall_fast)(void *ctx, struct plat_guest_regs *regs);
	/* The TD's VMX MSR bitmap (4 KiB, Intel SDM layout: read bits of MSRs 0-1FFFH at byte 0,
	 * of C0000000H-C0001FFFH at byte 1024, write bits at bytes 2048 and 3072; bit n of byte
	 * k is MSR 8k + n of its range). Bit set = the access is a VM exit (RDMSR 31 / WRMSR 32,
	 * the module then injects #VE or #GP or emulates it); bit clear = the engine executes the
	 * RDMSR/WRMSR natively on the LP. MSRs outside both ranges always exit. Consulted after
	 * apic_msr() for the x2APIC MSRs. Built by TDH.MNG.INIT; valid for the call. */
	const uint8_t *msr_bitmap;
	void *ctx;
	uint64_t shared_bit; /* GPA bit GPAW-1 */
	unsigned keyid;      /* the TD's private KeyID */
	/* The TD's TLB epoch advanced (TDH.MEM.TRACK) since this vCPU last entered: the engine
	 * drops every cached translation before running, as the module's INVEPT at TD entry. */
	bool flush_tlb;
};
struct plat_guest_engine {
	/* vcpu_tag identifies the vCPU (the module passes its TDVPR address); mem is valid for
	 * the duration of the call. */
	void (*run)(void *ctx, struct plat *p, unsigned lp, uint64_t vcpu_tag, struct plat_guest_regs *regs,
		    const struct plat_guest_mem *mem, struct plat_guest_exit *exit);
};
void plat_set_guest_engine(struct plat *p, const struct plat_guest_engine *e, void *ctx);
bool plat_has_guest_engine(const struct plat *p);
const struct plat_guest_engine *plat_get_guest_engine(const struct plat *p);
/* SEAM only (TDH.VP.ENTER): run the guest until its next VM exit. -1: no engine installed. */
int plat_seam_guest_run(struct plat *p, unsigned lp, uint64_t vcpu_tag, struct plat_guest_regs *regs,
			const struct plat_guest_mem *mem, struct plat_guest_exit *exit);
/* The guest engine's view of DRAM: the host pointer of physical address pa (KeyID bits
 * ignored) and in *len how many bytes from there are contiguous behind it (to the end of
 * the e820 RAM entry or of the platform's backing chunk). The engine maps these ranges once
 * and accesses only HPAs translate() gave it, so the KeyID and integrity of the page are
 * the TD's (the Secure EPT maps only pages the module initialised with the TD's KeyID).
 * PLAT_MEM_UNBACKED outside RAM, or when the host is out of memory. */
int plat_guest_dram(struct plat *p, uint64_t pa, void **ptr, uint64_t *len);

/* --- MCHECK / SEAMLDR system information table --------------------------- */
struct plat_sysinfo {
	unsigned num_lps, num_pkgs;
	uint32_t pkg_fms[MAX_PKGS];           /* CPUID(1).EAX of each package */
	struct plat_range cmr[MAX_CMR];       /* null entries have size 0 */
	uint64_t seamrr_base, seamrr_size;
	unsigned num_handoff_pages;
};
void plat_sysinfo_get(const struct plat *p, struct plat_sysinfo *si);

/* --- SEAMCALL and the SEAM loader ------------------------------------------ */
/* The TDX module as the SEAMLDR sees it: an entry point and an instance. */
struct seam_module_ops {
	uint64_t (*seamcall)(void *module, unsigned lp, struct tdx_regs *regs);
	void (*unload)(void *module);
};

struct seamldr_module_info {
	uint32_t major, minor, update;
	uint64_t features0;
	const char *profile;
};

/* Install a module image in SEAM range memory (done by firmware / SEAMLDR.INSTALL). */
int plat_seamldr_install(struct plat *p, const struct seam_module_ops *ops, void *module,
			 const struct seamldr_module_info *info);
bool plat_seamldr_module_loaded(const struct plat *p);
/* The installed module instance (for the module's own debug facilities). */
void *plat_seamldr_module(const struct plat *p);

/* A machine check taken in SEAM mode on memory the module owns (poisoned or tampered
 * metadata). The platform records it and disables SEAM until reset: every later SEAMCALL
 * fails with VMfailInvalid, as when no module is loaded. */
void plat_seam_machine_check(struct plat *p, uint64_t pa);
/* Number of machine checks recorded and the address of the last one. */
unsigned plat_mce_count(const struct plat *p, uint64_t *last_pa);

/* P-SEAMLDR leaves: SEAMCALL with RAX bit 63 set. */
#define SEAMLDR_INFO_LEAF UINT64_C(0x8000000000000000)
#define SEAMLDR_EBADPARAM UINT64_C(0x8000000000000000)
#define SEAMLDR_EBADCALL UINT64_C(0x8000000000000003)
#define SEAMLDR_EUNSUPPORTED UINT64_C(0x8000000000000006)
#define SEAMLDR_INFO_ALIGN 256

/* SEAMLDR.INFO output (256 bytes, 256-byte aligned). */
struct seamldr_info {
	uint32_t version;
	uint32_t attributes;
	uint32_t vendor_id;
	uint32_t build_date;
	uint16_t build_num;
	uint16_t minor_version;
	uint16_t major_version;
	uint16_t update_version;
	uint32_t acm_x2apicid;
	uint32_t num_remaining_updates;
	uint8_t seam_info[128];
	uint8_t seam_ready;
	uint8_t seam_debug;
	uint8_t p_seam_ready;
	uint8_t reserved[93];
} __attribute__((packed));
_Static_assert(sizeof(struct seamldr_info) == 256, "SEAMLDR_INFO is 256 bytes");

/* Execute SEAMCALL on logical processor lp with the given registers. Returns RAX.
 * Faults are reported like Linux's seamcall wrappers do (TDX_SEAMCALL_UD/GP/VMFAILINVALID). */
uint64_t plat_seamcall(struct plat *p, unsigned lp, struct tdx_regs *regs);

/* --- Report MAC (simulated SEAMOPS SEAMREPORT / SEAMVERIFYREPORT key) ---------
 * Real CPUs MAC a REPORTMACSTRUCT with a key derived inside the CPU that software never sees.
 * The simulated platform uses HMAC-SHA-256 under a per-platform random key drawn on first use
 * and never exported, so a report verifies on the platform that made it and nowhere else.
 * Writes PLAT_REPORT_MAC_SIZE bytes to mac; false only if no random key could be drawn. */
#define PLAT_REPORT_KEY_SIZE 32u
#define PLAT_REPORT_MAC_SIZE 32u /* HMAC-SHA-256 output */
bool plat_report_mac(struct plat *p, const void *data, size_t len, uint8_t mac[PLAT_REPORT_MAC_SIZE]);

#endif
