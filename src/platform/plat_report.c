/* The report MAC key of the simulated CPU: what SEAMOPS(SEAMDB_REPORT) MACs a REPORTMACSTRUCT
 * with and SEAMOPS(SEAMVERIFYREPORT) checks it against. Hardware derives the key inside the
 * CPU; here it is HMAC-SHA-256 under 32 random bytes drawn the first time a report is MAC'ed
 * and kept only in struct plat (never written to simulated memory, never exported). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>

#include "plat_internal.h"

_Static_assert(PLAT_REPORT_MAC_SIZE == 32, "HMAC-SHA-256 gives 32 bytes");

/* Draw the key once; callers hold key_lock. */
static bool report_key_ready(struct plat *p)
{
	if (!p->report_key_set && RAND_bytes(p->report_key, sizeof(p->report_key)) == 1)
		p->report_key_set = true;
	return p->report_key_set;
}

bool plat_report_mac(struct plat *p, const void *data, size_t len, uint8_t mac[PLAT_REPORT_MAC_SIZE])
{
	unsigned out_len = 0;
	bool ok;

	pthread_mutex_lock(&p->key_lock);
	ok = report_key_ready(p) &&
	     HMAC(EVP_sha256(), p->report_key, sizeof(p->report_key), data, len, mac, &out_len) != NULL &&
	     out_len == PLAT_REPORT_MAC_SIZE;
	pthread_mutex_unlock(&p->key_lock);
	return ok;
}
