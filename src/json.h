/*
 * json: a streaming tokenizer for strict RFC 8259 JSON.  A pure byte
 * machine: the caller owns the context, pushes any chunks, and pulls
 * one event per token.  Tokens are reported as absolute byte offsets
 * into the whole input stream, never copied; nothing is buffered, so
 * the context has a fixed size whatever the input (the nesting is a bit
 * stack inside it).  Errors are the TS_ERR_JSON_* codes of
 * include/tsino.h.
 */
#ifndef TS_JSON_H
#define TS_JSON_H

#include "base.h"	/* struct ts_utf8; <stddef.h> and <stdint.h> */

/* Default for the max_depth field: containers nested deeper fail. */
#define TS_JSON_DEPTH_DEFAULT 64
/* Deepest nesting the bit stack can hold; max_depth is capped to it. */
#define TS_JSON_DEPTH_LIMIT 1024
/* Default for the max_level field: every token is reported. */
#define TS_JSON_LEVEL_ALL 0xFFFFFFFFu

/*
 * Events from ts_json_event(); the values are fixed, 1 to 10 in this
 * order (tests rely on it, and json.c on TRUE, FALSE, NULL in a row).
 */
enum ts_json_ev {
	TS_JSON_OBJECT_BEGIN = 1, TS_JSON_OBJECT_END,	/* '{' '}' */
	TS_JSON_ARRAY_BEGIN, TS_JSON_ARRAY_END,		/* '[' ']' */
	TS_JSON_KEY,		/* a string in member-name position */
	TS_JSON_STRING,		/* a string value */
	TS_JSON_NUMBER, TS_JSON_TRUE, TS_JSON_FALSE, TS_JSON_NULL
};

struct ts_json {
	/*
	 * Limit, set by ts_json_init(): the deepest nesting of arrays and
	 * objects accepted (the top-level container is depth 1).  The
	 * caller may change it before the first push; values above
	 * TS_JSON_DEPTH_LIMIT act as TS_JSON_DEPTH_LIMIT.
	 */
	unsigned max_depth;

	/*
	 * Which tokens get an event: those whose level is at most
	 * max_level, where a token's level is the number of containers
	 * around it (a bracket belongs to the level of the container it
	 * opens or closes: the top-level '{' and '}' are level 0, that
	 * object's members level 1).  Deeper tokens are still read and
	 * checked byte for byte (errors and offsets are unchanged); they
	 * only do not stop ts_json_push().  ts_json_init() sets
	 * TS_JSON_LEVEL_ALL; the caller may change it between pushes, to
	 * read through a value it only needs to copy.
	 */
	unsigned max_level;

	/*
	 * The offset just past the last whitespace byte read between
	 * tokens (0 if none yet): a span [a, b) of consumed input is
	 * already minified (holds no byte that a minifier would drop) if
	 * ws_end <= a.
	 */
	uint64_t ws_end;

	/*
	 * The token of the last event, as absolute offsets into the input
	 * stream (byte 0 is the first byte ever pushed since init): the
	 * token is bytes [tok_start, tok_end).  Strings and keys include
	 * their quotes; numbers and literals are their text; brackets are
	 * one byte.  tok_escaped is 1 if the string or key held at least
	 * one backslash escape, else 0.  While a string, number or literal
	 * is still incomplete (ts_json_partial() says 1), tok_start is
	 * already its first byte.
	 */
	uint64_t tok_start, tok_end;
	int tok_escaped;

	/* The rest is private to json.c. */
	uint64_t pos;		/* offset of the next byte to consume */
	int err;		/* sticky error, 0 if none */
	int event;		/* pending event, 0 if none */
	int finished;		/* ts_json_finish() was called */
	unsigned depth;		/* open containers */
	unsigned char state;	/* what the next byte may be */
	unsigned char is_key;	/* the string in progress is a key */
	unsigned char lit, lit_len;	/* literal: which one, bytes matched */
	struct ts_utf8 utf8;	/* the character in progress */
	unsigned char hex_n;	/* \u hex digits read so far */
	uint32_t hex;		/* their value */
	unsigned char stack[TS_JSON_DEPTH_LIMIT / 8];	/* 1 = object */
};

/*
 * ts_json_init: make *j ready for a new JSON text: no input seen,
 * offsets from 0, max_depth = TS_JSON_DEPTH_DEFAULT, max_level =
 * TS_JSON_LEVEL_ALL.  Calling it again resets the tokenizer for the next
 * message (set the limits again if they are not the defaults).  *j holds
 * no pointers; it may be copied.
 */
void
ts_json_init(struct ts_json *j);

/*
 * ts_json_push: tokenize up to len bytes at data.  Consumes input only up
 * to and including the byte that completes the next reported token (see
 * max_level), then stops,
 * so that the event's token ends within the bytes just consumed (a
 * number ends at the byte after it, which is left unconsumed and read
 * again by the next push).  Returns the number of bytes consumed; 0 if
 * an event is still pending (drain it with ts_json_event() first), after
 * an error, or after ts_json_finish().  The caller keeps ownership of
 * data; nothing points into it after the call.  Every byte is examined
 * a bounded number of times whatever the chunking; the events and
 * offsets do not depend on how the input is split.
 */
size_t
ts_json_push(struct ts_json *j, const void *data, size_t len);

/*
 * ts_json_event: the pending event and clear it.  Returns 0 if the
 * tokenizer needs more input, an enum ts_json_ev value (the token is in
 * tok_start, tok_end, tok_escaped until the next push), or a negative
 * TS_ERR_JSON_* code.  Errors are sticky: every later call returns the
 * first one.  The codes: _SYNTAX (a byte the grammar does not allow
 * here, including a leading byte order mark), _NUMBER (a malformed
 * number: leading zero, '+', no digit after '-', '.', or 'e'), _CONTROL
 * (a raw byte below 0x20 in a string), _UTF8 (invalid UTF-8 in a
 * string: a stray continuation byte, an overlong form, a surrogate, a
 * value above U+10FFFF, a sequence cut short; outside strings any byte
 * above 0x7F is _SYNTAX), _ESCAPE (an unknown escape or a bad hex
 * digit), _SURROGATE (a \u escape of a lone or mis-ordered UTF-16
 * surrogate), _DEPTH (nesting beyond max_depth), _TRAILING (anything but
 * whitespace after the top-level value), _TRUNCATED (from
 * ts_json_finish()).
 */
static inline int
ts_json_event(struct ts_json *j)
{
	/* inline: the round reader calls it once per token */
	int ev = j->event;

	if (j->err != 0)
		return j->err;
	j->event = 0;
	return ev;
}

/*
 * ts_json_partial: 1 if a string, number or literal has begun and not
 * yet ended (its first byte is at tok_start), else 0.  After an error it
 * tells whether the error cut such a token short.
 */
int
ts_json_partial(const struct ts_json *j);

/*
 * ts_json_in_string: where the last consumed byte left the input, for a
 * caller that copies consumed bytes and must tell a string's bytes from
 * the whitespace between tokens: 0 between tokens (or inside a number
 * or literal), 1 inside a string, 2 inside a string just after a
 * backslash (the next byte is escaped, even if it is '"').
 */
int
ts_json_in_string(const struct ts_json *j);

/*
 * ts_json_depth: the number of containers open after the last consumed
 * byte (0 at top level).
 */
static inline unsigned
ts_json_depth(const struct ts_json *j)
{
	return j->depth;
}

/*
 * ts_json_finish: the input has ended.  Completes a top-level number
 * (its NUMBER event is then pending: drain it with ts_json_event()).
 * Returns 0 if the input was exactly one JSON value with optional
 * whitespace around it, TS_ERR_JSON_TRUNCATED if it stopped early
 * (including empty input), or the sticky error.  Later pushes consume
 * nothing.
 */
int
ts_json_finish(struct ts_json *j);

/*
 * ts_json_unescape: the n bytes at s, the inside of a string the
 * tokenizer accepted (so every escape is whole and every surrogate
 * paired), with its escapes resolved, into out (cap bytes).  Returns the
 * length, or -1 if it does not fit.  \\uXXXX becomes UTF-8; other bytes
 * are copied.  Two strings decode alike exactly when RFC 8259 says they
 * are the same string.
 */
long
ts_json_unescape(const char *s, size_t n, char *out, size_t cap);

#endif /* TS_JSON_H */
