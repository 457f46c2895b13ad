/*
 * url: the URLs tsino reads (--api, and what it builds from it) and the
 * ones it writes (the stream URL, the REST URL, their query values).
 *
 * Parsing is one pass over a whole string, no state kept between calls:
 *
 *	bytes	every byte printable ASCII, no '#' anywhere
 *	scheme	ws | wss | http | https, any case, then "://"
 *	auth	up to the first '/' or '?'; no '@' in it
 *	host	"[" IPv6 "]" | dotted quad | DNS name; then ":" port
 *	target	path-abempty ["?" query], "/" when empty
 *
 * Implements: RFC 3986 §2.1 (percent-encoding), §3.1 (scheme), §3.2.2
 * (host: IP-literal, IPv4address, reg-name narrowed to what DNS carries),
 * §3.2.3 (port), §3.3 and §3.4 (path and query characters); RFC 4291
 * §2.2 (IPv6 text forms); RFC 6455 §3 (ws and wss URIs); RFC 9110 §4.2
 * (http and https URIs).  Builders for the stream and REST URLs follow
 * SPEC §1, §7.6.
 *
 * Stricter than RFC 3986 on purpose: no userinfo, no fragment, no
 * percent-escapes or sub-delims in host names, no zone ids, no "127.1"
 * or "0x7f000001" style names that the system resolver would read as
 * addresses, so that what the loopback and IP-literal checks see is what
 * the socket layer connects to.
 */
#include <string.h>

#include "tsino.h"
#include "base.h"
#include "url.h"

/* A bounded output: counts every byte asked for, stores what fits. */
struct out {
	char *buf;
	size_t cap;
	size_t need;		/* bytes asked for so far, without the NUL */
	size_t target;		/* where the request target starts */
	int err;		/* TS_ERR_URL_VALUE once put_encoded saw one */
};

static const char hexdigits[] = "0123456789ABCDEF";
/* Odd ones use TLS; the builders pick one as 2 * !stream + tls. */
static const char *const schemes[] = { "ws", "wss", "http", "https" };

/* RFC 3986 §2.3: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
static int
is_unreserved(int c)
{
	return ts_is_alpha(c) || ts_is_digit(c) || c == '-' || c == '.' ||
	    c == '_' || c == '~';
}

/*
 * Strict dotted quad, RFC 3986 §3.2.2 IPv4address: four dec-octets of
 * 1 to 3 digits, value at most 255, no leading zero.  Returns 0 or -1.
 */
static int
parse_ipv4(const char *a, size_t n, unsigned char out[4])
{
	size_t i = 0, start;
	unsigned v;
	int part;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || a[i] != '.')
				return -1;
			i++;
		}
		/* a fourth digit is then neither a '.' nor the end */
		v = 0;
		for (start = i;
		    i < n && i - start < 3 && ts_is_digit(a[i]); i++)
			v = v * 10 + (unsigned)(a[i] - '0');
		/* "0" is a dec-octet, "01" is not (it would read as octal) */
		if (i == start || v > 255 || (i - start > 1 && a[start] == '0'))
			return -1;
		out[part] = (unsigned char)v;
	}
	return i == n ? 0 : -1;
}

/*
 * IPv6 text, RFC 4291 §2.2: eight groups of 1 to 4 hex digits; "::" once
 * for one or more zero groups; the last 32 bits may be a dotted quad.
 * No zone id (RFC 6874), no IPvFuture.  The groups before and after the
 * "::" go into t[0..tp), gap marks where the "::" stood; the bytes after
 * it are then moved to the end.  Returns 0 or -1.
 */
static int
parse_ipv6(const char *a, size_t n, unsigned char out[16])
{
	unsigned char t[16];
	size_t i, tp = 0, group = 0, digits = 0, tail;
	int gap = -1, h;
	unsigned v = 0;

	/* a leading ':' is only the first half of a leading "::" */
	if (n < 2 || (a[0] == ':' && a[1] != ':'))
		return -1;
	for (i = a[0] == ':' ? 1 : 0; i < n; i++) {
		if ((h = ts_hex_value(a[i])) >= 0) {
			/* at most eight groups of at most four digits */
			if (tp == 16 || ++digits > 4)
				return -1;
			v = v << 4 | (unsigned)h;
		} else if (a[i] == ':' && digits == 0) {
			/* RFC 4291: "The "::" can only appear once" */
			if (gap >= 0)
				return -1;
			gap = (int)tp;
			group = i + 1;
		} else if (a[i] == ':') {
			if (i + 1 == n)
				return -1;	/* trailing single ':' */
			t[tp++] = (unsigned char)(v >> 8);
			t[tp++] = (unsigned char)v;
			v = 0;
			digits = 0;
			group = i + 1;
		} else if (a[i] == '.' && tp <= 12 &&
		    parse_ipv4(a + group, n - group, t + tp) == 0) {
			/* the embedded IPv4 tail ends the address */
			tp += 4;
			digits = 0;
			break;
		} else {
			return -1;
		}
	}
	if (digits > 0) {
		t[tp++] = (unsigned char)(v >> 8);
		t[tp++] = (unsigned char)v;
	}
	/* "::" stands for at least one group, so at most seven are written */
	if (gap < 0 ? tp != 16 : tp == 16)
		return -1;
	tail = gap < 0 ? 0 : tp - (size_t)gap;
	memset(out, 0, 16);
	memcpy(out, t, tp - tail);
	memcpy(out + 16 - tail, t + tp - tail, tail);
	return 0;
}

/* Copy n bytes lower-cased and NUL-terminate; n <= TS_URL_HOST_MAX. */
static void
set_host(struct ts_url *u, const char *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		u->host[i] = (char)ts_lower((unsigned char)a[i]);
	u->host[n] = '\0';
}

/*
 * A host that is not bracketed: a strict dotted quad, else a DNS name
 * (RFC 1123 §2.1 labels of letters, digits and inner hyphens, 1 to 63
 * bytes each, one trailing dot allowed).
 */
static int
parse_host(struct ts_url *u, const char *a, size_t n)
{
	size_t i, start = 0, last = 0, last_len = 0, len;
	int hex;

	/* RFC 9110 §4.2.1, empty host: "[...] MUST reject it as invalid." */
	if (n == 0)
		return TS_ERR_URL_HOST;
	if (n > TS_URL_HOST_MAX)
		return TS_ERR_URL_TOO_LONG;
	set_host(u, a, n);
	if (parse_ipv4(a, n, u->addr) == 0) {
		u->addr_len = 4;
		return 0;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && a[i] != '.') {
			if (!ts_is_alpha(a[i]) && !ts_is_digit(a[i]) &&
			    a[i] != '-')
				return TS_ERR_URL_HOST;
			continue;
		}
		len = i - start;
		/* only the root label after a trailing dot is empty */
		if (len == 0 && i == n)
			break;
		if (len == 0 || len > 63 || a[start] == '-' || a[i - 1] == '-')
			return TS_ERR_URL_HOST;
		last = start;
		last_len = len;
		start = i + 1;
	}
	/*
	 * getaddrinfo() reads "127.1", "2130706433" and "0x7f.1" as IPv4
	 * addresses: refuse a last label (there is one, at least a byte
	 * long) that the resolver would take for a number, digits or "0x"
	 * and hex, rather than let the socket layer connect to something
	 * the loopback check did not see.
	 */
	a += last;
	hex = last_len >= 2 && a[0] == '0' && ts_lower(a[1]) == 'x';
	for (i = hex ? 2 : 0; i < last_len; i++)
		if (hex ? ts_hex_value(a[i]) < 0 : !ts_is_digit(a[i]))
			return 0;
	return TS_ERR_URL_HOST;
}

/* The authority without userinfo: host [":" port]. */
static int
parse_authority(struct ts_url *u, const char *a, size_t n)
{
	const char *close, *colon;
	size_t hlen, rest, i;
	int err;

	if (n > 0 && a[0] == '[') {
		close = memchr(a, ']', n);
		if (close == NULL)
			return TS_ERR_URL_IPV6;
		hlen = (size_t)(close - a) - 1;
		if (parse_ipv6(a + 1, hlen, u->addr) != 0)
			return TS_ERR_URL_IPV6;
		u->addr_len = 16;
		set_host(u, a + 1, hlen);
		rest = hlen + 2;
		if (rest < n && a[rest] != ':')
			return TS_ERR_URL_HOST;
	} else {
		colon = memchr(a, ':', n);
		hlen = colon != NULL ? (size_t)(colon - a) : n;
		if ((err = parse_host(u, a, hlen)) != 0)
			return err;
		rest = hlen;
	}
	if (rest == n)
		return 0;
	/* a[rest] is ':'; RFC 3986 §3.2.3 port = *DIGIT; we want 1 to 5
	 * digits, 1..65535 */
	u->port_explicit = 1;
	u->port = 0;
	if (n - rest < 2 || n - rest > 6)
		return TS_ERR_URL_PORT;
	for (i = rest + 1; i < n; i++) {
		if (!ts_is_digit(a[i]))
			return TS_ERR_URL_PORT;
		u->port = u->port * 10 + (unsigned)(a[i] - '0');
	}
	return u->port == 0 || u->port > 65535 ? TS_ERR_URL_PORT : 0;
}

/*
 * path-abempty ["?" query] as written; RFC 6455 §3 and RFC 9112 §3.2.1
 * both send "/" for an empty path.
 */
static int
parse_target(struct ts_url *u, const char *t, size_t n)
{
	size_t i, pre, qstart = n;
	int c;

	pre = (n == 0 || t[0] == '?') ? 1 : 0;
	if (n + pre > TS_URL_TARGET_MAX)
		return TS_ERR_URL_TOO_LONG;
	for (i = 0; i < n; i++) {
		c = (unsigned char)t[i];
		if (c == '%') {
			/* RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG */
			if (n - i < 3 || ts_hex_value(t[i + 1]) < 0 ||
			    ts_hex_value(t[i + 2]) < 0)
				return TS_ERR_URL_PERCENT;
			i += 2;
		} else if (c == '?' && qstart == n) {
			qstart = i;
		} else if (!is_unreserved(c) &&
		    strchr("!$&'()*+,;=:@/?", c) == NULL) {
			/*
			 * RFC 3986 §3.3: pchar = unreserved / pct-encoded /
			 * sub-delims / ":" / "@"; and '/', and '?' (§3.4).
			 * c is not NUL: ts_url_parse refused it.
			 */
			return TS_ERR_URL_PATH;
		}
	}
	if (pre)
		u->target[0] = '/';
	memcpy(u->target + pre, t, n);
	u->target[pre + n] = '\0';
	u->path_len = pre + qstart;
	return 0;
}

int
ts_url_parse(struct ts_url *u, const char *s, size_t len)
{
	size_t i, colon, auth;
	int c, k, err;

	memset(u, 0, sizeof(*u));
	if (len == 0)
		return TS_ERR_URL_SCHEME;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return TS_ERR_URL_CHAR;
	}
	/* RFC 6455 §3: "Fragment identifiers [...] MUST NOT be used" */
	if (memchr(s, '#', len) != NULL)
		return TS_ERR_URL_FRAGMENT;

	/* RFC 3986 §3.1: "schemes are case-insensitive" */
	for (colon = 0; colon < len && s[colon] != ':'; colon++)
		continue;
	for (k = 0; k < 4 && !ts_iequal(s, colon, schemes[k]); k++)
		continue;
	if (k == 4)
		return TS_ERR_URL_SCHEME;
	u->tls = k % 2;
	u->port = u->tls ? 443 : 80;
	/* all four schemes need an authority: "//" host */
	if (len - colon < 3 || s[colon + 1] != '/' || s[colon + 2] != '/')
		return TS_ERR_URL_HOST;

	auth = colon + 3;
	for (i = auth; i < len && s[i] != '/' && s[i] != '?'; i++) {
		/* RFC 9110 §4.2.4: "MUST NOT generate the userinfo" */
		if (s[i] == '@')
			return TS_ERR_URL_USERINFO;
	}
	if ((err = parse_authority(u, s + auth, i - auth)) != 0)
		return err;
	return parse_target(u, s + i, len - i);
}

int
ts_url_is_loopback(const struct ts_url *u)
{
	static const unsigned char one[16] = { [15] = 1 };	/* ::1 */

	switch (u->addr_len) {
	case 4:
		return u->addr[0] == 127;
	case 16:
		/* ::1, or ten zero bytes, ffff, 127 (::ffff:127.0.0.0/104) */
		return memcmp(u->addr, one, 16) == 0 ||
		    (memcmp(u->addr, one, 10) == 0 && u->addr[10] == 0xff &&
		    u->addr[11] == 0xff && u->addr[12] == 127);
	default:
		/* a name, lower-cased already */
		return strcmp(u->host, "localhost") == 0 ||
		    strcmp(u->host, "localhost.") == 0;
	}
}

const char *
ts_url_port(char buf[TS_URL_PORT_BUFSIZE], unsigned port)
{
	char *p = &buf[TS_URL_PORT_BUFSIZE - 1];

	*p = '\0';
	do {
		*--p = (char)('0' + port % 10);
		port /= 10;
	} while (port > 0);
	*--p = ':';
	return p;
}

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->need < o->cap && n < o->cap - o->need)
		memcpy(o->buf + o->need, s, n);
	o->need += n;
}

static void
put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/*
 * Percent-encode into o; a control byte makes o->err TS_ERR_URL_VALUE.
 * RFC 3986 §2.1: "For consistency, URI producers and normalizers should
 * use uppercase hexadecimal digits" (we do).
 */
static void
put_encoded(struct out *o, const char *v, int keep_commas)
{
	int c;

	for (; *v != '\0'; v++) {
		c = (unsigned char)*v;
		if (c < 0x20 || c == 0x7f)
			o->err = TS_ERR_URL_VALUE;
		else if (is_unreserved(c) || strchr("!$'()*:@", c) != NULL ||
		    (c == ',' && keep_commas)) {
			put(o, v, 1);
		} else {
			put(o, "%", 1);
			put(o, hexdigits + (c >> 4), 1);
			put(o, hexdigits + (c & 15), 1);
		}
	}
}

/*
 * NUL-terminate, or clear out and fail if it did not all fit.  The
 * request target must fit a ts_url, or the URL would not parse back.
 */
static int
finish(struct out *o, int err)
{
	if (err == 0 && o->need - o->target > TS_URL_TARGET_MAX)
		err = TS_ERR_URL_TOO_LONG;
	if (err == 0 && o->need >= o->cap)
		err = TS_ERR_URL_BUF_TOO_SMALL;
	if (err != 0) {
		if (o->cap > 0)
			o->buf[0] = '\0';
		return err;
	}
	o->buf[o->need] = '\0';
	return (int)o->need;
}

/*
 * Parse the base and write scheme "://" authority path, without the
 * path's trailing slashes, with the scheme mapped to its ws (stream) or
 * http (REST) form of the same security; the request target starts
 * after the authority.
 */
static int
put_base(struct out *o, const char *base, int stream)
{
	struct ts_url b;
	char port[TS_URL_PORT_BUFSIZE];
	size_t plen;
	int err;

	err = ts_url_parse(&b, base, base != NULL ? strlen(base) : 0);
	if (err != 0)
		return err;
	if (b.target[b.path_len] != '\0')
		return TS_ERR_URL_BASE;
	put_str(o, schemes[2 * !stream + b.tls]);
	put_str(o, "://");
	put_str(o, b.addr_len == 16 ? "[" : "");
	put_str(o, b.host);
	put_str(o, b.addr_len == 16 ? "]" : "");
	if (b.port_explicit)
		put_str(o, ts_url_port(port, b.port));
	o->target = o->need;
	plen = b.path_len;
	while (plen > 0 && b.target[plen - 1] == '/')
		plen--;
	put(o, b.target, plen);
	return 0;
}

int
ts_url_stream(char *out, size_t outlen, const char *base, const char *games)
{
	struct out o = { out, outlen, 0, 0, 0 };
	size_t i;
	int err;

	if ((err = put_base(&o, base, 1)) != 0)
		return finish(&o, err);
	put_str(&o, "/stream");
	if (games != NULL && games[0] != '\0') {
		/* no empty item in the list: not ",a", "a,,b" nor "a," */
		for (i = 0; games[i] != '\0'; i++)
			if (games[i] == ',' && (i == 0 || games[i - 1] == ',' ||
			    games[i + 1] == '\0'))
				return finish(&o, TS_ERR_URL_SLUG);
		put_str(&o, "?games=");
		put_encoded(&o, games, 1);
	}
	return finish(&o, o.err);
}

int
ts_url_rest(char *out, size_t outlen, const char *base, const char *slug,
    const char *since)
{
	struct out o = { out, outlen, 0, 0, 0 };
	int err;

	/* "." and ".." would be removed as dot-segments (RFC 3986 §5.2.4) */
	if (slug == NULL || slug[0] == '\0' || strcmp(slug, ".") == 0 ||
	    strcmp(slug, "..") == 0)
		return finish(&o, TS_ERR_URL_SLUG);
	if ((err = put_base(&o, base, 0)) != 0)
		return finish(&o, err);
	put_str(&o, "/games/");
	put_encoded(&o, slug, 0);
	put_str(&o, "/rounds");
	if (since != NULL && since[0] != '\0') {
		put_str(&o, "?since=");
		put_encoded(&o, since, 0);
	}
	return finish(&o, o.err);
}
