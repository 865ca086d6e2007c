/* Guest-side memory operands of TDG leaves: GPA -> Secure EPT walk -> the private page,
 * mapped with the TD's KeyID (check_walk_and_map_guest_side_gpa in the real module), and the
 * dispatcher's treatment of leaves that lost a SEPT entry lock to the host. */
#include "sept.h"
#include "td_guest.h"

/* The R/W/X bits the guest's own translation would find for the leaf: non-leaf entries on
 * the way are RWX when present, so the leaf decides; a walk that stopped above the leaf
 * found nothing. */
static uint64_t leaf_rwx(const struct sept_walk *w, uint64_t walk_status)
{
	return walk_status == TDX_SUCCESS ? (w->value & SEPTE_RWX) : 0;
}

static uint64_t map_gpa(struct td_guest *g, uint64_t gpa, uint64_t len, uint32_t operand, bool write, void **ptr)
{
	struct sept_walk w;
	uint64_t page = gpa & ~(SZ_4K - 1), hpa, ret;
	uint64_t need = write ? (SEPTE_R | SEPTE_W) : SEPTE_R;
	uint8_t *p;

	if (!len || len > SZ_4K || (gpa & (SZ_4K - 1)) + len > SZ_4K || sept_check_private_gpa(g->tdcs, page))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, operand);
	ret = sept_walk_to_leaf(g->m, g->tdr, g->tdcs, page, &w);
	if (ret == TDX_SEAMCALL_VMFAILINVALID)
		return ret;
	if (ret || (w.value & need) != need)
		return td_guest_operand_walk_failed(g, gpa, write, leaf_rwx(&w, ret));
	/* A 2 MiB / 1 GiB leaf maps the 4 KiB page at the same offset inside it. */
	hpa = sept_hpa(w.value) + (page & (sept_level_size(w.level) - 1) & ~(SZ_4K - 1));
	if (plat_seam_map(g->m->plat, hpa, g->tdr->hkid, (void **)&p)) {
		plat_seam_machine_check(g->m->plat, hpa);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	*ptr = p + (gpa & (SZ_4K - 1));
	return TDX_SUCCESS;
}

uint64_t td_guest_map_gpa(struct td_guest *g, uint64_t gpa, uint64_t len, uint32_t operand, void **ptr)
{
	return map_gpa(g, gpa, len, operand, true, ptr);
}

uint64_t td_guest_map_gpa_ro(struct td_guest *g, uint64_t gpa, uint64_t len, uint32_t operand, void **ptr)
{
	return map_gpa(g, gpa, len, operand, false, ptr);
}

uint64_t td_guest_host_priority_status(struct td_guest *g, uint64_t status)
{
	const uint64_t details = UINT32_MAX; /* api_error_code_t details_l2: bits 31:0 */
	bool busy_hp = (status & ~details) == TDX_OPERAND_BUSY_HOST_PRIORITY;

	/* HP_LOCK_BUSY remembers that the guest keeps losing to the host. The real module also
	 * TD-exits with TDX_HOST_PRIORITY_BUSY_TIMEOUT once this has lasted TDCS.HP_LOCK_TIMEOUT
	 * TSC ticks; the simulated LP has no TSC to measure that with. */
	tdvps_put(&g->pg, MD_TDVPS_FIELDS_HP_LOCK_BUSY_IDX, 0, busy_hp);
	/* Older TDs only know TDX_OPERAND_BUSY. */
	return busy_hp ? TDX_OPERAND_BUSY | (status & details) : status;
}

uint64_t td_guest_shared_bit(const struct tdcs *tdcs)
{
	/* TDCS.GPAW: 0 = 48-bit GPA (shared bit 47), 1 = 52-bit (bit 51), as sept_check_private_gpa. */
	return UINT64_C(1) << ((tdcs->gpaw ? 52 : 48) - 1);
}

/* Would the TD's read of the page pass the memory integrity check? Not if it is poisoned or
 * was last written with another KeyID (the MAC / TD bit no longer match), as plat_seam_map()
 * judges the module's own accesses. */
static bool page_intact(const struct td_guest *g, uint64_t hpa)
{
	unsigned keyid;
	bool poisoned;

	if (plat_page_state(g->m->plat, hpa, &keyid, &poisoned))
		return false;
	return !poisoned && keyid == g->tdr->hkid;
}

/* The guest engine's private-memory translation (struct plat_guest_mem): the same walk the
 * CPU's EPT walk does on the Secure EPT. Only present leaves whose R/W/X bits allow the
 * access translate; PENDING, blocked or missing pages are EPT violations, which the engine
 * reports as a VM exit and td_guest_vm_exit_ept_violation() turns into a #VE or a TD exit.
 * A mapped page that fails its integrity check is a machine check (PLAT_GUEST_MCE). */
bool td_guest_translate(void *ctx, uint64_t gpa, unsigned access, uint64_t *hpa, uint64_t *rwx)
{
	struct td_guest *g = ctx;
	struct sept_walk w;
	uint64_t page = gpa & ~(SZ_4K - 1), need = 0, ret;

	*rwx = 0;
	if (access & PLAT_GUEST_ACC_READ)
		need |= SEPTE_R;
	if (access & PLAT_GUEST_ACC_WRITE)
		need |= SEPTE_W;
	if (access & PLAT_GUEST_ACC_FETCH)
		need |= SEPTE_X;
	if (sept_check_private_gpa(g->tdcs, page))
		return false;
	ret = sept_walk_to_leaf(g->m, g->tdr, g->tdcs, page, &w);
	*rwx = leaf_rwx(&w, ret);
	if (ret || (w.value & need) != need)
		return false;
	*hpa = sept_hpa(w.value) + (page & (sept_level_size(w.level) - 1) & ~(SZ_4K - 1));
	if (!page_intact(g, *hpa)) {
		*rwx |= PLAT_GUEST_MCE;
		return false;
	}
	*hpa |= (uint64_t)g->tdr->hkid << plat_hkid_shift(g->m->plat);
	return true;
}
