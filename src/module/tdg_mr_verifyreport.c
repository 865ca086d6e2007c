/* TDG.MR.VERIFYREPORT (leaf 22): check that the REPORTMACSTRUCT at private GPA RCX was MAC'ed
 * on this platform (local attestation). The real module answers TDX_OPERAND_INVALID + RAX,
 * before looking at any operand, when the CPU lacks SEAMOPS(SEAMVERIFYREPORT); it reports that
 * capability as TDX_FEATURES0.LOCAL_ATTESTATION, so the simulated module takes it from the
 * TDX_FEATURES0 its profile reports (0 in tdx-1.5.01 and tdx-1.5.06: the leaf then always
 * fails that way, as on such hardware). When available: RCX alignment, the private page (an
 * unmapped page is an EPT-violation TD exit), then the simulated SEAMVERIFYREPORT: a CPUSVN
 * other than the simulated CPU's is TDX_INVALID_CPUSVN, a wrong MAC TDX_INVALID_REPORTMACSTRUCT. */
#include <string.h>

#include "measure.h"
#include "td_guest.h"

static bool local_attestation(const struct tdx_module *m)
{
	uint64_t features0 = module_sys_const(m, MD_SYS_FIELDS_TDX_FEATURES0_IDX);

	return (features0 >> MD_TDX_FEATURES0_LOCAL_ATTESTATION_BIT) & 1;
}

uint64_t tdg_mr_verifyreport(struct td_guest *g)
{
	uint64_t gpa = g->regs->gpr[GPR_RCX], ret;
	uint8_t rms[REPORTMACSTRUCT_SIZE];
	void *src;

	if (!local_attestation(g->m))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RAX);
	if (gpa & (TDG_MR_VERIFYREPORT_RCX_ALIGN - 1))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	ret = td_guest_map_gpa(g, gpa, sizeof(rms), OPERAND_ID_RCX, &src);
	if (ret)
		return ret;
	memcpy(rms, src, sizeof(rms));
	/* The simulated CPU has one SVN: a report made on it carries exactly that CPUSVN. */
	if (memcmp(rms + REPORTMACSTRUCT_OFF_CPUSVN, g->m->profile->cpusvn, REPORTMACSTRUCT_SZ_CPUSVN))
		return TDX_INVALID_CPUSVN;
	return td_reportmac_check(g->m->plat, rms);
}
