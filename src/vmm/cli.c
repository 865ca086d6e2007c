/* Command-line parsing helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "platform.h"

int cli_size(const char *s, uint64_t *out, const char *opt)
{
	if (plat_parse_size(s, out) || !*out) {
		fprintf(stderr, "tdxemu: %s: '%s' is not a size (examples: 512M, 64G, 4T)\n", opt, s);
		return -1;
	}
	return 0;
}

/* The default memory map needs the legacy area, low RAM and one GiB above 4 GiB. */
int cli_min_size(uint64_t v, const char *opt)
{
	if (v < (1ull << 30) || v > (4ull << 40)) {
		fprintf(stderr, "tdxemu: %s: %llu bytes is outside 1G..4T (use --e820 for other layouts)\n", opt,
			(unsigned long long)v);
		return -1;
	}
	return 0;
}

int cli_uint(const char *s, unsigned min, unsigned max, unsigned *out, const char *opt)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "tdxemu: %s: '%s' is not a number in %u..%u\n", opt, s, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int cli_cmrs(const char *spec, struct plat_config *cfg)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int ret = 0;

	cfg->nr_cmrs = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *plus = strchr(tok, '+');
		uint64_t base, size;

		if (!plus || (*plus = '\0', plat_parse_size(tok, &base)) || plat_parse_size(plus + 1, &size) || !size) {
			fprintf(stderr, "tdxemu: --cmrs: '%s' is not BASE+SIZE\n", tok);
			ret = -1;
		} else if (cfg->nr_cmrs == MAX_CMR) {
			fprintf(stderr, "tdxemu: --cmrs: more than %d ranges\n", MAX_CMR);
			ret = -1;
		} else {
			cfg->cmr[cfg->nr_cmrs++] = (struct plat_range){ base, size };
		}
	}
	free(copy);
	if (!ret && !cfg->nr_cmrs) {
		fprintf(stderr, "tdxemu: --cmrs: empty list\n");
		ret = -1;
	}
	return ret;
}
