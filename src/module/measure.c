/* MRTD accumulation. The context lives in the TDCS (TD-private memory), which rules out
 * OpenSSL's heap-allocated EVP contexts: the low-level SHA-384 API is used on purpose. */
#include "measure.h"

void td_mrtd_extend(struct tdcs *tdcs, const void *block, size_t len)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	SHA384_Update(&tdcs->td_sha_ctx, block, len);
#pragma GCC diagnostic pop
}

void td_sha384(const void *data, size_t len, uint8_t out[TD_MR_SIZE])
{
	SHA384(data, len, out);
}

void td_rtmr_extend(struct tdcs *tdcs, unsigned idx, const uint8_t data[TD_MR_SIZE])
{
	uint8_t cat[2 * TD_MR_SIZE];

	memcpy(cat, tdcs->rtmr[idx], TD_MR_SIZE);
	memcpy(cat + TD_MR_SIZE, data, TD_MR_SIZE);
	td_sha384(cat, sizeof(cat), (uint8_t *)tdcs->rtmr[idx]);
}

/* 8-byte TDINFO fields are little-endian whatever the host's byte order. */
static void put_le64(uint8_t *dst, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

void td_tdinfo(const struct tdcs *tdcs, uint8_t tdinfo[TDINFO_SIZE])
{
	memset(tdinfo, 0, TDINFO_SIZE);
	put_le64(tdinfo + TDINFO_OFF_ATTRIBUTES, tdcs->attributes);
	put_le64(tdinfo + TDINFO_OFF_XFAM, tdcs->xfam);
	memcpy(tdinfo + TDINFO_OFF_MRTD, tdcs->mr_td, TDINFO_SZ_MRTD);
	memcpy(tdinfo + TDINFO_OFF_MRCONFIGID, tdcs->mr_config_id, TDINFO_SZ_MRCONFIGID);
	memcpy(tdinfo + TDINFO_OFF_MROWNER, tdcs->mr_owner, TDINFO_SZ_MROWNER);
	memcpy(tdinfo + TDINFO_OFF_MROWNERCONFIG, tdcs->mr_owner_config, TDINFO_SZ_MROWNERCONFIG);
	for (unsigned i = 0; i < TD_NUM_RTMRS; i++)
		memcpy(tdinfo + TDINFO_OFF_RTMR_0 + i * TDINFO_SZ_RTMR_0, tdcs->rtmr[i], TDINFO_SZ_RTMR_0);
	/* SERVTD_HASH stays zero: no service TD binding exists in this build. */
}

_Static_assert(REPORTMACSTRUCT_SZ_MAC == PLAT_REPORT_MAC_SIZE, "the platform MAC fills REPORTMACSTRUCT.MAC");
_Static_assert(REPORTMACSTRUCT_OFF_MAC + REPORTMACSTRUCT_SZ_MAC == REPORTMACSTRUCT_SIZE, "MAC ends the struct");

bool td_reportmac_sign(struct plat *p, uint8_t *rms)
{
	return plat_report_mac(p, rms, REPORTMACSTRUCT_OFF_MAC, rms + REPORTMACSTRUCT_OFF_MAC);
}

uint64_t td_reportmac_check(struct plat *p, const uint8_t *rms)
{
	uint8_t mac[PLAT_REPORT_MAC_SIZE], diff = 0;

	if (!plat_report_mac(p, rms, REPORTMACSTRUCT_OFF_MAC, mac))
		return TDX_RND_NO_ENTROPY;
	/* Constant time: a guest must not learn how many MAC bytes it got right. */
	for (unsigned i = 0; i < sizeof(mac); i++)
		diff |= (uint8_t)(mac[i] ^ rms[REPORTMACSTRUCT_OFF_MAC + i]);
	return diff ? TDX_INVALID_REPORTMACSTRUCT : TDX_SUCCESS;
}
