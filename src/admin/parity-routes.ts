// Admin endpoints of parity (the shadow tap's comparisons): the figures per route, and a reset.
// Thin: they read and reset parity/store.ts. Behind the same token as the rest of the API.
import type { FastifyInstance } from 'fastify';
import { topPaths, type ParitySnapshot } from '../parity/figures.js';

/** What the routes read and reset: one process's ParityStore, or every worker's through the primary. */
export interface ParityPort {
  snapshot(): Record<string, ParitySnapshot> | Promise<Record<string, ParitySnapshot>>;
  /** Every route's figures back to zero (copies in flight still finish); the routes reset. */
  reset(): string[] | Promise<string[]>;
}

/** One route's figures as the API shows them: the path tables as [{ path, count }], most frequent first. */
function shown(s: ParitySnapshot) {
  return { ...s, differences: topPaths(s.differences, 100), noise: topPaths(s.noise, 100) };
}

export function registerParityRoutes(app: FastifyInstance, parity: ParityPort | undefined): void {
  if (!parity) return;
  app.get('/api/v1/parity', async () => ({
    routes: Object.fromEntries(Object.entries(await parity.snapshot()).map(([name, s]) => [name, shown(s)])),
  }));
  app.post('/api/v1/parity/reset', async () => {
    return { reset: true, routes: await parity.reset() };
  });
}
