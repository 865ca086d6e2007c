/* `tdxemu-bench engine`: the engine (QEMU TCG in TD mode) against the same QEMU binary
 * running the same guest as a plain q35 VM, with the bench guest (guest/bench, build/
 * bench-td.fd) and the demo TD.
 *
 * Phases are timed host-side: the guest prints "BENCH <phase> begin" / "BENCH <phase> end"
 * on its serial port (QEMU's stdout, a pipe here), and each line is stamped with
 * CLOCK_MONOTONIC when its newline is read. Both modes use this same clock. The guest also
 * reports its own RDTSC deltas: in a TD that is KVM's 2.5 GHz guest TSC, shown as a
 * cross-check; in plain TCG the TSC rate is QEMU's business, so it is not used. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_engine.h"

#define ENGINE_NAME "qemu-system-x86_64"
#define ENGINE_ENV "TDXEMU_ENGINE"
#define ENGINE_TIMEOUT_S 60.0
#define TD_TSC_HZ 2.5e9 /* KVM's default TD TSC frequency (tsc_khz of the TD) */
#define MAX_RUNS 16
#define OVMF_REL "ovmf-trixie/OVMF.fd" /* Debian trixie's OVMF, fetched by make qemu */
#define OVMF_BANNER "UEFI Interactive Shell"
#define OVMF_BOOKWORM "/usr/share/ovmf/OVMF.fd" /* Debian 12's own, package ovmf */

enum phase { PH_MEM, PH_TDCALL, PH_IO, PH_N };
static const char *const phase_names[PH_N] = { "mem", "tdcall", "io" };

struct phase_result {
	bool begun, ended, counted;
	double t_begin, t_end;
	uint64_t count, insns, tsc;
};

struct guest_run {
	struct phase_result ph[PH_N];
	bool done;
	const char *stop_at; /* if set: end the child once a line contains this */
	bool no_kill;        /* ... or only note when, and let it end by itself */
	const char *mark;    /* if set: note when a line first contains this (t_mark) */
	double t_mark;
	char stats[256];     /* tdxemu's TDXEMU_STATS line, if it printed one */
	double t_stop;       /* when that line was read, from the spawn */
	char last[256]; /* the last line that was not a BENCH result, for error messages */
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double med(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One serial line of the guest, read at time t. */
static void parse_line(struct guest_run *r, const char *line, double t)
{
	char name[16], what[16];
	unsigned long long count, insns, tsc;

	if (r->mark && !r->t_mark && strstr(line, r->mark))
		r->t_mark = t;
	if (!strncmp(line, "tdxemu: stats:", 14))
		snprintf(r->stats, sizeof(r->stats), "%.250s", line);
	if (r->stop_at) {
		if (strstr(line, r->stop_at))
			r->done = true, r->t_stop = t;
		return;
	}
	if (!strcmp(line, "BENCH done")) {
		r->done = true;
		return;
	}
	for (int p = 0; p < PH_N; p++) {
		struct phase_result *ph = &r->ph[p];
		if (sscanf(line, "BENCH %15s %15s", name, what) == 2 && !strcmp(name, phase_names[p])) {
			if (!strcmp(what, "begin"))
				ph->begun = true, ph->t_begin = t;
			else if (!strcmp(what, "end"))
				ph->ended = true, ph->t_end = t;
			else if (sscanf(line, "BENCH %15s count=%llu insns=%llu tsc=%llu", name, &count, &insns, &tsc) == 4)
				ph->counted = true, ph->count = count, ph->insns = insns, ph->tsc = tsc;
			return;
		}
	}
	snprintf(r->last, sizeof(r->last), "%.200s", line);
}

static pid_t spawn(char *const argv[], int *out_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		dprintf(1, "cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	*out_fd = fds[0];
	return pid;
}

/* Run argv to its end (at most ENGINE_TIMEOUT_S), feeding complete output lines to r (if
 * any). Returns the exit status, -1 on a spawn failure or timeout (the child is killed);
 * *wall is the time from spawn to exit. */
static int run_child(char *const argv[], struct guest_run *r, double *wall)
{
	char buf[4096], line[512];
	size_t len = 0;
	int fd, status;
	double t0 = mono();
	pid_t pid = spawn(argv, &fd);
	bool timeout = false;

	if (pid < 0)
		return -1;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = ENGINE_TIMEOUT_S - (mono() - t0);
		ssize_t n;

		if (left <= 0) {
			timeout = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		double t = mono();
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\r')
				continue;
			if (buf[i] != '\n') {
				if (len + 1 < sizeof(line))
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			if (r)
				parse_line(r, line, t - t0);
			len = 0;
		}
		if (r && r->stop_at && r->done && !r->no_kill) {
			kill(pid, SIGKILL);
			break;
		}
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	*wall = mono() - t0;
	if (timeout)
		return -1;
	if (r && r->stop_at && r->done)
		return 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool file_exists(const char *path, int mode)
{
	return !access(path, mode);
}

/* The directory of this executable, where the build puts tdxemu, the images and the engine. */
static int self_dir(char *out, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);
	char *slash;

	if (n <= 0)
		return -1;
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

struct engine_ctx {
	char dir[PATH_MAX], engine[PATH_MAX + 32], image[PATH_MAX + 32], tdxemu[PATH_MAX + 32], ovmf[PATH_MAX + 32],
		linux_kernel[PATH_MAX + 32];
	bool engine_from_env;
};

static int guest_once(const struct engine_ctx *c, bool td, struct guest_run *r)
{
	char *td_argv[] = { (char *)c->engine, "-accel", "tcg", "-object", "tdx-guest,id=tdx0", "-machine",
			    "q35,confidential-guest-support=tdx0", "-cpu", "max", "-bios", (char *)c->image, "-m", "256M",
			    "-smp", "1", "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot", NULL };
	char *plain_argv[] = { (char *)c->engine, "-accel", "tcg", "-machine", "q35", "-cpu", "max", "-bios",
			       (char *)c->image, "-m", "256M", "-smp", "1", "-nographic", "-nodefaults", "-serial",
			       "stdio", "-no-reboot", NULL };
	double wall;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = run_child(td ? td_argv : plain_argv, r, &wall);
	if (rc || !r->done) {
		printf("  engine: the bench guest (%s) failed: exit %d%s%s\n", td ? "TD" : "plain", rc,
		       r->last[0] ? ", last line: " : "", r->last);
		return -1;
	}
	for (int p = 0; p < PH_N; p++) {
		const struct phase_result *ph = &r->ph[p];
		if ((ph->begun || ph->ended || ph->counted) &&
		    !(ph->begun && ph->ended && ph->counted && ph->count && ph->t_end > ph->t_begin)) {
			printf("  engine: the bench guest (%s) gave an incomplete '%s' phase\n", td ? "TD" : "plain",
			       phase_names[p]);
			return -1;
		}
	}
	return 0;
}

static double phase_seconds(const struct phase_result *ph)
{
	return ph->t_end - ph->t_begin;
}

static const char *verdict(bool ok)
{
	return ok ? "PASS" : "MISS";
}

/* The demo TD, boot to ACPI S5, as `tdxemu run` does it. */
static int demo_once(const struct engine_ctx *c, double *wall)
{
	char demo_fd[PATH_MAX + 32];
	char *run_argv[] = { (char *)c->tdxemu, "run", NULL };
	char *eng_argv[] = { (char *)c->engine, "-accel", "tcg", "-object", "tdx-guest,id=tdx0", "-machine",
			     "q35,confidential-guest-support=tdx0", "-bios", demo_fd, "-m", "256M", "-smp", "2",
			     "-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot", NULL };
	int rc;

	snprintf(demo_fd, sizeof(demo_fd), "%s/demo-td.fd", c->dir);
	rc = run_child(c->engine_from_env ? eng_argv : run_argv, NULL, wall);
	if (rc) {
		printf("  demo TD: exit %d (expected 0 after ACPI S5)\n", rc);
		return -1;
	}
	return 0;
}

/* One OVMF launch: the firmware, its RAM and vCPUs, and the KVM module parameters the TD
 * needs (Debian 12's OVMF passes RBP in its TDVMCALLs: no_rbp_mod=N). */
struct ovmf_cfg {
	const char *fd, *mem, *smp, *kvm_params, *td_machine;
};

/* An OVMF as a TD, or the same OVMF.fd as a plain q35 guest (the TD's baseline) under the
 * same engine: from spawn to its shell banner on the serial port. */
static int ovmf_once(const struct engine_ctx *c, const struct ovmf_cfg *o, bool td, double *t)
{
	char *td_argv[] = { (char *)c->engine, "-accel", "tcg", "-object", "tdx-guest,id=tdx0", "-machine",
			    (char *)o->td_machine, "-bios", (char *)o->fd, "-m",
			    (char *)o->mem, "-smp", (char *)o->smp, "-nographic", "-nodefaults", "-serial", "stdio",
			    "-no-reboot", NULL };
	char *plain_argv[] = { (char *)c->engine, "-accel", "tcg", "-machine", "q35", "-bios", (char *)o->fd,
			       "-m", (char *)o->mem, "-smp", (char *)o->smp, "-nographic", "-nodefaults", "-serial",
			       "stdio", "-no-reboot", NULL };
	struct guest_run r = { .stop_at = OVMF_BANNER };
	double wall;
	int rc;

	if (td && o->kvm_params)
		setenv("TDXEMU_KVM_PARAMS", o->kvm_params, 1);
	rc = run_child(td ? td_argv : plain_argv, &r, &wall);
	unsetenv("TDXEMU_KVM_PARAMS");
	if (rc || !r.done) {
		printf("  OVMF %s (%s): no '%s' banner (exit %d)\n", td ? "TD" : "plain", o->fd, OVMF_BANNER, rc);
		return -1;
	}
	*t = r.t_stop;
	return 0;
}

/* The medians of `runs` TD and plain boots of o to the shell banner. */
static int ovmf_td_vs_plain(const struct engine_ctx *c, const struct ovmf_cfg *o, int runs, double *td, double *plain)
{
	double t[MAX_RUNS];

	for (int i = 0; i < runs; i++)
		if (ovmf_once(c, o, true, &t[i]))
			return -1;
	*td = med(t, runs);
	for (int i = 0; i < runs; i++)
		if (ovmf_once(c, o, false, &t[i]))
			return -1;
	*plain = med(t, runs);
	return 0;
}

/* Debian trixie's Linux as a TD (tdxemu run --linux, 2 vCPUs, 1 GiB) in its test mode, in one
 * run: from spawn to the initramfs's first line and to the kernel's power-off, and the
 * private pages the TD accepted (the TDXEMU_STATS line at the engine's exit). */
#define LINUX_INIT_LINE "tdxemu-init: kernel"
#define LINUX_OFF_LINE "reboot: Power down"
static int linux_once(const struct engine_ctx *c, double *t_init, double *t_off, double *pages_out,
		      double *pages_per_s)
{
	char *argv[] = { (char *)c->tdxemu, "run", "--linux", "-append", "console=ttyS0 panic=-1 tdxemu.test", NULL };
	struct guest_run r = { .stop_at = LINUX_OFF_LINE, .no_kill = true, .mark = LINUX_INIT_LINE };
	unsigned long long pages = 0;
	const char *p;
	double wall;
	int rc;

	setenv("TDXEMU_STATS", "1", 1);
	rc = run_child(argv, &r, &wall);
	unsetenv("TDXEMU_STATS");
	if (rc || !r.done || !r.t_mark) {
		printf("  Linux TD: no '%s' and '%s' lines (exit %d; last line: %s)\n", LINUX_INIT_LINE, LINUX_OFF_LINE,
		       rc, r.last);
		return -1;
	}
	*t_init = r.t_mark;
	*t_off = r.t_stop;
	/* "..., N private pages added (PAGE.AUG), R pages/s": N, per second of the boot */
	p = strstr(r.stats, " private pages added");
	while (p && p > r.stats && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (!p || sscanf(p, "%llu", &pages) != 1) {
		printf("  Linux TD: no TDXEMU_STATS line from the engine\n");
		return -1;
	}
	*pages_out = (double)pages;
	*pages_per_s = (double)pages / *t_off;
	return 0;
}

static int find_engine(struct engine_ctx *c)
{
	const char *env = getenv(ENGINE_ENV);

	if (self_dir(c->dir, sizeof(c->dir)))
		return -1;
	snprintf(c->image, sizeof(c->image), "%s/bench-td.fd", c->dir);
	snprintf(c->tdxemu, sizeof(c->tdxemu), "%s/tdxemu", c->dir);
	snprintf(c->ovmf, sizeof(c->ovmf), "%s/" OVMF_REL, c->dir);
	snprintf(c->linux_kernel, sizeof(c->linux_kernel), "%s/linux-trixie/vmlinuz", c->dir);
	if (env && *env) {
		snprintf(c->engine, sizeof(c->engine), "%s", env);
		c->engine_from_env = true;
	} else {
		snprintf(c->engine, sizeof(c->engine), "%s/%s", c->dir, ENGINE_NAME);
	}
	return 0;
}

int bench_engine(int runs)
{
	struct engine_ctx c = { 0 };
	struct guest_run td, plain;
	double td_ips[MAX_RUNS], plain_ips[MAX_RUNS], td_ips_tsc[MAX_RUNS], tdcall_us[MAX_RUNS], tdcall_us_tsc[MAX_RUNS];
	double io_us[MAX_RUNS], io_plain_us[MAX_RUNS], demo_s[MAX_RUNS];
	uint64_t mem_insns = 0;

	if (runs > MAX_RUNS)
		runs = MAX_RUNS;
	if (find_engine(&c)) {
		printf("engine: skipped (cannot locate this executable)\n");
		return 0;
	}
	if (!file_exists(c.engine, X_OK)) {
		printf("engine: skipped, no engine at %s (make qemu, or set %s)\n", c.engine, ENGINE_ENV);
		return 0;
	}
	if (!file_exists(c.image, R_OK)) {
		printf("engine: skipped, no bench image at %s\n", c.image);
		return 0;
	}
	printf("engine (%s; %d run%s each, medians; phases timed host-side from the guest's serial markers,\n"
	       "  TD figures also from the TD's RDTSC at %.1f GHz as a cross-check):\n",
	       c.engine, runs, runs == 1 ? "" : "s", TD_TSC_HZ / 1e9);
	for (int i = 0; i < runs; i++) {
		if (guest_once(&c, true, &td) || guest_once(&c, false, &plain))
			return 1;
		if (!td.ph[PH_TDCALL].counted || plain.ph[PH_TDCALL].counted || !td.ph[PH_MEM].counted ||
		    !plain.ph[PH_MEM].counted || !td.ph[PH_IO].counted || !plain.ph[PH_IO].counted) {
			printf("  engine: the bench guest did not run the expected phases (TD: mem, tdcall, io;"
			       " plain: mem, io)\n");
			return 1;
		}
		mem_insns = td.ph[PH_MEM].insns;
		td_ips[i] = (double)td.ph[PH_MEM].insns / phase_seconds(&td.ph[PH_MEM]);
		td_ips_tsc[i] = (double)td.ph[PH_MEM].insns / ((double)td.ph[PH_MEM].tsc / TD_TSC_HZ);
		plain_ips[i] = (double)plain.ph[PH_MEM].insns / phase_seconds(&plain.ph[PH_MEM]);
		tdcall_us[i] = phase_seconds(&td.ph[PH_TDCALL]) / (double)td.ph[PH_TDCALL].count * 1e6;
		tdcall_us_tsc[i] = (double)td.ph[PH_TDCALL].tsc / TD_TSC_HZ / (double)td.ph[PH_TDCALL].count * 1e6;
		io_us[i] = phase_seconds(&td.ph[PH_IO]) / (double)td.ph[PH_IO].count * 1e6;
		io_plain_us[i] = phase_seconds(&plain.ph[PH_IO]) / (double)plain.ph[PH_IO].count * 1e6;
	}
	double tdi = med(td_ips, runs), pli = med(plain_ips, runs);
	printf("  memory loop (4 MiB load/add/store, 6 insns per 8 bytes, %.0fM insns in the TD's run):\n"
	       "    TD %.0f Minsn/s (guest TSC: %.0f), plain TCG %.0f Minsn/s: %.2fx  goal >= 0.90x  %s\n",
	       (double)mem_insns / 1e6, tdi / 1e6, med(td_ips_tsc, runs) / 1e6, pli / 1e6, tdi / pli,
	       verdict(tdi / pli >= 0.9));
	double tc = med(tdcall_us, runs);
	printf("  TDCALL TDG.VP.INFO round trip: %.3f us (guest TSC: %.3f us)  goal <= 0.5 us  %s\n", tc,
	       med(tdcall_us_tsc, runs), verdict(tc <= 0.5));
	double io = med(io_us, runs), iop = med(io_plain_us, runs);
	printf("  TDVMCALL<Instruction.IO> OUT 0x3FF: %.3f us (plain TCG OUT: %.3f us, %.1fx)  goal <= 2 us  %s\n", io,
	       iop, io / iop, verdict(io <= 2.0));
	for (int i = 0; i < runs; i++)
		if (demo_once(&c, &demo_s[i]))
			return 1;
	printf("  demo TD boot to ACPI S5 (%s, 2 vCPUs): %.2f s wall\n",
	       c.engine_from_env ? "engine with the demo's arguments" : "tdxemu run", med(demo_s, runs));
	if (!file_exists(c.ovmf, R_OK)) {
		printf("  OVMF TD to the shell banner: skipped, no %s\n", c.ovmf);
		return 0;
	}
	struct ovmf_cfg trixie = { c.ovmf, "512M", "1", NULL, "q35,confidential-guest-support=tdx0" };
	double ovmf_td, ovmf_plain;
	if (ovmf_td_vs_plain(&c, &trixie, runs, &ovmf_td, &ovmf_plain))
		return 1;
	printf("  OVMF (%s, 512M, 1 vCPU) to the '%s' banner: TD %.2f s, plain %.2f s: %.2fx  goal <= 1.5x  %s\n",
	       OVMF_REL, OVMF_BANNER, ovmf_td, ovmf_plain, ovmf_td / ovmf_plain, verdict(ovmf_td / ovmf_plain <= 1.5));
	/* Debian 12's OVMF accepts all memory below 4 GiB with its APs and polls devices with
	 * microsecond PAUSE delays while three APs spin without PAUSE on 2 host cores */
	struct ovmf_cfg bookworm = { OVMF_BOOKWORM, "4G", "4", "no_rbp_mod=N",
				       "q35,confidential-guest-support=tdx0,kernel-irqchip=split" };
	if (!file_exists(bookworm.fd, R_OK)) {
		printf("  OVMF %s: skipped, not installed (package ovmf)\n", bookworm.fd);
	} else if (ovmf_td_vs_plain(&c, &bookworm, runs, &ovmf_td, &ovmf_plain)) {
		return 1;
	} else {
		printf("  OVMF (%s, 4G, 4 vCPUs, KVM no_rbp_mod=N) to the '%s' banner: TD %.2f s, plain %.2f s: %.2fx\n",
		       bookworm.fd, OVMF_BANNER, ovmf_td, ovmf_plain, ovmf_td / ovmf_plain);
	}
	if (!file_exists(c.linux_kernel, R_OK)) {
		printf("  Linux TD: skipped, no %s (make qemu fetches it)\n", c.linux_kernel);
		return 0;
	}
	double linux_init[MAX_RUNS], pages[MAX_RUNS], pps[MAX_RUNS];
	for (int i = 0; i < runs; i++)
		if (linux_once(&c, &linux_init[i], &demo_s[i], &pages[i], &pps[i]))
			return 1;
	printf("  Linux TD (trixie's kernel through trixie's OVMF, 2 vCPUs, 1 GiB): initramfs /init at %.2f s,"
	       " powered off at %.2f s\n", med(linux_init, runs), med(demo_s, runs));
	printf("    private pages accepted during the boot (TDH.MEM.PAGE.AUG on the guest's accepts):"
	       " %.0f, %.0f pages/s of boot\n", med(pages, runs), med(pps, runs));
	return 0;
}
