/* Secure EPT: state decoding, walks, entry/tree locks and the architectural error details. */
#include "sept.h"

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

/* The SEPT page at pa, mapped with the TD's key; NULL after a machine check (host tampering). */
static uint64_t *map_sept_page(struct tdx_module *m, uint64_t pa, unsigned hkid)
{
	void *p;

	if (plat_seam_map(m->plat, pa & plat_pa_mask(m->plat) & ~(SZ_4K - 1), hkid, &p)) {
		plat_seam_machine_check(m->plat, pa);
		return NULL;
	}
	return p;
}

/* Walk from the root until `level`, a non-present entry or a leaf; w says where it stopped. */
static uint64_t walk(struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs, uint64_t gpa,
		     unsigned level, struct sept_walk *w)
{
	uint64_t *page = map_sept_page(m, tdr->tdcx_pa[TDCS_PAGE_SEPT_ROOT], tdr->hkid);

	for (unsigned l = sept_root_level(tdcs);; l--) {
		if (!page)
			return TDX_SEAMCALL_VMFAILINVALID;
		w->level = l;
		w->entry = &page[(gpa >> (12 + SEPT_LEVEL_BITS * l)) & (SEPT_ENTRIES - 1)];
		/* Other LPs may be linking pages below other entries: read each entry once. */
		w->value = __atomic_load_n(w->entry, __ATOMIC_ACQUIRE);
		if (l == level || l == 0 || !sept_is_present(w->value) || sept_is_leaf(w->value))
			return TDX_SUCCESS;
		page = map_sept_page(m, sept_hpa(w->value), tdr->hkid);
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
	regs->r[REG_RCX] = arch_entry(e);
	regs->r[REG_RDX] = ((uint64_t)level << SEPT_ENTRY_ARCH_INFO_LEVEL_SHIFT) |
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
