/* sigread: a SIGINT handler without SA_RESTART, then read(0) on a pipe that
 * stays open and empty: the signal must end the read with EINTR ("r": with
 * SA_RESTART, the handler runs at once and the read goes on). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_int(int sig)
{
	got = sig;
	write(1, "handler\n", 8);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	char buf[64];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sa.sa_flags = argc > 1 ? SA_RESTART : 0;
	sigaction(SIGINT, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	ssize_t n = read(0, buf, sizeof buf);
	int e = errno;
	printf("read %zd (%s) got %d\n", n, n < 0 ? strerror(e) : "ok", (int)got);
	return 0;
}
