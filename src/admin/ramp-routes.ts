// Admin endpoints of the ramp and the scorecard. Thin: the ramp runner turns a command into a
// transition (ramp/policy.ts) and control/ applies and persists it; the answer waits for the write.
import type { FastifyInstance } from 'fastify';
import type { RampCommand } from '../ramp/policy.js';
import { answer, sourceOf } from './reply.js';
import type { AdminDeps } from './deps.js';

const COMMANDS: Record<string, RampCommand> = { start: 'start', pause: 'pause', resume: 'resume', promote: 'promote', abort: 'abort' };

export function registerRampRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { ramp, control } = deps;
  if (ramp) {
    app.get('/api/v1/ramp', async () => ramp.status());
    for (const [path, cmd] of Object.entries(COMMANDS)) {
      app.post(
        `/api/v1/ramp/${path}`,
        {
          schema: {
            body: {
              type: 'object',
              description: `{"route"?: "name" (every route with a ramp when absent), "reason"?: "text"${cmd === 'promote' ? ', "full"?: true (100 % now, also while paused), "fromStep"?: the step it promotes from' : ''}} or no body`,
              additionalProperties: false,
              properties: {
                route: { type: 'string', minLength: 1, description: 'the name of a route with a ramp' },
                reason: { type: 'string', maxLength: 500, description: 'a short text saying why (at most 500 characters)' },
                ...(cmd === 'promote'
                  ? {
                      full: { type: 'boolean', description: 'true or false' },
                      fromStep: { type: 'integer', minimum: 1, description: 'the step (1-based) to promote from: a repeat of the call, made once the ramp moved on, changes nothing' },
                    }
                  : {}),
              },
            },
          },
        },
        async (req, reply) => {
          const b = (req.body ?? {}) as { route?: string; reason?: string; full?: boolean; fromStep?: number };
          const which: RampCommand = cmd === 'promote' && b.full === true ? 'promote-full' : cmd;
          const { changes, saved } = ramp.command(which, { route: b.route, reason: b.reason, source: sourceOf(req), fromStep: b.fromStep });
          return answer(reply, control, saved, () => ({ changes, ...ramp.status() }));
        },
      );
    }
  }
  if (deps.report) {
    const report = deps.report;
    app.get('/api/v1/report', async () => report());
  }
}
