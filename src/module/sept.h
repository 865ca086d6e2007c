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

/* Whole-tree lock in the TDCS: plain try-only sharex. */
bool sept_tree_try_lock(struct tdcs *tdcs, bool exclusive);
void sept_tree_unlock(struct tdcs *tdcs, bool exclusive);

/* RCX := architectural SEPT entry, RDX := SEPT_ENTRY_ARCH_INFO (level, public state, VM 0). */
void sept_set_details(struct tdx_regs *regs, uint64_t e, unsigned level);

/* Turn pa into an empty SEPT page of the TD: MOVDIR64B under its HKID, then every entry
 * FREE. -1 if the page cannot be initialised. */
int sept_page_init(struct tdx_module *m, uint64_t pa, unsigned hkid);

#endif
