// Webhook delivery: retried with back-off up to 3 attempts, bounded by a 2 s timeout, never blocking the caller.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { WebhookSender } from '../src/guard/webhooks.js';
import { createLogger } from '../src/log.js';
import { startBackend, track, waitFor } from './helpers/servers.js';

function capture() {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, logger: createLogger('warn', stream) };
}

it('retries a failing receiver and delivers on the third attempt', async () => {
  const bodies: string[] = [];
  const receiver = await track(
    startBackend((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.statusCode = bodies.length < 3 ? 503 : 204;
        res.end();
      });
    }),
  );
  const { lines, logger } = capture();
  const sender = await track(new WebhookSender([`${receiver.url}/hook`], logger, { backoffMs: 20 }));
  sender.send({ type: 'reverted', route: 'default' });
  await waitFor(() => bodies.length === 3, 5000, 'three attempts');
  await sender.close();
  expect(bodies.map((b) => JSON.parse(b))).toEqual(Array(3).fill({ type: 'reverted', route: 'default' }));
  expect(lines).toEqual([]); // delivered in the end: nothing to warn about
});

it('gives up after 3 attempts and says so; a 4xx is not retried', async () => {
  let hits = 0;
  const broken = await track(
    startBackend((_req, res) => {
      hits++;
      res.statusCode = 500;
      res.end();
    }),
  );
  let rejected = 0;
  const picky = await track(
    startBackend((_req, res) => {
      rejected++;
      res.statusCode = 400;
      res.end();
    }),
  );
  const { lines, logger } = capture();
  const sender = await track(new WebhookSender([broken.url, picky.url], logger, { backoffMs: 10 }));
  sender.send({ type: 'breach-detected' });
  await sender.close(5000);
  expect(hits).toBe(3);
  expect(rejected).toBe(1);
  expect(lines.map((l) => l.error).sort()).toEqual(['HTTP 400', 'HTTP 500']);
});

it('a receiver that never answers is cut at the timeout and never blocks send()', async () => {
  const silent = await track(startBackend(() => {}));
  const { lines, logger } = capture();
  const sender = await track(new WebhookSender([silent.url], logger, { timeoutMs: 200, attempts: 2, backoffMs: 10 }));
  // send() is synchronous and only queues: it returns before any delivery has even failed.
  for (let i = 0; i < 100; i++) expect(sender.send({ type: 'insufficient-data-began', i })).toBeUndefined();
  expect(lines).toEqual([]);
  await waitFor(() => lines.length === 100, 5000, 'every delivery to give up');
  expect(lines[0].error).toBe('no answer within 200 ms');
  await sender.close();
});
