/*
 * exchange: one HTTP(S) exchange, the part the stream and the REST link
 * share: name lookup, connect race, TLS, request, response head, then a
 * body or an upgrade (RFC 6455 §4.1: our key, the server's accept
 * checked).  What differs between the two is in hooks (the role);
 * nothing here asks which link it is, only which status it wants.
 *
 * Phases: IDLE -> CONNECT (race) -> HEAD (TLS, request, response head)
 * -> BODY -> IDLE (done), or HEAD -> OPEN (upgraded: the role's own
 * protocol).
 *
 * One pump: after poll() the transport moves bytes only as poll() said
 * it may (reads need POLLIN), then every byte received is pushed to the
 * parser and every event drained, until the parser takes no more.  The
 * poll() events are the transport's wants alone.  The deadline (HEAD
 * and BODY) is progress: it moves when the parser consumes bytes, not
 * when they arrive.  The end of the connection with bytes left that the
 * parser will not take is an error that says so.
 */
#ifndef TS_EXCHANGE_H
#define TS_EXCHANGE_H

#include <poll.h>
#include <stdint.h>

#include "http.h"
#include "net.h"
#include "tls.h"
#include "url.h"
#include "ws.h"

/* Bytes of a refusal's body kept, as received: a log line shows 200 of
 * them, and a key the server echoes near the cut is still seen whole. */
#define TS_EXCHANGE_ERRBODY_MAX 4608

enum ts_exchange_phase {
	TS_EXCHANGE_IDLE,
	TS_EXCHANGE_CONNECT,
	TS_EXCHANGE_HEAD,
	TS_EXCHANGE_BODY,
	TS_EXCHANGE_OPEN
};

struct ts_exchange;

/*
 * The role.  Each hook returns 0 or a negative error, which ends the
 * exchange (x->why says what failed; the hook may set it with
 * ts_exchange_fail, else ts_strerror is used).
 */
struct ts_exchange_role {
	/* The head of a response with the wanted status arrived (a 101's
	 * handshake checked): 0 to read its body, 1 to take the connection
	 * over (an upgrade). */
	int (*head)(void *arg, struct ts_exchange *x);
	/* Body bytes of a wanted response; all of them are taken. */
	int (*body)(void *arg, const char *p, size_t n);
	/* The wanted response is complete: the connection is closed. */
	int (*done)(void *arg);
	/* After an upgrade: bytes of the new protocol.  Returns how many it
	 * took (< n only when it will take no more), or a negative error. */
	long (*data)(void *arg, const unsigned char *p, size_t n);
	/* After an upgrade: the server closed the connection. */
	int (*eof)(void *arg);
	/* A log line (enum ts_log_level), e.g. each address tried. */
	void (*log)(void *arg, int level, const char *line);
};

struct ts_exchange {
	const char *name;		/* "stream", "rest": for log lines */
	int phase;
	int wanted;			/* status the role reads: 101, 200 */
	struct ts_url url;
	const char *key;		/* bearer */
	int timeout_ms;
	struct ts_net net;
	struct ts_conn *conn;		/* the caller's, reused */
	int conn_live;
	const struct ts_trust *trust;
	struct ts_tls_session session;
	struct ts_http http;
	char hbuf[TS_HTTP_BUFSIZE];
	char req[TS_HTTP_REQUEST_BUFSIZE];
	size_t req_len, req_off;
	int64_t deadline;		/* HEAD, BODY */
	struct ts_ws_hs hs;		/* a wanted 101: the upgrade's check */
	const struct ts_exchange_role *role;
	void *arg;

	/* The response, once its head came: ts_exchange_start() zeroes
	 * everything from here on. */
	int status;			/* 0 before */
	char reason[64];		/* its reason phrase, as received */
	size_t reason_len;
	int64_t date;			/* its Date, 0 if none */
	char errbody[TS_EXCHANGE_ERRBODY_MAX];	/* as received */
	size_t errbody_len;
	int refused;			/* status not the wanted one */
	char why[320];			/* the failure in words */
};

/*
 * Set x up once: name, the connection buffer (the caller's, reused by
 * every attempt), the trust anchors (for https), the role and its arg.
 */
void
ts_exchange_init(struct ts_exchange *x, const char *name,
    struct ts_conn *conn, const struct ts_trust *trust,
    const struct ts_exchange_role *role, void *arg);

/*
 * Start an attempt: resolve url->host (blocks in getaddrinfo), then
 * start the connect race on a clock read after the lookup.  reuse: race
 * the addresses of x's last lookup instead, if it found any (the same
 * host: a backfill's later pages), so that only a backfill's first page
 * blocks.  The request (GET url->target with key as bearer) is written
 * once connected.  wanted: the status the role takes (a 101 wanted means
 * an upgrade; a wanted 200 takes any 2xx).  Returns 0, or a negative
 * error with x->why set (the exchange is then IDLE).
 */
int
ts_exchange_start(struct ts_exchange *x, const struct ts_url *url,
    const char *key, int wanted, int timeout_ms, int reuse);

/* The poll() slots of x (its racing sockets or its connection). */
int
ts_exchange_pollfds(const struct ts_exchange *x, struct pollfd *pfd,
    int max);

/* When x must be stepped at the latest (INT64_MAX: no deadline). */
int64_t
ts_exchange_next(const struct ts_exchange *x, int64_t now);

/*
 * Advance x after poll().  Returns 0 while it goes on, once it is OPEN
 * or once a wanted response is done (x is closed and IDLE), 1 when a
 * response with an unwanted status was read whole (x->refused, status,
 * reason, errbody, http.retry_after; x is closed and IDLE), or a
 * negative error: x->why says what, and x is closed and IDLE.
 */
int
ts_exchange_step(struct ts_exchange *x, const struct pollfd *pfd, int n,
    int64_t now);

/* Bytes the role queued on x->conn (ts_conn_send, _ack) while x is
 * connected: write what the socket takes now, without reading. */
void
ts_exchange_flush(struct ts_exchange *x);

/* Set x->why from a format (for hooks); returns err. */
int
ts_exchange_fail(struct ts_exchange *x, int err, const char *fmt, ...);

/* Close the connection or the race; x becomes IDLE.  Idempotent. */
void
ts_exchange_close(struct ts_exchange *x);

#endif /* TS_EXCHANGE_H */
