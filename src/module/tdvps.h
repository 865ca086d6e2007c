/* vCPU state (TDVPS) as this module lays it out in the TDVPR page and the TDVPX pages (all
 * TD KeyID).
 *
 * Page 0 (TDVPR) starts with struct tdvps, the module's own bookkeeping; the rest of the
 * pages hold one value per element of the VP metadata tables (metadata_vp.c):
 *   - TDVPS fields at their 1.5.01 implementation offsets (md_tdvps_fields[].offset), except
 *     the VE_INFO block, which 1.5.01 keeps at page 0 offset 0 where struct tdvps lives here:
 *     it moves up by TDVPS_VE_INFO_SHIFT into the gap 1.5.01 leaves before its management
 *     fields;
 *   - TD VMCS fields in page TDVPS_PAGE_VMCS (as in 1.5.01), 8 bytes per element in table
 *     order (md_td_vmcs_fields[].offset; hardware keeps this page's layout private);
 *   - VAPIC in page TDVPS_PAGE_VAPIC, XBUFF (XSAVE area) in pages 3-5.
 * The values of VCPU_STATE, VCPU_INDEX, NUM_TDVPS_PAGES, TDVPS_PAGE_PA and ASSOC_LPID are
 * not stored there: they are read from struct tdvps. */
#ifndef MODULE_TDVPS_H
#define MODULE_TDVPS_H

#include "td.h"

/* MIN_TDVPS_PAGES (generated): the TDVPR plus the TDVPX pages */
#define TDVPS_VE_INFO_SHIFT 0x80u
#define TDVPS_VE_INFO_END 0x80u /* 1.5.01's VE_INFO block: [0, 0x80) of page 0 */

struct tdvps {
	uint32_t state;       /* VCPU_UNINITIALIZED, VCPU_READY, ... */
	uint32_t vcpu_index;
	uint32_t num_tdvpx;
	uint32_t reserved0;
	uint64_t tdr_pa;
	uint64_t tdvpx_pa[MIN_TDVPS_PAGES - 1]; /* with the TD's HKID bits */
	uint64_t initial_rcx;                   /* the TD HOB address the firmware finds in RCX */
	/* TDVPS.ASSOC_LPID + 1: the LP whose caches hold this vCPU's state (0 = none, as
	 * TDH.VP.CREATE zero-fills the page). One word so that leaves holding the TDVPR shared
	 * (TDH.VP.RD/WR) associate with a compare-and-swap, like the real module. */
	uint32_t assoc_lp1;
};
_Static_assert(sizeof(struct tdvps) <= TDVPS_VE_INFO_SHIFT, "struct tdvps stays below the relocated VE_INFO");

/* The TDVPS pages of one vCPU, mapped (TD KeyID). */
struct tdvps_pages {
	uint8_t *p[MIN_TDVPS_PAGES];
};

/* Lock the TDVPR (expected PT_TDVPR, exclusive), find and map its TD; checks TD state. */
uint64_t tdvps_lock_and_map(struct tdx_module *m, uint64_t tdvpr_pa, uint32_t operand, uint32_t leaf,
			    struct pamt_lock *l, struct tdvps **vp, struct tdr **tdr, struct tdcs **tdcs);

/* Map every TDVPS page of vp: TDX_TDCX_NUM_INCORRECT while TDVPX pages are missing,
 * VMFAILINVALID after a machine check on a poisoned page. */
uint64_t tdvps_map_pages(struct tdx_module *m, const struct tdr *tdr, struct tdvps *vp, struct tdvps_pages *pg);

/* Byte offset in the TDVPS pages where the element at 1.5.01 offset off is kept here. */
static inline uint32_t tdvps_store_offset(uint32_t off)
{
	return off < TDVPS_VE_INFO_END ? off + TDVPS_VE_INFO_SHIFT : off;
}

/* Address of a stored element (offset from tdvps_store_offset or a VMCS offset), or NULL
 * when it lies beyond the pages this module allocates (L2 VM pages). */
static inline void *tdvps_store(const struct tdvps_pages *pg, uint32_t off)
{
	return off / 4096u < MIN_TDVPS_PAGES ? pg->p[off / 4096u] + off % 4096u : NULL;
}

/* Element e of TDVPS field idx (md_tdvps_fields) / TD VMCS field idx (md_td_vmcs_fields) in
 * the mapped TDVPS pages; elements beyond the allocated pages read as 0 and are not kept. */
uint64_t tdvps_get(const struct tdvps_pages *pg, unsigned idx, unsigned e);
void tdvps_put(const struct tdvps_pages *pg, unsigned idx, unsigned e, uint64_t v);
uint64_t tdvps_vmcs_get(const struct tdvps_pages *pg, unsigned idx, unsigned e);
void tdvps_vmcs_put(const struct tdvps_pages *pg, unsigned idx, unsigned e, uint64_t v);

/* The real module's implicit TDR lock (TDH.VP.FLUSH, TDH.VP.ENTER): the TDR's 4 KiB PAMT
 * entry only, shared; OPERAND_BUSY + TDR when it is held exclusive. */
uint64_t tdvps_lock_tdr_implicit(struct tdx_module *m, uint64_t tdr_pa, struct pamt_entry **e);

/* TDH.VP.INIT's initial vCPU state (GPRs, MSRs, XSAVE header, TD VMCS): the state the
 * first TDH.VP.ENTER starts the guest from. */
void tdvps_init_state(const struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs,
		      const struct tdvps *vp, uint64_t tdvpr_pa, const struct tdvps_pages *pg);

/* Associate vp with lp unless it already is with another LP (TDX_VCPU_ASSOCIATED); counts
 * TDCS.NUM_ASSOC_VCPUS. */
static inline uint64_t tdvps_associate(struct tdvps *vp, struct tdcs *tdcs, unsigned lp)
{
	uint32_t none = 0;

	if (__atomic_compare_exchange_n(&vp->assoc_lp1, &none, lp + 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		__atomic_fetch_add(&tdcs->num_assoc_vcpus, 1, __ATOMIC_SEQ_CST);
		return TDX_SUCCESS;
	}
	return none == lp + 1 ? TDX_SUCCESS : TDX_VCPU_ASSOCIATED;
}

static inline bool tdvps_associated_with(const struct tdvps *vp, unsigned lp)
{
	return __atomic_load_n(&vp->assoc_lp1, __ATOMIC_SEQ_CST) == lp + 1;
}

#endif
