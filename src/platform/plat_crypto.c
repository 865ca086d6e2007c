/* Memory encryption: AES-128-XTS per KeyID, tweak = physical address of the page,
 * like MKTME/TDX memory controllers. Used only to show non-SEAM readers ciphertext. */
#include <openssl/evp.h>
#include <string.h>

#include "plat_internal.h"

void plat_crypto_page(const struct plat *p, unsigned keyid, uint64_t page_pa, const uint8_t *in, uint8_t *out)
{
	static const uint8_t unset_key[32] = { 1 }; /* XTS refuses equal halves; any fixed key */
	const uint8_t *key = unset_key;
	uint8_t tweak[16] = { 0 };
	EVP_CIPHER_CTX *ctx;
	int outl = 0;

	for (unsigned pkg = 0; pkg < p->cfg.packages; pkg++) {
		const struct plat_key *k = &p->keys[pkg * p->cfg.total_keyids + keyid];
		if (k->programmed) {
			key = k->key;
			break;
		}
	}
	for (int i = 0; i < 8; i++)
		tweak[i] = (uint8_t)(page_pa >> (8 * i));
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_xts(), NULL, key, tweak) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &outl, in, (int)PLAT_PAGE_SIZE) != 1) {
		/* Never fall back to plaintext: an unencryptable page reads as all ones. */
		memset(out, 0xff, PLAT_PAGE_SIZE);
	}
	EVP_CIPHER_CTX_free(ctx);
}
