/*
 * round: TrackerSino rounds out of JSON, one at a time, minified.
 *
 * The reader drives the json tokenizer and copies only the bytes of
 * tokens (strings, numbers, literals, brackets) of the current round
 * into the caller's buffer, writing ',' and ':' itself between them:
 * that is exactly the minified text (RFC 8259 §2: whitespace is
 * "insignificant" around the six structural characters), and every
 * string, number and member stays byte for byte as received.  A token
 * split across pushes is copied piece by piece as it arrives, so no
 * input byte is kept twice and the buffer bounds one round, whatever
 * the body's size.  When the round lacks game_id and a slug was set,
 * the member is inserted first (SPEC §7.1) by one memmove at the end.
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

/* What the previous token in the row was, to know the separator. */
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
	memset(r, 0, sizeof(*r));
	ts_json_init(&r->json);
	r->buf = buf;
	r->len = len;
	r->mode = mode == TS_ROUND_BODY ? TS_ROUND_BODY : TS_ROUND_MESSAGE;
	r->max_round = len > TS_ROUND_HEADROOM ? len - TS_ROUND_HEADROOM : 0;
	r->field = -1;
	r->body = B_START;
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
 * This row is not a round.  A message fails; a body row is read on to its
 * end without keeping anything and then reported as skipped (the first
 * reason wins).
 */
static void
row_fail(struct ts_round_reader *r, int err)
{
	if (r->mode == TS_ROUND_MESSAGE) {
		if (r->err == 0)
			r->err = err;
		return;
	}
	if (!r->skipping) {
		r->skipping = 1;
		r->skip_err = err;
	}
	r->tok_copy = 0;
}

/*
 * Append to the row in buf, within r->limit (max_round and the buffer,
 * taken when the row starts).  Called for every token and separator:
 * kept small enough to inline.
 */
static inline void
put(struct ts_round_reader *r, const void *p, size_t n)
{
	if (r->skipping || r->err != 0)
		return;
	if (n > r->limit - r->w) {
		row_fail(r, TS_ERR_ROUND_TOO_BIG);
		return;
	}
	memcpy(r->buf + r->w, p, n);
	r->w += n;
}

/* put() of one byte, without a call to memcpy. */
static inline void
put1(struct ts_round_reader *r, unsigned char c)
{
	if (r->skipping || r->err != 0)
		return;
	if (r->w >= r->limit) {
		row_fail(r, TS_ERR_ROUND_TOO_BIG);
		return;
	}
	r->buf[r->w++] = c;
}

/* The separator the minified text needs before the next token. */
static inline void
put_sep(struct ts_round_reader *r)
{
	if (r->last == L_KEY)
		put1(r, ':');
	else if (r->last == L_VALUE)
		put1(r, ',');
}

/* Is the captured token the string name (n bytes), unescaped? */
static int
cap_is(const struct ts_round_reader *r, const char *name, size_t n)
{
	return r->cap_total == n + 2 && memcmp(r->cap + 1, name, n) == 0;
}

/*
 * n more bytes of the current string, number or literal, at depth d.
 * Its first bytes decide where it goes: into buf if it is inside a row
 * being kept, into cap (bounded) if its text matters (a member name at
 * a row's top level or of the outer body object, or round_id's value,
 * which names a skipped row).  At a row's top level a token after a
 * name (last == L_KEY) is a value; any other is a name.
 */
static inline void
token_bytes(struct ts_round_reader *r, const unsigned char *p, size_t n,
    unsigned d)
{
	if (!r->tok_open) {
		r->tok_open = 1;
		r->cap_total = 0;
		if (r->in_row)
			r->tok_cap = d == r->row_depth &&
			    (r->last != L_KEY || r->field == F_ROUND_ID);
		else
			r->tok_cap = r->mode == TS_ROUND_BODY &&
			    r->body == B_OUTER && d == 1;
		r->tok_copy = r->in_row && !r->skipping;
		if (r->tok_copy) {
			put_sep(r);
			r->tok_pos = r->w;
		}
	}
	if (r->tok_copy) {
		put(r, p, n);
		if (r->skipping)
			r->tok_copy = 0;
	}
	if (r->tok_cap) {
		size_t room = sizeof(r->cap) - (r->cap_total < sizeof(r->cap) ?
		    r->cap_total : sizeof(r->cap));
		size_t k = n < room ? n : room;

		memcpy(r->cap + (sizeof(r->cap) - room), p, k);
		r->cap_total += n;
	}
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
	r->seen = 0;
	r->have = 0;
	r->field = -1;
	r->last = L_BEGIN;
	memset(&r->round, 0, sizeof(r->round));
	put1(r, object ? '{' : '[');
	if (!object)
		row_fail(r, TS_ERR_ROUND_NOT_OBJECT);
}

/*
 * The known member a captured name is, or -1.  The six names differ in
 * length, so the length picks the one candidate to compare.
 */
static int
field_of(const struct ts_round_reader *r)
{
	int f;

	if (r->cap_total < 2)
		return -1;
	switch (r->cap_total - 2) {
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
	return cap_is(r, field_names[f], field_len[f]) ? f : -1;
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
	struct rtime t;

	if (f == F_ROUND_ID && quoted) {
		/* kept apart from buf, to name the row if it is skipped */
		size_t total = r->cap_total - 2;
		size_t k = total < TS_ROUND_ID_MAX ? total : TS_ROUND_ID_MAX;

		memcpy(r->skip_id, r->cap + 1, k);
		r->skip_id_len = k;
		r->skip_id_truncated = total > TS_ROUND_ID_MAX;
	}
	if (r->skipping || r->err != 0)
		return;
	v = r->buf + r->tok_pos;
	vn = r->w - r->tok_pos;
	if (quoted) {
		v++;
		vn -= 2;
	}
	switch (f) {
	case F_STATE:
		if (ev == TS_JSON_NULL)
			return;	/* an optional member: null is absent */
		/* FALLTHROUGH */
	case F_GAME_ID:
	case F_ROUND_ID:
		ok = quoted;
		break;
	case F_ROUND_INDEX:
		ok = (quoted ? !esc : ev == TS_JSON_NUMBER) &&
		    all_digits(v, vn);
		break;
	case F_MULTIPLIER:
		ok = (quoted ? !esc : ev == TS_JSON_NUMBER) &&
		    ts_round_decimal_check((const char *)v, vn) == 0;
		break;
	case F_FINALIZED_AT:
		ok = quoted && !esc &&
		    rtime_parse((const char *)v, vn, &t) == 0;
		break;
	}
	if (!ok) {
		row_fail(r, TS_ERR_ROUND_FIELD);
		return;
	}
	r->have |= BIT(f);
	r->foff[f] = (size_t)(v - r->buf);
	r->flen[f] = vn;
	r->fquoted[f] = (unsigned char)quoted;
	r->fesc[f] = (unsigned char)esc;
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
	if (!(r->have & BIT(f)))
		return;
	o->ptr = (const char *)r->buf + r->foff[f];
	o->len = r->flen[f];
	o->quoted = r->fquoted[f];
	o->escaped = r->fesc[f];
}

static void
end_row(struct ts_round_reader *r)
{
	unsigned need = REQUIRED | (r->have_slug ? 0 : BIT(F_GAME_ID));
	struct ts_round *rd = &r->round;

	r->in_row = 0;
	r->done = 1;
	if (!r->skipping && (r->have & need) != need)
		row_fail(r, TS_ERR_ROUND_MISSING);
	if (!r->skipping && r->err == 0 && !(r->have & BIT(F_GAME_ID)))
		insert_game(r);
	if (r->err != 0)
		return;
	if (r->skipping) {
		r->event = TS_ROUND_EV_SKIPPED;
		return;
	}
	rd->obj = (const char *)r->buf;
	rd->obj_len = r->w;
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

/* A token inside the current row; d is the depth after it. */
static void
row_event(struct ts_round_reader *r, int ev, unsigned d)
{
	switch (ev) {
	case TS_JSON_OBJECT_BEGIN:
	case TS_JSON_ARRAY_BEGIN:
		if (d - 1 == r->row_depth && r->field >= 0) {
			row_fail(r, TS_ERR_ROUND_FIELD);
			r->field = -1;
		}
		put_sep(r);
		put1(r, ev == TS_JSON_OBJECT_BEGIN ? '{' : '[');
		r->last = L_BEGIN;
		return;
	case TS_JSON_OBJECT_END:
	case TS_JSON_ARRAY_END:
		put1(r, ev == TS_JSON_OBJECT_END ? '}' : ']');
		r->last = L_VALUE;
		if (d + 1 == r->row_depth)
			end_row(r);
		return;
	case TS_JSON_KEY:
		r->last = L_KEY;
		if (d == r->row_depth)
			key_event(r);
		return;
	default:
		r->last = L_VALUE;
		if (d == r->row_depth && r->field >= 0) {
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
			r->want_rows = cap_is(r, "rounds", 6) ||
			    cap_is(r, "data", 4);
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
	if (ev >= TS_JSON_KEY)
		r->tok_open = 0;
	if (r->in_row)
		row_event(r, ev, d);
	else if (r->mode == TS_ROUND_BODY)
		body_event(r, ev, d);
	else if (ev == TS_JSON_OBJECT_BEGIN)
		start_row(r, 1);
	else
		r->err = TS_ERR_ROUND_NOT_OBJECT;
}

size_t
ts_round_push(struct ts_round_reader *r, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t off = 0;

	if (r->err != 0 || r->event != 0 || r->finished)
		return 0;
	while (off < len) {
		uint64_t a = r->json.pos;
		size_t n = ts_json_push(&r->json, p + off, len - off);
		int ev = ts_json_event(&r->json);
		unsigned d = ts_json_depth(&r->json);

		/*
		 * The part of [a, a + n) that belongs to a string, number or
		 * literal: from its start (or a) to its end (or a + n).  Also
		 * before a JSON error, so that a round too big fails at the
		 * same byte whatever the chunking.
		 */
		if (ev >= TS_JSON_KEY || ts_json_partial(&r->json)) {
			uint64_t s = r->json.tok_start;
			uint64_t e = ev >= TS_JSON_KEY ? r->json.tok_end :
			    a + n;
			uint64_t from = s > a ? s : a;

			if (e > from)
				token_bytes(r, p + off + (size_t)(from - a),
				    (size_t)(e - from), d);
		}
		off += n;
		if (ev < 0) {
			if (r->err == 0)
				r->err = ev;
			break;
		}
		if (ev > 0)
			handle_event(r, ev, d);
		if (r->err != 0 || r->event != 0 || (n == 0 && ev == 0))
			break;
	}
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

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
rtime_parse(const char *s, size_t n, struct rtime *t)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int yh, yl, mo, d, h, mi, sec, oh = 0, om = 0, leap, max;
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
	leap = (yl % 4 == 0 && yl % 100 != 0) || yl % 400 == 0;
	if (mo < 1 || mo > 12)
		return TS_ERR_ROUND_FIELD;
	max = mdays[mo - 1] + (mo == 2 && leap);
	if (d < 1 || d > max || h > 23 || mi > 59 || sec > 60)
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
	t->sec = days_from_civil(yl, mo, d) * 86400 + (int64_t)h * 3600 +
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
