/* sigint [SIGNUM]: catches SIGINT (or SIGNUM: 20 for SIGTSTP, as editors
 * do), prints "ready", spins until the handler ran, prints what it got. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t got;

static void on_sig(int sig)
{
	got = sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sigaction(argc > 1 ? atoi(argv[1]) : SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	volatile unsigned long spins = 0;
	while (!got)
		spins++;
	printf("got %d\n", (int)got);
	return 0;
}
