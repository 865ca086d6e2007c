/* MRTD accumulation. The context lives in the TDCS (TD-private memory), which rules out
 * OpenSSL's heap-allocated EVP contexts: the low-level SHA-384 API is used on purpose. */
#include <string.h>

#include "measure.h"

void td_mrtd_extend(struct tdcs *tdcs, const void *block, size_t len)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	SHA384_Update(&tdcs->td_sha_ctx, block, len);
#pragma GCC diagnostic pop
}

void td_mrtd_extend_header(struct tdcs *tdcs, const char *api_name, uint64_t gpa)
{
	uint8_t block[MRTD_BLOCK_SIZE] = { 0 };

	memcpy(block, api_name, strnlen(api_name, MRTD_BLOCK_NAME_SIZE));
	for (unsigned i = 0; i < 8; i++) /* little-endian whatever the host's byte order */
		block[MRTD_BLOCK_GPA_OFFSET + i] = (uint8_t)(gpa >> (8 * i));
	td_mrtd_extend(tdcs, block, sizeof(block));
}
