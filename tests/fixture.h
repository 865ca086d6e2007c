/* Test fixtures: a small simulated machine with the module installed. */
#ifndef FIXTURE_H
#define FIXTURE_H

#include "abi_leaves.h"
#include "abi_metadata.h"
#include "abi_status.h"
#include "module/module.h"
#include "tdx_arch.h"
#include "test.h"
#include "vmm/sim.h"
#include "kvm/kvm.h"

struct fx {
	struct sim s;
	struct tdx_host *h;
	struct plat *p;
};

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

/* 2 packages x 2 LPs, 4 GiB of RAM (3 TDMRs), module tdx-1.5.01; no SEAMCALL made yet. */
bool fx_create(struct fx *f);
bool fx_create_cfg(struct fx *f, const struct plat_config *cfg);
/* The same with a named module profile (tdx-1.5.01, tdx-1.5.06, ...). */
bool fx_create_profile(struct fx *f, const char *profile);
bool fx_create_profile_cfg(struct fx *f, const struct plat_config *cfg, const char *profile);
void fx_destroy(struct fx *f);
void fx_small_config(struct plat_config *cfg);
/* Raw SEAMCALL on an LP (VMX is switched on for it). */
uint64_t fx_call(struct fx *f, unsigned lp, uint64_t rax, uint64_t rcx, uint64_t rdx, uint64_t r8, uint64_t r9,
		 struct tdx_regs *out);
/* TDH.SYS.INIT on LP 0, then TDH.SYS.LP.INIT on every LP. */
bool fx_sys_and_lp_init(struct fx *f);
/* Read metadata and build the host's TDMR list and PAMTs (writes TDMR_INFOs to memory). */
bool fx_build_tdmrs(struct fx *f);
/* Write an array of TDMR_INFO pointers into host memory; returns its PA. */
uint64_t fx_tdmr_array(struct fx *f, const struct tdmr_info_entry *infos, unsigned n);
/* Host's TDMR i as a TDMR_INFO. */
void fx_tdmr_info(struct fx *f, unsigned i, struct tdmr_info_entry *e);
/* TDH.SYS.CONFIG with the host's TDMRs (already built); returns the status. */
uint64_t fx_config(struct fx *f);
/* Init, LP init, TDMRs built and TDH.SYS.CONFIG done (state SYSCONFIG_DONE). */
bool fx_configured(struct fx *f);
/* Everything up to SYS_READY (init, LP init, CONFIG, KEY.CONFIG on every package). */
bool fx_ready(struct fx *f);
/* Full bring-up through the host's tdx_enable(). */
bool fx_bringup(struct fx *f);

/* A TD under construction: TDR, TDCS pages, its HKID. */
struct fx_td {
	uint64_t tdr;
	uint64_t tdcx[9];
	unsigned nr_tdcx;
	unsigned hkid;
};
/* A free 4 KiB page of TDX memory (host allocator, inside a TDMR). */
uint64_t fx_page(struct fx *f);
/* TDH.MNG.CREATE with the next free HKID, KEY.CONFIG on every package, ADDCX x6. Needs SYS_READY
 * and a fully initialised TDMR for the pages (fx_bringup). */
bool fx_td_create(struct fx *f, struct fx_td *td);
/* A valid default TD_PARAMS: no attributes, XFAM x87|SSE, 4-level EPT (GPAW 48), 8 vCPUs,
 * TSC 2.5 GHz, every configurable CPUID bit left 0. */
void fx_td_params_default(struct td_params *p);
/* Write TD_PARAMS to host memory and run TDH.MNG.INIT; returns the status. */
uint64_t fx_td_init(struct fx *f, struct fx_td *td, const struct td_params *p, struct tdx_module_args *out);
/* The whole teardown: VPFLUSHDONE, CACHE.WB per package, KEY.FREEID, RECLAIM of every page. */
bool fx_td_destroy(struct fx *f, struct fx_td *td);

/* TDH.VP.CREATE + every TDVPX page + TDH.VP.INIT on LP 0, then TDH.VP.FLUSH: a vCPU that
 * teardown can forget. pages[] gets the TDVPR then the TDVPX pages added (0 = not added). */
bool fx_vcpu_ready(struct fx *f, uint64_t tdr, uint64_t pages[MIN_TDVPS_PAGES]);

/* A TD (brought-up host, created, TDH.MNG.INIT with the default TD_PARAMS) with one vCPU
 * initialised on LP 0 and still associated with it; finalized (RUNNABLE) if asked. */
struct fx_td1 {
	struct fx_td td;
	uint64_t vp[MIN_TDVPS_PAGES];
	uint64_t extra[128]; /* SEPT and guest pages added by fx_td1_map(), reclaimed by fx_td1_down() */
	unsigned nr_extra;
};

bool fx_td1_up(struct fx *f, struct fx_td1 *t, bool finalize);
/* The same with the given TD_PARAMS (host bring-up included; initial RCX 0x7000). */
bool fx_td1_up_params(struct fx *f, struct fx_td1 *t, const struct td_params *p, bool finalize);
/* Map a 4 KiB private page at gpa (SEPT pages added as needed): before TDH.MR.FINALIZE with
 * TDH.MEM.PAGE.ADD of `content` (4 KiB, NULL = zeros; MAPPED), after it with TDH.MEM.PAGE.AUG
 * (PENDING until the guest accepts it). Returns the status of the failing call or 0. */
uint64_t fx_td1_map(struct fx *f, struct fx_td1 *t, uint64_t gpa, const void *content);

/* The guest of t's vCPU executes one TDCALL with the GPRs in io (RAX = leaf | version << 16);
 * io gets the guest GPRs after it (RAX = the status). The guest then exits with a
 * TDG.VP.VMCALL. Returns TDH.VP.ENTER's status (the TDCALL exit reason when all went well).
 * Installs its own guest engine on the platform. */
uint64_t fx_tdcall(struct fx *f, struct fx_td1 *t, struct plat_guest_regs *io);

/* The LP register or MSR a TD-exit table item names (an MSR the LP never held reads 0). */
struct td_exit_state_item;
uint64_t fx_lp_get(struct plat *p, unsigned lp, const struct td_exit_state_item *it);
void fx_lp_set(struct plat *p, unsigned lp, const struct td_exit_state_item *it, uint64_t v);
/* Flush, free the HKID, reclaim the vCPU pages (and `extra`, 0 for none), then the TD. */
bool fx_td1_down(struct fx *f, struct fx_td1 *t, uint64_t extra);

/* ---- the KVM API over a brought-up host (tests/test_kvm_*.c) ---------------------- */
struct fx_kvm {
	struct fx f;
	struct kvm_dev *d;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};
/* fx_create + fx_bringup, /dev/kvm opened, one KVM_X86_TDX_VM created (not initialised). */
bool fx_kvm_up(struct fx_kvm *k);
/* KVM_TDX_INIT_VM arguments: XFAM x87|SSE, no attributes, one CPUID entry 0x80000008 with
 * GPAW 48; room for `extra` more entries after it. free() it. */
struct kvm_tdx_init_vm *fx_kvm_init_vm_args(unsigned extra);
/* INIT_VM with fx_kvm_init_vm_args(0), vCPU 0 created and KVM_TDX_INIT_VCPU'd. */
bool fx_kvm_init(struct fx_kvm *k);
/* Slot `slot` with guest_memfd backing over [gpa, gpa + size), all of it private. */
bool fx_kvm_private_slot(struct fx_kvm *k, unsigned slot, uint64_t gpa, uint64_t size);
/* Destroy the VM (if any), close /dev/kvm, destroy the host. */
void fx_kvm_down(struct fx_kvm *k);

/* Debian's OVMF (/usr/share/ovmf/OVMF.fd), read once and kept for the whole run; NULL when
 * the package is not installed (the callers then skip). */
const uint8_t *fx_ovmf_image(size_t *size);

#endif
