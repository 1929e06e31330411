// The captured cases of a route (parity/cases.ts), as a table: credentials and the route's redact
// list never leave in a case, binary bodies travel as base64, and what is kept is bounded.
import { expect, it } from 'vitest';
import { CASE_MAX_BODY_BYTES, CaseLog, toJsonLines } from '../src/parity/cases.js';
import { parseCases } from '../src/parity/replay.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

it.each([
  ['authorization and cookies always', [], { authorization: 'Bearer x', cookie: 'a=1', accept: 'text/html' }, null, { authorization: '[redacted]', cookie: '[redacted]', accept: 'text/html' }, undefined],
  ['a header on the redact list, whatever its case', ['X-Api-Key'], { 'x-api-key': 'k' }, null, { 'x-api-key': '[redacted]' }, undefined],
  ['hop-by-hop headers and host left out', [], { host: 'proxy:80', connection: 'keep-alive', 'transfer-encoding': 'chunked', 'x-ok': '1' }, null, { 'x-ok': '1' }, undefined],
  ['a JSON pointer with * in the body', ['/cards/*/number', '/user/email'], {}, json({ user: { email: 'a@b', id: 1 }, cards: [{ number: '4111' }, { number: '5500' }] }), {}, { user: { email: '[redacted]', id: 1 }, cards: [{ number: '[redacted]' }, { number: '[redacted]' }] }],
  ['a body that is not JSON, as it is', ['/x'], {}, Buffer.from('plain text'), {}, 'plain text'],
])('%s', (_name, redact, headers, body, wantHeaders, wantBody) => {
  const log = new CaseLog('r', redact as string[]);
  log.add('POST /x', 'POST', '/x?y=1', headers as Record<string, string>, body as Buffer | null);
  const [line] = log.lines();
  expect(line.headers).toEqual(wantHeaders);
  if (wantBody === undefined) expect(line.body).toBeUndefined();
  else expect(typeof wantBody === 'string' ? line.body : JSON.parse(line.body!)).toEqual(wantBody);
});

it('keeps binary bodies as base64, the last N cases, and no body over the limit; the result parses as a cases file', () => {
  const log = new CaseLog('r', [], 3);
  log.add('POST /b', 'POST', '/b', {}, Buffer.from([0xff, 0x00]));
  log.add('POST /big', 'POST', '/big', {}, Buffer.alloc(CASE_MAX_BODY_BYTES + 1));
  for (const n of [1, 2, 3]) log.add('GET /o/:id', 'GET', `/o/${n}`, {}, null);
  expect(log.lines().map((l) => l.path)).toEqual(['/o/1', '/o/2', '/o/3']);
  expect(log.lines(1).map((l) => l.name)).toEqual(['r #4: GET /o/:id']); // /b was #1; the body over the limit got no number

  const bin = new CaseLog('r');
  bin.add('POST /b', 'POST', '/b', {}, Buffer.from([0xff, 0x00]));
  const text = toJsonLines([...bin.lines(), ...log.lines()]);
  const parsed = parseCases(text, 'captured.jsonl');
  expect(parsed.map((c) => c.path)).toEqual(['/b', '/o/1', '/o/2', '/o/3']);
  expect(parsed[0].body).toEqual(Buffer.from([0xff, 0x00]));
});
