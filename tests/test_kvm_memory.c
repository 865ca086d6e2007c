/* KVM selftest-style memory flows: guest_memfd slots, private/shared attributes (splits and
 * merges), KVM_TDX_INIT_MEM_REGION measured and unmeasured (MRTD), conversions that zap private
 * pages, slot deletion, and the guest's MapGPA turned into KVM_HC_MAP_GPA_RANGE exits.
 * Rules from Linux virt/kvm/kvm_main.c (kvm_vm_ioctl_set_mem_attributes) and
 * arch/x86/kvm/vmx/tdx.c @ 3829d81b. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "kvm/kvm_internal.h" /* white box: attribute ranges, the TDR, mapped pages */

#define PG 4096u
#define BASE UINT64_C(0x100000)

static uint8_t src[4 * PG] __attribute__((aligned(4096)));

static int add_pages(struct fx_kvm *k, uint64_t gpa, uint64_t n, bool measure)
{
	struct kvm_tdx_init_mem_region r = { (uint64_t)(uintptr_t)src, gpa, n };

	return kvm_tdx_init_mem_region(k->vcpu, &r, measure ? KVM_TDX_MEASURE_MEMORY_REGION : 0);
}

/* KVM_SET_MEMORY_ATTRIBUTES keeps per-page attributes; a set splits what it cuts and equal
 * neighbours merge (the xarray stores one entry per page, our list one per run). */
TEST(kvm_memory_attributes_split_merge)
{
	struct fx_kvm k;

	REQUIRE(fx_kvm_up(&k));
	CHECK_EQ(kvm_get_memory_attributes(k.vm, BASE), 0);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE, 16 * PG, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
	CHECK_EQ(k.vm->nr_attrs, 1);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE + 4 * PG, 4 * PG, 0), 0); /* split */
	CHECK_EQ(k.vm->nr_attrs, 2);
	CHECK_EQ(kvm_get_memory_attributes(k.vm, BASE + 3 * PG), KVM_MEMORY_ATTRIBUTE_PRIVATE);
	CHECK_EQ(kvm_get_memory_attributes(k.vm, BASE + 4 * PG), 0);
	CHECK_EQ(kvm_get_memory_attributes(k.vm, BASE + 7 * PG), 0);
	CHECK_EQ(kvm_get_memory_attributes(k.vm, BASE + 8 * PG), KVM_MEMORY_ATTRIBUTE_PRIVATE);
	CHECK_EQ(kvm_get_memory_attributes(k.vm, BASE + 16 * PG), 0);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE + 5 * PG, PG, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
	CHECK_EQ(k.vm->nr_attrs, 3);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE + 4 * PG, 4 * PG, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
	CHECK_EQ(k.vm->nr_attrs, 1); /* merged back */
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE + 16 * PG, 4 * PG, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
	CHECK_EQ(k.vm->nr_attrs, 1); /* adjacent: merged */
	CHECK_EQ(k.vm->attrs[0].start, BASE);
	CHECK_EQ(k.vm->attrs[0].end, BASE + 20 * PG);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE + 2 * PG, 4 * PG, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
	CHECK_EQ(k.vm->nr_attrs, 1); /* already so: nothing to do */
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, 0, BASE + 64 * PG, 0), 0); /* covers it all */
	CHECK_EQ(k.vm->nr_attrs, 0);
	/* kvm_vm_ioctl_set_mem_attributes(): size 0, wrap, unaligned, unknown bits */
	CHECK_EQ(kvm_set_memory_attributes(k.vm, BASE, 0, KVM_MEMORY_ATTRIBUTE_PRIVATE), -EINVAL);
	CHECK_EQ(kvm_set_memory_attributes(k.vm, ~UINT64_C(0xfff), 2 * PG, 0), -EINVAL);
	CHECK_EQ(kvm_set_memory_attributes(k.vm, BASE + 8, PG, 0), -EINVAL);
	CHECK_EQ(kvm_set_memory_attributes(k.vm, BASE, PG + 8, 0), -EINVAL);
	CHECK_EQ(kvm_set_memory_attributes(k.vm, BASE, PG, KVM_MEMORY_ATTRIBUTE_PRIVATE << 1), -EINVAL);
	CHECK_EQ(kvm_set_memory_attributes(k.vm, BASE, PG, 1), -EINVAL);
	CHECK_EQ(k.vm->nr_attrs, 0);
	fx_kvm_down(&k);
}

/* MRTD of a TD with four pages of `fill` at BASE, added measured or not, after FINALIZE. */
static bool build_mrtd(struct fx_kvm *k, uint8_t fill, bool measure, uint64_t mrtd[6])
{
	uint64_t hw;

	memset(src, fill, sizeof(src));
	if (kvm_create_vm(k->d, KVM_X86_TDX_VM, &k->vm) || !fx_kvm_init(k) || !fx_kvm_private_slot(k, 0, BASE, 4 * PG) ||
	    add_pages(k, BASE, 4, measure) || kvm_tdx_finalize_vm(k->vm, &hw))
		return false;
	for (unsigned i = 0; i < 6; i++)
		if (tdh_mng_rd(k->f.h, 0, k->vm->tdr, MD_TD_FIELDS_MRTD_FIELD_ID + i, &mrtd[i]) != TDX_SUCCESS)
			return false;
	kvm_destroy_vm(k->vm);
	k->vm = NULL;
	return kvm_dev_pages_in_use(k->d) == 0;
}

/* tdx_gmem_post_populate(): PAGE.ADD always extends MRTD with the page's GPA, MR.EXTEND (only
 * with KVM_TDX_MEASURE_MEMORY_REGION) with its content. So unmeasured MRTDs do not depend on
 * the bytes, measured ones do, and the same input gives the same MRTD. */
TEST(kvm_memory_measured_vs_unmeasured_mrtd)
{
	struct fx_kvm k;
	uint64_t m_a[6], m_a2[6], m_b[6], u_a[6], u_b[6], zero[6] = { 0 };

	REQUIRE(fx_kvm_up(&k));
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	REQUIRE(build_mrtd(&k, 0xa5, true, m_a));
	REQUIRE(build_mrtd(&k, 0xa5, true, m_a2));
	REQUIRE(build_mrtd(&k, 0x5a, true, m_b));
	REQUIRE(build_mrtd(&k, 0xa5, false, u_a));
	REQUIRE(build_mrtd(&k, 0x5a, false, u_b));
	CHECK(memcmp(m_a, zero, sizeof(zero)) != 0);
	CHECK(memcmp(m_a, m_a2, sizeof(m_a)) == 0);
	CHECK(memcmp(m_a, m_b, sizeof(m_a)) != 0);
	CHECK(memcmp(m_a, u_a, sizeof(m_a)) != 0);
	CHECK(memcmp(u_a, u_b, sizeof(u_a)) == 0);
	fx_kvm_down(&k);
}

/* KVM's books of mapped private leaves: each slot's populated[] with the page in gmem[]. */
static uint64_t mapped_pa(const struct kvm_vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < KVM_MAX_SLOTS; i++) {
		const struct kvm_slot *s = &vm->slots[i];
		uint64_t idx = (gpa - s->r.guest_phys_addr) / PG;

		if (s->used && s->gmem && gpa >= s->r.guest_phys_addr && idx < s->r.memory_size / PG)
			return s->populated[idx] ? s->gmem[idx] : 0;
	}
	return 0;
}

static unsigned nr_mapped(const struct kvm_vm *vm)
{
	unsigned n = 0;

	for (unsigned i = 0; i < KVM_MAX_SLOTS; i++)
		if (vm->slots[i].used && vm->slots[i].gmem)
			for (uint64_t p = 0; p < vm->slots[i].r.memory_size / PG; p++)
				n += vm->slots[i].populated[p];
	return n;
}

static uint64_t page_type(struct fx_kvm *k, uint64_t pa)
{
	struct tdx_module_args a;

	if (tdh_phymem_page_rdmd(k->f.h, 0, pa, &a) != TDX_SUCCESS)
		return ~UINT64_C(0);
	return a.rcx;
}

/* kvm_vm_set_mem_attributes() -> kvm_arch_pre_set_memory_attributes(): private -> shared zaps
 * the private leaves (tdx_sept_remove_private_spte(): BLOCK, TRACK once runnable, REMOVE,
 * WBINVD), the pages go back (PAMT: NDA), the rest stays mapped; shared -> private again lets
 * INIT_MEM_REGION add the page anew. Both before and after FINALIZE. */
TEST(kvm_memory_private_to_shared_zaps)
{
	struct fx_kvm k;
	uint64_t in_use, pa1, pa2, pa0, hw;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, BASE, 16 * PG));
	REQUIRE_EQ(add_pages(&k, BASE, 4, true), 0);
	pa0 = mapped_pa(k.vm, BASE);
	pa1 = mapped_pa(k.vm, BASE + PG);
	pa2 = mapped_pa(k.vm, BASE + 2 * PG);
	REQUIRE(pa0 && pa1 && pa2);
	CHECK_EQ(page_type(&k, pa1), PT_REG);
	in_use = kvm_dev_pages_in_use(k.d);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE + PG, 2 * PG, 0), 0);
	CHECK_EQ(kvm_dev_pages_in_use(k.d), in_use - 2);
	CHECK_EQ(nr_mapped(k.vm), 2);
	CHECK_EQ(page_type(&k, pa1), PT_NDA);
	CHECK_EQ(page_type(&k, pa2), PT_NDA);
	CHECK_EQ(page_type(&k, pa0), PT_REG);
	CHECK(!kvm_vm_is_bugged(k.vm));
	/* back to private: the page can be added again before FINALIZE */
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE + PG, PG, KVM_MEMORY_ATTRIBUTE_PRIVATE), 0);
	CHECK_EQ(add_pages(&k, BASE + PG, 1, false), 0);
	CHECK_EQ(add_pages(&k, BASE + 2 * PG, 1, false), -EINVAL); /* still shared */
	CHECK_EQ(kvm_dev_pages_in_use(k.d), in_use - 1);
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	/* runnable TD: the zap needs TDH.MEM.TRACK between BLOCK and REMOVE */
	in_use = kvm_dev_pages_in_use(k.d);
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, BASE, 16 * PG, 0), 0);
	CHECK(!kvm_vm_is_bugged(k.vm));
	CHECK_EQ(nr_mapped(k.vm), 0);
	CHECK_EQ(kvm_dev_pages_in_use(k.d), in_use - 3);
	CHECK_EQ(page_type(&k, pa0), PT_NDA);
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	fx_kvm_down(&k);
}

/* KVM_SET_USER_MEMORY_REGION2 with size 0 deletes the slot; KVM zaps its private leaves first
 * (kvm_arch_flush_shadow_memslot()); deleting it again is -EINVAL (__kvm_set_memory_region()). */
TEST(kvm_memory_slot_delete_zaps)
{
	struct fx_kvm k;
	struct kvm_memory_region del = { .slot = 0 };
	uint64_t in_use, pa;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, BASE, 8 * PG));
	REQUIRE_EQ(add_pages(&k, BASE + 2 * PG, 3, false), 0);
	pa = mapped_pa(k.vm, BASE + 3 * PG);
	REQUIRE(pa);
	in_use = kvm_dev_pages_in_use(k.d);
	REQUIRE_EQ(kvm_set_user_memory_region2(k.vm, &del), 0);
	CHECK_EQ(kvm_dev_pages_in_use(k.d), in_use - 3);
	CHECK_EQ(page_type(&k, pa), PT_NDA);
	CHECK_EQ(nr_mapped(k.vm), 0);
	CHECK_EQ(kvm_set_user_memory_region2(k.vm, &del), -EINVAL);
	/* attributes outlive the slot; a new slot there can be populated again */
	CHECK_EQ(kvm_get_memory_attributes(k.vm, BASE), KVM_MEMORY_ATTRIBUTE_PRIVATE);
	REQUIRE(fx_kvm_private_slot(&k, 1, BASE, 8 * PG));
	CHECK_EQ(add_pages(&k, BASE + 3 * PG, 1, true), 0);
	fx_kvm_down(&k);
}

/* A scripted guest: each enter() returns the next TDVMCALL; what KVM wrote back into R10/R11
 * on the following enter is recorded. */
struct script {
	unsigned n, i;
	struct kvm_vp_enter_args step[8];
	uint64_t r10[9], r11[9];
};

static uint64_t script_enter(void *ctx, struct kvm_vcpu *v, struct kvm_vp_enter_args *a)
{
	struct script *s = ctx;

	(void)v;
	s->r10[s->i] = a->r10;
	s->r11[s->i] = a->r11;
	if (s->i >= s->n)
		return EXIT_REASON_TRIPLE_FAULT;
	*a = s->step[s->i++];
	return EXIT_REASON_TDCALL;
}

static const struct kvm_engine_ops script_ops = { script_enter };

static struct kvm_vp_enter_args map_gpa(uint64_t gpa, uint64_t size)
{
	return (struct kvm_vp_enter_args){ .r10 = 0, .r11 = TDVMCALL_MAP_GPA, .r12 = gpa, .r13 = size };
}

/* tdx_map_gpa(): the guest's MapGPA becomes KVM_EXIT_HYPERCALL(KVM_HC_MAP_GPA_RANGE) in 2 MiB
 * pieces; userspace converts each piece with KVM_SET_MEMORY_ATTRIBUTES as QEMU does, which
 * zaps the private pages. A non-zero hypercall.ret fails the TDVMCALL with the GPA reached
 * (tdx_complete_vmcall_map_gpa()); unaligned ranges get ALIGN_ERROR, a range across the shared
 * bit INVALID_OPERAND, both without an exit. */
TEST(kvm_memory_map_gpa_exits)
{
	const uint64_t shared = UINT64_C(1) << 47, gpa = 0x200000, size = 0x500000;
	struct fx_kvm k;
	struct script s = { 0 };
	struct kvm_run *run;
	uint64_t hw, in_use, expect_gpa = gpa;
	unsigned exits = 0;

	REQUIRE(fx_kvm_up(&k));
	REQUIRE(fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, gpa, size));
	REQUIRE_EQ(add_pages(&k, gpa + 0x300000, 2, false), 0); /* in the second 2 MiB piece */
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, &hw), 0);
	s.step[0] = map_gpa(shared | gpa, size);            /* 5 MiB to shared: 2 + 2 + 1 */
	s.step[1] = map_gpa(gpa, 0x400000);                  /* back to private; fails at piece 2 */
	s.step[2] = map_gpa(gpa + 0x800, 0x1000);            /* unaligned */
	s.step[3] = map_gpa(shared - 0x1000, 0x2000);        /* crosses the shared bit */
	s.n = 4;
	kvm_vcpu_set_engine(k.vcpu, &script_ops, &s);
	run = kvm_vcpu_run_struct(k.vcpu);
	in_use = kvm_dev_pages_in_use(k.d);
	for (;;) {
		REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
		if (run->exit_reason != KVM_EXIT_HYPERCALL || s.i != 1)
			break;
		exits++;
		CHECK_EQ(run->hypercall.nr, KVM_HC_MAP_GPA_RANGE);
		CHECK_EQ(run->hypercall.args[0], expect_gpa);
		CHECK_EQ(run->hypercall.args[1], (expect_gpa + 0x200000 <= gpa + size ? 0x200000 : gpa + size - expect_gpa) / PG);
		CHECK_EQ(run->hypercall.args[2], KVM_MAP_GPA_RANGE_DECRYPTED);
		CHECK_EQ(run->hypercall.flags, KVM_EXIT_HYPERCALL_LONG_MODE);
		REQUIRE_EQ(kvm_set_memory_attributes(k.vm, run->hypercall.args[0], run->hypercall.args[1] * PG, 0), 0);
		run->hypercall.ret = 0;
		expect_gpa += 0x200000;
	}
	CHECK_EQ(exits, 3);
	CHECK_EQ(s.r10[1], TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(kvm_dev_pages_in_use(k.d), in_use - 2); /* the two private pages were zapped */
	CHECK_EQ(kvm_get_memory_attributes(k.vm, gpa + size - PG), 0);
	/* second call: private again; userspace refuses the second piece */
	REQUIRE_EQ(run->exit_reason, KVM_EXIT_HYPERCALL);
	CHECK_EQ(run->hypercall.args[0], gpa);
	CHECK_EQ(run->hypercall.args[2], KVM_MAP_GPA_RANGE_ENCRYPTED);
	run->hypercall.ret = 0;
	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0);
	REQUIRE_EQ(run->exit_reason, KVM_EXIT_HYPERCALL);
	CHECK_EQ(run->hypercall.args[0], gpa + 0x200000);
	run->hypercall.ret = 1;
	REQUIRE_EQ(kvm_vcpu_run(k.vcpu), 0); /* steps 3, 4 need no userspace; then triple fault */
	CHECK_EQ(run->exit_reason, KVM_EXIT_SHUTDOWN);
	CHECK_EQ(s.r10[2], TDVMCALL_STATUS_INVALID_OPERAND);
	CHECK_EQ(s.r11[2], gpa + 0x200000);
	CHECK_EQ(s.r10[3], TDVMCALL_STATUS_ALIGN_ERROR);
	CHECK_EQ(s.r10[4], TDVMCALL_STATUS_INVALID_OPERAND);
	CHECK_EQ(s.r11[4], shared - 0x1000);
	fx_kvm_down(&k);
}

/* Control pages (here the Secure EPT pages the faults add) come in 2 MiB blocks of their own:
 * no huge page of simulated DRAM holds both one of them and a guest page, so initialising a
 * Secure EPT page never backs guest memory the guest has not written. */
TEST(kvm_control_pages_apart_from_guest_pages)
{
	struct fx_kvm k;
	const uint64_t size = 64 * MiB, frame = 2 * MiB;
	unsigned faulted = 0;

	REQUIRE(fx_kvm_up(&k) && fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, 0, size));
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, NULL), 0);
	/* two pages in every 2 MiB of GPA: a leaf Secure EPT page each, interleaved with them */
	for (uint64_t gpa = 0; gpa < size; gpa += frame, faulted += 2) {
		REQUIRE_EQ(kvm_tdx_fault_private(k.vm, gpa), 0);
		REQUIRE_EQ(kvm_tdx_fault_private(k.vm, gpa + 4096), 0);
	}
	REQUIRE_EQ(nr_mapped(k.vm), faulted);
	CHECK(k.vm->nr_sept >= size / frame);
	for (unsigned i = 0; i < k.vm->nr_sept; i++)
		for (uint64_t gpa = 0; gpa < size; gpa += 4096) {
			uint64_t pa = mapped_pa(k.vm, gpa);
			if (pa && k.vm->sept[i].pa / frame == pa / frame) {
				CHECK(!"a Secure EPT page shares a 2 MiB frame with a guest page");
				i = k.vm->nr_sept;
				break;
			}
		}
	fx_kvm_down(&k);
}

/* KVM's books at scale: one Secure EPT page per table however many faults share it (the index
 * of known SEPT pages grows past its first size), and a conversion to shared zaps exactly the
 * leaves of its range, none of a neighbouring range or slot. */
TEST(kvm_memory_books_at_scale)
{
	struct fx_kvm k;
	const uint64_t size = 1 * GiB, frame = 2 * MiB, next = 4 * GiB;
	unsigned sept;

	REQUIRE(fx_kvm_up(&k) && fx_kvm_init(&k));
	REQUIRE(fx_kvm_private_slot(&k, 0, 0, size));
	REQUIRE(fx_kvm_private_slot(&k, 1, next, 16 * PG));
	REQUIRE_EQ(kvm_tdx_finalize_vm(k.vm, NULL), 0);
	for (uint64_t gpa = 0; gpa < size; gpa += frame)
		REQUIRE_EQ(kvm_tdx_fault_private(k.vm, gpa), 0);
	/* a level-2 and a level-3 page above the 512 page tables (4-level EPT) */
	CHECK_EQ(k.vm->nr_sept, size / frame + 2);
	sept = k.vm->nr_sept;
	for (uint64_t gpa = 0; gpa < size; gpa += frame)
		REQUIRE_EQ(kvm_tdx_fault_private(k.vm, gpa + PG), 0);
	CHECK_EQ(k.vm->nr_sept, sept);
	REQUIRE_EQ(kvm_tdx_fault_private(k.vm, next), 0);
	REQUIRE_EQ(kvm_tdx_fault_private(k.vm, next + 15 * PG), 0);
	CHECK_EQ(nr_mapped(k.vm), 2 * size / frame + 2);
	/* [frame, 3 frames) to shared: its four leaves go, the others stay */
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, frame, 2 * frame, 0), 0);
	CHECK(!kvm_vm_is_bugged(k.vm));
	CHECK_EQ(nr_mapped(k.vm), 2 * size / frame + 2 - 4);
	CHECK(mapped_pa(k.vm, 0) && mapped_pa(k.vm, PG) && mapped_pa(k.vm, 3 * frame));
	CHECK(!mapped_pa(k.vm, frame) && !mapped_pa(k.vm, 2 * frame + PG));
	/* a range between the slots, and one ending where slot 1 starts: nothing there */
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, size, next - size, 0), 0);
	CHECK_EQ(nr_mapped(k.vm), 2 * size / frame + 2 - 4);
	/* one starting inside slot 1 */
	REQUIRE_EQ(kvm_set_memory_attributes(k.vm, next + 8 * PG, 64 * PG, 0), 0);
	CHECK(mapped_pa(k.vm, next) && !mapped_pa(k.vm, next + 15 * PG));
	kvm_destroy_vm(k.vm);
	k.vm = NULL;
	CHECK_EQ(kvm_dev_pages_in_use(k.d), 0);
	fx_kvm_down(&k);
}
