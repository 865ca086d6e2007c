/* KVM selftest-style bad arguments: every sub-command's flags, ids, hw_error, pointers and
 * ranges, with the errno of the Linux function named in each test (arch/x86/kvm/vmx/tdx.c
 * @ 3829d81b, virt/kvm/kvm_main.c, virt/kvm/guest_memfd.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm_internal.h" /* KVM_MAX_SLOTS */

static uint8_t pages[4 * 4096] __attribute__((aligned(4096)));

static int mem_region(struct kvm_vcpu *v, uint64_t src, uint64_t gpa, uint64_t n, uint32_t flags)
{
	struct kvm_tdx_init_mem_region r = { src, gpa, n };

	return kvm_tdx_init_mem_region(v, &r, flags);
}

/* kvm_dev_ioctl_create_vm() -> kvm_arch_init_vm(): only the TDX type is modelled. */
TEST(kvm_args_create_vm_types)
{
	static const uint64_t bad[] = { KVM_X86_DEFAULT_VM, KVM_X86_SW_PROTECTED_VM, KVM_X86_SEV_VM,
					KVM_X86_SEV_ES_VM, KVM_X86_SNP_VM, KVM_X86_TDX_VM + 1, ~UINT64_C(0) };
	struct fx_kvm k;
	struct kvm_vm *vm = (struct kvm_vm *)&k;

	REQUIRE(fx_kvm_up(&k));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(kvm_create_vm(k.d, bad[i], &vm), -EINVAL);
		CHECK(vm == NULL);
	}
	fx_kvm_down(&k);
}

/* tdx_vm_ioctl(): hw_error set by userspace -EINVAL before anything else, unknown command ids
 * (vCPU-only ones too) -EINVAL. tdx_vcpu_ioctl(): the same on the vCPU fd. */
TEST(kvm_args_cmd_ids_and_hw_error)
{
	static const uint32_t vm_bad[] = { KVM_TDX_INIT_VCPU, KVM_TDX_INIT_MEM_REGION, KVM_TDX_GET_CPUID,
					   KVM_TDX_CMD_NR_MAX, 0x7fffffff };
	static const uint32_t vcpu_bad[] = { KVM_TDX_CAPABILITIES, KVM_TDX_INIT_VM, KVM_TDX_FINALIZE_VM,
					     KVM_TDX_CMD_NR_MAX, ~UINT32_C(0) };
	struct fx_kvm k;
	struct kvm_tdx_cmd cmd;
	uint64_t hw = 0;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	for (unsigned i = 0; i < sizeof(vm_bad) / sizeof(vm_bad[0]); i++) {
		cmd = (struct kvm_tdx_cmd){ .id = vm_bad[i] };
		CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EINVAL);
	}
	for (unsigned i = 0; i < sizeof(vcpu_bad) / sizeof(vcpu_bad[0]); i++) {
		cmd = (struct kvm_tdx_cmd){ .id = vcpu_bad[i] };
		CHECK_EQ(kvm_vcpu_memory_encrypt_op(k.vcpu, &cmd), -EINVAL);
	}
	cmd = (struct kvm_tdx_cmd){ .id = KVM_TDX_FINALIZE_VM, .hw_error = 1 };
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EINVAL);
	cmd = (struct kvm_tdx_cmd){ .id = KVM_TDX_GET_CPUID, .hw_error = 1 };
	CHECK_EQ(kvm_vcpu_memory_encrypt_op(k.vcpu, &cmd), -EINVAL);
	/* tdx_td_finalize() does not look at flags or data (intel-tdx.rst says "must be 0") */
	cmd = (struct kvm_tdx_cmd){ .id = KVM_TDX_FINALIZE_VM, .flags = 1, .data = 1 };
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), 0);
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EINVAL);
	fx_kvm_down(&k);
}

/* tdx_td_init() + setup_tdparams(): flags -EINVAL, NULL -EFAULT, reserved[] -EINVAL, attributes
 * or XFAM outside what KVM_TDX_CAPABILITIES reports -EINVAL. None leaves anything behind. */
TEST(kvm_args_init_vm)
{
	struct fx_kvm k;
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(0);
	struct kvm_tdx_capabilities *caps = calloc(1, sizeof(*caps) + 64 * sizeof(struct kvm_cpuid_entry2));
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_INIT_VM, .flags = 1 };

	REQUIRE(iv && caps);
	REQUIRE(fx_kvm_up(&k));
	caps->cpuid.nent = 64;
	REQUIRE_EQ(kvm_tdx_capabilities(k.vm, caps), 0);
	cmd.data = (uint64_t)(uintptr_t)iv;
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EINVAL);
	cmd.flags = 0;
	cmd.data = 0;
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EFAULT);
	for (unsigned i = 0; i < sizeof(iv->reserved) / sizeof(iv->reserved[0]); i++) {
		iv->reserved[i] = UINT64_C(1) << i;
		CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), -EINVAL);
		iv->reserved[i] = 0;
	}
	for (unsigned b = 0; b < 64; b++) {
		uint64_t bit = UINT64_C(1) << b;
		if (caps->supported_attrs & bit)
			continue;
		iv->attributes = bit;
		if (kvm_tdx_init_vm(k.vm, iv, NULL) != -EINVAL)
			test_fail(__FILE__, __LINE__, "attribute bit %u accepted", b);
	}
	iv->attributes = 0;
	for (unsigned b = 0; b < 64; b++) {
		uint64_t bit = UINT64_C(1) << b;
		if (caps->supported_xfam & bit)
			continue;
		iv->xfam = 0x3 | bit;
		if (kvm_tdx_init_vm(k.vm, iv, NULL) != -EINVAL)
			test_fail(__FILE__, __LINE__, "XFAM bit %u accepted", b);
	}
	iv->xfam = 0x3;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	/* what is offered is accepted: SEPT_VE_DISABLE */
	iv->attributes = caps->supported_attrs;
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), 0);
	free(iv);
	free(caps);
	fx_kvm_down(&k);
}

/* kvm_vm_ioctl_create_vcpu(): more vCPUs than max_vcpus (tdx_vm_init(): the present CPUs, 4
 * here) -EINVAL; an id already in use -EEXIST. */
TEST(kvm_args_vcpus)
{
	struct fx_kvm k;
	struct kvm_vcpu *v;
	unsigned lps;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k)); /* vCPU 0 */
	lps = plat_nr_lps(k.f.p);
	REQUIRE(lps >= 2);
	CHECK_EQ(kvm_create_vcpu(k.vm, 0, &v), -EEXIST);
	for (unsigned id = 1; id < lps; id++)
		CHECK_EQ(kvm_create_vcpu(k.vm, 10 * id, &v), 0);
	CHECK_EQ(kvm_create_vcpu(k.vm, 99, &v), -EINVAL);
	CHECK(v == NULL);
	fx_kvm_down(&k);
}

/* tdx_vcpu_init(): flags -EINVAL. tdx_vcpu_get_cpuid(): NULL -EFAULT. */
TEST(kvm_args_vcpu_cmds)
{
	struct fx_kvm k;
	struct kvm_vcpu *v;
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_INIT_VCPU, .flags = 1 };

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 1, &v), 0);
	CHECK_EQ(kvm_vcpu_memory_encrypt_op(v, &cmd), -EINVAL);
	cmd.flags = 0;
	CHECK_EQ(kvm_vcpu_memory_encrypt_op(v, &cmd), 0);
	cmd = (struct kvm_tdx_cmd){ .id = KVM_TDX_GET_CPUID };
	CHECK_EQ(kvm_vcpu_memory_encrypt_op(v, &cmd), -EFAULT);
	fx_kvm_down(&k);
}

/* tdx_vcpu_init_mem_region(): flags other than MEASURE, NULL, unaligned source or GPA,
 * nr_pages 0, a wrapping range, a range not entirely private (shared bit) -> -EINVAL/-EFAULT;
 * kvm_gmem_populate(): no slot or no guest_memfd slot -EINVAL, a page not private -EINVAL,
 * one already populated -EEXIST. On failure part way the region reports how far it got. */
TEST(kvm_args_init_mem_region)
{
	const uint64_t base = 0x100000, shared = UINT64_C(1) << 47, src = (uint64_t)(uintptr_t)pages;
	struct fx_kvm k;
	struct kvm_memory_region plain = { .slot = 1, .guest_phys_addr = 0x200000, .memory_size = 0x4000,
					   .userspace_addr = pages };
	struct kvm_tdx_init_mem_region r;
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_INIT_MEM_REGION };

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, base, 0x4000));
	REQUIRE_EQ(kvm_set_user_memory_region2(k.vm, &plain), 0);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, 0x200000, 0x4000, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
	CHECK_EQ(mem_region(k.vcpu, src, base, 1, 2), -EINVAL);
	CHECK_EQ(mem_region(k.vcpu, src, base, 1, ~UINT32_C(0)), -EINVAL);
	CHECK_EQ(kvm_vcpu_memory_encrypt_op(k.vcpu, &cmd), -EFAULT);
	CHECK_EQ(mem_region(k.vcpu, src + 8, base, 1, 0), -EINVAL);
	CHECK_EQ(mem_region(k.vcpu, src, base + 0x800, 1, 0), -EINVAL);
	CHECK_EQ(mem_region(k.vcpu, src, base, 0, 0), -EINVAL);
	CHECK_EQ(mem_region(k.vcpu, src, base, UINT64_C(1) << 52, 0), -EINVAL);  /* wraps */
	CHECK_EQ(mem_region(k.vcpu, src, shared | base, 1, 0), -EINVAL);         /* shared GPA */
	CHECK_EQ(mem_region(k.vcpu, src, shared - 0x1000, 2, 0), -EINVAL);     /* ends shared */
	CHECK_EQ(mem_region(k.vcpu, src, 0x900000, 1, 0), -EINVAL);               /* no slot */
	CHECK_EQ(mem_region(k.vcpu, src, 0x200000, 1, 0), -EINVAL);               /* no guest_memfd */
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, base + 0x2000, 0x1000, 0), 0);
	r = (struct kvm_tdx_init_mem_region){ src, base, 3 };
	CHECK_EQ(kvm_tdx_init_mem_region(k.vcpu, &r, 0), -EINVAL); /* page 3 is shared */
	CHECK_EQ(r.gpa, base + 0x2000);
	CHECK_EQ(r.nr_pages, 1);
	CHECK_EQ(r.source_addr, src + 0x2000);
	CHECK_EQ(mem_region(k.vcpu, src, base + 0x1000, 1, 0), -EEXIST);
	CHECK_EQ(mem_region(k.vcpu, src, base + 0x3000, 1, KVM_TDX_MEASURE_MEMORY_REGION), 0);
	fx_kvm_down(&k);
}

/* kvm_set_memory_region() / check_memory_region_flags() / kvm_arch_prepare_memory_region():
 * bad flags, slot id, alignment, wrap -EINVAL; overlap -EEXIST; deleting a missing slot
 * -EINVAL; guest_memfd slots cannot be changed (-EINVAL), other slots keep size and backing
 * (-EINVAL) but can move; after INIT_VM a slot may not reach the shared alias
 * (kvm_is_gfn_alias()). */
TEST(kvm_args_memory_regions)
{
	struct fx_kvm k;
	struct kvm_memory_region r;
	const struct kvm_memory_region ok = { .slot = 2, .guest_phys_addr = 0x400000, .memory_size = 0x4000,
					      .userspace_addr = pages };

	REQUIRE(fx_kvm_up(&k));
	r = ok, r.flags = 1; /* KVM_MEM_LOG_DIRTY_PAGES: not modelled */
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r = ok, r.slot = KVM_MAX_SLOTS;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r = ok, r.guest_phys_addr += 0x800;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r = ok, r.memory_size = 0x1800;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r = ok, r.userspace_addr = pages + 8;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r = ok, r.guest_phys_addr = ~UINT64_C(0xfff);
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r = ok, r.memory_size = 0;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL); /* delete a missing slot */
	REQUIRE_EQ(kvm_set_user_memory_region2(k.vm, &ok), 0);
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &ok), 0); /* the same again: nothing to do */
	r = ok, r.slot = 3, r.guest_phys_addr = 0x402000;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EEXIST);
	r = ok, r.memory_size = 0x8000;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL); /* resize */
	r = ok, r.userspace_addr = pages + 4096;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r = ok, r.flags = KVM_MEM_GUEST_MEMFD;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL); /* cannot become private */
	r = ok, r.guest_phys_addr = 0x600000;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), 0); /* move */
	r = (struct kvm_memory_region){ .slot = 4, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = 0x400000,
					.memory_size = 0x4000 };
	REQUIRE_EQ(kvm_set_user_memory_region2(k.vm, &r), 0); /* where slot 2 was */
	r.guest_phys_addr = 0x800000;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL); /* guest_memfd slots do not move */
	REQUIRE(fx_kvm_init(&k));
	r = (struct kvm_memory_region){ .slot = 5, .guest_phys_addr = (UINT64_C(1) << 47) - 0x1000,
					.memory_size = 0x2000 };
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EINVAL);
	r.memory_size = 0x1000;
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), 0);
	fx_kvm_down(&k);
}

/* KVM_SET_TSC_KHZ: the TD's TSC_FREQUENCY (units of 25 MHz, rounded down) comes from it; 0
 * means the host's; TDH.MNG.INIT refuses a frequency outside the module's range (INIT_VM
 * fails with its status); once a vCPU exists the frequency is fixed. */
TEST(kvm_args_set_tsc_khz)
{
	struct fx_kvm k;
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(0);
	struct kvm_vcpu *v;
	uint64_t hw = 0, f = 0;

	REQUIRE(iv);
	REQUIRE(fx_kvm_up(&k));
	CHECK_EQ(kvm_vm_set_tsc_khz(k.vm, UINT32_MAX), -EINVAL);
	CHECK_EQ(kvm_vm_set_tsc_khz(k.vm, 50000), 0); /* 50 MHz: KVM takes it, the module does not */
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL); /* tdx_td_init(): OPERAND_INVALID */
	CHECK_EQ(hw & UINT64_C(0xFFFFFFFF00000000), TDX_OPERAND_INVALID);
	fx_kvm_down(&k);

	REQUIRE(fx_kvm_up(&k));
	CHECK_EQ(kvm_vm_set_tsc_khz(k.vm, 2012345), 0); /* 2.012 GHz -> 80 x 25 MHz */
	REQUIRE_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), 0);
	REQUIRE_EQ(tdh_mng_rd(k.f.h, 0, k.vm->tdr, MD_TD_FIELDS_TSC_FREQUENCY_FIELD_ID, &f), TDX_SUCCESS);
	CHECK_EQ(f, 80u);
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &v), 0);
	CHECK_EQ(kvm_vm_set_tsc_khz(k.vm, 3000000), -EINVAL);
	fx_kvm_down(&k);
	free(iv);
}

/* kvm_set_param(): the kernel's bool spellings, -EINVAL for anything else. */
TEST(kvm_set_param_values)
{
	static const char *const yes[] = { "y", "Y", "1", "on" }, *const no[] = { "n", "N", "0", "off" };
	struct fx f;
	struct kvm_dev *d;

	REQUIRE(fx_create(&f) && fx_bringup(&f));
	REQUIRE((d = kvm_open(f.h)) != NULL);
	CHECK(kvm_param_no_rbp_mod(d)); /* Linux's default */
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(kvm_set_param(d, "no_rbp_mod", no[i]), 0);
		CHECK(!kvm_param_no_rbp_mod(d));
		CHECK_EQ(kvm_set_param(d, "no_rbp_mod", yes[i]), 0);
		CHECK(kvm_param_no_rbp_mod(d));
	}
	CHECK_EQ(kvm_set_param(d, "no_rbp_mod", "yes please"), -EINVAL);
	CHECK_EQ(kvm_set_param(d, "no_rbp_mod", ""), -EINVAL);
	CHECK_EQ(kvm_set_param(d, "NO_RBP_MOD", "N"), -EINVAL);
	CHECK_EQ(kvm_set_param(d, NULL, "N"), -EINVAL);
	CHECK(kvm_param_no_rbp_mod(d)); /* failures leave it alone */
	kvm_close(d);
	fx_destroy(&f);
}

/* KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS) (tdx_vm_enable_cap()): QEMU sets -smp's count before
 * INIT_VM; it becomes TD_PARAMS.MAX_VCPUS, so one vCPU more cannot be created. */
TEST(kvm_cap_max_vcpus)
{
	struct fx_kvm k;
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(0);
	struct kvm_vcpu *v0, *v1;

	REQUIRE(iv && fx_kvm_up(&k));
	CHECK_EQ(kvm_vm_enable_cap_max_vcpus(k.vm, 1, 1), -EINVAL);                  /* flags */
	CHECK_EQ(kvm_vm_enable_cap_max_vcpus(k.vm, 0, 0), -EINVAL);
	CHECK_EQ(kvm_vm_enable_cap_max_vcpus(k.vm, 0, KVM_MAX_VCPUS + 1), -E2BIG);
	CHECK_EQ(kvm_vm_enable_cap_max_vcpus(k.vm, 0, 1), 0);
	REQUIRE_EQ(kvm_tdx_init_vm(k.vm, iv, NULL), 0);
	CHECK_EQ(k.vm->max_vcpus, 1u);
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &v0), 0);
	CHECK(kvm_create_vcpu(k.vm, 1, &v1) < 0);
	CHECK_EQ(kvm_vm_enable_cap_max_vcpus(k.vm, 0, 2), -EBUSY);                  /* a vCPU exists */
	free(iv);
	fx_kvm_down(&k);
}
