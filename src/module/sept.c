/* Secure EPT: state decoding, walks, entry/tree locks and the architectural error details. */
#include <string.h>

#include "sept.h"

/* PAMT BEPOCH bit 63 (structures.json PAMT entry note): the page is being migrated. */
#define PAMT_BEPOCH_MIG_FLAG (UINT64_C(1) << 63)

/* structures.json "SEPT_ENTRY state encoding": the 7-bit encoding gathers D (bit 9) into bit 0,
 * TDEX..TDP (bits 56:53) into bits 4:1 and IPAT, PS (bits 7:6) into bits 6:5. */
static unsigned state_encoding(uint64_t e)
{
	return (unsigned)(((e >> 9) & 1) | (((e >> 53) & 0xf) << 1) | (((e >> 6) & 3) << 5));
}

static const struct {
	uint8_t encoding;
	uint8_t public_state;
} l1_states[] = SEPT_L1_STATE_TABLE;
_Static_assert(sizeof(l1_states) / sizeof(l1_states[0]) == SEPT_STATE_INVALID, "one row per L1 state");

enum sept_state sept_state_of(uint64_t e)
{
	unsigned enc = state_encoding(e);

	for (unsigned s = 0; s < SEPT_STATE_INVALID; s++)
		if (l1_states[s].encoding == enc)
			return (enum sept_state)s;
	return SEPT_STATE_INVALID;
}

uint8_t sept_public_state(enum sept_state s)
{
	/* Nothing reports an invalid entry: the real module stops fatally before. */
	return s < SEPT_STATE_INVALID ? l1_states[s].public_state : 0xFF;
}

unsigned sept_root_level(const struct tdcs *tdcs)
{
	return (unsigned)((tdcs->eptp & EPTP_CONTROLS_EPT_PWL_MASK) >> EPTP_CONTROLS_EPT_PWL_SHIFT);
}

uint64_t sept_check_page_info(uint64_t page_info, unsigned min, unsigned max, uint64_t *gpa, unsigned *level)
{
	unsigned l = (unsigned)(page_info & PAGE_INFO_LEVEL_MASK);
	uint64_t g = page_info & PAGE_INFO_GPA_MASK;

	if ((page_info & (PAGE_INFO_RESERVED_0_MASK | PAGE_INFO_RESERVED_1_MASK)) || l < min || l > max ||
	    (g & (sept_level_size(l) - 1)))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	*gpa = g;
	*level = l;
	return TDX_SUCCESS;
}

uint64_t sept_check_private_gpa(const struct tdcs *tdcs, uint64_t gpa)
{
	/* TDCS.GPAW is CONFIG_FLAGS.GPAW: 0 = 48-bit GPA (shared bit 47), 1 = 52-bit (bit 51). */
	unsigned width = tdcs->gpaw ? 52 : 48;
	uint64_t above_width = ~((UINT64_C(1) << width) - 1);

	/* Also rejects bits 63:52 (MAX_PA is the architectural 52, not the platform's). */
	if (gpa & (above_width | (UINT64_C(1) << (width - 1))))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	return TDX_SUCCESS;
}

/* The SEPT page holding pa (pa_mask: the platform's address bits), mapped with the TD's key;
 * NULL after a machine check (host tampering). */
static uint64_t *map_sept_page_masked(struct tdx_module *m, uint64_t pa, uint64_t pa_mask, unsigned hkid)
{
	void *p;

	if (plat_seam_map(m->plat, pa & pa_mask & ~(SZ_4K - 1), hkid, &p)) {
		plat_seam_machine_check(m->plat, pa);
		return NULL;
	}
	return p;
}

static uint64_t *map_sept_page(struct tdx_module *m, uint64_t pa, unsigned hkid)
{
	return map_sept_page_masked(m, pa, plat_pa_mask(m->plat), hkid);
}

/* Walk from the root until `level`, a non-present entry or a leaf; w says where it stopped.
 * The address mask is the platform's for its whole life: read once per walk, not per level. */
static uint64_t walk(struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs, uint64_t gpa,
		     unsigned level, struct sept_walk *w)
{
	const uint64_t pa_mask = plat_pa_mask(m->plat);
	const unsigned hkid = tdr->hkid;
	uint64_t *page = map_sept_page_masked(m, tdr->tdcx_pa[TDCS_PAGE_SEPT_ROOT], pa_mask, hkid);

	for (unsigned l = sept_root_level(tdcs);; l--) {
		if (!page)
			return TDX_SEAMCALL_VMFAILINVALID;
		w->level = l;
		w->entry = &page[(gpa >> (12 + SEPT_LEVEL_BITS * l)) & (SEPT_ENTRIES - 1)];
		/* Other LPs may be linking pages below other entries: read each entry once. */
		w->value = __atomic_load_n(w->entry, __ATOMIC_ACQUIRE);
		if (l == level || l == 0 || !sept_is_present(w->value) || sept_is_leaf(w->value))
			return TDX_SUCCESS;
		page = map_sept_page_masked(m, sept_hpa(w->value), pa_mask, hkid);
	}
}

uint64_t sept_walk_to_level(struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs, uint64_t gpa,
			    unsigned level, struct sept_walk *w)
{
	uint64_t ret = walk(m, tdr, tdcs, gpa, level, w);

	if (ret)
		return ret;
	return w->level == level ? TDX_SUCCESS : api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX);
}

uint64_t sept_walk_to_leaf(struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs, uint64_t gpa,
			   struct sept_walk *w)
{
	uint64_t ret = walk(m, tdr, tdcs, gpa, 0, w);

	if (ret)
		return ret;
	/* A leaf with no permissions (PENDING, BLOCKED) maps nothing the module may read. */
	if (!sept_is_leaf(w->value) || !sept_is_present(w->value))
		return api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX);
	return TDX_SUCCESS;
}

bool sept_entry_try_lock(struct sept_walk *w)
{
	uint64_t old = __atomic_fetch_or(w->entry, SEPTE_TDEL, __ATOMIC_ACQUIRE);

	if (old & SEPTE_TDEL) {
		/* The host asks the guest-side holder's next attempt to yield to it. */
		__atomic_fetch_or(w->entry, SEPTE_TDHP, __ATOMIC_RELAXED);
		return false;
	}
	w->value = __atomic_and_fetch(w->entry, ~SEPTE_TDHP, __ATOMIC_ACQUIRE);
	return true;
}

void sept_entry_unlock(struct sept_walk *w)
{
	__atomic_fetch_and(w->entry, ~SEPTE_TDEL, __ATOMIC_RELEASE);
}

uint64_t sept_entry_lock_guest(struct sept_walk *w)
{
	uint64_t old = __atomic_fetch_or(w->entry, SEPTE_TDEL, __ATOMIC_ACQUIRE);

	if (old & SEPTE_TDEL)
		return TDX_OPERAND_BUSY;
	/* The guest yields to a host leaf that found the entry locked; TDHP stays set until
	 * that host leaf takes the lock. */
	if (old & SEPTE_TDHP) {
		__atomic_fetch_and(w->entry, ~SEPTE_TDEL, __ATOMIC_RELEASE);
		return TDX_OPERAND_BUSY_HOST_PRIORITY;
	}
	w->value = old | SEPTE_TDEL;
	return TDX_SUCCESS;
}

void sept_entry_store_unlock_guest(struct sept_walk *w, uint64_t value)
{
	uint64_t old = __atomic_load_n(w->entry, __ATOMIC_RELAXED), next;

	/* Host leaves only ever set TDHP on a locked entry: keep it, write everything else. */
	do
		next = (value & ~(SEPTE_TDEL | SEPTE_TDHP)) | (old & SEPTE_TDHP);
	while (!__atomic_compare_exchange_n(w->entry, &old, next, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	w->value = next;
}

bool sept_tree_try_lock(struct tdcs *tdcs, bool exclusive)
{
	return exclusive ? sharex_try_exclusive(&tdcs->sept_tree_lock) : sharex_try_shared(&tdcs->sept_tree_lock);
}

void sept_tree_unlock(struct tdcs *tdcs, bool exclusive)
{
	if (exclusive)
		sharex_release_exclusive(&tdcs->sept_tree_lock);
	else
		sharex_release_shared(&tdcs->sept_tree_lock);
}

/* What the host may learn of an entry: no lock, state or child-page bits. */
static uint64_t arch_entry(uint64_t e)
{
	if (sept_state_of(e) == SEPT_FREE)
		return SEPTE_SVE;
	if (sept_is_leaf(e))
		return e & (SEPTE_RWX | SEPTE_MT_MASK | SEPTE_HPA_MASK | SEPTE_IPAT | SEPTE_PS | SEPTE_SVE);
	return e & (SEPTE_RWX | SEPTE_PS);
}

void sept_set_details(struct tdx_regs *regs, uint64_t e, unsigned level)
{
	regs->r[TDX_REG_RCX] = arch_entry(e);
	regs->r[TDX_REG_RDX] = ((uint64_t)level << SEPT_ENTRY_ARCH_INFO_LEVEL_SHIFT) |
			   ((uint64_t)sept_public_state(sept_state_of(e)) << SEPT_ENTRY_ARCH_INFO_STATE_SHIFT);
}

int sept_page_init(struct tdx_module *m, uint64_t pa, unsigned hkid)
{
	uint64_t *q;

	if (plat_seam_init_pages(m->plat, pa, 1, hkid) || plat_seam_map(m->plat, pa, hkid, (void **)&q))
		return -1;
	for (unsigned i = 0; i < SEPT_ENTRIES; i++)
		q[i] = SEPTE_INIT_VALUE;
	return 0;
}

uint64_t sept_with_state(uint64_t e, enum sept_state s)
{
	unsigned enc = l1_states[s].encoding;
	uint64_t bits = ((uint64_t)(enc & 1) << 9) | ((uint64_t)((enc >> 1) & 0xf) << 53) |
			((uint64_t)((enc >> 5) & 3) << 6);

	return (e & ~SEPTE_STATE_BITS) | bits;
}

uint64_t sept_cleanup_if_pending(uint64_t e, unsigned level)
{
	enum sept_state s = sept_state_of(e);

	/* structures.json flag any_pending_and_guest_acceptable: PENDING, PENDING_EXPORTED_DIRTY. */
	if (level == 1 && (s == SEPT_PENDING || s == SEPT_PENDING_EXPORTED_DIRTY))
		return e & ~SEPTE_ACCEPT_COUNTER;
	return e;
}

uint64_t sept_op_lock_td(struct tdx_module *m, uint64_t tdr_pa, uint32_t operand, uint32_t leaf,
			 struct sept_op *op)
{
	return td_open(m, tdr_pa, operand, false, leaf, &op->tdr_lock, &op->tdr, &op->tdcs);
}

uint64_t sept_op_lock_entry(struct tdx_module *m, struct tdx_regs *regs, uint64_t page_info, unsigned min,
			    unsigned max, bool tree_exclusive, struct sept_op *op)
{
	unsigned root = sept_root_level(op->tdcs);
	uint64_t ret = sept_check_page_info(page_info, min, max < root ? max : root, &op->gpa, &op->level);

	if (!ret)
		ret = sept_check_private_gpa(op->tdcs, op->gpa);
	if (ret)
		return ret;
	if (!sept_tree_try_lock(op->tdcs, tree_exclusive))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_SEPT_TREE);
	op->tree_locked = true;
	op->tree_exclusive = tree_exclusive;
	ret = sept_walk_to_level(m, op->tdr, op->tdcs, op->gpa, op->level, &op->w);
	if (ret == api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX))
		sept_set_details(regs, op->w.value, op->w.level);
	if (ret)
		return ret;
	if (!sept_entry_try_lock(&op->w)) {
		sept_set_details(regs, op->w.value, op->w.level);
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
	}
	op->entry_locked = true;
	return TDX_SUCCESS;
}

uint64_t sept_op_entry_error(struct tdx_regs *regs, const struct sept_op *op, uint64_t status)
{
	sept_set_details(regs, op->w.value, op->level);
	return api_error_with_operand_id(status, OPERAND_ID_RCX);
}

void sept_op_store(struct sept_op *op, uint64_t value)
{
	/* Other LPs walk through this entry without its lock: one 64-bit store, TDEL clear. */
	__atomic_store_n(op->w.entry, value & ~SEPTE_TDEL, __ATOMIC_RELEASE);
	op->w.value = value & ~SEPTE_TDEL;
	op->entry_locked = false;
}

void sept_op_unlock(struct sept_op *op)
{
	if (op->entry_locked)
		sept_entry_unlock(&op->w);
	if (op->tree_locked)
		sept_tree_unlock(op->tdcs, op->tree_exclusive);
	pamt_unlock(&op->tdr_lock);
	op->entry_locked = op->tree_locked = false;
}

/* PAMT entries of the page at hpa: [0] 4K, [1] 2M, [2] 1G. */
static uint64_t pamt_entries(struct tdx_module *m, uint64_t hpa, struct pamt_entry *e[3])
{
	/* The page came from a SEPT entry, so it is in an initialised TDMR: only a machine check
	 * on the PAMT can fail here. */
	if (pamt_walk(m, hpa & SEPTE_HPA_MASK, &e[2], &e[1], &e[0]))
		return TDX_SEAMCALL_VMFAILINVALID;
	return TDX_SUCCESS;
}

struct pamt_entry *sept_pamt_entry(struct tdx_module *m, uint64_t hpa, unsigned level)
{
	struct pamt_entry *e[3];

	return pamt_entries(m, hpa, e) ? NULL : e[level];
}

uint64_t sept_pamt_lock(struct tdx_module *m, uint64_t hpa, unsigned level, struct pamt_lock *l)
{
	struct pamt_entry *e[3];
	uint64_t ret = pamt_entries(m, hpa, e);

	memset(l, 0, sizeof(*l));
	if (ret)
		return ret;
	for (unsigned i = 2; i > level; i--) {
		if (!pamt_entry_try_lock_shared(e[i])) {
			pamt_unlock(l);
			return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
		}
		*(i == 2 ? &l->e1g : &l->e2m) = e[i];
	}
	if (!pamt_entry_try_lock_exclusive(e[level])) {
		pamt_unlock(l);
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
	}
	l->leaf = e[level];
	l->exclusive = true;
	return TDX_SUCCESS;
}

/* OP_STATEs in which the TD's vCPUs may hold stale translations (state_flags_lookup
 * tlb_tracking_required): RUNNABLE, and LIVE_EXPORT (3) / LIVE_IMPORT (9) of migration,
 * which this module does not reach yet. */
#define OP_STATE_LIVE_EXPORT 3u
#define OP_STATE_LIVE_IMPORT 9u

static bool op_state_tracking_required(uint32_t op)
{
	return op == OP_STATE_RUNNABLE || op == OP_STATE_LIVE_EXPORT || op == OP_STATE_LIVE_IMPORT;
}

/* BEPOCH against a consistent snapshot of TD_EPOCH and the previous epoch's vCPU count. */
static bool tlb_tracked(struct tdcs *tdcs, uint64_t bepoch)
{
	uint64_t epoch, again;
	uint16_t prev_count;

	if (bepoch & PAMT_BEPOCH_MIG_FLAG)
		return false;
	/* TRACK moves the epoch under the epoch lock, which we do not take: re-read until the
	 * count belongs to the epoch read. */
	do {
		epoch = __atomic_load_n(&tdcs->td_epoch, __ATOMIC_ACQUIRE);
		prev_count = __atomic_load_n(&tdcs->refcount[(epoch - 1) & 1], __ATOMIC_ACQUIRE);
		again = __atomic_load_n(&tdcs->td_epoch, __ATOMIC_ACQUIRE);
	} while (epoch != again);
	if (bepoch == epoch - 1)
		return prev_count == 0;
	return bepoch < epoch - 1;
}

uint64_t sept_op_tracking_gate(struct tdx_regs *regs, const struct sept_op *op, uint64_t bepoch,
			       uint32_t not_done_operand)
{
	enum sept_state s = sept_state_of(op->w.value);

	if (!sept_state_in(s, SEPT_STATESET_TLB_TRACKING_REQUIRED) || !op_state_tracking_required(op->tdcs->op_state))
		return TDX_SUCCESS;
	if (!sept_state_in(s, SEPT_STATESET_ANY_BLOCKED))
		return sept_op_entry_error(regs, op, TDX_GPA_RANGE_NOT_BLOCKED);
	if (!tlb_tracked(op->tdcs, bepoch))
		return api_error_with_operand_id(TDX_TLB_TRACKING_NOT_DONE, not_done_operand);
	return TDX_SUCCESS;
}

uint64_t sept_page_is_free(struct tdx_module *m, const struct tdr *tdr, uint64_t pa, bool *is_free)
{
	const uint64_t *page = map_sept_page(m, pa, tdr->hkid);

	if (!page)
		return TDX_SEAMCALL_VMFAILINVALID;
	*is_free = true;
	for (unsigned i = 0; i < SEPT_ENTRIES && *is_free; i++)
		*is_free = sept_state_of(__atomic_load_n(&page[i], __ATOMIC_ACQUIRE)) == SEPT_FREE;
	return TDX_SUCCESS;
}

uint64_t *sept_map_page(struct tdx_module *m, const struct tdr *tdr, uint64_t pa)
{
	return map_sept_page(m, pa, tdr->hkid);
}

uint64_t sept_pamt_children(struct tdx_module *m, uint64_t hpa, unsigned level,
			    struct pamt_entry *child[SEPT_ENTRIES])
{
	uint64_t step = sept_level_size(level - 1);
	struct pamt_entry *e[3];

	/* Entries of one level are not contiguous in the simulated memory across PAMT pages: walk
	 * each child. The range lies in one initialised TDMR (TDMRs are 1 GiB aligned). */
	for (unsigned i = 0; i < SEPT_ENTRIES; i++) {
		if (pamt_entries(m, hpa + i * step, e))
			return TDX_SEAMCALL_VMFAILINVALID;
		child[i] = e[level - 1];
	}
	return TDX_SUCCESS;
}

/* 2 MiB of the free-range check: alignment, the 2M entry exclusive and PT_NDA, its 4K entries
 * PT_NDA (read unlocked, like the real module: the exclusive 2M lock keeps new 4K owners out
 * since every 4K explicit check takes the 2M entry shared). */
static uint64_t lock_free_2m(struct tdx_module *m, uint64_t hpa, uint32_t operand, struct pamt_lock *l)
{
	struct pamt_entry *child[SEPT_ENTRIES];
	uint64_t st = pamt_lock_at_level(m, hpa, 1, operand, true, l);

	if (st)
		return st;
	st = l->leaf->pt == PT_NDA ? sept_pamt_children(m, hpa, 1, child) : TDX_PAGE_METADATA_INCORRECT;
	for (unsigned i = 0; st == TDX_SUCCESS && i < SEPT_ENTRIES; i++)
		if (child[i]->pt != PT_NDA)
			st = TDX_PAGE_METADATA_INCORRECT;
	if (st == TDX_PAGE_METADATA_INCORRECT)
		st = api_error_with_operand_id(st, operand);
	if (st)
		pamt_unlock(l);
	return st;
}

uint64_t sept_pamt_lock_free_range(struct tdx_module *m, uint64_t hpa, uint32_t operand, unsigned level,
				   struct pamt_lock *l)
{
	if (level == 0)
		return pamt_check_lock_explicit(m, hpa, operand, true, PT_NDA, l);
	return lock_free_2m(m, hpa, operand, l);
}

uint64_t sept_unblocked_leaf(uint64_t e)
{
	switch (sept_state_of(e)) {
	case SEPT_BLOCKED:
		return sept_with_state((e & ~SEPTE_MT_MASK) | SEPTE_MT_WB | SEPTE_RWX, SEPT_MAPPED);
	case SEPT_PENDING_BLOCKED:
		return sept_with_state(e, SEPT_PENDING);
	default:
		return e;
	}
}

int sept_page_fill(struct tdx_module *m, uint64_t pa, unsigned hkid, uint64_t first, uint64_t stride)
{
	uint64_t *q = map_sept_page(m, pa, hkid);

	if (!q)
		return -1;
	for (unsigned i = 0; i < SEPT_ENTRIES; i++)
		q[i] = first + i * stride;
	return 0;
}
