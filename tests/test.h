/*
 * test.h: the whole test harness.  Each tests/test_<module>.c defines
 * void functions that CHECK conditions, lists them in a table and calls
 * test_main().  A case stops at its first failed CHECK.  Arguments on the
 * command line select cases by name (substring match); the run ends with
 * "N passed, M failed" and exits 1 if any case failed.
 *
 * A case that waits on the clock (a deadline for progress, an upper bound
 * on how long something took) gives its milliseconds through TEST_MS(),
 * which multiplies them by the environment variable TSINO_TEST_SLOW (a
 * number > 0, default 1; `make asan` sets 3), as tests/scen.py does for
 * the scenarios.  Lower bounds and the timers under test stay as they are.
 */
#ifndef TS_TEST_H
#define TS_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

static int test_failed;

static void
test_fail(const char *file, int line, const char *what)
{
	if (!test_failed)
		printf("\n");
	printf("    %s:%d: %s\n", file, line, what);
	test_failed = 1;
}

/* Fail and leave the case: the rest of it would test nothing useful. */
#define CHECK(cond) do { \
	if (!(cond)) { test_fail(__FILE__, __LINE__, #cond); return; } \
} while (0)

/* Like CHECK for two integers, printing both values. */
#define CHECK_INT(a, b) do { \
	long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
	if (check_a_ != check_b_) { \
		char check_m_[256]; \
		snprintf(check_m_, sizeof(check_m_), "%s == %s (%lld != %lld)", \
		    #a, #b, check_a_, check_b_); \
		test_fail(__FILE__, __LINE__, check_m_); return; \
	} \
} while (0)

/* Two NUL-terminated strings equal, printing both. */
#define CHECK_STR(a, b) do { \
	const char *check_a_ = (a), *check_b_ = (b); \
	if (check_a_ == NULL || check_b_ == NULL || \
	    strcmp(check_a_, check_b_) != 0) { \
		char check_m_[1024]; \
		snprintf(check_m_, sizeof(check_m_), "%s == %s (\"%.200s\" != \"%.200s\")", \
		    #a, #b, check_a_ ? check_a_ : "(null)", \
		    check_b_ ? check_b_ : "(null)"); \
		test_fail(__FILE__, __LINE__, check_m_); return; \
	} \
} while (0)

/* A byte range (pointer, length) equal to a NUL-terminated string. */
#define CHECK_MEM(p, n, s) do { \
	const char *check_s_ = (s); size_t check_n_ = (n); \
	if (check_n_ != strlen(check_s_) || \
	    memcmp((p), check_s_, check_n_) != 0) { \
		char check_m_[1024]; \
		snprintf(check_m_, sizeof(check_m_), "%s == %s (\"%.*s\" != \"%.200s\")", \
		    #p, #s, (int)(check_n_ > 200 ? 200 : check_n_), \
		    (const char *)(p), check_s_); \
		test_fail(__FILE__, __LINE__, check_m_); return; \
	} \
} while (0)

#define TEST(fn) { #fn, fn }

/* TSINO_TEST_SLOW, read once; a value that is not a number > 0 exits 2. */
static double
test_slow(void)
{
	static double slow;
	const char *s;
	char *end;

	if (slow > 0)
		return slow;
	s = getenv("TSINO_TEST_SLOW");
	if (s == NULL || *s == '\0')
		s = "1";
	slow = strtod(s, &end);
	if (*end != '\0' || !(slow > 0 && slow < 1000)) {
		printf("TSINO_TEST_SLOW=\"%s\": want a number above 0\n", s);
		exit(2);
	}
	return slow;
}

/* ms milliseconds of waiting, scaled by TSINO_TEST_SLOW. */
#define TEST_MS(ms) ((long long)((ms) * test_slow()))

static int
test_selected(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]) != NULL)
			return 1;
	return 0;
}

static int
test_main(int argc, char **argv, const struct test_case *cases, size_t n)
{
	size_t i;
	int passed = 0, failed = 0;

	test_slow();
	for (i = 0; i < n; i++) {
		if (!test_selected(argc, argv, cases[i].name))
			continue;
		test_failed = 0;
		printf("  %s ...", cases[i].name);
		fflush(stdout);
		cases[i].fn();
		if (test_failed) {
			printf("  FAIL %s\n", cases[i].name);
			failed++;
		} else {
			printf(" ok\n");
			passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif /* TS_TEST_H */
