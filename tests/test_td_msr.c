/* The TD's MSR virtualization: the VMX MSR bitmap TDH.MNG.INIT builds from the MSR table
 * (data/module/td-msr-virtualization.json) as the engine sees it (plat_guest_mem.msr_bitmap),
 * and what the module does on a RDMSR/WRMSR VM exit: #VE (VE_INFO through TDG.VP.VEINFO.GET),
 * #GP(0), or an emulated value. A scripted guest makes one MSR exit, then reads VE_INFO, then
 * leaves with TDG.VP.VMCALL. */
#include <string.h>

#include "fixture.h"
#include "td_guest_events.h"
#include "td_msr_table.h"

#define RAX 0
#define RCX 1
#define RDX 2
#define R10 10
#define EXIT_RDMSR 31u
#define EXIT_WRMSR 32u
#define EXIT_TDCALL 77u
#define MSR_INSTR_LEN 2u
#define RFLAGS_RF (UINT64_C(1) << 16)
#define EFER_NXE (UINT64_C(1) << 11)
#define MSR_NOT_IN_TABLE 0x3Au /* IA32_FEATURE_CONTROL: not in the table, every access exits */

/* ---- a scripted guest: MSR exit, TDG.VP.VEINFO.GET, TDG.VP.VMCALL ---- */
struct guest {
	unsigned run;
	bool write;
	uint32_t msr;
	uint64_t value;                 /* WRMSR: EDX:EAX */
	bool have_bitmap;
	uint8_t bitmap[TD_MSR_BITMAP_SIZE];
	struct plat_guest_regs seen[3]; /* registers at the start of each run */
};

static void guest_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		      const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct guest *g = ctx;

	(void)p, (void)lp, (void)tag;
	if (g->run < 3)
		g->seen[g->run] = *r;
	if (g->run == 0 && mem->msr_bitmap) {
		memcpy(g->bitmap, mem->msr_bitmap, sizeof(g->bitmap));
		g->have_bitmap = true;
	}
	r->event_inject = 0; /* delivered */
	if (g->run++ == 0) {
		r->gpr[RCX] = g->msr;
		r->gpr[RAX] = g->value & 0xFFFFFFFFu;
		r->gpr[RDX] = g->value >> 32;
		ex->reason = g->write ? EXIT_WRMSR : EXIT_RDMSR;
		ex->instr_len = MSR_INSTR_LEN;
		return;
	}
	r->gpr[RAX] = g->run == 2 ? TDG_VP_VEINFO_GET_LEAF : TDG_VP_VMCALL_LEAF;
	r->gpr[RCX] = 0;
	ex->reason = EXIT_TDCALL;
	ex->instr_len = 4;
}

static const struct plat_guest_engine engine = { guest_run };

static uint64_t msr_access(struct fx *f, struct fx_td1 *t, struct guest *g, bool write, uint32_t msr,
			   uint64_t value)
{
	struct tdx_regs vmm;

	memset(g, 0, sizeof(*g));
	g->write = write, g->msr = msr, g->value = value;
	plat_set_guest_engine(f->p, &engine, g);
	memset(&vmm, 0, sizeof(vmm));
	vmm.r[TDX_REG_RCX] = t->vp[0];
	return tdh_vp_enter(f->h, 0, &vmm);
}

static bool td_up(struct fx *f, struct fx_td1 *t, uint64_t attributes)
{
	struct td_params p;

	fx_td_params_default(&p);
	p.attributes |= attributes;
	return fx_create(f) && fx_td1_up_params(f, t, &p, true);
}

/* The bitmap bit (SDM layout) of msr: true = exit. */
static bool bit(const struct guest *g, uint32_t msr, bool write)
{
	bool high = msr >= 0xC0000000u;
	uint32_t idx = high ? msr - 0xC0000000u : msr;
	uint32_t off = (write ? 2048u : 0u) + (high ? 1024u : 0u) + idx / 8u;

	return (g->bitmap[off] >> (idx % 8u)) & 1u;
}

/* After the MSR exit: the guest's registers (seen[1]) and VE_INFO (seen[2], from VEINFO.GET). */
static bool completed_in_guest(struct fx *f, struct fx_td1 *t, struct guest *g, bool write, uint32_t msr,
			       uint64_t value)
{
	return msr_access(f, t, g, write, msr, value) == EXIT_TDCALL && g->run == 3;
}

static void check_ve(const struct guest *g, uint32_t reason)
{
	CHECK_EQ(g->seen[1].event_inject, TD_GUEST_INTR_INFO_VE);
	CHECK_EQ(g->seen[1].rip, g->seen[0].rip); /* the #VE handler skips the instruction */
	CHECK_EQ(g->seen[2].gpr[RAX], TDX_SUCCESS);
	CHECK_EQ(g->seen[2].gpr[RCX], reason);
	CHECK_EQ(g->seen[2].gpr[R10] & 0xFFFFFFFFu, MSR_INSTR_LEN);
}

static void check_gp(const struct guest *g)
{
	CHECK_EQ(g->seen[1].event_inject, TD_GUEST_INTR_INFO_GP);
	CHECK_EQ(g->seen[1].event_error_code, 0);
	CHECK(g->seen[1].rflags & RFLAGS_RF);
	CHECK_EQ(g->seen[1].rip, g->seen[0].rip); /* a fault: RIP on the RDMSR/WRMSR */
	CHECK_EQ(g->seen[2].gpr[RAX], TDX_NO_VALID_VE_INFO); /* no #VE came with it */
}

static void check_read(const struct guest *g, uint64_t value)
{
	CHECK_EQ(g->seen[1].event_inject, 0);
	CHECK_EQ(g->seen[1].rip, g->seen[0].rip + MSR_INSTR_LEN);
	CHECK_EQ(g->seen[1].gpr[RAX], value & 0xFFFFFFFFu);
	CHECK_EQ(g->seen[1].gpr[RDX], value >> 32);
}

/* ---- the bitmap ---- */

TEST(td_msr_bitmap_fixed_entries)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE(completed_in_guest(&f, &t, &g, false, MSR_NOT_IN_TABLE, 0));
	REQUIRE(g.have_bitmap);
	CHECK(!bit(&g, TD_MSR_IA32_SPEC_CTRL, false)); /* FIXED_0 both ways */
	CHECK(!bit(&g, TD_MSR_IA32_SPEC_CTRL, true));
	CHECK(!bit(&g, TD_MSR_IA32_TIME_STAMP_COUNTER, false)); /* read native, write exits */
	CHECK(bit(&g, TD_MSR_IA32_TIME_STAMP_COUNTER, true));
	CHECK(bit(&g, TD_MSR_IA32_ARCH_CAPABILITIES, false)); /* read emulated, write native (#GP by the CPU) */
	CHECK(!bit(&g, TD_MSR_IA32_ARCH_CAPABILITIES, true));
	CHECK(!bit(&g, TD_MSR_IA32_EFER, false)); /* high range */
	CHECK(bit(&g, TD_MSR_IA32_EFER, true));
	CHECK(!bit(&g, TD_MSR_IA32_LSTAR, false));
	CHECK(!bit(&g, TD_MSR_IA32_LSTAR, true));
	CHECK(!bit(&g, TD_MSR_IA32_X2APIC_TPR, false));
	CHECK(bit(&g, MSR_NOT_IN_TABLE, false)); /* not in the table: exits */
	CHECK(bit(&g, MSR_NOT_IN_TABLE, true));
	CHECK(bit(&g, TD_MSR_IA32_VMX_BASIC, false));
	fx_destroy(&f);
}

/* DYN_PERFMON: native with ATTRIBUTES.PERFMON, an exit without; DYN_XFAM_CET: XFAM default. */
TEST(td_msr_bitmap_dynamic_perfmon)
{
	struct fx f;
	struct fx_td1 t;
	struct guest off, on;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE(completed_in_guest(&f, &t, &off, false, MSR_NOT_IN_TABLE, 0));
	fx_destroy(&f);
	REQUIRE(td_up(&f, &t, TD_ATTRIBUTES_PERFMON_MASK));
	REQUIRE(completed_in_guest(&f, &t, &on, false, MSR_NOT_IN_TABLE, 0));
	fx_destroy(&f);
	REQUIRE(off.have_bitmap && on.have_bitmap);

	CHECK(bit(&off, TD_MSR_IA32_MISC_ENABLE, false));
	CHECK(!bit(&on, TD_MSR_IA32_MISC_ENABLE, false));
	CHECK(bit(&off, TD_MSR_IA32_MISC_ENABLE, true)); /* FIXED_1 write either way */
	CHECK(bit(&on, TD_MSR_IA32_MISC_ENABLE, true));
	for (uint32_t m = TD_MSR_IA32_PMCX; m < TD_MSR_IA32_PMCX + 8; m++) {
		CHECK(bit(&off, m, false) && bit(&off, m, true));
		CHECK(!bit(&on, m, false) && !bit(&on, m, true));
	}
	CHECK(bit(&off, TD_MSR_IA32_PERF_GLOBAL_CTRL, true));
	CHECK(!bit(&on, TD_MSR_IA32_PERF_GLOBAL_CTRL, true));
	/* DYN_OTHER: IA32_PERF_CAPABILITIES reads natively only with PERFMON and XFAM.PT */
	CHECK(bit(&on, TD_MSR_IA32_PERF_CAPABILITIES, false));
	CHECK(!bit(&on, TD_MSR_IA32_PERF_CAPABILITIES, true)); /* DYN_PERFMON write */
	/* XFAM 0x3 has no CET: its MSRs exit in both TDs */
	CHECK(bit(&on, TD_MSR_IA32_S_CET, false));
}

/* ---- RDMSR/WRMSR exits ---- */

TEST(td_msr_rdmsr_ve_entry_injects_ve)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_IA32_VMX_PINBASED_CTLS, 0));
	check_ve(&g, EXIT_RDMSR);
	REQUIRE(completed_in_guest(&f, &t, &g, false, MSR_NOT_IN_TABLE, 0));
	check_ve(&g, EXIT_RDMSR);
	fx_destroy(&f);
}

TEST(td_msr_rdmsr_gp_entry_injects_gp)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_IA32_SMBASE, 0));
	check_gp(&g);
	/* DYN_PERFMON without PERFMON: #GP for both directions */
	REQUIRE(completed_in_guest(&f, &t, &g, true, TD_MSR_IA32_PMCX, 1));
	check_gp(&g);
	/* a reserved x2APIC MSR */
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_X2APIC_RESERVED_840, 0));
	check_gp(&g);
	fx_destroy(&f);
}

TEST(td_msr_rdmsr_other_entries_are_emulated)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	uint64_t arch_cap;

	REQUIRE(td_up(&f, &t, TD_ATTRIBUTES_DEBUG_MASK)); /* the host reads TDCS fields of a debug TD */
	REQUIRE_EQ(tdh_mng_rd(f.h, 0, t.td.tdr, MD_TD_FIELDS_VIRTUAL_IA32_ARCH_CAPABILITIES_FIELD_ID, &arch_cap),
		   TDX_SUCCESS);
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_IA32_ARCH_CAPABILITIES, 0));
	check_read(&g, arch_cap);
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_IA32_XAPIC_DISABLE_STATUS, 0));
	check_read(&g, 1);
	/* IA32_MISC_ENABLE without PERFMON: Linux's verify_cpu reads it before it has an IDT */
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_IA32_MISC_ENABLE, 0));
	CHECK_EQ(g.seen[1].event_inject, 0);
	CHECK_EQ(g.seen[1].rip, g.seen[0].rip + MSR_INSTR_LEN);
	CHECK_EQ(g.seen[1].gpr[RAX] & (1u << TD_MSR_BIT_MISC_ENABLE_PERFMON_AVAILABLE), 0);
	CHECK(g.seen[1].gpr[RAX] & (1u << TD_MSR_BIT_MISC_ENABLE_PEBS_UNAVAILABLE));
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_IA32_PERF_CAPABILITIES, 0));
	check_read(&g, 0); /* no PERFMON */
	fx_destroy(&f);
}

TEST(td_msr_wrmsr_misc_enable_injects_ve)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE(completed_in_guest(&f, &t, &g, true, TD_MSR_IA32_MISC_ENABLE, 1));
	check_ve(&g, EXIT_WRMSR);
	fx_destroy(&f);
}

/* IA32_EFER writes: SCE may change (emulated), anything else is a #VE. */
TEST(td_msr_wrmsr_efer)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	uint64_t efer;

	REQUIRE(td_up(&f, &t, 0));
	REQUIRE(completed_in_guest(&f, &t, &g, false, MSR_NOT_IN_TABLE, 0));
	efer = g.seen[0].sys.efer;
	REQUIRE(completed_in_guest(&f, &t, &g, true, TD_MSR_IA32_EFER, efer ^ (1u << TD_MSR_BIT_EFER_SCE)));
	CHECK_EQ(g.seen[1].event_inject, 0);
	CHECK_EQ(g.seen[1].rip, g.seen[0].rip + MSR_INSTR_LEN);
	CHECK_EQ(g.seen[1].sys.efer, efer ^ (1u << TD_MSR_BIT_EFER_SCE));
	efer ^= 1u << TD_MSR_BIT_EFER_SCE;
	REQUIRE(completed_in_guest(&f, &t, &g, true, TD_MSR_IA32_EFER, efer ^ EFER_NXE));
	CHECK_EQ(g.seen[0].sys.efer, efer); /* the emulated write stayed */
	check_ve(&g, EXIT_WRMSR);
	fx_destroy(&f);
}

/* IA32_DEBUGCTL writes (wrmsr_ia32_debugctl): reserved bits #GP(0), TR without BTS #VE, a
 * valid value lands in the TD VMCS and reads back (EN_UNCORE_PMI aside). */
TEST(td_msr_wrmsr_debugctl)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	const uint64_t bus_lock_detect = UINT64_C(1) << 2;

	REQUIRE(td_up(&f, &t, 0));
	msr_access(&f, &t, &g, true, TD_MSR_IA32_DEBUGCTL, UINT64_C(1) << TD_MSR_BIT_DEBUGCTL_RESERVED_0_FIRST);
	REQUIRE(g.run == 3);
	check_gp(&g);
	msr_access(&f, &t, &g, true, TD_MSR_IA32_DEBUGCTL, UINT64_C(1) << TD_MSR_BIT_DEBUGCTL_RESERVED_1_FIRST);
	check_gp(&g);
	REQUIRE(completed_in_guest(&f, &t, &g, true, TD_MSR_IA32_DEBUGCTL, UINT64_C(1) << TD_MSR_BIT_DEBUGCTL_TR));
	check_ve(&g, EXIT_WRMSR);
	REQUIRE(completed_in_guest(&f, &t, &g, true, TD_MSR_IA32_DEBUGCTL, bus_lock_detect));
	CHECK_EQ(g.seen[1].event_inject, 0);
	CHECK_EQ(g.seen[1].rip, g.seen[0].rip + MSR_INSTR_LEN);
	REQUIRE(completed_in_guest(&f, &t, &g, false, TD_MSR_IA32_DEBUGCTL, 0));
	check_read(&g, bus_lock_detect);
	fx_destroy(&f);
}
