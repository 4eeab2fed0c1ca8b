/* job.c - making and ending jobs (threads) and their processes. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "fpu.h"
#include "job.h"
#include "timers.h"

#define RFLAGS_IF 0x200ULL
#define SIGQ_BYTES ((JOB_SIGQUEUE_MAX + JOB_TIMERS_MAX) * sizeof(struct job_sigqueued))

void job_fpu_init(struct job *j) { fpu_area_init(j->xsave); }

/* A thread with nothing in it yet, of no process. */
static struct job *thread_alloc(uint32_t id)
{
	struct job *j = calloc(1, sizeof *j);
	if (!j)
		return NULL;
	j->xsave = memalign(64, (fpu_area_size() + 63) & ~63u);
	j->own.sigq = malloc(SIGQ_BYTES);
	if (!j->xsave || !j->own.sigq) {
		free(j->xsave);
		free(j->own.sigq);
		free(j);
		return NULL;
	}
	job_fpu_init(j);
	j->id = id;
	j->cpu = -1;
	j->regs.cs = SEL_UCODE | 3;
	j->regs.ss = SEL_UDATA | 3;
	j->regs.rflags = RFLAGS_IF | 2;
	return j;
}

static void thread_free(struct job *j)
{
	free(j->xsave);
	free(j->own.sigq);
	free(j);
}

static void join(struct proc *p, struct job *j)
{
	j->p = p;
	j->sibling = p->threads;
	p->threads = j;
	p->nthreads++;
}

struct job *job_create(uint32_t id)
{
	struct job *j = thread_alloc(id);
	struct proc *p = calloc(1, sizeof *p);
	if (p)
		p->shared.sigq = malloc(SIGQ_BYTES);
	if (!j || !p || !p->shared.sigq || uvm_create(&p->uvm) < 0) {
		if (p)
			free(p->shared.sigq);
		free(p);
		if (j)
			thread_free(j);
		return NULL;
	}
	p->id = id;
	join(p, j);
	p->leader = j;
	timers_init(j);
	return j;
}

struct job *job_create_thread(struct proc *p, uint32_t id)
{
	struct job *j = thread_alloc(id);
	if (j)
		join(p, j);
	return j;
}

void job_destroy_process(struct job *j)
{
	while (j && j->p && j->p->nthreads > 1)
		job_destroy(j->p->threads == j ? j->sibling : j->p->threads);
	job_destroy(j);
}

void job_destroy(struct job *j)
{
	if (!j)
		return;
	struct proc *p = j->p;
	if (p) {
		for (struct job **pp = &p->threads; *pp; pp = &(*pp)->sibling)
			if (*pp == j) {
				*pp = j->sibling;
				break;
			}
		if (p->leader == j)
			p->leader = NULL;
		if (--p->nthreads == 0) {
			uvm_destroy(&p->uvm);
			decide_free(&p->dec);
			free(p->shared.sigq);
			free(p);
		}
	}
	thread_free(j);
}
