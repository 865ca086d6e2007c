/* make bench: figures with a baseline measured in the same run; medians throughout.
 *
 * 1. Bring-up of 64 GiB and 1 TiB hosts: the TDH.SYS.TDMR.INIT loop against a plain
 *    memset of the same number of PAMT bytes into fresh memory (goal: <= 2x).
 * 2. TDH.SYS.RD through the SEAMCALL instruction and dispatcher (goal: <= 100 ns), against
 *    the no-op leaf TDH.SYS.LP.SHUTDOWN as the bare dispatch cost.
 * 3. kvm: KVM_TDX_INIT_MEM_REGION per MiB (measured and not) and the TD create+destroy cycle
 *    through the KVM API, against the raw host-wrapper path (td_build) doing the same
 *    SEAMCALLs without KVM's bookkeeping.
 * 4. engine: the engine (QEMU TCG in TD mode) against the same guest as a plain TCG VM,
 *    TDCALL and TDVMCALL round trips, the demo TD's boot time (engine.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "abi_leaves.h"
#include "abi_metadata.h"
#include "abi_status.h"
#include "vmm/sim.h"
#include "vmm/td_build.h"
#include "vmm/tdvf.h"
#include "kvm/kvm.h"
#include "bench_engine.h"
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdbool.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* memset of as many bytes as the PAMT: into fresh memory (page faults included, like DRAM
 * the simulator backs on first write) or into memory already written once (warm). */
static double memset_seconds(uint64_t bytes, bool warm)
{
	double t0, t;
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (m == MAP_FAILED)
		return -1;
	if (warm)
		memset(m, 0x5a, bytes);
	t0 = now();
	memset(m, 0, bytes);
	t = now() - t0;
	munmap(m, bytes);
	return t;
}

struct range {
	uint64_t base, size;
};

/* OpenSSL SHA-384 over the same payload bytes (the measured section), in page-sized updates. */
static double sha384_seconds(const uint8_t *data, uint64_t bytes)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t out[48];
	double t0 = now();

	EVP_DigestInit_ex(ctx, EVP_sha384(), NULL);
	for (uint64_t off = 0; off < bytes; off += 4096)
		EVP_DigestUpdate(ctx, data + off, bytes - off < 4096 ? bytes - off : 4096);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return now() - t0;
}

/* The hashing alone in the module's pattern: per 4 KiB page one PAGE.ADD header block, then
 * per 256 payload bytes one 384-byte update (MR.EXTEND's header block and the chunk, copied
 * together as the module does). The best the measured add could do with zero SEAMCALL cost. */
static double sha384_pattern_seconds(const uint8_t *data, uint64_t bytes)
{
	SHA512_CTX c;
	uint8_t hdr[128] = "MEM.PAGE.ADD", rec[384] = "MR.EXTEND", out[48];
	double t0 = now();

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	SHA384_Init(&c);
	for (uint64_t off = 0; off < bytes; off += 256) {
		uint64_t n = bytes - off < 256 ? bytes - off : 256;

		if (!(off & 4095))
			SHA384_Update(&c, hdr, sizeof(hdr)); /* the PAGE.ADD record */
		rec[16] = (uint8_t)(off >> 8);
		memcpy(rec + 128, data + off, n);
		SHA384_Update(&c, rec, 128 + n);
	}
	SHA384_Final(out, &c);
#pragma GCC diagnostic pop
	return now() - t0;
}

static int new_sim(struct sim *s, uint64_t ram)
{
	struct plat_config cfg;
	char err[256];

	plat_config_default(&cfg);
	cfg.ram_bytes = ram;
	plat_config_default_e820(&cfg);
	if (sim_create(s, &cfg, SIM_DEFAULT_PROFILE, NULL, NULL, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	return 0;
}

/* Where the host will put the PAMTs: the allocator is deterministic, so a first bring-up
 * of an identical host tells. */
static int pamt_ranges(uint64_t ram, struct range *r, unsigned *n)
{
	struct sim s;

	if (new_sim(&s, ram) || sim_tdx_bringup(&s))
		return -1;
	*n = s.host.nr_tdmrs;
	for (unsigned i = 0; i < *n; i++)
		r[i] = (struct range){ s.host.tdmrs[i].pamt_base[0],
				       s.host.tdmrs[i].pamt_size[0] + s.host.tdmrs[i].pamt_size[1] +
					       s.host.tdmrs[i].pamt_size[2] };
	sim_destroy(&s);
	return 0;
}

/* dirty: the host used the PAMT memory before (old data everywhere), so every PAMT page
 * must really be cleared; otherwise DRAM nobody wrote reads as zeros already. */
static int bringup_once(uint64_t ram, bool dirty, double *tdmr_s, uint64_t *pamt_bytes, uint64_t *calls)
{
	static uint8_t junk[1 << 20];
	struct range r[HOST_MAX_TDMRS];
	unsigned n = 0;
	struct sim s;
	int ret;

	if (dirty && pamt_ranges(ram, r, &n))
		return -1;
	if (new_sim(&s, ram))
		return -1;
	memset(junk, 0xa5, sizeof(junk));
	for (unsigned i = 0; i < n; i++)
		for (uint64_t off = 0; off < r[i].size; off += sizeof(junk))
			plat_host_write(s.plat, r[i].base + off, junk,
					r[i].size - off < sizeof(junk) ? r[i].size - off : sizeof(junk));
	ret = sim_tdx_bringup(&s);
	*tdmr_s = s.host.tdmr_init_seconds;
	*pamt_bytes = s.host.pamt_bytes[0] + s.host.pamt_bytes[1] + s.host.pamt_bytes[2];
	*calls = s.host.tdmr_init_calls;
	sim_destroy(&s);
	return ret;
}

static int bench_bringup(const char *label, uint64_t ram, bool dirty, int runs)
{
	double t_init[16], t_memset[16];
	uint64_t pamt = 0, calls = 0;

	for (int i = 0; i < runs; i++) {
		if (bringup_once(ram, dirty, &t_init[i], &pamt, &calls))
			return -1;
		/* fresh PAMT memory compares with a cold memset, used memory with a warm one */
		t_memset[i] = memset_seconds(pamt, dirty);
	}
	{
		double mi = median(t_init, runs), mm = median(t_memset, runs);
		printf("bring-up %-4s %-5s PAMT %7.1f MiB, %7llu TDMR.INIT calls: loop %8.1f ms, %s memset %8.1f ms, "
		       "ratio %.2fx (goal <= 2x)  [median of %d]\n",
		       label, dirty ? "dirty" : "fresh", (double)pamt / 1048576.0, (unsigned long long)calls, mi * 1e3,
		       dirty ? "warm" : "cold", mm * 1e3, mi / mm, runs);
	}
	return 0;
}

static double ns_per_call(struct plat *p, uint64_t leaf, uint64_t rdx, int n)
{
	struct tdx_regs r;
	double t0 = now();

	for (int i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.r[TDX_REG_RAX] = leaf;
		r.r[TDX_REG_RDX] = rdx;
		plat_seamcall(p, 0, &r);
	}
	return (now() - t0) * 1e9 / n;
}

static int bench_sys_rd(void)
{
	struct plat_config cfg;
	struct sim s;
	char err[256];
	double rd[101], noop[101];
	const int batches = 101, per = 20000;

	plat_config_default(&cfg);
	cfg.ram_bytes = 4ull << 30;
	plat_config_default_e820(&cfg);
	if (sim_create(&s, &cfg, SIM_DEFAULT_PROFILE, NULL, NULL, err, sizeof(err)) || sim_tdx_bringup(&s)) {
		fprintf(stderr, "bench: bring-up failed\n");
		return -1;
	}
	for (int b = 0; b < batches; b++) {
		/* a field near the end of the table: the lookup's worst case */
		rd[b] = ns_per_call(s.plat, TDH_SYS_RD_LEAF, MD_SYS_FIELDS_VCPU_L2_DEBUG_CTLS_FIXED1_FIELD_ID, per);
		noop[b] = ns_per_call(s.plat, TDH_SYS_LP_SHUTDOWN_LEAF, 0, per);
	}
	{
		double mr = median(rd, batches), mn = median(noop, batches);
		printf("TDH.SYS.RD      %6.1f ns per call (goal <= 100 ns); no-op leaf TDH.SYS.LP.SHUTDOWN %6.1f ns; "
		       "ratio %.2fx  [median of %d batches x %d]\n", mr, mn, mr / mn, batches, per);
	}
	sim_destroy(&s);
	return 0;
}

/* One vCPU, x87/SSE only, 4-level Secure EPT, write-back, 2.5 GHz virtual TSC. */
static void bench_td_params(struct td_params *p)
{
	memset(p, 0, sizeof(*p));
	p->xfam = 3;
	p->max_vcpus = 1;
	p->eptp_controls = (3ull << EPTP_CONTROLS_EPT_PWL_SHIFT) | 6;
	p->tsc_frequency = 100;
}

/* One measured add of the firmware's MR.EXTEND sections into a new TD on s: the sections in
 * host memory first (QEMU has the firmware mapped; KVM's PAGE.ADD reads its source from
 * there), then PAGE.ADD + 16 MR.EXTEND per page, timed. The TD's pages come from DRAM this
 * process never wrote, which the host kernel backs and zeroes on first touch, inside the timing. */
static double measured_add_seconds(struct sim *s, const struct tdvf *t, const uint8_t *hob, size_t hob_len,
				   const struct td_params *p, uint64_t *payload, uint64_t *first_gpa, struct td_build *b)
{
	uint64_t src[TDVF_MAX_SECTIONS];
	double t0;

	if (td_build_create(b, s, p))
		return -1;
	for (unsigned i = 0; i < t->nr_sections; i++)
		if ((t->sec[i].attributes & TDVF_ATTR_MR_EXTEND) &&
		    td_build_load_section(b, t, &t->sec[i], hob, hob_len, &src[i]))
			return -1;
	*payload = 0;
	*first_gpa = ~0ull;
	t0 = now();
	for (unsigned i = 0; i < t->nr_sections; i++) {
		const struct tdvf_section *sec = &t->sec[i];
		if (!(sec->attributes & TDVF_ATTR_MR_EXTEND))
			continue;
		if (*first_gpa == ~0ull)
			*first_gpa = sec->gpa;
		for (uint64_t pg = 0; pg < sec->mem_size / 4096; pg++) {
			if (td_build_add_page_from(b, sec->gpa + pg * 4096, src[i] + pg * 4096, true))
				return -1;
			*payload += 4096;
		}
	}
	return now() - t0;
}

/* The measured build of Debian's OVMF: whole `tdxemu measure` (wall, median), and the
 * measured-add payload rate (PAGE.ADD + 16 MR.EXTEND per page) against the bound SHA-384
 * sets: every 256 payload bytes hash 384 bytes, so the limit is 256/384 of SHA-384's rate. */
static int bench_measure(int runs)
{
	static const char *ovmf = "/usr/share/ovmf/OVMF.fd";
	double t_build[16], t_add[16], t_sha[16], t_ext[16], t_pat[16], ratio[16], ceil_ratio[16];
	uint64_t payload = 0, first_gpa = 0;
	uint8_t *img;
	size_t n;
	char err[256];
	struct tdvf t;

	if (tdvf_read_file(ovmf, &img, &n, err, sizeof(err)) || tdvf_parse(img, n, &t, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	for (int r = 0; r < runs; r++) {
		struct sim s;
		struct td_build b;
		struct td_params p;
		struct td_ram_layout ram;
		uint8_t hob[8192], mrtd[48];
		long hob_len;
		double t0;

		if (new_sim(&s, 8ull << 30) || sim_tdx_bringup(&s))
			return -1;
		bench_td_params(&p);
		td_ram_layout_q35(2ull << 30, &ram);
		hob_len = td_hob_build(&t, &ram, hob, sizeof(hob), err, sizeof(err));
		t0 = now();
		if (hob_len < 0 || td_build_create(&b, &s, &p) || td_build_add_tdvf(&b, &t, hob, (size_t)hob_len, TD_ADD_PER_PAGE) ||
		    td_build_add_vcpus(&b, 1, t.sec[t.hob_index].gpa) || td_build_finalize(&b, mrtd)) {
			fprintf(stderr, "bench: %s\n", b.err);
			return -1;
		}
		t_build[r] = now() - t0;
		/* the measured sections alone, in a second TD on the same host */
		t_add[r] = measured_add_seconds(&s, &t, hob, (size_t)hob_len, &p, &payload, &first_gpa, &b);
		if (t_add[r] < 0) {
			fprintf(stderr, "bench: %s\n", b.err);
			return -1;
		}
		/* the split: MR.EXTEND alone (the first measured page again) */
		t0 = now();
		for (int k = 0; k < 64; k++)
			if (td_build_extend_only(&b, first_gpa))
				return -1;
		t_ext[r] = (now() - t0) / (64.0 * 16);
		t_sha[r] = sha384_seconds(img + t.sec[0].data_offset, payload);
		t_pat[r] = sha384_pattern_seconds(img + t.sec[0].data_offset, payload);
		/* this run's ratios: its phases ran seconds apart, on a machine whose speed drifts */
		ratio[r] = t_sha[r] * 384.0 / 256.0 / t_add[r];
		ceil_ratio[r] = t_sha[r] * 384.0 / 256.0 / t_pat[r];
		sim_destroy(&s);
	}
	{
		double mb = median(t_build, runs), msha = median(t_sha, runs);
		double sha = (double)payload / msha / 1e6, limit = sha * 256.0 / 384.0;
		double rate = (double)payload / median(t_add, runs) / 1e6;
		printf("measure OVMF.fd: TD build + MRTD %.1f ms wall  [median of %d]\n", mb * 1e3, runs);
		printf("measured add (%.1f MiB of MR.EXTEND sections): %.1f MB/s payload; SHA-384 %.1f MB/s, limit 256/384 x "
		       "SHA-384 = %.1f MB/s; %.0f%% of the limit (goal >= 85%%)  [medians of %d; the %% is the median of each "
		       "run's ratio]\n", (double)payload / 1048576.0, rate, sha, limit, 100.0 * median(ratio, runs), runs);
		printf("  ceiling: the hashing alone, in the module's update pattern, runs at %.0f%% of the limit\n",
		       100.0 * median(ceil_ratio, runs));
		printf("  split: one MR.EXTEND %.0f ns, of which SHA-384 of its 384 bytes at the baseline rate %.0f ns\n",
		       median(t_ext, runs) * 1e9, 384.0 / (sha * 1e6) * 1e9);
	}
	free(img);
	return 0;
}

/* TDH.MEM.PAGE.AUG throughput on a finalized TD: AUG of `pages` 4 KiB pages at consecutive
 * GPAs (their Secure EPT pages added beforehand, outside the timing), against the bare
 * SEAMCALL dispatch (no-op leaf) measured in the same run. */
static int bench_aug(int runs)
{
	const uint64_t pages = 16384, gpa0 = 1ull << 30;
	double t_aug[16], t_noop[16];

	for (int r = 0; r < runs; r++) {
		struct sim s;
		struct td_build b;
		struct td_params p;
		struct tdx_module_args a;
		uint8_t mrtd[48];
		uint64_t *hpa = malloc(pages * sizeof(*hpa));
		double t0;

		if (!hpa || new_sim(&s, 8ull << 30) || sim_tdx_bringup(&s))
			return -1;
		bench_td_params(&p);
		if (td_build_create(&b, &s, &p) || td_build_add_vcpus(&b, 1, 0) || td_build_finalize(&b, mrtd)) {
			fprintf(stderr, "bench: %s\n", b.err);
			return -1;
		}
		for (uint64_t i = 0; i < pages; i += 512)
			if (td_build_map_sept(&b, gpa0 + i * 4096)) {
				fprintf(stderr, "bench: %s\n", b.err);
				return -1;
			}
		for (uint64_t i = 0; i < pages; i++)
			if (!(hpa[i] = host_alloc_phys(&s.host, 4096, 4096, 0)))
				return -1;
		t0 = now();
		for (uint64_t i = 0; i < pages; i++) {
			uint64_t st = tdh_mem_page_aug(&s.host, 0, b.tdr, gpa0 + i * 4096, 0, hpa[i], &a);
			if (st) {
				char buf[96];
				fprintf(stderr, "bench: TDH.MEM.PAGE.AUG: %s\n", tdx_status_str(st, buf, sizeof(buf)));
				return -1;
			}
		}
		t_aug[r] = (now() - t0) / (double)pages;
		t_noop[r] = ns_per_call(s.plat, TDH_SYS_LP_SHUTDOWN_LEAF, 0, 20000) * 1e-9;
		free(hpa);
		sim_destroy(&s);
	}
	{
		double ma = median(t_aug, runs), mn = median(t_noop, runs);
		printf("PAGE.AUG (4 KiB): %.0f pages/s (%.0f ns per page); no-op SEAMCALL %.1f ns; ratio %.1fx  "
		       "[median of %d x %llu pages]\n", 1.0 / ma, ma * 1e9, mn * 1e9, ma / mn, runs,
		       (unsigned long long)pages);
	}
	return 0;
}


/* ---- kvm: the KVM API against the raw SEAMCALL path ---------------------------------- */
#define KVM_BENCH_GPA (1ull << 30)

static int kvm_vm_up(struct kvm_dev *d, struct kvm_vm **vm, struct kvm_vcpu **vcpu)
{
	struct kvm_tdx_init_vm *iv = calloc(1, sizeof(*iv) + sizeof(struct kvm_cpuid_entry2));
	int r;

	if (!iv)
		return -1;
	iv->xfam = 3;
	iv->cpuid.nent = 1;
	iv->cpuid.entries[0].function = 0x80000008;
	iv->cpuid.entries[0].eax = 48 << 16;
	r = kvm_create_vm(d, KVM_X86_TDX_VM, vm) || kvm_tdx_init_vm(*vm, iv, NULL) || kvm_create_vcpu(*vm, 0, vcpu) ||
	    kvm_tdx_init_vcpu(*vcpu, 0);
	free(iv);
	return r ? -1 : 0;
}

/* Seconds for KVM_TDX_INIT_MEM_REGION of `bytes` into a fresh TD (slot and attributes set up
 * outside the timing). */
static double kvm_mem_region_seconds(struct kvm_dev *d, const uint8_t *src, uint64_t bytes, bool measure)
{
	struct kvm_memory_region slot = { .slot = 0, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = KVM_BENCH_GPA,
					  .memory_size = bytes };
	struct kvm_tdx_init_mem_region r = { (uint64_t)(uintptr_t)src, KVM_BENCH_GPA, bytes / 4096 };
	struct kvm_vm *vm = NULL;
	struct kvm_vcpu *vcpu;
	double t0, t;

	if (kvm_vm_up(d, &vm, &vcpu) || kvm_set_user_memory_region2(vm, &slot) ||
	    kvm_set_memory_attributes(vm, KVM_BENCH_GPA, bytes, KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
		kvm_destroy_vm(vm);
		return -1;
	}
	t0 = now();
	if (kvm_tdx_init_mem_region(vcpu, &r, measure ? KVM_TDX_MEASURE_MEMORY_REGION : 0))
		t = -1;
	else
		t = now() - t0;
	kvm_destroy_vm(vm);
	return t;
}

/* The same pages through td_build (SEPT.ADD as needed, PAGE.ADD [+ 16 MR.EXTEND]). */
static double raw_mem_region_seconds(struct sim *s, const uint8_t *src, uint64_t bytes, bool measure)
{
	struct td_build b;
	struct td_params p;
	double t0;

	bench_td_params(&p);
	if (td_build_create(&b, s, &p))
		return -1;
	t0 = now();
	for (uint64_t off = 0; off < bytes; off += 4096)
		if (td_build_add_page(&b, KVM_BENCH_GPA + off, src + off, measure))
			return -1;
	return now() - t0;
}

/* kvm_create_vm + INIT_VM + one vCPU (create + INIT_VCPU) + FINALIZE + destroy (full
 * teardown, every page reclaimed). */
static double kvm_cycle_seconds(struct kvm_dev *d)
{
	struct kvm_vm *vm = NULL;
	struct kvm_vcpu *vcpu;
	uint64_t hw;
	double t0 = now();

	if (kvm_vm_up(d, &vm, &vcpu) || kvm_tdx_finalize_vm(vm, &hw)) {
		kvm_destroy_vm(vm);
		return -1;
	}
	kvm_destroy_vm(vm);
	return kvm_dev_pages_in_use(d) ? -1 : now() - t0;
}

/* td_build's create + one vCPU + FINALIZE: the SEAMCALLs without teardown (td_build has none,
 * so the baseline leaves out KVM's VPFLUSHDONE/CACHE.WB/FREEID/RECLAIM work). */
static double raw_cycle_seconds(struct sim *s)
{
	struct td_build b;
	struct td_params p;
	uint8_t mrtd[48];
	double t0 = now();

	bench_td_params(&p);
	if (td_build_create(&b, s, &p) || td_build_add_vcpus(&b, 1, 0) || td_build_finalize(&b, mrtd))
		return -1;
	return now() - t0;
}

static int bench_kvm(int runs, uint64_t mib)
{
	const uint64_t bytes = mib << 20;
	double km[16], ku[16], rm[16], ru[16], kc[16], rc[16];
	uint8_t *src = aligned_alloc(4096, bytes);
	struct sim s;
	struct kvm_dev *d;

	if (!src || new_sim(&s, 16ull << 30) || sim_tdx_bringup(&s) || !(d = kvm_open(&s.host))) {
		fprintf(stderr, "bench: kvm setup failed\n");
		return -1;
	}
	for (uint64_t i = 0; i < bytes; i++)
		src[i] = (uint8_t)(i * 2654435761u >> 13);
	for (int r = 0; r < runs; r++) {
		struct sim raw; /* td_build's TDs are never torn down: their own host, own HKIDs */

		if (new_sim(&raw, 16ull << 30) || sim_tdx_bringup(&raw))
			return -1;
		km[r] = kvm_mem_region_seconds(d, src, bytes, true);
		ku[r] = kvm_mem_region_seconds(d, src, bytes, false);
		rm[r] = raw_mem_region_seconds(&raw, src, bytes, true);
		ru[r] = raw_mem_region_seconds(&raw, src, bytes, false);
		kc[r] = kvm_cycle_seconds(d);
		rc[r] = raw_cycle_seconds(&raw);
		sim_destroy(&raw);
		if (km[r] < 0 || ku[r] < 0 || rm[r] < 0 || ru[r] < 0 || kc[r] < 0 || rc[r] < 0) {
			fprintf(stderr, "bench: kvm run %d failed (%g %g %g %g %g %g)\n", r, km[r], ku[r], rm[r], ru[r], kc[r], rc[r]);
			return -1;
		}
	}
	{
		double mkm = median(km, runs) / (double)mib, mku = median(ku, runs) / (double)mib;
		double mrm = median(rm, runs) / (double)mib, mru = median(ru, runs) / (double)mib;
		double mkc = median(kc, runs), mrc = median(rc, runs);
		printf("kvm: baseline = td_build, the raw host-wrapper SEAMCALL path (same leaves, no KVM bookkeeping)\n");
		printf("KVM_TDX_INIT_MEM_REGION measured   %7.2f ms/MiB; raw PAGE.ADD+MR.EXTEND %7.2f ms/MiB; ratio %.2fx"
		       "  [median of %d x %llu MiB]\n", mkm * 1e3, mrm * 1e3, mkm / mrm, runs, (unsigned long long)mib);
		printf("KVM_TDX_INIT_MEM_REGION unmeasured %7.2f ms/MiB; raw PAGE.ADD            %7.2f ms/MiB; ratio %.2fx\n",
		       mku * 1e3, mru * 1e3, mku / mru);
		printf("  measured/unmeasured: KVM %.2fx, raw %.2fx\n", mkm / mku, mrm / mru);
		printf("TD cycle (create+INIT_VM+1 vCPU+FINALIZE+destroy) %7.1f us; raw create+vCPU+FINALIZE "
		       "(no teardown) %7.1f us; ratio %.2fx  [median of %d]\n", mkc * 1e6, mrc * 1e6, mkc / mrc, runs);
	}
	kvm_close(d);
	sim_destroy(&s);
	free(src);
	return 0;
}

/* `tdxemu-bench [--quick] [section...]`: sections sysrd, bringup, measure, aug, kvm, engine (all by
 * default), so that one figure can be profiled alone. */
static bool want(int argc, char **argv, int first, const char *name)
{
	if (first >= argc)
		return true;
	for (int i = first; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	int runs_64g = 5, runs_1t = 3, runs_kvm = 7, runs_engine = 3, first = 1;
	uint64_t kvm_mib = 8;

	if (argc > 1 && !strcmp(argv[1], "--quick"))
		runs_64g = 3, runs_1t = 0, runs_kvm = 3, kvm_mib = 2, runs_engine = 1, first = 2;
	for (int i = first; i < argc; i++)
		if (strcmp(argv[i], "sysrd") && strcmp(argv[i], "bringup") && strcmp(argv[i], "measure") &&
		    strcmp(argv[i], "aug") && strcmp(argv[i], "kvm") && strcmp(argv[i], "engine")) {
			fprintf(stderr, "tdxemu-bench: unknown section '%s' (sysrd, bringup, measure, aug, kvm, engine)\n",
				argv[i]);
			return 2;
		}
	printf("tdxemu bench (medians; baselines measured in the same run)\n");
	if (want(argc, argv, first, "sysrd") && bench_sys_rd())
		return 1;
	if (want(argc, argv, first, "bringup")) {
		printf("bring-up: 'fresh' = PAMT in DRAM nobody wrote (zero pages stay unbacked), 'dirty' = the host\n"
		       "used that memory before, so every PAMT page is really cleared; baseline = memset of as many\n"
		       "bytes, into fresh host memory (cold) for 'fresh', into memory written once (warm) for 'dirty'\n");
		if (bench_bringup("64G", 64ull << 30, false, runs_64g) || bench_bringup("64G", 64ull << 30, true, runs_64g))
			return 1;
	}
	if (want(argc, argv, first, "measure") && bench_measure(runs_64g))
		return 1;
	if (want(argc, argv, first, "aug") && bench_aug(runs_64g))
		return 1;
	if (want(argc, argv, first, "kvm") && bench_kvm(runs_kvm, kvm_mib))
		return 1;
	if (want(argc, argv, first, "engine") && bench_engine(runs_engine))
		return 1;
	if (want(argc, argv, first, "bringup") && runs_1t &&
	    (bench_bringup("1T", 1ull << 40, false, runs_1t) || bench_bringup("1T", 1ull << 40, true, runs_1t)))
		return 1;
	return 0;
}
