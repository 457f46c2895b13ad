/*
 * floor: the least a WebSocket client on this machine can do with the
 * blast.  It connects to 127.0.0.1:PORT, sends the upgrade, skips the
 * response head, then only reads the socket and writes the raw bytes
 * (WebSocket frame headers and all) to stdout until the server closes.
 * No frame parsing, no UTF-8 or JSON check, no accept-key check.
 *
 *	floor PORT
 *
 * It reads into a 16 KiB buffer, the size of tsino's plain receive
 * buffer (TS_CONN_PLAIN_BUFSIZE), so the two make the same number of
 * read() calls and the difference is what tsino does with the bytes.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSIZE 16384

static int
write_all(const unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(STDOUT_FILENO, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const char req[] = "GET /v1-beta/stream HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Authorization: Bearer benchkey\r\n\r\n";
	static unsigned char buf[BUFSIZE];
	struct sockaddr_in sa;
	unsigned long seen = 0;	/* last four bytes of the head, shifted */
	int fd, head = 1;
	ssize_t r, i;

	if (argc != 2) {
		fprintf(stderr, "usage: floor PORT\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0) {
		perror("floor: connect");
		return 1;
	}
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			perror("floor: read");
			return 1;
		}
		if (r == 0)
			break;
		i = 0;
		/* Skip the response head, up to its blank line. */
		while (head && i < r) {
			seen = (seen << 8 | buf[i++]) & 0xffffffffu;
			if (seen == 0x0d0a0d0au)
				head = 0;
		}
		if (i < r && write_all(buf + i, (size_t)(r - i)) < 0) {
			perror("floor: write");
			return 1;
		}
	}
	close(fd);
	return head ? 1 : 0;
}
