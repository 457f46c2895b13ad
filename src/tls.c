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

int
ts_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;
	int fd;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		p += r;
		n -= (size_t)r;
	}
	if (n == 0)
		return 0;
	/* Old kernels (before 3.17) have no getrandom(2). */
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	close(fd);
	return 0;
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

/* A growing byte vector, used only while loading the trust store. */
struct vec {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void
vec_append(void *ctx, const void *data, size_t len)
{
	struct vec *v = ctx;
	unsigned char *np;
	size_t ncap;

	if (v->oom)
		return;
	if (v->len + len > v->cap) {
		ncap = v->cap ? v->cap * 2 : 1024;
		while (ncap < v->len + len)
			ncap *= 2;
		np = realloc(v->p, ncap);
		if (np == NULL) {
			v->oom = 1;
			return;
		}
		v->p = np;
		v->cap = ncap;
	}
	memcpy(v->p + v->len, data, len);
	v->len += len;
}

static unsigned char *
dup_bytes(const void *src, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	if (p != NULL)
		memcpy(p, src, len);
	return p;
}

static int
read_file(const char *path, struct vec *v)
{
	unsigned char buf[4096];
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		vec_append(v, buf, (size_t)r);
	}
	close(fd);
	return r < 0 || v->oom ? -1 : 0;
}

/* Free what an anchor owns; the union member follows its key type. */
static void
free_anchor(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else {
		free(ta->pkey.key.ec.q);
	}
}

/* Decode one DER certificate into a trust anchor; 0 or -1 (skipped). */
static int
add_anchor(struct ts_trust *t, const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	br_x509_trust_anchor *ta, *nta;
	const br_x509_pkey *pk;
	struct vec dn = {0};

	br_x509_decoder_init(&dc, vec_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL || dn.oom) {
		free(dn.p);
		return -1;
	}
	nta = realloc(t->ta, (t->n + 1) * sizeof(*t->ta));
	if (nta == NULL) {
		free(dn.p);
		return -1;
	}
	t->ta = nta;
	ta = &t->ta[t->n];
	memset(ta, 0, sizeof(*ta));
	ta->dn.data = dn.p;
	ta->dn.len = dn.len;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (ta->pkey.key.rsa.n == NULL || ta->pkey.key.rsa.e == NULL)
			goto oom;
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (ta->pkey.key.ec.q == NULL)
			goto oom;
	} else {
		free(dn.p);
		return -1;
	}
	t->n++;
	return 0;
oom:
	free_anchor(ta);
	return -1;
}

void
ts_trust_free(struct ts_trust *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free_anchor(&t->ta[i]);
	free(t->ta);
	t->ta = NULL;
	t->n = 0;
}

/* Certificate number count of the bundle cannot be used: say so. */
static void
skip(struct ts_trust *t, const char *path, size_t count,
    ts_tls_note_fn *note, void *arg)
{
	char msg[320];

	t->skipped++;
	if (note == NULL)
		return;
	snprintf(msg, sizeof(msg), "%s: certificate %zu skipped: BearSSL "
	    "cannot decode it", path, count);
	note(arg, msg);
}

/*
 * The PEM bundle in file (owned, freed here; named name in messages):
 * every certificate in it becomes an anchor or a note.
 */
static int
parse_bundle(struct ts_trust *t, struct vec *file, const char *name,
    ts_tls_note_fn *note, void *arg, char *why, size_t whylen)
{
	br_pem_decoder_context pc;
	struct vec der = {0};
	const unsigned char *p, *back, *resync;
	size_t left, k, count = 0;
	int in_cert = 0, ev;

	/*
	 * BearSSL's PEM decoder takes "\r" into the BEGIN line's name, and
	 * sees an END line only once its newline arrives: drop every CR
	 * (base64 has none) and end the last line.
	 */
	for (k = 0, left = 0; k < file->len; k++)
		if (file->p[k] != '\r')
			file->p[left++] = file->p[k];
	file->len = left;
	vec_append(file, "\n", 1);
	br_pem_decoder_init(&pc);
	p = resync = file->p;
	left = file->oom ? 0 : file->len;
	while (left > 0) {
		k = br_pem_decoder_push(&pc, p, left);
		p += k;
		left -= k;
		ev = br_pem_decoder_event(&pc);
		if (ev == BR_PEM_BEGIN_OBJ) {
			const char *obj = br_pem_decoder_name(&pc);

			in_cert = strcmp(obj, "CERTIFICATE") == 0 ||
			    strcmp(obj, "X509 CERTIFICATE") == 0;
			der.len = 0;
			br_pem_decoder_setdest(&pc, in_cert ? vec_append : NULL,
			    &der);
		} else if (ev == BR_PEM_END_OBJ && in_cert) {
			if (der.oom || add_anchor(t, der.p, der.len) < 0)
				skip(t, name, ++count, note, arg);
			else
				count++;
			in_cert = 0;
		} else if (ev == BR_PEM_ERROR) {
			if (in_cert)
				skip(t, name, ++count, note, arg);
			in_cert = 0;
			/*
			 * Resynchronise: start afresh at the beginning of the
			 * line that failed (the decoder may have taken all of
			 * it), which may be the next BEGIN line after a
			 * certificate cut short; never twice at one place.
			 */
			br_pem_decoder_init(&pc);
			back = p;
			if (back > file->p && back[-1] == '\n')
				back--;
			while (back > file->p && back[-1] != '\n')
				back--;
			if (back > resync) {
				left += (size_t)(p - back);
				p = back;
			} else if (k == 0) {
				p++;
				left--;
			}
			resync = p;
		}
	}
	if (in_cert)
		skip(t, name, ++count, note, arg);
	free(der.p);
	free(file->p);
	file->p = NULL;
	if (t->n == 0) {
		snprintf(why, whylen, "trust store %s holds no usable "
		    "certificate (%zu skipped)", name, t->skipped);
		ts_trust_free(t);
		return TS_ERR_TLS_TRUST_STORE;
	}
	return 0;
}

int
ts_trust_load(struct ts_trust *t, const char *path, ts_tls_note_fn *note,
    void *arg, char *why, size_t whylen)
{
	struct vec file = {0};

	memset(t, 0, sizeof(*t));
	if (read_file(path, &file) < 0) {
		snprintf(why, whylen, "cannot read trust store %s: %s", path,
		    file.oom ? "out of memory" : strerror(errno));
		free(file.p);
		return TS_ERR_TLS_NO_TRUST_STORE;
	}
	return parse_bundle(t, &file, path, note, arg, why, whylen);
}

int
ts_trust_parse(struct ts_trust *t, const void *pem, size_t len,
    const char *name, ts_tls_note_fn *note, void *arg, char *why,
    size_t whylen)
{
	struct vec file = {0};

	memset(t, 0, sizeof(*t));
	if (len > 0)
		vec_append(&file, pem, len);
	return parse_bundle(t, &file, name, note, arg, why, whylen);
}

/* ---- the connection ---- */

void
ts_conn_plain(struct ts_conn *c, int fd)
{
	c->fd = fd;
	c->tls = 0;
	c->err = 0;
	c->eof = 0;
	c->handshake_done = 1;
	c->resumed = 0;
	c->session = NULL;
	c->rlen = c->roff = c->wlen = 0;
	c->why[0] = '\0';
}

static int
is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/*
 * The client profile: what br_ssl_client_init_full() sets up, cut down
 * to what a TLS 1.2 client of a modern API needs, so a static binary
 * carries no code it never runs: ECDHE key exchange only, AEAD ciphers
 * only (ChaCha20-Poly1305 and AES-GCM, in init_full's order), RSA and
 * ECDSA certificates signed with SHA-2.  SHA-1 is refused in the chain
 * (issue 7: collisions for it are practical since 2017); a root's own
 * signature is never checked, so old roots still serve.  The engine
 * keeps SHA-1: TLS 1.2's signature_algorithms still offers it, last, for
 * the server's ECDHE signature (the PRF is SHA-256 or SHA-384).
 */
static void
client_profile(br_ssl_client_context *cc, br_x509_minimal_context *xc,
    const struct ts_trust *trust)
{
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	};
	static const br_hash_class *const hashes[] = {
		&br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
		&br_sha384_vtable, &br_sha512_vtable,
	};
	br_ssl_engine_context *eng = &cc->eng;
	size_t i;
	int id;

	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites,
	    sizeof(suites) / sizeof(suites[0]));
	br_x509_minimal_init(xc, &br_sha256_vtable, trust->ta, trust->n);
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		id = (int)((hashes[i]->desc >> BR_HASHDESC_ID_OFF) &
		    BR_HASHDESC_ID_MASK);
		br_ssl_engine_set_hash(eng, id, hashes[i]);
		if (id != br_sha1_ID)
			br_x509_minimal_set_hash(xc, id, hashes[i]);
	}
	br_x509_minimal_set_rsa(xc, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(xc, br_ec_get_default(),
	    br_ecdsa_vrfy_asn1_get_default());
	br_ssl_engine_set_x509(eng, &xc->vtable);
	br_ssl_client_set_default_rsapub(cc);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ecdsa(eng);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
}

int
ts_conn_tls(struct ts_conn *c, int fd, const char *host,
    const struct ts_trust *trust, struct ts_tls_session *session,
    const unsigned char seed[32])
{
	static const char *alpn[] = {"http/1.1"};
	br_ssl_engine_context *eng = &c->cc.eng;

	ts_conn_plain(c, fd);
	c->tls = 1;
	c->handshake_done = 0;
	c->session = session;
	snprintf(c->host, sizeof(c->host), "%s", host);
	/*
	 * SPEC §7.11: an IP literal is refused, never left unverified.
	 * BearSSL checks DNS names only, and RFC 6066 §3: "Literal IPv4 and
	 * IPv6 addresses are not permitted in "HostName"."
	 */
	if (is_ip_literal(host)) {
		c->err = TS_ERR_TLS_IP_LITERAL;
		snprintf(c->why, sizeof(c->why), "TLS to an IP address (%s) "
		    "is not supported: certificates are checked by host name",
		    host);
		return c->err;
	}
	client_profile(&c->cc, &c->xc, trust);
	br_ssl_engine_set_buffer(eng, c->iobuf, sizeof(c->iobuf), 1);
	br_ssl_engine_set_protocol_names(eng, alpn, 1);
	br_ssl_engine_inject_entropy(eng, seed, 32);
	if (session != NULL && session->valid &&
	    strcmp(session->host, host) == 0)
		br_ssl_engine_set_session_parameters(eng, &session->params);
	if (!br_ssl_client_reset(&c->cc, host, 1)) {
		c->err = TS_ERR_TLS_PROTOCOL;
		snprintf(c->why, sizeof(c->why), "TLS setup failed (BearSSL "
		    "error %d)", br_ssl_engine_last_error(eng));
		return c->err;
	}
	return 0;
}

static void
local_clock(char *out, size_t outlen)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "unknown");
}

/* Turn BearSSL's last error into our code and words. */
static int
tls_error(struct ts_conn *c, int brerr)
{
	char clock[32];

	switch (brerr) {
	case BR_ERR_X509_EXPIRED:
		local_clock(clock, sizeof(clock));
		snprintf(c->why, sizeof(c->why), "%s: certificate expired or "
		    "not yet valid (local clock: %s)", c->host, clock);
		return TS_ERR_TLS_EXPIRED;
	case BR_ERR_X509_BAD_SERVER_NAME:
		snprintf(c->why, sizeof(c->why), "certificate is for another "
		    "host (wanted %s)", c->host);
		return TS_ERR_TLS_HOSTNAME;
	case BR_ERR_X509_NOT_TRUSTED:
		snprintf(c->why, sizeof(c->why), "%s: certificate not signed "
		    "by a trusted authority", c->host);
		return TS_ERR_TLS_UNTRUSTED;
	case BR_ERR_X509_UNSUPPORTED:
		/* Mostly a SHA-1 signature: no SHA-1 in the X.509 engine. */
		snprintf(c->why, sizeof(c->why), "%s: certificate chain uses "
		    "an unsupported algorithm (SHA-1 signatures are refused)",
		    c->host);
		return TS_ERR_TLS_CERT_ALGORITHM;
	}
	if (brerr >= BR_ERR_RECV_FATAL_ALERT && brerr < BR_ERR_SEND_FATAL_ALERT)
		snprintf(c->why, sizeof(c->why), "%s: server sent TLS alert %d",
		    c->host, brerr - BR_ERR_RECV_FATAL_ALERT);
	else if (brerr >= BR_ERR_SEND_FATAL_ALERT)
		snprintf(c->why, sizeof(c->why), "%s: TLS failed, sent alert "
		    "%d", c->host, brerr - BR_ERR_SEND_FATAL_ALERT);
	else if (brerr >= BR_ERR_X509_OK)
		snprintf(c->why, sizeof(c->why), "%s: certificate rejected "
		    "(BearSSL X.509 error %d)", c->host, brerr);
	else
		snprintf(c->why, sizeof(c->why), "%s: TLS protocol error "
		    "(BearSSL error %d)", c->host, brerr);
	return TS_ERR_TLS_PROTOCOL;
}

static int
set_err(struct ts_conn *c, int err, const char *what, int errnum)
{
	if (c->err == 0) {
		c->err = err;
		snprintf(c->why, sizeof(c->why), "%s: %s", what,
		    strerror(errnum));
	}
	return c->err;
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
	c->resumed = s->valid && strcmp(s->host, c->host) == 0 &&
	    s->params.session_id_len == p.session_id_len &&
	    memcmp(s->params.session_id, p.session_id, p.session_id_len) == 0;
	s->params = p;
	snprintf(s->host, sizeof(s->host), "%s", c->host);
	s->valid = 1;
}

static void
handshake_closed(struct ts_conn *c)
{
	if (c->err != 0)
		return;
	c->err = TS_ERR_TLS_HANDSHAKE_CLOSED;
	snprintf(c->why, sizeof(c->why), "%s: server closed the connection "
	    "during the handshake", c->host);
}

/*
 * A socket error.  During the handshake a reset or a broken pipe is the
 * server closing the connection, which is what the user needs to hear.
 */
static int
sock_err(struct ts_conn *c, int errnum)
{
	if (!c->handshake_done && (errnum == EPIPE || errnum == ECONNRESET)) {
		c->eof = 1;
		handshake_closed(c);
		return c->err;
	}
	return set_err(c, TS_ERR_NET_IO, c->host, errnum);
}

static int
tls_io(struct ts_conn *c, int may_read)
{
	br_ssl_engine_context *eng = &c->cc.eng;
	unsigned st;
	unsigned char *buf;
	size_t len;
	ssize_t r;

	/* After the peer's close there is nothing left to move. */
	if (c->eof)
		return c->err;
	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED) {
			int e = br_ssl_engine_last_error(eng);

			if (e != BR_ERR_OK && c->err == 0)
				c->err = tls_error(c, e);
			else if (!c->handshake_done)
				handshake_closed(c);
			c->eof = 1;
			return c->err;
		}
		if (!c->handshake_done && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)))
			handshake_finished(c);
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			r = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (r > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)r);
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				return sock_err(c, errno);
		}
		if ((st & BR_SSL_RECVREC) && may_read) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			r = read(c->fd, buf, len);
			if (r > 0) {
				br_ssl_engine_recvrec_ack(eng, (size_t)r);
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0) {
				c->eof = 1;
				if (!c->handshake_done)
					handshake_closed(c);
				br_ssl_engine_close(eng);
				return c->err;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return sock_err(c, errno);
		}
		return 0;
	}
}

static int
plain_io(struct ts_conn *c, int may_read)
{
	unsigned char *rq = c->iobuf, *wq = c->iobuf + TS_CONN_PLAIN_BUFSIZE;
	ssize_t r;

	while (c->wlen > 0) {
		r = send(c->fd, wq, c->wlen, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0)
			return set_err(c, TS_ERR_NET_IO, "send", errno);
		memmove(wq, wq + r, c->wlen - (size_t)r);
		c->wlen -= (size_t)r;
	}
	if (c->roff > 0 && c->roff == c->rlen)
		c->roff = c->rlen = 0;
	while (may_read && !c->eof && c->rlen < TS_CONN_PLAIN_BUFSIZE) {
		r = read(c->fd, rq + c->rlen, TS_CONN_PLAIN_BUFSIZE - c->rlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0)
			return set_err(c, TS_ERR_NET_IO, "receive", errno);
		if (r == 0)
			c->eof = 1;
		c->rlen += (size_t)r;
	}
	return 0;
}

int
ts_conn_io(struct ts_conn *c, short revents)
{
	/* Read only when poll() said so: bytes read at any other time would
	 * sit in a buffer that no poll() wakes up for. */
	int may_read = (revents & (POLLIN | POLLHUP | POLLERR)) != 0;

	if (c->err)
		return c->err;
	if (c->fd < 0)
		return 0;
	return c->tls ? tls_io(c, may_read) : plain_io(c, may_read);
}

short
ts_conn_events(struct ts_conn *c)
{
	unsigned st;
	short ev = 0;

	if (c->err || c->fd < 0)
		return 0;
	if (!c->tls) {
		if (!c->eof && c->rlen < TS_CONN_PLAIN_BUFSIZE)
			ev |= POLLIN;
		if (c->wlen > 0)
			ev |= POLLOUT;
		return ev;
	}
	st = br_ssl_engine_current_state(&c->cc.eng);
	if ((st & BR_SSL_CLOSED) || c->eof)
		return 0;
	if (st & BR_SSL_RECVREC)
		ev |= POLLIN;
	if (st & BR_SSL_SENDREC)
		ev |= POLLOUT;
	return ev;
}

const unsigned char *
ts_conn_recv(struct ts_conn *c, size_t *len)
{
	if (c->tls) {
		if (c->err)
			return NULL;
		return br_ssl_engine_recvapp_buf(&c->cc.eng, len);
	}
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
	if (c->roff == c->rlen) {
		c->roff = c->rlen = 0;
	} else if (c->rlen == TS_CONN_PLAIN_BUFSIZE) {
		/*
		 * A full queue with a partial message left: move it to the
		 * front, or no room would ever open to receive the rest.
		 */
		memmove(c->iobuf, c->iobuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
}

unsigned char *
ts_conn_send(struct ts_conn *c, size_t *len)
{
	size_t cap = sizeof(c->iobuf) - TS_CONN_PLAIN_BUFSIZE;

	if (c->tls) {
		if (c->err)
			return NULL;
		return br_ssl_engine_sendapp_buf(&c->cc.eng, len);
	}
	*len = cap - c->wlen;
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

int
ts_conn_pending(struct ts_conn *c)
{
	size_t len = 0;

	if (!c->tls)
		return c->wlen > 0;
	if (br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_SENDREC)
		return br_ssl_engine_sendrec_buf(&c->cc.eng, &len) != NULL &&
		    len > 0;
	return 0;
}

void
ts_conn_close(struct ts_conn *c)
{
	if (c->fd < 0)
		return;
	if (c->tls && c->err == 0 && c->handshake_done) {
		/* Best effort close_notify: one non-blocking write. */
		br_ssl_engine_close(&c->cc.eng);
		tls_io(c, 0);
	}
	close(c->fd);
	c->fd = -1;
}
