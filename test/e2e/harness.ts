// A small e2e harness on playwright-core: tests register with `test()`,
// scripts/e2e.mjs runs them one after another against electron/serve.ts and
// Debian's Chromium, and prints `N passed, N failed`.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
export const CHROMIUM = process.env.NETLAB_CHROMIUM ?? '/usr/bin/chromium';

export interface E2eTest {
  name: string;
  fn: () => Promise<void>;
}

export const registry: E2eTest[] = [];

export function test(name: string, fn: () => Promise<void>): void {
  registry.push({ name, fn });
}

export class AssertionError extends Error {}

export function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new AssertionError(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

export function expectTrue(cond: unknown, what: string): void {
  if (!cond) throw new AssertionError(what);
}

export interface LabServerProcess {
  url: string;
  origin: string;
  token: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** A fresh data directory under the OS temp dir, removed by `cleanup`. */
export function tempDataDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `netlab-e2e-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Start `electron/serve.ts` on a random port and wait for the URL it prints.
 * `wrap` runs it under another program, e.g. `['unshare', '--user']` for a lab without root.
 */
export async function startServer(dataDir: string, timeoutMs = 30_000, opts: { wrap?: string[] } = {}): Promise<LabServerProcess> {
  const argv = [process.execPath, '--import', 'tsx', join(ROOT, 'electron', 'serve.ts'), '--port', '0', '--data-dir', dataDir];
  const [file, ...args] = [...(opts.wrap ?? []), ...argv];
  const child: ChildProcess = spawn(file, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NETLAB_PORT: '' },
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolveUrl, rejectUrl) => {
    const timer = setTimeout(() => rejectUrl(new Error(`serve.ts printed no URL within ${timeoutMs} ms.\nstdout: ${out}\nstderr: ${err}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^NETLAB_URL=(\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rejectUrl(new Error(`serve.ts exited with ${code} before printing its URL.\nstderr: ${err}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token') ?? '',
    dataDir,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

let browser: Browser | null = null;

export async function getBrowser(): Promise<Browser> {
  if (!browser) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }
  return browser;
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = null;
}

/** A new page that records console errors and uncaught exceptions (CSP violations show up there). */
export async function newPage(): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
  const context = await (await getBrowser()).newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { page, problems, close: () => context.close() };
}

export async function waitLoaded(page: Page, timeoutMs = 30_000): Promise<void> {
  await page.waitForSelector('body[data-app-state="loaded"]', { timeout: timeoutMs });
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}
