/* TDH.MR.FINALIZE (leaf 17): close the build-time measurement. MRTD becomes the SHA-384 of
 * every block TDH.MEM.PAGE.ADD and TDH.MR.EXTEND fed since TDH.MNG.INIT; the TD becomes
 * RUNNABLE and accepts no more measured pages. */
#include <string.h>

#include "td.h"

static void sha384_final(struct tdcs *tdcs, uint8_t out[48])
{
	/* OpenSSL 3 deprecates the low-level API; the module keeps its hash state in the TDCS,
	 * which an EVP context (heap allocated) cannot live in. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	SHA384_Final(out, &tdcs->td_sha_ctx);
#pragma GCC diagnostic pop
}

uint64_t tdh_mr_finalize(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdr_pa = regs->r[TDX_REG_RCX];
	struct pamt_lock l;
	struct tdr *tdr;
	struct tdcs *tdcs;
	uint8_t mrtd[48];
	uint64_t ret = td_open(m, tdr_pa, OPERAND_ID_RCX, true, TDH_MR_FINALIZE_LEAF, &l, &tdr, &tdcs);

	(void)lp;
	if (ret)
		return ret;
	if (!tdcs->num_vcpus) {
		ret = TDX_NO_VCPUS;
		goto out;
	}

	/* Nothing can fail past this point (no service TD can be bound in this module build, so
	 * SERVTD_HASH stays zero). */
	sha384_final(tdcs, mrtd);
	memcpy(tdcs->mr_td, mrtd, sizeof(mrtd));
	tdcs->op_state = OP_STATE_RUNNABLE;
	ret = TDX_SUCCESS;
out:
	pamt_unlock(&l);
	return ret;
}
