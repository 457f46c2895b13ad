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
 * of rows), ROW while a row is open (skip_err set if it was given up:
 * its tokens are read, not kept), AFTER (the array has ended).  In a
 * MESSAGE the whole input is one row: START, ROW, AFTER.  FINISHED:
 * ts_round_finish() was called.
 *
 * The helpers below the reader are pure functions on strings: exact
 * decimal comparison (no float ever sees a multiplier), integer
 * comparison of digit strings of any length (round_index exceeds 2^53),
 * RFC 3339 §5.6 date-times, and the text output line.
 */
#include <string.h>

#include "tsino.h"
#include "round.h"	/* and json.h, base.h, <stddef.h> and <stdint.h> */

/* The known members, then the names of a body's array of rows. */
enum {
	F_GAME_ID, F_ROUND_ID, F_ROUND_INDEX, F_MULTIPLIER, F_STATE,
	F_FINALIZED_AT, N_ROUNDS, N_DATA
};

static const char *const names[] = {
	"game_id", "round_id", "round_index", "multiplier", "state",
	"finalized_at", "rounds", "data"
};

/* Where the reader is (the states above; NAMED: OUTER just after the
 * name "rounds" or "data"). */
enum {
	S_START, S_OUTER, S_NAMED, S_ROWS, S_ROW, S_AFTER, S_FINISHED
};

/* "game_id":" is 11 bytes; the slug, '"' and ',' follow. */
static const char game_key[] = "\"game_id\":\"";
#define GAME_KEY_LEN 11

void
ts_round_init(struct ts_round_reader *r, unsigned char *buf, size_t len,
    int mode)
{
	/*
	 * Field by field, not one memset: the client starts a reader per
	 * message.  What start_row() or ts_round_push() sets before it is
	 * read (the row's state, the chunk, the arrays) is left alone, and
	 * so is round: it is only valid after TS_ROUND_EV_ROUND.
	 */
	ts_json_init(&r->json);
	r->max_round = len > TS_ROUND_HEADROOM ? len - TS_ROUND_HEADROOM : 0;
	r->buf = buf;
	r->len = len;
	r->mode = mode == TS_ROUND_BODY ? TS_ROUND_BODY : TS_ROUND_MESSAGE;
	r->err = 0;
	r->event = 0;
	r->slug_len = 0;
	r->state = S_START;
	r->cap_tok = UINT64_MAX;
}

int
ts_round_slug_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > TS_ROUND_SLUG_MAX ||
	    (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.'))))
		return 0;
	for (i = 0; i < n; i++)
		if (!ts_is_alpha(s[i]) && !ts_is_digit(s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	return 1;
}

int
ts_round_set_game(struct ts_round_reader *r, const char *slug, size_t n)
{
	if (!ts_round_slug_ok(slug, n))
		return TS_ERR_ROUND_FIELD;
	memcpy(r->slug, slug, n);
	r->slug_len = n;
	return 0;
}

static void
flush(struct ts_round_reader *r);

/* The row is still a round so far: not given up, no error. */
static int
row_ok(const struct ts_round_reader *r)
{
	return r->err == 0 && r->skip_err == 0;
}

/*
 * This row is not a round (err says why).  A message fails; a body row
 * is read on to its end without keeping anything and then reported as
 * skipped.  The first reason wins, in input order, so the row is
 * brought up to date first, in case it had already grown too big (from
 * flush() itself, that finds nothing left to copy).
 */
static void
row_fail(struct ts_round_reader *r, int err)
{
	flush(r);
	if (r->mode == TS_ROUND_MESSAGE) {
		if (r->err == 0)
			r->err = err;
	} else if (r->skip_err == 0) {
		r->skip_err = err;
	}
}

/*
 * Bring the row in buf up to date with the input consumed so far, within
 * r->limit (max_round and the buffer, taken when the row starts).  The
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
	size_t n, i = 0;
	int st;

	if (r->state != S_ROW || !row_ok(r) || end <= r->copied) {
		r->copied = end;
		return;
	}
	p = r->in + (size_t)(r->copied - r->in_base);
	n = (size_t)(end - r->copied);
	if (r->json.ws_end <= r->copied && n <= r->limit - r->w) {
		memcpy(r->buf + r->w, p, n);
		r->w += n;
		i = n;
	}
	/*
	 * Else the slow way, byte by byte without the whitespace between
	 * tokens, up to the limit.  The bytes were accepted by the
	 * tokenizer, so telling strings apart needs only their quotes and
	 * backslashes; st says where p[i] is (ts_json_in_string()).
	 */
	for (st = r->copy_str; i < n; i++) {
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
			break;
		r->buf[r->w++] = c;
	}
	r->copied = end;
	r->copy_str = ts_json_in_string(&r->json);
	if (i < n)	/* the row does not fit */
		row_fail(r, TS_ERR_ROUND_TOO_BIG);
}

/*
 * Keep the bytes of the token that began at cap_tok, up to offset to
 * (in this chunk), in cap while it has room: cap_len bytes are there,
 * so nothing is kept twice.  Unless cap was full, they reach up to this
 * chunk: each chunk kept its part.
 */
static void
capture(struct ts_round_reader *r, uint64_t to)
{
	uint64_t from = r->cap_tok + r->cap_len;
	size_t k;

	if (from < r->in_base || to <= from)
		return;
	k = (size_t)(to - from);
	if (k > sizeof(r->cap) - r->cap_len)
		k = sizeof(r->cap) - r->cap_len;
	memcpy(r->cap + r->cap_len, r->in + (size_t)(from - r->in_base), k);
	r->cap_len += k;
}

/*
 * The text of the token just completed, quotes included: in the chunk
 * if it began there, else in cap, where end_chunk() kept its earlier
 * part.  *n is its full length; only the first sizeof(r->cap) bytes of
 * a captured token are there, enough for every use below.
 */
static const unsigned char *
token_text(struct ts_round_reader *r, size_t *n)
{
	uint64_t s = r->json.tok_start;

	*n = (size_t)(r->json.tok_end - s);
	if (s >= r->in_base)
		return r->in + (size_t)(s - r->in_base);
	capture(r, r->json.tok_end);
	return r->cap;
}

/*
 * Which of names[] the name just completed is, or -1.  A name is matched
 * on what it means: "g\u0061me_id" is game_id, decoded into nm.  Every
 * decoded byte comes from at most 6 received ones, so a name that may
 * fit in nm is whole in cap.  The names differ in length, so the length
 * picks the one candidate to compare.
 */
static inline int
name_index(struct ts_round_reader *r)
{
	static const signed char by_len[13] = {
		-1, -1, -1, -1, N_DATA, F_STATE, N_ROUNDS, F_GAME_ID,
		F_ROUND_ID, -1, F_MULTIPLIER, F_ROUND_INDEX, F_FINALIZED_AT
	};
	char nm[16];
	size_t n;
	const char *t = (const char *)token_text(r, &n) + 1;
	long k;
	int f;

	n -= 2;	/* a KEY event's token: its quotes are there */
	if (r->json.tok_escaped) {
		if (n > 6 * sizeof(nm) ||
		    (k = ts_json_unescape(t, n, nm, sizeof(nm))) < 0)
			return -1;
		t = nm;
		n = (size_t)k;
	}
	f = n < sizeof(by_len) ? by_len[n] : -1;
	return f >= 0 && memcmp(t, names[f], n) == 0 ? f : -1;
}

static void
start_row(struct ts_round_reader *r, int object)
{
	r->state = S_ROW;
	r->limit = r->max_round < r->len ? r->max_round : r->len;
	r->skip_err = 0;
	r->skip_id_len = 0;
	r->w = 0;
	r->copied = r->json.tok_start;
	r->copy_str = 0;
	r->field = -1;
	r->seen = 0;
	memset(r->fld, 0, sizeof(r->fld));
	r->dec_used = 0;
	/*
	 * The members are all the row needs to see; the rest is copied.
	 * max_level is also the row's depth, until it ends.
	 */
	r->json.max_level = ts_json_depth(&r->json);
	if (!object)
		row_fail(r, TS_ERR_ROUND_NOT_OBJECT);
}

/*
 * A member name at the row's top level: the known member whose value
 * comes next, if it is one.
 */
static void
key_event(struct ts_round_reader *r)
{
	int f = name_index(r);

	/* field is -1 here: start_row() and row_event() set it so */
	if (f < 0 || f >= TS_ROUND_NFIELDS)
		return;
	if (r->seen & (1u << f))
		row_fail(r, TS_ERR_ROUND_DUPLICATE);
	else
		r->field = f;
	r->seen |= 1u << f;
}

/*
 * The end of the run of bytes in [lo, hi] in s[i..n): digits, or, for a
 * decoded round_id, no control byte, which only an escape can put there
 * and which would break a log or text line.
 */
static size_t
span(const char *s, size_t i, size_t n, unsigned char lo, unsigned char hi)
{
	while (i < n && (unsigned char)s[i] >= lo && (unsigned char)s[i] <= hi)
		i++;
	return i;
}

/*
 * Decimals.  A decimal is read as sign, integer digits, fraction digits
 * and an exponent; its value is 0.D x 10^E where D is the integer and
 * fraction digits run together without leading zeros.  Two decimals
 * compare by sign, then E, then D digit by digit (the shorter padded
 * with zeros): exact for any number of digits, and nothing is copied.
 */
/*
 * The parts: sign -1, 0 (zero, "-0" too) or 1; ip[0..in) the integer
 * digits, then '.' and the fraction; lz leading zeros; nd digits from
 * the first nonzero one (D, 0 for zero); e is E.
 */
struct dec {
	int sign;
	const char *ip;
	size_t in, lz, nd;
	int64_t e;
};

/*
 * Digit k of D, and '0' past its end: digit lz + k of the integer and
 * fraction digits run together, past the '.' if it is a fraction digit.
 */
static char
dec_digit(const struct dec *d, size_t k)
{
	size_t at = d->lz + k;

	if (k >= d->nd)
		return '0';
	return d->ip[at < d->in ? at : at + 1];
}

static int
dec_parse(const char *s, size_t n, struct dec *d)
{
	size_t neg = n > 0 && s[0] == '-', i, end, total;
	int64_t x = 0;
	int xneg = 0;

	d->ip = s + neg;
	i = span(s, neg, n, '0', '9');
	d->in = total = i - neg;
	if (d->in == 0)
		return TS_ERR_ROUND_FIELD;
	if (i < n && s[i] == '.') {
		end = span(s, i + 1, n, '0', '9');
		if (end == i + 1)
			return TS_ERR_ROUND_FIELD;
		total += end - i - 1;
		i = end;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			xneg = s[i++] == '-';
		if (span(s, i, n, '0', '9') == i)
			return TS_ERR_ROUND_FIELD;
		for (; i < n && ts_is_digit(s[i]); i++) {
			x = x * 10 + (s[i] - '0');
			/* nine digits (and any leading zeros) keep every
			 * sum below in int64 exact */
			if (x > 999999999)
				return TS_ERR_ROUND_FIELD;
		}
	}
	if (i != n)
		return TS_ERR_ROUND_FIELD;
	/* D starts at the first nonzero digit */
	d->lz = 0;
	for (d->nd = total; d->nd > 0 && dec_digit(d, 0) == '0'; d->nd--)
		d->lz++;
	d->e = (int64_t)d->in - (int64_t)d->lz + (xneg ? -x : x);
	d->sign = d->nd == 0 ? 0 : neg ? -1 : 1;
	return 0;
}

/*
 * The value of a known member: check its type and form, record it.
 * finalized_at's instant is kept as it is checked, so that nobody reads
 * the text twice.
 */
static void
value_event(struct ts_round_reader *r, int ev)
{
	int f = r->field;
	int quoted = ev == TS_JSON_STRING;
	int esc = quoted && r->json.tok_escaped;
	const char *v;
	size_t vn;
	int ok;
	struct dec dec;

	if (f == F_ROUND_ID && quoted) {
		/* its first bytes as received name the row if it is skipped */
		v = (const char *)token_text(r, &vn);
		vn -= 2;
		r->skip_id_len = vn < TS_ROUND_ID_MAX ? vn : TS_ROUND_ID_MAX;
		memcpy(r->skip_id, v + 1, r->skip_id_len);
	}
	flush(r);
	if (!row_ok(r))
		return;
	/* the token is the last thing copied: it holds no whitespace */
	vn = (size_t)(r->json.tok_end - r->json.tok_start);
	v = (const char *)r->buf + r->w - vn;
	if (quoted) {
		v++;
		vn -= 2;
	}
	if (esc) {
		long k = ts_json_unescape(v, vn,
		    r->dec + r->dec_used, sizeof(r->dec) - r->dec_used);

		if (k < 0) {
			row_fail(r, TS_ERR_ROUND_TOO_BIG);
			return;
		}
		v = r->dec + r->dec_used;
		vn = (size_t)k;
		r->dec_used += vn;
	}
	if (f == F_STATE && ev == TS_JSON_NULL)
		return;	/* an optional member: null is absent */
	/* strings, but round_index and multiplier may be numbers */
	ok = quoted || (ev == TS_JSON_NUMBER &&
	    (f == F_ROUND_INDEX || f == F_MULTIPLIER));
	if (f == F_GAME_ID)
		ok = ok && ts_round_slug_ok(v, vn);
	else if (f == F_ROUND_ID)	/* only an escape can */
		ok = ok && (!esc || span(v, 0, vn, 0x20, 0xff) == vn);
	else if (f == F_ROUND_INDEX)
		ok = ok && vn > 0 && span(v, 0, vn, '0', '9') == vn;
	else if (f == F_MULTIPLIER)
		ok = ok && dec_parse(v, vn, &dec) == 0;
	else if (f == F_FINALIZED_AT)	/* required: the instant is set */
		ok = ok && ts_round_time(v, vn,
		    &r->round.finalized_sec, &r->round.finalized_nsec) == 0;
	if (!ok) {
		row_fail(r, TS_ERR_ROUND_FIELD);
		return;
	}
	r->fld[f].ptr = v;
	r->fld[f].len = vn;
	r->fld[f].escaped = esc;
}

static void
end_row(struct ts_round_reader *r)
{
	struct ts_round *rd = &r->round;
	struct ts_round_field *fl = r->fld;
	size_t ins = 0;
	int f;

	flush(r);
	r->state = r->mode == TS_ROUND_BODY ? S_ROWS : S_AFTER;
	r->json.max_level = TS_JSON_LEVEL_ALL;
	if (row_ok(r) && (fl[F_ROUND_ID].ptr == NULL ||
	    fl[F_ROUND_INDEX].ptr == NULL || fl[F_MULTIPLIER].ptr == NULL ||
	    fl[F_FINALIZED_AT].ptr == NULL ||
	    (fl[F_GAME_ID].ptr == NULL && r->slug_len == 0)))
		row_fail(r, TS_ERR_ROUND_MISSING);
	if (fl[F_GAME_ID].ptr == NULL)
		ins = GAME_KEY_LEN + r->slug_len + 1 + (r->w > 2 ? 1 : 0);
	/* room for game_id, and for the decoded members after the object */
	if (row_ok(r) && ins + r->dec_used > r->len - r->w)
		row_fail(r, TS_ERR_ROUND_TOO_BIG);
	if (!row_ok(r)) {
		/* a body's row is skipped; a message has failed (err) */
		if (r->err == 0)
			r->event = TS_ROUND_EV_SKIPPED;
		return;
	}
	if (ins > 0) {
		/*
		 * SPEC §7.1: "game_id, where tsino adds it to a REST row,
		 * becomes the first member": '"game_id":"<slug>"' and a
		 * comma unless the row is "{}", ins bytes in all.
		 */
		memmove(r->buf + 1 + ins, r->buf + 1, r->w - 1);
		memcpy(r->buf + 1, game_key, GAME_KEY_LEN);
		memcpy(r->buf + 1 + GAME_KEY_LEN, r->slug, r->slug_len);
		r->buf[1 + GAME_KEY_LEN + r->slug_len] = '"';
		if (r->w > 2)
			r->buf[ins] = ',';
		r->w += ins;
		for (f = 0; f < TS_ROUND_NFIELDS; f++)
			if (fl[f].ptr != NULL && !fl[f].escaped)
				fl[f].ptr += ins;
		fl[F_GAME_ID].ptr = (const char *)r->buf + 1 + GAME_KEY_LEN;
		fl[F_GAME_ID].len = r->slug_len;
	}
	rd->game_inserted = ins > 0;
	/* the decoded fields go after the object */
	memcpy(r->buf + r->w, r->dec, r->dec_used);
	for (f = 0; f < TS_ROUND_NFIELDS; f++)
		if (fl[f].escaped)
			fl[f].ptr = (const char *)r->buf + r->w +
			    (fl[f].ptr - r->dec);
	rd->obj = (const char *)r->buf;
	rd->obj_len = r->w;
	rd->aux_len = r->dec_used;
	rd->game_id = fl[F_GAME_ID];
	rd->round_id = fl[F_ROUND_ID];
	rd->round_index = fl[F_ROUND_INDEX];
	rd->multiplier = fl[F_MULTIPLIER];
	rd->state = fl[F_STATE];
	rd->finalized_at = fl[F_FINALIZED_AT];
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
	if (ev == TS_JSON_OBJECT_END || ev == TS_JSON_ARRAY_END) {
		if (d + 1 == r->json.max_level)	/* the row's depth */
			end_row(r);
	} else if (ev == TS_JSON_KEY) {
		key_event(r);
	} else if (r->field >= 0) {
		/* a known member's value: a container fails its checks */
		value_event(r, ev);
		r->field = -1;
	}
}

/* A token outside any row; d is the depth after it. */
static void
outer_event(struct ts_round_reader *r, int ev, unsigned d)
{
	int msg = r->mode == TS_ROUND_MESSAGE;

	switch (r->state) {
	case S_START:
		if (ev == TS_JSON_OBJECT_BEGIN && msg)
			start_row(r, 1);
		else if (ev == TS_JSON_ARRAY_BEGIN && !msg)
			r->state = S_ROWS;
		else if (ev == TS_JSON_OBJECT_BEGIN)
			r->state = S_OUTER;
		else
			r->err = msg ? TS_ERR_ROUND_NOT_OBJECT :
			    TS_ERR_ROUND_BODY;
		return;
	case S_OUTER:
		if (ev == TS_JSON_OBJECT_END && d == 0)
			r->err = TS_ERR_ROUND_BODY;	/* no array of rows */
		else if (ev == TS_JSON_KEY && d == 1 &&
		    name_index(r) >= N_ROUNDS)
			r->state = S_NAMED;
		return;
	case S_NAMED:
		/* the first event after the name starts its value */
		r->state = ev == TS_JSON_ARRAY_BEGIN ? S_ROWS : S_OUTER;
		return;
	case S_ROWS:
		if (ev == TS_JSON_ARRAY_END) {
			r->state = S_AFTER;
		} else if (ev == TS_JSON_OBJECT_BEGIN ||
		    ev == TS_JSON_ARRAY_BEGIN) {
			start_row(r, ev == TS_JSON_OBJECT_BEGIN);
		} else {
			/* a string, number or literal row */
			r->skip_err = TS_ERR_ROUND_NOT_OBJECT;
			r->skip_id_len = 0;
			r->event = TS_ROUND_EV_SKIPPED;
		}
		return;
	}
}

/*
 * The chunk is about to go back to the caller: copy the row so far, and
 * keep what is needed of a token that is not complete yet: a row's
 * member name or value (round_id's value names a skipped row), or a
 * token of the outer body object.
 */
static void
end_chunk(struct ts_round_reader *r)
{
	unsigned d = ts_json_depth(&r->json);

	flush(r);
	if (ts_json_partial(&r->json) && (r->state == S_ROW ?
	    d == r->json.max_level : r->state == S_OUTER && d == 1)) {
		if (r->cap_tok != r->json.tok_start) {
			r->cap_tok = r->json.tok_start;
			r->cap_len = 0;
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

	if (r->err != 0 || r->event != 0 || r->state == S_FINISHED)
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
		if (ev > 0 && r->state == S_ROW)
			row_event(r, ev, ts_json_depth(&r->json));
		else if (ev > 0)
			outer_event(r, ev, ts_json_depth(&r->json));
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

/*
 * A clean end must have passed the round or the array of rows (AFTER):
 * a top-level number, which only ends here, is neither.
 */
int
ts_round_finish(struct ts_round_reader *r)
{
	int rc;

	if (r->err != 0 || r->state == S_FINISHED)
		return r->err;
	rc = ts_json_finish(&r->json);
	if (rc == 0 && (ts_json_event(&r->json) > 0 || r->state != S_AFTER))
		rc = r->mode == TS_ROUND_MESSAGE ? TS_ERR_ROUND_NOT_OBJECT :
		    TS_ERR_ROUND_BODY;
	r->state = S_FINISHED;
	r->err = rc;
	if (rc == 0 && r->mode == TS_ROUND_MESSAGE)
		r->event = TS_ROUND_EV_ROUND;
	return rc;
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
	int c;
	size_t k;

	if (dec_parse(m, mlen, &a) != 0 || dec_parse(x, xlen, &b) != 0)
		return TS_ERR_ROUND_FIELD;
	if (a.sign != b.sign || a.sign == 0)
		return a.sign > b.sign;
	/* the same sign: by E, then D digit by digit */
	c = a.e < b.e ? -1 : a.e > b.e;
	for (k = 0; c == 0 && (k < a.nd || k < b.nd); k++)
		c = dec_digit(&a, k) - dec_digit(&b, k);
	return a.sign > 0 ? c > 0 : c < 0;
}

int
ts_round_index_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	for (; alen > 0 && *a == '0'; alen--)
		a++;
	for (; blen > 0 && *b == '0'; blen--)
		b++;
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
	if (!ts_is_digit(s[0]) || !ts_is_digit(s[1]))
		return 0;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 1;
}

int
ts_round_time(const char *s, size_t n, int64_t *sec, uint32_t *nsec)
{
	int yh, y, mo, d, h, mi, sc, oh, om, off;
	size_t i = 19, end, k;
	uint32_t ns = 0;

	if (n < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    !num2(s, &yh) || !num2(s + 2, &y) || !num2(s + 5, &mo) ||
	    !num2(s + 8, &d) || !num2(s + 11, &h) || !num2(s + 14, &mi) ||
	    !num2(s + 17, &sc))
		return TS_ERR_ROUND_FIELD;
	y += yh * 100;
	if (mo < 1 || mo > 12 || d < 1 ||
	    (unsigned)d > ts_month_days(y, (unsigned)mo) || h > 23 ||
	    mi > 59 || sc > 60)
		return TS_ERR_ROUND_FIELD;
	if (s[i] == '.') {
		end = span(s, i + 1, n, '0', '9');
		if (end == i + 1)
			return TS_ERR_ROUND_FIELD;
		/* the first nine fraction digits; the rest are dropped */
		for (k = i + 1; k < i + 10; k++)
			ns = ns * 10 + (uint32_t)(k < end ? s[k] - '0' : 0);
		i = end;
	}
	/* the offset ends the text */
	if (n - i == 1 && (s[i] == 'Z' || s[i] == 'z'))
		off = 0;
	else if (n - i == 6 && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && num2(s + i + 1, &oh) && num2(s + i + 4, &om) &&
	    oh <= 23 && om <= 59)
		off = (s[i] == '-' ? -60 : 60) * (oh * 60 + om);
	else
		return TS_ERR_ROUND_FIELD;
	/* local time minus its offset is UTC (§4.2); :60 is the next second */
	*sec = ts_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    (int64_t)h * 3600 + mi * 60 + sc - off;
	*nsec = ns;
	return 0;
}

/* v as n digits, zero-padded, at p, then the byte c; returns the end. */
static char *
put_digits(char *p, unsigned long v, int n, char c)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	p[n] = c;
	return p + n + 1;
}

void
ts_round_time_write(char *out, size_t len, int64_t sec, uint32_t nsec,
    int frac)
{
	int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
	int64_t rem = sec - days * 86400, y;
	unsigned m, d;
	char t[33], *p = t;
	size_t n;

	ts_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		y = rem = 0;
		m = d = 1;
		frac = 0;
	}
	p = put_digits(p, (unsigned long)y, 4, '-');
	p = put_digits(p, m, 2, '-');
	p = put_digits(p, d, 2, 'T');
	p = put_digits(p, (unsigned long)(rem / 3600), 2, ':');
	p = put_digits(p, (unsigned long)(rem / 60 % 60), 2, ':');
	p = put_digits(p, (unsigned long)(rem % 60), 2, frac ? '.' : 'Z');
	if (frac)
		p = put_digits(p, nsec, 9, 'Z');
	if (len == 0)
		return;
	n = (size_t)(p - t) < len ? (size_t)(p - t) : len - 1;
	memcpy(out, t, n);
	out[n] = '\0';
}
