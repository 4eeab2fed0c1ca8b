/* show.h - how the probe programs of qemu-tests (reach_out.c,
 * confine_probe.c) say what one try gave: "WHAT: OK", or "WHAT: ENAME"
 * with the errno's name; flushed at once, so the lines of a parent and its
 * child come out in the order they were made. Returns rc. */
#ifndef OM_PROGS_SHOW_H
#define OM_PROGS_SHOW_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static long show(const char *what, long rc)
{
	if (rc < 0)
		printf("%s: %s\n", what, strerrorname_np(errno));
	else
		printf("%s: OK\n", what);
	fflush(stdout);
	return rc;
}

#endif
