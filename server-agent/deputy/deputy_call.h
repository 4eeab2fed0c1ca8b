/* deputy_call.h - runs one forwarded system call inside the stopped
 * tracee: its buffers are laid out in the scratch data area, the pointer
 * arguments rewritten to point there, the call injected, and what it wrote
 * read back for the reply. Home side only. */
#ifndef OM_DEPUTY_CALL_H
#define OM_DEPUTY_CALL_H

#include <stdint.h>

#include "inject.h"
#include "syscall_codec.h"

struct deputy_out {
	struct om_sysout outs[OM_SYSCALL_MAX_BUFS];
	uint8_t *mem;      /* INJECT_DATA_SIZE bytes the outs point into */
};

/* Runs req in the tracee. Returns 0 with *ret the call's result and
 * out->outs filled for om_sysrep_encode, or -errno when the deputy itself
 * failed (the tracee died: in->dead; no room in the scratch area: -E2BIG).
 * An execve that succeeded returns INJECT_EXECED (inject.h): the tracee is
 * the new program, at its exec stop. */
int deputy_call(struct inject *in, const struct om_sysreq *req, int64_t *ret, struct deputy_out *out);

#endif
