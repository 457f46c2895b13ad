#!/usr/bin/env python3
"""scenario_backfill.py: gap backfill and exactly-once output (issue 6).

Every case runs tsino (or the library) against tests/fakeapi.py over TLS
and ends the same way (finish()): the generator is paused, tsino is given
time to print everything, then stopped with SIGTERM; the rounds it printed
must be exactly the rounds generated while it ran (by round_id, each line
byte for byte the ground-truth `line`), none twice, per game oldest first
(finalized_at, then round_index as an integer), which scen.check_output
checks.  The generator starts paused and is resumed only once tsino is
subscribed, so "generated while it ran" is every round in the log.

Faults come from the control channel once every game has printed a round
(a game with no resume point yet has nothing to backfill from; see the
README on the first connection).

  a  drops after N frames, repeated, with FIN, RST and close 1001
  b  half-open connections (found by the heartbeat), then backfill
  c  drop then 503 upgrades for seconds: several rounds per game missed,
     backfill over several small pages, every body shape and framing
  d  backfill requests failing twice (503, RST, truncated) before success
  e  --state across SIGTERM and a restart while rounds kept coming
  f  a second tsino on the same state file: exit 1, says so
  g  a corrupt state file: exit 1, file left alone
  h  examples/embed.c receives rounds; "q" and EOF on stdin stop it
  i  `make demo` shortened: 0 duplicates, at least one round backfilled
  hold_fills   through the library (build/drive, max_held 4): the hold
               fills, held rounds printed, gap stays open, missed rounds
               printed late; none lost or twice
  gap_1000     a 1000-round gap backfilled after a restart; prints the
               time it took
  first_gap_unseen_game  a --games game that has printed nothing yet:
               its first gap is backfilled from the subscription time

At the end, the peak RSS (VmHWM) seen of any tsino process is printed.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scen  # noqa: E402
from scen import check, check_eq, Failure  # noqa: E402

B = os.path.join(scen.ROOT, os.environ.get('B') or 'build')
GAMES = 'stake-crash,roobet-crash,duel-crash'
PEAK = {}


def tsino(c, api, *args, state=None):
    argv = [scen.TSINO, 'stream', '--heartbeat', '1'] + list(args)
    if state:
        argv += ['--state', state]
    return c.spawn(argv, env=c.tsino_env(api))


def start(c, *fa_args, games=GAMES, rate='3', tsino_args=(), state=None):
    """fakeapi (paused) and tsino; the generator resumes once tsino is
    subscribed.  Returns (api, proc)."""
    api = c.fakeapi('--games', games, '--rate', rate, '--paused',
                    '--ping-ms', '300', *fa_args)
    p = tsino(c, api, *tsino_args, state=state)
    p.wait_stderr('stream: connected', 10)
    api.control(paused=False)
    return api, p


def printed(lines, drive=False):
    """round_id -> count over NDJSON lines (drive: 'B L JSON' lines)."""
    out = {}
    for line in lines:
        if drive:
            line = line.split(' ', 2)[2]
        try:
            rid = json.loads(line)['round_id']
        except (ValueError, KeyError, TypeError):
            raise Failure('not a round: %.80r' % line)
        out[rid] = out.get(rid, 0) + 1
    return out


def wait_games(api, p, n=1, timeout=10):
    """Until every game has n rounds printed."""
    def ok():
        ids = printed(p.stdout)
        per = {}
        for r in api.rounds():
            if r['round_id'] in ids:
                per[r['game_id']] = per.get(r['game_id'], 0) + 1
        return len(per) == len(GAMES.split(',')) and \
            min(per.values()) >= n
    scen.wait_until(ok, timeout, what='%d rounds of every game' % n,
                    got=lambda: '%d lines' % len(p.stdout))


def count_stderr(p, text):
    return sum(1 for line in p.stderr if text in line)


def backfilled(p):
    """Missed rounds tsino reports having backfilled (its log lines)."""
    n = 0
    for line in p.stderr:
        m = re.search(r'backfill done: (\d+) missed rounds', line)
        if m:
            n += int(m.group(1))
    return n


def note_rss(p):
    try:
        with open('/proc/%d/status' % p.pid) as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    kb = int(line.split()[1])
                    name = os.path.basename(p.argv[0])
                    PEAK[name] = max(PEAK.get(name, 0), kb)
    except OSError:
        pass


def finish(c, api, procs, drive=False, ordered=True, settle=0.7,
           timeout=15):
    """Pause the generator, wait until the union of the procs' output
    holds every generated round, stop them (exit 0), check the combined
    output against the ground truth.  Returns the ground truth."""
    api.control(paused=True)
    scen.sleep(0.4)
    want = {r['round_id'] for r in api.rounds()}

    def all_there():
        got = set()
        for p in procs:
            got |= set(printed(p.stdout, drive))
        return want <= got
    try:
        scen.wait_until(all_there, timeout, what='every generated round')
    except Failure:
        got = set()
        for p in procs:
            got |= set(printed(p.stdout, drive))
        raise Failure('%d of %d generated rounds never printed'
                      % (len(want - got), len(want)))
    scen.sleep(settle)      # a duplicate would come now
    for p in procs:
        if p.running():
            note_rss(p)
            check_eq(c.stop(p, 5), 0, 'exit status')
    lines = []
    for p in procs:
        lines += [l.split(' ', 2)[2] if drive else l for l in p.stdout]
    truth = api.rounds()
    check_eq(len(truth), len(want), 'rounds generated after the pause')
    seen = scen.check_output(lines, truth, want=want, ordered=ordered)
    check_eq(len(seen), len(want), 'rounds printed')
    return truth


def drop_live(api, mode=None, timeout=10, **cmd):
    """Apply cmd's settings, then drop the live stream connection (the
    control channel's drop_now reaches only connections open at that
    moment: retried until one is)."""
    mode = mode or cmd.get('drop_mode', 'fin')
    api.control(**cmd)
    scen.wait_until(lambda: api.control(drop_now=mode, code=1001)
                    ['applied_to'] > 0, timeout, step=0.05,
                    what='a live stream connection to drop',
                    got=lambda: 'none')


# ------------------------------------------------------------------ cases

def t_a_drops_repeated(c):
    """(a) for each of FIN, RST and close 1001: at least two drops, each
    connection dropped after 6 round frames (a connection that outlives
    that, planned before the settings changed, is dropped at once), while
    rounds keep coming.  Drops in a row make the backoff grow (0.5 s
    doubling, reset only after 60 s healthy), hence the long waits."""
    api, p = start(c, rate='4')
    wait_games(api, p)
    for mode, reason in (('fin', 'drop_fin'), ('rst', 'drop_rst'),
                         ('close', 'drop_close')):
        api.control(drop_mode=mode, drop_code=1001, drop_after=6,
                    drop_times=2)
        end = time.time() + scen.scaled(40)
        while len(api.log('ws_end', reason=reason)) < 2:
            check(time.time() < end, 'only %d %s in %s' % (
                len(api.log('ws_end', reason=reason)), reason,
                scen.waited(40)))
            # Only a connection past 6 frames (planned before the
            # change) is dropped by hand: a timed nudge also cut planned
            # ones short when the backoff made them start late.
            sent = api.log('ws_round')
            ended = set(e['conn'] for e in api.log('ws_end'))
            if sent and sent[-1]['n'] > 6 and sent[-1]['conn'] not in ended:
                api.control(drop_now=mode, code=1001)
                time.sleep(0.5)
            time.sleep(0.1)
    api.control(drop_after=0, drop_times=0)
    scen.wait_until(lambda: api.status()['ws_live'], 40, step=0.1,
                    what='a stream connection again', got=lambda: 'none')
    time.sleep(1.0)
    finish(c, api, [p])
    after6 = api.log('ws_end', frames=6)
    check(len(after6) >= 3, 'only %d drops after 6 frames' % len(after6))
    check(count_stderr(p, 'stream: connected') >= 7, 'reconnects')
    check(count_stderr(p, 'closed the stream with 1001') >= 2,
          'close 1001 logged')
    check(backfilled(p) > 0, 'no round was ever backfilled')


t_a_drops_repeated.timeout = 150


def t_b_half_open(c):
    """(b) the server goes silent twice; the heartbeat (0.5 s) notices,
    tsino reconnects and backfills what the silence hid."""
    api, p = start(c, tsino_args=('--heartbeat', '0.5'))
    wait_games(api, p)
    api.control(silent_now=True, silent_after=5, silent_times=1)
    api.wait_for('ws_silent', count=2, timeout=15)
    api.wait_for('request', kind='ws', status=101, count=3, timeout=10)
    p.wait_stderr('backfill done', 5)
    time.sleep(1.0)
    finish(c, api, [p])
    check(count_stderr(p, 'no frame for 1 s') >= 2, 'heartbeat drops')
    check(backfilled(p) > 0, 'nothing backfilled after half-open')


t_b_half_open.timeout = 40


def t_c_503_pages(c):
    """(c) drop, then 4 upgrades refused with 503 (Retry-After 1): a gap of
    several seconds, several rounds per game, pages of 6 rows in every
    body shape and framing.  (Pages must hold more rounds than one game
    makes in one second: see README.)"""
    api, p = start(c, '--page-size', '6', '--shape', 'cycle', '--framing',
                   'cycle', rate='2')
    wait_games(api, p)
    for mode in ('rst', 'close'):
        n = count_stderr(p, 'backfill done')
        drop_live(api, mode, refuse=4, refuse_status=503, retry_after=1)
        scen.wait_until(lambda: count_stderr(p, 'backfill done') > n, 15,
                        what='backfill after the 503s',
                        got=lambda: '%r' % p.stderr[-1:])
    time.sleep(1.0)
    finish(c, api, [p])
    rest = api.log('request', kind='rest', status=200)
    shapes = {r['shape'] for r in rest}
    framings = {r['framing'] for r in rest}
    check(shapes == {'array', 'rounds', 'data'}, 'shapes %s' % shapes)
    check(framings == {'length', 'chunked', 'eof'},
          'framings %s' % framings)
    full = [r for r in rest if r['count'] == 6]
    check(len(full) >= 3, 'only %d full pages' % len(full))
    check(backfilled(p) >= 2 * 3 * 3,
          'only %d rounds backfilled' % backfilled(p))
    check(count_stderr(p, '503') >= 8, '503s not logged')


t_c_503_pages.timeout = 60


def t_d_rest_failures(c):
    """(d) each backfill fails twice before it succeeds: 503 with
    Retry-After, then RST, then a truncated body."""
    api, p = start(c)
    wait_games(api, p)
    for mode in ('status', 'rst', 'truncate'):
        n = count_stderr(p, 'backfill done')
        drop_live(api, 'fin', rest_refuse=2, rest_refuse_mode=mode,
                  rest_refuse_status=503, retry_after=1, refuse=1)
        scen.wait_until(lambda: count_stderr(p, 'backfill done') > n, 15,
                        what='backfill after 2 failures (%s)' % mode,
                        got=lambda: '%r' % p.stderr[-1:])
    time.sleep(1.0)
    finish(c, api, [p])
    faults = [r for r in api.log('request', kind='rest')
              if r.get('fault') or r.get('status') != 200]
    check(len(faults) >= 6, 'only %d failed REST requests' % len(faults))
    check(count_stderr(p, 'rest:') >= 6, 'REST failures not logged')
    check(backfilled(p) > 0, 'nothing backfilled')


t_d_rest_failures.timeout = 60


def t_e_state_restart(c):
    """(e) --state: SIGTERM, rounds keep coming for 2 s, restart: the two
    outputs together hold every round once, in order."""
    state = c.path('state')
    api, p1 = start(c, state=state)
    wait_games(api, p1, 2)
    note_rss(p1)
    check_eq(c.stop(p1, 5), 0, 'first run exit status')
    check(os.path.exists(state), 'no state file')
    n1 = len(p1.stdout)
    time.sleep(2.0)
    p2 = tsino(c, api, state=state)
    p2.wait_stderr('state: resuming 3 games', 5)
    p2.wait_stderr('backfill done', 10)
    time.sleep(1.0)
    finish(c, api, [p1, p2])
    check_eq(len(p1.stdout), n1, 'first run lines after exit')
    check(backfilled(p2) >= 3, 'restart backfilled %d' % backfilled(p2))
    text = open(state).read()
    check(text.startswith('tsino-state 2\n'), 'state file format')


t_e_state_restart.timeout = 40


def t_e2_state_fewer_games(c):
    """(e) continued: a restart with --games naming only one of the games
    in the state file backfills that game only (the others are not
    asked for), and keeps the others' resume points in the file."""
    state = c.path('state')
    api, p1 = start(c, state=state)
    wait_games(api, p1, 2)
    check_eq(c.stop(p1, 5), 0, 'first run exit status')
    time.sleep(1.5)
    p2 = tsino(c, api, '--games', 'stake-crash', state=state)
    p2.wait_stderr('stream: connected', 5)
    time.sleep(2.0)
    api.control(paused=True)
    scen.sleep(0.4)
    truth = api.rounds()
    want = {r['round_id'] for r in truth if r['game_id'] == 'stake-crash'}
    scen.wait_until(lambda: want <= set(printed(p1.stdout + p2.stdout)),
                    10, what='every stake-crash round',
                    got=lambda: '%d of %d' % (len(want & set(printed(
                        p1.stdout + p2.stdout))), len(want)))
    scen.sleep(0.5)
    check_eq(c.stop(p2, 5), 0, 'second run exit status')
    games = {json.loads(l)['game_id'] for l in p2.stdout}
    check_eq(games, {'stake-crash'}, 'games printed by the second run')
    scen.check_output(p1.stdout, truth)
    scen.check_output(p1.stdout + [l for l in p2.stdout], [
        r for r in truth if r['game_id'] == 'stake-crash' or
        r['round_id'] in printed(p1.stdout)])
    text = open(state).read()
    for g in GAMES.split(','):
        check('game\t%s\t' % g in text, '%s left out of the state' % g)


def t_f_state_locked(c):
    """(f) a second tsino on a state file in use: exit 1, says so, never
    connects."""
    state = c.path('state')
    api, p1 = start(c, state=state)
    n = len(api.log('request', kind='ws'))
    r = c.run([scen.TSINO, 'stream', '--state', state], timeout=5,
              env=c.tsino_env(api))
    check_eq(r.rc, 1, 'second tsino exit status')
    check(any('in use by another tsino' in l for l in r.stderr),
          'stderr: %r' % r.stderr)
    check_eq(len(api.log('request', kind='ws')), n, 'ws requests')
    check_eq(c.stop(p1), 0, 'first tsino exit status')


def t_g_state_corrupt(c):
    """(g) a corrupt state file (garbage; a wrong checksum; a bad time) is
    refused with exit 1 and left as it was."""
    api = c.fakeapi('--games', GAMES, '--paused')
    good = 'tsino-state 1\ngame\tstake-crash\t2026-05-28T15:05:15Z\n'
    variants = {
        'garbage': 'not a state file\n',
        'checksum': good + 'end\t1\t0123456789abcdef\n',
        'truncated': good,
    }
    for name, text in variants.items():
        state = c.path('state-' + name)
        with open(state, 'w') as f:
            f.write(text)
        r = c.run([scen.TSINO, 'stream', '--state', state], timeout=5,
                  env=c.tsino_env(api))
        check_eq(r.rc, 1, '%s: exit status' % name)
        check(any('corrupt' in l for l in r.stderr),
              '%s: stderr %r' % (name, r.stderr))
        check_eq(open(state).read(), text, '%s: file changed' % name)
    check_eq(len(api.log('request', kind='ws')), 0, 'ws requests')


def spawn_stdin(c, argv, env):
    """argv with its stdin on a FIFO; (proc, fd to write it)."""
    fifo = c.path('stdin')
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR)
    p = c.spawn(['sh', '-c', 'exec "$0" <"$1"', argv[0], fifo] + argv[1:],
                env=env)
    return p, fd


def t_h_embed(c):
    """(h) examples/embed.c: rounds printed exactly as tsino would, across
    a dropped connection (backfilled); "q" stops it with close 1000, and
    so does end of input."""
    embed = os.path.join(B, 'embed')
    check(os.access(embed, os.X_OK), '%s not built' % embed)
    api = c.fakeapi('--games', GAMES, '--rate', '4', '--paused',
                    '--ping-ms', '300')
    env = c.tsino_env(api)
    p, fd = spawn_stdin(c, [embed], env)
    p.wait_stderr('stream: connected', 10)
    api.control(paused=False)
    wait_games(api, p)
    drop_live(api, 'rst', refuse=1, retry_after=1)
    p.wait_stderr('backfill done', 10)
    api.control(paused=True)
    scen.sleep(0.4)
    want = {r['round_id'] for r in api.rounds()}
    scen.wait_until(lambda: want <= set(printed(p.stdout)), 10,
                    what='every round from embed',
                    got=lambda: '%d of %d' % (
                        len(want & set(printed(p.stdout))), len(want)))
    os.write(fd, b'q\n')
    check_eq(p.wait(5), 0, 'embed exit status after "q"')
    os.close(fd)
    scen.check_output(p.stdout, api.rounds(), want=want)
    check(backfilled(p) > 0, 'embed backfilled nothing')
    check(api.log('ws_close_recv', code=1000), 'no close 1000')
    # End of input stops it too.
    p2, fd2 = spawn_stdin(c, [embed], env)
    p2.wait_stderr('stream: connected', 10)
    os.close(fd2)
    check_eq(p2.wait(5), 0, 'embed exit status after EOF')
    check_eq(len(api.log('ws_close_recv', code=1000)), 2, 'close 1000s')


t_h_embed.timeout = 40


def t_i_make_demo(c):
    """(i) `make demo`, 8 s: summary with 0 duplicates, 0 missed and at
    least one backfilled round."""
    argv = ['make', '-s', '--no-print-directory', 'demo', 'DEMO_SECONDS=8',
            'B=' + os.path.relpath(B, scen.ROOT),
            'TSINO_BIN=' + os.path.relpath(scen.TSINO, scen.ROOT)]
    r = c.run(argv, timeout=60)
    out = r.stdout
    check_eq(r.rc, 0, 'make demo exit status (%s)' % (out[-3:],))
    last = out[-1] if out else ''
    m = re.search(r'(\d+) live, (\d+) backfilled, (\d+) duplicates?, '
                  r'(\d+) missed', last)
    check(m is not None, 'no summary line: %r' % last)
    live, back, dup, missed = map(int, m.groups())
    check(live > 0, 'live %d' % live)
    check(back >= 1, 'backfilled %d' % back)
    check_eq(dup, 0, 'duplicates')
    check_eq(missed, 0, 'missed')
    check(any('stream: connected' in l for l in out), 'no tsino log shown')


t_i_make_demo.timeout = 90


def t_hold_fills(c):
    """The hold fills (max_held 4, through the library): the held rounds
    are printed, the gap stays open, the missed rounds come later marked
    late; none lost, none twice, the rest in order."""
    drive = os.path.join(B, 'drive')
    check(os.access(drive, os.X_OK), '%s not built' % drive)
    api = c.fakeapi('--games', GAMES, '--rate', '4', '--paused',
                    '--ping-ms', '300', '--retry-after', '1')
    p = c.spawn([drive, '--max-held', '4', '--heartbeat', '1'],
                env=c.tsino_env(api))
    p.wait_stderr('stream: connected', 10)
    api.control(paused=False)
    scen.wait_until(lambda: len(p.stdout) >= 9, 10, what='9 rounds',
                    got=lambda: '%d' % len(p.lines))
    wait_games(api, _Strip(p))
    # 1 s disconnected (the gap), then 3 s of failing backfill requests
    # while live rounds (12 a second) overflow the hold of 4.
    drop_live(api, 'fin', refuse=1, rest_refuse=3, rest_refuse_status=503)
    p.wait_stderr('the gap stays open', 10)
    p.wait_stderr('gap closed', 15)
    p.wait_stderr('backfill done', 10)
    time.sleep(1.0)
    finish(c, api, [p], drive=True, ordered=False)
    late = [l for l in p.stdout if l.startswith('1 1 ')]
    check(late, 'no round printed late')
    # Apart from the late ones, each game is in order.
    scen.check_output([l.split(' ', 2)[2] for l in p.stdout
                       if not l.startswith('1 1 ')], api.rounds())
    check(count_stderr(p, 'late round') == len(late), 'late rounds logged')


t_hold_fills.timeout = 40


class _Strip:
    """A drive process seen as if it printed plain NDJSON."""

    def __init__(self, p):
        self.p = p

    @property
    def stdout(self):
        return [l.split(' ', 2)[2] for l in self.p.stdout]


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def t_gap_1000(c):
    """A 1000-round gap: history spread over 500 s, a state file whose
    resume point is its oldest round; the restart backfills all 1000
    (10 pages of 100) before the live rounds.  Prints the time."""
    api = c.fakeapi('--games', 'stake-crash', '--history', '1000',
                    '--rate', '2', '--paused', '--ping-ms', '300')
    hist = api.rounds()
    check_eq(len(hist), 1000, 'history')
    body = ('tsino-state 1\ngame\tstake-crash\t%s\n'
            % hist[0]['finalized_at']).encode()
    state = c.path('state')
    with open(state, 'wb') as f:
        f.write(body + b'end\t1\t%016x\n' % fnv(body))
    t0 = time.time()
    p = tsino(c, api, state=state)
    scen.wait_until(lambda: len(p.stdout) >= 1000, 20,
                    what='1000 rounds', got=lambda: '%d' % len(p.lines))
    wall = p.lines[999][0] - t0
    line = p.wait_stderr('backfill done', 5)
    api.control(paused=False)
    time.sleep(1.5)
    finish(c, api, [p])
    m = re.search(r'(\d+) missed rounds in (\d+) pages, ([\d.]+) s', line)
    check(m is not None, line)
    check_eq(int(m.group(1)), 1000, 'missed rounds')
    print('[1000-round gap: backfill %s s by tsino\'s clock, %s pages; '
          'start to 1000th line %.3f s] ' % (m.group(3), m.group(2), wall),
          end='')


t_gap_1000.timeout = 40


def t_first_gap_unseen_game(c):
    """A game named by --games that has printed nothing yet still gets
    its first gap backfilled: the subscription time is its resume point.
    The stream drops before any round exists, rounds are made while the
    upgrade is refused, and they must all come by REST."""
    api = c.fakeapi('--games', GAMES, '--rate', '0', '--ping-ms', '300')
    p = tsino(c, api, '--games', GAMES, '--heartbeat', '0.5')
    p.wait_stderr('stream: connected', 10)
    check_eq(p.stdout, [], 'nothing printed before any round')
    drop_live(api, 'rst', refuse=2, refuse_status=503, retry_after=1)
    api.control(generate=3)
    api.wait_for('request', kind='ws', status=101, count=2, timeout=15)
    p.wait_stderr('backfill done', 5)
    finish(c, api, [p])
    check_eq(len(api.rounds()), 9, 'rounds generated in the gap')
    check_eq(backfilled(p), 9, 'rounds backfilled')


CASES = [t_a_drops_repeated, t_b_half_open, t_c_503_pages,
         t_d_rest_failures, t_e_state_restart, t_e2_state_fewer_games,
         t_f_state_locked,
         t_g_state_corrupt, t_h_embed, t_i_make_demo, t_hold_fills,
         t_gap_1000, t_first_gap_unseen_game]

if __name__ == '__main__':
    import atexit

    def peak():
        if PEAK:
            print('peak RSS (VmHWM): %s' % ', '.join(
                '%s %d KiB' % kv for kv in sorted(PEAK.items())))
    atexit.register(peak)
    scen.main(CASES, timeout=30)
