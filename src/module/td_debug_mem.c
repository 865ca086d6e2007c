/* Shared part of TDH.MEM.RD and TDH.MEM.WR. Only a TD created with ATTRIBUTES.DEBUG lets the
 * host see its memory in plaintext, one qword at a time, through the TD's own key. */
#include "td_debug_mem.h"

#define QWORD_ALIGN 8u

/* Leaf states each leaf may access: a read also sees write-blocked and exported pages, a
 * write only pages the guest can write itself. */
static bool state_allowed(uint32_t leaf, enum sept_state s)
{
	if (s == SEPT_MAPPED || s == SEPT_EXPORTED_DIRTY)
		return true;
	return leaf == TDH_MEM_RD_LEAF &&
	       (s == SEPT_BLOCKEDW || s == SEPT_EXPORTED_BLOCKEDW || s == SEPT_EXPORTED_DIRTY_BLOCKEDW);
}

static uint64_t check_td(struct tdx_module *m, uint32_t leaf, struct td_debug_mem *a)
{
	uint64_t ret = td_open(m, a->tdr_pa, OPERAND_ID_RDX, false, leaf, &a->tdr_lock, &a->tdr, &a->tdcs);
	if (ret)
		return ret;
	if (!(a->tdcs->attributes & TD_ATTRIBUTES_DEBUG_MASK))
		return TDX_TD_NON_DEBUG;
	if (a->gpa & (QWORD_ALIGN - 1))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	return TDX_SUCCESS;
}

/* Tree lock, GPA, walk to a present leaf (NOT_PRESENT otherwise, with the entry where the
 * walk stopped), entry lock, state. */
static uint64_t lock_leaf(struct tdx_module *m, struct tdx_regs *regs, uint32_t leaf, struct td_debug_mem *a)
{
	uint64_t ret;

	if (!sept_tree_try_lock(a->tdcs, false))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_SEPT_TREE);
	a->tree_locked = true;
	ret = sept_check_private_gpa(a->tdcs, a->gpa);
	if (ret)
		return ret;
	ret = sept_walk_to_leaf(m, a->tdr, a->tdcs, a->gpa, &a->w);
	if (ret == api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX)) {
		sept_set_details(regs, a->w.value, a->w.level);
		return api_error_with_operand_id(TDX_EPT_ENTRY_NOT_PRESENT, OPERAND_ID_RCX);
	}
	if (ret)
		return ret;
	if (!sept_entry_try_lock(&a->w)) {
		sept_set_details(regs, a->w.value, a->w.level);
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
	}
	a->entry_locked = true;
	if (!state_allowed(leaf, sept_state_of(a->w.value))) {
		sept_set_details(regs, a->w.value, a->w.level);
		return api_error_with_operand_id(TDX_EPT_ENTRY_STATE_INCORRECT, OPERAND_ID_RCX);
	}
	return TDX_SUCCESS;
}

/* The leaf may map 4 KiB, 2 MiB or 1 GiB: the GPA's offset inside it selects the page. */
static uint64_t map_qword(struct tdx_module *m, struct td_debug_mem *a)
{
	uint64_t hpa = sept_hpa(a->w.value) + (a->gpa & (sept_level_size(a->w.level) - 1));
	uint64_t page = hpa & ~(SZ_4K - 1);
	void *p;

	if (plat_seam_map(m->plat, page, a->tdr->hkid, &p)) {
		plat_seam_machine_check(m->plat, page);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	a->qword = (uint64_t *)((uint8_t *)p + (hpa & (SZ_4K - 1)));
	return TDX_SUCCESS;
}

uint64_t td_debug_mem_begin(struct tdx_module *m, struct tdx_regs *regs, uint32_t leaf, struct td_debug_mem *a)
{
	uint64_t ret;

	*a = (struct td_debug_mem){ .gpa = regs->r[TDX_REG_RCX], .tdr_pa = regs->r[TDX_REG_RDX] };
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	regs->r[TDX_REG_R8] = 0;
	ret = check_td(m, leaf, a);
	if (!ret)
		ret = lock_leaf(m, regs, leaf, a);
	if (!ret)
		ret = map_qword(m, a);
	return ret;
}

void td_debug_mem_end(struct td_debug_mem *a)
{
	if (a->entry_locked)
		sept_entry_unlock(&a->w);
	if (a->tree_locked)
		sept_tree_unlock(a->tdcs, false);
	pamt_unlock(&a->tdr_lock);
}
