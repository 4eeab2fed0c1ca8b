/* fileio DIR: open, write, lseek, read, stat/fstat, readdir, rename,
 * unlink in DIR, printing every result. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[4096], path2[4096];

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list(const char *dir)
{
	char *names[64];
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d) {
		printf("opendir: %s\n", strerror(errno));
		return;
	}
	while ((e = readdir(d)) && n < 64)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	printf("dir:");
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]), free(names[i]);
	printf(" (%d)\n", n);
}

int main(int argc, char **argv)
{
	char buf[256];
	struct stat st;
	if (argc != 2) {
		fprintf(stderr, "usage: fileio DIR\n");
		return 2;
	}
	if (chdir(argv[1]) != 0) {
		perror("chdir");
		return 1;
	}
	snprintf(path, sizeof path, "%s/a.txt", argv[1]);
	snprintf(path2, sizeof path2, "%s/b.txt", argv[1]);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0640);
	printf("open: %s\n", fd >= 0 ? "ok" : strerror(errno));
	const char *text = "hello, file\nsecond line\n";
	printf("write: %zd\n", write(fd, text, strlen(text)));
	printf("lseek end: %ld\n", (long)lseek(fd, 0, SEEK_END));
	printf("lseek 7: %ld\n", (long)lseek(fd, 7, SEEK_SET));
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("read: %zd [%s]\n", n, buf);
	printf("read at eof: %zd\n", read(fd, buf, sizeof buf));
	printf("pwrite: %zd\n", pwrite(fd, "HELLO", 5, 0));
	printf("pread: %zd\n", n = pread(fd, buf, 11, 0));
	buf[n > 0 ? n : 0] = 0;
	printf("pread data: [%s]\n", buf);
	if (fstat(fd, &st) == 0)
		printf("fstat: size %ld mode %o regular %d\n", (long)st.st_size, st.st_mode & 07777,
		       S_ISREG(st.st_mode));
	printf("close: %d\n", close(fd));
	if (stat("a.txt", &st) == 0)
		printf("stat: size %ld nlink %ld\n", (long)st.st_size, (long)st.st_nlink);
	printf("mkdir: %d\n", mkdir("sub", 0755));
	fd = open("sub/c.txt", O_CREAT | O_WRONLY | O_EXCL, 0600);
	printf("open sub/c.txt: %s\n", fd >= 0 ? "ok" : strerror(errno));
	printf("write: %zd\n", write(fd, "x", 1));
	close(fd);
	printf("open O_EXCL again: %s\n", open("sub/c.txt", O_CREAT | O_EXCL | O_WRONLY, 0600) < 0 ?
	       strerror(errno) : "opened?");
	list(".");
	printf("rename: %d\n", rename(path, path2));
	printf("stat old: %s\n", stat(path, &st) == 0 ? "exists" : strerror(errno));
	list(argv[1]);
	FILE *f = fopen("b.txt", "r");
	while (f && fgets(buf, sizeof buf, f))
		printf("line: %s", buf);
	if (f)
		fclose(f);
	printf("unlink b: %d\n", unlink("b.txt"));
	printf("unlink missing: %s\n", unlink("b.txt") == 0 ? "ok?" : strerror(errno));
	printf("unlink c: %d\n", unlink("sub/c.txt"));
	printf("rmdir: %d\n", rmdir("sub"));
	list(".");
	if (getcwd(buf, sizeof buf))
		printf("cwd is dir: %d\n", strcmp(buf, argv[1]) == 0);
	return 0;
}
