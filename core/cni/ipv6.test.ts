// The IPv6 side of the CNI models on a dual-stack topology: tunnels and their
// outer header family, the pod and node routes `ip -6 route` prints, the
// IPv6 entries of the CNI ADD result.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderIpRoute, renderIpRouteGet } from '../render/iproute';
import { traceContext } from '../trace/context';
import { loadText } from '../trace/testing';
import { buildDataplane, cniModelFor, encapsulate, masqueradeSource } from './index';

const DUAL = readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8');
const topo = (cni: string) => loadText(DUAL, [`cni=${cni}`]);
const inner6 = { srcIP: 'fd00:10:244:1::2', dstIP: 'fd00:10:244:2::2', protocol: 'TCP' as const, srcPort: 52345, dstPort: 8080, length: 1000 };
const inner4 = { ...inner6, srcIP: '10.244.1.2', dstIP: '10.244.2.2' };

describe('encapsulation of IPv6 pod packets', () => {
  it.each([
    // cni, kind for IPv6, outer family, overhead, device
    ['calico-vxlan', 'vxlan', 6, 70, 'vxlan-v6.calico'],
    ['flannel-vxlan', 'vxlan', 6, 70, 'flannel-v6.1'],
    ['cilium-vxlan', 'vxlan', 4, 50, 'cilium_vxlan'],
    ['cilium-geneve', 'geneve', 4, 50, 'cilium_geneve'],
    ['calico-ipip', 'none', undefined, 0, undefined],
    ['calico-bgp', 'none', undefined, 0, undefined],
  ] as const)('%s: %s, outer IPv%s, +%i bytes', (cni, kind, family, overhead, device) => {
    const t = topo(cni);
    const e = encapsulate(cniModelFor(t), t, 'node-1', 'node-2', inner6);
    expect(e.kind).toBe(kind);
    expect(e.overhead).toBe(overhead);
    expect(e.device).toBe(device);
    if (family === undefined) {
      expect(e.outer).toBeUndefined();
      return;
    }
    expect(e.underlay).toBe(family);
    expect(e.outer!.eth.ethertype).toBe(family === 6 ? 'IPv6' : 'IPv4');
    expect(e.outer!.ip.version).toBe(family === 6 ? 6 : undefined);
    expect([e.outer!.ip.src, e.outer!.ip.dst]).toEqual(family === 6 ? ['fd00:10::1:5', 'fd00:10::1:6'] : ['10.0.1.5', '10.0.1.6']);
    expect(e.outer!.ip.length).toBe(1000 + overhead);
    expect(e.outer!.udp!.length).toBe(1000 + overhead - (family === 6 ? 40 : 20));
    expect(e.maxInner).toBe(1500 - overhead);
    // The trace context's memoised copy agrees, and IPv4 in the same cluster keeps its own tunnel.
    const ctx = traceContext(t);
    expect(ctx.encapsulate('node-1', 'node-2', inner6)).toEqual(e);
    const e4 = ctx.encapsulate('node-1', 'node-2', inner4);
    expect(e4.underlay).toBe(4);
    expect(e4).toEqual(encapsulate(cniModelFor(t), t, 'node-1', 'node-2', inner4));
  });

  it('Calico IP-in-IP carries IPv4 only: IPv6 of the same pair is routed natively', () => {
    const t = topo('calico-ipip');
    const m = cniModelFor(t);
    expect(m.encapsulationBetween(t, 'node-1', 'node-2')).toBe('ipip');
    expect(m.encapsulationBetween(t, 'node-1', 'node-2', 6)).toBe('none');
    expect(buildDataplane(t).node('node-1').notes.join(' ')).toContain('Calico has no IPv6 IP-in-IP');
  });
});

describe('IPv6 routes and addresses per CNI', () => {
  it('flannel: cni0 holds the IPv6 gateway, pods route default and the IPv6 cluster network via it', () => {
    const t = topo('flannel-vxlan');
    const dp = buildDataplane(t);
    const pod = t.pods.find((p) => p.nodeName === 'node-1' && !p.hostNetwork)!;
    const ip6 = pod.ips.find((ip) => ip.includes(':'))!;
    expect(renderIpRoute(dp.pod(pod.namespace, pod.name), { family: 6 })).toBe(
      // fib6 dump order, checked on a real kernel: the /64 inside the /56 comes first.
      'fd00:10:244:1::/64 dev eth0 proto kernel metric 256 pref medium\n' +
        'fd00:10:244::/56 via fd00:10:244:1::1 dev eth0 metric 1024 pref medium\n' +
        'fe80::/64 dev eth0 proto kernel metric 256 pref medium\n' +
        'default via fd00:10:244:1::1 dev eth0 metric 1024 pref medium\n',
    );
    expect(dp.pod(pod.namespace, pod.name).interfaces.find((i) => i.name === 'eth0')!.addresses).toEqual(expect.arrayContaining([expect.objectContaining({ family: 6, local: ip6, prefixlen: 64 })]));
    const node = dp.node('node-1');
    expect(node.interfaces.find((i) => i.name === 'cni0')!.addresses).toEqual(expect.arrayContaining([expect.objectContaining({ family: 6, local: 'fd00:10:244:1::1', prefixlen: 64 })]));
    const v6dev = node.interfaces.find((i) => i.name === 'flannel-v6.1')!;
    expect(v6dev).toMatchObject({ mtu: 1430, vxlan: { id: 1, dstport: 8472, local: 'fd00:10::1:5' } });
    expect(node.neighbours).toEqual(expect.arrayContaining([expect.objectContaining({ ip: 'fd00:10:244:2::', dev: 'flannel-v6.1', state: 'PERMANENT' })]));
    // Pods keep FLANNEL_MTU (computed for the IPv4 VXLAN header).
    expect(cniModelFor(t).podMtu(t)).toBe(1450);
  });

  it('flannel host-gw routes the peer\'s IPv6 subnet via its IPv6 node address', () => {
    const t = topo('flannel-host-gw');
    expect(renderIpRoute(buildDataplane(t).node('node-1'), { family: 6 })).toContain('fd00:10:244:2::/64 via fd00:10::1:6 dev eth0 metric 1024 pref medium\n');
  });

  it('Cilium: an IPv6 router IP on cilium_host and IPv6 routes in the pod', () => {
    const t = topo('cilium-vxlan');
    const dp = buildDataplane(t);
    const pod = t.pods.find((p) => p.nodeName === 'node-1' && !p.hostNetwork)!;
    const routes = renderIpRoute(dp.pod(pod.namespace, pod.name), { family: 6 });
    expect(routes).toContain('fd00:10:244:1::1 dev eth0 metric 1024 pref medium\n');
    expect(routes).toContain('default via fd00:10:244:1::1 dev eth0 metric 1024 mtu 1450 pref medium\n');
    const host = dp.node('node-1').interfaces.find((i) => i.name === 'cilium_host')!;
    expect(host.addresses).toEqual(expect.arrayContaining([expect.objectContaining({ family: 6, local: 'fd00:10:244:1::1', prefixlen: 128 })]));
    const ipcache = dp.node('node-1').maps.find((m) => m.name === 'cilium_ipcache')!;
    expect(ipcache.rows.some(([k, v]) => k === `${t.pods.find((p) => p.nodeName === 'node-2' && !p.hostNetwork)!.ips.find((ip) => ip.includes(':'))}/128` && v.includes('tunnelendpoint=10.0.1.6'))).toBe(true);
  });

  it('Calico: the CNI result lists the IPv6 /128 and its block route', () => {
    const t = topo('calico-vxlan');
    const pod = t.pods.find((p) => p.nodeName === 'node-1' && !p.hostNetwork)!;
    const r = cniModelFor(t).cniAddResult(t, pod) as { ips: { address: string; version?: string }[]; routes: { dst: string }[] };
    const ip6 = pod.ips.find((ip) => ip.includes(':'))!;
    expect(r.ips).toEqual(expect.arrayContaining([expect.objectContaining({ address: `${ip6}/128`, version: '6' })]));
    expect(r.routes).toEqual(expect.arrayContaining([{ dst: `${ip6}/122` }]));
  });

  it('ip route get for an IPv6 destination prints the fib6 form (from ::, metric, pref)', () => {
    const t = topo('calico-vxlan');
    const dp = buildDataplane(t);
    const pod = t.pods.find((p) => p.nodeName === 'node-1' && !p.hostNetwork)!;
    const ip6 = pod.ips.find((ip) => ip.includes(':'))!;
    expect(renderIpRouteGet(dp.pod(pod.namespace, pod.name), 'fd00:10:96::c').text).toBe(`fd00:10:96::c from :: via fe80::ecee:eeff:feee:eeee dev eth0 src ${ip6} metric 1024 pref medium\n`);
    expect(renderIpRouteGet(dp.node('node-1'), 'fd00:10::1:5').text).toBe('local fd00:10::1:5 from :: dev lo table local proto kernel src fd00:10::1:5 metric 0 pref medium\n');
    // A forwarding node answers its prefixes' subnet-router anycast addresses.
    expect(renderIpRouteGet(dp.node('node-1'), 'fd00:10::').text).toBe('anycast fd00:10:: from :: dev lo table local proto kernel src fd00:10:: metric 0 pref medium\n');
    expect(renderIpRoute(dp.node('node-1'), { family: 6, table: 'local' })).toContain('anycast fd00:10:: dev eth0 proto kernel metric 0 pref medium\n');
    expect(renderIpRouteGet(dp.node('node-1'), 'fd00:10:244:2::9').text).toBe('fd00:10:244:2::9 from :: via fd00:10:244:2:: dev vxlan-v6.calico src fd00:10:244:1:: metric 1024 pref medium\n');
  });
});

describe('masqueradeSource: the address MASQUERADE gives a hairpinned pod, per family', () => {
  const local = (cni: string) => {
    const t = topo(cni);
    const pod = t.pods.find((p) => p.nodeName === 'node-1' && !p.hostNetwork)!;
    return { node: buildDataplane(t).node('node-1'), v4: pod.ips.find((ip) => !ip.includes(':'))!, v6: pod.ips.find((ip) => ip.includes(':'))! };
  };
  it('flannel: the packet leaves on cni0, so cni0\'s address of that family (10.244.1.1, fd00:10:244:1::1)', () => {
    const { node, v4, v6 } = local('flannel-vxlan');
    expect(masqueradeSource(node, v4)).toBe('10.244.1.1');
    expect(masqueradeSource(node, v6)).toBe('fd00:10:244:1::1');
  });
  it('calico: the host veth has no address; IPv4 takes eth0\'s, IPv6 the longest common prefix (vxlan-v6.calico\'s in the pod range)', () => {
    const { node, v4, v6 } = local('calico-vxlan');
    expect(masqueradeSource(node, v4)).toBe('10.0.1.5');
    expect(masqueradeSource(node, v6)).toBe('fd00:10:244:1::');
    // leaving on eth0 towards another network: eth0's own address
    expect(masqueradeSource(node, '192.0.2.1')).toBe('10.0.1.5');
  });
});
