/* membw.c - memory bandwidth by working-set size: for each size from MIN
 * to MAX bytes (x4 steps, and MAX itself), sums a buffer of that size as
 * 64-bit words, pass after pass, until TOTAL bytes have been read, and
 * prints "bw_SIZE MB_PER_S" (10^6 bytes/s). Small sizes stay in the
 * caches, large ones go to memory (and, under TCG, through QEMU's software
 * TLB). The buffer is written once before it is timed, so every page is
 * present. Last line "kernel_s SECONDS": all timed passes together.
 *
 *   membw [MIN MAX TOTAL]   defaults 32K 256M 256M; K/M/G suffixes */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_clock.h"

static size_t parse_size(const char *s)
{
	char *end;
	size_t v = strtoull(s, &end, 10);
	switch (*end) {
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; break;
	}
	return v;
}

static void name_size(size_t n, char *out, size_t cap)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, cap, "%zuM", n >> 20);
	else
		snprintf(out, cap, "%zuK", n >> 10);
}

/* volatile: the sum must be computed, never folded away. */
static volatile uint64_t sink;

int main(int argc, char **argv)
{
	size_t min = argc > 1 ? parse_size(argv[1]) : 32u << 10;
	size_t max = argc > 2 ? parse_size(argv[2]) : 256u << 20;
	size_t total = argc > 3 ? parse_size(argv[3]) : 256u << 20;
	double all = 0;

	if (min < 4096 || max < min || total < 1) {
		fprintf(stderr, "usage: membw [MIN>=4K MAX>=MIN TOTAL]\n");
		return 2;
	}
	uint64_t *buf = malloc(max);
	if (buf == NULL) {
		fprintf(stderr, "membw: cannot allocate %zu bytes\n", max);
		return 1;
	}
	memset(buf, 1, max);
	for (size_t size = min; ; size = size * 4 > max && size < max ? max : size * 4) {
		size_t words = size / 8, passes = total / size ? total / size : 1;
		uint64_t s = 0;
		char name[32];
		double t0 = bench_now();
		for (size_t p = 0; p < passes; p++)
			for (size_t i = 0; i < words; i += 4)
				s += buf[i] + buf[i + 1] + buf[i + 2] + buf[i + 3];
		double t = bench_now() - t0;
		sink = s;
		all += t;
		name_size(size, name, sizeof name);
		printf("bw_%s %.1f\n", name, (double)size * (double)passes / t / 1e6);
		if (size >= max)
			break;
	}
	printf("kernel_s %.4f\n", all);
	return 0;
}
