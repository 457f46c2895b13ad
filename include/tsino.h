/*
 * tsino: a small, auditable client for the TrackerSino real-time
 * Crash-round feed.  This is the public header of libtsino.a.
 *
 * Every function that can fail returns one of the negative codes below;
 * 0 or a positive value means success.  The codes are grouped by layer
 * so that a number alone says where a failure came from:
 *
 *	-1xx url	-2xx net	-3xx tls	-4xx http
 *	-5xx ws		-6xx json	-7xx round	-8xx client and state
 *
 * "Need more input" is never an error: the parsers say it with 0.
 */
#ifndef TSINO_H
#define TSINO_H

#include <stddef.h>

#define TS_VERSION "0.1.0"

enum ts_err {
	TS_OK = 0,

	/* url */
	TS_ERR_URL_SCHEME = -101,
	TS_ERR_URL_HOST = -102,
	TS_ERR_URL_PORT = -103,
	TS_ERR_URL_USERINFO = -104,
	TS_ERR_URL_FRAGMENT = -105,
	TS_ERR_URL_CHAR = -106,
	TS_ERR_URL_TOO_LONG = -107,
	TS_ERR_URL_IPV6 = -108,
	TS_ERR_URL_PERCENT = -109,
	TS_ERR_URL_VALUE = -110,
	TS_ERR_URL_PATH = -111,
	TS_ERR_URL_BASE = -112,
	TS_ERR_URL_SLUG = -113,
	TS_ERR_URL_BUF_TOO_SMALL = -114,

	/* net */
	TS_ERR_NET_RESOLVE = -201,
	TS_ERR_NET_REFUSED = -202,
	TS_ERR_NET_TIMEOUT = -203,
	TS_ERR_NET_UNREACHABLE = -204,
	TS_ERR_NET_IO = -205,
	TS_ERR_NET_CLOSED = -206,

	/* tls */
	TS_ERR_TLS_EXPIRED = -301,
	TS_ERR_TLS_HOSTNAME = -302,
	TS_ERR_TLS_UNTRUSTED = -303,
	TS_ERR_TLS_HANDSHAKE_CLOSED = -304,
	TS_ERR_TLS_NO_TRUST_STORE = -305,
	TS_ERR_TLS_TRUST_STORE = -306,
	TS_ERR_TLS_IP_LITERAL = -307,
	TS_ERR_TLS_PROTOCOL = -308,
	TS_ERR_TLS_CLOSED = -309,

	/* http */
	TS_ERR_HTTP_STATUS_LINE = -401,
	TS_ERR_HTTP_VERSION = -402,
	TS_ERR_HTTP_HEADER = -403,
	TS_ERR_HTTP_OBS_FOLD = -404,
	TS_ERR_HTTP_LINE_TOO_LONG = -405,
	TS_ERR_HTTP_TOO_MANY_HEADERS = -406,
	TS_ERR_HTTP_HEADERS_TOO_BIG = -407,
	TS_ERR_HTTP_CONTENT_LENGTH = -408,
	TS_ERR_HTTP_CHUNK = -409,
	TS_ERR_HTTP_TRANSFER_ENCODING = -410,
	TS_ERR_HTTP_INJECTION = -411,
	TS_ERR_HTTP_REQUEST_TOO_BIG = -412,
	TS_ERR_HTTP_TRUNCATED = -413,
	TS_ERR_HTTP_TRAILING = -414,
	TS_ERR_HTTP_AMBIGUOUS_LENGTH = -415,
	TS_ERR_HTTP_DATE = -416,
	TS_ERR_HTTP_RETRY_AFTER = -417,

	/* ws */
	TS_ERR_WS_STATUS = -501,
	TS_ERR_WS_UPGRADE = -502,
	TS_ERR_WS_CONNECTION = -503,
	TS_ERR_WS_ACCEPT = -504,
	TS_ERR_WS_EXTENSION = -505,
	TS_ERR_WS_PROTOCOL = -506,
	TS_ERR_WS_MASKED = -507,
	TS_ERR_WS_RSV = -508,
	TS_ERR_WS_OPCODE = -509,
	TS_ERR_WS_CONTROL_TOO_LONG = -510,
	TS_ERR_WS_CONTROL_FRAGMENTED = -511,
	TS_ERR_WS_LENGTH = -512,
	TS_ERR_WS_CONTINUATION = -513,
	TS_ERR_WS_INTERLEAVED = -514,
	TS_ERR_WS_UTF8 = -515,
	TS_ERR_WS_CLOSE_PAYLOAD = -516,
	TS_ERR_WS_CLOSE_CODE = -517,
	TS_ERR_WS_TOO_BIG = -518,
	TS_ERR_WS_TOO_MANY_FRAGMENTS = -519,
	TS_ERR_WS_CLOSED = -520,
	TS_ERR_WS_BUF_TOO_SMALL = -521,

	/* json */
	TS_ERR_JSON_SYNTAX = -601,
	TS_ERR_JSON_DEPTH = -602,
	TS_ERR_JSON_CONTROL = -603,
	TS_ERR_JSON_UTF8 = -604,
	TS_ERR_JSON_ESCAPE = -605,
	TS_ERR_JSON_SURROGATE = -606,
	TS_ERR_JSON_NUMBER = -607,
	TS_ERR_JSON_TRAILING = -608,
	TS_ERR_JSON_TRUNCATED = -609,

	/* round */
	TS_ERR_ROUND_NOT_OBJECT = -701,
	TS_ERR_ROUND_MISSING = -702,
	TS_ERR_ROUND_FIELD = -703,
	TS_ERR_ROUND_TOO_BIG = -704,
	TS_ERR_ROUND_BODY = -705,
	TS_ERR_ROUND_DUPLICATE = -706,
	TS_ERR_ROUND_SPACE = -707,

	/* client and state */
	TS_ERR_CLIENT_AUTH = -801,
	TS_ERR_CLIENT_HTTP_STATUS = -802,
	TS_ERR_CLIENT_HEARTBEAT = -803,
	TS_ERR_CLIENT_CONFIG = -804,
	TS_ERR_STATE_LOCKED = -805,
	TS_ERR_STATE_CORRUPT = -806,
	TS_ERR_STATE_IO = -807,
	TS_ERR_NOMEM = -808
};

/*
 * ts_strerror: a short English phrase for a code from enum ts_err (or
 * "unknown error" for anything else).  The string is static and never
 * changes; the caller must not free it.
 */
const char *
ts_strerror(int err);

#endif /* TSINO_H */
