#!/usr/bin/env python3
"""scenario_fakeapi.py: proves tests/fakeapi.py with Python's own clients
(http.client and ssl; a minimal RFC 6455 client written here), so that
when a tsino scenario fails, the fake server is not the suspect."""

import base64
import email.utils
import hashlib
import http.client
import json
import os
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scen  # noqa: E402
from scen import check, check_eq, Failure  # noqa: E402

KEY = scen.KEY
AUTH = {'Authorization': 'Bearer ' + KEY}


def ctx_ca(ca='ca.pem'):
    c = ssl.create_default_context(cafile=scen.cert(ca))
    return c


def https(api, path, headers=AUTH, kind='tls', host='127.0.0.1'):
    """GET over TLS (verified with ca.pem) -> (status, headers, body)."""
    if kind == 'plain':
        h = http.client.HTTPConnection('127.0.0.1', api.port('plain'),
                                       timeout=scen.scaled(5))
    else:
        h = http.client.HTTPSConnection(host, api.port(kind),
                                        timeout=scen.scaled(5),
                                        context=ctx_ca())
    try:
        h.request('GET', path, headers=headers)
        r = h.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        h.close()


def raw_get(port, path, tls=True, headers=AUTH, strict=False):
    """GET by hand over a socket; the raw response bytes (until close).
    strict: a TLS close without close_notify raises SSLEOFError."""
    s = socket.create_connection(('127.0.0.1', port),
                                 timeout=scen.scaled(5))
    if tls:
        s = ctx_ca().wrap_socket(s, server_hostname='localhost',
                                 suppress_ragged_eofs=not strict)
    req = 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n' % path
    for k, v in headers.items():
        req += '%s: %s\r\n' % (k, v)
    s.sendall((req + '\r\n').encode())
    out = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out


def rows_of(body):
    obj = json.loads(body)
    if isinstance(obj, list):
        return obj
    if 'rounds' in obj:
        return obj['rounds']
    return obj['data']


def row_texts(body):
    """The row texts of a body, minified, found without a JSON decoder (so
    their exact spelling is checked)."""
    text = scen.minify(body.decode('utf-8'))
    i = text.index('[{') if '[{' in text else None
    if i is None:
        return []
    out = []
    depth = 0
    start = None
    j = i + 1
    while j < len(text):
        ch = text[j]
        if ch == '"':
            k = j + 1
            while text[k] != '"':
                k += 2 if text[k] == '\\' else 1
            j = k + 1
            continue
        if ch in '{[':
            if depth == 0:
                start = j
            depth += 1
        elif ch in '}]':
            if depth == 0:
                break
            depth -= 1
            if depth == 0:
                out.append(text[start:j + 1])
        j += 1
    return out


# ------------------------------------------------------------ WS client

class WS:
    """A minimal RFC 6455 client: enough to check the server."""

    def __init__(self, port, path, tls=True, headers=AUTH, host='localhost',
                 key=None):
        s = socket.create_connection(('127.0.0.1', port),
                                     timeout=scen.scaled(5))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            s = ctx_ca().wrap_socket(s, server_hostname=host)
        self.s = s
        self.key = key or base64.b64encode(os.urandom(16)).decode()
        req = ('GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
               'Sec-WebSocket-Version: 13\r\n' % (path, host, self.key))
        for k, v in headers.items():
            req += '%s: %s\r\n' % (k, v)
        s.sendall((req + '\r\n').encode())
        buf = b''
        while b'\r\n\r\n' not in buf:
            d = s.recv(4096)
            if not d:
                raise Failure('EOF during the upgrade response')
            buf += d
        head, self.buf = buf.split(b'\r\n\r\n', 1)
        lines = head.decode('latin-1').split('\r\n')
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(':')
            self.headers[k.strip().lower()] = v.strip()
        self.recvs = 0

    def accept_ok(self):
        want = base64.b64encode(hashlib.sha1(
            (self.key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode())
            .digest()).decode()
        return self.headers.get('sec-websocket-accept') == want

    def body(self):
        n = int(self.headers.get('content-length', '0'))
        while len(self.buf) < n:
            self.buf += self.s.recv(4096)
        return self.buf[:n]

    def fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout('no frame in time')
            self.s.settimeout(left)
            d = self.s.recv(65536)
            if not d:
                raise EOFError('server closed')
            self.recvs += 1
            self.buf += d

    def frame(self, timeout=3.0, deadline=None):
        """(fin, opcode, payload, rsv, masked) of the next frame, within
        timeout s (scaled) or by the deadline."""
        deadline = deadline or time.time() + scen.scaled(timeout)
        self.fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            self.fill(4, deadline)
            n = struct.unpack('!H', self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            self.fill(10, deadline)
            n = struct.unpack('!Q', self.buf[2:10])[0]
            pos = 10
        masked = bool(b1 & 0x80)
        if masked:
            pos += 4
        self.fill(pos + n, deadline)
        payload = self.buf[pos:pos + n]
        if masked:
            key = self.buf[pos - 4:pos]
            payload = bytes(x ^ key[i & 3] for i, x in enumerate(payload))
        self.buf = self.buf[pos + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload, (b0 >> 4) & 7, masked

    def message(self, timeout=3.0, pong=True):
        """Next data message (op, payload), fragments joined; pings answered
        and counted."""
        deadline = time.time() + scen.scaled(timeout)
        op0 = None
        data = b''
        self.pings = getattr(self, 'pings', 0)
        while True:
            fin, op, payload, _, _ = self.frame(
                deadline=max(deadline, time.time() + 0.01))
            if op == 0x9:
                self.pings += 1
                if pong:
                    self.send(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                return op, payload
            if op != 0:
                op0 = op
            data += payload
            if fin:
                return op0, data

    def send(self, op, payload=b''):
        key = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | op])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0xFE]) + struct.pack('!H', n)
        else:
            head += bytes([0xFF]) + struct.pack('!Q', n)
        self.s.settimeout(scen.scaled(5))
        self.s.sendall(head + key + bytes(
            x ^ key[i & 3] for i, x in enumerate(payload)))

    def close(self, code=1000):
        try:
            self.send(0x8, struct.pack('!H', code))
        except OSError:
            pass

    def shut(self):
        try:
            self.s.close()
        except OSError:
            pass


def stream_path(api, games=None):
    return api.base + '/stream' + ('?games=' + games if games else '')


# ------------------------------------------------------------ REST cases

def t_rest_auth(c):
    api = c.fakeapi('--paused', '--history', '2')
    path = api.base + '/games/stake-crash/rounds'
    st, hd, body = https(api, path, headers={})
    check_eq(st, 401, 'no key')
    check('message' in json.loads(body), 'JSON message body')
    st, _, body = https(api, path, headers={'Authorization': 'Bearer nope'})
    check_eq(st, 401, 'wrong key')
    check(b'nope' not in body and KEY.encode() not in body, 'key echoed')
    st, _, _ = https(api, path, headers={'Authorization': 'Basic ' + KEY})
    check_eq(st, 401, 'not Bearer')
    api.control(auth_status=403)
    st, _, _ = https(api, path, headers={'Authorization': 'Bearer nope'})
    check_eq(st, 403, 'wrong key with auth_status 403')
    st, _, body = https(api, path)
    check_eq(st, 200, 'right key')
    check_eq(len(rows_of(body)), 2, 'rows')
    st, _, _ = https(api, api.base + '/games/nope-crash/rounds')
    check_eq(st, 404, 'unknown game')
    st, _, _ = https(api, path + '?since=yesterday')
    check_eq(st, 400, 'bad since')
    auths = [e['auth'] for e in api.log('request', kind='rest')]
    check_eq(auths, ['missing', 'wrong', 'malformed', 'wrong', 'ok', 'ok',
                     'ok'], 'logged auth outcomes')


def t_rest_variants(c):
    api = c.fakeapi('--paused', '--history', '6', '--rate', '2')
    game = 'roobet-crash'
    want = [e['row'] for e in api.rounds(game)]
    check_eq(len(want), 6, 'seeded rounds')
    for e in api.rounds(game):
        check(e['round_index'] > 2 ** 53, 'round_index > 2^53')
        check('game_id' not in json.loads(e['row']), 'game_id in a row')
        check(e['line'] == '{"game_id":"%s",%s' % (game, e['row'][1:]),
              'line = row with game_id first')
    seen = set()
    for shape in ('array', 'rounds', 'data'):
        for framing in ('length', 'chunked', 'eof'):
            for pretty in ('mini', 'pretty', 'tabs'):
                v = '%s,%s,%s' % (shape, framing, pretty)
                st, hd, body = https(api, '/_v/%s%s/games/%s/rounds'
                                     % (v, api.base, game))
                check_eq(st, 200, v)
                if framing == 'chunked':
                    check_eq(hd.get('Transfer-Encoding'), 'chunked', v)
                elif framing == 'length':
                    check_eq(hd.get('Content-Length'), str(len(body)), v)
                else:
                    check('Content-Length' not in hd, v)
                check_eq((pretty != 'mini'), b'\n' in body, v + ' newlines')
                check_eq(sorted(row_texts(body)), sorted(want), v + ' rows')
                parsed = rows_of(body)
                check_eq(sorted(r['round_id'] for r in parsed),
                         sorted(json.loads(w)['round_id'] for w in want), v)
                check(isinstance(json.loads(body), list) ==
                      (shape == 'array'), v + ' shape')
                seen.add(tuple(r['round_id'] for r in parsed))
    check(len(seen) > 1, 'rows never shuffled')
    # the same through query parameters and through settings
    st, _, body = https(api, api.base + '/games/%s/rounds?shape=data'
                        '&framing=chunked' % game)
    check('data' in json.loads(body) and 'meta' in json.loads(body),
          'data shape has meta')
    api.control(shape='array', framing='chunked', rest_pretty='tabs')
    st, hd, body = https(api, api.base + '/games/%s/rounds' % game)
    check(isinstance(json.loads(body), list) and b'\t' in body,
          'settings apply')
    logged = api.log('request', kind='rest')[-1]
    check_eq((logged['shape'], logged['framing'], logged['count']),
             ('array', 'chunked', 6), 'request log')
    # a close-delimited body over TLS ends with close_notify, a cut one not
    raw = raw_get(api.tls, '/_v/eof,array,mini%s/games/%s/rounds' % (api.base, game),
                  strict=True)
    check(raw.endswith(b']'), 'eof body whole')
    api.control(rest_refuse=1, rest_refuse_mode='truncate')
    try:
        raw_get(api.tls, api.base + '/games/%s/rounds' % game, strict=True)
        raise Failure('truncated body ended with close_notify')
    except ssl.SSLEOFError:
        pass
    # the raw chunked coding: small chunks, some with extensions
    raw = raw_get(api.tls, '/_v/chunked%s/games/%s/rounds'
                  % (api.base, game))
    head, _, rest = raw.partition(b'\r\n\r\n')
    sizes = []
    exts = 0
    while True:
        line, _, rest = rest.partition(b'\r\n')
        size, sep, _ = line.partition(b';')
        exts += bool(sep)
        n = int(size, 16)
        if n == 0:
            break
        sizes.append(n)
        rest = rest[n + 2:]
    check(max(sizes) <= 7 and min(sizes) >= 1, 'chunk sizes 1..7')
    check(exts > 0, 'some chunk extensions')


def t_rest_paging_since(c):
    api = c.fakeapi('--paused', '--history', '12', '--rate', '2',
                    '--page-size', '5')
    game = 'stake-crash'
    allr = api.rounds(game)
    path = api.base + '/games/%s/rounds' % game
    st, _, body = https(api, path)
    first = rows_of(body)
    check_eq(len(first), 5, 'page size')
    check_eq(sorted(r['round_id'] for r in first),
             sorted(e['round_id'] for e in allr[:5]), 'oldest page first')
    # since is inclusive, to the second
    pivot = allr[5]['finalized_at']
    st, _, body = https(api, path + '?since=' + pivot + '&page=100')
    got = sorted(r['round_id'] for r in rows_of(body))
    want = sorted(e['round_id'] for e in allr if e['finalized_at'] >= pivot)
    check_eq(got, want, 'since inclusive')
    check(any(e['finalized_at'] == pivot for e in allr[:5]) or True, '')
    # follow pages the way SPEC 7.2 says
    printed = {}
    since = None
    while True:
        q = path + ('?since=' + since if since else '')
        st, _, body = https(api, q)
        page = rows_of(body)
        new = [r for r in page if r['round_id'] not in printed]
        if not new:
            break
        for r in page:
            printed[r['round_id']] = r
        since = max(r['finalized_at'] for r in page)
    check_eq(sorted(printed), sorted(e['round_id'] for e in allr),
             'paging reaches every round')
    for e in allr:
        check_eq(printed[e['round_id']]['round_index'], e['round_index'],
                 'exact round_index')
    # an offset since works as well
    t = allr[5]['finalized_at'].replace('Z', '+00:00').replace('+', '%2B')
    st, _, body = https(api, path + '?since=' + t + '&page=100')
    check_eq(sorted(r['round_id'] for r in rows_of(body)), want,
             'since with an offset')


def t_rest_faults(c):
    api = c.fakeapi('--paused', '--history', '2', '--rest-refuse', '2',
                    '--retry-after', '2')
    path = api.base + '/games/stake-crash/rounds'
    for _ in range(2):
        st, hd, _ = https(api, path)
        check_eq((st, hd.get('Retry-After')), (503, '2'), '503 delta')
    check_eq(https(api, path)[0], 200, 'then 200')
    api.control(rest_refuse=1, rest_refuse_status=429,
                retry_after_form='date', retry_after=3)
    st, hd, _ = https(api, path)
    check_eq(st, 429, '429')
    when = email.utils.parsedate_to_datetime(hd['Retry-After']).timestamp()
    check(3 <= when - time.time() <= 4.5, 'HTTP-date %s' % hd['Retry-After'])
    api.control(rest_status=502)
    st, hd, _ = https(api, path)
    check(st == 502 and 'Retry-After' not in hd, '502 without Retry-After')
    api.control(rest_status=0, rest_refuse=1, rest_refuse_mode='truncate')
    try:
        https(api, path)
        raise Failure('truncated body read whole')
    except http.client.IncompleteRead:
        pass
    api.control(rest_refuse=1, rest_refuse_mode='rst')
    try:
        https(api, path)
        raise Failure('rst gave a response')
    except (ConnectionResetError, http.client.RemoteDisconnected,
            ssl.SSLError):
        pass
    check_eq(https(api, path)[0], 200, 'back to normal')
    faults = [e.get('fault') for e in api.log('request', kind='rest')]
    check_eq(faults, ['refuse_status', 'refuse_status', None,
                      'refuse_status', 'rest_status', 'refuse_truncate',
                      'refuse_rst', None], 'logged faults')


# ------------------------------------------------------------ WS cases

def t_ws_handshake_and_rounds(c):
    api = c.fakeapi('--rate', '8', '--games', 'a-crash,b-crash,c-crash')
    ws = WS(api.tls, stream_path(api, 'a-crash,c-crash'))
    check_eq(ws.status, 101, 'status')
    check(ws.accept_ok(), 'Sec-WebSocket-Accept')
    msgs = []
    while len(msgs) < 12:
        op, data = ws.message()
        check_eq(op, 1, 'text frames')
        msgs.append(data.decode('utf-8'))
    ws.close()
    scen.check_output(msgs, api.rounds())
    lines = {e['round_id']: e for e in api.rounds()}
    for m in msgs:
        obj = json.loads(m)
        check(obj['game_id'] in ('a-crash', 'c-crash'), 'games filter')
        check_eq(m, lines[obj['round_id']]['line'], 'frame = logged line')
    req = api.log('request', kind='ws')[0]
    check_eq((req['games'], req['games_raw'], req['auth'], req['status']),
             (['a-crash', 'c-crash'], 'a-crash,c-crash', 'ok', 101),
             'request log')
    # several rounds share a second; indices grow per game past 2^64
    rs = api.wait_for('round', count=12, game_id='b-crash')
    check(len({e['finalized_at'] for e in rs}) < len(rs), 'shared second')
    idx = [e['round_index'] for e in rs]
    check(idx == sorted(idx) and len(set(idx)) == len(idx), 'increasing')
    check(any(i >= 10 ** 19 for i in idx) and any(i < 10 ** 19
                                                  for i in idx),
          'digit count crossing')
    # the same round's REST row is the frame minus game_id
    st, _, body = https(api, api.base + '/games/a-crash/rounds')
    rows = {json.loads(t)['round_id']: t for t in row_texts(body)}
    for m in msgs:
        obj = json.loads(m)
        if obj['game_id'] == 'a-crash':
            check_eq('{"game_id":"a-crash",' + rows[obj['round_id']][1:], m,
                     'REST row vs frame')
    # no games parameter: every game
    ws = WS(api.plain, stream_path(api), tls=False)
    got = set()
    while len(got) < 3:
        got.add(json.loads(ws.message()[1])['game_id'])
    ws.shut()
    req = api.log('request', kind='ws')[-1]
    check_eq(req['games'], None, 'no games parameter logged')


def t_ws_ping_and_close(c):
    api = c.fakeapi('--rate', '0', '--ping-ms', '200')
    ws = WS(api.tls, stream_path(api))
    times = []
    for _ in range(4):
        fin, op, payload, _, _ = ws.frame(1.0)
        check_eq(op, 9, 'ping')
        times.append(time.time())
        ws.send(0xA, payload)
    gaps = [b - a for a, b in zip(times, times[1:])]
    check(all(0.12 < g < 0.2 + scen.scaled(0.15) for g in gaps),
          'ping gaps %s' % gaps)
    ws.send(0x9, b'hello')
    while True:
        fin, op, payload, _, _ = ws.frame(1.0)
        if op != 9:
            break
    check_eq((op, payload), (0xA, b'hello'), 'pong echoes')
    ws.close(1000)
    fin, op, payload, _, _ = ws.frame(1.0)
    check_eq((op, payload), (8, struct.pack('!H', 1000)), 'close echoed')
    try:
        ws.frame(1.0)
        raise Failure('data after close')
    except EOFError:
        pass
    api.wait_for('ws_end', reason='client_close')
    pongs = api.log('ws_pong')
    check(len(pongs) >= 3 and all(p['match'] for p in pongs), 'pongs logged')
    check_eq(api.log('ws_close_recv')[0]['code'], 1000, 'close code logged')
    check_eq(api.log('ws_ping_recv')[0]['payload'], b'hello'.hex(),
             'client ping logged')


def t_ws_drop_modes(c):
    api = c.fakeapi('--rate', '10', '--games', 'g1', '--drop-after', '3',
                    '--ping-ms', '0')
    for mode in ('fin', 'rst', 'close'):
        api.control(drop_mode=mode, drop_code=1001)
        for tls in (False, True):
            ws = WS(api.tls if tls else api.plain, stream_path(api),
                    tls=tls)
            for _ in range(3):
                check_eq(ws.message()[0], 1, 'round frame')
            what = None
            if tls and mode != 'close':
                # Python's ssl reports a reset as an EOF: look at the TCP
                # socket underneath instead (no TLS record should remain).
                time.sleep(0.3)
                raw = socket.socket(fileno=os.dup(ws.s.fileno()))
                try:
                    d = raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                    what = 'eof' if d == b'' else 'data %r' % d
                except ConnectionResetError:
                    what = 'reset'
                except BlockingIOError:
                    what = 'still open'
                raw.close()
            try:
                if what:
                    raise StopIteration
                op, payload = ws.message()
                what = (op, payload[:2])
                if op == 8:
                    ws.close(1001)
                    try:
                        ws.frame(3.0)
                        what = 'data after close'
                    except EOFError:
                        pass
            except StopIteration:
                pass
            except EOFError:
                what = 'eof'
            except ConnectionResetError:
                what = 'reset'
            ws.shut()
            want = {'fin': 'eof', 'rst': 'reset',
                    'close': (8, struct.pack('!H', 1001))}[mode]
            check_eq(what, want, '%s drop, tls %s' % (mode, tls))
    ends = [e['reason'] for e in api.wait_for('ws_end', count=6)]
    check_eq(ends, ['drop_fin'] * 2 + ['drop_rst'] * 2 + ['drop_close'] * 2,
             'logged ends')
    # drop_times: only the next connection is dropped, then it turns off
    api.control(drop_after=2, drop_mode='fin', drop_times=1)
    ws = WS(api.plain, stream_path(api), tls=False)
    ws.message(), ws.message()
    try:
        ws.message()
        raise Failure('not dropped')
    except EOFError:
        pass
    ws = WS(api.plain, stream_path(api), tls=False)
    for _ in range(4):
        ws.message()
    ws.shut()
    # drop_now at run time
    ws = WS(api.tls, stream_path(api))
    ws.message()
    api.control(drop_now='close', code=4000)
    while True:
        op, payload = ws.message()
        if op == 8:
            break
    check_eq(payload[:2], struct.pack('!H', 4000), 'drop_now close code')
    ws.shut()


def t_ws_half_open(c):
    api = c.fakeapi('--rate', '10', '--games', 'g1', '--ping-ms', '150',
                    '--silent-after', '2')
    ws = WS(api.tls, stream_path(api))
    ws.message(), ws.message()
    try:
        f = ws.frame(0.8)
        raise Failure('frame after going silent: %r' % (f,))
    except socket.timeout:
        pass
    ws.close(1000)
    try:
        f = ws.frame(0.5)
        raise Failure('close answered while silent: %r' % (f,))
    except socket.timeout:
        pass
    api.wait_for('ws_close_recv', code=1000, timeout=2)
    check_eq(api.log('ws_end'), [], 'socket stays open')
    ws.shut()
    api.wait_for('ws_end', reason='client_eof', timeout=2)
    # silent_now at run time; rounds keep going to the history
    api.control(silent_after=-1)
    ws = WS(api.plain, stream_path(api), tls=False)
    ws.message()
    n0 = len(api.rounds())
    api.control(silent_now=True)
    time.sleep(0.1)
    ws.buf = b''
    try:
        while True:
            op, _ = ws.message(0.6)
            check_eq(op, 1, 'only round frames queued before silence')
    except socket.timeout:
        pass
    check(len(api.rounds()) > n0 + 3, 'generator keeps going')
    ws.shut()


def t_ws_refusals(c):
    api = c.fakeapi('--rate', '0', '--refuse', '2', '--retry-after', '1')
    for _ in range(2):
        ws = WS(api.tls, stream_path(api))
        check_eq((ws.status, ws.headers.get('retry-after')), (503, '1'),
                 '503 delta')
        check('message' in json.loads(ws.body()), 'JSON body')
        ws.shut()
    ws = WS(api.tls, stream_path(api))
    check_eq(ws.status, 101, 'then 101')
    ws.shut()
    api.control(refuse=1, refuse_status=429, retry_after_form='date',
                retry_after=2)
    ws = WS(api.tls, stream_path(api))
    when = email.utils.parsedate_to_datetime(
        ws.headers['retry-after']).timestamp()
    check(ws.status == 429 and 2 <= when - time.time() <= 3.5, '429 date')
    ws.shut()
    api.control(ws_status=502)
    for _ in range(3):
        ws = WS(api.tls, stream_path(api))
        check(ws.status == 502 and 'retry-after' not in ws.headers, '502')
        ws.shut()
    api.control(ws_status=0)
    ws = WS(api.tls, stream_path(api), headers={})
    check_eq(ws.status, 401, 'no key')
    ws.shut()
    ws = WS(api.tls, stream_path(api),
            headers={'Authorization': 'Bearer wrong'})
    check_eq(ws.status, 401, 'wrong key')
    ws.shut()
    api.control(auth_status=403, bad_accept=1)
    ws = WS(api.tls, stream_path(api),
            headers={'Authorization': 'Bearer wrong'})
    check(ws.status == 403 and b'wrong' not in ws.body(), '403, no echo')
    ws.shut()
    ws = WS(api.tls, stream_path(api))
    check(ws.status == 101 and not ws.accept_ok(), 'bad accept')
    ws.shut()
    st = [(e['status'], e['auth']) for e in api.log('request', kind='ws')]
    check_eq(st, [(503, 'ok'), (503, 'ok'), (101, 'ok'), (429, 'ok'),
                  (502, 'ok'), (502, 'ok'), (502, 'ok'), (401, 'missing'),
                  (401, 'wrong'), (403, 'wrong'), (101, 'ok')],
             'request log')


def t_ws_framing_variants(c):
    api = c.fakeapi('--rate', '6', '--games', 'g1', '--split', '3',
                    '--split-sleep-ms', '0.5', '--ping-ms', '0')
    lines = lambda: {e['round_id']: e['line'] for e in api.rounds()}
    ws = WS(api.plain, stream_path(api), tls=False)
    m = ws.message()[1].decode()
    check_eq(m, lines()[json.loads(m)['round_id']], 'split frame')
    check(ws.recvs > 20, 'arrived in %d reads' % ws.recvs)
    ws.shut()
    api.control(split=0, pretty='tabs')
    ws = WS(api.tls, stream_path(api))
    m = ws.message()[1].decode()
    check('\r\n\t' in m, 'pretty frame')
    check_eq(scen.minify(m), lines()[json.loads(m)['round_id']],
             'pretty frame minified = line')
    ws.shut()
    api.control(pretty='', fragment=60, fragment_ping=True)
    ws = WS(api.tls, stream_path(api))
    ops = []
    while True:
        fin, op, payload, _, _ = ws.frame()
        ops.append(op)
        if op == 9:
            ws.send(0xA, payload)
        if fin and op in (0, 1):
            break
    check(ops[0] == 1 and 0 in ops and 9 in ops, 'fragments %s' % ops)
    m = ws.message()[1].decode()
    check_eq(m, lines()[json.loads(m)['round_id']], 'reassembled')
    ws.shut()


def t_ws_injections(c):
    api = c.fakeapi('--rate', '5', '--games', 'g1', '--ping-ms', '0',
                    '--inject', 'non_json@2')
    ws = WS(api.tls, stream_path(api))
    ws.message()
    ws.message()
    check_eq(ws.message(), (1, b'hello, this is not JSON'), 'armed inject')
    kinds = [('bad_utf8', {}, lambda f: f[1] == 1 and b'\xff' in f[2]),
             ('non_round', {}, lambda f: json.loads(f[2]) ==
              {'type': 'welcome', 'message': 'hi'}),
             ('binary', {}, lambda f: f[1] == 2),
             ('ping', {'payload': 'abc'}, lambda f: f[1:3] == (9, b'abc')),
             ('masked', {}, lambda f: f[4]),
             ('rsv1', {}, lambda f: f[3] == 4),
             ('bad_opcode', {}, lambda f: f[1] == 3),
             ('raw', {'hex': '890100'.replace('00', '') + '78'},
              lambda f: f[1:3] == (9, b'x')),
             ('oversize', {'size': 300000},
              lambda f: f[1] == 1 and len(f[2]) == 300000)]
    for kind, params, ok in kinds:
        api.control(paused=True)
        time.sleep(0.05)
        ws.buf = b''
        while True:     # drain round frames already on the way
            try:
                ws.frame(0.2)
            except socket.timeout:
                break
        api.control(inject=kind, **params)
        f = ws.frame()
        check(ok(f), 'inject %s: %r' % (kind, (f[0], f[1], f[2][:40])))
    api.control(paused=False)
    m = ws.message()[1]
    api.control(inject='dup')
    check_eq(ws.message()[1], m, 'dup resends the last round')
    api.control(inject='close', code=1008)
    check_eq(ws.message(), (8, struct.pack('!H', 1008)), 'close inject')
    ws.shut()
    check_eq(len(api.log('ws_inject')), 12, 'logged injections')


def t_ws_bad_requests(c):
    api = c.fakeapi('--rate', '0')
    s = socket.create_connection(('127.0.0.1', api.plain),
                                 timeout=scen.scaled(5))
    s.sendall(('GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: short\r\n'
               'Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n'
               % (stream_path(api), KEY)).encode())
    check(s.recv(100).startswith(b'HTTP/1.1 400'), 'bad key -> 400')
    s.close()
    # an unmasked client frame is a protocol error: close 1002
    ws = WS(api.plain, stream_path(api), tls=False)
    ws.s.sendall(b'\x81\x02hi')
    fin, op, payload, _, _ = ws.frame()
    check_eq((op, payload), (8, struct.pack('!H', 1002)), '1002')
    ws.shut()
    api.wait_for('ws_protocol_error')


# ------------------------------------------------------------ TLS and misc

def t_tls_certs(c):
    api = c.fakeapi('--rate', '0', '--cert', 'good-ec', '--cert', 'good-rsa',
                    '--cert', 'expired', '--cert', 'wronghost', '--cert',
                    'selfsigned', '--cert', 'dnsonly', '--ipv6')

    def hs(cert, host, family=socket.AF_INET):
        addr = '::1' if family == socket.AF_INET6 else '127.0.0.1'
        s = socket.create_connection((addr, api.port(cert)),
                                     timeout=scen.scaled(5))
        try:
            ctx = ctx_ca()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            t = ctx.wrap_socket(s, server_hostname=host)
            kind = t.getpeercert(binary_form=False) and t.cipher()[0]
            t.close()
            return 'ok ' + kind
        except ssl.SSLCertVerificationError as e:
            return e.verify_message
        finally:
            s.close()

    for host in ('localhost', '127.0.0.1'):
        check('ECDSA' in hs('good-ec', host), 'good-ec %s' % host)
        r = hs('good-rsa', host)
        check(r.startswith('ok') and 'ECDSA' not in r, 'good-rsa %s' % r)
        check_eq(hs('expired', host), 'certificate has expired', 'expired')
        check('mismatch' in hs('wronghost', host), 'wronghost')
        check('self-signed' in hs('selfsigned', host), 'selfsigned')
    check(hs('good-ec', '::1', socket.AF_INET6).startswith('ok'), '::1')
    check(hs('dnsonly', 'localhost').startswith('ok'), 'dnsonly by name')
    check('mismatch' in hs('dnsonly', '127.0.0.1'), 'dnsonly by IP')
    # ALPN, SNI and resumption by session ID are logged
    ctx = ctx_ca()
    ctx.set_alpn_protocols(['http/1.1'])
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    sess = None
    for _ in range(2):
        s = socket.create_connection(('127.0.0.1', api.tls),
                                     timeout=scen.scaled(5))
        t = ctx.wrap_socket(s, server_hostname='localhost', session=sess)
        sess = t.session
        t.unwrap()
        t.close()
    tl = [e for e in api.log('tls') if e['ok'] and e['cert'] == 'good-ec']
    check_eq((tl[-1]['alpn'], tl[-1]['sni'], tl[-1]['resumed']),
             ('http/1.1', 'localhost', True), 'tls log')
    check(any(e['sni'] is None for e in tl), 'no SNI for an IP literal')
    fails = [e for e in api.log('tls') if not e['ok']]
    check(len(fails) >= 6, 'failed handshakes logged')
    # the bundles
    with open(scen.cert('bundle-junk.pem')) as f:
        junk = f.read()
    with open(scen.cert('ca.pem')) as f:
        ca = f.read()
    check(junk.count('BEGIN CERTIFICATE') == 3 and junk.endswith(ca),
          'junk bundle: 2 undecodable, then the CA')
    check('BEGIN' not in open(scen.cert('empty.pem')).read(), 'empty.pem')


def t_blackhole_and_stall(c):
    api = c.fakeapi('--rate', '0', '--blackhole')
    s = socket.socket()
    s.settimeout(0.4)
    t0 = time.time()
    try:
        s.connect(('127.0.0.1', api.port('blackhole')))
        raise Failure('blackhole connected')
    except socket.timeout:
        check(time.time() - t0 >= 0.35, 'waited')
    s.close()
    s = socket.create_connection(('127.0.0.1', api.port('stall')), 0.5)
    s.sendall(b'\x16\x03\x01\x00\x05hello')
    try:
        d = s.recv(10)
        raise Failure('stall answered %r' % d)
    except socket.timeout:
        pass
    s.close()


def t_lifetime(c):
    t0 = time.time()
    # 3 s: under load the server's own start can take more than 1 s,
    # and it must be up (ports printed) before its time runs out
    api = c.fakeapi('--max-seconds', '3', '--rate', '0')
    rc = api.p.wait(scen.scaled(6))
    check(rc == 0 and time.time() - t0 < scen.scaled(5), 'max-seconds')
    check_eq(api.log('exit')[0]['reason'], 'max-seconds', 'exit logged')
    api = c.fakeapi('--rate', '0')
    t0 = time.time()
    api.stop()
    check(api.p.returncode == 0 and time.time() - t0 < scen.scaled(1),
          'SIGTERM')
    # key file and control errors
    kf = c.key_file('file-key-xyz')
    api = c.fakeapi('--key-file', kf, '--rate', '0', '--history', '1')
    st, _, _ = https(api, api.base + '/games/stake-crash/rounds',
                     headers={'Authorization': 'Bearer file-key-xyz'})
    check_eq(st, 200, 'key from file')
    try:
        api.control(drop_after='x')
        raise Failure('bad control accepted')
    except Exception as e:
        check('400' in str(e), 'control 400: %s' % e)
    check_eq(api.control(generate=2, game='duel-crash')['history'],
             {'stake-crash': 1, 'roobet-crash': 1, 'duel-crash': 3},
             'generate')


CASES = [t_rest_auth, t_rest_variants, t_rest_paging_since, t_rest_faults,
         t_ws_handshake_and_rounds, t_ws_ping_and_close, t_ws_drop_modes,
         t_ws_half_open, t_ws_refusals, t_ws_framing_variants,
         t_ws_injections, t_ws_bad_requests, t_tls_certs,
         t_blackhole_and_stall, t_lifetime]

if __name__ == '__main__':
    scen.main(CASES, timeout=15)
