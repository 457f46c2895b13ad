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
#include "state.h"

#define MAGIC "tsino-state 1\n"
#define MAX_FILE (TS_STATE_MAX_GAMES * (TS_STATE_IDS * 17 + 160) + 128)

uint64_t
ts_state_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len-- > 0) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
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

/* A field of a game line: printable, no tab, within max bytes. */
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

static int
parse_hex64(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;
	int d;

	if (len != 16)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* game<TAB>slug<TAB>last[<TAB>id]... (line without its newline) */
static int
parse_game(struct ts_state_game *g, const char *line, size_t len)
{
	const char *f[TS_STATE_IDS + 3];
	size_t flen[TS_STATE_IDS + 3];
	size_t nf = 0, i, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (nf == sizeof(f) / sizeof(f[0]))
			return -1;
		f[nf] = line + start;
		flen[nf] = i - start;
		nf++;
		start = i + 1;
	}
	if (nf < 3 || flen[0] != 4 || memcmp(f[0], "game", 4) != 0)
		return -1;
	memset(g, 0, sizeof(*g));
	if (copy_field(g->slug, sizeof(g->slug), f[1], flen[1]) < 0)
		return -1;
	/* "-" stands for "no resume point yet". */
	if (!(flen[2] == 1 && f[2][0] == '-') &&
	    copy_field(g->last, sizeof(g->last), f[2], flen[2]) < 0)
		return -1;
	for (i = 3; i < nf; i++)
		if (parse_hex64(f[i], flen[i], &g->ids[g->nids++]) < 0)
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

static int
parse_file(const char *buf, size_t len, struct ts_state_game *games,
    int max, int *n, const char *path, char *why, size_t whylen)
{
	const char *line, *nl;
	size_t off, llen;
	char tail[64];
	int count = 0;

	if (len < strlen(MAGIC) || memcmp(buf, MAGIC, strlen(MAGIC)) != 0)
		return corrupt(why, whylen, path, "bad first line");
	off = strlen(MAGIC);
	for (;;) {
		line = buf + off;
		nl = memchr(line, '\n', len - off);
		if (nl == NULL)
			return corrupt(why, whylen, path, "no end line");
		llen = (size_t)(nl - line);
		if (llen >= 4 && memcmp(line, "end\t", 4) == 0)
			break;
		if (count == max)
			return corrupt(why, whylen, path, "too many games");
		if (parse_game(&games[count], line, llen) < 0)
			return corrupt(why, whylen, path, "bad game line");
		count++;
		off += llen + 1;
	}
	snprintf(tail, sizeof(tail), "end\t%d\t%016llx", count,
	    (unsigned long long)ts_state_hash(buf, off));
	if (llen != strlen(tail) || memcmp(line, tail, llen) != 0)
		return corrupt(why, whylen, path, "checksum mismatch");
	if (off + llen + 1 != len)
		return corrupt(why, whylen, path, "bytes after the end line");
	*n = count;
	return 0;
}

int
ts_state_load(struct ts_state *s, struct ts_state_game *games, int max,
    int *n, char *why, size_t whylen)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	*n = 0;
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(why, whylen, "cannot read %s: %s", s->path,
		    strerror(errno));
		return TS_ERR_STATE_IO;
	}
	buf = malloc(MAX_FILE + 1);
	if (buf == NULL) {
		close(fd);
		snprintf(why, whylen, "out of memory reading %s", s->path);
		return TS_ERR_NOMEM;
	}
	for (;;) {
		r = read(fd, buf + len, MAX_FILE + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		snprintf(why, whylen, "cannot read %s: %s", s->path,
		    strerror(errno));
		return TS_ERR_STATE_IO;
	}
	if (len > MAX_FILE)
		rc = corrupt(why, whylen, s->path, "too big");
	else
		rc = parse_file(buf, len, games, max, n, s->path, why, whylen);
	free(buf);
	return rc;
}

/* Buffered writer that checksums what it writes. */
struct out {
	int fd;
	int err;
	uint64_t hash;
	size_t len;
	char buf[4096];
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
out_put(struct out *o, const char *s, int hashed)
{
	size_t n = strlen(s);
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (hashed)
		for (i = 0; i < n; i++) {
			o->hash ^= p[i];
			o->hash *= 0x100000001b3ULL;
		}
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

/*
 * A field that load will read back as it is: NUL-terminated within max,
 * no control character (a tab or newline would break the line), and not
 * "-", which stands for an empty resume point.
 */
static int
storable(const char *f, size_t max, int may_be_empty)
{
	const char *end = memchr(f, '\0', max);
	const char *p;

	if (end == NULL)
		return 0;
	if (end == f)
		return may_be_empty;
	if (end == f + 1 && f[0] == '-')
		return 0;
	for (p = f; p < end; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int
ts_state_save(struct ts_state *s, const struct ts_state_game *games, int n,
    char *why, size_t whylen)
{
	char tmp[TS_STATE_PATH_MAX + 8], field[32];
	struct out ob, *o = &ob;
	int i, k, e;

	/* Never write a file that the next load would call corrupt. */
	if (n < 0 || n > TS_STATE_MAX_GAMES) {
		snprintf(why, whylen, "cannot save %s: %d games (at most %d)",
		    s->path, n, TS_STATE_MAX_GAMES);
		return TS_ERR_STATE_IO;
	}
	for (i = 0; i < n; i++) {
		if (!storable(games[i].slug, sizeof(games[i].slug), 0) ||
		    !storable(games[i].last, sizeof(games[i].last), 1) ||
		    games[i].nids < 0 || games[i].nids > TS_STATE_IDS) {
			snprintf(why, whylen, "cannot save %s: game %d has a "
			    "value the file cannot hold", s->path, i + 1);
			return TS_ERR_STATE_IO;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
	o->err = 0;
	o->len = 0;
	o->hash = 0xcbf29ce484222325ULL;
	o->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o->fd < 0)
		return io_error(why, whylen, "create", tmp, errno);
	out_put(o, MAGIC, 1);
	for (i = 0; i < n; i++) {
		out_put(o, "game\t", 1);
		out_put(o, games[i].slug, 1);
		out_put(o, "\t", 1);
		out_put(o, games[i].last[0] ? games[i].last : "-", 1);
		for (k = 0; k < games[i].nids; k++) {
			snprintf(field, sizeof(field), "\t%016llx",
			    (unsigned long long)games[i].ids[k]);
			out_put(o, field, 1);
		}
		out_put(o, "\n", 1);
	}
	snprintf(field, sizeof(field), "end\t%d\t", n);
	out_put(o, field, 0);
	snprintf(field, sizeof(field), "%016llx\n",
	    (unsigned long long)o->hash);
	out_put(o, field, 0);
	out_flush(o);
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
