// Shared by the live suites that build the test-bed (its names are fixed, so
// only one can be up at a time).

import { spawn } from 'node:child_process';
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
