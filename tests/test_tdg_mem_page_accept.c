/* TDG.MEM.PAGE.ACCEPT and the module's #VE: a scripted guest runs TDCALLs and EPT-violation
 * VM exits; the checks look at what the guest sees (RAX, RIP, injected event, VE_INFO), what
 * the VMM sees on a TD exit (RCX qualification, RDX extended qualification, R8 GPA), the SEPT
 * entry through TDH.MEM.SEPT.RD and the page contents under the TD's KeyID. */
#include <string.h>

#include "fixture.h"
#include "module/module_debug.h"
#include "td_guest_events.h"

#define RAX 0
#define RCX 1
#define ACCEPT(gpa, level) ((gpa) | (level))
#define GPA_4K UINT64_C(0x10000)
#define GPA_2M UINT64_C(0x40000000)
#define SZ_2M_T UINT64_C(0x200000)
#define HPA_BITS UINT64_C(0x000FFFFFFFFFF000)
#define EXIT_EPT_VIOLATION 48u
#define EXIT_TDCALL 77u
/* SEPT_ENTRY_ARCH_INFO (TDH.MEM.SEPT.RD RDX): level 2:0, public state 15:8. */
#define ARCH_STATE(rdx) (((rdx) >> 8) & 0xFF)

/* ---- a scripted guest ---- */
enum step_kind { STEP_VMCALL, STEP_TDCALL, STEP_EPT_VIOLATION };
struct step {
	enum step_kind kind;
	uint64_t rax, rcx;      /* TDCALL */
	uint64_t gpa, qual;     /* EPT violation */
};
struct guest {
	unsigned run, nsteps;
	struct step steps[4];
	struct plat_guest_regs seen[6]; /* the guest's registers at the start of each run */
};

static void guest_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		      const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct guest *g = ctx;
	const struct step *s = g->run < g->nsteps ? &g->steps[g->run] : NULL;

	(void)p, (void)lp, (void)tag;
	if (g->run < 6)
		g->seen[g->run] = *r;
	g->run++;
	r->event_inject = 0; /* delivered */
	if (s && s->kind == STEP_EPT_VIOLATION) {
		ex->reason = EXIT_EPT_VIOLATION;
		ex->qualification = s->qual;
		ex->gpa = s->gpa;
		return;
	}
	r->gpr[RAX] = s ? s->rax : TDG_VP_VMCALL_LEAF;
	r->gpr[RCX] = s ? s->rcx : 0; /* TDG.VP.VMCALL selecting no GPR */
	ex->reason = EXIT_TDCALL;
	ex->instr_len = 4;
}

static const struct plat_guest_engine engine = { guest_run };

static uint64_t enter(struct fx *f, struct fx_td1 *t, struct guest *g, struct tdx_regs *vmm)
{
	g->run = 0;
	plat_set_guest_engine(f->p, &engine, g);
	memset(vmm, 0, sizeof(*vmm));
	vmm->r[TDX_REG_RCX] = t->vp[0];
	return tdh_vp_enter(f->h, 0, vmm);
}

/* One TDCALL, then TDG.VP.VMCALL: *rax_out = the guest's RAX after the TDCALL. */
static uint64_t tdcall(struct fx *f, struct fx_td1 *t, uint64_t rax, uint64_t rcx, struct guest *g,
		       struct tdx_regs *vmm)
{
	memset(g, 0, sizeof(*g));
	g->nsteps = 1;
	g->steps[0] = (struct step){ STEP_TDCALL, rax, rcx, 0, 0 };
	return enter(f, t, g, vmm);
}

static uint64_t accept(struct fx *f, struct fx_td1 *t, uint64_t page_info, struct guest *g, struct tdx_regs *vmm)
{
	return tdcall(f, t, TDG_MEM_PAGE_ACCEPT_LEAF, page_info, g, vmm);
}

/* The guest's RAX after an accept that completed in the guest. */
static uint64_t accept_status(struct fx *f, struct fx_td1 *t, uint64_t page_info)
{
	struct guest g;
	struct tdx_regs vmm;

	if (accept(f, t, page_info, &g, &vmm) != EXIT_TDCALL || g.run != 2)
		return UINT64_MAX;
	return g.seen[1].gpr[RAX];
}

/* ---- TD setup ---- */
static bool td_up(struct fx *f, struct fx_td1 *t, uint64_t attributes)
{
	struct td_params p;

	fx_td_params_default(&p);
	p.attributes |= attributes;
	return fx_create(f) && fx_td1_up_params(f, t, &p, true);
}

static uint64_t sept_add(struct fx *f, struct fx_td1 *t, uint64_t gpa, unsigned top, unsigned bottom)
{
	struct tdx_module_args a;

	for (unsigned level = top; level >= bottom; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		uint64_t st = tdh_mem_sept_add(f->h, 0, t->td.tdr, gpa & ~(span - 1), level, fx_page(f), &a);
		if (st && (st & ~UINT64_C(0xFFFFFFFF)) != TDX_EPT_ENTRY_STATE_INCORRECT)
			return st;
	}
	return TDX_SUCCESS;
}

/* A PENDING 2 MiB page at gpa: its host address. */
static uint64_t aug_2m(struct fx *f, struct fx_td1 *t, uint64_t gpa)
{
	struct tdx_module_args a;
	uint64_t chunk = host_alloc_phys(f->h, SZ_2M_T, SZ_2M_T, 0);

	if (!chunk || sept_add(f, t, gpa, 3, 2) || tdh_mem_page_aug(f->h, 0, t->td.tdr, gpa, 1, chunk, &a))
		return 0;
	return chunk;
}

static uint64_t sept_rd(struct fx *f, struct fx_td1 *t, uint64_t gpa, unsigned level, uint64_t *rdx)
{
	struct tdx_module_args a = { 0 };

	if (tdh_mem_sept_rd(f->h, 0, t->td.tdr, gpa, level, &a))
		return UINT64_MAX;
	if (rdx)
		*rdx = a.rdx;
	return a.rcx;
}

/* Host bytes written into a page before the guest accepts it. */
static void scribble(struct fx *f, uint64_t hpa)
{
	uint8_t junk[4096];

	memset(junk, 0xA5, sizeof(junk));
	plat_host_write(f->p, hpa, junk, sizeof(junk));
}

/* The page reads as zeros under the TD's KeyID (and can be read so at all). */
static bool td_zero(struct fx *f, struct fx_td1 *t, uint64_t hpa)
{
	uint8_t *p;

	if (plat_seam_map(f->p, hpa, t->td.hkid, (void **)&p))
		return false;
	for (unsigned i = 0; i < 4096; i++)
		if (p[i])
			return false;
	return true;
}

static uint64_t eeq_accept(unsigned req, unsigned err_level, unsigned state, unsigned leaf)
{
	uint64_t info = ((uint64_t)req << TDACCEPT_VMX_EEQ_INFO_REQ_SEPT_LEVEL_SHIFT) |
			((uint64_t)err_level << TDACCEPT_VMX_EEQ_INFO_ERR_SEPT_LEVEL_SHIFT) |
			((uint64_t)state << TDACCEPT_VMX_EEQ_INFO_ERR_SEPT_STATE_SHIFT) |
			((uint64_t)leaf << TDACCEPT_VMX_EEQ_INFO_ERR_SEPT_IS_LEAF_SHIFT);

	return VMX_EEQ_TYPE_ACCEPT | (info << 32);
}

/* ---- TDG.MEM.PAGE.ACCEPT ---- */

TEST(tdg_accept_4k_pending_becomes_mapped_and_zeroed)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	struct tdx_regs vmm;
	uint64_t e, rdx, hpa;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_4K, NULL), TDX_SUCCESS);
	e = sept_rd(&f, &t, GPA_4K, 0, &rdx);
	hpa = e & HPA_BITS;
	REQUIRE(hpa != 0);
	CHECK_EQ(e & 7, 0); /* PENDING: no permissions */
	scribble(&f, hpa);
	CHECK(!td_zero(&f, &t, hpa)); /* host data, not the TD's */

	CHECK_EQ(accept(&f, &t, ACCEPT(GPA_4K, 0), &g, &vmm), EXIT_TDCALL);
	REQUIRE_EQ(g.run, 2u);
	CHECK_EQ(g.seen[1].gpr[RAX], TDX_SUCCESS);
	CHECK_EQ(g.seen[1].rip, g.seen[0].rip + 4); /* completed: RIP past the TDCALL */
	CHECK_EQ(g.seen[1].event_inject, 0);
	e = sept_rd(&f, &t, GPA_4K, 0, &rdx);
	CHECK_EQ(e & HPA_BITS, hpa);
	CHECK_EQ(e & 7, 7); /* MAPPED: RWX */
	CHECK(td_zero(&f, &t, hpa));

	/* accepting again: TDX_PAGE_ALREADY_ACCEPTED with the level in the details */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0)), TDX_PAGE_ALREADY_ACCEPTED + 0);
	/* a 2 MiB accept over a SEPT page of 4 KiB entries */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(0, 1)), TDX_PAGE_SIZE_MISMATCH + 1);
	CHECK(fx_td1_down(&f, &t, 0));
	fx_destroy(&f);
}

TEST(tdg_accept_operand_checks)
{
	struct fx f;
	struct fx_td1 t;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_4K, NULL), TDX_SUCCESS);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0) | 8), TDX_OPERAND_INVALID + OPERAND_ID_RCX); /* bits 11:3 */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0) | (UINT64_C(1) << 52)), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(0, 2)), TDX_OPERAND_INVALID + OPERAND_ID_RCX); /* 1 GiB */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 1)), TDX_OPERAND_INVALID + OPERAND_ID_RCX); /* not 2M aligned */
	/* shared (bit 47 with GPAW 48) and beyond the GPA width */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K | (UINT64_C(1) << 47), 0)), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K | (UINT64_C(1) << 48), 0)), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	/* nothing was accepted by the failed calls */
	CHECK_EQ(sept_rd(&f, &t, GPA_4K, 0, NULL) & 7, 0);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0)), TDX_SUCCESS);
	fx_destroy(&f);
}

/* A failed walk or a state ACCEPT cannot act on: an EPT-violation TD exit with the ACCEPT
 * extended qualification; the guest's TDCALL did not complete (RAX, RIP unchanged). */
TEST(tdg_accept_ept_violation_exits)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	struct tdx_regs vmm;
	struct tdx_module_args a;
	uint64_t rdx, rip, free_gpa = GPA_4K + 0x1000;

	REQUIRE(td_up(&f, &t, 0));
	/* no SEPT page below the root entry: the walk stops at level 3 (FREE, not a leaf) */
	CHECK_EQ(accept(&f, &t, ACCEPT(GPA_4K, 0), &g, &vmm), EXIT_EPT_VIOLATION);
	CHECK_EQ(g.run, 1u);
	CHECK_EQ(vmm.r[TDX_REG_RCX], EPT_VIOL_QUAL_DATA_WRITE);
	CHECK_EQ(vmm.r[TDX_REG_RDX], eeq_accept(0, 3, 0, 0));
	CHECK_EQ(vmm.r[TDX_REG_R8], GPA_4K);
	/* the next entry finds the guest still on the TDCALL, RAX still the leaf */
	rip = g.seen[0].rip;
	memset(&g, 0, sizeof(g));
	CHECK_EQ(enter(&f, &t, &g, &vmm), EXIT_TDCALL);
	CHECK_EQ(g.seen[0].rip, rip);
	CHECK_EQ(g.seen[0].gpr[RAX], TDG_MEM_PAGE_ACCEPT_LEAF);
	CHECK_EQ(g.seen[0].gpr[RCX], ACCEPT(GPA_4K, 0));

	/* FREE 4 KiB entry (SEPT pages present, nothing AUGed) */
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_4K, NULL), TDX_SUCCESS);
	CHECK_EQ(accept(&f, &t, ACCEPT(free_gpa, 0), &g, &vmm), EXIT_EPT_VIOLATION);
	CHECK_EQ(vmm.r[TDX_REG_RDX], eeq_accept(0, 0, 0, 0));
	CHECK_EQ(vmm.r[TDX_REG_R8], free_gpa);

	/* PENDING_BLOCKED: the host blocked the page before the guest accepted it */
	REQUIRE_EQ(tdh_mem_range_block(f.h, 0, t.td.tdr, GPA_4K, 0, &a), TDX_SUCCESS);
	REQUIRE(sept_rd(&f, &t, GPA_4K, 0, &rdx) != UINT64_MAX);
	CHECK_EQ(accept(&f, &t, ACCEPT(GPA_4K, 0), &g, &vmm), EXIT_EPT_VIOLATION);
	CHECK_EQ(vmm.r[TDX_REG_RDX], eeq_accept(0, 0, ARCH_STATE(rdx), 1));
	CHECK_EQ(vmm.r[TDX_REG_RCX], EPT_VIOL_QUAL_DATA_WRITE); /* no permissions found */
	fx_destroy(&f);
}

TEST(tdg_accept_2m)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	struct tdx_regs vmm;
	uint64_t chunk, rdx;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE((chunk = aug_2m(&f, &t, GPA_2M)) != 0);
	scribble(&f, chunk);
	scribble(&f, chunk + SZ_2M_T - 4096);
	/* 4 KiB inside a PENDING 2 MiB leaf: the walk stops at the leaf above the request */
	CHECK_EQ(accept(&f, &t, ACCEPT(GPA_2M + 0x3000, 0), &g, &vmm), EXIT_EPT_VIOLATION);
	REQUIRE(sept_rd(&f, &t, GPA_2M, 1, &rdx) != UINT64_MAX);
	CHECK_EQ(vmm.r[TDX_REG_RDX], eeq_accept(0, 1, ARCH_STATE(rdx), 1));
	CHECK_EQ(vmm.r[TDX_REG_R8], GPA_2M + 0x3000);

	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_2M, 1)), TDX_SUCCESS);
	CHECK_EQ(sept_rd(&f, &t, GPA_2M, 1, NULL), sept_rd(&f, &t, GPA_2M, 1, NULL) | 7);
	CHECK_EQ(sept_rd(&f, &t, GPA_2M, 1, NULL) & HPA_BITS, chunk);
	CHECK(td_zero(&f, &t, chunk));
	CHECK(td_zero(&f, &t, chunk + SZ_2M_T / 2));
	CHECK(td_zero(&f, &t, chunk + SZ_2M_T - 4096));
	/* MAPPED 2 MiB: both sizes are "already accepted", at the leaf's level */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_2M, 1)), TDX_PAGE_ALREADY_ACCEPTED + 1);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_2M + 0x5000, 0)), TDX_PAGE_ALREADY_ACCEPTED + 1);
	fx_destroy(&f);
}

/* With IA32_INTR_PENDING set the 2 MiB accept stops after one 4 KiB page, leaves RAX and RIP
 * so that the guest re-executes it, and later continues where it stopped. */
TEST(tdg_accept_2m_interrupted_and_resumed)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	struct tdx_regs vmm;
	uint64_t chunk, pending;
	uint8_t *p;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE((chunk = aug_2m(&f, &t, GPA_2M)) != 0);
	scribble(&f, chunk + 4096);
	pending = sept_rd(&f, &t, GPA_2M, 1, NULL);
	plat_wrmsr(f.p, 0, MSR_IA32_INTR_PENDING, 1);
	CHECK_EQ(accept(&f, &t, ACCEPT(GPA_2M, 1), &g, &vmm), EXIT_TDCALL);
	REQUIRE_EQ(g.run, 2u);
	CHECK_EQ(g.seen[1].gpr[RAX], TDG_MEM_PAGE_ACCEPT_LEAF); /* no status */
	CHECK_EQ(g.seen[1].rip, g.seen[0].rip);                 /* the TDCALL again */
	/* still PENDING for the host; like the real module's set_arch_septe_details_in_vmm_regs
	 * (it copies the entry before clearing the accept counter) TDH.MEM.SEPT.RD shows the
	 * progress in the HPA bits */
	CHECK_EQ(sept_rd(&f, &t, GPA_2M, 1, NULL), pending + 4096);
	CHECK(td_zero(&f, &t, chunk));                  /* page 0 done */
	CHECK(plat_seam_map(f.p, chunk + 4096, t.td.hkid, (void **)&p) != 0); /* page 1 not yet */
	/* each re-execution makes progress of one page while the interrupt stays pending */
	CHECK_EQ(accept(&f, &t, ACCEPT(GPA_2M, 1), &g, &vmm), EXIT_TDCALL);
	CHECK_EQ(g.seen[1].gpr[RAX], TDG_MEM_PAGE_ACCEPT_LEAF);
	CHECK(td_zero(&f, &t, chunk + 4096));
	CHECK(plat_seam_map(f.p, chunk + 2 * 4096, t.td.hkid, (void **)&p) != 0);
	CHECK_EQ(sept_rd(&f, &t, GPA_2M, 1, NULL), pending + 2 * 4096);
	/* a 4 KiB accept meanwhile: the walk stops at the pending 2 MiB leaf */
	CHECK_EQ(accept(&f, &t, ACCEPT(GPA_2M, 0), &g, &vmm), EXIT_EPT_VIOLATION);

	plat_wrmsr(f.p, 0, MSR_IA32_INTR_PENDING, 0);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_2M, 1)), TDX_SUCCESS);
	CHECK_EQ(sept_rd(&f, &t, GPA_2M, 1, NULL), pending | 7);
	CHECK(td_zero(&f, &t, chunk + 2 * 4096));
	CHECK(td_zero(&f, &t, chunk + SZ_2M_T - 4096));
	fx_destroy(&f);
}

/* The guest side never waits for a SEPT entry lock, and yields to a host leaf that lost a
 * race for it (TDHP), reporting plain TDX_OPERAND_BUSY. */
TEST(tdg_accept_entry_lock_busy_and_host_priority)
{
	struct fx f;
	struct fx_td1 t;
	struct tdx_module_args a;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_4K, NULL), TDX_SUCCESS);
	REQUIRE_EQ(module_debug_td_lock(f.p, MODULE_DEBUG_SEPT_ENTRY, t.td.tdr, GPA_4K, true), 0);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0)), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	/* a host leaf finds the entry locked and asks for priority */
	CHECK_EQ(tdh_mem_range_block(f.h, 0, t.td.tdr, GPA_4K, 0, &a), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	REQUIRE_EQ(module_debug_td_lock(f.p, MODULE_DEBUG_SEPT_ENTRY, t.td.tdr, GPA_4K, false), 0);
	/* the free entry is left to the host; the guest sees TDX_OPERAND_BUSY, not the HP variant */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0)), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0)), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	CHECK_EQ(sept_rd(&f, &t, GPA_4K, 0, NULL) & 7, 0);
	/* the host takes the lock (clearing TDHP); the guest's accept now works */
	CHECK_EQ(tdh_mem_range_block(f.h, 0, t.td.tdr, GPA_4K, 0, &a), TDX_SUCCESS);
	CHECK_EQ(tdh_mem_range_unblock(f.h, 0, t.td.tdr, GPA_4K, 0, &a) & ~UINT64_C(0xFFFFFFFF),
		 TDX_TLB_TRACKING_NOT_DONE);
	REQUIRE_EQ(tdh_mem_track(f.h, 0, t.td.tdr), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mem_range_unblock(f.h, 0, t.td.tdr, GPA_4K, 0, &a), TDX_SUCCESS);
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0)), TDX_SUCCESS);
	fx_destroy(&f);
}

/* ---- #VE on a guest access to a PENDING page ---- */

/* Where this module keeps VE_INFO in the TDVPR page: 1.5.01's offsets moved up by
 * TDVPS_VE_INFO_SHIFT (src/module/tdvps.h). TDG.VP.VEINFO.GET is the guest's way to read it. */
#define VE_INFO_STORE 0x80u

static uint64_t ve_info_u64(struct fx *f, struct fx_td1 *t, uint32_t off, unsigned size)
{
	uint8_t *p;
	uint64_t v = 0;

	if (plat_seam_map(f->p, t->vp[0], t->td.hkid, (void **)&p))
		return UINT64_MAX;
	memcpy(&v, p + VE_INFO_STORE + off, size);
	return v;
}

static void ept_violation_run(struct guest *g, uint64_t gpa, uint64_t qual, unsigned times)
{
	memset(g, 0, sizeof(*g));
	g->nsteps = times;
	for (unsigned i = 0; i < times; i++)
		g->steps[i] = (struct step){ STEP_EPT_VIOLATION, 0, 0, gpa, qual };
}

TEST(tdg_ve_on_pending_page_then_df)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	struct tdx_regs vmm;
	const uint64_t gpa = GPA_4K + 0x123, qual = 0x181; /* read, GLA valid, translation */

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_4K, NULL), TDX_SUCCESS);
	REQUIRE_EQ(ve_info_u64(&f, &t, VE_INFO_OFF_VALID, VE_INFO_SZ_VALID), 0);
	ept_violation_run(&g, gpa, qual, 2);
	/* both violations stay in the guest: #VE, then #DF because VE_INFO was not read yet */
	CHECK_EQ(enter(&f, &t, &g, &vmm), EXIT_TDCALL);
	REQUIRE_EQ(g.run, 3u);
	CHECK_EQ(g.seen[1].event_inject, TD_GUEST_INTR_INFO_VE);
	CHECK_EQ(g.seen[1].event_inject & 0xFF, 20u); /* #VE */
	CHECK(g.seen[1].rflags & TD_GUEST_RFLAGS_RF);
	CHECK_EQ(g.seen[2].event_inject, TD_GUEST_INTR_INFO_DF);
	CHECK_EQ(g.seen[2].event_inject & 0xFF, 8u); /* #DF */
	CHECK_EQ(g.seen[2].event_error_code, 0);
	/* VE_INFO holds the first violation, untouched by the second */
	CHECK_EQ(ve_info_u64(&f, &t, VE_INFO_OFF_VALID, VE_INFO_SZ_VALID), (uint32_t)VE_INFO_VALID);
	CHECK_EQ(ve_info_u64(&f, &t, VE_INFO_OFF_EXIT_REASON, VE_INFO_SZ_EXIT_REASON), EXIT_EPT_VIOLATION);
	CHECK_EQ(ve_info_u64(&f, &t, VE_INFO_OFF_EXIT_QUALIFICATION, VE_INFO_SZ_EXIT_QUALIFICATION), qual);
	CHECK_EQ(ve_info_u64(&f, &t, VE_INFO_OFF_GPA, VE_INFO_SZ_GPA), gpa);
	CHECK_EQ(ve_info_u64(&f, &t, VE_INFO_OFF_GLA, VE_INFO_SZ_GLA), 0);

	/* once accepted, a violation there is the VMM's: a TD exit, GPA and qualification
	 * without the page offset and the linear-address bits */
	CHECK_EQ(accept_status(&f, &t, ACCEPT(GPA_4K, 0)), TDX_SUCCESS);
	ept_violation_run(&g, gpa, qual, 1);
	CHECK_EQ(enter(&f, &t, &g, &vmm), EXIT_EPT_VIOLATION);
	CHECK_EQ(vmm.r[TDX_REG_R8], GPA_4K);
	CHECK_EQ(vmm.r[TDX_REG_RCX], qual & ~EPT_VIOL_QUAL_CLEARED_ON_TD_EXIT);
	CHECK_EQ(vmm.r[TDX_REG_RDX], 0);
	/* a shared GPA is the VMM's too */
	ept_violation_run(&g, GPA_4K | (UINT64_C(1) << 47), 0x2, 1);
	CHECK_EQ(enter(&f, &t, &g, &vmm), EXIT_EPT_VIOLATION);
	CHECK_EQ(vmm.r[TDX_REG_R8], GPA_4K | (UINT64_C(1) << 47));
	CHECK_EQ(vmm.r[TDX_REG_RDX], 0);
	fx_destroy(&f);
}

/* ATTRIBUTES.SEPT_VE_DISABLE: the pending page is a TD exit with EEQ PENDING_EPT_VIOLATION. */
TEST(tdg_pending_page_td_exit_with_sept_ve_disable)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	struct tdx_regs vmm;

	REQUIRE(td_up(&f, &t, TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK));
	REQUIRE_EQ(fx_td1_map(&f, &t, GPA_4K, NULL), TDX_SUCCESS);
	ept_violation_run(&g, GPA_4K + 8, 0x1, 1);
	CHECK_EQ(enter(&f, &t, &g, &vmm), EXIT_EPT_VIOLATION);
	CHECK_EQ(g.run, 1u);
	CHECK_EQ(vmm.r[TDX_REG_RDX], VMX_EEQ_TYPE_PENDING_EPT_VIOLATION);
	CHECK_EQ(vmm.r[TDX_REG_R8], GPA_4K);
	CHECK_EQ(ve_info_u64(&f, &t, VE_INFO_OFF_VALID, VE_INFO_SZ_VALID), 0);
	/* a never-mapped GPA: a plain EPT violation */
	ept_violation_run(&g, GPA_4K + 0x1000, 0x1, 1);
	CHECK_EQ(enter(&f, &t, &g, &vmm), EXIT_EPT_VIOLATION);
	CHECK_EQ(vmm.r[TDX_REG_RDX], 0);
	fx_destroy(&f);
}
