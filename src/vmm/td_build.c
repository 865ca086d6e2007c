/* TD construction through the host's SEAMCALL wrappers, in KVM's order. */
#include <stdio.h>
#include <string.h>

#include "abi_leaves.h"
#include "abi_metadata.h"
#include "abi_status.h"
#include "td_build.h"

#define PAGE 4096u
#define MR_EXTEND_CHUNK 256u
#define TDCS_PAGES 6u
#define TDVPS_PAGES 6u
#define SEPT_TOP_LEVEL 3u /* 4-level Secure EPT: the root is the PML4 (TDCS page 3) */

static int fail(struct td_build *b, const char *what, uint64_t status)
{
	char buf[96];
	snprintf(b->err, sizeof(b->err), "%s failed: 0x%016llx %s", what, (unsigned long long)status,
		 tdx_status_str(status, buf, sizeof(buf)));
	return -1;
}

static uint64_t page(struct td_build *b)
{
	return host_alloc_phys(&b->sim->host, PAGE, PAGE, 0);
}

int td_build_create(struct td_build *b, struct sim *s, const struct td_params *params)
{
	struct tdx_host *h = &s->host;
	struct tdx_module_args a;
	uint64_t params_pa, st;

	memset(b, 0, sizeof(*b));
	b->sim = s;
	b->tdr = page(b);
	b->src_page = page(b);
	params_pa = host_alloc_phys(h, sizeof(*params), 1024, 0);
	if (!b->tdr || !b->src_page || !params_pa) {
		snprintf(b->err, sizeof(b->err), "out of host memory for the TD's control pages");
		return -1;
	}
	/* The first TD KeyID after the module's own; later TDs take the next free one. */
	for (b->hkid = h->global_keyid + 1; b->hkid < h->tdx_keyid_start + h->nr_tdx_keyids; b->hkid++) {
		st = tdh_mng_create(h, 0, b->tdr, b->hkid);
		if (st != TDX_HKID_NOT_FREE)
			break;
	}
	if (st)
		return fail(b, "TDH.MNG.CREATE", st);
	for (unsigned pkg = 0; pkg < plat_nr_packages(s->plat); pkg++)
		if ((st = tdh_mng_key_config(h, plat_package_first_lp(s->plat, pkg), b->tdr)))
			return fail(b, "TDH.MNG.KEY.CONFIG", st);
	for (b->nr_tdcx = 0; b->nr_tdcx < TDCS_PAGES; b->nr_tdcx++) {
		b->tdcx[b->nr_tdcx] = page(b);
		if ((st = tdh_mng_addcx(h, 0, b->tdr, b->tdcx[b->nr_tdcx])))
			return fail(b, "TDH.MNG.ADDCX", st);
	}
	plat_host_write(s->plat, params_pa, params, sizeof(*params));
	if ((st = tdh_mng_init(h, 0, b->tdr, params_pa, &a)))
		return fail(b, "TDH.MNG.INIT", st);
	return 0;
}

static bool sept_known(struct td_build *b, uint64_t key)
{
	for (unsigned i = 0; i < b->nr_sept; i++)
		if (b->sept_key[i] == key)
			return true;
	return false;
}

/* Secure EPT pages down to the page table that maps gpa, top-down, like KVM's TDP MMU. */
int td_build_map_sept(struct td_build *b, uint64_t gpa)
{
	struct tdx_module_args a;

	for (unsigned level = SEPT_TOP_LEVEL; level >= 1; level--) {
		uint64_t span = (uint64_t)PAGE << (9 * level), base = gpa & ~(span - 1), key = base | level, sp, st;

		if (sept_known(b, key))
			continue;
		if (b->nr_sept == TD_BUILD_MAX_SEPT) {
			snprintf(b->err, sizeof(b->err), "too many Secure EPT pages for one build");
			return -1;
		}
		sp = page(b);
		if ((st = tdh_mem_sept_add(&b->sim->host, 0, b->tdr, base, level, sp, &a)))
			return fail(b, "TDH.MEM.SEPT.ADD", st);
		b->sept_key[b->nr_sept++] = key;
		b->sept_pages++;
	}
	return 0;
}

/* PAGE.ADD of gpa from the host page src_pa (its Secure EPT pages added first). */
static int page_add_from(struct td_build *b, uint64_t gpa, uint64_t src_pa)
{
	struct tdx_module_args a;
	uint64_t target, st;

	if (td_build_map_sept(b, gpa))
		return -1;
	if (!(target = page(b))) {
		snprintf(b->err, sizeof(b->err), "out of host memory for TD pages");
		return -1;
	}
	if ((st = tdh_mem_page_add(&b->sim->host, 0, b->tdr, gpa, target, src_pa, &a)))
		return fail(b, "TDH.MEM.PAGE.ADD", st);
	b->pages_added++;
	return 0;
}

int td_build_page_add_only(struct td_build *b, uint64_t gpa, const uint8_t data[4096])
{
	if (plat_host_write(b->sim->plat, b->src_page, data, PAGE)) {
		snprintf(b->err, sizeof(b->err), "cannot write the PAGE.ADD source page");
		return -1;
	}
	return page_add_from(b, gpa, b->src_page);
}

int td_build_add_page_from(struct td_build *b, uint64_t gpa, uint64_t src_pa, bool measure)
{
	if (page_add_from(b, gpa, src_pa))
		return -1;
	return measure ? td_build_extend_only(b, gpa) : 0;
}

int td_build_extend_only(struct td_build *b, uint64_t gpa)
{
	struct tdx_module_args a;

	for (unsigned off = 0; off < PAGE; off += MR_EXTEND_CHUNK) {
		uint64_t st = tdh_mr_extend(&b->sim->host, 0, b->tdr, gpa + off, &a);
		if (st)
			return fail(b, "TDH.MR.EXTEND", st);
		b->extends++;
	}
	return 0;
}

int td_build_add_page(struct td_build *b, uint64_t gpa, const uint8_t data[4096], bool measure)
{
	if (td_build_page_add_only(b, gpa, data))
		return -1;
	return measure ? td_build_extend_only(b, gpa) : 0;
}

/* len bytes at pa, page by page: data's data_len bytes, then zeros. */
static int host_fill(struct td_build *b, uint64_t pa, const uint8_t *data, uint64_t data_len, uint64_t len)
{
	static const uint8_t zeros[PAGE];

	for (uint64_t off = 0; off < len; off += PAGE) {
		uint64_t n = off < data_len ? (data_len - off < PAGE ? data_len - off : PAGE) : 0;

		if ((n && plat_host_write(b->sim->plat, pa + off, data + off, n)) ||
		    (n < PAGE && plat_host_write(b->sim->plat, pa + off + n, zeros, PAGE - n)))
			return -1;
	}
	return 0;
}

int td_build_load_section(struct td_build *b, const struct tdvf *t, const struct tdvf_section *s, const uint8_t *hob,
			  size_t hob_len, uint64_t *src_pa)
{
	const uint8_t *data = s->type == TDVF_SECTION_TD_HOB ? hob : t->image + s->data_offset;
	uint64_t data_len = s->type == TDVF_SECTION_TD_HOB ? hob_len : s->raw_size;
	uint64_t pa = host_alloc_phys(&b->sim->host, s->mem_size, PAGE, 0);

	if (!pa || host_fill(b, pa, data, data_len < s->mem_size ? data_len : s->mem_size, s->mem_size)) {
		snprintf(b->err, sizeof(b->err), "out of host memory for the %s section (%llu KiB)",
			 tdvf_section_type_name(s->type), (unsigned long long)(s->mem_size >> 10));
		return -1;
	}
	*src_pa = pa;
	return 0;
}

int td_build_add_tdvf(struct td_build *b, const struct tdvf *t, const uint8_t *hob, size_t hob_len,
		      enum td_add_order order)
{
	for (unsigned i = 0; i < t->nr_sections; i++) {
		const struct tdvf_section *s = &t->sec[i];
		bool measure = s->attributes & TDVF_ATTR_MR_EXTEND;
		uint64_t pages = s->mem_size / PAGE, src;

		if (s->attributes & TDVF_ATTR_PAGE_AUG)
			continue; /* accepted by the guest later, not part of the build */
		if (td_build_load_section(b, t, s, hob, hob_len, &src))
			return -1;
		for (uint64_t p = 0; p < pages; p++)
			if (td_build_add_page_from(b, s->gpa + p * PAGE, src + p * PAGE, order == TD_ADD_PER_PAGE && measure))
				return -1;
		if (order == TD_ADD_TWO_PASS && measure)
			for (uint64_t p = 0; p < pages; p++)
				if (td_build_extend_only(b, s->gpa + p * PAGE))
					return -1;
	}
	return 0;
}

int td_build_add_vcpus(struct td_build *b, unsigned n, uint64_t initial_rcx)
{
	struct tdx_host *h = &b->sim->host;
	uint64_t st;

	for (unsigned v = 0; v < n; v++) {
		uint64_t tdvpr = page(b);
		if ((st = tdh_vp_create(h, 0, b->tdr, tdvpr)))
			return fail(b, "TDH.VP.CREATE", st);
		for (unsigned i = 1; i < TDVPS_PAGES; i++)
			if ((st = tdh_vp_addcx(h, 0, tdvpr, page(b))))
				return fail(b, "TDH.VP.ADDCX", st);
		if ((st = tdh_vp_init(h, 0, tdvpr, initial_rcx)))
			return fail(b, "TDH.VP.INIT", st);
	}
	return 0;
}

int td_build_finalize(struct td_build *b, uint8_t mrtd[48])
{
	uint64_t st = tdh_mr_finalize(&b->sim->host, 0, b->tdr);

	if (st)
		return fail(b, "TDH.MR.FINALIZE", st);
	for (unsigned i = 0; i < 6; i++) {
		uint64_t v;
		st = tdh_mng_rd(&b->sim->host, 0, b->tdr, MD_TD_FIELDS_MRTD_FIELD_ID + i, &v);
		if (st)
			return fail(b, "TDH.MNG.RD(MRTD)", st);
		memcpy(mrtd + 8 * i, &v, 8);
	}
	return 0;
}
