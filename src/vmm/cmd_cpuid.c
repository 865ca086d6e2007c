/* `tdxemu cpuid`: the CPUID a TD gets for a QEMU -cpu configuration, before any launch,
 * every bit tagged with its origin, with QEMU's TDX feature-check warnings. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sim.h"
#include "tdx_cpu_check.h"

struct cpuid_opts {
	const char *cpu, *profile;
	uint64_t attributes;
	bool legacy, json;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tdxemu cpuid -cpu MODEL[,+feat|-feat|feat=on|off|enforce|check=off...] [options]\n"
		   "  -cpu SPEC          QEMU's -cpu: host, max or SapphireRapids, then feature edits\n"
		   "                     (QEMU's names); 'enforce' makes every mismatch an error\n"
		   "  --attributes HEX   tdx-guest attributes (default 0x%llx, SEPT_VE_DISABLE, as QEMU)\n"
		   "  --new-wording      QEMU 10.1 register names (CPUID[eax=07h,ecx=00h].EBX) in the\n"
		   "                     messages instead of CPUID.07H:EBX (--legacy-wording, the default)\n"
		   "  --profile NAME     TDX module profile (default %s)\n"
		   "  --json             machine-readable output\n"
		   "Origins: native (host CPUID passed through), fixed-1, fixed-0, configured (the VMM's\n"
		   "choice), attribute, xfam (follows TD ATTRIBUTES / XFAM). Exit 1 when QEMU would refuse.\n",
		(unsigned long long)QEMU_TDX_DEFAULT_ATTRIBUTES, SIM_DEFAULT_PROFILE);
}

static int parse_hex(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "tdxemu cpuid: --attributes: '%s' is not a 64-bit number\n", s);
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct cpuid_opts *o)
{
	static const struct option lo[] = { { "cpu", required_argument, 0, 'c' }, { "profile", required_argument, 0, 'P' },
					    { "attributes", required_argument, 0, 'a' }, { "legacy-wording", no_argument, 0, 'l' },
					    { "new-wording", no_argument, 0, 'n' },
					    { "json", no_argument, 0, 'j' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;

	o->profile = SIM_DEFAULT_PROFILE;
	o->legacy = true; /* the wording of QEMU up to 10.0 and of docs/system/i386/tdx.rst */
	o->attributes = QEMU_TDX_DEFAULT_ATTRIBUTES;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->cpu = optarg; break;
		case 'P': o->profile = optarg; break;
		case 'a':
			if (parse_hex(optarg, &o->attributes))
				return -1;
			break;
		case 'l': o->legacy = true; break;
		case 'n': o->legacy = false; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tdxemu cpuid: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->cpu) {
		fprintf(stderr, "tdxemu cpuid: -cpu MODEL is required (for example -cpu host or -cpu SapphireRapids,-avx512f)\n");
		return -1;
	}
	return cli_profile("cpuid", o->profile);
}

static const char *const kind_name[] = { [TCC_MSG_WARNING] = "warning", [TCC_MSG_ERROR] = "error",
					 [TCC_MSG_NOTE] = "note" };
static const char *const reg_name[4] = { "EAX", "EBX", "ECX", "EDX" };

/* A register worth showing: anything set, or a bit the TD does not take from the host. */
static bool reg_interesting(const struct tcc_reg *t)
{
	if (t->value)
		return true;
	for (unsigned b = 0; b < 32; b++)
		if (t->origin[b] != TCC_ORIGIN_NATIVE && t->origin[b] != TCC_ORIGIN_CONFIGURED)
			return true;
	return false;
}

static void reg_label(const struct tcc_reg *t, char *buf, size_t len)
{
	if (t->leaf == 0x7 || t->leaf == 0x4 || t->leaf == 0xB || t->leaf == 0xD || t->leaf == 0xF || t->leaf == 0x10 ||
	    t->leaf == 0x12 || t->leaf == 0x14 || t->leaf == 0x17 || t->leaf == 0x18 || t->leaf == 0x1D ||
	    t->leaf == 0x1F || t->leaf == 0x23 || t->leaf == 0x24 || t->subleaf)
		snprintf(buf, len, "CPUID[eax=%02Xh,ecx=%02Xh].%s", t->leaf, t->subleaf, reg_name[t->reg]);
	else
		snprintf(buf, len, "CPUID[eax=%02Xh].%s", t->leaf, reg_name[t->reg]);
}

static void print_bits(const struct tcc_reg *t, bool set, const char *title)
{
	bool any = false;

	for (unsigned b = 0; b < 32; b++) {
		const char *n = qemu_feature_words[t->word].names[b];

		if ((bool)(t->value >> b & 1) != set || (!set && t->origin[b] != TCC_ORIGIN_FIXED0))
			continue;
		if (!any)
			printf("    %-8s", title);
		any = true;
		if (n)
			printf(" %s(%s)", n, tcc_origin_name(t->origin[b]));
		else
			printf(" [bit %u](%s)", b, tcc_origin_name(t->origin[b]));
	}
	if (any)
		printf("\n");
}

/* Registers without QEMU feature names: the value and which bits have which origin. */
static void print_masks(const struct tcc_reg *t)
{
	for (unsigned o = TCC_ORIGIN_FIXED1; o < TCC_ORIGIN_COUNT; o++) {
		uint32_t m = 0;

		for (unsigned b = 0; b < 32; b++)
			m |= (uint32_t)(t->origin[b] == o) << b;
		if (m)
			printf(" %s=0x%08x", tcc_origin_name(o), m);
	}
	printf("\n");
}

static void print_text(const struct cpuid_opts *o, const struct tcc_result *r)
{
	char label[48];

	for (unsigned i = 0; i < r->nmsg; i++)
		fprintf(stderr, "%s: %s\n", kind_name[r->msg[i].kind], r->msg[i].text);
	if (!r->nreg)
		return;
	printf("TD CPUID for -cpu %s (model %s, TDX module profile %s)\n", o->cpu, r->model, o->profile);
	printf("attributes 0x%016llx  xfam 0x%016llx\n", (unsigned long long)r->attributes, (unsigned long long)r->xfam);
	for (unsigned i = 0; i < r->nreg; i++) {
		const struct tcc_reg *t = &r->reg[i];

		if (!reg_interesting(t))
			continue;
		reg_label(t, label, sizeof(label));
		printf("%-32s 0x%08x", label, t->value);
		if (t->word < 0) {
			print_masks(t);
			continue;
		}
		printf("  (%s)\n", qemu_feature_words[t->word].word);
		print_bits(t, true, "set:");
		print_bits(t, false, "cleared:");
	}
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_reg(const struct tcc_reg *t)
{
	bool first = true;

	printf("    {\"leaf\": \"0x%x\", \"subleaf\": \"0x%x\", \"reg\": \"%s\", \"word\": ", t->leaf, t->subleaf,
	       reg_name[t->reg]);
	if (t->word >= 0)
		printf("\"%s\"", qemu_feature_words[t->word].word);
	else
		printf("null");
	printf(", \"value\": \"0x%08x\", \"native\": \"0x%08x\", \"bits\": [", t->value, t->native);
	for (unsigned b = 0; b < 32; b++) {
		const char *n = t->word >= 0 ? qemu_feature_words[t->word].names[b] : NULL;

		if (!(t->value >> b & 1) && !(t->native >> b & 1) && t->origin[b] == TCC_ORIGIN_NATIVE)
			continue;
		printf("%s{\"bit\": %u, \"name\": ", first ? "" : ", ", b);
		if (n)
			json_string(n);
		else
			printf("null");
		printf(", \"value\": %u, \"origin\": \"%s\"}", t->value >> b & 1, tcc_origin_name(t->origin[b]));
		first = false;
	}
	printf("]}");
}

static void print_json(const struct cpuid_opts *o, const struct tcc_result *r)
{
	printf("{\n  \"cpu\": ");
	json_string(o->cpu);
	printf(",\n  \"model\": \"%s\",\n  \"qemu_accepts_model\": %s,\n  \"profile\": \"%s\",\n  \"check\": %s,\n"
	       "  \"enforce\": %s,\n  \"failed\": %s,\n  \"attributes\": \"0x%016llx\",\n  \"xfam\": \"0x%016llx\",\n"
	       "  \"messages\": [",
	       r->model, r->qemu_accepts_model ? "true" : "false", o->profile, r->check ? "true" : "false",
	       r->enforce ? "true" : "false", r->failed ? "true" : "false", (unsigned long long)r->attributes,
	       (unsigned long long)r->xfam);
	for (unsigned i = 0; i < r->nmsg; i++) {
		printf("%s\n    {\"kind\": \"%s\", \"text\": ", i ? "," : "", kind_name[r->msg[i].kind]);
		json_string(r->msg[i].text);
		printf("}");
	}
	printf("\n  ],\n  \"cpuid\": [");
	for (unsigned i = 0; i < r->nreg; i++) {
		printf("%s\n", i ? "," : "");
		json_reg(&r->reg[i]);
	}
	printf("\n  ]\n}\n");
}

int cmd_cpuid(int argc, char **argv)
{
	struct cpuid_opts o = { 0 };
	struct tcc_request req;
	struct tcc_result res;
	struct tcc_native nat;
	struct tcc_cpu cpu;
	struct kvm_dev *kvm;
	struct sim s;
	char err[256];
	int r;

	if (parse(argc, argv, &o))
		return 2;
	/* Bad -cpu input is a command-line error: catch it before the host comes up. */
	if (tcc_parse_cpu(o.cpu, &cpu, err, sizeof(err))) {
		fprintf(stderr, "tdxemu cpuid: %s\n", err);
		return 2;
	}
	if (cli_tdx_host("cpuid", o.profile, &s, &kvm))
		return 1;
	nat = (struct tcc_native){ sim_native_cpuid, &s };
	req = (struct tcc_request){ o.cpu, o.attributes, o.legacy };
	r = tdx_cpu_check(kvm, &nat, &req, &res, err, sizeof(err));
	if (r)
		fprintf(stderr, "tdxemu cpuid: %s\n", err);
	else if (o.json)
		print_json(&o, &res);
	else
		print_text(&o, &res);
	tcc_result_free(&res);
	kvm_close(kvm);
	sim_destroy(&s);
	if (r)
		return r == -1 ? 2 : 1;
	return res.failed ? 1 : 0;
}
