// The packet walk: from a source pod and a request, every step of the DNS
// queries, the request and the reply — route lookups, veth crossings, every
// netfilter hook with the rules that matched, Service load balancing, NAT,
// conntrack, NetworkPolicy enforcement, encapsulation, the wire — per CNI
// (Calico, Cilium, Flannel, Weave, Antrea) and kube-proxy mode (iptables,
// IPVS, Cilium eBPF).

import { Cidr, ipFamily } from '../net';
import { canonicalIP, parseIP } from './ipcache';
import type { PodModel, Protocol, ServiceModel } from '../model/types';
import { antreaCtZone, routeLookup, CALICO_WIREGUARD_MARK, CALICO_WIREGUARD_RULE_PRIORITY, CALICO_WIREGUARD_TABLE, interfaceByName, masqueradeSource, mtuCheck, syntheticMac, ciliumIdentityFor, type EncapsulationKind, type NetNamespace, type RouteLookup } from '../cni';
import {
  CONNTRACK_FULL_MESSAGE,
  enumerateOutcomes,
  ipvsOutcomes,
  randomNatPort,
  renderConntrackEntry,
  scriptedRandom,
  type ConntrackEntry,
  type EvalContext,
  type HookResult,
  type Hook,
  type Packet,
  type RandomSource,
  type TrackResult,
  type Tuple,
} from '../dataplane';
import type { CiliumFrontend } from '../kubeproxy';
import { CALICO_IPVS_NOTE, calicoInterfaceName, type Verdict as PolicyVerdict } from '../policy';
import { SEED_NOTES, type DnsAnswer, type QueryStep } from '../dns';
import { TraceContext, type NodeNetfilter, type Place } from './context';
import { hookKey, runHookCompiled } from './netfilter';
import { CATEGORY_LABELS, DEFAULT_LATENCY, LATENCY_NOTE, formatUs, type LatencyModel } from './latency';
import { changedFields, dnsQueryLength, dnsResponseHeader, initialWindow, ipLength, scaledWindow, synOptions } from './packet';
import { parseRequest, TraceInputError } from './request';
import { clientSidecar, meshStepEvent, meshVerdictEnd, serverSidecar, topologyHasMesh } from './mesh';
import { PROXY_UID, type MeshStep, type Upstream } from '../mesh';
import { TraceState } from './state';
import type {
  DnsHeader,
  DropReason,
  EventLocation,
  LatencyBreakdown,
  LatencyCategory,
  PacketHeaders,
  Phase,
  ServiceChoice,
  TraceEvent,
  TraceEventKind,
  TraceRequest,
  TraceResult,
  TraceVerdict,
} from './types';

export interface TraceOptions {
  /** Seeds every random choice (endpoint, DNS IDs, ISNs, later ports); default 1. */
  seed?: number;
  /** The connection's ephemeral port (default 52345, the seed's). */
  srcPort?: number;
  /** The first DNS socket's port (default 53241, the seed's); later sockets get other ports. */
  dnsPort?: number;
  /** Force the target Service's endpoint: `IP`, `IP:PORT`, or the index in outcome order. */
  endpoint?: string | number;
  /** Force kube-dns's endpoint the same way. */
  dnsEndpoint?: string | number;
  /** Payload bytes: UDP datagram / ICMP data; for TCP the size of the first data segment (default: a full MSS). */
  size?: number;
  /** Don't Fragment on the request (default true: Linux sets DF for path MTU discovery). */
  df?: boolean;
  /** ICMP errors are filtered on the way back (a PMTU black hole instead of "fragmentation needed"). */
  icmpBlocked?: boolean;
  /** Only this address family (curl -4 / -6: A or AAAA queries only). Default: the family of an IP given; for a name, glibc's sorting (IPv6 first when the source and the answers have both). */
  family?: 4 | 6;
  /** Conntrack tables, DNS caches and clock shared between walks. */
  state?: TraceState;
  /** Per-event costs (microseconds) overriding DEFAULT_LATENCY. */
  latency?: Partial<LatencyModel>;
  /** Wall-clock start of the walk, seconds after midnight UTC (tcpdump/hubble timestamps); default 10:00:00. */
  startSeconds?: number;
}

/** One crossing of an interface, for tcpdump-style rendering. */
export interface Capture {
  /** Index into the walk's packet list. */
  packet: number;
  node?: string;
  netns: string;
  iface: string;
  dir: 'in' | 'out';
  timeUs: number;
  headers: PacketHeaders;
}

/** A packet of the walk (events reference it by label). */
export interface WalkPacket {
  label: string;
  phase: Phase;
  dir: 'request' | 'response';
  /** What produced it, for renderers that continue the conversation. */
  role: 'dns-query' | 'dns-response' | 'syn' | 'syn-ack' | 'udp-request' | 'udp-reply' | 'echo-request' | 'echo-reply' | 'icmp-error';
}

export interface TraceOutput extends TraceResult {
  packets: WalkPacket[];
  captures: Capture[];
  /** Seconds after midnight UTC at time 0 of the walk. */
  startSeconds: number;
}


interface Pkt {
  index: number;
  label: string;
  phase: Phase;
  dir: 'request' | 'response';
  h: PacketHeaders;
  last?: PacketHeaders;
  proto: 'tcp' | 'udp' | 'icmp' | 'ipv6-icmp';
  tcpFlags?: string[];
  icmp?: { type: number; code: number; id: number };
  mark: number;
  clock: number;
  /** The packet's socket was translated by Cilium socket-LB: the app sees `front` in replies. */
  sockLB?: { front: { ip: string; port: number }; back: { ip: string; port: number } };
  /** Cilium bpf_lxc per-packet Service translation (reverse NAT in the client's bpf_lxc). */
  bpfNat?: { front: { ip: string; port: number }; back: { ip: string; port: number } };
  /** The packet travels as IPv4 fragments of at most this size until the next node reassembles it (nf_defrag). */
  frag?: number;
  /**
   * The node whose IPVS translated the packet: ip_vs_nat_xmit sends it on through
   * NF_INET_LOCAL_OUT (filter OUTPUT, then POSTROUTING), so it never sees FORWARD there.
   */
  ipvsNode?: string;
}

type Sent = { ok: true; at: Place; pkt: Pkt } | { ok: false; pkt: Pkt };

const nodeEl = (n: string): string => `node/${n}`;
interface HookView {
  empty: boolean;
  rules: string[];
  detail: string;
  service: boolean;
  command: string;
  verdict: TraceVerdict;
  /** felix's raw cali-PREROUTING gave the packet the workload mark, so its reverse-path check ran (and passed when accepted). */
  rpfilter: boolean;
  /** With rules matched in other tables, the action names them and the skipped nat table (a packet of a known connection). */
  natSkippedAction?: string;
  /** On Calico, the tables and the chains the hook jumped to (felix's first): the caller's label names kube-proxy's only. */
  felixAction?: string;
}

/** Callers' labels that only name the tables or kube-proxy's chains: on Calico the hook's own tables and jumps say more. */
const GENERIC_HOOK_LABELS = new Set(['kube-proxy Service chains', 'nat (KUBE-POSTROUTING)', 'raw/mangle/nat', 'raw/mangle/nat/filter', 'filter', 'filter/INPUT']);

/** `mangle/nat (cali-POSTROUTING, KUBE-POSTROUTING)`: the hook's matched tables and the chains its built-in chain jumped to, when felix's are among them. */
function felixHookAction(r: HookResult, tables: string): string | undefined {
  const jumps: string[] = [];
  for (const s of r.steps) {
    const t = s.event === 'match' && s.chain === r.hook ? s.rule?.target : undefined;
    if (t?.kind === 'jump' && !jumps.includes(t.chain)) jumps.push(t.chain);
  }
  return tables && jumps.some((j) => j.startsWith('cali-')) ? `${tables} (${jumps.join(', ')})` : undefined;
}
/** Per-result caches kept on the (memoised, immutable) HookResult itself: WeakMaps make every GC pay for ephemerons. */
type Viewed = HookResult & { _lines?: string[]; _view?: HookView };
const podEl = (p: PodModel): string => `pod/${p.namespace}/${p.name}`;
const svcEl = (s: ServiceModel): string => `svc/${s.namespace}/${s.name}`;
const podRef = (p: PodModel): string => `${p.namespace}/${p.name}`;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function invertTuple(t: Tuple): Tuple {
  return { src: t.dst, dst: t.src, sport: t.dport, dport: t.sport };
}

function joinHP(ip: string, port?: number): string {
  if (port === undefined) return ip;
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const routeTexts = new Map<object, string>();

/** `ip route` text of a route (as iproute2 prints it, without the trailing space). */
export function routeText(r: RouteLookup): string {
  const key = r.route ?? r;
  let t = routeTexts.get(key);
  if (t === undefined) {
    t = routeTextOf(r);
    if (routeTexts.size > 100000) routeTexts.clear();
    routeTexts.set(key, t);
  }
  return t;
}

function routeTextOf(r: RouteLookup): string {
  const rt = r.route;
  if (!rt) return '(no route)';
  const parts: string[] = [];
  if (rt.type !== 'unicast') parts.push(rt.type);
  const [addr, len] = rt.dst.split('/');
  parts.push(rt.dst === '0.0.0.0/0' || rt.dst === '::/0' ? 'default' : (rt.family === 4 && len === '32') || (rt.family === 6 && len === '128') ? addr : rt.dst);
  if (rt.gateway) parts.push(`via ${rt.gateway}`);
  if (rt.dev) parts.push(`dev ${rt.dev}`);
  if (rt.table !== 'main') parts.push(`table ${rt.table}`);
  if (rt.protocol !== 'boot') parts.push(`proto ${rt.protocol}`);
  if (rt.scope !== 'global') parts.push(`scope ${rt.scope}`);
  if (rt.prefsrc) parts.push(`src ${rt.prefsrc}`);
  if (rt.family === 6) parts.push(`metric ${rt.metric ?? 1024}`);
  else if (rt.metric !== undefined) parts.push(`metric ${rt.metric}`);
  for (const f of rt.flags) parts.push(f);
  if (rt.mtu !== undefined) parts.push(`mtu ${rt.mtu}`);
  if (rt.family === 6) parts.push('pref medium');
  return parts.join(' ');
}

const HUBBLE_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go time.StampMilli (`Jan _2 15:04:05.000`) for Jan 1 + seconds. */
export function stampMilli(seconds: number): string {
  const ms = Math.floor(seconds * 1000);
  const day = Math.floor(ms / 86400000);
  const rest = ms - day * 86400000;
  const h = Math.floor(rest / 3600000);
  const m = Math.floor((rest % 3600000) / 60000);
  const s = Math.floor((rest % 60000) / 1000);
  const f = rest % 1000;
  const d = String(1 + day).padStart(2, ' ');
  return `${HUBBLE_MONTHS[0]} ${d} ${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(f).padStart(3, '0')}`;
}

/**
 * One event, built by a constructor rather than an object literal. V8 decides
 * per object-literal site whether to allocate straight in the old generation
 * ("allocation-site pretenuring"); a walk keeps all its events until it ends,
 * so early in a process that site looks long-lived and gets pretenured, after
 * which every event lands in the old generation pointing at young headers and
 * texts, and each scavenge has to copy those (measured: scavenges 2.5-4x
 * longer, walks 1.5-2x slower). Constructor allocations are not pretenured.
 * The own properties and their order are exactly TraceEvent's.
 */
class WalkEvent implements TraceEvent {
  seq: number;
  phase: Phase;
  packet: string;
  direction: 'request' | 'response';
  kind: TraceEventKind;
  at: EventLocation;
  action: string;
  detail: string;
  verdict: TraceVerdict;
  headers: PacketHeaders;
  changed: string[];
  latencyUs: number;
  category: LatencyCategory;
  timeUs: number;
  declare rule?: string;
  declare rules?: string[];
  declare hook?: TraceEvent['hook'];
  declare command?: string;
  declare conntrack?: string;
  declare hubble?: string;
  declare drop?: { reason: DropReason; text: string };
  declare seedNote?: string;

  constructor(seq: number, p: Pkt, kind: TraceEventKind, at: EventLocation, action: string, detail: string, verdict: TraceVerdict, latency: number, category: LatencyCategory) {
    this.seq = seq;
    this.phase = p.phase;
    this.packet = p.label;
    this.direction = p.dir;
    this.kind = kind;
    this.at = at;
    this.action = action;
    this.detail = detail;
    this.verdict = verdict;
    this.headers = p.h;
    this.changed = changedFields(p.last, p.h);
    this.latencyUs = Math.round(latency * 1000) / 1000;
    this.category = category;
    this.timeUs = Math.round(p.clock * 1000) / 1000;
  }
}

class Walker {
  readonly events: TraceEvent[] = [];
  readonly captures: Capture[] = [];
  readonly packets: WalkPacket[] = [];
  readonly notes = new Set<string>();
  readonly services: ServiceChoice[] = [];
  readonly touched = new Set<string>();
  readonly lat: LatencyModel;
  readonly rng: () => number;
  readonly state: TraceState;
  readonly plugin: string;
  readonly mode: string;
  readonly kp: 'iptables' | 'ipvs' | 'ebpf';
  readonly start: number;
  dropped?: { reason: DropReason; text: string; seq: number };
  /** Set when a proxy (Istio sidecar) answers the request itself. */
  httpStatus?: number;
  family: 4 | 6 = 4;
  /** conntrack entries created by the packet in flight and not yet confirmed (a drop discards them, as the kernel does). */
  private pending: { node: string; entry: ConntrackEntry }[] = [];

  constructor(
    readonly ctx: TraceContext,
    readonly opts: TraceOptions,
  ) {
    this.lat = { ...DEFAULT_LATENCY, ...(opts.latency ?? {}) };
    this.rng = mulberry32(opts.seed ?? 1);
    this.state = opts.state ?? new TraceState();
    this.plugin = ctx.cni.plugin;
    this.mode = ctx.cni.mode;
    this.kp = ctx.kubeProxyMode;
    this.start = opts.startSeconds ?? 36000;
    this.socketLB = this.kp === 'ebpf' && this.plugin !== 'antrea';
    if (this.kp === 'ebpf' && this.plugin !== 'cilium') {
      this.notes.add(
        this.plugin === 'antrea'
          ? 'kube-proxy mode "ebpf" is Cilium\'s kube-proxy replacement; with Antrea, AntreaProxy serves ClusterIPs inside OVS either way.'
          : `kube-proxy mode "ebpf" is Cilium's kube-proxy replacement; with ${this.plugin} the model applies the same socket-level load balancing (no kube-proxy rules). ${this.plugin === 'calico' ? "Calico's own eBPF data plane does the same job but is not modelled in detail." : ''}`.trim(),
      );
    }
  }

  /** Services are translated at connect() (Cilium socket-LB). */
  readonly socketLB: boolean;

  // ------------------------------------------------------------ events

  emit(
    p: Pkt,
    kind: TraceEventKind,
    at: EventLocation,
    action: string,
    detail: string,
    verdict: TraceVerdict,
    o: {
      latencyUs?: number;
      category?: LatencyCategory;
      rule?: string;
      rules?: string[];
      hook?: TraceEvent['hook'];
      command?: string;
      conntrack?: string;
      hubble?: string;
      drop?: { reason: DropReason; text: string };
      seedNote?: string;
    } = {},
  ): TraceEvent {
    const latency = o.latencyUs ?? 0;
    p.clock += latency;
    const ev: TraceEvent = new WalkEvent(this.events.length + 1, p, kind, at, action, detail, verdict, latency, o.category ?? (p.phase === 'dns' ? 'dns' : 'transit'));
    if (o.rule !== undefined) ev.rule = o.rule;
    if (o.rules) ev.rules = o.rules;
    if (o.hook) ev.hook = o.hook;
    if (o.command) ev.command = o.command;
    if (o.conntrack) ev.conntrack = o.conntrack;
    if (o.hubble) ev.hubble = o.hubble;
    if (o.drop) ev.drop = o.drop;
    if (o.seedNote) ev.seedNote = o.seedNote;
    p.last = p.h;
    this.events.push(ev);
    if (at.node) this.touched.add(at.node);
    return ev;
  }

  drop(p: Pkt, at: EventLocation, reason: DropReason, text: string, o: { rule?: string; command?: string; hubble?: string; hook?: TraceEvent['hook']; latencyUs?: number; category?: LatencyCategory } = {}): Sent {
    for (const x of this.pending) this.ctTable(x.node).delete(x.entry);
    this.pending = [];
    const ev = this.emit(p, 'drop', at, `dropped: ${reason}`, text, reason === 'no-endpoints' || reason === 'unreachable' ? 'reject' : 'drop', { ...o, drop: { reason, text } });
    if (!this.dropped) this.dropped = { reason, text, seq: ev.seq };
    return { ok: false, pkt: p };
  }

  capture(p: Pkt, node: string | undefined, netns: string, iface: string, dir: 'in' | 'out'): void {
    this.captures.push({ packet: p.index, node, netns, iface, dir, timeUs: p.clock, headers: p.h });
  }

  newPkt(label: string, phase: Phase, dir: 'request' | 'response', role: WalkPacket['role'], h: PacketHeaders, proto: Pkt['proto'], clock: number, extra: Partial<Pkt> = {}): Pkt {
    this.packets.push({ label, phase, dir, role });
    return { index: this.packets.length - 1, label, phase, dir, h, proto, mark: 0, clock, ...extra };
  }

  // ------------------------------------------------------------ header helpers

  setIP(p: Pkt, f: Partial<PacketHeaders['ip']>): void {
    p.h = { ...p.h, ip: { ...p.h.ip, ...f } };
  }

  sport(p: Pkt): number | undefined {
    return p.h.tcp?.sport ?? p.h.udp?.sport ?? p.icmp?.id;
  }

  dport(p: Pkt): number | undefined {
    return p.h.tcp?.dport ?? p.h.udp?.dport ?? (p.icmp ? p.icmp.id : undefined);
  }

  setDst(p: Pkt, ip: string, port?: number): void {
    const h = { ...p.h, ip: { ...p.h.ip, dst: ip } };
    if (port !== undefined && h.tcp) h.tcp = { ...h.tcp, dport: port };
    if (port !== undefined && h.udp) h.udp = { ...h.udp, dport: port };
    p.h = h;
  }

  setSrc(p: Pkt, ip: string, port?: number): void {
    const h = { ...p.h, ip: { ...p.h.ip, src: ip } };
    if (port !== undefined && h.tcp) h.tcp = { ...h.tcp, sport: port };
    if (port !== undefined && h.udp) h.udp = { ...h.udp, sport: port };
    p.h = h;
  }

  setEth(p: Pkt, src: string, dst: string, synthetic = true): void {
    p.h = { ...p.h, eth: { src, dst, synthetic } };
  }

  /** `iptables-save` / `ip6tables-save` (and `iptables` / `ip6tables`) for the walk's family. */
  get ipt(): string {
    return this.family === 6 ? 'ip6tables' : 'iptables';
  }

  /** `conntrack -L` lists only IPv4 entries unless given `-f ipv6`. */
  get ctList(): string {
    return this.family === 6 ? 'conntrack -L -f ipv6' : 'conntrack -L';
  }

  /** IPv4 TTL / IPv6 hop limit. */
  get ttlName(): string {
    return this.family === 6 ? 'hop limit' : 'TTL';
  }

  decTTL(p: Pkt): void {
    this.setIP(p, { ttl: p.h.ip.ttl - 1 });
  }

  l4Text(p: Pkt): string {
    const h = p.h;
    if (h.tcp) return `TCP ${joinHP(h.ip.src, h.tcp.sport)} → ${joinHP(h.ip.dst, h.tcp.dport)} [${h.tcp.flags.join('')}]`;
    if (h.udp) return `UDP ${joinHP(h.ip.src, h.udp.sport)} → ${joinHP(h.ip.dst, h.udp.dport)}`;
    return `${h.ip.protocol} ${h.ip.src} → ${h.ip.dst}${h.icmp ? ` ${h.icmp.text}` : ''}`;
  }

  // ------------------------------------------------------------ places

  placeOf(ip: string): Place {
    return this.ctx.placeOf(ip);
  }

  hostPeerPod(node: string, iface: string): PodModel | undefined {
    return this.ctx.hostPeerPod(node, iface);
  }

  macOf(ns: NetNamespace, iface: string): string {
    return interfaceByName(ns, iface)?.mac ?? syntheticMac(`${ns.id}/${iface}`);
  }

  nodeMac(node: string): string {
    return this.macOf(this.ctx.nodeDp(node), 'eth0');
  }

  // ------------------------------------------------------------ conntrack

  ctTable(node: string) {
    return this.state.ct(node, this.ctx.topology.settings.conntrack?.max ?? 131072);
  }

  track(node: string, p: Pkt, zone?: number): TrackResult {
    const t = this.ctTable(node);
    const r = t.track({
      family: this.family,
      proto: p.proto,
      src: p.h.ip.src,
      dst: p.h.ip.dst,
      sport: p.proto === 'tcp' || p.proto === 'udp' ? this.sport(p) : undefined,
      dport: p.proto === 'tcp' || p.proto === 'udp' ? this.dport(p) : undefined,
      tcpFlags: p.tcpFlags,
      icmp: p.icmp,
    });
    if (r.verdict === 'ok' && zone !== undefined && r.created) r.entry.zone = zone;
    if (r.verdict === 'ok' && r.created) this.pending.push({ node, entry: r.entry });
    return r;
  }

  ctLine(node: string, e: ConntrackEntry): string {
    return renderConntrackEntry(e, this.ctTable(node).now);
  }

  // ------------------------------------------------------------ netfilter

  nf(node: string): NodeNetfilter {
    return this.ctx.netfilterFor(node, this.family);
  }

  evalCtx(node: string, nf: NodeNetfilter, random?: RandomSource, recentClone = false): EvalContext {
    const isLocal = this.ctx.isLocalFn(node);
    const recent = this.state.recentFor(node);
    return {
      isLocal,
      ipsets: nf.ipsets,
      random,
      recent: recentClone ? recent.clone() : recent,
      now: this.state.now,
      masqueradeAddress: (out, _family, dst) => this.masqAddress(node, out, dst),
      reversePath: (src, inIface, o) => this.reversePath(node, src, inIface, o),
      isLocalOn: (ip, iface) => !!iface && !!interfaceByName(this.ctx.nodeDp(node), iface)?.addresses.some((a) => a.local === ip),
    };
  }

  /**
   * `-m rpfilter` (felix's raw cali-PREROUTING, strict, --validmark): the
   * route back to the source, looked up with the packet's mark, must leave
   * through the interface the packet came in on (with --loose: any route).
   */
  reversePath(node: string, src: string, inIface: string | undefined, o: { loose: boolean; mark: number }): boolean {
    const ns = this.ctx.nodeDp(node);
    // The mark matters only to policy rules; the context's cached lookup serves a namespace without them.
    const r = o.mark && ns.rules?.length ? routeLookup(ns, src, { mark: o.mark }) : this.ctx.route(ns, src);
    if (r.verdict !== 'forward' && r.verdict !== 'local') return false;
    return o.loose || r.dev === inIface;
  }

  /**
   * The source MASQUERADE picks (core/cni's masqueradeSource: the outgoing
   * device's address; without one IPv4 takes the first global address in device
   * order, IPv6 the RFC 6724 longest-prefix match), else the node's address.
   */
  masqAddress(node: string, out: string | undefined, dst?: string): string | undefined {
    const viaDevice = dst ? masqueradeSource(this.ctx.nodeDp(node), dst, out ?? 'eth0') : undefined;
    return viaDevice ?? this.ctx.node(node).ips.find((ip) => ipFamily(ip) === this.family);
  }

  nfPacket(p: Pkt, inIface: string | undefined, outIface: string | undefined, ct?: Extract<TrackResult, { verdict: 'ok' }>, node?: string): Packet {
    const base: Packet = {
      family: this.family,
      proto: p.proto,
      src: p.h.ip.src,
      dst: p.h.ip.dst,
      sport: p.proto === 'tcp' || p.proto === 'udp' ? this.sport(p) : undefined,
      dport: p.proto === 'tcp' || p.proto === 'udp' ? this.dport(p) : undefined,
      inIface,
      outIface,
      mark: p.mark,
      ctstate: 'NEW',
      tcpFlags: p.tcpFlags,
      icmpType: p.icmp ? (p.icmp.type === 8 || p.icmp.type === 128 ? 'echo-request' : p.icmp.type === 0 || p.icmp.type === 129 ? 'echo-reply' : undefined) : undefined,
    };
    if (ct && node) Object.assign(base, this.ctTable(node).packetState(ct));
    return base;
  }

  /** runHookCompiled, memoised per node on the fields the rule set reads (no memo with random/recent state). */
  hook(node: string, nf: NodeNetfilter, hook: Hook, pk: Packet): HookResult {
    const crs = nf.compiled;
    if (crs.uses.recent) return runHookCompiled(crs, hook, pk, this.evalCtx(node, nf));
    const key = `h|${node}|${hookKey(crs, hook, pk)}`;
    const memo = this.ctx.hookMemo;
    const hit = memo.get(key) as HookResult | undefined;
    // A memoised SNAT with --random(-fully) picked its port for another packet's ports: evaluate this one.
    if (hit && crs.uses.randomNat && !crs.uses.sport && hit.nat.some((n) => n.kind === 'SNAT' || n.kind === 'MASQUERADE')) return runHookCompiled(crs, hook, pk, this.evalCtx(node, nf));
    if (hit) return hit;
    let used = false;
    const random: RandomSource = {
      decide: (prob) => {
        used = true;
        return prob >= 1;
      },
    };
    const r = runHookCompiled(crs, hook, pk, this.evalCtx(node, nf, random));
    if (!used) {
      memo.set(key, r);
    }
    return r;
  }

  /** Every path through a hook with random (statistic) matches, with probabilities; memoised like hook(). */
  outcomes(node: string, nf: NodeNetfilter, hook: Hook, pk: Packet): { result: HookResult; probability: number; decisions: boolean[] }[] {
    const crs = nf.compiled;
    const run = () => enumerateOutcomes((rnd) => runHookCompiled(crs, hook, pk, this.evalCtx(node, nf, rnd, true)));
    if (crs.uses.recent) return run();
    const key = `o|${node}|${hookKey(crs, hook, pk)}`;
    const memo = this.ctx.hookMemo;
    let r = memo.get(key) as ReturnType<typeof run> | undefined;
    if (r && crs.uses.randomNat && !crs.uses.sport && r.some((o) => o.result.nat.some((n) => n.kind === 'SNAT' || n.kind === 'MASQUERADE'))) return run();
    if (!r) {
      r = run();
      memo.set(key, r);
    }
    return r;
  }

  /** Matched rule lines of a hook result (iptables-save form); cached per (memoised) result. */
  ruleLines(r: HookResult): string[] {
    const vr = r as Viewed;
    let out = vr._lines;
    if (!out) {
      out = [];
      for (const s of r.steps) if (s.event === 'match') out.push(s.text);
      vr._lines = out;
    }
    return out;
  }

  hookEvent(p: Pkt, node: string, iface: string | undefined, r: HookResult, what: string): void {
    const vr = r as Viewed;
    let v = vr._view;
    if (!v) {
      const rules = this.ruleLines(r);
      const skipped = r.steps.filter((s) => s.event === 'skip').map((s) => s.text);
      const tables = [...new Set(r.steps.filter((s) => s.event === 'match').map((s) => s.table))].join('/');
      const chain = r.steps.find((s) => s.event === 'match' && /^KUBE-(SVC|SVL|SEP|EXT|FW)-/.test(s.chain))?.chain;
      v = {
        empty: !rules.length && !skipped.length,
        rules,
        detail:
          `${r.hook} on ${node}${tables ? ` (${tables})` : ''}: ${rules.length} rule${rules.length === 1 ? '' : 's'} matched of ${r.rulesEvaluated} evaluated; verdict ${r.verdict}.` +
          (skipped.length ? ` ${skipped.join(' ')}` : '') +
          (r.notes.length ? ` ${r.notes.join(' ')}` : ''),
        service: !!(r.nat.length || chain),
        command: chain ? `${this.ipt}-save -t nat | grep ${chain}` : `${this.ipt} -t ${r.steps.find((s) => s.event === 'match')?.table ?? 'filter'} -L ${r.hook} -n -v --line-numbers`,
        verdict: r.verdict === 'ACCEPT' ? 'accept' : r.verdict === 'REJECT' ? 'reject' : 'drop',
        rpfilter: r.steps.some((s) => s.event === 'match' && s.table === 'raw' && s.chain === 'cali-PREROUTING' && s.rule?.inIface?.value === 'cali+'),
        natSkippedAction: tables && r.steps.some((s) => s.event === 'skip' && s.table === 'nat') ? `${tables} (nat skipped: conntrack)` : undefined,
        felixAction: felixHookAction(r, tables),
      };
      vr._view = v;
    }
    if (v.empty) return;
    const rules = v.rules;
    const detail =
      v.rpfilter && r.verdict === 'ACCEPT'
        ? `${v.detail} felix's raw cali-PREROUTING marked the packet as coming from a workload (0x40000, -i cali+) and ran its strict reverse-path check (-m rpfilter --validmark --invert -j DROP, not listed because it did not match): the route back to ${p.h.ip.src} leaves through ${iface}, the interface it came in on.`
        : v.detail;
    this.emit(p, 'netfilter', this.ctx.nodeLoc(node, iface), `${r.hook}: ${rules.length ? (v.natSkippedAction ?? (GENERIC_HOOK_LABELS.has(what) ? v.felixAction : undefined) ?? what) : 'nat skipped (conntrack)'}`, detail, v.verdict, {
      hook: r.hook,
      rules: rules.length ? rules : undefined,
      rule: rules[rules.length - 1],
      latencyUs: this.lat.hookUs + r.rulesEvaluated * this.lat.ruleUs,
      category: p.phase === 'dns' ? 'dns' : v.service ? 'service' : 'transit',
      command: v.command,
    });
  }

  // ------------------------------------------------------------ hubble

  identityText(ip: string, node: string): string {
    const place = this.placeOf(ip);
    if (place.kind === 'pod') return `(ID:${ciliumIdentityFor(place.pod.namespace, place.pod.labels)})`;
    if (place.kind === 'host') return place.node === node ? '(host)' : '(remote-node)';
    if (this.ctx.serviceByIP.has(canonicalIP(ip))) return '(world)';
    return '(world)';
  }

  hostnameText(ip: string, port: number | undefined): string {
    const place = this.placeOf(ip);
    let name = ip;
    if (place.kind === 'pod') name = podRef(place.pod);
    else {
      const s = this.ctx.serviceByIP.get(canonicalIP(ip));
      if (s) name = `${s.namespace}/${s.name}`;
    }
    if (!port) return name;
    return name.includes(':') && !name.includes('/') ? `[${name}]:${port}` : `${name}:${port}`;
  }

  hubble(p: Pkt, node: string, type: string, verdict: string): string {
    const h = p.h;
    const sport = h.tcp?.sport ?? h.udp?.sport;
    const dport = h.tcp?.dport ?? h.udp?.dport;
    const src = `${this.hostnameText(h.ip.src, sport)} ${this.identityText(h.ip.src, node)}`;
    const dst = `${this.hostnameText(h.ip.dst, dport)} ${this.identityText(h.ip.dst, node)}`;
    const arrow = p.dir === 'request' ? '->' : '<-';
    const [a, b] = p.dir === 'request' ? [src, dst] : [dst, src];
    let summary: string;
    if (h.tcp) {
      const names: Record<string, string> = { S: 'SYN', '.': 'ACK', F: 'FIN', R: 'RST', P: 'PSH' };
      const order = ['S', '.', 'F', 'R', 'P'];
      summary = `TCP Flags: ${order.filter((f) => h.tcp!.flags.includes(f)).map((f) => names[f]).join(', ')}`;
    } else if (h.udp) summary = 'UDP';
    else summary = h.icmp ? `ICMPv${h.ip.version === 4 ? 4 : 6} ${h.icmp.type === 8 || h.icmp.type === 128 ? 'EchoRequest' : h.icmp.type === 0 || h.icmp.type === 129 ? 'EchoReply' : 'DestinationUnreachable'}` : 'IP';
    return `${stampMilli(this.start + p.clock / 1e6)}: ${a} ${arrow} ${b} ${type} ${verdict} (${summary})`;
  }

  // ------------------------------------------------------------ policy

  endpointRef(ip: string): string {
    const place = this.placeOf(ip);
    if (place.kind === 'pod') return podRef(place.pod);
    if (place.kind === 'host') return `node:${place.node}`;
    return `ip:${ip}`;
  }

  policyFor(p: Pkt): { verdict: PolicyVerdict; protocol: Protocol; port: number; icmp: boolean } | null {
    if (!this.ctx.hasPolicies) return null;
    const icmp = p.proto === 'icmp' || p.proto === 'ipv6-icmp';
    const protocol: Protocol = icmp ? 'SCTP' : p.proto === 'udp' ? 'UDP' : 'TCP';
    const port = icmp ? 0 : (this.dport(p) ?? 0);
    try {
      const from = this.endpointRef(p.h.ip.src);
      const to = this.endpointRef(p.h.ip.dst);
      // ipBlock peers match the packet's own family (a dual-stack pod has an address of each).
      const verdict = this.ctx.policyVerdict(from, to, port, protocol, this.family);
      return { verdict, protocol, port, icmp };
    } catch {
      return null;
    }
  }

  /**
   * A NetworkPolicy enforcement point. `side`: egress of the source pod or
   * ingress of the destination pod. Returns false when the packet is dropped.
   */
  enforce(p: Pkt, side: 'Egress' | 'Ingress', node: string, iface: string | undefined, how: { rules?: string[]; rule?: string; mechanism: string; cost: number; hubble?: boolean; command?: string }): boolean {
    const v = this.policyFor(p);
    if (!v) return true;
    const sv = side === 'Egress' ? v.verdict.egress : v.verdict.ingress;
    if (sv.notApplicable || sv.hostLocal) return true;
    const subject = this.placeOf(side === 'Egress' ? p.h.ip.src : p.h.ip.dst);
    const element = subject.kind === 'pod' ? podEl(subject.pod) : nodeEl(node);
    const at: EventLocation = { element, node, netns: `node/${node}`, iface };
    const icmpNote = v.icmp ? ' NetworkPolicy has no ICMP protocol: a rule with no ports allows ICMP, a rule with ports does not (Calico, Cilium).' : '';
    if (this.plugin === 'flannel') {
      if (!sv.allowed) {
        this.emit(p, 'policy', at, `${side.toLowerCase()} policy NOT enforced`, `Flannel does not implement NetworkPolicy: ${sv.text}. Nothing enforces it, so the packet passes (Canal = Flannel + Calico policy would drop it).`, 'pass', { category: 'transit' });
      }
      return true;
    }
    const hub = how.hubble && !sv.notIsolated ? this.hubble(p, node, `policy-verdict:${sv.allowed ? (sv.allowedBy?.length ? 'L3-L4' : 'all') : 'none'} ${side.toUpperCase()}`, sv.allowed ? 'ALLOWED' : 'DENIED') : undefined;
    if (sv.allowed) {
      if (sv.notIsolated && !how.rules?.length) return true;
      this.emit(p, 'policy', at, `${side.toLowerCase()} policy: allowed`, `${how.mechanism}: ${sv.text}.${icmpNote}`, 'accept', {
        rules: how.rules,
        rule: how.rule,
        latencyUs: how.cost,
        category: p.phase === 'dns' ? 'dns' : 'transit',
        hubble: hub,
        command: how.command,
      });
      return true;
    }
    this.emit(p, 'policy', at, `${side.toLowerCase()} policy: denied`, `${how.mechanism}: ${sv.text}.${icmpNote}`, 'drop', {
      rules: how.rules,
      rule: how.rule,
      latencyUs: how.cost,
      category: p.phase === 'dns' ? 'dns' : 'transit',
      hubble: hub,
      command: how.command,
    });
    const dropHub = how.hubble ? this.hubble(p, node, 'Policy denied', 'DROPPED') : undefined;
    this.drop(p, at, 'policy', `NetworkPolicy ${side.toLowerCase()} denied: ${sv.text}`, { hubble: dropHub, rule: how.rule });
    return false;
  }

  /**
   * Calico: the felix filter chains for a NEW packet (cali-fw-/cali-tw-/cali-pi-/cali-po-), from
   * core/policy's compiled data plane: iptables for IPv4, ip6tables for IPv6 (felix programs the
   * same chains in both, with cali40 / cali60 sets and each family's ipBlock nets).
   */
  calicoForward(p: Pkt, node: string, inIface: string, outIface: string): boolean {
    const srcPod = this.hostPeerPod(node, inIface);
    const dstPod = this.hostPeerPod(node, outIface);
    if (!srcPod && !dstPod) return true;
    if (!this.ctx.hasPolicies) {
      this.calicoProfiles(p, node, inIface, outIface, srcPod, dstPod);
      return true;
    }
    const w = this.felixForward(p, node, inIface, outIface, srcPod, dstPod);
    const cost = this.lat.hookUs + w.trace.length * this.lat.ruleUs * 3;
    const cmd = `${this.ipt}-save -t filter | grep -E 'cali-(fw|tw|pi|po)-'`;
    if (srcPod) {
      // FORWARD's appended accept ("Policy explicitly accepted packet.") runs after kube-proxy's rules: it closes the ingress side.
      const eg = w.trace.filter((l) => /cali-(fw|po|pro|from-wl)/.test(l) || (l.startsWith('-A FORWARD') && !l.includes('Policy explicitly accepted')) || l.startsWith('-A cali-FORWARD'));
      if (!this.enforce(p, 'Egress', node, inIface, { rules: eg, rule: eg[eg.length - 1], mechanism: `Calico felix (${this.ipt}, cali-fw-<iface> → cali-po-<policy>)`, cost, command: cmd })) return false;
    }
    if (dstPod) {
      const ing = w.trace.filter((l) => /cali-(tw|pi|pri|to-wl)/.test(l) || (l.startsWith('-A FORWARD') && l.includes('Policy explicitly accepted')));
      if (!this.enforce(p, 'Ingress', node, outIface, { rules: ing, rule: ing[ing.length - 1], mechanism: `Calico felix (${this.ipt}, cali-tw-<iface> → cali-pi-<policy>)`, cost, command: cmd })) return false;
    }
    if (w.verdict === 'DROP' && this.policyFor(p)?.verdict.allowed !== false) {
      this.notes.add(`The Calico ${this.ipt} model dropped a packet core/policy allows (${w.trace[w.trace.length - 1] ?? ''}); the walk follows core/policy's verdict.`);
    }
    return true;
  }

  /** A NEW packet through felix's FORWARD chains (core/policy's Calico data plane), in the walk's family. */
  felixForward(p: Pkt, node: string, inIface: string, outIface: string, srcPod: PodModel | undefined, dstPod: PodModel | undefined): ReturnType<TraceContext['calico']['walk']> {
    const pkt = {
      src: p.h.ip.src,
      dst: p.h.ip.dst,
      proto: p.proto,
      icmpType: p.icmp?.type,
      dport: this.dport(p) ?? 0,
      in: srcPod ? calicoInterfaceName(srcPod.namespace, srcPod.name) : inIface,
      out: dstPod ? calicoInterfaceName(dstPod.namespace, dstPod.name) : outIface,
    };
    // The chains depend only on these fields and the context's (fixed) policies: memoised like hook().
    const key = `f|${node}|${this.family}|${pkt.src}|${pkt.dst}|${pkt.proto}|${pkt.icmpType ?? ''}|${pkt.dport}|${pkt.in}|${pkt.out}`;
    const memo = this.ctx.hookMemo;
    let r = memo.get(key) as ReturnType<TraceContext['calico']['walk']> | undefined;
    if (!r) {
      r = this.ctx.calico.walk(node, 'FORWARD', pkt, this.family);
      memo.set(key, r);
    }
    return r;
  }

  /**
   * Calico with kube-proxy in IPVS mode (felix's kube-ipvs support): the packet
   * to a ClusterIP is local (kube-ipvs0), so felix meets it in cali-INPUT, where
   * cali-forward-check → cali-set-endpoint-mark only stamps the incoming
   * interface's endpoint mark; IPVS translates it at LOCAL_IN and sends it
   * through LOCAL_OUT, where cali-OUTPUT → cali-forward-endpoint-mark runs the
   * client's egress chain (by the mark) and a local backend's ingress chain.
   * The rule lines come from core/policy's walk of those chains; the verdicts
   * from core/policy's NetworkPolicy semantics. Where the two disagree (a pod
   * reaching itself through its Service: the chains drop it, NetworkPolicy
   * allows traffic to self) the walk follows the semantics and says so in a note.
   */
  calicoIpvs(p: Pkt, node: string, inIface: string, outIface: string, fromPod: PodModel | undefined, localDst: PodModel | undefined, origDst: string, origDport: number | undefined): boolean {
    const srcPod = fromPod ?? this.hostPeerPod(node, inIface);
    const dstPod = localDst ?? this.hostPeerPod(node, outIface);
    if (!this.ctx.hasPolicies || (!srcPod && !dstPod)) return true;
    const w = this.ctx.calico.walkIpvsService(
      node,
      { src: p.h.ip.src, dst: origDst, proto: p.proto, icmpType: p.icmp?.type, dport: origDport ?? 0, in: srcPod ? calicoInterfaceName(srcPod.namespace, srcPod.name) : inIface },
      { dst: p.h.ip.dst, dport: this.dport(p) ?? 0, out: dstPod ? calicoInterfaceName(dstPod.namespace, dstPod.name) : outIface },
      this.family,
    );
    const lines = [...w.input.trace, ...(w.output?.trace ?? [])];
    const cost = this.lat.hookUs + lines.length * this.lat.ruleUs * 3;
    const cmd = `${this.ipt}-save -t filter | grep -E 'cali-(INPUT|OUTPUT|forward-check|set-endpoint-mark|sm-|forward-endpoint-mark|from-endpoint-mark|fw|tw|pi|po)'`;
    if (srcPod) {
      const eg = lines.filter((l) => /^-A cali-(INPUT|OUTPUT|forward-check|set-endpoint-mark|sm-|forward-endpoint-mark|from-endpoint-mark|fw-|po-|pro-)/.test(l));
      const how = `Calico felix, kube-proxy IPVS mode (${this.ipt}: cali-INPUT → cali-forward-check → cali-set-endpoint-mark stamped the pod's endpoint mark; after IPVS, cali-OUTPUT → cali-forward-endpoint-mark → cali-from-endpoint-mark → cali-fw-<iface>)`;
      if (!this.enforce(p, 'Egress', node, inIface, { rules: eg, rule: eg[eg.length - 1], mechanism: how, cost, command: cmd })) return false;
    }
    if (dstPod) {
      const ing = lines.filter((l) => /^-A cali-(to-wl|tw-|pi-|pri-)/.test(l) || l.includes('Policy explicitly accepted'));
      const how = `Calico felix, kube-proxy IPVS mode (${this.ipt}: the local backend's ingress chain runs from cali-forward-endpoint-mark → cali-to-wl-dispatch → cali-tw-<iface> as IPVS sends the packet through LOCAL_OUT)`;
      if (!this.enforce(p, 'Ingress', node, outIface, { rules: ing, rule: ing[ing.length - 1], mechanism: how, cost, command: cmd })) return false;
    }
    if (w.verdict === 'DROP' && this.policyFor(p)?.verdict.allowed !== false) {
      this.notes.add(`The Calico ${this.ipt} IPVS-mode model dropped a packet core/policy allows (${lines[lines.length - 1] ?? ''}); the walk follows core/policy's verdict.`);
    }
    this.notes.add(CALICO_IPVS_NOTE);
    return true;
  }

  /**
   * Calico without NetworkPolicies: felix's chains still run for every new
   * workload flow (cali-FORWARD is inserted above kube-proxy's FORWARD rules):
   * the endpoint chains find no policy, the namespace and service-account
   * profiles set the accept mark, and FORWARD's appended rule accepts the
   * packet after kube-proxy's rules.
   */
  calicoProfiles(p: Pkt, node: string, inIface: string, outIface: string, srcPod: PodModel | undefined, dstPod: PodModel | undefined): void {
    const w = this.felixForward(p, node, inIface, outIface, srcPod, dstPod);
    // FORWARD's appended accept comes after kube-proxy's rules: the filter event's verdict stands for it.
    const felix = w.trace.filter((l) => !(l.startsWith('-A FORWARD') && (l.includes('Policy explicitly accepted') || l.includes('-j MARK'))));
    const who = [srcPod ? `egress of ${srcPod.namespace}/${srcPod.name} (cali-fw-)` : '', dstPod ? `ingress of ${dstPod.namespace}/${dstPod.name} (cali-tw-)` : ''].filter(Boolean).join(' and ');
    this.emit(
      p,
      'netfilter',
      this.ctx.nodeLoc(node, inIface),
      'FORWARD: Calico felix chains (no policy: the profiles accept)',
      `felix's jump to cali-FORWARD is inserted above kube-proxy's FORWARD rules, so its endpoint chains run first for the ${who}. No NetworkPolicy selects the pod${srcPod && dstPod ? 's' : ''}: each endpoint chain falls through to the namespace profile (cali-pro-/cali-pri-kns.<namespace>), which sets the accept mark 0x10000, and returns. After kube-proxy's rules, FORWARD's appended rule accepts the marked packet ("Policy explicitly accepted packet.").`,
      w.verdict === 'DROP' ? 'drop' : 'accept',
      {
        hook: 'FORWARD',
        rules: felix,
        rule: felix[felix.length - 1],
        latencyUs: this.lat.hookUs + felix.length * this.lat.ruleUs,
        category: p.phase === 'dns' ? 'dns' : 'transit',
        command: `${this.ipt}-save -t filter | grep -E 'cali-(FORWARD|fw|tw|pro|pri)'`,
      },
    );
  }

  // ------------------------------------------------------------ Service decisions

  chooseIndex(n: number, probs: number[], forced: string | number | undefined, endpoints: string[]): number {
    if (forced !== undefined) {
      if (typeof forced === 'number') {
        if (forced >= 0 && forced < n) return forced;
        throw new TraceInputError(`endpoint index ${forced} is out of range (0..${n - 1})`, `pick one of: ${endpoints.join(', ')}`);
      }
      const f = forced.includes(':') && !forced.startsWith('[') && (forced.match(/:/g) ?? []).length === 1 ? forced : forced;
      const i = endpoints.findIndex((e) => e === f || e.split(/:(?=\d+$)/)[0].replace(/^\[|\]$/g, '') === f);
      if (i >= 0) return i;
      throw new TraceInputError(`endpoint "${forced}" is not an endpoint of this Service`, `pick one of: ${endpoints.join(', ')}`);
    }
    const r = this.rng();
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += probs[i];
      if (r < acc) return i;
    }
    return n - 1;
  }

  forcedFor(svc: ServiceModel | undefined): string | number | undefined {
    if (!svc) return undefined;
    const dns = svc.namespace === 'kube-system' && svc.name === 'kube-dns';
    return dns ? this.opts.dnsEndpoint : this.opts.endpoint;
  }

  recordService(svc: ServiceModel | undefined, port: number | undefined, mode: string, outcomes: { endpoint: string; probability: number }[], chosen: string | undefined): void {
    if (!svc) return;
    const name = `${svc.namespace}/${svc.name}${port ? `:${port}` : ''}`;
    if (this.services.some((s) => s.service === name && s.chosen === chosen)) return;
    this.services.push({
      service: name,
      mode,
      chosen,
      outcomes: outcomes.map((o) => {
        const ip = o.endpoint.replace(/^\[/, '').replace(/\](?=:)/, '').replace(/:\d+$/, '');
        const place = this.placeOf(ip);
        return { endpoint: o.endpoint, probability: o.probability, pod: place.kind === 'pod' ? podRef(place.pod) : undefined, node: place.kind === 'pod' ? place.node : undefined };
      }),
    });
  }

  serviceEvent(p: Pkt, at: EventLocation, svc: ServiceModel | undefined, how: string, outcomes: { endpoint: string; probability: number; rules?: string[] }[], chosen: number, cost: number, o: { rule?: string; rules?: string[]; command?: string; hubble?: string } = {}): void {
    const list = outcomes.map((x, i) => `${i === chosen ? '→ ' : '  '}${x.endpoint} (p=${x.probability.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')})`).join('; ');
    const name = svc ? `${svc.namespace}/${svc.name}` : 'the Service';
    this.emit(p, 'service', { ...at, element: svc ? svcEl(svc) : at.element }, `${name}: ${how} picks ${outcomes[chosen]?.endpoint ?? 'nothing'}`, `${how}: ${outcomes.length} endpoint${outcomes.length === 1 ? '' : 's'} — ${list}.`, 'dnat', {
      latencyUs: cost,
      category: p.phase === 'dns' ? 'dns' : 'service',
      rule: o.rule,
      rules: o.rules,
      command: o.command,
      hubble: o.hubble,
    });
  }

  // ------------------------------------------------------------ the Linux node stack

  /**
   * A packet entering a node's IP stack (from a pod's veth, a bridge, the
   * wire or a tunnel): conntrack, PREROUTING (Service DNAT), routing,
   * FORWARD (policy, kube-proxy filter), POSTROUTING (masquerade / reverse
   * NAT), then out of the node.
   */
  nodeStack(p: Pkt, node: string, inIface: string, fromPod: PodModel | undefined, opts: { bridged?: boolean; skipNetfilter?: boolean } = {}): Sent {
    const nf = this.nf(node);
    const skipNf = opts.skipNetfilter === true;
    // conntrack (nf_conntrack_in at PREROUTING, priority -200)
    let ct: Extract<TrackResult, { verdict: 'ok' }> | undefined;
    if (!skipNf) {
      const r = this.track(node, p);
      if (r.verdict === 'drop') {
        return this.drop(p, this.ctx.nodeLoc(node, inIface), 'conntrack-full', `${CONNTRACK_FULL_MESSAGE}: nf_conntrack_max (${this.ctTable(node).max}) entries are in use and none can be early-dropped (all ASSURED); the new connection's first packet is dropped`, {
          command: 'conntrack -C; sysctl net.netfilter.nf_conntrack_max; dmesg | grep conntrack',
          latencyUs: this.lat.conntrackNewUs,
        });
      }
      ct = r;
      if (!r.created) {
        this.emit(p, 'conntrack', this.ctx.nodeLoc(node, inIface), `conntrack: ${r.direction} direction of a known connection (${r.ctstate})`, `nf_conntrack finds the entry${r.direction === 'reply' ? ' by its reply tuple' : ''}: the packet is ${r.ctstate}; nat chains are not consulted again, NAT comes from the entry.`, 'pass', {
          conntrack: this.ctLine(node, r.entry),
          latencyUs: this.lat.conntrackHitUs,
          // A lookup is Service load balancing only when the entry carries the Service's DNAT.
          category: p.phase === 'dns' ? 'dns' : r.entry.dnat ? 'service' : 'transit',
          command: `${this.ctList} -s ${r.entry.orig.src} -d ${r.entry.orig.dst}`,
        });
      }
    }
    const origDst = p.h.ip.dst;
    const origDport = this.dport(p);
    // PREROUTING
    if (ct && !ct.created) {
      const e = ct.entry;
      if (ct.direction === 'original' && e.dnat) {
        const t = invertTuple(e.reply);
        if (t.dst !== p.h.ip.dst || t.dport !== this.dport(p)) {
          const before = joinHP(p.h.ip.dst, this.dport(p));
          this.setDst(p, t.dst, t.dport);
          this.emit(p, 'dnat', this.ctx.nodeLoc(node, inIface), `DNAT from conntrack: ${before} → ${joinHP(t.dst, t.dport)}`, 'The connection already has a DNAT binding (the first packet chose the endpoint); later packets of the same tuple follow it.', 'dnat', { conntrack: this.ctLine(node, e), latencyUs: this.lat.natUs, category: p.phase === 'dns' ? 'dns' : 'service' });
        }
      } else if (ct.direction === 'reply' && e.snat) {
        const t = invertTuple(e.orig);
        if (t.dst !== p.h.ip.dst || t.dport !== this.dport(p)) {
          const before = joinHP(p.h.ip.dst, this.dport(p));
          this.setDst(p, t.dst, t.dport);
          this.emit(p, 'reverse-nat', this.ctx.nodeLoc(node, inIface), `un-SNAT: ${before} → ${joinHP(t.dst, t.dport)}`, 'The reply is addressed to the masqueraded source; conntrack restores the original client address (PREROUTING, NF_NAT_MANIP_DST).', 'dnat', { conntrack: this.ctLine(node, e), latencyUs: this.lat.natUs, category: p.phase === 'dns' ? 'dns' : 'service' });
        }
      }
    }
    let pre: HookResult | undefined;
    if (!skipNf) {
      const pk = this.nfPacket(p, inIface, undefined, ct, node);
      if (ct?.created && nf.kind !== 'none') {
        pre = this.servicePrerouting(p, node, nf, pk, inIface);
        if (!pre) return { ok: false, pkt: p };
      } else {
        pre = this.hook(node, nf, 'PREROUTING', pk);
        this.hookEvent(p, node, inIface, pre, 'raw/mangle/nat');
        if (pre.verdict !== 'ACCEPT') return this.drop(p, this.ctx.nodeLoc(node, inIface), pre.verdict === 'REJECT' ? 'unreachable' : 'policy', `PREROUTING ${pre.verdict}: ${this.ruleLines(pre).slice(-1)[0] ?? ''}`);
      }
      p.mark = pre.packet.mark;
    }
    // IPVS: the VIP is local (kube-ipvs0); IPVS takes the packet at LOCAL_IN.
    if (nf.kind === 'ipvs' && ct?.created) {
      const r = this.ipvsStep(p, node, nf, ct, inIface);
      if (r === 'dropped') return { ok: false, pkt: p };
    }
    // Routing.
    const dp = this.ctx.nodeDp(node);
    if (opts.bridged) {
      return this.egress(p, node, inIface, undefined, fromPod, ct, origDst, origDport, nf, true);
    }
    const rt = this.ctx.route(dp, p.h.ip.dst);
    // br_netfilter's bridged DNAT: a frame that entered the bridge (cni0 / weave) and was DNATed in
    // PREROUTING to an address behind the same bridge is bridged to that port, not routed.
    if ((inIface === 'cni0' || inIface === 'weave') && p.h.ip.dst !== origDst && rt.verdict === 'forward' && rt.dev === inIface) {
      const dst = this.placeOf(p.h.ip.dst);
      if (dst.kind === 'pod' && dst.node === node) {
        const pdp = this.ctx.podDp(dst.pod);
        this.setEth(p, p.h.eth?.src ?? this.macOf(dp, inIface), this.macOf(pdp, 'eth0'));
        this.emit(
          p,
          'bridge',
          this.ctx.nodeLoc(node, inIface),
          `${inIface}: bridged DNAT to ${dst.pod.name}`,
          `The frame entered the ${inIface} bridge, and br_netfilter ran PREROUTING on it (net.bridge.bridge-nf-call-iptables=1): the DNAT to ${p.h.ip.dst} leads back out of ${inIface} itself, so br_nf_pre_routing_finish bridges it ("bridged DNAT"): only the destination MAC is rewritten (the neighbour's), the source MAC stays the sender's and the ${this.ttlName} is not decremented. iptables FORWARD and POSTROUTING still run, through br_netfilter.${fromPod && fromPod === dst.pod ? ` It is the sender itself (hairpin): the port has hairpin_mode on (the bridge plugin's "hairpinMode": true), so the frame may leave by the port it came in, and kube-proxy's KUBE-SEP rule marked it for masquerade.` : ''}`,
          'forward',
          { latencyUs: this.lat.bridgeUs, command: `ip neigh show dev ${inIface} ${p.h.ip.dst}` },
        );
        return this.egress(p, node, inIface, rt, fromPod, ct, origDst, origDport, nf, true);
      }
    }
    if (rt.verdict === 'local') {
      this.emit(p, 'route', this.ctx.nodeLoc(node, inIface), `route: ${p.h.ip.dst} is local (table local)`, rt.explanation, 'deliver', { rule: routeText(rt), latencyUs: this.lat.routeUs, command: `ip route get ${p.h.ip.dst}` });
      if (!skipNf) {
        const inp = this.hook(node, nf, 'INPUT', this.nfPacket(p, inIface, undefined, ct, node));
        this.hookEvent(p, node, inIface, inp, 'filter/INPUT');
        if (inp.verdict !== 'ACCEPT') return this.reject(p, node, inp, inIface);
      }
      if (ct && !ct.created && ct.direction === 'reply' && ct.entry.dnat) {
        // The node's own connection was DNATed in nat/OUTPUT: its reply gets the Service address back at LOCAL_IN.
        const t = invertTuple(ct.entry.orig);
        if (t.src !== p.h.ip.src || t.sport !== this.sport(p)) {
          const before = joinHP(p.h.ip.src, this.sport(p));
          this.setSrc(p, t.src, t.sport);
          this.emit(p, 'reverse-nat', this.ctx.nodeLoc(node, inIface), `reverse NAT (un-DNAT): ${before} → ${joinHP(t.src, t.sport)}`, `The reply matches the reply tuple of the entry ${node} created when its own connection was DNATed in nat/OUTPUT; conntrack rewrites the source back at INPUT (NF_INET_LOCAL_IN, NF_NAT_MANIP_SRC), so the socket sees the reply from ${joinHP(t.src, t.sport)}, the address it connected to.`, 'snat', {
            conntrack: this.ctLine(node, ct.entry),
            latencyUs: this.lat.natUs,
            category: p.phase === 'dns' ? 'dns' : 'service',
            command: `${this.ctList} -d ${t.src}`,
          });
        }
      }
      this.confirm(p, node, ct, origDst, origDport);
      return { ok: true, at: { kind: 'host', node, pod: this.ctx.hostPod(node) }, pkt: p };
    }
    if (rt.verdict !== 'forward') {
      this.emit(p, 'route', this.ctx.nodeLoc(node, inIface), `route: ${rt.verdict}`, rt.explanation, 'drop', { rule: routeText(rt), latencyUs: this.lat.routeUs, command: `ip route get ${p.h.ip.dst}` });
      return this.drop(p, this.ctx.nodeLoc(node, inIface), 'no-route', `${node} has no usable route to ${p.h.ip.dst}: ${rt.explanation}`, { rule: routeText(rt), command: `ip route get ${p.h.ip.dst}` });
    }
    this.decTTL(p);
    this.emit(p, 'route', this.ctx.nodeLoc(node, inIface), `route: ${routeText(rt)}`, `${rt.explanation}. The node forwards the packet (${this.ttlName} ${p.h.ip.ttl + 1} → ${p.h.ip.ttl}).`, 'forward', {
      rule: routeText(rt),
      latencyUs: this.lat.routeUs,
      command: `ip route get ${p.h.ip.dst}`,
      seedNote: this.routeSeedNote(node, rt),
    });
    return this.egress(p, node, inIface, rt, fromPod, ct, origDst, origDport, nf, false);
  }

  routeSeedNote(node: string, rt: RouteLookup): string | undefined {
    if (this.plugin !== 'calico' || !rt.route || rt.route.dst.endsWith('/32') || rt.route.dst.endsWith('/128')) return undefined;
    if (rt.route.family === 6) return undefined;
    if (rt.dev === 'vxlan.calico') return `The seed shows "10.244.2.0/24 via 10.0.1.6 dev eth0" for ${node}; in VXLAN mode felix routes each remote IPAM block (/${rt.route.dst.split('/')[1]}) via the peer's VTEP on vxlan.calico, onlink.`;
    if (rt.route.protocol === 'bird') return `The seed shows a /24 per node; Calico announces its IPAM blocks (blockSize ${this.ctx.topology.settings.blockSize.v4}), so the route is ${rt.route.dst} (proto bird).`;
    return undefined;
  }

  /** nat PREROUTING for the first packet of a connection: kube-proxy's Service chains, every outcome with its probability. */
  servicePrerouting(p: Pkt, node: string, nf: NodeNetfilter, pk: Packet, inIface: string): HookResult | undefined {
    const outcomes = this.outcomes(node, nf, 'PREROUTING', pk);
    const svc = this.ctx.serviceByIP.get(canonicalIP(pk.dst));
    const dnatOf = (r: HookResult) => r.nat.find((n) => n.kind === 'DNAT' || n.kind === 'REDIRECT');
    const eps = outcomes.map((o) => {
      const d = dnatOf(o.result);
      return d ? joinHP(d.after.ip, d.after.port) : '(no DNAT)';
    });
    let idx = 0;
    if (outcomes.length > 1) idx = this.chooseIndex(outcomes.length, outcomes.map((o) => o.probability), this.forcedFor(svc), eps);
    else if (this.forcedFor(svc) !== undefined && svc && dnatOf(outcomes[0].result)) this.chooseIndex(1, [1], this.forcedFor(svc), eps);
    const chosen = outcomes[idx];
    // With ClientIP affinity (xt_recent) re-run the chosen path on the node's real recent table.
    const res = nf.compiled.uses.recent ? runHookCompiled(nf.compiled, 'PREROUTING', pk, this.evalCtx(node, nf, scriptedRandom(chosen.decisions))) : chosen.result;
    this.hookEvent(p, node, inIface, res, 'kube-proxy Service chains');
    if (res.verdict !== 'ACCEPT') {
      this.drop(p, { element: nodeEl(node), node, netns: `node/${node}`, iface: inIface }, res.verdict === 'REJECT' ? 'no-endpoints' : 'policy', `PREROUTING ${res.verdict}`);
      return undefined;
    }
    const d = dnatOf(res);
    if (d) {
      const svcChain = res.steps.find((s) => s.event === 'match' && /^KUBE-(SVC|SVL)-/.test(s.chain));
      if (outcomes.length > 0 && svc) {
        const list = outcomes.map((o, i) => ({ endpoint: eps[i], probability: o.probability }));
        this.serviceEvent(p, { element: nodeEl(node), node, netns: `node/${node}`, iface: inIface }, svc, `kube-proxy iptables (${svcChain?.chain ?? 'KUBE-SVC'}, -m statistic --mode random)`, list, idx, this.lat.ruleUs, {
          rules: res.steps.filter((s) => s.event === 'match' && /^KUBE-(SVC|SVL|SEP)-/.test(s.chain)).map((s) => s.text),
          command: `${this.ipt}-save -t nat | grep ${svcChain?.chain ?? 'KUBE-SVC'}`,
        });
        this.recordService(svc, pk.dport, 'iptables', list, eps[idx]);
      }
      const before = joinHP(p.h.ip.dst, this.dport(p));
      this.setDst(p, d.after.ip, d.after.port);
      const sep = res.steps.find((s) => s.event === 'match' && s.chain.startsWith('KUBE-SEP-') && s.text.includes('DNAT'));
      this.emit(p, 'dnat', { element: nodeEl(node), node, netns: `node/${node}`, iface: inIface }, `DNAT ${before} → ${joinHP(d.after.ip, d.after.port)}`, `${d.chain} rule ${d.index} rewrites the destination (nat/PREROUTING); conntrack records the binding so the reply is un-NATed.`, 'dnat', {
        rule: sep?.text,
        latencyUs: this.lat.natUs,
        category: p.phase === 'dns' ? 'dns' : 'service',
        command: `${this.ctList} -d ${pk.dst}`,
      });
    }
    return res;
  }

  /** IPVS mode: the ClusterIP is bound to kube-ipvs0, so routing delivers to INPUT where IPVS schedules a real server. */
  ipvsStep(p: Pkt, node: string, nf: NodeNetfilter, ct: Extract<TrackResult, { verdict: 'ok' }>, inIface: string): 'dropped' | 'none' | 'dnat' {
    const proto = p.proto.toUpperCase();
    const vs = nf.ipvs?.byKey.get(`${proto}|${canonicalIP(p.h.ip.dst)}|${this.dport(p)}`);
    if (!vs) return 'none';
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}`, iface: inIface };
    const inp = this.hook(node, nf, 'INPUT', this.nfPacket(p, inIface, undefined, ct, node));
    this.emit(p, 'route', at, `route: ${p.h.ip.dst} is local (bound to kube-ipvs0)`, `kube-proxy binds every ClusterIP to the dummy device kube-ipvs0, so the routing decision is local delivery (table local) and IPVS takes the packet at LOCAL_IN.`, 'deliver', { rule: this.family === 6 ? `local ${p.h.ip.dst} dev kube-ipvs0 table local proto kernel metric 0 pref medium` : `local ${p.h.ip.dst} dev kube-ipvs0 table local proto kernel scope host src ${p.h.ip.dst}`, latencyUs: this.lat.routeUs, command: `ip route get ${p.h.ip.dst}` });
    this.hookEvent(p, node, inIface, inp, 'filter/INPUT');
    if (inp.verdict !== 'ACCEPT') {
      this.reject(p, node, inp, inIface);
      return 'dropped';
    }
    const client = { ip: p.h.ip.src, port: this.sport(p) ?? 0, dst: p.h.ip.dst };
    const all = ipvsOutcomes(vs, client);
    const svc = this.ctx.serviceByIP.get(canonicalIP(p.h.ip.dst));
    const vip = `${vs.address.includes(':') ? `[${vs.address}]` : vs.address}:${vs.port}`;
    if (!all.length) {
      this.drop(p, at, 'no-endpoints', `IPVS ${vs.proto} ${vip} has no real servers: the SYN is silently dropped (no ICMP reject as in iptables mode); the client times out`, { command: `ipvsadm -Ln -t ${vip}` });
      return 'dropped';
    }
    const eps = all.map((o) => joinHP(o.dest.address, o.dest.port));
    let dest = all[0].dest;
    const forced = this.forcedFor(svc);
    if (forced !== undefined) dest = all[this.chooseIndex(all.length, all.map((o) => o.probability), forced, eps)].dest;
    else {
      const pick = this.state.ipvsFor(node).schedule(vs, client, this.state.now);
      if (pick.dest) dest = pick.dest;
    }
    const idx = all.findIndex((o) => o.dest === dest);
    const list = all.map((o, i) => ({ endpoint: eps[i], probability: o.probability }));
    this.serviceEvent(p, at, svc, `IPVS ${vs.proto} ${vip} ${vs.scheduler}${vs.persistent ? ` persistent ${vs.persistent}` : ''}`, list, Math.max(0, idx), this.lat.ipvsUs, {
      rule: `${vs.proto}  ${vip} ${vs.scheduler}\n  -> ${joinHP(dest.address, dest.port).padEnd(28)} Masq    ${dest.weight}`,
      command: `ipvsadm -Ln -t ${vip}`,
    });
    this.recordService(svc, vs.port, 'ipvs', list, joinHP(dest.address, dest.port));
    const before = joinHP(p.h.ip.dst, this.dport(p));
    this.setDst(p, dest.address, dest.port);
    p.ipvsNode = node;
    this.emit(p, 'dnat', at, `IPVS NAT ${before} → ${joinHP(dest.address, dest.port)}`, 'IPVS (masquerading forwarder) rewrites the destination and sends the packet out through the routing table (ip_vs_nat_xmit → NF_INET_LOCAL_OUT: the filter OUTPUT chain and POSTROUTING, not FORWARD); conntrack keeps the binding for the reply (net.ipv4.vs.conntrack=1).', 'dnat', { latencyUs: this.lat.natUs, category: p.phase === 'dns' ? 'dns' : 'service', command: `ipvsadm -Lnc | grep ${p.h.ip.src}` });
    return 'dnat';
  }

  /** A REJECT verdict: kube-proxy's `-j REJECT` (icmp-port-unreachable) for a Service without endpoints. */
  reject(p: Pkt, node: string, r: HookResult, iface: string | undefined): Sent {
    const rule = this.ruleLines(r).slice(-1)[0] ?? '';
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}`, iface };
    if (r.verdict === 'REJECT') {
      const what = r.rejectWith ?? (this.family === 6 ? 'icmp6-port-unreachable' : 'icmp-port-unreachable');
      const svc = this.ctx.serviceByIP.get(canonicalIP(p.h.ip.dst));
      const noEp = /has no (local )?endpoints/.test(rule);
      const proto = p.proto === 'tcp' ? 'tcp' : 'udp';
      const text = `${r.hook}: ${rule} — the packet is rejected with ${what} (iptables REJECT's default, also for TCP: kube-proxy writes a bare -j REJECT, so a TCP client gets ICMP port unreachable, not a RST; connect() fails with ECONNREFUSED "Connection refused")`;
      const out = this.drop(p, at, noEp ? 'no-endpoints' : 'unreachable', text, { rule, command: `${this.ipt}-save -t filter | grep "${svc ? `${svc.namespace}/${svc.name}` : 'REJECT'}"` });
      const src = this.masqAddress(node, undefined) ?? p.h.ip.dst;
      const quoted = p.h.ip.length;
      const q = Math.min(quoted, this.family === 4 ? 548 : 1232);
      const icmp = this.newPkt(this.family === 4 ? `ICMP port unreachable for ${p.label}` : `ICMPv6 port unreachable for ${p.label}`, p.phase, 'response', 'icmp-error', {
        ip: { version: this.family, src, dst: p.h.ip.src, ttl: 64, df: false, length: (this.family === 4 ? 20 : 40) + 8 + q, protocol: this.family === 4 ? 'ICMP' : 'ICMPv6' },
        icmp: { type: this.family === 4 ? 3 : 1, code: this.family === 4 ? 3 : 4, text: this.family === 4 ? `${p.h.ip.dst} ${proto} port ${this.dport(p)} unreachable` : `destination unreachable, unreachable port, ${p.h.ip.dst} ${proto} port ${this.dport(p)}`, length: 8 + q },
      }, this.family === 4 ? 'icmp' : 'ipv6-icmp', p.clock);
      this.emit(icmp, 'icmp', at, this.family === 4 ? `ICMP ${p.h.ip.dst} ${proto} port ${this.dport(p)} unreachable → ${p.h.ip.src}` : `ICMPv6 destination unreachable (type 1 code 4, port unreachable) → ${p.h.ip.src}`, `${this.family === 4 ? 'ipt_REJECT' : 'ip6t_REJECT'} sends the error from ${node}; for a forwarded packet the kernel picks a source address of ${node} (${this.family === 4 ? 'icmp_send' : 'icmpv6_send'}). The client's kernel matches it to the socket and reports ECONNREFUSED.`, 'reject', { latencyUs: this.lat.hookUs, command: this.family === 4 ? `tcpdump -ni any icmp` : 'tcpdump -ni any icmp6' });
      return out;
    }
    return this.drop(p, at, 'policy', `${r.hook} ${r.verdict}: ${rule}`, { rule });
  }

  /** conntrack confirmation (the entry enters the table after POSTROUTING / INPUT). */
  confirm(p: Pkt, node: string, ct: Extract<TrackResult, { verdict: 'ok' }> | undefined, origDst: string, origDport: number | undefined, zone?: number): void {
    if (!ct || !ct.created) return;
    const t = this.ctTable(node);
    const e = ct.entry;
    this.pending = this.pending.filter((x) => x.entry !== e);
    if (zone !== undefined) e.zone = zone;
    t.setNat(e, { src: p.h.ip.src, dst: p.h.ip.dst, sport: p.proto === 'tcp' || p.proto === 'udp' ? this.sport(p) : undefined, dport: p.proto === 'tcp' || p.proto === 'udp' ? this.dport(p) : undefined });
    if (p.proto === 'icmp' || p.proto === 'ipv6-icmp') e.reply = { ...e.reply, src: p.h.ip.dst, dst: p.h.ip.src };
    const nat = e.dnat ? ` DNAT ${joinHP(origDst, origDport)} → ${joinHP(p.h.ip.dst, this.dport(p))};` : '';
    const masq = e.snat ? ` source masqueraded to ${p.h.ip.src};` : '';
    this.emit(p, 'conntrack', { element: nodeEl(node), node, netns: `node/${node}` }, `conntrack entry confirmed on ${node}`, `The first packet's entry enters ${node}'s table (nf_conntrack_confirm):${nat}${masq} the reply tuple is what replies must look like (src=${e.reply.src}${e.reply.sport !== undefined ? ` sport=${e.reply.sport}` : ''}), so they are recognised and un-NATed.${this.family === 6 ? ' It is an IPv6 entry (nf_conntrack_ipv6): `conntrack -L` without `-f ipv6` lists IPv4 entries only.' : ''}`, 'pass', {
      conntrack: this.ctLine(node, e),
      latencyUs: this.lat.conntrackNewUs,
      category: p.phase === 'dns' ? 'dns' : e.dnat ? 'service' : 'transit',
      command: `${this.ctList} -d ${origDst}`,
      seedNote: e.dnat && p.proto === 'tcp' ? 'The seed prints the entry as "src=10.244.1.5 dst=10.96.5.20 sport=52345 dport=80 src=10.244.2.8 dst=10.244.1.5 sport=8080 dport=52345"; conntrack -L also prints the protocol, timeout and TCP state, and [UNREPLIED] until the reply is seen.' : undefined,
    });
  }

  /** After routing: FORWARD, POSTROUTING, and out of the node (to a local pod, a tunnel, the wire). */
  egress(
    p: Pkt,
    node: string,
    inIface: string,
    rt: RouteLookup | undefined,
    fromPod: PodModel | undefined,
    ct: Extract<TrackResult, { verdict: 'ok' }> | undefined,
    origDst: string,
    origDport: number | undefined,
    nf: NodeNetfilter,
    bridged: boolean,
  ): Sent {
    const dstPlace = this.placeOf(p.h.ip.dst);
    const localDstPod = dstPlace.kind === 'pod' && dstPlace.node === node ? dstPlace.pod : undefined;
    let outIface = rt?.dev ?? (localDstPod ? this.ctx.podDp(localDstPod).hostPeer : 'eth0');
    if (localDstPod && (outIface === 'cni0' || outIface === 'weave')) outIface = this.ctx.podDp(localDstPod).hostPeer;
    // netfilter's output device: the pod's veth (routed, Calico), else the route's device; a bridged frame
    // leaves through the bridge as br_netfilter reports it (POSTROUTING out=cni0/weave, physdev-out the port).
    const bridgeDev = this.plugin === 'flannel' ? 'cni0' : this.plugin === 'weave' ? 'weave' : undefined;
    const outForRules = localDstPod && !bridgeDev ? this.ctx.podDp(localDstPod).hostPeer : rt?.dev ?? (bridged && bridgeDev && localDstPod ? bridgeDev : outIface);
    const isNew = !!ct && (ct.created || ct.ctstate === 'NEW');
    // IPVS sent the translated packet through LOCAL_OUT: filter OUTPUT instead of FORWARD.
    const viaIpvs = p.ipvsNode === node;
    p.ipvsNode = undefined;
    // MTU of the output path (the route's MTU, else the device's).
    if (rt?.mtu && !this.mtuGate(p, node, rt.mtu, rt.dev ?? outIface)) return { ok: false, pkt: p };
    // FORWARD: policy enforcement (Calico, Weave) and kube-proxy's filter rules.
    if (viaIpvs && this.plugin === 'calico' && ct?.created) {
      if (!this.calicoIpvs(p, node, inIface, outForRules, fromPod, localDstPod, origDst, origDport)) return { ok: false, pkt: p };
    } else if (isNew && this.plugin === 'calico' && ct?.created) {
      if (!this.calicoForward(p, node, inIface, outForRules)) return { ok: false, pkt: p };
    } else if (isNew && this.plugin === 'weave' && ct?.created) {
      const cmd = 'iptables-save -t filter | grep WEAVE-NPC';
      const rules = ['-A FORWARD -o weave -m comment --comment "NOTE: this must go before \'-j KUBE-FORWARD\'" -j WEAVE-NPC', '-A WEAVE-NPC -m state --state NEW -j WEAVE-NPC-DEFAULT', '-A WEAVE-NPC -m state --state NEW -j WEAVE-NPC-INGRESS'];
      if (fromPod && !this.enforce(p, 'Egress', node, inIface, { rules: ['-A FORWARD -i weave -m comment --comment "NOTE: this must go before \'-j KUBE-FORWARD\'" -j WEAVE-NPC-EGRESS'], mechanism: 'weave-npc (iptables WEAVE-NPC-EGRESS chains with ipsets, via br_netfilter)', cost: this.lat.hookUs, command: cmd })) return { ok: false, pkt: p };
      if (localDstPod && !this.enforce(p, 'Ingress', node, outForRules, { rules, mechanism: 'weave-npc (iptables WEAVE-NPC-INGRESS chains with ipsets, via br_netfilter)', cost: this.lat.hookUs, command: cmd })) return { ok: false, pkt: p };
    }
    if (isNew && this.plugin === 'flannel' && ct?.created) {
      if (fromPod) this.enforce(p, 'Egress', node, inIface, { mechanism: 'Flannel', cost: 0 });
      if (localDstPod) this.enforce(p, 'Ingress', node, outForRules, { mechanism: 'Flannel', cost: 0 });
    }
    if (ct) {
      const fwd = viaIpvs
        ? this.hook(node, nf, 'OUTPUT', this.nfPacket(p, undefined, outForRules, ct, node))
        : this.hook(node, nf, 'FORWARD', this.nfPacket(p, inIface, outForRules, ct, node));
      this.hookEvent(p, node, inIface, fwd, viaIpvs ? 'filter (IPVS sends the translated packet through LOCAL_OUT, not FORWARD)' : bridged ? 'filter (bridged frame, br_netfilter)' : 'filter');
      if (fwd.verdict !== 'ACCEPT') return this.reject(p, node, fwd, inIface);
      const postIn = { ...this.nfPacket(p, inIface, outForRules, ct, node), mark: fwd.packet.mark };
      // POSTROUTING
      if (ct.created) {
        const post = this.hook(node, nf, 'POSTROUTING', postIn);
        this.hookEvent(p, node, outForRules, post, 'nat (KUBE-POSTROUTING)');
        const masq = post.nat.find((n) => n.kind === 'MASQUERADE' || n.kind === 'SNAT');
        if (masq && masq.chain.startsWith('cali-')) this.felixMasquerade(p, node, outForRules, masq, post);
        else if (masq) {
          const before = joinHP(p.h.ip.src, this.sport(p));
          if (masq.after.port !== masq.before.port) this.setSrc(p, masq.after.ip, masq.after.port);
          else this.setSrc(p, masq.after.ip);
          this.emit(p, 'snat', this.ctx.nodeLoc(node, outForRules), `MASQUERADE ${before} → ${joinHP(p.h.ip.src, this.sport(p))}`, `${masq.chain} rule ${masq.index}: the packet carries kube-proxy's masquerade mark (0x4000), so its source becomes ${node}'s address on ${outForRules}; the reply comes back to ${node} and conntrack restores the client address.`, 'snat', {
            rule: this.ruleLines(post).slice(-1)[0],
            latencyUs: this.lat.natUs,
            category: 'service',
          });
        } else if (this.natOutgoing(p, node, outForRules)) {
          /* emitted by natOutgoing */
        }
      } else if (ct.direction === 'original' && ct.entry.snat) {
        const t = invertTuple(ct.entry.reply);
        this.setSrc(p, t.src, t.sport);
      } else if (ct.direction === 'reply' && ct.entry.dnat) {
        const t = invertTuple(ct.entry.orig);
        const before = joinHP(p.h.ip.src, this.sport(p));
        // kube-proxy IPVS mode: the virtual service's own connection entry answers, not nf_nat.
        const vs = nf.kind === 'ipvs' ? nf.ipvs?.byKey.get(`${p.proto.toUpperCase()}|${canonicalIP(t.src)}|${t.sport}`) : undefined;
        if (t.src !== p.h.ip.src || t.sport !== this.sport(p)) {
          this.setSrc(p, t.src, t.sport);
          this.emit(
            p,
            'reverse-nat',
            this.ctx.nodeLoc(node, outForRules),
            vs ? `IPVS reverse NAT: ${before} → ${joinHP(t.src, t.sport)}` : `reverse NAT (un-DNAT): ${before} → ${joinHP(t.src, t.sport)}`,
            vs
              ? `IPVS finds the reply in its connection table (ipvsadm -Lnc) at the FORWARD hook (ip_vs_reply${this.family === 6 ? '6' : '4'}, after the filter table) and rewrites the source back to the virtual service ${joinHP(t.src, t.sport)}; the conntrack entry (net.ipv4.vs.conntrack=1) only tracks the flow, so the client sees the reply from the address it connected to.`
              : `The reply matches the reply tuple of the conntrack entry ${node} created for the request; conntrack rewrites its source back to the Service address (POSTROUTING, NF_NAT_MANIP_SRC), so the client sees the reply from ${joinHP(t.src, t.sport)}.`,
            'snat',
            {
              conntrack: this.ctLine(node, ct.entry),
              latencyUs: vs ? this.lat.ipvsUs : this.lat.natUs,
              category: 'service',
              command: vs ? `ipvsadm -Lnc | grep ${p.h.ip.dst}` : `${this.ctList} -d ${t.src}`,
              seedNote: 'The seed performs this reverse NAT in "iptables POSTROUTING (node-2)". It happens on the node that did the DNAT and holds the conntrack entry — the client\'s node (node-1) — as the reply leaves it towards the pod; node-2 never NATs this flow.',
            },
          );
        }
      }
      this.confirm(p, node, ct, origDst, origDport);
    }
    // Out of the node.
    if (localDstPod) return this.toLocalPod(p, node, localDstPod, outIface, bridged);
    return this.leaveNode(p, node, rt, outIface);
  }

  /** natOutgoing of Flannel, Weave, Antrea and Cilium for pod traffic leaving the cluster (Calico's is felix's nat chains in the rule set: felixMasquerade). */
  natOutgoing(p: Pkt, node: string, outIface: string): boolean {
    const s = this.ctx.topology.settings;
    // Calico: felix's nat chains are part of the evaluated rule set (felixMasquerade reports them).
    if (!s.cni.natOutgoing || this.plugin === 'calico') return false;
    const dst = p.h.ip.dst;
    if (this.ctx.inClusterCidr(dst) || this.ctx.nodeByIP.has(canonicalIP(dst)) || this.ctx.serviceByIP.has(canonicalIP(dst))) return false;
    if (!this.ctx.inClusterCidr(p.h.ip.src)) return false;
    const v6 = this.family === 6;
    const cluster = (v6 ? s.clusterCIDRs.find((c) => c.includes(':')) : undefined) ?? s.clusterCIDRs[0];
    const rules: Record<string, string> = {
      flannel: `-A FLANNEL-POSTRTG -s ${cluster} ! -d ${v6 ? 'ff00::/8' : '224.0.0.0/4'} -m comment --comment "flanneld masq" -j MASQUERADE --random-fully`,
      weave: `-A WEAVE -s ${cluster} ! -d ${cluster} -j MASQUERADE`,
      cilium: `BPF masquerading (bpf_host to-netdev): ${p.h.ip.src} → node address (${v6 ? 'ipv6' : 'ipv4'}-native-routing-cidr excluded)`,
      antrea: `-A ANTREA-POSTROUTING -s ${cluster} -m comment --comment "Antrea: masquerade Pod to external packets" -m set ! --match-set ANTREA-POD-IP dst -j MASQUERADE`,
    };
    const ip = this.masqAddress(node, outIface) ?? this.ctx.node(node).ips[0];
    const sport = p.proto === 'icmp' ? undefined : this.sport(p);
    const before = joinHP(p.h.ip.src, sport);
    // Flannel masquerades with --random-fully: the kernel picks a random source port.
    const randomFully = rules[this.plugin]?.endsWith('--random-fully') && sport !== undefined && (p.proto === 'tcp' || p.proto === 'udp');
    const port = randomFully ? randomNatPort({ proto: p.proto, src: p.h.ip.src, dst: p.h.ip.dst, sport, dport: this.dport(p) }, ip) : undefined;
    this.setSrc(p, ip, port);
    const portNote = this.randomFullyNote(p, !!rules[this.plugin]?.endsWith('--random-fully'), sport, port);
    this.emit(p, 'snat', { element: nodeEl(node), node, netns: `node/${node}`, iface: outIface }, `natOutgoing: ${before} → ${joinHP(ip, port ?? sport)}`, `${p.h.ip.dst} is outside the cluster's pod, node and Service ranges, so the CNI masquerades pod traffic leaving the cluster (natOutgoing).${portNote}`, 'snat', {
      rule: rules[this.plugin],
      latencyUs: this.lat.natUs,
    });
    return true;
  }

  /** What --random-fully does to the source port (or the ICMP identifier) of a masqueraded packet. */
  randomFullyNote(p: Pkt, randomFully: boolean, sport: number | undefined, port: number | undefined): string {
    if (!randomFully) return '';
    if (port !== undefined && sport !== undefined && (p.proto === 'tcp' || p.proto === 'udp')) {
      return ` With --random-fully the kernel replaces source port ${sport} with a random one from 1024–65535 (the model derives ${port} from the connection tuple, so the walk is repeatable; a real node picks another), and the conntrack reply tuple carries it.`;
    }
    return p.proto === 'icmp' ? ' With --random-fully a real node also replaces the ICMP echo identifier with a random one; the model keeps the identifier.' : '';
  }

  /**
   * A MASQUERADE from felix's nat chains (Calico): cali-nat-outgoing for pod
   * traffic from a natOutgoing pool to outside every pool (other nodes'
   * addresses included), or cali-POSTROUTING's rule for host traffic leaving
   * through a tunnel device with a source that is not the device's own.
   */
  felixMasquerade(p: Pkt, node: string, outIface: string, masq: HookResult['nat'][number], post: HookResult): void {
    const v = this.family === 6 ? 60 : 40;
    const src0 = p.h.ip.src;
    const sport = p.proto === 'icmp' ? undefined : this.sport(p);
    const before = joinHP(src0, sport);
    const port = masq.after.port !== masq.before.port ? masq.after.port : undefined;
    this.setSrc(p, masq.after.ip, port);
    const rule = this.ruleLines(post).slice(-1)[0];
    const portNote = this.randomFullyNote(p, !!rule?.endsWith('--random-fully'), sport, port);
    const after = joinHP(p.h.ip.src, port ?? sport);
    const outgoing = masq.chain === 'cali-nat-outgoing';
    this.emit(
      p,
      'snat',
      this.ctx.nodeLoc(node, outIface),
      outgoing ? `natOutgoing: ${before} → ${after}` : `MASQUERADE ${before} → ${after}`,
      outgoing
        ? `${p.h.ip.dst} is outside every Calico IP pool (cali${v}all-ipam-pools) and ${src0} is in a natOutgoing pool (cali${v}masq-ipam-pools), so felix's cali-nat-outgoing masquerades it${this.ctx.nodeByIP.has(canonicalIP(p.h.ip.dst)) ? ` — node addresses are not in any pool, so pod traffic to another node's address is masqueraded too (add the node range as a disabled IP pool to keep pod source addresses)` : ''}.${portNote}`
        : `felix's cali-POSTROUTING masquerades host traffic leaving through the tunnel device ${outIface} with a source address that is not the device's own (-m addrtype ! --src-type LOCAL --limit-iface-out), so the peer's reply comes back through the tunnel to ${p.h.ip.src}.${portNote}`,
      'snat',
      { rule, latencyUs: this.lat.natUs },
    );
  }

  /** An MTU check on a link; false when the packet cannot continue. */
  mtuGate(p: Pkt, node: string, mtu: number, dev: string, opts: { outer?: boolean } = {}): boolean {
    const size = opts.outer ? (p.h.outer?.ip.length ?? p.h.ip.length) : p.h.ip.length;
    const df = opts.outer ? (p.h.outer?.ip.df ?? false) : p.h.ip.df || p.h.ip.version === 6;
    if (size <= mtu) return true;
    const family = opts.outer ? (p.h.outer?.ip.version ?? 4) : this.family;
    const r = mtuCheck(size, df, { mtu, family, icmpBlocked: this.opts.icmpBlocked, where: `${node} ${dev}` });
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}`, iface: dev };
    if (r.verdict === 'fragmented') {
      p.frag = 20 + Math.floor((mtu - 20) / 8) * 8;
      this.emit(p, 'mtu', at, `fragmented into ${r.fragments} pieces`, `${r.message}. The walk follows the datagram; on the wire it is ${r.fragments} fragments of at most ${p.frag} bytes, and the next node's conntrack (nf_defrag_ipv4) reassembles them at PREROUTING.`, 'pass', { latencyUs: this.lat.natUs * (r.fragments ?? 1) });
      return true;
    }
    if (r.verdict === 'black-hole') {
      this.drop(p, at, 'mtu', `${r.message}. ICMP "${r.icmp?.text}" is generated but filtered before it reaches ${p.h.ip.src}.`, { command: `ip route get ${p.h.ip.dst}; tracepath -n ${p.h.ip.dst}` });
      return false;
    }
    this.drop(p, at, 'mtu', r.message, { command: `ip route get ${p.h.ip.dst}; tracepath -n ${p.h.ip.dst}` });
    // ICMPv6 errors quote as much of the packet as fits the IPv6 minimum MTU (1280 - 40 - 8 = 1232 bytes, RFC 4443).
    const quoted = Math.min(size, this.family === 4 ? 548 : 1232);
    const icmp = this.newPkt(this.family === 4 ? `ICMP fragmentation needed for ${p.label}` : `ICMPv6 packet too big for ${p.label}`, p.phase, 'response', 'icmp-error', {
      ip: { version: this.family, src: this.masqAddress(node, undefined) ?? p.h.ip.dst, dst: p.h.ip.src, ttl: 64, df: false, length: (this.family === 4 ? 20 : 40) + 8 + quoted, protocol: this.family === 4 ? 'ICMP' : 'ICMPv6' },
      icmp: { type: r.icmp!.type, code: r.icmp!.code, text: this.family === 4 ? `${p.h.ip.dst} ${r.icmp!.text}` : `packet too big, mtu ${mtu}`, length: 8 + quoted },
    }, this.family === 4 ? 'icmp' : 'ipv6-icmp', p.clock);
    this.emit(icmp, 'icmp', at, this.family === 4 ? `ICMP ${r.icmp!.text} → ${p.h.ip.src}` : `ICMPv6 packet too big (type 2), mtu ${mtu} → ${p.h.ip.src}`, `${node} tells the sender the next-hop MTU (${mtu}); the sender caches it as the path MTU and retransmits smaller packets.`, 'reject', { latencyUs: this.lat.hookUs });
    return false;
  }

  /** Into a pod on this node: the host side of its veth (or a bridge / OVS port), into its namespace. */
  toLocalPod(p: Pkt, node: string, pod: PodModel, outIface: string, bridged: boolean): Sent {
    // Cilium: the host stack routed the packet to cilium_host; bpf_lxc's to-container program delivers it (policy, reverse NAT).
    if (this.plugin === 'cilium') return this.ciliumToEndpoint(p, node, pod);
    const pdp = this.ctx.podDp(pod);
    const ndp = this.ctx.nodeDp(node);
    const netns = `node/${node}`;
    if (this.plugin === 'flannel' || this.plugin === 'weave') {
      const br = this.plugin === 'flannel' ? 'cni0' : 'weave';
      // A bridged frame keeps its MACs (the sender resolved the pod's MAC itself); a routed one leaves with the bridge's.
      if (!bridged) this.setEth(p, this.macOf(ndp, br), this.macOf(pdp, 'eth0'));
      this.capture(p, node, netns, br, 'out');
      this.emit(p, 'bridge', { element: nodeEl(node), node, netns, iface: br }, `${br}: forward to port ${pdp.hostPeer}`, `The ${br} bridge looks the pod's MAC up in its FDB and forwards the frame out of the port ${pdp.hostPeer}${bridged ? ` (bridged: no routing, no ${this.ttlName} change)` : ''}.`, 'forward', { latencyUs: this.lat.bridgeUs, command: `bridge fdb show br ${br} | grep ${pdp.interfaces.find((i) => i.name === 'eth0')?.mac ?? ''}` });
    } else {
      const peerMac = this.macOf(ndp, pdp.hostPeer);
      this.setEth(p, peerMac, this.macOf(pdp, 'eth0'));
    }
    this.capture(p, node, netns, pdp.hostPeer, 'out');
    this.emit(p, 'veth', { element: podEl(pod), node, netns: `pod/${pod.namespace}/${pod.name}`, iface: 'eth0', to: podEl(pod) }, `veth ${pdp.hostPeer} → ${pod.name} eth0`, `The host side of the veth pair hands the frame to the pod's network namespace.`, 'forward', { latencyUs: this.lat.vethUs, command: `tcpdump -ni ${pdp.hostPeer}` });
    this.capture(p, node, `pod/${pod.namespace}/${pod.name}`, 'eth0', 'in');
    return { ok: true, at: { kind: 'pod', pod, node }, pkt: p };
  }

  /** The node that owns an address (a pod's node, a node itself). */
  ownerNode(ip: string): string | undefined {
    const pl = this.placeOf(ip);
    return pl.kind === 'pod' ? pl.node : pl.kind === 'host' ? pl.node : undefined;
  }

  /** Out of the node towards another node: tunnel or native routing over eth0, or out of the cluster. */
  leaveNode(p: Pkt, node: string, rt: RouteLookup | undefined, outIface: string): Sent {
    const netns = `node/${node}`;
    const gwNode = rt?.gateway ? this.ctx.nodeByIP.get(canonicalIP(rt.gateway))?.name : undefined;
    const dstNode = gwNode && gwNode !== node ? gwNode : (this.ctx.rangeNode(p.h.ip.dst) ?? this.ownerNode(p.h.ip.dst));
    if (!dstNode || dstNode === node) {
      const bridges = new Set(['cni0', 'weave', 'antrea-gw0']);
      if (bridges.has(outIface) && this.ctx.rangeNode(p.h.ip.dst) === node) {
        return this.drop(p, this.ctx.nodeLoc(node, outIface), 'unreachable', `no pod has ${p.h.ip.dst} on ${node}: ${this.family === 6 ? 'neighbour solicitation' : 'ARP'} for it on ${outIface} gets no answer, and after the neighbour timeout the sender gets ICMP host unreachable (EHOSTUNREACH "No route to host")`, { command: `ip neigh show ${p.h.ip.dst}` });
      }
    }
    const tunnelDevs = new Set(['vxlan.calico', 'vxlan-v6.calico', 'flannel-v6.1', 'tunl0', 'wireguard.cali', 'flannel.1', 'cilium_vxlan', 'cilium_geneve', 'cilium_host', 'genev_sys_6081', 'vxlan_sys_4789', 'antrea-gw0', 'weave', 'vxlan-6784']);
    if (dstNode === node) return this.drop(p, this.ctx.nodeLoc(node, outIface), 'no-route', `${p.h.ip.dst} belongs to ${node}'s own pod range but no pod has it`);
    if (dstNode && (tunnelDevs.has(outIface) || this.ctx.encapsulationBetween(node, dstNode, this.family) !== 'none')) {
      const kind = this.ctx.encapsulationBetween(node, dstNode, this.family);
      if (kind !== 'none') return this.tunnel(p, node, dstNode, outIface, rt, kind);
    }
    // Native routing over eth0.
    const gw = rt?.gateway;
    const hop = gw ? this.ownerNode(gw) : dstNode;
    this.setEth(p, this.nodeMac(node), hop && gw && this.ctx.nodeByIP.has(canonicalIP(gw)) ? this.nodeMac(hop) : syntheticMac(`gateway/${gw ?? p.h.ip.dst}`));
    this.capture(p, node, netns, 'eth0', 'out');
    const svcCidr = this.ctx.topology.settings.serviceCIDRs.some((c) => {
      const cc = Cidr.tryParse(c);
      const a = parseIP(p.h.ip.dst);
      return !!cc && !!a && cc.contains(a);
    });
    if (!dstNode && svcCidr) {
      return this.drop(p, this.ctx.nodeLoc(node, 'eth0'), 'no-route', `${p.h.ip.dst} is in the Service CIDR but no Service port matches ${p.proto.toUpperCase()} ${this.dport(p) ?? ''}: kube-proxy has no rule for it, so the packet follows ${node}'s default route${gw ? ` to ${gw}` : ''} and is lost (Service addresses are virtual; the client times out)`, { rule: rt ? routeText(rt) : undefined, command: `${this.ipt}-save -t nat | grep ${p.h.ip.dst}` });
    }
    if (!dstNode) {
      this.emit(p, 'wire', { element: nodeEl(node), node, netns, iface: 'eth0' }, `leaves the cluster via ${gw ?? 'eth0'}`, `${p.h.ip.dst} is outside the cluster (no pod, node or Service has it); the packet leaves ${node} towards the node network's gateway. What happens beyond is outside the model.`, 'forward', { latencyUs: this.lat.wireUs, command: `tcpdump -ni eth0 host ${p.h.ip.dst}` });
      this.notes.add(`${p.h.ip.dst} is outside the cluster: the walk ends where the packet leaves it.`);
      return { ok: true, at: { kind: 'external', ip: p.h.ip.dst }, pkt: p };
    }
    const routed = !!gw && !this.ctx.nodeByIP.has(canonicalIP(gw));
    this.emit(p, 'wire', { element: nodeEl(node), node, iface: 'eth0', to: nodeEl(dstNode) }, `${node} eth0 → ${dstNode} eth0${routed ? ` via the router ${gw}` : ''}`, `The inner addresses travel unencapsulated (native routing): the node network must carry pod addresses${routed ? `; ${gw} is the underlay router, which must know the pod routes (BGP peering with the fabric)` : ''}. Ethernet: ${p.h.eth?.src} → ${p.h.eth?.dst}.`, 'forward', {
      latencyUs: this.lat.wireUs + (routed ? this.lat.routerHopUs : 0),
      command: `tcpdump -ni eth0 host ${p.h.ip.dst}`,
    });
    if (routed) this.decTTL(p);
    this.setEth(p, this.nodeMac(node), this.nodeMac(dstNode));
    this.capture(p, dstNode, `node/${dstNode}`, 'eth0', 'in');
    return this.arrive(p, dstNode, 'eth0');
  }

  /** Encapsulation, the wire, decapsulation. */
  tunnel(p: Pkt, node: string, dstNode: string, outIface: string, rt: RouteLookup | undefined, kind: EncapsulationKind): Sent {
    const netns = `node/${node}`;
    const inner = { srcIP: p.h.ip.src, dstIP: p.h.ip.dst, protocol: (p.proto === 'tcp' ? 'TCP' : p.proto === 'udp' ? 'UDP' : 'ICMP') as 'TCP' | 'UDP' | 'ICMP', srcPort: this.sport(p), dstPort: this.dport(p), length: p.frag ?? p.h.ip.length };
    const enc = this.ctx.encapsulate(node, dstNode, inner);
    const dev = enc.device ?? outIface;
    if (dev !== 'cilium_host' && dev !== 'weave') this.capture(p, node, netns, dev, 'out');
    let how = '';
    const ndp = this.ctx.nodeDp(node);
    if (rt?.gateway && (dev === 'vxlan.calico' || dev === 'flannel.1' || dev === 'vxlan-v6.calico' || dev === 'flannel-v6.1')) {
      // The neighbour/FDB scan is O(nodes): its text is memoised per (node, gateway, device).
      const key = `vtep|${node}|${rt.gateway}|${dev}`;
      const memo = this.ctx.hookMemo;
      let text = memo.get(key) as string | undefined;
      if (text === undefined) {
        const neigh = ndp.neighbours.find((n) => n.ip === rt.gateway && n.dev === dev);
        const fdb = neigh ? ndp.fdb.find((f) => f.mac === neigh.lladdr && f.dev === dev) : undefined;
        text = neigh && fdb ? ` Next hop ${rt.gateway} (the peer's VTEP): neighbour entry "${neigh.ip} dev ${dev} lladdr ${neigh.lladdr} PERMANENT", FDB entry "${fdb.mac} dev ${dev} dst ${fdb.dst} self permanent" — so the outer destination is ${fdb.dst}.` : '';
        memo.set(key, text);
      }
      how = text;
    }
    if (this.plugin === 'cilium') how = ` bpf_lxc looked the destination up in the tunnel map (cilium bpf tunnel list): ${this.ctx.nodeDp(dstNode).nodeIP}.`;
    if (this.plugin === 'antrea') how = ` OVS table L3Forwarding sets ${enc.underlay === 6 ? 'tun_ipv6_dst' : 'tun_dst'}=${enc.outer!.ip.dst} and outputs to antrea-tun0.`;
    const o = enc.outer!;
    if (this.plugin === 'calico' && kind === 'wireguard') {
      // The encrypted packet carries the device's fwmark: felix's rule skips table 1 for it, so main routes it.
      const under = routeLookup(this.ctx.nodeDp(node), o.ip.dst, { mark: CALICO_WIREGUARD_MARK });
      how = ` The encrypted UDP packet carries ${dev}'s fwmark 0x${CALICO_WIREGUARD_MARK.toString(16)}, so felix's rule ${CALICO_WIREGUARD_RULE_PRIORITY} (not fwmark … lookup ${CALICO_WIREGUARD_TABLE}) does not send it back into the tunnel: ${under.rule ? `rule "${under.rule}" → ` : ''}${routeText(under)}.`;
    }
    p.h = {
      ...p.h,
      outer: {
        kind,
        eth: { src: o.eth.src, dst: o.eth.dst },
        ip: o.ip.version === 6 ? { version: 6, src: o.ip.src, dst: o.ip.dst, protocol: o.ip.protocol, ttl: o.ip.ttl, df: o.ip.df, length: o.ip.length } : { src: o.ip.src, dst: o.ip.dst, protocol: o.ip.protocol, ttl: o.ip.ttl, df: o.ip.df, length: o.ip.length },
        udp: o.udp ? { sport: o.udp.srcPort, dport: o.udp.dstPort, length: o.udp.length } : undefined,
        vxlan: o.vxlan ? { flags: o.vxlan.flags, vni: o.vxlan.vni } : undefined,
        geneve: o.geneve ? { vni: o.geneve.vni } : undefined,
        innerEth: o.innerEth ? { src: o.innerEth.src, dst: o.innerEth.dst } : undefined,
      },
    };
    if (o.innerEth) this.setEth(p, o.innerEth.src, o.innerEth.dst);
    const outerText = `outer ${o.eth.src} → ${o.eth.dst}, ${o.ip.version === 6 ? 'IPv6' : 'IPv4'} ${o.ip.src} → ${o.ip.dst} ${o.ip.version === 6 ? 'next header' : 'proto'} ${o.ip.protocolName}${o.udp ? `, UDP ${o.udp.srcPort} → ${o.udp.dstPort}` : ''}${o.vxlan ? `, VXLAN VNI ${o.vxlan.vni}` : ''}${o.geneve ? `, Geneve VNI ${o.geneve.vni}` : ''}`;
    const hub = this.plugin === 'cilium' ? this.hubble(p, node, 'to-overlay', 'FORWARDED') : undefined;
    this.emit(p, 'encap', { element: nodeEl(node), node, netns, iface: dev }, `${kind.toUpperCase()} encapsulation on ${dev}: ${o.ip.src} → ${o.ip.dst}`, `${enc.explanation}.${how} ${outerText}.${o.udp && kind !== 'wireguard' ? ` The outer UDP source port (${o.udp.srcPort}) is a hash of the inner flow (udp_flow_src_port), so different flows spread over ECMP paths.` : ''}${o.ip.version === 6 ? ' The outer IPv6 header has no DF bit: the inner packet was already checked against the tunnel device\'s MTU, and only this host could fragment the outer packet.' : ' Outer DF is clear (Linux tunnel default), so an oversized outer packet would be fragmented rather than dropped.'}${this.family === 6 && o.ip.version !== 6 ? ' The inner packet is IPv6 and the tunnel runs over the nodes\' IPv4 addresses: the outer header family is independent of the inner one.' : ''}`, 'forward', {
      latencyUs: this.lat.encapUs,
      category: p.phase === 'dns' ? 'dns' : 'encap',
      rule: rt ? routeText(rt) : undefined,
      command: kind === 'vxlan' ? `tcpdump -ni eth0 udp port ${o.udp?.dstPort ?? 4789}` : kind === 'geneve' ? `tcpdump -ni eth0 udp port ${o.udp?.dstPort ?? 6081}` : kind === 'ipip' ? 'tcpdump -ni eth0 ip proto 4' : `tcpdump -ni eth0 host ${o.ip.dst}`,
      hubble: hub,
    });
    // The outer packet on the node MTU.
    const nodeMtu = this.ctx.topology.settings.nodeMTU;
    if (!this.mtuGate(p, node, nodeMtu, 'eth0', { outer: true })) return { ok: false, pkt: p };
    this.capture(p, node, netns, 'eth0', 'out');
    this.emit(p, 'wire', { element: nodeEl(node), node, iface: 'eth0', to: nodeEl(dstNode) }, `${node} → ${dstNode}: ${o.ip.src} → ${o.ip.dst}`, `On the node network only the outer headers matter: the switch sees ${o.eth.src} → ${o.eth.dst} and IP ${o.ip.src} → ${o.ip.dst}; the pod addresses ride inside.`, 'forward', { latencyUs: this.lat.wireUs, command: `tcpdump -ni eth0 host ${o.ip.dst}` });
    this.capture(p, dstNode, `node/${dstNode}`, 'eth0', 'in');
    // Decapsulation on the receiving node.
    const rdev = dev === 'cilium_host' ? (this.mode === 'geneve' ? 'cilium_geneve' : 'cilium_vxlan') : dev;
    const outer = p.h.outer;
    p.h = { ...p.h, outer: undefined };
    this.setEth(p, outer?.innerEth?.src ?? this.nodeMac(node), outer?.innerEth?.dst ?? this.nodeMac(dstNode));
    this.emit(p, 'decap', { element: nodeEl(dstNode), node: dstNode, netns: `node/${dstNode}`, iface: rdev }, `${kind.toUpperCase()} decapsulation on ${dstNode} ${rdev}`, `${dstNode}'s ${rdev} receives ${kind === 'ipip' ? 'IP protocol 4' : `UDP port ${outer?.udp?.dport}`} and strips the outer headers; the inner packet ${p.h.ip.src} → ${p.h.ip.dst} enters ${dstNode}'s stack as if it had arrived on ${rdev}.`, 'forward', {
      latencyUs: this.lat.decapUs,
      category: p.phase === 'dns' ? 'dns' : 'encap',
      command: `tcpdump -ni ${rdev}`,
    });
    if (rdev !== 'weave') this.capture(p, dstNode, `node/${dstNode}`, rdev, 'in');
    return this.arrive(p, dstNode, rdev);
  }

  /** A packet arriving at a node from the wire or a tunnel. */
  arrive(p: Pkt, node: string, iface: string): Sent {
    p.frag = undefined;
    // skb->mark is local to a host: it never crosses the wire (kube-proxy's 0x4000 masquerade mark stays on the node that set it).
    p.mark = 0;
    if (this.plugin === 'cilium') return this.ciliumIngress(p, node, iface);
    if (this.plugin === 'antrea') return this.antreaPipeline(p, node, iface, undefined);
    if (this.plugin === 'weave') {
      const dst = this.placeOf(p.h.ip.dst);
      if (dst.kind === 'pod' && dst.node === node) {
        const ndp = this.ctx.nodeDp(node);
        this.emit(p, 'bridge', { element: nodeEl(node), node, netns: `node/${node}`, iface: 'weave' }, `weave router → weave bridge → ${dst.pod.name}`, `Weave's ${this.mode === 'fastdp' ? 'fastdp (Open vSwitch datapath)' : 'sleeve router (weaver)'} hands the decapsulated frame to the weave bridge through ${this.mode === 'fastdp' ? 'vethwe-datapath' : 'vethwe-pcap'}; the bridge forwards it to the pod's port.`, 'forward', { latencyUs: this.lat.bridgeUs, command: 'weave status connections' });
        void ndp;
        return this.nodeStack(p, node, 'weave', undefined, { bridged: true });
      }
    }
    return this.nodeStack(p, node, iface, undefined);
  }

  // ------------------------------------------------------------ sources

  /** A packet leaving a pod: the pod's own route lookup, the veth, then the CNI's node side. */
  fromPod(p: Pkt, pod: PodModel): Sent {
    const pdp = this.ctx.podDp(pod);
    const node = pod.nodeName;
    const netns = `pod/${pod.namespace}/${pod.name}`;
    const at: EventLocation = { element: podEl(pod), node, netns, iface: 'eth0' };
    const rt = this.ctx.route(pdp, p.h.ip.dst);
    if (rt.verdict !== 'forward' && rt.verdict !== 'local') {
      this.emit(p, 'route', at, `route in ${pod.name}: ${rt.verdict}`, rt.explanation, 'drop', { rule: routeText(rt), latencyUs: this.lat.routeUs, command: `kubectl exec -n ${pod.namespace} ${pod.name} -- ip route get ${p.h.ip.dst}` });
      const v6gap = this.family === 6 && !pdp.routes.some((r) => r.family === 6 && r.table === 'main' && !r.dst.startsWith('fe80:'));
      return this.drop(p, at, 'no-route', `${pod.name} has no route to ${p.h.ip.dst}: ${rt.explanation}${v6gap ? `. ${pod.name} has no IPv6 route besides the kernel's fe80::/64: the CNI configures IPv6 only on dual-stack nodes (an IPv6 InternalIP inside an IPv6 settings.nodeCIDRs entry, and an IPv6 pod CIDR); ${pod.nodeName} is not one` : ''}`, { rule: routeText(rt) });
    }
    this.emit(p, 'route', at, `route in ${pod.name}: ${routeText(rt)}`, rt.explanation, 'forward', { rule: routeText(rt), latencyUs: this.lat.routeUs, command: `kubectl exec -n ${pod.namespace} ${pod.name} -- ip route get ${p.h.ip.dst}` });
    // The sender's own MTU (a DF packet larger than the route MTU never leaves: EMSGSIZE).
    const mtu = rt.mtu ?? 1500;
    if (p.h.ip.length > mtu) {
      if (p.h.ip.df || this.family === 6) {
        return this.drop(p, at, 'mtu', `${pod.name}'s route MTU is ${mtu}: a ${p.h.ip.length}-byte packet with DF set cannot be sent ("local error: message too long, mtu=${mtu}", EMSGSIZE); for TCP the MSS (${mtu - (this.family === 4 ? 40 : 60)}) keeps segments below it`, { command: `kubectl exec -n ${pod.namespace} ${pod.name} -- ip link show eth0` });
      }
      const r = mtuCheck(p.h.ip.length, false, { mtu, family: this.family, where: `${pod.name} eth0` });
      this.emit(p, 'mtu', at, `fragmented into ${r.fragments}`, r.message, 'pass', {});
    }
    // L2 next hop.
    const ndp = this.ctx.nodeDp(node);
    let dstMac: string;
    const nh = rt.nexthop ?? p.h.ip.dst;
    const nhPod = this.ctx.podByIP.get(canonicalIP(nh));
    let l2: string;
    switch (this.plugin) {
      case 'calico':
        dstMac = this.macOf(ndp, pdp.hostPeer);
        l2 = this.family === 6
          ? `Neighbour discovery: the pod's neighbour solicitation for ${nh} (the link-local address of ${pdp.hostPeer}, derived from its MAC ee:ee:ee:ee:ee:ee) is answered by ${node} itself with a neighbour advertisement carrying ee:ee:ee:ee:ee:ee (ip -6 neigh shows ${nh} dev eth0 lladdr ee:ee:ee:ee:ee:ee router REACHABLE).`
          : `ARP for ${nh} is answered by proxy ARP on ${pdp.hostPeer} (net.ipv4.conf.${pdp.hostPeer}.proxy_arp=1) with ee:ee:ee:ee:ee:ee.`;
        break;
      case 'cilium':
        dstMac = this.macOf(ndp, pdp.hostPeer);
        l2 = this.family === 6
          ? `bpf_lxc answers the pod's neighbour solicitation for the router IP ${nh} with a neighbour advertisement carrying the MAC of ${pdp.hostPeer} (the lxc device).`
          : `Cilium answers ARP for the router IP ${nh} with the MAC of ${pdp.hostPeer} (the lxc device).`;
        break;
      case 'flannel':
      case 'weave': {
        const br = this.plugin === 'flannel' ? 'cni0' : 'weave';
        if (nhPod) {
          dstMac = this.macOf(this.ctx.podDp(nhPod), 'eth0');
          l2 = `${nh} is on the pod's own subnet: ${this.family === 6 ? 'neighbour discovery (NS/NA)' : 'ARP'} resolves the destination pod's MAC directly; the frame is bridged (${br}), not routed.`;
        } else {
          dstMac = this.macOf(ndp, br);
          l2 = `${nh} is the ${br} bridge's address: the frame goes to the bridge's MAC and up into ${node}'s IP stack.`;
        }
        break;
      }
      case 'antrea':
      default:
        dstMac = this.macOf(ndp, 'antrea-gw0');
        l2 = this.family === 6
          ? `The pod's neighbour solicitation for the gateway ${nh} passes OVS table IPv6 (ICMPv6 types 135/136 → actions=NORMAL: OVS switches NDP like an L2 switch) and antrea-gw0's kernel answers with its MAC.`
          : `OVS answers ARP for the gateway ${nh} with antrea-gw0's MAC (table ARPResponder/L2ForwardingCalc).`;
    }
    this.setEth(p, this.macOf(pdp, 'eth0'), dstMac);
    this.capture(p, node, netns, 'eth0', 'out');
    this.emit(p, 'veth', { element: podEl(pod), node, netns, iface: 'eth0', to: nodeEl(node) }, `${pod.name} eth0 → ${pdp.hostPeer} on ${node}`, `The frame crosses the veth pair into ${node}'s namespace. ${l2}`, 'forward', { latencyUs: this.lat.vethUs, command: `tcpdump -ni ${pdp.hostPeer}` });
    this.capture(p, node, `node/${node}`, pdp.hostPeer, 'in');
    switch (this.plugin) {
      case 'cilium':
        return this.ciliumFromEndpoint(p, pod);
      case 'antrea':
        return this.antreaPipeline(p, node, pdp.hostPeer, pod);
      case 'flannel':
      case 'weave': {
        const br = this.plugin === 'flannel' ? 'cni0' : 'weave';
        const bridged = !!nhPod;
        this.capture(p, node, `node/${node}`, br, 'in');
        this.emit(p, 'bridge', { element: nodeEl(node), node, netns: `node/${node}`, iface: br }, bridged ? `${br}: bridged towards ${nh}` : `${br}: to the host stack`, bridged ? `The bridge forwards the frame at L2${this.plugin === 'weave' && nhPod && nhPod.nodeName !== node ? ' to the weave router (the destination MAC lives on another peer)' : ''}; net.bridge.bridge-nf-call-iptables=1 (br_netfilter, required by kube-proxy) makes the bridged IP packet traverse iptables PREROUTING/FORWARD/POSTROUTING.` : `The destination MAC is the bridge's own, so the frame goes up to ${node}'s IP stack and is routed, unless PREROUTING (br_netfilter) DNATs it to a pod behind the same bridge (then it is bridged back out).`, 'forward', { latencyUs: this.lat.bridgeUs });
        if (bridged && this.plugin === 'weave' && nhPod && nhPod.nodeName !== node) {
          return this.weaveBridgedRemote(p, node, pod, nhPod);
        }
        return this.nodeStack(p, node, br, pod, { bridged });
      }
      default:
        return this.nodeStack(p, node, pdp.hostPeer, pod);
    }
  }

  /** Weave: a frame bridged to a pod on another peer (pod-to-pod on the weave L2 network). */
  weaveBridgedRemote(p: Pkt, node: string, _src: PodModel, dst: PodModel): Sent {
    // br_netfilter: the bridged packet still sees conntrack and FORWARD.
    const nf = this.nf(node);
    const r = this.track(node, p);
    if (r.verdict === 'drop') return this.drop(p, { element: nodeEl(node), node }, 'conntrack-full', CONNTRACK_FULL_MESSAGE);
    const fwd = this.hook(node, nf, 'FORWARD', this.nfPacket(p, 'weave', 'weave', r, node));
    if (r.created && !this.enforce(p, 'Egress', node, 'weave', { rules: ['-A FORWARD -i weave -m comment --comment "NOTE: this must go before \'-j KUBE-FORWARD\'" -j WEAVE-NPC-EGRESS'], mechanism: 'weave-npc (iptables WEAVE-NPC-EGRESS, via br_netfilter)', cost: this.lat.hookUs })) return { ok: false, pkt: p };
    this.hookEvent(p, node, 'weave', fwd, 'filter (bridged frame, br_netfilter)');
    if (fwd.verdict !== 'ACCEPT') return this.reject(p, node, fwd, 'weave');
    this.confirm(p, node, r.verdict === 'ok' ? r : undefined, p.h.ip.dst, this.dport(p));
    return this.tunnel(p, node, dst.nodeName, 'weave', undefined, this.ctx.encapsulationBetween(node, dst.nodeName, this.family));
  }

  /** A packet sent by a host-network process (node or hostNetwork pod): routing, OUTPUT, POSTROUTING. */
  fromHost(p: Pkt, node: string, hostPod?: PodModel): Sent {
    const netns = `node/${node}`;
    const el = hostPod ? podEl(hostPod) : nodeEl(node);
    const at = (iface?: string): EventLocation => ({ element: el, node, netns, iface });
    const nf = this.nf(node);
    const dp = this.ctx.nodeDp(node);
    const first = this.ctx.route(dp, p.h.ip.dst);
    if (first.verdict !== 'forward' && first.verdict !== 'local') {
      this.emit(p, 'route', at(), `route: ${first.verdict}`, first.explanation, 'drop', { rule: routeText(first), latencyUs: this.lat.routeUs });
      return this.drop(p, at(), 'no-route', first.explanation);
    }
    this.emit(p, 'route', at(first.dev), `route: ${routeText(first)}`, `${first.explanation} (source address ${first.src ?? p.h.ip.src} chosen by the route).`, 'forward', { rule: routeText(first), latencyUs: this.lat.routeUs, command: `ip route get ${p.h.ip.dst}` });
    if (first.src && first.src !== p.h.ip.src) this.setSrc(p, first.src);
    const r = this.track(node, p);
    if (r.verdict === 'drop') return this.drop(p, at(), 'conntrack-full', CONNTRACK_FULL_MESSAGE);
    const origDst = p.h.ip.dst;
    const origDport = this.dport(p);
    let out: HookResult;
    if (r.created && nf.kind !== 'none') {
      const pk = this.nfPacket(p, undefined, first.dev, r, node);
      const outcomes = this.outcomes(node, nf, 'OUTPUT', pk);
      const svc = this.ctx.serviceByIP.get(canonicalIP(p.h.ip.dst));
      const eps = outcomes.map((o) => {
        const d = o.result.nat.find((n) => n.kind === 'DNAT');
        return d ? joinHP(d.after.ip, d.after.port) : '(no DNAT)';
      });
      const idx = outcomes.length > 1 ? this.chooseIndex(outcomes.length, outcomes.map((o) => o.probability), this.forcedFor(svc), eps) : 0;
      out = nf.compiled.uses.recent ? runHookCompiled(nf.compiled, 'OUTPUT', pk, this.evalCtx(node, nf, scriptedRandom(outcomes[idx].decisions))) : outcomes[idx].result;
      this.hookEvent(p, node, first.dev, out, 'raw/mangle/nat/filter');
      const d = out.nat.find((n) => n.kind === 'DNAT');
      if (d && svc) {
        const list = outcomes.map((o, i) => ({ endpoint: eps[i], probability: o.probability }));
        this.serviceEvent(p, at(), svc, 'kube-proxy iptables (nat OUTPUT → KUBE-SERVICES)', list, idx, this.lat.ruleUs, { command: `${this.ipt}-save -t nat | grep KUBE-SVC` });
        this.recordService(svc, origDport, 'iptables', list, eps[idx]);
        this.setDst(p, d.after.ip, d.after.port);
        this.emit(p, 'dnat', at(), `DNAT ${joinHP(origDst, origDport)} → ${joinHP(d.after.ip, d.after.port)}`, 'nat/OUTPUT rewrites the destination of the locally generated packet; the kernel then routes again.', 'dnat', { latencyUs: this.lat.natUs, category: 'service' });
      }
      if (out.verdict !== 'ACCEPT') return this.reject(p, node, out, first.dev);
    } else {
      out = this.hook(node, nf, 'OUTPUT', this.nfPacket(p, undefined, first.dev, r.verdict === 'ok' ? r : undefined, node));
      this.hookEvent(p, node, first.dev, out, 'filter');
      if (out.verdict !== 'ACCEPT') return this.reject(p, node, out, first.dev);
    }
    p.mark = out.packet.mark;
    const rt = p.h.ip.dst !== origDst ? this.ctx.route(dp, p.h.ip.dst) : first;
    if (rt !== first) this.emit(p, 'route', at(rt.dev), `re-route after DNAT: ${routeText(rt)}`, rt.explanation, 'forward', { rule: routeText(rt), latencyUs: this.lat.routeUs, command: `ip route get ${p.h.ip.dst}` });
    if (rt.verdict === 'local') {
      this.confirm(p, node, r.verdict === 'ok' ? r : undefined, origDst, origDport);
      return { ok: true, at: { kind: 'host', node, pod: hostPod }, pkt: p };
    }
    if (rt.verdict !== 'forward') return this.drop(p, at(), 'no-route', rt.explanation);
    const post = this.hook(node, nf, 'POSTROUTING', { ...this.nfPacket(p, undefined, rt.dev, r.verdict === 'ok' ? r : undefined, node), mark: p.mark });
    this.hookEvent(p, node, rt.dev, post, 'nat (KUBE-POSTROUTING)');
    const masq = post.nat.find((n) => n.kind === 'MASQUERADE' || n.kind === 'SNAT');
    if (masq && masq.chain.startsWith('cali-')) this.felixMasquerade(p, node, rt.dev ?? 'eth0', masq, post);
    else if (masq) {
      const before = joinHP(p.h.ip.src, this.sport(p));
      if (masq.after.port !== masq.before.port) this.setSrc(p, masq.after.ip, masq.after.port);
      else this.setSrc(p, masq.after.ip);
      this.emit(p, 'snat', at(rt.dev), `MASQUERADE ${before} → ${joinHP(p.h.ip.src, this.sport(p))}`, `${masq.chain} rule ${masq.index}: the packet carries kube-proxy's masquerade mark, so its source becomes ${node}'s address on ${rt.dev}.`, 'snat', { latencyUs: this.lat.natUs, category: 'service' });
    }
    this.confirm(p, node, r.verdict === 'ok' ? r : undefined, origDst, origDport);
    const dst = this.placeOf(p.h.ip.dst);
    if (dst.kind === 'pod' && dst.node === node) {
      if (this.plugin === 'cilium') return this.ciliumToEndpoint(p, node, dst.pod);
      if (this.plugin === 'antrea') return this.antreaPipeline(p, node, 'antrea-gw0', undefined);
      if (this.plugin === 'calico' && !this.enforceIngressHost(p, node, dst.pod)) return { ok: false, pkt: p };
      return this.toLocalPod(p, node, dst.pod, rt.dev ?? 'eth0', false);
    }
    if (this.plugin === 'antrea' && rt.dev === 'antrea-gw0') return this.antreaPipeline(p, node, 'antrea-gw0', undefined);
    return this.leaveNode(p, node, rt, rt.dev ?? 'eth0');
  }

  enforceIngressHost(p: Pkt, node: string, pod: PodModel): boolean {
    return this.enforce(p, 'Ingress', node, this.ctx.podDp(pod).hostPeer, { mechanism: 'Calico felix (cali-tw-<iface>)', cost: this.lat.hookUs });
  }

  // ------------------------------------------------------------ Cilium

  ciliumFrontend(node: string, ip: string, port: number | undefined, proto: string): CiliumFrontend | undefined {
    if (port === undefined) return undefined;
    return this.ctx.frontendsFor(node).get(`${canonicalIP(ip)}|${port}|${proto.toUpperCase()}`);
  }

  /** Cilium's Service translation (socket-LB at connect(), or bpf_lxc per packet). Returns false on a drop. */
  ciliumService(p: Pkt, node: string, at: EventLocation, where: 'socket' | 'tc'): boolean {
    const f = this.ciliumFrontend(node, p.h.ip.dst, this.dport(p), p.proto);
    if (!f) return true;
    if (where === 'tc' && f.type !== 'ClusterIP') return true;
    const svc = this.ctx.serviceByIP.get(canonicalIP(p.h.ip.dst));
    const active = f.backends.filter((b) => b.state === 'active');
    const usable = active.length ? active : f.backends;
    const front = joinHP(f.address, f.port);
    const how = where === 'socket' ? `bpf_sock (cgroup/connect${this.family === 4 ? '4' : '6'}) socket-LB` : 'bpf_lxc (tc ingress on the lxc device) per-packet LB';
    if (!usable.length) {
      this.drop(p, at, 'no-endpoints', `${how}: service ${front}/${f.proto} (ID ${f.id}) has no backends: ${where === 'socket' ? 'connect() fails with ECONNREFUSED' : 'DROP_NO_SERVICE ("Service backend not found")'}`, { command: `cilium-dbg service list | grep ${front}`, hubble: this.hubble(p, node, 'Service backend not found', 'DROPPED') });
      return false;
    }
    const eps = usable.map((b) => joinHP(b.address, b.port));
    const idx = this.chooseIndex(usable.length, usable.map(() => 1 / usable.length), this.forcedFor(svc), eps);
    const b = usable[idx];
    const list = usable.map((x, i) => ({ endpoint: eps[i], probability: 1 / usable.length }));
    this.serviceEvent(p, at, svc, `${how}, service ID ${f.id} (${f.type}), loadBalancer.algorithm random`, list, idx, this.lat.bpfUs, {
      rule: `${f.id}   ${front}/${f.proto}   ${f.type}   ${usable.map((x, i) => `${i + 1} => ${joinHP(x.address, x.port)}/${f.proto} (${x.state})`).join(', ')}`,
      command: `cilium-dbg service list | grep ${front}`,
    });
    this.recordService(svc, f.port, `cilium-${where === 'socket' ? 'socket-lb' : 'bpf-lxc'}`, list, eps[idx]);
    const before = joinHP(p.h.ip.dst, this.dport(p));
    this.setDst(p, b.address, b.port);
    if (where === 'socket') {
      p.sockLB = { front: { ip: f.address, port: f.port }, back: { ip: b.address, port: b.port } };
      this.emit(p, 'dnat', at, `socket-LB: connect(${before}) → ${joinHP(b.address, b.port)}`, `The backend is chosen when the application calls connect(): the kernel builds every packet with ${joinHP(b.address, b.port)} as destination, so there is no per-packet DNAT and no nf_conntrack NAT entry (kube-proxy replacement: no KUBE-* chains).`, 'dnat', { latencyUs: this.lat.bpfUs, category: p.phase === 'dns' ? 'dns' : 'service' });
    } else {
      p.bpfNat = { front: { ip: f.address, port: f.port }, back: { ip: b.address, port: b.port } };
      this.emit(p, 'dnat', at, `bpf_lxc DNAT ${before} → ${joinHP(b.address, b.port)}`, `bpf_lxc translates the ClusterIP per packet and records the connection in the BPF CT map (cilium bpf ct list global) with reverse-NAT ID ${f.id}. Cilium handles ClusterIP traffic from pods in eBPF even without kube-proxy replacement (cilium/cilium#10651), so kube-proxy's KUBE-SERVICES chains never see it.`, 'dnat', { latencyUs: this.lat.natUs, category: p.phase === 'dns' ? 'dns' : 'service' });
    }
    return true;
  }

  ciliumFromEndpoint(p: Pkt, pod: PodModel): Sent {
    const node = pod.nodeName;
    const pdp = this.ctx.podDp(pod);
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}`, iface: pdp.hostPeer };
    this.emit(p, 'bpf', at, `bpf_lxc from-container on ${pdp.hostPeer}`, `Cilium's eBPF program on the lxc device's tc ingress handles every packet the pod sends: identity, conntrack (BPF CT map), Service translation, egress policy, then routing.`, 'pass', {
      latencyUs: this.lat.bpfUs,
      hubble: this.hubble(p, node, 'from-endpoint', 'FORWARDED'),
      command: `cilium-dbg monitor --related-to ${this.ctx.cilium.endpointIds.get(pod) ?? ''}`,
    });
    if (p.dir === 'request' && !p.sockLB && !this.ciliumService(p, node, at, 'tc')) return { ok: false, pkt: p };
    if (p.dir === 'request' && this.isFirst(p)) {
      const lookup = this.ciliumPolicyRule(p, 'Egress');
      if (!this.enforce(p, 'Egress', node, pdp.hostPeer, { mechanism: 'Cilium policy map (bpf_lxc egress, __policy_can_access)', rule: lookup, cost: this.lat.bpfUs, hubble: true, command: `cilium-dbg bpf policy get ${this.ctx.cilium.endpointIds.get(pod) ?? ''}` })) return { ok: false, pkt: p };
    }
    return this.ciliumRoute(p, node);
  }

  isFirst(p: Pkt): boolean {
    return !p.tcpFlags || (p.tcpFlags.includes('SYN') && !p.tcpFlags.includes('ACK'));
  }

  ciliumPolicyRule(p: Pkt, dir: 'Egress' | 'Ingress'): string | undefined {
    if (!this.ctx.hasPolicies || p.proto === 'icmp' || p.proto === 'ipv6-icmp') return undefined;
    const subject = this.placeOf(dir === 'Egress' ? p.h.ip.src : p.h.ip.dst);
    if (subject.kind !== 'pod') return undefined;
    try {
      const v = this.ctx.cilium.verdict({ from: this.endpointRef(p.h.ip.src), to: this.endpointRef(p.h.ip.dst), port: this.dport(p) ?? 0, protocol: p.proto === 'udp' ? 'UDP' : 'TCP' });
      return (dir === 'Egress' ? v.egress : v.ingress)?.text;
    } catch {
      return undefined;
    }
  }

  ciliumRoute(p: Pkt, node: string): Sent {
    const dst = this.placeOf(p.h.ip.dst);
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}` };
    if (dst.kind === 'pod' && dst.node === node) {
      this.emit(p, 'bpf', at, `local endpoint: redirect to ${this.ctx.podDp(dst.pod).hostPeer}`, `The destination is an endpoint on this node (endpoint map lookup): the packet is redirected straight to its lxc device, bypassing the host stack.`, 'forward', { latencyUs: this.lat.bpfUs });
      return this.ciliumToEndpoint(p, node, dst.pod);
    }
    const dstNode = dst.kind === 'pod' || dst.kind === 'host' ? dst.node : undefined;
    const rt = this.ctx.route(this.ctx.nodeDp(node), p.h.ip.dst);
    const kind = dstNode ? this.ctx.encapsulationBetween(node, dstNode, this.family) : 'none';
    if (dstNode && kind !== 'none') {
      this.emit(p, 'route', at, `route: ${routeText(rt)}`, `${rt.explanation}. In tunnel mode bpf_lxc does not hand the packet to this route: it encapsulates it directly (tunnel map).`, 'forward', { rule: routeText(rt), latencyUs: this.lat.routeUs, command: `ip route get ${p.h.ip.dst}; cilium-dbg bpf tunnel list` });
      return this.tunnel(p, node, dstNode, this.mode === 'geneve' ? 'cilium_geneve' : 'cilium_vxlan', rt, kind);
    }
    const kpr = this.kp === 'ebpf';
    if (rt.verdict !== 'forward') return this.drop(p, at, 'no-route', rt.explanation, { rule: routeText(rt) });
    this.decTTL(p);
    this.emit(p, 'route', at, `${kpr ? 'bpf_fib_lookup' : 'host stack route'}: ${routeText(rt)}`, `${rt.explanation}. ${kpr ? 'With eBPF host routing (kube-proxy replacement) bpf_lxc looks the route up itself (bpf_fib_lookup) and redirects to eth0, bypassing netfilter and the upper stack.' : 'Legacy host routing: the packet goes up the host stack (netfilter FORWARD/POSTROUTING run) and out of eth0.'}`, 'forward', {
      rule: routeText(rt),
      latencyUs: this.lat.routeUs,
      command: `ip route get ${p.h.ip.dst}`,
      hubble: this.hubble(p, node, 'to-stack', 'FORWARDED'),
    });
    if (!kpr) {
      const nf = this.nf(node);
      const ct = this.track(node, p);
      if (ct.verdict === 'drop') return this.drop(p, at, 'conntrack-full', CONNTRACK_FULL_MESSAGE);
      const fwd = this.hook(node, nf, 'FORWARD', this.nfPacket(p, this.ctx.podDp(this.placeOf(p.h.ip.src).kind === 'pod' ? (this.placeOf(p.h.ip.src) as { pod: PodModel }).pod : ({} as PodModel)).hostPeer, rt.dev, ct, node));
      this.hookEvent(p, node, rt.dev, fwd, 'filter');
      if (fwd.verdict !== 'ACCEPT') return this.reject(p, node, fwd, rt.dev);
      if (ct.created) this.natOutgoing(p, node, rt.dev ?? 'eth0');
      this.confirm(p, node, ct, p.h.ip.dst, this.dport(p));
    } else if (!dstNode) this.natOutgoing(p, node, rt.dev ?? 'eth0');
    return this.leaveNode(p, node, rt, rt.dev ?? 'eth0');
  }

  /** Arrival at a Cilium node from the wire or the overlay. */
  ciliumIngress(p: Pkt, node: string, iface: string): Sent {
    const overlay = iface.startsWith('cilium_');
    const prog = overlay ? 'bpf_overlay (from-overlay)' : 'bpf_host (from-netdev)';
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}`, iface };
    const dst = this.placeOf(p.h.ip.dst);
    const localPod = dst.kind === 'pod' && dst.node === node;
    // Without kube-proxy replacement (legacy host routing) bpf_host hands packets from the network to the host stack,
    // which routes them to cilium_host (netfilter PREROUTING/FORWARD/POSTROUTING run); bpf_overlay delivers to local endpoints itself.
    const viaStack = (dst.kind === 'host' && dst.node === node) || (localPod && !overlay && this.kp !== 'ebpf');
    const what = localPod && !viaStack ? ` and redirects the packet to ${this.ctx.podDp((dst as { pod: PodModel }).pod).hostPeer}` : viaStack ? `, then passes the packet to the host stack (${localPod ? 'legacy host routing: the kernel routes it towards cilium_host, where BPF delivers it to the endpoint' : 'it is addressed to the node itself'})` : '';
    this.emit(p, 'bpf', at, `${prog} on ${iface}`, `${prog} looks the destination up in the endpoint map / ipcache${what}; the source identity comes from ${overlay ? 'the tunnel VNI' : 'the ipcache'}.`, 'forward', { latencyUs: this.lat.bpfUs });
    if (viaStack) return this.nodeStack(p, node, iface, undefined);
    if (localPod) return this.ciliumToEndpoint(p, node, dst.pod);
    return this.drop(p, at, 'no-route', `${p.h.ip.dst} is not an endpoint of ${node}`);
  }

  /** bpf_lxc to-container: ingress policy, reverse NAT for replies, delivery. */
  ciliumToEndpoint(p: Pkt, node: string, pod: PodModel): Sent {
    const pdp = this.ctx.podDp(pod);
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}`, iface: pdp.hostPeer };
    if (p.dir === 'request' && this.isFirst(p)) {
      const lookup = this.ciliumPolicyRule(p, 'Ingress');
      if (!this.enforce(p, 'Ingress', node, pdp.hostPeer, { mechanism: 'Cilium policy map (bpf_lxc to-container ingress)', rule: lookup, cost: this.lat.bpfUs, hubble: true, command: `cilium-dbg bpf policy get ${this.ctx.cilium.endpointIds.get(pod) ?? ''}` })) return { ok: false, pkt: p };
    }
    if (p.dir === 'response' && p.bpfNat) {
      const before = joinHP(p.h.ip.src, this.sport(p));
      this.setSrc(p, p.bpfNat.front.ip, p.bpfNat.front.port);
      this.emit(p, 'reverse-nat', at, `BPF reverse NAT ${before} → ${joinHP(p.bpfNat.front.ip, p.bpfNat.front.port)}`, 'bpf_lxc finds the reply in the BPF CT map with its reverse-NAT ID and restores the Service address before the pod sees it.', 'snat', { latencyUs: this.lat.natUs, category: p.phase === 'dns' ? 'dns' : 'service' });
    }
    this.setEth(p, this.macOf(this.ctx.nodeDp(node), pdp.hostPeer), this.macOf(pdp, 'eth0'));
    this.capture(p, node, `node/${node}`, pdp.hostPeer, 'out');
    this.emit(p, 'veth', { element: podEl(pod), node, netns: `pod/${pod.namespace}/${pod.name}`, iface: 'eth0', to: podEl(pod) }, `${pdp.hostPeer} → ${pod.name} eth0`, 'bpf_lxc delivers the packet into the pod (bpf_redirect to the lxc device).', 'forward', {
      latencyUs: this.lat.vethUs,
      hubble: this.hubble(p, node, 'to-endpoint', 'FORWARDED'),
      command: `hubble observe --to-pod ${pod.namespace}/${pod.name}`,
    });
    this.capture(p, node, `pod/${pod.namespace}/${pod.name}`, 'eth0', 'in');
    return { ok: true, at: { kind: 'pod', pod, node }, pkt: p };
  }

  // ------------------------------------------------------------ Antrea

  antreaPipeline(p: Pkt, node: string, inPort: string, fromPod: PodModel | undefined): Sent {
    const at: EventLocation = { element: nodeEl(node), node, netns: `node/${node}`, iface: 'br-int' };
    // Antrea tracks IPv4 and IPv6 connections in separate OVS ct zones (CtZone / CtZoneV6).
    const zone = antreaCtZone(this.family);
    const zoneText = this.family === 6 ? `${zone} (CtZoneV6: Antrea tracks IPv6 connections in their own zone; IPv4 uses ${antreaCtZone(4)})` : `${zone}`;
    const tables: string[] = [`Classifier (in_port=${inPort})`];
    if (fromPod) tables.push('SpoofGuard (source IP/MAC of the port)');
    if (fromPod && this.family === 6) tables.push('IPv6 (NDP and multicast → NORMAL; other IPv6 packets go on)');
    tables.push(`ConntrackZone: ct(table=ConntrackState, zone=${zone}, nat)`);
    const ct = this.track(node, p, zone);
    if (ct.verdict === 'drop') return this.drop(p, at, 'conntrack-full', CONNTRACK_FULL_MESSAGE);
    const origDst = p.h.ip.dst;
    const origDport = this.dport(p);
    tables.push(`ConntrackState: ${ct.created ? '+new+trk' : `+est+trk (${ct.direction})`}`);
    if (!ct.created) {
      const e = ct.entry;
      if (ct.direction === 'original' && e.dnat) {
        const t = invertTuple(e.reply);
        this.setDst(p, t.dst, t.dport);
      } else if (ct.direction === 'reply' && e.dnat) {
        const t = invertTuple(e.orig);
        const before = joinHP(p.h.ip.src, this.sport(p));
        if (t.src !== p.h.ip.src) {
          this.setSrc(p, t.src, t.sport);
          this.emit(p, 'reverse-nat', at, `reverse NAT in OVS ct zone ${zone}: ${before} → ${joinHP(t.src, t.sport)}`, `ct(zone=${zone}, nat) finds the AntreaProxy connection and restores the Service address on the reply.${this.family === 6 ? ` Zone ${zone} is CtZoneV6, where Antrea tracks IPv6 connections.` : ''}`, 'snat', { conntrack: this.ctLine(node, e), latencyUs: this.lat.natUs, category: p.phase === 'dns' ? 'dns' : 'service' });
        }
      }
    }
    this.emit(p, 'ovs', at, `OVS br-int: ${tables.length} tables`, `Antrea's OVS pipeline (br-int): ${tables.join(' → ')}.`, 'pass', { rules: tables, latencyUs: this.lat.bridgeUs, command: 'antctl get ovsflows -T ConntrackState' });
    if (ct.created) {
      const f = this.ciliumFrontend(node, p.h.ip.dst, this.dport(p), p.proto);
      if (f && f.type === 'ClusterIP') {
        const svc = this.ctx.serviceByIP.get(canonicalIP(p.h.ip.dst));
        const usable = f.backends.filter((b) => b.state === 'active');
        if (!usable.length) return this.drop(p, at, 'no-endpoints', `AntreaProxy: ${joinHP(f.address, f.port)} has no endpoints; table ServiceLB rejects the connection (Antrea sends ICMP port unreachable / TCP RST from OVS since v1.11)`);
        const eps = usable.map((b) => joinHP(b.address, b.port));
        const idx = this.chooseIndex(usable.length, usable.map(() => 1 / usable.length), this.forcedFor(svc), eps);
        const list = usable.map((_, i) => ({ endpoint: eps[i], probability: 1 / usable.length }));
        this.serviceEvent(p, at, svc, 'AntreaProxy (OVS table ServiceLB → select group, dp_hash)', list, idx, this.lat.bridgeUs, { command: 'antctl get ovsflows -T ServiceLB' });
        this.recordService(svc, f.port, 'antrea-proxy', list, eps[idx]);
        const before = joinHP(p.h.ip.dst, this.dport(p));
        this.setDst(p, usable[idx].address, usable[idx].port);
        this.emit(p, 'dnat', at, `EndpointDNAT: ${before} → ${eps[idx]}`, `Table EndpointDNAT commits the connection in conntrack zone ${zoneText} with nat(dst=endpoint); kube-proxy's ${this.family === 6 ? 'ip6tables' : 'iptables'} rules exist on the node but pod traffic to ClusterIPs never reaches them (AntreaProxy serves it inside OVS).`, 'dnat', { latencyUs: this.lat.natUs, category: p.phase === 'dns' ? 'dns' : 'service' });
      }
      if (fromPod && !this.enforce(p, 'Egress', node, inPort, { mechanism: 'Antrea OVS tables EgressRule / EgressDefaultRule (conjunctive flows)', cost: this.lat.bridgeUs, command: 'antctl get ovsflows -T EgressRule' })) return { ok: false, pkt: p };
    }
    const dst = this.placeOf(p.h.ip.dst);
    if (dst.kind === 'pod' && dst.node === node) {
      if (ct.created && !this.enforce(p, 'Ingress', node, this.ctx.podDp(dst.pod).hostPeer, { mechanism: 'Antrea OVS tables IngressRule / IngressDefaultRule', cost: this.lat.bridgeUs, command: 'antctl get ovsflows -T IngressRule' })) return { ok: false, pkt: p };
      this.confirm(p, node, ct, origDst, origDport, zone);
      // From the tunnel, L3Forwarding rewrites the MACs (RewriteMACRegMark) and L3DecTTL decrements (dec_ttl); packets from antrea-gw0 (the host already routed them) or switched between local pods are not decremented.
      const fromTunnel = inPort === 'genev_sys_6081' || inPort === 'vxlan_sys_4789';
      if (fromTunnel) this.decTTL(p);
      this.emit(p, 'ovs', at, `L3Forwarding → local pod ${dst.pod.name}`, `L3Forwarding rewrites the MACs for the local pod, ${fromTunnel ? `L3DecTTL decrements (${this.ttlName} ${p.h.ip.ttl + 1} → ${p.h.ip.ttl}), ` : ''}L2ForwardingCalc picks its port, ConntrackCommit, Output.`, 'forward', { latencyUs: this.lat.bridgeUs });
      return this.toLocalPod(p, node, dst.pod, this.ctx.podDp(dst.pod).hostPeer, false);
    }
    this.confirm(p, node, ct, origDst, origDport, zone);
    const dstNode = this.ownerNode(p.h.ip.dst);
    if (dstNode && dstNode !== node) {
      const kind = this.ctx.encapsulationBetween(node, dstNode, this.family);
      this.decTTL(p);
      this.emit(p, 'ovs', at, `L3Forwarding: ${p.h.ip.dst} lives on ${dstNode}`, kind !== 'none' ? (this.family === 6 ? `L3Forwarding matches ${dstNode}'s IPv6 pod CIDR and sets the tunnel destination to ${dstNode}'s IPv6 transport address ${this.ctx.node(dstNode).ips.find((ip) => ipFamily(ip) === 6) ?? this.ctx.nodeDp(dstNode).nodeIP} (tun_ipv6_dst: Antrea tunnels each family to the peer's address of that family); L3DecTTL: hop limit ${p.h.ip.ttl + 1} → ${p.h.ip.ttl}; Output to antrea-tun0.` : `L3Forwarding matches ${dstNode}'s pod CIDR, decrements TTL and sets the tunnel destination ${this.ctx.nodeDp(dstNode).nodeIP}; Output to antrea-tun0.`) : `noEncap: L3Forwarding sends the packet to antrea-gw0 and the host routes it over eth0.`, 'forward', { latencyUs: this.lat.bridgeUs, command: 'antctl get ovsflows -T L3Forwarding' });
      if (kind !== 'none') return this.tunnel(p, node, dstNode, 'antrea-tun0', undefined, kind);
      const rt = this.ctx.route(this.ctx.nodeDp(node), p.h.ip.dst);
      this.emit(p, 'route', at, `route: ${routeText(rt)}`, rt.explanation, 'forward', { rule: routeText(rt), latencyUs: this.lat.routeUs, command: `ip route get ${p.h.ip.dst}` });
      return this.leaveNode(p, node, rt, rt.dev ?? 'eth0');
    }
    if (dst.kind === 'host' && dst.node === node) return { ok: true, at: dst, pkt: p };
    // To the host / outside: out of antrea-gw0 into the host stack.
    this.emit(p, 'ovs', at, 'L3Forwarding → antrea-gw0 (host stack)', `${p.h.ip.dst} is neither a local pod nor another node's pod CIDR: OVS outputs to antrea-gw0 and the host routes it.`, 'forward', { latencyUs: this.lat.bridgeUs });
    return this.nodeStack(p, node, 'antrea-gw0', fromPod);
  }

  // ------------------------------------------------------------ sending

  send(p: Pkt, from: Place): Sent {
    if (from.kind === 'pod') return this.fromPod(p, from.pod);
    if (from.kind === 'host') return this.fromHost(p, from.node, from.pod);
    return this.drop(p, { element: from.ip }, 'unreachable', 'external senders are not modelled');
  }

  /** Delivery to the destination socket (with the app-level reverse translation of Cilium socket-LB). */
  deliver(p: Pkt, at: Place, what: string): void {
    const el = at.kind === 'pod' ? podEl(at.pod) : at.kind === 'host' ? (at.pod ? podEl(at.pod) : nodeEl(at.node)) : at.ip;
    const node = at.kind === 'external' ? undefined : at.node;
    const netns = at.kind === 'pod' ? `pod/${at.pod.namespace}/${at.pod.name}` : node ? `node/${node}` : undefined;
    if (p.sockLB && p.dir === 'response') {
      this.emit(p, 'reverse-nat', { element: el, node, netns, iface: 'eth0' }, `socket-LB reverse translation: the app sees ${joinHP(p.sockLB.front.ip, p.sockLB.front.port)}`, `The packet on the wire comes from ${joinHP(p.h.ip.src, this.sport(p))}; the socket was connected to the backend by cgroup/connect, and getpeername()/recvmsg() are translated back (cgroup/getpeername, cgroup/recvmsg), so the application sees the Service address.`, 'pass', { latencyUs: this.lat.bpfUs, category: p.phase === 'dns' ? 'dns' : 'service' });
    }
    this.emit(p, 'deliver', { element: el, node, netns, iface: at.kind === 'pod' ? 'eth0' : undefined }, what, `${this.l4Text(p)} reaches the socket.`, 'deliver', { latencyUs: this.lat.deliverUs });
  }

  /** One Istio sidecar step (core/mesh) as a walk event at `at`. */
  meshEvent(p: Pkt, at: EventLocation, s: MeshStep): void {
    const e = meshStepEvent(s);
    this.emit(p, e.kind, { ...at, element: s.at }, e.action, e.detail, e.verdict, { rule: e.rule, rules: e.rules, latencyUs: e.latencyUs, category: 'mesh', seedNote: e.seedNote });
  }

  /** The ephemeral port of a later DNS socket (the kernel picks one at random in ip_local_port_range). */
  randomPort(): number {
    return 32768 + Math.floor(this.rng() * (60999 - 32768));
  }
}

// ---------------------------------------------------------------- entry points

function resolveSource(ctx: TraceContext, from: string): Place {
  if (from.startsWith('node:') || from.startsWith('node/')) {
    const name = from.slice(5);
    if (!ctx.nodeByName.has(name)) throw new TraceInputError(`no node named "${name}"`, `use one of: ${[...ctx.nodeByName.keys()].join(', ')}`);
    return { kind: 'host', node: name };
  }
  const ref = from.startsWith('pod/') ? from.slice(4) : from;
  const key = ref.includes('/') ? ref : `default/${ref}`;
  const pod = ctx.podByKey.get(key);
  if (!pod) {
    throw new TraceInputError(`no pod "${key}" in the topology`, `use namespace/name, e.g. ${[...ctx.podByKey.keys()].slice(0, 5).join(', ')}`);
  }
  if (pod.hostNetwork) return { kind: 'host', node: pod.nodeName, pod };
  return { kind: 'pod', pod, node: pod.nodeName };
}

/** Plugins whose IPv6 data plane the model does not build refuse IPv6 walks with what the real plugin does. */
function refuseIPv6(ctx: TraceContext): void {
  const why = ctx.cni.ipv6Unsupported?.(ctx.topology);
  if (why) throw new TraceInputError(why, 'walk an IPv4 address or Service instead (--family 4), or switch the topology to a CNI with an IPv6 data plane (calico, flannel, cilium, antrea)');
}

function sourceIP(ctx: TraceContext, src: Place, family: 4 | 6): string | undefined {
  if (src.kind === 'pod') return src.pod.ips.find((ip) => ipFamily(ip) === family);
  if (src.kind === 'host') {
    const ips = src.pod?.ips.length ? src.pod.ips : ctx.node(src.node).ips;
    return ips.find((ip) => ipFamily(ip) === family);
  }
  return undefined;
}

/**
 * Walks `request` from `from` (`ns/pod`, or `node:NAME` for the node itself)
 * through the topology of `ctx`. Throws TraceInputError for bad input.
 */
export function walk(ctx: TraceContext, from: string, request: string | TraceRequest, opts: TraceOptions = {}): TraceOutput {
  const req = typeof request === 'string' ? parseRequest(request) : request;
  const w = new Walker(ctx, opts);
  const src = resolveSource(ctx, from);
  const srcNode = src.kind === 'external' ? '' : src.node;
  let family: 4 | 6 = opts.family ?? (req.hostIsIP ? (ipFamily(req.host) ?? 4) : 4);
  if (!sourceIP(ctx, src, family)) {
    // An IPv4-only CNI (Weave) gives its pods no IPv6 address: say why instead of sending IPv4 to an IPv6 address.
    if (family === 6) refuseIPv6(ctx);
    if (opts.family) throw new TraceInputError(`${from} has no IPv${family} address`, 'pick the other family (--family) or a dual-stack pod');
    family = family === 4 ? 6 : 4;
  }
  w.family = family;
  let srcIP = sourceIP(ctx, src, family);
  if (!srcIP) throw new TraceInputError(`${from} has no IP address`, 'run IPAM (load the topology with loadTopology) or give the pod an address');
  if (family === 6) refuseIPv6(ctx);
  const srcPod = src.kind === 'pod' ? src.pod : src.kind === 'host' ? src.pod : undefined;
  const nsForDns = srcPod ?? { namespace: 'default', hostNetwork: true };
  let clock = 0;
  const notes = w.notes;
  let target: TraceResult['target'];
  let ok: boolean;

  // ---- DNS -------------------------------------------------------------
  let dstIP: string | undefined = req.hostIsIP ? req.host : undefined;
  if (!req.hostIsIP) {
    // The queries go to resolv.conf's nameserver in its own family (kube-dns's first
    // ClusterIP, IPv4 in an IPv4-primary dual-stack cluster), whatever family the answer has.
    const nameserver = ctx.resolvConf(nsForDns).nameservers[0];
    const nsFamily = nameserver ? ipFamily(nameserver) : null;
    const dnsFamily: 4 | 6 = nsFamily && sourceIP(ctx, src, nsFamily) ? nsFamily : family;
    w.family = dnsFamily;
    // Without --family the application asks getaddrinfo(AF_UNSPEC) and connects to the first answer of glibc's sorting.
    const r = dnsPhase(w, src, sourceIP(ctx, src, dnsFamily)!, nsForDns, req, dnsFamily, clock, opts.family ?? (canUse6(ctx, src) ? 'prefer6' : 'prefer4'));
    w.family = family;
    clock = r.clock;
    dstIP = r.address;
    if (!dstIP) {
      return finish(w, req, src, srcIP, family, undefined, false, ctx);
    }
    // getaddrinfo() returned an address of the other family (e.g. only AAAA for an
    // IPv6 single-stack Service): the application connects over that family.
    const got = ipFamily(dstIP);
    if (got === 6 && family !== 6 && req.kind !== 'dns' && !sourceIP(ctx, src, 6)) refuseIPv6(ctx);
    if (got && got !== family && req.kind !== 'dns' && sourceIP(ctx, src, got)) {
      if (got === 6) refuseIPv6(ctx);
      family = got;
      w.family = family;
      srcIP = sourceIP(ctx, src, family)!;
      notes.add(
        r.both
          ? `${req.host} has A and AAAA answers and ${from} has an IPv6 address: glibc's getaddrinfo sorts the IPv6 answer first (its built-in RFC 3484 table ranks ::/0 at precedence 40 and IPv4 at 10, ULA fd00::/8 included), so the application connects to ${dstIP} from ${srcIP}. Use --family 4 (curl -4) for the IPv4 path.`
          : `${req.host} resolves to ${dstIP} only: ${from} connects over IPv${family} from ${srcIP}.`,
      );
    }
  }
  if (req.kind === 'dns') {
    ok = !!dstIP;
    target = dstIP ? { ip: dstIP, service: serviceName(ctx, dstIP) } : undefined;
    return finish(w, req, src, srcIP, family, target, ok, ctx);
  }
  const dst = dstIP!;
  target = { ip: dst, port: req.port, service: serviceName(ctx, dst) };
  if (ipFamily(dst) !== family) {
    notes.add(`${dst} is IPv${ipFamily(dst)} but ${from} sends IPv${family}`);
  }

  // ---- request / reply --------------------------------------------------
  const sport = opts.srcPort ?? 52345;
  const ttl = family === 4 ? 64 : 64;
  const srcRoute = src.kind === 'pod' ? ctx.route(ctx.podDp(src.pod), dst) : ctx.route(ctx.nodeDp(srcNode), dst);
  const mtu = srcRoute.mtu ?? ctx.topology.settings.nodeMTU;
  const mssC = mtu - (family === 4 ? 40 : 60);
  const isnC = Math.floor(w.rng() * 0xffffffff) >>> 0;
  const tsC = Math.floor(w.rng() * 0x7fffffff);
  const el = src.kind === 'pod' ? podEl(src.pod) : src.kind === 'host' && src.pod ? podEl(src.pod) : nodeEl(srcNode);
  const srcNetns = src.kind === 'pod' ? `pod/${src.pod.namespace}/${src.pod.name}` : `node/${srcNode}`;
  const df = opts.df ?? true;
  let p: Pkt;
  if (req.kind === 'http' || req.kind === 'tcp') {
    p = w.newPkt('TCP SYN', 'request', 'request', 'syn', {
      ip: { version: family, src: srcIP, dst, ttl, df, length: 0, protocol: 'TCP' },
      tcp: { sport, dport: req.port!, flags: ['S'], seq: isnC, window: initialWindow(mssC, false), options: synOptions(mssC, tsC, 0), payload: 0 },
    }, 'tcp', clock, { tcpFlags: ['SYN'] });
    p.h = { ...p.h, ip: { ...p.h.ip, length: ipLength(family, { tcp: p.h.tcp }) } };
  } else if (req.kind === 'udp') {
    const payload = opts.size ?? 32;
    p = w.newPkt('UDP datagram', 'request', 'request', 'udp-request', {
      ip: { version: family, src: srcIP, dst, ttl, df, length: ipLength(family, { udpPayload: payload }), protocol: 'UDP' },
      udp: { sport, dport: req.port!, length: 8 + payload },
    }, 'udp', clock);
  } else {
    const data = opts.size ?? 56;
    const id = Math.floor(w.rng() * 65535);
    p = w.newPkt('ICMP echo request', 'request', 'request', 'echo-request', {
      ip: { version: family, src: srcIP, dst, ttl, df, length: ipLength(family, { icmpLength: 8 + data }), protocol: family === 4 ? 'ICMP' : 'ICMPv6' },
      icmp: { type: family === 4 ? 8 : 128, code: 0, id, seq: 1, text: `echo request, id ${id}, seq 1`, length: 8 + data },
    }, family === 4 ? 'icmp' : 'ipv6-icmp', clock, { icmp: { type: family === 4 ? 8 : 128, code: 0, id } });
  }
  let clientSyn = p.h;
  const verb = req.kind === 'http' ? `connect() to ${joinHP(dst, req.port)} for ${req.method} ${req.path}` : req.kind === 'tcp' ? `connect() to ${joinHP(dst, req.port)}` : req.kind === 'udp' ? `sendto() ${joinHP(dst, req.port)}` : `ping ${dst}`;
  w.emit(p, 'socket', { element: el, node: srcNode, netns: srcNetns }, verb, `${req.kind === 'ping' ? 'The ICMP echo socket' : `The kernel binds ephemeral port ${sport}`} on ${srcIP}; ${req.kind === 'http' || req.kind === 'tcp' ? `the SYN advertises MSS ${mssC} (route MTU ${mtu} − ${family === 4 ? 40 : 60}) and window ${initialWindow(mssC, false)}` : `${p.h.ip.length} bytes`}.`, 'pass', { latencyUs: w.lat.socketUs, category: 'transit' });
  // ---- Istio sidecar, client side: ISTIO_OUTPUT → Envoy 15001 → Envoy's own connection to the endpoint.
  let upstream: Upstream | undefined;
  if ((req.kind === 'http' || req.kind === 'tcp') && src.kind === 'pod' && topologyHasMesh(ctx.topology)) {
    const mesh = clientSidecar(ctx.topology, src.pod, dst, req.port!, req, { sourcePort: sport, random: w.rng });
    if (mesh) {
      const at: EventLocation = { element: el, node: srcNode, netns: srcNetns };
      for (const s of mesh.steps) w.meshEvent(p, at, s);
      for (const n of mesh.notes) notes.add(n);
      const end = mesh.verdict ? meshVerdictEnd(mesh.verdict) : undefined;
      if (end && req.kind === 'http') w.httpStatus = mesh.verdict?.status;
      if (end?.ok) {
        w.emit(p, 'proxy', at, `local reply from istio-proxy: ${end.text}`, `${src.pod.name}'s sidecar answers the request itself (VirtualService); nothing leaves the pod.`, 'info', { latencyUs: 0, category: 'mesh' });
        return finish(w, req, src, srcIP, family, target, true, ctx);
      }
      if (end) {
        w.drop(p, at, end.reason, `${src.pod.namespace}/${src.pod.name}'s sidecar ends the request: ${end.text}`);
        return finish(w, req, src, srcIP, family, target, false, ctx);
      }
      upstream = mesh.upstream;
      const svc = ctx.serviceByIP.get(canonicalIP(dst));
      if (svc && mesh.outcomes.length) {
        const chosen = upstream ? joinHP(upstream.dst, upstream.dport) : undefined;
        w.recordService(svc, req.port, 'istio-sidecar', mesh.outcomes.map((o) => ({ endpoint: o.endpoint, probability: o.probability })), chosen);
      }
      if (upstream && upstream.uid === PROXY_UID && (upstream.dst !== dst || upstream.sport !== sport || upstream.dport !== req.port)) {
        // Envoy's own connection is what goes on the wire: the pod's IP, a new ephemeral port, the endpoint itself.
        w.setSrc(p, srcIP, upstream.sport);
        w.setDst(p, upstream.dst, upstream.dport);
        p.label = 'TCP SYN (istio-proxy → endpoint)';
        w.emit(p, 'socket', at, `istio-proxy connect() to ${joinHP(upstream.dst, upstream.dport)}`, `Envoy (uid ${PROXY_UID}) opens its own connection from ${joinHP(srcIP, upstream.sport)} to the endpoint it chose${upstream.tls === 'ISTIO_MUTUAL' ? ' and speaks mTLS on it' : ''}. On the node the destination is a pod IP, so kube-proxy's Service rules have nothing to translate; the application's socket stays connected to 127.0.0.1:15001 through conntrack's REDIRECT entry in the pod.`, 'pass', { latencyUs: w.lat.socketUs, category: 'mesh' });
        clientSyn = p.h;
      }
    }
  }
  if (w.socketLB && (src.kind === 'pod' || src.kind === 'host') && req.kind !== 'ping' && !(upstream && upstream.uid === PROXY_UID)) {
    if (!w.ciliumService(p, srcNode, { element: el, node: srcNode, netns: srcNetns }, 'socket')) return finish(w, req, src, srcIP, family, target, false, ctx);
  }
  const sent = w.send(p, src);
  if (!sent.ok) return finish(w, req, src, srcIP, family, target, false, ctx);
  const server = sent.at;
  if (server.kind === 'external') return finish(w, req, src, srcIP, family, target, false, ctx);
  // Delivery and the server's reply.
  const rp = sent.pkt;
  // ---- Istio sidecar, server side: ISTIO_INBOUND → Envoy 15006 → mTLS, PeerAuthentication, AuthorizationPolicy → the app.
  if ((req.kind === 'http' || req.kind === 'tcp') && server.kind === 'pod' && topologyHasMesh(ctx.topology)) {
    const conn = {
      src: rp.h.ip.src,
      sport: w.sport(rp)!,
      dst: rp.h.ip.dst,
      dport: w.dport(rp)!,
      tls: upstream?.tls ?? ('plaintext' as const),
      protocol: req.kind === 'http' ? ('http' as const) : ('tcp' as const),
      ...(upstream?.clientIdentity ? { clientIdentity: upstream.clientIdentity } : {}),
      ...(upstream?.sni ? { sni: upstream.sni } : {}),
      ...(upstream?.host ? { host: upstream.host } : {}),
    };
    const inbound = serverSidecar(ctx.topology, server.pod, conn, req);
    if (inbound) {
      const at: EventLocation = { element: podEl(server.pod), node: server.node, netns: `pod/${server.pod.namespace}/${server.pod.name}`, iface: 'eth0' };
      for (const s of inbound.steps) w.meshEvent(rp, at, s);
      const end = meshVerdictEnd(inbound.verdict);
      if (end && !end.ok) {
        if (req.kind === 'http') w.httpStatus = inbound.verdict.kind === 'connection-reset' && upstream?.uid === PROXY_UID ? 503 : inbound.verdict.status;
        const viaClient = inbound.verdict.kind === 'connection-reset' && upstream?.uid === PROXY_UID ? `; the client sidecar sees the reset and answers 503 (UC) "upstream connect error or disconnect/reset before headers"` : '';
        w.drop(rp, at, end.reason, `${server.pod.namespace}/${server.pod.name}'s sidecar ends the request: ${end.text}${viaClient}`);
        return finish(w, req, src, srcIP, family, target, false, ctx);
      }
    }
  }
  let reply: Pkt;
  const sNode = server.node;
  const serverEl = server.kind === 'pod' ? podEl(server.pod) : server.pod ? podEl(server.pod) : nodeEl(sNode);
  const serverName = server.kind === 'pod' ? server.pod.name : server.pod ? server.pod.name : sNode;
  if (server.kind === 'pod' && req.port && (req.kind === 'http' || req.kind === 'tcp' || req.kind === 'udp')) {
    const declared = server.pod.ports.some((cp) => cp.containerPort === w.dport(rp) && cp.protocol === (req.kind === 'udp' ? 'UDP' : 'TCP'));
    if (!declared) notes.add(`${server.pod.namespace}/${server.pod.name} declares no containerPort ${w.dport(rp)}/${req.kind === 'udp' ? 'UDP' : 'TCP'}; containerPorts are informational, so the walk assumes something listens there (otherwise: TCP RST / ICMP port unreachable from the pod).`);
  }
  if (req.kind === 'http' || req.kind === 'tcp') {
    w.deliver(rp, server, `SYN reaches ${serverName} on port ${w.dport(rp)}: the listening socket answers SYN-ACK`);
    const pod = server.kind === 'pod' ? server.pod : undefined;
    const sdp = pod ? ctx.podDp(pod) : ctx.nodeDp(sNode);
    const sRoute = ctx.route(sdp, rp.h.ip.src);
    const mssS = Math.min((sRoute.mtu ?? ctx.topology.settings.nodeMTU) - (family === 4 ? 40 : 60), mssC);
    const advS = (sRoute.mtu ?? ctx.topology.settings.nodeMTU) - (family === 4 ? 40 : 60);
    const isnS = Math.floor(w.rng() * 0xffffffff) >>> 0;
    const tsS = Math.floor(w.rng() * 0x7fffffff);
    void mssS;
    reply = w.newPkt('TCP SYN-ACK', 'reply', 'response', 'syn-ack', {
      ip: { version: family, src: rp.h.ip.dst, dst: rp.h.ip.src, ttl: 64, df: true, length: 0, protocol: 'TCP' },
      tcp: { sport: rp.h.tcp!.dport, dport: rp.h.tcp!.sport, flags: ['S', '.'], seq: isnS, ack: (isnC + 1) >>> 0, window: initialWindow(advS, true), options: synOptions(advS, tsS, tsC), payload: 0 },
    }, 'tcp', rp.clock, { tcpFlags: ['SYN', 'ACK'], sockLB: rp.sockLB, bpfNat: rp.bpfNat });
    reply.h = { ...reply.h, ip: { ...reply.h.ip, length: ipLength(family, { tcp: reply.h.tcp }) } };
    w.emit(reply, 'socket', { element: serverEl, node: sNode, netns: pod ? `pod/${pod.namespace}/${pod.name}` : `node/${sNode}` }, `${serverName} answers SYN-ACK`, `The server's kernel answers from its listening socket (no application work yet): ${joinHP(reply.h.ip.src, reply.h.tcp!.sport)} → ${joinHP(reply.h.ip.dst, reply.h.tcp!.dport)}, MSS ${advS}, window ${initialWindow(advS, true)}.`, 'pass', { latencyUs: w.lat.socketUs });
  } else if (req.kind === 'udp') {
    w.deliver(rp, server, `datagram reaches ${serverName} port ${w.dport(rp)}`);
    reply = w.newPkt('UDP reply', 'reply', 'response', 'udp-reply', {
      ip: { version: family, src: rp.h.ip.dst, dst: rp.h.ip.src, ttl: 64, df: true, length: ipLength(family, { udpPayload: 32 }), protocol: 'UDP' },
      udp: { sport: rp.h.udp!.dport, dport: rp.h.udp!.sport, length: 8 + 32 },
    }, 'udp', rp.clock, { sockLB: rp.sockLB, bpfNat: rp.bpfNat });
    w.emit(reply, 'process', { element: serverEl, node: sNode }, `${serverName} answers`, 'The server application reads the datagram and answers with a short (32-byte) datagram.', 'pass', { latencyUs: w.lat.backendUs, category: 'backend' });
  } else {
    w.deliver(rp, server, `echo request reaches ${serverName}: the kernel answers`);
    reply = w.newPkt('ICMP echo reply', 'reply', 'response', 'echo-reply', {
      ip: { version: family, src: rp.h.ip.dst, dst: rp.h.ip.src, ttl: 64, df: false, length: rp.h.ip.length, protocol: rp.h.ip.protocol },
      icmp: { ...rp.h.icmp!, type: family === 4 ? 0 : 129, text: `echo reply, id ${rp.h.icmp!.id}, seq 1` },
    }, rp.proto, rp.clock, { icmp: { type: family === 4 ? 0 : 129, code: 0, id: rp.h.icmp!.id! } });
  }
  const back = w.send(reply, server);
  if (!back.ok) return finish(w, req, src, srcIP, family, target, false, ctx);
  const bp = back.pkt;
  if (req.kind === 'http' || req.kind === 'tcp') {
    w.deliver(bp, back.at, `SYN-ACK reaches ${src.kind === 'pod' ? src.pod.name : srcNode} from ${joinHP(bp.h.ip.src, w.sport(bp))}: the connection is ESTABLISHED`);
  } else {
    w.deliver(bp, back.at, `reply reaches ${src.kind === 'pod' ? src.pod.name : srcNode} from ${bp.h.udp ? joinHP(bp.h.ip.src, bp.h.udp.sport) : bp.h.ip.src}`);
  }
  ok = true;
  if (req.kind === 'http' || req.kind === 'tcp') {
    const okEx = exchange(w, req, rp, bp, server, serverEl, mssC, clientSyn);
    if (!okEx) ok = false;
  }
  return finish(w, req, src, srcIP, family, target, ok, ctx);

  function serviceName(c: TraceContext, ip: string): string | undefined {
    const s = c.serviceByIP.get(canonicalIP(ip));
    return s ? `${s.namespace}/${s.name}` : undefined;
  }
}

/**
 * The rest of a TCP conversation, which follows the established path
 * (conntrack ESTABLISHED, no nat chains, no policy lookups): ACK + request,
 * the backend's work, the response. Also the full-size segment MTU check.
 */
/** The nginx 1.27 welcome page response: 238 bytes of headers and a 615-byte body. */
export const HTTP_RESPONSE_BYTES = 853;

function exchange(w: Walker, req: TraceRequest, syn: Pkt, synAck: Pkt, server: Place, serverEl: string, mssC: number, clientSyn: PacketHeaders): boolean {
  const path = (ph: Phase) => w.events.filter((e) => e.phase === ph && (e.category === 'transit' || e.category === 'encap'));
  const oneWay = path('request').reduce((a, e) => a + e.latencyUs, 0);
  const back = path('reply').reduce((a, e) => a + e.latencyUs, 0);
  const at0 = synAck.clock;
  const srcEl = w.events.find((e) => e.phase === 'request')?.at;
  const x: Pkt = { ...synAck, index: w.packets.length, label: req.kind === 'http' ? `HTTP ${req.method} ${req.path}` : 'TCP ACK', phase: 'exchange', dir: 'request', last: undefined, clock: at0 };
  w.packets.push({ label: x.label, phase: 'exchange', dir: 'request', role: 'syn' });
  const reqBytes = req.kind === 'http' ? `${req.method} ${req.path} HTTP/1.1\r\nHost: ${req.host}${req.port !== 80 ? `:${req.port}` : ''}\r\nUser-Agent: curl/8.10.1\r\nAccept: */*\r\n\r\n`.length : 0;
  // Full-size segments: the path MTU check TCP meets after the handshake.
  const size = w.opts.size ?? mssC;
  const full = size + (w.family === 4 ? 40 : 60);
  const linkMtus: { node: string; dev: string; mtu: number }[] = [];
  if (w.opts.size !== undefined) for (const e of w.events) {
    if (e.phase !== 'request' || e.kind !== 'route' || !e.at.node) continue;
    const m = /mtu (\d+)/.exec(e.rule ?? '');
    const dev = /dev (\S+)/.exec(e.rule ?? '')?.[1];
    if (dev) {
      const ns = e.at.netns?.startsWith('pod/') ? undefined : w.ctx.nodeDp(e.at.node);
      const mtu = m ? Number(m[1]) : ns?.interfaces.find((i) => i.name === dev)?.mtu;
      if (mtu) linkMtus.push({ node: e.at.node, dev, mtu });
    }
  }
  x.h = { ...clientSyn, tcp: { ...clientSyn.tcp!, flags: req.kind === 'http' ? ['P', '.'] : ['.'], seq: 1, ack: 1, window: scaledWindow(clientSyn.tcp!.window), options: undefined, payload: reqBytes || 0 } };
  x.h = { ...x.h, ip: { ...x.h.ip, length: ipLength(w.family, { tcp: x.h.tcp }) } };
  const tight = linkMtus.find((l) => full > l.mtu);
  if (w.opts.size !== undefined && tight) {
    const r = mtuCheck(full, true, { mtu: tight.mtu, family: w.family, icmpBlocked: w.opts.icmpBlocked, where: `${tight.node} ${tight.dev}` });
    x.h = { ...x.h, ip: { ...x.h.ip, length: full }, tcp: { ...x.h.tcp!, payload: size } };
    w.emit(x, 'mtu', { element: `node/${tight.node}`, node: tight.node, iface: tight.dev }, `a full-size segment (${full} bytes, DF) exceeds ${tight.dev}'s MTU ${tight.mtu}`, `The handshake's small packets passed, but the first ${full}-byte segment does not fit ${tight.node} ${tight.dev} (MTU ${tight.mtu}). ${r.message}`, 'drop', { command: `ip link show ${tight.dev}; tracepath -n ${syn.h.ip.dst}` });
    w.drop(x, { element: `node/${tight.node}`, node: tight.node, iface: tight.dev }, 'mtu', r.verdict === 'black-hole' ? `PMTU black hole: ${r.message}` : r.message);
    return false;
  }
  const reqOneWay = oneWay;
  // The ACK completes the handshake in every conntrack table on the path (SYN_RECV → ESTABLISHED, ASSURED).
  const client = clientSyn.ip.src;
  const cport = clientSyn.tcp!.sport;
  for (const [node, t] of w.state.conntrack) {
    for (const e of t.list()) {
      if (e.proto !== 'tcp' || e.orig.src !== client || e.orig.sport !== cport) continue;
      t.track({ family: w.family, proto: 'tcp', src: e.orig.src, dst: e.orig.dst, sport: e.orig.sport, dport: e.orig.dport, tcpFlags: ['ACK'] });
      if (req.kind === 'http') t.track({ family: w.family, proto: 'tcp', src: e.reply.src, dst: e.reply.dst, sport: e.reply.sport, dport: e.reply.dport, tcpFlags: ['PSH', 'ACK'] });
      void node;
    }
  }
  w.emit(x, 'exchange', srcEl ?? { element: serverEl }, `${req.kind === 'http' ? `ACK + ${req.method} ${req.path} (${reqBytes} bytes)` : 'ACK (handshake complete)'} → ${w.l4Text(x).split(' ')[3] ?? ''}`, `The client completes the handshake and ${req.kind === 'http' ? 'sends the request' : 'the connection is established'}. These packets follow the conntrack entries created by the SYN: no nat chains, no policy lookups, the same DNAT and the same path (${(reqOneWay / 1000).toFixed(3)} ms one way).`, 'forward', { latencyUs: reqOneWay, category: 'transit' });
  if (req.kind !== 'http') return true;
  const pod = server.kind === 'pod' ? server.pod : undefined;
  w.emit(x, 'process', { element: serverEl, node: server.kind === 'external' ? undefined : server.node }, `${pod?.name ?? 'the server'} handles ${req.method} ${req.path}`, 'The backend reads the request and builds the response (the model\'s backendUs; a small static page from nginx).', 'pass', { latencyUs: w.lat.backendUs, category: 'backend' });
  const y: Pkt = { ...x, index: w.packets.length, label: 'HTTP/1.1 200 OK', dir: 'response', last: undefined };
  w.packets.push({ label: y.label, phase: 'exchange', dir: 'response', role: 'syn-ack' });
  y.h = { ...synAck.h, ip: { ...synAck.h.ip }, tcp: { ...synAck.h.tcp!, flags: ['P', '.'], seq: 1, ack: 1 + reqBytes, options: undefined, window: scaledWindow(synAck.h.tcp!.window), payload: HTTP_RESPONSE_BYTES } };
  y.h = { ...y.h, ip: { ...y.h.ip, length: ipLength(w.family, { tcp: y.h.tcp }) } };
  const seen = synAck.sockLB ? joinHP(synAck.sockLB.front.ip, synAck.sockLB.front.port) : joinHP(y.h.ip.src, y.h.tcp!.sport);
  w.emit(y, 'exchange', srcEl ?? { element: serverEl }, `HTTP/1.1 200 OK reaches the client from ${seen}`, `The response returns along the reply path, reverse-NATed by the same conntrack entry (${(back / 1000).toFixed(3)} ms).`, 'deliver', { latencyUs: back, category: 'transit' });
  return true;
}

/**
 * Which answers the application asks for and takes: a forced family (curl -4 / -6:
 * AF_INET / AF_INET6, A or AAAA queries only), or AF_UNSPEC (A and AAAA) with
 * glibc's sorting — the IPv6 answer first when the source can use IPv6.
 */
type AddressChoice = 4 | 6 | 'prefer6' | 'prefer4';

/** The source has an IPv6 address and the CNI model carries IPv6. */
function canUse6(ctx: TraceContext, src: Place): boolean {
  return !!sourceIP(ctx, src, 6) && !ctx.cni.ipv6Unsupported?.(ctx.topology);
}

function dnsPhase(w: Walker, src: Place, srcIP: string, pod: Pick<PodModel, 'namespace' | 'hostNetwork'>, req: TraceRequest, family: 4 | 6, clock0: number, want: AddressChoice): { clock: number; address?: string; both?: boolean } {
  const ctx = w.ctx;
  const rc = ctx.resolvConf(pod);
  const fam = want === 6 ? 'inet6' : want === 4 ? 'inet' : 'unspec';
  const res = ctx.resolution(pod, req.host, fam);
  const el = src.kind === 'pod' ? podEl(src.pod) : src.kind === 'host' ? (src.pod ? podEl(src.pod) : nodeEl(src.node)) : '';
  const node = src.kind === 'external' ? undefined : src.node;
  const netns = src.kind === 'pod' ? `pod/${src.pod.namespace}/${src.pod.name}` : node ? `node/${node}` : undefined;
  const head = w.newPkt(`DNS lookup ${req.host}`, 'dns', 'request', 'dns-query', { ip: { version: family, src: srcIP, dst: rc.nameservers[0] ?? '', ttl: 64, df: false, length: 0, protocol: 'UDP' } }, 'udp', clock0);
  const seed = req.host.split('.').length - 1 < rc.ndots && !req.host.endsWith('.') && req.host.includes('.') ? SEED_NOTES.resolverAttempts : undefined;
  w.emit(head, 'dns-lookup', { element: el, node, netns }, `getaddrinfo("${req.host}"): ${res.candidates.length} candidate name${res.candidates.length === 1 ? '' : 's'}`, `resolv.conf: ${rc.text.trim().replace(/\n/g, '; ')}. "${req.host}" has ${(req.host.match(/\./g) ?? []).length} dot${(req.host.match(/\./g) ?? []).length === 1 ? '' : 's'} (ndots:${rc.ndots}), so glibc tries: ${res.candidates.map((c) => c.fqdn).join(', ')}. ${fam === 'unspec' ? 'It asks A and AAAA together for each name (one socket, parallel), and stops at the first name with an answer.' : ''} ${rc.notes.join(' ')}`.trim(), 'pass', { latencyUs: 0, category: 'dns', seedNote: seed, command: netns?.startsWith('pod/') && src.kind === 'pod' ? `kubectl exec -n ${src.pod.namespace} ${src.pod.name} -- cat /etc/resolv.conf` : 'cat /etc/resolv.conf' });
  if (res.outcome === 'forwarded' && !res.queries.length) {
    w.drop(head, { element: el, node, netns }, 'nxdomain', `${res.notes.join(' ')} Cluster names cannot be resolved from here.`);
    return { clock: head.clock };
  }
  const nameserver = rc.nameservers[0];
  let clock = head.clock;
  let port = w.opts.dnsPort ?? 53241;
  let lastCandidate = '';
  let candidateStart: number;
  let candidateEnd = clock;
  let qn = 0;
  const groups: QueryStep[][] = [];
  for (const q of res.queries) {
    const g = groups[groups.length - 1];
    if (g && g[0].qname === q.qname) g.push(q);
    else groups.push([q]);
  }
  for (const g of groups) {
    if (lastCandidate) {
      port = w.randomPort();
      clock = candidateEnd;
    }
    lastCandidate = g[0].qname;
    candidateStart = clock;
    const parallel = g.length > 1 && g[1].sending === 'parallel';
    if (parallel) {
      const sent: DnsSent[] = [];
      let start = candidateStart;
      for (let i = 0; i < g.length; i++) {
        qn++;
        const before = w.captures.length;
        const d = dnsSend(w, src, srcIP, nameserver, port, g[i], qn, start, family);
        // The next query of the pair is sent once this one has left the resolver's socket (glibc: two send() calls).
        const left = w.captures.slice(before).find((c) => c.dir === 'out');
        start = (left?.timeUs ?? start) + w.lat.socketUs;
        if (!d) return { clock: w.events[w.events.length - 1]?.timeUs ?? clock };
        sent.push(d);
      }
      for (const d of sent) {
        const end = dnsReply(w, src, d, family);
        if (end === null) return { clock: w.events[w.events.length - 1]?.timeUs ?? clock };
        candidateEnd = Math.max(candidateEnd, end);
      }
    } else {
      for (const q of g) {
        qn++;
        const d = dnsSend(w, src, srcIP, nameserver, port, q, qn, clock, family);
        if (!d) return { clock: w.events[w.events.length - 1]?.timeUs ?? clock };
        const end = dnsReply(w, src, d, family);
        if (end === null) return { clock: w.events[w.events.length - 1]?.timeUs ?? clock };
        clock = end;
        candidateEnd = Math.max(candidateEnd, end);
      }
    }
  }
  clock = candidateEnd;
  const fin = w.newPkt(`DNS result ${req.host}`, 'dns', 'response', 'dns-response', { ip: { version: family, src: nameserver, dst: srcIP, ttl: 64, df: false, length: 0, protocol: 'UDP' } }, 'udp', clock);
  const first = want === 'prefer6' || want === 6 ? 6 : 4;
  const address = res.addresses.find((a) => ipFamily(a) === first) ?? res.addresses[0];
  const both = res.addresses.some((a) => ipFamily(a) === 4) && res.addresses.some((a) => ipFamily(a) === 6);
  if (res.outcome !== 'found' || !address) {
    w.drop(fin, { element: el, node, netns }, 'nxdomain', res.outcome === 'forwarded' ? `${res.answeredBy ?? req.host} is outside the cluster domain: CoreDNS forwards it upstream, which the model does not follow.` : `every candidate name got NXDOMAIN: "${req.host}" does not resolve (getaddrinfo: Name or service not known)`);
    return { clock };
  }
  // getaddrinfo's list, in the order glibc sorts it (the chosen family first).
  const sorted = [...res.addresses.filter((a) => ipFamily(a) === first), ...res.addresses.filter((a) => ipFamily(a) !== first)];
  w.emit(fin, 'dns-result', { element: el, node, netns }, `${req.host} → ${sorted.join(', ')}`, `The resolver returns ${sorted.join(', ')} (answered for ${res.answeredBy}) after ${res.queries.length} quer${res.queries.length === 1 ? 'y' : 'ies'}. glibc does not cache: the next lookup asks again${ctx.topology.settings.dns.nodeLocalDNS ? ', but NodeLocal DNSCache on the node answers repeats from its cache' : ''}.`, 'pass', { category: 'dns' });
  return { clock, address, both };
}

interface DnsSent {
  q: QueryStep;
  n: number;
  dnsH: DnsHeader;
  pk: Pkt;
  serverPlace: Place;
  answer: DnsAnswer;
  nodeLocal: boolean;
}

/** One DNS query, first half: the UDP mini-walk to the nameserver (kube-dns Service or node-local-dns) and the server's answer. Null when dropped. */
function dnsSend(w: Walker, src: Place, srcIP: string, nameserver: string, port: number, q: QueryStep, n: number, clock: number, family: 4 | 6): DnsSent | null {
  const ctx = w.ctx;
  const id = Math.floor(w.rng() * 65535);
  const len = dnsQueryLength(q.qname);
  const dnsH: DnsHeader = { id, qr: false, qname: q.qname, qtype: q.qtype, answers: [], authority: 0, length: len };
  const el = src.kind === 'pod' ? podEl(src.pod) : src.kind === 'host' ? (src.pod ? podEl(src.pod) : nodeEl(src.node)) : '';
  const node = src.kind === 'external' ? '' : src.node;
  const label = `DNS query ${n} ${q.qtype} ${q.qname}`;
  const p = w.newPkt(label, 'dns', 'request', 'dns-query', {
    ip: { version: family, src: srcIP, dst: nameserver, ttl: 64, df: true, length: ipLength(family, { udpPayload: len }), protocol: 'UDP' },
    udp: { sport: port, dport: 53, length: 8 + len },
    dns: dnsH,
  }, 'udp', clock);
  const parallelNote = q.qtype === 'AAAA' && q.sending === 'parallel' ? ' It leaves right after the A query on the same socket (same 5-tuple), before the A answer: conntrack finds the unreplied entry the A query created, so nat chains are skipped and it follows the same DNAT — unless both race through conntrack on different CPUs, the insert_failed drop behind the classic 5-second DNS timeout (options single-request-reopen avoids it).' : '';
  w.emit(p, 'dns-query', { element: el, node, netns: src.kind === 'pod' ? `pod/${src.pod.namespace}/${src.pod.name}` : `node/${node}` }, `${q.qtype}? ${q.qname} → ${joinHP(nameserver, 53)} (id ${id}, port ${port})`, `glibc sends ${q.qtype}? ${q.qname} (${q.via === 'search' ? 'search-list expansion' : 'the name as written'}) to ${nameserver} from port ${port}, ${len} bytes.${parallelNote}`, 'pass', { latencyUs: q.qtype === 'AAAA' && q.sending === 'parallel' ? 1 : w.lat.socketUs, category: 'dns' });
  const nl = ctx.resolvConf(src.kind === 'pod' ? src.pod : { namespace: 'default', hostNetwork: true }).servedBy === 'node-local-dns';
  if (nl && src.kind !== 'external') {
    const r = nodeLocalQuery(w, p, src, node, q);
    if (!r) return null;
    return { q, n, dnsH, pk: r.pkt, serverPlace: r.at, answer: r.answer, nodeLocal: true };
  }
  if (w.socketLB && src.kind !== 'external') {
    const at: EventLocation = { element: el, node, netns: src.kind === 'pod' ? `pod/${src.pod.namespace}/${src.pod.name}` : `node/${node}` };
    if (!w.ciliumService(p, node, at, 'socket')) return null;
  }
  const sent = w.send(p, src);
  if (!sent.ok) return null;
  const pk = sent.pkt;
  const serverPlace = sent.at;
  const answer = ctx.dnsAnswer(q.qname, q.qtype);
  const sEl = serverPlace.kind === 'pod' ? podEl(serverPlace.pod) : serverPlace.kind === 'host' ? nodeEl(serverPlace.node) : serverPlace.ip;
  w.deliver(pk, serverPlace, `query reaches ${serverPlace.kind === 'pod' ? serverPlace.pod.name : sEl}:53`);
  const rr = answer.answer.map((a) => `${a.type} ${a.data}`).join(', ');
  w.emit(pk, 'dns-answer', { element: sEl, node: serverPlace.kind === 'external' ? undefined : serverPlace.node }, `CoreDNS: ${answer.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : rr || 'NODATA (NOERROR, no records)'} for ${q.qtype}? ${q.qname}`, `${answer.explain}.`, 'pass', { latencyUs: w.lat.dnsServerUs, category: 'dns', command: `kubectl -n kube-system logs -l k8s-app=kube-dns | grep "${q.qname}"` });
  return { q, n, dnsH, pk, serverPlace, answer, nodeLocal: false };
}

/** Second half: the answer's walk back to the resolver. Returns its end time, or null when dropped. */
function dnsReply(w: Walker, src: Place, d: DnsSent, family: 4 | 6): number | null {
  const ctx = w.ctx;
  const { pk, q, n, serverPlace } = d;
  if (serverPlace.kind === 'external') return pk.clock;
  const node = src.kind === 'external' ? '' : src.node;
  const resp = dnsResponseHeader(d.dnsH, d.answer);
  const rp = w.newPkt(`DNS response ${n} ${q.qtype} ${q.qname}`, 'dns', 'response', 'dns-response', {
    ip: { version: family, src: pk.h.ip.dst, dst: pk.h.ip.src, ttl: 64, df: true, length: ipLength(family, { udpPayload: resp.length }), protocol: 'UDP' },
    udp: { sport: 53, dport: pk.h.udp!.sport, length: 8 + resp.length },
    dns: resp,
  }, 'udp', pk.clock, { sockLB: pk.sockLB, bpfNat: pk.bpfNat });
  const what = resp.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : resp.answers.join(', ') || 'NODATA';
  if (d.nodeLocal && src.kind !== 'external') {
    const back = src.kind === 'pod' ? w.toLocalPod(rp, node, src.pod, ctx.podDp(src.pod).hostPeer, false) : ({ ok: true, at: src, pkt: rp } as Sent);
    if (!back.ok) return null;
    w.deliver(back.pkt, back.at, `answer ${what} for ${q.qtype}? ${q.qname} from ${joinHP(back.pkt.h.ip.src, 53)}`);
    return back.pkt.clock;
  }
  const back = w.send(rp, serverPlace);
  if (!back.ok) return null;
  w.deliver(back.pkt, back.at, `answer ${what} for ${q.qtype}? ${q.qname} from ${joinHP(back.pkt.h.ip.src, 53)}`);
  return back.pkt.clock;
}

/** A query to NodeLocal DNSCache on the pod's own node (169.254.20.10 or the kube-dns IP it also binds). */
function nodeLocalQuery(w: Walker, p: Pkt, src: Place, node: string, q: QueryStep): { pkt: Pkt; at: Place; answer: DnsAnswer } | null {
  const ctx = w.ctx;
  const netns = `node/${node}`;
  if (src.kind === 'pod') {
    const pdp = ctx.podDp(src.pod);
    const rt = ctx.route(pdp, p.h.ip.dst);
    w.emit(p, 'route', { element: podEl(src.pod), node, netns: `pod/${src.pod.namespace}/${src.pod.name}`, iface: 'eth0' }, `route in ${src.pod.name}: ${routeText(rt)}`, rt.explanation, 'forward', { rule: routeText(rt), latencyUs: w.lat.routeUs, category: 'dns' });
    w.setEth(p, w.macOf(pdp, 'eth0'), w.macOf(ctx.nodeDp(node), pdp.hostPeer));
    w.capture(p, node, `pod/${src.pod.namespace}/${src.pod.name}`, 'eth0', 'out');
    w.emit(p, 'veth', { element: podEl(src.pod), node, netns: `pod/${src.pod.namespace}/${src.pod.name}`, iface: 'eth0', to: nodeEl(node) }, `${src.pod.name} eth0 → ${pdp.hostPeer}`, 'The query crosses the veth pair into the node.', 'forward', { latencyUs: w.lat.vethUs, category: 'dns' });
    w.capture(p, node, netns, pdp.hostPeer, 'in');
  }
  const ip = p.h.ip.dst;
  const rules = [`-A PREROUTING -d ${ip}/32 -p udp -m udp --dport 53 -j NOTRACK`, `-A OUTPUT -s ${ip}/32 -p udp -m udp --sport 53 -j NOTRACK`, `-A INPUT -d ${ip}/32 -p udp -m udp --dport 53 -j ACCEPT`];
  w.emit(p, 'netfilter', { element: nodeEl(node), node, netns }, `raw PREROUTING: NOTRACK for ${ip}:53`, `node-local-dns binds ${ip} on its dummy interface "nodelocaldns" and installs NOTRACK rules in the raw table, so DNS to it skips conntrack (no DNAT, no conntrack race) and kube-proxy's KUBE-SERVICES rule for ${ip} is never used by pods on this node. (These rules belong to node-local-dns, not to the kube-proxy rule set the lab renders.)`, 'accept', { hook: 'PREROUTING', rules, rule: rules[0], latencyUs: w.lat.hookUs, category: 'dns', command: `iptables-save -t raw | grep ${ip}` });
  w.emit(p, 'route', { element: nodeEl(node), node, netns, iface: 'nodelocaldns' }, `route: ${ip} is local (nodelocaldns)`, `${ip} is an address of the node's nodelocaldns dummy device: local delivery.`, 'deliver', { rule: `local ${ip} dev nodelocaldns table local proto kernel scope host src ${ip}`, latencyUs: w.lat.routeUs, category: 'dns', command: `ip addr show nodelocaldns` });
  const cache = w.state.dnsCache(node);
  const r = cache.lookup(w.state.now, q.qname, q.qtype, () => ctx.dnsAnswer(q.qname, q.qtype));
  const at: EventLocation = { element: nodeEl(node), node, netns };
  const rr = r.answer.answer.map((a) => `${a.type} ${a.data} (ttl ${a.ttl})`).join(', ');
  const text = r.answer.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : rr || 'NODATA';
  if (r.hit) {
    w.emit(p, 'dns-answer', at, `node-local-dns cache hit: ${text}`, `NodeLocal DNSCache answers from its cache (${r.remaining} s left of ${r.answer.rcode === 'NOERROR' && r.answer.answer.length ? 'the 30 s success' : 'the 5 s denial'} cache). ${SEED_NOTES.nodeLocalCache}`, 'pass', { latencyUs: w.lat.nodeLocalHitUs, category: 'dns', command: 'kubectl -n kube-system logs -l k8s-app=node-local-dns' });
  } else {
    const upstream = w.lat.wireUs * 2 + w.lat.dnsServerUs + w.lat.encapUs * 2;
    w.emit(p, 'dns-answer', at, `node-local-dns miss → kube-dns-upstream: ${text}`, `Cache miss: node-local-dns forwards the query to CoreDNS through the kube-dns-upstream Service (force_tcp) and caches the answer (success up to 30 s, denial up to 5 s). ${SEED_NOTES.nodeLocalForward}`, 'pass', { latencyUs: w.lat.nodeLocalHitUs + upstream, category: 'dns', command: 'kubectl -n kube-system logs -l k8s-app=node-local-dns' });
  }
  return { pkt: p, at: { kind: 'host', node }, answer: r.answer };
}

function finish(w: Walker, req: TraceRequest, src: Place, srcIP: string, family: 4 | 6, target: TraceResult['target'], ok: boolean, ctx: TraceContext): TraceOutput {
  const events = w.events;
  // One pass: per-category latency of the non-DNS events; DNS is the time its last event ends.
  const sums: Partial<Record<LatencyCategory, number>> = {};
  let dnsUs = 0;
  let hasMesh = false;
  for (const e of events) {
    if (e.category === 'mesh') hasMesh = true;
    if (e.phase === 'dns') {
      if (e.timeUs > dnsUs) dnsUs = e.timeUs;
    } else sums[e.category] = (sums[e.category] ?? 0) + e.latencyUs;
  }
  const sum = (cat: LatencyCategory) => sums[cat] ?? 0;
  const serviceUs = sum('service');
  const meshUs = sum('mesh');
  const encapUs = sum('encap');
  const transitUs = sum('transit');
  const backendUs = sum('backend');
  const totalUs = dnsUs + serviceUs + meshUs + encapUs + transitUs + backendUs;
  const kinds = new Set(events.filter((e) => e.kind === 'encap').map((e) => /^(\S+) encapsulation/.exec(e.action)?.[1] ?? ''));
  const kind = [...kinds].filter(Boolean).join('/');
  const encapLabel = kind ? `${kind === 'IPIP' ? 'IPIP' : kind === 'GENEVE' ? 'Geneve' : kind} encap/decap` : 'Encap/decap (none)';
  const rows: [string, number][] = [
    ['DNS resolution', dnsUs],
    ['Service load balancing', serviceUs],
    ...(hasMesh ? [[CATEGORY_LABELS.mesh, meshUs] as [string, number]] : []),
    [encapLabel, encapUs],
    ['Network transit', transitUs],
    ['Backend processing', backendUs],
  ];
  const width = Math.max(24, ...rows.map(([l]) => l.length + 2));
  const line = (l: string, v: number) => `${`${l}:`.padEnd(width)}${formatUs(v).padStart(9)}`;
  const table = ['Component'.padEnd(width) + 'Time'.padStart(9), '─'.repeat(width + 9), ...rows.map(([l, v]) => line(l, v)), '─'.repeat(width + 9), line('Total', totalUs)].join('\n');
  const latency: LatencyBreakdown = { dnsUs: r3(dnsUs), serviceUs: r3(serviceUs), ...(hasMesh ? { meshUs: r3(meshUs) } : {}), encapUs: r3(encapUs), transitUs: r3(transitUs), backendUs: r3(backendUs), totalUs: r3(totalUs), encapLabel, table, note: LATENCY_NOTE };
  const conntrack: Record<string, string[]> = {};
  for (const n of [...w.state.conntrack.keys()].sort()) {
    const t = w.state.conntrack.get(n)!;
    const lines = t.list().filter((e) => !/^(192\.0\.2\.|198\.51\.100\.)/.test(e.orig.src)).map((e) => renderConntrackEntry(e, t.now));
    if (lines.length) conntrack[n] = lines;
  }
  const desc = ctx.cniDescription;
  for (const n of desc.seedNotes) if (/veth|\/26|VXLAN mode|24 per node|blocks/.test(n) && events.some((e) => e.kind === 'route')) w.notes.add(n);
  w.notes.add(LATENCY_NOTE);
  const srcNode = src.kind === 'external' ? '' : src.node;
  const ref = src.kind === 'pod' ? podRef(src.pod) : src.kind === 'host' ? (src.pod ? podRef(src.pod) : `node:${src.node}`) : src.ip;
  return {
    request: req,
    source: { ref, ip: srcIP, node: srcNode, hostNetwork: src.kind === 'host' },
    target,
    cni: { plugin: ctx.cni.plugin, mode: ctx.cni.mode, encapsulation: desc.encapsulation },
    kubeProxy: ctx.kubeProxyMode,
    family,
    events,
    ok: ok && !w.dropped,
    dropped: w.dropped,
    ...(w.httpStatus !== undefined ? { httpStatus: w.httpStatus } : {}),
    services: w.services,
    latency,
    conntrack,
    notes: [...w.notes],
    packets: w.packets,
    captures: w.captures,
    startSeconds: w.start,
  };
}

function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

