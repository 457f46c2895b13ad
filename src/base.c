/*
 * base: the shared helpers (base.h).  Each of these exists here only:
 * the cores call these instead of keeping copies.
 */
#include <string.h>

#include "base.h"

int
ts_hex_value(int c)
{
	if (ts_is_digit(c))
		return c - '0';
	c = ts_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
ts_iequal(const char *s, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || ts_lower((unsigned char)s[i]) != word[i])
			return 0;
	return word[n] == '\0';
}

const char *
ts_trim(const char *v, size_t *n)
{
	while (*n > 0 && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		(*n)--;
	}
	while (*n > 0 && (v[*n - 1] == ' ' || v[*n - 1] == '\t'))
		(*n)--;
	return v;
}

int
ts_list_next(const char *v, size_t n, size_t *pos, const char **elem,
    size_t *len)
{
	size_t i = *pos;

	if (i > n)
		return 0;
	while (i < n && v[i] != ',')
		i++;
	*len = i - *pos;
	*elem = ts_trim(v + *pos, len);
	*pos = i + 1;
	return 1;
}

int
ts_list_has(const char *v, size_t n, const char *token)
{
	const char *e;
	size_t pos = 0, len;

	while (ts_list_next(v, n, &pos, &e, &len))
		if (len > 0 && ts_iequal(e, len, token))
			return 1;
	return 0;
}

int
ts_utf8_byte(struct ts_utf8 *u, unsigned char b)
{
	if (u->need > 0) {
		if (b < u->lo || b > u->hi)
			return -1;
		u->need--;
		u->lo = 0x80;
		u->hi = 0xBF;
		return 0;
	}
	if (b < 0x80)
		return 0;
	if (b < 0xC2 || b > 0xF4)
		return -1;	/* 0x80-0xC1 and 0xF5-0xFF start nothing */
	u->need = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
	/* The second byte's range: E0, ED, F0 and F4 narrow it. */
	u->lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
	u->hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
	return 0;
}

#define HIGH_BITS 0x8080808080808080ULL

/*
 * How many leading bytes of p[0..n) are ASCII.  Words are loaded with
 * memcpy (p need not be aligned; compilers make it one load) and tested
 * against the high bit of each byte: 32 bytes per test, then 8, then
 * the last few one by one.
 */
static size_t
ascii_run(const unsigned char *p, size_t n)
{
	uint64_t a, b, c, d;
	size_t i = 0;

	while (n - i >= 32) {
		memcpy(&a, p + i, 8);
		memcpy(&b, p + i + 8, 8);
		memcpy(&c, p + i + 16, 8);
		memcpy(&d, p + i + 24, 8);
		if ((a | b | c | d) & HIGH_BITS)
			break;
		i += 32;
	}
	while (n - i >= 8) {
		memcpy(&a, p + i, 8);
		if (a & HIGH_BITS)
			break;
		i += 8;
	}
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

size_t
ts_utf8_run(struct ts_utf8 *u, const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (u->need == 0) {
			i += ascii_run(p + i, n - i);
			if (i == n)
				break;
		}
		if (ts_utf8_byte(u, p[i]) < 0)
			break;
		i++;
	}
	return i;
}

size_t
ts_utf8_char(const unsigned char *p, size_t n)
{
	struct ts_utf8 u = {0, 0, 0};
	size_t k;

	/* A lead byte, then the continuation bytes it says are due. */
	if (n == 0 || p[0] < 0x80 || ts_utf8_byte(&u, p[0]) < 0 || u.need >= n)
		return 0;
	for (k = 1; u.need > 0; k++)
		if (ts_utf8_byte(&u, p[k]) < 0)
			return 0;
	return k;
}

/*
 * Howard Hinnant's days_from_civil and civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html): eras of 400
 * years, March-based years so that the leap day comes last.
 */
int64_t
ts_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void
ts_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

unsigned
ts_month_days(int64_t y, unsigned m)
{
	static const unsigned char days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);

	return days[m - 1] + (m == 2 && leap);
}

uint64_t
ts_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
