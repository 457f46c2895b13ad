/*
 * test_state: the resume file (SPEC §7.14).  Round trips, the exact text
 * written, the lock against a second process, every kind of corruption
 * refused with TS_ERR_STATE_CORRUPT, and I/O failures.  Everything lives
 * in a mkdtemp(3) directory under /tmp that is removed at the end.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tsino.h"
#include "state.h"
#include "test.h"

static char dir[64];
static char path[128];		/* dir/state */
static char why[512];

static struct ts_state_game in[TS_STATE_MAX_GAMES + 1];
static struct ts_state_game out[TS_STATE_MAX_GAMES + 1];

/* Remove every file in dir (the directory has no subdirectories). */
static void
empty_dir(void)
{
	char p[sizeof(dir) + 256 + 2];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
}

static int
write_file(const char *p, const void *data, size_t len)
{
	FILE *f = fopen(p, "wb");

	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* The whole file into buf (NUL-terminated); its length, or -1. */
static long
read_all(const char *p, char *buf, size_t cap)
{
	FILE *f = fopen(p, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static void
game(struct ts_state_game *g, const char *slug, const char *last, int nids)
{
	char id[TS_STATE_SLUG_MAX + 32];
	int i;

	memset(g, 0, sizeof(*g));
	memcpy(g->slug, slug, strnlen(slug, sizeof(g->slug) - 1));
	memcpy(g->last, last, strnlen(last, sizeof(g->last) - 1));
	g->nids = nids;
	for (i = 0; i < nids; i++) {
		snprintf(id, sizeof(id), "%.64s-round-%d", slug, i);
		g->ids[i] = ts_state_hash(id, strlen(id));
	}
}

static int
same(const struct ts_state_game *a, const struct ts_state_game *b)
{
	return strcmp(a->slug, b->slug) == 0 &&
	    strcmp(a->last, b->last) == 0 && a->nids == b->nids &&
	    memcmp(a->ids, b->ids, (size_t)a->nids * sizeof(a->ids[0])) == 0;
}

/* Open, save games, close, open, load, close: the games loaded. */
static int
save_load(int n, int *got)
{
	struct ts_state s;
	int rc;

	*got = -1;
	if ((rc = ts_state_open(&s, path, why, sizeof(why))) != 0)
		return rc;
	rc = ts_state_save(&s, in, n, why, sizeof(why));
	ts_state_close(&s);
	if (rc != 0)
		return rc;
	if ((rc = ts_state_open(&s, path, why, sizeof(why))) != 0)
		return rc;
	rc = ts_state_load(&s, out, TS_STATE_MAX_GAMES, got, why, sizeof(why));
	ts_state_close(&s);
	return rc;
}

/* Load path as it is now; the result code. */
static int
load(int max, int *got)
{
	struct ts_state s;
	int rc;

	why[0] = '\0';
	if ((rc = ts_state_open(&s, path, why, sizeof(why))) != 0)
		return rc;
	rc = ts_state_load(&s, out, max, got, why, sizeof(why));
	ts_state_close(&s);
	return rc;
}

/* FNV-1a 64 known answers (the FNV reference test vectors). */
static void
hash_vectors(void)
{
	CHECK(ts_state_hash("", 0) == 0xcbf29ce484222325ULL);
	CHECK(ts_state_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(ts_state_hash("foobar", 6) == 0x85944171f73967e8ULL);
}

static void
round_trip(void)
{
	int got, i;

	empty_dir();
	game(&in[0], "stake-crash", "2026-05-28T15:05:15Z", 0);
	game(&in[1], "roobet-crash", "2026-05-28T15:05:16.123456Z",
	    TS_STATE_IDS);
	game(&in[2], "bc-crash", "", 0);
	game(&in[3], "x", "2026-05-28T15:05:17+02:00", 1);
	CHECK_INT(save_load(4, &got), 0);
	CHECK_INT(got, 4);
	for (i = 0; i < 4; i++)
		CHECK(same(&in[i], &out[i]));
	empty_dir();
}

/* A game with no resume point but ids is kept too, and no games at all. */
static void
round_trip_edges(void)
{
	int got;

	empty_dir();
	CHECK_INT(save_load(0, &got), 0);
	CHECK_INT(got, 0);
	game(&in[0], "a", "", 3);
	CHECK_INT(save_load(1, &got), 0);
	CHECK_INT(got, 1);
	CHECK(same(&in[0], &out[0]));
	empty_dir();
}

/* The most the file holds: every game with every id. */
static void
round_trip_full(void)
{
	char slug[TS_STATE_SLUG_MAX + 32];
	int got, i;

	empty_dir();
	for (i = 0; i < TS_STATE_MAX_GAMES; i++) {
		snprintf(slug, sizeof(slug), "game-%02d-%.55s", i % 100,
		    "0123456789012345678901234567890123456789012345678901234");
		game(&in[i], slug, "2026-05-28T15:05:15.12345678901234567890123"
		    "456Z", TS_STATE_IDS);
		CHECK_INT(strlen(in[i].slug), TS_STATE_SLUG_MAX - 1);
		CHECK_INT(strlen(in[i].last), TS_STATE_TIME_MAX - 1);
	}
	CHECK_INT(save_load(TS_STATE_MAX_GAMES, &got), 0);
	CHECK_INT(got, TS_STATE_MAX_GAMES);
	for (i = 0; i < TS_STATE_MAX_GAMES; i++)
		CHECK(same(&in[i], &out[i]));
	empty_dir();
}

/* The exact bytes written, as state.h documents them. */
static void
file_text(void)
{
	char buf[512], want[512], body[256];
	struct ts_state s;
	long len;

	empty_dir();
	game(&in[0], "stake-crash", "2026-05-28T15:05:15Z", 0);
	in[0].nids = 2;
	in[0].ids[0] = 0x1f0e000000000001ULL;
	in[0].ids[1] = 0xffffffffffffffffULL;
	game(&in[1], "b", "", 0);
	CHECK_INT(ts_state_open(&s, path, why, sizeof(why)), 0);
	CHECK_INT(ts_state_save(&s, in, 2, why, sizeof(why)), 0);
	ts_state_close(&s);
	snprintf(body, sizeof(body), "tsino-state 1\n"
	    "game\tstake-crash\t2026-05-28T15:05:15Z\t1f0e000000000001"
	    "\tffffffffffffffff\n"
	    "game\tb\t-\n");
	snprintf(want, sizeof(want), "%send\t2\t%016llx\n", body,
	    (unsigned long long)ts_state_hash(body, strlen(body)));
	len = read_all(path, buf, sizeof(buf));
	CHECK_INT(len, (long)strlen(want));
	CHECK_STR(buf, want);
	empty_dir();
}

static void
missing_file(void)
{
	int got = 7;

	empty_dir();
	CHECK_INT(load(TS_STATE_MAX_GAMES, &got), 0);
	CHECK_INT(got, 0);
	empty_dir();
}

/* After save only the file and its lock remain: no temporary file. */
static void
no_temp_left(void)
{
	char tmp[160];
	struct dirent *e;
	DIR *d;
	int got, files = 0;

	empty_dir();
	game(&in[0], "a", "2026-01-01T00:00:00Z", 1);
	CHECK_INT(save_load(1, &got), 0);
	CHECK_INT(save_load(1, &got), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
	d = opendir(dir);
	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			files++;
	closedir(d);
	CHECK_INT(files, 2);
	empty_dir();
}

/* A second ts_state_open from another process: exit status 0, 1, or 2. */
static int
open_in_child(void)
{
	struct ts_state s;
	char w[256];
	int status, rc;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		rc = ts_state_open(&s, path, w, sizeof(w));
		if (rc == TS_ERR_STATE_LOCKED && strstr(w, "in use") == NULL)
			rc = -1;
		_exit(rc == 0 ? 0 : rc == TS_ERR_STATE_LOCKED ? 1 : 2);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void
locked(void)
{
	struct ts_state s, s2;

	empty_dir();
	CHECK_INT(ts_state_open(&s, path, why, sizeof(why)), 0);
	CHECK_INT(open_in_child(), 1);
	ts_state_close(&s);
	ts_state_close(&s);	/* idempotent */
	CHECK_INT(open_in_child(), 0);
	CHECK_INT(ts_state_open(&s, path, why, sizeof(why)), 0);
	/* flock(2) locks belong to the open file: this process too. */
	CHECK_INT(ts_state_open(&s2, path, why, sizeof(why)),
	    TS_ERR_STATE_LOCKED);
	CHECK(strstr(why, path) != NULL);
	ts_state_close(&s);
	CHECK_INT(ts_state_open(&s2, path, why, sizeof(why)), 0);
	ts_state_close(&s2);
	empty_dir();
}

/* Write body followed by a correct end line for count games. */
static int
with_sum(const char *body, int count)
{
	static char buf[TS_STATE_IDS * 20 + 512];

	snprintf(buf, sizeof(buf), "%send\t%d\t%016llx\n", body, count,
	    (unsigned long long)ts_state_hash(body, strlen(body)));
	return write_file(path, buf, strlen(buf));
}

/* Load must say corrupt, with the path in the words. */
static int
is_corrupt(void)
{
	int got = -1;

	return load(TS_STATE_MAX_GAMES, &got) == TS_ERR_STATE_CORRUPT &&
	    strstr(why, "corrupt") != NULL && strstr(why, path) != NULL &&
	    got == 0;
}

/* The valid file the corruptions start from; its text in buf. */
static long
valid_file(char *buf, size_t cap)
{
	int got;

	empty_dir();
	game(&in[0], "stake-crash", "2026-05-28T15:05:15Z", 3);
	game(&in[1], "roobet-crash", "", 0);
	if (save_load(2, &got) != 0 || got != 2)
		return -1;
	return read_all(path, buf, cap);
}

static void
corrupt_magic(void)
{
	char buf[1024];
	long len = valid_file(buf, sizeof(buf));

	CHECK(len > 0);
	buf[12] = '2';		/* "tsino-state 2" */
	CHECK_INT(write_file(path, buf, (size_t)len), 0);
	CHECK(is_corrupt());
	CHECK(with_sum("tsino-state 2\n", 0) == 0);
	CHECK(is_corrupt());
	CHECK(with_sum("tsino-state 1\r\n", 0) == 0);
	CHECK(is_corrupt());
	empty_dir();
}

/* Any single flipped bit anywhere is caught. */
static void
corrupt_flipped(void)
{
	char buf[1024], orig[1024];
	long len = valid_file(orig, sizeof(orig)), i;
	int bit;

	CHECK(len > 0);
	CHECK(load(TS_STATE_MAX_GAMES, &bit) == 0);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			memcpy(buf, orig, (size_t)len);
			buf[i] ^= (char)(1 << bit);
			CHECK_INT(write_file(path, buf, (size_t)len), 0);
			if (!is_corrupt()) {
				printf(" (byte %ld bit %d)", i, bit);
				CHECK(0);
			}
		}
	}
	/* A flip inside a game line is a checksum mismatch. */
	memcpy(buf, orig, (size_t)len);
	buf[strlen("tsino-state 1\ngame\ts")] ^= 1;
	CHECK_INT(write_file(path, buf, (size_t)len), 0);
	CHECK(is_corrupt());
	CHECK(strstr(why, "checksum") != NULL);
	empty_dir();
}

/* Cut at every length, the empty file included. */
static void
corrupt_truncated(void)
{
	char buf[1024];
	long len = valid_file(buf, sizeof(buf)), i;

	CHECK(len > 0);
	for (i = 0; i < len; i++) {
		CHECK_INT(write_file(path, buf, (size_t)i), 0);
		if (!is_corrupt()) {
			printf(" (cut at %ld)", i);
			CHECK(0);
		}
	}
	empty_dir();
}

static void
corrupt_empty(void)
{
	empty_dir();
	CHECK_INT(write_file(path, "", 0), 0);
	CHECK(is_corrupt());
	empty_dir();
}

static void
corrupt_trailing(void)
{
	char buf[1024];
	long len = valid_file(buf, sizeof(buf));

	CHECK(len > 0);
	buf[len] = '\n';
	CHECK_INT(write_file(path, buf, (size_t)len + 1), 0);
	CHECK(is_corrupt());
	CHECK(strstr(why, "after") != NULL);
	memcpy(buf + len, "game\tx\t-\n", 9);
	CHECK_INT(write_file(path, buf, (size_t)len + 9), 0);
	CHECK(is_corrupt());
	empty_dir();
}

/* Lines with a correct checksum that still do not parse. */
static void
corrupt_lines(void)
{
	static const char *const bodies[] = {
		"game\ta\t-\t1F0E000000000001\n",	/* upper case hex */
		"game\ta\t-\t1f0e00000000001\n",	/* 15 digits */
		"game\ta\t-\t1f0e0000000000011\n",	/* 17 digits */
		"game\ta\t-\t1f0e00000000000g\n",	/* not hex */
		"game\ta\t-\t\n",			/* empty id */
		"game\ta\t-\t1f0e000000000001\t\n",	/* trailing tab */
		"game\t\t-\n",				/* empty slug */
		"game\ta\t\n",				/* empty time */
		"game\ta\n",				/* no time */
		"game\n",
		"games\ta\t-\n",
		"Game\ta\t-\n",
		"\n",
		"game\ta\r\t-\n",			/* control character */
		"game\ta\t2026-01-01T00:00:00Z\r\n",
		"game\ta\x7f\t-\n",
		"game\ta\t-\tend\n",
		/* a slug of 64 bytes, one too many */
		("game\t0123456789012345678901234567890123456789012345678901"
		    "234567890123\t-\n"),
	};
	char body[512];
	size_t i;
	int got;

	empty_dir();
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(body, sizeof(body), "tsino-state 1\n%s", bodies[i]);
		CHECK_INT(with_sum(body, 1), 0);
		if (!is_corrupt()) {
			printf(" (line %zu)", i);
			CHECK(0);
		}
	}
	/* The control: the same shape with good values loads. */
	CHECK_INT(with_sum("tsino-state 1\ngame\ta\t-\t1f0e000000000001\n",
	    1), 0);
	CHECK_INT(load(TS_STATE_MAX_GAMES, &got), 0);
	CHECK_INT(got, 1);
	empty_dir();
}

/* The end line must hold the right count, in its exact form. */
static void
corrupt_end_line(void)
{
	const char *body = "tsino-state 1\ngame\ta\t-\n";
	char buf[256];
	int got;

	empty_dir();
	CHECK_INT(with_sum(body, 2), 0);
	CHECK(is_corrupt());
	CHECK_INT(with_sum(body, 0), 0);
	CHECK(is_corrupt());
	snprintf(buf, sizeof(buf), "%send\t1\t%016llX\n", body,
	    (unsigned long long)ts_state_hash(body, strlen(body)));
	CHECK_INT(write_file(path, buf, strlen(buf)), 0);
	CHECK(is_corrupt());
	/* No newline after the end line. */
	snprintf(buf, sizeof(buf), "%send\t1\t%016llx", body,
	    (unsigned long long)ts_state_hash(body, strlen(body)));
	CHECK_INT(write_file(path, buf, strlen(buf)), 0);
	CHECK(is_corrupt());
	CHECK_INT(with_sum(body, 1), 0);
	CHECK_INT(load(TS_STATE_MAX_GAMES, &got), 0);
	CHECK_INT(got, 1);
	empty_dir();
}

static void
corrupt_too_many_ids(void)
{
	static char body[TS_STATE_IDS * 20 + 128];
	size_t len;
	int i, got;

	empty_dir();
	len = (size_t)snprintf(body, sizeof(body), "tsino-state 1\ngame\ta\t-");
	for (i = 0; i < TS_STATE_IDS; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		    "\t%016x", i);
	snprintf(body + len, sizeof(body) - len, "\n");
	CHECK_INT(with_sum(body, 1), 0);
	CHECK_INT(load(TS_STATE_MAX_GAMES, &got), 0);
	CHECK_INT(out[0].nids, TS_STATE_IDS);
	snprintf(body + len, sizeof(body) - len, "\t%016x\n", i);
	CHECK_INT(with_sum(body, 1), 0);
	CHECK(is_corrupt());
	empty_dir();
}

/* More games than the caller has room for. */
static void
corrupt_too_many_games(void)
{
	int got;

	empty_dir();
	game(&in[0], "a", "", 0);
	game(&in[1], "b", "", 0);
	game(&in[2], "c", "", 0);
	CHECK_INT(save_load(3, &got), 0);
	CHECK_INT(load(3, &got), 0);
	CHECK_INT(got, 3);
	CHECK_INT(load(2, &got), TS_ERR_STATE_CORRUPT);
	empty_dir();
}

/* A file bigger than any valid one is refused before parsing. */
static void
corrupt_too_big(void)
{
	static char big[TS_STATE_MAX_GAMES * (TS_STATE_IDS * 17 + 160) + 4096];

	empty_dir();
	memset(big, 'x', sizeof(big));
	CHECK_INT(write_file(path, big, sizeof(big)), 0);
	CHECK(is_corrupt());
	CHECK(strstr(why, "too big") != NULL);
	empty_dir();
}

static void
io_missing_dir(void)
{
	struct ts_state s;
	char p[160];

	empty_dir();
	snprintf(p, sizeof(p), "%s/missing/state", dir);
	CHECK_INT(ts_state_open(&s, p, why, sizeof(why)), TS_ERR_STATE_IO);
	CHECK_INT(s.lock_fd, -1);
	/* A directory that vanished after the lock was taken. */
	s.lock_fd = -1;
	snprintf(s.path, sizeof(s.path), "%s", p);
	game(&in[0], "a", "", 0);
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	CHECK(strstr(why, "missing") != NULL);
	empty_dir();
}

/* The path is a directory: read fails, which is not corruption. */
static void
io_read_error(void)
{
	int got;

	empty_dir();
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK_INT(load(TS_STATE_MAX_GAMES, &got), TS_ERR_STATE_IO);
	CHECK_INT(rmdir(path), 0);
	empty_dir();
}

static void
path_too_long(void)
{
	static char p[TS_STATE_PATH_MAX + 10];
	struct ts_state s;

	memset(p, 'a', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	CHECK_INT(ts_state_open(&s, p, why, sizeof(why)), TS_ERR_STATE_IO);
}

/* Save refuses what load could not read back, and keeps the old file. */
static void
save_refuses_unstorable(void)
{
	struct ts_state s;
	char before[1024], after[1024];
	long len;

	len = valid_file(before, sizeof(before));
	CHECK(len > 0);
	CHECK_INT(ts_state_open(&s, path, why, sizeof(why)), 0);
	game(&in[0], "a\tb", "", 0);
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	game(&in[0], "", "", 0);
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	game(&in[0], "a", "2026\n", 0);
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	game(&in[0], "a", "-", 0);
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	game(&in[0], "a", "", 0);
	in[0].nids = TS_STATE_IDS + 1;
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	in[0].nids = -1;
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	memset(in[0].slug, 'a', sizeof(in[0].slug));	/* no NUL */
	in[0].nids = 0;
	CHECK_INT(ts_state_save(&s, in, 1, why, sizeof(why)), TS_ERR_STATE_IO);
	game(&in[0], "a", "", 0);
	CHECK_INT(ts_state_save(&s, in, TS_STATE_MAX_GAMES + 1, why,
	    sizeof(why)), TS_ERR_STATE_IO);
	ts_state_close(&s);
	CHECK_INT(read_all(path, after, sizeof(after)), len);
	CHECK(memcmp(before, after, (size_t)len) == 0);
	empty_dir();
}

static const struct test_case cases[] = {
	TEST(hash_vectors),
	TEST(round_trip),
	TEST(round_trip_edges),
	TEST(round_trip_full),
	TEST(file_text),
	TEST(missing_file),
	TEST(no_temp_left),
	TEST(locked),
	TEST(corrupt_magic),
	TEST(corrupt_flipped),
	TEST(corrupt_truncated),
	TEST(corrupt_empty),
	TEST(corrupt_trailing),
	TEST(corrupt_lines),
	TEST(corrupt_end_line),
	TEST(corrupt_too_many_ids),
	TEST(corrupt_too_many_games),
	TEST(corrupt_too_big),
	TEST(io_missing_dir),
	TEST(io_read_error),
	TEST(path_too_long),
	TEST(save_refuses_unstorable),
};

int
main(int argc, char **argv)
{
	int rc;

	snprintf(dir, sizeof(dir), "/tmp/tsino-test-state-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	rc = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	empty_dir();
	rmdir(dir);
	return rc;
}
