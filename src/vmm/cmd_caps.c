/* `tdxemu caps`: what KVM_TDX_CAPABILITIES reports on a simulated TDX host (supported TD
 * attributes, XFAM, configurable CPUID), the TD part of libvirt's domain capabilities. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sim.h"
#include "tdx_cpu_check.h"

struct caps_opts {
	const char *profile;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tdxemu caps [--profile NAME] [--json]\n"
		   "  --profile NAME  TDX module profile (default %s)\n"
		   "  --json          machine-readable output\n",
		SIM_DEFAULT_PROFILE);
}

int cli_profile(const char *cmd, const char *name)
{
	const char *p;

	if (sim_profile_known(name))
		return 0;
	fprintf(stderr, "tdxemu %s: --profile: unknown TDX module profile '%s' (known:", cmd, name);
	for (unsigned i = 0; (p = sim_profile_name(i)); i++)
		fprintf(stderr, " %s", p);
	fprintf(stderr, ")\n");
	return -1;
}

int cli_tdx_host(const char *cmd, const char *profile, struct sim *s, struct kvm_dev **kvm)
{
	struct plat_config cfg;
	char err[256];

	/* A small host is enough: the throw-away TDs take a few pages. */
	plat_config_default(&cfg);
	cfg.lps_per_package = 2;
	cfg.ram_bytes = 8ull << 30;
	plat_config_default_e820(&cfg);
	if (sim_create(s, &cfg, profile, NULL, NULL, err, sizeof(err)) || sim_tdx_bringup(s)) {
		fprintf(stderr, "tdxemu %s: cannot bring up the simulated TDX host: %s\n", cmd,
			s->host.last_error[0] ? s->host.last_error : err);
		if (s->plat)
			sim_destroy(s);
		return -1;
	}
	*kvm = kvm_open(&s->host);
	if (!*kvm) {
		fprintf(stderr, "tdxemu %s: out of memory\n", cmd);
		sim_destroy(s);
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct caps_opts *o)
{
	static const struct option lo[] = { { "profile", required_argument, 0, 'P' }, { "json", no_argument, 0, 'j' },
					    { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;

	o->profile = SIM_DEFAULT_PROFILE;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'P': o->profile = optarg; break;
		case 'j': o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tdxemu caps: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return cli_profile("caps", o->profile);
}

/* Names of the set bits: names[bit] or "bit N". */
static void print_names(const char *const *names, uint64_t v, unsigned nbits, bool json)
{
	bool first = true;

	for (unsigned b = 0; b < nbits; b++) {
		if (!(v >> b & 1))
			continue;
		if (json && names[b])
			printf("%s\"%s\"", first ? "" : ", ", names[b]);
		else if (json)
			printf("%s\"bit %u\"", first ? "" : ", ", b);
		else if (names[b])
			printf(" %s", names[b]);
		else
			printf(" [bit %u]", b);
		first = false;
	}
}

static void reg_names(const struct kvm_cpuid_entry2 *e, unsigned reg, const char **names)
{
	for (unsigned b = 0; b < 32; b++)
		names[b] = tcc_bit_name(e->function, e->index, reg, b);
}

/* KVM leaves KVM_CPUID_FLAG_SIGNIFCANT_INDEX clear; a leaf listed twice has sub-leaves. */
static bool has_subleaf(const struct kvm_tdx_capabilities *c, unsigned i)
{
	const struct kvm_cpuid_entry2 *e = &c->cpuid.entries[i];

	if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index)
		return true;
	for (unsigned j = 0; j < c->cpuid.nent; j++)
		if (j != i && c->cpuid.entries[j].function == e->function)
			return true;
	return false;
}

static const char *const reg_label[4] = { "eax", "ebx", "ecx", "edx" };

static uint32_t reg_value(const struct kvm_cpuid_entry2 *e, unsigned reg)
{
	const uint32_t v[4] = { e->eax, e->ebx, e->ecx, e->edx };
	return v[reg];
}

static void print_text(const struct caps_opts *o, const struct kvm_tdx_capabilities *c)
{
	const char *names[32];

	printf("KVM_TDX_CAPABILITIES (TDX module profile %s)\n", o->profile);
	printf("supported_attrs  0x%016llx ", (unsigned long long)c->supported_attrs);
	print_names(qemu_td_attr_names, c->supported_attrs, 64, false);
	printf("\nsupported_xfam   0x%016llx ", (unsigned long long)c->supported_xfam);
	print_names(qemu_xfam_bit_names, c->supported_xfam, 64, false);
	printf("\ntdvmcallinfo_1   kernel r11 0x%llx r12 0x%llx, user r11 0x%llx r12 0x%llx\n",
	       (unsigned long long)c->kernel_tdvmcallinfo_1_r11, (unsigned long long)c->kernel_tdvmcallinfo_1_r12,
	       (unsigned long long)c->user_tdvmcallinfo_1_r11, (unsigned long long)c->user_tdvmcallinfo_1_r12);
	printf("configurable CPUID bits (%u leaves; the VMM chooses them in KVM_TDX_INIT_VM):\n", c->cpuid.nent);
	for (unsigned i = 0; i < c->cpuid.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->cpuid.entries[i];

		printf("  leaf 0x%08x", e->function);
		if (has_subleaf(c, i))
			printf(" subleaf 0x%x", e->index);
		printf(": eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x\n", e->eax, e->ebx, e->ecx, e->edx);
		for (unsigned reg = 0; reg < 4; reg++) {
			if (tcc_word_of(e->function, e->index, reg) < 0 || !reg_value(e, reg))
				continue;
			reg_names(e, reg, names);
			printf("    %s:", reg_label[reg]);
			print_names(names, reg_value(e, reg), 32, false);
			printf("\n");
		}
	}
}

static void print_json(const struct caps_opts *o, const struct kvm_tdx_capabilities *c)
{
	const char *names[32];

	printf("{\n  \"profile\": \"%s\",\n  \"supported_attrs\": \"0x%016llx\",\n  \"supported_attrs_names\": [", o->profile,
	       (unsigned long long)c->supported_attrs);
	print_names(qemu_td_attr_names, c->supported_attrs, 64, true);
	printf("],\n  \"supported_xfam\": \"0x%016llx\",\n  \"supported_xfam_names\": [", (unsigned long long)c->supported_xfam);
	print_names(qemu_xfam_bit_names, c->supported_xfam, 64, true);
	printf("],\n  \"kernel_tdvmcallinfo_1_r11\": \"0x%llx\",\n  \"kernel_tdvmcallinfo_1_r12\": \"0x%llx\",\n"
	       "  \"user_tdvmcallinfo_1_r11\": \"0x%llx\",\n  \"user_tdvmcallinfo_1_r12\": \"0x%llx\",\n  \"cpuid\": [",
	       (unsigned long long)c->kernel_tdvmcallinfo_1_r11, (unsigned long long)c->kernel_tdvmcallinfo_1_r12,
	       (unsigned long long)c->user_tdvmcallinfo_1_r11, (unsigned long long)c->user_tdvmcallinfo_1_r12);
	for (unsigned i = 0; i < c->cpuid.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->cpuid.entries[i];

		printf("%s\n    {\"leaf\": \"0x%x\", \"subleaf\": ", i ? "," : "", e->function);
		if (has_subleaf(c, i))
			printf("\"0x%x\"", e->index);
		else
			printf("null");
		printf(", \"eax\": \"0x%08x\", \"ebx\": \"0x%08x\", \"ecx\": \"0x%08x\", \"edx\": \"0x%08x\", \"features\": [",
		       e->eax, e->ebx, e->ecx, e->edx);
		for (unsigned reg = 0, any = 0; reg < 4; reg++) {
			if (tcc_word_of(e->function, e->index, reg) < 0 || !reg_value(e, reg))
				continue;
			reg_names(e, reg, names);
			printf("%s", any++ ? ", " : "");
			print_names(names, reg_value(e, reg), 32, true);
		}
		printf("]}");
	}
	printf("\n  ]\n}\n");
}

int cmd_caps(int argc, char **argv)
{
	struct caps_opts o = { 0 };
	struct kvm_tdx_capabilities *caps;
	struct kvm_dev *kvm;
	struct sim s;
	int r;

	if (parse(argc, argv, &o))
		return 2;
	if (cli_tdx_host("caps", o.profile, &s, &kvm))
		return 1;
	r = tcc_get_capabilities(kvm, &caps);
	if (r) {
		fprintf(stderr, "tdxemu caps: TDX ioctl KVM_TDX_CAPABILITIES failed: %s\n", strerror(-r));
	} else if (o.json) {
		print_json(&o, caps);
	} else {
		print_text(&o, caps);
	}
	free(caps);
	kvm_close(kvm);
	sim_destroy(&s);
	return r ? 1 : 0;
}
