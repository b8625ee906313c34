// compareNode's pure helpers: which request the probe checks send.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology, type Topology } from '../../../core/model';
import { expectProbe, type ProbeSpec } from '../../../core/compare';
import { chooseProbe, compareNode } from './compare';
import type { NodeRunner, RunResult } from './types';

const SAMPLES = join(__dirname, '..', '..', '..', 'resources', 'samples');

function load(file: string, set: string[] = []): Topology {
  const r = loadTopology([{ file, text: readFileSync(join(SAMPLES, file), 'utf8') }], { set });
  if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.topology;
}

describe('chooseProbe', () => {
  it('IPv4-only topology: the first ClusterIP Service with a TCP port and endpoints, from a pod on the node that is not one of them', () => {
    expect(chooseProbe(load('seed.yaml'), 'node-1')).toEqual({ client: 'default/pod-a', host: 'backend.default.svc.cluster.local', port: 80 });
  });
  it('dual-stack: the first Service (web, A and AAAA) from a pod that is not one of its endpoints; the model then expects the request over IPv6', () => {
    const t = load('dual-stack.yaml', ['podIPOffset=2']);
    const choice = chooseProbe(t, 'node-1');
    expect(choice).toEqual({ client: 'kube-system/coredns-7df496f6c4-vfgjj', host: 'web.default.svc.cluster.local', port: 80 });
    const e = expectProbe(t, choice as ProbeSpec);
    expect([e.clientIP, e.clientIP6, e.target]).toEqual(['10.244.1.4', 'fd00:10:244:1::4', 'fd00:10:96::b']);
    const req = e.flows.find((f) => f.purpose === 'request')!;
    expect([req.src, req.dst]).toEqual(['fd00:10:244:1::4', 'fd00:10:96::b']);
    // the endpoint on node-2 is reached through vxlan-v6.calico, outer header between the nodes' IPv6 addresses
    const remote = req.alternatives.find((a) => a.endpointNode === 'node-2')!;
    expect(remote.egress).toMatchObject({ dev: 'vxlan-v6.calico', encapsulation: 'vxlan', outer: { src: 'fd00:10::1:5', dst: 'fd00:10::1:6', dport: 4789, vni: 4096 } });
    expect(e.notes.join(' ')).toMatch(/glibc sorts the IPv6 answer first, so the request goes to fd00:10:96::b/);
    // a name with an A record only stays IPv4; DNS goes to the IPv4 kube-dns address in every case
    const v4 = expectProbe(t, { client: 'kube-system/coredns-7df496f6c4-vfgjj', host: 'web-v4.default.svc.cluster.local', port: 80 });
    expect(v4.flows.find((f) => f.purpose === 'request')!.src).toBe('10.244.1.4');
    expect(v4.flows.filter((f) => f.purpose === 'dns').every((f) => f.dst === '10.96.0.10')).toBe(true);
  });
});

describe('compareNode: the ip rule check', () => {
  /** A node that answers `ip [-6] -j rule show` with the given text and records what was run. */
  function fakeNode(answers: Record<string, { stdout: string; code?: number; stderr?: string }>) {
    const ran: string[] = [];
    const runner: NodeRunner = {
      kind: 'ssh',
      target: 'ssh://root@127.0.0.1:2201',
      defaults: {},
      async run(cmd) {
        const line = typeof cmd === 'string' ? cmd : cmd.join(' ');
        ran.push(line);
        const a = answers[line] ?? { stdout: '', code: 1, stderr: `unexpected command ${line}` };
        return { stdout: a.stdout, stderr: a.stderr ?? '', code: a.code ?? 0, durationMs: 1, command: line, classification: { class: 'read', reason: 'test' } satisfies RunResult['classification'] };
      },
      async close() {},
    };
    return { runner, ran };
  }
  const CILIUM_V4 = '[{"priority":9,"src":"all","fwmark":"0x200","fwmask":"0xf00","table":"2004"},{"priority":100,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]\n';
  const CILIUM_V6 = '[{"priority":9,"src":"all","fwmark":"0x200","fwmask":"0xf00","table":"2004"},{"priority":100,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"}]\n';

  it('IPv4-only Cilium node with the agent\'s rules: runs ip -j rule show only, match, saves the raw output', async () => {
    const { runner, ran } = fakeNode({ 'ip -j rule show': { stdout: CILIUM_V4 } });
    const raw: string[] = [];
    const r = await compareNode({ topology: load('seed.yaml', ['cni=cilium-vxlan']), node: 'node-1', runner, checks: ['rules'], onRaw: (n) => raw.push(n) });
    expect(ran).toEqual(['ip -j rule show']);
    expect(raw).toEqual(['ip-j-rule.json']);
    expect(r.checks).toHaveLength(1);
    expect(r.checks[0]).toMatchObject({ check: 'rules', status: 'match', compared: 4 });
  });

  it('dual-stack: ip -6 -j rule show too; a node without Cilium\'s IPv6 rule 9 is reported', async () => {
    const kernel6 = '[{"priority":0,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"}]\n';
    const { runner, ran } = fakeNode({ 'ip -j rule show': { stdout: CILIUM_V4 }, 'ip -6 -j rule show': { stdout: kernel6 } });
    const r = await compareNode({ topology: load('dual-stack.yaml', ['podIPOffset=2', 'cni=cilium-native']), node: 'node-1', runner, checks: ['rules'] });
    expect(ran).toEqual(['ip -j rule show', 'ip -6 -j rule show']);
    const c = r.checks[0];
    expect(c.status).toBe('different');
    expect(c.items.map((i) => [i.kind, i.where, i.explained])).toEqual([
      ['missing', 'IPv6 rule 9', false],
      ['changed', 'IPv6 rule 100', true],
    ]);
    expect(c.summary).toMatch(/ip -6 rule/);
    // the same node with the IPv6 rules: match
    const ok = fakeNode({ 'ip -j rule show': { stdout: CILIUM_V4 }, 'ip -6 -j rule show': { stdout: CILIUM_V6 } });
    expect((await compareNode({ topology: load('dual-stack.yaml', ['podIPOffset=2', 'cni=cilium-native']), node: 'node-1', runner: ok.runner, checks: ['rules'] })).checks[0].status).toBe('match');
  });

  it('unreadable output and a failing command are unexplained, with the reason', async () => {
    const bad = fakeNode({ 'ip -j rule show': { stdout: '[{"priority":0,"src":"all","table":"local"},\n{"src":"all","table":"main"}]' } });
    const r = await compareNode({ topology: load('seed.yaml'), node: 'node-1', runner: bad.runner, checks: ['rules'] });
    expect(r.checks[0].status).toBe('different');
    expect(r.checks[0].items.some((i) => /could not be read completely/.test(i.explanation))).toBe(true);
    expect(r.checks[0].notes!.join(' ')).toMatch(/missing or invalid "priority"/);
    const fail = fakeNode({ 'ip -j rule show': { stdout: '', code: 255, stderr: 'Error: ...' } });
    const f = await compareNode({ topology: load('seed.yaml'), node: 'node-1', runner: fail.runner, checks: ['rules'] });
    expect(f.checks[0]).toMatchObject({ check: 'rules', status: 'different' });
    expect(f.checks[0].items[0].explanation).toMatch(/ip -j rule show exited with 255/);
  });
});
