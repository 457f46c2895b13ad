/*
 * test_http: the request writer (exact bytes, injection refused), the
 * response parser (RFC 9112 responses in every framing, every malformed
 * input with its own code), HTTP-dates, Retry-After and token lists.
 *
 * Every parser case goes through parse_all(): the events are written
 * into a transcript string (adjacent body events merged, since their
 * cut depends on the pushes), compared with the expected transcript for
 * the whole input, and then the input is pushed one byte at a time and
 * split at every offset: each transcript must be the same.  After the
 * input the driver calls ts_http_eof, as when the server closes.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "tsino.h"
#include "test.h"

/* Parser settings for the next parse_all(); reset by each case. */
static size_t cfg_bufsize = TS_HTTP_BUFSIZE;
static size_t cfg_max_headers = 100;
static size_t cfg_max_header_bytes = 65536;

static void
defaults(void)
{
	cfg_bufsize = TS_HTTP_BUFSIZE;
	cfg_max_headers = 100;
	cfg_max_header_bytes = 65536;
}

struct transcript {
	char s[16384];
	size_t len;
	int in_body;
};

static void
add(struct transcript *t, const char *p, size_t n)
{
	if (n > sizeof(t->s) - 1 - t->len)
		n = sizeof(t->s) - 1 - t->len;
	memcpy(t->s + t->len, p, n);
	t->len += n;
	t->s[t->len] = '\0';
}

static void
adds(struct transcript *t, const char *s)
{
	add(t, s, strlen(s));
}

static void
end_body(struct transcript *t)
{
	if (t->in_body)
		adds(t, "|\n");
	t->in_body = 0;
}

static char linebuf[TS_HTTP_BUFSIZE];

/* One event into the transcript; "BADPTR" if a pointer strays. */
static void
record(struct transcript *t, struct ts_http *h, int ev, const char *chunk,
    size_t chunklen)
{
	char num[128];

	if (ev != TS_HTTP_EV_BODY)
		end_body(t);
	switch (ev) {
	case TS_HTTP_EV_STATUS:
		snprintf(num, sizeof(num), "S %d %d ", h->version, h->status);
		adds(t, num);
		if (h->reason < linebuf ||
		    h->reason + h->reason_len > linebuf + cfg_bufsize)
			adds(t, "BADPTR");
		add(t, h->reason, h->reason_len);
		adds(t, "\n");
		break;
	case TS_HTTP_EV_HEADER:
	case TS_HTTP_EV_TRAILER:
		adds(t, ev == TS_HTTP_EV_HEADER ? "H " : "T ");
		if (h->name < linebuf ||
		    h->name + h->name_len > linebuf + cfg_bufsize ||
		    h->value < linebuf ||
		    h->value + h->value_len > linebuf + cfg_bufsize)
			adds(t, "BADPTR");
		add(t, h->name, h->name_len);
		adds(t, ": ");
		add(t, h->value, h->value_len);
		adds(t, "\n");
		break;
	case TS_HTTP_EV_HEADERS_END:
		snprintf(num, sizeof(num), "E %lld %d\n",
		    (long long)h->content_length, h->chunked);
		adds(t, num);
		break;
	case TS_HTTP_EV_BODY:
		if (!t->in_body)
			adds(t, "B ");
		t->in_body = 1;
		if (h->data_len == 0 || h->data < chunk ||
		    h->data + h->data_len > chunk + chunklen)
			adds(t, "BADPTR");
		add(t, h->data, h->data_len);
		break;
	case TS_HTTP_EV_END:
		adds(t, "END\n");
		break;
	default:
		snprintf(num, sizeof(num), "EV? %d\n", ev);
		adds(t, num);
	}
}

/*
 * Push in[0..n) in pieces: of `step` bytes if step > 0, else two pieces
 * cut at `split`.  Then ts_http_eof.  The transcript ends with the error
 * ("ERR code"), or with the bytes left after a 101 ("REST ...").
 */
static void
drive(const char *in, size_t n, size_t step, size_t split,
    struct transcript *t)
{
	struct ts_http h;
	size_t off = 0, end, k;
	int ev, progress, upgraded = 0;
	char num[64];

	t->len = 0;
	t->s[0] = '\0';
	t->in_body = 0;
	ts_http_init(&h, linebuf, cfg_bufsize);
	h.max_headers = cfg_max_headers;
	h.max_header_bytes = cfg_max_header_bytes;
	while (off < n) {
		end = step > 0 ? (n - off > step ? off + step : n) :
		    (off < split ? split : n);
		while (off < end) {
			k = ts_http_push(&h, in + off, end - off);
			if (k > end - off) {
				adds(t, "OVERRUN\n");
				return;
			}
			progress = k > 0;
			while ((ev = ts_http_event(&h)) > 0) {
				record(t, &h, ev, in + off, end - off);
				if (ev == TS_HTTP_EV_HEADERS_END &&
				    h.status == 101)
					upgraded = 1;
				progress = 1;
			}
			off += k;
			if (ev < 0) {
				end_body(t);
				snprintf(num, sizeof(num), "ERR %d\n", ev);
				adds(t, num);
				/* Sticky: the same again, and nothing taken. */
				if (ts_http_event(&h) != ev ||
				    ts_http_push(&h, "x", 1) != 0)
					adds(t, "NOT STICKY\n");
				return;
			}
			if (!progress) {
				end_body(t);
				adds(t, upgraded ? "REST " : "STALL ");
				add(t, in + off, n - off);
				adds(t, "\n");
				return;
			}
		}
	}
	ev = ts_http_eof(&h);
	while ((ev = ts_http_event(&h)) > 0)
		record(t, &h, ev, NULL, 0);
	end_body(t);
	if (ev < 0) {
		snprintf(num, sizeof(num), "ERR %d\n", ev);
		adds(t, num);
	}
}

static struct transcript whole, other;

/* Whole input gives `expect`; one byte at a time and every split agree. */
static int
parse_all(const char *in, size_t n, const char *expect)
{
	size_t i;

	drive(in, n, n > 0 ? n : 1, 0, &whole);
	if (strcmp(whole.s, expect) != 0) {
		printf("\n    whole input gave:\n%s    expected:\n%s", whole.s,
		    expect);
		return 0;
	}
	drive(in, n, 1, 0, &other);
	if (strcmp(other.s, whole.s) != 0) {
		printf("\n    byte by byte gave:\n%s", other.s);
		return 0;
	}
	for (i = 0; i <= n; i++) {
		drive(in, n, 0, i, &other);
		if (strcmp(other.s, whole.s) != 0) {
			printf("\n    split at %zu gave:\n%s", i, other.s);
			return 0;
		}
	}
	return 1;
}

#define PARSE(in, expect) CHECK(parse_all(in, sizeof(in) - 1, expect))

/* Expected transcript of an error, as a string. */
#define ERR(code) "ERR " #code "\n"

/* ---- responses in every framing ---- */

static void
content_length_rfc(void)
{
	/* The example response of RFC 9110 section 6.1 (RFC 7230 2.1). */
	defaults();
	PARSE("HTTP/1.1 200 OK\r\n"
	    "Date: Mon, 27 Jul 2009 12:28:53 GMT\r\n"
	    "Server: Apache\r\n"
	    "Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT\r\n"
	    "ETag: \"34aa387-d-1568eb00\"\r\n"
	    "Accept-Ranges: bytes\r\n"
	    "Content-Length: 51\r\n"
	    "Vary: Accept-Encoding\r\n"
	    "Content-Type: text/plain\r\n"
	    "\r\n"
	    "Hello World! My content includes a trailing CRLF.\r\n",
	    "S 11 200 OK\n"
	    "H Date: Mon, 27 Jul 2009 12:28:53 GMT\n"
	    "H Server: Apache\n"
	    "H Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT\n"
	    "H ETag: \"34aa387-d-1568eb00\"\n"
	    "H Accept-Ranges: bytes\n"
	    "H Content-Length: 51\n"
	    "H Vary: Accept-Encoding\n"
	    "H Content-Type: text/plain\n"
	    "E 51 0\n"
	    "B Hello World! My content includes a trailing CRLF.\r\n|\n"
	    "END\n");
}

static void
content_length_zero(void)
{
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    "S 11 200 OK\nH Content-Length: 0\nE 0 0\nEND\n");
}

static void
content_length_equal_list(void)
{
	/* RFC 9110 8.6 lets a recipient take equal duplicates as one. */
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n"
	    "content-length: 3\r\n\r\nabc",
	    "S 11 200 OK\nH Content-Length: 3, 3\nH content-length: 3\n"
	    "E 3 0\nB abc|\nEND\n");
}

static void
content_length_leading_zeros(void)
{
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 0002\r\n\r\nab",
	    "S 11 200 OK\nH Content-Length: 0002\nE 2 0\nB ab|\nEND\n");
}

static void
chunked_extensions_trailers(void)
{
	/* RFC 9112 7.1: extensions (token, quoted with an escape, no value,
	   BWS) are skipped; trailers come as TRAILER events. */
	defaults();
	PARSE("HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "\r\n"
	    "4;name=value\r\nWiki\r\n"
	    "5 ; a = \"q\\\"x;y\" ;b\r\npedia\r\n"
	    "E;c=\"\"\r\n in\r\n\r\nchunks.\r\n"
	    "0\r\n"
	    "Expires: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "X-Sum: 12\r\n"
	    "\r\n",
	    "S 11 200 OK\nH Content-Type: text/plain\n"
	    "H Transfer-Encoding: chunked\nE -1 1\n"
	    "B Wikipedia in\r\n\r\nchunks.|\n"
	    "T Expires: Sun, 06 Nov 1994 08:49:37 GMT\nT X-Sum: 12\n"
	    "END\n");
}

static void
chunked_hex_forms(void)
{
	/* Upper and lower case hex, leading zeros beyond 64 bits' worth. */
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
	    "a\r\n0123456789\r\n"
	    "0000000000000000000000000B\r\nabcdefghijk\r\n"
	    "000\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: Chunked\nE -1 1\n"
	    "B 0123456789abcdefghijk|\nEND\n");
}

static void
chunked_empty_elements(void)
{
	/* RFC 9110 5.6.1: empty list elements are ignored. */
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\r\n"
	    "Transfer-Encoding: , chunked ,\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: ,\n"
	    "H Transfer-Encoding: , chunked ,\nE -1 1\nB x|\nEND\n");
}

static void
close_delimited(void)
{
	defaults();
	PARSE("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
	    "[{\"a\":1},\r\n{\"b\":2}]",
	    "S 10 200 OK\nH Content-Type: application/json\nE -1 0\n"
	    "B [{\"a\":1},\r\n{\"b\":2}]|\nEND\n");
}

static void
close_delimited_empty(void)
{
	defaults();
	PARSE("HTTP/1.1 500 Internal Server Error\r\n\r\n",
	    "S 11 500 Internal Server Error\nE -1 0\nEND\n");
}

static void
switching_protocols(void)
{
	/* RFC 6455 1.3's handshake answer, then a frame that is not ours. */
	defaults();
	PARSE("HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
	    "\r\n"
	    "\x81\x05hello",
	    "S 11 101 Switching Protocols\nH Upgrade: websocket\n"
	    "H Connection: Upgrade\n"
	    "H Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n"
	    "E -1 0\nREST \x81\x05hello\n");
}

static void
switching_protocols_consumed(void)
{
	static const char in[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\n\r\n\x81\x00";
	struct ts_http h;
	size_t off = 0, k;
	int ev, last = 0;

	ts_http_init(&h, linebuf, sizeof(linebuf));
	do {
		k = ts_http_push(&h, in + off, sizeof(in) - 1 - off);
		off += k;
		while ((ev = ts_http_event(&h)) > 0)
			last = ev;
		CHECK_INT(ev, 0);
	} while (k > 0);
	CHECK_INT(last, TS_HTTP_EV_HEADERS_END);
	CHECK_INT(off, sizeof(in) - 1 - 2);
	CHECK_INT(ts_http_push(&h, in + off, 2), 0);
	CHECK_INT(ts_http_event(&h), 0);
	CHECK_INT(ts_http_eof(&h), 0);
}

static void
no_content(void)
{
	/* RFC 9112 6.3: 204 and 304 end at the empty line, whatever the
	   fields say. */
	defaults();
	PARSE("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
	    "S 11 204 No Content\nH Content-Length: 5\nE 5 0\nEND\n");
	PARSE("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
	    "S 11 304 Not Modified\nH ETag: \"x\"\nE -1 0\nEND\n");
}

static void
interim_skipped(void)
{
	/* RFC 9110 15.2: 1xx before the final response; we skip them. */
	defaults();
	PARSE("HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	    "S 11 200 OK\nH Content-Length: 2\nE 2 0\nB ok|\nEND\n");
}

static void
interim_fields_checked(void)
{
	defaults();
	PARSE("HTTP/1.1 103 Early Hints\r\nBad Name: x\r\n\r\n",
	    ERR(-403));
	/* An interim Content-Length frames nothing. */
	PARSE("HTTP/1.1 100 Continue\r\nContent-Length: 9\r\n\r\n"
	    "HTTP/1.1 200 OK\r\n\r\nab",
	    "S 11 200 OK\nE -1 0\nB ab|\nEND\n");
}

static void
bare_lf_lines(void)
{
	/* RFC 9112 2.2 MAY: a bare LF ends a header or trailer line. */
	defaults();
	PARSE("HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
	    "S 11 200 OK\nH Content-Length: 1\nE 1 0\nB x|\nEND\n");
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\n\r\n"
	    "1\r\nx\r\n0\r\nA: b\n\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B x|\nT A: b\nEND\n");
}

static void
reason_forms(void)
{
	defaults();
	/* No SP before an empty reason, an SP and an empty reason, a reason
	   with HTAB and obs-text. */
	PARSE("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	    "S 11 200 \nH Content-Length: 0\nE 0 0\nEND\n");
	PARSE("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
	    "S 11 404 \nH Content-Length: 0\nE 0 0\nEND\n");
	PARSE("HTTP/1.1 200 \xc3\xa9\ta b\r\nContent-Length: 0\r\n\r\n",
	    "S 11 200 \xc3\xa9\ta b\nH Content-Length: 0\nE 0 0\nEND\n");
}

static void
field_values(void)
{
	/* OWS stripped at both ends, kept inside; empty values; obs-text. */
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nA: \t x  y \t\r\nB:\r\nC:   \r\n"
	    "D:\xff\x80\r\nContent-Length: 0\r\n\r\n",
	    "S 11 200 OK\nH A: x  y\nH B: \nH C: \nH D: \xff\x80\n"
	    "H Content-Length: 0\nE 0 0\nEND\n");
}

static void
retry_after_kept(void)
{
	static const char in[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Retry-After: 120 \r\nContent-Length: 0\r\n\r\n";
	struct ts_http h;
	size_t off = 0;
	int ev = 0;
	int64_t delay;

	ts_http_init(&h, linebuf, sizeof(linebuf));
	while (ev != TS_HTTP_EV_END && off < sizeof(in) - 1) {
		off += ts_http_push(&h, in + off, sizeof(in) - 1 - off);
		while ((ev = ts_http_event(&h)) > 0 && ev != TS_HTTP_EV_END)
			;
		CHECK(ev >= 0);
	}
	CHECK_INT(ev, TS_HTTP_EV_END);
	CHECK_INT(h.status, 503);
	CHECK_STR(h.retry_after, "120");
	CHECK_INT(ts_http_retry_after(h.retry_after, h.retry_after_len, 0,
	    &delay), 0);
	CHECK_INT(delay, 120);
}

static void
events_wait_for_drain(void)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nA: b\r\n";
	struct ts_http h;
	size_t k;

	ts_http_init(&h, linebuf, sizeof(linebuf));
	k = ts_http_push(&h, in, sizeof(in) - 1);
	CHECK_INT(k, 17);	/* up to and including the status line */
	CHECK_INT(ts_http_push(&h, in + k, sizeof(in) - 1 - k), 0);
	CHECK_INT(ts_http_event(&h), TS_HTTP_EV_STATUS);
	CHECK_MEM(h.reason, h.reason_len, "OK");
	CHECK_INT(ts_http_event(&h), 0);
	CHECK_INT(ts_http_push(&h, in + k, sizeof(in) - 1 - k), 6);
	CHECK_INT(ts_http_event(&h), TS_HTTP_EV_HEADER);
	CHECK_MEM(h.name, h.name_len, "A");
	CHECK_MEM(h.value, h.value_len, "b");
	CHECK_INT(ts_http_event(&h), 0);
	CHECK_INT(ts_http_eof(&h), TS_ERR_HTTP_TRUNCATED);
	CHECK_INT(ts_http_event(&h), TS_ERR_HTTP_TRUNCATED);
}

static void
body_zero_copy(void)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10"
	    "\r\n\r\n";
	static const char body[] = "0123456789";
	struct ts_http h;
	size_t off = 0;

	ts_http_init(&h, linebuf, sizeof(linebuf));
	while (off < sizeof(head) - 1) {
		off += ts_http_push(&h, head + off, sizeof(head) - 1 - off);
		while (ts_http_event(&h) > 0)
			;
	}
	CHECK_INT(ts_http_push(&h, body, 4), 4);
	CHECK_INT(ts_http_event(&h), TS_HTTP_EV_BODY);
	CHECK(h.data == body);
	CHECK_INT(h.data_len, 4);
	CHECK_INT(ts_http_event(&h), 0);
	CHECK_INT(ts_http_push(&h, body + 4, 6), 6);
	CHECK_INT(ts_http_event(&h), TS_HTTP_EV_BODY);
	CHECK(h.data == body + 4);
	CHECK_INT(ts_http_event(&h), TS_HTTP_EV_END);
	CHECK_INT(ts_http_event(&h), 0);
	CHECK_INT(ts_http_eof(&h), 0);
	CHECK_INT(ts_http_push(&h, "x", 1), 0);
	CHECK_INT(ts_http_event(&h), TS_ERR_HTTP_TRAILING);
}

/* ---- malformed responses, each with its own code ---- */

static void
bad_status_line(void)
{
	defaults();
	PARSE("HTTX/1.1 200 OK\r\n\r\n", ERR(-401));
	PARSE("http/1.1 200 OK\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 20 OK\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 200OK\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1  200 OK\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 099 Low\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 600 High\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 2x0 OK\r\n\r\n", ERR(-401));
	PARSE("HTTP/11 200 OK\r\n\r\n", ERR(-401));
	PARSE("\r\nHTTP/1.1 200 OK\r\n\r\n", ERR(-401));
	PARSE(" HTTP/1.1 200 OK\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 200 O\x01K\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 200 O\0K\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 200 O\x7fK\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 200 O\rK\r\n\r\n", ERR(-401));
	PARSE("HTTP/1.1 200 OK\r\r\n\r\n", ERR(-401));
}

static void
bad_version(void)
{
	defaults();
	PARSE("HTTP/2.0 200 OK\r\n\r\n", ERR(-402));
	PARSE("HTTP/1.2 200 OK\r\n\r\n", ERR(-402));
	PARSE("HTTP/0.9 200 OK\r\n\r\n", ERR(-402));
}

static void
bad_header(void)
{
	defaults();
	/* RFC 9112 5.1: no whitespace between the name and the colon. */
	PARSE("HTTP/1.1 200 OK\r\nName : v\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nNa me: v\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\n: v\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nN\xc3\xa9: v\r\n\r\n",
	    "S 11 200 OK\n" ERR(-403));
	/* RFC 9110 5.5: CR, LF, NUL (and here every other CTL) refused. */
	PARSE("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nA: b\r\r\n\r\n", "S 11 200 OK\n" ERR(-403));
	PARSE("HTTP/1.1 200 OK\r\nA: b\r\n\rX\r\n",
	    "S 11 200 OK\nH A: b\n" ERR(-403));
}

static void
bad_obs_fold(void)
{
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
	    "S 11 200 OK\nH A: b\n" ERR(-404));
	PARSE("HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n",
	    "S 11 200 OK\nH A: b\n" ERR(-404));
	/* RFC 9112 2.2: whitespace between the start-line and the first
	   field. */
	PARSE("HTTP/1.1 200 OK\r\n A: b\r\n\r\n", "S 11 200 OK\n" ERR(-404));
	/* In the trailer section too. */
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\nA: b\r\n c\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "T A: b\n" ERR(-404));
}

static void
line_limit(void)
{
	/* The line buffer's size is the longest line: 26 bytes here, just
	   "Transfer-Encoding: chunked". */
	defaults();
	cfg_bufsize = 26;
	PARSE("HTTP/1.1 200 OK\r\nA: xxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n",
	    "S 11 200 OK\nH A: xxxxxxxxxxxxxxxxxxxxxxx\nE -1 0\nEND\n");
	PARSE("HTTP/1.1 200 OK\r\nA: xxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n",
	    "S 11 200 OK\n" ERR(-405));
	PARSE("HTTP/1.1 200 OK, fine thanks\r\n\r\n", ERR(-405));
	/* A chunk-size line with its extensions is held to it as well. */
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1;aaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B x|\nEND\n");
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1;aaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    ERR(-405));
	cfg_bufsize = 0;
	PARSE("H", ERR(-405));
}

static void
header_count_limit(void)
{
	defaults();
	cfg_max_headers = 2;
	PARSE("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n",
	    "S 11 200 OK\nH A: 1\nH B: 2\nE -1 0\nEND\n");
	PARSE("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
	    "S 11 200 OK\nH A: 1\nH B: 2\n" ERR(-406));
	/* Interim responses and trailers count too. */
	PARSE("HTTP/1.1 103 Early Hints\r\nA: 1\r\nB: 2\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nC: 3\r\n\r\n", "S 11 200 OK\n" ERR(-406));
	cfg_max_headers = 1;
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\nA: 1\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    ERR(-406));
}

static void
header_bytes_limit(void)
{
	/* 17 + 6 + 2 = 25 bytes of header section. */
	defaults();
	cfg_max_header_bytes = 25;
	PARSE("HTTP/1.1 200 OK\r\nA: 1\r\n\r\n",
	    "S 11 200 OK\nH A: 1\nE -1 0\nEND\n");
	cfg_max_header_bytes = 24;
	PARSE("HTTP/1.1 200 OK\r\nA: 1\r\n\r\n",
	    "S 11 200 OK\nH A: 1\n" ERR(-407));
	cfg_max_header_bytes = 40;
	PARSE("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	    ERR(-407));
}

static void
bad_content_length(void)
{
	defaults();
#define CL_BAD(v) PARSE("HTTP/1.1 200 OK\r\nContent-Length: " v "\r\n\r\n", \
	    "S 11 200 OK\n" ERR(-408))
	CL_BAD("abc");
	CL_BAD("-1");
	CL_BAD("+5");
	CL_BAD("0x10");
	CL_BAD("5 5");
	CL_BAD("5, 6");
	CL_BAD("5,,5");
	CL_BAD("5,");
	CL_BAD("");
	CL_BAD("9223372036854775808");
	CL_BAD("99999999999999999999999");
#undef CL_BAD
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n"
	    "\r\nab",
	    "S 11 200 OK\nH Content-Length: 9223372036854775807\n"
	    "E 9223372036854775807 0\nB ab|\n" ERR(-413));
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n"
	    "\r\n", "S 11 200 OK\nH Content-Length: 5\n" ERR(-408));
}

static void
bad_chunk(void)
{
	defaults();
#define CHUNK_BAD(body) PARSE("HTTP/1.1 200 OK\r\n" \
	    "Transfer-Encoding: chunked\r\n\r\n" body, \
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n" \
	    ERR(-409))
	CHUNK_BAD("g\r\n");
	CHUNK_BAD(";x\r\n");
	CHUNK_BAD("\r\n");
	CHUNK_BAD(" 1\r\n");
	CHUNK_BAD("-1\r\n");
	CHUNK_BAD("0x1\r\n");
	CHUNK_BAD("8000000000000000\r\n");
	CHUNK_BAD("10000000000000000\r\n");
	CHUNK_BAD("1\nx\r\n");		/* chunk lines need CRLF */
	CHUNK_BAD("1\rx");
	CHUNK_BAD("1;a\nx\r\n");	/* in an extension too */
	CHUNK_BAD("1 \nx\r\n");
	CHUNK_BAD("1;a\rx");
	CHUNK_BAD("1x\r\n");		/* the size ends at ';', BWS or CR */
	CHUNK_BAD("1\x01\r\n");
#undef CHUNK_BAD
	/* The CRLF after chunk data is required. */
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nWikiX",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B Wiki|\n" ERR(-409));
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nWiki\rX",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B Wiki|\n" ERR(-409));
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "4\r\nWiki\n0\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B Wiki|\n" ERR(-409));
	/* The largest size is fine (the body is merely truncated). */
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "7fffffffffffffff\r\nab",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B ab|\n" ERR(-413));
}

static void
chunk_extensions_ignored(void)
{
	/* RFC 9112 7.1.1: extensions are ignored, well formed or not: all
	   from the ';' (or the BWS before it) to the CR is skipped. */
	static const char *const ext[] = {
		" ", "\t", ";", ";=v", ";a=", ";a=b c", ";a b", ";a=\"b",
		";a=\"b\"c", ";a=\"\x01\"", ";a=\"\\\x01\"", ";a@b",
		" ;a\x01b\x7f\xff", "\t;\"\\"
	};
	char in[256];
	size_t i;
	int n;

	defaults();
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		n = snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n1%s\r\nx\r\n"
		    "0%s\r\n\r\n", ext[i], ext[i]);
		CHECK(parse_all(in, (size_t)n, "S 11 200 OK\n"
		    "H Transfer-Encoding: chunked\nE -1 1\n"
		    "B x|\nEND\n"));
	}
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "1;\0\r\nx\r\n0\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B x|\nEND\n");
}

static void
bad_transfer_encoding(void)
{
	defaults();
#define TE_BAD(v) PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: " v \
	    "\r\n\r\n", "S 11 200 OK\n" ERR(-410))
	TE_BAD("gzip");
	TE_BAD("gzip, chunked");
	TE_BAD("chunked, gzip");
	TE_BAD("chunked, chunked");
	TE_BAD("identity");
	TE_BAD("chunked;q=1");
#undef TE_BAD
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\n" ERR(-410));
	/* Fields with no coding at all. */
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: \n" ERR(-410));
	/* RFC 9112 6.1: HTTP/1.0 with Transfer-Encoding is faulty. */
	PARSE("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n",
	    "S 10 200 OK\nH Transfer-Encoding: chunked\n" ERR(-410));
}

static void
ambiguous_length(void)
{
	/* RFC 9112 6.3: both present "ought to be handled as an error". */
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	    "S 11 200 OK\nH Content-Length: 4\n"
	    "H Transfer-Encoding: chunked\n" ERR(-415));
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 4\r\n\r\n0\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\n"
	    "H Content-Length: 4\n" ERR(-415));
}

static void
truncated(void)
{
	defaults();
	PARSE("", ERR(-413));
	PARSE("HTTP/1.1 200 OK", ERR(-413));
	PARSE("HTTP/1.1 200 OK\r\nA: b\r\n", "S 11 200 OK\nH A: b\n" ERR(-413));
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
	    "S 11 200 OK\nH Content-Length: 5\nE 5 0\nB abc|\n"
	    ERR(-413));
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nab",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "B ab|\n" ERR(-413));
	/* The last chunk without the final CRLF. */
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    ERR(-413));
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\nA: b\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "T A: b\n" ERR(-413));
	PARSE("HTTP/1.1 100 Continue\r\n\r\n", ERR(-413));
}

static void
trailing(void)
{
	defaults();
	PARSE("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabc",
	    "S 11 200 OK\nH Content-Length: 2\nE 2 0\nB ab|\nEND\n"
	    ERR(-414));
	PARSE("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	    "S 11 204 No Content\nE -1 0\nEND\n" ERR(-414));
	PARSE("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n\r\n",
	    "S 11 200 OK\nH Transfer-Encoding: chunked\nE -1 1\n"
	    "END\n" ERR(-414));
}

/* ---- the request writer ---- */

static int
same(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return 1;
	printf("\n    got:\n%s    want:\n%s", got, want);
	return 0;
}

static void
request_rest(void)
{
	struct ts_http_req r = {
		"api.trackersino.com", 0, 1,
		"/v1-beta/games/stake-crash/rounds"
		"?since=2026-05-28T15%3A05%3A15Z",
		"KEY123", NULL
	};
	char out[1024];
	int n;

	n = ts_http_request(out, sizeof(out), &r);
	CHECK(same(out, "GET /v1-beta/games/stake-crash/rounds?"
	    "since=2026-05-28T15%3A05%3A15Z HTTP/1.1\r\n"
	    "Host: api.trackersino.com\r\n"
	    "User-Agent: tsino/" TS_VERSION "\r\n"
	    "Authorization: Bearer KEY123\r\n"
	    "Accept: application/json\r\n"
	    "Connection: close\r\n"
	    "\r\n"));
	CHECK_INT(n, strlen(out));
}

static void
request_ports(void)
{
	struct ts_http_req r = { "example.com", 443, 1, "/", NULL, NULL };
	char out[512];

	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: example.com\r\n") != NULL);
	r.port = 8443;
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: example.com:8443\r\n") != NULL);
	r.port = 80;
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: example.com:80\r\n") != NULL);
	r.tls = 0;
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: example.com\r\n") != NULL);
	r.port = 0;
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: example.com\r\n") != NULL);
	r.port = 443;
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: example.com:443\r\n") != NULL);
	r.port = 65535;
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: example.com:65535\r\n") != NULL);
	/* No Authorization without a key. */
	CHECK(strstr(out, "Authorization") == NULL);
}

static void
request_ipv6(void)
{
	struct ts_http_req r = { "::1", 8080, 0, "/x", NULL, NULL };
	char out[512];

	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: [::1]:8080\r\n") != NULL);
	r.host = "2001:db8::7";
	r.port = 80;
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: [2001:db8::7]\r\n") != NULL);
	r.host = "127.0.0.1";
	CHECK(ts_http_request(out, sizeof(out), &r) > 0);
	CHECK(strstr(out, "\r\nHost: 127.0.0.1\r\n") != NULL);
}

static void
request_upgrade(void)
{
	/* RFC 6455 1.3's example key. */
	struct ts_http_req r = {
		"api.trackersino.com", 0, 1,
		"/v1-beta/stream?games=stake-crash,roobet-crash", "K",
		"dGhlIHNhbXBsZSBub25jZQ=="
	};
	char out[1024];
	int n;

	n = ts_http_request(out, sizeof(out), &r);
	CHECK(same(out,
	    "GET /v1-beta/stream?games=stake-crash,roobet-crash HTTP/1.1\r\n"
	    "Host: api.trackersino.com\r\n"
	    "User-Agent: tsino/" TS_VERSION "\r\n"
	    "Authorization: Bearer K\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n"));
	CHECK_INT(n, strlen(out));
}

/* Each field in turn gets a bad value; the result is INJECTION. */
static void
request_injection(void)
{
	static const char *const bad[] = {
		"a\rb", "a\nb", "a\r\nX-Evil: 1", "a b", "a\tb", "a\x7f",
		"a\x01", "a\xc3\xa9", ""
	};
	struct ts_http_req good = {
		"example.com", 0, 1, "/ok", "KEY",
		"dGhlIHNhbXBsZSBub25jZQ=="
	}, r;
	char out[512], t[64];
	size_t i;

	memset(out, 'z', sizeof(out));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = good;
		r.host = bad[i];
		CHECK_INT(ts_http_request(out, sizeof(out), &r),
		    TS_ERR_HTTP_INJECTION);
		r = good;
		snprintf(t, sizeof(t), "/%s", bad[i]);
		r.target = t;
		if (bad[i][0] != '\0')
			CHECK_INT(ts_http_request(out, sizeof(out), &r),
			    TS_ERR_HTTP_INJECTION);
		r = good;
		r.bearer = bad[i];
		CHECK_INT(ts_http_request(out, sizeof(out), &r),
		    TS_ERR_HTTP_INJECTION);
		r = good;
		r.ws_key = bad[i];
		CHECK_INT(ts_http_request(out, sizeof(out), &r),
		    TS_ERR_HTTP_INJECTION);
	}
	/* Nothing was written, so no key can have leaked into out. */
	for (i = 0; i < sizeof(out); i++)
		CHECK(out[i] == 'z');

	r = good;
	r.host = NULL;
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r = good;
	r.host = "[::1]";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r.host = "a/b";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r.host = "user@host";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r = good;
	r.target = NULL;
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r.target = "";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r.target = "x/y";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r = good;
	r.ws_key = "dGhlIHNhbXBsZSBub25jZQ=";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r.ws_key = "dGhlIHNhbXBsZSBub25jZQ===";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r.ws_key = "dGhlIHNhbXBsZSBub2-jZQ==";
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
	r = good;
	r.port = 65536;
	CHECK_INT(ts_http_request(out, sizeof(out), &r), TS_ERR_HTTP_INJECTION);
}

static void
request_too_big(void)
{
	struct ts_http_req r = { "h", 0, 0, "/", NULL, NULL };
	char out[256];
	int n;

	n = ts_http_request(out, sizeof(out), &r);
	CHECK(n > 0);
	memset(out, 'z', sizeof(out));
	/* The NUL needs room too; nothing is written when it does not fit. */
	CHECK_INT(ts_http_request(out, (size_t)n, &r),
	    TS_ERR_HTTP_REQUEST_TOO_BIG);
	CHECK(out[0] == 'z');
	CHECK_INT(ts_http_request(out, 0, &r), TS_ERR_HTTP_REQUEST_TOO_BIG);
	CHECK_INT(ts_http_request(out, (size_t)n + 1, &r), n);
	CHECK(out[n] == '\0');
}

/* ---- HTTP-date, Retry-After, token lists ---- */

static int
date(const char *s, int64_t *epoch)
{
	return ts_http_date(s, strlen(s), epoch);
}

static void
date_three_forms(void)
{
	int64_t e;

	/* RFC 9110 5.6.7's example in its three forms. */
	e = 0;
	CHECK_INT(date("Sun, 06 Nov 1994 08:49:37 GMT", &e), 0);
	CHECK_INT(e, 784111777);
	e = 0;
	CHECK_INT(date("Sunday, 06-Nov-94 08:49:37 GMT", &e), 0);
	CHECK_INT(e, 784111777);
	e = 0;
	CHECK_INT(date("Sun Nov  6 08:49:37 1994", &e), 0);
	CHECK_INT(e, 784111777);
	CHECK_INT(date("Sun Nov 06 08:49:37 1994", &e), 0);
	CHECK_INT(e, 784111777);
}

static void
date_known_epochs(void)
{
	int64_t e;

	CHECK_INT(date("Thu, 01 Jan 1970 00:00:00 GMT", &e), 0);
	CHECK_INT(e, 0);
	CHECK_INT(date("Wed, 31 Dec 1969 23:59:59 GMT", &e), 0);
	CHECK_INT(e, -1);
	CHECK_INT(date("Tue, 29 Feb 2000 12:00:00 GMT", &e), 0);
	CHECK_INT(e, 951825600);
	CHECK_INT(date("Sat, 31 Dec 2016 23:59:60 GMT", &e), 0);
	CHECK_INT(e, 1483228800);
	CHECK_INT(date("Fri, 31 Dec 9999 23:59:59 GMT", &e), 0);
	CHECK_INT(e, 253402300799LL);
	CHECK_INT(date("Mon, 01 Jan 0001 00:00:00 GMT", &e), 0);
	CHECK_INT(e, -62135596800LL);
	CHECK_INT(date("Wednesday, 09-Nov-94 08:49:37 GMT", &e), 0);
	CHECK_INT(e, 784111777 + 3 * 86400);
}

static void
date_two_digit_year(void)
{
	int64_t e, y2025 = 1748736000, y2099 = 4083955200LL;

	/* Fixed pivot: 1971..2070. */
	CHECK_INT(date("Friday, 01-Jan-71 00:00:00 GMT", &e), 0);
	CHECK_INT(e, 31536000);
	CHECK_INT(date("Wednesday, 01-Jan-70 00:00:00 GMT", &e), 0);
	CHECK_INT(e, 3155760000LL);
	/* Retry-After reads them relative to now.  In mid-2025: 75 is
	   2075 (50 years ahead), 76 is 1976 (past: no wait). */
	CHECK_INT(ts_http_retry_after("Tuesday, 01-Jan-75 00:00:00 GMT", 31,
	    y2025, &e), 0);
	CHECK_INT(e, 3313526400LL - y2025);
	CHECK_INT(ts_http_retry_after("Thursday, 01-Jan-76 00:00:00 GMT", 32,
	    y2025, &e), 0);
	CHECK_INT(e, 0);
	/* In 2099: 01 is 2101, not 98 years ago. */
	CHECK_INT(ts_http_retry_after("Saturday, 01-Jan-01 00:00:00 GMT", 32,
	    y2099, &e), 0);
	CHECK_INT(e, 4133980800LL - y2099);
	/* An absurd clock is clamped, not overflowed. */
	CHECK_INT(ts_http_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 30,
	    INT64_MAX, &e), 0);
	CHECK_INT(e, 0);
	CHECK_INT(ts_http_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 30,
	    INT64_MIN, &e), 0);
	CHECK(e > 0);
}

static void
date_malformed(void)
{
	static const char *const bad[] = {
		"",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT ",
		" Sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37",
		"Sun, 32 Nov 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Mon, 29 Feb 2100 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:37 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 08-49-37 GMT",
		"Sun, 06 Nov 19x4 08:49:37 GMT",
		"Sun, 06 Nov 1994 8:49:37 GMT",
		"Sunday, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT",
		"Sunday, 06 Nov 94 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 UTC",
		"Sundae, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 94",
		"Sun Nov 6 08:49:37 1994",
		"Sun Nov  x 08:49:37 1994",
		"Sun  Nov 6 08:49:37 1994",
		"Sunday Nov  6 08:49:37 1994",
		"1994-11-06T08:49:37Z",
	};
	size_t i;
	int64_t e;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (date(bad[i], &e) != TS_ERR_HTTP_DATE) {
			printf("\n    accepted \"%s\"", bad[i]);
			CHECK(0);
		}
}

static int
retry(const char *v, int64_t now, int64_t *delay)
{
	return ts_http_retry_after(v, strlen(v), now, delay);
}

static void
retry_after_forms(void)
{
	int64_t d;

	CHECK_INT(retry("120", 0, &d), 0);
	CHECK_INT(d, 120);
	CHECK_INT(retry(" \t120 ", 0, &d), 0);
	CHECK_INT(d, 120);
	CHECK_INT(retry("0", 0, &d), 0);
	CHECK_INT(d, 0);
	CHECK_INT(retry("2147483647", 0, &d), 0);
	CHECK_INT(d, 2147483647);
	CHECK_INT(retry("2147483648", 0, &d), 0);
	CHECK_INT(d, 2147483648LL);
	CHECK_INT(retry("99999999999999999999999999", 0, &d), 0);
	CHECK_INT(d, 2147483648LL);
	/* Dates: in the future, past, now. */
	CHECK_INT(retry("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30, &d),
	    0);
	CHECK_INT(d, 30);
	CHECK_INT(retry("Sunday, 06-Nov-94 08:49:37 GMT", 784111777 - 5, &d),
	    0);
	CHECK_INT(d, 5);
	CHECK_INT(retry("Sun Nov  6 08:49:37 1994", 784111777 - 1, &d), 0);
	CHECK_INT(d, 1);
	CHECK_INT(retry("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 30, &d),
	    0);
	CHECK_INT(d, 0);
	CHECK_INT(retry("Sun, 06 Nov 1994 08:49:37 GMT", 784111777, &d), 0);
	CHECK_INT(d, 0);
	CHECK_INT(retry("Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN, &d), 0);
	CHECK_INT(d, INT64_MAX);
}

static void
retry_after_malformed(void)
{
	int64_t d;

	CHECK_INT(retry("", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
	CHECK_INT(retry("  ", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
	CHECK_INT(retry("-5", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
	CHECK_INT(retry("+5", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
	CHECK_INT(retry("1.5", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
	CHECK_INT(retry("12a", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
	CHECK_INT(retry("1 2", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
	CHECK_INT(retry("Sun, 06 Nov 1994", 0, &d), TS_ERR_HTTP_RETRY_AFTER);
}

static const struct test_case cases[] = {
	TEST(content_length_rfc),
	TEST(content_length_zero),
	TEST(content_length_equal_list),
	TEST(content_length_leading_zeros),
	TEST(chunked_extensions_trailers),
	TEST(chunked_hex_forms),
	TEST(chunked_empty_elements),
	TEST(close_delimited),
	TEST(close_delimited_empty),
	TEST(switching_protocols),
	TEST(switching_protocols_consumed),
	TEST(no_content),
	TEST(interim_skipped),
	TEST(interim_fields_checked),
	TEST(bare_lf_lines),
	TEST(reason_forms),
	TEST(field_values),
	TEST(retry_after_kept),
	TEST(events_wait_for_drain),
	TEST(body_zero_copy),
	TEST(bad_status_line),
	TEST(bad_version),
	TEST(bad_header),
	TEST(bad_obs_fold),
	TEST(line_limit),
	TEST(header_count_limit),
	TEST(header_bytes_limit),
	TEST(bad_content_length),
	TEST(bad_chunk),
	TEST(chunk_extensions_ignored),
	TEST(bad_transfer_encoding),
	TEST(ambiguous_length),
	TEST(truncated),
	TEST(trailing),
	TEST(request_rest),
	TEST(request_ports),
	TEST(request_ipv6),
	TEST(request_upgrade),
	TEST(request_injection),
	TEST(request_too_big),
	TEST(date_three_forms),
	TEST(date_known_epochs),
	TEST(date_two_digit_year),
	TEST(date_malformed),
	TEST(retry_after_forms),
	TEST(retry_after_malformed),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
