/*
 * state: the resume file of `tsino stream --state FILE`.  Per game it
 * keeps the resume point (the last finalized_at handled) and hashes of
 * the round ids handled at that exact instant, because `since` is
 * inclusive and several rounds can share one finalized_at.
 *
 * The file is text, one game a line, fields separated by tabs (JSON
 * strings cannot hold a raw tab or newline, so the values need no
 * escaping), closed by a checksum line:
 *
 *	tsino-state 1
 *	game<TAB>stake-crash<TAB>2026-05-28T15:05:15Z<TAB>1f0e...<TAB>...
 *	end<TAB>1<TAB><FNV-1a 64 of every byte above, hex>
 *
 * It is written atomically (temporary file, fsync, rename, fsync of the
 * directory) and guarded by flock(2) on FILE.lock, so that a second tsino
 * on the same file is refused.  A file that does not parse is corrupt:
 * an error, never silently reset.
 */
#ifndef TS_STATE_H
#define TS_STATE_H

#include <stddef.h>
#include <stdint.h>

#define TS_STATE_MAX_GAMES 64
#define TS_STATE_SLUG_MAX 64	/* bytes, NUL included */
#define TS_STATE_TIME_MAX 48	/* bytes, NUL included */
#define TS_STATE_IDS 256	/* ids remembered at the resume instant */
#define TS_STATE_PATH_MAX 1024

struct ts_state_game {
	char slug[TS_STATE_SLUG_MAX];
	char last[TS_STATE_TIME_MAX];	/* "" when nothing handled yet */
	int nids;
	uint64_t ids[TS_STATE_IDS];	/* ts_state_hash() of round ids */
};

struct ts_state {
	int lock_fd;
	char path[TS_STATE_PATH_MAX];
};

/* FNV-1a 64 of a byte string: the id hash and the file checksum. */
uint64_t
ts_state_hash(const void *data, size_t len);

/*
 * Take the lock for path (creating path.lock).  Returns 0,
 * TS_ERR_STATE_LOCKED when another process holds it, or
 * TS_ERR_STATE_IO; why says more.
 */
int
ts_state_open(struct ts_state *s, const char *path, char *why,
    size_t whylen);

/*
 * Read the file into games (at most max; more is corrupt); *n is how
 * many.  A missing file is a fresh start (0 games).  Returns 0,
 * TS_ERR_STATE_CORRUPT, TS_ERR_STATE_IO or TS_ERR_NOMEM (the file is read
 * into one temporary buffer of at most about 280 KiB).
 */
int
ts_state_load(struct ts_state *s, struct ts_state_game *games, int max,
    int *n, char *why, size_t whylen);

/*
 * Replace the file atomically with games[0..n).  0 or TS_ERR_STATE_IO,
 * also when a game holds a value the file cannot (n above
 * TS_STATE_MAX_GAMES, an empty slug, a control character or no NUL in a
 * field, last equal to "-", nids outside 0..TS_STATE_IDS): then nothing
 * is written and the old file stays.
 */
int
ts_state_save(struct ts_state *s, const struct ts_state_game *games, int n,
    char *why, size_t whylen);

/* Release the lock.  Idempotent. */
void
ts_state_close(struct ts_state *s);

#endif /* TS_STATE_H */
