// Calico WireGuard's policy routing on a three-node cluster, as felix
// (felix/wireguard/wireguard.go, routerule, routetable) programs it: the rule
// `99: not from all fwmark 0x100000/0x100000 lookup 1` per family and routing
// table 1 with the peers' blocks and tunnel addresses on the WireGuard device
// and `throw` for the local blocks; route lookups that follow it; the
// iproute2 text. The exact text shapes (tab after the priority, `table 1`
// only under `table all`, `throw` routes, IPv6 `throw … dev lo`) were checked
// against this machine's kernel in a scratch namespace (see rules.test.ts).

import { describe, expect, it } from 'vitest';
import { buildDataplane, routeLookup } from './index';
import { CALICO_WIREGUARD_MARK } from './calico';
import { testTopology } from './testing';
import { renderIpRoute, renderIpRouteGet, renderIpRouteJson, renderIpRule, renderIpRuleJson } from '../render/iproute';
import { render } from '../render';
import { loadText } from '../trace/testing';
import { trace } from '../trace';

const RULE = '99:\tnot from all fwmark 0x100000/0x100000 lookup 1';

describe('Calico WireGuard, IPv4, three nodes (VXLAN pool)', () => {
  const t = testTopology({ plugin: 'calico', mode: 'vxlan', encryption: true });
  const dp = buildDataplane(t);
  const n1 = dp.node('node-1');

  it('ip rule: felix\'s rule 99 between the kernel\'s local and main rules', () => {
    expect(renderIpRule(n1)).toBe(`0:\tfrom all lookup local\n${RULE}\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n`);
    expect(renderIpRuleJson(n1)).toBe(
      '[{"priority":0,"src":"all","table":"local"},{"priority":99,"not":null,"src":"all","fwmark":"0x100000","fwmask":"0x100000","table":"1"},{"priority":32766,"src":"all","table":"main"},{"priority":32767,"src":"all","table":"default"}]\n',
    );
    // no dual-stack here: IPv6 keeps the kernel's two rules
    expect(renderIpRule(n1, { family: 6 })).toBe('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n');
  });

  it('table 1: throw for the local block; the peers\' blocks, VTEP and WireGuard addresses on wireguard.cali', () => {
    expect(renderIpRoute(n1, { table: 1 })).toBe(
      [
        'throw 10.244.1.0/26 ',
        '10.244.2.0 dev wireguard.cali scope link ',
        '10.244.2.0/26 dev wireguard.cali scope link ',
        '10.244.2.1 dev wireguard.cali scope link ',
        '10.244.3.0 dev wireguard.cali scope link ',
        '10.244.3.0/26 dev wireguard.cali scope link ',
        '10.244.3.1 dev wireguard.cali scope link ',
        '',
      ].join('\n'),
    );
    // the peers' tunnel addresses are their vxlan.calico and wireguard.cali addresses
    const n2 = dp.node('node-2');
    expect(n2.interfaces.find((i) => i.name === 'vxlan.calico')!.addresses[0].local).toBe('10.244.2.0');
    expect(n2.interfaces.find((i) => i.name === 'wireguard.cali')!.addresses[0].local).toBe('10.244.2.1');
    expect(JSON.parse(renderIpRouteJson(n1, { table: 1 }))[0]).toEqual({ type: 'throw', dst: '10.244.1.0/26', flags: [] });
  });

  it('ip route show table all: table 1 first, with the `table 1` token; the main table is what it is without WireGuard', () => {
    const all = renderIpRoute(n1, { table: 'all' }).split('\n');
    expect(all.slice(0, 3)).toEqual(['throw 10.244.1.0/26 table 1 ', '10.244.2.0 dev wireguard.cali table 1 scope link ', '10.244.2.0/26 dev wireguard.cali table 1 scope link ']);
    expect(all[7]).toBe('default via 10.0.0.1 dev eth0 ');
    const plain = buildDataplane(testTopology({ plugin: 'calico', mode: 'vxlan' })).node('node-1');
    expect(renderIpRoute(n1)).toBe(renderIpRoute(plain));
    // without encryption: no rules of its own, no table 1, the plain lookup
    expect(plain.rules).toBeUndefined();
    expect(plain.routes.some((r) => r.table === 1)).toBe(false);
    expect(routeLookup(plain, '10.244.2.8')).toMatchObject({ table: 'main', dev: 'vxlan.calico' });
    expect(routeLookup(plain, '10.244.2.8').rule).toBeUndefined();
    expect(renderIpRoute(n1)).toContain('10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink \n');
  });

  it('routeLookup: a remote pod through table 1, a WireGuard-marked packet and a node address through main', () => {
    expect(routeLookup(n1, '10.244.2.8')).toMatchObject({ verdict: 'forward', table: 1, dev: 'wireguard.cali', src: '10.244.1.1', mtu: 1440, rule: '99: not from all fwmark 0x100000/0x100000 lookup 1' });
    expect(routeLookup(n1, '10.244.2.8', { mark: CALICO_WIREGUARD_MARK })).toMatchObject({ verdict: 'forward', table: 'main', dev: 'vxlan.calico', gateway: '10.244.2.0', rule: '32766: from all lookup main' });
    // any other bits around the WireGuard bit do not matter (mask 0x100000)
    expect(routeLookup(n1, '10.244.3.9', { mark: 0x114000 }).table).toBe('main');
    expect(routeLookup(n1, '10.244.3.9', { mark: 0x4000 }).table).toBe(1);
    // no table-1 route for a node address: rule 99 passes it on to main
    const node = routeLookup(n1, '10.0.1.6');
    expect(node).toMatchObject({ verdict: 'forward', table: 'main', dev: 'eth0', rule: '32766: from all lookup main' });
    expect(node.explanation).toContain('rule 99 → table 1: no route');
    // a local pod: table 1 throws its block back, main delivers it on the cali veth
    const local = routeLookup(n1, '10.244.1.5');
    expect(local).toMatchObject({ verdict: 'forward', table: 'main', dev: 'cali5e1c4d6c68c' });
    expect(local.explanation).toContain('rule 99 → table 1: throw 10.244.1.0/26');
    // an unused address of the local block: thrown back, then main's blackhole
    expect(routeLookup(n1, '10.244.1.40')).toMatchObject({ verdict: 'blackhole', table: 'main' });
  });

  it('ip route get prints `table 1`, the mark, and `table local` once the namespace has rules', () => {
    expect(renderIpRouteGet(n1, '10.244.2.8').text).toBe('10.244.2.8 dev wireguard.cali table 1 src 10.244.1.1 uid 0 \n    cache \n');
    expect(renderIpRouteGet(n1, '10.244.2.8', { mark: 0x100000 }).text).toBe('10.244.2.8 via 10.244.2.0 dev vxlan.calico src 10.244.1.0 mark 0x100000 uid 0 \n    cache \n');
    expect(renderIpRouteGet(n1, '10.0.1.5').text).toBe('local 10.0.1.5 dev lo table local src 10.0.1.5 uid 0 \n    cache <local> \n');
    expect(render('ip-route-get', t, { node: 'node-1', dst: '10.244.3.9', mark: '0x100000' })).toBe('10.244.3.9 via 10.244.3.0 dev vxlan.calico src 10.244.1.0 mark 0x100000 uid 0 \n    cache \n');
    expect(() => render('ip-route-get', t, { node: 'node-1', dst: '10.244.3.9', mark: 'lots' })).toThrow(/--mark lots is not a firewall mark/);
  });

  it('the renderers are registered: ip-rule, ip-rule-json, ip-route --table 1', () => {
    expect(render('ip-rule', t, { node: 'node-2' })).toContain(`${RULE}\n`);
    expect(render('ip-rule-json', t, { node: 'node-2', family: '6' })).toBe('[{"priority":0,"src":"all","table":"local"},{"priority":32766,"src":"all","table":"main"}]\n');
    // by address: node-1's routes, node-2's own block (throw), node-3's
    expect(render('ip-route', t, { node: 'node-2', table: '1' })).toMatch(/^10\.244\.1\.0 dev wireguard\.cali scope link \n(.*\n){2}throw 10\.244\.2\.0\/26 \n10\.244\.3\.0 dev/);
    expect(() => render('ip-rule', t, { family: 'all' })).toThrow(/not an address family for ip rule/);
    try {
      render('ip-rule', t, { family: 'all' });
    } catch (e) {
      expect((e as { hint: string }).hint).toContain('one family at a time');
    }
  });

  it('the node note says what felix programs (no "not modelled" note any more); pods keep the default rules', () => {
    expect(n1.notes.join('\n')).not.toMatch(/not modelled/);
    expect(n1.notes.join('\n')).toContain('"99: not from all fwmark 0x100000/0x100000 lookup 1" and routing table 1');
    const pod = dp.pod('default', 'pod-a');
    expect(pod.rules).toBeUndefined();
    expect(renderIpRule(pod)).toBe('0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n');
  });

});

describe('Calico WireGuard in the other pool modes', () => {
  it('BGP: the peers\' WireGuard addresses are their only tunnel addresses; the main table keeps BIRD\'s routes', () => {
    const n1 = buildDataplane(testTopology({ plugin: 'calico', mode: 'bgp', encryption: true })).node('node-1');
    expect(renderIpRoute(n1, { table: 1 })).toBe(
      'throw 10.244.1.0/26 \n10.244.2.0 dev wireguard.cali scope link \n10.244.2.0/26 dev wireguard.cali scope link \n10.244.3.0 dev wireguard.cali scope link \n10.244.3.0/26 dev wireguard.cali scope link \n',
    );
    expect(renderIpRoute(n1)).toContain('10.244.2.0/26 via 10.0.1.6 dev eth0 proto bird \n');
    expect(routeLookup(n1, '10.244.2.8', { mark: CALICO_WIREGUARD_MARK })).toMatchObject({ table: 'main', gateway: '10.0.1.6', dev: 'eth0' });
  });

  it('IPIP: the peers\' tunl0 and wireguard.cali addresses', () => {
    const n1 = buildDataplane(testTopology({ plugin: 'calico', mode: 'ipip', encryption: true })).node('node-1');
    const t1 = renderIpRoute(n1, { table: 1 });
    expect(t1).toContain('10.244.2.0 dev wireguard.cali scope link \n10.244.2.0/26 dev wireguard.cali scope link \n10.244.2.1 dev wireguard.cali scope link \n');
    expect(n1.interfaces.find((i) => i.name === 'tunl0')!.addresses[0].local).toBe('10.244.1.0');
  });
});

const DUAL = `apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata:
  name: wg-dual
cluster:
  cni: calico-vxlan
  encryption: true
  clusterCIDR: [10.244.0.0/16, fd00:10:244::/56]
  serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]
  nodeCIDR: [10.0.0.0/16, fd00:10::/64]
  nodeCIDRMaskSize: { v4: 24, v6: 64 }
  blockSize: { v4: 26, v6: 122 }
nodes:
  - { name: node-1, ips: [10.0.1.5, "fd00:10::1:5"] }
  - { name: node-2, ips: [10.0.1.6, "fd00:10::1:6"] }
  - { name: node-3, ips: [10.0.1.7, "fd00:10::1:7"] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: nginx, image: nginx }]
`;

describe('Calico WireGuard on dual-stack: wg-v6.cali and the IPv6 table 1', () => {
  const t = loadText(DUAL);
  const n1 = buildDataplane(t).node('node-1');

  it('ip -6 rule: the same rule 99 and mark; felix\'s IPv6 manager uses table 1 too (RoutingTableIndex, not RoutingTableIndexV6)', () => {
    expect(renderIpRule(n1, { family: 6 })).toBe(`0:\tfrom all lookup local\n${RULE}\n32766:\tfrom all lookup main\n`);
    expect(renderIpRule(n1)).toContain(`${RULE}\n`);
  });

  it('ip -6 route show table 1: throw … dev lo for the local block; blocks, VTEPs and WireGuard addresses on wg-v6.cali', () => {
    expect(renderIpRoute(n1, { table: 1, family: 6 })).toBe(
      [
        'throw fd00:10:244:1::/122 dev lo metric 1024 pref medium',
        'fd00:10:244:2:: dev wg-v6.cali metric 1024 pref medium',
        'fd00:10:244:2::2 dev wg-v6.cali metric 1024 pref medium',
        'fd00:10:244:2::/122 dev wg-v6.cali metric 1024 pref medium',
        'fd00:10:244:3:: dev wg-v6.cali metric 1024 pref medium',
        'fd00:10:244:3::2 dev wg-v6.cali metric 1024 pref medium',
        'fd00:10:244:3::/122 dev wg-v6.cali metric 1024 pref medium',
        '',
      ].join('\n'),
    );
    // `table all` lists IPv4 first, each family's table 1 before its main table
    const all = renderIpRoute(n1, { table: 'all' });
    expect(all.indexOf('throw fd00:10:244:1::/122 dev lo table 1 metric 1024 pref medium\n')).toBeGreaterThan(all.indexOf('local 127.0.0.1 dev lo table local'));
    expect(all.indexOf('throw fd00:10:244:1::/122 dev lo table 1')).toBeLessThan(all.indexOf('fd00:10::/64 dev eth0 proto kernel metric 256 pref medium'));
  });

  it('an IPv6 remote pod through wg-v6.cali (table 1), a marked packet through vxlan-v6.calico (main)', () => {
    const remote = t.pods.find((p) => p.nodeName === 'node-2')!.ips.find((ip) => ip.includes(':'))!;
    expect(remote).toBe('fd00:10:244:2::1');
    expect(routeLookup(n1, remote)).toMatchObject({ verdict: 'forward', table: 1, dev: 'wg-v6.cali', src: 'fd00:10:244:1::2', mtu: 1420 });
    expect(renderIpRouteGet(n1, remote).text).toBe('fd00:10:244:2::1 from :: dev wg-v6.cali table 1 src fd00:10:244:1::2 metric 1024 pref medium\n');
    expect(renderIpRouteGet(n1, remote, { mark: 0x100000 }).text).toBe('fd00:10:244:2::1 from :: via fd00:10:244:2:: dev vxlan-v6.calico src fd00:10:244:1:: metric 1024 pref medium\n');
    expect(routeLookup(n1, 'fd00:10::1:6')).toMatchObject({ table: 'main', dev: 'eth0' });
  });

  it('the walk: node-1 routes the pod packet by rule 99 into table 1; node-2 throws its own block back to main', () => {
    const client = t.pods.find((p) => p.nodeName === 'node-1')!;
    const server = t.pods.find((p) => p.nodeName === 'node-2')!;
    const r = trace(t, `${client.namespace}/${client.name}`, `tcp://${server.ips[0]}:8080`);
    const routes = r.events.filter((e) => e.kind === 'route' && e.direction === 'request' && e.packet.startsWith('TCP SYN'));
    const out = routes.find((e) => e.at.node === 'node-1' && e.at.netns === 'node/node-1')!;
    expect(out.rule).toBe('10.244.2.0/26 dev wireguard.cali table 1 scope link');
    expect(out.detail).toContain('policy rule "99: not from all fwmark 0x100000/0x100000 lookup 1" → table 1');
    const inbound = routes.find((e) => e.at.node === 'node-2' && e.at.netns === 'node/node-2')!;
    expect(inbound.detail).toContain('rule 99 → table 1: throw 10.244.2.0/26');
  });
});
