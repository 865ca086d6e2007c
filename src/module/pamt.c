/* Physical Address Metadata Table: three levels (1G, 2M, 4K) per TDMR, stored in the
 * PAMT ranges the host gave TDH.SYS.CONFIG and accessed with the global private KeyID,
 * so the host cannot read or forge them (a host write poisons the page, and the next
 * module access takes a machine check). */
#include <string.h>

#include "module_internal.h"

#define PAMT_ENTRY_BYTES ((uint64_t)PAMT_ENTRY_SIZE)
#define ENTRIES_PER_PAGE (PLAT_PAGE_SIZE / PAMT_ENTRY_BYTES)

/* Pointer to the PAMT entry stored at pa, or NULL after reporting a machine check. */
static struct pamt_entry *entry_at(struct tdx_module *m, uint64_t pa)
{
	void *ptr;

	if (plat_seam_map(m->plat, pa, m->global_hkid, &ptr)) {
		plat_seam_machine_check(m->plat, pa);
		return NULL;
	}
	return ptr;
}

/* First touch of a PAMT page during TDMR.INIT: claim it for the global KeyID. A page that
 * the host has since written is poisoned and is not silently reclaimed. */
static int claim_page(struct tdx_module *m, uint64_t page_pa)
{
	unsigned keyid;
	bool poisoned;

	if (plat_page_state(m->plat, page_pa, &keyid, &poisoned))
		return -1;
	if (keyid == m->global_hkid && !poisoned)
		return 0;
	if (keyid == m->global_hkid && poisoned) {
		plat_seam_machine_check(m->plat, page_pa);
		return -1;
	}
	return plat_seam_init_pages(m->plat, page_pa, 1, m->global_hkid) ? -1 : 0;
}

/* Zero n consecutive entries (all in one PAMT page: callers never cross a page). */
static int zero_entries(struct tdx_module *m, uint64_t pa, unsigned n)
{
	struct pamt_entry *e;

	if (claim_page(m, pa & ~(PLAT_PAGE_SIZE - 1)))
		return -1;
	e = entry_at(m, pa);
	if (!e)
		return -1;
	memset(e, 0, n * sizeof(*e)); /* PT_NDA, no owner, epoch 0 */
	return 0;
}

/* Set PT_RSVD on the PAMT_4K entries of [b, e) (chunk-relative to addr), one map per page. */
static int set_reserved(struct tdx_module *m, uint64_t pamt4k_pa, uint64_t addr, uint64_t b, uint64_t e)
{
	uint64_t first = (b - addr) / SZ_4K, last = (e - addr) / SZ_4K; /* entry indices, last exclusive */

	while (first < last) {
		uint64_t pa = pamt4k_pa + first * PAMT_ENTRY_BYTES;
		uint64_t in_page = ENTRIES_PER_PAGE - (pa & (PLAT_PAGE_SIZE - 1)) / PAMT_ENTRY_BYTES;
		uint64_t n = last - first < in_page ? last - first : in_page;
		struct pamt_entry *pe = entry_at(m, pa);

		if (!pe)
			return -1;
		for (uint64_t k = 0; k < n; k++)
			pe[k].pt = PT_RSVD;
		first += n;
	}
	return 0;
}

static int mark_reserved(struct tdx_module *m, struct module_tdmr *t, uint64_t addr, uint64_t len,
			 uint64_t pamt4k_pa)
{
	for (unsigned r = 0; r < t->nr_rsvd; r++) {
		uint64_t rb = t->base + t->rsvd[r].offset, re = rb + t->rsvd[r].size;
		uint64_t b = rb > addr ? rb : addr, e = re < addr + len ? re : addr + len;

		if (b < e && set_reserved(m, pamt4k_pa, addr, b, e))
			return -1;
	}
	return 0;
}

int pamt_init_chunk(struct tdx_module *m, struct module_tdmr *t, uint64_t addr)
{
	const uint64_t chunk = (uint64_t)TDMR_4K_PAMT_INIT_COUNT * SZ_4K;
	uint64_t off = addr - t->base;
	uint64_t pamt4k_pa = t->pamt_base[PT_4KB] + (off / SZ_4K) * PAMT_ENTRY_BYTES;
	uint64_t npages = TDMR_4K_PAMT_INIT_COUNT * PAMT_ENTRY_BYTES / PLAT_PAGE_SIZE;

	/* MOVDIR64B of whole PAMT_4K pages with the global KeyID: every entry PT_NDA. */
	if (plat_seam_init_pages(m->plat, pamt4k_pa, npages, m->global_hkid))
		return -1;
	if (mark_reserved(m, t, addr, chunk, pamt4k_pa))
		return -1;
	if (zero_entries(m, t->pamt_base[PT_2MB] + (off / SZ_2M) * PAMT_ENTRY_BYTES, (unsigned)(chunk / SZ_2M)))
		return -1;
	if (((off + chunk) & (SZ_1G - 1)) == 0 &&
	    zero_entries(m, t->pamt_base[PT_1GB] + (off / SZ_1G) * PAMT_ENTRY_BYTES, 1))
		return -1;
	return 0;
}

static struct module_tdmr *tdmr_of(struct tdx_module *m, uint64_t pa)
{
	for (int i = (int)m->nr_tdmrs - 1; i >= 0; i--) {
		struct module_tdmr *t = &m->tdmr[i];
		if (t->base <= pa)
			return pa < t->base + t->size ? t : NULL;
	}
	return NULL;
}

uint64_t pamt_walk(struct tdx_module *m, uint64_t pa, struct pamt_entry **e1g, struct pamt_entry **e2m,
		   struct pamt_entry **e4k)
{
	struct module_tdmr *t = tdmr_of(m, pa);
	uint64_t off;

	if (!t || pa >= (atomic_load(&t->last_initialized) & ~(SZ_1G - 1)))
		return TDX_OPERAND_ADDR_RANGE_ERROR;
	off = pa - t->base;
	*e1g = entry_at(m, t->pamt_base[PT_1GB] + (off / SZ_1G) * PAMT_ENTRY_BYTES);
	*e2m = *e1g ? entry_at(m, t->pamt_base[PT_2MB] + (off / SZ_2M) * PAMT_ENTRY_BYTES) : NULL;
	*e4k = *e2m ? entry_at(m, t->pamt_base[PT_4KB] + (off / SZ_4K) * PAMT_ENTRY_BYTES) : NULL;
	return *e4k ? TDX_SUCCESS : TDX_SEAMCALL_VMFAILINVALID;
}

/* ENTRY_LOCK: a try-only shared/exclusive lock in the entry itself (bit 15 exclusive). */
#define PAMT_LOCK_EXCLUSIVE 0x8000u

bool pamt_entry_try_lock_shared(struct pamt_entry *e)
{
	uint16_t cur = __atomic_load_n(&e->entry_lock, __ATOMIC_ACQUIRE);
	do {
		if (cur & PAMT_LOCK_EXCLUSIVE || (cur & 0x7fff) == 0x7fff)
			return false;
	} while (!__atomic_compare_exchange_n(&e->entry_lock, &cur, (uint16_t)(cur + 1), true, __ATOMIC_ACQUIRE,
					      __ATOMIC_ACQUIRE));
	return true;
}

void pamt_entry_unlock_shared(struct pamt_entry *e)
{
	__atomic_fetch_sub(&e->entry_lock, 1, __ATOMIC_RELEASE);
}

bool pamt_entry_try_lock_exclusive(struct pamt_entry *e)
{
	uint16_t expected = 0;
	return __atomic_compare_exchange_n(&e->entry_lock, &expected, PAMT_LOCK_EXCLUSIVE, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_ACQUIRE);
}

void pamt_entry_unlock_exclusive(struct pamt_entry *e)
{
	__atomic_store_n(&e->entry_lock, 0, __ATOMIC_RELEASE);
}
