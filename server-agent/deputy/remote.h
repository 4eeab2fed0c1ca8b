/* remote.h - one process of a job and its deputy, inside the deputy:
 * life.c follows the process at home and places it when it execs;
 * run_remote.c sends it to its node and serves it there until it ends or
 * comes home. Each process of a job has a deputy of its own (an om-run
 * process, with its own agent link), so that a call one of them runs at
 * home may block as long as it likes. */
#ifndef OM_REMOTE_H
#define OM_REMOTE_H

#include <stdint.h>
#include <sys/types.h>

#include "deputy.h"
#include "deputy_call.h"
#include "follow.h"
#include "frame_rx.h"
#include "call_log.h"
#include "checkpoint.h"
#include "inject.h"
#include "job_seq.h"
#include "restart.h"
#include "remote_threads.h"
#include "restore.h"
#include "stats.h"

#define NODE_LOST_STATUS (251 << 8)
#define OMRUN_FAIL (1 << 8) /* om-run's own failure, as a wait status */
#define HOMING_QUIET_MS OM_IMAGE_QUIET_MS
#define HELD_MAX 16 /* frames a node may send while one of its calls runs */
#define OUT_HELD_MAX 256 /* signals held while a checkpoint comes in; more are lost (said) */
#define SENT_SIGS_MAX 64 /* signal frames kept for a node that did not get them (agent_back.c) */
#define PROG_MAX 256
enum { HOMING_ANNOUNCED = 1, HOMING_IMAGE = 2 };

struct remote {
	struct job_ctx *jc;     /* the agent link (ctl_fd), placed, -v */
	pid_t pid;              /* the process */
	int root;               /* om-run's own child: its stops are om-run's */
	char prog[PROG_MAX];    /* argv[0] of the program it runs, for messages */
	char cmd[OM_CMD_MAX + 1]; /* its command line, for the agent */
	struct follow fw;       /* at home */
	struct inject in;       /* while it is away: the scratch region at home */
	struct remote_thread **threads; /* ... and a home thread per other node thread */
	int nthreads;
	uint32_t job;
	int sigfd;              /* signalfd for SIGCHLD */
	struct frame_rx rx;
	uint8_t *rxbuf, *txbuf;
	struct deputy_out dout;
	struct om_cpu need;     /* what the image may use: home and node share it */
	uint16_t cores;         /* the cores it asks for: --cores for om-run's child, else 1 */
	struct restore rs;      /* coming home */
	int homing;             /* HOMING_ANNOUNCED, then HOMING_IMAGE */
	int32_t pending_nr;     /* JOB_HOME: the call to run again at home */
	uint32_t home_reason;   /* ... and why it came (OM_HOME_*) */
	/* SIGNAL and JOB_CONTINUE frames sent, how many of them the node has
	 * acknowledged (SIGNAL_SEEN), and the number of the last that
	 * continues the job (a SIGCONT or a JOB_CONTINUE) */
	uint32_t sigs_sent, sigs_seen, cont_at;
	uint32_t call_seq;      /* the forwarded call running at home */
	struct job_seq seq;     /* the numbers on the job's frames (job_seq.h) */
	struct ckpt ck;         /* --checkpoint-every (checkpoint.h), om-run's child only */
	struct call_log log;    /* ... the answers since its last one (call_log.h) */
	uint32_t ck_calls;      /* ... the calls its last one says were made */
	uint32_t ck_coming;     /* ... and the one coming in */
	uint32_t replay_last;   /* after a restart: calls up to this one are answered from the log */
	uint8_t *replay_dec;    /* ... the node's decisions since the last call it made again */
	size_t replay_dec_len;
	int replay_dec_over;    /* ... more than home keeps */
	/* SIGNAL and JOB_CONTINUE frames held while a checkpoint comes in */
	struct { uint8_t type; uint8_t len; uint8_t p[64]; } out_held[OUT_HELD_MAX];
	int nout_held;
	int out_of_order;       /* ... one broke them: the job cannot go on */
	uint32_t next_node;     /* coming home to go on to this node (om-migrate) */
	uint32_t home_job;      /* its record at the agent while it is at home */
	uint32_t fork_job, fork_seq; /* OM_JOB_F_FORK: the parent job and its fork call */
	/* Its execve on the node ran at home: the process is the new program,
	 * at its exec stop; the signal state the node kept for it */
	int execed;
	int fork_home; /* its fork goes home to be made (remote_fork) */
	uint64_t exec_blocked, exec_ignored;
	int moving;             /* at home: it goes out (om-migrate, CPU-bound) */
	uint32_t move_to;       /* ... to this node (0: any) */
	/* Going out from home in an interrupted call (restart.h): its code
	 * (0: none); how the image's registers end it, and the signal state
	 * that decided, from the image; set when a signal that came later
	 * would have ended it otherwise, which keeps the process at home. */
	int restart;
	enum restart_how restart_how;
	uint64_t rs_pending, rs_blocked, rs_caught, rs_sa_restart;
	int restart_late;
	uint64_t anew_undo;     /* its call made anew (life.c), to undo if it stays */
	struct thread_again {   /* ... and the other threads' whose call runs again */
		pid_t tid;
		int code;
		uint64_t pending, blocked;
	} *thread_again;
	int nthread_again, thread_again_cap;
	int stop_at_home;       /* a stop signal the deputy sent its idle process */
	int waking;             /* wake() waits for its PTRACE_INTERRUPT */
	struct proc_stats stats; /* where it ran, for om-run --stats */
	/* Frames that came in while a call ran, for the deputy's loop: */
	struct held {
		struct om_hdr h;
		uint8_t *p;
	} held[HELD_MAX];
	int nheld, held_lost;
	uint8_t *held_now;      /* the payload next_frame handed out last */
	/* The agent link made again (agent_back.c). In serve() (serving) a
	 * link that ends is made again, and the frames for the node wait
	 * (reattaching, out_held) until the node's JOB_REATTACH comes. */
	int serving, reattaching;
	int calling;            /* a forwarded call runs at home (call_seq) */
	uint32_t resend_ok;     /* the call a JOB_REATTACH says the node sends again */
	uint32_t call_coming;   /* ... the call it sends again that home never had */
	uint32_t last_rep_seq;  /* the last answer sent, still in txbuf (0: none) */
	size_t last_rep_len;
	uint32_t last_nr;       /* ... the call it answered */
	uint64_t last_args[6];
	uint32_t node_stop;     /* the stop signal the node said holds the job (0: none) */
	/* The SIGNAL and JOB_CONTINUE frames written since the placement
	 * (sent_sigs[n % SENT_SIGS_MAX]): again for a node that missed some. */
	struct { uint8_t type, len; uint32_t stamp; uint8_t p[64]; } sent_sigs[SENT_SIGS_MAX];
	uint32_t sigs_written;
};

/* agent_back.c. Whether a link that ended is made again: the process runs
 * on its node and is not on its way anywhere. */
int remote_reattachable(const struct remote *r);
/* Connects to the agent again (for up to OM_IMAGE_QUIET_MS, the longest
 * grace an agent may give), at the same descriptor, and claims the job
 * (CTL_JOB_REATTACH). 0, or -1 when no agent came back. */
int remote_reconnect(struct remote *r);
/* The node's JOB_REATTACH, relayed: where the job stands there, which
 * the deputy squares with its own count. 0, or -1 when it cannot be
 * squared (said). */
int remote_on_reattach(struct remote *r, const struct om_hdr *h, const uint8_t *p);
/* A SYSCALL_REQ the node sent again after a JOB_REATTACH (seq is the call
 * answered last): the answer again, if it is the same call. 0, or -1. */
int remote_answer_again(struct remote *r, uint32_t seq, const struct om_sysreq *req);
/* Writes one frame to the agent as it is (run_remote.c). 0, or -1. */
int remote_send_for(struct remote *r, uint8_t type, uint32_t job, uint32_t seq, const void *p, size_t len);
/* The node says the job stopped with signo (0: it goes on), as a
 * JOB_STOPPED would (run_remote.c). 0, or -1. */
int remote_node_stopped(struct remote *r, uint32_t signo);

/* -v: "om-run: ..." on stderr (with the pid for a process other than
 * om-run's own child). */
int say(struct remote *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* inject's reap (inject.h) for r's leader: home threads that ended (the
 * process was killed) are collected, so that the leader's end can show. */
void remote_reap_threads(void *ctx);

/* 0 when req, which a node asks for in thread in, stays inside the job
 * (call_limits.h); else its result (-EPERM, -ESRCH), said on stderr. */
int remote_limited(struct remote *r, const struct inject *in, const struct om_sysreq *req);

/* The next frame from the agent (1), end of stream (0), a broken stream
 * (-1), nothing within timeout_ms (-2; -1 waits for ever). */
int remote_next_frame(struct remote *r, struct om_hdr *h, const uint8_t **p, int timeout_ms);
/* Asks the agent to place the process (node 0: any) with CTL_JOB_SUBMIT;
 * the answer is in r->jc->placed (node 0: it stays). With OM_JOB_F_HOME it
 * records the process at home instead (r->home_job). Returns 0, or -1 when
 * the agent is gone. */
int remote_place(struct remote *r, const struct om_cpu *need, uint32_t node, uint32_t flags);

enum { SENT_RUNS, SENT_REFUSED, SENT_NOT_STARTED, SENT_BROKEN };
/* Sends the process, stopped with its scratch region set up, to
 * r->jc->placed's node: SENT_RUNS it runs there, idle at home; otherwise
 * it is as it was (SENT_NOT_STARTED and SENT_BROKEN are said on stderr). */
int remote_send_out(struct remote *r);

/* The child of a fork made on the node, whose home process is r->pid
 * (forked at home, stopped, with its parent's scratch region): the agent
 * has placed it with OM_JOB_F_FORK; waits for the node's answer.
 * SENT_RUNS it runs there, else it did not start. */
int remote_adopted(struct remote *r);
/* A frame for the job, numbered (job_seq.h). 0, or -1: the agent is gone. */
int remote_send_frame(struct remote *r, uint8_t type, const void *p, size_t len);
/* The node's answer to a job sent there: SENT_RUNS, SENT_REFUSED or
 * SENT_NOT_STARTED (said on stderr). */
int remote_started(struct remote *r, int timeout_ms);
/* Its node lost, the job starts again from its last checkpoint on
 * another node (ckpt_restart.c): calls made since are answered there
 * from the log. SENT_RUNS, or why not (said on stderr). */
int remote_restart(struct remote *r);
/* Whether remote_restart can be tried. */
int remote_restartable(const struct remote *r);
/* decisions.c: the node's own decisions (migrate/decision.h). A
 * DECISIONS frame from the node: logged for its next call, or, while
 * the job makes its calls again after a restart, kept for that call's
 * check. -1 for a malformed one (said). */
int remote_on_decisions(struct remote *r, const struct om_hdr *h, const uint8_t *p);
/* Sends the node the decisions logged before call seq (none: 0); -1
 * when the link fails. */
int remote_send_decisions(struct remote *r, uint32_t seq);
/* A restart's: how long the replay lasts (until replay_last), and the
 * decisions before the first call since the checkpoint. 0, or -1. */
int remote_send_replay_start(struct remote *r);
/* Call seq, made again after a restart: whether the node decided
 * what it had decided before it (said when not: the job went another
 * way). The decisions kept for it go. */
int remote_decisions_match(struct remote *r, const struct call_log_entry *e);
/* Those kept for the check go (a restart starts them again). */
void remote_decisions_reset(struct remote *r);
/* A fork the process made on its node (call seq; om_syscall_is_fork;
 * chld its SIGCHLD disposition there, OM_FORK_CHLD_*): a plain fork runs
 * at home, and the child gets a deputy of its own, which has the node
 * make the child's image before this returns (life.c). Returns the
 * call's result for the node: the child's pid, or -errno; when the fork
 * ran at home but no child could be made on a node, it sets fork_home
 * and returns a restart: the parent comes home and forks there. */
int64_t remote_fork(struct remote *r, uint32_t seq, uint64_t chld);

enum { NODE_EXITED, NODE_HOME, NODE_LOST, NODE_FAIL, NODE_EXECED };
/* Serves the process on its node until it ends (NODE_EXITED: the process
 * ended the same way, r->in.status), comes home (NODE_HOME: stopped, as
 * it was on the node, the scratch region gone), execs (NODE_EXECED: its
 * execve ran at home, r->execed), or is lost (NODE_LOST: said, the
 * process killed) or the deputy fails (NODE_FAIL). */
int remote_serve(struct remote *r);

/* After NODE_EXECED, at the exec stop: the new program gets the signal
 * state the node kept (blocked mask, ignored signals: what outlives
 * exec) and the signals that came during the exec; the ptrace options
 * are home's again, and the scratch region is gone. */
void remote_exec_settle(struct remote *r);

/* At the entry point: the environment entry NAME= that ld.so had from
 * the deputy goes, or becomes the user's own again (user_entry). */
int remote_hide_env(struct remote *r, const char *name, const char *user_entry);

#endif
