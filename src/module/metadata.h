/* What the three metadata contexts (global, TD, VP) share: field-id bit fields from the
 * generated encoding and the generic per-entry helpers of the generated field tables. */
#ifndef MODULE_METADATA_H
#define MODULE_METADATA_H

#include "module_internal.h"

#define FID(name) MD_FIELD_ID_##name##_MASK
#define FID_SHIFT(name) MD_FIELD_ID_##name##_SHIFT
#define FIELD_CODE(id) (((id) & FID(FIELD_CODE)) >> FID_SHIFT(FIELD_CODE))
#define CLASS_CODE(id) (((id) & FID(CLASS_CODE)) >> FID_SHIFT(CLASS_CODE))
/* Bits a single-element access must leave 0 (access_rules). */
#define ID_MUST_BE_ZERO                                                                         \
	(FID(RESERVED_0) | FID(RESERVED_1) | FID(RESERVED_2) | FID(RESERVED_3) | FID(LAST_ELEMENT_IN_FIELD) | \
	 FID(LAST_FIELD_IN_SEQUENCE))

/* The null field id (-1): "none" as an output, "the first" as an input of the iterating
 * leaves. */
#define MD_NULL_FIELD_ID UINT64_MAX

/* The null field id (-1) whatever context the caller put in it. */
static inline bool md_is_null_id(uint64_t id)
{
	return (id | FID(CONTEXT_CODE)) == UINT64_MAX;
}

/* The bits an element of this entry has. */
static inline uint64_t md_elem_size_mask(const struct md_field_desc *d)
{
	return d->elem_bytes == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * d->elem_bytes)) - 1;
}

static inline unsigned md_num_elements(const struct md_field_desc *d)
{
	return (unsigned)d->num_fields * d->elems_per_field;
}

/* Who is reading: the host VMM (SEAMCALL) or the TD itself (TDCALL). The generated tables
 * carry one mask set per accessor. */
enum md_accessor {
	MD_ACCESSOR_HOST,
	MD_ACCESSOR_GUEST,
};

/* SYS-context read mask of an entry for that accessor (vmm_rd or guest_rd). */
static inline uint64_t md_sys_rd_mask(const struct md_field_desc *d, enum md_accessor who)
{
	return who == MD_ACCESSOR_GUEST ? d->guest_rd_mask : d->host_rd_mask;
}

/* md_sys_read() / md_sys_rdall() (module_internal.h) for a given accessor: the host versions
 * are these with MD_ACCESSOR_HOST. */
uint64_t md_sys_read_as(const struct tdx_module *m, enum md_accessor who, uint64_t field_id, uint64_t *value,
			uint64_t *next_id);
uint64_t md_sys_rdall_as(const struct tdx_module *m, enum md_accessor who, uint64_t first_id, uint8_t *page,
			 uint64_t *next_id);

#endif
