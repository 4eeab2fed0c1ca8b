/* crash: a NULL store without a handler (status 139 in the shell). */
#include <stdio.h>
#include <stdint.h>

int main(void)
{
	printf("about to crash\n");
	fflush(stdout);
	*(volatile int *)(uintptr_t)8 = 1;
	printf("still alive?\n");
	return 0;
}
