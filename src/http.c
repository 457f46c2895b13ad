/*
 * http: the client side of HTTP/1.1 (RFC 9112, RFC 9110) as a pure byte
 * machine.  ts_http_request writes one GET; ts_http_push/ts_http_event
 * parse the response into events; ts_http_date and ts_http_retry_after
 * turn HTTP-dates and Retry-After into numbers.
 *
 * The parser's states:
 *
 *	STATUS		collecting the status line into the line buffer
 *	HEADER		collecting one field line at a time; an empty line
 *			decides the framing (RFC 9112 section 6.3)
 *	BODY		handing out body bytes as they come: Content-Length
 *			many, or (without one) all until ts_http_eof
 *	CHUNK_*		chunk-size line byte by byte (extensions skipped to
 *			the line end, never buffered), chunk data handed out,
 *			the CRLF after the data
 *	TRAILER		trailer field lines, then the final empty line
 *	COMPLETE	the response is complete; END not yet handed out
 *	DONE		END handed out; any further byte is an error
 *	UPGRADED	a 101 ended its header section: the rest is not ours
 *
 * RFCs: 9112 sections 2.2 (lines), 4 (status line), 5 (fields), 6.1 and
 * 6.3 (framing), 7.1 (chunked); 9110 sections 5.5 (field values), 5.6.1
 * (lists), 5.6.7 (HTTP-date), 8.6 (Content-Length), 10.2.3 (Retry-After),
 * 15.2 (1xx); 9111 section 1.2.2 (delta-seconds); 6455 section 4.1 (the
 * upgrade request).
 *
 * Header and trailer lines are copied into the caller's line buffer (a
 * line may arrive split across pushes); body bytes are never copied.
 * push stops after the bytes that complete an event, so that event's
 * pointers stay valid until the caller pushes again.  Each step returns
 * 0 or an error, which push keeps: the first error is sticky, since
 * nothing is parsed after it.
 *
 * Choices where the RFCs leave room (README repeats them):
 *  - a bare LF ends a header or trailer line (RFC 9112 section 2.2 MAY);
 *    chunk-size lines and the CRLF after chunk data must be CRLF;
 *  - chunk extensions are not parsed: after the size, a ';' or BWS starts
 *    them and everything up to the CR is skipped (a bare LF there is
 *    still an error), within the line length limit;
 *  - "HTTP/1.1 200" without the SP before an empty reason is accepted;
 *  - interim 1xx responses other than 101 are skipped without events,
 *    their lines counting towards the header limits;
 *  - obs-fold is rejected, not unfolded: RFC 9112 section 5.2 asks a
 *    user agent to replace it with SP, but no server tsino talks to
 *    folds, and a fold in a response is more likely an attack;
 *  - Content-Length repeated (as a list or as fields) with equal values
 *    is accepted (RFC 9110 section 8.6 MAY), different values rejected;
 *  - Transfer-Encoding together with Content-Length is rejected (RFC 9112
 *    section 6.3 says it "ought to be handled as an error");
 *  - Transfer-Encoding other than exactly one "chunked" is rejected: we
 *    cannot decode other codings;
 *  - trailer fields are checked like header fields and handed out as
 *    TS_HTTP_EV_TRAILER (not merged into the header fields);
 *  - field values with any control character but HTAB are rejected.
 */
#include <limits.h>
#include <string.h>

#include "base.h"
#include "http.h"
#include "url.h"

enum {
	ST_STATUS = 0,
	ST_HEADER,
	ST_BODY,
	ST_CHUNK_START,		/* before the first hex digit */
	ST_CHUNK_SIZE,		/* more hex digits */
	ST_CHUNK_EXT,		/* extensions, skipped up to the CR */
	ST_CHUNK_LF,		/* after the CR of a chunk-size line */
	ST_CHUNK_DATA,
	ST_CHUNK_DATA_CR,
	ST_CHUNK_DATA_LF,
	ST_TRAILER,
	ST_COMPLETE,
	ST_DONE,
	ST_UPGRADED
};

/* ---- character classes and fixed shapes ---- */

/*
 * How many of the first n bytes of s are letters, digits or bytes of set
 * (a NUL is in no set, so a NUL-terminated s may pass SIZE_MAX for n).
 */
static size_t
span(const char *s, size_t n, const char *set)
{
	size_t i;
	unsigned c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!ts_is_alpha(c) && !ts_is_digit(c) &&
		    (c == 0 || strchr(set, (int)c) == NULL))
			break;
	}
	return i;
}

/* p[0..n) is HTAB / SP / VCHAR / obs-text: a reason or a field value. */
static int
is_text(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 ? p[i] != '\t' : p[i] == 0x7f)
			return 0;
	return 1;
}

/* s starts with pat, where '9' in pat stands for any digit, '_' for any
 * byte. */
static int
shape(const char *s, const char *pat)
{
	for (; *pat != '\0'; s++, pat++)
		if (*pat == '9' ? !ts_is_digit((unsigned char)*s) :
		    *pat != '_' && *s != *pat)
			return 0;
	return 1;
}

/* n decimal digits at s, or -1. */
static int
number(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ts_is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* ---- the request ---- */

/* Counts always; copies only in the second pass (p != NULL). */
struct writer {
	char *p;
	size_t len;
};

static void
put(struct writer *w, const char *s)
{
	size_t n = strlen(s);

	if (w->p != NULL)
		memcpy(w->p + w->len, s, n);
	w->len += n;
}

/* A field goes verbatim into a header: visible ASCII only, no space. */
static int
visible_ascii(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static void
write_request(struct writer *w, const struct ts_http_req *req)
{
	char port[TS_URL_PORT_BUFSIZE];
	int v6 = strchr(req->host, ':') != NULL;

	put(w, "GET ");
	put(w, req->target);
	put(w, " HTTP/1.1\r\n");
	/* RFC 9112 3.2: "A client MUST send a Host header field in all
	   HTTP/1.1 request messages." */
	put(w, "Host: ");
	put(w, v6 ? "[" : "");
	put(w, req->host);
	put(w, v6 ? "]" : "");
	/* port 0 means the default, which goes without ":port" */
	if (req->port != 0 && req->port != (req->tls ? 443u : 80u))
		put(w, ts_url_port(port, req->port));
	put(w, "\r\nUser-Agent: tsino/" TS_VERSION "\r\n");
	if (req->bearer != NULL) {
		put(w, "Authorization: Bearer ");
		put(w, req->bearer);
		put(w, "\r\n");
	}
	if (req->ws_key != NULL) {
		/* RFC 6455 4.1: "The value of this header field MUST be 13." */
		put(w, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Key: ");
		put(w, req->ws_key);
		put(w, "\r\nSec-WebSocket-Version: 13\r\n");
	} else
		put(w, "Accept: application/json\r\nConnection: close\r\n");
	put(w, "\r\n");
}

int
ts_http_request(char *out, size_t outlen, const struct ts_http_req *req)
{
	struct writer w = { NULL, 0 };
	const char *k = req->ws_key;

	if (req->host == NULL || req->target == NULL || *req->host == '\0')
		return TS_ERR_HTTP_INJECTION;
	/* The characters of a URL host: reg-name, IPv4, IPv6, zone; a key:
	   22 base64 characters and "==". */
	if (req->host[span(req->host, SIZE_MAX, "-._~!$&'()*+,;=%:")] != '\0' ||
	    req->target[0] != '/' || !visible_ascii(req->target) ||
	    (req->bearer != NULL && !visible_ascii(req->bearer)) ||
	    (k != NULL && (span(k, 22, "+/") != 22 ||
	    strcmp(k + 22, "==") != 0)) || req->port > 65535)
		return TS_ERR_HTTP_INJECTION;

	/* Measure first, so that nothing is written when it does not fit. */
	write_request(&w, req);
	if (w.len >= outlen || w.len > INT_MAX)
		return TS_ERR_HTTP_REQUEST_TOO_BIG;
	w.p = out;
	w.len = 0;
	write_request(&w, req);
	out[w.len] = '\0';
	return (int)w.len;
}

/* ---- the response parser ---- */

void
ts_http_init(struct ts_http *h, char *buf, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->buf = buf;
	h->buflen = len;
	h->max_headers = 100;
	h->max_header_bytes = 65536;
	h->content_length = -1;
}

/*
 * status-line = HTTP-version SP status-code SP [ reason-phrase ]
 * (RFC 9112 section 4), the n bytes in buf.
 */
static int
parse_status(struct ts_http *h, size_t n)
{
	const char *b = h->buf;
	size_t r = n > 13 ? 13 : n;	/* where the reason starts */
	int status;

	/* RFC 9112 2.3: "HTTP-version is case-sensitive." */
	if (n < 12 || !shape(b, "HTTP/9.9 999"))
		return TS_ERR_HTTP_STATUS_LINE;
	if (b[5] != '1' || (b[7] != '0' && b[7] != '1'))
		return TS_ERR_HTTP_VERSION;
	status = number(b + 9, 3);
	/* reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
	if (status < 100 || status > 599 || (n > 12 && b[12] != ' ') ||
	    !is_text(b + r, n - r))
		return TS_ERR_HTTP_STATUS_LINE;
	h->state = ST_HEADER;
	/* RFC 9110 15.2: "A client MUST be able to parse one or more 1xx
	   responses received prior to a final response, even if the client
	   does not expect one." */
	h->interim = status < 200 && status != 101;
	if (h->interim)
		return 0;
	h->version = b[7] == '0' ? 10 : 11;
	h->status = status;
	h->reason = b + r;
	h->reason_len = n - r;
	h->pending = TS_HTTP_EV_STATUS;
	return 0;
}

/* Content-Length = 1*DIGIT, possibly repeated as a list. */
static int
content_length(struct ts_http *h, const char *v, size_t n)
{
	size_t pos = 0, len, i;
	const char *e;
	int64_t value;

	while (ts_list_next(v, n, &pos, &e, &len)) {
		value = 0;
		for (i = 0; i < len; i++) {
			unsigned d = (unsigned char)e[i] - '0';

			if (d > 9 || value > (INT64_MAX - (int64_t)d) / 10)
				return TS_ERR_HTTP_CONTENT_LENGTH;
			value = value * 10 + (int64_t)d;
		}
		/* RFC 9110 8.6: equal duplicates: "a recipient MAY either
		   reject the message as invalid or replace that invalid
		   field value with a single instance of the decimal value" */
		if (len == 0 ||
		    (h->content_length >= 0 && h->content_length != value))
			return TS_ERR_HTTP_CONTENT_LENGTH;
		h->content_length = value;
	}
	return 0;
}

/* Transfer-Encoding: we accept exactly one "chunked" over all fields. */
static int
transfer_encoding(struct ts_http *h, const char *v, size_t n)
{
	size_t pos = 0, len;
	const char *e;

	h->te_seen = 1;
	while (ts_list_next(v, n, &pos, &e, &len)) {
		if (len == 0)
			continue;
		/* RFC 9112 6.1: "A sender MUST NOT apply the chunked transfer
		   coding more than once to a message body"; any coding after
		   chunked would leave chunked not last. */
		if (!ts_iequal(e, len, "chunked") || h->chunked)
			return TS_ERR_HTTP_TRANSFER_ENCODING;
		h->chunked = 1;
	}
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS, the n bytes in buf. */
static int
parse_field(struct ts_http *h, size_t n)
{
	const char *b = h->buf, *v;
	size_t colon, vn;
	int rc = 0;

	/* tchar (RFC 9110 5.6.2); RFC 9112 5.1: "No whitespace is allowed
	   between the field name and colon." */
	colon = span(b, n, "!#$%&'*+-.^_`|~");
	if (colon == 0 || colon == n || b[colon] != ':')
		return TS_ERR_HTTP_HEADER;
	vn = n - colon - 1;
	v = ts_trim(b + colon + 1, &vn);
	/* RFC 9110 5.5: "a recipient of CR, LF, or NUL within a field value
	   MUST either reject the message or replace each of those characters
	   with SP"; we reject every control character but HTAB. */
	if (!is_text(v, vn))
		return TS_ERR_HTTP_HEADER;
	if (++h->nheaders > h->max_headers)
		return TS_ERR_HTTP_TOO_MANY_HEADERS;
	if (h->interim)
		return 0;
	h->name = b;
	h->name_len = colon;
	h->value = v;
	h->value_len = vn;
	if (h->state == ST_TRAILER) {
		/* Trailers never frame the message, so nothing is read. */
		h->pending = TS_HTTP_EV_TRAILER;
		return 0;
	}
	if (ts_iequal(b, colon, "content-length"))
		rc = content_length(h, v, vn);
	else if (ts_iequal(b, colon, "transfer-encoding"))
		rc = transfer_encoding(h, v, vn);
	else if (ts_iequal(b, colon, "retry-after")) {
		h->retry_after_len = vn < sizeof(h->retry_after) ? vn : 0;
		memcpy(h->retry_after, v, h->retry_after_len);
		h->retry_after[h->retry_after_len] = '\0';
	}
	if (rc == 0)
		h->pending = TS_HTTP_EV_HEADER;
	return rc;
}

/* The empty line after the header fields: decide the framing. */
static int
headers_end(struct ts_http *h)
{
	/* (the next status line sets interim again) */
	if (h->interim) {
		h->state = ST_STATUS;
		return 0;
	}
	/* RFC 9112 6.1: "A server or client that receives an HTTP/1.0
	   message containing a Transfer-Encoding header field MUST treat
	   the message as if the framing is faulty" */
	if (h->te_seen && (h->version == 10 || !h->chunked))
		return TS_ERR_HTTP_TRANSFER_ENCODING;
	/* RFC 9112 6.3: such a message "ought to be handled as an error" */
	if (h->chunked && h->content_length >= 0)
		return TS_ERR_HTTP_AMBIGUOUS_LENGTH;
	h->pending = TS_HTTP_EV_HEADERS_END;
	/* RFC 9112 6.3: "any response with a 1xx (Informational), 204 (No
	   Content), or 304 (Not Modified) status code is always terminated
	   by the first empty line after the header fields"; a chunked
	   response has no Content-Length (see above).  Without either,
	   "the message body length is determined by the number of octets
	   received prior to the server closing the connection." */
	if (h->status == 101)
		h->state = ST_UPGRADED;
	else if (h->status == 204 || h->status == 304 ||
	    h->content_length == 0)
		h->state = ST_COMPLETE;
	else if (h->chunked)
		h->state = ST_CHUNK_START;	/* remaining, linelen are 0 */
	else {
		/* until the close: more bytes than can ever come */
		h->remaining = h->content_length > 0 ?
		    (uint64_t)h->content_length : UINT64_MAX;
		h->state = ST_BODY;
	}
	return 0;
}

/* A line ended: the status line, a field, or the end of a section. */
static int
finish_line(struct ts_http *h)
{
	size_t n = h->linelen;

	h->linelen = 0;
	h->cr = 0;
	if (h->state == ST_STATUS)
		return parse_status(h, n);
	if (n > 0)
		return parse_field(h, n);
	if (h->state == ST_HEADER)
		return headers_end(h);
	h->state = ST_COMPLETE;	/* the empty line after trailers */
	return 0;
}

/* One byte of the status line, a field line or a trailer line. */
static int
line_byte(struct ts_http *h, unsigned char c)
{
	if (++h->header_bytes > h->max_header_bytes)
		return TS_ERR_HTTP_HEADERS_TOO_BIG;
	/* RFC 9112 2.2: "a recipient MAY recognize a single LF as a line
	   terminator and ignore any preceding CR." */
	if (c == '\n')
		return finish_line(h);
	/* RFC 9112 2.2: "A recipient of such a bare CR MUST consider that
	   element to be invalid or replace each bare CR with SP" */
	if (h->cr)
		return h->state == ST_STATUS ? TS_ERR_HTTP_STATUS_LINE :
		    TS_ERR_HTTP_HEADER;
	if (c == '\r') {
		h->cr = 1;
		return 0;
	}
	/* RFC 9112 2.2: whitespace before the first field "MUST either
	   reject the message as invalid or consume each whitespace-preceded
	   line"; later it is obs-fold, which we reject too (see the top). */
	if (h->linelen == 0 && h->state != ST_STATUS &&
	    (c == ' ' || c == '\t'))
		return TS_ERR_HTTP_OBS_FOLD;
	if (h->linelen >= h->buflen)
		return TS_ERR_HTTP_LINE_TOO_LONG;
	h->buf[h->linelen++] = (char)c;
	return 0;
}

/*
 * One byte of a chunk-size line or of the CRLF after chunk data:
 *
 *	chunk-size [ chunk-ext ] CRLF
 *
 * RFC 9112 7.1.1: "A recipient MUST ignore unrecognized chunk
 * extensions."  We recognize none, so they are skipped to the CR, never
 * buffered or checked; linelen counts the line, extensions included,
 * which may be as long as the line buffer.
 */
static int
chunk_byte(struct ts_http *h, unsigned char c)
{
	int d = ts_hex_value(c);

	if (h->state < ST_CHUNK_LF && c != '\r' && ++h->linelen > h->buflen)
		return TS_ERR_HTTP_LINE_TOO_LONG;
	switch (h->state) {
	case ST_CHUNK_START:
	case ST_CHUNK_SIZE:
		if (d >= 0) {
			/* RFC 9112 7.1: "Recipients MUST anticipate potentially
			   large hexadecimal numerals and prevent parsing errors
			   due to integer conversion overflows" */
			if (h->remaining > (uint64_t)(INT64_MAX - d) / 16)
				return TS_ERR_HTTP_CHUNK;
			h->remaining = h->remaining * 16 + (uint64_t)d;
			h->state = ST_CHUNK_SIZE;
		} else if (h->state == ST_CHUNK_SIZE && c == '\r')
			h->state = ST_CHUNK_LF;
		else if (h->state == ST_CHUNK_SIZE &&
		    (c == ';' || c == ' ' || c == '\t'))
			h->state = ST_CHUNK_EXT;
		else
			return TS_ERR_HTTP_CHUNK;
		return 0;
	case ST_CHUNK_EXT:
		if (c == '\r')
			h->state = ST_CHUNK_LF;
		return c == '\n' ? TS_ERR_HTTP_CHUNK : 0;
	case ST_CHUNK_LF:
		/* after the last-chunk, the trailer section follows; the
		   next line (trailer or chunk-size) counts from 0 */
		h->state = h->remaining > 0 ? ST_CHUNK_DATA : ST_TRAILER;
		h->linelen = 0;
		return c == '\n' ? 0 : TS_ERR_HTTP_CHUNK;
	case ST_CHUNK_DATA_CR:
		h->state = ST_CHUNK_DATA_LF;
		return c == '\r' ? 0 : TS_ERR_HTTP_CHUNK;
	default:	/* ST_CHUNK_DATA_LF; remaining and linelen are 0 */
		h->state = ST_CHUNK_START;
		return c == '\n' ? 0 : TS_ERR_HTTP_CHUNK;
	}
}

size_t
ts_http_push(struct ts_http *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0, n;
	int rc = 0;

	if (h->err != 0 || h->pending != 0)
		return 0;
	while (i < len && h->pending == 0 && rc == 0) {
		switch (h->state) {
		case ST_STATUS:
		case ST_HEADER:
		case ST_TRAILER:
			rc = line_byte(h, p[i++]);
			break;
		case ST_BODY:
		case ST_CHUNK_DATA:
			n = len - i;
			if (n > h->remaining)
				n = (size_t)h->remaining;
			h->data = (const char *)p + i;
			h->data_len = n;
			h->pending = TS_HTTP_EV_BODY;
			h->remaining -= n;
			i += n;
			if (h->remaining == 0)
				h->state = h->state == ST_BODY ?
				    ST_COMPLETE : ST_CHUNK_DATA_CR;
			break;
		case ST_COMPLETE:
		case ST_UPGRADED:
			return i;
		case ST_DONE:	/* i is 0: END was handed out before */
			rc = TS_ERR_HTTP_TRAILING;
			break;
		default:
			rc = chunk_byte(h, p[i++]);
			break;
		}
	}
	h->err = rc;
	return i;
}

int
ts_http_event(struct ts_http *h)
{
	int ev;

	/* An event made before ts_http_eof failed still comes first. */
	if (h->pending != 0) {
		ev = h->pending;
		h->pending = 0;
		return ev;
	}
	if (h->err != 0)
		return h->err;
	if (h->state == ST_COMPLETE) {
		h->state = ST_DONE;
		return TS_HTTP_EV_END;
	}
	return 0;
}

int
ts_http_eof(struct ts_http *h)
{
	if (h->err != 0)
		return h->err;
	/* RFC 9112 8: a client that receives an incomplete response "MUST
	   record the message as incomplete." */
	if (h->state == ST_BODY && h->content_length < 0)
		h->state = ST_COMPLETE;
	else if (h->state != ST_COMPLETE && h->state != ST_DONE &&
	    h->state != ST_UPGRADED)
		h->err = TS_ERR_HTTP_TRUNCATED;
	return h->err;
}

/* ---- HTTP-date (RFC 9110 section 5.6.7) ---- */

/* Each short day name is the first three letters of the long one. */
static const char *const day_name[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	"Sunday"
};
static const char month_name[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* s[0..n) is a day name: long, or else short (n is 3). */
static int
is_day_name(const char *s, size_t n, int is_long)
{
	int i;

	for (i = 0; i < 7; i++)
		if ((is_long ? strlen(day_name[i]) : 3) == n &&
		    memcmp(s, day_name[i], n) == 0)
			return 1;
	return 0;
}

/*
 * Check the date (mon: the month's three letters) and the time t
 * ("hh:mm:ss", its digits checked), and combine them into *epoch.
 */
static int
combine(int64_t year, const char *mon, int day, const char *t,
    int64_t *epoch)
{
	int hh = number(t, 2), mm = number(t + 3, 2), ss = number(t + 6, 2);
	unsigned m = 1;

	while (m <= 12 && memcmp(mon, month_name + 3 * (m - 1), 3) != 0)
		m++;
	/* second 60 is a leap second (RFC 5322 section 3.3). */
	if (m > 12 || day < 1 || (unsigned)day > ts_month_days(year, m) ||
	    hh > 23 || mm > 59 || ss > 60)
		return TS_ERR_HTTP_DATE;
	*epoch = ts_days_from_civil(year, m, (unsigned)day) * 86400 +
	    hh * 3600 + mm * 60 + ss;
	return 0;
}

/* An HTTP-date, its two-digit years read relative to now. */
static int
http_date(const char *s, size_t n, int64_t now, int64_t *epoch)
{
	size_t c;
	int64_t year, cur;
	unsigned mon, mday;
	int day;

	/* RFC 9110 5.6.7: "A recipient that parses a timestamp value in an
	   HTTP field MUST accept all three HTTP-date formats." */
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	if (n == 29 && shape(s, "___, 99 ___ 9999 99:99:99 GMT") &&
	    is_day_name(s, 3, 0))
		return combine(number(s + 12, 4), s + 8, number(s + 5, 2),
		    s + 17, epoch);
	/* asctime: Sun Nov  6 08:49:37 1994 */
	if (n == 24 && shape(s, "___ ___ _9 99:99:99 9999") &&
	    is_day_name(s, 3, 0)) {
		day = s[8] == ' ' ? number(s + 9, 1) : number(s + 8, 2);
		return combine(number(s + 20, 4), s + 4, day, s + 11, epoch);
	}
	/* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT; what failed the two
	   forms above fails here too (29 or 24 bytes would need a 5-byte
	   day name, or none) */
	for (c = 0; c < n && c < 10 && s[c] != ','; c++)
		;
	/* (no ',' in the first 10 bytes: no day name is 10 bytes long) */
	if (n != c + 24 || !is_day_name(s, c, 1) ||
	    !shape(s + c, ", 99-___-99 99:99:99 GMT"))
		return TS_ERR_HTTP_DATE;
	s += c;
	/* RFC 9110 5.6.7: "Recipients of a timestamp value in rfc850-date
	   format, which uses a two-digit year, MUST interpret a timestamp
	   that appears to be more than 50 years in the future as
	   representing the most recent year in the past that had the same
	   last two digits."  We take the year within [cur-49, cur+50]. */
	ts_civil_from_days(now / 86400 - (now % 86400 < 0), &cur, &mon,
	    &mday);
	/* A clock beyond all reason must not overflow what follows. */
	if (cur < 1900)
		cur = 1900;
	if (cur > 9999)
		cur = 9999;
	year = cur - cur % 100 + number(s + 9, 2);
	if (year > cur + 50)
		year -= 100;
	else if (year <= cur - 50)
		year += 100;
	return combine(year, s + 5, number(s + 2, 2), s + 12, epoch);
}

int
ts_http_date(const char *s, size_t n, int64_t *epoch)
{
	/* 2020-01-01T00:00:00Z: two-digit years mean 1971..2070. */
	return http_date(s, n, 1577836800, epoch);
}

int
ts_http_retry_after(const char *v, size_t n, int64_t now, int64_t *delay)
{
	int64_t value = 0, date;
	uint64_t diff;
	size_t i;

	v = ts_trim(v, &n);
	/* (an empty value is no HTTP-date either) */
	if (n > 0 && ts_is_digit((unsigned char)v[0])) {
		/* delta-seconds = 1*DIGIT; RFC 9111 1.2.2: a value too big
		   "MUST consider the value to be 2147483648 (2^31)" */
		for (i = 0; i < n; i++) {
			if (!ts_is_digit((unsigned char)v[i]))
				return TS_ERR_HTTP_RETRY_AFTER;
			if (value < 2147483648LL)
				value = value * 10 + (v[i] - '0');
		}
		*delay = value < 2147483648LL ? value : 2147483648LL;
		return 0;
	}
	if (http_date(v, n, now, &date) != 0)
		return TS_ERR_HTTP_RETRY_AFTER;
	/* date - now without signed overflow, whatever now is; 0 for a
	   date already past. */
	diff = date <= now ? 0 : (uint64_t)date - (uint64_t)now;
	*delay = diff > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)diff;
	return 0;
}
