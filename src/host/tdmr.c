/* TDX memory list, TDMRs, PAMTs and reserved areas, built the way Linux does:
 * 1 GiB aligned TDMRs over the RAM ranges, one contiguous PAMT per TDMR split
 * 4K | 2M | 1G, reserved areas for holes and for PAMTs, nothing merged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "tdx_arch.h"

#define SZ_1M (UINT64_C(1) << 20)
#define TDMR_ALIGNMENT (UINT64_C(1) << 30)
#define TDMR_NR_WARN 4
#define PAGE_SZ UINT64_C(4096)

static uint64_t round_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Which "NUMA node" a range belongs to: the package whose high-RAM share holds it. */
static unsigned node_of(const struct plat_config *c, uint64_t pa)
{
	unsigned ram_idx = 0, node = 0;
	for (unsigned i = 0; i < c->nr_e820; i++) {
		if (c->e820[i].type != E820_RAM)
			continue;
		if (pa >= c->e820[i].addr && pa < c->e820[i].addr + c->e820[i].size)
			node = ram_idx < c->packages ? ram_idx : c->packages - 1;
		if (c->e820[i].addr >= (UINT64_C(4) << 30))
			ram_idx++;
	}
	return node;
}

int tdx_build_memlist(struct tdx_host *h)
{
	const struct plat_config *c = plat_config(h->plat);

	h->nr_memlist = 0;
	for (unsigned i = 0; i < c->nr_e820; i++) {
		uint64_t start = c->e820[i].addr, end = start + c->e820[i].size;

		if (c->e820[i].type != E820_RAM)
			continue;
		/* The first 1 MiB is never reported as convertible memory. */
		if (start < SZ_1M)
			start = SZ_1M;
		if (start >= end)
			continue;
		if (h->nr_memlist == HOST_MAX_MEMBLOCKS)
			return -ENOMEM;
		h->memlist[h->nr_memlist++] = (struct tdx_memblock){ start, end, node_of(c, start) };
	}
	return 0;
}

static int fill_out_tdmrs(struct tdx_host *h)
{
	int idx = 0;

	memset(h->tdmrs, 0, sizeof(h->tdmrs));
	for (unsigned i = 0; i < h->nr_memlist; i++) {
		uint64_t start = round_down(h->memlist[i].start, TDMR_ALIGNMENT);
		uint64_t end = round_up(h->memlist[i].end, TDMR_ALIGNMENT);
		struct tdx_tdmr *t = &h->tdmrs[idx];

		if (!t->size) {
			t->base = start;
			t->size = end - start;
			continue;
		}
		if (end <= t->base + t->size)
			continue;
		if (start < t->base + t->size)
			start = t->base + t->size;
		if (++idx >= (int)h->sysinfo.max_tdmrs || idx >= HOST_MAX_TDMRS) {
			host_log(h, "initialization failed: TDMRs exhausted.");
			snprintf(h->last_error, sizeof(h->last_error),
				 "the memory map needs more than %u TDMRs (the module's MAX_TDMRS)", h->sysinfo.max_tdmrs);
			return -ENOSPC;
		}
		h->tdmrs[idx].base = start;
		h->tdmrs[idx].size = end - start;
	}
	h->nr_tdmrs = (unsigned)idx + 1;
	if (h->sysinfo.max_tdmrs - h->nr_tdmrs < TDMR_NR_WARN)
		host_log(h, "consumed TDMRs reaching limit: %u used out of %u", h->nr_tdmrs, h->sysinfo.max_tdmrs);
	return 0;
}

static uint64_t pamt_level_size(const struct tdx_host *h, const struct tdx_tdmr *t, unsigned level)
{
	static const unsigned shift[3] = { 12, 21, 30 };
	return round_up((t->size >> shift[level]) * h->sysinfo.pamt_entry_size[level], PAGE_SZ);
}

static int set_up_pamts(struct tdx_host *h)
{
	memset(h->pamt_bytes, 0, sizeof(h->pamt_bytes));
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		struct tdx_tdmr *t = &h->tdmrs[i];
		uint64_t sz[3], total, pa;

		for (unsigned l = 0; l < 3; l++)
			sz[l] = pamt_level_size(h, t, l);
		total = sz[0] + sz[1] + sz[2];
		pa = host_alloc_phys(h, total, PAGE_SZ, t->base);
		if (!pa) {
			snprintf(h->last_error, sizeof(h->last_error),
				 "cannot allocate %llu KiB of contiguous memory for the PAMT of TDMR [%#llx, %#llx)",
				 (unsigned long long)(total >> 10), (unsigned long long)t->base,
				 (unsigned long long)(t->base + t->size));
			return -ENOMEM;
		}
		t->pamt_base[0] = pa;
		t->pamt_base[1] = pa + sz[0];
		t->pamt_base[2] = pa + sz[0] + sz[1];
		for (unsigned l = 0; l < 3; l++) {
			t->pamt_size[l] = sz[l];
			h->pamt_bytes[l] += sz[l];
		}
	}
	return 0;
}

static int add_rsvd(struct tdx_host *h, struct tdx_tdmr *t, uint64_t addr, uint64_t size)
{
	if ((addr | size) & (PAGE_SZ - 1))
		return -EINVAL;
	if (t->nr_rsvd >= h->sysinfo.max_reserved_per_tdmr || t->nr_rsvd >= 64) {
		host_log(h, "initialization failed: TDMR [%#llx, %#llx): reserved areas exhausted.",
			 (unsigned long long)t->base, (unsigned long long)(t->base + t->size));
		snprintf(h->last_error, sizeof(h->last_error),
			 "TDMR [%#llx, %#llx) needs more than %u reserved areas (the module's MAX_RESERVED_PER_TDMR)",
			 (unsigned long long)t->base, (unsigned long long)(t->base + t->size),
			 h->sysinfo.max_reserved_per_tdmr);
		return -ENOSPC;
	}
	t->rsvd[t->nr_rsvd].offset = addr - t->base;
	t->rsvd[t->nr_rsvd].size = size;
	t->nr_rsvd++;
	return 0;
}

static int cmp_rsvd(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return *x < *y ? -1 : *x > *y;
}

static int populate_rsvd(struct tdx_host *h, struct tdx_tdmr *t)
{
	uint64_t prev_end = t->base, end = t->base + t->size;
	int ret;

	t->nr_rsvd = 0;
	for (unsigned i = 0; i < h->nr_memlist; i++) {
		uint64_t s = h->memlist[i].start, e = h->memlist[i].end;
		if (s >= end)
			break;
		if (e < t->base)
			continue;
		if (s > prev_end && (ret = add_rsvd(h, t, prev_end, s - prev_end)))
			return ret;
		prev_end = e;
	}
	if (prev_end < end && (ret = add_rsvd(h, t, prev_end, end - prev_end)))
		return ret;
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		const struct tdx_tdmr *o = &h->tdmrs[i];
		uint64_t pb = o->pamt_base[0], pe = pb + o->pamt_size[0] + o->pamt_size[1] + o->pamt_size[2];
		if (pe <= t->base || pb >= end)
			continue;
		if ((ret = add_rsvd(h, t, pb > t->base ? pb : t->base, (pe < end ? pe : end) - (pb > t->base ? pb : t->base))))
			return ret;
	}
	qsort(t->rsvd, t->nr_rsvd, sizeof(t->rsvd[0]), cmp_rsvd);
	return 0;
}

/* Write the TDMR_INFO entries into host memory, 512-byte slots in one buffer. */
static int write_tdmr_infos(struct tdx_host *h)
{
	uint64_t slot = round_up(64 + 16 * (uint64_t)h->sysinfo.max_reserved_per_tdmr, 512);
	uint64_t buf = host_alloc_phys(h, slot * h->sysinfo.max_tdmrs, 512, 0);

	if (!buf)
		return -ENOMEM;
	for (unsigned i = 0; i < h->nr_tdmrs; i++) {
		struct tdx_tdmr *t = &h->tdmrs[i];
		struct tdmr_info_entry e;

		memset(&e, 0, sizeof(e));
		e.tdmr_base = t->base;
		e.tdmr_size = t->size;
		e.pamt_4k_base = t->pamt_base[0];
		e.pamt_4k_size = t->pamt_size[0];
		e.pamt_2m_base = t->pamt_base[1];
		e.pamt_2m_size = t->pamt_size[1];
		e.pamt_1g_base = t->pamt_base[2];
		e.pamt_1g_size = t->pamt_size[2];
		for (unsigned r = 0; r < t->nr_rsvd && r < TDMR_MAX_RESERVED; r++) {
			e.rsvd[r].offset = t->rsvd[r].offset;
			e.rsvd[r].size = t->rsvd[r].size;
		}
		t->info_pa = buf + i * slot;
		if (plat_host_write(h->plat, t->info_pa, &e, sizeof(e)))
			return -EIO;
	}
	return 0;
}

int tdx_construct_tdmrs(struct tdx_host *h)
{
	int ret = fill_out_tdmrs(h);

	if (!ret)
		ret = set_up_pamts(h);
	for (unsigned i = 0; !ret && i < h->nr_tdmrs; i++)
		ret = populate_rsvd(h, &h->tdmrs[i]);
	if (!ret)
		ret = write_tdmr_infos(h);
	return ret;
}

void tdx_free_tdmrs(struct tdx_host *h)
{
	/* PAMT memory goes back to the host: the bump allocator simply forgets the TDMRs. */
	h->nr_tdmrs = 0;
	memset(h->pamt_bytes, 0, sizeof(h->pamt_bytes));
}

/* Top-down allocation inside RAM ranges. "near" picks the RAM range that holds it or the
 * first one after it (the TDMR's own node), 0 means ordinary kernel memory. */
static uint64_t alloc_locked(struct tdx_host *h, uint64_t size, uint64_t align, uint64_t near)
{
	const struct plat_config *c = plat_config(h->plat);

	/* First pass: the range holding `near` or after it; second pass: anywhere. */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < c->nr_e820; i++) {
			const struct plat_e820_entry *e = &c->e820[i];
			uint64_t lo = e->addr < (16 * SZ_1M) ? 16 * SZ_1M : e->addr;
			uint64_t top = h->alloc_top[i], cand;

			if (e->type != E820_RAM || top < lo + size)
				continue;
			if (pass == 0 && near && e->addr + e->size <= near)
				continue;
			cand = round_down(top - size, align);
			if (cand < lo)
				continue;
			h->alloc_top[i] = cand;
			return cand;
		}
	return 0;
}

uint64_t host_alloc_phys(struct tdx_host *h, uint64_t size, uint64_t align, uint64_t near)
{
	uint64_t pa;

	pthread_mutex_lock(&h->alloc_lock);
	pa = alloc_locked(h, size, align, near);
	pthread_mutex_unlock(&h->alloc_lock);
	return pa;
}
