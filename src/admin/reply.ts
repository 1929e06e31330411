// What every admin route shares: the answer to a change once it is saved (or why not), where a
// change came from, and the schemas of the common fields.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Control, Saved, Source } from '../control/control.js';

export const percentSchema = { type: 'number', minimum: 0, maximum: 100, description: 'a number from 0 to 100' };
export const reasonSchema = { type: 'string', maxLength: 500, description: 'a short text saying why (at most 500 characters)' };
export const routeSchema = { type: 'string', minLength: 1, description: 'the name of a configured route' };

export const optionalReason = {
type: 'object',
  description: '{"reason"?: "text", "route"?: "name"} or no body',
  additionalProperties: false,
  properties: { reason: reasonSchema, route: routeSchema },
};

export const sourceOf = (req: FastifyRequest): Source => {
  const s = req.headers['x-cutover-source'];
  return s === 'cli' || s === 'dashboard' ? s : 'api';
};

/**
 * Answer a change once its write settled. On disk: 200, "persisted": true. No state file
 * configured: 200, "persisted": false. In effect but not saved (a move toward legacy while the
 * file cannot be written): 202, "persisted": false and "stateError" saying why; it is saved when
 * the file can be written again. A move away from legacy that cannot be saved is undone and
 * `saved` rejects with StoreUnavailableError, which the error handler answers 503.
 * The body is built after the write, so it shows the state after any undo.
 */
export async function answer<B extends object>(reply: FastifyReply, control: Control, saved: Promise<Saved>, body: () => B) {
  const s = await saved;
  if (s.persisted) return { ...body(), persisted: true };
  if (control.persistence().store === null) return { ...body(), persisted: false };
  reply.code(202);
  return { ...body(), persisted: false, stateError: s.reason };
}

export function splits(control: Control): Record<string, number> {
  return Object.fromEntries(control.routes().map((r) => [r, control.percent(r) ?? 0]));
}

