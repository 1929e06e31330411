// Admin endpoints of parity (the shadow tap's comparisons): the figures per route, a reset, and
// the shadow's share at run time. Thin: they read and reset parity/store.ts, and change the share
// through control/. Behind the same token as the rest of the API.
import type { FastifyInstance } from 'fastify';
import { CutoverError } from '../errors.js';
import { topPaths, type ParitySnapshot } from '../parity/figures.js';
import { toJsonLines } from '../parity/cases.js';
import type { AdminDeps, ParityPort } from './deps.js';
import { answer, percentSchema, reasonSchema, routeSchema, sourceOf } from './reply.js';


/** One route's figures as the API shows them: the path tables as [{ path, count }], most frequent first. */
function shown(s: ParitySnapshot) {
  return { ...s, differences: topPaths(s.differences, 100), noise: topPaths(s.noise, 100) };
}

export function registerParityRoutes(app: FastifyInstance, parity: ParityPort | undefined): void {
  if (!parity) return;
  app.get('/api/v1/parity', async () => ({
    routes: Object.fromEntries(Object.entries(await parity.snapshot()).map(([name, s]) => [name, shown(s)])),
  }));
  registerCasesRoute(app, parity);
  app.post('/api/v1/parity/reset', async () => {
    return { reset: true, routes: await parity.reset() };
  });
}

/** GET /api/v1/parity/cases: the last sampled requests as a cases file for `cutover parity --cases`. */
function registerCasesRoute(app: FastifyInstance, parity: ParityPort): void {
  const cases = parity.cases?.bind(parity);
  if (!cases) return;
  const query = {
    type: 'object',
    description: '?route=NAME (every route when absent) and ?limit=1..50',
    additionalProperties: false,
    properties: { route: routeSchema, limit: { type: 'string', pattern: '^([1-9]|[1-4][0-9]|50)$', description: 'a whole number from 1 to 50' } },
  };
  app.get('/api/v1/parity/cases', { schema: { querystring: query } }, async (req, reply) => {
    const q = req.query as { route?: string; limit?: string };
    const lines = await cases(q.route, q.limit === undefined ? undefined : Number(q.limit));
    if (lines === undefined) throw new CutoverError('unknown_route', `no route with a shadow named "${q.route}"; routes with one: ${Object.keys(await parity.snapshot()).join(', ') || 'none'}`);
    reply.header('content-type', 'application/x-ndjson; charset=utf-8');
    return toJsonLines(lines);
  });
}

/** The shadow's share of every route that shadows, now. */
function shares(deps: Pick<AdminDeps, 'control' | 'routeConfigs'>): Record<string, number> {
  return Object.fromEntries(deps.routeConfigs().flatMap((r) => (r.shadow ? [[r.name, deps.control.shadowPercent(r.name) ?? 0]] : [])));
}

/** PUT /api/v1/shadow: a route's shadow share at run time, persisted like the split. */
export function registerShadowRoutes(app: FastifyInstance, deps: Pick<AdminDeps, 'control' | 'routeConfigs'>): void {
  const { control } = deps;
  app.get('/api/v1/shadow', async () => ({ routes: shares(deps) }));
  app.put(
    '/api/v1/shadow',
    {
      schema: {
        body: {
          type: 'object',
          description: '{"route": "name of a route with a shadow", "percent": 0..100, "reason"?: "text"}',
          required: ['route', 'percent'],
          additionalProperties: false,
          properties: { route: routeSchema, percent: percentSchema, reason: reasonSchema },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as { route: string; percent: number; reason?: string };
      const cfg = deps.routeConfigs().find((r) => r.name === b.route);
      if (!cfg) throw new CutoverError('unknown_route', `no route named "${b.route}"; routes are: ${control.routes().join(', ')}`);
      if (!cfg.shadow) throw new CutoverError('no_shadow', `route "${b.route}" has no shadow; add routes[].shadow to its config (routes with one: ${Object.keys(shares(deps)).join(', ') || 'none'})`);
      const { changes, saved } = control.setShadow(b.percent, { route: b.route, source: sourceOf(req), reason: b.reason });
      return answer(reply, control, saved, () => ({ changes, routes: shares(deps) }));
    },
  );
}
