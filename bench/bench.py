#!/usr/bin/env python3
"""make bench: tsino stream against the guide's own Python and Node
clients, a libwebsockets client and two copy floors (SPEC §5, issue 7).

Every client run gets its own bench/blaster (one WebSocket client, then
the port is shut), plain ws:// or TLS wss:// with the tests' CA, and
writes its stdout to a file under $B/bench/out.  A run counts only if the
client received every round exactly once (lines: K lines whose round_id
numbers are exactly 0..K-1; floors: the exact byte stream).  Clients that
reconnect forever (tsino, the guide's two) are sent SIGTERM as soon as the
K-th line is in the file; tsino must then exit 0.

Measured per run:
  CPU      user+sys seconds of the client, from wait4() on the
           /usr/bin/time that ran it (µs resolution; time's own fork and
           exec, about a millisecond, is included);
  wall     client start to the last byte of its output (file mtime);
  RSS      peak resident set, GNU time's %M (a fork from this Python
           process would inherit Python's RSS into ru_maxrss: time's own
           ~1 MiB is the floor of that figure instead).
The table shows medians over BENCH_RUNS runs; ns/round = CPU / K.
Then paced mode (RATE rounds/s, one frame per write, raw.sent_ns stamped
at the write): each client's stdout is a pipe read here, and latency is
the time a chunk holding a round's sent_ns was read minus that sent_ns.
Then heap: valgrind's "total heap usage" of tsino stream for two K.

Environment: TSINO (the binary), B (build dir), K (200000), BENCH_RUNS
(3), BENCH_RATE (2000), BENCH_PACED_SECONDS (10; the paced run sends
min(K, RATE x SECONDS) rounds), BENCH_HEAP_K (100000; capped at K),
BENCH_CLIENTS (comma list to run only some, e.g. tsino,floor),
BENCH_NO_PACED / BENCH_NO_HEAP (set to skip those parts).
Exits 1 if any run lost, repeated or garbled a round, or tsino did not
exit 0 on SIGTERM.
"""
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
B = os.path.abspath(os.environ.get('B', 'build'))
BB = os.path.join(B, 'bench')
OUT = os.path.join(BB, 'out')
TSINO = os.path.abspath(os.environ.get('TSINO', os.path.join(ROOT, 'tsino')))
CERTS = os.path.join(ROOT, 'tests', 'certs')
CA = os.path.join(CERTS, 'ca.pem')
K = int(os.environ.get('K', '200000'))
RUNS = int(os.environ.get('BENCH_RUNS', '3'))
RATE = float(os.environ.get('BENCH_RATE', '2000'))
PACED_SECONDS = float(os.environ.get('BENCH_PACED_SECONDS', '10'))
HEAP_K = int(os.environ.get('BENCH_HEAP_K', '100000'))
STALL = 30.0            # seconds without progress: the run failed
POLL = 0.003            # seconds between looks at an output file
PYTHON = '/usr/bin/python3'
NODE = shutil.which('node') or '/usr/bin/node'
TIME = '/usr/bin/time'
MARK = b'"round_id":"c2caaf8a-34b3-42b0-8d44-'
STAMP = b'"sent_ns":'

# (client, link); peers first, then tsino, then the floor, per link.
ORDER = ['tsino', 'python', 'node', 'lws', 'floor']
LINKS = ['ws', 'wss']

failures = []
suites = set()         # TLS cipher suites the blaster saw negotiated


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def blaster(k, link, rate=0, hold=False):
    argv = [os.path.join(BB, 'blaster'), '-k', str(k)]
    if rate:
        argv += ['-r', str(rate)]
    if hold:
        argv.append('-n')
    if link == 'wss':
        argv += ['--tls', os.path.join(CERTS, 'good-ec.pem'),
                 os.path.join(CERTS, 'good-ec.key')]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    m = re.match(rb'port=(\d+) bytes=(\d+)', p.stdout.readline())
    if not m:
        raise SystemExit('bench: blaster did not start: %s'
                         % p.stderr.read().decode(errors='replace'))
    return p, int(m.group(1)), int(m.group(2))


def blaster_end(p):
    try:
        _, err = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    m = re.search(rb'cpu ([0-9.]+) s, suite 0x([0-9a-f]+)', err)
    if not m:
        return float('nan')
    if m.group(2) != b'0000':
        suites.add(m.group(2).decode())
    return float(m.group(1))


def command(name, link, port):
    """argv, env and kind ('lines' or 'raw') of one client."""
    env = dict(os.environ, TRACKERSINO_API_KEY='benchkey')
    tls = link == 'wss'
    host = 'localhost' if tls else '127.0.0.1'
    uri = '%s://%s:%d/v1-beta/stream' % (link, host, port)
    env['BENCH_URI'] = uri
    if name == 'tsino':
        argv = [TSINO, 'stream', '--api', '%s://%s:%d/v1-beta'
                % ('https' if tls else 'ws', host, port)]
        if tls:
            argv += ['--ca-file', CA]
    elif name == 'python':
        argv = [PYTHON, os.path.join(ROOT, 'bench', 'guide_client.py')]
        env['SSL_CERT_FILE'] = CA
        # As a user runs it: with PYTHONUNBUFFERED (set on some CI
        # images) print() makes two write()s a line, the text and '\n'.
        env.pop('PYTHONUNBUFFERED', None)
    elif name == 'node':
        argv = [NODE, os.path.join(BB, 'node', 'guide_client.mjs')]
        env['NODE_EXTRA_CA_CERTS'] = CA
    elif name == 'lws':
        argv = [os.path.join(BB, 'lws_client'), str(port)]
        if tls:
            argv.append(CA)
    else:
        argv = [os.path.join(BB, 'floor_tls' if tls else 'floor'),
                str(port)]
        if tls:
            argv.append(CA)
    return argv, env, ('raw' if name == 'floor' else 'lines')


def verify(data, kind, k, nbytes):
    """None if data holds rounds 0..k-1 exactly once, else why not."""
    if kind == 'raw':
        if len(data) != nbytes:
            return 'got %d bytes, sent %d' % (len(data), nbytes)
        if data.count(MARK) != k:
            return '%d rounds in the bytes, sent %d' % (data.count(MARK), k)
        return None
    lines = data.split(b'\n')
    if lines[-1] != b'':
        return 'last line cut short'
    lines.pop()
    if len(lines) != k:
        return '%d lines, sent %d rounds' % (len(lines), k)
    nums = []
    for line in lines:
        i = line.find(MARK)
        if i < 0:
            return 'a line without round_id: %r' % line[:80]
        i += len(MARK)
        nums.append(int(line[i:i + 12]))
    nums.sort()
    if nums != list(range(k)):
        return 'round ids are not 0..%d exactly once' % (k - 1)
    return None


def child_of(pid):
    """The one child process of pid (the client under /usr/bin/time)."""
    path = '/proc/%d/task/%d/children' % (pid, pid)
    for _ in range(1000):
        try:
            with open(path) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.001)
    return None


def stop(pid):
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def run_blast(name, link, k):
    bl, port, nbytes = blaster(k, link)
    argv, env, kind = command(name, link, port)
    tag = '%s-%s' % (name, link)
    out_path = os.path.join(OUT, tag + '.out')
    rss_path = os.path.join(OUT, tag + '.rss')
    err = open(os.path.join(OUT, tag + '.err'), 'wb')
    out = open(out_path, 'wb')
    t0 = time.time_ns()
    p = subprocess.Popen([TIME, '-f', '%M', '-o', rss_path] + argv,
                         stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                         env=env)
    out.close()
    err.close()
    why = None
    lines = 0
    seen = 0
    last = time.monotonic()
    status = ru = None
    with open(out_path, 'rb') as watch:
        while True:
            time.sleep(POLL)
            chunk = watch.read()
            if chunk:
                seen += len(chunk)
                lines += chunk.count(b'\n')
                last = time.monotonic()
            if kind == 'lines' and lines >= k:
                kid = child_of(p.pid)
                if kid:
                    stop(kid)
                break
            pid, st, r = os.wait4(p.pid, os.WNOHANG)
            if pid:
                status, ru = st, r
                if kind == 'lines':
                    why = 'exited after %d lines' % lines
                break
            if time.monotonic() - last > STALL:
                why = 'stalled after %d bytes, %d lines' % (seen, lines)
                kid = child_of(p.pid)
                if kid:
                    os.kill(kid, signal.SIGKILL)
                break
    if ru is None:
        _, status, ru = os.wait4(p.pid, 0)
    wall = (os.stat(out_path).st_mtime_ns - t0) / 1e9
    bcpu = blaster_end(bl)
    code = os.waitstatus_to_exitcode(status)
    if why is None:
        with open(out_path, 'rb') as f:
            why = verify(f.read(), kind, k, nbytes)
    if why is None and name == 'tsino' and code != 0:
        why = 'exit status %d after SIGTERM (want 0)' % code
    if why is None and kind == 'raw' and code != 0:
        why = 'exit status %d' % code
    try:
        with open(rss_path) as f:
            rss = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        rss = float('nan')
    cpu = ru.ru_utime + ru.ru_stime
    if why:
        failures.append('%s: %s (see %s)' % (tag, why, OUT))
    return {'cpu': cpu, 'wall': wall, 'rss': rss, 'bcpu': bcpu,
            'ok': why is None}


def run_paced(name, link, k, rate):
    bl, port, nbytes = blaster(k, link, rate)
    argv, env, kind = command(name, link, port)
    tag = '%s-%s' % (name, link)
    err = open(os.path.join(OUT, tag + '.paced.err'), 'wb')
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                         stdin=subprocess.DEVNULL, env=env)
    err.close()
    fd = p.stdout.fileno()
    parts, lat, carry = [], [], b''
    last = time.monotonic()
    why = None
    newlines = 0
    # A line client is done at its k-th newline (a line and its newline
    # may come in two writes); a floor at the server's close.
    while kind == 'raw' or newlines < k:
        r, _, _ = select.select([fd], [], [], 1.0)
        if not r:
            if time.monotonic() - last > STALL:
                why = 'stalled after %d rounds' % len(lat)
                break
            continue
        chunk = os.read(fd, 1 << 16)
        t = time.time_ns()
        if not chunk:
            break
        last = time.monotonic()
        parts.append(chunk)
        newlines += chunk.count(b'\n')
        buf = carry + chunk
        i = 0
        while True:
            j = buf.find(STAMP, i)
            if j < 0 or j + len(STAMP) + 19 > len(buf):
                break
            i = j + len(STAMP) + 19
            lat.append(t - int(buf[j + len(STAMP):i]))
        carry = buf[j:] if j >= 0 else buf[max(i, len(buf) - len(STAMP)):]
    if kind == 'lines' or why:
        stop(p.pid)
    rest = p.stdout.read()
    parts.append(rest)
    p.stdout.close()
    try:
        p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    blaster_end(bl)
    data = b''.join(parts)
    with open(os.path.join(OUT, tag + '.paced.out'), 'wb') as f:
        f.write(data)
    if why is None:
        why = verify(data, kind, k, nbytes)
    if why:
        failures.append('%s paced: %s' % (tag, why))
        return None
    lat.sort()
    n = len(lat)

    def q(x):
        return lat[min(n - 1, int(x * n))] / 1e3

    return {'p50': q(0.50), 'p99': q(0.99), 'max': lat[-1] / 1e3,
            'n': n}


def heap(link, k):
    """valgrind's total heap usage of tsino stream over k rounds: start,
    connect, k rounds, SIGTERM and close (the blaster waits for tsino's
    close, so no reconnect muddles the count)."""
    bl, port, _ = blaster(k, link, hold=True)
    argv, env, _ = command('tsino', link, port)
    tag = 'heap-%s-%d' % (link, k)
    vlog = os.path.join(OUT, tag + '.valgrind')
    out_path = os.path.join(OUT, tag + '.out')
    out = open(out_path, 'wb')
    err = open(os.path.join(OUT, tag + '.err'), 'wb')
    p = subprocess.Popen(['valgrind', '--log-file=' + vlog] + argv,
                         stdout=out, stderr=err,
                         stdin=subprocess.DEVNULL, env=env)
    out.close()
    err.close()
    lines, last = 0, time.monotonic()
    with open(out_path, 'rb') as watch:
        while lines < k and p.poll() is None:
            time.sleep(0.02)
            chunk = watch.read()
            if chunk:
                lines += chunk.count(b'\n')
                last = time.monotonic()
            elif time.monotonic() - last > 120:
                break
    stop(p.pid)
    p.wait()
    blaster_end(bl)
    if lines != k:
        failures.append('%s: %d lines under valgrind, want %d'
                        % (tag, lines, k))
    with open(vlog) as f:
        m = re.search(r'total heap usage: ([\d,]+) allocs, ([\d,]+) frees,'
                      r' ([\d,]+) bytes allocated', f.read())
    if not m:
        failures.append('%s: no heap summary in %s' % (tag, vlog))
        return None
    return [int(g.replace(',', '')) for g in m.groups()]


def available():
    """Clients that can run here, and why the others cannot."""
    want = os.environ.get('BENCH_CLIENTS')
    names = [n for n in ORDER if not want or n in want.split(',')]
    skip = {}
    if subprocess.run([PYTHON, '-c', 'import websockets'],
                      capture_output=True).returncode != 0:
        skip['python'] = 'no python3-websockets for %s' % PYTHON
    ws = '/usr/share/nodejs/ws'
    if not os.path.exists(NODE) or not os.path.isdir(ws):
        skip['node'] = 'no node or no node-ws (%s)' % ws
    else:
        # ESM ignores NODE_PATH: give the script a node_modules of its own
        # so that the guide's `import WebSocket from 'ws'` stays verbatim.
        nd = os.path.join(BB, 'node')
        os.makedirs(os.path.join(nd, 'node_modules'), exist_ok=True)
        shutil.copy(os.path.join(ROOT, 'bench', 'guide_client.mjs'), nd)
        link = os.path.join(nd, 'node_modules', 'ws')
        if not os.path.islink(link):
            os.symlink(ws, link)
    if not os.path.exists(os.path.join(BB, 'lws_client')):
        skip['lws'] = 'lws_client not built (libwebsockets-dev)'
    if not os.path.exists(TIME):
        raise SystemExit('bench: needs GNU time (%s): apt-get install time'
                         % TIME)
    for n in skip:
        log('bench: skipping %s: %s' % (n, skip[n]))
    return [n for n in names if n not in skip]


def versions():
    out = []

    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except OSError:
            return '?'
    out.append('python3 %s, websockets %s' % (
        cmd([PYTHON, '-c', 'import sys; print(sys.version.split()[0])']),
        cmd([PYTHON, '-c', 'import websockets; print(websockets.__version__)'])))
    out.append('node %s, ws %s' % (
        cmd([NODE, '--version']),
        cmd(['sh', '-c', "sed -n 's/.*\"version\": *\"\\(.*\\)\".*/\\1/p' "
             "/usr/share/nodejs/ws/package.json"])))
    out.append('libwebsockets %s' % cmd(['pkg-config', '--modversion',
                                         'libwebsockets']))
    return '; '.join(out)


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main():
    os.makedirs(OUT, exist_ok=True)
    names = available()
    print('tsino bench: K=%d rounds of ~355 bytes, %d run(s) each, '
          'medians; %d CPUs (%s); load %s'
          % (K, RUNS, os.cpu_count(), cpu_model(),
             ' '.join('%.2f' % x for x in os.getloadavg())))
    print('peers: ' + versions())
    sys.stdout.flush()

    results = {}
    for run in range(RUNS):
        for link in LINKS:
            for name in names:
                r = run_blast(name, link, K)
                results.setdefault((name, link), []).append(r)
                log('bench: run %d %s %s: cpu %.3f s wall %.3f s rss %s KiB'
                    '%s' % (run + 1, name, link, r['cpu'], r['wall'],
                            r['rss'], '' if r['ok'] else ' FAILED'))

    if suites:
        print('wss: every client negotiated TLS 1.2 suite %s (0xc02b is '
              'ECDHE-ECDSA-AES128-GCM-SHA256, the only one the blaster '
              'offers)' % ', '.join('0x' + x for x in sorted(suites)))
    med = {}
    for key, rs in results.items():
        med[key] = {f: statistics.median(r[f] for r in rs)
                    for f in ('cpu', 'wall', 'rss', 'bcpu')}
    print()
    print('| client | link | CPU s | ns/round | wall s | peak RSS KiB '
          '| CPU / tsino | CPU / floor | blaster CPU s |')
    print('|---|---|---:|---:|---:|---:|---:|---:|---:|')
    for link in LINKS:
        for name in names:
            m = med[(name, link)]
            t = med.get(('tsino', link))
            fl = med.get(('floor', link))
            print('| %s | %s | %.3f | %.0f | %.3f | %d | %s | %s | %.3f |'
                  % (name, link, m['cpu'], m['cpu'] * 1e9 / K, m['wall'],
                     m['rss'],
                     '%.2f' % (m['cpu'] / t['cpu']) if t else '-',
                     '%.2f' % (m['cpu'] / fl['cpu']) if fl else '-',
                     m['bcpu']))
    sys.stdout.flush()

    if not os.environ.get('BENCH_NO_PACED'):
        kp = int(min(K, RATE * PACED_SECONDS))
        print()
        print('paced: %d rounds at %g rounds/s (%.1f s); latency = stdout '
              'read here - sent_ns, µs' % (kp, RATE, kp / RATE))
        print()
        print('| client | link | p50 µs | p99 µs | max µs |')
        print('|---|---|---:|---:|---:|')
        sys.stdout.flush()
        for link in LINKS:
            for name in names:
                r = run_paced(name, link, kp, RATE)
                if r:
                    print('| %s | %s | %.0f | %.0f | %.0f |'
                          % (name, link, r['p50'], r['p99'], r['max']))
                else:
                    print('| %s | %s | failed | | |' % (name, link))
                sys.stdout.flush()

    if not os.environ.get('BENCH_NO_HEAP') and 'tsino' in names:
        print()
        if not shutil.which('valgrind'):
            print('heap: skipped (valgrind not installed)')
        else:
            ks = sorted({min(1000, K), min(HEAP_K, K)})
            print('heap: tsino stream under valgrind, total heap usage '
                  '(whole run: start, connect, K rounds, SIGTERM)')
            print()
            print('| link | K | allocs | frees | bytes allocated |')
            print('|---|---:|---:|---:|---:|')
            sys.stdout.flush()
            for link in LINKS:
                for k in ks:
                    h = heap(link, k)
                    if h:
                        print('| %s | %d | %d | %d | %d |'
                              % (link, k, h[0], h[1], h[2]))
                    sys.stdout.flush()

    print()
    print('load at the end: %s' % ' '.join('%.2f' % x
                                          for x in os.getloadavg()))
    if failures:
        print('bench: %d FAILED:' % len(failures))
        for f in failures:
            print('  ' + f)
        return 1
    print('bench: every run received all rounds exactly once')
    return 0


if __name__ == '__main__':
    sys.exit(main())
