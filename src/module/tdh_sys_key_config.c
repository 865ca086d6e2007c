/* TDH.SYS.KEY.CONFIG (leaf 31): program the module's global private KeyID on this package,
 * once per package. The last package moves the system to SYS_READY. */
#include <openssl/rand.h>

#include "module_internal.h"

uint64_t tdh_sys_key_config(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	unsigned pkg = m->lp[lp].pkg;
	uint32_t bit = UINT32_C(1) << pkg;
	uint8_t key[32];
	uint64_t ret;

	(void)regs;
	if (!sharex_try_exclusive(&m->global_lock))
		return TDX_SYS_BUSY;
	if (atomic_load(&m->sys_state) != SYSCONFIG_DONE) {
		ret = TDX_SYS_KEY_CONFIG_NOT_PENDING;
		goto out;
	}
	if (atomic_fetch_or(&m->pkg_config_bitmap, bit) & bit) {
		ret = TDX_KEY_CONFIGURED;
		goto out;
	}
	/* PCONFIG with a CPU-generated ephemeral key; an entropy failure is recoverable. */
	if (RAND_bytes(key, sizeof(key)) != 1) {
		atomic_fetch_and(&m->pkg_config_bitmap, ~bit);
		ret = TDX_KEY_GENERATION_FAILED;
		goto out;
	}

	/* Nothing can fail past this point. */
	plat_keyid_program(m->plat, pkg, m->global_hkid, key);
	if (atomic_fetch_add(&m->num_init_pkgs, 1) + 1 == m->sysinfo.num_pkgs)
		atomic_store(&m->sys_state, SYS_READY);
	ret = TDX_SUCCESS;
out:
	sharex_release_exclusive(&m->global_lock);
	return ret;
}
