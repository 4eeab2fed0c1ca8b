/* ev.c - event loop on epoll (see ev.h). */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"

#define EV_BATCH 64

struct ev_file {
	int mask;  /* EV_READ|EV_WRITE watched, 0 when unused */
	ev_fd_fn *fn;
	void *arg;
};

struct ev_timer {
	long long id;
	uint64_t when;  /* ev_now_ms() deadline */
	int due;        /* selected to run in the current pass */
	ev_timer_fn *fn;
	void *arg;
	struct ev_timer *next;
};

struct ev_loop {
	int epfd;
	int maxfds;
	struct ev_file *files;  /* indexed by fd */
	struct ev_timer *timers;  /* unsorted: there are only a handful */
	long long next_id;
	int stop;
	void (*turn_end)(struct ev_loop *ev, void *arg);
	void *turn_end_arg;
};

uint64_t
ev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct ev_loop *
ev_create(int maxfds)
{
	struct ev_loop *ev;

	if ((ev = calloc(1, sizeof *ev)) == NULL)
		return NULL;
	if ((ev->files = calloc((size_t)maxfds, sizeof *ev->files)) == NULL)
		goto fail_files;
	if ((ev->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto fail_epoll;
	ev->maxfds = maxfds;
	ev->next_id = 1;
	return ev;

fail_epoll:
	free(ev->files);
fail_files:
	free(ev);
	return NULL;
}

void
ev_free(struct ev_loop *ev)
{
	struct ev_timer *t, *next;

	if (ev == NULL)
		return;
	for (t = ev->timers; t != NULL; t = next) {
		next = t->next;
		free(t);
	}
	close(ev->epfd);
	free(ev->files);
	free(ev);
}

static uint32_t
ev_epoll_mask(int mask)
{
	return (mask & EV_READ ? EPOLLIN : 0) | (mask & EV_WRITE ? EPOLLOUT : 0);
}

int
ev_add(struct ev_loop *ev, int fd, int mask, ev_fd_fn *fn, void *arg)
{
	struct epoll_event ee = { 0 };
	struct ev_file *f;
	int op;

	if (fd < 0 || fd >= ev->maxfds) {
		errno = ERANGE;
		return -1;
	}
	f = &ev->files[fd];
	op = f->mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	ee.events = ev_epoll_mask(f->mask | mask);
	ee.data.fd = fd;
	if (epoll_ctl(ev->epfd, op, fd, &ee) == -1)
		return -1;
	f->mask |= mask;
	f->fn = fn;
	f->arg = arg;
	return 0;
}

void
ev_del(struct ev_loop *ev, int fd, int mask)
{
	struct epoll_event ee = { 0 };
	struct ev_file *f;

	if (fd < 0 || fd >= ev->maxfds || ev->files[fd].mask == 0)
		return;
	f = &ev->files[fd];
	f->mask &= ~mask;
	ee.events = ev_epoll_mask(f->mask);
	ee.data.fd = fd;
	/* Failure here means the fd is already gone from the set; the table
	 * entry is what decides delivery, so it is safe to ignore. */
	(void)epoll_ctl(ev->epfd, f->mask ? EPOLL_CTL_MOD : EPOLL_CTL_DEL, fd, &ee);
	if (f->mask == 0)
		f->fn = NULL, f->arg = NULL;
}

long long
ev_timer_add(struct ev_loop *ev, long ms, ev_timer_fn *fn, void *arg)
{
	struct ev_timer *t;

	if ((t = malloc(sizeof *t)) == NULL)
		return -1;
	t->id = ev->next_id++;
	t->when = ev_now_ms() + (uint64_t)(ms < 0 ? 0 : ms);
	t->fn = fn;
	t->arg = arg;
	t->due = 0;
	t->next = ev->timers;
	ev->timers = t;
	return t->id;
}

void
ev_timer_del(struct ev_loop *ev, long long id)
{
	struct ev_timer **tp, *t;

	for (tp = &ev->timers; (t = *tp) != NULL; tp = &t->next) {
		if (t->id == id) {
			*tp = t->next;
			free(t);
			return;
		}
	}
}

/* Milliseconds until the earliest timer, -1 when there is none. */
static int
ev_timeout(struct ev_loop *ev)
{
	uint64_t now = ev_now_ms(), first = UINT64_MAX;
	struct ev_timer *t;

	for (t = ev->timers; t != NULL; t = t->next)
		if (t->when < first)
			first = t->when;
	if (first == UINT64_MAX)
		return -1;
	if (first <= now)
		return 0;
	return first - now > 60000 ? 60000 : (int)(first - now);
}

/* Runs every timer that is due now, once. Due timers are marked first, so
 * a timer added or rescheduled by a callback waits for the next pass. A
 * callback may add or delete any timer, so the list is rescanned from the
 * head after each call instead of holding a pointer across it. */
static void
ev_run_timers(struct ev_loop *ev)
{
	uint64_t now = ev_now_ms();
	struct ev_timer *t;
	long long id;
	long next;

	for (t = ev->timers; t != NULL; t = t->next)
		t->due = t->when <= now;
	for (;;) {
		for (t = ev->timers; t != NULL && !t->due; t = t->next)
			;
		if (t == NULL)
			return;
		t->due = 0;
		id = t->id;
		next = t->fn(ev, t->arg);
		for (t = ev->timers; t != NULL && t->id != id; t = t->next)
			;
		if (t == NULL)
			continue; /* the callback deleted it */
		if (next < 0)
			ev_timer_del(ev, id);
		else
			t->when = ev_now_ms() + (uint64_t)next;
	}
}

int
ev_run(struct ev_loop *ev)
{
	struct epoll_event evs[EV_BATCH];
	int i, n, fd, mask;
	struct ev_file *f;

	ev->stop = 0;
	while (!ev->stop) {
		n = epoll_wait(ev->epfd, evs, EV_BATCH, ev_timeout(ev));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < n && !ev->stop; i++) {
			fd = evs[i].data.fd;
			f = &ev->files[fd];
			/* Errors and hangups are reported as readable and
			 * writable, so the handler finds them by its I/O. */
			mask = 0;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				mask |= EV_READ;
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				mask |= EV_WRITE;
			mask &= f->mask; /* an earlier callback may have deleted it */
			if (mask != 0)
				f->fn(ev, fd, mask, f->arg);
		}
		ev_run_timers(ev);
		if (ev->turn_end != NULL)
			ev->turn_end(ev, ev->turn_end_arg);
	}
	return 0;
}

void
ev_set_turn_end(struct ev_loop *ev, void (*fn)(struct ev_loop *ev, void *arg), void *arg)
{
	ev->turn_end = fn;
	ev->turn_end_arg = arg;
}

void
ev_stop(struct ev_loop *ev)
{
	ev->stop = 1;
}
