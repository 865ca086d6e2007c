/* TDH.VP.ENTER: operand and state checks in the real module's order, the TDG.VP.VMCALL
 * round trip (GPR_SELECT both ways, RIP after the TDCALL), asynchronous exits, a disabled
 * vCPU after a triple fault, TLB-epoch accounting against TDH.MEM.TRACK, and the LP
 * registers a TD exit leaves behind (the generated td_exit_state table). */
#include <string.h>

#include "fixture.h"
#include "module/module_debug.h"
#include "td_exit_state.h"

#define GPR_RAX 0
#define GPR_RCX 1
#define GPR_RDX 2
#define GPR_RBX 3
#define GPR_RSP 4
#define GPR_RSI 6
#define VMCALL_SELECT ((1u << 10) | (1u << 11) | (1u << 12) | (1u << 13)) /* R10-R13 */

/* A guest scripted step by step; each run() is one entry-to-VM-exit stretch. */
struct guest {
	struct fx *f;
	uint64_t tdr;
	unsigned runs;
	struct plat_guest_regs seen[8]; /* guest registers at the start of each run */
	bool flush[8];                  /* mem->flush_tlb of each run */
	uint64_t refcount_inside, track1, track2;
	void (*step)(struct guest *g, unsigned run, unsigned lp, struct plat_guest_regs *r, struct plat_guest_exit *ex);
};

static void guest_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		      const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct guest *g = ctx;

	(void)p, (void)tag;
	if (g->runs < 8)
		g->seen[g->runs] = *r, g->flush[g->runs] = mem->flush_tlb;
	g->step(g, g->runs++, lp, r, ex);
}

static const struct plat_guest_engine guest_engine = { guest_run };

static void vmcall(struct plat_guest_regs *r, struct plat_guest_exit *ex, uint64_t r11, uint64_t r12)
{
	r->gpr[GPR_RAX] = TDG_VP_VMCALL_LEAF;
	r->gpr[GPR_RCX] = VMCALL_SELECT;
	r->gpr[10] = 0, r->gpr[11] = r11, r->gpr[12] = r12, r->gpr[13] = 0x1313;
	r->gpr[GPR_RDX] = 0xdddd; /* not selected: the VMM must not see it */
	ex->reason = VMEXIT_REASON_TDCALL;
	ex->instr_len = 4;
}

static uint64_t enter(struct fx *f, unsigned lp, uint64_t rcx, struct tdx_regs *io)
{
	memset(io, 0, sizeof(*io));
	io->r[TDX_REG_RCX] = rcx;
	return tdh_vp_enter(f->h, lp, io);
}

static void step_noop(struct guest *g, unsigned run, unsigned lp, struct plat_guest_regs *r, struct plat_guest_exit *ex)
{
	(void)g, (void)run, (void)lp;
	vmcall(r, ex, 0x10, 0);
}

TEST(vp_enter_checks)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g = { .step = step_noop };
	struct tdx_regs io;
	uint64_t misc, adj, bare = 0;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, false));
	g.f = &f;
	plat_set_guest_engine(f.p, &guest_engine, &g);
	/* OP_STATE INITIALIZED: only after TDH.MR.FINALIZE can a vCPU run */
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_OP_STATE_INCORRECT);
	REQUIRE_EQ(tdh_mr_finalize(f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(enter(&f, 0, t.vp[0] | 1, &io), TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	CHECK_EQ(enter(&f, 0, t.vp[0] | (UINT64_C(1) << 54), &io), TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	CHECK_EQ(enter(&f, 0, t.td.tdr, &io), TDX_PAGE_METADATA_INCORRECT | OPERAND_ID_RCX); /* not a TDVPR */
	/* host-recoverability hint needs an ASYNC_TRAP last exit; RESUME_L1 an L2 exit */
	CHECK_EQ(enter(&f, 0, t.vp[0] | VCPU_AND_FLAGS_HOST_RECOVERABILITY_HINT_MASK, &io),
		 TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	CHECK_EQ(enter(&f, 0, t.vp[0] | VCPU_AND_FLAGS_RESUME_L1_MASK, &io), TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	/* associated with LP 0 by VP.INIT */
	CHECK_EQ(enter(&f, 1, t.vp[0], &io), TDX_VCPU_ASSOCIATED);
	/* the host shifted the TSC */
	REQUIRE_EQ(plat_rdmsr(f.p, 0, MSR_IA32_TSC_ADJUST, &adj), 0);
	plat_wrmsr(f.p, 0, MSR_IA32_TSC_ADJUST, adj + 1);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_INCONSISTENT_MSR | MSR_IA32_TSC_ADJUST);
	plat_wrmsr(f.p, 0, MSR_IA32_TSC_ADJUST, adj);
	/* BOOT_NT4 limits CPUID: refused before anything else */
	REQUIRE_EQ(plat_rdmsr(f.p, 0, MSR_IA32_MISC_ENABLE, &misc), 0);
	plat_wrmsr(f.p, 0, MSR_IA32_MISC_ENABLE, misc | (UINT64_C(1) << 22));
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_LIMIT_CPUID_MAXVAL_SET);
	plat_wrmsr(f.p, 0, MSR_IA32_MISC_ENABLE, misc);
	/* TDH.MEM.TRACK holds the epoch lock */
	REQUIRE_EQ(module_debug_td_lock(f.p, MODULE_DEBUG_TD_EPOCH, t.td.tdr, 0, true), 0);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_OPERAND_BUSY | OPERAND_ID_TD_EPOCH);
	REQUIRE_EQ(module_debug_td_lock(f.p, MODULE_DEBUG_TD_EPOCH, t.td.tdr, 0, false), 0);
	CHECK_EQ(g.runs, 0u); /* no failed entry ran the guest */
	/* a platform without a guest engine cannot run a TD */
	plat_set_guest_engine(f.p, NULL, NULL);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_SEAMCALL_VMFAILINVALID);
	plat_set_guest_engine(f.p, &guest_engine, &g);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), VMEXIT_REASON_TDCALL);
	/* a vCPU that was created but never initialised */
	bare = fx_page(&f);
	REQUIRE_EQ(tdh_vp_create(f.h, 0, t.td.tdr, bare), TDX_SUCCESS);
	CHECK_EQ(enter(&f, 0, bare, &io), TDX_TDCX_NUM_INCORRECT);
	CHECK(fx_td1_down(&f, &t, bare));
	fx_destroy(&f);
}

/* run 0: check the reset state, TDVMCALL; run 1: see KVM's answer, a bad GPR_SELECT and an
 * unknown TDCALL leaf (both answered in the guest), then TDVMCALL again while TRACK runs on
 * another LP; run 2: EPT violation; run 3: triple fault. */
static void step_roundtrip(struct guest *g, unsigned run, unsigned lp, struct plat_guest_regs *r,
			   struct plat_guest_exit *ex)
{
	switch (run) {
	case 0:
		vmcall(r, ex, 0x10, 0x1212);
		break;
	case 1: /* bad control: RSP selected -> TDX_OPERAND_INVALID + RCX in the guest */
		r->gpr[GPR_RAX] = TDG_VP_VMCALL_LEAF;
		r->gpr[GPR_RCX] = 1u << GPR_RSP;
		ex->reason = VMEXIT_REASON_TDCALL;
		ex->instr_len = 4;
		break;
	case 2: /* a TDCALL leaf the module does not serve (TDG.SERVTD.RD: no service TDs) */
		r->gpr[GPR_RAX] = TDG_SERVTD_RD_LEAF;
		ex->reason = VMEXIT_REASON_TDCALL;
		ex->instr_len = 4;
		break;
	case 3:
		/* inside the TD: the vCPU counts in its epoch, so a second TRACK must wait */
		for (unsigned e = 0; e < 2; e++) { /* REFCOUNT[0..1]: one slot per epoch parity */
			uint64_t c = 0;
			tdh_mng_rd(g->f->h, lp + 1, g->tdr, MD_TD_FIELDS_REFCOUNT_FIELD_ID + e, &c);
			g->refcount_inside += c;
		}
		g->track1 = tdh_mem_track(g->f->h, lp + 1, g->tdr);
		g->track2 = tdh_mem_track(g->f->h, lp + 1, g->tdr);
		vmcall(r, ex, 0x20, 0);
		break;
	case 4:
		ex->reason = 48; /* EPT violation */
		ex->qualification = 0x181;
		ex->gpa = 0x123000;
		break;
	default:
		ex->reason = VMEXIT_REASON_TRIPLE_FAULT;
		break;
	}
}

TEST(vp_enter_tdvmcall_roundtrip_and_exits)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g = { .step = step_roundtrip };
	struct tdx_regs io;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	g.f = &f, g.tdr = t.td.tdr;
	plat_set_guest_engine(f.p, &guest_engine, &g);
	/* first entry: the TD starts in TDH.VP.INIT's reset state */
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), VMEXIT_REASON_TDCALL);
	CHECK_EQ(g.seen[0].rip, UINT64_C(0xFFFFFFF0));
	CHECK_EQ(g.seen[0].gpr[GPR_RBX], 48u);        /* GPAW */
	CHECK_EQ(g.seen[0].gpr[GPR_RCX], 0x7000u);    /* TDH.VP.INIT's RCX */
	CHECK_EQ(g.seen[0].gpr[GPR_RSI], 0u);         /* vCPU index */
	/* the VMM sees the selected GPRs only */
	CHECK_EQ(io.r[TDX_REG_RCX], VMCALL_SELECT);
	CHECK_EQ(io.r[TDX_REG_R11], 0x10u);
	CHECK_EQ(io.r[TDX_REG_R12], 0x1212u);
	CHECK_EQ(io.r[TDX_REG_R13], 0x1313u);
	CHECK_EQ(io.r[TDX_REG_RDX], 0u);
	/* KVM answers in R10/R11; the guest resumes after its TDCALL with RAX = 0 */
	memset(&io, 0, sizeof(io));
	io.r[TDX_REG_RCX] = t.vp[0];
	io.r[TDX_REG_R10] = 0, io.r[TDX_REG_R11] = 0x5555, io.r[TDX_REG_RDX] = 0x9999;
	CHECK_EQ(tdh_vp_enter(f.h, 0, &io), VMEXIT_REASON_TDCALL);
	CHECK_EQ(g.seen[1].rip, UINT64_C(0xFFFFFFF4));
	CHECK_EQ(g.seen[1].gpr[GPR_RAX], TDX_SUCCESS);
	CHECK_EQ(g.seen[1].gpr[11], 0x5555u);
	CHECK_EQ(g.seen[1].gpr[GPR_RDX], 0xddddu); /* RDX was not selected: the guest keeps its own */
	CHECK_EQ(g.seen[2].gpr[GPR_RAX], TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	CHECK_EQ(g.seen[3].gpr[GPR_RAX], TDX_OPERAND_INVALID | OPERAND_ID_RAX);
	CHECK_EQ(g.runs, 4u); /* three guest stretches inside one TDH.VP.ENTER */
	CHECK_EQ(io.r[TDX_REG_R11], 0x20u);
	CHECK_EQ(g.refcount_inside, 1u);
	CHECK_EQ(g.track1, TDX_SUCCESS);
	CHECK_EQ(g.track2, TDX_PREVIOUS_TLB_EPOCH_BUSY);
	/* out of the TD, the epoch it entered in is empty again */
	CHECK_EQ(tdh_mem_track(f.h, 1, t.td.tdr), TDX_SUCCESS);
	/* an asynchronous exit: qualification (without the guest-linear bits 12:7, as
	 * tdx_ept_violation_exit_to_vmm clears them), GPA, other GPRs cleared */
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), 48u);
	CHECK_EQ(io.r[TDX_REG_RCX], 0x1u);
	CHECK_EQ(io.r[TDX_REG_R8], 0x123000u);
	CHECK_EQ(io.r[TDX_REG_R11], 0u);
	/* a triple fault disables the vCPU for good */
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_NON_RECOVERABLE_VCPU | VMEXIT_REASON_TRIPLE_FAULT);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), TDX_VCPU_STATE_INCORRECT);
	/* the engine flushes its TLB at the first run of an entry in a newer TLB epoch only:
	 * not within an entry (runs 1-3, though TRACK ran meanwhile), not in the same epoch
	 * (run 5), but after the TRACKs (run 4) */
	CHECK(!g.flush[1] && !g.flush[2] && !g.flush[3]);
	CHECK(g.flush[4]);
	CHECK(!g.flush[5]);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

/* Every register of the table: the guest writes its own value; after the exit the LP holds
 * what the data says, and the next entry gives the guest its value back. */
static uint64_t host_val(unsigned i) { return UINT64_C(0x1111000000000000) | (i + 1) * 0x10101; }
static uint64_t guest_val(unsigned i) { return UINT64_C(0x2222000000000000) | (i + 1) * 0x20202 | 0xFFFF; }


static uint64_t seen_second[TD_EXIT_STATE_COUNT];

static void step_clobber(struct guest *g, unsigned run, unsigned lp, struct plat_guest_regs *r,
			 struct plat_guest_exit *ex)
{
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		if (run == 1)
			seen_second[i] = fx_lp_get(g->f->p, lp, &td_exit_state[i]);
		fx_lp_set(g->f->p, lp, &td_exit_state[i], guest_val(i));
	}
	vmcall(r, ex, 0x10, 0);
}

TEST(vp_enter_td_exit_leaves_lp_state_as_data_says)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g = { .step = step_clobber };
	struct tdx_regs io;
	uint64_t xfam = 0x3; /* fx_td_params_default */

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	g.f = &f, g.tdr = t.td.tdr;
	plat_set_guest_engine(f.p, &guest_engine, &g);
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		fx_lp_set(f.p, 0, &td_exit_state[i], host_val(i));
	REQUIRE_EQ(enter(&f, 0, t.vp[0], &io), VMEXIT_REASON_TDCALL);
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		const struct td_exit_state_item *it = &td_exit_state[i];
		uint64_t want;

		if (it->when != TD_EXIT_WHEN_ALWAYS) /* no TSX, WAITPKG or PERFMON in this TD */
			want = host_val(i);
		else if (it->after == TD_EXIT_AFTER_VALUE)
			want = it->value;
		else if (it->after == TD_EXIT_AFTER_AND_MASK)
			want = guest_val(i) & it->value;
		else if (it->after == TD_EXIT_AFTER_XFAM_AND)
			want = xfam & it->value;
		else
			want = guest_val(i);
		if (fx_lp_get(f.p, 0, it) != want)
			test_fail(__FILE__, __LINE__, "%s after the exit: 0x%llx", it->name, (unsigned long long)fx_lp_get(f.p, 0, it));
	}
	/* the second entry restores the TD's own values */
	REQUIRE_EQ(enter(&f, 0, t.vp[0], &io), VMEXIT_REASON_TDCALL);
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		if (td_exit_state[i].when == TD_EXIT_WHEN_ALWAYS && seen_second[i] != guest_val(i))
			test_fail(__FILE__, __LINE__, "%s on re-entry: 0x%llx", td_exit_state[i].name, (unsigned long long)seen_second[i]);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

/* The TDCALL dispatcher: unknown leaves, versions above the leaf's maximum and reserved bits
 * of RAX are TDX_OPERAND_INVALID in the guest, which runs on. */
TEST(tdcall_dispatcher_rejects_unknown_leaves)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	io = (struct plat_guest_regs){ .gpr = { 13 } }; /* no leaf 13 */
	CHECK_EQ(fx_tdcall(&f, &t, &io), VMEXIT_REASON_TDCALL);
	CHECK_EQ(io.gpr[GPR_RAX], TDX_OPERAND_INVALID | OPERAND_ID_RAX);
	io = (struct plat_guest_regs){ .gpr = { 0x10000 } }; /* TDG.VP.VMCALL version 1 */
	CHECK_EQ(fx_tdcall(&f, &t, &io), VMEXIT_REASON_TDCALL);
	CHECK_EQ(io.gpr[GPR_RAX], TDX_OPERAND_INVALID | OPERAND_ID_RAX);
	io = (struct plat_guest_regs){ .gpr = { UINT64_C(1) << 40 } }; /* reserved bits */
	CHECK_EQ(fx_tdcall(&f, &t, &io), VMEXIT_REASON_TDCALL);
	CHECK_EQ(io.gpr[GPR_RAX], TDX_OPERAND_INVALID | OPERAND_ID_RAX);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

/* The fixture's private-page helper: PAGE.ADD while building, PAGE.AUG once finalized, and a
 * teardown that reclaims every page. */
TEST(fixture_td1_map_add_and_aug)
{
	struct fx f;
	struct fx_td1 t;
	struct tdx_module_args a;
	uint8_t content[4096];

	memset(content, 0xa5, sizeof(content));
	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, false));
	CHECK_EQ(fx_td1_map(&f, &t, 0x200000, content), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mr_finalize(f.h, 0, t.td.tdr), TDX_SUCCESS);
	CHECK_EQ(fx_td1_map(&f, &t, 0x201000, NULL), TDX_SUCCESS); /* same SEPT path */
	REQUIRE_EQ(t.nr_extra, 5u);
	CHECK_EQ(tdh_phymem_page_rdmd(f.h, 0, t.extra[t.nr_extra - 1], &a), TDX_SUCCESS);
	CHECK_EQ(a.rcx & 0xff, PT_REG);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

/* The engine's TDCALL fast path: register-only leaves are served in place with the same
 * result as through the VM exit; anything else (VP.VMCALL, leaves touching memory) declines. */
struct fast_guest {
	uint64_t info_rcx, info_r9, info_rax, unknown_rax;
	bool vmcall_fast, report_fast, info_fast, unknown_fast;
};

static void fast_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		     const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct fast_guest *g = ctx;
	struct plat_guest_regs q = *r;

	q.gpr[GPR_RAX] = TDG_VP_INFO_LEAF;
	g->info_fast = mem->tdcall_fast(mem->ctx, &q);
	g->info_rax = q.gpr[GPR_RAX], g->info_rcx = q.gpr[GPR_RCX], g->info_r9 = q.gpr[9];
	q.gpr[GPR_RAX] = TDG_VP_VMCALL_LEAF;
	g->vmcall_fast = mem->tdcall_fast(mem->ctx, &q);
	q.gpr[GPR_RAX] = TDG_MR_REPORT_LEAF;
	g->report_fast = mem->tdcall_fast(mem->ctx, &q);
	q.gpr[GPR_RAX] = TDG_VP_INFO_LEAF | (UINT64_C(1) << 40); /* reserved RAX bits */
	g->unknown_fast = mem->tdcall_fast(mem->ctx, &q);
	g->unknown_rax = q.gpr[GPR_RAX];
	vmcall(r, ex, 0x10, 0);
}

static const struct plat_guest_engine fast_engine = { fast_run };

TEST(vp_enter_tdcall_fast_path)
{
	struct fx f;
	struct fx_td1 t;
	struct fast_guest g = { 0 };
	struct tdx_regs io;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_td1_up(&f, &t, true));
	plat_set_guest_engine(f.p, &fast_engine, &g);
	CHECK_EQ(enter(&f, 0, t.vp[0], &io), VMEXIT_REASON_TDCALL);
	CHECK(g.info_fast);
	CHECK_EQ(g.info_rax, TDX_SUCCESS);
	CHECK_EQ(g.info_rcx, 48u); /* GPAW */
	CHECK_EQ(g.info_r9, 0u);   /* VCPU_INDEX */
	CHECK(!g.vmcall_fast);
	CHECK(!g.report_fast);
	CHECK(g.unknown_fast); /* still register-only: the dispatcher's own refusal */
	CHECK_EQ(g.unknown_rax, TDX_OPERAND_INVALID | OPERAND_ID_RAX);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}
