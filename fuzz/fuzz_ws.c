/*
 * fuzz_ws: the WebSocket core under libFuzzer (and corpus replay).
 *
 * Input layout:
 *   [0]     mode: bit 0 set = handshake, else frame stream; bit 1 = the
 *           client sends its own close first; bit 2 = write every pending
 *           reply after each event
 *   [1..3]  chunk sizes for the split run: low 7 bits (0 means 1), times
 *           64 if the top bit is set; used in turn
 *   [4]     limits: bits 0-2 pick max_message, bits 3-4 max_fragments
 *   [5..]   the server's bytes (handshake: a response header block)
 *
 * Frame mode decodes the stream whole and split, and aborts unless both
 * transcripts (data merged per message) and end states are identical,
 * every data piece lies inside the bytes just pushed, no message exceeds
 * max_message, text is valid UTF-8 by the independent checker below
 * (a valid prefix at each piece, complete at the message end), control
 * payloads fit, close codes are legal, each error names 1002, 1007 or
 * 1009, and the replies written parse as masked client frames carrying
 * what they must.
 *
 * Handshake mode splits the header block into lines here, feeds them to
 * ts_ws_hs_* forwards and backwards (the verdict must not depend on the
 * order) and checks that success implies what RFC 6455 §4.1 demands.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

static const size_t max_messages[8] = {1048576, 0, 1, 5, 125, 126, 65535,
    65536};
static const unsigned long max_frags[4] = {1024, 1, 2, 3};
static const unsigned char fmask[4] = {0xa1, 0x00, 0x5c, 0xff};

static void
must(int cond)
{
	if (!cond)
		abort();
}

/*
 * Independent UTF-8 check by decoding code points.  Returns 0 if s[0..n)
 * is valid (a final incomplete character is allowed when partial is
 * set, if some continuation could still make it valid), -1 if not;
 * *boundary gets the end of the last complete character.
 */
static int
check_utf8(const unsigned char *s, size_t n, int partial, size_t *boundary)
{
	size_t i = 0, len, k, rem;
	uint32_t cp, min, lo, hi;

	*boundary = 0;
	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			*boundary = i;
			continue;
		}
		if ((s[i] & 0xE0) == 0xC0) {
			len = 2;
			cp = s[i] & 0x1F;
			min = 0x80;
		} else if ((s[i] & 0xF0) == 0xE0) {
			len = 3;
			cp = s[i] & 0x0F;
			min = 0x800;
		} else if ((s[i] & 0xF8) == 0xF0) {
			len = 4;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else {
			return -1;
		}
		for (k = 1; k < len && i + k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (k < len) {
			/* Truncated: which code points could it still be? */
			if (!partial)
				return -1;
			rem = len - k;
			lo = cp << (6 * rem);
			hi = lo | ((1u << (6 * rem)) - 1);
			if (lo < min)
				lo = min;
			if (hi > 0x10FFFF)
				hi = 0x10FFFF;
			if (lo > hi || (lo >= 0xD800 && hi <= 0xDFFF))
				return -1;
			return 0;
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		i += len;
		*boundary = i;
	}
	return 0;
}

struct run {
	uint64_t hash;			/* FNV-1a over the transcript */
	int last_data;
	const unsigned char *pushed;	/* bytes of the last push */
	size_t pushed_len;
	size_t msg_total;		/* data bytes of this message */
	int in_msg;			/* a data piece of it came */
	size_t checked;			/* text validated up to here */
	unsigned char ping[TS_WS_CONTROL_MAX];
	size_t ping_len;
	int have_ping;
	int client_closed;
	int server_closed;		/* its close event came */
	int answer;
};

static unsigned char text[1u << 20];

static void
add(struct run *r, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		r->hash ^= b[i];
		r->hash *= 1099511628211ULL;
	}
}

static void
add_int(struct run *r, long v)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)((unsigned long)v >> (8 * i));
	add(r, b, 8);
}

static int
close_code_legal(int code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

/* Parse our own masked frame out[0..n) and check it says what it must. */
static void
check_reply(struct ts_ws *ws, struct run *r, const unsigned char *out,
    int n)
{
	unsigned char pay[TS_WS_CONTROL_MAX];
	size_t len, i;
	int op;

	must(n >= 6 && n <= TS_WS_CONTROL_FRAME_MAX);
	must((out[0] & 0xF0) == 0x80 && (out[1] & 0x80));
	op = out[0] & 0x0F;
	len = out[1] & 0x7F;
	must(len <= TS_WS_CONTROL_MAX && (size_t)n == 6 + len);
	must(memcmp(out + 2, fmask, 4) == 0);
	for (i = 0; i < len; i++)
		pay[i] = out[6 + i] ^ fmask[i & 3];
	if (op == TS_WS_OP_PONG) {
		must(r->have_ping && len == r->ping_len &&
		    memcmp(pay, r->ping, len) == 0);
		r->have_ping = 0;
	} else {
		must(op == TS_WS_OP_CLOSE && len == 2);
		if (ws->fail_code != 0)
			must((pay[0] << 8 | pay[1]) == ws->fail_code);
		else
			must(close_code_legal(pay[0] << 8 | pay[1]));
		r->client_closed = 1;
	}
	add(r, out, (size_t)n);
}

/* Drain events, counting them in *count; returns 1 once an error came. */
static int
drain(struct ts_ws *ws, struct run *r, int *count)
{
	unsigned char out[TS_WS_CONTROL_FRAME_MAX];
	size_t b;
	int ev, n;

	while ((ev = ts_ws_event(ws)) != 0) {
		(*count)++;
		/* Data pieces depend on the split: only their bytes count. */
		if (ev != TS_WS_EV_DATA)
			add_int(r, ev);
		if (ev < 0) {
			must(ev <= TS_ERR_WS_MASKED &&
			    ev >= TS_ERR_WS_TOO_MANY_FRAGMENTS);
			must(ts_ws_event(ws) == ev);
			must(ws->fail_code == 1002 ||
			    ws->fail_code == 1007 ||
			    ws->fail_code == 1009);
			must(ts_ws_want_write(ws) == !r->client_closed);
			add_int(r, ws->fail_code);
		} else if (ev == TS_WS_EV_DATA) {
			must(ws->data_len > 0);
			must(ws->data >= r->pushed && ws->data_len <=
			    r->pushed_len - (size_t)(ws->data - r->pushed));
			must(ws->msg_opcode == TS_WS_OP_TEXT ||
			    ws->msg_opcode == TS_WS_OP_BINARY);
			must(ws->data_len <= ws->max_message - r->msg_total);
			if (ws->msg_opcode == TS_WS_OP_TEXT) {
				memcpy(text + r->msg_total, ws->data,
				    ws->data_len);
				must(check_utf8(text + r->checked,
				    r->msg_total + ws->data_len - r->checked,
				    1, &b) == 0);
				r->checked += b;
			}
			r->msg_total += ws->data_len;
			if (!r->in_msg || !r->last_data)
				add_int(r, 100 + ws->msg_opcode);
			r->in_msg = 1;
			add(r, ws->data, ws->data_len);
		} else if (ev == TS_WS_EV_MESSAGE) {
			must(ws->msg_opcode == TS_WS_OP_TEXT ||
			    ws->msg_opcode == TS_WS_OP_BINARY);
			if (ws->msg_opcode == TS_WS_OP_TEXT)
				must(check_utf8(text + r->checked,
				    r->msg_total - r->checked, 0, &b) == 0);
			add_int(r, ws->msg_opcode);
			r->msg_total = 0;
			r->in_msg = 0;
			r->checked = 0;
		} else if (ev == TS_WS_EV_PING || ev == TS_WS_EV_PONG) {
			must(ws->ctl_len <= TS_WS_CONTROL_MAX);
			add(r, ws->ctl, ws->ctl_len);
			if (ev == TS_WS_EV_PING && !r->client_closed) {
				memcpy(r->ping, ws->ctl, ws->ctl_len);
				r->ping_len = ws->ctl_len;
				r->have_ping = 1;
			}
		} else if (ev == TS_WS_EV_CLOSE) {
			must(ws->ctl_len <= TS_WS_CONTROL_MAX - 2);
			must(close_code_legal(ws->close_code) ||
			    (ws->close_code == 1005 && ws->ctl_len == 0));
			must(check_utf8(ws->ctl, ws->ctl_len, 0, &b) == 0);
			must(ts_ws_want_write(ws) == !r->client_closed);
			r->have_ping = 0;
			r->server_closed = 1;
			add_int(r, ws->close_code);
			add(r, ws->ctl, ws->ctl_len);
		} else {
			abort();
		}
		r->last_data = ev == TS_WS_EV_DATA;
		if (r->answer && ts_ws_want_write(ws)) {
			n = ts_ws_pending(ws, out, sizeof(out), fmask);
			check_reply(ws, r, out, n);
			must(!ts_ws_want_write(ws));
		}
		if (ev < 0)
			return 1;
	}
	return 0;
}

/* Decode in[0..n) in chunks cycling through sizes[0..3). */
static void
decode(struct ts_ws *ws, struct run *r, const uint8_t *cfg,
    const unsigned char *in, size_t n, const size_t *sizes)
{
	unsigned char out[TS_WS_CONTROL_FRAME_MAX];
	size_t off = 0, end, used;
	unsigned k = 0;
	int ret, count;

	memset(r, 0, sizeof(*r));
	r->hash = 14695981039346656037ULL;
	r->answer = (cfg[0] & 4) != 0;
	ts_ws_init(ws);
	ws->max_message = max_messages[cfg[4] & 7];
	ws->max_fragments = max_frags[cfg[4] >> 3 & 3];
	if (cfg[0] & 2) {
		ret = ts_ws_close(ws, out, sizeof(out), 1000, fmask);
		check_reply(ws, r, out, ret);
		must(ts_ws_close(ws, out, sizeof(out), 1000, fmask) ==
		    TS_ERR_WS_CLOSED);
	}
	while (off < n) {
		end = sizes == NULL ? n : off + sizes[k++ % 3];
		if (end > n)
			end = n;
		while (off < end) {
			r->pushed = in + off;
			r->pushed_len = end - off;
			used = ts_ws_push(ws, in + off, end - off);
			must(used <= end - off);
			r->pushed_len = used;
			off += used;
			count = 0;
			if (drain(ws, r, &count))
				goto done;
			/* The push contract: progress or an event. */
			must(used > 0 || count > 0);
		}
	}
	count = 0;
	drain(ws, r, &count);
done:
	add_int(r, ts_ws_want_write(ws));
	add_int(r, ws->fail_code);
	if (ws->fail_code == 0 && !r->client_closed)
		must(ts_ws_send(ws, out, sizeof(out), TS_WS_OP_PING, "", 0,
		    fmask) == (r->server_closed ? TS_ERR_WS_CLOSED : 6));
}

static void
frames(const uint8_t *data, size_t size)
{
	static struct ts_ws ws;
	struct run whole, split;
	size_t sizes[3], i;

	for (i = 0; i < 3; i++) {
		sizes[i] = data[1 + i] & 0x7F;
		if (data[1 + i] & 0x80)
			sizes[i] *= 64;
		if (sizes[i] == 0)
			sizes[i] = 1;
	}
	decode(&ws, &whole, data, data + 5, size - 5, NULL);
	decode(&ws, &split, data, data + 5, size - 5, sizes);
	must(whole.hash == split.hash);
}

/* Does the line name[0..n) equal want (lowercase), ignoring case? */
static int
named(const char *name, size_t n, const char *want)
{
	size_t i;

	if (n != strlen(want))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != want[i])
			return 0;
	}
	return 1;
}

#define MAX_LINES 64

static void
handshake(const uint8_t *data, size_t size)
{
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
	const char *p = (const char *)data, *end = p + size, *nl, *colon;
	const char *name[MAX_LINES], *value[MAX_LINES];
	size_t nlen[MAX_LINES], vlen[MAX_LINES], len;
	struct ts_ws_hs fwd, back;
	int status = 0, lines = 0, i, r1, r2, accepts = 0, good = 0;
	int others = 0;
	char expect[29];

	/* Status line: the three digits after the first space. */
	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL)
		nl = end;
	for (colon = p; colon < nl && *colon != ' '; colon++)
		;
	if (nl - colon >= 4 && colon[1] >= '0' && colon[1] <= '9' &&
	    colon[2] >= '0' && colon[2] <= '9' && colon[3] >= '0' &&
	    colon[3] <= '9')
		status = (colon[1] - '0') * 100 + (colon[2] - '0') * 10 +
		    (colon[3] - '0');
	p = nl < end ? nl + 1 : end;
	while (p < end && lines < MAX_LINES) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			break;
		colon = memchr(p, ':', len);
		if (colon != NULL) {
			name[lines] = p;
			nlen[lines] = (size_t)(colon - p);
			value[lines] = colon + 1;
			vlen[lines] = len - nlen[lines] - 1;
			lines++;
		}
		p = nl < end ? nl + 1 : end;
	}
	ts_ws_hs_init(&fwd, key);
	ts_ws_hs_init(&back, key);
	for (i = 0; i < lines; i++)
		ts_ws_hs_header(&fwd, name[i], nlen[i], value[i], vlen[i]);
	for (i = lines - 1; i >= 0; i--)
		ts_ws_hs_header(&back, name[i], nlen[i], value[i], vlen[i]);
	r1 = ts_ws_hs_finish(&fwd, status);
	r2 = ts_ws_hs_finish(&back, status);
	must(r1 == r2);
	must(r1 == 0 || (r1 <= TS_ERR_WS_STATUS && r1 >= TS_ERR_WS_PROTOCOL));
	if (r1 != 0)
		return;
	/* Success: 101, one accept with the right value, nothing offered
	 * that we did not ask for. */
	memcpy(expect, fwd.expect, sizeof(expect));
	must(status == 101);
	for (i = 0; i < lines; i++) {
		if (named(name[i], nlen[i], "sec-websocket-accept")) {
			const char *v = value[i];
			size_t n = vlen[i];

			accepts++;
			while (n > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				n--;
			}
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
				n--;
			good = n == 28 && memcmp(v, expect, 28) == 0;
		}
		if (named(name[i], nlen[i], "sec-websocket-extensions") ||
		    named(name[i], nlen[i], "sec-websocket-protocol"))
			others++;
	}
	must(accepts == 1 && good && others == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	if (data[0] & 1)
		handshake(data + 5, size - 5);
	else
		frames(data, size);
	return 0;
}
