/* ckpt_home.h - a checkpoint file's home record (ckpt_file.h), taken
 * from the home process as the checkpoint is: its program, working
 * directory, descriptors (with their positions and what each file was),
 * the files behind its code (those home maps and those the node read,
 * node_code.h), its kernel mappings and memory layout. Home side only.
 *
 * What cannot be given back (a pipe, socket or terminal other than fd 0,
 * 1 or 2, a deleted file, an epoll or event descriptor) is recorded as
 * such, so that om-run --restart says why it refuses; the checkpoint
 * itself serves a restart after a node loss all the same. */
#ifndef OM_CKPT_HOME_H
#define OM_CKPT_HOME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ckpt_file.h"

/* The home record of process pid, whose image is taken after calls
 * calls, as frames written to fd (scratch: its region, left out of the
 * mappings): 0, or -1 with err. check_code: a file home runs code from
 * is recorded only if home_code_check finds it as it was when the job
 * left (a deputy's; not a program captured at its entry at home). */
int ckpt_home_write(int fd, pid_t pid, uint64_t scratch, uint64_t scratch_len, uint32_t calls, int check_code,
    char *err, size_t errlen);

#endif
