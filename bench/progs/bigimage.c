/* bigimage.c - a program whose image at its entry point is MIB MiB larger
 * than an empty one: an initialised array in .data, which the deputy sends
 * whole (file-backed pages travel complete, docs/migration.md). Built once
 * per size with -DMIB=N by the Makefile for bench/bench.py's migration
 * section. After migration it reads a byte from every page of the array
 * (they arrived), then writes one line (a forwarded call). */
#include <stdio.h>

#ifndef MIB
#define MIB 1
#endif

static char blob[(size_t)MIB << 20] = { 1 };

int main(void)
{
	unsigned long sum = 0;
	for (size_t i = 0; i < sizeof blob; i += 4096)
		sum += (unsigned char)blob[i];
	printf("bigimage %d MiB sum %lu\n", MIB, sum);
	return sum == 1 ? 0 : 1;
}
