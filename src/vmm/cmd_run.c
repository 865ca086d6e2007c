/* `tdxemu run ARGS...`: run tdxemu's engine, the QEMU that `make qemu` builds (Debian
 * trixie's QEMU, TCG only, linked with our libraries), with ARGS. The binary is looked
 * for next to the tdxemu executable, so each build directory runs its own engine.
 * Without ARGS it boots the embedded demo TD (guest/demo) from a memfd; with --linux, Debian
 * trixie's kernel through trixie's OVMF (both fetched by `make qemu` into the build dir). */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "demo_td.h"

#define RUN_ENGINE_NAME "qemu-system-x86_64"

/* dir/qemu-system-x86_64 for the directory of the running tdxemu; -1 if it cannot be known. */
static int run_engine_path(char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(out, outlen, "%s/%s", self, RUN_ENGINE_NAME) >= outlen)
		return -1;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tdxemu run                       boot the built-in demo TD and show its console\n"
		   "       tdxemu run QEMU-ARGS...          run the engine with QEMU's arguments (e.g. -version)\n"
		   "       tdxemu run --demo-image FILE     write the demo TD's firmware image (TDVF) to FILE\n"
		   "       tdxemu run --linux [QEMU-ARGS]   boot Debian trixie's Linux as a TD through trixie's OVMF\n"
		   "                                        to a shell in tdxemu's initramfs (later QEMU-ARGS win,\n"
		   "                                        e.g. -smp 1 -append \"console=ttyS0 tdxemu.test\")\n"
		   "       tdxemu run --kvm-param NAME=VALUE ...  first set a parameter of tdxemu's KVM, as\n"
		   "                                        `modprobe kvm_intel NAME=VALUE` would (repeatable; any of\n"
		   "                                        the forms above follows). no_rbp_mod=N: INIT_VM leaves\n"
		   "                                        CONFIG_FLAGS.NO_RBP_MOD clear, as TDX 1.0-era KVM did, for\n"
		   "                                        firmware that passes RBP in TDG.VP.VMCALL (e.g. Debian 12's\n"
		   "                                        OVMF); the engine reads them from TDXEMU_KVM_PARAMS\n"
		   "The demo runs as: qemu-system-x86_64 -accel tcg -object tdx-guest,id=tdx0\n"
		   "  -machine q35,confidential-guest-support=tdx0 -bios DEMO -m 256M -smp 2\n"
		   "  -nographic -nodefaults -serial stdio -no-reboot\n"
		   "(TDXEMU_TRACE=1 logs every TDCALL and TD exit; QEMU's own help: tdxemu run -help)\n");
}

static int write_demo_image(const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(tdxemu_demo_td, 1, tdxemu_demo_td_size, f) != tdxemu_demo_td_size) {
		fprintf(stderr, "tdxemu run: cannot write %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return 1;
	}
	if (fclose(f)) {
		fprintf(stderr, "tdxemu run: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("wrote the demo TD firmware (%zu bytes) to %s\n", tdxemu_demo_td_size, path);
	return 0;
}

/* The demo image in an anonymous memory file QEMU can open as /proc/self/fd/N: it is
 * inherited across exec and vanishes with the process, no temporary file is left. */
static int demo_memfd(char *path, size_t len)
{
	int fd = memfd_create("tdxemu-demo-td.fd", 0);
	size_t off = 0;

	if (fd < 0) {
		fprintf(stderr, "tdxemu run: memfd_create: %s\n", strerror(errno));
		return -1;
	}
	while (off < tdxemu_demo_td_size) {
		ssize_t n = write(fd, tdxemu_demo_td + off, tdxemu_demo_td_size - off);
		if (n <= 0) {
			fprintf(stderr, "tdxemu run: writing the demo image: %s\n", n ? strerror(errno) : "short write");
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

static int exec_engine(const char *engine, char **argv)
{
	/* exec keeps our pid, so QEMU's exit code is ours. */
	execv(engine, argv);
	fprintf(stderr, "tdxemu run: cannot execute %s: %s\n", engine, strerror(errno));
	return 1;
}

static int run_demo(const char *engine)
{
	char bios[64];
	char *argv[] = { (char *)engine, "-accel", "tcg", "-object", "tdx-guest,id=tdx0", "-machine",
			 "q35,confidential-guest-support=tdx0", "-bios", bios, "-m", "256M", "-smp", "2",
			 "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot", NULL };

	if (demo_memfd(bios, sizeof(bios)) < 0)
		return 1;
	return exec_engine(engine, argv);
}

/* DIR/rel for the directory of the engine; 0 if it is a readable file. */
static int beside(const char *engine, const char *rel, char *out, size_t outlen)
{
	const char *slash = strrchr(engine, '/');
	int n = (int)(slash - engine);

	if ((size_t)snprintf(out, outlen, "%.*s/%s", n, engine, rel) >= outlen)
		return -1;
	if (access(out, R_OK)) {
		fprintf(stderr, "tdxemu run --linux: no %s (%s): 'make qemu' fetches it\n", out, strerror(errno));
		return -1;
	}
	return 0;
}

/* QEMU's TDX command line for a Linux TD: split irqchip (TDX has no PIC), no option ROMs
 * (the +ds QEMU has no firmware blobs; OVMF loads the kernel through fw_cfg), serial console. */
static int run_linux(const char *engine, int argc, char **argv)
{
	static char bios[PATH_MAX], kernel[PATH_MAX], initrd[PATH_MAX];
	const char *fixed[] = { engine, "-accel", "tcg", "-object", "tdx-guest,id=tdx0", "-machine",
				"q35,confidential-guest-support=tdx0,kernel-irqchip=split", "-bios", bios, "-kernel",
				kernel, "-initrd", initrd, "-append", "console=ttyS0 panic=-1", "-m", "1G", "-smp", "2",
				"-nographic", "-vga", "none", "-nic", "none", "-no-reboot" };
	size_t nf = sizeof(fixed) / sizeof(fixed[0]);
	char **av;

	if (beside(engine, "ovmf-trixie/OVMF.fd", bios, sizeof(bios)) ||
	    beside(engine, "linux-trixie/vmlinuz", kernel, sizeof(kernel)) ||
	    beside(engine, "linux-trixie/initrd.gz", initrd, sizeof(initrd)))
		return 1;
	av = calloc(nf + (size_t)argc + 1, sizeof(*av));
	if (!av) {
		fprintf(stderr, "tdxemu run: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < nf; i++)
		av[i] = (char *)fixed[i];
	for (int i = 0; i < argc; i++)
		av[nf + (size_t)i] = argv[i];
	return exec_engine(engine, av);
}

/* --kvm-param NAME=VALUE: appended to TDXEMU_KVM_PARAMS (comma-separated), which the engine
 * hands to KVM (td_launch_config.kvm_params), where names and values are checked. */
static int add_kvm_param(const char *nv)
{
	const char *old = getenv("TDXEMU_KVM_PARAMS"), *eq = strchr(nv, '=');
	char buf[512];

	if (!eq || eq == nv || strchr(nv, ',')) {
		fprintf(stderr, "tdxemu run: --kvm-param '%s': want NAME=VALUE (e.g. no_rbp_mod=N)\n", nv);
		return -1;
	}
	if ((size_t)snprintf(buf, sizeof(buf), "%s%s%s", old && *old ? old : "", old && *old ? "," : "", nv) >= sizeof(buf)) {
		fprintf(stderr, "tdxemu run: --kvm-param: too many parameters\n");
		return -1;
	}
	return setenv("TDXEMU_KVM_PARAMS", buf, 1) ? -1 : 0;
}

int cmd_run(int argc, char **argv)
{
	char engine[PATH_MAX];

	while (argc >= 2 && !strcmp(argv[1], "--kvm-param")) {
		if (argc < 3 || add_kvm_param(argv[2])) {
			if (argc < 3)
				fprintf(stderr, "tdxemu run: --kvm-param takes NAME=VALUE\n");
			return 2;
		}
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--demo-image")) {
		if (argc != 3) {
			fprintf(stderr, "tdxemu run: --demo-image takes exactly one FILE\n");
			usage(stderr);
			return 2;
		}
		return write_demo_image(argv[2]);
	}
	if (run_engine_path(engine, sizeof(engine))) {
		fprintf(stderr, "tdxemu run: cannot locate the tdxemu executable (/proc/self/exe)\n");
		return 1;
	}
	if (access(engine, X_OK)) {
		fprintf(stderr, "tdxemu run: no engine at %s (%s): build it with 'make qemu'\n",
			engine, strerror(errno));
		return 1;
	}
	if (argc < 2)
		return run_demo(engine);
	if (!strcmp(argv[1], "--linux"))
		return run_linux(engine, argc - 2, argv + 2);
	/* QEMU-ARGS go through untouched. */
	argv[0] = engine;
	return exec_engine(engine, argv);
}
