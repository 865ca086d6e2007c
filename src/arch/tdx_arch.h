/* Hardware/ABI-defined layouts shared by both sides of the SEAMCALL boundary. Every size and
 * offset is asserted against the values generated from data/abi/structures.json. */
#ifndef TDX_ARCH_H
#define TDX_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "abi_metadata.h"
#include "abi_structs.h"

#define ABI_ASSERT_SIZE(type, NAME) \
	_Static_assert(sizeof(type) == NAME##_SIZE, #type " size")
#define ABI_ASSERT_OFF(type, member, NAME, FIELD) \
	_Static_assert(offsetof(type, member) == NAME##_OFF_##FIELD, #type "." #member " offset")

/* RAX of SEAMCALL: LEAF_AND_VERSION. */
#define LEAF_SHIFT 0
#define LEAF_WIDTH 16
#define LEAF_MASK UINT64_C(0xFFFF)
#define VERSION_SHIFT 16
#define VERSION_WIDTH 8
#define VERSION_MASK (UINT64_C(0xFF) << VERSION_SHIFT)
#define LEAF_RESERVED_MASK (~(LEAF_MASK | VERSION_MASK))

/* HKID operand: bits 15:0, the rest reserved. */
#define HKID_MASK UINT64_C(0xFFFF)
#define HKID_RESERVED_MASK (~HKID_MASK)

struct cmr_info_entry {
	uint64_t cmr_base;
	uint64_t cmr_size;
};
ABI_ASSERT_SIZE(struct cmr_info_entry, CMR_INFO);
ABI_ASSERT_OFF(struct cmr_info_entry, cmr_base, CMR_INFO, CMR_BASE);
ABI_ASSERT_OFF(struct cmr_info_entry, cmr_size, CMR_INFO, CMR_SIZE);

#define TDMR_MAX_RESERVED ((TDMR_INFO_SIZE - TDMR_INFO_OFF_RSVD_AREA_0_OFFSET) / 16)
#define TDMR_MAX ((unsigned)MD_SYS_ABI_VALUE_MAX_TDMRS)

struct tdmr_rsvd_area {
	uint64_t offset;
	uint64_t size;
};

struct tdmr_info_entry {
	uint64_t tdmr_base;
	uint64_t tdmr_size;
	uint64_t pamt_1g_base;
	uint64_t pamt_1g_size;
	uint64_t pamt_2m_base;
	uint64_t pamt_2m_size;
	uint64_t pamt_4k_base;
	uint64_t pamt_4k_size;
	struct tdmr_rsvd_area rsvd[TDMR_MAX_RESERVED];
};
ABI_ASSERT_SIZE(struct tdmr_info_entry, TDMR_INFO);
ABI_ASSERT_OFF(struct tdmr_info_entry, tdmr_base, TDMR_INFO, TDMR_BASE);
ABI_ASSERT_OFF(struct tdmr_info_entry, tdmr_size, TDMR_INFO, TDMR_SIZE);
ABI_ASSERT_OFF(struct tdmr_info_entry, pamt_1g_base, TDMR_INFO, PAMT_1G_BASE);
ABI_ASSERT_OFF(struct tdmr_info_entry, pamt_1g_size, TDMR_INFO, PAMT_1G_SIZE);
ABI_ASSERT_OFF(struct tdmr_info_entry, pamt_2m_base, TDMR_INFO, PAMT_2M_BASE);
ABI_ASSERT_OFF(struct tdmr_info_entry, pamt_2m_size, TDMR_INFO, PAMT_2M_SIZE);
ABI_ASSERT_OFF(struct tdmr_info_entry, pamt_4k_base, TDMR_INFO, PAMT_4K_BASE);
ABI_ASSERT_OFF(struct tdmr_info_entry, pamt_4k_size, TDMR_INFO, PAMT_4K_SIZE);
ABI_ASSERT_OFF(struct tdmr_info_entry, rsvd[0].offset, TDMR_INFO, RSVD_AREA_0_OFFSET);
ABI_ASSERT_OFF(struct tdmr_info_entry, rsvd[0].size, TDMR_INFO, RSVD_AREA_0_SIZE);
ABI_ASSERT_OFF(struct tdmr_info_entry, rsvd[15].offset, TDMR_INFO, RSVD_AREA_15_OFFSET);
ABI_ASSERT_OFF(struct tdmr_info_entry, rsvd[15].size, TDMR_INFO, RSVD_AREA_15_SIZE);

/* CPUID_CONFIG entry of TDSYSINFO_STRUCT. */
struct cpuid_config_entry {
	uint32_t leaf;
	uint32_t sub_leaf;
	uint32_t eax, ebx, ecx, edx;
};
ABI_ASSERT_SIZE(struct cpuid_config_entry, CPUID_CONFIG);
ABI_ASSERT_OFF(struct cpuid_config_entry, leaf, CPUID_CONFIG, LEAF);
ABI_ASSERT_OFF(struct cpuid_config_entry, sub_leaf, CPUID_CONFIG, SUB_LEAF);
ABI_ASSERT_OFF(struct cpuid_config_entry, eax, CPUID_CONFIG, EAX);
ABI_ASSERT_OFF(struct cpuid_config_entry, ebx, CPUID_CONFIG, EBX);
ABI_ASSERT_OFF(struct cpuid_config_entry, ecx, CPUID_CONFIG, ECX);
ABI_ASSERT_OFF(struct cpuid_config_entry, edx, CPUID_CONFIG, EDX);

#define TDSYSINFO_MAX_CPUID_CONFIG (TDSYSINFO_STRUCT_SZ_CPUID_CONFIG_LIST / CPUID_CONFIG_SIZE)

struct __attribute__((packed)) td_sys_info {
	uint32_t attributes;
	uint32_t vendor_id;
	uint32_t build_date;
	uint16_t build_num;
	uint16_t minor_version;
	uint16_t major_version;
	uint8_t sys_rd;
	uint8_t reserved_0[13];
	uint16_t max_tdmrs;
	uint16_t max_reserved_per_tdmr;
	uint16_t pamt_entry_size;
	uint8_t reserved_1[10];
	uint16_t tdcs_base_size;
	uint8_t reserved_2[2];
	uint16_t tdvps_base_size;
	uint8_t tdvps_xfam_dependent_size;
	uint8_t reserved_3[9];
	uint64_t attributes_fixed0;
	uint64_t attributes_fixed1;
	uint64_t xfam_fixed0;
	uint64_t xfam_fixed1;
	uint8_t reserved_4[32];
	uint32_t num_cpuid_config;
	struct cpuid_config_entry cpuid_config_list[TDSYSINFO_MAX_CPUID_CONFIG];
	uint8_t reserved_5[TDSYSINFO_STRUCT_SZ_RESERVED_5];
};
ABI_ASSERT_SIZE(struct td_sys_info, TDSYSINFO_STRUCT);
ABI_ASSERT_OFF(struct td_sys_info, attributes, TDSYSINFO_STRUCT, ATTRIBUTES);
ABI_ASSERT_OFF(struct td_sys_info, vendor_id, TDSYSINFO_STRUCT, VENDOR_ID);
ABI_ASSERT_OFF(struct td_sys_info, build_date, TDSYSINFO_STRUCT, BUILD_DATE);
ABI_ASSERT_OFF(struct td_sys_info, build_num, TDSYSINFO_STRUCT, BUILD_NUM);
ABI_ASSERT_OFF(struct td_sys_info, minor_version, TDSYSINFO_STRUCT, MINOR_VERSION);
ABI_ASSERT_OFF(struct td_sys_info, major_version, TDSYSINFO_STRUCT, MAJOR_VERSION);
ABI_ASSERT_OFF(struct td_sys_info, sys_rd, TDSYSINFO_STRUCT, SYS_RD);
ABI_ASSERT_OFF(struct td_sys_info, reserved_0, TDSYSINFO_STRUCT, RESERVED_0);
ABI_ASSERT_OFF(struct td_sys_info, max_tdmrs, TDSYSINFO_STRUCT, MAX_TDMRS);
ABI_ASSERT_OFF(struct td_sys_info, max_reserved_per_tdmr, TDSYSINFO_STRUCT, MAX_RESERVED_PER_TDMR);
ABI_ASSERT_OFF(struct td_sys_info, pamt_entry_size, TDSYSINFO_STRUCT, PAMT_ENTRY_SIZE);
ABI_ASSERT_OFF(struct td_sys_info, reserved_1, TDSYSINFO_STRUCT, RESERVED_1);
ABI_ASSERT_OFF(struct td_sys_info, tdcs_base_size, TDSYSINFO_STRUCT, TDCS_BASE_SIZE);
ABI_ASSERT_OFF(struct td_sys_info, reserved_2, TDSYSINFO_STRUCT, RESERVED_2);
ABI_ASSERT_OFF(struct td_sys_info, tdvps_base_size, TDSYSINFO_STRUCT, TDVPS_BASE_SIZE);
ABI_ASSERT_OFF(struct td_sys_info, tdvps_xfam_dependent_size, TDSYSINFO_STRUCT, TDVPS_XFAM_DEPENDENT_SIZE);
ABI_ASSERT_OFF(struct td_sys_info, reserved_3, TDSYSINFO_STRUCT, RESERVED_3);
ABI_ASSERT_OFF(struct td_sys_info, attributes_fixed0, TDSYSINFO_STRUCT, ATTRIBUTES_FIXED0);
ABI_ASSERT_OFF(struct td_sys_info, attributes_fixed1, TDSYSINFO_STRUCT, ATTRIBUTES_FIXED1);
ABI_ASSERT_OFF(struct td_sys_info, xfam_fixed0, TDSYSINFO_STRUCT, XFAM_FIXED0);
ABI_ASSERT_OFF(struct td_sys_info, xfam_fixed1, TDSYSINFO_STRUCT, XFAM_FIXED1);
ABI_ASSERT_OFF(struct td_sys_info, reserved_4, TDSYSINFO_STRUCT, RESERVED_4);
ABI_ASSERT_OFF(struct td_sys_info, num_cpuid_config, TDSYSINFO_STRUCT, NUM_CPUID_CONFIG);
ABI_ASSERT_OFF(struct td_sys_info, cpuid_config_list, TDSYSINFO_STRUCT, CPUID_CONFIG_LIST);
ABI_ASSERT_OFF(struct td_sys_info, reserved_5, TDSYSINFO_STRUCT, RESERVED_5);

/* PAMT entry: 16 bytes in simulated memory, accessed with the global private KeyID.
 * Qword 0: ENTRY_LOCK 15:0, PT 23:16, OWNER (TDR PA bits 51:12) 63:24; qword 1: BEPOCH. */
struct pamt_entry {
	uint16_t entry_lock;
	uint8_t pt;
	uint8_t owner[5];
	uint64_t bepoch;
};
ABI_ASSERT_SIZE(struct pamt_entry, PAMT_ENTRY);
ABI_ASSERT_OFF(struct pamt_entry, entry_lock, PAMT_ENTRY, ENTRY_LOCK);
ABI_ASSERT_OFF(struct pamt_entry, pt, PAMT_ENTRY, PT);
ABI_ASSERT_OFF(struct pamt_entry, owner, PAMT_ENTRY, OWNER);
ABI_ASSERT_OFF(struct pamt_entry, bepoch, PAMT_ENTRY, BEPOCH);

#define PAMT_OWNER_SHIFT 12

/* TD_PARAMS: the TD's configuration, input of TDH.MNG.INIT (1024 bytes, 1024-aligned). */
struct cpuid_config_vals {
	uint32_t eax, ebx, ecx, edx;
};
ABI_ASSERT_SIZE(struct cpuid_config_vals, CPUID_CONFIG_VALS);

#define TD_PARAMS_MAX_CPUID_CONFIG (TD_PARAMS_SZ_CPUID_CONFIG_VALS / CPUID_CONFIG_VALS_SIZE)

struct __attribute__((packed)) td_params {
	uint64_t attributes;
	uint64_t xfam;
	uint16_t max_vcpus;
	uint8_t num_l2_vms;
	uint8_t msr_config_ctls;
	uint8_t reserved_0[TD_PARAMS_SZ_RESERVED_0];
	uint64_t eptp_controls;
	uint64_t config_flags;
	uint16_t tsc_frequency;
	uint8_t reserved_1[TD_PARAMS_SZ_RESERVED_1];
	uint64_t mr_config_id[6];
	uint64_t mr_owner[6];
	uint64_t mr_owner_config[6];
	uint64_t ia32_arch_capabilities_config;
	uint8_t reserved_2[TD_PARAMS_SZ_RESERVED_2];
	struct cpuid_config_vals cpuid_config_vals[TD_PARAMS_MAX_CPUID_CONFIG];
	uint8_t reserved_3[TD_PARAMS_SZ_RESERVED_3];
};
ABI_ASSERT_SIZE(struct td_params, TD_PARAMS);
ABI_ASSERT_OFF(struct td_params, attributes, TD_PARAMS, ATTRIBUTES);
ABI_ASSERT_OFF(struct td_params, xfam, TD_PARAMS, XFAM);
ABI_ASSERT_OFF(struct td_params, max_vcpus, TD_PARAMS, MAX_VCPUS);
ABI_ASSERT_OFF(struct td_params, num_l2_vms, TD_PARAMS, NUM_L2_VMS);
ABI_ASSERT_OFF(struct td_params, msr_config_ctls, TD_PARAMS, MSR_CONFIG_CTLS);
ABI_ASSERT_OFF(struct td_params, reserved_0, TD_PARAMS, RESERVED_0);
ABI_ASSERT_OFF(struct td_params, eptp_controls, TD_PARAMS, EPTP_CONTROLS);
ABI_ASSERT_OFF(struct td_params, config_flags, TD_PARAMS, CONFIG_FLAGS);
ABI_ASSERT_OFF(struct td_params, tsc_frequency, TD_PARAMS, TSC_FREQUENCY);
ABI_ASSERT_OFF(struct td_params, reserved_1, TD_PARAMS, RESERVED_1);
ABI_ASSERT_OFF(struct td_params, mr_config_id, TD_PARAMS, MR_CONFIG_ID);
ABI_ASSERT_OFF(struct td_params, mr_owner, TD_PARAMS, MR_OWNER);
ABI_ASSERT_OFF(struct td_params, mr_owner_config, TD_PARAMS, MR_OWNER_CONFIG);
ABI_ASSERT_OFF(struct td_params, ia32_arch_capabilities_config, TD_PARAMS, IA32_ARCH_CAPABILITIES_CONFIG);
ABI_ASSERT_OFF(struct td_params, reserved_2, TD_PARAMS, RESERVED_2);
ABI_ASSERT_OFF(struct td_params, cpuid_config_vals, TD_PARAMS, CPUID_CONFIG_VALS);
ABI_ASSERT_OFF(struct td_params, reserved_3, TD_PARAMS, RESERVED_3);

#endif
