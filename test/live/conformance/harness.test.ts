// The conformance harness itself: namespaces it creates are deleted, and
// leftovers of a dead run (namespace, /etc/netns dir, processes inside,
// IPAM temp dir) are swept, while those of live runs are kept.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Netns, destroyAll, liveDescribe, run, sweepLeftovers, waitFor } from './harness';

const netnsExists = (name: string): boolean => existsSync(`/var/run/netns/${name}`);

liveDescribe('conformance harness: namespace lifecycle and the leftover sweep', ['ip', 'sleep'], () => {
  afterAll(() => destroyAll());

  it('creates nlconf-<pid>-<tag> namespaces and deletes them with their processes', async () => {
    const ns = Netns.create('hx-life');
    expect(ns.name).toBe(`nlconf-${process.pid}-hx-life`);
    expect(netnsExists(ns.name)).toBe(true);
    const p = ns.spawn(['sleep', '60']);
    expect(p.pid).toBeGreaterThan(0);
    const exited = new Promise<string | null>((r) => p.once('exit', (_c, sig) => r(sig)));
    ns.destroy();
    expect(netnsExists(ns.name)).toBe(false);
    expect(await exited).toBe('SIGKILL');
  });

  it("sweeps a dead run's namespace, /etc/netns dir, processes and IPAM dir, and keeps a live run's", async () => {
    // A pid that certainly belonged to a process that has exited.
    const dead = spawnSync('true').pid;
    const stale = `nlconf-${dead}-hx-stale`;
    const live = `nlconf-${process.ppid}-hx-live`;
    run(['ip', 'netns', 'add', stale]);
    run(['ip', 'netns', 'add', live]);
    try {
      mkdirSync(`/etc/netns/${stale}`, { recursive: true });
      writeFileSync(`/etc/netns/${stale}/resolv.conf`, 'nameserver 192.0.2.1\n');
      const ipam = join(tmpdir(), `nlconf-${dead}-ipam-x`);
      mkdirSync(ipam, { recursive: true });
      const orphan = spawn('ip', ['netns', 'exec', stale, 'sleep', '60'], { stdio: 'ignore' });
      const orphanExit = new Promise<string | null>((r) => orphan.once('exit', (_c, sig) => r(sig)));
      await waitFor(() => run(['ip', 'netns', 'pids', stale]).trim() !== '', 'the process inside the stale namespace');
      // (Another conformance file's sweep, running in parallel, may get there first: check effects, not who.)
      sweepLeftovers();
      expect(await orphanExit).toBe('SIGKILL');
      expect(netnsExists(stale)).toBe(false);
      expect(existsSync(`/etc/netns/${stale}`)).toBe(false);
      expect(existsSync(ipam)).toBe(false);
      expect(netnsExists(live)).toBe(true);
    } finally {
      run(['ip', 'netns', 'del', live], { allowFail: true });
      run(['ip', 'netns', 'del', stale], { allowFail: true });
    }
  });
});
