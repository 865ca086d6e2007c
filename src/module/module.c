/* Module instance, SEAMLDR installation and the SEAMCALL dispatcher. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"
#include "module_internal.h"
#include "td_exit.h"

/* Every SEAMCALL leaf of the ABI must name its handler here: MODULE_HANDLER_<LEAF>.
 * A leaf added to data/abi without an entry fails to compile. Leaves whose handler
 * is NULL are not implemented by this module build yet; they answer like an unknown
 * leaf (TDX_OPERAND_INVALID + RAX) so that no caller mistakes them for working. */
#define MODULE_HANDLER_TDH_VP_ENTER tdh_vp_enter
#define MODULE_HANDLER_TDH_MNG_ADDCX tdh_mng_addcx
#define MODULE_HANDLER_TDH_MEM_PAGE_ADD tdh_mem_page_add
#define MODULE_HANDLER_TDH_MEM_SEPT_ADD tdh_mem_sept_add
#define MODULE_HANDLER_TDH_VP_ADDCX tdh_vp_addcx
#define MODULE_HANDLER_TDH_MEM_PAGE_RELOCATE tdh_mem_page_relocate
#define MODULE_HANDLER_TDH_MEM_PAGE_AUG tdh_mem_page_aug
#define MODULE_HANDLER_TDH_MEM_RANGE_BLOCK tdh_mem_range_block
#define MODULE_HANDLER_TDH_MNG_KEY_CONFIG tdh_mng_key_config
#define MODULE_HANDLER_TDH_MNG_CREATE tdh_mng_create
#define MODULE_HANDLER_TDH_VP_CREATE tdh_vp_create
#define MODULE_HANDLER_TDH_MNG_RD tdh_mng_rd
#define MODULE_HANDLER_TDH_MEM_RD tdh_mem_rd
#define MODULE_HANDLER_TDH_MNG_WR tdh_mng_wr
#define MODULE_HANDLER_TDH_MEM_WR tdh_mem_wr
#define MODULE_HANDLER_TDH_MEM_PAGE_DEMOTE tdh_mem_page_demote
#define MODULE_HANDLER_TDH_MR_EXTEND tdh_mr_extend
#define MODULE_HANDLER_TDH_MR_FINALIZE tdh_mr_finalize
#define MODULE_HANDLER_TDH_VP_FLUSH tdh_vp_flush
#define MODULE_HANDLER_TDH_MNG_VPFLUSHDONE tdh_mng_vpflushdone
#define MODULE_HANDLER_TDH_MNG_KEY_FREEID tdh_mng_key_freeid
#define MODULE_HANDLER_TDH_MNG_INIT tdh_mng_init
#define MODULE_HANDLER_TDH_VP_INIT tdh_vp_init
#define MODULE_HANDLER_TDH_MEM_PAGE_PROMOTE tdh_mem_page_promote
#define MODULE_HANDLER_TDH_PHYMEM_PAGE_RDMD tdh_phymem_page_rdmd
#define MODULE_HANDLER_TDH_MEM_SEPT_RD tdh_mem_sept_rd
#define MODULE_HANDLER_TDH_VP_RD tdh_vp_rd
#define MODULE_HANDLER_TDH_MNG_KEY_RECLAIMID tdh_mng_key_reclaimid
#define MODULE_HANDLER_TDH_PHYMEM_PAGE_RECLAIM tdh_phymem_page_reclaim
#define MODULE_HANDLER_TDH_MEM_PAGE_REMOVE tdh_mem_page_remove
#define MODULE_HANDLER_TDH_MEM_SEPT_REMOVE tdh_mem_sept_remove
#define MODULE_HANDLER_TDH_SYS_KEY_CONFIG tdh_sys_key_config
#define MODULE_HANDLER_TDH_SYS_INFO tdh_sys_info
#define MODULE_HANDLER_TDH_SYS_INIT tdh_sys_init
#define MODULE_HANDLER_TDH_SYS_RD tdh_sys_rd
#define MODULE_HANDLER_TDH_SYS_LP_INIT tdh_sys_lp_init
#define MODULE_HANDLER_TDH_SYS_TDMR_INIT tdh_sys_tdmr_init
#define MODULE_HANDLER_TDH_SYS_RDALL tdh_sys_rdall
#define MODULE_HANDLER_TDH_MEM_TRACK tdh_mem_track
#define MODULE_HANDLER_TDH_MEM_RANGE_UNBLOCK tdh_mem_range_unblock
#define MODULE_HANDLER_TDH_PHYMEM_CACHE_WB tdh_phymem_cache_wb
#define MODULE_HANDLER_TDH_PHYMEM_PAGE_WBINVD tdh_phymem_page_wbinvd
#define MODULE_HANDLER_TDH_MEM_SEPT_WR NULL /* no dispatcher case in 1.5.01 either */
#define MODULE_HANDLER_TDH_VP_WR tdh_vp_wr
#define MODULE_HANDLER_TDH_SYS_LP_SHUTDOWN tdh_sys_lp_shutdown
#define MODULE_HANDLER_TDH_SYS_CONFIG tdh_sys_config
#define MODULE_HANDLER_TDH_SERVTD_BIND NULL
#define MODULE_HANDLER_TDH_SERVTD_PREBIND NULL
#define MODULE_HANDLER_TDH_SYS_SHUTDOWN tdh_sys_shutdown
#define MODULE_HANDLER_TDH_SYS_UPDATE NULL
#define MODULE_HANDLER_TDH_EXPORT_ABORT NULL
#define MODULE_HANDLER_TDH_EXPORT_BLOCKW NULL
#define MODULE_HANDLER_TDH_EXPORT_RESTORE NULL
#define MODULE_HANDLER_TDH_EXPORT_MEM NULL
#define MODULE_HANDLER_TDH_EXPORT_PAUSE NULL
#define MODULE_HANDLER_TDH_EXPORT_TRACK NULL
#define MODULE_HANDLER_TDH_EXPORT_STATE_IMMUTABLE NULL
#define MODULE_HANDLER_TDH_EXPORT_STATE_TD NULL
#define MODULE_HANDLER_TDH_EXPORT_STATE_VP NULL
#define MODULE_HANDLER_TDH_EXPORT_UNBLOCKW NULL
#define MODULE_HANDLER_TDH_IMPORT_ABORT NULL
#define MODULE_HANDLER_TDH_IMPORT_END NULL
#define MODULE_HANDLER_TDH_IMPORT_COMMIT NULL
#define MODULE_HANDLER_TDH_IMPORT_MEM NULL
#define MODULE_HANDLER_TDH_IMPORT_TRACK NULL
#define MODULE_HANDLER_TDH_IMPORT_STATE_IMMUTABLE NULL
#define MODULE_HANDLER_TDH_IMPORT_STATE_TD NULL
#define MODULE_HANDLER_TDH_IMPORT_STATE_VP NULL
#define MODULE_HANDLER_TDH_MIG_STREAM_CREATE NULL

struct leaf_entry {
	const char *name;
	seamcall_handler_t handler;
	bool known;
	bool before_ready;
};

#define LEAF_ENTRY(cname, num, sname, vmax, before) \
	[num] = { sname, MODULE_HANDLER_##cname, true, before }, /* vmax: per profile */
static const struct leaf_entry leaf_table[TDH_LEAF_MAX + 1] = { TDX_SEAMCALL_LEAVES(LEAF_ENTRY) };

#define COUNT_LEAF(cname, num, sname, vmax, before) +1
_Static_assert(0 TDX_SEAMCALL_LEAVES(COUNT_LEAF) == TDH_LEAF_COUNT, "every ABI leaf is in the table");

static uint64_t module_seamcall(void *opaque, unsigned lp, struct tdx_regs *regs)
{
	struct tdx_module *m = opaque;
	uint64_t rax = regs->r[TDX_REG_RAX], leaf = rax & LEAF_MASK;
	unsigned version = (unsigned)((rax & VERSION_MASK) >> VERSION_SHIFT);
	uint8_t state = atomic_load(&m->sys_state);
	const struct leaf_entry *e = leaf <= TDH_LEAF_MAX ? &leaf_table[leaf] : NULL;
	uint64_t ret;

	if (rax & LEAF_RESERVED_MASK)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	/* Leaf versions are the profile's: a later module accepts versions 1.5.01 rejects. */
	if (version && (!e || !e->known || version > m->profile->leaf_version_max[leaf]))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	if (state == SYS_SHUTDOWN && leaf != TDH_SYS_LP_SHUTDOWN_LEAF)
		return TDX_SYS_SHUTDOWN;
	if (state != SYS_READY && (!e || !e->known || !e->before_ready))
		return TDX_SYS_NOT_READY;
	if (!e || !e->known || !e->handler)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);

	/* Plain release stores, not seq_cst ones (a locked op on x86 each, on every SEAMCALL): the
	 * only reader, TDH.SYS.SHUTDOWN, counts busy LPs under the exclusive global lock, and the
	 * sys_state check above is read before this store either way, so a full fence here would
	 * order nothing anyone relies on. Leaving publishes the call's effects before the LP
	 * reads as idle. */
	atomic_store_explicit(&m->lp[lp].is_busy, true, memory_order_release);
	ret = e->handler(m, lp, regs);
	atomic_store_explicit(&m->lp[lp].is_busy, false, memory_order_release);
	return ret;
}

static void module_unload(void *opaque)
{
	free(opaque);
}

static const struct seam_module_ops module_ops = {
	.seamcall = module_seamcall,
	.unload = module_unload,
};

const char *module_profile_name(unsigned i)
{
	return i < module_profiles_count ? module_profiles[i].name : NULL;
}

int module_install(struct plat *p, const char *profile, char *err, size_t errlen)
{
	const struct module_profile_desc *prof = NULL;
	struct seamldr_module_info info;
	struct tdx_module *m;

	for (unsigned i = 0; i < module_profiles_count; i++)
		if (!strcmp(module_profiles[i].name, profile))
			prof = &module_profiles[i];
	if (!prof) {
		snprintf(err, errlen, "unknown TDX module profile '%s'", profile);
		return -1;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->plat = p;
	m->profile = prof;
	td_exit_features_init(m);
	atomic_init(&m->sys_state, SYSINIT_PENDING);
	for (unsigned i = 0; i < TDMR_MAX; i++)
		atomic_flag_clear(&m->tdmr[i].lock);
	for (unsigned i = 0; i < MAX_PKGS; i++)
		atomic_flag_clear(&m->wbt[i].lock);
	info = (struct seamldr_module_info){
		.major = (uint32_t)module_sys_const(m, MD_SYS_FIELDS_MAJOR_VERSION_IDX),
		.minor = (uint32_t)module_sys_const(m, MD_SYS_FIELDS_MINOR_VERSION_IDX),
		.update = (uint32_t)module_sys_const(m, MD_SYS_FIELDS_UPDATE_VERSION_IDX),
		.features0 = module_sys_const(m, MD_SYS_FIELDS_TDX_FEATURES0_IDX),
		.profile = prof->name,
	};
	if (plat_seamldr_install(p, &module_ops, m, &info)) {
		free(m);
		snprintf(err, errlen, "SEAMLDR refused the module: SEAMRR disabled by BIOS or a module is loaded");
		return -1;
	}
	return 0;
}

uint64_t module_sys_const(const struct tdx_module *m, unsigned md_index)
{
	return m->profile->sys_values[md_index].value;
}

unsigned module_hkid_of(const struct tdx_module *m, uint64_t pa)
{
	return plat_pa_keyid(m->plat, pa);
}

bool module_pa_has_hkid(const struct tdx_module *m, uint64_t pa)
{
	return (pa & ~plat_pa_mask(m->plat) & ((UINT64_C(1) << MODULE_MAX_PA) - 1)) != 0;
}

bool module_is_shared_hpa(const struct tdx_module *m, uint64_t pa, uint64_t size, uint64_t align)
{
	uint64_t addr = pa & plat_pa_mask(m->plat);
	const struct plat_sysinfo *si = &m->sysinfo;

	if (pa & (align - 1))
		return false;
	if (pa >= (UINT64_C(1) << MODULE_MAX_PA))
		return false;
	if (addr < si->seamrr_base + si->seamrr_size && addr + size > si->seamrr_base)
		return false;
	return module_hkid_of(m, pa) < m->hkid_private_min;
}

/* CMRs that touch are one range for containment checks. */
bool module_range_in_cmrs(const struct tdx_module *m, uint64_t base, uint64_t size)
{
	uint64_t end = base + size, run_base = 0, run_end = 0;
	bool have = false;

	for (unsigned i = 0; i < MAX_CMR; i++) {
		const struct plat_range *c = &m->sysinfo.cmr[i];
		if (!c->size)
			continue;
		if (have && c->base == run_end) {
			run_end += c->size;
		} else {
			if (have && base >= run_base && end <= run_end)
				return true;
			run_base = c->base;
			run_end = c->base + c->size;
			have = true;
		}
	}
	return have && base >= run_base && end <= run_end;
}

static int debug_pamt_entry(struct tdx_module *m, uint64_t pa, bool hold)
{
	struct pamt_entry *e1g, *e2m, *e4k;

	if (pamt_walk(m, pa, &e1g, &e2m, &e4k))
		return -1;
	if (hold)
		return pamt_entry_try_lock_exclusive(e4k) ? 0 : -1;
	pamt_entry_unlock_exclusive(e4k);
	return 0;
}

int module_debug_lock(struct plat *p, enum module_debug_lock what, uint64_t arg, bool hold)
{
	struct tdx_module *m = plat_seamldr_module(p);

	if (!m)
		return -1;
	switch (what) {
	case MODULE_DEBUG_GLOBAL_EXCLUSIVE:
		if (!hold)
			sharex_release_exclusive(&m->global_lock);
		return hold && !sharex_try_exclusive(&m->global_lock) ? -1 : 0;
	case MODULE_DEBUG_GLOBAL_SHARED:
		if (!hold)
			sharex_release_shared(&m->global_lock);
		return hold && !sharex_try_shared(&m->global_lock) ? -1 : 0;
	case MODULE_DEBUG_TDMR:
		if (arg >= TDMR_MAX)
			return -1;
		if (!hold)
			atomic_flag_clear(&m->tdmr[arg].lock);
		return hold && atomic_flag_test_and_set(&m->tdmr[arg].lock) ? -1 : 0;
	case MODULE_DEBUG_PAMT_ENTRY:
		return debug_pamt_entry(m, arg, hold);
	}
	return -1;
}
