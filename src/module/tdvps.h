/* vCPU state (TDVPS) as this module lays it out in the TDVPR page (TD KeyID). */
#ifndef MODULE_TDVPS_H
#define MODULE_TDVPS_H

#include "td.h"

/* MIN_TDVPS_PAGES (generated): the TDVPR plus the TDVPX pages */

struct tdvps {
	uint32_t state;       /* VCPU_UNINITIALIZED, VCPU_READY, ... */
	uint32_t vcpu_index;
	uint32_t num_tdvpx;
	uint32_t reserved0;
	uint64_t tdr_pa;
	uint64_t tdvpx_pa[MIN_TDVPS_PAGES - 1]; /* with the TD's HKID bits */
	uint64_t initial_rcx;                   /* the TD HOB address the firmware finds in RCX */
	/* TDVPS.ASSOC_LPID: the LP whose caches hold this vCPU's state since its last entry.
	 * A flag rather than a -1 id because TDH.VP.CREATE zero-fills the page: no vCPU is
	 * associated until TDH.VP.ENTER (not in this build) sets it. */
	bool associated;
	uint32_t assoc_lpid;
};
_Static_assert(sizeof(struct tdvps) <= 4096, "TDVPS management part fits the TDVPR page");

/* Lock the TDVPR (expected PT_TDVPR, exclusive), find and map its TD; checks TD state. */
uint64_t tdvps_lock_and_map(struct tdx_module *m, uint64_t tdvpr_pa, uint32_t operand, uint32_t leaf,
			    struct pamt_lock *l, struct tdvps **vp, struct tdr **tdr, struct tdcs **tdcs);

#endif
