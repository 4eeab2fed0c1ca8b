/* selftest_blob.S - the ring-3 self-test program, built from
 * qemu-tests/selftest/user.c into build/selftest-user.elf. */
	.section .rodata
	.align 16
	.globl selftest_elf, selftest_elf_end
selftest_elf:
	.incbin "build/selftest-user.elf"
selftest_elf_end:
