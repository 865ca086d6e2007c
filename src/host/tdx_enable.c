/* TDX module bring-up, step by step as Linux's arch/x86/virt/vmx/tdx/tdx.c does it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi_leaves.h"
#include "abi_metadata.h"
#include "abi_status.h"
#include "host.h"

void host_log(struct tdx_host *h, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (!h->log)
		return;
	n = snprintf(line, sizeof(line), "virt/tdx: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	h->log(h->log_ctx, line);
}

/* Status -> errno, logging failures the way seamcall_prerr does. */
static int sc_prerr(struct tdx_host *h, uint64_t leaf, uint64_t status)
{
	int ret = tdx_status_to_errno(status);
	char buf[96];

	if (ret && status != TDX_SEAMCALL_VMFAILINVALID && status != TDX_SEAMCALL_GP && status != TDX_SEAMCALL_UD)
		host_log(h, "SEAMCALL (0x%016llx) failed: 0x%016llx (%s)", (unsigned long long)leaf,
			 (unsigned long long)status, tdx_status_str(status, buf, sizeof(buf)));
	if (ret)
		snprintf(h->last_error, sizeof(h->last_error), "SEAMCALL 0x%llx failed: 0x%016llx %s",
			 (unsigned long long)leaf, (unsigned long long)status, tdx_status_str(status, buf, sizeof(buf)));
	return ret;
}

int tdx_host_init(struct tdx_host *h, struct plat *p, tdx_log_fn log, void *log_ctx)
{
	const struct plat_config *c = plat_config(p);
	uint64_t part;

	memset(h, 0, sizeof(*h));
	h->plat = p;
	h->log = log;
	h->log_ctx = log_ctx;
	pthread_mutex_init(&h->init_lock, NULL);
	pthread_mutex_init(&h->alloc_lock, NULL);
	h->lp_initialized = calloc(plat_nr_lps(p), sizeof(bool));
	if (!h->lp_initialized)
		return -ENOMEM;
	for (unsigned i = 0; i < c->nr_e820; i++)
		h->alloc_top[i] = c->e820[i].addr + c->e820[i].size;
	if (plat_rdmsr(p, 0, MSR_IA32_MKTME_KEYID_PARTITIONING, &part) || !(part >> 32))
		return 0; /* TDX not enabled by the BIOS: stay silent, like Linux */
	h->tdx_keyid_start = (uint32_t)part + 1;
	h->nr_tdx_keyids = (uint32_t)(part >> 32);
	host_log(h, "BIOS enabled: private KeyID range [%u, %u)", h->tdx_keyid_start,
		 h->tdx_keyid_start + h->nr_tdx_keyids);
	if (h->nr_tdx_keyids < 2) {
		host_log(h, "initialization failed: too few private KeyIDs available.");
		return 0;
	}
	h->global_keyid = h->tdx_keyid_start;
	h->platform_tdx = true;
	return 0;
}

void tdx_host_fini(struct tdx_host *h)
{
	free(h->lp_initialized);
	h->lp_initialized = NULL;
	pthread_mutex_destroy(&h->init_lock);
	pthread_mutex_destroy(&h->alloc_lock);
}

/* Ask the P-SEAMLDR whether a TDX module is loaded (the old "Detect SEAM" step). */
static int detect_module(struct tdx_host *h, unsigned cpu)
{
	struct seamldr_info si;
	uint64_t st = seamldr_info(h, cpu, &si);

	if (st == TDX_SEAMCALL_VMFAILINVALID || st == TDX_SEAMCALL_UD) {
		host_log(h, "P-SEAMLDR is not loaded.");
		snprintf(h->last_error, sizeof(h->last_error), "no SEAM loader: SEAMRR not enabled by the BIOS");
		return -ENODEV;
	}
	if (st) {
		host_log(h, "SEAMLDR.INFO failed: 0x%llx", (unsigned long long)st);
		return -EIO;
	}
	host_log(h, "p-seamldr: version 0x%x, vendor_id: 0x%x, build_date: %u, build_num %u, major %u, minor %u",
		 si.version, si.vendor_id, si.build_date, si.build_num, si.major_version, si.minor_version);
	if (!si.seam_ready) {
		snprintf(h->last_error, sizeof(h->last_error), "the SEAM loader reports no TDX module loaded");
		return -ENODEV;
	}
	return 0;
}

static int try_init_module_global(struct tdx_host *h, unsigned cpu)
{
	int ret;

	pthread_mutex_lock(&h->init_lock);
	if (!h->sys_init_done) {
		h->sys_init_ret = detect_module(h, cpu);
		if (!h->sys_init_ret)
			h->sys_init_ret = sc_prerr(h, TDH_SYS_INIT_LEAF, tdh_sys_init(h, cpu));
		if (h->sys_init_ret == -ENODEV)
			host_log(h, "module not loaded");
		h->sys_init_done = true;
	}
	ret = h->sys_init_ret;
	pthread_mutex_unlock(&h->init_lock);
	return ret;
}

int tdx_cpu_enable(struct tdx_host *h, unsigned cpu)
{
	int ret;

	if (!h->platform_tdx)
		return -ENODEV;
	plat_lp_set_vmx(h->plat, cpu, true); /* KVM has done VMXON on this CPU */
	if (h->lp_initialized[cpu])
		return 0;
	ret = try_init_module_global(h, cpu);
	if (ret)
		return ret;
	ret = sc_prerr(h, TDH_SYS_LP_INIT_LEAF, tdh_sys_lp_init(h, cpu));
	if (ret)
		return ret;
	h->lp_initialized[cpu] = true;
	return 0;
}

struct cpu_job {
	struct tdx_host *h;
	unsigned cpu;
	int ret;
};

static void *cpu_enable_thread(void *arg)
{
	struct cpu_job *j = arg;
	j->ret = tdx_cpu_enable(j->h, j->cpu);
	return NULL;
}

int tdx_cpu_enable_all(struct tdx_host *h)
{
	unsigned n = plat_nr_lps(h->plat);
	struct cpu_job *jobs = calloc(n, sizeof(*jobs));
	pthread_t *th = calloc(n, sizeof(*th));
	int ret = 0;

	if (!jobs || !th) {
		free(jobs);
		free(th);
		return -ENOMEM;
	}
	/* The boot CPU does the global init first; the others then run concurrently. */
	ret = tdx_cpu_enable(h, 0);
	for (unsigned i = 1; i < n && !ret; i++) {
		jobs[i] = (struct cpu_job){ h, i, 0 };
		if (pthread_create(&th[i], NULL, cpu_enable_thread, &jobs[i])) {
			cpu_enable_thread(&jobs[i]); /* no thread to spare: do it here */
			th[i] = 0;
		}
	}
	for (unsigned i = 1; i < n && !ret; i++)
		if (th[i])
			pthread_join(th[i], NULL);
	for (unsigned i = 1; i < n && !ret; i++)
		if (jobs[i].ret)
			ret = jobs[i].ret;
	free(jobs);
	free(th);
	return ret;
}

static int rd(struct tdx_host *h, uint64_t id, uint64_t *v)
{
	return sc_prerr(h, TDH_SYS_RD_LEAF, tdh_sys_rd(h, 0, id, v, NULL));
}

#define RD16(id, dst) do { uint64_t v_; if ((ret = rd(h, id, &v_))) return ret; (dst) = (uint16_t)v_; } while (0)
#define RD64(id, dst) do { if ((ret = rd(h, id, &(dst)))) return ret; } while (0)

int tdx_read_sys_info(struct tdx_host *h, unsigned cpu, struct tdx_sys_info *si)
{
	int ret;

	(void)cpu;
	memset(si, 0, sizeof(*si));
	RD16(MD_SYS_FIELDS_MINOR_VERSION_FIELD_ID, si->minor_version);
	RD16(MD_SYS_FIELDS_MAJOR_VERSION_FIELD_ID, si->major_version);
	RD16(MD_SYS_FIELDS_UPDATE_VERSION_FIELD_ID, si->update_version);
	RD64(MD_SYS_FIELDS_TDX_FEATURES0_FIELD_ID, si->tdx_features0);
	RD16(MD_SYS_FIELDS_MAX_TDMRS_FIELD_ID, si->max_tdmrs);
	RD16(MD_SYS_FIELDS_MAX_RESERVED_PER_TDMR_FIELD_ID, si->max_reserved_per_tdmr);
	RD16(MD_SYS_FIELDS_PAMT_4K_ENTRY_SIZE_FIELD_ID, si->pamt_entry_size[0]);
	RD16(MD_SYS_FIELDS_PAMT_2M_ENTRY_SIZE_FIELD_ID, si->pamt_entry_size[1]);
	RD16(MD_SYS_FIELDS_PAMT_1G_ENTRY_SIZE_FIELD_ID, si->pamt_entry_size[2]);
	RD16(MD_SYS_FIELDS_TDR_BASE_SIZE_FIELD_ID, si->tdr_base_size);
	RD16(MD_SYS_FIELDS_TDCS_BASE_SIZE_FIELD_ID, si->tdcs_base_size);
	RD16(MD_SYS_FIELDS_TDVPS_BASE_SIZE_FIELD_ID, si->tdvps_base_size);
	RD64(MD_SYS_FIELDS_ATTRIBUTES_FIXED0_FIELD_ID, si->attributes_fixed0);
	RD64(MD_SYS_FIELDS_ATTRIBUTES_FIXED1_FIELD_ID, si->attributes_fixed1);
	RD64(MD_SYS_FIELDS_XFAM_FIXED0_FIELD_ID, si->xfam_fixed0);
	RD64(MD_SYS_FIELDS_XFAM_FIXED1_FIELD_ID, si->xfam_fixed1);
	RD16(MD_SYS_FIELDS_NUM_CPUID_CONFIG_FIELD_ID, si->num_cpuid_config);
	if (si->num_cpuid_config > 128)
		return -EINVAL;
	for (unsigned i = 0; i < si->num_cpuid_config; i++) {
		RD64(MD_SYS_FIELDS_CPUID_CONFIG_LEAVES_FIELD_ID + i, si->cpuid_config_leaves[i]);
		RD64(MD_SYS_FIELDS_CPUID_CONFIG_VALUES_FIELD_ID + 2 * i, si->cpuid_config_values[i][0]);
		RD64(MD_SYS_FIELDS_CPUID_CONFIG_VALUES_FIELD_ID + 2 * i + 1, si->cpuid_config_values[i][1]);
	}
	RD16(MD_SYS_FIELDS_NUM_CMRS_FIELD_ID, si->num_cmrs);
	for (unsigned i = 0; i < si->num_cmrs && i < MAX_CMR; i++) {
		RD64(MD_SYS_FIELDS_CMR_BASE_FIELD_ID + i, si->cmr_base[i]);
		RD64(MD_SYS_FIELDS_CMR_SIZE_FIELD_ID + i, si->cmr_size[i]);
	}
	return 0;
}

static int config_tdx_module(struct tdx_host *h)
{
	uint64_t bytes = 512, array;
	uint64_t pas[HOST_MAX_TDMRS] = { 0 };

	while (bytes < h->nr_tdmrs * sizeof(uint64_t))
		bytes <<= 1;
	array = host_alloc_phys(h, bytes, bytes, 0);
	if (!array)
		return -ENOMEM;
	for (unsigned i = 0; i < h->nr_tdmrs; i++)
		pas[i] = h->tdmrs[i].info_pa;
	if (plat_host_write(h->plat, array, pas, bytes < sizeof(pas) ? bytes : sizeof(pas)))
		return -EIO;
	return sc_prerr(h, TDH_SYS_CONFIG_LEAF, tdh_sys_config(h, 0, array, h->nr_tdmrs, h->global_keyid));
}

/* One CPU per package, one package at a time: the leaf cannot run concurrently. */
static int config_global_keyid(struct tdx_host *h)
{
	int ret = -EINVAL;

	for (unsigned pkg = 0; pkg < plat_nr_packages(h->plat); pkg++) {
		ret = sc_prerr(h, TDH_SYS_KEY_CONFIG_LEAF,
			       tdh_sys_key_config(h, plat_package_first_lp(h->plat, pkg)));
		if (ret)
			return ret;
	}
	h->sysinfo_ready_reached = true;
	return ret;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int init_tdmrs(struct tdx_host *h)
{
	double t0 = now_seconds();

	h->tdmr_init_calls = 0;
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		const struct tdx_tdmr *t = &h->tdmrs[i];
		uint64_t next = t->base;

		do {
			uint64_t st = tdh_sys_tdmr_init(h, 0, t->base, &next);
			int ret = sc_prerr(h, TDH_SYS_TDMR_INIT_LEAF, st);
			h->tdmr_init_calls++;
			if (ret)
				return ret;
		} while (next < t->base + t->size);
	}
	h->tdmr_init_seconds = now_seconds() - t0;
	return 0;
}

static int init_tdx_module(struct tdx_host *h)
{
	int ret = tdx_read_sys_info(h, 0, &h->sysinfo);

	host_log(h, "Module version: %u.%u.%02u", h->sysinfo.major_version, h->sysinfo.minor_version,
		 h->sysinfo.update_version);
	if (ret)
		return ret;
	if (!(h->sysinfo.tdx_features0 & (UINT64_C(1) << 18))) {
		host_log(h, "frame pointer (RBP) clobber bug present, upgrade TDX module");
		snprintf(h->last_error, sizeof(h->last_error), "the module lacks TDX_FEATURES0.NO_RBP_MOD");
		return -EINVAL;
	}
	ret = tdx_build_memlist(h);
	if (!ret)
		ret = tdx_construct_tdmrs(h);
	if (!ret)
		ret = config_tdx_module(h);
	if (!ret)
		ret = config_global_keyid(h);
	if (!ret)
		ret = init_tdmrs(h);
	if (ret) {
		/* Once the keys are programmed the module is live: shut it down so nothing can
		 * use a half-initialised module, then give the PAMT memory back. */
		if (h->sysinfo_ready_reached)
			tdh_sys_shutdown(h, 0, 0);
		tdx_free_tdmrs(h);
		return ret;
	}
	host_log(h, "%llu KB allocated for PAMT",
		 (unsigned long long)((h->pamt_bytes[0] + h->pamt_bytes[1] + h->pamt_bytes[2]) / 1024));
	return 0;
}

int tdx_enable(struct tdx_host *h)
{
	int ret;

	if (!h->platform_tdx)
		return -ENODEV;
	pthread_mutex_lock(&h->init_lock);
	switch (h->status) {
	case TDX_MODULE_UNINITIALIZED:
		ret = init_tdx_module(h);
		if (ret) {
			host_log(h, "module initialization failed (%d)", ret);
			h->status = TDX_MODULE_ERROR;
		} else {
			host_log(h, "module initialized");
			h->status = TDX_MODULE_INITIALIZED;
		}
		break;
	case TDX_MODULE_INITIALIZED:
		ret = 0; /* once per module lifetime: later calls are no-ops */
		break;
	default:
		ret = -EINVAL; /* a failed bring-up is never retried */
		break;
	}
	pthread_mutex_unlock(&h->init_lock);
	return ret;
}
