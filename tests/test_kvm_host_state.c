/* KVM around TDH.VP.ENTER (selftest style): after KVM_RUN returns, every host register a TD
 * exit clobbers holds the host's value again; user-return MSRs are restored once per
 * return to userspace, not per exit; debug registers only when the host has breakpoints
 * armed (as Linux); TD features whose host state KVM cannot restore are refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm.h"
#include "kvm/kvm_internal.h"

struct hs {
	struct fx f;
	struct kvm_dev *d;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	unsigned calls, handled_in_kvm;
};

static int init_vm(struct hs *k, uint64_t attributes, uint32_t leaf7_ecx)
{
	struct kvm_tdx_init_vm *iv = calloc(1, sizeof(*iv) + 2 * sizeof(struct kvm_cpuid_entry2));
	uint64_t hw;
	int r;

	iv->attributes = attributes;
	iv->xfam = 0x3;
	iv->cpuid.nent = 1;
	iv->cpuid.entries[0].function = 0x80000008;
	iv->cpuid.entries[0].eax = 48 << 16;
	if (leaf7_ecx) {
		iv->cpuid.nent = 2;
		iv->cpuid.entries[1].function = 7;
		iv->cpuid.entries[1].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		iv->cpuid.entries[1].ecx = leaf7_ecx;
	}
	r = kvm_tdx_init_vm(k->vm, iv, &hw);
	free(iv);
	return r;
}

static bool hs_up(struct hs *k)
{
	uint64_t hw;

	memset(k, 0, sizeof(*k));
	if (!fx_create(&k->f) || !fx_bringup(&k->f) || !(k->d = kvm_open(k->f.h)) ||
	    kvm_create_vm(k->d, KVM_X86_TDX_VM, &k->vm) || init_vm(k, 0, 0))
		return false;
	return !kvm_create_vcpu(k->vm, 0, &k->vcpu) && !kvm_tdx_init_vcpu(k->vcpu, 0) &&
	       !kvm_tdx_finalize_vm(k->vm, &hw);
}

static void hs_down(struct hs *k)
{
	kvm_destroy_vm(k->vm);
	kvm_close(k->d);
	fx_destroy(&k->f);
}

static uint64_t host_val(unsigned i) { return UINT64_C(0x0101000000000000) | (i + 1) * 0x1111; }


static int dr7_index(void)
{
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		if (td_exit_state[i].kind == TD_EXIT_KIND_REG && td_exit_state[i].index == PLAT_REG_DR7)
			return (int)i;
	return -1;
}

/* The guest scribbles over every register of the table, makes three TDVMCALLs KVM answers
 * itself (unknown sub-function), then an OUT to port 0x80, which goes to userspace. */
static uint64_t guest(void *ctx, struct kvm_vcpu *v, struct kvm_vp_enter_args *a)
{
	struct hs *k = ctx;

	(void)v;
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		fx_lp_set(k->f.p, 0, &td_exit_state[i], ~host_val(i));
	if (k->calls > 0 && a->r10 == TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED)
		k->handled_in_kvm++;
	*a = k->calls < 3 ? (struct kvm_vp_enter_args){ .r11 = 0x12345 }
			  : (struct kvm_vp_enter_args){ .r11 = EXIT_REASON_IO_INSTRUCTION, .r12 = 1, .r13 = 1, .r14 = 0x80 };
	k->calls++;
	return EXIT_REASON_TDCALL;
}

static const struct kvm_engine_ops guest_ops = { guest };

static void set_host_values(struct hs *k, bool breakpoints)
{
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		fx_lp_set(k->f.p, 0, &td_exit_state[i], host_val(i));
	/* DR7 with G0 armed (a host breakpoint) or only its reserved bit 10 */
	fx_lp_set(k->f.p, 0, &td_exit_state[dr7_index()], breakpoints ? 0x402 : 0x400);
}

TEST(kvm_host_state_intact_after_run)
{
	struct hs k;
	const struct kvm_vcpu_stat *st;

	REQUIRE(hs_up(&k));
	REQUIRE(dr7_index() >= 0);
	kvm_vcpu_set_engine(k.vcpu, &guest_ops, &k);
	set_host_values(&k, true);
	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(kvm_vcpu_run_struct(k.vcpu)->exit_reason, KVM_EXIT_IO);
	CHECK_EQ(k.calls, 4u);
	CHECK_EQ(k.handled_in_kvm, 3u);
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++) {
		uint64_t want = i == (unsigned)dr7_index() ? 0x402 : host_val(i);
		if (td_exit_state[i].kvm_restore == KVM_HOST_RESTORE_NOT_NEEDED)
			continue; /* CR2: the host never relies on it across an exit */
		if (fx_lp_get(k.f.p, 0, &td_exit_state[i]) != want)
			test_fail(__FILE__, __LINE__, "%s not restored: 0x%llx", td_exit_state[i].name,
				  (unsigned long long)fx_lp_get(k.f.p, 0, &td_exit_state[i]));
	}
	st = kvm_vcpu_get_stat(k.vcpu);
	CHECK_EQ(st->exits, 4u);
	/* lazily: the four user-return MSRs once for the whole KVM_RUN, not after every exit */
	CHECK_EQ(st->user_return_restores, 4u);
	CHECK_EQ(st->host_state_reload, 1u);
	hs_down(&k);
}

TEST(kvm_host_debug_registers_only_with_breakpoints)
{
	struct hs k;
	unsigned dr0 = 0;

	REQUIRE(hs_up(&k));
	kvm_vcpu_set_engine(k.vcpu, &guest_ops, &k);
	set_host_values(&k, false);
	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	for (unsigned i = 0; i < TD_EXIT_STATE_COUNT; i++)
		if (td_exit_state[i].kind == TD_EXIT_KIND_REG && td_exit_state[i].index == PLAT_REG_DR0)
			dr0 = i;
	/* no host breakpoint: hw_breakpoint_restore() is skipped and DR0 keeps its INIT value */
	CHECK_EQ(fx_lp_get(k.f.p, 0, &td_exit_state[dr0]), td_exit_state[dr0].value);
	CHECK_EQ(fx_lp_get(k.f.p, 0, &td_exit_state[dr7_index()]), 0x400u);
	hs_down(&k);
}

TEST(kvm_refuses_features_whose_host_state_it_cannot_restore)
{
	struct hs k;
	struct kvm_tdx_capabilities *caps = calloc(1, sizeof(*caps) + 64 * sizeof(struct kvm_cpuid_entry2));
	uint32_t waitpkg[4];

	memset(&k, 0, sizeof(k));
	REQUIRE(fx_create(&k.f) && fx_bringup(&k.f) && (k.d = kvm_open(k.f.h)));
	REQUIRE_EQ(kvm_create_vm(k.d, KVM_X86_TDX_VM, &k.vm), 0);
	caps->cpuid.nent = 64;
	REQUIRE_EQ(kvm_tdx_capabilities(k.vm, caps), 0);
	/* the data says: Perfmon MSRs and IA32_UMWAIT_CONTROL are never restored */
	CHECK(kvm_host_state_blocked_attrs() & TD_ATTRIBUTES_PERFMON_MASK);
	CHECK_EQ(caps->supported_attrs & TD_ATTRIBUTES_PERFMON_MASK, 0);
	kvm_host_state_blocked_cpuid(7, 0, waitpkg);
	CHECK(waitpkg[2] != 0);
	for (unsigned i = 0; i < caps->cpuid.nent; i++)
		if (caps->cpuid.entries[i].function == 7 && caps->cpuid.entries[i].index == 0)
			CHECK_EQ(caps->cpuid.entries[i].ecx & waitpkg[2], 0);
	CHECK_EQ(init_vm(&k, TD_ATTRIBUTES_PERFMON_MASK, 0), -EINVAL);
	CHECK_EQ(init_vm(&k, 0, waitpkg[2]), -EINVAL);
	CHECK_EQ(init_vm(&k, 0, 0), 0);
	free(caps);
	kvm_destroy_vm(k.vm);
	kvm_close(k.d);
	fx_destroy(&k.f);
}
