/* log.c - timestamped stderr logging for om-agent (see log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "om-agent";
static int log_verbose;

void
log_init(const char *progname, int verbose)
{
	log_prog = progname;
	log_verbose = verbose;
}

/* Formats the whole line first and writes it with one write(2), so lines
 * stay whole even when stderr is shared with other processes. */
static void
log_vline(const char *fmt, va_list ap, const char *errstr)
{
	char line[1024];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int k;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
	k = snprintf(line + n, sizeof line - n, ".%03ld %s: ", (long)tv.tv_usec / 1000, log_prog);
	n += (size_t)k;
	k = vsnprintf(line + n, sizeof line - n, fmt, ap);
	n = (k < 0 || (size_t)k >= sizeof line - n) ? sizeof line - 1 : n + (size_t)k;
	if (errstr != NULL) {
		k = snprintf(line + n, sizeof line - n, ": %s", errstr);
		n = (k < 0 || (size_t)k >= sizeof line - n) ? sizeof line - 1 : n + (size_t)k;
	}
	if (n >= sizeof line - 1)
		n = sizeof line - 2; /* truncated: keep room for the newline */
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vline(fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vline(fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	log_vline(fmt, ap, e);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
