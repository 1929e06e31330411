// Starts bench/backend.mjs as a child process on the load core and reads its request count.
import { fileURLToPath } from 'node:url';
import { addressFromLogLine, get, post } from './http.mjs';
import { pinned } from './pin.mjs';

const BACKEND_SCRIPT = fileURLToPath(new URL('../backend.mjs', import.meta.url));

/** Start one backend named `name` (on `host`, and on each of `alsoHosts` at the same port); resolves { name, url, pid, proc }. */
export async function startBackend(ctx, name, { bytes = 100, host, alsoHosts = [] } = {}) {
  const where = [...(host ? ['--host', host] : []), ...(alsoHosts.length > 0 ? ['--also-hosts', alsoHosts.join(',')] : [])];
  const [cmd, args] = pinned(ctx.pins, 'load', process.execPath, [BACKEND_SCRIPT, '--name', name, '--bytes', String(bytes), ...where]);
  const proc = await ctx.procs.start({ name: `backend ${name}`, cmd, args, ready: (line) => addressFromLogLine(line, 'backend listening') });
  return { name, url: proc.readyValue, pid: proc.pid, proc };
}

/** How many requests (other than its control requests) the backend has served since it started. */
export async function servedCount(backend) {
  return (await backendCounts(backend)).served;
}

/** The backend's whole record: { served, fault, failed, firstFailureAt, lastRequestAt } (times: wall-clock ms or null). */
export async function backendCounts(backend) {
  const res = await get(`${backend.url}/__count`);
  if (res.status !== 200) throw new Error(`backend ${backend.name}: /__count answered ${res.status}`);
  return JSON.parse(res.body);
}

/** Make the backend fail every request with a 500 ('errors') or answer normally again ('none'). */
export async function setFault(backend, fault) {
  const res = await post(`${backend.url}/__fault`, fault);
  if (res.status !== 200) throw new Error(`backend ${backend.name}: POST /__fault ${fault} answered ${res.status}: ${res.body}`);
}
