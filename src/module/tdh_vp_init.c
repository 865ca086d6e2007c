/* TDH.VP.INIT (leaf 22, versions 0 and 1): initialise a vCPU whose TDVPS pages are all added;
 * it gets the next vCPU index, the initial RCX (the TD HOB address) and the initial vCPU
 * state of tdvps_init_state() (reset vector, GPRs, TD VMCS), which TDH.VP.RD reads back.
 * Version 1 (profiles from 1.5.05 on; the dispatcher gates it per profile) also takes the
 * vCPU's x2APIC ID in R8: at most 32 bits and unique in the TD, else TDX_OPERAND_INVALID + R8
 * or TDX_X2APIC_ID_NOT_UNIQUE with the clashing ID as detail. Like 1.5.06 the TDR is then
 * locked exclusively, so two version-1 calls of one TD cannot both pass the uniqueness scan.
 * Like the real module it associates the vCPU with this LP (its VMCS would now be loaded
 * here), so tearing the TD down needs TDH.VP.FLUSH on this LP before TDH.MNG.VPFLUSHDONE. */
#include "tdvps.h"

/* The x2APIC IDs of a TD's vCPUs by vCPU index: 1.5.06 keeps them in the TDCS before the
 * MSR-bitmap page; here they fill TDCS page 1, which nothing else uses. */
#define TDCS_PAGE_X2APIC_IDS 1u
#define TDCS_X2APIC_IDS_MAX (4096u / sizeof(uint32_t))

struct vp_init_args {
	uint64_t tdvpr_pa, initial_rcx, x2apic_id;
	unsigned version;
};

static uint32_t *map_x2apic_ids(struct tdx_module *m, const struct tdr *tdr)
{
	uint64_t pa = tdr->tdcx_pa[TDCS_PAGE_X2APIC_IDS] & plat_pa_mask(m->plat);
	void *p;

	if (plat_seam_map(m->plat, pa, tdr->hkid, &p)) {
		plat_seam_machine_check(m->plat, pa);
		return NULL;
	}
	return p;
}

/* Version 1 locks the TDR's PAMT entry exclusively (busy -> OPERAND_BUSY + TDR). */
static uint64_t lock_tdr_for_v1(struct tdx_module *m, const struct pamt_lock *vpr, struct pamt_entry **tdr_e)
{
	struct pamt_entry *e1g, *e2m;

	if (pamt_walk(m, pamt_owner(vpr->leaf), &e1g, &e2m, tdr_e))
		return TDX_SEAMCALL_VMFAILINVALID;
	if (!pamt_entry_try_lock_exclusive(*tdr_e)) {
		*tdr_e = NULL;
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_TDR);
	}
	return TDX_SUCCESS;
}

/* The version-1 checks after the vCPU index is taken: the ID's width, then uniqueness among
 * the vCPUs initialised before. 1.5.06 gives the index back on the width error only; on a
 * duplicate it keeps it unless the profile says otherwise (fixed in 2.0). */
static uint64_t check_x2apic_id(struct tdx_module *m, struct tdcs *tdcs, const uint32_t *ids, uint32_t index,
				uint64_t x2apic_id)
{
	bool release = true;
	uint64_t ret = TDX_SUCCESS;

	if (x2apic_id > UINT32_MAX) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	} else if (index >= TDCS_X2APIC_IDS_MAX) {
		ret = TDX_MAX_VCPUS_EXCEEDED; /* simulation limit: the IDs fill one TDCS page */
	} else {
		for (uint32_t i = 0; i < index && !ret; i++)
			if (ids[i] == (uint32_t)x2apic_id)
				ret = api_error_with_operand_id(TDX_X2APIC_ID_NOT_UNIQUE, ids[i]);
		release = !ret || !m->profile->vp_init_v1_duplicate_keeps_vcpu_index;
	}
	if (ret && release)
		__atomic_fetch_sub(&tdcs->num_vcpus, 1, __ATOMIC_SEQ_CST);
	return ret;
}

/* Everything that can fail, in the real module's order; on success the vCPU index is taken. */
static uint64_t vp_init_checks(struct tdx_module *m, const struct vp_init_args *a, struct tdvps *vp,
			       struct tdr *tdr, struct tdcs *tdcs, struct tdvps_pages *pg, uint32_t **ids,
			       uint32_t *index)
{
	uint64_t ret = tdvps_map_pages(m, tdr, vp, pg); /* TDCX_NUM_INCORRECT while TDVPX pages are missing */

	if (ret)
		return ret;
	if (vp->state != VCPU_UNINITIALIZED)
		return TDX_VCPU_STATE_INCORRECT;
	if (a->version) {
		*ids = map_x2apic_ids(m, tdr);
		if (!*ids)
			return TDX_SEAMCALL_VMFAILINVALID;
	}
	*index = __atomic_fetch_add(&tdcs->num_vcpus, 1, __ATOMIC_SEQ_CST);
	if (*index >= tdcs->max_vcpus) {
		__atomic_fetch_sub(&tdcs->num_vcpus, 1, __ATOMIC_SEQ_CST);
		return TDX_MAX_VCPUS_EXCEEDED;
	}
	return a->version ? check_x2apic_id(m, tdcs, *ids, *index, a->x2apic_id) : TDX_SUCCESS;
}

uint64_t tdh_vp_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	struct vp_init_args a = { regs->r[TDX_REG_RCX], regs->r[TDX_REG_RDX], regs->r[TDX_REG_R8],
				  (unsigned)((regs->r[TDX_REG_RAX] & LEAF_AND_VERSION_VERSION_MASK) >>
					     LEAF_AND_VERSION_VERSION_SHIFT) };
	struct pamt_entry *tdr_e = NULL;
	struct pamt_lock lv;
	struct tdvps *vp;
	struct tdr *tdr;
	struct tdcs *tdcs;
	struct tdvps_pages pg;
	uint32_t *ids = NULL, index = 0;
	uint64_t ret;

	/* The TSC is sampled (LAST_EXIT_TSC): IA32_TSC_ADJUST must be what TDH.SYS.INIT saw.
	 * 1.5.06 checks it after the x2APIC ID (keeping the vCPU index it took if it fails);
	 * here it comes first in every profile, so a failing call changes nothing. */
	ret = module_check_tsc_adjust(m, lp);
	if (ret)
		return ret;
	if (a.version > 1) /* the dispatcher let a later profile's version through; 1 is the last */
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	ret = tdvps_lock_and_map(m, a.tdvpr_pa, OPERAND_ID_RCX, TDH_VP_INIT_LEAF, &lv, &vp, &tdr, &tdcs);
	if (ret)
		return ret;
	if (a.version)
		ret = lock_tdr_for_v1(m, &lv, &tdr_e);
	if (!ret)
		ret = vp_init_checks(m, &a, vp, tdr, tdcs, &pg, &ids, &index);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	if (ids)
		ids[index] = (uint32_t)a.x2apic_id;
	vp->vcpu_index = index;
	vp->initial_rcx = a.initial_rcx;
	tdvps_init_state(m, tdr, tdcs, vp, a.tdvpr_pa, &pg);
	vp->state = VCPU_READY;
	(void)tdvps_associate(vp, tdcs, lp); /* never associated before: cannot fail */
	ret = TDX_SUCCESS;
out:
	if (tdr_e)
		pamt_entry_unlock_exclusive(tdr_e);
	pamt_unlock(&lv);
	return ret;
}
