// The packet stepper's logic (Packet Tracer's simulation mode, for
// Kubernetes): which canvas elements a walk has crossed up to a step, the
// packet's headers at a step as rows with the fields that changed since the
// previous hop, and the latency breakdown as bars. Pure: no DOM.

import type { GraphElement } from '../graph/elements';
import type { LatencyBreakdown, PacketHeaders, TraceEvent } from '../../../core/trace/types';

export interface Trail {
  /** Elements crossed up to and including the step. */
  path: string[];
  /** The current step's elements (where it happens, and where the packet goes). */
  active: string[];
}

/** Elements of a step: where it happens and, for moves, where the packet goes. */
export function stepElements(e: TraceEvent): string[] {
  return e.at.to && e.at.to !== e.at.element ? [e.at.element, e.at.to] : [e.at.element];
}

/** Whether one element contains the other on the canvas (a pod in its node): such moves get no edge. */
export type Nested = (a: string, b: string) => boolean;

const notNested: Nested = () => false;

function moveEdge(e: TraceEvent, nested: Nested): string | null {
  const to = e.at.to;
  if (!to || to === e.at.element || nested(e.at.element, to)) return null;
  return hopEdgeId(e.at.element, to);
}

export function trailAt(events: TraceEvent[], index: number, nested: Nested = notNested): Trail {
  if (index < 0 || !events.length) return { path: [], active: [] };
  const i = Math.min(index, events.length - 1);
  const path = new Set<string>();
  for (let k = 0; k <= i; k++) for (const id of stepElements(events[k])) path.add(id);
  for (const h of hopEdges(events, i, nested)) path.add(h.data.id);
  const active = stepElements(events[i]);
  const move = moveEdge(events[i], nested);
  return { path: [...path], active: move ? [...active, move] : active };
}

export function hopEdgeId(from: string, to: string): string {
  return `hop/${from}->${to}`;
}

/** One dotted edge per distinct move between separate elements (the wire between nodes) up to a step. */
export function hopEdges(events: TraceEvent[], index: number, nested: Nested = notNested): GraphElement[] {
  const out = new Map<string, GraphElement>();
  for (let k = 0; k <= Math.min(index, events.length - 1); k++) {
    const e = events[k];
    const id = moveEdge(e, nested);
    if (id && !out.has(id)) out.set(id, { group: 'edges', data: { id, kind: 'hop', label: '', source: e.at.element, target: e.at.to!, detail: e.action } });
  }
  return [...out.values()];
}

export interface HeaderField {
  /** Path as the trace names it, e.g. `ip.dst`, `outer.vxlan.vni`. */
  path: string;
  name: string;
  value: string;
  changed: boolean;
}

export interface HeaderGroup {
  id: string;
  title: string;
  /** Outer (tunnel) headers are drawn apart from the inner packet. */
  layer: 'outer' | 'inner';
  fields: HeaderField[];
}

type Flat = Record<string, string>;

function flags(f: string[]): string {
  return `[${f.join('')}]`;
}

/** The headers as groups of fields, outer (tunnel) first, in wire order. */
export function headerGroups(h: PacketHeaders): HeaderGroup[] {
  const groups: HeaderGroup[] = [];
  const g = (id: string, title: string, layer: HeaderGroup['layer'], fields: [string, string, unknown][]) => {
    const list = fields.filter(([, , v]) => v !== undefined && v !== null && v !== '').map(([path, name, v]) => ({ path, name, value: String(v), changed: false }));
    if (list.length) groups.push({ id, title, layer, fields: list });
  };
  const o = h.outer;
  if (o) {
    g('outer.eth', 'Outer Ethernet', 'outer', [
      ['outer.eth.src', 'src MAC', o.eth.src],
      ['outer.eth.dst', 'dst MAC', o.eth.dst],
    ]);
    // IPv6 has a hop limit and no DF bit (routers never fragment IPv6).
    const o6 = o.ip.src.includes(':');
    g('outer.ip', `Outer IPv${o6 ? 6 : 4}`, 'outer', [
      ['outer.ip.src', 'src', o.ip.src],
      ['outer.ip.dst', 'dst', o.ip.dst],
      ['outer.ip.protocol', o6 ? 'next header' : 'proto', protoName(o.ip.protocol)],
      ['outer.ip.ttl', o6 ? 'hop limit' : 'ttl', o.ip.ttl],
      ['outer.ip.df', 'DF', o6 ? undefined : o.ip.df ? 'set' : 'clear'],
      ['outer.ip.length', 'length', o.ip.length],
    ]);
    if (o.udp)
      g('outer.udp', 'Outer UDP', 'outer', [
        ['outer.udp.sport', 'sport', o.udp.sport],
        ['outer.udp.dport', 'dport', o.udp.dport],
        ['outer.udp.length', 'length', o.udp.length],
      ]);
    if (o.vxlan)
      g('outer.vxlan', 'VXLAN', 'outer', [
        ['outer.vxlan.vni', 'VNI', o.vxlan.vni],
        ['outer.vxlan.flags', 'flags', `[I] (0x${o.vxlan.flags.toString(16).padStart(2, '0')})`],
      ]);
    if (o.geneve) g('outer.geneve', 'Geneve', 'outer', [['outer.geneve.vni', 'VNI', o.geneve.vni]]);
    if (o.innerEth)
      g('outer.innerEth', 'Inner Ethernet (VTEP)', 'outer', [
        ['outer.innerEth.src', 'src MAC', o.innerEth.src],
        ['outer.innerEth.dst', 'dst MAC', o.innerEth.dst],
      ]);
  }
  if (h.eth)
    g('eth', 'Ethernet', 'inner', [
      ['eth.src', 'src MAC', h.eth.src + (h.eth.synthetic ? ' *' : '')],
      ['eth.dst', 'dst MAC', h.eth.dst],
    ]);
  g('ip', `IPv${h.ip.version}`, 'inner', [
    ['ip.src', 'src', h.ip.src],
    ['ip.dst', 'dst', h.ip.dst],
    ['ip.protocol', 'proto', h.ip.protocol],
    ['ip.ttl', h.ip.version === 6 ? 'hop limit' : 'ttl', h.ip.ttl],
    ['ip.df', 'DF', h.ip.version === 6 ? undefined : h.ip.df ? 'set' : 'clear'],
    ['ip.length', 'length', h.ip.length],
  ]);
  if (h.tcp)
    g('tcp', 'TCP', 'inner', [
      ['tcp.sport', 'sport', h.tcp.sport],
      ['tcp.dport', 'dport', h.tcp.dport],
      ['tcp.flags', 'flags', flags(h.tcp.flags)],
      ['tcp.seq', 'seq', h.tcp.seq],
      ['tcp.ack', 'ack', h.tcp.ack],
      ['tcp.window', 'win', h.tcp.window],
      ['tcp.options', 'options', h.tcp.options],
      ['tcp.payload', 'payload', h.tcp.payload],
    ]);
  if (h.udp)
    g('udp', 'UDP', 'inner', [
      ['udp.sport', 'sport', h.udp.sport],
      ['udp.dport', 'dport', h.udp.dport],
      ['udp.length', 'length', h.udp.length],
    ]);
  if (h.icmp)
    g('icmp', h.ip.version === 6 ? 'ICMPv6' : 'ICMP', 'inner', [
      ['icmp.text', 'message', h.icmp.text],
      ['icmp.type', 'type', h.icmp.type],
      ['icmp.code', 'code', h.icmp.code],
      ['icmp.id', 'id', h.icmp.id],
      ['icmp.seq', 'seq', h.icmp.seq],
    ]);
  if (h.dns)
    g('dns', 'DNS', 'inner', [
      ['dns.id', 'id', h.dns.id],
      ['dns.qr', 'type', h.dns.qr ? 'response' : 'query'],
      ['dns.qname', 'question', `${h.dns.qname} ${h.dns.qtype}`],
      ['dns.rcode', 'rcode', h.dns.rcode],
      ['dns.answers', 'answers', h.dns.answers.join(', ')],
    ]);
  return groups;
}

function protoName(n: number): string {
  return n === 17 ? 'UDP (17)' : n === 6 ? 'TCP (6)' : n === 4 ? 'IPIP (4)' : n === 41 ? 'IPv6 (41)' : n === 50 ? 'ESP (50)' : String(n);
}

function flatten(groups: HeaderGroup[]): Flat {
  const out: Flat = {};
  for (const g of groups) for (const f of g.fields) out[f.path] = f.value;
  return out;
}

/**
 * The headers at step `index`, each field marked changed when the step's own
 * `changed` list names it (or a group containing it) or when it differs from
 * the previous step's headers.
 */
export function headersAt(events: TraceEvent[], index: number): { groups: HeaderGroup[]; changed: string[] } {
  const e = events[index];
  if (!e) return { groups: [], changed: [] };
  const groups = headerGroups(e.headers);
  const prev = index > 0 ? flatten(headerGroups(events[index - 1].headers)) : null;
  const named = e.changed;
  const changed: string[] = [];
  for (const g of groups)
    for (const f of g.fields) {
      const byStep = named.some((c) => f.path === c || f.path.startsWith(`${c}.`));
      const byDiff = prev !== null && prev[f.path] !== f.value;
      f.changed = byStep || byDiff;
      if (f.changed) changed.push(f.path);
    }
  return { groups, changed };
}

export interface LatencyBar {
  category: string;
  label: string;
  us: number;
  /** Fraction of the total (0..1). */
  share: number;
  color: string;
}

const CATEGORY: Record<string, { label: string; color: string }> = {
  dns: { label: 'DNS resolution', color: '#8b5cf6' },
  service: { label: 'Service load balancing', color: '#2563eb' },
  mesh: { label: 'Istio sidecars', color: '#db2777' },
  encap: { label: 'Encap/decap', color: '#f59e0b' },
  transit: { label: 'Network transit', color: '#0891b2' },
  backend: { label: 'Backend processing', color: '#16a34a' },
};

/**
 * Steps that are a library call, not a packet: getaddrinfo() reading
 * resolv.conf and returning its answer. The walk keeps the first query's
 * addresses on them, but no packet with those headers exists there.
 */
export function packetless(e: Pick<TraceEvent, 'kind'>): string | null {
  if (e.kind === 'dns-lookup') return 'No packet yet: getaddrinfo() reads /etc/resolv.conf and builds the candidate names. The queries follow.';
  if (e.kind === 'dns-result') return 'No packet: the resolver hands the answer to the application.';
  return null;
}

/** Bars for the latency chart, from the walk's breakdown. */
export function latencyBars(l: LatencyBreakdown): LatencyBar[] {
  const rows: [string, number][] = [
    ['dns', l.dnsUs],
    ['service', l.serviceUs],
    ...(l.meshUs !== undefined ? [['mesh', l.meshUs] as [string, number]] : []),
    ['encap', l.encapUs],
    ['transit', l.transitUs],
    ['backend', l.backendUs],
  ];
  const total = l.totalUs > 0 ? l.totalUs : rows.reduce((a, [, v]) => a + v, 0) || 1;
  return rows.map(([category, us]) => ({
    category,
    label: category === 'encap' ? l.encapLabel : CATEGORY[category].label,
    us,
    share: us / total,
    color: CATEGORY[category].color,
  }));
}

/** Microseconds as a person reads them: 850 µs, 1.2 ms. */
export function formatUs(us: number): string {
  if (us >= 1000) return `${(us / 1000).toFixed(us >= 10_000 ? 0 : 1)} ms`;
  if (us >= 10) return `${Math.round(us)} µs`;
  return `${us.toFixed(1)} µs`;
}

/** Delay between steps when playing, for a speed factor (1 = normal). */
export function playDelayMs(speed: number): number {
  return Math.round(900 / Math.max(0.1, speed));
}

/** The node a hop's command runs on (for pasting it into that node's terminal). */
export function commandNode(e: TraceEvent): string | null {
  if (e.at.node) return e.at.node;
  const m = /^node\/(.+)$/.exec(e.at.element);
  return m ? m[1] : null;
}
