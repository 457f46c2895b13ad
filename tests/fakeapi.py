#!/usr/bin/env python3
"""fakeapi.py: the project's fake TrackerSino server, for tests only.

Python 3.11 standard library only.  It listens on 127.0.0.1 (and ::1 with
--ipv6) and nowhere else, on ports the kernel chooses, and serves:

  GET  BASE/games/{slug}/rounds?since=RFC3339   REST rows (no game_id)
  GET  BASE/stream?games=a,b                    WebSocket (RFC 6455) feed
  POST /_control  (plain listener only)         change settings, trigger faults
  GET  /_control                                settings and counters

BASE is --base (default /v1-beta).  A REST or stream path may be prefixed by
/_v/TOKENS (e.g. /_v/array,chunked,pretty/v1-beta/games/x/rounds) to choose
the REST body variant per request: a client's --api can carry it.  TOKENS
are comma-separated: array|rounds|data|cycle (shape), length|chunked|eof
(framing), mini|pretty|tabs (spacing), page=N (page size).  The REST query
may also carry shape=, framing=, pretty=, page= for the same purpose.

Start-up.  Once every listener is bound, ONE JSON line goes to stdout:

  {"pid": 123, "plain": 40001, "tls": 40002,
   "tls_ports": {"good-ec": 40002, "expired": 40003},
   "ipv6": false, "blackhole": 40004, "stall": 40005, "base": "/v1-beta"}

"tls" is the port of the first --cert.  With --ipv6 the same port numbers
also listen on ::1.  "blackhole" (a listener whose accept queue is full, so
a connect never completes) and "stall" (accepts, reads, never answers) are
there only with --blackhole.  Nothing else is written to stdout.  The
process runs until SIGTERM/SIGINT (exit 0) or --max-seconds (default 120),
whichever comes first, so it can never outlive a test for long.

Settings.  Every setting in SETTINGS below is both a command-line option
(--drop-after 5) and a key of the control JSON ({"drop_after": 5}); the
control channel changes it for what happens next.  One-shot commands, only
through the control channel:

  {"drop_now": "fin"|"rst"|"close", "code": 1001}  every live WS connection
  {"silent_now": true}       every live WS connection goes half-open
  {"inject": KIND, ...}      send one odd frame on every live WS connection;
                             KIND: oversize (size=N bytes, default 1100000),
                             bad_utf8 (variant=ff|overlong|surrogate|
                             truncated), non_json, non_round, binary,
                             ping (payload=str), pong, masked, rsv1,
                             bad_opcode, close (code=N), dup (resend the
                             last round frame), raw (hex=...)
  {"generate": N, "game": G} generate N rounds now (every game, or G)
  {"generate": N, "game": G, "same_instant": true}
                             the same, all N rounds (of every game named)
                             sharing ONE finalized_at (the command's time):
                             more rounds in one instant than a page holds,
                             or than the --state file keeps ids for
  {"burst": N, "game": G}    generate N rounds in all (round-robin over
                             the games, or only G) as fast as the server
                             can, in a background thread: the control
                             reply comes at once; GET /_control shows
                             "burst_left" (0 when done) and the log gets
                             {"ev":"burst_done","n":N} at the end.  Each
                             round gets time.time() as usual: use
                             fraction_digits 6 so that they do not pile up
                             thousands to a second
  {"mark": "text"}           write {"ev":"mark","text":...} to the log

A command may combine several keys; settings are applied first.  The reply
is {"ok": true, "settings": {...}, "ws_live": [conn ids], "applied_to": n}.
--inject KIND@N (repeatable) arms an injection at start: it is sent once, on
the first connection that has sent N round frames.

Faults on the stream (see SETTINGS for the exact knobs): drop after N round
frames with a TCP FIN (no close frame, no TLS close_notify), an RST (SO_LINGER
0) or a close frame (code drop_code, default 1001); half-open (silent_after:
nothing more is sent, not even pings or a close reply, the socket stays
open and what the client sends is read and logged); refuse the next K
upgrades (refuse, refuse_status, retry_after, retry_after_form = delta|date|
none); the same status on every upgrade (ws_status, e.g. 502); no answer to
the next K upgrades (stall); a wrong Sec-WebSocket-Accept on the next K
(bad_accept); each frame in TCP segments of at most `split` bytes, with
TCP_NODELAY and split_sleep_ms between them; pretty-printed frames
(pretty = spaces|tabs); messages fragmented into continuation frames of at
most `fragment` payload bytes (fragment_ping: a ping between fragments).

Rounds.  A generator makes rounds for each --games slug at --rate rounds per
second per game (jittered, so several share one finalized_at second), with
round_index increasing per game from a base above 2^53 (the defaults cross
a decimal digit boundary and 2^64 within ten rounds), a decimal-string
multiplier, a nested raw object with escapes (\\" \\\\ \\u00e9 \\n \\/ and a
surrogate pair) and raw UTF-8 text, and an unknown member.  Each round goes
to the shared history, which REST serves, and to every live WS connection
whose games filter matches.  The round's text is written here, never by a
JSON encoder, so round_index is never a float.  A WS frame is
  {"game_id":"G",<rest>       and the REST row is   {<rest>
so the frame text minified ("line" in the log) is exactly what tsino must
print for that round, whether it came live or by REST.

REST.  Bearer key checked (missing or malformed: 401; wrong: auth_status,
default 401; JSON body {"error":..., "message":...} that never echoes the
key).  Rows with finalized_at >= since (inclusive; no since: from the
oldest), the oldest page_size of them, sent in shuffled order.  Unknown
game: 404.  Bad since: 400.  Body shapes: array ([...]), rounds
({"game":G,"rounds":[...],"count":n}), data ({"meta":{...},"data":[...],
"next":...}), cycle (each request the next of the three).  Framing: length
(Content-Length), chunked (chunks of 1-7 bytes, some with chunk extensions,
leading zeros, a trailer), eof (no length, close at the end), cycle.
Faults: rest_refuse K next requests fail with rest_refuse_status (429/503
carry Retry-After) or, with rest_refuse_mode truncate/rst, the body is cut
short / the connection reset; rest_status on every request; rest_delay_ms;
rest_split (tiny TCP segments); rest_101_fin K next requests get
"HTTP/1.1 101 Switching Protocols" + Upgrade/Connection headers + a few
bytes, then a FIN (logged with status 101, fault "101_fin");
rest_keepalive: 200 pages (length or chunked) leave the connection open
whatever the client's Connection header says (logged keepalive: true).
Empty pages: rest_empty chooses how a request whose page would hold no row
at all (nothing at or after since, or a game with no rounds yet) is
answered: off (default: the usual body of the shape setting, with its
count/meta members and the usual framing), 204 (204 No Content, no body,
no Content-Length), 200-empty (200, Content-Length: 0, empty body),
200-empty-chunked (200, chunked, the last-chunk only: "0\r\n\r\n"),
200-empty-close (200, neither length nor chunked, the connection closed
right after the head: over TLS with close_notify), array (200, the bare
empty list of the shape: [] for array, {"rounds":[]} for rounds,
{"data":[]} for data, with the framing and spacing settings).  A fault
(rest_status, rest_refuse, rest_101_fin) comes first; rest_keepalive
applies to 204, 200-empty, 200-empty-chunked and a length/chunked array.
HTTP keep-alive is honoured.  page_size (or page=N) is the page size.
since is compared exactly (any number of fraction digits).

finalized_at: whole seconds by default; fraction_digits D (option or
control) gives the rounds made from then on D fraction digits: the
microseconds of the generation time, then (past 6) digits of the round's
seq, zero-padded, so rounds keep their generation order.

Ground-truth log (--log PATH): JSON lines, flushed per line, each with "t"
(Unix time, float) and "ev":

  start      pid, ports, settings
  round      seq, game_id, round_id, round_index (an exact JSON integer),
             multiplier, finalized_at, line (minified frame text, the
             expected tsino output line), row (minified REST row), seeded
  accept     conn, port, tls, cert
  tls        conn, ok, sni, alpn, version, cipher, resumed  (or error)
  request    conn, kind (ws|rest|control|other), tls, method, path, query,
             host, auth (ok|missing|malformed|wrong|null), status; for ws:
             games (list or null), games_raw, ws_key_ok, extensions,
             retry_after; for rest: game, since, count, round_ids, shape,
             framing, pretty, page_size, more, fault, empty (the
             rest_empty form used, or null: framing "none" for 204)
  ws_round   conn, n (round frames so far on this connection), game_id,
             round_id
  ws_ping    conn, payload (hex)           server ping sent
  ws_pong    conn, payload, match          client pong received
  ws_ping_recv / ws_msg_recv               client ping / data message
  ws_close_recv  conn, code, reason        client close frame
  ws_close_sent  conn, code
  ws_silent  conn                          half-open from now on
  ws_inject  conn, kind
  ws_end     conn, reason (client_eof, client_close, drop_fin, drop_rst,
             drop_close, send_error, protocol_error, ...), frames
  control    cmd
  burst_done n                             a {"burst": N} finished
  mark       text
  error      where, error
  exit       reason
"""

import argparse
import base64
import collections
import datetime
import decimal
import email.utils
import hashlib
import itertools
import json
import os
import random
import re
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
CERT_DIR = os.path.join(HERE, 'certs')
CERT_NAMES = ('good-ec', 'good-rsa', 'expired', 'wronghost', 'dnsonly',
              'selfsigned')
WS_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
DEFAULT_GAMES = 'stake-crash,roobet-crash,duel-crash'
# Per-game index bases: above 2^53; the second crosses from 19 to 20 digits
# and the third crosses 2^64 within ten rounds, so a client that compares
# them as text or as uint64 is caught.
INDEX_BASES = (956100250495943837, 9999999999999999990,
               18446744073709551610)

# name, type, default, help.  Each is an option --name-with-dashes and a
# control key.  Types: int, float, str, bool.
SETTINGS = [
    ('rate', float, 3.0, 'rounds per second per game (0: only on command)'),
    ('paused', bool, False, 'generator paused'),
    ('ping_ms', int, 1000, 'server ping interval in ms (0: no pings)'),
    ('auth_status', int, 401, 'status for a wrong key (401 or 403)'),
    ('drop_after', int, 0,
     'drop each new WS connection after N round frames (0: never)'),
    ('drop_mode', str, 'fin', 'how to drop: fin | rst | close'),
    ('drop_code', int, 1001, 'close code sent by drop_mode close'),
    ('drop_times', int, 0,
     'drop_after applies to the next K connections only, then turns off '
     '(0: every connection)'),
    ('silent_after', int, -1,
     'each new WS connection goes half-open after N round frames (0: right '
     'after the upgrade; -1: never)'),
    ('silent_times', int, 0, 'like drop_times, for silent_after'),
    ('refuse', int, 0, 'refuse the next K upgrades with refuse_status'),
    ('refuse_status', int, 503, 'status for refused upgrades'),
    ('retry_after', int, 1, 'Retry-After seconds on 429/503'),
    ('retry_after_form', str, 'delta',
     'delta (Retry-After: 2) | date (an HTTP-date that many seconds ahead, '
     'rounded up) | none'),
    ('ws_status', int, 0, 'answer every upgrade with this status (0: off)'),
    ('stall', int, 0, 'never answer the next K upgrade requests'),
    ('bad_accept', int, 0, 'send a wrong Sec-WebSocket-Accept K times'),
    ('split', int, 0,
     'send each WS frame in TCP segments of 1..N bytes (0: whole)'),
    ('split_sleep_ms', float, 1.0, 'pause between those segments'),
    ('pretty', str, '', 'WS frames pretty-printed: "" | spaces | tabs'),
    ('escape', bool, False,
     'WS frames spell the known member names and the round_id as \\uXXXX '
     'escapes: the same round in other bytes (REST stays plain)'),
    ('fragment', int, 0,
     'send each WS message in fragments of at most N bytes (0: one frame)'),
    ('fragment_ping', bool, False, 'a ping between fragments'),
    ('shape', str, 'rounds', 'REST body: array | rounds | data | cycle'),
    ('framing', str, 'length', 'REST framing: length | chunked | eof | cycle'),
    ('rest_pretty', str, '', 'REST body pretty-printed: "" | spaces | tabs'),
    ('page_size', int, 100, 'REST rows per response at most'),
    ('shuffle', bool, True, 'REST rows in random order'),
    ('rest_split', int, 0, 'REST response in TCP segments of 1..N bytes'),
    ('rest_refuse', int, 0, 'fail the next K REST requests'),
    ('rest_refuse_status', int, 503, 'their status (429/503: Retry-After)'),
    ('rest_refuse_mode', str, 'status',
     'status | truncate (body cut short, then close) | rst'),
    ('rest_status', int, 0, 'answer every REST request with this status'),
    ('rest_no_notify', int, 0,
     'end the next K REST 200 bodies framed by the close (eof) over TLS '
     'with a TCP FIN and no close_notify'),
    ('rest_delay_ms', int, 0, 'delay before each REST response'),
    ('rest_101_fin', int, 0,
     'answer the next K REST requests with "HTTP/1.1 101 Switching '
     'Protocols", Upgrade headers and a few bytes, then a TCP FIN'),
    ('rest_keepalive', bool, False,
     'REST 200 pages framed by Content-Length or chunked keep the '
     'connection open afterwards, even when the client asked for '
     '"Connection: close" (no such header sent back; the server waits up '
     'to 60 s for another request or the client\'s close)'),
    ('rest_empty', str, 'off',
     'how a REST page with no rows is answered: off (the usual body) | '
     '204 (No Content) | 200-empty (Content-Length: 0) | 200-empty-chunked '
     '(chunked, zero chunks) | 200-empty-close (no length, close after '
     'the head) | array (the bare empty list of the shape: [], '
     '{"rounds":[]} or {"data":[]})'),
    ('fraction_digits', int, 0,
     'finalized_at of rounds made from now on has this many fraction '
     'digits (0: whole seconds; 6: microseconds; more: the microseconds '
     'then digits from the round\'s seq), e.g. 27 gives a 48-byte '
     'finalized_at; keep it fixed during a run (the log and tests order '
     'finalized_at as text)'),
]
SETTING_TYPES = {name: typ for name, typ, _, _ in SETTINGS}
CHOICES = {
    'drop_mode': ('fin', 'rst', 'close'),
    'retry_after_form': ('delta', 'date', 'none'),
    'pretty': ('', 'spaces', 'tabs'),
    'rest_pretty': ('', 'spaces', 'tabs'),
    'shape': ('array', 'rounds', 'data', 'cycle'),
    'framing': ('length', 'chunked', 'eof', 'cycle'),
    'rest_refuse_mode': ('status', 'truncate', 'rst'),
    'rest_empty': ('off', '204', '200-empty', '200-empty-chunked',
                   '200-empty-close', 'array'),
}
CONTROL_ONLY = ('drop_now', 'code', 'silent_now', 'inject', 'size', 'variant',
                'payload', 'hex', 'generate', 'game', 'same_instant',
                'burst', 'mark')
INJECT_KINDS = ('oversize', 'bad_utf8', 'non_json', 'non_round', 'binary',
                'ping', 'pong', 'masked', 'rsv1', 'bad_opcode', 'close',
                'dup', 'raw')
REASONS = {
    101: 'Switching Protocols', 200: 'OK', 204: 'No Content',
    400: 'Bad Request',
    401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
    405: 'Method Not Allowed', 426: 'Upgrade Required',
    429: 'Too Many Requests', 500: 'Internal Server Error',
    502: 'Bad Gateway', 503: 'Service Unavailable',
    504: 'Gateway Timeout',
}


# ---------------------------------------------------------------- utilities

class Log:
    """JSON lines, one per event, flushed at once; thread safe."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, 'a', encoding='utf-8') if path else None

    def __call__(self, ev, **kw):
        if self.f is None:
            return
        rec = {'t': round(time.time(), 6), 'ev': ev}
        rec.update(kw)
        text = json.dumps(rec, ensure_ascii=False) + '\n'
        with self.lock:
            self.f.write(text)
            self.f.flush()

    def many(self, events):
        """Several (ev, fields) events in one write."""
        if self.f is None:
            return
        t = round(time.time(), 6)
        out = []
        for ev, kw in events:
            rec = {'t': t, 'ev': ev}
            rec.update(kw)
            out.append(json.dumps(rec, ensure_ascii=False) + '\n')
        with self.lock:
            self.f.write(''.join(out))
            self.f.flush()


LOG = Log(None)


def reformat(text, style):
    """Re-space JSON text without parsing it: '' minifies, 'spaces' and
    'tabs' pretty-print.  Strings (escapes included) pass through as they
    are, so numbers and escapes keep their exact spelling."""
    if style == 'spaces':
        ind, nl = '  ', '\n'
    elif style == 'tabs':
        ind, nl = '\t', '\r\n'
    else:
        ind, nl = None, None
    out = []
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        i += 1
        if c in ' \t\r\n':
            continue
        if ind is None:
            out.append(c)
            continue
        if c in '{[':
            k = i
            while k < n and text[k] in ' \t\r\n':
                k += 1
            if k < n and text[k] in '}]':
                out.append(c + text[k])
                i = k + 1
                continue
            depth += 1
            out.append(c + nl + ind * depth)
        elif c in '}]':
            depth -= 1
            out.append(nl + ind * depth + c)
        elif c == ',':
            out.append(',' + nl + ind * depth)
        elif c == ':':
            out.append(': ')
        else:
            out.append(c)
    if ind is not None:
        out.append(nl)
    return ''.join(out)


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


_RFC3339_LAST = (None, None)   # (second, text): one tuple, swapped whole


def rfc3339(ts):
    global _RFC3339_LAST
    sec = int(ts)
    last = _RFC3339_LAST        # rounds come many to a second: one strftime
    if last[0] != sec:
        last = (sec, datetime.datetime.fromtimestamp(
            sec, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))
        _RFC3339_LAST = last
    return last[1]


def parse_since(text):
    """RFC 3339 with a zone ('Z' or an offset) -> aware datetime, or None."""
    try:
        d = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if d.tzinfo is None:
        return None
    return d


def crash_point(multiplier):
    """The multiplier's digits as a JSON integer (raw.crashPoint)."""
    digits = multiplier.replace('.', '')
    return str(int(digits)) if digits.isdigit() else '0'


KNOWN_NAMES = ('game_id', 'round_id', 'round_index', 'multiplier', 'state',
               'finalized_at')


def escape_line(line):
    """The same round in other bytes: the known member names and the
    round_id's value written as \\uXXXX escapes."""
    def esc(s):
        return ''.join('\\u%04x' % ord(ch) for ch in s)
    line = re.sub(r'"round_id":"([^"\\]*)"',
                  lambda m: '"round_id":"%s"' % esc(m.group(1)), line, 1)
    for k in KNOWN_NAMES:
        line = line.replace('"%s":' % k, '"%s":' % esc(k), 1)
    return line


def json_str(s):
    return json.dumps(s, ensure_ascii=False)


EXACT = decimal.Context(prec=400)     # instants: every digit kept
RFC3339_FRAC = re.compile(r'[Tt ]\d\d:\d\d:\d\d(?:\.(\d+))?')


def time_stamp(when, digits, seq):
    """(finalized_at text, exact key) for a round made at Unix time
    `when` (float) with `digits` fraction digits (see fraction_digits)."""
    sec = int(when)
    text = rfc3339(sec)
    if digits <= 0:
        return text, decimal.Decimal(sec)
    frac = '%06d' % min(999999, int((when - sec) * 1e6))
    if digits <= 6:
        frac = frac[:digits]
    else:
        more = digits - 6
        frac += ('%0*d' % (more, seq))[-more:]
    return (text[:-1] + '.' + frac + 'Z',
            EXACT.add(decimal.Decimal(sec), decimal.Decimal('0.' + frac)))


def since_key(text, d):
    """The exact instant of a since value (d: its parse_since()), as a
    Decimal of Unix seconds, every fraction digit kept."""
    whole = decimal.Decimal(int(d.replace(microsecond=0).timestamp()))
    m = RFC3339_FRAC.search(text)
    if m is not None:
        return EXACT.add(whole, decimal.Decimal('0.' + m.group(1))
                         if m.group(1) else decimal.Decimal(0))
    return EXACT.add(whole, EXACT.divide(decimal.Decimal(d.microsecond),
                                         decimal.Decimal(1000000)))


# ---------------------------------------------------------------- state

class Round:
    __slots__ = ('seq', 'game', 'round_id', 'index', 'multiplier',
                 'finalized_at', 'when', 'body')

    @property
    def line(self):
        return '{"game_id":%s,%s' % (json_str(self.game), self.body)

    @property
    def row(self):
        return '{' + self.body


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.s = {name: getattr(args, name) for name, _, _, _ in SETTINGS}
        self.rng = random.Random(args.seed)
        self.games = [g for g in args.games.split(',') if g]
        self.history = {g: [] for g in self.games}
        self.next_index = {}
        bases = dict(x.split('=', 1) for x in args.index_base)
        for i, g in enumerate(self.games):
            if g in bases:
                self.next_index[g] = int(bases[g])
            elif i < len(INDEX_BASES):
                self.next_index[g] = INDEX_BASES[i]
            else:
                self.next_index[g] = 10 ** 17 * (i + 7) + 12345
        self.mults = [m for m in args.multipliers.split(',') if m]
        self.count = collections.Counter()
        self.seq = 0
        self.conns = {}             # conn id -> WSConn, live ones
        self.conn_ids = itertools.count(1)
        self.injections = []        # [kind, at_n, params] armed at start
        for spec in args.inject:
            kind, _, at = spec.partition('@')
            if kind not in INJECT_KINDS:
                sys.exit('fakeapi: unknown --inject kind %r' % kind)
            self.injections.append([kind, int(at or 0), {}])
        self.gen_wake = threading.Event()
        self.burst_left = 0
        self.cycle_shape = itertools.cycle(('array', 'rounds', 'data'))
        self.cycle_framing = itertools.cycle(('length', 'chunked', 'eof'))

    def get(self, name):
        with self.lock:
            return self.s[name]

    def snapshot(self):
        with self.lock:
            return dict(self.s)

    def take(self, name):
        """Decrement counter setting `name` if positive; True if it was."""
        with self.lock:
            if self.s[name] > 0:
                self.s[name] -= 1
                return True
            return False

    def plan(self, after, times):
        """For a new connection: the N of drop_after/silent_after it gets,
        counting down the matching *_times setting."""
        with self.lock:
            n = self.s[after]
            off = 0 if after == 'drop_after' else -1
            if n == off:
                return off
            if self.s[times] > 0:
                self.s[times] -= 1
                if self.s[times] == 0:
                    self.s[after] = off
            return n

    # ----- rounds

    def multiplier(self, game, k):
        if self.mults:
            return self.mults[k % len(self.mults)]
        u = self.rng.random()
        v = max(10000, min(10 ** 8, int(0.99 / (1.0 - u) * 10000)))
        if game.startswith('stake'):
            return '%d.%04d' % divmod(v, 10000)
        return '%d.%02d' % divmod(v // 100, 100)

    def make_round(self, game, when, stamp=None):
        """Build one round's text.  Caller holds the lock.  stamp:
        (finalized_at, key) to use instead of one made from `when`."""
        rng = self.rng
        r = Round()
        self.seq += 1
        r.seq = self.seq
        r.game = game
        r.round_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        r.index = self.next_index[game]
        self.next_index[game] += 1
        k = len(self.history[game])
        r.multiplier = self.multiplier(game, k)
        if stamp is None:
            stamp = time_stamp(when, self.s['fraction_digits'], r.seq)
        r.finalized_at, r.when = stamp
        src = game.split('-')[0]
        h = '%064x' % rng.getrandbits(256)
        raw = ('{"id":"%s","crashPoint":%s,"hash":"%s",'
               '"seed":{"client":"caf\\u00e9 \\"quoted\\" back\\\\slash\\n'
               'line\\/2","nonce":%d},'
               '"note":"Zürich — 日本語テキスト ✓ 🚀",'
               '"emoji":"\\ud83d\\ude80",'
               '"tags":["a",1,2.5e-3,-0,1E+2,true,false,null],'
               '"nested":{"deep":[[{"k":[]}]],"empty":{}}}'
               % (r.round_id, crash_point(r.multiplier), h, k))
        extra = '{"tier":"beta","seq":%d,"weights":[0.5,1.25]}' % r.seq
        if self.games.index(game) % 2 == 0:
            r.body = ('"round_id":"%s","round_index":%d,"multiplier":"%s",'
                      '"state":"finalized","finalized_at":"%s",'
                      '"multiplier_source":"%s","raw":%s,"x_extra":%s}'
                      % (r.round_id, r.index, r.multiplier, r.finalized_at,
                         src, raw, extra))
        else:
            r.body = ('"round_id":"%s","round_index":%d,"x_extra":%s,'
                      '"multiplier":"%s","state":"finalized",'
                      '"finalized_at":"%s","multiplier_source":"%s",'
                      '"raw":%s}'
                      % (r.round_id, r.index, extra, r.multiplier,
                         r.finalized_at, src, raw))
        return r

    @staticmethod
    def round_event(r, seeded):
        return dict(seq=r.seq, game_id=r.game, round_id=r.round_id,
                    round_index=r.index, multiplier=r.multiplier,
                    finalized_at=r.finalized_at, line=r.line, row=r.row,
                    seeded=seeded)

    def add_round(self, game, when, seeded=False, stamp=None):
        with self.lock:
            r = self.make_round(game, when, stamp)
            self.history[game].append(r)
            conns = list(self.conns.values())
        LOG('round', **self.round_event(r, seeded))
        for c in conns:
            c.offer(r)
        return r

    def add_batch(self, games):
        """One round of each game in `games` (a list, repeats allowed),
        each at its own time.time(): one log write and one wake-up per
        connection for the lot (the burst's way)."""
        with self.lock:
            rs = []
            for g in games:
                r = self.make_round(g, time.time())
                self.history[g].append(r)
                rs.append(r)
            conns = list(self.conns.values())
        LOG.many([('round', self.round_event(r, False)) for r in rs])
        for c in conns:
            c.offer_many(rs)

    def seed_history(self, n):
        rate = self.s['rate'] or 2.0
        now = time.time()
        for k in range(n):
            for g in self.games:
                self.add_round(g, now - (n - k) / rate, seeded=True)

    def shared_stamp(self, when):
        """One (finalized_at, key) for rounds that share an instant."""
        with self.lock:
            return time_stamp(when, self.s['fraction_digits'], self.seq + 1)

    def burst(self, n, games):
        """Generate n rounds round-robin over games, as fast as possible
        (a thread per {"burst": N} command)."""
        k = 0
        try:
            while k < n:
                m = min(100, n - k)
                self.add_batch([games[(k + i) % len(games)]
                                for i in range(m)])
                k += m
                with self.lock:
                    self.burst_left -= m
        finally:
            with self.lock:
                self.burst_left -= n - k
            LOG('burst_done', n=k)

    def generator(self):
        due = {}
        while True:
            rate = self.get('rate')
            paused = self.get('paused')
            now = time.time()
            if rate <= 0 or paused:
                due.clear()
                self.gen_wake.wait(0.2)
                self.gen_wake.clear()
                continue
            for g in self.games:
                if g not in due:
                    due[g] = now + self.rng.uniform(0.1, 1.0) / rate
            nxt = min(due.values())
            if nxt > now:
                self.gen_wake.wait(min(nxt - now, 0.5))
                self.gen_wake.clear()
                continue
            for g in self.games:
                if due[g] <= now:
                    self.add_round(g, time.time())
                    due[g] += self.rng.uniform(0.4, 1.6) / rate
                    if due[g] < now - 1.0:
                        due[g] = now


# ---------------------------------------------------------------- sockets

class Conn:
    """One accepted connection: blocking reads with a deadline before the
    upgrade, non-blocking reads after it; writes always blocking."""

    def __init__(self, cid, sock, raw, listener):
        self.cid = cid
        self.sock = sock
        self.raw = raw
        self.listener = listener
        self.tls = listener.ctx is not None
        self.buf = b''
        self.idle = 10.0        # wait this long for the next request

    def recv_wait(self, timeout):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            raise TimeoutError('read timed out')
        except (ConnectionError, ssl.SSLError, OSError):
            return b''

    def recv_now(self):
        """What can be read without blocking; None when nothing."""
        self.sock.settimeout(0)
        try:
            return self.sock.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                BlockingIOError, InterruptedError):
            return None
        except (ConnectionError, ssl.SSLError, OSError):
            return b''

    def readable_now(self):
        return self.tls and self.sock.pending() > 0

    def send(self, data, split=0, sleep_ms=0.0, rng=None):
        self.sock.settimeout(60)
        if not split:
            self.sock.sendall(data)
            return
        i = 0
        while i < len(data):
            n = rng.randint(1, split)
            self.sock.sendall(data[i:i + n])
            i += n
            if sleep_ms and i < len(data):
                time.sleep(sleep_ms / 1000.0)

    # wrap_socket() moved the descriptor from raw to sock, so the socket
    # options and shutdown() go through sock (SSLSocket.shutdown() is the
    # TCP one and sends no close_notify).
    def close_fin(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_abrupt()

    def close_rst(self):
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack('ii', 1, 0))
        except OSError:
            pass
        self.close_abrupt()

    def close(self):
        """An orderly close: over TLS, close_notify first (so that a body
        delimited by the close is known whole, and OpenSSL keeps the session
        resumable); then the TCP close."""
        if self.tls:
            try:
                self.sock.settimeout(0)
                self.sock.unwrap()
            except (OSError, ValueError, ssl.SSLError):
                pass
        self.close_abrupt()

    def close_abrupt(self):
        for s in (self.sock, self.raw):
            try:
                s.close()
            except OSError:
                pass


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        path, _, self.query = target.partition('?')
        self.path = path
        self.params = {}
        for part in self.query.split('&') if self.query else ():
            k, _, v = part.partition('=')
            self.params[urllib.parse.unquote(k)] = v

    def header(self, name):
        v = self.headers.get(name)
        return None if v is None else ', '.join(v)

    def keep_alive(self):
        conn = (self.header('connection') or '').lower()
        if self.version == 'HTTP/1.0':
            return 'keep-alive' in conn
        return 'close' not in conn


def read_request(conn, timeout=10.0):
    """One HTTP request head (and a Content-Length body) from conn; None on
    EOF before a full head."""
    deadline = time.time() + timeout
    while b'\r\n\r\n' not in conn.buf:
        if len(conn.buf) > 65536:
            raise ValueError('request head too long')
        left = deadline - time.time()
        if left <= 0:
            raise TimeoutError('request head timed out')
        data = conn.recv_wait(left)
        if not data:
            return None
        conn.buf += data
    head, conn.buf = conn.buf.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    parts = lines[0].split(' ')
    if len(parts) != 3:
        raise ValueError('bad request line %r' % lines[0])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(':')
        if not sep:
            raise ValueError('bad header line %r' % line)
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    n = int(headers.get('content-length', ['0'])[0] or 0)
    while len(conn.buf) < n:
        data = conn.recv_wait(max(0.1, deadline - time.time()))
        if not data:
            return None
        conn.buf += data
    body, conn.buf = conn.buf[:n], conn.buf[n:]
    return Request(parts[0], parts[1], parts[2], headers, body)


def response_head(status, headers):
    out = ['HTTP/1.1 %d %s' % (status, REASONS.get(status, 'Status'))]
    for k, v in headers:
        out.append('%s: %s' % (k, v))
    return ('\r\n'.join(out) + '\r\n\r\n').encode('latin-1')


def retry_after_header(st):
    form = st.get('retry_after_form')
    secs = st.get('retry_after')
    if form == 'none':
        return None
    if form == 'date':
        return http_date(int(time.time()) + secs + 1)
    return str(secs)


def error_body(status, message):
    names = {401: 'unauthorized', 403: 'forbidden', 404: 'not_found',
             400: 'bad_request', 429: 'rate_limited',
             503: 'unavailable', 502: 'bad_gateway'}
    return json.dumps({'error': names.get(status, 'error'),
                       'message': message}).encode()


def send_simple(conn, status, message, extra=(), keep=True):
    body = error_body(status, message)
    headers = [('Content-Type', 'application/json'),
               ('Content-Length', str(len(body)))]
    headers.extend(extra)
    if not keep:
        headers.append(('Connection', 'close'))
    conn.send(response_head(status, headers) + body)


# ---------------------------------------------------------------- server

class Server:
    def __init__(self, args):
        self.args = args
        self.st = State(args)
        self.key = args.key
        if args.key_file:
            with open(args.key_file, encoding='utf-8') as f:
                self.key = f.readline().rstrip('\r\n \t')
        self.base = '/' + args.base.strip('/') if args.base.strip('/') \
            else ''
        self.listeners = []
        self.ports = {}

    # ----- auth

    def auth(self, req):
        v = req.header('authorization')
        if v is None:
            return 'missing'
        scheme, _, token = v.partition(' ')
        if scheme.lower() != 'bearer' or not token.strip():
            return 'malformed'
        return 'ok' if token.strip() == self.key else 'wrong'

    def auth_status(self, outcome):
        if outcome == 'wrong':
            return self.st.get('auth_status')
        return 401

    # ----- dispatch

    def serve(self, raw, listener):
        cid = next(self.st.conn_ids)
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        raw.settimeout(10)
        LOG('accept', conn=cid, port=listener.port, tls=listener.ctx
            is not None, cert=listener.cert, family=listener.family)
        sock = raw
        if listener.ctx is not None:
            try:
                sock = listener.ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError) as e:
                LOG('tls', conn=cid, ok=False, cert=listener.cert,
                    error=str(e))
                try:
                    raw.close()
                except OSError:
                    pass
                return
            LOG('tls', conn=cid, ok=True, cert=listener.cert,
                sni=getattr(sock, 'fake_sni', None),
                alpn=sock.selected_alpn_protocol(), version=sock.version(),
                cipher=sock.cipher()[0], resumed=sock.session_reused)
        conn = Conn(cid, sock, raw, listener)
        try:
            while True:
                req = read_request(conn, conn.idle)
                if req is None:
                    break
                if not self.dispatch(conn, req):
                    break
        except (TimeoutError, ValueError) as e:
            LOG('error', conn=cid, where='request', error=str(e))
        except (OSError, ssl.SSLError) as e:
            LOG('error', conn=cid, where='io', error=str(e))
        except Exception as e:      # a bug here must not kill the server
            LOG('error', conn=cid, where='internal', error=repr(e))
            print('fakeapi: internal error: %r' % e, file=sys.stderr)
        conn.close()

    def dispatch(self, conn, req):
        """Serve one request; False when the connection must close."""
        info = {'conn': conn.cid, 'tls': conn.tls, 'method': req.method,
                'path': req.path, 'query': req.query,
                'host': req.header('host')}
        path = req.path
        variant = {}
        if path.startswith('/_v/'):
            tokens, _, rest = path[4:].partition('/')
            path = '/' + rest
            variant = self.parse_variant(tokens.split(','))
        for k in ('shape', 'framing', 'pretty', 'page'):
            if k in req.params:
                variant.update(self.parse_variant(
                    [req.params[k] if k != 'page' else 'page=' +
                     req.params[k]]))
        if path == '/_control' and not conn.tls:
            return self.control(conn, req, info)
        if path == self.base + '/stream':
            return self.websocket(conn, req, info)
        pre = self.base + '/games/'
        if path.startswith(pre) and path.endswith('/rounds'):
            game = urllib.parse.unquote(path[len(pre):-len('/rounds')])
            if game and '/' not in game:
                return self.rest(conn, req, info, game, variant)
        info.update(kind='other', auth=None, status=404)
        LOG('request', **info)
        send_simple(conn, 404, 'no such route', keep=req.keep_alive())
        return req.keep_alive()

    @staticmethod
    def parse_variant(tokens):
        v = {}
        for t in tokens:
            if t in ('array', 'rounds', 'data', 'cycle'):
                v['shape'] = t
            elif t in ('length', 'chunked', 'eof'):
                v['framing'] = t
            elif t in ('pretty', 'spaces'):
                v['pretty'] = 'spaces'
            elif t == 'tabs':
                v['pretty'] = 'tabs'
            elif t in ('mini', 'minified'):
                v['pretty'] = ''
            elif t.startswith('page='):
                v['page'] = int(t[5:])
        return v

    # ----- control

    def control(self, conn, req, info):
        info.update(kind='control', auth=None)
        if req.method == 'GET':
            info['status'] = 200
            LOG('request', **info)
            self.reply_json(conn, 200, self.status_obj(), req)
            return req.keep_alive()
        try:
            cmd = json.loads(req.body or b'{}')
            if not isinstance(cmd, dict):
                raise ValueError('control body must be a JSON object')
            applied = self.apply(cmd)
        except (ValueError, TypeError, KeyError) as e:
            info['status'] = 400
            LOG('request', **info)
            self.reply_json(conn, 400, {'ok': False, 'error': str(e)}, req)
            return req.keep_alive()
        info['status'] = 200
        LOG('request', **info)
        obj = self.status_obj()
        obj['applied_to'] = applied
        self.reply_json(conn, 200, obj, req)
        return req.keep_alive()

    def reply_json(self, conn, status, obj, req):
        body = json.dumps(obj).encode()
        conn.send(response_head(status, [
            ('Content-Type', 'application/json'),
            ('Content-Length', str(len(body)))]) + body)

    def status_obj(self):
        st = self.st
        with st.lock:
            return {'ok': True, 'settings': dict(st.s),
                    'ws_live': sorted(st.conns),
                    'counts': dict(st.count),
                    'history': {g: len(h) for g, h in st.history.items()},
                    'burst_left': st.burst_left}

    def apply(self, cmd):
        st = self.st
        new = {}
        for k, v in cmd.items():
            if k in SETTING_TYPES:
                new[k] = check_setting(k, v)
            elif k not in CONTROL_ONLY:
                raise ValueError('unknown control key %r' % k)
        if 'inject' in cmd and cmd['inject'] not in INJECT_KINDS:
            raise ValueError('unknown inject kind %r' % cmd['inject'])
        if 'drop_now' in cmd and cmd['drop_now'] not in CHOICES['drop_mode']:
            raise ValueError('drop_now must be fin, rst or close')
        LOG('control', cmd=cmd)
        with st.lock:
            st.s.update(new)
            conns = list(st.conns.values())
        st.gen_wake.set()
        if 'mark' in cmd:
            LOG('mark', text=cmd['mark'])
        if 'generate' in cmd or 'burst' in cmd:
            games = [cmd['game']] if cmd.get('game') else st.games
            for g in games:
                if g not in st.history:
                    raise ValueError('unknown game %r' % g)
        if 'generate' in cmd:
            stamp = None
            if cmd.get('same_instant'):
                stamp = st.shared_stamp(time.time())
            for _ in range(int(cmd['generate'])):
                for g in games:
                    st.add_round(g, time.time(), stamp=stamp)
        if 'burst' in cmd:
            n = int(cmd['burst'])
            with st.lock:
                st.burst_left += n
            threading.Thread(target=st.burst, args=(n, games),
                             daemon=True).start()
        n = 0
        for c in conns:
            if 'inject' in cmd:
                c.command(('inject', cmd['inject'], cmd))
            if cmd.get('silent_now'):
                c.command(('silent',))
            if 'drop_now' in cmd:
                c.command(('drop', cmd['drop_now'],
                           int(cmd.get('code', 1001))))
            n += 1
        return n

    # ----- REST

    def rest(self, conn, req, info, game, variant):
        st = self.st
        s = st.snapshot()
        keep = req.keep_alive()
        info.update(kind='rest', game=game, since=None, auth=None)
        with st.lock:
            st.count['rest'] += 1
        fault = None
        status = 0
        if s['rest_status']:
            status = s['rest_status']
            fault = 'rest_status'
        elif st.take('rest_refuse'):
            fault = 'refuse_' + s['rest_refuse_mode']
            status = s['rest_refuse_status']
        if s['rest_delay_ms']:
            time.sleep(s['rest_delay_ms'] / 1000.0)
        if not fault and st.take('rest_101_fin'):
            info.update(status=101, fault='101_fin')
            LOG('request', **info)
            conn.send(response_head(101, [
                ('Upgrade', 'websocket'), ('Connection', 'Upgrade')]) +
                b'\x81\x05hello')
            conn.close_fin()
            return False
        if fault == 'refuse_rst':
            info.update(status=None, fault=fault)
            LOG('request', **info)
            conn.close_rst()
            return False
        if status and fault != 'refuse_truncate':
            extra = []
            if status in (429, 503):
                ra = retry_after_header(st)
                if ra is not None:
                    extra.append(('Retry-After', ra))
                    info['retry_after'] = ra
            info.update(status=status, fault=fault)
            LOG('request', **info)
            send_simple(conn, status, 'try again later', extra, keep)
            return keep
        outcome = self.auth(req)
        info['auth'] = outcome
        if req.method != 'GET':
            info['status'] = 405
            LOG('request', **info)
            send_simple(conn, 405, 'GET only', keep=keep)
            return keep
        if outcome != 'ok':
            code = self.auth_status(outcome)
            info['status'] = code
            LOG('request', **info)
            msg = 'missing API key' if outcome == 'missing' else \
                'invalid API key'
            send_simple(conn, code, msg,
                        [('WWW-Authenticate', 'Bearer')], keep)
            return keep
        since_raw = req.params.get('since')
        since = None
        if since_raw is not None:
            since_raw = urllib.parse.unquote(since_raw)
            info['since'] = since_raw
            since = parse_since(since_raw)
            if since is not None:
                since = since_key(since_raw, since)
            if since is None:
                info['status'] = 400
                LOG('request', **info)
                send_simple(conn, 400, 'since must be RFC 3339', keep=keep)
                return keep
        if game not in st.history:
            info['status'] = 404
            LOG('request', **info)
            send_simple(conn, 404, 'unknown game', keep=keep)
            return keep
        page = variant.get('page', s['page_size'])
        with st.lock:
            rows = [r for r in st.history[game]
                    if since is None or r.when >= since]
            shape = variant.get('shape', s['shape'])
            if shape == 'cycle':
                shape = next(st.cycle_shape)
            framing = variant.get('framing', s['framing'])
            if framing == 'cycle':
                framing = next(st.cycle_framing)
            rng = random.Random(st.rng.random())
        more = len(rows) > page
        rows = rows[:page]
        if s['shuffle']:
            rng.shuffle(rows)
        pretty = variant.get('pretty', s['rest_pretty'])
        empty = None
        if not rows and s['rest_empty'] != 'off' and \
                fault != 'refuse_truncate':
            empty = s['rest_empty']
            info['empty'] = empty
            if empty != 'array':
                return self.rest_empty(conn, info, empty, s, keep, page,
                                       rng)
        if empty == 'array':
            text = {'array': '[]', 'rounds': '{"rounds":[]}',
                    'data': '{"data":[]}'}[shape]
        else:
            text = self.rest_body(game, rows, shape, since_raw, page, more)
        body = reformat(text, pretty).encode('utf-8')
        if fault == 'refuse_truncate':
            framing = 'length'
        headers = [('Content-Type', 'application/json; charset=utf-8'),
                   ('Cache-Control', 'no-store')]
        if framing == 'length':
            headers.append(('Content-Length', str(len(body))))
        elif framing == 'chunked':
            headers.append(('Transfer-Encoding', 'chunked'))
            body = chunk(body, rng)
        else:
            keep = False
        forced = s['rest_keepalive'] and framing != 'eof' and \
            fault != 'refuse_truncate'
        if forced:
            keep = True
            conn.idle = 60.0
            info['keepalive'] = True
        if not keep:
            headers.append(('Connection', 'close'))
        if framing == 'eof' and conn.tls and not fault and \
                st.take('rest_no_notify'):
            fault = 'no_close_notify'
        info.update(status=200, count=len(rows),
                    round_ids=[r.round_id for r in rows], shape=shape,
                    framing=framing, pretty=pretty, page_size=page,
                    more=more, fault=fault, empty=empty)
        LOG('request', **info)
        data = response_head(200, headers) + body
        if fault == 'no_close_notify':
            conn.send(data)
            conn.close_fin()
            return False
        if fault == 'refuse_truncate':
            conn.send(data[:len(data) - len(body) // 2 - 1])
            conn.close_fin()
            return False
        conn.send(data, s['rest_split'], 0.2 if s['rest_split'] else 0,
                  rng)
        return keep

    def rest_empty(self, conn, info, form, s, keep, page, rng):
        """Answer a page with no rows in the rest_empty form (all but
        'array', which goes the usual way with a bare empty body)."""
        status = 204 if form == '204' else 200
        headers = [('Cache-Control', 'no-store')]
        body = b''
        framing = 'none'
        if form == '200-empty':
            framing = 'length'
            headers[:0] = [('Content-Type', 'application/json')]
            headers.append(('Content-Length', '0'))
        elif form == '200-empty-chunked':
            framing = 'chunked'
            headers[:0] = [('Content-Type', 'application/json')]
            headers.append(('Transfer-Encoding', 'chunked'))
            body = b'0\r\n\r\n'
        elif form == '200-empty-close':
            framing = 'eof'
            headers[:0] = [('Content-Type', 'application/json')]
            keep = False
        if s['rest_keepalive'] and framing != 'eof':
            keep = True
            conn.idle = 60.0
            info['keepalive'] = True
        if not keep:
            headers.append(('Connection', 'close'))
        info.update(status=status, count=0, round_ids=[], shape=None,
                    framing=framing, pretty=None, page_size=page,
                    more=False, fault=None)
        LOG('request', **info)
        conn.send(response_head(status, headers) + body, s['rest_split'],
                  0.2 if s['rest_split'] else 0, rng)
        return keep

    def rest_body(self, game, rows, shape, since, page, more):
        arr = '[' + ','.join(r.row for r in rows) + ']'
        if shape == 'array':
            return arr
        if shape == 'rounds':
            return '{"game":%s,"rounds":%s,"count":%d}' % (
                json_str(game), arr, len(rows))
        nxt = 'null'
        if more and rows:
            last = max(r.finalized_at for r in rows)
            nxt = json_str('%s/games/%s/rounds?since=%s' % (
                self.base, game, last))
        meta = ('{"count":%d,"page_size":%d,"since":%s,'
                '"filters":{"games":[%s]},"api":{"version":"v1-beta"}}'
                % (len(rows), page, json_str(since) if since else 'null',
                   json_str(game)))
        return '{"meta":%s,"data":%s,"next":%s}' % (meta, arr, nxt)

    # ----- WebSocket

    def websocket(self, conn, req, info):
        st = self.st
        s = st.snapshot()
        raw_games = req.params.get('games')
        games = None
        if raw_games is not None:
            # lenient like a real server: %2C counts as a comma too; the
            # log's games_raw shows what the client actually sent
            games = [g for g in urllib.parse.unquote(raw_games).split(',')
                     if g]
        key = req.header('sec-websocket-key') or ''
        try:
            key_ok = len(base64.b64decode(key, validate=True)) == 16
        except ValueError:
            key_ok = False
        info.update(kind='ws', games=games, games_raw=raw_games,
                    ws_key_ok=key_ok,
                    extensions=req.header('sec-websocket-extensions'),
                    protocols=req.header('sec-websocket-protocol'),
                    auth=self.auth(req))
        with st.lock:
            st.count['ws'] += 1
        keep = req.keep_alive()
        if s['ws_status']:
            return self.ws_refuse(conn, req, info, s['ws_status'], 'ws_status')
        if st.take('refuse'):
            return self.ws_refuse(conn, req, info, s['refuse_status'],
                                  'refuse')
        if st.take('stall'):
            info.update(status=None, fault='stall')
            LOG('request', **info)
            while conn.recv_wait(60):
                pass
            return False
        if info['auth'] != 'ok':
            code = self.auth_status(info['auth'])
            info['status'] = code
            LOG('request', **info)
            msg = 'missing API key' if info['auth'] == 'missing' else \
                'invalid API key'
            send_simple(conn, code, msg, [('WWW-Authenticate', 'Bearer')],
                        keep)
            return keep
        upgrade = (req.header('upgrade') or '').lower()
        tokens = [t.strip().lower()
                  for t in (req.header('connection') or '').split(',')]
        version = req.header('sec-websocket-version')
        problem = None
        if req.method != 'GET':
            problem = 'method %s' % req.method
        elif 'websocket' not in upgrade:
            problem = 'no Upgrade: websocket'
        elif 'upgrade' not in tokens:
            problem = 'no Connection: Upgrade'
        elif not key_ok:
            problem = 'bad Sec-WebSocket-Key'
        elif version != '13':
            info.update(status=426, problem='version %r' % version)
            LOG('request', **info)
            send_simple(conn, 426, 'WebSocket version 13 only',
                        [('Sec-WebSocket-Version', '13')], False)
            return False
        if problem:
            info.update(status=400, problem=problem)
            LOG('request', **info)
            send_simple(conn, 400, problem, keep=False)
            return False
        accept = base64.b64encode(hashlib.sha1(
            key.encode('ascii') + WS_GUID).digest()).decode()
        bad = st.take('bad_accept')
        if bad:
            accept = base64.b64encode(hashlib.sha1(
                b'x' + WS_GUID).digest()).decode()
        info.update(status=101, bad_accept=bad)
        ws = WSConn(self, conn, games)
        with st.lock:
            st.conns[conn.cid] = ws
        LOG('request', **info)
        conn.send(response_head(101, [
            ('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
            ('Sec-WebSocket-Accept', accept)]))
        try:
            ws.run()
        finally:
            with st.lock:
                st.conns.pop(conn.cid, None)
        return False

    def ws_refuse(self, conn, req, info, status, fault):
        extra = []
        if status in (429, 503):
            ra = retry_after_header(self.st)
            if ra is not None:
                extra.append(('Retry-After', ra))
                info['retry_after'] = ra
        info.update(status=status, fault=fault)
        LOG('request', **info)
        send_simple(conn, status, 'stream unavailable', extra,
                    req.keep_alive())
        return req.keep_alive()


def chunk(body, rng):
    """Chunked transfer coding with 1..7-byte chunks, some with chunk
    extensions or leading zeros, and a trailer field."""
    out = []
    i = 0
    while i < len(body):
        n = min(rng.randint(1, 7), len(body) - i)
        size = '%x' % n
        r = rng.random()
        if r < 0.1:
            size = '00' + size
        elif r < 0.2:
            size += ';ext=1'
        elif r < 0.25:
            size += ';name="quoted ; value"'
        elif r < 0.3:
            size += ';e'
        out.append(size.encode() + b'\r\n' + body[i:i + n] + b'\r\n')
        i += n
    out.append(b'0;last\r\nX-Trailer: done\r\n\r\n'
               if rng.random() < 0.5 else b'0\r\n\r\n')
    return b''.join(out)


def frame(op, payload, fin=True, rsv=0, mask=False):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack('!BB', b0, mbit | n)
    elif n < 65536:
        head = struct.pack('!BBH', b0, mbit | 126, n)
    else:
        head = struct.pack('!BBQ', b0, mbit | 127, n)
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        head += key
    return head + payload


class WSConn:
    """One upgraded connection, served by its own thread (single-threaded,
    so TLS reads and writes never race)."""

    def __init__(self, server, conn, games):
        self.server = server
        self.st = server.st
        self.conn = conn
        self.cid = conn.cid
        self.games = games
        self.q = collections.deque()
        self.cmds = collections.deque()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_w.setblocking(False)
        self.frames = 0
        self.silent = False
        self.closing_deadline = None
        self.close_sent = False
        self.done = False
        self.last_ping = None
        self.last_frame = None
        self.drop_at = self.st.plan('drop_after', 'drop_times')
        self.silent_at = self.st.plan('silent_after', 'silent_times')
        self.rng = random.Random(self.st.rng.random())
        self.rbuf = conn.buf
        self.frag_op = None
        self.frag = b''
        self.drop_close = False

    def offer(self, r):
        if self.games and r.game not in self.games:
            return
        if self.silent or self.closing_deadline:
            return
        self.q.append(r)
        self.wake()

    def offer_many(self, rs):
        if self.silent or self.closing_deadline:
            return
        self.q.extend(r for r in rs
                      if not self.games or r.game in self.games)
        self.wake()

    def command(self, cmd):
        self.cmds.append(cmd)
        self.wake()

    def wake(self):
        try:
            self.wake_w.send(b'x')
        except OSError:
            pass

    def end(self, reason, how='close'):
        if self.done:
            return
        self.done = True
        LOG('ws_end', conn=self.cid, reason=reason, frames=self.frames)
        if how == 'fin':
            self.conn.close_fin()
        elif how == 'rst':
            self.conn.close_rst()
        else:
            self.conn.close()

    def send(self, data):
        s = self.st.snapshot()
        try:
            self.conn.send(data, s['split'], s['split_sleep_ms'], self.rng)
        except (OSError, ssl.SSLError) as e:
            self.end('send_error: %s' % e)
            return False
        return True

    def send_message(self, op, payload):
        s = self.st.snapshot()
        n = s['fragment']
        if not n or len(payload) <= n:
            return self.send(frame(op, payload))
        pieces = [payload[i:i + n] for i in range(0, len(payload), n)]
        for i, p in enumerate(pieces):
            f = frame(op if i == 0 else 0, p, fin=(i == len(pieces) - 1))
            if not self.send(f):
                return False
            if s['fragment_ping'] and i < len(pieces) - 1:
                if not self.send_ping():
                    return False
        return True

    def send_ping(self):
        payload = b'fk%d' % int(time.time() * 1000 % 100000000)
        self.last_ping = payload
        LOG('ws_ping', conn=self.cid, payload=payload.hex())
        return self.send(frame(0x9, payload))

    def send_close(self, code, reason=b''):
        self.close_sent = True
        LOG('ws_close_sent', conn=self.cid, code=code)
        payload = b'' if code is None else struct.pack('!H', code) + reason
        ok = self.send(frame(0x8, payload))
        self.closing_deadline = time.time() + 2.0
        self.q.clear()
        return ok

    def go_silent(self):
        if not self.silent:
            self.silent = True
            self.q.clear()
            LOG('ws_silent', conn=self.cid, frames=self.frames)

    def drop(self, mode, code=1001):
        if mode == 'close':
            if not self.close_sent:
                self.send_close(code, b'going away')
            self.drop_close = True
            return
        self.end('drop_' + mode, how=mode)

    def run(self):
        st = self.st
        if self.silent_at == 0:
            self.go_silent()
        interval = st.get('ping_ms') / 1000.0
        next_ping = time.time() + interval if interval > 0 else None
        try:
            self.parse()    # frames that came with the upgrade request
            while not self.done:
                now = time.time()
                interval = st.get('ping_ms') / 1000.0
                if interval <= 0:
                    next_ping = None
                elif next_ping is None:
                    next_ping = now + interval
                timeout = 0.5
                if next_ping is not None and not self.silent:
                    timeout = max(0.0, min(timeout, next_ping - now))
                if self.closing_deadline:
                    timeout = max(0.0, min(timeout,
                                           self.closing_deadline - now))
                if ((self.q or self.cmds) and not self.silent) or \
                        self.conn.readable_now():
                    timeout = 0
                r, _, _ = select.select([self.conn.sock, self.wake_r], [],
                                        [], timeout)
                if self.wake_r in r:
                    try:
                        self.wake_r.recv(4096)
                    except OSError:
                        pass
                if self.conn.sock in r or self.conn.readable_now():
                    self.read()
                if self.done:
                    break
                while self.cmds and not self.done:
                    self.do_command(self.cmds.popleft())
                now = time.time()
                if self.closing_deadline:
                    if now >= self.closing_deadline:
                        self.end('close_timeout')
                    continue
                if self.silent:
                    continue
                while self.q and not self.done and not self.silent \
                        and not self.closing_deadline:
                    self.send_round(self.q.popleft())
                if self.done or self.silent or self.closing_deadline:
                    continue
                if next_ping is not None and time.time() >= next_ping:
                    if not self.send_ping():
                        break
                    next_ping += interval
                    if next_ping < time.time():
                        next_ping = time.time() + interval
        finally:
            if not self.done:
                self.end('server_exit')
            self.wake_r.close()
            self.wake_w.close()

    def send_round(self, r):
        text = escape_line(r.line) if self.st.get('escape') else r.line
        if self.st.get('pretty'):
            text = reformat(text, self.st.get('pretty'))
        data = text.encode('utf-8')
        self.last_frame = data
        if not self.send_message(0x1, data):
            return
        self.frames += 1
        LOG('ws_round', conn=self.cid, n=self.frames, game_id=r.game,
            round_id=r.round_id)
        with self.st.lock:
            due = [x for x in self.st.injections if x[1] <= self.frames]
            for x in due:
                self.st.injections.remove(x)
        for kind, _, params in due:
            self.inject(kind, params)
        if self.drop_at and self.frames >= self.drop_at:
            self.drop(self.st.get('drop_mode'), self.st.get('drop_code'))
        elif self.silent_at > 0 and self.frames >= self.silent_at:
            self.go_silent()

    def do_command(self, cmd):
        if cmd[0] == 'silent':
            self.go_silent()
        elif cmd[0] == 'drop':
            self.drop(cmd[1], cmd[2])
        elif cmd[0] == 'inject':
            if not self.silent and not self.closing_deadline:
                self.inject(cmd[1], cmd[2])

    def inject(self, kind, p):
        LOG('ws_inject', conn=self.cid, kind=kind)
        if kind == 'oversize':
            size = int(p.get('size', 1100000))
            head = '{"game_id":"stake-crash","round_id":"oversize","pad":"'
            pad = size - len(head) - 2
            self.send_message(0x1, (head + 'a' * max(0, pad) + '"}').encode())
        elif kind == 'bad_utf8':
            bad = {'ff': b'\xff\xfe', 'overlong': b'\xc0\xaf',
                   'surrogate': b'\xed\xa0\x80',
                   'truncated': b'\xe2\x82'}[p.get('variant', 'ff')]
            self.send_message(0x1, b'{"game_id":"stake-crash","note":"'
                              + bad + b'"}')
        elif kind == 'non_json':
            self.send_message(0x1, b'hello, this is not JSON')
        elif kind == 'non_round':
            self.send_message(0x1, b'{"type":"welcome","message":"hi"}')
        elif kind == 'binary':
            self.send_message(0x2, b'\x00\x01binary\xff')
        elif kind == 'ping':
            self.send(frame(0x9, str(p.get('payload', 'inj')).encode()))
        elif kind == 'pong':
            self.send(frame(0xA, b'unsolicited'))
        elif kind == 'masked':
            self.send(frame(0x1, b'{"masked":true}', mask=True))
        elif kind == 'rsv1':
            self.send(frame(0x1, b'{"rsv1":true}', rsv=4))
        elif kind == 'bad_opcode':
            self.send(frame(0x3, b'op3'))
        elif kind == 'close':
            self.send_close(int(p.get('code', 1000)))
        elif kind == 'dup':
            if self.last_frame is not None:
                self.send_message(0x1, self.last_frame)
        elif kind == 'raw':
            self.send(bytes.fromhex(p.get('hex', '')))

    def read(self):
        data = self.conn.recv_now()
        if data is None:
            return
        if data == b'':
            if self.close_sent and self.drop_close:
                self.end('drop_close')
            else:
                self.end('client_eof')
            return
        self.rbuf += data
        self.parse()

    def parse(self):
        while not self.done:
            b = self.rbuf
            if len(b) < 2:
                return
            fin = b[0] & 0x80
            op = b[0] & 0x0F
            masked = b[1] & 0x80
            n = b[1] & 0x7F
            pos = 2
            if n == 126:
                if len(b) < 4:
                    return
                n = struct.unpack('!H', b[2:4])[0]
                pos = 4
            elif n == 127:
                if len(b) < 10:
                    return
                n = struct.unpack('!Q', b[2:10])[0]
                pos = 10
            if masked:
                pos += 4
            if len(b) < pos + n:
                if n > 16 * 1048576:
                    self.protocol_error('client frame too large')
                return
            key = b[pos - 4:pos] if masked else None
            payload = b[pos:pos + n]
            self.rbuf = b[pos + n:]
            if not masked:
                self.protocol_error('unmasked client frame')
                return
            payload = bytes(x ^ key[i & 3] for i, x in enumerate(payload))
            self.client_frame(fin, op, payload)

    def protocol_error(self, why):
        LOG('ws_protocol_error', conn=self.cid, error=why)
        if not self.silent and not self.close_sent:
            self.send_close(1002)
        self.end('protocol_error: ' + why)

    def client_frame(self, fin, op, payload):
        if op == 0x9:
            LOG('ws_ping_recv', conn=self.cid, payload=payload.hex())
            if not self.silent and not self.close_sent:
                self.send(frame(0xA, payload))
        elif op == 0xA:
            LOG('ws_pong', conn=self.cid, payload=payload.hex(),
                match=payload == self.last_ping)
        elif op == 0x8:
            code = struct.unpack('!H', payload[:2])[0] \
                if len(payload) >= 2 else None
            reason = payload[2:].decode('utf-8', 'replace')
            LOG('ws_close_recv', conn=self.cid, code=code, reason=reason)
            if self.silent:
                return      # half-open: nothing goes back
            if self.close_sent:
                self.end('drop_close' if self.drop_close
                         else 'server_close')
                return
            self.send_close(code)
            # "the server SHOULD close the underlying TCP connection first"
            self.end('client_close')
        elif op in (0x0, 0x1, 0x2):
            if op != 0x0:
                self.frag_op = op
                self.frag = b''
            self.frag += payload
            if fin:
                LOG('ws_msg_recv', conn=self.cid, op=self.frag_op,
                    size=len(self.frag),
                    text=self.frag[:200].decode('utf-8', 'replace'))
                self.frag = b''
        else:
            self.protocol_error('opcode %d' % op)


# ---------------------------------------------------------------- listeners

class Listener:
    def __init__(self, sock, ctx, cert, family):
        self.sock = sock
        self.ctx = ctx
        self.cert = cert
        self.family = family
        self.port = sock.getsockname()[1]


def tls_context(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(CERT_DIR, cert + '.pem'),
                        os.path.join(CERT_DIR, cert + '.key'))
    ctx.set_alpn_protocols(['http/1.1'])

    def sni(sslsock, name, _ctx):
        sslsock.fake_sni = name
    ctx.sni_callback = sni
    return ctx


def bind_pair(family_list, port=0):
    """Bind 127.0.0.1 (and ::1) on one port number; retry on collision."""
    for _ in range(50):
        socks = []
        try:
            for fam in family_list:
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind(('::1', port))
                else:
                    s.bind(('127.0.0.1', port))
                port = s.getsockname()[1]
                socks.append(s)
            return socks
        except OSError:
            for s in socks:
                s.close()
            port = 0
    raise OSError('cannot bind a port on loopback')


def check_setting(name, value):
    typ = SETTING_TYPES[name]
    if typ is bool:
        if not isinstance(value, bool):
            raise ValueError('%s must be true or false' % name)
    elif typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError('%s must be a number' % name)
        value = float(value)
    elif typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError('%s must be an integer' % name)
    else:
        if not isinstance(value, str):
            raise ValueError('%s must be a string' % name)
    if name in CHOICES and value not in CHOICES[name]:
        raise ValueError('%s must be one of %s' % (name, CHOICES[name]))
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        description='Fake TrackerSino server for tests (127.0.0.1 only).')
    p.add_argument('--key', default='test-key-0123456789abcdef',
                   help='the API key clients must send')
    p.add_argument('--key-file', help='read the key from this file')
    p.add_argument('--base', default='/v1-beta', help='API base path')
    p.add_argument('--cert', action='append', choices=CERT_NAMES,
                   help='a TLS listener with this certificate (repeatable;'
                   ' default good-ec)')
    p.add_argument('--no-tls', action='store_true', help='plain only')
    p.add_argument('--ipv6', action='store_true',
                   help='also listen on ::1, same port numbers')
    p.add_argument('--blackhole', action='store_true',
                   help='add a never-completing and a never-answering port')
    p.add_argument('--games', default=DEFAULT_GAMES,
                   help='comma-separated game slugs to generate')
    p.add_argument('--history', type=int, default=0,
                   help='rounds per game generated back-dated at start')
    p.add_argument('--multipliers', default='',
                   help='comma-separated multiplier strings used in turn')
    p.add_argument('--index-base', action='append', default=[],
                   metavar='GAME=N', help='first round_index of GAME')
    p.add_argument('--seed', type=int, default=None, help='random seed')
    p.add_argument('--inject', action='append', default=[],
                   metavar='KIND@N', help='inject KIND once at frame N')
    p.add_argument('--log', help='ground-truth log (JSON lines)')
    p.add_argument('--max-seconds', type=float, default=120.0,
                   help='exit after this long whatever happens')
    for name, typ, default, text in SETTINGS:
        opt = '--' + name.replace('_', '-')
        if typ is bool:
            p.add_argument(opt, default=default,
                           action=argparse.BooleanOptionalAction, help=text)
        else:
            p.add_argument(opt, dest=name, type=typ, default=default,
                           choices=CHOICES.get(name), help=text)
    args = p.parse_args(argv)
    if not args.cert:
        args.cert = ['good-ec']
    return args


def main(argv):
    global LOG
    args = parse_args(argv)
    LOG = Log(args.log)

    def bye(signum, _frame):
        LOG('exit', reason='signal %d' % signum)
        os._exit(0)
    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)

    server = Server(args)
    fams = [socket.AF_INET] + ([socket.AF_INET6] if args.ipv6 else [])
    ports = {'pid': os.getpid()}
    for s in bind_pair(fams):
        server.listeners.append(Listener(s, None, None, s.family.name))
        ports['plain'] = s.getsockname()[1]
    tls_ports = {}
    if not args.no_tls:
        for cert in args.cert:
            ctx = tls_context(cert)
            for s in bind_pair(fams):
                server.listeners.append(Listener(s, ctx, cert,
                                                 s.family.name))
                tls_ports[cert] = s.getsockname()[1]
        ports['tls'] = tls_ports[args.cert[0]]
        ports['tls_ports'] = tls_ports
    ports['ipv6'] = args.ipv6
    ports['base'] = server.base
    keep = []
    if args.blackhole:
        bh = socket.socket()
        bh.bind(('127.0.0.1', 0))
        bh.listen(0)
        filler = socket.socket()
        filler.settimeout(1)
        filler.connect(bh.getsockname())
        keep += [bh, filler]
        ports['blackhole'] = bh.getsockname()[1]
        stall = socket.socket()
        stall.bind(('127.0.0.1', 0))
        stall.listen(16)
        keep.append(stall)
        ports['stall'] = stall.getsockname()[1]
        threading.Thread(target=stall_loop, args=(stall,),
                         daemon=True).start()
    for lst in server.listeners:
        lst.sock.listen(64)
    LOG('start', ports=ports, settings=server.st.snapshot(),
        games=server.st.games)
    server.st.seed_history(args.history)
    for lst in server.listeners:
        threading.Thread(target=accept_loop, args=(server, lst),
                         daemon=True).start()
    threading.Thread(target=server.st.generator, daemon=True).start()
    sys.stdout.write(json.dumps(ports) + '\n')
    sys.stdout.flush()
    deadline = time.time() + args.max_seconds
    while time.time() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.time())))
    LOG('exit', reason='max-seconds')
    os._exit(0)


def accept_loop(server, lst):
    while True:
        try:
            raw, _ = lst.sock.accept()
        except OSError as e:
            LOG('error', where='accept', error=str(e))
            time.sleep(0.05)
            continue
        threading.Thread(target=server.serve, args=(raw, lst),
                         daemon=True).start()


def stall_loop(sock):
    held = []
    while True:
        c, _ = sock.accept()
        held.append(c)      # never read from, never written to


if __name__ == '__main__':
    main(sys.argv[1:])
