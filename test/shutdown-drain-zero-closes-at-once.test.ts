// shutdownDrainSeconds: 0 keeps the shutdown of before the drain period: on SIGTERM the listener
// closes at once (a new connection is refused while a request is still in flight), idle keep-alive
// connections are closed at once, the request in flight finishes, exit 0.
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { expect, it } from 'vitest';
import { startProxyProcess, writeConfig } from './helpers/process.js';
import { startBackend, waitFor } from './helpers/servers.js';

function get(url: string, agent: Agent | false): Promise<{ status?: number; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body, socket: req.socket as Socket }));
    });
    req.on('error', reject).end();
  });
}

it('with shutdownDrainSeconds 0, SIGTERM stops accepting and closes idle connections at once', async () => {
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  const backend = await startBackend((req, res) => {
    if (req.url === '/slow') void released.then(() => res.end('slow done'));
    else res.end('ok');
  });
  const file = writeConfig({
    listen: { host: '127.0.0.1', port: 0 },
    backends: { legacy: { upstreams: [backend.url] }, candidate: { upstreams: [backend.url] } },
    routes: [{ name: 'default', match: { pathPrefix: '/' }, candidatePercent: 0 }],
    admin: { enabled: false },
    guard: { enabled: false },
    shutdownDrainSeconds: 0,
  });
  const proxy = await startProxyProcess(file);
  const agent = new Agent({ keepAlive: true });
  try {
    const idle = await get(`${proxy.url}/warm`, agent);
    expect(idle.status).toBe(200);
    let idleClosed = false;
    idle.socket.once('close', () => (idleClosed = true));
    const slow = get(`${proxy.url}/slow`, false);
    await waitFor(() => backend.hits === 2);

    proxy.child.kill('SIGTERM');
    await waitFor(() => idleClosed, 5000, 'the idle keep-alive connection to be closed');
    await expect(get(`${proxy.url}/new`, false)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    release();
    expect((await slow).body).toBe('slow done');
    expect(await proxy.exited).toBe(0);
    expect(proxy.lines.some((l) => l.includes('"drain: not ready'))).toBe(false);
  } finally {
    agent.destroy();
    await proxy.stop('SIGKILL');
    await backend.close();
  }
});
