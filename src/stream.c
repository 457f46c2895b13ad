/*
 * stream: the stream link's role (client.h): the WebSocket upgrade
 * (RFC 6455 §4.1: our key, the server's accept checked), frames into
 * messages into rounds for the ledger, pongs and close answers, our own
 * pings after a heartbeat of silence, the drop after two, and the close
 * handshake.  The frames themselves are ws.c's.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <time.h>

#include "client.h"

/* ---- the stream role: WebSocket ---- */

/* Send a control frame of ours (ping, close); best effort. */
static void
send_ws(struct ts_client *c, int opcode, int code)
{
	struct ts_exchange *x = &c->stream.x;
	unsigned char mask[4], *buf;
	size_t avail;
	int n;

	if (!x->conn_live || (buf = ts_conn_send(x->conn, &avail)) == NULL)
		return;
	ts_random(mask, sizeof(mask));
	if (opcode == TS_WS_OP_CLOSE)
		n = ts_ws_close(&c->ws, buf, avail, code, mask);
	else
		n = ts_ws_send(&c->ws, buf, avail, opcode, "", 0, mask);
	if (n > 0) {
		ts_conn_send_ack(x->conn, (size_t)n);
		ts_exchange_flush(x);
	}
}

/* Write pending replies (pong, close answer) if they fit. */
static void
send_ws_replies(struct ts_client *c)
{
	struct ts_exchange *x = &c->stream.x;
	unsigned char mask[4], *buf;
	size_t avail;
	int n;

	while (x->conn_live && ts_ws_want_write(&c->ws)) {
		buf = ts_conn_send(x->conn, &avail);
		if (buf == NULL || avail < TS_WS_CONTROL_FRAME_MAX)
			return;
		ts_random(mask, sizeof(mask));
		n = ts_ws_pending(&c->ws, buf, avail, mask);
		if (n <= 0)
			return;
		ts_conn_send_ack(x->conn, (size_t)n);
		ts_exchange_flush(x);
	}
}

static int
stream_request(void *arg, struct ts_http_req *req)
{
	struct ts_client *c = arg;
	unsigned char nonce[16];

	if (ts_random(nonce, sizeof(nonce)) < 0)
		return TS_ERR_TLS_PROTOCOL;
	ts_ws_key(c->ws_key, nonce);
	ts_ws_hs_init(&c->hs, c->ws_key);
	req->ws_key = c->ws_key;
	return 0;
}

static void
stream_header(void *arg, const struct ts_http *h)
{
	struct ts_client *c = arg;

	ts_ws_hs_header(&c->hs, h->name, h->name_len, h->value, h->value_len);
}

/* The upgrade's answer: check it, and the stream is open. */
static int
stream_head(void *arg, struct ts_exchange *x)
{
	struct ts_client *c = arg;
	int rc = ts_ws_hs_finish(&c->hs, x->status);

	if (rc < 0)
		return rc;
	ts_ws_init(&c->ws);
	c->ws.max_message = c->cfg.max_message;
	ts_round_init(&c->live, c->live_buf, c->round_buflen,
	    TS_ROUND_MESSAGE);
	c->last_rx = c->opened_at = c->now;
	c->live_bad = c->ping_sent = c->closing = c->draining = 0;
	ts_client_log(c, TS_LOG_INFO, "stream: connected to %s%s", x->url.host,
	    !x->url.tls ? "" : x->conn->resumed ? " (TLS, resumed)" : " (TLS)");
	/* A game named by --games with no cursor resumes from the time of
	 * the subscription (the server's Date, else our clock). */
	ts_ledger_floor(c->led, c->cfg.games, x->date > 0 ? x->date :
	    (int64_t)time(NULL));
	if (ts_ledger_connected(c->led, c->cfg.games) > 0 &&
	    !c->backfilling) {
		c->backfilling = 1;
		c->bf_started = c->now;
	}
	return 1;
}

static int
message_end(struct ts_client *c)
{
	int rc, ev;

	if (c->ws.msg_opcode != TS_WS_OP_TEXT)
		ts_client_log(c, TS_LOG_DEBUG, "stream: binary message skipped");
	if (c->ws.msg_opcode != TS_WS_OP_TEXT || c->live_bad)
		goto next;
	rc = ts_round_finish(&c->live);
	while ((ev = ts_round_event(&c->live)) > 0) {
		if (ev != TS_ROUND_EV_ROUND)
			continue;
		if (!ts_round_finalized(&c->live.round))
			ts_client_log(c, TS_LOG_DEBUG, "round %.*s not finalized: "
			    "skipped", (int)c->live.round.round_id.len,
			    c->live.round.round_id.ptr);
		else if (ts_ledger_live(c->led, &c->live.round) < 0)
			return -1;
	}
	if (rc < 0 || ev < 0)
		ts_client_log(c, TS_LOG_DEBUG, "stream: message skipped: %s",
		    ts_strerror(rc < 0 ? rc : ev));
next:
	c->live_bad = 0;
	ts_round_init(&c->live, c->live_buf, c->round_buflen,
	    TS_ROUND_MESSAGE);
	return 0;
}

static void
message_data(struct ts_client *c, const unsigned char *p, size_t n)
{
	size_t k;
	int ev;

	if (c->ws.msg_opcode != TS_WS_OP_TEXT || c->live_bad)
		return;
	while (n > 0) {
		k = ts_round_push(&c->live, p, n);
		p += k;
		n -= k;
		ev = ts_round_event(&c->live);
		if (ev < 0) {
			ts_client_log(c, TS_LOG_DEBUG, "stream: message skipped: %s",
			    ts_strerror(ev));
			c->live_bad = 1;
			return;
		}
		if (k == 0 && ev == 0)
			return;
	}
}

/* The server's close frame: answered; the stream ends. */
static int
ws_closed(struct ts_client *c)
{
	char reason[200];

	send_ws_replies(c);
	if (c->closing)
		return ts_exchange_fail(&c->stream.x, TS_ERR_WS_CLOSED,
		    "closed");
	ts_client_quote(c, reason, sizeof(reason), (const char *)c->ws.ctl,
	    c->ws.ctl_len);
	return ts_exchange_fail(&c->stream.x, TS_ERR_WS_CLOSED, "server "
	    "closed the stream with %d %s", c->ws.close_code, reason);
}

/* Frames from the server: every byte taken until the stream ends. */
static long
stream_data(void *arg, const unsigned char *p, size_t n)
{
	struct ts_client *c = arg;
	size_t k, off = 0;
	int ev, code;

	if (c->draining)
		return (long)n;
	c->last_rx = c->now;
	c->ping_sent = 0;
	while (off < n) {
		k = ts_ws_push(&c->ws, p + off, n - off);
		off += k;
		while ((ev = ts_ws_event(&c->ws)) > 0) {
			if (ev == TS_WS_EV_DATA)
				message_data(c, c->ws.data, c->ws.data_len);
			else if (ev == TS_WS_EV_MESSAGE &&
			    message_end(c) < 0)
				return c->fatal;
			else if (ev == TS_WS_EV_CLOSE)
				return ws_closed(c);
		}
		if (ev < 0) {
			code = c->ws.fail_code;	/* 1002, 1007, 1009 */
			send_ws(c, TS_WS_OP_CLOSE, code);
			ts_exchange_fail(&c->stream.x, ev, "%s (closing with "
			    "%d)", ts_strerror(ev), code);
			c->draining = ev;
			c->closing = 1;
			c->close_by = c->now + CLOSING_MS;
			return (long)n;
		}
		if (k == 0)
			break;
	}
	send_ws_replies(c);
	return (long)off;
}

static int
stream_eof(void *arg)
{
	struct ts_client *c = arg;

	if (c->draining)
		return c->draining;	/* the failure, in why already */
	return ts_exchange_fail(&c->stream.x, TS_ERR_NET_CLOSED,
	    "server closed the connection");
}

const struct ts_exchange_role ts_stream_role = {
	stream_request, stream_header, stream_head, NULL, NULL, stream_data,
	stream_eof, ts_client_log_line
};

/* The stream is gone (or failed to come up): reconnect later. */
static void
stream_down(struct ts_client *c, const char *reason)
{
	struct link *l = &c->stream;

	ts_exchange_close(&l->x);
	c->closing = 0;
	c->draining = 0;
	if (ts_ledger_disconnected(c->led) < 0)
		return;
	if (c->stopping)
		l->waiting = 0;
	else
		ts_client_retry(c, l, -1, reason);
}

int
ts_stream_step(struct ts_client *c, const struct pollfd *pfd, int n)
{
	struct link *l = &c->stream;
	int64_t hb = c->hb_ms;
	int rc;

	if (l->waiting && c->now >= l->wake) {
		l->waiting = 0;
		if (c->stopping)
			return 0;
		ts_client_log(c, TS_LOG_DEBUG, "stream: connecting to %s port %u",
		    l->url.host, l->url.port);
		if (ts_exchange_start(&l->x, &l->url, c->cfg.key, 101,
		    c->connect_ms, 0) < 0)
			stream_down(c, l->x.why);
	}
	/* An idle exchange's step is 0; c->fatal: only stream_down (the
	 * hold's output) can have set it then. */
	rc = ts_exchange_step(&l->x, pfd, n, c->now);
	if (c->fatal)
		return -1;
	if (rc == 1)
		return ts_client_refused(c, l) < 0 ? -1 : 0;
	if (rc < 0)
		stream_down(c, l->x.why);	/* IDLE now */
	if (l->x.phase != TS_EXCHANGE_OPEN)
		return c->fatal ? -1 : 0;
	if (c->now - c->opened_at >= HEALTHY_MS)
		l->attempt = 0;
	if (c->draining && c->now >= c->close_by) {
		stream_down(c, l->x.why);
	} else if (c->closing && c->now >= c->close_by) {
		stream_down(c, "no close frame from the server in time");
	} else if (!c->closing && c->now - c->last_rx >= 2 * hb) {
		char why[96];

		snprintf(why, sizeof(why), "no frame for %g s (2 x heartbeat)",
		    2 * c->cfg.heartbeat);
		send_ws(c, TS_WS_OP_CLOSE, 1001);
		stream_down(c, why);
	} else if (!c->closing && c->now - c->last_rx >= hb &&
	    !c->ping_sent) {
		send_ws(c, TS_WS_OP_PING, 0);
		c->ping_sent = 1;
	}
	return c->fatal ? -1 : 0;
}

void
ts_stream_stop(struct ts_client *c)
{
	if (c->stream.x.phase == TS_EXCHANGE_OPEN) {
		if (!c->closing) {
			send_ws(c, TS_WS_OP_CLOSE, 1000);
			c->closing = 1;
			c->close_by = c->now + CLOSING_MS;
		}
	} else {
		ts_exchange_close(&c->stream.x);
		c->stream.waiting = 0;
	}
}
