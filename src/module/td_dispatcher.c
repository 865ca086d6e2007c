/* The TDCALL dispatcher: every TDG leaf of the ABI (data/abi/tdcall-leaves.json) names its
 * handler here as TDG_HANDLER_<LEAF>; a leaf added to the data without an entry fails to
 * compile. NULL means "not served by this build": the guest gets TDX_OPERAND_INVALID + RAX. */
#include <assert.h>

#include "td_guest.h"

#define TDG_HANDLER_TDG_VP_VMCALL tdg_vp_vmcall
#define TDG_HANDLER_TDG_VP_INFO tdg_vp_info
#define TDG_HANDLER_TDG_MR_RTMR_EXTEND tdg_mr_rtmr_extend
#define TDG_HANDLER_TDG_VP_VEINFO_GET tdg_vp_veinfo_get
#define TDG_HANDLER_TDG_MR_REPORT tdg_mr_report
#define TDG_HANDLER_TDG_VP_CPUIDVE_SET tdg_vp_cpuidve_set
#define TDG_HANDLER_TDG_MEM_PAGE_ACCEPT tdg_mem_page_accept
#define TDG_HANDLER_TDG_VM_RD tdg_vm_rd
#define TDG_HANDLER_TDG_VM_WR tdg_vm_wr
#define TDG_HANDLER_TDG_VP_RD NULL
#define TDG_HANDLER_TDG_VP_WR NULL
#define TDG_HANDLER_TDG_SYS_RD tdg_sys_rd
#define TDG_HANDLER_TDG_SYS_RDALL tdg_sys_rdall
#define TDG_HANDLER_TDG_SERVTD_RD NULL
#define TDG_HANDLER_TDG_SERVTD_WR NULL
#define TDG_HANDLER_TDG_MR_VERIFYREPORT tdg_mr_verifyreport
#define TDG_HANDLER_TDG_MEM_PAGE_ATTR_RD NULL
#define TDG_HANDLER_TDG_MEM_PAGE_ATTR_WR NULL
#define TDG_HANDLER_TDG_VP_ENTER NULL
#define TDG_HANDLER_TDG_VP_INVEPT NULL
#define TDG_HANDLER_TDG_VP_INVVPID NULL

struct tdcall_entry {
	const char *name;
	tdcall_handler_t handler;
	uint8_t version_max;
	bool known;
};

#define TDCALL_ENTRY(cname, num, sname, vmax) [num] = { sname, TDG_HANDLER_##cname, vmax, true },
static const struct tdcall_entry tdcall_table[TDG_LEAF_MAX + 1] = { TDX_TDCALL_LEAVES(TDCALL_ENTRY) };

bool td_guest_leaf_implemented(unsigned leaf)
{
	return leaf <= TDG_LEAF_MAX && tdcall_table[leaf].handler != NULL;
}

void td_guest_tdcall(struct td_guest *g)
{
	uint64_t rax = g->regs->gpr[GPR_RAX];
	uint64_t leaf = rax & TDCALL_LEAF_MASK;
	const struct tdcall_entry *e = leaf <= TDG_LEAF_MAX ? &tdcall_table[leaf] : NULL;

	g->version = (unsigned)((rax & TDCALL_VERSION_MASK) >> TDCALL_VERSION_SHIFT);
	g->exit_to_vmm = false;
	g->ept_violation = false;
	g->tdcall_pending = false;
	if (!e || !e->handler || (rax & ~(TDCALL_LEAF_MASK | TDCALL_VERSION_MASK)) || g->version > e->version_max) {
		g->regs->gpr[GPR_RAX] = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX); /* as td_call() */
		return;
	}
	rax = td_guest_host_priority_status(g, e->handler(g));
	if (!g->exit_to_vmm && !g->ept_violation && !g->tdcall_pending)
		g->regs->gpr[GPR_RAX] = rax;
}

/* Leaves that read or write only the vCPU's registers and the module's own state: never guest
 * memory, never a TD exit, never an injected event or a pending (interrupted) TDCALL. */
static bool register_only_leaf(uint64_t leaf)
{
	switch (leaf) {
	case TDG_VP_INFO_LEAF:
	case TDG_VP_VEINFO_GET_LEAF:
	case TDG_VM_RD_LEAF:
	case TDG_SYS_RD_LEAF:
		return true;
	default:
		return false;
	}
}

/* The engine's fast path: one of the leaves above served without the engine leaving the
 * guest; the others take the TDCALL VM exit and run_guest_loop() serves them. */
bool td_guest_tdcall_fast(void *ctx, struct plat_guest_regs *regs)
{
	struct td_guest *g = ctx;
	struct plat_guest_regs *outer = g->regs;

	if (!register_only_leaf(regs->gpr[GPR_RAX] & TDCALL_LEAF_MASK))
		return false;
	g->regs = regs;
	td_guest_tdcall(g);
	g->regs = outer;
	assert(!g->exit_to_vmm && !g->ept_violation && !g->tdcall_pending);
	return true;
}
