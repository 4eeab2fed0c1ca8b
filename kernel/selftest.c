/* selftest.c - om.selftest: runs a small ring-3 program built into the image
 * (qemu-tests/selftest/user.c) with nobody at home, to check the node's own
 * half of running jobs: entry and exit of ring 3, local system calls,
 * faults, signal frames, clocks. Its writes to fd 1 and 2 go to the console;
 * any other forwarded call fails with ENOSYS. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "elf64.h"
#include "job.h"
#include "job_image.h"
#include "job_thread.h"
#include "linux_abi.h"
#include "mm.h"
#include "sched.h"
#include "signal.h"
#include "syscall.h"
#include "selftest.h"
#include "timer.h"

#define SELFTEST_STACK_TOP 0x7ffffff00000UL
#define SELFTEST_STACK_SIZE (128 * 1024)

extern const uint8_t selftest_elf[], selftest_elf_end[];

static const struct job_host selftest_host;

/* write(RELOCATE_FD, ...) from the program: the process becomes the frames
 * of an image and a new process is built from them, every thread with it,
 * as a move to another node would (job_image.c both ways); the call
 * returns its length there. Returns 0, or -1 when the process is lost. */
#define RELOCATE_FD 100
static int selftest_relocate(struct job *j, int64_t ret)
{
	static uint8_t *buf;
	static struct image_in in;
	struct image_out o;
	struct proc *p = j->p;
	struct job *leader = job_thread_leader(j), *got = NULL;
	uint32_t threads = 0;
	uint8_t type;
	int n, rc = 0;
	if (!buf && !(buf = malloc(OM_MAX_PAYLOAD)))
		return -1;
	if (p->dying) { /* it ends anyway */
		sched_reply(j, ret);
		return 0;
	}
	syscall_return(j, ret);
	j->state = JOB_RUNNABLE;
	for (struct job *t = p->threads; t; t = t->sibling)
		sched_take(t);
	job_threads_reap(j); /* a thread that has just exited takes its leave now */
	for (struct job *t = p->threads; t; t = t->sibling)
		threads += job_thread_live(t);
	in.threads_ok = 1;
	image_out_start(&o, leader);
	while ((n = image_out_next(&o, &type, buf, OM_MAX_PAYLOAD)) > 0) {
		if (rc < 0)
			continue; /* the rest goes nowhere; the process is lost */
		switch (type) {
		case OM_T_IMAGE_BEGIN: rc = image_in_begin(&in, 0, buf, (size_t)n); break;
		case OM_T_IMAGE_THREAD: rc = image_in_thread(&in, buf, (size_t)n); break;
		case OM_T_IMAGE_REGION: rc = image_in_region(&in, buf, (size_t)n); break;
		case OM_T_IMAGE_PAGES: rc = image_in_pages(&in, buf, (size_t)n); break;
		default: rc = (got = image_in_end(&in, buf, (size_t)n)) ? 0 : -1; break;
		}
	}
	if (n < 0 || rc < 0 || !got) {
		kprintf("selftest: relocation failed: %s\n", n < 0 ? om_strerror(n) : in.why);
		image_in_abort(&in);
		job_destroy_process(o.job); /* NULL once the image was out */
		job_destroy_process(got);
		return -1;
	}
	kprintf("selftest: the job went out as an image and came back in (%u threads)\n", threads);
	for (struct job *t = got->p->threads; t; t = t->sibling)
		if (sched_start(t, &selftest_host) < 0) {
			kprintf("selftest: no room to start thread %ld\n", (long)t->tid);
			return -1;
		}
	return 0;
}

static void selftest_forward(struct job *j, const struct sys_call *sc)
{
	static int64_t next_tid = 2;
	int64_t ret = -LX_ENOSYS;
	if (sc->nr == 1 && sc->a[0] == RELOCATE_FD) {
		if (selftest_relocate(j, (int64_t)sc->a[2]) < 0)
			kprintf("selftest: job lost in relocation\n");
		return;
	} else if (j->cloning) {
		ret = next_tid++; /* no home: the node names its threads */
	} else if (sc->nr == 1 && (sc->a[0] == 1 || sc->a[0] == 2)) {
		char buf[256];
		uint64_t len = sc->a[2] < sizeof buf ? sc->a[2] : sizeof buf;
		ret = uvm_read(&j->p->uvm, sc->a[1], buf, len) < 0 ? -LX_EFAULT : (int64_t)len;
		if (ret > 0)
			console_write(buf, len);
	} else {
		kprintf("selftest: system call %lu has no home to go to\n", sc->nr);
	}
	sched_reply(j, ret);
}

static void selftest_home(struct job *j, int feature, int32_t pending, const char *what)
{
	kprintf("selftest: %s would bring the job home\n", what);
	if (feature || pending < 0)
		signal_force(j, LX_SIGILL, LX_ILL_ILLOPN, j->regs.rip);
	j->state = JOB_RUNNABLE;
	if (!feature)
		syscall_return(j, -LX_ENOSYS);
}

/* No terminal to wait for: the stop is answered with SIGCONT at once, as
 * a shell's fg would. */
static void selftest_stopped(struct job *j)
{
	struct job_siginfo info = { .code = LX_SI_USER };
	kprintf("selftest: job stopped by signal %d; SIGCONT from the host\n", j->p->stopped);
	signal_raise(j, LX_SIGCONT, &info);
}

static int selftest_thread_ok(struct job *j)
{
	(void)j;
	return 1;
}

/* Calls are answered at once here: none is ever out to interrupt. */
static void selftest_interrupt(struct job *j)
{
	(void)j;
}

static void selftest_exited(struct job *j)
{
	if ((j->exit_code & 0x7f) == 0)
		kprintf("selftest: job exited with status %u (%lu local calls, %lu forwarded, %lu faults)\n",
			(j->exit_code >> 8) & 0xff, j->syscalls_local, j->syscalls_forwarded, j->faults);
	else
		kprintf("selftest: job killed by signal %u\n", j->exit_code & 0x7f);
}

/* No home, no files: a file mapping fails as on a descriptor that is not
 * open. */
static void selftest_fill(struct job *j)
{
	uvm_unmap(&j->p->uvm, j->fill.addr, j->fill.addr + j->fill.len);
	sched_reply(j, -LX_EBADF);
}

static const struct job_host selftest_host = {
	.forward = selftest_forward,
	.fill = selftest_fill,
	.go_home = selftest_home,
	.stopped = selftest_stopped,
	.interrupt = selftest_interrupt,
	.exited = selftest_exited,
	.thread_ok = selftest_thread_ok,
};

static int selftest_load(struct job *j)
{
	size_t size = (size_t)(selftest_elf_end - selftest_elf);
	struct elf64_ehdr eh;
	if (size < sizeof eh)
		return -1;
	memcpy(&eh, selftest_elf, sizeof eh);
	if (memcmp(eh.e_ident, "\177ELF\2\1", 6) || eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(struct elf64_phdr) ||
	    eh.e_phoff > size || eh.e_phnum > (size - eh.e_phoff) / sizeof(struct elf64_phdr))
		return -1;
	for (uint16_t i = 0; i < eh.e_phnum; i++) {
		struct elf64_phdr ph;
		memcpy(&ph, selftest_elf + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset || ph.p_filesz > ph.p_memsz ||
		    ph.p_vaddr >= UVM_TOP || ph.p_memsz > UVM_TOP - ph.p_vaddr)
			return -1;
		uint64_t start = ph.p_vaddr & ~(PAGE_SIZE - 1);
		uint64_t end = (ph.p_vaddr + ph.p_memsz + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		uint32_t prot = ((ph.p_flags & PF_R) ? UVM_PROT_R : 0) | ((ph.p_flags & PF_W) ? UVM_PROT_W : 0) |
				((ph.p_flags & PF_X) ? UVM_PROT_X : 0);
		if (uvm_map(&j->p->uvm, start, end, prot, UVM_FILE, 0) < 0 ||
		    uvm_write(&j->p->uvm, ph.p_vaddr, selftest_elf + ph.p_offset, ph.p_filesz, 1) < 0)
			return -1;
		if (end > j->p->start_brk)
			j->p->start_brk = j->p->brk = end;
	}
	if (uvm_map(&j->p->uvm, SELFTEST_STACK_TOP - SELFTEST_STACK_SIZE, SELFTEST_STACK_TOP,
		    UVM_PROT_R | UVM_PROT_W, UVM_STACK, 0) < 0)
		return -1;
	j->p->uvm.stack_limit = SELFTEST_STACK_TOP - (8UL << 20);
	/* argc 0, argv NULL, envp NULL, auxv AT_NULL: the smallest execve stack */
	uint64_t sp = SELFTEST_STACK_TOP - 64, zero[4] = { 0, 0, 0, 0 };
	if (uvm_write(&j->p->uvm, sp, zero, sizeof zero, 0) < 0)
		return -1;
	j->regs.rsp = sp;
	j->regs.rip = eh.e_entry;
	j->p->mmap_base = SELFTEST_STACK_TOP - (64UL << 20);
	return 0;
}

int selftest_start(void)
{
	struct job *j = job_create(0);
	if (!j)
		return -1;
	j->p->ident = (struct job_identity){ .pid = 1, .ppid = 0, .tid = 1, .pgid = 1, .sid = 1 };
	j->tid = 1;
	j->p->node_ns_base = timer_ns();
	if (selftest_load(j) < 0) {
		kprintf("selftest: the built-in program is malformed\n");
		job_destroy(j);
		return -1;
	}
	kprintf("selftest: starting the built-in ring-3 program\n");
	return sched_start(j, &selftest_host);
}
