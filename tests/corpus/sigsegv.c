/* sigsegv: a SA_SIGINFO handler for a deliberate fault, left with
 * siglongjmp; prints si_code and whether si_addr is the faulting address. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf jb;
static volatile int code, sig;
static void *volatile addr;

static void on_segv(int s, siginfo_t *si, void *uc)
{
	(void)uc;
	sig = s;
	code = si->si_code;
	addr = si->si_addr;
	siglongjmp(jb, 1);
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	volatile int *bad = (volatile int *)(uintptr_t)0x1238;
	if (sigsetjmp(jb, 1) == 0) {
		*bad = 1;
		printf("no fault?\n");
		return 1;
	}
	printf("signal %d si_code %d (SEGV_MAPERR %d) addr matches %d\n", sig, code, SEGV_MAPERR,
	       addr == (void *)bad);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(jb, 1) == 0) {
		ro[10] = 1;
		printf("no fault?\n");
		return 1;
	}
	printf("signal %d si_code %d (SEGV_ACCERR %d) addr matches %d\n", sig, code, SEGV_ACCERR,
	       addr == (void *)(ro + 10));
	/* the mask was restored by siglongjmp: a third fault is caught too */
	if (sigsetjmp(jb, 1) == 0)
		*bad = 2;
	printf("third fault caught: %d\n", sig == SIGSEGV);
	return 0;
}
