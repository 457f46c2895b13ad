/*
 * error: the words for every code of enum ts_err.  One static table,
 * searched linearly: ts_strerror() runs once per log line, never per byte.
 */
#include "tsino.h"

struct entry {
	int code;
	const char *text;
};

static const struct entry table[] = {
	{TS_OK, "success"},

	/* url */
	{TS_ERR_URL_SCHEME, "URL scheme must be ws, wss, http or https"},
	{TS_ERR_URL_HOST, "URL host is missing or malformed"},
	{TS_ERR_URL_PORT, "URL port is not a number from 1 to 65535"},
	{TS_ERR_URL_USERINFO,
	    "URL user information (user@host) is not supported"},
	{TS_ERR_URL_FRAGMENT, "URL fragment (#...) is not supported"},
	{TS_ERR_URL_CHAR,
	    "URL contains a space, a control character or a non-ASCII byte"},
	{TS_ERR_URL_TOO_LONG, "URL is too long"},
	{TS_ERR_URL_IPV6, "URL has a malformed IPv6 literal"},
	{TS_ERR_URL_PERCENT, "URL has a malformed percent escape"},
	{TS_ERR_URL_VALUE, "query value cannot be encoded"},
	{TS_ERR_URL_PATH,
	    "URL path or query has a character that must be percent-encoded"},
	{TS_ERR_URL_BASE, "API base URL must not have a query"},
	{TS_ERR_URL_SLUG, "game slug is empty or a dot segment"},
	{TS_ERR_URL_BUF_TOO_SMALL, "URL output buffer too small"},

	/* net */
	{TS_ERR_NET_RESOLVE, "cannot resolve host name"},
	{TS_ERR_NET_REFUSED, "connection refused"},
	{TS_ERR_NET_TIMEOUT, "connect timed out"},
	{TS_ERR_NET_UNREACHABLE, "network or host unreachable"},
	{TS_ERR_NET_IO, "socket error"},
	{TS_ERR_NET_CLOSED, "connection closed by peer"},

	/* tls */
	{TS_ERR_TLS_EXPIRED, "certificate expired or not yet valid"},
	{TS_ERR_TLS_HOSTNAME, "certificate is for another host"},
	{TS_ERR_TLS_UNTRUSTED, "certificate not signed by a trusted authority"},
	{TS_ERR_TLS_HANDSHAKE_CLOSED,
	    "server closed the connection during the handshake"},
	{TS_ERR_TLS_NO_TRUST_STORE, "no trust store (CA bundle) found"},
	{TS_ERR_TLS_TRUST_STORE, "trust store holds no usable certificate"},
	{TS_ERR_TLS_IP_LITERAL,
	    "TLS to an IP address literal is not supported: use a host name"},
	{TS_ERR_TLS_PROTOCOL, "TLS protocol error"},
	{TS_ERR_TLS_CERT_ALGORITHM,
	    "certificate uses an unsupported algorithm (SHA-1 is refused)"},
	{TS_ERR_TLS_TRUST_STORE_SIZE,
	    "trust store (CA bundle) file is too big"},
	{TS_ERR_TLS_TRUNCATED, "TLS connection closed without close_notify"},

	/* http */
	{TS_ERR_HTTP_STATUS_LINE, "malformed HTTP status line"},
	{TS_ERR_HTTP_VERSION, "unsupported HTTP version"},
	{TS_ERR_HTTP_HEADER, "malformed HTTP header field"},
	{TS_ERR_HTTP_OBS_FOLD, "obsolete HTTP header line folding"},
	{TS_ERR_HTTP_LINE_TOO_LONG, "HTTP header line too long"},
	{TS_ERR_HTTP_TOO_MANY_HEADERS, "too many HTTP header fields"},
	{TS_ERR_HTTP_HEADERS_TOO_BIG, "HTTP header section too big"},
	{TS_ERR_HTTP_CONTENT_LENGTH, "invalid HTTP Content-Length"},
	{TS_ERR_HTTP_CHUNK, "malformed HTTP chunked body"},
	{TS_ERR_HTTP_TRANSFER_ENCODING, "unsupported HTTP Transfer-Encoding"},
	{TS_ERR_HTTP_INJECTION,
	    "HTTP request field is empty or holds a control or other bad byte"},
	{TS_ERR_HTTP_REQUEST_TOO_BIG, "HTTP request does not fit its buffer"},
	{TS_ERR_HTTP_TRUNCATED, "HTTP response ended early"},
	{TS_ERR_HTTP_TRAILING, "bytes after the end of the HTTP response"},
	{TS_ERR_HTTP_AMBIGUOUS_LENGTH,
	    "HTTP response has both Transfer-Encoding and Content-Length"},
	{TS_ERR_HTTP_DATE, "malformed HTTP date"},
	{TS_ERR_HTTP_RETRY_AFTER, "malformed HTTP Retry-After value"},

	/* ws */
	{TS_ERR_WS_STATUS, "WebSocket upgrade refused (status is not 101)"},
	{TS_ERR_WS_UPGRADE, "WebSocket upgrade without Upgrade: websocket"},
	{TS_ERR_WS_CONNECTION, "WebSocket upgrade without Connection: upgrade"},
	{TS_ERR_WS_ACCEPT, "wrong Sec-WebSocket-Accept"},
	{TS_ERR_WS_EXTENSION, "server chose a WebSocket extension not offered"},
	{TS_ERR_WS_PROTOCOL,
	    "server chose a WebSocket subprotocol not offered"},
	{TS_ERR_WS_MASKED, "server sent a masked frame"},
	{TS_ERR_WS_RSV, "reserved WebSocket frame bits set"},
	{TS_ERR_WS_OPCODE, "reserved WebSocket opcode"},
	{TS_ERR_WS_CONTROL_TOO_LONG, "WebSocket control frame over 125 bytes"},
	{TS_ERR_WS_CONTROL_FRAGMENTED, "fragmented WebSocket control frame"},
	{TS_ERR_WS_LENGTH, "invalid WebSocket frame length"},
	{TS_ERR_WS_CONTINUATION, "WebSocket continuation outside a message"},
	{TS_ERR_WS_INTERLEAVED,
	    "new WebSocket message inside a fragmented one"},
	{TS_ERR_WS_UTF8, "WebSocket text message is not valid UTF-8"},
	{TS_ERR_WS_CLOSE_PAYLOAD, "malformed WebSocket close payload"},
	{TS_ERR_WS_CLOSE_CODE, "invalid WebSocket close status code"},
	{TS_ERR_WS_TOO_BIG, "WebSocket message too big"},
	{TS_ERR_WS_TOO_MANY_FRAGMENTS,
	    "WebSocket message has too many fragments"},
	{TS_ERR_WS_CLOSED, "WebSocket connection is closing"},
	{TS_ERR_WS_BUF_TOO_SMALL, "WebSocket output buffer too small"},

	/* json */
	{TS_ERR_JSON_SYNTAX, "JSON syntax error"},
	{TS_ERR_JSON_DEPTH, "JSON nested too deep"},
	{TS_ERR_JSON_CONTROL, "raw control character in a JSON string"},
	{TS_ERR_JSON_UTF8, "invalid UTF-8 in JSON"},
	{TS_ERR_JSON_ESCAPE, "invalid JSON escape"},
	{TS_ERR_JSON_SURROGATE, "lone UTF-16 surrogate in a JSON escape"},
	{TS_ERR_JSON_NUMBER, "malformed JSON number"},
	{TS_ERR_JSON_TRAILING, "bytes after the end of the JSON text"},
	{TS_ERR_JSON_TRUNCATED, "JSON text ended early"},

	/* round */
	{TS_ERR_ROUND_NOT_OBJECT, "round is not a JSON object"},
	{TS_ERR_ROUND_MISSING, "round lacks a required member"},
	{TS_ERR_ROUND_FIELD, "round member has the wrong type or form"},
	{TS_ERR_ROUND_TOO_BIG, "round is bigger than the message limit"},
	{TS_ERR_ROUND_BODY, "REST body is not an array of rounds"},
	{TS_ERR_ROUND_DUPLICATE, "round has a required member twice"},

	/* client and state */
	{TS_ERR_CLIENT_AUTH, "API key refused"},
	{TS_ERR_CLIENT_HTTP_STATUS, "unexpected HTTP status"},
	{TS_ERR_CLIENT_CONFIG, "invalid configuration"},
	{TS_ERR_STATE_LOCKED, "state file is in use by another tsino"},
	{TS_ERR_STATE_CORRUPT, "state file is corrupt"},
	{TS_ERR_STATE_IO, "cannot read or write the state file"},
	{TS_ERR_NOMEM, "out of memory"},
	{TS_ERR_CLIENT_PLAINTEXT,
	    "refusing to send the API key in plaintext to a host that is "
	    "not loopback"},
	{TS_ERR_CLIENT_OUTPUT, "output closed"},
};

const char *
ts_strerror(int err)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == err)
			return table[i].text;
	return "unknown error";
}
