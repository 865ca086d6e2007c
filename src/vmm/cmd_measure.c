/* `tdxemu measure`: the MRTD a TDX machine would report for a TD firmware image, computed by
 * actually building the TD on the software module (no second hashing implementation). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "td_build.h"

struct measure_opts {
	const char *bios;
	uint64_t ram;
	enum td_add_order order;
	bool json;
};

/* What QEMU's tdx-guest asks for by default: SEPT_VE_DISABLE, and the XFAM of a Sapphire
 * Rapids guest CPU (x87, SSE, AVX, AVX-512, PKRU, AMX). MRTD does not depend on them. */
#define DEFAULT_ATTRIBUTES TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK
#define DEFAULT_XFAM UINT64_C(0x602E7)

static void usage(FILE *f)
{
	fprintf(f, "usage: tdxemu measure -bios FILE [-m SIZE] [--add-order per-page|two-pass] [--json]\n"
		   "  -bios FILE         TD firmware (TDVF/OVMF with TDX metadata)\n"
		   "  -m SIZE            TD memory (default 2G; a bare number is MiB, like QEMU)\n"
		   "  --add-order ORDER  per-page: PAGE.ADD then its MR.EXTENDs (KVM 6.16+, QEMU 10.1+, default)\n"
		   "                     two-pass: per section all PAGE.ADDs then all MR.EXTENDs (QEMU 8.2 TDX trees)\n"
		   "  --json             machine-readable output\n");
}

static int parse_ram(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end != s && !*end && v) { /* QEMU: a bare number is MiB */
		*out = (uint64_t)v << 20;
		return 0;
	}
	return cli_size(s, out, "-m");
}

static int parse(int argc, char **argv, struct measure_opts *o)
{
	static const struct option lo[] = { { "bios", required_argument, 0, 'b' }, { "m", required_argument, 0, 'm' },
					    { "add-order", required_argument, 0, 'o' }, { "json", no_argument, 0, 'j' },
					    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;

	o->ram = 2ull << 30;
	o->order = TD_ADD_PER_PAGE;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o->bios = optarg; break;
		case 'm':
			if (parse_ram(optarg, &o->ram))
				return -1;
			break;
		case 'o':
			if (!strcmp(optarg, "per-page"))
				o->order = TD_ADD_PER_PAGE;
			else if (!strcmp(optarg, "two-pass"))
				o->order = TD_ADD_TWO_PASS;
			else {
				fprintf(stderr, "tdxemu measure: --add-order: '%s' is neither per-page nor two-pass\n", optarg);
				return -1;
			}
			break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tdxemu measure: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->bios) {
		fprintf(stderr, "tdxemu measure: -bios FILE is required\n");
		usage(stderr);
		return -1;
	}
	if (o->ram < (32ull << 20) || o->ram > (4ull << 40)) {
		fprintf(stderr, "tdxemu measure: -m: TD memory must be 32M..4T\n");
		return -1;
	}
	return 0;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static int build_and_measure(const struct measure_opts *o, const struct tdvf *t, uint8_t mrtd[48],
			     struct td_build *b, struct sim *s)
{
	struct td_ram_layout ram;
	struct td_params p;
	uint8_t hob[8192];
	char err[256];
	long hob_len;

	td_ram_layout_q35(o->ram, &ram);
	hob_len = td_hob_build(t, &ram, hob, t->hob_index >= 0 && t->sec[t->hob_index].mem_size < sizeof(hob)
						 ? t->sec[t->hob_index].mem_size : sizeof(hob), err, sizeof(err));
	if (hob_len < 0) {
		fprintf(stderr, "tdxemu measure: %s: %s\n", o->bios, err);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.attributes = DEFAULT_ATTRIBUTES;
	p.xfam = DEFAULT_XFAM;
	p.max_vcpus = 1;
	p.eptp_controls = (3ull << EPTP_CONTROLS_EPT_PWL_SHIFT) | 6;
	p.tsc_frequency = 100;
	if (td_build_create(b, s, &p) || td_build_add_tdvf(b, t, hob, (size_t)hob_len, o->order) ||
	    td_build_add_vcpus(b, 1, t->sec[t->hob_index].gpa) || td_build_finalize(b, mrtd)) {
		fprintf(stderr, "tdxemu measure: %s\n", b->err);
		return -1;
	}
	return 0;
}

int cmd_measure(int argc, char **argv)
{
	struct measure_opts o = { 0 };
	struct plat_config cfg;
	struct td_build b;
	struct tdvf t;
	struct sim s;
	uint8_t *img = NULL, mrtd[48];
	size_t n;
	char err[256], mr[97];
	int ret = 1;

	if (parse(argc, argv, &o))
		return 2;
	if (tdvf_read_file(o.bios, &img, &n, err, sizeof(err)) || tdvf_parse(img, n, &t, err, sizeof(err))) {
		fprintf(stderr, "tdxemu measure: %s: %s\n", o.bios, err);
		free(img);
		return 1;
	}
	/* A small host is enough: the TD's pages come from it. */
	plat_config_default(&cfg);
	cfg.lps_per_package = 2;
	cfg.ram_bytes = 8ull << 30;
	plat_config_default_e820(&cfg);
	if (sim_create(&s, &cfg, SIM_DEFAULT_PROFILE, NULL, NULL, err, sizeof(err)) || sim_tdx_bringup(&s)) {
		fprintf(stderr, "tdxemu measure: cannot bring up the simulated TDX host: %s\n",
			s.host.last_error[0] ? s.host.last_error : err);
		free(img);
		return 1;
	}
	if (!build_and_measure(&o, &t, mrtd, &b, &s)) {
		hex(mr, mrtd, sizeof(mrtd));
		if (o.json)
			printf("{\"mrtd\": \"%s\", \"attributes\": \"0x%016llx\", \"xfam\": \"0x%016llx\", "
			       "\"add_order\": \"%s\", \"page_add\": %llu, \"mr_extend\": %llu, \"sept_pages\": %llu}\n",
			       mr, (unsigned long long)DEFAULT_ATTRIBUTES, (unsigned long long)DEFAULT_XFAM,
			       o.order == TD_ADD_PER_PAGE ? "per-page" : "two-pass", (unsigned long long)b.pages_added,
			       (unsigned long long)b.extends, (unsigned long long)b.sept_pages);
		else
			printf("MRTD       %s\nattributes 0x%016llx (assumed; MRTD does not depend on it)\n"
			       "xfam       0x%016llx (assumed; MRTD does not depend on it)\n"
			       "add order  %s; %llu TDH.MEM.PAGE.ADD, %llu TDH.MR.EXTEND, %llu Secure EPT pages\n",
			       mr, (unsigned long long)DEFAULT_ATTRIBUTES, (unsigned long long)DEFAULT_XFAM,
			       o.order == TD_ADD_PER_PAGE ? "per-page" : "two-pass", (unsigned long long)b.pages_added,
			       (unsigned long long)b.extends, (unsigned long long)b.sept_pages);
		ret = 0;
	}
	sim_destroy(&s);
	free(img);
	return ret;
}
