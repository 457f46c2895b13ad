/*
 * floor_tls: bench/floor.c over TLS, through tsino's own transport
 * (src/tls.c: ts_trust_load(), ts_conn_tls() with the same BearSSL
 * client profile, buffer and poll()-driven pump).  It connects to
 * 127.0.0.1:PORT as "localhost", sends the upgrade, skips the response
 * head, then decrypts and writes the raw application bytes (WebSocket
 * frame headers and all) to stdout, straight from BearSSL's buffer,
 * until the server closes.  No frame parsing, no UTF-8 or JSON check.
 *
 *	floor_tls PORT CA.pem
 *
 * So tsino wss / floor wss is the cost of everything tsino does above
 * its transport: framing, UTF-8, JSON, dedup, output.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tsino.h"
#include "tls.h"

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

static struct ts_conn conn;

int
main(int argc, char **argv)
{
	static const char req[] = "GET /v1-beta/stream HTTP/1.1\r\n"
	    "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Authorization: Bearer benchkey\r\n\r\n";
	struct ts_trust trust;
	struct sockaddr_in sa;
	struct pollfd pfd;
	unsigned char *out;
	const unsigned char *in;
	unsigned long seen = 0;	/* last four bytes of the head, shifted */
	size_t len, i, reqoff = 0;
	char why[512];
	int fd, head = 1, got;

	if (argc != 3) {
		fprintf(stderr, "usage: floor_tls PORT CA.pem\n");
		return 2;
	}
	if (ts_trust_load(&trust, argv[2], NULL, NULL, why, sizeof(why)) < 0) {
		fprintf(stderr, "floor_tls: %s\n", why);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		perror("floor_tls: connect");
		return 1;
	}
	if (ts_conn_tls(&conn, fd, "localhost", &trust, NULL) < 0) {
		fprintf(stderr, "floor_tls: %s\n", conn.why);
		return 1;
	}
	for (;;) {
		if (ts_conn_io(&conn, POLLIN | POLLOUT) < 0) {
			fprintf(stderr, "floor_tls: %s\n", conn.why);
			return 1;
		}
		while (reqoff < sizeof(req) - 1 &&
		    (out = ts_conn_send(&conn, &len)) != NULL && len > 0) {
			if (len > sizeof(req) - 1 - reqoff)
				len = sizeof(req) - 1 - reqoff;
			memcpy(out, req + reqoff, len);
			ts_conn_send_ack(&conn, len);
			ts_conn_flush(&conn);
			reqoff += len;
		}
		got = 0;
		while ((in = ts_conn_recv(&conn, &len)) != NULL && len > 0) {
			i = 0;
			/* Skip the response head, up to its blank line. */
			while (head && i < len) {
				seen = (seen << 8 | in[i++]) & 0xffffffffu;
				if (seen == 0x0d0a0d0au)
					head = 0;
			}
			if (i < len && write_all(in + i, len - i) < 0) {
				perror("floor_tls: write");
				return 1;
			}
			ts_conn_recv_ack(&conn, len);
			got = 1;
		}
		/* Acked: the engine may take more records without a poll. */
		if (got)
			continue;
		pfd.fd = fd;
		pfd.events = ts_conn_events(&conn);
		if (conn.eof || pfd.events == 0)
			break;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR) {
			perror("floor_tls: poll");
			return 1;
		}
	}
	ts_conn_close(&conn);
	ts_trust_free(&trust);
	if (head) {
		fprintf(stderr, "floor_tls: closed before the upgrade\n");
		return 1;
	}
	return 0;
}
