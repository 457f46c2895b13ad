/*
 * test_ws: RFC 6455 known answers (§1.3 key and accept, §5.7 frames),
 * the handshake checks, one case per decoder rule with its error and
 * close code, UTF-8 boundaries and every class of bad sequence, the
 * limits, the close handshake, and the encoder.
 *
 * Every decoder case goes through decode(), which feeds the input whole,
 * one byte at a time and split at every offset (at a stride for big
 * inputs) and wants the same transcript each time.  A transcript writes
 * each event as text: "D1:" opens a message's first data piece (opcode
 * 1 or 2) and the data follows raw, "+" marks data resuming after
 * another event, "|M1;" ends a message, "P:..;" a ping, "p:..;" a pong,
 * "C1000:reason;" a close, "E-515/1007;" an error and its close code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsino.h"
#include "ws.h"
#include "test.h"

/* A test input given as a string literal (it may hold NUL bytes). */
#define IN(s) (const unsigned char *)(s), sizeof(s) - 1

static const unsigned char mask0[4] = {0x37, 0xfa, 0x21, 0x3d};

/* ---------------------------------------------------------------- */
/* Transcripts                                                       */
/* ---------------------------------------------------------------- */

#define TR_MAX (2u << 20)

struct tr {
	unsigned char *buf;
	size_t len;
	int last_data;	/* the previous event was a data piece */
	int in_msg;	/* a data piece of the current message came */
	int overflow;
};

static unsigned char tr_space[3][TR_MAX];

static void
tr_reset(struct tr *t, int which)
{
	t->buf = tr_space[which];
	t->len = 0;
	t->last_data = 0;
	t->in_msg = 0;
	t->overflow = 0;
}

static void
tr_add(struct tr *t, const void *p, size_t n)
{
	if (n > TR_MAX - t->len) {
		t->overflow = 1;
		return;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void
tr_printf(struct tr *t, const char *fmt, int a, int b)
{
	char s[64];
	int n;

	n = snprintf(s, sizeof(s), fmt, a, b);
	tr_add(t, s, (size_t)n);
}

/* Drain every waiting event into t; -1 once an error was written. */
static int
drain(struct ts_ws *ws, struct tr *t, int *events)
{
	int ev;

	while ((ev = ts_ws_event(ws)) != 0) {
		(*events)++;
		if (ev < 0) {
			tr_printf(t, "E%d/%d;", ev, ws->fail_code);
			return -1;
		}
		if (ev == TS_WS_EV_DATA) {
			if (!t->in_msg)
				tr_printf(t, "D%d:", ws->msg_opcode, 0);
			else if (!t->last_data)
				tr_add(t, "+", 1);
			tr_add(t, ws->data, ws->data_len);
		} else if (ev == TS_WS_EV_MESSAGE) {
			tr_printf(t, "|M%d;", ws->msg_opcode, 0);
		} else if (ev == TS_WS_EV_PING || ev == TS_WS_EV_PONG) {
			tr_add(t, ev == TS_WS_EV_PING ? "P:" : "p:", 2);
			tr_add(t, ws->ctl, ws->ctl_len);
			tr_add(t, ";", 1);
		} else if (ev == TS_WS_EV_CLOSE) {
			tr_printf(t, "C%d:", ws->close_code, 0);
			tr_add(t, ws->ctl, ws->ctl_len);
			tr_add(t, ";", 1);
		} else {
			tr_printf(t, "?%d;", ev, 0);
		}
		t->last_data = ev == TS_WS_EV_DATA;
		if (ev == TS_WS_EV_DATA || ev == TS_WS_EV_MESSAGE)
			t->in_msg = ev == TS_WS_EV_DATA;
	}
	return 0;
}

/*
 * Feed in[0..n) in pieces: `step` bytes at a time if step > 0, else the
 * two pieces [0, at) and [at, n).  Each piece is pushed until it is all
 * taken, draining events after every push.
 */
static void
feed(struct ts_ws *ws, struct tr *t, const unsigned char *in, size_t n,
    size_t step, size_t at)
{
	size_t off = 0, end, used;
	int events;

	while (off < n) {
		if (step > 0)
			end = n - off > step ? off + step : n;
		else
			end = off < at ? at : n;
		while (off < end) {
			used = ts_ws_push(ws, in + off, end - off);
			off += used;
			events = 0;
			if (drain(ws, t, &events) < 0)
				return;
			if (used == 0 && events == 0) {
				tr_add(t, "STUCK", 5);
				return;
			}
		}
	}
	events = 0;
	drain(ws, t, &events);
}

/* Limits for the next decode() calls; 0 means the default. */
static size_t opt_max_message;
static unsigned long opt_max_fragments;

static void
setup(struct ts_ws *ws)
{
	ts_ws_init(ws);
	if (opt_max_message)
		ws->max_message = opt_max_message;
	if (opt_max_fragments)
		ws->max_fragments = opt_max_fragments;
}

static void
show(const char *what, const unsigned char *p, size_t n)
{
	size_t i;

	printf("\n    %s (%zu bytes): ", what, n);
	for (i = 0; i < n && i < 300; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f)
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
	if (n > 300)
		printf("...");
}

static int
same(const struct tr *a, const struct tr *b)
{
	return !a->overflow && !b->overflow && a->len == b->len &&
	    memcmp(a->buf, b->buf, a->len) == 0;
}

/*
 * Decode in[0..n) whole, byte by byte and split at every offset (every
 * stride-th one for inputs over 4 KiB, plus the first and last 64) and
 * want the transcript `want` every time.
 */
static int
decode(const unsigned char *in, size_t n, const void *want, size_t wlen)
{
	struct ts_ws ws;
	struct tr whole, other;
	size_t at, stride;

	tr_reset(&whole, 0);
	setup(&ws);
	feed(&ws, &whole, in, n, n ? n : 1, 0);
	if (whole.len != wlen || memcmp(whole.buf, want, wlen) != 0) {
		show("got ", whole.buf, whole.len);
		show("want", want, wlen);
		printf("\n");
		return 0;
	}
	tr_reset(&other, 1);
	setup(&ws);
	feed(&ws, &other, in, n, 1, 0);
	if (!same(&whole, &other)) {
		show("byte by byte", other.buf, other.len);
		printf("\n");
		return 0;
	}
	stride = n > 4096 ? n / 61 + 1 : 1;
	for (at = 0; at <= n; at++) {
		if (at > 64 && at + 64 < n && at % stride != 0)
			continue;
		tr_reset(&other, 1);
		setup(&ws);
		feed(&ws, &other, in, n, 0, at);
		if (!same(&whole, &other)) {
			printf("\n    split at %zu:", at);
			show("got", other.buf, other.len);
			printf("\n");
			return 0;
		}
	}
	return 1;
}

static int
decode_str(const unsigned char *in, size_t n, const char *want)
{
	return decode(in, n, want, strlen(want));
}

/*
 * Unmask and check one client frame out[0..n): FIN set, MASK set, the
 * given opcode; its payload goes to pay (room for n bytes).
 */
static int
client_frame(const unsigned char *out, size_t n, int opcode,
    unsigned char *pay, size_t *plen)
{
	size_t hlen, len, i;

	if (n < 6 || out[0] != (0x80 | opcode) || !(out[1] & 0x80))
		return 0;
	len = out[1] & 0x7f;
	hlen = 6;
	if (len == 126) {
		len = (size_t)out[2] << 8 | out[3];
		hlen = 8;
	} else if (len == 127) {
		len = 0;
		for (i = 2; i < 10; i++)
			len = len << 8 | out[i];
		hlen = 14;
	}
	if (hlen + len != n)
		return 0;
	for (i = 0; i < len; i++)
		pay[i] = out[hlen + i] ^ out[hlen - 4 + (i & 3)];
	*plen = len;
	return 1;
}

/* Push a whole input and drain, for the state machine cases. */
static int
push_all(struct ts_ws *ws, const unsigned char *in, size_t n, struct tr *t)
{
	feed(ws, t, in, n, n ? n : 1, 0);
	return !t->overflow;
}

/* ---------------------------------------------------------------- */
/* Handshake                                                         */
/* ---------------------------------------------------------------- */

static const char sample_key[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char sample_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static void
key_and_accept_rfc_1_3(void)
{
	struct ts_ws_hs hs;
	char key[25];

	ts_ws_key(key, (const unsigned char *)"the sample nonce");
	CHECK_STR(key, sample_key);
	ts_ws_hs_init(&hs, sample_key);
	CHECK_STR(hs.expect, sample_accept);
	memset(key, 'x', sizeof(key));
	ts_ws_key(key, (const unsigned char *)
	    "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\xff");
	CHECK_STR(key, "AAECAwQFBgcICQoLDA0O/w==");
}

/* Headers as "Name: value" lines, split here at the first colon. */
static int
hs_run(int status, const char *const *lines)
{
	struct ts_ws_hs hs;
	const char *colon;

	ts_ws_hs_init(&hs, sample_key);
	for (; *lines != NULL; lines++) {
		colon = strchr(*lines, ':');
		ts_ws_hs_header(&hs, *lines, (size_t)(colon - *lines),
		    colon + 1, strlen(colon + 1));
	}
	return ts_ws_hs_finish(&hs, status);
}

static void
handshake_good(void)
{
	const char *const plain[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const lists[] = {"Date: today", "UPGRADE: WebSocket",
	    "connection: keep-alive, Upgrade",
	    "SEC-WEBSOCKET-ACCEPT:\t s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \t",
	    "Server: x", NULL};
	const char *const odd[] = {"Upgrade: h2c , websocket",
	    "Connection: ,, upgrade\t,",
	    "Sec-WebSocket-Accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const split[] = {"Upgrade: foo", "Upgrade: websocket",
	    "Connection: keep-alive", "Connection: upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};

	CHECK_INT(hs_run(101, plain), 0);
	CHECK_INT(hs_run(101, lists), 0);
	CHECK_INT(hs_run(101, odd), 0);
	CHECK_INT(hs_run(101, split), 0);
}

static void
handshake_status(void)
{
	const char *const plain[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};

	CHECK_INT(hs_run(200, plain), TS_ERR_WS_STATUS);
	CHECK_INT(hs_run(401, plain), TS_ERR_WS_STATUS);
	CHECK_INT(hs_run(100, plain), TS_ERR_WS_STATUS);
}

static void
handshake_upgrade(void)
{
	const char *const none[] = {"Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const other[] = {"Upgrade: h2c", "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const longer[] = {"Upgrade: websockets",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const inner[] = {"Upgrade: web socket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};

	CHECK_INT(hs_run(101, none), TS_ERR_WS_UPGRADE);
	CHECK_INT(hs_run(101, other), TS_ERR_WS_UPGRADE);
	CHECK_INT(hs_run(101, longer), TS_ERR_WS_UPGRADE);
	CHECK_INT(hs_run(101, inner), TS_ERR_WS_UPGRADE);
}

static void
handshake_connection(void)
{
	const char *const none[] = {"Upgrade: websocket",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const other[] = {"Upgrade: websocket",
	    "Connection: keep-alive",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const glued[] = {"Upgrade: websocket",
	    "Connection: keep-alive upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const inname[] = {"Upgrade: websocket",
	    "X-Connection: upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};

	CHECK_INT(hs_run(101, none), TS_ERR_WS_CONNECTION);
	CHECK_INT(hs_run(101, other), TS_ERR_WS_CONNECTION);
	CHECK_INT(hs_run(101, glued), TS_ERR_WS_CONNECTION);
	CHECK_INT(hs_run(101, inname), TS_ERR_WS_CONNECTION);
}

static void
handshake_accept(void)
{
	const char *const none[] = {"Upgrade: websocket",
	    "Connection: Upgrade", NULL};
	const char *const wrong[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOO=", NULL};
	const char *const casefold[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=", NULL};
	const char *const twice[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", NULL};
	const char *const shorter[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo", NULL};
	const char *const extra[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=x", NULL};
	const char *const empty[] = {"Upgrade: websocket",
	    "Connection: Upgrade", "Sec-WebSocket-Accept:", NULL};

	CHECK_INT(hs_run(101, none), TS_ERR_WS_ACCEPT);
	CHECK_INT(hs_run(101, wrong), TS_ERR_WS_ACCEPT);
	CHECK_INT(hs_run(101, casefold), TS_ERR_WS_ACCEPT);
	CHECK_INT(hs_run(101, twice), TS_ERR_WS_ACCEPT);
	CHECK_INT(hs_run(101, shorter), TS_ERR_WS_ACCEPT);
	CHECK_INT(hs_run(101, extra), TS_ERR_WS_ACCEPT);
	CHECK_INT(hs_run(101, empty), TS_ERR_WS_ACCEPT);
}

static void
handshake_extension_protocol(void)
{
	const char *const ext[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
	    "sec-websocket-extensions: permessage-deflate", NULL};
	const char *const empty_ext[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
	    "Sec-WebSocket-Extensions:", NULL};
	const char *const proto[] = {"Upgrade: websocket",
	    "Connection: Upgrade",
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
	    "Sec-WebSocket-Protocol: chat", NULL};

	CHECK_INT(hs_run(101, ext), TS_ERR_WS_EXTENSION);
	CHECK_INT(hs_run(101, empty_ext), TS_ERR_WS_EXTENSION);
	CHECK_INT(hs_run(101, proto), TS_ERR_WS_PROTOCOL);
}

static void
handshake_binary_names(void)
{
	struct ts_ws_hs hs;

	/* Byte ranges, not C strings: a NUL inside a name is no match. */
	ts_ws_hs_init(&hs, sample_key);
	ts_ws_hs_header(&hs, "Upgrade\0x", 9, "websocket", 9);
	ts_ws_hs_header(&hs, "Upgrad", 6, "websocket", 9);
	CHECK_INT(hs.upgrade, 0);
	ts_ws_hs_header(&hs, "Upgrade", 7, "websocket\0", 10);
	CHECK_INT(hs.upgrade, 0);
	ts_ws_hs_header(&hs, "UpGrAdE", 7, "websocketXX", 9);
	CHECK_INT(hs.upgrade, 1);
}

/* ---------------------------------------------------------------- */
/* RFC 6455 §5.7 examples                                            */
/* ---------------------------------------------------------------- */

static void
rfc_single_unmasked_text(void)
{
	CHECK(decode_str(IN("\x81\x05Hello"), "D1:Hello|M1;"));
}

static void
rfc_masked_text_from_server(void)
{
	/* The §5.7 masked "Hello" is what a client sends; from a server
	 * it fails the connection. */
	CHECK(decode_str(IN("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
	    "E-507/1002;"));
}

static void
rfc_fragmented_text(void)
{
	CHECK(decode_str(IN("\x01\x03Hel\x80\x02lo"), "D1:Hello|M1;"));
}

static void
rfc_ping_and_pong(void)
{
	static const unsigned char pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21,
	    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX];

	CHECK(decode_str(IN("\x89\x05Hello"), "P:Hello;"));
	CHECK(decode_str(IN("\x8a\x05Hello"), "p:Hello;"));
	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(push_all(&ws, IN("\x89\x05Hello"), &t));
	CHECK(ts_ws_want_write(&ws));
	CHECK_INT(ts_ws_pending(&ws, out, sizeof(out), mask0), sizeof(pong));
	CHECK(memcmp(out, pong, sizeof(pong)) == 0);
	CHECK(!ts_ws_want_write(&ws));
	CHECK_INT(ts_ws_pending(&ws, out, sizeof(out), mask0), 0);
}

static unsigned char big_in[(1u << 20) + 64];
static unsigned char big_want[(1u << 20) + 64];

/* A frame header for len bytes (minimal encoding) at p; its length. */
static size_t
put_header(unsigned char *p, int b0, size_t len)
{
	size_t i;

	p[0] = (unsigned char)b0;
	if (len < 126) {
		p[1] = (unsigned char)len;
		return 2;
	}
	if (len < 65536) {
		p[1] = 126;
		p[2] = (unsigned char)(len >> 8);
		p[3] = (unsigned char)len;
		return 4;
	}
	p[1] = 127;
	for (i = 0; i < 8; i++)
		p[2 + i] = (unsigned char)((unsigned long long)len >>
		    (56 - 8 * i));
	return 10;
}

/* One binary (or text of 'a') frame of len bytes, decoded. */
static int
decode_one(int opcode, size_t len)
{
	size_t h, w;

	h = put_header(big_in, 0x80 | opcode, len);
	memset(big_in + h, 'a', len);
	if (opcode == TS_WS_OP_BINARY)
		for (w = 0; w < len; w++)
			big_in[h + w] = (unsigned char)(w * 7);
	w = (size_t)sprintf((char *)big_want, "D%d:", opcode);
	memcpy(big_want + w, big_in + h, len);
	w += len;
	w += (size_t)sprintf((char *)big_want + w, "|M%d;", opcode);
	return decode(big_in, h + len, big_want, w);
}

static void
rfc_256_bytes_16_bit_length(void)
{
	CHECK(decode_one(TS_WS_OP_BINARY, 256));
	CHECK(big_in[1] == 126 && big_in[2] == 1 && big_in[3] == 0);
	CHECK(decode_one(TS_WS_OP_BINARY, 126));
	CHECK(decode_one(TS_WS_OP_BINARY, 125));
	CHECK(decode_one(TS_WS_OP_BINARY, 65535));
}

static void
rfc_64k_64_bit_length(void)
{
	CHECK(decode_one(TS_WS_OP_BINARY, 65536));
	CHECK(memcmp(big_in, "\x82\x7f\0\0\0\0\0\x01\0\0", 10) == 0);
}

/* One frame from a fresh context. */
static int
send_frame(unsigned char *out, size_t outlen, int opcode,
    const void *payload, size_t len, const unsigned char mask[4])
{
	static struct ts_ws ws;

	ts_ws_init(&ws);
	return ts_ws_send(&ws, out, outlen, opcode, payload, len, mask);
}

static void
rfc_masked_hello_encoded(void)
{
	/* RFC 6455 §5.7: the masked Pong carrying "Hello". */
	static const unsigned char want[] = {0x8a, 0x85, 0x37, 0xfa, 0x21,
	    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	unsigned char out[32];

	CHECK_INT(send_frame(out, sizeof(out), TS_WS_OP_PONG, "Hello", 5,
	    mask0), sizeof(want));
	CHECK(memcmp(out, want, sizeof(want)) == 0);
	CHECK_INT(send_frame(out, 11, TS_WS_OP_PONG, "Hello", 5, mask0), 11);
	CHECK_INT(send_frame(out, 10, TS_WS_OP_PONG, "Hello", 5, mask0),
	    TS_ERR_WS_BUF_TOO_SMALL);
}

static void
encoder_lengths(void)
{
	unsigned char pay[TS_WS_CONTROL_MAX], out[TS_WS_CONTROL_FRAME_MAX];
	unsigned char back[TS_WS_CONTROL_MAX];
	size_t n, len;
	int r;

	for (n = 0; n < sizeof(pay); n++)
		pay[n] = (unsigned char)(n * 13 + 1);
	for (n = 0; n <= sizeof(pay); n++) {
		r = send_frame(out, sizeof(out), TS_WS_OP_PING, pay, n,
		    mask0);
		CHECK_INT(r, n + 6);
		CHECK(client_frame(out, (size_t)r, TS_WS_OP_PING, back,
		    &len));
		CHECK_INT(len, n);
		CHECK(memcmp(back, pay, n) == 0);
	}
	CHECK_INT(send_frame(out, sizeof(out), TS_WS_OP_PING, NULL, 0,
	    mask0), 6);
	CHECK(memcmp(out, "\x89\x80\x37\xfa\x21\x3d", 6) == 0);
}

static void
encoder_errors(void)
{
	unsigned char pay[200], out[300];

	memset(pay, 'x', sizeof(pay));
	CHECK_INT(send_frame(out, sizeof(out), TS_WS_OP_PING, pay, 126,
	    mask0), TS_ERR_WS_CONTROL_TOO_LONG);
	CHECK_INT(send_frame(out, sizeof(out), TS_WS_OP_PING, pay, 125,
	    mask0), 131);
	CHECK_INT(send_frame(out, sizeof(out), TS_WS_OP_PONG, pay,
	    (size_t)-1, mask0), TS_ERR_WS_CONTROL_TOO_LONG);
	/* The client sends no data messages. */
	CHECK_INT(send_frame(out, sizeof(out), TS_WS_OP_TEXT, pay, 1, mask0),
	    TS_ERR_WS_OPCODE);
	CHECK_INT(send_frame(out, sizeof(out), TS_WS_OP_BINARY, pay, 1,
	    mask0), TS_ERR_WS_OPCODE);
	CHECK_INT(send_frame(out, sizeof(out), 3, pay, 1, mask0),
	    TS_ERR_WS_OPCODE);
	CHECK_INT(send_frame(out, sizeof(out), 0xB, pay, 1, mask0),
	    TS_ERR_WS_OPCODE);
	CHECK_INT(send_frame(out, sizeof(out), 16, pay, 1, mask0),
	    TS_ERR_WS_OPCODE);
	CHECK_INT(send_frame(out, 5, TS_WS_OP_PING, NULL, 0, mask0),
	    TS_ERR_WS_BUF_TOO_SMALL);
	CHECK_INT(send_frame(out, 0, TS_WS_OP_PING, NULL, 0, mask0),
	    TS_ERR_WS_BUF_TOO_SMALL);
}

/* ---------------------------------------------------------------- */
/* Frame rules                                                       */
/* ---------------------------------------------------------------- */

static void
rule_rsv_bits(void)
{
	CHECK(decode_str(IN("\xc1\x05Hello"), "E-508/1002;"));
	CHECK(decode_str(IN("\xa1\x05Hello"), "E-508/1002;"));
	CHECK(decode_str(IN("\x91\x05Hello"), "E-508/1002;"));
	CHECK(decode_str(IN("\x81\x05Hello\xf2\x00"),
	    "D1:Hello|M1;E-508/1002;"));
}

static void
rule_reserved_opcodes(void)
{
	unsigned char in[2];
	int op;

	for (op = 0; op < 16; op++) {
		if (op <= 2 || (op >= 8 && op <= 10))
			continue;
		in[0] = (unsigned char)(0x80 | op);
		in[1] = 0;
		CHECK(decode_str(in, 2, "E-509/1002;"));
		in[0] = (unsigned char)op;
		CHECK(decode_str(in, 2, "E-509/1002;"));
	}
}

static void
rule_masked_frame(void)
{
	CHECK(decode_str(IN("\x82\x80\0\0\0\0"), "E-507/1002;"));
	CHECK(decode_str(IN("\x89\x81\1\2\3\4x"), "E-507/1002;"));
}

static void
rule_control_fragmented(void)
{
	CHECK(decode_str(IN("\x09\x00"), "E-511/1002;"));
	CHECK(decode_str(IN("\x0a\x00"), "E-511/1002;"));
	CHECK(decode_str(IN("\x08\x02\x03\xe8"), "E-511/1002;"));
}

static void
rule_control_too_long(void)
{
	static unsigned char in[200];

	CHECK(decode_str(IN("\x89\x7e\x00\x7e"), "E-510/1002;"));
	CHECK(decode_str(IN("\x8a\x7f"), "E-510/1002;"));
	CHECK(decode_str(IN("\x88\x7e\x00\x7e"), "E-510/1002;"));
	/* 125 bytes is the most a control frame holds, and it passes. */
	in[0] = 0x89;
	in[1] = 125;
	memset(in + 2, 'z', 125);
	memcpy(big_want, "P:", 2);
	memset(big_want + 2, 'z', 125);
	big_want[127] = ';';
	CHECK(decode(in, 127, big_want, 128));
}

static void
rule_length_encoding(void)
{
	/* The 64-bit length must have its top bit clear. */
	CHECK(decode_str(IN("\x82\x7f\x80\0\0\0\0\0\0\0"), "E-512/1002;"));
	CHECK(decode_str(IN("\x82\x7f\xff"), "E-512/1002;"));
	/* Non-minimal encodings are rejected. */
	CHECK(decode_str(IN("\x82\x7e\x00\x7d"), "E-512/1002;"));
	CHECK(decode_str(IN("\x82\x7e\x00\x00"), "E-512/1002;"));
	CHECK(decode_str(IN("\x82\x7f\0\0\0\0\0\0\xff\xff"), "E-512/1002;"));
	CHECK(decode_str(IN("\x82\x7f\0\0\0\0\0\0\0\x05"), "E-512/1002;"));
	/* A huge but legal length is refused by the size limit instead. */
	CHECK(decode_str(IN("\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"),
	    "E-518/1009;"));
	/* The boundaries themselves are fine: 126 in 16 bits, 65536 in 64. */
	CHECK(decode_one(TS_WS_OP_TEXT, 126));
}

static void
rule_continuation_outside_message(void)
{
	CHECK(decode_str(IN("\x80\x02lo"), "E-513/1002;"));
	CHECK(decode_str(IN("\x00\x02lo"), "E-513/1002;"));
	CHECK(decode_str(IN("\x81\x02hi\x80\x02lo"), "D1:hi|M1;E-513/1002;"));
}

static void
rule_new_message_inside_fragmented(void)
{
	CHECK(decode_str(IN("\x01\x01" "a" "\x81\x01" "b"),
	    "D1:aE-514/1002;"));
	CHECK(decode_str(IN("\x01\x01" "a" "\x02\x01" "b"),
	    "D1:aE-514/1002;"));
	CHECK(decode_str(IN("\x02\x00\x82\x00"), "E-514/1002;"));
}

static void
rule_control_between_fragments(void)
{
	CHECK(decode_str(IN("\x01\x03Hel\x89\x00\x8a\x02hi\x80\x02lo"),
	    "D1:HelP:;p:hi;+lo|M1;"));
	CHECK(decode_str(IN("\x02\x01\x01\x89\x01z\x00\x00\x89\x00\x80\x01"
	    "\x02"), "D2:\x01P:z;P:;+\x02|M2;"));
	/* A close inside a message ends it all. */
	CHECK(decode_str(IN("\x01\x03Hel\x88\x02\x03\xe8\x80\x02lo"),
	    "D1:HelC1000:;"));
}

static void
empty_messages_and_frames(void)
{
	CHECK(decode_str(IN("\x81\x00"), "|M1;"));
	CHECK(decode_str(IN("\x82\x00"), "|M2;"));
	CHECK(decode_str(IN("\x01\x00\x00\x00\x80\x00"), "|M1;"));
	CHECK(decode_str(IN("\x01\x00\x00\x02hi\x80\x00"), "D1:hi|M1;"));
	CHECK(decode_str(IN("\x89\x00\x8a\x00"), "P:;p:;"));
	CHECK(decode_str(IN("\x81\x00\x81\x01x\x82\x00"), "|M1;D1:x|M1;|M2;"));
	CHECK(decode_str(IN(""), ""));
}

static void
several_messages(void)
{
	static const char want[] = "D1:Hello|M1;D2:\x00\x01\x02|M2;D1:ok|M1;";

	CHECK(decode(IN("\x81\x05Hello\x82\x03\x00\x01\x02\x81\x02ok"),
	    want, sizeof(want) - 1));
}

/* ---------------------------------------------------------------- */
/* Close frames                                                      */
/* ---------------------------------------------------------------- */

static int
decode_close(int code, const char *want)
{
	unsigned char in[4];

	in[0] = 0x88;
	in[1] = 2;
	in[2] = (unsigned char)(code >> 8);
	in[3] = (unsigned char)code;
	return decode_str(in, 4, want);
}

static void
close_codes_accepted(void)
{
	static const int ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009,
	    1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
	char want[32];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(want, sizeof(want), "C%d:;", ok[i]);
		CHECK(decode_close(ok[i], want));
	}
}

static void
close_codes_rejected(void)
{
	static const int bad[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016,
	    1100, 2000, 2999, 5000, 65535};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(decode_close(bad[i], "E-517/1002;"));
}

static void
close_payloads(void)
{
	static unsigned char in[200];
	char want[200];

	CHECK(decode_str(IN("\x88\x00"), "C1005:;"));
	CHECK(decode_str(IN("\x88\x01\x03"), "E-516/1002;"));
	CHECK(decode_str(IN("\x88\x05\x03\xe8" "bye"), "C1000:bye;"));
	CHECK(decode_str(IN("\x88\x07\x0f\xa0\xc3\xa9t\xc3\xa9"),
	    "C4000:\xc3\xa9t\xc3\xa9;"));
	/* A reason that is not UTF-8, or ends inside a character. */
	CHECK(decode_str(IN("\x88\x03\x03\xe8\xff"), "E-515/1007;"));
	CHECK(decode_str(IN("\x88\x04\x03\xe8" "a\xc3"), "E-515/1007;"));
	CHECK(decode_str(IN("\x88\x05\x03\xe8\xed\xa0\x80"), "E-515/1007;"));
	/* The longest reason: 123 bytes. */
	in[0] = 0x88;
	in[1] = 125;
	in[2] = 0x03;
	in[3] = 0xe9;
	memset(in + 4, 'r', 123);
	memcpy(want, "C1001:", 6);
	memset(want + 6, 'r', 123);
	memcpy(want + 129, ";", 2);
	CHECK(decode_str(in, 127, want));
}

static void
bytes_after_close_ignored(void)
{
	struct ts_ws ws;
	unsigned char in[] = "\x88\x02\x03\xe8\x81\x05Hello\xff\xff";

	CHECK(decode_str(IN("\x88\x02\x03\xe8\x81\x05Hello\xff\xff"),
	    "C1000:;"));
	ts_ws_init(&ws);
	CHECK_INT(ts_ws_push(&ws, in, sizeof(in) - 1), 4);
	CHECK_INT(ts_ws_event(&ws), TS_WS_EV_CLOSE);
	CHECK_INT(ts_ws_push(&ws, in + 4, sizeof(in) - 5), sizeof(in) - 5);
	CHECK_INT(ts_ws_event(&ws), 0);
}

/* ---------------------------------------------------------------- */
/* UTF-8                                                             */
/* ---------------------------------------------------------------- */

/*
 * The text s (n bytes) as one text frame, then as one frame per byte
 * (each byte a fragment), decoded to the transcript want_whole /
 * want_frag.
 */
static int
utf8_case(const char *s, size_t n, const char *want_whole,
    const char *want_frag)
{
	unsigned char in[400];
	size_t i, k;

	in[0] = 0x81;
	in[1] = (unsigned char)n;
	memcpy(in + 2, s, n);
	if (!decode_str(in, n + 2, want_whole))
		return 0;
	if (n == 0)
		return 1;
	k = 0;
	for (i = 0; i < n; i++) {
		in[k++] = i == 0 ? (i + 1 == n ? 0x81 : 0x01) :
		    (i + 1 == n ? 0x80 : 0x00);
		in[k++] = 1;
		in[k++] = (unsigned char)s[i];
	}
	return decode_str(in, k, want_frag);
}

static int
utf8_good(const char *s)
{
	char want[300];

	snprintf(want, sizeof(want), "D1:%s|M1;", s);
	return utf8_case(s, strlen(s), want, want);
}

/* Bad text: the pieces before the failure are `prefix`. */
static int
utf8_bad(const char *s, const char *prefix)
{
	char want[300];

	if (*prefix)
		snprintf(want, sizeof(want), "D1:%sE-515/1007;", prefix);
	else
		snprintf(want, sizeof(want), "E-515/1007;");
	return utf8_case(s, strlen(s), want, want);
}

static void
utf8_boundaries_pass(void)
{
	CHECK(utf8_good("\x7f"));			/* U+007F */
	CHECK(utf8_good("\xc2\x80"));			/* U+0080 */
	CHECK(utf8_good("\xdf\xbf"));			/* U+07FF */
	CHECK(utf8_good("\xe0\xa0\x80"));		/* U+0800 */
	CHECK(utf8_good("\xed\x9f\xbf"));		/* U+D7FF */
	CHECK(utf8_good("\xee\x80\x80"));		/* U+E000 */
	CHECK(utf8_good("\xef\xbf\xbf"));		/* U+FFFF */
	CHECK(utf8_good("\xf0\x90\x80\x80"));		/* U+10000 */
	CHECK(utf8_good("\xf4\x8f\xbf\xbf"));		/* U+10FFFF */
	CHECK(utf8_good("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));
	CHECK(decode(IN("\x81\x01\0"), "D1:\0|M1;", 8));
}

static void
utf8_invalid_classes(void)
{
	/* Lone continuation bytes and impossible lead bytes. */
	CHECK(utf8_bad("\x80", ""));
	CHECK(utf8_bad("a\xbf", "a"));
	CHECK(utf8_bad("\xfe", ""));
	CHECK(utf8_bad("\xff", ""));
	CHECK(utf8_bad("ab\xf5\x80\x80\x80", "ab"));
	CHECK(utf8_bad("\xf8\x88\x80\x80\x80", ""));
	/* Overlong forms, caught at the first byte that proves them. */
	CHECK(utf8_bad("\xc0\x80", ""));
	CHECK(utf8_bad("\xc1\xbf", ""));
	CHECK(utf8_bad("\xe0\x80\x80", "\xe0"));
	CHECK(utf8_bad("\xe0\x9f\xbf", "\xe0"));
	CHECK(utf8_bad("\xf0\x80\x80\x80", "\xf0"));
	CHECK(utf8_bad("\xf0\x8f\xbf\xbf", "\xf0"));
	/* Surrogates U+D800-U+DFFF. */
	CHECK(utf8_bad("\xed\xa0\x80", "\xed"));
	CHECK(utf8_bad("\xed\xbf\xbf", "\xed"));
	CHECK(utf8_bad("\xed\xa0\x80\xed\xb0\x80", "\xed"));
	/* Above U+10FFFF: F4 90 fails at its second byte. */
	CHECK(utf8_bad("\xf4\x90\x80\x80", "\xf4"));
	CHECK(utf8_bad("x\xf4\xbf", "x\xf4"));
	/* A continuation byte missing in the middle. */
	CHECK(utf8_bad("\xc2\x41", "\xc2"));
	CHECK(utf8_bad("\xe1\x80\x41", "\xe1\x80"));
	CHECK(utf8_bad("\xf1\x80\x80\xc2\x80", "\xf1\x80\x80"));
	CHECK(utf8_bad("\xe1\xc0", "\xe1"));
}

static void
utf8_truncated_at_message_end(void)
{
	CHECK(utf8_bad("\xc2", "\xc2"));
	CHECK(utf8_bad("ok\xe1\x80", "ok\xe1\x80"));
	CHECK(utf8_bad("\xf0\x90\x80", "\xf0\x90\x80"));
	/* Ending inside a character is fine while the message goes on. */
	CHECK(decode_str(IN("\x01\x01\xc2\x89\x00\x80\x01\x80"),
	    "D1:\xc2P:;+\x80|M1;"));
	CHECK(decode_str(IN("\x01\x01\xc2\x80\x00"), "D1:\xc2" "E-515/1007;"));
}

static void
utf8_split_across_fragments(void)
{
	CHECK(decode_str(IN("\x01\x02\xf0\x90\x00\x01\x80\x80\x01\x80"),
	    "D1:\xf0\x90\x80\x80|M1;"));
	CHECK(decode_str(IN("\x01\x01\xed\x80\x01\xa0"),
	    "D1:\xed" "E-515/1007;"));
	CHECK(decode_str(IN("\x01\x01\xf4\x80\x01\x90"),
	    "D1:\xf4" "E-515/1007;"));
	/* Binary messages are not checked. */
	CHECK(decode_str(IN("\x02\x01\xff\x80\x01\xc0"),
	    "D2:\xff\xc0|M2;"));
	/* A new text message starts with a clean UTF-8 state. */
	CHECK(decode_str(IN("\x82\x01\xc2\x81\x01\x80"),
	    "D2:\xc2|M2;E-515/1007;"));
}

static void
utf8_fails_at_first_impossible_byte(void)
{
	struct ts_ws ws;
	static const unsigned char in[] = "\x81\x04\xf4\x90\x80\x80";

	/* The push stops after F4 (a valid start) and never hands out 90. */
	ts_ws_init(&ws);
	CHECK_INT(ts_ws_push(&ws, in, 6), 3);
	CHECK_INT(ts_ws_event(&ws), TS_WS_EV_DATA);
	CHECK_INT(ws.data_len, 1);
	CHECK(ws.data == in + 2);
	CHECK_INT(ts_ws_event(&ws), 0);
	CHECK_INT(ts_ws_push(&ws, in + 3, 3), 0);
	CHECK_INT(ts_ws_event(&ws), TS_ERR_WS_UTF8);
	CHECK_INT(ws.fail_code, 1007);
	/* Sticky. */
	CHECK_INT(ts_ws_event(&ws), TS_ERR_WS_UTF8);
	CHECK_INT(ts_ws_push(&ws, in, 6), 0);
	CHECK_INT(ts_ws_event(&ws), TS_ERR_WS_UTF8);
}

/*
 * One text frame holding s[0..n) (n < 126) decoded whole and split
 * everywhere: the first `good` bytes come out as data, then the message
 * ends (good == n) or fails with 1007.
 */
static int
text_run(const unsigned char *s, size_t n, size_t good)
{
	unsigned char in[128];
	char want[200];
	size_t k = 0;

	in[0] = 0x81;
	in[1] = (unsigned char)n;
	memcpy(in + 2, s, n);
	if (good > 0) {
		memcpy(want, "D1:", 3);
		memcpy(want + 3, s, good);
		k = 3 + good;
	}
	if (good == n)
		memcpy(want + k, "|M1;", 5);
	else
		memcpy(want + k, "E-515/1007;", 12);
	return decode(in, n + 2, want, strlen(want + k) + k);
}

/*
 * ASCII runs are skipped a word at a time (32 bytes, then 8, then a
 * word overlapping the tail): at every offset of runs around those
 * sizes, a bad byte, a good character, a good character followed later
 * by a bad byte, and a character cut short by ASCII must give what the
 * byte machine gives.
 */
static void
utf8_ascii_runs(void)
{
	static const char *const chars[] = {
		"\xc2\x80", "\xe1\x80\x80", "\xf0\x90\x80\x80",
		"\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
	};
	static const size_t lens[] = {
		1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 39, 40, 41,
		47, 63, 64, 65, 71, 72, 73, 95, 96, 97, 100,
	};
	unsigned char s[128];
	const char *ch;
	size_t li, len, at, cl;

	for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		len = lens[li];
		for (at = 0; at < len; at++) {
			ch = chars[(len + at) % 6];
			cl = strlen(ch);
			/* A byte that never starts a character. */
			memset(s, 'a', len);
			s[at] = at % 2 ? 0x80 : 0xff;
			CHECK(text_run(s, len, at));
			/* A good character at `at`, ASCII around it. */
			memset(s, 'a', len + cl);
			memcpy(s + at, ch, cl);
			CHECK(text_run(s, len + cl - 1, len + cl - 1));
			/* ... and a bad byte at the end. */
			s[len + cl - 1] = 0xc0;
			CHECK(text_run(s, len + cl, len + cl - 1));
			/* A lead byte whose continuation is ASCII. */
			memset(s, 'a', len + 1);
			s[at] = (unsigned char)ch[0];
			CHECK(text_run(s, len + 1, at + 1));
		}
	}
}

/* ---------------------------------------------------------------- */
/* Limits                                                            */
/* ---------------------------------------------------------------- */

static void
max_message_default(void)
{
	size_t h, w;

	opt_max_message = 0;
	/* Exactly 1 MiB passes, whole and split. */
	CHECK(decode_one(TS_WS_OP_TEXT, 1048576));
	/* One byte more fails at the header, before any data goes out. */
	h = put_header(big_in, 0x81, 1048577);
	memset(big_in + h, 'a', 1048577);
	CHECK(decode_str(big_in, h + 1048577, "E-518/1009;"));
	/* Two fragments of 512 KiB pass; one byte more fails at the
	 * second header. */
	h = put_header(big_in, 0x01, 524288);
	memset(big_in + h, 'b', 524288);
	w = h + 524288;
	w += put_header(big_in + w, 0x80, 524288);
	memset(big_in + w, 'c', 524288);
	w += 524288;
	memcpy(big_want, "D1:", 3);
	memset(big_want + 3, 'b', 524288);
	memset(big_want + 3 + 524288, 'c', 524288);
	memcpy(big_want + 3 + 1048576, "|M1;", 4);
	CHECK(decode(big_in, w, big_want, 3 + 1048576 + 4));
	big_in[h + 524288 + 1] = 127;
	memset(big_in + h + 524288 + 2, 0, 6);
	big_in[h + 524288 + 7] = 0x08;
	big_in[h + 524288 + 8] = 0x00;
	big_in[h + 524288 + 9] = 0x01;
	memcpy(big_want + 3 + 524288, "E-518/1009;", 11);
	CHECK(decode(big_in, h + 524288 + 10, big_want, 3 + 524288 + 11));
}

static void
max_message_small(void)
{
	opt_max_message = 5;
	CHECK(decode_str(IN("\x81\x05Hello"), "D1:Hello|M1;"));
	CHECK(decode_str(IN("\x81\x06Hello!"), "E-518/1009;"));
	CHECK(decode_str(IN("\x01\x03Hel\x80\x03lo!"), "D1:HelE-518/1009;"));
	/* Control frames do not count. */
	CHECK(decode_str(IN("\x01\x03Hel\x89\x06" "abcdef\x80\x02lo"),
	    "D1:HelP:abcdef;+lo|M1;"));
	/* Each message starts from zero. */
	CHECK(decode_str(IN("\x81\x05Hello\x81\x05Hello"),
	    "D1:Hello|M1;D1:Hello|M1;"));
	opt_max_message = 0;
}

static void
max_fragments(void)
{
	static unsigned char in[1100 * 3];
	size_t i, k;
	char want[1200];

	opt_max_fragments = 3;
	CHECK(decode_str(IN("\x01\x01" "a" "\x00\x01" "b" "\x80\x01" "c"),
	    "D1:abc|M1;"));
	CHECK(decode_str(IN("\x01\x01" "a" "\x00\x01" "b" "\x00\x01" "c"
	    "\x80\x01" "d"), "D1:abcE-519/1009;"));
	CHECK(decode_str(IN("\x01\x00\x00\x00\x00\x00\x80\x00"),
	    "E-519/1009;"));
	opt_max_fragments = 0;
	/* The default, 1024: 1024 frames pass, 1025 fail. */
	for (k = 0, i = 0; i < 1024; i++) {
		in[k++] = i == 0 ? 0x01 : i == 1023 ? 0x80 : 0x00;
		in[k++] = 1;
		in[k++] = 'x';
	}
	memcpy(want, "D1:", 3);
	memset(want + 3, 'x', 1024);
	strcpy(want + 3 + 1024, "|M1;");
	CHECK(decode_str(in, k, want));
	in[k - 3] = 0x00;
	in[k++] = 0x80;
	in[k++] = 1;
	in[k++] = 'x';
	strcpy(want + 3 + 1024, "E-519/1009;");
	CHECK(decode_str(in, k, want));
}

/* ---------------------------------------------------------------- */
/* Push contract, close handshake, replies                           */
/* ---------------------------------------------------------------- */

static void
push_stops_at_each_event(void)
{
	struct ts_ws ws;
	static const unsigned char in[] = "\x81\x02hi\x89\x01p\x81\x00";

	ts_ws_init(&ws);
	CHECK_INT(ts_ws_push(&ws, in, 9), 4);
	/* An event waits: push takes nothing until it is drained. */
	CHECK_INT(ts_ws_push(&ws, in + 4, 5), 0);
	CHECK_INT(ts_ws_event(&ws), TS_WS_EV_DATA);
	CHECK(ws.data == in + 2);
	CHECK_INT(ws.data_len, 2);
	CHECK_INT(ws.msg_opcode, TS_WS_OP_TEXT);
	/* The end of the message needs no more input. */
	CHECK_INT(ts_ws_event(&ws), TS_WS_EV_MESSAGE);
	CHECK_INT(ts_ws_event(&ws), 0);
	CHECK_INT(ts_ws_push(&ws, in + 4, 5), 3);
	CHECK_INT(ts_ws_event(&ws), TS_WS_EV_PING);
	CHECK_INT(ws.ctl_len, 1);
	CHECK_INT(ws.ctl[0], 'p');
	CHECK_INT(ts_ws_push(&ws, in + 7, 2), 2);
	CHECK_INT(ts_ws_event(&ws), TS_WS_EV_MESSAGE);
	CHECK_INT(ts_ws_event(&ws), 0);
}

static void
close_from_server(void)
{
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX], pay[200];
	size_t n;
	int r;

	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(push_all(&ws, IN("\x88\x04\x0f\xa0ok"), &t));
	CHECK_MEM(t.buf, t.len, "C4000:ok;");
	CHECK(ts_ws_want_write(&ws));
	/* Nothing but the answer may go out now. */
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_PING, "x", 1,
	    mask0), TS_ERR_WS_CLOSED);
	CHECK_INT(ts_ws_pending(&ws, out, 7, mask0), TS_ERR_WS_BUF_TOO_SMALL);
	CHECK(ts_ws_want_write(&ws));
	r = ts_ws_pending(&ws, out, sizeof(out), mask0);
	CHECK_INT(r, 8);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_CLOSE, pay, &n));
	CHECK_INT(n, 2);
	CHECK_INT(pay[0] << 8 | pay[1], 4000);
	/* Exactly once. */
	CHECK(!ts_ws_want_write(&ws));
	CHECK_INT(ts_ws_pending(&ws, out, sizeof(out), mask0), 0);
	CHECK_INT(ts_ws_close(&ws, out, sizeof(out), 1000, mask0),
	    TS_ERR_WS_CLOSED);
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_PING, "", 0,
	    mask0), TS_ERR_WS_CLOSED);
}

static void
close_from_server_empty(void)
{
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX], pay[200];
	size_t n;
	int r;

	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(push_all(&ws, IN("\x88\x00"), &t));
	CHECK_INT(ws.close_code, 1005);
	r = ts_ws_pending(&ws, out, sizeof(out), mask0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_CLOSE, pay, &n));
	CHECK_INT(n, 2);
	CHECK_INT(pay[0] << 8 | pay[1], 1000);
}

static void
close_answered_by_our_own_close(void)
{
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX], pay[200];
	size_t n;
	int r;

	/* The application's own close counts as the answer. */
	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(push_all(&ws, IN("\x88\x02\x03\xe9"), &t));
	r = ts_ws_close(&ws, out, sizeof(out), 1000, mask0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_CLOSE, pay, &n));
	CHECK_INT(pay[0] << 8 | pay[1], 1000);
	CHECK(!ts_ws_want_write(&ws));
}

static void
close_from_client(void)
{
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX], pay[200];
	size_t n;
	int r;

	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK_INT(ts_ws_close(&ws, out, sizeof(out), 999, mask0),
	    TS_ERR_WS_CLOSE_CODE);
	CHECK_INT(ts_ws_close(&ws, out, sizeof(out), 1005, mask0),
	    TS_ERR_WS_CLOSE_CODE);
	CHECK_INT(ts_ws_close(&ws, out, 7, 1000, mask0),
	    TS_ERR_WS_BUF_TOO_SMALL);
	r = ts_ws_close(&ws, out, sizeof(out), 1001, mask0);
	CHECK_INT(r, 8);
	CHECK(memcmp(out, "\x88\x82\x37\xfa\x21\x3d", 6) == 0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_CLOSE, pay, &n));
	CHECK_INT(pay[0] << 8 | pay[1], 1001);
	/* After our close nothing more goes out. */
	CHECK_INT(ts_ws_close(&ws, out, sizeof(out), 1000, mask0),
	    TS_ERR_WS_CLOSED);
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_PING, "x", 1,
	    mask0), TS_ERR_WS_CLOSED);
	CHECK(!ts_ws_want_write(&ws));
	/* The server may still send data, and pings go unanswered. */
	CHECK(push_all(&ws, IN("\x81\x02hi\x89\x01p"), &t));
	CHECK_MEM(t.buf, t.len, "D1:hi|M1;P:p;");
	CHECK(!ts_ws_want_write(&ws));
	CHECK(push_all(&ws, IN("\x88\x02\x03\xe9"), &t));
	CHECK_MEM(t.buf, t.len, "D1:hi|M1;P:p;C1001:;");
	CHECK(!ts_ws_want_write(&ws));
	CHECK_INT(ts_ws_pending(&ws, out, sizeof(out), mask0), 0);
}

static void
pong_for_latest_ping_only(void)
{
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX], pay[200];
	size_t n;
	int r;

	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(!ts_ws_want_write(&ws));
	CHECK(push_all(&ws, IN("\x89\x03one\x89\x03two\x89\x05three"), &t));
	CHECK(ts_ws_want_write(&ws));
	r = ts_ws_pending(&ws, out, sizeof(out), mask0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_PONG, pay, &n));
	CHECK_MEM(pay, n, "three");
	CHECK(!ts_ws_want_write(&ws));
	/* A later ping between fragments, then a pong is pending again. */
	CHECK(push_all(&ws, IN("\x01\x01x\x89\x00"), &t));
	r = ts_ws_pending(&ws, out, sizeof(out), mask0);
	CHECK_INT(r, 6);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_PONG, pay, &n));
	CHECK_INT(n, 0);
	/* The application can still send. */
	r = ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_PING, "hb", 2, mask0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_PING, pay, &n));
	CHECK_MEM(pay, n, "hb");
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_TEXT, "{}", 2,
	    mask0), TS_ERR_WS_OPCODE);
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_CLOSE, "", 0,
	    mask0), TS_ERR_WS_OPCODE);
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_CONT, "", 0,
	    mask0), TS_ERR_WS_OPCODE);
	memset(pay, 'p', 126);
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_PING, pay, 126,
	    mask0), TS_ERR_WS_CONTROL_TOO_LONG);
}

static void
ping_then_close_drops_pong(void)
{
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX], pay[200];
	size_t n;
	int r;

	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(push_all(&ws, IN("\x89\x01p\x88\x02\x03\xe8"), &t));
	r = ts_ws_pending(&ws, out, sizeof(out), mask0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_CLOSE, pay, &n));
	CHECK(!ts_ws_want_write(&ws));
	CHECK_INT(ts_ws_pending(&ws, out, sizeof(out), mask0), 0);
}

static void
error_then_only_the_failing_close(void)
{
	struct ts_ws ws;
	struct tr t;
	unsigned char out[TS_WS_CONTROL_FRAME_MAX], pay[200];
	size_t n;
	int r;

	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(push_all(&ws, IN("\x89\x01p\xc1\x00"), &t));
	CHECK_MEM(t.buf, t.len, "P:p;E-508/1002;");
	CHECK(ts_ws_want_write(&ws));
	CHECK_INT(ts_ws_send(&ws, out, sizeof(out), TS_WS_OP_PING, "x", 1,
	    mask0), TS_ERR_WS_CLOSED);
	/* The pong is forgotten: the close carrying 1002 comes instead. */
	r = ts_ws_pending(&ws, out, sizeof(out), mask0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_CLOSE, pay, &n));
	CHECK_INT(n, 2);
	CHECK_INT(pay[0] << 8 | pay[1], 1002);
	CHECK(!ts_ws_want_write(&ws));
	CHECK_INT(ts_ws_pending(&ws, out, sizeof(out), mask0), 0);
	CHECK_INT(ts_ws_close(&ws, out, sizeof(out), 1000, mask0),
	    TS_ERR_WS_CLOSED);

	/* ts_ws_close() after an error sends fail_code, whatever asked. */
	ts_ws_init(&ws);
	tr_reset(&t, 2);
	CHECK(push_all(&ws, IN("\x81\x01\xff"), &t));
	CHECK_INT(ws.fail_code, 1007);
	r = ts_ws_close(&ws, out, sizeof(out), 1000, mask0);
	CHECK(client_frame(out, (size_t)r, TS_WS_OP_CLOSE, pay, &n));
	CHECK_INT(pay[0] << 8 | pay[1], 1007);
}

static void
fail_code_zero_without_error(void)
{
	struct ts_ws ws;

	ts_ws_init(&ws);
	CHECK_INT(ws.fail_code, 0);
	CHECK_INT(ws.max_message, 1048576);
	CHECK_INT(ws.max_fragments, 1024);
	CHECK_INT(ts_ws_event(&ws), 0);
	CHECK_INT(ts_ws_push(&ws, NULL, 0), 0);
	CHECK(!ts_ws_want_write(&ws));
}

static void
limit_lowered_mid_message(void)
{
	struct ts_ws ws;
	struct tr t;

	/* The header says "before the first push", but a caller that
	 * lowers the limit under a message in progress still gets 1009. */
	tr_reset(&t, 2);
	ts_ws_init(&ws);
	CHECK(push_all(&ws, IN("\x01\x05Hello"), &t));
	ws.max_message = 3;
	CHECK(push_all(&ws, IN("\x80\x00"), &t));
	CHECK_MEM(t.buf, t.len, "D1:HelloE-518/1009;");
}

/* Regressions found by fuzz/fuzz_ws.c go here (none so far). */

static const struct test_case cases[] = {
	TEST(key_and_accept_rfc_1_3),
	TEST(handshake_good),
	TEST(handshake_status),
	TEST(handshake_upgrade),
	TEST(handshake_connection),
	TEST(handshake_accept),
	TEST(handshake_extension_protocol),
	TEST(handshake_binary_names),
	TEST(rfc_single_unmasked_text),
	TEST(rfc_masked_text_from_server),
	TEST(rfc_fragmented_text),
	TEST(rfc_ping_and_pong),
	TEST(rfc_256_bytes_16_bit_length),
	TEST(rfc_64k_64_bit_length),
	TEST(rfc_masked_hello_encoded),
	TEST(encoder_lengths),
	TEST(encoder_errors),
	TEST(rule_rsv_bits),
	TEST(rule_reserved_opcodes),
	TEST(rule_masked_frame),
	TEST(rule_control_fragmented),
	TEST(rule_control_too_long),
	TEST(rule_length_encoding),
	TEST(rule_continuation_outside_message),
	TEST(rule_new_message_inside_fragmented),
	TEST(rule_control_between_fragments),
	TEST(empty_messages_and_frames),
	TEST(several_messages),
	TEST(close_codes_accepted),
	TEST(close_codes_rejected),
	TEST(close_payloads),
	TEST(bytes_after_close_ignored),
	TEST(utf8_boundaries_pass),
	TEST(utf8_invalid_classes),
	TEST(utf8_truncated_at_message_end),
	TEST(utf8_split_across_fragments),
	TEST(utf8_fails_at_first_impossible_byte),
	TEST(utf8_ascii_runs),
	TEST(max_message_default),
	TEST(max_message_small),
	TEST(max_fragments),
	TEST(push_stops_at_each_event),
	TEST(close_from_server),
	TEST(close_from_server_empty),
	TEST(close_answered_by_our_own_close),
	TEST(close_from_client),
	TEST(pong_for_latest_ping_only),
	TEST(ping_then_close_drops_pong),
	TEST(error_then_only_the_failing_close),
	TEST(fail_code_zero_without_error),
	TEST(limit_lowered_mid_message),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
