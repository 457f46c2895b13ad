/*
 * main: the command line, a thin layer over the client engine.  The only
 * place that reads argv and the environment, prints usage, writes
 * stdout and calls exit().  It owns the poll() loop, the output buffer
 * and the signals.
 *
 * Exit status (SPEC §1): 0 clean stop (SIGINT/SIGTERM, or stdout closed),
 * 1 fatal error, 2 usage error, 3 authentication.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
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
"usage: tsino stream [OPTIONS]            "
    "subscribe and print finalised rounds\n"
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

struct out {
	char buf[OUTBUF_SIZE];
	size_t len;
	int text;			/* --format text */
	int epipe;
};

/* What the command line sets: the client's config, and main's own. */
struct opts {
	struct ts_config cfg;
	const char *cmd, *key_file;
	const char *stream_only;	/* first option `rounds` refuses */
	struct out out;			/* its text is set by --format */
};

static volatile sig_atomic_t got_signal;
static int sig_pipe[2];		/* made before on_signal is set */

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
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tsino: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
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

/*
 * The round as its JSON line, or as "<game_id> <multiplier>x at
 * <finalized_at>" (--format text; the values hold no NUL: no byte below
 * 0x20, tsino.h), refused past 1023 bytes.
 */
static int
on_round(void *arg, const struct ts_round_info *r)
{
	struct out *o = arg;
	char line[1024];
	int n;

	if (!o->text) {
		if (put(o, r->json, r->json_len) < 0)
			return -1;
		return put(o, "\n", 1);
	}
	n = snprintf(line, sizeof(line), "%.*s %.*sx at %.*s\n",
	    (int)r->game_id_len, r->game_id, (int)r->multiplier_len,
	    r->multiplier, (int)r->finalized_at_len, r->finalized_at);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		say("round %.*s: too long for --format text",
		    (int)(r->round_id_len > 80 ? 80 : r->round_id_len),
		    r->round_id);
		return 0;
	}
	return put(o, line, (size_t)n);
}

/* ---- arguments ---- */

/* How an option's value is checked, and what is stored at its field. */
enum kind {
	OPT_STRING, OPT_DECIMAL, OPT_TIME, OPT_SECONDS, OPT_SIZE, OPT_FORMAT,
	OPT_FLAG			/* takes no value: stores flag */
};

struct optdef {
	const char *name;
	enum kind kind;
	size_t off;		/* its field in struct opts */
	int flag;
	int for_rounds;		/* allowed with `rounds` too */
};

#define AT(field) offsetof(struct opts, field)

static const struct optdef optdefs[] = {
	{"--games", OPT_STRING, AT(cfg.games), 0, 0},
	{"--api", OPT_STRING, AT(cfg.api), 0, 1},
	{"--key-file", OPT_STRING, AT(key_file), 0, 1},
	{"--ca-file", OPT_STRING, AT(cfg.ca_file), 0, 1},
	{"--state", OPT_STRING, AT(cfg.state_file), 0, 0},
	{"--above", OPT_DECIMAL, AT(cfg.above), 0, 0},
	{"--heartbeat", OPT_SECONDS, AT(cfg.heartbeat), 0, 0},
	{"--max-message", OPT_SIZE, AT(cfg.max_message), 0, 0},
	{"--connect-timeout", OPT_SECONDS, AT(cfg.connect_timeout), 0, 1},
	{"--insecure-plaintext", OPT_FLAG, AT(cfg.insecure_plaintext), 1, 0},
	{"--since", OPT_TIME, AT(cfg.since), 0, 1},
	{"--format", OPT_FORMAT, AT(out.text), 0, 1},
	{"-v", OPT_FLAG, AT(cfg.verbosity), TS_LOG_DEBUG, 1},
	{"-q", OPT_FLAG, AT(cfg.verbosity), TS_LOG_ERROR, 1},
};

#define NOPTS (sizeof(optdefs) / sizeof(optdefs[0]))

/*
 * Check val and store it at field (in struct opts) as d says.  NULL, or
 * the format of the usage error (given the option's name and val).
 */
static const char *
set_opt(char *field, const struct optdef *d, const char *val)
{
	unsigned long long n;
	double v;
	int64_t sec;
	uint32_t nsec;
	char *end;

	switch (d->kind) {
	case OPT_FLAG:
		*(int *)field = d->flag;
		return NULL;
	case OPT_FORMAT:
		if (strcmp(val, "ndjson") != 0 && strcmp(val, "text") != 0)
			return "%s: ndjson or text, not %s";
		*(int *)field = strcmp(val, "text") == 0;
		return NULL;
	case OPT_SECONDS:
		errno = 0;
		v = strtod(val, &end);
		if (errno || end == val || *end != '\0' || !(v > 0) ||
		    v > 86400)
			return "%s: not a positive number of seconds: %s";
		*(double *)field = v;
		return NULL;
	case OPT_SIZE:
		errno = 0;
		n = strtoull(val, &end, 10);
		if (errno || end == val || *end != '\0' || val[0] == '-' ||
		    n < 256 || n > MAX_MESSAGE_LIMIT)
			return "%s: not a size from 256 bytes to 256 MiB: %s";
		*(size_t *)field = (size_t)n;
		return NULL;
	case OPT_DECIMAL:
		if (ts_round_above(val, strlen(val), "0", 1) < 0)
			return "%s: not a decimal: %s";
		break;
	case OPT_TIME:
		if (ts_round_time(val, strlen(val), &sec, &nsec) < 0)
			return "%s: not an RFC 3339 time: %s";
		break;
	case OPT_STRING:
		break;
	}
	*(const char **)field = val;
	return NULL;
}

/* Returns 0, or an exit status; -1 means --help/--version was done. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const struct optdef *d;
	const char *arg, *eq, *val, *bad;
	size_t nlen;
	int k, rounds;

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
			else if (strcmp(o->cmd, "rounds") == 0 && !o->cfg.game)
				o->cfg.game = arg;
			else
				return usage_error("unexpected argument: %s",
				    arg);
			continue;
		}
		eq = strchr(arg, '=');
		nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		for (d = optdefs; d < optdefs + NOPTS; d++)
			if (strncmp(d->name, arg, nlen) == 0 &&
			    d->name[nlen] == '\0')
				break;
		/* A name of 32 bytes or more is said with its value. */
		if (d == optdefs + NOPTS)
			return usage_error("unknown option: %.*s",
			    (int)(nlen < 32 ? nlen : strlen(arg)), arg);
		if (d->kind == OPT_FLAG && eq)
			return usage_error("%s takes no value", d->name);
		val = eq ? eq + 1 : NULL;
		if (d->kind != OPT_FLAG && !eq) {
			if (k + 1 == argc)
				return usage_error("%s needs a value",
				    d->name);
			val = argv[++k];
		}
		bad = set_opt((char *)o + d->off, d, val);
		if (bad != NULL)
			return usage_error(bad, d->name, val);
		/* Checked at the end: the option may come before `rounds`. */
		if (!d->for_rounds && o->stream_only == NULL)
			o->stream_only = d->name;
	}
	/* The command, and its combinations with the options. */
	if (o->cmd == NULL)
		return usage_error("no command given");
	rounds = strcmp(o->cmd, "rounds") == 0;
	if (!rounds && strcmp(o->cmd, "stream") != 0)
		return usage_error("unknown command: %s", o->cmd);
	if (rounds && o->stream_only != NULL)
		return usage_error("%s does not apply to rounds",
		    o->stream_only);
	if (rounds && o->cfg.game == NULL)
		return usage_error("rounds needs a GAME");
	if (!rounds && o->cfg.since != NULL)
		return usage_error("--since applies to rounds only");
	o->cfg.mode = rounds ? TS_MODE_ROUNDS : TS_MODE_STREAM;
	return 0;
}

/* ---- the key ---- */

/* Returns 0 or an exit status (said on stderr, never the key itself). */
static int
read_key(const char *file, char *key, size_t keylen)
{
	const char *env = getenv("TRACKERSINO_API_KEY");
	struct stat st;
	ssize_t n = -1;
	size_t i;
	int fd, err;

	if (file == NULL) {
		if (env != NULL && strlen(env) >= keylen) {
			say("TRACKERSINO_API_KEY is longer than %zu bytes: "
			    "refused", keylen - 1);
			return EXIT_AUTH;
		}
		snprintf(key, keylen, "%s", env ? env : "");
	} else {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 044))
			say("warning: key file %s is readable by group or "
			    "others (chmod 600 it)", file);
		if (fd >= 0) {
			n = read(fd, key, keylen - 1);
			err = errno;	/* before close() can change it */
			close(fd);
		} else {
			err = errno;
		}
		if (n < 0) {
			say("cannot read key file %s: %s", file, strerror(err));
			return EXIT_AUTH;
		}
		key[n] = '\0';
		/* The first line, whole. */
		i = strcspn(key, "\n");
		if (key[i] == '\0' && (size_t)n == keylen - 1) {
			say("the key in %s is longer than %zu bytes: refused",
			    file, keylen - 2);
			return EXIT_AUTH;
		}
		key[i] = '\0';
	}
	i = strlen(key);
	while (i > 0 && strchr("\n\r \t", key[i - 1]) != NULL)
		key[--i] = '\0';
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
	(void)write(sig_pipe[1], "", 1);
	errno = saved;
}

static int
setup_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed stdout shows as EPIPE from write(): stop cleanly then. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static int
exit_for(int err, int setup)
{
	if (err == TS_ERR_CLIENT_AUTH)
		return EXIT_AUTH;
	/* A malformed --api (a url error at setup) is a usage error too. */
	if (err == TS_ERR_CLIENT_PLAINTEXT || err == TS_ERR_TLS_IP_LITERAL ||
	    err == TS_ERR_CLIENT_CONFIG || (setup && err <= -100 && err > -200))
		return EXIT_USAGE;
	return EXIT_FATAL;
}

static int
run(struct ts_client *c, struct out *o)
{
	struct pollfd pfd[TS_CLIENT_MAX_POLLFDS + 2];
	char drain[16];
	int n, timeout, rc, watch = 1;

	for (;;) {
		if (got_signal || o->epipe)
			ts_client_stop(c);	/* once: it is idempotent */
		n = ts_client_pollfds(c, pfd, TS_CLIENT_MAX_POLLFDS,
		    &timeout);
		pfd[n] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
		/*
		 * stdout with no events asked: a pipe whose reader has gone
		 * reports POLLERR, so `| head` ends us now, not at the next
		 * round (SPEC §7.12); once seen, it is not watched again.
		 */
		pfd[n + 1] = (struct pollfd){.fd = watch ? STDOUT_FILENO : -1};
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
	static struct opts o;
	struct ts_client *c;
	char key[KEY_MAX], why[512];
	const char *env;
	int rc;

	/* The key must not end up in a core file. */
	setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
#ifdef __linux__
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	o.cfg.verbosity = TS_LOG_INFO;
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	rc = read_key(o.key_file, key, sizeof(key));
	if (rc != 0)
		return rc;
	o.cfg.key = key;
	env = getenv("TRACKERSINO_API");
	if (o.cfg.api == NULL)
		o.cfg.api = env && env[0] ? env : DEFAULT_API;
	env = getenv("SSL_CERT_FILE");
	if (o.cfg.ca_file == NULL && env && env[0])
		o.cfg.ca_file = env;
	o.cfg.on_round = on_round;
	o.cfg.on_flush = on_flush;
	o.cfg.on_log = logline;
	o.cfg.arg = &o.out;
	if (setup_signals() < 0) {
		say("cannot set up signals: %s", strerror(errno));
		rc = EXIT_FATAL;
	} else if ((rc = ts_client_new(&c, &o.cfg, why, sizeof(why))) < 0) {
		say("%s", why);
		rc = exit_for(rc, 1);
	} else {
		rc = run(c, &o.out);
		ts_client_free(c);
	}
	ts_wipe(key, sizeof(key));
	return rc;
}
