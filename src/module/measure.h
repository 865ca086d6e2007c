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
static inline void td_mrtd_header_block(uint8_t block[MRTD_BLOCK_SIZE], const char *api_name, uint64_t gpa)
{
	memset(block, 0, MRTD_BLOCK_SIZE);
	memcpy(block, api_name, strnlen(api_name, MRTD_BLOCK_NAME_SIZE));
	for (unsigned i = 0; i < 8; i++) /* little-endian whatever the host's byte order */
		block[MRTD_BLOCK_GPA_OFFSET + i] = (uint8_t)(gpa >> (8 * i));
}

static inline void td_mrtd_extend_header(struct tdcs *tdcs, const char *api_name, uint64_t gpa)
{
	uint8_t block[MRTD_BLOCK_SIZE];

	td_mrtd_header_block(block, api_name, gpa);
	td_mrtd_extend(tdcs, block, sizeof(block));
}

/* ---- Run-time measurement and reports (TDG.MR.*) ---------------------------------------- */

/* A measurement register: SHA-384, the size of every TDINFO MR field. */
#define TD_MR_SIZE TDINFO_SZ_MRTD
/* RTMR[0..n-1] sit back to back in TDINFO up to SERVTD_HASH. */
#define TD_NUM_RTMRS ((TDINFO_OFF_SERVTD_HASH - TDINFO_OFF_RTMR_0) / TDINFO_SZ_RTMR_0)
_Static_assert(sizeof(((struct tdcs *)0)->rtmr) == TD_NUM_RTMRS * TD_MR_SIZE, "TDCS holds every RTMR");
_Static_assert(sizeof(((struct tdcs *)0)->mr_td) == TD_MR_SIZE, "TDCS MRs are SHA-384 sized");

/* One-shot SHA-384 (the module's sha384_generate_hash). */
void td_sha384(const void *data, size_t len, uint8_t out[TD_MR_SIZE]);
/* RTMR[idx] := SHA-384(RTMR[idx] || data), data being TD_MR_SIZE bytes. The caller holds
 * TDCS.RTMR_LOCK exclusive and has checked idx. */
void td_rtmr_extend(struct tdcs *tdcs, unsigned idx, const uint8_t data[TD_MR_SIZE]);
/* The TD's TDINFO (TDINFO_SIZE bytes, reserved bytes zero): ATTRIBUTES, XFAM, MRTD,
 * MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR[0..3], SERVTD_HASH (zero: no service TD can be
 * bound in this build). The caller holds TDCS.RTMR_LOCK so the RTMRs are one snapshot. */
void td_tdinfo(const struct tdcs *tdcs, uint8_t tdinfo[TDINFO_SIZE]);

/* Simulated SEAMOPS(SEAMDB_REPORT) MAC: fill REPORTMACSTRUCT.MAC (rms: REPORTMACSTRUCT_SIZE
 * bytes) from the bytes before it with the platform's report key. False if the platform has
 * no key (no entropy). */
bool td_reportmac_sign(struct plat *p, uint8_t *rms);
/* Simulated SEAMOPS(SEAMVERIFYREPORT) MAC check: TDX_SUCCESS, TDX_INVALID_REPORTMACSTRUCT on
 * a MAC mismatch, TDX_RND_NO_ENTROPY if the platform has no key. */
uint64_t td_reportmac_check(struct plat *p, const uint8_t *rms);

#endif
