/* QEMU's TDX CPU feature check (target/i386/cpu.c + target/i386/kvm/tdx.c), over the KVM
 * API. The order of the steps and the message texts follow QEMU; the tables are QEMU's,
 * generated from data/qemu/. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdx_cpu_check.h"

#define TCC_REGS 4
#define TCC_XFAM_MIN UINT64_C(0x3) /* x87 + SSE: what every TD has */
#define TCC_GPAW 48u                /* guest physical address width the simulated KVM accepts */
#define TCC_EXT_LEAF 0x80000000u

static const char *const origin_names[TCC_ORIGIN_COUNT] = {
	[TCC_ORIGIN_NATIVE] = "native", [TCC_ORIGIN_FIXED1] = "fixed-1", [TCC_ORIGIN_FIXED0] = "fixed-0",
	[TCC_ORIGIN_CONFIGURED] = "configured", [TCC_ORIGIN_ATTRIBUTE] = "attribute", [TCC_ORIGIN_XFAM] = "xfam",
};

const char *tcc_origin_name(enum tcc_origin o)
{
	return o < TCC_ORIGIN_COUNT ? origin_names[o] : "?";
}

/* ---- feature words -------------------------------------------------------------------- */
/* QEMU compares wi->cpuid.ecx even for leaves without sub-leaves; it is 0 there. */
static uint32_t word_subleaf(const struct qemu_feature_word_info *w)
{
	return w->needs_ecx ? w->subleaf : 0;
}

int tcc_word_of(uint32_t leaf, uint32_t subleaf, unsigned reg)
{
	for (int w = 0; w < QEMU_FEATURE_WORDS; w++) {
		const struct qemu_feature_word_info *wi = &qemu_feature_words[w];
		if (wi->leaf == leaf && wi->reg == reg && (!wi->needs_ecx || wi->subleaf == subleaf))
			return w;
	}
	return -1;
}

const char *tcc_bit_name(uint32_t leaf, uint32_t subleaf, unsigned reg, unsigned bit)
{
	int w = tcc_word_of(leaf, subleaf, reg);
	return w < 0 || bit >= 32 ? NULL : qemu_feature_words[w].names[bit];
}

/* QEMU accepts '_' for '-' in feature names (feat2prop()). */
static bool find_feature(const char *name, size_t len, int *word, unsigned *bit)
{
	for (int w = 0; w < QEMU_FEATURE_WORDS; w++)
		for (unsigned b = 0; b < 32; b++) {
			const char *n = qemu_feature_words[w].names[b];
			size_t i;

			if (!n || strlen(n) != len)
				continue;
			for (i = 0; i < len && (n[i] == name[i] || (n[i] == '-' && name[i] == '_')); i++)
				;
			if (i == len) {
				*word = w, *bit = b;
				return true;
			}
		}
	return false;
}

/* ---- -cpu parsing ---------------------------------------------------------------------- */
static int find_model(const char *name, size_t len)
{
	for (int i = 0; i < QEMU_CPU_MODEL_COUNT; i++) {
		const struct qemu_cpu_model *m = &qemu_cpu_models[i];
		if ((strlen(m->name) == len && !strncmp(m->name, name, len)) ||
		    (m->alias && strlen(m->alias) == len && !strncmp(m->alias, name, len)))
			return i;
	}
	return -1;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* X86CPU properties with a value that are not feature flags: the check accepts and ignores
 * them (address widths, TSC frequency, cache/PMU knobs, identification strings). */
static bool valued_property(const char *name)
{
	static const char *const props[] = {
		"phys-bits", "host-phys-bits", "host-phys-bits-limit", "guest-phys-bits", "tsc-frequency",
		"pmu", "l3-cache", "model-id", "min-level", "min-xlevel", "ucode-rev",
	};

	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (!strcmp(name, props[i]))
			return true;
	return false;
}

static int parse_item(struct tcc_cpu *c, char *item, char *err, size_t errlen)
{
	char *eq = strchr(item, '=');
	const char *val = eq ? eq + 1 : "on";
	bool on;
	int w;
	unsigned b;

	if (eq)
		*eq = '\0';
	if (!*item) {
		snprintf(err, errlen, "-cpu: empty feature in the list");
		return -1;
	}
	if (*item == '+' || *item == '-') {
		if (eq || !find_feature(item + 1, strlen(item + 1), &w, &b)) {
			snprintf(err, errlen, eq ? "-cpu: '%s=%s': use +feat, -feat or feat=on|off" : "-cpu: unknown feature '%s'",
				 eq ? item : item + 1, val);
			return -1;
		}
		if (*item == '+')
			c->plus[w] |= 1u << b;
		else
			c->minus[w] |= 1u << b;
		return 0;
	}
	if (valued_property(item))
		return 0; /* QEMU takes it; no CPUID feature word depends on it */
	if (parse_bool(val, &on)) {
		snprintf(err, errlen, "-cpu: '%s=%s': the value must be on or off", item, val);
		return -1;
	}
	if (!strcmp(item, "enforce"))
		c->enforce = on;
	else if (!strcmp(item, "check"))
		c->check = on;
	else if (find_feature(item, strlen(item), &w, &b)) {
		c->on[w] = on ? c->on[w] | 1u << b : c->on[w] & ~(1u << b);
		c->off[w] = on ? c->off[w] & ~(1u << b) : c->off[w] | 1u << b;
	} else {
		snprintf(err, errlen, "-cpu: unknown feature or property '%s'", item);
		return -1;
	}
	return 0;
}

int tcc_parse_cpu(const char *spec, struct tcc_cpu *c, char *err, size_t errlen)
{
	size_t mlen = strcspn(spec, ",");
	char *copy, *save = NULL, *item;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->check = true; /* QEMU: DEFINE_PROP_BOOL("check", X86CPU, check_cpuid, true) */
	c->model = find_model(spec, mlen);
	if (c->model < 0) {
		snprintf(err, errlen, "-cpu: unknown CPU model '%.*s' (known: host, max, SapphireRapids)", (int)mlen, spec);
		return -1;
	}
	if (!spec[mlen])
		return 0;
	if (!spec[mlen + 1]) {
		snprintf(err, errlen, "-cpu: '%s' ends with a comma", spec);
		return -1;
	}
	copy = strdup(spec + mlen + 1);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* strtok_r would skip empty items; ",," must be an error. */
	for (item = copy; item && !ret; item = save) {
		save = strchr(item, ',');
		if (save)
			*save++ = '\0';
		ret = parse_item(c, item, err, errlen);
	}
	free(copy);
	return ret;
}

/* ---- messages ------------------------------------------------------------------------- */
static int msg_add(struct tcc_result *r, enum tcc_msg_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int msg_add(struct tcc_result *r, enum tcc_msg_kind kind, const char *fmt, ...)
{
	struct tcc_msg *m = realloc(r->msg, (r->nmsg + 1) * sizeof(*m));
	va_list ap;

	if (!m)
		return -ENOMEM;
	r->msg = m;
	m += r->nmsg++;
	m->kind = kind;
	va_start(ap, fmt);
	vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
	return 0;
}

/* feature_word_description() in the chosen QEMU wording. */
static void word_description(const struct qemu_feature_word_info *wi, bool legacy, char *buf, size_t len)
{
	const char *reg = qemu_reg_names[wi->reg];

	if (legacy)
		snprintf(buf, len, QEMU_DESC_LEGACY_PLAIN, wi->leaf, reg);
	else if (wi->needs_ecx)
		snprintf(buf, len, QEMU_DESC_CURRENT_SUBLEAF, wi->leaf, wi->subleaf, reg);
	else
		snprintf(buf, len, QEMU_DESC_CURRENT_PLAIN, wi->leaf, reg);
}

/* mark_unavailable_features()/mark_forced_on_features() reporting: one warning per bit. */
static int report_bits(struct tcc_result *r, bool legacy, const char *prefix, int w, uint32_t mask)
{
	const struct qemu_feature_word_info *wi = &qemu_feature_words[w];
	char desc[48];

	word_description(wi, legacy, desc, sizeof(desc));
	for (int b = 0; b < 32; b++) {
		const char *n = wi->names[b];
		if ((mask >> b & 1) && msg_add(r, TCC_MSG_WARNING, QEMU_WARNING_FORMAT, prefix, desc, n ? "." : "",
					       n ? n : "", b))
			return -ENOMEM;
	}
	return 0;
}

/* ---- what QEMU computes as supported (kvm_arch_get_supported_cpuid + TDX) -------------- */
struct tcc_entries {
	unsigned n;
	struct kvm_cpuid_entry2 e[KVM_MAX_CPUID_ENTRIES];
};

static uint32_t *entry_reg(struct kvm_cpuid_entry2 *e, unsigned reg)
{
	uint32_t *r[TCC_REGS] = { &e->eax, &e->ebx, &e->ecx, &e->edx };
	return r[reg];
}

static uint32_t entry_get(const struct kvm_cpuid_entry2 *e, unsigned reg)
{
	return *entry_reg((struct kvm_cpuid_entry2 *)e, reg);
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid_entry2 *e, unsigned n, uint32_t leaf,
						  uint32_t sub)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == leaf && e[i].index == sub)
			return &e[i];
	return NULL;
}

/* find_in_supported_entry(): the entry, created empty when missing. */
static struct kvm_cpuid_entry2 *supported_entry(struct tcc_entries *s, uint32_t leaf, uint32_t sub)
{
	struct kvm_cpuid_entry2 *e = (struct kvm_cpuid_entry2 *)cpuid_find(s->e, s->n, leaf, sub);

	if (e || s->n == KVM_MAX_CPUID_ENTRIES)
		return e;
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->function = leaf, e->index = sub;
	return e;
}

static int supported_or(struct tcc_entries *s, int w, uint32_t mask)
{
	const struct qemu_feature_word_info *wi = &qemu_feature_words[w];
	struct kvm_cpuid_entry2 *e = supported_entry(s, wi->leaf, word_subleaf(wi));

	if (!e)
		return -E2BIG;
	*entry_reg(e, wi->reg) |= mask;
	return 0;
}

/* tdx_setup_supported_cpuid(): configurable bits, then fixed-1, attribute and XFAM bits. */
static int tdx_supported_cpuid(const struct kvm_tdx_capabilities *caps, struct tcc_entries *s)
{
	int ret = 0;

	s->n = caps->cpuid.nent;
	memcpy(s->e, caps->cpuid.entries, s->n * sizeof(s->e[0]));
	for (int w = 0; w < QEMU_FEATURE_WORDS && !ret; w++)
		if (qemu_tdx_fixed1[w])
			ret = supported_or(s, w, qemu_tdx_fixed1[w]);
	for (unsigned i = 0; i < QEMU_TDX_ATTR_MAP_COUNT && !ret; i++)
		if (caps->supported_attrs >> qemu_tdx_attr_maps[i].attr_bit & 1)
			ret = supported_or(s, qemu_tdx_attr_maps[i].word, qemu_tdx_attr_maps[i].mask);
	for (unsigned i = 0; i < QEMU_TDX_XFAM_DEP_COUNT && !ret; i++)
		if (caps->supported_xfam >> qemu_tdx_xfam_deps[i].xfam_bit & 1)
			ret = supported_or(s, qemu_tdx_xfam_deps[i].word, qemu_tdx_xfam_deps[i].mask);
	if (!ret)
		ret = supported_or(s, QFEAT_XSAVE_XCR0_LO, (uint32_t)(caps->supported_xfam & QEMU_XSTATE_XCR0_MASK));
	if (!ret)
		ret = supported_or(s, QFEAT_XSAVE_XCR0_HI, (uint32_t)((caps->supported_xfam & QEMU_XSTATE_XCR0_MASK) >> 32));
	/* XFD is marked supported and cleared later if the hardware lacks it. */
	if (!ret)
		ret = supported_or(s, QEMU_XSAVE_XFD_WORD, QEMU_XSAVE_XFD_MASK);
	if (!ret)
		ret = supported_or(s, QFEAT_XSAVE_XSS_LO, (uint32_t)(caps->supported_xfam & QEMU_XSTATE_XSS_MASK));
	if (!ret)
		ret = supported_or(s, QFEAT_XSAVE_XSS_HI, (uint32_t)((caps->supported_xfam & QEMU_XSTATE_XSS_MASK) >> 32));
	return ret;
}

static uint32_t native_reg(const struct tcc_native *nat, uint32_t leaf, uint32_t sub, unsigned reg)
{
	uint32_t r[TCC_REGS];

	nat->cpuid(nat->ctx, leaf, sub, r);
	return r[reg];
}

/* KVM_GET_SUPPORTED_CPUID is modelled as the host's CPUID with HYPERVISOR set (KVM always
 * reports it); tdx_adjust_cpuid_features() then adds the fixed-1 bits and masks with the
 * TDX-supported entry of that leaf. */
static uint32_t supported_word(const struct tcc_native *nat, const struct tcc_entries *s, int w)
{
	const struct qemu_feature_word_info *wi = &qemu_feature_words[w];
	const struct kvm_cpuid_entry2 *e;
	uint32_t v = native_reg(nat, wi->leaf, word_subleaf(wi), wi->reg);

	if (w == QFEAT_1_ECX)
		v |= 1u << 31;
	/* KVM reports Intel PT's leaf only with pt_mode=host_guest, which is not the default. */
	if (w == QFEAT_14_0_ECX)
		v = 0;
	v |= qemu_tdx_fixed1[w];
	e = cpuid_find(s->e, s->n, wi->leaf, word_subleaf(wi));
	return e ? v & entry_get(e, wi->reg) : v;
}

/* ---- the requested features (x86_cpu_expand_features) --------------------------------- */
static void expand_features(const struct tcc_cpu *c, const uint32_t *supported, uint32_t *f)
{
	const struct qemu_cpu_model *m = &qemu_cpu_models[c->model];
	uint32_t user[QEMU_FEATURE_WORDS];
	unsigned invtsc;
	int iw;

	for (int w = 0; w < QEMU_FEATURE_WORDS; w++) {
		f[w] = m->features[w];
		user[w] = c->on[w] | c->off[w];
	}
	/* tdx_cpu_instance_init() sets the invtsc property before the user's properties. */
	if (find_feature("invtsc", strlen("invtsc"), &iw, &invtsc)) {
		f[iw] |= 1u << invtsc;
		user[iw] |= 1u << invtsc;
	}
	for (int w = 0; w < QEMU_FEATURE_WORDS; w++) {
		f[w] = (f[w] | c->on[w]) & ~c->off[w];
		if (m->max_features)
			f[w] |= supported[w] & ~user[w] & ~qemu_feature_words[w].no_autoenable;
		f[w] = (f[w] | c->plus[w]) & ~c->minus[w];
	}
}

/* x86_cpu_enable_xsave_components(): XCR0/XSS words from the features that need them. */
static void enable_xsave_components(uint32_t *f)
{
	uint64_t mask = 0;

	/* Component 0 (x87) is there exactly when XSAVE is. */
	if (f[qemu_xsave_components[0].word] & qemu_xsave_components[0].mask) {
		for (unsigned i = 0; i < QEMU_XSAVE_COMPONENT_COUNT; i++)
			if (f[qemu_xsave_components[i].word] & qemu_xsave_components[i].mask)
				mask |= UINT64_C(1) << qemu_xsave_components[i].bit;
	}
	f[QFEAT_XSAVE_XCR0_LO] = (uint32_t)(mask & QEMU_XSTATE_XCR0_MASK);
	f[QFEAT_XSAVE_XCR0_HI] = (uint32_t)((mask & QEMU_XSTATE_XCR0_MASK) >> 32);
	f[QFEAT_XSAVE_XSS_LO] = (uint32_t)(mask & QEMU_XSTATE_XSS_MASK);
	f[QFEAT_XSAVE_XSS_HI] = (uint32_t)((mask & QEMU_XSTATE_XSS_MASK) >> 32);
}

/* x86_cpu_filter_features(): drop what is not supported, warn when check/enforce. */
static int filter_features(struct tcc_result *r, bool legacy, const uint32_t *supported, uint32_t *f, bool *filtered)
{
	*filtered = false;
	for (int w = 0; w < QEMU_FEATURE_WORDS; w++) {
		uint32_t unav = f[w] & ~supported[w];

		if (!unav)
			continue;
		f[w] &= ~unav;
		*filtered = true;
		if ((r->check || r->enforce) && report_bits(r, legacy, QEMU_MSG_FILTER_PREFIX, w, unav))
			return -ENOMEM;
	}
	return 0;
}

/* ---- TD parameters (setup_td_guest_attributes, setup_td_xfam) -------------------------- */
static bool feature_set(const uint32_t *f, const char *name)
{
	int w;
	unsigned b;

	return find_feature(name, strlen(name), &w, &b) && (f[w] >> b & 1);
}

static int td_attributes_xfam(struct tcc_result *r, const struct kvm_tdx_capabilities *caps, uint64_t attrs,
			      const uint32_t *f)
{
	/* PERFMON follows pmu, which tdx_cpu_instance_init() forces off. */
	if (feature_set(f, "pks"))
		attrs |= QEMU_TD_ATTR_PKS;
	r->attributes = attrs;
	/* QEMU ORs the four 32-bit words without shifting the high halves. */
	r->xfam = (uint64_t)f[QFEAT_XSAVE_XCR0_LO] | f[QFEAT_XSAVE_XCR0_HI] | f[QFEAT_XSAVE_XSS_LO] | f[QFEAT_XSAVE_XSS_HI];
	if (attrs & ~caps->supported_attrs) {
		r->failed = true;
		return msg_add(r, TCC_MSG_ERROR, QEMU_MSG_INVALID_ATTRIBUTES, (unsigned long long)attrs,
			       (unsigned long long)caps->supported_attrs);
	}
	if (attrs & ~QEMU_TDX_SUPPORTED_TD_ATTRS) {
		r->failed = true;
		return msg_add(r, TCC_MSG_ERROR, QEMU_MSG_QEMU_UNSUPPORTED_ATTRIBUTES, (unsigned long long)attrs,
			       (unsigned long long)QEMU_TDX_SUPPORTED_TD_ATTRS);
	}
	if (r->xfam & ~caps->supported_xfam) {
		r->failed = true;
		return msg_add(r, TCC_MSG_ERROR, QEMU_MSG_INVALID_XFAM, (unsigned long long)r->xfam,
			       (unsigned long long)caps->supported_xfam);
	}
	return 0;
}

/* ---- the CPUID QEMU passes to KVM_TDX_INIT_VM ------------------------------------------- */
/* kvm_x86_build_cpuid() for one register: feature words from the features; registers QEMU
 * computes otherwise (caches, topology, sizes) are taken from the host here. That includes
 * family/model/stepping: a non-migratable TD must have the platform's (TDH.MNG.INIT). */
static uint32_t qemu_reg_value(const struct tcc_cpu *c, const struct tcc_native *nat, const uint32_t *f,
			       uint32_t leaf, uint32_t sub, unsigned reg)
{
	int w = tcc_word_of(leaf, sub, reg);

	if (w >= 0)
		return f[w];
	if (leaf == 0x80000008 && reg == 0) /* guest physical bits in EAX[23:16] for KVM's GPAW */
		return (native_reg(nat, leaf, sub, reg) & ~UINT32_C(0x00FF0000)) | TCC_GPAW << 16;
	return native_reg(nat, leaf, sub, reg);
}

static struct kvm_tdx_init_vm *init_vm_alloc(void)
{
	return calloc(1, sizeof(struct kvm_tdx_init_vm) + KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));
}

/* tdx_filter_cpuid(): only leaves KVM reports configurable, masked with what is. With
 * c == NULL the probe form: every configurable bit 0 but the address width. */
static void init_vm_cpuid(struct kvm_tdx_init_vm *iv, const struct kvm_tdx_capabilities *caps, const struct tcc_cpu *c,
			  const struct tcc_native *nat, const uint32_t *f)
{
	iv->cpuid.nent = caps->cpuid.nent;
	for (unsigned i = 0; i < caps->cpuid.nent; i++) {
		const struct kvm_cpuid_entry2 *conf = &caps->cpuid.entries[i];
		struct kvm_cpuid_entry2 *e = &iv->cpuid.entries[i];

		memset(e, 0, sizeof(*e));
		e->function = conf->function, e->index = conf->index, e->flags = conf->flags;
		for (unsigned reg = 0; reg < TCC_REGS; reg++) {
			uint32_t v = c ? qemu_reg_value(c, nat, f, e->function, e->index, reg)
				       : (e->function == 0x80000008 && reg == 0 ? TCC_GPAW << 16 : 0);
			*entry_reg(e, reg) = v & entry_get(conf, reg);
		}
	}
}

static struct kvm_cpuid2 *cpuid2_alloc(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));

	if (c)
		c->nent = KVM_MAX_CPUID_ENTRIES;
	return c;
}

/* The throw-away TDs of one check. They stay alive until the end: a page KVM reclaims from
 * a destroyed TD may come back as the next TD's TD_PARAMS page, and the simulated KVM does
 * not clear reclaimed pages (Linux's tdx_clear_page()), so INIT of that TD would read junk. */
#define TCC_MAX_TDS 70
struct tcc_tds {
	unsigned n;
	struct kvm_vm *vm[TCC_MAX_TDS];
};

static void tds_destroy(struct tcc_tds *t)
{
	while (t->n)
		kvm_destroy_vm(t->vm[--t->n]);
}

/* A throw-away TD: INIT_VM with iv, one vCPU, KVM_TDX_GET_CPUID into out. */
static int td_cpuid(struct kvm_dev *kvm, struct tcc_tds *tds, struct kvm_tdx_init_vm *iv, struct kvm_cpuid2 *out,
		    char *err, size_t errlen)
{
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint64_t hw = 0;
	const char *what = "KVM_CREATE_VM";
	int r = tds->n < TCC_MAX_TDS ? kvm_create_vm(kvm, KVM_X86_TDX_VM, &vm) : -ENOSPC;

	if (r)
		goto fail;
	tds->vm[tds->n++] = vm;
	what = "KVM_TDX_INIT_VM";
	r = kvm_tdx_init_vm(vm, iv, &hw);
	if (!r) {
		what = "KVM_CREATE_VCPU";
		r = kvm_create_vcpu(vm, 0, &vcpu);
	}
	if (!r) {
		what = "KVM_TDX_INIT_VCPU";
		r = kvm_tdx_init_vcpu(vcpu, 0);
	}
	if (!r) {
		what = "KVM_TDX_GET_CPUID";
		out->nent = KVM_MAX_CPUID_ENTRIES;
		r = kvm_tdx_get_cpuid(vcpu, out);
	}
	if (!r)
		return 0;
fail:
	snprintf(err, errlen, "TDX ioctl %s failed, hw_errors: 0x%llx: %s (attributes 0x%llx, xfam 0x%llx)", what,
		 (unsigned long long)hw, strerror(-r), (unsigned long long)iv->attributes, (unsigned long long)iv->xfam);
	return -2;
}

/* ---- tdx_check_features() --------------------------------------------------------------- */
static int check_features(struct tcc_result *r, bool legacy, const struct kvm_cpuid2 *td, uint32_t *f, bool *mismatch)
{
	bool verbose = r->check || r->enforce;
	int sw = -1;
	unsigned sb = 0;
	bool have_syscall = find_feature("syscall", strlen("syscall"), &sw, &sb);

	*mismatch = false;
	for (int w = 0; w < QEMU_FEATURE_WORDS; w++) {
		const struct qemu_feature_word_info *wi = &qemu_feature_words[w];
		const struct kvm_cpuid_entry2 *e = cpuid_find(td->entries, td->nent, wi->leaf, word_subleaf(wi));
		uint32_t actual, requested, unav, forced;

		if (!e) /* not reported: QEMU treats it as fully configurable by itself */
			continue;
		actual = entry_get(e, wi->reg);
		/* SYSCALL reads 1 only in 64-bit mode, which a vCPU that never ran is not in. */
		if (have_syscall && w == sw)
			actual |= 1u << sb;
		requested = f[w];
		unav = requested & ~actual;
		forced = actual & ~requested;
		f[w] = (f[w] & ~unav) | forced;
		*mismatch |= unav || forced;
		if (verbose && (report_bits(r, legacy, QEMU_MSG_CHECK_UNAVAILABLE_PREFIX, w, unav) ||
				report_bits(r, legacy, QEMU_MSG_CHECK_FORCED_ON_PREFIX, w, forced)))
			return -ENOMEM;
	}
	return 0;
}

/* ---- origins, by experiment -------------------------------------------------------------- */
struct tcc_probes {
	struct kvm_cpuid2 *base;  /* minimal XFAM, no attributes */
	struct kvm_cpuid2 *xfam;  /* every supported XFAM bit */
	struct kvm_cpuid2 *attr[64];
};

static int probe(struct kvm_dev *kvm, struct tcc_tds *tds, const struct kvm_tdx_capabilities *caps, uint64_t xfam,
		 uint64_t attrs, struct kvm_cpuid2 **out, char *err, size_t errlen)
{
	struct kvm_tdx_init_vm *iv = init_vm_alloc();
	int r;

	*out = cpuid2_alloc();
	if (!iv || !*out) {
		free(iv);
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	init_vm_cpuid(iv, caps, NULL, NULL, NULL);
	iv->xfam = xfam;
	iv->attributes = attrs;
	r = td_cpuid(kvm, tds, iv, *out, err, errlen);
	free(iv);
	return r;
}

static int run_probes(struct kvm_dev *kvm, struct tcc_tds *tds, const struct kvm_tdx_capabilities *caps,
		      struct tcc_probes *p, char *err, size_t errlen)
{
	int r = probe(kvm, tds, caps, TCC_XFAM_MIN, 0, &p->base, err, errlen);

	if (!r)
		r = probe(kvm, tds, caps, caps->supported_xfam, 0, &p->xfam, err, errlen);
	for (unsigned b = 0; b < 64 && !r; b++)
		if (caps->supported_attrs >> b & 1)
			r = probe(kvm, tds, caps, TCC_XFAM_MIN, UINT64_C(1) << b, &p->attr[b], err, errlen);
	return r;
}

static void free_probes(struct tcc_probes *p)
{
	free(p->base);
	free(p->xfam);
	for (unsigned b = 0; b < 64; b++)
		free(p->attr[b]);
}

static uint32_t probe_reg(const struct kvm_cpuid2 *c, uint32_t leaf, uint32_t sub, unsigned reg)
{
	const struct kvm_cpuid_entry2 *e = c ? cpuid_find(c->entries, c->nent, leaf, sub) : NULL;
	return e ? entry_get(e, reg) : 0;
}

/* Configurable first (the VMM's choice), then what follows XFAM or attributes in the
 * probes, then the comparison with the host. */
static enum tcc_origin bit_origin(const struct tcc_reg *t, unsigned b)
{
	bool v = t->value >> b & 1, n = t->native >> b & 1;

	if (t->configurable >> b & 1)
		return TCC_ORIGIN_CONFIGURED;
	if (t->xfam_dep >> b & 1)
		return TCC_ORIGIN_XFAM;
	if (t->attr_dep >> b & 1)
		return TCC_ORIGIN_ATTRIBUTE;
	if (v != n)
		return v ? TCC_ORIGIN_FIXED1 : TCC_ORIGIN_FIXED0;
	return TCC_ORIGIN_NATIVE;
}

static void tag_reg(struct tcc_reg *t, const struct kvm_tdx_capabilities *caps, const struct tcc_probes *p,
		    const struct tcc_native *nat)
{
	const struct kvm_cpuid_entry2 *conf = cpuid_find(caps->cpuid.entries, caps->cpuid.nent, t->leaf, t->subleaf);
	uint32_t base = probe_reg(p->base, t->leaf, t->subleaf, t->reg);

	t->word = tcc_word_of(t->leaf, t->subleaf, t->reg);
	t->native = native_reg(nat, t->leaf, t->subleaf, t->reg);
	t->configurable = conf ? entry_get(conf, t->reg) : 0;
	t->xfam_dep = base ^ probe_reg(p->xfam, t->leaf, t->subleaf, t->reg);
	for (unsigned b = 0; b < 64; b++)
		if (p->attr[b])
			t->attr_dep |= base ^ probe_reg(p->attr[b], t->leaf, t->subleaf, t->reg);
	for (unsigned b = 0; b < 32; b++)
		t->origin[b] = (uint8_t)bit_origin(t, b);
}

static int tag_origins(struct tcc_result *r, struct kvm_dev *kvm, struct tcc_tds *tds, const struct tcc_native *nat,
		       const struct kvm_tdx_capabilities *caps, const struct kvm_cpuid2 *td, char *err, size_t errlen)
{
	struct tcc_probes p = { 0 };
	int ret = run_probes(kvm, tds, caps, &p, err, errlen);

	if (!ret) {
		r->reg = calloc(td->nent * TCC_REGS, sizeof(*r->reg));
		if (!r->reg) {
			snprintf(err, errlen, "out of memory");
			ret = -2;
		}
	}
	for (unsigned i = 0; !ret && i < td->nent; i++)
		for (unsigned reg = 0; reg < TCC_REGS; reg++) {
			struct tcc_reg *t = &r->reg[r->nreg++];

			t->leaf = td->entries[i].function, t->subleaf = td->entries[i].index, t->reg = (uint8_t)reg;
			t->value = entry_get(&td->entries[i], reg);
			tag_reg(t, caps, &p, nat);
		}
	free_probes(&p);
	return ret;
}

/* ---- the whole check ---------------------------------------------------------------------- */
int tcc_get_capabilities(struct kvm_dev *kvm, struct kvm_tdx_capabilities **out)
{
	struct kvm_vm *vm;
	unsigned n = 6; /* QEMU starts with the 6 CPUID configs of the first TDX generation */
	int r = kvm_create_vm(kvm, KVM_X86_TDX_VM, &vm);

	*out = NULL;
	if (r)
		return r;
	do {
		struct kvm_tdx_capabilities *c = calloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));

		if (!c) {
			r = -ENOMEM;
			break;
		}
		c->cpuid.nent = n;
		r = kvm_tdx_capabilities(vm, c);
		if (r)
			free(c);
		else
			*out = c;
		n *= 2;
	} while (r == -E2BIG && n <= KVM_MAX_CPUID_ENTRIES);
	kvm_destroy_vm(vm);
	return r;
}

struct tcc_state {
	struct tcc_cpu cpu;
	struct kvm_tdx_capabilities *caps;
	struct tcc_entries supported_cpuid;
	uint32_t supported[QEMU_FEATURE_WORDS];
	uint32_t f[QEMU_FEATURE_WORDS];
	struct kvm_tdx_init_vm *iv;
	struct kvm_cpuid2 *td;
	struct tcc_tds tds;
};

/* Up to KVM_TDX_INIT_VM: model, expansion, filtering, TD parameters. 1: QEMU stops here. */
static int tcc_prepare(struct tcc_state *s, struct kvm_dev *kvm, const struct tcc_native *nat,
		       const struct tcc_request *req, struct tcc_result *res, char *err, size_t errlen)
{
	const struct qemu_cpu_model *m;
	bool filtered;
	int r;

	if (tcc_parse_cpu(req->cpu, &s->cpu, err, errlen))
		return -1;
	m = &qemu_cpu_models[s->cpu.model];
	res->model = m->name, res->qemu_accepts_model = m->qemu_tdx_accepts;
	res->check = s->cpu.check, res->enforce = s->cpu.enforce;
	if (!m->qemu_tdx_accepts && msg_add(res, TCC_MSG_NOTE, "QEMU refuses named CPU models for TDX (\"%s\"); shown is "
				    "what its feature check would give, with the host's family/model/stepping",
				    QEMU_MSG_NAMED_MODEL))
		goto nomem;
	if ((r = tcc_get_capabilities(kvm, &s->caps))) {
		snprintf(err, errlen, "TDX ioctl KVM_TDX_CAPABILITIES failed: %s", strerror(-r));
		return -2;
	}
	if (tdx_supported_cpuid(s->caps, &s->supported_cpuid)) {
		snprintf(err, errlen, "tdx_supported_cpuid requires more space than %u entries", (unsigned)KVM_MAX_CPUID_ENTRIES);
		return -2;
	}
	for (int w = 0; w < QEMU_FEATURE_WORDS; w++)
		s->supported[w] = supported_word(nat, &s->supported_cpuid, w);
	expand_features(&s->cpu, s->supported, s->f);
	enable_xsave_components(s->f);
	if (filter_features(res, req->legacy_wording, s->supported, s->f, &filtered))
		goto nomem;
	memcpy(res->requested, s->f, sizeof(res->requested));
	if (s->cpu.enforce && filtered) {
		res->failed = true;
		return msg_add(res, TCC_MSG_ERROR, "%s", QEMU_MSG_FILTER_ENFORCE_ERROR) ? -2 : 1;
	}
	if (td_attributes_xfam(res, s->caps, req->attributes, s->f))
		goto nomem;
	return res->failed ? 1 : 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -2;
}

/* KVM_TDX_INIT_VM with QEMU's CPUID, the feature check, the origins. */
static int tcc_run_td(struct tcc_state *s, struct kvm_dev *kvm, const struct tcc_native *nat,
		      const struct tcc_request *req, struct tcc_result *res, char *err, size_t errlen)
{
	bool mismatch;
	int r;

	s->iv = init_vm_alloc();
	s->td = cpuid2_alloc();
	if (!s->iv || !s->td) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	init_vm_cpuid(s->iv, s->caps, &s->cpu, nat, s->f);
	s->iv->attributes = res->attributes;
	s->iv->xfam = res->xfam;
	if ((r = td_cpuid(kvm, &s->tds, s->iv, s->td, err, errlen)))
		return r;
	if (check_features(res, req->legacy_wording, s->td, s->f, &mismatch))
		goto nomem;
	memcpy(res->final, s->f, sizeof(res->final));
	if (s->cpu.enforce && mismatch) {
		res->failed = true;
		if (msg_add(res, TCC_MSG_ERROR, "%s", QEMU_MSG_ENFORCE_CHECK_ERROR))
			goto nomem;
	}
	return tag_origins(res, kvm, &s->tds, nat, s->caps, s->td, err, errlen);
nomem:
	snprintf(err, errlen, "out of memory");
	return -2;
}

int tdx_cpu_check(struct kvm_dev *kvm, const struct tcc_native *nat, const struct tcc_request *req,
		  struct tcc_result *res, char *err, size_t errlen)
{
	struct tcc_state *s = calloc(1, sizeof(*s));
	int r;

	memset(res, 0, sizeof(*res));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -2;
	}
	r = tcc_prepare(s, kvm, nat, req, res, err, errlen);
	if (!r)
		r = tcc_run_td(s, kvm, nat, req, res, err, errlen);
	tds_destroy(&s->tds);
	free(s->caps);
	free(s->iv);
	free(s->td);
	free(s);
	return r < 0 ? r : 0;
}

void tcc_result_free(struct tcc_result *res)
{
	free(res->msg);
	free(res->reg);
	res->msg = NULL, res->reg = NULL;
	res->nmsg = res->nreg = 0;
}
