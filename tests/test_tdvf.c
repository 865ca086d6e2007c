/* TDVF parsing (the real Debian OVMF.fd and hostile synthetic images) and the TD HOB. */
#include <stdlib.h>
#include <string.h>

#include <stdbool.h>

#include "test.h"
#include "vmm/demo_td.h"
#include "vmm/tdvf.h"

#define OVMF "/usr/share/ovmf/OVMF.fd"

/* A minimal valid image: 64 KiB, footer table with the TDX entry, descriptor with n sections. */
struct img {
	uint8_t b[65536];
	unsigned n;
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void img_init(struct img *m)
{
	static const uint8_t footer[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
					    0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
	static const uint8_t tdx[16] = { 0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
					 0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 };
	size_t n = sizeof(m->b);

	memset(m, 0, sizeof(*m));
	memcpy(m->b + n - 48, footer, 16);
	m->b[n - 50] = 18 + 22; /* footer + one entry */
	memcpy(m->b + n - 50 - 16, tdx, 16);
	m->b[n - 50 - 18] = 22;
	put32(m->b + n - 50 - 22, 0x1000); /* descriptor 4 KiB before the end */
}

static void img_section(struct img *m, uint32_t off, uint32_t raw, uint64_t gpa, uint64_t size, uint32_t type,
			uint32_t attr)
{
	uint8_t *d = m->b + sizeof(m->b) - 0x1000;
	uint8_t *e = d + 16 + 32 * m->n++;

	put32(d, 0x46564454);
	put32(d + 4, 16 + 32 * m->n);
	put32(d + 8, 1);
	put32(d + 12, m->n);
	put32(e, off);
	put32(e + 4, raw);
	put64(e + 8, gpa);
	put64(e + 16, size);
	put32(e + 24, type);
	put32(e + 28, attr);
}

static void img_default(struct img *m)
{
	img_init(m);
	img_section(m, 0x0, 0x8000, 0xffff0000, 0x8000, TDVF_SECTION_BFV, TDVF_ATTR_MR_EXTEND);
	img_section(m, 0x8000, 0x4000, 0xffff8000, 0x4000, TDVF_SECTION_CFV, 0);
	img_section(m, 0, 0, 0x809000, 0x2000, TDVF_SECTION_TD_HOB, 0);
	img_section(m, 0, 0, 0x800000, 0x6000, TDVF_SECTION_TEMP_MEM, 0);
}

static bool parse_fails(struct img *m, const char *needle)
{
	struct tdvf t;
	char err[256] = "";
	if (tdvf_parse(m->b, sizeof(m->b), &t, err, sizeof(err)) == 0)
		return false;
	if (!strstr(err, needle)) {
		fprintf(stderr, "    error was: %s\n", err);
		return false;
	}
	return true;
}

TEST(tdvf_debian_ovmf)
{
	uint8_t *img;
	size_t n;
	char err[256];
	struct tdvf t;
	REQUIRE(tdvf_read_file(OVMF, &img, &n, err, sizeof(err)) == 0);
	REQUIRE(tdvf_parse(img, n, &t, err, sizeof(err)) == 0);
	CHECK_EQ(t.nr_sections, 6);
	CHECK_EQ(t.descriptor_offset, 0x1ff7c0);
	CHECK_EQ(t.sec[0].type, TDVF_SECTION_BFV);
	CHECK_EQ(t.sec[0].gpa, 0xffe20000);
	CHECK_EQ(t.sec[0].attributes, TDVF_ATTR_MR_EXTEND);
	CHECK_EQ(t.sec[1].type, TDVF_SECTION_CFV);
	CHECK_EQ(t.hob_index, 4);
	CHECK_EQ(t.sec[4].gpa, 0x809000);
	free(img);
}

TEST(tdvf_synthetic_ok)
{
	struct img m;
	struct tdvf t;
	char err[256];
	img_default(&m);
	CHECK(tdvf_parse(m.b, sizeof(m.b), &t, err, sizeof(err)) == 0);
	CHECK_EQ(t.nr_sections, 4);
}

TEST(tdvf_rejects_bad_images)
{
	struct img m;
	img_default(&m);
	memset(m.b + sizeof(m.b) - 48, 0, 16);
	CHECK(parse_fails(&m, "no OVMF GUIDed footer table"));
	img_default(&m);
	m.b[sizeof(m.b) - 50 - 16] ^= 1; /* another GUID */
	CHECK(parse_fails(&m, "no TDX metadata entry"));
	img_default(&m);
	m.b[sizeof(m.b) - 50] = 7;
	CHECK(parse_fails(&m, "invalid size"));
	img_default(&m);
	m.b[sizeof(m.b) - 0x1000] = 'X';
	CHECK(parse_fails(&m, "invalid TDVF signature"));
	img_default(&m);
	put32(m.b + sizeof(m.b) - 0x1000 + 8, 2);
	CHECK(parse_fails(&m, "version 2"));
	img_default(&m);
	put32(m.b + sizeof(m.b) - 0x1000 + 4, 17);
	CHECK(parse_fails(&m, "length"));
	img_init(&m);
	img_section(&m, 0, 0x1000, 0xfffff000, 0x1000, TDVF_SECTION_BFV, 1);
	CHECK(parse_fails(&m, "invalid number of sections (1)"));
}

TEST(tdvf_rejects_bad_sections)
{
	struct img m;
	img_default(&m);
	img_section(&m, 0, 0, 0x900000, 0x1000, 9, 0);
	CHECK(parse_fails(&m, "unsupported section type 9"));
	img_default(&m);
	img_section(&m, 0, 0, 0x900000, 0x1000, TDVF_SECTION_TEMP_MEM, 4);
	CHECK(parse_fails(&m, "unknown attribute bits"));
	img_default(&m);
	img_section(&m, 0, 0, 0x900000, 0x1000, TDVF_SECTION_TEMP_MEM, 3);
	CHECK(parse_fails(&m, "MR_EXTEND and PAGE_AUG"));
	img_default(&m);
	img_section(&m, 0, 0, 0x900800, 0x1000, TDVF_SECTION_TEMP_MEM, 0);
	CHECK(parse_fails(&m, "not page aligned"));
	img_default(&m);
	img_section(&m, 0, 0, 0x900000, 0x1800, TDVF_SECTION_TEMP_MEM, 0);
	CHECK(parse_fails(&m, "multiple of 4 KiB"));
	img_default(&m);
	img_section(&m, 0, 0x1000, 0x900000, 0x1000, TDVF_SECTION_TEMP_MEM, 0);
	CHECK(parse_fails(&m, "has no data in the image"));
	img_default(&m);
	img_section(&m, 0, 0, 0x900000, 0x1000, TDVF_SECTION_CFV, 0);
	CHECK(parse_fails(&m, "RawDataSize is 0"));
	img_default(&m);
	img_section(&m, 0xf000, 0x2000, 0x900000, 0x2000, TDVF_SECTION_PAYLOAD, 0);
	CHECK(parse_fails(&m, "outside the 65536-byte image"));
	img_default(&m);
	img_section(&m, 0x100, 0x1000, 0x900000, 0x1000, TDVF_SECTION_PAYLOAD, 0);
	CHECK(parse_fails(&m, "DataOffset 0x100 not page aligned"));
	img_default(&m);
	img_section(&m, 0, 0x2000, 0x900000, 0x1000, TDVF_SECTION_PAYLOAD, 0);
	CHECK(parse_fails(&m, "exceeds MemoryDataSize"));
	img_default(&m);
	img_section(&m, 0, 0, 0x805000, 0x2000, TDVF_SECTION_TEMP_MEM, 0);
	CHECK(parse_fails(&m, "overlaps section 3 (TempMem)"));
	img_default(&m);
	img_section(&m, 0, 0, 0x900000, 0x2000, TDVF_SECTION_TD_HOB, 0);
	CHECK(parse_fails(&m, "both TD_HOB"));
	img_default(&m);
	img_section(&m, 0, 0, 0xfffffffffffff000ull, 0x2000, TDVF_SECTION_TEMP_MEM, 0);
	CHECK(parse_fails(&m, "wraps"));
}

TEST(tdvf_hob_matches_qemu_layout)
{
	uint8_t *img, hob[8192];
	size_t n;
	char err[256];
	struct tdvf t;
	struct td_ram_layout l;
	long len;
	REQUIRE(tdvf_read_file(OVMF, &img, &n, err, sizeof(err)) == 0);
	REQUIRE(tdvf_parse(img, n, &t, err, sizeof(err)) == 0);
	td_ram_layout_q35(2ull << 30, &l);
	len = td_hob_build(&t, &l, hob, sizeof(hob), err, sizeof(err));
	/* PHIT + 8 resource descriptors + end, like QEMU for -m 2G */
	CHECK_EQ(len, 56 + 8 * 48 + 8);
	CHECK_EQ(l.n, 8);
	{
		uint64_t end;
		memcpy(&end, hob + 48, 8);
		CHECK_EQ(end, 0x8091c0);
	}
	CHECK_EQ(l.e[0].base, 0);
	CHECK_EQ(l.e[0].accepted, 0);
	CHECK_EQ(l.e[1].base, 0x800000);
	CHECK_EQ(l.e[1].accepted, 1);
	CHECK_EQ(l.e[7].base, 0x820000);
	CHECK_EQ(hob[56 + 24], 7); /* first range unaccepted */
	CHECK_EQ(hob[56 + 48 + 24], 0);
	td_ram_layout_q35(4ull << 30, &l);
	CHECK_EQ(td_hob_build(&t, &l, hob, sizeof(hob), err, sizeof(err)), 56 + 9 * 48 + 8);
	/* a TD with too little RAM for its firmware's temporary memory */
	td_ram_layout_q35(8ull << 20, &l);
	CHECK(td_hob_build(&t, &l, hob, sizeof(hob), err, sizeof(err)) < 0);
	CHECK(strstr(err, "not inside the TD's RAM") != NULL);
	free(img);
}

/* The embedded demo TD (guest/, tools/mk_tdvf.py) is a TDVF image the parser accepts: the
 * BFV ends at 4 GiB and is measured, the HOB and TempMem sit in RAM inside one 2 MiB page
 * (so that the rest of RAM is accepted 2 MiB at a time), and the reset vector jumps into it. */
TEST(tdvf_demo_image)
{
	struct tdvf t;
	struct td_ram_layout l;
	uint8_t hob[4096];
	char err[256];
	const uint8_t *rv = tdxemu_demo_td + tdxemu_demo_td_size - 16;
	int32_t rel;
	uint64_t target;

	REQUIRE(tdvf_parse(tdxemu_demo_td, tdxemu_demo_td_size, &t, err, sizeof(err)) == 0);
	REQUIRE(t.nr_sections == 3);
	CHECK_EQ(tdxemu_demo_td_size % 65536, 0);
	CHECK_EQ(t.sec[0].type, TDVF_SECTION_BFV);
	CHECK_EQ(t.sec[0].gpa + t.sec[0].mem_size, 1ull << 32);
	CHECK_EQ(t.sec[0].raw_size, tdxemu_demo_td_size);
	CHECK_EQ(t.sec[0].attributes, TDVF_ATTR_MR_EXTEND);
	CHECK_EQ(t.sec[1].type, TDVF_SECTION_TD_HOB);
	CHECK_EQ(t.sec[2].type, TDVF_SECTION_TEMP_MEM);
	CHECK_EQ(t.sec[1].gpa >> 21, (t.sec[2].gpa + t.sec[2].mem_size - 1) >> 21);
	td_ram_layout_q35(256ull << 20, &l);
	REQUIRE(td_hob_build(&t, &l, hob, t.sec[t.hob_index].mem_size, err, sizeof(err)) > 0);
	CHECK_EQ(l.n, 4); /* unaccepted below, the HOB, TempMem, unaccepted above */
	/* a 32-bit near JMP (E9 rel32) to inside the image */
	REQUIRE(rv[0] == 0xE9);
	memcpy(&rel, rv + 1, 4);
	target = 0x100000000ull - 16 + 5 + (uint64_t)(int64_t)rel;
	CHECK(target >= t.sec[0].gpa && target < (1ull << 32) - 16);
}
