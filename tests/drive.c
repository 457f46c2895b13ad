/*
 * drive: runs the client engine through the library with the config
 * fields the command line does not offer (max_held, max_page), for the
 * scenario tests (tests/scenario_backfill.py, scenario_exactly.py).  Not
 * installed.
 *
 *   drive [--max-held N] [--max-page BYTES] [--heartbeat S] [--games L]
 *         [--state FILE] [--connect-timeout S] [--max-message BYTES]
 *         [--above X] [--verbose 0|1]
 *
 * --state, --connect-timeout, --max-message and --above set the config
 * fields of the same names (as tsino's options do); --verbose 1 passes
 * -v detail (TS_LOG_DEBUG) to stderr.
 * Env as tsino: TRACKERSINO_API, TRACKERSINO_API_KEY, SSL_CERT_FILE.
 * Each round is one stdout line "B L JSON": B is 1 if it came over
 * REST, L is 1 if it was printed after newer rounds of its game.  Log
 * lines go to stderr.  SIGTERM/SIGINT stop it cleanly (exit 0).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsino.h"

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
}

static int
on_round(void *arg, const struct ts_round_info *r)
{
	(void)arg;
	printf("%d %d %.*s\n", r->backfilled, r->late, (int)r->json_len,
	    r->json);
	return 0;
}

static int
on_flush(void *arg)
{
	(void)arg;
	return fflush(stdout) == 0 ? 0 : -1;
}

static void
on_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "drive: %s\n", line);
}

int
main(int argc, char **argv)
{
	struct ts_config cfg;
	struct ts_client *c;
	struct sigaction sa;
	struct pollfd pfd[TS_CLIENT_MAX_POLLFDS];
	char why[512];
	int i, n, timeout, rc, verbose = 0;

	memset(&cfg, 0, sizeof(cfg));
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--max-held") == 0)
			cfg.max_held = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--max-page") == 0)
			cfg.max_page = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--heartbeat") == 0)
			cfg.heartbeat = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--games") == 0)
			cfg.games = argv[i + 1];
		else if (strcmp(argv[i], "--state") == 0)
			cfg.state_file = argv[i + 1];
		else if (strcmp(argv[i], "--connect-timeout") == 0)
			cfg.connect_timeout = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--max-message") == 0)
			cfg.max_message = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--above") == 0)
			cfg.above = argv[i + 1];
		else if (strcmp(argv[i], "--verbose") == 0)
			verbose = atoi(argv[i + 1]);
		else
			break;
	}
	if (i != argc) {
		fprintf(stderr, "drive: bad arguments\n");
		return 2;
	}
	cfg.api = getenv("TRACKERSINO_API");
	cfg.key = getenv("TRACKERSINO_API_KEY");
	cfg.ca_file = getenv("SSL_CERT_FILE");
	cfg.on_round = on_round;
	cfg.on_flush = on_flush;
	cfg.on_log = on_log;
	cfg.verbosity = verbose ? TS_LOG_DEBUG : TS_LOG_INFO;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = ts_client_new(&c, &cfg, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "drive: %s\n", why);
		return 1;
	}
	while (rc == 0) {
		if (got_signal)
			ts_client_stop(c);
		n = ts_client_pollfds(c, pfd, TS_CLIENT_MAX_POLLFDS,
		    &timeout);
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		rc = ts_client_step(c, pfd, n);
	}
	if (rc < 0)
		fprintf(stderr, "drive: %s\n", ts_client_why(c));
	ts_client_free(c);
	return rc == 1 ? 0 : 1;
}
