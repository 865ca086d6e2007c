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

static uint64_t class_of(uint64_t id)
{
	return (id & MD_FIELD_ID_CLASS_CODE_MASK) >> MD_FIELD_ID_CLASS_CODE_SHIFT;
}

static uint64_t code_of(uint64_t id)
{
	return (id & MD_FIELD_ID_FIELD_CODE_MASK) >> MD_FIELD_ID_FIELD_CODE_SHIFT;
}

static uint64_t with_code(uint64_t id, uint64_t code)
{
	return (id & ~MD_FIELD_ID_FIELD_CODE_MASK) | (code << MD_FIELD_ID_FIELD_CODE_SHIFT);
}

static uint64_t span_of(const struct md_field_desc *d)
{
	return (uint64_t)d->num_fields * d->elems_per_field * d->stride;
}

/* The module finds a global field by binary search: the generated table must be ordered by
 * class, then field code, its entries disjoint. */
TEST(sys_metadata_table_sorted_and_disjoint)
{
	for (unsigned i = 1; i < md_sys_fields_count; i++) {
		const struct md_field_desc *a = &md_sys_fields[i - 1], *b = &md_sys_fields[i];
		CHECK(class_of(a->field_id) < class_of(b->field_id) ||
		      (class_of(a->field_id) == class_of(b->field_id) &&
		       code_of(a->field_id) + span_of(a) <= code_of(b->field_id)));
	}
}

static bool found(uint64_t st)
{
	return st == TDX_SUCCESS || st == TDX_METADATA_FIELD_NOT_READABLE;
}

/* Ids just outside every entry (in a gap, past a class's last entry, before the first one)
 * are no field; the first and last element of every entry are. */
TEST(sys_rd_entry_bounds)
{
	struct fx f;
	uint64_t v, n;
	unsigned misses = 0;

	REQUIRE(fx_create(&f));
	REQUIRE(fx_sys_and_lp_init(&f));
	for (unsigned i = 0; i < md_sys_fields_count; i++) {
		const struct md_field_desc *d = &md_sys_fields[i], *next = i + 1 < md_sys_fields_count ? d + 1 : NULL;
		uint64_t end = code_of(d->field_id) + span_of(d), last = with_code(d->field_id, end - d->stride);

		/* found: read, or refused as not readable by the host (no such entry here today) */
		CHECK(found(rd(&f, d->field_id, &v, &n)));
		CHECK(found(rd(&f, last, &v, &n)));
		if (!next || class_of(next->field_id) != class_of(d->field_id) || code_of(next->field_id) > end) {
			CHECK_EQ(rd(&f, with_code(d->field_id, end), &v, &n), TDX_METADATA_FIELD_ID_INCORRECT);
			misses++;
		}
		if (i == 0 || class_of(d[-1].field_id) != class_of(d->field_id)) {
			if (code_of(d->field_id) > 0) {
				CHECK_EQ(rd(&f, with_code(d->field_id, code_of(d->field_id) - 1), &v, &n),
					 TDX_METADATA_FIELD_ID_INCORRECT);
				misses++;
			}
		}
	}
	CHECK(misses > 5);
	fx_destroy(&f);
}
