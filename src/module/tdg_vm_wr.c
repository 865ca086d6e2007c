/* TDG.VM.WR (leaf 8, version 0): the TD writes one element of its own TD-scope metadata
 * under the guest write masks (R8 = value, R9 = write mask); R8 returns the previous value.
 * In 1.5.01 the TD may write TD_CTLS.PENDING_VE_DISABLE (only if the host set
 * CONFIG_FLAGS.FLEXIBLE_PENDING_VE) and NOTIFY_ENABLES bit 0, which this module does not
 * keep (refused as not writable, see metadata_td.c). RCX is the VM index, 0 only. */
#include "metadata_td.h"
#include "td_guest.h"

uint64_t tdg_vm_wr(struct td_guest *g)
{
	uint64_t *gpr = g->regs->gpr;
	uint64_t vm_id = gpr[GPR_RCX], field_id = gpr[GPR_RDX], value = gpr[GPR_R8], wr_request = gpr[GPR_R9];
	uint64_t old = 0, ret;
	struct md_td t = { .m = g->m, .lp = g->lp, .tdr = g->tdr, .tdcs = g->tdcs, .guest = true };

	gpr[GPR_R8] = 0;
	if (vm_id > TDG_VM_RD_WR_VM_ID_MAX)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	/* The element is written, or nothing is: md_td_write checks everything before storing. */
	ret = md_td_write(&t, field_id, value, wr_request, &old);
	if (!ret)
		gpr[GPR_R8] = old;
	return ret;
}
