/* Shared by the TDH.VP.* leaves. */
#include "tdvps.h"

uint64_t tdvps_lock_and_map(struct tdx_module *m, uint64_t tdvpr_pa, uint32_t operand, uint32_t leaf,
			    struct pamt_lock *l, struct tdvps **vp, struct tdr **tdr, struct tdcs **tdcs)
{
	uint64_t ret = pamt_check_lock_explicit(m, tdvpr_pa, operand, true, PT_TDVPR, l);
	uint64_t tdr_pa;

	if (ret)
		return ret;
	tdr_pa = pamt_owner(l->leaf);
	*tdr = td_map_tdr(m, tdr_pa);
	if (!*tdr) {
		pamt_unlock(l);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	ret = td_check_state(m, *tdr, leaf, tdcs);
	if (!ret && plat_seam_map(m->plat, tdvpr_pa, (*tdr)->hkid, (void **)vp)) {
		plat_seam_machine_check(m->plat, tdvpr_pa);
		ret = TDX_SEAMCALL_VMFAILINVALID;
	}
	if (ret)
		pamt_unlock(l);
	return ret;
}
