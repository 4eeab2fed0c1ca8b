#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "late_stderr.h"

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
	return open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
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
	if (fstat(fd, &st) == 0 && st.st_dev == ls->dev && st.st_ino == ls->ino)
		for (size_t off = 0; off < len;) {
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
	FILE *f = fopencookie((void *)ls, "w", io);
	if (!f)
		return;
	setvbuf(f, NULL, _IOLBF, 0); /* one message, one open */
	stderr = f;
}
