/* hello.c - a small program whose output depends on its arguments,
 * environment, signal state, memory and computation; om-checkpoint's tests
 * compare it byte for byte with a native run. Exits with status 3. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned long long
primes(unsigned n)
{
	unsigned long long sum = 0;
	unsigned i, j;

	for (i = 2; i < n; i++) {
		for (j = 2; j * j <= i && i % j != 0; j++)
			;
		if (j * j > i)
			sum += i;
	}
	return sum;
}

int
main(int argc, char **argv)
{
	size_t mb = 6, i;
	unsigned char *p;
	unsigned long long sum = 0;
	struct sigaction sa;
	sigset_t blocked;
	struct timespec ts;
	mode_t um;
	int s;

	for (s = 0; s < argc; s++)
		printf("argv[%d] = %s\n", s, argv[s]);
	printf("OM_TEST_VAR = %s\n", getenv("OM_TEST_VAR") ? getenv("OM_TEST_VAR") : "(unset)");
	printf("primes below 200000: %llu\n", primes(200000));
	/* touch a few MiB of heap */
	if ((p = malloc(mb << 20)) == NULL)
		return 1;
	for (i = 0; i < mb << 20; i++)
		p[i] = (unsigned char)(i * 131 + (i >> 12));
	for (i = 0; i < mb << 20; i += 7)
		sum += p[i];
	printf("heap checksum: %llu\n", sum);
	free(p);
	printf("ignored:");
	for (s = 1; s < 32; s++)
		if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			printf(" %d", s);
	sigprocmask(SIG_BLOCK, NULL, &blocked);
	printf("\nblocked:");
	for (s = 1; s < 32; s++)
		if (sigismember(&blocked, s))
			printf(" %d", s);
	um = umask(0);
	printf("\numask: %03o\n", (unsigned)um);
	printf("pid positive: %d\n", getpid() > 0);
	printf("clock works: %d\n", clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec >= 0);
	printf("time works: %d\n", time(NULL) > 1600000000);
	fflush(stdout);
	return 3;
}
