#!/usr/bin/env python3
"""demo.py: `make demo`.  tsino against the local fake server, no setup.

    python3 tests/demo.py [SECONDS]     (default 20; env TSINO: the binary)

It makes a throwaway API key (a 0600 file in a temporary directory) that
it gives to both tests/fakeapi.py and tsino, starts the fake server on
127.0.0.1 over TLS (certificate from tests/certs, checked by tsino against
tests/certs/ca.pem, exactly as against the real API), with three games
making rounds, and runs `tsino stream` for SECONDS.  Half-way it makes the
server close the stream (1001, going away) and refuse the next connection
with 503 for 2 s: tsino's log shows the reconnect and the backfill of the
rounds it missed.  Then it stops both by PID and compares tsino's output
with the server's ground-truth log: rounds received live (sent to tsino
over the stream), rounds backfilled (printed, never sent over the
stream), duplicates, missed rounds.  Exit status 1 if any round is
missing, repeated or not byte-identical to what the server generated.
Its waits (not SECONDS) are scaled by TSINO_TEST_SLOW, as in tests/scen.py.
"""

import json
import os
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

from scen import SLOW

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TSINO = os.environ.get('TSINO') or os.path.join(ROOT, 'tsino')
GAMES = 'stake-crash,roobet-crash,duel-crash'
SAMPLES = 3


def say(text):
    print('demo: ' + text, flush=True)


def control(port, **cmd):
    import urllib.request
    req = urllib.request.Request(
        'http://127.0.0.1:%d/_control' % port, method='POST',
        data=json.dumps(cmd).encode(),
        headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=5 * SLOW) as r:
        return json.loads(r.read())


def read_log(path):
    out = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.endswith('\n'):
                out.append(json.loads(line))
    return out


def stop(p, grace=5.0):
    """SIGTERM by PID, SIGKILL if it lingers; the exit status."""
    if p.poll() is None:
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(grace * SLOW)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
    return p.returncode


class Tsino:
    """tsino stream, its stderr shown as it comes, stdout collected."""

    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL)
        self.lines = []
        self.log = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.out, daemon=True),
                        threading.Thread(target=self.err, daemon=True)]
        for t in self.threads:
            t.start()

    def out(self):
        for raw in iter(self.p.stdout.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            with self.lock:
                self.lines.append(line)
                n = len(self.lines)
            if n <= SAMPLES:
                print('  stdout | %s' % line[:110] +
                      ('...' if len(line) > 110 else ''), flush=True)
            elif n == SAMPLES + 1:
                say('(more rounds are coming; only the first %d are shown '
                    'here)' % SAMPLES)

    def err(self):
        for raw in iter(self.p.stderr.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            with self.lock:
                self.log.append(line)
            print('  stderr | %s' % line, flush=True)

    def wait_log(self, text, timeout):
        end = time.time() + timeout * SLOW
        while time.time() < end:
            with self.lock:
                if any(text in l for l in self.log):
                    return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def printed(self):
        with self.lock:
            return list(self.lines)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    if not os.access(TSINO, os.X_OK):
        sys.exit('demo: %s not built (run make)' % TSINO)
    tmp = tempfile.mkdtemp(prefix='tsino-demo-')
    keyfile = os.path.join(tmp, 'key')
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, ('demo-' + secrets.token_hex(16) + '\n').encode())
    os.close(fd)
    logpath = os.path.join(tmp, 'server-log.jsonl')
    say('throwaway key in %s; fake TrackerSino server on 127.0.0.1 (TLS, '
        'test CA), games %s' % (keyfile, GAMES))
    server = subprocess.Popen(
        [sys.executable, os.path.join(HERE, 'fakeapi.py'), '--key-file',
         keyfile, '--games', GAMES, '--rate', '1', '--paused', '--log',
         logpath, '--max-seconds', str(seconds + 60)],
        stdout=subprocess.PIPE, stderr=open(logpath + '.stderr', 'wb'),
        stdin=subprocess.DEVNULL)
    t = None
    try:
        r, _, _ = select.select([server.stdout], [], [], 10 * SLOW)
        ports = json.loads(server.stdout.readline()) if r else None
        if not ports:
            sys.exit('demo: the fake server did not start (see %s.stderr)'
                     % logpath)
        api = 'https://localhost:%d%s' % (ports['tls'], ports['base'])
        argv = [TSINO, 'stream', '--api', api, '--key-file', keyfile,
                '--ca-file', os.path.join(HERE, 'certs', 'ca.pem')]
        say('running for %g s: %s' % (seconds, ' '.join(
            os.path.relpath(a, ROOT) if a.startswith(ROOT) else a
            for a in argv)))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('TRACKERSINO_', 'SSL_CERT'))}
        t = Tsino(argv, env)
        if not t.wait_log('stream: connected', 10):
            sys.exit('demo: tsino did not connect')
        control(ports['plain'], paused=False)
        time.sleep(seconds / 2)
        say('half-way: the server closes the stream (1001 going away) and '
            'refuses the next connection with 503, Retry-After 2 s')
        control(ports['plain'], drop_now='close', code=1001, refuse=1,
                refuse_status=503, retry_after=2)
        # The second half in full, not "until t0 + seconds": after a stall
        # (a loaded machine) the server still makes rounds during the gap.
        time.sleep(seconds / 2)
        control(ports['plain'], paused=True)
        time.sleep(0.5 * SLOW)
        want = {e['round_id']: e for e in read_log(logpath)
                if e['ev'] == 'round'}
        end = time.time() + 5 * SLOW
        while time.time() < end and not set(want) <= {
                json.loads(l).get('round_id') for l in t.printed()}:
            time.sleep(0.1)
        time.sleep(0.5 * SLOW)
        rc = stop(t.p)
        for th in t.threads:
            th.join(2)
    finally:
        if t is not None and t.p.poll() is None:
            stop(t.p)
        stop(server)
        os.unlink(keyfile)
    log = read_log(logpath)
    sent = {e['round_id'] for e in log if e['ev'] == 'ws_round'}
    lines = t.printed()
    ids = []
    wrong = 0
    for line in lines:
        try:
            rid = json.loads(line)['round_id']
        except (ValueError, KeyError, TypeError):
            wrong += 1
            continue
        ids.append(rid)
        if rid not in want or want[rid]['line'] != line:
            wrong += 1
    uniq = set(ids)
    live = len(uniq & sent)
    back = len(uniq - sent)
    dups = len(ids) - len(uniq)
    missed = len(set(want) - uniq)
    if back:
        say('some rounds that came over REST after the gap:')
        for line in [l for l in lines if json.loads(l)['round_id']
                     not in sent][:SAMPLES]:
            r = json.loads(line)
            print('  stdout | %s %sx at %s (round_index %s)' % (
                r['game_id'], r['multiplier'], r['finalized_at'],
                r['round_index']), flush=True)
    say('tsino exited with status %d; server log: %s' % (rc, logpath))
    say('%d rounds generated; tsino printed %d: %d live, %d backfilled, '
        '%d duplicates, %d missed, %d not byte-identical' % (
            len(want), len(lines), live, back, dups, missed, wrong))
    ok = rc == 0 and dups == 0 and missed == 0 and wrong == 0 and back > 0
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
