/* test_base: the shared helpers of src/base.h, known answers. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base.h"
#include "test.h"

static void
ascii(void)
{
	int c, n = 0;

	for (c = 0; c < 256; c++)
		n += ts_hex_value(c) >= 0;
	CHECK_INT(n, 22);
	CHECK_INT(ts_hex_value('0'), 0);
	CHECK_INT(ts_hex_value('9'), 9);
	CHECK_INT(ts_hex_value('a'), 10);
	CHECK_INT(ts_hex_value('F'), 15);
	CHECK_INT(ts_hex_value('g'), -1);
	CHECK_INT(ts_hex_value('/'), -1);
	CHECK_INT(ts_lower('Q'), 'q');
	CHECK_INT(ts_lower('['), '[');
	CHECK_INT(ts_lower(0xC9), 0xC9);	/* no locale */
	CHECK_INT(ts_is_alpha('@') + ts_is_alpha('[') + ts_is_alpha('`') +
	    ts_is_alpha('{'), 0);
	CHECK_INT(ts_iequal("Content-LENGTH", 14, "content-length"), 1);
	CHECK_INT(ts_iequal("content-lengt", 13, "content-length"), 0);
	CHECK_INT(ts_iequal("content-lengthx", 15, "content-length"), 0);
}

/* RFC 9110 §5.6.1: empty elements and OWS around them. */
static void
token_lists(void)
{
	const char *e;
	size_t pos = 0, len, k = 0;
	const char *v = " a ,, \tb c\t,";
	static const char *const want[] = {"a", "", "b c", ""};

	while (ts_list_next(v, strlen(v), &pos, &e, &len)) {
		CHECK(k < 4);
		CHECK_MEM(e, len, want[k]);
		k++;
	}
	CHECK_INT(k, 4);
	CHECK_INT(ts_list_has("keep-alive, Upgrade", 19, "upgrade"), 1);
	CHECK_INT(ts_list_has("UPGRADE", 7, "upgrade"), 1);
	CHECK_INT(ts_list_has(" ,\t,upgrade\t, ", 14, "upgrade"), 1);
	CHECK_INT(ts_list_has("keep-alive", 10, "upgrade"), 0);
	CHECK_INT(ts_list_has("upgrades", 8, "upgrade"), 0);
	CHECK_INT(ts_list_has("upgrad", 6, "upgrade"), 0);
	CHECK_INT(ts_list_has("up grade", 8, "upgrade"), 0);
	CHECK_INT(ts_list_has("", 0, "upgrade"), 0);
	CHECK_INT(ts_list_has(",,", 2, ""), 0);
	/* n bounds the list, not a NUL */
	CHECK_INT(ts_list_has("upgradeX", 7, "upgrade"), 1);
}

/* Bytes of s accepted by ts_utf8_run, whole and byte by byte. */
static size_t
utf8_ok(const char *s, size_t n, int bytewise)
{
	struct ts_utf8 u = {0, 0, 0};
	size_t i, k;

	if (!bytewise)
		return ts_utf8_run(&u, (const unsigned char *)s, n);
	for (i = 0; i < n; i++) {
		k = ts_utf8_run(&u, (const unsigned char *)s + i, 1);
		if (k == 0)
			return i;
	}
	return n;
}

/* Unicode Table 3-7's edges, and the ASCII fast path around them. */
static void
utf8(void)
{
	static const struct {
		const char *s;
		size_t ok;	/* bytes accepted */
		size_t chr;	/* ts_utf8_char of the first byte */
	} v[] = {
		{"\xc2\x80", 2, 2}, {"\xdf\xbf", 2, 2}, {"\xc1\xbf", 0, 0},
		{"\xe0\xa0\x80", 3, 3}, {"\xe0\x9f\xbf", 1, 0},
		{"\xed\x9f\xbf", 3, 3}, {"\xed\xa0\x80", 1, 0},
		{"\xef\xbf\xbf", 3, 3}, {"\xf0\x90\x80\x80", 4, 4},
		{"\xf0\x8f\xbf\xbf", 1, 0}, {"\xf4\x8f\xbf\xbf", 4, 4},
		{"\xf4\x90\x80\x80", 1, 0}, {"\xf5\x80\x80\x80", 0, 0},
		{"\x80", 0, 0}, {"\xff", 0, 0}, {"\xe2\x82", 2, 0},
		{"a", 1, 0},
		{"0123456789abcdef0123456789abcdef0123\xc3\xa9xyz", 41, 0},
		{"0123456789abcdef0123456789abcdef0123456\xff", 39, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].s);

		CHECK_INT(utf8_ok(v[i].s, n, 0), v[i].ok);
		CHECK_INT(utf8_ok(v[i].s, n, 1), v[i].ok);
		CHECK_INT(ts_utf8_char((const unsigned char *)v[i].s, n),
		    v[i].chr);
	}
	/* a character cut short is not whole */
	CHECK_INT(ts_utf8_char((const unsigned char *)"\xe2\x82\xac", 2), 0);
}

/* Every day from year -1000 to 3000 round-trips; known answers. */
static void
civil(void)
{
	int64_t z, y;
	unsigned m, d, md;

	CHECK_INT(ts_days_from_civil(1970, 1, 1), 0);
	CHECK_INT(ts_days_from_civil(2000, 3, 1), 11017);
	CHECK_INT(ts_days_from_civil(1969, 12, 31), -1);
	CHECK_INT(ts_month_days(2000, 2), 29);
	CHECK_INT(ts_month_days(1900, 2), 28);
	CHECK_INT(ts_month_days(2024, 2), 29);
	CHECK_INT(ts_month_days(2026, 4), 30);
	for (z = ts_days_from_civil(-1000, 1, 1);
	    z < ts_days_from_civil(3000, 1, 1); z++) {
		ts_civil_from_days(z, &y, &m, &d);
		md = ts_month_days(y, m);
		if (m < 1 || m > 12 || d < 1 || d > md ||
		    ts_days_from_civil(y, m, d) != z) {
			CHECK_INT(z, -999999999);
		}
	}
}

/* FNV-1a 64 test vectors (Fowler, Noll, Vo), and pieces. */
static void
fnv(void)
{
	CHECK(ts_fnv(TS_FNV_BASIS, "", 0) == 0xcbf29ce484222325ULL);
	CHECK(ts_fnv(TS_FNV_BASIS, "a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(ts_fnv(TS_FNV_BASIS, "foobar", 6) == 0x85944171f73967e8ULL);
	CHECK(ts_fnv(ts_fnv(TS_FNV_BASIS, "foo", 3), "bar", 3) ==
	    0x85944171f73967e8ULL);
}

static const struct test_case cases[] = {
	TEST(ascii),
	TEST(token_lists),
	TEST(utf8),
	TEST(civil),
	TEST(fnv),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
