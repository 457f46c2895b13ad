/*
 * client: the engine behind `tsino stream` and `tsino rounds`, driven by
 * the caller's poll() loop (it owns no loop of its own).  It wires three
 * parts together:
 *
 *   two links, each one exchange (exchange.c) at a time with its own
 *   backoff: the stream (role: WebSocket upgrade, then frames, the
 *   heartbeat and the close handshake) and the REST link (role: one page
 *   of rounds per exchange);
 *   the ledger (ledger.c): every round's one door, the hold, the gaps,
 *   and what to fetch next;
 *   the state file (state.c): the ledger's cursors and gaps, saved after
 *   each batch of rounds the caller has written.
 *
 * Stream:  WAIT -> exchange (CONNECT, HEAD) -> OPEN -> CLOSING -> WAIT...
 * REST:    IDLE -> exchange (CONNECT, HEAD, BODY) -> IDLE, or WAIT.
 */
#define _DEFAULT_SOURCE
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base.h"
#include "client.h"

/*
 * Every line goes out through ts_client_quote(): a round id, a game or
 * any other server text in it cannot carry a control byte or the key
 * to the log, whichever call site put it there.  Text quoted already
 * passes unchanged.
 */
void
ts_client_log(struct ts_client *c, int level, const char *fmt, ...)
{
	char raw[768], line[1024];
	va_list ap;
	int n;

	if (c->cfg.on_log == NULL || level > c->cfg.verbosity)
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ts_client_quote(c, line, sizeof(line), raw,
	    (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1);
	c->cfg.on_log(c->cfg.arg, level, line);
}

void
ts_client_log_line(void *arg, int level, const char *line)
{
	ts_client_log(arg, level, "%s", line);
}

/* Make err the client's sticky fatal error (the first one wins). */
static int
fatal(struct ts_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	char raw[sizeof(c->why)];
	int n;

	if (c->fatal == 0) {
		c->fatal = err;
		va_start(ap, fmt);
		n = vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		/* escaped like a log line: the caller prints it */
		ts_client_quote(c, c->why, sizeof(c->why), raw, n < 0 ? 0 :
		    (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1);
	}
	return c->fatal;
}

size_t
ts_client_quote(const struct ts_client *c, char *out, size_t outlen,
    const char *in, size_t n)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t klen = c->cfg.key ? strlen(c->cfg.key) : 0, i = 0, o = 0, k;

	if (outlen < 8)
		return 0;
	while (i < n && o + 8 < outlen) {
		/* The key, or at the end of in a start of it of 4+ bytes. */
		k = n - i < klen ? n - i : klen;
		if (klen > 0 && (k == klen || k >= 4) &&
		    memcmp(in + i, c->cfg.key, k) == 0) {
			memcpy(out + o, "***", 3);
			o += 3;
			i += k;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			out[o++] = (char)p[i++];
		} else if ((k = ts_utf8_char(p + i, n - i)) > 0 &&
		    o + k + 8 < outlen && (p[i] != 0xC2 || p[i + 1] >= 0xA0)) {
			/* UTF-8 kept, but not the C1 controls U+0080-009F */
			memcpy(out + o, in + i, k);
			o += k;
			i += k;
		} else {
			snprintf(out + o, outlen - o, "\\x%02x", p[i++]);
			o += 4;
		}
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}

static void
save_state(struct ts_client *c)
{
	char why[512];

	if (!c->have_state || !c->led->dirty || c->output_failed)
		return;
	if (ts_state_save(&c->state, c->led, why, sizeof(why)) < 0)
		ts_client_log(c, TS_LOG_ERROR, "state: %s", why);
	else
		c->led->dirty = 0;
}

/* Output the step's rounds; only written rounds count in the state. */
static void
flush(struct ts_client *c)
{
	if (c->step_rounds > 0 && c->cfg.on_flush != NULL &&
	    c->cfg.on_flush(c->cfg.arg) < 0) {
		c->output_failed = 1;
		fatal(c, TS_ERR_CLIENT_OUTPUT, "output closed");
		return;
	}
	c->step_rounds = 0;
	c->step_bytes = 0;
	save_state(c);
}

/* ---- output: the ledger's emit ---- */

static int
emit(void *arg, const struct ts_round_info *r)
{
	struct ts_client *c = arg;

	if (c->cfg.above != NULL && ts_round_above(r->multiplier,
	    r->multiplier_len, c->cfg.above, strlen(c->cfg.above)) != 1)
		return 0;
	/* A long batch is written and saved in parts, so that a failed
	 * write loses the state of one part at most (SPEC §7.12). */
	if (c->step_bytes >= FLUSH_BYTES) {
		flush(c);
		if (c->fatal)
			return -1;
	}
	if (c->cfg.on_round(c->cfg.arg, r) < 0) {
		c->output_failed = 1;
		fatal(c, TS_ERR_CLIENT_OUTPUT, "output closed");
		return -1;
	}
	c->step_rounds++;
	c->step_bytes += r->json_len + 1;
	return 1;
}

/* ---- links: backoff and retries ---- */

/* Full jitter: a uniform delay in [0, min(cap, base * 2^attempt)]. */
static int64_t
backoff_ms(struct link *l)
{
	uint32_t r = 0;
	int64_t cap = (int64_t)BACKOFF_BASE_MS << l->attempt;	/* <= 30 */

	if (cap > BACKOFF_CAP_MS)
		cap = BACKOFF_CAP_MS;
	if (l->attempt < 30)
		l->attempt++;
	ts_random(&r, sizeof(r));
	return (int64_t)(r % (uint32_t)(cap + 1));
}

/* Retry-After of the last response as a delay in ms, or -1 (none, or
 * not kept: retry_after_len is 0 then, which ts_http_retry_after
 * refuses). */
static int64_t
retry_after_ms(const struct ts_http *h)
{
	struct timespec ts;
	int64_t delay, ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts_http_retry_after(h->retry_after, h->retry_after_len,
	    (int64_t)ts.tv_sec, &delay) < 0)
		return -1;
	if (delay > RETRY_AFTER_CAP_S)
		delay = RETRY_AFTER_CAP_S;
	ms = delay * 1000;
	/* An HTTP-date names a whole second: count from now, not from the
	 * start of the current second. */
	if (!ts_is_digit(h->retry_after[0]))
		ms -= ts.tv_nsec / 1000000;
	return ms < 0 ? 0 : ms;
}

/* Drop the link's exchange and wait before the next (delay < 0:
 * backoff). */
void
ts_client_retry(struct ts_client *c, struct link *l, int64_t delay,
    const char *reason)
{
	ts_exchange_close(&l->x);
	l->resolved = 0;	/* the addresses may be why it failed */
	if (delay < 0)
		delay = backoff_ms(l);
	l->waiting = 1;
	l->wake = c->now + delay;
	ts_client_log(c, TS_LOG_INFO, "%s: %s; retrying in %.3f s", l->x.name,
	    reason, delay / 1000.0);
}

static int
link_idle(const struct link *l)
{
	return !l->waiting && l->x.phase == TS_EXCHANGE_IDLE;
}

/*
 * A response with a status the role does not take, read whole: a
 * refused key is fatal, 429/503 wait for Retry-After, `rounds` gives up
 * on anything else, the stream and a backfill retry.  Returns -1 if
 * fatal.
 */
int
ts_client_refused(struct ts_client *c, struct link *l)
{
	struct ts_exchange *x = &l->x;
	char reason[600], phrase[260], body[260];
	int64_t delay = -1;

	ts_client_quote(c, phrase, sizeof(phrase), x->reason, x->reason_len);
	ts_client_quote(c, body, sizeof(body), x->errbody, x->errbody_len);
	snprintf(reason, sizeof(reason), "HTTP %d %s%s%s", x->status, phrase,
	    x->errbody_len ? ": " : "", body);
	if (x->status == 401 || x->status == 403)
		return fatal(c, TS_ERR_CLIENT_AUTH, "API key refused: %s",
		    reason);
	if (x->status == 429 || x->status == 503)
		delay = retry_after_ms(&x->http);
	if (c->cfg.mode == TS_MODE_ROUNDS && delay < 0)
		return fatal(c, TS_ERR_CLIENT_HTTP_STATUS, "%s", reason);
	ts_client_retry(c, l, delay, reason);
	return 0;
}

/* ---- the REST role: one page of rounds ---- */

static int
rest_head(void *arg, struct ts_exchange *x)
{
	struct ts_client *c = arg;
	struct ts_ledger_work *w = &c->led->work;

	(void)x;
	ts_round_init(&c->body, c->body_buf, c->round_buflen, TS_ROUND_BODY);
	ts_round_set_game(&c->body, w->slug, strlen(w->slug));
	return 0;
}

/* Drain the body reader's events into the page. */
static int
rest_rows(struct ts_client *c)
{
	int ev;

	while ((ev = ts_round_event(&c->body)) > 0) {
		if (ev == TS_ROUND_EV_SKIPPED) {
			ts_client_log(c, TS_LOG_INFO,
			    "rest: row %.*s%s skipped: %s",
			    (int)c->body.skip_id_len, c->body.skip_id,
			    c->body.skip_id_len ? "" : "(no round_id)",
			    ts_strerror(c->body.skip_err));
			continue;
		}
		if (ts_round_finalized(&c->body.round) &&
		    ts_ledger_page_add(c->led, &c->body.round) < 0)
			return ts_exchange_fail(&c->rest.x,
			    TS_ERR_ROUND_TOO_BIG, "page bigger than %zu bytes",
			    c->cfg.max_page);
	}
	return ev;
}

static int
rest_body(void *arg, const char *p, size_t n)
{
	struct ts_client *c = arg;
	size_t k;
	int rc;

	while (n > 0) {
		k = ts_round_push(&c->body, p, n);
		p += k;
		n -= k;
		rc = rest_rows(c);
		if (rc < 0)
			return rc;
		if (k == 0)
			break;
	}
	return 0;
}

/* The page is whole (an empty body, as a 204: no rounds since; the
 * reader took every byte of any other, rest_body failed else). */
static int
rest_done(void *arg)
{
	struct ts_client *c = arg;
	int rc = 0, ev;

	if (c->body.json.pos > 0) {
		rc = ts_round_finish(&c->body);
		ev = rest_rows(c);
		if (rc == 0)
			rc = ev;
	}
	if (rc < 0)
		return rc;
	c->rest.attempt = 0;	/* a page came: back off anew */
	return ts_ledger_page_done(c->led) < 0 ? c->fatal : 0;
}

static const struct ts_exchange_role rest_role = {
	rest_head, rest_body, rest_done, NULL, NULL, ts_client_log_line
};

/* ---- driving the links ---- */

/* Start the next page the ledger owes, if the REST link is free. */
static int
rest_next(struct ts_client *c)
{
	struct ts_ledger_work w;
	char url[TS_URL_BUFSIZE];
	int rc;

	if (!link_idle(&c->rest) || c->stopping)
		return 0;
	rc = ts_ledger_next(c->led, &w);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (c->cfg.mode == TS_MODE_ROUNDS)
			c->finished = 1;
		else if (c->backfilling)
			ts_client_log(c, TS_LOG_INFO, "backfill done: %lu "
			    "missed rounds in %lu pages, %.3f s",
			    c->led->bf_rounds, c->led->bf_pages,
			    (c->now - c->bf_started) / 1000.0);
		c->backfilling = 0;
		c->rest.resolved = 0;
		return 0;
	}
	if (!c->backfilling) {
		c->backfilling = 1;
		c->bf_started = c->now;
		c->led->bf_rounds = c->led->bf_pages = 0;
	}
	rc = ts_url_rest(url, sizeof(url), c->cfg.api, w.slug, w.since);
	if (rc >= 0)
		rc = ts_url_parse(&c->rest.url, url, (size_t)rc);
	if (rc < 0)
		return fatal(c, rc, "cannot build the REST URL for %s: %s",
		    w.slug, ts_strerror(rc));
	ts_client_log(c, TS_LOG_DEBUG, "rest: GET rounds of %s since %s",
	    w.slug, w.since[0] ? w.since : "(API default)");
	/* one lookup per backfill: the pages reuse its addresses */
	if (ts_exchange_start(&c->rest.x, &c->rest.url, c->cfg.key, 200,
	    c->connect_ms, c->rest.resolved) < 0) {
		if (c->cfg.mode == TS_MODE_ROUNDS)
			return fatal(c, TS_ERR_NET_RESOLVE, "%s",
			    c->rest.x.why);
		ts_client_retry(c, &c->rest, -1, c->rest.x.why);
		return 0;
	}
	c->rest.resolved = 1;
	return 0;
}

static int
rest_step(struct ts_client *c, const struct pollfd *pfd, int n)
{
	struct link *l = &c->rest;
	int rc;

	if (l->waiting && c->now >= l->wake)
		l->waiting = 0;
	/* a waiting link's exchange is IDLE: an idle exchange's step is 0 */
	rc = ts_exchange_step(&l->x, pfd, n, c->now);
	if (c->fatal)
		return -1;
	if (rc != 0)
		ts_ledger_page_failed(c->led);
	if (rc == 1 && ts_client_refused(c, l) < 0)
		return -1;
	if (rc < 0) {
		if (c->cfg.mode == TS_MODE_ROUNDS)
			return fatal(c, rc, "%s", l->x.why);
		ts_client_retry(c, l, -1, l->x.why);
	}
	return rest_next(c) < 0 ? -1 : 0;
}

/* ---- public API ---- */

/* url (len bytes, or the builder's error) into u, fit for the key. */
static int
check_url(struct ts_client *c, const char *what, const char *url, int len,
    struct ts_url *u, char *why, size_t whylen)
{
	int rc;

	if (len < 0) {
		snprintf(why, whylen, "--api %s: %s", c->cfg.api,
		    ts_strerror(len));
		return len;
	}
	rc = ts_url_parse(u, url, (size_t)len);
	if (rc < 0) {
		snprintf(why, whylen, "%s %s: %s", what, url, ts_strerror(rc));
		return rc;
	}
	if (!u->tls && !c->cfg.insecure_plaintext && !ts_url_is_loopback(u)) {
		snprintf(why, whylen, "refusing to send the API key over "
		    "plaintext %s to %s (not loopback); use https or "
		    "--insecure-plaintext", url, u->host);
		return TS_ERR_CLIENT_PLAINTEXT;
	}
	if (u->tls && u->addr_len != 0) {
		snprintf(why, whylen, "TLS to an IP address (%s) is not "
		    "supported: certificates are checked by host name, use "
		    "one", u->host);
		return TS_ERR_TLS_IP_LITERAL;
	}
	return 0;
}

static void
trust_note(void *arg, const char *msg)
{
	ts_client_log(arg, TS_LOG_DEBUG, "%s", msg);
}

/*
 * Does the key fit the largest request tsino will write (the upgrade,
 * and a REST request for a 63-byte slug since a 63-byte time)?  Said at
 * start, not at the first connect.  0, or TS_ERR_CLIENT_AUTH with the
 * limit in words.
 */
static int
check_key_room(struct ts_client *c, char *why, size_t whylen)
{
	static const char since[] = "9999-12-31T23:59:59.123456789012345678"
	    "90123456789012345678901Z";
	char url[TS_URL_BUFSIZE], req[TS_HTTP_REQUEST_BUFSIZE];
	struct ts_http_req r = { .bearer = "k" };
	struct ts_url u;
	size_t klen = strlen(c->cfg.key), i;
	int one;

	/* RFC 6750 §2.1: b64token; a byte a header cannot carry fails now,
	 * not at the first request */
	for (i = 0; i < klen; i++)
		if ((unsigned char)c->cfg.key[i] < 0x21 ||
		    (unsigned char)c->cfg.key[i] > 0x7e) {
			snprintf(why, whylen,
			    "the API key holds a byte (0x%02x) "
			    "that an HTTP header cannot carry: only visible "
			    "ASCII is sent", (unsigned char)c->cfg.key[i]);
			return TS_ERR_CLIENT_AUTH;
		}
	/* A one-byte key measures the rest of each request. */
	for (i = 0; i < 2; i++) {
		u = c->stream.url;
		r.ws_key = "AAAAAAAAAAAAAAAAAAAAAA==";
		if (i == 1 || c->cfg.mode != TS_MODE_STREAM) {
			one = ts_url_rest(url, sizeof(url), c->cfg.api,
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxx", since);
			if (one < 0 || ts_url_parse(&u, url, (size_t)one) < 0)
				continue;
			r.ws_key = NULL;
		}
		r.host = u.host;
		r.port = u.port;
		r.tls = u.tls;
		r.target = u.target;
		one = ts_http_request(req, sizeof(req), &r);
		if (one != TS_ERR_HTTP_REQUEST_TOO_BIG &&
		    (one < 0 || klen <= sizeof(req) - (size_t)one))
			continue;
		snprintf(why, whylen, "the API key (%zu bytes) is too long: "
		    "at most %d bytes fit a request to %s", klen,
		    one > 0 ? (int)sizeof(req) - one : 0, u.host);
		return TS_ERR_CLIENT_AUTH;
	}
	return 0;
}

static int
setup(struct ts_client *c, char *why, size_t whylen)
{
	char url[TS_URL_BUFSIZE];
	const char *ca;
	int rc, len, n;

	if (c->cfg.mode == TS_MODE_STREAM) {
		len = ts_url_stream(url, sizeof(url), c->cfg.api, c->cfg.games);
		rc = check_url(c, "stream URL", url, len, &c->stream.url, why,
		    whylen);
		if (rc < 0)
			return rc;
	}
	len = ts_url_rest(url, sizeof(url), c->cfg.api,
	    c->cfg.game ? c->cfg.game : "x", NULL);
	rc = check_url(c, "REST URL", url, len, &c->rest.url, why, whylen);
	if (rc < 0)
		return rc;
	rc = check_key_room(c, why, whylen);
	if (rc < 0)
		return rc;
	if (c->rest.url.tls) {
		ca = c->cfg.ca_file ? c->cfg.ca_file : ts_trust_default_path();
		if (ca == NULL) {
			snprintf(why, whylen, "no trust store found: give "
			    "--ca-file or SSL_CERT_FILE");
			return TS_ERR_TLS_NO_TRUST_STORE;
		}
		rc = ts_trust_load(&c->trust, ca, trust_note, c, why, whylen);
		if (rc < 0)
			return rc;
	}
	if (c->cfg.mode == TS_MODE_ROUNDS) {
		rc = ts_ledger_fetch(c->led, c->cfg.game, c->cfg.since);
		if (rc < 0)
			snprintf(why, whylen, "bad game or --since");
		return rc;
	}
	if (c->cfg.state_file == NULL)
		return 0;
	rc = ts_state_open(&c->state, c->cfg.state_file, why, whylen);
	if (rc < 0)
		return rc;
	c->have_state = 1;
	rc = ts_state_load(&c->state, c->led, &n, why, whylen);
	if (rc < 0)
		return rc;
	if (n > 0)
		ts_client_log(c, TS_LOG_INFO, "state: resuming %d games "
		    "from %s", n, c->cfg.state_file);
	return 0;
}

/* Seconds that fit an int of ms: 0 (default) or (0, 1 day]. */
static int
seconds_ok(double v)
{
	return v == 0 || (v > 0 && v <= 86400);	/* NaN fails both */
}

/*
 * 0 means the default; anything else outside these bounds is refused,
 * before it can overflow a conversion (to ms, a 32-bit length) or ask
 * for memory no one meant.
 */
/* Every game named is a slug (ts_round_slug_ok): a round of any other
 * game is refused at the door, so asking for one would print nothing. */
static int
games_ok(const struct ts_config *cfg)
{
	const char *p = cfg->games, *end;

	if (cfg->mode == TS_MODE_ROUNDS)
		return ts_round_slug_ok(cfg->game, strlen(cfg->game));
	while (p != NULL && *p != '\0') {
		end = strchr(p, ',');
		if (!ts_round_slug_ok(p, end ? (size_t)(end - p) : strlen(p)))
			return 0;
		p = end ? end + 1 : NULL;
	}
	return 1;
}

static int
check_config(const struct ts_config *cfg, char *why, size_t whylen)
{
	const char *what = NULL;

	if (!seconds_ok(cfg->heartbeat))
		what = "heartbeat must be seconds in (0, 86400]";
	else if (!seconds_ok(cfg->connect_timeout))
		what = "connect_timeout must be seconds in (0, 86400]";
	else if (cfg->max_message > ((size_t)1 << 30))
		what = "max_message must be at most 1 GiB";
	else if (cfg->max_held > 1000000)
		what = "max_held must be at most 1000000 rounds";
	else if (cfg->max_page != 0 && (cfg->max_page < 4096 ||
	    cfg->max_page > ((size_t)1 << 30)))
		what = "max_page must be 4 KiB to 1 GiB";
	else if (!games_ok(cfg))
		what = "a game must be 1 to 63 of A-Z a-z 0-9 . _ - (not . "
		    "or ..)";
	if (what == NULL)
		return 0;
	snprintf(why, whylen, "bad configuration: %s", what);
	return TS_ERR_CLIENT_CONFIG;
}

static void
defaults(struct ts_config *cfg)
{
	if (cfg->heartbeat == 0)
		cfg->heartbeat = DEFAULT_HEARTBEAT;
	if (cfg->connect_timeout == 0)
		cfg->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	if (cfg->max_message == 0)
		cfg->max_message = DEFAULT_MAX_MESSAGE;
	if (cfg->max_held == 0)
		cfg->max_held = DEFAULT_MAX_HELD;
	if (cfg->max_page == 0)
		cfg->max_page = DEFAULT_MAX_PAGE;
}

/* Every buffer, once: nothing is allocated after ts_client_new. */
static int
allocate(struct ts_client *c)
{
	struct ts_ledger_config *lc = &c->lc;	/* zeroed by calloc */

	c->round_buflen = c->cfg.max_message + TS_ROUND_HEADROOM;
	c->live_buf = malloc(c->round_buflen);
	c->body_buf = malloc(c->round_buflen);
	c->led = malloc(sizeof(*c->led));
	lc->hold_cap = HOLD_BYTES;
	lc->hold_ecap = lc->hold_max = c->cfg.max_held;
	/* a row's decoded members can take as much room again as the row */
	lc->page_cap = 2 * c->cfg.max_page;
	lc->page_ecap = c->cfg.max_page / PAGE_ROW_MIN + 1;
	lc->hold_buf = malloc(lc->hold_cap);
	lc->hold_e = malloc(lc->hold_ecap * sizeof(*lc->hold_e));
	lc->page_buf = malloc(lc->page_cap);
	lc->page_e = malloc(lc->page_ecap * sizeof(*lc->page_e));
	if (c->live_buf == NULL || c->body_buf == NULL || c->led == NULL ||
	    lc->hold_buf == NULL || lc->hold_e == NULL ||
	    lc->page_buf == NULL || lc->page_e == NULL)
		return TS_ERR_NOMEM;
	lc->emit = emit;
	lc->log = ts_client_log_line;
	lc->arg = c;
	lc->games = c->cfg.games;
	ts_exchange_init(&c->stream.x, "stream", &c->conns[0], &c->trust,
	    &ts_stream_role, c);
	ts_exchange_init(&c->rest.x, "rest", &c->conns[1], &c->trust,
	    &rest_role, c);
	return ts_ledger_init(c->led, lc);
}

int
ts_client_new(struct ts_client **out, const struct ts_config *cfg,
    char *why, size_t whylen)
{
	struct ts_client *c;
	char dummy[8];
	int rc;

	*out = NULL;
	if (why == NULL) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (cfg->api == NULL || cfg->key == NULL || cfg->on_round == NULL ||
	    (cfg->mode == TS_MODE_ROUNDS && cfg->game == NULL)) {
		snprintf(why, whylen, "incomplete configuration");
		return TS_ERR_CLIENT_CONFIG;
	}
	rc = check_config(cfg, why, whylen);
	if (rc < 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, whylen, "out of memory");
		return TS_ERR_NOMEM;
	}
	c->cfg = *cfg;
	defaults(&c->cfg);
	/* in (0, 86400] s: an int of ms, rounded */
	c->hb_ms = (int)(c->cfg.heartbeat * 1000.0 + 0.5);
	c->connect_ms = (int)(c->cfg.connect_timeout * 1000.0 + 0.5);
	c->state.lock_fd = -1;
	rc = allocate(c);
	if (rc < 0)
		snprintf(why, whylen, "out of memory");
	else
		rc = setup(c, why, whylen);
	if (rc < 0) {
		ts_client_free(c);
		return rc;
	}
	c->stream.waiting = c->cfg.mode == TS_MODE_STREAM;	/* wake 0 */
	*out = c;
	return 0;
}

int
ts_client_pollfds(struct ts_client *c, struct pollfd *pfd, int max,
    int *timeout_ms)
{
	int64_t now = ts_net_now(), t = INT64_MAX, u, hb = c->hb_ms;
	struct link *l[2] = { &c->stream, &c->rest };
	int n = 0, i;

	for (i = 0; i < 2; i++) {
		n += ts_exchange_pollfds(&l[i]->x, pfd + n, max - n);
		u = l[i]->waiting ? l[i]->wake :
		    ts_exchange_next(&l[i]->x, now);
		if (u < t)
			t = u;
	}
	if (c->stream.x.phase == TS_EXCHANGE_OPEN) {
		/* the close's wait, else our ping, else the drop */
		u = c->closing ? c->close_by : c->last_rx + (c->ping_sent ?
		    2 * hb : hb);
		if (u < t)
			t = u;
	}
	if (c->finished || c->fatal || (link_idle(&c->rest) &&
	    c->cfg.mode == TS_MODE_ROUNDS) ||
	    (c->stopping && link_idle(&c->stream)))
		t = now;		/* a step is due now, with no fd */
	if (t == INT64_MAX)
		*timeout_ms = -1;
	else
		*timeout_ms = t <= now ? 0 : (int)(t - now > 60000 ? 60000 :
		    t - now);
	return n;
}

int
ts_client_step(struct ts_client *c, const struct pollfd *pfd, int n)
{
	int64_t t0 = ts_net_now();

	if (c->fatal)
		return c->fatal;
	if (c->finished)
		return 1;
	c->now = t0;
	if (ts_stream_step(c, pfd, n) == 0) {
		/* The stream's turn may have blocked in a name lookup. */
		c->now = ts_net_now();
		rest_step(c, pfd, n);
	}
	flush(c);
	/* Time spent writing our output is not the server's silence. */
	c->now = ts_net_now();
	if (c->stream.x.phase == TS_EXCHANGE_OPEN && c->now > t0)
		c->last_rx += c->now - t0;
	if (c->fatal) {
		ts_stream_stop(c);	/* our close 1000, if open */
		ts_exchange_close(&c->stream.x);
		ts_exchange_close(&c->rest.x);
		return c->fatal;
	}
	if (c->stopping && link_idle(&c->stream))
		c->finished = 1;
	return c->finished ? 1 : 0;
}

void
ts_client_stop(struct ts_client *c)
{
	if (c->stopping)
		return;
	c->stopping = 1;
	c->now = ts_net_now();
	ts_exchange_close(&c->rest.x);
	c->rest.waiting = 0;
	ts_ledger_stop(c->led);
	flush(c);		/* the held rounds it printed, and the state */
	if (c->fatal)
		return;
	ts_stream_stop(c);
	if (c->cfg.mode == TS_MODE_ROUNDS)
		c->finished = 1;
}

const char *
ts_client_why(const struct ts_client *c)
{
	return c->why[0] ? c->why : "no error";
}

void
ts_client_free(struct ts_client *c)
{
	if (c == NULL)
		return;
	/* calloc'd, so closing an exchange never set up is harmless */
	ts_exchange_close(&c->stream.x);
	ts_exchange_close(&c->rest.x);
	if (c->have_state) {
		save_state(c);
		ts_state_close(&c->state);
	}
	ts_trust_free(&c->trust);	/* a no-op on an empty store */
	free(c->live_buf);
	free(c->body_buf);
	free(c->led);
	free(c->lc.hold_buf);
	free(c->lc.hold_e);
	free(c->lc.page_buf);
	free(c->lc.page_e);
	free(c);
}
