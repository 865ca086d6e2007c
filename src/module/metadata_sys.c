/* Global (SYS context) metadata: field lookup, values, iteration and list dumps, for the
 * host (TDH.SYS.RD/RDALL, vmm_rd masks) or the TD itself (TDG.SYS.RD/RDALL, guest_rd masks).
 * The field table is generated from data/abi/metadata-fields.json, values from the profile. */
#include <string.h>

#include "metadata.h"

#define NULL_FIELD_ID UINT64_MAX
#define ELEM_SIZE_CODE(id) (((id) & FID(ELEMENT_SIZE_CODE)) >> FID_SHIFT(ELEMENT_SIZE_CODE))

static uint64_t force_sys_context(uint64_t id)
{
	return id & ~FID(CONTEXT_CODE); /* MD_CONTEXT_SYS is 0 */
}

static uint64_t entry_span(const struct md_field_desc *d)
{
	return (uint64_t)d->num_fields * d->elems_per_field * d->stride;
}

/* Class, then field code: the order of the generated table (the unit test
 * sys_metadata_table_sorted_and_disjoint pins it). */
static uint64_t sort_key(uint64_t id)
{
	return (CLASS_CODE(id) << 32) | FIELD_CODE(id);
}

/* Table index of the entry holding the element, or -1: the last entry starting at or before
 * it, by binary search (TDH.SYS.RD's cost does not grow with the field's place). */
static int lookup(uint64_t id)
{
	unsigned lo = 0, hi = md_sys_fields_count;
	const struct md_field_desc *d;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (sort_key(md_sys_fields[mid].field_id) <= sort_key(id))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	d = &md_sys_fields[lo - 1];
	if (CLASS_CODE(d->field_id) != CLASS_CODE(id) || FIELD_CODE(id) >= FIELD_CODE(d->field_id) + entry_span(d))
		return -1;
	return (int)(lo - 1);
}

static uint64_t runtime_value(const struct tdx_module *m, unsigned rt, unsigned elem)
{
	switch (rt) {
	case MD_RT_NUM_PKGS: return m->sysinfo.num_pkgs;
	case MD_RT_PKG_FMS: return elem < m->sysinfo.num_pkgs ? m->sysinfo.pkg_fms[elem] : 0;
	case MD_RT_NUM_HANDOFF_PAGES: return m->sysinfo.num_handoff_pages;
	case MD_RT_HANDOFF_DATA_VALID: return m->handoff.valid;
	case MD_RT_HANDOFF_DATA_HV: return m->handoff.hv;
	case MD_RT_HANDOFF_DATA_SIZE: return m->handoff.size;
	case MD_RT_SYS_ATTRIBUTES: return m->sys_attributes;
	case MD_RT_CMR_BASE: return elem < MAX_CMR ? m->sysinfo.cmr[elem].base : 0;
	case MD_RT_CMR_SIZE: return elem < MAX_CMR ? m->sysinfo.cmr[elem].size : 0;
	case MD_RT_XFAM_FIXED0: return module_xfam_fixed0(m);
	case MD_RT_CPUID_CONFIG_LEAVES:
		return elem < module_cpuid_tables(m)->num_config
			       ? module_cpuid_tables(m)->configurable[elem].leaf |
					 ((uint64_t)module_cpuid_tables(m)->configurable[elem].subleaf << 32)
			       : UINT64_MAX;
	case MD_RT_CPUID_CONFIG_VALUES: {
		unsigned f = elem / 2;
		const struct cpuid_regs *r;
		if (f >= module_cpuid_tables(m)->num_config)
			return 0;
		r = &module_cpuid_tables(m)->configurable[f].config_direct; /* 1.5.01 reports only CONFIG_DIRECT here */
		return (elem & 1) ? ((uint64_t)r->edx << 32) | r->ecx : ((uint64_t)r->ebx << 32) | r->eax;
	}
	case MD_RT_NUM_ALLOWED_FMS: return module_num_allowed_fms(m);
	case MD_RT_ALLOWED_FMS: return module_allowed_fms(m, elem);
	default: return 0;
	}
}

static uint64_t element_value(const struct tdx_module *m, enum md_accessor who, unsigned idx, unsigned elem)
{
	const struct md_field_desc *d = &md_sys_fields[idx];
	const struct md_sys_value *v = &m->profile->sys_values[idx];
	uint64_t val = v->runtime == MD_RT_CONST ? v->value : runtime_value(m, v->runtime, elem);

	return val & md_elem_size_mask(d) & md_sys_rd_mask(d, who);
}

/* First element of the next readable entry after table index idx, or NULL_FIELD_ID. */
static uint64_t next_entry_id(enum md_accessor who, int idx)
{
	for (unsigned i = (unsigned)(idx + 1); i < md_sys_fields_count; i++)
		if (md_sys_rd_mask(&md_sys_fields[i], who))
			return md_sys_fields[i].field_id;
	return NULL_FIELD_ID;
}

uint64_t md_sys_read_as(const struct tdx_module *m, enum md_accessor who, uint64_t field_id, uint64_t *value,
			uint64_t *next_id)
{
	const uint64_t must_be_zero = FID(RESERVED_0) | FID(RESERVED_1) | FID(RESERVED_2) | FID(RESERVED_3) |
				      FID(LAST_ELEMENT_IN_FIELD) | FID(LAST_FIELD_IN_SEQUENCE);
	const struct md_field_desc *d;
	uint64_t id = force_sys_context(field_id), code, elem;
	int idx;

	*value = 0;
	*next_id = NULL_FIELD_ID;
	if (md_is_null_id(field_id)) {
		*next_id = next_entry_id(who, -1);
		return TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
	}
	if (id & must_be_zero)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	idx = lookup(id);
	if (idx < 0)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	d = &md_sys_fields[idx];
	if (!md_sys_rd_mask(d, who))
		return TDX_METADATA_FIELD_NOT_READABLE;
	code = FIELD_CODE(id) - FIELD_CODE(d->field_id);
	if (code % d->stride)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	elem = code / d->stride;
	*value = element_value(m, who, (unsigned)idx, (unsigned)elem);
	if ((elem + 1) * d->stride < entry_span(d))
		*next_id = (id & ~FID(FIELD_CODE)) | ((FIELD_CODE(id) + d->stride) << FID_SHIFT(FIELD_CODE));
	else
		*next_id = next_entry_id(who, idx);
	return TDX_SUCCESS;
}

uint64_t md_sys_read(const struct tdx_module *m, uint64_t field_id, uint64_t *value, uint64_t *next_id)
{
	return md_sys_read_as(m, MD_ACCESSOR_HOST, field_id, value, next_id);
}

/* A field = one entry index plus a field number inside it. */
struct md_pos {
	int idx;
	unsigned field;
};

static uint64_t field_id_of(struct md_pos p)
{
	const struct md_field_desc *d = &md_sys_fields[p.idx];
	uint64_t code = FIELD_CODE(d->field_id) + (uint64_t)p.field * d->elems_per_field * d->stride;
	return (d->field_id & ~FID(FIELD_CODE)) | (code << FID_SHIFT(FIELD_CODE));
}

/* The next readable field after p (p.idx == -1: the first one). */
static bool next_field(enum md_accessor who, struct md_pos *p)
{
	if (p->idx >= 0 && p->field + 1 < md_sys_fields[p->idx].num_fields) {
		p->field++;
		return true;
	}
	for (int i = p->idx + 1; i < (int)md_sys_fields_count; i++)
		if (md_sys_rd_mask(&md_sys_fields[i], who)) {
			p->idx = i;
			p->field = 0;
			return true;
		}
	return false;
}

/* Can field q extend the sequence whose last field is p? */
static bool continues(struct md_pos p, struct md_pos q)
{
	const struct md_field_desc *a = &md_sys_fields[p.idx], *b = &md_sys_fields[q.idx];
	uint64_t pa = field_id_of(p), qa = field_id_of(q);

	return CLASS_CODE(pa) == CLASS_CODE(qa) &&
	       FIELD_CODE(qa) == FIELD_CODE(pa) + (uint64_t)a->elems_per_field * a->stride &&
	       a->elems_per_field == b->elems_per_field && ELEM_SIZE_CODE(pa) == ELEM_SIZE_CODE(qa);
}

static uint64_t seq_header(struct md_pos first, unsigned nfields)
{
	const struct md_field_desc *d = &md_sys_fields[first.idx];
	uint64_t id = field_id_of(first) & ~(FID(WRITE_MASK_VALID) | FID(LAST_ELEMENT_IN_FIELD) |
					     FID(LAST_FIELD_IN_SEQUENCE) | FID(CONTEXT_CODE));
	id |= (uint64_t)(d->elems_per_field - 1) << FID_SHIFT(LAST_ELEMENT_IN_FIELD);
	id |= (uint64_t)(nfields - 1) << FID_SHIFT(LAST_FIELD_IN_SEQUENCE);
	return id;
}

/* Resolve RDALL's start: null = first readable field; else the first element of a field. */
static uint64_t rdall_start(enum md_accessor who, uint64_t first_id, struct md_pos *p)
{
	const struct md_field_desc *d;
	uint64_t id = force_sys_context(first_id), off, per_field;
	int idx;

	if (md_is_null_id(first_id)) {
		p->idx = -1;
		return next_field(who, p) ? TDX_SUCCESS : TDX_METADATA_FIELD_ID_INCORRECT;
	}
	idx = lookup(id);
	if (idx < 0)
		return TDX_METADATA_FIELD_ID_INCORRECT;
	d = &md_sys_fields[idx];
	off = FIELD_CODE(id) - FIELD_CODE(d->field_id);
	per_field = (uint64_t)d->elems_per_field * d->stride;
	if (off % per_field || ELEM_SIZE_CODE(id) != ELEM_SIZE_CODE(d->field_id))
		return TDX_METADATA_FIELD_ID_INCORRECT;
	p->idx = idx;
	p->field = (unsigned)(off / per_field);
	if (!md_sys_rd_mask(d, who) && !next_field(who, p))
		return TDX_METADATA_FIELD_ID_INCORRECT;
	return TDX_SUCCESS;
}

static void put64(uint8_t *page, unsigned off, uint64_t v)
{
	memcpy(page + off, &v, sizeof(v));
}

uint64_t md_sys_rdall_as(const struct tdx_module *m, enum md_accessor who, uint64_t first_id, uint8_t *page,
			 uint64_t *next_id)
{
	struct md_pos p, prev = { -1, 0 }, seq_first = { -1, 0 };
	unsigned used = 8, seqs = 0, hdr_off = 0, nfields = 0;
	bool more = true;
	uint64_t st = rdall_start(who, first_id, &p);

	*next_id = NULL_FIELD_ID;
	if (st)
		return st;
	while (more) {
		const struct md_field_desc *d = &md_sys_fields[p.idx];
		unsigned need = d->elems_per_field * 8u;

		if (prev.idx < 0 || !continues(prev, p)) {
			/* A new sequence needs room for its header and one whole field. */
			if (used + 8 + need > PLAT_PAGE_SIZE)
				break;
			hdr_off = used;
			used += 8;
			seq_first = p;
			nfields = 0;
			seqs++;
		} else if (used + need > PLAT_PAGE_SIZE) {
			break;
		}
		for (unsigned k = 0; k < d->elems_per_field; k++)
			put64(page, used + 8 * k, element_value(m, who, (unsigned)p.idx, p.field * d->elems_per_field + k));
		used += need;
		put64(page, hdr_off, seq_header(seq_first, ++nfields));
		prev = p;
		more = next_field(who, &p);
	}
	put64(page, 0, (uint64_t)used | ((uint64_t)seqs << 16));
	if (more) {
		*next_id = field_id_of(p);
		return TDX_METADATA_LIST_OVERFLOW;
	}
	return TDX_SUCCESS;
}

uint64_t md_sys_rdall(const struct tdx_module *m, uint64_t first_id, uint8_t *page, uint64_t *next_id)
{
	return md_sys_rdall_as(m, MD_ACCESSOR_HOST, first_id, page, next_id);
}
