/*
 * exchange: one HTTP(S) exchange for either link (model in exchange.h):
 * RFC 9112 for the response (through http.c), RFC 8305 for the connect
 * race (net.c), TLS through tls.c.  The role decides what a wanted
 * response's body or upgrade means; a refusal (any other status) is read
 * here, its body kept short and printable for the log line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tsino.h"
#include "base.h"
#include "exchange.h"

void
ts_exchange_init(struct ts_exchange *x, const char *name,
    struct ts_conn *conn, const struct ts_trust *trust,
    const struct ts_exchange_role *role, void *arg)
{
	memset(x, 0, sizeof(*x));
	x->name = name;
	x->conn = conn;
	x->trust = trust;
	x->role = role;
	x->arg = arg;
}

int
ts_exchange_fail(struct ts_exchange *x, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
	return err;
}

void
ts_exchange_close(struct ts_exchange *x)
{
	ts_wipe(x->req, x->req_len);	/* it holds the key */
	x->req_len = x->req_off = 0;
	ts_net_abort(&x->net);	/* safe in any phase */
	if (x->conn_live)
		ts_conn_close(x->conn);
	x->conn_live = 0;
	x->phase = TS_EXCHANGE_IDLE;
}

/* A failure: close, and keep the first words given for it. */
static int
failed(struct ts_exchange *x, int err, const char *what)
{
	if (x->why[0] == '\0')
		snprintf(x->why, sizeof(x->why), "%.300s", what);
	ts_exchange_close(x);
	return err;
}

static void
net_note(void *arg, const char *line)
{
	struct ts_exchange *x = arg;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s", x->name, line);
	x->role->log(x->arg, TS_LOG_DEBUG, msg);
}

int
ts_exchange_start(struct ts_exchange *x, const struct ts_url *url,
    const char *key, int wanted, int timeout_ms, int reuse)
{
	int rc;

	ts_exchange_close(x);
	x->url = *url;
	x->key = key;
	x->wanted = wanted;
	x->timeout_ms = timeout_ms;
	memset(&x->status, 0, sizeof(*x) - offsetof(struct ts_exchange,
	    status));
	x->net.note = x->role->log != NULL ? net_note : NULL;
	x->net.note_arg = x;
	rc = reuse && x->net.naddr > 0 ? 0 :
	    ts_net_resolve(&x->net, x->url.host, x->url.port);
	if (rc < 0)
		return failed(x, rc, x->net.why);
	/* getaddrinfo blocks: the race and its budget start after it. */
	ts_net_start(&x->net, ts_net_now(), timeout_ms);
	x->phase = TS_EXCHANGE_CONNECT;
	return 0;
}

/* TCP is up: wrap it, write the request, wait for the response head. */
static int
connected(struct ts_exchange *x, int fd)
{
	struct ts_http_req req = { .host = x->url.host, .port = x->url.port,
	    .tls = x->url.tls, .target = x->url.target, .bearer = x->key };
	unsigned char nonce[16];
	char ws_key[25];
	int rc;

	x->conn_live = 1;
	if (!x->url.tls)
		ts_conn_plain(x->conn, fd);
	else if ((rc = ts_conn_tls(x->conn, fd, x->url.host, x->trust,
	    &x->session)) < 0)
		return failed(x, rc, x->conn->why);
	/* An upgrade: our key, and the accept it asks for (RFC 6455 §4.1). */
	if (x->wanted == 101) {
		if (ts_random(nonce, sizeof(nonce)) < 0)
			return failed(x, TS_ERR_TLS_PROTOCOL,
			    ts_strerror(TS_ERR_TLS_PROTOCOL));
		ts_ws_key(ws_key, nonce);
		ts_ws_hs_init(&x->hs, ws_key);
		req.ws_key = ws_key;
	}
	rc = ts_http_request(x->req, sizeof(x->req), &req);
	if (rc < 0)
		return failed(x, rc, "cannot write the request");
	x->req_len = (size_t)rc;	/* req_off is 0 since the close */
	ts_http_init(&x->http, x->hbuf, sizeof(x->hbuf));
	x->phase = TS_EXCHANGE_HEAD;
	return 0;
}

/* Queue as much of the request as the transport takes now. */
static void
send_request(struct ts_exchange *x)
{
	unsigned char *buf;
	size_t avail, n;

	while (x->req_off < x->req_len) {
		buf = ts_conn_send(x->conn, &avail);
		if (buf == NULL || avail == 0)
			break;
		n = x->req_len - x->req_off;
		if (n > avail)
			n = avail;
		memcpy(buf, x->req + x->req_off, n);
		ts_conn_send_ack(x->conn, n);
		x->req_off += n;
	}
	ts_exchange_flush(x);
	/* Handed to the transport whole: the key need not stay here. */
	if (x->req_off == x->req_len)
		ts_wipe(x->req, x->req_len);
}

void
ts_exchange_flush(struct ts_exchange *x)
{
	ts_conn_flush(x->conn);
	ts_conn_io(x->conn, 0);
}

/* The head is complete: the role's, a refusal's body, or an upgrade.
 * A wanted 101 takes only a 101, a wanted 200 any 2xx. */
static int
head_done(struct ts_exchange *x)
{
	int rc;

	x->refused = x->wanted == 101 ? x->status != 101 :
	    x->status / 100 != 2;
	if (x->refused && x->status == 101)
		return ts_exchange_fail(x, TS_ERR_HTTP_STATUS_LINE,
		    "unexpected 101 (upgrade) to a plain request");
	rc = 0;
	if (!x->refused && x->wanted == 101)
		rc = ts_ws_hs_finish(&x->hs, x->status);
	if (!x->refused && rc == 0)
		rc = x->role->head(x->arg, x);
	if (rc < 0)
		return rc;
	x->phase = rc == 1 ? TS_EXCHANGE_OPEN : TS_EXCHANGE_BODY;
	return 0;
}

/* Every pending event of the response parser; 1 once it is complete. */
static int
drain(struct ts_exchange *x)
{
	struct ts_http *h = &x->http;
	size_t n;
	int ev, rc;

	while (x->phase == TS_EXCHANGE_HEAD || x->phase == TS_EXCHANGE_BODY) {
		ev = ts_http_event(h);
		if (ev <= 0)
			return ev;
		rc = 0;
		switch (ev) {
		case TS_HTTP_EV_STATUS:
			x->status = h->status;
			x->reason_len = h->reason_len < sizeof(x->reason) ?
			    h->reason_len : sizeof(x->reason);
			memcpy(x->reason, h->reason, x->reason_len);
			break;
		case TS_HTTP_EV_HEADER:
			if (ts_iequal(h->name, h->name_len, "date") &&
			    ts_http_date(h->value, h->value_len, &x->date) < 0)
				x->date = 0;
			if (x->wanted == 101)
				ts_ws_hs_header(&x->hs, h->name, h->name_len,
				    h->value, h->value_len);
			break;
		case TS_HTTP_EV_HEADERS_END:
			rc = head_done(x);
			break;
		case TS_HTTP_EV_BODY:
			if (!x->refused) {
				rc = x->role->body(x->arg, h->data,
				    h->data_len);
				break;
			}
			/* A refusal's: its start is kept for the log line (the
			 * client escapes it there). */
			n = TS_EXCHANGE_ERRBODY_MAX - x->errbody_len;
			n = h->data_len < n ? h->data_len : n;
			memcpy(x->errbody + x->errbody_len, h->data, n);
			x->errbody_len += n;
			break;
		case TS_HTTP_EV_END:
			ts_exchange_close(x);	/* IDLE: done */
			if (x->refused)
				return 1;
			rc = x->role->done(x->arg);
			break;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The server closed its side: the end of a body, or a cut. */
static int
at_eof(struct ts_exchange *x)
{
	size_t left = 0;
	int rc;

	if (ts_conn_recv(x->conn, &left) != NULL && left > 0)
		return ts_exchange_fail(x, TS_ERR_NET_CLOSED, "connection "
		    "closed with %zu bytes received that %s", left,
		    x->phase == TS_EXCHANGE_OPEN ? "the stream did not take" :
		    "are not part of the response");
	if (x->phase == TS_EXCHANGE_OPEN)
		return x->role->eof(x->arg);
	/* A body the close ends is whole only if TLS said so: a FIN alone
	 * may be an attacker's cut (RFC 8446 §6.1).  A refusal's words
	 * still count. */
	if (x->phase == TS_EXCHANGE_BODY && x->conn->truncated &&
	    x->status / 100 == 2)
		return ts_exchange_fail(x, TS_ERR_TLS_TRUNCATED, "connection "
		    "closed without TLS close_notify: the body may be cut "
		    "short");
	rc = ts_http_eof(&x->http);
	if (rc == 0)
		rc = drain(x);
	if (rc < 0 || x->phase != TS_EXCHANGE_IDLE)
		return ts_exchange_fail(x, rc < 0 ? rc : TS_ERR_NET_CLOSED,
		    x->status ? "connection closed in the middle of a "
		    "response" : "connection closed before any response");
	return rc;
}

/*
 * The pump: push what was received to the response parser, or once
 * upgraded (maybe by the previous push) to the role, until it takes no
 * more; then the transport's error or end, if connected still.  While
 * connected the phase is HEAD, BODY or OPEN.
 */
static int
pump(struct ts_exchange *x, int64_t now)
{
	const unsigned char *data;
	size_t len;
	long used;
	int rc;

	while (x->conn_live &&
	    (data = ts_conn_recv(x->conn, &len)) != NULL && len > 0) {
		if (x->phase == TS_EXCHANGE_OPEN) {
			used = x->role->data(x->arg, data, len);
			if (used < 0)
				return (int)used;
		} else {
			used = (long)ts_http_push(&x->http, data, len);
			if ((rc = drain(x)) < 0)
				return rc;
		}
		if (!x->conn_live)
			return x->refused;	/* closed at its end */
		ts_conn_recv_ack(x->conn, (size_t)used);
		if (used == 0)
			break;
		if (x->phase != TS_EXCHANGE_OPEN)
			x->deadline = now + x->timeout_ms;
	}
	if (x->conn->err)
		return ts_exchange_fail(x, x->conn->err, "%.300s",
		    x->conn->why);
	return x->conn->eof ? at_eof(x) : 0;
}

int
ts_exchange_step(struct ts_exchange *x, const struct pollfd *pfd, int n,
    int64_t now)
{
	short rev = 0;
	int rc, i;

	if (x->phase == TS_EXCHANGE_CONNECT) {
		rc = ts_net_step(&x->net, pfd, n, now);
		if (rc < 0)
			return failed(x, rc, x->net.why);
		if (rc == 0)
			return 0;
		x->deadline = now + x->timeout_ms;
		rc = connected(x, x->net.fd);
		if (rc < 0)
			return rc;
	} else if (x->conn_live) {
		for (i = 0; i < n; i++)
			if (pfd[i].fd == x->conn->fd)
				rev = pfd[i].revents;
	} else {
		return 0;
	}
	/* Move bytes as poll() allows, then pump. */
	ts_conn_io(x->conn, rev);
	if (x->phase == TS_EXCHANGE_HEAD && x->req_off < x->req_len)
		send_request(x);
	rc = pump(x, now);
	if (rc < 0)
		return failed(x, rc, ts_strerror(rc));
	if (rc == 1)
		return 1;	/* a refusal read whole: closed at its end */
	if ((x->phase == TS_EXCHANGE_HEAD || x->phase == TS_EXCHANGE_BODY) &&
	    now >= x->deadline) {
		ts_exchange_close(x);
		return ts_exchange_fail(x, TS_ERR_NET_TIMEOUT,
		    "no response within %g s", x->timeout_ms / 1000.0);
	}
	return 0;
}

int
ts_exchange_pollfds(const struct ts_exchange *x, struct pollfd *pfd,
    int max)
{
	if (x->phase == TS_EXCHANGE_CONNECT)
		return ts_net_pollfds(&x->net, pfd, max);
	if (!x->conn_live || max < 1)
		return 0;
	pfd[0].fd = x->conn->fd;
	pfd[0].events = ts_conn_events(x->conn);
	pfd[0].revents = 0;
	return 1;
}

int64_t
ts_exchange_next(const struct ts_exchange *x, int64_t now)
{
	if (x->phase == TS_EXCHANGE_CONNECT)
		return now + ts_net_timeout(&x->net, now);
	if (x->phase == TS_EXCHANGE_HEAD || x->phase == TS_EXCHANGE_BODY)
		return x->deadline;
	return INT64_MAX;
}
