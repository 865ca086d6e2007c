/* TDH.MNG.KEY.CONFIG (leaf 8): program the TD's ephemeral key on this package; the last
 * package moves the TD to TD_KEYS_CONFIGURED. */
#include <openssl/rand.h>

#include "td.h"

uint64_t tdh_mng_key_config(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdr_pa = regs->r[TDX_REG_RCX], bit = UINT64_C(1) << m->lp[lp].pkg;
	struct pamt_lock l;
	struct tdr *tdr;
	uint8_t key[32];
	uint64_t ret = td_lock_map_tdr(m, tdr_pa, OPERAND_ID_RCX, true, &l, &tdr);

	if (ret)
		return ret;
	if (tdr->fatal) {
		ret = TDX_TD_FATAL;
		goto out;
	}
	if (tdr->lifecycle_state != TD_HKID_ASSIGNED) {
		ret = TDX_LIFECYCLE_STATE_INCORRECT;
		goto out;
	}
	if (tdr->pkg_config_bitmap & bit) {
		ret = TDX_KEY_CONFIGURED;
		goto out;
	}
	/* PCONFIG with a CPU-generated random key. */
	if (RAND_bytes(key, sizeof(key)) != 1) {
		ret = TDX_KEY_GENERATION_FAILED;
		goto out;
	}

	/* Nothing can fail past this point. */
	plat_keyid_program(m->plat, m->lp[lp].pkg, tdr->hkid, key);
	tdr->pkg_config_bitmap |= bit;
	if (tdr->pkg_config_bitmap == atomic_load(&m->pkg_config_bitmap))
		tdr->lifecycle_state = TD_KEYS_CONFIGURED;
	ret = TDX_SUCCESS;
out:
	pamt_unlock(&l);
	return ret;
}
