/* The CPUID VM exit the module answers in the guest (td_guest_exits.c): the TDCS value with
 * the dynamic fields of td_cpuid_exit() computed from the vCPU's state at that moment:
 * CPUID(1) initial APIC ID (VCPU_INDEX) and OSXSAVE (CR4), CPUID(7,0) OSPKE (CR4.PKE),
 * CPUID(0xD,0/1) EBX (the XSAVE area size of the components enabled on the LP), and
 * CPUID(0x80000001) SYSCALL (64-bit mode). A scripted guest makes one CPUID exit with the
 * control registers it is given, then leaves with TDG.VP.VMCALL. */
#include <string.h>

#include "fixture.h"

#define RAX 0
#define RCX 1
#define RDX 2
#define RBX 3
#define EXIT_CPUID 10u
#define EXIT_TDCALL 77u
#define CPUID_LEN 2u
#define CR4_OSXSAVE (UINT64_C(1) << 18)
#define CR4_PKE (UINT64_C(1) << 22)
#define EFER_LMA (UINT64_C(1) << 10)
#define EFER_LME (UINT64_C(1) << 8)
#define AR_L (UINT64_C(1) << 13)

struct guest {
	unsigned run;
	uint32_t leaf, subleaf;
	uint64_t cr4_or, cr4_andnot;
	bool leave_64bit; /* clear CS.L: compatibility mode */
	struct plat_guest_regs after; /* registers when the guest resumes after the CPUID */
};

static void guest_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
		      const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct guest *g = ctx;

	(void)p, (void)lp, (void)tag, (void)mem;
	/* long mode (the initial state is 32-bit protected mode); CS.L picks 64-bit or not */
	r->sys.efer |= EFER_LMA | EFER_LME;
	if (g->run++ == 0) {
		r->sys.cr4 = (r->sys.cr4 | g->cr4_or) & ~g->cr4_andnot;
		if (g->leave_64bit)
			r->sys.seg[PLAT_SEG_CS].ar &= ~AR_L;
		else
			r->sys.seg[PLAT_SEG_CS].ar |= AR_L;
		r->gpr[RAX] = g->leaf;
		r->gpr[RCX] = g->subleaf;
		ex->reason = EXIT_CPUID;
		ex->instr_len = CPUID_LEN;
		return;
	}
	g->after = *r;
	r->sys.seg[PLAT_SEG_CS].ar |= AR_L; /* TDCALL is 64-bit only */
	r->gpr[RAX] = TDG_VP_VMCALL_LEAF;
	r->gpr[RCX] = 0;
	ex->reason = EXIT_TDCALL;
	ex->instr_len = 4;
}

static const struct plat_guest_engine engine = { guest_run };

static bool cpuid_in_guest(struct fx *f, struct fx_td1 *t, struct guest *g, uint32_t leaf, uint32_t subleaf)
{
	struct tdx_regs vmm;

	g->run = 0, g->leaf = leaf, g->subleaf = subleaf;
	plat_set_guest_engine(f->p, &engine, g);
	memset(&vmm, 0, sizeof(vmm));
	vmm.r[TDX_REG_RCX] = t->vp[0];
	return tdh_vp_enter(f->h, 0, &vmm) == EXIT_TDCALL && g->run == 2 && g->after.event_inject == 0;
}

TEST(td_cpuid_exit_dynamic_fields)
{
	struct fx f;
	struct fx_td1 t;
	struct guest g;
	struct td_params p;

	fx_td_params_default(&p);
	REQUIRE(fx_create(&f) && fx_td1_up_params(&f, &t, &p, true));
	memset(&g, 0, sizeof(g));
	/* leaf 1: APIC ID = VCPU_INDEX (0), OSXSAVE follows CR4 both ways */
	g.cr4_or = CR4_OSXSAVE;
	REQUIRE(cpuid_in_guest(&f, &t, &g, 1, 0));
	CHECK_EQ((g.after.gpr[RBX] >> 24) & 0xFF, 0);
	CHECK(g.after.gpr[RCX] & (1u << 27));
	g.cr4_or = 0, g.cr4_andnot = CR4_OSXSAVE;
	REQUIRE(cpuid_in_guest(&f, &t, &g, 1, 0));
	CHECK(!(g.after.gpr[RCX] & (1u << 27)));
	/* leaf 7.0: OSPKE follows CR4.PKE */
	g.cr4_or = CR4_PKE, g.cr4_andnot = 0;
	REQUIRE(cpuid_in_guest(&f, &t, &g, 7, 0));
	CHECK(g.after.gpr[RCX] & (1u << 4));
	g.cr4_or = 0, g.cr4_andnot = CR4_PKE;
	REQUIRE(cpuid_in_guest(&f, &t, &g, 7, 0));
	CHECK(!(g.after.gpr[RCX] & (1u << 4)));
	/* leaf 0xD: with x87|SSE enabled the legacy area and header, 576 bytes, both formats */
	g.cr4_andnot = 0;
	REQUIRE(cpuid_in_guest(&f, &t, &g, 0xd, 0));
	CHECK_EQ(g.after.gpr[RBX], 576);
	REQUIRE(cpuid_in_guest(&f, &t, &g, 0xd, 1));
	CHECK_EQ(g.after.gpr[RBX], 576);
	/* 0x80000001: SYSCALL only in 64-bit mode */
	REQUIRE(cpuid_in_guest(&f, &t, &g, 0x80000001u, 0));
	CHECK(g.after.gpr[RDX] & (1u << 11));
	g.leave_64bit = true;
	REQUIRE(cpuid_in_guest(&f, &t, &g, 0x80000001u, 0));
	CHECK(!(g.after.gpr[RDX] & (1u << 11)));
	fx_destroy(&f);
}

/* The platform's CPUID(0xD) sizes follow the LP's XCR0: AVX (component 2) enlarges both. */
TEST(plat_cpuid_xsave_size_follows_xcr0)
{
	struct fx f;
	struct cpuid_regs r0, r1, avx;

	REQUIRE(fx_create(&f));
	plat_lp_reg_write(f.p, 0, PLAT_REG_XCR0, 0x3);
	plat_cpuid(f.p, 0, 0xd, 0, &r0);
	CHECK_EQ(r0.ebx, 576);
	plat_cpuid(f.p, 0, 0xd, 2, &avx);
	REQUIRE(avx.eax != 0);
	plat_lp_reg_write(f.p, 0, PLAT_REG_XCR0, 0x7);
	plat_cpuid(f.p, 0, 0xd, 0, &r0);
	plat_cpuid(f.p, 0, 0xd, 1, &r1);
	CHECK_EQ(r0.ebx, avx.ebx + avx.eax);
	CHECK_EQ(r1.ebx, 576 + avx.eax);
	fx_destroy(&f);
}
