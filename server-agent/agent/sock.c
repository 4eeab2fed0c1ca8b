/* sock.c - plain socket stream and listener helpers (see sock.h). */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"

static long
sock_send(void *ctx, const void *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n >= 0)
		return n == 0 ? OM_STREAM_AGAIN : (long)n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? OM_STREAM_AGAIN : OM_STREAM_ERR;
}

static long
sock_recv(void *ctx, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n == -1 && errno == EINTR);
	if (n >= 0)
		return (long)n;
	return errno == EAGAIN || errno == EWOULDBLOCK ? OM_STREAM_AGAIN : OM_STREAM_ERR;
}

const struct om_stream_ops sock_stream_ops = {
	.send = sock_send,
	.recv = sock_recv,
};

int
sock_parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (colon == NULL || (size_t)(colon - s) >= sizeof host || colon[1] == '\0')
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return -1;
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	return 0;
}

void
sock_addr_str(const struct sockaddr_in *sin, char *buf, size_t len)
{
	char host[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host) == NULL)
		strcpy(host, "?");
	snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
}

int
sock_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return 0;
}

int
sock_listen_tcp(struct sockaddr_in *sin)
{
	socklen_t slen = sizeof *sin;
	int fd, one = 1, saved;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* A restarted agent must rebind at once while old connections of
	 * the previous instance sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)sin, sizeof *sin) == -1 ||
	    listen(fd, 128) == -1 ||
	    getsockname(fd, (struct sockaddr *)sin, &slen) == -1)
		goto fail;
	return fd;

fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
