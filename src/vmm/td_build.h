/* Building a TD on the software module the way KVM + QEMU do on a TDX host: create the TD,
 * configure its keys, add TDCS pages, TDH.MNG.INIT with TD_PARAMS, add the firmware's pages
 * (Secure EPT pages as needed, PAGE.ADD, MR.EXTEND), create and initialise vCPUs, finalize. */
#ifndef TD_BUILD_H
#define TD_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"
#include "tdx_arch.h"
#include "tdvf.h"

#define TD_BUILD_MAX_SEPT 4096

enum td_add_order {
	TD_ADD_PER_PAGE, /* PAGE.ADD then its 16 MR.EXTENDs, page by page (KVM 6.16+ / QEMU 10.1+) */
	TD_ADD_TWO_PASS, /* per section: all PAGE.ADDs, then all MR.EXTENDs (the QEMU 8.2 TDX trees) */
};

struct td_build {
	struct sim *sim;
	uint64_t tdr;
	unsigned hkid;
	uint64_t tdcx[9];
	unsigned nr_tdcx;
	uint64_t sept_key[TD_BUILD_MAX_SEPT]; /* (gpa of the mapped range | level) already added */
	unsigned nr_sept;
	uint64_t src_page; /* a shared host page used as PAGE.ADD source */
	uint64_t pages_added, extends, sept_pages;
	char err[256];
};

/* TDH.MNG.CREATE on a free HKID, KEY.CONFIG on every package, ADDCX, TDH.MNG.INIT. */
int td_build_create(struct td_build *b, struct sim *s, const struct td_params *params);
/* TDH.MEM.SEPT.ADD of every missing Secure EPT page above the 4 KiB leaf of gpa. */
int td_build_map_sept(struct td_build *b, uint64_t gpa);
/* Map, add and (if measure) extend one 4 KiB page of initial TD memory. */
int td_build_add_page(struct td_build *b, uint64_t gpa, const uint8_t data[4096], bool measure);
/* The same from a host page that already holds the data (PAGE.ADD's source operand). */
int td_build_add_page_from(struct td_build *b, uint64_t gpa, uint64_t src_pa, bool measure);
/* A section's bytes (the TD HOB for TD_HOB, zeros past its data) in host memory, as QEMU
 * holds the firmware: *src_pa, mem_size bytes, the source of the section's PAGE.ADDs. */
int td_build_load_section(struct td_build *b, const struct tdvf *t, const struct tdvf_section *s, const uint8_t *hob,
			  size_t hob_len, uint64_t *src_pa);
/* Only PAGE.ADD / only the 16 MR.EXTENDs of a page (two-pass order). */
int td_build_page_add_only(struct td_build *b, uint64_t gpa, const uint8_t data[4096]);
int td_build_extend_only(struct td_build *b, uint64_t gpa);
/* Every section of a TDVF image, in metadata order; the TD_HOB section carries `hob`. */
int td_build_add_tdvf(struct td_build *b, const struct tdvf *t, const uint8_t *hob, size_t hob_len,
		      enum td_add_order order);
/* TDH.VP.CREATE + ADDCX + INIT for n vCPUs with RCX = initial_rcx. */
int td_build_add_vcpus(struct td_build *b, unsigned n, uint64_t initial_rcx);
/* TDH.MR.FINALIZE, then MRTD read back with TDH.MNG.RD. */
int td_build_finalize(struct td_build *b, uint8_t mrtd[48]);

#endif
