/* The guest side of the module: a TD vCPU that executed TDCALL inside TDH.VP.ENTER. The
 * TDG.* leaf handlers (one file each, tdg_*.c) see the running vCPU through struct td_guest,
 * read their operands from and write their outputs to the guest GPRs, and return the
 * completion status that goes to the guest's RAX. The TDR and TDVPR are held shared by
 * TDH.VP.ENTER for the whole run, as in the real module. */
#ifndef MODULE_TD_GUEST_H
#define MODULE_TD_GUEST_H

#include "tdvps.h"

#define GPR_RAX 0
#define GPR_RCX 1
#define GPR_RDX 2
#define GPR_RBX 3
#define GPR_RSP 4
#define GPR_RBP 5
#define GPR_RSI 6
#define GPR_RDI 7
#define GPR_R8 8
#define GPR_R9 9
#define GPR_R10 10
#define GPR_R11 11
#define GPR_R12 12
#define GPR_R13 13
#define GPR_R14 14
#define GPR_R15 15

/* RAX of TDCALL: leaf number and version (tdx_leaf_and_version_t in structures.json). */
#define TDCALL_LEAF_MASK UINT64_C(0xFFFF)
#define TDCALL_VERSION_SHIFT 16
#define TDCALL_VERSION_MASK (UINT64_C(0xFF) << TDCALL_VERSION_SHIFT)

struct td_guest {
	struct tdx_module *m;
	unsigned lp;
	uint64_t tdvpr_pa;
	struct tdr *tdr;
	struct tdcs *tdcs;
	struct tdvps *vp;
	struct tdvps_pages pg;
	const uint8_t *msr_bitmap;    /* the TD's VMX MSR bitmap (TDCS page MSR_BITMAPS) */
	struct plat_guest_regs *regs; /* the guest's GPRs: operands in, outputs out */
	struct tdx_regs *vmm;         /* TDH.VP.ENTER's registers (the VMM's view) */
	unsigned version;             /* the leaf version the guest asked for */
	bool exit_to_vmm;             /* set by TDG.VP.VMCALL: a TD exit follows */
	/* Set (td_guest_ept_violation_exit) when the TDCALL does not complete and becomes an
	 * EPT-violation TD exit: GPA (bits 11:0 clear), exit qualification, and the extended exit
	 * qualification the VMM gets in RDX. */
	bool ept_violation;
	uint64_t ept_violation_gpa;
	uint64_t ept_violation_qual;
	uint64_t ept_violation_eeq;
	/* The TDCALL does not complete and the guest runs on (an event was injected, or an
	 * interruptible leaf saw a pending interrupt): RAX is not written and RIP stays on the
	 * TDCALL, which the guest executes again. */
	bool tdcall_pending;
};

typedef uint64_t (*tdcall_handler_t)(struct td_guest *g);

/* CONFIG_FLAGS.NO_RBP_MOD: RBP is neither cleared nor passed on a TD exit. */
static inline bool td_guest_no_rbp_mod(const struct td_guest *g)
{
	return (g->tdcs->config_flags & CONFIG_FLAGS_NO_RBP_MOD_MASK) != 0;
}

/* Serve the TDCALL in g->regs: the status lands in the guest's RAX unless the leaf exits to
 * the VMM (g->exit_to_vmm). Unknown leaves, unsupported versions and reserved bits of RAX
 * give TDX_OPERAND_INVALID + RAX, as for a leaf the real module does not know. */
void td_guest_tdcall(struct td_guest *g);
/* plat_guest_mem.tdcall_fast (ctx: the struct td_guest of the running vCPU). */
bool td_guest_tdcall_fast(void *ctx, struct plat_guest_regs *regs);
/* Is `leaf` served by this module build (for tests and `module info`)? */
bool td_guest_leaf_implemented(unsigned leaf);

/* Map the private guest page holding [gpa, gpa + len) (len <= 4 KiB, within one page) for a
 * leaf's memory operand the leaf writes: a shared GPA (GPAW-1 set) or one outside the TD's GPA
 * width gives TDX_OPERAND_INVALID + operand; a GPA the Secure EPT does not map as a present
 * private page returns TDX_EPT_WALK_FAILED after arranging what the real module does
 * (check_walk_and_map_guest_side_gpa): a PENDING page gets a #VE in the guest
 * (td_guest_inject_ve, g->tdcall_pending) unless the TD has PENDING_VE_DISABLE, where it is an
 * EPT-violation TD exit with EEQ type PENDING_EPT_VIOLATION; anything else (free, blocked,
 * missing SEPT page) is an EPT-violation TD exit (g->ept_violation). The leaf just returns the
 * status; the dispatcher does not write it to RAX. */
uint64_t td_guest_map_gpa(struct td_guest *g, uint64_t gpa, uint64_t len, uint32_t operand, void **ptr);
/* The same for an operand the leaf only reads (the exit qualification reports a read). */
uint64_t td_guest_map_gpa_ro(struct td_guest *g, uint64_t gpa, uint64_t len, uint32_t operand, void **ptr);

/* tdx_inject_ve(): with VE_INFO not valid, fill the TDVPS VE_INFO (exit reason, qualification,
 * GLA, GPA; EPTP index, instruction length and information 0) and inject #VE (vector 20,
 * hardware exception); with VE_INFO still valid (the guest has not run TDG.VP.VEINFO.GET),
 * inject #DF(0) instead. RFLAGS.RF is set either way, and the current TDCALL (if any) does not
 * complete (g->tdcall_pending). Returns TDX_SUCCESS. */
uint64_t td_guest_inject_ve(struct td_guest *g, uint32_t exit_reason, uint64_t qualification, uint64_t gla,
			    uint64_t gpa);
/* An EPT-violation TD exit instead of completing the TDCALL (tdx_ept_violation_exit_to_vmm):
 * GPA bits 11:0 and qualification bits 12:7 are cleared, eeq goes to the VMM's RDX. */
void td_guest_ept_violation_exit(struct td_guest *g, uint64_t gpa, uint64_t qualification, uint64_t eeq);
/* A guest access to private memory caused an EPT-violation VM exit (td_ept_violation_exit):
 * true when it was turned into a #VE (a PENDING page, PENDING_VE_DISABLE clear; the guest runs
 * on), false when it must be a TD exit, whose details are then in g->ept_violation_*. */
bool td_guest_vm_exit_ept_violation(struct td_guest *g, uint64_t qualification, uint64_t gla, uint64_t gpa);
/* The TDCALL dispatcher's host-priority rule: a leaf's TDX_OPERAND_BUSY_HOST_PRIORITY reaches
 * the guest as TDX_OPERAND_BUSY with the same operand id; other statuses unchanged. */
uint64_t td_guest_host_priority_status(struct td_guest *g, uint64_t status);
/* td_guest_map_gpa's walk failure: EPT-violation TD exit or #VE for gpa, given the access
 * attempted and the R/W/X bits of the leaf the walk found (0 when none); TDX_EPT_WALK_FAILED. */
uint64_t td_guest_operand_walk_failed(struct td_guest *g, uint64_t gpa, bool write, uint64_t leaf_rwx);

/* The guest engine's Secure EPT translation (struct plat_guest_mem, ctx = the td_guest). */
bool td_guest_translate(void *ctx, uint64_t gpa, unsigned access, uint64_t *hpa, uint64_t *leaf_rwx);
/* GPA bit GPAW-1: set in shared GPAs. */
uint64_t td_guest_shared_bit(const struct tdcs *tdcs);
/* An instruction VM exit the module handles in the guest (td_guest_exits.c): CPUID answered
 * from the TD's CPUID values, or a #VE (VE_INFO with the exit's reason, qualification and
 * instruction length). false: not such an exit, it becomes a TD exit. */
bool td_guest_vm_exit_instruction(struct td_guest *g, const struct plat_guest_exit *ex);
void td_guest_inject_ve_instr(struct td_guest *g, const struct plat_guest_exit *ex);
/* inject_gp(0): #GP with error code 0 (hardware exception 13) and RFLAGS.RF set; RIP stays
 * on the faulting instruction. */
void td_guest_inject_gp(struct td_guest *g);
/* A RDMSR (write false) or WRMSR VM exit (td_guest_msr.c): emulated, or a #VE or #GP(0) in
 * the guest, per the TD's MSR table. */
void td_guest_msr_exit(struct td_guest *g, const struct plat_guest_exit *ex, bool write);

uint64_t tdg_vp_vmcall(struct td_guest *g);
uint64_t tdg_mr_rtmr_extend(struct td_guest *g);
uint64_t tdg_mr_report(struct td_guest *g);
uint64_t tdg_mr_verifyreport(struct td_guest *g);
uint64_t tdg_mem_page_accept(struct td_guest *g);

/* The VE_INFO block of a vCPU (TDVPS page 0, VE_INFO layout of structures.json): what the
 * module leaves for the guest's #VE handler; TDG.VP.VEINFO.GET reads and releases it. */
struct td_ve_info {
	uint32_t exit_reason;
	uint32_t valid; /* VE_INFO_VALID or 0 */
	uint64_t exit_qualification;
	uint64_t gla;
	uint64_t gpa;
	uint16_t eptp_index;
	uint32_t instr_len;
	uint32_t instr_info;
};
void td_ve_info_get(const struct tdvps_pages *pg, struct td_ve_info *vi);
void td_ve_info_put(const struct tdvps_pages *pg, const struct td_ve_info *vi);

uint64_t tdg_vp_info(struct td_guest *g);
uint64_t tdg_vp_veinfo_get(struct td_guest *g);
uint64_t tdg_vp_cpuidve_set(struct td_guest *g);
uint64_t tdg_vm_rd(struct td_guest *g);
uint64_t tdg_vm_wr(struct td_guest *g);
uint64_t tdg_sys_rd(struct td_guest *g);
uint64_t tdg_sys_rdall(struct td_guest *g);

#endif
