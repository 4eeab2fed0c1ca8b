/* exitcode N: exits with status N after printing it. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0;
	printf("exiting with %d\n", n);
	return n;
}
