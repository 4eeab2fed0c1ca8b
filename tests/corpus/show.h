/* show.h - SHOW(label, call): runs the call, then prints its result and,
 * for a negative one, errno's text. The call runs before errno is read
 * (in one printf, argument order is unspecified). */
#ifndef CORPUS_SHOW_H
#define CORPUS_SHOW_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SHOW(label, expr)                                                             \
	do {                                                                          \
		errno = 0;                                                            \
		long rc_ = (long)(expr);                                              \
		int e_ = errno;                                                       \
		printf("%s: %ld %s\n", label, rc_, rc_ < 0 ? strerror(e_) : "ok"); \
	} while (0)

#endif
