/* Host (the "kernel" side): typed SEAMCALL wrappers, status -> errno, and TDX module
 * bring-up the way Linux's arch/x86/virt/vmx/tdx does it. It touches memory and CPUs
 * only through the platform, like real software. */
#ifndef HOST_H
#define HOST_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform.h"

/* ---- raw SEAMCALL wrappers: return the 64-bit TDX status ------------------------- */
struct tdx_host;

struct tdx_module_args {
	uint64_t rcx, rdx, r8, r9, r10, r11;
};



/* Each returns the raw status (after retrying TDX_RND_NO_ENTROPY like Linux's sc_retry). */
uint64_t seamldr_info(struct tdx_host *h, unsigned cpu, struct seamldr_info *out);
uint64_t tdh_sys_init(struct tdx_host *h, unsigned cpu);
uint64_t tdh_sys_lp_init(struct tdx_host *h, unsigned cpu);
uint64_t tdh_sys_rd(struct tdx_host *h, unsigned cpu, uint64_t field_id, uint64_t *value, uint64_t *next);
uint64_t tdh_sys_rdall(struct tdx_host *h, unsigned cpu, uint64_t page_pa, uint64_t *field_id);
uint64_t tdh_sys_info(struct tdx_host *h, unsigned cpu, uint64_t info_pa, uint64_t info_len, uint64_t cmr_pa,
		      uint64_t nr_cmrs, struct tdx_module_args *out);
uint64_t tdh_sys_config(struct tdx_host *h, unsigned cpu, uint64_t tdmr_array_pa, uint64_t nr_tdmrs,
			uint64_t global_keyid);
uint64_t tdh_sys_key_config(struct tdx_host *h, unsigned cpu);
uint64_t tdh_sys_tdmr_init(struct tdx_host *h, unsigned cpu, uint64_t tdmr_base, uint64_t *next);
uint64_t tdh_sys_lp_shutdown(struct tdx_host *h, unsigned cpu);
uint64_t tdh_sys_shutdown(struct tdx_host *h, unsigned cpu, uint64_t handoff_version);
uint64_t tdh_phymem_page_rdmd(struct tdx_host *h, unsigned cpu, uint64_t pa, struct tdx_module_args *out);
uint64_t tdh_mng_create(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t hkid);
uint64_t tdh_mng_key_config(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa);
uint64_t tdh_mng_addcx(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t tdcx_pa);
uint64_t tdh_mng_vpflushdone(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa);
uint64_t tdh_mng_key_freeid(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa);
uint64_t tdh_mng_key_reclaimid(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa);
uint64_t tdh_phymem_cache_wb(struct tdx_host *h, unsigned cpu, bool resume);
uint64_t tdh_phymem_page_reclaim(struct tdx_host *h, unsigned cpu, uint64_t pa, struct tdx_module_args *out);
uint64_t tdh_phymem_page_wbinvd(struct tdx_host *h, unsigned cpu, uint64_t pa_with_hkid);
uint64_t tdh_mng_init(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t td_params_pa,
		      struct tdx_module_args *out);
uint64_t tdh_mng_rd(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t field_id, uint64_t *value);
uint64_t tdh_mr_finalize(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa);
uint64_t tdh_vp_create(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t tdvpr_pa);
uint64_t tdh_vp_addcx(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t tdcx_pa);
uint64_t tdh_vp_init(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t initial_rcx);
/* level: 0 = 4K ... ; returns RCX/RDX (SEPT entry and level info) on EPT errors */
uint64_t tdh_mem_sept_add(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			  uint64_t sept_page_pa, struct tdx_module_args *out);
uint64_t tdh_mem_page_add(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, uint64_t page_pa,
			  uint64_t source_pa, struct tdx_module_args *out);
uint64_t tdh_mr_extend(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, struct tdx_module_args *out);
uint64_t tdh_mem_page_aug(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			  uint64_t page_pa, struct tdx_module_args *out);
/* Debug TDs only; *value / *old come from R8, out has RCX/RDX (SEPT details) on EPT errors. */
uint64_t tdh_mem_rd(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, uint64_t *value,
		    struct tdx_module_args *out);
uint64_t tdh_mem_wr(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, uint64_t value, uint64_t *old,
		    struct tdx_module_args *out);
uint64_t tdh_mng_wr(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t field_id, uint64_t value,
		    uint64_t mask, uint64_t *old);
uint64_t tdh_vp_flush(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa);
/* TDH.VP.ENTER: io->r[TDX_REG_RCX] = TDVPR | flags, the other GPRs are the VMM's outputs for a
 * completed TDG.VP.VMCALL. On return io holds the TD exit (RAX = the returned status). */
uint64_t tdh_vp_enter(struct tdx_host *h, unsigned cpu, struct tdx_regs *io);
/* SEPT entry leaves, PAGE_INFO = gpa | level; out gets RCX/RDX (entry details on EPT errors,
 * the removed page's HPA in RCX after a REMOVE, the entry after SEPT.RD). */
uint64_t tdh_mem_range_block(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     struct tdx_module_args *out);
uint64_t tdh_mem_range_unblock(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			       struct tdx_module_args *out);
uint64_t tdh_mem_track(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa);
uint64_t tdh_mem_page_remove(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     struct tdx_module_args *out);
uint64_t tdh_mem_sept_remove(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     struct tdx_module_args *out);
uint64_t tdh_mem_sept_rd(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			 struct tdx_module_args *out);
/* Move the page mapped at gpa (4 KiB, level 0) to page_pa; out.rcx = the old page's HPA. */
uint64_t tdh_mem_page_relocate(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			       uint64_t page_pa, struct tdx_module_args *out);
/* Merge the 512 leaves below gpa | level (1: 2 MiB, 2: 1 GiB) into one; out.rcx = the freed
 * SEPT page. version 1: out.r9..r11 = freed L2 SEPT pages (NULL_PA). */
uint64_t tdh_mem_page_promote(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			      unsigned version, struct tdx_module_args *out);
/* Split the large leaf at gpa | level into sept_page_pa (no L2 SEPT pages). */
uint64_t tdh_mem_page_demote(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     uint64_t sept_page_pa, struct tdx_module_args *out);
/* Any leaf, for tests and tools: registers in, registers out. */
uint64_t tdx_seamcall(struct tdx_host *h, unsigned cpu, struct tdx_regs *regs);

/* The one place a TDX status becomes an errno. */
int tdx_status_to_errno(uint64_t status);
/* "TDX_SYS_BUSY", "TDX_OPERAND_INVALID+RCX", "TDX_SEAMCALL_UD", ... */
const char *tdx_status_str(uint64_t status, char *buf, size_t len);

/* ---- bring-up ----------------------------------------------------------------------- */
enum tdx_module_status {
	TDX_MODULE_UNINITIALIZED,
	TDX_MODULE_INITIALIZED,
	TDX_MODULE_ERROR,
};

/* Global metadata the host reads with TDH.SYS.RD (Linux's struct tdx_sys_info). */
struct tdx_sys_info {
	uint16_t major_version, minor_version, update_version;
	uint64_t tdx_features0;
	uint16_t max_tdmrs, max_reserved_per_tdmr;
	uint16_t pamt_entry_size[3]; /* 4K, 2M, 1G */
	uint16_t tdr_base_size, tdcs_base_size, tdvps_base_size;
	uint64_t attributes_fixed0, attributes_fixed1, xfam_fixed0, xfam_fixed1;
	uint16_t num_cpuid_config;
	uint64_t cpuid_config_leaves[128];
	uint64_t cpuid_config_values[128][2];
	uint16_t num_cmrs;
	uint64_t cmr_base[MAX_CMR], cmr_size[MAX_CMR];
};

struct tdx_memblock {
	uint64_t start, end;
	unsigned nid;
};

struct tdx_tdmr {
	uint64_t info_pa; /* where the TDMR_INFO lives in host memory */
	uint64_t base, size;
	uint64_t pamt_base[3], pamt_size[3]; /* 4K, 2M, 1G */
	struct { uint64_t offset, size; } rsvd[64];
	unsigned nr_rsvd;
};

#define HOST_MAX_MEMBLOCKS 128
#define HOST_MAX_TDMRS 64

typedef void (*tdx_log_fn)(void *ctx, const char *line);

struct tdx_host {
	struct plat *plat;
	enum tdx_module_status status;
	bool platform_tdx; /* X86_FEATURE_TDX_HOST_PLATFORM: BIOS enabled TDX KeyIDs */
	unsigned tdx_keyid_start, nr_tdx_keyids, global_keyid;
	bool sys_init_done;
	bool sysinfo_ready_reached; /* every package's KEY.CONFIG succeeded: module is SYS_READY */
	int sys_init_ret;
	bool *lp_initialized;
	struct tdx_sys_info sysinfo;
	struct tdx_memblock memlist[HOST_MAX_MEMBLOCKS];
	unsigned nr_memlist;
	struct tdx_tdmr tdmrs[HOST_MAX_TDMRS];
	unsigned nr_tdmrs;
	uint64_t pamt_bytes[3];
	/* a simple physical page allocator over e820 RAM, top-down per range */
	uint64_t alloc_top[PLAT_MAX_E820];
	tdx_log_fn log;
	void *log_ctx;
	pthread_mutex_t init_lock;   /* TDH.SYS.INIT once, and tdx_enable() once */
	pthread_mutex_t alloc_lock;  /* the physical page allocator */
	char last_error[256];
	/* statistics of the last bring-up */
	uint64_t tdmr_init_calls;
	double tdmr_init_seconds;
};

/* Early boot: read the KeyID partitioning (tdx_init()). */
int tdx_host_init(struct tdx_host *h, struct plat *p, tdx_log_fn log, void *log_ctx);
void tdx_host_fini(struct tdx_host *h);
/* Per-CPU enable: VMXON, TDH.SYS.INIT once globally, TDH.SYS.LP.INIT on this CPU. */
int tdx_cpu_enable(struct tdx_host *h, unsigned cpu);
/* All CPUs, one thread per simulated LP. */
int tdx_cpu_enable_all(struct tdx_host *h);
/* Module-wide initialisation: metadata, TDMRs + PAMTs, CONFIG, KEY.CONFIG, TDMR.INIT. */
int tdx_enable(struct tdx_host *h);
/* Read the global metadata the host uses (also used by tools). */
int tdx_read_sys_info(struct tdx_host *h, unsigned cpu, struct tdx_sys_info *si);

/* TDMR construction (tdmr.c), exposed for tests and the CLI. */
int tdx_build_memlist(struct tdx_host *h);
int tdx_construct_tdmrs(struct tdx_host *h);
void tdx_free_tdmrs(struct tdx_host *h);

/* Physical memory for host data structures (PAMTs, TDMR_INFO, buffers). 0 on failure. */
uint64_t host_alloc_phys(struct tdx_host *h, uint64_t size, uint64_t align, uint64_t near);
void host_log(struct tdx_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* TDH.VP.RD version 0 (*value from R8) and TDH.VP.WR (value/mask in R8/R9, *old from R8).
 * tdh_vp_rd_next is version 1: *next gets the next readable field id (RDX, -1 when none). */
uint64_t tdh_vp_rd(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t field_id, uint64_t *value);
uint64_t tdh_vp_rd_next(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t field_id, uint64_t *value,
			uint64_t *next);
uint64_t tdh_vp_wr(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t field_id, uint64_t value,
		   uint64_t mask, uint64_t *old);

#endif
