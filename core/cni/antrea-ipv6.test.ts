// Antrea's dual-stack data plane (resources/samples/dual-stack.yaml with
// cni=antrea-*): antrea-gw0's IPv6 gateway address, the pods' IPv6 address and
// default route, the node's IPv6 routes to other nodes' pod CIDRs (encap: a /128
// to the peer's gateway + a PERMANENT neighbour with the global virtual MAC;
// noEncap: via the peer's IPv6 node address), the CNI ADD result with both
// families, Geneve/VXLAN over IPv6 between the nodes' IPv6 transport addresses,
// the MTU Antrea deducts for an IPv6 node, and IPv4-only clusters unchanged.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderIpAddr, renderIpNeigh, renderIpRoute, renderIpRouteGet } from '../render/iproute';
import { loadText } from '../trace/testing';
import { antreaInterfaceName } from './antrea';
import { buildDataplane, cniModelFor, encapsulate, printCniResult } from './index';

const DUAL = readFileSync(new URL('../../resources/samples/dual-stack.yaml', import.meta.url), 'utf8');
const topo = (cni: string) => loadText(DUAL, [`cni=${cni}`]);
const onNode = (t: ReturnType<typeof topo>, node: string) => t.pods.filter((p) => p.nodeName === node && !p.hostNetwork);
const inner6 = { srcIP: 'fd00:10:244:1::2', dstIP: 'fd00:10:244:2::2', protocol: 'TCP' as const, srcPort: 52345, dstPort: 8080, length: 1000 };

describe('Antrea dual-stack: addresses and routes', () => {
  it('geneve: antrea-gw0 holds the first address of each pod CIDR; ip -6 route has a /128 to each peer gateway and the peer CIDR via it', () => {
    const t = topo('antrea-geneve');
    const dp = buildDataplane(t).node('node-1');
    const vethLines = onNode(t, 'node-1').map((p) => `fe80::/64 dev ${antreaInterfaceName(p)} proto kernel metric 256 pref medium\n`).join('');
    expect(renderIpRoute(dp, { family: 6 })).toBe(
      'fd00:10::/64 dev eth0 proto kernel metric 256 pref medium\n' +
        'fd00:10:244:1::/64 dev antrea-gw0 proto kernel metric 256 pref medium\n' +
        // No `onlink` for IPv6 (route_linux.go AddRoutes): the peer's gateway gets its own /128, listed before the /64 (fib6 dump order).
        'fd00:10:244:2::1 dev antrea-gw0 metric 1024 pref medium\n' +
        'fd00:10:244:2::/64 via fd00:10:244:2::1 dev antrea-gw0 metric 1024 pref medium\n' +
        'fe80::/64 dev eth0 proto kernel metric 256 pref medium\n' +
        'fe80::/64 dev genev_sys_6081 proto kernel metric 256 pref medium\n' +
        'fe80::/64 dev antrea-gw0 proto kernel metric 256 pref medium\n' +
        vethLines +
        'default via fd00:10::1 dev eth0 metric 1024 pref medium\n',
    );
    // The peer gateway resolves to the global virtual MAC without neighbour discovery.
    expect(renderIpNeigh(dp, { dev: 'antrea-gw0' })).toBe('fd00:10:244:2::1 lladdr aa:bb:cc:dd:ee:ff PERMANENT \n');
    expect(renderIpAddr(dp, { dev: 'antrea-gw0', family: 6 })).toContain('    inet6 fd00:10:244:1::1/64 scope global \n');
    expect(renderIpRouteGet(dp, 'fd00:10:244:2::5').text).toBe('fd00:10:244:2::5 from :: via fd00:10:244:2::1 dev antrea-gw0 src fd00:10:244:1::1 metric 1024 pref medium\n');
    // IPv4 keeps its onlink route.
    expect(renderIpRoute(dp, { family: 4 })).toContain('10.244.2.0/24 via 10.244.2.1 dev antrea-gw0 onlink \n');
    // node-2 mirrors it.
    expect(renderIpRoute(buildDataplane(t).node('node-2'), { family: 6 })).toContain('fd00:10:244:1::/64 via fd00:10:244:1::1 dev antrea-gw0 metric 1024 pref medium\n');
    expect(dp.notes.join(' ')).toContain('tun_ipv6_dst');
    expect(dp.notes.join(' ')).not.toContain('not modelled');
  });

  it('noEncap: the peer\'s IPv6 pod CIDR via its IPv6 node address on eth0, no neighbour entry', () => {
    const t = topo('antrea-noencap');
    const dp = buildDataplane(t).node('node-1');
    const routes = renderIpRoute(dp, { family: 6 });
    expect(routes).toContain('fd00:10:244:2::/64 via fd00:10::1:6 dev eth0 metric 1024 pref medium\n');
    expect(routes).not.toContain('fd00:10:244:2::1 dev antrea-gw0');
    expect(dp.neighbours).toEqual([]);
    expect(dp.interfaces.find((i) => i.name === 'antrea-gw0')!.addresses).toEqual(expect.arrayContaining([expect.objectContaining({ family: 6, local: 'fd00:10:244:1::1', prefixlen: 64 })]));
  });

  it('pods get their IPv6 address with the node\'s IPv6 pod CIDR prefix and a default route via antrea-gw0 (ip -6 route in the pod)', () => {
    for (const cni of ['antrea-geneve', 'antrea-noencap']) {
      const t = topo(cni);
      const dp = buildDataplane(t);
      for (const [node, net] of [['node-1', 'fd00:10:244:1'], ['node-2', 'fd00:10:244:2']] as const) {
        const pod = onNode(t, node)[0];
        const ip6 = pod.ips.find((ip) => ip.includes(':'))!;
        expect(ip6.startsWith(`${net}::`)).toBe(true);
        const pdp = dp.pod(pod.namespace, pod.name);
        expect(renderIpRoute(pdp, { family: 6 })).toBe(`${net}::/64 dev eth0 proto kernel metric 256 pref medium\nfe80::/64 dev eth0 proto kernel metric 256 pref medium\ndefault via ${net}::1 dev eth0 metric 1024 pref medium\n`);
        expect(renderIpAddr(pdp, { dev: 'eth0', family: 6 })).toContain(`    inet6 ${ip6}/64 scope global \n`);
        // The IPv4 side is untouched.
        expect(renderIpRoute(pdp, { family: 4 })).toBe(`default via 10.244.${node.slice(-1)}.1 dev eth0 \n10.244.${node.slice(-1)}.0/24 dev eth0 proto kernel scope link src ${pod.ips[0]} \n`);
      }
    }
  });

  it('the CNI ADD result lists both addresses (host-local range sets in order) and a default route per family', () => {
    const t = topo('antrea-geneve');
    const pod = onNode(t, 'node-2')[0];
    const [ip4, ip6] = [pod.ips.find((ip) => !ip.includes(':'))!, pod.ips.find((ip) => ip.includes(':'))!];
    const r = cniModelFor(t).cniAddResult(t, pod);
    expect(r.cniVersion).toBe('0.3.0');
    expect(r.ips).toEqual([
      { version: '4', interface: 1, address: `${ip4}/24`, gateway: '10.244.2.1' },
      { version: '6', interface: 1, address: `${ip6}/64`, gateway: 'fd00:10:244:2::1' },
    ]);
    expect(r.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.244.2.1' },
      { dst: '::/0', gw: 'fd00:10:244:2::1' },
    ]);
    // Printed as the CNI prints it: 4-space indent, version before interface.
    expect(printCniResult(r)).toContain(`        {\n            "version": "6",\n            "interface": 1,\n            "address": "${ip6}/64",\n            "gateway": "fd00:10:244:2::1"\n        }\n`);
  });

  it('an IPv4-only cluster keeps the IPv4-only result, routes and MTU', () => {
    const t = loadText(DUAL.replace('clusterCIDR: [10.244.0.0/16, fd00:10:244::/56]', 'clusterCIDR: [10.244.0.0/16]').replace('serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]', 'serviceCIDR: [10.96.0.0/12]').replace('nodeCIDR: [10.0.0.0/16, fd00:10::/64]', 'nodeCIDR: [10.0.0.0/16]').replace(', "fd00:10::1:5"', '').replace(', "fd00:10::1:6"', '').replace(/\n\s+ipFamilyPolicy: \w+/g, '').replace(/\n\s+ipFamilies: \[IPv6\]/g, ''), ['cni=antrea-geneve']);
    const pod = onNode(t, 'node-1')[0];
    const r = cniModelFor(t).cniAddResult(t, pod);
    expect(r.ips).toHaveLength(1);
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
    expect(cniModelFor(t).podMtu(t)).toBe(1450);
    const dp = buildDataplane(t);
    expect(dp.node('node-1').interfaces.find((i) => i.name === 'antrea-gw0')!.addresses.filter((a) => a.scope === 'global')).toHaveLength(1);
    expect(renderIpRoute(dp.pod(pod.namespace, pod.name), { family: 6 })).toBe('fe80::/64 dev eth0 proto kernel metric 256 pref medium\n');
    expect(dp.node('node-1').notes.join(' ')).not.toContain('IPv6');
  });

  it('a dual-stack cluster whose nodes have no IPv6 address: IPv4 only on the nodes, and the note says why', () => {
    const t = loadText(DUAL.replace('nodeCIDR: [10.0.0.0/16, fd00:10::/64]', 'nodeCIDR: [10.0.0.0/16]').replace(', "fd00:10::1:5"', '').replace(', "fd00:10::1:6"', ''), ['cni=antrea-geneve']);
    const dp = buildDataplane(t).node('node-1');
    expect(renderIpRoute(dp, { family: 6 }).split('\n').filter(Boolean).every((l) => l.startsWith('fe80::/64 '))).toBe(true);
    expect(dp.notes.join(' ')).toContain('K8s Node should have an IPv6 address if IPv6 Pod CIDR is defined');
    expect(cniModelFor(t).podMtu(t)).toBe(1450);
  });
});

describe('Antrea dual-stack: tunnel and MTU', () => {
  it.each([
    ['antrea-geneve', 'geneve', 'genev_sys_6081', 6081],
    ['antrea-vxlan', 'vxlan', 'vxlan_sys_4789', 4789],
  ] as const)('%s: IPv6 pod packets ride %s over IPv6 between the nodes\' IPv6 addresses (+70 bytes); IPv4 over IPv4 (+50)', (cni, kind, device, port) => {
    const t = topo(cni);
    const m = cniModelFor(t);
    const e = encapsulate(m, t, 'node-1', 'node-2', inner6);
    expect(e).toMatchObject({ kind, underlay: 6, overhead: 70, device, maxInner: 1430 });
    expect([e.outer!.ip.src, e.outer!.ip.dst, e.outer!.ip.version, e.outer!.eth.ethertype]).toEqual(['fd00:10::1:5', 'fd00:10::1:6', 6, 'IPv6']);
    expect(e.outer!.udp).toMatchObject({ dstPort: port, length: 1000 + 70 - 40 });
    if (kind === 'geneve') {
      expect(e.outer!.geneve).toEqual({ vni: 0, protocolType: 0x6558, optionsLength: 0 });
      expect(e.explanation).toContain('outer IPv6 40 + UDP 8 + Geneve 8 (no options) + inner Ethernet 14 bytes');
    } else expect(e.outer!.vxlan).toEqual({ flags: 0x08, vni: 0 });
    const e4 = encapsulate(m, t, 'node-1', 'node-2', { ...inner6, srcIP: '10.244.1.2', dstIP: '10.244.2.2' });
    expect(e4).toMatchObject({ kind, underlay: 4, overhead: 50, device });
    expect([e4.outer!.ip.src, e4.outer!.ip.dst, e4.outer!.ip.version]).toEqual(['10.0.1.5', '10.0.1.6', undefined]);
    // antrea-agent deducts the IPv6 tunnel header (70) from the MTU when the node has an IPv6 address: 1430 for both families.
    expect(m.podMtu(t)).toBe(1430);
    const dp = buildDataplane(t);
    expect(dp.node('node-1').interfaces.find((i) => i.name === 'antrea-gw0')!.mtu).toBe(1430);
    const pod = onNode(t, 'node-1')[0];
    expect(dp.pod(pod.namespace, pod.name).interfaces.find((i) => i.name === 'eth0')!.mtu).toBe(1430);
  });

  it('noEncap: no encapsulation for either family, pod MTU = node MTU', () => {
    const t = topo('antrea-noencap');
    const m = cniModelFor(t);
    expect(encapsulate(m, t, 'node-1', 'node-2', inner6).kind).toBe('none');
    expect(m.podMtu(t)).toBe(1500);
  });
});
