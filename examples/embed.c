/* embed: libtsino in a program's own poll() loop, next to stdin ("q"/EOF) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tsino.h"

static int
on_round(void *arg, const struct ts_round_info *r)
{
	(void)arg;
	printf("%.*s\n", (int)r->json_len, r->json);	/* as tsino does */
	return fflush(stdout) == 0 ? 0 : -1;	/* -1: output gone, stop */
}

static void
on_log(void *arg, int level, const char *line)
{
	(void)arg, (void)level;
	fprintf(stderr, "embed: %s\n", line);
}

int
main(void)
{
	struct ts_config cfg = {0};
	struct ts_client *c;
	struct pollfd pfd[TS_CLIENT_MAX_POLLFDS + 1];	/* ours last */
	char why[256], in[64];
	int n, timeout, rc, stopped = 0;

	cfg.api = getenv("TRACKERSINO_API");
	cfg.key = getenv("TRACKERSINO_API_KEY");
	cfg.ca_file = getenv("SSL_CERT_FILE");
	cfg.on_round = on_round;
	cfg.on_log = on_log;
	cfg.verbosity = TS_LOG_INFO;
	rc = ts_client_new(&c, &cfg, why, sizeof(why));
	while (rc == 0) {
		n = ts_client_pollfds(c, pfd, TS_CLIENT_MAX_POLLFDS,
		    &timeout);
		pfd[n].fd = stopped ? -1 : STDIN_FILENO;	/* ours, last */
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		if (poll(pfd, n + 1, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[n].revents &&
		    (read(STDIN_FILENO, in, sizeof(in)) < 1 || in[0] == 'q'))
			stopped = 1;
		if (stopped)
			ts_client_stop(c);	/* close 1000, then 1 */
		rc = ts_client_step(c, pfd, n);	/* timeouts, EINTR too */
	}
	if (rc < 0)
		fprintf(stderr, "embed: %s\n", c ? ts_client_why(c) : why);
	ts_client_free(c);
	return rc != 1;
}
