// `npm start` where Electron cannot run (as on this machine: no binary, no
// display): it must fall back to the browser transport, say why, and print a
// working URL. Runs the real script (building out/ first if it is stale).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'netlab-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function status(url: string): Promise<number> {
  return new Promise((resolveStatus, rejectStatus) => {
    const req = request(url, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('error', rejectStatus);
    req.end();
  });
}

function runStart(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<{ match: RegExpExecArray; stop: () => Promise<number | null>; output: () => string }> {
  const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs'), ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolveRun, rejectRun) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectRun(new Error(`no match for ${pattern} within 90 s:\n${out}`));
    }, 90_000);
    const check = () => {
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveRun({
          match: m,
          output: () => out,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      if (!pattern.exec(out)) rejectRun(new Error(`start.mjs exited (${code}) before printing ${pattern}:\n${out}`));
    });
  });
}

describe('npm start', () => {
  it('falls back to the browser when Electron is not available, says why, and serves a working URL', async () => {
    const run = await runStart(
      ['--port', '0', '--data-dir', dataDir],
      { DISPLAY: ':99', NETLAB_ELECTRON_DOWNLOAD: '0' },
      /^(Electron binary not available: .+|Electron could not start: .+); serving the lab in your browser instead at (http:\/\/127\.0\.0\.1:(\d+)\/\?token=[A-Za-z0-9_-]{32})$/m,
    );
    const url = run.match[2];
    expect(run.match[1]).toMatch(/download is disabled|could not start/);
    expect(await status(url)).toBe(302);
    expect(await status(url.replace(/token=.*/, 'token=wrong'))).toBe(401);
    expect(await run.stop()).toBe(0);
    // The server went away with it.
    await expect(status(url)).rejects.toThrow();
  }, 120_000);

  it('serves in the browser on request (--browser)', async () => {
    const run = await runStart(['--browser', '--no-build', '--port', '0', '--data-dir', dataDir], {}, /^Serving the lab in your browser at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m);
    expect(await status(run.match[1])).toBe(302);
    expect(await run.stop()).toBe(0);
  }, 120_000);
});
