/* td_launch: the TD QEMU's TD mode builds, with Debian's OVMF, run on a fake engine that
 * checks the reset state the module hands over, asks CPUID leaf 0x21 (answered by the module
 * from the TDCS) and reads the reset vector through the Secure EPT translation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vmm/td_launch.h"
#include "vmm/tdvf.h"
#include "abi_status.h"

#define OVMF "/usr/share/ovmf/OVMF.fd"

struct fake {
	struct td_launch *l;
	const uint8_t *image;
	size_t size;
	unsigned step;
	uint64_t rip0, cr0, cpuid[4];
	bool reset_vector_ok;
};

static void fake_run(void *ctx, struct plat_guest_regs *r, const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct fake *f = ctx;
	uint64_t hpa = 0, rwx = 0, pa, len;
	void *ptr;

	if (f->step++ == 0) {
		f->rip0 = r->rip, f->cr0 = r->sys.cr0;
		/* the last firmware page holds the reset vector: private, added by INIT_MEM_REGION */
		if (mem->translate(mem->ctx, 0xFFFFF000, PLAT_GUEST_ACC_FETCH, &hpa, &rwx)) {
			for (unsigned i = 0; !td_launch_dram_range(f->l, i, &pa, &ptr, &len); i++)
				if ((hpa & td_launch_pa_mask(f->l)) >= pa && (hpa & td_launch_pa_mask(f->l)) < pa + len)
					f->reset_vector_ok = !memcmp((uint8_t *)ptr + ((hpa & td_launch_pa_mask(f->l)) - pa),
								     f->image + f->size - 4096, 4096);
		}
		r->gpr[0] = 0x21, r->gpr[1] = 0;
		td_launch_exit_insn(ex, TD_LAUNCH_INSN_CPUID, 2);
		return;
	}
	f->cpuid[0] = r->gpr[0], f->cpuid[1] = r->gpr[3], f->cpuid[2] = r->gpr[1], f->cpuid[3] = r->gpr[2];
	td_launch_exit_triple_fault(ex);
}

static void fake_io(void *ctx, uint16_t port, void *data, unsigned size, bool write)
{
}

static void fake_mmio(void *ctx, uint64_t gpa, void *data, unsigned size, bool write)
{
}

static int fake_shared_rw(void *ctx, uint64_t gpa, void *data, size_t len, bool write)
{
	return -1;
}

TEST(td_launch_ovmf_reset_state_cpuid_translate)
{
	static const struct td_launch_ops ops = { .run = fake_run, .pio = fake_io, .mmio = fake_mmio,
						  .shared_rw = fake_shared_rw };
	struct fake f = { 0 };
	struct td_launch_config cfg = { .ram_size = 512ull << 20 };
	uint8_t *img;
	size_t n;
	char err[256];

	if (tdvf_read_file(OVMF, &img, &n, err, sizeof(err))) {
		return; /* Debian package ovmf not installed: nothing to launch */
	}
	f.image = img, f.size = n;
	cfg.bios = img, cfg.bios_size = n;
	if (td_launch_create(&cfg, &ops, &f, &f.l, err, sizeof(err)))
		fprintf(stderr, "td_launch_create: %s\n", err);
	REQUIRE(f.l != NULL);
	CHECK_EQ(td_launch_shared_bit(f.l), UINT64_C(1) << 47);
	CHECK_EQ(td_launch_run(f.l, 0, &f, err, sizeof(err)), 1);
	CHECK(strstr(err, "triple fault") != NULL);
	CHECK_EQ(f.rip0, UINT64_C(0xFFFFFFF0));
	CHECK_EQ(f.cr0, UINT64_C(0x21));
	CHECK(f.reset_vector_ok);
	CHECK_EQ(f.cpuid[1], UINT64_C(0x65746E49)); /* "Inte" "lTDX" "    " */
	CHECK_EQ(f.cpuid[3], UINT64_C(0x5844546C));
	CHECK_EQ(f.cpuid[2], UINT64_C(0x20202020));
	CHECK_EQ(td_launch_get_stats(f.l)->kvm_runs, 1u);
	td_launch_destroy(f.l);
	free(img);
}

/* Two vCPUs and GetQuote: each vCPU starts at the reset vector with RSI = its index and
 * RCX = R8 = the TD HOB; vCPU 1 asks for a quote through a shared buffer, which the VMM side
 * answers in the buffer's header as QEMU does without a quote generation service. */
#define GQ_GPA 0x100000ull
struct smp_fake {
	struct td_launch *l;
	unsigned step[2];
	uint64_t rsi[2], rcx[2], r8[2], r10_after, r11_after;
	uint8_t shared[8192]; /* the VMM's RAM at GQ_GPA */
	unsigned shared_writes;
};
struct smp_vcpu {
	struct smp_fake *f;
	unsigned idx;
};

static void smp_run(void *ctx, struct plat_guest_regs *r, const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct smp_vcpu *v = ctx;
	struct smp_fake *f = v->f;

	switch (f->step[v->idx]++) {
	case 0:
		f->rsi[v->idx] = r->gpr[6], f->rcx[v->idx] = r->gpr[1], f->r8[v->idx] = r->gpr[8];
		if (v->idx == 1) { /* TDG.VP.VMCALL<GetQuote>(shared GPA, 4 KiB), R10..R13 passed */
			r->gpr[0] = 0, r->gpr[1] = 0x3C00, r->gpr[10] = 0, r->gpr[11] = 0x10002;
			r->gpr[12] = GQ_GPA | mem->shared_bit, r->gpr[13] = 4096;
			td_launch_exit_insn(ex, TD_LAUNCH_INSN_TDCALL, 4);
			return;
		}
		break;
	case 1:
		f->r10_after = r->gpr[10], f->r11_after = r->gpr[11];
		break;
	}
	td_launch_exit_triple_fault(ex);
}

static int smp_shared_rw(void *ctx, uint64_t gpa, void *data, size_t len, bool write)
{
	struct smp_fake *f = ctx;

	if (gpa < GQ_GPA || gpa + len > GQ_GPA + sizeof(f->shared))
		return -1;
	if (write) {
		memcpy(f->shared + (gpa - GQ_GPA), data, len);
		f->shared_writes++;
	} else {
		memcpy(data, f->shared + (gpa - GQ_GPA), len);
	}
	return 0;
}

TEST(td_launch_two_vcpus_get_quote)
{
	static const struct td_launch_ops ops = { .run = smp_run, .pio = fake_io, .mmio = fake_mmio,
						  .shared_rw = smp_shared_rw };
	struct smp_fake f = { 0 };
	struct smp_vcpu v0 = { &f, 0 }, v1 = { &f, 1 };
	struct td_launch_config cfg = { .ram_size = 256ull << 20, .nr_vcpus = 2 };
	uint64_t hdr[3] = { 1, 0, 48 }; /* version 1, error 0, in_len 48 | out_len 0 */
	uint64_t err_code;
	uint8_t *img;
	size_t n;
	char err[256];

	if (tdvf_read_file(OVMF, &img, &n, err, sizeof(err)))
		return;
	cfg.bios = img, cfg.bios_size = n;
	memcpy(f.shared, hdr, sizeof(hdr));
	REQUIRE(td_launch_create(&cfg, &ops, &f, &f.l, err, sizeof(err)) == 0);
	CHECK_EQ(td_launch_nr_vcpus(f.l), 2u);
	CHECK_EQ(td_launch_run(f.l, 2, &v0, err, sizeof(err)), -1);
	CHECK(strstr(err, "no vCPU 2") != NULL);
	CHECK_EQ(td_launch_run(f.l, 0, &v0, err, sizeof(err)), 1);
	CHECK_EQ(td_launch_run(f.l, 1, &v1, err, sizeof(err)), 1);
	CHECK_EQ(f.rsi[0], 0u);
	CHECK_EQ(f.rsi[1], 1u);
	CHECK_EQ(f.rcx[0], f.rcx[1]);
	CHECK_EQ(f.r8[1], f.rcx[1]);
	CHECK(f.rcx[0] != 0);
	/* GetQuote: TDVMCALL succeeded, the header says "no quote generation service" */
	CHECK_EQ(f.r10_after, 0u);
	CHECK_EQ(f.shared_writes, 1u);
	memcpy(&err_code, f.shared + 8, 8);
	CHECK_EQ(err_code, UINT64_C(0x8000000000000001));
	CHECK_EQ(td_launch_get_stats(f.l)->get_quotes, 1u);
	td_launch_destroy(f.l);

	/* a wrong structure version: the header is left alone, the TDVMCALL fails */
	memset(&f, 0, sizeof(f));
	hdr[0] = 2;
	memcpy(f.shared, hdr, sizeof(hdr));
	REQUIRE(td_launch_create(&cfg, &ops, &f, &f.l, err, sizeof(err)) == 0);
	CHECK_EQ(td_launch_run(f.l, 1, &v1, err, sizeof(err)), 1);
	CHECK_EQ(f.r10_after, UINT64_C(0x8000000000000000));
	CHECK_EQ(f.shared_writes, 0u);
	td_launch_destroy(f.l);
	free(img);
}

/* QEMU's front-end checks through td_launch: the -cpu feature check (its messages reach the
 * engine; a refused model stops the launch) and the TSC frequency (KVM_SET_TSC_KHZ; the
 * module refuses one below its range at INIT_VM). */
struct msgs {
	unsigned n, errors;
	char last[256];
};

static void record_msg(void *ctx, bool error, const char *text)
{
	struct msgs *m = ctx;

	m->n++, m->errors += error;
	snprintf(m->last, sizeof(m->last), "%s", text);
}

TEST(td_launch_cpu_check_and_tsc)
{
	static const struct td_launch_ops ops = { .run = fake_run, .pio = fake_io, .mmio = fake_mmio,
						  .shared_rw = fake_shared_rw, .cpu_message = record_msg };
	struct msgs m = { 0 };
	struct td_launch_config cfg = { .ram_size = 128ull << 20, .cpu = "SapphireRapids" };
	struct td_launch *l = NULL;
	uint8_t *img;
	size_t n;
	char err[256];

	if (tdvf_read_file(OVMF, &img, &n, err, sizeof(err)))
		return;
	cfg.bios = img, cfg.bios_size = n;
	CHECK_EQ(td_launch_create(&cfg, &ops, &m, &l, err, sizeof(err)), -1);
	CHECK(l == NULL);
	CHECK(strstr(err, "QEMU refuses this CPU") != NULL);
	CHECK_EQ(m.errors, 1u);
	if (!strstr(m.last, "Named cpu model is not supported for TDX yet!"))
		test_fail(__FILE__, __LINE__, "message: %s", m.last);
	cfg.cpu = "max";
	m = (struct msgs){ 0 };
	REQUIRE_EQ(td_launch_create(&cfg, &ops, &m, &l, err, sizeof(err)), 0);
	CHECK_EQ(m.errors, 0u);
	td_launch_destroy(l);
	cfg.cpu = "nosuchmodel";
	CHECK_EQ(td_launch_create(&cfg, &ops, &m, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "nosuchmodel") != NULL);
	cfg.cpu = NULL;
	cfg.tsc_khz = 50000;
	CHECK_EQ(td_launch_create(&cfg, &ops, &m, &l, err, sizeof(err)), -1);
	CHECK(strstr(err, "KVM_TDX_INIT_VM failed") != NULL);
	cfg.tsc_khz = 1000000;
	REQUIRE_EQ(td_launch_create(&cfg, &ops, &m, &l, err, sizeof(err)), 0);
	td_launch_destroy(l);
	free(img);
}

/* A TDG.VP.VMCALL the module refuses never reaches KVM: td_launch says so once, naming the
 * NO_RBP_MOD refusal when RBP is in GPR_SELECT (old edk2 firmware). */
struct rbp_fake {
	unsigned step;
	uint64_t rax_after;
	unsigned logs;
	char log[512];
};

static void rbp_run(void *ctx, struct plat_guest_regs *r, const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct rbp_fake *f = ctx;

	if (f->step++ < 2) { /* twice: the refusal is said once */
		f->rax_after = r->gpr[0];
		r->gpr[0] = 0, r->gpr[1] = 0xFC20, r->gpr[10] = 0, r->gpr[11] = 0x1e; /* RBP | R10..R15 */
		td_launch_exit_insn(ex, TD_LAUNCH_INSN_TDCALL, 4);
		return;
	}
	f->rax_after = r->gpr[0];
	td_launch_exit_triple_fault(ex);
}

static void rbp_log(void *ctx, const char *line)
{
	struct rbp_fake *f = ctx;

	if (strstr(line, "TDG.VP.VMCALL refused")) {
		f->logs++;
		snprintf(f->log, sizeof(f->log), "%s", line);
	}
}

TEST(td_launch_says_refused_vmcall)
{
	static const struct td_launch_ops ops = { .run = rbp_run, .pio = fake_io, .mmio = fake_mmio,
						  .shared_rw = fake_shared_rw, .log = rbp_log };
	struct rbp_fake f = { 0 };
	struct td_launch_config cfg = { .ram_size = 128ull << 20 };
	struct td_launch *l;
	uint8_t *img;
	size_t n;
	char err[256];

	if (tdvf_read_file(OVMF, &img, &n, err, sizeof(err)))
		return;
	cfg.bios = img, cfg.bios_size = n;
	REQUIRE_EQ(td_launch_create(&cfg, &ops, &f, &l, err, sizeof(err)), 0);
	CHECK_EQ(td_launch_run(l, 0, &f, err, sizeof(err)), 1);
	CHECK_EQ(f.rax_after, TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	CHECK_EQ(f.logs, 1u);
	CHECK(strstr(f.log, "RBP is selected") != NULL);
	CHECK_EQ(td_launch_get_stats(l)->kvm_runs, 1u); /* nothing reached KVM's TDVMCALL handling */
	td_launch_destroy(l);
	free(img);
}

/* KVM's no_rbp_mod=N (TDX 1.0-era KVM): the same TDVMCALL with RBP in GPR_SELECT reaches KVM
 * (the TDCALL succeeds: the module passes it on) and nothing is said; bad parameters fail the launch
 * with the parameter named. */
TEST(td_launch_kvm_param_no_rbp_mod)
{
	static const struct td_launch_ops ops = { .run = rbp_run, .pio = fake_io, .mmio = fake_mmio,
						  .shared_rw = fake_shared_rw, .log = rbp_log };
	static const struct {
		const char *params, *err;
	} bad[] = {
		{ "no_rbp_mod=maybe", "KVM parameter no_rbp_mod=maybe: not a boolean" },
		{ "no_rbp_mod", "KVM parameter 'no_rbp_mod': not NAME=VALUE" },
		{ "no_rbp_mod=N,ept=1", "KVM parameter ept=1: unknown parameter (known: no_rbp_mod)" },
		{ "=1", "KVM parameter '=1': not NAME=VALUE" },
	};
	struct rbp_fake f = { 0 };
	struct td_launch_config cfg = { .ram_size = 128ull << 20, .kvm_params = "no_rbp_mod=N" };
	struct td_launch *l;
	char err[256];

	if (!(cfg.bios = fx_ovmf_image(&cfg.bios_size)))
		return;
	REQUIRE_EQ(td_launch_create(&cfg, &ops, &f, &l, err, sizeof(err)), 0);
	CHECK_EQ(td_launch_run(l, 0, &f, err, sizeof(err)), 1);
	CHECK_EQ(f.rax_after, TDX_SUCCESS);
	CHECK_EQ(f.logs, 0u);
	td_launch_destroy(l);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.kvm_params = bad[i].params;
		CHECK_EQ(td_launch_create(&cfg, &ops, &f, &l, err, sizeof(err)), -1);
		CHECK(strstr(err, bad[i].err) != NULL);
	}
}
