/* Guest memory: slots with guest_memfd-like private backing, private/shared attributes,
 * KVM_TDX_INIT_MEM_REGION (Secure EPT + PAGE.ADD [+ MR.EXTEND]) and private-memory teardown. */
#include <errno.h>
#include <pthread.h>
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

static bool slot_overlaps(const struct kvm_vm *vm, unsigned self, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < KVM_MAX_SLOTS; i++) {
		const struct kvm_slot *o = &vm->slots[i];
		if (i != self && o->used && gpa < o->r.guest_phys_addr + o->r.memory_size &&
		    o->r.guest_phys_addr < gpa + size)
			return true;
	}
	return false;
}

static void zap_range(struct kvm_vm *vm, uint64_t start, uint64_t end);

/* KVM_MR_DELETE: kvm_arch_flush_shadow_memslot() zaps the slot's private leaves first. */
static int slot_delete(struct kvm_vm *vm, struct kvm_slot *s)
{
	if (!s->used)
		return -EINVAL; /* __kvm_set_memory_region(): deleting a slot that does not exist */
	zap_range(vm, s->r.guest_phys_addr, s->r.guest_phys_addr + s->r.memory_size);
	if (s->gmem)
		for (uint64_t p = 0; p < s->r.memory_size / KVM_PAGE; p++)
			if (s->gmem[p] && !s->populated[p])
				kvm_page_free(vm->dev, s->gmem[p]);
	free(s->gmem);
	free(s->populated);
	memset(s, 0, sizeof(*s));
	return 0;
}

/* Changing an existing slot: guest_memfd slots are immutable, size and backing cannot
 * change, what is left is KVM_MR_MOVE (or nothing at all). */
static int slot_modify(struct kvm_vm *vm, struct kvm_slot *s, const struct kvm_memory_region *r)
{
	if ((r->flags | s->r.flags) & KVM_MEM_GUEST_MEMFD)
		return -EINVAL;
	if (r->memory_size != s->r.memory_size || r->userspace_addr != s->r.userspace_addr)
		return -EINVAL;
	if (r->guest_phys_addr == s->r.guest_phys_addr)
		return 0;
	if (slot_overlaps(vm, (unsigned)(s - vm->slots), r->guest_phys_addr, r->memory_size))
		return -EEXIST;
	s->r.guest_phys_addr = r->guest_phys_addr;
	return 0;
}

/* kvm_set_memory_region() + kvm_arch_prepare_memory_region(), the checks in their order. */
int kvm_set_user_memory_region2(struct kvm_vm *vm, const struct kvm_memory_region *r)
{
	struct kvm_slot *s;
	uint64_t pages, last;

	if (kvm_vm_dead(vm))
		return -EIO;
	if (r->flags & ~KVM_MEM_GUEST_MEMFD || r->slot >= KVM_MAX_SLOTS ||
	    (r->guest_phys_addr | r->memory_size) & (KVM_PAGE - 1) ||
	    (uintptr_t)r->userspace_addr & (KVM_PAGE - 1) || r->guest_phys_addr + r->memory_size < r->guest_phys_addr)
		return -EINVAL;
	s = &vm->slots[r->slot];
	if (!r->memory_size)
		return slot_delete(vm, s);
	/* kvm_is_gfn_alias(): a slot may not reach into the shared alias (known after INIT_VM) */
	last = r->guest_phys_addr + r->memory_size - 1;
	if (vm->shared_bit && last & vm->shared_bit)
		return -EINVAL;
	if (s->used)
		return slot_modify(vm, s, r);
	if (slot_overlaps(vm, r->slot, r->guest_phys_addr, r->memory_size))
		return -EEXIST;
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

/* vm->attrs holds the non-zero attribute ranges (what the xarray stores), sorted, disjoint
 * and merged: a set splits the ranges it cuts and merges equal neighbours. */
uint64_t kvm_get_memory_attributes(const struct kvm_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->nr_attrs; i++)
		if (gpa >= vm->attrs[i].start && gpa < vm->attrs[i].end)
			return vm->attrs[i].attrs;
	return 0;
}

/* kvm_range_has_memory_attributes(): every page of [start, end) has exactly attrs. */
static bool range_has_attrs(const struct kvm_vm *vm, uint64_t start, uint64_t end, uint64_t attrs)
{
	uint64_t at = start;

	for (unsigned i = 0; i < vm->nr_attrs; i++) {
		const struct kvm_attr_range *r = &vm->attrs[i];
		if (r->end <= start || r->start >= end)
			continue;
		if (!attrs || r->start > at || r->attrs != attrs)
			return false; /* a non-zero range where 0 is asked, a gap, or other bits */
		at = r->end;
	}
	return !attrs || at >= end;
}

/* The new list into n (room for nr_attrs + 2): old ranges cut around [start, end), the new
 * range if it is not 0, then equal neighbours merged. */
static unsigned attrs_rebuild(const struct kvm_vm *vm, uint64_t start, uint64_t end, uint64_t attrs,
			      struct kvm_attr_range *n)
{
	unsigned k = 0, m = 0;
	bool placed = !attrs;

	for (unsigned i = 0; i < vm->nr_attrs; i++) {
		const struct kvm_attr_range *r = &vm->attrs[i];
		if (r->start < start)
			n[k++] = (struct kvm_attr_range){ r->start, r->end < start ? r->end : start, r->attrs };
		if (!placed && r->end > start) {
			n[k++] = (struct kvm_attr_range){ start, end, attrs };
			placed = true;
		}
		if (r->end > end)
			n[k++] = (struct kvm_attr_range){ r->start > end ? r->start : end, r->end, r->attrs };
	}
	if (!placed)
		n[k++] = (struct kvm_attr_range){ start, end, attrs };
	for (unsigned i = 0; i < k; i++) {
		if (m && n[m - 1].end == n[i].start && n[m - 1].attrs == n[i].attrs)
			n[m - 1].end = n[i].end;
		else
			n[m++] = n[i];
	}
	return m;
}

/* kvm_vm_ioctl_set_mem_attributes() + kvm_vm_set_mem_attributes(): private -> shared zaps the
 * private leaves of the range (kvm_arch_pre_set_memory_attributes()), their pages go back. */
static int set_memory_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint64_t attributes)
{
	struct kvm_attr_range *n;
	uint64_t end = gpa + size;

	if (kvm_vm_dead(vm))
		return -EIO;
	if (attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE || !size || end < gpa || (gpa | size) & (KVM_PAGE - 1))
		return -EINVAL;
	if (range_has_attrs(vm, gpa, end, attributes))
		return 0; /* nothing to do */
	n = malloc((vm->nr_attrs + 2) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	/* Nothing can fail past this point. */
	if (!(attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		zap_range(vm, gpa, end);
	vm->nr_attrs = attrs_rebuild(vm, gpa, end, attributes, n);
	free(vm->attrs);
	vm->attrs = n;
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

static unsigned sept_slot(uint64_t key, unsigned cap)
{
	return (unsigned)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (cap - 1);
}

static bool sept_known(const struct kvm_vm *vm, uint64_t key)
{
	if (!vm->sept_index_cap)
		return false;
	for (unsigned i = sept_slot(key, vm->sept_index_cap);; i = (i + 1) & (vm->sept_index_cap - 1)) {
		uint32_t e = vm->sept_index[i];
		if (!e)
			return false;
		if (vm->sept[e - 1].key == key)
			return true;
	}
}

static void sept_index_put(uint32_t *index, unsigned cap, uint64_t key, uint32_t entry)
{
	unsigned i = sept_slot(key, cap);

	while (index[i])
		i = (i + 1) & (cap - 1);
	index[i] = entry;
}

/* Room in both the array and its index for one more Secure EPT page. */
static bool sept_reserve(struct kvm_vm *vm)
{
	if (!grow((void **)&vm->sept, &vm->cap_sept, vm->nr_sept, sizeof(*vm->sept)))
		return false;
	if (2 * (vm->nr_sept + 1) > vm->sept_index_cap) {
		unsigned cap = vm->sept_index_cap ? 2 * vm->sept_index_cap : 256;
		uint32_t *index = calloc(cap, sizeof(*index));

		if (!index)
			return false;
		for (unsigned i = 0; i < vm->nr_sept; i++)
			sept_index_put(index, cap, vm->sept[i].key, i + 1);
		free(vm->sept_index);
		vm->sept_index = index;
		vm->sept_index_cap = cap;
	}
	return true;
}

/* kvm_tdp_map_page() for the mirror EPT: the missing Secure EPT pages top-down. */
static int map_sept(struct kvm_vm *vm, uint64_t gpa)
{
	struct tdx_module_args a;

	for (unsigned level = SEPT_TOP_LEVEL; level >= 1; level--) {
		uint64_t span = (uint64_t)KVM_PAGE << (9 * level), base = gpa & ~(span - 1), key = base | level, pa, st;

		if (sept_known(vm, key))
			continue;
		if (!sept_reserve(vm))
			return -ENOMEM;
		if (!(pa = kvm_page_alloc(vm->dev)))
			return -ENOMEM;
		st = tdh_mem_sept_add(vm->h, kvm_thread_lp(), vm->tdr, base, level, pa, &a);
		if (st) {
			kvm_page_free(vm->dev, pa);
			if (kvm_operand_busy(st))
				return -EBUSY;
			return kvm_vm_bug(vm, "TDH.MEM.SEPT.ADD", st);
		}
		vm->sept[vm->nr_sept++] = (struct kvm_sept_page){ key, pa };
		sept_index_put(vm->sept_index, vm->sept_index_cap, key, vm->nr_sept);
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

	if (!s || !s->gmem || !(kvm_get_memory_attributes(vm, gpa) & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return -EINVAL;
	idx = (gpa - s->r.guest_phys_addr) / KVM_PAGE;
	if (s->populated[idx])
		return -EEXIST;
	if (!s->gmem[idx] && !(s->gmem[idx] = kvm_gmem_page_alloc(vm->dev)))
		return -ENOMEM;
	pa = s->gmem[idx];
	if ((ret = map_sept(vm, gpa)))
		return ret;
	plat_host_write(vm->h->plat, vm->src_page, src, KVM_PAGE);
	st = tdh_mem_page_add(vm->h, kvm_thread_lp(), vm->tdr, gpa, pa, vm->src_page, &a);
	if (st) /* tdx_gmem_post_populate(): no KVM_BUG_ON, the caller sees -EBUSY or -EIO */
		return kvm_operand_busy(st) ? -EBUSY : -EIO;
	s->populated[idx] = true;
	if (flags & KVM_TDX_MEASURE_MEMORY_REGION)
		for (uint64_t off = 0; off < KVM_PAGE; off += TDX_EXTENDMR_CHUNKSIZE)
			if ((st = tdh_mr_extend(vm->h, kvm_thread_lp(), vm->tdr, gpa + off, &a)))
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
	if (!vm->src_page && !(vm->src_page = kvm_shared_page_alloc(vm->dev)))
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

/* tdx_handle_ept_violation() -> kvm_tdp_map_page() for a private GPA the TD touched (or
 * TDG.MEM.PAGE.ACCEPTed) before it was mapped: the missing Secure EPT pages, then
 * TDH.MEM.PAGE.AUG of a 4 KiB guest_memfd page (no huge pages here: a 2 MiB ACCEPT then sees
 * a size mismatch and the guest accepts 4 KiB at a time). 0: mapped (or already mapped, the
 * guest retries); -EFAULT: not private guest_memfd memory (KVM's KVM_EXIT_MEMORY_FAULT). */
static int fault_private(struct kvm_vm *vm, uint64_t gpa)
{
	struct kvm_slot *s;
	struct tdx_module_args a;
	uint64_t idx, st;
	int ret;

	gpa &= ~(uint64_t)(KVM_PAGE - 1);
	s = slot_of(vm, gpa);
	if (!s || !s->gmem || !(kvm_get_memory_attributes(vm, gpa) & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return -EFAULT;
	idx = (gpa - s->r.guest_phys_addr) / KVM_PAGE;
	if (s->populated[idx])
		return 0;
	if (!s->gmem[idx] && !(s->gmem[idx] = kvm_gmem_page_alloc(vm->dev)))
		return -ENOMEM;
	if ((ret = map_sept(vm, gpa)))
		return ret == -EBUSY ? 0 : ret;
	st = tdh_mem_page_aug(vm->h, kvm_thread_lp(), vm->tdr, gpa, 0, s->gmem[idx], &a);
	if (kvm_operand_busy(st))
		return 0; /* the guest faults again */
	if (st)
		return kvm_vm_bug(vm, "TDH.MEM.PAGE.AUG", st);
	s->populated[idx] = true;
	atomic_fetch_add(&vm->pages_augmented, 1);
	return 0;
}

uint64_t kvm_vm_pages_augmented(const struct kvm_vm *vm)
{
	return atomic_load(&vm->pages_augmented);
}

/* Page idx of slot s is no longer mapped and no longer the slot's: its page goes back to the
 * pool (free_page), was reclaimed into it already, or stays with the TD. */
static void unpopulate(struct kvm_vm *vm, struct kvm_slot *s, uint64_t idx, bool free_page)
{
	s->populated[idx] = false;
	if (free_page)
		kvm_page_free(vm->dev, s->gmem[idx]);
	s->gmem[idx] = 0;
}

/* tdx_no_vcpus_enter_start(): a Secure EPT or TD-epoch SEAMCALL that finds the resource
 * busy (TDX_OPERAND_BUSY: another vCPU's TDH.VP.ENTER or SEAMCALL holds it) is tried again
 * after every vCPU has been kicked out of the guest, as KVM does instead of failing. */
#define BUSY_RETRIES 10000

enum zap_op { ZAP_BLOCK, ZAP_TRACK, ZAP_REMOVE };

static uint64_t zap_seamcall(struct kvm_vm *vm, enum zap_op op, uint64_t gpa)
{
	struct tdx_module_args a;

	switch (op) {
	case ZAP_BLOCK: return tdh_mem_range_block(vm->h, kvm_thread_lp(), vm->tdr, gpa, 0, &a);
	case ZAP_TRACK: return tdh_mem_track(vm->h, kvm_thread_lp(), vm->tdr);
	default: return tdh_mem_page_remove(vm->h, kvm_thread_lp(), vm->tdr, gpa, 0, &a);
	}
}

static uint64_t zap_retry(struct kvm_vm *vm, enum zap_op op, uint64_t gpa)
{
	uint64_t st;
	bool held = false;

	for (unsigned i = 0; kvm_operand_busy(st = zap_seamcall(vm, op, gpa)) && i < BUSY_RETRIES; i++) {
		if (!held) /* tdx_no_vcpus_enter_start() */
			kvm_hold_vcpus_out(vm), held = true;
		kvm_wait_vcpus_outside_guest(vm);
	}
	if (held) /* tdx_no_vcpus_enter_stop() */
		kvm_release_vcpus(vm);
	return st;
}

/* tdx_sept_remove_private_spte(): BLOCK, TRACK (only once runnable), REMOVE, then write back
 * the page's cache lines with the TD's KeyID. Without an HKID the page is reclaimed.
 * False: a SEAMCALL failed, the VM is bugged and the page stays with the TD. */
static bool zap_one(struct kvm_vm *vm, struct kvm_slot *s, uint64_t idx)
{
	uint64_t gpa = s->r.guest_phys_addr + idx * KVM_PAGE, pa = s->gmem[idx], st;

	if (vm->hkid < 0) {
		kvm_reclaim_page(vm, pa);
		unpopulate(vm, s, idx, false); /* the pool has it now */
		return true;
	}
	if ((st = zap_retry(vm, ZAP_BLOCK, gpa))) {
		kvm_vm_bug(vm, "TDH.MEM.RANGE.BLOCK", st);
		return false;
	}
	if (vm->state == TD_STATE_RUNNABLE && (st = zap_retry(vm, ZAP_TRACK, 0)))
		kvm_vm_bug(vm, "TDH.MEM.TRACK", st); /* tdx_track() warns and goes on */
	else if (vm->state == TD_STATE_RUNNABLE)
		kvm_wait_vcpus_outside_guest(vm); /* every vCPU past the old epoch before REMOVE */
	if ((st = zap_retry(vm, ZAP_REMOVE, gpa))) {
		kvm_vm_bug(vm, "TDH.MEM.PAGE.REMOVE", st);
		return false;
	}
	st = tdh_phymem_page_wbinvd(vm->h, kvm_thread_lp(), pa | ((uint64_t)vm->hkid << plat_hkid_shift(vm->h->plat)));
	if (st) {
		kvm_vm_bug(vm, "TDH.PHYMEM.PAGE.WBINVD", st);
		return false;
	}
	unpopulate(vm, s, idx, true);
	return true;
}

/* The mapped private leaves of [start, end), slot by slot. A leaf that could not be zapped
 * (the VM is bugged then) stays mapped, or with forget (teardown) is dropped from the books:
 * its page stays with the TD, as Linux leaks it. */
static void zap_slots(struct kvm_vm *vm, uint64_t start, uint64_t end, bool forget)
{
	for (unsigned i = 0; i < KVM_MAX_SLOTS; i++) {
		struct kvm_slot *s = &vm->slots[i];
		uint64_t base = s->r.guest_phys_addr, top = base + s->r.memory_size, lo, hi;

		if (!s->used || !s->gmem || end <= base || start >= top)
			continue;
		lo = start > base ? start : base;
		hi = end < top ? end : top;
		for (uint64_t idx = (lo - base) / KVM_PAGE; idx < (hi - base) / KVM_PAGE; idx++)
			if (s->populated[idx] && !zap_one(vm, s, idx) && forget)
				unpopulate(vm, s, idx, false);
	}
}

void kvm_mem_zap_private(struct kvm_vm *vm)
{
	zap_slots(vm, 0, UINT64_MAX, true);
}

/* tdx_sept_free_private_spt(): only after the HKID is gone, bottom-up. */
void kvm_mem_free_sept(struct kvm_vm *vm)
{
	for (unsigned i = vm->nr_sept; i-- > 0;)
		kvm_reclaim_page(vm, vm->sept[i].pa);
	vm->nr_sept = 0;
	if (vm->sept_index)
		memset(vm->sept_index, 0, vm->sept_index_cap * sizeof(*vm->sept_index));
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

/* The locked entry points (Linux takes kvm->mmu_lock around faults, attribute changes, zaps). */
int kvm_set_memory_attributes(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint64_t attributes)
{
	int r;

	pthread_mutex_lock(&vm->mmu_lock);
	r = set_memory_attributes(vm, gpa, size, attributes);
	pthread_mutex_unlock(&vm->mmu_lock);
	return r;
}

int kvm_tdx_fault_private(struct kvm_vm *vm, uint64_t gpa)
{
	int r;

	pthread_mutex_lock(&vm->mmu_lock);
	r = fault_private(vm, gpa);
	pthread_mutex_unlock(&vm->mmu_lock);
	return r;
}

/* kvm_unmap_gfn_range() on the mirror EPT for [start, end): conversion to shared and slot
 * deletion. */
static void zap_range(struct kvm_vm *vm, uint64_t start, uint64_t end)
{
	pthread_mutex_lock(&vm->mmu_lock);
	zap_slots(vm, start, end, false);
	pthread_mutex_unlock(&vm->mmu_lock);
}
