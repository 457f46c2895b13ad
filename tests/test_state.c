/*
 * test_state: the resume file (SPEC §7.14, format in src/state.h).
 * Round trips through a struct ts_ledger, the exact text written, the
 * lock against a second process, every kind of corruption refused with
 * TS_ERR_STATE_CORRUPT, version-1 files loaded and written back as
 * version 2, values save refuses, and I/O failures.  Everything lives in
 * a mkdtemp(3) directory under /tmp that is removed at the end.
 *
 * The ledgers are about 2 MB each: three are calloc'd once in main() and
 * re-initialised by fresh() before each use, never put on the stack.
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
#include "base.h"
#include "ledger.h"
#include "state.h"
#include "test.h"

static char dir[64];
static char path[128];		/* dir/state */
static char why[512];

static struct ts_ledger *la, *lb, *lc;	/* calloc'd in main() */
static struct ts_ledger_config cfg;	/* small buffers, set in main() */

/* Files and texts: the largest valid file fits, and a bit more. */
#define BIG (TS_STATE_MAX_FILE + 4096)
static char *text1, *text2, *text3;	/* BIG bytes each, from main() */

#define T0 "2026-01-01T00:00:00Z"
#define T1 "2026-01-01T00:00:01Z"
#define T2 "2026-01-01T00:00:02Z"
#define T3 "2026-01-01T00:00:03Z"
#define T4 "2026-01-01T00:00:04Z"
#define T5 "2026-01-01T00:00:05Z"
#define T0_SEC 1767225600
#define ID1 "0000000000000001"
#define ID2 "00000000000000ff"

/* ---- the ledger's caller part: nothing is emitted in these tests ---- */

static int
emit_none(void *arg, const struct ts_round_info *r)
{
	(void)arg;
	(void)r;
	return 1;
}

static void
log_none(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

/* l set up afresh, with no games. */
static int
fresh(struct ts_ledger *l)
{
	return ts_ledger_init(l, &cfg);
}

/* ---- files ---- */

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

/* ---- marks, games and ledgers ---- */

/*
 * m at the instant text (NULL: no instant, and then nids must be 0) with
 * nids ids, the keys of game slug's rounds "r<seed>-0".."r<seed>-<n-1>".
 */
static int
mark(struct ts_ledger_mark *m, const char *slug, const char *text, int nids,
    int seed)
{
	char id[32];
	int i;

	memset(m, 0, sizeof(*m));
	if (text == NULL)
		return nids == 0 ? 0 : -1;
	if (ts_ledger_mark_set(m, text, strlen(text)) != 0 ||
	    nids > TS_LEDGER_IDS)
		return -1;
	for (i = 0; i < nids; i++) {
		snprintf(id, sizeof(id), "r%d-%d", seed, i);
		m->ids[m->nids++] = ts_recent_key(slug, strlen(slug), id,
		    strlen(id));
	}
	return 0;
}

/* A gap as a test writes it: to NULL is a gap whose end is not known. */
struct gspec {
	const char *from;
	int nfrom;
	const char *to;
	int nto;
};

/* Add game slug to l with its cursor (cur NULL: none) and gaps. */
static int
add_game(struct ts_ledger *l, const char *slug, const char *cur, int ncur,
    const struct gspec *gs, int ngaps)
{
	static struct ts_ledger_gap gaps[TS_LEDGER_GAPS];
	struct ts_ledger_mark m;
	int i;

	if (ngaps > TS_LEDGER_GAPS || mark(&m, slug, cur, ncur, 0) < 0)
		return -1;
	for (i = 0; i < ngaps; i++)
		if (mark(&gaps[i].from, slug, gs[i].from, gs[i].nfrom,
		    2 * i + 1) < 0 ||
		    mark(&gaps[i].to, slug, gs[i].to, gs[i].nto, 2 * i + 2) < 0)
			return -1;
	return ts_ledger_restore(l, slug, &m, gaps, ngaps);
}

static int
same_mark(const struct ts_ledger_mark *a, const struct ts_ledger_mark *b)
{
	return strcmp(a->text, b->text) == 0 && a->sec == b->sec &&
	    a->nsec == b->nsec && a->nids == b->nids &&
	    memcmp(a->ids, b->ids, (size_t)a->nids * sizeof(a->ids[0])) == 0;
}

/* The persistent part of two games: slug, cursor, gaps. */
static int
same_game(const struct ts_ledger_game *a, const struct ts_ledger_game *b)
{
	int i;

	if (strcmp(a->slug, b->slug) != 0 || !same_mark(&a->cur, &b->cur) ||
	    a->ngaps != b->ngaps)
		return 0;
	for (i = 0; i < a->ngaps; i++)
		if (!same_mark(&a->gap[i].from, &b->gap[i].from) ||
		    !same_mark(&a->gap[i].to, &b->gap[i].to))
			return 0;
	return 1;
}

static int
same_ledger(const struct ts_ledger *a, const struct ts_ledger *b)
{
	int i;

	if (a->ngames != b->ngames)
		return 0;
	for (i = 0; i < a->ngames; i++)
		if (!same_game(&a->games[i], &b->games[i])) {
			printf(" (game %d differs)", i);
			return 0;
		}
	return 1;
}

/* ---- save and load ---- */

/* Open, save l, close. */
static int
save(const struct ts_ledger *l)
{
	struct ts_state s;
	int rc;

	why[0] = '\0';
	if ((rc = ts_state_open(&s, path, why, sizeof(why))) != 0)
		return rc;
	rc = ts_state_save(&s, l, why, sizeof(why));
	ts_state_close(&s);
	return rc;
}

/* Open, load path as it is now into a fresh l, close. */
static int
load_into(struct ts_ledger *l, int *got)
{
	struct ts_state s;
	int rc;

	why[0] = '\0';
	*got = -1;
	if (fresh(l) != 0)
		return -1;
	if ((rc = ts_state_open(&s, path, why, sizeof(why))) != 0)
		return rc;
	rc = ts_state_load(&s, l, got, why, sizeof(why));
	ts_state_close(&s);
	return rc;
}

/* Save in, load it back into out. */
static int
save_load(const struct ts_ledger *in, struct ts_ledger *out, int *got)
{
	int rc;

	*got = -1;
	if ((rc = save(in)) != 0)
		return rc;
	return load_into(out, got);
}

/* Load path into lb. */
static int
load(int *got)
{
	return load_into(lb, got);
}

/* The count a correct end line of body holds: its game lines in version
 * 1, its lines after the first (games and gaps) in version 2. */
static int
lines_of(const char *body)
{
	int v1 = strncmp(body, "tsino-state 1\n", 14) == 0, n = 0;
	const char *p;

	for (p = body; *p != '\0'; p++)
		if (*p == '\n' && (!v1 || strncmp(p + 1, "game\t", 5) == 0))
			n++;
	return v1 ? n : n - 1;
}

/* The file's checksum: FNV-1a 64 (base.h). */
static uint64_t
sum(const void *data, size_t len)
{
	return ts_fnv(TS_FNV_BASIS, data, len);
}

/* body followed by its end line with count, into text3; its length. */
static size_t
sum_text(const char *body, int count)
{
	return (size_t)snprintf(text3, BIG, "%send\t%d\t%016llx\n", body,
	    count, (unsigned long long)sum(body, strlen(body)));
}

/* Write body followed by a correct end line for count. */
static int
with_sum(const char *body, int count)
{
	return write_file(path, text3, sum_text(body, count));
}

/* Load must say corrupt, with the path in the words, and 0 games. */
static int
is_corrupt(void)
{
	int got = -1, rc;

	rc = load(&got);
	if (rc == TS_ERR_STATE_CORRUPT && strstr(why, "corrupt") != NULL &&
	    strstr(why, path) != NULL && got == 0)
		return 1;
	printf(" (load %d, got %d: %s)", rc, got, why);
	return 0;
}

/* ---- the cases ---- */

/* Cursors of every shape: no ids, every id, none at all, an offset. */
static void
round_trip(void)
{
	static const struct gspec g0[] = {
		{ "2026-05-28T15:00:00Z", 2, "2026-05-28T15:01:00.25Z", 3 },
		{ "2026-05-28T15:02:00Z", 0, NULL, 0 },
	};
	int got;

	empty_dir();
	CHECK_INT(fresh(la), 0);
	CHECK_INT(add_game(la, "stake-crash", "2026-05-28T15:05:15Z", 0,
	    g0, 2), 0);
	CHECK_INT(add_game(la, "roobet-crash", "2026-05-28T15:05:16.123456Z",
	    TS_LEDGER_IDS, NULL, 0), 0);
	CHECK_INT(add_game(la, "bc-crash", NULL, 0, NULL, 0), 0);
	CHECK_INT(add_game(la, "x", "2026-05-28T15:05:17+02:00", 1, NULL, 0),
	    0);
	CHECK_INT(la->ngames, 4);
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(got, 4);
	CHECK(same_ledger(la, lb));
	CHECK_INT(lb->games[0].cur.sec, 1779980715);
	CHECK_INT(lb->games[1].cur.nsec, 123456000);
	CHECK_INT(lb->games[1].cur.nids, TS_LEDGER_IDS);
	CHECK_INT(lb->games[3].cur.sec, 1779980717 - 2 * 3600);
	empty_dir();
}

/* No games at all; a game with only gaps; gaps that begin and end at
 * one instant; a gap with ids at its to but none at its from. */
static void
round_trip_edges(void)
{
	static const struct gspec g0[] = {
		{ T0, 0, T0, 0 },
		{ T1, 3, T1, 2 },
		{ T2, 0, T3, 1 },
		{ T4, 1, NULL, 0 },
	};
	int got;

	empty_dir();
	CHECK_INT(fresh(la), 0);
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(got, 0);
	CHECK_INT(lb->ngames, 0);
	CHECK_INT(add_game(la, "a", NULL, 0, g0, 4), 0);
	CHECK_INT(add_game(la, "b", T5, 0, g0 + 3, 1), 0);
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(got, 2);
	CHECK(same_ledger(la, lb));
	CHECK_INT(lb->games[0].ngaps, 4);
	CHECK_STR(lb->games[0].gap[3].to.text, "");
	empty_dir();
}

/*
 * The most the file holds: every game with a 63-byte slug, a 63-byte
 * time, every id, every gap with every id at both ends.  It fits
 * TS_STATE_MAX_FILE, which load accepts.
 */
static void
round_trip_full(void)
{
	char slug[TS_LEDGER_SLUG_MAX + 32], t[4][TS_LEDGER_TIME_MAX + 16];
	struct gspec gs[TS_LEDGER_GAPS];
	int got, i, k;
	long len;

	empty_dir();
	/* "2026-05-28T15:05:1k." 42 digits "Z": 63 bytes */
	for (k = 0; k < 4; k++)
		snprintf(t[k], sizeof(t[k]), "2026-05-28T15:05:1%d.%s%sZ", k,
		    "12345678901234567890", "1234567890123456789012");
	for (k = 0; k < TS_LEDGER_GAPS; k++) {
		gs[k].from = t[k % 4];
		gs[k].to = t[k % 4];
		gs[k].nfrom = gs[k].nto = TS_LEDGER_IDS;
	}
	CHECK_INT(strlen(t[0]), TS_LEDGER_TIME_MAX - 1);
	CHECK_INT(fresh(la), 0);
	for (i = 0; i < TS_LEDGER_GAMES; i++) {
		snprintf(slug, sizeof(slug), "game-%02d-%.55s", i % 100,
		    "0123456789012345678901234567890123456789012345678901234");
		CHECK_INT(strlen(slug), TS_LEDGER_SLUG_MAX - 1);
		CHECK_INT(add_game(la, slug, t[3], TS_LEDGER_IDS, gs,
		    TS_LEDGER_GAPS), 0);
		CHECK_STR(la->games[i].cur.text, t[3]);
	}
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(got, TS_LEDGER_GAMES);
	CHECK(same_ledger(la, lb));
	len = read_all(path, text1, BIG);
	CHECK(len > 0 && len <= (long)TS_STATE_MAX_FILE);
	empty_dir();
}

/* The exact bytes written, as state.h documents them. */
static void
file_text(void)
{
	static const char body[] = "tsino-state 2\n"
	    "game\tstake-crash\t2026-05-28T15:05:15Z\t1f0e000000000001"
	    "\tffffffffffffffff\n"
	    "gap\t2026-05-28T15:00:00Z\t2026-05-28T15:01:00.5Z\t1"
	    "\t0000000000000001\t0000000000000002\t0000000000000003\n"
	    "gap\t2026-05-28T15:02:00Z\t-\t0\n"
	    "game\tb\t-\n";
	static struct ts_ledger_mark cur;
	static struct ts_ledger_gap gaps[2];
	char want[1024];
	long flen;

	empty_dir();
	memset(&cur, 0, sizeof(cur));
	memset(gaps, 0, sizeof(gaps));
	CHECK_INT(ts_ledger_mark_set(&cur, "2026-05-28T15:05:15Z", 20), 0);
	cur.ids[cur.nids++] = 0x1f0e000000000001ULL;
	cur.ids[cur.nids++] = 0xffffffffffffffffULL;
	CHECK_INT(ts_ledger_mark_set(&gaps[0].from, "2026-05-28T15:00:00Z",
	    20), 0);
	gaps[0].from.ids[gaps[0].from.nids++] = 1;
	CHECK_INT(ts_ledger_mark_set(&gaps[0].to, "2026-05-28T15:01:00.5Z",
	    22), 0);
	gaps[0].to.ids[gaps[0].to.nids++] = 2;
	gaps[0].to.ids[gaps[0].to.nids++] = 3;
	CHECK_INT(ts_ledger_mark_set(&gaps[1].from, "2026-05-28T15:02:00Z",
	    20), 0);
	CHECK_INT(fresh(la), 0);
	CHECK_INT(ts_ledger_restore(la, "stake-crash", &cur, gaps, 2), 0);
	CHECK_INT(add_game(la, "b", NULL, 0, NULL, 0), 0);
	CHECK_INT(save(la), 0);
	snprintf(want, sizeof(want), "%send\t4\t%016llx\n", body,
	    (unsigned long long)sum(body, strlen(body)));
	flen = read_all(path, text1, BIG);
	CHECK_INT(flen, (long)strlen(want));
	CHECK_STR(text1, want);
	empty_dir();
}

/*
 * A version-1 file, exactly as the old tsino wrote it: it loads, and a
 * save writes version 2 with the same game lines; load, save, load gives
 * the same state, and a second save the same bytes.
 */
static void
v1_loads(void)
{
	static const char lines[] =
	    "game\tstake-crash\t2026-05-28T15:05:15Z\t1f0e000000000001"
	    "\tffffffffffffffff\n"
	    "game\troobet-crash\t2026-05-28T17:05:16.123456+02:00\n"
	    "game\tbc-crash\t-\n"
	    /* the longest time version 1 kept: 47 bytes */
	    "game\tx\t2026-05-28T15:05:15.12345678901234567890123456Z"
	    "\t0000000000000001\n";
	char v1[1024], v2[1024];
	struct ts_ledger_game *g;
	long len;
	int got;

	empty_dir();
	snprintf(v1, sizeof(v1), "tsino-state 1\n%s", lines);
	snprintf(v2, sizeof(v2), "tsino-state 2\n%s", lines);
	CHECK_INT(with_sum(v1, 4), 0);
	CHECK_INT(load_into(la, &got), 0);
	CHECK_INT(got, 4);
	CHECK_INT(la->ngames, 4);
	g = &la->games[0];
	CHECK_STR(g->slug, "stake-crash");
	CHECK_STR(g->cur.text, "2026-05-28T15:05:15Z");
	CHECK_INT(g->cur.sec, 1779980715);
	CHECK_INT(g->cur.nsec, 0);
	CHECK_INT(g->cur.nids, 2);
	CHECK(g->cur.ids[0] == 0x1f0e000000000001ULL);
	CHECK(g->cur.ids[1] == 0xffffffffffffffffULL);
	CHECK_INT(g->ngaps, 0);
	g = &la->games[1];
	CHECK_STR(g->slug, "roobet-crash");
	CHECK_STR(g->cur.text, "2026-05-28T17:05:16.123456+02:00");
	CHECK_INT(g->cur.sec, 1779980716);
	CHECK_INT(g->cur.nsec, 123456000);
	CHECK_INT(g->cur.nids, 0);
	g = &la->games[2];
	CHECK_STR(g->slug, "bc-crash");
	CHECK_STR(g->cur.text, "");
	CHECK_INT(g->cur.nids, 0);
	g = &la->games[3];
	CHECK_INT(strlen(g->cur.text), 47);
	CHECK_INT(g->cur.sec, 1779980715);
	CHECK_INT(g->cur.nsec, 123456789);
	CHECK_INT(g->cur.nids, 1);
	CHECK(g->cur.ids[0] == 1);
	/* Saved as version 2: the same lines, a new header and end. */
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(got, 4);
	CHECK(same_ledger(la, lb));
	len = read_all(path, text1, BIG);
	CHECK_INT((size_t)len, sum_text(v2, 4));
	CHECK_STR(text1, text3);
	/* and again: the same bytes */
	CHECK_INT(save_load(lb, lc, &got), 0);
	CHECK(same_ledger(lb, lc));
	CHECK_INT(read_all(path, text2, BIG), len);
	CHECK_STR(text2, text1);
	empty_dir();
}

/*
 * Version-2 files with gap lines, written by hand, round-trip exactly:
 * what save writes back is the file loaded, byte for byte, and
 * ts_state_parse of the bytes gives what load gave.
 */
static void
v2_gaps_round_trip(void)
{
	static const char *const bodies[] = {
		"tsino-state 2\n",
		"tsino-state 2\ngame\ta\t-\n",
		"tsino-state 2\n"
		    "game\ta\t" T5 "\t" ID1 "\t" ID2 "\n"
		    "gap\t" T0 "\t" T1 "\t1\t" ID1 "\t" ID2 "\t" ID1 "\n"
		    "gap\t" T1 "\t" T1 "\t0\n"
		    "gap\t2026-01-01T00:00:02.5Z\t2026-01-01T01:00:03+01:00"
		    "\t2\t" ID1 "\t" ID2 "\n"
		    "gap\t" T4 "\t-\t0\n"
		    "game\tb b\t" T0 "\n"
		    "game\tc\t-\n"
		    "gap\t" T3 "\t-\t1\t" ID2 "\n"
		    "game\t\xc3\xa9t\xc3\xa9\t2026-01-01t00:00:00.000000001z\n",
	};
	struct ts_ledger_game *g;
	size_t i, n;
	long len;
	int got;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		empty_dir();
		n = sum_text(bodies[i], lines_of(bodies[i]));
		CHECK_INT(write_file(path, text3, n), 0);
		CHECK_INT(load_into(la, &got), 0);
		CHECK_INT(save_load(la, lb, &got), 0);
		CHECK(same_ledger(la, lb));
		len = read_all(path, text1, BIG);
		CHECK_INT((size_t)len, n);
		CHECK_STR(text1, text3);
		CHECK_INT(fresh(lc), 0);
		CHECK_INT(ts_state_parse(text1, (size_t)len, lc, &got, "x", why,
		    sizeof(why)), 0);
		CHECK_INT(got, lc->ngames);
		CHECK(same_ledger(la, lc));
	}
	/* The last file, field by field. */
	CHECK_INT(la->ngames, 4);
	g = &la->games[0];
	CHECK_STR(g->cur.text, T5);
	CHECK_INT(g->cur.nids, 2);
	CHECK(g->cur.ids[1] == 0xff);
	CHECK_INT(g->ngaps, 4);
	CHECK_STR(g->gap[0].from.text, T0);
	CHECK_INT(g->gap[0].from.sec, T0_SEC);
	CHECK_INT(g->gap[0].from.nids, 1);
	CHECK(g->gap[0].from.ids[0] == 1);
	CHECK_STR(g->gap[0].to.text, T1);
	CHECK_INT(g->gap[0].to.nids, 2);
	CHECK(g->gap[0].to.ids[0] == 0xff && g->gap[0].to.ids[1] == 1);
	CHECK_INT(g->gap[1].from.nids + g->gap[1].to.nids, 0);
	CHECK_INT(g->gap[2].from.nsec, 500000000);
	CHECK_INT(g->gap[2].from.nids, 2);
	CHECK_INT(g->gap[2].to.sec, T0_SEC + 3);
	CHECK_INT(g->gap[2].to.nids, 0);
	CHECK_STR(g->gap[3].to.text, "");
	CHECK_INT(g->gap[3].to.nids, 0);
	CHECK_STR(la->games[1].slug, "b b");
	CHECK_INT(la->games[1].ngaps, 0);
	g = &la->games[2];
	CHECK_STR(g->cur.text, "");
	CHECK_INT(g->ngaps, 1);
	CHECK_INT(g->gap[0].from.nids, 1);
	CHECK_INT(la->games[3].cur.nsec, 1);
	empty_dir();
}

/*
 * A finalized_at of 64 bytes or more: ts_ledger_mark_set keeps it as
 * its instant in UTC with nine fraction digits, which round-trips as a
 * cursor, a gap's from and a gap's to.
 */
static void
long_time_round_trip(void)
{
	static const char long_t[] = "2026-05-28T17:05:15.1234567891234"
	    "5678912345678912345678912345678+02:00";
	static const char long_u[] = "2026-05-28T15:05:16.9999999999999"
	    "9999999999999999999999999999999999Z";
	struct ts_ledger_mark m;
	struct gspec gs[1];
	int got;

	empty_dir();
	CHECK(strlen(long_t) >= TS_LEDGER_TIME_MAX);
	CHECK(strlen(long_u) >= TS_LEDGER_TIME_MAX);
	CHECK_INT(mark(&m, "a", long_t, 0, 0), 0);
	CHECK_STR(m.text, "2026-05-28T15:05:15.123456789Z");
	CHECK_INT(m.sec, 1779980715);
	CHECK_INT(m.nsec, 123456789);
	CHECK_INT(mark(&m, "a", long_u, 0, 0), 0);
	CHECK_STR(m.text, "2026-05-28T15:05:16.999999999Z");
	gs[0].from = long_t;
	gs[0].nfrom = 3;
	gs[0].to = long_u;
	gs[0].nto = 2;
	CHECK_INT(fresh(la), 0);
	CHECK_INT(add_game(la, "a", long_u, 5, gs, 1), 0);
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(got, 1);
	CHECK(same_ledger(la, lb));
	CHECK_STR(lb->games[0].gap[0].from.text,
	    "2026-05-28T15:05:15.123456789Z");
	CHECK(read_all(path, text1, BIG) > 0);
	CHECK(strstr(text1, "\t2026-05-28T15:05:16.999999999Z\t") != NULL);
	empty_dir();
}

static void
missing_file(void)
{
	int got = 7;

	empty_dir();
	CHECK_INT(load(&got), 0);
	CHECK_INT(got, 0);
	CHECK_INT(lb->ngames, 0);
	empty_dir();
}

/*
 * A symlink planted at FILE.tmp (issue 13): save removes the link, does
 * not follow it, and writes a regular file; the link's target stays as
 * it was.  A stale regular FILE.tmp is replaced the same way.
 */
static void
temp_symlink(void)
{
	char tmp[160], victim[160], text[64];
	struct stat st;
	int got;

	empty_dir();
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	CHECK_INT(write_file(victim, "precious\n", 9), 0);
	CHECK_INT(symlink(victim, tmp), 0);
	CHECK_INT(fresh(la), 0);
	CHECK_INT(add_game(la, "a", T0, 1, NULL, 0), 0);
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(got, 1);
	CHECK(read_all(victim, text, sizeof(text)) == 9);
	CHECK_STR(text, "precious\n");
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK((st.st_mode & 0777) == 0600);
	CHECK(lstat(tmp, &st) < 0 && errno == ENOENT);
	/* a stale regular temp file */
	CHECK_INT(write_file(tmp, "junk", 4), 0);
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK(lstat(tmp, &st) < 0 && errno == ENOENT);
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
	CHECK_INT(fresh(la), 0);
	CHECK_INT(add_game(la, "a", T0, 1, NULL, 0), 0);
	CHECK_INT(save_load(la, lb, &got), 0);
	CHECK_INT(save_load(la, lb, &got), 0);
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

/* The lock against a second process, and close is idempotent. */
static void
locked(void)
{
	struct ts_state s, s2;

	empty_dir();
	CHECK_INT(ts_state_open(&s, path, why, sizeof(why)), 0);
	CHECK_INT(open_in_child(), 1);
	ts_state_close(&s);
	ts_state_close(&s);	/* idempotent */
	CHECK_INT(s.lock_fd, -1);
	CHECK_INT(open_in_child(), 0);
	CHECK_INT(ts_state_open(&s, path, why, sizeof(why)), 0);
	/* flock(2) locks belong to the open file: this process too. */
	CHECK_INT(ts_state_open(&s2, path, why, sizeof(why)),
	    TS_ERR_STATE_LOCKED);
	CHECK(strstr(why, path) != NULL);
	ts_state_close(&s2);	/* a failed open leaves nothing to close */
	ts_state_close(&s);
	CHECK_INT(ts_state_open(&s2, path, why, sizeof(why)), 0);
	ts_state_close(&s2);
	empty_dir();
}

/* The valid file the corruptions start from (v2, with gaps); its text
 * in buf. */
static long
valid_file(char *buf, size_t cap)
{
	static const struct gspec gs[] = {
		{ T0, 1, T1, 1 },
		{ T2, 0, NULL, 0 },
	};
	int got;

	empty_dir();
	if (fresh(la) != 0 ||
	    add_game(la, "stake-crash", T3, 2, gs, 2) != 0 ||
	    add_game(la, "roobet-crash", NULL, 0, NULL, 0) != 0 ||
	    save_load(la, lb, &got) != 0 || got != 2)
		return -1;
	return read_all(path, buf, cap);
}

static void
corrupt_magic(void)
{
	static const char *const heads[] = {
		"tsino-state 3\n", "tsino-state 0\n", "tsino-state 1\r\n",
		"tsino-state 2\r\n", "tsino-state 02\n", "tsino-state 2 \n",
		"Tsino-state 2\n", "tsino-state\n", "tsino-state 2",
		"\ntsino-state 2\n",
	};
	char buf[1024];
	long len = valid_file(buf, sizeof(buf));
	size_t i;
	int got;

	CHECK(len > 0);
	CHECK(memcmp(buf, "tsino-state 2\n", 14) == 0);
	buf[12] = '3';
	CHECK_INT(write_file(path, buf, (size_t)len), 0);
	CHECK(is_corrupt());
	CHECK(strstr(why, "first line") != NULL);
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		CHECK_INT(with_sum(heads[i], 0), 0);
		if (!is_corrupt()) {
			printf(" (head %zu)", i);
			CHECK(0);
		}
	}
	/* The controls: both versions with no games load. */
	CHECK_INT(with_sum("tsino-state 1\n", 0), 0);
	CHECK_INT(load(&got), 0);
	CHECK_INT(got, 0);
	CHECK_INT(with_sum("tsino-state 2\n", 0), 0);
	CHECK_INT(load(&got), 0);
	empty_dir();
}

/* Any single flipped bit anywhere is caught. */
static void
corrupt_flipped(void)
{
	char buf[1024], orig[1024];
	long len = valid_file(orig, sizeof(orig)), i;
	int bit, got;

	CHECK(len > 0);
	CHECK_INT(load(&got), 0);
	CHECK(strstr(orig, "\ngap\t") != NULL);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
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
	buf[strlen("tsino-state 2\ngame\ts")] ^= 1;
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
	buf[len] = '\0';
	CHECK_INT(write_file(path, buf, (size_t)len + 1), 0);
	CHECK(is_corrupt());
	empty_dir();
}

/*
 * Lines with a correct checksum that still do not parse, each in
 * version 1 and version 2 (the old test's list; times are set where the
 * old one had "-" before ids, because version 2 refuses ids at no
 * instant: corrupt_v2).
 */
static void
corrupt_lines(void)
{
	static const char *const bodies[] = {
		"game\ta\t" T0 "\t1F0E000000000001\n",	/* upper case hex */
		"game\ta\t" T0 "\t1f0e00000000001\n",	/* 15 digits */
		"game\ta\t" T0 "\t1f0e0000000000011\n",	/* 17 digits */
		"game\ta\t" T0 "\t1f0e00000000000g\n",	/* not hex */
		"game\ta\t" T0 "\t 1f0e00000000001\n",	/* a space */
		"game\ta\t" T0 "\t\n",			/* empty id */
		/* a trailing tab */
		"game\ta\t" T0 "\t1f0e000000000001\t\n",
		"game\t\t-\n",				/* empty slug */
		"game\t-\t-\n",				/* slug "-" */
		"game\ta\t\n",				/* empty time */
		"game\ta\n",				/* no time */
		"game\n",
		"games\ta\t-\n",
		"Game\ta\t-\n",
		"\n",
		"game\ta\r\t-\n",			/* control character */
		"game\ta\t" T0 "\r\n",
		"game\ta\x7f\t-\n",
		"game\ta\x01\t-\n",
		"game\ta\t-\tend\n",
		"game\ta\tnot a time\n",
		"game\ta\t2026-02-30T00:00:00Z\n",	/* no such day */
		"game\ta\t2026-01-01 00:00:00Z\n",
		"game\ta\t2026-01-01T00:00:00\n",	/* no offset */
		"game\ta\t" T0 " \n",
		"game\ta\t--\n",
		/* a slug of 64 bytes, one too many */
		("game\t0123456789012345678901234567890123456789012345678901"
		    "234567890123\t-\n"),
	};
	char body[512];
	size_t i;
	int v, got;

	empty_dir();
	for (v = 1; v <= 2; v++)
		for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
			snprintf(body, sizeof(body), "tsino-state %d\n%s", v,
			    bodies[i]);
			CHECK_INT(with_sum(body, 1), 0);
			if (!is_corrupt()) {
				printf(" (v%d line %zu)", v, i);
				CHECK(0);
			}
		}
	/* A NUL byte in a slug, in a time, in an id. */
	for (i = 0; i < 3; i++) {
		static const char *const nul[] = {
			"tsino-state 2\ngame\ta@b\t-\n",
			"tsino-state 2\ngame\ta\t" T0 "@\n",
			"tsino-state 2\ngame\ta\t" T0 "\t00000000@0000001\n",
		};
		size_t n = strlen(nul[i]);

		memcpy(text1, nul[i], n + 1);
		*strchr(text1, '@') = '\0';
		n = (size_t)snprintf(text2, BIG, "end\t1\t%016llx\n",
		    (unsigned long long)sum(text1, n));
		memcpy(text1 + strlen(nul[i]), text2, n);
		CHECK_INT(write_file(path, text1, strlen(nul[i]) + n), 0);
		if (!is_corrupt()) {
			printf(" (NUL %zu)", i);
			CHECK(0);
		}
	}
	/* The controls: the same shapes with good values load. */
	for (v = 1; v <= 2; v++) {
		snprintf(body, sizeof(body), "tsino-state %d\n"
		    "game\ta\t" T0 "\t1f0e000000000001\n"
		    "game\t0123456789012345678901234567890123456789012345678901"
		    "23456789012\t-\n", v);
		CHECK_INT(with_sum(body, 2), 0);
		CHECK_INT(load(&got), 0);
		CHECK_INT(got, 2);
	}
	empty_dir();
}

/*
 * Version-2 corruptions.  Each bad file has a good twin that differs
 * only in the defect, so that the case shows the defect is what is
 * refused.  End lines are made with the right count and checksum.
 */
static void
corrupt_v2(void)
{
	static const struct {
		const char *bad, *good;
	} twins[] = {
		/* a gap line before any game line */
		{ "tsino-state 2\ngap\t" T0 "\t-\t0\ngame\ta\t" T1 "\n",
		  "tsino-state 2\ngame\ta\t" T1 "\ngap\t" T0 "\t-\t0\n" },
		/* more than TS_LEDGER_GAPS (4) gaps */
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t0\ngap\t" T1 "\t" T2 "\t0\n"
		  "gap\t" T2 "\t" T3 "\t0\ngap\t" T3 "\t" T4 "\t0\n"
		  "gap\t" T4 "\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t0\ngap\t" T1 "\t" T2 "\t0\n"
		  "gap\t" T2 "\t" T3 "\t0\ngap\t" T3 "\t-\t0\n" },
		/* four gaps each for two games is fine, five for the second
		 * is not */
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n"
		  "game\tb\t-\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n"
		  "gap\t" T0 "\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n"
		  "game\tb\t-\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n"
		  "gap\t" T0 "\t-\t0\ngap\t" T0 "\t-\t0\n" },
		/* K larger than the ids given */
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t2\t" ID1 "\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t1\t" ID1 "\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t1\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t0\n" },
		/* K > 256 */
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t257\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t999\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t4294967297\t" ID1 "\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t1\t" ID1 "\n" },
		/* K not a count */
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\tx\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t-1\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t+1\t" ID1 "\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t1\t" ID1 "\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t1 \t" ID1 "\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t1\t" ID1 "\n" },
		/* a gap whose to is before its from: by seconds, by
		 * nanoseconds, and by instant where the text sorts later */
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T2 "\t" T1 "\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T1 "\t" T2 "\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t2026-01-01T00:00:00.5Z\t2026-01-01T00:00:00.25Z\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t2026-01-01T00:00:00.5Z\t2026-01-01T00:00:00.500Z"
		  "\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t2026-01-01T00:30:00Z\t2026-01-01T01:00:00+01:00"
		  "\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t2026-01-01T00:30:00Z\t2026-01-01T01:30:00+01:00"
		  "\t0\n" },
		/* a "-" from */
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t-\t" T1 "\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t" T1 "\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t-\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		/* ids after a "-" time: a gap's to, a game's cursor */
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t-\t0\t" ID1 "\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t0\t" ID1 "\n" },
		{ "tsino-state 2\ngame\ta\t-\t" ID1 "\n",
		  "tsino-state 2\ngame\ta\t" T0 "\t" ID1 "\n" },
		/* a game named twice, next to each other or not */
		{ "tsino-state 2\ngame\ta\t" T0 "\ngame\ta\t" T1 "\n",
		  "tsino-state 2\ngame\ta\t" T0 "\ngame\tb\t" T1 "\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n"
		  "game\tb\t-\ngame\ta\t-\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n"
		  "game\tb\t-\ngame\tc\t-\n" },
		/* bad hex: at the cursor, in from-ids, in to-ids */
		{ "tsino-state 2\ngame\ta\t" T5 "\t00000000000000FF\n",
		  "tsino-state 2\ngame\ta\t" T5 "\t00000000000000ff\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t1\t000000000000000x\t" ID1 "\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t1\t000000000000000a\t" ID1 "\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t1\t" ID1 "\t00000000000001\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t1\t" ID1 "\t0000000000000001\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t0\t" ID1 "\t\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n"
		  "gap\t" T0 "\t" T1 "\t0\t" ID1 "\n" },
		/* a bad time at either end, a gap line cut short */
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\tnow\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\tlater\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t" T1 "\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		/* a version-1 file with a gap line */
		{ "tsino-state 1\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		/* a time of 48 bytes in version 1 (47 is its longest) */
		{ "tsino-state 1\ngame\ta\t"
		  "2026-01-01T00:00:00.123456789012345678901234567Z\n",
		  "tsino-state 1\ngame\ta\t"
		  "2026-01-01T00:00:00.12345678901234567890123456Z\n" },
		/* and of 64 bytes in version 2 (63 is its longest) */
		{ "tsino-state 2\ngame\ta\t"
		  "2026-01-01T00:00:00.1234567890123456789012345678901234567890"
		  "123Z\n",
		  "tsino-state 2\ngame\ta\t"
		  "2026-01-01T00:00:00.1234567890123456789012345678901234567890"
		  "12Z\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\t"
		  "2026-01-01T00:00:00.1234567890123456789012345678901234567890"
		  "123Z\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t"
		  "2026-01-01T00:00:00.1234567890123456789012345678901234567890"
		  "12Z\t-\t0\n" },
		/* unknown lines */
		{ "tsino-state 2\ngame\ta\t" T5 "\nnote\thello\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngaps\t" T0 "\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\nGap\t" T0 "\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n gap\t" T0 "\t-\t0\n",
		  "tsino-state 2\ngame\ta\t" T5 "\ngap\t" T0 "\t-\t0\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\n\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\nend\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n" },
		{ "tsino-state 2\ngame\ta\t" T5 "\ngap\n",
		  "tsino-state 2\ngame\ta\t" T5 "\n" },
	};
	size_t i;
	int got;

	empty_dir();
	for (i = 0; i < sizeof(twins) / sizeof(twins[0]); i++) {
		CHECK_INT(with_sum(twins[i].bad, lines_of(twins[i].bad)), 0);
		if (!is_corrupt()) {
			printf(" (bad %zu)", i);
			CHECK(0);
		}
		CHECK_INT(with_sum(twins[i].good, lines_of(twins[i].good)), 0);
		if (load(&got) != 0) {
			printf(" (good %zu: %s)", i, why);
			CHECK(0);
		}
	}
	empty_dir();
}

/* The end line must hold the right count, in its exact form: games in
 * version 1, game and gap lines in version 2. */
static void
corrupt_end_line(void)
{
	const char *v1 = "tsino-state 1\ngame\ta\t-\ngame\tb\t-\n";
	const char *v2 = "tsino-state 2\ngame\ta\t" T1 "\ngap\t" T0
	    "\t-\t0\n";
	char buf[256];
	int got;

	empty_dir();
	CHECK_INT(with_sum(v1, 3), 0);
	CHECK(is_corrupt());
	CHECK(strstr(why, "checksum") != NULL);
	CHECK_INT(with_sum(v1, 1), 0);
	CHECK(is_corrupt());
	CHECK_INT(with_sum(v1, 0), 0);
	CHECK(is_corrupt());
	CHECK_INT(with_sum(v1, -2), 0);
	CHECK(is_corrupt());
	CHECK_INT(with_sum(v2, 1), 0);	/* games, not lines */
	CHECK(is_corrupt());
	CHECK_INT(with_sum(v2, 3), 0);
	CHECK(is_corrupt());
	snprintf(buf, sizeof(buf), "%send\t02\t%016llx\n", v2,
	    (unsigned long long)sum(v2, strlen(v2)));
	CHECK_INT(write_file(path, buf, strlen(buf)), 0);
	CHECK(is_corrupt());
	snprintf(buf, sizeof(buf), "%send\t2\t%016llX\n", v2,
	    (unsigned long long)sum(v2, strlen(v2)));
	CHECK_INT(write_file(path, buf, strlen(buf)), 0);
	CHECK(is_corrupt());
	snprintf(buf, sizeof(buf), "%send\t2\t%016llx\t\n", v2,
	    (unsigned long long)sum(v2, strlen(v2)));
	CHECK_INT(write_file(path, buf, strlen(buf)), 0);
	CHECK(is_corrupt());
	/* the checksum of the body without its header */
	snprintf(buf, sizeof(buf), "%send\t2\t%016llx\n", v2,
	    (unsigned long long)sum(v2 + 14, strlen(v2) - 14));
	CHECK_INT(write_file(path, buf, strlen(buf)), 0);
	CHECK(is_corrupt());
	/* No newline after the end line. */
	snprintf(buf, sizeof(buf), "%send\t2\t%016llx", v2,
	    (unsigned long long)sum(v2, strlen(v2)));
	CHECK_INT(write_file(path, buf, strlen(buf)), 0);
	CHECK(is_corrupt());
	/* The controls. */
	CHECK_INT(with_sum(v1, 2), 0);
	CHECK_INT(load(&got), 0);
	CHECK_INT(got, 2);
	CHECK_INT(with_sum(v2, 2), 0);
	CHECK_INT(load(&got), 0);
	CHECK_INT(got, 1);
	empty_dir();
}

/* n ids "\t%016x" of 0..n-1 appended at text[len]; the new length. */
static size_t
put_ids(char *text, size_t len, int n)
{
	int i;

	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, BIG - len, "\t%016x", i);
	return len;
}

/* TS_LEDGER_IDS ids at one instant load, one more does not. */
static void
corrupt_too_many_ids(void)
{
	size_t len;
	int v, got;

	empty_dir();
	for (v = 1; v <= 2; v++) {
		len = (size_t)snprintf(text1, BIG, "tsino-state %d\n"
		    "game\ta\t" T0, v);
		len = put_ids(text1, len, TS_LEDGER_IDS);
		snprintf(text1 + len, BIG - len, "\n");
		CHECK_INT(with_sum(text1, 1), 0);
		CHECK_INT(load(&got), 0);
		CHECK_INT(lb->games[0].cur.nids, TS_LEDGER_IDS);
		len = put_ids(text1, len, 1);
		snprintf(text1 + len, BIG - len, "\n");
		CHECK_INT(with_sum(text1, 1), 0);
		CHECK(is_corrupt());
	}
	/* A gap with every id at both ends; one more at its to. */
	len = (size_t)snprintf(text1, BIG, "tsino-state 2\ngame\ta\t" T5
	    "\ngap\t" T0 "\t" T1 "\t%d", TS_LEDGER_IDS);
	len = put_ids(text1, len, 2 * TS_LEDGER_IDS);
	snprintf(text1 + len, BIG - len, "\n");
	CHECK_INT(with_sum(text1, 2), 0);
	CHECK_INT(load(&got), 0);
	CHECK_INT(lb->games[0].gap[0].from.nids, TS_LEDGER_IDS);
	CHECK_INT(lb->games[0].gap[0].to.nids, TS_LEDGER_IDS);
	len = put_ids(text1, len, 1);
	snprintf(text1 + len, BIG - len, "\n");
	CHECK_INT(with_sum(text1, 2), 0);
	CHECK(is_corrupt());
	/* K = 257 with 257 from-ids given */
	len = (size_t)snprintf(text1, BIG, "tsino-state 2\ngame\ta\t" T5
	    "\ngap\t" T0 "\t" T1 "\t%d", TS_LEDGER_IDS + 1);
	len = put_ids(text1, len, TS_LEDGER_IDS + 1);
	snprintf(text1 + len, BIG - len, "\n");
	CHECK_INT(with_sum(text1, 2), 0);
	CHECK(is_corrupt());
	/* A line of many more fields than any valid one. */
	len = (size_t)snprintf(text1, BIG, "tsino-state 2\ngame\ta\t" T0);
	len = put_ids(text1, len, 4 * TS_LEDGER_IDS);
	snprintf(text1 + len, BIG - len, "\n");
	CHECK_INT(with_sum(text1, 1), 0);
	CHECK(is_corrupt());
	empty_dir();
}

/* TS_LEDGER_GAMES games load; one more does not. */
static void
corrupt_too_many_games(void)
{
	size_t len;
	int i, v, got;

	empty_dir();
	for (v = 1; v <= 2; v++) {
		len = (size_t)snprintf(text1, BIG, "tsino-state %d\n", v);
		for (i = 0; i < TS_LEDGER_GAMES; i++)
			len += (size_t)snprintf(text1 + len, BIG - len,
			    "game\tg%d\t-\n", i);
		CHECK_INT(with_sum(text1, TS_LEDGER_GAMES), 0);
		CHECK_INT(load(&got), 0);
		CHECK_INT(got, TS_LEDGER_GAMES);
		snprintf(text1 + len, BIG - len, "game\tg%d\t-\n", i);
		CHECK_INT(with_sum(text1, TS_LEDGER_GAMES + 1), 0);
		CHECK(is_corrupt());
	}
	empty_dir();
}

/* A file bigger than any valid one is refused before parsing. */
static void
corrupt_too_big(void)
{
	empty_dir();
	memset(text1, 'x', TS_STATE_MAX_FILE + 1);
	CHECK_INT(write_file(path, text1, TS_STATE_MAX_FILE + 1), 0);
	CHECK(is_corrupt());
	CHECK(strstr(why, "too big") != NULL);
	empty_dir();
}

/* ts_state_parse refuses what load refuses, with name in the words. */
static void
parse_in_memory(void)
{
	static const char bad[] = "tsino-state 2\ngame\ta\t-\n";
	char w[256];
	size_t n;
	int got = 5;

	CHECK_INT(fresh(lc), 0);
	CHECK_INT(ts_state_parse(bad, strlen(bad), lc, &got, "NAME", w,
	    sizeof(w)), TS_ERR_STATE_CORRUPT);
	CHECK_INT(got, 0);
	CHECK(strstr(w, "NAME") != NULL);
	n = sum_text(bad, 1);
	CHECK_INT(fresh(lc), 0);
	CHECK_INT(ts_state_parse(text3, n, lc, &got, "NAME", w, sizeof(w)), 0);
	CHECK_INT(got, 1);
	CHECK_INT(fresh(lc), 0);
	CHECK_INT(ts_state_parse(text3, 0, lc, &got, "NAME", w, sizeof(w)),
	    TS_ERR_STATE_CORRUPT);
	/* a small why is cut, not overrun */
	CHECK_INT(fresh(lc), 0);
	memset(w, 'z', sizeof(w));
	CHECK_INT(ts_state_parse(bad, strlen(bad), lc, &got, "NAME", w, 8),
	    TS_ERR_STATE_CORRUPT);
	CHECK_INT(strlen(w), 7);
	CHECK(w[8] == 'z');
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
	ts_state_close(&s);
	/* A directory that vanished after the lock was taken. */
	s.lock_fd = -1;
	snprintf(s.path, sizeof(s.path), "%s", p);
	CHECK_INT(fresh(la), 0);
	CHECK_INT(add_game(la, "a", NULL, 0, NULL, 0), 0);
	CHECK_INT(ts_state_save(&s, la, why, sizeof(why)), TS_ERR_STATE_IO);
	CHECK(strstr(why, "missing") != NULL);
	empty_dir();
}

/* The path is a directory: read fails, which is not corruption; and a
 * save cannot rename over it. */
static void
io_read_error(void)
{
	char tmp[160];
	int got;

	empty_dir();
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK_INT(load(&got), TS_ERR_STATE_IO);
	CHECK_INT(fresh(la), 0);
	CHECK_INT(add_game(la, "a", T0, 1, NULL, 0), 0);
	CHECK_INT(save(la), TS_ERR_STATE_IO);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
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
	CHECK_INT(s.lock_fd, -1);
}

/*
 * Any game_id the engine keeps is saved (issue 13 item 1: one odd slug
 * used to stop every later save): a tab, a control byte, 0x7f, a
 * backslash and a lone "-" are written \xNN and read back the same,
 * next to a good game; the file's lines hold no raw control byte.  A
 * version-2 slug with a bad escape, or a plain "-", is corrupt.
 */
static void
odd_slugs_round_trip(void)
{
	static const char *const slugs[] = {
		"a\tb", "a\nb", "a\rb", "\x01", "a\x1f", "a\x7f", "-",
		"a\\b", "\\x41", "\xc3\xa9", "--", "a-",
	};
	static const char *const bad[] = {
		"a\\x00", "a\\x4", "a\\y41", "a\\X41", "a\\x4g", "a\\",
		"-",
	};
	char body[256];
	const char *p;
	size_t i;
	int got;

	for (i = 0; i < sizeof(slugs) / sizeof(slugs[0]); i++) {
		empty_dir();
		CHECK_INT(fresh(la), 0);
		CHECK_INT(add_game(la, "good", T0, 1, NULL, 0), 0);
		CHECK_INT(add_game(la, slugs[i], T1, 1, NULL, 0), 0);
		CHECK_INT(save_load(la, lb, &got), 0);
		CHECK_INT(got, 2);
		CHECK(same_ledger(la, lb));
		CHECK_STR(lb->games[1].slug, slugs[i]);
		/* kept, but only a slug is ever fetched (review of issue
		 * 13: "cannot build the REST URL" was fatal at each start) */
		CHECK(ts_ledger_connected(lb, "") > 0);
		CHECK_INT(lb->games[0].tail, 1);
		CHECK_INT(lb->games[1].tail,
		    ts_round_slug_ok(slugs[i], strlen(slugs[i])));
		CHECK(read_all(path, text2, BIG) > 0);
		for (p = text2; *p != '\0'; p++)
			CHECK((unsigned char)*p >= 0x20 || *p == '\t' ||
			    *p == '\n');
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		empty_dir();
		snprintf(body, sizeof(body), "tsino-state 2\ngame\t%s\t-\n",
		    bad[i]);
		CHECK_INT(with_sum(body, 1), 0);
		if (!is_corrupt()) {
			printf(" (slug %zu)", i);
			CHECK(0);
		}
	}
	empty_dir();
}

/*
 * What save writes, load reads; or save refuses (TS_ERR_STATE_IO) and
 * the old file stays (state.h: "also when a game holds a value the file
 * cannot").  Values a ledger can hold that load refuses: a gap whose to
 * is before its from (the ledger makes one when a live round older than
 * the cursor is the first held during a tail and the backfill stops),
 * a gap with no from, ids at no instant.
 */
static void
save_only_loadable(void)
{
	static struct ts_ledger_gap gap;
	static struct ts_ledger_mark cur;
	long len;
	int i, rc, got, bad = 0;

	for (i = 0; i < 4; i++) {
		len = valid_file(text1, BIG);
		CHECK(len > 0);
		memset(&cur, 0, sizeof(cur));
		memset(&gap, 0, sizeof(gap));
		CHECK_INT(ts_ledger_mark_set(&cur, T5, strlen(T5)), 0);
		CHECK_INT(ts_ledger_mark_set(&gap.from, T2, strlen(T2)), 0);
		CHECK_INT(ts_ledger_mark_set(&gap.to, T3, strlen(T3)), 0);
		switch (i) {
		case 0:		/* the control: a good gap */
			break;
		case 1:		/* to before from */
			CHECK_INT(ts_ledger_mark_set(&gap.to, T1, strlen(T1)),
			    0);
			break;
		case 2:		/* no from */
			memset(&gap.from, 0, sizeof(gap.from));
			break;
		case 3:		/* ids at no instant */
			memset(&cur, 0, sizeof(cur));
			cur.ids[cur.nids++] = 1;
			break;
		}
		CHECK_INT(fresh(la), 0);
		CHECK_INT(ts_ledger_restore(la, "a", &cur, &gap, 1), 0);
		rc = save(la);
		if (rc == 0) {
			rc = load(&got);
			if (rc != 0) {
				printf(" (%d: saved, then load %d: %s)", i, rc,
				    why);
				bad = 1;
			}
		} else if (rc != TS_ERR_STATE_IO ||
		    read_all(path, text2, BIG) != len ||
		    memcmp(text1, text2, (size_t)len) != 0) {
			printf(" (%d: save %d, old file changed)", i, rc);
			bad = 1;
		}
	}
	CHECK(!bad);
	empty_dir();
}

static const struct test_case cases[] = {
	TEST(round_trip),
	TEST(round_trip_edges),
	TEST(round_trip_full),
	TEST(file_text),
	TEST(v1_loads),
	TEST(v2_gaps_round_trip),
	TEST(long_time_round_trip),
	TEST(missing_file),
	TEST(no_temp_left),
	TEST(temp_symlink),
	TEST(locked),
	TEST(corrupt_magic),
	TEST(corrupt_flipped),
	TEST(corrupt_truncated),
	TEST(corrupt_empty),
	TEST(corrupt_trailing),
	TEST(corrupt_lines),
	TEST(corrupt_v2),
	TEST(corrupt_end_line),
	TEST(corrupt_too_many_ids),
	TEST(corrupt_too_many_games),
	TEST(corrupt_too_big),
	TEST(parse_in_memory),
	TEST(io_missing_dir),
	TEST(io_read_error),
	TEST(path_too_long),
	TEST(odd_slugs_round_trip),
	TEST(save_only_loadable),
};

int
main(int argc, char **argv)
{
	static char hold_buf[4096], page_buf[4096];
	int rc;

	la = calloc(1, sizeof(*la));
	lb = calloc(1, sizeof(*lb));
	lc = calloc(1, sizeof(*lc));
	text1 = malloc(BIG);
	text2 = malloc(BIG);
	text3 = malloc(BIG);
	cfg.emit = emit_none;
	cfg.log = log_none;
	cfg.hold_buf = hold_buf;
	cfg.hold_cap = sizeof(hold_buf);
	cfg.hold_e = calloc(4, sizeof(*cfg.hold_e));
	cfg.hold_ecap = 4;
	cfg.hold_max = 4;
	cfg.page_buf = page_buf;
	cfg.page_cap = sizeof(page_buf);
	cfg.page_e = calloc(4, sizeof(*cfg.page_e));
	cfg.page_ecap = 4;
	if (la == NULL || lb == NULL || lc == NULL || text1 == NULL ||
	    text2 == NULL || text3 == NULL || cfg.hold_e == NULL ||
	    cfg.page_e == NULL || fresh(la) != 0) {
		printf("out of memory or bad ledger config\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "/tmp/tsino-test-state-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	rc = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	empty_dir();
	rmdir(dir);
	free(la);
	free(lb);
	free(lc);
	free(text1);
	free(text2);
	free(text3);
	free(cfg.hold_e);
	free(cfg.page_e);
	return rc;
}
