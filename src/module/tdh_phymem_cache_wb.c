/* TDH.PHYMEM.CACHE.WB (leaf 40): write back the caches of this package for every HKID in
 * the FLUSHED state. The real leaf is resumable (TDX_INTERRUPTED_RESUMABLE when a host
 * interrupt is pending between cache sub-blocks); the simulated LP never has one pending, so
 * a start call always completes, and a resume without an interrupted call is an error. */
#include "td.h"

uint64_t tdh_phymem_cache_wb(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t resume = regs->r[TDX_REG_RCX];
	unsigned pkg = m->lp[lp].pkg;
	bool any = false;
	uint64_t ret;

	if (resume > 1)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	if (atomic_flag_test_and_set(&m->wbt[pkg].lock))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_WBCACHE);
	if (!kot_try_lock(m, false)) {
		ret = api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_KOT);
		goto out_wbt;
	}
	if (!resume) {
		m->wbt[pkg].intr_point = 0;
		for (unsigned h = m->hkid_private_min; h <= m->hkid_private_max && h < MAX_HKIDS; h++) {
			m->wbt[pkg].hkid_flushed[h] = m->kot_state[h] == HKID_FLUSHED;
			any |= m->wbt[pkg].hkid_flushed[h];
		}
		if (!any) {
			ret = TDX_NO_HKID_READY_TO_WBCACHE;
			goto out;
		}
	} else if (m->wbt[pkg].intr_point == 0) {
		ret = TDX_WBCACHE_RESUME_ERROR;
		goto out;
	}
	/* Write back every sub-block (WBNOINVDP); the simulation has no pending host interrupts,
	 * so the call always runs to completion. */
	m->wbt[pkg].intr_point = 0;
	for (unsigned h = m->hkid_private_min; h <= m->hkid_private_max && h < MAX_HKIDS; h++)
		if (m->wbt[pkg].hkid_flushed[h])
			__atomic_fetch_and(&m->kot_wbinvd_bitmap[h], ~(UINT32_C(1) << pkg), __ATOMIC_SEQ_CST);
	ret = TDX_SUCCESS;
out:
	kot_unlock(m, false);
out_wbt:
	atomic_flag_clear(&m->wbt[pkg].lock);
	return ret;
}
