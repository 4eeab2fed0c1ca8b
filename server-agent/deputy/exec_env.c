/* exec_env.c - an environment entry added at the exec stop (exec_env.h;
 * the stack layout is the System V x86-64 ABI's, 3.4.1, as Linux's
 * create_elf_tables builds it). */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "exec_env.h"

#define WORDS_MAX (1u << 20) /* argv + envp + auxv: exec's own limit is far below */
#define PAGE 4096u

/* Appends words from addr to *v until (and with) the first one that ends
 * the list: a zero (envp) or, with pairs, a pair whose first word is
 * AT_NULL (auxv). A page at a time: the stack may end right after the
 * list. Returns the new count, or -1. */
static long read_list(struct inject *in, uint64_t addr, uint64_t **v, long n, int pairs)
{
	long i = 0, have = 0;
	for (;;) {
		if (i + (pairs ? 1 : 0) >= have) {
			long more = (long)((PAGE - (addr + (uint64_t)have * 8) % PAGE) / 8);
			uint64_t *grown = realloc(*v, (size_t)(n + have + more) * sizeof **v);
			if (!grown || n + have + more > (long)WORDS_MAX)
				return -1;
			*v = grown;
			if (inject_read(in, addr + (uint64_t)have * 8, *v + n + have, (size_t)more * 8) != 0)
				return -1;
			have += more;
			continue;
		}
		if ((*v)[n + i] == (pairs ? AT_NULL : 0))
			return n + i + (pairs ? 2 : 1);
		i += pairs ? 2 : 1;
	}
}

int exec_env_add(struct inject *in, const char *name, const char *value, char *user, size_t userlen)
{
	struct user_regs_struct regs;
	uint64_t *w = NULL, argc;
	char entry[EXEC_ENV_MAX], head[EXEC_ENV_MAX];
	size_t nlen = strlen(name);
	int rc = -E2BIG;

	if (userlen)
		user[0] = '\0';
	if (nlen + 1 + strlen(value) + 1 > sizeof entry)
		return -E2BIG;
	if (ptrace(PTRACE_GETREGS, in->pid, NULL, &regs) == -1)
		return -errno;
	if (inject_read(in, regs.rsp, &argc, 8) != 0 || argc > WORDS_MAX / 2)
		return -E2BIG;
	/* The block: argc, argv (with its NULL), envp (with its NULL), auxv. */
	long n = (long)argc + 2, env0 = n;
	if (!(w = malloc((size_t)n * sizeof *w)) || inject_read(in, regs.rsp, w, (size_t)n * 8) != 0 ||
	    w[n - 1] != 0)
		goto out;
	if ((n = read_list(in, regs.rsp + (uint64_t)n * 8, &w, n, 0)) < 0)
		goto out;
	long envend = n - 1; /* envp's NULL */
	if ((n = read_list(in, regs.rsp + (uint64_t)n * 8, &w, n, 1)) < 0)
		goto out;

	/* Theirs, if they have one: it goes first, ours after it. */
	long theirs = -1;
	snprintf(entry, sizeof entry, "%s=%s", name, value);
	for (long i = env0; i < envend && theirs < 0; i++)
		if (inject_read(in, w[i], head, nlen + 1) == 0 && !memcmp(head, name, nlen) && head[nlen] == '=')
			theirs = i;
	if (theirs >= 0) {
		size_t k = 0;
		for (; k + 1 < sizeof head; k++)
			if (inject_read(in, w[theirs] + k, head + k, 1) != 0 || head[k] == '\0')
				break;
		head[k] = '\0';
		if (k + 1 >= sizeof head || k + 1 + strlen(value) + 1 > sizeof entry || k + 1 > userlen)
			goto out;
		memcpy(user, head, k + 1);
		memcpy(entry, head, k); /* room checked above */
		entry[k] = ':';
		memcpy(entry + k + 1, value, strlen(value) + 1);
	}

	/* The new block ends below the string, which takes the old block's
	 * last bytes; the strings above stay where they are. */
	size_t len = strlen(entry) + 1;
	uint64_t old_end = regs.rsp + (uint64_t)n * 8;
	uint64_t str = old_end - len;
	long m = theirs >= 0 ? n : n + 1;
	uint64_t rsp = (str - (uint64_t)m * 8) & ~15ull;
	uint64_t *nw = malloc((size_t)m * sizeof *nw);
	if (!nw)
		goto out;
	if (theirs >= 0) {
		memcpy(nw, w, (size_t)n * 8);
		nw[theirs] = str;
	} else {
		memcpy(nw, w, (size_t)envend * 8);
		nw[envend] = str;
		memcpy(nw + envend + 1, w + envend, (size_t)(n - envend) * 8);
	}
	rc = -EFAULT;
	if (inject_write(in, str, entry, len) == 0 && inject_write(in, rsp, nw, (size_t)m * 8) == 0) {
		regs.rsp = rsp;
		rc = ptrace(PTRACE_SETREGS, in->pid, NULL, &regs) == -1 ? -errno : 0;
	}
	free(nw);
out:
	free(w);
	return rc;
}
