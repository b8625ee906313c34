// The seed document's scenario, exactly: pod-a (10.244.1.5, node-1) runs
// `curl http://backend.default.svc.cluster.local` against the backend Service
// (10.96.5.20:80 → 10.244.2.8:8080 on node-2, 10.244.3.9:8080 on node-3),
// with CoreDNS 10.244.2.15 behind kube-dns 10.96.0.10 — in Calico BGP and
// VXLAN mode.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDataplane } from '../cni';
import { renderIpRoute } from '../render';
import { trace, type TraceEvent, type TraceOutput } from './index';
import { renderTcpdump } from './tcpdump';
import { loadText } from './testing';

const SEED = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const CURL = 'curl http://backend.default.svc.cluster.local';

/** kube-proxy's portProtoHash, computed here independently: base32(sha256(x))[:16]. */
function hash16(x: string): string {
  const bytes = createHash('sha256').update(x).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.slice(0, 16);
}

const SVC = `KUBE-SVC-${hash16('default/backend:httptcp')}`;
const SEP = (ep: string) => `KUBE-SEP-${hash16(`default/backend:httptcp${ep}`)}`;

const ev = (r: TraceOutput, f: (e: TraceEvent) => boolean) => r.events.filter(f);

describe('kube-proxy chain hashes (reference example)', () => {
  it('hash16 reproduces the verified example ns1/svc1:p80 + tcp → XPGD46QRK7WJZT7O', () => {
    expect(hash16('ns1/svc1:p80tcp')).toBe('XPGD46QRK7WJZT7O');
  });
});

describe.each([
  ['calico-bgp', []],
  ['calico-vxlan', ['cni=calico-vxlan']],
] as const)('the seed scenario in %s', (name, set) => {
  const t = loadText(SEED, [...set]);
  const r = trace(t, 'default/pod-a', CURL, { endpoint: '10.244.2.8' });

  it('answers, and the walk is ordered with per-packet clocks that never run backwards', () => {
    expect(r.ok).toBe(true);
    expect(r.dropped).toBeUndefined();
    r.events.forEach((e, i) => expect(e.seq).toBe(i + 1));
    const clocks = new Map<string, number>();
    for (const e of r.events) {
      expect(e.timeUs).toBeGreaterThanOrEqual(clocks.get(e.packet) ?? 0);
      clocks.set(e.packet, e.timeUs);
    }
  });

  it("felix's chains run before kube-proxy's FORWARD rules even without policies: pod-a's egress through its profile on node-1, the backend's ingress on node-2", () => {
    const syn = r.events.filter((e) => e.phase === 'request' && e.hook === 'FORWARD');
    const n1 = syn.filter((e) => e.at.node === 'node-1');
    expect(n1.map((e) => e.action)).toEqual(['FORWARD: Calico felix chains (no policy: the profiles accept)', 'FORWARD: filter']);
    expect(n1[0].rules?.[0]).toBe('-A FORWARD -m comment --comment "cali:wUHhoiAYhphO9Mso" -j cali-FORWARD');
    expect(n1[0].rules).toContain('-A cali-pro-kns.default -m comment --comment "cali:Vr81boRqq4V77Sg8" -m comment --comment "Profile kns.default egress" -j MARK --set-xmark 0x10000/0x10000');
    expect(n1[0].rule).toBe('-A cali-FORWARD -m comment --comment "cali:NOSxoaGx8OIstr1z" -j cali-cidr-block');
    const n2 = syn.find((e) => e.at.node === 'node-2' && e.action.startsWith('FORWARD: Calico'))!;
    expect(n2.rules?.some((l) => l.startsWith('-A cali-pri-kns.default ') && l.includes('"Profile kns.default ingress"'))).toBe(true);
    expect(n2.rules?.some((l) => l.startsWith('-A cali-fw-'))).toBe(false);
    // Flannel has no felix
    const f = trace(loadText(SEED, ['cni=flannel-vxlan']), 'default/pod-a', CURL, { endpoint: '10.244.2.8' });
    expect(f.events.some((e) => e.action.startsWith('FORWARD: Calico'))).toBe(false);
  });

  it('DNS: glibc asks A and AAAA for each search-list candidate, in order, the last one answers 10.96.5.20', () => {
    const qs = ev(r, (e) => e.kind === 'dns-query').map((e) => `${e.headers.dns!.qtype}? ${e.headers.dns!.qname}`);
    expect(qs).toEqual([
      'A? backend.default.svc.cluster.local.default.svc.cluster.local.',
      'AAAA? backend.default.svc.cluster.local.default.svc.cluster.local.',
      'A? backend.default.svc.cluster.local.svc.cluster.local.',
      'AAAA? backend.default.svc.cluster.local.svc.cluster.local.',
      'A? backend.default.svc.cluster.local.cluster.local.',
      'AAAA? backend.default.svc.cluster.local.cluster.local.',
      'A? backend.default.svc.cluster.local.',
      'AAAA? backend.default.svc.cluster.local.',
    ]);
    const answers = ev(r, (e) => e.kind === 'dns-answer').map((e) => e.action);
    expect(answers.slice(0, 6).every((a) => a.includes('NXDOMAIN'))).toBe(true);
    expect(answers[6]).toContain('A 10.96.5.20');
    expect(answers[7]).toContain('NODATA');
    expect(r.target).toEqual({ ip: '10.96.5.20', port: 80, service: 'default/backend' });
    // The first socket is the seed's port 53241; each candidate gets its own socket.
    const ports = ev(r, (e) => e.kind === 'dns-query').map((e) => e.headers.udp!.sport);
    expect(ports[0]).toBe(53241);
    expect(ports[1]).toBe(53241);
    expect(new Set(ports).size).toBe(4);
    // The queries go to kube-dns and are DNATed to CoreDNS 10.244.2.15.
    const dnsDnat = ev(r, (e) => e.phase === 'dns' && e.kind === 'dnat');
    expect(dnsDnat[0].action).toBe('DNAT 10.96.0.10:53 → 10.244.2.15:53');
    // The answers reach pod-a from the Service address (reverse NAT on node-1).
    const delivered = ev(r, (e) => e.phase === 'dns' && e.kind === 'deliver' && e.at.element === 'pod/default/pod-a');
    expect(delivered.length).toBe(8);
    for (const d of delivered) expect(d.headers.ip.src).toBe('10.96.0.10');
  });

  it('the AAAA query follows the A query\'s conntrack entry (no nat chains, same DNAT)', () => {
    const aaaa = r.events.filter((e) => e.packet.startsWith('DNS query 2 '));
    const ct = aaaa.find((e) => e.kind === 'conntrack');
    expect(ct?.action).toContain('original direction of a known connection (NEW)');
    expect(aaaa.some((e) => e.kind === 'dnat' && e.action.startsWith('DNAT from conntrack'))).toBe(true);
    expect(aaaa.some((e) => e.kind === 'service')).toBe(false);
  });

  it('the HTTP request: socket 52345, KUBE-SERVICES → KUBE-SVC (p=0.5) → KUBE-SEP, DNAT to 10.244.2.8:8080', () => {
    const req = ev(r, (e) => e.phase === 'request');
    expect(req[0].kind).toBe('socket');
    expect(req[0].headers.tcp).toMatchObject({ sport: 52345, dport: 80, flags: ['S'] });
    expect(req[0].headers.ip).toMatchObject({ src: '10.244.1.5', dst: '10.96.5.20' });
    const pre = req.find((e) => e.kind === 'netfilter' && e.hook === 'PREROUTING' && e.at.node === 'node-1')!;
    // felix's raw and mangle cali-PREROUTING run before nat: the workload mark 0x40000 (-i cali+), its
    // strict reverse-path check (not listed: it did not match, the route back to 10.244.1.5 is pod A's veth)
    expect(pre.rules!.filter((l) => l.includes('cali:'))).toEqual([
      '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
      '-A cali-PREROUTING -m comment --comment "cali:XFX5xbM8B9qR10JG" -j MARK --set-xmark 0x0/0xf0000',
      '-A cali-PREROUTING -i cali+ -m comment --comment "cali:EWMPb0zVROM-woQp" -j MARK --set-xmark 0x40000/0x40000',
      '-A cali-PREROUTING -m comment --comment "cali:PWuxTAIaFCtsg5Qa" -m mark --mark 0x40000/0x40000 -j cali-rpf-skip',
      '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
      '-A cali-PREROUTING -m comment --comment "cali:wNH7KsA3ILKJBsY9" -j cali-from-host-endpoint',
      // nat: felix's jump sits above kube-proxy's KUBE-SERVICES (floating IPs: none)
      '-A PREROUTING -m comment --comment "cali:6gwbT8clXdHdC1b1" -j cali-PREROUTING',
      '-A cali-PREROUTING -m comment --comment "cali:r6XmIziWUJsdOK6Z" -j cali-fip-dnat',
    ]);
    expect(pre.detail).toContain('(raw/mangle/nat)');
    expect(pre.detail).toContain('reverse-path check');
    const kube = pre.rules!.slice(8);
    const chains = kube.map((l) => l.split(' ')[1]);
    expect(chains).toEqual(['PREROUTING', 'KUBE-SERVICES', SVC, SEP('10.244.2.8:8080')]);
    expect(kube[1]).toBe(`-A KUBE-SERVICES -d 10.96.5.20/32 -p tcp -m comment --comment "default/backend:http cluster IP" -m tcp --dport 80 -j ${SVC}`);
    expect(kube[2]).toBe(`-A ${SVC} -m comment --comment "default/backend:http -> 10.244.2.8:8080" -m statistic --mode random --probability 0.50000000000 -j ${SEP('10.244.2.8:8080')}`);
    expect(kube[3]).toBe(`-A ${SEP('10.244.2.8:8080')} -p tcp -m comment --comment "default/backend:http" -m tcp -j DNAT --to-destination 10.244.2.8:8080`);
    const svc = r.services.find((s) => s.service === 'default/backend:80')!;
    expect(svc.outcomes).toEqual([
      { endpoint: '10.244.2.8:8080', probability: 0.5, pod: 'default/backend-1', node: 'node-2' },
      { endpoint: '10.244.3.9:8080', probability: 0.5, pod: 'default/backend-2', node: 'node-3' },
    ]);
    const dnat = req.find((e) => e.kind === 'dnat')!;
    expect(dnat.changed).toEqual(['ip.dst', 'tcp.dport']);
    expect(dnat.headers.ip.dst).toBe('10.244.2.8');
    expect(dnat.headers.tcp!.dport).toBe(8080);
  });

  it('the conntrack entry on node-1, as conntrack -L prints it', () => {
    const ct = ev(r, (e) => e.phase === 'request' && e.kind === 'conntrack' && e.at.node === 'node-1')[0];
    expect(ct.conntrack).toBe('tcp      6 120 SYN_SENT src=10.244.1.5 dst=10.96.5.20 sport=52345 dport=80 [UNREPLIED] src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=52345 mark=0 use=1');
    // After the handshake and the request, the entry is ESTABLISHED and ASSURED.
    expect(r.conntrack['node-1']).toContain('tcp      6 432000 ESTABLISHED src=10.244.1.5 dst=10.96.5.20 sport=52345 dport=80 src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=52345 [ASSURED] mark=0 use=1');
    // node-2 tracks the already-translated flow: no NAT there.
    expect(r.conntrack['node-2']).toContain('tcp      6 432000 ESTABLISHED src=10.244.1.5 dst=10.244.2.8 sport=52345 dport=8080 src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=52345 [ASSURED] mark=0 use=1');
  });

  it("node-1's route to the backend is the one the CNI model installs", () => {
    const route = ev(r, (e) => e.phase === 'request' && e.kind === 'route' && e.at.node === 'node-1' && e.at.netns === 'node/node-1')[0];
    const table = renderIpRoute(buildDataplane(t).node('node-1'), {}).split('\n').map((l) => l.trim());
    expect(table).toContain(route.rule);
    if (name === 'calico-bgp') expect(route.rule).toBe('10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird');
    else expect(route.rule).toBe('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink');
    // The pod's own route: everything via the link-local next hop.
    const podRoute = ev(r, (e) => e.phase === 'request' && e.kind === 'route')[0];
    expect(podRoute.rule).toBe('default via 169.254.1.1 dev eth0');
  });

  it('the reply: reverse NAT on node-1 (not node-2), pod-a sees 10.96.5.20:80', () => {
    const rev = ev(r, (e) => e.phase === 'reply' && e.kind === 'reverse-nat');
    expect(rev.length).toBe(1);
    expect(rev[0].at.node).toBe('node-1');
    expect(rev[0].action).toBe('reverse NAT (un-DNAT): 10.244.2.8:8080 → 10.96.5.20:80');
    const got = ev(r, (e) => e.phase === 'reply' && e.kind === 'deliver')[0];
    expect(got.at.element).toBe('pod/default/pod-a');
    expect(got.headers.ip).toMatchObject({ src: '10.96.5.20', dst: '10.244.1.5' });
    expect(got.headers.tcp).toMatchObject({ sport: 80, dport: 52345, flags: ['S', '.'] });
  });

  if (name === 'calico-vxlan') {
    it('VXLAN: outer 10.0.1.5 → 10.0.1.6, UDP 4789, VNI 4096; decapsulated on node-2', () => {
      const enc = ev(r, (e) => e.phase === 'request' && e.kind === 'encap')[0];
      expect(enc.at).toMatchObject({ node: 'node-1', iface: 'vxlan.calico' });
      expect(enc.headers.outer).toMatchObject({ kind: 'vxlan', ip: { src: '10.0.1.5', dst: '10.0.1.6', protocol: 17 }, udp: { dport: 4789 }, vxlan: { vni: 4096, flags: 8 } });
      expect(enc.headers.outer!.udp!.sport).toBeGreaterThanOrEqual(32768);
      expect(enc.headers.outer!.ip.length).toBe(enc.headers.ip.length + 50);
      expect(enc.changed).toContain('outer');
      const dec = ev(r, (e) => e.phase === 'request' && e.kind === 'decap')[0];
      expect(dec.at).toMatchObject({ node: 'node-2', iface: 'vxlan.calico' });
      expect(dec.headers.outer).toBeUndefined();
      expect(r.latency.encapLabel).toBe('VXLAN encap/decap');
      expect(r.latency.encapUs).toBeGreaterThan(0);
    });

    it('tcpdump on node-1 eth0 shows only VXLAN outer+inner pairs; on the pod veth the pre-DNAT packet', () => {
      const lines = renderTcpdump(r, { node: 'node-1', iface: 'eth0' }).trimEnd().split('\n');
      for (let i = 0; i < lines.length; i += 2) {
        expect(lines[i]).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.0\.1\.[567]\.\d+ > 10\.0\.1\.[567]\.4789: VXLAN, flags \[I\] \(0x08\), vni 4096$/);
        expect(lines[i + 1]).toMatch(/^IP 10\.244\./);
      }
      expect(lines).toContain('IP 10.244.1.5.53241 > 10.244.2.15.53: ' + lines.find((l) => l.includes('53241 > 10.244.2.15.53') && l.includes(' A? '))!.split(': ')[1]);
      const veth = renderTcpdump(r, { node: 'node-1', iface: 'cali5e1c4d6c68c' });
      expect(veth).toMatch(/IP 10\.244\.1\.5\.52345 > 10\.96\.5\.20\.80: Flags \[S\], seq \d+, win 64860, options \[mss 1410,sackOK,TS val \d+ ecr 0,nop,wscale 7\], length 0/);
      expect(veth).toMatch(/IP 10\.96\.5\.20\.80 > 10\.244\.1\.5\.52345: Flags \[S\.\], seq \d+, ack \d+, win 64308, options \[mss 1410,sackOK,TS val \d+ ecr \d+,nop,wscale 7\], length 0/);
      expect(veth).toMatch(/Flags \[P\.\], seq 1:98, ack 1, win \d+, options \[nop,nop,TS val \d+ ecr \d+\], length 97: HTTP: GET \/ HTTP\/1\.1/);
    });
  } else {
    it('BGP mode: no encapsulation; node-1 eth0 carries the pod addresses after DNAT', () => {
      expect(ev(r, (e) => e.kind === 'encap')).toEqual([]);
      const dump = renderTcpdump(r, { node: 'node-1', iface: 'eth0' });
      expect(dump).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.244\.1\.5\.52345 > 10\.244\.2\.8\.8080: Flags \[S\], seq \d+, win 64240, options \[mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale 7\], length 0$/m);
      expect(dump).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.244\.1\.5\.53241 > 10\.244\.2\.15\.53: \d+\+ A\? backend\.default\.svc\.cluster\.local\.default\.svc\.cluster\.local\. \(77\)$/m);
      expect(dump).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.244\.2\.15\.53 > 10\.244\.1\.5\.53241: \d+ NXDomain\*- 0\/1\/0 \(170\)$/m);
      expect(dump).toMatch(/^\d\d:\d\d:\d\d\.\d{6} IP 10\.244\.2\.15\.53 > 10\.244\.1\.5\.\d+: \d+\*- 1\/0\/0 A 10\.96\.5\.20 \(100\)$/m);
    });
  }

  it('the other endpoint choice goes to node-3 through KUBE-SEP of 10.244.3.9:8080', () => {
    const r2 = trace(t, 'default/pod-a', CURL, { endpoint: '10.244.3.9:8080' });
    expect(r2.ok).toBe(true);
    const pre = r2.events.find((e) => e.phase === 'request' && e.kind === 'netfilter' && e.hook === 'PREROUTING')!;
    const kube = pre.rules!.filter((l) => !l.includes('cali'));
    expect(kube.map((l) => l.split(' ')[1])).toEqual(['PREROUTING', 'KUBE-SERVICES', SVC, SEP('10.244.3.9:8080')]);
    expect(kube[2]).toBe(`-A ${SVC} -m comment --comment "default/backend:http -> 10.244.3.9:8080" -j ${SEP('10.244.3.9:8080')}`);
    const served = r2.events.find((e) => e.phase === 'request' && e.kind === 'deliver')!;
    expect(served.at.element).toBe('pod/default/backend-2');
    expect(served.at.node).toBe('node-3');
  });

  it('without a forced endpoint the seeded random choice reaches both endpoints, and a seed replays exactly', () => {
    const chosen = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) chosen.add(trace(t, 'default/pod-a', 'tcp://10.96.5.20:80', { seed }).services[0].chosen!);
    expect(chosen).toEqual(new Set(['10.244.2.8:8080', '10.244.3.9:8080']));
    const a = trace(t, 'default/pod-a', CURL, { seed: 7 });
    const b = trace(t, 'default/pod-a', CURL, { seed: 7 });
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
  });

  it('latency: the seed-style breakdown adds up, with a note that the seed\'s 24 ms is not a LAN', () => {
    const l = r.latency;
    expect(l.totalUs).toBeCloseTo(l.dnsUs + l.serviceUs + l.encapUs + l.transitUs + l.backendUs, 2);
    expect(l.table).toMatch(/^Component\s+Time\n─+\nDNS resolution:\s+\S+\nService load balancing:\s+\S+\n(VXLAN encap\/decap|Encap\/decap \(none\)):\s+\S+\nNetwork transit:\s+\S+\nBackend processing:\s+\S+\n─+\nTotal:\s+\S+$/);
    expect(l.totalUs).toBeLessThan(24000);
    expect(l.note).toContain('24 ms');
    expect(l.backendUs).toBe(500);
  });

  it('events name UI elements and carry a command for the terminal', () => {
    for (const e of r.events) {
      expect(e.at.element).toMatch(/^(node\/node-\d|pod\/[a-z-]+\/[a-z0-9-]+|svc\/[a-z-]+\/[a-z-]+)$/);
    }
    expect(r.events.filter((e) => e.kind === 'route').every((e) => e.command?.includes('ip route get'))).toBe(true);
    expect(r.events.find((e) => e.kind === 'conntrack')!.command).toMatch(/^conntrack -L/);
  });
});
