/* TDG.MR.REPORT (leaf 4): write a TDREPORT_STRUCT to GPA RCX for the 64 bytes of REPORTDATA
 * at GPA RDX (R8 = report subtype). Order of the real module: RCX and RDX alignment, the
 * REPORTDATA page, the subtype, TDINFO under TDCS.RTMR_LOCK (shared), the REPORTMACSTRUCT,
 * then the output page, written last so a failure leaves guest memory untouched.
 *
 * Simulation: real hardware builds REPORTMACSTRUCT and TEE_TCB_INFO with SEAMOPS(SEAMDB_REPORT)
 * from CPU-held values and MACs it with a CPU key. Here CPUSVN and TEE_TCB_INFO come from the
 * module profile (data/profiles, seam_report) and the MAC is the platform's HMAC-SHA-256
 * (plat_report_mac). Not modelled: shared-GPA operands (the real module accepts shared GPAs
 * for RCX and RDX; the simulated TD has no shared EPT, so they are TDX_OPERAND_INVALID), the
 * pending-interrupt resumption point, and the cached TEE_INFO_HASH (an optimisation). */
#include <string.h>

#include "measure.h"
#include "td_guest.h"

/* REPORTTYPE, CPUSVN, both hashes and REPORTDATA, then the MAC over all of it. */
static bool build_reportmacstruct(struct td_guest *g, uint8_t *report, const uint8_t *reportdata)
{
	uint8_t *rms = report + TDREPORT_STRUCT_OFF_REPORTMACSTRUCT;
	uint8_t *type = rms + REPORTMACSTRUCT_OFF_REPORTTYPE;

	type[REPORTTYPE_OFF_TYPE] = TDX_REPORT_TYPE;
	type[REPORTTYPE_OFF_SUBTYPE] = TDX_REPORT_SUBTYPE;
	/* No service TD can be bound in this build (SERVTD_NUM is 0). */
	type[REPORTTYPE_OFF_VERSION] = TDX_REPORT_VERSION_NO_SERVTDS;
	memcpy(rms + REPORTMACSTRUCT_OFF_CPUSVN, g->m->profile->cpusvn, REPORTMACSTRUCT_SZ_CPUSVN);
	td_sha384(report + TDREPORT_STRUCT_OFF_TEE_TCB_INFO, TEE_TCB_INFO_SIZE,
		  rms + REPORTMACSTRUCT_OFF_TEE_TCB_INFO_HASH);
	td_sha384(report + TDREPORT_STRUCT_OFF_TDINFO, TDINFO_SIZE, rms + REPORTMACSTRUCT_OFF_TEE_INFO_HASH);
	memcpy(rms + REPORTMACSTRUCT_OFF_REPORTDATA, reportdata, REPORTMACSTRUCT_SZ_REPORTDATA);
	return td_reportmac_sign(g->m->plat, rms);
}

uint64_t tdg_mr_report(struct td_guest *g)
{
	uint64_t report_gpa = g->regs->gpr[GPR_RCX], data_gpa = g->regs->gpr[GPR_RDX];
	uint64_t subtype = g->regs->gpr[GPR_R8], ret;
	uint8_t report[TDREPORT_STRUCT_SIZE] = { 0 }, reportdata[REPORTDATA_SIZE];
	void *src, *dst;

	if (report_gpa & (TDG_MR_REPORT_RCX_ALIGN - 1))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	if (data_gpa & (TDG_MR_REPORT_RDX_ALIGN - 1))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	ret = td_guest_map_gpa(g, data_gpa, REPORTDATA_SIZE, OPERAND_ID_RDX, &src);
	if (ret)
		return ret;
	memcpy(reportdata, src, sizeof(reportdata));
	if (subtype != TDX_REPORT_SUBTYPE)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	if (!sharex_try_shared(&g->tdcs->rtmr_lock))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RTMR);
	td_tdinfo(g->tdcs, report + TDREPORT_STRUCT_OFF_TDINFO);
	sharex_release_shared(&g->tdcs->rtmr_lock);
	memcpy(report + TDREPORT_STRUCT_OFF_TEE_TCB_INFO, g->m->profile->tee_tcb_info, TEE_TCB_INFO_SIZE);
	if (!build_reportmacstruct(g, report, reportdata))
		return TDX_RND_NO_ENTROPY;
	ret = td_guest_map_gpa(g, report_gpa, sizeof(report), OPERAND_ID_RCX, &dst);
	if (ret)
		return ret;

	/* Nothing can fail past this point. */
	memcpy(dst, report, sizeof(report));
	return TDX_SUCCESS;
}
