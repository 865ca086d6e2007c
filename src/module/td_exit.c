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

static bool lookup_matches(const struct cpuid_lookup_desc *l, const struct td_feature_desc *d)
{
	return l->leaf == d->leaf && (l->subleaf == CPUID_SUBLEAF_NA || l->subleaf == d->subleaf);
}

void td_exit_features_init(struct tdx_module *m)
{
	const struct cpuid_tables *ct = m->profile->cpuid;

	for (unsigned f = 0; f < TD_FEATURE_COUNT; f++) {
		m->td_feature_lookup[f] = -1;
		for (unsigned i = 0; i < ct->num_lookup && m->td_feature_lookup[f] < 0; i++)
			if (lookup_matches(&ct->lookup[i], &td_features[f]))
				m->td_feature_lookup[f] = (int)i;
	}
}

static bool feature_in(const struct td_feature_desc *d, const struct cpuid_regs *r)
{
	return (r->eax & d->mask[0]) || (r->ebx & d->mask[1]) || (r->ecx & d->mask[2]) || (r->edx & d->mask[3]);
}

bool td_has_feature(const struct tdx_module *m, const struct tdcs *tdcs, enum td_feature f)
{
	const struct cpuid_tables *ct = m->profile->cpuid;
	const struct td_feature_desc *d = &td_features[f];
	int first = m->td_feature_lookup[f];

	if (f == TD_FEATURE_NONE)
		return false;
	if (d->attributes)
		return (tdcs->attributes & d->attributes) != 0;
	if (first < 0)
		return false;
	if (tdcs->cpuid_valid[first]) /* the common case: the first candidate entry is in use */
		return feature_in(d, &tdcs->cpuid_values[first]);
	for (unsigned i = (unsigned)first + 1; i < ct->num_lookup; i++) {
		if (tdcs->cpuid_valid[i] && lookup_matches(&ct->lookup[i], d))
			return feature_in(d, &tdcs->cpuid_values[i]);
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
