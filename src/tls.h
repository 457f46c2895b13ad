/*
 * tls: the transport.  One interface over a connected socket, plain TCP
 * or TLS 1.2 through BearSSL's engine, so nothing above it knows which it
 * has; plus the trust store (PEM bundle -> BearSSL trust anchors) and
 * session resumption.
 *
 * The interface is BearSSL's own buf/ack shape, pumped by the caller's
 * poll() loop; it never blocks:
 *
 *	ts_conn_events()	what to poll the fd for
 *	ts_conn_io()		after poll(): move bytes between socket and
 *				buffers (reads/writes until EAGAIN)
 *	ts_conn_recv()/_ack()	received application bytes, zero-copy
 *	ts_conn_send()/_ack()	room for application bytes to send
 *	ts_conn_flush()		send what was queued now
 *
 * Memory: a struct ts_conn holds BearSSL's client context and one
 * bidirectional record buffer (about 33 KiB); nothing is allocated per
 * byte or per message.  Trust anchors are allocated once at load, one
 * block each (name and key) and the array; the bundle is read 4 KiB at
 * a time and never held whole.
 */
#ifndef TS_TLS_H
#define TS_TLS_H

#include <bearssl.h>	/* and with it size_t */

/* Called with one line of text for each certificate skipped at load. */
typedef void ts_tls_note_fn(void *arg, const char *msg);

struct ts_trust {
	br_x509_trust_anchor *ta;	/* owned; ts_trust_free() frees */
	size_t n;
};

/*
 * Trust store limits: the bundle's size (Debian's is 225 KB), checked as
 * it is read, so that --ca-file /dev/zero fails at once; a certificate's
 * subject name (Debian's longest is 213 bytes).
 */
#define TS_TRUST_MAX_FILE (4 << 20)
#define TS_TRUST_MAX_DN 1024

/*
 * Load every CERTIFICATE of a PEM bundle as a trust anchor (RSA and EC
 * keys; names and keys copied out of the decoder).  CRLF line ends, text
 * between the blocks and a missing final newline are fine.  Certificates
 * that BearSSL cannot decode, whose name is longer than TS_TRUST_MAX_DN,
 * or whose PEM is damaged or cut short, are skipped with a note (the
 * next one still loads).  Uses about 8 KiB of stack, and the heap only
 * for the anchors.  Returns 0, TS_ERR_TLS_NO_TRUST_STORE (cannot read
 * path), TS_ERR_TLS_TRUST_STORE_SIZE (more than TS_TRUST_MAX_FILE bytes)
 * or TS_ERR_TLS_TRUST_STORE (no usable certificate in it); why (at least
 * 256 bytes) says more.
 */
int
ts_trust_load(struct ts_trust *t, const char *path, ts_tls_note_fn *note,
    void *arg, char *why, size_t whylen);

/*
 * ts_trust_parse: the same from a bundle already in memory (len bytes at
 * pem, not changed; name stands for the file in notes and in why),
 * through the same reader: the same anchors, notes and errors (not
 * TS_ERR_TLS_NO_TRUST_STORE).  What the fuzz target drives.
 */
int
ts_trust_parse(struct ts_trust *t, const void *pem, size_t len,
    const char *name, ts_tls_note_fn *note, void *arg, char *why,
    size_t whylen);

void
ts_trust_free(struct ts_trust *t);

/*
 * The first system CA bundle that exists (Debian/Ubuntu, RHEL/Fedora,
 * Alpine/BSD, SUSE paths), or NULL.  The string is static.
 */
const char *
ts_trust_default_path(void);

/*
 * Session parameters kept between connections to one host, so that a
 * reconnect can resume (BearSSL resumes by session ID).  Caller-owned;
 * zero it once before first use.
 */
struct ts_tls_session {
	char host[256];		/* "" until a handshake with a host set it */
	br_ssl_session_parameters params;
};

#define TS_CONN_PLAIN_BUFSIZE 16384

struct ts_conn {
	int fd;
	int tls;
	int err;		/* sticky; 0 while healthy */
	int eof;		/* the peer closed its side */
	int truncated;		/* TLS: by a FIN without close_notify */
	int handshake_done;
	int resumed;		/* this TLS handshake resumed a session */
	struct ts_tls_session *session;
	char host[256];
	char why[512];		/* err in words, with details */
	/* plain mode: receive and send queues inside iobuf */
	size_t rlen, roff, wlen;
	/* BearSSL's, last: ts_conn_plain() zeroes everything above */
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* Take over a connected non-blocking socket without TLS. */
void
ts_conn_plain(struct ts_conn *c, int fd);

/*
 * Take over a connected non-blocking socket and start a TLS client
 * handshake for host (SNI and certificate name check).  trust must
 * outlive the connection; session may be NULL, else it is offered only
 * to the host it was made with, and updated after the handshake.  The
 * engine is seeded with 32 bytes of ts_random().  Returns 0 or a negative
 * error (why set): TS_ERR_TLS_PROTOCOL when the OS gives no randomness,
 * TS_ERR_TLS_IP_LITERAL for an IPv4 or IPv6 literal (SPEC §7.11: never
 * sent as SNI, never left unverified).  Either way the socket now belongs
 * to c (ts_conn_close() closes it).
 */
int
ts_conn_tls(struct ts_conn *c, int fd, const char *host,
    const struct ts_trust *trust, struct ts_tls_session *session);

/* POLLIN and/or POLLOUT wanted now (0 when failed, or TLS after eof). */
short
ts_conn_events(struct ts_conn *c);

/*
 * Move bytes between the socket and the buffers.  Returns 0, or the
 * sticky error (TLS failures mapped to TS_ERR_TLS_*, socket errors to
 * TS_ERR_NET_IO) with c->why set.  A peer close sets c->eof, not an
 * error, unless it happens during the TLS handshake (a close, a reset or
 * a broken pipe then is TS_ERR_TLS_HANDSHAKE_CLOSED).  Writes use
 * MSG_NOSIGNAL: a vanished peer never raises SIGPIPE.  It reads only
 * when revents (poll()'s answer) holds POLLIN, POLLHUP or POLLERR, so
 * that nothing lands in a buffer poll() cannot see; it always writes
 * what is queued (revents 0: write only).
 */
int
ts_conn_io(struct ts_conn *c, short revents);

/*
 * Received application bytes (NULL when none), valid until the ack.  A
 * reader may ack fewer than *len and wait for more: room is made.
 */
const unsigned char *
ts_conn_recv(struct ts_conn *c, size_t *len);

void
ts_conn_recv_ack(struct ts_conn *c, size_t n);

/* Room for application bytes to send (NULL when none right now). */
unsigned char *
ts_conn_send(struct ts_conn *c, size_t *len);

void
ts_conn_send_ack(struct ts_conn *c, size_t n);

/* Push queued application bytes to the record layer now. */
void
ts_conn_flush(struct ts_conn *c);

/* Send close_notify if possible, then close the socket.  Idempotent. */
void
ts_conn_close(struct ts_conn *c);

/* Fill buf with n bytes from getrandom(2), else /dev/urandom.  0 or -1. */
int
ts_random(void *buf, size_t n);

#endif /* TS_TLS_H */
