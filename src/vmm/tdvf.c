/* TDVF image parsing and the TD HOB. Layouts: the OVMF reset-vector footer table, the TDVF
 * design guide's metadata descriptor, PI's HOB structures (as QEMU's tdvf-hob.c emits them). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tdvf.h"

#define PAGE 4096u
#define MAX_IMAGE (64u << 20)

/* EFI GUIDs as they sit in the file (Data1..3 little-endian). */
static const uint8_t GUID_TABLE_FOOTER[16] = { 0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
					       0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d };
static const uint8_t GUID_TDX_METADATA_OFFSET[16] = { 0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
						      0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2 };

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

const char *tdvf_section_type_name(uint32_t type)
{
	static const char *const n[] = { "BFV", "CFV", "TD_HOB", "TempMem", "PermMem", "Payload", "PayloadParam" };
	return type < TDVF_SECTION_TYPE_COUNT ? n[type] : "unknown";
}

int tdvf_read_file(const char *path, uint8_t **image, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	long len;
	uint8_t *buf;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: cannot determine the size", path);
		fclose(f);
		return -1;
	}
	if (len == 0 || len > (long)MAX_IMAGE) {
		snprintf(err, errlen, "%s: %ld bytes; a TD firmware image is 1 byte to 64 MiB", path, len);
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)len);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errlen, "%s: read failed", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	*image = buf;
	*size = (size_t)len;
	return 0;
}

/* The data of the footer-table entry with that GUID; -1 when absent, -2 when malformed. */
static long find_table_entry(const uint8_t *img, size_t n, const uint8_t guid[16], size_t *len, char *err,
			     size_t errlen)
{
	size_t tot, foot;

	if (n < 4096 || memcmp(img + n - 48, GUID_TABLE_FOOTER, 16)) {
		snprintf(err, errlen, "no OVMF GUIDed footer table at the end of the image (not a TDVF/OVMF image?)");
		return -1;
	}
	tot = le16(img + n - 50);
	if (tot < 18 || tot - 18 > n - 50) {
		snprintf(err, errlen, "OVMF footer table has an invalid size %zu", tot);
		return -2;
	}
	tot -= 18;
	foot = n - 50;
	while (tot >= 18) {
		size_t elen = le16(img + foot - 18);
		if (elen < 18 || elen > tot) {
			snprintf(err, errlen, "OVMF footer table entry at %#zx has an invalid length %zu", foot - 18, elen);
			return -2;
		}
		if (!memcmp(img + foot - 16, guid, 16)) {
			*len = elen - 18;
			return (long)(foot - elen);
		}
		foot -= elen;
		tot -= elen;
	}
	snprintf(err, errlen, "the OVMF footer table has no TDX metadata entry (e47a6535-984a-4798-865e-4685a7bf8ec2): "
			      "firmware built without TDX support");
	return -1;
}

static int check_section(const struct tdvf *t, unsigned i, char *err, size_t errlen)
{
	const struct tdvf_section *s = &t->sec[i];
	const char *tn = tdvf_section_type_name(s->type);
	bool has_raw = s->type == TDVF_SECTION_BFV || s->type == TDVF_SECTION_CFV ||
		       s->type == TDVF_SECTION_PAYLOAD || s->type == TDVF_SECTION_PAYLOAD_PARAM;

#define FAIL(...)                                                        \
	do {                                                             \
		int n_ = snprintf(err, errlen, "TDVF section %u (%s): ", i, tn); \
		snprintf(err + n_, errlen - (size_t)n_, __VA_ARGS__);    \
		return -1;                                               \
	} while (0)
	if (s->type >= TDVF_SECTION_TYPE_COUNT)
		FAIL("unsupported section type %u", s->type);
	if (s->attributes & ~(TDVF_ATTR_MR_EXTEND | TDVF_ATTR_PAGE_AUG))
		FAIL("unknown attribute bits %#x", s->attributes & ~(TDVF_ATTR_MR_EXTEND | TDVF_ATTR_PAGE_AUG));
	if ((s->attributes & TDVF_ATTR_MR_EXTEND) && (s->attributes & TDVF_ATTR_PAGE_AUG))
		FAIL("MR_EXTEND and PAGE_AUG together (an augmented page cannot be measured)");
	if ((s->attributes & TDVF_ATTR_PAGE_AUG) && s->type != TDVF_SECTION_TEMP_MEM && s->type != TDVF_SECTION_PERM_MEM)
		FAIL("PAGE_AUG is only for TempMem and PermMem sections");
	if (s->mem_size < s->raw_size)
		FAIL("RawDataSize %#x exceeds MemoryDataSize %#llx", s->raw_size, (unsigned long long)s->mem_size);
	if (s->gpa % PAGE)
		FAIL("MemoryAddress %#llx not page aligned", (unsigned long long)s->gpa);
	if (s->mem_size % PAGE || !s->mem_size)
		FAIL("MemoryDataSize %#llx not a non-zero multiple of 4 KiB", (unsigned long long)s->mem_size);
	if (s->gpa + s->mem_size < s->gpa || s->gpa + s->mem_size > (1ull << 52))
		FAIL("memory range [%#llx +%#llx) wraps or exceeds 52 address bits", (unsigned long long)s->gpa,
		     (unsigned long long)s->mem_size);
	if (has_raw && !s->raw_size)
		FAIL("RawDataSize is 0, this section type carries data");
	if (!has_raw && s->raw_size)
		FAIL("RawDataSize %#x, this section type has no data in the image", s->raw_size);
	if (s->raw_size && (s->data_offset % PAGE))
		FAIL("DataOffset %#x not page aligned", s->data_offset);
	if (s->raw_size && (uint64_t)s->data_offset + s->raw_size > t->size)
		FAIL("data [%#x +%#x) lies outside the %zu-byte image", s->data_offset, s->raw_size, t->size);
	for (unsigned j = 0; j < i; j++) {
		const struct tdvf_section *o = &t->sec[j];
		if (s->gpa < o->gpa + o->mem_size && o->gpa < s->gpa + s->mem_size)
			FAIL("memory [%#llx +%#llx) overlaps section %u (%s)", (unsigned long long)s->gpa,
			     (unsigned long long)s->mem_size, j, tdvf_section_type_name(o->type));
	}
#undef FAIL
	return 0;
}

int tdvf_parse(const uint8_t *img, size_t n, struct tdvf *t, char *err, size_t errlen)
{
	size_t elen;
	long at = find_table_entry(img, n, GUID_TDX_METADATA_OFFSET, &elen, err, errlen);
	uint32_t dist, desc, length, version, count;

	memset(t, 0, sizeof(*t));
	t->image = img;
	t->size = n;
	t->hob_index = -1;
	if (at < 0)
		return -1;
	if (elen < 4) {
		snprintf(err, errlen, "TDX metadata offset entry too short (%zu bytes)", elen);
		return -1;
	}
	dist = le32(img + at);
	if (dist < 16 || dist > n) {
		snprintf(err, errlen, "TDX metadata offset %#x points outside the image", dist);
		return -1;
	}
	desc = (uint32_t)(n - dist);
	if (le32(img + desc) != TDVF_SIGNATURE) {
		snprintf(err, errlen, "invalid TDVF signature in metadata at %#x", desc);
		return -1;
	}
	length = le32(img + desc + 4);
	version = le32(img + desc + 8);
	count = le32(img + desc + 12);
	if (version != 1) {
		snprintf(err, errlen, "TDVF metadata version %u (only version 1 is defined)", version);
		return -1;
	}
	if (count < 2 || count > TDVF_MAX_SECTIONS) {
		snprintf(err, errlen, "invalid number of sections (%u) in TDVF metadata", count);
		return -1;
	}
	if (length != 16 + 32 * count || (uint64_t)desc + length > n) {
		snprintf(err, errlen, "TDVF metadata length %#x does not match %u sections (%#x) or overruns the image",
			 length, count, 16 + 32 * count);
		return -1;
	}
	t->descriptor_offset = desc;
	t->nr_sections = count;
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = img + desc + 16 + 32 * i;
		t->sec[i] = (struct tdvf_section){ le32(e), le32(e + 4), le64(e + 8), le64(e + 16), le32(e + 24),
						   le32(e + 28) };
		if (check_section(t, i, err, errlen))
			return -1;
		if (t->sec[i].type == TDVF_SECTION_TD_HOB) {
			if (t->hob_index >= 0) {
				snprintf(err, errlen, "TDVF sections %d and %u are both TD_HOB", t->hob_index, i);
				return -1;
			}
			t->hob_index = (int)i;
		}
	}
	return 0;
}

void tdvf_section_page(const struct tdvf *t, const struct tdvf_section *s, uint64_t page, uint8_t out[4096])
{
	uint64_t off = page * PAGE;

	memset(out, 0, PAGE);
	if (off < s->raw_size) {
		uint64_t n = s->raw_size - off < PAGE ? s->raw_size - off : PAGE;
		memcpy(out, t->image + s->data_offset + off, n);
	}
}

/* ---- TD HOB ------------------------------------------------------------------------- */

void td_ram_layout_q35(uint64_t ram, struct td_ram_layout *l)
{
	uint64_t lowmem = ram >= 0xB0000000ull ? 0x80000000ull : 0xB0000000ull;
	uint64_t below = ram >= lowmem ? lowmem : ram, above = ram - below;

	l->n = 0;
	l->e[l->n++] = (struct td_ram_entry){ 0, below, 0 };
	if (above)
		l->e[l->n++] = (struct td_ram_entry){ 1ull << 32, above, 0 };
}

/* Carve [base, base+size) out of the RAM entry that holds it and mark it accepted. */
static int accept_range(struct td_ram_layout *l, uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < l->n; i++) {
		struct td_ram_entry e = l->e[i];
		if (base >= e.base + e.size || base + size <= e.base)
			continue;
		if (base < e.base || base + size > e.base + e.size)
			return -1;
		if (e.accepted)
			return 0;
		if (l->n + 2 > TD_HOB_MAX_RAM)
			return -1;
		l->e[i] = (struct td_ram_entry){ base, size, 1 };
		if (base > e.base)
			l->e[l->n++] = (struct td_ram_entry){ e.base, base - e.base, 0 };
		if (base + size < e.base + e.size)
			l->e[l->n++] = (struct td_ram_entry){ base + size, e.base + e.size - base - size, 0 };
		return 0;
	}
	return -1;
}

static int cmp_ram(const void *a, const void *b)
{
	const struct td_ram_entry *x = a, *y = b;
	return x->base < y->base ? -1 : x->base > y->base;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

#define EFI_HOB_TYPE_HANDOFF 0x0001
#define EFI_HOB_TYPE_RESOURCE_DESCRIPTOR 0x0003
#define EFI_HOB_TYPE_END_OF_HOB_LIST 0xFFFF
#define EFI_HOB_HANDOFF_TABLE_VERSION 0x0009
#define EFI_RESOURCE_SYSTEM_MEMORY 0
#define EFI_RESOURCE_MEMORY_UNACCEPTED 7
#define EFI_RESOURCE_ATTRIBUTE_TDVF_PRIVATE 0x7 /* PRESENT | INITIALIZED | TESTED */
#define PHIT_LEN 56
#define RESOURCE_LEN 48
#define END_LEN 8

long td_hob_build(const struct tdvf *t, struct td_ram_layout *l, uint8_t *buf, size_t buflen, char *err,
		  size_t errlen)
{
	size_t need, off = 0;
	uint64_t hob_gpa;

	if (t->hob_index < 0) {
		snprintf(err, errlen, "TDVF metadata doesn't specify a TD_HOB location");
		return -1;
	}
	hob_gpa = t->sec[t->hob_index].gpa;
	for (unsigned i = 0; i < t->nr_sections; i++) {
		const struct tdvf_section *s = &t->sec[i];
		if (s->type != TDVF_SECTION_TD_HOB && s->type != TDVF_SECTION_TEMP_MEM)
			continue;
		if (accept_range(l, s->gpa, s->mem_size)) {
			snprintf(err, errlen, "TDVF section %u (%s) [%#llx +%#llx) is not inside the TD's RAM", i,
				 tdvf_section_type_name(s->type), (unsigned long long)s->gpa,
				 (unsigned long long)s->mem_size);
			return -1;
		}
	}
	qsort(l->e, l->n, sizeof(l->e[0]), cmp_ram);
	need = PHIT_LEN + RESOURCE_LEN * l->n + END_LEN;
	if (need > buflen) {
		snprintf(err, errlen, "TD_HOB overrun: %zu bytes needed, the section has %zu", need, buflen);
		return -1;
	}
	memset(buf, 0, buflen);
	put16(buf, EFI_HOB_TYPE_HANDOFF);
	put16(buf + 2, PHIT_LEN);
	put32(buf + 8, EFI_HOB_HANDOFF_TABLE_VERSION);
	put64(buf + 48, hob_gpa + need); /* EfiEndOfHobList */
	off = PHIT_LEN;
	for (unsigned i = 0; i < l->n; i++, off += RESOURCE_LEN) {
		put16(buf + off, EFI_HOB_TYPE_RESOURCE_DESCRIPTOR);
		put16(buf + off + 2, RESOURCE_LEN);
		put32(buf + off + 24, l->e[i].accepted ? EFI_RESOURCE_SYSTEM_MEMORY : EFI_RESOURCE_MEMORY_UNACCEPTED);
		put32(buf + off + 28, EFI_RESOURCE_ATTRIBUTE_TDVF_PRIVATE);
		put64(buf + off + 32, l->e[i].base);
		put64(buf + off + 40, l->e[i].size);
	}
	put16(buf + off, EFI_HOB_TYPE_END_OF_HOB_LIST);
	put16(buf + off + 2, END_LEN);
	return (long)need;
}
