/* ckpt_ask.h - om-checkpoint PID FILE: a checkpoint of a running job,
 * now, into FILE (through the agent, to the job's om-run). */
#ifndef OM_CKPT_ASK_H
#define OM_CKPT_ASK_H

/* control: the agent's control socket (NULL: the default). Returns the
 * exit status: 0 once FILE holds the job's image, 1 on an error (said),
 * 2 for a bad argument. */
int ckpt_ask(const char *control, const char *pid, const char *file);

#endif
