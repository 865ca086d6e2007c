/* TDG.SYS.RD (leaf 11): the TD reads one element of the module's global metadata, the
 * fields with a guest read mask only (version, TDX_FEATURES0, SYS_ATTRIBUTES, migration
 * versions...); RDX returns the next guest-readable field id, and the null field id gives
 * the first one (TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT). metadata_sys.c does the work, as
 * for TDH.SYS.RD. */
#include "metadata.h"
#include "td_guest.h"

uint64_t tdg_sys_rd(struct td_guest *g)
{
	uint64_t *gpr = g->regs->gpr;
	uint64_t value, next, ret = md_sys_read_as(g->m, MD_ACCESSOR_GUEST, gpr[GPR_RDX], &value, &next);

	/* md_sys_read_as leaves value 0 and next null on failure, as the outputs must be. */
	gpr[GPR_R8] = value;
	gpr[GPR_RDX] = next;
	return ret;
}
