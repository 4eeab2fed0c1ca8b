/* sysnr.h - Linux x86-64 system call numbers as NR_<name>, taken from the
 * one table node and deputy share (migrate/syscalls.def). */
#ifndef OM_SYSNR_H
#define OM_SYSNR_H

enum {
#define SYSCALL(nr, name, where, a0, a1, a2, a3, a4, a5) NR_##name = nr,
#include "syscalls.def"
#undef SYSCALL
};

#endif
