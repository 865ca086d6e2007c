/* TDH.MEM.RD / TDH.MEM.WR: the host's 8-byte window into a debug TD's private memory. */
#ifndef MODULE_TD_DEBUG_MEM_H
#define MODULE_TD_DEBUG_MEM_H

#include "sept.h"

struct td_debug_mem {
	uint64_t tdr_pa, gpa;
	struct pamt_lock tdr_lock;
	struct tdr *tdr;
	struct tdcs *tdcs;
	bool tree_locked, entry_locked;
	struct sept_walk w;
	uint64_t *qword; /* the TD's qword at gpa, mapped with its key */
};

/* RCX = GPA, RDX = TDR: zero RCX/RDX/R8, then every check of the leaf in the real module's
 * order (TDR, state, DEBUG, alignment, tree lock, GPA, walk to a present leaf, entry lock,
 * entry state allowed for `leaf`) and map the qword. td_debug_mem_end() releases, whatever
 * the outcome. */
uint64_t td_debug_mem_begin(struct tdx_module *m, struct tdx_regs *regs, uint32_t leaf, struct td_debug_mem *a);
void td_debug_mem_end(struct td_debug_mem *a);

#endif
