/* Trust Domain control structures as this module lays them out (software-defined; the ABI
 * only fixes their sizes and the metadata field ids that reach them), and the helpers the
 * TD leaves share: explicit-HPA checks with PAMT locking, TDR/TDCS mapping, KOT. */
#ifndef MODULE_TD_H
#define MODULE_TD_H

#include <openssl/sha.h>

#include "module_internal.h"


/* TDR: one 4 KiB page, accessed with the module's global private KeyID. */
struct tdr {
	uint8_t fatal;
	uint8_t reserved0[3];
	uint32_t num_tdcx;
	uint64_t chldcnt;
	uint32_t lifecycle_state;
	uint32_t reserved1;
	uint64_t tdcx_pa[MAX_NUM_TDCS_PAGES]; /* with the TD's HKID bits */
	uint64_t td_uuid[4];
	uint16_t hkid;
	uint8_t reserved2[6];
	uint64_t pkg_config_bitmap;
	uint16_t handoff_version;
	uint8_t reserved3[6];
	uint64_t seamdb_index;
	uint64_t seamdb_nonce[4];
};
_Static_assert(sizeof(struct tdr) <= 4096, "TDR fits its page");

enum op_state {
	OP_STATE_UNINITIALIZED = 0,
	OP_STATE_INITIALIZED = 1,
	OP_STATE_RUNNABLE = 2,
};

/* TDCS page 0 (management, execution controls, measurement, CPUID), TD KeyID. */
struct tdcs {
	uint32_t num_vcpus;
	uint32_t num_assoc_vcpus;
	uint32_t op_state;
	uint16_t num_l2_vms;
	uint16_t reserved0;
	uint64_t attributes;
	uint64_t xfam;
	uint32_t max_vcpus;
	uint8_t gpaw;
	uint8_t reserved1[3];
	uint64_t eptp;
	uint64_t tsc_offset;
	uint64_t tsc_multiplier;
	uint16_t tsc_frequency;
	uint8_t reserved2[6];
	uint64_t config_flags;
	uint64_t td_ctls;
	uint64_t hp_lock_timeout;
	uint64_t td_epoch;
	uint16_t refcount[2];
	uint32_t xbuff_size;
	uint32_t xbuff_offsets[19];
	uint64_t virt_ia32_arch_capabilities;
	uint64_t mr_td[6];
	uint64_t mr_config_id[6];
	uint64_t mr_owner[6];
	uint64_t mr_owner_config[6];
	uint64_t rtmr[4][6];
	SHA512_CTX td_sha_ctx; /* the running MRTD hash */
	uint8_t cpuid_valid[MAX_NUM_CPUID_LOOKUP];
	struct cpuid_regs cpuid_values[MAX_NUM_CPUID_LOOKUP];
	uint8_t mig_enc_key[32];
	struct sharex_lock sept_tree_lock; /* TDCS.SECURE_EPT_LOCK: walkers shared, restructuring exclusive */
	struct sharex_lock epoch_lock;     /* TDCS.EPOCH_LOCK: TDH.MEM.TRACK exclusive, VP.ENTER shared */
	struct sharex_lock rtmr_lock;      /* TDCS.RTMR_LOCK: TDG.MR.RTMR.EXTEND exclusive, TDG.MR.REPORT shared */
};
_Static_assert(sizeof(struct tdcs) <= 4096, "TDCS management part fits page 0");

/* KOT entry states come from the ABI data (HKID_FREE, HKID_ASSIGNED, ...). */

/* A locked PAMT leaf found for an explicit HPA operand. */
struct pamt_lock {
	struct pamt_entry *e1g, *e2m, *leaf;
	bool exclusive;
};

/* The real module's check_and_lock_explicit_4k_private_hpa: alignment, no KeyID bits,
 * inside an initialised TDMR, PAMT walk with locks (busy -> OPERAND_BUSY + operand), a 4 KiB
 * leaf of the expected page type. On success the locks are held until pamt_unlock(). */
uint64_t pamt_check_lock_explicit(struct tdx_module *m, uint64_t hpa, uint32_t operand, bool exclusive,
				  uint8_t expected_pt, struct pamt_lock *l);
void pamt_unlock(struct pamt_lock *l);
/* The common part of both: hpa aligned to the page size of `level` (0 = 4 KiB, 1 = 2 MiB), no
 * KeyID bits, in an initialised TDMR; the PAMT entries of larger sizes locked shared (a PT_REG
 * one there: TDX_PAGE_METADATA_INCORRECT), the entry at `level` locked as asked. Status +
 * operand on failure, with nothing left locked. */
uint64_t pamt_lock_at_level(struct tdx_module *m, uint64_t hpa, unsigned level, uint32_t operand, bool exclusive,
			    struct pamt_lock *l);
void pamt_set(struct pamt_entry *e, uint8_t pt, uint64_t owner_pa);
uint64_t pamt_owner(const struct pamt_entry *e);

/* Map a TDR (global KeyID) / the TDCS page 0 (TD KeyID). NULL after a machine check. */
struct tdr *td_map_tdr(struct tdx_module *m, uint64_t tdr_pa);
struct tdcs *td_map_tdcs(struct tdx_module *m, const struct tdr *tdr);
/* The real module's check_lock_and_map_explicit_tdr: TDR operand checks, its PAMT entry
 * locked (exclusive or shared), mapped. On failure nothing stays locked. */
uint64_t td_lock_map_tdr(struct tdx_module *m, uint64_t tdr_pa, uint32_t operand, bool exclusive,
			 struct pamt_lock *l, struct tdr **tdr);
uint64_t td_hkid_pa(const struct tdx_module *m, uint64_t pa, unsigned hkid);

/* td_lock_map_tdr() then td_check_state() for leaf: the usual start of a TD leaf. On failure
 * nothing stays locked (unlocking l again is harmless). */
uint64_t td_open(struct tdx_module *m, uint64_t tdr_pa, uint32_t operand, bool exclusive, uint32_t leaf,
		 struct pamt_lock *l, struct tdr **tdr, struct tdcs **tdcs);
/* check_state_map_tdcs: fatal, keys configured, TDCS allocated, OP_STATE allowed for leaf. */
uint64_t td_check_state(struct tdx_module *m, struct tdr *tdr, uint32_t leaf, struct tdcs **tdcs);

/* Global KOT lock (try-only). */
bool kot_try_lock(struct tdx_module *m, bool exclusive);
void kot_unlock(struct tdx_module *m, bool exclusive);

#endif
