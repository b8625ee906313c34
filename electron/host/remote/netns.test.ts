// ip netns exec against a real, empty network namespace (root): read-only
// commands run, writes are refused, timeouts kill the command, output is
// capped, cancel works, a missing namespace is named.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRejected } from './command-line';
import { NetnsRunner } from './netns';

// Not the test-bed's nl- prefix: its `down` sweeps nl-* namespaces.
const NS = `nlrt-${process.pid}`;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('these tests need root (ip netns add): run them as root, as CI does');
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
});
afterAll(() => {
  try {
    execFileSync('ip', ['netns', 'del', NS]);
  } catch {
    /* already gone */
  }
});

describe('NetnsRunner (real namespace)', () => {
  it('runs read-only commands inside the namespace', async () => {
    const r = new NetnsRunner(NS);
    const addr = await r.run('ip -j addr');
    expect(addr.code).toBe(0);
    const links = (JSON.parse(addr.stdout) as { ifname: string }[]).map((l) => l.ifname);
    expect(links).toEqual(['lo']);
    expect(addr.command).toBe(`ip netns exec ${NS} ip -j addr`);
    const routes = await r.run(['ip', '-j', 'route']);
    expect(JSON.parse(routes.stdout)).toEqual([]);
  });

  it('refuses writes unless confirmed', async () => {
    const r = new NetnsRunner(NS);
    await expect(r.run('ip addr add 192.0.2.1/32 dev lo')).rejects.toBeInstanceOf(CommandRejected);
    expect(execFileSync('ip', ['-n', NS, 'addr', 'show', 'lo']).toString()).not.toContain('192.0.2.1');
    const w = await r.run('ip addr add 192.0.2.1/32 dev lo', { allowWrite: true });
    expect(w.code).toBe(0);
    expect(execFileSync('ip', ['-n', NS, 'addr', 'show', 'lo']).toString()).toContain('192.0.2.1');
  });

  it('kills the command (and its children) at the timeout', async () => {
    const r = new NetnsRunner(NS);
    const t0 = Date.now();
    await expect(r.run("timeout 30 tcpdump -n -c 1 -i lo 'udp port 7'", { timeoutMs: 500 })).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(3000);
    await new Promise((res) => setTimeout(res, 200));
    const ps = execFileSync('ps', ['-eo', 'args']).toString();
    expect(ps.split('\n').filter((l) => l.startsWith('tcpdump -n -c 1 -i lo udp port 7'))).toEqual([]);
  });

  it('caps output and cancels', async () => {
    const r = new NetnsRunner(NS);
    const err = await r.run('ip -j -d -s -s link', { maxBytes: 20 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'output-limit' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    await expect(r.run("timeout 30 tcpdump -n -c 1 -i lo 'udp port 7'", { signal: ac.signal })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('reports streaming output as it arrives', async () => {
    const r = new NetnsRunner(NS);
    const seen: string[] = [];
    await r.run("timeout 1 tcpdump -n -c 1 -i lo 'udp port 7'", { onOutput: (s, c) => seen.push(`${s}:${c}`) });
    expect(seen.join('')).toContain('listening on lo');
  });

  it('names a missing namespace', async () => {
    await expect(new NetnsRunner('nlrt-missing-xyz').run('ip route')).rejects.toMatchObject({ code: 'netns-missing', hint: expect.stringMatching(/testbed up/) });
  });
});
