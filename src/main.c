/*
 * main: the command line.  The only place that reads argv and the
 * environment, prints usage and calls exit().  Exit status (SPEC §1):
 * 0 clean stop, 1 fatal error, 2 usage error, 3 authentication.
 */
#include <stdio.h>
#include <string.h>

#include "tsino.h"

#define EXIT_FATAL 1
#define EXIT_USAGE 2

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

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tsino %s\n", TS_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "stream") == 0 || strcmp(argv[1], "rounds") == 0) {
		fprintf(stderr, "tsino: %s: not implemented yet\n", argv[1]);
		return EXIT_FATAL;
	}
	fprintf(stderr, "tsino: unknown command '%s'\n%s", argv[1], usage);
	return EXIT_USAGE;
}
