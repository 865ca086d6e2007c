/* TDH.SYS.CONFIG: every check of the TDMR array, in the real module's order. */
#include <string.h>

#include "fixture.h"

#define INFO(st, a, b, c) ((st) + (a) + ((uint64_t)(b) << 8) + ((uint64_t)(c) << 16))

struct cfx {
	struct fx f;
	struct tdmr_info_entry good[HOST_MAX_TDMRS], e[HOST_MAX_TDMRS];
	unsigned n;
};

static bool cfx_create(struct cfx *c)
{
	if (!fx_create(&c->f) || !fx_sys_and_lp_init(&c->f) || !fx_build_tdmrs(&c->f))
		return false;
	c->n = c->f.h->nr_tdmrs;
	for (unsigned i = 0; i < c->n; i++)
		fx_tdmr_info(&c->f, i, &c->good[i]);
	return c->n == 3;
}

static void reset(struct cfx *c)
{
	memcpy(c->e, c->good, sizeof(c->e));
}

static uint64_t config(struct cfx *c)
{
	uint64_t arr = fx_tdmr_array(&c->f, c->e, c->n);
	return fx_call(&c->f, 0, TDH_SYS_CONFIG_LEAF, arr, c->n, c->f.h->global_keyid, 0, NULL);
}

static void drop_rsvd(struct tdmr_info_entry *e, unsigned j)
{
	memmove(&e->rsvd[j], &e->rsvd[j + 1], sizeof(e->rsvd[0]) * (TDMR_MAX_RESERVED - j - 1));
	memset(&e->rsvd[TDMR_MAX_RESERVED - 1], 0, sizeof(e->rsvd[0]));
}

TEST(sys_config_state)
{
	struct fx f;
	REQUIRE(fx_create(&f));
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_CONFIG_LEAF, 0, 1, 32, 0, NULL), TDX_SYS_CONFIG_NOT_PENDING);
	fx_call(&f, 0, TDH_SYS_INIT_LEAF, 0, 0, 0, 0, NULL);
	fx_call(&f, 0, TDH_SYS_LP_INIT_LEAF, 0, 0, 0, 0, NULL);
	/* LPs 1..3 not initialised yet */
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_CONFIG_LEAF, 0, 1, 32, 0, NULL), TDX_SYS_CONFIG_NOT_PENDING);
	REQUIRE(module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, true) == 0);
	CHECK_EQ(fx_call(&f, 0, TDH_SYS_CONFIG_LEAF, 0, 1, 32, 0, NULL), TDX_SYS_BUSY);
	module_debug_lock(f.p, MODULE_DEBUG_GLOBAL_SHARED, 0, false);
	fx_destroy(&f);
}

TEST(sys_config_operands)
{
	struct cfx c;
	uint64_t arr, priv;
	REQUIRE(cfx_create(&c));
	reset(&c);
	arr = fx_tdmr_array(&c.f, c.e, c.n);
	priv = arr | ((uint64_t)c.f.h->global_keyid << plat_hkid_shift(c.f.p));
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr + 8, 3, 32, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, priv, 3, 32, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr, 0, 32, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr, 65, 32, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RDX);
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr, 3, 32 | (1ull << 16), 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_R8);
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr, 3, 5, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_R8);   /* MKTME */
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr, 3, 0, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_R8);   /* host */
	CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr, 3, 64, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_R8);  /* none */
	/* a misaligned TDMR_INFO pointer is reported against RCX, without its index */
	{
		uint64_t ptrs[64] = { 0 };
		plat_host_read(c.f.p, arr, ptrs, 512);
		ptrs[1] += 64;
		plat_host_write(c.f.p, arr, ptrs, 512);
		CHECK_EQ(fx_call(&c.f, 0, TDH_SYS_CONFIG_LEAF, arr, 3, 32, 0, NULL), TDX_OPERAND_INVALID + OPERAND_ID_RCX);
	}
	fx_destroy(&c.f);
}

TEST(sys_config_tdmr_range_and_order)
{
	struct cfx c;
	REQUIRE(cfx_create(&c));
	reset(&c);
	c.e[1] = c.good[2];
	c.e[2] = c.good[1];
	CHECK_EQ(config(&c), INFO(TDX_NON_ORDERED_TDMR, 2, 0, 0));
	reset(&c);
	c.e[1].tdmr_base = c.e[0].tdmr_base + GiB; /* overlaps TDMR 0 */
	CHECK_EQ(config(&c), INFO(TDX_NON_ORDERED_TDMR, 1, 0, 0));
	reset(&c);
	c.e[0].tdmr_base += 4096;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_TDMR, 0, 0, 0));
	reset(&c);
	c.e[2].tdmr_size = GiB + 2 * MiB;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_TDMR, 2, 0, 0));
	reset(&c);
	c.e[1].tdmr_size = 0;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_TDMR, 1, 0, 0));
	reset(&c);
	c.e[2].tdmr_base |= 1ull << plat_hkid_shift(c.f.p); /* KeyID bits */
	CHECK_EQ(config(&c), INFO(TDX_INVALID_TDMR, 2, 0, 0));
	reset(&c);
	c.e[2].tdmr_size = UINT64_MAX - GiB + 1; /* base + size wraps */
	CHECK_EQ(config(&c), INFO(TDX_INVALID_TDMR, 2, 0, 0));
	fx_destroy(&c.f);
}

TEST(sys_config_reserved_areas)
{
	struct cfx c;
	REQUIRE(cfx_create(&c));
	REQUIRE(c.good[0].rsvd[1].size != 0);
	reset(&c);
	c.e[0].rsvd[0].size = 0; /* a null entry followed by a real one */
	CHECK_EQ(config(&c), INFO(TDX_NON_ORDERED_RESERVED_IN_TDMR, 0, 0, 0));
	reset(&c);
	c.e[0].rsvd[0] = c.good[0].rsvd[1];
	c.e[0].rsvd[1] = c.good[0].rsvd[0];
	CHECK_EQ(config(&c), INFO(TDX_NON_ORDERED_RESERVED_IN_TDMR, 0, 1, 0));
	reset(&c);
	c.e[0].rsvd[1].offset = c.e[0].rsvd[0].offset + c.e[0].rsvd[0].size - 4096; /* overlap */
	CHECK_EQ(config(&c), INFO(TDX_NON_ORDERED_RESERVED_IN_TDMR, 0, 1, 0));
	reset(&c);
	c.e[0].rsvd[1].size += 8;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_RESERVED_IN_TDMR, 0, 1, 0));
	reset(&c);
	c.e[1].rsvd[0].size += 4096; /* runs past the end of the TDMR */
	CHECK_EQ(config(&c), INFO(TDX_INVALID_RESERVED_IN_TDMR, 1, 0, 0));
	reset(&c);
	c.e[1].rsvd[0].offset = UINT64_MAX - 4095;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_RESERVED_IN_TDMR, 1, 0, 0));
	fx_destroy(&c.f);
}

TEST(sys_config_pamt_size_and_alignment)
{
	struct cfx c;
	REQUIRE(cfx_create(&c));
	reset(&c);
	c.e[1].pamt_4k_size -= 4096;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_PAMT, 1, PT_4KB, 0));
	reset(&c);
	c.e[2].pamt_1g_size = 0;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_PAMT, 2, PT_1GB, 0));
	reset(&c);
	c.e[0].pamt_2m_base += 16;
	CHECK_EQ(config(&c), INFO(TDX_INVALID_PAMT, 0, PT_2MB, 0));
	reset(&c);
	c.e[0].pamt_4k_base |= 1ull << plat_hkid_shift(c.f.p);
	CHECK_EQ(config(&c), INFO(TDX_INVALID_PAMT, 0, PT_4KB, 0));
	fx_destroy(&c.f);
}

TEST(sys_config_pamt_overlaps)
{
	struct cfx c;
	REQUIRE(cfx_create(&c));
	reset(&c);
	c.e[2].pamt_4k_base = c.e[1].pamt_4k_base; /* another TDMR's PAMT */
	CHECK_EQ(config(&c), INFO(TDX_PAMT_OVERLAP, 2, PT_4KB, 1));
	reset(&c);
	c.e[1].pamt_1g_base = c.e[1].pamt_2m_base; /* its own 2M PAMT */
	CHECK_EQ(config(&c), INFO(TDX_PAMT_OVERLAP, 1, PT_2MB, 1));
	reset(&c);
	drop_rsvd(&c.e[1], 0); /* TDMR 1's PAMT now sits in its usable memory */
	CHECK_EQ(config(&c), INFO(TDX_PAMT_OVERLAP, 1, PT_4KB, 1));
	reset(&c);
	/* TDMR 2's PAMT placed in TDMR 0's usable memory: reported as (2, level, 0) */
	c.e[2].pamt_4k_base = 512 * MiB;
	c.e[2].pamt_2m_base = 512 * MiB + c.e[2].pamt_4k_size;
	c.e[2].pamt_1g_base = c.e[2].pamt_2m_base + c.e[2].pamt_2m_size;
	CHECK_EQ(config(&c), INFO(TDX_PAMT_OVERLAP, 2, PT_4KB, 0));
	fx_destroy(&c.f);
}

TEST(sys_config_cmr_containment)
{
	struct cfx c;
	unsigned j;
	REQUIRE(cfx_create(&c));
	reset(&c);
	/* TDMR 2's PAMT moved into TDMR 0's reserved firmware area: not convertible memory */
	c.e[2].pamt_4k_base = 0x7c000000;
	c.e[2].pamt_2m_base = 0x7c000000 + c.e[2].pamt_4k_size;
	c.e[2].pamt_1g_base = c.e[2].pamt_2m_base + c.e[2].pamt_2m_size;
	CHECK_EQ(config(&c), INFO(TDX_PAMT_OUTSIDE_CMRS, 2, PT_1GB, 0));
	reset(&c);
	/* drop the reserved area over the legacy first MiB: usable TDMR memory outside CMRs */
	for (j = 0; j < TDMR_MAX_RESERVED && c.e[0].rsvd[j].offset != 0; j++)
		;
	REQUIRE(j < TDMR_MAX_RESERVED && c.e[0].rsvd[j].size == MiB);
	drop_rsvd(&c.e[0], j);
	CHECK_EQ(config(&c), INFO(TDX_TDMR_OUTSIDE_CMRS, 0, 0, 0));
	fx_destroy(&c.f);
}

TEST(sys_config_success_once)
{
	struct cfx c;
	REQUIRE(cfx_create(&c));
	reset(&c);
	CHECK_EQ(config(&c), TDX_SUCCESS);
	CHECK_EQ(config(&c), TDX_SYS_CONFIG_NOT_PENDING);
	fx_destroy(&c.f);
}

TEST(sys_config_after_failures_still_works)
{
	struct cfx c;
	REQUIRE(cfx_create(&c));
	reset(&c);
	c.e[1].tdmr_size = 0;
	CHECK(config(&c) != TDX_SUCCESS);
	reset(&c);
	CHECK_EQ(config(&c), TDX_SUCCESS);
	fx_destroy(&c.f);
}
