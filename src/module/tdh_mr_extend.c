/* TDH.MR.EXTEND (leaf 16): during the TD build, measure 256 bytes of a page already added
 * (read through the TD's key, so what is measured is what the TD will see) into MRTD. */
#include "measure.h"
#include "sept.h"

#define MR_EXTEND_CHUNK 256u

/* The TD memory at gpa, mapped with the TD's key, once the GPA is found MAPPED. */
static uint64_t find_chunk(struct tdx_module *m, struct tdx_regs *regs, const struct tdr *tdr,
			   const struct tdcs *tdcs, uint64_t gpa, const void **chunk)
{
	struct sept_walk w;
	uint64_t hpa, ret;
	void *p;

	if (gpa & (MR_EXTEND_CHUNK - 1))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	ret = sept_check_private_gpa(tdcs, gpa);
	if (ret)
		return ret;
	ret = sept_walk_to_leaf(m, tdr, tdcs, gpa, &w);
	if (ret == api_error_with_operand_id(TDX_EPT_WALK_FAILED, OPERAND_ID_RCX)) {
		sept_set_details(regs, w.value, w.level);
		return api_error_with_operand_id(TDX_EPT_ENTRY_NOT_PRESENT, OPERAND_ID_RCX);
	}
	if (ret)
		return ret;
	/* A present leaf in another state (exported, blocked for write) is not reported. */
	if (sept_state_of(w.value) != SEPT_MAPPED)
		return TDX_EPT_ENTRY_NOT_PRESENT;
	/* Large leaves too: the chunk is at the GPA's offset inside the leaf. */
	hpa = sept_hpa(w.value) + (gpa & (sept_level_size(w.level) - 1));
	if (plat_seam_map(m->plat, hpa, tdr->hkid, &p)) {
		plat_seam_machine_check(m->plat, hpa);
		return TDX_SEAMCALL_VMFAILINVALID;
	}
	*chunk = p;
	return TDX_SUCCESS;
}

uint64_t tdh_mr_extend(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t gpa = regs->r[TDX_REG_RCX], tdr_pa = regs->r[TDX_REG_RDX];
	struct pamt_lock l;
	struct tdr *tdr;
	struct tdcs *tdcs;
	const void *chunk;
	uint8_t record[MRTD_BLOCK_SIZE + MR_EXTEND_CHUNK];
	uint64_t ret;

	(void)lp;
	regs->r[TDX_REG_RCX] = 0;
	regs->r[TDX_REG_RDX] = 0;
	/* Exclusive: MRTD is one running hash, extended in the order the host calls. */
	ret = td_open(m, tdr_pa, OPERAND_ID_RDX, true, TDH_MR_EXTEND_LEAF, &l, &tdr, &tdcs);
	if (!ret)
		ret = find_chunk(m, regs, tdr, tdcs, gpa, &chunk);
	if (ret)
		goto out;

	/* Nothing can fail past this point. The header block and the chunk's two blocks go to
	 * SHA-384 in one update: same digest as two, one pass through the block function. */
	td_mrtd_header_block(record, "MR.EXTEND", gpa);
	memcpy(record + MRTD_BLOCK_SIZE, chunk, MR_EXTEND_CHUNK);
	td_mrtd_extend(tdcs, record, sizeof(record));
	ret = TDX_SUCCESS;
out:
	pamt_unlock(&l);
	return ret;
}
