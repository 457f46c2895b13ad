/*
 * ledger: what tsino has handled, per game, and what it still owes: the
 * exactly-once bookkeeping in one place, with no I/O and no allocation
 * (the caller gives it the memory for the hold and the page).
 *
 * Per game:
 *
 *   cursor   the newest round handled (printed, or passed over by
 *            --above): its finalized_at as text and as an instant, and
 *            the ids handled at that instant (`since` is inclusive);
 *   tail     a backfill owed from the cursor after a (re)connect; while
 *            any game owes one, live rounds are held.  It stops at the
 *            first held round of its game (hold_to): what is held is
 *            printed from the hold, never fetched;
 *   gaps     rounds missed and not yet fetched: [from, to), where to is
 *            the first live round printed after the hold overflowed (or
 *            after a stop during a backfill), and from moves forward as
 *            the gap's pages are printed.  A gap's backfill never goes
 *            past its to: nothing printed live is fetched again.  A live
 *            round that falls inside an open gap is left to its page.
 *            Until its to is known (no live round of the game printed
 *            since it opened) a gap is fetched up to now.
 *
 * Every round passes one door (ts_ledger_live, the hold's release and
 * ts_ledger_page_done): dedupe, then the caller's emit (which applies
 * --above and writes the round), then the cursor, the gap or the tail.
 * Dedupe is by position first (cursor, from, to and their ids at the
 * boundary instants) and by a window of recent ids as a guard for
 * overlaps at the boundaries and in the hold; a hash match in that
 * window is confirmed by comparing the game and id bytes.
 *
 * Ids at a boundary instant are kept as 64-bit hashes of game and id
 * (ts_recent_key), as the state file stores them.
 */
#ifndef TS_LEDGER_H
#define TS_LEDGER_H

#include "recent.h"
#include "store.h"		/* and round.h, tsino.h, <stdint.h> */

#define TS_LEDGER_GAMES 64	/* games tracked */
#define TS_LEDGER_SLUG_MAX 64	/* bytes of a slug, NUL included */
#define TS_LEDGER_TIME_MAX 64	/* bytes of a kept finalized_at, NUL
				   included; a longer one is kept as its
				   instant written in UTC to the ns */
#define TS_LEDGER_IDS 256	/* ids kept at one boundary instant */
#define TS_LEDGER_GAPS 4	/* open gaps per game */
#define TS_LEDGER_PAGED 64	/* last keys per game a page brought */

/* A position in a game's history: an instant and the ids handled there. */
struct ts_ledger_mark {
	char text[TS_LEDGER_TIME_MAX];	/* "" when not set */
	int64_t sec;
	uint32_t nsec;
	int nids, ids_full;		/* ids used; more came than fit
					   (warned) */
	uint64_t ids[TS_LEDGER_IDS];
};

struct ts_ledger_gap {
	struct ts_ledger_mark from;	/* handled up to and at this mark */
	struct ts_ledger_mark to;	/* first round printed live after the
					   gap; text "" while none has been */
};

struct ts_ledger_game {
	char slug[TS_LEDGER_SLUG_MAX];
	size_t slug_len;
	struct ts_ledger_mark cur;
	char cur_index[48];		/* largest round_index handled at
					   cur's instant (not saved) */
	size_t cur_index_len;		/* 0: not known (cur moved by
					   other than a handled round) */
	int ngaps;
	struct ts_ledger_gap gap[TS_LEDGER_GAPS];	/* oldest first */
	int tail;			/* a backfill from cur is owed */
	struct ts_ledger_mark hold_to;	/* first held round (tail only; clear
					   while no tail is owed) */
	int dropped;			/* rounds were dropped from the hold */
	int64_t drop_sec;		/* the newest of them, until the tail */
	uint32_t drop_nsec;		/* is done */
	int full_warned;		/* gap list full, logged */
	uint64_t paged[TS_LEDGER_PAGED];	/* ring of the last keys pages
					   brought (a live copy may lag) */
	unsigned npaged;
};

/*
 * The caller's part.  emit writes one round out: it returns 1 if the
 * round was written, 0 if it was passed over (--above), -1 if the output
 * failed (the round is then not handled and the door reports -1).  log
 * receives one line (enum ts_log_level).  Both are required.  The
 * buffers are the caller's, must outlive the ledger and are never freed
 * by it: the hold and the page, each cap bytes in buf and ecap entries
 * in e, except that the hold's e needs only hold_max entries, the most
 * rounds held (hold_ecap is not read: client.c sizes hold_e with it).
 */
struct ts_ledger_config {
	int (*emit)(void *arg, const struct ts_round_info *r);
	void (*log)(void *arg, int level, const char *line);
	void *arg;
	const char *games;		/* --games: the only games whose gaps
					   are fetched; NULL or "" = all */
	char *hold_buf, *page_buf;
	struct ts_store_entry *hold_e, *page_e;
	size_t hold_cap, hold_ecap, hold_max, page_cap, page_ecap;
};

/* What to fetch next: GET rounds of slug since since ("" = no since);
 * game is its index in games, gap the index in its gaps (-1: the tail). */
struct ts_ledger_work {
	int game, gap;
	const char *slug, *since;
};

/*
 * The ledger.  Everything in it may be read (the state file writes
 * games[0..ngames), tests print it); only ledger.c and
 * ts_ledger_restore() change it.
 */
struct ts_ledger {
	struct ts_ledger_config cfg;
	/* games[0..ngames) in use; last_game: where the last lookup found
	 * it; first: next() looks from this game on */
	int ngames, last_game, first;
	int holding;			/* live rounds go to the hold */
	struct ts_store hold, page;
	struct ts_ledger_work work;	/* the page being fetched */
	int working;			/* work is valid */
	size_t max_page_rows;		/* largest page seen */
	int dirty;			/* changed since the caller cleared */
	int games_full_warned;
	/* hold overflows; rounds and pages of this backfill */
	unsigned long overflows, bf_rounds, bf_pages;
	/* last, as ts_ledger_init zeroes only what comes before */
	struct ts_recent recent;		/* the guard at the edges */
	struct ts_ledger_game games[TS_LEDGER_GAMES];
};


/* Set up l (all of it; l may be uninitialised memory).  0 or
 * TS_ERR_CLIENT_CONFIG when a buffer is missing. */
int
ts_ledger_init(struct ts_ledger *l, const struct ts_ledger_config *cfg);

/* The game named slug (n bytes), added if add and there is room; NULL
 * if absent or no room (64 games) or the slug is empty or too long. */
struct ts_ledger_game *
ts_ledger_game(struct ts_ledger *l, const char *slug, size_t n, int add);

/*
 * ts_ledger_mark_set: set m to the instant text (n bytes, RFC 3339 as
 * ts_round_time() reads it) with no ids.  A text longer than
 * TS_LEDGER_TIME_MAX - 1 is kept as its instant in UTC with nine
 * fraction digits, which is never later than the text's own instant
 * (`since` then fetches a little more, never less).  0, or
 * TS_ERR_ROUND_FIELD for a text that is not a valid time.
 */
int
ts_ledger_mark_set(struct ts_ledger_mark *m, const char *text, size_t n);

/*
 * ts_ledger_restore: replace game slug's cursor and gaps (from a state
 * file); gap marks with an empty to.text are gaps whose end is not
 * known yet.  0 or TS_ERR_STATE_CORRUPT (no room, or more than
 * TS_LEDGER_GAPS gaps).
 */
int
ts_ledger_restore(struct ts_ledger *l, const char *slug,
    const struct ts_ledger_mark *cur, const struct ts_ledger_gap *gaps,
    int ngaps);

/*
 * ts_ledger_floor: each game of games (a comma-separated list, as
 * --games, read by ts_list_next(); NULL or "" = none) with no cursor
 * yet resumes from sec (the subscription time), so that a gap before
 * its first round is backfilled too.
 */
void
ts_ledger_floor(struct ts_ledger *l, const char *games, int64_t sec);

/*
 * ts_ledger_connected: the stream is (re)subscribed.  Every game with a
 * cursor that games (a comma-separated list; NULL or "" = all) names
 * owes a tail backfill, and live rounds are held until every tail is
 * done.  Returns the number of games that owe one.
 */
int
ts_ledger_connected(struct ts_ledger *l, const char *games);

/*
 * ts_ledger_disconnected: the stream is gone.  Held rounds are dropped,
 * not printed: each game that had some owes a tail from its cursor (a
 * game seen only in the hold gets a cursor at its oldest held round), so
 * the next backfill fetches them.  A held round older than its game's
 * cursor (which no tail would fetch) is printed instead.  0, or -1 if
 * the output failed.
 */
int
ts_ledger_disconnected(struct ts_ledger *l);

/*
 * ts_ledger_fetch: `tsino rounds`: owe a tail for slug from since
 * (inclusive; NULL or "": the API's default), no hold.  0 or
 * TS_ERR_ROUND_FIELD for a bad slug or since.
 */
int
ts_ledger_fetch(struct ts_ledger *l, const char *slug, const char *since);

/*
 * ts_ledger_live: a finalised live round (the caller skips others):
 * held while a backfill is owed (when the hold is full it overflows:
 * see ledger.c), else through the door.  0, or -1 if the output failed.
 */
int
ts_ledger_live(struct ts_ledger *l, const struct ts_round *r);

/*
 * ts_ledger_next: the next page to fetch into *w (valid until the next
 * call), its page empty: the oldest open gap of each game first, then
 * its tail.  When no tail is owed any more the hold is released through
 * the door.  Returns 1 with *w, 0 when nothing is owed, -1 if the output
 * failed.
 */
int
ts_ledger_next(struct ts_ledger *l, struct ts_ledger_work *w);

/* The page of the current work failed: the next ts_ledger_next()
 * looks from the next game on, so one failing game starves no other. */
void
ts_ledger_page_failed(struct ts_ledger *l);

/* A row of the current work's page, a finalised round (the page starts
 * empty at each ts_ledger_next()).  0, or TS_ERR_ROUND_TOO_BIG when the
 * page store is full. */
int
ts_ledger_page_add(struct ts_ledger *l, const struct ts_round *r);

/*
 * ts_ledger_page_done: the page arrived whole.  Sort it by finalized_at
 * then round_index, pass each row through the door, then decide: the
 * work is done when the page brought nothing new or reached the gap's
 * (or the tail's) end, else the next page follows from the new from.
 * Returns 0, or -1 if the output failed.
 */
int
ts_ledger_page_done(struct ts_ledger *l);

/*
 * ts_ledger_stop: a clean stop.  Held rounds are printed now, and each
 * tail that was owed becomes an open gap ending at its first held round,
 * so that a restart with the state file fetches what is missing (when a
 * game's gap list is full the held rounds are dropped instead, as in
 * ts_ledger_disconnected).  0, or -1 if the output failed.
 */
int
ts_ledger_stop(struct ts_ledger *l);

#endif /* TS_LEDGER_H */
