/* Guest memory: slots with guest_memfd-like private backing, private/shared attributes,
 * KVM_TDX_INIT_MEM_REGION (Secure EPT + PAGE.ADD [+ MR.EXTEND]) and private-memory teardown. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi_status.h"
#include "kvm_internal.h"

#define SEPT_TOP_LEVEL 3u /* 4-level Secure EPT: the PML4 lives in the TDCS */

bool kvm_gpa_is_private(const struct kvm_vm *vm, uint64_t gpa)
{
	return vm->shared_bit && !(gpa & vm->shared_bit);
}

static struct kvm_slot *slot_of(struct kvm_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < KVM_MAX_SLOTS; i++) {
		struct kvm_slot *s = &vm->slots[i];
		if (s->used && gpa >= s->r.guest_phys_addr && gpa - s->r.guest_phys_addr < s->r.memory_size)
			return s;
	}
	return NULL;
}

int kvm_set_user_memory_region2(struct kvm_vm *vm, const struct kvm_memory_region *r)
{
	struct kvm_slot *s;
	uint64_t pages;

	if (vm->bugged)
		return -EIO;
	if (r->slot >= KVM_MAX_SLOTS || (r->guest_phys_addr | r->memory_size) & (KVM_PAGE - 1) ||
	    r->flags & ~KVM_MEM_GUEST_MEMFD || r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	s = &vm->slots[r->slot];
	if (!r->memory_size) { /* delete: private pages of the slot must be zapped first */
		if (s->used && s->gmem)
			for (uint64_t p = 0; p < s->r.memory_size / KVM_PAGE; p++)
				if (s->populated[p])
					return -EBUSY; /* simplification: no slot deletion zap path yet */
		free(s->gmem);
		free(s->populated);
		memset(s, 0, sizeof(*s));
		return 0;
	}
	if (s->used)
		return -EEXIST; /* simplification: no moving or resizing */
	for (unsigned i = 0; i < KVM_MAX_SLOTS; i++) {
		const struct kvm_slot *o = &vm->slots[i];
		if (o->used && r->guest_phys_addr < o->r.guest_phys_addr + o->r.memory_size &&
		    o->r.guest_phys_addr < r->guest_phys_addr + r->memory_size)
			return -EEXIST;
	}
	pages = r->memory_size / KVM_PAGE;
	if (r->flags & KVM_MEM_GUEST_MEMFD) {
		s->gmem = calloc(pages, sizeof(*s->gmem));
		s->populated = calloc(pages, sizeof(*s->populated));
		if (!s->gmem || !s->populated) {
			free(s->gmem);
			free(s->populated);
			s->gmem = NULL;
			s->populated = NULL;
			return -ENOMEM;
		}
	}
	s->r = *r;
	s->used = true;
	return 0;
}

static uint64_t attrs_of(const struct kvm_vm *vm, uint64_t gpa)
{
	uint64_t a = 0;

	/* Later calls win: scan every range, keep the last that covers gpa. */
	for (unsigned i = 0; i < vm->nr_attrs; i++)
		if (gpa >= vm->attrs[i].start && gpa < vm->attrs[i].end)
			a = vm->attrs[i].attrs;
	return a;
}

int kvm_set_memory_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint64_t attributes)
{
	struct kvm_attr_range *n;

	if (vm->bugged)
		return -EIO;
	if ((gpa | size) & (KVM_PAGE - 1) || !size || gpa + size < gpa || attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE)
		return -EINVAL;
	n = realloc(vm->attrs, (vm->nr_attrs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	vm->attrs = n;
	vm->attrs[vm->nr_attrs++] = (struct kvm_attr_range){ gpa, gpa + size, attributes };
	return 0;
}

static bool grow(void **arr, unsigned *cap, unsigned n, size_t elem)
{
	void *p;

	if (n < *cap)
		return true;
	p = realloc(*arr, (*cap ? 2 * *cap : 64) * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = *cap ? 2 * *cap : 64;
	return true;
}

static bool sept_known(const struct kvm_vm *vm, uint64_t key)
{
	for (unsigned i = 0; i < vm->nr_sept; i++)
		if (vm->sept[i].key == key)
			return true;
	return false;
}

/* kvm_tdp_map_page() for the mirror EPT: the missing Secure EPT pages top-down. */
static int map_sept(struct kvm_vm *vm, uint64_t gpa)
{
	struct tdx_module_args a;

	for (unsigned level = SEPT_TOP_LEVEL; level >= 1; level--) {
		uint64_t span = (uint64_t)KVM_PAGE << (9 * level), base = gpa & ~(span - 1), key = base | level, pa, st;

		if (sept_known(vm, key))
			continue;
		if (!grow((void **)&vm->sept, &vm->cap_sept, vm->nr_sept, sizeof(*vm->sept)))
			return -ENOMEM;
		if (!(pa = kvm_page_alloc(vm->dev)))
			return -ENOMEM;
		st = tdh_mem_sept_add(vm->h, 0, vm->tdr, base, level, pa, &a);
		if (st) {
			kvm_page_free(vm->dev, pa);
			if ((st & UINT64_C(0xFFFFFFFF00000000)) == TDX_OPERAND_BUSY)
				return -EBUSY;
			return kvm_vm_bug(vm, "TDH.MEM.SEPT.ADD", st);
		}
		vm->sept[vm->nr_sept++] = (struct kvm_sept_page){ key, pa };
	}
	return 0;
}

/* kvm_gmem_populate() + tdx_gmem_post_populate() for one page. */
static int populate_one(struct kvm_vm *vm, uint64_t gpa, const void *src, uint32_t flags)
{
	struct kvm_slot *s = slot_of(vm, gpa);
	struct tdx_module_args a;
	uint64_t idx, pa, st;
	int ret;

	if (!s || !s->gmem || !(attrs_of(vm, gpa) & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return -EINVAL;
	idx = (gpa - s->r.guest_phys_addr) / KVM_PAGE;
	if (s->populated[idx])
		return -EEXIST;
	if (!grow((void **)&vm->mapped, &vm->cap_mapped, vm->nr_mapped, sizeof(*vm->mapped)))
		return -ENOMEM;
	if (!s->gmem[idx] && !(s->gmem[idx] = kvm_page_alloc(vm->dev)))
		return -ENOMEM;
	pa = s->gmem[idx];
	if ((ret = map_sept(vm, gpa)))
		return ret;
	plat_host_write(vm->h->plat, vm->src_page, src, KVM_PAGE);
	st = tdh_mem_page_add(vm->h, 0, vm->tdr, gpa, pa, vm->src_page, &a);
	if (st)
		return tdx_status_to_errno(st);
	s->populated[idx] = true;
	vm->mapped[vm->nr_mapped++] = (struct kvm_mapped){ gpa, pa };
	if (flags & KVM_TDX_MEASURE_MEMORY_REGION)
		for (uint64_t off = 0; off < KVM_PAGE; off += TDX_EXTENDMR_CHUNKSIZE)
			if ((st = tdh_mr_extend(vm->h, 0, vm->tdr, gpa + off, &a)))
				return -EIO;
	return 0;
}

/* tdx_vcpu_init_mem_region(); the caller checked the vCPU and TD state. */
int kvm_tdx_init_mem_region_locked(struct kvm_vcpu *vcpu, struct kvm_tdx_cmd *cmd)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_tdx_init_mem_region *r = (struct kvm_tdx_init_mem_region *)(uintptr_t)cmd->data;
	int ret = 0;

	if (cmd->flags & ~KVM_TDX_MEASURE_MEMORY_REGION)
		return -EINVAL;
	if (!r)
		return -EFAULT;
	if (r->source_addr & (KVM_PAGE - 1) || r->gpa & (KVM_PAGE - 1) || !r->nr_pages ||
	    r->gpa + (r->nr_pages << 12) <= r->gpa || !kvm_gpa_is_private(vm, r->gpa) ||
	    !kvm_gpa_is_private(vm, r->gpa + (r->nr_pages << 12) - 1))
		return -EINVAL;
	if (!vm->src_page && !(vm->src_page = kvm_page_alloc(vm->dev)))
		return -ENOMEM;
	while (r->nr_pages) {
		if ((ret = populate_one(vm, r->gpa, (const void *)(uintptr_t)r->source_addr, cmd->flags)))
			break;
		r->source_addr += KVM_PAGE;
		r->gpa += KVM_PAGE;
		r->nr_pages--;
	}
	return ret;
}

static void unpopulate(struct kvm_vm *vm, uint64_t gpa, bool free_page)
{
	struct kvm_slot *s = slot_of(vm, gpa);
	uint64_t idx;

	if (!s || !s->gmem)
		return;
	idx = (gpa - s->r.guest_phys_addr) / KVM_PAGE;
	s->populated[idx] = false;
	if (free_page) {
		kvm_page_free(vm->dev, s->gmem[idx]);
		s->gmem[idx] = 0;
	}
}

/* tdx_sept_remove_private_spte(): BLOCK, TRACK (only once runnable), REMOVE, then write back
 * the page's cache lines with the TD's KeyID. Without an HKID the page is reclaimed. */
static void zap_one(struct kvm_vm *vm, const struct kvm_mapped *m)
{
	struct tdx_module_args a;
	uint64_t st;

	if (vm->hkid < 0) {
		struct kvm_slot *s = slot_of(vm, m->gpa);
		kvm_reclaim_page(vm, m->pa);
		if (s && s->gmem) /* the pool has it now */
			s->gmem[(m->gpa - s->r.guest_phys_addr) / KVM_PAGE] = 0;
		unpopulate(vm, m->gpa, false);
		return;
	}
	if ((st = tdh_mem_range_block(vm->h, 0, vm->tdr, m->gpa, 0, &a))) {
		kvm_vm_bug(vm, "TDH.MEM.RANGE.BLOCK", st);
		return;
	}
	if (vm->state == TD_STATE_RUNNABLE && (st = tdh_mem_track(vm->h, 0, vm->tdr)))
		kvm_vm_bug(vm, "TDH.MEM.TRACK", st);
	if ((st = tdh_mem_page_remove(vm->h, 0, vm->tdr, m->gpa, 0, &a))) {
		kvm_vm_bug(vm, "TDH.MEM.PAGE.REMOVE", st);
		return;
	}
	st = tdh_phymem_page_wbinvd(vm->h, 0, m->pa | ((uint64_t)vm->hkid << plat_hkid_shift(vm->h->plat)));
	if (st) {
		kvm_vm_bug(vm, "TDH.PHYMEM.PAGE.WBINVD", st);
		return;
	}
	unpopulate(vm, m->gpa, true);
}

void kvm_mem_zap_private(struct kvm_vm *vm)
{
	for (unsigned i = 0; i < vm->nr_mapped; i++)
		zap_one(vm, &vm->mapped[i]);
	vm->nr_mapped = 0;
}

/* tdx_sept_free_private_spt(): only after the HKID is gone, bottom-up. */
void kvm_mem_free_sept(struct kvm_vm *vm)
{
	for (unsigned i = vm->nr_sept; i-- > 0;)
		kvm_reclaim_page(vm, vm->sept[i].pa);
	vm->nr_sept = 0;
}

void kvm_mem_free_slots(struct kvm_vm *vm)
{
	for (unsigned i = 0; i < KVM_MAX_SLOTS; i++) {
		struct kvm_slot *s = &vm->slots[i];
		if (s->gmem)
			for (uint64_t p = 0; p < s->r.memory_size / KVM_PAGE; p++)
				if (s->gmem[p] && !s->populated[p]) /* never given to the TD */
					kvm_page_free(vm->dev, s->gmem[p]);
		free(s->gmem);
		free(s->populated);
		memset(s, 0, sizeof(*s));
	}
}
