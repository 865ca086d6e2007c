/* Command-line parsing helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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
