/* KVM selftest-style CPUID flow: KVM_TDX_CAPABILITIES against the module's TDH.SYS.RD values,
 * KVM_TDX_INIT_VM with the CPUID KVM offers, KVM_TDX_GET_CPUID against TDH.MNG.RD, and the
 * CPUID entries KVM refuses. Rules from Linux arch/x86/kvm/vmx/tdx.c @ 3829d81b. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm_internal.h" /* white box: the TDR and shared bit KVM chose */

#define CPUID_MAX 256 /* entries in a caller's kvm_cpuid2 buffer */

static struct kvm_tdx_capabilities *caps_alloc(unsigned nent)
{
	struct kvm_tdx_capabilities *c = calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));

	if (c)
		c->cpuid.nent = nent;
	return c;
}

static struct kvm_cpuid2 *cpuid_alloc(unsigned nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(struct kvm_cpuid_entry2));

	if (c)
		c->nent = nent;
	return c;
}

static uint64_t sys_rd(struct fx *f, uint64_t field)
{
	uint64_t v = 0, next;

	if (tdh_sys_rd(f->h, 0, field, &v, &next) != TDX_SUCCESS)
		return ~UINT64_C(0);
	return v;
}

/* The CPUID_VALUES field id of a leaf/sub-leaf (TDX 1.5 TD metadata: bit 16 = leaf bit 31,
 * 15:9 = leaf bits 6:0, 8:1 = sub-leaf bits 6:0 or 0xFF for "no sub-leaf"; +1 = ECX/EDX). */
static uint64_t cpuid_field(uint32_t leaf, uint32_t sub, bool sub_set)
{
	return MD_TD_FIELDS_CPUID_VALUES_FIELD_ID | (uint64_t)(leaf >> 31) << 16 | (uint64_t)(leaf & 0x7f) << 9 |
	       (sub_set ? (uint64_t)(sub & 0x7f) << 1 : UINT64_C(0xff) << 1);
}

static uint32_t reg_of(const struct kvm_cpuid_entry2 *e, unsigned r)
{
	const uint32_t v[4] = { e->eax, e->ebx, e->ecx, e->edx };
	return v[r];
}

/* tdx_get_capabilities() / init_kvm_tdx_caps(): attrs and XFAM are KVM's set within the
 * module's fixed0/fixed1, one CPUID entry per TDH.SYS.RD CPUID_CONFIG slot in slot order, each
 * bit a subset of what the module says is configurable, GPAW (0x80000008 EAX[23:16]) all-ones. */
TEST(kvm_cpuid_capabilities_vs_sys_rd)
{
	struct fx_kvm k;
	struct kvm_tdx_capabilities *caps = caps_alloc(64);
	uint64_t a0, a1, x0, x1, n;

	REQUIRE(caps);
	REQUIRE(fx_kvm_up(&k));
	a0 = sys_rd(&k.f, MD_SYS_FIELDS_ATTRIBUTES_FIXED0_FIELD_ID);
	a1 = sys_rd(&k.f, MD_SYS_FIELDS_ATTRIBUTES_FIXED1_FIELD_ID);
	x0 = sys_rd(&k.f, MD_SYS_FIELDS_XFAM_FIXED0_FIELD_ID);
	x1 = sys_rd(&k.f, MD_SYS_FIELDS_XFAM_FIXED1_FIELD_ID);
	n = sys_rd(&k.f, MD_SYS_FIELDS_NUM_CPUID_CONFIG_FIELD_ID);
	REQUIRE(n > 0 && n < 64);
	REQUIRE_EQ(kvm_tdx_capabilities(k.vm, caps), 0);
	CHECK_EQ(caps->supported_attrs, TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK & a0);
	CHECK_EQ(caps->supported_attrs & a1, a1);
	CHECK_EQ(caps->supported_xfam, KVM_SUPPORTED_XFAM & x0);
	CHECK_EQ(caps->supported_xfam & x1, x1); /* the bits the TD must have are offered */
	CHECK(caps->supported_xfam & ~x0 ? false : true);
	CHECK_EQ(caps->cpuid.nent, n);
	for (unsigned i = 0; i < caps->cpuid.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &caps->cpuid.entries[i];
		uint64_t ls = sys_rd(&k.f, MD_SYS_FIELDS_CPUID_CONFIG_LEAVES_FIELD_ID + i);
		uint64_t v0 = sys_rd(&k.f, MD_SYS_FIELDS_CPUID_CONFIG_VALUES_FIELD_ID + 2 * i);
		uint64_t v1 = sys_rd(&k.f, MD_SYS_FIELDS_CPUID_CONFIG_VALUES_FIELD_ID + 2 * i + 1);
		uint32_t sub = (uint32_t)(ls >> 32), cfg[4] = { (uint32_t)v0, (uint32_t)(v0 >> 32), (uint32_t)v1,
								 (uint32_t)(v1 >> 32) };

		CHECK_EQ(e->function, (uint32_t)ls);
		CHECK_EQ(e->index, sub == KVM_TDX_CPUID_NO_SUBLEAF ? 0 : sub);
		for (unsigned r = 0; r < 4; r++) {
			uint32_t got = reg_of(e, r);
			if (e->function == 0x80000008 && r == 0) {
				CHECK_EQ((got >> 16) & 0xff, 0xff);
				got &= ~UINT32_C(0x00ff0000);
			}
			CHECK_EQ(got & ~cfg[r], 0); /* nothing the module does not allow */
		}
		/* CPUID.4:EDX[1] is configurable in the module but unknown to tdxemu's KVM */
		if (e->function == 4 && (cfg[3] & 2))
			CHECK_EQ(e->edx & 2, 0);
	}
	free(caps);
	fx_kvm_down(&k);
}

/* tdx_get_capabilities(): -E2BIG when nent is below the slot count (nent left as is), flags
 * must be 0, a NULL buffer is -EFAULT (copy_from_user). */
TEST(kvm_cpuid_capabilities_arguments)
{
	struct fx_kvm k;
	struct kvm_tdx_capabilities *caps = caps_alloc(64);
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_CAPABILITIES, .flags = 1 };
	unsigned n;

	REQUIRE(caps);
	REQUIRE(fx_kvm_up(&k));
	n = k.f.h->sysinfo.num_cpuid_config;
	caps->cpuid.nent = n - 1;
	CHECK_EQ(kvm_tdx_capabilities(k.vm, caps), -E2BIG);
	CHECK_EQ(caps->cpuid.nent, n - 1);
	CHECK_EQ(caps->supported_attrs, 0); /* nothing copied back */
	cmd.data = (uint64_t)(uintptr_t)caps;
	caps->cpuid.nent = 64;
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EINVAL);
	cmd.flags = 0;
	cmd.data = 0;
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EFAULT);
	caps->cpuid.nent = n; /* exactly enough */
	CHECK_EQ(kvm_tdx_capabilities(k.vm, caps), 0);
	CHECK_EQ(caps->cpuid.nent, n);
	free(caps);
	fx_kvm_down(&k);
}

/* The QEMU flow: INIT_VM with one entry per slot KVM_TDX_CAPABILITIES offered, the native
 * CPUID masked by what is configurable (GPAW set to 48), then
 * KVM_TDX_GET_CPUID returns exactly what TDH.MNG.RD gives for each leaf, except the guest MAXPA
 * (0x80000008 EAX[23:16]) which KVM derives from the shared bit (tdx_read_cpuid()). */
TEST(kvm_cpuid_init_vm_with_caps_then_get_cpuid)
{
	struct fx_kvm k;
	struct kvm_tdx_capabilities *caps = caps_alloc(64);
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(64);
	struct kvm_cpuid2 *c = cpuid_alloc(CPUID_MAX);
	uint64_t hw = 1;
	unsigned need, leaves_80 = 0;

	REQUIRE(caps && iv && c);
	REQUIRE(fx_kvm_up(&k));
	REQUIRE_EQ(kvm_tdx_capabilities(k.vm, caps), 0);
	iv->cpuid.nent = caps->cpuid.nent;
	for (unsigned i = 0; i < iv->cpuid.nent; i++) {
		struct kvm_cpuid_entry2 *e = &iv->cpuid.entries[i];
		struct cpuid_regs nat;

		*e = caps->cpuid.entries[i];
		plat_cpuid(k.f.p, 0, e->function, e->index, &nat);
		e->eax &= nat.eax, e->ebx &= nat.ebx, e->ecx &= nat.ecx, e->edx &= nat.edx;
		if (e->function == 0x80000008)
			e->eax = (e->eax & ~UINT32_C(0x00ff0000)) | 48 << 16;
	}
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), 0);
	CHECK_EQ(hw, 0);
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &k.vcpu), 0);
	REQUIRE_EQ(kvm_tdx_init_vcpu(k.vcpu, 0), 0);

	/* -E2BIG: nent tells how many are needed, entries are not written */
	c->nent = 3;
	memset(c->entries, 0xa5, 3 * sizeof(c->entries[0]));
	CHECK_EQ(kvm_tdx_get_cpuid(k.vcpu, c), -E2BIG);
	need = c->nent;
	CHECK(need > 3 && need <= CPUID_MAX);
	CHECK_EQ(c->entries[0].function, 0xa5a5a5a5);
	c->nent = need; /* exactly enough */
	REQUIRE_EQ(kvm_tdx_get_cpuid(k.vcpu, c), 0);
	CHECK_EQ(c->nent, need);
	CHECK_EQ(c->entries[0].function, 0);
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		bool sub_set = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		uint64_t lo = 0, hi = 0;

		CHECK_EQ(e->flags & ~KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0);
		REQUIRE_EQ(tdh_mng_rd(k.f.h, 0, k.vm->tdr, cpuid_field(e->function, e->index, sub_set), &lo), TDX_SUCCESS);
		REQUIRE_EQ(tdh_mng_rd(k.f.h, 0, k.vm->tdr, cpuid_field(e->function, e->index, sub_set) + 1, &hi),
			   TDX_SUCCESS);
		if (e->function == 0x80000008) {
			CHECK_EQ((e->eax >> 16) & 0xff, 48); /* shared bit 47 -> MAXPA 48 */
			lo = (lo & ~UINT64_C(0x00ff0000)) | (e->eax & UINT32_C(0x00ff0000));
		}
		CHECK_EQ(((uint64_t)e->ebx << 32) | e->eax, lo);
		CHECK_EQ(((uint64_t)e->edx << 32) | e->ecx, hi);
		if (e->function >= 0x80000000)
			leaves_80++;
		if (i && !sub_set)
			CHECK(e->function != c->entries[i - 1].function); /* one entry per plain leaf */
	}
	/* the basic range up to CPUID.0:EAX, then the extended range up to CPUID.0x80000000:EAX */
	CHECK(c->entries[0].eax >= 0x1f);
	CHECK(leaves_80 >= 2);
	free(caps);
	free(iv);
	free(c);
	fx_kvm_down(&k);
}

/* setup_tdparams_cpuids(): a configurable bit the module enumerates but KVM does not know is
 * set to 1 by KVM whatever userspace asked. Contrast: the same TD built directly with that
 * bit 0 in TD_PARAMS shows it 0, so the 1 seen through KVM_TDX_GET_CPUID is KVM's doing. */
TEST(kvm_cpuid_unknown_bits_forced_to_one)
{
	struct fx_kvm k;
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(1);
	struct kvm_cpuid2 *c = cpuid_alloc(CPUID_MAX);
	struct fx_td td;
	struct td_params p;
	uint64_t hi = ~UINT64_C(0);
	bool seen = false;

	REQUIRE(iv && c);
	REQUIRE(fx_kvm_up(&k));
	iv->cpuid.nent = 2;
	iv->cpuid.entries[1] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0, .edx = 0 };
	REQUIRE_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), 0);
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &k.vcpu), 0);
	REQUIRE_EQ(kvm_tdx_get_cpuid(k.vcpu, c), 0);
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 4 && c->entries[i].index == 0) {
			seen = true;
			CHECK_EQ(c->entries[i].edx & 2, 2);
		}
	CHECK(seen);
	kvm_destroy_vm(k.vm); /* its HKID back: fx_td_create() picks HKIDs on its own */
	k.vm = NULL;

	REQUIRE(fx_td_create(&k.f, &td));
	fx_td_params_default(&p); /* every configurable CPUID bit 0 */
	REQUIRE_EQ(fx_td_init(&k.f, &td, &p, NULL), TDX_SUCCESS);
	REQUIRE_EQ(tdh_mng_rd(k.f.h, 0, td.tdr, cpuid_field(4, 0, true) + 1, &hi), TDX_SUCCESS);
	CHECK_EQ((hi >> 32) & 2, 0);
	CHECK(fx_td_destroy(&k.f, &td));
	free(iv);
	free(c);
	fx_kvm_down(&k);
}

/* tdx_unsupported_cpuid() (TSX: HLE, RTM; WAITPKG) and the copy_cnt != nent check of
 * setup_tdparams_cpuids(): -EINVAL, nothing allocated, the VM can still be initialised. */
TEST(kvm_cpuid_refused_entries)
{
	static const struct {
		const char *what;
		struct kvm_cpuid_entry2 e;
	} bad[] = {
		{ "HLE (7.0 EBX[4])", { .function = 7, .index = 0, .ebx = 1u << 4 } },
		{ "RTM (7.0 EBX[11])", { .function = 7, .index = 0, .ebx = 1u << 11 } },
		{ "WAITPKG (7.0 ECX[5])", { .function = 7, .index = 0, .ecx = 1u << 5 } },
		{ "hypervisor leaf: no slot", { .function = 0x40000000 } },
		{ "leaf 7 sub-leaf 5: no slot", { .function = 7, .index = 5 } },
		{ "leaf 0xd: not configurable", { .function = 0xd, .index = 0 } },
		{ "duplicate 0x80000008", { .function = 0x80000008, .eax = 48 << 16 } },
	};
	struct fx_kvm k;
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(1);

	REQUIRE(iv);
	REQUIRE(fx_kvm_up(&k));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		iv->cpuid.nent = 2;
		iv->cpuid.entries[1] = bad[i].e;
		if (kvm_tdx_init_vm(k.vm, iv, NULL) != -EINVAL)
			test_fail(__FILE__, __LINE__, "%s: not refused", bad[i].what);
	}
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	iv->cpuid.nent = 1;
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), 0);
	free(iv);
	fx_kvm_down(&k);
}

/* setup_tdparams_eptp_controls(): GPAW comes from 0x80000008 EAX[23:16]; only 48 and 52,
 * and 52 only with 5-level EPT, which the simulated CPU lacks; no 0x80000008 entry -EINVAL.
 * With 48 the TD gets a 4-level EPTP and KVM the shared bit 47. */
TEST(kvm_cpuid_gpaw)
{
	static const uint32_t refused[] = { 52, 0, 39, 47, 49, 51, 57, 0xff };
	struct fx_kvm k;
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(1);
	uint64_t eptp = 0, gpaw = ~UINT64_C(0), hw = 0;

	REQUIRE(iv);
	REQUIRE(fx_kvm_up(&k));
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		iv->cpuid.entries[0].eax = refused[i] << 16;
		if (kvm_tdx_init_vm(k.vm, iv, NULL) != -EINVAL)
			test_fail(__FILE__, __LINE__, "GPAW %u accepted", refused[i]);
	}
	iv->cpuid.entries[0] = (struct kvm_cpuid_entry2){ .function = 1 }; /* no 0x80000008 at all */
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), -EINVAL);
	/* KVM passes the other bits to the module, which refuses what is not configurable: the
	 * SEAMCALL status comes back in hw_error as a hint (__tdx_td_init()) */
	iv->cpuid.entries[0] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .eax = 48 << 16 | 0x3030 };
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL);
	CHECK_EQ(hw & UINT64_C(0xFFFFFFFF00000000), TDX_OPERAND_INVALID);
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	iv->cpuid.entries[0].eax = 48 << 16;
	REQUIRE_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), 0);
	CHECK_EQ(hw, 0);
	CHECK_EQ(k.vm->shared_bit, UINT64_C(1) << 47);
	REQUIRE_EQ(tdh_mng_rd(k.f.h, 0, k.vm->tdr, MD_TD_FIELDS_EPTP_FIELD_ID, &eptp), TDX_SUCCESS);
	CHECK_EQ((eptp >> EPTP_CONTROLS_EPT_PWL_SHIFT) & 7, 3); /* 4-level walk */
	REQUIRE_EQ(tdh_mng_rd(k.f.h, 0, k.vm->tdr, MD_TD_FIELDS_GPAW_FIELD_ID, &gpaw), TDX_SUCCESS);
	CHECK_EQ(gpaw, 0); /* GPAW 48 */
	free(iv);
	fx_kvm_down(&k);
}

/* tdx_td_init(): more than KVM_MAX_CPUID_ENTRIES -E2BIG, cpuid.padding -EINVAL. */
TEST(kvm_cpuid_init_vm_sizes)
{
	struct fx_kvm k;
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(0);

	REQUIRE(iv);
	REQUIRE(fx_kvm_up(&k));
	iv->cpuid.nent = KVM_MAX_CPUID_ENTRIES + 1;
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), -E2BIG);
	iv->cpuid.nent = 1;
	iv->cpuid.padding = 1;
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), -EINVAL);
	iv->cpuid.padding = 0;
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), 0);
	free(iv);
	fx_kvm_down(&k);
}
