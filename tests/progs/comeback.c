/* comeback.c - no libc: the program tests/test_hostile_image.py hands to
 * a fake node, which sends its image home changed. Its whole code:
 *
 *   _start:      getpid                   (rip + 0: mov, rip + 5: SYSCALL)
 *   after_call:  exit(rax < 0 ? -rax : 0)  (rip + 7)
 *
 * so the exit status tells what the call before after_call returned: 0
 * when it ran (getpid, or whatever a node made it), the errno when the
 * deputy refused it. Build: -static -nostdlib -fno-pie -no-pie. */
__asm__(
	".globl _start\n"
	"_start:\n"
	"	mov $39, %eax\n"
	"	syscall\n"
	"after_call:\n"
	"	xor %edi, %edi\n"
	"	test %rax, %rax\n"
	"	jns 1f\n"
	"	neg %rax\n"
	"	mov %eax, %edi\n"
	"1:	mov $60, %eax\n"
	"	syscall\n");
