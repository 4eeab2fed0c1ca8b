/* holdimage.c - a running process with MIB MiB of dirty memory, for
 * bench/bench.py's moves and checkpoints sections: it fills its memory,
 * says "ready", then keeps computing over it until it is killed or SECS
 * seconds pass, writing the first DIRTY MiB again on every pass (a page
 * written is a page a checkpoint of what changed sends), and at the end
 * checks every word (a move must carry the memory whole).
 *
 *   holdimage MIB SECS [DIRTY] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t words = (argc > 1 ? (size_t)atol(argv[1]) : 16) << 20 >> 3;
	double secs = argc > 2 ? atof(argv[2]) : 60, end;
	size_t dirty = (argc > 3 ? (size_t)atol(argv[3]) : 0) << 20 >> 3;
	uint64_t *mem = malloc(words * sizeof *mem), x = 0;
	volatile uint64_t *w = mem; /* stores the compiler must make */
	if (mem == NULL || words == 0)
		return 2;
	if (dirty > words)
		dirty = words;
	for (size_t i = 0; i < words; i++)
		mem[i] = i * 0x9e3779b97f4a7c15ull;
	printf("ready\n");
	fflush(stdout);
	for (end = now() + secs; now() < end;) {
		for (size_t i = 0; i < words; i += 4096 / sizeof *mem)
			x += mem[i];
		for (size_t i = 0; i < dirty; i += 4096 / sizeof *mem)
			w[i] = i * 0x9e3779b97f4a7c15ull; /* the same value: still a write */
	}
	for (size_t i = 0; i < words; i++)
		if (mem[i] != i * 0x9e3779b97f4a7c15ull) {
			printf("word %zu wrong\n", i);
			return 1;
		}
	printf("ok %llu\n", (unsigned long long)(x & 1));
	return 0;
}
