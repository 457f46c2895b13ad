/*
 * lws_client: the same job with libwebsockets (Debian libwebsockets-dev,
 * the best-known C WebSocket library), written the way its minimal
 * client examples are: connect, send the Authorization header, and for
 * each complete message write it and a newline to stdout (one write per
 * message); exit when the server closes.  UTF-8 validation is switched
 * on, as tsino validates too.  TLS (OpenSSL underneath) checks the chain
 * against CA.pem and the host name.
 *
 *	lws_client PORT [CA.pem]	(with CA.pem: wss:// to localhost)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#define MSG_MAX (1 << 20)

static int done, status = 1;
static unsigned char msg[MSG_MAX + 1];
static size_t msglen;

static int
write_all(const unsigned char *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = write(STDOUT_FILENO, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	static const char auth[] = "Bearer benchkey";
	unsigned char **p, *end;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		p = (unsigned char **)in;
		end = *p + len;
		if (lws_add_http_header_by_name(wsi,
		    (const unsigned char *)"authorization:",
		    (const unsigned char *)auth, sizeof(auth) - 1, p, end))
			return -1;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (msglen + len > MSG_MAX) {
			fprintf(stderr, "lws_client: message too big\n");
			return -1;
		}
		memcpy(msg + msglen, in, len);
		msglen += len;
		if (lws_is_final_fragment(wsi)) {
			msg[msglen++] = '\n';
			if (write_all(msg, msglen) < 0)
				return -1;
			msglen = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		fprintf(stderr, "lws_client: connection error: %s\n",
		    in ? (const char *)in : "?");
		done = 1;
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		status = 0;
		done = 1;
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"bench", callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0}
};

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	struct lws_context *ctx;
	int tls = argc > 2;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: lws_client PORT [CA.pem]\n");
		return 2;
	}
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 |
	    (tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	if (tls)
		info.client_ssl_ca_filepath = argv[2];
	ctx = lws_create_context(&info);
	if (ctx == NULL) {
		fprintf(stderr, "lws_client: lws_create_context failed\n");
		return 1;
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = ctx;
	ci.port = atoi(argv[1]);
	ci.address = tls ? "localhost" : "127.0.0.1";
	ci.path = "/v1-beta/stream";
	ci.host = ci.address;
	ci.origin = ci.address;
	ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
	ci.local_protocol_name = "bench";
	if (lws_client_connect_via_info(&ci) == NULL) {
		fprintf(stderr, "lws_client: connect failed\n");
		lws_context_destroy(ctx);
		return 1;
	}
	while (!done && lws_service(ctx, 0) >= 0)
		;
	lws_context_destroy(ctx);
	return status;
}
