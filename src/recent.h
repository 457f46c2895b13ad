/*
 * recent: a window of the (game, round id) keys handled last, the
 * ledger's guard against overlaps at the edges (a page and the hold, a
 * round sent twice).  A pure core: no I/O, no allocation (it lives in
 * the caller's struct, about 690 KiB of address space, touched as it
 * fills).
 */
#ifndef TS_RECENT_H
#define TS_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "tsino.h"

#define TS_RECENT_IDS 4096		/* keys per generation (two) */
#define TS_RECENT_BYTES (256u << 10)	/* their bytes, per generation */

/* One generation. */
struct ts_recent_gen {
	uint32_t slot[2 * TS_RECENT_IDS];	/* entry index + 1, 0 = free */
	uint64_t hash[TS_RECENT_IDS];
	uint32_t off[TS_RECENT_IDS];
	uint16_t len[TS_RECENT_IDS];
	size_t n;
	size_t used;				/* bytes of bytes[] */
	unsigned char bytes[TS_RECENT_BYTES];
};

struct ts_recent {
	struct ts_recent_gen gen[2];
	int young;			/* gen[young] takes new keys */
};

/*
 * ts_recent_key: the 64-bit hash of a game and a round id that marks
 * keep and the state file stores (FNV-1a over game, 0xff, id; never 0).
 */
uint64_t
ts_recent_key(const char *game, size_t glen, const char *id, size_t idlen);

/* Empty s (all of it may be uninitialised memory). */
void
ts_recent_init(struct ts_recent *s);

/* Is r's (game, round id) in the window?  h is its ts_recent_key(). */
int
ts_recent_has(const struct ts_recent *s, uint64_t h,
    const struct ts_round_info *r);

/* Add r's key (h its ts_recent_key()).  A key over 64 KiB, or bigger
 * than a generation's bytes, is not kept. */
void
ts_recent_add(struct ts_recent *s, uint64_t h, const struct ts_round_info *r);

#endif /* TS_RECENT_H */
