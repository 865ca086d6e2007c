/* Build-time measurement of a TD: the incremental SHA-384 behind MRTD (TDCS.TD_SHA_CTX). */
#ifndef MODULE_MEASURE_H
#define MODULE_MEASURE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "td.h"

/* structures.json "MRTD measurement blocks": every extension is whole 128-byte blocks. */
#define MRTD_BLOCK_SIZE 128u
#define MRTD_BLOCK_NAME_SIZE 16u
#define MRTD_BLOCK_GPA_OFFSET 16u

/* Feed len bytes (a multiple of MRTD_BLOCK_SIZE) into the TD's running MRTD hash. */
void td_mrtd_extend(struct tdcs *tdcs, const void *block, size_t len);
/* One header block: the leaf's ASCII name zero-padded to 16 bytes, the GPA little-endian at
 * offset 16, zeros to the end. Inline because the callers pass string literals: the name's
 * length and copy then fold at compile time (it runs once per 256 measured bytes). */
static inline void td_mrtd_extend_header(struct tdcs *tdcs, const char *api_name, uint64_t gpa)
{
	uint8_t block[MRTD_BLOCK_SIZE] = { 0 };

	memcpy(block, api_name, strnlen(api_name, MRTD_BLOCK_NAME_SIZE));
	for (unsigned i = 0; i < 8; i++) /* little-endian whatever the host's byte order */
		block[MRTD_BLOCK_GPA_OFFSET + i] = (uint8_t)(gpa >> (8 * i));
	td_mrtd_extend(tdcs, block, sizeof(block));
}

#endif
