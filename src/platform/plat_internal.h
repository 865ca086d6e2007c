/* Platform internals shared by the platform's own files. */
#ifndef PLAT_INTERNAL_H
#define PLAT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "platform.h"

#define CHUNK_SHIFT 30
#define CHUNK_SIZE (1ull << CHUNK_SHIFT)
#define PAGES_PER_CHUNK (CHUNK_SIZE >> PLAT_PAGE_SHIFT)
#define PLAT_MAX_KEYIDS 1024
#define PLAT_MAX_MSRS 64
#define PLAT_MSR_BUCKETS 128 /* open addressing, at most half full */
_Static_assert(PLAT_MSR_BUCKETS >= 2 * PLAT_MAX_MSRS, "the MSR hash stays at most half full");
#define PLAT_MAX_CPUID_OVERRIDES 16

/* Per-page metadata word: KeyID of the last write (bits 15:0) and flags. */
#define PMETA_KEYID_MASK 0xffffu
#define PMETA_POISON (1u << 16)   /* integrity failure pending for its private KeyID */
#define PMETA_TOUCHED (1u << 17)  /* page may hold non-zero data (it is backed by host memory) */

struct mem_chunk {
	uint8_t *data;          /* CHUNK_SIZE bytes, mmap(MAP_NORESERVE): lazily backed */
	_Atomic uint32_t *meta; /* PAGES_PER_CHUNK words */
	void *map_base;         /* the mapping data was carved from (for munmap) */
	size_t map_len;
};

/* Everything the per-access paths need about one chunk, side by side: [lo, hi), the part
 * of it that a single e820 entry covers (lo == hi: none; set once at init), and the chunk
 * once created, with copies of its data and meta pointers so that a SEAM access does not
 * chase the chunk pointer first. data and meta are written before chunk is published
 * (release) and read only after chunk was loaded non-NULL (acquire). */
struct chunk_slot {
	uint64_t lo, hi;
	_Atomic(struct mem_chunk *) chunk;
	uint8_t *data;
	_Atomic uint32_t *meta;
};

struct plat_msr {
	uint32_t index;
	uint64_t value;
};

struct plat_cpuid_override {
	uint32_t leaf, subleaf;
	struct cpuid_regs regs;
};

struct plat_lp {
	unsigned id, pkg, index_in_pkg;
	uint32_t x2apic_id;
	atomic_bool vmx_on;
	atomic_flag in_seam; /* an LP executes one SEAMCALL at a time */
	struct plat_msr msrs[PLAT_MSR_BUCKETS]; /* hashed by index; used[] marks the filled slots */
	bool msr_used[PLAT_MSR_BUCKETS];
	unsigned nr_msrs;
	struct plat_cpuid_override cpuid_ovr[PLAT_MAX_CPUID_OVERRIDES];
	unsigned nr_cpuid_ovr;
	uint64_t regs[PLAT_LP_NR_REGS]; /* CR2, DR0-3, DR6, DR7, XCR0 */
};

struct plat_key {
	bool programmed;
	uint8_t key[32]; /* AES-128-XTS: two 128-bit keys */
};

struct plat {
	struct plat_config cfg;
	/* memory */
	unsigned nr_chunks;
	struct chunk_slot *chunks; /* [nr_chunks] */
	pthread_mutex_t chunk_lock;
	atomic_uint_fast64_t touched_pages;
	/* KeyIDs */
	unsigned keyid_bits, hkid_shift;
	struct plat_key *keys; /* [pkg * total_keyids + keyid] */
	pthread_mutex_t key_lock;
	/* CPUs */
	struct plat_lp *lps;
	unsigned nr_lps;
	unsigned smt_shift, core_shift;
	/* SEAM */
	const struct seam_module_ops *seam_ops;
	void *seam_module;
	struct seamldr_module_info seam_info;
	atomic_bool seam_disabled;
	atomic_uint mce_count;
	_Atomic uint64_t mce_last_pa;
	/* guest execution */
	const struct plat_guest_engine *guest_engine;
	void *guest_engine_ctx;
	/* report MAC key (plat_report.c): drawn on first use, under key_lock */
	bool report_key_set;
	uint8_t report_key[PLAT_REPORT_KEY_SIZE];
};

/* XTS-encrypt one page of plaintext as the memory controller would store it. */
void plat_crypto_page(const struct plat *p, unsigned keyid, uint64_t page_pa, const uint8_t *in, uint8_t *out);
int plat_mem_init(struct plat *p);
void plat_mem_fini(struct plat *p);

#endif
