/* fuzz_invlpg.c - lets kernel/uvm.c run in user space under
 * fuzz_job_image: invlpg is privileged, so in ring 3 it faults (SIGSEGV).
 * uvm.c flushes the TLB entry of each page it maps in; the host has no
 * such entry to flush. The handler steps over an invlpg (0f 01 /7, any
 * memory operand) and gives any other fault back to the handler it
 * replaced (libFuzzer's and ASan's), which reports it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

static struct sigaction prev_segv;

/* The length of the invlpg at p, or 0 if p holds something else. */
static int
invlpg_len(const uint8_t *p)
{
	int n = (p[0] & 0xf0) == 0x40; /* a REX prefix */
	int mod = p[n + 2] >> 6, reg = (p[n + 2] >> 3) & 7, rm = p[n + 2] & 7, len = n + 3;

	if (p[n] != 0x0f || p[n + 1] != 0x01 || reg != 7 || mod == 3)
		return 0;
	if (rm == 4 && (p[len++] & 7) == 5 && mod == 0) /* SIB without a base: disp32 */
		len += 4;
	else if (rm == 5 && mod == 0) /* rip-relative */
		len += 4;
	return len + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

static void
on_segv(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	int n = invlpg_len((const uint8_t *)uc->uc_mcontext.gregs[REG_RIP]);

	(void)sig;
	(void)si;
	if (n > 0)
		uc->uc_mcontext.gregs[REG_RIP] += n;
	else
		sigaction(SIGSEGV, &prev_segv, NULL); /* it faults again, and is reported */
}

void fuzz_invlpg_install(void);

void
fuzz_invlpg_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &prev_segv) != 0)
		abort();
}
