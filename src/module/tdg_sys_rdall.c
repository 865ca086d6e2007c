/* TDG.SYS.RDALL (leaf 12): the guest-readable global metadata, from the field id in R8 (null:
 * the first), as a metadata list written into the TD's private page at GPA RDX; R8 returns
 * the field to continue from (TDX_METADATA_LIST_OVERFLOW) or the null id. An unaligned,
 * shared or out-of-width GPA is TDX_OPERAND_INVALID + RDX; an unmapped page becomes the
 * EPT-violation TD exit of td_guest_map_gpa(). The list is built in place like the real
 * module's md_dump_list: bytes past its end keep their value. */
#include "metadata.h"
#include "td_guest.h"

uint64_t tdg_sys_rdall(struct td_guest *g)
{
	uint64_t *gpr = g->regs->gpr;
	uint64_t gpa = gpr[GPR_RDX], first = gpr[GPR_R8], next, ret;
	void *page;

	gpr[GPR_R8] = MD_NULL_FIELD_ID;
	if (gpa & (PLAT_PAGE_SIZE - 1))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	ret = td_guest_map_gpa(g, gpa, PLAT_PAGE_SIZE, OPERAND_ID_RDX, &page);
	if (ret)
		return ret;
	ret = md_sys_rdall_as(g->m, MD_ACCESSOR_GUEST, first, page, &next);
	gpr[GPR_R8] = next;
	return ret;
}
