/* A simulated machine: the platform, the TDX module the firmware installed in SEAM range
 * memory, and the host kernel's TDX state. Tools and tests start here. */
#ifndef SIM_H
#define SIM_H

#include "host/host.h"
#include "platform.h"

struct sim {
	struct plat *plat;
	struct tdx_host host;
};

/* Build the platform, install the module profile (NULL: the default), run tdx_init(). */
int sim_create(struct sim *s, const struct plat_config *cfg, const char *profile, tdx_log_fn log, void *log_ctx,
	       char *err, size_t errlen);
/* Boot-time TDX bring-up: every CPU enabled (one thread per LP), then tdx_enable(). */
int sim_tdx_bringup(struct sim *s);
void sim_destroy(struct sim *s);
/* Is there a built-in module profile of that name? */
bool sim_profile_known(const char *name);
/* The i-th built-in module profile, NULL past the last. */
const char *sim_profile_name(unsigned i);
/* What the CPUID instruction returns on the host (LP 0), regs = EAX, EBX, ECX, EDX. Takes
 * a struct sim * as void * so it fits struct tcc_native. */
void sim_native_cpuid(void *sim, uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

#define SIM_DEFAULT_PROFILE "tdx-1.5.01"

#endif
