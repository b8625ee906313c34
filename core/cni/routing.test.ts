import { describe, expect, it } from 'vitest';
import { renderIpRouteGet } from '../render/iproute';
import { NamespaceBuilder, addLoopback, addr4 } from './common';
import { buildDataplane, CniModelError, routeLookup } from './index';
import { testTopology } from './testing';

describe('routeLookup on a Calico BGP node', () => {
  const dp = buildDataplane(testTopology({ plugin: 'calico', mode: 'bgp' }));
  const n1 = dp.node('node-1');

  it('sends a cross-node pod packet to the peer node on eth0', () => {
    const r = routeLookup(n1, '10.244.2.8');
    expect(r).toMatchObject({ verdict: 'forward', table: 'main', dev: 'eth0', gateway: '10.0.1.6', nexthop: '10.0.1.6', src: '10.0.1.5', mtu: 1500, onlink: false });
    expect(r.route!.dst).toBe('10.244.2.0/26');
    expect(r.route!.protocol).toBe('bird');
  });

  it('delivers a local pod packet on its cali interface (the /32 wins over the blackhole /26)', () => {
    const r = routeLookup(n1, '10.244.1.5');
    expect(r).toMatchObject({ verdict: 'forward', dev: 'cali5e1c4d6c68c', nexthop: '10.244.1.5' });
    expect(r.gateway).toBeUndefined();
    // The cali interface has no address: the kernel picks the node's address as source.
    expect(r.src).toBe('10.0.1.5');
  });

  it('drops unallocated addresses of the local block in the blackhole', () => {
    const r = routeLookup(n1, '10.244.1.9');
    expect(r.verdict).toBe('blackhole');
    expect(r.route!.dst).toBe('10.244.1.0/26');
    expect(renderIpRouteGet(n1, '10.244.1.9')).toEqual({ text: 'RTNETLINK answers: Invalid argument\n', error: true });
  });

  it('checks the local table first', () => {
    expect(routeLookup(n1, '10.0.1.5')).toMatchObject({ verdict: 'local', table: 'local', dev: 'lo' });
    expect(routeLookup(n1, '10.0.255.255')).toMatchObject({ verdict: 'local', dev: 'eth0' });
    expect(routeLookup(n1, '127.0.0.53')).toMatchObject({ verdict: 'local', dev: 'lo' });
    expect(renderIpRouteGet(n1, '10.0.1.5').text).toBe('local 10.0.1.5 dev lo src 10.0.1.5 uid 0 \n    cache <local> \n');
    expect(renderIpRouteGet(n1, '10.0.255.255').text).toBe('broadcast 10.0.255.255 dev eth0 src 10.0.1.5 uid 0 \n    cache <local,brd> \n');
  });

  it('falls back to the default route', () => {
    expect(routeLookup(n1, '8.8.8.8')).toMatchObject({ verdict: 'forward', gateway: '10.0.0.1', dev: 'eth0' });
    expect(renderIpRouteGet(n1, '8.8.8.8').text).toBe('8.8.8.8 via 10.0.0.1 dev eth0 src 10.0.1.5 uid 0 \n    cache \n');
  });

  it('in the pod, everything goes to 169.254.1.1 on eth0', () => {
    const pod = dp.pod('default', 'pod-a');
    expect(routeLookup(pod, '10.244.2.8')).toMatchObject({ verdict: 'forward', gateway: '169.254.1.1', dev: 'eth0', src: '10.244.1.5' });
    expect(routeLookup(pod, '169.254.1.1')).toMatchObject({ verdict: 'forward', dev: 'eth0', nexthop: '169.254.1.1' });
    expect(routeLookup(pod, '10.244.1.5')).toMatchObject({ verdict: 'local' });
  });

  it('rejects text that is not an address with a hint', () => {
    expect(() => routeLookup(n1, 'pod-a')).toThrow(CniModelError);
    try {
      routeLookup(n1, '10.244.2');
    } catch (e) {
      expect((e as CniModelError).hint).toMatch(/IPv4 or IPv6/);
    }
  });
});

describe('routeLookup on VXLAN and Cilium nodes', () => {
  it('Calico VXLAN: via the remote VTEP on vxlan.calico, onlink, source = the tunnel address, MTU 1450', () => {
    const n1 = buildDataplane(testTopology({ plugin: 'calico', mode: 'vxlan' })).node('node-1');
    expect(routeLookup(n1, '10.244.3.9')).toMatchObject({ verdict: 'forward', dev: 'vxlan.calico', gateway: '10.244.3.0', onlink: true, src: '10.244.1.0', mtu: 1450 });
  });

  it('Cilium VXLAN: remote CIDR to cilium_host with the route MTU; ip route get shows the cached MTU', () => {
    const n1 = buildDataplane(testTopology({ plugin: 'cilium', mode: 'vxlan' })).node('node-1');
    expect(routeLookup(n1, '10.244.2.8')).toMatchObject({ verdict: 'forward', dev: 'cilium_host', gateway: '10.244.1.1', src: '10.244.1.1', mtu: 1450 });
    // The gateway is cilium_host's own address: the kernel does not use it as a gateway, so no `via`
    // (what a real kernel prints: test/live/conformance/routes.test.ts).
    expect(renderIpRouteGet(n1, '10.244.2.8').text).toBe('10.244.2.8 dev cilium_host src 10.244.1.1 uid 0 \n    cache mtu 1450 \n');
  });
});

describe('route selection rules', () => {
  const b = new NamespaceBuilder('test');
  addLoopback(b);
  b.addInterface({ name: 'eth0', kind: 'device', mac: '02:00:00:00:00:01', mtu: 1500, addresses: [addr4('10.0.0.5', 24)], description: 'x' });
  b.addRoute({ dst: '10.1.0.0/16', gateway: '10.0.0.1', dev: 'eth0', metric: 100, origin: 'a' });
  b.addRoute({ dst: '10.1.0.0/16', gateway: '10.0.0.2', dev: 'eth0', metric: 50, origin: 'b' });
  b.addRoute({ dst: '10.1.2.0/24', gateway: '10.0.0.3', dev: 'eth0', origin: 'c' });
  b.addRoute({ type: 'unreachable', dst: '10.9.0.0/16', origin: 'd' });
  b.addRoute({ type: 'prohibit', dst: '10.8.0.0/16', origin: 'e' });
  const ns = b.finish();

  it('longest prefix first, then the lowest metric', () => {
    expect(routeLookup(ns, '10.1.2.3').gateway).toBe('10.0.0.3');
    expect(routeLookup(ns, '10.1.3.3').gateway).toBe('10.0.0.2');
  });

  it('unreachable, prohibit and no route', () => {
    expect(routeLookup(ns, '10.9.1.1').verdict).toBe('unreachable');
    expect(routeLookup(ns, '10.8.1.1').verdict).toBe('prohibit');
    expect(routeLookup(ns, '192.0.2.1').verdict).toBe('no-route');
    expect(renderIpRouteGet(ns, '192.0.2.1').text).toBe('RTNETLINK answers: Network is unreachable\n');
    expect(renderIpRouteGet(ns, '10.9.1.1').text).toBe('RTNETLINK answers: No route to host\n');
  });

  it('a directly connected destination is its own next hop', () => {
    expect(routeLookup(ns, '10.0.0.77')).toMatchObject({ verdict: 'forward', dev: 'eth0', nexthop: '10.0.0.77', src: '10.0.0.5' });
  });
});
