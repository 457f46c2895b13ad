/*
 * round: read TrackerSino rounds out of JSON, one at a time, and write
 * each one minified.  A pure byte machine over the json tokenizer: the
 * caller owns the reader and one buffer that bounds a single round
 * (never the whole REST body).  Also the pure helpers the client needs
 * to order, filter and print rounds exactly: decimal comparison of
 * multipliers, integer comparison of round_index strings of any length,
 * RFC 3339 times, and the text output line.  Errors are the
 * TS_ERR_ROUND_* codes of include/tsino.h, and the TS_ERR_JSON_* codes
 * passed through.
 */
#ifndef TS_ROUND_H
#define TS_ROUND_H

#include "json.h"	/* and base.h, with <stddef.h> and <stdint.h> */

/* Longest game slug, in bytes: what the ledger and the state file keep. */
#define TS_ROUND_SLUG_MAX 63
/*
 * Bytes for the decoded text of a round's escaped known members (the
 * rest of a row is never decoded); a row that needs more is skipped.
 */
#define TS_ROUND_DECODED_MAX 256
/*
 * Extra buffer bytes beyond the largest round, for inserting
 * "game_id":"<slug>", (13 bytes and the slug) as the first member and
 * for the decoded members after the object.
 */
#define TS_ROUND_HEADROOM (128 + TS_ROUND_DECODED_MAX)
/* Bytes of round_id kept to name a skipped row. */
#define TS_ROUND_ID_MAX 128

/*
 * Modes for ts_round_init(): the input is one round object (MESSAGE),
 * or a REST body holding an array of rounds (BODY).
 */
enum ts_round_mode { TS_ROUND_MESSAGE = 1, TS_ROUND_BODY = 2 };

/*
 * Events from ts_round_event(), the values fixed: a round is in
 * r->round (ROUND), a row was passed over and r->skip_* say why
 * (SKIPPED).
 */
enum ts_round_ev { TS_ROUND_EV_ROUND = 1, TS_ROUND_EV_SKIPPED = 2 };

/*
 * One member of a round.  ptr is NULL if the member was absent.  For a
 * JSON string ptr and len are its text with the escapes resolved: the
 * bytes between the quotes in obj, or, if they held a backslash
 * (escaped = 1), a decoded copy after obj; for a number they are its
 * text.
 */
struct ts_round_field {
	const char *ptr;
	size_t len;
	int escaped;
};

/*
 * A round.  obj is the minified object (obj_len bytes, no NUL), with
 * every member as received and in order, and game_id first if it was
 * inserted (game_inserted = 1).  The decoded copies of escaped members
 * follow it (aux_len bytes).  Every field points into those
 * obj_len + aux_len bytes.
 */
struct ts_round {
	const char *obj;
	size_t obj_len;
	size_t aux_len;
	int game_inserted;
	struct ts_round_field game_id;		/* string */
	struct ts_round_field round_id;		/* string */
	struct ts_round_field round_index;	/* digits: number or string */
	struct ts_round_field multiplier;	/* decimal: string or number */
	struct ts_round_field state;		/* string; null means absent */
	struct ts_round_field finalized_at;	/* RFC 3339 string */
	/* finalized_at as ts_round_time() reads it */
	int64_t finalized_sec;
	uint32_t finalized_nsec;
};

/* Indices of the members the reader knows, private to round.c. */
#define TS_ROUND_NFIELDS 6

struct ts_round_reader {
	/*
	 * Limit, set by ts_round_init() to len - TS_ROUND_HEADROOM (0 if
	 * len is smaller): the largest round accepted, counted as its
	 * minified bytes before any game_id is inserted.  The caller may
	 * lower it before the first push.
	 */
	size_t max_round;
	/*
	 * The tokenizer.  The caller may set json.max_depth (default
	 * TS_JSON_DEPTH_DEFAULT, counting the body's own array and object)
	 * before the first push, and nothing else.
	 */
	struct ts_json json;

	/* After TS_ROUND_EV_ROUND, until the next push. */
	struct ts_round round;

	/*
	 * After TS_ROUND_EV_SKIPPED, until the next push: skip_err says
	 * why (TS_ERR_ROUND_TOO_BIG, _NOT_OBJECT, _MISSING, _FIELD,
	 * _DUPLICATE), skip_id holds the first skip_id_len bytes (at most
	 * TS_ROUND_ID_MAX) of the row's round_id as received (0 if none was
	 * seen or it was not a string).
	 */
	int skip_err;
	char skip_id[TS_ROUND_ID_MAX];
	size_t skip_id_len;

	/* The rest is private to round.c. */
	unsigned char *buf;
	size_t len;
	int mode;
	int err;
	int event;
	char slug[TS_ROUND_SLUG_MAX];
	size_t slug_len;	/* 0: no slug */
	int state;		/* see round.c */
	size_t w;		/* bytes of the current row in buf */
	size_t limit;		/* the most it may hold: max_round, len */
	/* during ts_round_push() only: the chunk and its stream offset */
	const unsigned char *in;
	uint64_t in_base;
	uint64_t copied;	/* the row is in buf up to this offset */
	int copy_str;		/* ts_json_in_string() there */
	/* a member name or round_id split across pushes, kept here */
	uint64_t cap_tok;	/* its offset (UINT64_MAX: none) */
	unsigned char cap[TS_ROUND_ID_MAX + 2];
	size_t cap_len;		/* its bytes kept in cap */
	int field;		/* the member whose value comes next, or -1 */
	unsigned seen;		/* bit set of members seen */
	/* the members as read, copied to round when the row ends */
	struct ts_round_field fld[TS_ROUND_NFIELDS];
	/* the decoded escaped members, dec_used bytes */
	char dec[TS_ROUND_DECODED_MAX];
	size_t dec_used;
};

/*
 * ts_round_init: make *r ready to read one input (a message or a body)
 * in mode TS_ROUND_MESSAGE or TS_ROUND_BODY, using the len bytes at buf
 * for the round being read.  buf is the caller's and must stay valid
 * and untouched while *r is used; len should be the largest accepted
 * round (for instance --max-message) plus TS_ROUND_HEADROOM.  Call it
 * again to read the next message or body.  Any other mode value acts as
 * TS_ROUND_MESSAGE.
 */
void
ts_round_init(struct ts_round_reader *r, unsigned char *buf, size_t len,
    int mode);

/*
 * ts_round_slug_ok: 1 if s (n bytes) is a game slug, else 0: 1 to
 * TS_ROUND_SLUG_MAX bytes of [A-Za-z0-9._-], not "." or "..".  One rule
 * for every game tsino tracks: a REST path, the state file and a log
 * line carry such a slug as it is.  A round whose game_id (decoded) is
 * not a slug is skipped (TS_ERR_ROUND_FIELD).
 */
int
ts_round_slug_ok(const char *s, size_t n);

/*
 * ts_round_set_game: the game slug (n bytes at slug, copied) to insert
 * as "game_id" into rounds that lack one, as REST rows do.  Without it,
 * a round lacking game_id is TS_ERR_ROUND_MISSING in either mode.  A
 * round that has its own game_id keeps it.  Returns 0, or
 * TS_ERR_ROUND_FIELD if it is not a slug (ts_round_slug_ok).
 */
int
ts_round_set_game(struct ts_round_reader *r, const char *slug, size_t n);

/*
 * ts_round_push: read up to len bytes at data (the caller keeps them).
 * Consumes input up to and including the byte that completes the next
 * event, then stops; returns the bytes consumed (0 while an event is
 * pending, after an error or after ts_round_finish()).  Any split of the
 * input gives the same events and the same bytes.
 *
 * In TS_ROUND_MESSAGE mode the input must be one object: its round is
 * reported after ts_round_finish() has seen the message end cleanly.
 * In TS_ROUND_BODY mode the input is "[row, ...]", or an object with a
 * member "rounds" or "data" whose value is that array (the first such
 * member holding an array is used; every other member is skipped token
 * by token, whatever its size); each row is reported as soon as its
 * closing brace arrives.  A row that is not a round (too big, not an
 * object, a member missing, malformed or repeated) is reported as
 * TS_ROUND_EV_SKIPPED and reading goes on: one bad row must not stop a
 * backfill.  Member names are matched on what they mean, escapes
 * decoded: "r\u006fund_id" is round_id.
 */
size_t
ts_round_push(struct ts_round_reader *r, const void *data, size_t len);

/*
 * ts_round_event: the pending event and clear it: 0 (need more input),
 * TS_ROUND_EV_ROUND (r->round is valid until the next push, pointing
 * into buf), TS_ROUND_EV_SKIPPED, or a negative error, sticky: a
 * TS_ERR_JSON_* code; in MESSAGE mode TS_ERR_ROUND_NOT_OBJECT,
 * _MISSING (round_id, round_index, multiplier, finalized_at, and
 * game_id unless a slug was set), _FIELD (game_id, round_id, state not a
 * string (state may be null); round_index not a number or string of
 * digits; multiplier not a decimal as ts_round_above() reads it;
 * finalized_at not an RFC 3339 string), _DUPLICATE (one of those six
 * members twice), _TOO_BIG; in BODY mode TS_ERR_ROUND_BODY (neither
 * body form).
 */
int
ts_round_event(struct ts_round_reader *r);

/*
 * ts_round_finish: the message or body has ended; call it once every
 * byte was pushed and every event drained.  Returns 0 if the input was
 * complete and well formed (in MESSAGE mode the round's
 * TS_ROUND_EV_ROUND is then pending), or a negative error as
 * ts_round_event() lists (TS_ERR_JSON_TRUNCATED if the input stopped
 * early, TS_ERR_ROUND_BODY if a body held no array of rows).
 */
int
ts_round_finish(struct ts_round_reader *r);

/*
 * ts_round_finalized: 1 if the round is final and may be printed: its
 * state is absent or exactly "finalized" (as received); else 0.
 */
int
ts_round_finalized(const struct ts_round *r);

/*
 * ts_round_above: 1 if the decimal m (mlen bytes) is greater than the
 * decimal x (xlen bytes), 0 if not, TS_ERR_ROUND_FIELD if either is
 * malformed.  Both are read exactly, with no rounding: "10.00" is not
 * above "10", "10.0000001" is.  The form is a JSON number with leading
 * zeros also allowed: an optional '-', one or more digits, optionally
 * '.' and one or more digits, optionally 'e' or 'E', an optional sign
 * and one or more digits (at most 9 once leading zeros are dropped).
 * "-0" equals "0".  No NUL is needed; none is allowed.
 */
int
ts_round_above(const char *m, size_t mlen, const char *x, size_t xlen);

/*
 * ts_round_index_cmp: compare two non-negative integers written as
 * decimal digit strings of any length (leading zeros ignored; an empty
 * string is 0).  Returns -1, 0 or 1 as a is less than, equal to or
 * greater than b.  Inputs that are not digits are compared as if they
 * were (a total order, no error): the reader only passes digits.
 */
int
ts_round_index_cmp(const char *a, size_t alen, const char *b, size_t blen);

/*
 * ts_round_time: parse an RFC 3339 §5.6 date-time (n bytes at s:
 * YYYY-MM-DD, 'T' or 't', hh:mm:ss, an optional '.' and any number of
 * fraction digits, then 'Z', 'z' or +hh:mm / -hh:mm) into seconds since
 * 1970-01-01T00:00:00Z (*sec) and nanoseconds (*nsec, the first nine
 * fraction digits; further digits are dropped).  Days are checked against their
 * month (leap years included); a leap second :60 is accepted and counts
 * as the next second.  Returns 0, or TS_ERR_ROUND_FIELD.
 */
int
ts_round_time(const char *s, size_t n, int64_t *sec, uint32_t *nsec);

/*
 * ts_round_time_write: the instant (sec, nsec as ts_round_time() gives
 * them) as RFC 3339 in UTC into out (len bytes, 31 are enough), with
 * nine fraction digits if frac, else none.  Outside the years 0..9999
 * it writes the earliest time RFC 3339 has, 0000-01-01T00:00:00Z (a
 * `since` then asks for more, never less).
 */
void
ts_round_time_write(char *out, size_t len, int64_t sec, uint32_t nsec,
    int frac);

#endif /* TS_ROUND_H */
