/* Host state around TDH.VP.ENTER, as Linux KVM keeps it (tdx_prepare_switch_to_guest/host,
 * tdx_user_return_msr_update_cache, tdx_load_host_xsave_state, hw_breakpoint_restore): the
 * module leaves some LP registers clobbered after a TD exit (generated table td_exit_state,
 * data/module/td-exit-host-state.json); KVM puts back exactly what the host needs, each at
 * the moment the data says: right after the exit, or lazily when KVM_RUN returns. */
#include "kvm_internal.h"

/* Linux DR_GLOBAL_ENABLE_MASK (DR7 G0-G3): hw_breakpoint_active() tests these bits. */
#define DR7_GLOBAL_ENABLE_MASK 0xAAu

static uint64_t lp_read(struct kvm_vcpu *v, const struct td_exit_state_item *it)
{
	return plat_lp_state_read(v->vm->h->plat, v->lp, it->kind == TD_EXIT_KIND_MSR, it->index);
}

static void lp_write(struct kvm_vcpu *v, const struct td_exit_state_item *it, uint64_t val)
{
	plat_lp_state_write(v->vm->h->plat, v->lp, it->kind == TD_EXIT_KIND_MSR, it->index, val);
}

/* Write the host value back if the register no longer holds it; true if it did not. */
static bool restore(struct kvm_vcpu *v, unsigned i)
{
	const struct td_exit_state_item *it = &td_exit_state[i];

	if (lp_read(v, it) == v->host.value[i])
		return false;
	lp_write(v, it, v->host.value[i]);
	return true;
}

void kvm_host_state_prepare(struct kvm_vcpu *v)
{
	if (v->host.loaded)
		return;
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		v->host.value[i] = lp_read(v, &td_exit_state[i]);
	v->host.loaded = true;
}

static bool host_breakpoints(const struct kvm_vcpu *v)
{
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		if (td_exit_state[i].kind == TD_EXIT_KIND_REG && td_exit_state[i].index == PLAT_REG_DR7)
			return (v->host.value[i] & DR7_GLOBAL_ENABLE_MASK) != 0;
	return false;
}

void kvm_host_state_after_exit(struct kvm_vcpu *v)
{
	bool bp = host_breakpoints(v);

	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		switch (td_exit_state[i].kvm_restore) {
		case KVM_HOST_RESTORE_AFTER_EXIT_IF_NEEDED:
			v->stat.after_exit_restores += restore(v, i);
			break;
		case KVM_HOST_RESTORE_IF_HOST_BREAKPOINTS:
			if (bp)
				v->stat.after_exit_restores += restore(v, i);
			break;
		default:
			break;
		}
	}
	v->host.guest_entered = true;
}

void kvm_host_state_put(struct kvm_vcpu *v)
{
	if (!v->host.loaded)
		return;
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		uint8_t how = td_exit_state[i].kvm_restore;

		if (how == KVM_HOST_RESTORE_SWITCH_TO_HOST)
			restore(v, i);
		else if (how == KVM_HOST_RESTORE_USER_RETURN && v->host.guest_entered)
			v->stat.user_return_restores += restore(v, i);
	}
	v->stat.host_state_reload++;
	v->host.loaded = false;
	v->host.guest_entered = false;
}

uint64_t kvm_host_state_blocked_attrs(void)
{
	uint64_t attrs = 0;

	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		attrs |= td_features[td_exit_state[i].kvm_blocks].attributes;
	return attrs;
}

/* CPUID bits of features KVM refuses because it cannot restore their host state. */
void kvm_host_state_blocked_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t mask[4])
{
	mask[0] = mask[1] = mask[2] = mask[3] = 0;
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		const struct td_feature_desc *f = &td_features[td_exit_state[i].kvm_blocks];

		if (f->attributes || f->leaf != leaf || f->subleaf != subleaf)
			continue;
		for (unsigned r = 0; r < 4; r++)
			mask[r] |= f->mask[r];
	}
}
