/* tdxemu: Intel TDX in software. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tdxemu COMMAND [options]\n\n"
		   "commands:\n"
		   "  module info   bring up the TDX module on a simulated host and show CMRs, TDMRs, PAMTs, KeyIDs\n"
		   "  measure       the MRTD of a TD firmware image, by building the TD on the software module\n"
		   "  caps          what KVM_TDX_CAPABILITIES reports: TD attributes, XFAM, configurable CPUID\n"
		   "  cpuid         the CPUID a TD gets for a QEMU -cpu MODEL[,+feat,...], QEMU's TDX feature check\n"
		   "  run [ARGS...] boot the built-in demo TD on the engine (QEMU TCG built by 'make qemu'),\n"
		   "                or run the engine with QEMU arguments ARGS\n"
		   "  help          this text\n\n"
		   "Run 'tdxemu module info --help' for the options of a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "measure"))
		return cmd_measure(argc - 1, argv + 1);
	if (!strcmp(argv[1], "caps"))
		return cmd_caps(argc - 1, argv + 1);
	if (!strcmp(argv[1], "cpuid"))
		return cmd_cpuid(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "module")) {
		if (argc >= 3 && !strcmp(argv[2], "info"))
			return cmd_module_info(argc - 2, argv + 2);
		fprintf(stderr, "tdxemu module: unknown subcommand '%s' (try: tdxemu module info)\n",
			argc >= 3 ? argv[2] : "");
		return 2;
	}
	fprintf(stderr, "tdxemu: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
