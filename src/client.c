/*
 * client: the engine behind `tsino stream` and `tsino rounds`, driven by
 * the caller's poll() loop (it owns no loop of its own).
 *
 * Two links, each one HTTP(S) connection at a time:
 *
 *   stream: WAIT -> CONNECT -> HANDSHAKE (TLS, upgrade) -> OPEN (frames)
 *           -> CLOSING -> WAIT ... with jittered exponential backoff;
 *   rest:   IDLE -> CONNECT -> HANDSHAKE (TLS, GET) -> BODY -> IDLE,
 *           one request per page of a gap backfill (or of `rounds`).
 *
 * Exactly once: every round handled goes into a set of recent ids
 * (hashes of game_id and round_id); each game keeps a cursor, the last
 * finalized_at handled and the ids handled at that instant, which is
 * what the --state file stores.  After every (re)connect the live rounds
 * are held while each game is backfilled over REST from its cursor; the
 * missed rounds are printed oldest first, then the held ones.  If the
 * hold fills first, the held rounds are printed, the cursor of each game
 * still owed a backfill is frozen ("gap open"), and the rounds that a
 * later backfill brings are printed late.  Never lost, never twice.
 */
#define _DEFAULT_SOURCE
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tsino.h"
#include "http.h"
#include "net.h"
#include "round.h"
#include "state.h"
#include "tls.h"
#include "url.h"
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
#define HEALTHY_MS 60000		/* a connection this old resets backoff */
#define RETRY_AFTER_CAP_S 300
#define CLOSING_MS 2000			/* wait for the server's close */
#define IDSET_WINDOW 16384		/* recent ids remembered, at least */
#define ERRBODY_MAX 200

enum link_phase {
	L_IDLE,		/* nothing to do (rest) */
	L_WAIT,		/* backing off until wake */
	L_CONNECT,	/* TCP connect race */
	L_HANDSHAKE,	/* TLS, request, response head */
	L_BODY,		/* rest: response body; stream: error body */
	L_OPEN,		/* stream: WebSocket frames */
	L_CLOSING	/* stream: our close sent, waiting for theirs */
};

struct link {
	const char *name;
	int phase;
	struct ts_url url;		/* where this link goes now */
	struct ts_net net;
	struct ts_conn *conn;		/* allocated once */
	int conn_live;
	struct ts_http http;
	char hbuf[TS_HTTP_BUFSIZE];
	char req[TS_HTTP_REQUEST_BUFSIZE];
	size_t req_len, req_off;
	size_t rx_left;			/* received bytes the parser left */
	int64_t deadline;		/* of the current phase */
	int64_t wake;			/* L_WAIT: when to try again */
	int attempt;			/* backoff exponent */
	int status;
	char status_line[96];
	char errbody[ERRBODY_MAX + 1];
	size_t errbody_len;
	int64_t date;			/* the response's Date, 0 if none */
	struct ts_tls_session session;
};

/* One stored round: a copy of its minified object and where its fields
 * are, so held rounds and page rows need no second parse. */
enum { F_GAME, F_ID, F_INDEX, F_MULT, F_TIME, NF };

struct rentry {
	size_t off;
	uint32_t len;
	uint32_t foff[NF], flen[NF];
	int64_t sec;
	uint32_t nsec;
};

struct rstore {
	char *buf;
	size_t cap, len;
	struct rentry *e;
	size_t ecap, n;
};

struct game {
	struct ts_state_game cur;	/* the cursor: last handled */
	struct ts_state_game gap;	/* frozen cursor while gap_open */
	int64_t sec;			/* cur.last parsed */
	uint32_t nsec;
	int gap_open;
	int need_backfill;
};

/* Two generations of hashes: lookups see both, inserts go to the
 * younger; when it fills, it becomes the older and the older is wiped.
 * No deletion, no allocation after init. */
struct idset {
	uint64_t *gen[2];
	size_t count;			/* entries in gen[0] */
	size_t size;			/* slots per generation (power of 2) */
};

struct ts_client {
	struct ts_config cfg;
	struct ts_trust trust;
	int have_trust;
	struct ts_state state;
	int have_state;
	char why[512];
	int fatal;			/* sticky step result when < 0 */
	int stopping;
	int finished;

	struct link stream, rest;
	struct ts_ws ws;
	char ws_key[25];
	struct ts_ws_hs hs;
	int64_t last_rx;		/* stream: last byte received */
	int ping_sent;
	int64_t opened_at;

	struct ts_round_reader live, body;
	unsigned char *live_buf, *body_buf;
	size_t round_buflen;
	int live_bad;			/* skip the rest of this message */

	struct game games[TS_STATE_MAX_GAMES];
	int ngames;
	struct idset ids;

	int holding;
	struct rstore hold, page;
	int backfilling;		/* a backfill is owed */
	int bf_game;			/* game being backfilled, or -1 */
	char bf_since[TS_STATE_TIME_MAX];
	int64_t bf_started;
	unsigned long bf_rounds, bf_pages;

	unsigned long step_rounds;	/* delivered since the last flush */
	int dirty;			/* cursors changed since the save */
	unsigned long dup_count;
	int output_failed;		/* never save state after that */
};

static void
logmsg(struct ts_client *c, int level, const char *fmt, ...)
{
	char line[768];
	va_list ap;

	if (c->cfg.on_log == NULL || level > c->cfg.verbosity)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->cfg.on_log(c->cfg.arg, level, line);
}

static int
fatal(struct ts_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->fatal == 0) {
		c->fatal = err;
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	return c->fatal;
}

static int
ms(double seconds)
{
	return (int)(seconds * 1000.0 + 0.5);
}

/* ---- recent ids ---- */

static uint64_t
idkey(const char *game, size_t glen, const char *id, size_t idlen)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < glen; i++) {
		h ^= (unsigned char)game[i];
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;	/* a byte no slug holds, so "ab"+"c" != "a"+"bc" */
	h *= 0x100000001b3ULL;
	for (i = 0; i < idlen; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

static int
idset_init(struct idset *s)
{
	s->size = IDSET_WINDOW * 2;
	s->count = 0;
	s->gen[0] = calloc(s->size, sizeof(uint64_t));
	s->gen[1] = calloc(s->size, sizeof(uint64_t));
	return s->gen[0] && s->gen[1] ? 0 : -1;
}

static int
idset_in(const uint64_t *t, size_t size, uint64_t k)
{
	size_t i = (size_t)k & (size - 1);

	while (t[i] != 0) {
		if (t[i] == k)
			return 1;
		i = (i + 1) & (size - 1);
	}
	return 0;
}

static int
idset_has(const struct idset *s, uint64_t k)
{
	return idset_in(s->gen[0], s->size, k) ||
	    idset_in(s->gen[1], s->size, k);
}

static void
idset_add(struct idset *s, uint64_t k)
{
	uint64_t *t;
	size_t i;

	if (idset_has(s, k))
		return;
	if (s->count >= IDSET_WINDOW) {
		t = s->gen[1];
		s->gen[1] = s->gen[0];
		s->gen[0] = t;
		memset(t, 0, s->size * sizeof(uint64_t));
		s->count = 0;
	}
	t = s->gen[0];
	i = (size_t)k & (s->size - 1);
	while (t[i] != 0)
		i = (i + 1) & (s->size - 1);
	t[i] = k;
	s->count++;
}

/* ---- games and cursors ---- */

static struct game *
game_find(struct ts_client *c, const char *slug, size_t len, int add)
{
	struct game *g;
	int i;

	for (i = 0; i < c->ngames; i++) {
		g = &c->games[i];
		if (strlen(g->cur.slug) == len &&
		    memcmp(g->cur.slug, slug, len) == 0)
			return g;
	}
	if (!add || c->ngames == TS_STATE_MAX_GAMES ||
	    len >= sizeof(g->cur.slug) || len == 0)
		return NULL;
	g = &c->games[c->ngames++];
	memset(g, 0, sizeof(*g));
	memcpy(g->cur.slug, slug, len);
	g->cur.slug[len] = '\0';
	return g;
}

static void
cursor_set(struct game *g, const char *t, size_t tlen, int64_t sec,
    uint32_t nsec, uint64_t key)
{
	memcpy(g->cur.last, t, tlen);
	g->cur.last[tlen] = '\0';
	g->sec = sec;
	g->nsec = nsec;
	g->cur.nids = 0;
	g->cur.ids[g->cur.nids++] = key;
}

static int
time_cmp(int64_t as, uint32_t an, int64_t bs, uint32_t bn)
{
	if (as != bs)
		return as < bs ? -1 : 1;
	if (an != bn)
		return an < bn ? -1 : 1;
	return 0;
}

/*
 * Move the cursor of g past a round just handled.  Rounds older than
 * the cursor (late ones) leave it alone: the cursor only moves forward.
 */
static void
cursor_advance(struct ts_client *c, struct game *g,
    const struct ts_round_info *r, int64_t sec, uint32_t nsec, uint64_t key)
{
	int cmp;

	if (r->finalized_at_len >= sizeof(g->cur.last))
		return;
	cmp = g->cur.last[0] ? time_cmp(sec, nsec, g->sec, g->nsec) : 1;
	if (cmp > 0)
		cursor_set(g, r->finalized_at, r->finalized_at_len, sec, nsec,
		    key);
	else if (cmp == 0 && g->cur.nids < TS_STATE_IDS)
		g->cur.ids[g->cur.nids++] = key;
	if (cmp >= 0)
		c->dirty = 1;
}

/* ---- handling one round ---- */

/*
 * The one door every round goes through: dedupe, --above, callback,
 * cursor.  sec and nsec are its finalized_at, as the round reader read
 * it.  Returns 1 if new (handled now), 0 if seen before, -1 if the
 * output failed.
 */
static int
handle(struct ts_client *c, struct ts_round_info *r, int64_t sec,
    uint32_t nsec)
{
	struct game *g;
	uint64_t key;
	int print = 1;

	key = idkey(r->game_id, r->game_id_len, r->round_id, r->round_id_len);
	if (idset_has(&c->ids, key)) {
		c->dup_count++;
		logmsg(c, TS_LOG_DEBUG, "round %.*s of %.*s already handled",
		    (int)r->round_id_len, r->round_id, (int)r->game_id_len,
		    r->game_id);
		return 0;
	}
	g = game_find(c, r->game_id, r->game_id_len, 1);
	if (g != NULL && g->cur.last[0] &&
	    time_cmp(sec, nsec, g->sec, g->nsec) < 0) {
		r->late = 1;
		if (r->backfilled)
			logmsg(c, TS_LOG_INFO, "late round %.*s of %s (%.*s) "
			    "printed after newer ones", (int)r->round_id_len,
			    r->round_id, g->cur.slug,
			    (int)r->finalized_at_len, r->finalized_at);
	}
	if (c->cfg.above != NULL)
		print = ts_round_above(r->multiplier, r->multiplier_len,
		    c->cfg.above, strlen(c->cfg.above)) == 1;
	if (print) {
		if (c->cfg.on_round(c->cfg.arg, r) < 0) {
			c->output_failed = 1;
			fatal(c, TS_ERR_CLIENT_OUTPUT, "output closed");
			return -1;
		}
		c->step_rounds++;
	}
	idset_add(&c->ids, key);
	if (g != NULL)
		cursor_advance(c, g, r, sec, nsec, key);
	return 1;
}

static void
field(const struct ts_round_field *f, const char **p, size_t *n)
{
	*p = f->ptr;
	*n = f->len;
}

static void
info_from_round(struct ts_round_info *ri, const struct ts_round *r)
{
	memset(ri, 0, sizeof(*ri));
	ri->json = r->obj;
	ri->json_len = r->obj_len;
	field(&r->game_id, &ri->game_id, &ri->game_id_len);
	field(&r->round_id, &ri->round_id, &ri->round_id_len);
	field(&r->round_index, &ri->round_index, &ri->round_index_len);
	field(&r->multiplier, &ri->multiplier, &ri->multiplier_len);
	field(&r->finalized_at, &ri->finalized_at, &ri->finalized_at_len);
}

/* Only finalised rounds are printed; a round without state is one. */
static int
finalized(const struct ts_round *r)
{
	return r->state.ptr == NULL ||
	    (r->state.len == 9 && memcmp(r->state.ptr, "finalized", 9) == 0);
}

/* ---- stored rounds (held live rounds, backfill pages) ---- */

static int
rstore_alloc(struct rstore *s, size_t cap, size_t ecap)
{
	if (s->buf != NULL)
		return 0;
	s->buf = malloc(cap);
	s->e = malloc(ecap * sizeof(*s->e));
	if (s->buf == NULL || s->e == NULL) {
		free(s->buf);
		free(s->e);
		s->buf = NULL;
		s->e = NULL;
		return -1;
	}
	s->cap = cap;
	s->ecap = ecap;
	s->len = s->n = 0;
	return 0;
}

static void
rstore_free(struct rstore *s)
{
	free(s->buf);
	free(s->e);
	s->buf = NULL;
	s->e = NULL;
}

static void
set_f(struct rentry *e, int i, const struct ts_round *r,
    const struct ts_round_field *f)
{
	e->foff[i] = f->ptr ? (uint32_t)(f->ptr - r->obj) : 0;
	e->flen[i] = (uint32_t)f->len;
}

/* Copy r in; 0, or -1 when the store is full. */
static int
rstore_add(struct rstore *s, const struct ts_round *r)
{
	struct rentry *e;

	if (s->n == s->ecap || s->cap - s->len < r->obj_len)
		return -1;
	e = &s->e[s->n++];
	e->off = s->len;
	e->len = (uint32_t)r->obj_len;
	memcpy(s->buf + s->len, r->obj, r->obj_len);
	s->len += r->obj_len;
	set_f(e, F_GAME, r, &r->game_id);
	set_f(e, F_ID, r, &r->round_id);
	set_f(e, F_INDEX, r, &r->round_index);
	set_f(e, F_MULT, r, &r->multiplier);
	set_f(e, F_TIME, r, &r->finalized_at);
	e->sec = r->finalized_sec;
	e->nsec = r->finalized_nsec;
	return 0;
}

static void
rstore_info(const struct rstore *s, const struct rentry *e,
    struct ts_round_info *ri)
{
	const char *b = s->buf + e->off;

	memset(ri, 0, sizeof(*ri));
	ri->json = b;
	ri->json_len = e->len;
	ri->game_id = b + e->foff[F_GAME];
	ri->game_id_len = e->flen[F_GAME];
	ri->round_id = b + e->foff[F_ID];
	ri->round_id_len = e->flen[F_ID];
	ri->round_index = b + e->foff[F_INDEX];
	ri->round_index_len = e->flen[F_INDEX];
	ri->multiplier = b + e->foff[F_MULT];
	ri->multiplier_len = e->flen[F_MULT];
	ri->finalized_at = b + e->foff[F_TIME];
	ri->finalized_at_len = e->flen[F_TIME];
}

static int
entry_cmp(const struct rstore *s, const struct rentry *a,
    const struct rentry *b)
{
	int cmp = time_cmp(a->sec, a->nsec, b->sec, b->nsec);

	if (cmp != 0)
		return cmp;
	return ts_round_index_cmp(s->buf + a->off + a->foff[F_INDEX],
	    a->flen[F_INDEX], s->buf + b->off + b->foff[F_INDEX],
	    b->flen[F_INDEX]);
}

static void
sift_down(struct rstore *s, size_t root, size_t n)
{
	struct rentry t;
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n &&
		    entry_cmp(s, &s->e[child], &s->e[child + 1]) < 0)
			child++;
		if (entry_cmp(s, &s->e[root], &s->e[child]) >= 0)
			return;
		t = s->e[root];
		s->e[root] = s->e[child];
		s->e[child] = t;
		root = child;
	}
}

/*
 * Heapsort of a page's entries by finalized_at, then round_index.  Not
 * qsort(): C99's has no context argument, and a global for the page
 * would make two clients in two threads trip over each other.
 */
static void
rstore_sort(struct rstore *s)
{
	struct rentry t;
	size_t i, n = s->n;

	for (i = n / 2; i-- > 0;)
		sift_down(s, i, n);
	while (n > 1) {
		n--;
		t = s->e[0];
		s->e[0] = s->e[n];
		s->e[n] = t;
		sift_down(s, 0, n);
	}
}

/* ---- the hold ---- */

static int release_hold(struct ts_client *c);

/*
 * The hold is full while a backfill is still owed: print what is held
 * and leave the gap open, so that the backfill's rounds come late
 * rather than never (SPEC §7.3).
 */
static int
hold_overflow(struct ts_client *c)
{
	int i;

	logmsg(c, TS_LOG_ERROR, "gap: %zu live rounds held and the backfill "
	    "is not done; printing them, the gap stays open", c->hold.n);
	for (i = 0; i < c->ngames; i++) {
		struct game *g = &c->games[i];

		if (g->need_backfill && !g->gap_open) {
			g->gap = g->cur;
			g->gap_open = 1;
		}
	}
	return release_hold(c);
}

static int
release_hold(struct ts_client *c)
{
	struct ts_round_info ri;
	size_t i;

	c->holding = 0;
	for (i = 0; i < c->hold.n; i++) {
		rstore_info(&c->hold, &c->hold.e[i], &ri);
		if (handle(c, &ri, c->hold.e[i].sec, c->hold.e[i].nsec) < 0)
			return -1;
	}
	if (c->hold.n > 0)
		logmsg(c, TS_LOG_DEBUG, "released %zu held live rounds",
		    c->hold.n);
	c->hold.n = 0;
	c->hold.len = 0;
	return 0;
}

static int
live_round(struct ts_client *c, const struct ts_round *r)
{
	struct ts_round_info ri;

	if (!finalized(r)) {
		logmsg(c, TS_LOG_DEBUG, "round %.*s not finalized: skipped",
		    (int)r->round_id.len, r->round_id.ptr);
		return 0;
	}
	if (c->holding) {
		if (c->hold.n < c->cfg.max_held && rstore_add(&c->hold, r) == 0)
			return 0;
		if (hold_overflow(c) < 0)
			return -1;
	}
	info_from_round(&ri, r);
	return handle(c, &ri, r->finalized_sec, r->finalized_nsec) < 0 ?
	    -1 : 0;
}

/* ---- links: connect, request, response ---- */

static void
link_close(struct link *l)
{
	if (l->phase == L_CONNECT)
		ts_net_abort(&l->net);
	if (l->conn_live)
		ts_conn_close(l->conn);
	l->conn_live = 0;
}

/* Full jitter: a uniform delay in [0, min(cap, base * 2^attempt)]. */
static int64_t
backoff_ms(struct link *l)
{
	uint32_t r = 0;
	int64_t cap = BACKOFF_BASE_MS;
	int i;

	for (i = 0; i < l->attempt && cap < BACKOFF_CAP_MS; i++)
		cap *= 2;
	if (cap > BACKOFF_CAP_MS)
		cap = BACKOFF_CAP_MS;
	if (l->attempt < 30)
		l->attempt++;
	ts_random(&r, sizeof(r));
	return (int64_t)(r % (uint32_t)(cap + 1));
}

/* Retry-After as a delay in ms, or -1 if absent or unusable. */
static int64_t
retry_after_ms(struct link *l)
{
	struct timespec ts;
	int64_t delay, ms;

	if (!l->http.retry_after_seen || l->http.retry_after_len == 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts_http_retry_after(l->http.retry_after, l->http.retry_after_len,
	    (int64_t)ts.tv_sec, &delay) < 0)
		return -1;
	if (delay > RETRY_AFTER_CAP_S)
		delay = RETRY_AFTER_CAP_S;
	ms = delay * 1000;
	/* An HTTP-date names a whole second: count from now, not from the
	 * start of the current second. */
	if (l->http.retry_after[0] < '0' || l->http.retry_after[0] > '9')
		ms -= ts.tv_nsec / 1000000;
	return ms < 0 ? 0 : ms;
}

/* Drop the link and schedule the next attempt. */
static void
link_retry(struct ts_client *c, struct link *l, int64_t now,
    int64_t delay, const char *reason)
{
	link_close(l);
	if (delay < 0)
		delay = backoff_ms(l);
	l->phase = L_WAIT;
	l->wake = now + delay;
	logmsg(c, TS_LOG_INFO, "%s: %s; retrying in %.3f s", l->name, reason,
	    delay / 1000.0);
}

static void stream_down(struct ts_client *c, int64_t now,
    const char *reason);

/*
 * A link failed for reason.  `rounds` gives up (err is fatal); the
 * stream reconnects; a backfill request is retried.  Returns -1 if fatal.
 */
static int
link_fail(struct ts_client *c, struct link *l, int64_t now, int err,
    const char *reason)
{
	if (c->cfg.mode == TS_MODE_ROUNDS) {
		link_close(l);
		l->phase = L_IDLE;
		fatal(c, err, "%s", reason);
		return -1;
	}
	if (l == &c->stream)
		stream_down(c, now, reason);
	else
		link_retry(c, l, now, -1, reason);
	return 0;
}

static int
link_start(struct ts_client *c, struct link *l, int64_t now)
{
	int rc;

	rc = ts_net_resolve(&l->net, l->url.host, l->url.port);
	if (rc < 0)
		return link_fail(c, l, now, rc, l->net.why);
	logmsg(c, TS_LOG_DEBUG, "%s: connecting to %s port %u", l->name,
	    l->url.host, l->url.port);
	ts_net_start(&l->net, now, ms(c->cfg.connect_timeout));
	l->phase = L_CONNECT;
	l->deadline = now + ms(c->cfg.connect_timeout);
	l->status = 0;
	l->errbody_len = 0;
	l->date = 0;
	return 0;
}

/* TCP is up: wrap it, write the request, wait for the response head. */
static int
link_connected(struct ts_client *c, struct link *l, int fd)
{
	struct ts_http_req req;
	unsigned char seed[32], nonce[16];
	int rc;

	l->conn_live = 1;
	l->rx_left = 0;
	if (l->url.tls) {
		if (ts_random(seed, sizeof(seed)) < 0) {
			ts_conn_plain(l->conn, fd);
			return fatal(c, TS_ERR_TLS_PROTOCOL,
			    "no randomness from the OS");
		}
		rc = ts_conn_tls(l->conn, fd, l->url.host, &c->trust,
		    &l->session, seed);
		if (rc < 0)
			return fatal(c, rc, "%s", l->conn->why);
	} else {
		ts_conn_plain(l->conn, fd);
	}
	memset(&req, 0, sizeof(req));
	req.host = l->url.host;
	req.port = l->url.port;
	req.tls = l->url.tls;
	req.target = l->url.target;
	req.bearer = c->cfg.key;
	if (l == &c->stream) {
		if (ts_random(nonce, sizeof(nonce)) < 0)
			return fatal(c, TS_ERR_TLS_PROTOCOL,
			    "no randomness from the OS");
		ts_ws_key(c->ws_key, nonce);
		ts_ws_hs_init(&c->hs, c->ws_key);
		req.ws_key = c->ws_key;
	}
	rc = ts_http_request(l->req, sizeof(l->req), &req);
	if (rc < 0)
		return fatal(c, rc, "%s: cannot write the request: %s",
		    l->name, ts_strerror(rc));
	l->req_len = (size_t)rc;
	l->req_off = 0;
	ts_http_init(&l->http, l->hbuf, sizeof(l->hbuf));
	l->phase = L_HANDSHAKE;
	return 0;
}

/* Queue as much of the request as the transport takes. */
static void
send_request(struct link *l)
{
	unsigned char *buf;
	size_t avail, n;

	while (l->req_off < l->req_len) {
		buf = ts_conn_send(l->conn, &avail);
		if (buf == NULL || avail == 0)
			return;
		n = l->req_len - l->req_off;
		if (n > avail)
			n = avail;
		memcpy(buf, l->req + l->req_off, n);
		ts_conn_send_ack(l->conn, n);
		l->req_off += n;
	}
	ts_conn_flush(l->conn);
}

/* Write pending WebSocket replies (pong, close answer) if they fit. */
static void
send_ws_replies(struct ts_client *c)
{
	struct link *l = &c->stream;
	unsigned char mask[4], *buf;
	size_t avail;
	int n;

	while (ts_ws_want_write(&c->ws)) {
		buf = ts_conn_send(l->conn, &avail);
		if (buf == NULL || avail < TS_WS_CONTROL_FRAME_MAX)
			return;
		ts_random(mask, sizeof(mask));
		n = ts_ws_pending(&c->ws, buf, avail, mask);
		if (n <= 0)
			return;
		ts_conn_send_ack(l->conn, (size_t)n);
		ts_conn_flush(l->conn);
	}
}

/* Send a control frame of ours (ping, close); best effort. */
static void
send_ws(struct ts_client *c, int opcode, int code)
{
	struct link *l = &c->stream;
	unsigned char mask[4], *buf;
	size_t avail;
	int n;

	buf = ts_conn_send(l->conn, &avail);
	if (buf == NULL)
		return;
	ts_random(mask, sizeof(mask));
	if (opcode == TS_WS_OP_CLOSE)
		n = ts_ws_close(&c->ws, buf, avail, code, mask);
	else
		n = ts_ws_send(&c->ws, buf, avail, opcode, "", 0, mask);
	if (n > 0) {
		ts_conn_send_ack(l->conn, (size_t)n);
		ts_conn_flush(l->conn);
		ts_conn_io(l->conn, POLLOUT);
	}
}

/* ---- backfill ---- */

static int rest_next(struct ts_client *c, int64_t now);

static const char *
resume_point(const struct game *g)
{
	return g->gap_open ? g->gap.last : g->cur.last;
}

/* Is slug one of --games (every game is, when that list is empty)? */
static int
subscribed(const struct ts_client *c, const char *slug)
{
	const char *p = c->cfg.games, *end;
	size_t len = strlen(slug);

	if (p == NULL || p[0] == '\0')
		return 1;
	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) == len && memcmp(p, slug, len) == 0)
			return 1;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

/*
 * A game named by --games that has no cursor yet gets the time of the
 * subscription as its cursor (the server's Date, else our clock), so
 * that a gap before its first round is backfilled too.  With an empty
 * --games list the games are not known before their first round.
 */
static void
floor_games(struct ts_client *c, int64_t date)
{
	const char *p = c->cfg.games, *end;
	struct game *g;
	time_t t = date > 0 ? (time_t)date : time(NULL);
	struct tm tm;
	char stamp[32];
	size_t n;

	if (p == NULL || p[0] == '\0' || gmtime_r(&t, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return;
	for (;;) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		g = game_find(c, p, n, 1);
		if (g != NULL && g->cur.last[0] == '\0' && !g->gap_open) {
			snprintf(g->cur.last, sizeof(g->cur.last), "%s", stamp);
			g->sec = (int64_t)t;
			g->nsec = 0;
			g->cur.nids = 0;
			c->dirty = 1;
			logmsg(c, TS_LOG_DEBUG, "%s: no round yet, resume "
			    "point %s", g->cur.slug, stamp);
		}
		if (end == NULL)
			return;
		p = end + 1;
	}
}

/*
 * After a (re)connect: owe a backfill for every subscribed game with a
 * cursor.  A game that the state file names but --games leaves out is
 * not fetched (nobody asked for its rounds); its cursor stays in the
 * file for a later run that asks.
 */
static void
backfill_begin(struct ts_client *c, int64_t now)
{
	int i, owed = 0;

	for (i = 0; i < c->ngames; i++)
		if (resume_point(&c->games[i])[0] &&
		    subscribed(c, c->games[i].cur.slug)) {
			c->games[i].need_backfill = 1;
			owed++;
		}
	if (owed == 0)
		return;
	if (rstore_alloc(&c->hold, HOLD_BYTES, c->cfg.max_held) < 0)
		logmsg(c, TS_LOG_ERROR, "no memory to hold live rounds during "
		    "the backfill: printing them as they come");
	else
		c->holding = 1;
	if (!c->backfilling) {
		c->backfilling = 1;
		c->bf_game = -1;
		c->bf_started = now;
		c->bf_rounds = c->bf_pages = 0;
	}
}

/* The backfill of every game is done: print what was held. */
static int
backfill_end(struct ts_client *c, int64_t now)
{
	logmsg(c, TS_LOG_INFO, "backfill done: %lu missed rounds in %lu "
	    "pages, %.3f s", c->bf_rounds, c->bf_pages,
	    (now - c->bf_started) / 1000.0);
	c->backfilling = 0;
	c->bf_game = -1;
	return release_hold(c);
}

static int
rest_request(struct ts_client *c, int64_t now, const char *slug,
    const char *since)
{
	char url[TS_URL_BUFSIZE];
	int rc;

	rc = ts_url_rest(url, sizeof(url), c->cfg.api, slug, since);
	if (rc >= 0)
		rc = ts_url_parse(&c->rest.url, url, (size_t)rc);
	if (rc < 0)
		return fatal(c, rc, "cannot build the REST URL for %s: %s",
		    slug, ts_strerror(rc));
	c->page.n = c->page.len = 0;
	ts_round_init(&c->body, c->body_buf, c->round_buflen, TS_ROUND_BODY);
	ts_round_set_game(&c->body, slug, strlen(slug));
	logmsg(c, TS_LOG_DEBUG, "rest: GET rounds of %s since %s", slug,
	    since && since[0] ? since : "(API default)");
	return link_start(c, &c->rest, now);
}

/* Start the next REST request the backfill (or `rounds`) needs. */
static int
rest_next(struct ts_client *c, int64_t now)
{
	struct game *g;
	int i;

	if (c->rest.phase != L_IDLE || c->stopping)
		return 0;
	if (c->cfg.mode == TS_MODE_ROUNDS) {
		if (c->bf_game < 0) {
			c->finished = 1;
			return 0;
		}
		return rest_request(c, now, c->cfg.game, c->bf_since);
	}
	if (!c->backfilling)
		return 0;
	if (c->bf_game < 0) {
		for (i = 0; i < c->ngames; i++)
			if (c->games[i].need_backfill)
				break;
		if (i == c->ngames)
			return backfill_end(c, now);
		c->bf_game = i;
		snprintf(c->bf_since, sizeof(c->bf_since), "%s",
		    resume_point(&c->games[i]));
	}
	g = &c->games[c->bf_game];
	return rest_request(c, now, g->cur.slug, c->bf_since);
}

/*
 * A page has arrived whole: sort it, hand its rounds through the one
 * door, then decide whether to follow with the next page (since = the
 * greatest finalized_at seen) or call this game done (SPEC §7.2).
 */
static int
page_done(struct ts_client *c, int64_t now)
{
	struct ts_round_info ri;
	const struct rentry *last = NULL;
	unsigned long fresh = 0;
	size_t i;
	int rc;

	rstore_sort(&c->page);
	for (i = 0; i < c->page.n; i++) {
		rstore_info(&c->page, &c->page.e[i], &ri);
		ri.backfilled = 1;
		rc = handle(c, &ri, c->page.e[i].sec, c->page.e[i].nsec);
		if (rc < 0)
			return -1;
		fresh += (unsigned long)rc;
		last = &c->page.e[i];
	}
	c->bf_pages++;
	c->bf_rounds += fresh;
	if (fresh > 0 && last != NULL &&
	    last->flen[F_TIME] < sizeof(c->bf_since)) {
		memcpy(c->bf_since, c->page.buf + last->off + last->foff[F_TIME],
		    last->flen[F_TIME]);
		c->bf_since[last->flen[F_TIME]] = '\0';
		logmsg(c, TS_LOG_DEBUG, "rest: page of %zu rows, %lu new; next "
		    "since %s", c->page.n, fresh, c->bf_since);
		return 0;
	}
	/* This game is caught up. */
	if (c->cfg.mode == TS_MODE_ROUNDS) {
		c->bf_game = -1;
		return 0;
	}
	if (c->bf_game >= 0) {
		struct game *g = &c->games[c->bf_game];

		logmsg(c, TS_LOG_INFO, "backfill %s: caught up%s", g->cur.slug,
		    g->gap_open ? " (gap closed)" : "");
		g->need_backfill = 0;
		g->gap_open = 0;
		c->dirty = 1;
	}
	c->bf_game = -1;
	(void)now;
	return 0;
}

/* ---- response handling ---- */

static void
keep_errbody(struct link *l, const char *p, size_t n)
{
	size_t room = ERRBODY_MAX - l->errbody_len, i;

	if (n > room)
		n = room;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		/* The server's words go to a log line: no control bytes. */
		l->errbody[l->errbody_len++] = ch < 0x20 || ch == 0x7f ? ' ' :
		    (char)ch;
	}
	l->errbody[l->errbody_len] = '\0';
}

/*
 * A response that is not what we asked for (not 101 on the stream, not
 * 200 on REST), read to its end: decide fatal or retry.
 */
static int
http_refused(struct ts_client *c, struct link *l, int64_t now)
{
	char reason[320];
	int64_t delay = -1;

	snprintf(reason, sizeof(reason), "HTTP %s%s%s", l->status_line,
	    l->errbody_len ? ": " : "", l->errbody);
	if (l->status == 401 || l->status == 403) {
		link_close(l);
		return fatal(c, TS_ERR_CLIENT_AUTH, "API key refused: %s",
		    reason);
	}
	if (l->status == 429 || l->status == 503)
		delay = retry_after_ms(l);
	if (c->cfg.mode == TS_MODE_ROUNDS && delay < 0) {
		link_close(l);
		return fatal(c, TS_ERR_CLIENT_HTTP_STATUS, "%s", reason);
	}
	link_retry(c, l, now, delay, reason);
	return 0;
}

static void
status_line(struct link *l)
{
	snprintf(l->status_line, sizeof(l->status_line), "%d %.*s",
	    l->http.status, (int)(l->http.reason_len > 60 ? 60 :
	    l->http.reason_len), l->http.reason);
}

/* The upgrade succeeded: the stream is open. */
static int
stream_open(struct ts_client *c, int64_t now)
{
	struct link *l = &c->stream;

	ts_ws_init(&c->ws);
	c->ws.max_message = c->cfg.max_message;
	ts_round_init(&c->live, c->live_buf, c->round_buflen,
	    TS_ROUND_MESSAGE);
	c->live_bad = 0;
	l->phase = L_OPEN;
	c->last_rx = now;
	c->ping_sent = 0;
	c->opened_at = now;
	logmsg(c, TS_LOG_INFO, "stream: connected to %s%s%s", l->url.host,
	    l->url.tls ? " (TLS" : "", l->url.tls ? (l->conn->resumed ?
	    ", resumed)" : ")") : "");
	floor_games(c, l->date);
	backfill_begin(c, now);
	return rest_next(c, now);
}

static int
is_date_header(const char *name, size_t len)
{
	return len == 4 && (name[0] | 0x20) == 'd' && (name[1] | 0x20) == 'a' &&
	    (name[2] | 0x20) == 't' && (name[3] | 0x20) == 'e';
}

/* Events of the response head (and of an error body). */
static int
http_events(struct ts_client *c, struct link *l, int64_t now)
{
	int ev, rc;

	while ((ev = ts_http_event(&l->http)) > 0) {
		switch (ev) {
		case TS_HTTP_EV_STATUS:
			l->status = l->http.status;
			status_line(l);
			break;
		case TS_HTTP_EV_HEADER:
			if (l == &c->stream)
				ts_ws_hs_header(&c->hs, l->http.name,
				    l->http.name_len, l->http.value,
				    l->http.value_len);
			if (is_date_header(l->http.name, l->http.name_len) &&
			    ts_http_date(l->http.value, l->http.value_len,
			    &l->date) < 0)
				l->date = 0;
			break;
		case TS_HTTP_EV_HEADERS_END:
			l->phase = L_BODY;
			if (l == &c->stream && l->status == 101) {
				rc = ts_ws_hs_finish(&c->hs, l->status);
				if (rc < 0)
					return link_fail(c, l, now, rc,
					    ts_strerror(rc)) < 0 ? -1 : 1;
				return stream_open(c, now) < 0 ? -1 : 1;
			}
			break;
		case TS_HTTP_EV_BODY:
			if (l->status == 200 && l == &c->rest)
				return 2;	/* body for the round reader */
			keep_errbody(l, l->http.data, l->http.data_len);
			break;
		case TS_HTTP_EV_END:
			if (l->status == 200 && l == &c->rest) {
				ts_conn_close(l->conn);
				l->conn_live = 0;
				l->phase = L_IDLE;
				l->attempt = 0;	/* a page came: backoff anew */
				rc = ts_round_finish(&c->body);
				while ((ev = ts_round_event(&c->body)) > 0)
					;
				if (rc < 0 || ev < 0) {
					rc = rc < 0 ? rc : ev;
					return link_fail(c, l, now, rc,
					    ts_strerror(rc)) < 0 ? -1 : 1;
				}
				if (page_done(c, now) < 0)
					return -1;
				return rest_next(c, now) < 0 ? -1 : 1;
			}
			return http_refused(c, l, now) < 0 ? -1 : 1;
		}
	}
	if (ev < 0)
		return link_fail(c, l, now, ev, ts_strerror(ev)) < 0 ? -1 : 1;
	return 0;
}

/* Body bytes of a 200 REST response into the round reader. */
static int
rest_body(struct ts_client *c, const char *p, size_t n)
{
	size_t k;
	int ev;

	while (n > 0) {
		k = ts_round_push(&c->body, p, n);
		p += k;
		n -= k;
		while ((ev = ts_round_event(&c->body)) > 0) {
			if (ev == TS_ROUND_EV_SKIPPED) {
				logmsg(c, TS_LOG_INFO, "rest: row %.*s%s "
				    "skipped: %s", (int)c->body.skip_id_len,
				    c->body.skip_id, c->body.skip_id_len ?
				    "" : "(no round_id)",
				    ts_strerror(c->body.skip_err));
				continue;
			}
			if (!finalized(&c->body.round))
				continue;
			if (rstore_add(&c->page, &c->body.round) < 0)
				return TS_ERR_ROUND_TOO_BIG;
		}
		if (ev < 0)
			return ev;
		if (k == 0)
			break;
	}
	return 0;
}

/* Feed received bytes to a link in a head/body phase. */
static int
http_input(struct ts_client *c, struct link *l, const unsigned char *data,
    size_t len, size_t *used, int64_t now)
{
	size_t k, off = 0;
	int rc;

	while (off < len && (l->phase == L_HANDSHAKE || l->phase == L_BODY)) {
		k = ts_http_push(&l->http, data + off, len - off);
		off += k;
		rc = http_events(c, l, now);
		if (rc == 2) {
			rc = rest_body(c, l->http.data, l->http.data_len);
			if (rc < 0) {
				char why[128];

				*used = off;
				if (rc == TS_ERR_ROUND_TOO_BIG)
					snprintf(why, sizeof(why), "page "
					    "bigger than %zu bytes",
					    c->cfg.max_page);
				else
					snprintf(why, sizeof(why), "%s",
					    ts_strerror(rc));
				return link_fail(c, l, now, rc, why);
			}
			continue;
		}
		if (rc != 0) {
			*used = off;
			return rc < 0 ? -1 : 0;
		}
		if (k == 0)
			break;
	}
	*used = off;
	return 0;
}

/* ---- the WebSocket stream ---- */

static void
stream_down(struct ts_client *c, int64_t now, const char *reason)
{
	struct link *l = &c->stream;

	if (l->phase == L_OPEN || l->phase == L_CLOSING) {
		if (now - c->opened_at >= HEALTHY_MS)
			l->attempt = 0;
	}
	if (c->stopping) {
		link_close(l);
		l->phase = L_IDLE;
		return;
	}
	link_retry(c, l, now, -1, reason);
}

/* A protocol error of the server: close with its code, reconnect. */
static void
stream_fail(struct ts_client *c, int64_t now, int err)
{
	char reason[160];
	int code = ts_ws_fail_code(&c->ws);

	snprintf(reason, sizeof(reason), "%s (closing with %d)",
	    ts_strerror(err), code ? code : 1002);
	send_ws(c, TS_WS_OP_CLOSE, code ? code : 1002);
	stream_down(c, now, reason);
}

static int
message_end(struct ts_client *c)
{
	int rc, ev;

	if (c->ws.msg_opcode != TS_WS_OP_TEXT) {
		logmsg(c, TS_LOG_DEBUG, "stream: binary message skipped");
		goto next;
	}
	if (c->live_bad)
		goto next;
	rc = ts_round_finish(&c->live);
	while ((ev = ts_round_event(&c->live)) > 0)
		if (ev == TS_ROUND_EV_ROUND && live_round(c, &c->live.round) < 0)
			return -1;
	if (rc < 0 || ev < 0)
		logmsg(c, TS_LOG_DEBUG, "stream: message skipped: %s",
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
			logmsg(c, TS_LOG_DEBUG, "stream: message skipped: %s",
			    ts_strerror(ev));
			c->live_bad = 1;
			return;
		}
		if (k == 0 && ev == 0)
			return;
	}
}

/* Feed received bytes to the open stream. */
static int
ws_input(struct ts_client *c, const unsigned char *data, size_t len,
    size_t *used, int64_t now)
{
	struct link *l = &c->stream;
	size_t k, off = 0;
	int ev;

	while (off < len && (l->phase == L_OPEN || l->phase == L_CLOSING)) {
		k = ts_ws_push(&c->ws, data + off, len - off);
		off += k;
		while ((ev = ts_ws_event(&c->ws)) > 0) {
			switch (ev) {
			case TS_WS_EV_DATA:
				message_data(c, c->ws.data, c->ws.data_len);
				break;
			case TS_WS_EV_MESSAGE:
				if (message_end(c) < 0) {
					*used = off;
					return -1;
				}
				break;
			case TS_WS_EV_CLOSE:
				send_ws_replies(c);
				ts_conn_io(l->conn, POLLOUT);
				*used = off;
				if (l->phase == L_CLOSING) {
					stream_down(c, now, "closed");
				} else {
					char why[200];

					snprintf(why, sizeof(why), "server "
					    "closed the stream with %d %.*s",
					    c->ws.close_code,
					    (int)c->ws.ctl_len, c->ws.ctl);
					stream_down(c, now, why);
				}
				return 0;
			default:	/* ping and pong: replies below */
				break;
			}
		}
		if (ev < 0) {
			*used = off;
			stream_fail(c, now, ev);
			return 0;
		}
		if (k == 0)
			break;
	}
	*used = off;
	send_ws_replies(c);
	return 0;
}

/* ---- driving a link ---- */

/*
 * What the parser left in the receive buffer.  Any later ts_conn_io()
 * (a pong, a ping, our close) may read more from the socket into that
 * buffer, where poll() cannot see it: rx_fresh() then says so.
 */
static void
rx_note(struct link *l)
{
	size_t len = 0;

	l->rx_left = 0;
	if (l->conn_live && ts_conn_recv(l->conn, &len) != NULL)
		l->rx_left = len;
}

static int
rx_fresh(struct link *l)
{
	size_t len = 0;

	return l->conn_live && l->phase >= L_HANDSHAKE &&
	    ts_conn_recv(l->conn, &len) != NULL && len > l->rx_left;
}

/*
 * A request not yet sent that the connection would take now.  Any
 * ts_conn_io() may finish the TLS handshake (the server's Finished was
 * already in, as when the client is slow); the server then waits for
 * the request and poll() would sleep until the deadline.
 */
static int
req_ready(struct link *l)
{
	size_t len = 0;

	return l->conn_live && l->phase == L_HANDSHAKE &&
	    l->req_off < l->req_len &&
	    ts_conn_send(l->conn, &len) != NULL && len > 0;
}

static int
link_input(struct ts_client *c, struct link *l, int64_t now)
{
	const unsigned char *data;
	size_t len, used;
	int rc, phase;

	while (l->conn_live &&
	    (data = ts_conn_recv(l->conn, &len)) != NULL && len > 0) {
		phase = l->phase;
		used = 0;
		if (l == &c->stream) {
			c->last_rx = now;
			c->ping_sent = 0;
		} else
			l->deadline = now + ms(c->cfg.connect_timeout);
		if (phase == L_OPEN || phase == L_CLOSING)
			rc = ws_input(c, data, len, &used, now);
		else
			rc = http_input(c, l, data, len, &used, now);
		if (rc < 0)
			return -1;
		if (!l->conn_live)
			return 0;
		ts_conn_recv_ack(l->conn, used);
		/* A parser that took nothing in an unchanged phase is done. */
		if (used == 0 && l->phase == phase)
			break;
	}
	rx_note(l);
	return 0;
}

static int
link_eof(struct ts_client *c, struct link *l, int64_t now)
{
	int rc;

	if (l->phase == L_HANDSHAKE || l->phase == L_BODY) {
		rc = ts_http_eof(&l->http);
		if (rc == 0) {
			rc = http_events(c, l, now);
			if (rc != 0 || !l->conn_live || l->phase != L_BODY)
				return rc < 0 ? -1 : 0;
		}
		return link_fail(c, l, now, rc < 0 ? rc : TS_ERR_NET_CLOSED,
		    l->status ? "connection closed in the middle of a "
		    "response" : "connection closed before any response");
	}
	if (l == &c->stream)
		stream_down(c, now, "server closed the connection");
	return 0;
}

static int
link_io(struct ts_client *c, struct link *l, short revents, int64_t now)
{
	int rc;

	rc = ts_conn_io(l->conn, revents);
	if (l->phase == L_HANDSHAKE)
		send_request(l);
	if (link_input(c, l, now) < 0)
		return -1;
	if (!l->conn_live)
		return 0;
	if (rc < 0 || l->conn->err)
		return link_fail(c, l, now, l->conn->err, l->conn->why);
	if (l->conn->eof) {
		size_t left = 0;

		if (ts_conn_recv(l->conn, &left) == NULL || left == 0)
			return link_eof(c, l, now);
	}
	ts_conn_io(l->conn, POLLOUT);
	return 0;
}

/* Deadlines and timers of a link. */
static int
link_timers(struct ts_client *c, struct link *l, int64_t now)
{
	char why[128];

	if (l->phase == L_WAIT && now >= l->wake) {
		if (c->stopping) {
			l->phase = L_IDLE;
			return 0;
		}
		if (l == &c->stream)
			return link_start(c, l, now);
		l->phase = L_IDLE;
		return rest_next(c, now);
	}
	if ((l->phase == L_HANDSHAKE || l->phase == L_BODY) &&
	    now >= l->deadline) {
		snprintf(why, sizeof(why), "no response within %g s",
		    c->cfg.connect_timeout);
		return link_fail(c, l, now, TS_ERR_NET_TIMEOUT, why);
	}
	if (l != &c->stream)
		return 0;
	if (l->phase == L_OPEN) {
		int64_t hb = ms(c->cfg.heartbeat);

		if (now - c->opened_at >= HEALTHY_MS)
			l->attempt = 0;
		if (now - c->last_rx >= 2 * hb) {
			snprintf(why, sizeof(why), "no frame for %g s (2 x "
			    "heartbeat)", 2 * c->cfg.heartbeat);
			send_ws(c, TS_WS_OP_CLOSE, 1001);
			stream_down(c, now, why);
			return 0;
		}
		if (now - c->last_rx >= hb && !c->ping_sent) {
			send_ws(c, TS_WS_OP_PING, 0);
			c->ping_sent = 1;
		}
	}
	if (l->phase == L_CLOSING && now >= l->deadline)
		stream_down(c, now, "no close frame from the server in time");
	return 0;
}

static int
link_step(struct ts_client *c, struct link *l, const struct pollfd *pfd,
    int n, int64_t now)
{
	int rc, i;
	short rev = 0;

	if (l->phase == L_CONNECT) {
		rc = ts_net_step(&l->net, pfd, n, now);
		if (rc == 1)
			return link_connected(c, l, l->net.fd) < 0 ? -1 :
			    link_io(c, l, POLLOUT, now);
		if (rc < 0)
			return link_fail(c, l, now, rc, l->net.why);
		return 0;
	}
	if (l->conn_live && l->phase >= L_HANDSHAKE) {
		for (i = 0; i < n; i++)
			if (pfd[i].fd == l->conn->fd)
				rev = pfd[i].revents;
		if (link_io(c, l, rev, now) < 0)
			return -1;
	}
	return link_timers(c, l, now);
}

/* ---- public API ---- */

static int
check_url(struct ts_client *c, const char *what, const char *url,
    struct ts_url *u, char *why, size_t whylen)
{
	int rc = ts_url_parse(u, url, strlen(url));

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
	if (u->tls && ts_url_is_ip_literal(u)) {
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
	logmsg(arg, TS_LOG_DEBUG, "%s", msg);
}

static int
setup(struct ts_client *c, char *why, size_t whylen)
{
	char url[TS_URL_BUFSIZE];
	const char *ca;
	struct ts_state_game sg[TS_STATE_MAX_GAMES];
	int rc, n, i, k;

	if (c->cfg.mode == TS_MODE_STREAM) {
		rc = ts_url_stream(url, sizeof(url), c->cfg.api,
		    c->cfg.games);
		if (rc < 0) {
			snprintf(why, whylen, "--api %s: %s", c->cfg.api,
			    ts_strerror(rc));
			return rc;
		}
		rc = check_url(c, "stream URL", url, &c->stream.url, why,
		    whylen);
		if (rc < 0)
			return rc;
	}
	rc = ts_url_rest(url, sizeof(url), c->cfg.api,
	    c->cfg.game ? c->cfg.game : "x", NULL);
	if (rc < 0) {
		snprintf(why, whylen, "--api %s: %s", c->cfg.api,
		    ts_strerror(rc));
		return rc;
	}
	rc = check_url(c, "REST URL", url, &c->rest.url, why, whylen);
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
		c->have_trust = 1;
	}
	if (c->cfg.state_file != NULL) {
		rc = ts_state_open(&c->state, c->cfg.state_file, why, whylen);
		if (rc < 0)
			return rc;
		c->have_state = 1;
		rc = ts_state_load(&c->state, sg, TS_STATE_MAX_GAMES, &n, why,
		    whylen);
		if (rc < 0)
			return rc;
		for (i = 0; i < n; i++) {
			struct game *g = game_find(c, sg[i].slug,
			    strlen(sg[i].slug), 1);

			if (g == NULL)
				continue;
			g->cur = sg[i];
			if (g->cur.last[0] && ts_round_time(g->cur.last,
			    strlen(g->cur.last), &g->sec, &g->nsec) < 0) {
				snprintf(why, whylen, "state file %s is "
				    "corrupt (bad time %s)",
				    c->cfg.state_file, g->cur.last);
				return TS_ERR_STATE_CORRUPT;
			}
			for (k = 0; k < g->cur.nids; k++)
				idset_add(&c->ids, g->cur.ids[k]);
		}
		if (n > 0)
			logmsg(c, TS_LOG_INFO, "state: resuming %d games from "
			    "%s", n, c->cfg.state_file);
	}
	return 0;
}

static void
defaults(struct ts_config *cfg)
{
	if (cfg->heartbeat <= 0)
		cfg->heartbeat = DEFAULT_HEARTBEAT;
	if (cfg->connect_timeout <= 0)
		cfg->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	if (cfg->max_message == 0)
		cfg->max_message = DEFAULT_MAX_MESSAGE;
	if (cfg->max_held == 0)
		cfg->max_held = DEFAULT_MAX_HELD;
	if (cfg->max_page == 0)
		cfg->max_page = DEFAULT_MAX_PAGE;
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
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, whylen, "out of memory");
		return TS_ERR_NOMEM;
	}
	c->cfg = *cfg;
	defaults(&c->cfg);
	c->stream.name = "stream";
	c->rest.name = "rest";
	c->state.lock_fd = -1;
	c->bf_game = -1;
	c->round_buflen = c->cfg.max_message + TS_ROUND_HEADROOM;
	c->stream.conn = malloc(sizeof(struct ts_conn));
	c->rest.conn = malloc(sizeof(struct ts_conn));
	c->live_buf = malloc(c->round_buflen);
	c->body_buf = malloc(c->round_buflen);
	if (c->stream.conn == NULL || c->rest.conn == NULL ||
	    c->live_buf == NULL || c->body_buf == NULL ||
	    idset_init(&c->ids) < 0 ||
	    rstore_alloc(&c->page, c->cfg.max_page,
	    c->cfg.max_page / PAGE_ROW_MIN) < 0) {
		ts_client_free(c);
		snprintf(why, whylen, "out of memory");
		return TS_ERR_NOMEM;
	}
	rc = setup(c, why, whylen);
	if (rc < 0) {
		ts_client_free(c);
		return rc;
	}
	if (c->cfg.mode == TS_MODE_ROUNDS) {
		c->bf_game = 0;
		snprintf(c->bf_since, sizeof(c->bf_since), "%s",
		    c->cfg.since ? c->cfg.since : "");
		c->rest.phase = L_IDLE;
	} else {
		c->stream.phase = L_WAIT;
		c->stream.wake = 0;
		c->rest.phase = L_IDLE;
	}
	*out = c;
	return 0;
}

static int
add_pfd(struct link *l, struct pollfd *pfd, int max)
{
	if (l->phase == L_CONNECT)
		return ts_net_pollfds(&l->net, pfd, max);
	if (l->conn_live && l->phase >= L_HANDSHAKE && max > 0) {
		pfd[0].fd = l->conn->fd;
		pfd[0].events = ts_conn_events(l->conn);
		pfd[0].revents = 0;
		if (pfd[0].events == 0)
			pfd[0].events = POLLIN;
		return 1;
	}
	return 0;
}

static int64_t
link_next(struct ts_client *c, const struct link *l, int64_t now)
{
	int64_t t = INT64_MAX, hb = ms(c->cfg.heartbeat);

	switch (l->phase) {
	case L_WAIT:
		return l->wake;
	case L_CONNECT:
		return now + ts_net_timeout(&l->net, now);
	case L_HANDSHAKE:
	case L_BODY:
	case L_CLOSING:
		return l->deadline;
	case L_OPEN:
		t = c->last_rx + 2 * hb;
		if (!c->ping_sent && c->last_rx + hb < t)
			t = c->last_rx + hb;
		return t;
	}
	return t;
}

int
ts_client_pollfds(struct ts_client *c, struct pollfd *pfd, int max,
    int *timeout_ms)
{
	int64_t now = ts_net_now(), t, u;
	int n = 0;

	n += add_pfd(&c->stream, pfd + n, max - n);
	n += add_pfd(&c->rest, pfd + n, max - n);
	t = link_next(c, &c->stream, now);
	u = link_next(c, &c->rest, now);
	if (u < t)
		t = u;
	if (c->finished || c->fatal || (c->cfg.mode == TS_MODE_ROUNDS &&
	    c->rest.phase == L_IDLE))
		t = now;
	/* Bytes already read but not parsed: no poll() would wake for them. */
	if (rx_fresh(&c->stream) || rx_fresh(&c->rest))
		t = now;
	if (req_ready(&c->stream) || req_ready(&c->rest))
		t = now;
	if (t == INT64_MAX)
		*timeout_ms = -1;
	else
		*timeout_ms = t <= now ? 0 : (int)(t - now > 60000 ? 60000 :
		    t - now);
	return n;
}

static void
save_state(struct ts_client *c)
{
	struct ts_state_game sg[TS_STATE_MAX_GAMES];
	char why[512];
	int i;

	if (!c->have_state || !c->dirty || c->output_failed)
		return;
	for (i = 0; i < c->ngames; i++)
		sg[i] = c->games[i].gap_open ? c->games[i].gap :
		    c->games[i].cur;
	if (ts_state_save(&c->state, sg, c->ngames, why, sizeof(why)) < 0)
		logmsg(c, TS_LOG_ERROR, "state: %s", why);
	else
		c->dirty = 0;
}

/* Output the step's rounds; only written rounds count in the state. */
static void
flush(struct ts_client *c)
{
	if (c->step_rounds == 0 && !c->dirty)
		return;
	if (c->step_rounds > 0 && c->cfg.on_flush != NULL &&
	    c->cfg.on_flush(c->cfg.arg) < 0) {
		c->output_failed = 1;
		fatal(c, TS_ERR_CLIENT_OUTPUT, "output closed");
		return;
	}
	c->step_rounds = 0;
	save_state(c);
}

int
ts_client_step(struct ts_client *c, const struct pollfd *pfd, int n)
{
	int64_t now = ts_net_now(), t0 = now;

	if (c->fatal)
		return c->fatal;
	if (c->finished)
		return 1;
	if (c->cfg.mode == TS_MODE_ROUNDS && c->rest.phase == L_IDLE) {
		if (rest_next(c, now) < 0)
			goto out;
	}
	if (c->stream.phase != L_IDLE &&
	    link_step(c, &c->stream, pfd, n, now) < 0)
		goto out;
	if (c->rest.phase != L_IDLE &&
	    link_step(c, &c->rest, pfd, n, now) < 0)
		goto out;
out:
	flush(c);
	/* Time spent writing our output is not the server's silence. */
	now = ts_net_now();
	if (c->stream.phase == L_OPEN && now - t0 > 0)
		c->last_rx += now - t0;
	if (c->fatal) {
		if (c->stream.phase == L_OPEN)
			send_ws(c, TS_WS_OP_CLOSE, 1000);
		link_close(&c->stream);
		link_close(&c->rest);
		return c->fatal;
	}
	if (c->stopping && c->stream.phase == L_IDLE)
		c->finished = 1;
	return c->finished ? 1 : 0;
}

void
ts_client_stop(struct ts_client *c)
{
	if (c->stopping)
		return;
	c->stopping = 1;
	link_close(&c->rest);
	c->rest.phase = L_IDLE;
	if (c->stream.phase == L_OPEN) {
		send_ws(c, TS_WS_OP_CLOSE, 1000);
		c->stream.phase = L_CLOSING;
		c->stream.deadline = ts_net_now() + CLOSING_MS;
	} else {
		link_close(&c->stream);
		c->stream.phase = L_IDLE;
	}
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
	if (c->stream.conn)
		link_close(&c->stream);
	if (c->rest.conn)
		link_close(&c->rest);
	if (c->have_state) {
		save_state(c);
		ts_state_close(&c->state);
	}
	if (c->have_trust)
		ts_trust_free(&c->trust);
	rstore_free(&c->hold);
	rstore_free(&c->page);
	free(c->ids.gen[0]);
	free(c->ids.gen[1]);
	free(c->stream.conn);
	free(c->rest.conn);
	free(c->live_buf);
	free(c->body_buf);
	free(c);
}
