/*
 * tsino: a small, auditable client for the TrackerSino real-time
 * Crash-round feed.  This is the public header of libtsino.a.
 *
 * Every function that can fail returns one of the negative codes below;
 * 0 or a positive value means success.  The codes are grouped by layer
 * so that a number alone says where a failure came from:
 *
 *	-1xx url	-2xx net	-3xx tls	-4xx http
 *	-5xx ws		-6xx json	-7xx round	-8xx client and state
 *
 * "Need more input" is never an error: the parsers say it with 0.
 * A code no longer used keeps its number: none is ever reused.
 */
#ifndef TSINO_H
#define TSINO_H

#include <stddef.h>

#define TS_VERSION "0.1.0"

enum ts_err {
	TS_OK = 0,

	/* url */
	TS_ERR_URL_SCHEME = -101,
	TS_ERR_URL_HOST = -102,
	TS_ERR_URL_PORT = -103,
	TS_ERR_URL_USERINFO = -104,
	TS_ERR_URL_FRAGMENT = -105,
	TS_ERR_URL_CHAR = -106,
	TS_ERR_URL_TOO_LONG = -107,
	TS_ERR_URL_IPV6 = -108,
	TS_ERR_URL_PERCENT = -109,
	TS_ERR_URL_VALUE = -110,
	TS_ERR_URL_PATH = -111,
	TS_ERR_URL_BASE = -112,
	TS_ERR_URL_SLUG = -113,
	TS_ERR_URL_BUF_TOO_SMALL = -114,

	/* net */
	TS_ERR_NET_RESOLVE = -201,
	TS_ERR_NET_REFUSED = -202,
	TS_ERR_NET_TIMEOUT = -203,
	TS_ERR_NET_UNREACHABLE = -204,
	TS_ERR_NET_IO = -205,
	TS_ERR_NET_CLOSED = -206,

	/* tls */
	TS_ERR_TLS_EXPIRED = -301,
	TS_ERR_TLS_HOSTNAME = -302,
	TS_ERR_TLS_UNTRUSTED = -303,
	TS_ERR_TLS_HANDSHAKE_CLOSED = -304,
	TS_ERR_TLS_NO_TRUST_STORE = -305,
	TS_ERR_TLS_TRUST_STORE = -306,
	TS_ERR_TLS_IP_LITERAL = -307,
	TS_ERR_TLS_PROTOCOL = -308,
	TS_ERR_TLS_CERT_ALGORITHM = -310,
	TS_ERR_TLS_TRUST_STORE_SIZE = -311,
	TS_ERR_TLS_TRUNCATED = -312,

	/* http */
	TS_ERR_HTTP_STATUS_LINE = -401,
	TS_ERR_HTTP_VERSION = -402,
	TS_ERR_HTTP_HEADER = -403,
	TS_ERR_HTTP_OBS_FOLD = -404,
	TS_ERR_HTTP_LINE_TOO_LONG = -405,
	TS_ERR_HTTP_TOO_MANY_HEADERS = -406,
	TS_ERR_HTTP_HEADERS_TOO_BIG = -407,
	TS_ERR_HTTP_CONTENT_LENGTH = -408,
	TS_ERR_HTTP_CHUNK = -409,
	TS_ERR_HTTP_TRANSFER_ENCODING = -410,
	TS_ERR_HTTP_INJECTION = -411,
	TS_ERR_HTTP_REQUEST_TOO_BIG = -412,
	TS_ERR_HTTP_TRUNCATED = -413,
	TS_ERR_HTTP_TRAILING = -414,
	TS_ERR_HTTP_AMBIGUOUS_LENGTH = -415,
	TS_ERR_HTTP_DATE = -416,
	TS_ERR_HTTP_RETRY_AFTER = -417,

	/* ws */
	TS_ERR_WS_STATUS = -501,
	TS_ERR_WS_UPGRADE = -502,
	TS_ERR_WS_CONNECTION = -503,
	TS_ERR_WS_ACCEPT = -504,
	TS_ERR_WS_EXTENSION = -505,
	TS_ERR_WS_PROTOCOL = -506,
	TS_ERR_WS_MASKED = -507,
	TS_ERR_WS_RSV = -508,
	TS_ERR_WS_OPCODE = -509,
	TS_ERR_WS_CONTROL_TOO_LONG = -510,
	TS_ERR_WS_CONTROL_FRAGMENTED = -511,
	TS_ERR_WS_LENGTH = -512,
	TS_ERR_WS_CONTINUATION = -513,
	TS_ERR_WS_INTERLEAVED = -514,
	TS_ERR_WS_UTF8 = -515,
	TS_ERR_WS_CLOSE_PAYLOAD = -516,
	TS_ERR_WS_CLOSE_CODE = -517,
	TS_ERR_WS_TOO_BIG = -518,
	TS_ERR_WS_TOO_MANY_FRAGMENTS = -519,
	TS_ERR_WS_CLOSED = -520,
	TS_ERR_WS_BUF_TOO_SMALL = -521,

	/* json */
	TS_ERR_JSON_SYNTAX = -601,
	TS_ERR_JSON_DEPTH = -602,
	TS_ERR_JSON_CONTROL = -603,
	TS_ERR_JSON_UTF8 = -604,
	TS_ERR_JSON_ESCAPE = -605,
	TS_ERR_JSON_SURROGATE = -606,
	TS_ERR_JSON_NUMBER = -607,
	TS_ERR_JSON_TRAILING = -608,
	TS_ERR_JSON_TRUNCATED = -609,

	/* round */
	TS_ERR_ROUND_NOT_OBJECT = -701,
	TS_ERR_ROUND_MISSING = -702,
	TS_ERR_ROUND_FIELD = -703,
	TS_ERR_ROUND_TOO_BIG = -704,
	TS_ERR_ROUND_BODY = -705,
	TS_ERR_ROUND_DUPLICATE = -706,

	/* client and state */
	TS_ERR_CLIENT_AUTH = -801,
	TS_ERR_CLIENT_HTTP_STATUS = -802,
	TS_ERR_CLIENT_CONFIG = -804,
	TS_ERR_STATE_LOCKED = -805,
	TS_ERR_STATE_CORRUPT = -806,
	TS_ERR_STATE_IO = -807,
	TS_ERR_NOMEM = -808,
	TS_ERR_CLIENT_PLAINTEXT = -809,
	TS_ERR_CLIENT_OUTPUT = -810
};

/*
 * ts_strerror: a short English phrase for a code from enum ts_err (or
 * "unknown error" for anything else).  The string is static and never
 * changes; the caller must not free it.
 */
const char *
ts_strerror(int err);

/*
 * ts_wipe: overwrite the n bytes at p with zeros through volatile
 * stores, which the compiler cannot drop as dead (a memset of a buffer
 * about to go out of scope, such as a key, can be).
 */
void
ts_wipe(void *p, size_t n);

/*
 * ---- The client engine ----
 *
 * The embedding program owns the loop.  Each turn it asks the client
 * which file descriptors to wait for and for how long
 * (ts_client_pollfds), calls poll() itself (next to its own fds), and
 * hands the result back (ts_client_step).  Rounds arrive through the
 * on_round callback, oldest first per game, each exactly once; after the
 * rounds of one step (and within a step after every 32 KiB of rounds)
 * the client calls on_flush, and only when that succeeds does it count
 * them as delivered in the --state file.
 *
 * Blocking: ts_client_step never waits for the network, with one
 * exception: the name lookup (getaddrinfo, which follows the system
 * resolver's timeouts) blocks the step that opens the stream (each
 * connect and reconnect) and the step that starts a backfill's first
 * REST page, or a page after a failed one; a backfill's other pages
 * reuse its addresses.  Writing the --state file and the on_flush and
 * on_round callbacks are the only other waits.
 *
 * Memory: ts_client_new allocates the client once (buffers sized from
 * the config); nothing is allocated per message.  The client never
 * writes to stdout or stderr and never calls exit(): it reports through
 * the callbacks and return values.
 */

struct pollfd;

/* One round, as handed to on_round.  Every pointer points into the
 * client's buffers and is valid only during the callback.  json is
 * exactly as received; the other strings are byte ranges (not
 * NUL-terminated) holding what the JSON means: string contents without
 * their quotes and with their escapes resolved ("\u0041" is "A").
 * A game_id or round_id never holds a byte below 0x20. */
struct ts_round_info {
	const char *json;		/* the round object, minified, with
					   game_id first if the server left it
					   out */
	size_t json_len;
	const char *game_id;
	size_t game_id_len;
	const char *round_id;
	size_t round_id_len;
	const char *round_index;	/* decimal digits, any length */
	size_t round_index_len;
	const char *multiplier;		/* exact decimal text */
	size_t multiplier_len;
	const char *finalized_at;	/* RFC 3339 */
	size_t finalized_at_len;
	/* backfilled: 1 if it came over REST; late: 1 if printed after
	   newer rounds */
	int backfilled, late;
};

enum ts_log_level { TS_LOG_ERROR = 0, TS_LOG_INFO = 1, TS_LOG_DEBUG = 2 };

/* STREAM: subscribe, backfill gaps, forever.  ROUNDS: one REST fetch of
 * one game, then done. */
enum ts_mode { TS_MODE_STREAM = 0, TS_MODE_ROUNDS = 1 };

/*
 * What the client is to do.  Every string is NUL-terminated, owned by
 * the caller, and must stay valid until ts_client_free().  Zero means
 * "default" for every number.  ts_client_new refuses, with
 * TS_ERR_CLIENT_CONFIG, heartbeat or connect_timeout outside (0, 86400]
 * seconds (NaN, infinite, negative), max_message above 1 GiB, max_held
 * above 1000000 and max_page outside 4 KiB to 1 GiB.
 */
struct ts_config {
	int mode;			/* enum ts_mode */
	/* base URL, e.g. "https://api.trackersino.com/v1-beta" */
	const char *api;
	const char *key;		/* the API key (required) */
	const char *games;		/* comma-separated slugs or NULL/"" */
	/* TS_MODE_ROUNDS: the one game, and since (RFC 3339) or NULL */
	const char *game, *since;
	const char *ca_file;		/* PEM trust anchors; NULL: system */
	const char *state_file;		/* resume file or NULL */
	const char *above;		/* print only multipliers > this */
	/* heartbeat (25) and connect_timeout (10), in seconds */
	double heartbeat, connect_timeout;
	/* max_message: bytes (1048576); max_held: live rounds held in a
	   backfill (10000); max_page: bytes of one REST page (8 MiB) */
	size_t max_message, max_held, max_page;
	int insecure_plaintext;		/* allow the key over ws:// / http:// */
	int verbosity;			/* highest level passed to on_log */

	/* Called once per round; return 0, or -1 to stop the client (its
	   output is gone).  The round counts as handled either way only
	   if 0 was returned. */
	int (*on_round)(void *arg, const struct ts_round_info *r);
	/* Called after each step that delivered rounds, and within a step
	   after every 32 KiB of them: write them out.  Return 0 when they
	   are safely written, -1 if output failed. */
	int (*on_flush)(void *arg);
	/* One log line, without newline or timestamp. */
	void (*on_log)(void *arg, int level, const char *line);
	void *arg;
};

struct ts_client;

/*
 * Check cfg, load the trust store and the state file, allocate the
 * client.  Returns 0 and *out, or a negative error with why (at least
 * 256 bytes, may be NULL) saying what is wrong; *out is then NULL.
 * Nothing is sent over the network yet.
 */
int
ts_client_new(struct ts_client **out, const struct ts_config *cfg,
    char *why, size_t whylen);

/*
 * Poll slots that are always enough for the client: each of its two
 * links may race up to 8 sockets while it connects.
 */
#define TS_CLIENT_MAX_POLLFDS 16

/*
 * Fill at most max pollfd slots (TS_CLIENT_MAX_POLLFDS are always
 * enough; with fewer, a connect race may go unpolled) with what the
 * client waits for, and *timeout_ms with how long poll() may sleep.
 * Returns the number of slots filled.
 */
int
ts_client_pollfds(struct ts_client *c, struct pollfd *pfd, int max,
    int *timeout_ms);

/*
 * Advance the client after poll(): pfd/n as filled by ts_client_pollfds
 * with revents set by poll() (call it on timeouts too; EINTR too).
 * Returns 0 while running, 1 when finished cleanly (after ts_client_stop,
 * or TS_MODE_ROUNDS done), or a fatal negative error (TS_ERR_CLIENT_AUTH
 * for a refused key, others for fatal setup or output failures);
 * ts_client_why() says more.
 */
int
ts_client_step(struct ts_client *c, const struct pollfd *pfd, int n);

/* Begin a clean stop: close 1000, then step returns 1. */
void
ts_client_stop(struct ts_client *c);

/* Words for the last fatal error or stop reason (never NULL). */
const char *
ts_client_why(const struct ts_client *c);

/* Close every socket, save state, release the lock, free the client. */
void
ts_client_free(struct ts_client *c);

#endif /* TSINO_H */
