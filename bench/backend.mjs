// A tiny backend for the benchmark, run as its own process (`node bench/backend.mjs --name legacy`):
// answers every request with a fixed JSON body over keep-alive and counts what it served.
// Control requests (not counted themselves):
//   GET /__count    {backend, served, fault, failed, firstFailureAt, lastRequestAt}: `served` counts
//                   every other request received (failed ones too), so the bench can check the
//                   split; the times are wall-clock ms (Date.now()) of the first 500 sent since the
//                   fault was switched on and of the arrival of the last request, null before.
//                   Only the backend knows when "the last request sent to it" arrived (the guard).
//   POST /__fault   body `errors`: answer every request with a 500 from now on (and restart the
//                   failure record); body `none`: answer normally again.
// Prints one JSON line `{"msg":"backend listening","address":...}` on stdout when ready.
// Exits on SIGTERM/SIGINT and when its stdin closes, i.e. when the bench that started it is gone.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'backend' },
    bytes: { type: 'string', default: '100' },
    host: { type: 'string', default: '127.0.0.1' },
    // More loopback addresses served on the same port (comma-separated): the nodes scenario's
    // pods, every address of one name.
    'also-hosts': { type: 'string', default: '' },
  },
});
const name = values.name;
const body = jsonBody(name, Number(values.bytes));
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
const failBody = Buffer.from(JSON.stringify({ backend: name, ok: false, fault: 'errors' }));
const failHeaders = { 'content-type': 'application/json', 'content-length': String(failBody.length) };
const FAULTS = new Set(['errors', 'none']);
let served = 0;
let fault = 'none';
let failed = 0;
let firstFailureAt = null;
let lastRequestAt = null;

const server = createServer(handle);
function handle(req, res) {
  if (req.url.startsWith('/__')) return control(req, res);
  served++;
  lastRequestAt = Date.now();
  if (req.method === 'POST' || req.url.startsWith('/slow')) return later(req, res);
  req.resume();
  if (fault === 'errors') {
    res.writeHead(500, failHeaders);
    res.end(failBody);
    failed++;
    firstFailureAt ??= Date.now();
    return;
  }
  res.writeHead(200, headers);
  res.end(body);
}

// For the drain scenario: POST answers once the whole body is in, with its size; /slow… answers
// 800 ms after the request.
function later(req, res) {
  let bytes = 0;
  req.on('data', (c) => (bytes += c.length));
  req.on('end', () => {
    const send = () => {
      const out = Buffer.from(JSON.stringify({ backend: name, ok: true, bytes }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(out.length) });
      res.end(out);
    };
    if (req.url.startsWith('/slow')) setTimeout(send, 800);
    else send();
  });
}

function control(req, res) {
  const answer = (status, obj) => {
    const out = Buffer.from(JSON.stringify(obj));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(out.length) });
    res.end(out);
  };
  if (req.method === 'GET' && req.url === '/__count') return answer(200, { backend: name, served, fault, failed, firstFailureAt, lastRequestAt });
  if (req.method === 'POST' && req.url === '/__fault') {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const want = text.trim();
      if (!FAULTS.has(want)) return answer(400, { error: `body must be one of ${[...FAULTS].join(', ')}, got ${JSON.stringify(want)}` });
      if (want === 'errors' && fault !== 'errors') {
        failed = 0;
        firstFailureAt = null;
      }
      fault = want;
      answer(200, { backend: name, fault });
    });
    return;
  }
  answer(404, { error: `unknown control request ${req.method} ${req.url}` });
}
// Outlive the proxies' idle upstream connections (nginx keepalive_timeout is 60 s, undici follows
// the server's hint), so a pooled connection is never closed by us while a request is on its way.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

const also = values['also-hosts'].split(',').filter((h) => h !== '');
const others = also.map(() => createServer(handle));
for (const s of others) {
  s.keepAliveTimeout = server.keepAliveTimeout;
  s.headersTimeout = server.headersTimeout;
}

server.listen(0, values.host, async () => {
  const { port } = server.address();
  for (const [i, s] of others.entries()) await new Promise((resolve) => s.listen(port, also[i], resolve));
  process.stdout.write(JSON.stringify({ msg: 'backend listening', name, address: `http://${values.host}:${port}`, port, hosts: 1 + also.length, pid: process.pid }) + '\n');
});

function shutdown() {
  for (const s of [server, ...others]) {
    s.close();
    s.closeAllConnections();
  }
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
