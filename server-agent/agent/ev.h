/* ev.h - a small event loop (Redis ae style): file events on epoll and
 * timers, callbacks with a void *arg, one thread.
 *
 * Callbacks may add and delete any file event or timer, including their
 * own. A file event deleted during a loop iteration is not delivered
 * afterwards in that iteration (state is re-fetched per fd). */
#ifndef OM_EV_H
#define OM_EV_H

#include <stdint.h>

#define EV_READ 1
#define EV_WRITE 2

struct ev_loop;

typedef void ev_fd_fn(struct ev_loop *ev, int fd, int mask, void *arg);
/* Returns the delay in ms until the next run, or -1 to delete the timer. */
typedef long ev_timer_fn(struct ev_loop *ev, void *arg);

/* maxfds bounds the fd numbers the loop accepts. NULL on failure (errno). */
struct ev_loop *ev_create(int maxfds);
void ev_free(struct ev_loop *ev);

/* Adds mask to the events watched on fd; fn and arg replace earlier ones.
 * Returns 0, or -1 with errno (ERANGE: fd >= maxfds). */
int ev_add(struct ev_loop *ev, int fd, int mask, ev_fd_fn *fn, void *arg);
/* Stops watching mask on fd; with no events left the fd is forgotten.
 * Call with EV_READ|EV_WRITE before closing fd. */
void ev_del(struct ev_loop *ev, int fd, int mask);

/* Runs fn after ms milliseconds. Returns a timer id (> 0) or -1 (ENOMEM). */
long long ev_timer_add(struct ev_loop *ev, long ms, ev_timer_fn *fn, void *arg);
/* Deletes a timer; unknown or already expired ids are ignored. */
void ev_timer_del(struct ev_loop *ev, long long id);

/* fn(ev, arg) runs at the end of every turn of the loop (after that
 * turn's file events and timers): the place for work that must not run
 * inside another callback (conn.c ends closed connections there). */
void ev_set_turn_end(struct ev_loop *ev, void (*fn)(struct ev_loop *ev, void *arg), void *arg);

/* Dispatches events until ev_stop. Returns 0, or -1 if epoll failed. */
int ev_run(struct ev_loop *ev);
void ev_stop(struct ev_loop *ev);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t ev_now_ms(void);

#endif
