// cutover as a child process (node dist/cli.js), for what only a separate process shows:
// exit codes, signals, memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Write a config object as YAML into a fresh temp dir; returns the file path. */
export function writeConfig(config: unknown, dir = mkdtempSync(join(tmpdir(), 'cutover-test-'))): string {
  const file = join(dir, 'cutover.yaml');
  writeFileSync(file, typeof config === 'string' ? config : stringify(config));
  return file;
}

export interface ProxyProcess {
  child: ChildProcess;
  url: string;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  /** Resident set size and its peak, from /proc (kB). */
  memory(): { rssKb: number; peakKb: number };
  /** The admin listener's URL, once it is listening. */
  adminUrl(): Promise<string>;
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Start `cutover start --config FILE` and wait until the proxy listens. */
export async function startProxyProcess(configFile: string, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--config', configFile, ...extraArgs], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // never leave a half-started process behind the failed test
      reject(new Error(`cutover did not start in time\n${stderr}\n${lines.join('\n')}`));
    }, 15_000);
    child.stdout!.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (line.includes('"proxy listening"')) {
          clearTimeout(timer);
          resolve(JSON.parse(line).address);
        }
      }
    });
    exited.then((code) => reject(new Error(`cutover exited with ${code} before listening\n${stderr}`)));
  });
  return {
    child,
    url,
    lines,
    exited,
    async adminUrl() {
      const until = Date.now() + 10_000;
      for (;;) {
        const line = lines.find((l) => l.includes('"admin listening"'));
        if (line) return JSON.parse(line).address as string;
        if (Date.now() > until) throw new Error('the admin listener did not start');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
      return { rssKb: kb('VmRSS'), peakKb: kb('VmHWM') };
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
