/* Software TDX module: global state, per-LP state and helpers shared by the leaves. */
#ifndef MODULE_INTERNAL_H
#define MODULE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "abi_cpuid.h"
#include "abi_leaves.h"
#include "abi_metadata.h"
#include "abi_profiles.h"
#include "abi_status.h"
#include "abi_structs.h"
#include "td_exit_state.h"
#include "tdx_arch.h"
#include "platform.h"

/* Constants of the module's own address checks (not the platform MAX_PA). */
#define MODULE_MAX_PA 52
#define SZ_4K UINT64_C(0x1000)
#define SZ_2M UINT64_C(0x200000)
#define SZ_1G UINT64_C(0x40000000)
#define TDMR_4K_PAMT_INIT_COUNT 1024u

/* Status composition, as the module does it. */
static inline uint64_t api_error_with_operand_id(uint64_t status, uint64_t operand)
{
	return status + operand;
}

/* status + a + (b << 8) + (c << 16): TDH.SYS.CONFIG reports TDMR / area / level indices so. */
static inline uint64_t api_error_with_multiple_info(uint64_t status, uint8_t a, uint8_t b, uint8_t c)
{
	return status + a + ((uint64_t)b << 8) + ((uint64_t)c << 16);
}

/* A try-only shared/exclusive lock: the module never waits, it reports busy. */
struct sharex_lock {
	_Atomic uint32_t v; /* bit 31: exclusive; bits 30:0 readers */
};
#define SHAREX_EXCLUSIVE 0x80000000u

static inline bool sharex_try_exclusive(struct sharex_lock *l)
{
	uint32_t expected = 0;
	return atomic_compare_exchange_strong(&l->v, &expected, SHAREX_EXCLUSIVE);
}

static inline bool sharex_try_shared(struct sharex_lock *l)
{
	uint32_t cur = atomic_load(&l->v);
	do {
		if (cur & SHAREX_EXCLUSIVE)
			return false;
	} while (!atomic_compare_exchange_weak(&l->v, &cur, cur + 1));
	return true;
}

static inline void sharex_release_exclusive(struct sharex_lock *l)
{
	atomic_store(&l->v, 0);
}

static inline void sharex_release_shared(struct sharex_lock *l)
{
	atomic_fetch_sub(&l->v, 1);
}

struct module_lp {
	atomic_bool is_init;
	atomic_bool is_busy;
	unsigned pkg;
};

struct module_rsvd {
	uint64_t offset, size;
};

/* The module's own copy of a configured TDMR. */
struct module_tdmr {
	uint64_t base, size;
	uint64_t pamt_base[3]; /* indexed by PT_4KB, PT_2MB, PT_1GB */
	uint64_t pamt_size[3];
	struct module_rsvd rsvd[TDMR_MAX_RESERVED];
	unsigned nr_rsvd;
	_Atomic uint64_t last_initialized; /* next address TDMR.INIT will initialise */
	atomic_flag lock;                  /* one TDMR.INIT per TDMR at a time */
};

struct tdx_module;
/* IA32_TSC_ADJUST of this LP against the value TDH.SYS.INIT sampled: the host must not shift
 * the TSC under the module. TDX_INCONSISTENT_MSR + the MSR index otherwise. */
uint64_t module_check_tsc_adjust(struct tdx_module *m, unsigned lp);
/* IA32_MISC_ENABLE.BOOT_NT4 (limit CPUID maxval) must be clear on this LP:
 * TDX_LIMIT_CPUID_MAXVAL_SET otherwise. */
uint64_t module_check_cpuid_maxval(struct tdx_module *m, unsigned lp);

struct tdx_module {
	struct plat *plat;
	const struct module_profile_desc *profile;
	/* Per TD feature of the TD-exit table, the first CPUID lookup entry that can hold it (-1:
	 * none): every TD entry asks, the profile's table never changes (td_exit.c). */
	int td_feature_lookup[TD_FEATURE_COUNT];
	struct plat_sysinfo sysinfo; /* copied from the SEAMLDR at TDH.SYS.INIT */

	struct sharex_lock global_lock;
	_Atomic uint8_t sys_state;
	uint64_t sys_attributes;
	atomic_uint num_init_lps;
	atomic_uint num_init_pkgs;
	_Atomic uint32_t pkg_config_bitmap;

	/* KeyIDs */
	unsigned hkid_private_min, hkid_private_max;
	uint16_t global_hkid;
	uint8_t kot_state[MAX_HKIDS];
	uint32_t kot_wbinvd_bitmap[MAX_HKIDS]; /* packages still owing a cache write-back */
	struct sharex_lock kot_lock;
	struct {
		atomic_flag lock;
		uint64_t intr_point;
		bool hkid_flushed[MAX_HKIDS];
	} wbt[MAX_PKGS];

	/* CPUID sampled at TDH.SYS.INIT, per lookup entry */
	struct cpuid_regs cpuid_native[MAX_NUM_CPUID_LOOKUP];
	uint32_t platform_fms;
	uint32_t last_ext_leaf;
	unsigned max_pa, la_width;
	uint64_t xcr0_supported, xss_supported;
	uint64_t ia32_tsc_adjust; /* sampled at TDH.SYS.INIT; later leaves that read the TSC compare */
	bool cpuid_finalized; /* complete_cpuid_handling() ran (TDH.SYS.CONFIG) */

	/* TDMRs */
	struct module_tdmr tdmr[TDMR_MAX];
	unsigned nr_tdmrs;

	/* handoff data written by TDH.SYS.SHUTDOWN */
	struct {
		bool valid;
		uint16_t hv;
		uint32_t size;
	} handoff;

	struct module_lp lp[PLAT_MAX_LPS];
};

/* The CPUID virtualization tables of the module's profile (no global table is used). */
static inline const struct cpuid_tables *module_cpuid_tables(const struct tdx_module *m)
{
	return m->profile->cpuid;
}

/* Values of the profile every handler may need. */
uint64_t module_sys_const(const struct tdx_module *m, unsigned md_index);

/* Shared-HPA operand check: alignment, width, no SEAM range overlap, a shared KeyID. */
bool module_is_shared_hpa(const struct tdx_module *m, uint64_t pa, uint64_t size, uint64_t align);
unsigned module_hkid_of(const struct tdx_module *m, uint64_t pa);
bool module_pa_has_hkid(const struct tdx_module *m, uint64_t pa);
/* Is [base, base+size) inside one (merged) CMR? */
bool module_range_in_cmrs(const struct tdx_module *m, uint64_t base, uint64_t size);

/* CPUID sampling and checks (module_cpuid.c). */
uint64_t module_cpuid_sample(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t module_cpuid_check_lp(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
void module_cpuid_finalize(struct tdx_module *m);
/* CPUID_CONFIG value TDH.SYS.INFO reports for configurable entry i. */
struct cpuid_regs module_cpuid_config_reported(const struct tdx_module *m, unsigned i);
uint64_t module_xfam_fixed0(const struct tdx_module *m);
unsigned module_num_allowed_fms(const struct tdx_module *m);
uint64_t module_allowed_fms(const struct tdx_module *m, unsigned n);

/* Global metadata (metadata_sys.c). */
uint64_t md_sys_read(const struct tdx_module *m, uint64_t field_id, uint64_t *value, uint64_t *next_id);
uint64_t md_sys_rdall(const struct tdx_module *m, uint64_t first_id, uint8_t *page, uint64_t *next_id);

/* PAMT (pamt.c). */
struct pamt_entry_ref {
	struct pamt_entry *e;
	unsigned level; /* PT_4KB / PT_2MB / PT_1GB */
};
/* Find the PAMT entries covering pa (4K aligned, no HKID). TDX_OPERAND_ADDR_RANGE_ERROR if the
 * page is not in an initialised part of a TDMR. */
uint64_t pamt_walk(struct tdx_module *m, uint64_t pa, struct pamt_entry **e1g, struct pamt_entry **e2m,
		   struct pamt_entry **e4k);
/* Initialise one TDMR.INIT chunk (1024 PAMT_4K entries) starting at TDMR address addr. */
int pamt_init_chunk(struct tdx_module *m, struct module_tdmr *t, uint64_t addr);
bool pamt_entry_try_lock_shared(struct pamt_entry *e);
void pamt_entry_unlock_shared(struct pamt_entry *e);
bool pamt_entry_try_lock_exclusive(struct pamt_entry *e);
void pamt_entry_unlock_exclusive(struct pamt_entry *e);

/* Leaf handlers: one file each, named after the spec. */
typedef uint64_t (*seamcall_handler_t)(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_lp_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_info(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_rdall(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_config(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_key_config(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_tdmr_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_lp_shutdown(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_sys_shutdown(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_phymem_page_rdmd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_create(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_key_config(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_addcx(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_vpflushdone(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_key_freeid(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_key_reclaimid(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_phymem_cache_wb(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_phymem_page_reclaim(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_phymem_page_wbinvd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_sept_add(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_page_add(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mr_extend(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_vp_create(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_vp_addcx(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_vp_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_vp_enter(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mr_finalize(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_page_aug(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_page_promote(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_page_demote(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_wr(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mng_wr(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_vp_flush(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_vp_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_vp_wr(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_range_block(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_range_unblock(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_track(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_page_remove(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_sept_remove(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_sept_rd(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);
uint64_t tdh_mem_page_relocate(struct tdx_module *m, unsigned lp, struct tdx_regs *regs);

#endif
