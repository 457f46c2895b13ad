/*
 * json: a streaming tokenizer for strict RFC 8259 JSON.
 *
 * One state machine, one byte at a time, no buffer: every decision needs
 * only the current byte and a few counters, so any chunking of the input
 * gives the same tokens and no byte is consumed twice (except the byte
 * that ends a number, which belongs to the next token and is left
 * unconsumed for the next push).  Tokens are reported as absolute
 * offsets [tok_start, tok_end) into the stream.
 *
 * For speed, ts_json_push() skips the runs where the machine would not
 * change state (plain string bytes and digits eight at a time, whole
 * UTF-8 characters, the ':' ',' and '"' of minified text) without a
 * call to step(); whatever is not certain there (a cut-off or invalid
 * character, the byte that ends a run) goes through step(), so errors
 * and events fall on the same byte as a byte-by-byte run.  The bytes
 * its shortcuts always take (a string's opening '"', ':' after a key,
 * ',' after a value, a digit inside a number) are handled there only,
 * whatever the chunking: step() never sees them, and would fail on
 * them.
 *
 * States between tokens (RFC 8259 §2 grammar):
 *	VALUE		a value must come: start, after ':', after ',' in [ ]
 *	VALUE_OR_END	after '[': a value or ']'
 *	KEY_OR_END	after '{': a member name or '}'
 *	KEY		after ',' in { }: a member name
 *	COLON		after a member name
 *	COMMA_OR_END	after a value inside a container: ',' or its closer
 *	DONE		after the top-level value: whitespace only
 * States inside a token:
 *	STR, ESC, HEX, LOW_BS, LOW_U, LOW_HEX, UTF8	strings (§7, §8.1)
 *	LIT						true, false, null (§3)
 *	MINUS, ZERO, INT, DOT, FRAC, EXP, EXP_SIGN, EXP_DIG	numbers (§6)
 *
 * The nesting is a bit stack (1 = object, 0 = array) of fixed size; the
 * depth limit (max_depth) is what RFC 8259 §9 allows: "An implementation
 * may set limits on the maximum depth of nesting."
 *
 * Choices where the RFC leaves room (§9 lets a parser be strict):
 *	- a leading byte order mark is a syntax error.  §8.1: "Implementations
 *	  MUST NOT add a byte order mark (U+FEFF) to the beginning of a
 *	  networked-transmitted JSON text."  The feed never sends one, and
 *	  skipping it would make the byte offsets disagree with what a
 *	  strict peer sees;
 *	- \u0000 is accepted (it is valid JSON); a \u escape of a lone or
 *	  mis-ordered surrogate is rejected, because the text could not be
 *	  turned into UTF-8 (§8.2: strings must be "composed entirely of
 *	  Unicode characters");
 *	- a number directly followed by a byte that could only continue a
 *	  number ("1.2.3", "01", "1e5e") is _NUMBER, not _SYNTAX;
 *	- numbers of any length are accepted: they are text, never converted.
 */
#include <string.h>

#include "tsino.h"
#include "json.h"	/* and base.h, with <stddef.h> and <stdint.h> */

/* TS_JSON_NO_SIMD: the portable scan only (tests build json.c so) */
#if defined(__SSE2__) && !defined(TS_JSON_NO_SIMD)
#define TS_JSON_SSE2 1
#include <emmintrin.h>
#endif

/* The states, grouped as above; S_VALUE is 0. */
enum {
	/* between tokens: whitespace may come */
	S_VALUE, S_VALUE_OR_END, S_KEY_OR_END, S_KEY, S_COLON,
	S_COMMA_OR_END, S_DONE,
	/* inside tokens: every state from S_STR on is "partial"; LOW_BS,
	 * LOW_U, LOW_HEX follow each other (step() counts on it) */
	S_STR, S_ESC, S_HEX, S_LOW_BS, S_LOW_U, S_LOW_HEX, S_UTF8,
	S_LIT,
	S_MINUS, S_ZERO, S_INT, S_DOT, S_FRAC, S_EXP, S_EXP_SIGN, S_EXP_DIG
};

/* In the order of their events: TS_JSON_TRUE + lit. */
static const char *const literals[3] = {"true", "false", "null"};

void
ts_json_init(struct ts_json *j)
{
	/*
	 * Everything but the bit stack, which is written before it is read
	 * (open_container sets or clears each bit it pushes): the round
	 * reader starts a tokenizer per message.  Zero is S_VALUE.
	 */
	memset(j, 0, offsetof(struct ts_json, stack));
	j->max_depth = TS_JSON_DEPTH_DEFAULT;
	j->max_level = TS_JSON_LEVEL_ALL;
}

static int
top_is_object(const struct ts_json *j)
{
	unsigned d = j->depth - 1;

	return (j->stack[d / 8] >> (d % 8)) & 1;
}

static int
fail(struct ts_json *j, int err)
{
	j->err = err;
	return 0;
}

/* A value has ended: what may follow depends on where it was. */
static void
value_done(struct ts_json *j)
{
	j->state = j->depth == 0 ? S_DONE : S_COMMA_OR_END;
}

/* Emit a one-byte token event (a bracket) at the current offset. */
static void
bracket(struct ts_json *j, int ev)
{
	j->event = ev;
	j->tok_start = j->pos;
	j->tok_end = j->pos + 1;
	j->tok_escaped = 0;
}

static int
open_container(struct ts_json *j, int object)
{
	unsigned d = j->depth;

	/* max_depth, but never more than the bit stack holds */
	if (d >= j->max_depth || d >= TS_JSON_DEPTH_LIMIT)
		return fail(j, TS_ERR_JSON_DEPTH);
	if (object)
		j->stack[d / 8] |= (unsigned char)(1u << (d % 8));
	else
		j->stack[d / 8] &= (unsigned char)~(1u << (d % 8));
	j->depth = d + 1;
	bracket(j, object ? TS_JSON_OBJECT_BEGIN : TS_JSON_ARRAY_BEGIN);
	j->state = object ? S_KEY_OR_END : S_VALUE_OR_END;
	return 1;
}

static int
close_container(struct ts_json *j, int object)
{
	j->depth--;
	bracket(j, object ? TS_JSON_OBJECT_END : TS_JSON_ARRAY_END);
	value_done(j);
	return 1;
}

/* A string, number or literal starts at offset pos. */
static void
begin_token(struct ts_json *j, uint64_t pos, int state)
{
	j->tok_start = pos;
	j->tok_escaped = 0;
	j->state = (unsigned char)state;
}

/* The first byte of a value, but for '"' (ts_json_push() takes it). */
static int
value_start(struct ts_json *j, int c)
{
	switch (c) {
	case '{':
		return open_container(j, 1);
	case '[':
		return open_container(j, 0);
	case 't':
	case 'f':
	case 'n':
		begin_token(j, j->pos, S_LIT);
		j->lit = c == 't' ? 0 : c == 'f' ? 1 : 2;
		j->lit_len = 1;
		return 1;
	case '+':
	case '.':
		/* §6: "A leading plus sign is not allowed", nor a bare '.' */
		return fail(j, TS_ERR_JSON_NUMBER);
	default:
		if (c == '-' || ts_is_digit(c)) {
			begin_token(j, j->pos, c == '-' ? S_MINUS :
			    c == '0' ? S_ZERO : S_INT);
			return 1;
		}
		return fail(j, TS_ERR_JSON_SYNTAX);
	}
}

/*
 * A byte that is not part of the number in progress ends it.  The byte
 * is not consumed: it belongs to whatever comes next.
 */
static int
number_end(struct ts_json *j, int c)
{
	if (ts_is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' ||
	    c == '-')
		return fail(j, TS_ERR_JSON_NUMBER);
	j->event = TS_JSON_NUMBER;
	j->tok_end = j->pos;
	value_done(j);
	return 0;
}

/* The closing quote of a string or key at offset pos. */
static inline void
string_end(struct ts_json *j, uint64_t pos)
{
	j->tok_end = pos + 1;
	if (j->is_key) {
		j->event = TS_JSON_KEY;
		j->state = S_COLON;
	} else {
		j->event = TS_JSON_STRING;
		value_done(j);
	}
}

static int
string_byte(struct ts_json *j, int c)
{
	if (c == '"') {
		string_end(j, j->pos);
		return 1;
	}
	if (c == '\\') {
		j->tok_escaped = 1;
		j->state = S_ESC;
		return 1;
	}
	/* §7: "characters that MUST be escaped: ... the control characters" */
	if (c < 0x20)
		return fail(j, TS_ERR_JSON_CONTROL);
	if (c < 0x80)
		return 1;
	/* a lead byte (RFC 3629 §4): 0x80-0xC1 and 0xF5-0xFF start nothing */
	if (ts_utf8_byte(&j->utf8, (unsigned char)c) < 0)
		return fail(j, TS_ERR_JSON_UTF8);
	j->state = S_UTF8;
	return 1;
}

/* One of the four hex digits of \uXXXX, for a first or a low half. */
static int
hex_byte(struct ts_json *j, int c)
{
	int v = ts_hex_value(c), low;

	if (v < 0)
		return fail(j, TS_ERR_JSON_ESCAPE);
	j->hex = j->hex << 4 | (uint32_t)v;
	if (++j->hex_n < 4)
		return 1;
	/* §7: a low half (DC00-DFFF) comes right after a high one, only */
	low = j->hex >= 0xDC00 && j->hex <= 0xDFFF;
	if (low != (j->state == S_LOW_HEX))
		return fail(j, TS_ERR_JSON_SURROGATE);
	/* a high half (D800-DBFF) must be followed by "\u" and a low half */
	j->state = j->hex >= 0xD800 && j->hex <= 0xDBFF ? S_LOW_BS : S_STR;
	j->hex_n = 0;	/* ready for the next \u */
	j->hex = 0;
	return 1;
}

/*
 * One byte in state j->state.  Returns 1 if it was consumed, 0 if not
 * (the byte after a number, or an error, which is then in j->err).
 */
static int
step(struct ts_json *j, int c)
{
	/*
	 * §2: ws = *( %x20 / %x09 / %x0A / %x0D ), before and after every
	 * token; consumed, and remembered for ws_end.
	 */
	if (j->state < S_STR && (c == ' ' || c == '\t' || c == '\n' ||
	    c == '\r')) {
		j->ws_end = j->pos + 1;
		return 1;
	}
	switch (j->state) {
	case S_VALUE:
		return value_start(j, c);
	case S_VALUE_OR_END:
		if (c == ']')
			return close_container(j, 0);
		return value_start(j, c);
	case S_KEY_OR_END:
		/* a key's '"': ts_json_push() */
		if (c == '}')
			return close_container(j, 1);
		break;
	case S_COMMA_OR_END:
		/* ',': ts_json_push() */
		if (c == (top_is_object(j) ? '}' : ']'))
			return close_container(j, top_is_object(j));
		break;
	case S_DONE:
		return fail(j, TS_ERR_JSON_TRAILING);
	case S_STR:
		return string_byte(j, c);
	case S_ESC:
		/* §7: the escapes (strchr would also find the NUL) */
		if (c == 'u')
			j->state = S_HEX;
		else if (c != '\0' && strchr("\"\\/bfnrt", c) != NULL)
			j->state = S_STR;
		else
			return fail(j, TS_ERR_JSON_ESCAPE);
		return 1;
	case S_HEX:
	case S_LOW_HEX:
		return hex_byte(j, c);
	case S_LOW_BS:
	case S_LOW_U:
		/* the "\u" before a low half: S_LOW_U, then S_LOW_HEX */
		if (c != (j->state == S_LOW_BS ? '\\' : 'u'))
			return fail(j, TS_ERR_JSON_SURROGATE);
		j->state++;
		return 1;
	case S_UTF8:
		if (ts_utf8_byte(&j->utf8, (unsigned char)c) < 0)
			return fail(j, TS_ERR_JSON_UTF8);
		if (j->utf8.need == 0)
			j->state = S_STR;
		return 1;
	case S_LIT:
		if (c != literals[j->lit][j->lit_len])
			return fail(j, TS_ERR_JSON_SYNTAX);
		if (literals[j->lit][++j->lit_len] == '\0') {
			j->event = TS_JSON_TRUE + j->lit;
			j->tok_end = j->pos + 1;
			value_done(j);
		}
		return 1;
	case S_MINUS:
		if (!ts_is_digit(c))
			return fail(j, TS_ERR_JSON_NUMBER);
		j->state = c == '0' ? S_ZERO : S_INT;
		return 1;
	case S_ZERO:
		/* §6: "Leading zeros are not allowed." */
		if (ts_is_digit(c))
			return fail(j, TS_ERR_JSON_NUMBER);
		/* FALLTHROUGH */
	case S_INT:
		if (c == '.') {
			j->state = S_DOT;
			return 1;
		}
		/* FALLTHROUGH */
	case S_FRAC:
		/* a digit (S_ZERO's failed above): ts_json_push() */
		if (c == 'e' || c == 'E') {
			j->state = S_EXP;
			return 1;
		}
		return number_end(j, c);
	case S_EXP:
		if (c == '+' || c == '-') {
			j->state = S_EXP_SIGN;
			return 1;
		}
		/* FALLTHROUGH */
	case S_EXP_SIGN:
	case S_DOT:
		/*
		 * §6: frac = decimal-point 1*DIGIT;
		 * exp = e [ minus / plus ] 1*DIGIT
		 */
		if (!ts_is_digit(c))
			return fail(j, TS_ERR_JSON_NUMBER);
		j->state = j->state == S_DOT ? S_FRAC : S_EXP_DIG;
		return 1;
	case S_EXP_DIG:
		/* a digit: ts_json_push() */
		return number_end(j, c);
	}
	/* S_KEY and S_COLON too: ts_json_push() takes '"' and ':' */
	return fail(j, TS_ERR_JSON_SYNTAX);
}

/*
 * Word-at-a-time string scanning.  Eight bytes are read as one 64-bit
 * word, byte k at bits 8k to 8k+7 whatever the host's byte order (the
 * compiler turns the shifts into one load), and every byte that cannot
 * stand for itself in a string gets its top bit set in a mask: each
 * test works on the low seven bits, where adding a constant never
 * carries into the next byte, so the mask is exact byte by byte.
 */
#define LOW7 0x7F7F7F7F7F7F7F7FULL
#define HIGH 0x8080808080808080ULL
#define EACH(b) (0x0101010101010101ULL * (b))

static inline uint64_t
load8(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

/*
 * The top bit of each byte of x that is '"', '\\', below 0x20 or above
 * 0x7F.  For a byte b < 0x80: b + 0x60 reaches 0x80 iff b >= 0x20, and
 * (b ^ c) + 0x7F reaches 0x80 iff b != c; a byte with its own top bit
 * set is a stop whatever the rest says.
 */
static inline uint64_t
stops(uint64_t x)
{
	uint64_t v = x & LOW7;
	uint64_t ctl = v + EACH(0x60);
	uint64_t quote = ((x ^ EACH('"')) & LOW7) + LOW7;
	uint64_t bslash = ((x ^ EACH('\\')) & LOW7) + LOW7;

	return (x | ~(ctl & quote & bslash)) & HIGH;
}

/*
 * The index (0-7) of the lowest byte flagged in a non-zero stops() mask:
 * m & -m keeps the lowest flag, 0x80 << 8k; shifted down it is 1 << 8k,
 * and multiplying by 0x0001020304050607 moves byte 7 - k of that
 * constant, which is k, to the top.
 */
static inline size_t
first_stop(uint64_t m)
{
	return (size_t)((((m & (0 - m)) >> 7) * 0x0001020304050607ULL) >> 56);
}

/*
 * The top bit of each byte of x that is not a digit: its high nibble
 * is not 3 (a multiple of 0x10 that is not zero stays at least 0x80
 * once halved and given 0x7F), or its low nibble is above 9 (adding 6
 * carries into bit 4, which moves to bit 7).  No sum leaves its byte.
 */
static inline uint64_t
non_digits(uint64_t x)
{
	uint64_t hi = (x ^ EACH(0x30)) & EACH(0xF0);
	uint64_t lo = (x & EACH(0x0F)) + EACH(0x06);

	return ((((hi >> 1) + LOW7) & HIGH) | ((lo & EACH(0x10)) << 3));
}

/* What skip_run() skips: bytes that stand for themselves in a string, or
 * digits. */
enum { RUN_PLAIN, RUN_DIGITS };

#if defined(TS_JSON_SSE2)
/*
 * The stop bytes among sixteen, one bit each, with SSE2 (every x86-64).
 * Signed compares: a byte above 0x7F is negative as int8, so "below
 * 0x20" flags it too, and "above '0' - 1" does not.
 */
static inline unsigned
stops16(__m128i x, int kind)
{
	__m128i stop;

	if (kind == RUN_DIGITS)
		stop = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8('0')),
		    _mm_cmpgt_epi8(x, _mm_set1_epi8('9')));
	else
		stop = _mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
		    _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
		    _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
	return (unsigned)_mm_movemask_epi8(stop);
}
#endif

/*
 * Skip the bytes of the kind from p[i]: sixteen at a time where the
 * target has SSE2, then eight at a time in portable C, then one by one.
 * Inlined with a constant kind, so each caller gets its own loops.
 */
static inline size_t
skip_run(const unsigned char *p, size_t i, size_t len, int kind)
{
#if defined(TS_JSON_SSE2)
	while (len - i >= 16) {
		unsigned m = stops16(_mm_loadu_si128((const __m128i *)
		    (const void *)(p + i)), kind);

		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
		i += 16;
	}
#endif
	while (len - i >= 8) {
		uint64_t x = load8(p + i);
		uint64_t m = kind == RUN_DIGITS ? non_digits(x) : stops(x);

		if (m != 0)
			return i + first_stop(m);
		i += 8;
	}
	/* the last bytes: stops() of one byte flags byte 0 as above */
	while (i < len && (kind == RUN_DIGITS ? ts_is_digit(p[i]) :
	    (stops(p[i]) & 0x80) == 0))
		i++;
	return i;
}

/*
 * Whether the pending event stops the push: a token deeper than
 * max_level is read but not reported, so its event is dropped here.  An
 * opening bracket has already been counted in depth.
 */
static inline int
reported(struct ts_json *j)
{
	unsigned level = j->depth;

	if (j->event == TS_JSON_OBJECT_BEGIN || j->event == TS_JSON_ARRAY_BEGIN)
		level--;
	if (level <= j->max_level)
		return 1;
	j->event = 0;
	return 0;
}

size_t
ts_json_push(struct ts_json *j, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t base = j->pos;
	size_t i = 0, k;

	if (j->err != 0 || j->event != 0 || j->finished)
		return 0;
	while (i < len) {
		/*
		 * Shortcuts for the common bytes of minified JSON, each doing
		 * exactly what step() would, and runs that need no state
		 * change skipped in tight loops: plain string bytes, whole
		 * UTF-8 characters, digits.  Every other byte, and the byte
		 * that stops a run, goes through step().
		 */
		switch (j->state) {
		case S_STR:
			i = skip_run(p, i, len, RUN_PLAIN);
			if (i == len)
				goto done;
			if (p[i] == '"') {
				string_end(j, base + i);
				i++;
				if (reported(j))
					goto done;
				continue;
			}
			if (p[i] >= 0x80) {
				k = ts_utf8_char(p + i, len - i);
				if (k > 0) {
					i += k;
					continue;
				}
			}
			break;
		case S_INT:
		case S_FRAC:
		case S_EXP_DIG:
			i = skip_run(p, i, len, RUN_DIGITS);
			if (i == len)
				goto done;
			if (p[i] == ',' || p[i] == '}' || p[i] == ']') {
				/* the byte after a number: not consumed */
				j->event = TS_JSON_NUMBER;
				j->tok_end = base + i;
				value_done(j);
				if (reported(j))
					goto done;
				continue;
			}
			break;
		case S_COLON:
			/* ':', then the next byte as in S_VALUE (minified) */
			if (p[i] != ':')
				break;
			j->state = S_VALUE;
			if (++i == len)
				continue;
			/* FALLTHROUGH */
		case S_VALUE:
		case S_VALUE_OR_END:
			if (p[i] >= '1' && p[i] <= '9') {
				begin_token(j, base + i, S_INT);
				i++;
				continue;
			}
			if (p[i] == '"') {
				j->is_key = 0;
				begin_token(j, base + i, S_STR);
				i++;
				continue;
			}
			break;
		case S_COMMA_OR_END:
			/* ',', then the next byte as in S_KEY or S_VALUE */
			if (p[i] != ',')
				break;
			j->state = top_is_object(j) ? S_KEY : S_VALUE;
			if (++i == len || j->state == S_VALUE)
				continue;
			/* FALLTHROUGH */
		case S_KEY:
		case S_KEY_OR_END:
			if (p[i] == '"') {
				j->is_key = 1;
				begin_token(j, base + i, S_STR);
				i++;
				continue;
			}
			break;
		default:
			break;
		}
		if (i == len)
			break;
		j->pos = base + i;
		if (step(j, p[i]))
			i++;
		if (j->err != 0)
			break;
		if (j->event != 0 && reported(j))
			break;
	}
done:
	j->pos = base + i;
	return i;
}

int
ts_json_in_string(const struct ts_json *j)
{
	return j->state == S_ESC ? 2 : j->state >= S_STR && j->state <= S_UTF8;
}

int
ts_json_partial(const struct ts_json *j)
{
	/* after an error too: the token it cut short began at tok_start */
	return j->state >= S_STR;
}

int
ts_json_finish(struct ts_json *j)
{
	if (j->err != 0 || j->finished)
		return j->err;
	j->finished = 1;
	if (j->depth == 0 && (j->state == S_ZERO || j->state == S_INT ||
	    j->state == S_FRAC || j->state == S_EXP_DIG))
		number_end(j, ' ');	/* depth 0: the state becomes S_DONE */
	if (j->state != S_DONE)
		j->err = TS_ERR_JSON_TRUNCATED;
	return j->err;
}

static uint32_t
hex4(const unsigned char *p)
{
	uint32_t v = 0;
	int k;

	for (k = 0; k < 4; k++)
		v = v << 4 | (uint32_t)ts_hex_value(p[k]);
	return v;
}

/* The code point at s[i] (just after "\u"), its pair's low half with it. */
static uint32_t
code_point(const unsigned char *s, size_t n, size_t *i)
{
	uint32_t c = hex4(s + *i);

	*i += 4;
	if (c >= 0xD800 && c <= 0xDBFF && *i + 6 <= n) {
		c = 0x10000 + ((c - 0xD800) << 10) +
		    (hex4(s + *i + 2) - 0xDC00);
		*i += 6;
	}
	return c;
}

/* Code point c in UTF-8 (RFC 3629 §3): the lead byte, then six bits a byte. */
static size_t
utf8_put(uint32_t c, unsigned char *u)
{
	static const unsigned char lead[5] = {0, 0, 0xC0, 0xE0, 0xF0};
	size_t n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4, k;

	for (k = n - 1; k > 0; k--) {
		u[k] = (unsigned char)(0x80 | (c & 0x3F));
		c >>= 6;
	}
	u[0] = (unsigned char)(lead[n] | c);
	return n;
}

long
ts_json_unescape(const char *src, size_t n, char *out, size_t cap)
{
	static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
	const unsigned char *s = (const unsigned char *)src;
	unsigned char u[4];
	size_t i = 0, o = 0, k;

	while (i < n) {
		u[0] = s[i++];
		k = 1;
		if (u[0] == '\\' && i < n) {
			const char *e = strchr(from, s[i]);

			if (s[i] == 'u') {
				i++;
				k = i + 4 <= n ?
				    utf8_put(code_point(s, n, &i), u) : 0;
			} else {
				u[0] = e != NULL && s[i] != '\0' ?
				    to[e - from] : s[i];
				i++;
			}
		}
		if (k > cap - o)
			return -1;
		memcpy(out + o, u, k);
		o += k;
	}
	return (long)o;
}
