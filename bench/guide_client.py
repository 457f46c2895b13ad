# The guide's Python example (section 4, "Python (websockets)"), adapted
# only to print each frame as a line: the URI and the key come from the
# environment (BENCH_URI, TRACKERSINO_API_KEY), and print() flushes each
# line, as tsino's output contract asks (SPEC §2: a pipe sees each round
# at once).  wss:// trusts the CA in SSL_CERT_FILE.  Like the guide's, it
# reconnects forever: the bench stops it once every round has arrived.
import asyncio, json, os, websockets

URI = os.environ['BENCH_URI']
HEAD = [('Authorization', 'Bearer ' + os.environ['TRACKERSINO_API_KEY'])]

async def main():
    async for ws in websockets.connect(URI, extra_headers=HEAD, ping_interval=20):
        try:
            async for msg in ws:
                r = json.loads(msg)
                print(msg, flush=True)
        except websockets.ConnectionClosed:
            continue  # auto-reconnect via for-async

asyncio.run(main())
