/* Debug-build facility next to module_debug_lock() (module.h): hold or release one of a TD's
 * internal locks so tests can provoke the busy statuses that otherwise need a racing LP. */
#ifndef MODULE_DEBUG_H
#define MODULE_DEBUG_H

#include "module.h"

enum module_debug_td_lock {
	MODULE_DEBUG_SEPT_TREE_EXCLUSIVE, /* TDCS.SECURE_EPT_LOCK as a restructuring leaf holds it */
	MODULE_DEBUG_SEPT_TREE_SHARED,    /* ... as a walking leaf holds it */
	MODULE_DEBUG_SEPT_ENTRY,          /* TDEL of the entry page_info (GPA | level) names */
	MODULE_DEBUG_TD_EPOCH,            /* TDCS.EPOCH_LOCK exclusive, as TDH.MEM.TRACK holds it */
	MODULE_DEBUG_TD_RTMR,             /* TDCS.RTMR_LOCK exclusive, as TDG.MR.RTMR.EXTEND holds it */
};

/* tdr_pa: a TD with configured keys and its TDCS; page_info only for MODULE_DEBUG_SEPT_ENTRY
 * (the walk must reach the level). Returns 0, or -1 if not possible (no such TD or entry, lock
 * already taken, or released while not held). */
MODULE_EXPORT int module_debug_td_lock(struct plat *p, enum module_debug_td_lock what, uint64_t tdr_pa,
				       uint64_t page_info, bool hold);

/* A vCPU's VE_INFO as the module keeps it in the TDVPS (fields of the VE_INFO layout). */
struct module_debug_ve_info {
	uint32_t exit_reason;
	uint32_t valid;
	uint64_t exit_qualification;
	uint64_t gla;
	uint64_t gpa;
	uint16_t eptp_index;
	uint32_t instr_len;
	uint32_t instr_info;
};

/* Read (get != NULL) then write (set != NULL) the VE_INFO of the vCPU whose TDVPR is at
 * tdvpr_pa, standing in for the #VE producers (EPT violations, CPUID...) that TDG.VP.VEINFO.GET
 * serves. The vCPU must be initialised and not running. Returns 0, or -1 if not possible. */
MODULE_EXPORT int module_debug_vp_ve_info(struct plat *p, uint64_t tdvpr_pa, const struct module_debug_ve_info *set,
					  struct module_debug_ve_info *get);

#endif
