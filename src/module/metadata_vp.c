/* VP-context metadata as the host sees it through TDH.VP.RD and TDH.VP.WR: class 0 is the TD
 * VMCS table (md_td_vmcs_fields), every other class the TDVPS table (md_tdvps_fields); both
 * are generated from data/abi/metadata-fields.json. Values live in the TDVPS pages
 * (tdvps.h), except VCPU_STATE, VCPU_INDEX, NUM_TDVPS_PAGES, TDVPS_PAGE_PA and ASSOC_LPID,
 * read from the module's struct tdvps.
 *
 * The L2 entries at the end of the TDVPS table are hidden for L2 VMs the TD does not have
 * (as 1.5.01 truncates the table); for VMs it has they read as NOT_READABLE because this
 * module allocates no L2 TDVPS pages. Version-1 iteration walks the TDVPS table, then the
 * TD VMCS table. */
#include <string.h>

#include "metadata_vp.h"
#include "x2apic.h"

#define VMCS_CLASS 0u
#define L2_ENTRIES_PER_VM 3u
#define MAX_L2_VMS 3u
#define TV(name) MD_TDVPS_FIELDS_##name##_IDX
#define VM(name) MD_TD_VMCS_FIELDS_##name##_IDX
#define BIT64(n) (UINT64_C(1) << (n))

/* Architectural constants of the special write rules (SDM / 1.5.01 metadata_vp.c). */
#define PI_VECTOR_MIN 0x20u
#define PI_VECTOR_MAX 0xFFu
#define PI_VECTOR_UNSET 0xFFFFu
#define PINBASED_POSTED_INTERRUPTS 7
#define PROCBASED2_EN_PML 17
#define DEBUGCTL_TR 6
#define DEBUGCTL_BTS 7
#define DEBUGCTL_EN_UNCORE_PMI 13
#define CR0_PG 31
#define CR4_MCE 6
#define EFER_LME 8
#define EFER_LMA 10
#define XFAM_PT 8
#define XSAVE_HEADER_FIRST_QWORD 64u /* after the 512-byte legacy area */
#define XSAVE_HEADER_QWORDS 8u
#define SHARED_PAGE_SIZE 4096u

/* A table entry: which table, which index. */
struct md_ref {
	const struct md_field_desc *d;
	unsigned idx;
	bool vmcs;
};

static struct md_ref ref(bool vmcs, unsigned idx)
{
	return (struct md_ref){ vmcs ? &md_td_vmcs_fields[idx] : &md_tdvps_fields[idx], idx, vmcs };
}

static uint64_t element_id(struct md_ref r, unsigned elem)
{
	uint64_t code = FIELD_CODE(r.d->field_id) + (uint64_t)elem * r.d->stride;

	return (r.d->field_id & ~FID(FIELD_CODE)) | (code << FID_SHIFT(FIELD_CODE));
}

static bool visible(const struct md_vp *v, struct md_ref r)
{
	unsigned l2 = v->tdcs->num_l2_vms < MAX_L2_VMS ? v->tdcs->num_l2_vms : MAX_L2_VMS;

	return r.vmcs || r.idx < md_tdvps_fields_count - L2_ENTRIES_PER_VM * (MAX_L2_VMS - l2);
}

/* Where element e is stored, NULL if this module keeps no store for it. */
static void *elem_ptr(const struct md_vp *v, struct md_ref r, unsigned e)
{
	uint32_t off = r.vmcs ? r.d->offset + 8u * e : tdvps_store_offset(r.d->offset) + r.d->elem_bytes * e;

	return tdvps_store(&v->pg, off);
}

static uint64_t load(const struct md_vp *v, struct md_ref r, unsigned e)
{
	uint64_t x = 0;
	void *p = elem_ptr(v, r, e);

	if (p)
		memcpy(&x, p, r.vmcs ? 8u : r.d->elem_bytes);
	return x;
}

static void store(const struct md_vp *v, struct md_ref r, unsigned e, uint64_t x)
{
	void *p = elem_ptr(v, r, e);

	if (p)
		memcpy(p, &x, r.vmcs ? 8u : r.d->elem_bytes);
}

static uint64_t vmcs_get(const struct md_vp *v, unsigned idx)
{
	return load(v, ref(true, idx), 0);
}

/* VCPU_STATE_DETAILS.VMXIP: a virtual interrupt (RVI) above the vCPU's PPR is pending. */
static uint64_t vcpu_state_details(const struct md_vp *v)
{
	uint32_t ppr;
	uint64_t rvi = vmcs_get(v, VM(GUEST_INTERRUPT_STATUS)) & 0xFFu;

	memcpy(&ppr, v->pg.p[TDVPS_PAGE_VAPIC] + APIC_REG_PPR, sizeof(ppr));
	return (rvi & 0xF0u) > (ppr & 0xF0u) ? 1u : 0u;
}

/* The fields the module keeps in struct tdvps rather than in the store. */
static bool module_state_value(const struct md_vp *v, struct md_ref r, unsigned e, uint64_t *x)
{
	const struct tdvps *vp = v->vp;

	if (r.vmcs)
		return false;
	switch (r.idx) {
	case TV(VCPU_STATE): *x = vp->state; return true;
	case TV(VCPU_INDEX): *x = vp->vcpu_index; return true;
	case TV(NUM_TDVPS_PAGES): *x = vp->num_tdvpx + 1u; return true;
	case TV(ASSOC_LPID): *x = vp->assoc_lp1 ? vp->assoc_lp1 - 1 : UINT32_MAX; return true;
	case TV(TDVPS_PAGE_PA):
		*x = e == 0 ? td_hkid_pa(v->m, v->tdvpr_pa, v->tdr->hkid) : e <= vp->num_tdvpx ? vp->tdvpx_pa[e - 1] : 0;
		return true;
	case TV(VCPU_STATE_DETAILS): *x = vcpu_state_details(v); return true;
	default: return false;
	}
}

/* Element e of entry r; false if this module keeps no value for it (L2 VM pages). Guest CR0/
 * CR4 and IA32_SPEC_CTRL read natively: the host's debug view is the real value. */
static bool element_value(const struct md_vp *v, struct md_ref r, unsigned e, uint64_t *x)
{
	*x = 0;
	if (module_state_value(v, r, e, x))
		return true;
	if (!elem_ptr(v, r, e))
		return false;
	*x = load(v, r, e);
	return true;
}

static uint64_t rd_mask_of(const struct md_vp *v, struct md_ref r)
{
	uint64_t x;

	if (!visible(v, r) || !element_value(v, r, 0, &x))
		return 0;
	return v->debug ? r.d->dbg_rd_mask : r.d->host_rd_mask;
}

/* ---- lookup and iteration ---------------------------------------------------------------- */

static uint64_t first_from(const struct md_vp *v, bool vmcs, unsigned idx)
{
	unsigned n = vmcs ? md_td_vmcs_fields_count : md_tdvps_fields_count;

	for (; idx < n; idx++)
		if (rd_mask_of(v, ref(vmcs, idx)))
			return element_id(ref(vmcs, idx), 0);
	return vmcs ? MD_VP_NULL_FIELD_ID : first_from(v, true, 0);
}

uint64_t md_vp_first_id(const struct md_vp *v)
{
	return first_from(v, false, 0);
}

/* access_rules: sequence and reserved bits 0; class 0 selects the TD VMCS table; the
 * FIELD_CODE must name an element (a VMCS "high" access, odd code, names none). */
static uint64_t locate(const struct md_vp *v, uint64_t id, struct md_ref *r, unsigned *elem)
{
	bool vmcs = CLASS_CODE(id) == VMCS_CLASS;
	unsigned n = vmcs ? md_td_vmcs_fields_count : md_tdvps_fields_count;

	if (id & ID_MUST_BE_ZERO)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	for (unsigned i = 0; i < n; i++) {
		struct md_ref c = ref(vmcs, i);
		uint64_t base = FIELD_CODE(c.d->field_id), code = FIELD_CODE(id);
		if (CLASS_CODE(c.d->field_id) != CLASS_CODE(id) || code < base ||
		    code >= base + (uint64_t)md_num_elements(c.d) * c.d->stride || !visible(v, c))
			continue;
		if ((code - base) % c.d->stride)
			return TDX_METADATA_FIELD_ID_INCORRECT;
		*r = c;
		*elem = (unsigned)((code - base) / c.d->stride);
		return TDX_SUCCESS;
	}
	return TDX_METADATA_FIELD_ID_INCORRECT;
}

uint64_t md_vp_read(const struct md_vp *v, uint64_t id, uint64_t *value, uint64_t *next)
{
	struct md_ref r;
	unsigned e;
	uint64_t x, mask, ret = locate(v, id, &r, &e);

	if (ret)
		return ret;
	mask = rd_mask_of(v, r);
	if (!mask || !element_value(v, r, e, &x))
		return TDX_METADATA_FIELD_NOT_READABLE;
	*value = x & md_elem_size_mask(r.d) & mask;
	*next = e + 1 < md_num_elements(r.d) ? element_id(r, e + 1) : first_from(v, r.vmcs, r.idx + 1);
	return TDX_SUCCESS;
}

/* ---- writes ------------------------------------------------------------------------------ */

static bool private_gpa_valid(const struct md_vp *v, uint64_t gpa)
{
	unsigned width = v->tdcs->gpaw ? 52u : 48u;

	return gpa < BIT64(width) && !(gpa & BIT64(width - 1));
}

/* Address attributes of the entry: shared HPAs must be shared and aligned, private GPAs
 * valid for the TD's GPAW; NULL_PA ("none") is always accepted. */
static uint64_t check_attributes(const struct md_vp *v, struct md_ref r, uint64_t x)
{
	uint64_t size = (r.vmcs && r.idx == VM(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS)) ? PID_SIZE : SHARED_PAGE_SIZE;

	if (x == NULL_PA)
		return TDX_SUCCESS;
	if ((r.d->flags & MD_FLAG_HPA) && (r.d->flags & MD_FLAG_SHARED) && !module_is_shared_hpa(v->m, x, size, size))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	if ((r.d->flags & MD_FLAG_GPA) && (r.d->flags & MD_FLAG_PRIVATE) && !private_gpa_valid(v, x))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	return TDX_SUCCESS;
}

/* A CR write as the guest would do it: bits the host owns must match the read shadow. */
static bool apply_cr_controls(uint64_t old, uint64_t *x, uint64_t mask, uint64_t shadow)
{
	if ((*x & mask) != (shadow & mask))
		return false;
	*x = (old & mask) | (*x & ~mask);
	return true;
}

static uint64_t efer_with_lma(uint64_t efer, uint64_t cr0)
{
	efer &= ~BIT64(EFER_LMA);
	return (efer & BIT64(EFER_LME)) && (cr0 & BIT64(CR0_PG)) ? efer | BIT64(EFER_LMA) : efer;
}

static uint64_t field_code_of(unsigned vmcs_idx)
{
	return FIELD_CODE(md_td_vmcs_fields[vmcs_idx].field_id);
}

/* Checks of the VMCS fields with special write handling; side effects go to *fx so that
 * nothing is stored when a check fails. */
struct side_effects {
	bool efer, cr4_shadow, tdvps;
	uint64_t efer_v, cr4_shadow_v, tdvps_v;
	unsigned tdvps_idx;
};

static uint64_t vmcs_special_cr(const struct md_vp *v, unsigned idx, uint64_t *x, struct side_effects *fx)
{
	uint64_t old = vmcs_get(v, idx);

	if (idx == VM(GUEST_CR0)) {
		if (!apply_cr_controls(old, x, vmcs_get(v, VM(CR0_GUEST_HOST_MASK)), vmcs_get(v, VM(CR0_READ_SHADOW))))
			return TDX_METADATA_FIELD_VALUE_NOT_VALID;
		fx->efer = true;
		fx->efer_v = efer_with_lma(vmcs_get(v, VM(IA32_EFER)), *x);
		return TDX_SUCCESS;
	}
	/* CR4.MCE: the guest may clear its view (the read shadow); the real bit stays 1. */
	fx->cr4_shadow = true;
	fx->cr4_shadow_v = (vmcs_get(v, VM(CR4_READ_SHADOW)) & ~BIT64(CR4_MCE)) | (*x & BIT64(CR4_MCE));
	*x |= BIT64(CR4_MCE);
	if (!apply_cr_controls(old, x, vmcs_get(v, VM(CR4_GUEST_HOST_MASK)) & ~BIT64(CR4_MCE), fx->cr4_shadow_v))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	return TDX_SUCCESS;
}

static void shadow(struct side_effects *fx, unsigned tdvps_idx, uint64_t x)
{
	fx->tdvps = true;
	fx->tdvps_idx = tdvps_idx;
	fx->tdvps_v = x;
}

static uint64_t vmcs_special(const struct md_vp *v, unsigned idx, uint64_t *x, struct side_effects *fx)
{
	switch (idx) {
	case VM(GUEST_CR0):
	case VM(GUEST_CR4):
		return vmcs_special_cr(v, idx, x, fx);
	case VM(IA32_DEBUGCTL):
		if (!(*x & BIT64(DEBUGCTL_BTS)) && (*x & BIT64(DEBUGCTL_TR)) && !v->debug)
			return TDX_METADATA_FIELD_VALUE_NOT_VALID;
		*x &= ~BIT64(DEBUGCTL_EN_UNCORE_PMI); /* the LP's own setting; 0 on simulated LPs */
		return TDX_SUCCESS;
	case VM(PIN_BASED_VM_EXECTION_CONTROLS):
		if (*x & BIT64(PINBASED_POSTED_INTERRUPTS)) {
			if (vmcs_get(v, VM(POSTED_INTERRUPT_NOTIFICATION_VECTOR)) == PI_VECTOR_UNSET)
				return api_error_with_operand_id(TDX_TD_VMCS_FIELD_NOT_INITIALIZED,
								 field_code_of(VM(POSTED_INTERRUPT_NOTIFICATION_VECTOR)));
			if (vmcs_get(v, VM(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS)) == NULL_PA)
				return api_error_with_operand_id(TDX_TD_VMCS_FIELD_NOT_INITIALIZED,
								 field_code_of(VM(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS)));
		}
		shadow(fx, TV(SHADOW_PINBASED_EXEC_CTLS), *x);
		return TDX_SUCCESS;
	case VM(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS):
		shadow(fx, TV(SHADOW_PID_HPA), *x);
		return TDX_SUCCESS;
	case VM(POSTED_INTERRUPT_NOTIFICATION_VECTOR):
		if (*x < PI_VECTOR_MIN || *x > PI_VECTOR_MAX)
			return TDX_METADATA_FIELD_VALUE_NOT_VALID;
		shadow(fx, TV(SHADOW_POSTED_INT_NOTIFICATION_VECTOR), *x);
		return TDX_SUCCESS;
	case VM(SECONDARY_PROCESSOR_BASED_VM_EXECTION_CONTROLS):
		/* PML needs a debuggable TD and a PML address already set. */
		if ((*x & BIT64(PROCBASED2_EN_PML)) && (!v->debug || (vmcs_get(v, VM(PML_ADDRESS)) & BIT64(63))))
			return TDX_METADATA_FIELD_VALUE_NOT_VALID;
		return TDX_SUCCESS;
	case VM(SHARED_EPTP):
		shadow(fx, TV(SHADOW_SHARED_EPTP), *x);
		return TDX_SUCCESS;
	default: /* INSTRUCTION_TIMEOUT_CONTROL: stored as is */
		return TDX_SUCCESS;
	}
}

/* TDVPS fields with special write handling the host can reach through its write masks. */
static uint64_t tdvps_special(const struct md_vp *v, unsigned idx, unsigned e)
{
	if (idx != TV(XBUFF))
		return TDX_SUCCESS; /* IA32_SPEC_CTRL (not virtualised here), XFAM, L2_CTLS: stored */
	/* The XSAVE header and the PT state's IA32_RTIT_CTL image are the module's. */
	if (e >= XSAVE_HEADER_FIRST_QWORD && e < XSAVE_HEADER_FIRST_QWORD + XSAVE_HEADER_QWORDS)
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	if ((v->tdcs->xfam & BIT64(XFAM_PT)) && e == v->tdcs->xbuff_offsets[XFAM_PT] / 8u)
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	return TDX_SUCCESS;
}

/* access_rules "Write" plus the real module's VP rules: NULL_PA current values of address
 * fields count as 0 outside the write mask, then attribute checks, then special handling. */
uint64_t md_vp_write(const struct md_vp *v, uint64_t id, uint64_t value, uint64_t wr_request, uint64_t *old)
{
	struct side_effects fx = { 0 };
	struct md_ref r;
	unsigned e;
	uint64_t cur, wr, combined, base, x, ret = locate(v, id, &r, &e);

	if (ret)
		return ret;
	wr = v->debug ? r.d->dbg_wr_mask : r.d->host_wr_mask;
	combined = wr & wr_request;
	if (!combined || !element_value(v, r, e, &cur) || module_state_value(v, r, e, &x))
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	base = combined != md_elem_size_mask(r.d) ? cur : 0;
	if ((r.d->flags & (MD_FLAG_GPA | MD_FLAG_HPA)) && (base & BIT64(63)))
		base &= wr;
	if ((base ^ value) & wr_request & ~wr)
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	x = ((base & ~combined) | (value & combined)) & md_elem_size_mask(r.d);
	ret = check_attributes(v, r, x);
	if (!ret && (r.d->flags & MD_FLAG_SPECIAL_WR))
		ret = r.vmcs ? vmcs_special(v, r.idx, &x, &fx) : tdvps_special(v, r.idx, e);
	if (ret)
		return ret;

	/* Nothing can fail past this point. */
	store(v, r, e, x);
	if (fx.efer)
		store(v, ref(true, VM(IA32_EFER)), 0, fx.efer_v);
	if (fx.cr4_shadow)
		store(v, ref(true, VM(CR4_READ_SHADOW)), 0, fx.cr4_shadow_v);
	if (fx.tdvps)
		store(v, ref(false, fx.tdvps_idx), 0, fx.tdvps_v);
	*old = cur & md_elem_size_mask(r.d) & (v->debug ? r.d->dbg_rd_mask : r.d->host_rd_mask);
	return TDX_SUCCESS;
}

/* ---- opening the vCPU -------------------------------------------------------------------- */

static uint64_t lock_tdr_implicit(struct tdx_module *m, uint64_t tdr_pa, struct pamt_entry **e)
{
	struct pamt_entry *e1g, *e2m;
	uint64_t ret = pamt_walk(m, tdr_pa, &e1g, &e2m, e);

	if (ret)
		return ret;
	if (!pamt_entry_try_lock_shared(*e)) {
		*e = NULL;
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_TDR);
	}
	return TDX_SUCCESS;
}

static uint64_t map_context(struct md_vp *v, uint64_t tdr_pa, uint32_t leaf)
{
	struct tdr *tdr = td_map_tdr(v->m, tdr_pa);
	struct tdcs *tdcs;
	uint64_t ret;

	if (!tdr)
		return TDX_SEAMCALL_VMFAILINVALID;
	ret = td_check_state(v->m, tdr, leaf, &tdcs);
	if (ret)
		return ret;
	if (plat_seam_map(v->m->plat, v->tdvpr_pa, tdr->hkid, (void **)&v->vp)) {
		plat_seam_machine_check(v->m->plat, v->tdvpr_pa);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	v->tdr = tdr;
	v->tdcs = tdcs;
	v->debug = tdcs->attributes & TD_ATTRIBUTES_DEBUG_MASK;
	return tdvps_map_pages(v->m, tdr, v->vp, &v->pg);
}

/* The real module's check_and_associate_vcpu: a vCPU runs on, and is read on, one LP. */
static uint64_t associate(struct md_vp *v, bool write)
{
	struct tdvps *vp = v->vp;

	if (vp->state == VCPU_DISABLED && write)
		return TDX_VCPU_STATE_INCORRECT;
	return tdvps_associate(vp, (struct tdcs *)v->tdcs, v->lp);
}

uint64_t md_vp_open(struct md_vp *v, uint64_t tdvpr_pa, uint32_t leaf, bool write, struct pamt_lock *l,
		    struct pamt_entry **tdr_entry)
{
	/* Shared, as in the real module: readers of one vCPU do not exclude each other, and the
	 * association is a compare-and-swap. */
	uint64_t ret = pamt_check_lock_explicit(v->m, tdvpr_pa, OPERAND_ID_RCX, false, PT_TDVPR, l);
	uint64_t tdr_pa;

	*tdr_entry = NULL;
	if (ret)
		return ret;
	v->tdvpr_pa = tdvpr_pa;
	tdr_pa = pamt_owner(l->leaf);
	ret = lock_tdr_implicit(v->m, tdr_pa, tdr_entry);
	if (!ret)
		ret = map_context(v, tdr_pa, leaf);
	if (!ret)
		ret = associate(v, write);
	if (ret)
		md_vp_close(l, *tdr_entry);
	return ret;
}

void md_vp_close(struct pamt_lock *l, struct pamt_entry *tdr_entry)
{
	if (tdr_entry)
		pamt_entry_unlock_shared(tdr_entry);
	pamt_unlock(l);
}
