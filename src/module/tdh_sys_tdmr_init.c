/* TDH.SYS.TDMR.INIT (leaf 36): initialise the next chunk (1024 PAMT_4K entries, 4 MiB of
 * TDMR) of one TDMR. The host loops until RDX reaches the end of the TDMR. */
#include "module_internal.h"

uint64_t tdh_sys_tdmr_init(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	uint64_t base = regs->r[TDX_REG_RCX], next, end;
	const uint64_t chunk = (uint64_t)TDMR_4K_PAMT_INIT_COUNT * SZ_4K;
	struct module_tdmr *t = NULL;
	uint64_t ret;

	(void)lp;
	regs->r[TDX_REG_RDX] = 0;
	if ((base & (SZ_1G - 1)) || base >= (UINT64_C(1) << MODULE_MAX_PA) || module_pa_has_hkid(m, base))
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	for (unsigned i = 0; i < m->nr_tdmrs && !t; i++)
		if (m->tdmr[i].base == base)
			t = &m->tdmr[i];
	if (!t)
		return api_error_with_operand_id(TDX_OPERAND_INVALID, OPERAND_ID_RCX);
	if (atomic_flag_test_and_set(&t->lock))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_RCX);
	next = atomic_load(&t->last_initialized);
	end = t->base + t->size;
	if (next >= end) {
		ret = TDX_TDMR_ALREADY_INITIALIZED;
		goto out;
	}
	if (pamt_init_chunk(m, t, next)) {
		/* The PAMT page took a machine check: SEAM is gone, the platform reports it. */
		ret = TDX_SEAMCALL_VMFAILINVALID;
		goto out;
	}
	next += chunk;
	atomic_store(&t->last_initialized, next);
	regs->r[TDX_REG_RDX] = next & ~(SZ_1G - 1);
	ret = TDX_SUCCESS;
out:
	atomic_flag_clear(&t->lock);
	return ret;
}
