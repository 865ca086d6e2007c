/* TDH.PHYMEM.PAGE.RDMD (leaf 24): read the PAMT metadata of one physical page. */
#include "module_internal.h"

static uint64_t owner_pa(const struct pamt_entry *e)
{
	uint64_t owner = 0;
	for (int i = 4; i >= 0; i--)
		owner = (owner << 8) | e->owner[i];
	return owner << PAMT_OWNER_SHIFT;
}

uint64_t tdh_phymem_page_rdmd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t pa = regs->r[TDX_REG_RCX];
	struct pamt_entry *e1g, *e2m, *e4k, *leaf;
	unsigned level;
	uint64_t ret;

	(void)lp;
	if ((pa & (SZ_4K - 1)) || module_pa_has_hkid(m, pa) || pa >= (UINT64_C(1) << MODULE_MAX_PA))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	ret = pamt_walk(m, pa, &e1g, &e2m, &e4k);
	if (ret == TDX_OPERAND_ADDR_RANGE_ERROR)
		return api_error_with_operand_id(ret, OPERAND_ID_RCX);
	if (ret)
		return ret;
	if (e1g->pt != PT_NDA) {
		leaf = e1g;
		level = PT_1GB;
	} else if (e2m->pt != PT_NDA) {
		leaf = e2m;
		level = PT_2MB;
	} else {
		leaf = e4k;
		level = PT_4KB;
	}
	if (!pamt_entry_try_lock_shared(leaf))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);

	/* Nothing can fail past this point. */
	regs->r[TDX_REG_RCX] = leaf->pt;
	regs->r[TDX_REG_RDX] = owner_pa(leaf);
	regs->r[TDX_REG_R8] = level;
	regs->r[TDX_REG_R9] = (leaf->pt == PT_REG || leaf->pt == PT_EPT) ? leaf->bepoch : 0;
	regs->r[TDX_REG_R10] = regs->r[TDX_REG_R11] = 0;
	pamt_entry_unlock_shared(leaf);
	return TDX_SUCCESS;
}
