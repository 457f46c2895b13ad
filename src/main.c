/*
 * main: the command line, a thin layer over the client engine.  The only
 * place that reads argv and the environment, prints usage, writes
 * stdout and calls exit().  It owns the poll() loop, the output buffer
 * and the signals.
 *
 * Exit status (SPEC §1): 0 clean stop (SIGINT/SIGTERM, or stdout closed),
 * 1 fatal error, 2 usage error, 3 authentication.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "tsino.h"
#include "round.h"

#define EXIT_FATAL 1
#define EXIT_USAGE 2
#define EXIT_AUTH 3

#define DEFAULT_API "https://api.trackersino.com/v1-beta"
#define KEY_MAX 4096
#define OUTBUF_SIZE 65536
#define MAX_MESSAGE_LIMIT (256u << 20)

static const char usage[] =
"usage: tsino stream [OPTIONS]            subscribe and print finalised rounds\n"
"       tsino rounds GAME [--since TIME]  one REST fetch of GAME's rounds\n"
"       tsino --help | --version\n"
"\n"
"options:\n"
"  --games LIST            comma-separated game slugs (empty: every game)\n"
"  --api BASE              API base URL (env TRACKERSINO_API, else\n"
"                          https://api.trackersino.com/v1-beta)\n"
"  --key-file PATH         read the API key from a file (else env\n"
"                          TRACKERSINO_API_KEY; never from argv)\n"
"  --ca-file PATH          PEM trust anchors (env SSL_CERT_FILE, else the\n"
"                          system bundle)\n"
"  --state FILE            resume cursor, read at start, kept up to date\n"
"  --above X               print only rounds whose multiplier is > X\n"
"  --heartbeat S           server ping interval in seconds (25)\n"
"  --max-message N         largest message accepted, in bytes (1048576)\n"
"  --connect-timeout S     per connection attempt, in seconds (10)\n"
"  --insecure-plaintext    allow the key over ws:// or http:// to a\n"
"                          host that is not loopback\n"
"  --since TIME            (rounds) RFC 3339 start, inclusive\n"
"  --format ndjson|text    output format (ndjson)\n"
"  -v, -q                  more or fewer log lines on stderr\n";

struct opts {
	const char *cmd;
	const char *game;
	const char *games, *api, *key_file, *ca_file, *state, *above;
	const char *since, *format;
	double heartbeat, connect_timeout;
	size_t max_message;
	int insecure, verbosity, text;
	const char *stream_only;	/* first option `rounds` does not take */
};

struct out {
	char buf[OUTBUF_SIZE];
	size_t len;
	int text;
	int epipe;
};

static volatile sig_atomic_t got_signal;
static int sig_pipe[2] = {-1, -1};

static void
logline(void *arg, int level, const char *line)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	(void)arg;
	(void)level;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "-");
	fprintf(stderr, "%s tsino: %s\n", stamp, line);
}

static void
say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	logline(NULL, TS_LOG_ERROR, line);
}

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "tsino: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return EXIT_USAGE;
}

/* ---- output ---- */

static int
write_all(struct out *o, const char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(STDOUT_FILENO, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			o->epipe = errno == EPIPE;
			if (!o->epipe)
				say("cannot write output: %s", strerror(errno));
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
on_flush(void *arg)
{
	struct out *o = arg;
	int rc = write_all(o, o->buf, o->len);

	o->len = 0;
	return rc;
}

static int
put(struct out *o, const char *p, size_t n)
{
	if (o->len + n > sizeof(o->buf) && on_flush(o) < 0)
		return -1;
	if (n > sizeof(o->buf))
		return write_all(o, p, n);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

static int
on_round(void *arg, const struct ts_round_info *r)
{
	struct out *o = arg;
	struct ts_round rd;
	char line[1024];
	int n;

	if (!o->text) {
		if (put(o, r->json, r->json_len) < 0)
			return -1;
		return put(o, "\n", 1);
	}
	memset(&rd, 0, sizeof(rd));
	rd.game_id.ptr = r->game_id;
	rd.game_id.len = r->game_id_len;
	rd.multiplier.ptr = r->multiplier;
	rd.multiplier.len = r->multiplier_len;
	rd.finalized_at.ptr = r->finalized_at;
	rd.finalized_at.len = r->finalized_at_len;
	rd.round_id.ptr = r->round_id;
	rd.round_id.len = r->round_id_len;
	n = ts_round_text(line, sizeof(line), &rd);
	if (n < 0) {
		say("round %.*s: too long for --format text",
		    (int)(r->round_id_len > 80 ? 80 : r->round_id_len),
		    r->round_id);
		return 0;
	}
	return put(o, line, (size_t)n);
}

/* ---- arguments ---- */

struct optdef {
	const char *name;
	int has_arg;
	int for_rounds;		/* allowed with `rounds` too */
};

static const struct optdef optdefs[] = {
	{"--games", 1, 0}, {"--api", 1, 1}, {"--key-file", 1, 1},
	{"--ca-file", 1, 1}, {"--state", 1, 0}, {"--above", 1, 0},
	{"--heartbeat", 1, 0}, {"--max-message", 1, 0},
	{"--connect-timeout", 1, 1}, {"--insecure-plaintext", 0, 0},
	{"--since", 1, 1}, {"--format", 1, 1}, {"-v", 0, 1}, {"-q", 0, 1},
};

static int
seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v > 0) || v > 86400)
		return -1;
	*out = v;
	return 0;
}

static int
set_opt(struct opts *o, const char *name, const char *val)
{
	unsigned long long n;
	char *end;

	if (strcmp(name, "--games") == 0)
		o->games = val;
	else if (strcmp(name, "--api") == 0)
		o->api = val;
	else if (strcmp(name, "--key-file") == 0)
		o->key_file = val;
	else if (strcmp(name, "--ca-file") == 0)
		o->ca_file = val;
	else if (strcmp(name, "--state") == 0)
		o->state = val;
	else if (strcmp(name, "--above") == 0) {
		if (ts_round_decimal_check(val, strlen(val)) < 0)
			return usage_error("--above: not a decimal: %s", val);
		o->above = val;
	} else if (strcmp(name, "--heartbeat") == 0) {
		if (seconds(val, &o->heartbeat) < 0)
			return usage_error("--heartbeat: not a positive "
			    "number of seconds: %s", val);
	} else if (strcmp(name, "--connect-timeout") == 0) {
		if (seconds(val, &o->connect_timeout) < 0)
			return usage_error("--connect-timeout: not a positive "
			    "number of seconds: %s", val);
	} else if (strcmp(name, "--max-message") == 0) {
		errno = 0;
		n = strtoull(val, &end, 10);
		if (errno || end == val || *end != '\0' || val[0] == '-' ||
		    n < 256 || n > MAX_MESSAGE_LIMIT)
			return usage_error("--max-message: not a size from "
			    "256 bytes to 256 MiB: %s", val);
		o->max_message = (size_t)n;
	} else if (strcmp(name, "--insecure-plaintext") == 0)
		o->insecure = 1;
	else if (strcmp(name, "--since") == 0) {
		int64_t sec;
		uint32_t nsec;

		if (ts_round_time(val, strlen(val), &sec, &nsec) < 0)
			return usage_error("--since: not an RFC 3339 time: %s",
			    val);
		o->since = val;
	} else if (strcmp(name, "--format") == 0) {
		if (strcmp(val, "ndjson") != 0 && strcmp(val, "text") != 0)
			return usage_error("--format: ndjson or text, not %s",
			    val);
		o->text = strcmp(val, "text") == 0;
	} else if (strcmp(name, "-v") == 0)
		o->verbosity = TS_LOG_DEBUG;
	else if (strcmp(name, "-q") == 0)
		o->verbosity = TS_LOG_ERROR;
	return 0;
}

/* Returns 0, or an exit status; -1 means --help/--version was done. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const struct optdef *d;
	const char *arg, *eq, *val;
	char name[32];
	size_t nlen, i;
	int k, rc;

	for (k = 1; k < argc; k++) {
		arg = argv[k];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(usage, stdout);
			return -1;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("tsino %s\n", TS_VERSION);
			return -1;
		}
		if (arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (o->cmd == NULL)
				o->cmd = arg;
			else if (strcmp(o->cmd, "rounds") == 0 && !o->game)
				o->game = arg;
			else
				return usage_error("unexpected argument: %s",
				    arg);
			continue;
		}
		eq = strchr(arg, '=');
		nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		if (nlen >= sizeof(name))
			return usage_error("unknown option: %s", arg);
		memcpy(name, arg, nlen);
		name[nlen] = '\0';
		d = NULL;
		for (i = 0; i < sizeof(optdefs) / sizeof(optdefs[0]); i++)
			if (strcmp(optdefs[i].name, name) == 0)
				d = &optdefs[i];
		if (d == NULL)
			return usage_error("unknown option: %s", name);
		if (!d->has_arg && eq)
			return usage_error("%s takes no value", name);
		val = NULL;
		if (d->has_arg) {
			if (eq)
				val = eq + 1;
			else if (k + 1 < argc)
				val = argv[++k];
			else
				return usage_error("%s needs a value", name);
		}
		rc = set_opt(o, name, val);
		if (rc != 0)
			return rc;
		/* Checked after the loop: the option may come before `rounds`. */
		if (!d->for_rounds && o->stream_only == NULL)
			o->stream_only = d->name;
	}
	if (o->cmd == NULL)
		return usage_error("%s", "no command given");
	if (strcmp(o->cmd, "stream") != 0 && strcmp(o->cmd, "rounds") != 0)
		return usage_error("unknown command: %s", o->cmd);
	if (strcmp(o->cmd, "rounds") == 0 && o->stream_only != NULL)
		return usage_error("%s does not apply to rounds",
		    o->stream_only);
	if (strcmp(o->cmd, "rounds") == 0 && o->game == NULL)
		return usage_error("%s", "rounds needs a GAME");
	if (strcmp(o->cmd, "stream") == 0 && o->since != NULL)
		return usage_error("%s", "--since applies to rounds only");
	return 0;
}

/* ---- the key ---- */

static void
strip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* Returns 0 or an exit status (said on stderr, never the key itself). */
static int
read_key(const struct opts *o, char *key, size_t keylen)
{
	const char *env;
	struct stat st;
	ssize_t n;
	char *nl;
	int fd;
	size_t i;

	if (o->key_file != NULL) {
		fd = open(o->key_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			say("cannot read key file %s: %s", o->key_file,
			    strerror(errno));
			return EXIT_AUTH;
		}
		if (fstat(fd, &st) == 0 && (st.st_mode & 044))
			say("warning: key file %s is readable by group or "
			    "others (chmod 600 it)", o->key_file);
		n = read(fd, key, keylen - 1);
		close(fd);
		if (n < 0) {
			say("cannot read key file %s: %s", o->key_file,
			    strerror(errno));
			return EXIT_AUTH;
		}
		key[n] = '\0';
		nl = strchr(key, '\n');
		if (nl != NULL)
			*nl = '\0';
		else if ((size_t)n == keylen - 1) {
			say("the key in %s is longer than %zu bytes: refused",
			    o->key_file, keylen - 2);
			return EXIT_AUTH;
		}
	} else {
		env = getenv("TRACKERSINO_API_KEY");
		if (env != NULL && strlen(env) >= keylen) {
			say("TRACKERSINO_API_KEY is longer than %zu bytes: "
			    "refused", keylen - 1);
			return EXIT_AUTH;
		}
		snprintf(key, keylen, "%s", env ? env : "");
	}
	strip(key);
	if (key[0] == '\0') {
		say("no API key: set TRACKERSINO_API_KEY or use --key-file");
		return EXIT_AUTH;
	}
	for (i = 0; key[i]; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f) {
			say("the API key holds a control character: refused");
			return EXIT_AUTH;
		}
	return 0;
}

/* ---- signals and the loop ---- */

static void
on_signal(int sig)
{
	int saved = errno;

	got_signal = sig;
	if (sig_pipe[1] >= 0)
		(void)write(sig_pipe[1], "", 1);
	errno = saved;
}

static int
setup_signals(void)
{
	struct sigaction sa;
	int i;

	if (pipe(sig_pipe) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		fcntl(sig_pipe[i], F_SETFL, O_NONBLOCK);
		fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed stdout shows as EPIPE from write(): stop cleanly then. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static void
no_core_dumps(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
#ifdef __linux__
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

static int
exit_for(int err, int setup)
{
	switch (err) {
	case TS_ERR_CLIENT_AUTH:
		return EXIT_AUTH;
	case TS_ERR_CLIENT_PLAINTEXT:
	case TS_ERR_TLS_IP_LITERAL:
	case TS_ERR_CLIENT_CONFIG:
		return EXIT_USAGE;
	}
	/* A malformed --api is a usage error too. */
	if (setup && err <= -100 && err > -200)
		return EXIT_USAGE;
	return EXIT_FATAL;
}

static int
run(struct ts_client *c, struct out *o)
{
	struct pollfd pfd[TS_CLIENT_MAX_POLLFDS + 2];
	char drain[16];
	int n, timeout, rc, stopping = 0, watch = 1;

	for (;;) {
		if ((got_signal || o->epipe) && !stopping) {
			stopping = 1;
			ts_client_stop(c);
		}
		n = ts_client_pollfds(c, pfd, TS_CLIENT_MAX_POLLFDS,
		    &timeout);
		pfd[n].fd = sig_pipe[0];
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		/*
		 * stdout with no events asked: a pipe whose reader has gone
		 * reports POLLERR, so `| head` ends us now, not at the next
		 * round (SPEC §7.12); once seen, it is not watched again.
		 */
		pfd[n + 1].fd = watch ? STDOUT_FILENO : -1;
		pfd[n + 1].events = 0;
		pfd[n + 1].revents = 0;
		if (poll(pfd, (nfds_t)n + 2, timeout) < 0) {
			if (errno != EINTR) {
				say("poll: %s", strerror(errno));
				return EXIT_FATAL;
			}
			for (rc = 0; rc <= n + 1; rc++)
				pfd[rc].revents = 0;
		}
		if (pfd[n].revents)
			while (read(sig_pipe[0], drain, sizeof(drain)) > 0)
				;
		if (pfd[n + 1].revents & (POLLERR | POLLHUP))
			o->epipe = 1;
		if (pfd[n + 1].revents)
			watch = 0;
		rc = ts_client_step(c, pfd, n);
		if (rc == 1)
			return 0;
		if (rc < 0) {
			if (rc == TS_ERR_CLIENT_OUTPUT && o->epipe)
				return 0;
			say("%s", ts_client_why(c));
			return exit_for(rc, 0);
		}
	}
}

int
main(int argc, char **argv)
{
	static struct out out;
	struct opts o;
	struct ts_config cfg;
	struct ts_client *c;
	char key[KEY_MAX], why[512];
	const char *env;
	int rc;

	no_core_dumps();
	memset(&o, 0, sizeof(o));
	o.verbosity = TS_LOG_INFO;
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = read_key(&o, key, sizeof(key));
	if (rc != 0)
		return rc;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = strcmp(o.cmd, "rounds") == 0 ? TS_MODE_ROUNDS :
	    TS_MODE_STREAM;
	env = getenv("TRACKERSINO_API");
	cfg.api = o.api ? o.api : env && env[0] ? env : DEFAULT_API;
	cfg.key = key;
	cfg.games = o.games;
	cfg.game = o.game;
	cfg.since = o.since;
	env = getenv("SSL_CERT_FILE");
	cfg.ca_file = o.ca_file ? o.ca_file : env && env[0] ? env : NULL;
	cfg.state_file = o.state;
	cfg.above = o.above;
	cfg.heartbeat = o.heartbeat;
	cfg.connect_timeout = o.connect_timeout;
	cfg.max_message = o.max_message;
	cfg.insecure_plaintext = o.insecure;
	cfg.verbosity = o.verbosity;
	cfg.on_round = on_round;
	cfg.on_flush = on_flush;
	cfg.on_log = logline;
	cfg.arg = &out;
	out.text = o.text;
	if (setup_signals() < 0) {
		say("cannot set up signals: %s", strerror(errno));
		return EXIT_FATAL;
	}
	rc = ts_client_new(&c, &cfg, why, sizeof(why));
	if (rc < 0) {
		say("%s", why);
		ts_wipe(key, sizeof(key));
		return exit_for(rc, 1);
	}
	rc = run(c, &out);
	ts_client_free(c);
	ts_wipe(key, sizeof(key));
	return rc;
}
