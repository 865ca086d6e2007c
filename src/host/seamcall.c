/* Typed SEAMCALL wrappers (one per leaf, Linux's names) and the status -> errno mapping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi_leaves.h"
#include "abi_status.h"
#include "host.h"

#define RDRAND_RETRY_LOOPS 10

/* Like Linux's sc_retry(): TDX_RND_NO_ENTROPY is retried, nothing else. */
static bool seamcall_retry(uint64_t ret, int *retries_left)
{
	return ret == TDX_RND_NO_ENTROPY && --*retries_left;
}

uint64_t tdx_seamcall(struct tdx_host *h, unsigned cpu, struct tdx_regs *regs)
{
	struct tdx_regs in = *regs;
	uint64_t ret;
	int retry = RDRAND_RETRY_LOOPS;

	do {
		*regs = in;
		ret = plat_seamcall(h->plat, cpu, regs);
	} while (seamcall_retry(ret, &retry));
	regs->r[TDX_REG_RAX] = ret;
	return ret;
}

/* The wrappers build each attempt's registers in place rather than copying a saved block
 * (tdx_seamcall()): a block copy right after field stores cannot be store-forwarded and
 * stalled every SEAMCALL of the TD build. */
static void args_to_regs(uint64_t leaf, const struct tdx_module_args *a, struct tdx_regs *r)
{
	/* Every register in order, the unused ones zero: no block clear (rep stos) first. */
	r->r[TDX_REG_RAX] = leaf;
	r->r[TDX_REG_RCX] = a->rcx;
	r->r[TDX_REG_RDX] = a->rdx;
	r->r[TDX_REG_RBX] = r->r[TDX_REG_RSP] = r->r[TDX_REG_RBP] = r->r[TDX_REG_RSI] = r->r[TDX_REG_RDI] = 0;
	r->r[TDX_REG_R8] = a->r8;
	r->r[TDX_REG_R9] = a->r9;
	r->r[TDX_REG_R10] = a->r10;
	r->r[TDX_REG_R11] = a->r11;
	r->r[TDX_REG_R12] = r->r[TDX_REG_R13] = r->r[TDX_REG_R14] = r->r[TDX_REG_R15] = 0;
}

static uint64_t call(struct tdx_host *h, unsigned cpu, uint64_t leaf, struct tdx_module_args *a)
{
	struct tdx_regs r;
	uint64_t ret;
	int retry = RDRAND_RETRY_LOOPS;

	do {
		args_to_regs(leaf, a, &r);
		ret = plat_seamcall(h->plat, cpu, &r);
	} while (seamcall_retry(ret, &retry));
	a->rcx = r.r[TDX_REG_RCX];
	a->rdx = r.r[TDX_REG_RDX];
	a->r8 = r.r[TDX_REG_R8];
	a->r9 = r.r[TDX_REG_R9];
	a->r10 = r.r[TDX_REG_R10];
	a->r11 = r.r[TDX_REG_R11];
	return ret;
}

uint64_t seamldr_info(struct tdx_host *h, unsigned cpu, struct seamldr_info *out)
{
	uint64_t pa = host_alloc_phys(h, sizeof(*out), SEAMLDR_INFO_ALIGN, 0);
	struct tdx_module_args a = { .rcx = pa };
	uint64_t ret;

	if (!pa)
		return TDX_SEAMCALL_GP;
	ret = call(h, cpu, SEAMLDR_INFO_LEAF, &a);
	if (!ret && plat_host_read(h->plat, pa, out, sizeof(*out)))
		return TDX_SEAMCALL_GP;
	return ret;
}

uint64_t tdh_sys_init(struct tdx_host *h, unsigned cpu)
{
	struct tdx_module_args a = { 0 };
	return call(h, cpu, TDH_SYS_INIT_LEAF, &a);
}

uint64_t tdh_sys_lp_init(struct tdx_host *h, unsigned cpu)
{
	struct tdx_module_args a = { 0 };
	return call(h, cpu, TDH_SYS_LP_INIT_LEAF, &a);
}

uint64_t tdh_sys_rd(struct tdx_host *h, unsigned cpu, uint64_t field_id, uint64_t *value, uint64_t *next)
{
	struct tdx_module_args a = { .rdx = field_id };
	uint64_t ret = call(h, cpu, TDH_SYS_RD_LEAF, &a);

	*value = a.r8;
	if (next)
		*next = a.rdx;
	return ret;
}

uint64_t tdh_sys_rdall(struct tdx_host *h, unsigned cpu, uint64_t page_pa, uint64_t *field_id)
{
	struct tdx_module_args a = { .rdx = page_pa, .r8 = *field_id };
	uint64_t ret = call(h, cpu, TDH_SYS_RDALL_LEAF, &a);

	*field_id = a.r8;
	return ret;
}

uint64_t tdh_sys_info(struct tdx_host *h, unsigned cpu, uint64_t info_pa, uint64_t info_len, uint64_t cmr_pa,
		      uint64_t nr_cmrs, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = info_pa, .rdx = info_len, .r8 = cmr_pa, .r9 = nr_cmrs };
	return call(h, cpu, TDH_SYS_INFO_LEAF, out);
}

uint64_t tdh_sys_config(struct tdx_host *h, unsigned cpu, uint64_t tdmr_array_pa, uint64_t nr_tdmrs,
			uint64_t global_keyid)
{
	struct tdx_module_args a = { .rcx = tdmr_array_pa, .rdx = nr_tdmrs, .r8 = global_keyid };
	return call(h, cpu, TDH_SYS_CONFIG_LEAF, &a);
}

uint64_t tdh_sys_key_config(struct tdx_host *h, unsigned cpu)
{
	struct tdx_module_args a = { 0 };
	return call(h, cpu, TDH_SYS_KEY_CONFIG_LEAF, &a);
}

uint64_t tdh_sys_tdmr_init(struct tdx_host *h, unsigned cpu, uint64_t tdmr_base, uint64_t *next)
{
	struct tdx_module_args a = { .rcx = tdmr_base };
	uint64_t ret = call(h, cpu, TDH_SYS_TDMR_INIT_LEAF, &a);

	*next = a.rdx;
	return ret;
}

uint64_t tdh_sys_lp_shutdown(struct tdx_host *h, unsigned cpu)
{
	struct tdx_module_args a = { 0 };
	return call(h, cpu, TDH_SYS_LP_SHUTDOWN_LEAF, &a);
}

uint64_t tdh_sys_shutdown(struct tdx_host *h, unsigned cpu, uint64_t handoff_version)
{
	struct tdx_module_args a = { .rcx = handoff_version };
	return call(h, cpu, TDH_SYS_SHUTDOWN_LEAF, &a);
}

uint64_t tdh_phymem_page_rdmd(struct tdx_host *h, unsigned cpu, uint64_t pa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = pa };
	return call(h, cpu, TDH_PHYMEM_PAGE_RDMD_LEAF, out);
}

uint64_t tdh_mng_create(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t hkid)
{
	struct tdx_module_args a = { .rcx = tdr_pa, .rdx = hkid };
	return call(h, cpu, TDH_MNG_CREATE_LEAF, &a);
}

uint64_t tdh_mng_key_config(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa)
{
	struct tdx_module_args a = { .rcx = tdr_pa };
	return call(h, cpu, TDH_MNG_KEY_CONFIG_LEAF, &a);
}

uint64_t tdh_mng_addcx(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t tdcx_pa)
{
	struct tdx_module_args a = { .rcx = tdcx_pa, .rdx = tdr_pa };
	return call(h, cpu, TDH_MNG_ADDCX_LEAF, &a);
}

uint64_t tdh_mng_vpflushdone(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa)
{
	struct tdx_module_args a = { .rcx = tdr_pa };
	return call(h, cpu, TDH_MNG_VPFLUSHDONE_LEAF, &a);
}

uint64_t tdh_mng_key_freeid(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa)
{
	struct tdx_module_args a = { .rcx = tdr_pa };
	return call(h, cpu, TDH_MNG_KEY_FREEID_LEAF, &a);
}

uint64_t tdh_mng_key_reclaimid(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa)
{
	struct tdx_module_args a = { .rcx = tdr_pa };
	return call(h, cpu, TDH_MNG_KEY_RECLAIMID_LEAF, &a);
}

uint64_t tdh_phymem_cache_wb(struct tdx_host *h, unsigned cpu, bool resume)
{
	struct tdx_module_args a = { .rcx = resume };
	return call(h, cpu, TDH_PHYMEM_CACHE_WB_LEAF, &a);
}

uint64_t tdh_phymem_page_reclaim(struct tdx_host *h, unsigned cpu, uint64_t pa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = pa };
	return call(h, cpu, TDH_PHYMEM_PAGE_RECLAIM_LEAF, out);
}

uint64_t tdh_phymem_page_wbinvd(struct tdx_host *h, unsigned cpu, uint64_t pa_with_hkid)
{
	struct tdx_module_args a = { .rcx = pa_with_hkid };
	return call(h, cpu, TDH_PHYMEM_PAGE_WBINVD_LEAF, &a);
}

uint64_t tdh_mng_init(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t td_params_pa,
		      struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = tdr_pa, .rdx = td_params_pa };
	return call(h, cpu, TDH_MNG_INIT_LEAF, out);
}

uint64_t tdh_mng_rd(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t field_id, uint64_t *value)
{
	struct tdx_module_args a = { .rcx = tdr_pa, .rdx = field_id };
	uint64_t ret = call(h, cpu, TDH_MNG_RD_LEAF, &a);

	*value = a.r8;
	return ret;
}

uint64_t tdh_mr_finalize(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa)
{
	struct tdx_module_args a = { .rcx = tdr_pa };
	return call(h, cpu, TDH_MR_FINALIZE_LEAF, &a);
}

uint64_t tdh_vp_create(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t tdvpr_pa)
{
	struct tdx_module_args a = { .rcx = tdvpr_pa, .rdx = tdr_pa };
	return call(h, cpu, TDH_VP_CREATE_LEAF, &a);
}

uint64_t tdh_vp_addcx(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t tdcx_pa)
{
	struct tdx_module_args a = { .rcx = tdcx_pa, .rdx = tdvpr_pa };
	return call(h, cpu, TDH_VP_ADDCX_LEAF, &a);
}

/* Version 0: 1.5.01 has no version 1 (x2APIC id in R8) yet. */
uint64_t tdh_vp_init(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t initial_rcx)
{
	struct tdx_module_args a = { .rcx = tdvpr_pa, .rdx = initial_rcx };
	return call(h, cpu, TDH_VP_INIT_LEAF, &a);
}

uint64_t tdh_mem_sept_add(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			  uint64_t sept_page_pa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa, .r8 = sept_page_pa };
	return call(h, cpu, TDH_MEM_SEPT_ADD_LEAF, out);
}

uint64_t tdh_mem_page_add(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, uint64_t page_pa,
			  uint64_t source_pa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa, .rdx = tdr_pa, .r8 = page_pa, .r9 = source_pa };
	return call(h, cpu, TDH_MEM_PAGE_ADD_LEAF, out);
}

uint64_t tdh_mr_extend(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa, .rdx = tdr_pa };
	return call(h, cpu, TDH_MR_EXTEND_LEAF, out);
}

/* level: 0 = 4K, 1 = 2M; RCX/RDX (SEPT entry and level info) on EPT errors. */
uint64_t tdh_mem_page_aug(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			  uint64_t page_pa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa, .r8 = page_pa };
	return call(h, cpu, TDH_MEM_PAGE_AUG_LEAF, out);
}

uint64_t tdh_mem_rd(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, uint64_t *value,
		    struct tdx_module_args *out)
{
	uint64_t ret;

	*out = (struct tdx_module_args){ .rcx = gpa, .rdx = tdr_pa };
	ret = call(h, cpu, TDH_MEM_RD_LEAF, out);
	*value = out->r8;
	return ret;
}

uint64_t tdh_mem_wr(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, uint64_t value, uint64_t *old,
		    struct tdx_module_args *out)
{
	uint64_t ret;

	*out = (struct tdx_module_args){ .rcx = gpa, .rdx = tdr_pa, .r8 = value };
	ret = call(h, cpu, TDH_MEM_WR_LEAF, out);
	*old = out->r8;
	return ret;
}

uint64_t tdh_mng_wr(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t field_id, uint64_t value,
		    uint64_t mask, uint64_t *old)
{
	struct tdx_module_args a = { .rcx = tdr_pa, .rdx = field_id, .r8 = value, .r9 = mask };
	uint64_t ret = call(h, cpu, TDH_MNG_WR_LEAF, &a);

	*old = a.r8;
	return ret;
}

uint64_t tdh_vp_flush(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa)
{
	struct tdx_module_args a = { .rcx = tdvpr_pa };
	return call(h, cpu, TDH_VP_FLUSH_LEAF, &a);
}

uint64_t tdh_vp_enter(struct tdx_host *h, unsigned cpu, struct tdx_regs *io)
{
	io->r[TDX_REG_RAX] = TDH_VP_ENTER_LEAF;
	return tdx_seamcall(h, cpu, io);
}

uint64_t tdh_mem_range_block(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa };
	return call(h, cpu, TDH_MEM_RANGE_BLOCK_LEAF, out);
}

uint64_t tdh_mem_range_unblock(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			       struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa };
	return call(h, cpu, TDH_MEM_RANGE_UNBLOCK_LEAF, out);
}

uint64_t tdh_mem_track(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa)
{
	struct tdx_module_args a = { .rcx = tdr_pa };
	return call(h, cpu, TDH_MEM_TRACK_LEAF, &a);
}

uint64_t tdh_mem_page_remove(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa };
	return call(h, cpu, TDH_MEM_PAGE_REMOVE_LEAF, out);
}

uint64_t tdh_mem_sept_remove(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa };
	return call(h, cpu, TDH_MEM_SEPT_REMOVE_LEAF, out);
}

uint64_t tdh_mem_sept_rd(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			 struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa };
	return call(h, cpu, TDH_MEM_SEPT_RD_LEAF, out);
}

uint64_t tdh_mem_page_relocate(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			       uint64_t page_pa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa, .r8 = page_pa };
	return call(h, cpu, TDH_MEM_PAGE_RELOCATE_LEAF, out);
}

/* Linux's seamcall_prerr mapping: the instruction's own failures first, then busy and
 * entropy conditions the caller may retry, then everything else as an I/O error. */
int tdx_status_to_errno(uint64_t status)
{
	uint64_t hi = status & UINT64_C(0xFFFFFFFF00000000);

	if (status == TDX_SUCCESS)
		return 0;
	if (status == TDX_SEAMCALL_VMFAILINVALID)
		return -ENODEV;
	if (status == TDX_SEAMCALL_GP)
		return -EOPNOTSUPP;
	if (status == TDX_SEAMCALL_UD)
		return -EACCES;
	if (!(status & TDX_ERROR_BIT))
		return 0; /* success class with information (e.g. TDX_KEY_CONFIGURED) */
	if (hi == TDX_OPERAND_BUSY || hi == TDX_SYS_BUSY)
		return -EBUSY;
	if (hi == TDX_RND_NO_ENTROPY || hi == TDX_KEY_GENERATION_FAILED)
		return -EAGAIN;
	return -EIO;
}

const char *tdx_status_str(uint64_t status, char *buf, size_t len)
{
	const char *name = abi_status_name(status), *op;
	uint32_t low = (uint32_t)status;

	if (status == TDX_SEAMCALL_VMFAILINVALID)
		name = "TDX_SEAMCALL_VMFAILINVALID";
	else if (status == TDX_SEAMCALL_GP)
		name = "TDX_SEAMCALL_GP";
	else if (status == TDX_SEAMCALL_UD)
		name = "TDX_SEAMCALL_UD";
	else if (name && low && ((status >> 40) & 0xff) == 0x0a) {
		/* TDMR configuration errors: TDMR index, area index or PAMT level, other TDMR */
		static const char *const lvl[] = { "4K", "2M", "1G" };
		unsigned a = low & 0xff, b = (low >> 8) & 0xff, c = (low >> 16) & 0xff;
		if (strstr(name, "OVERLAP"))
			snprintf(buf, len, "%s (TDMR %u, PAMT %s, with TDMR %u)", name, a, b < 3 ? lvl[b] : "?", c);
		else if (strstr(name, "PAMT"))
			snprintf(buf, len, "%s (TDMR %u, PAMT %s)", name, a, b < 3 ? lvl[b] : "?");
		else if (strstr(name, "RESERVED"))
			snprintf(buf, len, "%s (TDMR %u, reserved area %u)", name, a, b);
		else
			snprintf(buf, len, "%s (TDMR %u)", name, a);
		return buf;
	} else if (name && low) {
		op = abi_operand_name(low);
		if (op)
			snprintf(buf, len, "%s+%s", name, op);
		else
			snprintf(buf, len, "%s+0x%x", name, low);
		return buf;
	}
	snprintf(buf, len, "%s", name ? name : "unknown status");
	return buf;
}

/* PAGE_INFO = gpa | level (1: 2 MiB, 2: 1 GiB); out.rcx = the freed SEPT page's HPA. Version 1
 * also returns freed L2 SEPT pages in R9..R11 (NULL_PA without L2 VMs). */
uint64_t tdh_mem_page_promote(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			      unsigned version, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){ .rcx = gpa | level, .rdx = tdr_pa };
	return call(h, cpu, TDH_MEM_PAGE_PROMOTE_LEAF | ((uint64_t)version << LEAF_AND_VERSION_VERSION_SHIFT), out);
}

/* Split the large leaf at gpa | level into a new SEPT page; no L2 SEPT pages (NULL_PA). */
uint64_t tdh_mem_page_demote(struct tdx_host *h, unsigned cpu, uint64_t tdr_pa, uint64_t gpa, unsigned level,
			     uint64_t sept_page_pa, struct tdx_module_args *out)
{
	*out = (struct tdx_module_args){
		.rcx = gpa | level, .rdx = tdr_pa, .r8 = sept_page_pa, .r9 = NULL_PA, .r10 = NULL_PA, .r11 = NULL_PA
	};
	return call(h, cpu, TDH_MEM_PAGE_DEMOTE_LEAF, out);
}

uint64_t tdh_vp_rd(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t field_id, uint64_t *value)
{
	struct tdx_module_args a = { .rcx = tdvpr_pa, .rdx = field_id };
	uint64_t ret = call(h, cpu, TDH_VP_RD_LEAF, &a);

	*value = a.r8;
	return ret;
}

uint64_t tdh_vp_rd_next(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t field_id, uint64_t *value,
			uint64_t *next)
{
	struct tdx_module_args a = { .rcx = tdvpr_pa, .rdx = field_id };
	uint64_t ret = call(h, cpu, TDH_VP_RD_LEAF | (UINT64_C(1) << LEAF_AND_VERSION_VERSION_SHIFT), &a);

	*value = a.r8;
	*next = a.rdx;
	return ret;
}

uint64_t tdh_vp_wr(struct tdx_host *h, unsigned cpu, uint64_t tdvpr_pa, uint64_t field_id, uint64_t value,
		   uint64_t mask, uint64_t *old)
{
	struct tdx_module_args a = { .rcx = tdvpr_pa, .rdx = field_id, .r8 = value, .r9 = mask };
	uint64_t ret = call(h, cpu, TDH_VP_WR_LEAF, &a);

	*old = a.r8;
	return ret;
}
