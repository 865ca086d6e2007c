/* KVM selftest-style ordering rules of the TDX flow (Documentation/virt/kvm/x86/intel-tdx.rst
 * "KVM TDX creation flow"): each test names the Linux function that enforces the rule
 * (arch/x86/kvm/vmx/tdx.c @ 3829d81b unless said otherwise) and checks the errno. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm_internal.h" /* white box: kvm_vm_bug() */

static uint8_t page[4096] __attribute__((aligned(4096)));

static int add_page(struct kvm_vcpu *v, uint64_t gpa)
{
	struct kvm_tdx_init_mem_region r = { (uint64_t)(uintptr_t)page, gpa, 1 };

	return kvm_tdx_init_mem_region(v, &r, 0);
}

static int init_vm(struct fx_kvm *k)
{
	struct kvm_tdx_init_vm *iv = fx_kvm_init_vm_args(0);
	int r = iv ? kvm_tdx_init_vm(k->vm, iv, NULL) : -ENOMEM;

	free(iv);
	return r;
}

/* tdx_vcpu_create(): KVM_CREATE_VCPU before KVM_TDX_INIT_VM is -EIO (state not INITIALIZED). */
TEST(kvm_order_vcpu_before_init_vm)
{
	struct fx_kvm k;
	struct kvm_vcpu *v = NULL;

	REQUIRE(fx_kvm_up(&k));
	CHECK_EQ(kvm_create_vcpu(k.vm, 0, &v), -EIO);
	CHECK(v == NULL);
	CHECK_EQ(init_vm(&k), 0);
	CHECK_EQ(kvm_create_vcpu(k.vm, 0, &v), 0);
	fx_kvm_down(&k);
}

/* tdx_td_init(): a second KVM_TDX_INIT_VM is -EINVAL (state not UNINITIALIZED), nothing leaks. */
TEST(kvm_order_init_vm_twice)
{
	struct fx_kvm k;
	uint64_t in_use;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE_EQ(init_vm(&k), 0);
	in_use = kvm_dev_pages_in_use(k.d);
	CHECK_EQ(init_vm(&k), -EINVAL);
	CHECK_EQ(kvm_dev_pages_in_use(k.d), in_use);
	fx_kvm_down(&k);
}

/* tdx_td_finalize(): no HKID yet (before INIT_VM) -EINVAL; a second FINALIZE -EINVAL
 * (already RUNNABLE). */
TEST(kvm_order_finalize)
{
	struct fx_kvm k;
	uint64_t hw = 0;

	REQUIRE(fx_kvm_up(&k));
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EINVAL);
	REQUIRE(fx_kvm_init(&k));
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	CHECK_EQ(hw, 0);
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EINVAL);
	CHECK(!kvm_vm_is_bugged(k.vm));
	fx_kvm_down(&k);
}

/* KVM itself does not check for vCPUs before FINALIZE; TDH.MR.FINALIZE does ("The TD must have
 * at least one VCPU", intel/tdx-module tdh_mr_finalize.c @ TDX_1.5.01: TDX_NO_VCPUS), and
 * tdx_td_finalize() takes any status but BUSY as KVM_BUG_ON: -EIO, hw_error set, VM bugged.
 * A vCPU created but not KVM_TDX_INIT_VCPU'd has no TDVPR, so it does not count. */
TEST(kvm_order_finalize_without_initialised_vcpu)
{
	struct fx_kvm k;
	struct kvm_vcpu *v;
	uint64_t hw = 0;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE_EQ(init_vm(&k), 0);
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &v), 0);
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EIO);
	CHECK_EQ(hw, TDX_NO_VCPUS);
	CHECK(kvm_vm_is_bugged(k.vm));
	CHECK_EQ(kvm_tdx_init_vcpu(v, 0), -EIO);
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	fx_kvm_down(&k);
}

/* After FINALIZE: tdx_vcpu_create() -EIO (RUNNABLE is not INITIALIZED); tdx_vcpu_ioctl()
 * refuses every vCPU sub-command with -EINVAL (INIT_VCPU, INIT_MEM_REGION, GET_CPUID);
 * tdx_vcpu_pre_run() refuses KVM_RUN of a vCPU that was never initialised. CAPABILITIES
 * still works. */
TEST(kvm_order_after_finalize)
{
	struct fx_kvm k;
	struct kvm_vcpu *v2 = NULL, *v3 = NULL;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
	struct kvm_tdx_capabilities *caps = calloc(1, sizeof(*caps) + 64 * sizeof(struct kvm_cpuid_entry2));
	uint64_t hw;

	REQUIRE(c && caps);
	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, 0x100000, 0x4000));
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 1, &v2), 0); /* created, never initialised */
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	CHECK_EQ(kvm_create_vcpu(k.vm, 2, &v3), -EIO);
	CHECK_EQ(kvm_tdx_init_vcpu(v2, 0), -EINVAL);
	CHECK_EQ(add_page(k.vcpu, 0x100000), -EINVAL);
	c->nent = 256;
	CHECK_EQ(kvm_tdx_get_cpuid(k.vcpu, c), -EINVAL);
	CHECK_EQ(kvm_vcpu_run(v2), -EINVAL);
	caps->cpuid.nent = 64;
	CHECK_EQ(kvm_tdx_capabilities(k.vm, caps), 0);
	free(c);
	free(caps);
	fx_kvm_down(&k);
}

/* tdx_vcpu_init_mem_region(): the vCPU must be initialised (-EINVAL before INIT_VCPU);
 * tdx_vcpu_init(): INIT_VCPU only once (-EINVAL); tdx_vcpu_get_cpuid() has no vCPU state
 * check, it reads the TD's CPUID, so it works before INIT_VCPU. */
TEST(kvm_order_vcpu_init)
{
	struct fx_kvm k;
	struct kvm_vcpu *v;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));

	REQUIRE(c);
	REQUIRE(fx_kvm_up(&k));
	REQUIRE_EQ(init_vm(&k), 0);
	REQUIRE(fx_kvm_private_slot(&k, 0, 0x100000, 0x4000));
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &v), 0);
	CHECK_EQ(add_page(v, 0x100000), -EINVAL);
	c->nent = 256;
	CHECK_EQ(kvm_tdx_get_cpuid(v, c), 0);
	CHECK(c->nent > 2);
	CHECK_EQ(kvm_tdx_init_vcpu(v, 0), 0);
	CHECK_EQ(kvm_tdx_init_vcpu(v, 0), -EINVAL);
	CHECK_EQ(add_page(v, 0x100000), 0);
	free(c);
	fx_kvm_down(&k);
}

/* tdx_vcpu_pre_run(): KVM_RUN before FINALIZE -EINVAL, even with an engine plugged in. */
static uint64_t never_enter(void *ctx, struct kvm_vcpu *v, struct kvm_vp_enter_args *a)
{
	(void)v;
	(void)a;
	(*(int *)ctx)++;
	return EXIT_REASON_TRIPLE_FAULT;
}

static const struct kvm_engine_ops never_ops = { never_enter };

TEST(kvm_order_run_before_finalize)
{
	struct fx_kvm k;
	int entered = 0;
	uint64_t hw;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	kvm_vcpu_set_engine(k.vcpu, &never_ops, &entered);
	CHECK_EQ(kvm_vcpu_run(k.vcpu), -EINVAL);
	CHECK_EQ(entered, 0);
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	CHECK_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(entered, 1);
	CHECK_EQ(kvm_vcpu_run_struct(k.vcpu)->exit_reason, KVM_EXIT_SHUTDOWN);
	fx_kvm_down(&k);
}

/* tdx_terminate_vm() (KVM_TDX_TERMINATE_VM, intel-tdx.rst): kvm_vm_dead(), so every later VM
 * ioctl is -EIO (kvm_vm_ioctl()); the HKID is released and teardown returns every page. Also
 * fine before INIT_VM. */
TEST(kvm_order_terminate)
{
	struct fx_kvm k;
	struct kvm_memory_region r = { .slot = 1, .guest_phys_addr = 0x800000, .memory_size = 0x1000 };
	struct kvm_vcpu *v = NULL;
	struct kvm_vm *vm2;
	uint64_t hw;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, 0x100000, 0x4000));
	REQUIRE_EQ(add_page(k.vcpu, 0x100000), 0);
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	CHECK_EQ(kvm_tdx_terminate_vm(k.vm), 0);
	CHECK(!kvm_vm_is_bugged(k.vm)); /* dead, not bugged */
	CHECK_EQ(kvm_tdx_terminate_vm(k.vm), -EIO);
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EIO);
	CHECK_EQ(kvm_create_vcpu(k.vm, 1, &v), -EIO);
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EIO);
	CHECK_EQ(kvm_set_memory_attributes(k.vm, 0x100000, 0x1000, 0), -EIO);
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	/* before INIT_VM: nothing to release, the VM is dead all the same */
	REQUIRE_EQ(kvm_create_vm(k.d, KVM_X86_TDX_VM, &vm2), 0);
	CHECK_EQ(kvm_tdx_terminate_vm(vm2), 0);
	k.vm = vm2;
	CHECK_EQ(init_vm(&k), -EIO);
	fx_kvm_down(&k);
}

/* KVM_BUG_ON() makes the VM dead: every VM ioctl -EIO (kvm_vm_ioctl() checks vm_dead first),
 * memslots and attributes included; teardown still returns every page. */
TEST(kvm_order_bugged_vm_memory_calls)
{
	struct fx_kvm k;
	struct kvm_memory_region r = { .slot = 1, .guest_phys_addr = 0x800000, .memory_size = 0x1000 };
	struct kvm_tdx_capabilities *caps = calloc(1, sizeof(*caps) + 64 * sizeof(struct kvm_cpuid_entry2));

	REQUIRE(caps);
	REQUIRE(fx_kvm_up(&k));
	REQUIRE_EQ(init_vm(&k), 0);
	/* white box: what KVM_BUG_ON() leaves behind, without provoking a module failure */
	CHECK_EQ(kvm_vm_bug(k.vm, "test", 0), -EIO);
	CHECK(kvm_vm_is_bugged(k.vm));
	caps->cpuid.nent = 64;
	CHECK_EQ(kvm_tdx_capabilities(k.vm, caps), -EIO);
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &r), -EIO);
	CHECK_EQ(kvm_set_memory_attributes(k.vm, 0x800000, 0x1000, KVM_MEMORY_ATTRIBUTE_PRIVATE), -EIO);
	CHECK_EQ(kvm_tdx_terminate_vm(k.vm), -EIO);
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	free(caps);
	fx_kvm_down(&k);
}
