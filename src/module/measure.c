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
