/* job_exec.c - what of a job on the node outlives its execve (job_exec.h). */
#include "job_exec.h"
#include "linux_abi.h"

int job_exec_fits(const struct job *j)
{
	if (j->own.pending | j->p->shared.pending)
		return 0; /* they stay pending in the new program */
	for (int i = 0; i < 3; i++)
		if (j->p->itimer[i].expires)
			return 0; /* setitimer and alarm run on across an exec */
	return 1;
}

void job_exec_sigstate(const struct job *j, uint64_t *blocked, uint64_t *ignored)
{
	*blocked = j->blocked;
	*ignored = 0;
	for (int s = 1; s <= JOB_NSIG; s++)
		if (j->p->act[s - 1].handler == LX_SIG_IGN)
			*ignored |= 1ull << (s - 1);
}
