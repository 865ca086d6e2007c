/* TDH.MNG.RD (leaf 11, versions 0 and 1): read one element of a TD's metadata (TDR and
 * TDCS) with the host read masks of a debug or a production TD; version 1 also returns the
 * next readable field id. Lookup, values and masks live in metadata_td.c. */
#include "metadata_td.h"

#define NULL_FIELD_ID MD_TD_NULL_FIELD_ID

/* The op-state lock of the real module is not modelled: the TDR PAMT lock, shared here and
 * exclusive in TDH.MNG.INIT / TDH.MR.FINALIZE, already orders OP_STATE changes against reads. */
uint64_t tdh_mng_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	unsigned version = (unsigned)((regs->r[TDX_REG_RAX] & VERSION_MASK) >> VERSION_SHIFT);
	uint64_t tdr_pa = regs->r[TDX_REG_RCX], field_id = regs->r[TDX_REG_RDX], value = 0, next = NULL_FIELD_ID, ret;
	struct md_td t = { .m = m, .lp = lp };
	struct pamt_lock l;

	regs->r[TDX_REG_R8] = 0;
	if (version)
		regs->r[TDX_REG_RDX] = NULL_FIELD_ID;
	if (version > 1) /* the dispatcher already refuses it, from the ABI data */
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	ret = md_td_open(&t, tdr_pa, TDH_MNG_RD_LEAF, &l);
	if (ret)
		return ret;
	if (version && md_is_null_id(field_id)) {
		next = md_td_first_id(&t);
		ret = TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
	} else {
		ret = md_td_read(&t, field_id, &value, &next);
	}
	regs->r[TDX_REG_R8] = value;
	if (version && (ret == TDX_SUCCESS || ret == TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT))
		regs->r[TDX_REG_RDX] = next;
	pamt_unlock(&l);
	return ret;
}
