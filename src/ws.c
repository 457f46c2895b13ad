/*
 * ws: RFC 6455 (The WebSocket Protocol) for a client, as a byte machine:
 * no I/O, no allocation, no randomness (the caller gives the key nonce
 * and every mask).
 *
 * Sections implemented: §1.3 and §4.1-§4.2.2 (the key, the accept value
 * and the client's checks of the server's handshake), §5.1-§5.8
 * (framing, masking, fragmentation, control frames), §7.1.5-§7.4 (close
 * status codes) and §8.1 (UTF-8 of text messages and close reasons).
 * No extension and no subprotocol is ever offered.
 *
 * The decoder has two layers, as wslay has:
 *
 *   frame layer: header_byte() takes the frame header one byte at a time
 *	and checks what a single frame must satisfy (RSV bits, opcode,
 *	mask bit, length encoding, control frame size and FIN), gathering
 *	the payload length in ws->remaining;
 *   message layer: begin_frame(), the payload loop in ts_ws_push() and
 *	end_frame() keep the message state (fragments, size limit, UTF-8,
 *	control frames between fragments, the close frame).
 *
 * States of the decoder (ws->state):
 *
 *   TS_WS_ST_HEADER   collecting hdr_need header bytes;
 *   TS_WS_ST_PAYLOAD  remaining payload bytes of the current frame: data
 *		       pieces go out zero-copy, control payloads are copied
 *		       into ws->ctl; at remaining == 0, end_frame();
 *   TS_WS_ST_CLOSED   the server's close was received: the rest of the
 *		       input is consumed and ignored (§5.5.1: after a close
 *		       the peer sends no more data frames).
 *
 * Any violation sets ws->err (sticky) and ws->fail_code, the status of
 * the close the client must send: 1002 protocol error, 1007 invalid
 * UTF-8, 1009 message too big.  Every check looks only at bytes already
 * seen, one byte at a time (runs of ASCII text a word at a time, which
 * decides nothing else), so any split of the input gives the same events
 * and the same error at the same byte.
 *
 * Choices where the RFC leaves room:
 *   - non-minimal length encodings (126 with a length < 126, 127 with a
 *     length < 65536) are rejected (TS_ERR_WS_LENGTH, 1002): §5.2 says
 *     "the minimal number of bytes MUST be used to encode the length";
 *   - max_message and max_fragments are checked when a frame header is
 *     complete, before any of its payload is handed out; too many
 *     fragments is answered with 1009 too (a resource limit, like size);
 *   - a text piece is handed out up to the first byte that cannot begin
 *     or continue valid UTF-8; that byte then fails the connection;
 *   - a close reason that is not UTF-8 is TS_ERR_WS_UTF8 with 1007 (§7.4.1:
 *     "data within a message that was not consistent with the type");
 *   - received close codes 1012-1014 (IANA-registered since the RFC:
 *     service restart, try again later, bad gateway) are accepted;
 *   - our answer to a close echoes its code, or 1000 if it had none; a
 *     pong still pending when a close arrives is dropped (§5.5.2: a pong
 *     is due "unless it already received a Close frame");
 *   - after the server's close, ts_ws_send() refuses (our close is due).
 *
 * The base framing protocol (RFC 6455 §5.2):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *   | |1|2|3|       |K|             |                               |
 *   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |     Extended payload length continued, if payload len == 127  |
 *   + - - - - - - - - - - - - - - - +-------------------------------+
 *   |                               |Masking-key, if MASK set to 1  |
 *   +-------------------------------+-------------------------------+
 *   | Masking-key (continued)       |          Payload Data         |
 *   +-------------------------------- - - - - - - - - - - - - - - - +
 *   :                     Payload Data continued ...                :
 *   + - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - +
 *   |                     Payload Data continued ...                |
 *   +---------------------------------------------------------------+
 */
#include <string.h>

#include "bearssl_hash.h"
#include "base.h"
#include "ws.h"

#define TS_WS_ST_HEADER 0
#define TS_WS_ST_PAYLOAD 1
#define TS_WS_ST_CLOSED 2

/* Close status codes the decoder names in fail_code (§7.4.1). */
#define TS_WS_CLOSE_NORMAL 1000
#define TS_WS_CLOSE_PROTOCOL 1002
#define TS_WS_CLOSE_NO_STATUS 1005
#define TS_WS_CLOSE_BAD_DATA 1007
#define TS_WS_CLOSE_TOO_BIG 1009

#define TS_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---------------------------------------------------------------- */
/* Opening handshake (§1.3, §4.1)                                    */
/* ---------------------------------------------------------------- */

/* Standard base64 with padding of in[0..n) into out, NUL-terminated. */
static void
base64(char *out, const unsigned char *in, size_t n)
{
	unsigned long v;
	size_t i, k;

	for (i = 0; i < n; i += 3) {
		/* three bytes, zeros past the end */
		v = 0;
		for (k = 0; k < 3; k++)
			v = v << 8 | (i + k < n ? in[i + k] : 0u);
		/* r bytes left give r + 1 characters, then '=' up to four */
		for (k = 0; k < 4; k++)
			*out++ = k <= n - i ? b64chars[v >> (18 - 6 * k) & 63] :
			    '=';
	}
	*out = '\0';
}

void
ts_ws_key(char out[25], const unsigned char nonce[16])
{
	/* §4.1: "a randomly selected 16-byte value that has been
	 * base64-encoded"; the randomness is the caller's. */
	base64(out, nonce, 16);
}

void
ts_ws_hs_init(struct ts_ws_hs *hs, const char *key)
{
	br_sha1_context sha;
	unsigned char digest[br_sha1_SIZE];

	memset(hs, 0, sizeof(*hs));
	/* §4.1: the base64 of the SHA-1 of the key and the GUID */
	br_sha1_init(&sha);
	br_sha1_update(&sha, key, strlen(key));
	br_sha1_update(&sha, TS_WS_GUID, sizeof(TS_WS_GUID) - 1);
	br_sha1_out(&sha, digest);
	base64(hs->expect, digest, sizeof(digest));
}

void
ts_ws_hs_header(struct ts_ws_hs *hs, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	int ok;

	value = ts_trim(value, &vlen);
	if (ts_iequal(name, nlen, "upgrade")) {
		if (ts_list_has(value, vlen, "websocket"))
			hs->upgrade = 1;
	} else if (ts_iequal(name, nlen, "connection")) {
		if (ts_list_has(value, vlen, "upgrade"))
			hs->connection = 1;
	} else if (ts_iequal(name, nlen, "sec-websocket-accept")) {
		/* §11.3.3: "The |Sec-WebSocket-Accept| header field MUST NOT
		 * appear more than once in an HTTP response." */
		ok = vlen == sizeof(hs->expect) - 1 &&
		    memcmp(value, hs->expect, vlen) == 0;
		hs->accept = hs->accept == 0 && ok ? 1 : -1;
	} else if (ts_iequal(name, nlen, "sec-websocket-extensions")) {
		hs->extension = 1;
	} else if (ts_iequal(name, nlen, "sec-websocket-protocol")) {
		hs->protocol = 1;
	}
}

int
ts_ws_hs_finish(const struct ts_ws_hs *hs, int status)
{
	/* §4.1: "If the status code received from the server is not 101,
	 * the client handles the response per HTTP procedures." */
	if (status != 101)
		return TS_ERR_WS_STATUS;
	/* §4.1: "If the response lacks an |Upgrade| header field or ...
	 * the client MUST _Fail the WebSocket Connection_." */
	if (!hs->upgrade)
		return TS_ERR_WS_UPGRADE;
	/* §4.1: "If the response lacks a |Connection| header field or ...
	 * the client MUST _Fail the WebSocket Connection_." */
	if (!hs->connection)
		return TS_ERR_WS_CONNECTION;
	/* §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field
	 * or [it has another value] the client MUST _Fail ..._" */
	if (hs->accept != 1)
		return TS_ERR_WS_ACCEPT;
	/* §4.1: "[an extension] that was not present in the client's
	 * handshake ..., the client MUST _Fail the WebSocket Connection_." */
	if (hs->extension)
		return TS_ERR_WS_EXTENSION;
	/* §4.1: "[a subprotocol] that was not present in the client's
	 * handshake ..., the client MUST _Fail the WebSocket Connection_." */
	if (hs->protocol)
		return TS_ERR_WS_PROTOCOL;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Decoder                                                           */
/* ---------------------------------------------------------------- */

void
ts_ws_init(struct ts_ws *ws)
{
	memset(ws, 0, sizeof(*ws));
	ws->max_message = 1048576;	/* 1 MiB */
	ws->max_fragments = 1024;
	/* state is TS_WS_ST_HEADER (0); header_byte() sets hdr_need at the
	 * second byte, before it reads it */
}

/* Record the first error and the close status it calls for; returns err. */
static int
fail(struct ts_ws *ws, int err, int code)
{
	ws->err = err;
	ws->fail_code = code;
	return err;
}

/*
 * Close codes a server may send (§7.4.1, §7.4.2 and the IANA registry):
 * 1000-1003, 1007-1014 and 3000-4999.  0-999 are "not used", 1004 is
 * reserved, 1005, 1006 and 1015 "MUST NOT be set as a status code in a
 * Close control frame by an endpoint", 1016-2999 are reserved for
 * future revisions of the protocol.
 */
static int
close_code_ok(int code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

static int
is_control(int opcode)
{
	return (opcode & 0x8) != 0;
}

/*
 * Message layer: a frame header is complete and its payload is
 * ws->remaining bytes long.  Checks the frame against the message in progress.
 * Returns 0 or the error it recorded, as the other steps below do.
 */
static int
begin_frame(struct ts_ws *ws)
{
	ws->hdr_have = 0;
	ws->state = TS_WS_ST_PAYLOAD;
	if (is_control(ws->opcode)) {
		/* §5.4: "An endpoint MUST be capable of handling control
		 * frames in the middle of a fragmented message." */
		ws->ctl_len = 0;
		return 0;
	}
	if (ws->opcode == TS_WS_OP_CONT) {
		/* §5.4: a fragmented message is "a single frame with the
		 * FIN bit clear and an opcode other than 0, followed by ...
		 * frames with ... the opcode set to 0". */
		if (ws->msg_frames == 0)
			return fail(ws, TS_ERR_WS_CONTINUATION,
			    TS_WS_CLOSE_PROTOCOL);
	} else {
		/* §5.4: "The fragments of one message MUST NOT be interleaved
		 * between the fragments of another message" */
		if (ws->msg_frames != 0)
			return fail(ws, TS_ERR_WS_INTERLEAVED,
			    TS_WS_CLOSE_PROTOCOL);
		ws->msg_opcode = ws->opcode;
		ws->msg_len = 0;
		memset(&ws->utf8, 0, sizeof(ws->utf8));
	}
	/* Our limits: the client cannot hold an endless message. */
	if (ws->msg_frames >= ws->max_fragments)
		return fail(ws, TS_ERR_WS_TOO_MANY_FRAGMENTS,
		    TS_WS_CLOSE_TOO_BIG);
	ws->msg_frames++;
	/* (msg_len can exceed max_message only if the caller lowered the
	 * limit in the middle of a message.) */
	if (ws->msg_len > ws->max_message ||
	    ws->remaining > (uint64_t)ws->max_message - ws->msg_len)
		return fail(ws, TS_ERR_WS_TOO_BIG, TS_WS_CLOSE_TOO_BIG);
	ws->msg_len += ws->remaining;
	return 0;
}

/*
 * Frame layer: one header byte.  Each check runs at the byte that
 * decides it, so that the first bad byte fails whatever the split.
 */
static int
header_byte(struct ts_ws *ws, unsigned char b)
{
	int len7;

	ws->hdr_have++;
	if (ws->hdr_have == 1) {
		ws->fin = b >> 7;
		ws->opcode = b & 0x0F;
		/* §5.2: RSV1-3 "MUST be 0 unless an extension is negotiated
		 * that defines meanings for non-zero values." */
		if (b & 0x70)
			return fail(ws, TS_ERR_WS_RSV, TS_WS_CLOSE_PROTOCOL);
		/* §5.2: "If an unknown opcode is received, the receiving
		 * endpoint MUST _Fail the WebSocket Connection_." */
		if ((ws->opcode >= 0x3 && ws->opcode <= 0x7) ||
		    ws->opcode >= 0xB)
			return fail(ws, TS_ERR_WS_OPCODE, TS_WS_CLOSE_PROTOCOL);
		/* §5.5: "All control frames ... MUST NOT be fragmented." */
		if (is_control(ws->opcode) && !ws->fin)
			return fail(ws, TS_ERR_WS_CONTROL_FRAGMENTED,
			    TS_WS_CLOSE_PROTOCOL);
		return 0;
	}
	if (ws->hdr_have == 2) {
		/* §5.1: "A client MUST close a connection if it detects a
		 * masked frame." */
		if (b & 0x80)
			return fail(ws, TS_ERR_WS_MASKED, TS_WS_CLOSE_PROTOCOL);
		len7 = b & 0x7F;
		/* §5.5: "All control frames MUST have a payload length of
		 * 125 bytes or less" */
		if (is_control(ws->opcode) && len7 > TS_WS_CONTROL_MAX)
			return fail(ws, TS_ERR_WS_CONTROL_TOO_LONG,
			    TS_WS_CLOSE_PROTOCOL);
		ws->hdr_need = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
		/* the length, or 0 for the extended length to follow */
		ws->remaining = len7 < 126 ? (uint64_t)len7 : 0;
	} else if (ws->hdr_have == 3 && ws->hdr_need == 10 && (b & 0x80)) {
		/* §5.2: 64-bit length "(the most significant bit MUST be
		 * 0)" */
		return fail(ws, TS_ERR_WS_LENGTH, TS_WS_CLOSE_PROTOCOL);
	} else {
		/* the extended length, big-endian */
		ws->remaining = ws->remaining << 8 | b;
	}
	if (ws->hdr_have < ws->hdr_need)
		return 0;
	/* §5.2: "the minimal number of bytes MUST be used to encode the
	 * length" */
	if (ws->hdr_need > 2 &&
	    ws->remaining < (ws->hdr_need == 4 ? 126 : 65536))
		return fail(ws, TS_ERR_WS_LENGTH, TS_WS_CLOSE_PROTOCOL);
	return begin_frame(ws);
}

/* Message layer: the server's close frame, whole in ws->ctl. */
static int
close_frame(struct ts_ws *ws)
{
	struct ts_utf8 u = { 0, 0, 0 };
	int code = TS_WS_CLOSE_NO_STATUS;

	if (ws->ctl_len > 0) {
		/* §5.5.1: "If there is a body, the first two bytes of the
		 * body MUST be a 2-byte unsigned integer" */
		if (ws->ctl_len == 1)
			return fail(ws, TS_ERR_WS_CLOSE_PAYLOAD,
			    TS_WS_CLOSE_PROTOCOL);
		code = ws->ctl[0] << 8 | ws->ctl[1];
		if (!close_code_ok(code))
			return fail(ws, TS_ERR_WS_CLOSE_CODE,
			    TS_WS_CLOSE_PROTOCOL);
		/* §8.1: "When an endpoint is to interpret a byte stream as
		 * UTF-8 but finds that the byte stream is not, in fact, a
		 * valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
		 * Connection_." (the reason is UTF-8, §5.5.1) */
		if (ts_utf8_run(&u, ws->ctl + 2, ws->ctl_len - 2) !=
		    ws->ctl_len - 2 || u.need != 0)
			return fail(ws, TS_ERR_WS_UTF8, TS_WS_CLOSE_BAD_DATA);
		memmove(ws->ctl, ws->ctl + 2, ws->ctl_len - 2);
		ws->ctl_len -= 2;
	}
	ws->close_code = code;
	/* §5.5.1: "If an endpoint receives a Close frame and did not
	 * previously send a Close frame, the endpoint MUST send a Close
	 * frame in response": in this state ts_ws_pending() answers it. */
	ws->state = TS_WS_ST_CLOSED;
	ws->event = TS_WS_EV_CLOSE;
	return 0;
}

/* Message layer: the current frame's payload is all in. */
static int
end_frame(struct ts_ws *ws)
{
	ws->state = TS_WS_ST_HEADER;
	if (ws->opcode == TS_WS_OP_CLOSE)
		return close_frame(ws);
	if (ws->opcode == TS_WS_OP_PING) {
		/* §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send
		 * a Pong frame in response"; §5.5.3: it "must have identical
		 * Application data"; only the latest ping needs one (none
		 * once a close was sent: ts_ws_pending() sees to that). */
		memcpy(ws->pong, ws->ctl, ws->ctl_len);
		ws->pong_len = ws->ctl_len;
		ws->pong_pending = 1;
		ws->event = TS_WS_EV_PING;
	} else if (ws->opcode == TS_WS_OP_PONG) {
		ws->event = TS_WS_EV_PONG;
	} else if (ws->fin) {
		/* §8.1 (see close_frame): a text message ending inside a
		 * character is not valid UTF-8. */
		if (ws->msg_opcode == TS_WS_OP_TEXT && ws->utf8.need != 0)
			return fail(ws, TS_ERR_WS_UTF8, TS_WS_CLOSE_BAD_DATA);
		ws->msg_frames = 0;
		ws->event = TS_WS_EV_MESSAGE;
	}
	return 0;
}

/*
 * Run the decoder over data[0..n) until an event, an error or the end
 * of the input; returns the bytes consumed (none while an event waits
 * or after an error).  With n == 0 it still makes the moves that need
 * no input (the end of a frame).
 */
size_t
ts_ws_push(struct ts_ws *ws, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t used = 0, take, ok;

	while (ws->event == 0 && ws->err == 0) {
		if (ws->state == TS_WS_ST_CLOSED) {
			used = n;
			break;
		}
		if (ws->state == TS_WS_ST_HEADER) {
			if (used == n)
				break;
			/* The whole header in one go when it is there: no
			 * event can come before its last byte. */
			do
				header_byte(ws, p[used++]);
			while (used < n && ws->state == TS_WS_ST_HEADER &&
			    ws->err == 0);
			continue;
		}
		if (ws->remaining == 0) {
			end_frame(ws);
			continue;
		}
		if (used == n)
			break;
		take = n - used;
		if (take > ws->remaining)
			take = (size_t)ws->remaining;
		if (is_control(ws->opcode)) {
			/* At most 125 bytes: header_byte() saw to it. */
			memcpy(ws->ctl + ws->ctl_len, p + used, take);
			ws->ctl_len += take;
		} else {
			if (ws->msg_opcode == TS_WS_OP_TEXT) {
				/* §8.1, checked before the bytes go out. */
				ok = ts_utf8_run(&ws->utf8, p + used, take);
				if (ok == 0) {
					fail(ws, TS_ERR_WS_UTF8,
					    TS_WS_CLOSE_BAD_DATA);
					break;
				}
				take = ok;
			}
			ws->data = p + used;
			ws->data_len = take;
			ws->event = TS_WS_EV_DATA;
		}
		ws->remaining -= take;
		used += take;
	}
	return used;
}

int
ts_ws_event(struct ts_ws *ws)
{
	int ev;

	/* (push does nothing while an event waits or after an error) */
	ts_ws_push(ws, NULL, 0);
	if (ws->err != 0)
		return ws->err;
	ev = ws->event;
	ws->event = 0;
	return ev;
}

/* ---------------------------------------------------------------- */
/* Encoder and close handshake                                       */
/* ---------------------------------------------------------------- */

/*
 * One control frame with FIN set: payload[0..len) masked with mask into
 * out[0..outlen), which must not overlap payload.  Returns the bytes
 * written (len + 6), TS_ERR_WS_CONTROL_TOO_LONG or TS_ERR_WS_BUF_TOO_SMALL.
 */
static int
frame(unsigned char *out, size_t outlen, int opcode, const void *payload,
    size_t len, const unsigned char mask[4])
{
	const unsigned char *p = payload;
	size_t i;

	if (len > TS_WS_CONTROL_MAX)
		return TS_ERR_WS_CONTROL_TOO_LONG;
	if (outlen < 6 + len)
		return TS_ERR_WS_BUF_TOO_SMALL;
	out[0] = (unsigned char)(0x80 | opcode);
	/* §5.1: "a client MUST mask all frames that it sends to the
	 * server" (MASK set in every frame); a control payload's length
	 * always fits the 7 bits. */
	out[1] = (unsigned char)(0x80 | len);
	memcpy(out + 2, mask, 4);
	for (i = 0; i < len; i++)
		out[6 + i] = p[i] ^ mask[i & 3];
	return (int)(6 + len);
}

/*
 * Our close frame with status code, or fail_code after a decoder error
 * (§7.1.7: the endpoint "SHOULD send a Close frame with an appropriate
 * status code" when it fails the connection); nothing may follow it.
 */
static int
write_close(struct ts_ws *ws, unsigned char *out, size_t outlen, int code,
    const unsigned char mask[4])
{
	unsigned char body[2];
	int r;

	if (ws->err != 0)
		code = ws->fail_code;
	body[0] = (unsigned char)(code >> 8);
	body[1] = (unsigned char)code;
	r = frame(out, outlen, TS_WS_OP_CLOSE, body, 2, mask);
	if (r > 0)
		ws->sent_close = 1;
	return r;
}

int
ts_ws_want_write(const struct ts_ws *ws)
{
	return !ws->sent_close &&
	    (ws->err != 0 || ws->state == TS_WS_ST_CLOSED || ws->pong_pending);
}

int
ts_ws_pending(struct ts_ws *ws, unsigned char *out, size_t outlen,
    const unsigned char mask[4])
{
	int r, code = ws->close_code;

	/* §5.5.1: "The application MUST NOT send any more data frames
	 * after sending a Close frame." (nor, here, anything else: nothing
	 * is wanted then) */
	if (!ts_ws_want_write(ws))
		return 0;
	/* The failing close after an error (see write_close); else §5.5.1:
	 * our answer to the server's close, which echoes its code or is
	 * 1000 if it had none.  Either goes before a pong still due (§5.5.2:
	 * a pong is due "unless it already received a Close frame"), and
	 * nothing goes after it. */
	if (code == TS_WS_CLOSE_NO_STATUS)
		code = TS_WS_CLOSE_NORMAL;
	if (ws->err != 0 || ws->state == TS_WS_ST_CLOSED)
		return write_close(ws, out, outlen, code, mask);
	/* else a pong is pending */
	r = frame(out, outlen, TS_WS_OP_PONG, ws->pong, ws->pong_len, mask);
	if (r > 0)
		ws->pong_pending = 0;
	return r;
}

int
ts_ws_close(struct ts_ws *ws, unsigned char *out, size_t outlen, int code,
    const unsigned char mask[4])
{
	if (ws->sent_close)
		return TS_ERR_WS_CLOSED;
	if (ws->err == 0 && !close_code_ok(code))
		return TS_ERR_WS_CLOSE_CODE;
	return write_close(ws, out, outlen, code, mask);
}

int
ts_ws_send(struct ts_ws *ws, unsigned char *out, size_t outlen, int opcode,
    const void *payload, size_t len, const unsigned char mask[4])
{
	/* After an error only the failing close may go out; after either
	 * close, no more data (§5.5.1). */
	if (ws->err != 0 || ws->sent_close || ws->state == TS_WS_ST_CLOSED)
		return TS_ERR_WS_CLOSED;
	if (opcode != TS_WS_OP_PING && opcode != TS_WS_OP_PONG)
		return TS_ERR_WS_OPCODE;
	return frame(out, outlen, opcode, payload, len, mask);
}
