import { describe, expect, it } from 'vitest';
import type { PacketHeaders, TraceEvent } from '../../../core/trace/types';
import { commandNode, formatUs, headerGroups, headersAt, hopEdgeId, hopEdges, latencyBars, packetless, playDelayMs, trailAt } from '../../../renderer/src/lib/stepper';

const inner: PacketHeaders = {
  eth: { src: 'ee:ee:ee:ee:ee:ee', dst: '02:00:00:00:00:01', synthetic: true },
  ip: { version: 4, src: '10.244.1.5', dst: '10.96.5.20', ttl: 64, df: true, length: 60, protocol: 'TCP' },
  tcp: { sport: 43512, dport: 80, flags: ['S'], seq: 1, window: 64240, payload: 0 },
};

function ev(seq: number, over: Partial<TraceEvent>): TraceEvent {
  return {
    seq,
    phase: 'request',
    packet: 'TCP SYN',
    direction: 'request',
    kind: 'route',
    at: { element: 'pod/default/pod-a' },
    action: 'a',
    detail: 'd',
    verdict: 'pass',
    headers: inner,
    changed: [],
    latencyUs: 1,
    category: 'transit',
    timeUs: seq,
    ...over,
  };
}

const dnat: PacketHeaders = { ...inner, ip: { ...inner.ip, dst: '10.244.2.8' }, tcp: { ...inner.tcp!, dport: 8080 } };
const encap: PacketHeaders = {
  ...dnat,
  outer: {
    kind: 'vxlan',
    eth: { src: '52:54:00:00:01:05', dst: '52:54:00:00:01:06' },
    ip: { src: '10.0.1.5', dst: '10.0.1.6', protocol: 17, ttl: 64, df: false, length: 110 },
    udp: { sport: 51234, dport: 4789, length: 90 },
    vxlan: { flags: 8, vni: 4096 },
  },
};

const events: TraceEvent[] = [
  ev(1, { kind: 'socket' }),
  ev(2, { kind: 'veth', at: { element: 'pod/default/pod-a', to: 'node/node-1', node: 'node-1' } }),
  ev(3, { kind: 'dnat', at: { element: 'node/node-1', node: 'node-1' }, headers: dnat, changed: ['ip.dst', 'tcp.dport'], command: 'conntrack -L -d 10.96.5.20' }),
  ev(4, { kind: 'encap', at: { element: 'node/node-1', node: 'node-1' }, headers: encap, changed: ['outer'] }),
  ev(5, { kind: 'wire', at: { element: 'node/node-1', to: 'node/node-2' }, headers: encap }),
];

describe('packet stepper logic', () => {
  it('marks the elements crossed so far and the current hop, with one dotted edge per move', () => {
    expect(trailAt(events, -1)).toEqual({ path: [], active: [] });
    const t = trailAt(events, 4);
    expect(t.active).toEqual(['node/node-1', 'node/node-2', hopEdgeId('node/node-1', 'node/node-2')]);
    expect(t.path).toEqual(expect.arrayContaining(['pod/default/pod-a', 'node/node-1', 'node/node-2', hopEdgeId('pod/default/pod-a', 'node/node-1')]));
    expect(hopEdges(events, 4).map((e) => [e.data.source, e.data.target])).toEqual([
      ['pod/default/pod-a', 'node/node-1'],
      ['node/node-1', 'node/node-2'],
    ]);
    expect(hopEdges(events, 1)).toHaveLength(1);
  });

  it('shows outer and inner headers, the outer ones first', () => {
    const g = headerGroups(encap);
    expect(g.map((x) => x.id)).toEqual(['outer.eth', 'outer.ip', 'outer.udp', 'outer.vxlan', 'eth', 'ip', 'tcp']);
    const outerIp = g.find((x) => x.id === 'outer.ip')!;
    expect(outerIp.fields.find((f) => f.path === 'outer.ip.src')?.value).toBe('10.0.1.5');
    expect(outerIp.fields.find((f) => f.path === 'outer.ip.dst')?.value).toBe('10.0.1.6');
    expect(g.find((x) => x.id === 'outer.vxlan')!.fields.find((f) => f.name === 'VNI')?.value).toBe('4096');
    expect(g.find((x) => x.id === 'outer.vxlan')!.fields.find((f) => f.name === 'flags')?.value).toBe('[I] (0x08)');
    expect(g.find((x) => x.id === 'tcp')!.fields.find((f) => f.name === 'flags')?.value).toBe('[S]');
  });

  it('IPv6 headers (inner and outer) show a hop limit and no DF bit', () => {
    const v6: PacketHeaders = {
      ip: { version: 6, src: 'fd00:10:244:1::1', dst: 'fd00:10:244:2::1', ttl: 63, df: true, length: 80, protocol: 'TCP' },
      tcp: { sport: 52345, dport: 8080, flags: ['S'], seq: 1, window: 64800, payload: 0 },
      outer: { kind: 'vxlan', eth: { src: 'aa:aa:aa:aa:aa:01', dst: 'aa:aa:aa:aa:aa:02' }, ip: { src: 'fd00:10::1:5', dst: 'fd00:10::1:6', protocol: 17, ttl: 64, df: true, length: 150 }, udp: { sport: 40000, dport: 4789, length: 110 }, vxlan: { flags: 8, vni: 4096 } },
    };
    const g = headerGroups(v6);
    const outer = g.find((x) => x.id === 'outer.ip')!;
    const inner = g.find((x) => x.id === 'ip')!;
    expect(outer.title).toBe('Outer IPv6');
    for (const grp of [outer, inner]) {
      expect(grp.fields.map((f) => f.name)).toContain('hop limit');
      expect(grp.fields.map((f) => f.name)).not.toContain('DF');
      expect(grp.fields.map((f) => f.name)).not.toContain('ttl');
    }
    expect(outer.fields.find((f) => f.path === 'outer.ip.protocol')).toMatchObject({ name: 'next header', value: 'UDP (17)' });
    // IPv4 keeps TTL and DF.
    expect(headerGroups(encap).find((x) => x.id === 'outer.ip')!.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['ttl', 'DF']));
  });

  it('highlights what changed since the previous hop: named by the step, or different', () => {
    const d = headersAt(events, 2);
    expect(d.changed).toEqual(['ip.dst', 'tcp.dport']);
    const e = headersAt(events, 3);
    expect(e.changed).toEqual(expect.arrayContaining(['outer.ip.src', 'outer.ip.dst', 'outer.vxlan.vni', 'outer.udp.dport']));
    expect(e.changed).not.toContain('ip.dst');
    expect(headersAt(events, 4).changed).toEqual([]);
    expect(headersAt(events, 0).changed).toEqual([]);
  });

  it('draws latency bars and formats microseconds', () => {
    const bars = latencyBars({ dnsUs: 600, serviceUs: 20, encapUs: 8, transitUs: 300, backendUs: 400, totalUs: 1328, encapLabel: 'VXLAN encap/decap', table: '', note: '' });
    expect(bars.map((b) => b.label)).toEqual(['DNS resolution', 'Service load balancing', 'VXLAN encap/decap', 'Network transit', 'Backend processing']);
    expect(bars[0].share).toBeCloseTo(600 / 1328);
    const mesh = latencyBars({ dnsUs: 600, serviceUs: 0, meshUs: 1830, encapUs: 0, transitUs: 268, backendUs: 500, totalUs: 3198, encapLabel: 'Encap/decap (none)', table: '', note: '' });
    expect(mesh.map((b) => b.label)).toEqual(['DNS resolution', 'Service load balancing', 'Istio sidecars', 'Encap/decap (none)', 'Network transit', 'Backend processing']);
    expect(mesh[2].share).toBeCloseTo(1830 / 3198);
    expect(formatUs(1328)).toBe('1.3 ms');
    expect(formatUs(20)).toBe('20 µs');
    expect(formatUs(2.5)).toBe('2.5 µs');
    expect(formatUs(24000)).toBe('24 ms');
    expect(playDelayMs(2)).toBe(450);
    expect(commandNode(events[2])).toBe('node-1');
    expect(commandNode(ev(9, { at: { element: 'node/node-3' } }))).toBe('node-3');
    expect(commandNode(ev(9, { at: { element: 'pod/x/y' } }))).toBeNull();
  });
});

describe('steps without a packet', () => {
  it('getaddrinfo() and its result show no headers; every packet step does', () => {
    expect(packetless({ kind: 'dns-lookup' })).toContain('getaddrinfo()');
    expect(packetless({ kind: 'dns-result' })).toContain('No packet');
    for (const kind of ['dns-query', 'dns-answer', 'route', 'veth', 'netfilter', 'encap', 'deliver'] as const) expect(packetless({ kind })).toBeNull();
  });
});

describe('hop edges between separate elements only', () => {
  it('draws no edge for a move between a pod and its own node', () => {
    const nested = (a: string, b: string) => (a === 'pod/default/pod-a' && b === 'node/node-1') || (b === 'pod/default/pod-a' && a === 'node/node-1');
    expect(hopEdges(events, 4, nested).map((e) => e.data.id)).toEqual([hopEdgeId('node/node-1', 'node/node-2')]);
    expect(trailAt(events, 1, nested).active).toEqual(['pod/default/pod-a', 'node/node-1']);
  });
});
