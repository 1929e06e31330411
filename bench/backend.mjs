// A tiny backend for the benchmark, run as its own process (`node bench/backend.mjs --name legacy`):
// answers every request with a fixed JSON body over keep-alive and counts what it served.
// GET /__count answers the count (and is not counted itself), so the bench can check the split.
// Prints one JSON line `{"msg":"backend listening","address":...}` on stdout when ready.
// Exits on SIGTERM/SIGINT and when its stdin closes, i.e. when the bench that started it is gone.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'backend' },
    bytes: { type: 'string', default: '100' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const name = values.name;
const body = jsonBody(name, Number(values.bytes));
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
let served = 0;

const server = createServer((req, res) => {
  if (req.url === '/__count') {
    const count = Buffer.from(JSON.stringify({ backend: name, served }));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(count.length) });
    res.end(count);
    return;
  }
  served++;
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
// Outlive the proxies' idle upstream connections (nginx keepalive_timeout is 60 s, undici follows
// the server's hint), so a pooled connection is never closed by us while a request is on its way.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.listen(0, values.host, () => {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ msg: 'backend listening', name, address: `http://${values.host}:${port}`, pid: process.pid }) + '\n');
});

function shutdown() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();

/** `{"backend":"legacy","ok":true,"pad":"xxx…"}` padded to exactly `size` bytes when it fits. */
function jsonBody(backend, size) {
  const bare = JSON.stringify({ backend, ok: true, pad: '' });
  return Buffer.from(JSON.stringify({ backend, ok: true, pad: 'x'.repeat(Math.max(0, size - bare.length)) }));
}
