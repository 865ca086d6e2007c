/* td_launch: the TD QEMU's TD mode builds, with Debian's OVMF, run on a fake engine that
 * checks the reset state the module hands over, asks CPUID leaf 0x21 (answered by the module
 * from the TDCS) and reads the reset vector through the Secure EPT translation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vmm/td_launch.h"
#include "vmm/tdvf.h"

#define OVMF "/usr/share/ovmf/OVMF.fd"

struct fake {
	struct td_launch *l;
	const uint8_t *image;
	size_t size;
	unsigned step;
	uint64_t rip0, cr0, cpuid[4];
	bool reset_vector_ok;
};

static void fake_run(void *ctx, struct plat_guest_regs *r, const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	struct fake *f = ctx;
	uint64_t hpa = 0, rwx = 0, pa, len;
	void *ptr;

	if (f->step++ == 0) {
		f->rip0 = r->rip, f->cr0 = r->sys.cr0;
		/* the last firmware page holds the reset vector: private, added by INIT_MEM_REGION */
		if (mem->translate(mem->ctx, 0xFFFFF000, PLAT_GUEST_ACC_FETCH, &hpa, &rwx)) {
			for (unsigned i = 0; !td_launch_dram_range(f->l, i, &pa, &ptr, &len); i++)
				if ((hpa & td_launch_pa_mask(f->l)) >= pa && (hpa & td_launch_pa_mask(f->l)) < pa + len)
					f->reset_vector_ok = !memcmp((uint8_t *)ptr + ((hpa & td_launch_pa_mask(f->l)) - pa),
								     f->image + f->size - 4096, 4096);
		}
		r->gpr[0] = 0x21, r->gpr[1] = 0;
		td_launch_exit_insn(ex, TD_LAUNCH_INSN_CPUID, 2);
		return;
	}
	f->cpuid[0] = r->gpr[0], f->cpuid[1] = r->gpr[3], f->cpuid[2] = r->gpr[1], f->cpuid[3] = r->gpr[2];
	td_launch_exit_triple_fault(ex);
}

static void fake_io(void *ctx, uint16_t port, void *data, unsigned size, bool write)
{
}

static void fake_mmio(void *ctx, uint64_t gpa, void *data, unsigned size, bool write)
{
}

TEST(td_launch_ovmf_reset_state_cpuid_translate)
{
	static const struct td_launch_ops ops = { fake_run, fake_io, fake_mmio, NULL };
	struct fake f = { 0 };
	struct td_launch_config cfg = { .ram_size = 512ull << 20 };
	uint8_t *img;
	size_t n;
	char err[256];

	if (tdvf_read_file(OVMF, &img, &n, err, sizeof(err))) {
		return; /* Debian package ovmf not installed: nothing to launch */
	}
	f.image = img, f.size = n;
	cfg.bios = img, cfg.bios_size = n;
	if (td_launch_create(&cfg, &ops, &f, &f.l, err, sizeof(err)))
		fprintf(stderr, "td_launch_create: %s\n", err);
	REQUIRE(f.l != NULL);
	CHECK_EQ(td_launch_shared_bit(f.l), UINT64_C(1) << 47);
	CHECK_EQ(td_launch_run(f.l, err, sizeof(err)), 1);
	CHECK(strstr(err, "triple fault") != NULL);
	CHECK_EQ(f.rip0, UINT64_C(0xFFFFFFF0));
	CHECK_EQ(f.cr0, UINT64_C(0x21));
	CHECK(f.reset_vector_ok);
	CHECK_EQ(f.cpuid[1], UINT64_C(0x65746E49)); /* "Inte" "lTDX" "    " */
	CHECK_EQ(f.cpuid[3], UINT64_C(0x5844546C));
	CHECK_EQ(f.cpuid[2], UINT64_C(0x20202020));
	CHECK_EQ(td_launch_get_stats(f.l)->kvm_runs, 1u);
	td_launch_destroy(f.l);
	free(img);
}
