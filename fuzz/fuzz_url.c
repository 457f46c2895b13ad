/*
 * fuzz_url: drive the url module with arbitrary bytes.  URL parsing is
 * one call over a whole string, so there is no split to fuzz; instead
 * the first byte chooses the entry point:
 *
 *	0	ts_url_parse on the rest; on success the fields must be sane,
 *		IP literals must agree with inet_pton(), and writing the
 *		fields back as a URL then parsing it must give the same fields
 *	1	ts_url_stream, rest split at NUL bytes into base and games
 *	2	ts_url_rest, rest split into base, slug and since
 *	3	a query value percent-encoded by a builder (a games list by
 *		ts_url_stream if the next byte is odd, else a since value by
 *		ts_url_rest), decoded back and compared
 *
 * Builders run once with a full buffer and once with a small one chosen
 * by the second byte; the small run must agree and never write past its
 * length.  A violated invariant aborts.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsino.h"
#include "url.h"

#define CANARY 0x5a

static void
check(int cond)
{
	if (!cond)
		abort();
}

static int
is_hex_upper(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : c - 'A' + 10;
}

static void
check_fields(const struct ts_url *u)
{
	check(u->tls == 0 || u->tls == 1);
	check(strlen(u->host) > 0 && strlen(u->host) <= TS_URL_HOST_MAX);
	check(u->port >= 1 && u->port <= 65535);
	if (!u->port_explicit)
		check(u->port == (u->tls ? 443u : 80u));
	check(strlen(u->target) <= TS_URL_TARGET_MAX);
	check(u->target[0] == '/');
	check(u->path_len >= 1 && u->path_len <= strlen(u->target));
	check(memchr(u->target, '?', u->path_len) == NULL);
	if (u->target[u->path_len] != '\0')
		check(u->target[u->path_len] == '?');
	check(strchr(u->target, '#') == NULL);
	check(u->addr_len == 0 || u->addr_len == 4 || u->addr_len == 16);
	if (u->addr_len == 4)
		check(ts_url_is_loopback(u) == (u->addr[0] == 127));
}

/* Whatever we take for an address, the C library must take the same. */
static void
check_literal(const struct ts_url *u)
{
	unsigned char a[16];

	if (u->addr_len == 4) {
		check(inet_pton(AF_INET, u->host, a) == 1);
		check(memcmp(a, u->addr, 4) == 0);
	} else if (u->addr_len == 16) {
		check(inet_pton(AF_INET6, u->host, a) == 1);
		check(memcmp(a, u->addr, 16) == 0);
	}
}

static void
check_same(const struct ts_url *a, const struct ts_url *b)
{
	check(a->tls == b->tls);
	check(strcmp(a->host, b->host) == 0);
	check(a->addr_len == b->addr_len);
	check(memcmp(a->addr, b->addr, a->addr_len) == 0);
	check(a->port == b->port && a->port_explicit == b->port_explicit);
	check(strcmp(a->target, b->target) == 0 && a->path_len == b->path_len);
	check(ts_url_is_loopback(a) == ts_url_is_loopback(b));
}

/* The fields written back as a URL: http(s), host, explicit port, target. */
static int
format(const struct ts_url *u, char *out, size_t outlen)
{
	int len;

	len = snprintf(out, outlen, "%s://%s%s%s", u->tls ? "https" : "http",
	    u->addr_len == 16 ? "[" : "", u->host, u->addr_len == 16 ? "]" : "");
	if (u->port_explicit)
		len += snprintf(out + len, outlen - (size_t)len, ":%u", u->port);
	len += snprintf(out + len, outlen - (size_t)len, "%s", u->target);
	return len;
}

static void
drive_parse(const uint8_t *d, size_t n)
{
	static struct ts_url u, v;
	static char out[TS_URL_BUFSIZE];
	int len, err;

	err = ts_url_parse(&u, (const char *)d, n);
	check(err <= 0);
	if (err != 0) {
		check(err <= TS_ERR_URL_SCHEME &&
		    err >= TS_ERR_URL_BUF_TOO_SMALL);
		return;
	}
	check_fields(&u);
	check_literal(&u);
	len = format(&u, out, sizeof(out));
	check(len > 0 && (size_t)len < sizeof(out) && (size_t)len <= n + 8);
	check(ts_url_parse(&v, out, (size_t)len) == 0);
	check_same(&u, &v);
}

/*
 * Split d into up to three NUL-terminated strings (at NUL bytes) in buf;
 * parts that are absent stay NULL.
 */
static size_t
split(const uint8_t *d, size_t n, char *buf, const char *part[3])
{
	size_t i, k = 0;

	memcpy(buf, d, n);
	buf[n] = '\0';
	part[0] = buf;
	part[1] = part[2] = NULL;
	for (i = 0; i < n && k < 2; i++)
		if (buf[i] == '\0')
			part[++k] = buf + i + 1;
	return k + 1;
}

/* The builder output: parses back as the mapped scheme of the base. */
static void
check_built(const char *out, int len, const char *base, int stream,
    int has_query)
{
	static struct ts_url u, b;
	const char *tail = stream ? "/stream" : "/rounds";
	size_t tl = strlen(tail);

	check(len > 0 && (size_t)len < TS_URL_BUFSIZE);
	check(strlen(out) == (size_t)len);
	check(ts_url_parse(&u, out, (size_t)len) == 0);
	check_fields(&u);
	check(ts_url_parse(&b, base, strlen(base)) == 0);
	check(u.tls == b.tls);
	check(strncmp(out, stream ? "ws" : "http", stream ? 2 : 4) == 0);
	check(strcmp(u.host, b.host) == 0 && u.port == b.port);
	check(u.port_explicit == b.port_explicit);
	check(u.path_len >= tl);
	check(memcmp(u.target + u.path_len - tl, tail, tl) == 0);
	/* no "//" made where the base path met ours */
	if (stream)
		check(u.path_len == tl || u.target[u.path_len - tl - 1] != '/');
	check((u.target[u.path_len] != '\0') == has_query);
}

/* Run a builder into a small buffer too: same answer or "too small". */
static void
check_small(int full, const char *fullout, int small, const char *out,
    size_t outlen)
{
	size_t i;

	for (i = outlen; i < outlen + 16; i++)
		check((unsigned char)out[i] == CANARY);
	if (outlen > 0 && small < 0)
		check(out[0] == '\0');
	if (full >= 0 && (size_t)full < outlen) {
		check(small == full);
		check(strcmp(out, fullout) == 0);
	} else if (full >= 0 || full == TS_ERR_URL_BUF_TOO_SMALL) {
		check(small == TS_ERR_URL_BUF_TOO_SMALL);
	} else {
		check(small == full);
	}
}

static void
drive_builder(const uint8_t *d, size_t n, int stream)
{
	static char in[4096 + 1];
	static char out[TS_URL_BUFSIZE], small[TS_URL_BUFSIZE + 16];
	const char *part[3];
	size_t outlen;
	int full, res;

	if (n < 1 || n - 1 > sizeof(in) - 1)
		return;
	outlen = d[0] % 128;
	split(d + 1, n - 1, in, part);
	if (stream)
		full = ts_url_stream(out, sizeof(out), part[0], part[1]);
	else
		full = ts_url_rest(out, sizeof(out), part[0], part[1], part[2]);
	check(full != TS_ERR_URL_BUF_TOO_SMALL);
	if (full >= 0)
		check_built(out, full, part[0], stream, stream ?
		    part[1] != NULL && part[1][0] != '\0' :
		    part[2] != NULL && part[2][0] != '\0');
	else
		check(out[0] == '\0');
	memset(small, CANARY, sizeof(small));
	if (stream)
		res = ts_url_stream(small, outlen, part[0], part[1]);
	else
		res = ts_url_rest(small, outlen, part[0], part[1], part[2]);
	check_small(full, out, res, small, outlen);
}

static void
drive_encode(const uint8_t *d, size_t n)
{
	static char value[4096 + 1], out[TS_URL_BUFSIZE];
	const char *prefix;
	size_t i, j, len, pre;
	int keep, r;

	if (n < 1 || n - 1 > 4096)
		return;
	keep = d[0] & 1;
	memcpy(value, d + 1, n - 1);
	value[n - 1] = '\0';
	len = strlen(value);
	if (keep) {
		prefix = "ws://h/stream?games=";
		r = ts_url_stream(out, sizeof(out), "http://h", value);
	} else {
		prefix = "http://h/games/s/rounds?since=";
		r = ts_url_rest(out, sizeof(out), "http://h", "s", value);
	}
	if (r < 0) {
		check(r == TS_ERR_URL_VALUE || r == TS_ERR_URL_TOO_LONG ||
		    (keep && r == TS_ERR_URL_SLUG));
		check(out[0] == '\0');
		return;
	}
	check(strlen(out) == (size_t)r);
	pre = len == 0 ? strlen(prefix) - 7 : strlen(prefix);
	check((size_t)r >= pre && memcmp(out, prefix, pre) == 0);
	/* decode and compare; only the kept characters appear bare */
	for (i = pre, j = 0; i < (size_t)r; j++) {
		if (out[i] == '%') {
			check(i + 2 < (size_t)r);
			check(is_hex_upper(out[i + 1]) &&
			    is_hex_upper(out[i + 2]));
			check(j < len && (uint8_t)value[j] ==
			    hexval(out[i + 1]) * 16 + hexval(out[i + 2]));
			i += 3;
		} else {
			check(strchr("&=+#%; /?", out[i]) == NULL);
			check(out[i] != ',' || keep);
			check(j < len && value[j] == out[i]);
			i++;
		}
	}
	check(j == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		drive_parse(data + 1, size - 1);
		break;
	case 1:
		drive_builder(data + 1, size - 1, 1);
		break;
	case 2:
		drive_builder(data + 1, size - 1, 0);
		break;
	default:
		drive_encode(data + 1, size - 1);
		break;
	}
	return 0;
}
