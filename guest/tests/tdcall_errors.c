/* TDCALL error paths: each leaf's operand checks answer in the guest with the architectural
 * completion status (and operand id) from abi_status.h, and the TD keeps running. */
#include "gtest.h"

#define GPR(r) (1ull << (r))
#define UNKNOWN_LEAF 0x7Fu
#define ACCEPT_GPA 0x4000000ull       /* 64 MiB: RAM the HOB lists as unaccepted */
#define HOB_2M_PAGE 0x800000ull       /* the TD HOB/TempMem 2 MiB page: added at 4 KiB */
#define PAGE_INFO_RESERVED_BIT 0x8ull /* bits 11:3 of PAGE_INFO are reserved */
#define BOGUS_FIELD_ID 0x9FFF00000000FFFFull

static uint8_t report[TDREPORT_STRUCT_SIZE + 1024] __attribute__((aligned(1024)));
static uint8_t reportdata[64 + 64] __attribute__((aligned(64)));

static uint64_t tdcall(uint64_t rax, uint64_t rcx, uint64_t rdx)
{
	struct td_regs r = { .rax = rax, .rcx = rcx, .rdx = rdx };

	td_tdcall(&r);
	return r.rax;
}

static void case_unknown_leaf(void)
{
	gt_case("unknown_leaf");
	gt_status("TDCALL leaf 0x7f", tdcall(UNKNOWN_LEAF, 0, 0), TDX_OPERAND_INVALID | OPERAND_ID_RAX);
	gt_case_end();
}

static void case_accept(void)
{
	gt_case("accept_misaligned");
	gt_status("ACCEPT 2M at a 4K-aligned GPA",
		  td_accept_page(ACCEPT_GPA + TD_PAGE_4K, TD_ACCEPT_LEVEL_2M), TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_case_end();

	gt_case("accept_shared_gpa");
	gt_status("ACCEPT of GPA | shared bit", td_accept_page(ACCEPT_GPA | td_shared_bit, TD_ACCEPT_LEVEL_4K),
		  TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_case_end();

	gt_case("accept_reserved_bits");
	gt_status("ACCEPT with PAGE_INFO bit 3 set",
		  tdcall(TDG_MEM_PAGE_ACCEPT_LEAF, ACCEPT_GPA | PAGE_INFO_RESERVED_BIT, 0),
		  TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_status("ACCEPT with level 3", tdcall(TDG_MEM_PAGE_ACCEPT_LEAF, ACCEPT_GPA | 3, 0),
		  TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_case_end();

	gt_case("accept_size_mismatch");
	gt_status("ACCEPT 2M of the 4K-mapped HOB page", td_accept_page(HOB_2M_PAGE, TD_ACCEPT_LEVEL_2M),
		  TDX_PAGE_SIZE_MISMATCH | TD_ACCEPT_LEVEL_2M);
	gt_case_end();
}

static void case_vmcall_gpr_select(void)
{
	gt_case("vmcall_bad_gpr_select");
	gt_status("TDG.VP.VMCALL selecting RSP", tdcall(TDG_VP_VMCALL_LEAF, GPR(TD_RSP) | GPR(TD_R11), 0),
		  TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_status("TDG.VP.VMCALL selecting RAX", tdcall(TDG_VP_VMCALL_LEAF, GPR(TD_RAX) | GPR(TD_R11), 0),
		  TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_status("TDG.VP.VMCALL selecting RCX", tdcall(TDG_VP_VMCALL_LEAF, GPR(TD_RCX) | GPR(TD_R11), 0),
		  TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_case_end();
}

static void case_vm_rd(void)
{
	uint64_t st = tdcall(TDG_VM_RD_LEAF, 0, BOGUS_FIELD_ID);

	gt_case("vm_rd_unknown_field");
	gt_check(td_status_class(st) == TDX_METADATA_FIELD_ID_INCORRECT,
		 "TDG.VM.RD of field %#llx: status %#lx, want class %#llx", BOGUS_FIELD_ID, st,
		 (unsigned long long)TDX_METADATA_FIELD_ID_INCORRECT);
	gt_case_end();
}

static void case_mr_report(void)
{
	gt_case("mr_report_misaligned");
	gt_status("TDG.MR.REPORT, TDREPORT buffer 64-byte aligned only",
		  tdcall(TDG_MR_REPORT_LEAF, (uintptr_t)report + 64, (uintptr_t)reportdata), TDX_OPERAND_INVALID | OPERAND_ID_RCX);
	gt_status("TDG.MR.REPORT, REPORTDATA 8-byte aligned only",
		  tdcall(TDG_MR_REPORT_LEAF, (uintptr_t)report, (uintptr_t)reportdata + 8), TDX_OPERAND_INVALID | OPERAND_ID_RDX);
	/* The same call with aligned buffers works: the errors were about alignment. */
	gt_status("TDG.MR.REPORT, aligned", tdcall(TDG_MR_REPORT_LEAF, (uintptr_t)report, (uintptr_t)reportdata), TDX_SUCCESS);
	gt_case_end();
}

/* TDG.VP.INFO of a 1-vCPU TD: QEMU set KVM_CAP_MAX_VCPUS to -smp's count (not the host's). */
static void case_vp_info_counts(const struct td_info *info)
{
	gt_case("vp_info_counts");
	gt_check(info->num_vcpus == 1, "NUM_VCPUS %u, want 1 (-smp 1)", info->num_vcpus);
	gt_check(info->max_vcpus == 1, "MAX_VCPUS %u, want 1 (-smp 1)", info->max_vcpus);
	gt_case_end();
}

TD_NORETURN void td_main(const struct td_boot *b)
{
	struct td_info info;

	gt_start_paged("tdcall_errors", b, &info);
	case_vp_info_counts(&info);
	case_unknown_leaf();
	case_accept();
	case_vmcall_gpr_select();
	case_vm_rd();
	case_mr_report();
	gt_finish();
}
