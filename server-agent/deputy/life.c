/* life.c - a process of the job from start to end, as its deputy sees it:
 * followed while it runs at home (follow.c), placed by the agent whenever
 * it execs, served on its node (run_remote.c), followed again when it
 * comes home. A child it forks, at home or on its way back from a node,
 * gets a deputy of its own: a new om-run process (handoff.c), so every
 * process of the tree is a job (docs/migration.md, "Process trees"). */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "ckpt_resume.h"
#include "cpu_mask.h"
#include "exec_env.h"
#include "handoff.h"
#include "ptrace_start.h"
#include "node_code.h"
#include "remote.h"
#include "thread_seize.h"
#include "vdso_leave.h"

#define TUNABLE_MAX 1024
#define STAYS (-1) /* place_at_exec: the process goes on at home */

/* The command line of the program the process runs now (after an exec,
 * or the parent's until then): for the agent, printable and cut; its
 * argv[0] for messages. */
static void read_cmdline(struct remote *r)
{
	char path[64], buf[OM_CMD_MAX + 1];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)r->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return; /* keep what we had */
	buf[n] = '\0';
	snprintf(r->prog, sizeof r->prog, "%s", buf);
	for (ssize_t i = 0; i < n; i++)
		buf[i] = buf[i] == '\0' ? ' ' : buf[i] < 0x20 || buf[i] > 0x7e ? '?' : buf[i];
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	memcpy(r->cmd, buf, (size_t)n + 1);
}

static int remote_init(struct remote *r, struct job_ctx *jc, pid_t pid, int root)
{
	memset(r, 0, sizeof *r);
	r->jc = jc;
	r->pid = pid;
	r->root = root;
	r->cores = root && jc->cores > 1 ? (uint16_t)jc->cores : 1;
	r->pending_nr = -1;
	r->in.pid = pid;
	r->in.memfd = r->in.watch_fd = r->in.chld_fd = -1;
	r->rxbuf = malloc(OM_HDR_SIZE + OM_MAX_PAYLOAD);
	r->txbuf = malloc(OM_MAX_PAYLOAD);
	r->dout.mem = malloc(INJECT_DATA_SIZE);
	if (!r->rxbuf || !r->txbuf || !r->dout.mem)
		return -1;
	frame_rx_init(&r->rx, r->rxbuf, OM_HDR_SIZE + OM_MAX_PAYLOAD);
	capture_cpu(&r->need); /* what a program that chose at home may use */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((r->sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	stats_begin(&r->stats, pid);
	r->fw.pid = pid;
	r->fw.root = root;
	r->fw.chld_fd = r->sigfd;
	r->fw.watch_fd = jc->ctl_fd;
	return 0;
}

static void agent_gone(struct remote *r)
{
	if (r->jc->ctl_fd >= 0)
		close(r->jc->ctl_fd);
	r->jc->ctl_fd = r->fw.watch_fd = -1;
}

/* The agent spoke while the process was at home: om-migrate sends it to a
 * node (CTL_MIGRATE for its record); anything else is a frame of a job
 * that just ended, crossing its return. */
static void drain_agent(struct remote *r)
{
	struct om_hdr h;
	const uint8_t *p;
	int got;
	while ((got = remote_next_frame(r, &h, &p, 0)) == 1) {
		struct om_job_migrate m;
		if (h.type == OM_T_CTL_MIGRATE && h.job == r->home_job && r->home_job &&
		    om_job_migrate_decode(p, h.length, &m) == OM_OK && m.target != 0) {
			say(r, "it goes from home to node %u", m.target);
			r->moving = 1;
			r->move_to = m.target;
		}
	}
	if (got == 0 || got == -1)
		agent_gone(r);
}

/* For a thread in a call in its restart block: the call to make again
 * with its arguments instead (restart_again_nr), or -1. */
static long again_nr(pid_t tid, const struct user_regs_struct *regs)
{
	uint8_t before[7];
	struct iovec local = { before, sizeof before }, remote = { (void *)(regs->rip - 7), sizeof before };
	if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof before)
		memset(before, 0, sizeof before);
	return restart_again_nr(regs->orig_rax, regs->rsi, before);
}

/* As the process goes: a call in its restart block becomes RESTART_NOHAND
 * of the same call (made again where the process goes on); *undo keeps
 * what anew_undo needs (0: nothing changed). */
static void anew(pid_t tid, uint64_t *undo)
{
	struct user_regs_struct regs;
	long nr;
	*undo = 0;
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) == -1 || restart_code(regs.rax, regs.orig_rax) != RESTART_BLOCK ||
	    (nr = again_nr(tid, &regs)) < 0)
		return;
	uint64_t orig = regs.orig_rax;
	regs.orig_rax = (uint64_t)nr;
	regs.rax = (uint64_t)-RESTART_NOHAND;
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) == 0)
		*undo = orig;
}

/* It stays after all: the call is in its restart block again, as home's
 * kernel left it (its timeout not started over). */
static void anew_undo(pid_t tid, uint64_t *undo)
{
	struct user_regs_struct regs;
	if (*undo && ptrace(PTRACE_GETREGS, tid, NULL, &regs) == 0) {
		regs.orig_rax = *undo;
		regs.rax = (uint64_t)-RESTART_BLOCK;
		ptrace(PTRACE_SETREGS, tid, NULL, &regs);
	}
	*undo = 0;
}

/* Removes the scratch region from the stopped process (registers kept),
 * then lets its other threads go on where they were (held for the move:
 * they stay stopped until then, away from the code teardown writes over);
 * the signals our injected calls took from it are its own again, and so
 * are the follower's ptrace options (move_out's away ones). */
static void unprepare(struct remote *r)
{
	static struct inject_sig back[INJECT_SIGS_MAX];
	struct user_regs_struct regs;
	anew_undo(r->pid, &r->anew_undo);
	for (int i = 0; i < r->nthreads; i++)
		anew_undo(r->threads[i]->tid, &r->threads[i]->anew_undo);
	if (ptrace(PTRACE_GETREGS, r->pid, NULL, &regs) == 0) {
		inject_teardown(&r->in);
		ptrace(PTRACE_SETREGS, r->pid, NULL, &regs);
	} else {
		inject_close(&r->in);
	}
	remote_threads_release(r, NULL);
	ptrace(PTRACE_SETOPTIONS, r->pid, NULL, (void *)follow_options());
	unsigned n = inject_take_signals(&r->in, back);
	for (unsigned i = 0; i < n; i++)
		inject_raise(r->pid, &back[i]);
}

/* The job was placed but does not go: the agent forgets it. */
static void give_back(struct remote *r)
{
	uint8_t hdr[OM_HDR_SIZE];
	om_hdr_encode(hdr, OM_T_JOB_KILL, 0, r->job, r->seq.calls);
	if (write(r->jc->ctl_fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr)
		agent_gone(r);
}

/* The placed process, stopped with its scratch region, goes: the deputy
 * serves it on its node to the end or its return (NODE_*), or it stays. */
static int send_placed(struct remote *r)
{
	r->in.interruptible = 0; /* nothing may cut the capture's calls short */
	int rc = remote_send_out(r);
	r->restart = 0;
	if (rc == SENT_RUNS)
		return remote_serve(r);
	if (rc == SENT_NOT_STARTED) {
		kill(r->pid, SIGKILL);
		remote_threads_reap(r, 1);
		return NODE_LOST;
	}
	if (rc == SENT_BROKEN)
		give_back(r);
	unprepare(r);
	return r->in.dead ? NODE_EXITED : STAYS; /* killed meanwhile: its end is read */
}

/* At the exec stop: the agent chooses a node (node: the user's choice,
 * 0 any); a dynamic program's ld.so is told what the node lacks
 * (cpu_mask.h); the process runs to its entry point and goes. Returns
 * STAYS (at home, stopped), or how it ended on its node (NODE_*). */
static int place_at_exec(struct remote *r, uint32_t node)
{
	struct job_ctx *jc = r->jc;
	struct om_cpu home, base;
	char exe[PATH_MAX], link[64], tunable[TUNABLE_MAX], user[EXEC_ENV_MAX];
	int rc, st;

	read_cmdline(r);
	stats_command(&r->stats, r->cmd);
	capture_cpu(&home);
	r->need = home; /* its loader chooses here, unless told otherwise */
	if (jc->ctl_fd < 0)
		return STAYS;
	base = home;
	cpu_mask_baseline(&base); /* a program chooses its code where it runs */
	rc = remote_place(r, &base, node, 0);
	if (rc == 0 && jc->placed.node == 0 && strcmp(jc->placed.reason, OM_REASON_PARENT_BUSY) == 0) {
		usleep(OM_PARENT_RETRY_MS * 1000); /* its parent may wait for it by then */
		rc = remote_place(r, &base, node, 0);
	}
	if (rc != 0) {
		agent_gone(r);
		return STAYS;
	}
	if (jc->placed.node == 0) {
		say(r, "running at home: %s", jc->placed.reason);
		return STAYS;
	}
	say(r, "job %u placed on node %u (%s)", r->job, jc->placed.node, jc->placed.addr);
	/* A static program chooses its code on the node, a dynamic one is
	 * told to: the image uses what both have. */
	cpu_mask_common(&r->need, &home, &jc->placed.cpu);

	user[0] = tunable[0] = '\0';
	snprintf(link, sizeof link, "/proc/%d/exe", (int)r->pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	if ((rc = inject_open(&r->in, r->pid)) != 0)
		goto refused;
	if (n > 0 && cpu_mask_is_dynamic(exe)) {
		if (cpu_mask_tunable(&home, &jc->placed.cpu, tunable, sizeof tunable) < 0 ||
		    (rc = exec_env_add(&r->in, "GLIBC_TUNABLES", tunable, user, sizeof user)) != 0) {
			say(r, "cannot tell ld.so what node %u lacks (%s): running at home", jc->placed.node,
			    strerror(-rc));
			goto refused;
		}
	}
	/* ld.so (of a dynamic program) runs here, then the program goes. */
	uint64_t entry = ptrace_auxv(r->pid, AT_ENTRY);
	if (!entry || (rc = ptrace_run_to(r->pid, entry, &st)) != 0) {
		give_back(r);
		inject_close(&r->in);
		if (rc == -ESRCH) {
			r->in.dead = 1;
			r->in.status = st;
			return NODE_EXITED;
		}
		return STAYS;
	}
	if ((rc = inject_setup(&r->in)) != 0) {
		fprintf(stderr, "om-run: cannot prepare the deputy: %s\n", strerror(-rc));
		goto refused;
	}
	if (user[0] || tunable[0])
		if (remote_hide_env(r, "GLIBC_TUNABLES=", user[0] ? user : NULL) != 0)
			say(r, "could not hide GLIBC_TUNABLES from the program");
	return send_placed(r);
refused:
	give_back(r);
	unprepare(r);
	return STAYS;
}

/* A stopped thread of the process about to move (its leader, or another
 * one): NULL when it can, else why not (in why). Its restart code in
 * *code: RESTART_BLOCK only for a call anew makes again. */
static const char *movable(pid_t tid, int *code, char *why, size_t len)
{
	struct user_regs_struct regs;
	*code = 0;
	if (vdso_leave(tid) != 0)
		return "it could not be stepped out of the vDSO";
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) == -1)
		return strerror(errno);
	if ((*code = restart_code(regs.rax, regs.orig_rax)) == RESTART_BLOCK && again_nr(tid, &regs) < 0) {
		snprintf(why, len, "it sleeps in a call whose state only this kernel keeps (%s)",
		    om_syscall_name((unsigned)regs.orig_rax));
		return why;
	}
	return NULL;
}

/* Its threads seized (thread_seize.h): each becomes a held home thread,
 * and each must be able to move. NULL, or why not (in why). */
static const char *hold_threads(struct remote *r, pid_t *tids, int n, char *why, size_t len)
{
	char thread_why[128];
	const char *w;
	int rc, code;
	if ((unsigned)n > OM_IMAGE_THREADS_MAX) {
		thread_seize_release(tids, n);
		snprintf(why, len, "it has %d threads, more than an image takes", n + 1);
		return why;
	}
	if ((rc = remote_threads_hold(r, tids, n)) != 0) {
		thread_seize_release(tids, n);
		snprintf(why, len, "its threads cannot be held: %s", strerror(-rc));
		return why;
	}
	free(tids); /* they are r->threads now */
	for (int i = 0; i < r->nthreads; i++)
		if ((w = movable(r->threads[i]->tid, &code, thread_why, sizeof thread_why)) != NULL) {
			snprintf(why, len, "its thread %d: %s", (int)r->threads[i]->tid, w);
			return why;
		}
	return NULL;
}

/* The process, stopped where it ran at home (follow_interrupt), goes to
 * node (0: any) as it stands, with every thread (each stopped where it
 * is: thread_seize.h). A system call a thread was in is left as the stop
 * shows it (restart.h): the image decides, by the signals pending then,
 * whether it runs again on the node or returns EINTR, and a process that
 * stays keeps it for home's kernel to decide. One that keeps its state in
 * the kernel (ERESTART_RESTARTBLOCK) moves only when the call can be made
 * again with its arguments (anew). Returns STAYS or NODE_*. */
static int move_out(struct remote *r, uint32_t node)
{
	char why_buf[160];
	const char *why;
	pid_t *tids = NULL;
	int ntids, rc;
	if (!(why = movable(r->pid, &r->restart, why_buf, sizeof why_buf))) {
		/* A worker's execve meanwhile kills the leader: it must not stop
		 * at its exit (PTRACE_O_TRACEEXIT) while the exec waits for it. */
		ptrace(PTRACE_SETOPTIONS, r->pid, NULL, (void *)follow_options_away());
		ntids = thread_seize_all(r->pid, PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC, &tids, why_buf,
		    sizeof why_buf);
		if (ntids == -2) { /* the follower's to see: an end, or a worker's exec */
			r->fw.stopped = 0;
			r->restart = 0;
			return STAYS;
		}
		why = ntids < 0 ? why_buf : hold_threads(r, tids, ntids, why_buf, sizeof why_buf);
	}
	if (why)
		say(r, "it stays at home: %s", why);
	else if (r->jc->ctl_fd < 0 || remote_place(r, &r->need, node, 0) != 0)
		agent_gone(r);
	else if (r->jc->placed.node == 0)
		say(r, "it stays at home: %s", r->jc->placed.reason);
	else {
		say(r, "job %u placed on node %u (%s)", r->job, r->jc->placed.node, r->jc->placed.addr);
		if ((rc = inject_open(&r->in, r->pid)) == 0) {
			r->in.reap = remote_reap_threads; /* a SIGKILL meanwhile: they end first */
			r->in.reap_ctx = r;
			rc = inject_setup(&r->in);
		}
		if (rc == 0) {
			remote_threads_share(r);
			anew(r->pid, &r->anew_undo);
			for (int i = 0; i < r->nthreads; i++)
				anew(r->threads[i]->tid, &r->threads[i]->anew_undo);
			if (r->restart == RESTART_BLOCK)
				r->restart = RESTART_NOHAND;
			return send_placed(r);
		}
		fprintf(stderr, "om-run: cannot prepare the deputy: %s\n", strerror(-rc));
		give_back(r);
		unprepare(r);
		r->restart = 0;
		return r->in.dead ? NODE_EXITED : STAYS;
	}
	remote_threads_release(r, NULL);
	ptrace(PTRACE_SETOPTIONS, r->pid, NULL, (void *)follow_options()); /* move_out's away ones */
	r->restart = 0;
	return STAYS;
}

static int life(struct remote *r, uint32_t first_node, int rc);

/* Back from its node (home or exec'd there), stopped: followed again. */
static void follow_again(struct remote *r)
{
	r->fw.stopped = 1;
	r->fw.interrupting = 0; /* it went out: a move asked for before is done */
	r->fw.watch_fd = r->jc->ctl_fd;
}

/* om-run --restart: the program's fresh exec becomes the saved process
 * (ckpt_resume.h), which then goes out as one that came home does.
 * Returns STAYS, NODE_*, or OMRUN_FAIL with the process killed. */
static int resume_saved(struct remote *r, uint32_t node)
{
	char err[512];
	struct ckpt_saved *s = r->jc->restart;
	r->jc->restart = NULL; /* once: its later execs are placed as any */
	int rc = inject_open(&r->in, r->pid);
	if (rc != 0)
		snprintf(err, sizeof err, "the new process: %s", strerror(-rc));
	else
		rc = ckpt_resume(s, &r->in, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "om-run: --restart: %s\n", err);
		ckpt_saved_free(s);
		inject_close(&r->in);
		kill(r->pid, SIGKILL);
		while (waitpid(r->pid, NULL, __WALL) == -1 && errno == EINTR)
			;
		return OMRUN_FAIL;
	}
	say(r, "pid %d is the saved process now (after its call %u)", (int)r->pid, s->home.calls);
	r->need = s->hdr->cpu; /* what its code chose where it ran */
	ckpt_saved_free(s); /* the image is in: the file's copy is not needed */
	read_cmdline(r);
	stats_command(&r->stats, r->cmd);
	follow_again(r);
	return move_out(r, node);
}

/* A fork made on the node, as its child's deputy knows it: by value, for
 * the new deputy reuses the static state its parent's deputy may have
 * been living in (child_deputy). */
struct node_fork {
	uint32_t job, seq;         /* the parent's job and its fork call */
	uint32_t node;             /* where the parent runs */
	uint64_t scratch, scratch_len, stub, data; /* its scratch region, which the child has too */
};

/* The child of a fork made on the node (from): its home process, just
 * forked at home, idles as any process whose image is away, while the
 * node makes the image from the parent (JOB_FORK, which the agent sends
 * when it places the child with OM_JOB_F_FORK). Once it runs there, the
 * parent's deputy hears it on ok. Returns NODE_* for life(), or -1 when
 * it did not start (the parent's deputy then ends the process). */
static int adopt(struct remote *r, const struct node_fork *from, int ok)
{
	r->fork_job = from->job;
	r->fork_seq = from->seq;
	if (r->jc->ctl_fd < 0 || inject_open(&r->in, r->pid) != 0)
		return -1;
	r->in.scratch = from->scratch;
	r->in.scratch_len = from->scratch_len;
	r->in.stub = from->stub;
	r->in.data = from->data;
	if (remote_place(r, &r->need, from->node, OM_JOB_F_FORK) != 0 || r->jc->placed.node == 0) {
		say(r, "the node cannot make the child: %s", r->jc->placed.reason);
		return -1;
	}
	if (remote_adopted(r) != SENT_RUNS)
		return -1;
	(void)!write(ok, "k", 1);
	close(ok);
	return remote_serve(r);
}

/* Closes every descriptor from lo up to (not including) hi. */
static void close_span(int lo, int hi)
{
	if (lo >= hi)
		return;
	if (syscall(SYS_close_range, (unsigned)lo, (unsigned)hi - 1, 0) == 0)
		return;
	for (int fd = lo; fd < hi && fd < 65536; fd++)
		close(fd);
}

/* A new deputy holds nothing of its parent's: not om-run's terminal or
 * pipes (a `$(...)` around om-run would wait for every process the job
 * left running), not the parent deputy's agent link, signalfd or scratch
 * descriptors. It keeps the descriptors in keep (ascending), and stderr
 * only when -v asks for its messages (its errors go through late_stderr). */
static void child_fds(int verbose, const int *keep, int nkeep)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), lo = 0;
	for (int std = 0; std < (verbose ? 2 : 3) && null >= 0; std++) {
		int kept = 0; /* om-run started with std closed: a pipe took it */
		for (int i = 0; i < nkeep; i++)
			kept |= keep[i] == std;
		if (!kept && std != null)
			dup2(null, std);
	}
	if (null > 2)
		close(null);
	for (int i = 0; i < nkeep; i++) {
		close_span(lo > 3 ? lo : 3, keep[i]);
		lo = keep[i] + 1;
	}
	close_span(lo > 3 ? lo : 3, INT_MAX);
}

/* The new deputy, in its own process: takes the child over and lives its
 * life. Its own signals (the terminal's, a kill of the process group) are
 * not its business: the processes have theirs. fd brings the handoff;
 * ok takes one byte back once the child is ours (without it, the parent's
 * deputy takes the child back). */
static int child_deputy(const struct remote *parent, int fd, int ok, const struct node_fork *parent_fork)
{
	static struct job_ctx jc;
	static struct remote rr;
	struct handoff h;
	struct om_cpu need = parent->need; /* the child's memory is the parent's */
	struct node_fork fork_copy, *from = NULL;
	if (parent_fork) { /* before remote_init, which may clear what it points into */
		fork_copy = *parent_fork;
		from = &fork_copy;
	}
	int keep[3] = { fd, ok, parent->jc->stats_fd }, nkeep = keep[2] >= 0 ? 3 : 2;
	jc = *parent->jc;
	job_forget_child();
	for (int i = 1; i < nkeep; i++) /* ascending, for child_fds */
		for (int j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	child_fds(jc.verbose, keep, nkeep);
	if (!jc.verbose)
		late_stderr_use(&jc.late_err); /* jc is static: it outlives the stream */
	jc.ctl_fd = jc.connect ? jc.connect(jc.control) : -1;
	ssize_t n = read(fd, &h, sizeof h);
	close(fd);
	if (n != (ssize_t)sizeof h)
		return 0; /* the parent's deputy kept it */
	if (remote_init(&rr, &jc, h.pid, 0) != 0 || handoff_take(&h, follow_options()) != 0)
		return 1;
	rr.need = need;
	rr.fw.stopped = 1;
	read_cmdline(&rr);
	stats_command(&rr.stats, rr.cmd);
	int rc = STAYS;
	if (from) {
		/* On failure the child goes with us (PTRACE_O_EXITKILL). */
		if ((rc = adopt(&rr, from, ok)) < 0)
			return 1;
	} else {
		(void)!write(ok, "k", 1); /* if its deputy is gone, the child is still ours to follow */
		close(ok);
	}
	life(&rr, 0, rc);
	agent_gone(&rr); /* the agent forgets the process now, not after the line */
	stats_send(&rr.stats, jc.stats_fd);
	return 0;
}

/* A child the process forked, in its first stop: to a deputy of its own.
 * Through a short-lived middle process, so that the deputy is nobody's
 * child to reap. The new deputy says on up (one byte) that it has the
 * child; if it fails first, the child is taken back from its parking.
 * A child forked for a fork on the node (from) cannot run at home (its
 * memory is on the node): if its deputy fails it is killed, and spawn
 * returns -1. */
static int spawn(struct remote *r, pid_t child, const struct node_fork *from)
{
	int up[2], down[2];
	pid_t d = -1, x;
	struct handoff h;
	char ok;
	if (pipe2(up, O_CLOEXEC) != 0)
		goto alone;
	if (pipe2(down, O_CLOEXEC) != 0) {
		close(up[0]);
		close(up[1]);
		goto alone;
	}
	if ((x = fork()) == 0) {
		close(up[0]);
		close(down[1]);
		if ((d = fork()) == 0)
			_exit(child_deputy(r, down[0], up[1], from));
		(void)!write(up[1], &d, sizeof d);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	if (x < 0 || read(up[0], &d, sizeof d) != (ssize_t)sizeof d)
		d = -1;
	if (x > 0)
		while (waitpid(x, NULL, 0) == -1 && errno == EINTR)
			;
	if (d > 0 && handoff_give(child, d, &h) == 0) {
		ssize_t n = write(down[1], &h, sizeof h);
		close(down[1]);
		if (n == (ssize_t)sizeof h)
			while ((n = read(up[0], &ok, 1)) == -1 && errno == EINTR)
				;
		close(up[0]);
		if (n == 1)
			return 0;
		if (from) { /* parked, or going with its failed deputy */
			kill(child, SIGKILL);
			return -1;
		}
		/* The new deputy failed or is gone: take the parked child back. */
		if (handoff_take(&h, follow_options()) == 0)
			ptrace(PTRACE_DETACH, child, NULL, NULL);
		say(r, "no deputy for child %d: it runs at home on its own", (int)child);
		return -1;
	}
	close(up[0]);
	close(down[1]);
alone:
	if (from) {
		kill(child, SIGKILL); /* still our tracee: its end is ours to collect */
		while (waitpid(child, NULL, __WALL) == -1 && errno == EINTR)
			;
		return -1;
	}
	say(r, "no deputy for child %d: it runs at home on its own", (int)child);
	ptrace(PTRACE_DETACH, child, NULL, NULL);
	return -1;
}

/* The node could not make the child of a fork run at home: the home
 * process it made (killed) is reaped inside its parent, which never sees
 * it, nor its SIGCHLD (Linux sends none for a fork that failed). */
static void unfork(struct remote *r, pid_t pid)
{
	uint64_t w[6] = { (uint64_t)pid, 0, __WALL | WNOHANG, 0, 0, 0 };
	int64_t got = 0;
	for (int i = 0; i < 500 && got == 0 && !r->in.dead; i++) {
		if (inject_syscall(&r->in, SYS_wait4, w, &got) != 0)
			break;
		if (got == 0)
			usleep(10000); /* its deputy, its tracer, lets it go as it exits */
	}
	unsigned k = 0;
	for (unsigned i = 0; i < r->in.nsigs; i++) {
		int32_t from;
		memcpy(&from, r->in.sigs[i].info + 16, sizeof from); /* si_pid */
		if (r->in.sigs[i].sig != SIGCHLD || from != (int32_t)pid)
			r->in.sigs[k++] = r->in.sigs[i];
	}
	r->in.nsigs = k;
}

/* The home process takes the SIGCHLD disposition its program has on the
 * node (chld, OM_FORK_CHLD_*): it decides at home whether the children
 * it forks become zombies for its wait. */
static void mirror_sigchld(struct remote *r, uint64_t chld)
{
	uint64_t handler = (uint64_t)(uintptr_t)(chld & OM_FORK_CHLD_IGN ? SIG_IGN : SIG_DFL);
	if (inject_sigaction(&r->in, SIGCHLD, handler, chld & (SA_NOCLDSTOP | SA_NOCLDWAIT), r->in.data) != 0)
		say(r, "its SIGCHLD disposition could not be set at home");
}

int64_t remote_fork(struct remote *r, uint32_t seq, uint64_t chld)
{
	/* At home a plain fork (om_syscall_is_fork: SIGCHLD its exit
	 * signal): the memory that vfork would share, and the addresses clone
	 * writes tids to, are the node's (the node does those). */
	uint64_t args[6] = { SIGCHLD, 0, 0, 0, 0, 0 };
	struct node_fork from = { r->job, seq, r->jc->placed.node, r->in.scratch, r->in.scratch_len, r->in.stub,
				  r->in.data };
	int64_t pid;
	int rc, st;
	mirror_sigchld(r, chld & OM_FORK_CHLD_MASK);
	if ((rc = inject_syscall(&r->in, SYS_clone, args, &pid)) != 0)
		return rc == -E2BIG ? -ENOMEM : rc;
	if (pid <= 0)
		return pid; /* its error, or a restart code for the node's signal handling */
	while (waitpid((pid_t)pid, &st, __WALL) == -1 && errno == EINTR)
		; /* its first stop (auto-attached) */
	if (spawn(r, (pid_t)pid, &from) == 0) {
		say(r, "forked pid %ld on node %u", (long)pid, r->jc->placed.node);
		return pid;
	}
	unfork(r, (pid_t)pid);
	/* The agent or the node would not take the child (no room, no
	 * memory, no deputy): the fork is not the program's to fail. */
	say(r, "no child could be made on node %u: its fork goes home", r->jc->placed.node);
	r->fork_home = 1;
	return -RESTART_NOINTR;
}

/* Follows the process to its end; returns its wait status (or om-run's
 * own failure, or NODE_LOST_STATUS). While it is at home the agent has a
 * record of it (for om-mon and om-migrate). */
static int life(struct remote *r, uint32_t first_node, int rc)
{
	uint32_t node = first_node;
	struct om_cpu base;
	int execed = !r->root; /* om-run's child is at its exec at once */
	for (;;) {
		switch (rc) { /* where the last step left it */
		case STAYS:
			break;
		case NODE_HOME:
			follow_again(r);
			break;
		case NODE_EXITED:
			return r->in.status;
		case NODE_LOST:
			return NODE_LOST_STATUS;
		case NODE_EXECED: /* at home now, at its exec stop */
			remote_exec_settle(r);
			follow_again(r);
			execed = 1;
			if ((rc = place_at_exec(r, 0)) == STAYS)
				r->home_job = 0; /* recorded again, with the new command line */
			continue;
		default:
			return OMRUN_FAIL;
		}
		rc = STAYS;
		if (!r->home_job && execed && r->jc->ctl_fd >= 0) {
			base = r->need;
			if (remote_place(r, &base, 0, OM_JOB_F_HOME) != 0)
				agent_gone(r);
		}
		if (r->moving) { /* a request: the stop, then the move */
			r->moving = 0;
			if (!r->fw.interrupting)
				follow_interrupt(&r->fw);
		}
		switch (follow_run(&r->fw)) {
		case FOLLOW_EXITED:
			r->stats.home_cpu_ms = r->fw.exit_cpu_ms;
			return r->fw.status;
		case FOLLOW_ERROR:
			fprintf(stderr, "om-run: lost track of pid %d: %s\n", (int)r->pid, strerror(errno));
			kill(r->pid, SIGKILL);
			return OMRUN_FAIL;
		case FOLLOW_READABLE:
			drain_agent(r);
			break;
		case FOLLOW_FORK:
			spawn(r, r->fw.child, NULL);
			break;
		case FOLLOW_STOPPED:
			rc = move_out(r, r->move_to);
			break;
		case FOLLOW_EXEC:
			rc = r->jc->restart ? resume_saved(r, node) : place_at_exec(r, node);
			node = 0; /* the user's choice was for the first program */
			execed = 1;
			if (rc == STAYS)
				r->home_job = 0; /* recorded again, with the new command line */
			break;
		}
	}
}

int deputy_run(struct job_ctx *jc)
{
	static struct remote rr;
	struct remote *r = &rr;
	int rc;

	if (remote_init(r, jc, jc->child, 1) != 0)
		return RUN_REMOTE_UNAVAILABLE;
	/* Before anything can end it: its start time tells it from a later
	 * process that has its pid. (Without it only each caller's own
	 * descendants count as the job's.) */
	node_code_since_now(); /* first: call_job_init makes /proc files */
	if (call_job_init(&jc->job, jc->child) != 0)
		say(r, "the job's root is not in /proc: a node reaches only each process's own descendants");
	snprintf(r->prog, sizeof r->prog, "%s", jc->argv[0]);
	if (ptrace(PTRACE_SEIZE, jc->child, NULL, (void *)follow_options()) == -1)
		return RUN_REMOTE_UNAVAILABLE;
	if ((rc = job_release(jc)) != 0) {
		fprintf(stderr, "om-run: %s: %s\n", jc->argv[0], strerror(-rc));
		return (rc == -ENOENT ? 127 : 126) << 8;
	}
	/* om-run stops with its program, never on its own (follow.c). */
	job_catch_stops(1);
	int status = life(r, jc->node, STAYS);
	agent_gone(r); /* the agent forgets the process now, not after the line */
	stats_send(&r->stats, jc->stats_fd);
	return status;
}
