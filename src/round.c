/*
 * round: TrackerSino rounds out of JSON, one at a time, minified.
 *
 * The reader drives the json tokenizer and copies the bytes of the
 * current round into the caller's buffer without the whitespace between
 * tokens: that is exactly the minified text (RFC 8259 §2: whitespace is
 * "insignificant" around the six structural characters), and every
 * string, number and member stays byte for byte as received.  The copy
 * is made in runs, lazily (see flush()): input that is already minified,
 * as the feed's is, goes in one memcpy per run, and the tokenizer
 * reports only the row's members (max_level), which is all the reader
 * looks at.  A row split across pushes is copied piece by piece as it
 * arrives, so no input byte is kept twice and the buffer bounds one
 * round, whatever the body's size.  When the round lacks game_id and a
 * slug was set, the member is inserted first (SPEC §7.1) by one memmove
 * at the end.
 *
 * States: in a BODY, START (before the first token), OUTER (inside the
 * outer object, looking for "rounds" or "data"), ROWS (inside the array
 * of rows), AFTER (the array has ended); then in_row while a row is
 * open (skipping if it was given up: its tokens are read, not kept).
 * In a MESSAGE the whole input is one row.
 *
 * The helpers below the reader are pure functions on strings: exact
 * decimal comparison (no float ever sees a multiplier), integer
 * comparison of digit strings of any length (round_index exceeds 2^53),
 * RFC 3339 §5.6 date-times, and the text output line.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tsino.h"
#include "json.h"
#include "base.h"
#include "round.h"

enum {
	F_GAME_ID,
	F_ROUND_ID,
	F_ROUND_INDEX,
	F_MULTIPLIER,
	F_STATE,
	F_FINALIZED_AT
};

static const char *const field_names[TS_ROUND_NFIELDS] = {
	"game_id", "round_id", "round_index", "multiplier", "state",
	"finalized_at"
};
static const size_t field_len[TS_ROUND_NFIELDS] = {7, 8, 11, 10, 5, 12};

#define BIT(f) (1u << (f))
#define REQUIRED (BIT(F_ROUND_ID) | BIT(F_ROUND_INDEX) | \
	BIT(F_MULTIPLIER) | BIT(F_FINALIZED_AT))

/* Where a BODY reader is. */
enum {
	B_START,
	B_OUTER,
	B_ROWS,
	B_AFTER
};

/*
 * The row's last member-level token: after a name (L_KEY) a token is a
 * value, otherwise it is a name.  Decides what to keep of a token that a
 * push splits.
 */
enum {
	L_BEGIN,
	L_KEY,
	L_VALUE
};

/* An RFC 3339 date-time read by rtime_parse(), below. */
struct rtime {
	int64_t sec;
	const char *frac;
	size_t fn;
};

static int
rtime_parse(const char *s, size_t n, struct rtime *t);

/* "game_id":" is 11 bytes; the slug, '"' and ',' follow. */
static const char game_key[] = "\"game_id\":\"";
#define GAME_KEY_LEN 11

void
ts_round_init(struct ts_round_reader *r, unsigned char *buf, size_t len,
    int mode)
{
	/*
	 * Field by field, not one memset: the client starts a reader per
	 * message, and the arrays (slug, cap, skip_id, the json bit stack)
	 * are written before they are read.
	 */
	ts_json_init(&r->json);
	r->max_round = len > TS_ROUND_HEADROOM ? len - TS_ROUND_HEADROOM : 0;
	memset(&r->round, 0, sizeof(r->round));
	r->skip_err = 0;
	r->skip_id_len = 0;
	r->skip_id_truncated = 0;
	r->buf = buf;
	r->len = len;
	r->mode = mode == TS_ROUND_BODY ? TS_ROUND_BODY : TS_ROUND_MESSAGE;
	r->err = 0;
	r->event = 0;
	r->finished = 0;
	r->slug_len = 0;
	r->have_slug = 0;
	r->body = B_START;
	r->want_rows = 0;
	r->rows_depth = 0;
	r->in_row = 0;
	r->done = 0;
	r->row_depth = 0;
	r->skipping = 0;
	r->last = L_BEGIN;
	r->w = 0;
	r->limit = 0;
	r->in = NULL;
	r->in_base = 0;
	r->copied = 0;
	r->copy_str = 0;
	r->cap_tok = UINT64_MAX;
	r->cap_total = 0;
	r->field = -1;
	r->seen = 0;
	r->have = 0;
}

int
ts_round_set_game(struct ts_round_reader *r, const char *slug, size_t n)
{
	size_t i;

	if (n == 0 || n > TS_ROUND_SLUG_MAX)
		return TS_ERR_ROUND_FIELD;
	for (i = 0; i < n; i++) {
		char c = slug[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return TS_ERR_ROUND_FIELD;
	}
	memcpy(r->slug, slug, n);
	r->slug_len = n;
	r->have_slug = 1;
	return 0;
}

/*
 * Append to the row in buf, within r->limit (max_round and the buffer,
 * taken when the row starts).  Returns 0, or 1 if it does not fit.
 */
static int
put(struct ts_round_reader *r, const void *p, size_t n)
{
	if (n > r->limit - r->w)
		return 1;
	memcpy(r->buf + r->w, p, n);
	r->w += n;
	return 0;
}

/*
 * Append the n bytes at p without the whitespace between tokens: the
 * slow way, for input that was not minified.  The bytes were accepted
 * by the tokenizer, so telling strings apart needs only their quotes and
 * backslashes; r->copy_str says where p[0] is (ts_json_in_string()).
 * Returns 0, or 1 if the row does not fit.
 */
static int
put_minified(struct ts_round_reader *r, const unsigned char *p, size_t n)
{
	int st = r->copy_str;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (st == 0) {
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
				continue;
			if (c == '"')
				st = 1;
		} else if (st == 2) {
			st = 1;
		} else if (c == '\\') {
			st = 2;
		} else if (c == '"') {
			st = 0;
		}
		if (r->w >= r->limit)
			return 1;
		r->buf[r->w++] = c;
	}
	return 0;
}

/*
 * Bring the row in buf up to date with the input consumed so far.  The
 * row's bytes are copied lazily, in as few runs as possible: minified
 * input is copied as it is, one memcpy per run, whatever its tokens;
 * only a run that held whitespace between tokens is copied byte by
 * byte.  Called before anything reads buf or decides a row's fate, at
 * the end of every push (the chunk is the caller's), and before a JSON
 * error is passed on, so that the first reason a row fails is the same
 * whatever the chunking: an oversize row is found at the same byte as
 * if every byte were copied at once.
 */
static void
flush(struct ts_round_reader *r)
{
	uint64_t end = r->json.pos;
	const unsigned char *p;
	size_t n;
	int full;

	if (!r->in_row || r->skipping || r->err != 0 || end <= r->copied) {
		r->copied = end;
		return;
	}
	p = r->in + (size_t)(r->copied - r->in_base);
	n = (size_t)(end - r->copied);
	if (r->json.ws_end <= r->copied)
		full = put(r, p, n);
	else
		full = put_minified(r, p, n);
	r->copied = end;
	r->copy_str = ts_json_in_string(&r->json);
	if (full) {
		if (r->mode == TS_ROUND_MESSAGE) {
			r->err = TS_ERR_ROUND_TOO_BIG;
		} else {
			r->skipping = 1;
			r->skip_err = TS_ERR_ROUND_TOO_BIG;
		}
	}
}

/*
 * This row is not a round.  A message fails; a body row is read on to its
 * end without keeping anything and then reported as skipped.  The first
 * reason wins, in input order: the row is brought up to date first, in
 * case it had already grown too big.
 */
static void
row_fail(struct ts_round_reader *r, int err)
{
	flush(r);
	if (r->mode == TS_ROUND_MESSAGE) {
		if (r->err == 0)
			r->err = err;
		return;
	}
	if (!r->skipping) {
		r->skipping = 1;
		r->skip_err = err;
	}
}

/*
 * Does the partial token at depth d need its bytes kept in cap for when
 * it completes?  A member name at a row's top level, the value of
 * round_id (it names a skipped row), a token of the outer body object.
 */
static int
wants_capture(const struct ts_round_reader *r, unsigned d)
{
	if (r->in_row)
		return d == r->row_depth &&
		    (r->last != L_KEY || r->field == F_ROUND_ID);
	return r->mode == TS_ROUND_BODY && r->body == B_OUTER && d == 1;
}

/*
 * Keep the bytes of the current token up to offset to (from this chunk)
 * in cap, bounded: cap_total says how many it had, so nothing is kept
 * twice.
 */
static void
capture(struct ts_round_reader *r, uint64_t to)
{
	uint64_t from = r->cap_tok + r->cap_total;
	const unsigned char *p;
	size_t n, have, k;

	if (from < r->in_base)
		from = r->in_base;	/* cannot happen: kept at every chunk */
	if (to <= from)
		return;
	p = r->in + (size_t)(from - r->in_base);
	n = (size_t)(to - from);
	have = r->cap_total < sizeof(r->cap) ? r->cap_total : sizeof(r->cap);
	k = n < sizeof(r->cap) - have ? n : sizeof(r->cap) - have;
	memcpy(r->cap + have, p, k);
	r->cap_total += n;
}

/*
 * The text of the token just completed, quotes included: in the chunk
 * if it began there, else in cap, where its earlier part was kept.
 * *n is its full length; only the first sizeof(r->cap) bytes of a
 * captured token are there, enough for every use below.
 */
static const unsigned char *
token_text(struct ts_round_reader *r, size_t *n)
{
	uint64_t s = r->json.tok_start, e = r->json.tok_end;

	if (s >= r->in_base) {
		*n = (size_t)(e - s);
		return r->in + (size_t)(s - r->in_base);
	}
	if (r->cap_tok != s) {
		/* not captured (cannot happen): compare as an empty name */
		*n = 0;
		return r->cap;
	}
	capture(r, e);
	*n = r->cap_total;
	return r->cap;
}

/*
 * The name just completed, without its quotes and with its escapes
 * resolved (into nm, cap bytes, if it has any), and its length in *len;
 * NULL if it is longer than cap once decoded.  A name is matched on what
 * it means: "g\u0061me_id" is game_id.  Every decoded byte comes from at
 * most 6 received ones, so a name that may fit is whole in cap.
 */
static const char *
name_text(struct ts_round_reader *r, char *nm, size_t cap, size_t *len)
{
	size_t n;
	const unsigned char *t = token_text(r, &n);
	long k;

	if (n < 2)
		return NULL;
	if (!r->json.tok_escaped) {
		*len = n - 2;
		return (const char *)t + 1;
	}
	if (n - 2 > 6 * cap ||
	    (k = ts_json_unescape((const char *)t + 1, n - 2, nm, cap)) < 0)
		return NULL;
	*len = (size_t)k;
	return nm;
}

/* Is the name just completed the string name (len bytes)? */
static int
token_is(struct ts_round_reader *r, const char *name, size_t len)
{
	char nm[16];
	size_t n;
	const char *t = name_text(r, nm, sizeof(nm), &n);

	return t != NULL && n == len && memcmp(t, name, len) == 0;
}

static void
start_row(struct ts_round_reader *r, int object)
{
	r->in_row = 1;
	r->row_depth = ts_json_depth(&r->json);
	r->limit = r->max_round < r->len ? r->max_round : r->len;
	r->skipping = 0;
	r->skip_err = 0;
	r->skip_id_len = 0;
	r->skip_id_truncated = 0;
	r->w = 0;
	r->copied = r->json.tok_start;
	r->copy_str = 0;
	r->seen = 0;
	r->have = 0;
	r->dec_used = 0;
	r->field = -1;
	r->last = L_BEGIN;
	/* the members are all the row needs to see; the rest is copied */
	r->json.max_level = r->row_depth;
	if (!object)
		row_fail(r, TS_ERR_ROUND_NOT_OBJECT);
}

/*
 * The known member the name just read is, or -1.  The six names differ
 * in length, so the length picks the one candidate to compare.
 */
static int
field_of(struct ts_round_reader *r)
{
	char nm[16];
	size_t n;
	const char *t = name_text(r, nm, sizeof(nm), &n);
	int f;

	if (t == NULL)
		return -1;
	switch (n) {
	case 7:
		f = F_GAME_ID;
		break;
	case 8:
		f = F_ROUND_ID;
		break;
	case 11:
		f = F_ROUND_INDEX;
		break;
	case 10:
		f = F_MULTIPLIER;
		break;
	case 5:
		f = F_STATE;
		break;
	case 12:
		f = F_FINALIZED_AT;
		break;
	default:
		return -1;
	}
	return memcmp(t, field_names[f], field_len[f]) == 0 ? f : -1;
}

/* A member name at the row's top level. */
static void
key_event(struct ts_round_reader *r)
{
	int f = field_of(r);

	r->field = -1;
	if (f < 0)
		return;
	if (r->seen & BIT(f)) {
		row_fail(r, TS_ERR_ROUND_DUPLICATE);
		return;
	}
	r->seen |= BIT(f);
	r->field = f;
}

/*
 * A decoded game_id or round_id: no control byte, which only an escape
 * can put there and which would break a log or text line.
 */
static int
no_control(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 0x20)
			return 0;
	return 1;
}

static int
all_digits(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* The first bytes of round_id's value, to name the row if it is skipped. */
static void
keep_skip_id(struct ts_round_reader *r)
{
	size_t n;
	const unsigned char *t = token_text(r, &n);
	size_t total = n - 2;
	size_t k = total < TS_ROUND_ID_MAX ? total : TS_ROUND_ID_MAX;

	memcpy(r->skip_id, t + 1, k);
	r->skip_id_len = k;
	r->skip_id_truncated = total > TS_ROUND_ID_MAX;
}

/*
 * finalized_at: check it and keep the instant, so that nobody reads the
 * text twice.
 */
static int
time_value(struct ts_round_reader *r, const unsigned char *v, size_t n)
{
	struct rtime t;
	uint32_t ns = 0;
	size_t k;

	if (rtime_parse((const char *)v, n, &t) != 0)
		return 0;
	for (k = 0; k < 9; k++)
		ns = ns * 10 + (uint32_t)(k < t.fn ? t.frac[k] - '0' : 0);
	/* finalized_at is required: a reported round always sets these */
	r->round.finalized_sec = t.sec;
	r->round.finalized_nsec = ns;
	return 1;
}

/* The value of a known member: check its type and form, record it. */
static void
value_event(struct ts_round_reader *r, int ev)
{
	int f = r->field;
	int quoted = ev == TS_JSON_STRING;
	int esc = r->json.tok_escaped;
	const unsigned char *v;
	size_t vn;
	int ok = 0;

	if (f == F_ROUND_ID && quoted)
		keep_skip_id(r);
	flush(r);
	if (r->skipping || r->err != 0)
		return;
	/* the token is the last thing copied: it holds no whitespace */
	vn = (size_t)(r->json.tok_end - r->json.tok_start);
	v = r->buf + r->w - vn;
	if (quoted) {
		v++;
		vn -= 2;
	}
	if (quoted && esc) {
		long k = ts_json_unescape((const char *)v, vn,
		    r->dec + r->dec_used, sizeof(r->dec) - r->dec_used);

		if (k < 0) {
			row_fail(r, TS_ERR_ROUND_TOO_BIG);
			return;
		}
		r->doff[f] = r->dec_used;
		v = (const unsigned char *)r->dec + r->dec_used;
		vn = (size_t)k;
		r->dec_used += vn;
	}
	switch (f) {
	case F_STATE:
		if (ev == TS_JSON_NULL)
			return;	/* an optional member: null is absent */
		ok = quoted;
		break;
	case F_GAME_ID:
	case F_ROUND_ID:
		ok = quoted && no_control(v, vn);
		break;
	case F_ROUND_INDEX:
		ok = (quoted || ev == TS_JSON_NUMBER) && all_digits(v, vn);
		break;
	case F_MULTIPLIER:
		ok = (quoted || ev == TS_JSON_NUMBER) &&
		    ts_round_decimal_check((const char *)v, vn) == 0;
		break;
	case F_FINALIZED_AT:
		ok = quoted && time_value(r, v, vn);
		break;
	}
	if (!ok) {
		row_fail(r, TS_ERR_ROUND_FIELD);
		return;
	}
	r->have |= BIT(f);
	if (!(quoted && esc))
		r->foff[f] = (size_t)(v - r->buf);
	r->flen[f] = vn;
	r->fquoted[f] = (unsigned char)quoted;
	r->fesc[f] = (unsigned char)(quoted && esc);
}

/* SPEC §7.1: "game_id, where tsino adds it to a REST row, becomes the
 * first member." */
static void
insert_game(struct ts_round_reader *r)
{
	size_t ins = GAME_KEY_LEN + r->slug_len + 1 + (r->w > 2 ? 1 : 0);
	int f;

	if (ins > r->len - r->w) {
		row_fail(r, TS_ERR_ROUND_TOO_BIG);
		return;
	}
	memmove(r->buf + 1 + ins, r->buf + 1, r->w - 1);
	memcpy(r->buf + 1, game_key, GAME_KEY_LEN);
	memcpy(r->buf + 1 + GAME_KEY_LEN, r->slug, r->slug_len);
	r->buf[1 + GAME_KEY_LEN + r->slug_len] = '"';
	if (r->w > 2)
		r->buf[ins] = ',';
	for (f = 0; f < TS_ROUND_NFIELDS; f++)
		r->foff[f] += ins;
	r->w += ins;
	r->have |= BIT(F_GAME_ID);
	r->foff[F_GAME_ID] = 1 + GAME_KEY_LEN;
	r->flen[F_GAME_ID] = r->slug_len;
	r->fquoted[F_GAME_ID] = 1;
	r->fesc[F_GAME_ID] = 0;
	r->round.game_inserted = 1;
}

static void
fill_field(const struct ts_round_reader *r, int f, struct ts_round_field *o)
{
	if (!(r->have & BIT(f))) {
		o->ptr = NULL;
		o->len = 0;
		o->quoted = 0;
		o->escaped = 0;
		return;
	}
	o->ptr = (const char *)r->buf +
	    (r->fesc[f] ? r->w + r->doff[f] : r->foff[f]);
	o->len = r->flen[f];
	o->quoted = r->fquoted[f];
	o->escaped = r->fesc[f];
}

static void
end_row(struct ts_round_reader *r)
{
	unsigned need = REQUIRED | (r->have_slug ? 0 : BIT(F_GAME_ID));
	struct ts_round *rd = &r->round;

	flush(r);
	r->in_row = 0;
	r->done = 1;
	r->json.max_level = TS_JSON_LEVEL_ALL;
	rd->game_inserted = 0;
	if (!r->skipping && (r->have & need) != need)
		row_fail(r, TS_ERR_ROUND_MISSING);
	if (!r->skipping && r->err == 0 && !(r->have & BIT(F_GAME_ID)))
		insert_game(r);
	/* the decoded members go after the object */
	if (!r->skipping && r->err == 0 && r->dec_used > r->len - r->w)
		row_fail(r, TS_ERR_ROUND_TOO_BIG);
	if (r->err != 0)
		return;
	if (r->skipping) {
		r->event = TS_ROUND_EV_SKIPPED;
		return;
	}
	memcpy(r->buf + r->w, r->dec, r->dec_used);
	rd->obj = (const char *)r->buf;
	rd->obj_len = r->w;
	rd->aux_len = r->dec_used;
	fill_field(r, F_GAME_ID, &rd->game_id);
	fill_field(r, F_ROUND_ID, &rd->round_id);
	fill_field(r, F_ROUND_INDEX, &rd->round_index);
	fill_field(r, F_MULTIPLIER, &rd->multiplier);
	fill_field(r, F_STATE, &rd->state);
	fill_field(r, F_FINALIZED_AT, &rd->finalized_at);
	/* a message's round waits for ts_round_finish(): trailing bytes
	 * could still make the message invalid */
	if (r->mode == TS_ROUND_BODY)
		r->event = TS_ROUND_EV_ROUND;
}

/*
 * A token of the current row at its top level (the tokenizer reports
 * nothing deeper, see start_row); d is the depth after it.
 */
static void
row_event(struct ts_round_reader *r, int ev, unsigned d)
{
	switch (ev) {
	case TS_JSON_OBJECT_BEGIN:
	case TS_JSON_ARRAY_BEGIN:
		/* a member's value is a container */
		if (r->field >= 0) {
			row_fail(r, TS_ERR_ROUND_FIELD);
			r->field = -1;
		}
		r->last = L_VALUE;
		return;
	case TS_JSON_OBJECT_END:
	case TS_JSON_ARRAY_END:
		if (d + 1 == r->row_depth)
			end_row(r);
		return;
	case TS_JSON_KEY:
		r->last = L_KEY;
		key_event(r);
		return;
	default:
		r->last = L_VALUE;
		if (r->field >= 0) {
			value_event(r, ev);
			r->field = -1;
		}
		return;
	}
}

/* A token of a BODY outside any row; d is the depth after it. */
static void
body_event(struct ts_round_reader *r, int ev, unsigned d)
{
	switch (r->body) {
	case B_START:
		if (ev == TS_JSON_ARRAY_BEGIN) {
			r->body = B_ROWS;
			r->rows_depth = 1;
		} else if (ev == TS_JSON_OBJECT_BEGIN) {
			r->body = B_OUTER;
		} else {
			r->err = TS_ERR_ROUND_BODY;
		}
		return;
	case B_OUTER:
		if (ev == TS_JSON_OBJECT_END && d == 0) {
			r->err = TS_ERR_ROUND_BODY;	/* no array of rows */
		} else if (ev == TS_JSON_KEY && d == 1) {
			r->want_rows = token_is(r, "rounds", 6) ||
			    token_is(r, "data", 4);
		} else if (r->want_rows) {
			/* the first event after a name starts its value */
			r->want_rows = 0;
			if (ev == TS_JSON_ARRAY_BEGIN) {
				r->body = B_ROWS;
				r->rows_depth = 2;
			}
		}
		return;
	case B_ROWS:
		if (ev == TS_JSON_ARRAY_END) {
			r->body = B_AFTER;
		} else if (ev == TS_JSON_OBJECT_BEGIN ||
		    ev == TS_JSON_ARRAY_BEGIN) {
			start_row(r, ev == TS_JSON_OBJECT_BEGIN);
		} else {
			/* a string, number or literal row */
			r->skip_err = TS_ERR_ROUND_NOT_OBJECT;
			r->skip_id_len = 0;
			r->skip_id_truncated = 0;
			r->event = TS_ROUND_EV_SKIPPED;
		}
		return;
	default:
		return;
	}
}

static void
handle_event(struct ts_round_reader *r, int ev, unsigned d)
{
	if (r->in_row)
		row_event(r, ev, d);
	else if (r->mode == TS_ROUND_BODY)
		body_event(r, ev, d);
	else if (ev == TS_JSON_OBJECT_BEGIN)
		start_row(r, 1);
	else
		r->err = TS_ERR_ROUND_NOT_OBJECT;
}

/*
 * The chunk is about to go back to the caller: copy the row so far, and
 * keep what is needed of a name or round_id that is not complete yet.
 */
static void
end_chunk(struct ts_round_reader *r)
{
	uint64_t s = r->json.tok_start;

	flush(r);
	if (ts_json_partial(&r->json) &&
	    wants_capture(r, ts_json_depth(&r->json))) {
		if (r->cap_tok != s) {
			r->cap_tok = s;
			r->cap_total = 0;
		}
		capture(r, r->json.pos);
	}
	r->in = NULL;
}

size_t
ts_round_push(struct ts_round_reader *r, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t off = 0;

	if (r->err != 0 || r->event != 0 || r->finished)
		return 0;
	r->in = p;
	r->in_base = r->json.pos;
	while (off < len) {
		size_t n = ts_json_push(&r->json, p + off, len - off);
		int ev = ts_json_event(&r->json);

		off += n;
		if (ev < 0) {
			/* the row's bytes first: it may already be too big */
			flush(r);
			if (r->err == 0)
				r->err = ev;
			break;
		}
		if (ev > 0)
			handle_event(r, ev, ts_json_depth(&r->json));
		if (r->err != 0 || r->event != 0 || (n == 0 && ev == 0))
			break;
	}
	end_chunk(r);
	return off;
}

int
ts_round_event(struct ts_round_reader *r)
{
	int ev;

	if (r->err != 0)
		return r->err;
	ev = r->event;
	r->event = 0;
	return ev;
}

int
ts_round_finish(struct ts_round_reader *r)
{
	int rc;

	if (r->err != 0)
		return r->err;
	if (r->finished)
		return 0;
	r->finished = 1;
	rc = ts_json_finish(&r->json);
	if (rc < 0) {
		r->err = rc;
		return rc;
	}
	if (ts_json_event(&r->json) > 0) {
		/* a top-level number: neither a round nor a body */
		r->err = r->mode == TS_ROUND_MESSAGE ?
		    TS_ERR_ROUND_NOT_OBJECT : TS_ERR_ROUND_BODY;
		return r->err;
	}
	if (r->mode == TS_ROUND_MESSAGE) {
		if (!r->done) {
			r->err = TS_ERR_ROUND_NOT_OBJECT;
			return r->err;
		}
		r->event = TS_ROUND_EV_ROUND;
		return 0;
	}
	if (r->body != B_AFTER) {
		r->err = TS_ERR_ROUND_BODY;
		return r->err;
	}
	return 0;
}

/*
 * Decimals.  A decimal is read as sign, integer digits, fraction digits
 * and an exponent; its value is 0.D x 10^E where D is the integer and
 * fraction digits run together without leading and trailing zeros.  Two
 * decimals compare by sign, then E, then D digit by digit: exact for any
 * number of digits, and nothing is copied.
 */
struct dec {
	int neg;
	const char *ip;		/* integer digits */
	size_t in;
	const char *fp;		/* fraction digits */
	size_t fn;
	size_t lz;		/* leading zeros of ip fp */
	size_t nd;		/* significant digits; 0 for zero */
	int64_t e;		/* E */
};

static int
dec_digit(const struct dec *d, size_t k)
{
	size_t i = d->lz + k;

	if (k >= d->nd)
		return '0';
	return i < d->in ? d->ip[i] : d->fp[i - d->in];
}

static int
dec_parse(const char *s, size_t n, struct dec *d)
{
	size_t i = 0, k, tz, total;
	int64_t x = 0;
	int xneg = 0, xdigits = 0;

	memset(d, 0, sizeof(*d));
	if (i < n && s[i] == '-') {
		d->neg = 1;
		i++;
	}
	d->ip = s + i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	d->in = (size_t)(s + i - d->ip);
	if (d->in == 0)
		return TS_ERR_ROUND_FIELD;
	d->fp = s + i;
	if (i < n && s[i] == '.') {
		d->fp = s + ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		d->fn = (size_t)(s + i - d->fp);
		if (d->fn == 0)
			return TS_ERR_ROUND_FIELD;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			xneg = s[i++] == '-';
		if (i == n || s[i] < '0' || s[i] > '9')
			return TS_ERR_ROUND_FIELD;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (xdigits == 0 && s[i] == '0')
				continue;
			/* nine digits keep every sum below in int64 exact */
			if (++xdigits > 9)
				return TS_ERR_ROUND_FIELD;
			x = x * 10 + (s[i] - '0');
		}
	}
	if (i != n)
		return TS_ERR_ROUND_FIELD;
	total = d->in + d->fn;
	for (k = 0; k < total; k++)
		if ((k < d->in ? d->ip[k] : d->fp[k - d->in]) != '0')
			break;
	d->lz = k;
	for (tz = 0; tz < total - d->lz; tz++) {
		k = total - 1 - tz;
		if ((k < d->in ? d->ip[k] : d->fp[k - d->in]) != '0')
			break;
	}
	d->nd = total - d->lz - tz;
	d->e = (int64_t)d->in - (int64_t)d->lz + (xneg ? -x : x);
	if (d->nd == 0)
		d->neg = 0;	/* -0 is 0 */
	return 0;
}

/* -1, 0, 1 as a <, =, > b. */
static int
dec_cmp(const struct dec *a, const struct dec *b)
{
	int sa = a->nd == 0 ? 0 : a->neg ? -1 : 1;
	int sb = b->nd == 0 ? 0 : b->neg ? -1 : 1;
	int c = 0;
	size_t k, n;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (sa == 0)
		return 0;
	if (a->e != b->e) {
		c = a->e < b->e ? -1 : 1;
	} else {
		n = a->nd > b->nd ? a->nd : b->nd;
		for (k = 0; k < n && c == 0; k++) {
			int da = dec_digit(a, k), db = dec_digit(b, k);

			if (da != db)
				c = da < db ? -1 : 1;
		}
	}
	return sa > 0 ? c : -c;
}

int
ts_round_decimal_check(const char *s, size_t n)
{
	struct dec d;

	return dec_parse(s, n, &d);
}

int
ts_round_finalized(const struct ts_round *r)
{
	return r->state.ptr == NULL ||
	    (r->state.len == 9 && memcmp(r->state.ptr, "finalized", 9) == 0);
}

int
ts_round_above(const char *m, size_t mlen, const char *x, size_t xlen)
{
	struct dec a, b;

	if (dec_parse(m, mlen, &a) != 0 || dec_parse(x, xlen, &b) != 0)
		return TS_ERR_ROUND_FIELD;
	return dec_cmp(&a, &b) > 0;
}

int
ts_round_index_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	while (alen > 0 && *a == '0') {
		a++;
		alen--;
	}
	while (blen > 0 && *b == '0') {
		b++;
		blen--;
	}
	if (alen != blen)
		return alen < blen ? -1 : 1;
	c = memcmp(a, b, alen);
	return c < 0 ? -1 : c > 0;
}

/*
 * RFC 3339 §5.6:
 *	date-time = full-date "T" full-time
 *	full-date = date-fullyear "-" date-month "-" date-mday
 *	full-time = partial-time time-offset
 *	partial-time = time-hour ":" time-minute ":" time-second
 *	    [time-secfrac]
 *	time-offset = "Z" / time-numoffset
 * §5.6 NOTE: "T" and "Z" may alternatively be lower case.
 */
static int
num2(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return 0;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 1;
}

static int
rtime_parse(const char *s, size_t n, struct rtime *t)
{
	int yh, yl, mo, d, h, mi, sec, oh = 0, om = 0;
	size_t i;
	int64_t off = 0;

	if (n < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return TS_ERR_ROUND_FIELD;
	if (!num2(s, &yh) || !num2(s + 2, &yl) || !num2(s + 5, &mo) ||
	    !num2(s + 8, &d) || !num2(s + 11, &h) || !num2(s + 14, &mi) ||
	    !num2(s + 17, &sec))
		return TS_ERR_ROUND_FIELD;
	yl += yh * 100;
	if (mo < 1 || mo > 12 || d < 1 ||
	    (unsigned)d > ts_month_days(yl, (unsigned)mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return TS_ERR_ROUND_FIELD;
	i = 19;
	t->frac = s + i;
	t->fn = 0;
	if (s[i] == '.') {
		t->frac = s + ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		t->fn = (size_t)(s + i - t->frac);
		if (t->fn == 0)
			return TS_ERR_ROUND_FIELD;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		if (n - i < 6 || s[i + 3] != ':' || !num2(s + i + 1, &oh) ||
		    !num2(s + i + 4, &om) || oh > 23 || om > 59)
			return TS_ERR_ROUND_FIELD;
		off = (int64_t)oh * 3600 + om * 60;
		if (s[i] == '-')
			off = -off;
		i += 6;
	} else {
		return TS_ERR_ROUND_FIELD;
	}
	if (i != n)
		return TS_ERR_ROUND_FIELD;
	/* local time minus its offset is UTC (§4.2) */
	t->sec = ts_days_from_civil(yl, (unsigned)mo, (unsigned)d) * 86400 + (int64_t)h * 3600 +
	    mi * 60 + sec - off;
	return 0;
}

int
ts_round_time(const char *s, size_t n, int64_t *sec, uint32_t *nsec)
{
	struct rtime t;
	uint32_t ns = 0;
	size_t k;

	if (rtime_parse(s, n, &t) != 0)
		return TS_ERR_ROUND_FIELD;
	for (k = 0; k < 9; k++)
		ns = ns * 10 + (uint32_t)(k < t.fn ? t.frac[k] - '0' : 0);
	*sec = t.sec;
	*nsec = ns;
	return 0;
}

/* v as n digits, zero-padded, at p; returns the end. */
static char *
put_digits(char *p, unsigned long v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

void
ts_round_time_write(char *out, size_t len, int64_t sec, uint32_t nsec,
    int frac)
{
	int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	int64_t rem = sec - days * 86400, y;
	unsigned m, d;
	char t[32], *p = t;
	size_t n;

	ts_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		y = rem = 0;
		m = d = 1;
		frac = 0;
	}
	p = put_digits(p, (unsigned long)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned long)(rem / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned long)(rem / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned long)(rem % 60), 2);
	if (frac) {
		*p++ = '.';
		p = put_digits(p, nsec, 9);
	}
	*p++ = 'Z';
	n = (size_t)(p - t);
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(out, t, n);
	out[n] = '\0';
}

int
ts_round_time_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct rtime x, y;
	size_t k, n;

	if (rtime_parse(a, alen, &x) != 0 || rtime_parse(b, blen, &y) != 0)
		return TS_ERR_ROUND_FIELD;
	if (x.sec != y.sec)
		return x.sec < y.sec ? -1 : 1;
	n = x.fn > y.fn ? x.fn : y.fn;
	for (k = 0; k < n; k++) {
		char cx = k < x.fn ? x.frac[k] : '0';
		char cy = k < y.fn ? y.frac[k] : '0';

		if (cx != cy)
			return cx < cy ? -1 : 1;
	}
	return 0;
}

static void
append(char *out, size_t *at, const char *p, size_t n)
{
	memcpy(out + *at, p, n);
	*at += n;
}

int
ts_round_text(char *out, size_t outlen, const struct ts_round *rd)
{
	static const char none[] = "-";
	const char *g = rd->game_id.ptr ? rd->game_id.ptr : none;
	size_t gn = rd->game_id.ptr ? rd->game_id.len : 1;
	const char *m = rd->multiplier.ptr ? rd->multiplier.ptr : none;
	size_t mn = rd->multiplier.ptr ? rd->multiplier.len : 1;
	const char *t = rd->finalized_at.ptr ? rd->finalized_at.ptr : none;
	size_t tn = rd->finalized_at.ptr ? rd->finalized_at.len : 1;
	size_t need, at = 0;

	/* "<game> <multiplier>x at <time>\n" and the NUL */
	need = gn + 1 + mn + 5 + tn + 1 + 1;
	if (need > outlen || need - 1 > 0x7fffffff)
		return TS_ERR_ROUND_SPACE;
	append(out, &at, g, gn);
	append(out, &at, " ", 1);
	append(out, &at, m, mn);
	append(out, &at, "x at ", 5);
	append(out, &at, t, tn);
	append(out, &at, "\n", 2);
	return (int)(need - 1);
}
