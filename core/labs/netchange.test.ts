import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildDataplane, routeLookup } from '../cni';
import { loadTopology } from '../model';
import { renderIpRoute } from '../render/iproute';
import { parseCommand, parseCommands, patchDataplane } from './netchange';

const seedText = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const topology = loadTopology({ file: 'seed.yaml', text: seedText }).topology!;

describe('ip commands', () => {
  it.each([
    ['ip route add 10.244.3.0/26 via 10.0.1.7 dev eth0 proto bird', [{ op: 'route-add', target: 'node:node-1', dst: '10.244.3.0/26', gateway: '10.0.1.7', dev: 'eth0', protocol: 'bird' }]],
    ['sudo ip -4 r replace 10.244.3.0/26 via 10.0.1.7 onlink', [{ op: 'route-add', target: 'node:node-1', dst: '10.244.3.0/26', gateway: '10.0.1.7', onlink: true, replace: true }]],
    ['$ ip route del 10.244.2.0/26', [{ op: 'route-del', target: 'node:node-1', dst: '10.244.2.0/26' }]],
    ['ip route add blackhole 10.244.9.0/24', [{ op: 'route-add', target: 'node:node-1', dst: '10.244.9.0/24', type: 'blackhole' }]],
    ['ip route add 10.1.2.3 dev eth0 scope link', [{ op: 'route-add', target: 'node:node-1', dst: '10.1.2.3/32', dev: 'eth0', scope: 'link' }]],
    ['ip link set dev eth0 mtu 1450', [{ op: 'link-mtu', target: 'node:node-1', dev: 'eth0', mtu: 1450 }]],
    ['ip link set eth0 down', [{ op: 'link-down', target: 'node:node-1', dev: 'eth0' }]],
    ['# a comment', []],
    ['# ip link set eth0 mtu 1500', [{ op: 'link-mtu', target: 'node:node-1', dev: 'eth0', mtu: 1500 }]],
  ])('%s', (line, want) => {
    expect(parseCommand('node-1', line)).toEqual(want);
  });

  it.each([
    ['route add -net 10.244.3.0/26 gw 10.0.1.7', /only ip route and ip link commands/],
    ['ip route add 10.244.3.0/26', /needs via GATEWAY or dev DEVICE/],
    ['ip route add 10.244.3.0/33 via 10.0.1.7', /is not a route destination/],
    ['ip route add 10.244.3.0/26 via nowhere', /via needs an address/],
    ['ip route add 10.244.3.0/26 via 10.0.1.7 table 100', /only the main table/],
    ['ip link set eth0 mtu 9', /mtu must be a number between 68 and 65535/],
    ['ip addr add 1.2.3.4/32 dev lo', /does not change routes or links/],
  ])('refuses %s', (line, err) => {
    expect(() => parseCommand('node-1', line)).toThrow(err);
  });

  it('patches copies of the namespaces; the kernel refusals are reported', () => {
    const base = buildDataplane(topology);
    const before = renderIpRoute(base.node('node-1'));
    const changes = parseCommands({
      'node-1': ['ip route del 10.244.3.0/26', 'ip route add 10.244.3.0/26 via 10.0.1.6', 'ip route add 10.244.2.0/26 via 10.0.1.6 dev eth0', 'ip route del 10.9.9.0/24', 'ip route add 10.8.0.0/16 via 192.168.9.9'],
      'pod:default/pod-a': ['ip link set eth0 mtu 1400'],
      'node-9': ['ip route del 10.244.3.0/26'],
    });
    const { dp, errors } = patchDataplane(base, topology, changes);
    expect(renderIpRoute(base.node('node-1'))).toBe(before);
    expect(routeLookup(dp.node('node-1'), '10.244.3.9')).toMatchObject({ verdict: 'forward', gateway: '10.0.1.6', dev: 'eth0' });
    expect(dp.pod('default', 'pod-a').interfaces.find((i) => i.name === 'eth0')!.mtu).toBe(1400);
    expect(base.pod('default', 'pod-a').interfaces.find((i) => i.name === 'eth0')!.mtu).toBe(1500);
    expect(dp.node('node-2')).toBe(base.node('node-2'));
    expect(errors).toEqual([
      'RTNETLINK answers: File exists (10.244.2.0/26 on node:node-1)',
      'RTNETLINK answers: No such process (no route to 10.9.9.0/24 on node:node-1)',
      'RTNETLINK answers: Network is unreachable (no connected route to 192.168.9.9 on node:node-1)',
      'node:node-9: no such node (nodes: node-1, node-2, node-3)',
    ]);
  });

  it('a downed link takes its routes with it', () => {
    const { dp } = patchDataplane(buildDataplane(topology), topology, parseCommands({ 'node-1': ['ip link set eth0 down'] }));
    expect(routeLookup(dp.node('node-1'), '10.244.2.8').verdict).toBe('no-route');
  });
});
