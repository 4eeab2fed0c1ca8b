/* syscall_cost.c - microseconds per system call, for calls the node answers
 * itself (getpid; clock_gettime, whose answer a node keeps for a job it
 * checkpoints) and for calls it forwards home (fcntl F_GETFD; a 1-byte
 * write to /dev/null; a 4 KiB read from a file given as argv[2]). argv[3]:
 * seconds to sleep first (a checkpoint asked meanwhile). Run natively and
 * through om-run by bench/syscall_rtt.py and bench.py. Prints one line per
 * call: "NAME US_PER_CALL". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int null = open("/dev/null", O_WRONLY);
	int file = argc > 2 ? open(argv[2], O_RDONLY) : -1;
	char buf[4096];
	double t;
	struct timespec ts;

	if (argc > 3)
		sleep((unsigned)atoi(argv[3]));

	t = now_us();
	for (int i = 0; i < n; i++)
		syscall(SYS_getpid);
	printf("getpid %.2f\n", (now_us() - t) / n);

	t = now_us();
	for (int i = 0; i < n; i++)
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); /* not the vDSO: a native run would not trap */
	printf("clock_gettime %.2f\n", (now_us() - t) / n);

	t = now_us();
	for (int i = 0; i < n; i++)
		fcntl(1, F_GETFD);
	printf("fcntl_getfd %.2f\n", (now_us() - t) / n);

	t = now_us();
	for (int i = 0; i < n; i++)
		write(null, buf, 1);
	printf("write_1B_devnull %.2f\n", (now_us() - t) / n);

	if (file >= 0) {
		t = now_us();
		for (int i = 0; i < n; i++)
			pread(file, buf, sizeof buf, 0);
		printf("pread_4KiB %.2f\n", (now_us() - t) / n);
	}
	return 0;
}
