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
 */
#ifndef TS_NET_H
#define TS_NET_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>

#define TS_NET_MAX_ADDRS 8	/* addresses tried per connect */
#define TS_NET_STAGGER_MS 250	/* RFC 8305 "Connection Attempt Delay" */

struct ts_net {
	struct sockaddr_storage addr[TS_NET_MAX_ADDRS];
	socklen_t addrlen[TS_NET_MAX_ADDRS];
	int inflight[TS_NET_MAX_ADDRS];	/* socket per address, -1 if none */
	int naddr;
	int next;		/* next address to start */
	int64_t next_at;	/* when to start it (monotonic ms) */
	int64_t deadline;	/* the whole attempt's end */
	int timeout_ms;
	int fd;			/* the winner, once step returned 1 */
	int last_err;		/* most telling failure so far */
	char why[192];		/* that failure in words */
};

/* Monotonic clock in milliseconds: every deadline in tsino uses it. */
int64_t
ts_net_now(void);

/*
 * Resolve host (a name or an IP literal without brackets) and port into
 * n's address list, IPv6 and IPv4 interleaved as RFC 8305 §4 suggests.
 * Blocks in getaddrinfo(3), which follows the system resolver's own
 * timeouts.  Returns 0, or TS_ERR_NET_RESOLVE with n->why set.
 */
int
ts_net_resolve(struct ts_net *n, const char *host, unsigned port);

/* Begin connecting at time now; the whole race ends after timeout_ms. */
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

/* "127.0.0.1:8443" or "[::1]:8443" for log lines; out holds 64 bytes. */
void
ts_net_addr_str(const struct sockaddr *sa, char *out, size_t outlen);

#endif /* TS_NET_H */
