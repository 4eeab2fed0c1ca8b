/* omp_sum: an OpenMP loop (gcc -fopenmp, libgomp) with four threads and
 * a reduction; prints the same line wherever it runs. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	uint64_t sum = 0;
	int threads = 0;
#pragma omp parallel for num_threads(4) reduction(+ : sum) schedule(static, 1000)
	for (long i = 0; i < 20000000; i++) {
		uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		x ^= x >> 29;
		sum += x & 0xffff;
		if (i == 0)
			threads = omp_get_num_threads();
	}
	printf("omp: %d threads, sum %llu\n", threads, (unsigned long long)sum);
	return 0;
}
