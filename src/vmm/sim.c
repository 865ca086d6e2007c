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
