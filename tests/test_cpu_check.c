/* QEMU's TDX CPU feature check (src/vmm/tdx_cpu_check.c): -cpu parsing, QEMU's warnings,
 * enforce, and the origin of a few bits whose origin is architectural. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vmm/tdx_cpu_check.h"

struct ccx {
	struct fx f;
	struct kvm_dev *kvm;
	struct tcc_native nat;
	struct tcc_result res;
	char err[256];
};

static bool ccx_up(struct ccx *c)
{
	memset(c, 0, sizeof(*c));
	if (!fx_create(&c->f) || !fx_bringup(&c->f))
		return false;
	c->kvm = kvm_open(c->f.h);
	c->nat = (struct tcc_native){ sim_native_cpuid, &c->f.s };
	return c->kvm != NULL;
}

static void ccx_down(struct ccx *c)
{
	tcc_result_free(&c->res);
	if (c->kvm) {
		CHECK_EQ(kvm_dev_pages_in_use(c->kvm), 0); /* every throw-away TD is gone */
		kvm_close(c->kvm);
	}
	fx_destroy(&c->f);
	c->kvm = NULL;
}

/* Each check on a fresh host: the simulated KVM hands out pages reclaimed from a destroyed
 * TD without clearing them, and the next TD_PARAMS written to such a page reads as junk. */
static int ccx_run(struct ccx *c, const char *cpu, bool legacy)
{
	struct tcc_request req = { cpu, QEMU_TDX_DEFAULT_ATTRIBUTES, legacy };

	ccx_down(c);
	if (!ccx_up(c))
		return -100;
	return tdx_cpu_check(c->kvm, &c->nat, &req, &c->res, c->err, sizeof(c->err));
}

static bool has_msg(const struct tcc_result *r, enum tcc_msg_kind kind, const char *text)
{
	for (unsigned i = 0; i < r->nmsg; i++)
		if (r->msg[i].kind == kind && !strcmp(r->msg[i].text, text))
			return true;
	return false;
}

static unsigned count_msgs(const struct tcc_result *r, enum tcc_msg_kind kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->nmsg; i++)
		n += r->msg[i].kind == kind;
	return n;
}

static const struct tcc_reg *find_reg(const struct tcc_result *r, uint32_t leaf, uint32_t sub, unsigned reg)
{
	for (unsigned i = 0; i < r->nreg; i++)
		if (r->reg[i].leaf == leaf && r->reg[i].subleaf == sub && r->reg[i].reg == reg)
			return &r->reg[i];
	return NULL;
}

/* The word and bit of a QEMU feature name, from the generated table. */
static bool feature(const char *name, int *word, unsigned *bit)
{
	for (int w = 0; w < QEMU_FEATURE_WORDS; w++)
		for (unsigned b = 0; b < 32; b++)
			if (qemu_feature_words[w].names[b] && !strcmp(qemu_feature_words[w].names[b], name)) {
				*word = w, *bit = b;
				return true;
			}
	return false;
}

/* The TD's bit of a named feature: value and origin, or false when the TD lacks the leaf. */
static bool td_bit(const struct tcc_result *r, const char *name, bool *value, enum tcc_origin *origin)
{
	const struct qemu_feature_word_info *wi;
	const struct tcc_reg *t;
	unsigned b;
	int w;

	if (!feature(name, &w, &b))
		return false;
	wi = &qemu_feature_words[w];
	t = find_reg(r, wi->leaf, wi->needs_ecx ? wi->subleaf : 0, wi->reg);
	if (!t)
		return false;
	*value = t->value >> b & 1;
	*origin = (enum tcc_origin)t->origin[b];
	return true;
}

TEST(cpu_check_parse)
{
	struct tcc_cpu c;
	char err[256];
	unsigned b;
	int w;

	REQUIRE(!tcc_parse_cpu("SapphireRapids-v1,+intel_pt,-avx512f,pku=off,enforce", &c, err, sizeof(err)));
	CHECK(!strcmp(qemu_cpu_models[c.model].name, "SapphireRapids"));
	CHECK(c.enforce && c.check);
	REQUIRE(feature("intel-pt", &w, &b));
	CHECK(c.plus[w] >> b & 1);
	REQUIRE(feature("avx512f", &w, &b));
	CHECK(c.minus[w] >> b & 1);
	REQUIRE(feature("pku", &w, &b));
	CHECK((c.off[w] >> b & 1) && !(c.on[w] >> b & 1));
	REQUIRE(!tcc_parse_cpu("host,check=off", &c, err, sizeof(err)));
	CHECK(!c.check && !c.enforce);

	CHECK(tcc_parse_cpu("Skylake-Server", &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "unknown CPU model 'Skylake-Server'") != NULL);
	CHECK(tcc_parse_cpu("host,+nosuchfeat", &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "unknown feature 'nosuchfeat'") != NULL);
	CHECK(tcc_parse_cpu("host,avx=maybe", &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "must be on or off") != NULL);
	CHECK(tcc_parse_cpu("host,,avx", &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "empty feature") != NULL);
	CHECK(tcc_parse_cpu("host,", &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "ends with a comma") != NULL);
	CHECK(tcc_parse_cpu("host,+avx=on", &c, err, sizeof(err)) == -1);
	CHECK(tcc_parse_cpu("", &c, err, sizeof(err)) == -1);
	/* valued CPU properties that are not feature flags pass through; others stay errors */
	CHECK(tcc_parse_cpu("max,phys-bits=52,tsc-frequency=2000000000,avx=off", &c, err, sizeof(err)) == 0);
	CHECK(tcc_parse_cpu("max,frob=52", &c, err, sizeof(err)) == -1);
	CHECK(strstr(err, "must be on or off") != NULL);
}

/* The two examples of QEMU's TDX documentation, in both wordings. */
TEST(cpu_check_warnings)
{
	struct ccx c;

	REQUIRE(ccx_up(&c));
	REQUIRE_EQ(ccx_run(&c, "host,+intel-pt,-invtsc", false), 0);
	CHECK(!c.res.failed);
	CHECK(has_msg(&c.res, TCC_MSG_WARNING,
		      "host doesn't support requested feature: CPUID[eax=07h,ecx=00h].EBX.intel-pt [bit 25]"));
	CHECK(has_msg(&c.res, TCC_MSG_WARNING, "TDX forcibly sets the feature: CPUID[eax=80000007h].EDX.invtsc [bit 8]"));
	CHECK(c.res.nreg > 0);

	REQUIRE_EQ(ccx_run(&c, "host,+intel-pt,-invtsc", true), 0);
	CHECK(has_msg(&c.res, TCC_MSG_WARNING, "host doesn't support requested feature: CPUID.07H:EBX.intel-pt [bit 25]"));
	CHECK(has_msg(&c.res, TCC_MSG_WARNING, "TDX forcibly sets the feature: CPUID.80000007H:EDX.invtsc [bit 8]"));

	/* check=off silences QEMU (the features are still filtered). */
	REQUIRE_EQ(ccx_run(&c, "host,+intel-pt,-invtsc,check=off", false), 0);
	CHECK_EQ(count_msgs(&c.res, TCC_MSG_WARNING), 0);
	CHECK(!c.res.failed);
	ccx_down(&c);
}

TEST(cpu_check_enforce)
{
	struct ccx c;

	REQUIRE(ccx_up(&c));
	/* Filtering fails realize: no TD is created. */
	REQUIRE_EQ(ccx_run(&c, "host,+intel-pt,enforce", false), 0);
	CHECK(c.res.failed);
	CHECK(has_msg(&c.res, TCC_MSG_ERROR, "Host doesn't support requested features"));
	CHECK_EQ(c.res.nreg, 0);
	/* A forced-on bit fails the TDX check after the TD exists. */
	REQUIRE_EQ(ccx_run(&c, "host,-invtsc,enforce", false), 0);
	CHECK(c.res.failed);
	CHECK(has_msg(&c.res, TCC_MSG_WARNING, "TDX forcibly sets the feature: CPUID[eax=80000007h].EDX.invtsc [bit 8]"));
	CHECK_EQ(count_msgs(&c.res, TCC_MSG_ERROR), 1);
	/* The same mismatch without enforce is only a warning. */
	REQUIRE_EQ(ccx_run(&c, "host,-invtsc", false), 0);
	CHECK(!c.res.failed);
	CHECK_EQ(count_msgs(&c.res, TCC_MSG_ERROR), 0);
	CHECK(c.res.nreg > 0);
	ccx_down(&c);
}

TEST(cpu_check_origins)
{
	struct ccx c;
	enum tcc_origin o;
	const struct tcc_reg *t;
	bool v;

	REQUIRE(ccx_up(&c));
	REQUIRE_EQ(ccx_run(&c, "SapphireRapids", false), 0);
	/* The module sets HYPERVISOR although the host's CPUID has it clear. */
	REQUIRE(td_bit(&c.res, "hypervisor", &v, &o));
	CHECK(v);
	CHECK_EQ(o, TCC_ORIGIN_FIXED1);
	/* VMX is the host's, never a TD's. */
	REQUIRE(td_bit(&c.res, "vmx", &v, &o));
	CHECK(!v);
	CHECK_EQ(o, TCC_ORIGIN_FIXED0);
	/* AVX-512 VBMI follows XFAM[7:5]: on with the model's AVX-512 state ... */
	CHECK_EQ(c.res.xfam & 0xe0, 0xe0);
	REQUIRE(td_bit(&c.res, "avx512vbmi", &v, &o));
	CHECK(v);
	CHECK_EQ(o, TCC_ORIGIN_XFAM);
	/* CPUID(1).EBX[23:16] is the VMM's (KVM_TDX_CAPABILITIES lists it configurable). */
	t = find_reg(&c.res, 1, 0, 1);
	REQUIRE(t != NULL);
	CHECK_EQ(t->origin[16], TCC_ORIGIN_CONFIGURED);
	CHECK_EQ(t->origin[23], TCC_ORIGIN_CONFIGURED);

	/* ... and off without it. */
	REQUIRE_EQ(ccx_run(&c, "SapphireRapids,-avx512f", false), 0);
	CHECK_EQ(c.res.xfam & 0xe0, 0);
	REQUIRE(td_bit(&c.res, "avx512vbmi", &v, &o));
	CHECK(!v);
	CHECK_EQ(o, TCC_ORIGIN_XFAM);
	ccx_down(&c);
}

TEST(cpu_check_capabilities)
{
	struct ccx c;
	struct kvm_tdx_capabilities *caps;

	REQUIRE(ccx_up(&c));
	REQUIRE_EQ(tcc_get_capabilities(c.kvm, &caps), 0);
	CHECK(caps->supported_attrs & QEMU_TD_ATTR_SEPT_VE_DISABLE);
	CHECK_EQ(caps->supported_xfam & 3, 3); /* x87 and SSE are in every TD */
	CHECK(caps->cpuid.nent > 6);           /* more than QEMU's first guess: the buffer grew */
	free(caps);
	ccx_down(&c);
}
