/* The software TDX module as firmware sees it: something the SEAM loader installs.
 * Nothing above the seamcall boundary may call into the module except through
 * plat_seamcall(); this header is only for whoever plays firmware (vmm/sim.c). */
#ifndef MODULE_H
#define MODULE_H

#include "platform.h"

/* Create a module instance from a named profile and install it in the platform's SEAMLDR.
 * Returns 0, or -1 with err set (unknown profile, SEAMRR disabled, already loaded). */
#define MODULE_EXPORT __attribute__((visibility("default")))
MODULE_EXPORT int module_install(struct plat *p, const char *profile, char *err, size_t errlen);

/* Names of the built-in module profiles, NULL-terminated by index. */
MODULE_EXPORT const char *module_profile_name(unsigned i);

/* Debug-build facility (the real module has debug leaves in DEBUGFEATURE builds): hold or
 * release one of the module's internal locks so tests can provoke contention statuses
 * deterministically. what: MODULE_DEBUG_GLOBAL_EXCLUSIVE, _GLOBAL_SHARED, _TDMR (arg =
 * TDMR index), _PAMT_ENTRY (arg = physical address). Returns 0, or -1 if not possible. */
enum module_debug_lock {
	MODULE_DEBUG_GLOBAL_EXCLUSIVE,
	MODULE_DEBUG_GLOBAL_SHARED,
	MODULE_DEBUG_TDMR,
	MODULE_DEBUG_PAMT_ENTRY,
};
MODULE_EXPORT int module_debug_lock(struct plat *p, enum module_debug_lock what, uint64_t arg, bool hold);

#endif
