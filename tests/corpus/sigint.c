/* sigint: prints "ready", spins until a SIGINT handler ran, prints what it got. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_int(int sig)
{
	got = sig;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	volatile unsigned long spins = 0;
	while (!got)
		spins++;
	printf("got %d\n", (int)got);
	return 0;
}
