/*
 * tdreport: the Linux TD's side of the tdxemu Linux test. A static user program in the project's
 * initramfs that asks the kernel's tdx_guest driver for a TDREPORT (TDG.MR.REPORT through
 * TDX_CMD_GET_REPORT0) and prints the fields a user checks against `tdxemu measure` and the
 * measured boot. Offsets come from the generated ABI header, the ioctl from trixie's uAPI header.
 * With --event-log FILE (the ACPI CCEL data) it replays the TD event log into RTMR0-3 and says
 * whether each matches the report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/tdx-guest.h>

#include <openssl/evp.h>

#include "abi_structs.h"

/* The TD event log (ACPI CCEL, TCG crypto-agile format): every event of MR index 1-4 extends
 * RTMR[index - 1] with its SHA-384 digest; replaying them must give the TDREPORT's RTMRs. */
#define EV_NO_ACTION 3u
#define TPM_ALG_SHA384 0x000Cu
#define SHA384_LEN 48
#define NR_RTMR 4

struct log_reader {
	const unsigned char *p, *end;
};

static int take(struct log_reader *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return -1;
	if (out)
		memcpy(out, r->p, n);
	r->p += n;
	return 0;
}

static uint16_t alg_size(const uint16_t *algs, const uint16_t *sizes, unsigned n, uint16_t alg)
{
	for (unsigned i = 0; i < n; i++)
		if (algs[i] == alg)
			return sizes[i];
	return 0;
}

static void extend(unsigned char mr[SHA384_LEN], const unsigned char *digest)
{
	unsigned char buf[2 * SHA384_LEN];
	unsigned len = SHA384_LEN;

	memcpy(buf, mr, SHA384_LEN);
	memcpy(buf + SHA384_LEN, digest, SHA384_LEN);
	EVP_Digest(buf, sizeof(buf), mr, &len, EVP_sha384(), NULL);
}

/* Returns the number of events replayed, -1 on a malformed log. */
static int replay(const unsigned char *log, size_t size, unsigned char rtmr[NR_RTMR][SHA384_LEN])
{
	struct log_reader r = { log, log + size };
	uint32_t idx, type, esize, nalg, count;
	uint16_t algs[16], sizes[16];
	unsigned char digest[64];
	int events = 0;

	/* the first event (SHA-1 format) carries the Spec ID event with the digest sizes */
	if (take(&r, &idx, 4) || take(&r, &type, 4) || take(&r, NULL, 20) || take(&r, &esize, 4) ||
	    esize < 28 || (size_t)(r.end - r.p) < esize)
		return -1;
	memcpy(&nalg, r.p + 24, 4);
	if (nalg > 16 || 28 + nalg * 4 > esize)
		return -1;
	for (unsigned i = 0; i < nalg; i++) {
		memcpy(&algs[i], r.p + 28 + 4 * i, 2);
		memcpy(&sizes[i], r.p + 30 + 4 * i, 2);
	}
	r.p += esize;
	while (r.end - r.p >= 12) {
		if (take(&r, &idx, 4) || take(&r, &type, 4) || take(&r, &count, 4))
			return -1;
		if (idx == 0xFFFFFFFFu || count == 0 || count > 16)
			break; /* the unused tail of the log area */
		int have = 0;
		for (unsigned i = 0; i < count; i++) {
			uint16_t alg, dsz;
			if (take(&r, &alg, 2) || !(dsz = alg_size(algs, sizes, nalg, alg)) || dsz > sizeof(digest) ||
			    take(&r, digest, dsz))
				return -1;
			have |= alg == TPM_ALG_SHA384 && dsz == SHA384_LEN;
			if (have && alg == TPM_ALG_SHA384 && type != EV_NO_ACTION && idx >= 1 && idx <= NR_RTMR)
				extend(rtmr[idx - 1], digest);
		}
		if (take(&r, &esize, 4) || take(&r, NULL, esize))
			return -1;
		events++;
	}
	return events;
}

static unsigned char *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = malloc(cap);

	if (!f || !b) {
		if (f)
			fclose(f);
		free(b);
		return NULL;
	}
	for (;;) {
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		unsigned char *nb = realloc(b, cap *= 2);
		if (!nb) {
			free(b);
			fclose(f);
			return NULL;
		}
		b = nb;
	}
	fclose(f);
	*size = n;
	return b;
}

/* Replays the CCEL log and compares with the report's RTMRs. */
static int check_event_log(const char *path, const unsigned char *ti)
{
	static const unsigned off[NR_RTMR] = { TDINFO_OFF_RTMR_0, TDINFO_OFF_RTMR_1, TDINFO_OFF_RTMR_2, TDINFO_OFF_RTMR_3 };
	unsigned char rtmr[NR_RTMR][SHA384_LEN] = { { 0 } };
	size_t size;
	unsigned char *log = read_file(path, &size);
	int events, bad = 0;

	if (!log) {
		fprintf(stderr, "tdreport: %s: %s\n", path, strerror(errno));
		return 1;
	}
	events = replay(log, size, rtmr);
	free(log);
	if (events < 0) {
		printf("tdreport: event log %s is malformed\n", path);
		return 1;
	}
	for (unsigned i = 0; i < NR_RTMR; i++) {
		bool same = !memcmp(rtmr[i], ti + off[i], SHA384_LEN);
		printf("tdreport: RTMR%u replayed from %d events of the TD event log: %s\n", i, events,
		       same ? "matches the TDREPORT" : "DIFFERS from the TDREPORT");
		bad |= !same;
	}
	return bad;
}


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
	int full = 0;
	const char *event_log = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--full"))
			full = 1;
		else if (!strcmp(argv[i], "--event-log") && i + 1 < argc)
			event_log = argv[++i];
		else {
			fprintf(stderr, "usage: tdreport [--full] [--event-log FILE]\n");
			return 2;
		}
	}

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
	return event_log ? check_event_log(event_log, ti) : 0;
}
