/*
 * test_tls: the transport with no network at all.  The client (struct
 * ts_conn) talks over a socketpair(2) to a BearSSL server engine pumped
 * in this same process by server_io(): handshakes with the EC and RSA
 * leaves of tests/certs, application data both ways, every certificate
 * failure with its own code and words, a server that hangs up during the
 * handshake, session resumption through an LRU session cache, plain
 * mode, the trust store loader and ts_random.  Run from the repo root.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tsino.h"
#include "tls.h"
#include "net.h"
#include "test.h"

#define CERTS "tests/certs/"

static char why[512];
static const char *alpn[] = {"http/1.1"};

/* ---- files ---- */

/* The whole file, malloc'ed and NUL-terminated; NULL if unreadable. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p = NULL, *np;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			np = realloc(p, cap);
			if (np == NULL)
				break;
			p = np;
		}
		r = fread(p + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	if (p != NULL)
		p[n] = '\0';
	*len = n;
	return p;
}

static int
spill(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* ---- the server side: a leaf's chain and key, a BearSSL engine ---- */

struct der {
	unsigned char p[4096];
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

struct server {
	br_ssl_server_context sc;
	br_x509_certificate chain[1];
	struct der cert;
	br_skey_decoder_context kd;	/* holds the private key */
	int fd;
	int peer_eof;			/* read() gave 0 */
	int closed;			/* the engine is closed */
	int brerr;			/* its last error then */
	unsigned char in[131072];	/* application bytes received */
	size_t inlen;
	const unsigned char *reply;	/* application bytes to send */
	size_t replylen, replyoff;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

static struct server sv;
static struct ts_conn conn;
static struct ts_trust trust;
static br_ssl_session_cache_lru lru;
static unsigned char lru_store[4096];

/* The first object of kind name (a PEM label) in path, as DER. */
static int
pem_object(const char *path, const char *name, struct der *d)
{
	br_pem_decoder_context pc;
	unsigned char *file;
	size_t len, off = 0, k;
	int found = 0, in = 0;

	file = slurp(path, &len);
	if (file == NULL)
		return -1;
	d->len = 0;
	d->overflow = 0;
	br_pem_decoder_init(&pc);
	while (off < len && !found) {
		k = br_pem_decoder_push(&pc, file + off, len - off);
		off += k;
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
	free(file);
	return found && !d->overflow ? 0 : -1;
}

/*
 * Set up sv for the leaf NAME (tests/certs/NAME.pem and .key, or NAME's
 * own path when it starts with a "/") on fd, with the LRU session cache
 * if cache is set.  0 or -1.
 */
static int
server_init(const char *name, int fd, int cache)
{
	const char *dir = name[0] == '/' ? "" : CERTS;
	char path[128];
	unsigned char seed[32];
	struct der key;
	unsigned issuer;

	memset(&sv, 0, sizeof(sv));
	sv.fd = fd;
	snprintf(path, sizeof(path), "%s%s.pem", dir, name);
	if (pem_object(path, "CERTIFICATE", &sv.cert) < 0)
		return -1;
	sv.chain[0].data = sv.cert.p;
	sv.chain[0].data_len = sv.cert.len;
	snprintf(path, sizeof(path), "%s%s.key", dir, name);
	if (pem_object(path, "PRIVATE KEY", &key) < 0)
		return -1;
	br_skey_decoder_init(&sv.kd);
	br_skey_decoder_push(&sv.kd, key.p, key.len);
	if (br_skey_decoder_last_error(&sv.kd) != 0)
		return -1;
	/* Only the static ECDH suites care who signed the leaf. */
	issuer = strcmp(name, "selfsigned") == 0 ? BR_KEYTYPE_EC :
	    BR_KEYTYPE_RSA;
	switch (br_skey_decoder_key_type(&sv.kd)) {
	case BR_KEYTYPE_EC:
		br_ssl_server_init_full_ec(&sv.sc, sv.chain, 1, issuer,
		    br_skey_decoder_get_ec(&sv.kd));
		break;
	case BR_KEYTYPE_RSA:
		br_ssl_server_init_full_rsa(&sv.sc, sv.chain, 1,
		    br_skey_decoder_get_rsa(&sv.kd));
		break;
	default:
		return -1;
	}
	br_ssl_engine_set_buffer(&sv.sc.eng, sv.iobuf, sizeof(sv.iobuf), 1);
	br_ssl_engine_set_protocol_names(&sv.sc.eng, alpn, 1);
	if (ts_random(seed, sizeof(seed)) < 0)
		return -1;
	br_ssl_engine_inject_entropy(&sv.sc.eng, seed, sizeof(seed));
	if (cache)
		br_ssl_server_set_cache(&sv.sc, &lru.vtable);
	return br_ssl_server_reset(&sv.sc) ? 0 : -1;
}

/* Move what can move between the server engine and its socket. */
static void
server_io(void)
{
	br_ssl_engine_context *eng = &sv.sc.eng;
	unsigned st;
	unsigned char *buf;
	size_t len;
	ssize_t r;

	while (!sv.closed) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED) {
			sv.closed = 1;
			sv.brerr = br_ssl_engine_last_error(eng);
			return;
		}
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			r = send(sv.fd, buf, len, MSG_NOSIGNAL);
			if (r > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)r);
				continue;
			}
		}
		if (st & BR_SSL_RECVAPP) {
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			if (len > sizeof(sv.in) - sv.inlen)
				len = sizeof(sv.in) - sv.inlen;
			memcpy(sv.in + sv.inlen, buf, len);
			sv.inlen += len;
			br_ssl_engine_recvapp_ack(eng, len);
			continue;
		}
		if ((st & BR_SSL_SENDAPP) && sv.replyoff < sv.replylen) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			if (len > sv.replylen - sv.replyoff)
				len = sv.replylen - sv.replyoff;
			memcpy(buf, sv.reply + sv.replyoff, len);
			sv.replyoff += len;
			br_ssl_engine_sendapp_ack(eng, len);
			br_ssl_engine_flush(eng, 0);
			continue;
		}
		if ((st & BR_SSL_RECVREC) && !sv.peer_eof) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			r = read(sv.fd, buf, len);
			if (r > 0) {
				br_ssl_engine_recvrec_ack(eng, (size_t)r);
				continue;
			}
			if (r == 0)
				sv.peer_eof = 1;
		}
		return;
	}
}

/* ---- the pump ---- */

static int fds[2];	/* [0] the client's end, [1] the server's */

static int
pair(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
		return -1;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static void
unpair(void)
{
	ts_conn_close(&conn);
	if (fds[1] >= 0)
		close(fds[1]);
	fds[0] = fds[1] = -1;
}

/* One turn: both sides move bytes, then wait up to 10 ms for more. */
static void
turn(int with_server)
{
	struct pollfd p[2];

	ts_conn_io(&conn, POLLIN | POLLOUT);
	if (with_server)
		server_io();
	p[0].fd = conn.fd;
	p[0].events = ts_conn_events(&conn);
	p[1].fd = with_server && !sv.closed ? fds[1] : -1;
	p[1].events = POLLIN;
	p[0].revents = p[1].revents = 0;
	poll(p, 2, 10);
}

/* Client bytes received so far are collected here. */
static unsigned char got[131072];
static size_t gotlen;

static void
drain(void)
{
	const unsigned char *p;
	size_t len;

	while ((p = ts_conn_recv(&conn, &len)) != NULL && len > 0) {
		if (len > sizeof(got) - gotlen)
			len = sizeof(got) - gotlen;
		memcpy(got + gotlen, p, len);
		gotlen += len;
		ts_conn_recv_ack(&conn, len);
		if (len == 0)
			break;
	}
}

/* Pump until the handshake ends either way, at most 2 s (scaled). */
static int
handshake(void)
{
	int64_t t0 = ts_net_now();

	while (!conn.handshake_done && conn.err == 0 &&
	    ts_net_now() - t0 < TEST_MS(2000))
		turn(1);
	return conn.err;
}

/* Send len bytes from the client, pumping as needed; 0 or -1. */
static int
client_send(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned char *buf;
	size_t room, off = 0;
	int64_t t0 = ts_net_now();

	while (off < len && conn.err == 0 &&
	    ts_net_now() - t0 < TEST_MS(2000)) {
		buf = ts_conn_send(&conn, &room);
		if (buf != NULL && room > 0) {
			if (room > len - off)
				room = len - off;
			memcpy(buf, p + off, room);
			ts_conn_send_ack(&conn, room);
			off += room;
			ts_conn_flush(&conn);
		}
		turn(1);
		drain();
	}
	return off == len ? 0 : -1;
}

/* Trust store, socketpair, server with leaf, client for host. */
static int
setup(const char *anchors, const char *leaf, const char *host,
    struct ts_tls_session *session, int cache)
{
	int rc;

	gotlen = 0;
	if (ts_trust_load(&trust, anchors, NULL, NULL, why, sizeof(why)) != 0)
		return -1;
	if (pair() < 0 || server_init(leaf, fds[1], cache) < 0)
		return -1;
	rc = ts_conn_tls(&conn, fds[0], host, &trust, session);
	return rc;
}

static void
teardown(void)
{
	unpair();
	ts_trust_free(&trust);
}

/* ---- handshakes ---- */

static void
good_leaf(const char *leaf)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\n\r\nhello";
	const char *proto;
	int64_t t0;

	CHECK_INT(setup(CERTS "ca.pem", leaf, "localhost", NULL, 0), 0);
	CHECK(ts_conn_events(&conn) & POLLOUT);	/* the ClientHello */
	CHECK_INT(handshake(), 0);
	CHECK_INT(conn.handshake_done, 1);
	CHECK_INT(conn.resumed, 0);
	CHECK_STR(conn.why, "");
	proto = br_ssl_engine_get_selected_protocol(&conn.cc.eng);
	CHECK_STR(proto, "http/1.1");
	/* client to server */
	CHECK_INT(client_send(req, strlen(req)), 0);
	for (t0 = ts_net_now(); sv.inlen < strlen(req) &&
	    ts_net_now() - t0 < TEST_MS(2000);)
		turn(1);
	CHECK_MEM(sv.in, sv.inlen, req);
	/* server to client */
	sv.reply = (const unsigned char *)resp;
	sv.replylen = strlen(resp);
	for (t0 = ts_net_now(); gotlen < strlen(resp) &&
	    ts_net_now() - t0 < TEST_MS(2000);) {
		turn(1);
		drain();
	}
	CHECK_MEM(got, gotlen, resp);
	CHECK_INT(conn.err, 0);
	CHECK_INT(conn.eof, 0);
	/*
	 * The client's close_notify reaches the server: its engine takes
	 * no more data and only wants to send its own close_notify (which
	 * cannot go anywhere now), with no error.
	 */
	ts_conn_close(&conn);
	CHECK_INT(conn.fd, -1);
	for (t0 = ts_net_now(); !sv.peer_eof &&
	    ts_net_now() - t0 < TEST_MS(2000);)
		turn(1);
	CHECK_INT(br_ssl_engine_last_error(&sv.sc.eng), BR_ERR_OK);
	CHECK_INT(br_ssl_engine_current_state(&sv.sc.eng) &
	    (BR_SSL_RECVREC | BR_SSL_SENDAPP | BR_SSL_RECVAPP), 0);
	teardown();
}

static void
handshake_ec(void)
{
	good_leaf("good-ec");
	teardown();
}

static void
handshake_rsa(void)
{
	good_leaf("good-rsa");
	teardown();
}

/* A leaf with only DNS:localhost is fine for the name localhost. */
static void
handshake_dnsonly(void)
{
	CHECK_INT(setup(CERTS "ca.pem", "dnsonly", "localhost", NULL, 0), 0);
	CHECK_INT(handshake(), 0);
	CHECK_INT(conn.handshake_done, 1);
	teardown();
}

/* 100 KiB each way: several records, full buffers, partial writes. */
static void
bulk_both_ways(void)
{
	static unsigned char up[100000], down[100000];
	int64_t t0;
	size_t i;

	for (i = 0; i < sizeof(up); i++) {
		up[i] = (unsigned char)(i * 7 + 3);
		down[i] = (unsigned char)(i * 13 + 1);
	}
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 0), 0);
	CHECK_INT(handshake(), 0);
	sv.reply = down;
	sv.replylen = sizeof(down);
	CHECK_INT(client_send(up, sizeof(up)), 0);
	for (t0 = ts_net_now(); (sv.inlen < sizeof(up) ||
	    gotlen < sizeof(down)) && ts_net_now() - t0 < TEST_MS(2000);) {
		turn(1);
		drain();
	}
	CHECK_INT(sv.inlen, sizeof(up));
	CHECK(memcmp(sv.in, up, sizeof(up)) == 0);
	CHECK_INT(gotlen, sizeof(down));
	CHECK(memcmp(got, down, sizeof(down)) == 0);
	CHECK_INT(conn.err, 0);
	teardown();
}

/* The server's close_notify: eof, and no error. */
static void
server_closes_cleanly(void)
{
	int64_t t0;

	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 0), 0);
	CHECK_INT(handshake(), 0);
	br_ssl_engine_close(&sv.sc.eng);
	for (t0 = ts_net_now(); !conn.eof && ts_net_now() - t0 < TEST_MS(2000);)
		turn(1);
	CHECK_INT(conn.eof, 1);
	CHECK_INT(conn.err, 0);
	CHECK_INT(ts_conn_events(&conn), 0);
	CHECK_INT(ts_conn_io(&conn, POLLIN), 0);
	teardown();
}

/* The server's socket closes after the handshake: eof, not an error. */
static void
server_hangs_up_after_handshake(void)
{
	int64_t t0;

	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 0), 0);
	CHECK_INT(handshake(), 0);
	close(fds[1]);
	fds[1] = -1;
	for (t0 = ts_net_now(); !conn.eof && ts_net_now() - t0 < TEST_MS(2000);)
		turn(0);
	CHECK_INT(conn.eof, 1);
	CHECK_INT(conn.err, 0);
	/* Later turns neither fail nor raise SIGPIPE. */
	turn(0);
	CHECK_INT(conn.err, 0);
	CHECK_INT(ts_conn_events(&conn), 0);
	teardown();
}

/* Each certificate failure: its code and its words. */
static void
fails_with(const char *anchors, const char *leaf, const char *host, int err,
    const char *words)
{
	CHECK_INT(setup(anchors, leaf, host, NULL, 0), 0);
	CHECK_INT(handshake(), err);
	CHECK_INT(conn.err, err);
	CHECK_INT(conn.handshake_done, 0);
	if (strstr(conn.why, words) == NULL) {
		printf(" (why: %s)", conn.why);
		CHECK(0);
	}
	/* Sticky: more turns keep the first error. */
	turn(1);
	CHECK_INT(ts_conn_io(&conn, POLLIN), err);
	CHECK_INT(ts_conn_events(&conn), 0);
	CHECK(ts_conn_recv(&conn, &(size_t){0}) == NULL);
	teardown();
}

static void
expired(void)
{
	fails_with(CERTS "ca.pem", "expired", "localhost", TS_ERR_TLS_EXPIRED,
	    "localhost: certificate expired or not yet valid (local clock: 20");
	teardown();
}

static void
wrong_host(void)
{
	fails_with(CERTS "ca.pem", "wronghost", "localhost",
	    TS_ERR_TLS_HOSTNAME, "certificate is for another host");
	teardown();
	/* A good certificate asked for under another name. */
	fails_with(CERTS "ca.pem", "good-ec", "example.com",
	    TS_ERR_TLS_HOSTNAME, "certificate is for another host (wanted "
	    "example.com)");
	teardown();
}

static void
self_signed(void)
{
	fails_with(CERTS "ca.pem", "selfsigned", "localhost",
	    TS_ERR_TLS_UNTRUSTED, "not signed by a trusted authority");
	teardown();
}

/* The CA that signed the leaf is not in the store (another one is). */
static void
ca_not_in_store(void)
{
	fails_with(CERTS "selfsigned.pem", "good-ec", "localhost",
	    TS_ERR_TLS_UNTRUSTED, "not signed by a trusted authority");
	teardown();
	fails_with(CERTS "selfsigned.pem", "good-rsa", "localhost",
	    TS_ERR_TLS_UNTRUSTED, "not signed by a trusted authority");
	teardown();
}

/*
 * Issue 7: no SHA-1 signature in the chain.  tests/certs/make-sha1.sh
 * makes, with openssl, two CAs self-signed with SHA-1 (an anchor's own
 * signature is never checked: they load and serve) and leaves that they
 * sign with SHA-1 (refused, in words that say so) and with SHA-256.
 */
static void
sha1_signatures(void)
{
	static const char *const signers[] = {"rsa", "ec"};
	char dir[] = "/tmp/tsino-test-sha1-XXXXXX", cmd[128], cas[64], leaf[64];
	size_t i;

	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf(" (no openssl here)");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd), "sh tests/certs/make-sha1.sh %s >/dev/null "
	    "2>&1", dir);
	CHECK_INT(system(cmd), 0);
	snprintf(cas, sizeof(cas), "%s/cas.pem", dir);
	for (i = 0; i < 2 && !test_failed; i++) {
		snprintf(leaf, sizeof(leaf), "%s/%s-sha256", dir, signers[i]);
		CHECK_INT(setup(cas, leaf, "localhost", NULL, 0), 0);
		CHECK_INT(handshake(), 0);
		teardown();
		snprintf(leaf, sizeof(leaf), "%s/%s-sha1", dir, signers[i]);
		fails_with(cas, leaf, "localhost", TS_ERR_TLS_CERT_ALGORITHM,
		    "localhost: certificate chain uses an unsupported algorithm "
		    "(SHA-1 signatures are refused)");
		teardown();
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

/* The server reads the ClientHello, then closes its socket. */
static void
closed_after_client_hello(void)
{
	unsigned char buf[4096];
	int64_t t0;
	ssize_t r = -1;

	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 0), 0);
	for (t0 = ts_net_now(); r <= 0 && ts_net_now() - t0 < TEST_MS(2000);) {
		turn(0);
		r = read(fds[1], buf, sizeof(buf));
	}
	CHECK(r > 5);
	CHECK_INT(buf[0], 22);	/* a handshake record */
	close(fds[1]);
	fds[1] = -1;
	CHECK_INT(handshake(), TS_ERR_TLS_HANDSHAKE_CLOSED);
	CHECK_STR(conn.why, "localhost: server closed the connection during "
	    "the handshake");
	CHECK_INT(conn.eof, 1);
	teardown();
}

/* The server closes before the client wrote anything: no SIGPIPE. */
static void
closed_before_client_hello(void)
{
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 0), 0);
	close(fds[1]);
	fds[1] = -1;
	CHECK_INT(handshake(), TS_ERR_TLS_HANDSHAKE_CLOSED);
	CHECK(strstr(conn.why, "during the handshake") != NULL);
	teardown();
}

/* The server halfway through its own flight, then gone. */
static void
closed_mid_server_flight(void)
{
	unsigned char *buf;
	size_t len;
	int64_t t0;
	ssize_t r;

	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 0), 0);
	/* Let the server take the ClientHello and produce its answer. */
	for (t0 = ts_net_now(); !(br_ssl_engine_current_state(&sv.sc.eng) &
	    BR_SSL_SENDREC) && ts_net_now() - t0 < TEST_MS(2000);) {
		ts_conn_io(&conn, POLLOUT);
		buf = br_ssl_engine_recvrec_buf(&sv.sc.eng, &len);
		if (buf != NULL) {
			r = read(fds[1], buf, len);
			if (r > 0)
				br_ssl_engine_recvrec_ack(&sv.sc.eng,
				    (size_t)r);
		}
	}
	buf = br_ssl_engine_sendrec_buf(&sv.sc.eng, &len);
	CHECK(buf != NULL && len > 20);
	CHECK(write(fds[1], buf, len / 2) > 0);
	close(fds[1]);
	fds[1] = -1;
	CHECK_INT(handshake(), TS_ERR_TLS_HANDSHAKE_CLOSED);
	teardown();
}

/* Something that is not TLS at all. */
static void
not_tls(void)
{
	static const char junk[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 0), 0);
	CHECK_INT(write(fds[1], junk, strlen(junk)), (long)strlen(junk));
	CHECK_INT(handshake(), TS_ERR_TLS_PROTOCOL);
	CHECK(strstr(conn.why, "localhost") != NULL);
	teardown();
}

/* SPEC §7.11: no SNI with an IP literal, and no unverified connection. */
static void
ip_literal_refused(void)
{
	CHECK_INT(ts_trust_load(&trust, CERTS "ca.pem", NULL, NULL, why,
	    sizeof(why)), 0);
	CHECK_INT(pair(), 0);
	CHECK_INT(ts_conn_tls(&conn, fds[0], "127.0.0.1", &trust, NULL),
	    TS_ERR_TLS_IP_LITERAL);
	CHECK(strstr(conn.why, "127.0.0.1") != NULL);
	CHECK_INT(ts_conn_events(&conn), 0);
	CHECK_INT(ts_conn_io(&conn, POLLOUT), TS_ERR_TLS_IP_LITERAL);
	CHECK_INT(ts_conn_tls(&conn, fds[0], "::1", &trust, NULL),
	    TS_ERR_TLS_IP_LITERAL);
	teardown();
}

/* ---- resumption ---- */

static int
session_id(br_ssl_engine_context *eng, unsigned char *id, size_t *len)
{
	br_ssl_session_parameters p;

	br_ssl_engine_get_session_parameters(eng, &p);
	memcpy(id, p.session_id, p.session_id_len);
	*len = p.session_id_len;
	return (int)p.session_id_len;
}

static void
resumption(void)
{
	static struct ts_tls_session s;
	unsigned char id1[32], id2[32], sid[32];
	size_t len1, len2, slen;

	memset(&s, 0, sizeof(s));
	br_ssl_session_cache_lru_init(&lru, lru_store, sizeof(lru_store));
	/* First: a full handshake, remembered. */
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", &s, 1), 0);
	CHECK_INT(handshake(), 0);
	CHECK_INT(conn.resumed, 0);
	CHECK_STR(s.host, "localhost");
	CHECK(session_id(&conn.cc.eng, id1, &len1) > 0);
	CHECK_INT(session_id(&sv.sc.eng, sid, &slen), (int)len1);
	CHECK(memcmp(id1, sid, len1) == 0);
	teardown();
	/* Second, same host and session: resumed, same ID. */
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", &s, 1), 0);
	CHECK_INT(handshake(), 0);
	CHECK_INT(conn.resumed, 1);
	CHECK(session_id(&conn.cc.eng, id2, &len2) > 0);
	CHECK_INT(len2, len1);
	CHECK(memcmp(id1, id2, len1) == 0);
	CHECK_INT(session_id(&sv.sc.eng, sid, &slen), (int)len1);
	CHECK(memcmp(id1, sid, len1) == 0);
	teardown();
	/*
	 * Another host name with the same session: not offered, so the full
	 * handshake checks the certificate, which is not for that name.  A
	 * resumption here would skip the name check altogether.
	 */
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "example.com", &s, 1), 0);
	CHECK_INT(handshake(), TS_ERR_TLS_HOSTNAME);
	CHECK_INT(conn.resumed, 0);
	CHECK_STR(s.host, "localhost");
	teardown();
	/* Another host that is fine: a new full session, not resumed. */
	CHECK_INT(setup(CERTS "ca.pem", "wronghost", "other.example", &s, 1),
	    0);
	CHECK_INT(handshake(), 0);
	CHECK_INT(conn.resumed, 0);
	CHECK(session_id(&conn.cc.eng, id2, &len2) > 0);
	CHECK(len2 != len1 || memcmp(id1, id2, len1) != 0);
	CHECK_STR(s.host, "other.example");
	teardown();
	/* Without a session nothing is resumed. */
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", NULL, 1), 0);
	CHECK_INT(handshake(), 0);
	CHECK_INT(conn.resumed, 0);
	teardown();
}

/* A server that forgot the session: a full handshake, a new ID. */
static void
resumption_refused(void)
{
	static struct ts_tls_session s;
	unsigned char id1[32], id2[32];
	size_t len1, len2;

	memset(&s, 0, sizeof(s));
	br_ssl_session_cache_lru_init(&lru, lru_store, sizeof(lru_store));
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", &s, 1), 0);
	CHECK_INT(handshake(), 0);
	CHECK(session_id(&conn.cc.eng, id1, &len1) > 0);
	teardown();
	br_ssl_session_cache_lru_init(&lru, lru_store, sizeof(lru_store));
	CHECK_INT(setup(CERTS "ca.pem", "good-ec", "localhost", &s, 1), 0);
	CHECK_INT(handshake(), 0);
	CHECK_INT(conn.resumed, 0);
	CHECK(session_id(&conn.cc.eng, id2, &len2) > 0);
	CHECK(len1 != len2 || memcmp(id1, id2, len1) != 0);
	teardown();
}

/* ---- plain mode ---- */

static void
plain_both_ways(void)
{
	unsigned char *buf;
	const unsigned char *p;
	size_t len;
	char peer[16];
	int64_t t0;

	CHECK_INT(pair(), 0);
	ts_conn_plain(&conn, fds[0]);
	CHECK_INT(conn.tls, 0);
	CHECK_INT(ts_conn_events(&conn), POLLIN);
	CHECK(ts_conn_recv(&conn, &len) == NULL);
	/* to the peer */
	buf = ts_conn_send(&conn, &len);
	CHECK(buf != NULL && len >= 5);
	memcpy(buf, "hello", 5);
	ts_conn_send_ack(&conn, 5);
	CHECK(ts_conn_events(&conn) & POLLOUT);
	CHECK_INT(ts_conn_io(&conn, POLLOUT), 0);
	CHECK_INT(ts_conn_events(&conn), POLLIN);	/* all sent */
	CHECK_INT(read(fds[1], peer, sizeof(peer)), 5);
	CHECK(memcmp(peer, "hello", 5) == 0);
	/* from the peer */
	CHECK_INT(write(fds[1], "world", 5), 5);
	CHECK_INT(ts_conn_io(&conn, POLLIN), 0);
	p = ts_conn_recv(&conn, &len);
	CHECK_MEM(p, len, "world");
	ts_conn_recv_ack(&conn, 2);
	p = ts_conn_recv(&conn, &len);
	CHECK_MEM(p, len, "rld");
	ts_conn_recv_ack(&conn, 3);
	CHECK(ts_conn_recv(&conn, &len) == NULL);
	/* the peer's close */
	close(fds[1]);
	fds[1] = -1;
	for (t0 = ts_net_now(); !conn.eof && ts_net_now() - t0 < TEST_MS(1000);)
		CHECK_INT(ts_conn_io(&conn, POLLIN), 0);
	CHECK_INT(conn.eof, 1);
	CHECK_INT(conn.err, 0);
	CHECK_INT(ts_conn_events(&conn), 0);
	teardown();
}

/*
 * A reader that always leaves a partial message in the queue (acks all
 * but the last byte) must still get the rest once the queue was full.
 */
static void
plain_partial_ack(void)
{
	static unsigned char data[3 * TS_CONN_PLAIN_BUFSIZE + 100];
	const unsigned char *p;
	size_t len, sent = 0, off = 0;
	int64_t t0;
	ssize_t r;

	for (len = 0; len < sizeof(data); len++)
		data[len] = (unsigned char)(len * 31 + 7);
	CHECK_INT(pair(), 0);
	ts_conn_plain(&conn, fds[0]);
	for (t0 = ts_net_now(); off < sizeof(data) &&
	    ts_net_now() - t0 < TEST_MS(2000);) {
		if (sent < sizeof(data)) {
			r = write(fds[1], data + sent, sizeof(data) - sent);
			if (r > 0)
				sent += (size_t)r;
		}
		if (sent == sizeof(data) && fds[1] >= 0) {
			close(fds[1]);
			fds[1] = -1;
		}
		if (ts_conn_events(&conn) & POLLIN)
			CHECK_INT(ts_conn_io(&conn, POLLIN), 0);
		p = ts_conn_recv(&conn, &len);
		if (p == NULL)
			continue;
		CHECK(memcmp(p, data + off, len) == 0);
		/* Keep one byte back unless it is the very last. */
		if (len > 1 || off + len == sizeof(data) || conn.eof) {
			if (len > 1 && off + len < sizeof(data))
				len--;
			ts_conn_recv_ack(&conn, len);
			off += len;
		}
	}
	CHECK_INT(off, sizeof(data));
	teardown();
}

/* Writing to a peer that is gone: an error, not SIGPIPE. */
static void
plain_broken_pipe(void)
{
	unsigned char *buf;
	size_t len;

	CHECK_INT(pair(), 0);
	ts_conn_plain(&conn, fds[0]);
	close(fds[1]);
	fds[1] = -1;
	buf = ts_conn_send(&conn, &len);
	CHECK(buf != NULL);
	memcpy(buf, "x", 1);
	ts_conn_send_ack(&conn, 1);
	CHECK_INT(ts_conn_io(&conn, POLLOUT), TS_ERR_NET_IO);
	CHECK(strstr(conn.why, "send") != NULL);
	CHECK_INT(ts_conn_events(&conn), 0);
	teardown();
}

/* ---- trust store ---- */

static int nnotes;
static char notes[4][320];

static void
note(void *arg, const char *msg)
{
	(void)arg;
	if (nnotes < 4)
		snprintf(notes[nnotes], sizeof(notes[0]), "%s", msg);
	nnotes++;
}

static void
trust_ca(void)
{
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, CERTS "ca.pem", note, NULL, why,
	    sizeof(why)), 0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(nnotes, 0);
	CHECK_INT(trust.ta[0].flags, BR_X509_TA_CA);
	CHECK_INT(trust.ta[0].pkey.key_type, BR_KEYTYPE_RSA);
	CHECK(trust.ta[0].dn.len > 10);
	ts_trust_free(&trust);
	CHECK_INT(trust.n, 0);
	CHECK(trust.ta == NULL);
	ts_trust_free(&trust);
	/* A leaf as an anchor: an EC key, not a CA. */
	CHECK_INT(ts_trust_load(&trust, CERTS "good-ec.pem", NULL, NULL, why,
	    sizeof(why)), 0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(trust.ta[0].flags, 0);
	CHECK_INT(trust.ta[0].pkey.key_type, BR_KEYTYPE_EC);
	CHECK_INT(trust.ta[0].pkey.key.ec.curve, BR_EC_secp256r1);
	CHECK_INT(trust.ta[0].pkey.key.ec.qlen, 65);
	ts_trust_free(&trust);
}

/* The same bundle from memory: ts_trust_parse(), what fuzz_trust drives. */
static void
trust_from_memory(void)
{
	static char pem[16384];
	FILE *f = fopen(CERTS "ca.pem", "rb");
	size_t n = 0;

	CHECK(f != NULL);
	if (f == NULL)
		return;
	n = fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	CHECK(n > 100);
	nnotes = 0;
	CHECK_INT(ts_trust_parse(&trust, pem, n, "mem.pem", note, NULL, why,
	    sizeof(why)), 0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(trust.ta[0].flags, BR_X509_TA_CA);
	ts_trust_free(&trust);
	/* nothing, or text without a block: no anchor, said with the name */
	CHECK_INT(ts_trust_parse(&trust, pem, 0, "mem.pem", note, NULL, why,
	    sizeof(why)), TS_ERR_TLS_TRUST_STORE);
	CHECK(strstr(why, "mem.pem") != NULL);
	CHECK_INT(ts_trust_parse(&trust, "hello\r\n", 7, "mem.pem", note,
	    NULL, why, sizeof(why)), TS_ERR_TLS_TRUST_STORE);
	CHECK_INT(trust.n, 0);
	CHECK_INT(nnotes, 0);
}

static void
trust_bundle_junk(void)
{
	struct ts_trust ca;

	nnotes = 0;
	CHECK_INT(ts_trust_load(&ca, CERTS "ca.pem", NULL, NULL, why,
	    sizeof(why)), 0);
	CHECK_INT(ts_trust_load(&trust, CERTS "bundle-junk.pem", note, NULL,
	    why, sizeof(why)), 0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(nnotes, 2);
	CHECK_STR(notes[0], CERTS "bundle-junk.pem: certificate 1 skipped: "
	    "BearSSL cannot decode it");
	CHECK_STR(notes[1], CERTS "bundle-junk.pem: certificate 2 skipped: "
	    "BearSSL cannot decode it");
	/* The one kept is the test CA. */
	CHECK_INT(trust.ta[0].dn.len, ca.ta[0].dn.len);
	CHECK(memcmp(trust.ta[0].dn.data, ca.ta[0].dn.data,
	    ca.ta[0].dn.len) == 0);
	CHECK_INT(trust.ta[0].pkey.key.rsa.nlen, ca.ta[0].pkey.key.rsa.nlen);
	CHECK(memcmp(trust.ta[0].pkey.key.rsa.n, ca.ta[0].pkey.key.rsa.n,
	    ca.ta[0].pkey.key.rsa.nlen) == 0);
	ts_trust_free(&ca);
	ts_trust_free(&trust);
	/* No note callback: loads all the same. */
	CHECK_INT(ts_trust_load(&trust, CERTS "bundle-junk.pem", NULL, NULL,
	    why, sizeof(why)), 0);
	CHECK_INT(trust.n, 1);
	ts_trust_free(&trust);
}

static void
trust_empty(void)
{
	CHECK_INT(ts_trust_load(&trust, CERTS "empty.pem", NULL, NULL, why,
	    sizeof(why)), TS_ERR_TLS_TRUST_STORE);
	CHECK(strstr(why, CERTS "empty.pem") != NULL);
	CHECK(strstr(why, "no usable certificate") != NULL);
	CHECK_INT(trust.n, 0);
	ts_trust_free(&trust);
	/* Only junk: the same error, the skips counted. */
	CHECK_INT(ts_trust_load(&trust, "/dev/null", NULL, NULL, why,
	    sizeof(why)), TS_ERR_TLS_TRUST_STORE);
	ts_trust_free(&trust);
}

static void
trust_missing(void)
{
	CHECK_INT(ts_trust_load(&trust, CERTS "no-such-file.pem", NULL, NULL,
	    why, sizeof(why)), TS_ERR_TLS_NO_TRUST_STORE);
	CHECK(strstr(why, "no-such-file.pem") != NULL);
	CHECK(strstr(why, strerror(ENOENT)) != NULL);
	ts_trust_free(&trust);
}

/* Bundles as they come: no final newline, CRLF line ends. */
static void
trust_pem_forms(void)
{
	static const char between[] = "# Issuer: CN=tsino test CA\n\n"
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	    "Certificate:\n    Data: (openssl x509 -text output)\n";
	char path[] = "/tmp/tsino-test-tls-XXXXXX";
	unsigned char *pem, *crlf;
	size_t len, i, k = 0;
	int fd;

	pem = slurp(CERTS "ca.pem", &len);
	CHECK(pem != NULL && len > 10 && pem[len - 1] == '\n');
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_INT(spill(path, pem, len - 1), 0);
	CHECK_INT(ts_trust_load(&trust, path, NULL, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	ts_trust_free(&trust);
	crlf = malloc(2 * len);
	CHECK(crlf != NULL);
	for (i = 0; i < len; i++) {
		if (pem[i] == '\n')
			crlf[k++] = '\r';
		crlf[k++] = pem[i];
	}
	CHECK_INT(spill(path, crlf, k), 0);
	free(crlf);
	CHECK_INT(ts_trust_load(&trust, path, NULL, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	ts_trust_free(&trust);
	/* Twice the CA, a key and comments between: two anchors, no skip. */
	crlf = malloc(2 * len + strlen(between));
	CHECK(crlf != NULL);
	memcpy(crlf, pem, len);
	memcpy(crlf + len, between, strlen(between));
	memcpy(crlf + len + strlen(between), pem, len);
	CHECK_INT(spill(path, crlf, 2 * len + strlen(between)), 0);
	free(crlf);
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, path, note, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 2);
	CHECK_INT(nnotes, 0);
	ts_trust_free(&trust);
	free(pem);
	unlink(path);
}

/*
 * Damaged PEM: a certificate cut short before the next one begins, a bad
 * base64 character, a bundle that ends inside a certificate.  The damaged
 * one is skipped with a note; the next good one still loads.
 */
static void
trust_damaged_pem(void)
{
	char path[] = "/tmp/tsino-test-tls-XXXXXX";
	unsigned char *pem, *buf;
	size_t len, cut;
	int fd;

	pem = slurp(CERTS "ca.pem", &len);
	CHECK(pem != NULL && len > 200);
	buf = malloc(2 * len + 16);
	CHECK(buf != NULL);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	/* The first five lines of a certificate, then a whole one. */
	for (cut = 0, fd = 0; cut < len && fd < 5; cut++)
		if (pem[cut] == '\n')
			fd++;
	memcpy(buf, pem, cut);
	memcpy(buf + cut, pem, len);
	CHECK_INT(spill(path, buf, cut + len), 0);
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, path, note, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(nnotes, 1);
	CHECK(strstr(notes[0], "certificate 1 skipped") != NULL);
	ts_trust_free(&trust);
	/* A character that is not base64 in the first of two. */
	memcpy(buf, pem, len);
	buf[cut - 10] = '!';
	memcpy(buf + len, pem, len);
	CHECK_INT(spill(path, buf, 2 * len), 0);
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, path, note, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(nnotes, 1);
	ts_trust_free(&trust);
	/* A good one, then the file ends inside the next. */
	memcpy(buf, pem, len);
	memcpy(buf + len, pem, cut);
	CHECK_INT(spill(path, buf, len + cut), 0);
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, path, note, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(nnotes, 1);
	ts_trust_free(&trust);
	/* Only a cut one: nothing usable, and the skip is counted. */
	CHECK_INT(spill(path, pem, cut), 0);
	CHECK_INT(ts_trust_load(&trust, path, NULL, NULL, why, sizeof(why)),
	    TS_ERR_TLS_TRUST_STORE);
	CHECK(strstr(why, "(1 skipped)") != NULL);
	ts_trust_free(&trust);
	free(buf);
	free(pem);
	/*
	 * Two certificates' base64 in one block (selfsigned.pem has no "="
	 * padding), then the CA: the block is skipped, and the X.509 decoder,
	 * failed at the end of the first, is fed nothing more.
	 */
	pem = slurp(CERTS "selfsigned.pem", &len);
	buf = slurp(CERTS "ca.pem", &cut);
	CHECK(pem != NULL && buf != NULL && strstr((char *)pem, "-----END"));
	len = (size_t)(strstr((char *)pem, "-----END") - (char *)pem);
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, pem, len), (long)len);
	len = (size_t)(strchr((char *)buf, '\n') + 1 - (char *)buf);
	CHECK_INT(write(fd, buf + len, cut - len), (long)(cut - len));
	CHECK_INT(write(fd, buf, cut), (long)cut);
	close(fd);
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, path, note, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(nnotes, 1);
	ts_trust_free(&trust);
	free(buf);
	free(pem);
	unlink(path);
}

/*
 * The file is read 4 KiB at a time: wherever the 4096th byte falls in
 * the first 450 bytes of a damaged bundle (three CRLF lines of a
 * certificate cut short, the next one with a character that is not
 * base64 in its third line), it gives what those bytes give from memory.
 */
static void
trust_file_chunks(void)
{
	char path[] = "/tmp/tsino-test-tls-XXXXXX";
	unsigned char *pem, *buf, *q;
	size_t len, i, n = 0, lines = 0, off;
	int fd;

	pem = slurp(CERTS "ca.pem", &len);
	buf = malloc(4096 + 3 * len);
	CHECK(pem != NULL && buf != NULL);
	memset(buf, '#', 4096);
	q = buf + 4096;
	q[-1] = '\n';
	for (i = 0; lines < 3; i++) {
		if (pem[i] == '\n') {
			q[n++] = '\r';
			lines++;
		}
		q[n++] = pem[i];
	}
	memcpy(q + n, pem, len);
	q[n + 200] = '!';
	memcpy(q + n + len, pem, len);
	n += 2 * len;
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	for (off = 4096 - 450; off <= 4096 && !test_failed; off++) {
		CHECK_INT(spill(path, q - off, off + n), 0);
		nnotes = 0;
		CHECK_INT(ts_trust_load(&trust, path, note, NULL, why,
		    sizeof(why)), 0);
		CHECK_INT(trust.n, 1);
		CHECK_INT(nnotes, 2);
		ts_trust_free(&trust);
		nnotes = 0;
		CHECK_INT(ts_trust_parse(&trust, q - off, off + n, "mem", note,
		    NULL, why, sizeof(why)), 0);
		CHECK_INT(trust.n, 1);
		CHECK_INT(nnotes, 2);
		ts_trust_free(&trust);
	}
	free(buf);
	free(pem);
	unlink(path);
}

/*
 * A bundle of TS_TRUST_MAX_FILE bytes loads; one more byte is an error
 * naming the limit, and so is /dev/zero, at once.
 */
static void
trust_size_limit(void)
{
	char path[] = "/tmp/tsino-test-tls-XXXXXX";
	unsigned char *pem, *buf;
	size_t len;
	int fd;

	pem = slurp(CERTS "ca.pem", &len);
	buf = malloc(TS_TRUST_MAX_FILE + 1);
	CHECK(pem != NULL && buf != NULL);
	memset(buf, '#', TS_TRUST_MAX_FILE + 1);
	memcpy(buf, pem, len);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_INT(spill(path, buf, TS_TRUST_MAX_FILE), 0);
	CHECK_INT(ts_trust_load(&trust, path, NULL, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	ts_trust_free(&trust);
	CHECK_INT(spill(path, buf, TS_TRUST_MAX_FILE + 1), 0);
	CHECK_INT(ts_trust_load(&trust, path, NULL, NULL, why, sizeof(why)),
	    TS_ERR_TLS_TRUST_STORE_SIZE);
	CHECK(strstr(why, "larger than 4 MiB, the limit") != NULL);
	CHECK_INT(trust.n, 0);
	CHECK(trust.ta == NULL);
	CHECK_INT(ts_trust_parse(&trust, buf, TS_TRUST_MAX_FILE + 1, "mem",
	    NULL, NULL, why, sizeof(why)), TS_ERR_TLS_TRUST_STORE_SIZE);
	CHECK_INT(ts_trust_load(&trust, "/dev/zero", NULL, NULL, why,
	    sizeof(why)), TS_ERR_TLS_TRUST_STORE_SIZE);
	CHECK_STR(why, "trust store /dev/zero is larger than 4 MiB, the limit");
	free(buf);
	free(pem);
	unlink(path);
}

/* A certificate whose name is over TS_TRUST_MAX_DN bytes: a note. */
static void
trust_long_name(void)
{
	char dir[] = "/tmp/tsino-test-dn-XXXXXX", cmd[320], path[64];

	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf(" (no openssl here)");
		return;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/long.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -new -key "
	    CERTS "ca.key -days 1 -subj \"$(printf '/OU=%%060d' $(seq 20))\" "
	    "-out %s 2>/dev/null && cat " CERTS "ca.pem >> %s", path, path);
	CHECK_INT(system(cmd), 0);
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, path, note, NULL, why, sizeof(why)),
	    0);
	CHECK_INT(trust.n, 1);
	CHECK_INT(nnotes, 1);
	CHECK(strstr(notes[0], "certificate 1 skipped: its name is longer "
	    "than 1024 bytes") != NULL);
	ts_trust_free(&trust);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

static void
trust_default_path(void)
{
	const char *p = ts_trust_default_path();

	if (p == NULL) {
		CHECK(access("/etc/ssl/certs/ca-certificates.crt", R_OK) < 0);
		printf(" (no system bundle here)");
		return;
	}
	CHECK_INT(access(p, R_OK), 0);
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
		CHECK_STR(p, "/etc/ssl/certs/ca-certificates.crt");
	/* A real bundle loads, almost every certificate in it usable. */
	nnotes = 0;
	CHECK_INT(ts_trust_load(&trust, p, note, NULL, why, sizeof(why)), 0);
	CHECK(trust.n > 50);
	CHECK((size_t)nnotes < trust.n / 10 + 1);
	ts_trust_free(&trust);
}

/* ---- randomness ---- */

static void
random_bytes(void)
{
	unsigned char a[32], b[32], zero[32] = {0};
	unsigned char big[100000];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_INT(ts_random(a, sizeof(a)), 0);
	CHECK_INT(ts_random(b, sizeof(b)), 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
	CHECK_INT(ts_random(a, 0), 0);
	/* Bigger than one getrandom(2) call may return. */
	CHECK_INT(ts_random(big, sizeof(big)), 0);
}

static const struct test_case cases[] = {
	TEST(handshake_ec),
	TEST(handshake_rsa),
	TEST(handshake_dnsonly),
	TEST(bulk_both_ways),
	TEST(server_closes_cleanly),
	TEST(server_hangs_up_after_handshake),
	TEST(expired),
	TEST(wrong_host),
	TEST(self_signed),
	TEST(ca_not_in_store),
	TEST(sha1_signatures),
	TEST(closed_after_client_hello),
	TEST(closed_before_client_hello),
	TEST(closed_mid_server_flight),
	TEST(not_tls),
	TEST(ip_literal_refused),
	TEST(resumption),
	TEST(resumption_refused),
	TEST(plain_both_ways),
	TEST(plain_partial_ack),
	TEST(plain_broken_pipe),
	TEST(trust_ca),
	TEST(trust_from_memory),
	TEST(trust_bundle_junk),
	TEST(trust_empty),
	TEST(trust_missing),
	TEST(trust_pem_forms),
	TEST(trust_damaged_pem),
	TEST(trust_file_chunks),
	TEST(trust_size_limit),
	TEST(trust_long_name),
	TEST(trust_default_path),
	TEST(random_bytes),
};

int
main(int argc, char **argv)
{
	fds[0] = fds[1] = -1;
	conn.fd = -1;
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
