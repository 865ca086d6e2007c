/* TDG.VM.RD (leaf 7, versions 0 and 1): the TD reads one element of its own TD-scope
 * metadata (TDR/TDCS) under the guest read masks of metadata-fields.json; version 1 also
 * returns the next guest-readable field id, and with the null field id the first one
 * (TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT). RCX is the VM index: only the TD itself (0)
 * in 1.5.01. Lookup, values and statuses are metadata_td.c's, shared with TDH.MNG.RD. */
#include "metadata_td.h"
#include "td_guest.h"

uint64_t tdg_vm_rd(struct td_guest *g)
{
	uint64_t *gpr = g->regs->gpr;
	uint64_t vm_id = gpr[GPR_RCX], field_id = gpr[GPR_RDX], value = 0, next = MD_TD_NULL_FIELD_ID, ret;
	struct md_td t = { .m = g->m, .lp = g->lp, .tdr = g->tdr, .tdcs = g->tdcs, .guest = true };

	gpr[GPR_R8] = 0;
	if (g->version)
		gpr[GPR_RDX] = MD_TD_NULL_FIELD_ID;
	if (g->version > 1) /* the dispatcher already refuses it, from the ABI data */
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	if (vm_id > TDG_VM_RD_WR_VM_ID_MAX)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	if (g->version && md_is_null_id(field_id)) {
		gpr[GPR_RDX] = md_td_first_id(&t);
		return TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
	}
	ret = md_td_read(&t, field_id, &value, &next);
	if (ret)
		return ret;

	/* Nothing can fail past this point. */
	gpr[GPR_R8] = value;
	if (g->version)
		gpr[GPR_RDX] = next;
	return TDX_SUCCESS;
}
