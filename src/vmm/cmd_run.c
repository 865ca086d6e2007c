/* `tdxemu run ARGS...`: run tdxemu's engine, the QEMU that `make qemu` builds (Debian
 * trixie's QEMU, TCG only, linked with our libraries), with ARGS. The binary is looked
 * for next to the tdxemu executable, so each build directory runs its own engine. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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

int cmd_run(int argc, char **argv)
{
	char engine[PATH_MAX];

	if (argc < 2) {
		/* No default guest yet: a TD needs QEMU's TD mode, which is not in the engine. */
		fprintf(stderr, "usage: tdxemu run QEMU-ARGS...   (e.g. tdxemu run -version)\n"
				"tdxemu run: no default guest: the demo TD arrives with the engine's TD mode,\n"
				"which this build does not have yet; give QEMU arguments to run plain QEMU (TCG)\n");
		return 2;
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
	/* QEMU-ARGS go through untouched; exec keeps our pid, so QEMU's exit code is ours. */
	argv[0] = engine;
	execv(engine, argv);
	fprintf(stderr, "tdxemu run: cannot execute %s: %s\n", engine, strerror(errno));
	return 1;
}
