/* The guest's view of itself and of the module: TDG.VP.INFO, TDG.VP.VEINFO.GET,
 * TDG.VP.CPUIDVE.SET, TDG.VM.RD/WR and TDG.SYS.RD/RDALL, run by a scripted guest through the
 * real TDH.VP.ENTER. Expected values come from the host's view (TDH.MNG.RD, TDH.VP.RD,
 * TDH.SYS.RD, TDH.MEM.RD of a debug TD) and from the generated metadata tables' guest masks. */
#include <string.h>

#include "fixture.h"
#include "td_guest_events.h"
#include "module/module_debug.h"
#include "td_exit_state.h"

#define GPR_RAX 0
#define GPR_RCX 1
#define GPR_RDX 2
#define GPR_R8 8
#define GPR_R9 9
#define GPR_R10 10
#define GPR_R11 11
#define NULL_ID UINT64_MAX
#define LIST_WORDS 512

/* A TD like fx_td1_up's, with TD_PARAMS attributes / config flags of the test's choosing
 * and nvcpus vCPUs (the extra ones' pages go to t->extra so that fx_td1_down reclaims them:
 * TDVPR first in the list, so it is reclaimed after its TDVPX pages). */
static bool td_up(struct fx *f, struct fx_td1 *t, uint64_t attributes, uint64_t config_flags, unsigned nvcpus,
		  bool finalize)
{
	struct td_params p;

	memset(t, 0, sizeof(*t));
	fx_td_params_default(&p);
	p.attributes = attributes;
	p.config_flags = config_flags;
	if (config_flags & CONFIG_FLAGS_GPAW_MASK)
		p.eptp_controls = (4ull << EPTP_CONTROLS_EPT_PWL_SHIFT) | 6; /* GPAW 52 needs a 5-level walk */
	if (!fx_bringup(f) || !fx_td_create(f, &t->td) || fx_td_init(f, &t->td, &p, NULL))
		return false;
	for (unsigned v = 0; v < nvcpus; v++) {
		uint64_t *pg = v ? &t->extra[t->nr_extra] : t->vp;
		for (unsigned i = 0; i < MIN_TDVPS_PAGES; i++)
			pg[i] = fx_page(f);
		if (v)
			t->nr_extra += MIN_TDVPS_PAGES;
		if (tdh_vp_create(f->h, 0, t->td.tdr, pg[0]))
			return false;
		for (unsigned i = 1; i < MIN_TDVPS_PAGES; i++)
			if (tdh_vp_addcx(f->h, 0, pg[0], pg[i]))
				return false;
		if (tdh_vp_init(f->h, 0, pg[0], 0x7000))
			return false;
	}
	return !finalize || tdh_mr_finalize(f->h, 0, t->td.tdr) == TDX_SUCCESS;
}

/* Flush the extra vCPUs (their TDVPRs in t->extra), then fx_td1_down. */
static bool td_down(struct fx *f, struct fx_td1 *t, unsigned nvcpus)
{
	for (unsigned v = 1; v < nvcpus; v++)
		if (tdh_vp_flush(f->h, 0, t->extra[(v - 1) * MIN_TDVPS_PAGES]))
			return false;
	return fx_td1_down(f, t, 0);
}

/* One TDCALL by vCPU 0 with the given GPRs (others 0); io gets the GPRs after it. Returns
 * the guest's RAX; a TDCALL that did not complete in the guest is a test failure. */
static uint64_t tdcall(struct fx *f, struct fx_td1 *t, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8,
		       uint64_t r9, struct plat_guest_regs *io)
{
	*io = (struct plat_guest_regs){ .gpr = { rax, rcx, rdx } };
	io->gpr[GPR_R8] = r8;
	io->gpr[GPR_R9] = r9;
	io->gpr[GPR_R10] = io->gpr[GPR_R11] = 0x5a5a5a5a5a5a5a5a; /* outputs must overwrite this */
	if (fx_tdcall(f, t, io) != VMEXIT_REASON_TDCALL) {
		test_fail(__FILE__, __LINE__, "TDCALL %#" PRIx64 " did not complete in the guest", rax);
		return UINT64_MAX;
	}
	return io->gpr[GPR_RAX];
}

static uint64_t mng_rd(struct fx *f, const struct fx_td1 *t, uint64_t id)
{
	uint64_t v = UINT64_MAX;

	if (tdh_mng_rd(f->h, 0, t->td.tdr, id, &v))
		test_fail(__FILE__, __LINE__, "TDH.MNG.RD %#" PRIx64 " failed", id);
	return v;
}

/* ---- TDG.VP.INFO ------------------------------------------------------------------------ */

TEST(tdg_vp_info_reports_the_td_and_the_calling_vcpu)
{
	struct fx f;
	struct fx_td1 t, t2;
	struct plat_guest_regs io;
	uint64_t attrs = TD_ATTRIBUTES_DEBUG_MASK | TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK, idx;

	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, attrs, 0, 2, true));
	CHECK_EQ(tdcall(&f, &t, TDG_VP_INFO_LEAF, 0, 0, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_RCX], GPAW_MAX_PA_NARROW);
	CHECK_EQ(io.gpr[GPR_RDX], mng_rd(&f, &t, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID));
	CHECK_EQ(io.gpr[GPR_RDX], attrs);
	CHECK_EQ(io.gpr[GPR_R8] & 0xffffffff, mng_rd(&f, &t, MD_TD_FIELDS_NUM_VCPUS_FIELD_ID));
	CHECK_EQ(io.gpr[GPR_R8] & 0xffffffff, 2);
	CHECK_EQ(io.gpr[GPR_R8] >> 32, mng_rd(&f, &t, MD_TD_FIELDS_MAX_VCPUS_FIELD_ID));
	CHECK_EQ(io.gpr[GPR_R10], 1); /* TDG.SYS.RD/RDALL available */
	CHECK_EQ(io.gpr[GPR_R11], 0);
	REQUIRE_EQ(tdh_vp_rd(f.h, 0, t.vp[0], MD_TDVPS_FIELDS_VCPU_INDEX_FIELD_ID, &idx), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R9], idx);
	/* the second vCPU gets its own index */
	t2 = t;
	t2.vp[0] = t.extra[0];
	REQUIRE_EQ(tdh_vp_rd(f.h, 0, t2.vp[0], MD_TDVPS_FIELDS_VCPU_INDEX_FIELD_ID, &idx), TDX_SUCCESS);
	CHECK_EQ(tdcall(&f, &t2, TDG_VP_INFO_LEAF, 0, 0, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R9], idx);
	CHECK(idx != 0);
	/* version 1 does not exist in 1.5.01 */
	CHECK_EQ(tdcall(&f, &t, TDG_VP_INFO_LEAF | 1u << 16, 0, 0, 0, 0, &io), TDX_OPERAND_INVALID);
	CHECK(td_down(&f, &t, 2));
	fx_destroy(&f);
}

TEST(tdg_vp_info_gpaw_52)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;

	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, 0, CONFIG_FLAGS_GPAW_MASK, 1, true));
	CHECK_EQ(tdcall(&f, &t, TDG_VP_INFO_LEAF, 0, 0, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_RCX], GPAW_MAX_PA_WIDE);
	CHECK_EQ(io.gpr[GPR_RDX], 0);
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}

/* ---- TDG.VP.VEINFO.GET ------------------------------------------------------------------- */

TEST(tdg_vp_veinfo_get_reads_and_releases_ve_info)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;
	struct module_debug_ve_info vi = { .exit_reason = VMEXIT_REASON_EPT_VIOLATION,
					   .valid = (uint32_t)VE_INFO_VALID,
					   .exit_qualification = 0x183,
					   .gla = 0xffff888000123456,
					   .gpa = 0x123456,
					   .eptp_index = 0,
					   .instr_len = 7,
					   .instr_info = 0xabcd },
				   got;

	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, 0, 0, 1, true));
	/* nothing pending: every output 0 */
	CHECK_EQ(tdcall(&f, &t, TDG_VP_VEINFO_GET_LEAF, 1, 2, 3, 4, &io), TDX_NO_VALID_VE_INFO);
	CHECK_EQ(io.gpr[GPR_RCX] | io.gpr[GPR_RDX] | io.gpr[GPR_R8] | io.gpr[GPR_R9] | io.gpr[GPR_R10], 0);

	REQUIRE_EQ(module_debug_vp_ve_info(f.p, t.vp[0], &vi, NULL), 0);
	CHECK_EQ(tdcall(&f, &t, TDG_VP_VEINFO_GET_LEAF, 0, 0, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_RCX], vi.exit_reason);
	CHECK_EQ(io.gpr[GPR_RDX], vi.exit_qualification);
	CHECK_EQ(io.gpr[GPR_R8], vi.gla);
	CHECK_EQ(io.gpr[GPR_R9], vi.gpa);
	CHECK_EQ(io.gpr[GPR_R10], vi.instr_len | (uint64_t)vi.instr_info << 32);
	CHECK_EQ(io.gpr[GPR_R11], 0x5a5a5a5a5a5a5a5a); /* not an output */
	/* released: VALID cleared, the rest left as it was */
	REQUIRE_EQ(module_debug_vp_ve_info(f.p, t.vp[0], NULL, &got), 0);
	CHECK_EQ(got.valid, 0);
	CHECK_EQ(got.gpa, vi.gpa);
	CHECK_EQ(got.instr_info, vi.instr_info);
	CHECK_EQ(tdcall(&f, &t, TDG_VP_VEINFO_GET_LEAF, 0, 0, 0, 0, &io), TDX_NO_VALID_VE_INFO);
	CHECK_EQ(io.gpr[GPR_R9], 0);
	/* version 1 (VE_CATEGORY) is not a 1.5.01 leaf version */
	REQUIRE_EQ(module_debug_vp_ve_info(f.p, t.vp[0], &vi, NULL), 0);
	CHECK_EQ(tdcall(&f, &t, TDG_VP_VEINFO_GET_LEAF | 1u << 16, 0, 0, 0, 0, &io), TDX_OPERAND_INVALID);
	REQUIRE_EQ(module_debug_vp_ve_info(f.p, t.vp[0], NULL, &got), 0);
	CHECK_EQ(got.valid, (uint32_t)VE_INFO_VALID); /* untouched by the refused call */
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}

/* ---- TDG.VP.CPUIDVE.SET ------------------------------------------------------------------ */

static void cpuidve(struct fx *f, struct fx_td1 *t, uint64_t *sup, uint64_t *user)
{
	*sup = *user = UINT64_MAX;
	CHECK_EQ(tdh_vp_rd(f->h, 0, t->vp[0], MD_TDVPS_FIELDS_CPUID_SUPERVISOR_VE_FIELD_ID, sup), TDX_SUCCESS);
	CHECK_EQ(tdh_vp_rd(f->h, 0, t->vp[0], MD_TDVPS_FIELDS_CPUID_USER_VE_FIELD_ID, user), TDX_SUCCESS);
}

TEST(tdg_vp_cpuidve_set_controls_and_reserved_bits)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;
	uint64_t sup, user;

	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, 0, 0, 1, true));
	for (uint64_t rcx = 0; rcx < 4; rcx++) {
		CHECK_EQ(tdcall(&f, &t, TDG_VP_CPUIDVE_SET_LEAF, rcx ^ 1, 0, 0, 0, &io), TDX_SUCCESS);
		cpuidve(&f, &t, &sup, &user);
		CHECK_EQ(sup, (rcx ^ 1) & 1);
		CHECK_EQ(user, ((rcx ^ 1) >> 1) & 1);
	}
	/* now supervisor 0, user 1; a reserved bit changes nothing */
	for (unsigned bit = 2; bit < 64; bit += 61) { /* bits 2 and 63 */
		CHECK_EQ(tdcall(&f, &t, TDG_VP_CPUIDVE_SET_LEAF, 1 | UINT64_C(1) << bit, 0, 0, 0, &io),
			 TDX_OPERAND_INVALID | OPERAND_ID_RCX);
		cpuidve(&f, &t, &sup, &user);
		CHECK_EQ(sup, 0);
		CHECK_EQ(user, 1);
	}
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}

/* ---- TDG.VM.RD / TDG.VM.WR ---------------------------------------------------------------- */

/* Table entry of a TD-context field id (class and field code), or NULL. */
static const struct md_field_desc *td_entry(uint64_t id, unsigned *elem)
{
	for (unsigned i = 0; i < md_td_fields_count; i++) {
		const struct md_field_desc *d = &md_td_fields[i];
		uint64_t base = d->field_id & 0xffffff, code = id & 0xffffff;
		if (((d->field_id ^ id) & MD_FIELD_ID_CLASS_CODE_MASK) == 0 && code >= base &&
		    code < base + (uint64_t)d->num_fields * d->elems_per_field * d->stride) {
			*elem = (unsigned)((code - base) / d->stride);
			return d;
		}
	}
	return NULL;
}

static uint64_t element_id(const struct md_field_desc *d, unsigned e)
{
	return d->field_id + (uint64_t)e * d->stride;
}

TEST(tdg_vm_rd_guest_masks_and_iteration)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;
	uint64_t walk[256], id, st;
	unsigned n = 0, elem;
	uint64_t attrs = TD_ATTRIBUTES_DEBUG_MASK | TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK;

	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, attrs, CONFIG_FLAGS_FLEXIBLE_PENDING_VE_MASK, 1, true));

	/* version 1 from the null id walks every guest-readable element exactly once */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF | 1u << 16, 0, NULL_ID, 0, 0, &io), TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT);
	CHECK_EQ(io.gpr[GPR_R8], 0);
	for (id = io.gpr[GPR_RDX]; id != NULL_ID && n < 256; id = io.gpr[GPR_RDX]) {
		const struct md_field_desc *d = td_entry(id, &elem);
		walk[n++] = id;
		REQUIRE(d != NULL);
		CHECK(d->guest_rd_mask != 0);
		st = tdcall(&f, &t, TDG_VM_RD_LEAF | 1u << 16, 0, id, 0, 0, &io);
		REQUIRE_EQ(st, TDX_SUCCESS);
		CHECK_EQ(io.gpr[GPR_R8] & ~d->guest_rd_mask, 0);
		if (d->dbg_rd_mask == UINT64_MAX >> (64 - 8 * d->elem_bytes) || d->dbg_rd_mask == UINT64_MAX)
			CHECK_EQ(io.gpr[GPR_R8], mng_rd(&f, &t, id) & d->guest_rd_mask); /* same value as the host's */
	}
	REQUIRE(n < 256);
	CHECK(n > 0);

	/* version 0 of every element the guest masks allow: readable iff in the walk; element 0
	 * of every other entry: not readable */
	for (unsigned i = 0; i < md_td_fields_count; i++) {
		const struct md_field_desc *d = &md_td_fields[i];
		unsigned elems = d->guest_rd_mask ? (unsigned)d->num_fields * d->elems_per_field : 1;
		if (d == &md_td_fields[MD_TD_FIELDS_CPUID_VALUES_IDX])
			continue; /* its own field-code encoding, below */
		for (unsigned e = 0; e < elems; e++) {
			bool in_walk = false;
			id = element_id(d, e);
			for (unsigned k = 0; k < n; k++)
				in_walk |= walk[k] == id;
			st = tdcall(&f, &t, TDG_VM_RD_LEAF, 0, id, 0, 0, &io);
			if (in_walk) {
				CHECK_EQ(st, TDX_SUCCESS);
				CHECK_EQ(io.gpr[GPR_RDX], id); /* version 0 leaves RDX alone */
			} else {
				if (st != TDX_METADATA_FIELD_NOT_READABLE && st != TDX_METADATA_FIELD_ID_INCORRECT)
					test_fail(__FILE__, __LINE__, "%s[%u]: %#" PRIx64, d->name, e, st);
				CHECK(d->guest_rd_mask == 0 || st == TDX_METADATA_FIELD_NOT_READABLE);
				CHECK_EQ(io.gpr[GPR_R8], 0);
			}
		}
	}
	/* values the test knows independently */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], attrs);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_TD_CTLS_FIELD_ID, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], TD_CTLS_PENDING_VE_DISABLE_MASK); /* from ATTRIBUTES.SEPT_VE_DISABLE */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_CONFIG_FLAGS_FIELD_ID, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], CONFIG_FLAGS_FLEXIBLE_PENDING_VE_MASK);
	/* the context code of the input is ignored */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_GPAW_FIELD_ID & ~MD_FIELD_ID_CONTEXT_CODE_MASK, 0, 0, &io),
		 TDX_SUCCESS);
	/* host-only fields */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_HKID_FIELD_ID, 0, 0, &io), TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_TDCX_PA_FIELD_ID, 0, 0, &io), TDX_METADATA_FIELD_NOT_READABLE);
	/* CPUID values have no guest read mask; reserved CPUID field-code bits are an id error */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_CPUID_VALUES_FIELD_ID, 0, 0, &io),
		 TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_CPUID_VALUES_FIELD_ID | 1u << 20, 0, 0, &io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	/* malformed ids */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID | MD_FIELD_ID_RESERVED_0_MASK, 0, 0,
			&io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_MRTD_FIELD_ID | MD_FIELD_ID_LAST_ELEMENT_IN_FIELD_MASK, 0,
			0, &io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID + 0x7ff, 0, 0, &io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(io.gpr[GPR_R8], 0);
	/* version 0 with the null id is just a bad id; version 1 fails with RDX = null */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, NULL_ID, 0, 0, &io), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF | 1u << 16, 0, MD_TD_FIELDS_HKID_FIELD_ID, 0, 0, &io),
		 TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(io.gpr[GPR_RDX], NULL_ID);
	/* VM index: the TD itself only; version 2 does not exist */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 1, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID, 0, 0, &io),
		 TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	CHECK_EQ(io.gpr[GPR_R8], 0);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF | 2u << 16, 0, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID, 0, 0, &io),
		 TDX_OPERAND_INVALID);
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}

TEST(tdg_vm_wr_td_ctls_pending_ve_disable)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;
	const uint64_t ctls = MD_TD_FIELDS_TD_CTLS_FIELD_ID, pvd = TD_CTLS_PENDING_VE_DISABLE_MASK;

	REQUIRE(fx_create(&f));
	/* a debug TD so that the host can read TD_CTLS back (dbg_rd) */
	REQUIRE(td_up(&f, &t, TD_ATTRIBUTES_DEBUG_MASK, CONFIG_FLAGS_FLEXIBLE_PENDING_VE_MASK, 1, true));
	CHECK_EQ(mng_rd(&f, &t, ctls), 0);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls, pvd, pvd, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], 0); /* the previous value */
	CHECK_EQ(mng_rd(&f, &t, ctls), pvd);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_RD_LEAF, 0, ctls, 0, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], pvd);
	/* bits outside the guest write mask must keep their value when requested */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls, 0x2, UINT64_MAX, &io), TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(io.gpr[GPR_R8], 0);
	CHECK_EQ(mng_rd(&f, &t, ctls), pvd);
	/* ... and are ignored when not requested */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls, 0x2, pvd, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], pvd);
	CHECK_EQ(mng_rd(&f, &t, ctls), 0);
	/* a write mask with no writable bit */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls, pvd, 0, &io), TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls, pvd, 0x2, &io), TDX_METADATA_FIELD_NOT_WRITABLE);
	/* readable but not writable by the guest, or not even readable */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID, 0, UINT64_MAX, &io),
		 TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, MD_TD_FIELDS_HP_LOCK_TIMEOUT_FIELD_ID, 100000, UINT64_MAX, &io),
		 TDX_METADATA_FIELD_NOT_WRITABLE);
	/* NOTIFY_ENABLES has a guest write mask but this module keeps no value for it */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, MD_TD_FIELDS_NOTIFY_ENABLES_FIELD_ID, 0, UINT64_MAX, &io),
		 TDX_METADATA_FIELD_NOT_WRITABLE);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, MD_TD_FIELDS_CPUID_VALUES_FIELD_ID, 0, UINT64_MAX, &io),
		 TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls | MD_FIELD_ID_RESERVED_1_MASK, pvd, pvd, &io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 3, ctls, pvd, pvd, &io), TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF | 1u << 16, 0, ctls, pvd, pvd, &io), TDX_OPERAND_INVALID);
	CHECK_EQ(mng_rd(&f, &t, ctls), 0); /* none of the refused writes stored anything */
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}

TEST(tdg_vm_wr_td_ctls_needs_flexible_pending_ve)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;
	const uint64_t ctls = MD_TD_FIELDS_TD_CTLS_FIELD_ID, pvd = TD_CTLS_PENDING_VE_DISABLE_MASK;

	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, TD_ATTRIBUTES_DEBUG_MASK | TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK, 0, 1, true));
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls, 0, pvd, &io), TDX_METADATA_FIELD_VALUE_NOT_VALID);
	CHECK_EQ(io.gpr[GPR_R8], 0);
	CHECK_EQ(mng_rd(&f, &t, ctls), pvd);
	/* writing the value it already has is fine */
	CHECK_EQ(tdcall(&f, &t, TDG_VM_WR_LEAF, 0, ctls, pvd, pvd, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], pvd);
	CHECK_EQ(mng_rd(&f, &t, ctls), pvd);
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}

/* ---- TDG.SYS.RD / TDG.SYS.RDALL ----------------------------------------------------------- */

static unsigned guest_sys_elements(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < md_sys_fields_count; i++)
		if (md_sys_fields[i].guest_rd_mask)
			n += (unsigned)md_sys_fields[i].num_fields * md_sys_fields[i].elems_per_field;
	return n;
}

static const struct md_field_desc *sys_entry(uint64_t id)
{
	for (unsigned i = 0; i < md_sys_fields_count; i++) {
		const struct md_field_desc *d = &md_sys_fields[i];
		uint64_t base = d->field_id & 0xffffff, code = id & 0xffffff;
		if (((d->field_id ^ id) & MD_FIELD_ID_CLASS_CODE_MASK) == 0 && code >= base &&
		    code < base + (uint64_t)d->num_fields * d->elems_per_field * d->stride)
			return d;
	}
	return NULL;
}

TEST(tdg_sys_rd_guest_readable_fields_only)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;
	uint64_t id, host, next;
	unsigned n = 0;

	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, 0, 0, 1, true));
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF, 0, NULL_ID, 0, 0, &io), TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT);
	CHECK_EQ(io.gpr[GPR_R8], 0);
	for (id = io.gpr[GPR_RDX]; id != NULL_ID && n < 64; id = io.gpr[GPR_RDX], n++) {
		const struct md_field_desc *d = sys_entry(id);
		REQUIRE(d != NULL);
		CHECK(d->guest_rd_mask != 0);
		REQUIRE_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF, 0, id, 0, 0, &io), TDX_SUCCESS);
		CHECK_EQ(io.gpr[GPR_R8] & ~d->guest_rd_mask, 0);
		if (d->host_rd_mask == d->guest_rd_mask && tdh_sys_rd(f.h, 0, id, &host, &next) == TDX_SUCCESS)
			CHECK_EQ(io.gpr[GPR_R8], host);
	}
	CHECK_EQ(n, guest_sys_elements());
	CHECK(n > 0);
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF, 0, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, 0, 0, &io), TDX_SUCCESS);
	REQUIRE_EQ(tdh_sys_rd(f.h, 0, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, &host, &next), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], host);
	CHECK(host != 0);
	/* the host may read these, the TD may not */
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF, 0, MD_SYS_FIELDS_NUM_PKGS_FIELD_ID, 0, 0, &io),
		 TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(io.gpr[GPR_R8], 0);
	CHECK_EQ(io.gpr[GPR_RDX], NULL_ID);
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF, 0, MD_SYS_FIELDS_UPDATE_VERSION_FIELD_ID, 0, 0, &io),
		 TDX_METADATA_FIELD_NOT_READABLE);
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF, 0, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID | MD_FIELD_ID_RESERVED_2_MASK, 0,
			0, &io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF, 0, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID + 0x3000, 0, 0, &io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(io.gpr[GPR_RDX], NULL_ID);
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RD_LEAF | 1u << 16, 0, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, 0, 0, &io),
		 TDX_OPERAND_INVALID);
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}

/* Read back a private page of a debug TD. */
static bool read_private(struct fx *f, struct fx_td1 *t, uint64_t gpa, uint64_t *q)
{
	struct tdx_module_args a;

	for (unsigned i = 0; i < LIST_WORDS; i++)
		if (tdh_mem_rd(f->h, 0, t->td.tdr, gpa + 8 * i, &q[i], &a))
			return false;
	return true;
}

/* Walk a metadata list, checking each element against TDG.SYS.RD; returns the element count
 * and the first field id it holds (*first). */
static unsigned check_list(struct fx *f, struct fx_td1 *t, const uint64_t *q, uint64_t *first, unsigned *bad)
{
	unsigned used = (unsigned)(q[0] & 0xffff), seqs = (unsigned)((q[0] >> 16) & 0xffff), pos = 1, n = 0;
	struct plat_guest_regs io;

	*first = NULL_ID;
	for (unsigned s = 0; s < seqs && pos * 8 < used; s++) {
		uint64_t hdr = q[pos++];
		unsigned last_elem = (unsigned)((hdr & MD_FIELD_ID_LAST_ELEMENT_IN_FIELD_MASK) >>
						MD_FIELD_ID_LAST_ELEMENT_IN_FIELD_SHIFT);
		unsigned last_field = (unsigned)((hdr & MD_FIELD_ID_LAST_FIELD_IN_SEQUENCE_MASK) >>
						 MD_FIELD_ID_LAST_FIELD_IN_SEQUENCE_SHIFT);
		unsigned stride = (unsigned)((hdr & MD_FIELD_ID_INC_SIZE_MASK) >> MD_FIELD_ID_INC_SIZE_SHIFT) + 1;
		uint64_t base = hdr & ~(MD_FIELD_ID_LAST_ELEMENT_IN_FIELD_MASK | MD_FIELD_ID_LAST_FIELD_IN_SEQUENCE_MASK);

		for (unsigned fld = 0; fld <= last_field; fld++)
			for (unsigned e = 0; e <= last_elem; e++) {
				uint64_t id = base + (uint64_t)(fld * (last_elem + 1) + e) * stride;
				if (*first == NULL_ID)
					*first = id;
				if (tdcall(f, t, TDG_SYS_RD_LEAF, 0, id, 0, 0, &io) != TDX_SUCCESS ||
				    io.gpr[GPR_R8] != q[pos])
					(*bad)++;
				pos++;
				n++;
			}
	}
	if (pos * 8 != used)
		(*bad)++;
	return n;
}

TEST(tdg_sys_rdall_dumps_guest_fields_into_a_private_page)
{
	struct fx f;
	struct fx_td1 t;
	struct plat_guest_regs io;
	static uint8_t fill[4096];
	uint64_t q[LIST_WORDS], first, gpa = 0x200000;
	unsigned bad = 0, n, used;

	memset(fill, 0xa5, sizeof(fill));
	REQUIRE(fx_create(&f));
	REQUIRE(td_up(&f, &t, TD_ATTRIBUTES_DEBUG_MASK, 0, 1, false));
	REQUIRE_EQ(fx_td1_map(&f, &t, gpa, fill), TDX_SUCCESS); /* MAPPED: added before finalize */
	REQUIRE_EQ(tdh_mr_finalize(f.h, 0, t.td.tdr), TDX_SUCCESS);
	REQUIRE_EQ(fx_td1_map(&f, &t, gpa + 0x1000, NULL), TDX_SUCCESS); /* PENDING: AUG after it */

	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RDALL_LEAF, 0, gpa, NULL_ID, 0, &io), TDX_SUCCESS);
	CHECK_EQ(io.gpr[GPR_R8], NULL_ID);
	REQUIRE(read_private(&f, &t, gpa, q));
	n = check_list(&f, &t, q, &first, &bad);
	CHECK_EQ(n, guest_sys_elements());
	CHECK_EQ(bad, 0);
	used = (unsigned)(q[0] & 0xffff);
	CHECK(used > 8 && used < 4096);
	CHECK_EQ(q[used / 8], 0xa5a5a5a5a5a5a5a5); /* the list is written in place, nothing after it */

	/* resuming from a field id starts the list there */
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RDALL_LEAF, 0, gpa, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, 0, &io), TDX_SUCCESS);
	REQUIRE(read_private(&f, &t, gpa, q));
	bad = 0;
	CHECK(check_list(&f, &t, q, &first, &bad) < n);
	CHECK_EQ(first, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID & ~MD_FIELD_ID_CONTEXT_CODE_MASK);
	CHECK_EQ(bad, 0);

	/* operand errors: R8 = null, the page untouched */
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RDALL_LEAF, 0, gpa, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID + 0x3000, 0, &io),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(io.gpr[GPR_R8], NULL_ID);
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RDALL_LEAF, 0, gpa + 8, NULL_ID, 0, &io), TDX_OPERAND_INVALID | OPERAND_ID_RDX);
	CHECK_EQ(io.gpr[GPR_R8], NULL_ID);
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RDALL_LEAF, 0, gpa | UINT64_C(1) << 47, NULL_ID, 0, &io),
		 TDX_OPERAND_INVALID | OPERAND_ID_RDX); /* shared GPA (GPAW 48) */
	CHECK_EQ(tdcall(&f, &t, TDG_SYS_RDALL_LEAF, 0, UINT64_C(1) << 48, NULL_ID, 0, &io),
		 TDX_OPERAND_INVALID | OPERAND_ID_RDX); /* beyond the GPA width */
	/* a page the Secure EPT does not map: EPT-violation TD exit; one it maps PENDING: #VE
	 * injected into the guest (this TD has SEPT_VE_DISABLE clear), the TDCALL not completed */
	io = (struct plat_guest_regs){ .gpr = { TDG_SYS_RDALL_LEAF, 0, 0x400000 } };
	io.gpr[GPR_R8] = NULL_ID;
	CHECK_EQ(fx_tdcall(&f, &t, &io), VMEXIT_REASON_EPT_VIOLATION);
	io = (struct plat_guest_regs){ .gpr = { TDG_SYS_RDALL_LEAF, 0, gpa + 0x1000 } };
	io.gpr[GPR_R8] = NULL_ID;
	CHECK_EQ(fx_tdcall(&f, &t, &io), VMEXIT_REASON_TDCALL);
	CHECK_EQ(io.event_inject, TD_GUEST_INTR_INFO_VE);
	CHECK_EQ(io.gpr[GPR_RAX], TDG_SYS_RDALL_LEAF); /* RAX untouched: the TDCALL did not complete */
	CHECK(td_down(&f, &t, 1));
	fx_destroy(&f);
}
