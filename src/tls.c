/*
 * tls: the transport (plain TCP or TLS 1.2 through BearSSL behind one
 * buf/ack interface), the trust store and session resumption.
 *
 * TLS states follow BearSSL's engine (br_ssl_engine_current_state):
 * handshake (SENDREC/RECVREC only) -> open (SENDAPP/RECVAPP) -> closed.
 * This file only moves record bytes between the engine and the socket
 * and turns BearSSL's error codes into words a user understands.  Plain
 * mode keeps a receive queue and a send queue in the same iobuf.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "tsino.h"
#include "tls.h"

void
ts_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/*
 * getrandom(2), else /dev/urandom from where it stopped: old kernels
 * (before 3.17) have no getrandom(2).
 */
int
ts_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;
	int fd = -1;

	while (n > 0) {
		r = fd < 0 ? getrandom(p, n, 0) : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && fd < 0 &&
		    (fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0)
			continue;
		if (r <= 0)
			break;
		p += r;
		n -= (size_t)r;
	}
	if (fd >= 0)
		close(fd);
	return n == 0 ? 0 : -1;
}

/* ---- trust store ---- */

static const char *const bundle_paths[] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Gentoo */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* RHEL, Fedora, CentOS */
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL 7+ */
	"/etc/ssl/cert.pem",			/* Alpine, OpenBSD, macOS */
	"/usr/local/share/certs/ca-root-nss.crt", /* FreeBSD */
	"/etc/ssl/ca-bundle.pem",		/* openSUSE */
	"/var/lib/ca-certificates/ca-bundle.pem", /* SLES */
};

const char *
ts_trust_default_path(void)
{
	size_t i;

	for (i = 0; i < sizeof(bundle_paths) / sizeof(bundle_paths[0]); i++)
		if (access(bundle_paths[i], R_OK) == 0)
			return bundle_paths[i];
	return NULL;
}

/*
 * The bundle reader.  BearSSL's PEM decoder hands each certificate's DER
 * straight to its X.509 decoder, so no certificate and no part of the
 * file is ever held whole, and the bytes may come in any chunks: what is
 * kept is the subject name of the certificate being read and the line
 * being read, to read it again after a damaged block.
 */
#define TS_TRUST_CHUNK 4096	/* bytes read from the file at a time */
#define TS_TRUST_LINE 256	/* a BEGIN line: BearSSL keeps 127-byte names */

struct reader {
	struct ts_trust *t;
	const char *name;	/* the file, in notes and messages */
	ts_tls_note_fn *note;
	void *arg;
	br_pem_decoder_context pc;
	br_x509_decoder_context dc;
	int in_cert;
	size_t count;		/* certificates met (anchors and skipped) */
	unsigned char dn[TS_TRUST_MAX_DN];
	size_t dnlen;		/* more than dn[] holds: the name is too long */
	/*
	 * The line read so far (more than line[] holds: too long to read
	 * again), and offsets in the input without its CRs: the next byte
	 * (so the line starts at pos - linelen), where the decoder last
	 * started afresh.
	 */
	unsigned char line[TS_TRUST_LINE];
	size_t linelen;
	int line_done;		/* it ended with its '\n' */
	size_t pos, resync;
};

static void
dn_append(void *ctx, const void *data, size_t len)
{
	struct reader *r = ctx;

	if (r->dnlen <= sizeof(r->dn) && len <= sizeof(r->dn) - r->dnlen)
		memcpy(r->dn + r->dnlen, data, len);
	r->dnlen += len;
}

static void
der_push(void *ctx, const void *data, size_t len)
{
	struct reader *r = ctx;

	/* Not once it is done or failed: its engine would run off its end. */
	if (br_x509_decoder_last_error(&r->dc) == BR_ERR_X509_TRUNCATED)
		br_x509_decoder_push(&r->dc, data, len);
}

/*
 * The certificate just decoded as an anchor: its name and its key's
 * bytes in one allocation, which dn.data points to.  0 or -1 (skipped).
 * BearSSL's X.509 decoder gives RSA and EC keys only.
 */
static int
add_anchor(struct reader *r)
{
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&r->dc);
	struct ts_trust *t = r->t;
	br_x509_trust_anchor *ta;
	unsigned char *p;
	int rsa;
	size_t k1, k2;

	/* NULL: not decoded.  Else RSA, or EC (any other type fails). */
	if (pk == NULL)
		return -1;
	rsa = pk->key_type == BR_KEYTYPE_RSA;
	k1 = rsa ? pk->key.rsa.nlen : pk->key.ec.qlen;
	k2 = rsa ? pk->key.rsa.elen : 0;
	ta = realloc(t->ta, (t->n + 1) * sizeof(*t->ta));
	if (ta == NULL)
		return -1;
	t->ta = ta;
	p = malloc(r->dnlen + k1 + k2);
	if (p == NULL)
		return -1;
	ta = &t->ta[t->n++];	/* each of its three members set below */
	ta->dn.data = p;	/* freed by ts_trust_free */
	memcpy(p, r->dn, r->dnlen);
	ta->dn.len = r->dnlen;
	ta->flags = br_x509_decoder_isCA(&r->dc) ? BR_X509_TA_CA : 0;
	ta->pkey = *pk;
	p += r->dnlen;
	if (rsa) {
		ta->pkey.key.rsa.n = memcpy(p, pk->key.rsa.n, k1);
		ta->pkey.key.rsa.e = memcpy(p + k1, pk->key.rsa.e, k2);
	} else {
		ta->pkey.key.ec.q = memcpy(p, pk->key.ec.q, k1);
	}
	return 0;
}

void
ts_trust_free(struct ts_trust *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->ta[i].dn.data);
	free(t->ta);
	memset(t, 0, sizeof(*t));
}

/* The end of an object: if a certificate, an anchor or a note why not. */
static void
end_cert(struct reader *r, int damaged)
{
	char msg[320];

	if (!r->in_cert)
		return;
	r->count++;
	r->in_cert = 0;
	if ((!damaged && r->dnlen <= sizeof(r->dn) && add_anchor(r) == 0) ||
	    r->note == NULL)
		return;
	snprintf(msg, sizeof(msg), damaged || r->dnlen <= sizeof(r->dn) ?
	    "%s: certificate %zu skipped: BearSSL cannot decode it" :
	    "%s: certificate %zu skipped: its name is longer than %d bytes",
	    r->name, r->count, TS_TRUST_MAX_DN);
	r->note(r->arg, msg);
}

/* Bytes the PEM decoder took: keep the line they belong to. */
static void
track(struct reader *r, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (r->line_done)
			r->linelen = 0;
		if (r->linelen < sizeof(r->line))
			r->line[r->linelen] = p[i];
		r->linelen++;
		r->pos++;
		r->line_done = p[i] == '\n';
	}
}

/* n bytes (no CR) through the PEM decoder, and what its events ask. */
static void
feed(struct reader *r, const unsigned char *p, size_t n)
{
	unsigned char again[TS_TRUST_LINE];
	const char *obj;
	size_t k, len;

	while (n > 0) {
		k = br_pem_decoder_push(&r->pc, p, n);
		track(r, p, k);
		p += k;
		n -= k;
		switch (br_pem_decoder_event(&r->pc)) {
		case BR_PEM_BEGIN_OBJ:
			obj = br_pem_decoder_name(&r->pc);
			r->in_cert = strcmp(obj, "CERTIFICATE") == 0 ||
			    strcmp(obj, "X509 CERTIFICATE") == 0;
			r->dnlen = 0;
			br_x509_decoder_init(&r->dc, dn_append, r);
			br_pem_decoder_setdest(&r->pc, r->in_cert ? der_push :
			    NULL, r);
			break;
		case BR_PEM_END_OBJ:
			end_cert(r, 0);
			break;
		case BR_PEM_ERROR:
			end_cert(r, 1);
			br_pem_decoder_init(&r->pc);
			/*
			 * Resynchronise: start afresh at the beginning of the
			 * line that failed (the decoder may have taken all of
			 * it), which may be the next BEGIN line after a
			 * certificate cut short; never twice at one place (so
			 * this recurses once at most).
			 */
			if (r->pos - r->linelen > r->resync &&
			    r->linelen <= sizeof(r->line)) {
				len = r->linelen;
				memcpy(again, r->line, len);
				r->pos = r->resync = r->pos - len;
				r->linelen = 0;
				r->line_done = 0;
				feed(r, again, len);
				break;
			}
			if (k == 0) {
				track(r, p++, 1);
				n--;
			}
			r->resync = r->pos;
			break;
		}
	}
}

/*
 * BearSSL's PEM decoder takes "\r" into the BEGIN line's name: drop
 * every CR (base64 has none).
 */
static void
push(struct reader *r, const unsigned char *p, size_t len)
{
	const unsigned char *cr;

	while (len > 0 && (cr = memchr(p, '\r', len)) != NULL) {
		feed(r, p, (size_t)(cr - p));
		len -= (size_t)(cr - p) + 1;
		p = cr + 1;
	}
	feed(r, p, len);
}

static void
start(struct reader *r, struct ts_trust *t, const char *name,
    ts_tls_note_fn *note, void *arg)
{
	memset(t, 0, sizeof(*t));
	*r = (struct reader){ .t = t, .name = name, .note = note, .arg = arg };
	br_pem_decoder_init(&r->pc);
}

/*
 * The end of the bundle (total: its size): 0, or
 * TS_ERR_TLS_TRUST_STORE_SIZE or TS_ERR_TLS_TRUST_STORE with why.
 */
static int
finish(struct reader *r, size_t total, char *why, size_t whylen)
{
	if (total > TS_TRUST_MAX_FILE) {
		ts_trust_free(r->t);
		snprintf(why, whylen, "trust store %s is larger than %d MiB, "
		    "the limit", r->name, TS_TRUST_MAX_FILE >> 20);
		return TS_ERR_TLS_TRUST_STORE_SIZE;
	}
	/* The decoder sees an END line only once its newline arrives. */
	feed(r, (const unsigned char *)"\n", 1);
	end_cert(r, 1);
	if (r->t->n == 0) {
		snprintf(why, whylen, "trust store %s holds no usable "
		    "certificate (%zu skipped)", r->name, r->count);
		ts_trust_free(r->t);
		return TS_ERR_TLS_TRUST_STORE;
	}
	return 0;
}

int
ts_trust_load(struct ts_trust *t, const char *path, ts_tls_note_fn *note,
    void *arg, char *why, size_t whylen)
{
	unsigned char buf[TS_TRUST_CHUNK];
	struct reader r;
	size_t total = 0;
	ssize_t got = -1;
	int fd, err;

	start(&r, t, path, note, arg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0) {
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || (total += (size_t)got) > TS_TRUST_MAX_FILE)
			break;
		push(&r, buf, (size_t)got);
	}
	err = errno;
	if (fd >= 0)
		close(fd);
	if (got >= 0)
		return finish(&r, total, why, whylen);
	ts_trust_free(t);
	snprintf(why, whylen, "cannot read trust store %s: %s", path,
	    strerror(err));
	return TS_ERR_TLS_NO_TRUST_STORE;
}

int
ts_trust_parse(struct ts_trust *t, const void *pem, size_t len,
    const char *name, ts_tls_note_fn *note, void *arg, char *why,
    size_t whylen)
{
	struct reader r;

	start(&r, t, name, note, arg);
	if (len <= TS_TRUST_MAX_FILE)
		push(&r, pem, len);
	return finish(&r, len, why, whylen);
}

/* ---- the connection ---- */

/* The first error sticks: c->err, and its words in c->why. */
static int
fail(struct ts_conn *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->err == 0) {
		c->err = err;
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	return c->err;
}

void
ts_conn_plain(struct ts_conn *c, int fd)
{
	/* Everything before BearSSL's contexts, which ts_conn_tls() sets. */
	memset(c, 0, offsetof(struct ts_conn, cc));
	c->fd = fd;
	c->handshake_done = 1;
}

int
ts_conn_tls(struct ts_conn *c, int fd, const char *host,
    const struct ts_trust *trust, struct ts_tls_session *session)
{
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	};
	static const char *alpn[] = {"http/1.1"};
	br_ssl_engine_context *eng = &c->cc.eng;
	br_x509_minimal_context *xc = &c->xc;
	unsigned char ip[16], seed[32];

	ts_conn_plain(c, fd);
	c->tls = 1;
	c->handshake_done = 0;
	c->session = session;
	snprintf(c->host, sizeof(c->host), "%s", host);
	if (ts_random(seed, sizeof(seed)) < 0)
		return fail(c, TS_ERR_TLS_PROTOCOL, "no randomness from the "
		    "OS");
	/*
	 * SPEC §7.11: an IP literal is refused, never left unverified.
	 * BearSSL checks DNS names only, and RFC 6066 §3: "Literal IPv4 and
	 * IPv6 addresses are not permitted in "HostName"."
	 */
	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		return fail(c, TS_ERR_TLS_IP_LITERAL, "TLS to an IP address "
		    "(%s) is not supported: certificates are checked by host "
		    "name", host);
	/*
	 * The client profile: what br_ssl_client_init_full() sets up, cut
	 * down to what a TLS 1.2 client of a modern API needs, so a static
	 * binary carries no code it never runs: ECDHE key exchange only (no
	 * RSA-encrypted premaster, so no rsapub), AEAD ciphers only
	 * (ChaCha20-Poly1305 and AES-GCM, in init_full's order), RSA and
	 * ECDSA certificates signed with SHA-2.  SHA-1 is refused in the
	 * chain (issue 7: collisions for it are practical since 2017); a
	 * root's own signature is never checked, so old roots still serve.
	 * The engine keeps SHA-1: TLS 1.2's signature_algorithms still offers
	 * it, last, for the server's ECDHE signature (the PRF is SHA-256 or
	 * SHA-384).
	 */
	br_ssl_client_zero(&c->cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites,
	    sizeof(suites) / sizeof(suites[0]));
	br_x509_minimal_init(xc, &br_sha256_vtable, trust->ta, trust->n);
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	/* no SHA-1 here: the chain's signatures are SHA-2 or refused */
	br_x509_minimal_set_hash(xc, br_sha224_ID, &br_sha224_vtable);
	br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_rsa(xc, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(xc, br_ec_get_default(),
	    br_ecdsa_vrfy_asn1_get_default());
	br_ssl_engine_set_x509(eng, &xc->vtable);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ecdsa(eng);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_buffer(eng, c->iobuf, sizeof(c->iobuf), 1);
	br_ssl_engine_set_protocol_names(eng, alpn, 1);
	br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
	if (session != NULL && session->host[0] != '\0' &&
	    strcmp(session->host, host) == 0)
		br_ssl_engine_set_session_parameters(eng, &session->params);
	if (!br_ssl_client_reset(&c->cc, host, 1))
		return fail(c, TS_ERR_TLS_PROTOCOL, "TLS setup failed (BearSSL "
		    "error %d)", br_ssl_engine_last_error(eng));
	return 0;
}

/* BearSSL's last error, in our code and words (if the first error). */
static int
tls_error(struct ts_conn *c, int brerr)
{
	char clock[32];
	time_t now = time(NULL);
	struct tm tm;

	switch (brerr) {
	case BR_ERR_X509_EXPIRED:
		/* the local clock, as the likely culprit */
		if (gmtime_r(&now, &tm) == NULL || strftime(clock,
		    sizeof(clock), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(clock, sizeof(clock), "unknown");
		return fail(c, TS_ERR_TLS_EXPIRED, "%s: certificate expired or "
		    "not yet valid (local clock: %s)", c->host, clock);
	case BR_ERR_X509_BAD_SERVER_NAME:
		return fail(c, TS_ERR_TLS_HOSTNAME, "certificate is for "
		    "another host (wanted %s)", c->host);
	case BR_ERR_X509_NOT_TRUSTED:
		return fail(c, TS_ERR_TLS_UNTRUSTED, "%s: certificate not "
		    "signed by a trusted authority", c->host);
	case BR_ERR_X509_UNSUPPORTED:
		/* Mostly a SHA-1 signature: no SHA-1 in the X.509 engine. */
		return fail(c, TS_ERR_TLS_CERT_ALGORITHM, "%s: certificate "
		    "chain uses an unsupported algorithm (SHA-1 signatures "
		    "are refused)", c->host);
	}
	if (brerr >= BR_ERR_RECV_FATAL_ALERT && brerr < BR_ERR_SEND_FATAL_ALERT)
		return fail(c, TS_ERR_TLS_PROTOCOL, "%s: server sent TLS "
		    "alert %d", c->host, brerr - BR_ERR_RECV_FATAL_ALERT);
	if (brerr >= BR_ERR_SEND_FATAL_ALERT)
		return fail(c, TS_ERR_TLS_PROTOCOL, "%s: TLS failed, sent "
		    "alert %d", c->host, brerr - BR_ERR_SEND_FATAL_ALERT);
	if (brerr >= BR_ERR_X509_OK)
		return fail(c, TS_ERR_TLS_PROTOCOL, "%s: certificate rejected "
		    "(BearSSL X.509 error %d)", c->host, brerr);
	return fail(c, TS_ERR_TLS_PROTOCOL, "%s: TLS protocol error (BearSSL "
	    "error %d)", c->host, brerr);
}

/* Note the end of a TLS handshake: save the session, see if resumed. */
static void
handshake_finished(struct ts_conn *c)
{
	br_ssl_session_parameters p;
	struct ts_tls_session *s = c->session;

	c->handshake_done = 1;
	if (s == NULL)
		return;
	br_ssl_engine_get_session_parameters(&c->cc.eng, &p);
	c->resumed = s->host[0] != '\0' && strcmp(s->host, c->host) == 0 &&
	    s->params.session_id_len == p.session_id_len &&
	    memcmp(s->params.session_id, p.session_id, p.session_id_len) == 0;
	s->params = p;
	snprintf(s->host, sizeof(s->host), "%s", c->host);
}

/* The peer closed its side: during the TLS handshake, an error. */
static int
peer_closed(struct ts_conn *c)
{
	c->eof = 1;
	if (c->handshake_done)
		return c->err;
	return fail(c, TS_ERR_TLS_HANDSHAKE_CLOSED, "%s: server closed the "
	    "connection during the handshake", c->host);
}

/*
 * A socket error, in words after the host (TLS) or what failed (plain).
 * During the handshake a reset or a broken pipe is the server closing the
 * connection, which is what the user needs to hear.
 */
static int
sock_err(struct ts_conn *c, int errnum, const char *what)
{
	if (!c->handshake_done && (errnum == EPIPE || errnum == ECONNRESET))
		return peer_closed(c);
	return fail(c, TS_ERR_NET_IO, "%s: %s", c->tls ? c->host : what,
	    strerror(errnum));
}

/*
 * The bytes waiting for the socket (out) or the room for bytes from it:
 * BearSSL's record buffers, NULL exactly when its state lacks SENDREC or
 * RECVREC; in plain mode the send queue, or the receive queue's free end
 * (none once the peer has closed).
 */
static unsigned char *
wire_buf(struct ts_conn *c, int out, size_t *len)
{
	if (c->tls)
		return out ? br_ssl_engine_sendrec_buf(&c->cc.eng, len) :
		    br_ssl_engine_recvrec_buf(&c->cc.eng, len);
	*len = out ? c->wlen : TS_CONN_PLAIN_BUFSIZE - c->rlen;
	if (*len == 0 || (!out && c->eof))
		return NULL;
	return c->iobuf + (out ? TS_CONN_PLAIN_BUFSIZE : c->rlen);
}

/* n bytes of wire_buf(c, out) went to the socket or came from it. */
static void
wire_ack(struct ts_conn *c, int out, size_t n)
{
	unsigned char *wq = c->iobuf + TS_CONN_PLAIN_BUFSIZE;

	if (c->tls && out) {
		br_ssl_engine_sendrec_ack(&c->cc.eng, n);
	} else if (c->tls) {
		br_ssl_engine_recvrec_ack(&c->cc.eng, n);
	} else if (out) {
		c->wlen -= n;
		memmove(wq, wq + n, c->wlen);
	} else {
		c->rlen += n;
	}
}

/*
 * Send what waits until the socket takes no more, then read if allowed,
 * and again while either moves bytes.  TLS: each turn follows the
 * engine's state; a peer close is an error during the handshake.
 */
int
ts_conn_io(struct ts_conn *c, short revents)
{
	/* Read only when poll() said so: bytes read at any other time would
	 * sit in a buffer that no poll() wakes up for. */
	int may_read = (revents & (POLLIN | POLLHUP | POLLERR)) != 0;
	br_ssl_engine_context *eng = &c->cc.eng;
	unsigned st;
	unsigned char *buf;
	size_t len;
	ssize_t r;
	int out;

	/* Nothing to move: failed, closed, or TLS after the peer's close. */
	if (c->err || c->fd < 0 || (c->tls && c->eof))
		return c->err;
	for (;;) {
		st = c->tls ? br_ssl_engine_current_state(eng) : 0;
		if (st & BR_SSL_CLOSED) {
			if (br_ssl_engine_last_error(eng) != BR_ERR_OK)
				tls_error(c, br_ssl_engine_last_error(eng));
			return peer_closed(c);
		}
		if (!c->handshake_done &&
		    (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)))
			handshake_finished(c);
		/* Send, then read; a turn that moved bytes starts over. */
		for (out = 1; out >= 0; out--) {
			if ((!out && !may_read) ||
			    (buf = wire_buf(c, out, &len)) == NULL)
				continue;
			r = out ? send(c->fd, buf, len, MSG_NOSIGNAL) :
			    read(c->fd, buf, len);
			if (r > 0)
				wire_ack(c, out, (size_t)r);
			if (r > 0 || (r < 0 && errno == EINTR))
				break;
			if (r == 0 && !out && c->tls) {
				c->truncated = 1;
				br_ssl_engine_close(eng);
			}
			if (r == 0 && !out)
				return peer_closed(c);
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				return sock_err(c, errno, out ? "send" :
				    "receive");
		}
		if (out < 0)
			return 0;
	}
}

short
ts_conn_events(struct ts_conn *c)
{
	size_t len;

	/* BR_SSL_CLOSED is exclusive: a closed engine wants nothing. */
	if (c->err || c->fd < 0 || (c->tls && (c->eof ||
	    br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_CLOSED)))
		return 0;
	return (short)((wire_buf(c, 0, &len) ? POLLIN : 0) |
	    (wire_buf(c, 1, &len) ? POLLOUT : 0));
}

const unsigned char *
ts_conn_recv(struct ts_conn *c, size_t *len)
{
	if (c->tls)
		return c->err ? NULL :
		    br_ssl_engine_recvapp_buf(&c->cc.eng, len);
	*len = c->rlen - c->roff;
	return *len ? c->iobuf + c->roff : NULL;
}

void
ts_conn_recv_ack(struct ts_conn *c, size_t n)
{
	if (c->tls) {
		br_ssl_engine_recvapp_ack(&c->cc.eng, n);
		return;
	}
	c->roff += n;
	/*
	 * All taken: start again at the front.  A full queue with a partial
	 * message left: move it there, or no room would ever open to receive
	 * the rest.
	 */
	if (c->roff == c->rlen || c->rlen == TS_CONN_PLAIN_BUFSIZE) {
		memmove(c->iobuf, c->iobuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
}

unsigned char *
ts_conn_send(struct ts_conn *c, size_t *len)
{
	if (c->tls)
		return c->err ? NULL :
		    br_ssl_engine_sendapp_buf(&c->cc.eng, len);
	*len = sizeof(c->iobuf) - TS_CONN_PLAIN_BUFSIZE - c->wlen;
	return *len ? c->iobuf + TS_CONN_PLAIN_BUFSIZE + c->wlen : NULL;
}

void
ts_conn_send_ack(struct ts_conn *c, size_t n)
{
	if (c->tls)
		br_ssl_engine_sendapp_ack(&c->cc.eng, n);
	else
		c->wlen += n;
}

void
ts_conn_flush(struct ts_conn *c)
{
	if (c->tls)
		br_ssl_engine_flush(&c->cc.eng, 0);
}

void
ts_conn_close(struct ts_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->tls && c->err == 0 && c->handshake_done) {
		/* Best effort close_notify: one non-blocking write. */
		br_ssl_engine_close(&c->cc.eng);
		ts_conn_io(c, 0);
	}
	close(c->fd);
	c->fd = -1;
}
