/* TDH.MEM.PAGE.RELOCATE (leaf 5): move a TD's private 4 KiB page to another physical page the
 * host donates (PT_NDA). The module copies the contents under the TD's key, so the TD sees the
 * same plaintext at the same GPA while the host only ever sees ciphertext; a PENDING page has
 * no contents yet and is not copied (the guest's accept initialises the new page). The source
 * page goes back to the host as free memory (PT_NDA, owner and BEPOCH kept, still encrypted
 * with the TD's key: TDH.PHYMEM.PAGE.WBINVD before reuse). In a running TD the page must be
 * blocked and its blocking epoch tracked first; a blocked entry comes back unblocked, pointing
 * at the new page. TDR CHLDCNT is unchanged: the TD owns as many pages as before.
 *
 * The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c); no L2 VM exists in this
 * module, so there are no L2 aliases to move. */
#include <string.h>

#include "sept.h"

/* structures.json seamcall_allowed_states for TDH.MEM.PAGE.RELOCATE. */
#define RELOCATE_ALLOWED                                                                                  \
	(SEPT_SET(SEPT_MAPPED) | SEPT_SET(SEPT_BLOCKED) | SEPT_SET(SEPT_BLOCKEDW) |                         \
	 SEPT_SET(SEPT_EXPORTED_BLOCKEDW) | SEPT_SET(SEPT_EXPORTED_DIRTY) |                                 \
	 SEPT_SET(SEPT_EXPORTED_DIRTY_BLOCKEDW) | SEPT_SET(SEPT_PENDING) | SEPT_SET(SEPT_PENDING_BLOCKED) | \
	 SEPT_SET(SEPT_PENDING_BLOCKEDW) | SEPT_SET(SEPT_PENDING_EXPORTED_BLOCKEDW) |                       \
	 SEPT_SET(SEPT_PENDING_EXPORTED_DIRTY) | SEPT_SET(SEPT_PENDING_EXPORTED_DIRTY_BLOCKEDW))

/* The HPA comparison covers the architectural 52 address bits, KeyID bits included. */
#define RELOCATE_FULL_PA_MASK ((UINT64_C(1) << MODULE_MAX_PA) - 1)

struct page_relocate {
	struct sept_op op;
	struct pamt_lock src_lock, dst_lock;
	uint64_t src, dst;
};

/* The new entry: the old one pointing at dst and, if it was blocked, back in the state it had
 * before BLOCK (sept_unblocked_leaf); any other state (MAPPED before MR.FINALIZE, BLOCKEDW,
 * PENDING, ...) is kept as it is. */
static uint64_t relocated_value(uint64_t e, uint64_t dst)
{
	return sept_unblocked_leaf((e & ~SEPTE_HPA_MASK) | (dst & SEPTE_HPA_MASK));
}

/* The locked entry: a leaf in an allowed state, not the target page itself, its page's PAMT
 * entry locked, and in a running TD blocked and tracked. */
static uint64_t check_source(struct tdx_module *m, struct tdx_regs *regs, struct page_relocate *r)
{
	uint64_t e = r->op.w.value, ret;

	if (!sept_is_leaf(e) || !sept_state_in(sept_state_of(e), RELOCATE_ALLOWED))
		return sept_op_entry_error(regs, &r->op, TDX_EPT_ENTRY_STATE_INCORRECT);
	r->src = sept_hpa(e);
	if ((r->dst & RELOCATE_FULL_PA_MASK) == r->src)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	ret = sept_pamt_lock(m, r->src, 0, &r->src_lock);
	if (ret)
		return ret;
	return sept_op_tracking_gate(regs, &r->op, r->src_lock.leaf->bepoch, OPERAND_ID_RCX);
}

/* MOVDIR64B of the source's plaintext into the target under the TD's key. The target is free
 * and locked exclusively, so writing it before the point of no return harms nothing. */
static uint64_t copy_contents(struct tdx_module *m, struct page_relocate *r)
{
	unsigned hkid = r->op.tdr->hkid;
	void *from, *to;

	if (sept_state_in(sept_state_of(r->op.w.value), SEPT_STATESET_ANY_PENDING))
		return TDX_SUCCESS;
	if (plat_seam_map(m->plat, r->src, hkid, &from)) {
		plat_seam_machine_check(m->plat, r->src); /* the host wrote the TD's page */
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	if (plat_seam_init_pages(m->plat, r->dst, 1, hkid) || plat_seam_map(m->plat, r->dst, hkid, &to))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	memcpy(to, from, SZ_4K);
	return TDX_SUCCESS;
}

uint64_t tdh_mem_page_relocate(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t page_info = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX], ret;
	struct page_relocate r = { .dst = regs->r[TDX_REG_R8] };

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	ret = sept_op_lock_td(m, tdr_pa, OPERAND_ID_RDX, TDH_MEM_PAGE_RELOCATE_LEAF, &r.op);
	if (!ret)
		ret = sept_op_lock_entry(m, regs, page_info, 0, 0, false, &r.op);
	if (!ret)
		ret = check_source(m, regs, &r);
	if (!ret)
		ret = pamt_check_lock_explicit(m, r.dst, OPERAND_ID_R8, true, PT_NDA, &r.dst_lock);
	if (!ret)
		ret = copy_contents(m, &r);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	r.src_lock.leaf->pt = PT_NDA; /* owner and BEPOCH stay: only the type frees the page */
	pamt_set(r.dst_lock.leaf, PT_REG, tdr_pa);
	r.dst_lock.leaf->bepoch = 0;
	/* One store publishes the new HPA and state and drops the entry lock. */
	sept_op_store(&r.op, relocated_value(r.op.w.value, r.dst));
	regs->r[TDX_REG_RCX] = r.src;
out:
	pamt_unlock(&r.dst_lock);
	pamt_unlock(&r.src_lock);
	sept_op_unlock(&r.op);
	return ret;
}
