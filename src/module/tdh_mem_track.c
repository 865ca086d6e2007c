/* TDH.MEM.TRACK (leaf 38): start a new TLB epoch of the TD. Ranges blocked in an older epoch
 * count as tracked once no vCPU that entered the TD in the epoch before the current one is
 * still inside (TDCS.REFCOUNT of that epoch, kept by TDH.VP.ENTER and TD exit).
 *
 * The TDR is operand RCX; RCX and RDX are outputs of nothing and stay as the host passed them.
 * The TDCS OP_STATE lock is not modelled (see tdh_mem_sept_add.c). TD_EPOCH reaching 2^63 - 1,
 * a fatal module error in the real module, takes 2^63 calls and is not checked. */
#include "sept.h"

static uint64_t advance_epoch(struct tdcs *tdcs)
{
	uint64_t epoch;

	if (!sharex_try_exclusive(&tdcs->epoch_lock))
		return api_error_with_operand_id(TDX_OPERAND_BUSY, OPERAND_ID_TD_EPOCH);
	epoch = tdcs->td_epoch;
	/* The previous epoch's counter slot is about to become the new epoch's: it must be empty. */
	if (__atomic_load_n(&tdcs->refcount[(epoch - 1) & 1], __ATOMIC_ACQUIRE)) {
		sharex_release_exclusive(&tdcs->epoch_lock);
		return TDX_PREVIOUS_TLB_EPOCH_BUSY;
	}
	__atomic_store_n(&tdcs->td_epoch, epoch + 1, __ATOMIC_RELEASE);
	sharex_release_exclusive(&tdcs->epoch_lock);
	return TDX_SUCCESS;
}

uint64_t tdh_mem_track(struct tdx_module *m, unsigned lp, struct tdx_regs *regs)
{
	struct sept_op op = { 0 };
	uint64_t ret;

	(void)lp;
	ret = sept_op_lock_td(m, regs->r[TDX_REG_RCX], OPERAND_ID_RCX, TDH_MEM_TRACK_LEAF, &op);
	if (!ret)
		ret = advance_epoch(op.tdcs);
	sept_op_unlock(&op);
	return ret;
}
