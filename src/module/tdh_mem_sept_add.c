/* TDH.MEM.SEPT.ADD (leaf 3): link a new Secure EPT page below the entry that maps a GPA at
 * PAGE_INFO.LEVEL, so that lower levels (and finally 4 KiB pages) can be mapped there.
 *
 * Version 1 may also add L2 SEPT pages (R9..R11) for TD partitioning, which this module does
 * not model: a version-1 call that names one (anything but NULL_PA) is refused with
 * TDX_OPERAND_INVALID + RAX before anything else. Otherwise version 1 behaves as the real
 * one does, including the R8..R11 outputs.
 *
 * The real module also holds the TDCS OP_STATE lock shared; it is not modelled (as in
 * TDH.MNG.RD): every leaf that changes OP_STATE holds the TDR exclusively, which this leaf's
 * shared TDR lock already excludes. */
#include "sept.h"

#define TD_HANDLE_RESERVED (TD_HANDLE_AND_FLAGS_RESERVED_0_MASK | TD_HANDLE_AND_FLAGS_RESERVED_1_MASK)
#define PAGE_NOT_USED_FLAG (UINT64_C(1) << 63)

struct sept_add {
	struct sept_op op;
	uint64_t page_info, handle;
	uint64_t page;    /* new L1 SEPT page (R8 with bit 63 ignored) or NULL_PA */
	uint64_t flagged; /* v1 R8 output: NULL_PA once consumed, bit 63 set if one existed */
	struct pamt_lock page_lock;
	bool add;
};

static bool l2_pages_given(const struct tdx_regs *regs)
{
	return regs->r[TDX_REG_R9] != NULL_PA || regs->r[TDX_REG_R10] != NULL_PA || regs->r[TDX_REG_R11] != NULL_PA;
}

/* The parent entry is locked: is there a page to link, and may it be linked there? */
static uint64_t check_parent_and_page(struct tdx_module *m, struct tdx_regs *regs, unsigned version,
				      struct sept_add *a)
{
	enum sept_state s = sept_state_of(a->op.w.value);
	uint64_t ret;

	if (s != SEPT_FREE && s != SEPT_NL_MAPPED)
		return sept_op_entry_error(regs, &a->op, TDX_EPT_ENTRY_STATE_INCORRECT);
	if (a->page == NULL_PA) {
		/* Version 1 may name only L2 pages, under an L1 page that exists already. */
		if (!version)
			return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
		return s == SEPT_NL_MAPPED ? TDX_SUCCESS
					   : sept_op_entry_error(regs, &a->op, TDX_EPT_ENTRY_STATE_INCORRECT);
	}
	if (s == SEPT_NL_MAPPED) {
		if (!(a->handle & TD_HANDLE_AND_FLAGS_ALLOW_EXISTING_L2_SEPT_ADD_MODE_MASK))
			return sept_op_entry_error(regs, &a->op, TDX_EPT_ENTRY_STATE_INCORRECT);
		a->flagged |= PAGE_NOT_USED_FLAG;
		return TDX_SUCCESS;
	}
	ret = pamt_check_lock_explicit(m, a->page, OPERAND_ID_R8, true, PT_NDA, &a->page_lock);
	if (ret)
		return ret;
	if (sept_page_init(m, a->page, a->op.tdr->hkid))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	a->add = true;
	return TDX_SUCCESS;
}

static uint64_t check_and_lock(struct tdx_module *m, struct tdx_regs *regs, unsigned version, struct sept_add *a)
{
	uint64_t tdr_pa = a->handle & TD_HANDLE_AND_FLAGS_TDR_HPA_MASK;
	uint64_t ret;

	if (a->handle & TD_HANDLE_RESERVED)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_SEPT_ADD_LEAF, &a->op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, a->page_info, 1, UINT32_MAX, false, &a->op);
	if (ret)
		return ret;
	return check_parent_and_page(m, regs, version, a);
}

static void commit(struct sept_add *a)
{
	pamt_set(a->page_lock.leaf, PT_EPT, a->handle & TD_HANDLE_AND_FLAGS_TDR_HPA_MASK);
	a->page_lock.leaf->bepoch = 0;
	/* Other SEPT.ADDs of this TD run concurrently (the TDR is only held shared). */
	__atomic_fetch_add(&a->op.tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	/* One store links the page and drops the entry lock. */
	sept_op_store(&a->op, sept_nl_mapped_entry(a->page));
	a->flagged = NULL_PA;
}

uint64_t tdh_mem_sept_add(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	unsigned version = (unsigned)((regs->r[TDX_REG_RAX] & VERSION_MASK) >> VERSION_SHIFT);
	struct sept_add a = { .page_info = regs->r[TDX_REG_RCX], .handle = regs->r[TDX_REG_RDX] };
	uint64_t r8 = regs->r[TDX_REG_R8], ret;

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	if (version && l2_pages_given(regs))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	/* Bit 63 of a page operand is the output's "not used" flag: ignored on input. */
	a.page = r8 == NULL_PA ? NULL_PA : r8 & ~PAGE_NOT_USED_FLAG;
	a.flagged = a.page;
	ret = check_and_lock(m, regs, version, &a);

	/* Nothing can fail past this point. */
	if (!ret && a.add)
		commit(&a);
	pamt_unlock(&a.page_lock);
	sept_op_unlock(&a.op);
	/* Version 1 tells which pages it consumed, on failure too; R9..R11 were NULL_PA and stay. */
	if (version)
		regs->r[TDX_REG_R8] = a.flagged;
	return ret;
}
