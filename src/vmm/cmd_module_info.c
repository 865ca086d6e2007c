/* `tdxemu module info`: bring the module up on a simulated host and show the result. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_metadata.h"
#include "cli.h"
#include "sim.h"

struct info_opts {
	struct plat_config cfg;
	const char *profile;
	const char *svg;
	bool json, verbose;
};

static void log_stderr(void *ctx, const char *line)
{
	if (*(bool *)ctx)
		fprintf(stderr, "%s\n", line);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tdxemu module info [options]\n"
		"  --memory SIZE          RAM of the simulated host (default 64G; K/M/G/T suffixes)\n"
		"  --packages N           CPU packages (default 2)\n"
		"  --cpus-per-package N   logical processors per package (default 8)\n"
		"  --e820 MAP             explicit memory map: TYPE@BASE+SIZE,... (ram, reserved, acpi, nvs)\n"
		"  --keyids N             MKTME KeyIDs in all, including KeyID 0 (power of two, default 64)\n"
		"  --tdx-keyids N         how many of them are TDX private KeyIDs (default 32)\n"
		"  --max-pa BITS          physical address width including KeyID bits (default 52)\n"
		"  --cmrs LIST            convertible memory ranges MCHECK reports: BASE+SIZE,... (default: e820 RAM)\n"
		"  --profile NAME         TDX module profile (default %s)\n"
		"  --json                 machine-readable output\n"
		"  --svg FILE             draw the physical memory map\n"
		"  -v, --verbose          print the host's bring-up log (virt/tdx: ...)\n",
		SIM_DEFAULT_PROFILE);
}

static int parse(int argc, char **argv, struct info_opts *o)
{
	static const struct option lo[] = {
		{ "memory", required_argument, 0, 'm' }, { "packages", required_argument, 0, 'p' },
		{ "cpus-per-package", required_argument, 0, 'c' }, { "e820", required_argument, 0, 'e' },
		{ "tdx-keyids", required_argument, 0, 'k' }, { "profile", required_argument, 0, 'P' },
		{ "keyids", required_argument, 0, 'K' }, { "max-pa", required_argument, 0, 'A' },
		{ "cmrs", required_argument, 0, 'C' },
		{ "json", no_argument, 0, 'j' }, { "svg", required_argument, 0, 's' },
		{ "verbose", no_argument, 0, 'v' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *e820 = NULL, *cmrs = NULL;
	unsigned tdx_keyids = 0;
	bool tdx_keyids_set = false;
	char err[256];
	int c;

	plat_config_default(&o->cfg);
	o->profile = SIM_DEFAULT_PROFILE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (cli_size(optarg, &o->cfg.ram_bytes, "--memory") || cli_min_size(o->cfg.ram_bytes, "--memory"))
				return -1;
			break;
		case 'p':
			if (cli_uint(optarg, 1, MAX_PKGS, &o->cfg.packages, "--packages"))
				return -1;
			break;
		case 'c':
			if (cli_uint(optarg, 1, PLAT_MAX_LPS, &o->cfg.lps_per_package, "--cpus-per-package"))
				return -1;
			break;
		case 'k':
			if (cli_uint(optarg, 0, 1023, &tdx_keyids, "--tdx-keyids"))
				return -1;
			tdx_keyids_set = true;
			break;
		case 'K':
			if (cli_uint(optarg, 2, 1024, &o->cfg.total_keyids, "--keyids"))
				return -1;
			break;
		case 'A':
			if (cli_uint(optarg, 36, 52, &o->cfg.max_pa, "--max-pa"))
				return -1;
			break;
		case 'C': cmrs = optarg; break;
		case 'e': e820 = optarg; break;
		case 'P': o->profile = optarg; break;
		case 'j': o->json = true; break;
		case 's': o->svg = optarg; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tdxemu module info: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (tdx_keyids_set)
		o->cfg.nr_tdx_keyids = tdx_keyids;
	if (cmrs && cli_cmrs(cmrs, &o->cfg))
		return -1;
	if (e820) {
		if (plat_config_parse_e820(&o->cfg, e820, err, sizeof(err))) {
			fprintf(stderr, "tdxemu: --e820: %s\n", err);
			return -1;
		}
	} else {
		plat_config_default_e820(&o->cfg);
	}
	return 0;
}

static double gib(uint64_t b) { return (double)b / (double)(1ull << 30); }

static void print_text(const struct sim *s, const struct info_opts *o)
{
	const struct tdx_host *h = &s->host;
	const struct tdx_sys_info *si = &h->sysinfo;
	const struct plat_config *c = plat_config(s->plat);
	uint64_t ram = 0, pamt = h->pamt_bytes[0] + h->pamt_bytes[1] + h->pamt_bytes[2];

	for (unsigned i = 0; i < c->nr_e820; i++)
		if (c->e820[i].type == E820_RAM)
			ram += c->e820[i].size;
	printf("TDX module %u.%u.%02u (profile %s)\n", si->major_version, si->minor_version, si->update_version,
	       o->profile);
	printf("  TDX_FEATURES0 0x%016llx:", (unsigned long long)si->tdx_features0);
	for (unsigned b = 0; b < 64; b++)
		if (si->tdx_features0 & (1ull << b))
			printf(" %s", md_tdx_features0_names[b] ? md_tdx_features0_names[b] : "?");
	printf("\n  ATTRIBUTES fixed0 0x%016llx fixed1 0x%016llx\n", (unsigned long long)si->attributes_fixed0,
	       (unsigned long long)si->attributes_fixed1);
	printf("  XFAM       fixed0 0x%016llx fixed1 0x%016llx\n", (unsigned long long)si->xfam_fixed0,
	       (unsigned long long)si->xfam_fixed1);
	printf("  %u configurable CPUID leaves; TDR %u B, TDCS %u B, TDVPS %u B\n", si->num_cpuid_config,
	       si->tdr_base_size, si->tdcs_base_size, si->tdvps_base_size);
	printf("Host: %u packages x %u LPs, %.2f GiB RAM in %u e820 entries, MAX_PA %u\n", c->packages,
	       c->lps_per_package, gib(ram), c->nr_e820, c->max_pa);
	printf("KeyIDs: %u in all; MKTME 1..%u; TDX private [%u, %u); global KeyID %u; %u left for TDs\n",
	       c->total_keyids, h->tdx_keyid_start - 1, h->tdx_keyid_start, h->tdx_keyid_start + h->nr_tdx_keyids,
	       h->global_keyid, h->nr_tdx_keyids ? h->nr_tdx_keyids - 1 : 0);
	printf("CMRs:\n");
	for (unsigned i = 0; i < si->num_cmrs && i < MAX_CMR; i++)
		if (si->cmr_size[i])
			printf("  CMR%-2u [0x%012llx, 0x%012llx) %10.3f GiB\n", i, (unsigned long long)si->cmr_base[i],
			       (unsigned long long)(si->cmr_base[i] + si->cmr_size[i]), gib(si->cmr_size[i]));
	printf("TDMRs: %u of at most %u (up to %u reserved areas each)\n", h->nr_tdmrs, si->max_tdmrs,
	       si->max_reserved_per_tdmr);
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		const struct tdx_tdmr *t = &h->tdmrs[i];
		printf("  TDMR%-2u [0x%012llx, 0x%012llx) %10.3f GiB\n", i, (unsigned long long)t->base,
		       (unsigned long long)(t->base + t->size), gib(t->size));
		printf("    PAMT 4K [0x%012llx +%#llx)  2M [0x%012llx +%#llx)  1G [0x%012llx +%#llx)\n",
		       (unsigned long long)t->pamt_base[0], (unsigned long long)t->pamt_size[0],
		       (unsigned long long)t->pamt_base[1], (unsigned long long)t->pamt_size[1],
		       (unsigned long long)t->pamt_base[2], (unsigned long long)t->pamt_size[2]);
		for (unsigned r = 0; r < t->nr_rsvd; r++)
			printf("    reserved [0x%012llx, 0x%012llx)\n", (unsigned long long)(t->base + t->rsvd[r].offset),
			       (unsigned long long)(t->base + t->rsvd[r].offset + t->rsvd[r].size));
	}
	printf("PAMT: 4K level %.1f MiB, 2M level %.1f KiB, 1G level %.1f KiB; total %.1f MiB = %.3f%% of RAM "
	       "(1/%.0f)\n",
	       (double)h->pamt_bytes[0] / 1048576.0, (double)h->pamt_bytes[1] / 1024.0,
	       (double)h->pamt_bytes[2] / 1024.0, (double)pamt / 1048576.0, 100.0 * (double)pamt / (double)ram,
	       pamt ? (double)ram / (double)pamt : 0.0);
	printf("Bring-up: %llu TDH.SYS.TDMR.INIT calls, %.1f ms; simulated DRAM touched %.1f MiB\n",
	       (unsigned long long)h->tdmr_init_calls, h->tdmr_init_seconds * 1e3,
	       (double)plat_mem_touched_bytes(s->plat) / 1048576.0);
}

static void print_json(const struct sim *s, const struct info_opts *o)
{
	const struct tdx_host *h = &s->host;
	const struct tdx_sys_info *si = &h->sysinfo;
	const struct plat_config *c = plat_config(s->plat);
	uint64_t ram = 0;

	for (unsigned i = 0; i < c->nr_e820; i++)
		if (c->e820[i].type == E820_RAM)
			ram += c->e820[i].size;
	printf("{\n  \"profile\": \"%s\",\n  \"version\": \"%u.%u.%02u\",\n", o->profile, si->major_version,
	       si->minor_version, si->update_version);
	printf("  \"tdx_features0\": \"%#llx\",\n  \"features\": [", (unsigned long long)si->tdx_features0);
	for (unsigned b = 0, n = 0; b < 64; b++)
		if (si->tdx_features0 & (1ull << b))
			printf("%s\"%s\"", n++ ? ", " : "", md_tdx_features0_names[b] ? md_tdx_features0_names[b] : "?");
	printf("],\n  \"attributes_fixed0\": \"%#llx\",\n  \"attributes_fixed1\": \"%#llx\",\n",
	       (unsigned long long)si->attributes_fixed0, (unsigned long long)si->attributes_fixed1);
	printf("  \"xfam_fixed0\": \"%#llx\",\n  \"xfam_fixed1\": \"%#llx\",\n", (unsigned long long)si->xfam_fixed0,
	       (unsigned long long)si->xfam_fixed1);
	printf("  \"host\": {\"packages\": %u, \"lps_per_package\": %u, \"ram_bytes\": %llu, \"max_pa\": %u},\n",
	       c->packages, c->lps_per_package, (unsigned long long)ram, c->max_pa);
	printf("  \"keyids\": {\"total\": %u, \"tdx_first\": %u, \"tdx_count\": %u, \"global\": %u},\n",
	       c->total_keyids, h->tdx_keyid_start, h->nr_tdx_keyids, h->global_keyid);
	printf("  \"cmrs\": [");
	for (unsigned i = 0, n = 0; i < si->num_cmrs && i < MAX_CMR; i++)
		if (si->cmr_size[i])
			printf("%s{\"base\": %llu, \"size\": %llu}", n++ ? ", " : "", (unsigned long long)si->cmr_base[i],
			       (unsigned long long)si->cmr_size[i]);
	printf("],\n  \"max_tdmrs\": %u,\n  \"max_reserved_per_tdmr\": %u,\n  \"tdmrs\": [", si->max_tdmrs,
	       si->max_reserved_per_tdmr);
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		const struct tdx_tdmr *t = &h->tdmrs[i];
		printf("%s\n    {\"base\": %llu, \"size\": %llu, \"pamt\": {", i ? "," : "", (unsigned long long)t->base,
		       (unsigned long long)t->size);
		printf("\"4k\": {\"base\": %llu, \"size\": %llu}, \"2m\": {\"base\": %llu, \"size\": %llu}, "
		       "\"1g\": {\"base\": %llu, \"size\": %llu}}, \"reserved\": [",
		       (unsigned long long)t->pamt_base[0], (unsigned long long)t->pamt_size[0],
		       (unsigned long long)t->pamt_base[1], (unsigned long long)t->pamt_size[1],
		       (unsigned long long)t->pamt_base[2], (unsigned long long)t->pamt_size[2]);
		for (unsigned r = 0; r < t->nr_rsvd; r++)
			printf("%s{\"offset\": %llu, \"size\": %llu}", r ? ", " : "",
			       (unsigned long long)t->rsvd[r].offset, (unsigned long long)t->rsvd[r].size);
		printf("]}");
	}
	printf("\n  ],\n  \"pamt_bytes\": {\"4k\": %llu, \"2m\": %llu, \"1g\": %llu, \"fraction_of_ram\": %.6f},\n",
	       (unsigned long long)h->pamt_bytes[0], (unsigned long long)h->pamt_bytes[1],
	       (unsigned long long)h->pamt_bytes[2],
	       (double)(h->pamt_bytes[0] + h->pamt_bytes[1] + h->pamt_bytes[2]) / (double)ram);
	printf("  \"tdmr_init_calls\": %llu\n}\n", (unsigned long long)h->tdmr_init_calls);
}

int cmd_module_info(int argc, char **argv)
{
	struct info_opts o = { 0 };
	struct sim s;
	char err[256];
	int ret;

	if (parse(argc, argv, &o))
		return 2;
	if (sim_create(&s, &o.cfg, o.profile, log_stderr, &o.verbose, err, sizeof(err))) {
		fprintf(stderr, "tdxemu: %s\n", err);
		return 1;
	}
	ret = sim_tdx_bringup(&s);
	if (ret) {
		fprintf(stderr, "tdxemu: TDX module bring-up failed: %s (%s)\n", strerror(-ret),
			s.host.last_error[0] ? s.host.last_error : "see -v for the bring-up log");
		sim_destroy(&s);
		return 1;
	}
	if (o.json)
		print_json(&s, &o);
	else
		print_text(&s, &o);
	if (o.svg && svg_memory_map(&s, o.svg)) {
		fprintf(stderr, "tdxemu: cannot write %s: %s\n", o.svg, strerror(errno));
		sim_destroy(&s);
		return 1;
	}
	sim_destroy(&s);
	return 0;
}
