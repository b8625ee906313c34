// IPv6 walks in a dual-stack cluster (resources/samples/dual-stack.yaml):
// for every CNI mode whose IPv6 data plane is modelled, an IPv6 pod reaches an
// IPv6 ClusterIP across nodes with the right DNAT, routes, outer header family
// and `conntrack -L -f ipv6` line; the IPv4 walk of the same topology still
// works; Weave refuses IPv6 walks with an explicit reason.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDataplane } from '../cni';
import { renderIpRoute } from '../render/iproute';
import type { PodModel, Topology } from '../model/types';
import { trace, TraceInputError, TraceState } from './index';
import { captureLines, renderTcpdump } from './tcpdump';
import { loadText } from './testing';

const DUAL = readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8');

function setup(cni: string, kp = 'iptables') {
  const t = loadText(DUAL, [`cni=${cni}`, `kubeProxy=${kp}`]);
  const webs = t.pods.filter((p) => p.labels.app === 'web');
  const client = webs.find((p) => p.nodeName === 'node-1')!;
  const server = webs.find((p) => p.nodeName === 'node-2')!;
  const v6 = (p: PodModel) => p.ips.find((ip) => ip.includes(':'))!;
  const svc = t.services.find((s) => s.name === 'web-v6')!;
  return { t, client, server, v6, clusterIP: svc.clusterIPs[0], from: `${client.namespace}/${client.name}` };
}

interface Expect {
  /** The route node-1 uses towards node-2's IPv6 pod range, as `ip -6 route` prints it; undefined: OVS tunnels it, node-1's routing table is not consulted. */
  route?: RegExp;
  /** Outer header: undefined = no encapsulation; 6 = IPv6 underlay; 4 = IPv4 underlay. */
  outer?: 4 | 6;
  device?: string;
  kubeProxyChains: boolean;
  /** The OVS conntrack zone of the connection (Antrea), printed by conntrack -L -f ipv6 as zone=N. */
  ctZone?: number;
}

const MODELLED: Record<string, Expect> = {
  'calico-vxlan': { route: /^fd00:10:244:2::\/122 via fd00:10:244:2:: dev vxlan-v6\.calico metric 1024 onlink pref medium$/, outer: 6, device: 'vxlan-v6.calico', kubeProxyChains: true },
  'calico-vxlan-crosssubnet': { route: /^fd00:10:244:2::\/122 via fd00:10::1:6 dev eth0 proto 80 metric 1024 onlink pref medium$/, kubeProxyChains: true },
  'calico-bgp': { route: /^fd00:10:244:2::\/122 via fd00:10::1:6 dev eth0 proto bird metric 1024 pref medium$/, kubeProxyChains: true },
  // Calico has no IPv6 IP-in-IP: the IPv6 pool is routed natively by BIRD.
  'calico-ipip': { route: /^fd00:10:244:2::\/122 via fd00:10::1:6 dev eth0 proto bird metric 1024 pref medium$/, kubeProxyChains: true },
  'flannel-vxlan': { route: /^fd00:10:244:2::\/64 via fd00:10:244:2:: dev flannel-v6\.1 metric 1024 onlink pref medium$/, outer: 6, device: 'flannel-v6.1', kubeProxyChains: true },
  'flannel-host-gw': { route: /^fd00:10:244:2::\/64 via fd00:10::1:6 dev eth0 metric 1024 pref medium$/, kubeProxyChains: true },
  // Cilium: IPv6 pods inside the IPv4 tunnel between the nodes' IPv4 addresses.
  'cilium-vxlan': { route: /^fd00:10:244:2::\/64 via fd00:10:244:1::1 dev cilium_host proto kernel src fd00:10::1:5 metric 1024 mtu 1450 pref medium$/, outer: 4, device: 'cilium_vxlan', kubeProxyChains: false },
  'cilium-native': { route: /^fd00:10:244:2::\/64 via fd00:10::1:6 dev eth0 proto kernel metric 1024 pref medium$/, kubeProxyChains: false },
  // Antrea: OVS L3Forwarding sets tun_ipv6_dst (the peer's IPv6 transport address), so Geneve runs over IPv6;
  // AntreaProxy DNATs in OVS ct zone 65510 (CtZoneV6). noEncap: the host routes the IPv6 pod CIDR via the peer's IPv6 address.
  'antrea-geneve': { outer: 6, device: 'genev_sys_6081', kubeProxyChains: false, ctZone: 65510 },
  'antrea-noencap': { route: /^fd00:10:244:2::\/64 via fd00:10::1:6 dev eth0 metric 1024 pref medium$/, kubeProxyChains: false, ctZone: 65510 },
};

describe.each(Object.entries(MODELLED))('%s dual-stack', (cni, x) => {
  it('an IPv6 pod reaches an IPv6 ClusterIP on another node', () => {
    const { client, server, v6, clusterIP, from, t } = setup(cni);
    const r = trace(t, from, `tcp://[${clusterIP}]:80`, { endpoint: v6(server) });
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.family).toBe(6);
    const req = r.events.filter((e) => e.phase === 'request');
    // Every request header is IPv6, with IPv6 header lengths (SYN: 40 + 40 bytes of TCP with options).
    for (const e of req) expect(e.headers.ip.version).toBe(6);
    expect(req[0].headers.ip.length).toBe(80);
    expect(req[0].headers.ip.src).toBe(v6(client));
    // DNAT to the IPv6 endpoint: ip6tables KUBE-SVC/KUBE-SEP chains (or Cilium's bpf_lxc).
    const dnat = req.find((e) => e.kind === 'dnat')!;
    expect(dnat.action).toContain(`[${clusterIP}]:80 → [${v6(server)}]:8080`);
    if (x.kubeProxyChains) {
      const lines = (e: { rule?: string; rules?: string[] }) => [...(e.rule ? [e.rule] : []), ...(e.rules ?? [])];
      expect(lines(dnat)).toEqual(expect.arrayContaining([expect.stringMatching(/^-A KUBE-SEP-\w+ .* -j DNAT --to-destination \[fd00:10:244:2::[0-9a-f]*\]:8080$/)]));
      const svcEv = req.find((e) => e.kind === 'service')!;
      expect(lines(svcEv).some((l) => l.startsWith('-A KUBE-SVC-'))).toBe(true);
      expect(svcEv.command).toMatch(/^ip6tables-save -t nat/);
    }
    // node-1's route towards node-2's IPv6 pods.
    const onNode1 = req.filter((e) => e.kind === 'route' && e.at.node === 'node-1' && e.rule && !e.at.netns?.startsWith('pod/'));
    if (x.route) expect(onNode1.map((e) => e.rule)).toEqual(expect.arrayContaining([expect.stringMatching(x.route)]));
    else expect(onNode1).toEqual([]);
    expect(onNode1.every((e) => e.command === undefined || /ip route get fd00:/.test(e.command))).toBe(true);
    // Outer header family.
    const encap = req.filter((e) => e.kind === 'encap');
    if (x.outer === undefined) expect(encap).toEqual([]);
    else {
      expect(encap).toHaveLength(1);
      const o = encap[0].headers.outer!;
      expect(o.ip.version === 6 ? 6 : 4).toBe(x.outer);
      expect(o.ip.src).toBe(x.outer === 6 ? 'fd00:10::1:5' : '10.0.1.5');
      expect(o.ip.dst).toBe(x.outer === 6 ? 'fd00:10::1:6' : '10.0.1.6');
      // VXLAN over IPv6 adds 70 bytes (outer IPv6 40 + UDP 8 + VXLAN 8 + Ethernet 14), over IPv4 50.
      expect(o.ip.length - encap[0].headers.ip.length).toBe(x.outer === 6 ? 70 : 50);
      expect(o.udp!.length).toBe(o.ip.length - (x.outer === 6 ? 40 : 20));
      expect(encap[0].at.iface).toBe(x.device);
      const line = captureLines(encap[0].headers, 36000)[0];
      expect(line.split(' ')[1]).toBe(x.outer === 6 ? 'IP6' : 'IP');
    }
    // The conntrack entry, in conntrack -L -f ipv6 form, with the DNAT in the reply tuple.
    const ct = r.conntrack['node-1']?.find((l) => l.startsWith('tcp '));
    if (x.kubeProxyChains) {
      expect(ct).toMatch(new RegExp(`^tcp {6}6 \\d+ ESTABLISHED src=${v6(client)} dst=${clusterIP} sport=52345 dport=80 src=${v6(server)} dst=${v6(client)} sport=8080 dport=52345 \\[ASSURED\\] mark=0 use=1$`));
      expect(r.events.some((e) => e.command?.startsWith('conntrack -L -f ipv6 '))).toBe(true);
      expect(r.events.some((e) => e.command?.startsWith('conntrack -L ') && !e.command.startsWith('conntrack -L -f ipv6'))).toBe(false);
    }
    if (x.ctZone !== undefined) {
      expect(ct).toMatch(new RegExp(`^tcp {6}6 \\d+ ESTABLISHED src=${v6(client)} dst=${clusterIP} sport=52345 dport=80 src=${v6(server)} dst=${v6(client)} sport=8080 dport=52345 \\[ASSURED\\] mark=0 zone=${x.ctZone} use=1$`));
      expect(r.events.some((e) => e.command?.startsWith('conntrack -L -f ipv6 '))).toBe(true);
    }
    // The reply comes back from the Service address (reverse NAT), over IPv6.
    const back = r.events.find((e) => e.phase === 'reply' && e.kind === 'deliver')!;
    expect(back.headers.ip.src).toBe(clusterIP);
    expect(back.headers.ip.version).toBe(6);
  });

  it('the IPv4 walk of the same topology still works, all IPv4', () => {
    const { server, t, from } = setup(cni);
    const v4svc = t.services.find((s) => s.name === 'web-v4')!;
    const r = trace(t, from, `tcp://${v4svc.clusterIPs[0]}:80`, { endpoint: server.ips[0] });
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.family).toBe(4);
    for (const e of r.events) {
      expect(e.headers.ip.version).toBe(4);
      if (e.headers.outer) expect(e.headers.outer.ip.version).toBeUndefined();
    }
    expect(r.events.some((e) => e.command?.includes('-f ipv6') || e.command?.startsWith('ip6tables'))).toBe(false);
  });

  it('ping over IPv6 is ICMPv6 echo request 128 / reply 129 with a 40-byte header', () => {
    const { server, v6, t, from } = setup(cni);
    const r = trace(t, from, `ping ${v6(server)}`);
    expect(r.ok, r.dropped?.text).toBe(true);
    const req = r.events.find((e) => e.phase === 'request')!;
    expect(req.headers.ip.protocol).toBe('ICMPv6');
    expect(req.headers.icmp?.type).toBe(128);
    expect(req.headers.ip.length).toBe(40 + 8 + 56);
    const rep = r.events.find((e) => e.phase === 'reply' && e.kind === 'deliver')!;
    expect(rep.headers.icmp?.type).toBe(129);
    // The hop limit drops on the way (two routing hops: the sending and the receiving node).
    // Antrea: OVS table L3DecTTL decrements it on both nodes (dec_ttl after L3Forwarding); the noEncap
    // walk skips the two host forwarding hops (eth0 ↔ antrea-gw0), so it is left out here.
    if (!cni.startsWith('cilium') && cni !== 'antrea-noencap') {
      const at = r.events.find((e) => e.phase === 'request' && e.kind === 'deliver')!;
      expect(at.headers.ip.ttl).toBe(62);
      const routed = r.events.filter((e) => e.phase === 'request' && e.kind === (cni.startsWith('antrea') ? 'ovs' : 'route') && e.verdict === 'forward' && e.changed.includes('ip.ttl'));
      expect(routed[0].detail).toContain('hop limit 64 → 63');
      if (cni.startsWith('antrea')) expect(routed[1].detail).toContain('L3DecTTL decrements (hop limit 63 → 62)');
    }
  });
});

describe('IPv6 walks: names, DNS and refusals', () => {
  it('an AAAA-only name (IPv6 single-stack Service) switches the connection to IPv6; DNS itself goes to the IPv4 nameserver', () => {
    const { t, from, clusterIP, client } = setup('calico-vxlan');
    const r = trace(t, from, 'curl http://web-v6');
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.family).toBe(6);
    expect(r.target?.ip).toBe(clusterIP);
    const aaaa = r.events.find((e) => e.kind === 'dns-query' && e.headers.dns?.qtype === 'AAAA')!;
    expect(aaaa.headers.ip.version).toBe(4);
    expect(aaaa.headers.ip.dst).toBe('10.96.0.10');
    const answer = r.events.find((e) => e.phase === 'dns' && e.headers.dns?.answers.some((a) => a === `AAAA ${clusterIP}`));
    expect(answer).toBeDefined();
    const syn = r.events.find((e) => e.phase === 'request')!;
    expect(syn.headers.ip.src).toBe(client.ips.find((ip) => ip.includes(':')));
    expect(r.notes.some((n) => n.includes('connects over IPv6'))).toBe(true);
  });

  it('a dual-stack Service: glibc sorts the AAAA answer first (curl connects over IPv6); --family 4 / 6 ask A or AAAA only', () => {
    const { t, from } = setup('calico-vxlan');
    const web = t.services.find((s) => s.name === 'web')!;
    const v4ip = web.clusterIPs.find((ip) => !ip.includes(':'))!;
    const v6ip = web.clusterIPs.find((ip) => ip.includes(':'))!;
    // AF_UNSPEC: A and AAAA for each candidate; glibc's RFC 3484 table puts the IPv6 (ULA) answer first.
    const def = trace(t, from, 'curl http://web', { state: new TraceState() });
    expect(def.ok, def.dropped?.text).toBe(true);
    expect(def.family).toBe(6);
    expect(def.target?.ip).toBe(v6ip);
    expect(new Set(def.events.filter((e) => e.kind === 'dns-query').map((e) => e.headers.dns?.qtype))).toEqual(new Set(['A', 'AAAA']));
    // The queries themselves go to kube-dns's IPv4 ClusterIP (resolv.conf's nameserver), the connection over IPv6.
    expect(def.events.find((e) => e.kind === 'dns-query')?.headers.ip.version).toBe(4);
    expect(def.events.find((e) => e.kind === 'dns-result')?.action).toBe(`web → ${v6ip}, ${v4ip}`);
    expect(def.notes.some((n) => n.includes('glibc') && n.includes('IPv6 answer first'))).toBe(true);
    expect(def.events.find((e) => e.kind === 'socket')?.headers.ip.version).toBe(6);
    const v4 = trace(t, from, 'curl http://web', { family: 4, state: new TraceState() });
    expect(v4.target?.ip).toBe(v4ip);
    expect(v4.family).toBe(4);
    // curl -4: AF_INET, glibc asks A only.
    expect(v4.events.filter((e) => e.kind === 'dns-query').every((e) => e.headers.dns?.qtype === 'A')).toBe(true);
    const v6 = trace(t, from, 'curl http://web', { family: 6, state: new TraceState() });
    expect(v6.ok, v6.dropped?.text).toBe(true);
    expect(v6.target?.ip).toBe(v6ip);
    // With --family 6 glibc asks AAAA only.
    expect(v6.events.filter((e) => e.kind === 'dns-query').every((e) => e.headers.dns?.qtype === 'AAAA')).toBe(true);
    // A single-stack IPv4 Service from the same pod: A only in the answers, so IPv4.
    const only4 = trace(t, from, 'curl http://web-v4', { state: new TraceState() });
    expect(only4.target?.ip).toBe(t.services.find((s) => s.name === 'web-v4')!.clusterIPs[0]);
    expect(only4.family).toBe(4);
  });

  it("Calico WireGuard on dual-stack: IPv6 pod packets go through felix's wg-v6.cali (UDP 51821, over the nodes' IPv6 addresses, +80 bytes), IPv4 through wireguard.cali (51820)", () => {
    const t = loadText(DUAL, ['cni=calico-vxlan', 'cni.encryption=true']);
    const webs = t.pods.filter((p) => p.labels.app === 'web');
    const client = webs.find((p) => p.nodeName === 'node-1')!;
    const server = webs.find((p) => p.nodeName === 'node-2')!;
    const from = `${client.namespace}/${client.name}`;
    const six = trace(t, from, `tcp://[${server.ips.find((ip) => ip.includes(':'))}]:8080`);
    expect(six.ok, six.dropped?.text).toBe(true);
    const enc6 = six.events.find((e) => e.kind === 'encap' && e.phase === 'request')!;
    expect(enc6.at.iface).toBe('wg-v6.cali');
    expect(enc6.headers.outer).toMatchObject({ kind: 'wireguard', ip: { version: 6, src: 'fd00:10::1:5', dst: 'fd00:10::1:6' }, udp: { sport: 51821, dport: 51821 } });
    expect(enc6.headers.outer!.ip.length).toBe(enc6.headers.ip.length + 80);
    const four = trace(t, from, `tcp://${server.ips[0]}:8080`);
    const enc4 = four.events.find((e) => e.kind === 'encap' && e.phase === 'request')!;
    expect(enc4.at.iface).toBe('wireguard.cali');
    expect(enc4.headers.outer).toMatchObject({ ip: { src: '10.0.1.5', dst: '10.0.1.6' }, udp: { dport: 51820 } });
    expect(enc4.headers.outer!.ip.version).toBeUndefined();
    // the device itself: no @NONE (no IFLA_LINK), an IPv6 /128 from the node's IPv6 block, MTU node - 80, ifindexes unique
    const node = buildDataplane(t).node('node-1');
    const wg6 = node.interfaces.find((i) => i.name === 'wg-v6.cali')!;
    expect(wg6.mtu).toBe(1420);
    expect(wg6.link).toBeUndefined();
    expect(wg6.addresses.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['fd00:10:244:1::4/128']);
    expect(new Set(node.interfaces.map((i) => i.ifindex)).size).toBe(node.interfaces.length);
  });

  it('Calico enforces NetworkPolicy on IPv6 packets too (felix renders it into ip6tables)', () => {
    const policy = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-from-dns-only, namespace: default }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ namespaceSelector: {}, podSelector: { matchLabels: { k8s-app: kube-dns } } }]
`;
    const t = loadText(DUAL + policy, ['cni=calico-vxlan']);
    const webs = t.pods.filter((p) => p.labels.app === 'web');
    const client = webs.find((p) => p.nodeName === 'node-1')!;
    const server = webs.find((p) => p.nodeName === 'node-2')!;
    const ip6 = server.ips.find((ip) => ip.includes(':'))!;
    const r = trace(t, `${client.namespace}/${client.name}`, `tcp://[${ip6}]:8080`);
    expect(r.dropped?.reason).toBe('policy');
    const denied = r.events.find((e) => e.kind === 'policy' && e.verdict === 'drop')!;
    expect(denied.command).toMatch(/^ip6tables-save -t filter/);
    expect(denied.headers.ip.version).toBe(6);
    // felix's ip6tables chains, with the rule that dropped it: the destination's cali-tw- chain.
    expect(denied.rule).toMatch(/^-A cali-tw-cali\w+ .*"Drop if no policies passed packet".* -j DROP$/);
    expect(denied.rules?.some((l) => l.startsWith('-A cali-to-wl-dispatch'))).toBe(true);
    expect(denied.detail).toContain('Calico felix (ip6tables');
    const allowedV6 = trace(t, 'kube-system/' + t.pods.find((p) => p.labels['k8s-app'] === 'kube-dns')!.name, `tcp://[${ip6}]:8080`);
    const accepted = allowedV6.events.find((e) => e.kind === 'policy' && e.verdict === 'accept' && e.at.element === `pod/${server.namespace}/${server.name}`);
    expect(accepted?.rules?.some((l) => /^-A cali-pi-/.test(l)), JSON.stringify(accepted?.rules)).toBe(true);
    // The same flow over IPv4 is denied as well: the policy selects pods, not address families.
    expect(trace(t, `${client.namespace}/${client.name}`, `tcp://${server.ips[0]}:8080`).dropped?.reason).toBe('policy');
  });

  it('ipBlock peers match the packet\'s family: a policy allowing only the IPv6 pod range lets the IPv6 flow in and drops the IPv4 one', () => {
    const policy = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-from-v6-pods, namespace: default }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ ipBlock: { cidr: "fd00:10:244::/56" } }]
`;
    const t = loadText(DUAL + policy, ['cni=calico-vxlan']);
    const webs = t.pods.filter((p) => p.labels.app === 'web');
    const client = webs.find((p) => p.nodeName === 'node-1')!;
    const server = webs.find((p) => p.nodeName === 'node-2')!;
    const ip6 = server.ips.find((ip) => ip.includes(':'))!;
    const v6 = trace(t, `${client.namespace}/${client.name}`, `tcp://[${ip6}]:8080`);
    expect(v6.ok, v6.dropped?.text).toBe(true);
    const allowed = v6.events.find((e) => e.kind === 'policy' && e.at.element === `pod/${server.namespace}/${server.name}`);
    expect(allowed?.verdict).not.toBe('drop');
    const v4 = trace(t, `${client.namespace}/${client.name}`, `tcp://${server.ips[0]}:8080`);
    expect(v4.dropped?.reason).toBe('policy');
    expect(v4.dropped?.text).toContain('web-from-v6-pods');
  });

  it('hairpin over IPv6: kube-proxy masquerades to the node address RFC 6724 picks (vxlan-v6.calico\'s, longest common prefix), as the kernel does; IPv4 keeps eth0\'s', () => {
    const t = loadText(DUAL, ['cni=calico-vxlan']);
    const web = t.pods.find((p) => p.labels.app === 'web' && p.nodeName === 'node-1')!;
    const ip6 = web.ips.find((ip) => ip.includes(':'))!;
    const r = trace(t, `${web.namespace}/${web.name}`, 'http://web-v6', { endpoint: `[${ip6}]:8080` });
    const line = r.conntrack['node-1'].find((l) => l.includes('dport=80 '))!;
    expect(line).toContain(`src=${ip6} dst=fd00:10:244:1:: sport=8080`);
    const r4 = trace(t, `${web.namespace}/${web.name}`, 'http://web-v4', { endpoint: `${web.ips[0]}:8080` });
    expect(r4.conntrack['node-1'].find((l) => l.includes('dport=80 '))).toContain(`src=${web.ips[0]} dst=10.0.1.5 sport=8080`);
  });

  it.each(['weave', 'weave-sleeve'])('%s refuses IPv6 walks, naming what the real plugin does', (cni) => {
    const { t, from, clusterIP } = setup(cni);
    let err: unknown;
    try {
      trace(t, from, `tcp://[${clusterIP}]:80`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceInputError);
    expect((err as Error).message).toMatch(/Weave Net has no IPv6 support/);
    expect(() => trace(t, from, 'curl http://web-v6')).toThrow(TraceInputError);
    // IPv4 still walks.
    expect(trace(t, from, 'curl http://web-v4').ok).toBe(true);
  });

  it('flannel keeps the IPv4 FLANNEL_MTU for pods, so a full-size IPv6 packet gets ICMPv6 packet too big at flannel-v6.1', () => {
    const { server, v6, t, from } = setup('flannel-vxlan');
    const r = trace(t, from, `udp://[${v6(server)}]:8080`, { size: 1400 });
    expect(r.ok).toBe(false);
    expect(r.dropped?.reason).toBe('mtu');
    expect(r.dropped?.text).toContain('exceed the MTU 1430 on node-1 flannel-v6.1');
    const icmp = r.events.find((e) => e.kind === 'icmp')!;
    expect(icmp.headers.ip.protocol).toBe('ICMPv6');
    expect(icmp.headers.icmp).toMatchObject({ type: 2, code: 0, text: 'packet too big, mtu 1430' });
    // RFC 4443: the error quotes as much of the packet as fits 1280 bytes.
    expect(icmp.headers.ip.length).toBe(1280);
  });

  it('tcpdump prints the IPv6 conversation with IP6 lines and the IPv6 VXLAN outer header', () => {
    const { server, v6, t, from, client } = setup('calico-vxlan');
    const r = trace(t, from, `tcp://[${v6(server)}]:8080`);
    const text = renderTcpdump(r, { node: 'node-1', iface: 'eth0' });
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(/^10:00:00\.\d{6} IP6 fd00:10::1:5\.\d+ > fd00:10::1:6\.4789: VXLAN, flags \[I\] \(0x08\), vni 4096$/);
    expect(lines[1]).toMatch(new RegExp(`^IP6 ${v6(client)}\\.52345 > ${v6(server)}\\.8080: Flags \\[S\\], seq \\d+, win \\d+, options \\[mss 1370,sackOK,TS val \\d+ ecr 0,nop,wscale 7\\], length 0$`));
  });
});

describe('Antrea dual-stack walks (OVS pipeline, CtZoneV6 65510, Geneve over IPv6)', () => {
  it('IPv6 pod to pod across nodes: NDP for the gateway through table IPv6, ct zone 65510, tun_ipv6_dst, Geneve with an outer IPv6 header between the node addresses', () => {
    const { t, client, server, v6, from } = setup('antrea-geneve');
    const r = trace(t, from, `tcp://[${v6(server)}]:8080`);
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.family).toBe(6);
    const req = r.events.filter((e) => e.phase === 'request');
    const veth = req.find((e) => e.kind === 'veth' && e.at.node === 'node-1')!;
    expect(veth.detail).toContain('neighbour solicitation for the gateway fd00:10:244:1::1 passes OVS table IPv6');
    expect(veth.detail).not.toContain('ARP');
    const ovs1 = req.find((e) => e.kind === 'ovs' && e.at.node === 'node-1')!;
    expect(ovs1.rules).toEqual([`Classifier (in_port=${buildDataplane(t).pod(client.namespace, client.name).hostPeer})`, 'SpoofGuard (source IP/MAC of the port)', 'IPv6 (NDP and multicast → NORMAL; other IPv6 packets go on)', 'ConntrackZone: ct(table=ConntrackState, zone=65510, nat)', 'ConntrackState: +new+trk']);
    const l3 = req.find((e) => e.kind === 'ovs' && e.action.startsWith('L3Forwarding:'))!;
    expect(l3.detail).toContain('tunnel destination to node-2\'s IPv6 transport address fd00:10::1:6 (tun_ipv6_dst');
    expect(l3.detail).toContain('L3DecTTL: hop limit 64 → 63');
    // One Geneve hop: outer IPv6 fd00:10::1:5 → fd00:10::1:6, UDP 6081, inner IPv6 unchanged.
    const encap = req.filter((e) => e.kind === 'encap');
    expect(encap).toHaveLength(1);
    const o = encap[0].headers.outer!;
    expect([o.ip.version, o.ip.src, o.ip.dst, o.udp?.dport, o.geneve?.vni]).toEqual([6, 'fd00:10::1:5', 'fd00:10::1:6', 6081, 0]);
    expect(o.ip.length - encap[0].headers.ip.length).toBe(70);
    expect([encap[0].headers.ip.src, encap[0].headers.ip.dst]).toEqual([v6(client), v6(server)]);
    expect(encap[0].detail).toContain('OVS table L3Forwarding sets tun_ipv6_dst=fd00:10::1:6 and outputs to antrea-tun0');
    const lines = renderTcpdump(r, { node: 'node-1', iface: 'eth0' }).trim().split('\n');
    expect(lines[0]).toMatch(/^10:00:00\.\d{6} IP6 fd00:10::1:5\.\d+ > fd00:10::1:6\.6081: Geneve, Flags \[none\], vni 0x0, proto TEB \(0x6558\)$/);
    // MSS 1370: antrea-agent gives pods MTU 1430 on an IPv6 node (1500 - 50 - 20), minus 60 bytes of IPv6 + TCP headers.
    expect(lines[1]).toMatch(new RegExp(`^IP6 ${v6(client)}\\.52345 > ${v6(server)}\\.8080: Flags \\[S\\], seq \\d+, win \\d+, options \\[mss 1370,`));
    // node-2 classifies the decapsulated packet from the tunnel port, tracks it in 65510 and decrements once more.
    const ovs2 = req.find((e) => e.kind === 'ovs' && e.at.node === 'node-2')!;
    expect(ovs2.rules).toEqual(['Classifier (in_port=genev_sys_6081)', 'ConntrackZone: ct(table=ConntrackState, zone=65510, nat)', 'ConntrackState: +new+trk']);
    expect(req.find((e) => e.kind === 'deliver')!.headers.ip.ttl).toBe(62);
    // conntrack -L -f ipv6 on both nodes: zone=65510, no NAT.
    for (const node of ['node-1', 'node-2']) {
      expect(r.conntrack[node]).toEqual([`tcp      6 432000 ESTABLISHED src=${v6(client)} dst=${v6(server)} sport=52345 dport=8080 src=${v6(server)} dst=${v6(client)} sport=8080 dport=52345 [ASSURED] mark=0 zone=65510 use=1`]);
    }
    expect(req.filter((e) => e.kind === 'conntrack').map((e) => e.command)).toEqual([`conntrack -L -f ipv6 -d ${v6(server)}`, `conntrack -L -f ipv6 -d ${v6(server)}`]);
  });

  it('the IPv4 walk of the same pods keeps zone 65520, tun_dst and the IPv4 underlay', () => {
    const { t, server, from } = setup('antrea-geneve');
    const r = trace(t, from, `tcp://${server.ips[0]}:8080`);
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.conntrack['node-1'][0]).toMatch(/ zone=65520 use=1$/);
    const encap = r.events.find((e) => e.phase === 'request' && e.kind === 'encap')!;
    expect([encap.headers.outer!.ip.version, encap.headers.outer!.ip.src, encap.headers.outer!.ip.dst]).toEqual([undefined, '10.0.1.5', '10.0.1.6']);
    expect(encap.detail).toContain('sets tun_dst=10.0.1.6');
    expect(r.events.some((e) => e.rules?.some((l) => l.startsWith('IPv6 (')))).toBe(false);
    expect(r.events.find((e) => e.phase === 'request' && e.kind === 'veth')!.detail).toContain('OVS answers ARP for the gateway 10.244.1.1');
  });

  it('IPv6 ClusterIP: AntreaProxy picks the endpoint in table ServiceLB and EndpointDNAT commits it in ct zone 65510; the reply is un-DNATed there', () => {
    const { t, client, server, v6, from, clusterIP } = setup('antrea-geneve');
    const r = trace(t, from, `tcp://[${clusterIP}]:80`, { endpoint: v6(server) });
    expect(r.ok, r.dropped?.text).toBe(true);
    const svc = r.events.find((e) => e.kind === 'service')!;
    expect(svc.action).toContain('AntreaProxy (OVS table ServiceLB');
    expect(svc.command).toBe('antctl get ovsflows -T ServiceLB');
    const dnat = r.events.find((e) => e.kind === 'dnat')!;
    expect(dnat.action).toBe(`EndpointDNAT: [${clusterIP}]:80 → [${v6(server)}]:8080`);
    expect(dnat.detail).toContain('conntrack zone 65510 (CtZoneV6');
    expect(dnat.detail).toContain('ip6tables rules exist on the node');
    // AntreaProxy, not kube-proxy: no ip6tables Service chains in the walk.
    expect(r.events.some((e) => e.command?.startsWith('ip6tables-save -t nat'))).toBe(false);
    const back = r.events.find((e) => e.kind === 'reverse-nat')!;
    expect(back.action).toBe(`reverse NAT in OVS ct zone 65510: [${v6(server)}]:8080 → [${clusterIP}]:80`);
    expect(r.conntrack['node-1']).toEqual([`tcp      6 432000 ESTABLISHED src=${v6(client)} dst=${clusterIP} sport=52345 dport=80 src=${v6(server)} dst=${v6(client)} sport=8080 dport=52345 [ASSURED] mark=0 zone=65510 use=1`]);
    expect(r.events.find((e) => e.kind === 'conntrack' && e.at.node === 'node-1')!.command).toBe(`conntrack -L -f ipv6 -d ${clusterIP}`);
  });

  it('an AAAA-only name resolves and connects over IPv6 through AntreaProxy', () => {
    const { t, from, clusterIP } = setup('antrea-geneve');
    const r = trace(t, from, 'curl http://web-v6');
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.family).toBe(6);
    expect(r.target?.ip).toBe(clusterIP);
    expect(Object.values(r.conntrack).flat().filter((l) => l.includes(`dst=${clusterIP} `)).every((l) => l.includes(' zone=65510 '))).toBe(true);
  });

  it('the pod MTU of 1430 fits Geneve over IPv6 exactly: a 1430-byte IPv6 packet leaves as 1500 bytes, one byte more is EMSGSIZE', () => {
    const { server, v6, t, from } = setup('antrea-geneve');
    const fits = trace(t, from, `udp://[${v6(server)}]:8080`, { size: 1430 - 48 });
    expect(fits.ok, fits.dropped?.text).toBe(true);
    const enc = fits.events.find((e) => e.phase === 'request' && e.kind === 'encap')!;
    expect([enc.headers.ip.length, enc.headers.outer!.ip.length]).toEqual([1430, 1500]);
    const big = trace(t, from, `udp://[${v6(server)}]:8080`, { size: 1430 - 48 + 1 });
    expect(big.dropped?.reason).toBe('mtu');
    expect(big.dropped?.text).toContain('mtu=1430');
  });
});

describe('IPv6 routes of the CNI models (ip -6 route)', () => {
  const nodeRoutes = (t: Topology, node: string) => renderIpRoute(buildDataplane(t).node(node), { family: 6 });
  const podRoutes = (t: Topology, p: PodModel) => renderIpRoute(buildDataplane(t).pod(p.namespace, p.name), { family: 6 });

  it('Calico: the pod goes via the cali veth\'s link-local address; /128 host routes and blackholed blocks on the node', () => {
    const { t, client, v6 } = setup('calico-bgp');
    expect(podRoutes(t, client)).toBe(`${v6(client)} dev eth0 proto kernel metric 256 pref medium\nfe80::/64 dev eth0 proto kernel metric 256 pref medium\ndefault via fe80::ecee:eeff:feee:eeee dev eth0 metric 1024 pref medium\n`);
    const n = nodeRoutes(t, 'node-1');
    expect(n).toContain('blackhole fd00:10:244:1::/122 dev lo proto bird metric 1024 pref medium\n');
    expect(n).toMatch(new RegExp(`^${v6(client)} dev cali[0-9a-f]{11} metric 1024 pref medium$`, 'm'));
    expect(n).toContain('fd00:10:244:2::/122 via fd00:10::1:6 dev eth0 proto bird metric 1024 pref medium\n');
    expect(n.trim().split('\n').pop()).toBe('default via fd00:10::1 dev eth0 metric 1024 pref medium');
    // The host side answers for the gateway address: it is the veth's own link-local address.
    const dp = buildDataplane(t).node('node-1');
    const cali = dp.interfaces.find((i) => i.name.startsWith('cali'))!;
    expect(cali.addresses).toEqual([expect.objectContaining({ family: 6, local: 'fe80::ecee:eeff:feee:eeee', scope: 'link' })]);
    expect(dp.sysctls[`net.ipv6.conf.${cali.name}.proxy_ndp`]).toBe('1');
  });

  it('Calico VXLAN: vxlan-v6.calico with VNI 4096, UDP 4789, MTU 1430, and pods get the IPv6 VXLAN MTU', () => {
    const { t, client } = setup('calico-vxlan');
    const dp = buildDataplane(t);
    const dev = dp.node('node-1').interfaces.find((i) => i.name === 'vxlan-v6.calico')!;
    expect(dev.mtu).toBe(1430);
    expect(dev.vxlan).toMatchObject({ id: 4096, dstport: 4789, local: 'fd00:10::1:5', learning: false });
    expect(dp.node('node-1').fdb).toEqual(expect.arrayContaining([expect.objectContaining({ dev: 'vxlan-v6.calico', dst: 'fd00:10::1:6' })]));
    expect(dp.pod(client.namespace, client.name).interfaces.find((i) => i.name === 'eth0')!.mtu).toBe(1430);
  });

  it('IPv4-only nodes (no IPv6 node network) get no IPv6 routes besides the kernel\'s link-local ones; an IPv6 walk says why it stops', () => {
    const t = loadText(DUAL.replace('nodeCIDR: [10.0.0.0/16, fd00:10::/64]', 'nodeCIDR: [10.0.0.0/16]').replace(', "fd00:10::1:5"', '').replace(', "fd00:10::1:6"', ''));
    const n = nodeRoutes(t, 'node-1');
    expect(n.split('\n').filter(Boolean).every((l) => l.startsWith('fe80::/64 '))).toBe(true);
    const client = t.pods.find((p) => p.labels.app === 'web' && p.nodeName === 'node-1')!;
    const r = trace(t, `${client.namespace}/${client.name}`, 'ping fd00:10:244:2::1', { family: 6 });
    expect(r.dropped?.reason).toBe('no-route');
    expect(r.dropped?.text).toContain('the CNI configures IPv6 only on dual-stack nodes');
  });
});
