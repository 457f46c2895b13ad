/*
 * floor_tls: bench/floor.c over TLS.  It connects to 127.0.0.1:PORT,
 * runs a BearSSL TLS 1.2 client for "localhost" set up exactly as tsino's
 * tls.c sets up its own (br_ssl_client_init_full, the same trust anchors
 * loaded by ts_trust_load(), the same bidirectional buffer), sends the
 * upgrade, skips the response head, then decrypts and writes the raw
 * application bytes to stdout until the server closes.  No frame parsing.
 *
 *	floor_tls PORT CA.pem
 *
 * The engine is pumped by hand over a blocking socket and application
 * bytes are written straight from BearSSL's buffer (zero-copy), so the
 * cost is the TLS record layer plus read() and write().
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bearssl.h>

#include "tsino.h"
#include "tls.h"

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static br_ssl_client_context cc;
static br_x509_minimal_context xc;
static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];

int
main(int argc, char **argv)
{
	static const char req[] = "GET /v1-beta/stream HTTP/1.1\r\n"
	    "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "Authorization: Bearer benchkey\r\n\r\n";
	static const char *alpn[] = {"http/1.1"};
	br_ssl_engine_context *eng = &cc.eng;
	struct ts_trust trust;
	struct sockaddr_in sa;
	unsigned char seed[32], *buf;
	unsigned long seen = 0;
	size_t len, i, reqoff = 0;
	unsigned st;
	char why[512];
	int fd, head = 1, err;
	ssize_t r;

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
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("floor_tls: connect");
		return 1;
	}
	br_ssl_client_init_full(&cc, &xc, trust.ta, trust.n);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_buffer(eng, iobuf, sizeof(iobuf), 1);
	br_ssl_engine_set_protocol_names(eng, alpn, 1);
	if (ts_random(seed, sizeof(seed)) < 0)
		return 1;
	br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
	if (!br_ssl_client_reset(&cc, "localhost", 0))
		return 1;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			break;
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			r = send(fd, buf, len, MSG_NOSIGNAL);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			br_ssl_engine_sendrec_ack(eng, (size_t)r);
			continue;
		}
		if (st & BR_SSL_RECVAPP) {
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			i = 0;
			while (head && i < len) {
				seen = (seen << 8 | buf[i++]) & 0xffffffffu;
				if (seen == 0x0d0a0d0au)
					head = 0;
			}
			if (i < len && write_all(STDOUT_FILENO, buf + i,
			    len - i) < 0) {
				perror("floor_tls: write");
				return 1;
			}
			br_ssl_engine_recvapp_ack(eng, len);
			continue;
		}
		if ((st & BR_SSL_SENDAPP) && reqoff < sizeof(req) - 1) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			if (len > sizeof(req) - 1 - reqoff)
				len = sizeof(req) - 1 - reqoff;
			memcpy(buf, req + reqoff, len);
			reqoff += len;
			br_ssl_engine_sendapp_ack(eng, len);
			br_ssl_engine_flush(eng, 0);
			continue;
		}
		if (st & BR_SSL_RECVREC) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			r = read(fd, buf, len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			br_ssl_engine_recvrec_ack(eng, (size_t)r);
			continue;
		}
		break;
	}
	err = br_ssl_engine_last_error(eng);
	close(fd);
	ts_trust_free(&trust);
	if (err != BR_ERR_OK || head) {
		fprintf(stderr, "floor_tls: TLS error %d%s\n", err,
		    head ? " before the upgrade" : "");
		return 1;
	}
	return 0;
}
