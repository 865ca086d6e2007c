/* Memory: the shared alias window, the TD HOB's RAM list, acceptance, and the string
 * functions the compiler may call. */
#include "td.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define PDPT_INDEX(va) (((va) >> 30) & 511)

/* UEFI PI spec volume 3 (HOB): generic header, resource descriptor, the TDX unaccepted
 * memory type (as the VMM writes them: src/vmm/tdvf.c td_hob_build). */
#define HOB_TYPE_HANDOFF 0x0001
#define HOB_TYPE_RESOURCE_DESCRIPTOR 0x0003
#define HOB_TYPE_END 0xFFFF
#define HOB_HEADER_LEN 8
#define HOB_RESOURCE_LEN 48
#define HOB_RESOURCE_OFF_TYPE 24
#define HOB_RESOURCE_OFF_START 32
#define HOB_RESOURCE_OFF_LENGTH 40
#define RESOURCE_SYSTEM_MEMORY 0
#define RESOURCE_MEMORY_UNACCEPTED 7

extern uint64_t td_pdpt[512];
static uint64_t pd_shared[512] __attribute__((aligned(4096)));
uint64_t td_shared_bit;

void td_paging_shared_init(unsigned gpaw)
{
	td_shared_bit = 1ull << (gpaw - 1);
	for (uint64_t i = 0; i < 512; i++)
		pd_shared[i] = (i * TD_PAGE_2M) | td_shared_bit | PTE_P | PTE_RW | PTE_PS;
	td_pdpt[PDPT_INDEX(TD_SHARED_VA)] = (uintptr_t)pd_shared | PTE_P | PTE_RW;
	/* reload CR3: the window is new, but be explicit about the TLB */
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Call fn for every resource descriptor of the HOB list; -1 if the list is malformed (the
 * HOB must be the PHIT-headed list inside the TD_HOB section). */
static int hob_walk(uint64_t hob, int (*fn)(uint32_t type, uint64_t base, uint64_t len, void *ctx), void *ctx)
{
	uint64_t off = 0;

	if (hob != TD_HOB_BASE || rd16((const uint8_t *)hob) != HOB_TYPE_HANDOFF)
		return -1;
	while (off + HOB_HEADER_LEN <= TD_HOB_SIZE) {
		const uint8_t *h = (const uint8_t *)(hob + off);
		uint16_t type = rd16(h), len = rd16(h + 2);
		int r;

		if (type == HOB_TYPE_END)
			return 0;
		if (len < HOB_HEADER_LEN || off + len > TD_HOB_SIZE)
			return -1;
		if (type == HOB_TYPE_RESOURCE_DESCRIPTOR) {
			if (len < HOB_RESOURCE_LEN)
				return -1;
			r = fn(rd32(h + HOB_RESOURCE_OFF_TYPE), rd64(h + HOB_RESOURCE_OFF_START),
			       rd64(h + HOB_RESOURCE_OFF_LENGTH), ctx);
			if (r)
				return r;
		}
		off += len;
	}
	return -1;
}

static int count_ram(uint32_t type, uint64_t base, uint64_t len, void *ctx)
{
	(void)base;
	if (type == RESOURCE_SYSTEM_MEMORY || type == RESOURCE_MEMORY_UNACCEPTED)
		*(uint64_t *)ctx += len;
	return 0;
}

uint64_t td_hob_ram_bytes(uint64_t hob)
{
	uint64_t n = 0;

	return hob_walk(hob, count_ram, &n) ? 0 : n;
}

static bool busy(uint64_t st)
{
	return td_status_class(st) == td_status_class(TDX_OPERAND_BUSY);
}

/* One 4 KiB page; already accepted counts (a re-run after a partial acceptance). */
static uint64_t accept_4k(uint64_t gpa, struct td_accept_stats *st)
{
	uint64_t s;

	do {
		s = td_accept_page(gpa, TD_ACCEPT_LEVEL_4K);
		st->calls++, st->calls_4k++;
	} while (busy(s));
	if (td_status_class(s) == td_status_class(TDX_PAGE_ALREADY_ACCEPTED)) {
		st->already += TD_PAGE_4K;
		return TDX_SUCCESS;
	}
	if (s == TDX_SUCCESS)
		st->bytes += TD_PAGE_4K;
	return s;
}

uint64_t td_accept_range(uint64_t base, uint64_t size, struct td_accept_stats *st)
{
	uint64_t end = base + size, s;

	if ((base | size) & (TD_PAGE_4K - 1))
		return TDX_OPERAND_INVALID;
	while (base < end) {
		if (!(base & (TD_PAGE_2M - 1)) && end - base >= TD_PAGE_2M) {
			do {
				s = td_accept_page(base, TD_ACCEPT_LEVEL_2M);
				st->calls++, st->calls_2m++;
			} while (busy(s));
			if (s == TDX_SUCCESS) {
				st->bytes += TD_PAGE_2M;
				base += TD_PAGE_2M;
				continue;
			}
			/* The host mapped (part of) it with 4 KiB pages, or some 4 KiB pages were
			 * accepted before: this 2 MiB page is done page by page. */
			if (td_status_class(s) != td_status_class(TDX_PAGE_SIZE_MISMATCH) &&
			    td_status_class(s) != td_status_class(TDX_PAGE_ALREADY_ACCEPTED))
				return s;
			for (uint64_t end2m = base + TD_PAGE_2M; base < end2m; base += TD_PAGE_4K)
				if ((s = accept_4k(base, st)))
					return s;
			continue;
		}
		if ((s = accept_4k(base, st)))
			return s;
		base += TD_PAGE_4K;
	}
	return TDX_SUCCESS;
}

struct accept_ctx {
	uint64_t limit, status;
	struct td_accept_stats *st;
};

static int accept_unaccepted(uint32_t type, uint64_t base, uint64_t len, void *ctx)
{
	struct accept_ctx *c = ctx;
	uint64_t left;

	if (type != RESOURCE_MEMORY_UNACCEPTED)
		return 0;
	if (c->limit) {
		left = c->limit > c->st->bytes ? c->limit - c->st->bytes : 0;
		if (len > left)
			len = left & ~(TD_PAGE_4K - 1);
	}
	if (len && (c->status = td_accept_range(base, len, c->st)))
		return 1;
	return 0;
}

uint64_t td_accept_hob_ram(uint64_t hob, uint64_t limit, struct td_accept_stats *st)
{
	struct accept_ctx c = { limit, 0, st };

	if (hob_walk(hob, accept_unaccepted, &c) < 0)
		return TDX_OPERAND_INVALID;
	return c.status;
}

void *memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
