/*
 * test_client: ts_client_new's checks of a struct ts_config (issue 13
 * item 13): numbers that would overflow a conversion or ask for absurd
 * memory are TS_ERR_CLIENT_CONFIG with words, 0 still means the
 * default, and a good configuration makes a client (nothing is sent
 * before the first step); and the key's copies (issue 13 item 9): the
 * exchange's request buffer once the request is on its way, ts_wipe.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tsino.h"
#include "exchange.h"
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

/* Does buf (n bytes) hold the string s anywhere? */
static int
holds(const char *buf, size_t n, const char *s)
{
	size_t k = strlen(s), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(buf + i, s, k) == 0)
			return 1;
	return 0;
}

static int
no_head(void *arg, struct ts_exchange *x)
{
	(void)arg;
	(void)x;
	return 0;
}

static const struct ts_exchange_role quiet_role = {
	no_head, NULL, NULL, NULL, NULL, NULL
};

/* Once the request has gone to the server, no copy of the key is left
 * in the exchange's request buffer (nor after the exchange is closed). */
static void
request_wiped(void)
{
	static struct ts_exchange x;
	static struct ts_conn conn;
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct pollfd pfd[8];
	struct ts_url u;
	char url[64], got[4096];
	size_t have = 0;
	ssize_t r;
	int lfd, sfd = -1, n;
	int64_t t0;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(lfd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(listen(lfd, 1) == 0);
	CHECK(getsockname(lfd, (struct sockaddr *)&sa, &salen) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x",
	    (unsigned)ntohs(sa.sin_port));
	CHECK_INT(ts_url_parse(&u, url, strlen(url)), 0);
	ts_exchange_init(&x, "test", &conn, NULL, &quiet_role, NULL);
	CHECK_INT(ts_exchange_start(&x, &u, "SECRET-KEY-9f2c", 200, 5000, 0),
	    0);
	for (t0 = ts_net_now(); ts_net_now() - t0 < TEST_MS(5000) &&
	    (have < 4 || memcmp(got + have - 4, "\r\n\r\n", 4) != 0);) {
		n = ts_exchange_pollfds(&x, pfd, 8);
		poll(pfd, (nfds_t)n, 10);
		CHECK_INT(ts_exchange_step(&x, pfd, n, ts_net_now()), 0);
		if (sfd < 0)
			sfd = accept(lfd, NULL, NULL);
		if (sfd >= 0) {
			fcntl(sfd, F_SETFL, O_NONBLOCK);
			r = read(sfd, got + have, sizeof(got) - 1 - have);
			if (r > 0)
				have += (size_t)r;
		}
	}
	got[have] = '\0';
	CHECK(strstr(got, "Authorization: Bearer SECRET-KEY-9f2c") != NULL);
	CHECK(!holds(x.req, sizeof(x.req), "SECRET-KEY"));
	ts_exchange_close(&x);
	CHECK(!holds(x.req, sizeof(x.req), "SECRET-KEY"));
	close(sfd);
	close(lfd);
}

static void
wipe(void)
{
	char b[16];

	memset(b, 'k', sizeof(b));
	ts_wipe(b, 10);
	CHECK(b[0] == 0 && b[9] == 0 && b[10] == 'k');
	ts_wipe(b, 0);
}

static const struct test_case cases[] = {
	TEST(defaults_and_good_values),
	TEST(bad_numbers),
	TEST(incomplete),
	TEST(long_key),
	TEST(request_wiped),
	TEST(wipe),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
