/* vCPUs: KVM_CREATE_VCPU, KVM_TDX_INIT_VCPU, KVM_TDX_GET_CPUID, KVM_RUN and its exits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi_leaves.h"
#include "abi_metadata.h"
#include "abi_status.h"
#include "kvm_internal.h"

int kvm_create_vcpu(struct kvm_vm *vm, unsigned id, struct kvm_vcpu **out)
{
	struct kvm_vcpu *v, **n;

	*out = NULL;
	if (kvm_vm_dead(vm))
		return -EIO;
	if (vm->state != TD_STATE_INITIALIZED) /* tdx_vcpu_create() */
		return -EIO;
	if (vm->nr_vcpus >= vm->max_vcpus)
		return -EINVAL;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->id == id)
			return -EEXIST;
	v = calloc(1, sizeof(*v));
	pthread_mutex_lock(&vm->apic_lock); /* the timer thread walks the array */
	n = realloc(vm->vcpus, (vm->nr_vcpus + 1) * sizeof(*n));
	if (n)
		vm->vcpus = n;
	if (!v || !n) {
		pthread_mutex_unlock(&vm->apic_lock);
		free(v);
		return -ENOMEM;
	}
	v->vm = vm;
	v->id = id;
	v->lp = id % plat_nr_lps(vm->h->plat); /* the vCPU thread's CPU */
	kvm_intr_vcpu_create(v);
	kvm_msr_vcpu_reset(v);
	vm->vcpus[vm->nr_vcpus++] = v;
	pthread_mutex_unlock(&vm->apic_lock);
	*out = v;
	return 0;
}

/* tdx_td_vcpu_init(): TDVPR, TDCX pages, VP.CREATE, ADDCX, VP.INIT with RCX. */
static int vcpu_init(struct kvm_vcpu *v, struct kvm_tdx_cmd *cmd)
{
	struct kvm_vm *vm = v->vm;
	uint64_t st;
	int r;

	if (cmd->flags || v->state != VCPU_TD_STATE_UNINITIALIZED)
		return -EINVAL;
	if (!(v->tdvpr = kvm_page_alloc(vm->dev)))
		return -ENOMEM;
	if ((st = tdh_vp_create(vm->h, 0, vm->tdr, v->tdvpr))) {
		kvm_page_free(vm->dev, v->tdvpr);
		v->tdvpr = 0;
		return kvm_vm_bug(vm, "TDH.VP.CREATE", st);
	}
	for (unsigned i = 0; i < vm->tdcx_per_vcpu && i < 16; i++) {
		uint64_t pa = kvm_page_alloc(vm->dev);
		if (!pa)
			return -ENOMEM;
		if ((st = tdh_vp_addcx(vm->h, 0, v->tdvpr, pa))) {
			kvm_page_free(vm->dev, pa);
			return kvm_vm_bug(vm, "TDH.VP.ADDCX", st);
		}
		v->tdcx[v->nr_tdcx++] = pa;
	}
	if ((st = tdh_vp_init(vm->h, v->lp, v->tdvpr, cmd->data)))
		return kvm_vm_bug(vm, "TDH.VP.INIT", st);
	if ((r = kvm_intr_vcpu_init(v)))
		return r;
	v->state = VCPU_TD_STATE_INITIALIZED;
	return 0;
}

/* tdx_flush_vp(): VP.FLUSH of an initialised vCPU; "not associated" is fine. */
void kvm_vcpu_flush(struct kvm_vcpu *v)
{
	uint64_t st;

	if (!v->tdvpr)
		return;
	st = tdh_vp_flush(v->vm->h, v->lp, v->tdvpr);
	if (st && st != TDX_VCPU_NOT_ASSOCIATED)
		kvm_vm_bug(v->vm, "TDH.VP.FLUSH", st);
}

/* tdx_vcpu_free(): only once the HKID is gone; TDCX pages, then the TDVPR. */
void kvm_vcpu_free(struct kvm_vcpu *v)
{
	if (v->vm->hkid >= 0)
		return;
	for (unsigned i = 0; i < v->nr_tdcx; i++)
		kvm_reclaim_page(v->vm, v->tdcx[i]);
	v->nr_tdcx = 0;
	if (v->tdvpr)
		kvm_reclaim_page(v->vm, v->tdvpr);
	v->tdvpr = 0;
	v->state = VCPU_TD_STATE_UNINITIALIZED;
}

/* ---- KVM_TDX_GET_CPUID: tdx_read_cpuid() over TDH.MNG.RD of the TD's CPUID values ---- */
static int read_cpuid(struct kvm_vcpu *v, uint32_t leaf, uint32_t sub, bool sub_set, struct kvm_cpuid_entry2 *out)
{
	uint64_t fid = MD_TD_FIELDS_CPUID_VALUES_FIELD_ID, lo, hi;

	if (sub > 0x7f || (leaf & 0x7fffff80) || (sub & 0xffffff80))
		return -EINVAL;
	fid |= (uint64_t)((leaf & 0x80000000) ? 1 : 0) << 16;
	fid |= (uint64_t)(leaf & 0x7f) << 9;
	fid |= sub_set ? (uint64_t)(sub & 0x7f) << 1 : 0x1fe;
	if (tdh_mng_rd(v->vm->h, 0, v->vm->tdr, fid, &lo) || tdh_mng_rd(v->vm->h, 0, v->vm->tdr, fid + 1, &hi))
		return -EIO;
	memset(out, 0, sizeof(*out));
	out->function = leaf;
	out->index = sub;
	out->flags = sub_set ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	out->eax = (uint32_t)lo, out->ebx = (uint32_t)(lo >> 32);
	out->ecx = (uint32_t)hi, out->edx = (uint32_t)(hi >> 32);
	if (leaf == 0x80000008) { /* guest MAXPA from the shared bit, as KVM does */
		unsigned bits = (unsigned)__builtin_ctzll(v->vm->shared_bit) + 1;
		out->eax = (out->eax & ~UINT32_C(0x00FF0000)) | bits << 16;
	}
	return 0;
}

/* tdx_vcpu_get_cpuid_leaf(): without a sub-leaf first, else sub-leaves until one fails. */
static void get_leaf(struct kvm_vcpu *v, uint32_t leaf, struct kvm_cpuid_entry2 *e, unsigned *n)
{
	if (*n >= KVM_MAX_CPUID_ENTRIES)
		return;
	if (!read_cpuid(v, leaf, 0, false, &e[*n])) {
		(*n)++;
		return;
	}
	for (uint32_t sub = 0; sub <= 0x7f && *n < KVM_MAX_CPUID_ENTRIES; sub++) {
		if (read_cpuid(v, leaf, sub, true, &e[*n]))
			return;
		(*n)++;
	}
}

static int get_cpuid(struct kvm_vcpu *v, struct kvm_tdx_cmd *cmd)
{
	struct kvm_cpuid2 *out = (struct kvm_cpuid2 *)(uintptr_t)cmd->data;
	struct kvm_cpuid_entry2 *e = calloc(KVM_MAX_CPUID_ENTRIES, sizeof(*e));
	unsigned n = 0, first;
	uint32_t level;
	int r = 0;

	if (!e)
		return -ENOMEM;
	if (!out) {
		free(e);
		return -EFAULT;
	}
	get_leaf(v, 0, e, &n);
	if (!n) {
		r = -EIO;
		goto out;
	}
	level = e[0].eax;
	for (uint32_t leaf = 1; leaf <= level && leaf < 0x80; leaf++)
		get_leaf(v, leaf, e, &n);
	first = n;
	get_leaf(v, 0x80000000, e, &n);
	if (n == first) {
		r = -EIO;
		goto out;
	}
	level = e[n - 1].eax;
	for (uint32_t leaf = 0x80000001; leaf <= level && leaf < 0x80000080; leaf++)
		get_leaf(v, leaf, e, &n);
	if (out->nent < n)
		r = -E2BIG; /* nent tells userspace how many it needs */
	else
		memcpy(out->entries, e, n * sizeof(*e));
	out->nent = n;
out:
	free(e);
	return r;
}

/* tdx_vcpu_ioctl(). */
int kvm_vcpu_memory_encrypt_op(struct kvm_vcpu *v, struct kvm_tdx_cmd *cmd)
{
	struct kvm_vm *vm = v->vm;

	if (kvm_vm_dead(vm))
		return -EIO;
	if (vm->hkid < 0 || vm->state == TD_STATE_RUNNABLE)
		return -EINVAL;
	if (cmd->hw_error)
		return -EINVAL;
	switch (cmd->id) {
	case KVM_TDX_INIT_VCPU:
		return vcpu_init(v, cmd);
	case KVM_TDX_INIT_MEM_REGION:
		if (v->state != VCPU_TD_STATE_INITIALIZED)
			return -EINVAL;
		return kvm_tdx_init_mem_region_locked(v, cmd);
	case KVM_TDX_GET_CPUID:
		return get_cpuid(v, cmd);
	default:
		return -EINVAL;
	}
}

int kvm_tdx_init_vcpu(struct kvm_vcpu *v, uint64_t initial_rcx)
{
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_INIT_VCPU, .data = initial_rcx };
	return kvm_vcpu_memory_encrypt_op(v, &cmd);
}

int kvm_tdx_init_mem_region(struct kvm_vcpu *v, struct kvm_tdx_init_mem_region *r, uint32_t flags)
{
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_INIT_MEM_REGION, .flags = flags, .data = (uint64_t)(uintptr_t)r };
	return kvm_vcpu_memory_encrypt_op(v, &cmd);
}

int kvm_tdx_get_cpuid(struct kvm_vcpu *v, struct kvm_cpuid2 *cpuid)
{
	struct kvm_tdx_cmd cmd = { .id = KVM_TDX_GET_CPUID, .data = (uint64_t)(uintptr_t)cpuid };
	return kvm_vcpu_memory_encrypt_op(v, &cmd);
}

/* ---- KVM_RUN ------------------------------------------------------------------------- */
#define GPR_RAX 0
#define GPR_RCX 1
/* TDG.VP.VMCALL GPR_SELECT of the scripted guest: RDX, RBX, RSI, RDI, R8-R15. */
#define SCRIPT_GPR_SELECT 0xFFCCu
#define TDCALL_INSTR_LEN 4u /* 66 0F 01 CC */

/* The vCPU whose TDH.VP.ENTER runs on this thread (Linux's kvm_running_vcpu). */
static _Thread_local struct kvm_vcpu *running_vcpu;

static void args_from_gprs(struct kvm_vp_enter_args *a, const uint64_t *g)
{
	*a = (struct kvm_vp_enter_args){ .rcx = g[1], .rdx = g[2], .rbx = g[3], .rsi = g[6], .rdi = g[7],
					 .r8 = g[8], .r9 = g[9], .r10 = g[10], .r11 = g[11], .r12 = g[12],
					 .r13 = g[13], .r14 = g[14], .r15 = g[15] };
}

static void args_to_gprs(uint64_t *g, const struct kvm_vp_enter_args *a)
{
	g[1] = a->rcx, g[2] = a->rdx, g[3] = a->rbx, g[6] = a->rsi, g[7] = a->rdi;
	g[8] = a->r8, g[9] = a->r9, g[10] = a->r10, g[11] = a->r11;
	g[12] = a->r12, g[13] = a->r13, g[14] = a->r14, g[15] = a->r15;
}

/* The platform guest engine behind kvm_vcpu_set_engine(): plays the vCPU's script as the
 * guest between TD entry and VM exit. A vCPU without a script triple-faults. */
static void script_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *g,
		       const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct kvm_vcpu *v = running_vcpu;
	struct kvm_vp_enter_args a;
	uint64_t ret;

	(void)ctx, (void)p, (void)lp;
	if (!v || !v->engine || tag != v->tdvpr) {
		ex->reason = EXIT_REASON_TRIPLE_FAULT;
		return;
	}
	args_from_gprs(&a, g->gpr);
	v->script_mem = mem;
	ret = v->engine->enter(v->engine_ctx, v, &a);
	v->script_mem = NULL;
	args_to_gprs(g->gpr, &a);
	ex->reason = (uint32_t)(ret & 0xffff);
	if (ex->reason == EXIT_REASON_TDCALL) {
		g->gpr[GPR_RAX] = TDG_VP_VMCALL_LEAF;
		g->gpr[GPR_RCX] = SCRIPT_GPR_SELECT;
		ex->instr_len = TDCALL_INSTR_LEN;
	}
}

static const struct plat_guest_engine script_engine = { script_run };

void kvm_vcpu_set_engine(struct kvm_vcpu *v, const struct kvm_engine_ops *ops, void *ctx)
{
	struct plat *p = v->vm->h->plat;

	v->engine = ops;
	v->engine_ctx = ctx;
	if (!plat_has_guest_engine(p))
		plat_set_guest_engine(p, &script_engine, NULL);
}

const struct plat_guest_mem *kvm_vcpu_script_mem(const struct kvm_vcpu *v)
{
	return v->script_mem;
}

struct kvm_run *kvm_vcpu_run_struct(struct kvm_vcpu *v)
{
	return &v->run;
}

const struct kvm_vcpu_stat *kvm_vcpu_get_stat(const struct kvm_vcpu *v)
{
	return &v->stat;
}

static void set_ret(struct kvm_vcpu *v, uint64_t r10)
{
	v->args.r10 = r10;
}

static int complete_io_in(struct kvm_vcpu *v)
{
	uint64_t val = 0;

	memcpy(&val, (uint8_t *)&v->run + v->run.io.data_offset, v->run.io.size);
	set_ret(v, TDVMCALL_STATUS_SUCCESS);
	v->args.r11 = val;
	return 1;
}

static int complete_simple(struct kvm_vcpu *v)
{
	set_ret(v, TDVMCALL_STATUS_SUCCESS);
	return 1;
}

static int complete_mmio_read(struct kvm_vcpu *v)
{
	uint64_t val = 0;

	memcpy(&val, v->run.mmio.data, v->run.mmio.len);
	set_ret(v, TDVMCALL_STATUS_SUCCESS);
	v->args.r11 = val;
	return 1;
}

static int complete_tdx(struct kvm_vcpu *v)
{
	set_ret(v, v->run.tdx.unknown.ret);
	return 1;
}

static void map_gpa_exit(struct kvm_vcpu *v);

/* tdx_complete_vmcall_map_gpa(): 2 MiB at a time. */
static int complete_map_gpa(struct kvm_vcpu *v)
{
	if (v->run.hypercall.ret) {
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		v->args.r11 = v->map_gpa_next;
		return 1;
	}
	v->map_gpa_next += TDX_MAP_GPA_MAX_LEN;
	if (v->map_gpa_next >= v->map_gpa_end) {
		set_ret(v, TDVMCALL_STATUS_SUCCESS);
		return 1;
	}
	map_gpa_exit(v);
	return 0;
}

static void map_gpa_exit(struct kvm_vcpu *v)
{
	uint64_t gpa = v->map_gpa_next, size = v->map_gpa_end - gpa;

	if (size > TDX_MAP_GPA_MAX_LEN)
		size = TDX_MAP_GPA_MAX_LEN;
	memset(&v->run.hypercall, 0, sizeof(v->run.hypercall));
	v->run.exit_reason = KVM_EXIT_HYPERCALL;
	v->run.hypercall.nr = KVM_HC_MAP_GPA_RANGE;
	v->run.hypercall.args[0] = gpa & ~v->vm->shared_bit;
	v->run.hypercall.args[1] = size / KVM_PAGE;
	v->run.hypercall.args[2] = kvm_gpa_is_private(v->vm, gpa) ? KVM_MAP_GPA_RANGE_ENCRYPTED : KVM_MAP_GPA_RANGE_DECRYPTED;
	v->run.hypercall.flags = KVM_EXIT_HYPERCALL_LONG_MODE;
	v->complete = complete_map_gpa;
}

static int map_gpa(struct kvm_vcpu *v)
{
	uint64_t gpa = v->args.r12, size = v->args.r13;

	if (gpa + size <= gpa || kvm_gpa_is_private(v->vm, gpa) != kvm_gpa_is_private(v->vm, gpa + size - 1)) {
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		v->args.r11 = gpa;
		return 1;
	}
	if ((gpa | size) & (KVM_PAGE - 1)) {
		set_ret(v, TDVMCALL_STATUS_ALIGN_ERROR);
		v->args.r11 = gpa;
		return 1;
	}
	v->map_gpa_next = gpa;
	v->map_gpa_end = gpa + size;
	map_gpa_exit(v);
	return 0;
}

/* tdx_emulate_io(): no in-kernel devices here, every port goes to userspace. */
static int emulate_io(struct kvm_vcpu *v)
{
	uint64_t size = v->args.r12, write = v->args.r13;

	if ((write != 0 && write != 1) || (size != 1 && size != 2 && size != 4)) {
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		return 1;
	}
	memset(&v->run.io, 0, sizeof(v->run.io));
	v->run.exit_reason = KVM_EXIT_IO;
	v->run.io.direction = write ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	v->run.io.size = (uint8_t)size;
	v->run.io.port = (uint16_t)v->args.r14;
	v->run.io.count = 1;
	/* KVM puts the data in the page after kvm_run; ours lives in the union's spare tail. */
	v->run.io.data_offset = offsetof(struct kvm_run, padding) + 128;
	if (write)
		memcpy((uint8_t *)&v->run + v->run.io.data_offset, &v->args.r15, size);
	v->complete = write ? complete_simple : complete_io_in;
	return 0;
}

/* tdx_emulate_mmio(): shared GPAs only. */
static int emulate_mmio(struct kvm_vcpu *v)
{
	uint64_t size = v->args.r12, write = v->args.r13, gpa = v->args.r14;

	if ((size != 1 && size != 2 && size != 4 && size != 8) || (write != 0 && write != 1) ||
	    kvm_gpa_is_private(v->vm, gpa) || kvm_gpa_is_private(v->vm, gpa + size - 1)) {
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		return 1;
	}
	memset(&v->run.mmio, 0, sizeof(v->run.mmio));
	v->run.exit_reason = KVM_EXIT_MMIO;
	v->run.mmio.phys_addr = gpa & ~v->vm->shared_bit;
	v->run.mmio.len = (uint32_t)size;
	v->run.mmio.is_write = (uint8_t)write;
	if (write)
		memcpy(v->run.mmio.data, &v->args.r15, size);
	v->complete = write ? complete_simple : complete_mmio_read;
	return 0;
}

static int report_fatal(struct kvm_vcpu *v, uint64_t ret)
{
	uint64_t *d = v->run.system_event.data;
	const struct kvm_vp_enter_args *a = &v->args;

	v->run.exit_reason = KVM_EXIT_SYSTEM_EVENT;
	v->run.system_event.type = KVM_SYSTEM_EVENT_TDX_FATAL;
	v->run.system_event.ndata = 16;
	/* RAX, RCX, RDX, RBX, RSP(0), RBP(0), RSI, RDI, R8..R15 */
	d[0] = ret, d[1] = a->rcx, d[2] = a->rdx, d[3] = a->rbx, d[4] = 0, d[5] = 0, d[6] = a->rsi, d[7] = a->rdi;
	d[8] = a->r8, d[9] = a->r9, d[10] = a->r10, d[11] = a->r11;
	d[12] = a->r12, d[13] = a->r13, d[14] = a->r14, d[15] = a->r15;
	return 0;
}

static int get_quote(struct kvm_vcpu *v)
{
	if (kvm_gpa_is_private(v->vm, v->args.r12) || !v->args.r13) {
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		return 1;
	}
	if ((v->args.r12 | v->args.r13) & (KVM_PAGE - 1)) {
		set_ret(v, TDVMCALL_STATUS_ALIGN_ERROR);
		return 1;
	}
	v->run.exit_reason = KVM_EXIT_TDX;
	v->run.tdx.flags = 0;
	v->run.tdx.nr = TDVMCALL_GET_QUOTE;
	v->run.tdx.get_quote.ret = TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
	v->run.tdx.get_quote.gpa = v->args.r12 & ~v->vm->shared_bit;
	v->run.tdx.get_quote.size = v->args.r13;
	v->complete = complete_tdx;
	return 0;
}

static int complete_tdvmcall_info(struct kvm_vcpu *v)
{
	set_ret(v, v->run.tdx.get_tdvmcall_info.ret);
	v->args.r11 = v->run.tdx.get_tdvmcall_info.r11;
	v->args.r12 = v->run.tdx.get_tdvmcall_info.r12;
	v->args.r13 = v->run.tdx.get_tdvmcall_info.r13;
	v->args.r14 = v->run.tdx.get_tdvmcall_info.r14;
	return 1;
}

/* tdx_get_td_vm_call_info(): leaf 0 (the GHCI base set) answered here, leaf 1 asks
 * userspace which optional TDVMCALLs it serves. */
static int get_td_vm_call_info(struct kvm_vcpu *v)
{
	switch (v->args.r12) {
	case 0:
		v->args.r11 = v->args.r12 = v->args.r13 = v->args.r14 = 0;
		set_ret(v, TDVMCALL_STATUS_SUCCESS);
		return 1;
	case 1:
		memset(&v->run.tdx, 0, sizeof(v->run.tdx));
		v->run.exit_reason = KVM_EXIT_TDX;
		v->run.tdx.nr = TDVMCALL_GET_TD_VM_CALL_INFO;
		v->run.tdx.get_tdvmcall_info.leaf = v->args.r12;
		v->run.tdx.get_tdvmcall_info.ret = TDVMCALL_STATUS_SUCCESS;
		v->complete = complete_tdvmcall_info;
		return 0;
	default:
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		return 1;
	}
}

/* tdx_setup_event_notify(): the vector userspace injects when an async request completes. */
static int setup_event_notify(struct kvm_vcpu *v)
{
	if (v->args.r12 < 32 || v->args.r12 > 255) {
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		return 1;
	}
	memset(&v->run.tdx, 0, sizeof(v->run.tdx));
	v->run.exit_reason = KVM_EXIT_TDX;
	v->run.tdx.nr = TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT;
	v->run.tdx.setup_event_notify.ret = TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED;
	v->run.tdx.setup_event_notify.vector = v->args.r12;
	v->complete = complete_tdx;
	return 0;
}

/* tdx_emulate_cpuid(): R12 = leaf, R13 = subleaf in, R12..R15 = EAX..EDX out. */
static int emulate_cpuid(struct kvm_vcpu *v)
{
	uint32_t eax = (uint32_t)v->args.r12, ebx, ecx = (uint32_t)v->args.r13, edx;

	kvm_cpuid(v, &eax, &ebx, &ecx, &edx);
	v->args.r12 = eax, v->args.r13 = ebx, v->args.r14 = ecx, v->args.r15 = edx;
	set_ret(v, TDVMCALL_STATUS_SUCCESS);
	return 1;
}

/* TDVMCALL<Instruction.RDMSR/WRMSR> (R12 = MSR, R13 = value; R11 = value read): the MSRs KVM
 * emulates for a TD answer (the LAPIC's, then kvm_msr.c's), every other access is
 * TDVMCALL_STATUS_INVALID_OPERAND (tdx_complete_emulated_msr() on a failed kvm_{get,set}_msr). */
static int emulate_rdmsr(struct kvm_vcpu *v)
{
	uint64_t val;

	if (v->args.r12 >> 32 || (kvm_lapic_rdmsr(v, (uint32_t)v->args.r12, &val) &&
				  kvm_msr_rdmsr(v, (uint32_t)v->args.r12, &val))) {
		set_ret(v, TDVMCALL_STATUS_INVALID_OPERAND);
		return 1;
	}
	v->args.r11 = val;
	set_ret(v, TDVMCALL_STATUS_SUCCESS);
	return 1;
}

static int emulate_wrmsr(struct kvm_vcpu *v)
{
	bool bad = v->args.r12 >> 32 || (kvm_lapic_wrmsr(v, (uint32_t)v->args.r12, v->args.r13) &&
					 kvm_msr_wrmsr(v, (uint32_t)v->args.r12, v->args.r13));

	set_ret(v, bad ? TDVMCALL_STATUS_INVALID_OPERAND : TDVMCALL_STATUS_SUCCESS);
	return 1;
}

/* handle_tdvmcall() + the leaves KVM maps to VMX exit reasons. */
static int handle_tdvmcall(struct kvm_vcpu *v, uint64_t ret)
{
	switch (v->args.r11) {
	case EXIT_REASON_CPUID:
		return emulate_cpuid(v);
	case EXIT_REASON_HLT: /* tdx_emulate_hlt(): blocks in KVM until an interrupt or a kick */
		set_ret(v, TDVMCALL_STATUS_SUCCESS);
		v->halted = true;
		v->hlt_irq_blocked = v->args.r12 != 0;
		return kvm_intr_halt(v);
	case EXIT_REASON_RDMSR:
		return emulate_rdmsr(v);
	case EXIT_REASON_WRMSR:
		return emulate_wrmsr(v);
	case EXIT_REASON_IO_INSTRUCTION:
		return emulate_io(v);
	case EXIT_REASON_EPT_VIOLATION:
		return emulate_mmio(v);
	case TDVMCALL_MAP_GPA:
		return map_gpa(v);
	case TDVMCALL_REPORT_FATAL_ERROR:
		return report_fatal(v, ret);
	case TDVMCALL_GET_QUOTE:
		return get_quote(v);
	case TDVMCALL_GET_TD_VM_CALL_INFO:
		return get_td_vm_call_info(v);
	case TDVMCALL_SETUP_EVENT_NOTIFY_INTERRUPT:
		return setup_event_notify(v);
	default:
		set_ret(v, TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED);
		return 1;
	}
}

static int handle_exit(struct kvm_vcpu *v, uint64_t ret)
{
	uint32_t reason = (uint32_t)(ret & 0xffff);

	/* tdx_vcpu_run(): TDH.VP.ENTER found a TD-wide resource busy (another vCPU's SEAMCALL
	 * holds the TD epoch or Secure EPT lock, e.g. during TDH.MEM.TRACK): enter again. */
	if (kvm_operand_busy(ret))
		return 1;
	/* tdx_handle_exit(): an error or non-recoverable status is not served whatever its exit
	 * reason, except the triple fault (e.g. a machine check made the TD fatal:
	 * TDX_NON_RECOVERABLE_TD_NON_ACCESSIBLE, or TDX_TD_FATAL on entering it again). */
	if ((ret & (TDX_STATUS_ERROR_BIT | TDX_STATUS_NON_RECOVERABLE_BIT)) && reason != EXIT_REASON_TRIPLE_FAULT)
		goto unhandled;
	if (!(ret & TDX_ERROR_BIT) && reason == EXIT_REASON_TDCALL && v->args.r10 == 0)
		return handle_tdvmcall(v, ret);
	if (!(ret & TDX_ERROR_BIT) && reason == EXIT_REASON_EPT_VIOLATION && kvm_gpa_is_private(v->vm, v->args.r8)) {
		int r = kvm_tdx_fault_private(v->vm, v->args.r8); /* R8: the GPA */
		if (r <= 0 && r != -EFAULT)
			return r == 0 ? 1 : r;
	}
	/* the host interrupt that kicked the vCPU out (a signal for the vCPU thread) */
	if (!(ret & TDX_ERROR_BIT) && reason == EXIT_REASON_EXTERNAL_INTERRUPT) {
		v->run.exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	if (!(ret & TDX_ERROR_BIT) && reason == EXIT_REASON_TRIPLE_FAULT) {
		v->run.exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	}
unhandled:
	v->run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
	v->run.internal.suberror = KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON;
	v->run.internal.ndata = 2;
	v->run.internal.data[0] = ret;
	v->run.internal.data[1] = v->lp; /* last_vmentry_cpu */
	return 0;
}

/* tdx_vcpu_enter_exit(): the VMM's outputs for a completed TDG.VP.VMCALL go in with the
 * TDVPR; the TD exit comes back in the same registers. */
static uint64_t vp_enter(struct kvm_vcpu *v)
{
	struct tdx_regs io = { { 0 } };
	const struct kvm_vp_enter_args *a = &v->args;
	uint64_t ret;

	io.r[TDX_REG_RCX] = v->tdvpr;
	io.r[TDX_REG_RDX] = a->rdx, io.r[TDX_REG_RBX] = a->rbx, io.r[TDX_REG_RSI] = a->rsi, io.r[TDX_REG_RDI] = a->rdi;
	io.r[TDX_REG_R8] = a->r8, io.r[TDX_REG_R9] = a->r9, io.r[TDX_REG_R10] = a->r10, io.r[TDX_REG_R11] = a->r11;
	io.r[TDX_REG_R12] = a->r12, io.r[TDX_REG_R13] = a->r13, io.r[TDX_REG_R14] = a->r14, io.r[TDX_REG_R15] = a->r15;
	if (v->vm->enter_hold) /* a retried SEAMCALL or a wait for every vCPU holds them out */
		kvm_wait_enter_hold(v->vm);
	running_vcpu = v;
	kvm_intr_guest_enter(v);
	ret = tdh_vp_enter(v->vm->h, v->lp, &io);
	kvm_intr_guest_exit(v);
	running_vcpu = NULL;
	v->stat.exits++;
	kvm_host_state_after_exit(v);
	args_from_gprs(&v->args, io.r);
	return ret;
}

/* This thread's vCPU LP: from its first KVM_RUN on, KVM's SEAMCALLs made on this thread
 * (faults, conversions after its exits) run on that LP, never on another vCPU's. */
static _Thread_local unsigned thread_lp;

unsigned kvm_thread_lp(void)
{
	return thread_lp;
}

int kvm_vcpu_run(struct kvm_vcpu *v)
{
	const struct plat *p = v->vm->h->plat;
	int r = 1;

	thread_lp = v->lp;
	if (kvm_vm_dead(v->vm))
		return -EIO;
	if (v->state != VCPU_TD_STATE_INITIALIZED || v->vm->state != TD_STATE_RUNNABLE) /* tdx_vcpu_pre_run() */
		return -EINVAL;
	if (!plat_has_guest_engine(p) || (plat_get_guest_engine(p) == &script_engine && !v->engine))
		return -ENOEXEC; /* no CPU core to run the guest on */
	if (v->complete) {
		int (*c)(struct kvm_vcpu *) = v->complete;
		v->complete = NULL;
		if (!(r = c(v)))
			return 0;
	}
	/* a pending kick is a pending signal; a halted vCPU sleeps on where it stopped */
	if (kvm_intr_take_kick(v)) {
		v->run.exit_reason = KVM_EXIT_INTR;
		return -EINTR;
	}
	if (v->halted && (r = kvm_intr_halt(v)) <= 0)
		return r;
	kvm_host_state_prepare(v);
	v->ran = true;
	while (r > 0) {
		r = handle_exit(v, vp_enter(v));
		if (r > 0 && kvm_intr_take_kick(v)) {
			v->run.exit_reason = KVM_EXIT_INTR;
			r = -EINTR;
		}
	}
	kvm_intr_take_kick(v); /* whatever the exit, the vCPU is back in userspace */
	kvm_host_state_put(v); /* back to userspace: the host's registers as they were */
	return r;
}
