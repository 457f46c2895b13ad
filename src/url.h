/*
 * url: parse ws/wss/http/https URLs and build tsino's stream and REST
 * URLs from the API base.  A pure function over a whole string: no
 * allocation, no I/O, results in a caller-owned struct with fixed-size
 * arrays.  Errors are the TS_ERR_URL_* codes of include/tsino.h.
 */
#ifndef TS_URL_H
#define TS_URL_H

#include <stddef.h>

/* Longest host kept, in bytes, without the NUL (a DNS name fits). */
#define TS_URL_HOST_MAX 255
/* Longest request target (path and query), in bytes, without the NUL. */
#define TS_URL_TARGET_MAX 2048
/*
 * Room for the longest URL ts_url_parse() can accept once its parts are
 * within their limits ("https://", a host, ":65535", a target) and a
 * NUL, and so for the longest one the builders produce.
 */
#define TS_URL_BUFSIZE (8 + TS_URL_HOST_MAX + 6 + TS_URL_TARGET_MAX + 1)
/* Room for ts_url_port(): ':', the digits of any unsigned, NUL. */
#define TS_URL_PORT_BUFSIZE 12

struct ts_url {
	int tls;		/* 1 for wss and https, 0 for ws and http */
	/*
	 * NUL-terminated; a DNS name lower-cased, a strict dotted quad, or
	 * an IPv6 literal without its brackets, hex digits lower-cased
	 */
	char host[TS_URL_HOST_MAX + 1];
	/*
	 * What the host is, as written: 0 for a name, else an IP literal
	 * whose address addr holds in network order, 4 bytes for IPv4, 16
	 * for IPv6
	 */
	unsigned char addr[16];
	size_t addr_len;
	unsigned port;		/* 1..65535; the scheme's default if none */
	int port_explicit;	/* 1 if the URL spelt a port out */
	/*
	 * The request target: the path ("/" when the URL had none) and, if
	 * the URL had a '?' (even "?" alone), the '?' and the query, exactly
	 * as written.  NUL-terminated.  The query (with its '?') starts at
	 * path_len: there is one if target[path_len] is not the NUL.
	 */
	char target[TS_URL_TARGET_MAX + 1];
	size_t path_len;
};

/*
 * ts_url_parse: parse the len bytes at s (no NUL needed; a NUL byte in
 * them is an error) as scheme "://" host [":" port] [path] ["?" query].
 * The scheme is ws, wss, http or https in any case.  The host is a DNS
 * name (letters, digits, '-', '.'; labels of 1 to 63 bytes not starting
 * or ending with '-'; one trailing dot allowed), a strict dotted quad, or
 * an IPv6 literal in brackets (RFC 4291 §2.2 text forms, no zone id).  A
 * name whose last label looks like a number (digits, or "0x" and hex)
 * that is not a strict dotted quad is refused: the system resolver would
 * read "127.1" or "0x7f000001" as an address.  The port is 1 to 5 digits
 * with a value 1..65535.  Path and query may hold only RFC 3986 pchar
 * (and '/', and '?' in the query) and well-formed %XX escapes; they are
 * kept as written.
 *
 * On success fills all of *u and returns 0.  On failure returns a
 * negative TS_ERR_URL_* code and *u holds nothing useful: _CHAR (space,
 * control or non-ASCII byte anywhere), _FRAGMENT ('#' anywhere), _SCHEME,
 * _USERINFO ('@' in the authority), _HOST (missing, empty or malformed
 * host), _IPV6, _PORT, _PATH (a character that must be escaped),
 * _PERCENT, _TOO_LONG (host over TS_URL_HOST_MAX or target over
 * TS_URL_TARGET_MAX).  u must not be NULL; s may be NULL only if len is 0.
 * Nothing points into s afterwards.
 */
int
ts_url_parse(struct ts_url *u, const char *s, size_t len);

/*
 * ts_url_is_loopback: 1 if the host is loopback as written (SPEC §7.11),
 * else 0.  Loopback means: the name "localhost" (any case, optionally with
 * one trailing dot), any IPv4 address in 127.0.0.0/8, the IPv6 address ::1
 * in any text form, and the IPv4-mapped IPv6 addresses ::ffff:127.0.0.0/104
 * (a socket sends those to the IPv4 loopback, they cannot leave the
 * machine).  Not loopback: "foo.localhost" and every other name, ::127.0.0.1
 * (the deprecated IPv4-compatible form routes as IPv6), anything else.  No
 * name is ever resolved.  u is a struct filled by ts_url_parse().
 */
int
ts_url_is_loopback(const struct ts_url *u);

/*
 * ts_url_port: ":" and the decimal digits of port, NUL-terminated, written
 * at the end of buf; returns where they start (in buf).
 */
const char *
ts_url_port(char buf[TS_URL_PORT_BUFSIZE], unsigned port);

/*
 * ts_url_stream: the stream URL for the API base (SPEC §1, §7.6):
 * BASE/stream with https mapped to wss and http to ws (a base already
 * written as wss or ws is kept as it is), and "?games=LIST" with the
 * commas literal, left out when games is NULL or "".  Each comma-
 * separated item is percent-encoded (RFC 3986 §2.1, upper-case hex):
 * kept as they are are the unreserved characters (letters, digits, '-',
 * '.', '_', '~') and ! $ ' ( ) * : @; everything else is encoded, '&',
 * '=', '+', '#', '%', ';', '/', '?', space and non-ASCII bytes included,
 * so "+02:00" becomes "%2B02:00".  An empty item (",a", "a,,b", "a,") is
 * refused with TS_ERR_URL_SLUG, a control byte (0x00-0x1f, 0x7f) with
 * TS_ERR_URL_VALUE.  Trailing '/' on BASE never give "//".
 *
 * base is a NUL-terminated URL; it is parsed first (any ts_url_parse()
 * error comes back as is) and may not have a query (TS_ERR_URL_BASE).
 * The host comes out lower-cased, the port only if BASE spelt it.
 * Writes a NUL-terminated URL to out and returns its length, or a
 * negative code: TS_ERR_URL_TOO_LONG if the result would not parse back
 * (target over TS_URL_TARGET_MAX), TS_ERR_URL_BUF_TOO_SMALL if it does
 * not fit outlen (TS_URL_BUFSIZE always does).  Never writes past
 * outlen; on any error out is "" if outlen >= 1.
 */
int
ts_url_stream(char *out, size_t outlen, const char *base, const char *games);

/*
 * ts_url_rest: the REST URL BASE/games/{slug}/rounds, with "?since=TIME"
 * when since is neither NULL nor "".  The scheme maps the other way: wss
 * to https, ws to http; https and http stay.  slug and TIME are
 * percent-encoded as ts_url_stream() encodes an item, commas encoded too
 * (so the slug is safe as a path segment); an empty slug, ".", ".." or
 * NULL is TS_ERR_URL_SLUG.  Base, buffer, return and error rules as
 * ts_url_stream().
 */
int
ts_url_rest(char *out, size_t outlen, const char *base, const char *slug,
    const char *since);

#endif /* TS_URL_H */
