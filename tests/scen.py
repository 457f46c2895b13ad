"""scen.py: helpers for the scenario tests (tests/scenario_*.py).

A scenario file is run from the repository root as
`python3 tests/scenario_X.py [case ...]`; it ends with the line
`N passed, M failed` that tests/run.sh adds up, and exits 1 if any failed.

    import scen

    def t_clean_stream(c):
        api = c.fakeapi('--rate', '5', '--ping-ms', '300')
        p = c.spawn([scen.TSINO, 'stream', '--api', api.url('tls'),
                     '--ca-file', scen.cert('ca.pem')],
                    env=c.tsino_env(api))
        api.wait_for(lambda ev: ev['ev'] == 'ws_round', count=5)
        c.stop(p)
        scen.check(p.rc == 0, 'exit %s' % p.rc)

    scen.main([t_clean_stream])

Every process started through the case object `c` (fakeapi or not) is
stopped when the case ends, pass or fail: SIGTERM, then SIGKILL after a
grace period.  Each case runs under a hard timeout (SIGALRM).

Timed waits scale with one factor, the environment variable
TSINO_TEST_SLOW (a number > 0, default 1; `make asan` sets 3): every
timeout, grace period and settling pause given to the helpers here is in
seconds at factor 1 and is multiplied by SLOW inside them (wait_until,
Proc.wait_lines/wait_stderr/wait/stop, FakeAPI's start, control and
wait_for, run, the case limits; sleep() for a pause).  A scenario
multiplies only what it times itself: scaled(x) for the upper bound on
a measured duration ("exit within 1 s").  What is under test is not
scaled: tsino's own timers given on its command line (--heartbeat,
--connect-timeout), the fake server's (pings, Retry-After, rates), and
lower bounds ("waited at least the Retry-After").  A wait that runs out
says what it waited for, for how long, and what it saw instead.
"""

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CERTS = os.path.join(HERE, 'certs')
FAKEAPI = os.path.join(HERE, 'fakeapi.py')
TSINO = os.environ.get('TSINO') or os.path.join(ROOT, 'tsino')
KEY = 'test-key-0123456789abcdef'


def _slow():
    text = os.environ.get('TSINO_TEST_SLOW') or '1'
    try:
        v = float(text)
    except ValueError:
        v = 0.0
    if not 0 < v < 1000:
        sys.exit('TSINO_TEST_SLOW=%r: want a number above 0' % text)
    return v


SLOW = _slow()


def scaled(secs):
    """secs (a time at TSINO_TEST_SLOW 1) multiplied by the factor."""
    return secs * SLOW


def waited(secs):
    """How long a wait of secs (unscaled) lasts, in words for a failure:
    '15.0 s (5.0 x TSINO_TEST_SLOW 3)'."""
    if SLOW == 1:
        return '%.1f s' % secs
    return '%.1f s (%g x TSINO_TEST_SLOW %g)' % (secs * SLOW, secs, SLOW)


def sleep(secs):
    """A settling pause of secs, scaled: time for what is still on its way
    (a line, a duplicate) to arrive before the test looks."""
    time.sleep(secs * SLOW)


class Failure(Exception):
    pass


def check(cond, msg='check failed'):
    if not cond:
        raise Failure(msg)


def check_eq(got, want, what='value'):
    if got != want:
        raise Failure('%s: got %r, want %r' % (what, got, want))


def cert(name):
    """Path of a file in tests/certs."""
    return os.path.join(CERTS, name)


def minify(text):
    """JSON text with the whitespace outside strings removed (escapes and
    number spellings kept), the form tsino prints."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        if ch not in ' \t\r\n':
            out.append(ch)
        i += 1
    return ''.join(out)


def wait_until(pred, timeout, step=0.02, what='condition', got=None):
    """Poll pred() until true; its value.  The central wait: timeout is
    scaled by TSINO_TEST_SLOW; when it runs out, Failure says what was
    awaited, how long, and what got() (if given) says was there."""
    end = time.time() + timeout * SLOW
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= end:
            seen = got() if got is not None else None
            raise Failure('timed out: waited %s for %s%s'
                          % (waited(timeout), what,
                             ', got %s' % seen if seen is not None else ''))
        time.sleep(step)


def read_log(path):
    """The ground-truth log as a list of dicts (a torn last line is
    skipped).  round_index stays an exact int."""
    out = []
    try:
        with open(path, encoding='utf-8') as f:
            for line in f:
                if line.endswith('\n'):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


class Proc:
    """A started process, with its output collected by threads.  `lines`
    holds (time, line) for each stdout line as it arrived, so a test can
    tell when each line reached the pipe."""

    def __init__(self, argv, env=None, stdin=None, cwd=None):
        self.argv = argv
        self.started = time.time()
        self.p = subprocess.Popen(
            argv, env=env, cwd=cwd or ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if stdin is not None else
            subprocess.DEVNULL, start_new_session=True)
        self.pid = self.p.pid
        self.lines = []
        self.err = []
        self.lock = threading.Lock()
        self.rc = None
        self.t_out = threading.Thread(target=self._pump,
                                      args=(self.p.stdout, self.lines))
        self.t_err = threading.Thread(target=self._pump,
                                      args=(self.p.stderr, self.err))
        self.t_out.daemon = self.t_err.daemon = True
        self.t_out.start()
        self.t_err.start()
        if stdin is not None:
            self.p.stdin.write(stdin)
            self.p.stdin.close()

    def _pump(self, f, dest):
        for line in iter(f.readline, b''):
            with self.lock:
                dest.append((time.time(), line.decode('utf-8', 'replace')
                             .rstrip('\n')))

    @property
    def stdout(self):
        with self.lock:
            return [l for _, l in self.lines]

    @property
    def stderr(self):
        with self.lock:
            return [l for _, l in self.err]

    def wait_lines(self, n, timeout=10.0):
        """Wait until stdout has n lines; returns the first n."""
        return wait_until(lambda: len(self.lines) >= n and self.stdout[:n],
                          timeout, what='%d lines of stdout from %s' % (
                              n, os.path.basename(self.argv[0])),
                          got=lambda: '%d' % len(self.lines))

    def wait_stderr(self, text, timeout=10.0):
        """Wait until a stderr line contains text; returns that line."""
        def found():
            for line in self.stderr:
                if text in line:
                    return line
            return None
        return wait_until(found, timeout, what='%r on stderr of %s' % (
            text, os.path.basename(self.argv[0])),
            got=lambda: '%d stderr lines%s' % (
                len(self.err), ', the last %r' % self.stderr[-1]
                if self.err else ''))

    def running(self):
        return self.p.poll() is None

    def wait(self, timeout):
        """Wait for exit (timeout scaled); the status, or Failure (process
        left running, the case's cleanup stops it)."""
        try:
            self.rc = self.p.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            raise Failure('timed out: waited %s for %s to exit, still '
                          'running' % (waited(timeout),
                                       os.path.basename(self.argv[0])))
        self.t_out.join(2)
        self.t_err.join(2)
        return self.rc

    def signal(self, sig):
        if self.p.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace=3.0):
        """SIGTERM, then SIGKILL (to its process group) after grace s
        (scaled)."""
        if self.p.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.p.wait(grace * SLOW)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait(5)
        self.rc = self.p.returncode
        self.t_out.join(2)
        self.t_err.join(2)
        return self.rc


class FakeAPI:
    """A running tests/fakeapi.py.  Ports from its first stdout line."""

    def __init__(self, args, logpath, timeout=10.0):
        self.logpath = logpath
        self.key = KEY
        argv = [sys.executable, FAKEAPI, '--log', logpath] + list(args)
        self.errpath = logpath + '.stderr'
        with open(self.errpath, 'wb') as err:
            self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                      stderr=err, stdin=subprocess.DEVNULL,
                                      start_new_session=True)
        self.pid = self.p.pid
        r, _, _ = select.select([self.p.stdout], [], [], timeout * SLOW)
        line = self.p.stdout.readline() if r else b''
        if not line:
            self.stop()
            with open(self.errpath, errors='replace') as f:
                err = f.read()
            raise Failure('fakeapi did not start (waited %s for its ports): '
                          '%s' % (waited(timeout), err.strip()))
        self.ports = json.loads(line)
        self.plain = self.ports['plain']
        self.tls = self.ports.get('tls')
        self.base = self.ports['base']
        for i, a in enumerate(args):
            if a == '--key':
                self.key = args[i + 1]

    def port(self, kind='tls'):
        if kind == 'plain':
            return self.plain
        if kind == 'tls':
            return self.tls
        if kind in self.ports.get('tls_ports', {}):
            return self.ports['tls_ports'][kind]
        return self.ports[kind]

    def url(self, kind='tls', host='127.0.0.1', variant=None):
        """API base URL for tsino's --api: kind is plain, tls, or a cert
        name (good-rsa, expired, ...); variant e.g. 'array,chunked'."""
        scheme = 'http' if kind == 'plain' else 'https'
        if ':' in host:
            host = '[%s]' % host
        pre = '/_v/' + variant if variant else ''
        return '%s://%s:%d%s%s' % (scheme, host, self.port(kind), pre,
                                   self.base)

    def control(self, **cmd):
        """POST /_control; the reply as a dict."""
        req = urllib.request.Request(
            'http://127.0.0.1:%d/_control' % self.plain,
            data=json.dumps(cmd).encode(), method='POST',
            headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(req, timeout=5 * SLOW) as r:
            return json.loads(r.read())

    def status(self):
        with urllib.request.urlopen(
                'http://127.0.0.1:%d/_control' % self.plain,
                timeout=5 * SLOW) as r:
            return json.loads(r.read())

    def log(self, ev=None, **match):
        """Log events, optionally only those of kind ev whose fields equal
        the given values."""
        out = []
        for e in read_log(self.logpath):
            if ev is not None and e['ev'] != ev:
                continue
            if all(e.get(k) == v for k, v in match.items()):
                out.append(e)
        return out

    def rounds(self, game=None):
        """Generated rounds (log 'round' events), oldest first."""
        return [e for e in self.log('round')
                if game is None or e['game_id'] == game]

    def wait_for(self, ev, count=1, timeout=10.0, **match):
        """Wait until the log holds `count` events of kind ev matching;
        returns them."""
        def enough():
            got = self.log(ev, **match)
            return got if len(got) >= count else None
        return wait_until(enough, timeout, step=0.05,
                          what='%d x %s %s in the server log'
                          % (count, ev, match or ''),
                          got=lambda: '%d' % len(self.log(ev, **match)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, grace=2.0):
        """SIGTERM by PID, SIGKILL if still there after grace s (scaled)."""
        if self.p.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.p.wait(grace * SLOW)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait(5)
            except ProcessLookupError:
                pass
        try:
            self.p.stdout.close()
        except OSError:
            pass


def check_output(lines, rounds, want=None, ordered=True):
    """Check printed NDJSON lines against the ground truth `rounds` (log
    'round' events, e.g. api.rounds()): each line is byte for byte the
    logged line of a known round, no round_id twice, and (ordered) per
    game oldest first by (finalized_at, round_index).  want: round_ids
    that must all be there.  Returns the set of round_ids printed."""
    by_id = {r['round_id']: r for r in rounds}
    seen = set()
    last = {}
    for i, line in enumerate(lines):
        try:
            rid = json.loads(line)['round_id']
        except (ValueError, KeyError, TypeError):
            raise Failure('line %d is not a round: %.80r' % (i + 1, line))
        r = by_id.get(rid)
        if r is None:
            raise Failure('line %d: unknown round %s' % (i + 1, rid))
        if line != r['line']:
            raise Failure('line %d differs from the ground truth:\n'
                          '      got  %.300s\n      want %.300s'
                          % (i + 1, line, r['line']))
        if rid in seen:
            raise Failure('line %d: round %s printed twice' % (i + 1, rid))
        seen.add(rid)
        key = (r['finalized_at'], r['round_index'])
        g = r['game_id']
        if ordered and g in last and key < last[g]:
            raise Failure('line %d: %s round %s out of order'
                          % (i + 1, g, rid))
        last[g] = key
    if want is not None:
        missing = set(want) - seen
        if missing:
            raise Failure('%d rounds never printed, e.g. %s'
                          % (len(missing), sorted(missing)[0]))
    return seen


def run(argv, timeout=10.0, env=None, stdin=None):
    """Run a command to completion under a hard timeout (scaled; then
    SIGKILL to its group).  Returns a Proc with rc, stdout and stderr
    lists, and elapsed seconds; raises Failure on timeout."""
    p = Proc(argv, env=env, stdin=stdin)
    try:
        p.wait(timeout)
    except Failure:
        p.stop(0.5)
        raise
    p.elapsed = time.time() - p.started
    return p


class Case:
    """Handed to each case: starts things and remembers them, so that
    everything is stopped at the end whatever happens."""

    def __init__(self, name):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix='tsino-%s-' % name)
        self.procs = []
        self.apis = []

    def path(self, name):
        return os.path.join(self.tmp, name)

    def fakeapi(self, *args):
        api = FakeAPI(list(args), self.path('fakeapi%d.log'
                                            % len(self.apis)))
        self.apis.append(api)
        return api

    def spawn(self, argv, env=None, stdin=None):
        p = Proc(argv, env=env, stdin=stdin)
        self.procs.append(p)
        return p

    def run(self, argv, timeout=10.0, env=None, stdin=None):
        p = run(argv, timeout, env, stdin)
        self.procs.append(p)
        return p

    def key_file(self, key=KEY, mode=0o600):
        path = self.path('key')
        with open(path, 'w') as f:
            f.write(key + '\n')
        os.chmod(path, mode)
        return path

    def tsino_env(self, api=None, key=KEY, ca='ca.pem', **extra):
        """Environment for tsino: key in TRACKERSINO_API_KEY (None: unset),
        SSL_CERT_FILE at tests/certs/CA (None: unset), TRACKERSINO_API at
        api's TLS URL by name (https://localhost:PORT/v1-beta); other
        TRACKERSINO_* and SSL_CERT_* variables removed."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('TRACKERSINO_', 'SSL_CERT'))}
        if key is not None:
            env['TRACKERSINO_API_KEY'] = key
        if ca is not None:
            env['SSL_CERT_FILE'] = cert(ca)
        if api is not None:
            env['TRACKERSINO_API'] = api.url('tls', host='localhost')
        env.update(extra)
        return env

    def stop(self, p, grace=3.0):
        return p.stop(grace)

    def cleanup(self):
        for p in self.procs:
            try:
                p.stop(1.0)
            except Exception:
                pass
        for a in self.apis:
            try:
                a.stop()
            except Exception:
                pass


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def main(cases, timeout=20):
    """Run the case functions (each takes a Case) named on the command line,
    or all; a name given as -name leaves that case out (`make asan`'s
    subset), and a name that is no case is a failure.  A case may set its
    own limit with an attribute `timeout` (seconds at TSINO_TEST_SLOW 1,
    scaled here).
    Prints '  name ... ok' or '  name ... FAIL: why', then 'N passed, M
    failed'; exits 1 if any failed.  SCEN_KEEP=1 keeps the temp dirs."""
    names = [fn.__name__[2:] if fn.__name__.startswith('t_') else
             fn.__name__ for fn in cases]
    wanted = [a for a in sys.argv[1:] if not a.startswith('-')]
    skipped = [a[1:] for a in sys.argv[1:] if a.startswith('-')]
    unknown = [a for a in wanted + skipped if a not in names and
               a not in [fn.__name__ for fn in cases]]
    passed = failed = 0
    for a in unknown:
        print('  %s ... FAIL: no such case' % a)
        failed += 1
    signal.signal(signal.SIGALRM, _alarm)
    for fn, name in zip(cases, names):
        if wanted and name not in wanted and fn.__name__ not in wanted:
            continue
        if name in skipped or fn.__name__ in skipped:
            continue
        c = Case(name)
        t0 = time.time()
        sys.stdout.write('  %s ... ' % name)
        sys.stdout.flush()
        why = None
        limit = getattr(fn, 'timeout', timeout)
        signal.setitimer(signal.ITIMER_REAL, limit * SLOW)
        try:
            fn(c)
        except Failure as e:
            why = str(e)
        except CaseTimeout:
            at = [f for f in traceback.extract_tb(sys.exc_info()[2])
                  if os.path.basename(f.filename) != 'scen.py'][-1]
            why = 'case timed out: its limit is %s; it was at %s:%d (%s)' % (
                waited(limit), os.path.basename(at.filename), at.lineno,
                at.line)
        except Exception:
            why = 'exception:\n' + traceback.format_exc()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            c.cleanup()
        if why is None:
            passed += 1
            print('ok (%.1f s)' % (time.time() - t0))
        else:
            failed += 1
            print('FAIL: %s' % why)
            for p in c.procs:
                tail = p.stderr[-5:]
                if tail:
                    print('    stderr of %s:' % os.path.basename(p.argv[0]))
                    for line in tail:
                        print('      ' + line)
            print('    logs kept in %s' % c.tmp)
        if why is None and not os.environ.get('SCEN_KEEP'):
            _rmtree(c.tmp)
    print('%d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed else 0)


def _rmtree(path):
    for root, dirs, files in os.walk(path, topdown=False):
        for f in files:
            os.unlink(os.path.join(root, f))
        for d in dirs:
            os.rmdir(os.path.join(root, d))
    os.rmdir(path)
