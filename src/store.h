/*
 * store: copies of rounds in a caller's buffer, each with where its
 * fields are, so that held rounds and page rows need no second parse;
 * and their sort by finalized_at, then round_index.  A pure core: no
 * I/O, no allocation; the caller owns both arrays.
 */
#ifndef TS_STORE_H
#define TS_STORE_H

#include "tsino.h"
#include "round.h"		/* and <stddef.h>, <stdint.h> */

enum {
	TS_STORE_F_GAME, TS_STORE_F_ID, TS_STORE_F_INDEX, TS_STORE_F_MULT,
	TS_STORE_F_TIME, TS_STORE_NF
};

/* One stored round: its bytes in buf, its fields as offsets into them. */
struct ts_store_entry {
	size_t off;
	uint32_t len;
	uint32_t foff[TS_STORE_NF], flen[TS_STORE_NF];
	int64_t sec;			/* finalized_at */
	uint32_t nsec;
};

/* buf (cap bytes, len used) and e (ecap entries, n used): the caller's. */
struct ts_store {
	char *buf;
	size_t cap, len;
	struct ts_store_entry *e;
	size_t ecap, n;
};

/* Compare two instants (seconds, nanoseconds): -1, 0 or 1.  Inline:
 * the ledger's door compares several per round. */
static inline int
ts_store_instant_cmp(int64_t as, uint32_t an, int64_t bs, uint32_t bn)
{
	if (as != bs)
		return as < bs ? -1 : 1;
	if (an != bn)
		return an < bn ? -1 : 1;
	return 0;
}

/* Copy r in: 0, or -1 when the bytes or the entries are full. */
int
ts_store_add(struct ts_store *s, const struct ts_round *r);

/* Fill every field of ri from entry e, whose bytes are at b (its
 * store's buf + e->off), with backfilled and late 0. */
void
ts_store_info(struct ts_round_info *ri, const char *b,
    const struct ts_store_entry *e);

/* Fill every field of ri from a round as the reader gave it. */
void
ts_store_round_info(struct ts_round_info *ri, const struct ts_round *r);

/* Sort the entries by finalized_at, then round_index as integers. */
void
ts_store_sort(struct ts_store *s);

#endif /* TS_STORE_H */
