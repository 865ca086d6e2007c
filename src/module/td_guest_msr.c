/* RDMSR/WRMSR VM exits of a running TD vCPU (the real module's td_rdmsr_exit and
 * td_wrmsr_exit): the access exited because the TD's MSR bitmap says so, and the MSR table
 * (data/module/td-msr-virtualization.json) says what follows: a #VE, a #GP(0), #GP(0) or #VE
 * by a CPUID feature of the TD, or an emulation of the MSR. The MSR number is the guest's ECX,
 * a WRMSR's value EDX:EAX; an emulated RDMSR returns EDX:EAX and the guest goes on after the
 * instruction. */
#include "td_exit_state.h"
#include "td_guest.h"
#include "td_msr.h"

#define BIT64(n) (UINT64_C(1) << (n))
#define LOW32(v) ((v) & UINT64_C(0xFFFFFFFF))
#define CPUID_XSAVE_LEAF 0xDu
#define CPUID_XSAVE_SUBLEAF_1 1u

static uint32_t msr_of(const struct td_guest *g)
{
	return (uint32_t)g->regs->gpr[GPR_RCX];
}

static uint64_t wrmsr_value(const struct td_guest *g)
{
	return (LOW32(g->regs->gpr[GPR_RDX]) << 32) | LOW32(g->regs->gpr[GPR_RAX]);
}

/* The instruction completed: EDX:EAX for a read (upper halves cleared, as RDMSR does). */
static void complete(struct td_guest *g, const struct plat_guest_exit *ex)
{
	g->regs->rip += ex->instr_len;
}

static void complete_read(struct td_guest *g, const struct plat_guest_exit *ex, uint64_t value)
{
	g->regs->gpr[GPR_RAX] = LOW32(value);
	g->regs->gpr[GPR_RDX] = value >> 32;
	complete(g, ex);
}

static uint64_t lp_msr(const struct td_guest *g, uint32_t msr)
{
	uint64_t v;

	return plat_rdmsr(g->m->plat, g->lp, msr, &v) ? 0 : v;
}

static bool perfmon(const struct td_guest *g)
{
	return (g->tdcs->attributes & TD_ATTRIBUTES_PERFMON_MASK) != 0;
}

/* Read with PERFMON clear (with PERFMON the read is native): the LP's value with the
 * performance-monitoring unit shown as unavailable. */
static void rdmsr_misc_enable(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint64_t v = lp_msr(g, TD_MSR_IA32_MISC_ENABLE);

	v &= ~BIT64(TD_MSR_BIT_MISC_ENABLE_PERFMON_AVAILABLE);
	v |= BIT64(TD_MSR_BIT_MISC_ENABLE_PEBS_UNAVAILABLE);
	complete_read(g, ex, v);
}

/* PERFMON clear: 0. PERFMON set (XFAM.PT clear, else the read is native): the platform value
 * without PEBS output to Intel PT, which the TD cannot use. */
static void rdmsr_perf_capabilities(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint64_t v = 0;

	if (perfmon(g))
		v = lp_msr(g, TD_MSR_IA32_PERF_CAPABILITIES) & ~BIT64(TD_MSR_BIT_PERF_CAPABILITIES_PEBS_OUTPUT_PT_AVAIL);
	complete_read(g, ex, v);
}

/* The guest value kept in the TD VMCS; uncore PMI is the LP's business and reads as 0. */
static void rdmsr_debugctl(struct td_guest *g, const struct plat_guest_exit *ex)
{
	/* while the vCPU runs its DEBUGCTL is on the LP (VM entry loaded it from the TD VMCS,
	 * VM exit to the VMM saves it back) */
	uint64_t v = plat_lp_state_read(g->m->plat, g->lp, true, TD_MSR_IA32_DEBUGCTL);

	complete_read(g, ex, v & ~BIT64(TD_MSR_BIT_DEBUGCTL_EN_UNCORE_PMI));
}

static void emulate_rdmsr(struct td_guest *g, const struct plat_guest_exit *ex)
{
	switch (msr_of(g)) {
	case TD_MSR_IA32_ARCH_CAPABILITIES:
		complete_read(g, ex, g->tdcs->virt_ia32_arch_capabilities);
		return;
	case TD_MSR_IA32_XAPIC_DISABLE_STATUS:
		complete_read(g, ex, BIT64(TD_MSR_BIT_XAPIC_DISABLE_STATUS_LEGACY_XAPIC_DISABLED));
		return;
	case TD_MSR_IA32_MISC_ENABLE: rdmsr_misc_enable(g, ex); return;
	case TD_MSR_IA32_PERF_CAPABILITIES: rdmsr_perf_capabilities(g, ex); return;
	case TD_MSR_IA32_DEBUGCTL: rdmsr_debugctl(g, ex); return;
	default:
		/* The VMX capability MSRs: the real module returns the TD's virtual values, which this
		 * module does not compute (their metadata fields read as NOT_READABLE too). A #VE lets
		 * the guest ask the VMM instead of reading an invented value. */
		td_guest_inject_ve_instr(g, ex);
		return;
	}
}

/* The IA32_XSS bits the CPU supports: CPUID(0xD, 1) ECX (low) and EDX (high), native. */
static uint64_t xss_supported(const struct td_guest *g)
{
	const struct cpuid_tables *ct = module_cpuid_tables(g->m);

	for (unsigned i = 0; i < ct->num_lookup; i++)
		if (ct->lookup[i].leaf == CPUID_XSAVE_LEAF && ct->lookup[i].subleaf == CPUID_XSAVE_SUBLEAF_1)
			return ((uint64_t)g->m->cpuid_native[i].edx << 32) | g->m->cpuid_native[i].ecx;
	return 0;
}

/* Only components the CPU supports in IA32_XSS and the TD's XFAM allows; written to the LP,
 * where the guest's IA32_XSS lives while it runs. */
static void wrmsr_xss(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint64_t v = wrmsr_value(g);

	if (v & ~(xss_supported(g) & g->tdcs->xfam)) {
		td_guest_inject_gp(g);
		return;
	}
	plat_wrmsr(g->m->plat, g->lp, TD_MSR_IA32_XSS, v);
	complete(g, ex);
}

/* LMA is read-only and SCE the only bit a TD may change; changing any other is a #VE. */
static void wrmsr_efer(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint64_t old = g->regs->sys.efer, v = wrmsr_value(g);
	uint64_t lma = BIT64(TD_MSR_BIT_EFER_LMA), sce = BIT64(TD_MSR_BIT_EFER_SCE);

	v = (v & ~lma) | (old & lma);
	if ((v ^ old) & ~sce) {
		td_guest_inject_ve_instr(g, ex);
		return;
	}
	g->regs->sys.efer = v;
	complete(g, ex);
}

/* Reserved bits are a #GP; TR without BTS (trace messages to the VMM's bus) is the VMM's to
 * decide, a #VE; EN_UNCORE_PMI is the VMM's bit and keeps its value. */
static void wrmsr_debugctl(struct td_guest *g, const struct plat_guest_exit *ex)
{
	uint64_t old = plat_lp_state_read(g->m->plat, g->lp, true, TD_MSR_IA32_DEBUGCTL), v = wrmsr_value(g);
	uint64_t rsvd = (BIT64(TD_MSR_BIT_DEBUGCTL_RESERVED_0_LAST + 1) - BIT64(TD_MSR_BIT_DEBUGCTL_RESERVED_0_FIRST)) |
			~(BIT64(TD_MSR_BIT_DEBUGCTL_RESERVED_1_FIRST) - 1);
	uint64_t pmi = BIT64(TD_MSR_BIT_DEBUGCTL_EN_UNCORE_PMI);

	if (v & rsvd) {
		td_guest_inject_gp(g);
		return;
	}
	if ((v & BIT64(TD_MSR_BIT_DEBUGCTL_TR)) && !(v & BIT64(TD_MSR_BIT_DEBUGCTL_BTS))) {
		td_guest_inject_ve_instr(g, ex);
		return;
	}
	/* the real module's VMWRITE takes effect at the VM entry that resumes the guest; here
	 * the guest goes on with the LP's register, which TD exit saves into the TD VMCS */
	plat_lp_state_write(g->m->plat, g->lp, true, TD_MSR_IA32_DEBUGCTL, (v & ~pmi) | (old & pmi));
	complete(g, ex);
}

static void emulate_wrmsr(struct td_guest *g, const struct plat_guest_exit *ex)
{
	switch (msr_of(g)) {
	case TD_MSR_IA32_XSS: wrmsr_xss(g, ex); return;
	case TD_MSR_IA32_EFER: wrmsr_efer(g, ex); return;
	case TD_MSR_IA32_DEBUGCTL: wrmsr_debugctl(g, ex); return;
	default:
		td_guest_inject_ve_instr(g, ex);
		return;
	}
}

/* GP_OR_VE: an MSR of a feature the TD's CPUID does not enumerate does not exist (#GP); one
 * it does enumerate is the VMM's to virtualise (#VE). */
static void gp_or_ve(struct td_guest *g, const struct plat_guest_exit *ex, const struct td_msr_access *a)
{
	if (td_msr_cond_holds(g->m, g->lp, g->tdcs, a->gp_unless))
		td_guest_inject_ve_instr(g, ex);
	else
		td_guest_inject_gp(g);
}

static void table_action(struct td_guest *g, const struct plat_guest_exit *ex, const struct td_msr_access *a,
			 bool write)
{
	switch (a->action) {
	case TD_MSR_ACTION_GP: td_guest_inject_gp(g); return;
	case TD_MSR_ACTION_GP_OR_VE: gp_or_ve(g, ex, a); return;
	case TD_MSR_ACTION_OTHER:
		if (write)
			emulate_wrmsr(g, ex);
		else
			emulate_rdmsr(g, ex);
		return;
	default: td_guest_inject_ve_instr(g, ex); return;
	}
}

void td_guest_msr_exit(struct td_guest *g, const struct plat_guest_exit *ex, bool write)
{
	uint32_t msr = msr_of(g);
	const struct td_msr_entry *e = td_msr_find(msr);

	/* Outside the bitmap's ranges, or not in the table (the real table leaves out MSRs whose
	 * every access is a #VE): #VE. */
	if (!td_msr_in_bitmap(msr) || !e) {
		td_guest_inject_ve_instr(g, ex);
		return;
	}
	/* An exit the bitmap does not ask for is the real module's FATAL_ERROR. QEMU's TD mode
	 * consults the bitmap and never makes one; an engine that exits on every access (a
	 * scripted test engine) gets a #VE here rather than a dead module. */
	if (!g->msr_bitmap || !td_msr_bitmap_exits(g->msr_bitmap, msr, write)) {
		td_guest_inject_ve_instr(g, ex);
		return;
	}
	table_action(g, ex, write ? &e->wr : &e->rd, write);
}
