/* libFuzzer target: the TDVF metadata parser, the page extractor and the TD HOB builder.
 *
 * Input: byte 0 picks the image size, byte 1 the TD's RAM size (q35 layout), the rest is the
 * tail of a firmware image. The tail is placed at the end of a zero-filled buffer of at least
 * 4 KiB (the OVMF footer table is found from the end), which is exactly as large as the image,
 * so ASan sees any access outside it.
 *
 * Invariants beyond "no crash, no UB, no leak": a rejection always says why; an accepted image
 * has sections that lie inside the image, are page aligned and do not overlap in guest memory;
 * tdvf_section_page() returns the image bytes then zeros; a built TD HOB fits its section, is
 * well formed, covers exactly the TD's RAM and marks the TD_HOB and TempMem sections accepted.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/tdvf.h"

#define PAGE 4096u
#define MAX_PAGES_CHECKED 512u /* tdvf_section_page() calls per input */
#define HOB_BUF_MAX (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, unsigned sec)
{
	fprintf(stderr, "fuzz_tdvf: invariant violated: %s (section %u)\n", what, sec);
	abort();
}

static uint64_t rd16(const uint8_t *p) { return (uint64_t)p[0] | (uint64_t)p[1] << 8; }
static uint64_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | rd32(p + 4) << 32; }

static void check_sections(const struct tdvf *t, const uint8_t *img, size_t n)
{
	int hob = -1;

	if (t->image != img || t->size != n)
		fail("tdvf does not describe the parsed image", 0);
	if (t->nr_sections < 2 || t->nr_sections > TDVF_MAX_SECTIONS)
		fail("section count out of range", t->nr_sections);
	if ((uint64_t)t->descriptor_offset + 16 + 32ull * t->nr_sections > n)
		fail("descriptor outside the image", 0);
	for (unsigned i = 0; i < t->nr_sections; i++) {
		const struct tdvf_section *s = &t->sec[i];
		if (s->type >= TDVF_SECTION_TYPE_COUNT)
			fail("unknown section type accepted", i);
		if (s->raw_size && ((uint64_t)s->data_offset + s->raw_size > n || s->data_offset % PAGE))
			fail("section data outside the image or misaligned", i);
		if (s->mem_size < s->raw_size || !s->mem_size || s->mem_size % PAGE || s->gpa % PAGE)
			fail("section memory size/address invalid", i);
		if (s->gpa + s->mem_size < s->gpa || s->gpa + s->mem_size > (1ull << 52))
			fail("section memory range wraps", i);
		for (unsigned j = 0; j < i; j++) {
			const struct tdvf_section *o = &t->sec[j];
			if (s->gpa < o->gpa + o->mem_size && o->gpa < s->gpa + s->mem_size)
				fail("sections overlap in guest memory", i);
		}
		if (s->type == TDVF_SECTION_TD_HOB) {
			if (hob >= 0)
				fail("two TD_HOB sections accepted", i);
			hob = (int)i;
		}
	}
	if (hob != t->hob_index)
		fail("hob_index does not name the TD_HOB section", (unsigned)hob);
}

/* Pages 0..7, the pages around the end of the raw data and the last page of each section. */
static void check_pages(const struct tdvf *t, const uint8_t *img)
{
	uint8_t *out = malloc(PAGE);
	unsigned budget = MAX_PAGES_CHECKED;

	if (!out)
		abort();
	for (unsigned i = 0; i < t->nr_sections && budget; i++) {
		const struct tdvf_section *s = &t->sec[i];
		uint64_t npages = s->mem_size / PAGE, raw_page = s->raw_size / PAGE;
		uint64_t cand[12];
		unsigned nc = 0;

		for (uint64_t p = 0; p < 8 && p < npages; p++)
			cand[nc++] = p;
		for (uint64_t p = raw_page ? raw_page - 1 : 0; p <= raw_page + 1 && nc < 11; p++)
			if (p < npages && p >= 8)
				cand[nc++] = p;
		if (npages > 8)
			cand[nc++] = npages - 1;
		for (unsigned c = 0; c < nc && budget; c++, budget--) {
			uint64_t off = cand[c] * PAGE;
			memset(out, 0xa5, PAGE);
			tdvf_section_page(t, s, cand[c], out);
			for (uint64_t b = 0; b < PAGE; b++) {
				uint8_t want = off + b < s->raw_size ? img[s->data_offset + off + b] : 0;
				if (out[b] != want)
					fail("tdvf_section_page() content differs from image bytes/zeros", i);
			}
		}
	}
	free(out);
}

static void check_hob(const struct tdvf *t, uint64_t ram)
{
	struct td_ram_layout l;
	char err[256];
	size_t buflen;
	uint8_t *buf;
	long len;
	uint64_t covered = 0, prev_end = 0, hob_gpa;

	td_ram_layout_q35(ram, &l);
	if (t->hob_index < 0) {
		uint8_t dummy[64];
		err[0] = '\0';
		if (td_hob_build(t, &l, dummy, sizeof(dummy), err, sizeof(err)) != -1 || !err[0])
			fail("TD HOB built without a TD_HOB section, or no message", 0);
		return;
	}
	hob_gpa = t->sec[t->hob_index].gpa;
	buflen = t->sec[t->hob_index].mem_size < HOB_BUF_MAX ? (size_t)t->sec[t->hob_index].mem_size : HOB_BUF_MAX;
	buf = malloc(buflen);
	if (!buf)
		abort();
	err[0] = '\0';
	len = td_hob_build(t, &l, buf, buflen, err, sizeof(err));
	if (len < 0) {
		if (len != -1 || !err[0] || !memchr(err, '\0', sizeof(err)))
			fail("td_hob_build() rejection without a message", (unsigned)t->hob_index);
		free(buf);
		return;
	}
	if ((size_t)len > buflen || len < 56 + 8 || (len - 56 - 8) % 48)
		fail("TD HOB length impossible", (unsigned)t->hob_index);
	if (rd16(buf) != 0x0001 || rd16(buf + 2) != 56 || rd64(buf + 48) != hob_gpa + (uint64_t)len)
		fail("PHIT HOB malformed", (unsigned)t->hob_index);
	for (long off = 56; off < len - 8; off += 48) {
		uint64_t type = rd32(buf + off + 24), base = rd64(buf + off + 32), sz = rd64(buf + off + 40);
		if (rd16(buf + off) != 0x0003 || rd16(buf + off + 2) != 48 || (type != 0 && type != 7) || !sz)
			fail("resource descriptor HOB malformed", (unsigned)t->hob_index);
		if (base < prev_end)
			fail("RAM resource descriptors unsorted or overlapping", (unsigned)t->hob_index);
		prev_end = base + sz;
		covered += sz;
		/* accepted ranges are exactly the TD_HOB and TempMem sections */
		if (type == 0) {
			bool found = false;
			for (unsigned i = 0; i < t->nr_sections && !found; i++) {
				const struct tdvf_section *s = &t->sec[i];
				found = (s->type == TDVF_SECTION_TD_HOB || s->type == TDVF_SECTION_TEMP_MEM) &&
					s->gpa == base && s->mem_size == sz;
			}
			if (!found)
				fail("accepted RAM range that is no TD_HOB/TempMem section", (unsigned)t->hob_index);
		}
	}
	if (rd16(buf + len - 8) != 0xFFFF || rd16(buf + len - 6) != 8)
		fail("end-of-HOB-list missing", (unsigned)t->hob_index);
	if (covered != ram)
		fail("resource descriptors do not cover exactly the TD's RAM", (unsigned)t->hob_index);
	for (unsigned i = 0; i < t->nr_sections; i++) {
		const struct tdvf_section *s = &t->sec[i];
		bool found = false;
		if (s->type != TDVF_SECTION_TD_HOB && s->type != TDVF_SECTION_TEMP_MEM)
			continue;
		for (long off = 56; off < len - 8 && !found; off += 48)
			found = rd32(buf + off + 24) == 0 && rd64(buf + off + 32) == s->gpa &&
				rd64(buf + off + 40) == s->mem_size;
		if (!found)
			fail("TD_HOB/TempMem section not reported as accepted memory", i);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t classes[8] = { 0, 64u << 10, 256u << 10, 1u << 20, 2u << 20, 4u << 20, 0, 0 };
	struct tdvf *t;
	char err[256];
	size_t tail, n;
	uint8_t *img;
	uint64_t ram;
	int rc;

	if (size < 2)
		return 0;
	tail = size - 2;
	n = classes[data[0] & 7];
	if ((data[0] & 7) == 6)
		n = tail + PAGE;                              /* one page of zeros in front */
	else if ((data[0] & 7) == 7)
		n = (tail + 0xffff) & ~(size_t)0xffff; /* rounded up to 64 KiB */
	if (n < tail)
		n = tail;
	if (n < PAGE)
		n = PAGE;
	/* 128 MiB .. 16 GiB of TD RAM, optionally 4 KiB short (q35 splits RAM at 2.75 GiB or 2 GiB) */
	ram = ((uint64_t)(data[1] & 0x7f) + 1) << 27;
	if (data[1] & 0x80)
		ram -= PAGE;

	img = malloc(n);
	t = malloc(sizeof(*t));
	if (!img || !t)
		abort();
	memset(img, 0, n - tail);
	memcpy(img + n - tail, data + 2, tail);
	memset(err, 0, sizeof(err));
	rc = tdvf_parse(img, n, t, err, sizeof(err));
	if (rc) {
		if (rc != -1 || !err[0] || err[sizeof(err) - 1])
			fail("tdvf_parse() rejection without a message", 0);
	} else {
		check_sections(t, img, n);
		check_pages(t, img);
		check_hob(t, ram);
	}
	free(t);
	free(img);
	return 0;
}
