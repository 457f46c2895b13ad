/*
 * blaster: the benchmark's WebSocket server.  It serves ONE WebSocket
 * client on 127.0.0.1 (plain, or TLS 1.2 through BearSSL's server engine
 * with the tests' certificates), sends it K round frames and a close
 * 1000, waits for the client's reply and exits.  One blaster per client
 * run: a client that reconnects after the close finds the port shut.
 *
 *	blaster [-k K] [-r RATE] [-n] [--tls CERT.pem KEY.pem]
 *
 * Prints "port=P bytes=B" on stdout once listening (B: the WebSocket byte
 * stream it will send after the 101, close frame included), and on
 * stderr at exit what it sent and its own CPU time.
 *
 * Modes:
 *	blast (default)	every frame is serialised before the client
 *			connects, into one buffer, which is written as
 *			fast as the socket takes it (1 MiB writes, or one
 *			TLS record after another);
 *	paced (-r RATE)	one frame every 1/RATE s (absolute clock, no
 *			drift), each sent in its own write (TLS: its own
 *			record), with "sent_ns" patched to CLOCK_REALTIME
 *			in ns just before the write.
 *
 * A frame is ~355 bytes (4 of header), shaped like the guide's: the
 * eight members, a small nested raw, and raw.sent_ns (19 digits, fixed
 * width).  round_id ends in the round number (12 digits) so a reader can
 * check that it got every round exactly once.
 *
 * -n (no close): after the frames, wait for the client's close frame and
 * only then send close 1000.  The heap count uses it, so that tsino's
 * reconnect after a server close (a getaddrinfo, a new connection) does
 * not land in a count that is meant to show the cost per message.
 *
 * TLS: ECDHE-ECDSA with AES-128-GCM only, whatever the client prefers
 * (see tls_start()).
 *
 * Requests other than an upgrade (a REST call) get 404 and the blaster
 * keeps waiting for the upgrade.  Blocking sockets: one client, nothing
 * to multiplex.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>

#define MAX_REQUEST 8192
#define BLAST_WRITE (1u << 20)
#define FRAME_MAX 1024
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static const char *games[] = {
	"stake-crash", "roobet-crash", "duel-crash", "shuffle-crash"
};

/* ---- the frames ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * Round i as a WebSocket text frame (server to client: unmasked) into
 * out; returns its length, and where the 19 digits of sent_ns start.
 */
static size_t
frame(unsigned char *out, unsigned long i, size_t *stamp)
{
	static const char hex[] = "0123456789abcdef";
	char json[FRAME_MAX], hash[41], when[32];
	time_t t = (time_t)1779980715 + (time_t)i;	/* 2026-05-28 15:05:15 */
	unsigned m = 100 + (unsigned)(next() % 990000);	/* x 1/10000 */
	unsigned long long idx = 956100250495943837ull + i;
	struct tm tm;
	const char *game = games[i % 4];
	char *s;
	size_t n, h;
	int k;

	for (k = 0; k < 40; k++)
		hash[k] = hex[next() & 15];
	hash[40] = '\0';
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	k = snprintf(json, sizeof(json),
	    "{\"game_id\":\"%s\",\"round_id\":\"c2caaf8a-34b3-42b0-8d44-%012lu\","
	    "\"round_index\":%llu,\"multiplier\":\"%u.%04u\","
	    "\"state\":\"finalized\",\"finalized_at\":\"%s\","
	    "\"multiplier_source\":\"%.*s\","
	    "\"raw\":{\"id\":%llu,\"crashPoint\":%u.%04u,\"hash\":\"%s\","
	    "\"sent_ns\":1000000000000000000}}",
	    game, i, idx, m / 10000, m % 10000, when,
	    (int)(strchr(game, '-') - game), game, idx, m / 10000, m % 10000,
	    hash);
	n = (size_t)k;
	s = strstr(json, "\"sent_ns\":");
	out[0] = 0x81;			/* FIN, text */
	if (n < 126) {
		out[1] = (unsigned char)n;
		h = 2;
	} else {
		out[1] = 126;
		out[2] = (unsigned char)(n >> 8);
		out[3] = (unsigned char)n;
		h = 4;
	}
	memcpy(out + h, json, n);
	*stamp = h + (size_t)(s - json) + 10;
	return h + n;
}

/* ---- transport: plain or BearSSL over a blocking socket ---- */

struct link {
	int fd;
	int tls;
	br_ssl_server_context sc;
	br_sslio_context io;
};

static int
sock_read(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t r;

	for (;;) {
		r = read(*(int *)ctx, buf, len);
		if (r < 0 && errno == EINTR)
			continue;
		return r <= 0 ? -1 : (int)r;
	}
}

static int
sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t r;

	for (;;) {
		r = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		return r <= 0 ? -1 : (int)r;
	}
}

static int
link_read(struct link *l, void *buf, size_t len)
{
	if (l->tls)
		return br_sslio_read(&l->io, buf, len);
	return sock_read(&l->fd, buf, len);
}

static int
link_write(struct link *l, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int r;

	if (l->tls)
		return br_sslio_write_all(&l->io, buf, len);
	while (len > 0) {
		r = sock_write(&l->fd, p, len > BLAST_WRITE ? BLAST_WRITE :
		    len);
		if (r < 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int
link_flush(struct link *l)
{
	return l->tls ? br_sslio_flush(&l->io) : 0;
}

/* ---- TLS setup ---- */

struct der {
	unsigned char p[8192];
	size_t len;
	int overflow;
};

static void
der_append(void *ctx, const void *data, size_t len)
{
	struct der *d = ctx;

	if (d->len + len > sizeof(d->p)) {
		d->overflow = 1;
		return;
	}
	memcpy(d->p + d->len, data, len);
	d->len += len;
}

/* The first PEM object labelled name in path, as DER.  0 or -1. */
static int
pem_object(const char *path, const char *name, struct der *d)
{
	br_pem_decoder_context pc;
	unsigned char file[65536];
	size_t len, off = 0;
	int found = 0, in = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return -1;
	len = fread(file, 1, sizeof(file), f);
	fclose(f);
	d->len = 0;
	d->overflow = 0;
	br_pem_decoder_init(&pc);
	while (off < len && !found) {
		off += br_pem_decoder_push(&pc, file + off, len - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in = strcmp(br_pem_decoder_name(&pc), name) == 0;
			br_pem_decoder_setdest(&pc, in ? der_append : NULL, d);
			break;
		case BR_PEM_END_OBJ:
			found = in;
			break;
		case BR_PEM_ERROR:
			off = len;
			break;
		}
	}
	return found && !d->overflow ? 0 : -1;
}

static struct der cert, key;
static br_x509_certificate chain[1];
static br_skey_decoder_context kd;
static unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
static const char *alpn[] = {"http/1.1"};
static const uint16_t suites[] = {BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};

static int
tls_load(const char *certpath, const char *keypath)
{
	if (pem_object(certpath, "CERTIFICATE", &cert) < 0 ||
	    (pem_object(keypath, "PRIVATE KEY", &key) < 0 &&
	    pem_object(keypath, "EC PRIVATE KEY", &key) < 0 &&
	    pem_object(keypath, "RSA PRIVATE KEY", &key) < 0))
		return -1;
	chain[0].data = cert.p;
	chain[0].data_len = cert.len;
	br_skey_decoder_init(&kd);
	br_skey_decoder_push(&kd, key.p, key.len);
	return br_skey_decoder_last_error(&kd) == 0 ? 0 : -1;
}

static int
tls_start(struct link *l)
{
	unsigned char seed[32];
	FILE *f;

	switch (br_skey_decoder_key_type(&kd)) {
	case BR_KEYTYPE_EC:
		br_ssl_server_init_full_ec(&l->sc, chain, 1, BR_KEYTYPE_RSA,
		    br_skey_decoder_get_ec(&kd));
		break;
	case BR_KEYTYPE_RSA:
		br_ssl_server_init_full_rsa(&l->sc, chain, 1,
		    br_skey_decoder_get_rsa(&kd));
		break;
	default:
		return -1;
	}
	/*
	 * One suite for every client, the one servers with AES-NI commonly
	 * choose.  Left to the client's order, BearSSL (tsino) would pick
	 * ChaCha20-Poly1305 and OpenSSL (Python, Node, libwebsockets)
	 * AES-256-GCM: the TLS rows would compare ciphers, not clients.
	 */
	br_ssl_engine_set_suites(&l->sc.eng, suites, 1);
	br_ssl_engine_set_buffer(&l->sc.eng, iobuf, sizeof(iobuf), 1);
	br_ssl_engine_set_protocol_names(&l->sc.eng, alpn, 1);
	f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(seed, 1, sizeof(seed), f) != sizeof(seed))
		return -1;
	fclose(f);
	br_ssl_engine_inject_entropy(&l->sc.eng, seed, sizeof(seed));
	if (!br_ssl_server_reset(&l->sc))
		return -1;
	br_sslio_init(&l->io, &l->sc.eng, sock_read, &l->fd, sock_write,
	    &l->fd);
	return 0;
}

/* ---- the upgrade ---- */

static void
base64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	unsigned v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned)in[i] << 16;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

/* The value of header name in the request head req, copied to out. */
static int
header(const char *req, const char *name, char *out, size_t outlen)
{
	const char *p = req, *e;
	size_t n = strlen(name), k;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		e = strstr(p, "\r\n");
		k = (size_t)(e - p);
		while (k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t'))
			k--;
		if (k >= outlen)
			return -1;
		memcpy(out, p, k);
		out[k] = '\0';
		return 0;
	}
	return -1;
}

/*
 * Read one request head and answer it: 101 to an upgrade (returns 1),
 * 404 to anything else (returns 0), -1 when the connection failed.
 */
static int
upgrade(struct link *l)
{
	char req[MAX_REQUEST + 1], wskey[128], proto[128], accept[32];
	char resp[512], cat[200], *e;
	unsigned char sha[20];
	br_sha1_context h;
	size_t len = 0;
	int r;

	while ((e = len ? strstr(req, "\r\n\r\n") : NULL) == NULL) {
		if (len == MAX_REQUEST)
			return -1;
		r = link_read(l, req + len, MAX_REQUEST - len);
		if (r <= 0)
			return -1;
		len += (size_t)r;
		req[len] = '\0';
	}
	e[2] = '\0';
	if (header(req, "Sec-WebSocket-Key", wskey, sizeof(wskey)) < 0) {
		r = snprintf(resp, sizeof(resp), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
		link_write(l, resp, (size_t)r);
		link_flush(l);
		return 0;
	}
	snprintf(cat, sizeof(cat), "%s%s", wskey, WS_GUID);
	br_sha1_init(&h);
	br_sha1_update(&h, cat, strlen(cat));
	br_sha1_out(&h, sha);
	base64(sha, sizeof(sha), accept);
	r = snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n", accept);
	/* Echo the first subprotocol offered (libwebsockets offers one). */
	if (header(req, "Sec-WebSocket-Protocol", proto, sizeof(proto)) == 0) {
		proto[strcspn(proto, ", ")] = '\0';
		r += snprintf(resp + r, sizeof(resp) - (size_t)r,
		    "Sec-WebSocket-Protocol: %s\r\n", proto);
	}
	r += snprintf(resp + r, sizeof(resp) - (size_t)r, "\r\n");
	if (link_write(l, resp, (size_t)r) < 0 || link_flush(l) < 0)
		return -1;
	return 1;
}

/* ---- main ---- */

static int64_t
now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int
main(int argc, char **argv)
{
	unsigned long k = 200000, i;
	double rate = 0;
	const char *certpath = NULL, *keypath = NULL;
	unsigned char *buf, *p;
	size_t *offs, *stamps, total = 0, st;
	static const unsigned char close1000[] = {0x88, 0x02, 0x03, 0xe8};
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct timeval tv = {5, 0};
	static struct link l;
	int ls, one = 1, argi, r = -1, hold = 0;
	int64_t t0, next_at;
	struct timespec ts;
	char digits[24];
	double cpu0;
	br_ssl_session_parameters params;

	for (argi = 1; argi < argc; argi++) {
		if (strcmp(argv[argi], "-k") == 0 && argi + 1 < argc)
			k = strtoul(argv[++argi], NULL, 10);
		else if (strcmp(argv[argi], "-r") == 0 && argi + 1 < argc)
			rate = strtod(argv[++argi], NULL);
		else if (strcmp(argv[argi], "-n") == 0)
			hold = 1;
		else if (strcmp(argv[argi], "--tls") == 0 && argi + 2 < argc) {
			certpath = argv[++argi];
			keypath = argv[++argi];
		} else {
			fprintf(stderr, "usage: blaster [-k K] [-r RATE] [-n] "
			    "[--tls CERT KEY]\n");
			return 2;
		}
	}
	if (k == 0 || k > 100000000ul) {
		fprintf(stderr, "blaster: bad K\n");
		return 2;
	}
	if (certpath != NULL && tls_load(certpath, keypath) < 0) {
		fprintf(stderr, "blaster: cannot load %s / %s\n", certpath,
		    keypath);
		return 1;
	}
	buf = malloc(k * FRAME_MAX);
	offs = malloc((k + 1) * sizeof(*offs));
	stamps = malloc(k * sizeof(*stamps));
	if (buf == NULL || offs == NULL || stamps == NULL) {
		fprintf(stderr, "blaster: out of memory\n");
		return 1;
	}
	for (i = 0; i < k; i++) {
		offs[i] = total;
		total += frame(buf + total, i, &st);
		stamps[i] = offs[i] + st;
	}
	offs[k] = total;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 16) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &salen) < 0) {
		perror("blaster: listen");
		return 1;
	}
	printf("port=%u bytes=%zu\n", ntohs(sa.sin_port),
	    total + sizeof(close1000));
	fflush(stdout);

	/* Until one client has upgraded. */
	for (;;) {
		l.fd = accept(ls, NULL, NULL);
		if (l.fd < 0) {
			if (errno == EINTR)
				continue;
			perror("blaster: accept");
			return 1;
		}
		setsockopt(l.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		l.tls = certpath != NULL;
		if (l.tls && tls_start(&l) < 0) {
			fprintf(stderr, "blaster: TLS setup failed\n");
			return 1;
		}
		r = upgrade(&l);
		if (r == 1)
			break;
		close(l.fd);
	}
	close(ls);

	cpu0 = cpu_seconds();
	t0 = now_ns(CLOCK_MONOTONIC);
	if (rate <= 0) {
		r = link_write(&l, buf, total);
	} else {
		next_at = t0;
		for (i = 0; i < k && r >= 0; i++) {
			next_at = t0 + (int64_t)((double)i * 1e9 / rate);
			ts.tv_sec = (time_t)(next_at / 1000000000);
			ts.tv_nsec = (long)(next_at % 1000000000);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
			    &ts, NULL) == EINTR)
				;
			p = buf + stamps[i];
			snprintf(digits, sizeof(digits), "%019lld",
			    (long long)now_ns(CLOCK_REALTIME));
			memcpy(p, digits, 19);
			r = link_write(&l, buf + offs[i], offs[i + 1] - offs[i]);
			if (r >= 0)
				r = link_flush(&l);
		}
	}
	/* -n: a client frame whose first byte says close (0x88). */
	if (hold && r >= 0) {
		r = link_flush(&l);
		while (r >= 0 && (r = link_read(&l, buf, 65536)) > 0 &&
		    buf[0] != 0x88)
			;
	}
	if (r >= 0)
		r = link_write(&l, close1000, sizeof(close1000));
	if (r >= 0)
		r = link_flush(&l);
	params.cipher_suite = 0;
	if (l.tls)
		br_ssl_engine_get_session_parameters(&l.sc.eng, &params);
	fprintf(stderr, "blaster: %s %lu frames, %zu bytes in %.3f s, "
	    "cpu %.3f s, suite 0x%04x%s\n", rate > 0 ? "paced" : "blasted",
	    k, total, (double)(now_ns(CLOCK_MONOTONIC) - t0) / 1e9,
	    cpu_seconds() - cpu0, params.cipher_suite,
	    r < 0 ? " (client went away)" : "");

	/* Let the client answer the close before the socket goes. */
	setsockopt(l.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (l.tls) {
		br_sslio_close(&l.io);
	} else {
		shutdown(l.fd, SHUT_WR);
		while (read(l.fd, buf, 65536) > 0)
			;
	}
	close(l.fd);
	return r < 0 ? 1 : 0;
}
