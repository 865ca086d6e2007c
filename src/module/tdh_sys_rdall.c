/* TDH.SYS.RDALL (leaf 37): dump global metadata as a metadata list into a 4 KiB page. */
#include "module_internal.h"

uint64_t tdh_sys_rdall(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_pa = regs->r[TDX_REG_RDX], first = regs->r[TDX_REG_R8], next;
	uint8_t page[PLAT_PAGE_SIZE] = { 0 };
	uint64_t ret;

	regs->r[TDX_REG_R8] = UINT64_MAX;
	if (!atomic_load(&m->lp[lp].is_init))
		return TDX_SYS_LP_INIT_NOT_DONE;
	if (!module_is_shared_hpa(m, page_pa, PLAT_PAGE_SIZE, PLAT_PAGE_SIZE) ||
	    !plat_pa_is_backed(m->plat, page_pa & plat_pa_mask(m->plat), PLAT_PAGE_SIZE))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	ret = md_sys_rdall(m, first, page, &next);
	if (ret != TDX_SUCCESS && ret != TDX_METADATA_LIST_OVERFLOW)
		return ret;

	/* Nothing can fail past this point. */
	plat_seam_write_shared(m->plat, page_pa, page, sizeof(page));
	regs->r[TDX_REG_R8] = next;
	return ret;
}
