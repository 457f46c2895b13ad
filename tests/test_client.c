/*
 * test_client: ts_client_new's checks of a struct ts_config (issue 13
 * item 13): numbers that would overflow a conversion or ask for absurd
 * memory are TS_ERR_CLIENT_CONFIG with words, 0 still means the
 * default, and a good configuration makes a client (nothing is sent
 * before the first step).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tsino.h"
#include "test.h"

static int
on_round(void *arg, const struct ts_round_info *r)
{
	(void)arg;
	(void)r;
	return 0;
}

static void
base(struct ts_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->api = "ws://127.0.0.1:9/v1-beta";
	cfg->key = "test-key";
	cfg->on_round = on_round;
}

/* ts_client_new's result for cfg; a client made is freed at once. */
static int
make(const struct ts_config *cfg, char *why, size_t whylen)
{
	struct ts_client *c = NULL;
	int rc;

	why[0] = '\0';
	rc = ts_client_new(&c, cfg, why, whylen);
	if (rc == 0)
		ts_client_free(c);
	else if (c != NULL)
		return 1;	/* *out must be NULL on failure */
	return rc;
}

static void
defaults_and_good_values(void)
{
	struct ts_config cfg;
	char why[256];

	base(&cfg);
	CHECK_INT(make(&cfg, why, sizeof(why)), 0);
	cfg.heartbeat = 0.5;
	cfg.connect_timeout = 86400;
	cfg.max_message = (size_t)1 << 20;
	cfg.max_held = 1000000;
	cfg.max_page = 4096;
	CHECK_INT(make(&cfg, why, sizeof(why)), 0);
}

static void
bad_numbers(void)
{
	struct ts_config cfg;
	char why[256];
	double bad_s[] = { -1, -0.001, 86400.5, 1e300, 0, 0 };
	size_t i;

	bad_s[4] = INFINITY;
	bad_s[5] = NAN;
	for (i = 0; i < sizeof(bad_s) / sizeof(bad_s[0]); i++) {
		base(&cfg);
		cfg.heartbeat = bad_s[i];
		CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
		CHECK(strstr(why, "heartbeat") != NULL);
		base(&cfg);
		cfg.connect_timeout = bad_s[i];
		CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
		CHECK(strstr(why, "connect_timeout") != NULL);
	}
	base(&cfg);
	cfg.max_message = ((size_t)1 << 30) + 1;
	CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
	CHECK(strstr(why, "max_message") != NULL);
	cfg.max_message = (size_t)4 << 30;
	CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
	base(&cfg);
	cfg.max_held = 1000001;
	CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
	CHECK(strstr(why, "max_held") != NULL);
	base(&cfg);
	cfg.max_page = 4095;
	CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
	CHECK(strstr(why, "max_page") != NULL);
	cfg.max_page = ((size_t)1 << 30) + 1;
	CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
}

static void
incomplete(void)
{
	struct ts_config cfg;
	char why[256];

	base(&cfg);
	cfg.key = NULL;
	CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
	base(&cfg);
	cfg.mode = TS_MODE_ROUNDS;
	CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_CONFIG);
}

/* A key the request cannot carry is refused at once, the limit said
 * (issue 13 item 11); one that fits is taken. */
static void
long_key(void)
{
	static char key[5000];
	struct ts_config cfg;
	char why[256];
	size_t n;

	for (n = 3000; n <= 4500; n += 1500) {
		memset(key, 'a', n);
		key[n] = '\0';
		base(&cfg);
		cfg.key = key;
		if (n == 3000) {
			CHECK_INT(make(&cfg, why, sizeof(why)), 0);
			continue;
		}
		CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_AUTH);
		CHECK(strstr(why, "too long") != NULL);
		CHECK(strstr(why, "at most") != NULL);
		CHECK(strstr(why, "aaaa") == NULL);	/* never the key */
		cfg.mode = TS_MODE_ROUNDS;
		cfg.game = "stake-crash";
		CHECK_INT(make(&cfg, why, sizeof(why)), TS_ERR_CLIENT_AUTH);
	}
}

static const struct test_case cases[] = {
	TEST(defaults_and_good_values),
	TEST(bad_numbers),
	TEST(incomplete),
	TEST(long_key),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
