/*
 * net: getaddrinfo and a non-blocking connect race ("Happy Eyeballs" in
 * the simple form of RFC 8305): addresses are tried with the families
 * interleaved, starting with the family getaddrinfo put first (§4), the
 * next one started when the current has not answered within
 * TS_NET_STAGGER_MS (§5), so several sockets can be in flight at once;
 * the first to connect wins and the rest are closed.  The whole race is
 * bounded by the caller's connect timeout, counted from ts_net_start(),
 * never from before the lookup.
 *
 * States: resolved (naddr > 0) -> racing (inflight sockets, next) ->
 * connected (fd) or failed (why).  No state survives ts_net_abort().
 * The note hook hears each attempt's start and end as it happens.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tsino.h"
#include "net.h"

int64_t
ts_net_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line to the caller's note hook, if it set one (-v). */
static void
say(const struct ts_net *n, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (n->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n->note(n->note_arg, line);
}

/*
 * Address i of n's list in words, "127.0.0.1:8443" or "[::1]:8443", into
 * out.  The list holds IPv4 and IPv6 addresses only.
 */
static const char *
addr_at(const struct ts_net *n, int i, char out[64])
{
	const struct sockaddr_in6 *s6 = (const void *)&n->addr[i];
	const struct sockaddr_in *s4 = (const void *)&n->addr[i];
	int v6 = n->addr[i].ss_family == AF_INET6;
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)&s6->sin6_addr :
	    (const void *)&s4->sin_addr, ip, sizeof(ip));
	snprintf(out, 64, v6 ? "[%s]:%u" : "%s:%u", ip,
	    ntohs(v6 ? s6->sin6_port : s4->sin_port));
	return out;
}

/* The first entry of family at or after a, or NULL. */
static const struct addrinfo *
next_of(const struct addrinfo *a, int family)
{
	while (a != NULL && a->ai_family != family)
		a = a->ai_next;
	return a;
}

void
ts_net_set_addrs(struct ts_net *n, const struct addrinfo *res)
{
	static const int family[2] = { AF_INET6, AF_INET };
	const struct addrinfo *a, *at[2];
	int t;

	n->naddr = 0;
	for (a = res; a != NULL; a = a->ai_next)
		if (a->ai_family == AF_INET6 || a->ai_family == AF_INET)
			break;
	/*
	 * RFC 8305 §4: "Whichever address family is first in the list
	 * should be followed by an address of the other address family."
	 * getaddrinfo has already sorted by RFC 6724 and /etc/gai.conf: its
	 * first address is the one to try first.
	 */
	t = a != NULL && a->ai_family == family[1];
	at[0] = next_of(res, family[0]);
	at[1] = next_of(res, family[1]);
	/* One of each family in turn; only the other once one runs out. */
	for (; (at[0] != NULL || at[1] != NULL) &&
	    n->naddr < TS_NET_MAX_ADDRS; t = !t) {
		if ((a = at[t]) == NULL)
			continue;
		at[t] = next_of(a->ai_next, family[t]);
		if (a->ai_addr == NULL || a->ai_addrlen > sizeof(n->addr[0]))
			continue;
		memcpy(&n->addr[n->naddr], a->ai_addr, a->ai_addrlen);
		n->addrlen[n->naddr++] = a->ai_addrlen;
	}
}

int
ts_net_resolve(struct ts_net *n, const char *host, unsigned port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	char service[8];
	int rc, i;

	/* A fresh race each time, but the caller's hook (last) stays. */
	memset(n, 0, offsetof(struct ts_net, note));
	for (i = 0; i < TS_NET_MAX_ADDRS; i++)
		n->inflight[i] = -1;
	n->fd = -1;
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc == 0) {
		ts_net_set_addrs(n, res);
		freeaddrinfo(res);
	}
	if (rc == 0 && n->naddr > 0)
		return 0;
	snprintf(n->why, sizeof(n->why), "cannot resolve %s: %s", host,
	    rc == 0 ? "no IPv4 or IPv6 address" : rc == EAI_SYSTEM ?
	    strerror(errno) : gai_strerror(rc));
	return TS_ERR_NET_RESOLVE;
}

/*
 * The attempt at index i failed with errnum: close it, say so to the
 * note hook, and keep its error if it is the most telling so far.  The
 * code and the words always describe the same failure, and the hook
 * hears the same words.  RFC 8305 §5: the next attempt need not wait
 * for the Connection Attempt Delay once this one has failed, so it may
 * start now.
 */
static void
fail(struct ts_net *n, int i, int errnum)
{
	char addr[64], words[sizeof(n->why)];
	int err = errnum == ECONNREFUSED ? TS_ERR_NET_REFUSED :
	    errnum == ENETUNREACH || errnum == EHOSTUNREACH ||
	    errnum == EADDRNOTAVAIL || errnum == EAFNOSUPPORT ?
	    TS_ERR_NET_UNREACHABLE : TS_ERR_NET_IO;

	snprintf(words, sizeof(words), err == TS_ERR_NET_REFUSED ?
	    "connection refused by %s" : "cannot connect to %s: %s",
	    addr_at(n, i, addr), strerror(errnum));
	say(n, "%s", words);
	/* A refusal says more than "unreachable" on a second family. */
	if (n->last_err == 0 || err == TS_ERR_NET_REFUSED) {
		n->last_err = err;
		memcpy(n->why, words, sizeof(n->why));
	}
	if (n->inflight[i] >= 0)
		close(n->inflight[i]);
	n->inflight[i] = -1;
	n->next_at = 0;
}

void
ts_net_start(struct ts_net *n, int64_t now, int timeout_ms)
{
	/* Not only after ts_net_resolve(): exchange reuses a lookup. */
	n->next = 0;
	n->last_err = 0;
	n->why[0] = '\0';
	n->fd = -1;
	n->started = now;
	n->deadline = now + timeout_ms;
	n->next_at = now;
}

int
ts_net_pollfds(const struct ts_net *n, struct pollfd *pfd, int max)
{
	int i, k = 0;

	for (i = 0; i < n->naddr && k < max; i++)
		if (n->inflight[i] >= 0)
			pfd[k++] = (struct pollfd){ .fd = n->inflight[i],
			    .events = POLLOUT };	/* revents 0 */
	return k;
}

int
ts_net_timeout(const struct ts_net *n, int64_t now)
{
	int64_t t = n->deadline;

	if (now < n->started)	/* as in ts_net_step() */
		now = n->started;
	if (n->next < n->naddr && n->next_at < t)
		t = n->next_at;
	return t <= now ? 0 : (int)(t - now);
}

int
ts_net_step(struct ts_net *n, const struct pollfd *pfd, int count,
    int64_t now)
{
	int k, i, fd, soerr, one = 1;
	int busy = 0;		/* sockets still in flight */
	socklen_t len;
	char addr[64];

	/*
	 * A time earlier than the start was read before the lookup (a loop
	 * turn that began before ts_net_resolve() blocked): the race began at
	 * the start, so count it as the start.  Otherwise the stagger would
	 * be measured from that old time and the next attempt would not wait.
	 */
	if (now < n->started)
		now = n->started;
	for (k = 0; k < count; k++) {
		for (i = 0; i < n->naddr; i++)
			if (n->inflight[i] == pfd[k].fd && pfd[k].fd >= 0)
				break;
		if (i == n->naddr || pfd[k].revents == 0)
			continue;
		/* Its socket became writable: did its connect succeed? */
		fd = n->inflight[i];
		len = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			soerr = errno;
		if (soerr != 0) {
			fail(n, i, soerr);
			continue;
		}
		/* Rounds are small: latency matters more than segment count. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		say(n, "connected to %s", addr_at(n, i, addr));
		n->inflight[i] = -1;
		n->fd = fd;
		ts_net_abort(n);
		return 1;
	}
	/*
	 * Start the next attempt when its time came: with none in flight it
	 * has (fail() sets next_at to 0, and start to its own now).
	 */
	while (n->next < n->naddr && now < n->deadline && now >= n->next_at) {
		i = n->next++;
		n->next_at = now + TS_NET_STAGGER_MS;
		say(n, "connecting to %s", addr_at(n, i, addr));
		fd = socket(n->addr[i].ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		n->inflight[i] = fd;
		/* fail() closes the socket, if there is one. */
		if (fd < 0 || (connect(fd, (struct sockaddr *)&n->addr[i],
		    n->addrlen[i]) != 0 && errno != EINPROGRESS))
			fail(n, i, errno);
	}
	for (i = 0; i < n->naddr; i++)
		busy += n->inflight[i] >= 0;
	if (busy && now < n->deadline)
		return 0;
	if (busy || n->next < n->naddr) {
		for (i = 0; i < n->naddr; i++)
			if (n->inflight[i] >= 0)
				say(n, "no answer from %s before the connect "
				    "timeout", addr_at(n, i, addr));
		ts_net_abort(n);
		snprintf(n->why, sizeof(n->why), "connect timed out after %g s",
		    (n->deadline - n->started) / 1000.0);
		return TS_ERR_NET_TIMEOUT;
	}
	if (n->last_err == 0) {
		n->last_err = TS_ERR_NET_IO;
		snprintf(n->why, sizeof(n->why), "no address to connect to");
	}
	return n->last_err;
}

void
ts_net_abort(struct ts_net *n)
{
	int i;

	for (i = 0; i < n->naddr; i++) {
		if (n->inflight[i] >= 0)
			close(n->inflight[i]);
		n->inflight[i] = -1;
	}
}
