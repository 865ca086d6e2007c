/* TDH.MNG.INIT: the TD_PARAMS checks in the real module's order, the state checks, and the
 * configuration (execution controls, virtual CPUID, IA32_ARCH_CAPABILITIES) read back
 * through TDH.MNG.RD. */
#include <string.h>

#include "fixture.h"

#define BIT(n) (UINT64_C(1) << (n))
#define SPR_FMS 0x806f8u /* the simulated CPU's F/M/S */
#define ARCH_CAP_SSB_NO BIT(4)
#define ARCH_CAP_TSX_CTRL BIT(7)
#define ARCH_CAP_RRSBA BIT(19)

/* TDH.MNG.INIT with the default TD_PARAMS modified by `mod`; the status must be `status`. */
#define CHECK_INIT(f, td, mod, status)                                  \
	do {                                                            \
		struct td_params tp_;                                   \
		fx_td_params_default(&tp_);                             \
		mod;                                                    \
		CHECK_EQ(fx_td_init(f, td, &tp_, NULL), status);        \
	} while (0)

/* As CHECK_INIT, and RCX must be `want` (CPUID_CONFIG errors name the leaf there). */
#define CHECK_INIT_RCX(f, td, mod, status, want)                       \
	do {                                                            \
		struct td_params tp_;                                   \
		struct tdx_module_args o_;                              \
		fx_td_params_default(&tp_);                             \
		mod;                                                    \
		CHECK_EQ(fx_td_init(f, td, &tp_, &o_), status);         \
		CHECK_EQ(o_.rcx, want);                                 \
	} while (0)

static uint64_t rd(struct fx *f, struct fx_td *td, uint64_t field_id)
{
	uint64_t v = UINT64_MAX;
	uint64_t ret = tdh_mng_rd(f->h, 0, td->tdr, field_id, &v);
	return ret ? ret : v;
}

/* CPUID_VALUES field id of (leaf, subleaf); elem 0 = EBX:EAX, 1 = EDX:ECX. */
static uint64_t cpuid_id(uint32_t leaf, uint32_t subleaf, unsigned elem)
{
	uint64_t code = elem | ((uint64_t)(leaf & 0x7f) << 9) | ((uint64_t)(leaf >> 31) << 16);
	code |= subleaf == UINT32_MAX ? 0x100 : (uint64_t)(subleaf & 0x7f) << 1;
	return MD_TD_FIELDS_CPUID_VALUES_FIELD_ID | code;
}

static uint64_t cpuid_lo(struct fx *f, struct fx_td *td, uint32_t leaf, uint32_t subleaf)
{
	return rd(f, td, cpuid_id(leaf, subleaf, 0));
}

static uint64_t cpuid_hi(struct fx *f, struct fx_td *td, uint32_t leaf, uint32_t subleaf)
{
	return rd(f, td, cpuid_id(leaf, subleaf, 1));
}

/* A fresh TD initialised with p (bring-up already done). */
static bool td_with(struct fx *f, struct fx_td *td, const struct td_params *p)
{
	return fx_td_create(f, td) && fx_td_init(f, td, p, NULL) == TDX_SUCCESS;
}

/* A TD stopped part-way: created with the first free HKID, keys on every package if `keys`,
 * then ncx TDCS pages. */
static bool td_partial(struct fx *f, struct fx_td *td, bool keys, unsigned ncx)
{
	memset(td, 0, sizeof(*td));
	td->tdr = fx_page(f);
	for (td->hkid = f->h->tdx_keyid_start; tdh_mng_create(f->h, 0, td->tdr, td->hkid); td->hkid++)
		if (td->hkid >= f->h->tdx_keyid_start + f->h->nr_tdx_keyids)
			return false;
	for (unsigned pkg = 0; keys && pkg < plat_nr_packages(f->p); pkg++)
		if (tdh_mng_key_config(f->h, plat_package_first_lp(f->p, pkg), td->tdr))
			return false;
	for (; td->nr_tdcx < ncx; td->nr_tdcx++) {
		td->tdcx[td->nr_tdcx] = fx_page(f);
		if (tdh_mng_addcx(f->h, 0, td->tdr, td->tdcx[td->nr_tdcx]))
			return false;
	}
	return true;
}

TEST(mng_init_success_and_values)
{
	struct fx f;
	struct fx_td td;
	struct td_params p;
	struct tdx_module_args o;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	fx_td_params_default(&p);
	p.mr_config_id[0] = 0x1122334455667788ull;
	p.mr_owner[5] = 0xaa;
	p.mr_owner_config[2] = 0xbb;
	REQUIRE_EQ(fx_td_init(&f, &td, &p, &o), TDX_SUCCESS);
	CHECK_EQ(o.rcx, 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_OP_STATE_FIELD_ID), 1); /* INITIALIZED */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_ATTRIBUTES_FIELD_ID), p.attributes);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_XFAM_FIELD_ID), p.xfam);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_MAX_VCPUS_FIELD_ID), p.max_vcpus);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_TSC_FREQUENCY_FIELD_ID), p.tsc_frequency);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_NUM_L2_VMS_FIELD_ID), 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_CONFIG_FLAGS_FIELD_ID), 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_GPAW_FIELD_ID), 0);
	/* the EPTP points at the SEPT root (TDCS page 3) */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_EPTP_FIELD_ID), p.eptp_controls | td.tdcx[3]);
	/* 2.5 GHz on a 2 GHz TSC (CPUID 0x15: 25 MHz x 160 / 2): 1.25 in 16.48 fixed point */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_TSC_MULTIPLIER_FIELD_ID), 5ull << 46);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_TSC_OFFSET_FIELD_ID), 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_HP_LOCK_TIMEOUT_FIELD_ID), 1000000); /* one second, in us */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_TD_EPOCH_FIELD_ID), 1);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_NUM_VCPUS_FIELD_ID), 0);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_XBUFF_SIZE_FIELD_ID), 576); /* legacy area + header only */
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_MRCONFIGID_FIELD_ID), 0x1122334455667788ull);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_MROWNER_FIELD_ID + 5), 0xaa);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_MROWNERCONFIG_FIELD_ID + 2), 0xbb);
	/* TD_PARAMS is not measured: MRTD stays zero until TDH.MR.FINALIZE */
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_MRTD_FIELD_ID + i), 0);
	/* CPUID: the platform F/M/S, TSC leaf, XSAVE leaf for XFAM = x87|SSE */
	CHECK_EQ(cpuid_lo(&f, &td, 1, UINT32_MAX) & 0xffffffff, SPR_FMS);
	CHECK_EQ(cpuid_lo(&f, &td, 0x15, UINT32_MAX), (100ull << 32) | 1);
	CHECK_EQ(cpuid_hi(&f, &td, 0x15, UINT32_MAX), 25000000);
	CHECK_EQ(cpuid_lo(&f, &td, 0xd, 0), 3);
	CHECK_EQ(cpuid_hi(&f, &td, 0xd, 0), 576);
	CHECK_EQ(cpuid_lo(&f, &td, 0xd, 2), 0); /* AVX state off */
	/* initialised once only */
	CHECK_EQ(fx_td_init(&f, &td, &p, NULL), TDX_OP_STATE_INCORRECT);
	fx_destroy(&f);
}

TEST(mng_init_state_and_tdr_errors)
{
	struct fx f;
	struct fx_td td, nokeys, few;
	struct td_params p;
	uint64_t misc;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	fx_td_params_default(&p);
	REQUIRE(td_partial(&f, &nokeys, false, 0));
	REQUIRE(td_partial(&f, &few, true, 5));
	REQUIRE(td_partial(&f, &td, true, 6));
	/* CPUID limited by the BIOS (IA32_MISC_ENABLE.BOOT_NT4): checked before anything else */
	REQUIRE(plat_rdmsr(f.p, 0, MSR_IA32_MISC_ENABLE, &misc) == 0);
	plat_wrmsr(f.p, 0, MSR_IA32_MISC_ENABLE, misc | BIT(22));
	CHECK_EQ(fx_td_init(&f, &td, &p, NULL), TDX_LIMIT_CPUID_MAXVAL_SET);
	plat_wrmsr(f.p, 0, MSR_IA32_MISC_ENABLE, misc);
	/* the TDR operand */
	{
		struct fx_td bad = td;
		bad.tdr = td.tdr + 8;
		CHECK_EQ(fx_td_init(&f, &bad, &p, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
		bad.tdr = td.tdr | ((uint64_t)td.hkid << plat_hkid_shift(f.p));
		CHECK_EQ(fx_td_init(&f, &bad, &p, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
		bad.tdr = 3 * GiB;
		CHECK_EQ(fx_td_init(&f, &bad, &p, NULL), TDX_OPERAND_ADDR_RANGE_ERROR + OPERAND_ID_RCX);
		bad.tdr = td.tdcx[0];
		CHECK_EQ(fx_td_init(&f, &bad, &p, NULL), TDX_PAGE_METADATA_INCORRECT + OPERAND_ID_RCX);
	}
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, true) == 0);
	CHECK_EQ(fx_td_init(&f, &td, &p, NULL), TDX_OPERAND_BUSY + OPERAND_ID_RCX);
	module_debug_lock(f.p, MODULE_DEBUG_PAMT_ENTRY, td.tdr, false);
	/* TD state */
	CHECK_EQ(fx_td_init(&f, &nokeys, &p, NULL), TDX_TD_KEYS_NOT_CONFIGURED);
	CHECK_EQ(fx_td_init(&f, &few, &p, NULL), TDX_TDCS_NOT_ALLOCATED);
	CHECK_EQ(fx_td_init(&f, &td, &p, NULL), TDX_SUCCESS);
	CHECK_EQ(fx_td_init(&f, &td, &p, NULL), TDX_OP_STATE_INCORRECT);
	/* in teardown the keys are gone */
	CHECK_EQ(tdh_mng_vpflushdone(f.h, 0, few.tdr), TDX_SUCCESS);
	CHECK_EQ(fx_td_init(&f, &few, &p, NULL), TDX_TD_KEYS_NOT_CONFIGURED);
	fx_destroy(&f);
}

TEST(mng_init_td_params_address)
{
	struct fx f;
	struct fx_td td;
	struct td_params p;
	struct tdx_module_args o;
	struct plat_sysinfo si;
	uint64_t pa;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	fx_td_params_default(&p);
	pa = host_alloc_phys(f.h, 2048, 1024, 0);
	REQUIRE(plat_host_write(f.p, pa, &p, sizeof(p)) == 0);
	CHECK_EQ(tdh_mng_init(f.h, 0, td.tdr, pa + 512, &o), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mng_init(f.h, 0, td.tdr, pa | BIT(52), &o), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(tdh_mng_init(f.h, 0, td.tdr, pa | ((uint64_t)td.hkid << plat_hkid_shift(f.p)), &o),
		 TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	plat_sysinfo_get(f.p, &si);
	CHECK_EQ(tdh_mng_init(f.h, 0, td.tdr, si.seamrr_base + si.seamrr_size - 1024, &o),
		 TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	/* a shared (MKTME) KeyID is fine: the module reads it as shared memory */
	CHECK_EQ(tdh_mng_init(f.h, 0, td.tdr, pa, &o), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(mng_init_attributes_and_xfam)
{
	struct fx f;
	struct fx_td td;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	/* ATTRIBUTES: outside fixed0; a migratable TD can be neither DEBUG nor PERFMON */
	CHECK_INIT(&f, &td, tp_.attributes = BIT(1), TDX_OPERAND_INVALID + OPERAND_ID_ATTRIBUTES);
	CHECK_INIT(&f, &td, tp_.attributes = BIT(32), TDX_OPERAND_INVALID + OPERAND_ID_ATTRIBUTES);
	CHECK_INIT(&f, &td, tp_.attributes = TD_ATTRIBUTES_MIGRATABLE_MASK | TD_ATTRIBUTES_DEBUG_MASK,
		   TDX_OPERAND_INVALID + OPERAND_ID_ATTRIBUTES);
	CHECK_INIT(&f, &td, tp_.attributes = TD_ATTRIBUTES_MIGRATABLE_MASK | TD_ATTRIBUTES_PERFMON_MASK,
		   TDX_OPERAND_INVALID + OPERAND_ID_ATTRIBUTES);
	/* XFAM: outside fixed0, x87/SSE missing, partial AVX512, AVX512 without AVX, CET and AMX halves */
	CHECK_INIT(&f, &td, tp_.xfam = 0x3 | BIT(3), TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	CHECK_INIT(&f, &td, tp_.xfam = 0x3 | BIT(19), TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	CHECK_INIT(&f, &td, tp_.xfam = 0x1, TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	CHECK_INIT(&f, &td, tp_.xfam = 0x7 | BIT(5), TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	CHECK_INIT(&f, &td, tp_.xfam = 0x3 | BIT(5) | BIT(6) | BIT(7), TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	CHECK_INIT(&f, &td, tp_.xfam = 0x3 | BIT(11), TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	CHECK_INIT(&f, &td, tp_.xfam = 0x3 | BIT(12), TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	CHECK_INIT(&f, &td, tp_.xfam = 0x3 | BIT(17), TDX_OPERAND_INVALID + OPERAND_ID_XFAM);
	/* a failed call leaves the TD retryable */
	CHECK_INIT(&f, &td, tp_.xfam = 0xe7 | BIT(11) | BIT(12) | BIT(17) | BIT(18), TDX_SUCCESS);
	fx_destroy(&f);
}

TEST(mng_init_vcpus_l2_and_reserved)
{
	struct fx f;
	struct fx_td td, mig;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	REQUIRE(fx_td_create(&f, &mig));
	CHECK_INIT(&f, &td, tp_.max_vcpus = 0, TDX_OPERAND_INVALID + OPERAND_ID_MAX_VCPUS);
	CHECK_INIT(&f, &td, tp_.num_l2_vms = 4, TDX_OPERAND_INVALID + OPERAND_ID_NUM_L2_VMS);
	/* an L2 VM needs a 7th TDCS page */
	CHECK_INIT(&f, &td, tp_.num_l2_vms = 1, TDX_TDCS_NOT_ALLOCATED);
	CHECK_INIT(&f, &td, tp_.reserved_0[3] = 1, TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	/* migratable TDs cannot have L2 VMs: the last check of all */
	mig.tdcx[6] = fx_page(&f);
	REQUIRE_EQ(tdh_mng_addcx(f.h, 0, mig.tdr, mig.tdcx[6]), TDX_SUCCESS);
	mig.nr_tdcx = 7;
	CHECK_INIT(&f, &mig, tp_.num_l2_vms = 2, TDX_TDCS_NOT_ALLOCATED);
	CHECK_INIT(&f, &mig, (tp_.num_l2_vms = 1, tp_.attributes = TD_ATTRIBUTES_MIGRATABLE_MASK),
		   TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_INIT(&f, &mig, tp_.num_l2_vms = 1, TDX_SUCCESS);
	CHECK_EQ(rd(&f, &mig, MD_TD_FIELDS_NUM_L2_VMS_FIELD_ID), 1);
	fx_destroy(&f);
}

TEST(mng_init_config_flags_and_eptp)
{
	struct fx f;
	struct fx_td td, td5;
	struct td_params p;
	const uint64_t pwl5 = 4ull << EPTP_CONTROLS_EPT_PWL_SHIFT;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	CHECK_INIT(&f, &td, tp_.config_flags = BIT(3), TDX_OPERAND_INVALID + OPERAND_ID_EXEC_CONTROLS);
	CHECK_INIT(&f, &td, tp_.config_flags = BIT(63), TDX_OPERAND_INVALID + OPERAND_ID_EXEC_CONTROLS);
	/* memory type, page-walk length, A/D, SSS, reserved bits, a base address */
	CHECK_INIT(&f, &td, tp_.eptp_controls = (3ull << 3) | 0, TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	CHECK_INIT(&f, &td, tp_.eptp_controls = (2ull << 3) | 6, TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	CHECK_INIT(&f, &td, tp_.eptp_controls = (5ull << 3) | 6, TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	CHECK_INIT(&f, &td, tp_.eptp_controls |= BIT(6), TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	CHECK_INIT(&f, &td, tp_.eptp_controls |= BIT(7), TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	CHECK_INIT(&f, &td, tp_.eptp_controls |= BIT(8), TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	CHECK_INIT(&f, &td, tp_.eptp_controls |= BIT(52), TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	CHECK_INIT(&f, &td, tp_.eptp_controls |= 0x1000, TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	/* a 52-bit GPA space needs 5-level EPT */
	CHECK_INIT(&f, &td, tp_.config_flags = CONFIG_FLAGS_GPAW_MASK, TDX_OPERAND_INVALID + OPERAND_ID_EPTP_CONTROLS);
	/* 5 levels with GPAW 48 is fine (the platform's MAX_PA is 52, the CPU has PML5) */
	CHECK_INIT(&f, &td, (tp_.eptp_controls = pwl5 | 6, tp_.reserved_1[0] = 1), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	fx_td_params_default(&p);
	p.eptp_controls = pwl5 | 6;
	p.config_flags = CONFIG_FLAGS_GPAW_MASK | CONFIG_FLAGS_FLEXIBLE_PENDING_VE_MASK | CONFIG_FLAGS_NO_RBP_MOD_MASK;
	REQUIRE(td_with(&f, &td5, &p));
	CHECK_EQ(rd(&f, &td5, MD_TD_FIELDS_GPAW_FIELD_ID), 1);
	CHECK_EQ(rd(&f, &td5, MD_TD_FIELDS_CONFIG_FLAGS_FIELD_ID), p.config_flags);
	CHECK_EQ(rd(&f, &td5, MD_TD_FIELDS_EPTP_FIELD_ID), pwl5 | 6 | td5.tdcx[3]);
	fx_destroy(&f);
}

TEST(mng_init_tsc_msr_ctls_and_reserved)
{
	struct fx f;
	struct fx_td td, fast;
	struct td_params p;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	CHECK_INIT(&f, &td, tp_.tsc_frequency = 3, TDX_OPERAND_INVALID + OPERAND_ID_TSC_FREQUENCY);
	CHECK_INIT(&f, &td, tp_.tsc_frequency = 401, TDX_OPERAND_INVALID + OPERAND_ID_TSC_FREQUENCY);
	CHECK_INIT(&f, &td, tp_.tsc_frequency = 0, TDX_OPERAND_INVALID + OPERAND_ID_TSC_FREQUENCY);
	/* the bounds pass: the next check (RESERVED_1) is the one that fails */
	CHECK_INIT(&f, &td, (tp_.tsc_frequency = 4, tp_.reserved_1[37] = 1), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_INIT(&f, &td, (tp_.tsc_frequency = 400, tp_.reserved_1[0] = 1), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_INIT(&f, &td, tp_.msr_config_ctls = 0x2, TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_INIT(&f, &td, tp_.msr_config_ctls = 0x80, TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_INIT(&f, &td, tp_.reserved_2[23] = 1, TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_INIT(&f, &td, tp_.reserved_3[575] = 1, TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	fx_td_params_default(&p);
	p.tsc_frequency = 400; /* 10 GHz on a 2 GHz TSC */
	REQUIRE(td_with(&f, &fast, &p));
	CHECK_EQ(rd(&f, &fast, MD_TD_FIELDS_TSC_MULTIPLIER_FIELD_ID), 5ull << 48);
	CHECK_EQ(cpuid_lo(&f, &fast, 0x15, UINT32_MAX) >> 32, 400);
	fx_destroy(&f);
}

TEST(mng_init_cpuid_config_errors)
{
	struct fx f;
	struct fx_td td;
	const uint64_t mig = TD_ATTRIBUTES_MIGRATABLE_MASK;
	uint64_t cap;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	/* bits neither CONFIG_DIRECT nor ALLOW_DIRECT: RCX names the leaf and subleaf */
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[0].ecx = 1, TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG,
		       0xFFFFFFFF00000001ull);
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[2].edx = BIT(2), TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG,
		       0x0000000100000004ull);
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[5].eax = 1, TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG, 7);
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[9].eax = 0x30, TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG,
		       0xFFFFFFFF80000008ull);
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[11].ebx = 1, TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG,
		       0x23);
	/* F/M/S: a non-migratable TD gets 0 (= platform) or the platform's exact value */
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[0].eax = SPR_FMS - 1, TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG,
		       0xFFFFFFFF00000001ull);
	CHECK_INIT_RCX(&f, &td, (tp_.cpuid_config_vals[0].eax = SPR_FMS, tp_.reserved_3[0] = 1),
		       TDX_OPERAND_INVALID + OPERAND_ID_RDX, 0);
	/* a migratable one may claim an older stepping, not a newer one or another generation */
	CHECK_INIT_RCX(&f, &td, (tp_.attributes = mig, tp_.cpuid_config_vals[0].eax = SPR_FMS + 1),
		       TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG, 0xFFFFFFFF00000001ull);
	CHECK_INIT_RCX(&f, &td, (tp_.attributes = mig, tp_.cpuid_config_vals[0].eax = 0xC06F2),
		       TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG, 0xFFFFFFFF00000001ull);
	CHECK_INIT(&f, &td, (tp_.attributes = mig, tp_.cpuid_config_vals[0].eax = 0x806f3, tp_.reserved_3[0] = 1),
		   TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	/* TSX: HLE and RTM together (RCX not set), and only with IA32_TSX_CTRL on the platform */
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[5].ebx = BIT(4), TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG, 0);
	CHECK_INIT_RCX(&f, &td, tp_.cpuid_config_vals[5].ebx = BIT(11), TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG, 0);
	REQUIRE(plat_rdmsr(f.p, 0, MSR_IA32_ARCH_CAPABILITIES, &cap) == 0);
	plat_wrmsr(f.p, 0, MSR_IA32_ARCH_CAPABILITIES, cap & ~ARCH_CAP_TSX_CTRL);
	CHECK_INIT(&f, &td, tp_.cpuid_config_vals[5].ebx = BIT(4) | BIT(11),
		   TDX_INCORRECT_MSR_VALUE + MSR_IA32_ARCH_CAPABILITIES);
	plat_wrmsr(f.p, 0, MSR_IA32_ARCH_CAPABILITIES, cap);
	CHECK_INIT(&f, &td, tp_.cpuid_config_vals[5].ebx = BIT(4) | BIT(11), TDX_SUCCESS);
	CHECK_EQ(cpuid_lo(&f, &td, 7, 0) >> 32 & (BIT(4) | BIT(11)), BIT(4) | BIT(11));
	fx_destroy(&f);
}

TEST(mng_init_arch_capabilities)
{
	struct fx f;
	struct fx_td td, dbg;
	struct td_params p;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	REQUIRE(fx_td_create(&f, &td));
	/* configuration without MSR_CONFIG_CTLS.IA32_ARCH_CAP, or of a bit outside 0x1180010 */
	CHECK_INIT(&f, &td, tp_.ia32_arch_capabilities_config = ARCH_CAP_SSB_NO,
		   TDX_OPERAND_INVALID + OPERAND_ID_IA32_ARCH_CAPABILITIES_CONFIG);
	CHECK_INIT(&f, &td, (tp_.msr_config_ctls = 1, tp_.ia32_arch_capabilities_config = 1),
		   TDX_OPERAND_INVALID + OPERAND_ID_IA32_ARCH_CAPABILITIES_CONFIG);
	CHECK_INIT(&f, &td, (tp_.msr_config_ctls = 1, tp_.ia32_arch_capabilities_config = ARCH_CAP_TSX_CTRL),
		   TDX_OPERAND_INVALID + OPERAND_ID_IA32_ARCH_CAPABILITIES_CONFIG);
	CHECK_INIT(&f, &td, tp_.msr_config_ctls = 1, TDX_SUCCESS);
	/* Sapphire Rapids' 0x428FDEB: SSB_NO asked but not native, RRSBA forced, TSX_CTRL hidden
	 * (TSX off in the TD's CPUID), bits 10, 11, 21 and 26 forced to 0. Only a debug TD can
	 * read it back. */
	fx_td_params_default(&p);
	p.attributes = TD_ATTRIBUTES_DEBUG_MASK;
	p.msr_config_ctls = 1;
	p.ia32_arch_capabilities_config = ARCH_CAP_SSB_NO | ARCH_CAP_RRSBA;
	REQUIRE(td_with(&f, &dbg, &p));
	CHECK_EQ(rd(&f, &dbg, MD_TD_FIELDS_VIRTUAL_IA32_ARCH_CAPABILITIES_FIELD_ID), 0x8F16B);
	CHECK_EQ(rd(&f, &td, MD_TD_FIELDS_VIRTUAL_IA32_ARCH_CAPABILITIES_FIELD_ID), TDX_METADATA_FIELD_NOT_READABLE);
	fx_destroy(&f);
}

TEST(mng_init_cpuid_values)
{
	struct fx f;
	struct fx_td base, avx512, amx, cfg;
	struct td_params p;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	fx_td_params_default(&p);
	REQUIRE(td_with(&f, &base, &p));
	/* XFAM-dependent leaves are off with x87|SSE only */
	CHECK_EQ(cpuid_lo(&f, &base, 0x14, 0) | cpuid_hi(&f, &base, 0x14, 0), 0);     /* PT */
	CHECK_EQ(cpuid_lo(&f, &base, 0x1c, UINT32_MAX), 0);                            /* LBR */
	CHECK_EQ(cpuid_lo(&f, &base, 0x1d, 1) | cpuid_hi(&f, &base, 0x1d, 1), 0);     /* AMX */
	CHECK_EQ(cpuid_lo(&f, &base, 0x19, UINT32_MAX) | cpuid_hi(&f, &base, 0x19, UINT32_MAX), 0);
	CHECK_EQ(cpuid_lo(&f, &base, 0xa, UINT32_MAX) | cpuid_hi(&f, &base, 0xa, UINT32_MAX), 0); /* no PERFMON */
	CHECK_EQ(cpuid_lo(&f, &base, 0xd, 1) & 0x10, 0);                               /* no XFD */
	CHECK_EQ(cpuid_lo(&f, &base, 7, 0) >> 32 & 0x20, 0);                           /* AVX2 */
	/* ALLOW_DIRECT left 0: LA57 hidden, so 48-bit linear addresses */
	CHECK_EQ(cpuid_hi(&f, &base, 7, 0) & BIT(16), 0);
	CHECK_EQ(cpuid_lo(&f, &base, 0x80000008, UINT32_MAX) & 0xffff, 0x3034);
	CHECK_EQ(cpuid_hi(&f, &base, 7, 0) & BIT(31), 0);                              /* PKS */

	fx_td_params_default(&p);
	p.xfam = 0xe7;
	p.attributes = TD_ATTRIBUTES_PERFMON_MASK | TD_ATTRIBUTES_PKS_MASK;
	REQUIRE(td_with(&f, &avx512, &p));
	CHECK_EQ(cpuid_lo(&f, &avx512, 0xd, 0) & 0xffffffff, 0xe7);
	CHECK_EQ(cpuid_hi(&f, &avx512, 0xd, 0), 0xa80); /* ZMM_Hi256 ends the standard area */
	CHECK_EQ(cpuid_lo(&f, &avx512, 0xd, 2), (0x240ull << 32) | 0x100);
	CHECK_EQ(rd(&f, &avx512, MD_TD_FIELDS_XBUFF_OFFSETS_FIELD_ID + 2), 576);
	CHECK_EQ(rd(&f, &avx512, MD_TD_FIELDS_XBUFF_SIZE_FIELD_ID), 576 + 0x100 + 0x40 + 0x200 + 0x400);
	CHECK(cpuid_lo(&f, &avx512, 0xa, UINT32_MAX) != 0);
	CHECK_EQ(cpuid_hi(&f, &avx512, 7, 0) & BIT(31), BIT(31));

	fx_td_params_default(&p);
	p.xfam = 0x3 | BIT(17) | BIT(18);
	REQUIRE(td_with(&f, &amx, &p));
	CHECK_EQ(cpuid_lo(&f, &amx, 0xd, 0) & 0xffffffff, 0x60003);
	CHECK_EQ(cpuid_lo(&f, &amx, 0xd, 1) & 0x10, 0x10); /* XTILEDATA supports XFD */
	CHECK(cpuid_lo(&f, &amx, 0x1d, 1) != 0);

	/* CONFIG_DIRECT bits are taken as given, ALLOW_DIRECT ones kept where natively 1 */
	fx_td_params_default(&p);
	p.cpuid_config_vals[0].ebx = 0x00080000; /* CPUID(1).EBX[23:16]: 8 logical processors */
	p.cpuid_config_vals[0].eax = SPR_FMS;
	p.cpuid_config_vals[5].ecx = (uint32_t)BIT(16); /* LA57 */
	REQUIRE(td_with(&f, &cfg, &p));
	CHECK_EQ(cpuid_lo(&f, &cfg, 1, UINT32_MAX) >> 48 & 0xff, 8);
	CHECK_EQ(cpuid_lo(&f, &cfg, 1, UINT32_MAX) & 0xffffffff, SPR_FMS);
	CHECK_EQ(cpuid_hi(&f, &cfg, 7, 0) & BIT(16), BIT(16));
	CHECK_EQ(cpuid_lo(&f, &cfg, 0x80000008, UINT32_MAX) & 0xffff, 0x3934);
	fx_destroy(&f);
}

/* TDH.MNG.INIT reads the TSC: IA32_TSC_ADJUST must still be what TDH.SYS.INIT sampled. The
 * TD stays uninitialised and a later call with the MSR restored succeeds. */
TEST(mng_init_inconsistent_tsc_adjust)
{
	struct fx f;
	struct fx_td td;
	struct td_params p;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_bringup(&f));
	fx_td_params_default(&p);
	REQUIRE(td_partial(&f, &td, true, 6));
	plat_wrmsr(f.p, 0, MSR_IA32_TSC_ADJUST, (uint64_t)-5);
	CHECK_EQ(fx_td_init(&f, &td, &p, NULL), TDX_INCONSISTENT_MSR + MSR_IA32_TSC_ADJUST);
	plat_wrmsr(f.p, 0, MSR_IA32_TSC_ADJUST, 0);
	CHECK_EQ(fx_td_init(&f, &td, &p, NULL), TDX_SUCCESS);
	CHECK(fx_td_destroy(&f, &td));
	fx_destroy(&f);
}
