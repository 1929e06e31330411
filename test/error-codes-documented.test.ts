// One table of error codes: every code has one status, is snake_case, and the README's admin API
// section lists it under that status; and the codes the source answers with are all in the table.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ERRORS } from '../src/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

it('lists every code under its status in the README, in snake_case', () => {
  const section = readme.slice(readme.indexOf('### Error codes'));
  for (const [code, { status }] of Object.entries(ERRORS)) {
    expect(code).toMatch(/^[a-z]+(_[a-z0-9]+)*$/);
    const row = section.split('\n').find((l) => l.startsWith(`| ${status} |`));
    expect(row, `README row for ${status}`).toBeDefined();
    expect(row).toContain(`\`${code}\``);
  }
});

it('finds no code in the source that the table lacks', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(new URL('../src', import.meta.url).pathname);
  const used = new Set<string>();
  for (const f of files) {
    const s = readFileSync(f, 'utf8');
    for (const m of s.matchAll(/new CutoverError\(\s*'([^']+)'/g)) used.add(m[1]);
    for (const m of s.matchAll(/\{ error: \{ code: '([^']+)'/g)) used.add(m[1]);
  }
  for (const code of used) expect(Object.keys(ERRORS), code).toContain(code);
});
