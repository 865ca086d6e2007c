/* A poisoned private page is a machine check that makes the TD fatal: the guest engine's
 * translate() reports PLAT_GUEST_MCE for a page the host wrote with KeyID 0 (untouched pages
 * still translate), the engine's #MC exit ends TDH.VP.ENTER with
 * TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE, a vCPU running on another LP exits the same way at
 * its next VM exit, every later TD leaf gets TDX_TD_FATAL, and teardown reclaims every page.
 * An NMI exit (same exit reason, other type) is not fatal. Through KVM and td_launch the TD
 * ends with KVM_EXIT_INTERNAL_ERROR and "TD fatal: machine check at GPA ...". */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "td_guest_events.h"
#include "vmm/td_launch.h"
#include "vmm/td_launch_internal.h"
#include "vmm/tdvf.h"

#define GPA_BAD 0x200000ull  /* the page the host poisons */
#define GPA_GOOD 0x201000ull /* a page nobody touches */
#define CONTENT 0x5a

struct mce_guest {
	struct fx *f;
	uint64_t vp0, vp1;
	unsigned runs0, runs1;
	bool good_before, bad_after, good_after, write_after;
	uint64_t hpa, rwx_bad, rwx_write;
	uint8_t seen; /* first byte of the page through the engine's view of DRAM */
	uint64_t inner_status;
	struct tdx_regs inner;
};

/* The engine's host pointer for an HPA translate() gave (plat_guest_dram). */
static uint8_t *dram(struct plat *p, uint64_t hpa)
{
	void *ptr;
	uint64_t len;

	return plat_guest_dram(p, hpa & plat_pa_mask(p), &ptr, &len) ? NULL : ptr;
}

static void cpuid_exit(struct plat_guest_regs *r, struct plat_guest_exit *ex)
{
	r->gpr[0] = 0, r->gpr[1] = 0;
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_CPUID, .instr_len = 2 };
}

/* vCPU 0 on LP 0: reads its page, the host poisons it, the next access is a #MC. */
static void run_vp0(struct mce_guest *g, const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct plat *p = g->f->p;
	uint64_t hpa = 0, rwx = 0;
	const uint8_t zero = 0;
	uint8_t *ptr;

	g->runs0++;
	g->good_before = mem->translate(mem->ctx, GPA_BAD, PLAT_GUEST_ACC_READ, &g->hpa, &rwx);
	if (g->good_before && (ptr = dram(p, g->hpa)))
		g->seen = *ptr;
	/* another host thread writes the TD's page through a KeyID 0 mapping */
	plat_host_write(p, g->hpa & plat_pa_mask(p), &zero, 1);
	g->bad_after = mem->translate(mem->ctx, GPA_BAD + 8, PLAT_GUEST_ACC_READ, &hpa, &g->rwx_bad);
	g->write_after = mem->translate(mem->ctx, GPA_BAD, PLAT_GUEST_ACC_WRITE, &hpa, &g->rwx_write);
	g->good_after = mem->translate(mem->ctx, GPA_GOOD, PLAT_GUEST_ACC_READ, &hpa, &rwx);
	td_launch_exit_machine_check(ex, GPA_BAD + 8);
}

/* vCPU 1 on LP 1 is inside the TD while vCPU 0 takes the #MC on LP 0, then exits for a
 * CPUID, which the module would emulate for a live TD. */
static void guest_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		      const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct mce_guest *g = ctx;

	(void)p, (void)lp;
	if (tag == g->vp0) {
		run_vp0(g, mem, ex);
		return;
	}
	if (g->runs1++ == 0) {
		memset(&g->inner, 0, sizeof(g->inner));
		g->inner.r[TDX_REG_RCX] = g->vp0;
		g->inner_status = tdh_vp_enter(g->f->h, 0, &g->inner);
		cpuid_exit(r, ex);
		return;
	}
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_TRIPLE_FAULT }; /* a live TD got here */
}

static const struct plat_guest_engine engine = { guest_run };

static uint64_t enter(struct fx *f, unsigned lp, uint64_t vp, struct tdx_regs *io)
{
	memset(io, 0, sizeof(*io));
	io->r[TDX_REG_RCX] = vp;
	return tdh_vp_enter(f->h, lp, io);
}

TEST(td_machine_check_poisoned_page_makes_td_fatal)
{
	struct fx f;
	struct fx_td1 t;
	struct mce_guest g = { 0 };
	uint64_t vp1[MIN_TDVPS_PAGES], v, last_pa = 0;
	uint8_t content[4096];
	struct tdx_regs io;
	unsigned keyid;
	bool poisoned;

	memset(content, CONTENT, sizeof(content));
	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, false));
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_BAD, content), TDX_SUCCESS);
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_GOOD, content), TDX_SUCCESS);
	REQUIRE(fx_vcpu_ready(&f, t.td.tdr, vp1));
	for (unsigned i = 0; i < MIN_TDVPS_PAGES; i++) /* reclaimed by fx_td1_down, TDVPR last */
		t.extra[t.nr_extra++] = vp1[i];
	REQUIRE_EQ(tdh_mr_finalize(f.h, 0, t.td.tdr), TDX_SUCCESS);
	g.f = &f, g.vp0 = t.vp[0], g.vp1 = vp1[0];
	plat_set_guest_engine(f.p, &engine, &g);

	/* vCPU 1 enters on LP 1; inside it, vCPU 0 enters on LP 0 and meets the poison */
	CHECK_EQ(enter(&f, 1, vp1[0], &io), TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE | EXIT_REASON_CPUID);
	CHECK_EQ(g.runs1, 1u); /* the CPUID was not emulated: the TD was already dead */
	CHECK_EQ(io.r[TDX_REG_R8], 0u);
	CHECK_EQ(io.r[TDX_REG_R9], 0u);

	/* vCPU 0's own exit: the #MC exit reason and interruption information, no GPA */
	CHECK(g.good_before);
	CHECK_EQ(g.seen, CONTENT);
	CHECK_EQ(g.inner_status, TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE | EXIT_REASON_EXCEPTION_OR_NMI);
	CHECK_EQ(g.inner.r[TDX_REG_RAX], g.inner_status);
	CHECK_EQ(g.inner.r[TDX_REG_RCX], 0u);
	CHECK_EQ(g.inner.r[TDX_REG_RDX], 0u);
	CHECK_EQ(g.inner.r[TDX_REG_R8], 0u);
	CHECK_EQ(g.inner.r[TDX_REG_R9], 0x80000312u); /* valid, hardware exception, vector 18 */
	CHECK_EQ(g.runs0, 1u);

	/* translate(): machine check (not an EPT violation) for the poisoned page, reads and
	 * writes alike, with the leaf's R/W/X still reported; the other page translates */
	CHECK(!g.bad_after);
	CHECK(g.rwx_bad & PLAT_GUEST_MCE);
	CHECK_EQ(g.rwx_bad & 7, 7u);
	CHECK(!g.write_after);
	CHECK(g.rwx_write & PLAT_GUEST_MCE);
	CHECK(g.good_after);
	REQUIRE_EQ(plat_page_state(f.p, g.hpa, &keyid, &poisoned), 0);
	CHECK(poisoned);

	/* FATAL: no vCPU enters again, other TD leaves refuse too */
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_TD_FATAL);
	CHECK_EQ(enter(&f, 1, vp1[0], &io), TDX_TD_FATAL);
	CHECK_EQ(tdh_mem_track(f.h, 0, t.td.tdr), TDX_TD_FATAL);
	CHECK_EQ(tdh_mng_rd(f.h, 0, t.td.tdr, MD_TD_FIELDS_OP_STATE_FIELD_ID, &v), TDX_TD_FATAL);
	CHECK_EQ(g.runs0, 1u);
	/* the machine check was the TD's, not the module's: SEAM still works */
	CHECK_EQ(plat_mce_count(f.p, &last_pa), 0u);

	/* teardown: flush both vCPUs, free the HKID, reclaim every page */
	CHECK_EQ(tdh_vp_flush(f.h, 1, vp1[0]), TDX_SUCCESS);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

/* The same exit reason with an NMI is an ordinary TD exit: the TD lives on. */
static void nmi_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		    const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	unsigned *runs = ctx;

	(void)p, (void)lp, (void)tag, (void)r, (void)mem;
	(*runs)++;
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_EXCEPTION_OR_NMI,
					.intr_info = INTR_INFO_VALID_MASK | INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT | 2 };
}

TEST(td_machine_check_nmi_exit_is_not_fatal)
{
	static const struct plat_guest_engine nmi_engine = { nmi_run };
	struct fx f;
	struct fx_td1 t;
	struct tdx_regs io;
	unsigned runs = 0;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	plat_set_guest_engine(f.p, &nmi_engine, &runs);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_SUCCESS | EXIT_REASON_EXCEPTION_OR_NMI);
	CHECK_EQ(io.r[TDX_REG_R9], 0x80000202u);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_SUCCESS | EXIT_REASON_EXCEPTION_OR_NMI);
	CHECK_EQ(runs, 2u);
	CHECK_EQ(tdh_mem_track(f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

/* ---- through KVM and td_launch, with Debian's OVMF as QEMU would launch it ---- */
#define OVMF "/usr/share/ovmf/OVMF.fd"
#define RESET_PAGE 0xFFFFF000ull

struct launch_fake {
	struct td_launch *l;
	unsigned runs;
	bool before, after;
	uint64_t rwx;
};

static void launch_run(void *ctx, struct plat_guest_regs *r, const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct launch_fake *f = ctx;
	struct plat *p = f->l->sim.plat;
	uint64_t hpa = 0, rwx = 0;
	const uint8_t zero = 0;

	(void)r;
	f->runs++;
	f->before = mem->translate(mem->ctx, RESET_PAGE, PLAT_GUEST_ACC_FETCH, &hpa, &rwx);
	if (f->before)
		plat_host_write(p, hpa & plat_pa_mask(p), &zero, 1);
	f->after = mem->translate(mem->ctx, RESET_PAGE + 0xFF0, PLAT_GUEST_ACC_FETCH, &hpa, &f->rwx);
	if (f->after)
		td_launch_exit_triple_fault(ex);
	else
		td_launch_exit_machine_check(ex, RESET_PAGE + 0xFF0);
}

static void nop_io(void *ctx, uint16_t port, void *data, unsigned size, bool write)
{
	(void)ctx, (void)port, (void)data, (void)size, (void)write;
}

static void nop_mmio(void *ctx, uint64_t gpa, void *data, unsigned size, bool write)
{
	(void)ctx, (void)gpa, (void)data, (void)size, (void)write;
}

static int no_shared(void *ctx, uint64_t gpa, void *data, size_t len, bool write)
{
	(void)ctx, (void)gpa, (void)data, (void)len, (void)write;
	return -1;
}

TEST(td_machine_check_td_launch_reports_fatal_td)
{
	static const struct td_launch_ops ops = { .run = launch_run, .pio = nop_io, .mmio = nop_mmio,
						  .shared_rw = no_shared };
	struct launch_fake f = { 0 };
	struct td_launch_config cfg = { .ram_size = 256ull << 20 };
	const struct kvm_run *run;
	uint8_t *img;
	size_t n;
	char err[256];

	if (tdvf_read_file(OVMF, &img, &n, err, sizeof(err)))
		return; /* Debian package ovmf not installed: nothing to launch */
	cfg.bios = img, cfg.bios_size = n;
	REQUIRE_EQ(td_launch_create(&cfg, &ops, &f, &f.l, err, sizeof(err)), 0);
	CHECK_EQ(td_launch_run(f.l, 0, &f, err, sizeof(err)), 1);
	CHECK(f.before);
	CHECK(!f.after);
	CHECK(f.rwx & PLAT_GUEST_MCE);
	CHECK(strstr(err, "TD fatal: machine check at GPA 0xfffffff0") != NULL);
	/* KVM: internal error with the module's status, as Linux's tdx_handle_exit() */
	run = kvm_vcpu_run_struct(f.l->vcpu[0]);
	CHECK_EQ(run->exit_reason, KVM_EXIT_INTERNAL_ERROR);
	CHECK_EQ(run->internal.suberror, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	CHECK_EQ(run->internal.data[0], TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE | EXIT_REASON_EXCEPTION_OR_NMI);
	/* running it again: TDH.VP.ENTER refuses the FATAL TD, the guest does not run */
	CHECK_EQ(td_launch_run(f.l, 0, &f, err, sizeof(err)), 1);
	CHECK(strstr(err, "TD fatal: TDH.VP.ENTER 0xe000060400000000 (TDX_TD_FATAL)") != NULL);
	CHECK_EQ(run->internal.data[0], TDX_TD_FATAL);
	CHECK_EQ(f.runs, 1u);
	td_launch_destroy(f.l);
	free(img);
}

/* ---- KVM: a TD exit with a non-recoverable status is not served by its exit reason ---- */
struct kvm_fatal {
	struct kvm_vcpu *v0, *v1;
	unsigned runs1;
	int inner;
};

/* vCPU 1 (LP 1) is in the TD while vCPU 0 (LP 0) takes a #MC, then makes a TDG.VP.VMCALL: the
 * module ends it with TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE and the TDCALL exit reason. */
static void kvm_fatal_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
			  const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct kvm_fatal *k = ctx;

	(void)p, (void)tag, (void)mem;
	if (lp == 0) {
		td_launch_exit_machine_check(ex, GPA_BAD);
		return;
	}
	if (k->runs1++) {
		*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_TRIPLE_FAULT }; /* a live TD got here */
		return;
	}
	k->inner = kvm_vcpu_run(k->v0);
	r->gpr[0] = TDG_VP_VMCALL_LEAF, r->gpr[1] = 0x1C00; /* R10-R12 */
	r->gpr[10] = 0, r->gpr[11] = EXIT_REASON_CPUID, r->gpr[12] = 0;
	*ex = (struct plat_guest_exit){ .reason = EXIT_REASON_TDCALL, .instr_len = 4 };
}

TEST(td_machine_check_kvm_fatal_exit_is_internal_error)
{
	static const struct plat_guest_engine kvm_engine = { kvm_fatal_run };
	struct fx_kvm k;
	struct kvm_fatal s = { 0 };
	const struct kvm_run *run0, *run1;
	uint64_t hw;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 1, &s.v1), 0);
	REQUIRE_EQ(kvm_tdx_init_vcpu(s.v1, 0), 0);
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	s.v0 = k.vcpu;
	plat_set_guest_engine(k.f.p, &kvm_engine, &s);
	run0 = kvm_vcpu_run_struct(s.v0), run1 = kvm_vcpu_run_struct(s.v1);
	CHECK_EQ(kvm_vcpu_run(s.v1), 0);
	CHECK_EQ(s.inner, 0);
	CHECK_EQ(run0->exit_reason, KVM_EXIT_INTERNAL_ERROR);
	CHECK_EQ(run0->internal.data[0], TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE | EXIT_REASON_EXCEPTION_OR_NMI);
	CHECK_EQ(run0->internal.data[1], 0u); /* the LP it ran on */
	CHECK_EQ(run1->exit_reason, KVM_EXIT_INTERNAL_ERROR);
	CHECK_EQ(run1->internal.suberror, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
	CHECK_EQ(run1->internal.data[0], TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE | EXIT_REASON_TDCALL);
	CHECK_EQ(run1->internal.data[1], 1u);
	CHECK_EQ(kvm_vcpu_get_stat(s.v1)->exits, 1u); /* no TDVMCALL served, no re-entry */
	CHECK_EQ(s.runs1, 1u);
	/* no private memory was mapped: destroying the fatal TD gives every page back */
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0u);
	fx_kvm_down(&k);
}
