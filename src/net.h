/*
 * net: name resolution and a non-blocking TCP connect race, driven by
 * the caller's poll() loop.  The only module that opens sockets.
 *
 * Use: ts_net_resolve() (blocks in getaddrinfo), ts_net_start(), then
 * on each loop turn ts_net_pollfds() / ts_net_timeout() to build the
 * poll() set and ts_net_step() with the result, until step returns 1
 * (n->fd is the connected socket, now owned by the caller) or an error
 * (n->why says what happened in words).  ts_net_abort() closes every
 * socket still in flight; it is safe to call at any time.
 *
 * Zero a struct ts_net once before its first ts_net_resolve() (static
 * storage, calloc or memset): resolve resets every field but note and
 * note_arg, which the caller sets once and which then stay.
 */
#ifndef TS_NET_H
#define TS_NET_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

struct addrinfo;

#define TS_NET_MAX_ADDRS 8	/* addresses tried per connect (tsino.h's
				   TS_CLIENT_MAX_POLLFDS counts on 8) */
#define TS_NET_STAGGER_MS 250	/* RFC 8305 "Connection Attempt Delay" */

struct ts_net {
	struct sockaddr_storage addr[TS_NET_MAX_ADDRS];
	socklen_t addrlen[TS_NET_MAX_ADDRS];
	int inflight[TS_NET_MAX_ADDRS];	/* socket per address, -1 if none */
	int naddr;
	int next;		/* next address to start */
	int64_t next_at;	/* when to start it (monotonic ms) */
	int64_t started;	/* ts_net_start()'s now; none before counts */
	int64_t deadline;	/* the whole attempt's end */
	int fd;			/* the winner, once step returned 1 */
	int last_err;		/* most telling failure so far */
	char why[192];		/* that failure in words */
	/*
	 * Optional, for -v: when note is not NULL it is called with
	 * note_arg and one line of words (no newline, valid only during
	 * the call) for each attempt started ("connecting to
	 * 127.0.0.1:8443"), each attempt that failed ("connection refused
	 * by [::1]:8443", "cannot connect to 127.0.0.1:8443: Network is
	 * unreachable"), each still unanswered when the race timed out
	 * ("no answer from 127.0.0.1:8443 before the connect timeout") and
	 * the winner ("connected to [::1]:8443").  Only ts_net_step()
	 * calls it, so it must not call back into ts_net for the same n.
	 * ts_net_resolve() keeps both fields, which must stay last.
	 */
	void (*note)(void *arg, const char *line);
	void *note_arg;
};

/* Monotonic clock in milliseconds: every deadline in tsino uses it. */
int64_t
ts_net_now(void);

/*
 * Resolve host (a name or an IP literal without brackets) and port into
 * n's address list, in ts_net_set_addrs()'s order.  Blocks in
 * getaddrinfo(3), which follows the system resolver's own timeouts, and
 * reads no clock.  Resets n (but not note and note_arg, see above).
 * Returns 0, or TS_ERR_NET_RESOLVE with n->why set.
 */
int
ts_net_resolve(struct ts_net *n, const char *host, unsigned port);

/*
 * Replace n's address list with the IPv4 and IPv6 addresses of res (a
 * getaddrinfo(3) result, not kept), families interleaved starting with
 * the family of res's first address (RFC 8305 §4: getaddrinfo has
 * already sorted by RFC 6724 and /etc/gai.conf, and that first choice
 * is the one to honour); other families are skipped, and at most
 * TS_NET_MAX_ADDRS are kept.  The second half of ts_net_resolve(), on
 * its own so the order can be tested without a resolver.
 */
void
ts_net_set_addrs(struct ts_net *n, const struct addrinfo *res);

/*
 * Begin connecting at time now (ts_net_now()); the whole race ends
 * after timeout_ms.  Read now after ts_net_resolve() has returned: the
 * lookup may block for seconds, and a time read before it would spend
 * the connect timeout on the lookup (the race could end before its
 * first attempt starts).  A now given to ts_net_step() or
 * ts_net_timeout() that is earlier than this one (a loop turn's time
 * read before the lookup) counts as this one.
 */
void
ts_net_start(struct ts_net *n, int64_t now, int timeout_ms);

/*
 * Fill up to max pollfd slots with the sockets in flight (POLLOUT) and
 * return how many were filled.
 */
int
ts_net_pollfds(const struct ts_net *n, struct pollfd *pfd, int max);

/* Milliseconds until ts_net_step() must run again even without events. */
int
ts_net_timeout(const struct ts_net *n, int64_t now);

/*
 * Advance the race with the poll() results for the slots that
 * ts_net_pollfds() filled (pfd may be NULL when count is 0).  Returns 1
 * when a socket connected (n->fd; the others are closed), 0 while in
 * progress, or a negative error with n->why set once every address has
 * failed or the timeout passed.
 */
int
ts_net_step(struct ts_net *n, const struct pollfd *pfd, int count,
    int64_t now);

/* Close every socket still in flight (not n->fd once it was handed out). */
void
ts_net_abort(struct ts_net *n);

#endif /* TS_NET_H */
