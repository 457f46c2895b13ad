/*
 * fuzz_http: the response parser, the request writer, HTTP-dates,
 * Retry-After and token lists on arbitrary bytes.
 *
 * Input: byte 0 picks the line buffer size, byte 1 the header limits,
 * bytes 2-3 seed the chunk sizes; the rest is the response.  The response
 * is pushed whole, one byte at a time and in pseudo-random chunks; the
 * three transcripts (events, their text, body bytes, what is left after a
 * 101, the final error) are hashed and must be equal.  Every pointer
 * handed out must lie in the line buffer or in the bytes just pushed;
 * body bytes never exceed the input; the parser never stalls.  The same
 * bytes then go to ts_http_date, ts_http_retry_after, ts_list_has
 * and, cut at NULs into fields, to ts_http_request.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "http.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static char linebuf[TS_HTTP_BUFSIZE];

struct run {
	uint64_t hash;
	size_t body;
	size_t events;
};

static void
mix(struct run *r, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		r->hash ^= b[i];
		r->hash *= 0x100000001b3ULL;
	}
}

static void
mix_int(struct run *r, long long v)
{
	mix(r, &v, sizeof(v));
}

static int
in_line(const char *p, size_t n, size_t bufsize)
{
	return p >= linebuf && n <= bufsize &&
	    (size_t)(p - linebuf) <= bufsize - n;
}

/* One event: check its pointers, hash what it says.  Body bytes are
   hashed alone (no marker per event), so any cut gives the same hash. */
static void
event(struct run *r, struct ts_http *h, int ev, const char *chunk,
    size_t chunklen, size_t bufsize)
{
	r->events++;
	if (ev != TS_HTTP_EV_BODY)
		mix_int(r, ev);
	switch (ev) {
	case TS_HTTP_EV_STATUS:
		CHECK(h->status >= 100 && h->status <= 599);
		CHECK(h->version == 10 || h->version == 11);
		CHECK(in_line(h->reason, h->reason_len, bufsize));
		mix_int(r, h->status);
		mix_int(r, h->version);
		mix(r, h->reason, h->reason_len);
		break;
	case TS_HTTP_EV_HEADER:
	case TS_HTTP_EV_TRAILER:
		CHECK(h->name_len > 0);
		CHECK(in_line(h->name, h->name_len, bufsize));
		CHECK(in_line(h->value, h->value_len, bufsize));
		mix(r, h->name, h->name_len);
		mix_int(r, (long long)h->name_len);
		mix(r, h->value, h->value_len);
		mix_int(r, (long long)h->value_len);
		break;
	case TS_HTTP_EV_HEADERS_END:
		/* Never both (RFC 9112 6.3). */
		CHECK(!h->chunked || h->content_length < 0);
		mix_int(r, h->content_length);
		mix_int(r, h->chunked);
		mix(r, h->retry_after, h->retry_after_len);
		break;
	case TS_HTTP_EV_BODY:
		CHECK(chunk != NULL && h->data_len > 0);
		CHECK(h->data >= chunk && h->data_len <= chunklen &&
		    (size_t)(h->data - chunk) <= chunklen - h->data_len);
		r->body += h->data_len;
		mix(r, h->data, h->data_len);
		break;
	case TS_HTTP_EV_END:
		break;
	default:
		abort();
	}
}

static uint32_t
next_random(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* mode 0: whole; 1: byte by byte; 2: random chunks seeded by seed. */
static void
drive(const char *in, size_t n, int mode, uint32_t seed, size_t bufsize,
    size_t max_headers, size_t max_header_bytes, struct run *r)
{
	struct ts_http h;
	size_t off = 0, end, k, step;
	int ev = 0, progress, upgraded = 0;

	memset(r, 0, sizeof(*r));
	r->hash = 0xcbf29ce484222325ULL;
	ts_http_init(&h, linebuf, bufsize);
	h.max_headers = max_headers;
	h.max_header_bytes = max_header_bytes;
	seed |= 1;
	while (off < n) {
		if (mode == 0)
			step = n - off;
		else if (mode == 1)
			step = 1;
		else
			step = next_random(&seed) % 4 == 0 ?
			    next_random(&seed) % 300 + 1 :
			    next_random(&seed) % 8 + 1;
		end = n - off > step ? off + step : n;
		while (off < end) {
			k = ts_http_push(&h, in + off, end - off);
			CHECK(k <= end - off);
			progress = k > 0;
			while ((ev = ts_http_event(&h)) > 0) {
				event(r, &h, ev, in + off, end - off, bufsize);
				if (ev == TS_HTTP_EV_HEADERS_END &&
				    h.status == 101)
					upgraded = 1;
				progress = 1;
				CHECK(r->events <= 2 * n + 8);
			}
			off += k;
			if (ev < 0) {
				mix_int(r, ev);
				CHECK(ts_http_event(&h) == ev);
				CHECK(ts_http_push(&h, in, n) == 0);
				CHECK(ts_http_eof(&h) == ev);
				CHECK(r->body <= n);
				return;
			}
			if (!progress) {
				/* Only a 101 stops taking bytes for good. */
				CHECK(upgraded);
				mix(r, "REST", 4);
				mix(r, in + off, n - off);
				return;
			}
		}
	}
	ev = ts_http_eof(&h);
	while ((ev = ts_http_event(&h)) > 0)
		event(r, &h, ev, NULL, 0, bufsize);
	if (ev < 0)
		mix_int(r, ev);
	CHECK(r->body <= n);
}

static void
fuzz_parser(const uint8_t *data, size_t size)
{
	size_t bufsize, max_headers, max_header_bytes, n;
	uint32_t seed;
	const char *in;
	struct run whole, bytes, chunks;

	if (size < 4)
		return;
	bufsize = data[0] & 0x80 ? (size_t)(data[0] & 0x3f) :
	    sizeof(linebuf);
	max_headers = data[1] & 0x80 ? (size_t)(data[1] & 0x0f) :
	    100;
	max_header_bytes = data[1] & 0x40 ? (size_t)(data[1] & 0x30) * 4 + 20 :
	    65536;
	seed = (uint32_t)data[2] << 8 | data[3];
	in = (const char *)data + 4;
	n = size - 4;
	drive(in, n, 0, seed, bufsize, max_headers, max_header_bytes, &whole);
	drive(in, n, 1, seed, bufsize, max_headers, max_header_bytes, &bytes);
	drive(in, n, 2, seed, bufsize, max_headers, max_header_bytes,
	    &chunks);
	CHECK(whole.hash == bytes.hash && whole.body == bytes.body);
	CHECK(whole.hash == chunks.hash && whole.body == chunks.body);
}

/* The same bytes as a date, a Retry-After value and a token list. */
static void
fuzz_values(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int64_t epoch, delay, now = 0;
	size_t i;
	int rc;

	for (i = 0; i < size && i < 8; i++)
		now = (int64_t)((uint64_t)now << 8 | data[i]);
	rc = ts_http_date(s, size, &epoch);
	CHECK(rc == 0 || rc == TS_ERR_HTTP_DATE);
	/* Years 0000..9999 only. */
	CHECK(rc != 0 || (epoch >= -62167219200LL && epoch <= 253402300800LL));
	rc = ts_http_retry_after(s, size, now, &delay);
	CHECK(rc == 0 || rc == TS_ERR_HTTP_RETRY_AFTER);
	CHECK(rc != 0 || delay >= 0);
	rc = ts_list_has(s, size, "upgrade");
	CHECK(rc == 0 || rc == 1);
}

/* Fields cut at NULs: host, target, bearer, ws_key; bytes 0-1 the port. */
static void
fuzz_request(const uint8_t *data, size_t size)
{
	static char copy[4096], out[8192];
	const char *field[4] = { NULL, NULL, NULL, NULL };
	struct ts_http_req req;
	size_t i, nf = 0, start;
	int n, lines = 0;

	if (size < 2 || size - 2 >= sizeof(copy))
		return;
	memcpy(copy, data + 2, size - 2);
	copy[size - 2] = '\0';
	for (start = 0, i = 0; i <= size - 2 && nf < 4; i++)
		if (copy[i] == '\0') {
			field[nf++] = copy + start;
			start = i + 1;
		}
	memset(&req, 0, sizeof(req));
	req.host = field[0];
	req.target = field[1];
	req.bearer = field[2];
	req.ws_key = field[3];
	req.port = (unsigned)data[0] << 8 | data[1];
	req.tls = data[0] & 1;
	n = ts_http_request(out, sizeof(out), &req);
	if (n < 0) {
		CHECK(n == TS_ERR_HTTP_INJECTION ||
		    n == TS_ERR_HTTP_REQUEST_TOO_BIG);
		return;
	}
	/* Only whole CRLF-ended lines of visible ASCII and spaces. */
	CHECK((size_t)n == strlen(out));
	for (i = 0; i < (size_t)n; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == '\n') {
			CHECK(i > 0 && out[i - 1] == '\r');
			lines++;
		} else if (c == '\r')
			CHECK(i + 1 < (size_t)n && out[i + 1] == '\n');
		else
			CHECK(c >= 0x20 && c < 0x7f);
	}
	CHECK(lines == (req.bearer != NULL) + (req.ws_key != NULL ? 8 : 6));
	CHECK(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parser(data, size);
	fuzz_values(data, size);
	fuzz_request(data, size);
	return 0;
}
