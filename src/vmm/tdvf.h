/* TD firmware (TDVF / OVMF built with TDX support): the GUIDed footer table, the TDVF
 * metadata descriptor and its sections, and the TD HOB a VMM hands to the firmware. */
#ifndef TDVF_H
#define TDVF_H

#include <stddef.h>
#include <stdint.h>

enum tdvf_section_type {
	TDVF_SECTION_BFV = 0,
	TDVF_SECTION_CFV = 1,
	TDVF_SECTION_TD_HOB = 2,
	TDVF_SECTION_TEMP_MEM = 3,
	TDVF_SECTION_PERM_MEM = 4,
	TDVF_SECTION_PAYLOAD = 5,
	TDVF_SECTION_PAYLOAD_PARAM = 6,
	TDVF_SECTION_TYPE_COUNT
};

#define TDVF_ATTR_MR_EXTEND 0x1u /* content measured with TDH.MR.EXTEND */
#define TDVF_ATTR_PAGE_AUG 0x2u  /* added later with TDH.MEM.PAGE.AUG, not PAGE.ADD */
#define TDVF_MAX_SECTIONS 64
#define TDVF_SIGNATURE 0x46564454u /* "TDVF" */

struct tdvf_section {
	uint32_t data_offset;
	uint32_t raw_size;
	uint64_t gpa;
	uint64_t mem_size;
	uint32_t type;
	uint32_t attributes;
};

struct tdvf {
	const uint8_t *image;
	size_t size;
	uint32_t descriptor_offset; /* file offset of the "TDVF" descriptor */
	struct tdvf_section sec[TDVF_MAX_SECTIONS];
	unsigned nr_sections;
	int hob_index; /* the TD_HOB section, -1 if none */
};

const char *tdvf_section_type_name(uint32_t type);

/* Read a firmware file into memory (at most 64 MiB). 0, or -1 with err set. */
int tdvf_read_file(const char *path, uint8_t **image, size_t *size, char *err, size_t errlen);

/* Find and validate the TDVF metadata. Stricter than QEMU: ranges must stay inside the
 * file, sections must not overlap, sizes and offsets must be page aligned, attributes known,
 * at most one TD_HOB. 0, or -1 with a message naming the section and the problem. */
int tdvf_parse(const uint8_t *image, size_t size, struct tdvf *out, char *err, size_t errlen);

/* The bytes of page `page` of a section as they go into the TD: image data for sections with
 * raw data (zero past RawDataSize), zeros otherwise. */
void tdvf_section_page(const struct tdvf *t, const struct tdvf_section *s, uint64_t page, uint8_t out[4096]);

/* ---- TD HOB ------------------------------------------------------------------------- */
#define TD_HOB_MAX_RAM 64

struct td_ram_entry {
	uint64_t base, size;
	int accepted; /* added at build time (TD_HOB, TempMem) vs left for the guest to accept */
};

struct td_ram_layout {
	struct td_ram_entry e[TD_HOB_MAX_RAM];
	unsigned n;
};

/* q35's split of RAM below and above 4 GiB. */
void td_ram_layout_q35(uint64_t ram_bytes, struct td_ram_layout *l);

/* Mark the TD_HOB and TempMem sections accepted (splitting RAM entries like QEMU) and build
 * the HOB list (PHIT, one resource descriptor per RAM entry, end) into buf, which is the
 * TD_HOB section's memory. Returns the HOB length, or -1 with err set. */
long td_hob_build(const struct tdvf *t, struct td_ram_layout *l, uint8_t *buf, size_t buflen, char *err,
		  size_t errlen);

#endif
