/* TDG.MR.RTMR.EXTEND (leaf 2): RTMR[RDX] := SHA-384(RTMR[RDX] || the 48 bytes at private GPA
 * RCX). Checks in the real module's order: RCX alignment, the RCX page (private only; an
 * unmapped page is an EPT-violation TD exit), the index, then TDCS.RTMR_LOCK (exclusive; a
 * concurrent extend or report on another vCPU makes it TDX_OPERAND_BUSY + RTMR). */
#include <string.h>

#include "measure.h"
#include "td_guest.h"

uint64_t tdg_mr_rtmr_extend(struct td_guest *g)
{
	uint64_t gpa = g->regs->gpr[GPR_RCX], idx = g->regs->gpr[GPR_RDX], ret;
	uint8_t data[TD_MR_SIZE];
	void *src;

	if (gpa & (TDG_MR_RTMR_EXTEND_RCX_ALIGN - 1))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	ret = td_guest_map_gpa(g, gpa, sizeof(data), OPERAND_ID_RCX, &src);
	if (ret)
		return ret;
	/* A private copy: other vCPUs of the TD may write the page while we hash. */
	memcpy(data, src, sizeof(data));
	if (idx >= TD_NUM_RTMRS)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	if (!sharex_try_exclusive(&g->tdcs->rtmr_lock))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RTMR);

	/* Nothing can fail past this point. */
	td_rtmr_extend(g->tdcs, (unsigned)idx, data);
	sharex_release_exclusive(&g->tdcs->rtmr_lock);
	return TDX_SUCCESS;
}
