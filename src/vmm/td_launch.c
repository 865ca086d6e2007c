/* A TD for an external CPU engine: host bring-up, the TD built through the KVM-TDX API the way
 * QEMU's target/i386/kvm/tdx.c does it, and the KVM_RUN loop (td_launch.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi_leaves.h"
#include "abi_status.h"
#include "kvm/kvm.h"
#include "sim.h"
#include "td_guest_events.h"
#include "td_launch_internal.h"
#include "tdvf.h"
#include "tdx_cpu_check.h"

#define LAUNCH_HOST_RAM (4ull << 30) /* the simulated host: room for the TD, PAMTs, TDCS */
#define LAUNCH_GPAW_BITS 48u         /* CPUID.0x80000008.EAX[23:16] asked at INIT_VM */
#define LAUNCH_XFAM 0x3u             /* x87 | SSE: what OVMF needs, AVX state is not modelled */
#define GUEST_PHYS_BITS_SHIFT 16
#define PAGE 4096u
#define LOG_MAX 512


void td_launch_log(struct td_launch *l, const char *fmt, ...)
{
	char line[LOG_MAX];
	va_list ap;

	if (!l->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	l->ops->log(l->ctx, line);
}

static const char *tdcall_name(uint64_t rax)
{
#define TDCALL_NAME(id, num, name, ver) case num: return name;
	switch (rax & 0xFFFF) {
		TDX_TDCALL_LEAVES(TDCALL_NAME)
	default:
		return "unknown";
	}
#undef TDCALL_NAME
}

/* The engine's context for the vCPU whose KVM_RUN is on this thread (td_launch_run). */
static _Thread_local void *engine_vcpu_ctx;

void td_launch_set_engine_ctx(void *vcpu_ctx)
{
	engine_vcpu_ctx = vcpu_ctx;
}

/* The GPA of the last machine check the engine reported on this thread: the CPU knows what it
 * was accessing, KVM's exit (internal error with the module's status) does not say. */
static _Thread_local bool mce_seen;
static _Thread_local uint64_t mce_gpa;

bool td_launch_take_machine_check(uint64_t *gpa)
{
	bool seen = mce_seen;

	*gpa = mce_gpa;
	mce_seen = false;
	return seen;
}

/* The platform's guest engine: the external engine runs the vCPU; TDCALLs are logged here
 * (the module serves most of them without a TD exit, so the KVM side never sees them). */
/* The guest's TDG.VP.VMCALL the module refused (it never reaches KVM, so nothing else would
 * tell): said once per launch, with the reason a firmware most often meets. */
#define GPR_SELECT_RBP (UINT64_C(1) << TDX_REG_RBP) /* GPR_SELECT bits follow the GPR numbering */
static _Thread_local uint64_t vmcall_rcx;
static _Thread_local bool vmcall_check;

static void check_vmcall(struct td_launch *l, const struct plat_guest_regs *regs)
{
	uint64_t st = regs->gpr[0];

	vmcall_check = false;
	if (!(st >> 63) || __atomic_exchange_n(&l->vmcall_refusal_said, true, __ATOMIC_RELAXED))
		return;
	td_launch_log(l, "TDG.VP.VMCALL refused by the TDX module: status %#llx, RCX (GPR_SELECT) %#llx%s",
		      (unsigned long long)st, (unsigned long long)vmcall_rcx,
		      (st >> 32) == (TDX_OPERAND_INVALID >> 32) && (vmcall_rcx & GPR_SELECT_RBP)
			      ? ": RBP is selected, which the module refuses with CONFIG_FLAGS.NO_RBP_MOD (KVM sets it, as "
				"Linux does); this firmware predates edk2's TDVMCALL change that stopped exposing RBP "
				"(TDXEMU_KVM_PARAMS=no_rbp_mod=N, or tdxemu run --kvm-param no_rbp_mod=N, runs it on a "
				"KVM that leaves the flag clear, as TDX 1.0-era host kernels did)"
			      : "");
}

static void engine_run(void *ctx, struct plat *p, unsigned lp, uint64_t tag, struct plat_guest_regs *regs,
		       const struct plat_guest_mem *mem, struct plat_guest_exit *exit)
{
	struct td_launch *l = ctx;

	if (vmcall_check)
		check_vmcall(l, regs);
	l->ops->run(engine_vcpu_ctx, regs, mem, exit);
	if ((exit->reason & 0xFFFF) == EXIT_REASON_EXCEPTION_OR_NMI && exit->intr_info == TD_GUEST_INTR_INFO_MC) {
		mce_seen = true;
		mce_gpa = exit->gpa;
	}
	if ((exit->reason & 0xFFFF) != EXIT_REASON_TDCALL)
		return;
	if ((regs->gpr[0] & 0xFFFF) == TDG_VP_VMCALL_LEAF)
		vmcall_rcx = regs->gpr[1], vmcall_check = true;
	TD_LAUNCH_COUNT(l, tdcalls);
	if (!l->trace)
		return;
	if ((regs->gpr[0] & 0xFFFF) == TDG_VP_VMCALL_LEAF)
		td_launch_log(l, "TDCALL TDG.VP.VMCALL r11=%#llx r12=%#llx r13=%#llx r14=%#llx", (unsigned long long)regs->gpr[11],
		      (unsigned long long)regs->gpr[12], (unsigned long long)regs->gpr[13], (unsigned long long)regs->gpr[14]);
	else
		td_launch_log(l, "TDCALL %s rcx=%#llx rdx=%#llx", tdcall_name(regs->gpr[0]), (unsigned long long)regs->gpr[1],
		      (unsigned long long)regs->gpr[2]);
}

static const struct plat_guest_engine launch_engine = { engine_run };

static int fail(char *err, size_t errlen, const char *what, int r)
{
	snprintf(err, errlen, "%s failed: %s", what, r < 0 ? strerror(-r) : "error");
	return -1;
}

/* QEMU's tdx_check_features() and friends through the shared library: its warnings and
 * errors go to the engine; the TD gets the ATTRIBUTES QEMU would pass. */
static int cpu_check(struct td_launch *l, const struct td_launch_config *cfg, char *err, size_t errlen)
{
	struct tcc_native nat = { sim_native_cpuid, &l->sim };
	struct tcc_request req = { cfg->cpu, cfg->attributes, false };
	struct tcc_result res;
	int r = tdx_cpu_check(l->dev, &nat, &req, &res, err, errlen);

	for (unsigned i = 0; !r && i < res.nmsg; i++)
		if (l->ops->cpu_message && res.msg[i].kind != TCC_MSG_NOTE)
			l->ops->cpu_message(l->ctx, res.msg[i].kind == TCC_MSG_ERROR, res.msg[i].text);
	/* tdx_cpu_instance_init(): QEMU stops at a named model (the check only notes it) */
	if (!r && !res.qemu_accepts_model && l->ops->cpu_message)
		l->ops->cpu_message(l->ctx, true, QEMU_MSG_NAMED_MODEL);
	if (!r && (res.failed || !res.qemu_accepts_model)) {
		snprintf(err, errlen, "-cpu %s: QEMU refuses this CPU for a TD", cfg->cpu);
		r = -1;
	}
	if (!r)
		l->cfg.attributes = res.attributes;
	tcc_result_free(&res);
	return r ? -1 : 0;
}

/* What the kernel would put in dmesg that a user of a launched TD must see: KVM's
 * KVM_BUG_ON reports (the VM is dead after them). Bring-up chatter stays quiet. */
static void host_log_warnings(void *ctx, const char *line)
{
	(void)ctx;
	if (strstr(line, "KVM_BUG_ON"))
		fprintf(stderr, "tdxemu: %s\n", line);
}

/* "NAME=VALUE[,NAME=VALUE...]" into kvm_set_param(), like modprobe's arguments. */
static int set_kvm_params(struct td_launch *l, const char *list, char *err, size_t errlen)
{
	char buf[256], *save = NULL;

	if (strlen(list) >= sizeof(buf)) {
		snprintf(err, errlen, "KVM parameters '%.40s...': longer than %zu bytes", list, sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, list);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (!eq || eq == item) {
			snprintf(err, errlen, "KVM parameter '%s': not NAME=VALUE", item);
			return -1;
		}
		*eq = '\0';
		if (kvm_set_param(l->dev, item, eq + 1)) {
			snprintf(err, errlen, "KVM parameter %s=%s: %s", item, eq + 1,
				 strcmp(item, "no_rbp_mod") ? "unknown parameter (known: no_rbp_mod)"
							   : "not a boolean (y/n, 1/0, on/off)");
			return -1;
		}
		if (!strcmp(item, "no_rbp_mod") && !kvm_param_no_rbp_mod(l->dev))
			td_launch_log(l, "KVM no_rbp_mod=N: INIT_VM leaves CONFIG_FLAGS.NO_RBP_MOD clear (TDX 1.0-era KVM; "
					 "Linux sets it): TDG.VP.VMCALL may pass RBP");
	}
	return 0;
}

/* QEMU's tdx_kvm_init() keeps KVM_TDX_CAPABILITIES: its tdvmcallinfo_1 words answer
 * GetTdVmCallInfo leaf 1. */
static int get_tdvmcall_info(struct td_launch *l, char *err, size_t errlen)
{
	struct kvm_tdx_capabilities *c;
	int r = tcc_get_capabilities(l->dev, &c);

	if (r)
		return fail(err, errlen, "KVM_TDX_CAPABILITIES", r);
	l->quote.kernel_info_r11 = c->kernel_tdvmcallinfo_1_r11;
	l->quote.kernel_info_r12 = c->kernel_tdvmcallinfo_1_r12;
	l->quote.user_info_r11 = c->user_tdvmcallinfo_1_r11;
	l->quote.user_info_r12 = c->user_tdvmcallinfo_1_r12;
	free(c);
	return 0;
}

static int host_up(struct td_launch *l, const struct td_launch_config *cfg, char *err, size_t errlen)
{
	struct plat_config pc;

	plat_config_default(&pc);
	pc.packages = 1;
	/* one LP per vCPU (KVM caps MAX_VCPUS at the host's CPUs), at least two like a real host */
	pc.lps_per_package = l->nr_vcpus > 2 ? l->nr_vcpus : 2;
	pc.ram_bytes = LAUNCH_HOST_RAM;
	plat_config_default_e820(&pc);
	if (sim_create(&l->sim, &pc, cfg->profile ? cfg->profile : SIM_DEFAULT_PROFILE, host_log_warnings, NULL, err,
		       errlen))
		return -1;
	l->sim_up = true;
	if (sim_tdx_bringup(&l->sim)) {
		snprintf(err, errlen, "TDX module bring-up failed on the simulated host");
		return -1;
	}
	if (!(l->dev = kvm_open(&l->sim.host)))
		return fail(err, errlen, "kvm_open", -ENOMEM);
	if (cfg->kvm_params && *cfg->kvm_params && set_kvm_params(l, cfg->kvm_params, err, errlen))
		return -1;
	if (get_tdvmcall_info(l, err, errlen))
		return -1;
	return cfg->cpu ? cpu_check(l, cfg, err, errlen) : 0;
}

/* QEMU's kvm_arch_init_vcpu(): with CPUID.1:EDX MCE and MCA, its default MCG_CAP (MCE_CAP_DEF,
 * MCE_BANKS_DEF banks) less what KVM does not support goes to KVM_X86_SETUP_MCE. */
static int setup_mce(struct kvm_vcpu *v, const struct kvm_cpuid2 *c)
{
	const uint32_t mce_mca = (uint32_t)(KVM_CPUID_1_EDX_MCE | KVM_CPUID_1_EDX_MCA);
	unsigned banks;
	uint64_t sup = kvm_mce_cap_supported(&banks), cap = QEMU_MCE_CAP_DEF | QEMU_MCE_BANKS_DEF;

	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1 && (c->entries[i].edx & mce_mca) == mce_mca)
			return QEMU_MCE_BANKS_DEF > banks ? -ENOTSUP
							  : kvm_vcpu_setup_mce(v, cap & (sup | KVM_MCG_BANKCNT_MASK));
	return 0;
}

/* QEMU's kvm_arch_init_vcpu() puts KVM's paravirtual leaves in the table it gives
 * KVM_SET_CPUID2 (its "kvm" CPU property is on by default): the signature leaf, whose EAX is the
 * last KVM leaf, and the feature leaf. A TD reaches them with TDVMCALL<CPUID> (the module
 * #VEs on hypervisor leaves); Linux needs the signature to keep x2APIC without interrupt
 * remapping. Of the features only NOP_IO_DELAY, which asks nothing of KVM (the guest stops
 * writing port 0x80 for delays), is offered: kvmclock, PV EOI, async PF and steal time are
 * not implemented by tdxemu's KVM. */
static int add_kvm_pv_leaves(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e;

	if (c->nent + 2 > KVM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = KVM_CPUID_SIGNATURE;
	e->eax = KVM_CPUID_FEATURES;
	e->ebx = KVM_SIGNATURE_EBX, e->ecx = KVM_SIGNATURE_ECX, e->edx = KVM_SIGNATURE_EDX;
	e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = KVM_CPUID_FEATURES;
	e->eax = UINT32_C(1) << KVM_FEATURE_NOP_IO_DELAY;
	return 0;
}

/* QEMU's cpu_x86_cpuid() topology leaves for vCPU `id` of `n` (one thread per core, every
 * vCPU a core of one package, APIC ID = vCPU index): 0xB and, as QEMU's TDX code forces it,
 * 0x1F, with the vCPU's x2APIC ID in EDX. A TD asks KVM for them with TDVMCALL<CPUID> (the
 * module #VEs on them without topology enumeration), e.g. OVMF's AP mailbox loop to learn
 * which wake-up commands are its own. */
#define TOPO_LEVEL_SMT 1u
#define TOPO_LEVEL_CORE 2u
static int set_topology_leaves(struct kvm_cpuid2 *c, unsigned id, unsigned n)
{
	static const uint32_t leaves[] = { 0xb, 0x1f };
	unsigned core_bits = 0, k = 0;

	while ((1u << core_bits) < n)
		core_bits++;
	for (unsigned i = 0; i < c->nent; i++) /* drop the TD's own (all-zero, #VE) entries */
		if (c->entries[i].function != 0xb && c->entries[i].function != 0x1f)
			c->entries[k++] = c->entries[i];
	c->nent = k;
	if (c->nent + 6 > KVM_MAX_CPUID_ENTRIES)
		return -E2BIG;
	for (unsigned l = 0; l < 2; l++)
		for (uint32_t sub = 0; sub < 3; sub++) {
			struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
			memset(e, 0, sizeof(*e));
			e->function = leaves[l];
			e->index = sub;
			e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
			e->edx = id;
			if (sub == 0)
				e->eax = 0, e->ebx = 1, e->ecx = sub | TOPO_LEVEL_SMT << 8;
			else if (sub == 1)
				e->eax = core_bits, e->ebx = n, e->ecx = sub | TOPO_LEVEL_CORE << 8;
			else
				e->ecx = sub;
		}
	return 0;
}

/* KVM_TDX_INIT_VM with the guest physical width QEMU asks for, then KVM_SET_CPUID2 with the
 * TD's own CPUID (KVM_TDX_GET_CPUID) and KVM's paravirtual leaves, for TDVMCALL<CPUID>. */
static int vm_init(struct td_launch *l, char *err, size_t errlen)
{
	struct kvm_tdx_init_vm *iv = calloc(1, sizeof(*iv) + sizeof(struct kvm_cpuid_entry2));
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	uint64_t hw = 0;
	int r;

	if (!iv || !c) {
		free(iv);
		free(c);
		return fail(err, errlen, "allocation", -ENOMEM);
	}
	iv->xfam = LAUNCH_XFAM;
	iv->attributes = l->cfg.attributes;
	memcpy(iv->mrconfigid, l->cfg.mrconfigid, sizeof(iv->mrconfigid));
	memcpy(iv->mrowner, l->cfg.mrowner, sizeof(iv->mrowner));
	memcpy(iv->mrownerconfig, l->cfg.mrownerconfig, sizeof(iv->mrownerconfig));
	iv->cpuid.nent = 1;
	iv->cpuid.entries[0].function = 0x80000008;
	iv->cpuid.entries[0].eax = LAUNCH_GPAW_BITS << GUEST_PHYS_BITS_SHIFT;
	r = kvm_create_vm(l->dev, KVM_X86_TDX_VM, &l->vm);
	/* tdx_pre_create_vcpu(): MAX_VCPUS is -smp's CPU count (TDG.VP.INFO reports it) */
	if (!r && (r = kvm_vm_enable_cap_max_vcpus(l->vm, 0, l->nr_vcpus)))
		fail(err, errlen, "KVM_ENABLE_CAP(KVM_CAP_MAX_VCPUS)", r);
	else if (!r && l->cfg.tsc_khz && (r = kvm_vm_set_tsc_khz(l->vm, l->cfg.tsc_khz)))
		fail(err, errlen, "KVM_SET_TSC_KHZ", r);
	else if (!r && (r = kvm_tdx_init_vm(l->vm, iv, &hw)))
		snprintf(err, errlen, "KVM_TDX_INIT_VM failed: %s (hw_error %#llx)", strerror(-r), (unsigned long long)hw);
	for (unsigned i = 0; !r && i < l->nr_vcpus; i++) {
		if ((r = kvm_create_vcpu(l->vm, i, &l->vcpu[i]))) {
			fail(err, errlen, "KVM_CREATE_VCPU", r);
			break;
		}
		c->nent = KVM_MAX_CPUID_ENTRIES;
		if ((r = kvm_tdx_get_cpuid(l->vcpu[i], c)))
			fail(err, errlen, "KVM_TDX_GET_CPUID", r);
		else if ((r = set_topology_leaves(c, i, l->nr_vcpus)))
			fail(err, errlen, "CPUID topology leaves", r);
		else if ((r = add_kvm_pv_leaves(c)))
			fail(err, errlen, "KVM paravirtual CPUID leaves", r);
		else if ((r = kvm_vcpu_set_cpuid2(l->vcpu[i], c)))
			fail(err, errlen, "KVM_SET_CPUID2", r);
		else if ((r = setup_mce(l->vcpu[i], c)))
			fail(err, errlen, "KVM_X86_SETUP_MCE", r);
	}
	free(iv);
	free(c);
	return r ? -1 : 0;
}

static int add_slot(struct td_launch *l, uint64_t gpa, uint64_t size, char *err, size_t errlen)
{
	struct kvm_memory_region r = { .slot = l->nr_slots, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = gpa,
				       .memory_size = size };
	int e = kvm_set_user_memory_region2(l->vm, &r);

	if (!e)
		e = kvm_set_memory_attributes(l->vm, gpa, size, KVM_MEMORY_ATTRIBUTE_PRIVATE);
	if (e) {
		snprintf(err, errlen, "memslot %#llx+%#llx: %s", (unsigned long long)gpa, (unsigned long long)size,
			 strerror(-e));
		return -1;
	}
	l->nr_slots++;
	return 0;
}

static bool in_ram(const struct td_ram_layout *ram, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < ram->n; i++)
		if (gpa >= ram->e[i].base && gpa + size <= ram->e[i].base + ram->e[i].size)
			return true;
	return false;
}

/* guest_memfd slots: q35's RAM, and the firmware sections outside it (BFV/CFV below 4 GiB). */
static int slots_init(struct td_launch *l, const struct tdvf *t, const struct td_ram_layout *ram, char *err,
		      size_t errlen)
{
	for (unsigned i = 0; i < ram->n; i++)
		if (add_slot(l, ram->e[i].base, ram->e[i].size, err, errlen))
			return -1;
	for (unsigned i = 0; i < t->nr_sections; i++)
		if (!in_ram(ram, t->sec[i].gpa, t->sec[i].mem_size) &&
		    add_slot(l, t->sec[i].gpa, t->sec[i].mem_size, err, errlen))
			return -1;
	return 0;
}

/* KVM_TDX_INIT_MEM_REGION for one section, page by page; the TD_HOB section carries the HOB. */
static int add_section(struct td_launch *l, const struct tdvf *t, const struct tdvf_section *s, char *err,
		       size_t errlen)
{
	uint8_t page[PAGE] __attribute__((aligned(PAGE))); /* INIT_MEM_REGION wants an aligned source */
	bool hob = s == &t->sec[t->hob_index >= 0 ? t->hob_index : 0] && t->hob_index >= 0;

	if (s->attributes & TDVF_ATTR_PAGE_AUG)
		return 0; /* accepted by the guest later, not part of the initial image */
	for (uint64_t pg = 0; pg < s->mem_size / PAGE; pg++) {
		struct kvm_tdx_init_mem_region r = { .source_addr = (uint64_t)(uintptr_t)page, .gpa = s->gpa + pg * PAGE,
						     .nr_pages = 1 };
		int e;

		if (hob)
			memcpy(page, l->hob + pg * PAGE, PAGE);
		else
			tdvf_section_page(t, s, pg, page);
		e = kvm_tdx_init_mem_region(l->vcpu[0], &r,
					    (s->attributes & TDVF_ATTR_MR_EXTEND) ? KVM_TDX_MEASURE_MEMORY_REGION : 0);
		if (e) {
			snprintf(err, errlen, "KVM_TDX_INIT_MEM_REGION %s page %#llx: %s", tdvf_section_type_name(s->type),
				 (unsigned long long)r.gpa, strerror(-e));
			return -1;
		}
	}
	return 0;
}

static int td_build(struct td_launch *l, const struct td_launch_config *cfg, char *err, size_t errlen)
{
	struct tdvf t;
	struct td_ram_layout ram;
	uint64_t hob_gpa, hw = 0;
	long hob_len;
	int r;

	if (tdvf_parse(cfg->bios, cfg->bios_size, &t, err, errlen))
		return -1;
	if (t.hob_index < 0) {
		snprintf(err, errlen, "the firmware has no TD_HOB section");
		return -1;
	}
	hob_gpa = t.sec[t.hob_index].gpa;
	if (!(l->hob = calloc(1, t.sec[t.hob_index].mem_size)))
		return fail(err, errlen, "allocation", -ENOMEM);
	td_ram_layout_q35(cfg->ram_size, &ram);
	hob_len = td_hob_build(&t, &ram, l->hob, t.sec[t.hob_index].mem_size, err, errlen);
	if (hob_len < 0 || vm_init(l, err, errlen) || slots_init(l, &t, &ram, err, errlen))
		return -1;
	/* QEMU's tdx_post_init_vcpus(): every vCPU gets the TD HOB's address */
	for (unsigned i = 0; i < l->nr_vcpus; i++)
		if ((r = kvm_tdx_init_vcpu(l->vcpu[i], hob_gpa)))
			return fail(err, errlen, "KVM_TDX_INIT_VCPU", r);
	for (unsigned i = 0; i < t.nr_sections; i++)
		if (add_section(l, &t, &t.sec[i], err, errlen))
			return -1;
	if ((r = kvm_tdx_finalize_vm(l->vm, &hw)))
		return fail(err, errlen, "KVM_TDX_FINALIZE_VM", r);
	td_launch_log(l, "TD built: %u TDVF sections, TD HOB at %#llx (%ld bytes), %llu MiB RAM, %u vCPUs, shared bit %u",
		      t.nr_sections, (unsigned long long)hob_gpa, hob_len, (unsigned long long)(cfg->ram_size >> 20), l->nr_vcpus,
	      (unsigned)__builtin_ctzll(td_launch_shared_bit(l)));
	return 0;
}

static void launch_kick(void *ctx, unsigned vcpu)
{
	struct td_launch *l = ctx;

	if (l->ops->kick)
		l->ops->kick(l->ctx, vcpu);
}

void td_launch_kick(struct td_launch *l, unsigned vcpu)
{
	if (vcpu < l->nr_vcpus)
		kvm_vcpu_kick(l->vcpu[vcpu]);
}

int td_launch_irq_msi(struct td_launch *l, uint32_t apic_id, uint8_t vector)
{
	return kvm_irq_msi(l->vm, apic_id, vector);
}

uint64_t td_launch_guest_tsc(const struct td_launch *l)
{
	return kvm_vm_guest_tsc(l->vm);
}

/* TDXEMU_STATS=1: one line on stderr when the engine exits (e.g. after the TD powered off),
 * for benchmarks: the counters and the private pages the guest accepted, per second of the
 * TD's life. */
static struct td_launch *stats_launch;
static double stats_t0;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_stats_at_exit(void)
{
	const struct td_launch_stats *st;
	uint64_t pages;
	double t;

	if (!stats_launch)
		return;
	st = &stats_launch->stats;
	pages = kvm_vm_pages_augmented(stats_launch->vm);
	t = now_s() - stats_t0;
	fprintf(stderr, "tdxemu: stats: %.2f s, %llu TDCALL exits, %llu IO, %llu MMIO, %llu KVM_RUNs, "
			"%llu private pages added (PAGE.AUG), %.0f pages/s, %llu MapGPA (%llu pages made shared)\n", t,
		(unsigned long long)st->tdcalls, (unsigned long long)st->pio, (unsigned long long)st->mmio,
		(unsigned long long)st->kvm_runs, (unsigned long long)pages, t > 0 ? (double)pages / t : 0.0,
		(unsigned long long)st->map_gpas, (unsigned long long)st->pages_made_shared);
}

int td_launch_create(const struct td_launch_config *cfg, const struct td_launch_ops *ops, void *ctx,
		     struct td_launch **out, char *err, size_t errlen)
{
	struct td_launch *l = calloc(1, sizeof(*l));
	int qr;

	*out = NULL;
	if (!l)
		return fail(err, errlen, "allocation", -ENOMEM);
	l->ops = ops;
	l->ctx = ctx;
	l->trace = cfg->trace;
	l->cfg = *cfg;
	l->cfg.bios = NULL;
	l->cfg.bios_size = 0;
	l->nr_vcpus = cfg->nr_vcpus ? cfg->nr_vcpus : 1;
	if (!ops || !ops->run || !ops->pio || !ops->mmio || !ops->shared_rw) {
		snprintf(err, errlen, "td_launch_create: the engine must provide run, pio, mmio and shared_rw");
		free(l);
		return -1;
	}
	if (l->nr_vcpus > TD_LAUNCH_MAX_VCPUS) {
		snprintf(err, errlen, "%u vCPUs: at most %u", l->nr_vcpus, TD_LAUNCH_MAX_VCPUS);
		free(l);
		return -1;
	}
	if ((qr = td_quote_init(l))) {
		free(l);
		return fail(err, errlen, "GetQuote state", qr);
	}
	if (cfg->quote_socket && td_quote_set_socket(l, cfg->quote_socket, err, errlen)) {
		td_launch_destroy(l);
		return -1;
	}
	if (host_up(l, cfg, err, errlen) || td_build(l, cfg, err, errlen)) {
		td_launch_destroy(l);
		return -1;
	}
	plat_set_guest_engine(l->sim.plat, &launch_engine, l);
	kvm_set_vcpu_kick_fn(l->vm, launch_kick, l);
	if (getenv("TDXEMU_STATS") && !stats_launch) {
		stats_launch = l;
		stats_t0 = now_s();
		atexit(print_stats_at_exit);
	}
	*out = l;
	return 0;
}

void td_launch_destroy(struct td_launch *l)
{
	if (!l)
		return;
	if (stats_launch == l) {
		print_stats_at_exit();
		stats_launch = NULL;
	}
	td_quote_fini(l); /* no QGS transaction writes into the TD after this */
	if (l->vm)
		kvm_destroy_vm(l->vm);
	if (l->dev)
		kvm_close(l->dev);
	if (l->sim_up)
		sim_destroy(&l->sim);
	free(l->hob);
	free(l);
}

int td_launch_dram_range(struct td_launch *l, unsigned i, uint64_t *hpa, void **ptr, uint64_t *len)
{
	const struct plat_config *c = plat_config(l->sim.plat);
	unsigned n = 0;

	for (unsigned e = 0; e < c->nr_e820; e++) {
		uint64_t pa = c->e820[e].addr, end = pa + c->e820[e].size;
		if (c->e820[e].type != E820_RAM)
			continue;
		while (pa < end) {
			uint64_t l_;
			void *p;
			if (plat_guest_dram(l->sim.plat, pa, &p, &l_))
				return -1;
			if (n++ == i) {
				*hpa = pa, *ptr = p, *len = l_;
				return 0;
			}
			pa += l_;
		}
	}
	return -1;
}

uint64_t td_launch_shared_bit(const struct td_launch *l)
{
	(void)l;
	return UINT64_C(1) << (LAUNCH_GPAW_BITS - 1);
}

bool td_launch_tracing(const struct td_launch *l)
{
	return l->trace;
}

unsigned td_launch_nr_vcpus(const struct td_launch *l)
{
	return l->nr_vcpus;
}

const struct td_launch_stats *td_launch_get_stats(const struct td_launch *l)
{
	return &l->stats;
}
