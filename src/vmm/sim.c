/* Machine assembly: the one place that plays firmware and installs the module. */
#include <stdio.h>
#include <string.h>

#include "module/module.h"
#include "sim.h"

int sim_create(struct sim *s, const struct plat_config *cfg, const char *profile, tdx_log_fn log, void *log_ctx,
	       char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->plat = plat_create(cfg, err, errlen);
	if (!s->plat)
		return -1;
	if (profile && module_install(s->plat, profile, err, errlen)) {
		plat_destroy(s->plat);
		s->plat = NULL;
		return -1;
	}
	if (tdx_host_init(&s->host, s->plat, log, log_ctx)) {
		snprintf(err, errlen, "out of memory");
		sim_destroy(s);
		return -1;
	}
	return 0;
}

int sim_tdx_bringup(struct sim *s)
{
	int ret = tdx_cpu_enable_all(&s->host);
	return ret ? ret : tdx_enable(&s->host);
}

void sim_destroy(struct sim *s)
{
	tdx_host_fini(&s->host);
	plat_destroy(s->plat);
	s->plat = NULL;
}

void sim_native_cpuid(void *sim, uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
	const struct sim *s = sim;
	struct cpuid_regs r;

	plat_cpuid(s->plat, 0, leaf, subleaf, &r);
	regs[0] = r.eax, regs[1] = r.ebx, regs[2] = r.ecx, regs[3] = r.edx;
}

bool sim_profile_known(const char *name)
{
	const char *p;

	for (unsigned i = 0; (p = module_profile_name(i)); i++)
		if (!strcmp(p, name))
			return true;
	return false;
}

const char *sim_profile_name(unsigned i)
{
	return module_profile_name(i);
}
