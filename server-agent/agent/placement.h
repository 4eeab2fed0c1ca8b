/* placement.h - which node gets a job.
 *
 * A node qualifies when it is UP and connected, has every CPU feature the
 * job may use (each bit of leaf1_ecx/edx, leaf7_ebx/ecx/edx and XCR0 set in
 * the submit is set on the node), at least the job's memory estimate free,
 * and a free core (its jobs below its cores). Among those the best
 * speed / (jobs + 1) wins, ties to the lower id. */
#ifndef OM_PLACEMENT_H
#define OM_PLACEMENT_H

#include <stddef.h>

#include "job_msg.h"
#include "nodes.h"

/* Returns the node for s, or NULL with a one-line reason for the user in
 * reason[len] ("no node is up", "no node has AVX2", "all cores busy",
 * "node 3 is down", ...). s->node != 0 asks for that node only. parent
 * (0: none) is the job of s's parent process, on parent_node: its core
 * counts as free for s as soon as its node lists it not runnable, without
 * the NODE_IDLE_MS that other jobs wait: a process whose child execs (a
 * shell, make) waits for it; and at once while parent_in_call (a call of
 * its waits at home: the heartbeat need not say so first). s is process
 * s->pid of uid: a core held for it (nodes_hold) is free for it. */
struct node *placement_choose(const struct om_job_submit *s, uint32_t uid, uint32_t parent,
    const struct node *parent_node, int parent_in_call, char *reason, size_t len);

/* Writes the name of the first feature 'need' has and 'have' lacks
 * ("AVX2", "leaf7_ecx bit 30", "XCR0 bit 9 (PKRU)") into buf; returns 0
 * when have has them all. */
int placement_missing(const struct om_cpu *need, const struct om_cpu *have,
    char *buf, size_t len);

#endif
