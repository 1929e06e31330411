// A real redis-server on 127.0.0.1 and a free port, per test file, stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { toolAvailable } from './tools.js';

export interface TestRedis {
  url: string;
  port: number;
  child: ChildProcess;
  /** Stop it (SIGKILL when `hard`), as an outage. */
  stop(hard?: boolean): Promise<void>;
  /** Start it again on the same port (empty: it keeps nothing on disk). */
  restart(): Promise<void>;
}

/** Whether redis-server is here; with CUTOVER_REQUIRE_TOOLS=1 a missing one fails the test file. */
export const redisAvailable = () => toolAvailable('redis-server');

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return child;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const r = { port, url: `redis://127.0.0.1:${port}`, child: await launch(port) } as TestRedis;
  r.stop = async (hard = false) => {
    if (r.child.exitCode !== null || r.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
    r.child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  r.restart = async () => {
    await r.stop(true);
    r.child = await launch(port);
  };
  return r;
}
