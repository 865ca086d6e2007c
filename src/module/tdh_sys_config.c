/* TDH.SYS.CONFIG (leaf 45): take the host's TDMR list and the global private KeyID.
 *
 * Every TDMR_INFO is validated in the order the real module uses (ordering and range,
 * reserved areas, PAMT address/size, PAMT overlaps, PAMT vs available TDMR space, CMR
 * containment); errors carry the TDMR index, an area index or PAMT level, and a second
 * TDMR index in status bits 7:0, 15:8 and 23:16. */
#include <string.h>

#include "module_internal.h"

#define TDMR_INFO_ARRAY_ALIGN 512u
#define TDMR_INFO_ALIGN 512u
static const uint64_t level_page[3] = { SZ_4K, SZ_2M, SZ_1G };
/* PAMT levels are checked 1G, 2M, 4K for size and CMRs; 4K, 2M, 1G for overlaps. */
static const unsigned size_order[3] = { PT_1GB, PT_2MB, PT_4KB };

static bool overflows(uint64_t base, uint64_t size)
{
	return base + size < base;
}

static bool overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return as && bs && a < b + bs && b < a + as;
}

static bool beyond_pa(const struct tdx_module *m, uint64_t pa)
{
	return pa >= (UINT64_C(1) << MODULE_MAX_PA) || module_pa_has_hkid(m, pa);
}

static uint64_t tdmr_err(uint64_t status, unsigned i, unsigned b, unsigned c)
{
	return api_error_with_multiple_info(status, (uint8_t)i, (uint8_t)b, (uint8_t)c);
}

static uint64_t check_tdmr_range(const struct tdx_module *m, const struct tdmr_info_entry *t, unsigned i,
				 const struct module_tdmr *prev)
{
	if (overflows(t->tdmr_base, t->tdmr_size))
		return tdmr_err(TDX_INVALID_TDMR, i, 0, 0);
	if (prev && (t->tdmr_base < prev->base || t->tdmr_base < prev->base + prev->size))
		return tdmr_err(TDX_NON_ORDERED_TDMR, i, 0, 0);
	if ((t->tdmr_base & (SZ_1G - 1)) || (t->tdmr_size & (SZ_1G - 1)) || !t->tdmr_size)
		return tdmr_err(TDX_INVALID_TDMR, i, 0, 0);
	if (beyond_pa(m, t->tdmr_base) || beyond_pa(m, t->tdmr_base + t->tdmr_size - 1))
		return tdmr_err(TDX_INVALID_TDMR, i, 0, 0);
	return TDX_SUCCESS;
}

static uint64_t check_rsvd(const struct tdmr_info_entry *t, unsigned i)
{
	for (unsigned j = 0; j < TDMR_MAX_RESERVED; j++) {
		const struct tdmr_rsvd_area *r = &t->rsvd[j], *p = j ? &t->rsvd[j - 1] : NULL;
		uint64_t abs;

		if (!r->size) {
			if (j + 1 < TDMR_MAX_RESERVED && t->rsvd[j + 1].size)
				return tdmr_err(TDX_NON_ORDERED_RESERVED_IN_TDMR, i, j, 0);
			continue;
		}
		if (overflows(r->offset, r->size))
			return tdmr_err(TDX_INVALID_RESERVED_IN_TDMR, i, j, 0);
		if (p && (r->offset < p->offset || r->offset < p->offset + p->size))
			return tdmr_err(TDX_NON_ORDERED_RESERVED_IN_TDMR, i, j, 0);
		if ((r->offset | r->size) & (SZ_4K - 1))
			return tdmr_err(TDX_INVALID_RESERVED_IN_TDMR, i, j, 0);
		abs = t->tdmr_base + r->offset;
		if (abs < t->tdmr_base || overflows(abs, r->size) || abs + r->size > t->tdmr_base + t->tdmr_size)
			return tdmr_err(TDX_INVALID_RESERVED_IN_TDMR, i, j, 0);
	}
	return TDX_SUCCESS;
}

static void pamt_of(const struct tdmr_info_entry *t, uint64_t base[3], uint64_t size[3])
{
	base[PT_4KB] = t->pamt_4k_base;
	size[PT_4KB] = t->pamt_4k_size;
	base[PT_2MB] = t->pamt_2m_base;
	size[PT_2MB] = t->pamt_2m_size;
	base[PT_1GB] = t->pamt_1g_base;
	size[PT_1GB] = t->pamt_1g_size;
}

static uint64_t check_pamt_sizes(const struct tdx_module *m, const struct tdmr_info_entry *t, unsigned i)
{
	uint64_t base[3], size[3], entry = module_sys_const(m, MD_SYS_FIELDS_PAMT_4K_ENTRY_SIZE_IDX);

	pamt_of(t, base, size);
	for (unsigned k = 0; k < 3; k++) {
		unsigned l = size_order[k];
		if (overflows(base[l], size[l]) || ((base[l] | size[l]) & (SZ_4K - 1)) || beyond_pa(m, base[l]) ||
		    beyond_pa(m, base[l] + size[l] - 1) || size[l] < (t->tdmr_size / level_page[l]) * entry)
			return tdmr_err(TDX_INVALID_PAMT, i, l, 0);
	}
	return TDX_SUCCESS;
}

static uint64_t check_pamt_pamt(const struct tdx_module *m, const struct tdmr_info_entry *t, unsigned i)
{
	uint64_t base[3], size[3];

	pamt_of(t, base, size);
	for (unsigned j = 0; j < i; j++)
		for (unsigned l = 0; l < 3; l++)
			for (unsigned k = 0; k < 3; k++)
				if (overlap(base[l], size[l], m->tdmr[j].pamt_base[k], m->tdmr[j].pamt_size[k]))
					return tdmr_err(TDX_PAMT_OVERLAP, i, l, j);
	if (overlap(base[PT_4KB], size[PT_4KB], base[PT_2MB], size[PT_2MB]) ||
	    overlap(base[PT_4KB], size[PT_4KB], base[PT_1GB], size[PT_1GB]))
		return tdmr_err(TDX_PAMT_OVERLAP, i, PT_4KB, i);
	if (overlap(base[PT_2MB], size[PT_2MB], base[PT_1GB], size[PT_1GB]))
		return tdmr_err(TDX_PAMT_OVERLAP, i, PT_2MB, i);
	return TDX_SUCCESS;
}

/* Does [a, a+s) touch the TDMR outside its reserved areas? */
static bool hits_available(const struct module_tdmr *t, uint64_t a, uint64_t s)
{
	uint64_t cur = t->base, end = t->base + t->size;

	for (unsigned r = 0; r <= t->nr_rsvd; r++) {
		uint64_t stop = r < t->nr_rsvd ? t->base + t->rsvd[r].offset : end;
		if (stop > cur && overlap(a, s, cur, stop - cur))
			return true;
		if (r < t->nr_rsvd)
			cur = t->base + t->rsvd[r].offset + t->rsvd[r].size;
	}
	return false;
}

static uint64_t check_pamt_available(const struct tdx_module *m, const struct module_tdmr *ti, unsigned i)
{
	for (unsigned j = 0; j <= i; j++) {
		const struct module_tdmr *tj = &m->tdmr[j];
		for (unsigned l = 0; l < 3; l++)
			if (hits_available(tj, ti->pamt_base[l], ti->pamt_size[l]))
				return tdmr_err(TDX_PAMT_OVERLAP, i, l, j);
		if (j == i)
			break;
		for (unsigned l = 0; l < 3; l++)
			if (hits_available(ti, tj->pamt_base[l], tj->pamt_size[l]))
				return tdmr_err(TDX_PAMT_OVERLAP, j, l, i);
	}
	return TDX_SUCCESS;
}

static uint64_t check_cmrs(const struct tdx_module *m, const struct module_tdmr *t, unsigned i)
{
	uint64_t cur = t->base, end = t->base + t->size;

	for (unsigned k = 0; k < 3; k++) {
		unsigned l = size_order[k];
		if (!module_range_in_cmrs(m, t->pamt_base[l], t->pamt_size[l]))
			return tdmr_err(TDX_PAMT_OUTSIDE_CMRS, i, l, 0);
	}
	for (unsigned r = 0; r <= t->nr_rsvd; r++) {
		uint64_t stop = r < t->nr_rsvd ? t->base + t->rsvd[r].offset : end;
		if (stop > cur && !module_range_in_cmrs(m, cur, stop - cur))
			return tdmr_err(TDX_TDMR_OUTSIDE_CMRS, i, 0, 0);
		if (r < t->nr_rsvd)
			cur = t->base + t->rsvd[r].offset + t->rsvd[r].size;
	}
	return TDX_SUCCESS;
}

/* The module's copy: base, size, PAMTs and the reserved areas up to the first null one. */
static void fill_tdmr(struct module_tdmr *mt, const struct tdmr_info_entry *t)
{
	mt->base = t->tdmr_base;
	mt->size = t->tdmr_size;
	pamt_of(t, mt->pamt_base, mt->pamt_size);
	mt->nr_rsvd = 0;
	while (mt->nr_rsvd < TDMR_MAX_RESERVED && t->rsvd[mt->nr_rsvd].size) {
		mt->rsvd[mt->nr_rsvd] = (struct module_rsvd){ t->rsvd[mt->nr_rsvd].offset, t->rsvd[mt->nr_rsvd].size };
		mt->nr_rsvd++;
	}
	atomic_store(&mt->last_initialized, t->tdmr_base);
	atomic_flag_clear(&mt->lock);
}

static uint64_t config_one(struct tdx_module *m, uint64_t info_pa, unsigned i)
{
	struct tdmr_info_entry t;
	struct module_tdmr *mt = &m->tdmr[i];
	uint64_t ret;

	if (!module_is_shared_hpa(m, info_pa, TDMR_INFO_SIZE, TDMR_INFO_ALIGN) ||
	    plat_seam_read_shared(m->plat, info_pa, &t, sizeof(t)))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	ret = check_tdmr_range(m, &t, i, i ? &m->tdmr[i - 1] : NULL);
	if (!ret)
		ret = check_rsvd(&t, i);
	if (!ret)
		ret = check_pamt_sizes(m, &t, i);
	if (!ret)
		ret = check_pamt_pamt(m, &t, i);
	if (ret)
		return ret;
	fill_tdmr(mt, &t);
	ret = check_pamt_available(m, mt, i);
	if (!ret)
		ret = check_cmrs(m, mt, i);
	return ret;
}

uint64_t tdh_sys_config(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t array_pa = regs->r[TDX_REG_RCX], count = regs->r[TDX_REG_RDX], hkid = regs->r[TDX_REG_R8];
	uint64_t ptrs[TDMR_MAX];
	uint64_t ret;

	if (!sharex_try_exclusive(&m->global_lock))
		return TDX_SYS_BUSY;
	if (atomic_load(&m->sys_state) != SYSINIT_DONE ||
	    atomic_load(&m->num_init_lps) < m->sysinfo.num_lps) {
		ret = TDX_SYS_CONFIG_NOT_PENDING;
		goto out;
	}
	if (!module_is_shared_hpa(m, array_pa, TDMR_INFO_ARRAY_ALIGN, TDMR_INFO_ARRAY_ALIGN)) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
		goto out;
	}
	if (count < 1 || count > module_sys_const(m, MD_SYS_FIELDS_MAX_TDMRS_IDX) || count > TDMR_MAX) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
		goto out;
	}
	if ((hkid & HKID_RESERVED_MASK) || hkid < m->hkid_private_min || hkid > m->hkid_private_max) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
		goto out;
	}
	if (plat_seam_read_shared(m->plat, array_pa, ptrs, count * sizeof(ptrs[0]))) {
		ret = api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
		goto out;
	}
	/* Like the real module, the KeyID is reserved before any TDMR is looked at and is not
	 * released if a TDMR is rejected. */
	m->kot_state[hkid] = HKID_RESERVED;
	m->global_hkid = (uint16_t)hkid;
	for (unsigned i = 0; i < count; i++) {
		ret = config_one(m, ptrs[i], i);
		if (ret)
			goto out;
	}

	/* Nothing can fail past this point. */
	m->nr_tdmrs = (unsigned)count;
	module_cpuid_finalize(m);
	atomic_store(&m->pkg_config_bitmap, 0);
	atomic_store(&m->sys_state, SYSCONFIG_DONE);
	ret = TDX_SUCCESS;
out:
	sharex_release_exclusive(&m->global_lock);
	return ret;
}
