// Each CNI's node routing table and pod interfaces for the seed's
// three-node cluster (nodes 10.0.1.5-7, pods 10.244.1.5 / 10.244.2.8 /
// 10.244.3.9), written out as the `ip route` text a real node prints.

import { describe, expect, it } from 'vitest';
import { renderIpAddr, renderIpRoute } from '../render/iproute';
import { buildDataplane, getCniModel, printCniResult, routeLookup } from './index';
import { testTopology, type TestTopologyOptions } from './testing';
import type { CniPlugin } from '../model/types';

const text = (...lines: string[]) => lines.map((l) => `${l}\n`).join('');

function setup(cni: string, o: TestTopologyOptions = {}) {
  const [plugin, mode] = cni.split(/-(.*)/s) as [CniPlugin, string];
  const t = testTopology({ plugin, mode, ...o });
  return { t, model: getCniModel(plugin, mode), dp: buildDataplane(t) };
}

// Nodes in two subnets: node-3 sits in 10.0.2.0/24.
const SPLIT = {
  nodeCIDRs: ['10.0.1.0/24', '10.0.2.0/24'],
  nodes: [
    { name: 'node-1', ip: '10.0.1.5', podCIDR: '10.244.1.0/24' },
    { name: 'node-2', ip: '10.0.1.6', podCIDR: '10.244.2.0/24' },
    { name: 'node-3', ip: '10.0.2.7', podCIDR: '10.244.3.0/24' },
  ],
};

const UPLINK = ['default via 10.0.0.1 dev eth0 ', '10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.1.5 '];

describe('Calico', () => {
  it('BGP: blackhole for the local block, /32 per local pod, proto bird per remote block', () => {
    const { dp } = setup('calico-bgp');
    expect(renderIpRoute(dp.node('node-1'))).toBe(
      text(
        ...UPLINK,
        'blackhole 10.244.1.0/26 proto bird ',
        '10.244.1.5 dev cali5e1c4d6c68c scope link ',
        '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird ',
        '10.244.3.0/26 via 10.0.1.7 dev eth0 proto bird ',
      ),
    );
    // The receiving node routes to its pod through a host route (the seed's Step 5).
    expect(renderIpRoute(dp.node('node-2'))).toContain('10.244.2.8 dev cali');
    expect(renderIpRoute(dp.node('node-2'))).toContain('10.244.1.0/26 via 10.0.1.5 dev eth0 proto bird \n');
  });

  it('VXLAN: felix routes via each remote VTEP onlink, blackhole proto 80, static neighbours and FDB', () => {
    const { dp } = setup('calico-vxlan');
    const n1 = dp.node('node-1');
    expect(renderIpRoute(n1)).toBe(
      text(
        ...UPLINK,
        'blackhole 10.244.1.0/26 proto 80 ',
        '10.244.1.5 dev cali5e1c4d6c68c scope link ',
        '10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink ',
        '10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink ',
      ),
    );
    const vx = n1.interfaces.find((i) => i.name === 'vxlan.calico')!;
    expect(vx.vxlan).toEqual({ id: 4096, external: false, local: '10.0.1.5', dev: 'eth0', dstport: 4789, learning: false, ageing: 300 });
    expect(vx.mtu).toBe(1450);
    expect(vx.addresses.filter((a) => a.family === 4)).toEqual([{ family: 4, local: '10.244.1.0', prefixlen: 32, scope: 'global' }]);
    const n2vtep = dp.node('node-2').interfaces.find((i) => i.name === 'vxlan.calico')!.mac;
    expect(n1.neighbours).toContainEqual(expect.objectContaining({ ip: '10.244.2.0', dev: 'vxlan.calico', lladdr: n2vtep, state: 'PERMANENT' }));
    expect(n1.fdb).toContainEqual(expect.objectContaining({ mac: n2vtep, dev: 'vxlan.calico', dst: '10.0.1.6', self: true, state: 'permanent' }));
    expect(n1.interfaces.find((i) => i.name.startsWith('cali'))!.mtu).toBe(1450);
  });

  it('IPIP: remote blocks via the peer on tunl0 onlink; tunl0 has MTU 1480 and a /32 from the block', () => {
    const { dp } = setup('calico-ipip');
    const n1 = dp.node('node-1');
    expect(renderIpRoute(n1)).toBe(
      text(
        ...UPLINK,
        'blackhole 10.244.1.0/26 proto bird ',
        '10.244.1.5 dev cali5e1c4d6c68c scope link ',
        '10.244.2.0/26 via 10.0.1.6 dev tunl0 proto bird onlink ',
        '10.244.3.0/26 via 10.0.1.7 dev tunl0 proto bird onlink ',
      ),
    );
    expect(renderIpAddr(n1, { dev: 'tunl0' })).toBe(
      text(
        '3: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu 1480 qdisc noqueue state UNKNOWN group default qlen 1000',
        '    link/ipip 0.0.0.0 brd 0.0.0.0',
        '    inet 10.244.1.0/32 scope global tunl0',
        '       valid_lft forever preferred_lft forever',
      ),
    );
  });

  it('IPIP CrossSubnet: native routes to the same subnet, IPIP to the other one', () => {
    const { dp } = setup('calico-ipip-crosssubnet', SPLIT);
    expect(renderIpRoute(dp.node('node-1'))).toBe(
      text(
        'default via 10.0.1.1 dev eth0 ',
        '10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.5 ',
        'blackhole 10.244.1.0/26 proto bird ',
        '10.244.1.5 dev cali5e1c4d6c68c scope link ',
        '10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird ',
        '10.244.3.0/26 via 10.0.2.7 dev tunl0 proto bird onlink ',
      ),
    );
  });

  it('VXLAN CrossSubnet: felix same-subnet routes are proto 80 onlink via the node IP', () => {
    const { dp, model, t } = setup('calico-vxlan-crosssubnet', SPLIT);
    expect(renderIpRoute(dp.node('node-1'))).toBe(
      text(
        'default via 10.0.1.1 dev eth0 ',
        '10.0.1.0/24 dev eth0 proto kernel scope link src 10.0.1.5 ',
        'blackhole 10.244.1.0/26 proto 80 ',
        '10.244.1.5 dev cali5e1c4d6c68c scope link ',
        '10.244.2.0/26 via 10.0.1.6 dev eth0 proto 80 onlink ',
        '10.244.3.0/26 via 10.244.3.0 dev vxlan.calico onlink ',
      ),
    );
    expect(model.encapsulationBetween(t, 'node-1', 'node-2')).toBe('none');
    expect(model.encapsulationBetween(t, 'node-1', 'node-3')).toBe('vxlan');
  });

  it('follows the topology blocks: two /26 blocks on a node give two blackholes and two remote routes', () => {
    const { dp } = setup('calico-bgp', {
      nodes: [
        { name: 'node-1', ip: '10.0.1.5', podCIDR: '10.244.1.0/24', blocks: ['10.244.1.0/26', '10.244.1.64/26'] },
        { name: 'node-2', ip: '10.0.1.6', podCIDR: '10.244.2.0/24' },
      ],
      pods: [
        { name: 'a', node: 'node-1', ip: '10.244.1.5' },
        { name: 'b', node: 'node-1', ip: '10.244.1.70' },
        { name: 'c', node: 'node-2', ip: '10.244.2.8' },
      ],
    });
    const n1 = renderIpRoute(dp.node('node-1'));
    expect(n1).toContain('blackhole 10.244.1.0/26 proto bird \n10.244.1.5 dev cali');
    expect(n1).toMatch(/blackhole 10\.244\.1\.64\/26 proto bird \n10\.244\.1\.70 dev cali[0-9a-f]{11} scope link \n/);
    expect(renderIpRoute(dp.node('node-2'))).toContain('10.244.1.0/26 via 10.0.1.5 dev eth0 proto bird \n10.244.1.64/26 via 10.0.1.5 dev eth0 proto bird \n');
  });

  it('pod: /32 on eth0, default via 169.254.1.1, host veth ee:ee:ee:ee:ee:ee with proxy ARP', () => {
    const { dp } = setup('calico-bgp');
    const pod = dp.pod('default', 'pod-a');
    expect(renderIpRoute(pod)).toBe(text('default via 169.254.1.1 dev eth0 ', '169.254.1.1 dev eth0 scope link '));
    const eth0 = pod.interfaces.find((i) => i.name === 'eth0')!;
    expect(eth0.addresses.filter((a) => a.family === 4)).toEqual([{ family: 4, local: '10.244.1.5', prefixlen: 32, scope: 'global' }]);
    expect(pod.hostPeer).toBe('cali5e1c4d6c68c');
    const node = dp.node('node-1');
    const cali = node.interfaces.find((i) => i.name === pod.hostPeer)!;
    expect(cali.mac).toBe('ee:ee:ee:ee:ee:ee');
    expect(cali.addresses.filter((a) => a.family === 4)).toEqual([]);
    expect(node.sysctls['net.ipv4.conf.cali5e1c4d6c68c.proxy_arp']).toBe('1');
    // The pair points at each other: eth0@if<host index>, cali…@if2.
    expect(eth0.link).toEqual({ kind: 'other-netns', ifindex: cali.ifindex, netnsid: 0 });
    expect(cali.link).toMatchObject({ kind: 'other-netns', ifindex: eth0.ifindex });
    expect(renderIpAddr(node, { dev: pod.hostPeer })).toMatch(
      /^3: cali5e1c4d6c68c@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \n {4}link\/ether ee:ee:ee:ee:ee:ee brd ff:ff:ff:ff:ff:ff link-netns cni-[0-9a-f-]{36}\n {4}inet6 fe80::ecee:eeff:feee:eeee\/64 scope link \n/,
    );
  });

  it('CNI result: /32, no gateway, host and container interfaces, calico-ipam route', () => {
    const { t, model } = setup('calico-bgp');
    const r = model.cniAddResult(t, t.pods[0]) as Record<string, unknown>;
    expect(Object.keys(r)).toEqual(['cniVersion', 'interfaces', 'ips', 'routes', 'dns']);
    expect(r.cniVersion).toBe('0.3.1');
    expect(r.ips).toEqual([{ version: '4', interface: 1, address: '10.244.1.5/32' }]);
    expect(r.routes).toEqual([{ dst: '10.244.1.5/26' }]);
    expect((r.interfaces as { name: string }[]).map((i) => i.name)).toEqual(['cali5e1c4d6c68c', 'eth0']);
    expect(printCniResult(r)).toMatch(/^\{\n {4}"cniVersion": "0\.3\.1",\n {4}"interfaces": \[/);
  });
});

describe('Cilium', () => {
  it('VXLAN: local CIDR and remote CIDRs via the router IP on cilium_host, remote ones with the route MTU', () => {
    const { dp } = setup('cilium-vxlan');
    expect(renderIpRoute(dp.node('node-1'))).toBe(
      text(
        ...UPLINK,
        '10.244.1.0/24 via 10.244.1.1 dev cilium_host proto kernel src 10.244.1.1 ',
        '10.244.1.1 dev cilium_host proto kernel scope link ',
        '10.244.2.0/24 via 10.244.1.1 dev cilium_host proto kernel src 10.244.1.1 mtu 1450 ',
        '10.244.3.0/24 via 10.244.1.1 dev cilium_host proto kernel src 10.244.1.1 mtu 1450 ',
      ),
    );
    const n1 = dp.node('node-1');
    expect(n1.interfaces.map((i) => i.name).slice(0, 5)).toEqual(['lo', 'eth0', 'cilium_net', 'cilium_host', 'cilium_vxlan']);
    expect(n1.interfaces.find((i) => i.name === 'cilium_vxlan')!.vxlan).toMatchObject({ external: true, dstport: 8472, learning: false });
    expect(n1.maps.find((m) => m.name === 'cilium_tunnel_map')!.rows).toEqual([
      ['10.244.2.0:0', '10.0.1.6:0'],
      ['10.244.3.0:0', '10.0.1.7:0'],
    ]);
  });

  it('native routing with autoDirectNodeRoutes: remote CIDRs via the peer node IP', () => {
    const { dp } = setup('cilium-native');
    expect(renderIpRoute(dp.node('node-1'))).toBe(
      text(
        ...UPLINK,
        '10.244.1.0/24 via 10.244.1.1 dev cilium_host proto kernel src 10.244.1.1 ',
        '10.244.1.1 dev cilium_host proto kernel scope link ',
        '10.244.2.0/24 via 10.0.1.6 dev eth0 proto kernel ',
        '10.244.3.0/24 via 10.0.1.7 dev eth0 proto kernel ',
      ),
    );
  });

  it('native routing skips peers in another subnet and says why', () => {
    const { dp } = setup('cilium-native', SPLIT);
    const n1 = dp.node('node-1');
    expect(renderIpRoute(n1)).not.toContain('10.244.3.0/24');
    expect(n1.notes.join('\n')).toContain('autoDirectNodeRoutes skips node-3');
  });

  it('pod: /32, router IP on-link, default route carries the route MTU; lxc peer, eth0 index = lxc + 1', () => {
    const { dp } = setup('cilium-geneve');
    const pod = dp.pod('default', 'pod-a');
    expect(renderIpRoute(pod)).toBe(text('default via 10.244.1.1 dev eth0 mtu 1450 ', '10.244.1.1 dev eth0 scope link '));
    expect(pod.hostPeer).toMatch(/^lxc[0-9a-f]{12}$/);
    const lxc = dp.node('node-1').interfaces.find((i) => i.name === pod.hostPeer)!;
    const eth0 = pod.interfaces.find((i) => i.name === 'eth0')!;
    expect(eth0.ifindex).toBe(lxc.ifindex + 1);
    expect(eth0.mtu).toBe(1500); // the veth keeps the device MTU
  });

  it('CNI result: gateway is the router IP, routes to it and default', () => {
    const { t, model } = setup('cilium-vxlan');
    const r = model.cniAddResult(t, t.pods[0]) as Record<string, unknown>;
    expect(r.ips).toEqual([{ version: '4', interface: 1, address: '10.244.1.5/32', gateway: '10.244.1.1' }]);
    expect(r.routes).toEqual([{ dst: '10.244.1.1/32' }, { dst: '0.0.0.0/0', gw: '10.244.1.1' }]);
  });
});

describe('Flannel', () => {
  it('VXLAN: cni0 connected route, remote subnets via their .0 on flannel.1 onlink', () => {
    const { dp } = setup('flannel-vxlan');
    const n1 = dp.node('node-1');
    expect(renderIpRoute(n1)).toBe(
      text(
        ...UPLINK,
        '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1 ',
        '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink ',
        '10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink ',
      ),
    );
    const f = n1.interfaces.find((i) => i.name === 'flannel.1')!;
    expect(f.vxlan).toEqual({ id: 1, external: false, local: '10.0.1.5', dev: 'eth0', dstport: 8472, learning: false, ageing: 300 });
    expect(f.mtu).toBe(1450);
    expect(f.addresses.filter((a) => a.family === 4)).toEqual([{ family: 4, local: '10.244.1.0', prefixlen: 32, scope: 'global' }]);
    const vtep2 = dp.node('node-2').interfaces.find((i) => i.name === 'flannel.1')!.mac;
    expect(n1.neighbours).toContainEqual(expect.objectContaining({ ip: '10.244.2.0', dev: 'flannel.1', lladdr: vtep2, state: 'PERMANENT' }));
    expect(n1.fdb).toContainEqual(expect.objectContaining({ mac: vtep2, dev: 'flannel.1', dst: '10.0.1.6', self: true, state: 'permanent' }));
  });

  it('host-gw: remote subnets via the node IP on eth0', () => {
    const { dp } = setup('flannel-host-gw');
    expect(renderIpRoute(dp.node('node-1'))).toBe(
      text(...UPLINK, '10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1 ', '10.244.2.0/24 via 10.0.1.6 dev eth0 ', '10.244.3.0/24 via 10.0.1.7 dev eth0 '),
    );
  });

  it('pod: /24 on eth0, default and cluster routes via cni0 (bridge plugin with isDefaultGateway)', () => {
    const { dp } = setup('flannel-vxlan');
    const pod = dp.pod('default', 'pod-a');
    expect(renderIpRoute(pod)).toBe(text('default via 10.244.1.1 dev eth0 ', '10.244.0.0/16 via 10.244.1.1 dev eth0 ', '10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.5 '));
    expect(pod.hostPeer).toMatch(/^veth[0-9a-f]{8}$/);
    expect(dp.node('node-1').interfaces.find((i) => i.name === pod.hostPeer)!.master).toBe('cni0');
  });
});

describe('Weave and Antrea', () => {
  it('Weave: one flat subnet on the weave bridge, no per-node routes, MTU 1376', () => {
    const { dp } = setup('weave-fastdp');
    expect(renderIpRoute(dp.node('node-1'))).toBe(text(...UPLINK, '10.244.0.0/16 dev weave proto kernel scope link src 10.244.1.1 '));
    const pod = dp.pod('default', 'pod-a');
    expect(renderIpRoute(pod)).toBe(text('default via 10.244.1.1 dev eth0 ', '10.244.0.0/16 dev eth0 proto kernel scope link src 10.244.1.5 '));
    expect(pod.interfaces.find((i) => i.name === 'eth0')!.mtu).toBe(1376);
    expect(dp.node('node-1').interfaces.map((i) => i.name)).toEqual(expect.arrayContaining(['datapath', 'weave', 'vethwe-datapath', 'vethwe-bridge', 'vxlan-6784']));
    expect(setup('weave-sleeve').dp.node('node-1').interfaces.map((i) => i.name)).not.toContain('datapath');
  });

  it('Antrea: remote pod CIDRs via the peer gateway onlink on antrea-gw0; noEncap via the node IP', () => {
    const { dp } = setup('antrea-geneve');
    expect(renderIpRoute(dp.node('node-1'))).toBe(
      text(
        ...UPLINK,
        '10.244.1.0/24 dev antrea-gw0 proto kernel scope link src 10.244.1.1 ',
        '10.244.2.0/24 via 10.244.2.1 dev antrea-gw0 onlink ',
        '10.244.3.0/24 via 10.244.3.1 dev antrea-gw0 onlink ',
      ),
    );
    expect(renderIpRoute(dp.pod('default', 'pod-a'))).toBe(text('default via 10.244.1.1 dev eth0 ', '10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.5 '));
    expect(renderIpRoute(setup('antrea-noencap').dp.node('node-1'))).toContain('10.244.2.0/24 via 10.0.1.6 dev eth0 \n');
    const ports = dp.node('node-1').maps[0].rows;
    expect(ports.slice(0, 2)).toEqual([
      ['1', 'antrea-tun0', 'geneve (remote_ip=flow)'],
      ['2', 'antrea-gw0', 'internal'],
    ]);
  });
});

describe('every plugin and mode', () => {
  const all = [
    ['calico', ['bgp', 'vxlan', 'ipip', 'ipip-crosssubnet', 'vxlan-crosssubnet']],
    ['cilium', ['native', 'vxlan', 'geneve']],
    ['flannel', ['vxlan', 'host-gw']],
    ['weave', ['fastdp', 'sleeve']],
    ['antrea', ['geneve', 'vxlan', 'noencap']],
  ] as const;
  for (const [plugin, modes] of all) {
    for (const mode of modes) {
      it(`${plugin}-${mode}: pods and host peers are consistent, ifindexes unique, every pod reachable from node-1`, () => {
        const { dp, t } = setup(`${plugin}-${mode}`);
        for (const n of dp.nodes.values()) {
          const idx = n.interfaces.map((i) => i.ifindex);
          expect(new Set(idx).size).toBe(idx.length);
          expect(new Set(n.interfaces.map((i) => i.name)).size).toBe(n.interfaces.length);
        }
        for (const p of t.pods) {
          const pod = dp.pod(p.namespace, p.name);
          const node = dp.node(p.nodeName);
          const peer = node.interfaces.find((i) => i.name === pod.hostPeer);
          expect(peer, `${pod.hostPeer} on ${p.nodeName}`).toBeDefined();
          expect(peer!.name.length).toBeLessThanOrEqual(15);
          const eth0 = pod.interfaces.find((i) => i.name === 'eth0')!;
          expect(eth0.link).toMatchObject({ ifindex: peer!.ifindex });
          expect(peer!.link).toMatchObject({ ifindex: eth0.ifindex });
          const hit = routeLookup(dp.node('node-1'), p.ips[0]);
          expect(hit.verdict, `node-1 → ${p.ips[0]}`).toBe('forward');
          expect(routeLookup(pod, '10.244.3.9').verdict).toBe(p.ips[0] === '10.244.3.9' ? 'local' : 'forward');
        }
      });
    }
  }
});
