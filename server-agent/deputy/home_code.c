/* home_code.c - the files behind home's code (contract in home_code.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "home_code.h"

struct note {
	char *path;
	int known;   /* stat answered when the job left */
	int fixed;   /* the job's user cannot write it */
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
};

static struct note *notes;
static size_t nnotes, cap;

static void forget(void)
{
	for (size_t i = 0; i < nnotes; i++)
		free(notes[i].path);
	nnotes = 0;
}

static const struct note *find(const char *path)
{
	for (size_t i = 0; i < nnotes; i++)
		if (strcmp(notes[i].path, path) == 0)
			return &notes[i];
	return NULL;
}

static void note(const char *path)
{
	struct stat st;
	if (find(path) != NULL)
		return;
	if (nnotes == cap) {
		size_t ncap = cap ? 2 * cap : 32;
		struct note *n = realloc(notes, ncap * sizeof *n);
		if (n == NULL)
			return; /* unnoted: refused when it comes back */
		notes = n;
		cap = ncap;
	}
	struct note *n = &notes[nnotes];
	memset(n, 0, sizeof *n);
	if ((n->path = strdup(path)) == NULL)
		return;
	if (stat(path, &st) == 0) {
		n->known = 1;
		n->dev = st.st_dev;
		n->ino = st.st_ino;
		n->ctime = st.st_ctim;
		n->fixed = geteuid() != 0 && st.st_uid != geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH));
	}
	nnotes++;
}

void home_code_leaving(pid_t pid)
{
	struct capture_map *maps;
	size_t n;
	forget();
	if (capture_read_maps(pid, 0, 0, &maps, &n) != 0)
		return; /* nothing noted: refused when it comes back */
	for (size_t i = 0; i < n; i++)
		if ((maps[i].prot & OM_PROT_X) && maps[i].inode != 0 && maps[i].name[0] == '/')
			note(maps[i].name);
	free(maps);
}

int home_code_check(void *ctx, const char *path, char *why, size_t len)
{
	static const char deleted[] = " (deleted)";
	size_t plen = strlen(path), dlen = sizeof deleted - 1;
	const struct note *n = find(path);
	struct stat st;
	(void)ctx;
	if (n == NULL && plen > dlen && strcmp(path + plen - dlen, deleted) == 0) {
		char *was = strndup(path, plen - dlen);
		n = was ? find(was) : NULL;
		free(was);
		if (n != NULL && n->known && !n->fixed) {
			snprintf(why, len, "%.*s was removed while the job was away", (int)(plen - dlen), path);
			return -1;
		}
	}
	if (n == NULL || !n->known) {
		snprintf(why, len, "%s could not be looked at when the job left", path);
		return -1;
	}
	if (n->fixed)
		return 0;
	if (stat(path, &st) != 0 || st.st_dev != n->dev || st.st_ino != n->ino ||
	    st.st_ctim.tv_sec != n->ctime.tv_sec || st.st_ctim.tv_nsec != n->ctime.tv_nsec) {
		snprintf(why, len, "%s changed while the job was away", path);
		return -1;
	}
	return 0;
}
