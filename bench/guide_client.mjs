// The guide's Node.js example (section 4, "Node.js (ws)"), adapted only
// to print each frame as a line: the URI and the key come from the
// environment (BENCH_URI, TRACKERSINO_API_KEY).  console.log() to a file
// or a pipe is synchronous on Linux, so each line goes out at once.
// wss:// trusts the CA in NODE_EXTRA_CA_CERTS.  Like the guide's, it
// reconnects forever: the bench stops it once every round has arrived.
import WebSocket from 'ws';

function connect() {
  const ws = new WebSocket(
    process.env.BENCH_URI,
    { headers: { Authorization: 'Bearer ' + process.env.TRACKERSINO_API_KEY } },
  );
  ws.on('message', (data) => {
    const r = JSON.parse(data);
    console.log(String(data));
  });
  ws.on('close', () => setTimeout(connect, 1000));
  ws.on('error', () => ws.terminate());
}
connect();
