/* td_quote.c, the QGS client behind GetQuote: what a TD sees in its buffer for a good reply and
 * for every malformed one QEMU's tdx-quote-generator rejects, a QGS that is not there, 16
 * requests in flight (the 17th gets RETRY), teardown with requests still in flight, the
 * request the QGS gets, and the checks on the TD's header. A thread here plays the QGS on a
 * unix socket, answering each connection with a scripted reply. */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fixture.h"
#include "qemu_cpu.h"
#include "vmm/td_launch_internal.h"
#include "vmm/tdvf.h"

#define BUF_LEN 8192u
#define GPA 0x100000u

/* ---- the TD's shared buffer, as the engine's shared_rw sees it --------------------------- */

struct env {
	struct td_launch *l;
	pthread_mutex_t lock;
	uint8_t shared[BUF_LEN];
};

static void noop_run(void *ctx, struct plat_guest_regs *r, const struct plat_guest_mem *mem, struct plat_guest_exit *ex)
{
	td_launch_exit_triple_fault(ex);
}

static void noop_io(void *ctx, uint16_t port, void *data, unsigned size, bool write)
{
}

static void noop_mmio(void *ctx, uint64_t gpa, void *data, unsigned size, bool write)
{
}

static int env_rw(void *ctx, uint64_t gpa, void *data, size_t len, bool write)
{
	struct env *e = ctx;

	if (gpa < GPA || gpa - GPA > BUF_LEN || len > BUF_LEN - (gpa - GPA))
		return -1;
	pthread_mutex_lock(&e->lock);
	if (write)
		memcpy(e->shared + (gpa - GPA), data, len);
	else
		memcpy(data, e->shared + (gpa - GPA), len);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static uint64_t hdr_u64(struct env *e, unsigned off)
{
	uint64_t v;

	pthread_mutex_lock(&e->lock);
	memcpy(&v, e->shared + off, 8);
	pthread_mutex_unlock(&e->lock);
	return v;
}

static uint32_t hdr_out_len(struct env *e)
{
	return (uint32_t)(hdr_u64(e, 16) >> 32);
}

/* A request of in_len bytes (0x5A...) with the TD's header. */
static void put_request(struct env *e, uint64_t version, uint64_t status, uint32_t in_len, uint32_t out_len)
{
	pthread_mutex_lock(&e->lock);
	memset(e->shared, 0, sizeof(e->shared));
	memcpy(e->shared, &version, 8);
	memcpy(e->shared + 8, &status, 8);
	memcpy(e->shared + 16, &in_len, 4);
	memcpy(e->shared + 20, &out_len, 4);
	memset(e->shared + 24, 0x5A, in_len < BUF_LEN - 24 ? in_len : BUF_LEN - 24);
	pthread_mutex_unlock(&e->lock);
}

static uint64_t get_quote(struct env *e, uint64_t gpa, uint64_t len)
{
	struct kvm_run run;

	memset(&run, 0, sizeof(run));
	run.exit_reason = KVM_EXIT_TDX;
	run.tdx.nr = TDVMCALL_GET_QUOTE;
	run.tdx.get_quote.gpa = gpa;
	run.tdx.get_quote.size = len;
	td_quote_get_quote(e->l, &run);
	return run.tdx.get_quote.ret;
}

/* Until the buffer leaves IN_FLIGHT (the transaction thread completed it): its status. */
static uint64_t wait_done(struct env *e)
{
	for (int i = 0; i < 1000; i++) {
		uint64_t st = hdr_u64(e, 8);
		if (st != QEMU_GET_QUOTE_IN_FLIGHT)
			return st;
		usleep(5000);
	}
	return QEMU_GET_QUOTE_IN_FLIGHT;
}

/* ---- the QGS --------------------------------------------------------------------------- */

struct qgs {
	int fd;
	char path[108];
	pthread_t tid;
	/* the scripted reply: bytes, then close (or hold the connection open when hold) */
	uint8_t reply[512];
	size_t reply_len;
	bool hold;
	/* what it got last */
	uint8_t got[2048];
	size_t got_len;
	unsigned conns;
	int held[32];
	unsigned nr_held;
};

static void *qgs_main(void *arg)
{
	struct qgs *q = arg;

	for (;;) {
		int c = accept(q->fd, NULL, NULL);
		size_t n = 0;
		ssize_t r;

		if (c < 0)
			return NULL;
		q->conns++;
		/* the length prefix tells how much more to read */
		while (n < 4 || n < 4 + ((size_t)q->got[0] << 24 | (size_t)q->got[1] << 16 | (size_t)q->got[2] << 8 | q->got[3])) {
			if (n == sizeof(q->got) || (r = read(c, q->got + n, sizeof(q->got) - n)) <= 0)
				break;
			n += (size_t)r;
		}
		q->got_len = n;
		if (q->hold && q->nr_held < 32) {
			q->held[q->nr_held++] = c;
			continue;
		}
		if (q->reply_len && write(c, q->reply, q->reply_len) < 0)
			perror("qgs write");
		close(c);
	}
}

static bool qgs_start(struct qgs *q)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(q->path, sizeof(q->path), "/tmp/tdxemu-test-qgs-%d.sock", (int)getpid());
	unlink(q->path);
	strcpy(a.sun_path, q->path);
	q->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (q->fd < 0 || bind(q->fd, (struct sockaddr *)&a, sizeof(a)) || listen(q->fd, 64))
		return false;
	return !pthread_create(&q->tid, NULL, qgs_main, q);
}

static void qgs_stop(struct qgs *q)
{
	shutdown(q->fd, SHUT_RDWR);
	pthread_join(q->tid, NULL);
	close(q->fd);
	for (unsigned i = 0; i < q->nr_held; i++)
		close(q->held[i]);
	unlink(q->path);
}

/* A GET_QUOTE_RESP with the given fields and quote bytes 0..n-1; the length prefix says
 * `len_override` when non-zero. */
static void script(struct qgs *q, uint16_t major, uint16_t minor, uint32_t type, uint32_t error, uint32_t sel,
		   uint32_t quote_size, size_t quote_bytes, uint32_t len_override)
{
	uint32_t body = (uint32_t)(QEMU_QGS_RESP_SIZE + quote_bytes), hdr_size = body;
	uint32_t len = len_override ? len_override : body;
	uint8_t *p = q->reply;

	p[0] = (uint8_t)(len >> 24), p[1] = (uint8_t)(len >> 16), p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
	memcpy(p + 4, &major, 2);
	memcpy(p + 6, &minor, 2);
	memcpy(p + 8, &type, 4);
	memcpy(p + 12, &hdr_size, 4);
	memcpy(p + 16, &error, 4);
	memcpy(p + 20, &sel, 4);
	memcpy(p + 24, &quote_size, 4);
	for (size_t i = 0; i < quote_bytes; i++)
		p[28 + i] = (uint8_t)i;
	q->reply_len = 28 + quote_bytes;
}

static bool env_create(struct env *e, const char *socket_spec)
{
	static const struct td_launch_ops ops = { .run = noop_run, .pio = noop_io, .mmio = noop_mmio, .shared_rw = env_rw };
	struct td_launch_config cfg = { .ram_size = 128ull << 20, .quote_socket = socket_spec };
	char err[256];

	if (!(cfg.bios = fx_ovmf_image(&cfg.bios_size)))
		return false;
	pthread_mutex_init(&e->lock, NULL);
	if (td_launch_create(&cfg, &ops, e, &e->l, err, sizeof(err))) {
		fprintf(stderr, "td_launch_create: %s\n", err);
		return false;
	}
	return true;
}

TEST(td_quote_good_reply_and_request)
{
	static struct env e;
	static struct qgs q;
	char spec[160];
	uint32_t u32;
	uint16_t u16;

	REQUIRE(qgs_start(&q));
	snprintf(spec, sizeof(spec), "unix:%s", q.path);
	REQUIRE(env_create(&e, spec));
	script(&q, 1, 1, QEMU_QGS_GET_QUOTE_RESP, 0, 0, 100, 100, 0);
	put_request(&e, 1, 0, 1024, 0);
	CHECK_EQ(get_quote(&e, GPA, BUF_LEN), TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(wait_done(&e), QEMU_GET_QUOTE_SUCCESS);
	CHECK_EQ(hdr_out_len(&e), 100u);
	CHECK(e.shared[24] == 0 && e.shared[24 + 99] == 99); /* the quote replaced the payload */
	CHECK_EQ(hdr_u64(&e, 16) & 0xFFFFFFFF, 1024u);   /* in_len kept */
	/* the request: length 24 + 1024 big-endian, qgs_msg_get_quote_req_t, the in-data */
	REQUIRE_EQ(q.got_len, 4u + 24 + 1024);
	CHECK(q.got[0] == 0 && q.got[1] == 0 && q.got[2] == 0x04 && q.got[3] == 0x18);
	memcpy(&u16, q.got + 4, 2);
	CHECK_EQ(u16, 1u);
	memcpy(&u16, q.got + 6, 2);
	CHECK_EQ(u16, 1u);
	memcpy(&u32, q.got + 8, 4);
	CHECK_EQ(u32, QEMU_QGS_GET_QUOTE_REQ);
	memcpy(&u32, q.got + 12, 4);
	CHECK_EQ(u32, 24u + 1024);
	memcpy(&u32, q.got + 16, 4);
	CHECK_EQ(u32, 0u);
	memcpy(&u32, q.got + 20, 4);
	CHECK_EQ(u32, 1024u);
	memcpy(&u32, q.got + 24, 4);
	CHECK_EQ(u32, 0u);
	CHECK(q.got[28] == 0x5A && q.got[28 + 1023] == 0x5A);
	td_launch_destroy(e.l);
	qgs_stop(&q);
}

/* Every reply tdx_get_quote_read() rejects ends the request with GET_QUOTE_ERROR, no quote. */
TEST(td_quote_bad_replies)
{
	static struct env e;
	static struct qgs q;
	static const struct {
		const char *what;
		uint16_t major, minor;
		uint32_t type, error, sel, quote_size;
		size_t bytes;
		uint32_t len;
		bool truncate;
		uint32_t size_extra; /* added to the header's size field */
	} bad[] = {
		{ "length 0", 1, 1, 1, 0, 0, 16, 16, 0xFFFFFFFF, false, 0 },
		{ "length past the buffer", 1, 1, 1, 0, 0, 16, 16, BUF_LEN, false, 0 },
		{ "major version 2", 2, 1, 1, 0, 0, 16, 16, 0, false, 0 },
		{ "minor version 0", 1, 0, 1, 0, 0, 16, 16, 0, false, 0 },
		{ "type GET_QUOTE_REQ", 1, 1, 0, 0, 0, 16, 16, 0, false, 0 },
		{ "error code 1", 1, 1, 1, 1, 0, 16, 16, 0, false, 0 },
		{ "selected ID size 4", 1, 1, 1, 0, 4, 16, 16, 0, false, 0 },
		{ "quote size 15 for 16 bytes", 1, 1, 1, 0, 0, 15, 16, 0, false, 0 },
		{ "header size past the message", 1, 1, 1, 0, 0, 16, 16, 0, false, 1 },
		{ "end of file mid-reply", 1, 1, 1, 0, 0, 16, 16, 0, true, 0 },
		{ "no reply", 1, 1, 1, 0, 0, 16, 16, 0, true, 0 },
	};
	char spec[160];
	uint64_t st;

	REQUIRE(qgs_start(&q));
	snprintf(spec, sizeof(spec), "unix:%s", q.path);
	REQUIRE(env_create(&e, spec));
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		script(&q, bad[i].major, bad[i].minor, bad[i].type, bad[i].error, bad[i].sel, bad[i].quote_size, bad[i].bytes,
		       bad[i].len == 0xFFFFFFFF ? 0 : bad[i].len);
		if (bad[i].len == 0xFFFFFFFF)
			q.reply[0] = q.reply[1] = q.reply[2] = q.reply[3] = 0;
		if (bad[i].size_extra) {
			uint32_t sz = (uint32_t)(QEMU_QGS_RESP_SIZE + bad[i].bytes) + bad[i].size_extra;
			memcpy(q.reply + 12, &sz, 4);
		}
		if (bad[i].truncate)
			q.reply_len = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 0 : q.reply_len - 5;
		put_request(&e, 1, 0, 1024, 0);
		CHECK_EQ(get_quote(&e, GPA, BUF_LEN), TDVMCALL_STATUS_SUCCESS);
		st = wait_done(&e);
		if (st != QEMU_GET_QUOTE_ERROR || hdr_out_len(&e))
			fprintf(stderr, "  reply '%s': status %#llx, out_len %u\n", bad[i].what, (unsigned long long)st,
				hdr_out_len(&e));
		CHECK_EQ(st, QEMU_GET_QUOTE_ERROR);
		CHECK_EQ(hdr_out_len(&e), 0u);
	}
	td_launch_destroy(e.l);
	qgs_stop(&q);
}

/* Nobody listening: QGS_UNAVAILABLE. Malformed headers: INVALID_OPERAND with the buffer left
 * as it was; an unaligned buffer: ALIGN_ERROR. */
TEST(td_quote_unavailable_and_malformed)
{
	static struct env e;
	static const struct {
		uint64_t version, status;
		uint32_t in_len, out_len;
		uint64_t gpa, len, want;
	} req[] = {
		{ 2, 0, 1024, 0, GPA, BUF_LEN, TDVMCALL_STATUS_INVALID_OPERAND },   /* structure version */
		{ 1, 5, 1024, 0, GPA, BUF_LEN, TDVMCALL_STATUS_INVALID_OPERAND },   /* error_code not cleared */
		{ 1, 0, 1024, 8, GPA, BUF_LEN, TDVMCALL_STATUS_INVALID_OPERAND },   /* out_len not cleared */
		{ 1, 0, BUF_LEN - 23, 0, GPA, BUF_LEN, TDVMCALL_STATUS_INVALID_OPERAND }, /* in_len past the end */
		{ 1, 0, 1024, 0, GPA + 8, 4096, TDVMCALL_STATUS_ALIGN_ERROR },
		{ 1, 0, 1024, 0, GPA, 4000, TDVMCALL_STATUS_ALIGN_ERROR },
	};

	REQUIRE(env_create(&e, "unix:/nonexistent/tdxemu-qgs.sock"));
	put_request(&e, 1, 0, 1024, 0);
	CHECK_EQ(get_quote(&e, GPA, BUF_LEN), TDVMCALL_STATUS_SUCCESS);
	CHECK_EQ(wait_done(&e), QEMU_GET_QUOTE_QGS_UNAVAILABLE);
	for (unsigned i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		put_request(&e, req[i].version, req[i].status, req[i].in_len, req[i].out_len);
		CHECK_EQ(get_quote(&e, req[i].gpa, req[i].len), req[i].want);
		CHECK_EQ(hdr_u64(&e, 8), req[i].status); /* untouched */
	}
	td_launch_destroy(e.l);
}

/* A QGS that takes requests and never answers: 16 in flight, the 17th is RETRY (its buffer
 * untouched); tearing the TD down ends the 16 without waiting for the 30 s timeout. */
TEST(td_quote_in_flight_limit_and_teardown)
{
	static struct env e;
	static struct qgs q;
	char spec[160];
	uint64_t t0;
	struct timespec ts;

	REQUIRE(qgs_start(&q));
	q.hold = true;
	snprintf(spec, sizeof(spec), "unix:%s", q.path);
	REQUIRE(env_create(&e, spec));
	for (unsigned i = 0; i < QEMU_GET_QUOTE_MAX_REQUESTS; i++) {
		put_request(&e, 1, 0, 64, 0);
		CHECK_EQ(get_quote(&e, GPA, BUF_LEN), TDVMCALL_STATUS_SUCCESS);
		CHECK_EQ(hdr_u64(&e, 8), QEMU_GET_QUOTE_IN_FLIGHT);
	}
	put_request(&e, 1, 0, 64, 0);
	CHECK_EQ(get_quote(&e, GPA, BUF_LEN), TDVMCALL_STATUS_RETRY);
	CHECK_EQ(hdr_u64(&e, 8), 0u);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec;
	td_launch_destroy(e.l);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	CHECK((uint64_t)ts.tv_sec - t0 < 10);
	qgs_stop(&q);
}

/* quote-generation-socket strings the launch refuses, with the reason. */
TEST(td_quote_bad_socket_specs)
{
	static const struct {
		const char *spec, *err;
	} bad[] = {
		{ "tcp:1.2.3.4:5", "want unix:PATH, inet:HOST:PORT or vsock:CID:PORT" },
		{ "unix:", "unix path '' empty or too long" },
		{ "vsock:2", "vsock address '2' is not CID:PORT" },
		{ "vsock:2:x", "vsock address '2:x' is not CID:PORT" },
		{ "inet:4050", "inet address '4050' is not HOST:PORT" },
		{ "inet:localhost:", "inet address 'localhost:' is not HOST:PORT" },
	};
	static const struct td_launch_ops ops = { .run = noop_run, .pio = noop_io, .mmio = noop_mmio, .shared_rw = env_rw };
	struct td_launch_config cfg = { .ram_size = 128ull << 20 };
	struct td_launch *l;
	char err[256];

	if (!(cfg.bios = fx_ovmf_image(&cfg.bios_size)))
		return;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.quote_socket = bad[i].spec;
		CHECK_EQ(td_launch_create(&cfg, &ops, NULL, &l, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].err))
			fprintf(stderr, "  %s: %s\n", bad[i].spec, err);
		CHECK(strstr(err, bad[i].err) != NULL);
	}
}
