/*
 * fuzz_state: the resume file's parser (src/state.h) on arbitrary bytes.
 * Parsing is one call over the whole file, so there is no split to
 * fuzz.  Each input runs twice:
 *
 *	as it is		ts_state_parse on the bytes;
 *	with its end line made	everything up to its last line that
 *				starts with "end<TAB>" (or all of it),
 *				then a correct end line: so that mutations
 *				reach the accepting path, which the
 *				checksum would otherwise keep them from.
 *
 * A refusal must be TS_ERR_STATE_CORRUPT, with 0 games and words that
 * say "corrupt".  An accepted file must save (ts_state_save), the
 * text saved must parse again into a fresh ledger, and save again to
 * the same bytes; both ledgers' persistent parts (slug, cursor, gaps)
 * must be equal, and equal to what the game count said.  A violated
 * invariant aborts.
 *
 * The ledgers are large (about 2 MB): allocated once, re-initialised
 * with ts_ledger_init for each input.  The file is saved in a directory
 * made once, under /dev/shm when it can be (no disk behind its fsync),
 * and removed at exit.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsino.h"
#include "base.h"
#include "ledger.h"
#include "state.h"

/* The largest input the made-end run takes (bigger ones run as they
 * are only). */
#define FIX_MAX (1u << 20)

static struct ts_ledger *la, *lb;
static struct ts_ledger_config cfg;
static char *text1, *text2, *fixed;
static struct ts_state st;
static char dir[64], file[96];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
	if (!cond)
		abort();
}

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

static void
cleanup(void)
{
	char lock[128];

	ts_state_close(&st);
	snprintf(lock, sizeof(lock), "%s.lock", file);
	unlink(lock);
	unlink(file);
	rmdir(dir);
}

static void
setup(void)
{
	static char hold_buf[1024], page_buf[1024];
	char why[256];

	if (la != NULL)
		return;
	snprintf(dir, sizeof(dir), "%s/fuzz_state.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	check(mkdtemp(dir) != NULL);
	snprintf(file, sizeof(file), "%s/state", dir);
	check(ts_state_open(&st, file, why, sizeof(why)) == 0);
	atexit(cleanup);
	la = calloc(1, sizeof(*la));
	lb = calloc(1, sizeof(*lb));
	text1 = malloc(TS_STATE_MAX_FILE + 1);
	text2 = malloc(TS_STATE_MAX_FILE + 1);
	fixed = malloc(FIX_MAX + 64);
	cfg.emit = emit_none;
	cfg.log = log_none;
	cfg.hold_buf = hold_buf;
	cfg.hold_cap = sizeof(hold_buf);
	cfg.hold_e = calloc(2, sizeof(*cfg.hold_e));
	cfg.hold_ecap = 2;
	cfg.hold_max = 1;
	cfg.page_buf = page_buf;
	cfg.page_cap = sizeof(page_buf);
	cfg.page_e = calloc(2, sizeof(*cfg.page_e));
	cfg.page_ecap = 2;
	check(la != NULL && lb != NULL && text1 != NULL && text2 != NULL &&
	    fixed != NULL && cfg.hold_e != NULL && cfg.page_e != NULL);
}

static void
check_mark(const struct ts_ledger_mark *a, const struct ts_ledger_mark *b)
{
	size_t n = strnlen(a->text, sizeof(a->text));

	check(n < sizeof(a->text));
	check(strcmp(a->text, b->text) == 0);
	check(a->sec == b->sec && a->nsec == b->nsec);
	check(a->nids >= 0 && a->nids <= TS_LEDGER_IDS);
	check(a->nids == b->nids);
	check(memcmp(a->ids, b->ids, (size_t)a->nids * sizeof(a->ids[0])) ==
	    0);
	/* ids only at an instant */
	check(n > 0 || a->nids == 0);
}

/* The persistent parts of a and b are equal (and sane). */
static void
check_same(const struct ts_ledger *a, const struct ts_ledger *b)
{
	const struct ts_ledger_game *ga, *gb;
	int i, k;

	check(a->ngames >= 0 && a->ngames <= TS_LEDGER_GAMES);
	check(a->ngames == b->ngames);
	for (i = 0; i < a->ngames; i++) {
		ga = &a->games[i];
		gb = &b->games[i];
		check(strnlen(ga->slug, sizeof(ga->slug)) < sizeof(ga->slug));
		check(ga->slug[0] != '\0' && strcmp(ga->slug, "-") != 0);
		check(strcmp(ga->slug, gb->slug) == 0);
		check_mark(&ga->cur, &gb->cur);
		check(ga->ngaps >= 0 && ga->ngaps <= TS_LEDGER_GAPS);
		check(ga->ngaps == gb->ngaps);
		for (k = 0; k < ga->ngaps; k++) {
			check(ga->gap[k].from.text[0] != '\0');
			check_mark(&ga->gap[k].from, &gb->gap[k].from);
			check_mark(&ga->gap[k].to, &gb->gap[k].to);
		}
	}
}

/* l as ts_state_save writes it, read back into text: its length. */
static long
save_text(const struct ts_ledger *l, char *text)
{
	char why[256];
	long n = 0;
	ssize_t r;
	int fd;

	check(ts_state_save(&st, l, why, sizeof(why)) == 0);
	fd = open(file, O_RDONLY);
	check(fd >= 0);
	while ((r = read(fd, text + n, TS_STATE_MAX_FILE + 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	check(r == 0 && n > 0 && (size_t)n <= TS_STATE_MAX_FILE);
	return n;
}

static void
drive(const char *buf, size_t len)
{
	char why[256];
	long n1, n2;
	int rc, got = -1, got2 = -1;

	check(ts_ledger_init(la, &cfg) == 0);
	why[0] = '\0';
	rc = ts_state_parse(buf, len, la, &got, "F", why, sizeof(why));
	if (rc != 0) {
		check(rc == TS_ERR_STATE_CORRUPT);
		check(got == 0);
		check(strstr(why, "corrupt") != NULL);
		return;
	}
	check(got == la->ngames);
	n1 = save_text(la, text1);
	check(memcmp(text1, "tsino-state 2\n", 14) == 0);
	check(ts_ledger_init(lb, &cfg) == 0);
	rc = ts_state_parse(text1, (size_t)n1, lb, &got2, "G", why,
	    sizeof(why));
	check(rc == 0);
	check(got2 == got);
	n2 = save_text(lb, text2);
	check(n2 == n1);
	check(memcmp(text1, text2, (size_t)n1) == 0);
	check_same(la, lb);
}

/*
 * data up to its last line starting "end\t" (all of it if none), then
 * the end line a correct file would have: the count of its lines after
 * the first (games and gaps; in version 1 every line is a game), the
 * checksum of those bytes.  Its length.
 */
static size_t
make_end(const uint8_t *data, size_t size)
{
	size_t body = size, i, lines = 0;

	for (i = size; i-- > 0;)
		if ((i == 0 || data[i - 1] == '\n') && size - i >= 4 &&
		    memcmp(data + i, "end\t", 4) == 0) {
			body = i;
			break;
		}
	if (body > 0)
		memcpy(fixed, data, body);
	for (i = 0; i < body; i++)
		if (fixed[i] == '\n')
			lines++;
	return body + (size_t)snprintf(fixed + body, 64, "end\t%d\t%016llx\n",
	    lines > 0 ? (int)lines - 1 : 0,
	    (unsigned long long)ts_fnv(TS_FNV_BASIS, fixed, body));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	drive((const char *)data, size);
	if (size <= FIX_MAX)
		drive(fixed, make_end(data, size));
	return 0;
}
