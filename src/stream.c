/*
 * stream: the stream link's role (client.h): once the WebSocket upgrade
 * came (exchange.c sends our key and checks the accept), frames into
 * messages into rounds for the ledger, pongs and close answers, our own
 * pings after a heartbeat of silence, the drop after two, and the close
 * handshake.  The frames themselves are ws.c's.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <time.h>

#include "client.h"

/* ---- the stream role: WebSocket ---- */

/*
 * Send our ping or close (code), or, opcode 0, the reply ws.c has
 * pending (a pong, the answer to the server's close, the close after a
 * failure: one frame at most); best effort.
 */
static void
send_ws(struct ts_client *c, int opcode, int code)
{
	struct ts_exchange *x = &c->stream.x;
	unsigned char mask[4], *buf;
	size_t avail;
	int n;

	if ((opcode == 0 && !ts_ws_want_write(&c->ws)) || !x->conn_live ||
	    (buf = ts_conn_send(x->conn, &avail)) == NULL)
		return;
	ts_random(mask, sizeof(mask));
	if (opcode == TS_WS_OP_CLOSE)
		n = ts_ws_close(&c->ws, buf, avail, code, mask);
	else if (opcode == TS_WS_OP_PING)
		n = ts_ws_send(&c->ws, buf, avail, opcode, "", 0, mask);
	else
		n = ts_ws_pending(&c->ws, buf, avail, mask);
	if (n > 0) {
		ts_conn_send_ack(x->conn, (size_t)n);
		ts_exchange_flush(x);
	}
}

/* The upgrade came (its handshake checked): the stream is open. */
static int
stream_head(void *arg, struct ts_exchange *x)
{
	struct ts_client *c = arg;

	ts_ws_init(&c->ws);
	c->ws.max_message = c->cfg.max_message;
	ts_round_init(&c->live, c->live_buf, c->round_buflen,
	    TS_ROUND_MESSAGE);
	c->last_rx = c->opened_at = c->now;
	c->ping_sent = c->closing = c->draining = 0;
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

/*
 * A message is whole: its round (text only) into the ledger.  A round
 * reader's error is sticky: one found while the data came (message_data
 * pushes no further then) is told here, once.
 */
static int
message_end(struct ts_client *c)
{
	int rc = 0, ev;

	if (c->ws.msg_opcode != TS_WS_OP_TEXT)
		ts_client_log(c, TS_LOG_DEBUG,
		    "stream: binary message skipped");
	else
		rc = ts_round_finish(&c->live);
	while ((ev = ts_round_event(&c->live)) > 0) {
		if (!ts_round_finalized(&c->live.round))
			ts_client_log(c, TS_LOG_DEBUG,
			    "round %.*s not finalized: skipped",
			    (int)c->live.round.round_id.len,
			    c->live.round.round_id.ptr);
		else if (ts_ledger_live(c->led, &c->live.round) < 0)
			return -1;
	}
	if (rc < 0 || ev < 0)
		ts_client_log(c, TS_LOG_DEBUG, "stream: message skipped: %s",
		    ts_strerror(rc < 0 ? rc : ev));
	ts_round_init(&c->live, c->live_buf, c->round_buflen,
	    TS_ROUND_MESSAGE);
	return 0;
}

/* A text message's bytes into the round reader (a message has no event
 * before its end), until it takes no more. */
static void
message_data(struct ts_client *c, const unsigned char *p, size_t n)
{
	size_t k;

	if (c->ws.msg_opcode != TS_WS_OP_TEXT)
		return;
	while (n > 0 && (k = ts_round_push(&c->live, p, n)) > 0) {
		p += k;
		n -= k;
	}
}

/* The server's close frame: answered; the stream ends. */
static int
ws_closed(struct ts_client *c)
{
	char reason[200];

	send_ws(c, 0, 0);
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
	int ev;

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
			/* the close with fail_code: 1002, 1007, 1009 */
			send_ws(c, 0, 0);
			ts_exchange_fail(&c->stream.x, ev, "%s (closing with "
			    "%d)", ts_strerror(ev), c->ws.fail_code);
			c->draining = ev;
			c->closing = 1;
			c->close_by = c->now + CLOSING_MS;
			return (long)n;
		}
		if (k == 0)
			break;
	}
	send_ws(c, 0, 0);
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
	stream_head, NULL, NULL, stream_data, stream_eof, ts_client_log_line
};

/* The stream is gone (or failed to come up): reconnect later. */
static void
stream_down(struct ts_client *c, const char *reason)
{
	struct link *l = &c->stream;

	ts_exchange_close(&l->x);	/* stream_head resets the rest */
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
		ts_client_log(c, TS_LOG_DEBUG, "stream: connecting to %s "
		    "port %u", l->url.host, l->url.port);
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
	if (c->closing && c->now >= c->close_by) {
		stream_down(c, c->draining ? l->x.why :
		    "no close frame from the server in time");
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
	if (c->stream.x.phase != TS_EXCHANGE_OPEN) {
		ts_exchange_close(&c->stream.x);
		c->stream.waiting = 0;
	} else if (!c->closing) {
		send_ws(c, TS_WS_OP_CLOSE, 1000);
		c->closing = 1;
		c->close_by = c->now + CLOSING_MS;
	}
}
