/* module_debug_vp_ve_info(): a vCPU's VE_INFO for tests (module_debug.h). Not a leaf: nothing
 * here is reachable through SEAMCALL; tests call it directly, like module_debug_td_lock(). */
#include "module_debug.h"
#include "td_guest.h"

static void to_td(const struct module_debug_ve_info *d, struct td_ve_info *v)
{
	*v = (struct td_ve_info){ d->exit_reason, d->valid, d->exit_qualification, d->gla, d->gpa,
				  d->eptp_index, d->instr_len, d->instr_info };
}

static void from_td(const struct td_ve_info *v, struct module_debug_ve_info *d)
{
	*d = (struct module_debug_ve_info){ v->exit_reason, v->valid, v->exit_qualification, v->gla, v->gpa,
					    v->eptp_index, v->instr_len, v->instr_info };
}

int module_debug_vp_ve_info(struct plat *p, uint64_t tdvpr_pa, const struct module_debug_ve_info *set,
			    struct module_debug_ve_info *get)
{
	struct tdx_module *m = plat_seamldr_module(p);
	struct tdvps_pages pg;
	struct pamt_lock l;
	struct td_ve_info v;
	struct tdvps *vp;
	struct tdr *tdr;
	struct tdcs *tdcs;
	int ret = -1;

	/* The TDVPR held exclusive, as TDH.VP.WR does: refused while the vCPU runs. */
	if (!m || tdvps_lock_and_map(m, tdvpr_pa, 0, TDH_VP_WR_LEAF, &l, &vp, &tdr, &tdcs))
		return -1;
	if (vp->state != VCPU_UNINITIALIZED && !tdvps_map_pages(m, tdr, vp, &pg)) {
		if (get) {
			td_ve_info_get(&pg, &v);
			from_td(&v, get);
		}
		if (set) {
			to_td(set, &v);
			td_ve_info_put(&pg, &v);
		}
		ret = 0;
	}
	pamt_unlock(&l);
	return ret;
}
