/* KVM-TDX API across module profiles (selftest style): a VMM that derives its CPUID from
 * KVM_TDX_CAPABILITIES keeps working when the module changes from tdx-1.5.01 to tdx-1.5.06,
 * and KVM_TDX_GET_CPUID shows each profile's virtualised leaves; a VMM that hard-codes a bit
 * only the later module lets it configure gets -EINVAL from the earlier one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi_profiles.h"
#include "fixture.h"
#include "kvm/kvm.h"

#define MAX_ENTRIES 256

struct pfx {
	struct fx f;
	struct kvm_dev *d;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	const struct module_profile_desc *prof;
};

static bool pfx_up(struct pfx *k, const char *profile)
{
	memset(k, 0, sizeof(*k));
	for (unsigned i = 0; i < module_profiles_count; i++)
		if (!strcmp(module_profiles[i].name, profile))
			k->prof = &module_profiles[i];
	if (!k->prof || !fx_create_profile(&k->f, profile) || !fx_bringup(&k->f))
		return false;
	k->d = kvm_open(k->f.h);
	return k->d && !kvm_create_vm(k->d, KVM_X86_TDX_VM, &k->vm);
}

static void pfx_down(struct pfx *k)
{
	if (k->vm)
		kvm_destroy_vm(k->vm);
	if (k->d)
		kvm_close(k->d);
	fx_destroy(&k->f);
}

static struct kvm_tdx_capabilities *caps_of(struct pfx *k)
{
	struct kvm_tdx_capabilities *c = calloc(1, sizeof(*c) + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));

	if (c) {
		c->cpuid.nent = MAX_ENTRIES;
		if (kvm_tdx_capabilities(k->vm, c)) {
			free(c);
			c = NULL;
		}
	}
	return c;
}

/* The following VMM: for every leaf KVM offers, what the host CPU has and the capability
 * allows; a 48-bit guest physical address width. */
static struct kvm_tdx_init_vm *vmm_from_caps(struct pfx *k, const struct kvm_tdx_capabilities *caps)
{
	struct kvm_tdx_init_vm *iv = calloc(1, sizeof(*iv) + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));

	if (!iv)
		return NULL;
	iv->xfam = 0x3;
	iv->cpuid.nent = caps->cpuid.nent;
	for (unsigned i = 0; i < caps->cpuid.nent; i++) {
		const struct kvm_cpuid_entry2 *c = &caps->cpuid.entries[i];
		struct kvm_cpuid_entry2 *e = &iv->cpuid.entries[i];
		struct cpuid_regs n;

		plat_cpuid(k->f.p, 0, c->function, c->index, &n);
		*e = *c;
		e->eax = n.eax & c->eax;
		e->ebx = n.ebx & c->ebx;
		e->ecx = n.ecx & c->ecx;
		e->edx = n.edx & c->edx;
		if (e->function == 0x80000008)
			e->eax = (e->eax & ~UINT32_C(0xff0000)) | 48 << 16;
	}
	return iv;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/* Whether the profile gives the TD a readable CPUID(leaf, subleaf). */
static bool profile_virtualizes(const struct module_profile_desc *p, uint32_t leaf, uint32_t subleaf)
{
	for (unsigned i = 0; i < p->cpuid->num_lookup; i++) {
		const struct cpuid_lookup_desc *d = &p->cpuid->lookup[i];
		if (d->valid && d->leaf == leaf && d->subleaf == subleaf)
			return !d->faulting;
	}
	return false;
}

TEST(kvm_profile_vmm_following_capabilities_works_on_every_profile)
{
	unsigned nent[2] = { 0, 0 };

	for (unsigned p = 0; module_profile_name(p); p++) {
		struct pfx k;
		struct kvm_tdx_capabilities *caps;
		struct kvm_tdx_init_vm *iv;
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
		uint64_t hw = 0;

		REQUIRE(c && pfx_up(&k, module_profile_name(p)));
		REQUIRE((caps = caps_of(&k)) != NULL);
		CHECK_EQ(caps->cpuid.nent, k.prof->cpuid->num_config);
		REQUIRE((iv = vmm_from_caps(&k, caps)) != NULL);
		CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), 0);
		CHECK_EQ(hw, 0);
		REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &k.vcpu), 0);
		REQUIRE_EQ(kvm_tdx_init_vcpu(k.vcpu, 0x1234), 0);
		c->nent = MAX_ENTRIES;
		REQUIRE_EQ(kvm_tdx_get_cpuid(k.vcpu, c), 0);
		/* the topology leaves are the profile's: 0x1F faults in 1.5.01, is virtualised later */
		for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x1f - 0xb)
			CHECK_EQ(find(c, leaf, 0) != NULL, profile_virtualizes(k.prof, leaf, 0));
		CHECK(find(c, 0x80000008, 0) && ((find(c, 0x80000008, 0)->eax >> 16) & 0xff) == 48);
		if (p < 2)
			nent[p] = c->nent;
		free(iv);
		free(caps);
		free(c);
		pfx_down(&k);
	}
	CHECK(nent[0] && nent[1] && nent[0] != nent[1]);
}

/* A bit of CPUID(7,1).EAX only tdx-1.5.06 lets the VMM set, from the profile tables. */
static uint32_t later_only_bit_7_1(void)
{
	const struct cpuid_tables *t[2] = { NULL, NULL };

	for (unsigned i = 0; i < module_profiles_count; i++) {
		if (!strcmp(module_profiles[i].name, "tdx-1.5.01"))
			t[0] = module_profiles[i].cpuid;
		if (!strcmp(module_profiles[i].name, "tdx-1.5.06"))
			t[1] = module_profiles[i].cpuid;
	}
	if (!t[0] || !t[1])
		return 0;
	for (unsigned i = 0; i < t[0]->num_config; i++) {
		const struct cpuid_config_desc *a = &t[0]->configurable[i], *b = &t[1]->configurable[i];
		uint32_t extra = (b->config_direct.eax | b->allow_direct.eax) & ~(a->config_direct.eax | a->allow_direct.eax);
		if (a->leaf == 7 && a->subleaf == 1 && extra)
			return extra & -extra;
	}
	return 0;
}

/* The compatibility worry: a VMM that hard-codes what one module accepted. */
TEST(kvm_profile_hard_coded_bit_is_refused_by_the_other_profile)
{
	uint32_t bit = later_only_bit_7_1();
	REQUIRE(bit != 0);
	for (int later = 0; later < 2; later++) {
		struct pfx k;
		struct kvm_tdx_capabilities *caps;
		struct kvm_tdx_init_vm *iv;
		struct kvm_cpuid_entry2 *e;
		uint64_t hw = 0;

		REQUIRE(pfx_up(&k, later ? "tdx-1.5.06" : "tdx-1.5.01"));
		REQUIRE((caps = caps_of(&k)) != NULL);
		REQUIRE((iv = vmm_from_caps(&k, caps)) != NULL);
		e = (struct kvm_cpuid_entry2 *)find(&iv->cpuid, 7, 1);
		REQUIRE(e != NULL);
		e->eax |= bit;
		CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), later ? 0 : -EINVAL);
		free(iv);
		free(caps);
		pfx_down(&k);
	}
}
