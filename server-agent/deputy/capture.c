/* capture.c - the image of a stopped tracee (contract in capture.h; layout
 * in docs/migration.md; sources: proc(5) maps, pagemap, stat, status;
 * ptrace(2) PTRACE_GETREGSET NT_X86_XSTATE, PTRACE_GET_RSEQ_CONFIGURATION;
 * Intel SDM vol. 1 13.4 and CPUID leaf 0Dh for the XSAVE area). */
#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cpu_describe.h"
#include "timers.h"
#include "vdso.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_CHUNK 512 /* pagemap entries read at once */
#define FXSAVE_SIZE 512 /* the legacy area, NT_PRFPREG */
#define XCR0_X87_SSE 3ull

struct rseq_config { /* linux/ptrace.h struct ptrace_rseq_configuration */
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

struct cap {
	struct inject *in;
	capture_emit_fn emit;
	void *ctx;
	struct capture_stats *st;
	char *err;
	size_t errlen;
	int pagemap_fd;
	uint8_t *data;      /* OM_IMAGE_PAGES_MAX pages */
	uint8_t *out;       /* one encoded payload */
	size_t outcap;
	/* the current region */
	const struct capture_map *m;
	uint32_t index;
	int use_pagemap;    /* only touched pages (else every readable one) */
	uint8_t *vdso;      /* patched copy when the region is the vDSO */
	uint64_t own, shared; /* the leader's pending signals (SigPnd), the process's (ShdPnd) */
	uint64_t pm_first;  /* pagemap cache: entries for pm_first.. */
	uint64_t pm_n;
	uint64_t pm[PM_CHUNK];
};

static int __attribute__((format(printf, 3, 4)))
cap_fail(struct cap *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- CPU */

uint32_t
capture_xsave_size(uint64_t *xcr0)
{
	unsigned a, b, cx, d;
	uint32_t lo, hi;

	*xcr0 = 0;
	if (!__get_cpuid(1, &a, &b, &cx, &d) || !(cx & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	*xcr0 = (uint64_t)hi << 32 | lo;
	/* CPUID.(EAX=0DH,ECX=0):EBX: size for the features enabled in XCR0. */
	__cpuid_count(0xd, 0, a, b, cx, d);
	return b;
}

static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static void
capture_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

void
capture_cpu(struct om_cpu *cpu)
{
	uint64_t xcr0;

	if (capture_xsave_size(&xcr0) == 0)
		xcr0 = XCR0_X87_SSE; /* FXSAVE keeps them */
	om_cpu_describe(cpu, capture_cpuid, xcr0);
}

/* ---- /proc */

/* Makes room for one more entry. */
static struct capture_map *
maps_grow(struct capture_map **maps, size_t n, size_t *cap)
{
	void *p;

	if (n < *cap)
		return &(*maps)[n];
	if ((p = realloc(*maps, (*cap = *cap ? 2 * *cap : 64) * sizeof **maps)) == NULL)
		return NULL;
	*maps = p;
	return &(*maps)[n];
}

static int status_field(pid_t pid, pid_t tid, const char *key, const char *fmt, ...);

/* Marks the mlock(2)ed mappings: smaps says "lo" in VmFlags. Read only
 * when status says anything is locked: smaps is slow for a big process. */
static void
read_locks(pid_t pid, struct capture_map *maps, size_t n)
{
	unsigned long long vmlck = 0, start, end, cur_start = 0, cur_end = 0;
	char path[64], line[4096 + 256];
	size_t i;
	FILE *f;

	if (status_field(pid, 0, "VmLck", "%llu", &vmlck) != 0 || vmlck == 0)
		return;
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%llx-%llx ", &start, &end) == 2 && strchr(line, ':') != NULL &&
		    strncmp(line, "VmFlags:", 8) != 0) {
			cur_start = start, cur_end = end;
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) != 0 || strstr(line, " lo") == NULL)
			continue;
		for (i = 0; i < n; i++) /* the scratch split may have made two of one */
			if (maps[i].start >= cur_start && maps[i].end <= cur_end)
				maps[i].locked = 1;
	}
	fclose(f);
}

int
capture_read_maps(pid_t pid, uint64_t scratch, uint64_t scratch_len,
    struct capture_map **mapsp, size_t *np)
{
	struct capture_map *maps = NULL, *m;
	size_t n = 0, cap = 0;
	char path[64], line[4096 + 256], perms[8];
	unsigned long long start, end, off, inode;
	unsigned dmaj, dmin;
	int pos, cut, rc = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	while (fgets(line, sizeof line, f) != NULL) {
		char *name, *nl;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off,
		    &dmaj, &dmin, &inode, &pos) < 7) {
			rc = -EPROTO;
			break;
		}
		if ((m = maps_grow(&maps, n, &cap)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		n++;
		memset(m, 0, sizeof *m);
		m->start = start;
		m->end = end;
		m->offset = off;
		m->inode = inode;
		m->prot = (perms[0] == 'r' ? OM_PROT_R : 0) | (perms[1] == 'w' ? OM_PROT_W : 0) |
		    (perms[2] == 'x' ? OM_PROT_X : 0);
		m->shared = perms[3] == 's';
		name = line + pos;
		if ((nl = strchr(name, '\n')) != NULL)
			*nl = '\0';
		snprintf(m->name, sizeof m->name, "%s", name);
		printable(m->name);
		/* The kernel merges the scratch region with an adjacent mapping
		 * of the same kind: split it off again at both ends. */
		if (scratch_len == 0)
			continue;
		for (cut = 0; cut < 2; cut++) {
			uint64_t at = cut == 0 ? scratch : scratch + scratch_len;
			struct capture_map *hi;

			m = &maps[n - 1];
			if (at <= m->start || at >= m->end)
				continue;
			if ((hi = maps_grow(&maps, n, &cap)) == NULL) {
				rc = -ENOMEM;
				break;
			}
			m = &maps[n - 1];
			*hi = *m;
			hi->start = at;
			if (hi->inode != 0)
				hi->offset += at - m->start;
			m->end = at;
			n++;
		}
		if (rc != 0)
			break;
	}
	fclose(f);
	if (rc != 0) {
		free(maps);
		return rc;
	}
	read_locks(pid, maps, n);
	*mapsp = maps;
	*np = n;
	return 0;
}

uint32_t
capture_map_kind(const struct capture_map *m, uint64_t scratch, uint64_t scratch_len)
{
	if (strcmp(m->name, "[vvar]") == 0 || strcmp(m->name, "[vvar_vclock]") == 0 ||
	    strcmp(m->name, "[vsyscall]") == 0 || m->start >= OM_USER_TOP)
		return 0;
	if (scratch_len != 0 && m->start >= scratch && m->end <= scratch + scratch_len)
		return OM_RK_RESERVED;
	if (strcmp(m->name, "[vdso]") == 0)
		return OM_RK_VDSO;
	if (strcmp(m->name, "[heap]") == 0)
		return OM_RK_HEAP;
	if (strcmp(m->name, "[stack]") == 0)
		return OM_RK_STACK;
	if (m->inode != 0)
		return OM_RK_FILE;
	return OM_RK_ANON;
}

/* /proc/PID/name, or the thread's /proc/PID/task/TID/name (tid 0: none). */
static void
proc_path(char *path, size_t len, pid_t pid, pid_t tid, const char *name)
{
	if (tid)
		snprintf(path, len, "/proc/%d/task/%d/%s", (int)pid, (int)tid, name);
	else
		snprintf(path, len, "/proc/%d/%s", (int)pid, name);
}

/* Reads "Key:\t<value>" lines of /proc/PID/status (or the thread's) into
 * a scanf format. */
static int
status_field(pid_t pid, pid_t tid, const char *key, const char *fmt, ...)
{
	char path[80], line[512];
	size_t klen = strlen(key);
	int found = -ENOENT;
	va_list ap;
	FILE *f;

	proc_path(path, sizeof path, pid, tid, "status");
	if ((f = fopen(path, "re")) == NULL)
		return -errno;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			va_start(ap, fmt);
			found = vsscanf(line + klen + 1, fmt, ap) > 0 ? 0 : -EPROTO;
			va_end(ap);
			break;
		}
	fclose(f);
	return found;
}

/* /proc/PID/stat (or the thread's) fields after the command (which may
 * hold spaces and parentheses: it ends at the last ')'). Field 3 is
 * fields[0]. */
static int
stat_fields(pid_t pid, pid_t tid, unsigned long long *fields, int nfields)
{
	char path[80], buf[2048], *p, *end;
	int fd, i;
	ssize_t n;

	proc_path(path, sizeof path, pid, tid, "stat");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -EPROTO;
	p += 2; /* ") " */
	p++;    /* state, field 3 */
	fields[0] = 0;
	for (i = 1; i < nfields; i++) {
		fields[i] = strtoull(p, &end, 10);
		if (end == p)
			return -EPROTO;
		p = end;
	}
	return 0;
}

/* ---- injected queries */

static int
query(struct cap *c, struct inject *in, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
    int64_t *ret)
{
	uint64_t a[6] = { a0, a1, a2, a3, 0, 0 };
	int64_t r;
	int rc;

	if ((rc = inject_syscall(in, nr, a, &r)) != 0)
		return cap_fail(c, rc, "injected system call %ld: %s", nr, strerror(-rc));
	if (ret != NULL)
		*ret = r;
	return 0;
}

/* ---- the header */

/* A CPU without XSAVE: the FXSAVE area (NT_PRFPREG) in the image's XSAVE
 * standard format, its header saying x87 and SSE are in it (SDM vol. 1,
 * 13.4.2). */
static int
fill_fxsave(struct cap *c, pid_t tid, uint8_t *xsave, uint32_t *xsave_size)
{
	struct iovec iov = { xsave, FXSAVE_SIZE };
	uint64_t bv = XCR0_X87_SSE;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRFPREG, &iov) == -1 || iov.iov_len != FXSAVE_SIZE)
		return cap_fail(c, -EIO, "PTRACE_GETREGSET NT_PRFPREG: %s", strerror(errno));
	memset(xsave + FXSAVE_SIZE, 0, OM_XSAVE_MIN - FXSAVE_SIZE);
	memcpy(xsave + FXSAVE_SIZE, &bv, sizeof bv);
	*xsave_size = OM_XSAVE_MIN;
	return 0;
}

/* What the process used so far (/proc/PID/stat and status), the system's
 * times(2) clock, and its RLIMIT_MEMLOCK. */
static int
fill_usage(struct cap *c, struct om_image_hdr *h)
{
	unsigned long long f[20], v = 0;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick = hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
	struct om_usage *u = &h->usage;
	struct rlimit lim;
	struct tms t;
	int rc;

	if ((rc = stat_fields(c->in->pid, 0, f, 20)) != 0)
		return cap_fail(c, rc, "/proc/%d/stat: %s", (int)c->in->pid, strerror(-rc));
	u->minflt = f[7];            /* (10) minflt */
	u->majflt = f[9];            /* (12) majflt */
	u->utime_ns = f[11] * tick;  /* (14) utime */
	u->stime_ns = f[12] * tick;  /* (15) stime */
	u->cutime_ns = f[13] * tick; /* (16) cutime */
	u->cstime_ns = f[14] * tick; /* (17) cstime */
	if (status_field(c->in->pid, 0, "VmHWM", "%llu", &v) == 0)
		u->maxrss_kb = v;
	if (status_field(c->in->pid, 0, "voluntary_ctxt_switches", "%llu", &v) == 0)
		u->nvcsw = v;
	if (status_field(c->in->pid, 0, "nonvoluntary_ctxt_switches", "%llu", &v) == 0)
		u->nivcsw = v;
	u->ticks = (uint64_t)times(&t);
	h->memlock_max = UINT64_MAX;
	if (prlimit(c->in->pid, RLIMIT_MEMLOCK, NULL, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
		h->memlock_max = lim.rlim_cur;
	return 0;
}

/* A thread's registers and FPU/vector state (xsave: OM_XSAVE_MAX bytes). */
static int
fill_cpu(struct cap *c, pid_t tid, uint64_t *g, uint8_t *xsave, uint32_t *xsave_size)
{
	struct user_regs_struct r;
	struct iovec iov;
	uint64_t xcr0;
	uint32_t size;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &r) == -1)
		return cap_fail(c, -errno, "PTRACE_GETREGS: %s", strerror(errno));
	g[OM_REG_RAX] = r.rax;
	g[OM_REG_RBX] = r.rbx;
	g[OM_REG_RCX] = r.rcx;
	g[OM_REG_RDX] = r.rdx;
	g[OM_REG_RSI] = r.rsi;
	g[OM_REG_RDI] = r.rdi;
	g[OM_REG_RBP] = r.rbp;
	g[OM_REG_RSP] = r.rsp;
	g[OM_REG_R8] = r.r8;
	g[OM_REG_R9] = r.r9;
	g[OM_REG_R10] = r.r10;
	g[OM_REG_R11] = r.r11;
	g[OM_REG_R12] = r.r12;
	g[OM_REG_R13] = r.r13;
	g[OM_REG_R14] = r.r14;
	g[OM_REG_R15] = r.r15;
	g[OM_REG_RIP] = r.rip;
	g[OM_REG_RFLAGS] = r.eflags;
	g[OM_REG_ORIG_RAX] = r.orig_rax;
	g[OM_REG_FS_BASE] = r.fs_base;
	g[OM_REG_GS_BASE] = r.gs_base;

	size = capture_xsave_size(&xcr0);
	if (size == 0)
		return fill_fxsave(c, tid, xsave, xsave_size);
	if (size > OM_XSAVE_MAX || size < OM_XSAVE_MIN)
		return cap_fail(c, -EOVERFLOW, "XSAVE area of %u bytes (at most %u)", size,
		    OM_XSAVE_MAX);
	iov.iov_base = xsave;
	iov.iov_len = size;
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) == -1)
		return cap_fail(c, -errno, "PTRACE_GETREGSET NT_X86_XSTATE: %s", strerror(errno));
	*xsave_size = (uint32_t)iov.iov_len;
	return 0;
}

static void
add_siginfo(struct om_siginfo *q, uint32_t *count, const uint8_t *raw)
{
	struct om_siginfo *s;

	if (*count == OM_SIGQUEUE_MAX)
		return; /* the rest arrive as from kill() */
	s = &q[(*count)++];
	memcpy(&s->signo, raw, 4);
	memcpy(&s->errnum, raw + 4, 4);
	memcpy(&s->code, raw + 8, 4);
	memcpy(s->fields, raw + 16, OM_SIGINFO_FIELDS);
}

/* Pending instances (PTRACE_PEEKSIGINFO) of tid's own queue, or of its
 * process's (shared), after the q[*count] there are. */
static void
peek_sigq(pid_t tid, int shared, struct om_siginfo *q, uint32_t *count)
{
	static uint8_t buf[OM_SIGQUEUE_MAX][INJECT_SIGINFO_SIZE];
	struct __ptrace_peeksiginfo_args a;
	long n, i;

	a.off = 0;
	a.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0;
	a.nr = OM_SIGQUEUE_MAX;
	n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, buf);
	for (i = 0; i < n; i++)
		add_siginfo(q, count, buf[i]);
}

/* Whether entry i of a queue is an instance of a signal in set. */
static int
sigq_in(const struct om_siginfo *q, uint32_t i, uint64_t set)
{
	return q[i].signo >= 1 && q[i].signo <= OM_NSIG && (set >> (q[i].signo - 1) & 1);
}

static void
sigq_drop(struct om_siginfo *q, uint32_t *count, uint32_t i)
{
	memmove(&q[i], &q[i + 1], (*count - i - 1) * sizeof q[0]);
	(*count)--;
}

/* One that came after the pending set was read is pending only as far as
 * its bit says: without the bit, it is left out. */
static void
sigq_trim(struct om_siginfo *q, uint32_t *count, uint64_t pending)
{
	for (uint32_t i = 0; i < *count; i++)
		if (!sigq_in(q, i, pending))
			sigq_drop(q, count, i--);
}

/* The pending instances with their siginfo: the thread's queue, the
 * process's, then what arrived during our injected calls (inject.h: they
 * travel in the image, and stay recorded until the caller knows the image
 * was taken), each in the order it came. */
static void
fill_sigq(struct cap *c, struct om_image_hdr *h)
{
	unsigned k, nt;

	h->sigq_count = 0;
	peek_sigq(c->in->pid, 0, h->sigq, &h->sigq_count);
	peek_sigq(c->in->pid, 1, h->sigq, &h->sigq_count);
	nt = c->in->nsigs;
	for (k = 0; k < nt; k++) {
		h->sig_pending |= 1ull << (c->in->sigs[k].sig - 1);
		add_siginfo(h->sigq, &h->sigq_count, c->in->sigs[k].info);
	}
	c->st->sigs = nt;
	sigq_trim(h->sigq, &h->sigq_count, h->sig_pending);
}

/* What each thread has of its own beyond its registers. */
struct own {
	uint64_t blocked, ss_sp, ss_size, rseq_addr, tid_address, robust_list, robust_len;
	uint32_t ss_flags, rseq_len, rseq_sig;
};

/* The header and IMAGE_THREAD name these fields alike. */
#define OWN_INTO(d, o)                                                                     \
	do {                                                                               \
		(d)->sig_blocked = (o).blocked;                                            \
		(d)->ss_sp = (o).ss_sp, (d)->ss_flags = (o).ss_flags, (d)->ss_size = (o).ss_size; \
		(d)->rseq_addr = (o).rseq_addr, (d)->rseq_len = (o).rseq_len;              \
		(d)->rseq_sig = (o).rseq_sig, (d)->tid_address = (o).tid_address;          \
		(d)->robust_list = (o).robust_list, (d)->robust_len = (o).robust_len;      \
	} while (0)

/* Its signal mask and alternate stack, its rseq area (ptrace), the tid
 * address and robust list (PR_GET_TID_ADDRESS needs
 * CONFIG_CHECKPOINT_RESTORE; without it the value stays 0, and the node
 * then clears nothing at exit): injected in the thread itself. */
static int
fill_own(struct cap *c, struct inject *in, struct own *o)
{
	uint64_t d = in->data, buf[3];
	struct rseq_config rs;
	int64_t r;
	int rc;

	memset(o, 0, sizeof *o);
	if ((rc = query(c, in, SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, 0, d, 8, &r)) != 0)
		return rc;
	if (r != 0 || (rc = inject_read(in, d, &o->blocked, 8)) != 0)
		return cap_fail(c, -EIO, "rt_sigprocmask in the tracee failed");
	/* stack_t: ss_sp (8), ss_flags (4 + 4 padding), ss_size (8) */
	if ((rc = query(c, in, SYS_sigaltstack, 0, d, 0, 0, &r)) != 0)
		return rc;
	if (r != 0 || (rc = inject_read(in, d, buf, 24)) != 0)
		return cap_fail(c, -EIO, "sigaltstack in the tracee failed");
	o->ss_sp = buf[0];
	o->ss_flags = (uint32_t)buf[1];
	o->ss_size = buf[2];
	memset(&rs, 0, sizeof rs);
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, in->pid, (void *)sizeof rs, &rs) > 0) {
		o->rseq_addr = rs.rseq_abi_pointer;
		o->rseq_len = rs.rseq_abi_size;
		o->rseq_sig = rs.signature;
	}
	if ((rc = query(c, in, SYS_prctl, PR_GET_TID_ADDRESS, d, 0, 0, &r)) != 0)
		return rc;
	if (r == 0 && inject_read(in, d, buf, 8) == 0)
		o->tid_address = buf[0];
	if ((rc = query(c, in, SYS_get_robust_list, 0, d, d + 8, 0, &r)) != 0)
		return rc;
	if (r == 0 && inject_read(in, d, buf, 16) == 0) {
		o->robust_list = buf[0];
		o->robust_len = buf[1];
	}
	return 0;
}

static int
fill_regs(struct cap *c, struct om_image_hdr *h)
{
	if (capture_xsave_size(&h->xcr0) == 0)
		h->xcr0 = XCR0_X87_SSE;
	return fill_cpu(c, c->in->pid, h->regs, h->xsave, &h->xsave_size);
}

static int
fill_signals(struct cap *c, struct om_image_hdr *h)
{
	uint64_t d = c->in->data, buf[4], pnd = 0, shd = 0;
	int64_t r;
	int sig, rc;

	for (sig = 1; sig <= OM_NSIG; sig++) {
		if ((rc = query(c, c->in, SYS_rt_sigaction, (uint64_t)sig, 0, d, 8, &r)) != 0)
			return rc;
		if (r != 0)
			continue; /* a number the kernel does not know: default */
		if ((rc = inject_read(c->in, d, buf, sizeof buf)) != 0)
			return cap_fail(c, rc, "reading sigaction: %s", strerror(-rc));
		h->sigact[sig - 1].handler = buf[0];
		h->sigact[sig - 1].flags = buf[1];
		h->sigact[sig - 1].restorer = buf[2];
		h->sigact[sig - 1].mask = buf[3];
	}
	(void)status_field(c->in->pid, 0, "SigPnd", "%llx", (unsigned long long *)&pnd);
	(void)status_field(c->in->pid, 0, "ShdPnd", "%llx", (unsigned long long *)&shd);
	h->sig_pending = pnd | shd;
	c->own = pnd;
	c->shared = shd;
	fill_sigq(c, h);
	return 0;
}

static int
fill_thread(struct cap *c, struct om_image_hdr *h)
{
	struct own o;
	int rc;

	if ((rc = fill_own(c, c->in, &o)) != 0)
		return rc;
	OWN_INTO(h, o);
	return 0;
}

/* Another thread of the process (stopped, t its injector): its
 * IMAGE_THREAD, with what it took during the calls injected in it (still
 * recorded in t, for the caller to drop once the image is taken). */
static int
fill_other(struct cap *c, struct inject *t, struct om_image_thread *m)
{
	unsigned long long f[16], pnd = 0;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t tick = hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
	struct own o;
	int rc;

	memset(m, 0, sizeof *m);
	m->tid = (uint32_t)t->pid;
	if ((rc = fill_cpu(c, t->pid, m->regs, m->xsave, &m->xsave_size)) != 0 ||
	    (rc = fill_own(c, t, &o)) != 0)
		return rc;
	OWN_INTO(m, o);
	(void)status_field(c->in->pid, t->pid, "SigPnd", "%llx", &pnd);
	m->sig_pending = pnd;
	peek_sigq(t->pid, 0, m->sigq, &m->sigq_count);
	for (unsigned k = 0; k < t->nsigs; k++) {
		m->sig_pending |= 1ull << (t->sigs[k].sig - 1);
		add_siginfo(m->sigq, &m->sigq_count, t->sigs[k].info);
	}
	sigq_trim(m->sigq, &m->sigq_count, m->sig_pending);
	if (stat_fields(c->in->pid, t->pid, f, 16) == 0) {
		m->utime_ns = f[11] * tick; /* (14) utime */
		m->stime_ns = f[12] * tick; /* (15) stime */
	}
	return 0;
}

/* A signal of the process that the leader blocks goes, as Linux gives it,
 * to the first other thread that does not block it: into that thread's
 * IMAGE_THREAD with its instances, out of the header (whose pending
 * signals the node gives the leader). */
static void
hand_over_shared(struct cap *c, struct om_image_hdr *h, struct om_image_thread *t, unsigned n)
{
	uint64_t left = c->shared & ~c->own & h->sig_blocked & h->sig_pending;
	for (unsigned i = 0; i < n && left; i++) {
		uint64_t takes = left & ~t[i].sig_blocked;
		if (!takes)
			continue;
		left &= ~takes;
		t[i].sig_pending |= takes;
		h->sig_pending &= ~takes;
		for (uint32_t k = 0; k < h->sigq_count; k++) {
			if (!sigq_in(h->sigq, k, takes))
				continue;
			if (t[i].sigq_count < OM_SIGQUEUE_MAX)
				t[i].sigq[t[i].sigq_count++] = h->sigq[k];
			sigq_drop(h->sigq, &h->sigq_count, k--);
		}
	}
}

static void
copy_uts(char *dst, const char *src)
{
	snprintf(dst, OM_UTS_MAX + 1, "%.*s", (int)OM_UTS_MAX, src);
	printable(dst);
}

static int
fill_identity(struct cap *c, struct om_image_hdr *h)
{
	unsigned long long f[48];
	unsigned ids[4], um = 022, ppid = 0;
	struct utsname u;
	struct timespec ts;
	int64_t r;
	int rc;

	h->pid = h->tid = (uint32_t)c->in->pid;
	if ((rc = stat_fields(c->in->pid, 0, f, 48)) != 0)
		return cap_fail(c, rc, "/proc/%d/stat: %s", (int)c->in->pid, strerror(-rc));
	h->pgid = (uint32_t)f[2];     /* (5) pgrp */
	h->sid = (uint32_t)f[3];      /* (6) session */
	h->start_brk = f[44];         /* (47) start_brk */
	if (status_field(c->in->pid, 0, "PPid", "%u", &ppid) == 0)
		h->ppid = ppid;
	if (status_field(c->in->pid, 0, "Uid", "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) == 0) {
		h->uid = ids[0];
		h->euid = ids[1];
		h->suid = ids[2];
	}
	if (status_field(c->in->pid, 0, "Gid", "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) == 0) {
		h->gid = ids[0];
		h->egid = ids[1];
		h->sgid = ids[2];
	}
	if (status_field(c->in->pid, 0, "Umask", "%o", &um) == 0)
		h->umask = um & 0777;
	/* uname as the tracee sees it (its UTS namespace). */
	if ((rc = query(c, c->in, SYS_uname, c->in->data, 0, 0, 0, &r)) != 0)
		return rc;
	if (r != 0 || inject_read(c->in, c->in->data, &u, sizeof u) != 0)
		return cap_fail(c, -EIO, "uname in the tracee failed");
	copy_uts(h->sysname, u.sysname);
	copy_uts(h->nodename, u.nodename);
	copy_uts(h->release, u.release);
	copy_uts(h->version, u.version);
	copy_uts(h->machine, u.machine);
	copy_uts(h->domainname, u.domainname);
	if ((rc = query(c, c->in, SYS_brk, 0, 0, 0, 0, &r)) != 0)
		return rc;
	h->brk = (uint64_t)r;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->clock_realtime = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	h->clock_monotonic = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	h->clock_boottime = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return 0;
}

/* ---- regions and pages */

static int
emit(struct cap *c, int type, size_t len)
{
	int rc = c->emit(type, c->out, len, c->ctx);

	c->st->frames++;
	return rc;
}

/* Is page pg of the current region one that travels? */
static int
page_wanted(struct cap *c, uint64_t pg, int *rc)
{
	uint64_t npages = (c->m->end - c->m->start) / OM_PAGE_SIZE;
	ssize_t n;

	*rc = 0;
	if (!c->use_pagemap)
		return 1;
	if (pg < c->pm_first || pg >= c->pm_first + c->pm_n) {
		uint64_t want = npages - pg < PM_CHUNK ? npages - pg : PM_CHUNK;
		off_t off = (off_t)((c->m->start / OM_PAGE_SIZE + pg) * 8);

		n = pread(c->pagemap_fd, c->pm, want * 8, off);
		if (n < 8) {
			*rc = cap_fail(c, n < 0 ? -errno : -EIO, "reading /proc/%d/pagemap: %s",
			    (int)c->in->pid, n < 0 ? strerror(errno) : "short read");
			return 0;
		}
		c->pm_first = pg;
		c->pm_n = (uint64_t)n / 8;
	}
	return (c->pm[pg - c->pm_first] & (PM_PRESENT | PM_SWAPPED)) != 0;
}

/* Reads count pages from page pg into c->data; ok[i] says which arrived.
 * File pages beyond the end of the file fail to read and are left out. */
static void
read_run(struct cap *c, uint64_t pg, uint32_t count, uint8_t *ok)
{
	uint64_t addr = c->m->start + pg * OM_PAGE_SIZE;
	uint32_t i;

	if (c->vdso != NULL) {
		memcpy(c->data, c->vdso + pg * OM_PAGE_SIZE, (size_t)count * OM_PAGE_SIZE);
		memset(ok, 1, count);
		return;
	}
	if (inject_read(c->in, addr, c->data, (size_t)count * OM_PAGE_SIZE) == 0) {
		memset(ok, 1, count);
		return;
	}
	for (i = 0; i < count; i++)
		ok[i] = inject_read(c->in, addr + (uint64_t)i * OM_PAGE_SIZE,
		    c->data + (size_t)i * OM_PAGE_SIZE, OM_PAGE_SIZE) == 0;
}

/* Walks the region's pages in runs. With do_emit 0 it only counts the
 * pages that will travel; with 1 it sends them. Both walks see the same
 * pages: the tracee is stopped. */
static int
walk_pages(struct cap *c, int do_emit, uint64_t *count)
{
	uint64_t npages = (c->m->end - c->m->start) / OM_PAGE_SIZE, pg = 0;
	uint8_t ok[OM_IMAGE_PAGES_MAX];
	int rc = 0;

	*count = 0;
	while (pg < npages) {
		uint32_t run = 0, i, j;

		while (pg < npages && !page_wanted(c, pg, &rc)) {
			if (rc != 0)
				return rc;
			pg++;
		}
		while (pg + run < npages && run < OM_IMAGE_PAGES_MAX && page_wanted(c, pg + run, &rc))
			run++;
		if (rc != 0)
			return rc;
		if (run == 0)
			break;
		/* Anonymous pages that are present always read; file pages
		 * must be read to know. */
		if (c->use_pagemap && !do_emit) {
			*count += run;
			pg += run;
			continue;
		}
		read_run(c, pg, run, ok);
		for (i = 0; i < run; i = j) {
			for (; i < run && !ok[i]; i++)
				;
			for (j = i; j < run && ok[j]; j++)
				;
			if (j == i)
				break;
			*count += j - i;
			if (do_emit) {
				int n = om_image_pages_encode(c->index, pg + i, j - i,
				    c->data + (size_t)i * OM_PAGE_SIZE, c->out, c->outcap);

				if (n < 0)
					return cap_fail(c, -EINVAL, "encoding pages: %s", om_strerror(n));
				if ((rc = emit(c, OM_T_IMAGE_PAGES, (size_t)n)) != 0)
					return rc;
				c->st->pages += j - i;
			}
		}
		pg += run;
	}
	return 0;
}

static int
capture_region(struct cap *c, const struct capture_map *m, uint32_t kind)
{
	struct om_image_region r;
	uint64_t sent = 0, len = m->end - m->start, again;
	int n, rc = 0;

	memset(&r, 0, sizeof r);
	r.start = m->start;
	r.end = m->end;
	r.prot = m->prot;
	r.kind = kind;
	r.flags = (m->shared ? OM_RF_SHARED : 0) | (m->locked ? OM_RF_LOCKED : 0);
	r.file_offset = m->offset;
	memcpy(r.name, m->name, sizeof r.name);
	c->m = m;
	c->pm_first = c->pm_n = 0;
	c->vdso = NULL;
	/* Touched pages only where untouched ones are zero: private anonymous
	 * memory, and anything without access (guard gaps, reservations). */
	c->use_pagemap = (kind == OM_RK_ANON || kind == OM_RK_HEAP || kind == OM_RK_STACK ||
	    m->prot == 0) && !m->shared;
	if (kind == OM_RK_VDSO) {
		if ((c->vdso = malloc(len)) == NULL)
			return cap_fail(c, -ENOMEM, "vdso copy: out of memory");
		if ((rc = inject_read(c->in, m->start, c->vdso, len)) != 0) {
			rc = cap_fail(c, rc, "reading the vdso: %s", strerror(-rc));
			goto out;
		}
		if (vdso_patch(c->vdso, len) < 0) {
			rc = cap_fail(c, -ENOEXEC, "the vdso at %#llx is not an ELF image it can patch",
			    (unsigned long long)m->start);
			goto out;
		}
	}
	if (kind != OM_RK_RESERVED && (rc = walk_pages(c, 0, &sent)) != 0)
		goto out;
	r.pages_sent = sent;
	if ((n = om_image_region_encode(&r, c->out, c->outcap)) < 0) {
		rc = cap_fail(c, -EINVAL, "region %#llx-%#llx: %s", (unsigned long long)r.start,
		    (unsigned long long)r.end, om_strerror(n));
		goto out;
	}
	if ((rc = emit(c, OM_T_IMAGE_REGION, (size_t)n)) != 0)
		goto out;
	c->st->regions++;
	if (kind != OM_RK_RESERVED) {
		if ((rc = walk_pages(c, 1, &again)) != 0)
			goto out;
		if (again != sent)
			rc = cap_fail(c, -EAGAIN, "region %#llx-%#llx changed during capture",
			    (unsigned long long)r.start, (unsigned long long)r.end);
	}
out:
	free(c->vdso);
	c->vdso = NULL;
	return rc;
}

int
capture_image(struct inject *in, struct inject *const *threads, unsigned nthreads,
    capture_emit_fn emitfn, void *ctx, struct capture_stats *st, char *err, size_t errlen)
{
	struct capture_map *maps = NULL;
	struct om_image_hdr *h = NULL;
	struct om_image_thread *others = NULL;
	struct om_image_end end;
	struct cap c;
	uint32_t kind;
	size_t nmaps = 0, i;
	char path[64];
	int n, rc;

	memset(&c, 0, sizeof c);
	memset(st, 0, sizeof *st);
	c.in = in;
	c.emit = emitfn;
	c.ctx = ctx;
	c.st = st;
	c.err = err;
	c.errlen = errlen;
	c.pagemap_fd = -1;
	err[0] = '\0';
	if (in->stub == 0)
		return cap_fail(&c, -EINVAL, "no scratch region (inject_setup first)");
	c.outcap = OM_IMAGE_PAGES_HDR + (size_t)OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE;
	c.data = malloc((size_t)OM_IMAGE_PAGES_MAX * OM_PAGE_SIZE);
	c.out = malloc(c.outcap);
	h = calloc(1, sizeof *h);
	if (nthreads)
		others = calloc(nthreads, sizeof *others);
	if (c.data == NULL || c.out == NULL || h == NULL || (nthreads && others == NULL)) {
		rc = cap_fail(&c, -ENOMEM, "out of memory");
		goto out;
	}
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)in->pid);
	if ((c.pagemap_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = cap_fail(&c, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	for (i = 0; i < nthreads; i++) {
		if (i > 0 && threads[i]->pid <= threads[i - 1]->pid) {
			rc = cap_fail(&c, -EINVAL, "threads out of order");
			goto out;
		}
		if ((rc = fill_other(&c, threads[i], &others[i])) != 0)
			goto out;
	}
	h->thread_count = nthreads;
	if ((rc = fill_regs(&c, h)) != 0 || (rc = fill_signals(&c, h)) != 0 ||
	    (rc = fill_thread(&c, h)) != 0 || (rc = fill_identity(&c, h)) != 0 ||
	    (rc = fill_usage(&c, h)) != 0 || (rc = timers_capture(in, h, err, errlen)) != 0)
		goto out;
	hand_over_shared(&c, h, others, nthreads);
	capture_cpu(&h->cpu);
	h->scratch_start = in->scratch;
	h->scratch_len = in->scratch_len;
	/* The scratch region was the tracee's first top-down mmap after the
	 * loader's: its end is where the next one would go. */
	h->mmap_base = in->scratch + in->scratch_len;
	if ((rc = capture_read_maps(in->pid, in->scratch, in->scratch_len, &maps, &nmaps)) != 0) {
		rc = cap_fail(&c, rc, "/proc/%d/maps: %s", (int)in->pid, strerror(-rc));
		goto out;
	}
	for (i = 0; i < nmaps; i++) {
		kind = capture_map_kind(&maps[i], in->scratch, in->scratch_len);
		if (kind == 0)
			continue;
		if (kind == OM_RK_VDSO)
			h->vdso_base = maps[i].start;
		h->region_count++;
	}
	if ((n = om_image_hdr_encode(h, c.out, c.outcap)) < 0) {
		rc = cap_fail(&c, -EINVAL, "image header: %s", om_strerror(n));
		goto out;
	}
	if ((rc = emit(&c, OM_T_IMAGE_BEGIN, (size_t)n)) != 0)
		goto out;
	for (i = 0; i < nthreads; i++) {
		if ((n = om_image_thread_encode(&others[i], c.out, c.outcap)) < 0) {
			rc = cap_fail(&c, -EINVAL, "thread %u: %s", others[i].tid, om_strerror(n));
			goto out;
		}
		if ((rc = emit(&c, OM_T_IMAGE_THREAD, (size_t)n)) != 0)
			goto out;
	}
	for (i = 0; i < nmaps; i++) {
		if ((kind = capture_map_kind(&maps[i], in->scratch, in->scratch_len)) == 0)
			continue;
		c.index = st->regions;
		if ((rc = capture_region(&c, &maps[i], kind)) != 0)
			goto out;
	}
	end.regions = st->regions;
	end.pages = st->pages;
	n = om_image_end_encode(&end, c.out, c.outcap);
	rc = emit(&c, OM_T_IMAGE_END, (size_t)n);
out:
	if (c.pagemap_fd != -1)
		close(c.pagemap_fd);
	free(maps);
	free(h);
	free(others);
	free(c.out);
	free(c.data);
	return rc;
}
