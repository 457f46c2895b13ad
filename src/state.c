/*
 * state: read, lock and atomically rewrite the resume file (format in
 * state.h).  Loading is strict: any line that does not parse, a missing
 * or wrong checksum line, or bytes after it make the file corrupt.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsino.h"
#include "base.h"
#include "state.h"

uint64_t
ts_state_hash(const void *data, size_t len)
{
	return ts_fnv(TS_FNV_BASIS, data, len);
}

int
ts_state_open(struct ts_state *s, const char *path, char *why,
    size_t whylen)
{
	char lock[TS_STATE_PATH_MAX + 8];

	s->lock_fd = -1;
	if (strlen(path) >= sizeof(s->path)) {
		snprintf(why, whylen, "state file path too long");
		return TS_ERR_STATE_IO;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", lock,
		    strerror(errno));
		return TS_ERR_STATE_IO;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(s->lock_fd);
		s->lock_fd = -1;
		if (e == EWOULDBLOCK) {
			snprintf(why, whylen, "state file %s is in use by "
			    "another tsino", path);
			return TS_ERR_STATE_LOCKED;
		}
		snprintf(why, whylen, "cannot lock %s: %s", lock, strerror(e));
		return TS_ERR_STATE_IO;
	}
	return 0;
}

void
ts_state_close(struct ts_state *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

/* A field: printable, no tab, within max bytes (NUL included). */
static int
copy_field(char *dst, size_t max, const char *src, size_t len)
{
	size_t i;

	if (len == 0 || len >= max)
		return -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
			return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* A lowercase hex digit's value, or -1: the file is written lowercase. */
static int
hex_digit(char c)
{
	return c >= 'A' && c <= 'F' ? -1 : ts_hex_value(c);
}

static int
parse_hex64(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int d;

	if (len != 16)
		return -1;
	for (i = 0; i < len; i++) {
		if ((d = hex_digit(p[i])) < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
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

/* A time field ("-": none) into m, and ids f[first..last) as its ids. */
static int
parse_mark(struct ts_ledger_mark *m, const struct fields *fs, size_t t,
    size_t first, size_t last, size_t time_max)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	if (is(fs, t, "-")) {
		/* Ids at no instant: version 1 read them (they meant
		 * nothing, and are dropped); a later version never writes
		 * them. */
		if (last > first && time_max != 48)
			return -1;
		for (i = first; i < last; i++)
			if (parse_hex64(fs->f[i], fs->len[i], &m->ids[0]) < 0)
				return -1;
		m->ids[0] = 0;
		return last - first > TS_LEDGER_IDS ? -1 : 0;
	}
	if (fs->len[t] == 0 || fs->len[t] >= time_max ||
	    ts_ledger_mark_set(m, fs->f[t], fs->len[t]) < 0)
		return -1;
	if (last - first > TS_LEDGER_IDS)
		return -1;
	for (i = first; i < last; i++)
		if (parse_hex64(fs->f[i], fs->len[i], &m->ids[m->nids++]) < 0)
			return -1;
	return 0;
}

/* A K field: a count of at most TS_LEDGER_IDS, in decimal. */
static int
parse_count(const char *p, size_t len, size_t *out)
{
	size_t v = 0, i;

	if (len == 0 || len > 3)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (size_t)(p[i] - '0');
	}
	*out = v;
	return v <= TS_LEDGER_IDS ? 0 : -1;
}

/*
 * A version-2 slug field: printable bytes as they are, and \xNN
 * (lowercase hex, never 00) for what the line cannot hold plainly: see
 * put_slug().  A plain "-" is not a slug.
 */
static int
unescape_slug(char *dst, const char *src, size_t len)
{
	size_t i, n = 0;
	int hi, lo;

	if (copy_field(dst, TS_LEDGER_SLUG_MAX * 4, src, len) < 0 ||
	    (len == 1 && src[0] == '-'))
		return -1;
	for (i = 0; i < len; i++) {
		if (n == TS_LEDGER_SLUG_MAX - 1)
			return -1;
		if (src[i] != '\\') {
			dst[n++] = src[i];
			continue;
		}
		if (i + 3 >= len)
			return -1;
		if (src[i + 1] != 'x' || (hi = hex_digit(src[i + 2])) < 0 ||
		    (lo = hex_digit(src[i + 3])) < 0 || (hi | lo) == 0)
			return -1;
		dst[n++] = (char)(hi << 4 | lo);
		i += 3;
	}
	dst[n] = '\0';
	return 0;
}

/* game<TAB>slug<TAB>time[<TAB>id]... */
static int
parse_game(char *slug, struct ts_ledger_mark *cur, const struct fields *fs,
    size_t time_max, int version)
{
	char raw[TS_LEDGER_SLUG_MAX * 4];

	if (fs->n < 3 || !is(fs, 0, "game"))
		return -1;
	if (version >= 2) {
		if (fs->len[1] >= sizeof(raw) ||
		    unescape_slug(raw, fs->f[1], fs->len[1]) < 0)
			return -1;
		memcpy(slug, raw, strlen(raw) + 1);
	} else if (copy_field(slug, TS_LEDGER_SLUG_MAX, fs->f[1],
	    fs->len[1]) < 0 || strcmp(slug, "-") == 0) {
		return -1;
	}
	return parse_mark(cur, fs, 2, 3, fs->n, time_max);
}

/* gap<TAB>from<TAB>to<TAB>K<TAB>K from-ids<TAB>to-ids */
static int
parse_gap(struct ts_ledger_gap *gp, const struct fields *fs)
{
	size_t k;

	if (fs->n < 4 || !is(fs, 0, "gap") ||
	    parse_count(fs->f[3], fs->len[3], &k) < 0 || 4 + k > fs->n)
		return -1;
	if (is(fs, 1, "-") ||
	    parse_mark(&gp->from, fs, 1, 4, 4 + k, TS_LEDGER_TIME_MAX) < 0 ||
	    parse_mark(&gp->to, fs, 2, 4 + k, fs->n, TS_LEDGER_TIME_MAX) < 0)
		return -1;
	if (gp->to.text[0] != '\0' && (gp->to.sec < gp->from.sec ||
	    (gp->to.sec == gp->from.sec && gp->to.nsec < gp->from.nsec)))
		return -1;
	return 0;
}

static int
corrupt(char *why, size_t whylen, const char *path, const char *what)
{
	snprintf(why, whylen, "state file %s is corrupt (%s); move it away "
	    "to start afresh", path, what);
	return TS_ERR_STATE_CORRUPT;
}

/* What the parser holds of the game being read. */
struct pgame {
	int open;
	char slug[TS_LEDGER_SLUG_MAX];
	struct ts_ledger_mark cur;
	struct ts_ledger_gap gaps[TS_LEDGER_GAPS];
	int ngaps;
};

static int
put_game(struct ts_ledger *l, struct pgame *pg, int *count)
{
	if (!pg->open)
		return 0;
	pg->open = 0;
	if (ts_ledger_game(l, pg->slug, strlen(pg->slug), 0) != NULL)
		return -1;		/* named twice */
	(*count)++;
	return ts_ledger_restore(l, pg->slug, &pg->cur, pg->gaps, pg->ngaps);
}

int
ts_state_parse(const char *buf, size_t len, struct ts_ledger *l,
    int *ngames, const char *path, char *why, size_t whylen)
{
	struct fields fs;
	struct pgame pg;
	const char *line, *nl;
	size_t off, llen, time_max;
	char tail[64];
	int version, lines = 0, count = 0;

	*ngames = 0;
	if (len >= 14 && memcmp(buf, "tsino-state 1\n", 14) == 0)
		version = 1;
	else if (len >= 14 && memcmp(buf, "tsino-state 2\n", 14) == 0)
		version = 2;
	else
		return corrupt(why, whylen, path, "bad first line");
	/* Version 1 kept times shorter than 48 bytes. */
	time_max = version == 1 ? 48 : TS_LEDGER_TIME_MAX;
	off = 14;
	pg.open = 0;
	for (;;) {
		line = buf + off;
		nl = memchr(line, '\n', len - off);
		if (nl == NULL)
			return corrupt(why, whylen, path, "no end line");
		llen = (size_t)(nl - line);
		if (llen >= 4 && memcmp(line, "end\t", 4) == 0)
			break;
		if (split(&fs, line, llen) < 0)
			return corrupt(why, whylen, path, "line too long");
		if (fs.n > 0 && is(&fs, 0, "game")) {
			if (put_game(l, &pg, &count) < 0)
				return corrupt(why, whylen, path,
				    "a game twice or too many games");
			if (parse_game(pg.slug, &pg.cur, &fs, time_max,
			    version) < 0)
				return corrupt(why, whylen, path,
				    "bad game line");
			pg.ngaps = 0;
			pg.open = 1;
		} else if (version >= 2 && fs.n > 0 && is(&fs, 0, "gap")) {
			if (!pg.open || pg.ngaps == TS_LEDGER_GAPS ||
			    parse_gap(&pg.gaps[pg.ngaps], &fs) < 0)
				return corrupt(why, whylen, path,
				    "bad gap line");
			pg.ngaps++;
		} else {
			return corrupt(why, whylen, path, "bad line");
		}
		lines++;
		off += llen + 1;
	}
	if (put_game(l, &pg, &count) < 0)
		return corrupt(why, whylen, path,
		    "a game twice or too many games");
	snprintf(tail, sizeof(tail), "end\t%d\t%016llx",
	    version == 1 ? count : lines,
	    (unsigned long long)ts_state_hash(buf, off));
	if (llen != strlen(tail) || memcmp(line, tail, llen) != 0)
		return corrupt(why, whylen, path, "checksum mismatch");
	if (off + llen + 1 != len)
		return corrupt(why, whylen, path, "bytes after the end line");
	*ngames = count;
	return 0;
}

int
ts_state_load(struct ts_state *s, struct ts_ledger *l, int *ngames,
    char *why, size_t whylen)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	*ngames = 0;
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(why, whylen, "cannot read %s: %s", s->path,
		    strerror(errno));
		return TS_ERR_STATE_IO;
	}
	buf = malloc(TS_STATE_MAX_FILE + 1);
	if (buf == NULL) {
		close(fd);
		snprintf(why, whylen, "out of memory reading %s", s->path);
		return TS_ERR_NOMEM;
	}
	for (;;) {
		r = read(fd, buf + len, TS_STATE_MAX_FILE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || len + (size_t)r > TS_STATE_MAX_FILE) {
			if (r > 0)
				len += (size_t)r;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		snprintf(why, whylen, "cannot read %s: %s", s->path,
		    strerror(errno));
		return TS_ERR_STATE_IO;
	}
	if (len > TS_STATE_MAX_FILE)
		rc = corrupt(why, whylen, s->path, "too big");
	else
		rc = ts_state_parse(buf, len, l, ngames, s->path, why, whylen);
	free(buf);
	return rc;
}

/* Buffered writer that checksums what it writes, to a file or memory. */
struct out {
	int fd;			/* -1: memory */
	char *mem;
	size_t cap, mlen;
	int err;		/* errno, or ENOSPC when memory is full */
	uint64_t hash;
	size_t len;
	char buf[4096];
};

static void
out_flush(struct out *o)
{
	size_t off = 0;
	ssize_t r;

	if (o->fd < 0) {
		if (o->mlen + o->len > o->cap)
			o->err = ENOSPC;
		else
			memcpy(o->mem + o->mlen, o->buf, o->len);
		o->mlen += o->len;
		o->len = 0;
		return;
	}
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
out_put(struct out *o, const char *s, int hashed)
{
	size_t n = strlen(s);
	if (hashed)
		o->hash = ts_fnv(o->hash, s, n);
	if (o->len + n > sizeof(o->buf))
		out_flush(o);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static int
io_error(char *why, size_t whylen, const char *what, const char *path,
    int e)
{
	snprintf(why, whylen, "cannot %s %s: %s", what, path, strerror(e));
	return TS_ERR_STATE_IO;
}

static void
fsync_dir(const char *path)
{
	char dir[TS_STATE_PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Ids only at an instant. */
static int
mark_ok(const struct ts_ledger_mark *m)
{
	return m->nids >= 0 && m->nids <= TS_LEDGER_IDS &&
	    (m->text[0] != '\0' || m->nids == 0);
}

/*
 * A game that load will read back as it is: a slug (any, put_slug
 * escapes it), marks with ids only at an instant, gaps with a start
 * and an end not before it.
 */
static int
storable(const struct ts_ledger_game *g)
{
	const struct ts_ledger_gap *gp;
	int k;

	if (g->slug[0] == '\0' || !mark_ok(&g->cur) || g->ngaps < 0 ||
	    g->ngaps > TS_LEDGER_GAPS)
		return 0;
	for (k = 0; k < g->ngaps; k++) {
		gp = &g->gap[k];
		if (gp->from.text[0] == '\0' || !mark_ok(&gp->from) ||
		    !mark_ok(&gp->to))
			return 0;
		if (gp->to.text[0] != '\0' && (gp->to.sec < gp->from.sec ||
		    (gp->to.sec == gp->from.sec &&
		    gp->to.nsec < gp->from.nsec)))
			return 0;
	}
	return 1;
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
	char b[8];
	const unsigned char *p = (const unsigned char *)slug;

	if (strcmp(slug, "-") == 0) {
		out_put(o, "\\x2d", 1);
		return;
	}
	for (; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			snprintf(b, sizeof(b), "\\x%02x", *p);
		else
			snprintf(b, sizeof(b), "%c", *p);
		out_put(o, b, 1);
	}
}

static void
put_ids(struct out *o, const struct ts_ledger_mark *m)
{
	char field[32];
	int k;

	for (k = 0; k < m->nids; k++) {
		snprintf(field, sizeof(field), "\t%016llx",
		    (unsigned long long)m->ids[k]);
		out_put(o, field, 1);
	}
}

static const char *
time_or_dash(const struct ts_ledger_mark *m)
{
	return m->text[0] ? m->text : "-";
}

/* Every line of the file into o; -1 (nothing useful written) if a game
 * cannot be stored. */
static int
format(struct out *o, const struct ts_ledger *l, char *why, size_t whylen)
{
	const struct ts_ledger_game *g;
	const struct ts_ledger_gap *gp;
	char field[64];
	int i, k, lines = 0;

	for (i = 0; i < l->ngames; i++)
		if (!storable(&l->games[i])) {
			snprintf(why, whylen, "game %d has a value the state "
			    "file cannot hold", i + 1);
			return -1;
		}
	o->hash = TS_FNV_BASIS;
	out_put(o, "tsino-state 2\n", 1);
	for (i = 0; i < l->ngames; i++) {
		g = &l->games[i];
		out_put(o, "game\t", 1);
		put_slug(o, g->slug);
		out_put(o, "\t", 1);
		out_put(o, time_or_dash(&g->cur), 1);
		put_ids(o, &g->cur);
		out_put(o, "\n", 1);
		lines++;
		for (k = 0; k < g->ngaps; k++) {
			gp = &g->gap[k];
			snprintf(field, sizeof(field), "\t%d", gp->from.nids);
			out_put(o, "gap\t", 1);
			out_put(o, time_or_dash(&gp->from), 1);
			out_put(o, "\t", 1);
			out_put(o, time_or_dash(&gp->to), 1);
			out_put(o, field, 1);
			put_ids(o, &gp->from);
			put_ids(o, &gp->to);
			out_put(o, "\n", 1);
			lines++;
		}
	}
	snprintf(field, sizeof(field), "end\t%d\t", lines);
	out_put(o, field, 0);
	snprintf(field, sizeof(field), "%016llx\n",
	    (unsigned long long)o->hash);
	out_put(o, field, 0);
	out_flush(o);
	return 0;
}

long
ts_state_format(const struct ts_ledger *l, char *out, size_t cap, char *why,
    size_t whylen)
{
	struct out ob;

	ob.fd = -1;
	ob.mem = out;
	ob.cap = cap;
	ob.mlen = 0;
	ob.err = 0;
	ob.len = 0;
	if (format(&ob, l, why, whylen) < 0)
		return -1;
	if (ob.err) {
		snprintf(why, whylen, "state text bigger than %zu bytes", cap);
		return -1;
	}
	return (long)ob.mlen;
}

int
ts_state_save(struct ts_state *s, const struct ts_ledger *l, char *why,
    size_t whylen)
{
	char tmp[TS_STATE_PATH_MAX + 8], what[256];
	struct out ob, *o = &ob;
	int e;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	o->err = 0;
	o->len = 0;
	o->mem = NULL;
	/* A stale FILE.tmp is removed, not followed (unlink takes a link
	 * itself), and the new one must be ours: a symlink planted there
	 * would otherwise truncate its target and become the state file. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return io_error(why, whylen, "remove", tmp, errno);
	o->fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (o->fd < 0)
		return io_error(why, whylen, "create", tmp, errno);
	if (format(o, l, what, sizeof(what)) < 0) {
		close(o->fd);
		unlink(tmp);
		snprintf(why, whylen, "cannot save %s: %s", s->path, what);
		return TS_ERR_STATE_IO;
	}
	if (!o->err && fsync(o->fd) < 0)
		o->err = errno;
	if (close(o->fd) < 0 && !o->err)
		o->err = errno;
	e = o->err;
	if (e) {
		unlink(tmp);
		return io_error(why, whylen, "write", tmp, e);
	}
	if (rename(tmp, s->path) < 0) {
		e = errno;
		unlink(tmp);
		return io_error(why, whylen, "rename to", s->path, e);
	}
	fsync_dir(s->path);
	return 0;
}
