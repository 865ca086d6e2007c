/* Host construction: configuration, KeyID partitioning, logical processors, MSRs, CPUID. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plat_internal.h"

extern const struct cpu_model cpu_models[];
extern const unsigned cpu_models_count;

const struct cpu_model *plat_cpu_model_find(const char *name)
{
	for (unsigned i = 0; i < cpu_models_count; i++)
		if (!strcmp(cpu_models[i].name, name))
			return &cpu_models[i];
	return NULL;
}

const struct cpu_model *plat_cpu_model_default(void)
{
	return plat_cpu_model_find("sapphire-rapids");
}

void plat_config_default(struct plat_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->packages = 2;
	cfg->lps_per_package = 8;
	cfg->ram_bytes = 64ull << 30;
	cfg->model = plat_cpu_model_default();
	cfg->max_pa = cfg->model ? cfg->model->max_pa : 52;
	/* 6 KeyID bits: KeyIDs 1..31 MKTME, 32..63 TDX private (a typical SPR BIOS split). */
	cfg->total_keyids = 64;
	cfg->nr_tdx_keyids = 32;
	cfg->seamrr_enabled = true;
	plat_config_default_e820(cfg);
}

static void e820_add(struct plat_config *cfg, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size && cfg->nr_e820 < PLAT_MAX_E820)
		cfg->e820[cfg->nr_e820++] = (struct plat_e820_entry){ addr, size, type };
}

/* A BIOS-like map: legacy area, low RAM up to 2 GiB minus firmware-reserved memory,
 * the 32-bit MMIO hole, then the rest of RAM above 4 GiB split across the packages. */
void plat_config_default_e820(struct plat_config *cfg)
{
	const uint64_t mib = 1ull << 20, gib = 1ull << 30;
	uint64_t ram = cfg->ram_bytes, low, high, per_pkg, base = 4 * gib;
	unsigned pkgs = cfg->packages ? cfg->packages : 1;

	cfg->nr_e820 = 0;
	e820_add(cfg, 0, 0x9f000, E820_RAM);
	e820_add(cfg, 0x9f000, 0x100000 - 0x9f000, E820_RESERVED);
	low = ram < 2 * gib ? ram : 2 * gib;
	if (low > mib + 64 * mib) {
		e820_add(cfg, mib, low - 64 * mib - mib, E820_RAM);
		e820_add(cfg, low - 64 * mib, 60 * mib, E820_RESERVED);
		e820_add(cfg, low - 4 * mib, 4 * mib, E820_ACPI);
	}
	e820_add(cfg, 0xfe000000, 0x2000000 - 0x10000, E820_RESERVED); /* APICs, flash */
	high = ram > low ? ram - low : 0;
	per_pkg = (high / pkgs) & ~(gib - 1);
	for (unsigned i = 0; i < pkgs && high; i++) {
		uint64_t sz = (i == pkgs - 1) ? high : per_pkg;
		e820_add(cfg, base, sz, E820_RAM);
		base += sz;
		high -= sz;
	}
}

int plat_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int plat_config_parse_e820(struct plat_config *cfg, const char *spec, char *err, size_t errlen)
{
	char *copy = strdup(spec), *save = NULL, *tok;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->nr_e820 = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *at = strchr(tok, '@'), *plus = at ? strchr(at, '+') : NULL;
		uint64_t base, size;
		uint32_t type;

		if (!at || !plus) {
			snprintf(err, errlen, "e820 entry '%s': expected TYPE@BASE+SIZE", tok);
			goto fail;
		}
		*at = *plus = '\0';
		if (!strcasecmp(tok, "ram"))
			type = E820_RAM;
		else if (!strcasecmp(tok, "reserved"))
			type = E820_RESERVED;
		else if (!strcasecmp(tok, "acpi"))
			type = E820_ACPI;
		else if (!strcasecmp(tok, "nvs"))
			type = E820_NVS;
		else {
			snprintf(err, errlen, "e820 entry: unknown type '%s' (ram, reserved, acpi, nvs)", tok);
			goto fail;
		}
		if (plat_parse_size(at + 1, &base) || plat_parse_size(plus + 1, &size) || !size ||
		    base + size < base) {
			snprintf(err, errlen, "e820 entry '%s@%s+%s': bad base or size", tok, at + 1, plus + 1);
			goto fail;
		}
		if ((base | size) & (PLAT_PAGE_SIZE - 1)) {
			snprintf(err, errlen, "e820 entry %#llx+%#llx: not 4 KiB aligned",
				 (unsigned long long)base, (unsigned long long)size);
			goto fail;
		}
		if (cfg->nr_e820 == PLAT_MAX_E820) {
			snprintf(err, errlen, "more than %d e820 entries", PLAT_MAX_E820);
			goto fail;
		}
		e820_add(cfg, base, size, type);
	}
	free(copy);
	if (!cfg->nr_e820) {
		snprintf(err, errlen, "empty e820 map");
		return -1;
	}
	return 0;
fail:
	free(copy);
	return -1;
}

/* Is [base, base+size) entirely described by (possibly adjacent) e820 entries? */
static bool covered_by_e820(const struct plat_config *c, uint64_t base, uint64_t size)
{
	uint64_t at = base, end = base + size;

	while (at < end) {
		bool step = false;
		for (unsigned i = 0; i < c->nr_e820 && !step; i++)
			if (at >= c->e820[i].addr && at < c->e820[i].addr + c->e820[i].size) {
				at = c->e820[i].addr + c->e820[i].size;
				step = true;
			}
		if (!step)
			return false;
	}
	return true;
}

static int cmp_e820(const void *a, const void *b)
{
	const struct plat_e820_entry *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Check the map, sort it, and derive CMRs when none were given. */
static int validate_config(struct plat_config *c, char *err, size_t errlen)
{
	uint64_t ram = 0;

	if (!c->model) {
		snprintf(err, errlen, "no CPU model");
		return -1;
	}
	if (!c->packages || c->packages > MAX_PKGS) {
		snprintf(err, errlen, "packages must be 1..%d (got %u)", MAX_PKGS, c->packages);
		return -1;
	}
	if (!c->lps_per_package || c->packages * c->lps_per_package > PLAT_MAX_LPS) {
		snprintf(err, errlen, "logical processors must be 1..%d in total (got %u x %u)",
			 PLAT_MAX_LPS, c->packages, c->lps_per_package);
		return -1;
	}
	if (c->total_keyids < 2 || c->total_keyids > PLAT_MAX_KEYIDS || (c->total_keyids & (c->total_keyids - 1))) {
		snprintf(err, errlen, "total KeyIDs must be a power of two in 2..%d", PLAT_MAX_KEYIDS);
		return -1;
	}
	if (c->nr_tdx_keyids >= c->total_keyids) {
		snprintf(err, errlen, "TDX KeyIDs (%u) must leave KeyID 0 to the host (total %u)",
			 c->nr_tdx_keyids, c->total_keyids);
		return -1;
	}
	if (c->max_pa < 36 || c->max_pa > 52) {
		snprintf(err, errlen, "MAX_PA must be 36..52 (got %u)", c->max_pa);
		return -1;
	}
	qsort(c->e820, c->nr_e820, sizeof(c->e820[0]), cmp_e820);
	for (unsigned i = 0; i < c->nr_e820; i++) {
		const struct plat_e820_entry *e = &c->e820[i];
		uint64_t end = e->addr + e->size;
		if (i && e->addr < c->e820[i - 1].addr + c->e820[i - 1].size) {
			snprintf(err, errlen, "e820 entries overlap at %#llx", (unsigned long long)e->addr);
			return -1;
		}
		if (end > PLAT_MAX_MEMORY) {
			snprintf(err, errlen, "e820 entry ends at %#llx, beyond the %llu TiB the simulator backs",
				 (unsigned long long)end, (unsigned long long)(PLAT_MAX_MEMORY >> 40));
			return -1;
		}
		if (e->type == E820_RAM)
			ram += e->size;
	}
	if (!ram) {
		snprintf(err, errlen, "the e820 map has no RAM");
		return -1;
	}
	for (unsigned i = 0; i < c->nr_cmrs; i++)
		if (c->cmr[i].base + c->cmr[i].size < c->cmr[i].base ||
		    !covered_by_e820(c, c->cmr[i].base, c->cmr[i].size)) {
			snprintf(err, errlen, "CMR [%#llx, %#llx) is not DRAM described by the e820 map",
				 (unsigned long long)c->cmr[i].base,
				 (unsigned long long)(c->cmr[i].base + c->cmr[i].size));
			return -1;
		}
	if (c->nr_cmrs > MAX_CMR) {
		snprintf(err, errlen, "more than %d CMRs", MAX_CMR);
		return -1;
	}
	if (!c->nr_cmrs) {
		for (unsigned i = 0; i < c->nr_e820 && c->nr_cmrs < MAX_CMR; i++) {
			uint64_t b = c->e820[i].addr, e = b + c->e820[i].size;
			if (c->e820[i].type != E820_RAM)
				continue;
			if (b < (1ull << 20)) /* MCHECK leaves the legacy first MiB out */
				b = 1ull << 20;
			if (e > b)
				c->cmr[c->nr_cmrs++] = (struct plat_range){ b, e - b };
		}
	}
	return 0;
}

static unsigned order_base_2(unsigned v)
{
	unsigned s = 0;
	while ((1u << s) < v)
		s++;
	return s;
}

/* The LP's MSRs in a small hash table: every TD entry and exit reads and writes dozens. */
static unsigned lp_msr_slot(const struct plat_lp *lp, uint32_t index)
{
	unsigned h = (unsigned)((index * UINT32_C(0x9E3779B1)) >> 25) % PLAT_MSR_BUCKETS;

	while (lp->msr_used[h] && lp->msrs[h].index != index)
		h = (h + 1) % PLAT_MSR_BUCKETS;
	return h; /* the entry for index, or the free slot where it goes */
}

static void lp_set_msr(struct plat_lp *lp, uint32_t index, uint64_t value)
{
	unsigned h = lp_msr_slot(lp, index);

	if (!lp->msr_used[h]) {
		/* a full table is our bug (PLAT_MAX_MSRS too small for the model), not the guest's */
		assert(lp->nr_msrs < PLAT_MAX_MSRS);
		lp->msr_used[h] = true;
		lp->msrs[h].index = index;
		lp->nr_msrs++;
	}
	lp->msrs[h].value = value;
}

static void init_lps(struct plat *p)
{
	const struct plat_config *c = &p->cfg;
	unsigned n = c->packages * c->lps_per_package;

	p->smt_shift = c->lps_per_package > 1 ? 1 : 0;
	p->core_shift = order_base_2(c->lps_per_package);
	if (p->core_shift < p->smt_shift)
		p->core_shift = p->smt_shift;
	for (unsigned i = 0; i < n; i++) {
		struct plat_lp *lp = &p->lps[i];
		lp->id = i;
		lp->pkg = i / c->lps_per_package;
		lp->index_in_pkg = i % c->lps_per_package;
		lp->x2apic_id = (lp->pkg << p->core_shift) | lp->index_in_pkg;
		atomic_init(&lp->vmx_on, false);
		atomic_flag_clear(&lp->in_seam);
		/* Power-on values (SDM Vol. 3, 10.1.1): DR6/DR7 reserved bits set, XCR0 = x87. */
		lp->regs[PLAT_REG_DR6] = 0xFFFF0FF0u;
		lp->regs[PLAT_REG_DR7] = 0x400u;
		lp->regs[PLAT_REG_XCR0] = 0x1u;
		for (unsigned m = 0; m < c->model->nr_msrs; m++)
			lp_set_msr(lp, c->model->msrs[m].index, c->model->msrs[m].value);
		/* The BIOS-programmed KeyID split: bits 31:0 MKTME KeyIDs, 63:32 TDX KeyIDs. */
		lp_set_msr(lp, MSR_IA32_MKTME_KEYID_PARTITIONING,
			   ((uint64_t)c->nr_tdx_keyids << 32) | (c->total_keyids - 1 - c->nr_tdx_keyids));
	}
	p->nr_lps = n;
}

struct plat *plat_create(const struct plat_config *cfg, char *err, size_t errlen)
{
	struct plat *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->cfg = *cfg;
	if (validate_config(&p->cfg, err, errlen))
		goto fail;
	p->keyid_bits = order_base_2(p->cfg.total_keyids);
	p->hkid_shift = p->cfg.max_pa - p->keyid_bits;
	if (p->keyid_bits > p->cfg.max_pa - 32) {
		snprintf(err, errlen, "%u KeyID bits leave too few address bits in MAX_PA %u",
			 p->keyid_bits, p->cfg.max_pa);
		goto fail;
	}
	for (unsigned i = 0; i < p->cfg.nr_e820; i++)
		if (p->cfg.e820[i].addr + p->cfg.e820[i].size > (1ull << p->hkid_shift)) {
			snprintf(err, errlen, "memory above %u address bits collides with the KeyID bits",
				 p->hkid_shift);
			goto fail;
		}
	p->keys = calloc((size_t)p->cfg.packages * p->cfg.total_keyids, sizeof(*p->keys));
	p->lps = calloc(p->cfg.packages * p->cfg.lps_per_package, sizeof(*p->lps));
	if (!p->keys || !p->lps || plat_mem_init(p)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&p->key_lock, NULL);
	init_lps(p);
	return p;
fail:
	free(p->keys);
	free(p->lps);
	free(p);
	return NULL;
}

void plat_destroy(struct plat *p)
{
	if (!p)
		return;
	if (p->seam_ops && p->seam_ops->unload)
		p->seam_ops->unload(p->seam_module);
	plat_mem_fini(p);
	pthread_mutex_destroy(&p->key_lock);
	free(p->keys);
	free(p->lps);
	free(p);
}

const struct plat_config *plat_config(const struct plat *p)
{
	return &p->cfg;
}

unsigned plat_keyid_bits(const struct plat *p) { return p->keyid_bits; }
unsigned plat_hkid_shift(const struct plat *p) { return p->hkid_shift; }
uint64_t plat_pa_mask(const struct plat *p) { return (1ull << p->hkid_shift) - 1; }
unsigned plat_tdx_keyid_first(const struct plat *p) { return p->cfg.total_keyids - p->cfg.nr_tdx_keyids; }
unsigned plat_tdx_keyid_count(const struct plat *p) { return p->cfg.nr_tdx_keyids; }

bool plat_keyid_is_private(const struct plat *p, unsigned keyid)
{
	return p->cfg.nr_tdx_keyids && keyid >= plat_tdx_keyid_first(p) && keyid < p->cfg.total_keyids;
}

void plat_keyid_program(struct plat *p, unsigned pkg, unsigned keyid, const uint8_t key[32])
{
	struct plat_key *k = &p->keys[pkg * p->cfg.total_keyids + keyid];

	pthread_mutex_lock(&p->key_lock);
	memcpy(k->key, key, sizeof(k->key));
	k->programmed = true;
	pthread_mutex_unlock(&p->key_lock);
}

bool plat_keyid_programmed(const struct plat *p, unsigned pkg, unsigned keyid)
{
	bool r;
	pthread_mutex_lock(&((struct plat *)p)->key_lock);
	r = p->keys[pkg * p->cfg.total_keyids + keyid].programmed;
	pthread_mutex_unlock(&((struct plat *)p)->key_lock);
	return r;
}

unsigned plat_nr_lps(const struct plat *p) { return p->nr_lps; }
unsigned plat_nr_packages(const struct plat *p) { return p->cfg.packages; }
unsigned plat_lp_package(const struct plat *p, unsigned lp) { return p->lps[lp].pkg; }
unsigned plat_package_first_lp(const struct plat *p, unsigned pkg) { return pkg * p->cfg.lps_per_package; }
void plat_lp_set_vmx(struct plat *p, unsigned lp, bool on) { atomic_store(&p->lps[lp].vmx_on, on); }
bool plat_lp_vmx(const struct plat *p, unsigned lp) { return atomic_load(&((struct plat *)p)->lps[lp].vmx_on); }

static bool model_leaf(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
	for (unsigned i = 0; i < m->nr_leaves; i++) {
		const struct cpu_model_leaf *l = &m->leaves[i];
		if (l->leaf == leaf && (l->subleaf_na || l->subleaf == subleaf)) {
			*out = l->regs;
			return true;
		}
	}
	return false;
}

/* Topology leaves depend on where the LP sits; the model describes one package. */
static void fix_topology(const struct plat *p, const struct plat_lp *lp, uint32_t leaf, uint32_t subleaf,
			 struct cpuid_regs *r)
{
	if (leaf == 1)
		r->ebx = (r->ebx & 0x0000ffffu) | ((lp->x2apic_id & 0xff) << 24) |
			 ((p->cfg.lps_per_package > 255 ? 255 : p->cfg.lps_per_package) << 16);
	if (leaf == 0xb || leaf == 0x1f) {
		if (subleaf == 0)
			*r = (struct cpuid_regs){ p->smt_shift, p->smt_shift ? 2 : 1, 0x100, 0 };
		else if (subleaf == 1)
			*r = (struct cpuid_regs){ p->core_shift, p->cfg.lps_per_package, 0x201, 0 };
		else
			*r = (struct cpuid_regs){ 0, 0, subleaf & 0xff, 0 };
		r->edx = lp->x2apic_id;
	}
	if (leaf == 4 && (r->eax & 0x1f)) {
		unsigned level = (r->eax >> 5) & 7;
		uint32_t sharing = level == 3 ? (1u << p->core_shift) - 1 : (1u << p->smt_shift) - 1;
		r->eax = (r->eax & ~(0xfffu << 14)) | (sharing << 14);
	}
}

/* The XSAVE area size the CPU reports for the state components of mask: standard format
 * (CPUID(0xD,0).EBX) reaches the end of the furthest component, compacted format
 * (CPUID(0xD,1).EBX) packs them in order after the legacy area and header, each aligned to
 * 64 bytes when its CPUID(0xD,i).ECX[1] says so. */
#define XSAVE_LEGACY_AND_HEADER 576u
#define XSAVE_ALIGN64 (1u << 1)
static uint32_t xsave_size(const struct plat *p, uint64_t mask, bool compacted)
{
	uint32_t size = XSAVE_LEGACY_AND_HEADER;

	for (unsigned i = 2; i < 63; i++) {
		struct cpuid_regs c;
		if (!((mask >> i) & 1) || !model_leaf(p->cfg.model, 0xd, i, &c) || !c.eax)
			continue;
		if (!compacted) {
			size = c.ebx + c.eax > size ? c.ebx + c.eax : size;
			continue;
		}
		if (c.ecx & XSAVE_ALIGN64)
			size = (size + 63u) & ~63u;
		size += c.eax;
	}
	return size;
}

/* CPUID(0xD,0/1).EBX depend on what is enabled now: XCR0, and XCR0 | IA32_XSS for subleaf 1. */
static void fix_xsave_size(const struct plat *p, const struct plat_lp *lp, unsigned lpi, uint32_t subleaf,
			   struct cpuid_regs *r)
{
	uint64_t xss = 0;

	if (subleaf == 0)
		r->ebx = xsave_size(p, lp->regs[PLAT_REG_XCR0], false);
	else if (subleaf == 1 && !plat_rdmsr(p, lpi, MSR_IA32_XSS, &xss))
		r->ebx = xsave_size(p, lp->regs[PLAT_REG_XCR0] | xss, true);
	else if (subleaf == 1)
		r->ebx = xsave_size(p, lp->regs[PLAT_REG_XCR0], true);
}

void plat_cpuid(const struct plat *p, unsigned lpi, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
	const struct plat_lp *lp = &p->lps[lpi];
	struct cpuid_regs max;

	*out = (struct cpuid_regs){ 0 };
	for (unsigned i = 0; i < lp->nr_cpuid_ovr; i++)
		if (lp->cpuid_ovr[i].leaf == leaf && lp->cpuid_ovr[i].subleaf == subleaf) {
			*out = lp->cpuid_ovr[i].regs;
			return;
		}
	/* Leaves above the maximum of their range return zeros here (Intel returns the
	 * highest basic leaf; the module treats such leaves as all-zero anyway). */
	if (!model_leaf(p->cfg.model, leaf & 0x80000000u, 0, &max) || leaf > max.eax)
		return;
	model_leaf(p->cfg.model, leaf, subleaf, out);
	fix_topology(p, lp, leaf, subleaf, out);
	if (leaf == 0xd)
		fix_xsave_size(p, lp, lpi, subleaf, out);
}

void plat_cpuid_override(struct plat *p, unsigned lpi, uint32_t leaf, uint32_t subleaf, const struct cpuid_regs *r)
{
	struct plat_lp *lp = &p->lps[lpi];

	for (unsigned i = 0; i < lp->nr_cpuid_ovr; i++)
		if (lp->cpuid_ovr[i].leaf == leaf && lp->cpuid_ovr[i].subleaf == subleaf) {
			lp->cpuid_ovr[i].regs = *r;
			return;
		}
	if (lp->nr_cpuid_ovr < PLAT_MAX_CPUID_OVERRIDES)
		lp->cpuid_ovr[lp->nr_cpuid_ovr++] = (struct plat_cpuid_override){ leaf, subleaf, *r };
}

int plat_rdmsr(const struct plat *p, unsigned lpi, uint32_t msr, uint64_t *val)
{
	const struct plat_lp *lp = &p->lps[lpi];
	unsigned h = lp_msr_slot(lp, msr);

	if (lp->msr_used[h]) {
		*val = lp->msrs[h].value;
		return 0;
	}
	return -1; /* #GP on a real CPU */
}

void plat_wrmsr(struct plat *p, unsigned lpi, uint32_t msr, uint64_t val)
{
	lp_set_msr(&p->lps[lpi], msr, val);
}

uint64_t plat_lp_reg_read(const struct plat *p, unsigned lpi, enum plat_lp_reg r)
{
	return r < PLAT_LP_NR_REGS ? p->lps[lpi].regs[r] : 0;
}

void plat_lp_reg_write(struct plat *p, unsigned lpi, enum plat_lp_reg r, uint64_t val)
{
	if (r < PLAT_LP_NR_REGS)
		p->lps[lpi].regs[r] = val;
}

uint64_t plat_lp_state_read(const struct plat *p, unsigned lpi, bool is_msr, uint32_t index)
{
	uint64_t v = 0;

	if (!is_msr)
		return plat_lp_reg_read(p, lpi, (enum plat_lp_reg)index);
	if (plat_rdmsr(p, lpi, index, &v))
		v = 0;
	return v;
}

void plat_lp_state_write(struct plat *p, unsigned lpi, bool is_msr, uint32_t index, uint64_t val)
{
	if (is_msr)
		plat_wrmsr(p, lpi, index, val);
	else
		plat_lp_reg_write(p, lpi, (enum plat_lp_reg)index, val);
}

void plat_set_guest_engine(struct plat *p, const struct plat_guest_engine *e, void *ctx)
{
	p->guest_engine_ctx = ctx;
	p->guest_engine = e;
}

bool plat_has_guest_engine(const struct plat *p)
{
	return p->guest_engine != NULL;
}

const struct plat_guest_engine *plat_get_guest_engine(const struct plat *p)
{
	return p->guest_engine;
}

int plat_seam_guest_run(struct plat *p, unsigned lpi, uint64_t vcpu_tag, struct plat_guest_regs *regs,
			const struct plat_guest_mem *mem, struct plat_guest_exit *exit)
{
	if (!p->guest_engine)
		return -1;
	p->guest_engine->run(p->guest_engine_ctx, p, lpi, vcpu_tag, regs, mem, exit);
	return 0;
}
