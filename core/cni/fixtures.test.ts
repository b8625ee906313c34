// The model and the renderers against real output captured on this kind of
// machine by fixtures/capture.sh: the containernetworking bridge and ptp
// plugins' CNI ADD results, and what iproute2 6.1 printed for the
// namespaces they (and the script) set up. MACs and veth names are random
// in reality; where the model must produce them, the test feeds it the
// captured ones or ignores them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderBridgeFdb, renderIpAddr, renderIpAddrJson, renderIpLink, renderIpNeigh, renderIpRoute, renderIpRouteJson } from '../render/iproute';
import { NamespaceBuilder, addLoopback, addr4 } from './common';
import { FlannelModel } from './flannel';
import { ptpHostSide, ptpPod } from './ptp';
import { bridgePluginResult, printCniResult, ptpPluginResult } from './result';
import { testTopology } from './testing';
import type { NetInterface, NetNamespace } from './types';

const dir = new URL('./fixtures/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, dir), 'utf8');
const json = (f: string) => JSON.parse(read(f)) as Record<string, unknown>;

/** Sections of tools.txt: "### <namespace> <command>" → output. */
const sections = (() => {
  const out = new Map<string, string>();
  let key = '';
  for (const line of read('tools.txt').split('\n')) {
    if (line.startsWith('### ')) {
      key = line.slice(4);
      out.set(key, '');
    } else if (key) out.set(key, out.get(key)! + `${line}\n`);
  }
  return out;
})();
const section = (k: string): string => {
  const s = sections.get(k);
  if (s === undefined) throw new Error(`fixture section ${k} missing`);
  return s.replace(/\n+$/, '\n');
};
const ipv4Lines = (s: string) => s.split('\n').filter((l) => l && !/(fe80|ff00|::1|inet6)/.test(l));
/** The MAC `ip link` printed for an interface (MACs are random; the model takes the captured ones). */
const macOf = (ns: string, name: string): string => {
  const m = new RegExp(`^\\d+: ${name.replace('.', '\\.')}[@:][^\\n]*\\n\\s+link/ether ([0-9a-f:]{17})`, 'm').exec(section(`${ns} ip link show`));
  if (!m) throw new Error(`no MAC for ${name} in ${ns}`);
  return m[1];
};
const vethName = (ns: string, master: string | null): string => {
  const re = master ? new RegExp(`^\\d+: (veth[0-9a-f]{8})@if\\d+: .* master ${master} `, 'm') : /^\d+: (veth[0-9a-f]{8})@if\d+: <[^>]*> mtu \d+ qdisc noqueue state/m;
  return re.exec(section(`${ns} ip link show`))![1];
};

describe('CNI ADD results of the real plugins', () => {
  const pod1Netns = '/var/run/netns/nlcni-pod1';
  const pod2Netns = '/var/run/netns/nlcni-pod2';

  for (const v of ['0.3.1', '0.4.0', '1.0.0']) {
    it(`bridge + host-local, cniVersion ${v}: the model prints the captured result byte for byte`, () => {
      const real = json(`bridge-${v}.json`);
      const ifs = real.interfaces as { name: string; mac: string }[];
      const model = bridgePluginResult({
        cniVersion: v,
        bridge: { name: 'cni0', mac: ifs[0].mac },
        hostVeth: { name: ifs[1].name, mac: ifs[1].mac },
        container: { ifname: 'eth0', mac: ifs[2].mac, sandbox: pod1Netns },
        address: '10.244.99.2/24',
        gateway: '10.244.99.1',
        ipamRoutes: [{ dst: '10.244.0.0/16' }],
        isDefaultGateway: true,
      });
      expect(printCniResult(model)).toBe(read(`bridge-${v}.json`));
    });
  }

  for (const v of ['0.3.1', '1.0.0']) {
    it(`ptp + host-local, cniVersion ${v}: byte for byte`, () => {
      const real = json(`ptp-${v}.json`);
      const ifs = real.interfaces as { name: string; mac: string }[];
      const model = ptpPluginResult({
        cniVersion: v,
        hostVeth: { name: ifs[0].name, mac: ifs[0].mac },
        container: { ifname: 'eth0', mac: ifs[1].mac, sandbox: pod2Netns },
        address: '10.244.98.2/24',
        gateway: '10.244.98.1',
        ipamRoutes: [{ dst: '0.0.0.0/0' }],
      });
      expect(printCniResult(model)).toBe(read(`ptp-${v}.json`));
    });
  }

  it('Flannel\'s model of a pod on 10.244.99.0/24 matches the bridge plugin\'s result field by field (MACs, veth name and netns aside)', () => {
    const t = testTopology({
      plugin: 'flannel',
      mode: 'vxlan',
      nodes: [{ name: 'n', ip: '10.0.1.5', podCIDR: '10.244.99.0/24' }],
      pods: [{ name: 'p', node: 'n', ip: '10.244.99.2' }],
    });
    const model = new FlannelModel('vxlan').cniAddResult(t, t.pods[0]) as Record<string, unknown>;
    const real = json('bridge-0.3.1.json');
    expect(Object.keys(model)).toEqual(Object.keys(real));
    expect(model.cniVersion).toBe(real.cniVersion);
    expect(model.ips).toEqual(real.ips);
    expect(model.routes).toEqual(real.routes);
    expect(model.dns).toEqual(real.dns);
    const strip = (l: unknown) => (l as Record<string, string>[]).map((i) => ({ ...i, name: i.name.replace(/^veth[0-9a-f]{8}$/, 'veth*'), mac: 'MAC', ...(i.sandbox ? { sandbox: 'NETNS' } : {}) }));
    expect(strip(model.interfaces)).toEqual(strip(real.interfaces));
  });
});

/** The host namespace capture.sh built, as the model describes it. */
function captureHost(): NetNamespace {
  const b = new NamespaceBuilder('node/nlcni-host');
  const mac = (n: string) => ({ mac: macOf('nlcni-host', n), macSynthetic: false });
  addLoopback(b);
  b.addInterface({ ifindex: 2, name: 'uplink0', kind: 'veth', link: { kind: 'same-netns', name: 'eth0' }, ...mac('uplink0'), mtu: 1500, txqlen: 1000, description: 'peer' });
  b.addInterface({ ifindex: 3, name: 'eth0', kind: 'veth', link: { kind: 'same-netns', name: 'uplink0' }, ...mac('eth0'), mtu: 1500, txqlen: 1000, addresses: [addr4('10.0.99.5', 24)], description: 'uplink' });
  b.addInterface({ ifindex: 4, name: 'cni0', kind: 'bridge', ...mac('cni0'), mtu: 1450, txqlen: 1000, addresses: [addr4('10.244.99.1', 24, 'global', true)], description: 'bridge' });
  const brVeth = vethName('nlcni-host', 'cni0');
  b.addInterface({ ifindex: 7, name: brVeth, kind: 'veth', link: { kind: 'other-netns', ifindex: 4, netns: 'nlcni-pod1', netnsid: 0 }, master: 'cni0', ...mac(brVeth), mtu: 1450, description: 'bridge port' });
  const ptpVeth = vethName('nlcni-host', null);
  const t = testTopology({ nodes: [{ name: 'n', ip: '10.0.99.5', podCIDR: '10.244.98.0/24' }], pods: [{ name: 'p', node: 'n', ip: '10.244.98.2' }] });
  const host = ptpHostSide({ topology: t, pod: t.pods[0], address: '10.244.98.2/24', gateway: '10.244.98.1', ipamRoutes: ['0.0.0.0/0'], mtu: 1500, hostVeth: ptpVeth, hostIfindex: 9 });
  const { ifindex: _i, flags: _f, qdisc: _q, operstate: _o, ...ptpIface } = host.interface;
  b.addInterface({ ...ptpIface, ifindex: 9, link: { kind: 'other-netns', ifindex: 3, netns: 'nlcni-pod2', netnsid: 1 }, ...mac(ptpVeth) });
  b.addInterface({
    ifindex: 10,
    name: 'vxlan.calico',
    kind: 'vxlan',
    mac: '66:aa:bb:cc:dd:01',
    macSynthetic: false,
    mtu: 1450,
    operstate: 'UNKNOWN',
    txqlen: 1000,
    vxlan: { id: 4096, external: false, local: '10.0.99.5', dev: 'eth0', dstport: 4789, learning: false, ageing: 300 },
    addresses: [addr4('10.244.97.0', 32)],
    description: 'vtep',
  });
  b.addRoute({ dst: 'default', gateway: '10.0.99.1', dev: 'eth0', origin: 'script' });
  b.addRoute({ dst: '10.244.96.0/26', gateway: '10.244.96.0', dev: 'vxlan.calico', flags: ['onlink'], origin: 'felix-style VXLAN route' });
  b.addRoute({ type: 'blackhole', dst: '10.244.97.0/26', protocol: '80', origin: 'felix-style blackhole' });
  b.addRoute({ dst: '10.244.95.0/26', gateway: '10.0.99.6', dev: 'eth0', protocol: 'bird', metric: 32, origin: 'BIRD 2' });
  b.addRoute({ dst: '10.244.98.77', dev: 'eth0', scope: 'link', origin: 'Calico-style pod route' });
  for (const r of host.routes) b.addRoute(r);
  b.neighbours.push({ ip: '10.244.96.0', dev: 'vxlan.calico', lladdr: '66:aa:bb:cc:dd:02', state: 'PERMANENT', origin: 'static' });
  b.fdb.push({ mac: '66:aa:bb:cc:dd:02', dev: 'vxlan.calico', dst: '10.0.99.6', self: true, state: 'permanent', origin: 'static', macSynthetic: false });
  return b.finish();
}

/** `tentative` marks IPv6 addresses still in DAD at capture time; the model describes the settled state. */
const settled = (s: string) => s.replace(/ tentative /g, ' ');

describe('iproute2 output of the captured host namespace', () => {
  const host = captureHost();

  it('ip route show', () => {
    expect(renderIpRoute(host)).toBe(section('nlcni-host ip route show'));
  });

  it('ip -j route show', () => {
    expect(renderIpRouteJson(host)).toBe(section('nlcni-host ip -j route show'));
  });

  it('ip route show table all (IPv4 part: main then local table)', () => {
    expect(ipv4Lines(renderIpRoute(host, { table: 'all' }))).toEqual(ipv4Lines(section('nlcni-host ip route show table all')));
  });

  it('ip addr show, ip link show', () => {
    expect(renderIpAddr(host)).toBe(settled(section('nlcni-host ip addr show')));
    expect(renderIpLink(host)).toBe(section('nlcni-host ip link show'));
  });

  it('ip -j addr show', () => {
    const real = (JSON.parse(section('nlcni-host ip -j addr show')) as Record<string, unknown>[]).map((l) => ({
      ...l,
      addr_info: (l.addr_info as Record<string, unknown>[]).map(({ tentative: _t, ...a }) => a),
    }));
    // link_netnsid of named peers: the model keeps the netns name and id as captured.
    expect(JSON.parse(renderIpAddrJson(host))).toEqual(real);
  });

  it('ip neigh show, bridge fdb show dev vxlan.calico', () => {
    expect(renderIpNeigh(host)).toBe(section('nlcni-host ip neigh show'));
    expect(renderBridgeFdb(host, { dev: 'vxlan.calico' })).toBe(section('nlcni-host bridge fdb show dev vxlan.calico'));
  });
});

describe('pod namespaces wired by the real plugins', () => {
  it('bridge plugin pod (Flannel\'s model): ip route show and the IPv4 local table', () => {
    const t = testTopology({
      plugin: 'flannel',
      mode: 'vxlan',
      nodes: [{ name: 'n', ip: '10.0.99.5', podCIDR: '10.244.99.0/24' }],
      pods: [{ name: 'p', node: 'n', ip: '10.244.99.2' }],
    });
    const pod = new FlannelModel('vxlan').buildPod(t, t.pods[0]);
    expect(renderIpRoute(pod)).toBe(section('nlcni-pod1 ip route show'));
    expect(renderIpRouteJson(pod)).toBe(section('nlcni-pod1 ip -j route show'));
    expect(ipv4Lines(renderIpRoute(pod, { table: 'all' }))).toEqual(ipv4Lines(section('nlcni-pod1 ip route show table all')));
    // With the captured index, MAC and peer, `ip addr` matches too.
    const eth0 = pod.interfaces.find((i) => i.name === 'eth0') as NetInterface;
    Object.assign(eth0, { ifindex: 4, mac: macOf('nlcni-pod1', 'eth0'), link: { kind: 'other-netns', ifindex: 7, netns: 'nlcni-host' } });
    eth0.addresses = eth0.addresses.filter((a) => a.family === 4);
    eth0.addresses.push({ family: 6, local: /inet6 (fe80::[0-9a-f:]+)\/64/.exec(section('nlcni-pod1 ip addr show'))![1], prefixlen: 64, scope: 'link' });
    pod.interfaces.sort((a, b) => a.ifindex - b.ifindex);
    expect(renderIpAddr(pod)).toBe(settled(section('nlcni-pod1 ip addr show')));
  });

  it('ptp pod: the subnet via the gateway with src, the gateway on-link', () => {
    const t = testTopology({ nodes: [{ name: 'n', ip: '10.0.99.5', podCIDR: '10.244.98.0/24' }], pods: [{ name: 'p', node: 'n', ip: '10.244.98.2' }] });
    const pod = ptpPod({ topology: t, pod: t.pods[0], address: '10.244.98.2/24', gateway: '10.244.98.1', ipamRoutes: ['0.0.0.0/0'], mtu: 1500, hostVeth: 'vethX', hostIfindex: 9 });
    expect(renderIpRoute(pod)).toBe(section('nlcni-pod2 ip route show'));
    expect(renderIpRouteJson(pod)).toBe(section('nlcni-pod2 ip -j route show'));
    expect(ipv4Lines(renderIpRoute(pod, { table: 'all' }))).toEqual(ipv4Lines(section('nlcni-pod2 ip route show table all')));
  });
});
