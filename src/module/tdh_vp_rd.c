/* TDH.VP.RD (leaf 26, versions 0 and 1): read one element of a vCPU's metadata (TDVPS and TD
 * VMCS) under the host read masks of a debug or a production TD; version 1 also returns the
 * next readable field id in RDX (-1 when none). The rules live in metadata_vp.c. */
#include "metadata_vp.h"

uint64_t tdh_vp_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	unsigned version = (unsigned)((regs->r[TDX_REG_RAX] & VERSION_MASK) >> VERSION_SHIFT);
	uint64_t tdvpr_pa = regs->r[TDX_REG_RCX], field_id = regs->r[TDX_REG_RDX], value = 0;
	uint64_t next = MD_VP_NULL_FIELD_ID, ret;
	struct md_vp v = { .m = m, .lp = lp };
	struct pamt_entry *tdr_entry;
	struct pamt_lock l;

	if (version)
		regs->r[TDX_REG_RDX] = MD_VP_NULL_FIELD_ID;
	regs->r[TDX_REG_R8] = 0;
	if (version > 1) /* the dispatcher already refuses it, from the ABI data */
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	ret = md_vp_open(&v, tdvpr_pa, TDH_VP_RD_LEAF, false, &l, &tdr_entry);
	if (ret)
		return ret;
	if (version && md_is_null_id(field_id)) {
		regs->r[TDX_REG_RDX] = md_vp_first_id(&v);
		ret = TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
		goto out;
	}
	ret = md_vp_read(&v, field_id, &value, &next);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	if (version)
		regs->r[TDX_REG_RDX] = next;
	regs->r[TDX_REG_R8] = value;
out:
	md_vp_close(&l, tdr_entry);
	return ret;
}
