// felix's raw, mangle and nat chains are part of the rule set the walk
// evaluates on Calico nodes: the workload mark and the strict reverse-path
// check run in PREROUTING before kube-proxy's nat rules (a spoofed workload
// source is dropped there, as on a real node), and natOutgoing is felix's
// cali-POSTROUTING → cali-nat-outgoing rule matching the IP-pool sets.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routeLookup } from '../cni';
import type { Packet } from '../dataplane';
import { runHookCompiled, trace, traceContext } from './index';
import { loadText } from './testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');

describe("felix's raw/mangle/nat chains in the walk (Calico)", () => {
  const t = loadText(SEED);
  const ctx = traceContext(t);
  const podA = t.pods.find((p) => p.name === 'pod-a')!;
  const veth = ctx.podDp(podA).hostPeer;
  const node = ctx.nodeDp('node-1');
  const reversePath = (src: string, iface: string | undefined, o: { loose: boolean; mark: number }) => {
    const r = routeLookup(node, src, { mark: o.mark });
    return r.verdict === 'forward' && (o.loose || r.dev === iface);
  };
  const run = (src: string) => {
    const p: Packet = { family: 4, proto: 'tcp', src, dst: '10.96.5.20', sport: 40000, dport: 80, mark: 0, ctstate: 'NEW', inIface: veth };
    return runHookCompiled(ctx.netfilterFor('node-1', 4).compiled, 'PREROUTING', p, { isLocal: ctx.isLocalFn('node-1'), reversePath });
  };

  it("pod A's own address passes the reverse-path check and reaches kube-proxy's DNAT", () => {
    const r = run(podA.ips[0]);
    expect(r.verdict).toBe('ACCEPT');
    expect(r.packet.dst).not.toBe('10.96.5.20');
    expect(r.packet.mark & 0x40000).toBe(0x40000);
  });

  it("a spoofed source (another node's pod) on pod A's veth is dropped in raw cali-PREROUTING", () => {
    const r = run('10.244.2.8');
    expect(r.verdict).toBe('DROP');
    const last = r.steps.filter((s) => s.event === 'match').pop()!;
    expect(last.table).toBe('raw');
    expect(last.text).toBe('-A cali-PREROUTING -m comment --comment "cali:fSSbGND7dgyemWU7" -m mark --mark 0x40000/0x40000 -m rpfilter --validmark --invert -j DROP');
  });

  it('the walk says the check ran and passed; Flannel nodes have no felix chains', () => {
    const w = trace(t, 'default/pod-a', 'tcp://10.244.2.8:8080');
    const pre = w.events.find((e) => e.kind === 'netfilter' && e.hook === 'PREROUTING' && e.at.node === 'node-1')!;
    expect(pre.detail).toContain(`the route back to ${podA.ips[0]} leaves through ${veth}`);
    const fl = trace(loadText(SEED.replace('cni: calico-bgp', 'cni: flannel-vxlan')), 'default/pod-a', 'tcp://10.244.2.8:8080');
    expect(fl.events.some((e) => e.rules?.some((l) => l.includes('cali-')))).toBe(false);
  });

  it("pod → outside the cluster: POSTROUTING runs cali-POSTROUTING first and its cali-nat-outgoing MASQUERADE ends the nat table (KUBE-POSTROUTING is not reached)", () => {
    const w = trace(t, 'default/pod-a', 'tcp://203.0.113.10:443');
    const post = w.events.find((e) => e.kind === 'netfilter' && e.hook === 'POSTROUTING' && e.phase === 'request')!;
    expect(post.action).toBe('POSTROUTING: mangle/nat (cali-POSTROUTING)');
    expect(post.rules!.filter((l) => l.startsWith('-A POSTROUTING ') || l.startsWith('-A cali-nat-outgoing '))).toEqual([
      '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
      '-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
      '-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully',
    ]);
    expect(post.rules!.some((l) => l.includes('KUBE-POSTROUTING'))).toBe(false);
    const snat = w.events.find((e) => e.kind === 'snat')!;
    expect(snat.action).toMatch(/^natOutgoing: 10\.244\.1\.5:\d+ → 10\.0\.1\.5:\d+$/);
  });

  it('pod → pod (inside the pools): no masquerade, and the nat walk goes on to KUBE-POSTROUTING', () => {
    const w = trace(t, 'default/pod-a', 'tcp://10.244.2.8:8080');
    expect(w.events.some((e) => e.kind === 'snat')).toBe(false);
    const post = w.events.find((e) => e.kind === 'netfilter' && e.hook === 'POSTROUTING' && e.at.node === 'node-1')!;
    expect(post.action).toBe('POSTROUTING: mangle/nat (cali-POSTROUTING, KUBE-POSTROUTING)');
  });
});
