/* VP-context metadata (TDVPS and TD VMCS fields): the host's single-element read and write
 * (TDH.VP.RD / TDH.VP.WR). */
#ifndef MODULE_METADATA_VP_H
#define MODULE_METADATA_VP_H

#include "metadata.h"
#include "tdvps.h"

#define MD_VP_NULL_FIELD_ID UINT64_MAX

/* The vCPU being accessed, its TD and the mask set that applies (DEBUG TDs: dbg_*). */
struct md_vp {
	struct tdx_module *m;
	unsigned lp;
	uint64_t tdvpr_pa;
	const struct tdr *tdr;
	const struct tdcs *tdcs;
	struct tdvps *vp;
	struct tdvps_pages pg;
	bool debug;
};

/* First readable field id of the context, or MD_VP_NULL_FIELD_ID. */
uint64_t md_vp_first_id(const struct md_vp *v);
/* One element: value & read mask, and the next readable field id (FIELD_ID_INCORRECT,
 * NOT_READABLE). */
uint64_t md_vp_read(const struct md_vp *v, uint64_t id, uint64_t *value, uint64_t *next);
/* One element under the host write rules and the real module's special write handling;
 * *old := previous value & read mask. Nothing is stored unless TDX_SUCCESS. */
uint64_t md_vp_write(const struct md_vp *v, uint64_t id, uint64_t value, uint64_t wr_request, uint64_t *old);

/* TDH.VP.RD/WR's operand checks in the real module's order: TDVPR (locked exclusive here,
 * shared in 1.5.01: association below needs one owner), its TDR (implicit, shared,
 * TDX_OPERAND_BUSY + OPERAND_ID_TDR), TD state for leaf, every TDVPS page present, then the
 * vCPU associated with this LP (a DISABLED vCPU only for reads). On failure nothing stays
 * locked; on success md_vp_close() releases. */
uint64_t md_vp_open(struct md_vp *v, uint64_t tdvpr_pa, uint32_t leaf, bool write, struct pamt_lock *l,
		    struct pamt_entry **tdr_entry);
void md_vp_close(struct pamt_lock *l, struct pamt_entry *tdr_entry);
#endif
