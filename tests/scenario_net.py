#!/usr/bin/env python3
"""scenario_net.py: the connect race through the whole binary (issue 12
item 8, RFC 8305).  tests/shim_gai.c, LD_PRELOADed into tsino, makes
getaddrinfo slow (TSINO_SHIM_GAI_DELAY_MS) or gives it fixed answers
(TSINO_SHIM_GAI_ADDRS), so that `tsino rounds` against the fake API's
plain port (http://localhost:PORT, loopback, so no --insecure-plaintext)
meets a black-holed address first and the server second:

- hole_first: the race starts the server's address 250 ms after the
  hole's and the fetch succeeds;
- hole_first_names: -v names both addresses tried and the winner;
- slow_lookup: the same with a 2.5 s lookup and --connect-timeout 2: the
  connect timeout is counted from after the lookup, so this still works;
- ipv4_first: the family getaddrinfo put first is tried first, IPv4 or
  IPv6 (the server sees which); ipv4_first_names: -v says so.

Every wait is scaled by TSINO_TEST_SLOW (default 1; in tests/scen.py)."""

import os
import re
import select
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scen  # noqa: E402
from scen import check, check_eq, Failure  # noqa: E402

GAME = 'stake-crash'
SLOW = scen.SLOW        # the helpers in scen scale their waits themselves
SHIM = os.path.join(scen.ROOT, os.environ.get('B', 'build'), 'shim_gai.so')
LOOKUP_MS = 2500        # the slow lookup: longer than the connect timeout
CONNECT_TIMEOUT = '2'   # --connect-timeout for the slow lookup, seconds
STAGGER = 0.25          # TS_NET_STAGGER_MS


def preload():
    """LD_PRELOAD for tsino: the shim, after the ASan runtime when tsino
    is a gcc ASan build, since ASan insists on coming first in the list
    of libraries (clang links its runtime into the binary: nothing to
    add)."""
    if not os.path.exists(SHIM):
        raise Failure('no %s: build it with `make %s`'
                      % (SHIM, os.path.relpath(SHIM, scen.ROOT)))
    first = []
    try:
        out = subprocess.run(['ldd', scen.TSINO], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ''
    for line in out.splitlines():
        m = re.match(r'\s*(libasan\.so\S*)\s+=>\s+(\S+)', line)
        if m:
            first.append(m.group(2))
    return ' '.join(first + [SHIM])


def shim_env(c, addrs, delay_ms=0):
    """tsino's environment: the key, no TLS settings, the shim answering
    every lookup with addrs (a list of "HOST:PORT") after delay_ms."""
    env = c.tsino_env(None, ca=None)
    env['LD_PRELOAD'] = preload()
    env['TSINO_SHIM_GAI_ADDRS'] = ','.join(addrs)
    env['TSINO_SHIM_GAI_DELAY_MS'] = str(delay_ms)
    return env


def check_black_hole(port):
    """The fake API's black hole really drops SYNs on this kernel: a
    connect to it has not completed after 0.3 s."""
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(('127.0.0.1', port))
    except BlockingIOError:
        pass
    except OSError as e:
        s.close()
        raise Failure('black hole port %d: connect failed at once (%s)'
                      % (port, e))
    wait = 0.3 * SLOW
    _, w, _ = select.select([], [s], [], wait)
    s.close()
    check(not w, 'port %d answered a connect within %.1f s: this kernel '
          'does not black-hole SYNs to a full accept queue' % (port, wait))


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(('::1', 0))
        s.close()
        return True
    except OSError:
        return False


def expected(api):
    rs = sorted(api.rounds(GAME),
                key=lambda r: (r['finalized_at'], r['round_index']))
    return [r['line'] for r in rs]


def hole_api(c, *extra):
    api = c.fakeapi('--paused', '--history', '2', '--no-tls', '--blackhole',
                    *extra)
    check_black_hole(api.port('blackhole'))
    return api


def rounds(c, api, env, *args, timeout=8.0):
    """`tsino rounds GAME --api http://localhost:PLAIN/BASE ARGS`: the
    name is what the shim answers for."""
    argv = [scen.TSINO, 'rounds', GAME, '--api',
            'http://localhost:%d%s' % (api.plain, api.base)] + list(args)
    return c.run(argv, timeout=timeout, env=env)


def check_ok(p, api, what):
    if p.rc != 0:
        raise Failure('%s: exit %s after %.1f s, stderr %r'
                      % (what, p.rc, p.elapsed, p.stderr[-3:]))
    check_eq(p.stdout, expected(api), '%s: stdout' % what)


def accepted_families(api, n0=0):
    return [e['family'] for e in api.log('accept')[n0:]]


def note_lines(p, verb, addr):
    """(arrival time, line) of tsino's stderr lines that say verb ("connecting
    to", "connected to") addr ("127.0.0.1:40001", "[::1]:40001")."""
    pat = re.compile(r'\b%s %s(?![0-9])' % (re.escape(verb),
                                             re.escape(addr)))
    with p.lock:
        return [(t, l) for t, l in p.err if pat.search(l)]


def check_named(p, verb, addr, what):
    got = note_lines(p, verb, addr)
    if not got:
        raise Failure('%s: -v never says "%s %s"; stderr was:\n      %s'
                      % (what, verb, addr, '\n      '.join(p.stderr)))
    return got


# ------------------------------------------------------------ cases

def t_hole_first(c):
    """[hole, server]: every connection waits 250 ms for the hole, then
    reaches the server; nothing in -v needed."""
    api = hole_api(c)
    env = shim_env(c, ['127.0.0.1:%d' % api.port('blackhole'),
                       '127.0.0.1:%d' % api.plain])
    p = rounds(c, api, env)
    check_ok(p, api, 'hole first')
    n = len(api.log('request', kind='rest'))
    check(n >= 1, 'no REST request reached the server')
    # Each request is a new connection that waited the stagger once.
    check(p.elapsed >= n * STAGGER - 0.05, '%d connections in %.2f s: the '
          'hole was not tried first' % (n, p.elapsed))


def t_hole_first_names(c):
    """-v names the hole and the server as attempts start, then the
    server as the winner, in that order, the second 250 ms after the
    first."""
    api = hole_api(c)
    hole = '127.0.0.1:%d' % api.port('blackhole')
    good = '127.0.0.1:%d' % api.plain
    p = rounds(c, api, shim_env(c, [hole, good]), '-v')
    check_ok(p, api, 'hole first -v')
    t_hole = check_named(p, 'connecting to', hole, '-v')[0][0]
    t_good = check_named(p, 'connecting to', good, '-v')[0][0]
    t_won = check_named(p, 'connected to', good, '-v')[0][0]
    check(t_hole <= t_good <= t_won, '-v lines out of order: %r' % p.stderr)
    # The times are the lines' arrivals: a reader slowed by load can get
    # both lines at once, so only the upper bound is read from them; the
    # run itself cannot be shorter than the stagger (hole_first checks
    # every connection waited it).
    gap = t_good - t_hole
    check(gap <= STAGGER + 0.5 * SLOW,
          'second attempt %.3f s after the first, want about %.2f s'
          % (gap, STAGGER))
    check(p.elapsed >= STAGGER - 0.05, 'run of %.3f s: the second attempt '
          'did not wait the %.2f s stagger' % (p.elapsed, STAGGER))
    check_eq(note_lines(p, 'connected to', hole), [], 'connected to the hole')


def t_slow_lookup(c):
    """Issue 12: a 2.5 s lookup, --connect-timeout 2, [hole, server]: the
    timeout counts from after the lookup, so the race staggers by 250 ms
    and reaches the server; -v names both addresses and the winner."""
    api = hole_api(c)
    hole = '127.0.0.1:%d' % api.port('blackhole')
    good = '127.0.0.1:%d' % api.plain
    env = shim_env(c, [hole, good], delay_ms=LOOKUP_MS)
    n0 = len(api.log('accept'))
    p = rounds(c, api, env, '-v', '--connect-timeout', CONNECT_TIMEOUT,
               timeout=12.0)
    if p.rc != 0 and len(api.log('accept')) == n0:
        # Issue 12's symptom, told apart from other failures: a timeout
        # right after the lookup and nothing accepted (strace shows one
        # connect(), to the hole, abandoned a millisecond later).
        timed_out = [l for l in p.stderr if 'timed out' in l]
        tried = [l for l in p.stderr
                 if re.search(r'\bconnecting to (?:\[|[0-9])', l)]
        raise Failure(
            'exit %s after %.1f s (the lookup alone takes %.1f s), %r; '
            'attempts named by -v: %d; connections the server accepted: '
            '0.  The %s s connect timeout was spent on the lookup and the '
            'race gave up before the server\'s address got its turn '
            '(issue 12: the race must start from a time read after the '
            'lookup)'
            % (p.rc, p.elapsed, LOOKUP_MS / 1000.0,
               timed_out[-1] if timed_out else p.stderr[-1:], len(tried),
               CONNECT_TIMEOUT))
    check_ok(p, api, 'slow lookup')
    t_hole = check_named(p, 'connecting to', hole, 'slow lookup')[0][0]
    t_good = check_named(p, 'connecting to', good, 'slow lookup')[0][0]
    check_named(p, 'connected to', good, 'slow lookup')
    check(t_hole - p.started >= LOOKUP_MS / 1000.0 - 0.05,
          'first attempt %.2f s after the start, before the lookup ended'
          % (t_hole - p.started))
    # Arrival times again (see hole_first_names): the lower bound on
    # the run, which holds the lookup and then the stagger.
    gap = t_good - t_hole
    check(gap <= STAGGER + 0.5 * SLOW,
          'second attempt %.3f s after the first, want about %.2f s'
          % (gap, STAGGER))
    check(p.elapsed >= LOOKUP_MS / 1000.0 + STAGGER - 0.05,
          'run of %.3f s: shorter than the lookup and the stagger'
          % p.elapsed)


t_slow_lookup.timeout = 25


def family_api(c):
    """A fake API on 127.0.0.1 and ::1 (same port), or None if this
    machine has no ::1."""
    if not have_ipv6():
        print('(skipped: no ::1 here) ', end='')
        return None
    return c.fakeapi('--paused', '--history', '2', '--no-tls', '--ipv6')


def t_ipv4_first(c):
    """getaddrinfo says [127.0.0.1, ::1]: both work, and the server sees
    IPv4 only (IPv6 would have been tried first before issue 12); in the
    other order it sees IPv6 only."""
    api = family_api(c)
    if api is None:
        return
    v4, v6 = '127.0.0.1:%d' % api.plain, '[::1]:%d' % api.plain
    for addrs, fam in (([v4, v6], 'AF_INET'), ([v6, v4], 'AF_INET6')):
        n0 = len(api.log('accept'))
        p = rounds(c, api, shim_env(c, addrs))
        check_ok(p, api, ','.join(addrs))
        got = accepted_families(api, n0)
        check(got, '%s: the server accepted nothing' % ','.join(addrs))
        check_eq(set(got), {fam}, '%s: families the server accepted'
                 % ','.join(addrs))


def t_ipv4_first_names(c):
    """-v with [127.0.0.1, ::1]: IPv4 tried first and connected; ::1 not
    tried at all (IPv4 answers within the 250 ms)."""
    api = family_api(c)
    if api is None:
        return
    v4, v6 = '127.0.0.1:%d' % api.plain, '[::1]:%d' % api.plain
    p = rounds(c, api, shim_env(c, [v4, v6]), '-v')
    check_ok(p, api, 'IPv4 first -v')
    check_named(p, 'connecting to', v4, 'IPv4 first')
    check_named(p, 'connected to', v4, 'IPv4 first')
    first = [l for l in p.stderr if re.search(r'\bconnecting to [0-9[]',
                                              l)][0]
    check(v4 in first, 'first attempt: %r, want %s' % (first, v4))
    check_eq(note_lines(p, 'connecting to', v6), [], 'attempts to ::1')


def t_eight_addresses(c):
    """A host with 8 addresses, 7 black holes first (issue 13 item 14):
    the open stream takes one poll slot and the REST link's race needs
    8, so the client must be given (and fill) more than 8 slots, or the
    8th address, the only one that works, is never polled: the backfill
    never runs and the live rounds stay held.  tsino passes
    TS_CLIENT_MAX_POLLFDS (16)."""
    api = c.fakeapi('--no-tls', '--blackhole', '--games', GAME, '--rate',
                    '0', '--ping-ms', '300')
    hole = '127.0.0.1:%d' % api.port('blackhole')
    check_black_hole(api.port('blackhole'))
    env = shim_env(c, [hole] * 7 + ['127.0.0.1:%d' % api.plain])
    p = c.spawn([scen.TSINO, 'stream', '--games', GAME, '--heartbeat', '1',
                 '--connect-timeout', '4', '--api',
                 'http://localhost:%d%s' % (api.plain, api.base)], env=env)
    api.wait_for('request', kind='ws', status=101, timeout=15)
    api.control(generate=3)
    scen.wait_until(lambda: len(p.stdout) >= 3, 15,
                    what='the 3 live rounds, released after a backfill '
                    'whose race needs 8 addresses',
                    got=lambda: '%d' % len(p.lines))
    c.stop(p)
    check_eq(p.stdout, expected(api), 'stdout')


def t_one_lookup_per_backfill(c):
    """Issue 13 item 15: the name lookup blocks the loop, so a backfill
    resolves once and its pages reuse the addresses; a page that fails
    (here a 503 with Retry-After: 1) resolves again.  `tsino rounds`, 20
    rounds in pages of 8: 2 lookups for the refused request and 3 or more
    pages.  (c6b532c: one
    lookup per request.)"""
    api = c.fakeapi('--paused', '--history', '20', '--no-tls',
                    '--retry-after', '1', '--rest-refuse', '1')
    log = c.path('lookups')
    env = c.tsino_env(None, ca=None)
    env['LD_PRELOAD'] = preload()
    env['TSINO_SHIM_GAI_LOG'] = log
    argv = [scen.TSINO, 'rounds', GAME, '--api', 'http://localhost:%d/_v/'
            'page=8%s' % (api.plain, api.base)]
    p = c.run(argv, timeout=10, env=env)
    check_ok(p, api, 'rounds in pages of 8')
    reqs = api.log('request', kind='rest')
    with open(log) as f:
        lookups = f.read().splitlines()
    check(len(reqs) >= 4, 'REST requests: %d, want the refused one and '
          '3 or more pages' % len(reqs))
    check_eq(lookups, ['localhost %d' % api.plain] * 2,
             'lookups (one per backfill, one after the failed page)')


CASES = [t_hole_first, t_hole_first_names, t_slow_lookup, t_ipv4_first,
         t_ipv4_first_names, t_eight_addresses, t_one_lookup_per_backfill]

if __name__ == '__main__':
    scen.main(CASES, timeout=20)
