/* exec_env.h - one more environment entry for a program the deputy sees
 * at its exec stop (PTRACE_EVENT_EXEC), before any of its instructions ran.
 *
 * The deputy places a program when it execs (at home, in a process it
 * follows); a dynamic one must then be told through GLIBC_TUNABLES which
 * CPU features to leave out for its node (cpu_mask.h), and ld.so reads
 * that before the entry point. The process's environment is already on
 * its stack by then: argc, argv[], NULL, envp[], NULL, auxv, and above
 * them the strings. exec_env_add moves that block down (rsp with it) to
 * make room for one more envp slot and the new string, which it puts
 * between the block's new end and the strings; nothing points into the
 * block itself, so the program cannot tell. Home side only (Linux x86-64). */
#ifndef OM_EXEC_ENV_H
#define OM_EXEC_ENV_H

#include <stddef.h>

#include "inject.h"

#define EXEC_ENV_MAX 4096 /* the longest entry, "NAME=value" */

/* Adds NAME=value to the environment of in->pid, stopped at its exec stop.
 * If the program has NAME already, its entry becomes NAME=theirs:value
 * (glibc reads one GLIBC_TUNABLES, a colon-separated list) and theirs, the
 * whole "NAME=..." string, is copied to user (else user is ""), for putting
 * back after the entry point. Returns 0, or -errno (-E2BIG: too long, or
 * a stack that is not what exec leaves). */
int exec_env_add(struct inject *in, const char *name, const char *value, char *user, size_t userlen);

#endif
