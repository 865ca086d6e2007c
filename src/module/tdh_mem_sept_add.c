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
	uint64_t page_info, handle;
	uint64_t page;    /* new L1 SEPT page (R8 with bit 63 ignored) or NULL_PA */
	uint64_t flagged; /* v1 R8 output: NULL_PA once consumed, bit 63 set if one existed */
	uint64_t gpa;
	unsigned level;
	struct pamt_lock tdr_lock, page_lock;
	struct tdr *tdr;
	struct tdcs *tdcs;
	struct sept_walk w;
	bool tree_locked, entry_locked, add;
};

static bool l2_pages_given(const struct tdx_regs *regs)
{
	return regs->r[REG_R9] != NULL_PA || regs->r[REG_R10] != NULL_PA || regs->r[REG_R11] != NULL_PA;
}

static uint64_t state_incorrect(struct tdx_regs *regs, const struct sept_add *a)
{
	sept_set_details(regs, a->w.value, a->level);
	return api_error_with_operand_id(TDX_EPT_ENTRY_STATE_INCORRECT, OPERAND_ID_RCX);
}

/* The parent entry is locked: is there a page to link, and may it be linked there? */
static uint64_t check_parent_and_page(struct tdx_module *m, struct tdx_regs *regs, unsigned version,
				      struct sept_add *a)
{
	enum sept_state s = sept_state_of(a->w.value);
	uint64_t ret;

	if (s != SEPT_FREE && s != SEPT_NL_MAPPED)
		return state_incorrect(regs, a);
	if (a->page == NULL_PA) {
		/* Version 1 may name only L2 pages, under an L1 page that exists already. */
		if (!version)
			return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
		return s == SEPT_NL_MAPPED ? TDX_SUCCESS : state_incorrect(regs, a);
	}
	if (s == SEPT_NL_MAPPED) {
		if (!(a->handle & TD_HANDLE_AND_FLAGS_ALLOW_EXISTING_L2_SEPT_ADD_MODE_MASK))
			return state_incorrect(regs, a);
		a->flagged |= PAGE_NOT_USED_FLAG;
		return TDX_SUCCESS;
	}
	ret = pamt_check_lock_explicit(m, a->page, OPERAND_ID_R8, true, PT_NDA, &a->page_lock);
	if (ret)
		return ret;
	if (sept_page_init(m, a->page, a->tdr->hkid))
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
	ret = td_open(m, tdr_pa, OPERAND_ID_RDX, false, TDH_MEM_SEPT_ADD_LEAF, &a->tdr_lock, &a->tdr, &a->tdcs);
	if (!ret)
		ret = sept_check_page_info(a->page_info, 1, sept_root_level(a->tdcs), &a->gpa, &a->level);
	if (!ret)
		ret = sept_check_private_gpa(a->tdcs, a->gpa);
	if (ret)
		return ret;
	if (!sept_tree_try_lock(a->tdcs, false))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_SEPT_TREE);
	a->tree_locked = true;
	ret = sept_walk_to_level(m, a->tdr, a->tdcs, a->gpa, a->level, &a->w);
	if (ret == api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX))
		sept_set_details(regs, a->w.value, a->w.level);
	if (ret)
		return ret;
	if (!sept_entry_try_lock(&a->w)) {
		sept_set_details(regs, a->w.value, a->w.level);
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
	}
	a->entry_locked = true;
	return check_parent_and_page(m, regs, version, a);
}

static void commit(struct sept_add *a)
{
	pamt_set(a->page_lock.leaf, PT_EPT, a->handle & TD_HANDLE_AND_FLAGS_TDR_HPA_MASK);
	a->page_lock.leaf->bepoch = 0;
	/* Other SEPT.ADDs of this TD run concurrently (the TDR is only held shared). */
	__atomic_fetch_add(&a->tdr->chldcnt, 1, __ATOMIC_SEQ_CST);
	/* One store links the page and drops the entry lock (TDEL is 0 in the new value). */
	__atomic_store_n(a->w.entry, sept_nl_mapped_entry(a->page), __ATOMIC_RELEASE);
	a->entry_locked = false;
	a->flagged = NULL_PA;
}

static void unlock(struct sept_add *a)
{
	if (a->entry_locked)
		sept_entry_unlock(&a->w);
	if (a->tree_locked)
		sept_tree_unlock(a->tdcs, false);
	pamt_unlock(&a->page_lock);
	pamt_unlock(&a->tdr_lock);
}

uint64_t tdh_mem_sept_add(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	unsigned version = (unsigned)((regs->r[REG_RAX] & VERSION_MASK) >> VERSION_SHIFT);
	struct sept_add a = { .page_info = regs->r[REG_RCX], .handle = regs->r[REG_RDX] };
	uint64_t r8 = regs->r[REG_R8], ret;

	(void)lp;
	regs->r[REG_RCX] = 0;
	regs->r[REG_RDX] = 0;
	if (version && l2_pages_given(regs))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	/* Bit 63 of a page operand is the output's "not used" flag: ignored on input. */
	a.page = r8 == NULL_PA ? NULL_PA : r8 & ~PAGE_NOT_USED_FLAG;
	a.flagged = a.page;
	ret = check_and_lock(m, regs, version, &a);

	/* Nothing can fail past this point. */
	if (!ret && a.add)
		commit(&a);
	unlock(&a);
	/* Version 1 tells which pages it consumed, on failure too; R9..R11 were NULL_PA and stay. */
	if (version)
		regs->r[REG_R8] = a.flagged;
	return ret;
}
