/* The simulated platform: configuration, sparse DRAM, KeyID encryption and integrity,
 * SEAMLDR. */
#include <string.h>

#include "fixture.h"

TEST(platform_e820_parse)
{
	struct plat_config cfg;
	char err[256];
	plat_config_default(&cfg);
	CHECK(plat_config_parse_e820(&cfg, "ram@0+640K,reserved@0xa0000+384K,ram@1M+2047M,ram@4G+4G", err, sizeof(err)) == 0);
	CHECK_EQ(cfg.nr_e820, 4);
	CHECK_EQ(cfg.e820[3].addr, 4 * GiB);
	CHECK(plat_config_parse_e820(&cfg, "ram@0", err, sizeof(err)) != 0);
	CHECK(strstr(err, "TYPE@BASE+SIZE") != NULL);
	CHECK(plat_config_parse_e820(&cfg, "flash@0+4K", err, sizeof(err)) != 0);
	CHECK(strstr(err, "unknown type") != NULL);
	CHECK(plat_config_parse_e820(&cfg, "ram@0+4097", err, sizeof(err)) != 0);
	CHECK(strstr(err, "aligned") != NULL);
	CHECK(plat_config_parse_e820(&cfg, "ram@0+0", err, sizeof(err)) != 0);
	CHECK(plat_config_parse_e820(&cfg, "ram@0+16E", err, sizeof(err)) != 0);
}

TEST(platform_rejects_bad_configs)
{
	struct plat_config cfg;
	char err[256];
	struct plat *p;

	plat_config_default(&cfg);
	cfg.packages = 9;
	CHECK((p = plat_create(&cfg, err, sizeof(err))) == NULL);
	plat_config_default(&cfg);
	cfg.total_keyids = 48;
	CHECK((p = plat_create(&cfg, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "power of two") != NULL);
	plat_config_default(&cfg);
	plat_config_parse_e820(&cfg, "ram@0+2G,ram@1G+2G", err, sizeof(err));
	CHECK((p = plat_create(&cfg, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "overlap") != NULL);
	plat_config_default(&cfg);
	plat_config_parse_e820(&cfg, "reserved@0+2G", err, sizeof(err));
	CHECK((p = plat_create(&cfg, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "no RAM") != NULL);
	plat_config_default(&cfg);
	cfg.nr_cmrs = 1;
	cfg.cmr[0] = (struct plat_range){ 1ull << 20, 3ull << 30 }; /* runs into the MMIO hole */
	CHECK((p = plat_create(&cfg, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "is not DRAM") != NULL);
}

TEST(platform_4tib_is_sparse)
{
	struct plat_config cfg;
	char err[256];
	struct plat *p;
	uint64_t v = 0x1122334455667788ull, r = 0;

	plat_config_default(&cfg);
	cfg.ram_bytes = 4ull << 40;
	plat_config_default_e820(&cfg);
	p = plat_create(&cfg, err, sizeof(err));
	REQUIRE(p != NULL);
	CHECK_EQ(plat_mem_touched_bytes(p), 0);
	CHECK(plat_host_write(p, (4ull << 40) - 8, &v, 8) == 0); /* the last bytes of RAM */
	CHECK(plat_host_read64(p, (4ull << 40) - 8, &r) == 0);
	CHECK_EQ(r, v);
	CHECK_EQ(plat_mem_touched_bytes(p), 4096);
	/* beyond the top of memory and in the MMIO hole nothing answers */
	CHECK_EQ(plat_host_read64(p, (4ull << 40) + 2 * GiB + 4096, &r), PLAT_MEM_UNBACKED);
	CHECK_EQ(plat_host_read64(p, 3 * GiB, &r), PLAT_MEM_UNBACKED);
	plat_destroy(p);
}

/* Backed means "inside one e820 entry", also in a chunk that several entries and a hole share
 * (the per-chunk fast answer covers only one entry's part of it). */
TEST(platform_backed_in_shared_chunk)
{
	struct plat_config cfg;
	char err[256];
	struct plat *p;
	void *ptr;

	plat_config_default(&cfg);
	REQUIRE(plat_config_parse_e820(&cfg, "ram@0+640K,reserved@0xa0000+384K,ram@1M+511M,ram@512M+256M,"
					     "ram@896M+128M,ram@4G+1G", err, sizeof(err)) == 0);
	p = plat_create(&cfg, err, sizeof(err));
	REQUIRE(p != NULL);
	CHECK(plat_pa_is_backed(p, 100 * MiB, 4096));           /* the chunk's largest entry */
	CHECK(plat_pa_is_backed(p, 600 * MiB, 4096));           /* another entry of the chunk */
	CHECK(plat_pa_is_backed(p, 1 * GiB - 4096, 4096));      /* the last entry, to its end */
	CHECK(!plat_pa_is_backed(p, 512 * MiB - 4096, 8192));   /* two entries, not one */
	CHECK(!plat_pa_is_backed(p, 800 * MiB, 1));             /* the hole */
	CHECK(!plat_pa_is_backed(p, 1 * GiB - 4096, 8192));     /* runs past the last entry */
	CHECK(!plat_pa_is_backed(p, 5 * GiB, 4096));            /* above the top */
	CHECK_EQ(plat_seam_map(p, 800 * MiB, 0, &ptr), PLAT_MEM_UNBACKED);
	CHECK_EQ(plat_seam_map(p, 2 * GiB, 0, &ptr), PLAT_MEM_UNBACKED);
	CHECK_EQ(plat_seam_map(p, 600 * MiB, 0, &ptr), PLAT_MEM_OK);
	CHECK_EQ(plat_seam_map(p, 1 * GiB - 8, 0, &ptr), PLAT_MEM_OK);
	CHECK_EQ(plat_seam_map(p, 4 * GiB + 4096, 0, &ptr), PLAT_MEM_OK);
	plat_destroy(p);
}

TEST(platform_private_keyid_ciphertext_and_poison)
{
	struct fx f;
	uint8_t plain[4096], seen[4096];
	void *ptr;
	unsigned kid;
	uint64_t pa = 300 * MiB;
	bool poisoned;

	REQUIRE(fx_create(&f));
	kid = plat_tdx_keyid_first(f.p) + 3;
	memset(plain, 0x5a, sizeof(plain));
	{
		uint8_t key[32];
		for (int i = 0; i < 32; i++)
			key[i] = (uint8_t)(i * 7 + 1);
		plat_keyid_program(f.p, 0, kid, key);
	}
	REQUIRE(plat_seam_init_pages(f.p, pa, 1, kid) == 0);
	REQUIRE(plat_seam_map(f.p, pa, kid, &ptr) == 0);
	memcpy(ptr, plain, sizeof(plain));
	/* non-SEAM reads see ciphertext: neither the plaintext nor zeros, and stable */
	REQUIRE(plat_host_read(f.p, pa, seen, sizeof(seen)) == 0);
	CHECK(memcmp(seen, plain, sizeof(plain)) != 0);
	{
		uint8_t again[4096];
		plat_host_read(f.p, pa, again, sizeof(again));
		CHECK(memcmp(seen, again, sizeof(seen)) == 0);
	}
	/* the same plaintext at another address encrypts differently (tweak = PA) */
	{
		uint8_t other[4096];
		plat_seam_init_pages(f.p, pa + 4096, 1, kid);
		plat_seam_map(f.p, pa + 4096, kid, &ptr);
		memcpy(ptr, plain, sizeof(plain));
		plat_host_read(f.p, pa + 4096, other, sizeof(other));
		CHECK(memcmp(seen, other, sizeof(seen)) != 0);
	}
	/* the host cannot use a private KeyID at all */
	CHECK_EQ(plat_host_read(f.p, pa | ((uint64_t)kid << plat_hkid_shift(f.p)), seen, 8), PLAT_MEM_PRIVATE_KEYID);
	/* a host write poisons the page: the next SEAM access is a machine check */
	REQUIRE(plat_host_write(f.p, pa + 64, plain, 8) == 0);
	REQUIRE(plat_page_state(f.p, pa, &kid, &poisoned) == 0);
	CHECK(poisoned);
	CHECK_EQ(plat_seam_map(f.p, pa, kid, &ptr), PLAT_MEM_MCE);
	/* using the wrong KeyID also fails integrity */
	CHECK_EQ(plat_seam_map(f.p, pa + 4096, kid + 1, &ptr), PLAT_MEM_MCE);
	/* re-initialising with MOVDIR64B clears the poison */
	CHECK(plat_seam_init_pages(f.p, pa, 1, kid) == 0);
	CHECK_EQ(plat_seam_map(f.p, pa, kid, &ptr), PLAT_MEM_OK);
	fx_destroy(&f);
}

TEST(platform_seamldr_info)
{
	struct fx f;
	struct seamldr_info si;
	struct plat_config cfg;
	struct sim s;
	char err[128];

	REQUIRE(fx_create(&f));
	CHECK_EQ(seamldr_info(f.h, 0, &si), 0);
	CHECK_EQ(si.seam_ready, 1);
	CHECK_EQ(si.p_seam_ready, 1);
	CHECK_EQ(si.vendor_id, 0x8086);
	fx_destroy(&f);
	fx_small_config(&cfg);
	REQUIRE(sim_create(&s, &cfg, NULL, NULL, NULL, err, sizeof(err)) == 0);
	plat_lp_set_vmx(s.plat, 0, true);
	CHECK_EQ(seamldr_info(&s.host, 0, &si), 0);
	CHECK_EQ(si.seam_ready, 0); /* no module loaded */
	sim_destroy(&s);
}

TEST(platform_seamrr_disabled)
{
	struct plat_config cfg;
	struct sim s;
	char err[128];

	fx_small_config(&cfg);
	cfg.seamrr_enabled = false;
	CHECK(sim_create(&s, &cfg, SIM_DEFAULT_PROFILE, NULL, NULL, err, sizeof(err)) != 0);
	CHECK(strstr(err, "SEAMRR") != NULL);
	REQUIRE(sim_create(&s, &cfg, NULL, NULL, NULL, err, sizeof(err)) == 0);
	plat_lp_set_vmx(s.plat, 0, true);
	{
		struct tdx_regs r = { { 0 } };
		r.r[TDX_REG_RAX] = TDH_SYS_INIT_LEAF;
		CHECK_EQ(plat_seamcall(s.plat, 0, &r), TDX_SEAMCALL_UD);
	}
	sim_destroy(&s);
}

TEST(platform_private_keyid_needs_convertible_memory)
{
	struct fx f;
	unsigned kid;
	REQUIRE(fx_create(&f));
	kid = plat_tdx_keyid_first(f.p);
	/* [2G-64M, 2G) is firmware-reserved: in e820, not in any CMR */
	CHECK_EQ(plat_seam_init_pages(f.p, 2 * GiB - 32 * MiB, 1, kid), PLAT_MEM_NOT_CONVERTIBLE);
	CHECK_EQ(plat_seam_init_pages(f.p, 2 * GiB - 32 * MiB, 1, 0), PLAT_MEM_OK); /* a shared KeyID is fine */
	CHECK_EQ(plat_seam_init_pages(f.p, 512 * MiB, 1, kid), PLAT_MEM_OK);
	fx_destroy(&f);
}

/* PAGE.ADD's copy: one page under a KeyID, holding what a shared read of the source returns. */
TEST(platform_init_page_from)
{
	struct fx f;
	uint8_t plain[4096], zeros[4096] = { 0 }, ct[4096];
	uint64_t src = 400 * MiB, dst = 401 * MiB, fresh = 402 * MiB, priv = 403 * MiB;
	unsigned kid, owner;
	bool poisoned;
	void *ptr;

	REQUIRE(fx_create(&f));
	kid = plat_tdx_keyid_first(f.p) + 2;
	for (unsigned i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 13 + 5);
	REQUIRE(plat_host_write(f.p, src, plain, sizeof(plain)) == 0);
	/* a poisoned target with old contents: the copy replaces both */
	REQUIRE(plat_seam_init_pages(f.p, dst, 1, kid) == 0);
	REQUIRE(plat_host_write(f.p, dst, zeros, 64) == 0);
	REQUIRE(plat_seam_init_page_from(f.p, dst, kid, src) == PLAT_MEM_OK);
	REQUIRE(plat_page_state(f.p, dst, &owner, &poisoned) == 0);
	CHECK_EQ(owner, kid);
	CHECK(!poisoned);
	REQUIRE(plat_seam_map(f.p, dst, kid, &ptr) == 0);
	CHECK(memcmp(ptr, plain, sizeof(plain)) == 0);
	/* a source nobody wrote reads as zeros, also into a page that held data */
	REQUIRE(plat_seam_init_page_from(f.p, dst, kid, fresh) == PLAT_MEM_OK);
	REQUIRE(plat_seam_map(f.p, dst, kid, &ptr) == 0);
	CHECK(memcmp(ptr, zeros, sizeof(zeros)) == 0);
	/* a source a private KeyID owns gives its ciphertext, as a host read does */
	REQUIRE(plat_seam_init_pages(f.p, priv, 1, kid) == 0);
	REQUIRE(plat_seam_map(f.p, priv, kid, &ptr) == 0);
	memcpy(ptr, plain, sizeof(plain));
	REQUIRE(plat_host_read(f.p, priv, ct, sizeof(ct)) == 0);
	REQUIRE(plat_seam_init_page_from(f.p, dst, kid, priv) == PLAT_MEM_OK);
	REQUIRE(plat_seam_map(f.p, dst, kid, &ptr) == 0);
	CHECK(memcmp(ptr, ct, sizeof(ct)) == 0);
	CHECK(memcmp(ptr, plain, sizeof(plain)) != 0);
	/* source and target one page: its plaintext, now under the KeyID */
	REQUIRE(plat_seam_init_page_from(f.p, src, kid, src) == PLAT_MEM_OK);
	REQUIRE(plat_seam_map(f.p, src, kid, &ptr) == 0);
	CHECK(memcmp(ptr, plain, sizeof(plain)) == 0);
	/* errors change nothing: the target keeps its KeyID and contents */
	REQUIRE(plat_seam_init_page_from(f.p, dst, kid, fresh) == PLAT_MEM_OK);
	CHECK_EQ(plat_seam_init_page_from(f.p, dst, kid + 1, priv | ((uint64_t)kid << plat_hkid_shift(f.p))),
		 PLAT_MEM_PRIVATE_KEYID);
	CHECK_EQ(plat_seam_init_page_from(f.p, dst, kid + 1, priv + 64), PLAT_MEM_UNBACKED);
	CHECK_EQ(plat_seam_init_page_from(f.p, dst + 64, kid + 1, priv), PLAT_MEM_UNBACKED);
	CHECK_EQ(plat_seam_init_page_from(f.p, dst, kid + 1, 64 * GiB), PLAT_MEM_UNBACKED);
	CHECK_EQ(plat_seam_init_page_from(f.p, 64 * GiB, kid, src), PLAT_MEM_UNBACKED);
	/* [2G-64M, 2G) is firmware-reserved: in e820, not in any CMR */
	CHECK_EQ(plat_seam_init_page_from(f.p, 2 * GiB - 32 * MiB, kid, priv), PLAT_MEM_NOT_CONVERTIBLE);
	CHECK_EQ(plat_seam_init_page_from(f.p, 2 * GiB - 32 * MiB, 0, fresh), PLAT_MEM_OK);
	REQUIRE(plat_page_state(f.p, dst, &owner, &poisoned) == 0);
	CHECK_EQ(owner, kid);
	REQUIRE(plat_seam_map(f.p, dst, kid, &ptr) == 0);
	CHECK(memcmp(ptr, zeros, sizeof(zeros)) == 0);
	fx_destroy(&f);
}
