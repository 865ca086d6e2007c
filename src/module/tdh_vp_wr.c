/* TDH.VP.WR (leaf 43, version 0): write one element of a vCPU's metadata (TDVPS and TD VMCS)
 * under the host write masks of a debug or a production TD, with the real module's special
 * write rules (guest CR0/CR4 through the guest/host masks, posted-interrupt setup, PML,
 * XSAVE header, shared-HPA and private-GPA checks); R8 returns the previous value. */
#include "metadata_vp.h"

uint64_t tdh_vp_wr(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdvpr_pa = regs->r[TDX_REG_RCX], field_id = regs->r[TDX_REG_RDX], value = regs->r[TDX_REG_R8];
	uint64_t wr_request = regs->r[TDX_REG_R9], old = 0, ret;
	struct md_vp v = { .m = m, .lp = lp };
	struct pamt_entry *tdr_entry;
	struct pamt_lock l;

	regs->r[TDX_REG_R8] = 0;
	ret = md_vp_open(&v, tdvpr_pa, TDH_VP_WR_LEAF, true, &l, &tdr_entry);
	if (ret)
		return ret;
	/* The element is written, or nothing is: md_vp_write checks everything before storing. */
	ret = md_vp_write(&v, field_id, value, wr_request, &old);
	regs->r[TDX_REG_R8] = old;
	md_vp_close(&l, tdr_entry);
	return ret;
}
