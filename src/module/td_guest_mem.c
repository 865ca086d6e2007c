/* Guest-side memory operands of TDG leaves: GPA -> Secure EPT walk -> the private page,
 * mapped with the TD's KeyID (check_walk_and_map_guest_side_gpa in the real module). */
#include "sept.h"
#include "td_guest.h"

uint64_t td_guest_map_gpa(struct td_guest *g, uint64_t gpa, uint64_t len, uint32_t operand, void **ptr)
{
	struct sept_walk w;
	uint64_t page = gpa & ~(SZ_4K - 1), hpa;
	uint8_t *p;

	if (!len || len > SZ_4K || (gpa & (SZ_4K - 1)) + len > SZ_4K || sept_check_private_gpa(g->tdcs, page))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, operand);
	if (sept_walk_to_leaf(g->m, g->tdr, g->tdcs, page, &w) || sept_state_of(w.value) != SEPT_MAPPED) {
		g->ept_violation = true;
		g->ept_violation_gpa = gpa;
		return TDX_EPT_WALK_FAILED;
	}
	/* A 2 MiB / 1 GiB leaf maps the 4 KiB page at the same offset inside it. */
	hpa = sept_hpa(w.value) + (page & (sept_level_size(w.level) - 1) & ~(SZ_4K - 1));
	if (plat_seam_map(g->m->plat, hpa, g->tdr->hkid, (void **)&p)) {
		plat_seam_machine_check(g->m->plat, hpa);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	*ptr = p + (gpa & (SZ_4K - 1));
	return TDX_SUCCESS;
}
