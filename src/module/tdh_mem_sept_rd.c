/* TDH.MEM.SEPT.RD (leaf 25): report the Secure EPT entry that maps a GPA at a level, in its
 * architectural form (RCX) with its level and public state (RDX), whatever its state.
 *
 * RDX bit 0 asks for the L2 attributes of the GPA as well (R8; debug TDs only). TD
 * partitioning is not modelled, so no entry has L2 aliases and R8 is 0 when asked for. The
 * TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c). */
#include "sept.h"

#define READ_L2_ATTRS UINT64_C(1)

uint64_t tdh_mem_sept_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_info = regs->r[TDX_REG_RCX], rdx = regs->r[TDX_REG_RDX], ret;
	struct sept_op op = { 0 };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	ret = sept_op_lock_td(m, rdx & ~READ_L2_ATTRS, OPERAND_ID_RDX, TDH_MEM_SEPT_RD_LEAF, &op);
	if (!ret && (rdx & READ_L2_ATTRS) && !(op.tdcs->attributes & TD_ATTRIBUTES_DEBUG_MASK))
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 0, UINT32_MAX, false, &op);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	if (rdx & READ_L2_ATTRS)
		regs->r[TDX_REG_R8] = 0;
	sept_set_details(regs, op.w.value, op.level);
out:
	sept_op_unlock(&op);
	return ret;
}
