/* burn ID [MILLIONS]: computes for a fixed amount of work (MILLIONS
 * million rounds of a 64-bit mix, default 200) and prints "ID: HASH". The
 * same arguments give the same line wherever it runs: the CPU-bound
 * process of a tree that should spread over the nodes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *id = argc > 1 ? argv[1] : "burn";
	long rounds = (argc > 2 ? atol(argv[2]) : 200) * 1000000L;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (const char *c = id; *c; c++)
		x = (x ^ (uint8_t)*c) * 0x100000001b3ULL;
	for (long i = 0; i < rounds; i++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		x += (uint64_t)i;
	}
	printf("%s: %016llx\n", id, (unsigned long long)x);
	return 0;
}
