#!/usr/bin/env python3
"""scenario_stream.py: `tsino stream` end to end against tests/fakeapi.py
(issue 5, cases (a)-(j), then the heartbeat, framing faults and
handshake failures).  Every case uses short heartbeats (0.5 s) and a fast
server ping (200 ms), so each is bounded to a few seconds; timings are
taken from the server's ground-truth log and from when each line reached
tsino's stdout pipe."""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scen  # noqa: E402
from scen import check, check_eq, Failure  # noqa: E402

HB = 0.5
GAME = 'stake-crash'


def note(c, fmt, *args):
    """A measured figure, printed under the case's name."""
    first = not getattr(c, 'noted', False)
    c.noted = True
    sys.stdout.write(('\n' if first else '') + '    ' + (fmt % args) + '\n')
    sys.stdout.flush()


def stream_api(c, *args, games=GAME, rate='0', ping='200'):
    return c.fakeapi('--games', games, '--rate', rate, '--ping-ms', ping,
                     *args)


def spawn(c, api, *args, env=None, hb=HB, url=None):
    argv = [scen.TSINO, 'stream', '--heartbeat', str(hb)]
    if url is not None:
        argv += ['--api', url]
    argv += list(args)
    return c.spawn(argv, env=env if env is not None else c.tsino_env(api))


def ws_reqs(api, **match):
    return api.log('request', kind='ws', **match)


def connected(api, n=1, timeout=5.0):
    """Wait for n accepted upgrades (101); returns their request events."""
    return api.wait_for('request', count=n, timeout=timeout, kind='ws',
                        status=101)


def line_times(p):
    """{round_id: arrival time} of the lines tsino printed."""
    with p.lock:
        lines = list(p.lines)
    out = {}
    for t, line in lines:
        try:
            out[json.loads(line)['round_id']] = t
        except (ValueError, KeyError, TypeError):
            pass
    return out


def sent_on(api, conn):
    return api.log('ws_round', conn=conn)


def generate(api, n, game=None):
    cmd = {'generate': n}
    if game:
        cmd['game'] = game
    api.control(**cmd)


def check_key_hidden(p, secret):
    for line in p.stdout + p.stderr:
        check(secret not in line, 'the key shows in output: %r' % line)


# ------------------------------------------------------------ (a)

def t_a_clean_stream(c):
    """Lines equal the frames exactly (minified), whatever the framing on
    the wire; each line reaches the pipe at once (1 round/s)."""
    api = stream_api(c, rate='1')
    p = spawn(c, api)
    req = connected(api)[0]
    check_eq(req['auth'], 'ok', 'key sent')
    check(req['ws_key_ok'], 'Sec-WebSocket-Key well formed')
    check_eq(req['tls'], True, 'over TLS')
    p.wait_lines(3, timeout=8)
    api.control(paused=True)
    lat = []
    times = line_times(p)
    for e in sent_on(api, req['conn'])[:3]:
        lat.append(times[e['round_id']] - e['t'])
    note(c, 'pipe latency at 1 round/s: %s ms (line on stdout minus frame '
         'sent)', ', '.join('%.1f' % (x * 1000) for x in lat))
    check(max(lat) < scen.scaled(0.25), 'a line reached the pipe %.3f s '
          'after its frame' % max(lat))
    modes = [{'pretty': 'spaces'}, {'pretty': 'tabs'},
             {'pretty': '', 'split': 3, 'split_sleep_ms': 1.0},
             {'pretty': 'spaces', 'split': 7, 'split_sleep_ms': 0.5},
             {'split': 0, 'pretty': '', 'fragment': 40},
             {'fragment': 25, 'fragment_ping': True, 'pretty': 'tabs'},
             {'fragment': 0, 'fragment_ping': False, 'pretty': ''}]
    n = len(p.stdout)
    for m in modes:
        api.control(**m)
        generate(api, 2)
        n += 2
        p.wait_lines(n, timeout=5)
    scen.sleep(0.3)
    sent = sent_on(api, req['conn'])
    by_id = {r['round_id']: r for r in api.rounds()}
    want = [by_id[e['round_id']]['line'] for e in sent]
    check_eq(len(p.stdout), len(want), 'lines printed')
    for i, (got, w) in enumerate(zip(p.stdout, want)):
        if got != w:
            raise Failure('line %d differs:\n      got  %.300s\n      want '
                          '%.300s' % (i + 1, got, w))
    scen.check_output(p.stdout, api.rounds())
    check_eq(len(ws_reqs(api)), 1, 'connections')
    c.stop(p)
    check_eq(p.rc, 0, 'exit after SIGTERM')


t_a_clean_stream.timeout = 25


# ------------------------------------------------------------ (b)

def t_b_games(c):
    api = stream_api(c, games='stake-crash,roobet-crash,duel-crash')
    p = spawn(c, api, '--games', 'stake-crash,duel-crash')
    req = connected(api)[0]
    check_eq(req['games'], ['stake-crash', 'duel-crash'], 'games received')
    check_eq(req['games_raw'], 'stake-crash,duel-crash',
             'games sent with literal commas')
    check('games=stake-crash,duel-crash' in (req['query'] or ''),
          'query %r' % req['query'])
    generate(api, 3)
    p.wait_lines(6, timeout=5)
    scen.sleep(0.3)
    check_eq(len(p.stdout), 6, 'lines of the two games')
    games = set(json.loads(l)['game_id'] for l in p.stdout)
    check_eq(games, {'stake-crash', 'duel-crash'}, 'games printed')
    scen.check_output(p.stdout, api.rounds())
    c.stop(p)
    # No --games, and an empty one: no games parameter at all.
    for extra in ([], ['--games', ''], ['--games=']):
        n0 = len(ws_reqs(api))
        q = spawn(c, api, *extra)
        api.wait_for('request', count=n0 + 1, kind='ws', status=101)
        r = ws_reqs(api)[n0]
        check_eq(r['games'], None, '%r: games' % extra)
        check('games' not in (r['query'] or ''), '%r: query %r'
              % (extra, r['query']))
        generate(api, 1)
        q.wait_lines(3, timeout=5)
        c.stop(q)


# ------------------------------------------------------------ (c)

def t_c_half_open(c):
    """The server goes silent with TCP open: tsino pings after one
    heartbeat, drops at 2 x heartbeat (close 1001), reconnects, backfills
    what it missed; every round printed exactly once."""
    # Paused until tsino is subscribed: a round made before that is no
    # round of tsino's (a loaded machine saw one, then printed it late
    # from the backfill), yet every round generated is wanted below.
    api = stream_api(c, '--silent-after', '3', '--silent-times', '1',
                     '--paused', rate='4')
    p = spawn(c, api)
    first = connected(api)[0]
    api.control(paused=False)
    api.wait_for('ws_silent', timeout=5)
    second = connected(api, 2, timeout=5)[1]
    conn1 = first['conn']
    silent = api.log('ws_silent')[0]['t']
    last_tx = max(e['t'] for e in api.log(conn=conn1)
                  if e['ev'] in ('ws_round', 'ws_ping') and e['t'] <= silent
                  + 0.01)
    pings = [e for e in api.log('ws_ping_recv', conn=conn1)
             if e['t'] > last_tx]
    check(pings, 'tsino never pinged the silent server')
    closes = api.log('ws_close_recv', conn=conn1)
    check(closes and closes[0]['code'] == 1001, 'close on the dead '
          'connection: %r' % closes)
    t_ping = pings[0]['t'] - last_tx
    t_drop = closes[0]['t'] - last_tx
    t_re = second['t'] - closes[0]['t']
    # The first live frame after the reconnect, as it reached the pipe.
    api.wait_for('ws_round', conn=second['conn'], timeout=5)
    live = sent_on(api, second['conn'])[0]
    t_line = scen.wait_until(lambda: line_times(p).get(live['round_id']),
                             5, what='the first live round after reconnect',
                             got=lambda: '%d lines' % len(p.lines))
    note(c, 'half-open: ping after %.3f s idle, drop after %.3f s (2 x %.1f), '
         'reconnect %.3f s later, first live frame on stdout %.3f s after '
         'the last frame received', t_ping, t_drop, HB, t_re,
         t_line - last_tx)
    check(HB - 0.05 <= t_ping <= HB + scen.scaled(0.25),
          'ping after %.3f s' % t_ping)
    check(2 * HB - 0.05 <= t_drop <= 2 * HB + scen.scaled(0.3),
          'drop after %.3f s' % t_drop)
    check(t_re <= 0.5 + scen.scaled(0.4), 'reconnected %.3f s after the drop'
          % t_re)
    check(t_line - last_tx <= 2 * HB + 0.5 + scen.scaled(1.0),
          'first live line %.3f s '
          'after the silence' % (t_line - last_tx))
    check(any('no frame for' in l for l in p.stderr), 'reason logged: %r'
          % p.stderr[-3:])
    # Nothing lost, nothing twice: everything generated up to a moment
    # well after the reconnect is printed.
    time.sleep(1.0)
    api.control(paused=True)
    scen.sleep(0.3)
    ids = [r['round_id'] for r in api.rounds()]
    scen.wait_until(lambda: len(p.stdout) >= len(ids), 5,
                    what='%d lines' % len(ids),
                    got=lambda: '%d' % len(p.lines))
    scen.check_output(p.stdout, api.rounds(), want=ids)
    c.stop(p)
    check_eq(p.rc, 0, 'exit')


t_c_half_open.timeout = 25


def t_c_drop_fin_rst(c):
    """A drop (FIN, then RST): reconnect at once (backoff <= 0.5 s), the
    gap backfilled; figures: drop to first live frame on stdout."""
    api = stream_api(c, '--drop-after', '3', '--drop-times', '2',
                     '--drop-mode', 'fin', '--paused', rate='4')
    p = spawn(c, api)
    connected(api)
    api.control(paused=False)       # as in t_c_half_open
    api.wait_for('ws_end', reason='drop_fin', timeout=5)
    api.control(drop_mode='rst')
    reqs = connected(api, 3, timeout=8)
    for k, reason in ((0, 'drop_fin'), (1, 'drop_rst')):
        end = api.log('ws_end', conn=reqs[k]['conn'])[0]
        check_eq(end['reason'], reason, 'how connection %d ended' % k)
        nxt = reqs[k + 1]
        api.wait_for('ws_round', conn=nxt['conn'], timeout=5)
        live = sent_on(api, nxt['conn'])[0]
        t_line = scen.wait_until(
            lambda: line_times(p).get(live['round_id']), 5,
            what='first live line after the %s' % reason,
            got=lambda: '%d lines' % len(p.lines))
        note(c, '%s: reconnect %.3f s after the drop, first live frame on '
             'stdout %.3f s after it', reason, nxt['t'] - end['t'],
             t_line - end['t'])
        # Backoff is reset only by 60 s of health: the k-th drop in a
        # row waits up to 0.5 x 2^k s.
        check(nxt['t'] - end['t'] <= 0.5 * 2 ** k + scen.scaled(0.4),
              '%s: reconnect '
              'after %.3f s' % (reason, nxt['t'] - end['t']))
        check(t_line - end['t'] <= 0.5 * 2 ** k + scen.scaled(1.5),
              '%s: first live '
              'line after %.3f s' % (reason, t_line - end['t']))
    time.sleep(0.8)
    api.control(paused=True)
    scen.sleep(0.3)
    ids = [r['round_id'] for r in api.rounds()]
    scen.wait_until(lambda: len(p.stdout) >= len(ids), 5,
                    what='%d lines' % len(ids),
                    got=lambda: '%d' % len(p.lines))
    scen.check_output(p.stdout, api.rounds(), want=ids)
    c.stop(p)


t_c_drop_fin_rst.timeout = 25


# ------------------------------------------------------------ (d)

def t_d_retry_after(c):
    """503 + Retry-After: 1 twice: each retry waits at least 1 s; then a
    429 with an HTTP-date 2 s ahead waits until that date."""
    api = stream_api(c, '--refuse', '2', '--refuse-status', '503',
                     '--retry-after', '1')
    p = spawn(c, api)
    connected(api, timeout=8)
    reqs = ws_reqs(api)
    check_eq([r['status'] for r in reqs], [503, 503, 101], 'statuses')
    gaps = [b['t'] - a['t'] for a, b in zip(reqs, reqs[1:])]
    note(c, '503 Retry-After 1: retries after %s s',
         ', '.join('%.3f' % g for g in gaps))
    for g in gaps:
        check(0.95 <= g <= 1 + scen.scaled(0.6),
              'retry after %.3f s (Retry-After: 1)' % g)
    check(any('503' in l and 'retrying in 1.000 s' in l for l in p.stderr),
          'the wait is logged: %r' % p.stderr[-3:])
    # 429 with an HTTP-date.
    api.control(refuse=1, refuse_status=429, retry_after=2,
                retry_after_form='date', drop_now='fin')
    connected(api, 2, timeout=8)
    reqs = ws_reqs(api)[3:]
    check_eq([r['status'] for r in reqs[:2]], [429, 101], 'statuses')
    date = email_date(reqs[0]['retry_after'])
    gap = reqs[1]['t'] - reqs[0]['t']
    note(c, '429 Retry-After %s (%.3f s ahead): retried after %.3f s',
         reqs[0]['retry_after'], date - reqs[0]['t'], gap)
    check(reqs[1]['t'] >= date - 0.05, 'retried %.3f s before the date'
          % (date - reqs[1]['t']))
    check(gap <= 3 + scen.scaled(0.6), 'retried after %.3f s' % gap)
    c.stop(p)


t_d_retry_after.timeout = 25


def email_date(text):
    import email.utils
    return email.utils.parsedate_to_datetime(text).timestamp()


# ------------------------------------------------------------ (e)

def t_e_backoff(c):
    """502 on every upgrade: retried forever, spaced by full-jitter delays
    under a cap that doubles from 0.5 s (no gap above its cap; the delays
    outgrow the first cap); the process keeps running."""
    api = stream_api(c, '--ws-status', '502')
    p = spawn(c, api)
    deadline = time.time() + scen.scaled(14)

    def gaps():
        rs = ws_reqs(api)
        return [b['t'] - a['t'] for a, b in zip(rs, rs[1:])]
    while time.time() < deadline:
        g = gaps()
        if len(g) >= 4 and max(g) > 0.6:
            break
        time.sleep(0.1)
    g = gaps()
    check(p.running(), 'tsino exited (%s) on 502' % p.p.poll())
    rs = ws_reqs(api)
    check(all(r['status'] == 502 for r in rs), 'statuses')
    delays = [float(l.split('retrying in ')[1].split()[0])
              for l in p.stderr if '502' in l and 'retrying in' in l]
    note(c, '502 x %d: gaps %s s; logged delays %s s', len(rs),
         ', '.join('%.3f' % x for x in g),
         ', '.join('%.3f' % x for x in delays))
    check(len(g) >= 4, 'only %d retries in %s' % (len(g),
                                                 scen.waited(14)))
    for i, x in enumerate(g):
        cap = min(30.0, 0.5 * 2 ** i)
        check(x <= cap + scen.scaled(0.25), 'gap %d: %.3f s over its cap '
              '%.1f s'
              % (i + 1, x, cap))
        if i < len(delays):
            check(abs(x - delays[i]) <= scen.scaled(0.25),
                  'gap %d: %.3f s but %.3f s '
                  'logged' % (i + 1, x, delays[i]))
    check(max(g) > 0.5, 'the delays never outgrew the first cap: %r' % g)
    check(any('HTTP 502 Bad Gateway' in l for l in p.stderr),
          'status line logged')
    check_eq(p.stdout, [], 'stdout')


t_e_backoff.timeout = 25


# ------------------------------------------------------------ (f)

def t_f_wrong_key(c):
    secret = 'WRONG-Zq81p-distinctive-stream-key'
    api = stream_api(c, rate='3')
    for status in (401, 403):
        api.control(auth_status=status)
        n0 = len(ws_reqs(api))
        p = spawn(c, api, env=c.tsino_env(api, key=secret))
        rc = p.wait(5)
        check_eq(rc, 3, 'exit status for %d' % status)
        scen.sleep(0.3)
        reqs = ws_reqs(api)[n0:]
        check_eq(len(reqs), 1, 'attempts with a wrong key')
        check_eq((reqs[0]['status'], reqs[0]['auth']), (status, 'wrong'),
                 'server saw')
        check(any('invalid API key' in l for l in p.stderr),
              "server's message: %r" % p.stderr)
        check_key_hidden(p, secret)
        check_key_hidden(p, 'Zq81p')
        check_eq(p.stdout, [], 'stdout')


# ------------------------------------------------------------ (g)

def t_g_sigterm(c):
    """SIGTERM (then SIGINT): close 1000 sent, exit 0 at once, the last
    line whole (stdout is a file here, so nothing hides a torn line)."""
    api = stream_api(c, games='stake-crash,roobet-crash,duel-crash',
                     rate='6')
    for k, sig in enumerate((signal.SIGTERM, signal.SIGINT)):
        out = c.path('out%d' % k)
        argv = ['sh', '-c', 'exec "$0" "$@" > ' + out, scen.TSINO,
                'stream', '--heartbeat', str(HB)]
        p = c.spawn(argv, env=c.tsino_env(api))
        req = connected(api, k + 1)[k]
        api.wait_for('ws_round', count=10, conn=req['conn'], timeout=5)
        t0 = time.time()
        p.signal(sig)
        rc = p.wait(3)
        took = time.time() - t0
        check_eq(rc, 0, 'exit status after %s' % sig.name)
        closes = api.wait_for('ws_close_recv', conn=req['conn'], timeout=2)
        check_eq(closes[0]['code'], 1000, 'close code')
        note(c, '%s to exit: %.3f s; close %d received', sig.name, took,
             closes[0]['code'])
        check(took < scen.scaled(1.0), 'exit took %.3f s' % took)
        with open(out, 'rb') as f:
            data = f.read()
        check(data.endswith(b'\n'), 'last line incomplete: %r'
              % data[-40:])
        lines = data.decode('utf-8').split('\n')[:-1]
        check(len(lines) >= 10, '%d lines' % len(lines))
        scen.check_output(lines, api.rounds())
        end = api.wait_for('ws_end', conn=req['conn'], timeout=2)
        check(end[0]['reason'] in ('client_close', 'client_eof'),
              'how it ended: %r' % end)


# ------------------------------------------------------------ (h)

def t_h_head(c):
    """`tsino stream | head -3` at 1 round/s: tsino notices the closed
    pipe and exits 0 at once, not at its next write."""
    api = stream_api(c, rate='1')
    rcfile = c.path('rc')
    script = ('"$0" stream --heartbeat %s | head -3; echo ${PIPESTATUS[0]}'
              ' > %s' % (HB, rcfile))
    p = c.spawn(['bash', '-c', script, scen.TSINO], env=c.tsino_env(api))
    p.wait_lines(3, timeout=8)
    t3 = p.lines[2][0]
    rc = p.wait(5)
    took = time.time() - t3
    check_eq(rc, 0, 'pipeline status')
    with open(rcfile) as f:
        check_eq(f.read().strip(), '0', "tsino's exit status")
    note(c, '| head -3: pipeline done %.3f s after the 3rd line', took)
    scen.check_output(p.stdout, api.rounds())
    check(took < scen.scaled(0.5), 'tsino lingered %.3f s after head exited'
          % took)
    req = ws_reqs(api)[0]
    closes = api.wait_for('ws_close_recv', conn=req['conn'], timeout=2)
    check_eq(closes[0]['code'], 1000, 'close code after EPIPE')


t_h_head.timeout = 20


# ------------------------------------------------------------ (i), (j)

def t_i_above(c):
    api = stream_api(c, '--multipliers', '10,10.00,10.0000001,9.99,11')
    p = spawn(c, api, '--above', '10')
    connected(api)
    generate(api, 10)
    p.wait_lines(4, timeout=5)
    scen.sleep(0.5)
    mults = [json.loads(l)['multiplier'] for l in p.stdout]
    check_eq(mults, ['10.0000001', '11'] * 2, 'multipliers printed')
    scen.check_output(p.stdout, api.rounds())
    c.stop(p)
    q = spawn(c, api, '--above', '10.0000001')
    connected(api, 2)
    generate(api, 5)
    q.wait_lines(1, timeout=5)
    scen.sleep(0.5)
    check_eq([json.loads(l)['multiplier'] for l in q.stdout], ['11'],
             '--above 10.0000001')


def t_j_text(c):
    api = stream_api(c, games='stake-crash,roobet-crash')
    p = spawn(c, api, '--format', 'text')
    req = connected(api)[0]
    generate(api, 3)
    p.wait_lines(6, timeout=5)
    scen.sleep(0.3)
    by_id = {r['round_id']: r for r in api.rounds()}
    want = ['%s %sx at %s' % (by_id[e['round_id']]['game_id'],
                              by_id[e['round_id']]['multiplier'],
                              by_id[e['round_id']]['finalized_at'])
            for e in sent_on(api, req['conn'])]
    check_eq(p.stdout, want, 'text lines')
    c.stop(p)


# ------------------------------------------------------------ heartbeat

def t_server_pings(c):
    """Every server ping answered with a pong of the same payload, at
    once; the pings alone keep the connection alive."""
    api = stream_api(c)
    p = spawn(c, api)
    req = connected(api)[0]
    api.wait_for('ws_pong', count=8, conn=req['conn'], timeout=5)
    pings = {e['payload']: e['t'] for e in api.log('ws_ping',
                                                   conn=req['conn'])}
    pongs = api.log('ws_pong', conn=req['conn'])
    delays = []
    for e in pongs:
        check(e['match'], 'pong payload %s matches no ping' % e['payload'])
        delays.append(e['t'] - pings[e['payload']])
    note(c, 'pong after a server ping: max %.1f ms over %d pings',
         max(delays) * 1000, len(delays))
    check(max(delays) < scen.scaled(0.1), 'pong %.3f s after its ping'
          % max(delays))
    check_eq(api.log('ws_ping_recv', conn=req['conn']), [],
             'client pings while server pings come every 200 ms')
    check_eq(len(ws_reqs(api)), 1, 'connections')
    c.stop(p)


def t_client_pings(c):
    """No server pings and no rounds: tsino pings after each idle
    heartbeat; the server's pong is a sign of life, so no drop."""
    api = stream_api(c, ping='0')
    p = spawn(c, api)
    req = connected(api)[0]
    time.sleep(3.2)
    pings = api.log('ws_ping_recv', conn=req['conn'])
    ts = [req['t']] + [e['t'] for e in pings]
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    note(c, 'client pings %d in 3.2 s, every %s s', len(pings),
         ', '.join('%.3f' % g for g in gaps))
    check(len(pings) >= 4, 'only %d client pings' % len(pings))
    for g in gaps:
        check(HB - 0.05 <= g <= HB + scen.scaled(0.25), 'ping gap %.3f s' % g)
    check_eq(len(ws_reqs(api)), 1, 'connections (a pong is life)')
    check_eq(api.log('ws_close_recv'), [], 'close frames')
    check(p.running(), 'tsino exited')
    generate(api, 1)
    p.wait_lines(1, timeout=3)
    c.stop(p)


# ------------------------------------------------------------ framing

def inject_and_reconnect(c, api, p, kind, code, **params):
    req = connected(api)[0]
    generate(api, 1)
    p.wait_lines(1, timeout=5)
    api.control(inject=kind, **params)
    closes = api.wait_for('ws_close_recv', conn=req['conn'], timeout=3)
    check_eq(closes[0]['code'], code, '%s: close code' % kind)
    second = connected(api, 2, timeout=5)[1]
    note(c, '%s: close %d, reconnect %.3f s after it', kind, code,
         second['t'] - closes[0]['t'])
    check(second['t'] - closes[0]['t'] < scen.scaled(1.0), 'slow reconnect')
    generate(api, 1)
    p.wait_lines(2, timeout=5)
    scen.check_output(p.stdout, api.rounds())
    check(not any('oversize' in l for l in p.stdout), 'oversize printed')


def t_bad_utf8(c):
    api = stream_api(c)
    p = spawn(c, api)
    inject_and_reconnect(c, api, p, 'bad_utf8', 1007, variant='surrogate')
    c.stop(p)


def t_oversize(c):
    api = stream_api(c)
    p = spawn(c, api, '--max-message', '4096')
    inject_and_reconnect(c, api, p, 'oversize', 1009, size=5000)
    c.stop(p)


def t_skipped_messages(c):
    """Non-JSON, non-round and binary messages are skipped; the
    connection stays."""
    api = stream_api(c)
    p = spawn(c, api, '-v')
    req = connected(api)[0]
    for kind in ('non_json', 'non_round', 'binary', 'pong'):
        api.control(inject=kind)
        generate(api, 1)
    p.wait_lines(4, timeout=5)
    scen.sleep(0.3)
    scen.check_output(p.stdout, api.rounds())
    check_eq(len(p.stdout), 4, 'lines')
    check_eq(len(ws_reqs(api)), 1, 'connections')
    check_eq(api.log('ws_close_recv', conn=req['conn']), [], 'closes')
    check(any('skipped' in l for l in p.stderr), 'skip logged with -v')
    c.stop(p)


def t_server_close(c):
    """The server closes with 1001: tsino answers the close and
    reconnects."""
    api = stream_api(c)
    p = spawn(c, api)
    req = connected(api)[0]
    api.control(drop_now='close', code=1001)
    second = connected(api, 2, timeout=3)[1]
    closes = api.log('ws_close_recv', conn=req['conn'])
    check(closes, 'tsino did not answer the close')
    sent = api.log('ws_close_sent', conn=req['conn'])[0]
    note(c, 'server close 1001: answered with %s after %.1f ms, reconnect '
         '%.3f s after the close', closes[0]['code'],
         (closes[0]['t'] - sent['t']) * 1000, second['t'] - sent['t'])
    check_eq(closes[0]['code'], 1001, 'code echoed')
    check(any('1001' in l for l in p.stderr), 'reason logged')
    generate(api, 1)
    p.wait_lines(1, timeout=5)
    c.stop(p)


def t_bad_accept(c):
    """A wrong Sec-WebSocket-Accept: never accepted (nothing that came on
    those connections printed), retried."""
    api = stream_api(c, '--bad-accept', '2', rate='5')
    p = spawn(c, api)
    reqs = connected(api, 3, timeout=6)
    good = reqs[2]
    check_eq([r['bad_accept'] for r in reqs], [True, True, False],
             'bad accepts')
    p.wait_lines(3, timeout=5)
    api.control(paused=True)
    scen.sleep(0.3)
    ok_ids = set(e['round_id'] for e in sent_on(api, good['conn']))
    for line in p.stdout:
        check(json.loads(line)['round_id'] in ok_ids,
              'printed a round of a refused connection')
    fails = [l for l in p.stderr if 'ccept' in l and 'retrying' in l]
    check_eq(len(fails), 2, 'handshake failures logged (%r)' % p.stderr)
    check_eq(len([l for l in p.stderr if 'stream: connected' in l]), 1,
             'connections accepted')
    c.stop(p)


def t_tls_expired(c):
    """An expired certificate in stream mode: logged, retried, never
    accepted (the key never sent), the process keeps running."""
    api = stream_api(c, '--cert', 'good-ec', '--cert', 'expired', rate='5')
    p = spawn(c, api, url=api.url('expired', host='localhost'))
    scen.wait_until(lambda: len([l for l in p.stderr if 'expired' in l])
                    >= 3, 6, what='three TLS failures',
                    got=lambda: '%d' % len([l for l in p.stderr
                                            if 'expired' in l]))
    check(p.running(), 'tsino exited on a TLS failure')
    check_eq(p.stdout, [], 'stdout')
    check_eq(ws_reqs(api), [], 'requests (the key sent)')
    tls = api.log('tls')
    check(len(tls) >= 3 and not any(e.get('ok') for e in tls),
          'handshakes: %r' % tls[:3])
    c.stop(p)
    check_eq(p.rc, 0, 'exit after SIGTERM')


def t_usage(c):
    env = c.tsino_env(None)
    for args in (['stream', '--heartbeat', '0'], ['stream', '--above',
                                                   'ten'],
                 ['stream', '--max-message', '10'], ['stream', '--bogus'],
                 ['stream', '--games'], ['stream', '--since',
                                         '2026-01-01T00:00:00Z']):
        p = c.run([scen.TSINO] + args, env=env, timeout=5)
        check_eq(p.rc, 2, '%r: exit' % args)
        check_eq(p.stdout, [], '%r: stdout' % args)
    p = c.run([scen.TSINO, 'stream', '--api', 'ws://example.invalid/v1'],
              env=env, timeout=5)
    check_eq(p.rc, 2, 'plaintext stream to a non-loopback host')
    p = c.run([scen.TSINO, 'stream'], env=c.tsino_env(None, key=None),
              timeout=5)
    check_eq(p.rc, 3, 'stream without a key')


CASES = [t_a_clean_stream, t_b_games, t_c_half_open, t_c_drop_fin_rst,
         t_d_retry_after, t_e_backoff, t_f_wrong_key, t_g_sigterm, t_h_head,
         t_i_above, t_j_text, t_server_pings, t_client_pings, t_bad_utf8,
         t_oversize, t_skipped_messages, t_server_close, t_bad_accept,
         t_tls_expired, t_usage]

if __name__ == '__main__':
    scen.main(CASES, timeout=20)
