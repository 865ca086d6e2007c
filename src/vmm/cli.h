/* Shared pieces of the tdxemu command line. */
#ifndef CLI_H
#define CLI_H

#include <stdint.h>

struct sim;

/* Parse helpers: print a precise error naming the option and return -1 on bad input. */
int cli_size(const char *s, uint64_t *out, const char *opt);
int cli_min_size(uint64_t v, const char *opt);
int cli_uint(const char *s, unsigned min, unsigned max, unsigned *out, const char *opt);

struct plat_config;
/* "BASE+SIZE,BASE+SIZE,..." into cfg->cmr[]. */
int cli_cmrs(const char *spec, struct plat_config *cfg);

int cmd_module_info(int argc, char **argv);
int cmd_measure(int argc, char **argv);
/* Draw CMRs, TDMRs, reserved areas and PAMTs as an SVG file. 0, or -1 with errno. */
int svg_memory_map(const struct sim *s, const char *path);

#endif
