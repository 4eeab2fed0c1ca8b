/* fuzz_job_image.c - the node's intake of a job image from home
 * (kernel/job_image.c: image_in_begin / _thread / _region / _pages /
 * _end), built for the host with the kernel code it runs on: the job and
 * process structures (kernel/job.c), the address space with its real page
 * tables (kernel/uvm.c) and the FPU area conversion (kernel/fpu.c). Below
 * them, stubs stand in for the machine (the frame allocator hands out
 * host pages at the direct map's offset, so the page-table walks run
 * unchanged), the clocks, the scheduler's thread count and the network
 * status; fpu_init is not run (it writes CR4), so the node is a CPU
 * without XSAVE, which fpu.c supports. uvm.c's invlpg, privileged, is
 * stepped over by a SIGSEGV handler (a TLB the host does not have).
 *
 * Covered: every check of image_in_* (decode, om_image_check, threads,
 * CPU features, user-space rip and bases, the FPU area's MXCSR), the
 * building of the job from it (regions mapped, pages written, signal
 * state, timers), and what a rejected image leaves (nothing: LeakSanitizer
 * checks each run). With bit 2 of byte 0 an accepted job goes home again
 * (image_out_next, kernel/job_image.c), and the image it makes must
 * decode and pass om_image_check: the node never sends home what home
 * would refuse. Not covered: running the job (sched, traps), and uvm's
 * shootdown of other cores' TLBs (one core here).
 *
 * Input: byte 0 bit 0 threads_ok (the caller can run more threads),
 * bit 1 the node's CPU has no features (else all), bit 2 the way home;
 * then om frames back to back, a non-image type standing for type mod 5. */
#include <malloc.h>
#include <stdarg.h>

#include "console.h"
#include "cpuinfo.h"
#include "job.h"
#include "job_image.h"
#include "mm.h"
#include "net.h"
#include "percpu.h"
#include "sched.h"
#include "signal.h"
#include "smp.h"
#include "syscall.h"
#include "timer.h"
#include "timers.h"

#include "fuzz.h"

/* ---- the machine, as far as this code touches it */

struct cpu cpus[SMP_MAX_CPUS];
int ncpus = 1;
static struct om_cpu node_cpu;
static uint64_t kernel_pml4[512] __attribute__((aligned(4096)));

void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

void
kprintf(const char *fmt, ...)
{
	(void)fmt;
}

/* Frames are host pages; their "physical" address is the one whose
 * direct-map address (phys_to_virt, mm.h) is the host pointer. */
uint64_t
pmm_alloc(size_t npages)
{
	void *p = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);

	if (p == NULL)
		return 0;
	memset(p, 0, npages * PAGE_SIZE);
	return (uint64_t)(uintptr_t)p - OM_DIRECT_MAP;
}

void
pmm_free(uint64_t pa, size_t npages)
{
	(void)npages;
	free(phys_to_virt(pa));
}

uint64_t
virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va - OM_DIRECT_MAP;
}

uint64_t *vm_kernel_pml4(void) { return kernel_pml4; }
void smp_forget_tables(uint64_t pml4) { (void)pml4; }
const struct om_cpu *cpuinfo_node(void) { return &node_cpu; }
void net_get_status(struct net_status *st) { memset(st, 0, sizeof *st); }
uint64_t timer_ns(void) { return 5000000000ull; }
int sched_count(void) { return 1; }
void timers_init(struct job *j) { (void)j; }
int64_t job_clock_ns(const struct job *j, int clock) { (void)j; return 1000000000ll * (clock + 1); }
uint64_t job_ran_ns(const struct proc *p) { (void)p; return 0; }
void signal_settle_restart(struct job *j) { (void)j; }
void signal_unshare(struct job *j) { (void)j; }
/* kernel/decide.c's replay, which no image decoding reaches */
int signal_raise(struct job *j, int sig, const struct job_siginfo *info) { (void)j; (void)sig; (void)info; return 0; }
int signal_ready_from_timers(const struct job *j) { (void)j; return 0; }

/* uvm.c's invlpg is privileged: fuzz_invlpg.c steps over it (it is built
 * apart: kernel/signal.h would stand for the C library's here). */
void fuzz_invlpg_install(void);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_invlpg_install();
	return 0;
}

/* ---- the way home: what the node sends must pass home's checks */

static void
home_checks(struct job *j)
{
	static uint8_t *buf;
	struct om_image_check c;
	struct image_out o;
	union {
		struct om_image_hdr h;
		struct om_image_thread t;
		struct om_image_region r;
		struct om_image_pages p;
		struct om_image_end e;
	} *u = calloc(1, sizeof *u);
	uint8_t type;
	int n, rc, frames = 0;

	if (u == NULL || (buf == NULL && (buf = malloc(OM_MAX_PAYLOAD)) == NULL))
		abort();
	om_image_check_init(&c);
	image_out_start(&o, j);
	while ((n = image_out_next(&o, &type, buf, OM_MAX_PAYLOAD)) > 0) {
		frames++;
		switch (type) {
		case OM_T_IMAGE_BEGIN:
			if ((rc = om_image_hdr_decode(buf, (size_t)n, &u->h)) == OM_OK)
				rc = om_image_check_begin(&c, &u->h);
			break;
		case OM_T_IMAGE_THREAD:
			if ((rc = om_image_thread_decode(buf, (size_t)n, &u->t)) == OM_OK)
				rc = om_image_check_thread(&c, &u->t);
			break;
		case OM_T_IMAGE_REGION:
			if ((rc = om_image_region_decode(buf, (size_t)n, &u->r)) == OM_OK)
				rc = om_image_check_region(&c, &u->r);
			break;
		case OM_T_IMAGE_PAGES:
			if ((rc = om_image_pages_decode(buf, (size_t)n, &u->p)) == OM_OK)
				rc = om_image_check_pages(&c, &u->p);
			break;
		case OM_T_IMAGE_END:
			if ((rc = om_image_end_decode(buf, (size_t)n, &u->e)) == OM_OK)
				rc = om_image_check_end(&c, &u->e);
			break;
		default:
			rc = OM_E_TYPE;
			break;
		}
		FUZZ_ASSERT(rc == OM_OK, "frame %d going home (%s, %d bytes) refused: %s (%s)", frames,
		    om_type_name(type), n, om_strerror(rc), c.why);
	}
	FUZZ_ASSERT(n == 0, "image_out_next failed: %s", om_strerror(n));
	FUZZ_ASSERT(om_image_check_done(&c), "the image home is incomplete after %d frames", frames);
	FZ_SAY("the way home: %d frames, all taken\n", frames);
	free(u);
}

static const uint8_t image_types[5] = {
	OM_T_IMAGE_BEGIN, OM_T_IMAGE_THREAD, OM_T_IMAGE_REGION, OM_T_IMAGE_PAGES, OM_T_IMAGE_END
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_in in;
	struct om_hdr h;
	struct job *j;
	size_t pos = 1;
	int flags, rc, type;

	if (size == 0)
		return 0;
	flags = data[0];
	/* Every feature bit, or none; the strings as a CPU has them. */
	memset(&node_cpu, 0, sizeof node_cpu);
	if (!(flags & 2)) {
		node_cpu.leaf1_ecx = node_cpu.leaf1_edx = UINT32_MAX;
		node_cpu.leaf7_ebx = node_cpu.leaf7_ecx = node_cpu.leaf7_edx = UINT32_MAX;
		node_cpu.xcr0 = UINT64_MAX;
	}
	snprintf(node_cpu.vendor, sizeof node_cpu.vendor, "GenuineIntel");
	snprintf(node_cpu.model, sizeof node_cpu.model, "fuzz");
	node_cpu.cores = 1;
	memset(&in, 0, sizeof in);
	in.threads_ok = flags & 1;
	while (pos < size && om_frame_check(data + pos, size - pos, &h) == OM_OK &&
	    h.length <= size - pos - OM_HDR_SIZE) {
		/* An exact-size copy: ASan sees a read past the payload. */
		uint8_t *p = fz_dup(data + pos + OM_HDR_SIZE, h.length);

		type = om_type_is_image(h.type) ? h.type : image_types[h.type % 5];
		pos += OM_HDR_SIZE + h.length;
		rc = 0;
		j = NULL;
		switch (type) {
		case OM_T_IMAGE_BEGIN: rc = image_in_begin(&in, 7, p, h.length); break;
		case OM_T_IMAGE_THREAD: rc = image_in_thread(&in, p, h.length); break;
		case OM_T_IMAGE_REGION: rc = image_in_region(&in, p, h.length); break;
		case OM_T_IMAGE_PAGES: rc = image_in_pages(&in, p, h.length); break;
		case OM_T_IMAGE_END:
			j = image_in_end(&in, p, h.length);
			rc = j != NULL ? 0 : -1;
			break;
		}
		free(p);
		FZ_SAY("%s: %s\n", om_type_name(type), rc == 0 ? "taken" : in.why);
		FUZZ_ASSERT(rc == 0 || rc == -1, "image_in gave %d", rc);
		/* A rejected image leaves nothing, and says why. */
		FUZZ_ASSERT(rc == 0 || (!image_in_busy(&in) && in.why[0] != '\0'), "failure left %s",
		    image_in_busy(&in) ? "a job" : "no reason");
		if (j != NULL) {
			FUZZ_ASSERT(!image_in_busy(&in) && j->p != NULL && j->p->threads != NULL,
			    "a finished job still arriving");
			if (flags & 4)
				home_checks(j); /* destroys it */
			else
				job_destroy_process(j);
		}
	}
	image_in_abort(&in);
	free(in.hdr);
	return 0;
}
