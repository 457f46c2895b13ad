/* test_error: every code has its own words, and unknown codes say so. */
#include <stdio.h>
#include <string.h>

#include "tsino.h"
#include "test.h"

static const int codes[] = {
	TS_ERR_URL_SCHEME, TS_ERR_URL_VALUE, TS_ERR_NET_RESOLVE,
	TS_ERR_NET_CLOSED, TS_ERR_TLS_EXPIRED, TS_ERR_TLS_TRUNCATED,
	TS_ERR_TLS_CERT_ALGORITHM, TS_ERR_TLS_TRUST_STORE_SIZE,
	TS_ERR_HTTP_STATUS_LINE, TS_ERR_HTTP_TRAILING, TS_ERR_WS_STATUS,
	TS_ERR_WS_BUF_TOO_SMALL, TS_ERR_JSON_SYNTAX, TS_ERR_JSON_TRUNCATED,
	TS_ERR_ROUND_NOT_OBJECT, TS_ERR_CLIENT_AUTH, TS_ERR_NOMEM,
};

static void
known_codes_have_words(void)
{
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		CHECK(strcmp(ts_strerror(codes[i]), "unknown error") != 0);
}

static void
unknown_code(void)
{
	CHECK_STR(ts_strerror(-99999), "unknown error");
	CHECK_STR(ts_strerror(42), "unknown error");
	CHECK_STR(ts_strerror(TS_OK), "success");
}

static void
words_are_distinct(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (j = i + 1; j < sizeof(codes) / sizeof(codes[0]); j++)
			CHECK(strcmp(ts_strerror(codes[i]),
			    ts_strerror(codes[j])) != 0);
}

static const struct test_case cases[] = {
	TEST(known_codes_have_words),
	TEST(unknown_code),
	TEST(words_are_distinct),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
