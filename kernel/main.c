/* main.c - kernel_main: brings the node up in dependency order, then runs
 * the main loop that does all network work outside interrupt context. */
#include <stdio.h>
#include <string.h>

#include "bootinfo.h"
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "cpuinfo.h"
#include "fpu.h"
#include "irq.h"
#include "klock.h"
#include "mm.h"
#include "net.h"
#include "nic.h"
#include "pci.h"
#include "random.h"
#include "job_thread.h"
#include "sched.h"
#include "selftest.h"
#include "smp.h"
#include "job.h"
#include "homelink.h"
#include "leave.h"
#include "panel.h"
#include "timer.h"
#include "trap.h"

#define OM_VERSION "om 0.1"
#define SPEED_BENCH_MS 50

static int wants_cpu(const struct job *j)
{
	return j->state == JOB_RUNNABLE && !j->p->stopped;
}

/* The live values of each heartbeat (net_start calls it back). */
static void node_status(struct om_heartbeat *hb)
{
	memset(hb, 0, sizeof *hb);
	hb->uptime_ms = timer_ms();
	hb->mem_free = pmm_free_bytes();
	hb->jobs = (uint32_t)(sched_processes() + homelink_jobs_in_transit());
	for (int i = 0; i < sched_count(); i++) {
		struct job *j = sched_job(i);
		if (wants_cpu(j))
			hb->load_milli += 1000; /* a thread that wants a core now */
		if (job_thread_leader(j) != j || hb->nlisted >= OM_NODE_JOBS_MAX)
			continue; /* a process is listed once, by its leader */
		int runnable = 0;
		for (const struct job *t = j->p->threads; t; t = t->sibling)
			runnable |= wants_cpu(t);
		hb->listed[hb->nlisted++] = (struct om_hb_job){ j->id, job_ran_ns(j->p), (uint8_t)runnable };
	}
}

/* When the jobs that want the CPU change, the agent hears it soon. */
static void runnable_watch(void)
{
	static int last = -1;
	int n = 0;
	for (int i = 0; i < sched_count(); i++)
		n += wants_cpu(sched_job(i));
	if (n != last) {
		last = n;
		agent_heartbeat_soon();
	}
}

static void print_memory(const struct bootinfo *bi)
{
	uint64_t usable = 0;
	for (uint32_t i = 0; i < bi->nmem; i++)
		if (bi->mem[i].type == BOOT_MEM_USABLE)
			usable += bi->mem[i].len;
	printf("mem: %lu MiB usable in %u ranges, %lu MiB free after the kernel\n",
	       usable >> 20, bi->nmem, pmm_free_bytes() >> 20);
}

/* The boot core's loop: the network, the job link, the panel, and jobs
 * like any core. It holds the kernel lock except while a job runs in
 * ring 3 (sched_step) and while it sleeps. */
static void __attribute__((noreturn)) main_loop(void)
{
	klock();
	for (;;) {
		irq_work_pending = 0;
		net_poll();
		homelink_poll();
		leave_poll();
		panel_update();
		/* The job runs until its next trap (a timer tick at the latest),
		 * then the network gets its turn again. */
		int ran = sched_step();
		homelink_poll(); /* what the step queued (a call, an exit) goes now */
		runnable_watch();
		if (ran)
			continue;
		/* Sleep until the next interrupt (the timer ticks at TIMER_HZ), unless
		 * one arrived while we were polling. */
		kunlock();
		cpu_cli();
		if (irq_work_pending)
			cpu_sti();
		else
			cpu_sti_hlt();
		klock();
	}
}

void kernel_main(struct bootinfo *bi)
{
	static struct node_identity id;
	struct node_options opt;
	struct net_config *cfg = &opt.net;

	kernel_phys_base = bi->kernel_phys;
	console_init();
	kprintf("\n%s node kernel (%s boot)\n", OM_VERSION, bi->loader);
	gdt_init(0, 0);
	idt_init();
	idt_load();
	pmm_init(bi);
	vm_init(bi);
	console_attach(bi);
	heap_init();
	fpu_init();
	pic_init();
	timer_init();
	user_init(0, 0);
	smp_init(bi);
	cpu_sti();
	if (fpu_has_xsave())
		printf("cpu: TSC %lu MHz, XSAVE area %u bytes\n", timer_tsc_hz() / 1000000, fpu_area_size());
	else
		printf("cpu: TSC %lu MHz, no XSAVE: x87/SSE state kept with FXSAVE\n", timer_tsc_hz() / 1000000);
	print_memory(bi);
	smp_start();

	cmdline_parse(bi->cmdline, &opt);
	if (!cfg->use_dhcp && !cfg->agent_ip) {
		printf("cmdline: om.ip given without om.agent; trying the gateway as the agent\n");
		cfg->agent_ip = cfg->gw;
	}

	id.status = node_status;
	id.hello.cpu = *cpuinfo_node();
	id.hello.mem_bytes = pmm_total_bytes();
	id.hello.speed = opt.speed ? opt.speed : cpu_speed_score(SPEED_BENCH_MS);
	strncpy(id.hello.version, OM_VERSION, sizeof id.hello.version - 1);
	printf("cpu: %s (%s), speed %u%s\n", id.hello.cpu.model[0] ? id.hello.cpu.model : "unknown model",
	       id.hello.cpu.vendor, id.hello.speed, opt.speed ? " (om.speed)" : "");

	pci_scan();
	struct nic *nic = nic_find();
	while (!nic) {
		/* Nothing to do without a network; say so where someone can see it. */
		printf("nic: no supported network card found (virtio-net, e1000, e1000e); "
		       "this node cannot join the cluster\n");
		for (uint32_t t = timer_ms(); timer_ms() - t < 10000;)
			cpu_sti_hlt();
	}
	random_init();
	if (net_start(nic, cfg, &id) < 0)
		panic("net: could not start the network on %s", nic->name);
	if (homelink_init() < 0)
		panic("jobs: out of memory for the job link");
	panel_init(nic, id.hello.speed);
	leave_init();
	printf("boot: network starting %lu ms after kernel entry\n",
	       (rdtsc() - bi->tsc_at_entry) / (timer_tsc_hz() / 1000));
	if (opt.selftest)
		selftest_start();
	smp_release();
	main_loop();
}
