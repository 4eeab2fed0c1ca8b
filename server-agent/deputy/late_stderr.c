#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "late_stderr.h"

#define LATE_WAIT_MS 1000

void late_stderr_note(struct late_stderr *ls)
{
	struct stat st;
	ls->pid = 0;
	if (fstat(2, &st) != 0)
		return;
	ls->pid = getpid();
	ls->dev = st.st_dev;
	ls->ino = st.st_ino;
}

/* om-run's fd 2 itself (its file offset shared, as the job's own writes
 * share it), else the same file opened anew, appending. */
static int open_stderr(pid_t pid)
{
	char path[48];
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), fd = -1;
	if (pidfd >= 0) {
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, 2, 0);
		close(pidfd);
	}
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof path, "/proc/%d/fd/2", (int)pid);
	/* Its own description: O_NONBLOCK here changes nothing of om-run's
	 * (a FIFO with no reader must not hold the deputy in open). */
	return open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
}

/* Lost if om-run is gone or its stderr is another file now: never
 * written anywhere else. Always "written", so that stdio keeps going. */
static ssize_t late_write(void *cookie, const char *buf, size_t len)
{
	const struct late_stderr *ls = cookie;
	struct stat st;
	int fd = open_stderr(ls->pid);
	if (fd < 0)
		return (ssize_t)len;
	/* A stderr nobody reads (a full pipe) may cost a message, never
	 * the deputy: each piece waits for room at most LATE_WAIT_MS. */
	if (fstat(fd, &st) == 0 && st.st_dev == ls->dev && st.st_ino == ls->ino)
		for (size_t off = 0; off < len;) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			if (poll(&pfd, 1, LATE_WAIT_MS) != 1)
				break;
			ssize_t n = write(fd, buf + off, len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	close(fd);
	return (ssize_t)len;
}

void late_stderr_use(const struct late_stderr *ls)
{
	if (ls->pid <= 0)
		return;
	cookie_io_functions_t io = { .write = late_write };
	static FILE *ours; /* a deputy's deputy inherits its parent's */
	FILE *f = fopencookie((void *)ls, "w", io);
	if (!f)
		return;
	setvbuf(f, NULL, _IOLBF, 0); /* one message, one open */
	if (ours)
		fclose(ours);
	stderr = ours = f;
}
