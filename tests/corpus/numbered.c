/* numbered: a job whose output and input can be counted. For i = 1..COUNT
 * it reads one line from stdin, which must be "in i" (read a byte at a
 * time, so that what it did not read stays in the pipe for the next
 * reader), works a while on a 4 MiB buffer (it dirties some of it each
 * time), prints "line i: in i, sum HEX" and waits until PERIOD_MS have
 * passed since the last line. Any other input: a message on stderr, exit
 * 2. Usage: numbered COUNT [PERIOD_MS]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF_WORDS (4u << 20) / 8

static uint64_t buf[BUF_WORDS];

/* One line from fd 0 without reading past it; 0 at end of input. */
static int read_line(char *line, size_t cap)
{
	size_t n = 0;
	for (;;) {
		char c;
		ssize_t got = read(0, &c, 1);
		if (got <= 0)
			return n > 0 ? -1 : 0;
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			return -1;
		line[n++] = c;
	}
	line[n] = '\0';
	return 1;
}

static uint64_t work(uint64_t seed, unsigned i)
{
	uint64_t h = seed;
	for (unsigned round = 0; round < 4; round++)
		for (size_t k = 0; k < BUF_WORDS; k += 7) {
			h = (h ^ buf[k]) * 0x100000001b3ull;
			if ((k & 0xfff) == (i & 0xfff) * 7 % 0x1000)
				buf[k] += h; /* a few pages dirtied each time */
		}
	return h;
}

static void wait_until(struct timespec *next, long period_ms)
{
	next->tv_nsec += (period_ms % 1000) * 1000000;
	next->tv_sec += period_ms / 1000 + next->tv_nsec / 1000000000;
	next->tv_nsec %= 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) != 0)
		;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: numbered COUNT [PERIOD_MS]\n");
		return 2;
	}
	unsigned count = (unsigned)strtoul(argv[1], NULL, 10);
	long period = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
	for (size_t k = 0; k < BUF_WORDS; k++)
		buf[k] = k * 0x9e3779b97f4a7c15ull;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	uint64_t sum = 1469598103934665603ull;
	for (unsigned i = 1; i <= count; i++) {
		char line[64], want[32];
		int rc = read_line(line, sizeof line);
		snprintf(want, sizeof want, "in %u", i);
		if (rc != 1 || strcmp(line, want) != 0) {
			fprintf(stderr, "numbered: expected '%s', got %s'%s'\n", want, rc == 1 ? "" : "(end or too long) ",
				rc == 1 ? line : "");
			return 2;
		}
		sum = work(sum, i);
		printf("line %u: %s, sum %016llx\n", i, line, (unsigned long long)sum);
		fflush(stdout);
		wait_until(&next, period);
	}
	return 0;
}
