/* log.h - daemon logging to stderr, one line per message with a timestamp:
 * "2026-11-25 08:23:40.123 om-agent: message". log_warn appends
 * ": strerror(errno)", log_warnx does not (as warn(3)/warnx(3)); fatal and
 * fatalx log the same way and exit 1. log_debug prints only with -v. */
#ifndef OM_LOG_H
#define OM_LOG_H

void log_init(const char *progname, int verbose);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
