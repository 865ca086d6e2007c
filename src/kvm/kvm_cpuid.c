/* The vCPU's CPUID table (KVM_SET_CPUID2) and kvm_cpuid() as TDVMCALL<CPUID> uses it
 * (arch/x86/kvm/cpuid.c): an exact entry, or for a leaf beyond its class's maximum the
 * maximum basic leaf (Intel), or zeros. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm_internal.h"

#define CPUID_CLASS_HYPERVISOR_FIRST 0x40000000u
#define CPUID_CLASS_HYPERVISOR_LAST 0x4fffffffu
#define CPUID_CLASS_CENTAUR 0xc0000000u
#define CPUID_CLASS_EXTENDED 0x80000000u

static bool same_table(const struct kvm_vcpu *v, const struct kvm_cpuid2 *c)
{
	return v->cpuid_nent == c->nent && !memcmp(v->cpuid, c->entries, c->nent * sizeof(c->entries[0]));
}

int kvm_vcpu_set_cpuid2(struct kvm_vcpu *v, const struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e;

	if (kvm_vm_dead(v->vm))
		return -EIO;
	if (!c)
		return -EFAULT;
	if (c->nent > KVM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	/* kvm_set_cpuid(): after the first KVM_RUN only an identical table is accepted */
	if (v->ran)
		return same_table(v, c) ? 0 : -EBUSY;
	e = malloc((c->nent ? c->nent : 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	memcpy(e, c->entries, c->nent * sizeof(*e));
	free(v->cpuid);
	v->cpuid = e;
	v->cpuid_nent = c->nent;
	return 0;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_vcpu *v, uint32_t fn, uint32_t index)
{
	for (unsigned i = 0; i < v->cpuid_nent; i++) {
		const struct kvm_cpuid_entry2 *e = &v->cpuid[i];
		if (e->function == fn && (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
			return e;
	}
	return NULL;
}

const struct kvm_cpuid_entry2 *kvm_find_cpuid_entry(const struct kvm_vcpu *v, uint32_t fn, uint32_t index)
{
	return find(v, fn, index);
}

/* get_out_of_range_cpuid_entry(): NULL when fn lies inside its class's range. */
static const struct kvm_cpuid_entry2 *out_of_range(const struct kvm_vcpu *v, uint32_t *fn, uint32_t index)
{
	const struct kvm_cpuid_entry2 *basic = find(v, 0, 0), *class;

	if (!basic)
		return NULL;
	if (*fn >= CPUID_CLASS_HYPERVISOR_FIRST && *fn <= CPUID_CLASS_HYPERVISOR_LAST)
		class = find(v, *fn & 0xffffff00u, 0);
	else if (*fn >= CPUID_CLASS_CENTAUR)
		class = find(v, CPUID_CLASS_CENTAUR, 0);
	else
		class = find(v, *fn & CPUID_CLASS_EXTENDED, 0);
	if (class && *fn <= class->eax)
		return NULL;
	*fn = basic->eax;
	return find(v, basic->eax, index);
}

void kvm_cpuid(const struct kvm_vcpu *v, uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
	uint32_t fn = *eax, index = *ecx;
	const struct kvm_cpuid_entry2 *e = find(v, fn, index);

	if (!e)
		e = out_of_range(v, &fn, index);
	if (e) {
		*eax = e->eax, *ebx = e->ebx, *ecx = e->ecx, *edx = e->edx;
		return;
	}
	*eax = *ebx = *ecx = *edx = 0;
	/* Leaves 0xB and 0x1F: ECX[7:0] echoes the subleaf, EDX is the x2APIC ID, for any subleaf. */
	if (fn == 0xb || fn == 0x1f) {
		e = find(v, fn, 1);
		if (e) {
			*ecx = index & 0xff;
			*edx = e->edx;
		}
	}
}
