/*
 * ledger: exactly-once bookkeeping (the model is in ledger.h).
 *
 * The life of a backfill:
 *
 *   connect -> every subscribed game with a cursor owes a tail; live
 *     rounds are held; the first held round of a game ends its tail.
 *   pages   -> each row through the door; a tail or gap is done when a
 *     page brings nothing new or reaches its end (SPEC §7.2).
 *   no tail left -> the hold is released through the door.
 *   hold full (or a stop) before that -> each tail becomes an open gap
 *     [cursor, first held round) and the hold is released: live rounds
 *     then print as they come, and the gaps are fetched later, bounded,
 *     their rounds flagged late (SPEC §7.3).
 *   a game's gap list full -> the hold is dropped instead: its rounds
 *     lie after the cursors, so the tails fetch them later.  Output
 *     waits; nothing is lost or printed twice.
 *   stream lost while holding -> the hold is dropped the same way.
 *
 * No I/O, no allocation: the hold and the page live in the caller's
 * buffers, the recent ids (recent.c) in struct ts_ledger.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base.h"
#include "ledger.h"

#define LIVE (-2)		/* door source: the stream (or the hold) */
#define TAIL (-1)		/* door source: a page of the tail */

enum { D_DUP = 0, D_NEW = 1, D_BEYOND = 2 };

static void
say(struct ts_ledger *l, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	l->cfg.log(l->cfg.arg, level, line);
}

/* ---- marks ---- */

/* Where the instant (sec, nsec) lies against m: an unset m is before
 * everything. */
static int
mark_cmp(const struct ts_ledger_mark *m, int64_t sec, uint32_t nsec)
{
	if (m->text[0] == '\0')
		return 1;
	return ts_store_instant_cmp(sec, nsec, m->sec, m->nsec);
}

/* Is key among ids[0..n)? */
static int
has_key(const uint64_t *ids, int n, uint64_t key)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] == key)
			return 1;
	return 0;
}

static int
mark_has(const struct ts_ledger_mark *m, uint64_t key)
{
	return has_key(m->ids, m->nids, key);
}

static void
mark_clear(struct ts_ledger_mark *m)
{
	m->text[0] = '\0';
	m->nids = 0;
	m->ids_full = 0;
}

/* Move m to a new instant whose text is t (n bytes), with no ids. */
static void
mark_move(struct ts_ledger_mark *m, const char *t, size_t n, int64_t sec,
    uint32_t nsec)
{
	mark_clear(m);
	if (n < sizeof(m->text)) {
		memcpy(m->text, t, n);
		m->text[n] = '\0';
	} else {
		ts_round_time_write(m->text, sizeof(m->text), sec, nsec, 1);
		/* The text is what a restart reads: the instant must be its
		 * (they differ only outside years 0..9999). */
		if (ts_round_time(m->text, strlen(m->text), &sec, &nsec) < 0)
			sec = nsec = 0;
	}
	m->sec = sec;
	m->nsec = nsec;
}

int
ts_ledger_mark_set(struct ts_ledger_mark *m, const char *text, size_t n)
{
	int64_t sec;
	uint32_t nsec;

	if (ts_round_time(text, n, &sec, &nsec) < 0)
		return TS_ERR_ROUND_FIELD;
	mark_move(m, text, n, sec, nsec);
	return 0;
}

/* Add key to the ids of m, the mark of game g at its instant. */
static void
mark_add(struct ts_ledger *l, const struct ts_ledger_game *g,
    struct ts_ledger_mark *m, uint64_t key)
{
	if (mark_has(m, key))
		return;
	if (m->nids < TS_LEDGER_IDS) {
		m->ids[m->nids++] = key;
		return;
	}
	if (!m->ids_full)
		say(l, TS_LOG_ERROR, "%s: more than %d rounds at %s; a restart "
		    "or a backfill from there may print some of them again",
		    g->slug, TS_LEDGER_IDS, m->text);
	m->ids_full = 1;
}

/* Record a handled round (instant, text, key) at mark m. */
static void
mark_note(struct ts_ledger *l, const struct ts_ledger_game *g,
    struct ts_ledger_mark *m, const struct ts_round_info *r, int64_t sec,
    uint32_t nsec, uint64_t key)
{
	int c = mark_cmp(m, sec, nsec);

	if (c > 0)
		mark_move(m, r->finalized_at, r->finalized_at_len, sec, nsec);
	if (c >= 0)
		mark_add(l, g, m, key);
}

/* ---- games ---- */

struct ts_ledger_game *
ts_ledger_game(struct ts_ledger *l, const char *slug, size_t n, int add)
{
	struct ts_ledger_game *g;
	int i, k;

	/* Most rounds are of the game looked up last: it is tried first. */
	for (i = l->last_game, k = 0; k < l->ngames;
	    i = i + 1 < l->ngames ? i + 1 : 0, k++) {
		g = &l->games[i];
		if (g->slug_len == n && memcmp(g->slug, slug, n) == 0) {
			l->last_game = i;
			return g;
		}
	}
	if (!add || n == 0 || n >= sizeof(g->slug))
		return NULL;
	if (l->ngames == TS_LEDGER_GAMES) {
		if (!l->games_full_warned)
			say(l, TS_LOG_ERROR, "more than %d games: rounds of "
			    "%.*s and later games are deduplicated only by "
			    "recent ids and have no resume point",
			    TS_LEDGER_GAMES, (int)n, slug);
		l->games_full_warned = 1;
		return NULL;
	}
	/* Zeroed: no cursor, gaps, tail, drops, index or paged keys. */
	g = &l->games[l->ngames++];
	memset(g, 0, sizeof(*g));
	memcpy(g->slug, slug, n);
	g->slug_len = n;
	return g;
}

int
ts_ledger_init(struct ts_ledger *l, const struct ts_ledger_config *cfg)
{
	if (cfg->hold_buf == NULL || cfg->hold_e == NULL ||
	    cfg->page_buf == NULL || cfg->page_e == NULL || cfg->hold_max == 0)
		return TS_ERR_CLIENT_CONFIG;
	/* games[] is set up as each is added: only games in use are read;
	 * ts_recent_init sets up the window: its unused pages stay
	 * untouched (128 KiB of peak RSS when this zeroed them too). */
	memset(l, 0, offsetof(struct ts_ledger, recent));
	l->cfg = *cfg;
	/* the hold's store takes hold_max entries: full is full */
	l->hold = (struct ts_store){ .buf = cfg->hold_buf,
	    .cap = cfg->hold_cap, .e = cfg->hold_e, .ecap = cfg->hold_max };
	l->page = (struct ts_store){ .buf = cfg->page_buf,
	    .cap = cfg->page_cap, .e = cfg->page_e, .ecap = cfg->page_ecap };
	ts_recent_init(&l->recent);
	return 0;
}

int
ts_ledger_restore(struct ts_ledger *l, const char *slug,
    const struct ts_ledger_mark *cur, const struct ts_ledger_gap *gaps,
    int ngaps)
{
	struct ts_ledger_game *g = ts_ledger_game(l, slug, strlen(slug), 1);

	if (g == NULL || ngaps < 0 || ngaps > TS_LEDGER_GAPS)
		return TS_ERR_STATE_CORRUPT;
	g->cur = *cur;
	memcpy(g->gap, gaps, (size_t)ngaps * sizeof(*gaps));
	g->ngaps = ngaps;
	return 0;
}

void
ts_ledger_floor(struct ts_ledger *l, const char *games, int64_t sec)
{
	struct ts_ledger_game *g;
	char t[TS_LEDGER_TIME_MAX];
	const char *e;
	size_t pos = 0, n, len = games != NULL ? strlen(games) : 0;

	ts_round_time_write(t, sizeof(t), sec, 0, 0);
	while (len > 0 && ts_list_next(games, len, &pos, &e, &n)) {
		g = ts_ledger_game(l, e, n, 1);
		if (g != NULL && g->cur.text[0] == '\0' && g->ngaps == 0) {
			mark_move(&g->cur, t, strlen(t), sec, 0);
			l->dirty = 1;
			say(l, TS_LOG_DEBUG, "%s: no round yet, resume point "
			    "%s", g->slug, t);
		}
	}
}

/*
 * Is slug in the comma-separated list (every game is, if it is empty)?
 * Asked before fetching: a game that is not a slug, from a state file
 * written before the rule, is kept but never fetched (its REST URL
 * cannot be built, and no round of it can come any more).
 */
static int
listed(const char *list, const char *slug)
{
	const char *e;
	size_t len = strlen(slug), n, pos = 0;

	if (!ts_round_slug_ok(slug, len))
		return 0;
	if (list == NULL || list[0] == '\0')
		return 1;
	while (ts_list_next(list, strlen(list), &pos, &e, &n))
		if (n == len && memcmp(e, slug, len) == 0)
			return 1;
	return 0;
}

/* ---- the door ---- */

/* Is the instant no later than a round of g dropped from the hold? */
static int
before_drop(const struct ts_ledger_game *g, int64_t sec, uint32_t nsec)
{
	return g->dropped &&
	    ts_store_instant_cmp(sec, nsec, g->drop_sec, g->drop_nsec) <= 0;
}

/* Does r lie inside an open gap [from, to) of g?  Its page will bring
 * it; printed live now, it would come twice. */
static int
inside_gap(const struct ts_ledger_game *g, int64_t sec, uint32_t nsec,
    uint64_t key)
{
	const struct ts_ledger_gap *gp;
	int i, c;

	for (i = 0; i < g->ngaps; i++) {
		gp = &g->gap[i];
		if (mark_cmp(&gp->to, sec, nsec) >= 0)
			continue;	/* at or past its end, or no end yet */
		c = mark_cmp(&gp->from, sec, nsec);
		if (c > 0 || (c == 0 && !mark_has(&gp->from, key)))
			return 1;
	}
	return 0;
}

/*
 * Has round r (of game g, or NULL when untracked) been handled, or does
 * it lie past the end of what src (a gap, the tail) is to fetch?
 */
static int
admit(struct ts_ledger *l, struct ts_ledger_game *g,
    const struct ts_round_info *r, int64_t sec, uint32_t nsec, uint64_t key,
    int src)
{
	const struct ts_ledger_mark *from, *to;
	int c;

	if (ts_recent_has(&l->recent, key, r))
		return D_DUP;
	if (g == NULL)
		return D_NEW;
	c = mark_cmp(&g->cur, sec, nsec);
	if (c == 0 && mark_has(&g->cur, key))
		return D_DUP;
	/* A live copy that lags its page (the stream slower than REST) is
	 * older than the cursor the page moved: the game's last page keys
	 * know it, whatever the recent window has forgotten since. */
	if (src == LIVE && c < 0 && has_key(g->paged, TS_LEDGER_PAGED, key))
		return D_DUP;
	/* A live round after the cursor and no later than a round dropped
	 * from the hold (sent twice) is fetched with the dropped ones. */
	if (src == LIVE)
		return inside_gap(g, sec, nsec, key) || (before_drop(g, sec,
		    nsec) && c > 0) ? D_BEYOND : D_NEW;
	from = src >= 0 ? &g->gap[src].from : &g->cur;
	to = src >= 0 ? &g->gap[src].to : &g->hold_to;
	c = mark_cmp(from, sec, nsec);
	if (c < 0 || (c == 0 && mark_has(from, key)))
		return D_DUP;
	c = mark_cmp(to, sec, nsec);
	return to->text[0] != '\0' && (c > 0 || (c == 0 &&
	    mark_has(to, key))) ? D_BEYOND : D_NEW;
}

/*
 * The one door: dedupe, then emit (--above and the output), then the
 * bookkeeping.  Returns D_NEW, D_DUP, D_BEYOND, or -1 if the output
 * failed (the round is then not handled).
 */
static int
door(struct ts_ledger *l, struct ts_round_info *r, int64_t sec,
    uint32_t nsec, int src)
{
	struct ts_ledger_game *g;
	struct ts_ledger_gap *gp;
	uint64_t key;
	int rc, c, i;

	g = ts_ledger_game(l, r->game_id, r->game_id_len, 1);
	key = ts_recent_key(r->game_id, r->game_id_len, r->round_id,
	    r->round_id_len);
	rc = admit(l, g, r, sec, nsec, key, src);
	if (rc == D_DUP)
		say(l, TS_LOG_DEBUG, "round %.*s of %.*s already handled",
		    (int)r->round_id_len, r->round_id, (int)r->game_id_len,
		    r->game_id);
	if (rc != D_NEW)
		return rc;
	r->backfilled = src != LIVE;
	/* Late: older than the cursor, or at its instant and not above the
	 * largest round_index handled there.  When that is not known (after
	 * a restart, or an index too long to keep) and rounds were handled
	 * at the instant, r may come after newer ones: late too. */
	if (g != NULL) {
		c = mark_cmp(&g->cur, sec, nsec);
		r->late = c < 0 || (c == 0 && (g->cur_index_len == 0 ?
		    g->cur.nids > 0 : ts_round_index_cmp(r->round_index,
		    r->round_index_len, g->cur_index, g->cur_index_len) <= 0));
	}
	if (r->late && r->backfilled)
		say(l, TS_LOG_INFO, "late round %.*s of %s (%.*s) printed "
		    "after newer ones", (int)r->round_id_len, r->round_id,
		    g->slug, (int)r->finalized_at_len, r->finalized_at);
	if (l->cfg.emit(l->cfg.arg, r) < 0)
		return -1;
	ts_recent_add(&l->recent, key, r);
	if (g == NULL)
		return D_NEW;
	/* Handled: the cursor, and the gap whose page brought r, or (live)
	 * the end of each gap it may mark. */
	l->dirty = 1;
	/* r moves the cursor to its instant, or is the newest there (not
	 * late, with the index there known). */
	if (!r->late && (c > 0 || g->cur_index_len > 0)) {
		g->cur_index_len = r->round_index_len < sizeof(g->cur_index) ?
		    r->round_index_len : 0;
		memcpy(g->cur_index, r->round_index, g->cur_index_len);
	}
	mark_note(l, g, &g->cur, r, sec, nsec, key);
	if (src >= 0)
		mark_note(l, g, &g->gap[src].from, r, sec, nsec, key);
	if (src != LIVE)
		g->paged[g->npaged++ % TS_LEDGER_PAGED] = key;
	for (i = 0; i < g->ngaps; i++) {
		gp = &g->gap[i];
		/* A live round older than the gap's start (the stream out
		 * of order) cannot be its end. */
		if (src == LIVE && gp->to.text[0] == '\0' &&
		    mark_cmp(&gp->from, sec, nsec) >= 0 &&
		    !before_drop(g, sec, nsec))
			mark_move(&gp->to, r->finalized_at,
			    r->finalized_at_len, sec, nsec);
		/* Handled at a gap's edge: its own page must not bring it
		 * again, nor a neighbour's that meets it there. */
		if (mark_cmp(&gp->from, sec, nsec) == 0)
			mark_add(l, g, &gp->from, key);
		if (mark_cmp(&gp->to, sec, nsec) == 0)
			mark_add(l, g, &gp->to, key);
	}
	return D_NEW;
}

/* ---- the hold ---- */

/*
 * A round of g (finalized_at t, n bytes) left to the backfill: dropped
 * from the hold, or bigger than the hold.  g owes a tail that must reach
 * it; a cold game (no cursor before) starts at the oldest round left.
 */
static void
leave(struct ts_ledger_game *g, int cold, const char *t, size_t n,
    int64_t sec, uint32_t nsec)
{
	if (cold && (g->cur.text[0] == '\0' ||
	    mark_cmp(&g->cur, sec, nsec) < 0))
		mark_move(&g->cur, t, n, sec, nsec);
	if (!before_drop(g, sec, nsec)) {
		g->drop_sec = sec;
		g->drop_nsec = nsec;
	}
	g->dropped = 1;
	g->tail = 1;
}

/* A round entered the hold: the first held round of a game ends its
 * tail, and so do the others held at that instant. */
static void
note_held(struct ts_ledger *l, const struct ts_store_entry *e)
{
	struct ts_ledger_game *g;
	struct ts_round_info ri;

	ts_store_info(&ri, l->hold.buf + e->off, e);
	g = ts_ledger_game(l, ri.game_id, ri.game_id_len, 1);
	/* A held round older than the cursor (the stream out of order) is
	 * printed late at the release, and one no newer than a round
	 * dropped from the hold (sent twice) is fetched again: neither can
	 * end the tail. */
	if (g == NULL || !g->tail || mark_cmp(&g->cur, e->sec, e->nsec) < 0 ||
	    before_drop(g, e->sec, e->nsec))
		return;
	if (g->hold_to.text[0] == '\0')
		mark_move(&g->hold_to, ri.finalized_at, ri.finalized_at_len,
		    e->sec, e->nsec);
	if (mark_cmp(&g->hold_to, e->sec, e->nsec) == 0)
		mark_add(l, g, &g->hold_to, ts_recent_key(ri.game_id,
		    ri.game_id_len, ri.round_id, ri.round_id_len));
}

static int
any_tail(const struct ts_ledger *l)
{
	int i;

	for (i = 0; i < l->ngames; i++)
		if (l->games[i].tail)
			return 1;
	return 0;
}

/* Print what is held, in arrival order. */
static int
release(struct ts_ledger *l)
{
	struct ts_round_info ri;
	const struct ts_store_entry *e;
	size_t i, n = l->hold.n;

	l->holding = 0;
	for (i = 0; i < n; i++) {
		e = &l->hold.e[i];
		ts_store_info(&ri, l->hold.buf + e->off, e);
		if (door(l, &ri, e->sec, e->nsec, LIVE) < 0)
			return -1;
	}
	l->hold.n = l->hold.len = 0;
	if (n > 0)
		say(l, TS_LOG_DEBUG, "released %zu held live rounds", n);
	return 0;
}

/*
 * Forget the hold without printing it.  A held round lies after its
 * game's cursor, so owing a tail from the cursor fetches it again; a
 * game with no cursor gets one at its oldest held round.  A held round
 * older than its game's cursor (a late live round) would not be fetched
 * again: it is printed now.  0, or -1 if the output failed.
 */
static int
discard(struct ts_ledger *l, const char *why)
{
	struct ts_ledger_game *g;
	struct ts_round_info ri;
	const struct ts_store_entry *e;
	unsigned char had[TS_LEDGER_GAMES] = { 0 };	/* and games added */
	size_t i, n = l->hold.n;
	int k;

	if (n > 0)
		say(l, TS_LOG_INFO, "%s: %zu held live rounds dropped; the "
		    "backfill fetches them", why, n);
	/* A tail page asked for before the drop cannot say the tail is
	 * done: the dropped rounds may be newer than its rows. */
	if (l->working && l->work.gap == TAIL)
		l->working = 0;
	for (k = 0; k < l->ngames; k++) {
		had[k] = l->games[k].cur.text[0] != '\0';
		mark_clear(&l->games[k].hold_to);
	}
	l->hold.n = l->hold.len = 0;
	l->holding = 0;
	for (i = 0; i < n; i++) {
		e = &l->hold.e[i];
		ts_store_info(&ri, l->hold.buf + e->off, e);
		g = ts_ledger_game(l, ri.game_id, ri.game_id_len, 1);
		if (g == NULL)
			continue;
		k = (int)(g - l->games);
		if (!had[k] || mark_cmp(&g->cur, e->sec, e->nsec) >= 0) {
			leave(g, !had[k], ri.finalized_at, ri.finalized_at_len,
			    e->sec, e->nsec);
			l->dirty = 1;
		} else if (door(l, &ri, e->sec, e->nsec, LIVE) < 0)
			return -1;
	}
	l->holding = any_tail(l);
	return 0;
}

/*
 * Each owed tail becomes an open gap [cursor, first held round).
 * Returns -1, changing nothing, when a game that owes one has no room
 * for another gap.
 */
static int
open_gaps(struct ts_ledger *l)
{
	struct ts_ledger_game *g;
	struct ts_ledger_gap *gp;
	int i;

	for (i = 0; i < l->ngames; i++) {
		g = &l->games[i];
		if (g->tail && g->cur.text[0] != '\0' &&
		    g->ngaps == TS_LEDGER_GAPS) {
			if (!g->full_warned)
				say(l, TS_LOG_ERROR, "%s: %d gaps open "
				    "already", g->slug, TS_LEDGER_GAPS);
			g->full_warned = 1;
			return -1;
		}
	}
	for (i = 0; i < l->ngames; i++) {
		g = &l->games[i];
		if (!g->tail)
			continue;
		g->tail = 0;
		if (g->cur.text[0] != '\0') {
			gp = &g->gap[g->ngaps++];
			gp->from = g->cur;
			gp->to = g->hold_to;
			say(l, TS_LOG_INFO, "gap: %s from %s to %s stays open",
			    g->slug, gp->from.text, gp->to.text[0] ?
			    gp->to.text : "its next live round");
		}
		mark_clear(&g->hold_to);
		l->dirty = 1;
	}
	return 0;
}

/* The hold is full with a backfill still owed (SPEC §7.3). */
static int
overflow(struct ts_ledger *l)
{
	l->overflows++;
	if (open_gaps(l) < 0)
		return discard(l, "hold full and no room for another gap");
	say(l, TS_LOG_ERROR, "gap: %zu live rounds held and the backfill is "
	    "not done; printing them, the gap stays open", l->hold.n);
	return release(l);
}

int
ts_ledger_live(struct ts_ledger *l, const struct ts_round *r)
{
	struct ts_round_info ri;
	struct ts_ledger_game *g;

	if (l->holding && ts_store_add(&l->hold, r) == 0)
		return note_held(l, &l->hold.e[l->hold.n - 1]), 0;
	/* Full, in rounds or in bytes: an overflow, then try again. */
	if (l->holding && l->hold.n > 0 && overflow(l) < 0)
		return -1;
	if (l->holding && ts_store_add(&l->hold, r) == 0)
		return note_held(l, &l->hold.e[l->hold.n - 1]), 0;
	g = l->holding ? ts_ledger_game(l, r->game_id.ptr, r->game_id.len,
	    1) : NULL;
	if (g != NULL) {
		/* Bigger than the whole hold: left to the backfill. */
		leave(g, g->cur.text[0] == '\0', r->finalized_at.ptr,
		    r->finalized_at.len, r->finalized_sec, r->finalized_nsec);
		say(l, TS_LOG_INFO, "hold full: round %.*s left to the "
		    "backfill", (int)r->round_id.len, r->round_id.ptr);
		return 0;
	}
	ts_store_round_info(&ri, r);
	return door(l, &ri, r->finalized_sec, r->finalized_nsec, LIVE) < 0 ?
	    -1 : 0;
}

/* ---- connections and backfills ---- */

int
ts_ledger_connected(struct ts_ledger *l, const char *games)
{
	struct ts_ledger_game *g;
	int i, owed = 0;

	for (i = 0; i < l->ngames; i++) {
		g = &l->games[i];
		if (g->cur.text[0] == '\0' || !listed(games, g->slug))
			continue;
		/* A gap whose end is not known yet: nothing of g was
		 * handled since it opened at the cursor, so the tail
		 * covers it. */
		if (g->ngaps > 0 && g->gap[g->ngaps - 1].to.text[0] == '\0') {
			g->ngaps--;
			l->dirty = 1;
			if (l->working && l->work.game == i &&
			    l->work.gap == g->ngaps)
				l->working = 0;		/* its page is void */
		}
		g->tail = 1;	/* hold_to is clear while no tail is owed */
		owed++;
	}
	/* A tail page asked for before this connect cannot say the tail is
	 * done: rounds finalised since are in no page and no hold. */
	if (l->working && l->work.gap == TAIL)
		l->working = 0;
	if (owed > 0 && !l->holding) {
		l->holding = 1;
		l->bf_rounds = l->bf_pages = 0;
	}
	return owed;
}

int
ts_ledger_disconnected(struct ts_ledger *l)
{
	return l->holding ? discard(l, "stream lost during the backfill") : 0;
}

int
ts_ledger_fetch(struct ts_ledger *l, const char *slug, const char *since)
{
	struct ts_ledger_game *g = ts_ledger_game(l, slug, strlen(slug), 1);

	if (g == NULL)
		return TS_ERR_ROUND_FIELD;
	mark_clear(&g->cur);
	g->cur_index_len = 0;
	if (since != NULL && since[0] != '\0' &&
	    ts_ledger_mark_set(&g->cur, since, strlen(since)) < 0)
		return TS_ERR_ROUND_FIELD;
	g->tail = 1;
	return 0;
}

int
ts_ledger_next(struct ts_ledger *l, struct ts_ledger_work *w)
{
	struct ts_ledger_game *g = NULL;
	int i = 0, k, gap = TAIL;

	l->working = 0;
	l->page.n = l->page.len = 0;
	if (l->holding && !any_tail(l) && release(l) < 0)
		return -1;
	/* Open gaps first, oldest first: they are the oldest rounds owed.
	 * After a failed page the search starts at the next game, so that
	 * one game's failing pages do not starve the others. */
	for (k = 0; k < l->ngames; k++) {
		i = (l->first + k) % l->ngames;
		g = &l->games[i];
		/* A game the user no longer asks for keeps its gaps.  A gap
		 * whose end is not known yet is fetched up to now: no live
		 * round of its game was printed since it opened, and the
		 * first one to be becomes its end. */
		gap = g->ngaps > 0 && listed(l->cfg.games, g->slug) ? 0 : TAIL;
		if (gap == 0 || g->tail)
			break;
	}
	if (k == l->ngames)
		return 0;
	w->game = i;
	w->gap = gap;
	w->slug = g->slug;
	w->since = gap == 0 ? g->gap[0].from.text : g->cur.text;
	l->work = *w;
	l->working = 1;
	return 1;
}

void
ts_ledger_page_failed(struct ts_ledger *l)
{
	if (l->working && l->ngames > 0)
		l->first = (l->work.game + 1) % l->ngames;
	l->working = 0;
}

int
ts_ledger_page_add(struct ts_ledger *l, const struct ts_round *r)
{
	const char *slug = l->work.slug;

	if (!l->working)
		return 0;	/* the page's work was voided: ignored */
	/* The endpoint is one game's: a row of another would be bounded
	 * by the wrong game's gap. */
	if (r->game_id.len != strlen(slug) ||
	    memcmp(r->game_id.ptr, slug, r->game_id.len) != 0) {
		say(l, TS_LOG_INFO, "rest: row %.*s of game %.*s in a page of "
		    "%s skipped", (int)r->round_id.len, r->round_id.ptr,
		    (int)r->game_id.len, r->game_id.ptr, slug);
		return 0;
	}
	return ts_store_add(&l->page, r) < 0 ? TS_ERR_ROUND_TOO_BIG : 0;
}

/*
 * The limit of SPEC §7.2: paging by an inclusive `since` cannot get past
 * one instant holding more rounds than a page.  Asked before the page's
 * rows pass the door: from (the work's since) is then as next() gave it.
 */
static void
check_page_limit(struct ts_ledger *l, const struct ts_ledger_game *g,
    const struct ts_ledger_mark *from)
{
	const struct ts_store_entry *e = l->page.e;
	size_t n = l->page.n;

	/* The first page says nothing of the server's page size; a page of
	 * one row at the since instant is the cursor's own round again.
	 * Sorted: all rows are at since when the first and the last are. */
	if (from->text[0] == '\0' || n < 2 || l->max_page_rows == 0 ||
	    n < l->max_page_rows || mark_cmp(from, e->sec, e->nsec) != 0 ||
	    mark_cmp(from, e[n - 1].sec, e[n - 1].nsec) != 0)
		return;
	say(l, TS_LOG_ERROR, "backfill %s: a full page of %zu rounds all at "
	    "%.*s; more rounds of that instant may be missing (a page must "
	    "hold more rounds than one instant has)", g->slug, n,
	    (int)e->flen[TS_STORE_F_TIME],
	    l->page.buf + e->off + e->foff[TS_STORE_F_TIME]);
}

int
ts_ledger_page_done(struct ts_ledger *l)
{
	struct ts_ledger_game *g;
	struct ts_round_info ri;
	struct ts_store_entry *e;
	unsigned long fresh = 0;
	int beyond = 0, rc, src, k;
	size_t i;

	if (!l->working)
		return 0;
	l->working = 0;
	l->first = 0;
	g = &l->games[l->work.game];
	src = l->work.gap;
	/* An overflow or a stop since the request made the tail a gap:
	 * the gap's own request fetches these rows again. */
	if ((src == TAIL && !g->tail) || src >= g->ngaps)
		return 0;
	ts_store_sort(&l->page);
	check_page_limit(l, g, src >= 0 ? &g->gap[src].from : &g->cur);
	/* A page is the oldest rows from since: after its end, the rest of
	 * the page is past it too (same instant, later round_index). */
	for (i = 0; i < l->page.n && !beyond; i++) {
		e = &l->page.e[i];
		ts_store_info(&ri, l->page.buf + e->off, e);
		rc = door(l, &ri, e->sec, e->nsec, src);
		if (rc < 0)
			return -1;
		fresh += rc == D_NEW;
		beyond |= rc == D_BEYOND;
	}
	l->bf_pages++;
	l->bf_rounds += fresh;
	if (l->page.n > l->max_page_rows)
		l->max_page_rows = l->page.n;
	say(l, TS_LOG_DEBUG, "rest: page of %zu rows for %s, %lu new%s",
	    l->page.n, g->slug, fresh, beyond ? ", at its end" : "");
	if (fresh > 0 && !beyond)
		return 0;
	/* The work is done: close the tail or the gap. */
	l->dirty = 1;
	if (src == TAIL) {
		g->tail = 0;
		g->dropped = 0;
		mark_clear(&g->hold_to);
		say(l, TS_LOG_INFO, "backfill %s: caught up", g->slug);
		return 0;
	}
	say(l, TS_LOG_INFO, "backfill %s: gap closed (from %s to %s)", g->slug,
	    g->gap[src].from.text, g->gap[src].to.text);
	for (k = src; k + 1 < g->ngaps; k++)
		g->gap[k] = g->gap[k + 1];
	g->ngaps--;
	if (g->ngaps == 0 && !g->tail)
		g->dropped = 0;		/* every dropped round fetched */
	return 0;
}

int
ts_ledger_stop(struct ts_ledger *l)
{
	if (!l->holding)
		return 0;
	if (open_gaps(l) < 0)
		return discard(l, "stop during the backfill, no room for "
		    "another gap");
	if (l->hold.n > 0)
		say(l, TS_LOG_INFO, "stop during the backfill: printing %zu "
		    "held live rounds; the missed rounds stay an open gap for "
		    "the next run", l->hold.n);
	return release(l);
}
