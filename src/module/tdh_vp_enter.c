/* TDH.VP.ENTER (leaf 0): run a TD vCPU on this LP until a TD exit.
 *
 * Checks in the real module's order (1.5.x tdh_vp_enter.c): IA32_MISC_ENABLE.BOOT_NT4,
 * reserved bits of RCX, the TDVPR (shared) and its TDR (implicit, shared), TD state
 * (not FATAL, keys configured, OP_STATE RUNNABLE), the TDVPS pages, vCPU state READY,
 * association with this LP, the host-recoverability and RESUME_L1 flags, IA32_TSC_ADJUST,
 * and the TD epoch lock for TLB tracking. Then the TD's state is loaded on the LP (GPRs,
 * RIP/RFLAGS and the registers of data/module/td-exit-host-state.json), the guest runs on
 * the platform's guest engine, and the TD exit saves it back and scrubs the LP.
 *
 * A TDCALL goes to the guest-side dispatcher (td_dispatcher.c): TDG.VP.VMCALL is a TD exit
 * to the VMM, other leaves are answered in the guest, which runs on. A triple fault makes the
 * vCPU DISABLED (TDX_NON_RECOVERABLE_VCPU). A machine check (#MC exit, e.g. the guest read a
 * poisoned private page) makes the whole TD FATAL (TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE), and
 * so does any later VM exit of its other vCPUs; further TD leaves get TDX_TD_FATAL. Every
 * other VM exit the engine reports becomes an asynchronous TD exit with its qualification,
 * GPA and interruption information. Interrupts posted to the vCPU's posted-interrupt
 * descriptor are moved into its virtual APIC before the guest runs; the engine delivers them
 * through the plat_guest_mem interrupt callbacks. */
#include <stddef.h>
#include <string.h>

#include "td_exit.h"
#include "td_guest.h"
#include "td_guest_events.h"
#include "td_msr.h"
#include "td_vapic.h"

_Static_assert(MD_TDVPS_FIELDS_R15_IDX - MD_TDVPS_FIELDS_RAX_IDX == 15 &&
		       MD_TDVPS_FIELDS_RSP_PLACEHOLDER_IDX - MD_TDVPS_FIELDS_RAX_IDX == GPR_RSP,
	       "the TDVPS GPR fields are RAX..R15 in SDM order");

/* The vCPU being entered: what the guest-side leaves see (struct td_guest), plus the TLB
 * epoch slot it joined. */
struct vp_enter {
	struct td_guest g;
	uint16_t epoch_slot;
	bool flush_tlb; /* the vCPU's last epoch is not the TD's: its TLB entries may be stale */
	struct plat_guest_sys sys_at_entry; /* what gprs_load() read: unchanged fields need no write */
	bool td_dead;   /* a machine check made the TD FATAL (on this LP or another) */
};

static uint64_t check_flags(struct tdx_module *m, unsigned lp, uint64_t rcx)
{
	uint64_t ret = module_check_cpuid_maxval(m, lp);

	if (ret)
		return ret;
	if (rcx & (VCPU_AND_FLAGS_RESERVED_0_MASK | VCPU_AND_FLAGS_RESERVED_1_MASK))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	return TDX_SUCCESS;
}

/* TD state, TDVPS pages, vCPU state and association (the TDR is locked by the caller). */
static uint64_t open_vcpu(struct vp_enter *c, uint64_t tdr_pa)
{
	uint64_t ret;

	c->g.tdr = td_map_tdr(c->g.m, tdr_pa);
	if (!c->g.tdr)
		return TDX_SEAMCALL_VMFAILINVALID;
	ret = td_check_state(c->g.m, c->g.tdr, TDH_VP_ENTER_LEAF, &c->g.tdcs);
	if (ret)
		return ret;
	c->g.msr_bitmap = td_msr_bitmap_map(c->g.m, c->g.tdr);
	if (!c->g.msr_bitmap)
		return TDX_SEAMCALL_VMFAILINVALID;
	if (plat_seam_map(c->g.m->plat, c->g.tdvpr_pa, c->g.tdr->hkid, (void **)&c->g.vp)) {
		plat_seam_machine_check(c->g.m->plat, c->g.tdvpr_pa);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	ret = tdvps_map_pages(c->g.m, c->g.tdr, c->g.vp, &c->g.pg);
	if (ret)
		return ret;
	if (c->g.vp->state != VCPU_READY)
		return TDX_VCPU_STATE_INCORRECT;
	return tdvps_associate(c->g.vp, c->g.tdcs, c->g.lp);
}

static uint64_t check_vcpu_flags(struct vp_enter *c, uint64_t rcx)
{
	uint64_t last = tdvps_get(&c->g.pg, MD_TDVPS_FIELDS_LAST_TD_EXIT_IDX, 0);

	if ((rcx & VCPU_AND_FLAGS_HOST_RECOVERABILITY_HINT_MASK) && last != LAST_EXIT_ASYNC_TRAP)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	/* RESUME_L1 is for an exit from an L2 VM; this module runs no L2 VMs (CURR_VM is 0). */
	if ((rcx & VCPU_AND_FLAGS_RESUME_L1_MASK) && tdvps_get(&c->g.pg, MD_TDVPS_FIELDS_CURR_VM_IDX, 0) == 0)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	return module_check_tsc_adjust(c->g.m, c->g.lp);
}

/* adjust_tlb_tracking_state(): the vCPU joins the current TD epoch, shared with other
 * entries, exclusive against TDH.MEM.TRACK. */
static uint64_t join_epoch(struct vp_enter *c)
{
	uint64_t epoch;

	if (!sharex_try_shared(&c->g.tdcs->epoch_lock))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_TD_EPOCH);
	epoch = __atomic_load_n(&c->g.tdcs->td_epoch, __ATOMIC_ACQUIRE);
	c->epoch_slot = (uint16_t)(epoch & 1);
	__atomic_fetch_add(&c->g.tdcs->refcount[c->epoch_slot], 1, __ATOMIC_SEQ_CST);
	sharex_release_shared(&c->g.tdcs->epoch_lock);
	c->flush_tlb = tdvps_get(&c->g.pg, MD_TDVPS_FIELDS_VCPU_EPOCH_IDX, 0) != epoch;
	tdvps_put(&c->g.pg, MD_TDVPS_FIELDS_VCPU_EPOCH_IDX, 0, epoch);
	return TDX_SUCCESS;
}

#define VMCS(name) MD_TD_VMCS_FIELDS_##name##_IDX
#define SYS(field) offsetof(struct plat_guest_sys, field)
#define SEG(id, f) (offsetof(struct plat_guest_sys, seg) + (id) * sizeof(struct plat_guest_seg) + \
		    offsetof(struct plat_guest_seg, f))
#define SEG_FIELDS(ID, NAME) \
	{ VMCS(GUEST_##NAME##_SELECTOR), SEG(PLAT_SEG_##ID, selector) }, \
	{ VMCS(GUEST_##NAME##_BASE), SEG(PLAT_SEG_##ID, base) }, \
	{ VMCS(GUEST_##NAME##_LIMIT), SEG(PLAT_SEG_##ID, limit) }, \
	{ VMCS(GUEST_##NAME##_ACCESS_RIGHTS), SEG(PLAT_SEG_##ID, ar) }

/* The TD VMCS guest-state fields VM entry loads into the CPU and VM exit saves back. */
static const struct {
	uint16_t vmcs_idx;
	uint16_t off; /* in struct plat_guest_sys */
} sys_fields[] = {
	{ VMCS(GUEST_CR0), SYS(cr0) },   { VMCS(GUEST_CR3), SYS(cr3) },
	{ VMCS(GUEST_CR4), SYS(cr4) },
	{ VMCS(IA32_EFER), SYS(efer) },  { VMCS(IA32_PAT), SYS(pat) },
	SEG_FIELDS(ES, ES), SEG_FIELDS(CS, CS), SEG_FIELDS(SS, SS), SEG_FIELDS(DS, DS),
	SEG_FIELDS(FS, FS), SEG_FIELDS(GS, GS), SEG_FIELDS(LDTR, LDTR), SEG_FIELDS(TR, TR),
	{ VMCS(GUEST_GDTR_BASE), SYS(gdtr_base) }, { VMCS(GUEST_GDTR_LIMIT), SYS(gdtr_limit) },
	{ VMCS(GUEST_IDTR_BASE), SYS(idtr_base) }, { VMCS(GUEST_IDTR_LIMIT), SYS(idtr_limit) },
};

static void gprs_load(struct vp_enter *c, struct plat_guest_regs *g)
{
	memset(g, 0, sizeof(*g));
	for (unsigned i = 0; i < 16; i++)
		g->gpr[i] = i == GPR_RSP ? tdvps_vmcs_get(&c->g.pg, MD_TD_VMCS_FIELDS_GUEST_RSP_IDX, 0)
					 : tdvps_get(&c->g.pg, MD_TDVPS_FIELDS_RAX_IDX + i, 0);
	g->rip = tdvps_vmcs_get(&c->g.pg, MD_TD_VMCS_FIELDS_GUEST_RIP_IDX, 0);
	g->rflags = tdvps_vmcs_get(&c->g.pg, MD_TD_VMCS_FIELDS_GUEST_RFLAGS_IDX, 0);
	for (unsigned i = 0; i < sizeof(sys_fields) / sizeof(sys_fields[0]); i++) {
		uint64_t v = tdvps_vmcs_get(&c->g.pg, sys_fields[i].vmcs_idx, 0);
		memcpy((uint8_t *)&g->sys + sys_fields[i].off, &v, sizeof(v));
	}
	c->sys_at_entry = g->sys;
}

static void gprs_save(const struct vp_enter *c, const struct plat_guest_regs *g)
{
	for (unsigned i = 0; i < 16; i++)
		if (i == GPR_RSP)
			tdvps_vmcs_put(&c->g.pg, MD_TD_VMCS_FIELDS_GUEST_RSP_IDX, 0, g->gpr[i]);
		else
			tdvps_put(&c->g.pg, MD_TDVPS_FIELDS_RAX_IDX + i, 0, g->gpr[i]);
	tdvps_vmcs_put(&c->g.pg, MD_TD_VMCS_FIELDS_GUEST_RIP_IDX, 0, g->rip);
	tdvps_vmcs_put(&c->g.pg, MD_TD_VMCS_FIELDS_GUEST_RFLAGS_IDX, 0, g->rflags);
	for (unsigned i = 0; i < sizeof(sys_fields) / sizeof(sys_fields[0]); i++) {
		uint64_t v, was;
		memcpy(&v, (const uint8_t *)&g->sys + sys_fields[i].off, sizeof(v));
		memcpy(&was, (const uint8_t *)&c->sys_at_entry + sys_fields[i].off, sizeof(was));
		if (v == was)
			continue; /* the TD VMCS holds it already (the guest did not change it) */
		tdvps_vmcs_put(&c->g.pg, sys_fields[i].vmcs_idx, 0, v);
	}
}

/* After a TDG.VP.VMCALL exit the VMM's outputs (the GPRs the guest selected) become the
 * guest's; its TDCALL completes with RAX = TDX_SUCCESS and RCX unchanged. */
static void complete_tdvmcall(const struct tdx_regs *regs, struct plat_guest_regs *g)
{
	uint64_t select = g->gpr[GPR_RCX] & TDVMCALL_CONTROL_GPR_SELECT_MASK;

	for (unsigned i = 2; i < 16; i++)
		if (select & (UINT64_C(1) << i))
			g->gpr[i] = regs->r[i];
	g->gpr[GPR_RAX] = TDX_SUCCESS;
}

/* An asynchronous TD exit: the VM exit's information for the VMM, other GPRs cleared. */
static void async_exit(const struct vp_enter *c, uint64_t status, const struct plat_guest_exit *ex,
		       struct tdx_regs *regs)
{
	for (unsigned i = 2; i < 16; i++)
		if (i != GPR_RSP && (i != GPR_RBP || !td_guest_no_rbp_mod(&c->g)))
			regs->r[i] = 0;
	regs->r[TDX_REG_RAX] = status | ex->reason;
	regs->r[TDX_REG_RCX] = ex->qualification;
	regs->r[TDX_REG_R8] = ex->gpa;
	regs->r[TDX_REG_R9] = ex->intr_info;
}

/* The exit the module emulates for a TDCALL or guest access that met the Secure EPT. */
static void ept_violation_exit(const struct td_guest *tg, struct plat_guest_exit *ex)
{
	*ex = (struct plat_guest_exit){ .reason = VMEXIT_REASON_EPT_VIOLATION,
					.qualification = tg->ept_violation_qual,
					.gpa = tg->ept_violation_gpa };
}

/* The dispatcher's first look at a VM exit (tdx_td_l1_l2_dispatcher_common_prologue(),
 * td_exception_or_nmi_exit()): a TD some LP already found FATAL exits as dead whatever the
 * reason; a #MC (hardware exception 18, not an NMI) makes it FATAL now. */
static bool td_machine_check(struct vp_enter *c, const struct plat_guest_exit *ex)
{
	uint32_t info = (uint32_t)ex->intr_info;
	uint32_t type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	uint32_t vector = (info & INTR_INFO_VECTOR_MASK) >> INTR_INFO_VECTOR_SHIFT;

	if (__atomic_load_n(&c->g.tdr->fatal, __ATOMIC_ACQUIRE))
		return c->td_dead = true;
	if ((ex->reason & 0xFFFF) != VMEXIT_REASON_EXCEPTION_OR_NMI || !(info & INTR_INFO_VALID_MASK) ||
	    type == INTR_TYPE_NMI || vector != X86_VECTOR_MC)
		return false;
	__atomic_store_n(&c->g.tdr->fatal, 1, __ATOMIC_RELEASE);
	return c->td_dead = true;
}

/* Run until the TD exits to the VMM; returns the LAST_TD_EXIT kind. *eeq: the extended exit
 * qualification of an EPT-violation exit (RDX). */
static uint64_t run_guest_loop(struct vp_enter *c, struct plat_guest_regs *g, struct tdx_regs *regs,
			       struct plat_guest_exit *ex, uint64_t *eeq)
{
	struct td_guest *tg = &c->g;
	struct plat_guest_mem mem = { .translate = td_guest_translate, .intr_pending = td_vapic_intr_pending,
				      .intr_ack = td_vapic_intr_ack, .apic_msr = td_vapic_msr,
				      .tdcall_fast = td_guest_tdcall_fast, .msr_bitmap = c->g.msr_bitmap, .ctx = tg,
				      .shared_bit = td_guest_shared_bit(c->g.tdcs), .keyid = c->g.tdr->hkid,
				      .flush_tlb = c->flush_tlb };

	tg->regs = g;
	tg->vmm = regs;
	/* interrupts posted while the vCPU was outside the TD reach its virtual APIC on entry */
	td_vapic_process_posted(tg);

	for (;;) {
		*ex = (struct plat_guest_exit){ 0 };
		plat_seam_guest_run(c->g.m->plat, c->g.lp, c->g.tdvpr_pa, g, &mem, ex);
		mem.flush_tlb = false; /* flushed once per entry */
		tdvps_vmcs_put(&c->g.pg, MD_TD_VMCS_FIELDS_EXIT_REASON_IDX, 0, ex->reason);
		tdvps_vmcs_put(&c->g.pg, MD_TD_VMCS_FIELDS_EXIT_QUALIFICATION_IDX, 0, ex->qualification);
		if (td_machine_check(c, ex))
			return LAST_EXIT_ASYNC_FAULT; /* not recorded: a dead TD's LAST_TD_EXIT stays */
		if ((ex->reason & 0xFFFF) == VMEXIT_REASON_EPT_VIOLATION) {
			/* a private PENDING page may be a #VE in the guest instead of a TD exit */
			tg->ept_violation = false;
			if (td_guest_vm_exit_ept_violation(tg, ex->qualification, 0, ex->gpa))
				continue;
			if (tg->ept_violation) {
				ept_violation_exit(tg, ex);
				*eeq = tg->ept_violation_eeq;
			}
			return LAST_EXIT_ASYNC_FAULT;
		}
		/* CPUID, HLT, IN/OUT, RDMSR/WRMSR...: emulated or a #VE, the guest runs on */
		if (td_guest_vm_exit_instruction(tg, ex))
			continue;
		if ((ex->reason & 0xFFFF) != VMEXIT_REASON_TDCALL)
			return LAST_EXIT_ASYNC_FAULT;
		g->rip += ex->instr_len; /* TDCALL is trap-like: the guest resumes after it */
		td_guest_tdcall(tg);
		if (tg->exit_to_vmm)
			return LAST_EXIT_TDVMCALL;
		/* not completed: the guest re-executes the TDCALL (after the VMM's fix, or after the
		 * event injected into it) */
		if (tg->ept_violation || tg->tdcall_pending)
			g->rip -= ex->instr_len;
		if (tg->ept_violation) {
			ept_violation_exit(tg, ex);
			*eeq = tg->ept_violation_eeq;
			return LAST_EXIT_ASYNC_FAULT;
		}
	}
}

static uint64_t run_guest(struct vp_enter *c, struct plat_guest_regs *g, struct tdx_regs *regs)
{
	struct plat_guest_exit ex;
	uint64_t eeq = 0, last = run_guest_loop(c, g, regs, &ex, &eeq);

	if (last == LAST_EXIT_TDVMCALL)
		return last;
	if (c->td_dead) {
		ex.gpa = 0; /* the VMM learns no GPA, RDX (EEQ) is cleared with the other GPRs */
		async_exit(c, TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE, &ex, regs);
	} else if ((ex.reason & 0xFFFF) == VMEXIT_REASON_TRIPLE_FAULT) {
		async_exit(c, TDX_NON_RECOVERABLE_VCPU, &ex, regs);
		c->g.vp->state = VCPU_DISABLED;
	} else {
		async_exit(c, TDX_SUCCESS, &ex, regs);
		regs->r[TDX_REG_RDX] = eeq;
	}
	return last;
}

static void enter_and_exit(struct vp_enter *c, struct tdx_regs *regs)
{
	struct td_host_state hs;
	struct plat_guest_regs g;
	uint64_t last = tdvps_get(&c->g.pg, MD_TDVPS_FIELDS_LAST_TD_EXIT_IDX, 0);

	gprs_load(c, &g);
	if (last == LAST_EXIT_TDVMCALL)
		complete_tdvmcall(regs, &g);
	td_exit_load_guest_state(c->g.m, c->g.lp, c->g.tdcs, &c->g.pg, &hs);
	c->g.vp->state = VCPU_ACTIVE;
	last = run_guest(c, &g, regs);
	gprs_save(c, &g);
	/* Also what scrubs the LP, so it runs for a dead TD too, whose saved state nobody can
	 * read any more (every TD leaf now stops at TDX_TD_FATAL). */
	td_exit_save_guest_state(c->g.m, c->g.lp, c->g.tdcs, &c->g.pg, &hs);
	/* A dead TD keeps its vCPU state, LAST_TD_EXIT and TLB-epoch refcount as they were
	 * (td_vmexit_to_vmm() with is_td_dead). */
	if (c->td_dead)
		return;
	if (c->g.vp->state == VCPU_ACTIVE)
		c->g.vp->state = VCPU_READY;
	tdvps_put(&c->g.pg, MD_TDVPS_FIELDS_LAST_TD_EXIT_IDX, 0, last);
	__atomic_fetch_sub(&c->g.tdcs->refcount[c->epoch_slot], 1, __ATOMIC_SEQ_CST);
}

uint64_t tdh_vp_enter(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t rcx = regs->r[TDX_REG_RCX], ret;
	struct vp_enter c = { .g = { .m = m, .lp = lp, .tdvpr_pa = rcx & VCPU_AND_FLAGS_TDVPRA_HPA_MASK } };
	struct pamt_entry *tdr_entry = NULL;
	struct pamt_lock lv;

	ret = check_flags(m, lp, rcx);
	if (ret)
		return ret;
	ret = pamt_check_lock_explicit(m, c.g.tdvpr_pa, OPERAND_ID_RCX, false, PT_TDVPR, &lv);
	if (ret)
		return ret;
	ret = tdvps_lock_tdr_implicit(m, pamt_owner(lv.leaf), &tdr_entry);
	if (!ret)
		ret = open_vcpu(&c, pamt_owner(lv.leaf));
	if (!ret)
		ret = check_vcpu_flags(&c, rcx);
	/* A platform without a CPU core for guests cannot enter a TD at all. */
	if (!ret && !plat_has_guest_engine(m->plat))
		ret = TDX_SEAMCALL_VMFAILINVALID;
	if (!ret)
		ret = join_epoch(&c);
	if (ret)
		goto out;

	/* Nothing can fail past this point. */
	enter_and_exit(&c, regs);
	ret = regs->r[TDX_REG_RAX];
out:
	if (tdr_entry)
		pamt_entry_unlock_shared(tdr_entry);
	pamt_unlock(&lv);
	return ret;
}
