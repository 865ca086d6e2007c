/* module_debug_td_lock(): the TD-level locks of module_debug.h. Not a leaf: nothing here is
 * reachable through SEAMCALL; tests call it directly, like module_debug_lock(). */
#include "module_debug.h"
#include "sept.h"

/* The TD a leaf would reach: a TDR page (by its PAMT type), keys configured, TDCS present. */
static int open_td(struct tdx_module *m, uint64_t tdr_pa, struct tdr **tdr, struct tdcs **tdcs)
{
	struct pamt_lock l;

	if (pamt_check_lock_explicit(m, tdr_pa, 0, false, PT_TDR, &l))
		return -1;
	pamt_unlock(&l);
	*tdr = td_map_tdr(m, tdr_pa);
	if (!*tdr || (*tdr)->lifecycle_state != TD_KEYS_CONFIGURED || (*tdr)->num_tdcx < MIN_NUM_TDCS_PAGES)
		return -1;
	*tdcs = td_map_tdcs(m, *tdr);
	return *tdcs ? 0 : -1;
}

static int debug_sharex(struct sharex_lock *l, bool exclusive, bool hold)
{
	uint32_t v = atomic_load(&l->v);

	if (hold)
		return (exclusive ? sharex_try_exclusive(l) : sharex_try_shared(l)) ? 0 : -1;
	/* Releasing a lock nobody holds would corrupt it for the leaves. */
	if (exclusive ? v != SHAREX_EXCLUSIVE : (v == 0 || (v & SHAREX_EXCLUSIVE)))
		return -1;
	if (exclusive)
		sharex_release_exclusive(l);
	else
		sharex_release_shared(l);
	return 0;
}

static int debug_sept_entry(struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs,
			    uint64_t page_info, bool hold)
{
	struct sept_walk w;
	uint64_t gpa;
	unsigned level;

	if (sept_check_page_info(page_info, 0, sept_root_level(tdcs), &gpa, &level) ||
	    sept_walk_to_level(m, tdr, tdcs, gpa, level, &w))
		return -1;
	/* Checked first so that a refused hold does not leave TDHP behind. */
	if (hold == ((w.value & SEPTE_TDEL) != 0))
		return -1;
	if (hold)
		return sept_entry_try_lock(&w) ? 0 : -1;
	sept_entry_unlock(&w);
	return 0;
}

int module_debug_td_lock(struct plat *p, enum module_debug_td_lock what, uint64_t tdr_pa, uint64_t page_info,
			 bool hold)
{
	struct tdx_module *m = plat_seamldr_module(p);
	struct tdr *tdr;
	struct tdcs *tdcs;

	if (!m || open_td(m, tdr_pa, &tdr, &tdcs))
		return -1;
	switch (what) {
	case MODULE_DEBUG_SEPT_TREE_EXCLUSIVE:
		return debug_sharex(&tdcs->sept_tree_lock, true, hold);
	case MODULE_DEBUG_SEPT_TREE_SHARED:
		return debug_sharex(&tdcs->sept_tree_lock, false, hold);
	case MODULE_DEBUG_SEPT_ENTRY:
		return debug_sept_entry(m, tdr, tdcs, page_info, hold);
	case MODULE_DEBUG_TD_EPOCH:
		return debug_sharex(&tdcs->epoch_lock, true, hold);
	case MODULE_DEBUG_TD_RTMR:
		return debug_sharex(&tdcs->rtmr_lock, true, hold);
	}
	return -1;
}
