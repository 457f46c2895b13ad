/*
 * http: the HTTP/1.1 client side as a pure byte machine.  It writes one GET
 * request (a REST call or a WebSocket upgrade) into a caller's buffer and
 * parses the response incrementally into events: status, header fields,
 * end of the header section (with the body framing decided), body bytes
 * (zero-copy, chunk framing removed), trailer fields, end.  No I/O, no
 * allocation: the caller owns the context and the line buffer.  It also
 * parses HTTP-dates and Retry-After by hand, locale-free.
 */
#ifndef TS_HTTP_H
#define TS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "tsino.h"

/* Line buffer size for ts_http_init: the longest header line accepted. */
#define TS_HTTP_BUFSIZE 8192
/* A request buffer big enough for any request tsino itself writes. */
#define TS_HTTP_REQUEST_BUFSIZE 4096

/*
 * Events from ts_http_event, in the order they come: one STATUS, HEADERs,
 * one HEADERS_END, then (except after 101) BODYs, TRAILERs (chunked only)
 * and one END.
 */
enum ts_http_event {
	TS_HTTP_EV_STATUS = 1,	/* status, reason, reason_len, version */
	TS_HTTP_EV_HEADER,	/* name, name_len, value, value_len */
	TS_HTTP_EV_HEADERS_END,	/* chunked, content_length; the body's
				   framing is decided (RFC 9112 6.3) */
	TS_HTTP_EV_BODY,	/* data, data_len */
	TS_HTTP_EV_END,		/* the response is complete */
	TS_HTTP_EV_TRAILER	/* name, name_len, value, value_len */
};

/* What to send.  All strings NUL-terminated and owned by the caller. */
struct ts_http_req {
	const char *host;	/* as in the URL; IPv6 without brackets */
	unsigned port;		/* 0 means the default for tls */
	int tls;		/* default port 443 if set, else 80 */
	const char *target;	/* path and query, starting with '/' */
	const char *bearer;	/* API key, or NULL for no Authorization */
	const char *ws_key;	/* NULL for a plain GET, else the 24-char
				   base64 Sec-WebSocket-Key */
};

/*
 * The response parser.  The first block is public: limits the caller may
 * change after ts_http_init and before the first push, and the results
 * that each event describes.  Every pointer below points into the line
 * buffer given to ts_http_init (status, fields) or into the bytes given
 * to the last ts_http_push (body), and stays valid until the next push.
 * The second block is the parser's own state: do not touch.
 */
struct ts_http {
	size_t max_headers;		/* field lines, trailers included */
	size_t max_header_bytes;	/* bytes of all header sections */

	int version;			/* 10 or 11 (HTTP/1.0, HTTP/1.1) */
	int status;			/* 100..599 */
	const char *reason;
	size_t reason_len;
	const char *name;		/* HEADER and TRAILER */
	size_t name_len;
	const char *value;		/* without leading and trailing OWS */
	size_t value_len;
	int chunked;			/* Transfer-Encoding: chunked */
	int64_t content_length;		/* -1 if none */
	char retry_after[48];		/* its copy (HTTP-dates: at most 33
					   bytes) */
	size_t retry_after_len;		/* 0 if longer than the copy */
	const char *data;		/* BODY */
	size_t data_len;

	char *buf;
	size_t buflen;
	size_t linelen;			/* of the line, chunk-size lines too */
	int cr;
	int state;
	int pending;
	int err;
	int interim;
	int te_seen;
	size_t nheaders;
	size_t header_bytes;
	uint64_t remaining;
};

/*
 * ts_http_request: write a GET request for req into out (outlen bytes),
 * followed by a NUL.  The request line is "GET target HTTP/1.1", then
 * Host (with ":port" only when the port is not the default, IPv6 literals
 * in brackets), User-Agent: tsino/TS_VERSION, Authorization: Bearer when
 * req->bearer is set, and either Accept: application/json and Connection:
 * close (a plain GET: tsino opens one connection per REST call) or the
 * WebSocket upgrade fields (Upgrade, Connection, Sec-WebSocket-Key and
 * Sec-WebSocket-Version: 13) when req->ws_key is set.
 * Returns the length written (without the NUL), or
 * TS_ERR_HTTP_INJECTION when a field is missing or holds a byte that
 * cannot go into a header (any control character, space or non-ASCII
 * byte; a host outside the URL host characters; a target not starting
 * with '/'; a ws_key that is not 24 base64 characters; a port above
 * 65535), or TS_ERR_HTTP_REQUEST_TOO_BIG when the request and its NUL do
 * not fit.  On error nothing is written to out, and the error never
 * carries any field's text (the key stays secret).
 */
int
ts_http_request(char *out, size_t outlen, const struct ts_http_req *req);

/*
 * ts_http_init: make h ready to parse one response.  buf (len bytes) is
 * owned by the caller and must outlive h; it holds one header line at a
 * time, so len is the longest line accepted (TS_HTTP_BUFSIZE is a good
 * size).  Sets max_headers to 100 and max_header_bytes to 65536.
 */
void
ts_http_init(struct ts_http *h, char *buf, size_t len);

/*
 * ts_http_push: offer len bytes of the response.  Returns how many were
 * consumed: it stops right after the bytes that complete the next event,
 * so the caller drains ts_http_event and then pushes the rest.  Returns 0
 * while an event is waiting to be drained, after an error, once the
 * response is complete (pushing more bytes then is the sticky error
 * TS_ERR_HTTP_TRAILING), and after the header section of a 101 response:
 * the bytes that follow it belong to the caller (the WebSocket stream).
 * Body bytes are handed out as they arrive, never buffered: h->data
 * points into data.
 */
size_t
ts_http_push(struct ts_http *h, const void *data, size_t len);

/*
 * ts_http_event: the next event (enum ts_http_event, > 0), 0 when more
 * input is needed (or after a 101 and after END: nothing more will come),
 * or a negative TS_ERR_HTTP_* code.  Errors are sticky: every later call
 * returns the first one.  Interim 1xx responses other than 101 are
 * skipped whole: they produce no events.
 */
int
ts_http_event(struct ts_http *h);

/*
 * ts_http_eof: the server closed the connection.  For a body delimited
 * by close this completes the response (the next event after any pending
 * one is TS_HTTP_EV_END) and returns 0; it returns 0 too once the response
 * is complete or after a 101.  Anywhere else the response was cut short:
 * returns (and makes sticky) TS_ERR_HTTP_TRUNCATED.  Call it after
 * draining the events.
 */
int
ts_http_eof(struct ts_http *h);

/*
 * ts_http_date: parse an HTTP-date (s, n bytes, not NUL-terminated) in any
 * of the three forms of RFC 9110 section 5.6.7 (IMF-fixdate, RFC 850,
 * asctime) into seconds since 1970-01-01T00:00:00Z in *epoch.  The forms
 * are matched exactly (case-sensitive, as the RFC says).  The day name
 * must be a day name but is not checked against the date.  A two-digit
 * RFC 850 year means the year within 49 years before and 50 after 2020
 * (1971..2070); ts_http_retry_after takes the current time instead.
 * Returns 0 or TS_ERR_HTTP_DATE.
 */
int
ts_http_date(const char *s, size_t n, int64_t *epoch);

/*
 * ts_http_retry_after: the Retry-After value v (n bytes, surrounding OWS
 * allowed) as a delay in seconds from now (epoch seconds) into *delay.
 * delta-seconds are taken as they are (values above 2^31 become 2^31,
 * as RFC 9111 section 1.2.2 asks); an HTTP-date (as ts_http_date, but
 * with two-digit years within 49 years before and 50 after now's year)
 * gives date - now, or 0 for a date already past.  Returns 0 or
 * TS_ERR_HTTP_RETRY_AFTER.
 */
int
ts_http_retry_after(const char *v, size_t n, int64_t now, int64_t *delay);

#endif /* TS_HTTP_H */
