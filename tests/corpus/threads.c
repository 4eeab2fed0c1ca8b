/* threads MODE: POSIX threads as programs use them, each mode printing
 * the same lines wherever it runs:
 *   sum       4 workers add up parts of a series under a mutex; the main
 *             thread waits on a condition variable for all of them
 *   pool      a pool of 3 workers takes 24 tasks from a queue
 *   pipe      one thread blocks reading a pipe while others compute; the
 *             main thread writes to the pipe when they are done
 *   signal    a signal sent to one thread (pthread_kill) runs its handler
 *             in that thread
 *   exit      a worker ends (pthread_exit) while others wait on a
 *             condition variable; then the main thread ends first, and
 *             the last worker's exit ends the process with status 0
 *   die       a worker dies of SIGSEGV, which ends the whole process
 *   churn N   makes and joins N threads one after another (more than a
 *             process may have at once at home)
 *   spawn     a thread blocks reading a pipe while the main thread runs a
 *             shell (posix_spawn: vfork), then writes to the pipe
 *   block     says "ready"; a thread blocks reading stdin, the main thread
 *             joins it (until killed, or stdin ends)
 *   blockmain says "ready"; the main thread blocks reading stdin while a
 *             thread waits on a condition variable
 *   long M    says "ready", then 3 workers compute M million rounds each
 *             in steps, counting them under a mutex, while the main
 *             thread waits on a condition variable (long enough to be
 *             moved while it runs) */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static uint64_t mix(uint64_t x, long rounds)
{
	for (long i = 0; i < rounds; i++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		x += (uint64_t)i;
	}
	return x;
}

static void say_ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

static void start(pthread_t *t, void *(*fn)(void *), long arg)
{
	int rc = pthread_create(t, NULL, fn, (void *)arg);
	if (rc != 0) {
		fprintf(stderr, "pthread_create: %s\n", strerror(rc));
		exit(2);
	}
}

/* ---- sum */
static uint64_t total;
static int done;

static void *sum_part(void *arg)
{
	long k = (long)arg;
	uint64_t part = mix((uint64_t)k, 3000000);
	pthread_mutex_lock(&lock);
	total += part;
	done++;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	return (void *)(k * 10);
}

static int mode_sum(void)
{
	pthread_t t[4];
	long back = 0;
	for (long k = 0; k < 4; k++)
		start(&t[k], sum_part, k + 1);
	pthread_mutex_lock(&lock);
	while (done < 4)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	for (int k = 0; k < 4; k++) {
		void *ret;
		pthread_join(t[k], &ret);
		back += (long)ret;
	}
	printf("sum of 4 parts: %016llx, joined %ld\n", (unsigned long long)total, back);
	return 0;
}

/* ---- pool */
#define TASKS 24
static int next_task;
static uint64_t results[TASKS];

static void *pool_worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		int task = next_task < TASKS ? next_task++ : -1;
		pthread_mutex_unlock(&lock);
		if (task < 0)
			return NULL;
		results[task] = mix((uint64_t)task, 200000);
	}
}

static int mode_pool(void)
{
	pthread_t t[3];
	uint64_t x = 0;
	for (long k = 0; k < 3; k++)
		start(&t[k], pool_worker, k);
	for (int k = 0; k < 3; k++)
		pthread_join(t[k], NULL);
	for (int k = 0; k < TASKS; k++)
		x = x * 31 + results[k];
	printf("pool: %d tasks, %016llx\n", TASKS, (unsigned long long)x);
	return 0;
}

/* ---- pipe */
static int pfd[2];

static void *pipe_reader(void *arg)
{
	char buf[64];
	ssize_t n = read(pfd[0], buf, sizeof buf - 1);
	(void)arg;
	buf[n > 0 ? n : 0] = '\0';
	printf("reader got %zd bytes: %s\n", n, buf);
	fflush(stdout);
	return NULL;
}

static void *pipe_burner(void *arg)
{
	return (void *)(uintptr_t)(mix((uint64_t)(long)arg, 2000000) & 0xff);
}

static int mode_pipe(void)
{
	pthread_t r, b[2];
	long sum = 0;
	if (pipe(pfd) != 0)
		return 2;
	start(&r, pipe_reader, 0);
	for (long k = 0; k < 2; k++)
		start(&b[k], pipe_burner, k);
	for (int k = 0; k < 2; k++) {
		void *ret;
		pthread_join(b[k], &ret);
		sum += (long)(uintptr_t)ret;
	}
	printf("burners done: %ld\n", sum);
	fflush(stdout);
	if (write(pfd[1], "after the burners", 17) != 17)
		return 2;
	pthread_join(r, NULL);
	return 0;
}

/* ---- signal */
static volatile pid_t handled_in;

static void on_usr1(int sig)
{
	(void)sig;
	handled_in = (pid_t)syscall(SYS_gettid);
}

static volatile pid_t worker_tid;
static volatile int stop;

static void *sig_worker(void *arg)
{
	(void)arg;
	worker_tid = (pid_t)syscall(SYS_gettid);
	while (!stop && !handled_in)
		;
	return NULL;
}

static int mode_signal(void)
{
	pthread_t t;
	signal(SIGUSR1, on_usr1);
	start(&t, sig_worker, 0);
	while (!worker_tid)
		;
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	printf("handled in the worker: %d, not in main: %d\n", handled_in == worker_tid,
	       handled_in != (pid_t)getpid());
	return 0;
}

/* ---- exit */
static int released;

static void *waiter(void *arg)
{
	pthread_mutex_lock(&lock);
	while (!released)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return arg;
}

static void release_waiters(void)
{
	pthread_mutex_lock(&lock);
	released = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void *quitter(void *arg)
{
	pthread_exit(arg);
}

static void *last_one(void *arg)
{
	void *ret;
	pthread_join(*(pthread_t *)arg, &ret); /* the main thread's ending does not end this one */
	printf("last thread: main is gone, exiting\n");
	fflush(stdout);
	pthread_exit(NULL);
}

static int mode_exit(void)
{
	pthread_t w[2], q, last;
	void *ret;
	static pthread_t q2;
	for (long k = 0; k < 2; k++)
		start(&w[k], waiter, k + 5);
	start(&q, quitter, 7);
	pthread_join(q, &ret);
	printf("quitter ended with %ld while 2 wait\n", (long)ret);
	release_waiters();
	for (int k = 0; k < 2; k++) {
		pthread_join(w[k], &ret);
		printf("waiter %d returned %ld\n", k, (long)ret);
	}
	start(&q2, waiter, 9);
	start(&last, last_one, (long)&q2);
	fflush(stdout);
	pthread_exit(NULL);
}

/* ---- long */
static long step_rounds, steps_done;
static uint64_t parts[3];

static void *long_worker(void *arg)
{
	long k = (long)arg;
	uint64_t x = (uint64_t)k;
	for (int s = 0; s < 100; s++) {
		x = mix(x, step_rounds);
		pthread_mutex_lock(&lock);
		steps_done++;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&lock);
	}
	parts[k] = x;
	return NULL;
}

static int mode_long(long millions)
{
	pthread_t t[3];
	step_rounds = millions * 10000;
	say_ready();
	for (long k = 0; k < 3; k++)
		start(&t[k], long_worker, k);
	pthread_mutex_lock(&lock);
	while (steps_done < 300)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	for (int k = 0; k < 3; k++)
		pthread_join(t[k], NULL);
	printf("3 workers, %ld steps: %016llx %016llx %016llx\n", steps_done, (unsigned long long)parts[0],
	       (unsigned long long)parts[1], (unsigned long long)parts[2]);
	return 0;
}

/* ---- churn, spawn, block */
static void *nothing(void *arg)
{
	return arg;
}

static int mode_churn(long n)
{
	long sum = 0;
	for (long i = 0; i < n; i++) {
		pthread_t t;
		void *ret;
		start(&t, nothing, i);
		pthread_join(t, &ret);
		sum += (long)ret;
	}
	printf("%ld threads made and joined, sum %ld\n", n, sum);
	return 0;
}

static int mode_spawn(void)
{
	pthread_t r;
	if (pipe(pfd) != 0)
		return 2;
	start(&r, pipe_reader, 0);
	fflush(stdout);
	int rc = system("echo from a shell");
	printf("shell said %d%s%s\n", rc, rc == -1 ? ": " : "", rc == -1 ? strerror(errno) : "");
	fflush(stdout);
	if (write(pfd[1], "after the shell", 15) != 15)
		return 2;
	pthread_join(r, NULL);
	return 0;
}

static void *stdin_reader(void *arg)
{
	char buf[64];
	ssize_t n = read(0, buf, sizeof buf);
	(void)arg;
	printf("stdin gave %zd bytes\n", n);
	return NULL;
}

static int mode_blockmain(void)
{
	pthread_t w;
	say_ready();
	start(&w, waiter, 3);
	stdin_reader(NULL);
	release_waiters();
	pthread_join(w, NULL);
	return 0;
}

static int mode_block(void)
{
	pthread_t r;
	say_ready();
	start(&r, stdin_reader, 0);
	pthread_join(r, NULL);
	return 0;
}

/* ---- die */
static void *crasher(void *arg)
{
	(void)arg;
	*(volatile int *)8 = 1;
	return NULL;
}

static int mode_die(void)
{
	pthread_t t;
	printf("a worker will crash\n");
	fflush(stdout);
	start(&t, crasher, 0);
	pthread_join(t, NULL);
	printf("not reached\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "sum"))
		return mode_sum();
	if (!strcmp(m, "pool"))
		return mode_pool();
	if (!strcmp(m, "pipe"))
		return mode_pipe();
	if (!strcmp(m, "signal"))
		return mode_signal();
	if (!strcmp(m, "exit"))
		return mode_exit();
	if (!strcmp(m, "die"))
		return mode_die();
	if (!strcmp(m, "long") && argc > 2)
		return mode_long(atol(argv[2]));
	if (!strcmp(m, "churn") && argc > 2)
		return mode_churn(atol(argv[2]));
	if (!strcmp(m, "spawn"))
		return mode_spawn();
	if (!strcmp(m, "block"))
		return mode_block();
	if (!strcmp(m, "blockmain"))
		return mode_blockmain();
	fprintf(stderr, "usage: threads sum|pool|pipe|signal|exit|die|spawn|block|blockmain|churn N|long MILLIONS\n");
	return 2;
}
