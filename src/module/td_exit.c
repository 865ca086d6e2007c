/* TD entry/exit effects on the LP's MSRs and registers, driven by the generated table
 * td_exit_state[] (tools/gen_td_exit.py). */
#include "td_exit.h"

static uint64_t lp_read(struct tdx_module *m, unsigned lp, const struct td_exit_state_item *it)
{
	return plat_lp_state_read(m->plat, lp, it->kind == TD_EXIT_KIND_MSR, it->index);
}

static void lp_write(struct tdx_module *m, unsigned lp, const struct td_exit_state_item *it, uint64_t v)
{
	plat_lp_state_write(m->plat, lp, it->kind == TD_EXIT_KIND_MSR, it->index, v);
}

static uint64_t guest_get(const struct tdvps_pages *pg, const struct td_exit_state_item *it)
{
	return it->guest_in_vmcs ? tdvps_vmcs_get(pg, it->guest_idx, it->guest_elem)
				 : tdvps_get(pg, it->guest_idx, it->guest_elem);
}

static void guest_put(const struct tdvps_pages *pg, const struct td_exit_state_item *it, uint64_t v)
{
	if (it->guest_in_vmcs)
		tdvps_vmcs_put(pg, it->guest_idx, it->guest_elem, v);
	else
		tdvps_put(pg, it->guest_idx, it->guest_elem, v);
}

bool td_has_feature(const struct tdx_module *m, const struct tdcs *tdcs, enum td_feature f)
{
	const struct cpuid_tables *ct = m->profile->cpuid;
	const struct td_feature_desc *d = &td_features[f];

	if (f == TD_FEATURE_NONE)
		return false;
	if (d->attributes)
		return (tdcs->attributes & d->attributes) != 0;
	for (unsigned i = 0; i < ct->num_lookup; i++) {
		const struct cpuid_regs *r = &tdcs->cpuid_values[i];
		if (!tdcs->cpuid_valid[i] || ct->lookup[i].leaf != d->leaf ||
		    (ct->lookup[i].subleaf != CPUID_SUBLEAF_NA && ct->lookup[i].subleaf != d->subleaf))
			continue;
		return (r->eax & d->mask[0]) || (r->ebx & d->mask[1]) || (r->ecx & d->mask[2]) || (r->edx & d->mask[3]);
	}
	return false;
}

void td_exit_load_guest_state(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs,
			      const struct tdvps_pages *pg, struct td_host_state *hs)
{
	bool has[TD_FEATURE_COUNT];

	/* each feature once: several table items depend on the same one */
	for (unsigned f = 0; f < TD_FEATURE_COUNT; f++)
		has[f] = td_has_feature(m, tdcs, (enum td_feature)f);
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		const struct td_exit_state_item *it = &td_exit_state[i];

		hs->active[i] = it->when == TD_EXIT_WHEN_ALWAYS || has[it->feature];
		if (!hs->active[i]) {
			hs->vmm[i] = lp_read(m, lp, it); /* given back on exit */
			continue;
		}
		lp_write(m, lp, it, guest_get(pg, it));
	}
}

void td_exit_save_guest_state(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs,
			      const struct tdvps_pages *pg, const struct td_host_state *hs)
{
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		const struct td_exit_state_item *it = &td_exit_state[i];
		uint64_t td_value;

		if (!hs->active[i]) {
			lp_write(m, lp, it, hs->vmm[i]);
			continue;
		}
		td_value = lp_read(m, lp, it);
		guest_put(pg, it, td_value);
		switch (it->after) {
		case TD_EXIT_AFTER_VALUE: lp_write(m, lp, it, it->value); break;
		case TD_EXIT_AFTER_AND_MASK: lp_write(m, lp, it, td_value & it->value); break;
		case TD_EXIT_AFTER_XFAM_AND: lp_write(m, lp, it, tdcs->xfam & it->value); break;
		default: break; /* TD_EXIT_AFTER_GUEST: the TD's value stays in the register */
		}
	}
}
