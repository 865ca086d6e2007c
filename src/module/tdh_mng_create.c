/* TDH.MNG.CREATE (leaf 9): turn a free page into the TDR of a new TD and assign it a
 * private HKID. */
#include <openssl/rand.h>
#include <string.h>

#include "td.h"

uint64_t tdh_mng_create(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t tdr_pa = regs->r[TDX_REG_RCX], hkid_op = regs->r[TDX_REG_RDX];
	unsigned hkid = (unsigned)(hkid_op & HKID_MASK);
	struct pamt_lock l;
	struct tdr *tdr;
	uint64_t uuid[4], ret;

	(void)lp;
	if ((hkid_op & HKID_RESERVED_MASK) || hkid < m->hkid_private_min || hkid > m->hkid_private_max)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RDX);
	ret = pamt_check_lock_explicit(m, tdr_pa, OPERAND_ID_RCX, true, PT_NDA, &l);
	if (ret)
		return ret;
	if (!kot_try_lock(m, true)) {
		ret = api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_KOT);
		goto out_pamt;
	}
	if (m->kot_state[hkid] != HKID_FREE) {
		ret = TDX_HKID_NOT_FREE;
		goto out_kot;
	}
	/* MOVDIR64B-zero the page under the global KeyID: the host's old data is gone. */
	if (plat_seam_init_pages(m->plat, tdr_pa, 1, m->global_hkid) || !(tdr = td_map_tdr(m, tdr_pa))) {
		ret = TDX_SEAMCALL_VMFAILINVALID;
		goto out_kot;
	}
	if (RAND_bytes((unsigned char *)uuid, sizeof(uuid)) != 1) {
		ret = TDX_RND_NO_ENTROPY;
		goto out_kot;
	}

	/* Nothing can fail past this point. */
	memcpy(tdr->td_uuid, uuid, sizeof(uuid));
	tdr->hkid = (uint16_t)hkid;
	tdr->lifecycle_state = TD_HKID_ASSIGNED;
	tdr->handoff_version = (uint16_t)module_sys_const(m, MD_SYS_FIELDS_MODULE_HV_IDX);
	m->kot_state[hkid] = HKID_ASSIGNED;
	pamt_set(l.leaf, PT_TDR, 0);
	ret = TDX_SUCCESS;
out_kot:
	kot_unlock(m, true);
out_pamt:
	pamt_unlock(&l);
	return ret;
}
