/* bigmem: 200 MiB from malloc, every page written, then summed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SIZE (200UL << 20)

int main(void)
{
	uint8_t *p = malloc(SIZE);
	uint64_t sum = 0;
	if (!p) {
		printf("malloc failed\n");
		return 1;
	}
	for (size_t i = 0; i < SIZE; i += 4096)
		p[i] = (uint8_t)(i >> 12) ^ 0x5a, p[i + 4095] = (uint8_t)(i >> 20);
	for (size_t i = 0; i < SIZE; i += 4096)
		sum = sum * 31 + p[i] + p[i + 4095] + p[i + 100];
	printf("pages=%lu checksum=%016llx\n", SIZE / 4096, (unsigned long long)sum);
	free(p);
	return 0;
}
