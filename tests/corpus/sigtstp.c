/* sigtstp: catches SIGTSTP (as editors do), prints "ready", spins until the
 * handler ran, prints what it got: Ctrl-Z must not stop it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t got;

static void on_tstp(int sig)
{
	got = sig;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_tstp;
	sigaction(SIGTSTP, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	volatile unsigned long spins = 0;
	while (!got)
		spins++;
	printf("got %d\n", (int)got);
	return 0;
}
