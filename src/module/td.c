/* Shared machinery of the TD leaves: explicit-HPA checks with PAMT locks, TDR/TDCS maps, KOT. */
#include <string.h>

#include "td.h"

uint64_t td_hkid_pa(const struct tdx_module *m, uint64_t pa, unsigned hkid)
{
	return (pa & plat_pa_mask(m->plat)) | ((uint64_t)hkid << plat_hkid_shift(m->plat));
}

void pamt_unlock(struct pamt_lock *l)
{
	if (l->leaf) {
		if (l->exclusive)
			pamt_entry_unlock_exclusive(l->leaf);
		else
			pamt_entry_unlock_shared(l->leaf);
	}
	if (l->e2m && l->e2m != l->leaf)
		pamt_entry_unlock_shared(l->e2m);
	if (l->e1g && l->e1g != l->leaf)
		pamt_entry_unlock_shared(l->e1g);
	memset(l, 0, sizeof(*l));
}

uint64_t pamt_lock_at_level(struct tdx_module *m, uint64_t hpa, unsigned level, uint32_t operand, bool exclusive,
			    struct pamt_lock *l)
{
	struct pamt_entry *e[3]; /* 4K, 2M, 1G */
	uint64_t st;

	memset(l, 0, sizeof(*l));
	if ((hpa & ((SZ_4K << (9 * level)) - 1)) || module_pa_has_hkid(m, hpa) || hpa >= (UINT64_C(1) << MODULE_MAX_PA))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, operand);
	st = pamt_walk(m, hpa, &e[2], &e[1], &e[0]);
	if (st == TDX_OPERAND_ADDR_RANGE_ERROR)
		return api_error_with_operand_id(st, operand);
	if (st)
		return st; /* machine check: SEAM is gone */
	/* Larger sizes first, shared; a PT_REG entry there is a larger page ending the walk. */
	for (unsigned i = 2; i > level; i--) {
		if (!pamt_entry_try_lock_shared(e[i])) {
			pamt_unlock(l);
			return api_error_with_operand_id(TDX_OPERAND_BUSY, operand);
		}
		*(i == 2 ? &l->e1g : &l->e2m) = e[i];
		if (e[i]->pt == PT_REG) {
			pamt_unlock(l);
			return api_error_with_operand_id(TDX_PAGE_METADATA_INCORRECT, operand);
		}
	}
	if (!(exclusive ? pamt_entry_try_lock_exclusive(e[level]) : pamt_entry_try_lock_shared(e[level]))) {
		pamt_unlock(l);
		return api_error_with_operand_id(TDX_OPERAND_BUSY, operand);
	}
	l->leaf = e[level];
	l->exclusive = exclusive;
	return TDX_SUCCESS;
}

uint64_t pamt_check_lock_explicit(struct tdx_module *m, uint64_t hpa, uint32_t operand, bool exclusive,
				  uint8_t expected_pt, struct pamt_lock *l)
{
	uint64_t st = pamt_lock_at_level(m, hpa, 0, operand, exclusive, l);

	if (st)
		return st;
	if (l->leaf->pt != expected_pt) {
		pamt_unlock(l);
		return api_error_with_operand_id(TDX_PAGE_METADATA_INCORRECT, operand);
	}
	return TDX_SUCCESS;
}

void pamt_set(struct pamt_entry *e, uint8_t pt, uint64_t owner_pa)
{
	uint64_t owner = owner_pa >> PAMT_OWNER_SHIFT;

	e->pt = pt;
	for (int i = 0; i < 5; i++)
		e->owner[i] = (uint8_t)(owner >> (8 * i));
}

uint64_t pamt_owner(const struct pamt_entry *e)
{
	uint64_t owner = 0;
	for (int i = 4; i >= 0; i--)
		owner = (owner << 8) | e->owner[i];
	return owner << PAMT_OWNER_SHIFT;
}

struct tdr *td_map_tdr(struct tdx_module *m, uint64_t tdr_pa)
{
	void *p;

	if (plat_seam_map(m->plat, tdr_pa, m->global_hkid, &p)) {
		plat_seam_machine_check(m->plat, tdr_pa);
		return NULL;
	}
	return p;
}

uint64_t td_lock_map_tdr(struct tdx_module *m, uint64_t tdr_pa, uint32_t operand, bool exclusive,
			 struct pamt_lock *l, struct tdr **tdr)
{
	uint64_t ret = pamt_check_lock_explicit(m, tdr_pa, operand, exclusive, PT_TDR, l);

	if (ret)
		return ret;
	*tdr = td_map_tdr(m, tdr_pa);
	if (!*tdr) {
		pamt_unlock(l);
		return TDX_SEAMCALL_VMFAILINVALID; /* the TDR took a machine check */
	}
	return TDX_SUCCESS;
}

uint64_t td_open(struct tdx_module *m, uint64_t tdr_pa, uint32_t operand, bool exclusive, uint32_t leaf,
		 struct pamt_lock *l, struct tdr **tdr, struct tdcs **tdcs)
{
	uint64_t ret = td_lock_map_tdr(m, tdr_pa, operand, exclusive, l, tdr);

	if (!ret)
		ret = td_check_state(m, *tdr, leaf, tdcs);
	if (ret)
		pamt_unlock(l);
	return ret;
}

struct tdcs *td_map_tdcs(struct tdx_module *m, const struct tdr *tdr)
{
	void *p;
	uint64_t pa = tdr->tdcx_pa[0] & plat_pa_mask(m->plat);

	if (plat_seam_map(m->plat, pa, tdr->hkid, &p)) {
		plat_seam_machine_check(m->plat, pa);
		return NULL;
	}
	return p;
}

/* OP_STATEs each leaf accepts (1.5.01 seamcall_state_lookup, the leaves implemented here). */
static bool op_state_allows(uint32_t leaf, uint32_t op)
{
	switch (leaf) {
	case TDH_MNG_INIT_LEAF:
		return op == OP_STATE_UNINITIALIZED;
	case TDH_MR_FINALIZE_LEAF:
	case TDH_MEM_PAGE_ADD_LEAF:
	case TDH_MR_EXTEND_LEAF:
		return op == OP_STATE_INITIALIZED;
	case TDH_MNG_RD_LEAF:
		return op != OP_STATE_UNINITIALIZED;
	case TDH_VP_ENTER_LEAF:
		return op == OP_STATE_RUNNABLE;
	default:
		return op != OP_STATE_UNINITIALIZED;
	}
}

/* TDCS.OP_STATE_LOCK is not modelled, on purpose: in 1.5.01 the leaves that hold the TDR
 * exclusive (MNG.INIT, PAGE.ADD, MR.EXTEND, MR.FINALIZE, ...) skip it and every other TD leaf
 * takes it shared; only the migration leaves (TDH.EXPORT.* / TDH.IMPORT.*, not implemented)
 * take it exclusive. Without an exclusive holder the shared acquire always succeeds, so
 * TDX_OPERAND_BUSY + OPERAND_ID_OP_STATE cannot happen with the leaves this module has. */
uint64_t td_check_state(struct tdx_module *m, struct tdr *tdr, uint32_t leaf, struct tdcs **tdcs)
{
	if (tdr->fatal)
		return TDX_TD_FATAL;
	if (tdr->lifecycle_state != TD_KEYS_CONFIGURED)
		return TDX_TD_KEYS_NOT_CONFIGURED;
	if (tdr->num_tdcx < MIN_NUM_TDCS_PAGES)
		return TDX_TDCS_NOT_ALLOCATED;
	*tdcs = td_map_tdcs(m, tdr);
	if (!*tdcs)
		return TDX_SEAMCALL_VMFAILINVALID;
	if (!op_state_allows(leaf, (*tdcs)->op_state))
		return TDX_OP_STATE_INCORRECT;
	return TDX_SUCCESS;
}

bool kot_try_lock(struct tdx_module *m, bool exclusive)
{
	return exclusive ? sharex_try_exclusive(&m->kot_lock) : sharex_try_shared(&m->kot_lock);
}

void kot_unlock(struct tdx_module *m, bool exclusive)
{
	if (exclusive)
		sharex_release_exclusive(&m->kot_lock);
	else
		sharex_release_shared(&m->kot_lock);
}
