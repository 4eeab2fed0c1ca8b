/* nodes.c - the node table (see nodes.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nodes.h"

/* Entries are never freed: retired ones keep a MAC's id. A linear scan on
 * HELLO and per sweep is cheap at OM_NODES_MAX entries. */
_Static_assert(NOISE_FP_BYTES == OM_KEY_FP_BYTES, "a node record's fingerprint is noise.h's");

static struct node *nodes_tab[OM_NODES_MAX];
static int nodes_n;
static uint32_t nodes_next_id = 1;

void
nodes_mac_str(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static struct node *
nodes_find(const uint8_t mac[6])
{
	int i;

	for (i = 0; i < nodes_n; i++)
		if (memcmp(nodes_tab[i]->mac, mac, 6) == 0)
			return nodes_tab[i];
	return NULL;
}

/* A fresh entry: a new slot, else the entry retired longest ago. */
static struct node *
nodes_alloc(void)
{
	struct node *n, *old = NULL;
	int i;

	if (nodes_n < OM_NODES_MAX) {
		if ((n = calloc(1, sizeof *n)) == NULL)
			return NULL;
		nodes_tab[nodes_n++] = n;
		return n;
	}
	for (i = 0; i < nodes_n; i++) {
		n = nodes_tab[i];
		if (n->state == NODE_RETIRED && (old == NULL || n->last_seen_ms < old->last_seen_ms))
			old = n;
	}
	if (old != NULL) {
		char mac[18];

		nodes_mac_str(old->mac, mac);
		log_info("node table full: forgetting id %u of retired node %s", old->id, mac);
		memset(old, 0, sizeof *old);
	}
	return old;
}

struct node *
nodes_hello(const struct om_hello *h, const char *ip, uint64_t now, int *isnew)
{
	struct node *n = nodes_find(h->mac);

	*isnew = n == NULL;
	if (n == NULL) {
		if ((n = nodes_alloc()) == NULL)
			return NULL;
		memcpy(n->mac, h->mac, 6);
		n->id = nodes_next_id++;
		n->balance_at = -1;
	}
	n->state = OM_NODE_UP;
	/* A node that left and said HELLO again has restarted: it takes jobs
	 * unless the admin blocked or drained it. */
	n->flags &= (uint8_t)~OM_NODE_F_LEAVING;
	n->said_leaving = 0;
	snprintf(n->ip, sizeof n->ip, "%s", ip);
	n->hello = *h;
	memset(&n->hb, 0, sizeof n->hb);
	n->hb.uptime_ms = h->boot_ms;
	n->hb.mem_free = h->mem_bytes;
	n->registered_ms = n->last_seen_ms = now;
	return n;
}

struct node *
nodes_by_mac(const uint8_t mac[6])
{
	return nodes_find(mac);
}

void
nodes_seen(struct node *n, uint64_t now)
{
	n->last_seen_ms = now;
	if (n->state == OM_NODE_DOWN && n->link != NULL) {
		n->state = OM_NODE_UP;
		log_info("node %u up again", n->id);
	}
}

/* Keeps when each job the heartbeat lists as not runnable became so. */
static void
nodes_note_idle(struct node *n, const struct om_heartbeat *hb, uint64_t now)
{
	uint32_t i, k, m = 0, job[OM_NODE_JOBS_MAX];
	uint64_t since[OM_NODE_JOBS_MAX];

	for (i = 0; i < hb->nlisted && i < OM_NODE_JOBS_MAX; i++) {
		if (hb->listed[i].runnable)
			continue;
		job[m] = hb->listed[i].job;
		since[m] = now;
		for (k = 0; k < n->nidle; k++)
			if (n->idle[k].job == job[m])
				since[m] = n->idle[k].since_ms;
		m++;
	}
	for (i = 0; i < m; i++) {
		n->idle[i].job = job[i];
		n->idle[i].since_ms = since[i];
	}
	n->nidle = m;
}

void
nodes_heartbeat(struct node *n, const struct om_heartbeat *hb, uint64_t now)
{
	n->hb = *hb;
	nodes_note_idle(n, hb, now);
	nodes_seen(n, now);
}

void
nodes_disconnected(struct node *n)
{
	n->link = NULL;
	if (n->state == OM_NODE_UP)
		n->state = OM_NODE_DOWN;
}

void
nodes_each(void (*fn)(struct node *n, void *arg), void *arg)
{
	int i;

	for (i = 0; i < nodes_n; i++)
		if (nodes_tab[i]->state != NODE_RETIRED)
			fn(nodes_tab[i], arg);
}

void
nodes_job_ended(struct node *n, uint32_t id)
{
	n->ended[n->nended++ % NODE_ENDED] = id;
}

int
nodes_had(const struct node *n, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < NODE_ENDED && i < n->nended; i++)
		if (n->ended[i] == id)
			return 1;
	return 0;
}

struct node *
nodes_by_id(uint32_t id)
{
	int i;

	for (i = 0; i < nodes_n; i++)
		if (nodes_tab[i]->id == id && nodes_tab[i]->state != NODE_RETIRED)
			return nodes_tab[i];
	return NULL;
}

uint32_t
nodes_jobs(const struct node *n)
{
	return n->jobs;
}

/* A job's cores beyond its first, as n counts them: never more than n has. */
static uint32_t
extra_cores(const struct node *n, uint32_t cores)
{
	if (cores > n->hello.cpu.cores)
		cores = n->hello.cpu.cores;
	return cores > 1 ? cores - 1 : 0;
}

void
nodes_job_in(struct node *n, uint32_t cores)
{
	n->jobs++;
	n->wide += extra_cores(n, cores);
}

void
nodes_job_out(struct node *n, uint32_t cores)
{
	uint32_t extra = extra_cores(n, cores);

	if (n->jobs > 0)
		n->jobs--;
	n->wide -= extra < n->wide ? extra : n->wide;
}

uint32_t
nodes_busy(const struct node *n, uint64_t now)
{
	return nodes_busy_but(n, now, 0, 0, 0, 0);
}

static void
unhold_at(struct node *n, uint32_t uid, uint32_t pid, uint64_t now)
{
	uint32_t i = 0;

	while (i < n->nheld)
		if ((n->held[i].uid == uid && n->held[i].pid == pid) || now >= n->held[i].until_ms)
			n->held[i] = n->held[--n->nheld];
		else
			i++;
}

void
nodes_hold(struct node *n, uint32_t uid, uint32_t pid, uint32_t cores, uint64_t now)
{
	unhold_at(n, uid, pid, now);
	if (n->nheld < OM_NODE_JOBS_MAX) {
		n->held[n->nheld].uid = uid;
		n->held[n->nheld].pid = pid;
		n->held[n->nheld].cores = extra_cores(n, cores) + 1;
		n->held[n->nheld++].until_ms = now + NODE_HOLD_MS;
	}
}

void
nodes_unhold(uint32_t uid, uint32_t pid, uint64_t now)
{
	int i;

	for (i = 0; i < nodes_n; i++)
		unhold_at(nodes_tab[i], uid, pid, now);
}

static uint32_t
holds(const struct node *n, uint64_t now, uint32_t uid, uint32_t pid)
{
	uint32_t held = 0, i;

	for (i = 0; i < n->nheld; i++)
		if (now < n->held[i].until_ms && !(pid != 0 && n->held[i].uid == uid && n->held[i].pid == pid))
			held += n->held[i].cores;
	return held;
}

uint32_t
nodes_busy_but(const struct node *n, uint64_t now, uint32_t waiting, int waiting_in_call,
    uint32_t uid, uint32_t pid)
{
	uint32_t idle = 0, i;
	int listed = 0;

	for (i = 0; i < n->nidle; i++) {
		if (nodes_had(n, n->idle[i].job))
			continue;
		listed |= waiting != 0 && n->idle[i].job == waiting;
		/* waiting: listed not runnable at all, not NODE_IDLE_MS yet */
		idle += now - n->idle[i].since_ms >= NODE_IDLE_MS || n->idle[i].job == waiting;
	}
	idle += waiting_in_call && !listed;
	return (n->jobs > idle ? n->jobs - idle : 0) + n->wide + holds(n, now, uid, pid);
}


void
nodes_sweep(uint64_t now, const struct nodes_timeouts *t, nodes_unlink_fn *unlink, nodes_down_fn *down,
    nodes_down_fn *lost)
{
	char why[96];

	struct node *n;
	uint64_t quiet;
	int i;

	for (i = 0; i < nodes_n; i++) {
		n = nodes_tab[i];
		if (n->state == NODE_RETIRED)
			continue;
		quiet = now - n->last_seen_ms;
		if (quiet >= t->grace_ms && n->jobs > 0) {
			snprintf(why, sizeof why, "nothing heard for %llu ms (grace %u ms)",
			    (unsigned long long)quiet, t->grace_ms);
			lost(n, why);
		}
		if (quiet >= t->drop_after_ms) {
			log_info("node %u dropped: nothing heard for %llu ms", n->id,
			    (unsigned long long)quiet);
			if (n->state == OM_NODE_UP)
				down(n, "dropped: silent too long");
			if (n->link != NULL)
				unlink(n);
			n->link = NULL;
			n->state = NODE_RETIRED;
		} else if (quiet >= t->down_after_ms && n->state == OM_NODE_UP) {
			log_info("node %u down: nothing heard for %llu ms", n->id,
			    (unsigned long long)quiet);
			n->state = OM_NODE_DOWN;
			snprintf(why, sizeof why, "nothing heard for %llu ms",
			    (unsigned long long)quiet);
			down(n, why);
		}
	}
}

static int
nodes_cmp(const void *a, const void *b)
{
	const struct om_node_info *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static uint32_t
clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

int
nodes_list(struct om_node_info **out, uint64_t now)
{
	struct om_node_info *v, *ni;
	struct node *n;
	int i, k = 0;

	if ((v = calloc(nodes_n ? (size_t)nodes_n : 1, sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < nodes_n; i++) {
		n = nodes_tab[i];
		if (n->state == NODE_RETIRED)
			continue;
		ni = &v[k++];
		ni->id = n->id;
		memcpy(ni->mac, n->mac, 6);
		memcpy(ni->ip, n->ip, sizeof ni->ip);
		memcpy(ni->nic, n->hello.nic, sizeof ni->nic);
		ni->cpu = n->hello.cpu;
		ni->speed = n->hello.speed;
		ni->mem_bytes = n->hello.mem_bytes;
		ni->mem_free = n->hb.mem_free;
		ni->load_milli = n->hb.load_milli;
		/* The table shows what the node itself reports too (placement
		 * goes by nodes_jobs, the agent's own count). */
		ni->jobs = n->hb.jobs > n->jobs ? n->hb.jobs : n->jobs;
		ni->state = (uint8_t)n->state;
		ni->flags = n->flags;
		ni->uptime_ms = n->hb.uptime_ms;
		ni->registered_s = clamp32((now - n->registered_ms) / 1000);
		ni->last_seen_ms = clamp32(now - n->last_seen_ms);
		noise_fp_bytes(n->key, ni->key_fp);
		ni->claims = n->claims.flag;
	}
	qsort(v, (size_t)k, sizeof *v, nodes_cmp);
	*out = v;
	return k;
}
