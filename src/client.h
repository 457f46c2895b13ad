/*
 * client.h: what the engine's two files share (private, not installed):
 * client.c (the links, the REST role, setup and the API of tsino.h) and
 * stream.c (the stream role: the WebSocket session).
 */
#ifndef TS_CLIENT_H
#define TS_CLIENT_H

#include "exchange.h"		/* and <poll.h>, <stdint.h> */
#include "ledger.h"		/* and round.h, tsino.h */
#include "state.h"
#include "ws.h"

#define DEFAULT_HEARTBEAT 25.0
#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_MAX_MESSAGE 1048576
#define DEFAULT_MAX_HELD 10000
#define DEFAULT_MAX_PAGE (8u << 20)
#define HOLD_BYTES (16u << 20)		/* bytes of held rounds, at most */
#define PAGE_ROW_MIN 64			/* smallest row, to size the index */
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 30000
#define HEALTHY_MS 60000		/* a link this old resets backoff */
#define RETRY_AFTER_CAP_S 300
#define CLOSING_MS 2000			/* wait for the server's close */
#define FLUSH_BYTES (32u << 10)		/* flush and save a batch this big */

/* A link: one exchange at a time, and the wait before the next. */
struct link {
	struct ts_exchange x;
	struct ts_url url;		/* where the next exchange goes */
	int waiting;
	int64_t wake;			/* waiting: when to try again */
	int attempt;			/* backoff exponent */
	int resolved;			/* x's last lookup may be reused */
};

struct ts_client {
	struct ts_config cfg;
	struct ts_trust trust;		/* empty (calloc'd) without TLS */
	struct ts_state state;
	int have_state;
	char why[512];
	int fatal;			/* sticky step result when < 0 */
	int stopping, finished;
	int64_t now;			/* of the current step */
	int hb_ms, connect_ms;		/* heartbeat, connect_timeout */

	struct link stream, rest;
	struct ts_conn conns[2];	/* [0] stream, [1] rest */

	/* the stream's WebSocket session */
	struct ts_ws ws;
	int64_t last_rx;		/* last byte received */
	int ping_sent;
	int64_t opened_at;
	int closing;			/* our close sent */
	int64_t close_by;
	/* our close for a protocol failure sent: its error; the bytes that
	 * follow are read and dropped until the server's EOF (the server
	 * must get the close, not a reset), at most until close_by */
	int draining;
	struct ts_round_reader live;
	unsigned char *live_buf;

	/* the REST link's page */
	struct ts_round_reader body;
	unsigned char *body_buf;
	size_t round_buflen;

	struct ts_ledger *led;
	struct ts_ledger_config lc;	/* its buffers are ours to free */
	int backfilling;		/* a backfill is under way */
	int64_t bf_started;

	unsigned long step_rounds;	/* delivered since the last flush */
	size_t step_bytes;		/* their bytes, about */
	int output_failed;		/* never save state after that */
};

/* Log a line at level (enum ts_log_level) if verbosity allows. */
void
ts_client_log(struct ts_client *c, int level, const char *fmt, ...);

/* The same with a ready line, as the ledger and exchange hooks want. */
void
ts_client_log_line(void *arg, int level, const char *line);

/*
 * Server text (a reason phrase, a body, a close reason: n bytes at in)
 * fit for a log line, into out (outlen bytes, NUL-terminated): the key
 * (and a cut start of it) as ***, control bytes and invalid UTF-8 as
 * \xNN, cut with "..." where out is full.  Returns its length.
 */
size_t
ts_client_quote(const struct ts_client *c, char *out, size_t outlen,
    const char *in, size_t n);

/* Close l's exchange and wait delay ms (< 0: backoff), logging reason. */
void
ts_client_retry(struct ts_client *c, struct link *l, int64_t delay,
    const char *reason);

/* A response with a status the role does not take: fatal (-1) or a
 * retry. */
int
ts_client_refused(struct ts_client *c, struct link *l);

/* The stream role (stream.c) and its turn of the loop. */
extern const struct ts_exchange_role ts_stream_role;

int
ts_stream_step(struct ts_client *c, const struct pollfd *pfd, int n);

/* A clean stop: close 1000 and wait for the server's, or stop waiting. */
void
ts_stream_stop(struct ts_client *c);

#endif /* TS_CLIENT_H */
