/* bigio DIR: system calls with buffers larger than one forwarded call
 * carries: stdin read with 4 MiB read()s, echoed with one write() per read,
 * a 3 MiB file written with one write() and read back with one read() and
 * one readv(); prints sizes and checksums on stderr. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#define BIG (4u << 20)
#define FILE_SIZE (3u << 20)

static uint64_t sum(const uint8_t *p, size_t n)
{
	uint64_t s = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		s = (s ^ p[i]) * 1099511628211ULL;
	return s;
}

int main(int argc, char **argv)
{
	uint8_t *buf = malloc(BIG), *back = malloc(BIG);
	size_t total = 0;
	ssize_t n;
	if (argc != 2 || !buf || !back || chdir(argv[1]) != 0)
		return 2;
	while ((n = read(0, buf, BIG)) > 0) {
		ssize_t w = write(1, buf, (size_t)n);
		if (w != n) {
			fprintf(stderr, "short write %zd of %zd\n", w, n);
			return 1;
		}
		total += (size_t)n;
	}
	fprintf(stderr, "stdin: %zu bytes, last read %zd\n", total, n);
	for (size_t i = 0; i < FILE_SIZE; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 12));
	int fd = open("big.bin", O_CREAT | O_RDWR | O_TRUNC, 0600);
	fprintf(stderr, "write: %zd\n", write(fd, buf, FILE_SIZE));
	fprintf(stderr, "lseek: %ld\n", (long)lseek(fd, 0, SEEK_SET));
	size_t got = 0;
	while ((n = read(fd, back + got, BIG - got)) > 0)
		got += (size_t)n;
	fprintf(stderr, "read back: %zu bytes, same %d, sum %016llx\n", got,
		got == FILE_SIZE && sum(buf, got) == sum(back, got), (unsigned long long)sum(back, got));
	struct iovec iov[3] = { { back, 1000 }, { back + 1000, 1u << 20 }, { back + 1000 + (1u << 20), BIG } };
	size_t vgot = 0;
	lseek(fd, 0, SEEK_SET);
	while ((n = readv(fd, iov, 3)) > 0) {
		vgot += (size_t)n;
		/* continue into the same buffers: only the total matters here */
	}
	fprintf(stderr, "readv total: %zu\n", vgot);
	close(fd);
	unlink("big.bin");
	return 0;
}
