/* VM-level KVM: /dev/kvm, VM lifecycle, KVM_TDX_CAPABILITIES / INIT_VM / FINALIZE_VM and
 * teardown, following Linux arch/x86/kvm/vmx/tdx.c (3829d81b). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi_status.h"
#include "abi_structs.h"
#include "kvm_internal.h"
#include "tdx_arch.h"


/* ---- /dev/kvm ------------------------------------------------------------------------ */
struct kvm_dev *kvm_open(struct tdx_host *h)
{
	struct kvm_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->h = h;
	d->hkid_used = calloc((size_t)h->tdx_keyid_start + h->nr_tdx_keyids + 1, sizeof(bool));
	if (!d->hkid_used) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->no_rbp_mod = true;
	return d;
}

/* The kernel's kstrtobool() spellings. */
static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "y", "Y", "1", "on", "On", "ON" }, *const no[] = { "n", "N", "0", "off", "Off", "OFF" };

	for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(v, yes[i]))
			return *out = true, 0;
		if (!strcmp(v, no[i]))
			return *out = false, 0;
	}
	return -EINVAL;
}

int kvm_set_param(struct kvm_dev *d, const char *name, const char *value)
{
	if (!name || !value)
		return -EINVAL;
	if (!strcmp(name, "no_rbp_mod"))
		return parse_bool(value, &d->no_rbp_mod);
	return -EINVAL;
}

bool kvm_param_no_rbp_mod(const struct kvm_dev *d)
{
	return d->no_rbp_mod;
}

void kvm_close(struct kvm_dev *d)
{
	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d->pool);
	free(d->shared);
	free(d->hkid_used);
	free(d);
}

uint64_t kvm_dev_pages_in_use(const struct kvm_dev *d)
{
	return d->in_use;
}

unsigned kvm_dev_free_pages(const struct kvm_dev *d, uint64_t *pas, unsigned max)
{
	unsigned n = d->nr_pool < max ? d->nr_pool : max;

	memcpy(pas, d->pool, n * sizeof(*pas));
	return n;
}

/* Simulated DRAM is backed in 2 MiB huge pages on first write. Linux's KVM takes Secure EPT
 * pages from anywhere; doing that here would put one in every 2 MiB of guest memory, and its
 * initialisation would back (and the host kernel zero) the whole huge page around it, so a
 * TD that accepts all its memory would cost all of it in RSS even where it never writes. */
#define CTL_BLOCK (2u << 20)

/* A control page from the current 2 MiB block (a new block when it is used up); 0 when no
 * block is left. d->lock held. */
static uint64_t ctl_page_locked(struct kvm_dev *d)
{
	if (d->ctl_next == d->ctl_end) {
		uint64_t b = host_alloc_phys(d->h, CTL_BLOCK, CTL_BLOCK, 0);
		if (!b)
			return 0;
		d->ctl_next = b, d->ctl_end = b + CTL_BLOCK;
	}
	d->ctl_next += KVM_PAGE;
	return d->ctl_next - KVM_PAGE;
}

/* The host allocator never frees, so KVM keeps returned pages and hands them out again:
 * "no leaked pages" is then exactly in_use == 0. A fresh page for a control page comes from
 * the 2 MiB blocks (any page once none is left), otherwise from the host allocator. */
static uint64_t pool_get(struct kvm_dev *d, uint64_t *pool, unsigned *nr, bool control)
{
	uint64_t pa = 0;

	pthread_mutex_lock(&d->lock);
	if (*nr)
		pa = pool[--*nr];
	else if (control)
		pa = ctl_page_locked(d);
	if (!pa)
		pa = host_alloc_phys(d->h, KVM_PAGE, KVM_PAGE, 0);
	if (pa)
		d->in_use++;
	pthread_mutex_unlock(&d->lock);
	return pa;
}

static void pool_put(struct kvm_dev *d, uint64_t **pool, unsigned *nr, unsigned *cap, uint64_t pa)
{
	pthread_mutex_lock(&d->lock);
	if (*nr == *cap) {
		unsigned ncap = *cap ? 2 * *cap : 256;
		uint64_t *p = realloc(*pool, ncap * sizeof(*p));
		if (!p) { /* keep the page out of circulation rather than lose track of it */
			pthread_mutex_unlock(&d->lock);
			return;
		}
		*pool = p;
		*cap = ncap;
	}
	(*pool)[(*nr)++] = pa;
	d->in_use--;
	pthread_mutex_unlock(&d->lock);
}

uint64_t kvm_page_alloc(struct kvm_dev *d)
{
	return pool_get(d, d->pool, &d->nr_pool, true);
}

uint64_t kvm_gmem_page_alloc(struct kvm_dev *d)
{
	return pool_get(d, d->pool, &d->nr_pool, false);
}

void kvm_page_free(struct kvm_dev *d, uint64_t pa)
{
	pool_put(d, &d->pool, &d->nr_pool, &d->cap_pool, pa);
}

uint64_t kvm_shared_page_alloc(struct kvm_dev *d)
{
	return pool_get(d, d->shared, &d->nr_shared, false);
}

void kvm_shared_page_free(struct kvm_dev *d, uint64_t pa)
{
	pool_put(d, &d->shared, &d->nr_shared, &d->cap_shared, pa);
}

/* tdx_guest_keyid_alloc(): the TDX KeyIDs after the module's global one. */
static int hkid_alloc(struct kvm_dev *d)
{
	struct tdx_host *h = d->h;
	int ret = -ENOSPC;

	pthread_mutex_lock(&d->lock);
	for (unsigned k = h->global_keyid + 1; k < h->tdx_keyid_start + h->nr_tdx_keyids; k++)
		if (!d->hkid_used[k]) {
			d->hkid_used[k] = true;
			ret = (int)k;
			break;
		}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static void hkid_free(struct kvm_dev *d, int hkid)
{
	pthread_mutex_lock(&d->lock);
	d->hkid_used[hkid] = false;
	pthread_mutex_unlock(&d->lock);
}

unsigned kvm_nr_packages(const struct kvm_vm *vm)
{
	return plat_nr_packages(vm->h->plat);
}

unsigned kvm_package_cpu(const struct kvm_vm *vm, unsigned pkg)
{
	return plat_package_first_lp(vm->h->plat, pkg);
}

int kvm_vm_bug(struct kvm_vm *vm, const char *what, uint64_t status)
{
	char buf[96];

	if (!vm->bugged)
		host_log(vm->h, "kvm: KVM_BUG_ON: SEAMCALL %s failed: 0x%016llx %s", what,
			 (unsigned long long)status, tdx_status_str(status, buf, sizeof(buf)));
	vm->bugged = true;
	return -EIO;
}

/* WARN_ON_ONCE() + -EIO: a SEAMCALL failure __tdx_td_init() reports without killing the VM. */
static int kvm_warn(struct kvm_vm *vm, const char *what, uint64_t status)
{
	char buf[96];

	host_log(vm->h, "kvm: WARNING: SEAMCALL %s failed: 0x%016llx %s", what, (unsigned long long)status,
		 tdx_status_str(status, buf, sizeof(buf)));
	return -EIO;
}

bool kvm_vm_is_bugged(const struct kvm_vm *vm)
{
	return vm->bugged;
}

/* ---- VM create / destroy ------------------------------------------------------------- */
int kvm_create_vm(struct kvm_dev *d, uint64_t type, struct kvm_vm **out)
{
	struct kvm_vm *vm;
	unsigned lps = plat_nr_lps(d->h->plat);

	*out = NULL;
	if (type != KVM_X86_TDX_VM)
		return -EINVAL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->dev = d;
	vm->h = d->h;
	vm->hkid = -1;
	/* tdx_vm_init(): max_vcpus = min(KVM_MAX_VCPUS, present CPUs). */
	vm->max_vcpus = lps < KVM_MAX_VCPUS ? lps : (unsigned)KVM_MAX_VCPUS;
	vm->state = TD_STATE_UNINITIALIZED;
	kvm_lapic_vm_init(vm);
	{
		pthread_mutexattr_t ma; /* recursive: a conversion zaps under the same lock */

		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&vm->mmu_lock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	pthread_mutex_init(&vm->hold_lock, NULL);
	pthread_cond_init(&vm->hold_cond, NULL);
	*out = vm;
	return 0;
}

/* tdx_mmu_release_hkid(): flush vCPUs, VPFLUSHDONE, CACHE.WB per package, KEY.FREEID. */
static void release_hkid(struct kvm_vm *vm)
{
	uint64_t st;

	if (vm->hkid < 0)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		kvm_vcpu_flush(vm->vcpus[i]);
	pthread_mutex_lock(&vm->dev->lock);
	st = tdh_mng_vpflushdone(vm->h, kvm_thread_lp(), vm->tdr);
	if (st == TDX_FLUSHVP_NOT_DONE)
		goto out;
	if (st) {
		kvm_vm_bug(vm, "TDH.MNG.VPFLUSHDONE", st);
		goto out;
	}
	for (unsigned pkg = 0; pkg < kvm_nr_packages(vm); pkg++) {
		bool resume = false;
		for (int i = 0; i < 10000; i++) {
			st = tdh_phymem_cache_wb(vm->h, kvm_package_cpu(vm, pkg), resume);
			if (st != TDX_INTERRUPTED_RESUMABLE)
				break;
			resume = true;
		}
		/* Already done by another thread counts as done; other errors show in FREEID. */
		(void)st;
	}
	st = tdh_mng_key_freeid(vm->h, kvm_thread_lp(), vm->tdr);
	if (st)
		kvm_vm_bug(vm, "TDH.MNG.KEY.FREEID", st);
	else {
		pthread_mutex_unlock(&vm->dev->lock);
		hkid_free(vm->dev, vm->hkid);
		vm->hkid = -1;
		return;
	}
out:
	pthread_mutex_unlock(&vm->dev->lock);
}

void kvm_reclaim_page(struct kvm_vm *vm, uint64_t pa)
{
	struct tdx_module_args a;
	uint64_t st = tdh_phymem_page_reclaim(vm->h, kvm_thread_lp(), pa, &a);

	if (st) { /* the kernel cannot use it safely any more: leak it, as Linux does */
		kvm_vm_bug(vm, "TDH.PHYMEM.PAGE.RECLAIM", st);
		return;
	}
	kvm_page_free(vm->dev, pa);
}

/* tdx_reclaim_td_control_pages(): TDCS pages, then the TDR and its cache lines (global KeyID). */
static void reclaim_td_control_pages(struct kvm_vm *vm)
{
	struct tdx_module_args a;
	uint64_t st;

	if (vm->hkid >= 0)
		return; /* HKID could not be released: the pages stay with the TD (leaked) */
	for (unsigned i = 0; i < vm->nr_tdcs; i++)
		kvm_reclaim_page(vm, vm->tdcs[i]);
	vm->nr_tdcs = 0;
	if (!vm->tdr)
		return;
	st = tdh_phymem_page_reclaim(vm->h, kvm_thread_lp(), vm->tdr, &a);
	if (st) {
		kvm_vm_bug(vm, "TDH.PHYMEM.PAGE.RECLAIM(TDR)", st);
		return;
	}
	st = tdh_phymem_page_wbinvd(vm->h, kvm_thread_lp(), vm->tdr | ((uint64_t)vm->h->global_keyid << plat_hkid_shift(vm->h->plat)));
	if (st) {
		kvm_vm_bug(vm, "TDH.PHYMEM.PAGE.WBINVD", st);
		return;
	}
	kvm_page_free(vm->dev, vm->tdr);
	vm->tdr = 0;
}

/* The order Linux ends up with: guest_memfd release zaps private leaves while the HKID
 * lives, then pre-destroy releases the HKID, then vCPUs, Secure EPT and control pages are
 * reclaimed. */
static void teardown(struct kvm_vm *vm)
{
	kvm_mem_zap_private(vm);
	release_hkid(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		kvm_vcpu_free(vm->vcpus[i]);
	if (vm->hkid < 0)
		kvm_mem_free_sept(vm);
	reclaim_td_control_pages(vm);
}

void kvm_destroy_vm(struct kvm_vm *vm)
{
	if (!vm)
		return;
	kvm_lapic_vm_destroy(vm); /* no timer posts into the vCPUs from here on */
	pthread_mutex_destroy(&vm->mmu_lock);
	pthread_mutex_destroy(&vm->hold_lock);
	pthread_cond_destroy(&vm->hold_cond);
	teardown(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		kvm_intr_vcpu_free(vm->vcpus[i]);
		free(vm->vcpus[i]->cpuid);
		free(vm->vcpus[i]);
	}
	free(vm->vcpus);
	kvm_mem_free_slots(vm);
	if (vm->src_page)
		kvm_shared_page_free(vm->dev, vm->src_page);
	free(vm->attrs);
	free(vm->sept);
	free(vm->sept_index);
	free(vm);
}

/* tdx_terminate_vm(): the VM is dead from now on (every ioctl -EIO), private leaves are
 * zapped while the HKID lives, then the HKID goes; teardown then reclaims without
 * BLOCK/TRACK/REMOVE. Fine before INIT_VM too (there is just no HKID to release). */
int kvm_tdx_terminate_vm(struct kvm_vm *vm)
{
	if (kvm_vm_dead(vm))
		return -EIO;
	vm->dead = true;
	kvm_mem_zap_private(vm);
	release_hkid(vm);
	return 0;
}

/* ---- KVM_TDX_CAPABILITIES ------------------------------------------------------------ */
static uint64_t supported_attrs(const struct tdx_sys_info *si)
{
	/* KVM_SUPPORTED_TD_ATTRS: SEPT_VE_DISABLE, and PERFMON unless KVM cannot give the host
	 * its Perfmon MSRs back after a TD exit (data/module/td-exit-host-state.json). */
	uint64_t val = (TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK | TD_ATTRIBUTES_PERFMON_MASK) & ~kvm_host_state_blocked_attrs();

	if ((val & si->attributes_fixed1) != si->attributes_fixed1)
		return 0;
	return val & si->attributes_fixed0;
}

static uint64_t supported_xfam(const struct tdx_sys_info *si)
{
	uint64_t val = KVM_SUPPORTED_XFAM;

	if ((val & si->xfam_fixed1) != si->xfam_fixed1)
		return 0;
	return val & si->xfam_fixed0;
}

static const struct kvm_cpuid_mask *mask_find(const struct kvm_cpuid_mask *t, unsigned n, uint32_t leaf,
					      uint32_t sub)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].leaf == leaf && t[i].subleaf == sub)
			return &t[i];
	return NULL;
}

static uint32_t gpa_bits_set(uint32_t eax, uint32_t bits)
{
	return (eax & ~UINT32_C(0x00FF0000)) | (bits & 0xff) << 16;
}

/* td_init_cpuid_entry2(): configurable slot idx as KVM reports it: the module's
 * configurable bits that KVM knows, minus those KVM never allows (TSX, WAITPKG). */
static void cpuid_slot(const struct tdx_sys_info *si, unsigned idx, struct kvm_cpuid_entry2 *e)
{
	uint64_t ls = si->cpuid_config_leaves[idx];
	const struct kvm_cpuid_mask *k;
	uint32_t u[4];
	uint32_t sub = (uint32_t)(ls >> 32);

	memset(e, 0, sizeof(*e));
	e->function = (uint32_t)ls;
	e->index = sub == KVM_TDX_CPUID_NO_SUBLEAF ? 0 : sub;
	e->eax = (uint32_t)si->cpuid_config_values[idx][0];
	e->ebx = (uint32_t)(si->cpuid_config_values[idx][0] >> 32);
	e->ecx = (uint32_t)si->cpuid_config_values[idx][1];
	e->edx = (uint32_t)(si->cpuid_config_values[idx][1] >> 32);
	k = mask_find(kvm_cpuid_known, KVM_CPUID_KNOWN_COUNT, e->function, sub);
	if (!k) {
		e->eax = e->ebx = e->ecx = e->edx = 0;
	} else {
		e->eax &= k->eax, e->ebx &= k->ebx, e->ecx &= k->ecx, e->edx &= k->edx;
	}
	/* tdx_clear_unsupported_cpuid(): features whose host state KVM cannot restore */
	kvm_host_state_blocked_cpuid(e->function, e->index, u);
	e->eax &= ~u[0], e->ebx &= ~u[1], e->ecx &= ~u[2], e->edx &= ~u[3];
	/* The module does not configure GPAW through EAX[23:16]; KVM uses it as the knob. */
	if (e->function == 0x80000008)
		e->eax = gpa_bits_set(e->eax, 0xff);
}

static int get_capabilities(struct kvm_vm *vm, struct kvm_tdx_cmd *cmd)
{
	const struct tdx_sys_info *si = &vm->h->sysinfo;
	struct kvm_tdx_capabilities *caps = (struct kvm_tdx_capabilities *)(uintptr_t)cmd->data;

	if (cmd->flags)
		return -EINVAL;
	if (!caps)
		return -EFAULT;
	if (caps->cpuid.nent < si->num_cpuid_config)
		return -E2BIG;
	caps->supported_attrs = supported_attrs(si);
	if (!caps->supported_attrs)
		return -EIO;
	caps->supported_xfam = supported_xfam(si);
	if (!caps->supported_xfam)
		return -EIO;
	/* init_kvm_tdx_caps(): KVM serves none of GHCI's optional TDVMCALLs itself and lets
	 * userspace take SetupEventNotifyInterrupt; the rest of the fixed part reads as zero. */
	caps->kernel_tdvmcallinfo_1_r11 = 0;
	caps->kernel_tdvmcallinfo_1_r12 = 0;
	caps->user_tdvmcallinfo_1_r11 = TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT;
	caps->user_tdvmcallinfo_1_r12 = 0;
	memset(caps->reserved, 0, sizeof(caps->reserved));
	caps->cpuid.nent = si->num_cpuid_config;
	for (unsigned i = 0; i < si->num_cpuid_config; i++)
		cpuid_slot(si, i, &caps->cpuid.entries[i]);
	return 0;
}

/* ---- KVM_TDX_INIT_VM ----------------------------------------------------------------- */
static const struct kvm_cpuid_entry2 *find_entry(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/* setup_tdparams_eptp_controls(): guest PA width 48 (4-level) or 52 (5-level). */
static int setup_eptp(struct kvm_vm *vm, const struct kvm_cpuid2 *c, struct td_params *tp)
{
	const struct kvm_cpuid_entry2 *e = find_entry(c, 0x80000008, 0);
	unsigned pa;

	if (!e)
		return -EINVAL;
	pa = (e->eax >> 16) & 0xff;
	/* The simulated CPU has no 5-level EPT, so 52 is refused as on such hardware. */
	if (pa != 48)
		return -EINVAL;
	tp->eptp_controls = VMX_EPTP_MT_WB | VMX_EPTP_PWL_4; /* Linux keeps PWL pre-shifted (bits 5:3) */
	vm->shared_bit = UINT64_C(1) << (pa - 1);
	return 0;
}

static bool has_unsupported(const struct kvm_cpuid_entry2 *e)
{
	uint32_t u[4];

	kvm_host_state_blocked_cpuid(e->function, e->index, u);
	return (e->eax & u[0]) || (e->ebx & u[1]) || (e->ecx & u[2]) || (e->edx & u[3]);
}

/* setup_tdparams_cpuids(): each configurable slot from the matching entry; bits the module
 * enumerates but KVM does not know are set to 1; an entry with no slot is -EINVAL. */
static int setup_cpuids(const struct tdx_sys_info *si, const struct kvm_cpuid2 *c, struct td_params *tp)
{
	/* Like Linux's flexible cpuid_configs[]: a module with more configurable leaves than
	 * the 1.5.01 layout names continues the array into the bytes 1.5.01 reserves. */
	const unsigned room = (sizeof(*tp) - TD_PARAMS_OFF_CPUID_CONFIG_VALS) / sizeof(struct cpuid_config_vals);
	unsigned copied = 0;

	if (si->num_cpuid_config > room)
		return -EINVAL;
	for (unsigned i = 0; i < si->num_cpuid_config; i++) {
		uint64_t ls = si->cpuid_config_leaves[i];
		uint32_t sub = (uint32_t)(ls >> 32);
		const struct kvm_cpuid_mask *k = mask_find(kvm_cpuid_known, KVM_CPUID_KNOWN_COUNT, (uint32_t)ls, sub);
		const struct kvm_cpuid_entry2 *e =
			find_entry(c, (uint32_t)ls, sub == KVM_TDX_CPUID_NO_SUBLEAF ? 0 : sub);
		struct cpuid_config_vals v = { 0, 0, 0, 0 };
		uint32_t cfg[4] = { (uint32_t)si->cpuid_config_values[i][0], (uint32_t)(si->cpuid_config_values[i][0] >> 32),
				    (uint32_t)si->cpuid_config_values[i][1], (uint32_t)(si->cpuid_config_values[i][1] >> 32) };

		if (e) {
			if (has_unsupported(e))
				return -EINVAL;
			copied++;
			v = (struct cpuid_config_vals){ e->eax, e->ebx, e->ecx, e->edx };
			if ((uint32_t)ls == 0x80000008) /* the module wants EAX[23:16] = 0 */
				v.eax = gpa_bits_set(v.eax, 0);
		}
		v.eax |= cfg[0] & ~(k ? k->eax : 0);
		v.ebx |= cfg[1] & ~(k ? k->ebx : 0);
		v.ecx |= cfg[2] & ~(k ? k->ecx : 0);
		v.edx |= cfg[3] & ~(k ? k->edx : 0);
		memcpy((uint8_t *)tp + TD_PARAMS_OFF_CPUID_CONFIG_VALS + i * sizeof(v), &v, sizeof(v));
	}
	return copied == c->nent ? 0 : -EINVAL;
}

static int setup_tdparams(struct kvm_vm *vm, const struct kvm_tdx_init_vm *init, struct td_params *tp)
{
	const struct tdx_sys_info *si = &vm->h->sysinfo;
	int ret;

	if (vm->nr_vcpus)
		return -EBUSY;
	if (init->attributes & ~supported_attrs(si))
		return -EINVAL;
	if (init->xfam & ~supported_xfam(si))
		return -EINVAL;
	memset(tp, 0, sizeof(*tp));
	tp->max_vcpus = (uint16_t)vm->max_vcpus;
	tp->attributes = init->attributes | si->attributes_fixed1;
	tp->xfam = init->xfam | si->xfam_fixed1;
	tp->config_flags = vm->dev->no_rbp_mod ? CONFIG_FLAGS_NO_RBP_MOD_MASK : 0;
	/* setup_tdparams(): TDX_TSC_KHZ_TO_25MHZ(kvm->arch.default_tsc_khz), rounded down */
	tp->tsc_frequency = (uint16_t)((vm->tsc_khz ? vm->tsc_khz : KVM_TDX_DEFAULT_TSC_KHZ) / TDX_TSC_KHZ_PER_25MHZ);
	if ((ret = setup_eptp(vm, &init->cpuid, tp)) || (ret = setup_cpuids(si, &init->cpuid, tp)))
		return ret;
	memcpy(tp->mr_config_id, init->mrconfigid, sizeof(tp->mr_config_id));
	memcpy(tp->mr_owner, init->mrowner, sizeof(tp->mr_owner));
	memcpy(tp->mr_owner_config, init->mrownerconfig, sizeof(tp->mr_owner_config));
	return 0;
}

/* __tdx_td_init() failure: whatever was created is torn down by the normal path. */
static int td_init_fail(struct kvm_vm *vm, int ret)
{
	release_hkid(vm);
	if (vm->hkid >= 0)
		return ret; /* pages stay with the TD, like Linux's leak on a failed FREEID */
	reclaim_td_control_pages(vm);
	return ret;
}

static int td_create(struct kvm_vm *vm)
{
	uint64_t st;
	int hkid = hkid_alloc(vm->dev);

	if (hkid < 0)
		return hkid;
	vm->tdr = kvm_page_alloc(vm->dev);
	if (!vm->tdr) {
		hkid_free(vm->dev, hkid);
		return -ENOMEM;
	}
	pthread_mutex_lock(&vm->dev->lock); /* tdx_lock: CREATE takes the module globally */
	st = tdh_mng_create(vm->h, kvm_thread_lp(), vm->tdr, (uint64_t)hkid);
	pthread_mutex_unlock(&vm->dev->lock);
	if (st) {
		kvm_page_free(vm->dev, vm->tdr);
		vm->tdr = 0;
		hkid_free(vm->dev, hkid);
		if (st == TDX_RND_NO_ENTROPY)
			return -EAGAIN;
		return kvm_warn(vm, "TDH.MNG.CREATE", st);
	}
	vm->hkid = hkid;
	return 0;
}

static int td_init(struct kvm_vm *vm, const struct td_params *tp, uint64_t *hw_error)
{
	struct tdx_module_args a;
	uint64_t st, params;
	int ret;

	*hw_error = 0;
	if ((ret = td_create(vm)))
		return ret;
	for (unsigned pkg = 0; pkg < kvm_nr_packages(vm); pkg++)
		if ((st = tdh_mng_key_config(vm->h, kvm_package_cpu(vm, pkg), vm->tdr)))
			return td_init_fail(vm, kvm_vm_bug(vm, "TDH.MNG.KEY.CONFIG", st));
	vm->tdcx_per_vcpu = vm->h->sysinfo.tdvps_base_size / KVM_PAGE - 1;
	for (unsigned i = 0; i < vm->h->sysinfo.tdcs_base_size / KVM_PAGE && i < 16; i++) {
		uint64_t pa = kvm_page_alloc(vm->dev);
		if (!pa)
			return td_init_fail(vm, -ENOMEM);
		if ((st = tdh_mng_addcx(vm->h, kvm_thread_lp(), vm->tdr, pa))) {
			kvm_page_free(vm->dev, pa);
			return td_init_fail(vm, st == TDX_RND_NO_ENTROPY ? -EAGAIN : kvm_warn(vm, "TDH.MNG.ADDCX", st));
		}
		vm->tdcs[vm->nr_tdcs++] = pa;
	}
	/* TD_PARAMS lives in a shared (KeyID 0) kernel buffer, like Linux's kzalloc'd one. */
	params = kvm_shared_page_alloc(vm->dev);
	if (!params)
		return td_init_fail(vm, -ENOMEM);
	plat_host_write(vm->h->plat, params, tp, sizeof(*tp));
	st = tdh_mng_init(vm->h, kvm_thread_lp(), vm->tdr, params, &a);
	kvm_shared_page_free(vm->dev, params);
	if (KVM_STATUS_CLASS(st) == TDX_OPERAND_INVALID) {
		*hw_error = st; /* the user's operand: a hint, no warning */
		return td_init_fail(vm, -EINVAL);
	}
	if (st)
		return td_init_fail(vm, kvm_warn(vm, "TDH.MNG.INIT", st));
	return 0;
}

static int init_vm(struct kvm_vm *vm, struct kvm_tdx_cmd *cmd)
{
	struct kvm_tdx_init_vm *init = (struct kvm_tdx_init_vm *)(uintptr_t)cmd->data;
	struct td_params tp;
	int ret;

	if (vm->state != TD_STATE_UNINITIALIZED)
		return -EINVAL;
	if (cmd->flags)
		return -EINVAL;
	if (!init)
		return -EFAULT;
	if (init->cpuid.nent > KVM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	for (unsigned i = 0; i < sizeof(init->reserved) / sizeof(init->reserved[0]); i++)
		if (init->reserved[i])
			return -EINVAL;
	if (init->cpuid.padding)
		return -EINVAL;
	if ((ret = setup_tdparams(vm, init, &tp)))
		return ret;
	if ((ret = td_init(vm, &tp, &cmd->hw_error)))
		return ret;
	vm->attributes = tp.attributes;
	vm->xfam = tp.xfam;
	vm->state = TD_STATE_INITIALIZED;
	return 0;
}

/* ---- KVM_TDX_FINALIZE_VM ------------------------------------------------------------- */
static int finalize_vm(struct kvm_vm *vm, struct kvm_tdx_cmd *cmd)
{
	if (vm->hkid < 0 || vm->state == TD_STATE_RUNNABLE)
		return -EINVAL;
	/* nr_premapped is always 0 here: SEPT.ADD and PAGE.ADD happen in one call. */
	cmd->hw_error = tdh_mr_finalize(vm->h, kvm_thread_lp(), vm->tdr);
	if (kvm_operand_busy(cmd->hw_error))
		return -EBUSY;
	if (cmd->hw_error)
		return kvm_vm_bug(vm, "TDH.MR.FINALIZE", cmd->hw_error);
	vm->state = TD_STATE_RUNNABLE;
	return 0;
}

/* tdx_vm_ioctl(). */
int kvm_vm_memory_encrypt_op(struct kvm_vm *vm, struct kvm_tdx_cmd *cmd)
{
	if (kvm_vm_dead(vm)) /* kvm_vm_ioctl() */
		return -EIO;
	if (cmd->hw_error) /* userspace never sets it */
		return -EINVAL;
	switch (cmd->id) {
	case KVM_TDX_CAPABILITIES:
		return get_capabilities(vm, cmd);
	case KVM_TDX_INIT_VM:
		return init_vm(vm, cmd);
	case KVM_TDX_FINALIZE_VM:
		return finalize_vm(vm, cmd);
	default:
		return -EINVAL;
	}
}

/* tdx_vm_enable_cap(KVM_CAP_MAX_VCPUS) */
int kvm_vm_enable_cap_max_vcpus(struct kvm_vm *vm, uint64_t flags, uint64_t n)
{
	int r = 0;

	if (kvm_vm_dead(vm))
		return -EIO;
	if (flags || !n)
		return -EINVAL;
	if (n > KVM_MAX_VCPUS)
		return -E2BIG;
	pthread_mutex_lock(&vm->mmu_lock); /* kvm->lock */
	if (vm->nr_vcpus)
		r = -EBUSY;
	else
		vm->max_vcpus = (unsigned)n;
	pthread_mutex_unlock(&vm->mmu_lock);
	return r;
}

/* kvm_arch_vm_ioctl(KVM_SET_TSC_KHZ): with VMX's TSC scaling every 32-bit frequency below
 * max_guest_tsc_khz (0xffffffff) is accepted here; TDH.MNG.INIT judges the TD's range. */
int kvm_vm_set_tsc_khz(struct kvm_vm *vm, uint32_t khz)
{
	if (kvm_vm_dead(vm))
		return -EIO;
	if (khz == UINT32_MAX || vm->nr_vcpus)
		return -EINVAL;
	vm->tsc_khz = khz ? khz : (uint32_t)KVM_TDX_DEFAULT_TSC_KHZ;
	return 0;
}

int kvm_tdx_capabilities(struct kvm_vm *vm, struct kvm_tdx_capabilities *caps)
{
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_CAPABILITIES, .data = (uint64_t)(uintptr_t)caps };
	return kvm_vm_memory_encrypt_op(vm, &cmd);
}

int kvm_tdx_init_vm(struct kvm_vm *vm, struct kvm_tdx_init_vm *init, uint64_t *hw_error)
{
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_INIT_VM, .data = (uint64_t)(uintptr_t)init };
	int ret = kvm_vm_memory_encrypt_op(vm, &cmd);

	if (hw_error)
		*hw_error = cmd.hw_error;
	return ret;
}

int kvm_tdx_finalize_vm(struct kvm_vm *vm, uint64_t *hw_error)
{
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_FINALIZE_VM };
	int ret = kvm_vm_memory_encrypt_op(vm, &cmd);

	if (hw_error)
		*hw_error = cmd.hw_error;
	return ret;
}
