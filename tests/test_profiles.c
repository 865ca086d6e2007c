/* Module profiles: every profile brings up; what TDH.SYS.RD reports differs between
 * tdx-1.5.01 and tdx-1.5.06 exactly where the profile data does; TDH.MNG.INIT follows each
 * profile's configurable CPUID bits. Expected values come from the generated profile data. */
#include <string.h>

#include "fixture.h"
#include "abi_profiles.h"
#include "module/module.h"

static const struct module_profile_desc *profile(const char *name)
{
	for (unsigned i = 0; i < module_profiles_count; i++)
		if (!strcmp(module_profiles[i].name, name))
			return &module_profiles[i];
	return NULL;
}

static uint64_t sys_rd(struct fx *f, uint64_t id, uint64_t *val, uint64_t *next)
{
	struct tdx_regs r;
	uint64_t st = fx_call(f, 0, TDH_SYS_RD_LEAF, 0, id, 0, 0, &r);
	*val = r.r[TDX_REG_R8];
	if (next)
		*next = r.r[TDX_REG_RDX];
	return st;
}

/* Index of the global field an element id belongs to, or -1. */
static int sys_field_of(uint64_t id)
{
	for (unsigned i = 0; i < md_sys_fields_count; i++) {
		const struct md_field_desc *d = &md_sys_fields[i];
		uint64_t n = (uint64_t)d->num_fields * d->elems_per_field * d->stride;
		if (id >= d->field_id && id < d->field_id + n)
			return (int)i;
	}
	return -1;
}

static uint64_t size_mask(const struct md_field_desc *d)
{
	return d->elem_bytes >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * d->elem_bytes)) - 1;
}

TEST(profiles_all_bring_up)
{
	unsigned n = 0;
	for (const char *name; (name = module_profile_name(n)) != NULL; n++) {
		struct fx f;
		uint64_t v;
		REQUIRE(fx_create_profile(&f, name));
		CHECK(fx_bringup(&f));
		CHECK_EQ(sys_rd(&f, MD_SYS_FIELDS_UPDATE_VERSION_FIELD_ID, &v, NULL), TDX_SUCCESS);
		CHECK_EQ(v, profile(name)->sys_values[MD_SYS_FIELDS_UPDATE_VERSION_IDX].value);
		fx_destroy(&f);
	}
	CHECK(n >= 2);
	CHECK(profile("tdx-1.5.01") && profile("tdx-1.5.06"));
}

TEST(profiles_unknown_name_is_refused)
{
	struct fx f;
	CHECK(!fx_create_profile(&f, "tdx-9.9.99"));
}

/* Walk every readable element on both modules side by side. */
TEST(profiles_sys_rd_differences_are_the_data)
{
	const struct module_profile_desc *p[2] = { profile("tdx-1.5.01"), profile("tdx-1.5.06") };
	struct fx f[2];
	uint64_t id = 0, v[2], next[2];
	unsigned data_diffs = 0, seen_diffs = 0, elems = 0;
	bool differs[128] = { false };

	REQUIRE(p[0] && p[1] && md_sys_fields_count <= 128);
	for (int k = 0; k < 2; k++) {
		REQUIRE(fx_create_profile(&f[k], p[k]->name));
		REQUIRE(fx_bringup(&f[k]));
	}
	for (unsigned i = 0; i < md_sys_fields_count; i++)
		if (!p[0]->sys_values[i].runtime && !p[1]->sys_values[i].runtime && md_sys_fields[i].host_rd_mask &&
		    p[0]->sys_values[i].value != p[1]->sys_values[i].value)
			data_diffs++;
	CHECK_EQ(sys_rd(&f[0], UINT64_MAX, &v[0], &id), TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT);
	while (id != UINT64_MAX && elems < 100000) {
		int i = sys_field_of(id);
		REQUIRE(i >= 0);
		for (int k = 0; k < 2; k++)
			REQUIRE_EQ(sys_rd(&f[k], id, &v[k], &next[k]), TDX_SUCCESS);
		CHECK_EQ(next[0], next[1]);
		if (!p[0]->sys_values[i].runtime && !p[1]->sys_values[i].runtime) {
			for (int k = 0; k < 2; k++)
				CHECK_EQ(v[k], p[k]->sys_values[i].value & size_mask(&md_sys_fields[i]) &
						       md_sys_fields[i].host_rd_mask);
			if (v[0] != v[1] && !differs[i]) {
				differs[i] = true;
				seen_diffs++;
			}
		}
		id = next[0];
		elems++;
	}
	CHECK(data_diffs > 0);
	CHECK_EQ(seen_diffs, data_diffs);
	for (int k = 0; k < 2; k++)
		fx_destroy(&f[k]);
}

/* NUM_CPUID_CONFIG and CPUID_CONFIG_LEAVES list each profile's configurable table. */
TEST(profiles_sys_rd_cpuid_config_leaves)
{
	for (unsigned n = 0; module_profile_name(n); n++) {
		const struct cpuid_tables *t = profile(module_profile_name(n))->cpuid;
		const struct md_field_desc *d = &md_sys_fields[MD_SYS_FIELDS_CPUID_CONFIG_LEAVES_IDX];
		struct fx f;
		uint64_t v;
		REQUIRE(fx_create_profile(&f, module_profile_name(n)));
		REQUIRE(fx_bringup(&f));
		CHECK_EQ(sys_rd(&f, MD_SYS_FIELDS_NUM_CPUID_CONFIG_FIELD_ID, &v, NULL), TDX_SUCCESS);
		CHECK_EQ(v, t->num_config);
		for (unsigned e = 0; e < (unsigned)d->num_fields * d->elems_per_field; e++) {
			uint64_t want = e < t->num_config
						? t->configurable[e].leaf | (uint64_t)t->configurable[e].subleaf << 32
						: UINT64_MAX;
			CHECK_EQ(sys_rd(&f, d->field_id + e * d->stride, &v, NULL), TDX_SUCCESS);
			CHECK_EQ(v, want);
		}
		fx_destroy(&f);
	}
}

/* A CPUID_CONFIG bit of CPUID(7,1).EAX that tdx-1.5.06 lets the VMM configure and 1.5.01
 * does not, found from the tables. */
static bool later_only_bit(unsigned *index, uint32_t *bit)
{
	const struct cpuid_tables *old = profile("tdx-1.5.01")->cpuid, *new = profile("tdx-1.5.06")->cpuid;

	for (unsigned i = 0; i < old->num_config; i++) {
		const struct cpuid_config_desc *a = &old->configurable[i], *b = &new->configurable[i];
		uint32_t extra = (b->config_direct.eax | b->allow_direct.eax) & ~(a->config_direct.eax | a->allow_direct.eax);
		if (a->leaf == 7 && a->subleaf == 1 && b->leaf == 7 && b->subleaf == 1 && extra) {
			*index = i;
			*bit = extra & -extra;
			return true;
		}
	}
	return false;
}

TEST(profiles_mng_init_cpuid_config_follows_profile)
{
	unsigned idx;
	uint32_t bit;
	REQUIRE(later_only_bit(&idx, &bit));
	for (int later = 0; later < 2; later++) {
		struct fx f;
		struct fx_td td;
		struct td_params tp;
		struct tdx_module_args out;
		REQUIRE(fx_create_profile(&f, later ? "tdx-1.5.06" : "tdx-1.5.01"));
		REQUIRE(fx_bringup(&f) && fx_td_create(&f, &td));
		fx_td_params_default(&tp);
		tp.cpuid_config_vals[idx].eax |= bit;
		if (later) {
			CHECK_EQ(fx_td_init(&f, &td, &tp, &out), TDX_SUCCESS);
		} else {
			CHECK_EQ(fx_td_init(&f, &td, &tp, &out), TDX_OPERAND_INVALID + OPERAND_ID_CPUID_CONFIG);
			CHECK_EQ(out.rcx, 7 | UINT64_C(1) << 32);
		}
		fx_destroy(&f);
	}
}

/* Entries past the 1.5.01 count sit where 1.5.01 has reserved bytes: 1.5.01 refuses a
 * non-zero byte there (RDX), 1.5.06 takes it as CPUID(0x1F) configuration. */
TEST(profiles_mng_init_td_params_tail)
{
	const struct cpuid_tables *old = profile("tdx-1.5.01")->cpuid, *new = profile("tdx-1.5.06")->cpuid;
	REQUIRE(new->num_config > old->num_config);
	REQUIRE(new->configurable[old->num_config].config_direct.ebx & 1);
	for (int later = 0; later < 2; later++) {
		struct fx f;
		struct fx_td td;
		struct td_params tp;
		struct cpuid_config_vals c = { 0, 1, 0, 0 };
		REQUIRE(fx_create_profile(&f, later ? "tdx-1.5.06" : "tdx-1.5.01"));
		REQUIRE(fx_bringup(&f) && fx_td_create(&f, &td));
		fx_td_params_default(&tp);
		memcpy((uint8_t *)&tp + TD_PARAMS_OFF_CPUID_CONFIG_VALS + old->num_config * sizeof(c), &c, sizeof(c));
		CHECK_EQ(fx_td_init(&f, &td, &tp, NULL), later ? TDX_SUCCESS : TDX_OPERAND_INVALID + OPERAND_ID_RDX);
		fx_destroy(&f);
	}
}
