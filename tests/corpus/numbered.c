/* numbered: a job whose output and input can be counted. For i = 1..COUNT
 * it reads one line from stdin, which must be "in i" (read a byte at a
 * time, so that what it did not read stays in the pipe for the next
 * reader), works a while on a 4 MiB buffer (it dirties some of it each
 * time), prints "line i: in i, sum HEX" and waits until PERIOD_MS have
 * passed since the last line. Any other input: a message on stderr, exit
 * 2. Each line it also maps 64 KiB afresh where the last were and reads
 * /dev/urandom into one half of them (the other on the next line), which
 * it keeps through the wait, then reads into it again and unmaps it: a
 * page a checkpoint had that went must not come back from a checkpoint
 * of what changed (half never written not zero: exit 3). Usage: numbered
 * COUNT [PERIOD_MS]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
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

#define SCRATCH (64u << 10)

static int zero(const unsigned char *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (p[k])
			return 0;
	return 1;
}

/* n bytes of /dev/urandom at p: the kernel writes them. */
static int fill(int rnd, unsigned char *p, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(rnd, p + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Line i's mapping: the last one's unwritten half still zero, its written
 * half written again (after the checkpoint the wait may have had), then
 * gone; a fresh one there, zero, with half i % 2 written. */
static int scratch_line(unsigned char **p, int rnd, unsigned i)
{
	const size_t half = SCRATCH / 2;
	if (*p) {
		unsigned char *given = *p + ((i - 1) % 2 ? half : 0), *not_given = *p + ((i - 1) % 2 ? 0 : half);
		if (!zero(not_given, half) || fill(rnd, given, half) != 0)
			return -1;
		munmap(*p, SCRATCH);
	}
	void *m = mmap(*p, SCRATCH, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	*p = m;
	return zero(*p, SCRATCH) && fill(rnd, *p + (i % 2 ? half : 0), half) == 0 ? 0 : -1;
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
	unsigned char *scratch = NULL;
	int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
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
		if (scratch_line(&scratch, rnd, i) != 0) {
			fprintf(stderr, "numbered: line %u: fresh memory is not zero, or /dev/urandom failed\n", i);
			return 3;
		}
		printf("line %u: %s, sum %016llx\n", i, line, (unsigned long long)sum);
		fflush(stdout);
		wait_until(&next, period);
	}
	return 0;
}
