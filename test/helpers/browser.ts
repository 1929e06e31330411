// A real browser for the dashboard's tests: Debian's chromium driven by playwright-core, headless,
// with a fresh profile per launch, closed (and its process ended by PID) when the test ends.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFinished } from 'vitest';

export const CHROMIUM = process.env.CUTOVER_CHROMIUM ?? '/usr/bin/chromium';

/** Whether chromium is installed; says so loudly when not, and throws in CI (CUTOVER_REQUIRE_TOOLS=1). */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `chromium is not installed at ${CHROMIUM}: the dashboard's browser tests need the Debian package "chromium" (apt-get install chromium; .ci/run installs it)`;
  if (process.env.CUTOVER_REQUIRE_TOOLS === '1') throw new Error(message);
  console.warn(`\n\n*** SKIPPING DASHBOARD BROWSER TEST: ${message} ***\n\n`);
  return false;
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  browser: Browser;
  /** A new page (its own context: its own sessionStorage); console and page errors go to `errors`. */
  page(opts?: { width?: number; height?: number }): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/**
 * Start chromium ourselves (so its PID is ours to end), on a fresh profile, and attach to it over
 * the DevTools protocol on a loopback port it picks. Closed when the current test ends.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'cutover-chromium-'));
  const child = spawn(CHROMIUM, [...ARGS, `--user-data-dir=${profile}`, '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${text}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited (${code}): ${text}`));
    });
  });
  child.stderr.resume();
  const browser = await chromium.connectOverCDP(endpoint);
  const b: TestBrowser = {
    browser,
    async page(opts = {}) {
      const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      return { page, errors };
    },
    async close() {
      // Every step is bounded: a browser that hangs on the way out must not hold the test.
      const within = (ms: number, p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, ms).unref())]);
      await within(3000, browser.close().catch(() => undefined));
      // The whole process group is ours (spawned detached): the main process and its helpers.
      const kill = (sig: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, sig);
        } catch {
          // already gone
        }
      };
      if (child.exitCode === null) kill('SIGTERM');
      await within(3000, exited);
      if (child.exitCode === null && child.signalCode === null) kill('SIGKILL');
      await within(2000, exited);
      // Chromium's helper processes may still be writing their last files as the main one exits:
      // retry briefly, then leave the temporary profile to the OS rather than fail the test.
      try {
        rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch (err) {
        console.warn(`could not remove the chromium profile ${profile}: ${(err as Error).message}`);
      }
    },
  };
  onTestFinished(() => b.close(), 20_000);
  return b;
}
