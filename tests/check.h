/* check.h - the smallest test harness: each test is a void function; CHECK
 * records the first failure and returns from it. Output is one line per
 * test, "PASS name" or "FAIL name: reason"; check_exit() gives the exit
 * status (0 iff everything passed). Header-only: one test program per file. */
#ifndef OM_CHECK_H
#define OM_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#ifndef CHECK_PREFIX
#define CHECK_PREFIX "" /* names the test program in every line */
#endif

static char check_reason[512];
static int check_failures;

static void __attribute__((format(printf, 1, 2)))
check_fail(const char *fmt, ...)
{
	va_list ap;

	if (check_reason[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(check_reason, sizeof check_reason, fmt, ap);
	va_end(ap);
}

#define CHECK(c) do { \
	if (!(c)) { check_fail("%s:%d: %s", __FILE__, __LINE__, #c); return; } \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long check_a = (long long)(a), check_b = (long long)(b); \
	if (check_a != check_b) { \
		check_fail("%s:%d: %s == %s (%lld != %lld)", __FILE__, __LINE__, \
		    #a, #b, check_a, check_b); \
		return; \
	} \
} while (0)

static void
check_run(const char *name, void (*fn)(void))
{
	check_reason[0] = '\0';
	fn();
	if (check_reason[0] != '\0') {
		printf("FAIL " CHECK_PREFIX "%s: %s\n", name, check_reason);
		check_failures++;
	} else
		printf("PASS " CHECK_PREFIX "%s\n", name);
	fflush(stdout);
}

#define RUN(fn) check_run(#fn, fn)

static int
check_exit(void)
{
	return check_failures == 0 ? 0 : 1;
}

/* Deterministic PRNG (xorshift64*): fuzz runs repeat exactly. */
static uint64_t check_rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t __attribute__((unused))
check_rand(void)
{
	check_rng_state ^= check_rng_state >> 12;
	check_rng_state ^= check_rng_state << 25;
	check_rng_state ^= check_rng_state >> 27;
	return check_rng_state * 0x2545f4914f6cdd1dull;
}

static void __attribute__((unused))
check_seed(uint64_t seed)
{
	check_rng_state = seed ? seed : 1;
}

#endif
