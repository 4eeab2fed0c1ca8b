/* divzero: an integer division by zero (SIGFPE, status 136 in the shell). */
#include <stdio.h>

static volatile int zero;

int main(void)
{
	printf("about to divide by zero\n");
	fflush(stdout);
	printf("%d\n", 7 / zero);
	return 0;
}
