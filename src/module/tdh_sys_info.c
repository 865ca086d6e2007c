/* TDH.SYS.INFO (leaf 32): the legacy enumeration, TDSYSINFO_STRUCT plus the CMR table. */
#include <string.h>

#include "module_internal.h"

#define TDSYSINFO_ALIGN 1024u
#define CMR_INFO_ARRAY_SIZE (MAX_CMR * CMR_INFO_SIZE)

static void fill_sysinfo(const struct tdx_module *m, struct td_sys_info *si)
{
	memset(si, 0, sizeof(*si));
	si->attributes = 0; /* bit 31 would mark a debug module */
	si->vendor_id = (uint32_t)module_sys_const(m, MD_SYS_FIELDS_VENDOR_ID_IDX);
	si->build_date = (uint32_t)module_sys_const(m, MD_SYS_FIELDS_BUILD_DATE_IDX);
	si->build_num = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_BUILD_NUM_IDX);
	si->minor_version = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_MINOR_VERSION_IDX);
	si->major_version = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_MAJOR_VERSION_IDX);
	si->sys_rd = 1;
	si->max_tdmrs = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_MAX_TDMRS_IDX);
	si->max_reserved_per_tdmr = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_MAX_RESERVED_PER_TDMR_IDX);
	si->pamt_entry_size = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_PAMT_4K_ENTRY_SIZE_IDX);
	si->tdcs_base_size = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_TDCS_BASE_SIZE_IDX);
	si->tdvps_base_size = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_TDVPS_BASE_SIZE_IDX);
	si->attributes_fixed0 = module_sys_const(m, MD_SYS_FIELDS_ATTRIBUTES_FIXED0_IDX);
	si->attributes_fixed1 = module_sys_const(m, MD_SYS_FIELDS_ATTRIBUTES_FIXED1_IDX);
	si->xfam_fixed0 = module_xfam_fixed0(m);
	si->xfam_fixed1 = module_sys_const(m, MD_SYS_FIELDS_XFAM_FIXED1_IDX);
	/* TDSYSINFO_STRUCT has room for the 1.5.01 count only; later profiles list the first ones. */
	si->num_cpuid_config = module_cpuid_tables(m)->num_config < TDSYSINFO_MAX_CPUID_CONFIG
				       ? module_cpuid_tables(m)->num_config : TDSYSINFO_MAX_CPUID_CONFIG;
	for (unsigned i = 0; i < si->num_cpuid_config; i++) {
		struct cpuid_regs v = module_cpuid_config_reported(m, i);
		si->cpuid_config_list[i] = (struct cpuid_config_entry){
			module_cpuid_tables(m)->configurable[i].leaf, module_cpuid_tables(m)->configurable[i].subleaf, v.eax, v.ebx, v.ecx, v.edx };
	}
}

uint64_t tdh_sys_info(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t info_pa = regs->r[TDX_REG_RCX], info_size = regs->r[TDX_REG_RDX];
	uint64_t cmr_pa = regs->r[TDX_REG_R8], cmr_num = regs->r[TDX_REG_R9];
	struct cmr_info_entry cmrs[MAX_CMR];
	struct td_sys_info si;
	static const uint8_t zero[TDSYSINFO_STRUCT_SIZE];

	regs->r[TDX_REG_RDX] = regs->r[TDX_REG_R9] = 0;
	if (!atomic_load(&m->lp[lp].is_init))
		return TDX_SYS_LP_INIT_NOT_DONE;
	if (!module_is_shared_hpa(m, info_pa, TDSYSINFO_STRUCT_SIZE, TDSYSINFO_ALIGN))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	if (info_size < TDSYSINFO_STRUCT_SIZE)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	/* The real module clears the buffer before looking at the CMR operands. */
	if (plat_seam_write_shared(m->plat, info_pa, zero, sizeof(zero)))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	if (!module_is_shared_hpa(m, cmr_pa, CMR_INFO_ARRAY_SIZE, CMR_INFO_ARRAY_SIZE))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);
	if (cmr_num < MAX_CMR)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R9);
	if (!plat_pa_is_backed(m->plat, cmr_pa & plat_pa_mask(m->plat), CMR_INFO_ARRAY_SIZE))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_R8);

	/* Nothing can fail past this point. */
	fill_sysinfo(m, &si);
	for (unsigned i = 0; i < MAX_CMR; i++)
		cmrs[i] = (struct cmr_info_entry){ m->sysinfo.cmr[i].base, m->sysinfo.cmr[i].size };
	plat_seam_write_shared(m->plat, info_pa, &si, sizeof(si));
	plat_seam_write_shared(m->plat, cmr_pa, cmrs, sizeof(cmrs));
	regs->r[TDX_REG_RDX] = TDSYSINFO_STRUCT_SIZE;
	regs->r[TDX_REG_R9] = MAX_CMR;
	return TDX_SUCCESS;
}
