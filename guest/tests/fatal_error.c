/* ReportFatalError: the TD ends itself with an error code; the runner expects the engine's
 * "TD reported a fatal error ... R12 <code>" and QEMU's failure exit (-action panic=exit-failure). */
#include "gtest.h"

#define FATAL_CODE 0x7e57c0deu

TD_NORETURN void td_main(const struct td_boot *b)
{
	gt_start("fatal_error", b);
	td_printf("TEST fatal_error.report: reporting error code %#x\n", FATAL_CODE);
	td_fatal(FATAL_CODE, "guest test: deliberate fatal error");
}
