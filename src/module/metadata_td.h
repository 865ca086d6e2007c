/* TD-context metadata (TDR and TDCS fields): the host's single-element read and write. */
#ifndef MODULE_METADATA_TD_H
#define MODULE_METADATA_TD_H

#include "metadata.h"
#include "td.h"

#define MD_TD_NULL_FIELD_ID UINT64_MAX

/* The TD being accessed and the mask set that applies to it: the host's (DEBUG TDs use
 * dbg_* masks, others prod_*) or, for TDG.VM.RD/WR, the TD's own guest_* masks. */
struct md_td {
	const struct tdx_module *m;
	unsigned lp;
	const struct tdr *tdr;
	struct tdcs *tdcs;
	bool debug;
	bool guest;
};

/* Lock (shared) and map the TDR operand in RCX, check the TD's state for `leaf` and fill t.
 * On failure nothing stays locked. */
uint64_t md_td_open(struct md_td *t, uint64_t tdr_pa, uint32_t leaf, struct pamt_lock *l);

/* First readable field id of the context, or MD_TD_NULL_FIELD_ID. */
uint64_t md_td_first_id(const struct md_td *t);
/* One element: value & read mask, and the next readable field id. Plain statuses
 * (FIELD_ID_INCORRECT, NOT_READABLE). */
uint64_t md_td_read(const struct md_td *t, uint64_t id, uint64_t *value, uint64_t *next);
/* One element under the write rules: *old := previous value & read mask. Plain statuses
 * (FIELD_ID_INCORRECT, NOT_READABLE for CPUID entries, NOT_WRITABLE, VALUE_NOT_VALID,
 * WR_MASK_NOT_VALID). With t->guest the guest write rules apply (TD_CTLS). */
uint64_t md_td_write(const struct md_td *t, uint64_t id, uint64_t value, uint64_t wr_request, uint64_t *old);

#endif
