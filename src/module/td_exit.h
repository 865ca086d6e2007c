/* What TD entry and TD exit do to the LP's registers (data/module/td-exit-host-state.json):
 * on entry the TD's values are loaded (or the VMM's remembered where the module gives them
 * back); on exit the TD's values are saved in its TDVPS and the LP is left the way the real
 * module leaves it: INIT values, masked or XFAM-derived values, or the TD's own value. */
#ifndef MODULE_TD_EXIT_H
#define MODULE_TD_EXIT_H

#include "td_exit_state.h"
#include "tdvps.h"

struct td_host_state {
	uint64_t vmm[TD_EXIT_STATE_COUNT]; /* VMM values of the registers the module restores */
	bool active[TD_EXIT_STATE_COUNT];  /* the item's condition holds for this TD */
};

/* Does the TD have feature f (its virtual CPUID bits / ATTRIBUTES bit)? */
/* Once per module: where each TD feature's CPUID bits sit in the profile's lookup table. */
void td_exit_features_init(struct tdx_module *m);
bool td_has_feature(const struct tdx_module *m, const struct tdcs *tdcs, enum td_feature f);
void td_exit_load_guest_state(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs,
			      const struct tdvps_pages *pg, struct td_host_state *hs);
void td_exit_save_guest_state(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs,
			      const struct tdvps_pages *pg, const struct td_host_state *hs);

#endif
