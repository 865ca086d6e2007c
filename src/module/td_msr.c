/* The TD's VMX MSR bitmap, built from the generated MSR table (tools/gen_td_msr.py). */
#include <string.h>

#include "td_msr.h"

/* The TDCS virtual CPUID register a condition names; 0 when the TD has no such leaf, as the
 * real module's CPUID_FLAGS are 0 for a leaf it does not virtualise. */
static uint32_t cpuid_reg(const struct tdx_module *m, const struct tdcs *tdcs, const struct td_msr_cond *c)
{
	const struct cpuid_tables *ct = module_cpuid_tables(m);

	for (unsigned i = 0; i < ct->num_lookup; i++) {
		const struct cpuid_lookup_desc *d = &ct->lookup[i];
		const struct cpuid_regs *v = &tdcs->cpuid_values[i];
		const uint32_t regs[4] = { v->eax, v->ebx, v->ecx, v->edx };

		if (d->leaf == c->leaf && d->subleaf == c->subleaf)
			return tdcs->cpuid_valid[i] ? regs[c->reg & 3u] : 0;
	}
	return 0;
}

static uint64_t platform_msr(struct tdx_module *m, unsigned lp, uint32_t msr)
{
	uint64_t v;

	return plat_rdmsr(m->plat, lp, msr, &v) ? 0 : v;
}

bool td_msr_cond_holds(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs, unsigned cond)
{
	const struct td_msr_cond *c;
	uint64_t v = 0;

	if (cond >= TD_MSR_NUM_CONDS)
		return false;
	c = &td_msr_conds[cond];
	switch (c->kind) {
	case TD_MSR_COND_ATTRIBUTES: v = tdcs->attributes; break;
	case TD_MSR_COND_XFAM: v = tdcs->xfam; break;
	case TD_MSR_COND_CPUID: v = cpuid_reg(m, tdcs, c); break;
	case TD_MSR_COND_PLATFORM_MSR: v = platform_msr(m, lp, c->leaf); break;
	default: break;
	}
	return (v & c->mask) != 0;
}

/* is_msr_dynamic_bit_cleared() and FIXED_0: does this access run natively? */
static bool access_native(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs, const struct td_msr_access *a)
{
	if (a->bitmap == TD_MSR_FIXED_0)
		return true;
	if (a->bitmap != TD_MSR_DYN || a->num_native_when == 0)
		return false;
	for (unsigned i = 0; i < a->num_native_when && i < TD_MSR_MAX_NATIVE_WHEN; i++)
		if (!td_msr_cond_holds(m, lp, tdcs, a->native_when[i]))
			return false;
	return true;
}

bool td_msr_in_bitmap(uint32_t msr)
{
	return msr - TD_MSR_BITMAP_LOW_FIRST < TD_MSR_BITMAP_RANGE_MSRS ||
	       msr - TD_MSR_BITMAP_HIGH_FIRST < TD_MSR_BITMAP_RANGE_MSRS;
}

/* Byte offset of msr's bit in the bitmap (msr inside a range). */
static uint32_t bitmap_byte(uint32_t msr, bool write)
{
	bool high = msr - TD_MSR_BITMAP_HIGH_FIRST < TD_MSR_BITMAP_RANGE_MSRS;
	uint32_t index = msr - (high ? TD_MSR_BITMAP_HIGH_FIRST : TD_MSR_BITMAP_LOW_FIRST);
	uint32_t base = write ? (high ? TD_MSR_BITMAP_WRITE_HIGH_OFF : TD_MSR_BITMAP_WRITE_LOW_OFF)
			      : (high ? TD_MSR_BITMAP_READ_HIGH_OFF : TD_MSR_BITMAP_READ_LOW_OFF);

	return base + index / 8u;
}

static void bitmap_clear(uint8_t *bitmap, uint32_t msr, bool write)
{
	bitmap[bitmap_byte(msr, write)] &= (uint8_t)~(1u << (msr % 8u));
}

bool td_msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write)
{
	if (!td_msr_in_bitmap(msr))
		return true;
	return (bitmap[bitmap_byte(msr, write)] >> (msr % 8u)) & 1u;
}

void td_msr_bitmap_build(struct tdx_module *m, unsigned lp, const struct tdcs *tdcs, uint8_t *bitmap)
{
	/* The real module relies on TDH.MNG.ADDCX's all-ones fill; setting it again here keeps the
	 * result independent of what the page held. */
	memset(bitmap, 0xff, TD_MSR_BITMAP_SIZE);
	for (unsigned i = 0; i < TD_MSR_TABLE_LEN; i++) {
		const struct td_msr_entry *e = &td_msr_table[i];
		bool rd = access_native(m, lp, tdcs, &e->rd), wr = access_native(m, lp, tdcs, &e->wr);

		for (uint32_t msr = e->first; (rd || wr) && msr <= e->last && td_msr_in_bitmap(msr); msr++) {
			if (rd)
				bitmap_clear(bitmap, msr, false);
			if (wr)
				bitmap_clear(bitmap, msr, true);
		}
	}
}

uint8_t *td_msr_bitmap_map(struct tdx_module *m, const struct tdr *tdr)
{
	void *p;
	uint64_t pa = tdr->tdcx_pa[TDCS_PAGE_MSR_BITMAPS] & plat_pa_mask(m->plat);

	if (plat_seam_map(m->plat, pa, tdr->hkid, &p)) {
		plat_seam_machine_check(m->plat, pa);
		return NULL;
	}
	return p;
}

/* The table is in address order (checked by the generator): stop at the first entry past msr. */
const struct td_msr_entry *td_msr_find(uint32_t msr)
{
	for (unsigned i = 0; i < TD_MSR_TABLE_LEN && td_msr_table[i].first <= msr; i++)
		if (msr <= td_msr_table[i].last)
			return &td_msr_table[i];
	return NULL;
}
