"""scenario_hostile: what a hostile or broken server can make tsino write
(issue 13 items 4 and 10).  Server text in a log line (a reason phrase,
an error body, a close reason) comes out escaped: control bytes and
invalid UTF-8 as \\xNN, length capped, and the API key, if the server
echoes it, as ***.  A raw server on 127.0.0.1 (this file) answers every
request; the close reason goes through tests/fakeapi.py's raw frames.

    python3 tests/scenario_hostile.py [case ...]
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scen                                    # noqa: E402
from scen import check, check_eq                # noqa: E402

SLOW = scen.SLOW        # the helpers in scen scale their waits themselves
KEY = scen.KEY


def raw_server(answer):
    """A listener on 127.0.0.1 that reads one request head per
    connection and sends answer(request_bytes); its port.  Runs in a
    daemon thread until the process ends."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', 0))
    ls.listen(8)

    def serve():
        while True:
            conn, _ = ls.accept()
            conn.settimeout(5)
            req = b''
            try:
                while b'\r\n\r\n' not in req:
                    b = conn.recv(4096)
                    if not b:
                        break
                    req += b
                conn.sendall(answer(req))
            except OSError:
                pass
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return ls.getsockname()[1]


def no_raw_controls(lines, what):
    for l in lines:
        bad = [ch for ch in l if ord(ch) < 0x20 and ch != '\t']
        bad += [ch for ch in l if ord(ch) == 0x7f or ord(ch) == 0xfffd]
        check(not bad, '%s: raw control or invalid bytes in %r'
              % (what, l[:200]))


def rounds(c, port, timeout=8.0):
    env = c.tsino_env(None, ca=None)
    return c.run([scen.TSINO, 'rounds', 'stake-crash', '--api',
                  'http://127.0.0.1:%d/v1-beta' % port,
                  '--connect-timeout', '3'], env=env,
                 timeout=timeout)


def t_echoed_key(c):
    """A 401 whose body echoes the request (Authorization: Bearer KEY):
    exit 3, the server's words logged, the key as ***, never in clear;
    a body with the key cut at its end hides that start too."""
    for cut in (None, 10):
        def answer(req, cut=cut):
            body = req if cut is None else req[:req.index(KEY.encode())
                                                + cut]
            return (b'HTTP/1.1 401 Unauthorized\r\nContent-Length: %d\r\n'
                    b'\r\n' % len(body)) + body
        port = raw_server(answer)
        p = rounds(c, port)
        check_eq(p.rc, 3, 'exit status (cut %s)' % cut)
        err = '\n'.join(p.stderr)
        check('API key refused' in err, 'refusal not logged: %r' % err)
        check(KEY not in err and KEY[:10] not in err,
              'the key is on stderr: %r' % err[-300:])
        check('***' in err, 'no *** where the key was: %r' % err[-300:])
        no_raw_controls(p.stderr, 'echoed request')


def t_reason_phrase(c):
    """A reason phrase with invalid UTF-8 (obs-text; control bytes there
    are a malformed status line) and a body with ESC sequences, DEL and
    a newline: escaped as \\xNN on one log line; valid UTF-8 stays."""
    def answer(req):
        body = b'x\x1b[2J\x7f\ny'
        return (b'HTTP/1.1 502 Bad \xff\xc3\xa9 Gateway\r\n'
                b'Content-Length: %d\r\n\r\n' % len(body)) + body
    port = raw_server(answer)
    p = rounds(c, port)
    check_eq(p.rc, 1, 'exit status')
    no_raw_controls(p.stderr, 'reason phrase')
    err = '\n'.join(p.stderr)
    for want in ('Bad \\xff\u00e9 Gateway', 'x\\x1b[2J\\x7f\\x0ay'):
        check(want in err, '%r not in stderr: %r' % (want, err[-300:]))


def t_close_reason(c):
    """A close frame whose reason forges a whole timestamped log line
    (a newline, then text) and clears the screen (ESC): one log line,
    with \\x0a and \\x1b in it."""
    api = c.fakeapi('--no-tls', '--rate', '0', '--ping-ms', '300')
    env = c.tsino_env(None, ca=None)
    p = c.spawn([scen.TSINO, 'stream', '--api',
                 'http://127.0.0.1:%d%s' % (api.plain, api.base)], env=env)
    api.wait_for('request', kind='ws', status=101, timeout=10)
    reason = b'bye\n2026-01-01T00:00:00Z tsino: forged\x1b[2J'
    payload = (1001).to_bytes(2, 'big') + reason
    frame = bytes([0x88, len(payload)]) + payload
    api.control(inject='raw', hex=frame.hex())
    scen.wait_until(lambda: any('server closed the stream with 1001' in l
                                for l in p.stderr), 10,
                    what='the close logged', got=lambda: '%r' % p.stderr[-1:])
    c.stop(p)
    no_raw_controls(p.stderr, 'close reason')
    line = [l for l in p.stderr if 'server closed the stream' in l][0]
    check('bye\\x0a2026' in line and '\\x1b[2J' in line,
          'close reason not escaped: %r' % line)
    check(not any(l.startswith('2026-01-01T00:00:00Z') for l in p.stderr),
          'a forged line on stderr')


CASES = [t_echoed_key, t_reason_phrase, t_close_reason]

if __name__ == '__main__':
    scen.main(CASES, timeout=30)
