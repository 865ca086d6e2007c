/* Runs every registered test (or those whose name contains argv[1]). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"

static struct test_case *head, **tail = &head;
int test_failures_in_current;
static const char *current;

void test_register(struct test_case *t)
{
	*tail = t;
	tail = &t->next;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  FAIL %s (%s:%d): ", current, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures_in_current++;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;

	for (struct test_case *t = head; t; t = t->next) {
		struct timespec a, b;
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		current = t->name;
		test_failures_in_current = 0;
		clock_gettime(CLOCK_MONOTONIC, &a);
		t->fn();
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %s (%.0f ms)\n", test_failures_in_current ? "FAIL" : "ok  ", t->name,
		       (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
		if (test_failures_in_current)
			failed++;
		else
			passed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed || !(passed + failed) ? 1 : 0;
}
