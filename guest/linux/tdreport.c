/*
 * tdreport: the Linux TD's side of the tdxemu Linux test. A static user program in the project's
 * initramfs that asks the kernel's tdx_guest driver for a TDREPORT (TDG.MR.REPORT through
 * TDX_CMD_GET_REPORT0) and prints the fields a user checks against `tdxemu measure` and the
 * measured boot. Offsets come from the generated ABI header, the ioctl from trixie's uAPI header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/tdx-guest.h>

#include "abi_structs.h"


static void put_hex(const char *name, const unsigned char *p, size_t n)
{
	printf("tdreport: %-13s ", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	static struct tdx_report_req req;
	const char *dev = "/dev/tdx_guest";
	int full = argc > 1 && strcmp(argv[1], "--full") == 0;

	/* REPORTDATA: a recognisable nonce so the host can tell this report from another one */
	for (unsigned i = 0; i < sizeof(req.reportdata); i++)
		req.reportdata[i] = (unsigned char)(0xa0 + i);
	int fd = open(dev, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "tdreport: open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (ioctl(fd, TDX_CMD_GET_REPORT0, &req) != 0) {
		fprintf(stderr, "tdreport: TDX_CMD_GET_REPORT0: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	const unsigned char *r = req.tdreport;
	const unsigned char *ti = r + TDREPORT_STRUCT_OFF_TDINFO;
	put_hex("REPORTDATA", r + REPORTMACSTRUCT_OFF_REPORTDATA, REPORTMACSTRUCT_SZ_REPORTDATA);
	put_hex("ATTRIBUTES", ti + TDINFO_OFF_ATTRIBUTES, TDINFO_SZ_ATTRIBUTES);
	put_hex("XFAM", ti + TDINFO_OFF_XFAM, TDINFO_SZ_XFAM);
	put_hex("MRTD", ti + TDINFO_OFF_MRTD, TDINFO_SZ_MRTD);
	put_hex("MRCONFIGID", ti + TDINFO_OFF_MRCONFIGID, TDINFO_SZ_MRCONFIGID);
	put_hex("RTMR0", ti + TDINFO_OFF_RTMR_0, TDINFO_SZ_RTMR_0);
	put_hex("RTMR1", ti + TDINFO_OFF_RTMR_1, TDINFO_SZ_RTMR_1);
	put_hex("RTMR2", ti + TDINFO_OFF_RTMR_2, TDINFO_SZ_RTMR_2);
	put_hex("RTMR3", ti + TDINFO_OFF_RTMR_3, TDINFO_SZ_RTMR_3);
	if (full)
		put_hex("RAW", r, sizeof(req.tdreport));
	return 0;
}
