/* TDH.SYS.RDALL: the metadata list format, resumption, and agreement with TDH.SYS.RD. */
#include "fixture.h"

static uint64_t rd1(struct fx *f, uint64_t id)
{
	struct tdx_regs r;
	fx_call(f, 0, TDH_SYS_RD_LEAF, 0, id, 0, 0, &r);
	return r.r[TDX_REG_R8];
}

/* Walk one list page; returns the number of elements, checking each against TDH.SYS.RD. */
static unsigned check_page(struct fx *f, const uint64_t *q, unsigned *bad)
{
	unsigned used = (unsigned)(q[0] & 0xffff), seqs = (unsigned)((q[0] >> 16) & 0xffff), pos = 1, n = 0;

	for (unsigned s = 0; s < seqs && pos * 8 < used; s++) {
		uint64_t hdr = q[pos++];
		unsigned last_elem = (unsigned)((hdr >> 34) & 0xf), last_field = (unsigned)((hdr >> 38) & 0x1ff);
		unsigned stride = ((hdr >> 50) & 1) + 1;
		uint64_t base = hdr & ~((0xfull << 34) | (0x1ffull << 38));

		for (unsigned fld = 0; fld <= last_field; fld++)
			for (unsigned e = 0; e <= last_elem; e++) {
				uint64_t id = base + (uint64_t)(fld * (last_elem + 1) + e) * stride;
				if (q[pos++] != rd1(f, id))
					(*bad)++;
				n++;
			}
	}
	if (pos * 8 != used)
		(*bad)++;
	return n;
}

TEST(sys_rdall_dumps_everything)
{
	struct fx f;
	struct tdx_regs r;
	uint64_t page, id = UINT64_MAX, total = 0, st;
	uint64_t q[512];
	unsigned got = 0, bad = 0, pages = 0;
	REQUIRE(fx_create(&f));
	REQUIRE(fx_sys_and_lp_init(&f));
	for (unsigned i = 0; i < md_sys_fields_count; i++)
		total += (uint64_t)md_sys_fields[i].num_fields * md_sys_fields[i].elems_per_field;
	page = host_alloc_phys(f.h, 4096, 4096, 0);
	do {
		st = fx_call(&f, 0, TDH_SYS_RDALL_LEAF, 0, page, id, 0, &r);
		REQUIRE(st == TDX_SUCCESS || st == TDX_METADATA_LIST_OVERFLOW);
		plat_host_read(f.p, page, q, sizeof(q));
		got += check_page(&f, q, &bad);
		id = r.r[TDX_REG_R8];
		pages++;
		CHECK(st == TDX_SUCCESS ? id == UINT64_MAX : id != UINT64_MAX);
	} while (st == TDX_METADATA_LIST_OVERFLOW && pages < 16);
	CHECK_EQ(got, total);
	CHECK_EQ(bad, 0);
	fx_destroy(&f);
}

TEST(sys_rdall_operand_checks)
{
	struct fx f;
	struct tdx_regs r;
	uint64_t page;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_RDALL_LEAF, 0, 0x1000000, UINT64_MAX, 0, NULL), TDX_SYS_LP_INIT_NOT_DONE);
	REQUIRE(fx_sys_and_lp_init(&f));
	page = host_alloc_phys(f.h, 4096, 4096, 0);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_RDALL_LEAF, 0, page + 8, UINT64_MAX, 0, NULL),
		 TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	/* starting in the middle of a field, or with the wrong element size */
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_RDALL_LEAF, 0, page, MD_SYS_FIELDS_CPUID_CONFIG_VALUES_FIELD_ID + 1, 0, &r),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	CHECK_EQ(r.r[TDX_REG_R8], UINT64_MAX);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_RDALL_LEAF, 0, page, MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID ^ (1ull << 33), 0, NULL),
		 TDX_METADATA_FIELD_ID_INCORRECT);
	/* starting at a field works */
	CHECK(fx_call(&f, 0, TDH_SYS_RDALL_LEAF, 0, page, MD_SYS_FIELDS_CMR_BASE_FIELD_ID + 3, 0, NULL) != TDX_METADATA_FIELD_ID_INCORRECT);
	fx_destroy(&f);
}
