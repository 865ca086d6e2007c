/* libFuzzer target: SEAMCALL sequences against the software TDX module, with an invariant
 * checker run after every step.
 *
 * Each input builds its own small machine (2 packages x 1 LP, 4 GiB, module tdx-1.5.01),
 * brought up like the kernel does (sim_tdx_bringup) unless the first byte asks for a raw
 * machine, then runs the rest of the input as a program (format below; fuzz/mkseeds.py
 * writes programs in it). Nothing carries over from one input to the next, so every crash
 * reproduces from its input alone.
 *
 * Invariants (violations abort, which libFuzzer reports as a crash):
 *  - every status is architectural: abi_status_name() knows it, or it is VMfailInvalid after a
 *    recorded machine check (host writes into private memory may legally cause one; the
 *    program stops there);
 *  - no PAMT entry of a tracked page stays locked between SEAMCALLs (RDMD never busy);
 *  - every tracked page is PT_NDA or owned by exactly one live TDR: a PT_TDR page has owner 0
 *    and the global private KeyID, any other TD page names an owner that RDMD reports as
 *    PT_TDR and carries that TD's KeyID (when the fuzzer saw the TD created; a PT_REG page
 *    may instead keep the host's shared KeyID: PENDING after TDH.MEM.PAGE.AUG);
 *  - no plaintext to the host: plat_host_read() of a page whose KeyID is TDX-private never
 *    returns the marker the fuzzer put in PAGE.ADD source pages.
 *
 * Program format (bytes are consumed until the input ends, at most MAX_STEPS steps):
 *   byte 0: flags; bit 0 = raw machine (no SEAMCALL made yet; the program brings it up).
 *   step:   op, then operands depending on op % 8:
 *     0..5  SEAMCALL, implemented leaf:  leaf-index lp rcx rdx r8 r9
 *     6     SEAMCALL, any leaf:          leaf(0..127, bit 7 = version 1) lp rcx rdx r8 r9
 *     7     host action:                 kind target-operand [value-operand]
 *             kind % 4: 0 write 8 junk bytes (poisons private memory), 1 write a whole page
 *             of marker, 2 TD_PARAMS[value-byte % 128] = value-operand, 3 build the
 *             host's TDMRs and TDMR_INFO array (raw machines), or if built, run the
 *             kernel's TDH.SYS.TDMR.INIT loop over them
 *   operand: one selector byte s, class s >> 5, index i = s & 31:
 *     0 tracked page i; 1 a page RDMD reports as PT_TDR (the i-th, else tracked page i);
 *     2 a TDVPR (i < 16) or any other TD page; 3 GPA gpa[i & 7] | level (i >> 3);
 *     4 small values (i < 8), KeyIDs (8..15), HKIDs of created TDs (16..23), edge values;
 *     5 metadata field ids (TD, then global); 6 variant i % 16 of a page (next byte picks
 *     it): misaligned, KeyID-tagged, NULL_PA, marker sources, TD_PARAMS, scratch, MMIO, a
 *     TDMR base, PAMT, SEAMRR, the host's TDMR_INFO array and its length;
 *     7 a raw 64-bit value (next 8 bytes).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h" /* the tests' machine and raw-SEAMCALL helpers */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE 4096u
#define NPOOL 24
#define NSPECIAL 4 /* marker sources x2, TD_PARAMS, scratch */
#define NTRACK (NPOOL + NSPECIAL)
#define MAX_STEPS 256
#define MAX_TDS 32

static const uint8_t MARKER[16] = "tdxemu-fuzz-src";

static const struct {
	uint64_t leaf;
	const char *name;
} leaves[] = {
#define X(leaf, name) { leaf, name },
#include "fuzz_leaves.h"
#undef X
};
#define NLEAVES (sizeof(leaves) / sizeof(leaves[0]))

struct fz {
	struct fx fx;
	struct tdx_host *h;
	struct plat *p;
	bool raw;
	uint64_t track[NTRACK]; /* pool pages, then the specials */
	uint64_t src[2], params, scratch;
	uint64_t tdmr_array;
	unsigned nr_tdmrs;
	/* last sweep: page type and owner per tracked page; 0xff = unknown */
	uint8_t pt[NTRACK];
	uint64_t owner[NTRACK];
	/* TDs seen created: TDR -> HKID */
	uint64_t td_tdr[MAX_TDS];
	unsigned td_hkid[MAX_TDS];
	unsigned nr_tds;
	const uint8_t *d;
	size_t n, pos;
	unsigned step;
	bool verbose;
};

static void violation(struct fz *f, const char *fmt, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "fuzz_seamcall: invariant violated at step %u: ", f->step);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	abort();
}

static bool more(const struct fz *f) { return f->pos < f->n; }
static uint8_t next(struct fz *f) { return f->pos < f->n ? f->d[f->pos++] : 0; }

static uint64_t seamcall(struct fz *f, unsigned lp, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8,
			 uint64_t r9, struct tdx_regs *out)
{
	return fx_call(&f->fx, lp, rax, rcx, rdx, r8, r9, out);
}

/* The guest of any TD a program enters: each stretch between TD entry and VM exit is
 * driven by the input (a TDG.VP.VMCALL with an arbitrary GPR_SELECT, another TDCALL leaf,
 * a triple fault or another VM exit), and it scribbles over MSRs the TD exit must scrub.
 * An exhausted input reads as zeros: a TDG.VP.VMCALL selecting nothing, which exits. */
static void fuzz_guest(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		       const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct fz *f = ctx;
	uint8_t kind = next(f);

	(void)tag;
	plat_wrmsr(p, lp, 0xC0000081u, ((uint64_t)next(f) << 48) | 0xabc); /* IA32_STAR */
	plat_lp_reg_write(p, lp, PLAT_REG_DR0, next(f));
	for (unsigned i = 0; i < 16; i++)
		r->gpr[i] = next(f);
	ex->instr_len = 4;
	switch (kind % 5) {
	case 0: /* TDG.VP.VMCALL */
		r->gpr[0] = 0;
		r->gpr[1] = ((uint64_t)next(f) << 8 | next(f)) << (kind >= 0x80 ? 2 : 0);
		ex->reason = 77;
		break;
	case 1: /* another TDCALL leaf: answered in the guest, which runs again */
		r->gpr[0] = 1 + next(f) % 32;
		ex->reason = 77;
		break;
	case 2:
		ex->reason = 2; /* triple fault */
		break;
	default:
		ex->reason = next(f) % 80;
		ex->gpa = (uint64_t)next(f) << 12;
		ex->qualification = next(f);
		break;
	}
}

static const struct plat_guest_engine fuzz_guest_engine = { fuzz_guest };

static bool seam_dead(const struct fz *f) { return plat_mce_count(f->p, NULL) != 0; }

static void check_status(struct fz *f, uint64_t leaf, uint64_t st)
{
	if (abi_status_name(st))
		return;
	if (st == TDX_SEAMCALL_VMFAILINVALID && seam_dead(f))
		return;
	violation(f, "leaf %#llx returned non-architectural status %#llx", leaf, st);
}

static unsigned td_hkid_of(const struct fz *f, uint64_t tdr, bool *known)
{
	for (unsigned i = f->nr_tds; i-- > 0;)
		if (f->td_tdr[i] == tdr) {
			*known = true;
			return f->td_hkid[i];
		}
	*known = false;
	return 0;
}

/* ---- operands ------------------------------------------------------------------------ */

static uint64_t with_keyid(const struct fz *f, uint64_t pa, unsigned keyid)
{
	return (pa & plat_pa_mask(f->p)) | (uint64_t)keyid << plat_hkid_shift(f->p);
}

static uint64_t nth_page_of_type(const struct fz *f, unsigned i, bool (*want)(uint8_t pt))
{
	unsigned cnt = 0, k;

	for (unsigned t = 0; t < NTRACK; t++)
		cnt += want(f->pt[t]);
	if (!cnt)
		return f->track[i % NTRACK];
	k = i % cnt;
	for (unsigned t = 0; t < NTRACK; t++)
		if (want(f->pt[t]) && k-- == 0)
			return f->track[t];
	return f->track[0];
}

static bool is_tdr(uint8_t pt) { return pt == PT_TDR; }
static bool is_tdvpr(uint8_t pt) { return pt == PT_TDVPR; }
static bool is_td_page(uint8_t pt) { return pt == PT_TDCX || pt == PT_EPT || pt == PT_REG || pt == PT_TDVPR; }

static uint64_t operand(struct fz *f)
{
	static const uint64_t gpas[8] = { 0, 0x1000, 0x200000, 0x40000000, 0xfffff000, 0x100000000ull,
					  1ull << 47, 0x7ffffffff000ull };
	uint8_t s = next(f);
	unsigned i = s & 31, global = f->h->global_keyid, first = plat_tdx_keyid_first(f->p),
		 last = first + plat_tdx_keyid_count(f->p) - 1;
	uint64_t v = 0;

	switch (s >> 5) {
	case 0:
		return f->track[i % NTRACK];
	case 1:
		return nth_page_of_type(f, i, is_tdr);
	case 2:
		return nth_page_of_type(f, i, i < 16 ? is_tdvpr : is_td_page);
	case 3:
		return gpas[i & 7] | (i >> 3);
	case 4:
		if (i < 8)
			return i;
		if (i < 16) {
			const unsigned k[8] = { global, global + 1, global + 2, last, last + 1, 1, 0, first };
			return k[i - 8];
		}
		if (i < 24)
			return f->nr_tds ? f->td_hkid[(i - 16) % f->nr_tds] : global + 1;
		{
			const uint64_t e[8] = { UINT64_MAX, 1ull << 63, 0xffffffffull, 512, PAGE, 1ull << 16, 1024, 8ull << 30 };
			return e[i - 24];
		}
	case 5:
		if (i < 24)
			return md_td_fields[(i * md_td_fields_count) / 24].field_id;
		return md_sys_fields[((i - 24) * md_sys_fields_count) / 8].field_id;
	case 6: {
		uint8_t b = next(f);
		uint64_t pg = f->track[b % NTRACK];
		switch (i % 16) {
		case 0: return pg + 8;
		case 1: return pg + 0x800;
		case 2: return with_keyid(f, pg, global);
		case 3: return with_keyid(f, pg, f->nr_tds ? f->td_hkid[f->nr_tds - 1] : global + 1);
		case 4: return with_keyid(f, pg, 1); /* MKTME, shared */
		case 5: return NULL_PA;
		case 6: return f->src[0];
		case 7: return f->src[1];
		case 8: return f->params;
		case 9: return f->scratch;
		case 10: return 3ull << 30;                   /* the MMIO hole */
		case 11: return f->h->nr_tdmrs ? f->h->tdmrs[b % f->h->nr_tdmrs].base : 8ull << 30;
		case 12: return f->h->nr_tdmrs ? f->h->tdmrs[0].pamt_base[0] : pg; /* a PAMT page */
		case 13: {
			struct plat_sysinfo si;
			plat_sysinfo_get(f->p, &si);
			return si.seamrr_base;
		}
		case 14: return f->tdmr_array ? f->tdmr_array : pg;
		default: return f->nr_tdmrs ? f->nr_tdmrs : 3;
		}
	}
	default:
		for (unsigned b = 0; b < 8; b++)
			v |= (uint64_t)next(f) << (8 * b);
		return v;
	}
}

/* ---- invariants ------------------------------------------------------------------------ */

static bool contains_marker(const uint8_t *page)
{
	for (unsigned off = 0; off < PAGE; off += 16)
		if (!memcmp(page + off, MARKER, 16))
			return true;
	return false;
}

/* RDMD of one page on LP 0: true with type and owner, false when the module cannot answer
 * for a legitimate reason (not a TDMR page yet, module shut down or dead). */
static bool rdmd(struct fz *f, uint64_t pa, uint8_t *pt, uint64_t *owner)
{
	struct tdx_regs r;
	uint64_t st = seamcall(f, 0, TDH_PHYMEM_PAGE_RDMD_LEAF, pa, 0, 0, 0, &r), hi = st & ~0xffffffffull;

	check_status(f, TDH_PHYMEM_PAGE_RDMD_LEAF, st);
	if (st == TDX_SUCCESS) {
		*pt = (uint8_t)r.r[TDX_REG_RCX];
		*owner = r.r[TDX_REG_RDX];
		if (r.r[TDX_REG_RCX] > 0xff)
			violation(f, "RDMD of %#llx: page type %#llx", pa, r.r[TDX_REG_RCX]);
		return true;
	}
	if (hi == TDX_OPERAND_BUSY)
		violation(f, "PAMT entry of %#llx still locked after the SEAMCALL returned (%#llx)", pa, st);
	return false;
}

static void sweep(struct fz *f)
{
	uint8_t *buf = malloc(PAGE);

	if (!buf)
		abort();
	for (unsigned t = 0; t < NTRACK; t++) {
		f->pt[t] = 0xff;
		if (!seam_dead(f) && !rdmd(f, f->track[t], &f->pt[t], &f->owner[t]))
			f->pt[t] = 0xff;
	}
	for (unsigned t = 0; t < NTRACK && !seam_dead(f); t++) {
		uint64_t pa = f->track[t], owner = f->owner[t];
		unsigned keyid = 0, hkid;
		bool poisoned, known;
		uint8_t opt;
		uint64_t oowner;

		if (f->pt[t] == 0xff || f->pt[t] == PT_NDA)
			continue;
		if (plat_page_state(f->p, pa, &keyid, &poisoned))
			violation(f, "TD page %#llx (type %llu) is not backed", pa, f->pt[t]);
		switch (f->pt[t]) {
		case PT_TDR:
			if (owner)
				violation(f, "TDR %#llx has an owner %#llx", pa, owner);
			if (keyid != f->h->global_keyid)
				violation(f, "TDR %#llx is not under the global private KeyID (KeyID %llu)", pa, keyid);
			break;
		case PT_TDCX:
		case PT_TDVPR:
		case PT_EPT:
		case PT_REG:
			if (!owner || (owner & (PAGE - 1)))
				violation(f, "TD page %#llx has no valid owner (%#llx)", pa, owner);
			if (!rdmd(f, owner, &opt, &oowner))
				break; /* the checker's own RDMD died in a machine check */
			if (opt != PT_TDR)
				violation(f, "TD page %#llx is owned by %#llx, which is not a TDR", pa, owner);
			/* A PT_REG page may be PENDING after TDH.MEM.PAGE.AUG: AUG leaves the bytes and the
			 * KeyID the host last wrote until the guest accepts it (as the real module does). */
			if (f->pt[t] == PT_REG && !plat_keyid_is_private(f->p, keyid))
				break;
			hkid = td_hkid_of(f, owner, &known);
			if (!plat_keyid_is_private(f->p, keyid) || (known && keyid != hkid))
				violation(f, "TD page %#llx has KeyID %llu, not its TD's private KeyID", pa, keyid);
			break;
		default:
			violation(f, "tracked page %#llx has page type %llu", pa, f->pt[t]);
		}
	}
	/* No plaintext to the host, whatever the module's state. */
	for (unsigned t = 0; t < NTRACK; t++) {
		unsigned keyid;
		bool poisoned;

		if (plat_page_state(f->p, f->track[t], &keyid, &poisoned) || !plat_keyid_is_private(f->p, keyid))
			continue;
		if (plat_host_read(f->p, f->track[t] & plat_pa_mask(f->p), buf, PAGE))
			violation(f, "host read of private page %#llx failed (KeyID %llu)", f->track[t], keyid);
		if (contains_marker(buf))
			violation(f, "host read of private page %#llx (KeyID %llu) returned PAGE.ADD source plaintext",
				  f->track[t], keyid);
	}
	free(buf);
}

/* ---- steps ------------------------------------------------------------------------------- */

static void build_tdmr_array(struct fz *f)
{
	uint64_t ptrs[64] = { 0 };

	if (tdx_read_sys_info(f->h, 0, &f->h->sysinfo) || tdx_build_memlist(f->h) || tdx_construct_tdmrs(f->h))
		return;
	f->tdmr_array = host_alloc_phys(f->h, 512, 512, 0);
	for (unsigned i = 0; i < f->h->nr_tdmrs && i < 64; i++)
		ptrs[i] = f->h->tdmrs[i].info_pa; /* tdx_construct_tdmrs() wrote the TDMR_INFOs */
	if (f->tdmr_array)
		plat_host_write(f->p, f->tdmr_array, ptrs, sizeof(ptrs));
	f->nr_tdmrs = f->h->nr_tdmrs;
}

static void host_action(struct fz *f)
{
	uint8_t kind = next(f) & 3, page[PAGE];
	uint64_t target, v;

	switch (kind) {
	case 0:
		target = operand(f);
		v = 0x6b6e756a6b6e756aull ^ f->step;
		plat_host_write(f->p, target, &v, sizeof(v));
		if (f->verbose)
			fprintf(stderr, "  [%u] host write 8 bytes at %#llx\n", f->step, (unsigned long long)target);
		break;
	case 1:
		target = operand(f) & ~(uint64_t)(PAGE - 1);
		for (unsigned off = 0; off < PAGE; off += 16)
			memcpy(page + off, MARKER, 16);
		plat_host_write(f->p, target, page, PAGE);
		if (f->verbose)
			fprintf(stderr, "  [%u] host write marker page at %#llx\n", f->step, (unsigned long long)target);
		break;
	case 2: {
		unsigned slot = next(f) % (TD_PARAMS_SIZE / 8);
		v = operand(f);
		plat_host_write(f->p, f->params + slot * 8, &v, sizeof(v));
		if (f->verbose)
			fprintf(stderr, "  [%u] TD_PARAMS[%u] = %#llx\n", f->step, slot * 8, (unsigned long long)v);
		break;
	}
	default:
		if (!f->tdmr_array) {
			build_tdmr_array(f);
			if (f->verbose)
				fprintf(stderr, "  [%u] host TDMRs: array %#llx, %u TDMRs\n", f->step,
					(unsigned long long)f->tdmr_array, f->nr_tdmrs);
			break;
		}
		/* the kernel's TDH.SYS.TDMR.INIT loop over every TDMR, on LP 0 */
		for (unsigned i = 0; i < f->nr_tdmrs && !seam_dead(f); i++) {
			struct tdx_regs r;
			uint64_t st;
			unsigned calls = 0;
			do {
				st = seamcall(f, 0, TDH_SYS_TDMR_INIT_LEAF, f->h->tdmrs[i].base, 0, 0, 0, &r);
				check_status(f, TDH_SYS_TDMR_INIT_LEAF, st);
			} while (st == TDX_SUCCESS && r.r[TDX_REG_RDX] < f->h->tdmrs[i].base + f->h->tdmrs[i].size &&
				 ++calls < 4096);
			if (f->verbose)
				fprintf(stderr, "  [%u] TDMR.INIT loop on TDMR %u: %u calls, last %#llx\n", f->step, i, calls + 1,
					(unsigned long long)st);
		}
	}
}

static const char *leaf_name(uint64_t leaf)
{
	for (unsigned i = 0; i < NLEAVES; i++)
		if (leaves[i].leaf == (leaf & 0xffff))
			return leaves[i].name;
	return "?";
}

static void call_step(struct fz *f, uint64_t rax)
{
	struct tdx_regs r;
	unsigned lp = next(f) % plat_nr_lps(f->p);
	uint64_t rcx = operand(f), rdx = operand(f), r8 = operand(f), r9 = operand(f), st;

	st = seamcall(f, lp, rax, rcx, rdx, r8, r9, &r);
	if (f->verbose)
		fprintf(stderr, "  [%u] lp %u %s (%#llx) rcx %#llx rdx %#llx r8 %#llx r9 %#llx -> %#llx %s\n", f->step, lp,
			leaf_name(rax), (unsigned long long)rax, (unsigned long long)rcx, (unsigned long long)rdx,
			(unsigned long long)r8, (unsigned long long)r9, (unsigned long long)st,
			abi_status_name(st) ? abi_status_name(st) : "");
	check_status(f, rax, st);
	if ((rax & 0xffff) == TDH_MNG_CREATE_LEAF && st == TDX_SUCCESS) {
		unsigned slot = f->nr_tds < MAX_TDS ? f->nr_tds++ : MAX_TDS - 1;
		f->td_tdr[slot] = rcx;
		f->td_hkid[slot] = (unsigned)rdx;
	}
}

static bool setup(struct fz *f)
{
	struct plat_config cfg;
	struct td_params tp;
	uint8_t page[PAGE];

	plat_config_default(&cfg);
	cfg.packages = 2;
	cfg.lps_per_package = 1;
	cfg.ram_bytes = 4ull << 30;
	plat_config_default_e820(&cfg);
	/* VMX on for every LP: the raw machine's program may SEAMCALL right away */
	if (!fx_create_cfg(&f->fx, &cfg))
		return false;
	f->h = f->fx.h;
	f->p = f->fx.p;
	plat_set_guest_engine(f->p, &fuzz_guest_engine, f);
	if (!f->raw && sim_tdx_bringup(&f->fx.s)) {
		fprintf(stderr, "fuzz_seamcall: bring-up failed: %s\n", f->h->last_error);
		return false;
	}
	for (unsigned i = 0; i < NPOOL; i++)
		f->track[i] = host_alloc_phys(f->h, PAGE, PAGE, 0);
	f->src[0] = f->track[NPOOL] = host_alloc_phys(f->h, PAGE, PAGE, 0);
	f->src[1] = f->track[NPOOL + 1] = host_alloc_phys(f->h, PAGE, PAGE, 0);
	f->params = f->track[NPOOL + 2] = host_alloc_phys(f->h, PAGE, PAGE, 0);
	f->scratch = f->track[NPOOL + 3] = host_alloc_phys(f->h, PAGE, PAGE, 0);
	for (unsigned t = 0; t < NTRACK; t++) {
		if (!f->track[t]) {
			fprintf(stderr, "fuzz_seamcall: out of host memory\n");
			return false;
		}
		f->pt[t] = 0xff;
	}
	for (unsigned off = 0; off < PAGE; off += 16)
		memcpy(page + off, MARKER, 16);
	plat_host_write(f->p, f->src[0], page, PAGE);
	plat_host_write(f->p, f->src[1], page, PAGE);
	/* A valid TD_PARAMS: x87|SSE, 4-level EPT (GPAW 48), 8 vCPUs, 2.5 GHz TSC. */
	memset(&tp, 0, sizeof(tp));
	tp.xfam = 0x3;
	tp.max_vcpus = 8;
	tp.eptp_controls = (3ull << EPTP_CONTROLS_EPT_PWL_SHIFT) | 6;
	tp.tsc_frequency = 100;
	plat_host_write(f->p, f->params, &tp, sizeof(tp));
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int verbose = -1;
	struct fz *f;

	if (size < 1)
		return 0;
	if (verbose < 0)
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->d = data;
	f->n = size;
	f->verbose = verbose;
	f->raw = next(f) & 1;
	if (!setup(f))
		abort();
	sweep(f);
	for (f->step = 1; more(f) && f->step <= MAX_STEPS && !seam_dead(f); f->step++) {
		uint8_t op = next(f);
		switch (op % 8) {
		case 6: {
			uint8_t l = next(f);
			call_step(f, (uint64_t)(l & 0x7f) | (uint64_t)(l >> 7) << 16);
			break;
		}
		case 7:
			host_action(f);
			break;
		default:
			call_step(f, leaves[next(f) % NLEAVES].leaf);
		}
		sweep(f);
	}
	fx_destroy(&f->fx);
	free(f);
	return 0;
}
