/* KVM-TDX API: lifecycle, ordering, arguments, CPUID, bugged VM, run loop (selftest style). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm.h"
#include "kvm/kvm_internal.h"

struct kfx {
	struct fx f;
	struct kvm_dev *d;
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
};

static struct kvm_tdx_init_vm *init_vm_args(struct kfx *k)
{
	struct kvm_tdx_init_vm *iv = calloc(1, sizeof(*iv) + 2 * sizeof(struct kvm_cpuid_entry2));

	(void)k;
	iv->xfam = 0x3;
	iv->cpuid.nent = 1;
	iv->cpuid.entries[0].function = 0x80000008;
	iv->cpuid.entries[0].eax = 48 << 16;
	return iv;
}

static bool kfx_up(struct kfx *k)
{
	memset(k, 0, sizeof(*k));
	if (!fx_create(&k->f) || !fx_bringup(&k->f))
		return false;
	k->d = kvm_open(k->f.h);
	return k->d && !kvm_create_vm(k->d, KVM_X86_TDX_VM, &k->vm);
}

static bool kfx_init(struct kfx *k)
{
	struct kvm_tdx_init_vm *iv = init_vm_args(k);
	uint64_t hw;
	int r = kvm_tdx_init_vm(k->vm, iv, &hw);

	free(iv);
	return !r && !kvm_create_vcpu(k->vm, 0, &k->vcpu) && !kvm_tdx_init_vcpu(k->vcpu, 0x1234);
}

static bool kfx_private_slot(struct kfx *k, uint64_t gpa, uint64_t size)
{
	struct kvm_memory_region r = { .slot = 0, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = gpa, .memory_size = size };
	return !kvm_set_user_memory_region2(k->vm, &r) &&
	       !kvm_set_memory_attributes(k->vm, gpa, size, KVM_MEMORY_ATTRIBUTE_PRIVATE);
}

static void kfx_down(struct kfx *k)
{
	kvm_destroy_vm(k->vm);
	kvm_close(k->d);
	fx_destroy(&k->f);
}

static uint8_t page_buf[2 * 4096] __attribute__((aligned(4096))); /* up to 2 source pages per call */

TEST(kvm_lifecycle_no_leak)
{
	struct kfx k;
	struct kvm_tdx_init_mem_region r;
	uint64_t pas[4096], hw = 1;
	struct tdx_module_args a;
	unsigned n;

	REQUIRE(kfx_up(&k));
	REQUIRE(kfx_init(&k));
	REQUIRE(kfx_private_slot(&k, 0x100000, 0x10000));
	memset(page_buf, 0x5a, sizeof(page_buf));
	r = (struct kvm_tdx_init_mem_region){ (uint64_t)(uintptr_t)page_buf, 0x100000, 2 };
	CHECK_EQ(kvm_tdx_init_mem_region(k.vcpu, &r, KVM_TDX_MEASURE_MEMORY_REGION), 0);
	CHECK_EQ(r.nr_pages, 0);
	CHECK_EQ(r.gpa, 0x102000);
	r = (struct kvm_tdx_init_mem_region){ (uint64_t)(uintptr_t)page_buf, 0x102000, 1 };
	CHECK_EQ(kvm_tdx_init_mem_region(k.vcpu, &r, 0), 0); /* unmeasured */
	/* the same page twice: guest_memfd already populated */
	r = (struct kvm_tdx_init_mem_region){ (uint64_t)(uintptr_t)page_buf, 0x100000, 1 };
	CHECK_EQ(kvm_tdx_init_mem_region(k.vcpu, &r, 0), -EEXIST);
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	CHECK_EQ(hw, 0);
	/* after FINALIZE: no more initial memory, no second finalize */
	r = (struct kvm_tdx_init_mem_region){ (uint64_t)(uintptr_t)page_buf, 0x103000, 1 };
	CHECK_EQ(kvm_tdx_init_mem_region(k.vcpu, &r, 0), -EINVAL);
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EINVAL);
	CHECK(kvm_dev_pages_in_use(k.d) > 0);
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	n = kvm_dev_free_pages(k.d, pas, 4096);
	CHECK(n > 10);
	for (unsigned i = 0; i < n; i++) {
		REQUIRE_EQ(tdh_phymem_page_rdmd(k.f.h, 0, pas[i], &a), TDX_SUCCESS);
		CHECK_EQ(a.rcx, PT_NDA);
	}
	kfx_down(&k);
}

TEST(kvm_ordering_and_arguments)
{
	struct kfx k;
	struct kvm_vm *vm2;
	struct kvm_vcpu *v;
	struct kvm_tdx_init_vm *iv;
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_FINALIZE_VM, .hw_error = 1 };
	uint64_t hw;

	REQUIRE(kfx_up(&k));
	CHECK_EQ(kvm_create_vm(k.d, KVM_X86_DEFAULT_VM, &vm2), -EINVAL);
	CHECK_EQ(kvm_create_vcpu(k.vm, 0, &v), -EIO);            /* before INIT_VM */
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EINVAL);       /* no HKID yet */
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EINVAL); /* hw_error set on input */
	cmd = (struct kvm_tdx_cmd){ .id = KVM_TDX_CMD_NR_MAX };
	CHECK_EQ(kvm_vm_memory_encrypt_op(k.vm, &cmd), -EINVAL);
	iv = init_vm_args(&k);
	iv->reserved[3] = 1;
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL);
	iv->reserved[3] = 0;
	iv->attributes = TD_ATTRIBUTES_DEBUG_MASK; /* not in KVM_SUPPORTED_TD_ATTRS */
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL);
	iv->attributes = 0;
	iv->cpuid.entries[0].eax = 52 << 16; /* no 5-level EPT */
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL);
	iv->cpuid.entries[0].eax = 48 << 16;
	iv->cpuid.nent = 2;
	iv->cpuid.entries[1].function = 0x40000000; /* no configurable slot */
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL);
	iv->cpuid.entries[1] = (struct kvm_cpuid_entry2){ .function = 7, .ebx = 1u << 11 }; /* RTM */
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL);
	iv->cpuid.nent = 1;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0); /* failed attempts leave nothing behind */
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), 0);
	CHECK_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), -EINVAL); /* twice */
	free(iv);
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &v), 0);
	CHECK_EQ(kvm_create_vcpu(k.vm, 0, &k.vcpu), -EEXIST);
	{
		struct kvm_tdx_init_mem_region r = { (uint64_t)(uintptr_t)page_buf, 0x100000, 1 };
		CHECK_EQ(kvm_tdx_init_mem_region(v, &r, 0), -EINVAL); /* vCPU not initialised */
		CHECK_EQ(kvm_tdx_init_vcpu(v, 0), 0);
		CHECK_EQ(kvm_tdx_init_vcpu(v, 0), -EINVAL);
		CHECK_EQ(kvm_tdx_init_mem_region(v, &r, 2), -EINVAL);  /* unknown flag */
		CHECK_EQ(kvm_tdx_init_mem_region(v, &r, 0), -EINVAL);  /* no memslot */
		REQUIRE(kfx_private_slot(&k, 0x100000, 0x4000));
		r.gpa = 0x100800;
		CHECK_EQ(kvm_tdx_init_mem_region(v, &r, 0), -EINVAL);  /* unaligned */
		r.gpa = UINT64_C(1) << 47;
		CHECK_EQ(kvm_tdx_init_mem_region(v, &r, 0), -EINVAL);  /* shared GPA */
		REQUIRE_EQ(kvm_set_memory_attributes(k.vm, 0x101000, 0x1000, 0), 0);
		r.gpa = 0x101000;
		CHECK_EQ(kvm_tdx_init_mem_region(v, &r, 0), -EINVAL);  /* not private */
		CHECK_EQ(kvm_vcpu_run(v), -EINVAL);                    /* before FINALIZE */
	}
	kfx_down(&k);
}

TEST(kvm_capabilities_and_cpuid)
{
	struct kfx k;
	struct kvm_tdx_capabilities *caps = calloc(1, sizeof(*caps) + 64 * sizeof(struct kvm_cpuid_entry2));
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
	bool found = false;
	unsigned need;

	REQUIRE(caps && c);
	REQUIRE(kfx_up(&k));
	caps->cpuid.nent = 1;
	CHECK_EQ(kvm_tdx_capabilities(k.vm, caps), -E2BIG);
	caps->cpuid.nent = 64;
	REQUIRE_EQ(kvm_tdx_capabilities(k.vm, caps), 0);
	CHECK_EQ(caps->supported_attrs, TD_ATTRIBUTES_SEPT_VE_DISABLE_MASK);
	CHECK_EQ(caps->supported_xfam & 0x3, 0x3);
	CHECK_EQ(caps->cpuid.nent, k.f.h->sysinfo.num_cpuid_config);
	for (unsigned i = 0; i < caps->cpuid.nent; i++) {
		const struct kvm_cpuid_entry2 *e = &caps->cpuid.entries[i];
		if (e->function == 0x80000008)
			CHECK_EQ((e->eax >> 16) & 0xff, 0xff);
		if (e->function == 4)
			CHECK_EQ(e->edx & 2, 0); /* unknown to KVM: not offered */
	}
	REQUIRE(kfx_init(&k));
	c->nent = 2;
	CHECK_EQ(kvm_tdx_get_cpuid(k.vcpu, c), -E2BIG);
	need = c->nent;
	CHECK(need > 2);
	c->nent = 256;
	REQUIRE_EQ(kvm_tdx_get_cpuid(k.vcpu, c), 0);
	CHECK_EQ(c->nent, need);
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000008) {
			found = true;
			CHECK_EQ((c->entries[i].eax >> 16) & 0xff, 48);
		}
	CHECK(found);
	CHECK_EQ(c->entries[0].function, 0);
	CHECK(c->entries[0].eax >= 0x1f);
	free(caps);
	free(c);
	kfx_down(&k);
}

/* A scripted engine: each enter() returns the next exit. */
struct script {
	unsigned n, i;
	struct { uint64_t ret; struct kvm_vp_enter_args a; } step[8];
	uint64_t seen_r10[8], seen_r11[8];
};

static uint64_t script_enter(void *ctx, struct kvm_vcpu *v, struct kvm_vp_enter_args *a)
{
	struct script *s = ctx;

	(void)v;
	s->seen_r10[s->i] = a->r10;
	s->seen_r11[s->i] = a->r11;
	if (s->i >= s->n)
		return 2; /* triple fault ends the script */
	*a = s->step[s->i].a;
	return s->step[s->i++].ret;
}

static const struct kvm_engine_ops script_ops = { script_enter };

TEST(kvm_run_exits)
{
	struct kfx k;
	struct script s = { 0 };
	struct kvm_run *run;
	uint64_t hw;
	const uint64_t shared = UINT64_C(1) << 47;

	REQUIRE(kfx_up(&k));
	REQUIRE(kfx_init(&k));
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	CHECK_EQ(kvm_vcpu_run(k.vcpu), -ENOEXEC);
	s.step[0].ret = EXIT_REASON_TDCALL; /* IO in, port 0x3f8, 1 byte */
	s.step[0].a = (struct kvm_vp_enter_args){ .r10 = 0, .r11 = EXIT_REASON_IO_INSTRUCTION, .r12 = 1, .r13 = 0, .r14 = 0x3f8 };
	s.step[1].ret = EXIT_REASON_TDCALL; /* MMIO write 4 bytes to a shared GPA */
	s.step[1].a = (struct kvm_vp_enter_args){ .r11 = EXIT_REASON_EPT_VIOLATION, .r12 = 4, .r13 = 1, .r14 = shared | 0xfee00000, .r15 = 0xabcd };
	s.step[2].ret = EXIT_REASON_TDCALL; /* MapGPA 3 MiB shared: two exits of 2 MiB + 1 MiB */
	s.step[2].a = (struct kvm_vp_enter_args){ .r11 = TDVMCALL_MAP_GPA, .r12 = shared | 0x200000, .r13 = 0x300000 };
	s.step[3].ret = EXIT_REASON_TDCALL; /* unknown sub-function: handled in KVM */
	s.step[3].a = (struct kvm_vp_enter_args){ .r11 = 0x12345 };
	s.step[4].ret = EXIT_REASON_TDCALL;
	s.step[4].a = (struct kvm_vp_enter_args){ .r11 = EXIT_REASON_IO_INSTRUCTION, .r12 = 2, .r13 = 1, .r14 = 0x80, .r15 = 0x1234 };
	s.step[5].ret = EXIT_REASON_TDCALL;
	s.step[5].a = (struct kvm_vp_enter_args){ .r11 = TDVMCALL_REPORT_FATAL_ERROR, .r12 = 0x77 };
	s.n = 6;
	kvm_vcpu_set_engine(k.vcpu, &script_ops, &s);
	run = kvm_vcpu_run_struct(k.vcpu);

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(run->exit_reason, KVM_EXIT_IO);
	CHECK_EQ(run->io.direction, KVM_EXIT_IO_IN);
	CHECK_EQ(run->io.port, 0x3f8);
	*((uint8_t *)run + run->io.data_offset) = 0x42;

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(s.seen_r11[1], 0x42); /* the IN value went back to the guest */
	CHECK_EQ(run->exit_reason, KVM_EXIT_MMIO);
	CHECK_EQ(run->mmio.phys_addr, 0xfee00000);
	CHECK_EQ(run->mmio.is_write, 1);
	CHECK_EQ(*(uint32_t *)run->mmio.data, 0xabcd);

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(run->exit_reason, KVM_EXIT_HYPERCALL);
	CHECK_EQ(run->hypercall.nr, KVM_HC_MAP_GPA_RANGE);
	CHECK_EQ(run->hypercall.args[0], 0x200000);
	CHECK_EQ(run->hypercall.args[1], 512);
	CHECK_EQ(run->hypercall.args[2], KVM_MAP_GPA_RANGE_DECRYPTED);
	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(run->exit_reason, KVM_EXIT_HYPERCALL);
	CHECK_EQ(run->hypercall.args[0], 0x400000);
	CHECK_EQ(run->hypercall.args[1], 256);

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(s.seen_r10[3], TDVMCALL_STATUS_SUCCESS); /* MapGPA done */
	CHECK_EQ(s.seen_r10[4], TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED);
	CHECK_EQ(run->exit_reason, KVM_EXIT_IO); /* OUT: HLT no longer leaves KVM (test_kvm_intr.c) */
	CHECK_EQ(run->io.direction, KVM_EXIT_IO_OUT);
	CHECK_EQ(*(uint16_t *)((uint8_t *)run + run->io.data_offset), 0x1234);

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(run->exit_reason, KVM_EXIT_SYSTEM_EVENT);
	CHECK_EQ(run->system_event.type, KVM_SYSTEM_EVENT_TDX_FATAL);
	CHECK_EQ(run->system_event.ndata, 16);
	CHECK_EQ(run->system_event.data[12], 0x77);

	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	CHECK_EQ(run->exit_reason, KVM_EXIT_SHUTDOWN);
	kfx_down(&k);
}

/* KVM_BUG_ON: TDH.VP.CREATE failing (here: the TDR's PAMT entry held by someone else, so the
 * module answers TDX_OPERAND_BUSY) is impossible for KVM, which marks the VM bugged; every
 * later call on the VM fails with -EIO, and the VM can still be destroyed without leaks. */
TEST(kvm_bugged_vm_after_impossible_status)
{
	struct kfx k;
	struct kvm_tdx_init_vm *iv;
	struct kvm_vcpu *v2 = NULL;
	uint64_t hw = 0, tdr;

	REQUIRE(kfx_up(&k));
	iv = init_vm_args(&k);
	REQUIRE_EQ(kvm_tdx_init_vm(k.vm, iv, &hw), 0);
	free(iv);
	CHECK(!kvm_vm_is_bugged(k.vm));
	REQUIRE_EQ(kvm_create_vcpu(k.vm, 0, &k.vcpu), 0);
	tdr = k.vm->tdr; /* white box: the TD KVM created */
	REQUIRE(module_debug_lock(k.f.p, MODULE_DEBUG_PAMT_ENTRY, tdr, true) == 0);
	CHECK_EQ(kvm_tdx_init_vcpu(k.vcpu, 0x1234), -EIO);
	module_debug_lock(k.f.p, MODULE_DEBUG_PAMT_ENTRY, tdr, false);
	CHECK(kvm_vm_is_bugged(k.vm));
	/* the module is fine again, but the VM stays dead */
	CHECK_EQ(kvm_create_vcpu(k.vm, 1, &v2), -EIO);
	CHECK_EQ(kvm_tdx_finalize_vm(k.vm, &hw), -EIO);
	kvm_destroy_vm(k.vm);
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	kvm_close(k.d);
	fx_destroy(&k.f);
}
