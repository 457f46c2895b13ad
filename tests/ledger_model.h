/*
 * ledger_model.h: a fake TrackerSino world, a plain model of what the
 * ledger (src/ledger.h) owes it, and one driver between the two, shared
 * by tests/test_ledger.c (seeded, replayable runs and known answers) and
 * fuzz/fuzz_ledger.c (the fuzzer's bytes make every choice).  Header
 * only, all static: each includer is one program.
 *
 * The world.  2 to 4 games, "g0".."g3", each with a server-side history
 * of rounds in finalized_at order: instants never decrease, at most
 * LM_TIES rounds of a game share one instant, round ids are unique per
 * game (the same id may name rounds of two games) and round_index grows
 * (across digit counts, and past 64 bits in some games).  Each round is
 * a struct ts_round built here: obj is its minified JSON, the fields
 * point into it.  finalized_at is written in many ways for the same
 * kind of instant: fraction digits none to nine, padded, 'Z' or an
 * offset, lower case 't'/'z', and texts of 64 bytes or more (long
 * fractions, some with digits past the nanosecond), whose `since` the
 * ledger must write as nine digits in UTC.
 *
 * The stream.  Each process (a ledger between two restarts) has a
 * --games: mostly none (every game), sometimes a list of some or all
 * games in any order, which is also the ledger's cfg.games.  Each
 * connect subscribes to it (ts_ledger_connected with that list, after a
 * ts_ledger_floor at the server's whole second for each named game with
 * no cursor, as the engine does).  While connected, each round the
 * server finalises for a subscribed game is queued and delivered in
 * order to ts_ledger_live(); a disconnect loses the queue.  Sometimes a
 * round of the connection is delivered again.
 *
 * REST.  ts_ledger_next() names (slug, since); the page is the first N
 * rounds (N in LM_PAGE_MIN..LM_PAGE_MAX, sometimes fewer: "cut short",
 * still the oldest ones) of the game with finalized_at >= since, an
 * exact instant compare (lm_time_cmp), then shuffled, sometimes
 * with a row repeated.  A page may arrive over several steps, with live
 * rounds, disconnects and reconnects in between, and may fail part way
 * (no ts_ledger_page_done); after a failure with nothing else in between,
 * the next ts_ledger_next() must name the same work.  Outages make most
 * pages fail, so the (small) hold overflows.  A page never holds fewer
 * than LM_PAGE_MIN rows unless the history has no more: with
 * `since` inclusive, a page no bigger than one instant's rounds may
 * legitimately end a backfill early (README, "Exactly once").
 *
 * Restarts.  ts_ledger_stop(), then only what the state file keeps
 * (slug, cur, ngaps, gap[] of each game) is copied into a fresh ledger
 * (ts_ledger_init on garbage memory, new small buffers and hold_max,
 * maybe a new --games; ts_ledger_restore).
 *
 * What is expected.  A game is known from the first of: its first round
 * delivered live (start = that round), or a floor (a connect naming the
 * game while the ledger has no cursor for it: ts_ledger_floor with the
 * server's whole second F, start = its first round at or after F).
 * After the final phase (a restart without --games if the last process
 * left games out, connected to all games, no new rounds, REST always
 * works, until ts_ledger_next() returns 0 and nothing is owed) every
 * round of the game from start on must have been handled (emitted:
 * printed or passed over) exactly once.  Rounds before start may be
 * handled (at most once) or not.  Checked at every emit: no round
 * twice, ever; the JSON is the round's bytes; a round emitted while a
 * page is done is a row of that page and backfilled, any other emit is
 * of a round delivered live and not backfilled, and only live, next,
 * page_done, disconnected and stop may emit; per game, rounds from start
 * on that are not flagged late come in (instant, round_index) order.
 * After every step: gaps per game within TS_LEDGER_GAPS, each mark's
 * text valid (under TS_LEDGER_TIME_MAX bytes, its instant as written),
 * a gap's from <= to when to is set, the cursor never moves backward,
 * is never behind a handled round, names only handled rounds, and every
 * round handled at its instant is named by it or by a gap mark there.
 * After the final phase, a second restart and final phase must print
 * nothing.
 *
 * On failure, m->why says what and m->trace holds the last LM_TRACE
 * events; lm_report() prints both with the seed and the step.  m->echo
 * prints every event as it happens (2: and the ledger's games after
 * each step).  m->lax, for triage only, counts two kinds of findings
 * instead of failing on them: a round printed after a newer one of the
 * same instant without the late flag, and a gap whose from is after its
 * to.
 */
#ifndef TS_LEDGER_MODEL_H
#define TS_LEDGER_MODEL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsino.h"
#include "round.h"
#include "ledger.h"

#if defined(__GNUC__)
#define LM_UNUSED __attribute__((unused))
#else
#define LM_UNUSED
#endif

#define LM_GAMES 4		/* games in a world, at most */
#define LM_TIES 3		/* rounds of one game at one instant, at most */
#define LM_PAGE_MIN 4		/* rows of a page, unless the history ends */
#define LM_PAGE_MAX 12
#define LM_PAGE_ROWS (LM_PAGE_MAX + 1)	/* and a repeated row */
#define LM_HOLD_MIN 3
#define LM_HOLD_MAX 40
#define LM_HOLD_ECAP (LM_HOLD_MAX + 8)
#define LM_PAGE_ECAP 48
#define LM_ROUND_MAX 384	/* bytes of the longest round object */
#define LM_TRACE 64
#define LM_TRACE_LINE 160
#define LM_T0 1767225600	/* 2026-01-01T00:00:00Z */
#define LM_NONE ((size_t)-1)
#define LM_FINAL_LIMIT 200000	/* ts_ledger_next() calls in a final phase */

/* Who may emit right now. */
enum {
	LM_CTX_NONE, LM_CTX_LIVE, LM_CTX_PAGE, LM_CTX_NEXT, LM_CTX_STOP,
	LM_CTX_DISC
};

struct lm_round {
	struct ts_round r;	/* fields point into obj */
	char *obj;
	uint64_t key;		/* ts_recent_key of game and id */
	int subns;		/* finalized_at has digits past the ns */
	unsigned char handled;	/* times emitted: printed or passed over */
	unsigned char live;	/* delivered by the stream */
	unsigned page;		/* stamp of the last page it was a row of */
};

struct lm_game {
	char slug[4];
	struct lm_round *h;	/* the server's history */
	size_t n, cap;
	uint64_t idx;		/* round_index of the next round */
	int bigidx;		/* round_index past 64 bits */
	int idfmt;		/* how its round ids look */
	size_t start;		/* expected from here on; LM_NONE: nothing */
	size_t inorder;		/* last in-order handled position + 1 */
	size_t maxh;		/* highest handled position + 1; 0: none */
	int has_cur;		/* the ledger's cursor, as last seen */
	int64_t cur_sec;
	uint32_t cur_nsec;
};

struct lm_q {
	int g;
	size_t pos;
};

/* One emit, kept for the known-answer tests. */
struct lm_ev {
	int g;
	size_t pos;
	int late, backfilled, printed;
};

/* The persistent part of a game: what the state file keeps. */
struct lm_saved {
	char slug[TS_LEDGER_SLUG_MAX];
	struct ts_ledger_mark cur;
	int ngaps;
	struct ts_ledger_gap gap[TS_LEDGER_GAPS];
};

struct lm {
	/* choices: bytes (fuzzing), then a splitmix64 stream */
	uint64_t seed, rs;
	const uint8_t *b;
	size_t bn, bi;
	int out;		/* the bytes ran out */
	/* the world */
	int ngames;
	struct lm_game g[LM_GAMES];
	int64_t now_sec;
	uint32_t now_nsec;
	unsigned p_long, p_off, p_tie;	/* in 1/64 */
	/* the process's --games: a list (named) of the games in list, or
	 * none (every game); chosen anew at each restart */
	unsigned list;
	int named;
	char games[32];
	/* the stream */
	int connected;
	unsigned sub;		/* subscribed games, one bit each */
	struct lm_q *q;
	size_t qh, qn, qcap;
	struct lm_q recent[4];	/* delivered on this connection */
	int nrecent;
	/* REST */
	int outage;
	int inflight;		/* a page is arriving */
	int fate_fail;		/* it will fail after fail_at rows */
	size_t fail_at;
	struct lm_q rows[LM_PAGE_ROWS];
	size_t nrows, added;
	unsigned stamp;
	int touched;		/* live, connect or disconnect since next() */
	int again;		/* the failed work must come back */
	int w_game, w_gap;
	char w_slug[TS_LEDGER_SLUG_MAX], w_since[TS_LEDGER_TIME_MAX];
	/* the ledger */
	struct ts_ledger *l;
	struct ts_ledger_config cfg;
	int ctx;
	unsigned above;		/* pass over 1 round in `above`; 0 never */
	int no_inflight;	/* pages arrive in one step */
	int echo;		/* print every event as it happens */
	int lax;		/* for triage: an unflagged reorder within
				   one instant and a gap whose from is after
				   its to are counted (lax_hits), not failed */
	unsigned long lax_hits;
	/* known-answer tests: every emit, if keep_ev */
	int keep_ev;
	struct lm_ev *ev;
	size_t nev, evcap;
	/* counters */
	unsigned long steps, rounds, emits, owed_emits, printed, passed,
	    backfilled, late, pages, pfailed, restarts, connects, overflows,
	    maxgaps, redelivered, logs;
	/* failure */
	int failed;
	unsigned long step;
	char why[768];
	char trace[LM_TRACE][LM_TRACE_LINE];
	unsigned long ntrace;
};

static struct ts_ledger lm_ledger;
static char lm_hold_buf[LM_HOLD_ECAP * LM_ROUND_MAX];
static struct ts_store_entry lm_hold_e[LM_HOLD_ECAP];
static char lm_page_buf[LM_PAGE_ECAP * LM_ROUND_MAX];
static struct ts_store_entry lm_page_e[LM_PAGE_ECAP];
static struct lm_saved lm_saved[TS_LEDGER_GAMES];

/* ---- failure and trace ---- */

static void
lm_tr(struct lm *m, const char *fmt, ...)
{
	char *t = m->trace[m->ntrace++ % LM_TRACE];
	int n;
	va_list ap;

	n = snprintf(t, LM_TRACE_LINE, "%6lu ", m->step);
	if (n < 0 || n >= LM_TRACE_LINE)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(t + n, LM_TRACE_LINE - (size_t)n, fmt, ap);
	va_end(ap);
	if (m->echo)
		printf("    %s\n", t);
}

static void
lm_fail(struct lm *m, const char *fmt, ...)
{
	va_list ap;

	if (m->failed)
		return;
	m->failed = 1;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	lm_tr(m, "FAIL: %.140s", m->why);
}

static void
lm_report(const struct lm *m, FILE *f)
{
	unsigned long i, first;

	if (m->b != NULL)
		fprintf(f, "ledger model: fuzz input of %zu bytes, step %lu: "
		    "%s\n", m->bn, m->step, m->why);
	else
		fprintf(f, "ledger model: seed %llu, step %lu: %s\n",
		    (unsigned long long)m->seed, m->step, m->why);
	fprintf(f, "  last events (step, event):\n");
	first = m->ntrace > LM_TRACE ? m->ntrace - LM_TRACE : 0;
	for (i = first; i < m->ntrace; i++)
		fprintf(f, "    %s\n", m->trace[i % LM_TRACE]);
}

/* ---- choices ---- */

static uint64_t
lm_mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A choice in 0..n-1: the next input byte (two if n > 256) while there
 * are some, else the stream. */
static unsigned
lm_below(struct lm *m, unsigned n)
{
	unsigned v;

	if (n <= 1)
		return 0;
	if (m->b != NULL && !m->out) {
		if (m->bi < m->bn) {
			v = m->b[m->bi++];
			if (n > 256 && m->bi < m->bn)
				v = v << 8 | m->b[m->bi++];
			return v % n;
		}
		m->out = 1;
	}
	return (unsigned)(lm_mix(&m->rs) % n);
}

static int
lm_chance(struct lm *m, unsigned num, unsigned den)
{
	return lm_below(m, den) < num;
}

/* ---- times ---- */

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void
lm_civil(int64_t z, int *y, unsigned *mo, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*mo = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*mo <= 2));
}

/* Fraction digits that nsec needs. */
static int
lm_digits(uint32_t nsec)
{
	int d = 9;

	if (nsec == 0)
		return 0;
	while (nsec % 10 == 0) {
		nsec /= 10;
		d--;
	}
	return d;
}

/*
 * lm_time: the instant sec + nsec as RFC 3339 into out (at least 128
 * bytes): digits fraction digits (at least lm_digits(nsec); past nine
 * they are zeros but for the last sub, which are nonzero and put the
 * text's instant a little after the ns), off minutes east of UTC (the
 * wall time moved to match), 't' and 'z' if lower.  Returns the length.
 */
static size_t
lm_time(char *out, int64_t sec, uint32_t nsec, int digits, int sub, int off,
    int lower)
{
	int64_t t = sec + (int64_t)off * 60, days, rem;
	char f[16];
	unsigned mo, d;
	int y, i, n, a = off < 0 ? -off : off;

	days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	rem = t - days * 86400;
	lm_civil(days, &y, &mo, &d);
	n = snprintf(out, 64, "%04d-%02u-%02u%c%02d:%02d:%02d", y, mo, d,
	    lower ? 't' : 'T', (int)(rem / 3600), (int)(rem / 60 % 60),
	    (int)(rem % 60));
	snprintf(f, sizeof(f), "%09lu", (unsigned long)nsec);
	if (digits > 0) {
		out[n++] = '.';
		for (i = 0; i < digits; i++)
			out[n++] = i < 9 ? f[i] :
			    i >= digits - sub ? (char)('1' + i % 9) : '0';
	}
	if (off == 0)
		out[n++] = lower ? 'z' : 'Z';
	else
		n += snprintf(out + n, 16, "%c%02d:%02d", off < 0 ? '-' : '+',
		    a / 60, a % 60);
	out[n] = '\0';
	return (size_t)n;
}

static int
lm_icmp(int64_t as, uint32_t an, int64_t bs, uint32_t bn)
{
	if (as != bs)
		return as < bs ? -1 : 1;
	if (an != bn)
		return an < bn ? -1 : 1;
	return 0;
}

/* ---- the world ---- */

static struct lm_round *
lm_grow(struct lm *m, struct lm_game *g)
{
	struct lm_round *h;
	size_t cap;

	if (g->n == g->cap) {
		cap = g->cap ? 2 * g->cap : 64;
		h = realloc(g->h, cap * sizeof(*h));
		if (h == NULL) {
			lm_fail(m, "out of memory");
			return NULL;
		}
		g->h = h;
		g->cap = cap;
	}
	return &g->h[g->n];
}

/*
 * lm_add: a new round of game gi finalised at the text `when` (valid
 * RFC 3339, at most 127 bytes), appended to its history.  Returns its
 * position, or LM_NONE (m->failed set).
 */
static size_t
lm_add(struct lm *m, int gi, const char *when)
{
	struct lm_game *g = &m->g[gi];
	struct lm_round *rd;
	char obj[LM_ROUND_MAX], id[96], idx[64], mult[32];
	size_t n = 0, off[6], i;
	const char *val[6];
	int quoted[6], order;
	struct ts_round_field *fld[6];

	rd = lm_grow(m, g);
	if (rd == NULL)
		return LM_NONE;
	memset(rd, 0, sizeof(*rd));
	switch (g->idfmt) {
	case 0:
		snprintf(id, sizeof(id), "r%zu", g->n);
		break;
	case 1:
		snprintf(id, sizeof(id), "round-%zu", g->n);
		break;
	case 2:
		snprintf(id, sizeof(id), "%zu", g->n);
		break;
	default:
		snprintf(id, sizeof(id), "%zu-4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a99"
		    "e8d7c6b5", g->n);
		break;
	}
	if (g->bigidx)
		snprintf(idx, sizeof(idx), "12345678901234567890%llu",
		    (unsigned long long)g->idx);
	else
		snprintf(idx, sizeof(idx), "%llu", (unsigned long long)g->idx);
	snprintf(mult, sizeof(mult), "%u.%02u", 1 + lm_below(m, 40),
	    lm_below(m, 100));
	/* members: game_id, round_id, round_index, multiplier, finalized_at,
	 * and sometimes an unknown one */
	val[0] = g->slug;
	val[1] = id;
	val[2] = idx;
	val[3] = mult;
	val[4] = when;
	quoted[0] = quoted[1] = quoted[3] = quoted[4] = 1;
	quoted[2] = lm_chance(m, 1, 4);
	fld[0] = &rd->r.game_id;
	fld[1] = &rd->r.round_id;
	fld[2] = &rd->r.round_index;
	fld[3] = &rd->r.multiplier;
	fld[4] = &rd->r.finalized_at;
	order = (int)lm_below(m, 8);	/* 0: finalized_at before round_id */
	obj[n++] = '{';
	for (i = 0; i < 5; i++) {
		static const char *const name[5] = { "game_id", "round_id",
		    "round_index", "multiplier", "finalized_at" };
		size_t k = order == 0 ? (i == 1 ? 4 : i == 4 ? 1 : i) : i;

		if (i > 0)
			obj[n++] = ',';
		obj[n++] = '"';
		memcpy(obj + n, name[k], strlen(name[k]));
		n += strlen(name[k]);
		obj[n++] = '"';
		obj[n++] = ':';
		if (quoted[k])
			obj[n++] = '"';
		off[k] = n;
		memcpy(obj + n, val[k], strlen(val[k]));
		n += strlen(val[k]);
		if (quoted[k])
			obj[n++] = '"';
	}
	if (order == 1) {
		const char *x = ",\"crash_ms\":1234,\"seed\":{\"h\":[1,2]}";

		memcpy(obj + n, x, strlen(x));
		n += strlen(x);
	}
	obj[n++] = '}';
	rd->obj = malloc(n + 1);
	if (rd->obj == NULL) {
		lm_fail(m, "out of memory");
		return LM_NONE;
	}
	memcpy(rd->obj, obj, n);
	rd->obj[n] = '\0';
	rd->r.obj = rd->obj;
	rd->r.obj_len = n;
	for (i = 0; i < 5; i++) {
		fld[i]->ptr = rd->obj + off[i];
		fld[i]->len = strlen(val[i]);
		fld[i]->escaped = 0;
	}
	if (ts_round_time(rd->r.finalized_at.ptr, rd->r.finalized_at.len,
	    &rd->r.finalized_sec, &rd->r.finalized_nsec) != 0) {
		lm_fail(m, "model: bad time %s", when);
		return LM_NONE;
	}
	rd->key = ts_recent_key(g->slug, strlen(g->slug), rd->r.round_id.ptr,
	    rd->r.round_id.len);
	g->idx += 1;
	m->rounds++;
	return g->n++;
}

/* How many rounds of g sit at the instant (sec, nsec) at its end. */
static int
lm_at_end(const struct lm_game *g, int64_t sec, uint32_t nsec)
{
	size_t i = g->n;
	int k = 0;

	while (i > 0 && lm_icmp(g->h[i - 1].r.finalized_sec,
	    g->h[i - 1].r.finalized_nsec, sec, nsec) == 0) {
		i--;
		k++;
	}
	return k;
}

static void
lm_tick(struct lm *m, uint64_t ns)
{
	ns += m->now_nsec;
	m->now_sec += (int64_t)(ns / 1000000000u);
	m->now_nsec = (uint32_t)(ns % 1000000000u);
}

/* The server finalises a round of game gi now (the clock moves first). */
static size_t
lm_finalise_one(struct lm *m, int gi)
{
	struct lm_game *g = &m->g[gi];
	char when[160];
	unsigned k = lm_below(m, 64);
	int digits, sub = 0, off = 0, lower = 0, need;
	size_t pos;

	if (k < m->p_tie)
		;
	else if (k < m->p_tie + 3)
		lm_tick(m, 1 + lm_below(m, 1000));
	else if (k < 44)
		lm_tick(m, (uint64_t)(1 + lm_below(m, 999)) * 1000000u +
		    (lm_chance(m, 1, 4) ? lm_below(m, 1000000) : 0));
	else if (k < 60)
		lm_tick(m, (uint64_t)(1 + lm_below(m, 10)) * 1000000000u +
		    (uint64_t)lm_below(m, 1000) * 1000000u);
	else
		lm_tick(m, (uint64_t)(60 + lm_below(m, 600)) * 1000000000u);
	/* at most LM_TIES at one instant, and none after a text with
	 * digits past the ns (its instant is a little later) */
	if (lm_at_end(g, m->now_sec, m->now_nsec) >= LM_TIES ||
	    (g->n > 0 && g->h[g->n - 1].subns &&
	    lm_at_end(g, m->now_sec, m->now_nsec) > 0))
		lm_tick(m, 1 + lm_below(m, 1000000));
	need = lm_digits(m->now_nsec);
	digits = need;
	k = lm_below(m, 64);
	if (k < m->p_long) {
		/* 64 bytes or more: 20 + digits + zone */
		digits = 44 + (int)lm_below(m, 20);
		if (lm_chance(m, 1, 2) && lm_at_end(g, m->now_sec,
		    m->now_nsec) == 0)
			sub = 1 + (int)lm_below(m, 5);
	} else if (k < m->p_long + 8) {
		digits = need + (int)lm_below(m, (unsigned)(10 - need));
	}
	if (lm_below(m, 64) < m->p_off)
		off = (lm_chance(m, 1, 2) ? -1 : 1) *
		    (int)(lm_below(m, 14) * 60 + 30 * lm_below(m, 2));
	lower = lm_chance(m, 1, 32);
	lm_time(when, m->now_sec, m->now_nsec, digits, sub, off, lower);
	/* the index: +1, sometimes more, sometimes to the next power of
	 * ten (9 -> 10 sorts before as text) */
	k = lm_below(m, 64);
	if (k < 4)
		g->idx += 1 + lm_below(m, 20);
	else if (k < 6 && g->idx < 100000000000000ULL) {
		uint64_t p = 1;

		while (p <= g->idx)
			p *= 10;
		g->idx = p;
	}
	pos = lm_add(m, gi, when);
	if (pos != LM_NONE)
		g->h[pos].subns = sub > 0;
	return pos;
}

/* The fraction digits of a valid RFC 3339 time past the nanosecond. */
static const char *
lm_subns(const char *s, size_t n, size_t *len)
{
	size_t e = 20;

	*len = 0;
	if (s[19] != '.')
		return s;
	while (e < n && s[e] >= '0' && s[e] <= '9')
		e++;
	if (e > 29)
		*len = e - 29;
	return s + 29;
}

/* Compare two valid RFC 3339 times as instants, exactly: -1, 0, 1. */
static int
lm_time_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int64_t as, bs;
	uint32_t ans, bns;
	const char *x, *y;
	size_t xn, yn, k;
	char cx, cy;

	if (ts_round_time(a, an, &as, &ans) != 0 ||
	    ts_round_time(b, bn, &bs, &bns) != 0)
		abort();
	if (as != bs || ans != bns)
		return as < bs || (as == bs && ans < bns) ? -1 : 1;
	x = lm_subns(a, an, &xn);
	y = lm_subns(b, bn, &yn);
	for (k = 0; k < xn || k < yn; k++) {
		cx = k < xn ? x[k] : '0';
		cy = k < yn ? y[k] : '0';
		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	return 0;
}

/* First position of g whose finalized_at is at or after since (""). */
static size_t
lm_first_since(const struct lm_game *g, const char *since)
{
	size_t lo = 0, hi = g->n, mid, n = strlen(since);

	if (n == 0)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (lm_time_cmp(g->h[mid].r.finalized_at.ptr,
		    g->h[mid].r.finalized_at.len, since, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First position of g at or after the instant (sec, nsec). */
static size_t
lm_first_at(const struct lm_game *g, int64_t sec, uint32_t nsec)
{
	size_t lo = 0, hi = g->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (lm_icmp(g->h[mid].r.finalized_sec,
		    g->h[mid].r.finalized_nsec, sec, nsec) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
lm_game_of(const struct lm *m, const char *s, size_t n)
{
	int i;

	for (i = 0; i < m->ngames; i++)
		if (strlen(m->g[i].slug) == n &&
		    memcmp(m->g[i].slug, s, n) == 0)
			return i;
	return -1;
}

/* The position of round id (n bytes) of game gi, or LM_NONE. */
static size_t
lm_pos_of(const struct lm *m, int gi, const char *id, size_t n)
{
	const struct lm_game *g = &m->g[gi];
	size_t i = 0, pos = 0;

	while (i < n && (id[i] < '0' || id[i] > '9'))
		i++;
	if (i == n)
		return LM_NONE;
	for (; i < n && id[i] >= '0' && id[i] <= '9' && pos < g->n; i++)
		pos = pos * 10 + (size_t)(id[i] - '0');
	if (pos >= g->n || g->h[pos].r.round_id.len != n ||
	    memcmp(g->h[pos].r.round_id.ptr, id, n) != 0)
		return LM_NONE;
	return pos;
}

/* ---- the caller's part: emit and log ---- */

static int
lm_emit(void *arg, const struct ts_round_info *ri)
{
	struct lm *m = arg;
	struct lm_game *g;
	struct lm_round *rd;
	size_t pos;
	int gi, printed;

	m->emits++;
	if (ri == NULL || ri->game_id == NULL || ri->round_id == NULL ||
	    ri->json == NULL) {
		lm_fail(m, "emit: a NULL pointer in the round");
		return 1;
	}
	gi = lm_game_of(m, ri->game_id, ri->game_id_len);
	pos = gi < 0 ? LM_NONE : lm_pos_of(m, gi, ri->round_id,
	    ri->round_id_len);
	if (pos == LM_NONE) {
		lm_fail(m, "emit: a round the server never made: %.*s of %.*s",
		    (int)(ri->round_id_len > 80 ? 80 : ri->round_id_len),
		    ri->round_id, (int)(ri->game_id_len > 20 ? 20 :
		    ri->game_id_len), ri->game_id);
		return 1;
	}
	g = &m->g[gi];
	rd = &g->h[pos];
	lm_tr(m, "emit %s %.*s (#%zu %.*s) late=%d bf=%d ctx=%d", g->slug,
	    (int)(rd->r.round_id.len > 24 ? 24 : rd->r.round_id.len),
	    rd->r.round_id.ptr, pos, (int)(rd->r.finalized_at.len > 36 ? 36 :
	    rd->r.finalized_at.len), rd->r.finalized_at.ptr, ri->late,
	    ri->backfilled, m->ctx);
	if (ri->json_len != rd->r.obj_len ||
	    memcmp(ri->json, rd->r.obj, ri->json_len) != 0 ||
	    ri->finalized_at_len != rd->r.finalized_at.len ||
	    memcmp(ri->finalized_at, rd->r.finalized_at.ptr,
	    ri->finalized_at_len) != 0 ||
	    ri->round_index_len != rd->r.round_index.len ||
	    memcmp(ri->round_index, rd->r.round_index.ptr,
	    ri->round_index_len) != 0 ||
	    ri->multiplier_len != rd->r.multiplier.len ||
	    memcmp(ri->multiplier, rd->r.multiplier.ptr,
	    ri->multiplier_len) != 0) {
		lm_fail(m, "emit: %s #%zu: the bytes differ from the round's",
		    g->slug, pos);
		return 1;
	}
	switch (m->ctx) {
	case LM_CTX_PAGE:
		if (rd->page != m->stamp) {
			lm_fail(m, "emit: %s #%zu printed by page_done but not "
			    "a row of that page", g->slug, pos);
			return 1;
		}
		if (ri->backfilled != 1) {
			lm_fail(m, "emit: %s #%zu from a page but "
			    "backfilled=%d", g->slug, pos, ri->backfilled);
			return 1;
		}
		break;
	case LM_CTX_LIVE:
	case LM_CTX_NEXT:
	case LM_CTX_STOP:
	case LM_CTX_DISC:
		if (!rd->live) {
			lm_fail(m, "emit: %s #%zu printed as live (ctx %d) but "
			    "never delivered live", g->slug, pos, m->ctx);
			return 1;
		}
		if (ri->backfilled != 0) {
			lm_fail(m, "emit: %s #%zu live (ctx %d) but "
			    "backfilled=%d", g->slug, pos, m->ctx,
			    ri->backfilled);
			return 1;
		}
		break;
	default:
		lm_fail(m, "emit: %s #%zu outside live, next, page_done, "
		    "disconnected and stop", g->slug, pos);
		return 1;
	}
	if (rd->handled) {
		lm_fail(m, "emit: %s %.*s (#%zu, %.*s) handled twice", g->slug,
		    (int)rd->r.round_id.len, rd->r.round_id.ptr, pos,
		    (int)rd->r.finalized_at.len, rd->r.finalized_at.ptr);
		return 1;
	}
	rd->handled = 1;
	if (g->start != LM_NONE && pos >= g->start)
		m->owed_emits++;
	if (g->start == LM_NONE) {
		lm_fail(m, "emit: %s #%zu of a game the ledger cannot know yet",
		    g->slug, pos);
		return 1;
	}
	if (pos >= g->start && !ri->late) {
		if (g->inorder > 0 && pos < g->inorder && m->lax &&
		    lm_icmp(rd->r.finalized_sec, rd->r.finalized_nsec,
		    g->h[g->inorder - 1].r.finalized_sec,
		    g->h[g->inorder - 1].r.finalized_nsec) == 0) {
			m->lax_hits++;
		} else if (g->inorder > 0 && pos < g->inorder) {
			lm_fail(m, "emit: %s #%zu (%.*s) after #%zu (%.*s) and "
			    "not flagged late", g->slug, pos,
			    (int)rd->r.finalized_at.len, rd->r.finalized_at.ptr,
			    g->inorder - 1,
			    (int)g->h[g->inorder - 1].r.finalized_at.len,
			    g->h[g->inorder - 1].r.finalized_at.ptr);
			return 1;
		}
		g->inorder = pos + 1;
	}
	if (pos + 1 > g->maxh)
		g->maxh = pos + 1;
	printed = m->above == 0 || !lm_chance(m, 1, m->above);
	if (m->keep_ev) {
		if (m->nev == m->evcap) {
			size_t cap = m->evcap ? 2 * m->evcap : 64;
			struct lm_ev *ev = realloc(m->ev, cap * sizeof(*ev));

			if (ev == NULL) {
				lm_fail(m, "out of memory");
				return 1;
			}
			m->ev = ev;
			m->evcap = cap;
		}
		m->ev[m->nev].g = gi;
		m->ev[m->nev].pos = pos;
		m->ev[m->nev].late = ri->late;
		m->ev[m->nev].backfilled = ri->backfilled;
		m->ev[m->nev].printed = printed;
		m->nev++;
	}
	m->printed += (unsigned long)printed;
	m->passed += (unsigned long)!printed;
	m->backfilled += (unsigned long)(ri->backfilled != 0);
	m->late += (unsigned long)(ri->late != 0);
	return printed;
}

static void
lm_log(void *arg, int level, const char *line)
{
	struct lm *m = arg;

	m->logs++;
	if (line == NULL || strchr(line, '\n') != NULL ||
	    level < TS_LOG_ERROR || level > TS_LOG_DEBUG) {
		lm_fail(m, "log: a bad line (level %d)", level);
		return;
	}
	lm_tr(m, "log %d: %.120s", level, line);
}

/* ---- the ledger's own state, checked against the model ---- */

static void
lm_check_mark(struct lm *m, const char *slug, const char *what,
    const struct ts_ledger_mark *k)
{
	int64_t sec;
	uint32_t nsec;
	size_t n = strnlen(k->text, sizeof(k->text));

	if (n == sizeof(k->text)) {
		lm_fail(m, "%s: %s: text without a NUL", slug, what);
		return;
	}
	if (k->nids < 0 || k->nids > TS_LEDGER_IDS) {
		lm_fail(m, "%s: %s: nids %d", slug, what, k->nids);
		return;
	}
	if (n == 0)
		return;
	if (ts_round_time(k->text, n, &sec, &nsec) != 0 ||
	    lm_icmp(sec, nsec, k->sec, k->nsec) != 0)
		lm_fail(m, "%s: %s: text %s is not its instant %lld.%09lu",
		    slug, what, k->text, (long long)k->sec,
		    (unsigned long)k->nsec);
}

static int
lm_mark_has(const struct ts_ledger_mark *k, uint64_t key)
{
	int i;

	for (i = 0; i < k->nids; i++)
		if (k->ids[i] == key)
			return 1;
	return 0;
}

/* Every id k names is a handled round of g at k's instant. */
static void
lm_check_ids(struct lm *m, const struct lm_game *g, const char *what,
    const struct ts_ledger_mark *k)
{
	size_t p0, p;
	int i;

	if (k->text[0] == '\0')
		return;
	p0 = lm_first_at(g, k->sec, k->nsec);
	for (i = 0; i < k->nids; i++) {
		for (p = p0; p < g->n && lm_icmp(g->h[p].r.finalized_sec,
		    g->h[p].r.finalized_nsec, k->sec, k->nsec) == 0; p++)
			if (g->h[p].key == k->ids[i])
				break;
		if (p == g->n || lm_icmp(g->h[p].r.finalized_sec,
		    g->h[p].r.finalized_nsec, k->sec, k->nsec) != 0) {
			lm_fail(m, "%s: %s at %s names id %016llx, no round "
			    "of that instant", g->slug, what, k->text,
			    (unsigned long long)k->ids[i]);
			return;
		}
		if (!g->h[p].handled) {
			lm_fail(m, "%s: %s at %s names #%zu, not handled: a "
			    "restart would lose it", g->slug, what, k->text,
			    p);
			return;
		}
	}
}

/* The ledger's state after a step: its invariants and the model's. */
static void
lm_check(struct lm *m)
{
	const struct ts_ledger *l = m->l;
	const struct ts_ledger_game *lg;
	const struct ts_ledger_gap *gp;
	struct lm_game *g;
	int i, j, gi, seen[LM_GAMES] = { 0 };
	size_t p;

	if (m->failed)
		return;
	if (l->ngames < 0 || l->ngames > TS_LEDGER_GAMES) {
		lm_fail(m, "ledger: ngames %d", l->ngames);
		return;
	}
	for (i = 0; i < l->ngames && !m->failed; i++) {
		lg = &l->games[i];
		gi = lm_game_of(m, lg->slug, strnlen(lg->slug,
		    sizeof(lg->slug)));
		if (gi < 0) {
			lm_fail(m, "ledger: a game %.64s not in the world",
			    lg->slug);
			return;
		}
		if (seen[gi]++) {
			lm_fail(m, "ledger: game %s twice", lg->slug);
			return;
		}
		g = &m->g[gi];
		if (lg->ngaps < 0 || lg->ngaps > TS_LEDGER_GAPS) {
			lm_fail(m, "%s: ngaps %d", lg->slug, lg->ngaps);
			return;
		}
		if ((unsigned long)lg->ngaps > m->maxgaps)
			m->maxgaps = (unsigned long)lg->ngaps;
		lm_check_mark(m, lg->slug, "cursor", &lg->cur);
		lm_check_ids(m, g, "cursor", &lg->cur);
		for (j = 0; j < lg->ngaps && !m->failed; j++) {
			gp = &lg->gap[j];
			lm_check_mark(m, lg->slug, "gap from", &gp->from);
			lm_check_mark(m, lg->slug, "gap to", &gp->to);
			lm_check_ids(m, g, "gap from", &gp->from);
			lm_check_ids(m, g, "gap to", &gp->to);
			if (m->failed)
				return;
			if (gp->to.text[0] != '\0' &&
			    gp->from.text[0] != '\0' &&
			    lm_icmp(gp->from.sec, gp->from.nsec, gp->to.sec,
			    gp->to.nsec) > 0 && m->lax) {
				m->lax_hits++;
			} else if (gp->to.text[0] != '\0' &&
			    gp->from.text[0] != '\0' &&
			    lm_icmp(gp->from.sec, gp->from.nsec, gp->to.sec,
			    gp->to.nsec) > 0) {
				lm_fail(m, "%s: gap %d from %s after its to %s",
				    lg->slug, j, gp->from.text, gp->to.text);
				return;
			}
			if (gp->to.text[0] != '\0' &&
			    (lg->cur.text[0] == '\0' ||
			    lm_icmp(gp->to.sec, gp->to.nsec, lg->cur.sec,
			    lg->cur.nsec) > 0)) {
				lm_fail(m, "%s: gap %d to %s after the cursor "
				    "%s", lg->slug, j, gp->to.text,
				    lg->cur.text);
				return;
			}
		}
		if (m->failed)
			return;
		if (lg->cur.text[0] == '\0') {
			if (g->has_cur) {
				lm_fail(m, "%s: the cursor is gone", lg->slug);
				return;
			}
		} else {
			if (g->has_cur && lm_icmp(lg->cur.sec, lg->cur.nsec,
			    g->cur_sec, g->cur_nsec) < 0) {
				lm_fail(m, "%s: the cursor moved backward to "
				    "%s", lg->slug, lg->cur.text);
				return;
			}
			g->has_cur = 1;
			g->cur_sec = lg->cur.sec;
			g->cur_nsec = lg->cur.nsec;
		}
		if (g->maxh == 0)
			continue;
		/* the newest handled round is at or before the cursor */
		p = g->maxh - 1;
		if (lg->cur.text[0] == '\0' || lm_icmp(lg->cur.sec,
		    lg->cur.nsec, g->h[p].r.finalized_sec,
		    g->h[p].r.finalized_nsec) < 0) {
			lm_fail(m, "%s: cursor %s behind handled #%zu (%.*s)",
			    lg->slug, lg->cur.text, p,
			    (int)g->h[p].r.finalized_at.len,
			    g->h[p].r.finalized_at.ptr);
			return;
		}
		/* every round handled at the cursor's instant is named there
		 * (or by a gap mark at that instant): a restart must not
		 * print it again */
		if (lg->cur.ids_full)
			continue;
		for (p = lm_first_at(g, lg->cur.sec, lg->cur.nsec); p < g->n &&
		    lm_icmp(g->h[p].r.finalized_sec, g->h[p].r.finalized_nsec,
		    lg->cur.sec, lg->cur.nsec) == 0; p++) {
			int named = lm_mark_has(&lg->cur, g->h[p].key);

			for (j = 0; j < lg->ngaps && !named; j++) {
				gp = &lg->gap[j];
				named = (gp->from.text[0] != '\0' &&
				    lm_icmp(gp->from.sec, gp->from.nsec,
				    lg->cur.sec, lg->cur.nsec) == 0 &&
				    lm_mark_has(&gp->from, g->h[p].key)) ||
				    (gp->to.text[0] != '\0' &&
				    lm_icmp(gp->to.sec, gp->to.nsec,
				    lg->cur.sec, lg->cur.nsec) == 0 &&
				    lm_mark_has(&gp->to, g->h[p].key));
			}
			if (g->h[p].handled && !named) {
				lm_fail(m, "%s: #%zu handled at the cursor's "
				    "instant %s but not among its ids",
				    lg->slug, p, lg->cur.text);
				return;
			}
		}
	}
	for (gi = 0; gi < m->ngames; gi++)
		if (!seen[gi] && m->g[gi].has_cur) {
			lm_fail(m, "%s: the ledger forgot the game",
			    m->g[gi].slug);
			return;
		}
}

/* ---- the driver: the ledger's calls, each checked ---- */

/* A fresh ledger on garbage memory, with small buffers of the model's
 * choosing (hold_max 0: choose it too). */
static void
lm_ledger_new(struct lm *m, size_t hold_max)
{
	struct ts_ledger_config *c = &m->cfg;
	size_t ecap;
	int rc;

	if (hold_max == 0)
		hold_max = LM_HOLD_MIN + lm_below(m, LM_HOLD_MAX -
		    LM_HOLD_MIN + 1);
	ecap = hold_max + lm_below(m, LM_HOLD_ECAP - hold_max + 1);
	memset(c, 0, sizeof(*c));
	c->emit = lm_emit;
	c->log = lm_log;
	c->arg = m;
	c->hold_buf = lm_hold_buf;
	c->hold_e = lm_hold_e;
	c->hold_ecap = ecap;
	c->hold_max = hold_max;
	/* sometimes the bytes fill before the entries do */
	c->hold_cap = lm_chance(m, 1, 4) ? hold_max * 150 + LM_ROUND_MAX :
	    ecap * LM_ROUND_MAX;
	c->page_buf = lm_page_buf;
	c->page_e = lm_page_e;
	c->page_ecap = LM_PAGE_ROWS + 3 + lm_below(m, LM_PAGE_ECAP -
	    LM_PAGE_ROWS - 2);
	c->page_cap = c->page_ecap * LM_ROUND_MAX;
	c->games = m->named ? m->games : lm_chance(m, 1, 2) ? NULL : "";
	m->l = &lm_ledger;
	memset(m->l, 0xa5, sizeof(*m->l));
	rc = ts_ledger_init(m->l, c);
	if (rc != 0)
		lm_fail(m, "ts_ledger_init: %d", rc);
	lm_tr(m, "ledger: hold_max %zu, %zu entries, %zu bytes", hold_max,
	    ecap, c->hold_cap);
}

static void
lm_touch(struct lm *m)
{
	m->touched = 1;
	m->again = 0;
}

static void
lm_live(struct lm *m, int gi, size_t pos)
{
	struct lm_game *g = &m->g[gi];
	struct lm_round *rd = &g->h[pos];
	int rc;

	lm_tr(m, "live %s %.*s (#%zu %.*s)%s", g->slug,
	    (int)(rd->r.round_id.len > 24 ? 24 : rd->r.round_id.len),
	    rd->r.round_id.ptr, pos, (int)(rd->r.finalized_at.len > 40 ? 40 :
	    rd->r.finalized_at.len), rd->r.finalized_at.ptr,
	    m->l->holding ? " [holding]" : "");
	rd->live = 1;
	if (g->start == LM_NONE || pos < g->start)
		g->start = pos;
	lm_touch(m);
	m->ctx = LM_CTX_LIVE;
	rc = ts_ledger_live(m->l, &rd->r);
	m->ctx = LM_CTX_NONE;
	if (rc != 0)
		lm_fail(m, "ts_ledger_live: %d", rc);
	if (m->nrecent < 4)
		m->recent[m->nrecent++] = (struct lm_q){ gi, pos };
	else {
		memmove(m->recent, m->recent + 1, 3 * sizeof(m->recent[0]));
		m->recent[3] = (struct lm_q){ gi, pos };
	}
}

static void
lm_enqueue(struct lm *m, int gi, size_t pos)
{
	struct lm_q *q;
	size_t cap;

	if (m->qh == m->qn)
		m->qh = m->qn = 0;
	if (m->qn == m->qcap) {
		cap = m->qcap ? 2 * m->qcap : 256;
		q = realloc(m->q, cap * sizeof(*q));
		if (q == NULL) {
			lm_fail(m, "out of memory");
			return;
		}
		m->q = q;
		m->qcap = cap;
	}
	m->q[m->qn++] = (struct lm_q){ gi, pos };
}

static void
lm_finalise(struct lm *m, int k)
{
	int gi;
	size_t pos;

	while (k-- > 0 && !m->failed) {
		gi = (int)lm_below(m, (unsigned)m->ngames);
		pos = lm_finalise_one(m, gi);
		if (pos == LM_NONE)
			return;
		lm_tr(m, "server %s #%zu %.*s%s", m->g[gi].slug, pos,
		    (int)(m->g[gi].h[pos].r.finalized_at.len > 40 ? 40 :
		    m->g[gi].h[pos].r.finalized_at.len),
		    m->g[gi].h[pos].r.finalized_at.ptr,
		    m->g[gi].h[pos].r.finalized_at.len > 40 ? "..." : "");
		if (m->connected && (m->sub >> gi & 1))
			lm_enqueue(m, gi, pos);
	}
}

static void
lm_deliver(struct lm *m, int k)
{
	struct lm_q e;

	while (k-- > 0 && m->qh < m->qn && !m->failed) {
		e = m->q[m->qh++];
		lm_live(m, e.g, e.pos);
	}
}

static void
lm_disconnect(struct lm *m)
{
	int rc;

	lm_tr(m, "disconnect (%zu queued lost)", m->qn - m->qh);
	lm_touch(m);
	m->ctx = LM_CTX_DISC;
	rc = ts_ledger_disconnected(m->l);
	m->ctx = LM_CTX_NONE;
	if (rc != 0)
		lm_fail(m, "ts_ledger_disconnected: %d", rc);
	m->connected = 0;
	m->qh = m->qn = 0;
	m->nrecent = 0;
}

/*
 * Subscribe to the games in sub (a bit each): named = 0 sends no list
 * (every game; sub must then be all of them), else a list in a random
 * order, and each named game with no cursor gets a floor at the
 * server's whole second, as the engine does.
 */
static void
lm_subscribe(struct lm *m, unsigned sub, int named)
{
	const struct ts_ledger_game *lg;
	char list[64];
	size_t n = 0, p;
	int i, gi, rc, expect = 0;

	list[0] = '\0';
	if (named && m->named && sub == m->list) {
		snprintf(list, sizeof(list), "%s", m->games);
	} else if (named) {
		for (gi = 0; gi < m->ngames; gi++)
			if (sub >> gi & 1)
				n += (size_t)snprintf(list + n,
				    sizeof(list) - n, "%s%s", n ? "," : "",
				    m->g[gi].slug);
	}
	if (named) {
		for (gi = 0; gi < m->ngames; gi++) {
			if (!(sub >> gi & 1))
				continue;
			lg = ts_ledger_game(m->l, m->g[gi].slug,
			    strlen(m->g[gi].slug), 0);
			if (lg != NULL && (lg->cur.text[0] != '\0' ||
			    lg->ngaps > 0))
				continue;
			ts_ledger_floor(m->l, m->g[gi].slug, m->now_sec);
			p = lm_first_at(&m->g[gi], m->now_sec, 0);
			if (m->g[gi].start == LM_NONE || p < m->g[gi].start)
				m->g[gi].start = p;
			lm_tr(m, "floor %s at %lld (from #%zu)", m->g[gi].slug,
			    (long long)m->now_sec, p);
		}
	}
	for (i = 0; i < m->l->ngames; i++) {
		lg = &m->l->games[i];
		gi = lm_game_of(m, lg->slug, strlen(lg->slug));
		if (lg->cur.text[0] != '\0' && gi >= 0 && (sub >> gi & 1))
			expect++;
	}
	lm_tr(m, "connect %s", named ? list : "(all)");
	lm_touch(m);
	m->ctx = LM_CTX_NONE;
	rc = ts_ledger_connected(m->l, named ? list :
	    lm_chance(m, 1, 2) ? NULL : "");
	if (rc != expect)
		lm_fail(m, "ts_ledger_connected: %d games owe a tail, %d have "
		    "a cursor and are named", rc, expect);
	m->connected = 1;
	m->sub = sub;
	m->qh = m->qn = 0;
	m->nrecent = 0;
	m->connects++;
}

/* Connect as the engine does: with the process's --games. */
static void
lm_connect(struct lm *m)
{
	lm_subscribe(m, m->list, m->named);
}

/*
 * A new --games for the next process: mostly none (every game),
 * sometimes a list of some games or of all of them, in any order.
 */
static void
lm_choose_games(struct lm *m)
{
	unsigned every = (1u << m->ngames) - 1, k = lm_below(m, 8);
	int i, j, t, order[LM_GAMES];
	size_t n = 0;

	m->list = every;
	m->named = k < 3;
	if (k < 2)
		m->list = 1 + lm_below(m, every);
	for (i = 0; i < m->ngames; i++)
		order[i] = i;
	for (i = m->ngames - 1; i > 0; i--) {
		j = (int)lm_below(m, (unsigned)i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	m->games[0] = '\0';
	for (i = 0; i < m->ngames && m->named; i++)
		if (m->list >> order[i] & 1)
			n += (size_t)snprintf(m->games + n,
			    sizeof(m->games) - n, "%s%s", n ? "," : "",
			    m->g[order[i]].slug);
	lm_tr(m, "--games %s", m->named ? m->games : "(none)");
}

/* A clean stop, the state file's part kept, a fresh ledger restored
 * (with a new --games if choose). */
static void
lm_restart(struct lm *m, int choose)
{
	const struct ts_ledger_game *lg;
	int i, j, n, rc;

	lm_tr(m, "stop and restart");
	m->inflight = 0;
	m->ctx = LM_CTX_STOP;
	rc = ts_ledger_stop(m->l);
	m->ctx = LM_CTX_NONE;
	if (rc != 0) {
		lm_fail(m, "ts_ledger_stop: %d", rc);
		return;
	}
	lm_check(m);
	n = m->l->ngames;
	for (i = 0; i < n; i++) {
		lg = &m->l->games[i];
		memcpy(lm_saved[i].slug, lg->slug, sizeof(lg->slug));
		lm_saved[i].cur = lg->cur;
		lm_saved[i].ngaps = lg->ngaps;
		for (j = 0; j < lg->ngaps && j < TS_LEDGER_GAPS; j++)
			lm_saved[i].gap[j] = lg->gap[j];
	}
	m->overflows += m->l->overflows;
	if (choose)
		lm_choose_games(m);
	lm_ledger_new(m, 0);
	for (i = 0; i < n && !m->failed; i++) {
		rc = ts_ledger_restore(m->l, lm_saved[i].slug, &lm_saved[i].cur,
		    lm_saved[i].gap, lm_saved[i].ngaps);
		if (rc != 0)
			lm_fail(m, "ts_ledger_restore %s: %d", lm_saved[i].slug,
			    rc);
	}
	m->connected = 0;
	m->qh = m->qn = 0;
	m->nrecent = 0;
	lm_touch(m);
	m->restarts++;
}

/* ts_ledger_next(), its work checked; 1 with *w, 0, or -1 (failed). */
static int
lm_next(struct lm *m, struct ts_ledger_work *w)
{
	const struct ts_ledger_game *lg;
	size_t n;
	int rc, again = m->again;

	m->ctx = LM_CTX_NEXT;
	rc = ts_ledger_next(m->l, w);
	m->ctx = LM_CTX_NONE;
	m->again = 0;
	m->touched = 0;
	if (m->failed)
		return -1;
	if (rc == 0) {
		lm_tr(m, "next: nothing owed");
		if (again) {
			lm_fail(m, "next: the failed work (%s since %s) is "
			    "gone", m->w_slug, m->w_since);
			return -1;
		}
		return 0;
	}
	if (rc != 1) {
		lm_fail(m, "ts_ledger_next: %d", rc);
		return -1;
	}
	if (w->game < 0 || w->game >= m->l->ngames || w->slug == NULL ||
	    w->since == NULL) {
		lm_fail(m, "next: bad work (game %d)", w->game);
		return -1;
	}
	lg = &m->l->games[w->game];
	n = strnlen(w->since, TS_LEDGER_TIME_MAX);
	lm_tr(m, "next: %s gap %d since %s", w->slug, w->gap, w->since);
	if (strcmp(w->slug, lg->slug) != 0 ||
	    lm_game_of(m, w->slug, strlen(w->slug)) < 0 || w->gap < -1 ||
	    w->gap >= lg->ngaps) {
		lm_fail(m, "next: bad work (%d, %s, gap %d)", w->game, w->slug,
		    w->gap);
		return -1;
	}
	if (n == TS_LEDGER_TIME_MAX) {
		lm_fail(m, "next: since of %d bytes or more",
		    TS_LEDGER_TIME_MAX);
		return -1;
	}
	if (n > 0) {
		int64_t s;
		uint32_t ns;

		if (ts_round_time(w->since, n, &s, &ns) != 0) {
			lm_fail(m, "next: since %s is not a time", w->since);
			return -1;
		}
	}
	if (again && (w->game != m->w_game || w->gap != m->w_gap ||
	    strcmp(w->slug, m->w_slug) != 0 ||
	    strcmp(w->since, m->w_since) != 0)) {
		lm_fail(m, "next after a failed page: %s gap %d since %s, not "
		    "the same work %s gap %d since %s", w->slug, w->gap,
		    w->since, m->w_slug, m->w_gap, m->w_since);
		return -1;
	}
	m->w_game = w->game;
	m->w_gap = w->gap;
	snprintf(m->w_slug, sizeof(m->w_slug), "%s", w->slug);
	snprintf(m->w_since, sizeof(m->w_since), "%s", w->since);
	return 1;
}

/* The server's page for the current work, and its fate. */
static void
lm_page_plan(struct lm *m, int fail)
{
	int gi = lm_game_of(m, m->w_slug, strlen(m->w_slug));
	struct lm_game *g = &m->g[gi];
	size_t p = lm_first_since(g, m->w_since), want, n, i, j;
	uint64_t rs = lm_below(m, 65536) * 0x9e3779b97f4a7c15ULL + m->rs;
	struct lm_q t;

	want = LM_PAGE_MIN + lm_below(m, LM_PAGE_MAX - LM_PAGE_MIN + 1);
	n = g->n - p < want ? g->n - p : want;
	if (n > LM_PAGE_MIN && lm_chance(m, 1, 8))	/* cut short */
		n = LM_PAGE_MIN + lm_below(m, (unsigned)(n - LM_PAGE_MIN));
	m->stamp++;
	for (i = 0; i < n; i++) {
		m->rows[i] = (struct lm_q){ gi, p + i };
		g->h[p + i].page = m->stamp;
	}
	for (i = n; i > 1; i--) {	/* shuffled */
		j = (size_t)(lm_mix(&rs) % i);
		t = m->rows[i - 1];
		m->rows[i - 1] = m->rows[j];
		m->rows[j] = t;
	}
	if (n > 0 && lm_chance(m, 1, 8)) {	/* a row twice */
		j = (size_t)(lm_mix(&rs) % (n + 1));
		t = m->rows[lm_mix(&rs) % n];
		memmove(m->rows + j + 1, m->rows + j, (n - j) *
		    sizeof(m->rows[0]));
		m->rows[j] = t;
		n++;
	}
	m->nrows = n;
	m->added = 0;
	m->fate_fail = fail;
	m->fail_at = fail ? lm_below(m, (unsigned)n + 1) : 0;
	lm_tr(m, "page: %zu rows of %s from #%zu%s", n, g->slug, p,
	    fail ? " (will fail)" : "");
}

/* Add up to k more rows; then fail or finish the page if it is time. */
static void
lm_page_feed(struct lm *m, size_t k)
{
	const struct lm_q *e;
	int rc;

	while (k-- > 0 && m->added < m->nrows && !m->failed &&
	    !(m->fate_fail && m->added >= m->fail_at)) {
		e = &m->rows[m->added++];
		rc = ts_ledger_page_add(m->l, &m->g[e->g].h[e->pos].r);
		if (rc != 0) {
			lm_fail(m, "ts_ledger_page_add: %d", rc);
			return;
		}
	}
	if (m->failed)
		return;
	if (m->fate_fail && m->added >= m->fail_at) {
		lm_tr(m, "page failed after %zu rows", m->added);
		m->inflight = 0;
		m->pfailed++;
		/* with nothing in between, the same work must come back */
		m->again = !m->touched;
		return;
	}
	if (m->added == m->nrows) {
		m->inflight = 0;
		m->pages++;
		m->ctx = LM_CTX_PAGE;
		rc = ts_ledger_page_done(m->l);
		m->ctx = LM_CTX_NONE;
		if (rc != 0)
			lm_fail(m, "ts_ledger_page_done: %d", rc);
	}
}

/* One REST step: ask for work and start its page, or go on with it. */
static void
lm_rest(struct lm *m, int ok)
{
	struct ts_ledger_work w;
	int fail;

	if (m->inflight) {
		lm_page_feed(m, ok || m->no_inflight ? m->nrows :
		    1 + lm_below(m, (unsigned)(m->nrows - m->added)));
		return;
	}
	if (lm_next(m, &w) != 1)
		return;
	fail = ok ? 0 : m->outage ? lm_chance(m, 15, 16) : lm_chance(m, 1, 8);
	lm_page_plan(m, fail);
	m->inflight = 1;
	m->touched = 0;
	if (ok || m->no_inflight || lm_chance(m, 1, 2))
		lm_page_feed(m, m->nrows);
	else
		lm_page_feed(m, lm_below(m, (unsigned)m->nrows + 1));
}

/* ---- runs ---- */

/* Free the world (what an earlier run left too: m starts zeroed). */
static void
lm_free(struct lm *m)
{
	size_t i;
	int gi;

	for (gi = 0; gi < LM_GAMES; gi++) {
		for (i = 0; i < m->g[gi].n; i++)
			free(m->g[gi].h[i].obj);
		free(m->g[gi].h);
		m->g[gi].h = NULL;
		m->g[gi].n = m->g[gi].cap = 0;
	}
	free(m->q);
	m->q = NULL;
	m->qh = m->qn = m->qcap = 0;
	free(m->ev);
	m->ev = NULL;
	m->nev = m->evcap = 0;
}

/* Set up a world and a ledger: seeded (b NULL) or from the bytes. */
static void
lm_init(struct lm *m, uint64_t seed, const uint8_t *b, size_t bn)
{
	int i, k;

	lm_free(m);
	memset(m, 0, sizeof(*m));
	m->seed = seed;
	m->rs = seed;
	m->b = b;
	m->bn = bn;
	if (b != NULL) {
		m->rs = 0x243f6a8885a308d3ULL ^ bn;
		for (i = 0; i < 8 && (size_t)i < bn; i++)
			m->rs = m->rs * 131 + b[bn - 1 - (size_t)i];
	}
	m->ngames = 2 + (int)lm_below(m, LM_GAMES - 1);
	m->p_tie = 4 + lm_below(m, 12);
	m->p_long = lm_below(m, 8);
	m->p_off = lm_below(m, 6);
	m->above = lm_chance(m, 1, 3) ? 0 : 2 + lm_below(m, 14);
	m->no_inflight = lm_chance(m, 1, 4);
	m->now_sec = LM_T0 + lm_below(m, 86400);
	for (i = 0; i < m->ngames; i++) {
		m->g[i].slug[0] = 'g';
		m->g[i].slug[1] = (char)('0' + i);
		m->g[i].slug[2] = '\0';
		m->g[i].idx = lm_below(m, 20);
		m->g[i].bigidx = lm_chance(m, 1, 4);
		m->g[i].idfmt = (int)lm_below(m, 4);
		m->g[i].start = LM_NONE;
	}
	lm_choose_games(m);
	lm_ledger_new(m, 0);
	/* some history before tsino starts */
	for (k = (int)lm_below(m, 24); k > 0; k--)
		lm_finalise(m, 1);
}

/* One random step. */
static void
lm_step(struct lm *m)
{
	unsigned k = lm_below(m, 256);

	if (k < 64)
		lm_finalise(m, 1 + (int)lm_below(m, 3));
	else if (k < 136) {
		if (m->connected && m->qh < m->qn)
			lm_deliver(m, 1 + (int)lm_below(m, 4));
		else
			lm_rest(m, 0);
	} else if (k < 208)
		lm_rest(m, 0);
	else if (k < 212) {
		if (m->connected && m->nrecent > 0) {
			struct lm_q e = m->recent[lm_below(m,
			    (unsigned)m->nrecent)];

			lm_tr(m, "deliver again:");
			m->redelivered++;
			lm_live(m, e.g, e.pos);
		}
	} else if (k < 232) {
		if (!m->connected)
			lm_connect(m);
		else
			lm_finalise(m, 1);
	} else if (k < 237) {
		if (m->connected)
			lm_disconnect(m);
	} else if (k < 240) {
		m->outage = !m->outage;
		lm_tr(m, "rest outage %s", m->outage ? "begins" : "ends");
	} else if (k < 241) {
		lm_restart(m, 1);
	} else if (k < 244) {
		if (m->connected) {	/* a quick reconnect */
			lm_disconnect(m);
			lm_connect(m);
		}
	} else {
		lm_finalise(m, 1 + (int)lm_below(m, 6));
	}
}

/* Is a backfill (a tail or a gap) owed, or are rounds held? */
static int
lm_owed(const struct ts_ledger *l)
{
	int i;

	if (l->holding)
		return 1;
	for (i = 0; i < l->ngames; i++)
		if (l->games[i].tail || l->games[i].ngaps > 0)
			return 1;
	return 0;
}

/*
 * The final phase: connected to every game (after a restart without
 * --games if the process had a list that left some out), REST always
 * works, no new rounds, until ts_ledger_next() returns 0 and nothing is
 * owed.
 */
static void
lm_final(struct lm *m)
{
	struct ts_ledger_work w;
	unsigned long i;

	if (m->failed)
		return;
	lm_tr(m, "final phase");
	m->outage = 0;
	if (m->inflight) {
		m->inflight = 0;
		lm_touch(m);
	}
	if (m->list != (1u << m->ngames) - 1) {
		m->list = (1u << m->ngames) - 1;
		m->named = 0;
		lm_restart(m, 0);
	}
	if (!m->connected)
		lm_connect(m);
	for (i = 0; i < LM_FINAL_LIMIT && !m->failed; i++) {
		lm_deliver(m, (int)(m->qn - m->qh));
		if (m->failed || lm_next(m, &w) != 1)
			break;
		lm_page_plan(m, 0);
			m->inflight = 1;
		lm_page_feed(m, m->nrows);
		lm_check(m);
	}
	if (m->failed)
		return;
	if (i == LM_FINAL_LIMIT)
		lm_fail(m, "final phase: still owed after %d pages",
		    LM_FINAL_LIMIT);
	else if (lm_owed(m->l))
		lm_fail(m, "final phase: a backfill is still owed");
	lm_check(m);
}

/* Every round from each game's start on handled exactly once. */
static void
lm_expect(struct lm *m)
{
	const struct lm_game *g;
	size_t p, missing, first;
	int gi;

	for (gi = 0; gi < m->ngames && !m->failed; gi++) {
		g = &m->g[gi];
		if (g->start == LM_NONE)
			continue;
		missing = 0;
		first = LM_NONE;
		for (p = g->start; p < g->n; p++)
			if (!g->h[p].handled) {
				if (first == LM_NONE)
					first = p;
				missing++;
			}
		if (missing > 0)
			lm_fail(m, "%s: %zu rounds from #%zu on never handled, "
			    "the first #%zu (%.*s)%s", g->slug, missing,
			    g->start, first,
			    (int)g->h[first].r.finalized_at.len,
			    g->h[first].r.finalized_at.ptr,
			    g->h[first].live ? ", delivered live" : "");
	}
}

/* The ledger's games, into the trace (TS_LEDGER_TRACE=2). */
static void
lm_dump(struct lm *m)
{
	const struct ts_ledger_game *lg;
	int i, j;

	for (i = 0; i < m->l->ngames; i++) {
		lg = &m->l->games[i];
		lm_tr(m, "  state %s: cur %s (%d ids)%s%s%s", lg->slug,
		    lg->cur.text, lg->cur.nids, lg->tail ? ", tail to " : "",
		    lg->tail ? (lg->hold_to.text[0] ? lg->hold_to.text :
		    "?") : "", m->l->holding ? ", holding" : "");
		for (j = 0; j < lg->ngaps && j < TS_LEDGER_GAPS; j++)
			lm_tr(m, "  state %s: gap %d [%s (%d ids), %s "
			    "(%d ids))", lg->slug, j, lg->gap[j].from.text,
			    lg->gap[j].from.nids, lg->gap[j].to.text,
			    lg->gap[j].to.nids);
	}
}

/*
 * lm_run: steps random steps (fewer if the bytes run out), the final
 * phase and its check, then a restart and a second final phase that
 * must print nothing.  m->failed says how it went.
 */
static void
lm_run(struct lm *m, unsigned long steps)
{
	unsigned long emits;

	for (m->step = 0; m->step < steps && !m->failed && !m->out;
	    m->step++) {
		lm_step(m);
		lm_check(m);
		if (m->echo > 1)
			lm_dump(m);
	}
	m->steps = m->step;
	lm_final(m);
	lm_expect(m);
	if (m->failed)
		return;
	lm_restart(m, 0);
	/* Only a round before its game's start (a round at the start's
	 * instant that came before it, fetched from that instant after the
	 * restart) may come now, once. */
	emits = m->owed_emits;
	lm_final(m);
	if (!m->failed && m->owed_emits != emits)
		lm_fail(m, "after a restart with nothing new, %lu rounds "
		    "emitted", m->owed_emits - emits);
	lm_expect(m);
	m->overflows += m->l->overflows;
}

/* ---- helpers for the known-answer tests ---- */

/* A game's round at an explicit time, appended to its history. */
LM_UNUSED static size_t
lm_add_at(struct lm *m, int gi, const char *when)
{
	size_t pos = lm_add(m, gi, when);

	if (pos != LM_NONE)
		m->g[gi].h[pos].subns = 0;
	return pos;
}

/* A world of ngames empty games, fixed formats, and a ledger with
 * hold_max; every emit kept in m->ev, nothing passed over. */
LM_UNUSED static void
lm_setup(struct lm *m, int ngames, size_t hold_max)
{
	int i;

	lm_free(m);
	memset(m, 0, sizeof(*m));
	m->seed = 1;
	m->rs = 1;
	m->ngames = ngames;
	m->keep_ev = 1;
	m->no_inflight = 1;
	m->now_sec = LM_T0;
	m->list = (1u << ngames) - 1;
	for (i = 0; i < ngames; i++) {
		m->g[i].slug[0] = 'g';
		m->g[i].slug[1] = (char)('0' + i);
		m->g[i].slug[2] = '\0';
		m->g[i].idx = 1;
		m->g[i].start = LM_NONE;
	}
	lm_ledger_new(m, hold_max);
}

/* A page of exactly these rows of game gi (in this order) for the
 * current work: done if ok, else failed after the last row. */
LM_UNUSED static void
lm_page_rows(struct lm *m, int gi, const size_t *pos, size_t n, int ok)
{
	size_t i;

	m->stamp++;
	for (i = 0; i < n && i < LM_PAGE_ROWS; i++) {
		m->rows[i] = (struct lm_q){ gi, pos[i] };
		m->g[gi].h[pos[i]].page = m->stamp;
	}
	m->nrows = i;
	m->added = 0;
	m->fate_fail = !ok;
	m->fail_at = i;
	m->inflight = 1;
	m->touched = 0;
	lm_page_feed(m, i);
}

/* Serve every page the ledger asks for, whole, until it owes nothing. */
LM_UNUSED static void
lm_drain(struct lm *m)
{
	struct ts_ledger_work w;
	int i;

	for (i = 0; i < 1000 && !m->failed; i++) {
		if (lm_next(m, &w) != 1)
			break;
		lm_page_plan(m, 0);
			m->inflight = 1;
		lm_page_feed(m, m->nrows);
		lm_check(m);
	}
	if (!m->failed && lm_owed(m->l))
		lm_fail(m, "drain: still owed");
}

#endif /* TS_LEDGER_MODEL_H */
