/* TDH.SYS.RD: field id rules, values of the 1.5.01 profile, next-field iteration. */
#include "fixture.h"

static uint64_t rd(struct fx *f, uint64_t id, uint64_t *val, uint64_t *next)
{
	struct tdx_regs r;
	uint64_t st = fx_call(f, 0, TDH_SYS_RD_LEAF, 0, id, 0, 0, &r);
	*val = r.r[TDX_REG_R8];
	*next = r.r[TDX_REG_RDX];
	return st;
}

TEST(sys_rd_requires_lp_init)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_RD_LEAF, 0, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, 0, 0, NULL),
		 TDX_SYS_LP_INIT_NOT_DONE);
	fx_destroy(&f);
}

TEST(sys_rd_values)
{
	struct fx f;
	uint64_t v, n;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_sys_and_lp_init(&f));
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 1);
	CHECK_EQ(n, MD_SYS_FIELDS_UPDATE_VERSION_FIELD_ID); /* next readable in table order */
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MINOR_VERSION_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 5);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_VENDOR_ID_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 0x8086);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAX_TDMRS_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 64);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_PAMT_4K_ENTRY_SIZE_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 16);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_NUM_PKGS_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 2);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_PKG_FMS_FIELD_ID + 1, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 0x806f8);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_CMR_BASE_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, plat_config(f.p)->cmr[0].base);
	CHECK_EQ(n, MD_SYS_FIELDS_CMR_BASE_FIELD_ID + 1);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_CPUID_CONFIG_LEAVES_FIELD_ID + 12, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_TDX_FEATURES0_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 0xf0ebf);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_NUM_ALLOWED_FMS_FIELD_ID, &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 1); /* SPR is the oldest allowed generation */
	fx_destroy(&f);
}

TEST(sys_rd_field_id_rules)
{
	struct fx f;
	uint64_t v, n;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_sys_and_lp_init(&f));
	/* context code and element size code of the input are ignored */
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID | (2ull << 52), &v, &n), TDX_SUCCESS);
	CHECK_EQ(v, 1);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID ^ (1ull << 33), &v, &n), TDX_SUCCESS);
	/* reserved bits, LAST_ELEMENT / LAST_FIELD must be zero */
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID | (1ull << 24), &v, &n), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID | (1ull << 34), &v, &n), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID | (1ull << 38), &v, &n), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID | (1ull << 62), &v, &n), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(n, UINT64_MAX);
	/* no such field; MAX_VCPUS_PER_TD is read by newer Linux but absent in 1.5.01 */
	CHECK_EQ(rd(&f, 0x9900000100000008ull, &v, &n), TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(rd(&f, MD_SYS_FIELDS_CMR_BASE_FIELD_ID + 32, &v, &n), TDX_METADATA_FIELD_ID_INCORRECT);
	fx_destroy(&f);
}

TEST(sys_rd_iterates_every_element)
{
	struct fx f;
	uint64_t v, id, total = 0, seen = 0;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_sys_and_lp_init(&f));
	for (unsigned i = 0; i < md_sys_fields_count; i++)
		total += (uint64_t)md_sys_fields[i].num_fields * md_sys_fields[i].elems_per_field;
	CHECK_EQ(rd(&f, UINT64_MAX, &v, &id), TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT);
	CHECK_EQ(id, md_sys_fields[0].field_id);
	while (id != UINT64_MAX && seen <= total) {
		REQUIRE_EQ(rd(&f, id, &v, &id), TDX_SUCCESS);
		seen++;
	}
	CHECK_EQ(seen, total);
	fx_destroy(&f);
}
