// The CLI's side of the admin API: one request, the API's own error message on failure.
import { CutoverError } from '../errors.js';

export interface AdminTarget {
  url: string;
  token: string | undefined;
}

export function adminTarget(flag: string | undefined): AdminTarget {
  return {
    url: (flag ?? process.env.CUTOVER_ADMIN_URL ?? 'http://127.0.0.1:9901').replace(/\/+$/, ''),
    token: process.env.CUTOVER_ADMIN_TOKEN || undefined,
  };
}

export async function callAdmin<T = unknown>(target: AdminTarget, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { 'x-cutover-source': 'cli' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(target.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(3_700_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new CutoverError('admin_unreachable', 503, `cannot reach the admin API at ${target.url} (${cause}); is cutover running? (--admin URL or CUTOVER_ADMIN_URL)`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new CutoverError(e?.code ?? 'admin_error', res.status, e?.message ?? `${res.status} ${res.statusText}: ${text.slice(0, 200)}`);
  }
  return json as T;
}
