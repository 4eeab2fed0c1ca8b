/* confine.c - the Landlock ruleset of om-run --confine (confine.h).
 * Landlock's contract: Documentation/userspace-api/landlock.rst in Linux. */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "confine.h"
#include "confine_calls.h"

/* Debian 12's <linux/landlock.h> is Linux 6.1's (ABI 2): the rights and
 * fields of later ABIs, with the kernel's values. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)   /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
/* Later ABIs add nothing a ruleset here handles (7: audit logging). */
#define CONFINE_ABI_KNOWN 6

/* struct landlock_ruleset_attr as ABI 6 has it. The kernel takes a longer
 * struct than its own if the extra bytes are zero, so this one layout
 * serves every ABI, with the fields a kernel lacks left zero. */
struct confine_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_RUN (FS_READ | LANDLOCK_ACCESS_FS_EXECUTE)
#define FS_DEV (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
/* The rights a rule on a file (not a directory) may hold. */
#define FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* What a program needs to be loaded and run, read-only; missing ones are
 * skipped (merged /usr makes /bin and /lib links into it). */
static const char *const confine_system[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
};
static const char *const confine_devices[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

/* The filesystem rights of an ABI: all of them, so that none is left
 * allowed by default. */
static uint64_t
confine_fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/* Allows what (as far as the ruleset handles it) beneath path, or on it if
 * it is a file. A path that cannot be opened or ruled fails if required,
 * else is skipped (a rule only ever allows more). Returns 0, or -1 with
 * err set. */
static int
confine_rule(int ruleset, uint64_t handled, const char *path, uint64_t what, int required,
    char *err, size_t errlen)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd, rc = 0;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return required ? -1 : 0;
	}
	what &= handled;
	if (!S_ISDIR(st.st_mode))
		what &= FS_FILE;
	memset(&pb, 0, sizeof pb);
	pb.allowed_access = what;
	pb.parent_fd = fd;
	if (what != 0 && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1 &&
	    required) {
		snprintf(err, errlen, "%s: Landlock refused the rule: %s", path, strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

/* What the job's standard input, output or error is, when it is a file or
 * a terminal: the program may open it again by name (/dev/stdout,
 * /dev/tty, /dev/pts/N, the file a shell redirected to), as it has it
 * open (read, write); not the user's other terminals. Pipes and sockets
 * have no name to open. */
static int
confine_stdio(int ruleset, uint64_t handled, int fd, char *err, size_t errlen)
{
	static const uint64_t modes[] = {
		[O_RDONLY] = LANDLOCK_ACCESS_FS_READ_FILE,
		[O_WRONLY] = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE,
		[O_RDWR] = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		    LANDLOCK_ACCESS_FS_TRUNCATE,
	};
	char link[32];
	struct stat st;
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 || (fl & O_ACCMODE) > O_RDWR || fstat(fd, &st) == -1 ||
	    !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	return confine_rule(ruleset, handled, link, modes[fl & O_ACCMODE] |
	    (S_ISCHR(st.st_mode) ? LANDLOCK_ACCESS_FS_IOCTL_DEV : 0), 0, err, errlen);
}

/* The kernel's Landlock ABI, or -1 with the reason in err. */
static int
confine_abi(char *err, size_t errlen)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi >= 1)
		return abi > CONFINE_ABI_KNOWN ? CONFINE_ABI_KNOWN : (int)abi;
	if (errno == ENOSYS)
		snprintf(err, errlen, "this kernel has no Landlock (Linux 5.13 or later, "
		    "CONFIG_SECURITY_LANDLOCK)");
	else if (errno == EOPNOTSUPP)
		snprintf(err, errlen, "Landlock is disabled in this kernel (not in its lsm= boot parameter)");
	else
		snprintf(err, errlen, "Landlock: %s", strerror(errno));
	return -1;
}

int
confine_build(const struct confine_spec *spec, int *abi, char *err, size_t errlen)
{
	struct confine_attr attr;
	uint64_t fs;
	size_t i;
	int rs, v, rc = 0;

	if ((v = confine_abi(err, errlen)) == -1)
		return -1;
	fs = confine_fs_rights(v);
	memset(&attr, 0, sizeof attr);
	attr.handled_access_fs = fs;
	if (v >= 4 && !spec->allow_tcp)
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (v >= 6)
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)) == -1) {
		snprintf(err, errlen, "Landlock: cannot make a ruleset: %s", strerror(errno));
		return -1;
	}
	rc = confine_rule(rs, fs, ".", fs, 1, err, errlen);
	for (i = 0; rc == 0 && i < spec->nallow; i++)
		rc = confine_rule(rs, fs, spec->allow[i].path, spec->allow[i].write ? fs : FS_RUN, 1, err,
		    errlen);
	if (rc == 0)
		rc = confine_rule(rs, fs, spec->program, FS_RUN, 1, err, errlen);
	for (i = 0; rc == 0 && i < sizeof confine_system / sizeof confine_system[0]; i++)
		rc = confine_rule(rs, fs, confine_system[i], FS_RUN, 0, err, errlen);
	if (rc == 0)
		rc = confine_rule(rs, fs, "/proc", FS_READ, 0, err, errlen);
	if (rc == 0)
		rc = confine_rule(rs, fs, "/sys", FS_READ, 0, err, errlen);
	for (i = 0; rc == 0 && i < sizeof confine_devices / sizeof confine_devices[0]; i++)
		rc = confine_rule(rs, fs, confine_devices[i], FS_DEV, 0, err, errlen);
	for (i = 0; rc == 0 && i < 3; i++)
		rc = confine_stdio(rs, fs, (int)i, err, errlen);
	if (rc != 0) {
		close(rs);
		return -1;
	}
	*abi = v;
	return rs;
}

int
confine_apply(int ruleset)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -errno;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) == -1)
		return -errno;
	close(ruleset);
	return confine_calls_apply();
}
