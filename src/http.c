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
 *	BODY_LENGTH	handing out Content-Length bytes as they come
 *	BODY_CLOSE	handing out bytes until ts_http_eof
 *	CHUNK_*		chunk-size line byte by byte (extensions checked and
 *			skipped, never buffered), chunk data handed out, the
 *			CRLF after the data
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
 * pointers stay valid until the caller pushes again.
 *
 * Choices where the RFCs leave room (README repeats them):
 *  - a bare LF ends a header or trailer line (RFC 9112 section 2.2 MAY);
 *    chunk-size lines and the CRLF after chunk data must be CRLF;
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

enum {
	ST_STATUS = 0,
	ST_HEADER,
	ST_BODY_LENGTH,
	ST_BODY_CLOSE,
	ST_CHUNK_SIZE,		/* hex digits */
	ST_CHUNK_WS,		/* BWS that must lead to ';' */
	ST_CHUNK_NAME0,		/* after ';': BWS, then an extension name */
	ST_CHUNK_NAME,
	ST_CHUNK_NAME_WS,	/* BWS after a name: '=' or ';' next */
	ST_CHUNK_VALUE0,	/* after '=': BWS, then a token or a string */
	ST_CHUNK_TOKEN,
	ST_CHUNK_QUOTED,
	ST_CHUNK_ESCAPE,	/* after a backslash in a quoted string */
	ST_CHUNK_QUOTED_END,
	ST_CHUNK_LF,		/* after the CR of a chunk-size line */
	ST_CHUNK_DATA,
	ST_CHUNK_DATA_CR,
	ST_CHUNK_DATA_LF,
	ST_TRAILER,
	ST_COMPLETE,
	ST_DONE,
	ST_UPGRADED
};

/* ---- character classes (by hand: no locale, no <ctype.h>) ---- */

static int
is_ows(unsigned c)
{
	return c == ' ' || c == '\t';
}

/* tchar of RFC 9110 section 5.6.2. */
static int
is_tchar(unsigned c)
{
	return ts_is_alpha(c) || ts_is_digit(c) ||
	    (c != 0 && strchr("!#$%&'*+-.^_`|~", (int)c) != NULL);
}

/* VCHAR / obs-text: a visible byte of a field value or reason. */
static int
is_vchar(unsigned c)
{
	return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

/* HTAB / SP / VCHAR / obs-text: a byte of a reason or field value. */
static int
is_text(unsigned c)
{
	return c == '\t' || c == ' ' || is_vchar(c);
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

/* Characters of a URL host as we send it: reg-name, IPv4, IPv6, zone. */
static int
is_host_char(unsigned c)
{
	return ts_is_alpha(c) || ts_is_digit(c) ||
	    (c != 0 && strchr("-._~!$&'()*+,;=%:", (int)c) != NULL);
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

static int
valid_ws_key(const char *k)
{
	size_t i;

	for (i = 0; i < 22; i++)
		if (!ts_is_alpha((unsigned char)k[i]) &&
		    !ts_is_digit((unsigned char)k[i]) && k[i] != '+' &&
		    k[i] != '/')
			return 0;
	return k[22] == '=' && k[23] == '=' && k[24] == '\0';
}

static void
write_request(struct writer *w, const struct ts_http_req *req,
    unsigned port)
{
	char digits[8];
	size_t i = sizeof(digits) - 1;

	put(w, "GET ");
	put(w, req->target);
	put(w, " HTTP/1.1\r\n");
	/* RFC 9112 3.2: "A client MUST send a Host header field in all
	   HTTP/1.1 request messages." */
	put(w, "Host: ");
	if (strchr(req->host, ':') != NULL) {
		put(w, "[");
		put(w, req->host);
		put(w, "]");
	} else
		put(w, req->host);
	if (port != (req->tls ? 443u : 80u)) {
		digits[i] = '\0';
		do {
			digits[--i] = (char)('0' + port % 10);
			port /= 10;
		} while (port > 0);
		put(w, ":");
		put(w, digits + i);
	}
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
	struct writer w;
	const char *s;
	unsigned port;

	if (req->host == NULL || req->target == NULL)
		return TS_ERR_HTTP_INJECTION;
	if (*req->host == '\0')
		return TS_ERR_HTTP_INJECTION;
	for (s = req->host; *s != '\0'; s++)
		if (!is_host_char((unsigned char)*s))
			return TS_ERR_HTTP_INJECTION;
	if (req->target[0] != '/' || !visible_ascii(req->target))
		return TS_ERR_HTTP_INJECTION;
	if (req->bearer != NULL && !visible_ascii(req->bearer))
		return TS_ERR_HTTP_INJECTION;
	if (req->ws_key != NULL && !valid_ws_key(req->ws_key))
		return TS_ERR_HTTP_INJECTION;
	if (req->port > 65535)
		return TS_ERR_HTTP_INJECTION;
	port = req->port != 0 ? req->port : req->tls ? 443u : 80u;

	/* Measure first, so that nothing is written when it does not fit. */
	w.p = NULL;
	w.len = 0;
	write_request(&w, req, port);
	if (w.len >= outlen || w.len > INT_MAX)
		return TS_ERR_HTTP_REQUEST_TOO_BIG;
	w.p = out;
	w.len = 0;
	write_request(&w, req, port);
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
	h->max_headers = TS_HTTP_MAX_HEADERS;
	h->max_header_bytes = TS_HTTP_MAX_HEADER_BYTES;
	h->content_length = -1;
	h->state = ST_STATUS;
}

static void
fail(struct ts_http *h, int err)
{
	if (h->err == 0)
		h->err = err;
}

/*
 * status-line = HTTP-version SP status-code SP [ reason-phrase ]
 * (RFC 9112 section 4), in buf.
 */
static void
parse_status(struct ts_http *h)
{
	const char *b = h->buf;
	size_t n = h->linelen, i;
	int status;

	/* RFC 9112 2.3: "HTTP-version is case-sensitive." */
	if (n < 12 || memcmp(b, "HTTP/", 5) != 0 ||
	    !ts_is_digit((unsigned char)b[5]) || b[6] != '.' ||
	    !ts_is_digit((unsigned char)b[7]) || b[8] != ' ' ||
	    !ts_is_digit((unsigned char)b[9]) ||
	    !ts_is_digit((unsigned char)b[10]) ||
	    !ts_is_digit((unsigned char)b[11])) {
		fail(h, TS_ERR_HTTP_STATUS_LINE);
		return;
	}
	if (b[5] != '1' || (b[7] != '0' && b[7] != '1')) {
		fail(h, TS_ERR_HTTP_VERSION);
		return;
	}
	status = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	if (status < 100 || status > 599 || (n > 12 && b[12] != ' ')) {
		fail(h, TS_ERR_HTTP_STATUS_LINE);
		return;
	}
	/* reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
	for (i = 13; i < n; i++)
		if (!is_text((unsigned char)b[i])) {
			fail(h, TS_ERR_HTTP_STATUS_LINE);
			return;
		}
	/* RFC 9110 15.2: "A client MUST be able to parse one or more 1xx
	   responses received prior to a final response, even if the client
	   does not expect one." */
	if (status < 200 && status != 101) {
		h->interim = 1;
		h->state = ST_HEADER;
		return;
	}
	h->version = b[7] == '0' ? 10 : 11;
	h->status = status;
	h->reason = n > 13 ? b + 13 : b + n;
	h->reason_len = n > 13 ? n - 13 : 0;
	h->state = ST_HEADER;
	h->pending = TS_HTTP_EV_STATUS;
}

/* Content-Length = 1*DIGIT, possibly repeated as a list. */
static void
content_length(struct ts_http *h, const char *v, size_t n)
{
	size_t pos = 0, len, i;
	const char *e;
	int64_t value;

	while (ts_list_next(v, n, &pos, &e, &len)) {
		if (len == 0) {
			fail(h, TS_ERR_HTTP_CONTENT_LENGTH);
			return;
		}
		value = 0;
		for (i = 0; i < len; i++) {
			unsigned d = (unsigned char)e[i] - '0';

			if (d > 9 || value > (INT64_MAX - (int64_t)d) / 10) {
				fail(h, TS_ERR_HTTP_CONTENT_LENGTH);
				return;
			}
			value = value * 10 + (int64_t)d;
		}
		/* RFC 9110 8.6: equal duplicates: "a recipient MAY either
		   reject the message as invalid or replace that invalid
		   field value with a single instance of the decimal value" */
		if (h->content_length >= 0 && h->content_length != value) {
			fail(h, TS_ERR_HTTP_CONTENT_LENGTH);
			return;
		}
		h->content_length = value;
	}
}

/* Transfer-Encoding: we accept exactly one "chunked" over all fields. */
static void
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
		if (!ts_iequal(e, len, "chunked") || h->chunked) {
			fail(h, TS_ERR_HTTP_TRANSFER_ENCODING);
			return;
		}
		h->chunked = 1;
	}
}

/* field-line = field-name ":" OWS field-value OWS, in buf. */
static void
parse_field(struct ts_http *h)
{
	char *b = h->buf;
	size_t n = h->linelen, i, colon, vb, ve;

	for (colon = 0; colon < n && b[colon] != ':'; colon++)
		/* RFC 9112 5.1: "No whitespace is allowed between the field
		   name and colon." */
		if (!is_tchar((unsigned char)b[colon])) {
			fail(h, TS_ERR_HTTP_HEADER);
			return;
		}
	if (colon == 0 || colon == n) {
		fail(h, TS_ERR_HTTP_HEADER);
		return;
	}
	vb = colon + 1;
	ve = n;
	while (vb < ve && is_ows((unsigned char)b[vb]))
		vb++;
	while (ve > vb && is_ows((unsigned char)b[ve - 1]))
		ve--;
	/* RFC 9110 5.5: "a recipient of CR, LF, or NUL within a field value
	   MUST either reject the message or replace each of those characters
	   with SP"; we reject every control character but HTAB. */
	for (i = vb; i < ve; i++)
		if (!is_text((unsigned char)b[i])) {
			fail(h, TS_ERR_HTTP_HEADER);
			return;
		}
	if (++h->nheaders > h->max_headers) {
		fail(h, TS_ERR_HTTP_TOO_MANY_HEADERS);
		return;
	}
	if (h->interim)
		return;
	h->name = b;
	h->name_len = colon;
	h->value = b + vb;
	h->value_len = ve - vb;
	if (h->state == ST_TRAILER) {
		/* Trailers never frame the message, so nothing is read. */
		h->pending = TS_HTTP_EV_TRAILER;
		return;
	}
	if (ts_iequal(b, colon, "content-length"))
		content_length(h, h->value, h->value_len);
	else if (ts_iequal(b, colon, "transfer-encoding"))
		transfer_encoding(h, h->value, h->value_len);
	else if (ts_iequal(b, colon, "retry-after")) {
		h->retry_after_seen = 1;
		h->retry_after_len = 0;
		if (h->value_len < sizeof(h->retry_after)) {
			memcpy(h->retry_after, h->value, h->value_len);
			h->retry_after[h->value_len] = '\0';
			h->retry_after_len = h->value_len;
		}
	}
	if (h->err == 0)
		h->pending = TS_HTTP_EV_HEADER;
}

static void
start_chunk_line(struct ts_http *h)
{
	h->state = ST_CHUNK_SIZE;
	h->remaining = 0;
	h->digits = 0;
	h->chunk_line = 0;
}

/* The empty line after the header fields: decide the framing. */
static void
headers_end(struct ts_http *h)
{
	if (h->interim) {
		h->interim = 0;
		h->state = ST_STATUS;
		return;
	}
	if (h->te_seen) {
		/* RFC 9112 6.1: "A server or client that receives an HTTP/1.0
		   message containing a Transfer-Encoding header field MUST
		   treat the message as if the framing is faulty" */
		if (h->version == 10 || !h->chunked) {
			fail(h, TS_ERR_HTTP_TRANSFER_ENCODING);
			return;
		}
		/* RFC 9112 6.3: such a message "ought to be handled as an
		   error" */
		if (h->content_length >= 0) {
			fail(h, TS_ERR_HTTP_AMBIGUOUS_LENGTH);
			return;
		}
	}
	h->pending = TS_HTTP_EV_HEADERS_END;
	/* RFC 9112 6.3: "any response with a 1xx (Informational), 204 (No
	   Content), or 304 (Not Modified) status code is always terminated
	   by the first empty line after the header fields" */
	if (h->status == 101) {
		h->framing = TS_HTTP_FRAMING_UPGRADE;
		h->state = ST_UPGRADED;
	} else if (h->status == 204 || h->status == 304) {
		h->framing = TS_HTTP_FRAMING_NONE;
		h->state = ST_COMPLETE;
	} else if (h->chunked) {
		h->framing = TS_HTTP_FRAMING_CHUNKED;
		start_chunk_line(h);
	} else if (h->content_length == 0) {
		h->framing = TS_HTTP_FRAMING_NONE;
		h->state = ST_COMPLETE;
	} else if (h->content_length > 0) {
		h->framing = TS_HTTP_FRAMING_LENGTH;
		h->remaining = (uint64_t)h->content_length;
		h->state = ST_BODY_LENGTH;
	} else {
		/* RFC 9112 6.3: "the message body length is determined by the
		   number of octets received prior to the server closing the
		   connection." */
		h->framing = TS_HTTP_FRAMING_CLOSE;
		h->state = ST_BODY_CLOSE;
	}
}

static void
finish_line(struct ts_http *h)
{
	if (h->state == ST_STATUS)
		parse_status(h);
	else if (h->linelen > 0)
		parse_field(h);
	else if (h->state == ST_HEADER)
		headers_end(h);
	else
		h->state = ST_COMPLETE;	/* the empty line after trailers */
	h->linelen = 0;
	h->cr = 0;
}

/* One byte of the status line, a field line or a trailer line. */
static void
line_byte(struct ts_http *h, unsigned char c)
{
	int bad = h->state == ST_STATUS ? TS_ERR_HTTP_STATUS_LINE :
	    TS_ERR_HTTP_HEADER;

	if (++h->header_bytes > h->max_header_bytes) {
		fail(h, TS_ERR_HTTP_HEADERS_TOO_BIG);
		return;
	}
	/* RFC 9112 2.2: "a recipient MAY recognize a single LF as a line
	   terminator and ignore any preceding CR." */
	if (c == '\n') {
		finish_line(h);
		return;
	}
	/* RFC 9112 2.2: "A recipient of such a bare CR MUST consider that
	   element to be invalid or replace each bare CR with SP" */
	if (h->cr) {
		fail(h, bad);
		return;
	}
	if (c == '\r') {
		h->cr = 1;
		return;
	}
	/* RFC 9112 2.2: whitespace before the first field "MUST either
	   reject the message as invalid or consume each whitespace-preceded
	   line"; later it is obs-fold, which we reject too (see the top). */
	if (h->linelen == 0 && h->state != ST_STATUS && is_ows(c)) {
		fail(h, TS_ERR_HTTP_OBS_FOLD);
		return;
	}
	if (h->linelen >= h->buflen) {
		fail(h, TS_ERR_HTTP_LINE_TOO_LONG);
		return;
	}
	h->buf[h->linelen++] = (char)c;
}

/* The byte after a chunk extension name, value or size: ';' or CR. */
static int
chunk_ext_next(struct ts_http *h, unsigned char c)
{
	if (c == ';')
		h->state = ST_CHUNK_NAME0;
	else if (c == '\r')
		h->state = ST_CHUNK_LF;
	else if (is_ows(c))
		h->state = ST_CHUNK_WS;
	else
		return 0;
	return 1;
}

/*
 * One byte of a chunk-size line, of the CRLF after chunk data:
 *
 *	chunk-size [ chunk-ext ] CRLF
 *	chunk-ext = *( BWS ";" BWS chunk-ext-name
 *	                [ BWS "=" BWS chunk-ext-val ] )
 *
 * RFC 9112 7.1.1: "A recipient MUST ignore unrecognized chunk
 * extensions."  They are checked and skipped here, never buffered; the
 * line, extensions included, may be as long as the line buffer.
 */
static void
chunk_byte(struct ts_http *h, unsigned char c)
{
	int d, ok = 1;

	if (h->state < ST_CHUNK_LF && c != '\r' &&
	    ++h->chunk_line > h->buflen) {
		fail(h, TS_ERR_HTTP_LINE_TOO_LONG);
		return;
	}
	switch (h->state) {
	case ST_CHUNK_SIZE:
		d = ts_hex_value(c);
		if (d >= 0) {
			/* RFC 9112 7.1: "Recipients MUST anticipate potentially
			   large hexadecimal numerals and prevent parsing errors
			   due to integer conversion overflows" */
			if (h->remaining > (uint64_t)(INT64_MAX - d) / 16) {
				ok = 0;
				break;
			}
			h->remaining = h->remaining * 16 + (uint64_t)d;
			h->digits = 1;
		} else
			ok = h->digits && chunk_ext_next(h, c);
		break;
	case ST_CHUNK_WS:
		if (c == ';')
			h->state = ST_CHUNK_NAME0;
		else
			ok = is_ows(c);
		break;
	case ST_CHUNK_NAME0:
		if (is_tchar(c))
			h->state = ST_CHUNK_NAME;
		else
			ok = is_ows(c);
		break;
	case ST_CHUNK_NAME:
		if (c == '=')
			h->state = ST_CHUNK_VALUE0;
		else if (is_ows(c))
			h->state = ST_CHUNK_NAME_WS;
		else if (!is_tchar(c))
			ok = chunk_ext_next(h, c);
		break;
	case ST_CHUNK_NAME_WS:
		if (c == '=')
			h->state = ST_CHUNK_VALUE0;
		else if (c == ';')
			h->state = ST_CHUNK_NAME0;
		else
			ok = is_ows(c);
		break;
	case ST_CHUNK_VALUE0:
		if (c == '"')
			h->state = ST_CHUNK_QUOTED;
		else if (is_tchar(c))
			h->state = ST_CHUNK_TOKEN;
		else
			ok = is_ows(c);
		break;
	case ST_CHUNK_TOKEN:
		if (!is_tchar(c))
			ok = chunk_ext_next(h, c);
		break;
	case ST_CHUNK_QUOTED:
		/* qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
		if (c == '"')
			h->state = ST_CHUNK_QUOTED_END;
		else if (c == '\\')
			h->state = ST_CHUNK_ESCAPE;
		else
			ok = is_text(c);
		break;
	case ST_CHUNK_ESCAPE:
		/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
		ok = is_text(c);
		h->state = ST_CHUNK_QUOTED;
		break;
	case ST_CHUNK_QUOTED_END:
		ok = chunk_ext_next(h, c);
		break;
	case ST_CHUNK_LF:
		ok = c == '\n';
		if (h->remaining > 0)
			h->state = ST_CHUNK_DATA;
		else {
			/* last-chunk: the trailer section follows. */
			h->state = ST_TRAILER;
			h->linelen = 0;
			h->cr = 0;
		}
		break;
	case ST_CHUNK_DATA_CR:
		ok = c == '\r';
		h->state = ST_CHUNK_DATA_LF;
		break;
	case ST_CHUNK_DATA_LF:
		ok = c == '\n';
		start_chunk_line(h);
		break;
	}
	if (!ok)
		fail(h, TS_ERR_HTTP_CHUNK);
}

size_t
ts_http_push(struct ts_http *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0, n;

	if (h->err != 0 || h->pending != 0)
		return 0;
	if (h->state == ST_DONE) {
		if (len > 0)
			fail(h, TS_ERR_HTTP_TRAILING);
		return 0;
	}
	while (i < len && h->pending == 0 && h->err == 0) {
		switch (h->state) {
		case ST_STATUS:
		case ST_HEADER:
		case ST_TRAILER:
			line_byte(h, p[i++]);
			break;
		case ST_BODY_LENGTH:
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
				h->state = h->state == ST_BODY_LENGTH ?
				    ST_COMPLETE : ST_CHUNK_DATA_CR;
			break;
		case ST_BODY_CLOSE:
			h->data = (const char *)p + i;
			h->data_len = len - i;
			h->pending = TS_HTTP_EV_BODY;
			i = len;
			break;
		case ST_COMPLETE:
		case ST_DONE:
		case ST_UPGRADED:
			return i;
		default:
			chunk_byte(h, p[i++]);
			break;
		}
	}
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
	switch (h->state) {
	case ST_BODY_CLOSE:
		h->state = ST_COMPLETE;
		return 0;
	case ST_COMPLETE:
	case ST_DONE:
	case ST_UPGRADED:
		return 0;
	default:
		/* RFC 9112 8: a client that receives an incomplete response
		   "MUST record the message as incomplete." */
		fail(h, TS_ERR_HTTP_TRUNCATED);
		return h->err;
	}
}

/* ---- HTTP-date (RFC 9110 section 5.6.7) ---- */

static const char *const day_short[7] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};
static const char *const day_long[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
	"Sunday"
};
static const char *const month_name[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

static int
is_day_name(const char *s, size_t n, const char *const *names)
{
	int i;

	for (i = 0; i < 7; i++)
		if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0)
			return 1;
	return 0;
}

/* Month 1..12 from its three letters, or 0. */
static int
month_number(const char *s)
{
	int i;

	for (i = 0; i < 12; i++)
		if (memcmp(s, month_name[i], 3) == 0)
			return i + 1;
	return 0;
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

/* time-of-day = hour ":" minute ":" second, 8 bytes, in seconds or -1. */
static int64_t
time_of_day(const char *s)
{
	int hh, mm, ss;

	if (s[2] != ':' || s[5] != ':')
		return -1;
	hh = number(s, 2);
	mm = number(s + 3, 2);
	ss = number(s + 6, 2);
	/* second 60 is a leap second (RFC 5322 section 3.3). */
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return -1;
	return (int64_t)hh * 3600 + mm * 60 + ss;
}

/* Check the date and combine it with the time into *epoch. */
static int
combine(int64_t year, int month, int day, int64_t tod, int64_t *epoch)
{
	if (month == 0 || day < 1 || tod < 0 ||
	    (unsigned)day > ts_month_days(year, (unsigned)month))
		return TS_ERR_HTTP_DATE;
	*epoch = ts_days_from_civil(year, (unsigned)month, (unsigned)day) *
	    86400 + tod;
	return 0;
}

int
ts_http_date_now(const char *s, size_t n, int64_t now, int64_t *epoch)
{
	size_t c;
	int64_t year, cur, days;
	unsigned mon, mday;
	int day, yy;

	/* RFC 9110 5.6.7: "A recipient that parses a timestamp value in an
	   HTTP field MUST accept all three HTTP-date formats." */
	if (n == 29 && s[3] == ',') {
		/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
		if (!is_day_name(s, 3, day_short) || s[4] != ' ' ||
		    s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
		    memcmp(s + 25, " GMT", 4) != 0)
			return TS_ERR_HTTP_DATE;
		day = number(s + 5, 2);
		year = number(s + 12, 4);
		if (day < 0 || year < 0)
			return TS_ERR_HTTP_DATE;
		return combine(year, month_number(s + 8), day,
		    time_of_day(s + 17), epoch);
	}
	if (n == 24 && s[3] == ' ') {
		/* asctime: Sun Nov  6 08:49:37 1994 */
		if (!is_day_name(s, 3, day_short) || s[7] != ' ' ||
		    s[10] != ' ' || s[19] != ' ')
			return TS_ERR_HTTP_DATE;
		day = s[8] == ' ' ? number(s + 9, 1) : number(s + 8, 2);
		year = number(s + 20, 4);
		if (day < 0 || year < 0)
			return TS_ERR_HTTP_DATE;
		return combine(year, month_number(s + 4), day,
		    time_of_day(s + 11), epoch);
	}
	/* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
	for (c = 0; c < n && c < 10 && s[c] != ','; c++)
		;
	if (c == n || c == 10 || n != c + 24 ||
	    !is_day_name(s, c, day_long))
		return TS_ERR_HTTP_DATE;
	s += c + 1;
	if (s[0] != ' ' || s[3] != '-' || s[7] != '-' || s[10] != ' ' ||
	    memcmp(s + 19, " GMT", 4) != 0)
		return TS_ERR_HTTP_DATE;
	day = number(s + 1, 2);
	yy = number(s + 8, 2);
	if (day < 0 || yy < 0)
		return TS_ERR_HTTP_DATE;
	/* RFC 9110 5.6.7: "Recipients of a timestamp value in rfc850-date
	   format, which uses a two-digit year, MUST interpret a timestamp
	   that appears to be more than 50 years in the future as
	   representing the most recent year in the past that had the same
	   last two digits."  We take the year within [cur-49, cur+50]. */
	days = now / 86400 - (now % 86400 < 0);
	ts_civil_from_days(days, &cur, &mon, &mday);
	/* A clock beyond all reason must not overflow what follows. */
	if (cur < 1900)
		cur = 1900;
	if (cur > 9999)
		cur = 9999;
	year = cur - (cur % 100 + 100) % 100 + yy;
	if (year > cur + 50)
		year -= 100;
	else if (year <= cur - 50)
		year += 100;
	return combine(year, month_number(s + 4), day, time_of_day(s + 11),
	    epoch);
}

int
ts_http_date(const char *s, size_t n, int64_t *epoch)
{
	/* 2020-01-01T00:00:00Z: two-digit years mean 1971..2070. */
	return ts_http_date_now(s, n, 1577836800, epoch);
}

int
ts_http_retry_after(const char *v, size_t n, int64_t now, int64_t *delay)
{
	size_t b = 0, e = n, i;
	int64_t value = 0, date;
	uint64_t diff;

	while (b < e && is_ows((unsigned char)v[b]))
		b++;
	while (e > b && is_ows((unsigned char)v[e - 1]))
		e--;
	if (b == e)
		return TS_ERR_HTTP_RETRY_AFTER;
	if (ts_is_digit((unsigned char)v[b])) {
		/* delta-seconds = 1*DIGIT; RFC 9111 1.2.2: a value too big
		   "MUST consider the value to be 2147483648 (2^31)" */
		for (i = b; i < e; i++) {
			if (!ts_is_digit((unsigned char)v[i]))
				return TS_ERR_HTTP_RETRY_AFTER;
			if (value < 2147483648LL)
				value = value * 10 + (v[i] - '0');
		}
		*delay = value < 2147483648LL ? value : 2147483648LL;
		return 0;
	}
	if (ts_http_date_now(v + b, e - b, now, &date) != 0)
		return TS_ERR_HTTP_RETRY_AFTER;
	if (date <= now) {
		*delay = 0;
		return 0;
	}
	/* date - now without signed overflow, whatever now is. */
	diff = (uint64_t)date - (uint64_t)now;
	*delay = diff > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)diff;
	return 0;
}
