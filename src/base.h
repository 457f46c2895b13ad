/*
 * base: what the cores share, defined once: ASCII classes (by hand: no
 * locale, no <ctype.h>), hex digits, comma-separated token lists (RFC
 * 9110 §5.6.1), one UTF-8 validator (RFC 3629 §4) with one fast path,
 * civil dates (RFC 3339 and HTTP-dates), and FNV-1a.  Pure: no I/O, no
 * allocation, no globals.
 */
#ifndef TS_BASE_H
#define TS_BASE_H

#include <stddef.h>
#include <stdint.h>

static inline int
ts_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int
ts_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
ts_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The value of a hex digit (either case), or -1. */
int
ts_hex_value(int c);

/* s (n bytes) equals the NUL-terminated lowercase word, in any case. */
int
ts_iequal(const char *s, size_t n, const char *word);

/* v[0..*n) without SP and HTAB at either end. */
const char *
ts_trim(const char *v, size_t *n);

/*
 * The next element of the comma-separated list v[0..n) from *pos,
 * trimmed, in *elem and *len (possibly empty); *pos moves past its
 * comma.  Returns 0 when the list is used up.
 */
int
ts_list_next(const char *v, size_t n, size_t *pos, const char **elem,
    size_t *len);

/* Whether the list v[0..n) holds the lowercase token, in any case. */
int
ts_list_has(const char *v, size_t n, const char *token);

/*
 * UTF-8, incrementally: need is the number of continuation bytes still
 * due and [lo, hi] the range of the next one.  The ranges exclude
 * overlong forms (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF)
 * and code points above U+10FFFF (F4 90-BF, F5-FF), so a bad sequence
 * fails at its first impossible byte.  Zeroed: between characters.
 */
struct ts_utf8 {
	unsigned char need, lo, hi;
};

/* Take one byte: 0 if valid text can still follow, -1 if not. */
int
ts_utf8_byte(struct ts_utf8 *u, unsigned char b);

/*
 * How many leading bytes of p[0..n) are acceptable (n if all are).  The
 * fast path: between characters, runs of ASCII are skipped a word at a
 * time; every other byte goes through ts_utf8_byte(), so the check stops
 * at the same byte whatever the split.
 */
size_t
ts_utf8_run(struct ts_utf8 *u, const unsigned char *p, size_t n);

/* The length of the whole, valid non-ASCII character at p[0..n), or 0. */
size_t
ts_utf8_char(const unsigned char *p, size_t n);

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1-12). */
int64_t
ts_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of a day count (the inverse). */
void
ts_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* Days in month m (1-12) of year y. */
unsigned
ts_month_days(int64_t y, unsigned m);

/* FNV-1a, 64 bits: start from TS_FNV_BASIS, feed bytes in any pieces. */
#define TS_FNV_BASIS 0xcbf29ce484222325ULL

uint64_t
ts_fnv(uint64_t h, const void *p, size_t n);

#endif /* TS_BASE_H */
