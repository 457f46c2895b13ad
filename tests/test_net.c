/*
 * test_net: the connect race over loopback only (127.0.0.1 and ::1, never
 * another address).  A listener that accepts, a port that refuses, a
 * listener whose accept queue is full (the kernel drops further SYNs, so
 * the connect never answers), the 250 ms stagger, the timeout, and a name
 * that cannot resolve.  Each case is bounded to a second or two.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tsino.h"
#include "net.h"
#include "test.h"

/* Sockets a case opened, closed by cleanup() at its start and end. */
static int fds[32];
static int nfds;

static void
keep(int fd)
{
	if (fd >= 0 && nfds < (int)(sizeof(fds) / sizeof(fds[0])))
		fds[nfds++] = fd;
}

static void
cleanup(void)
{
	while (nfds > 0)
		close(fds[--nfds]);
}

/* Fill sa with the loopback address of family and port. */
static socklen_t
loopback(int family, unsigned port, struct sockaddr_storage *sa)
{
	memset(sa, 0, sizeof(*sa));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
}

static unsigned
port_of(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

/*
 * A socket bound to a fresh loopback port; listening with backlog unless
 * backlog < 0 (bound only: connects to it are refused, and the port stays
 * ours so nobody else can start listening on it).  -1 if the family has
 * no loopback here.
 */
static int
bound(int family, int backlog, unsigned *port)
{
	struct sockaddr_storage sa;
	socklen_t len = loopback(family, 0, &sa);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 ||
	    (backlog >= 0 && listen(fd, backlog) < 0) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return -1;
	}
	keep(fd);
	*port = port_of(&sa);
	return fd;
}

static int
have_ipv6(void)
{
	unsigned port;
	int fd = bound(AF_INET6, 1, &port);

	return fd >= 0;
}

/* A client connect that has not completed within ms: 1, else 0. */
static int
connect_hangs(int family, unsigned port, int ms)
{
	struct sockaddr_storage sa;
	socklen_t len = loopback(family, port, &sa);
	struct pollfd p;
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return 0;
	keep(fd);
	if (connect(fd, (struct sockaddr *)&sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return 0;
	p.fd = fd;
	p.events = POLLOUT;
	p.revents = 0;
	return poll(&p, 1, ms) == 0;
}

/*
 * A loopback address that never answers: a listener with backlog 0 whose
 * accept queue we fill with connects nobody accepts; Linux then drops
 * further SYNs, so a connect stays in progress.  Verified here with a
 * probe connect; -1 when this kernel does not behave so.
 */
static int
black_hole(int family, unsigned *port)
{
	int i;

	if (bound(family, 0, port) < 0)
		return -1;
	for (i = 0; i < 4; i++)
		if (connect_hangs(family, *port, 100))
			return 0;
	return -1;
}

/* Append a loopback address to n's list, as ts_net_resolve() would. */
static void
add(struct ts_net *n, int family, unsigned port)
{
	n->addrlen[n->naddr] = loopback(family, port, &n->addr[n->naddr]);
	n->naddr++;
}

/* An empty address list in the state ts_net_resolve() leaves. */
static void
empty(struct ts_net *n)
{
	int i;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < TS_NET_MAX_ADDRS; i++)
		n->inflight[i] = -1;
	n->fd = -1;
}

static int max_inflight;	/* most sockets one poll() waited on */
static int64_t elapsed;		/* how long the last race() took */

/* Run the race the way the client loop does, at most 3 s; its result. */
static int
race(struct ts_net *n, int timeout_ms)
{
	struct pollfd pfd[TS_NET_MAX_ADDRS];
	int64_t t0 = ts_net_now(), now = t0;
	int k, rc;

	max_inflight = 0;
	ts_net_start(n, now, timeout_ms);
	rc = ts_net_step(n, NULL, 0, now);
	while (rc == 0 && now - t0 < 3000) {
		k = ts_net_pollfds(n, pfd, TS_NET_MAX_ADDRS);
		if (k > max_inflight)
			max_inflight = k;
		poll(pfd, (nfds_t)k, ts_net_timeout(n, ts_net_now()));
		now = ts_net_now();
		rc = ts_net_step(n, pfd, k, now);
	}
	elapsed = ts_net_now() - t0;
	if (rc == 1)
		keep(n->fd);
	else
		ts_net_abort(n);
	return rc;
}

/* The connected fd is usable: TCP_NODELAY on, a byte reaches lfd's peer. */
static int
usable(int fd, int lfd)
{
	int one = 0, afd;
	socklen_t len = sizeof(one);
	char c = 0;

	if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, &len) < 0 ||
	    one == 0)
		return 0;
	if (fcntl(fd, F_GETFL) < 0 || !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		return 0;
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		return 0;
	keep(afd);
	if (write(fd, "x", 1) != 1 || read(afd, &c, 1) != 1)
		return 0;
	return c == 'x';
}

/* The port the connected fd is connected to. */
static unsigned
peer_port(int fd, int *family)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
		return 0;
	*family = sa.ss_family;
	return port_of(&sa);
}

static void
connect_family(int family)
{
	struct ts_net n;
	unsigned port;
	int lfd, fam = 0;

	cleanup();
	lfd = bound(family, 8, &port);
	CHECK(lfd >= 0);
	CHECK_INT(ts_net_resolve(&n, family == AF_INET6 ? "::1" : "127.0.0.1",
	    port), 0);
	CHECK_INT(n.naddr, 1);
	CHECK_INT(race(&n, 2000), 1);
	CHECK(n.fd >= 0);
	CHECK(usable(n.fd, lfd));
	CHECK_INT(peer_port(n.fd, &fam), port);
	CHECK_INT(fam, family);
	CHECK(elapsed < 1000);
	cleanup();
}

static void
connect_ipv4(void)
{
	connect_family(AF_INET);
}

static void
connect_ipv6(void)
{
	cleanup();
	if (!have_ipv6()) {
		printf(" (skipped: no IPv6 loopback)");
		return;
	}
	connect_family(AF_INET6);
}

static void
refused(void)
{
	struct ts_net n;
	unsigned port;
	char want[64];

	cleanup();
	CHECK(bound(AF_INET, -1, &port) >= 0);
	CHECK_INT(ts_net_resolve(&n, "127.0.0.1", port), 0);
	CHECK_INT(race(&n, 2000), TS_ERR_NET_REFUSED);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1:%u",
	    port);
	CHECK_STR(n.why, want);
	CHECK(elapsed < 1000);
	cleanup();
}

/* Both addresses refuse: the code and the words name one refusal. */
static void
refused_both_families(void)
{
	struct ts_net n;
	unsigned p4, p6;
	char want[64];

	cleanup();
	if (!have_ipv6()) {
		printf(" (skipped: no IPv6 loopback)");
		return;
	}
	CHECK(bound(AF_INET6, -1, &p6) >= 0);
	CHECK(bound(AF_INET, -1, &p4) >= 0);
	empty(&n);
	add(&n, AF_INET6, p6);
	add(&n, AF_INET, p4);
	CHECK_INT(race(&n, 2000), TS_ERR_NET_REFUSED);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1:%u", p4);
	CHECK_STR(n.why, want);
	CHECK(elapsed < 1000);
	cleanup();
}

/*
 * "localhost" as Debian's /etc/hosts gives it: ::1 first, then 127.0.0.1.
 * With the server only on 127.0.0.1 the race falls through.  If this
 * machine's resolver gives no ::1 for localhost, ::1 is put first by
 * hand, refused by a socket bound there without listening.
 */
static void
localhost_falls_through(void)
{
	struct ts_net n, m;
	unsigned port, p6;
	int i, has6 = 0, fam = 0;
	int lfd;

	cleanup();
	lfd = bound(AF_INET, 8, &port);
	CHECK(lfd >= 0);
	CHECK_INT(ts_net_resolve(&n, "localhost", port), 0);
	CHECK(n.naddr >= 1);
	for (i = 0; i < n.naddr; i++)
		if (n.addr[i].ss_family == AF_INET6)
			has6 = 1;
	if (has6) {
		CHECK_INT(n.addr[0].ss_family, AF_INET6);
	} else if (have_ipv6()) {
		CHECK(bound(AF_INET6, -1, &p6) >= 0);
		m = n;
		empty(&n);
		add(&n, AF_INET6, p6);
		for (i = 0; i < m.naddr && n.naddr < TS_NET_MAX_ADDRS; i++) {
			n.addr[n.naddr] = m.addr[i];
			n.addrlen[n.naddr] = m.addrlen[i];
			n.naddr++;
		}
	}
	CHECK_INT(race(&n, 2000), 1);
	CHECK(usable(n.fd, lfd));
	CHECK_INT(peer_port(n.fd, &fam), port);
	CHECK_INT(fam, AF_INET);
	CHECK(elapsed < 1000);
	cleanup();
}

static void
timeout_family(int family)
{
	struct ts_net n;
	unsigned port;

	cleanup();
	if (black_hole(family, &port) < 0) {
		printf(" (skipped: this kernel answers SYNs on a full queue)");
		cleanup();
		return;
	}
	empty(&n);
	add(&n, family, port);
	CHECK_INT(race(&n, 500), TS_ERR_NET_TIMEOUT);
	CHECK_STR(n.why, "connect timed out after 0.5 s");
	CHECK(elapsed >= 480);
	CHECK(elapsed < 1500);
	CHECK_INT(n.inflight[0], -1);
	cleanup();
}

static void
timeout_ipv4(void)
{
	timeout_family(AF_INET);
}

static void
timeout_ipv6(void)
{
	cleanup();
	if (!have_ipv6()) {
		printf(" (skipped: no IPv6 loopback)");
		return;
	}
	timeout_family(AF_INET6);
}

/* Whole seconds are printed without a fraction. */
static void
timeout_words(void)
{
	struct ts_net n;
	unsigned port;

	cleanup();
	if (black_hole(AF_INET, &port) < 0) {
		printf(" (skipped)");
		cleanup();
		return;
	}
	empty(&n);
	add(&n, AF_INET, port);
	CHECK_INT(race(&n, 1000), TS_ERR_NET_TIMEOUT);
	CHECK_STR(n.why, "connect timed out after 1 s");
	cleanup();
}

/*
 * RFC 8305 §5: the first address never answers; the second is started
 * after the 250 ms Connection Attempt Delay, while the first is still in
 * flight, and wins.
 */
static void
stagger(void)
{
	struct ts_net n;
	unsigned hole, port;
	int lfd, fam = 0;

	cleanup();
	if (black_hole(AF_INET, &hole) < 0) {
		printf(" (skipped)");
		cleanup();
		return;
	}
	lfd = bound(AF_INET, 8, &port);
	CHECK(lfd >= 0);
	empty(&n);
	add(&n, AF_INET, hole);
	add(&n, AF_INET, port);
	CHECK_INT(race(&n, 2000), 1);
	CHECK_INT(peer_port(n.fd, &fam), port);
	CHECK(usable(n.fd, lfd));
	CHECK(elapsed >= TS_NET_STAGGER_MS - 10);
	CHECK(elapsed < TS_NET_STAGGER_MS + 400);
	CHECK_INT(max_inflight, 2);
	/* The loser was closed. */
	CHECK_INT(n.inflight[0], -1);
	CHECK_INT(n.inflight[1], -1);
	cleanup();
}

/* A refusal does not wait for the stagger: the next starts at once. */
static void
refused_then_next_at_once(void)
{
	struct ts_net n;
	unsigned closed, port;
	int lfd, fam = 0;

	cleanup();
	CHECK(bound(AF_INET, -1, &closed) >= 0);
	lfd = bound(AF_INET, 8, &port);
	CHECK(lfd >= 0);
	empty(&n);
	add(&n, AF_INET, closed);
	add(&n, AF_INET, port);
	CHECK_INT(race(&n, 2000), 1);
	CHECK_INT(peer_port(n.fd, &fam), port);
	CHECK(elapsed < 150);
	cleanup();
}

/* A hole, then a refusal, then a listener: the third still wins. */
static void
hole_refused_listener(void)
{
	struct ts_net n;
	unsigned hole, closed, port;
	int lfd, fam = 0;

	cleanup();
	if (black_hole(AF_INET, &hole) < 0) {
		printf(" (skipped)");
		cleanup();
		return;
	}
	CHECK(bound(AF_INET, -1, &closed) >= 0);
	lfd = bound(AF_INET, 8, &port);
	CHECK(lfd >= 0);
	empty(&n);
	add(&n, AF_INET, hole);
	add(&n, AF_INET, closed);
	add(&n, AF_INET, port);
	CHECK_INT(race(&n, 2000), 1);
	CHECK_INT(peer_port(n.fd, &fam), port);
	CHECK(elapsed < TS_NET_STAGGER_MS + 150);
	cleanup();
}

/* Every address a hole: one timeout for the whole race, not per address. */
static void
timeout_bounds_whole_race(void)
{
	struct ts_net n;
	unsigned h1, h2;

	cleanup();
	if (black_hole(AF_INET, &h1) < 0 || black_hole(AF_INET, &h2) < 0) {
		printf(" (skipped)");
		cleanup();
		return;
	}
	empty(&n);
	add(&n, AF_INET, h1);
	add(&n, AF_INET, h2);
	CHECK_INT(race(&n, 600), TS_ERR_NET_TIMEOUT);
	CHECK(elapsed < 1500);
	CHECK_INT(max_inflight, 2);
	CHECK_STR(n.why, "connect timed out after 0.6 s");
	cleanup();
}

static void
unresolvable(void)
{
	struct ts_net n;
	int64_t t0 = ts_net_now();
	const char *want = "cannot resolve nonexistent.invalid";

	CHECK_INT(ts_net_resolve(&n, "nonexistent.invalid", 443),
	    TS_ERR_NET_RESOLVE);
	CHECK(strncmp(n.why, want, strlen(want)) == 0);
	CHECK(strlen(n.why) > strlen(want) + 2);
	CHECK_INT(n.naddr, 0);
	CHECK(ts_net_now() - t0 < 5000);
}

/* Literals resolve without the network, IPv6 without brackets. */
static void
resolve_literals(void)
{
	struct ts_net n;
	char s[64];

	CHECK_INT(ts_net_resolve(&n, "127.0.0.1", 8443), 0);
	CHECK_INT(n.naddr, 1);
	ts_net_addr_str((struct sockaddr *)&n.addr[0], s, sizeof(s));
	CHECK_STR(s, "127.0.0.1:8443");
	CHECK_INT(n.fd, -1);
	CHECK_INT(n.inflight[0], -1);
	CHECK_INT(ts_net_resolve(&n, "::1", 443), 0);
	CHECK_INT(n.naddr, 1);
	ts_net_addr_str((struct sockaddr *)&n.addr[0], s, sizeof(s));
	CHECK_STR(s, "[::1]:443");
	CHECK_INT(ts_net_resolve(&n, "[::1]", 443), TS_ERR_NET_RESOLVE);
}

/* Nothing to connect to: an error, not a hang. */
static void
no_address(void)
{
	struct ts_net n;

	empty(&n);
	CHECK(race(&n, 500) < 0);
	CHECK(n.why[0] != '\0');
	CHECK(elapsed < 100);
}

/* The poll timeout follows the stagger, then the deadline. */
static void
poll_timeout(void)
{
	struct ts_net n;

	empty(&n);
	add(&n, AF_INET, 1);
	add(&n, AF_INET, 2);
	ts_net_start(&n, 1000, 5000);
	CHECK_INT(ts_net_timeout(&n, 1000), 0);
	n.next = 1;
	n.next_at = 1000 + TS_NET_STAGGER_MS;
	CHECK_INT(ts_net_timeout(&n, 1100), TS_NET_STAGGER_MS - 100);
	n.next = 2;
	CHECK_INT(ts_net_timeout(&n, 1100), 4900);
	CHECK_INT(ts_net_timeout(&n, 7000), 0);
	ts_net_abort(&n);
}

static const struct test_case cases[] = {
	TEST(connect_ipv4),
	TEST(connect_ipv6),
	TEST(refused),
	TEST(refused_both_families),
	TEST(localhost_falls_through),
	TEST(timeout_ipv4),
	TEST(timeout_ipv6),
	TEST(timeout_words),
	TEST(stagger),
	TEST(refused_then_next_at_once),
	TEST(hole_refused_listener),
	TEST(timeout_bounds_whole_race),
	TEST(unresolvable),
	TEST(resolve_literals),
	TEST(no_address),
	TEST(poll_timeout),
};

int
main(int argc, char **argv)
{
	int rc;

	/* Read by the resolver when it first initialises: set it first. */
	setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
	rc = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	cleanup();
	return rc;
}
