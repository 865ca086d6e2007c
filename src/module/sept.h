/* The Secure EPT of a TD: 4 KiB pages of 512 entries in the TD's private memory (the root is
 * TDCS page 3), the entry encodings of structures.json "SEPT_ENTRY state encoding", the walk
 * from the root, the host-side entry lock and the RCX/RDX error details the leaves report. */
#ifndef MODULE_SEPT_H
#define MODULE_SEPT_H

#include "td.h"

#define SEPT_ENTRIES 512u
#define SEPT_LEVEL_BITS 9u

/* L1 entry bits (ia32e_sept_t positions from structures.json). */
#define SEPTE_RWX UINT64_C(0x7)
#define SEPTE_R (UINT64_C(1) << 0)
#define SEPTE_W (UINT64_C(1) << 1)
#define SEPTE_X (UINT64_C(1) << 2)
#define SEPTE_MT_MASK (UINT64_C(7) << 3)
#define SEPTE_MT_WB (UINT64_C(6) << 3)
#define SEPTE_IPAT (UINT64_C(1) << 6)
#define SEPTE_PS (UINT64_C(1) << 7) /* part of every leaf state, even at 4 KiB */
#define SEPTE_D (UINT64_C(1) << 9)
#define SEPTE_TDEL (UINT64_C(1) << 11) /* entry lock */
#define SEPTE_HPA_MASK UINT64_C(0x000FFFFFFFFFF000)
#define SEPTE_TDHP (UINT64_C(1) << 52) /* host priority: a host locker lost a race */
#define SEPTE_TDEX (UINT64_C(1) << 53)
#define SEPTE_TDBW (UINT64_C(1) << 54)
#define SEPTE_TDB (UINT64_C(1) << 55)
#define SEPTE_TDP (UINT64_C(1) << 56)
#define SEPTE_SVE (UINT64_C(1) << 63)

/* L1 states, in the order of the real module's lookup table. */
/* enum sept_state and SEPT_L1_STATE_TABLE are generated from structures.json (abi_structs.h). */

enum sept_state sept_state_of(uint64_t e);
/* The public state number reported in SEPT_ENTRY_ARCH_INFO.STATE. */
uint8_t sept_public_state(enum sept_state s);

static inline bool sept_is_leaf(uint64_t e)
{
	return (e & SEPTE_PS) != 0;
}

static inline bool sept_is_present(uint64_t e)
{
	return (e & SEPTE_RWX) != 0;
}

static inline uint64_t sept_hpa(uint64_t e)
{
	return e & SEPTE_HPA_MASK;
}

/* Entry values the build leaves write. */
static inline uint64_t sept_nl_mapped_entry(uint64_t child_pa)
{
	return SEPTE_SVE | (child_pa & SEPTE_HPA_MASK) | SEPTE_RWX;
}

static inline uint64_t sept_mapped_leaf_entry(uint64_t page_pa)
{
	return SEPTE_SVE | (page_pa & SEPTE_HPA_MASK) | SEPTE_PS | SEPTE_IPAT | SEPTE_MT_WB | SEPTE_RWX;
}

/* Bytes a PAGE_INFO / SEPT level maps: 4K, 2M, 1G, 512G, 256T. */
static inline uint64_t sept_level_size(unsigned level)
{
	return SZ_4K << (SEPT_LEVEL_BITS * level);
}

/* EPTP.PWL: 3 for a 4-level Secure EPT, 4 for 5 levels; also the root's level. */
unsigned sept_root_level(const struct tdcs *tdcs);

/* verify_page_info_input: reserved bits, min <= LEVEL <= max, GPA aligned to the level.
 * TDX_OPERAND_INVALID + RCX otherwise. */
uint64_t sept_check_page_info(uint64_t page_info, unsigned min, unsigned max, uint64_t *gpa, unsigned *level);

/* check_gpa_validity for a private GPA: bits 63:52 clear, shared bit (GPAW - 1) clear and,
 * with a 48-bit GPAW, bits 51:48 clear. TDX_OPERAND_INVALID + RCX otherwise. */
uint64_t sept_check_private_gpa(const struct tdcs *tdcs, uint64_t gpa);

/* Where a walk stopped: the entry in its (mapped) SEPT page, the value read there, and its
 * level. */
struct sept_walk {
	uint64_t *entry;
	uint64_t value;
	unsigned level;
};

/* Walk the SEPT from the root towards `level`, stopping early at a non-present or leaf entry.
 * TDX_EPT_WALK_FAILED + RCX when `level` was not reached (w says where it stopped);
 * TDX_SEAMCALL_VMFAILINVALID after a machine check on a SEPT page. */
uint64_t sept_walk_to_level(struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs, uint64_t gpa,
			    unsigned level, struct sept_walk *w);
/* Walk to the leaf mapping gpa: TDX_EPT_WALK_FAILED + RCX unless it ends at a present leaf. */
uint64_t sept_walk_to_leaf(struct tdx_module *m, const struct tdr *tdr, const struct tdcs *tdcs, uint64_t gpa,
			   struct sept_walk *w);

/* Host-side entry lock (TDEL): a failed attempt leaves TDHP set so the guest side backs off.
 * On success w->value is re-read (with TDEL set). */
bool sept_entry_try_lock(struct sept_walk *w);
void sept_entry_unlock(struct sept_walk *w);
/* Guest-side entry lock (sept_lock_acquire_guest): TDX_OPERAND_BUSY while anyone holds it;
 * TDX_OPERAND_BUSY_HOST_PRIORITY (lock dropped again) when a host leaf lost a race for it
 * and set TDHP, so that the host gets it next. On success w->value is re-read (TDEL set). */
uint64_t sept_entry_lock_guest(struct sept_walk *w);
/* Store a guest-locked entry's new value and drop the lock in the same write, keeping a
 * TDHP request a host leaf made meanwhile. */
void sept_entry_store_unlock_guest(struct sept_walk *w, uint64_t value);

/* Whole-tree lock in the TDCS: plain try-only sharex. */
bool sept_tree_try_lock(struct tdcs *tdcs, bool exclusive);
void sept_tree_unlock(struct tdcs *tdcs, bool exclusive);

/* RCX := architectural SEPT entry, RDX := SEPT_ENTRY_ARCH_INFO (level, public state, VM 0). */
void sept_set_details(struct tdx_regs *regs, uint64_t e, unsigned level);

/* Turn pa into an empty SEPT page of the TD: MOVDIR64B under its HKID, then every entry
 * FREE. -1 if the page cannot be initialised. */
int sept_page_init(struct tdx_module *m, uint64_t pa, unsigned hkid);

/* ---- Helpers of the leaves that change or remove existing entries (BLOCK, UNBLOCK, REMOVE,
 * SEPT.RD). ---- */

/* The bits the 7-bit state encoding is made of. */
#define SEPTE_STATE_BITS (SEPTE_D | SEPTE_TDEX | SEPTE_TDBW | SEPTE_TDB | SEPTE_TDP | SEPTE_IPAT | SEPTE_PS)
/* A pending 2 MiB leaf counts 4 KiB accepts in the bits that are HPA bits at 4 KiB. */
#define SEPTE_ACCEPT_COUNTER (UINT64_C(0x1FF) << 12)

/* Sets of L1 states, one bit per enum sept_state. The state-flag sets are generated from
 * structures.json l1_states[].flags (abi_structs.h SEPT_STATESET_<FLAG>); the per-leaf allowed
 * sets are spelled out from seamcall_allowed_states in each leaf. */
#define SEPT_SET(s) (UINT32_C(1) << (s))

static inline bool sept_state_in(enum sept_state s, uint32_t set)
{
	return s < SEPT_STATE_INVALID && ((set >> s) & 1);
}

/* e with its state bits replaced by those of s (other bits, TDEL included, unchanged). */
uint64_t sept_with_state(uint64_t e, enum sept_state s);
/* "Cleanup if pending": a guest-acceptable pending 2 MiB leaf with its accept counter zeroed,
 * so that its HPA reads right; any other entry unchanged. */
uint64_t sept_cleanup_if_pending(uint64_t e, unsigned level);

/* A SEPT leaf in progress: the TD (TDR held shared), where the walk ended, the locks held. */
struct sept_op {
	struct pamt_lock tdr_lock;
	struct tdr *tdr;
	struct tdcs *tdcs;
	uint64_t gpa;
	unsigned level;
	struct sept_walk w;
	bool tree_locked, tree_exclusive, entry_locked;
};

/* Explicit TDR (shared, reported as `operand`) and the TD state check for `leaf`. */
uint64_t sept_op_lock_td(struct tdx_module *m, uint64_t tdr_pa, uint32_t operand, uint32_t leaf,
			 struct sept_op *op);
/* PAGE_INFO (LEVEL min..max, max capped at the root level), private GPA, SEPT tree lock, walk
 * to LEVEL, entry host lock. Walk and entry-lock failures put the entry reached in RCX/RDX. */
uint64_t sept_op_lock_entry(struct tdx_module *m, struct tdx_regs *regs, uint64_t page_info, unsigned min,
			    unsigned max, bool tree_exclusive, struct sept_op *op);
/* status + RCX with RCX/RDX = the locked entry at the input level. */
uint64_t sept_op_entry_error(struct tdx_regs *regs, const struct sept_op *op, uint64_t status);
/* Write the entry's new value; the same store drops the entry lock. */
void sept_op_store(struct sept_op *op, uint64_t value);
void sept_op_unlock(struct sept_op *op);

/* The PAMT entry of the page an entry maps, at its size (level 0..2): a leaf's data page, or
 * (level 0) a non-leaf's child SEPT page. No lock: BLOCK and UNBLOCK only touch BEPOCH. NULL
 * after a machine check. */
struct pamt_entry *sept_pamt_entry(struct tdx_module *m, uint64_t hpa, unsigned level);
/* The same entry locked exclusive (the real module's implicit PAMT lock; its parents shared):
 * TDX_OPERAND_BUSY + RCX when another holder has it. */
uint64_t sept_pamt_lock(struct tdx_module *m, uint64_t hpa, unsigned level, struct pamt_lock *l);

/* The TLB-tracking gate of REMOVE, SEPT.REMOVE and UNBLOCK, enforced only when both the
 * entry's state and the TD's OP_STATE require tracking: the entry must be blocked
 * (TDX_GPA_RANGE_NOT_BLOCKED + RCX with details) and the epoch it was blocked in (bepoch)
 * tracked (TDX_TLB_TRACKING_NOT_DONE + not_done_operand, no details). */
uint64_t sept_op_tracking_gate(struct tdx_regs *regs, const struct sept_op *op, uint64_t bepoch,
			       uint32_t not_done_operand);

/* Are all 512 entries of the SEPT page at pa FREE? TDX_SEAMCALL_VMFAILINVALID after a
 * machine check. */
uint64_t sept_page_is_free(struct tdx_module *m, const struct tdr *tdr, uint64_t pa, bool *is_free);

/* ---- Helpers of the leaves that map or restructure large pages (AUG, PROMOTE, DEMOTE). ---- */

/* The real module's check_and_lock_free_range_hpa: a page of 4 KiB (level 0) or 2 MiB (level 1)
 * for a new TD page. Alignment to its size, no KeyID bits, in an initialised TDMR, its PAMT
 * entry at exactly that size locked exclusive and PT_NDA and, at 2 MiB, all 512 4 KiB entries
 * under it PT_NDA. TDX_OPERAND_INVALID / ADDR_RANGE_ERROR / BUSY / PAGE_METADATA_INCORRECT +
 * operand otherwise; on failure nothing stays locked. */
uint64_t sept_pamt_lock_free_range(struct tdx_module *m, uint64_t hpa, uint32_t operand, unsigned level,
				   struct pamt_lock *l);

/* The 512 PAMT entries one size below the level-1 (2 MiB) or level-2 (1 GiB) page at hpa.
 * TDX_SEAMCALL_VMFAILINVALID after a machine check on the PAMT. */
uint64_t sept_pamt_children(struct tdx_module *m, uint64_t hpa, unsigned level,
			    struct pamt_entry *child[SEPT_ENTRIES]);

/* A leaf entry made unblocked, as DEMOTE hands it to the smaller pages: BLOCKED becomes MAPPED
 * (RWX, WB), PENDING_BLOCKED becomes PENDING; anything else is returned unchanged. */
uint64_t sept_unblocked_leaf(uint64_t e);

/* The entries of the SEPT page at pa (already initialised under hkid) set to leaf values:
 * entry i = first + i * stride. -1 after a machine check. */
int sept_page_fill(struct tdx_module *m, uint64_t pa, unsigned hkid, uint64_t first, uint64_t stride);

/* The SEPT page at pa (a non-leaf entry's child) mapped under the TD's key, NULL after a machine
 * check. */
uint64_t *sept_map_page(struct tdx_module *m, const struct tdr *tdr, uint64_t pa);

#endif
