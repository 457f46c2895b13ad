#!/usr/bin/env python3
"""scenario_rounds.py: `tsino rounds` end to end against tests/fakeapi.py
(issue 4): every REST body variant and paging over TLS compared with the
server's ground-truth log, each TLS failure, key handling, plaintext and
IP-literal refusal, network failures in bounded time, Retry-After, HTTP
errors and usage errors."""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scen  # noqa: E402
from scen import check, check_eq, Failure  # noqa: E402

GAME = 'stake-crash'
GAMES = 'stake-crash,roobet-crash'


def history_api(c, n=6, *extra):
    """A paused fake server with n back-dated rounds per game, one second
    apart (rate 1), so every round has its own finalized_at."""
    return c.fakeapi('--paused', '--rate', '1', '--history', str(n),
                     '--games', GAMES, *extra)


def expected(api, game=GAME, since=None):
    """Ground-truth lines of game, in the order tsino must print them."""
    rs = [r for r in api.rounds(game)
          if since is None or r['finalized_at'] >= since]
    rs.sort(key=lambda r: (r['finalized_at'], r['round_index']))
    return [r['line'] for r in rs]


def rounds(c, api, *args, variant=None, env=None, timeout=10.0,
           game=GAME):
    """Run `tsino rounds GAME --api <TLS URL by name> ARGS`."""
    argv = [scen.TSINO, 'rounds', game]
    if api is not None:
        argv += ['--api', api.url('tls', host='localhost', variant=variant)]
    argv += list(args)
    return c.run(argv, timeout=timeout,
                 env=env if env is not None else c.tsino_env(api))


def check_ok(p, want, what):
    if p.rc != 0:
        raise Failure('%s: exit %s, stderr %r' % (what, p.rc, p.stderr[-3:]))
    if p.stdout != want:
        for i, (g, w) in enumerate(zip(p.stdout, want)):
            if g != w:
                raise Failure('%s: line %d differs:\n      got  %.300s\n'
                              '      want %.300s' % (what, i + 1, g, w))
        raise Failure('%s: %d lines, want %d' % (what, len(p.stdout),
                                                 len(want)))


def check_fail(p, rc, text, what):
    """Exit status rc, a stderr line holding text, nothing on stdout."""
    if p.rc != rc:
        raise Failure('%s: exit %s, want %s; stderr %r'
                      % (what, p.rc, rc, p.stderr[-3:]))
    if not any(text in line for line in p.stderr):
        raise Failure('%s: no %r on stderr: %r' % (what, text, p.stderr))
    check_eq(p.stdout, [], '%s: stdout' % what)


def no_key_sent(api, what):
    """The server never saw a request (so never the key)."""
    reqs = [e for e in api.log('request') if e['kind'] != 'control']
    check_eq(reqs, [], '%s: requests the server received' % what)


# ------------------------------------------------------------ bodies

def t_body_variants(c):
    """Every body shape x framing x spacing gives the ground truth, sorted
    (the server shuffles rows), game_id first, every member kept."""
    api = history_api(c, 6)
    want = expected(api)
    check_eq(len(want), 6, 'history rounds')
    variants = ['array,length', 'rounds,chunked', 'data,eof',
                'array,chunked,pretty', 'rounds,eof,tabs',
                'data,length,pretty', 'data,chunked,tabs', 'array,eof']
    for v in variants:
        p = rounds(c, api, variant=v)
        check_ok(p, want, v)
    for line in want:
        check(line.startswith('{"game_id":"stake-crash","round_id":'),
              'game_id first: %.60s' % line)
    reqs = api.log('request', kind='rest')
    got = set((e['shape'], e['framing'], e['pretty'] or '') for e in reqs)
    for v in variants:
        toks = v.split(',')
        sp = {'pretty': 'spaces', 'tabs': 'tabs'}.get(
            toks[2] if len(toks) > 2 else '', '')
        if (toks[0], toks[1], sp) not in got:
            raise Failure('variant %s never served: %r' % (v, got))
    # Another game: its own rows, nothing of the first.
    p = rounds(c, api, variant='rounds,chunked', game='roobet-crash')
    check_ok(p, expected(api, 'roobet-crash'), 'roobet-crash')


t_body_variants.timeout = 30


def t_paging(c):
    """Pages of 3 over 8 rounds: pages followed with since = the greatest
    finalized_at; the row repeated at each boundary printed once; paging
    stops at a page with nothing new."""
    api = history_api(c, 8)
    want = expected(api)
    for v in ('array,chunked,page=3', 'data,length,pretty,page=3',
              'rounds,eof,page=2'):
        n0 = len(api.log('request', kind='rest'))
        p = rounds(c, api, variant=v)
        check_ok(p, want, v)
        reqs = api.log('request', kind='rest')[n0:]
        check(len(reqs) >= 3, '%s: %d requests, want pages' % (v, len(reqs)))
        for a, b in zip(reqs, reqs[1:]):
            check(set(a['round_ids']) & set(b['round_ids']),
                  '%s: no row repeated at a page boundary' % v)
            last = max(r['finalized_at'] for r in api.rounds(GAME)
                       if r['round_id'] in a['round_ids'])
            check_eq(b['since'], last, '%s: next page since' % v)
        check_eq(reqs[0]['since'], None, '%s: first page since' % v)
        check(set(reqs[-1]['round_ids']) <= set(reqs[-2]['round_ids']),
              '%s: paging went on after a page with nothing new' % v)
        for e in reqs:
            check_eq(e['auth'], 'ok', 'auth')


t_paging.timeout = 30


def t_since_inclusive(c):
    api = history_api(c, 6)
    rs = sorted(api.rounds(GAME), key=lambda r: r['finalized_at'])
    since = rs[2]['finalized_at']
    want = expected(api, since=since)
    check_eq(len(want), 4, 'rounds at or after since')
    p = rounds(c, api, '--since', since, variant='array,chunked')
    check_ok(p, want, '--since %s' % since)
    first = api.log('request', kind='rest')[0]
    check_eq(first['since'], since, 'since sent')
    check(rs[2]['line'] == p.stdout[0], 'the round AT since printed')
    # --since=value form, and an offset instead of Z
    off = since[:-1] + '+00:00'
    p = rounds(c, api, '--since=' + off, variant='rounds,length')
    check_ok(p, want, '--since=%s' % off)


def t_format_text(c):
    api = history_api(c, 3)
    rs = sorted(api.rounds(GAME), key=lambda r: (r['finalized_at'],
                                                 r['round_index']))
    want = ['%s %sx at %s' % (GAME, r['multiplier'], r['finalized_at'])
            for r in rs]
    p = rounds(c, api, '--format', 'text', variant='data,chunked')
    check_ok(p, want, '--format text')


# ------------------------------------------------------------ TLS

def t_tls_failures(c):
    """Each TLS failure in its own words, exit 1, nothing printed, and the
    key never sent (the server saw no request)."""
    api = c.fakeapi('--paused', '--history', '2', '--cert', 'good-ec',
                    '--cert', 'expired', '--cert', 'wronghost', '--cert',
                    'selfsigned')
    env = c.tsino_env(api)
    for kind, text in (('expired', 'certificate expired or not yet valid'),
                       ('wronghost', 'certificate is for another host'),
                       ('selfsigned', 'not signed by a trusted authority')):
        p = c.run([scen.TSINO, 'rounds', GAME, '--api',
                   api.url(kind, host='localhost')], env=env)
        check_fail(p, 1, text, kind)
        if kind == 'expired':
            check(any('local clock' in l for l in p.stderr),
                  'expired: the local clock is shown')
    # No usable trust store: an empty bundle, a missing file.
    url = api.url('tls', host='localhost')
    p = c.run([scen.TSINO, 'rounds', GAME, '--api', url, '--ca-file',
               scen.cert('empty.pem')], env=env)
    check_fail(p, 1, 'no usable certificate', 'empty.pem')
    p = c.run([scen.TSINO, 'rounds', GAME, '--api', url, '--ca-file',
               c.path('missing.pem')], env=env)
    check_fail(p, 1, 'cannot read trust store', 'missing trust store')
    # SSL_CERT_FILE is the trust store when there is no --ca-file.
    p = c.run([scen.TSINO, 'rounds', GAME, '--api', url],
              env=c.tsino_env(api, ca='empty.pem'))
    check_fail(p, 1, 'no usable certificate', 'SSL_CERT_FILE empty.pem')
    # The texts differ from one another.
    no_key_sent(api, 'TLS failures')
    # And the good one works with the same environment.
    p = c.run([scen.TSINO, 'rounds', GAME, '--api', url], env=env)
    check_ok(p, expected(api), 'good certificate')


t_tls_failures.timeout = 30


def t_ip_literal(c):
    """https to an IP literal: refused with a clear error, exit 2, before
    any connection."""
    api = history_api(c, 1)
    p = c.run([scen.TSINO, 'rounds', GAME, '--api',
               api.url('tls', host='127.0.0.1')], env=c.tsino_env(api))
    check_fail(p, 2, 'IP address', 'https://127.0.0.1')
    check_eq(api.log('accept'), [], 'connections accepted')


# ------------------------------------------------------------ the key

def t_missing_key(c):
    api = history_api(c, 1)
    p = c.run([scen.TSINO, 'rounds', GAME, '--api',
               api.url('tls', host='localhost')],
              env=c.tsino_env(api, key=None))
    check_fail(p, 3, 'no API key', 'no key')
    p = c.run([scen.TSINO, 'rounds', GAME, '--api',
               api.url('tls', host='localhost')],
              env=c.tsino_env(api, key='  '))
    check_fail(p, 3, 'no API key', 'blank key')
    scen.sleep(0.2)
    check_eq(api.log('accept'), [], 'connections accepted without a key')


def t_long_key(c):
    """A key the request cannot carry (issue 13 item 11): exit 3 at
    start with the limit in words, not 'no API key', and no connection;
    the same for a key over the 4095 bytes tsino reads."""
    api = history_api(c, 1)
    url = api.url('tls', host='localhost')
    for n, words in ((4000, 'too long'), (5000, 'longer than')):
        p = c.run([scen.TSINO, 'rounds', GAME, '--api', url],
                  env=c.tsino_env(api, key='k' * n))
        check_fail(p, 3, words, '%d-byte key' % n)
        check(not any('no API key' in l for l in p.stderr),
              '%d-byte key reported as no key' % n)
        check(not any('k' * 64 in l for l in p.stderr),
              '%d-byte key echoed on stderr' % n)
    # a non-ASCII key (review of issue 13): refused at start, not by a
    # stream that retries "cannot write the request" forever
    kf = c.key_file('caf\u00e9-key')
    p = c.run([scen.TSINO, 'rounds', GAME, '--api', url, '--key-file', kf],
              env=c.tsino_env(api, key=None))
    check_fail(p, 3, 'cannot carry', 'non-ASCII key')
    scen.sleep(0.2)
    check_eq(api.log('accept'), [], 'connections accepted with a long key')


def t_wrong_key(c):
    """401 and 403: exit 3 after one request, the server's message shown,
    the key never echoed."""
    secret = 'WRONG-kq7Zx93-distinctive-secret'
    api = history_api(c, 2)
    for status in (401, 403):
        api.control(auth_status=status)
        n0 = len(api.log('request', kind='rest'))
        p = rounds(c, api, env=c.tsino_env(api, key=secret))
        check_fail(p, 3, 'HTTP %d' % status, 'wrong key %d' % status)
        reqs = api.log('request', kind='rest')[n0:]
        check_eq(len(reqs), 1, 'requests with a wrong key')
        check_eq(reqs[0]['auth'], 'wrong', 'server saw')
        check(any('invalid API key' in l for l in p.stderr),
              "the server's message on stderr: %r" % p.stderr)
        for line in p.stdout + p.stderr:
            check(secret not in line and 'kq7Zx93' not in line,
                  'key echoed: %r' % line)
    # The same through --key-file.
    kf = c.key_file(secret)
    p = rounds(c, api, '--key-file', kf, env=c.tsino_env(api, key=None))
    check_fail(p, 3, 'HTTP 403', 'wrong key from a file')
    for line in p.stdout + p.stderr:
        check('kq7Zx93' not in line, 'key echoed: %r' % line)


def t_key_file(c):
    api = history_api(c, 2)
    want = expected(api)
    env = c.tsino_env(api, key=None)
    kf = c.key_file(scen.KEY, mode=0o600)
    p = rounds(c, api, '--key-file', kf, env=env)
    check_ok(p, want, 'key file 600')
    check(not any('readable' in l for l in p.stderr), 'no warning at 600')
    os.chmod(kf, 0o644)
    p = rounds(c, api, '--key-file', kf, env=env)
    check_ok(p, want, 'key file 644')
    check(any('readable by group or others' in l for l in p.stderr),
          'warning for a 644 key file: %r' % p.stderr)
    # Trailing spaces and CRLF stripped; the file wins over the env.
    with open(kf, 'w') as f:
        f.write(scen.KEY + '  \r\nsecond line\n')
    os.chmod(kf, 0o600)
    p = rounds(c, api, '--key-file', kf,
               env=c.tsino_env(api, key='env-key-loses'))
    check_ok(p, want, 'key file with trailing junk')
    # A key with a control character: refused before any connection.
    n0 = len(api.log('accept'))
    with open(kf, 'w') as f:
        f.write('abc\x1bdef-ctl-key\n')
    p = rounds(c, api, '--key-file', kf, env=env)
    check_fail(p, 3, 'control character', 'ESC in the key file')
    p = rounds(c, api, env=c.tsino_env(api, key='abc\x01def'))
    check_fail(p, 3, 'control character', 'SOH in the env key')
    for line in p.stderr:
        check('abc' not in line, 'key echoed: %r' % line)
    p = rounds(c, api, '--key-file', c.path('nope'), env=env)
    check_fail(p, 3, 'cannot read key file', 'missing key file')
    check_eq(len(api.log('accept')), n0, 'connections for refused keys')


# ------------------------------------------------------------ plaintext

def t_plaintext(c):
    """Plain http to a host that is not loopback: exit 2 before any
    lookup (strace shows no socket at all); to loopback it works."""
    env = c.tsino_env(None)
    argv = [scen.TSINO, 'rounds', GAME, '--api', 'http://example.invalid/v1']
    p = c.run(argv, env=env, timeout=5)
    check_fail(p, 2, 'refusing to send the API key over plaintext',
               'http://example.invalid')
    check(p.elapsed < scen.scaled(1.0), 'refusal took %.2f s' % p.elapsed)
    if os.path.exists('/usr/bin/strace'):
        trace = c.path('strace.out')
        p = c.run(['/usr/bin/strace', '-f', '-qq', '-e',
                   'trace=socket,connect,sendto', '-o', trace] + argv,
                  env=env, timeout=10)
        if p.rc != 2:
            # strace may be unusable here (ptrace denied): say nothing.
            check(any('ptrace' in l or 'strace' in l for l in p.stderr),
                  'under strace: exit %s' % p.rc)
        else:
            with open(trace) as f:
                calls = [l for l in f if 'socket(' in l or 'connect(' in l]
            check_eq(calls, [], 'network calls before the refusal')
    for host in ('10.1.2.3', '[fe80::1]', 'localhost.example'):
        p = c.run([scen.TSINO, 'rounds', GAME, '--api',
                   'http://%s:8080/v1' % host], env=env, timeout=5)
        check_fail(p, 2, 'plaintext', 'http://%s' % host)
    # Loopback as written is allowed over plain HTTP.
    api = history_api(c, 2)
    for host in ('127.0.0.1', 'localhost'):
        p = c.run([scen.TSINO, 'rounds', GAME, '--api',
                   api.url('plain', host=host)], env=env)
        check_ok(p, expected(api), 'plain to %s' % host)


# ------------------------------------------------------------ network

def t_connection_refused(c):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    p = c.run([scen.TSINO, 'rounds', GAME, '--api',
               'http://127.0.0.1:%d/v1' % port], env=c.tsino_env(None),
              timeout=5)
    check_fail(p, 1, 'connection refused', 'closed port')
    check(p.elapsed < scen.scaled(1.0), 'refused after %.2f s' % p.elapsed)


def t_connect_timeout(c):
    """A port whose accept queue is full never answers the SYN: "timed
    out" after --connect-timeout; a port that accepts and never answers:
    the same bound on the response."""
    api = c.fakeapi('--paused', '--blackhole', '--no-tls')
    for kind, text in (('blackhole', 'timed out'),
                       ('stall', 'no response within')):
        p = c.run([scen.TSINO, 'rounds', GAME, '--connect-timeout', '1',
                   '--api', 'http://127.0.0.1:%d/v1' % api.port(kind)],
                  env=c.tsino_env(None), timeout=6)
        check_fail(p, 1, text, kind)
        check(0.9 <= p.elapsed <= 1 + scen.scaled(1.0),
              '%s: gave up after %.2f s (timeout '
              '1 s)' % (kind, p.elapsed))


def t_unresolvable(c):
    env = c.tsino_env(None, RES_OPTIONS='timeout:1 attempts:1')
    p = c.run([scen.TSINO, 'rounds', GAME, '--api',
               'https://nonexistent.invalid/v1'], env=env, timeout=15)
    check_fail(p, 1, 'cannot resolve nonexistent.invalid', '.invalid')
    check(p.elapsed < scen.scaled(8.0), 'resolution failed after %.2f s'
          % p.elapsed)


# ------------------------------------------------------------ HTTP errors

def gap_after_refusal(api, n0):
    """Seconds between the refused REST request and the next one."""
    reqs = api.log('request', kind='rest')[n0:]
    check(len(reqs) >= 2, '%d requests, want a retry' % len(reqs))
    check(reqs[0]['status'] in (429, 503), 'first status %s'
          % reqs[0]['status'])
    return reqs[1]['t'] - reqs[0]['t'], reqs


def t_retry_after(c):
    """429/503 with Retry-After (seconds, HTTP-date) are waited out, then
    the fetch completes; without Retry-After they are fatal."""
    api = history_api(c, 3)
    want = expected(api)
    for status, secs, form, low in ((503, 1, 'delta', 0.95),
                                    (429, 2, 'delta', 1.95),
                                    (503, 1, 'date', 0.95)):
        api.control(rest_refuse=1, rest_refuse_status=status,
                    retry_after=secs, retry_after_form=form)
        n0 = len(api.log('request', kind='rest'))
        p = rounds(c, api, timeout=10)
        check_ok(p, want, '%d Retry-After %s %s' % (status, form, secs))
        gap, reqs = gap_after_refusal(api, n0)
        check(low <= gap <= secs + scen.scaled(2.2),
              '%d %s %d: retried after %.2f s'
              % (status, form, secs, gap))
        print('%s    %d Retry-After %s %d s: retried after %.3f s'
              % ('' if status != 503 or form != 'delta' else '\n', status,
                 form, secs, gap))
    api.control(rest_refuse=1, rest_refuse_status=503,
                retry_after_form='none')
    p = rounds(c, api)
    check_fail(p, 1, 'HTTP 503', '503 without Retry-After')


t_retry_after.timeout = 30


def t_http_errors(c):
    api = history_api(c, 2)
    for status, text in ((500, 'HTTP 500 Internal Server Error'),
                         (502, 'HTTP 502 Bad Gateway'),
                         (504, 'HTTP 504 Gateway Timeout')):
        api.control(rest_status=status)
        p = rounds(c, api)
        check_fail(p, 1, text, 'status %d' % status)
    api.control(rest_status=0)
    p = rounds(c, api, game='nope-crash')
    check_fail(p, 1, 'HTTP 404', 'unknown game')
    # A body cut short and a reset: errors, never a partial success.
    for mode in ('truncate', 'rst'):
        api.control(rest_refuse=1, rest_refuse_mode=mode)
        p = rounds(c, api)
        check(p.rc == 1, '%s: exit %s' % (mode, p.rc))
        check(p.stderr, '%s: no error said' % mode)


# ------------------------------------------------------------ usage

def t_usage(c):
    env = c.tsino_env(None)
    api_url = 'https://localhost:1/v1'
    cases = [
        (['rounds', GAME, '--bogus'], 'unknown option'),
        (['rounds', GAME, '--since'], 'needs a value'),
        (['rounds', GAME, '--since', 'yesterday'], 'RFC 3339'),
        (['rounds', GAME, '--since', '2026-05-28 15:05:15'], 'RFC 3339'),
        (['rounds', GAME, '--since', '2026-05-28T15:05:15'], 'RFC 3339'),
        (['rounds', GAME, '--state', c.path('st')], 'does not apply'),
        (['--state', c.path('st'), 'rounds', GAME], 'does not apply'),
        (['rounds', GAME, '--games', 'a'], 'does not apply'),
        (['rounds', GAME, '--above', '2'], 'does not apply'),
        (['rounds'], 'needs a GAME'),
        (['rounds', GAME, 'extra'], 'unexpected argument'),
        (['rounds', GAME, '--format', 'xml'], 'ndjson or text'),
        (['rounds', GAME, '--connect-timeout', '-1'], 'connect-timeout'),
        (['rounds', GAME, '--key', 'abc'], 'unknown option'),
        (['frobnicate'], 'unknown command'),
        ([], 'no command'),
        (['stream', '--since', '2026-05-28T15:05:15Z'], 'rounds only'),
        (['rounds', GAME, '--api', 'ftp://x/y'], ''),
        # a game is a slug (review of issue 13: "a b" printed nothing)
        (['rounds', 'a b', '--api', api_url], 'a game must be'),
        (['rounds', '..', '--api', api_url], 'a game must be'),
        (['stream', '--games', GAME + ',a\x7f', '--api', api_url],
         'a game must be'),
    ]
    for args, text in cases:
        pre = ['--api', api_url] if '--api' not in args else []
        p = c.run([scen.TSINO] + pre + args, env=env, timeout=5)
        if p.rc != 2:
            raise Failure('%r: exit %s, want 2; stderr %r'
                          % (args, p.rc, p.stderr[:2]))
        check(any(text in l for l in p.stderr),
              '%r: no %r on stderr: %r' % (args, text, p.stderr[:2]))
        check_eq(p.stdout, [], '%r: stdout' % args)
    p = c.run([scen.TSINO, '--help'], env=env)
    check(p.rc == 0 and any('tsino rounds' in l for l in p.stdout),
          '--help')
    p = c.run([scen.TSINO, '--version'], env=env)
    check(p.rc == 0 and p.stdout and p.stdout[0].startswith('tsino '),
          '--version')


CASES = [t_body_variants, t_paging, t_since_inclusive, t_format_text,
         t_tls_failures, t_ip_literal, t_missing_key, t_long_key,
         t_wrong_key, t_key_file, t_plaintext, t_connection_refused, t_connect_timeout,
         t_unresolvable, t_retry_after, t_http_errors, t_usage]

if __name__ == '__main__':
    scen.main(CASES, timeout=20)
