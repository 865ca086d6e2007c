/* The virtual APIC of a running TD vCPU (td_vapic.h). IRR/ISR/TMR are 256-bit vectors kept as
 * eight 32-bit registers 16 bytes apart in the virtual-APIC page; RVI is bits 7:0 and SVI bits
 * 15:8 of the guest interrupt status. EOI-induced VM exits (the EOI-exit bitmap) are not
 * modelled: the host cannot ask for them on a TD here, so an EOI only retires the ISR bit. */
#include <string.h>

#include "td_vapic.h"
#include "x2apic.h"

#define VMCS(name) MD_TD_VMCS_FIELDS_##name##_IDX
#define PINBASED_POSTED_INTERRUPTS (UINT64_C(1) << 7)
#define SVI_SHIFT 8
#define NR_VEC_WORDS 8u

static uint8_t *vapic_page(const struct td_guest *g)
{
	return g->pg.p[TDVPS_PAGE_VAPIC];
}

static uint32_t reg_get(const struct td_guest *g, uint32_t off)
{
	uint32_t v;

	memcpy(&v, vapic_page(g) + off, sizeof(v));
	return v;
}

static void reg_put(const struct td_guest *g, uint32_t off, uint32_t v)
{
	memcpy(vapic_page(g) + off, &v, sizeof(v));
}

static uint32_t vec_reg(unsigned vector)
{
	return (vector / 32u) * 0x10u;
}

static bool vec_test(const struct td_guest *g, uint32_t base, unsigned vector)
{
	return (reg_get(g, base + vec_reg(vector)) >> (vector % 32u)) & 1u;
}

static void vec_set(const struct td_guest *g, uint32_t base, unsigned vector, bool on)
{
	uint32_t off = base + vec_reg(vector), bit = UINT32_C(1) << (vector % 32u), v = reg_get(g, off);

	reg_put(g, off, on ? v | bit : v & ~bit);
}

/* The highest vector set in the 256-bit register at base, 0 when none (as RVI/SVI read). */
static unsigned vec_highest(const struct td_guest *g, uint32_t base)
{
	for (unsigned i = NR_VEC_WORDS; i-- > 0;) {
		uint32_t v = reg_get(g, base + i * 0x10u);
		if (v)
			return i * 32u + 31u - (unsigned)__builtin_clz(v);
	}
	return 0;
}

static uint64_t intr_status(const struct td_guest *g)
{
	return tdvps_vmcs_get(&g->pg, VMCS(GUEST_INTERRUPT_STATUS), 0);
}

static unsigned rvi(const struct td_guest *g)
{
	return (unsigned)(intr_status(g) & APIC_VECTOR_MASK);
}

static unsigned svi(const struct td_guest *g)
{
	return (unsigned)((intr_status(g) >> SVI_SHIFT) & APIC_VECTOR_MASK);
}

static void set_rvi_svi(const struct td_guest *g, unsigned r, unsigned s)
{
	uint64_t st = intr_status(g) & ~UINT64_C(0xFFFF);

	tdvps_vmcs_put(&g->pg, VMCS(GUEST_INTERRUPT_STATUS), 0, st | r | (uint64_t)s << SVI_SHIFT);
}

/* PPR virtualization: VPPR = VTPR when its class is at least SVI's, else SVI's class. */
static void ppr_update(const struct td_guest *g)
{
	uint32_t tpr = reg_get(g, APIC_REG_TPR) & APIC_VECTOR_MASK, s = svi(g);

	reg_put(g, APIC_REG_PPR, APIC_PRIO_CLASS(tpr) >= APIC_PRIO_CLASS(s) ? tpr : APIC_PRIO_CLASS(s));
}

/* A vector becomes requested (posted interrupt or self-IPI): IRR bit, RVI = max(RVI, vector). */
static void request(const struct td_guest *g, unsigned vector)
{
	vec_set(g, APIC_REG_IRR, vector, true);
	if (vector > rvi(g))
		set_rvi_svi(g, vector, svi(g));
}

static bool posted_enabled(const struct td_guest *g, uint64_t *pid)
{
	uint64_t pin = tdvps_vmcs_get(&g->pg, VMCS(PIN_BASED_VM_EXECTION_CONTROLS), 0);

	*pid = tdvps_vmcs_get(&g->pg, VMCS(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS), 0);
	return (pin & PINBASED_POSTED_INTERRUPTS) && *pid != NULL_PA;
}

void td_vapic_process_posted(struct td_guest *g)
{
	struct plat *p = g->m->plat;
	uint64_t pid, ctrl, pir;

	if (!posted_enabled(g, &pid))
		return;
	/* The cheap test first: the engine asks at every interrupt window. */
	if (plat_shared_atomic64(p, pid + PID_CTRL_OFFSET, PLAT_ATOMIC_LOAD, 0, &ctrl) || !(ctrl & PID_ON))
		return;
	/* ON cleared before PIR is read: a sender that sets a PIR bit after our exchange finds ON
	 * clear, sets it and notifies again, so no request is lost. */
	if (plat_shared_atomic64(p, pid + PID_CTRL_OFFSET, PLAT_ATOMIC_AND, ~PID_ON, &ctrl))
		return;
	for (unsigned w = 0; w < PID_PIR_WORDS; w++) {
		if (plat_shared_atomic64(p, pid + 8u * w, PLAT_ATOMIC_XCHG, 0, &pir))
			return;
		while (pir) {
			unsigned bit = (unsigned)__builtin_ctzll(pir);
			request(g, w * 64u + bit);
			pir &= pir - 1;
		}
	}
}

int td_vapic_intr_pending(void *ctx)
{
	struct td_guest *g = ctx;
	unsigned r;

	td_vapic_process_posted(g);
	r = rvi(g);
	return APIC_PRIO_CLASS(r) > APIC_PRIO_CLASS(reg_get(g, APIC_REG_PPR)) ? (int)r : -1;
}

/* Virtual-interrupt delivery of vector. */
void td_vapic_intr_ack(void *ctx, int vector)
{
	struct td_guest *g = ctx;

	if (vector < 0 || vector > (int)APIC_VECTOR_MASK || !vec_test(g, APIC_REG_IRR, (unsigned)vector))
		return;
	vec_set(g, APIC_REG_IRR, (unsigned)vector, false);
	vec_set(g, APIC_REG_ISR, (unsigned)vector, true);
	set_rvi_svi(g, vec_highest(g, APIC_REG_IRR), (unsigned)vector);
	reg_put(g, APIC_REG_PPR, APIC_PRIO_CLASS((unsigned)vector));
}

/* EOI virtualization: the in-service vector (SVI) retires, SVI drops to the next one. */
static void eoi(const struct td_guest *g)
{
	unsigned s = svi(g);

	if (vec_test(g, APIC_REG_ISR, s))
		vec_set(g, APIC_REG_ISR, s, false);
	set_rvi_svi(g, rvi(g), vec_highest(g, APIC_REG_ISR));
	ppr_update(g);
}

static bool readable(uint32_t msr)
{
	return msr == X2APIC_MSR(APIC_REG_TPR) || msr == X2APIC_MSR(APIC_REG_PPR) ||
	       (msr >= X2APIC_MSR(APIC_REG_ISR) && msr < X2APIC_MSR(APIC_REG_IRR) + NR_VEC_WORDS);
}

/* x2APIC writes the CPU virtualizes; *val = PLAT_APIC_MSR_GP when reserved bits are set. */
static bool msr_write(struct td_guest *g, uint32_t msr, uint64_t *val)
{
	uint64_t v = *val;

	if (msr == X2APIC_MSR(APIC_REG_TPR)) {
		if (v & ~(uint64_t)APIC_VECTOR_MASK)
			*val = PLAT_APIC_MSR_GP;
		else {
			reg_put(g, APIC_REG_TPR, (uint32_t)v);
			ppr_update(g);
		}
		return true;
	}
	if (msr == X2APIC_MSR(APIC_REG_EOI)) {
		if (v)
			*val = PLAT_APIC_MSR_GP;
		else
			eoi(g);
		return true;
	}
	if (msr == X2APIC_MSR(APIC_REG_SELF_IPI)) {
		if (v & ~(uint64_t)APIC_VECTOR_MASK)
			*val = PLAT_APIC_MSR_GP;
		else
			request(g, (unsigned)v);
		return true;
	}
	return false;
}

bool td_vapic_msr(void *ctx, uint32_t msr, bool write, uint64_t *val)
{
	struct td_guest *g = ctx;

	if (write)
		return msr_write(g, msr, val);
	if (msr == X2APIC_MSR(APIC_REG_EOI) || msr == X2APIC_MSR(APIC_REG_SELF_IPI)) {
		*val = PLAT_APIC_MSR_GP; /* write-only registers */
		return true;
	}
	if (!readable(msr))
		return false;
	*val = reg_get(g, X2APIC_REG(msr));
	return true;
}
