/* xmm_entry.c - no libc: checks that the x87/SSE/AVX state at the entry
 * point is the one Linux starts a program with (FCW 0x37f, MXCSR 0x1f80,
 * XMM0-15 and the AVX upper halves zero). om-checkpoint --roundtrip clobbers
 * all of it before it restores the image, so this fails unless the XSAVE
 * area is restored. Prints "fpu state ok" and exits 0, or names the
 * difference and exits 1. Build: -static -nostdlib -fno-pie -no-pie. */

/* Saved by _start before any compiled code can touch a vector register. */
unsigned char fx[512] __attribute__((aligned(64)));
unsigned char ymm[16 * 32] __attribute__((aligned(64)));
int have_avx;

__asm__(
	".globl _start\n"
	"_start:\n"
	"	fxsave fx(%rip)\n"
	"	mov $1, %eax\n"
	"	cpuid\n"
	"	and $0x18000000, %ecx\n"     /* OSXSAVE | AVX */
	"	cmp $0x18000000, %ecx\n"
	"	jne 1f\n"
	"	movl $1, have_avx(%rip)\n"
	"	lea ymm(%rip), %rax\n"
	"	vmovdqu %ymm0, 0(%rax)\n"
	"	vmovdqu %ymm1, 32(%rax)\n"
	"	vmovdqu %ymm2, 64(%rax)\n"
	"	vmovdqu %ymm3, 96(%rax)\n"
	"	vmovdqu %ymm4, 128(%rax)\n"
	"	vmovdqu %ymm5, 160(%rax)\n"
	"	vmovdqu %ymm6, 192(%rax)\n"
	"	vmovdqu %ymm7, 224(%rax)\n"
	"	vmovdqu %ymm8, 256(%rax)\n"
	"	vmovdqu %ymm9, 288(%rax)\n"
	"	vmovdqu %ymm10, 320(%rax)\n"
	"	vmovdqu %ymm11, 352(%rax)\n"
	"	vmovdqu %ymm12, 384(%rax)\n"
	"	vmovdqu %ymm13, 416(%rax)\n"
	"	vmovdqu %ymm14, 448(%rax)\n"
	"	vmovdqu %ymm15, 480(%rax)\n"
	"1:	and $-16, %rsp\n"
	"	call check\n"
	"	hlt\n");

static long
sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
	    : "rcx", "r11", "memory");
	return ret;
}

static void __attribute__((noreturn))
finish(const char *msg, int code)
{
	long n = 0;

	while (msg[n] != '\0')
		n++;
	sys3(1, 1, (long)msg, n);   /* write */
	sys3(231, code, 0, 0);      /* exit_group */
	for (;;)
		;
}

void __attribute__((used, noreturn))
check(void)
{
	int i;

	if (fx[0] != 0x7f || fx[1] != 0x03)
		finish("FCW differs\n", 1);
	if (fx[24] != 0x80 || fx[25] != 0x1f || fx[26] != 0 || fx[27] != 0)
		finish("MXCSR differs\n", 1);
	for (i = 160; i < 416; i++)
		if (fx[i] != 0)
			finish("XMM registers differ\n", 1);
	if (have_avx)
		for (i = 0; i < 16 * 32; i++)
			if (ymm[i] != 0)
				finish("YMM registers differ\n", 1);
	finish("fpu state ok\n", 0);
}
