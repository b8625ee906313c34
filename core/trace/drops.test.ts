// Drops end the walk with a reason: NetworkPolicy (three-tier sample), a
// Service without endpoints (kube-proxy's REJECT), MTU (DF over VXLAN, with
// and without ICMP), a full conntrack table, no route.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONNTRACK_FULL_MESSAGE } from '../dataplane';
import { trace, TraceState } from './index';
import { loadText } from './testing';

const read = (f: string) => readFileSync(new URL(`../../resources/samples/${f}`, import.meta.url), 'utf8');
const SEED = read('seed.yaml');
const THREE = read('three-tier.yaml');

describe('NetworkPolicy drops (three-tier sample, the seed\'s policies verbatim)', () => {
  const t = loadText(THREE);
  const pod = (prefix: string, node?: string) => t.pods.find((p) => p.name.startsWith(prefix) && (!node || p.nodeName === node))!;
  const fe = pod('frontend', 'node-1');
  const be = pod('backend');
  const db = pod('database');

  it('the frontend cannot even resolve "backend": DNS egress is denied by the namespaceSelector name=kube-system bug', () => {
    const r = trace(t, `production/${fe.name}`, 'curl http://backend:8080');
    expect(r.ok).toBe(false);
    expect(r.dropped?.reason).toBe('policy');
    expect(r.dropped?.text).toContain('production/frontend-policy');
    expect(r.dropped?.text).toContain('namespace kube-system does not match namespaceSelector name=kube-system');
    const drop = r.events[r.events.length - 1];
    expect(drop.kind).toBe('drop');
    expect(drop.phase).toBe('dns');
    // Calico's own chains were walked: the egress chain of the frontend's interface ends in DROP.
    const pol = r.events.find((e) => e.kind === 'policy')!;
    expect(pol.verdict).toBe('drop');
    expect(pol.rules?.some((l) => l.startsWith('-A cali-fw-cali') && l.includes('-j DROP'))).toBe(true);
    // The dropped packet leaves no conntrack entry behind (it was never confirmed).
    expect(r.conntrack['node-1'] ?? []).toEqual([]);
  });

  it('frontend → backend pod IP on 8080 is allowed by both policies; the enforcement points name the rules', () => {
    const r = trace(t, `production/${fe.name}`, `tcp://${be.ips[0]}:8080`);
    expect(r.ok).toBe(true);
    const pols = r.events.filter((e) => e.kind === 'policy' && e.phase === 'request');
    expect(pols.map((e) => e.action)).toEqual(['egress policy: allowed', 'ingress policy: allowed']);
    expect(pols[0].detail).toContain('production/frontend-policy rule 0');
    expect(pols[1].detail).toContain('production/backend-policy rule 0');
    expect(pols[1].at.element).toBe(`pod/production/${be.name}`);
    // The reply passes on conntrack: no policy lookups on the way back.
    expect(r.events.some((e) => e.kind === 'policy' && e.phase === 'reply')).toBe(false);
  });

  it('frontend → database is denied at the source (egress) with the reason', () => {
    const r = trace(t, `production/${fe.name}`, `tcp://${db.ips[0]}:5432`);
    expect(r.dropped?.reason).toBe('policy');
    expect(r.dropped?.text).toMatch(/^NetworkPolicy egress denied: egress from production\/frontend/);
  });

  it("kube-proxy IPVS mode: felix polices a ClusterIP connection after IPVS, by the client's endpoint mark (cali-INPUT only stamps it)", () => {
    const i = loadText(THREE, ['kubeProxy=ipvs']);
    const ife = i.pods.find((p) => p.name === fe.name)!;
    const svc = i.services.find((s) => s.namespace === 'production' && s.name === 'backend')!;
    const r = trace(i, `production/${ife.name}`, `tcp://${svc.clusterIPs[0]}:8080`);
    expect(r.ok, r.dropped?.text).toBe(true);
    const pol = r.events.filter((e) => e.kind === 'policy' && e.phase === 'request');
    const eg = pol.find((e) => e.action.startsWith('egress'))!;
    const ing = pol.find((e) => e.action.startsWith('ingress'))!;
    const chains = (e: typeof eg) => (e.rules ?? []).map((l) => l.split(' ')[1]);
    expect(chains(eg).slice(0, 6)).toEqual(['cali-INPUT', 'cali-INPUT', 'cali-forward-check', 'cali-set-endpoint-mark', expect.stringMatching(/^cali-sm-cali/), 'cali-INPUT']);
    expect(chains(eg)).toContain('cali-from-endpoint-mark');
    expect(eg.rules!.some((l) => l.includes('Policy production/knp.default.frontend-policy egress'))).toBe(true);
    expect(eg.detail).toContain('cali-OUTPUT → cali-forward-endpoint-mark');
    expect(ing.rules!.some((l) => l.startsWith('-A cali-pi-') && l.includes('Policy production/knp.default.backend-policy ingress'))).toBe(true);
    expect(ing.rule).toContain('"Policy explicitly accepted packet."');
    expect(r.notes.some((n) => n.includes('cali-forward-check'))).toBe(true);
  });

  it('kube-proxy IPVS mode: a pod reaching itself through its Service passes (NetworkPolicy allows traffic to self) and the walk notes that felix\'s chains would drop it', () => {
    const i = loadText(THREE, ['kubeProxy=ipvs']);
    const ife = i.pods.find((p) => p.name === fe.name)!;
    const svc = i.services.find((s) => s.namespace === 'production' && s.name === 'frontend')!;
    const r = trace(i, `production/${ife.name}`, `tcp://${svc.clusterIPs[0]}:80`, { endpoint: `${ife.ips[0]}:80` });
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.notes.some((n) => n.startsWith('The Calico iptables IPVS-mode model dropped a packet core/policy allows') && n.includes('Drop if no policies passed packet'))).toBe(true);
  });

  it('Cilium enforces the same verdicts in its policy map and reports them as hubble drops', () => {
    const c = loadText(THREE, ['cni=cilium-native']);
    const cfe = c.pods.find((p) => p.name === fe.name)!;
    const cdb = c.pods.find((p) => p.name === db.name)!;
    const r = trace(c, `production/${cfe.name}`, `tcp://${cdb.ips[0]}:5432`);
    expect(r.dropped?.reason).toBe('policy');
    const drop = r.events[r.events.length - 1];
    expect(drop.hubble).toMatch(/^Jan {2}1 \d\d:\d\d:\d\d\.\d{3}: production\/frontend-[a-z0-9-]+:52345 \(ID:\d+\) -> production\/database-0:5432 \(ID:\d+\) Policy denied DROPPED \(TCP Flags: SYN\)$/);
    expect(r.events.some((e) => e.hubble?.includes('policy-verdict:none EGRESS DENIED'))).toBe(true);
  });

  it('Flannel does not enforce NetworkPolicy: the walk says so and the packet passes', () => {
    const f = loadText(THREE, ['cni=flannel-vxlan']);
    const fdb = f.pods.find((p) => p.name === db.name)!;
    const r = trace(f, `production/${fe.name}`, `tcp://${fdb.ips[0]}:5432`);
    expect(r.ok).toBe(true);
    const pol = r.events.find((e) => e.kind === 'policy')!;
    expect(pol.action).toBe('egress policy NOT enforced');
    expect(pol.detail).toContain('Flannel does not implement NetworkPolicy');
  });
});

describe('a Service without endpoints', () => {
  const t = loadText(SEED.replace('selector:\n    app: backend', 'selector:\n    app: nobody'));

  it('TCP: kube-proxy REJECTs with icmp-port-unreachable (not a RST); the client gets ECONNREFUSED', () => {
    const r = trace(t, 'default/pod-a', 'tcp://10.96.5.20:80');
    expect(r.dropped?.reason).toBe('no-endpoints');
    expect(r.dropped?.text).toContain('-A KUBE-SERVICES -d 10.96.5.20/32 -p tcp -m comment --comment "default/backend:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable');
    expect(r.dropped?.text).toContain('ECONNREFUSED');
    const icmp = r.events[r.events.length - 1];
    expect(icmp.kind).toBe('icmp');
    expect(icmp.headers.icmp).toMatchObject({ type: 3, code: 3, text: '10.96.5.20 tcp port 80 unreachable', length: 68 });
    expect(icmp.headers.ip.dst).toBe('10.244.1.5');
  });

  it('UDP to a port the Service does not have: no rule matches, the packet follows the default route and is lost', () => {
    const r = trace(t, 'default/pod-a', 'udp://10.96.5.20:53');
    expect(r.dropped?.reason).toBe('no-route');
    expect(r.dropped?.text).toContain('no Service port matches UDP 53');
  });

  it('IPVS mode: a virtual server with no real servers drops silently (no ICMP)', () => {
    const i = loadText(SEED.replace('selector:\n    app: backend', 'selector:\n    app: nobody'), ['kubeProxy=ipvs']);
    const r = trace(i, 'default/pod-a', 'tcp://10.96.5.20:80');
    expect(r.dropped?.reason).toBe('no-endpoints');
    expect(r.events.some((e) => e.kind === 'icmp')).toBe(false);
  });
});

describe('MTU', () => {
  // VXLAN with a pod MTU left at 1500: the classic misconfiguration.
  const t = loadText(SEED, ['cni=calico-vxlan', 'mtu=1500']);

  it('a 1500-byte DF datagram does not fit vxlan.calico (1450): ICMP fragmentation needed back to the pod', () => {
    const r = trace(t, 'default/pod-a', 'udp://10.244.2.8:8080', { size: 1472 });
    expect(r.dropped?.reason).toBe('mtu');
    expect(r.dropped?.text).toContain('1500 bytes exceed the MTU 1450 on node-1 vxlan.calico');
    const icmp = r.events[r.events.length - 1];
    expect(icmp.headers.icmp).toMatchObject({ type: 3, code: 4, text: '10.244.2.8 unreachable - need to frag (mtu 1450)' });
  });

  it('with ICMP filtered it is a black hole', () => {
    const r = trace(t, 'default/pod-a', 'udp://10.244.2.8:8080', { size: 1472, icmpBlocked: true });
    expect(r.dropped?.reason).toBe('mtu');
    expect(r.dropped?.text).toContain('PMTU black hole');
    expect(r.events.some((e) => e.kind === 'icmp')).toBe(false);
  });

  it('TCP: the handshake passes, the first full-size segment stalls (black hole)', () => {
    const r = trace(t, 'default/pod-a', 'curl http://10.96.5.20', { size: 1460, icmpBlocked: true });
    expect(r.events.some((e) => e.phase === 'reply' && e.kind === 'deliver')).toBe(true);
    expect(r.dropped?.reason).toBe('mtu');
    const last = r.events[r.events.length - 1];
    expect(last.phase).toBe('exchange');
  });

  it('without DF the datagram is fragmented and delivered', () => {
    const r = trace(t, 'default/pod-a', 'udp://10.244.2.8:8080', { size: 1472, df: false });
    expect(r.ok).toBe(true);
    expect(r.events.find((e) => e.kind === 'mtu')?.action).toMatch(/^fragmented into 2/);
  });

  it('a correctly sized VXLAN pod MTU (1450) keeps the same datagram on the pod: EMSGSIZE at the sender', () => {
    const ok = loadText(SEED, ['cni=calico-vxlan']);
    const r = trace(ok, 'default/pod-a', 'udp://10.244.2.8:8080', { size: 1472 });
    expect(r.dropped?.text).toContain('message too long, mtu=1450');
  });
});

describe('conntrack table full', () => {
  it('a node whose table is full of ASSURED entries drops the first packet with the kernel\'s message', () => {
    const t = loadText(SEED, ['conntrackMax=64']);
    const state = new TraceState();
    state.fillConntrack('node-1', 64, 64);
    const r = trace(t, 'default/pod-a', 'tcp://10.96.5.20:80', { state });
    expect(r.dropped?.reason).toBe('conntrack-full');
    expect(r.dropped?.text).toContain(CONNTRACK_FULL_MESSAGE);
    expect(r.events[r.events.length - 1].at.node).toBe('node-1');
    // With one slot free the same walk succeeds.
    const s2 = new TraceState();
    s2.fillConntrack('node-1', 60, 64);
    expect(trace(t, 'default/pod-a', 'tcp://10.96.5.20:80', { state: s2 }).ok).toBe(true);
  });
});

describe('DNS failures and caches', () => {
  it('an unknown name: every candidate NXDOMAIN, the walk ends in the DNS phase', () => {
    const t = loadText(SEED);
    const r = trace(t, 'default/pod-a', 'curl http://nosuch');
    expect(r.dropped?.reason).toBe('nxdomain');
    expect(r.events.filter((e) => e.kind === 'dns-query').length).toBe(8);
  });

  it('NodeLocal DNSCache: the first walk misses, a repeat within the TTL is answered from the cache, with no packet leaving the node', () => {
    const t = loadText(SEED, ['nodeLocalDNS=true']);
    const state = new TraceState();
    const first = trace(t, 'default/pod-a', 'dns backend', { state });
    const a1 = first.events.filter((e) => e.kind === 'dns-answer').map((e) => e.action);
    expect(a1.every((a) => a.startsWith('node-local-dns miss'))).toBe(true);
    expect(first.events.some((e) => e.kind === 'wire')).toBe(false);
    state.advance(3);
    const again = trace(t, 'default/pod-a', 'dns backend', { state });
    const a2 = again.events.filter((e) => e.kind === 'dns-answer').map((e) => e.action);
    expect(a2.length).toBeGreaterThan(0);
    expect(a2.every((a) => a.startsWith('node-local-dns cache hit'))).toBe(true);
    expect(again.latency.dnsUs).toBeLessThan(first.latency.dnsUs);
    // After the 30 s success cap the answer is fetched again.
    state.advance(40);
    const later = trace(t, 'default/pod-a', 'dns backend', { state });
    expect(later.events.filter((e) => e.kind === 'dns-answer').every((e) => e.action.startsWith('node-local-dns miss'))).toBe(true);
  });
});

describe('no route / no neighbour', () => {
  it('Calico: an address of node-2\'s IPAM block that no pod has hits the block\'s blackhole route on node-2', () => {
    const r = trace(loadText(SEED), 'default/pod-a', 'tcp://10.244.2.60:80');
    expect(r.dropped?.reason).toBe('no-route');
    expect(r.events[r.events.length - 1].at.node).toBe('node-2');
    expect(r.events.find((e) => e.kind === 'route' && e.verdict === 'drop')?.rule).toBe('blackhole 10.244.2.0/26 proto bird');
  });

  it('Flannel: the same address is on node-2\'s cni0 subnet, where ARP gets no answer', () => {
    const r = trace(loadText(SEED, ['cni=flannel-host-gw']), 'default/pod-a', 'tcp://10.244.2.60:80');
    expect(r.dropped?.reason).toBe('unreachable');
    expect(r.dropped?.text).toContain('ARP for it on cni0 gets no answer');
  });
});
