/* clock_sleep: 200 ms with nanosleep and with usleep, measured with
 * CLOCK_MONOTONIC; prints only whether each took >= 200 ms and < 5 s. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void verdict(const char *what, long long d)
{
	printf("%s: >=200ms %d <5s %d\n", what, d >= 200000000LL, d < 5000000000LL);
}

int main(void)
{
	struct timespec req = { 0, 200000000 }, rt;
	struct timeval tv;
	long long t0 = ns(CLOCK_MONOTONIC);
	printf("nanosleep rc=%d\n", nanosleep(&req, NULL));
	long long t1 = ns(CLOCK_MONOTONIC);
	verdict("nanosleep", t1 - t0);
	printf("usleep rc=%d\n", usleep(200000));
	long long t2 = ns(CLOCK_MONOTONIC);
	verdict("usleep", t2 - t1);
	clock_gettime(CLOCK_REALTIME, &rt);
	gettimeofday(&tv, NULL);
	printf("realtime after 2020: %d\n", rt.tv_sec > 1577836800);
	printf("gettimeofday close to realtime: %d\n", tv.tv_sec - rt.tv_sec >= 0 && tv.tv_sec - rt.tv_sec < 5);
	long long b = ns(CLOCK_BOOTTIME), m = ns(CLOCK_MONOTONIC);
	printf("boottime >= monotonic-1s: %d\n", b >= m - 1000000000LL);
	printf("time() close: %d\n", time(NULL) - rt.tv_sec < 5);
	return 0;
}
