/* TDG.MR.RTMR.EXTEND, TDG.MR.REPORT, TDG.MR.VERIFYREPORT from inside a debug TD: RTMR values
 * against SHA-384 computed here, every TDREPORT field against what the host set or reads
 * (TDH.MNG.RD, TD_PARAMS, the profile data), the MAC against the platform key, and every
 * documented failure with its operand id, leaving guest memory and RTMRs untouched. */
#include <openssl/sha.h>
#include <string.h>

#include "abi_profiles.h"
#include "fixture.h"
#include "module/module_debug.h"
#include "td_exit_state.h"

#define GPR_RAX 0
#define GPR_RCX 1
#define GPR_RDX 2
#define GPR_R8 8

#define MR 48u

/* Guest layout: one page built with PAGE.ADD holds the extend data (0x0) and REPORTDATA
 * (0x40); the next page receives the TDREPORT; 0x300000 is never mapped. */
#define GPA_DATA 0x200000u
#define GPA_EXTEND GPA_DATA
#define GPA_REPORTDATA (GPA_DATA + 0x40u)
#define GPA_REPORT 0x201000u
#define GPA_UNMAPPED 0x300000u
#define GPA_SHARED_BIT (UINT64_C(1) << 47) /* GPAW 48 */

struct mr_td {
	struct fx f;
	struct fx_td1 t;
	struct td_params p;
	uint8_t extend[MR], reportdata[REPORTDATA_SIZE];
};

/* fx_td1_up with ATTRIBUTES.DEBUG (so the host can read guest memory with TDH.MEM.RD) and
 * non-zero MRCONFIGID / MROWNER / MROWNERCONFIG; the data page added before finalizing. */
static bool mr_up(struct mr_td *m)
{
	struct fx *f = &m->f;
	struct fx_td1 *t = &m->t;
	uint8_t page[4096] = { 0 };

	if (!fx_create(f))
		return false;
	fx_td_params_default(&m->p);
	m->p.attributes = TD_ATTRIBUTES_DEBUG_MASK;
	for (unsigned i = 0; i < 6; i++) {
		m->p.mr_config_id[i] = 0x1111111111111111ull * (i + 1);
		m->p.mr_owner[i] = 0x0202020202020202ull * (i + 1);
		m->p.mr_owner_config[i] = 0x3030303030303030ull + i;
	}
	if (!fx_td1_up_params(f, t, &m->p, false))
		return false;
	for (unsigned i = 0; i < MR; i++)
		m->extend[i] = (uint8_t)(0xc0 + i);
	for (unsigned i = 0; i < REPORTDATA_SIZE; i++)
		m->reportdata[i] = (uint8_t)(3 * i + 7);
	memcpy(page + (GPA_EXTEND - GPA_DATA), m->extend, MR);
	memcpy(page + (GPA_REPORTDATA - GPA_DATA), m->reportdata, REPORTDATA_SIZE);
	return fx_td1_map(f, t, GPA_DATA, page) == TDX_SUCCESS && fx_td1_map(f, t, GPA_REPORT, NULL) == TDX_SUCCESS &&
	       tdh_mr_finalize(f->h, 0, t->td.tdr) == TDX_SUCCESS;
}

static void mr_down(struct mr_td *m)
{
	CHECK(fx_td1_down(&m->f, &m->t, 0));
	fx_destroy(&m->f);
}

/* Guest memory through TDH.MEM.RD / WR, one qword at a time. */
static bool guest_read(struct mr_td *m, uint64_t gpa, void *buf, size_t len)
{
	struct tdx_module_args a;
	uint8_t *b = buf;

	for (size_t off = 0; off < len; off += 8) {
		uint64_t v;
		if (tdh_mem_rd(m->f.h, 0, m->t.td.tdr, gpa + off, &v, &a))
			return false;
		memcpy(b + off, &v, 8);
	}
	return true;
}

static bool guest_write(struct mr_td *m, uint64_t gpa, const void *buf, size_t len)
{
	struct tdx_module_args a;
	const uint8_t *b = buf;

	for (size_t off = 0; off < len; off += 8) {
		uint64_t v, old;
		memcpy(&v, b + off, 8);
		if (tdh_mem_wr(m->f.h, 0, m->t.td.tdr, gpa + off, v, &old, &a))
			return false;
	}
	return true;
}

/* One TDCALL; returns the status the guest got in RAX (~0 if VP.ENTER ended otherwise). */
static uint64_t tdcall(struct mr_td *m, unsigned leaf, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
	struct plat_guest_regs io = { .gpr = { [GPR_RAX] = leaf, [GPR_RCX] = rcx, [GPR_RDX] = rdx, [GPR_R8] = r8 } };

	if (fx_tdcall(&m->f, &m->t, &io) != VMEXIT_REASON_TDCALL)
		return ~UINT64_C(0);
	return io.gpr[GPR_RAX];
}

static uint64_t tdcall_exit(struct mr_td *m, unsigned leaf, uint64_t rcx, uint64_t rdx)
{
	struct plat_guest_regs io = { .gpr = { [GPR_RAX] = leaf, [GPR_RCX] = rcx, [GPR_RDX] = rdx } };

	return fx_tdcall(&m->f, &m->t, &io);
}

/* RTMR[idx] as TDH.MNG.RD reports it (debug TD), in memory order. */
static bool rtmr_rd(struct mr_td *m, unsigned idx, uint8_t out[MR])
{
	for (unsigned e = 0; e < 6; e++) {
		uint64_t v;
		if (tdh_mng_rd(m->f.h, 0, m->t.td.tdr, MD_TD_FIELDS_RTMR_FIELD_ID + idx * 6 + e, &v))
			return false;
		memcpy(out + 8 * e, &v, 8);
	}
	return true;
}

static void expect_extend(uint8_t rtmr[MR], const uint8_t data[MR])
{
	uint8_t cat[2 * MR];

	memcpy(cat, rtmr, MR);
	memcpy(cat + MR, data, MR);
	SHA384(cat, sizeof(cat), rtmr);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 8; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

TEST(tdg_mr_rtmr_extend_values)
{
	struct mr_td m;
	uint8_t want[4][MR] = { { 0 } }, got[MR], data2[MR];

	REQUIRE(mr_up(&m));
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, 0, 0), TDX_SUCCESS);
	expect_extend(want[0], m.extend);
	/* The guest changes the data: the second extend hashes the new bytes onto the first. */
	for (unsigned i = 0; i < MR; i++)
		data2[i] = (uint8_t)~m.extend[i];
	REQUIRE(guest_write(&m, GPA_EXTEND, data2, MR));
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, 0, 0), TDX_SUCCESS);
	expect_extend(want[0], data2);
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, 3, 0), TDX_SUCCESS);
	expect_extend(want[3], data2);
	for (unsigned i = 0; i < 4; i++) {
		REQUIRE(rtmr_rd(&m, i, got));
		CHECK(!memcmp(got, want[i], MR));
	}
	mr_down(&m);
}

TEST(tdg_mr_rtmr_extend_errors)
{
	struct mr_td m;
	uint8_t zero[MR] = { 0 }, got[MR];
	const uint64_t inval = TDX_OPERAND_INVALID;

	REQUIRE(mr_up(&m));
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND + 8, 0, 0), inval + OPERAND_ID_RCX);
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND + 32, 0, 0), inval + OPERAND_ID_RCX);
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND | GPA_SHARED_BIT, 0, 0), inval + OPERAND_ID_RCX);
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, UINT64_C(1) << 48, 0, 0), inval + OPERAND_ID_RCX);
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, 4, 0), inval + OPERAND_ID_RDX);
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, UINT64_C(1) << 32, 0), inval + OPERAND_ID_RDX);
	/* The GPA is checked before the index, as in the real module. */
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND + 8, 4, 0), inval + OPERAND_ID_RCX);
	/* An unmapped page is not answered in the guest: the TDCALL becomes an EPT-violation exit. */
	CHECK_EQ(tdcall_exit(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_UNMAPPED, 0), VMEXIT_REASON_EPT_VIOLATION);
	REQUIRE_EQ(module_debug_td_lock(m.f.p, MODULE_DEBUG_TD_RTMR, m.t.td.tdr, 0, true), 0);
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, 1, 0), TDX_OPERAND_BUSY + OPERAND_ID_RTMR);
	REQUIRE_EQ(module_debug_td_lock(m.f.p, MODULE_DEBUG_TD_RTMR, m.t.td.tdr, 0, false), 0);
	for (unsigned i = 0; i < 4; i++) {
		REQUIRE(rtmr_rd(&m, i, got));
		CHECK(!memcmp(got, zero, MR));
	}
	mr_down(&m);
}

/* The profile the fixture's module runs (fx_create: tdx-1.5.01). */
static const struct module_profile_desc *profile_1_5_01(void)
{
	for (unsigned i = 0; i < module_profiles_count; i++)
		if (!strcmp(module_profiles[i].name, "tdx-1.5.01"))
			return &module_profiles[i];
	return NULL;
}

/* Every TDREPORT field: REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO. */
TEST(tdg_mr_report_fields)
{
	struct mr_td m;
	const struct module_profile_desc *prof = profile_1_5_01();
	uint8_t r[TDREPORT_STRUCT_SIZE], rtmr0[MR] = { 0 }, h[MR], mac[PLAT_REPORT_MAC_SIZE], zero[64] = { 0 };
	const uint8_t *rms = r + TDREPORT_STRUCT_OFF_REPORTMACSTRUCT, *ti = r + TDREPORT_STRUCT_OFF_TDINFO;

	REQUIRE(prof);
	REQUIRE(mr_up(&m));
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, 0, 0), TDX_SUCCESS);
	expect_extend(rtmr0, m.extend);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, 0), TDX_SUCCESS);
	REQUIRE(guest_read(&m, GPA_REPORT, r, sizeof(r)));

	/* TDINFO: the TD's configuration and measurements. */
	CHECK_EQ(le64(ti + TDINFO_OFF_ATTRIBUTES), m.p.attributes);
	CHECK_EQ(le64(ti + TDINFO_OFF_XFAM), m.p.xfam);
	for (unsigned e = 0; e < 6; e++) {
		uint64_t v;
		REQUIRE_EQ(tdh_mng_rd(m.f.h, 0, m.t.td.tdr, MD_TD_FIELDS_MRTD_FIELD_ID + e, &v), TDX_SUCCESS);
		CHECK_EQ(le64(ti + TDINFO_OFF_MRTD + 8 * e), v);
		CHECK_EQ(le64(ti + TDINFO_OFF_MRCONFIGID + 8 * e), m.p.mr_config_id[e]);
		CHECK_EQ(le64(ti + TDINFO_OFF_MROWNER + 8 * e), m.p.mr_owner[e]);
		CHECK_EQ(le64(ti + TDINFO_OFF_MROWNERCONFIG + 8 * e), m.p.mr_owner_config[e]);
	}
	CHECK(memcmp(ti + TDINFO_OFF_MRTD, zero, MR) != 0); /* finalized: a real hash */
	CHECK(!memcmp(ti + TDINFO_OFF_RTMR_0, rtmr0, MR));
	for (unsigned i = 1; i < 4; i++)
		CHECK(!memcmp(ti + TDINFO_OFF_RTMR_0 + i * TDINFO_SZ_RTMR_0, zero, MR));
	CHECK(!memcmp(ti + TDINFO_OFF_SERVTD_HASH, zero, TDINFO_SZ_SERVTD_HASH));
	CHECK(!memcmp(ti + TDINFO_OFF_RESERVED, zero, TDINFO_SZ_RESERVED));

	/* TEE_TCB_INFO: the profile's simulated module values. */
	CHECK(!memcmp(r + TDREPORT_STRUCT_OFF_TEE_TCB_INFO, prof->tee_tcb_info, TEE_TCB_INFO_SIZE));
	CHECK(memcmp(prof->tee_tcb_info + TEE_TCB_INFO_OFF_MRSEAM, zero, MR) != 0);
	CHECK_EQ(le64(prof->tee_tcb_info + TEE_TCB_INFO_OFF_VALID) >> (TEE_TCB_INFO_OFF_MRSEAM / 8) & 1, 1);

	/* REPORTMACSTRUCT. */
	CHECK_EQ(rms[REPORTMACSTRUCT_OFF_REPORTTYPE + REPORTTYPE_OFF_TYPE], TDX_REPORT_TYPE);
	CHECK_EQ(rms[REPORTMACSTRUCT_OFF_REPORTTYPE + REPORTTYPE_OFF_SUBTYPE], TDX_REPORT_SUBTYPE);
	CHECK_EQ(rms[REPORTMACSTRUCT_OFF_REPORTTYPE + REPORTTYPE_OFF_VERSION], TDX_REPORT_VERSION_NO_SERVTDS);
	CHECK_EQ(rms[REPORTMACSTRUCT_OFF_REPORTTYPE + REPORTTYPE_OFF_RESERVED], 0);
	CHECK(!memcmp(rms + REPORTMACSTRUCT_OFF_RESERVED_0, zero, REPORTMACSTRUCT_SZ_RESERVED_0));
	CHECK(!memcmp(rms + REPORTMACSTRUCT_OFF_RESERVED_1, zero, REPORTMACSTRUCT_SZ_RESERVED_1));
	CHECK(!memcmp(rms + REPORTMACSTRUCT_OFF_CPUSVN, prof->cpusvn, REPORTMACSTRUCT_SZ_CPUSVN));
	SHA384(r + TDREPORT_STRUCT_OFF_TEE_TCB_INFO, TEE_TCB_INFO_SIZE, h);
	CHECK(!memcmp(rms + REPORTMACSTRUCT_OFF_TEE_TCB_INFO_HASH, h, MR));
	SHA384(ti, TDINFO_SIZE, h);
	CHECK(!memcmp(rms + REPORTMACSTRUCT_OFF_TEE_INFO_HASH, h, MR));
	CHECK(!memcmp(rms + REPORTMACSTRUCT_OFF_REPORTDATA, m.reportdata, REPORTDATA_SIZE));

	/* The MAC is the platform's over the bytes before it; one changed byte breaks it. */
	REQUIRE(plat_report_mac(m.f.p, rms, REPORTMACSTRUCT_OFF_MAC, mac));
	CHECK(!memcmp(rms + REPORTMACSTRUCT_OFF_MAC, mac, sizeof(mac)));
	r[TDREPORT_STRUCT_OFF_REPORTMACSTRUCT + REPORTMACSTRUCT_OFF_REPORTDATA + 5] ^= 1;
	REQUIRE(plat_report_mac(m.f.p, rms, REPORTMACSTRUCT_OFF_MAC, mac));
	CHECK(memcmp(rms + REPORTMACSTRUCT_OFF_MAC, mac, sizeof(mac)) != 0);
	mr_down(&m);
}

/* A later extend changes the next report's RTMR and TEE_INFO_HASH; the same inputs give the
 * same report (the MAC is deterministic under the platform key). */
TEST(tdg_mr_report_follows_rtmrs)
{
	struct mr_td m;
	uint8_t r1[TDREPORT_STRUCT_SIZE], r2[TDREPORT_STRUCT_SIZE], r3[TDREPORT_STRUCT_SIZE];

	REQUIRE(mr_up(&m));
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, 0), TDX_SUCCESS);
	REQUIRE(guest_read(&m, GPA_REPORT, r1, sizeof(r1)));
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, 0), TDX_SUCCESS);
	REQUIRE(guest_read(&m, GPA_REPORT, r2, sizeof(r2)));
	CHECK(!memcmp(r1, r2, sizeof(r1)));
	CHECK_EQ(tdcall(&m, TDG_MR_RTMR_EXTEND_LEAF, GPA_EXTEND, 2, 0), TDX_SUCCESS);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, 0), TDX_SUCCESS);
	REQUIRE(guest_read(&m, GPA_REPORT, r3, sizeof(r3)));
	CHECK(memcmp(r3 + TDREPORT_STRUCT_OFF_TDINFO + TDINFO_OFF_RTMR_2, r1 + TDREPORT_STRUCT_OFF_TDINFO + TDINFO_OFF_RTMR_2,
		     MR) != 0);
	CHECK(memcmp(r3 + REPORTMACSTRUCT_OFF_TEE_INFO_HASH, r1 + REPORTMACSTRUCT_OFF_TEE_INFO_HASH, MR) != 0);
	CHECK(memcmp(r3 + REPORTMACSTRUCT_OFF_MAC, r1 + REPORTMACSTRUCT_OFF_MAC, REPORTMACSTRUCT_SZ_MAC) != 0);
	mr_down(&m);
}

/* Every failure in the real module's order; the output page stays as it was. */
TEST(tdg_mr_report_errors)
{
	struct mr_td m;
	uint8_t r[TDREPORT_STRUCT_SIZE], zero[TDREPORT_STRUCT_SIZE] = { 0 };
	const uint64_t inval = TDX_OPERAND_INVALID;

	REQUIRE(mr_up(&m));
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT + 512, GPA_REPORTDATA, 0), inval + OPERAND_ID_RCX);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA + 32, 0), inval + OPERAND_ID_RDX);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT + 512, GPA_REPORTDATA + 32, 1), inval + OPERAND_ID_RCX);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA + 32, 1), inval + OPERAND_ID_RDX);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, 1), inval + OPERAND_ID_R8);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, UINT64_C(1) << 32), inval + OPERAND_ID_R8);
	/* Shared operands: the simulated TD has no shared EPT (see tdg_mr_report.c). */
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA | GPA_SHARED_BIT, 0), inval + OPERAND_ID_RDX);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT | GPA_SHARED_BIT, GPA_REPORTDATA, 0), inval + OPERAND_ID_RCX);
	/* REPORTDATA is read (and R8 checked) before the output page is looked at. */
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_UNMAPPED, GPA_REPORTDATA, 1), inval + OPERAND_ID_R8);
	CHECK_EQ(tdcall_exit(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_UNMAPPED), VMEXIT_REASON_EPT_VIOLATION);
	CHECK_EQ(tdcall_exit(&m, TDG_MR_REPORT_LEAF, GPA_UNMAPPED, GPA_REPORTDATA), VMEXIT_REASON_EPT_VIOLATION);
	REQUIRE_EQ(module_debug_td_lock(m.f.p, MODULE_DEBUG_TD_RTMR, m.t.td.tdr, 0, true), 0);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, 0), TDX_OPERAND_BUSY + OPERAND_ID_RTMR);
	REQUIRE_EQ(module_debug_td_lock(m.f.p, MODULE_DEBUG_TD_RTMR, m.t.td.tdr, 0, false), 0);
	REQUIRE(guest_read(&m, GPA_REPORT, r, sizeof(r)));
	CHECK(!memcmp(r, zero, sizeof(r)));
	mr_down(&m);
}

/* Both profiles report TDX_FEATURES0.LOCAL_ATTESTATION = 0 (no SEAMVERIFYREPORT on the
 * simulated CPU); the real module then refuses the leaf before looking at RCX, even for a
 * genuine report. */
TEST(tdg_mr_verifyreport_without_local_attestation)
{
	struct mr_td m;
	uint64_t f0;

	REQUIRE(mr_up(&m));
	REQUIRE_EQ(tdh_sys_rd(m.f.h, 0, MD_SYS_FIELDS_TDX_FEATURES0_FIELD_ID, &f0, NULL), TDX_SUCCESS);
	CHECK_EQ(f0 >> MD_TDX_FEATURES0_LOCAL_ATTESTATION_BIT & 1, 0);
	CHECK_EQ(tdcall(&m, TDG_MR_REPORT_LEAF, GPA_REPORT, GPA_REPORTDATA, 0), TDX_SUCCESS);
	CHECK_EQ(tdcall(&m, TDG_MR_VERIFYREPORT_LEAF, GPA_REPORT, 0, 0), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(tdcall(&m, TDG_MR_VERIFYREPORT_LEAF, GPA_REPORT + 8, 0, 0), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	CHECK_EQ(tdcall(&m, TDG_MR_VERIFYREPORT_LEAF, GPA_UNMAPPED, 0, 0), TDX_OPERAND_INVALID + OPERAND_ID_RAX);
	mr_down(&m);
}

/* The report key is per platform: the same bytes MAC differently on two simulated machines. */
TEST(tdg_mr_report_key_is_per_platform)
{
	struct fx a, b;
	uint8_t data[REPORTMACSTRUCT_OFF_MAC] = { 1, 2, 3 }, ma[PLAT_REPORT_MAC_SIZE], mb[PLAT_REPORT_MAC_SIZE];
	uint8_t ma2[PLAT_REPORT_MAC_SIZE];

	REQUIRE(fx_create(&a));
	REQUIRE(fx_create(&b));
	REQUIRE(plat_report_mac(a.p, data, sizeof(data), ma));
	REQUIRE(plat_report_mac(a.p, data, sizeof(data), ma2));
	REQUIRE(plat_report_mac(b.p, data, sizeof(data), mb));
	CHECK(!memcmp(ma, ma2, sizeof(ma)));
	CHECK(memcmp(ma, mb, sizeof(ma)) != 0);
	fx_destroy(&a);
	fx_destroy(&b);
}
