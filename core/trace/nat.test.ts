// Source NAT ports: kube-proxy's KUBE-POSTROUTING and the CNIs' natOutgoing
// masquerade with --random-fully, so the node replaces the pod's source port;
// the conntrack reply tuple must carry the new port (that is how the reply
// finds its way back), and the walk must say that a real node picks another.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randomNatPort } from '../dataplane';
import { buildCalicoDataplane } from '../policy';
import { trace, traceContext, walk } from './index';
import { loadText } from './testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');

describe('natOutgoing with --random-fully (Calico, seed topology)', () => {
  const t = loadText(SEED);

  it('pod → address outside the cluster: source 10.244.1.5:EPHEMERAL becomes 10.0.1.5:NEW, and conntrack replies go to NEW', () => {
    const r = trace(t, 'default/pod-a', 'tcp://203.0.113.10:443');
    const sock = r.events.find((e) => e.kind === 'socket')!;
    const ephemeral = sock.headers.tcp!.sport;
    const snat = r.events.find((e) => e.kind === 'snat')!;
    expect(snat.rule).toMatch(/cali-nat-outgoing .* -j MASQUERADE --random-fully$/);
    expect(snat.headers.ip.src).toBe('10.0.1.5');
    const port = snat.headers.tcp!.sport;
    expect(port).not.toBe(ephemeral);
    expect(port).toBeGreaterThanOrEqual(1024);
    expect(snat.changed).toEqual(expect.arrayContaining(['ip.src', 'tcp.sport']));
    expect(snat.action).toBe(`natOutgoing: 10.244.1.5:${ephemeral} → 10.0.1.5:${port}`);
    expect(snat.detail).toContain('--random-fully');
    expect(snat.detail).toContain('a real node picks another');
    const line = r.conntrack['node-1'].find((l) => l.includes('dst=203.0.113.10'))!;
    expect(line).toContain(`src=10.244.1.5 dst=203.0.113.10 sport=${ephemeral} dport=443 [UNREPLIED] src=203.0.113.10 dst=10.0.1.5 sport=443 dport=${port} `);
    // Repeatable: the same walk picks the same port.
    expect(trace(t, 'default/pod-a', 'tcp://203.0.113.10:443').events.find((e) => e.kind === 'snat')!.headers.tcp!.sport).toBe(port);
  });

  it('ping: the model keeps the ICMP echo identifier and says that a real node randomises it too', () => {
    const r = trace(t, 'default/pod-a', 'ping 203.0.113.10');
    const snat = r.events.find((e) => e.kind === 'snat')!;
    expect(snat.action).toBe('natOutgoing: 10.244.1.5 → 10.0.1.5');
    expect(snat.detail).toContain('ICMP echo identifier');
  });
});

describe("Calico natOutgoing follows felix's pool sets (cali-nat-outgoing from the policy model)", () => {
  const t = loadText(SEED);

  it('pod → another node\'s address: masqueraded (node addresses are in no IP pool), and the reply is un-SNATed', () => {
    const r = trace(t, 'default/pod-a', 'tcp://10.0.1.6:10250');
    expect(r.ok, r.dropped?.text).toBe(true);
    const snat = r.events.find((e) => e.kind === 'snat')!;
    expect(snat.rule).toBe('-A cali-nat-outgoing -m comment --comment "cali:flqWnvo8yq4ULQLa" -m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst -j MASQUERADE --random-fully');
    expect(snat.headers.ip.src).toBe('10.0.1.5');
    expect(snat.detail).toContain('10.244.1.5 is in a natOutgoing pool');
    expect(snat.detail).toContain("pod traffic to another node's address is masqueraded too");
    expect(r.events.some((e) => e.phase === 'reply' && e.action.startsWith('un-SNAT: 10.0.1.5:'))).toBe(true);
  });

  it('IPv6: the rule is the one ip6tables-save shows on the node (cali60 sets, its own hash), not the IPv4 line', () => {
    const ds = loadText(readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8'), ['podIPOffset=2']);
    const pod = ds.pods.find((p) => p.nodeName === 'node-1' && p.namespace === 'default')!;
    const snat = trace(ds, `default/${pod.name}`, 'tcp://[2001:db8::1]:443').events.find((e) => e.kind === 'snat')!;
    const saved = buildCalicoDataplane(ds).iptablesSave('node-1', undefined, 6).split('\n').filter((l) => l.startsWith('-A cali-nat-outgoing '));
    expect(saved).toHaveLength(1);
    expect(snat.rule).toBe(saved[0]);
    expect(snat.rule).toContain('cali60masq-ipam-pools');
    expect(snat.rule).not.toContain('flqWnvo8yq4ULQLa');
  });

  it('natOutgoing off: no masquerade to node addresses or outside the cluster', () => {
    const off = loadText(SEED.replace('cni: calico-bgp', 'cni: { plugin: calico, mode: bgp, natOutgoing: false }'));
    expect(off.settings.cni.natOutgoing).toBe(false);
    for (const to of ['tcp://10.0.1.6:10250', 'tcp://203.0.113.10:443']) expect(trace(off, 'default/pod-a', to).events.some((e) => e.kind === 'snat')).toBe(false);
  });

  it('Flannel keeps its own rule (-s cluster CIDR): node addresses are not masqueraded there', () => {
    const fl = loadText(SEED.replace('cni: calico-bgp', 'cni: flannel-vxlan'));
    expect(trace(fl, 'default/pod-a', 'tcp://10.0.1.6:10250').events.some((e) => e.kind === 'snat')).toBe(false);
  });
});

describe('a node\'s own connection to a ClusterIP (kube-proxy iptables, seed topology)', () => {
  const t = loadText(SEED);

  it('nat/OUTPUT DNATs, KUBE-POSTROUTING masquerades on node-1 only (the 0x4000 mark does not cross the wire), and the reply is un-DNATed at INPUT', () => {
    const r = trace(t, 'node:node-1', 'tcp://10.96.5.20:80', { endpoint: '10.244.3.9' });
    expect(r.ok, r.dropped?.text).toBe(true);
    const snats = r.events.filter((e) => e.kind === 'snat' && e.phase === 'request');
    expect(snats.map((e) => e.at.node)).toEqual(['node-1']);
    // The backend's node forwards the packet without NAT: no mark, no KUBE-POSTROUTING masquerade there.
    expect(r.conntrack['node-3'].find((l) => l.includes('dport=8080'))).not.toMatch(/dst=10\.0\.1\.7 /);
    // node-1 restores the Service address on the reply at LOCAL_IN, so the socket sees what it connected to.
    const rnat = r.events.find((e) => e.kind === 'reverse-nat' && e.at.node === 'node-1' && e.action.startsWith('reverse NAT'))!;
    expect(rnat.action).toBe('reverse NAT (un-DNAT): 10.244.3.9:8080 → 10.96.5.20:80');
    const got = r.events.find((e) => e.phase === 'reply' && e.kind === 'deliver')!;
    expect(got.headers.ip.src).toBe('10.96.5.20');
    expect(got.headers.tcp!.sport).toBe(80);
    expect(got.action).toContain('from 10.96.5.20:80');
  });
});

describe('memoised netfilter results and --random-fully', () => {
  it('two connections from one node on one TraceContext get the ports their own tuples give (no port reused from the memo)', () => {
    const t = loadText(SEED);
    const ctx = traceContext(t);
    const masq = (sport: number) => {
      const r = walk(ctx, 'node:node-1', 'tcp://10.96.5.20:80', { endpoint: '10.244.3.9', srcPort: sport });
      const e = r.events.find((x) => x.kind === 'snat' && x.at.node === 'node-1')!;
      return e.headers.tcp!.sport;
    };
    const a = masq(40000);
    const b = masq(40001);
    expect(a).toBe(randomNatPort({ proto: 'tcp', src: '10.0.1.5', sport: 40000, dst: '10.244.3.9', dport: 8080 }, '10.0.1.5'));
    expect(b).toBe(randomNatPort({ proto: 'tcp', src: '10.0.1.5', sport: 40001, dst: '10.244.3.9', dport: 8080 }, '10.0.1.5'));
    expect(a).not.toBe(b);
  });
});
