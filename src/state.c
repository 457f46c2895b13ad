/*
 * state: read, lock and atomically rewrite the resume file (format in
 * state.h).  Loading is strict: any line that does not parse, a missing
 * or wrong checksum line, or bytes after it make the file corrupt.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tsino.h"
#include "base.h"
#include "state.h"

static int
io_error(char *why, size_t whylen, const char *what, const char *path,
    int e)
{
	snprintf(why, whylen, "cannot %s %s: %s", what, path, strerror(e));
	return TS_ERR_STATE_IO;
}

void
ts_state_close(struct ts_state *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

int
ts_state_open(struct ts_state *s, const char *path, char *why,
    size_t whylen)
{
	char lock[TS_STATE_PATH_MAX + 8];

	s->lock_fd = -1;
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s", path) >=
	    sizeof(s->path)) {
		snprintf(why, whylen, "state file path too long");
		return TS_ERR_STATE_IO;
	}
	snprintf(lock, sizeof(lock), "%s.lock", path);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return io_error(why, whylen, "open", lock, errno);
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		ts_state_close(s);
		if (e == EWOULDBLOCK) {
			snprintf(why, whylen, "state file %s is in use by "
			    "another tsino", path);
			return TS_ERR_STATE_LOCKED;
		}
		return io_error(why, whylen, "lock", lock, e);
	}
	return 0;
}

/* The len digits at p (one or more; the callers bound len), in base 10
 * or 16 (lowercase), into *out. */
static int
parse_num(const char *p, size_t len, int base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int d;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		/* Lowercase only: the file is written so. */
		d = p[i] >= 'A' && p[i] <= 'F' ? -1 : ts_hex_value(p[i]);
		if (d < 0 || d >= base)
			return -1;
		v = v * (unsigned)base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* A line cut at its tabs. */
#define MAX_FIELDS (2 * TS_LEDGER_IDS + 8)

struct fields {
	const char *f[MAX_FIELDS];
	size_t len[MAX_FIELDS];
	size_t n;
};

static int
split(struct fields *fs, const char *line, size_t len)
{
	size_t i, start = 0;

	fs->n = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (fs->n == MAX_FIELDS)
			return -1;
		fs->f[fs->n] = line + start;
		fs->len[fs->n] = i - start;
		fs->n++;
		start = i + 1;
	}
	return 0;
}

static int
is(const struct fields *fs, size_t i, const char *word)
{
	return fs->len[i] == strlen(word) &&
	    memcmp(fs->f[i], word, fs->len[i]) == 0;
}

/*
 * A time field t ("-": none) into m, and f[first..last) as its ids.
 * Ids at no instant: version 1 read them (they meant nothing, and are
 * dropped); a later version never writes them.
 */
static int
parse_mark(struct ts_ledger_mark *m, const struct fields *fs, size_t t,
    size_t first, size_t last, int version)
{
	/* Version 1 kept times shorter than 48 bytes. */
	size_t i, time_max = version == 1 ? 48 : TS_LEDGER_TIME_MAX;
	int none = is(fs, t, "-");
	uint64_t id;

	memset(m, 0, sizeof(*m));
	if (last - first > TS_LEDGER_IDS ||
	    (none && last > first && version != 1))
		return -1;
	if (!none && (fs->len[t] >= time_max ||
	    ts_ledger_mark_set(m, fs->f[t], fs->len[t]) < 0))
		return -1;
	for (i = first; i < last; i++) {
		if (fs->len[i] != 16 || parse_num(fs->f[i], 16, 16, &id) < 0)
			return -1;
		if (!none)
			m->ids[m->nids++] = id;
	}
	return 0;
}

/*
 * A slug field into dst (TS_LEDGER_SLUG_MAX bytes): printable bytes as
 * they are and, from version 2, \xNN (lowercase hex, never 00) for what
 * the line cannot hold plainly: see put_slug().  A plain "-" is not a
 * slug.
 */
static int
parse_slug(char *dst, const char *src, size_t len, int version)
{
	size_t i, n = 0;
	uint64_t c;

	if (len == 0 || (len == 1 && src[0] == '-'))
		return -1;
	for (i = 0; i < len; i++) {
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f ||
		    n == TS_LEDGER_SLUG_MAX - 1)
			return -1;
		if (src[i] != '\\' || version == 1) {
			dst[n++] = src[i];
			continue;
		}
		if (i + 3 >= len || src[i + 1] != 'x' ||
		    parse_num(src + i + 2, 2, 16, &c) < 0 || c == 0)
			return -1;
		dst[n++] = (char)c;
		i += 3;
	}
	dst[n] = '\0';
	return 0;
}

/* A gap's end, when it is known, is not before its start. */
static int
ordered(const struct ts_ledger_gap *gp)
{
	return gp->to.text[0] == '\0' || gp->to.sec > gp->from.sec ||
	    (gp->to.sec == gp->from.sec && gp->to.nsec >= gp->from.nsec);
}

/* gap<TAB>from<TAB>to<TAB>K<TAB>K from-ids<TAB>to-ids */
static int
parse_gap(struct ts_ledger_gap *gp, const struct fields *fs)
{
	uint64_t k;

	/* K: a count, in decimal (parse_mark refuses over TS_LEDGER_IDS). */
	if (fs->n < 4 || fs->len[3] > 3 || is(fs, 1, "-") ||
	    parse_num(fs->f[3], fs->len[3], 10, &k) < 0 || 4 + k > fs->n)
		return -1;
	if (parse_mark(&gp->from, fs, 1, 4, 4 + k, 2) < 0 ||
	    parse_mark(&gp->to, fs, 2, 4 + k, fs->n, 2) < 0)
		return -1;
	return ordered(gp) ? 0 : -1;
}

/*
 * The game read (its slug, cursor and gaps; the parser fills no other
 * field) into l.  One is open once any line is read: the first must be a
 * game line.
 */
static int
put_game(struct ts_ledger *l, struct ts_ledger_game *pg, int *count)
{
	if (ts_ledger_game(l, pg->slug, strlen(pg->slug), 0) != NULL)
		return -1;		/* named twice */
	(*count)++;
	return ts_ledger_restore(l, pg->slug, &pg->cur, pg->gap, pg->ngaps);
}

/* The games of buf into l, counted in *count: NULL, or what is wrong. */
static const char *
parse(const char *buf, size_t len, struct ts_ledger *l, int *count)
{
	struct fields fs;
	struct ts_ledger_game pg;
	const char *line, *nl;
	size_t off = 14, llen;
	char tail[64];
	int version, lines = 0;

	if (len < 14 || memcmp(buf, "tsino-state ", 12) != 0 ||
	    (buf[12] != '1' && buf[12] != '2') || buf[13] != '\n')
		return "bad first line";
	version = buf[12] - '0';
	for (;;) {
		line = buf + off;
		nl = memchr(line, '\n', len - off);
		if (nl == NULL)
			return "no end line";
		llen = (size_t)(nl - line);
		if (llen >= 4 && memcmp(line, "end\t", 4) == 0)
			break;
		if (split(&fs, line, llen) < 0)
			return "line too long";
		if (is(&fs, 0, "game")) {
			if (lines > 0 && put_game(l, &pg, count) < 0)
				return "a game twice or too many games";
			/* game<TAB>slug<TAB>time[<TAB>id]... */
			pg.ngaps = 0;
			if (fs.n < 3 || parse_slug(pg.slug, fs.f[1], fs.len[1],
			    version) < 0 ||
			    parse_mark(&pg.cur, &fs, 2, 3, fs.n, version) < 0)
				return "bad game line";
		} else if (version >= 2 && is(&fs, 0, "gap")) {
			if (lines == 0 || pg.ngaps == TS_LEDGER_GAPS ||
			    parse_gap(&pg.gap[pg.ngaps++], &fs) < 0)
				return "bad gap line";
		} else {
			return "bad line";
		}
		lines++;
		off += llen + 1;
	}
	if (lines > 0 && put_game(l, &pg, count) < 0)
		return "a game twice or too many games";
	/* Version 1 counted games, version 2 counts every line. */
	snprintf(tail, sizeof(tail), "end\t%d\t%016llx",
	    version == 1 ? *count : lines,
	    (unsigned long long)ts_fnv(TS_FNV_BASIS, buf, off));
	if (llen != strlen(tail) || memcmp(line, tail, llen) != 0)
		return "checksum mismatch";
	if (off + llen + 1 != len)
		return "bytes after the end line";
	return NULL;
}

int
ts_state_parse(const char *buf, size_t len, struct ts_ledger *l,
    int *ngames, const char *path, char *why, size_t whylen)
{
	int count = 0;
	const char *bad = len > TS_STATE_MAX_FILE ? "too big" :
	    parse(buf, len, l, &count);

	*ngames = bad == NULL ? count : 0;
	if (bad == NULL)
		return 0;
	snprintf(why, whylen, "state file %s is corrupt (%s); move it away "
	    "to start afresh", path, bad);
	return TS_ERR_STATE_CORRUPT;
}

int
ts_state_load(struct ts_state *s, struct ts_ledger *l, int *ngames,
    char *why, size_t whylen)
{
	char *buf;
	size_t len = 0;
	ssize_t r = 0;
	int fd, rc, err;

	*ngames = 0;
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)	/* a missing file is a fresh start */
		return errno == ENOENT ? 0 :
		    io_error(why, whylen, "read", s->path, errno);
	buf = malloc(TS_STATE_MAX_FILE + 1);
	/* One byte more than the largest file, to see it is too big. */
	while (buf != NULL && len <= TS_STATE_MAX_FILE) {
		r = read(fd, buf + len, TS_STATE_MAX_FILE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	err = errno;		/* the read's, before close() can change it */
	close(fd);
	if (buf == NULL) {
		snprintf(why, whylen, "out of memory reading %s", s->path);
		return TS_ERR_NOMEM;
	}
	if (r < 0)
		rc = io_error(why, whylen, "read", s->path, err);
	else
		rc = ts_state_parse(buf, len, l, ngames, s->path, why, whylen);
	free(buf);
	return rc;
}

/*
 * Buffered writer to a file that checksums what it writes.  Each piece
 * put is far smaller than buf.
 */
struct out {
	int fd;
	char buf[4096];
	size_t len;
	int err;		/* the first write's errno */
	uint64_t hash;
};

static void
out_flush(struct out *o)
{
	size_t off = 0;
	ssize_t r;

	while (!o->err && off < o->len) {
		r = write(o->fd, o->buf + off, o->len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			o->err = errno;
		else
			off += (size_t)r;
	}
	o->len = 0;
}

static void
out_put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	o->hash = ts_fnv(o->hash, s, n);
	if (o->len + n > sizeof(o->buf))
		out_flush(o);	/* after an error, it only empties buf */
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/*
 * The slug as a field: the engine keeps any game_id (JSON string bytes
 * as received: 0x7f, a backslash, "-" are possible), the line cannot
 * hold a tab, a control byte or a lone "-": those, and the backslash,
 * are written \xNN.
 */
static void
put_slug(struct out *o, const char *slug)
{
	const unsigned char *p = (const unsigned char *)slug;
	int lone_dash = strcmp(slug, "-") == 0;
	char b[8];

	for (; *p != '\0'; p++) {
		snprintf(b, sizeof(b), *p < 0x20 || *p == 0x7f || *p == '\\' ||
		    lone_dash ? "\\x%02x" : "%c", *p);
		out_put(o, b);
	}
}

/* A mark's time ("-": none) after a tab. */
static void
put_time(struct out *o, const struct ts_ledger_mark *m)
{
	out_put(o, "\t");
	out_put(o, m->text[0] ? m->text : "-");
}

static void
put_ids(struct out *o, const struct ts_ledger_mark *m)
{
	char field[32];
	int k;

	for (k = 0; k < m->nids; k++) {
		snprintf(field, sizeof(field), "\t%016llx",
		    (unsigned long long)m->ids[k]);
		out_put(o, field);
	}
}

/*
 * Every line of the file into o: 0, or the number (from 1) of a game
 * that load would not read back as it is (what is written by then is
 * thrown away: save removes its temporary file): ids at no instant, or
 * a gap without a start or ending before it.  Any slug can be stored
 * (put_slug escapes it) and the ledger keeps the counts in range (at
 * most TS_LEDGER_IDS ids, at most TS_LEDGER_GAPS gaps).
 */
static int
format(struct out *o, const struct ts_ledger *l)
{
	const struct ts_ledger_game *g;
	const struct ts_ledger_gap *gp;
	char field[64];
	int lines = 0;
	int bad;

	o->hash = TS_FNV_BASIS;
	out_put(o, "tsino-state 2\n");
	for (g = l->games; g < l->games + l->ngames; g++) {
		bad = g->cur.text[0] == '\0' && g->cur.nids > 0;
		out_put(o, "game\t");
		put_slug(o, g->slug);
		put_time(o, &g->cur);
		put_ids(o, &g->cur);
		out_put(o, "\n");
		for (gp = g->gap; gp < g->gap + g->ngaps; gp++) {
			bad |= gp->from.text[0] == '\0' || !ordered(gp) ||
			    (gp->to.text[0] == '\0' && gp->to.nids > 0);
			snprintf(field, sizeof(field), "\t%d", gp->from.nids);
			out_put(o, "gap");
			put_time(o, &gp->from);
			put_time(o, &gp->to);
			out_put(o, field);
			put_ids(o, &gp->from);
			put_ids(o, &gp->to);
			out_put(o, "\n");
		}
		if (bad)
			return (int)(g - l->games) + 1;
		lines += 1 + g->ngaps;
	}
	/* The end line is not hashed: it holds the hash of all above. */
	snprintf(field, sizeof(field), "end\t%d\t%016llx\n", lines,
	    (unsigned long long)o->hash);
	out_put(o, field);
	return 0;
}

int
ts_state_save(struct ts_state *s, const struct ts_ledger *l, char *why,
    size_t whylen)
{
	char tmp[TS_STATE_PATH_MAX + 8];
	struct out ob = {.fd = -1};
	int dir, bad;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	/* A stale FILE.tmp is removed, not followed (unlink takes a link
	 * itself), and the new one must be ours: a symlink planted there
	 * would otherwise truncate its target and become the state file. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return io_error(why, whylen, "remove", tmp, errno);
	ob.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (ob.fd < 0)
		return io_error(why, whylen, "create", tmp, errno);
	if ((bad = format(&ob, l)) > 0) {
		close(ob.fd);
		unlink(tmp);
		snprintf(why, whylen, "cannot save %s: game %d has a value the "
		    "state file cannot hold", s->path, bad);
		return TS_ERR_STATE_IO;
	}
	out_flush(&ob);
	if (!ob.err && fsync(ob.fd) < 0)
		ob.err = errno;
	if (close(ob.fd) < 0 && !ob.err)
		ob.err = errno;
	if (ob.err) {
		unlink(tmp);
		return io_error(why, whylen, "write", tmp, ob.err);
	}
	if (rename(tmp, s->path) < 0) {
		ob.err = errno;
		unlink(tmp);
		return io_error(why, whylen, "rename to", s->path, ob.err);
	}
	/* The rename is durable once the directory is. */
	snprintf(tmp, sizeof(tmp), "%s", s->path);
	dir = open(dirname(tmp), O_RDONLY | O_CLOEXEC);
	if (dir >= 0) {
		fsync(dir);
		close(dir);
	}
	return 0;
}
