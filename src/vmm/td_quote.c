/* The userspace half of the GHCI's attestation TDVMCALLs, as QEMU's tdx.c and
 * tdx-quote-generator.c serve them: GetQuote (with or without a quote generation service),
 * SetupEventNotifyInterrupt and GetTdVmCallInfo leaf 1.
 *
 * With a quote-generation-socket, a request is one transaction on a new connection to the
 * QGS (Intel's Quote Generation Service protocol: a 4-byte big-endian length, then a
 * qgs_msg_get_quote_req_t and the TD's in-data, normally its TDREPORT). QEMU runs it in its
 * main loop while the TD goes on; here a detached thread does, so the TD sees the same thing:
 * the buffer marked IN_FLIGHT when the TDVMCALL returns, later the quote (or an error code)
 * in it, then the event-notify interrupt if the TD asked for one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "qemu_cpu.h"
#include "td_launch_internal.h"

/* The GHCI GetQuote buffer header (QEMU's struct tdx_get_quote_header), little endian. */
struct get_quote_hdr {
	uint64_t structure_version;
	uint64_t error_code;
	uint32_t in_len;
	uint32_t out_len;
};
_Static_assert(sizeof(struct get_quote_hdr) == QEMU_GET_QUOTE_HDR_SIZE, "GetQuote header");

/* tdx-quote-generator.c's QGS messages (host byte order, as the QGS library has them). */
struct qgs_msg_header {
	uint16_t major_version;
	uint16_t minor_version;
	uint32_t type;
	uint32_t size; /* the whole message, this header included */
	uint32_t error_code;
};
struct qgs_get_quote_req {
	struct qgs_msg_header header;
	uint32_t report_size;
	uint32_t id_list_size;
};
struct qgs_get_quote_resp {
	struct qgs_msg_header header;
	uint32_t selected_id_size;
	uint32_t quote_size;
};
_Static_assert(sizeof(struct qgs_msg_header) == QEMU_QGS_HEADER_SIZE, "qgs_msg_header_t");
_Static_assert(sizeof(struct qgs_get_quote_req) == QEMU_QGS_REQ_SIZE, "qgs_msg_get_quote_req_t");
_Static_assert(sizeof(struct qgs_get_quote_resp) == QEMU_QGS_RESP_SIZE, "qgs_msg_get_quote_resp_t");

#define LEN_BYTES QEMU_QGS_LENGTH_PREFIX_BYTES

struct quote_task {
	struct td_launch *l;
	uint64_t buf_gpa, payload_len; /* payload: the buffer after the header */
	struct get_quote_hdr hdr;
	uint8_t *msg;      /* to the QGS: length, request, in-data */
	size_t msg_len;
	uint8_t *reply;    /* from the QGS, payload_len bytes at most */
	size_t reply_len;
	uint64_t quote_off, quote_len;
};

/* ---- the QGS address -------------------------------------------------------------------- */

int td_quote_set_socket(struct td_launch *l, const char *spec, char *err, size_t errlen)
{
	struct td_quote *q = &l->quote;
	char host[256], port[32];

	memset(&q->addr, 0, sizeof(q->addr));
	if (!strncmp(spec, "unix:", 5)) {
		struct sockaddr_un *u = (struct sockaddr_un *)&q->addr;

		if (!spec[5] || strlen(spec + 5) >= sizeof(u->sun_path)) {
			snprintf(err, errlen, "quote-generation-socket: unix path '%s' empty or too long", spec + 5);
			return -1;
		}
		u->sun_family = AF_UNIX;
		strcpy(u->sun_path, spec + 5);
		q->addr_len = sizeof(*u);
	} else if (!strncmp(spec, "vsock:", 6)) {
		struct sockaddr_vm *v = (struct sockaddr_vm *)&q->addr;
		unsigned cid, vport;
		char tail;

		if (sscanf(spec + 6, "%u:%u%c", &cid, &vport, &tail) != 2) {
			snprintf(err, errlen, "quote-generation-socket: vsock address '%s' is not CID:PORT", spec + 6);
			return -1;
		}
		v->svm_family = AF_VSOCK;
		v->svm_cid = cid;
		v->svm_port = vport;
		q->addr_len = sizeof(*v);
	} else if (!strncmp(spec, "inet:", 5)) {
		const char *colon = strrchr(spec + 5, ':');
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
		int e;

		if (!colon || colon == spec + 5 || (size_t)(colon - spec - 5) >= sizeof(host) || strlen(colon + 1) >= sizeof(port) ||
		    !colon[1]) {
			snprintf(err, errlen, "quote-generation-socket: inet address '%s' is not HOST:PORT", spec + 5);
			return -1;
		}
		memcpy(host, spec + 5, (size_t)(colon - spec - 5));
		host[colon - spec - 5] = '\0';
		strcpy(port, colon + 1);
		if ((e = getaddrinfo(host, port, &hints, &ai))) {
			snprintf(err, errlen, "quote-generation-socket: %s:%s: %s", host, port, gai_strerror(e));
			return -1;
		}
		memcpy(&q->addr, ai->ai_addr, ai->ai_addrlen);
		q->addr_len = ai->ai_addrlen;
		freeaddrinfo(ai);
	} else {
		snprintf(err, errlen, "quote-generation-socket: '%s': want unix:PATH, inet:HOST:PORT or vsock:CID:PORT", spec);
		return -1;
	}
	snprintf(q->addr_text, sizeof(q->addr_text), "%s", spec);
	q->qgs = true;
	return 0;
}

/* ---- one transaction, on its own thread --------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wait until fd is ready for `events`: 0, or -1 on the deadline or when the TD goes away. */
static int wait_fd(struct td_quote *q, int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = events }, { .fd = q->stop[0], .events = POLLIN } };
		double left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -1;
		r = poll(p, 2, (int)left + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || p[1].revents)
			return -1;
		if (p[0].revents)
			return 0;
	}
}

static uint32_t get_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* tdx_get_quote_read()'s checks, as far as the bytes received allow. 1: complete (quote
 * found), 0: need more, -1: a bad reply (said in the log). */
static int check_reply(struct quote_task *t, size_t *cap)
{
	struct td_launch *l = t->l;
	struct qgs_msg_header h;
	struct qgs_get_quote_resp r;
	uint32_t len;

	if (t->reply_len < LEN_BYTES)
		return 0;
	len = get_be32(t->reply);
	if (!len || len > t->payload_len - LEN_BYTES) {
		td_launch_log(l, "GetQuote: QGS message length %u must be non-zero and at most %llu", len,
			      (unsigned long long)(t->payload_len - LEN_BYTES));
		return -1;
	}
	*cap = LEN_BYTES + (size_t)len;
	if (t->reply_len >= LEN_BYTES + sizeof(h)) {
		memcpy(&h, t->reply + LEN_BYTES, sizeof(h));
		if (h.major_version != QEMU_QGS_MAJOR_VERSION || h.minor_version != QEMU_QGS_MINOR_VERSION ||
		    h.type != QEMU_QGS_GET_QUOTE_RESP || h.size > len || h.error_code) {
			td_launch_log(l, "GetQuote: bad QGS reply header (version %u.%u, type %u, size %u, error %u)",
				      h.major_version, h.minor_version, h.type, h.size, h.error_code);
			return -1;
		}
	}
	if (t->reply_len >= LEN_BYTES + sizeof(r)) {
		memcpy(&r, t->reply + LEN_BYTES, sizeof(r));
		if (r.selected_id_size || r.quote_size != len - sizeof(r)) {
			td_launch_log(l, "GetQuote: bad QGS reply (selected ID size %u, quote size %u for a %u-byte message)",
				      r.selected_id_size, r.quote_size, len);
			return -1;
		}
	}
	if (t->reply_len < *cap)
		return 0;
	t->quote_off = LEN_BYTES + sizeof(r);
	t->quote_len = len - sizeof(r);
	return 1;
}

/* Connect, send, receive: the TDX_VP_GET_QUOTE_* status the buffer gets. */
static uint64_t transact(struct quote_task *t)
{
	struct td_quote *q = &t->l->quote;
	double deadline = now_ms() + QEMU_GET_QUOTE_TIMEOUT_MS;
	size_t sent = 0, cap = t->payload_len;
	uint64_t st = QEMU_GET_QUOTE_ERROR;
	int fd = socket(((struct sockaddr *)&q->addr)->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fd < 0 || (connect(fd, (struct sockaddr *)&q->addr, q->addr_len) && errno != EINPROGRESS) ||
	    wait_fd(q, fd, POLLOUT, deadline) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr) {
		td_launch_log(t->l, "GetQuote: cannot connect to the quote generation service at %s: %s", q->addr_text,
			      strerror(soerr ? soerr : errno));
		st = QEMU_GET_QUOTE_QGS_UNAVAILABLE;
		goto out;
	}
	while (sent < t->msg_len) {
		ssize_t n = send(fd, t->msg + sent, t->msg_len - sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(q, fd, POLLOUT, deadline))
				goto timeout;
			continue;
		}
		if (n < 0) {
			td_launch_log(t->l, "GetQuote: sending to the QGS: %s", strerror(errno));
			goto out;
		}
		sent += (size_t)n;
	}
	for (;;) {
		ssize_t n = recv(fd, t->reply + t->reply_len, cap - t->reply_len, 0);
		int c;

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(q, fd, POLLIN, deadline))
				goto timeout;
			continue;
		}
		if (n <= 0) {
			td_launch_log(t->l, "GetQuote: %s before the QGS reply was complete",
				      n ? strerror(errno) : "end of file");
			goto out;
		}
		t->reply_len += (size_t)n;
		if ((c = check_reply(t, &cap)) < 0)
			goto out;
		if (c > 0) {
			st = QEMU_GET_QUOTE_SUCCESS;
			goto out;
		}
	}
timeout:
	td_launch_log(t->l, "GetQuote: no complete QGS reply within %u ms", QEMU_GET_QUOTE_TIMEOUT_MS);
out:
	if (fd >= 0)
		close(fd);
	return st;
}

/* tdx_get_quote_completion(): quote, then header, then the event-notify interrupt. */
static void complete(struct quote_task *t, uint64_t st)
{
	struct td_launch *l = t->l;
	struct td_quote *q = &l->quote;
	int vector;
	uint32_t apicid;

	if (st == QEMU_GET_QUOTE_SUCCESS) {
		if (l->ops->shared_rw(l->ctx, t->buf_gpa + sizeof(t->hdr), t->reply + t->quote_off, t->quote_len, true))
			td_launch_log(l, "GetQuote: cannot write the quote at %#llx", (unsigned long long)t->buf_gpa);
		else
			t->hdr.out_len = (uint32_t)t->quote_len;
	}
	t->hdr.error_code = st;
	if (l->ops->shared_rw(l->ctx, t->buf_gpa, &t->hdr, sizeof(t->hdr), true))
		td_launch_log(l, "GetQuote: cannot update the buffer header at %#llx", (unsigned long long)t->buf_gpa);
	pthread_mutex_lock(&q->lock);
	vector = q->event_vector;
	apicid = q->event_apicid;
	pthread_mutex_unlock(&q->lock);
	if (vector >= 32 && vector <= 255)
		td_launch_irq_msi(l, apicid, (uint8_t)vector);
	if (l->trace)
		td_launch_log(l, "GetQuote %#llx done: status %#llx, %u bytes of quote%s", (unsigned long long)t->buf_gpa,
			      (unsigned long long)st, t->hdr.out_len, vector >= 32 ? ", event-notify interrupt sent" : "");
}

static void *quote_thread(void *arg)
{
	struct quote_task *t = arg;
	struct td_quote *q = &t->l->quote;
	uint64_t st = transact(t);

	pthread_mutex_lock(&q->lock);
	if (!q->stopping) { /* a TD being torn down gets no more writes */
		pthread_mutex_unlock(&q->lock);
		complete(t, st);
		pthread_mutex_lock(&q->lock);
	}
	q->in_flight--;
	pthread_cond_broadcast(&q->idle);
	pthread_mutex_unlock(&q->lock);
	free(t->msg);
	free(t->reply);
	free(t);
	return NULL;
}

/* ---- the exits ----------------------------------------------------------------------------- */

/* The request as the QGS gets it; the in-data read from the buffer. -1: no memory or an
 * unreadable buffer (said). */
static int build_task(struct quote_task *t)
{
	struct td_launch *l = t->l;
	struct qgs_get_quote_req req = { .header = { .major_version = QEMU_QGS_MAJOR_VERSION,
						     .minor_version = QEMU_QGS_MINOR_VERSION,
						     .type = QEMU_QGS_GET_QUOTE_REQ },
					 .report_size = t->hdr.in_len };
	uint32_t body = (uint32_t)sizeof(req) + t->hdr.in_len;

	req.header.size = body;
	t->msg_len = LEN_BYTES + body;
	if (!(t->msg = malloc(t->msg_len)) || !(t->reply = malloc(t->payload_len)))
		return -1;
	t->msg[0] = (uint8_t)(body >> 24), t->msg[1] = (uint8_t)(body >> 16), t->msg[2] = (uint8_t)(body >> 8);
	t->msg[3] = (uint8_t)body;
	memcpy(t->msg + LEN_BYTES, &req, sizeof(req));
	if (l->ops->shared_rw(l->ctx, t->buf_gpa + sizeof(t->hdr), t->msg + LEN_BYTES + sizeof(req), t->hdr.in_len, false)) {
		td_launch_log(l, "GetQuote: cannot read the %u bytes of in-data at %#llx", t->hdr.in_len,
			      (unsigned long long)t->buf_gpa);
		return -1;
	}
	return 0;
}

/* The QGS transaction of a checked request, whose header (in *h) says IN_FLIGHT. */
static void start_transaction(struct td_launch *l, uint64_t gpa, uint64_t len, const struct get_quote_hdr *h)
{
	struct td_quote *q = &l->quote;
	struct quote_task *t = calloc(1, sizeof(*t));
	pthread_attr_t a;
	pthread_t tid;
	bool started = false;

	if (t) {
		*t = (struct quote_task){ .l = l, .buf_gpa = gpa, .payload_len = len - sizeof(*h), .hdr = *h };
		if (!build_task(t) && !pthread_attr_init(&a)) {
			pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
			started = !pthread_create(&tid, &a, quote_thread, t);
			pthread_attr_destroy(&a);
		}
	}
	if (started)
		return;
	/* Cannot happen in QEMU (it aborts on allocation failure): end the request with ERROR
	 * rather than leave the TD waiting on IN_FLIGHT. */
	td_launch_log(l, "GetQuote: cannot start the QGS transaction");
	if (t) {
		complete(t, QEMU_GET_QUOTE_ERROR);
		free(t->msg);
		free(t->reply);
		free(t);
	}
	pthread_mutex_lock(&q->lock);
	q->in_flight--;
	pthread_cond_broadcast(&q->idle);
	pthread_mutex_unlock(&q->lock);
}

/* tdx_handle_get_quote(): check the header; without a QGS answer QGS_UNAVAILABLE in it,
 * with one mark it IN_FLIGHT and start the transaction (RETRY when 16 are in flight). The
 * TDVMCALL fails with INVALID_OPERAND on anything malformed. */
void td_quote_get_quote(struct td_launch *l, struct kvm_run *run)
{
	struct td_quote *q = &l->quote;
	uint64_t gpa = run->tdx.get_quote.gpa, len = run->tdx.get_quote.size;
	struct get_quote_hdr h;

	TD_LAUNCH_COUNT(l, get_quotes);
	run->tdx.get_quote.ret = TDVMCALL_STATUS_INVALID_OPERAND;
	if ((gpa | len) & 4095) {
		run->tdx.get_quote.ret = TDVMCALL_STATUS_ALIGN_ERROR;
		return;
	}
	if (l->ops->shared_rw(l->ctx, gpa, &h, sizeof(h), false)) {
		td_launch_log(l, "GetQuote: cannot read the buffer header at %#llx", (unsigned long long)gpa);
		return;
	}
	/* QEMU's paranoia: the TD must clear error_code and out_len (no information leak). */
	if (h.structure_version != QEMU_GET_QUOTE_STRUCTURE_VERSION || h.error_code || h.out_len ||
	    len > QEMU_GET_QUOTE_MAX_BUF_LEN || h.in_len > len - sizeof(h))
		return;
	run->tdx.get_quote.ret = TDVMCALL_STATUS_SUCCESS;
	if (q->qgs) {
		pthread_mutex_lock(&q->lock);
		if (q->in_flight >= QEMU_GET_QUOTE_MAX_REQUESTS) {
			pthread_mutex_unlock(&q->lock);
			run->tdx.get_quote.ret = TDVMCALL_STATUS_RETRY;
			return;
		}
		q->in_flight++;
		pthread_mutex_unlock(&q->lock);
	}
	h.error_code = q->qgs ? QEMU_GET_QUOTE_IN_FLIGHT : QEMU_GET_QUOTE_QGS_UNAVAILABLE;
	if (l->ops->shared_rw(l->ctx, gpa, &h, sizeof(h), true))
		td_launch_log(l, "GetQuote: cannot update the buffer header at %#llx", (unsigned long long)gpa);
	if (l->trace)
		td_launch_log(l, "GetQuote %#llx+%#llx: %u bytes in, %s", (unsigned long long)gpa, (unsigned long long)len,
			      h.in_len, q->qgs ? q->addr_text : "no quote generation service");
	if (q->qgs)
		start_transaction(l, gpa, len, &h);
}

/* tdx_handle_setup_event_notify_interrupt(): KVM checked the vector; QEMU keeps it with the
 * caller's APIC ID (x2APIC ID = vCPU index here). */
void td_quote_setup_event_notify(struct td_launch *l, unsigned vcpu, struct kvm_run *run)
{
	struct td_quote *q = &l->quote;
	uint64_t vector = run->tdx.setup_event_notify.vector;

	if (vector < 32 || vector > 255) {
		run->tdx.setup_event_notify.ret = TDVMCALL_STATUS_INVALID_OPERAND;
		return;
	}
	pthread_mutex_lock(&q->lock);
	q->event_vector = (int)vector;
	q->event_apicid = vcpu;
	pthread_mutex_unlock(&q->lock);
	run->tdx.setup_event_notify.ret = TDVMCALL_STATUS_SUCCESS;
	if (l->trace)
		td_launch_log(l, "SetupEventNotifyInterrupt: vector %#llx to APIC ID %u", (unsigned long long)vector, vcpu);
}

/* tdx_handle_get_tdvmcall_info(): leaf 1 is what KVM serves plus what both KVM lets
 * userspace serve and QEMU does. */
void td_quote_tdvmcall_info(struct td_launch *l, struct kvm_run *run)
{
	const struct td_quote *q = &l->quote;

	if (run->tdx.get_tdvmcall_info.leaf != 1)
		return;
	run->tdx.get_tdvmcall_info.r11 = (q->user_info_r11 & QEMU_TDVMCALLINFO_1_R11) | q->kernel_info_r11;
	run->tdx.get_tdvmcall_info.r12 = (q->user_info_r12 & QEMU_TDVMCALLINFO_1_R12) | q->kernel_info_r12;
	run->tdx.get_tdvmcall_info.r13 = 0;
	run->tdx.get_tdvmcall_info.r14 = 0;
	run->tdx.get_tdvmcall_info.ret = TDVMCALL_STATUS_SUCCESS;
}

/* ---- lifetime ------------------------------------------------------------------------------ */

int td_quote_init(struct td_launch *l)
{
	struct td_quote *q = &l->quote;

	q->event_vector = -1;
	if (pipe2(q->stop, O_CLOEXEC))
		return -errno;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->idle, NULL);
	q->init = true;
	return 0;
}

/* Every transaction ends (the stop pipe wakes them) before the TD's memory goes away. */
void td_quote_fini(struct td_launch *l)
{
	struct td_quote *q = &l->quote;

	if (!q->init)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	if (q->in_flight && write(q->stop[1], "x", 1) < 0)
		td_launch_log(l, "GetQuote: cannot wake the QGS transactions: %s", strerror(errno));
	while (q->in_flight)
		pthread_cond_wait(&q->idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->idle);
	close(q->stop[0]);
	close(q->stop[1]);
	q->init = false;
}
