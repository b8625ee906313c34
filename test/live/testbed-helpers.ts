// Shared by the live suites that build the test-bed (its names are fixed, so
// only one can be up at a time).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { loadState } from '../../electron/host/testbed';

/** Waits while another process has a test-bed up or is building one. */
export async function waitForFreeTestbed(maxMs = 180_000): Promise<void> {
  const until = Date.now() + maxMs;
  for (;;) {
    const s = loadState();
    const busy = s && s.builderPid !== process.pid && (s.phase === 'up' || s.phase === 'building');
    if (!busy) return;
    if (Date.now() > until) throw new Error(`another test-bed (${s.topology}, ${s.mode}, phase ${s.phase}) stayed up for ${maxMs / 1000} s; run netlab testbed down`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Runs `netlab testbed up ARGS…` and kills it with SIGKILL when it reaches
 * step 8 of 11 (the servers: BIRD and dnsmasq already run, namespaces exist).
 * Resolves once the process is gone; returns what it printed.
 */
export async function upKilledMidBuild(netlab: string, cwd: string, args: string[] = []): Promise<string> {
  const child = spawn(process.execPath, [netlab, 'testbed', 'up', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`up never reached step 8: ${out}`)), 60_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('[8/11]')) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        res();
      }
    });
  });
  await new Promise((r) => child.on('close', r));
  return out;
}

/** The root namespace's routes and addresses (both families), to compare before and after a test-bed run. */
export function rootText(): { route: string; route6: string; addr: string; addr6: string } {
  return {
    route: execFileSync('ip', ['route', 'show', 'table', 'all']).toString(),
    route6: execFileSync('ip', ['-6', 'route', 'show', 'table', 'all']).toString(),
    addr: execFileSync('ip', ['addr']).toString(),
    addr6: execFileSync('ip', ['-6', 'addr']).toString(),
  };
}

/** Everything with the test-bed's prefix that could remain: namespaces, processes, files. */
export function leftovers(): string[] {
  const out: string[] = [];
  for (const l of execFileSync('ip', ['netns', 'list']).toString().split('\n')) if (l.startsWith('nl-')) out.push(`netns ${l}`);
  // every process of the test-bed names the prefix or /run/netlab on its command line
  for (const pattern of ['nl-', '/run/netlab']) {
    let pg = '';
    try {
      pg = execFileSync('pgrep', ['-af', pattern]).toString();
    } catch {
      /* pgrep exits 1 when nothing matches */
    }
    for (const l of pg.split('\n').filter(Boolean)) if (!l.startsWith(`${process.pid} `)) out.push(`process ${l}`);
  }
  if (existsSync('/run/netlab')) out.push('/run/netlab exists');
  if (existsSync('/etc/netns')) for (const f of readdirSync('/etc/netns')) if (f.startsWith('nl-')) out.push(`/etc/netns/${f}`);
  return out;
}
