#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vmm/tdvf.h"
#include "td_exit_state.h"

void fx_small_config(struct plat_config *cfg)
{
	plat_config_default(cfg);
	cfg->packages = 2;
	cfg->lps_per_package = 2;
	cfg->ram_bytes = 4 * GiB;
	plat_config_default_e820(cfg);
}

bool fx_create_cfg(struct fx *f, const struct plat_config *cfg)
{
	return fx_create_profile_cfg(f, cfg, SIM_DEFAULT_PROFILE);
}

bool fx_create_profile_cfg(struct fx *f, const struct plat_config *cfg, const char *profile)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	if (sim_create(&f->s, cfg, profile, NULL, NULL, err, sizeof(err))) {
		fprintf(stderr, "fixture: %s\n", err);
		return false;
	}
	f->h = &f->s.host;
	f->p = f->s.plat;
	for (unsigned i = 0; i < plat_nr_lps(f->p); i++)
		plat_lp_set_vmx(f->p, i, true);
	return true;
}

bool fx_create_profile(struct fx *f, const char *profile)
{
	struct plat_config cfg;
	fx_small_config(&cfg);
	return fx_create_profile_cfg(f, &cfg, profile);
}

bool fx_create(struct fx *f)
{
	struct plat_config cfg;
	fx_small_config(&cfg);
	return fx_create_cfg(f, &cfg);
}

void fx_destroy(struct fx *f)
{
	sim_destroy(&f->s);
}

uint64_t fx_call(struct fx *f, unsigned lp, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9,
		 struct tdx_regs *out)
{
	struct tdx_regs r = { { 0 } };

	r.r[TDX_REG_RAX] = rax;
	r.r[TDX_REG_RCX] = rcx;
	r.r[TDX_REG_RDX] = rdx;
	r.r[TDX_REG_R8] = r8;
	r.r[TDX_REG_R9] = r9;
	plat_seamcall(f->p, lp, &r);
	if (out)
		*out = r;
	return r.r[TDX_REG_RAX];
}

bool fx_sys_and_lp_init(struct fx *f)
{
	if (fx_call(f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL) != TDX_SUCCESS)
		return false;
	for (unsigned i = 0; i < plat_nr_lps(f->p); i++)
		if (fx_call(f, i, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL) != TDX_SUCCESS)
			return false;
	return true;
}

bool fx_build_tdmrs(struct fx *f)
{
	return !tdx_read_sys_info(f->h, 0, &f->h->sysinfo) && !tdx_build_memlist(f->h) &&
	       !tdx_construct_tdmrs(f->h);
}

uint64_t fx_tdmr_array(struct fx *f, const struct tdmr_info_entry *infos, unsigned n)
{
	uint64_t ptrs[64] = { 0 };
	uint64_t arr = host_alloc_phys(f->h, 512, 512, 0);

	for (unsigned i = 0; i < n && i < 64; i++) {
		ptrs[i] = host_alloc_phys(f->h, sizeof(infos[i]), 512, 0);
		plat_host_write(f->p, ptrs[i], &infos[i], sizeof(infos[i]));
	}
	plat_host_write(f->p, arr, ptrs, 512);
	return arr;
}

void fx_tdmr_info(struct fx *f, unsigned i, struct tdmr_info_entry *e)
{
	plat_host_read(f->p, f->h->tdmrs[i].info_pa, e, sizeof(*e));
}

uint64_t fx_config(struct fx *f)
{
	struct tdmr_info_entry e[HOST_MAX_TDMRS];
	uint64_t arr;

	for (unsigned i = 0; i < f->h->nr_tdmrs; i++)
		fx_tdmr_info(f, i, &e[i]);
	arr = fx_tdmr_array(f, e, f->h->nr_tdmrs);
	return fx_call(f, 0, TDH_SYS_CONFIG_LEAF, arr, f->h->nr_tdmrs, f->h->global_keyid, 0, NULL);
}

bool fx_configured(struct fx *f)
{
	return fx_sys_and_lp_init(f) && fx_build_tdmrs(f) && fx_config(f) == TDX_SUCCESS;
}

bool fx_ready(struct fx *f)
{
	if (!fx_configured(f))
		return false;
	for (unsigned pkg = 0; pkg < plat_nr_packages(f->p); pkg++)
		if (fx_call(f, plat_package_first_lp(f->p, pkg), TDH_SYS_KEY_CONFIG_LEAF, 0, 0, 0, 0, NULL))
			return false;
	return true;
}

bool fx_bringup(struct fx *f)
{
	return sim_tdx_bringup(&f->s) == 0;
}

uint64_t fx_page(struct fx *f)
{
	return host_alloc_phys(f->h, 4096, 4096, 0);
}

bool fx_td_create(struct fx *f, struct fx_td *td)
{
	static unsigned next_hkid;

	memset(td, 0, sizeof(*td));
	td->tdr = fx_page(f);
	td->hkid = f->h->global_keyid + 1 + (next_hkid++ % (f->h->nr_tdx_keyids - 1));
	if (tdh_mng_create(f->h, 0, td->tdr, td->hkid))
		return false;
	for (unsigned pkg = 0; pkg < plat_nr_packages(f->p); pkg++)
		if (tdh_mng_key_config(f->h, plat_package_first_lp(f->p, pkg), td->tdr))
			return false;
	for (td->nr_tdcx = 0; td->nr_tdcx < 6; td->nr_tdcx++) {
		td->tdcx[td->nr_tdcx] = fx_page(f);
		if (tdh_mng_addcx(f->h, 0, td->tdr, td->tdcx[td->nr_tdcx]))
			return false;
	}
	return true;
}

bool fx_td_destroy(struct fx *f, struct fx_td *td)
{
	struct tdx_module_args a;

	if (tdh_mng_vpflushdone(f->h, 0, td->tdr))
		return false;
	for (unsigned pkg = 0; pkg < plat_nr_packages(f->p); pkg++)
		if (tdh_phymem_cache_wb(f->h, plat_package_first_lp(f->p, pkg), false))
			return false;
	if (tdh_mng_key_freeid(f->h, 0, td->tdr))
		return false;
	for (unsigned i = 0; i < td->nr_tdcx; i++)
		if (tdh_phymem_page_reclaim(f->h, 0, td->tdcx[i], &a))
			return false;
	return tdh_phymem_page_reclaim(f->h, 0, td->tdr, &a) == TDX_SUCCESS;
}

void fx_td_params_default(struct td_params *p)
{
	memset(p, 0, sizeof(*p));
	p->xfam = 0x3;
	p->max_vcpus = 8;
	p->eptp_controls = (3ull << EPTP_CONTROLS_EPT_PWL_SHIFT) | 6; /* 4-level walk, write-back */
	p->tsc_frequency = 100;                                        /* x 25 MHz */
}

uint64_t fx_td_init(struct fx *f, struct fx_td *td, const struct td_params *p, struct tdx_module_args *out)
{
	uint64_t pa = host_alloc_phys(f->h, sizeof(*p), 1024, 0);
	struct tdx_module_args a;

	plat_host_write(f->p, pa, p, sizeof(*p));
	return tdh_mng_init(f->h, 0, td->tdr, pa, out ? out : &a);
}

bool fx_vcpu_ready(struct fx *f, uint64_t tdr, uint64_t pages[MIN_TDVPS_PAGES])
{
	memset(pages, 0, MIN_TDVPS_PAGES * sizeof(pages[0]));
	pages[0] = fx_page(f);
	if (tdh_vp_create(f->h, 0, tdr, pages[0]))
		return false;
	for (unsigned i = 1; i < MIN_TDVPS_PAGES; i++) {
		uint64_t cx = fx_page(f);
		if (tdh_vp_addcx(f->h, 0, pages[0], cx))
			return false;
		pages[i] = cx;
	}
	/* VP.INIT associates the vCPU with LP 0: flush it now so that teardown needs no vCPU list */
	return tdh_vp_init(f->h, 0, pages[0], 0) == TDX_SUCCESS && tdh_vp_flush(f->h, 0, pages[0]) == TDX_SUCCESS;
}

bool fx_kvm_up(struct fx_kvm *k)
{
	memset(k, 0, sizeof(*k));
	if (!fx_create(&k->f))
		return false;
	if (!fx_bringup(&k->f) || !(k->d = kvm_open(k->f.h)))
		return false;
	return kvm_create_vm(k->d, KVM_X86_TDX_VM, &k->vm) == 0;
}

struct kvm_tdx_init_vm *fx_kvm_init_vm_args(unsigned extra)
{
	struct kvm_tdx_init_vm *iv = calloc(1, sizeof(*iv) + (1 + extra) * sizeof(struct kvm_cpuid_entry2));

	if (!iv)
		return NULL;
	iv->xfam = 0x3;
	iv->cpuid.nent = 1;
	iv->cpuid.entries[0].function = 0x80000008;
	iv->cpuid.entries[0].eax = 48 << 16;
	return iv;
}

bool fx_kvm_init(struct fx_kvm *k)
{
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(0);
	int r = iv ? kvm_tdx_init_vm(k->vm, iv, NULL) : -ENOMEM;

	free(iv);
	return !r && !kvm_create_vcpu(k->vm, 0, &k->vcpu) && !kvm_tdx_init_vcpu(k->vcpu, 0);
}

bool fx_kvm_private_slot(struct fx_kvm *k, unsigned slot, uint64_t gpa, uint64_t size)
{
	struct kvm_memory_region r = { .slot = slot, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = gpa,
				       .memory_size = size };

	return !kvm_set_user_memory_region2(k->vm, &r) &&
	       !kvm_set_memory_attributes(k->vm, gpa, size, KVM_MEMORY_ATTRIBUTE_PRIVATE);
}

void fx_kvm_down(struct fx_kvm *k)
{
	kvm_destroy_vm(k->vm);
	k->vm = NULL;
	kvm_close(k->d);
	k->d = NULL;
	fx_destroy(&k->f);
}

bool fx_td1_up_params(struct fx *f, struct fx_td1 *t, const struct td_params *p, bool finalize)
{
	memset(t, 0, sizeof(*t));
	if (!fx_bringup(f) || !fx_td_create(f, &t->td))
		return false;
	if (fx_td_init(f, &t->td, p, NULL))
		return false;
	t->vp[0] = fx_page(f);
	if (tdh_vp_create(f->h, 0, t->td.tdr, t->vp[0]))
		return false;
	for (unsigned i = 1; i < MIN_TDVPS_PAGES; i++)
		if (tdh_vp_addcx(f->h, 0, t->vp[0], t->vp[i] = fx_page(f)))
			return false;
	if (tdh_vp_init(f->h, 0, t->vp[0], 0x7000))
		return false;
	return !finalize || tdh_mr_finalize(f->h, 0, t->td.tdr) == TDX_SUCCESS;
}

bool fx_td1_up(struct fx *f, struct fx_td1 *t, bool finalize)
{
	struct td_params p;

	fx_td_params_default(&p);
	return fx_td1_up_params(f, t, &p, finalize);
}

bool fx_td1_down(struct fx *f, struct fx_td1 *t, uint64_t extra)
{
	struct tdx_module_args a;
	uint64_t st = tdh_vp_flush(f->h, 0, t->vp[0]);

	if ((st && st != TDX_VCPU_NOT_ASSOCIATED) || tdh_mng_vpflushdone(f->h, 0, t->td.tdr))
		return false;
	for (unsigned pkg = 0; pkg < plat_nr_packages(f->p); pkg++)
		if (tdh_phymem_cache_wb(f->h, plat_package_first_lp(f->p, pkg), false))
			return false;
	if (tdh_mng_key_freeid(f->h, 0, t->td.tdr))
		return false;
	for (unsigned i = MIN_TDVPS_PAGES; i-- > 0;)
		if (tdh_phymem_page_reclaim(f->h, 0, t->vp[i], &a))
			return false;
	if (extra && tdh_phymem_page_reclaim(f->h, 0, extra, &a))
		return false;
	for (unsigned i = t->nr_extra; i-- > 0;)
		if (tdh_phymem_page_reclaim(f->h, 0, t->extra[i], &a))
			return false;
	for (unsigned i = 0; i < t->td.nr_tdcx; i++)
		if (tdh_phymem_page_reclaim(f->h, 0, t->td.tdcx[i], &a))
			return false;
	return tdh_phymem_page_reclaim(f->h, 0, t->td.tdr, &a) == TDX_SUCCESS;
}

uint64_t fx_lp_get(struct plat *p, unsigned lp, const struct td_exit_state_item *it)
{
	return plat_lp_state_read(p, lp, it->kind == TD_EXIT_KIND_MSR, it->index);
}

void fx_lp_set(struct plat *p, unsigned lp, const struct td_exit_state_item *it, uint64_t v)
{
	plat_lp_state_write(p, lp, it->kind == TD_EXIT_KIND_MSR, it->index, v);
}

struct tdcall_guest {
	struct plat_guest_regs *io;
	unsigned run;
};

static void tdcall_guest_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *r,
			     const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct tdcall_guest *g = ctx;
	uint64_t rip = r->rip;

	(void)p, (void)lp, (void)tag;
	if (g->run++ == 0) {
		*r = *g->io;
		r->rip = rip;
	} else {
		*g->io = *r;
		r->gpr[0] = 0; /* TDG.VP.VMCALL, selecting nothing */
		r->gpr[1] = 0;
	}
	ex->reason = 77; /* TDCALL */
	ex->instr_len = 4;
}

static const struct plat_guest_engine tdcall_engine = { tdcall_guest_run };

uint64_t fx_tdcall(struct fx *f, struct fx_td1 *t, struct plat_guest_regs *io)
{
	struct tdcall_guest g = { io, 0 };
	struct tdx_regs r = { { 0 } };

	plat_set_guest_engine(f->p, &tdcall_engine, &g);
	r.r[TDX_REG_RCX] = t->vp[0];
	return tdh_vp_enter(f->h, 0, &r);
}

uint64_t fx_td1_map(struct fx *f, struct fx_td1 *t, uint64_t gpa, const void *content)
{
	struct tdx_module_args a;
	uint64_t st, page, op;

	for (unsigned level = 3; level >= 1; level--) {
		uint64_t span = UINT64_C(4096) << (9 * level);
		page = fx_page(f);
		st = tdh_mem_sept_add(f->h, 0, t->td.tdr, gpa & ~(span - 1), level, page, &a);
		if (st == TDX_SUCCESS && t->nr_extra < 128)
			t->extra[t->nr_extra++] = page;
		else if ((st & ~UINT64_C(0xFFFFFFFF)) != TDX_EPT_ENTRY_STATE_INCORRECT)
			return st; /* only "already there" is fine */
	}
	page = fx_page(f);
	if (tdh_mng_rd(f->h, 0, t->td.tdr, MD_TD_FIELDS_OP_STATE_FIELD_ID, &op))
		return TDX_OPERAND_INVALID;
	if (op == 1) { /* OP_STATE INITIALIZED: still building */
		uint64_t src = fx_page(f);
		uint8_t zero[4096] = { 0 };
		plat_host_write(f->p, src, content ? content : zero, sizeof(zero));
		st = tdh_mem_page_add(f->h, 0, t->td.tdr, gpa, page, src, &a);
	} else {
		st = tdh_mem_page_aug(f->h, 0, t->td.tdr, gpa, 0, page, &a);
	}
	if (st == TDX_SUCCESS && t->nr_extra < 128)
		t->extra[t->nr_extra++] = page;
	return st;
}

const uint8_t *fx_ovmf_image(size_t *size)
{
	static uint8_t *img;
	static size_t n;
	char err[256];

	if (!img && tdvf_read_file("/usr/share/ovmf/OVMF.fd", &img, &n, err, sizeof(err)))
		img = NULL;
	*size = n;
	return img;
}
