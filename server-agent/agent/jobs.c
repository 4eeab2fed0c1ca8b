/* jobs.c - the job table: submit, list, migrate, and how jobs end (see
 * jobs.h). Frame relaying is in relay.c, node choice in placement.c. */
#include <sys/random.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balancer.h"
#include "bufmem.h"
#include "drain.h"
#include "ev.h"
#include "job_limits.h"
#include "jobs.h"
#include "log.h"
#include "move_relay.h"
#include "moves.h"
#include "placement.h"
#include "proc_stat.h"
#include "reattach.h"

#define JOBS_HASH 1024 /* power of two */

static struct job *jobs_all;
static struct job *jobs_hash[JOBS_HASH];
static int jobs_live;
static uint32_t jobs_next_id; /* 0: not drawn yet */
static int jobs_keep; /* jobs_keep_on_close */

struct job *
jobs_find(uint32_t id)
{
	struct job *j;

	for (j = jobs_hash[id & (JOBS_HASH - 1)]; j != NULL; j = j->hnext)
		if (j->id == id)
			return j;
	return NULL;
}

static uint32_t
jobs_new_id(void)
{
	uint32_t id;

	/* Jobs of an agent before this one may come back under their ids
	 * (reattach.h): a new agent starts its count somewhere else. */
	if (jobs_next_id == 0) {
		if (getrandom(&jobs_next_id, sizeof jobs_next_id, 0) != sizeof jobs_next_id)
			jobs_next_id = (uint32_t)ev_now_ms();
		jobs_next_id &= 0x7fffffff; /* a start below 2^31: ids stay printable as ints for long */
	}
	/* At most OM_JOBS_MAX ids are live, so this ends quickly. */
	do {
		id = jobs_next_id++;
	} while (id == 0 || jobs_find(id) != NULL || reattach_claimed(id));
	return id;
}

static void
jobs_link(struct job *j)
{
	struct job **hp = &jobs_hash[j->id & (JOBS_HASH - 1)];

	j->hnext = *hp;
	*hp = j;
	j->next = jobs_all;
	if (jobs_all != NULL)
		jobs_all->prev = j;
	jobs_all = j;
	jobs_live++;
}

static void
jobs_unlink(struct job *j)
{
	struct job **hp;

	for (hp = &jobs_hash[j->id & (JOBS_HASH - 1)]; *hp != j; hp = &(*hp)->hnext)
		;
	*hp = j->hnext;
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		jobs_all = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	jobs_live--;
}

void
jobs_end(struct job *j, const char *what)
{
	log_info("job %u (uid %u pid %u) on node %u ended: %s", j->id, j->uid, j->pid,
	    j->node ? j->node->id : 0, what);
	if (j->node)
		nodes_job_out(j->node, j->need.cores);
	if (j->node)
		nodes_job_ended(j->node, j->id);
	move_relay_end(j);
	jobs_unlink(j);
	free(j);
}

void
jobs_free_all(void)
{
	while (jobs_all != NULL)
		jobs_end(jobs_all, "agent shutting down");
}

/* Ids of the live jobs matching; the caller re-finds each one by id, so a
 * job ended by a callback on the way is simply skipped. */
static int
jobs_collect(uint32_t *ids, int max, struct node *n, struct conn *home)
{
	struct job *j;
	int k = 0;

	for (j = jobs_all; j != NULL && k < max; j = j->next)
		if ((n != NULL && j->node == n) || (home != NULL && j->home == home))
			ids[k++] = j->id;
	return k;
}

int
jobs_proc_stat(const struct job *j, struct proc_stat *st)
{
	if (proc_stat_read(j->pid, st) == -1 || (j->starttime != 0 && st->starttime != j->starttime))
		return -1;
	return 0;
}

/* Records the identity of j's home process, read once at its SUBMIT. */
static void
jobs_identify(struct job *j)
{
	struct proc_stat st;

	j->starttime = proc_stat_read(j->pid, &st) == 0 ? st.starttime : 0;
}

void
jobs_each(void (*fn)(struct job *j, void *arg), void *arg)
{
	struct job *j;

	for (j = jobs_all; j != NULL; j = j->next)
		fn(j, arg);
}

/* ---- submit */

/* Whether pid is traced by caller: /proc/PID/status, TracerPid. */
static int
jobs_traced_by(uint32_t pid, uint32_t caller)
{
	char path[64], line[128];
	unsigned long tracer = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%u/status", pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = sscanf(line, "TracerPid: %lu", &tracer) == 1;
	fclose(f);
	return found && tracer == caller;
}

/* The pid in a SUBMIT must be one the caller controls: itself, its child
 * (om-run forks the program, then submits), or a process it traces (the
 * deputy of a process the program forked). */
int
jobs_pid_ok(uint32_t pid, uint32_t caller)
{
	struct proc_stat st;

	if (pid == caller)
		return 1;
	if (proc_stat_read(pid, &st) == -1)
		return 0;
	return st.ppid == caller || jobs_traced_by(pid, caller);
}

static void
jobs_reply_placed(struct conn *c, const struct om_job_placed *pl)
{
	uint8_t buf[OM_JOB_PLACED_MAX];
	int n;

	if ((n = om_job_placed_encode(pl, buf, sizeof buf)) < 0)
		conn_fail(c, n, "cannot encode CTL_JOB_PLACED: %s", om_strerror(n));
	else
		(void)conn_send(c, OM_T_CTL_JOB_PLACED, pl->job, 0, buf, (size_t)n);
}

static void
jobs_not_placed(struct conn *c, const struct om_job_submit *s, const struct job_home *jh,
    const char *reason)
{
	struct om_job_placed pl;

	memset(&pl, 0, sizeof pl);
	snprintf(pl.reason, sizeof pl.reason, "%s", reason);
	log_info("job not placed (uid %u pid %u \"%s\"): %s", jh->uid, s->pid, s->cmd, reason);
	/* Its deputy asks once more when its parent is busy (life.c). */
	if (strcmp(reason, OM_REASON_PARENT_BUSY) != 0)
		nodes_unhold(jh->uid, s->pid, ev_now_ms());
	jobs_reply_placed(c, &pl);
}

/* A process has one record: its placement on a node, or a new record at
 * home, ends the one that said it was at home. */
static struct job *
jobs_home_record(struct conn *c, uint32_t pid)
{
	struct job *j;

	for (j = jobs_all; j != NULL; j = j->next)
		if (j->home == c && j->pid == pid && j->node == NULL)
			return j;
	return NULL;
}

static void
jobs_end_home_record(struct conn *c, uint32_t pid, const char *why)
{
	struct job *j = jobs_home_record(c, pid);

	if (j != NULL)
		jobs_end(j, why);
}

/* A new job for c's process s->pid under id: on n, counted there, or its
 * record at home (n NULL). */
static struct job *
jobs_new_as(struct conn *c, struct job_home *jh, const struct om_job_submit *s, struct node *n, uint32_t id)
{
	struct job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->id = id;
	j->uid = jh->uid;
	j->pid = s->pid;
	j->home_pid = jh->pid;
	memcpy(j->cmd, s->cmd, sizeof j->cmd);
	j->state = n != NULL ? OM_JOB_PLACED : OM_JOB_HOME;
	jobs_identify(j);
	j->start_ms = ev_now_ms();
	j->need = s->cpu;
	j->mem_bytes = s->mem_bytes;
	j->node = n;
	j->home = c;
	jobs_link(j);
	if (n != NULL)
		nodes_job_in(n, j->need.cores);
	jh->ids[jh->nids++ % JOBS_REMEMBERED] = j->id;
	return j;
}

static struct job *
jobs_new(struct conn *c, struct job_home *jh, const struct om_job_submit *s, struct node *n)
{
	return jobs_new_as(c, jh, s, n, jobs_new_id());
}

struct job *
jobs_adopt(struct conn *c, struct job_home *jh, const struct om_job_submit *s, uint32_t id,
    const char **why)
{
	static uint32_t live[JOBS_PER_HOME];
	struct job *j = NULL;

	if (!jobs_pid_ok(s->pid, jh->pid))
		*why = "its pid is not om-run's child or tracee";
	else if (jobs_find(id) != NULL)
		*why = "its job id is another job's";
	else if (jobs_collect(live, JOBS_PER_HOME, NULL, c) >= JOBS_PER_HOME)
		*why = "too many jobs on one connection";
	else if (jobs_live >= OM_JOBS_MAX)
		*why = "the agent holds too many jobs";
	else if ((*why = job_limits_user(jh->uid)) != NULL)
		;
	else if ((j = jobs_new_as(c, jh, s, NULL, id)) == NULL)
		*why = "agent out of memory";
	else
		j->state = OM_JOB_RUNNING;
	return j;
}

void
jobs_keep_on_close(void)
{
	jobs_keep = 1;
}

/* A process of a job that runs at home, followed by its deputy: a record
 * without a node, for om-mon and om-migrate (and the deputy's CTL_MIGRATE). */
static void
jobs_record_home(struct conn *c, struct job_home *jh, const struct om_job_submit *s, uint8_t moved)
{
	struct om_job_placed pl;
	struct job *j;

	jobs_end_home_record(c, s->pid, "recorded again");
	if ((j = jobs_new(c, jh, s, NULL)) == NULL) {
		jobs_not_placed(c, s, jh, "agent out of memory");
		return;
	}
	j->why = moved ? moved : OM_WHY_HOME;
	j->pinned = moved == OM_WHY_MIGRATE; /* the user said home */
	log_debug("job %u: uid %u pid %u runs at home: %s", j->id, j->uid, j->pid, j->cmd);
	memset(&pl, 0, sizeof pl);
	pl.job = j->id;
	snprintf(pl.reason, sizeof pl.reason, "at home");
	jobs_reply_placed(c, &pl);
}

/* The frames of a job on n may be big (IMAGE frames of up to 1 MiB)
 * both ways. Returns NULL, or why there is no room for that. */
const char *
jobs_relay_limits(struct conn *c, struct node *n)
{
	static char why[OM_STR_MAX + 1];
	struct conn *nc = node_conn_get(n);

	if (nc == NULL)
		return "the node was lost";
	if (conn_set_limits(nc, RELAY_RX_CAP, RELAY_NODE_OUT_MAX) == 0 &&
	    conn_set_limits(c, RELAY_RX_CAP, RELAY_OUT_MAX) == 0)
		return NULL;
	if (errno != ENOBUFS)
		return "agent out of memory";
	snprintf(why, sizeof why, "at the cap on %s", bufmem_cap_name());
	return why;
}

static void
jobs_reply_node(struct conn *c, const struct job *j)
{
	struct om_job_placed pl;

	memset(&pl, 0, sizeof pl);
	pl.job = j->id;
	pl.node = j->node->id;
	pl.cpu = j->node->hello.cpu;
	snprintf(pl.addr, sizeof pl.addr, "%s", j->node->ip);
	memcpy(pl.key, j->node->key, sizeof pl.key);
	jobs_reply_placed(c, &pl);
}

/* The job of uid's process pid on a node, or NULL. */
static struct job *
jobs_placed_pid(uint32_t uid, uint32_t pid)
{
	struct job *j;

	for (j = jobs_all; j != NULL; j = j->next)
		if (j->uid == uid && j->pid == pid && j->node != NULL)
			return j;
	return NULL;
}

/* The job of pid's parent process, if it runs on a node (NULL: none). */
static struct job *
jobs_parent_on_node(uint32_t uid, uint32_t pid)
{
	struct proc_stat st;

	return proc_stat_read(pid, &st) == -1 ? NULL : jobs_placed_pid(uid, st.ppid);
}

/* The child of a fork its parent makes on a node, whose home process the
 * caller traces: it starts there as the parent's copy (JOB_FORK), before
 * the parent's call returns; the balancer may move it later. Only for the
 * parent's own child at home (the fork run there made it), traced by the
 * caller (its deputy), and only while the parent runs there: no one gets
 * a copy of a job that is not its parent's fork. */
static void
jobs_fork(struct conn *c, struct job_home *jh, const struct om_job_submit *s)
{
	struct job *parent = jobs_find(s->fork_job), *j;
	char reason[OM_STR_MAX + 1];
	const char *why;
	struct om_job_fork f;
	struct proc_stat st;
	uint8_t buf[16];
	uint32_t id;
	struct node *n;
	int len;

	if (parent == NULL || parent->uid != jh->uid || parent->node == NULL ||
	    (parent->state != OM_JOB_RUNNING && parent->state != OM_JOB_STOPPED)) {
		jobs_not_placed(c, s, jh, "its parent does not run on a node");
		return;
	}
	if (proc_stat_read(s->pid, &st) == -1 || st.ppid != parent->pid || !jobs_traced_by(s->pid, jh->pid)) {
		conn_fail(c, OM_E_RANGE, "pid %u is not a child of job %u's process that the caller traces",
		    s->pid, parent->id);
		return;
	}
	/* Each child is made once: a process with a job already is not. */
	if ((j = jobs_placed_pid(jh->uid, s->pid)) != NULL) {
		conn_fail(c, OM_E_STATE, "pid %u has job %u already", s->pid, j->id);
		return;
	}
	n = parent->node;
	if (!drain_open(n)) { /* the parent comes home to fork (om-run) */
		snprintf(reason, sizeof reason, "node %u takes no new jobs (%s)", n->id, drain_why(n));
		jobs_not_placed(c, s, jh, reason);
		return;
	}
	if ((why = jobs_relay_limits(c, n)) != NULL || (j = jobs_new(c, jh, s, n)) == NULL) {
		jobs_not_placed(c, s, jh, why != NULL ? why : "agent out of memory");
		return;
	}
	jobs_end_home_record(c, s->pid, "it is forked on a node");
	j->need = parent->need; /* its memory is the parent's */
	j->need.cores = s->cpu.cores; /* as counted on the node: its own */
	j->mem_bytes = parent->mem_bytes;
	j->why = OM_WHY_FORK;
	id = j->id;
	log_info("job %u: forked by job %u on node %u for uid %u pid %u: %s", id, parent->id,
	    n->id, j->uid, j->pid, j->cmd);
	f.parent = parent->id;
	f.seq = s->fork_seq;
	f.pid = s->pid;
	len = om_job_fork_encode(&f, buf, sizeof buf); /* parent and pid are >= 1: it fits */
	/* A failed send closes the node's connection (ended with this turn):
	 * the child is not placed after all, and its deputy says so. */
	if (conn_send(node_conn_get(n), OM_T_JOB_FORK, id, 0, buf, (size_t)len) == -1) {
		jobs_end(j, "the node was lost");
		jobs_not_placed(c, s, jh, "the node was lost");
		return;
	}
	jobs_reply_node(c, j);
}

void
jobs_submit(struct conn *c, struct job_home *jh, const uint8_t *p, uint32_t len)
{
	struct om_job_submit s;
	struct node *n;
	struct job *j, *parent;
	char reason[OM_STR_MAX + 1];
	const char *why;
	uint8_t moved;
	int rc, replacing;

	if ((rc = om_job_submit_decode(p, len, &s)) != OM_OK) {
		conn_fail(c, rc, "bad CTL_JOB_SUBMIT: %s", om_strerror(rc));
		return;
	}
	if (!jobs_pid_ok(s.pid, jh->pid)) {
		conn_fail(c, OM_E_RANGE, "pid %u is not the caller, its child or its tracee", s.pid);
		return;
	}
	/* A SUBMIT naming the target of a move in flight is that move (and
	 * the move is over, placed or not). */
	if (s.flags & OM_JOB_F_HOME)
		moved = moves_land(jh->uid, s.pid, 0);
	else
		moved = s.node != 0 ? moves_land(jh->uid, s.pid, s.node) : 0;
	/* A process's record at home is replaced, not added to. A fork's
	 * child is a new process: it counts, whatever the caller recorded. */
	replacing = !(s.flags & OM_JOB_F_FORK) && jobs_home_record(c, s.pid) != NULL;
	static uint32_t live[JOBS_PER_HOME];
	if (!replacing && jobs_collect(live, JOBS_PER_HOME, NULL, c) >= JOBS_PER_HOME) {
		jobs_not_placed(c, &s, jh, "too many jobs on one connection");
		return;
	}
	if (!replacing && jobs_live >= OM_JOBS_MAX) {
		jobs_not_placed(c, &s, jh, "the agent holds too many jobs");
		return;
	}
	if (!replacing && (why = job_limits_user(jh->uid)) != NULL) {
		jobs_not_placed(c, &s, jh, why);
		return;
	}
	if (s.flags & OM_JOB_F_HOME) {
		jobs_record_home(c, jh, &s, moved);
		return;
	}
	if (s.flags & OM_JOB_F_FORK) {
		s.cpu.cores = 1; /* a fork counts one core, whatever its parent has */
		jobs_fork(c, jh, &s);
		return;
	}
	parent = jobs_parent_on_node(jh->uid, s.pid);
	if ((n = placement_choose(&s, jh->uid, parent ? parent->id : 0, parent ? parent->node : NULL,
	    parent ? parent->in_call : 0, reason, sizeof reason)) == NULL) {
		/* A parent that runs on (it has just forked this child, say)
		 * may wait for it a moment later: its deputy may ask again. */
		if (parent != NULL && !parent->in_call && strcmp(reason, "all cores busy") == 0)
			snprintf(reason, sizeof reason, "%s", OM_REASON_PARENT_BUSY);
		jobs_not_placed(c, &s, jh, reason);
		return;
	}
	/* Both sides of the relay now carry IMAGE frames of up to 1 MiB. */
	if ((why = jobs_relay_limits(c, n)) != NULL) {
		jobs_not_placed(c, &s, jh, why);
		return;
	}
	jobs_end_home_record(c, s.pid, "it leaves home");
	nodes_unhold(jh->uid, s.pid, ev_now_ms());
	if ((j = jobs_new(c, jh, &s, n)) == NULL) {
		jobs_not_placed(c, &s, jh, "agent out of memory");
		return;
	}
	/* The user's choice (--node, om-migrate) holds; the balancer's does not. */
	j->pinned = s.node != 0 && moved != OM_WHY_BALANCER;
	j->why = moved ? moved : s.node != 0 ? OM_WHY_ASKED : OM_WHY_PLACED;
	log_info("job %u placed on node %u (%s) for uid %u pid %u: %s", j->id, n->id, n->ip,
	    j->uid, j->pid, j->cmd);
	jobs_reply_node(c, j);
}

/* ---- list */

static int
jobs_visible(const struct job *j, uint32_t uid)
{
	return uid == 0 || j->uid == uid;
}

void
jobs_list(struct conn *c, const struct job_home *jh)
{
	struct om_job_info *v;
	struct proc_stat st;
	struct job *j;
	uint64_t now = ev_now_ms();
	uint8_t *buf;
	uint32_t k = 0;
	int len;

	v = calloc(jobs_live ? (size_t)jobs_live : 1, sizeof *v);
	buf = malloc(OM_MAX_PAYLOAD);
	if (v == NULL || buf == NULL) {
		free(v);
		free(buf);
		conn_fail(c, OM_E_NOSPACE, "out of memory");
		return;
	}
	for (j = jobs_all; j != NULL; j = j->next) {
		if (!jobs_visible(j, jh->uid))
			continue;
		v[k].job = j->id;
		v[k].node = j->node ? j->node->id : 0;
		v[k].uid = j->uid;
		v[k].pid = j->pid;
		v[k].ppid = jobs_proc_stat(j, &st) == 0 ? st.ppid : 0;
		v[k].why = j->why;
		memcpy(v[k].cmd, j->cmd, sizeof v[k].cmd);
		v[k].runtime_ms = now - j->start_ms;
		v[k].state = j->move_to != NULL ? OM_JOB_MOVING : j->state;
		k++;
	}
	/* Newest first from the list; show them in id order. */
	for (uint32_t a = 0; a < k / 2; a++) {
		struct om_job_info t = v[a];

		v[a] = v[k - 1 - a];
		v[k - 1 - a] = t;
	}
	len = om_job_list_encode(v, k, buf, OM_MAX_PAYLOAD);
	if (len < 0)
		conn_fail(c, len, "cannot encode job list: %s", om_strerror(len));
	else
		(void)conn_send(c, OM_T_CTL_JOBS_REPLY, 0, 0, buf, (size_t)len);
	free(buf);
	free(v);
}

/* ---- migrate */

int
jobs_move(struct job *j, uint32_t target, uint8_t cause, const char *who, char *why, size_t len)
{
	struct om_job_migrate m = { j->pid, target };
	struct node *to = target ? nodes_by_id(target) : NULL, *from = j->node;
	uint32_t id = j->id;
	int homing = j->state == OM_JOB_HOMING;
	uint8_t buf[8];
	int rc;

	if (target != 0 && (to == NULL || to->state != OM_NODE_UP)) {
		snprintf(why, len, "job %u: node %u is not up", j->id, target);
		return OM_E_RANGE;
	}
	if (j->reattach_ms != 0) {
		snprintf(why, len, "job %u waits for its node to claim it again", j->id);
		return OM_E_STATE;
	}
	if (from == NULL && target == 0) {
		snprintf(why, len, "pid %u runs at home already", j->pid);
		return OM_E_STATE;
	}
	if (from != NULL && from->id == target) {
		snprintf(why, len, "job %u runs on node %u already", j->id, target);
		return OM_E_STATE;
	}
	if ((rc = om_job_migrate_encode(&m, buf, sizeof buf)) < 0) {
		snprintf(why, len, "cannot encode CTL_MIGRATE: %s", om_strerror(rc));
		return rc;
	}
	if (j->move_to != NULL) {
		snprintf(why, len, "job %u is on its way to node %u already", j->id, j->move_to->id);
		return OM_E_STATE;
	}
	if (moves_add(j->uid, j->pid, from ? from->id : 0, target, cause, ev_now_ms()) == -1)
		log_warnx("job %u: the table of moves is full; its move is not recorded", id);
	if (from != NULL && target != 0 && !homing && move_relay_start(j, to, who) == 0)
		return OM_OK;
	if (from == NULL)
		log_info("job %u: %s moves it from home to node %u", id, who, target);
	else if (target != 0)
		log_info("job %u: %s moves it from node %u to node %u, through home", id, who, from->id,
		    target);
	else
		log_info("job %u: %s asks for it to come home from node %u", id, who, from->id);
	jobs_move_through_home(j, target);
	return OM_OK;
}

void
jobs_move_through_home(struct job *j, uint32_t target)
{
	struct om_job_migrate m = { j->pid, target };
	uint32_t id = j->id;
	int homing = j->state == OM_JOB_HOMING;
	struct node *from = j->node;
	struct conn *nc;
	uint8_t buf[8];
	int rc;

	if ((rc = om_job_migrate_encode(&m, buf, sizeof buf)) < 0)
		return; /* jobs_move checked it encodes */
	/* Its om-run hears where it goes next (from a node: before JOB_HOME
	 * comes; home cancels an earlier target). A failed send closes that
	 * connection when the loop's turn is over (conn.h). */
	(void)conn_send(j->home, OM_T_CTL_MIGRATE, id, 0, buf, (size_t)rc);
	if (from != NULL && !homing && jobs_find(id) != NULL && (nc = node_conn_get(from)) != NULL)
		(void)conn_send(nc, OM_T_MIGRATE_HOME, id, 0, NULL, 0);
}

void
jobs_migrate(struct conn *c, const struct job_home *jh, const uint8_t *p, uint32_t len)
{
	struct om_job_migrate m;
	struct job *j;
	uint8_t buf[8];
	char who[48], why[OM_STR_MAX + 1];
	uint8_t cause = OM_WHY_MIGRATE;
	int rc;

	if ((rc = om_job_migrate_decode(p, len, &m)) != OM_OK) {
		conn_fail(c, rc, "bad CTL_MIGRATE: %s", om_strerror(rc));
		return;
	}
	for (j = jobs_all; j != NULL; j = j->next)
		if ((j->pid == m.pid || j->home_pid == m.pid) && jobs_visible(j, jh->uid))
			break;
	if (j == NULL) {
		conn_fail(c, OM_E_STATE, "pid %u: no such job", m.pid);
		return;
	}
	snprintf(who, sizeof who, "uid %u", jh->uid);
	if (m.target == OM_MIGRATE_BALANCE) {
		if (balancer_target(j, &m.target, why, sizeof why) == -1) {
			conn_fail(c, OM_E_STATE, "%s", why);
			return;
		}
		snprintf(who, sizeof who, "uid %u (om-migrate balance)", jh->uid);
		cause = OM_WHY_BALANCER; /* the balancer's choice: not a pin */
	}
	if ((rc = jobs_move(j, m.target, cause, who, why, sizeof why)) != OM_OK) {
		conn_fail(c, rc, "%s", why);
		return;
	}
	if ((rc = om_job_migrate_encode(&m, buf, sizeof buf)) > 0)
		(void)conn_send(c, OM_T_CTL_MIGRATE, 0, 0, buf, (size_t)rc);
}

/* ---- endings */

void
jobs_checkpoint(struct conn *c, const struct job_home *jh, const uint8_t *p, uint32_t len)
{
	struct om_ctl_checkpoint m;
	struct job *j;
	int rc;

	if ((rc = om_ctl_checkpoint_decode(p, len, &m)) != OM_OK) {
		conn_fail(c, rc, "bad CTL_CHECKPOINT: %s", om_strerror(rc));
		return;
	}
	/* The job's own user only, root too: the file it names is where the
	 * job's om-run writes, and restarts from, as that user. */
	for (j = jobs_all; j != NULL; j = j->next)
		if ((j->pid == m.pid || j->home_pid == m.pid) && j->uid == jh->uid)
			break;
	if (j == NULL) {
		conn_fail(c, OM_E_STATE, "pid %u: no such job of yours", m.pid);
		return;
	}
	if (j->node == NULL || j->reattach_ms != 0 || j->move_to != NULL || j->state != OM_JOB_RUNNING) {
		conn_fail(c, OM_E_STATE, "pid %u: not running on a node (its image is taken there)", m.pid);
		return;
	}
	log_info("job %u: uid %u asks for a checkpoint into %s", j->id, jh->uid, m.path);
	/* Its om-run takes it (the deputy writes the file, as the job's user). */
	if (conn_send(j->home, OM_T_CTL_CHECKPOINT, j->id, 0, p, len) != 0) {
		conn_fail(c, OM_E_STATE, "pid %u: its om-run is gone", m.pid);
		return;
	}
	(void)conn_send(c, OM_T_CTL_CHECKPOINT, 0, 0, p, len);
}

void
jobs_home_gone(struct conn *c)
{
	/* The ids first: ending a job changes the list walked. */
	uint32_t ids[OM_JOBS_MAX];
	char why[sizeof c->why + 64];
	struct conn *nc;
	struct job *j;
	int i, k;

	if (jobs_keep) {
		jobs_conn_gone(c);
		return;
	}
	/* Whose doing it was, for the log: om-run's end, or the agent's. */
	snprintf(why, sizeof why, "om-run went away (%s); JOB_KILL sent to the node",
	    c->why[0] ? c->why : "closed");
	k = jobs_collect(ids, OM_JOBS_MAX, NULL, c);
	for (i = 0; i < k; i++) {
		if ((j = jobs_find(ids[i])) == NULL || j->home != c)
			continue;
		moves_forget(j->uid, j->pid);
		if ((nc = node_conn_get(j->node)) != NULL)
			(void)conn_send(nc, OM_T_JOB_KILL, j->id, 0, NULL, 0);
		if ((j = jobs_find(ids[i])) != NULL)
			jobs_end(j, why);
	}
	jobs_conn_gone(c);
}

void
jobs_moves_sweep(uint64_t now)
{
	uint32_t ids[OM_JOBS_MAX];
	struct job *j;
	int i, k = 0;

	for (j = jobs_all; j != NULL && k < OM_JOBS_MAX; j = j->next)
		if (move_relay_stalled(j, now))
			ids[k++] = j->id;
	for (i = 0; i < k; i++)
		if ((j = jobs_find(ids[i])) != NULL && move_relay_stalled(j, now))
			move_relay_abort(j, "no word of it from the nodes for 15 s");
}

void
jobs_relax_sweep(uint64_t now)
{
	struct conn *nc;
	struct job *j;

	for (j = jobs_all; j != NULL; j = j->next) {
		if (j->node == NULL)
			continue; /* at home: no frames to relay */
		conn_in_use(j->home);
		if ((nc = node_conn_get(j->node)) != NULL)
			conn_in_use(nc);
		if (j->move_to != NULL && (nc = node_conn_get(j->move_to)) != NULL)
			conn_in_use(nc);
	}
	conn_relax_idle(now, JOBS_RELAX_MS);
}

void
jobs_lose(struct job *j, const char *why)
{
	struct om_node_lost nl;
	struct node *n = j->node;
	struct conn *nc;
	uint32_t id = j->id;
	uint8_t buf[8 + OM_STR_MAX];
	char what[160];
	int i, len;

	nl.node = n != NULL ? n->id : 0;
	snprintf(nl.reason, sizeof nl.reason, "%s", why);
	for (i = 0; nl.reason[i] != '\0'; i++)
		if (nl.reason[i] < 0x20 || nl.reason[i] > 0x7e)
			nl.reason[i] = '?';
	if ((len = om_node_lost_encode(&nl, buf, sizeof buf)) < 0)
		len = 0;
	(void)conn_send(j->home, OM_T_NODE_LOST, id, 0, buf, (size_t)len);
	if ((j = jobs_find(id)) == NULL)
		return;
	/* Still connected (silent, or replaced): make it drop the job. */
	if (n != NULL && (nc = node_conn_get(n)) != NULL)
		(void)conn_send(nc, OM_T_JOB_KILL, id, 0, NULL, 0);
	if ((j = jobs_find(id)) != NULL) {
		snprintf(what, sizeof what, "node lost (%s); NODE_LOST sent to om-run", why);
		jobs_end(j, what);
	}
}

void
jobs_moves_to_lost(struct node *n)
{
	uint32_t ids[OM_JOBS_MAX]; /* not static: see jobs_home_gone */
	struct job *j;
	int i, k = 0;

	for (j = jobs_all; j != NULL && k < OM_JOBS_MAX; j = j->next)
		if (j->move_to == n)
			ids[k++] = j->id;
	for (i = 0; i < k; i++)
		if ((j = jobs_find(ids[i])) != NULL && j->move_to == n)
			move_relay_abort(j, "the node it went to was lost");
}

void
jobs_node_lost(struct node *n, const char *why)
{
	uint32_t ids[OM_JOBS_MAX];
	struct job *j;
	int i, k;

	if (jobs_keep)
		return;
	jobs_moves_to_lost(n); /* they go on where they are */
	k = jobs_collect(ids, OM_JOBS_MAX, n, NULL);
	for (i = 0; i < k; i++)
		if ((j = jobs_find(ids[i])) != NULL && j->node == n)
			jobs_lose(j, why);
}
