/* TDG.MEM.PAGE.ACCEPT (leaf 6): the guest accepts a PENDING private page (4 KiB or 2 MiB) that
 * the host added with TDH.MEM.PAGE.AUG; the module zeroes it under the TD's KeyID and makes
 * it MAPPED (PENDING_EXPORTED_DIRTY becomes EXPORTED_DIRTY).
 *
 * RCX = PAGE_INFO (GPA | level 0 or 1). After the operand checks the SEPT is walked to the
 * requested level, in the order of the 1.5.01 handler:
 *   - the walk stopped above the level: at a guest-accessible leaf (MAPPED, BLOCKEDW,
 *     EXPORTED_*) TDX_PAGE_ALREADY_ACCEPTED + the level where it stopped; anything else (a
 *     PENDING 2 MiB leaf for a 4 KiB request, a missing SEPT page) is an EPT-violation TD exit
 *     whose extended qualification (RDX) is TDACCEPT_VMX_EEQ_INFO with type ACCEPT;
 *   - the entry is locked guest-side (TDX_OPERAND_BUSY + RCX if taken, the host-priority
 *     variant when a host leaf asked for it, which the dispatcher turns into TDX_OPERAND_BUSY);
 *   - a non-free non-leaf entry: TDX_PAGE_SIZE_MISMATCH + level; a guest-accessible leaf:
 *     TDX_PAGE_ALREADY_ACCEPTED + level; any state ACCEPT may not act on (FREE, BLOCKED,
 *     PENDING_BLOCKED...): the EPT-violation TD exit.
 * No SEPT tree lock: the guest's TLB tracking keeps the walked entries alive for the run.
 *
 * A 2 MiB accept zeroes one 4 KiB page at a time, counting them in the pending entry's accept
 * counter (its HPA bits 20:12, so the counter also addresses the next page). Between pages it
 * polls IA32_INTR_PENDING like the real module: with an interrupt pending the progress is
 * stored, RAX and RIP are left alone and the guest re-executes the TDCALL later, which
 * continues where it stopped. */
#include "sept.h"
#include "td_guest.h"
#include "td_guest_events.h"

/* The extended exit qualification of ACCEPT's EPT-violation exit. */
static uint64_t accept_eeq(const struct sept_walk *w, unsigned req_level)
{
	uint64_t info = ((uint64_t)req_level << TDACCEPT_VMX_EEQ_INFO_REQ_SEPT_LEVEL_SHIFT) |
			((uint64_t)w->level << TDACCEPT_VMX_EEQ_INFO_ERR_SEPT_LEVEL_SHIFT) |
			((uint64_t)sept_public_state(sept_state_of(w->value)) << TDACCEPT_VMX_EEQ_INFO_ERR_SEPT_STATE_SHIFT) |
			((uint64_t)sept_is_leaf(w->value) << TDACCEPT_VMX_EEQ_INFO_ERR_SEPT_IS_LEAF_SHIFT);

	return ((uint64_t)VMX_EEQ_TYPE_ACCEPT << VMX_EEQ_TYPE_SHIFT) | (info << VMX_EEQ_INFO_SHIFT);
}

/* async_tdexit_ept_violation(): ACCEPT is a write; the entry's permissions are reported. */
static uint64_t accept_violation(struct td_guest *g, uint64_t gpa, unsigned req_level, const struct sept_walk *w)
{
	uint64_t qual = EPT_VIOL_QUAL_DATA_WRITE | (w->value & SEPTE_R ? EPT_VIOL_QUAL_GPA_READABLE : 0) |
			(w->value & SEPTE_W ? EPT_VIOL_QUAL_GPA_WRITEABLE : 0) |
			(w->value & SEPTE_X ? EPT_VIOL_QUAL_GPA_EXECUTABLE : 0);

	td_guest_ept_violation_exit(g, gpa, qual, accept_eeq(w, req_level));
	return TDX_EPT_WALK_FAILED; /* not seen by the guest: the TDCALL becomes a TD exit */
}

static bool guest_accessible_leaf(uint64_t e)
{
	return sept_state_in(sept_state_of(e), SEPT_STATESET_GUEST_ACCESSIBLE_LEAF);
}

/* The walk ended above the requested level. */
static uint64_t walk_stopped_early(struct td_guest *g, uint64_t gpa, unsigned level, const struct sept_walk *w)
{
	if (guest_accessible_leaf(w->value))
		return api_error_with_operand_id(TDX_PAGE_ALREADY_ACCEPTED, w->level);
	return accept_violation(g, gpa, level, w);
}

/* The locked entry at the requested level: anything but an acceptable pending leaf fails
 * (the caller drops the lock). */
static uint64_t check_locked_entry(struct td_guest *g, uint64_t gpa, unsigned level, const struct sept_walk *w)
{
	enum sept_state s = sept_state_of(w->value);

	if (s != SEPT_FREE && !sept_is_leaf(w->value))
		return api_error_with_operand_id(TDX_PAGE_SIZE_MISMATCH, level);
	if (guest_accessible_leaf(w->value))
		return api_error_with_operand_id(TDX_PAGE_ALREADY_ACCEPTED, level);
	if (!sept_state_in(s, SEPT_TDCALL_ALLOWED_TDG_MEM_PAGE_ACCEPT))
		return accept_violation(g, gpa, level, w);
	return TDX_SUCCESS;
}

/* MOVDIR64B of zeros under the TD's KeyID: the page becomes the TD's, with no host data in it.
 * The page is TDX memory the SEPT maps, so a KeyID/CMR failure cannot happen here. */
static void zero_page(struct td_guest *g, uint64_t hpa)
{
	(void)plat_seam_init_pages(g->m->plat, hpa & ~(SZ_4K - 1), 1, g->tdr->hkid);
}

static bool interrupt_pending(const struct td_guest *g)
{
	uint64_t v;

	/* An LP that never had the MSR written has nothing pending. */
	return plat_rdmsr(g->m->plat, g->lp, MSR_IA32_INTR_PENDING, &v) == 0 && v != 0;
}

/* One count in the accept counter field (its lowest bit). */
#define ACCEPT_COUNT_ONE (SEPTE_ACCEPT_COUNTER & (~SEPTE_ACCEPT_COUNTER + 1))
_Static_assert(SEPTE_ACCEPT_COUNTER / ACCEPT_COUNT_ONE == SEPT_ENTRIES - 1, "one count per 4 KiB page");
_Static_assert(ACCEPT_COUNT_ONE == SZ_4K, "the counter addresses the 4 KiB page it counts");

/* Zero the 4 KiB pages of a pending 2 MiB leaf from its accept counter on; false when an
 * interrupt stopped it (e then holds the progress). */
static bool accept_2m(struct td_guest *g, uint64_t *e)
{
	for (;;) {
		uint64_t count = (*e & SEPTE_ACCEPT_COUNTER) / ACCEPT_COUNT_ONE;

		zero_page(g, sept_hpa(*e)); /* base + count * 4 KiB */
		if (count == SEPT_ENTRIES - 1) {
			*e &= ~SEPTE_ACCEPT_COUNTER;
			return true;
		}
		*e = (*e & ~SEPTE_ACCEPT_COUNTER) | ((count + 1) * ACCEPT_COUNT_ONE);
		if (interrupt_pending(g))
			return false;
	}
}

static void accept_locked(struct td_guest *g, unsigned level, struct sept_walk *w)
{
	uint64_t e = w->value;
	bool done = true;

	if (level == 0)
		zero_page(g, sept_hpa(e));
	else
		done = accept_2m(g, &e);
	if (done)
		e = sept_with_state(e | SEPTE_RWX,
				    sept_state_of(e) == SEPT_PENDING ? SEPT_MAPPED : SEPT_EXPORTED_DIRTY);
	else
		g->tdcall_pending = true;
	sept_entry_store_unlock_guest(w, e);
}

uint64_t tdg_mem_page_accept(struct td_guest *g)
{
	struct sept_walk w;
	uint64_t gpa, ret;
	unsigned level;

	ret = sept_check_page_info(g->regs->gpr[GPR_RCX], 0, 1, &gpa, &level);
	if (!ret)
		ret = sept_check_private_gpa(g->tdcs, gpa);
	if (ret)
		return ret;
	ret = sept_walk_to_level(g->m, g->tdr, g->tdcs, gpa, level, &w);
	if (ret == TDX_SEAMCALL_VMFAILINVALID)
		return ret;
	if (ret)
		return walk_stopped_early(g, gpa, level, &w);
	ret = sept_entry_lock_guest(&w);
	if (ret)
		return api_error_with_operand_id(ret, OPERAND_ID_RCX);
	ret = check_locked_entry(g, gpa, level, &w);
	if (ret) {
		sept_entry_unlock(&w);
		return ret;
	}
	/* Nothing fails past this point. */
	accept_locked(g, level, &w);
	return TDX_SUCCESS;
}
