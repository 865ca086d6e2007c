/* TDH.SYS.RD (leaf 34): read one element of global metadata; RDX returns the next field id. */
#include "module_internal.h"

uint64_t tdh_sys_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t field_id = regs->r[TDX_REG_RDX], value, next;
	uint64_t ret;

	regs->r[TDX_REG_RDX] = UINT64_MAX;
	regs->r[TDX_REG_R8] = 0;
	if (!atomic_load(&m->lp[lp].is_init))
		return TDX_SYS_LP_INIT_NOT_DONE;
	ret = md_sys_read(m, field_id, &value, &next);
	regs->r[TDX_REG_R8] = value;
	if (ret == TDX_SUCCESS || ret == TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT)
		regs->r[TDX_REG_RDX] = next;
	return ret;
}
