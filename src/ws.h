/*
 * ws: the RFC 6455 WebSocket protocol for a client, as a pure byte machine.
 *
 * Three parts, none of which does I/O or allocates:
 *
 *   - the opening handshake: the Sec-WebSocket-Key the client sends, and a
 *     checker for the server's 101 response (fed header by header, so it
 *     does not depend on any particular HTTP parser);
 *   - the decoder for server frames: push bytes, pull events (message data
 *     zero-copy, pings, pongs, the close), every client-side rule of
 *     RFC 6455 enforced, each violation naming the close code to answer;
 *   - the encoder for masked client frames and the close handshake state
 *     (pong and close replies pending, nothing sent after our own close).
 *
 * The caller owns the context and every buffer.  The core never draws
 * random numbers: the caller supplies the 16 key bytes and every 4-byte
 * masking key (RFC 6455 §5.3 wants them from a strong source).
 */
#ifndef TS_WS_H
#define TS_WS_H

#include "tsino.h"		/* the TS_ERR_WS_* codes */
#include "base.h"		/* also size_t and uint64_t */

/* Opcodes (RFC 6455 §5.2). */
#define TS_WS_OP_CONT 0x0
#define TS_WS_OP_TEXT 0x1
#define TS_WS_OP_BINARY 0x2
#define TS_WS_OP_CLOSE 0x8
#define TS_WS_OP_PING 0x9
#define TS_WS_OP_PONG 0xA

/* Events returned by ts_ws_event() (positive; 0 means "need more"). */
#define TS_WS_EV_DATA 1
#define TS_WS_EV_MESSAGE 2
#define TS_WS_EV_PING 3
#define TS_WS_EV_PONG 4
#define TS_WS_EV_CLOSE 5

/* A control frame carries at most this many payload bytes (§5.5). */
#define TS_WS_CONTROL_MAX 125
/* Room for any control frame the client sends: 2 + 4 + 125. */
#define TS_WS_CONTROL_FRAME_MAX 131

/*
 * ts_ws_key: the Sec-WebSocket-Key header value for 16 random bytes.
 * nonce: 16 bytes the caller drew from a strong random source.
 * out: receives 24 base64 characters and a NUL.
 */
void
ts_ws_key(char out[25], const unsigned char nonce[16]);

/*
 * The handshake checker.  ts_ws_hs_init() with the key the client sent;
 * ts_ws_hs_header() once for each header field of the server's response,
 * in any order; ts_ws_hs_finish() with the status code.  No pointer is
 * kept: name and value are copied from or compared at once.
 */
struct ts_ws_hs {
	/*
	 * The Sec-WebSocket-Accept we want: the base64 of the SHA-1 of the
	 * key followed by the RFC 6455 GUID
	 */
	char expect[29];
	int upgrade;		/* an Upgrade field holds "websocket" */
	int connection;		/* a Connection field holds "upgrade" */
	int accept;		/* 0 none yet, 1 one that matched, else -1 */
	int extension;		/* a Sec-WebSocket-Extensions field came */
	int protocol;		/* a Sec-WebSocket-Protocol field came */
};

/* key: the NUL-terminated Sec-WebSocket-Key the client sent. */
void
ts_ws_hs_init(struct ts_ws_hs *hs, const char *key);

/*
 * One header field: name[0..nlen) and value[0..vlen), as bytes (no NUL
 * needed).  Names compare case-insensitively; spaces and tabs around the
 * value are ignored.  Fields this checker does not care about are
 * ignored.
 */
void
ts_ws_hs_header(struct ts_ws_hs *hs, const char *name, size_t nlen,
    const char *value, size_t vlen);

/*
 * The verdict once every header field was given: 0 if the upgrade is
 * good, else the first failed rule in this order: TS_ERR_WS_STATUS
 * (status is not 101), TS_ERR_WS_UPGRADE, TS_ERR_WS_CONNECTION,
 * TS_ERR_WS_ACCEPT (missing, wrong, or more than one), TS_ERR_WS_EXTENSION,
 * TS_ERR_WS_PROTOCOL (we offer no extension and no subprotocol, so any
 * such field fails).
 */
int
ts_ws_hs_finish(const struct ts_ws_hs *hs, int status);

/*
 * The connection context.  Public fields are the limits (set by
 * ts_ws_init(), change them before the first push) and the outputs of
 * the last event; the rest is private state.
 */
struct ts_ws {
	/* limits */
	size_t max_message;		/* bytes in one message; 1 MiB */
	unsigned long max_fragments;	/* frames in one message; 1024 */

	/* TS_WS_EV_DATA: a piece of the current message */
	const unsigned char *data;	/* into the caller's pushed bytes */
	size_t data_len;		/* > 0 */
	int msg_opcode;			/* TS_WS_OP_TEXT or TS_WS_OP_BINARY */

	/* TS_WS_EV_PING, _PONG: payload; TS_WS_EV_CLOSE: the reason */
	unsigned char ctl[TS_WS_CONTROL_MAX];
	size_t ctl_len;
	int close_code;			/* TS_WS_EV_CLOSE; 1005 if none */

	/*
	 * After an error: the close code to send (1002, 1007, 1009), set
	 * with the error, never before; else 0
	 */
	int fail_code;

	/* private: frame layer */
	int state;
	size_t hdr_have, hdr_need;
	int fin, opcode;
	uint64_t remaining;		/* payload bytes left in this frame */

	/* private: message layer; a message is in progress while msg_frames
	 * (its frames so far) is not 0 */
	uint64_t msg_len;
	unsigned long msg_frames;
	struct ts_utf8 utf8;
	int event;
	int err;

	/* private: close handshake and replies */
	int sent_close;
	int pong_pending;
	unsigned char pong[TS_WS_CONTROL_MAX];
	size_t pong_len;
};

/* Reset ws for a new connection, with the default limits. */
void
ts_ws_init(struct ts_ws *ws);

/*
 * Feed bytes received from the server.  Consumes input only up to and
 * including the next event and then stops: returns how many of the len
 * bytes were taken (possibly 0 when an event is waiting or after an
 * error).  The caller then drains ts_ws_event() and pushes the rest.
 * data must stay valid and unchanged until the next push, since data
 * events point into it.  Bytes after the server's close frame are
 * consumed and ignored.
 */
size_t
ts_ws_push(struct ts_ws *ws, const void *data, size_t len);

/*
 * The next event: 0 need more input (or nothing more will come), >0 one
 * of TS_WS_EV_*, <0 an error from enum ts_err (sticky: every later call
 * returns it, and fail_code names the close status to send).
 *
 * TS_WS_EV_DATA: data[0..data_len) is the next piece of the current
 * message (msg_opcode says text or binary).  Text is UTF-8-checked
 * before it is handed out; a piece may end inside a character.  Valid
 * until the next push.
 * TS_WS_EV_MESSAGE: the message is complete (also for an empty one:
 * msg_opcode is set, and there was no data event).
 * TS_WS_EV_PING / TS_WS_EV_PONG: ctl[0..ctl_len) is the payload.  A ping
 * leaves its pong pending (see ts_ws_want_write()).
 * TS_WS_EV_CLOSE: the server closed: close_code (1005 if the frame had
 * no payload) and its reason in ctl[0..ctl_len).  Our answer is pending.
 * Valid until the next push.
 */
int
ts_ws_event(struct ts_ws *ws);

/*
 * 1 if a reply is pending that ts_ws_pending() would write: the close
 * carrying fail_code after an error, the answer to the server's close,
 * or the pong for the latest ping.
 */
int
ts_ws_want_write(const struct ts_ws *ws);

/*
 * Write the pending reply (one frame) into out[0..outlen), masked with
 * mask (4 caller-supplied random bytes).  Returns the bytes written, 0 if
 * nothing is pending, or TS_ERR_WS_BUF_TOO_SMALL (the reply stays
 * pending; TS_WS_CONTROL_FRAME_MAX bytes are always enough).
 */
int
ts_ws_pending(struct ts_ws *ws, unsigned char *out, size_t outlen,
    const unsigned char mask[4]);

/*
 * Start (or answer) the close handshake: write a close frame with status
 * code (1000-1003, 1007-1014 or 3000-4999, else TS_ERR_WS_CLOSE_CODE).
 * After a decoder error the frame carries fail_code instead.  Returns
 * the bytes written, TS_ERR_WS_CLOSED if our close was already sent, or
 * TS_ERR_WS_BUF_TOO_SMALL.  Nothing may be sent afterwards.
 */
int
ts_ws_close(struct ts_ws *ws, unsigned char *out, size_t outlen, int code,
    const unsigned char mask[4]);

/*
 * Send a ping or a pong (the client sends no data messages): opcode
 * TS_WS_OP_PING or _PONG, payload[0..len).  Returns the bytes written,
 * TS_ERR_WS_CLOSED once a close was sent or received or after an error,
 * TS_ERR_WS_OPCODE for another opcode, TS_ERR_WS_CONTROL_TOO_LONG for a
 * payload over 125 bytes, or TS_ERR_WS_BUF_TOO_SMALL.  The frame has FIN
 * set and is masked with mask; out must not overlap payload, and
 * TS_WS_CONTROL_FRAME_MAX bytes always do.
 */
int
ts_ws_send(struct ts_ws *ws, unsigned char *out, size_t outlen, int opcode,
    const void *payload, size_t len, const unsigned char mask[4]);

#endif /* TS_WS_H */
