/* Simulated DRAM: sparse, with a KeyID and an integrity state per page.
 *
 * Data is kept as plaintext; what a non-SEAM reader of a TDX-private page would see
 * (ciphertext) is computed on the fly. Integrity is tracked per 4 KiB page (real
 * hardware tracks 64-byte lines: a partial host write poisons the whole page here). */
#include <stdlib.h>
#include <string.h>
#include <emmintrin.h>
#include <sys/mman.h>

#include "plat_internal.h"

/* Whether one e820 entry covers [pa, pa + len), the rule plat_pa_is_backed() states. */
static bool e820_covers(const struct plat *p, uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < p->cfg.nr_e820; i++) {
		const struct plat_e820_entry *e = &p->cfg.e820[i];
		if (pa >= e->addr && pa + len <= e->addr + e->size)
			return true;
	}
	return false;
}

/* The part of chunk idx that one e820 entry covers: of the entries meeting the chunk, the one
 * covering most of it (lo == hi when none does). */
static void chunk_cover_of(const struct plat *p, unsigned idx, struct chunk_slot *s)
{
	uint64_t cb = (uint64_t)idx << CHUNK_SHIFT, ce = cb + CHUNK_SIZE;

	s->lo = s->hi = 0;
	for (unsigned i = 0; i < p->cfg.nr_e820; i++) {
		const struct plat_e820_entry *e = &p->cfg.e820[i];
		uint64_t lo = e->addr > cb ? e->addr : cb, hi = e->addr + e->size < ce ? e->addr + e->size : ce;
		if (lo < hi && hi - lo > s->hi - s->lo) {
			s->lo = lo;
			s->hi = hi;
		}
	}
}

int plat_mem_init(struct plat *p)
{
	uint64_t top = 0;
	unsigned n;

	for (unsigned i = 0; i < p->cfg.nr_e820; i++) {
		uint64_t end = p->cfg.e820[i].addr + p->cfg.e820[i].size;
		if (end > top)
			top = end;
	}
	p->nr_chunks = (unsigned)((top + CHUNK_SIZE - 1) >> CHUNK_SHIFT);
	n = p->nr_chunks ? p->nr_chunks : 1;
	p->chunks = calloc(n, sizeof(*p->chunks));
	if (!p->chunks)
		return -1;
	/* The e820 map is fixed for the platform's life: finding once, per chunk, the range one
	 * entry covers keeps the e820 walk off every SEAM access, also in chunks that holes or
	 * several entries share (low memory, where the TD build's pages come from). Accesses
	 * outside that range still take the walk. */
	for (unsigned i = 0; i < p->nr_chunks; i++)
		chunk_cover_of(p, i, &p->chunks[i]);
	pthread_mutex_init(&p->chunk_lock, NULL);
	return 0;
}

void plat_mem_fini(struct plat *p)
{
	for (unsigned i = 0; i < p->nr_chunks; i++) {
		struct mem_chunk *c = atomic_load(&p->chunks[i].chunk);
		if (!c)
			continue;
		munmap(c->map_base, c->map_len);
		munmap((void *)c->meta, PAGES_PER_CHUNK * sizeof(uint32_t));
		free(c);
	}
	free(p->chunks);
	pthread_mutex_destroy(&p->chunk_lock);
}

/* Fast answer of plat_pa_is_backed() when the range lies in the part of its chunk that one
 * e820 entry covers; exact either way. */
static inline bool pa_is_backed(const struct plat *p, uint64_t pa, uint64_t len)
{
	uint64_t idx = pa >> CHUNK_SHIFT;

	if (len == 0 || pa + len < pa)
		return false;
	if (idx < p->nr_chunks && pa >= p->chunks[idx].lo && pa + len <= p->chunks[idx].hi)
		return true;
	return e820_covers(p, pa, len);
}

bool plat_pa_is_backed(const struct plat *p, uint64_t pa, uint64_t len)
{
	return pa_is_backed(p, pa, len);
}

static void *map_noreserve(size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

#define HUGE_PAGE_SIZE (2ull << 20)

/* A chunk's DRAM: 2 MiB aligned and backed by transparent huge pages where the host allows,
 * because a first-touch page fault per 4 KiB page (tens of microseconds under some
 * hypervisors) dominated TD builds. Untouched 2 MiB ranges still take no host memory, and
 * what DRAM reads as is unchanged: the sparse model lives in the meta words, not in RSS. */
static int map_chunk_data(struct mem_chunk *c)
{
	size_t len = CHUNK_SIZE + HUGE_PAGE_SIZE;
	uint8_t *m = map_noreserve(len), *data;

	if (!m)
		return -1;
	data = (uint8_t *)(((uintptr_t)m + HUGE_PAGE_SIZE - 1) & ~(uintptr_t)(HUGE_PAGE_SIZE - 1));
	c->map_base = m;
	c->map_len = len;
	c->data = data;
#ifdef MADV_HUGEPAGE
	(void)madvise(data, CHUNK_SIZE, MADV_HUGEPAGE); /* advice only: 4 KiB pages work too */
#endif
	return 0;
}

static struct mem_chunk *chunk_create(void)
{
	struct mem_chunk *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->meta = map_noreserve(PAGES_PER_CHUNK * sizeof(uint32_t));
	if (!c->meta || map_chunk_data(c)) {
		if (c->meta)
			munmap((void *)c->meta, PAGES_PER_CHUNK * sizeof(uint32_t));
		free(c);
		return NULL;
	}
	return c;
}

/* The chunk holding pa, created on first use. NULL only if the host is out of memory. */
static inline struct mem_chunk *chunk_get(struct plat *p, uint64_t pa)
{
	struct chunk_slot *s = &p->chunks[pa >> CHUNK_SHIFT];
	struct mem_chunk *c = atomic_load_explicit(&s->chunk, memory_order_acquire);

	if (c)
		return c;
	pthread_mutex_lock(&p->chunk_lock);
	c = atomic_load(&s->chunk);
	if (!c) {
		c = chunk_create();
		if (c) {
			s->data = c->data;
			s->meta = c->meta;
			atomic_store_explicit(&s->chunk, c, memory_order_release);
		}
	}
	pthread_mutex_unlock(&p->chunk_lock);
	return c;
}

/* plat_pa_mask() without the call, for the per-access paths. */
static inline uint64_t addr_mask(const struct plat *p)
{
	return (1ull << p->hkid_shift) - 1;
}

static _Atomic uint32_t *page_meta(struct mem_chunk *c, uint64_t pa)
{
	return &c->meta[(pa & (CHUNK_SIZE - 1)) >> PLAT_PAGE_SHIFT];
}

static uint8_t *page_data(struct mem_chunk *c, uint64_t pa)
{
	return c->data + (pa & (CHUNK_SIZE - 1) & ~(PLAT_PAGE_SIZE - 1));
}

static inline void mark_touched(struct plat *p, _Atomic uint32_t *m)
{
	uint32_t old;

	if (atomic_load_explicit(m, memory_order_relaxed) & PMETA_TOUCHED)
		return; /* the common case: no locked read-modify-write */
	old = atomic_fetch_or(m, PMETA_TOUCHED);
	if (!(old & PMETA_TOUCHED))
		atomic_fetch_add(&p->touched_pages, 1);
}

uint64_t plat_mem_touched_bytes(const struct plat *p)
{
	return atomic_load(&((struct plat *)p)->touched_pages) * PLAT_PAGE_SIZE;
}

/* Split a host physical address into its KeyID and the address proper. */
static void split_pa(const struct plat *p, uint64_t pa, unsigned *keyid, uint64_t *addr)
{
	*keyid = plat_pa_keyid(p, pa);
	*addr = pa & plat_pa_mask(p);
}

/* One page-bounded piece of a non-SEAM access. */
static int host_access_page(struct plat *p, uint64_t addr, unsigned keyid, void *buf, size_t len, bool write)
{
	struct mem_chunk *c = chunk_get(p, addr);
	_Atomic uint32_t *m;
	uint32_t meta;
	unsigned owner;
	size_t off = addr & (PLAT_PAGE_SIZE - 1);

	if (!c)
		return PLAT_MEM_UNBACKED;
	m = page_meta(c, addr);
	meta = atomic_load(m);
	owner = meta & PMETA_KEYID_MASK;
	if (write) {
		memcpy(page_data(c, addr) + off, buf, len);
		if (plat_keyid_is_private(p, owner))
			atomic_fetch_or(m, PMETA_POISON); /* the line's MAC no longer matches */
		else
			atomic_store(m, (meta & ~PMETA_KEYID_MASK) | keyid);
		mark_touched(p, m);
		return PLAT_MEM_OK;
	}
	if (plat_keyid_is_private(p, owner)) {
		uint8_t ct[PLAT_PAGE_SIZE];
		plat_crypto_page(p, owner, addr & ~(PLAT_PAGE_SIZE - 1), page_data(c, addr), ct);
		memcpy(buf, ct + off, len);
		return PLAT_MEM_OK;
	}
	memcpy(buf, page_data(c, addr) + off, len);
	return PLAT_MEM_OK;
}

static int shared_access(struct plat *p, uint64_t pa, void *buf, size_t len, bool write)
{
	unsigned keyid;
	uint64_t addr;
	uint8_t *b = buf;

	split_pa(p, pa, &keyid, &addr);
	if (plat_keyid_is_private(p, keyid))
		return PLAT_MEM_PRIVATE_KEYID;
	if (!pa_is_backed(p, addr, len ? len : 1))
		return PLAT_MEM_UNBACKED;
	while (len) {
		size_t n = PLAT_PAGE_SIZE - (addr & (PLAT_PAGE_SIZE - 1));
		int rc;

		if (n > len)
			n = len;
		rc = host_access_page(p, addr, keyid, b, n, write);
		if (rc)
			return rc;
		addr += n;
		b += n;
		len -= n;
	}
	return PLAT_MEM_OK;
}

int plat_host_read(struct plat *p, uint64_t pa, void *buf, size_t len)
{
	return shared_access(p, pa, buf, len, false);
}

int plat_host_write(struct plat *p, uint64_t pa, const void *buf, size_t len)
{
	return shared_access(p, pa, (void *)buf, len, true);
}

int plat_host_read64(struct plat *p, uint64_t pa, uint64_t *val)
{
	return plat_host_read(p, pa, val, sizeof(*val));
}

int plat_seam_read_shared(struct plat *p, uint64_t pa, void *buf, size_t len)
{
	return shared_access(p, pa, buf, len, false);
}

int plat_seam_write_shared(struct plat *p, uint64_t pa, const void *buf, size_t len)
{
	return shared_access(p, pa, (void *)buf, len, true);
}

/* Every page start of [addr, addr + len) lies in some CMR, so touching CMRs count as one
 * range. Once a page is found in a CMR, the pages up to that CMR's end are too: skip them
 * instead of searching the table for each page (a TDMR.INIT chunk is thousands of pages). */
static bool in_cmr(const struct plat *p, uint64_t addr, uint64_t len)
{
	for (uint64_t a = addr; a < addr + len;) {
		const struct plat_range *c = NULL;
		for (unsigned i = 0; i < p->cfg.nr_cmrs && !c; i++)
			if (a >= p->cfg.cmr[i].base && a < p->cfg.cmr[i].base + p->cfg.cmr[i].size)
				c = &p->cfg.cmr[i];
		if (!c)
			return false;
		/* the first page start at or past the CMR's end */
		a += (c->base + c->size - a + PLAT_PAGE_SIZE - 1) & ~(PLAT_PAGE_SIZE - 1);
	}
	return true;
}

/* MOVDIR64B writes whole lines straight to memory, bypassing the caches: non-temporal
 * stores are the closest host equivalent (and fast for large clears). */
static void movdir64b_zero_page(uint8_t *page)
{
	__m128i z = _mm_setzero_si128();
	for (size_t off = 0; off < PLAT_PAGE_SIZE; off += 64) {
		_mm_stream_si128((__m128i *)(page + off), z);
		_mm_stream_si128((__m128i *)(page + off + 16), z);
		_mm_stream_si128((__m128i *)(page + off + 32), z);
		_mm_stream_si128((__m128i *)(page + off + 48), z);
	}
}

/* One page of plat_seam_init_pages(): zeros under keyid. A page nobody ever wrote still reads
 * as zeros in sparse DRAM: writing zeros to it changes nothing, so it is not backed just for
 * that. True when it streamed stores (the caller fences before anyone maps the page). */
static bool init_page_zeroed(struct mem_chunk *c, uint64_t addr, unsigned keyid)
{
	_Atomic uint32_t *m = page_meta(c, addr);
	uint32_t old = atomic_load_explicit(m, memory_order_acquire);

	if (old & PMETA_TOUCHED)
		movdir64b_zero_page(page_data(c, addr));
	atomic_store_explicit(m, (old & PMETA_TOUCHED) | keyid, memory_order_release);
	return old & PMETA_TOUCHED;
}

int plat_seam_init_pages(struct plat *p, uint64_t pa, uint64_t npages, unsigned keyid)
{
	uint64_t addr = pa & plat_pa_mask(p);
	bool streamed = false;

	if ((addr & (PLAT_PAGE_SIZE - 1)) || npages == 0 ||
	    !pa_is_backed(p, addr, npages * PLAT_PAGE_SIZE))
		return PLAT_MEM_UNBACKED;
	if (plat_keyid_is_private(p, keyid) && !in_cmr(p, addr, npages * PLAT_PAGE_SIZE))
		return PLAT_MEM_NOT_CONVERTIBLE;
	for (uint64_t i = 0; i < npages; i++, addr += PLAT_PAGE_SIZE) {
		struct mem_chunk *c = chunk_get(p, addr);

		if (!c)
			return PLAT_MEM_UNBACKED;
		streamed |= init_page_zeroed(c, addr, keyid);
	}
	if (streamed)
		_mm_sfence(); /* order the streaming stores before anyone maps the pages */
	return PLAT_MEM_OK;
}

/* MOVDIR64B of a whole page from a shared source (TDH.MEM.PAGE.ADD): what a shared read of
 * the source returns (its ciphertext if a private KeyID owns it, zeros if nobody wrote it)
 * becomes the page's content under keyid, in one pass over the page. */
int plat_seam_init_page_from(struct plat *p, uint64_t pa, unsigned keyid, uint64_t src_pa)
{
	uint64_t addr = pa & addr_mask(p), src_addr;
	unsigned src_keyid;
	struct mem_chunk *c, *sc;
	_Atomic uint32_t *m;
	uint32_t old, src_meta;
	uint8_t *dst, *src;

	split_pa(p, src_pa, &src_keyid, &src_addr);
	if (plat_keyid_is_private(p, src_keyid))
		return PLAT_MEM_PRIVATE_KEYID;
	if (((addr | src_addr) & (PLAT_PAGE_SIZE - 1)) || !pa_is_backed(p, addr, PLAT_PAGE_SIZE) ||
	    !pa_is_backed(p, src_addr, PLAT_PAGE_SIZE))
		return PLAT_MEM_UNBACKED;
	if (plat_keyid_is_private(p, keyid) && !in_cmr(p, addr, PLAT_PAGE_SIZE))
		return PLAT_MEM_NOT_CONVERTIBLE;
	c = chunk_get(p, addr);
	sc = chunk_get(p, src_addr);
	if (!c || !sc)
		return PLAT_MEM_UNBACKED;
	m = page_meta(c, addr);
	dst = page_data(c, addr);
	src = page_data(sc, src_addr);
	src_meta = atomic_load_explicit(page_meta(sc, src_addr), memory_order_acquire);
	if (!(src_meta & PMETA_TOUCHED)) { /* a source nobody wrote reads as zeros */
		if (init_page_zeroed(c, addr, keyid))
			_mm_sfence();
		return PLAT_MEM_OK;
	}
	if (plat_keyid_is_private(p, src_meta & PMETA_KEYID_MASK)) {
		uint8_t ct[PLAT_PAGE_SIZE]; /* not in place: source and target may be one page */
		plat_crypto_page(p, src_meta & PMETA_KEYID_MASK, src_addr, src, ct);
		memcpy(dst, ct, PLAT_PAGE_SIZE);
	} else if (dst != src) {
		memcpy(dst, src, PLAT_PAGE_SIZE);
	} /* else one page: its plaintext stays, now under keyid */
	old = atomic_load_explicit(m, memory_order_acquire);
	atomic_store_explicit(m, (old & PMETA_TOUCHED) | keyid, memory_order_release);
	mark_touched(p, m);
	return PLAT_MEM_OK;
}

/* The slow half of plat_seam_map(), kept out of line so the common case stays a short leaf
 * function: an address outside its chunk's single-entry cover, or a chunk not created yet. */
static __attribute__((noinline)) struct mem_chunk *seam_map_chunk_slow(struct plat *p, uint64_t addr)
{
	return e820_covers(p, addr, 1) ? chunk_get(p, addr) : NULL;
}

int plat_seam_map(struct plat *p, uint64_t pa, unsigned keyid, void **ptr)
{
	uint64_t addr = pa & addr_mask(p), idx = addr >> CHUNK_SHIFT, off = addr & (CHUNK_SIZE - 1);
	const struct chunk_slot *s = idx < p->nr_chunks ? &p->chunks[idx] : NULL;
	uint8_t *data;
	_Atomic uint32_t *m;
	uint32_t meta;

	/* pa_is_backed(addr, 1) and chunk_get() with their common case inline, reading only the
	 * chunk's slot. */
	if (s && addr >= s->lo && addr < s->hi && atomic_load_explicit(&s->chunk, memory_order_acquire)) {
		data = s->data;
		m = &s->meta[off >> PLAT_PAGE_SHIFT];
	} else {
		struct mem_chunk *c = seam_map_chunk_slow(p, addr);
		if (!c)
			return PLAT_MEM_UNBACKED;
		data = c->data;
		m = page_meta(c, addr);
	}
	meta = atomic_load_explicit(m, memory_order_acquire);
	if ((meta & PMETA_POISON) || (meta & PMETA_KEYID_MASK) != keyid)
		return PLAT_MEM_MCE;
	/* The module may write through the mapping. TOUCHED is never cleared, so the word
	 * already read answers the common case. */
	if (!(meta & PMETA_TOUCHED))
		mark_touched(p, m);
	*ptr = data + off;
	return PLAT_MEM_OK;
}

int plat_page_state(const struct plat *p, uint64_t pa, unsigned *keyid, bool *poisoned)
{
	uint64_t addr = pa & plat_pa_mask(p);
	struct mem_chunk *c;
	uint32_t meta = 0;

	if (!pa_is_backed(p, addr, 1))
		return PLAT_MEM_UNBACKED;
	c = atomic_load(&p->chunks[addr >> CHUNK_SHIFT].chunk);
	if (c)
		meta = atomic_load(page_meta(c, addr));
	*keyid = meta & PMETA_KEYID_MASK;
	*poisoned = meta & PMETA_POISON;
	return PLAT_MEM_OK;
}

int plat_guest_dram(struct plat *p, uint64_t pa, void **ptr, uint64_t *len)
{
	uint64_t addr = pa & addr_mask(p), end = (addr | (CHUNK_SIZE - 1)) + 1;
	struct mem_chunk *c;

	for (unsigned i = 0; i < p->cfg.nr_e820; i++) {
		const struct plat_e820_entry *e = &p->cfg.e820[i];
		if (e->type != E820_RAM || addr < e->addr || addr >= e->addr + e->size)
			continue;
		if (!(c = chunk_get(p, addr)))
			return PLAT_MEM_UNBACKED;
		*ptr = c->data + (addr & (CHUNK_SIZE - 1));
		*len = (e->addr + e->size < end ? e->addr + e->size : end) - addr;
		return PLAT_MEM_OK;
	}
	return PLAT_MEM_UNBACKED;
}

static uint64_t atomic_apply(uint64_t *w, enum plat_atomic_op op, uint64_t operand)
{
	switch (op) {
	case PLAT_ATOMIC_OR: return __atomic_fetch_or(w, operand, __ATOMIC_SEQ_CST);
	case PLAT_ATOMIC_AND: return __atomic_fetch_and(w, operand, __ATOMIC_SEQ_CST);
	case PLAT_ATOMIC_XCHG: return __atomic_exchange_n(w, operand, __ATOMIC_SEQ_CST);
	default: return __atomic_load_n(w, __ATOMIC_SEQ_CST);
	}
}

int plat_shared_atomic64(struct plat *p, uint64_t pa, enum plat_atomic_op op, uint64_t operand, uint64_t *old)
{
	unsigned keyid;
	uint64_t addr;
	struct mem_chunk *c;
	_Atomic uint32_t *m;
	uint32_t meta;

	split_pa(p, pa, &keyid, &addr);
	if (plat_keyid_is_private(p, keyid))
		return PLAT_MEM_PRIVATE_KEYID;
	if ((addr & 7) || !pa_is_backed(p, addr, 8) || !(c = chunk_get(p, addr)))
		return PLAT_MEM_UNBACKED;
	m = page_meta(c, addr);
	meta = atomic_load(m);
	if (plat_keyid_is_private(p, meta & PMETA_KEYID_MASK))
		return PLAT_MEM_PRIVATE_KEYID;
	*old = atomic_apply((uint64_t *)(void *)(page_data(c, addr) + (addr & (PLAT_PAGE_SIZE - 1))), op, operand);
	if (op != PLAT_ATOMIC_LOAD) {
		if ((meta & PMETA_KEYID_MASK) != keyid)
			atomic_fetch_xor(m, (meta & PMETA_KEYID_MASK) ^ keyid);
		mark_touched(p, m);
	}
	return PLAT_MEM_OK;
}
