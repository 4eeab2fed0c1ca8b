/* fuzz_restore.c - home taking a job back: server-agent/deputy/restore.c's
 * restore_frame over an image a node sent, down to every call it makes
 * into the tracee.
 *
 * The boundary: restore.c is real, and so are the deputy code it calls
 * that reads no process (capture_map_kind, deputy/timers.c's
 * timers_restore) and migrate/. What touches a live tracee is a fake
 * tracee here: the inject API (inject.h: injected system calls, memory
 * copies), the home's mappings (capture_read_maps, wrapped: the input
 * describes them) and ptrace (wrapped: register sets). /proc/PID/timers is
 * read for real, of this process (none). The fake tracee answers every
 * call with success except the one the input picks to fail, and holds
 * restore.c to restore.h's contract: every mapping call is on whole pages
 * in the lower half, never on the scratch region, [vdso], [vvar] or
 * [vsyscall]; memory is written only in the scratch data area or in the
 * image region being restored, never in code (whose pages are compared:
 * the fake home reads as zeros), nor in a kept shared mapping of a file
 * the home also maps executable (its twin).
 *
 * Input: byte 0 flags (bit 0: the home has the image's threads, bit 1:
 * the home's XSAVE area is the 576-byte minimum, else 2696 bytes); byte 1
 * the injected call to fail (0: none), its bit 7 makes the injection
 * itself fail (-ESRCH) instead of the call; byte 2 the number of home
 * mappings (at most 12), each 12 bytes: u32 start page, u16 pages - 1,
 * u8 prot, u8 name (0 anon, 1 [heap], 2 [stack], 3 [vdso], 4 [vvar], 5 a
 * file, 6 [vsyscall]; bit 3 shared, bit 4 locked, bit 7 the start counts
 * from 0x7ff000000000, where stacks are), u32 file offset page; then
 * om frames back to back, a non-image type standing for type mod 5. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "capture.h"
#include "inject.h"
#include "restore.h"

#include "fuzz.h"

#define SCRATCH 0x7fe000000000ull
#define HIGH 0x7ff000000000ull /* where a map's bit-7 name puts it */
#define MAPS_MAX 12
#define NT_X86_XSTATE_ 0x202

static struct {
	struct capture_map maps[MAPS_MAX + 1];
	size_t nmaps;
	unsigned calls, fail_at;
	int fail_injection;
	uint32_t xsave_size;
	int next_timer;
	uint64_t fresh_start, fresh_end; /* the last range mapped afresh (mmap) */
	uint8_t data[4096];      /* the scratch data area's first page */
	struct restore *r;
} fk;

static struct inject tracee, thread_tracee;

/* ---- the tracee's mappings */

/* [start, start + len) touches a mapping restore.c must leave alone. */
static int
protected_range(uint64_t start, uint64_t len)
{
	for (size_t i = 0; i < fk.nmaps; i++) {
		const struct capture_map *m = &fk.maps[i];
		uint32_t kind = capture_map_kind(m, SCRATCH, INJECT_CODE_SIZE + INJECT_DATA_SIZE);

		if ((kind == 0 || kind == OM_RK_VDSO || kind == OM_RK_RESERVED) &&
		    start < m->end && m->start < start + len)
			return 1;
	}
	return start < SCRATCH + INJECT_CODE_SIZE + INJECT_DATA_SIZE && SCRATCH < start + len;
}

static void
check_range(const char *what, uint64_t start, uint64_t len)
{
	FUZZ_ASSERT(start % OM_PAGE_SIZE == 0 && len % OM_PAGE_SIZE == 0 && len > 0 &&
	    start < OM_USER_TOP && len <= OM_USER_TOP - start,
	    "%s of %#llx+%#llx: not whole pages of the lower half", what,
	    (unsigned long long)start, (unsigned long long)len);
	FUZZ_ASSERT(!protected_range(start, len), "%s of %#llx+%#llx touches the scratch region, "
	    "[vdso], [vvar] or [vsyscall]", what, (unsigned long long)start, (unsigned long long)len);
}

int
__wrap_capture_read_maps(pid_t pid, uint64_t scratch, uint64_t scratch_len,
    struct capture_map **maps, size_t *n)
{
	(void)pid;
	FUZZ_ASSERT(scratch == SCRATCH && scratch_len == INJECT_CODE_SIZE + INJECT_DATA_SIZE,
	    "maps read with another scratch region");
	if ((*maps = malloc(fk.nmaps * sizeof **maps)) == NULL)
		return -ENOMEM;
	memcpy(*maps, fk.maps, fk.nmaps * sizeof **maps);
	*n = fk.nmaps;
	return 0;
}

/* ---- ptrace: the register sets of a stopped thread */

long
__wrap_ptrace(int req, ...)
{
	va_list ap;
	void *addr, *data;

	va_start(ap, req);
	(void)va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	switch (req) {
	case 0x420f: /* PTRACE_GET_RSEQ_CONFIGURATION: none registered */
		return 0;
	case PTRACE_GETREGSET:
	case PTRACE_SETREGSET: {
		struct iovec *iov = data;

		free(fz_dup(iov->iov_base, iov->iov_len)); /* ASan checks the buffer */
		if ((uintptr_t)addr == NT_X86_XSTATE_) {
			if (req == PTRACE_GETREGSET && iov->iov_len > fk.xsave_size)
				iov->iov_len = fk.xsave_size;
			FUZZ_ASSERT(req == PTRACE_GETREGSET || iov->iov_len == fk.xsave_size,
			    "XSAVE area of %zu bytes set, the thread's is %u", iov->iov_len, fk.xsave_size);
		}
		return 0;
	}
	case PTRACE_GETREGS:
		memset(data, 0, sizeof(struct user_regs_struct));
		return 0;
	case PTRACE_SETREGS:
		return 0;
	}
	errno = EIO;
	return -1;
}

/* ---- the inject API (inject.h) over the fake tracee */

int
inject_syscall(struct inject *in, long nr, const uint64_t a[6], int64_t *ret)
{
	FUZZ_ASSERT(in == &tracee || in == &thread_tracee, "injection into an unknown tracee");
	if (++fk.calls == fk.fail_at) {
		if (fk.fail_injection)
			return -ESRCH;
		*ret = -EINVAL;
		return 0;
	}
	*ret = 0;
	switch (nr) {
	case SYS_brk:
		*ret = (int64_t)a[0];
		break;
	case SYS_mmap:
		check_range("mmap", a[0], a[1]);
		FUZZ_ASSERT(a[3] & MAP_FIXED, "mmap without MAP_FIXED");
		fk.fresh_start = a[0];
		fk.fresh_end = a[0] + a[1];
		*ret = (int64_t)a[0];
		break;
	case SYS_munmap: check_range("munmap", a[0], a[1]); break;
	case SYS_mprotect: check_range("mprotect", a[0], a[1]); break;
	case SYS_madvise: check_range("madvise", a[0], a[1]); break;
	case SYS_mlock: check_range("mlock", a[0], a[1]); break;
	case SYS_munlock: check_range("munlock", a[0], a[1]); break;
	case SYS_set_tid_address: *ret = in->pid; break;
	case SYS_timer_create: {
		int32_t id = fk.next_timer++;

		FUZZ_ASSERT(a[2] >= in->data && a[2] + 4 <= in->data + sizeof fk.data, "timer id outside data");
		memcpy(fk.data + (a[2] - in->data), &id, 4);
		break;
	}
	}
	return 0;
}

/* addr lies in a home shared mapping of a file home also maps
 * executable: written there, a page would change the code. */
static int
twin_of_code(uint64_t addr)
{
	for (size_t i = 0; i < fk.nmaps; i++) {
		const struct capture_map *m = &fk.maps[i];
		if (addr < m->start || addr >= m->end || !m->shared || m->inode == 0)
			continue;
		for (size_t k = 0; k < fk.nmaps; k++)
			if ((fk.maps[k].prot & OM_PROT_X) && fk.maps[k].inode == m->inode &&
			    strcmp(fk.maps[k].name, m->name) == 0)
				return 1;
	}
	return 0;
}

int
inject_write(struct inject *in, uint64_t addr, const void *buf, size_t n)
{
	struct restore *r = fk.r;

	free(fz_dup(buf, n)); /* the source is readable for n bytes */
	if (addr >= in->data && addr - in->data < INJECT_DATA_SIZE) {
		FUZZ_ASSERT(n <= INJECT_DATA_SIZE - (addr - in->data), "write runs off the data area");
		if (addr - in->data < sizeof fk.data)
			memcpy(fk.data + (addr - in->data), buf,
			    n < sizeof fk.data - (addr - in->data) ? n : sizeof fk.data - (addr - in->data));
		return 0;
	}
	/* Pages: inside the region being restored, which took them. */
	FUZZ_ASSERT(r != NULL && r->write_pages && addr >= r->cur_start && addr < r->prev_end &&
	    n <= r->prev_end - addr && addr % OM_PAGE_SIZE == 0 && n % OM_PAGE_SIZE == 0,
	    "%zu bytes written at %#llx, outside the region %#llx-%#llx being restored", n,
	    (unsigned long long)addr, r ? (unsigned long long)r->cur_start : 0ull,
	    r ? (unsigned long long)r->prev_end : 0ull);
	FUZZ_ASSERT(!protected_range(addr, n), "pages written at %#llx", (unsigned long long)addr);
	FUZZ_ASSERT(!r->code_region, "the image's pages written over code at %#llx", (unsigned long long)addr);
	FUZZ_ASSERT(!twin_of_code(addr) || (addr >= fk.fresh_start && addr < fk.fresh_end),
	    "the image's pages written into a writable twin of code at %#llx", (unsigned long long)addr);
	return 0;
}

int
inject_read(struct inject *in, uint64_t addr, void *buf, size_t n)
{
	memset(buf, 0, n);
	if (addr >= in->data && addr - in->data < sizeof fk.data && n <= sizeof fk.data - (addr - in->data))
		memcpy(buf, fk.data + (addr - in->data), n);
	return 0;
}

void inject_raise(pid_t tid, const struct inject_sig *s) { (void)tid; (void)s; }

/* Restore touches no other part of the inject API; the rest of the deputy
 * (linked in for timers.c and capture.c) refers to it. */
int inject_open(struct inject *in, pid_t pid) { (void)in; (void)pid; abort(); }
int inject_setup(struct inject *in) { (void)in; abort(); }
int inject_setup_at(struct inject *in, uint64_t addr) { (void)in; (void)addr; abort(); }
int inject_exec_turn(struct inject *in) { (void)in; abort(); }
int inject_syscall_here(struct inject *in, long nr, const uint64_t a[6], int64_t *ret)
{ (void)in; (void)nr; (void)a; (void)ret; abort(); }
int inject_sigaction(struct inject *in, int sig, uint64_t h, uint64_t f, uint64_t at)
{ (void)in; (void)sig; (void)h; (void)f; (void)at; abort(); }
int inject_sigmask(struct inject *in, int how, uint64_t set, uint64_t at)
{ (void)in; (void)how; (void)set; (void)at; abort(); }
unsigned inject_take_signals(struct inject *in, struct inject_sig *out) { (void)in; (void)out; abort(); }
void inject_drop_signals(struct inject *in, unsigned n) { (void)in; (void)n; abort(); }
int inject_teardown(struct inject *in) { (void)in; abort(); }
void inject_close(struct inject *in) { (void)in; abort(); }

/* Threads of the image: home has those whose tid is not 3 mod 4. */
static struct inject *
thread_in(void *ctx, pid_t tid)
{
	(void)ctx;
	return tid % 4 == 3 ? NULL : &thread_tracee;
}

/* ---- the home's mappings from the input: sorted, apart, and the
 * scratch region, as /proc/PID/maps would have them */

static const char *const names[7] = {
	"", "[heap]", "[stack]", "[vdso]", "[vvar]", "/usr/lib/x86_64-linux-gnu/libc.so.6", "[vsyscall]"
};

static int
by_start(const void *a, const void *b)
{
	const struct capture_map *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

static void
home_maps(struct fz *f)
{
	unsigned n = fz_u8(f) % (MAPS_MAX + 1), k = 0;
	struct capture_map *m;

	memset(fk.maps, 0, sizeof fk.maps);
	for (unsigned i = 0; i < n; i++) {
		uint64_t page = fz_u32(f), pages = 1 + fz_u16(f);
		uint8_t prot = fz_u8(f), sel = fz_u8(f);
		uint64_t off = fz_u32(f);

		m = &fk.maps[k];
		m->start = ((page << 12) + ((sel & 0x80) ? HIGH : 0)) & (OM_USER_TOP - 1);
		m->end = m->start + (pages << 12);
		if ((sel & 7) == 6) { /* [vsyscall] lives in the upper half */
			m->start = 0xffffffffff600000ull;
			m->end = m->start + OM_PAGE_SIZE;
		}
		m->prot = prot & 7;
		snprintf(m->name, sizeof m->name, "%s", names[(sel & 7) % 7]);
		m->inode = (sel & 7) == 5 ? 1234 : 0;
		m->offset = m->inode ? off << 12 : 0;
		m->shared = (sel >> 3) & 1;
		m->locked = (sel >> 4) & 1;
		k++;
	}
	m = &fk.maps[k++];
	m->start = SCRATCH;
	m->end = SCRATCH + INJECT_CODE_SIZE + INJECT_DATA_SIZE;
	m->prot = OM_PROT_R | OM_PROT_W | OM_PROT_X;
	qsort(fk.maps, k, sizeof fk.maps[0], by_start);
	/* Overlaps out: the kernel's list never has them. */
	fk.nmaps = 0;
	for (unsigned i = 0; i < k; i++)
		if (fk.nmaps == 0 || fk.maps[i].start >= fk.maps[fk.nmaps - 1].end)
			fk.maps[fk.nmaps++] = fk.maps[i];
}

static const uint8_t image_types[5] = {
	OM_T_IMAGE_BEGIN, OM_T_IMAGE_THREAD, OM_T_IMAGE_REGION, OM_T_IMAGE_PAGES, OM_T_IMAGE_END
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct restore r;
	char err[256];
	struct om_hdr h;
	struct fz f;
	int flags, rc = 0, type;

	fz_init(&f, data, size);
	flags = fz_u8(&f);
	fk.fail_at = fz_u8(&f);
	fk.fail_injection = fk.fail_at >> 7;
	fk.fail_at &= 0x7f;
	fk.calls = 0;
	fk.next_timer = 0;
	fk.xsave_size = (flags & 2) ? OM_XSAVE_MIN : 2696;
	memset(fk.data, 0, sizeof fk.data);
	home_maps(&f);
	for (struct inject *in = &tracee; in != NULL; in = in == &tracee ? &thread_tracee : NULL) {
		memset(in, 0, sizeof *in);
		in->pid = getpid(); /* /proc/PID/timers: this process has none */
		in->memfd = -1;
		in->scratch = SCRATCH;
		in->scratch_len = INJECT_CODE_SIZE + INJECT_DATA_SIZE;
		in->stub = SCRATCH;
		in->data = SCRATCH + INJECT_CODE_SIZE;
		in->watch_fd = -1;
	}
	memset(&r, 0, sizeof r);
	r.thread_in = (flags & 1) ? thread_in : NULL;
	fk.r = &r;
	while (rc == 0 && fz_left(&f) > 0 && om_frame_check(f.p + f.pos, fz_left(&f), &h) == OM_OK &&
	    h.length <= fz_left(&f) - OM_HDR_SIZE) {
		uint8_t *p = fz_dup(f.p + f.pos + OM_HDR_SIZE, h.length);

		f.pos += OM_HDR_SIZE + h.length;
		type = om_type_is_image(h.type) ? h.type : image_types[h.type % 5];
		err[0] = '\0';
		rc = restore_frame(&r, &tracee, type, p, h.length, err, sizeof err);
		free(p);
		FZ_SAY("%s: %d %s\n", om_type_name(type), rc, err);
		FUZZ_ASSERT(rc == 0 || err[0] != '\0', "restore failed (%d) without a message", rc);
		if (rc == 0 && type == OM_T_IMAGE_END) {
			FUZZ_ASSERT(om_image_check_done(&r.check), "END restored, image not done");
			FUZZ_ASSERT(r.nsigq <= OM_SIGQUEUE_MAX, "%u queued signals", r.nsigq);
			break;
		}
	}
	restore_free(&r);
	fk.r = NULL;
	return 0;
}
