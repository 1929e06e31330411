// The CLI's side of the admin API: where it is (--admin, --config FILE, CUTOVER_ADMIN_URL), one
// request, the API's own error message on failure.
import { pathFromConfig, readTokenFile } from '../config/secrets.js';
import { loadConfigFile } from '../config/load.js';
import { CutoverError, type ErrorCode } from '../errors.js';

export interface AdminTarget {
  url: string;
  token: string | undefined;
}

/**
 * The admin API to talk to: --admin URL, else the admin listener of --config FILE (host, port and
 * token file, so `cutover status --config my.yaml` works after `cutover start --config my.yaml`),
 * else CUTOVER_ADMIN_URL, else http://127.0.0.1:9901. The token: CUTOVER_ADMIN_TOKEN, else the
 * config's admin.tokenFile.
 */
export function adminTarget(opts: { admin?: string; config?: string } | string | undefined): AdminTarget {
  const o = typeof opts === 'object' ? opts : { admin: opts };
  const envToken = process.env.CUTOVER_ADMIN_TOKEN?.trim() ?? '';
  let url = o.admin;
  let token = envToken === '' ? undefined : envToken;
  if (o.config !== undefined) {
    const { config, file } = loadConfigFile(o.config);
    if (!config.admin.enabled) throw new CutoverError('admin_disabled', `${file}: admin.enabled is false, there is no admin API to talk to`);
    if (url === undefined) {
      if (config.admin.port === 0) throw new CutoverError('admin_port_unknown', `${file}: admin.port is 0 (any free port); give the address with --admin URL`);
      const host = ['0.0.0.0', '::', ''].includes(config.admin.host) ? '127.0.0.1' : config.admin.host;
      url = `http://${host.includes(':') ? `[${host}]` : host}:${config.admin.port}`;
    }
    if (token === undefined && config.admin.tokenFile !== undefined) {
      token = readTokenFile(pathFromConfig(file, config.admin.tokenFile), 'admin.tokenFile');
    }
  }
  return { url: (url ?? process.env.CUTOVER_ADMIN_URL ?? 'http://127.0.0.1:9901').replace(/\/+$/, ''), token };
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
    throw new CutoverError('admin_unreachable', `cannot reach the admin API at ${target.url} (${cause}); is cutover running? (--admin URL, --config FILE or CUTOVER_ADMIN_URL)`);
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
    throw new CutoverError((e?.code ?? 'internal_error') as ErrorCode, e?.message ?? `${res.status} ${res.statusText}: ${text.slice(0, 200)}`, res.status);
  }
  return json as T;
}
