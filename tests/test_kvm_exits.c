/* KVM_RUN exits for the GHCI TDVMCALLs KVM hands to userspace (tdx.c): GetTdVmCallInfo
 * (leaf 0 answered in KVM, leaf 1 asked of userspace), SetupEventNotifyInterrupt and
 * GetQuote with their operand checks, through the real TDH.VP.ENTER. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm.h"

#define SHARED (UINT64_C(1) << 47)

struct step {
	uint64_t r11, r12, r13;
};

struct script {
	const struct step *steps;
	unsigned n, i;
	uint64_t seen_r10[16], seen_r11[16], seen_r12[16];
};

static uint64_t play(void *ctx, struct kvm_vcpu *v, struct kvm_vp_enter_args *a)
{
	struct script *s = ctx;

	(void)v;
	if (s->i > 0 && s->i <= 16)
		s->seen_r10[s->i - 1] = a->r10, s->seen_r11[s->i - 1] = a->r11, s->seen_r12[s->i - 1] = a->r12;
	if (s->i >= s->n)
		return EXIT_REASON_TRIPLE_FAULT;
	*a = (struct kvm_vp_enter_args){ .r11 = s->steps[s->i].r11, .r12 = s->steps[s->i].r12, .r13 = s->steps[s->i].r13 };
	s->i++;
	return EXIT_REASON_TDCALL;
}

static const struct kvm_engine_ops play_ops = { play };

TEST(kvm_exits_tdvmcall_info_event_notify_quote)
{
	static const struct step steps[] = {
		{ TDVMCALL_GET_TD_VM_CALL_INFO, 0, 0 },           /* 0: answered in KVM */
		{ TDVMCALL_GET_TD_VM_CALL_INFO, 1, 0 },           /* 1: KVM_EXIT_TDX */
		{ TDVMCALL_GET_TD_VM_CALL_INFO, 2, 0 },           /* 2: invalid leaf */
		{ TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT, 31, 0 }, /* 3: vector below 32 */
		{ TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT, 0x40, 0 }, /* 4: KVM_EXIT_TDX */
		{ TDVMCALL_GET_QUOTE, SHARED | 0x10000, 0 },      /* 5: size 0 */
		{ TDVMCALL_GET_QUOTE, SHARED | 0x10008, 0x1000 }, /* 6: unaligned */
		{ TDVMCALL_GET_QUOTE, 0x10000, 0x1000 },          /* 7: private buffer */
		{ TDVMCALL_GET_QUOTE, SHARED | 0x10000, 0x2000 }, /* 8: KVM_EXIT_TDX */
	};
	struct script s = { steps, 9, 0, { 0 }, { 0 }, { 0 } };
	struct fx_kvm k;
	struct kvm_run *run;
	uint64_t hw;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	kvm_vcpu_set_engine(k.vcpu, &play_ops, &s);
	run = kvm_vcpu_run_struct(k.vcpu);

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(run->exit_reason, KVM_EXIT_TDX);
	CHECK_EQ(run->tdx.nr, TDVMCALL_GET_TD_VM_CALL_INFO);
	CHECK_EQ(run->tdx.get_tdvmcall_info.leaf, 1u);
	CHECK_EQ(s.seen_r10[0], TDVMCALL_STATUS_SUCCESS); /* leaf 0: zeros, in KVM */
	CHECK_EQ(s.seen_r11[0], 0u);
	run->tdx.get_tdvmcall_info.r11 = 0x5; /* userspace: the optional TDVMCALLs it serves */
	run->tdx.get_tdvmcall_info.r12 = 0x6;

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(s.seen_r10[1], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(s.seen_r11[1], 0x5u);
	CHECK_EQ(s.seen_r12[1], 0x6u);
	CHECK_EQ(s.seen_r10[2], TDVMCALL_STATUS_INVALID_OPERAND);
	CHECK_EQ(s.seen_r10[3], TDVMCALL_STATUS_INVALID_OPERAND);
	CHECK_EQ(run->exit_reason, KVM_EXIT_TDX);
	CHECK_EQ(run->tdx.nr, TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT);
	CHECK_EQ(run->tdx.setup_event_notify.vector, 0x40u);
	run->tdx.setup_event_notify.ret = TDVMCALL_STATUS_SUCCESS;

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(s.seen_r10[4], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(s.seen_r10[5], TDVMCALL_STATUS_INVALID_OPERAND);
	CHECK_EQ(s.seen_r10[6], TDVMCALL_STATUS_ALIGN_ERROR);
	CHECK_EQ(s.seen_r10[7], TDVMCALL_STATUS_INVALID_OPERAND);
	CHECK_EQ(run->exit_reason, KVM_EXIT_TDX);
	CHECK_EQ(run->tdx.nr, TDVMCALL_GET_QUOTE);
	CHECK_EQ(run->tdx.get_quote.gpa, 0x10000u);
	CHECK_EQ(run->tdx.get_quote.size, 0x2000u);
	run->tdx.get_quote.ret = TDVMCALL_STATUS_SUCCESS;

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0); /* the script ends with a triple fault */
	CHECK_EQ(s.seen_r10[8], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(run->exit_reason, KVM_EXIT_SHUTDOWN);
	fx_kvm_down(&k);
}

/* TDVMCALL<CPUID> is answered from KVM_SET_CPUID2's table like kvm_cpuid(): exact entries,
 * subleaf-significant entries, a leaf beyond its class's maximum reads the maximum basic
 * leaf, an in-range leaf without an entry reads zeros; the table is frozen by KVM_RUN. */
static const struct step cpuid_steps[] = {
	{ 10, 0, 0 },          /* leaf 0 */
	{ 10, 7, 1 },          /* leaf 7 subleaf 1 */
	{ 10, 0x30, 0 },       /* beyond max basic 0x1f: max basic leaf's data */
	{ 10, 0x1e, 0 },       /* in range, no entry: zeros */
	{ 10, 0x80000001, 0 }, /* extended, exact */
};

TEST(kvm_tdvmcall_cpuid_from_set_cpuid2)
{
	struct script s = { cpuid_steps, 5, 0, { 0 }, { 0 }, { 0 } };
	struct fx_kvm k;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 6 * sizeof(struct kvm_cpuid_entry2));
	uint64_t hw;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	c->nent = 6;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f, .ebx = 0x756e6547 };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 7, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 0x70 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0x71 };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0x1f, .eax = 0x1f1f };
	c->entries[4] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x80000008 };
	c->entries[5] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .edx = 0x2c100800 };
	REQUIRE_EQ(kvm_vcpu_set_cpuid2(k.vcpu, c), 0);
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	kvm_vcpu_set_engine(k.vcpu, &play_ops, &s);
	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0); /* ends with the script's triple fault */
	CHECK_EQ(s.seen_r10[0], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(s.seen_r12[0], 0x1fu); /* EAX of leaf 0 */
	CHECK_EQ(s.seen_r12[1], 0x71u); /* leaf 7.1 EAX */
	CHECK_EQ(s.seen_r12[2], 0x1f1fu); /* leaf 0x30 -> leaf 0x1f */
	CHECK_EQ(s.seen_r12[3], 0u);
	CHECK_EQ(s.seen_r10[4], TDVMCALL_STATUS_SUCCESS);
	/* frozen after KVM_RUN: the same table is fine, another one is -EBUSY */
	CHECK_EQ(kvm_vcpu_set_cpuid2(k.vcpu, c), 0);
	c->entries[0].eax = 0x20;
	CHECK_EQ(kvm_vcpu_set_cpuid2(k.vcpu, c), -EBUSY);
	c->nent = KVM_MAX_CPUID_ENTRIES + 1;
	CHECK_EQ(kvm_vcpu_set_cpuid2(k.vcpu, c), -E2BIG);
	CHECK_EQ(kvm_vcpu_set_cpuid2(k.vcpu, NULL), -EFAULT);
	free(c);
	fx_kvm_down(&k);
}
