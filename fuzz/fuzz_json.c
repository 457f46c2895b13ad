/*
 * fuzz_json: the json tokenizer and the round reader, within their
 * contracts.  Input: byte 0 picks the mode (raw tokenizer, round
 * MESSAGE, round BODY, or the decimal/index/time helpers) and whether a
 * game slug is set; byte 1 seeds the chunk sizes; byte 2 picks the round
 * buffer size; the rest is the text.  Checked, with abort() on failure:
 *	- whole input and input in fuzzer-chosen chunks give the same
 *	  transcript (every event, offset, byte and result);
 *	- every minified round re-tokenizes to exactly the tokens of the
 *	  original object (minus an inserted game_id), with no byte
 *	  between tokens but one ',' or ':', inside its buffer;
 *	- ts_round_above() agrees with the slow comparator below, which
 *	  shifts decimal points as text and compares digit strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tsino.h"
#include "json.h"
#include "round.h"

#define MAX_TOK 65536
#define MAX_IN 65536

struct tok {
	int ev;
	uint64_t start, end;
	int escaped;
	unsigned depth;		/* depth after the event */
};

static struct tok orig[MAX_TOK];
static size_t norig;
static int orig_rc;
static struct tok mini[MAX_TOK];
static size_t nmini;

struct chunker {
	uint32_t state;
	unsigned max;
};

static size_t
chunk(struct chunker *c, size_t left)
{
	size_t n;

	if (c->max == 0)
		return left;
	c->state ^= c->state << 13;
	c->state ^= c->state >> 17;
	c->state ^= c->state << 5;
	n = 1 + c->state % c->max;
	return n < left ? n : left;
}

/*
 * A string the tokenizer took decodes to no more bytes than it has, and
 * one without escapes to itself.
 */
static void
check_unescape(const unsigned char *p, size_t n, int escaped)
{
	static char out[1 << 16];
	long k;

	if (n > sizeof(out))
		return;
	k = ts_json_unescape((const char *)p, n, out, n);
	if (k < 0 || (size_t)k > n ||
	    (!escaped && ((size_t)k != n || memcmp(out, p, n) != 0)))
		abort();
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

static uint64_t
mix_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = mix(h, b[i]);
	return mix(h, n);
}

/*
 * A whole valid text: ws_end is just past its last whitespace byte
 * outside strings, found here by walking quotes and backslashes.
 */
static void
check_ws_end(const unsigned char *d, size_t n, uint64_t ws_end)
{
	uint64_t want = 0;
	int st = 0;	/* 0 outside strings, 1 inside, 2 after a backslash */
	size_t i;

	for (i = 0; i < n; i++) {
		if (st == 0 && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' ||
		    d[i] == '\r'))
			want = i + 1;
		else if (st == 0 && d[i] == '"')
			st = 1;
		else if (st == 2)
			st = 1;
		else if (st == 1 && d[i] == '\\')
			st = 2;
		else if (st == 1 && d[i] == '"')
			st = 0;
	}
	if (want != ws_end)
		abort();
}

/*
 * Tokenize in chunks; return a hash of the transcript.  If out is not
 * NULL, keep the tokens there (up to MAX_TOK) and the result in *rc.
 */
static uint64_t
tokenize(const unsigned char *d, size_t n, struct chunker *c,
    unsigned max_level, struct tok *out, size_t *nout, int *rc_out)
{
	struct ts_json j;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t off = 0, k, got, stalls = 0;
	int ev, rc = 0;

	ts_json_init(&j);
	j.max_level = max_level;
	if (nout)
		*nout = 0;
	for (;;) {
		while ((ev = ts_json_event(&j)) > 0) {
			stalls = 0;
			if (j.tok_start >= j.tok_end || j.tok_end > off)
				abort();
			h = mix(h, (uint64_t)ev);
			h = mix(h, j.tok_start);
			h = mix(h, j.tok_end);
			h = mix(h, (uint64_t)j.tok_escaped);
			if ((ev == TS_JSON_STRING || ev == TS_JSON_KEY) &&
			    (d[j.tok_start] != '"' || d[j.tok_end - 1] != '"'))
				abort();
			if (ev == TS_JSON_STRING || ev == TS_JSON_KEY)
				check_unescape(d + j.tok_start + 1,
				    (size_t)(j.tok_end - j.tok_start - 2),
				    j.tok_escaped);
			if (out && *nout < MAX_TOK) {
				out[*nout].ev = ev;
				out[*nout].start = j.tok_start;
				out[*nout].end = j.tok_end;
				out[*nout].escaped = j.tok_escaped;
				out[*nout].depth = ts_json_depth(&j);
				(*nout)++;
			}
		}
		if (ev < 0) {
			rc = ev;
			break;
		}
		if (off == n) {
			if (j.finished)
				break;
			rc = ts_json_finish(&j);
			if (rc < 0)
				break;
			continue;
		}
		k = chunk(c, n - off);
		got = ts_json_push(&j, d + off, k);
		if (got > k)
			abort();
		off += got;
		/* no progress twice without an event in between: a bug */
		stalls = got == 0 ? stalls + 1 : 0;
		if (stalls > 1)
			abort();
	}
	if (rc_out)
		*rc_out = rc;
	if (rc == 0)
		check_ws_end(d, n, j.ws_end);
	return mix(h, (uint64_t)(int64_t)rc);
}

/*
 * The hash tokenize() gives with max_level, made from the whole list of
 * tokens: the same events, minus those deeper than the level.
 */
static uint64_t
filtered(const struct tok *t, size_t nt, unsigned max_level, int rc)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < nt; i++) {
		unsigned level = t[i].depth;

		if (t[i].ev == TS_JSON_OBJECT_BEGIN ||
		    t[i].ev == TS_JSON_ARRAY_BEGIN)
			level--;
		if (level > max_level)
			continue;
		h = mix(h, (uint64_t)t[i].ev);
		h = mix(h, t[i].start);
		h = mix(h, t[i].end);
		h = mix(h, (uint64_t)t[i].escaped);
	}
	return mix(h, (uint64_t)(int64_t)rc);
}

/* No whitespace, only single ',' or ':' between the tokens of obj. */
static void
check_minified(const unsigned char *o, size_t n)
{
	size_t i;
	int rc;

	nmini = 0;
	tokenize(o, n, &(struct chunker){0, 0}, TS_JSON_LEVEL_ALL, mini,
	    &nmini, &rc);
	if (rc != 0 || nmini == 0 || nmini >= MAX_TOK)
		abort();
	if (mini[0].start != 0 || mini[nmini - 1].end != n)
		abort();
	for (i = 1; i < nmini; i++) {
		uint64_t gap = mini[i].start - mini[i - 1].end;

		if (gap > 1)
			abort();
		if (gap == 1 && o[mini[i - 1].end] != ',' &&
		    o[mini[i - 1].end] != ':')
			abort();
	}
}

/* obj's tokens (after an inserted game_id) equal orig[first..]. */
static void
check_same_tokens(const unsigned char *in, size_t first, size_t count,
    const unsigned char *o, int inserted)
{
	size_t i, m = inserted ? 2 : 0;

	if (nmini - m != count || first + count > norig)
		abort();
	if (inserted && (mini[1].ev != TS_JSON_KEY ||
	    mini[2].ev != TS_JSON_STRING ||
	    memcmp(o + mini[1].start, "\"game_id\"", 9) != 0))
		abort();
	for (i = 0; i < count; i++) {
		const struct tok *a = &orig[first + i];
		const struct tok *b = &mini[i == 0 ? 0 : i + m];

		if (a->ev != b->ev || a->end - a->start != b->end - b->start ||
		    memcmp(in + a->start, o + b->start, a->end - a->start) != 0)
			abort();
	}
}

/* A field is in obj, or decoded after it if it was escaped. */
static void
check_field(const struct ts_round *rd, const struct ts_round_field *f)
{
	const char *end = rd->obj + rd->obj_len;

	if (f->ptr == NULL)
		return;
	if (f->ptr < rd->obj || f->ptr + f->len > end + rd->aux_len ||
	    (f->escaped ? f->ptr < end : f->ptr + f->len > end))
		abort();
}

/*
 * The rows of a body, found independently from the reader: the start
 * index in orig[] of each element of the array of rows, and its token
 * count.  Returns the number found.
 */
static size_t rows_first[MAX_TOK], rows_count[MAX_TOK];

static size_t
find_rows(const unsigned char *in)
{
	size_t i = 0, nrows = 0, k;
	unsigned rd;

	if (norig == 0)
		return 0;
	if (orig[0].ev == TS_JSON_ARRAY_BEGIN) {
		rd = 1;
		i = 1;
	} else if (orig[0].ev == TS_JSON_OBJECT_BEGIN) {
		for (i = 1; i + 1 < norig; i++) {
			const struct tok *t = &orig[i];
			char nm[8];
			long len = t->ev != TS_JSON_KEY || t->end - t->start >
			    64 ? -1 : ts_json_unescape((const char *)in +
			    t->start + 1, t->end - t->start - 2, nm, sizeof(nm));

			if (t->ev == TS_JSON_KEY && t->depth == 1 &&
			    orig[i + 1].ev == TS_JSON_ARRAY_BEGIN &&
			    ((len == 6 && memcmp(nm, "rounds", 6) == 0) ||
			    (len == 4 && memcmp(nm, "data", 4) == 0)))
				break;
		}
		if (i + 1 >= norig)
			return 0;
		rd = 2;
		i += 2;
	} else {
		return 0;
	}
	while (i < norig && !(orig[i].ev == TS_JSON_ARRAY_END &&
	    orig[i].depth == rd - 1)) {
		rows_first[nrows] = i;
		if (orig[i].ev == TS_JSON_OBJECT_BEGIN ||
		    orig[i].ev == TS_JSON_ARRAY_BEGIN) {
			for (k = i + 1; k < norig && orig[k].depth > rd; k++)
				;
			if (k >= norig)
				break;	/* cut short */
			rows_count[nrows++] = k - i + 1;
			i = k + 1;
		} else {
			rows_count[nrows++] = 1;
			i++;
		}
	}
	return nrows;
}

static unsigned char rbuf[2][MAX_IN + TS_ROUND_HEADROOM];

static uint64_t
read_rounds(const unsigned char *in, size_t n, int mode, int slug,
    size_t buflen, struct chunker *c, int check, unsigned char *buf)
{
	struct ts_round_reader r;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t off = 0, k, got, stalls = 0, nrows = 0, row = 0;
	int ev, rc = 0, finished = 0;
	int64_t sec;
	uint32_t nsec;

	ts_round_init(&r, buf, buflen, mode);
	if (slug && ts_round_set_game(&r, "stake-crash", 11) != 0)
		abort();
	if (check && mode == TS_ROUND_BODY)
		nrows = find_rows(in);
	for (;;) {
		while ((ev = ts_round_event(&r)) > 0) {
			stalls = 0;
			h = mix(h, (uint64_t)ev);
			if (ev == TS_ROUND_EV_SKIPPED) {
				h = mix(h, (uint64_t)(int64_t)r.skip_err);
				h = mix_bytes(h, r.skip_id, r.skip_id_len);
				if (r.skip_id_len > TS_ROUND_ID_MAX)
					abort();
				row++;
				continue;
			}
			if (ev != TS_ROUND_EV_ROUND)
				abort();
			if ((const unsigned char *)r.round.obj != buf ||
			    r.round.obj_len > buflen)
				abort();
			h = mix_bytes(h, r.round.obj, r.round.obj_len);
			check_field(&r.round, &r.round.game_id);
			check_field(&r.round, &r.round.round_id);
			check_field(&r.round, &r.round.round_index);
			check_field(&r.round, &r.round.multiplier);
			check_field(&r.round, &r.round.state);
			check_field(&r.round, &r.round.finalized_at);
			if (r.round.game_id.ptr == NULL ||
			    r.round.round_id.ptr == NULL ||
			    r.round.round_index.ptr == NULL ||
			    r.round.multiplier.ptr == NULL ||
			    r.round.finalized_at.ptr == NULL)
				abort();
			if (ts_round_time(r.round.finalized_at.ptr,
			    r.round.finalized_at.len, &sec, &nsec) != 0 ||
			    sec != r.round.finalized_sec ||
			    nsec != r.round.finalized_nsec)
				abort();
			if (check && norig < MAX_TOK) {
				check_minified((const unsigned char *)
				    r.round.obj, r.round.obj_len);
				if (mode == TS_ROUND_MESSAGE)
					check_same_tokens(in, 0, norig,
					    (const unsigned char *)r.round.obj,
					    r.round.game_inserted);
				else if (row < nrows)
					check_same_tokens(in, rows_first[row],
					    rows_count[row],
					    (const unsigned char *)r.round.obj,
					    r.round.game_inserted);
				else
					abort();
			}
			row++;
		}
		if (ev < 0) {
			rc = ev;
			break;
		}
		if (off == n) {
			if (finished)
				break;
			rc = ts_round_finish(&r);
			finished = 1;
			if (rc < 0)
				break;
			continue;
		}
		k = chunk(c, n - off);
		got = ts_round_push(&r, in + off, k);
		if (got > k)
			abort();
		off += got;
		/* no progress twice without an event in between: a bug */
		stalls = got == 0 ? stalls + 1 : 0;
		if (stalls > 1)
			abort();
	}
	/* every element of a body's array gave one event */
	if (check && mode == TS_ROUND_BODY && rc == 0 && row != nrows)
		abort();
	return mix(h, (uint64_t)(int64_t)rc);
}

/*
 * The slow comparator: parse a decimal by its own rules, write it as
 * integer digits and fraction digits with the point really moved by the
 * exponent, and compare those strings.  Returns -2 if malformed, 2 if the
 * exponent is too large to write out (no verdict), else -1, 0, 1.
 */
struct slow {
	int neg;
	char ip[1300], fp[1300];	/* no leading / trailing zeros */
	size_t in, fn;
};

static int
slow_parse(const char *s, size_t n, struct slow *o)
{
	char digits[600];
	size_t nd = 0, i = 0, k;
	long e = 0, shift;
	int eneg = 0, esig = 0;

	memset(o, 0, sizeof(*o));
	if (n > 500)
		return 2;
	if (i < n && s[i] == '-') {
		o->neg = 1;
		i++;
	}
	for (k = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits[nd++] = s[i];
	if (i == k)
		return -2;
	shift = (long)nd;	/* the point is after digits[shift - 1] */
	if (i < n && s[i] == '.') {
		for (k = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits[nd++] = s[i];
		if (i == k)
			return -2;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		if (i == n || s[i] < '0' || s[i] > '9')
			return -2;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (e > 0 || s[i] != '0')
				esig++;
			if (esig > 9)
				return -2;
			e = e * 10 + (s[i] - '0');
		}
	}
	if (i != n)
		return -2;
	shift += eneg ? -e : e;
	if (shift > 600 || shift < -600)
		return 2;
	/* integer part: digits before the point, zeros past the end */
	for (k = 0; (long)k < shift; k++) {
		char c = k < nd ? digits[k] : '0';

		if (o->in == 0 && c == '0')
			continue;
		o->ip[o->in++] = c;
	}
	/* fraction: zeros before the first digit, then the rest */
	for (k = 0; (long)k < -shift; k++)
		o->fp[o->fn++] = '0';
	for (k = shift > 0 ? (size_t)shift : 0; k < nd; k++)
		o->fp[o->fn++] = digits[k];
	while (o->fn > 0 && o->fp[o->fn - 1] == '0')
		o->fn--;
	if (o->in == 0 && o->fn == 0)
		o->neg = 0;
	return 0;
}

static int
slow_cmp(const struct slow *a, const struct slow *b)
{
	int sa = a->in + a->fn == 0 ? 0 : a->neg ? -1 : 1;
	int sb = b->in + b->fn == 0 ? 0 : b->neg ? -1 : 1;
	int c = 0;
	size_t k, n;

	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (a->in != b->in)
		c = a->in < b->in ? -1 : 1;
	if (c == 0)
		c = memcmp(a->ip, b->ip, a->in);
	n = a->fn > b->fn ? a->fn : b->fn;
	for (k = 0; k < n && c == 0; k++) {
		char x = k < a->fn ? a->fp[k] : '0';
		char y = k < b->fn ? b->fp[k] : '0';

		c = x - y;
	}
	c = c < 0 ? -1 : c > 0;
	return sa < 0 ? -c : c;
}

static void
helpers(const unsigned char *d, size_t n)
{
	const char *m = (const char *)d, *x;
	const unsigned char *z = memchr(d, 0, n);
	size_t mn, xn;
	struct slow a, b;
	int pa, pb, r1, r2, want;
	int64_t sec, back;
	uint32_t nsec, nback;
	char tw[40];

	if (z == NULL) {
		mn = n;
		x = "10";
		xn = 2;
	} else {
		mn = (size_t)(z - d);
		x = (const char *)z + 1;
		xn = n - mn - 1;
	}
	r1 = ts_round_above(m, mn, x, xn);
	r2 = ts_round_above(x, xn, m, mn);
	pa = slow_parse(m, mn, &a);
	pb = slow_parse(x, xn, &b);
	if ((pa == -2 || pb == -2) != (r1 == TS_ERR_ROUND_FIELD))
		if (mn <= 500 && xn <= 500)
			abort();
	if ((ts_round_above(m, mn, "0", 1) >= 0) != (pa != -2) && mn <= 500)
		abort();
	if (r1 != TS_ERR_ROUND_FIELD) {
		if (r1 != 0 && r1 != 1)
			abort();
		if (r1 == 1 && r2 == 1)
			abort();
		if (pa == 0 && pb == 0) {
			want = slow_cmp(&a, &b);
			if (r1 != (want > 0) || r2 != (want < 0))
				abort();
		}
	}
	/* the index comparison: antisymmetric and reflexive */
	if (ts_round_index_cmp(m, mn, x, xn) != -ts_round_index_cmp(x, xn, m,
	    mn) || ts_round_index_cmp(m, mn, m, mn) != 0)
		abort();
	/* a time read is written back as the same instant (or as the
	 * earliest one, outside the years 0000-9999) */
	if (ts_round_time(m, mn, &sec, &nsec) == 0) {
		if (nsec > 999999999)
			abort();
		ts_round_time_write(tw, sizeof(tw), sec, nsec, 1);
		if (strcmp(tw, "0000-01-01T00:00:00Z") != 0 &&
		    (ts_round_time(tw, strlen(tw), &back, &nback) != 0 ||
		    back != sec || nback != nsec))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chunker whole = {0, 0}, split;
	const unsigned char *in;
	size_t n, buflen;
	int mode, slug, rc;
	uint64_t h1, h2;

	if (size < 3)
		return 0;
	mode = data[0] % 4;
	slug = (data[0] >> 2) & 1;
	split.state = 0x9e3779b9u ^ data[1] ^ ((uint32_t)data[2] << 8);
	split.max = data[1] % 4 == 0 ? 1 : 1 + data[1] / 4;
	buflen = data[2] == 255 ? sizeof(rbuf[0]) :
	    (size_t)data[2] * 8 + (data[2] & 1 ? 0 : TS_ROUND_HEADROOM);
	in = data + 3;
	n = size - 3;
	if (n > MAX_IN)
		return 0;
	if (mode == 3) {
		helpers(in, n);
		return 0;
	}
	h1 = tokenize(in, n, &whole, TS_JSON_LEVEL_ALL, orig, &norig,
	    &orig_rc);
	if (mode == 0) {
		h2 = tokenize(in, n, &split, TS_JSON_LEVEL_ALL, NULL, NULL,
		    &rc);
		if (h1 != h2)
			abort();
		/* fewer events with max_level, the same otherwise */
		if (norig < MAX_TOK) {
			h1 = filtered(orig, norig, data[2] % 4, orig_rc);
			h2 = tokenize(in, n, &split, data[2] % 4, NULL, NULL,
			    &rc);
			if (h1 != h2)
				abort();
		}
		return 0;
	}
	mode = mode == 1 ? TS_ROUND_MESSAGE : TS_ROUND_BODY;
	h1 = read_rounds(in, n, mode, slug, buflen, &whole, 1, rbuf[0]);
	h2 = read_rounds(in, n, mode, slug, buflen, &split, 0, rbuf[1]);
	if (h1 != h2)
		abort();
	return 0;
}
