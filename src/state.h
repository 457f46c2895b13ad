/*
 * state: the resume file of `tsino stream --state FILE`: the ledger's
 * persistent part.  Per game the cursor (the last finalized_at handled
 * and hashes of the ids handled at that instant, because `since` is
 * inclusive) and its open gaps (ledger.h).
 *
 * The file is text, fields separated by tabs (the values hold no tab or
 * control byte: see ts_state_save), closed by a checksum line:
 *
 *	tsino-state 2
 *	game<TAB>stake-crash<TAB>2026-05-28T15:05:15Z<TAB>1f0e...<TAB>...
 *	gap<TAB>FROM<TAB>TO<TAB>K<TAB>K from-ids...<TAB>to-ids...
 *	end<TAB>LINES<TAB><FNV-1a 64 of every byte above, hex>
 *
 * A gap line belongs to the game line above it; TO is "-" for a gap
 * whose end is not known yet, and so is a game's time when it has none.
 * LINES counts the game and gap lines.  A slug is written as it is,
 * except a control byte, 0x7f, a backslash and a lone "-", written
 * \xNN (lowercase hex): every game the engine keeps can be saved.
 *
 * Versions.  Version 1 had game lines only (times up to 47 bytes) and
 * counted games on its end line.  The rule for every change: a file of
 * any older version loads, and is written back in the newest; load, save,
 * load gives the same state.
 *
 * It is written atomically (temporary file, fsync, rename, fsync of the
 * directory) and guarded by flock(2) on FILE.lock, so that a second tsino
 * on the same file is refused.  A file that does not parse is corrupt:
 * an error, never silently reset.
 */
#ifndef TS_STATE_H
#define TS_STATE_H

#include <stddef.h>

#include "ledger.h"

#define TS_STATE_PATH_MAX 1024
/* The largest file: every game with every gap and every id. */
#define TS_STATE_MAX_FILE (TS_LEDGER_GAMES * (TS_LEDGER_GAPS + 1) * \
	(2 * TS_LEDGER_IDS * 17 + 2 * TS_LEDGER_TIME_MAX + 96) + 128)

struct ts_state {
	int lock_fd;
	char path[TS_STATE_PATH_MAX];
};

/*
 * Take the lock for path (creating path.lock).  Returns 0,
 * TS_ERR_STATE_LOCKED when another process holds it, or
 * TS_ERR_STATE_IO; why says more.
 */
int
ts_state_open(struct ts_state *s, const char *path, char *why,
    size_t whylen);

/*
 * Read the file into l (ts_ledger_restore per game); *ngames is how
 * many games it named.  A missing file is a fresh start (0 games).
 * Returns 0, TS_ERR_STATE_CORRUPT, TS_ERR_STATE_IO or TS_ERR_NOMEM (the
 * file is read into one temporary buffer of its size).
 */
int
ts_state_load(struct ts_state *s, struct ts_ledger *l, int *ngames,
    char *why, size_t whylen);

/*
 * ts_state_parse: the same from the len bytes at buf (any version; more
 * than TS_STATE_MAX_FILE is too big, as in the file); name stands for
 * the file in why.  fuzz_state's entry point.
 */
int
ts_state_parse(const char *buf, size_t len, struct ts_ledger *l,
    int *ngames, const char *name, char *why, size_t whylen);

/*
 * Replace the file atomically with l's cursors and gaps, in the newest
 * version.  0 or TS_ERR_STATE_IO, also when a game holds a value the
 * file cannot (marks or gaps load would refuse; any slug can be
 * stored): then nothing is written and the old file stays.
 */
int
ts_state_save(struct ts_state *s, const struct ts_ledger *l, char *why,
    size_t whylen);

/* Release the lock.  Idempotent. */
void
ts_state_close(struct ts_state *s);

#endif /* TS_STATE_H */
