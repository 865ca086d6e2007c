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
int cmd_caps(int argc, char **argv);
int cmd_cpuid(int argc, char **argv);
/* Exec the engine next to the tdxemu binary with argv[1..]; returns only on failure. */
int cmd_run(int argc, char **argv);

struct kvm_dev;
/* --profile NAME: 0 when the module profile exists, else a message naming the known ones. */
int cli_profile(const char *cmd, const char *name);
/* A small simulated TDX host with the module up and /dev/kvm open; -1 after a message. */
int cli_tdx_host(const char *cmd, const char *profile, struct sim *s, struct kvm_dev **kvm);
/* Draw CMRs, TDMRs, reserved areas and PAMTs as an SVG file. 0, or -1 with errno. */
int svg_memory_map(const struct sim *s, const char *path);

#endif
