/* vdso.h - turn a copy of the vDSO into system-call trampolines.
 *
 * The vDSO's functions read the kernel's vvar page, which does not exist on
 * a node. Before the vDSO travels, every function its dynamic symbol table
 * exports is overwritten at its entry with
 *     mov $NR, %eax; syscall; ret          (b8 NR 0f 05 c3)
 * for the calls it accelerates (clock_gettime, gettimeofday, time,
 * clock_getres, getcpu, with or without the __vdso_ prefix), and with
 *     mov $-ENOSYS, %rax; ret              (48 c7 c0 da ff ff ff c3)
 * for any other export (e.g. __vdso_getrandom, whose callers then fall back
 * to the system call). The home process's own vDSO is never touched: this
 * works on a copy. */
#ifndef OM_VDSO_H
#define OM_VDSO_H

#include <stddef.h>
#include <stdint.h>

#define VDSO_PATCH_SIZE 8 /* bytes written at each entry point */

/* Patches the vDSO image img[0..len) (the ELF file as mapped, offset 0 at
 * its base). Every offset and size is checked against len. Returns the
 * number of entry points patched (>= 0), or -1 when the image is not an
 * ELF64 x86-64 shared object, a table lies outside it, or an exported
 * function is too small to hold a trampoline. */
int vdso_patch(uint8_t *img, size_t len);

/* A process that ran on a node may come home stopped inside one of the
 * trampolines (at its syscall, or at its ret after it): home has the real
 * vDSO there, so that rip is in the middle of other code. When offset off
 * of the unpatched image img[0..len) lies in a trampoline, returns its
 * entry's offset (the process then either calls the real function again,
 * before the syscall, or returns to its caller with the result, at the
 * ret: VDSO_RET_AT); otherwise -1. */
#define VDSO_RET_AT 7 /* the trampolines' ret, from their entry */
long vdso_trampoline_entry(const uint8_t *img, size_t len, uint64_t off);
/* The deputy's own vDSO, unpatched: the same image as any 64-bit process's
 * on this kernel ([vdso] in /proc/self/maps). Returns 0 or -1. */
int vdso_self(const uint8_t **img, size_t *len);

/* The system call a vDSO symbol stands for, or -1 for any other name. */
long vdso_syscall_nr(const char *name);

#endif
