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
	struct plat_guest_regs *regs; /* the guest's GPRs: operands in, outputs out */
	struct tdx_regs *vmm;         /* TDH.VP.ENTER's registers (the VMM's view) */
	unsigned version;             /* the leaf version the guest asked for */
	bool exit_to_vmm;             /* set by TDG.VP.VMCALL: a TD exit follows */
	/* Set by td_guest_map_gpa() when a leaf's memory operand is not a mapped private page:
	 * the TDCALL does not complete; the dispatcher turns it into an EPT-violation TD exit. */
	bool ept_violation;
	uint64_t ept_violation_gpa;
};

typedef uint64_t (*tdcall_handler_t)(struct td_guest *g);

/* Serve the TDCALL in g->regs: the status lands in the guest's RAX unless the leaf exits to
 * the VMM (g->exit_to_vmm). Unknown leaves, unsupported versions and reserved bits of RAX
 * give TDX_OPERAND_INVALID, as for a leaf the real module does not know. */
void td_guest_tdcall(struct td_guest *g);
/* Is `leaf` served by this module build (for tests and `module info`)? */
bool td_guest_leaf_implemented(unsigned leaf);

/* Map the private guest page holding [gpa, gpa + len) (len <= 4 KiB, within one page) for a
 * leaf's memory operand: a shared GPA (GPAW-1 set) or one outside the TD's GPA width gives
 * TDX_OPERAND_INVALID + operand; a GPA the Secure EPT does not map as a present private page
 * (not MAPPED: free, pending, blocked) sets g->ept_violation and returns TDX_EPT_WALK_FAILED,
 * which the dispatcher turns into the EPT-violation TD exit the real module emulates. */
uint64_t td_guest_map_gpa(struct td_guest *g, uint64_t gpa, uint64_t len, uint32_t operand, void **ptr);

uint64_t tdg_vp_vmcall(struct td_guest *g);

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
