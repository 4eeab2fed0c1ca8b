/* placement.c - node choice for a job (see placement.h). */
#include <stdio.h>
#include <string.h>

#include "drain.h"
#include "ev.h"
#include "jobs.h"
#include "placement.h"

/* Feature names as the Intel SDM vol. 2A CPUID tables spell them (leaf 1
 * ECX/EDX: tables 3-10/3-11; leaf 7 subleaf 0: table 3-8) and XCR0 state
 * components (SDM vol. 1, 13.1). Bits not named here are reported by
 * register and number. */
struct feat {
	int reg;        /* index into the registers compared */
	int bit;
	const char *name;
};

enum { R_L1ECX, R_L1EDX, R_L7EBX, R_L7ECX, R_L7EDX, R_XCR0, R_N };

static const char *const reg_names[R_N] = {
	"leaf1_ecx", "leaf1_edx", "leaf7_ebx", "leaf7_ecx", "leaf7_edx", "XCR0"
};

static const struct feat feats[] = {
	{ R_L1ECX, 0, "SSE3" }, { R_L1ECX, 1, "PCLMULQDQ" }, { R_L1ECX, 9, "SSSE3" },
	{ R_L1ECX, 12, "FMA" }, { R_L1ECX, 13, "CMPXCHG16B" }, { R_L1ECX, 19, "SSE4.1" },
	{ R_L1ECX, 20, "SSE4.2" }, { R_L1ECX, 22, "MOVBE" }, { R_L1ECX, 23, "POPCNT" },
	{ R_L1ECX, 25, "AES" }, { R_L1ECX, 26, "XSAVE" }, { R_L1ECX, 27, "OSXSAVE" },
	{ R_L1ECX, 28, "AVX" }, { R_L1ECX, 29, "F16C" }, { R_L1ECX, 30, "RDRAND" },
	{ R_L1EDX, 0, "FPU" }, { R_L1EDX, 4, "TSC" }, { R_L1EDX, 8, "CMPXCHG8B" },
	{ R_L1EDX, 15, "CMOV" }, { R_L1EDX, 19, "CLFSH" }, { R_L1EDX, 23, "MMX" },
	{ R_L1EDX, 24, "FXSR" }, { R_L1EDX, 25, "SSE" }, { R_L1EDX, 26, "SSE2" },
	{ R_L7EBX, 0, "FSGSBASE" }, { R_L7EBX, 3, "BMI1" }, { R_L7EBX, 4, "HLE" },
	{ R_L7EBX, 5, "AVX2" }, { R_L7EBX, 8, "BMI2" }, { R_L7EBX, 9, "ERMS" },
	{ R_L7EBX, 11, "RTM" }, { R_L7EBX, 16, "AVX512F" }, { R_L7EBX, 17, "AVX512DQ" },
	{ R_L7EBX, 18, "RDSEED" }, { R_L7EBX, 19, "ADX" }, { R_L7EBX, 21, "AVX512_IFMA" },
	{ R_L7EBX, 23, "CLFLUSHOPT" }, { R_L7EBX, 24, "CLWB" }, { R_L7EBX, 28, "AVX512CD" },
	{ R_L7EBX, 29, "SHA" }, { R_L7EBX, 30, "AVX512BW" }, { R_L7EBX, 31, "AVX512VL" },
	{ R_L7ECX, 1, "AVX512_VBMI" }, { R_L7ECX, 3, "PKU" }, { R_L7ECX, 6, "AVX512_VBMI2" },
	{ R_L7ECX, 8, "GFNI" }, { R_L7ECX, 9, "VAES" }, { R_L7ECX, 10, "VPCLMULQDQ" },
	{ R_L7ECX, 11, "AVX512_VNNI" }, { R_L7ECX, 12, "AVX512_BITALG" },
	{ R_L7ECX, 14, "AVX512_VPOPCNTDQ" }, { R_L7ECX, 22, "RDPID" },
	{ R_L7EDX, 4, "FSRM" }, { R_L7EDX, 8, "AVX512_VP2INTERSECT" },
	{ R_L7EDX, 14, "SERIALIZE" }, { R_L7EDX, 22, "AMX-BF16" }, { R_L7EDX, 23, "AVX512_FP16" },
	{ R_L7EDX, 24, "AMX-TILE" }, { R_L7EDX, 25, "AMX-INT8" },
	{ R_XCR0, 0, "XCR0 bit 0 (x87)" }, { R_XCR0, 1, "XCR0 bit 1 (SSE)" },
	{ R_XCR0, 2, "XCR0 bit 2 (AVX)" }, { R_XCR0, 5, "XCR0 bit 5 (AVX-512 opmask)" },
	{ R_XCR0, 6, "XCR0 bit 6 (AVX-512 ZMM_Hi256)" }, { R_XCR0, 7, "XCR0 bit 7 (AVX-512 Hi16_ZMM)" },
	{ R_XCR0, 9, "XCR0 bit 9 (PKRU)" }, { R_XCR0, 17, "XCR0 bit 17 (AMX TILECFG)" },
	{ R_XCR0, 18, "XCR0 bit 18 (AMX TILEDATA)" },
};

static void
cpu_regs(const struct om_cpu *c, uint64_t r[R_N])
{
	r[R_L1ECX] = c->leaf1_ecx;
	r[R_L1EDX] = c->leaf1_edx;
	r[R_L7EBX] = c->leaf7_ebx;
	r[R_L7ECX] = c->leaf7_ecx;
	r[R_L7EDX] = c->leaf7_edx;
	r[R_XCR0] = c->xcr0;
}

int
placement_missing(const struct om_cpu *need, const struct om_cpu *have, char *buf, size_t len)
{
	uint64_t n[R_N], h[R_N], lack;
	size_t i;
	int reg, bit;

	cpu_regs(need, n);
	cpu_regs(have, h);
	for (reg = 0; reg < R_N; reg++) {
		if ((lack = n[reg] & ~h[reg]) == 0)
			continue;
		for (bit = 0; !(lack >> bit & 1); bit++)
			;
		for (i = 0; i < sizeof feats / sizeof feats[0]; i++)
			if (feats[i].reg == reg && feats[i].bit == bit) {
				snprintf(buf, len, "%s", feats[i].name);
				return 1;
			}
		snprintf(buf, len, "%s bit %d", reg_names[reg], bit);
		return 1;
	}
	return 0;
}

struct pick {
	const struct om_job_submit *s;
	uint32_t uid;               /* s->pid's */
	uint32_t parent;            /* its parent's job, whose core is free for it, */
	const struct node *parent_node; /* ... on this node */
	int parent_in_call;         /* ... a call of its at home now */
	struct node *best;
	int up, featok, memok, big; /* nodes passing each test so far */
	int closed;                 /* up, but taking no new jobs (drain.h) */
	char lack[48];              /* the first node's missing feature */
	int lack_same;              /* every up node lacks that same one */
};

static int
node_up(const struct node *n)
{
	return n->state == OM_NODE_UP && node_conn_get(n) != NULL;
}

/* n's busy jobs, for the job pk places. */
static uint32_t
busy(const struct pick *pk, const struct node *n)
{
	int mine = n == pk->parent_node;

	return nodes_busy_but(n, ev_now_ms(), mine ? pk->parent : 0, mine && pk->parent_in_call, pk->uid,
	    pk->s->pid);
}

/* speed / (busy jobs + 1), compared without division. */
static int
better(const struct pick *pk, const struct node *a, const struct node *b)
{
	uint64_t sa = (uint64_t)a->hello.speed * (busy(pk, b) + 1);
	uint64_t sb = (uint64_t)b->hello.speed * (busy(pk, a) + 1);

	return sa != sb ? sa > sb : a->id < b->id;
}

static void
pick_one(struct node *n, void *arg)
{
	struct pick *pk = arg;
	char lack[48];

	if (!node_up(n))
		return;
	if (!drain_open(n)) {
		pk->closed++;
		return;
	}
	pk->up++;
	if (placement_missing(&pk->s->cpu, &n->hello.cpu, lack, sizeof lack)) {
		if (pk->up == 1) {
			snprintf(pk->lack, sizeof pk->lack, "%s", lack);
			pk->lack_same = 1;
		} else if (strcmp(lack, pk->lack) != 0)
			pk->lack_same = 0;
		return;
	}
	pk->lack_same = 0;
	pk->featok++;
	if (n->hb.mem_free < pk->s->mem_bytes)
		return;
	pk->memok++;
	if (n->hello.cpu.cores < pk->s->cpu.cores)
		return;
	pk->big++;
	if (busy(pk, n) + pk->s->cpu.cores > n->hello.cpu.cores || nodes_jobs(n) >= OM_NODE_JOBS_MAX)
		return;
	if (pk->best == NULL || better(pk, n, pk->best))
		pk->best = n;
}

/* The one node asked for with --node. */
static struct node *
placement_node(const struct om_job_submit *s, char *reason, size_t len)
{
	struct node *n = nodes_by_id(s->node);
	char lack[48];

	if (n == NULL)
		snprintf(reason, len, "no node %u", s->node);
	else if (!node_up(n))
		snprintf(reason, len, "node %u is down", s->node);
	else if (!drain_open(n))
		snprintf(reason, len, "node %u takes no new jobs (%s)", s->node, drain_why(n));
	else if (placement_missing(&s->cpu, &n->hello.cpu, lack, sizeof lack))
		snprintf(reason, len, "node %u has no %s", s->node, lack);
	else if (s->cpu.cores > n->hello.cpu.cores)
		snprintf(reason, len, "node %u has fewer than %u cores", s->node, s->cpu.cores);
	else if (n->hb.mem_free < s->mem_bytes)
		snprintf(reason, len, "node %u has only %llu MiB free", s->node,
		    (unsigned long long)(n->hb.mem_free >> 20));
	else if (nodes_jobs(n) >= OM_NODE_JOBS_MAX)
		snprintf(reason, len, "node %u runs %u jobs already, its most", s->node, OM_NODE_JOBS_MAX);
	else
		return n; /* asked for by name: it may share its cores */
	return NULL;
}

struct node *
placement_choose(const struct om_job_submit *s, uint32_t uid, uint32_t parent,
    const struct node *parent_node, int parent_in_call, char *reason, size_t len)
{
	struct pick pk;

	reason[0] = '\0';
	if (s->node != 0)
		return placement_node(s, reason, len);
	memset(&pk, 0, sizeof pk);
	pk.s = s;
	pk.uid = uid;
	pk.parent = parent;
	pk.parent_node = parent_node;
	pk.parent_in_call = parent_in_call;
	nodes_each(pick_one, &pk);
	if (pk.best != NULL)
		return pk.best;
	if (pk.up == 0 && pk.closed)
		snprintf(reason, len, "no node takes new jobs (blocked, draining or leaving)");
	else if (pk.up == 0)
		snprintf(reason, len, "no node is up");
	else if (pk.featok == 0 && pk.lack_same)
		snprintf(reason, len, "no node has %s", pk.lack);
	else if (pk.featok == 0)
		snprintf(reason, len, "no node has every CPU feature needed (e.g. %s)", pk.lack);
	else if (pk.memok == 0)
		snprintf(reason, len, "no node has %llu MiB free",
		    (unsigned long long)((s->mem_bytes + (1 << 20) - 1) >> 20));
	else if (pk.big == 0)
		snprintf(reason, len, "no node has %u cores", s->cpu.cores);
	else if (s->cpu.cores > 1)
		snprintf(reason, len, "no node has %u cores free", s->cpu.cores);
	else
		snprintf(reason, len, "all cores busy");
	return NULL;
}
