/* Shared by the TDH.VP.* leaves: TDVPR locking, the TDVPS pages and TDH.VP.INIT's initial
 * vCPU state. */
#include <string.h>

#include "tdvps.h"

#define VMCS(name) MD_TD_VMCS_FIELDS_##name##_IDX
#define TDVPS(name) MD_TDVPS_FIELDS_##name##_IDX
#define BIT64(n) (UINT64_C(1) << (n))
#define BITS64(hi, lo) ((UINT64_MAX >> (63 - (hi))) & ~(BIT64(lo) - 1))

/* Architectural INIT values TDH.VP.INIT gives a vCPU (1.5.01 td_vmcs_init and
 * init_vcpu_gprs_and_registers): the guest starts at the reset vector in 32-bit flat
 * protected mode with paging off; XCR0 = x87 only, DR6/DR7 at their reset values. */
#define INIT_RIP UINT64_C(0xFFFFFFF0)
#define INIT_RFLAGS UINT64_C(0x2)
#define INIT_DR7 UINT64_C(0x400)
#define INIT_CR0 UINT64_C(0x21)              /* PE | NE */
#define INIT_CR4 UINT64_C(0x2040)            /* MCE | VMXE */
#define INIT_EFER UINT64_C(0x901)            /* NXE | LMA | SCE as 1.5.01 writes it */
#define INIT_PAT UINT64_C(0x0007040600070406)
#define INIT_PERF_GLOBAL_CTRL_PERFMON UINT64_C(0xFF)
#define INIT_PERF_GLOBAL_CTRL_NO_PERFMON UINT64_C(0x100000000)
#define INIT_FLAT_LIMIT UINT64_C(0xFFFFFFFF)
#define INIT_SYS_LIMIT UINT64_C(0xFFFF)
#define INIT_CS_AR UINT64_C(0xC09B)
#define INIT_DATA_AR UINT64_C(0xC093)
#define INIT_LDTR_AR UINT64_C(0x10082)       /* unusable */
#define INIT_TR_AR UINT64_C(0x8B)
#define INIT_XCR0 UINT64_C(0x1)
#define INIT_DR6 UINT64_C(0xFFFF0FF0)
#define INIT_IA32_FMASK UINT64_C(0x20200)
#define INIT_PI_VECTOR UINT64_C(0xFFFF)      /* "not configured" until the host writes one */
#define EXCEPTION_BITMAP_MC BIT64(18)
#define XSAVE_XCOMP_BV_OFFSET 0x208u           /* XSAVE header after the 512-byte legacy area */
#define XCOMP_BV_COMPACT BIT64(63)

/* CR0/CR4 guest-host masks and read shadows as 1.5.01 builds them. The simulated CPU model
 * carries no VMX capability MSRs, so the fixed-bit MSRs take their usual hardware values:
 * CR0 must have PE, NE and PG set (PG is released for unrestricted guests), CR4 VMXE; all
 * other bits are allowed. */
#define VMX_CR0_FIXED0 UINT64_C(0x80000021)
#define VMX_CR4_FIXED0 UINT64_C(0x2000)
#define CR0_PE 0
#define CR0_NE 5
#define CR0_NW 29
#define CR0_CD 30
#define CR0_PG 31
#define CR4_MCE 6
#define CR4_VMXE 13
#define XFAM_PK 9
#define XFAM_CET_U 11
#define XFAM_CET_S 12
#define XFAM_ULI 14
#define ATTR_KL 31
#define ATTR_PKS 30
#define ATTR_PERFMON 63
#define ATTR_LASS 27

uint64_t tdvps_lock_and_map(struct tdx_module *m, uint64_t tdvpr_pa, uint32_t operand, uint32_t leaf,
			    struct pamt_lock *l, struct tdvps **vp, struct tdr **tdr, struct tdcs **tdcs)
{
	uint64_t ret = pamt_check_lock_explicit(m, tdvpr_pa, operand, true, PT_TDVPR, l);
	uint64_t tdr_pa;

	if (ret)
		return ret;
	tdr_pa = pamt_owner(l->leaf);
	*tdr = td_map_tdr(m, tdr_pa);
	if (!*tdr) {
		pamt_unlock(l);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	ret = td_check_state(m, *tdr, leaf, tdcs);
	if (!ret && plat_seam_map(m->plat, tdvpr_pa, (*tdr)->hkid, (void **)vp)) {
		plat_seam_machine_check(m->plat, tdvpr_pa);
		ret = TDX_SEAMCALL_VMFAILINVALID;
	}
	if (ret)
		pamt_unlock(l);
	return ret;
}

uint64_t tdvps_lock_tdr_implicit(struct tdx_module *m, uint64_t tdr_pa, struct pamt_entry **e)
{
	struct pamt_entry *e1g, *e2m;
	uint64_t ret = pamt_walk(m, tdr_pa, &e1g, &e2m, e);

	if (ret)
		return ret; /* the owner of a TDVPR is always a TDR in a TDMR: only a machine check */
	if (!pamt_entry_try_lock_shared(*e)) {
		*e = NULL;
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_TDR);
	}
	return TDX_SUCCESS;
}

uint64_t tdvps_map_pages(struct tdx_module *m, const struct tdr *tdr, struct tdvps *vp, struct tdvps_pages *pg)
{
	if (vp->num_tdvpx < MIN_TDVPS_PAGES - 1)
		return TDX_TDCX_NUM_INCORRECT;
	pg->p[0] = (uint8_t *)vp;
	for (unsigned i = 1; i < MIN_TDVPS_PAGES; i++) {
		uint64_t pa = vp->tdvpx_pa[i - 1] & plat_pa_mask(m->plat);
		if (plat_seam_map(m->plat, pa, tdr->hkid, (void **)&pg->p[i])) {
			plat_seam_machine_check(m->plat, pa);
			return TDX_SEAMCALL_VMFAILINVALID;
		}
	}
	return TDX_SUCCESS;
}

/* Element e of a table entry in the store (8-byte VMCS slots; TDVPS elements are packed at
 * their element size). */
static void put(const struct tdvps_pages *pg, const struct md_field_desc *d, unsigned e, uint64_t v, bool vmcs)
{
	uint32_t off = vmcs ? d->offset + 8u * e : tdvps_store_offset(d->offset) + d->elem_bytes * e;
	void *p = tdvps_store(pg, off);

	if (!p)
		return;
	if (vmcs || d->elem_bytes == 8) /* the common case as a constant-size copy: one store */
		memcpy(p, &v, 8);
	else
		memcpy(p, &v, d->elem_bytes);
}

static uint64_t get(const struct tdvps_pages *pg, const struct md_field_desc *d, unsigned e, bool vmcs)
{
	uint32_t off = vmcs ? d->offset + 8u * e : tdvps_store_offset(d->offset) + d->elem_bytes * e;
	const void *p = tdvps_store(pg, off);
	uint64_t v = 0;

	if (!p)
		return 0;
	if (vmcs || d->elem_bytes == 8)
		memcpy(&v, p, 8);
	else
		memcpy(&v, p, d->elem_bytes);
	return v;
}

void tdvps_vmcs_put(const struct tdvps_pages *pg, unsigned idx, unsigned e, uint64_t v)
{
	put(pg, &md_td_vmcs_fields[idx], e, v, true);
}

void tdvps_put(const struct tdvps_pages *pg, unsigned idx, unsigned e, uint64_t v)
{
	put(pg, &md_tdvps_fields[idx], e, v, false);
}

uint64_t tdvps_vmcs_get(const struct tdvps_pages *pg, unsigned idx, unsigned e)
{
	return get(pg, &md_td_vmcs_fields[idx], e, true);
}

uint64_t tdvps_get(const struct tdvps_pages *pg, unsigned idx, unsigned e)
{
	return get(pg, &md_tdvps_fields[idx], e, false);
}

/* Guest register state: reset vector, flat 4 GiB segments, paging off. */
static void init_vmcs_guest_state(const struct tdcs *tdcs, const struct tdvps_pages *pg)
{
	static const struct { uint16_t idx; uint64_t v; } init[] = {
		{ VMCS(GUEST_DR7), INIT_DR7 },             { VMCS(GUEST_RIP), INIT_RIP },
		{ VMCS(GUEST_RFLAGS), INIT_RFLAGS },       { VMCS(GUEST_CS_LIMIT), INIT_FLAT_LIMIT },
		{ VMCS(GUEST_CS_ACCESS_RIGHTS), INIT_CS_AR }, { VMCS(GUEST_DS_LIMIT), INIT_FLAT_LIMIT },
		{ VMCS(GUEST_DS_ACCESS_RIGHTS), INIT_DATA_AR }, { VMCS(GUEST_ES_LIMIT), INIT_FLAT_LIMIT },
		{ VMCS(GUEST_ES_ACCESS_RIGHTS), INIT_DATA_AR }, { VMCS(GUEST_FS_LIMIT), INIT_FLAT_LIMIT },
		{ VMCS(GUEST_FS_ACCESS_RIGHTS), INIT_DATA_AR }, { VMCS(GUEST_GS_LIMIT), INIT_FLAT_LIMIT },
		{ VMCS(GUEST_GS_ACCESS_RIGHTS), INIT_DATA_AR }, { VMCS(GUEST_SS_LIMIT), INIT_FLAT_LIMIT },
		{ VMCS(GUEST_SS_ACCESS_RIGHTS), INIT_DATA_AR }, { VMCS(GUEST_LDTR_LIMIT), INIT_SYS_LIMIT },
		{ VMCS(GUEST_LDTR_ACCESS_RIGHTS), INIT_LDTR_AR }, { VMCS(GUEST_TR_LIMIT), INIT_SYS_LIMIT },
		{ VMCS(GUEST_TR_ACCESS_RIGHTS), INIT_TR_AR }, { VMCS(GUEST_GDTR_LIMIT), INIT_SYS_LIMIT },
		{ VMCS(IA32_PAT), INIT_PAT },              { VMCS(IA32_EFER), INIT_EFER },
		{ VMCS(GUEST_CR0), INIT_CR0 },             { VMCS(GUEST_CR4), INIT_CR4 },
	};

	for (unsigned i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		tdvps_vmcs_put(pg, init[i].idx, 0, init[i].v);
	tdvps_vmcs_put(pg, VMCS(IA32_PERF_GLOBAL_CTRL), 0,
		 (tdcs->attributes & BIT64(ATTR_PERFMON)) ? INIT_PERF_GLOBAL_CTRL_PERFMON : INIT_PERF_GLOBAL_CTRL_NO_PERFMON);
}

/* Pointers that start as "none" (NULL_PA / all ones) until the host or the module sets them. */
static void init_vmcs_null_pointers(const struct tdvps_pages *pg)
{
	static const uint16_t null_pa[] = {
		VMCS(APIC_ACCESS_ADDRESS),   VMCS(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS), VMCS(EPTP_LIST_ADDRESS),
		VMCS(VMREAD_BITMAP_ADDRESS), VMCS(VMWRITE_BITMAP_ADDRESS),              VMCS(ENCLS_EXITING_BITMAP),
		VMCS(ENCLV_EXITING_BITMAP),  VMCS(PML_ADDRESS),                         VMCS(PCONFIG_EXITING_BITMAP),
		VMCS(HLAT_POINTER),          VMCS(VM_EXIT_MSR_STORE_ADDRESS),           VMCS(VM_EXIT_MSR_LOAD_ADDRESS),
		VMCS(VM_ENTRY_MSR_LOAD_ADDRESS), VMCS(VMCS_LINK_POINTER),
	};

	for (unsigned i = 0; i < sizeof(null_pa) / sizeof(null_pa[0]); i++)
		tdvps_vmcs_put(pg, null_pa[i], 0, NULL_PA);
	for (unsigned e = 0; e < md_td_vmcs_fields[VMCS(I_O_BITMAP_ADDRESS_N)].num_fields; e++)
		tdvps_vmcs_put(pg, VMCS(I_O_BITMAP_ADDRESS_N), e, NULL_PA);
	for (unsigned e = 0; e < md_td_vmcs_fields[VMCS(PDPTEN)].num_fields; e++)
		tdvps_vmcs_put(pg, VMCS(PDPTEN), e, NULL_PA);
	tdvps_vmcs_put(pg, VMCS(POSTED_INTERRUPT_NOTIFICATION_VECTOR), 0, INIT_PI_VECTOR);
	tdvps_vmcs_put(pg, VMCS(EXCEPTION_BITMAP), 0, EXCEPTION_BITMAP_MC);
}

static uint64_t cr0_guest_host_mask(void)
{
	uint64_t mask = VMX_CR0_FIXED0 & ~BIT64(CR0_PG);

	return mask | BIT64(CR0_PE) | BIT64(CR0_NE) | BIT64(CR0_NW) | BIT64(CR0_CD) | BITS64(63, 32) |
	       BITS64(28, 19) | BIT64(17) | BITS64(15, 6);
}

static uint64_t cr4_guest_host_mask(const struct tdcs *tdcs)
{
	uint64_t mask = VMX_CR4_FIXED0 | BIT64(6) | BIT64(13) | BIT64(14) | BIT64(15) | BIT64(26) |
			BITS64(31, 29) | BITS64(63, 33);

	if (!(tdcs->xfam & BIT64(XFAM_PK)))
		mask |= BIT64(22);
	if ((tdcs->xfam & (BIT64(XFAM_CET_U) | BIT64(XFAM_CET_S))) != (BIT64(XFAM_CET_U) | BIT64(XFAM_CET_S)))
		mask |= BIT64(23);
	if (!(tdcs->xfam & BIT64(XFAM_ULI)))
		mask |= BIT64(25);
	if (!(tdcs->attributes & BIT64(ATTR_KL)))
		mask |= BIT64(19);
	if (!(tdcs->attributes & BIT64(ATTR_PKS)))
		mask |= BIT64(24);
	if (!(tdcs->attributes & BIT64(ATTR_LASS)))
		mask |= BIT64(27);
	return mask;
}

/* Fields that depend on the TD: addresses of its pages, HKID, EPT, TSC, CR controls. */
static void init_vmcs_td_fields(const struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs,
				const struct tdvps *vp, uint64_t tdvpr_pa, const struct tdvps_pages *pg)
{
	uint64_t cr0_mask = cr0_guest_host_mask(), cr4_mask = cr4_guest_host_mask(tdcs);
	uint64_t cr0_shadow = VMX_CR0_FIXED0 | BIT64(CR0_PE) | BIT64(CR0_NE);
	uint64_t cr4_shadow = (VMX_CR4_FIXED0 & ~BIT64(CR4_VMXE)) | BIT64(CR4_MCE);
	uint64_t zero_page = tdr->tdcx_pa[TDCS_PAGE_ZERO_PAGE];

	tdvps_vmcs_put(pg, VMCS(VIRTUAL_APIC_ADDRESS), 0, vp->tdvpx_pa[TDVPS_PAGE_VAPIC - 1]);
	tdvps_vmcs_put(pg, VMCS(MSR_BITMAP_ADDRESS), 0, tdr->tdcx_pa[TDCS_PAGE_MSR_BITMAPS]);
	tdvps_vmcs_put(pg, VMCS(VIRTUALIZATION_EXCEPTION_INFORMATION_ADDRESS), 0,
		 td_hkid_pa(m, tdvpr_pa, tdr->hkid));
	tdvps_vmcs_put(pg, VMCS(LOW_PASID_DIRECTORY_ADDRESS), 0, zero_page);
	tdvps_vmcs_put(pg, VMCS(HIGH_PASID_DIRECTORY_ADDRESS), 0, zero_page);
	tdvps_vmcs_put(pg, VMCS(SHARED_EPTP), 0, zero_page);
	tdvps_vmcs_put(pg, VMCS(TD_HKID), 0, tdr->hkid);
	tdvps_vmcs_put(pg, VMCS(TIME_STAMP_COUNTER_MULTIPLIER), 0, tdcs->tsc_multiplier);
	tdvps_vmcs_put(pg, VMCS(TIME_STAMP_COUNTER_OFFSET), 0, tdcs->tsc_offset);
	tdvps_vmcs_put(pg, VMCS(EPTP), 0, tdcs->eptp & plat_pa_mask(m->plat));
	tdvps_vmcs_put(pg, VMCS(CR0_GUEST_HOST_MASK), 0, cr0_mask);
	tdvps_vmcs_put(pg, VMCS(CR0_READ_SHADOW), 0, cr0_shadow);
	tdvps_vmcs_put(pg, VMCS(CR4_GUEST_HOST_MASK), 0, cr4_mask);
	tdvps_vmcs_put(pg, VMCS(CR4_READ_SHADOW), 0, cr4_shadow);
	/* The TDVPS keeps the L1 masks as the shadows the guest's L2 view starts from. */
	tdvps_put(pg, TDVPS(SHADOW_CR0_GUEST_HOST_MASK), 0, cr0_mask);
	tdvps_put(pg, TDVPS(SHADOW_CR0_READ_SHADOW), 0, cr0_shadow);
	tdvps_put(pg, TDVPS(SHADOW_CR4_GUEST_HOST_MASK), 0, cr4_mask);
	tdvps_put(pg, TDVPS(SHADOW_CR4_READ_SHADOW), 0, cr4_shadow);
}

/* GPRs, debug/extended registers and MSRs kept in the TDVPS (1.5.01 init_vcpu_gprs_and_registers,
 * init_vcpu_msrs, init_tdvps_fields): the ABI's VP.INIT note fixes RBX, RCX, R8, RDX, RSI. */
static void init_tdvps_registers(const struct tdx_module *m, const struct tdcs *tdcs, const struct tdvps *vp,
				 const struct tdvps_pages *pg)
{
	uint8_t *xbuff = tdvps_store(pg, md_tdvps_fields[TDVPS(XBUFF)].offset);
	uint64_t xcomp_bv = XCOMP_BV_COMPACT;

	tdvps_put(pg, TDVPS(RBX), 0, tdcs->gpaw ? GPAW_MAX_PA_WIDE : GPAW_MAX_PA_NARROW);
	tdvps_put(pg, TDVPS(RCX), 0, vp->initial_rcx);
	tdvps_put(pg, TDVPS(R8), 0, vp->initial_rcx);
	tdvps_put(pg, TDVPS(RDX), 0, m->platform_fms);
	tdvps_put(pg, TDVPS(RSI), 0, vp->vcpu_index);
	tdvps_put(pg, TDVPS(XCR0), 0, INIT_XCR0);
	tdvps_put(pg, TDVPS(DR6), 0, INIT_DR6);
	tdvps_put(pg, TDVPS(IA32_FMASK), 0, INIT_IA32_FMASK);
	tdvps_put(pg, TDVPS(XFAM), 0, tdcs->xfam);
	tdvps_put(pg, TDVPS(LAST_TD_EXIT), 0, LAST_EXIT_ASYNC_FAULT);
	/* XSAVES/XRSTORS need the compacted format bit in the XSAVE header. */
	memcpy(xbuff + XSAVE_XCOMP_BV_OFFSET, &xcomp_bv, sizeof(xcomp_bv));
}

void tdvps_init_state(const struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs,
		      const struct tdvps *vp, uint64_t tdvpr_pa, const struct tdvps_pages *pg)
{
	init_tdvps_registers(m, tdcs, vp, pg);
	init_vmcs_guest_state(tdcs, pg);
	init_vmcs_null_pointers(pg);
	init_vmcs_td_fields(m, tdr, tdcs, vp, tdvpr_pa, pg);
}
