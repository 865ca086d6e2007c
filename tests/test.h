/* A small test harness: TEST() registers a function, CHECK*() record failures and go on,
 * REQUIRE*() stop the test. The runner prints "N passed, N failed". */
#ifndef TEST_H
#define TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};

void test_register(struct test_case *t);
extern int test_failures_in_current;
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                      \
	static void test_##name(void);                                                  \
	static struct test_case tc_##name = { #name, test_##name, NULL };               \
	__attribute__((constructor)) static void reg_##name(void) { test_register(&tc_##name); } \
	static void test_##name(void)

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
	} while (0)

#define REQUIRE(cond)                                                            \
	do {                                                                     \
		if (!(cond)) {                                                   \
			test_fail(__FILE__, __LINE__, "REQUIRE(%s) failed", #cond); \
			return;                                                  \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                                                  \
	do {                                                                                            \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                        \
		if (a_ != b_)                                                                           \
			test_fail(__FILE__, __LINE__, "%s == %s: 0x%016" PRIx64 " != 0x%016" PRIx64, #a, #b, a_, b_); \
	} while (0)

#define REQUIRE_EQ(a, b)                                                                                \
	do {                                                                                            \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                        \
		if (a_ != b_) {                                                                         \
			test_fail(__FILE__, __LINE__, "%s == %s: 0x%016" PRIx64 " != 0x%016" PRIx64, #a, #b, a_, b_); \
			return;                                                                         \
		}                                                                                       \
	} while (0)

#endif
