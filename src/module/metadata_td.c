/* TD-context metadata (TDR and TDCS fields) as the host sees it through TDH.MNG.RD and
 * TDH.MNG.WR: field lookup, values, production/debug masks, version-1 iteration and the
 * writable fields. The field table is generated from data/abi/metadata-fields.json.
 *
 * TDG.VM.RD/WR use the same code with the TD's own (guest) masks (struct md_td.guest).
 *
 * Fields of the table whose value this module does not keep read as NOT_READABLE (and are
 * skipped by version 1's iteration) rather than as an invented value: VIRTUAL_TSC,
 * NOTIFY_ENABLES, VM_CTLS, the virtual VMX capability MSRs, the migration (class 24),
 * service-TD (class 25) and MIGSC_LINKS fields, MSR_BITMAPS (TDH.MNG.INIT builds them,
 * td_msr.c, but they are not exposed here) and the L2 SEPT roots. */
#include <string.h>

#include "metadata_td.h"

#define NULL_FIELD_ID MD_TD_NULL_FIELD_ID
#define MAX_L2_VMS 3u

/* CPUID_VALUES field codes (metadata-fields.json cpuid_field_code_alternative). */
#define CPUID_CODE_ELEMENT 0x1u
#define CPUID_CODE_SUBLEAF_SHIFT 1
#define CPUID_CODE_SUBLEAF_MASK 0x7fu
#define CPUID_CODE_SUBLEAF_NA 0x100u
#define CPUID_CODE_LEAF_SHIFT 9
#define CPUID_CODE_LEAF_MASK 0x7fu
#define CPUID_CODE_LEAF_BIT31 0x10000u
#define CPUID_CODE_RESERVED (FID(FIELD_CODE) & ~UINT64_C(0x1ffff))
#define CPUID_LEAF_BIT31 0x80000000u

static uint64_t element_id(unsigned idx, unsigned elem)
{
	const struct md_field_desc *d = &md_td_fields[idx];
	uint64_t code = FIELD_CODE(d->field_id) + (uint64_t)elem * d->stride;

	return (d->field_id & ~FID(FIELD_CODE)) | (code << FID_SHIFT(FIELD_CODE));
}

/* The table ends with one SEPT root per L2 VM; those of VMs the TD does not have are hidden. */
static bool visible(const struct md_td *t, unsigned idx)
{
	unsigned l2 = t->tdcs->num_l2_vms < MAX_L2_VMS ? t->tdcs->num_l2_vms : MAX_L2_VMS;
	return idx < md_td_fields_count - (MAX_L2_VMS - l2);
}

/* Native TSC frequency from CPUID(0x15) on this LP (the module keeps no copy). */
static uint64_t native_tsc_hz(const struct md_td *t)
{
	struct cpuid_regs r;

	plat_cpuid(t->m->plat, t->lp, 0x15, 0, &r);
	return r.eax ? (uint64_t)r.ecx * r.ebx / r.eax : 0;
}

static bool tdr_value(const struct tdr *tdr, unsigned idx, unsigned e, uint64_t *v)
{
	switch (idx) {
	case MD_TD_FIELDS_FATAL_IDX: *v = tdr->fatal; break;
	case MD_TD_FIELDS_NUM_TDCX_IDX: *v = tdr->num_tdcx; break;
	case MD_TD_FIELDS_CHLDCNT_IDX: *v = tdr->chldcnt; break;
	case MD_TD_FIELDS_LIFECYCLE_STATE_IDX: *v = tdr->lifecycle_state; break;
	case MD_TD_FIELDS_TDCX_PA_IDX: *v = tdr->tdcx_pa[e]; break;
	case MD_TD_FIELDS_TD_UUID_IDX: *v = tdr->td_uuid[e]; break;
	case MD_TD_FIELDS_HKID_IDX: *v = tdr->hkid; break;
	case MD_TD_FIELDS_PKG_CONFIG_BITMAP_IDX: *v = tdr->pkg_config_bitmap; break;
	case MD_TD_FIELDS_HANDOFF_VERSION_IDX: *v = tdr->handoff_version; break;
	case MD_TD_FIELDS_SEAMDB_INDEX_IDX: *v = tdr->seamdb_index; break;
	case MD_TD_FIELDS_SEAMDB_NONCE_IDX: *v = tdr->seamdb_nonce[e]; break;
	default: return false;
	}
	return true;
}

/* Management, execution-control and epoch fields. */
static bool tdcs_control_value(const struct md_td *t, unsigned idx, unsigned e, uint64_t *v)
{
	const struct tdcs *c = t->tdcs;
	uint64_t hz;

	switch (idx) {
	case MD_TD_FIELDS_NUM_VCPUS_IDX: *v = c->num_vcpus; break;
	case MD_TD_FIELDS_NUM_ASSOC_VCPUS_IDX: *v = c->num_assoc_vcpus; break;
	case MD_TD_FIELDS_OP_STATE_IDX: *v = c->op_state; break;
	case MD_TD_FIELDS_NUM_L2_VMS_IDX: *v = c->num_l2_vms; break;
	case MD_TD_FIELDS_ATTRIBUTES_IDX: *v = c->attributes; break;
	case MD_TD_FIELDS_XFAM_IDX: *v = c->xfam; break;
	case MD_TD_FIELDS_MAX_VCPUS_IDX: *v = c->max_vcpus; break;
	case MD_TD_FIELDS_GPAW_IDX: *v = c->gpaw; break;
	case MD_TD_FIELDS_EPTP_IDX: *v = c->eptp; break;
	case MD_TD_FIELDS_TSC_OFFSET_IDX: *v = c->tsc_offset; break;
	case MD_TD_FIELDS_TSC_MULTIPLIER_IDX: *v = c->tsc_multiplier; break;
	case MD_TD_FIELDS_TSC_FREQUENCY_IDX: *v = c->tsc_frequency; break;
	case MD_TD_FIELDS_NUM_CPUID_VALUES_IDX: *v = module_cpuid_tables(t->m)->num_lookup; break;
	case MD_TD_FIELDS_XBUFF_SIZE_IDX: *v = c->xbuff_size; break;
	case MD_TD_FIELDS_HP_LOCK_TIMEOUT_IDX: /* kept in TSC ticks, reported in microseconds */
		hz = native_tsc_hz(t);
		*v = hz ? c->hp_lock_timeout * 1000000u / hz : 0;
		break;
	case MD_TD_FIELDS_CONFIG_FLAGS_IDX: *v = c->config_flags; break;
	case MD_TD_FIELDS_TD_CTLS_IDX: *v = c->td_ctls; break;
	case MD_TD_FIELDS_CPUID_VALID_IDX: /* 80 architectural slots, 64 lookup entries */
		*v = e < module_cpuid_tables(t->m)->num_lookup ? c->cpuid_valid[e] : 0;
		break;
	case MD_TD_FIELDS_XBUFF_OFFSETS_IDX: *v = c->xbuff_offsets[e]; break;
	case MD_TD_FIELDS_TD_EPOCH_IDX: *v = c->td_epoch; break;
	case MD_TD_FIELDS_REFCOUNT_IDX: *v = c->refcount[e]; break;
	default: return false;
	}
	return true;
}

/* A SEPT root entry (TDCS page 3, TD KeyID). */
static bool sept_root_value(const struct md_td *t, unsigned e, uint64_t *v)
{
	uint64_t pa = t->tdr->tdcx_pa[TDCS_PAGE_SEPT_ROOT] & plat_pa_mask(t->m->plat);
	void *page;

	if (plat_seam_map(t->m->plat, pa, t->tdr->hkid, &page))
		return false;
	memcpy(v, (const uint8_t *)page + 8 * e, sizeof(*v));
	return true;
}

/* Measurement, CPUID and virtual MSR fields. */
static bool tdcs_other_value(const struct md_td *t, unsigned idx, unsigned e, uint64_t *v)
{
	const struct tdcs *c = t->tdcs;

	switch (idx) {
	case MD_TD_FIELDS_MRTD_IDX: *v = c->mr_td[e]; break;
	case MD_TD_FIELDS_MRCONFIGID_IDX: *v = c->mr_config_id[e]; break;
	case MD_TD_FIELDS_MROWNER_IDX: *v = c->mr_owner[e]; break;
	case MD_TD_FIELDS_MROWNERCONFIG_IDX: *v = c->mr_owner_config[e]; break;
	case MD_TD_FIELDS_RTMR_IDX: *v = c->rtmr[e / 6][e % 6]; break;
	case MD_TD_FIELDS_CPUID_VALUES_IDX: *v = 0; break; /* read through its own encoding */
	case MD_TD_FIELDS_VIRTUAL_IA32_ARCH_CAPABILITIES_IDX: *v = c->virt_ia32_arch_capabilities; break;
	case MD_TD_FIELDS_SEPT_ROOT_IDX: return sept_root_value(t, e, v);
	default: return false;
	}
	return true;
}

/* Element e of table entry idx; false if this module does not keep that field. */
static bool element_value(const struct md_td *t, unsigned idx, unsigned e, uint64_t *v)
{
	*v = 0;
	return tdr_value(t->tdr, idx, e, v) || tdcs_control_value(t, idx, e, v) || tdcs_other_value(t, idx, e, v);
}

/* The accessor's masks of an entry: the guest's, or the host's of a DEBUG (dbg_*) or a
 * production (prod_*) TD. */
static uint64_t entry_rd_mask(const struct md_td *t, const struct md_field_desc *d)
{
	return t->guest ? d->guest_rd_mask : t->debug ? d->dbg_rd_mask : d->host_rd_mask;
}

static uint64_t entry_wr_mask(const struct md_td *t, const struct md_field_desc *d)
{
	return t->guest ? d->guest_wr_mask : t->debug ? d->dbg_wr_mask : d->host_wr_mask;
}

/* The accessor's read mask of entry idx; 0 for hidden entries and for fields this module
 * does not keep. */
static uint64_t rd_mask(const struct md_td *t, unsigned idx)
{
	const struct md_field_desc *d = &md_td_fields[idx];
	uint64_t mask = entry_rd_mask(t, d), v;

	return mask && visible(t, idx) && element_value(t, idx, 0, &v) ? mask : 0;
}

/* ---- CPUID_VALUES: FIELD_CODE names a (leaf, subleaf) and a qword of its registers ---- */

static uint64_t cpuid_field_id(const struct tdx_module *m, unsigned i, unsigned elem)
{
	const struct cpuid_lookup_desc *d = &module_cpuid_tables(m)->lookup[i];
	uint64_t code = elem | (d->leaf & CPUID_CODE_LEAF_MASK) << CPUID_CODE_LEAF_SHIFT;

	if (d->leaf & CPUID_LEAF_BIT31)
		code |= CPUID_CODE_LEAF_BIT31;
	if (d->subleaf == CPUID_SUBLEAF_NA)
		code |= CPUID_CODE_SUBLEAF_NA;
	else
		code |= (d->subleaf & CPUID_CODE_SUBLEAF_MASK) << CPUID_CODE_SUBLEAF_SHIFT;
	return (MD_TD_FIELDS_CPUID_VALUES_FIELD_ID & ~FID(FIELD_CODE)) | (code << FID_SHIFT(FIELD_CODE));
}

/* Lookup index named by a CPUID field code, or -1. */
static int cpuid_index(const struct tdx_module *m, uint64_t code)
{
	uint32_t leaf = (uint32_t)(code >> CPUID_CODE_LEAF_SHIFT) & CPUID_CODE_LEAF_MASK, subleaf;

	if (code & CPUID_CODE_RESERVED)
		return -1;
	if (code & CPUID_CODE_LEAF_BIT31)
		leaf |= CPUID_LEAF_BIT31;
	subleaf = (code & CPUID_CODE_SUBLEAF_NA) ? CPUID_SUBLEAF_NA
						 : (uint32_t)(code >> CPUID_CODE_SUBLEAF_SHIFT) & CPUID_CODE_SUBLEAF_MASK;
	const struct cpuid_tables *ct = module_cpuid_tables(m);

	for (unsigned i = 0; i < ct->num_lookup; i++)
		if (ct->lookup[i].valid && ct->lookup[i].leaf == leaf && ct->lookup[i].subleaf == subleaf)
			return (int)i;
	return -1;
}

static bool cpuid_readable(const struct md_td *t, unsigned i)
{
	return !module_cpuid_tables(t->m)->lookup[i].faulting && t->tdcs->cpuid_valid[i] && rd_mask(t, MD_TD_FIELDS_CPUID_VALUES_IDX);
}

static uint64_t first_id_from(const struct md_td *t, unsigned idx);

/* Next readable CPUID qword at or after lookup index i, else the next table entry's. */
static uint64_t cpuid_first_from(const struct md_td *t, unsigned i)
{
	for (; i < module_cpuid_tables(t->m)->num_lookup; i++)
		if (cpuid_readable(t, i))
			return cpuid_field_id(t->m, i, 0);
	return first_id_from(t, MD_TD_FIELDS_CPUID_VALUES_IDX + 1);
}

/* First element of the first readable entry at or after table index idx. */
static uint64_t first_id_from(const struct md_td *t, unsigned idx)
{
	for (; idx < md_td_fields_count; idx++) {
		if (!rd_mask(t, idx))
			continue;
		return idx == MD_TD_FIELDS_CPUID_VALUES_IDX ? cpuid_first_from(t, 0) : element_id(idx, 0);
	}
	return NULL_FIELD_ID;
}

static uint64_t cpuid_read(const struct md_td *t, uint64_t id, uint64_t *value, uint64_t *next)
{
	int i = cpuid_index(t->m, FIELD_CODE(id));
	const struct cpuid_regs *r;

	if (i < 0) /* the real module answers the TD itself "not readable" for a leaf it lacks */
		return (t->guest && !(FIELD_CODE(id) & CPUID_CODE_RESERVED)) ? TDX_METADATA_FIELD_NOT_READABLE
									 : TDX_METADATA_FIELD_ID_INCORRECT;
	if (!cpuid_readable(t, (unsigned)i))
		return TDX_METADATA_FIELD_NOT_READABLE;
	r = &t->tdcs->cpuid_values[i];
	if (id & CPUID_CODE_ELEMENT) {
		*value = ((uint64_t)r->edx << 32) | r->ecx;
		*next = cpuid_first_from(t, (unsigned)i + 1);
	} else {
		*value = ((uint64_t)r->ebx << 32) | r->eax;
		*next = cpuid_field_id(t->m, (unsigned)i, 1);
	}
	*value &= rd_mask(t, MD_TD_FIELDS_CPUID_VALUES_IDX);
	return TDX_SUCCESS;
}

/* ---- the generic single-element read ---------------------------------------------------- */

/* Table index of the visible entry holding the element, or -1. */
static int lookup(const struct md_td *t, uint64_t id)
{
	for (unsigned i = 0; i < md_td_fields_count; i++) {
		const struct md_field_desc *d = &md_td_fields[i];
		uint64_t base = FIELD_CODE(d->field_id), code = FIELD_CODE(id);
		if (visible(t, i) && CLASS_CODE(d->field_id) == CLASS_CODE(id) && code >= base &&
		    code < base + (uint64_t)md_num_elements(d) * d->stride)
			return (int)i;
	}
	return -1;
}

/* access_rules: the sequence bits and reserved bits must be 0; element size, increment
 * size, write-mask-valid and context of the input are ignored (the leaf forces TD). Finds
 * the visible table entry and the element the id names. */
static uint64_t locate(const struct md_td *t, uint64_t id, unsigned *idx, unsigned *elem)
{
	const struct md_field_desc *d;
	uint64_t code;
	int i;

	if (id & ID_MUST_BE_ZERO)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	i = lookup(t, id);
	if (i < 0)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	d = &md_td_fields[i];
	code = FIELD_CODE(id) - FIELD_CODE(d->field_id);
	if (code % d->stride)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	*idx = (unsigned)i;
	*elem = (unsigned)(code / d->stride);
	return TDX_SUCCESS;
}

static bool is_cpuid_class(uint64_t id)
{
	return CLASS_CODE(id) == CLASS_CODE(MD_TD_FIELDS_CPUID_VALUES_FIELD_ID);
}

uint64_t md_td_read(const struct md_td *t, uint64_t id, uint64_t *value, uint64_t *next)
{
	unsigned idx, elem;
	uint64_t mask, v, ret;

	if (is_cpuid_class(id))
		return (id & ID_MUST_BE_ZERO) ? TDX_METADATA_FIELD_ID_INCORRECT : cpuid_read(t, id, value, next);
	ret = locate(t, id, &idx, &elem);
	if (ret)
		return ret;
	mask = rd_mask(t, idx);
	if (!mask || !element_value(t, idx, elem, &v))
		return TDX_METADATA_FIELD_NOT_READABLE;
	*value = v & md_elem_size_mask(&md_td_fields[idx]) & mask;
	*next = elem + 1 < md_num_elements(&md_td_fields[idx]) ? element_id(idx, elem + 1) : first_id_from(t, idx + 1);
	return TDX_SUCCESS;
}

uint64_t md_td_first_id(const struct md_td *t)
{
	return first_id_from(t, 0);
}

/* ---- writes ------------------------------------------------------------------------------ */

#define HP_LOCK_TIMEOUT_MIN_USEC 10000u
#define HP_LOCK_TIMEOUT_MAX_USEC 100000000u

/* HP_LOCK_TIMEOUT is written in microseconds and kept in TSC ticks. Like 1.5.01 the tick
 * count is truncated to 32 bits, so long timeouts on a fast TSC read back shorter. */
static uint64_t write_hp_lock_timeout(const struct md_td *t, uint64_t usec, uint64_t combined)
{
	if (combined != UINT64_MAX) /* only a whole-field update is meaningful in these units */
		return TDX_METADATA_WR_MASK_NOT_VALID;
	if (usec < HP_LOCK_TIMEOUT_MIN_USEC || usec > HP_LOCK_TIMEOUT_MAX_USEC)
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	__atomic_store_n(&t->tdcs->hp_lock_timeout, (uint32_t)(usec * native_tsc_hz(t) / 1000000u),
			 __ATOMIC_RELAXED);
	return TDX_SUCCESS;
}

/* CPUID_VALUES go through their own encoding; no host write mask covers them, but a
 * faulting or invalid entry is refused as unreadable first, as on reads. */
static uint64_t cpuid_write_status(const struct md_td *t, uint64_t id)
{
	int i = cpuid_index(t->m, FIELD_CODE(id));

	if (i < 0)
		return (t->guest && !(FIELD_CODE(id) & CPUID_CODE_RESERVED)) ? TDX_METADATA_FIELD_NOT_READABLE
									 : TDX_METADATA_FIELD_ID_INCORRECT;
	if (module_cpuid_tables(t->m)->lookup[i].faulting || !t->tdcs->cpuid_valid[i])
		return TDX_METADATA_FIELD_NOT_READABLE;
	return TDX_METADATA_FIELD_NOT_WRITABLE;
}

/* TD_CTLS as the TD writes it (TDG.VM.WR; the host has no write mask for it): the only bit
 * of 1.5.01, PENDING_VE_DISABLE, may change only if the host allowed it at TDH.MNG.INIT
 * with CONFIG_FLAGS.FLEXIBLE_PENDING_VE; a write that keeps the value is accepted. */
static uint64_t write_td_ctls(const struct md_td *t, uint64_t old, uint64_t value, uint64_t combined)
{
	uint64_t next = (old & ~combined) | (value & combined);

	if (((next ^ old) & TD_CTLS_PENDING_VE_DISABLE_MASK) &&
	    !(t->tdcs->config_flags & CONFIG_FLAGS_FLEXIBLE_PENDING_VE_MASK))
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	if (next & TD_CTLS_RESERVED_MASK)
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	__atomic_store_n(&t->tdcs->td_ctls, next, __ATOMIC_RELAXED);
	return TDX_SUCCESS;
}

/* access_rules "Write": combined mask = entry mask & request; requested bits outside the
 * entry mask must keep their value. Of the fields 1.5.01 lets the host write, this module
 * keeps only HP_LOCK_TIMEOUT; VM_CTLS and NOTIFY_ENABLES are not kept (they read as
 * NOT_READABLE), so writing them is refused as NOT_WRITABLE instead of storing a value that
 * nothing would honour. The TD itself may write TD_CTLS (and NOTIFY_ENABLES, refused the
 * same way). */
uint64_t md_td_write(const struct md_td *t, uint64_t id, uint64_t value, uint64_t wr_request, uint64_t *old)
{
	const struct md_field_desc *d;
	unsigned idx, elem;
	uint64_t wr, combined, v, ret;

	if (is_cpuid_class(id))
		return (id & ID_MUST_BE_ZERO) ? TDX_METADATA_FIELD_ID_INCORRECT : cpuid_write_status(t, id);
	ret = locate(t, id, &idx, &elem);
	if (ret)
		return ret;
	d = &md_td_fields[idx];
	wr = entry_wr_mask(t, d);
	combined = wr & wr_request;
	if (!combined || !element_value(t, idx, elem, &v))
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	if ((v ^ value) & wr_request & ~wr)
		return TDX_METADATA_FIELD_VALUE_NOT_VALID;
	if (idx == MD_TD_FIELDS_HP_LOCK_TIMEOUT_IDX)
		ret = write_hp_lock_timeout(t, value, combined);
	else if (idx == MD_TD_FIELDS_TD_CTLS_IDX)
		ret = write_td_ctls(t, v, value, combined);
	else
		return TDX_METADATA_FIELD_NOT_WRITABLE;
	if (!ret)
		*old = v & md_elem_size_mask(d) & entry_rd_mask(t, d);
	return ret;
}

uint64_t md_td_open(struct md_td *t, uint64_t tdr_pa, uint32_t leaf, struct pamt_lock *l)
{
	struct tdx_module *m = (struct tdx_module *)t->m;
	struct tdr *tdr;
	struct tdcs *tdcs;
	uint64_t ret = td_open(m, tdr_pa, OPERAND_ID_RCX, false, leaf, l, &tdr, &tdcs);

	if (ret)
		return ret;
	t->tdr = tdr;
	t->tdcs = tdcs;
	t->debug = tdcs->attributes & TD_ATTRIBUTES_DEBUG_MASK;
	return TDX_SUCCESS;
}
