/* Console: a printf subset on COM1, one TDVMCALL<Instruction.IO> per byte. A lock keeps the
 * lines of different vCPUs apart; it is recursive per vCPU so that a #VE or exception
 * handler can print while its vCPU was in the middle of a line. */
#include "td.h"

#define COM1_THR 0x3F8 /* PC COM1 transmit register; QEMU's -serial */

const char *td_log_prefix = "td";
extern uint8_t td_stacks[];

unsigned td_this_vcpu(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	return (unsigned)((sp - (uintptr_t)td_stacks) / TD_STACK_SIZE);
}

static volatile uint32_t lock_owner = ~0u;
static uint32_t lock_depth;

static void lock(void)
{
	uint32_t me = td_this_vcpu();

	if (__atomic_load_n(&lock_owner, __ATOMIC_ACQUIRE) == me) {
		lock_depth++;
		return;
	}
	for (;;) {
		uint32_t free_ = ~0u;
		if (__atomic_compare_exchange_n(&lock_owner, &free_, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		td_pause();
	}
	lock_depth = 1;
}

static void unlock(void)
{
	if (--lock_depth == 0)
		__atomic_store_n(&lock_owner, ~0u, __ATOMIC_RELEASE);
}

/* Where formatted characters go: the serial port, or a buffer. */
struct sink {
	char *buf;
	size_t len, pos;
};

static void put(struct sink *s, char c)
{
	if (!s->buf) {
		td_io_out(COM1_THR, 1, (uint8_t)c);
		return;
	}
	if (s->pos + 1 < s->len)
		s->buf[s->pos] = c;
	s->pos++;
}

static void put_num(struct sink *s, uint64_t v, unsigned base, bool neg, unsigned width, char pad, bool alt)
{
	char tmp[24];
	unsigned n = 0, len;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	len = n + neg + (alt ? 2 : 0);
	if (pad == ' ')
		for (; width > len; width--)
			put(s, ' ');
	if (neg)
		put(s, '-');
	if (alt)
		put(s, '0'), put(s, 'x');
	for (; width > len; width--)
		put(s, '0');
	while (n)
		put(s, tmp[--n]);
}

/* %[#][0][width][l|ll|z](d|u|x|p|s|c) and %%. */
static void format(struct sink *s, const char *f, va_list ap)
{
	for (; *f; f++) {
		bool alt = false, is_long = false;
		unsigned width = 0;
		char pad = ' ';
		uint64_t v;

		if (*f != '%') {
			put(s, *f);
			continue;
		}
		if (*++f == '#')
			alt = true, f++;
		if (*f == '0')
			pad = '0', f++;
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (unsigned)(*f++ - '0');
		while (*f == 'l' || *f == 'z')
			is_long = true, f++;
		switch (*f) {
		case 'd': {
			int64_t x = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(s, x < 0 ? -(uint64_t)x : (uint64_t)x, 10, x < 0, width, pad, false);
			break;
		}
		case 'u':
		case 'x':
			v = is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_num(s, v, *f == 'u' ? 10 : 16, false, width, pad, alt);
			break;
		case 'p':
			put_num(s, (uintptr_t)va_arg(ap, void *), 16, false, width, pad, true);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t n = strlen(str ? str : "(null)");
			for (; width > n; width--)
				put(s, ' ');
			for (str = str ? str : "(null)"; *str; str++)
				put(s, *str);
			break;
		}
		case 'c':
			put(s, (char)va_arg(ap, int));
			break;
		case '%':
			put(s, '%');
			break;
		default: /* unknown conversion: show it rather than guess */
			put(s, '%');
			if (!*f)
				return;
			put(s, *f);
		}
	}
}

void td_vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0 };

	lock();
	format(&s, fmt, ap);
	unlock();
}

void td_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	td_vprintf(fmt, ap);
	va_end(ap);
}

int td_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct sink s = { buf, len, 0 };

	format(&s, fmt, ap);
	if (len)
		buf[s.pos < len ? s.pos : len - 1] = '\0';
	return (int)s.pos;
}

void td_print_hex(const void *p, size_t n)
{
	const uint8_t *b = p;

	lock();
	for (size_t i = 0; i < n; i++)
		td_printf("%02x", b[i]);
	unlock();
}
