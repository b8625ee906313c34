// serviceLookup: what the node's Service data plane does to a packet — the
// packet walk (core/trace) calls it for a packet leaving a pod, sent by the
// node itself, or arriving at the node. It answers per kube-proxy mode:
//   iptables — the chains and rules traversed (evaluated on the node's rules),
//   ipvs     — the iptables/ipset marking plus the IPVS scheduling,
//   ebpf     — Cilium's service-map lookup (socket-LB for pods, tc for wire traffic),
// every possible endpoint with its probability, the one chosen (reproducibly),
// the DNAT and whether the packet is masqueraded.

import { canonicalIP, parseIP } from '../net';
import type { KubeProxyMode, Topology } from '../model/types';
import {
  type Endpoint,
  type EvalContext,
  IpvsState,
  type NatAction,
  type Packet,
  type RandomSource,
  RecentTable,
  type Ruleset,
  type TraceStep,
  type WalkResult,
  enumerateOutcomes,
  ipvsOutcomes,
  runHook,
  seededRandom,
  walkIncoming,
  walkLocalOut,
} from '../dataplane';
import type { ProxyEndpoint, ProxyServicePort } from './endpoints';
import { proxyServicePorts } from './endpoints';
import { nodeIptablesRuleset, type NodeRulesetOptions } from './iptables';
import { kubeProxyIpvs, type IpvsNode, type IpvsService } from './ipvs';
import { ciliumLookup, ciliumServiceMap, type CiliumFrontend } from './ebpf';
import { buildDataplane, masqueradeSource } from '../cni';

export interface ServicePacket {
  /** TCP/UDP/SCTP (any case). */
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport: number;
  /** A pod on this node, the node itself (host network / local process), or from outside the node. */
  origin: 'pod' | 'host' | 'external';
  inIface?: string;
}

export interface LookupStep {
  kind: 'iptables' | 'ipvs' | 'ebpf' | 'note';
  hook?: string;
  table?: string;
  chain?: string;
  /** 1-based rule number in the chain (iptables). */
  index?: number;
  text: string;
}

export interface ServiceOutcome {
  probability: number;
  /** DNAT: sent to an endpoint; REJECT/DROP: refused; NONE: not a Service address, untouched. */
  verdict: 'DNAT' | 'REJECT' | 'DROP' | 'NONE';
  endpoint?: { ip: string; port: number; nodeName?: string; pod?: { namespace: string; name: string }; local: boolean };
  dnat?: { from: Endpoint; to: Endpoint };
  /** The source is masqueraded (KUBE-MARK-MASQ → MASQUERADE, or Cilium SNAT). */
  masquerade: boolean;
  snatTo?: string;
  steps: LookupStep[];
  rulesEvaluated?: number;
  rejectWith?: string;
}

export interface ServiceLookupResult {
  mode: KubeProxyMode;
  node: string;
  /** The packet's destination is a Service address of this node's data plane. */
  matched: boolean;
  service?: { namespace: string; name: string; portName?: string; port: number; protocol: string; spn: string };
  /** Every outcome, with probabilities summing to 1. */
  outcomes: ServiceOutcome[];
  /** The outcome this packet takes (per opts.random / scheduler state). */
  chosen: ServiceOutcome;
  notes: string[];
}

export interface ServiceLookupOptions {
  /** Decides the chosen path (iptables statistic, eBPF random); default seededRandom(1). */
  random?: RandomSource;
  /** Session-affinity state (xt_recent); the chosen path updates it. */
  recent?: RecentTable;
  /** IPVS scheduler state (rr position, persistence); the chosen path updates it. */
  ipvsState?: IpvsState;
  /** Seconds, for affinity and persistence timeouts. */
  now?: number;
  kubeProxy?: NodeRulesetOptions;
  /** Reuse generated rules per topology object (default true; call clearServiceCache after mutating a topology). */
  cache?: boolean;
}

const cache = new WeakMap<Topology, Map<string, unknown>>();

function cached<T>(topo: Topology, key: string, use: boolean, make: () => T): T {
  if (!use) return make();
  let m = cache.get(topo);
  if (!m) cache.set(topo, (m = new Map()));
  if (!m.has(key)) m.set(key, make());
  return m.get(key) as T;
}

/** Forgets generated rules for a topology (after editing it in place). */
export function clearServiceCache(topo: Topology): void {
  cache.delete(topo);
}

function findServicePort(ports: ProxyServicePort[], p: ServicePacket, isLocal: (ip: string) => boolean): ProxyServicePort | undefined {
  const proto = p.proto.toLowerCase();
  const dst = canonicalIP(p.dst);
  return (
    ports.find((sp) => sp.protocol === proto && sp.port === p.dport && (sp.clusterIP === dst || sp.externalIPs.includes(dst) || sp.loadBalancerVIPs.includes(dst))) ??
    ports.find((sp) => sp.protocol === proto && sp.nodePort === p.dport && isLocal(dst))
  );
}

function endpointInfo(sp: ProxyServicePort | undefined, to: Endpoint, topo: Topology): ServiceOutcome['endpoint'] {
  const ep: ProxyEndpoint | undefined = sp?.endpoints.find((e) => e.ip === to.ip && e.port === to.port);
  let pod = ep?.targetRef ? { namespace: ep.targetRef.namespace, name: ep.targetRef.name } : undefined;
  if (!pod) {
    const p = topo.pods.find((x) => !x.hostNetwork && x.ips.includes(to.ip));
    if (p) pod = { namespace: p.namespace, name: p.name };
  }
  return { ip: to.ip, port: to.port ?? 0, nodeName: ep?.nodeName, pod, local: ep?.local ?? false };
}

function stepsOf(w: WalkResult): LookupStep[] {
  const out: LookupStep[] = [];
  for (const h of w.hooks) {
    for (const s of h.steps as TraceStep[]) out.push({ kind: 'iptables', hook: h.hook, table: s.table, chain: s.chain, index: s.index || undefined, text: s.text });
    for (const n of h.notes) out.push({ kind: 'note', hook: h.hook, text: n });
  }
  return out;
}

function natOf(w: WalkResult, kinds: NatAction['kind'][]): NatAction | undefined {
  for (const h of w.hooks) for (const n of h.nat) if (kinds.includes(n.kind)) return n;
  return undefined;
}

/**
 * What the Service data plane of `nodeName` does with a packet.
 * Mode comes from topology.settings.kubeProxy.mode.
 */
export function serviceLookup(topo: Topology, nodeName: string, packet: ServicePacket, opts: ServiceLookupOptions = {}): ServiceLookupResult {
  const mode = topo.settings.kubeProxy?.mode ?? 'iptables';
  const dstIP = parseIP(packet.dst);
  if (!dstIP) throw new Error(`serviceLookup: "${packet.dst}" is not an IP address`);
  const family = dstIP.family;
  const node = topo.nodes.find((n) => n.name === nodeName);
  if (!node) throw new Error(`serviceLookup: no node named "${nodeName}" in the topology (nodes: ${topo.nodes.map((n) => n.name).join(', ')})`);
  const nodeIPs = node.ips.filter((ip) => parseIP(ip)?.family === family).map(canonicalIP);
  const isLocal = (ip: string): boolean => {
    const c = canonicalIP(ip);
    return nodeIPs.includes(c) || c.startsWith('127.') || c === '::1';
  };
  const useCache = opts.cache ?? true;
  const ports = cached(topo, `ports|${nodeName}|${family}`, useCache, () => proxyServicePorts(topo, nodeName, family));
  const sp = findServicePort(ports, packet, isLocal);
  const service = sp ? { namespace: sp.namespace, name: sp.name, portName: sp.portName, port: sp.port, protocol: sp.Protocol, spn: sp.spn } : undefined;
  const notes: string[] = [];
  const base: Packet = {
    family,
    proto: packet.proto.toLowerCase(),
    src: canonicalIP(packet.src),
    dst: canonicalIP(packet.dst),
    sport: packet.sport ?? 40000,
    dport: packet.dport,
    mark: 0,
    ctstate: 'NEW',
    inIface: packet.origin === 'host' ? undefined : (packet.inIface ?? (packet.origin === 'pod' ? 'veth' : 'eth0')),
  };
  const route = (p: Packet) => ({ local: isLocal(p.dst), outIface: isLocal(p.dst) ? undefined : 'eth0' });
  // MASQUERADE takes the address of the device the translated packet leaves on (cni0's for a pod
  // hairpinned through Flannel's bridge), not always the node IP.
  const masqueradeAddress = (_out: string | undefined, _family: number, dst?: string): string | undefined =>
    (dst ? masqueradeSource(buildDataplane(topo).node(nodeName), dst) : undefined) ?? nodeIPs[0];

  if (mode === 'ebpf') return ebpfLookup(topo, nodeName, packet, base, nodeIPs, useCache, opts, notes);

  if (mode === 'ipvs') {
    const ipvs = cached(topo, `ipvs|${nodeName}|${family}`, useCache, () => kubeProxyIpvs(topo, nodeName, family, opts.kubeProxy ?? {}));
    return ipvsLookup(topo, nodeName, packet, base, ipvs, isLocal, masqueradeAddress, route, service, opts, notes);
  }

  const { ruleset } = cached(topo, `ipt|${nodeName}|${family}|${JSON.stringify(opts.kubeProxy ?? {})}`, useCache, () => nodeIptablesRuleset(topo, nodeName, family, opts.kubeProxy ?? {}));
  const walk = (random: RandomSource, recent: RecentTable): WalkResult => {
    const ctx: EvalContext = { isLocal, random, recent, now: opts.now ?? 0, masqueradeAddress };
    return packet.origin === 'host' ? walkLocalOut(ruleset, base, ctx, route) : walkIncoming(ruleset, base, ctx, route);
  };
  const toOutcome = (w: WalkResult, probability: number): ServiceOutcome => {
    const dnat = natOf(w, ['DNAT', 'REDIRECT']);
    const masq = natOf(w, ['MASQUERADE', 'SNAT']);
    const verdict = w.verdict === 'REJECT' || w.verdict === 'DROP' ? w.verdict : dnat ? 'DNAT' : 'NONE';
    return {
      probability,
      verdict,
      endpoint: dnat ? endpointInfo(sp, dnat.after, topo) : undefined,
      dnat: dnat ? { from: dnat.before, to: dnat.after } : undefined,
      masquerade: !!masq,
      snatTo: masq?.after.ip,
      steps: stepsOf(w),
      rulesEvaluated: w.hooks.reduce((a, h) => a + h.rulesEvaluated, 0),
      rejectWith: w.hooks.find((h) => h.rejectWith)?.rejectWith,
    };
  };
  const recent = opts.recent ?? new RecentTable();
  const outcomes = enumerateOutcomes((rnd) => walk(rnd, recent.clone())).map((o) => toOutcome(o.result, o.probability));
  const chosen = toOutcome(walk(opts.random ?? seededRandom(1), recent), 1);
  chosen.probability = outcomes.find((o) => o.dnat?.to.ip === chosen.dnat?.to.ip && o.dnat?.to.port === chosen.dnat?.to.port && o.verdict === chosen.verdict)?.probability ?? 1;
  return { mode, node: nodeName, matched: !!sp, service, outcomes, chosen, notes };
}

function ipvsLookup(
  topo: Topology,
  nodeName: string,
  packet: ServicePacket,
  base: Packet,
  ipvs: IpvsNode,
  isLocal: (ip: string) => boolean,
  masqueradeAddress: NonNullable<EvalContext['masqueradeAddress']>,
  route: (p: Packet) => { local: boolean; outIface?: string },
  service: ServiceLookupResult['service'],
  opts: ServiceLookupOptions,
  notes: string[],
): ServiceLookupResult {
  const rs: Ruleset = ipvs.ruleset;
  const P = packet.proto.toUpperCase();
  const vs: IpvsService | undefined = ipvs.services.find((s) => s.proto === P && s.address === base.dst && s.port === base.dport);
  const bound = ipvs.boundAddresses.includes(base.dst);
  // The VIP is a local address (kube-ipvs0), so routing delivers the packet to INPUT, where IPVS takes it.
  const isLocalV = (ip: string): boolean => isLocal(ip) || ipvs.boundAddresses.includes(canonicalIP(ip));
  const ctx: EvalContext = { isLocal: isLocalV, ipsets: ipvs.ipsets, masqueradeAddress, now: opts.now ?? 0 };
  const first = runHook(rs, packet.origin === 'host' ? 'OUTPUT' : 'PREROUTING', base, ctx);
  const filt = packet.origin === 'host' ? first : runHook(rs, isLocalV(first.packet.dst) ? 'INPUT' : 'FORWARD', first.packet, ctx);
  const iptSteps = (hs: typeof first[]): LookupStep[] =>
    hs.flatMap((h) => [...h.steps.map((s) => ({ kind: 'iptables' as const, hook: h.hook, table: s.table, chain: s.chain, index: s.index || undefined, text: s.text })), ...h.notes.map((n) => ({ kind: 'note' as const, hook: h.hook, text: n }))]);
  const hooks = packet.origin === 'host' ? [first] : [first, filt];
  if (!vs) {
    const verdict = filt.verdict === 'REJECT' || filt.verdict === 'DROP' ? filt.verdict : 'NONE';
    const o: ServiceOutcome = { probability: 1, verdict, masquerade: false, steps: iptSteps(hooks), rejectWith: filt.rejectWith };
    if (bound) notes.push(`${base.dst} is bound to kube-ipvs0 but no virtual server listens on ${P} port ${base.dport}; KUBE-IPVS-FILTER rejects new connections to it`);
    return { mode: 'ipvs', node: nodeName, matched: false, service, outcomes: [o], chosen: o, notes };
  }
  const client = { ip: base.src, port: base.sport, dst: base.dst };
  const build = (dest: { address: string; port: number }, probability: number, reason: string): ServiceOutcome => {
    const after = { ...filt.packet, dst: dest.address, dport: dest.port, ctDnat: true };
    const post = runHook(rs, 'POSTROUTING', { ...after, outIface: route(after).outIface }, ctx);
    const masq = post.nat.find((n) => n.kind === 'MASQUERADE' || n.kind === 'SNAT');
    return {
      probability,
      verdict: 'DNAT',
      endpoint: endpointInfo(vs.servicePort, { ip: dest.address, port: dest.port }, topo),
      dnat: { from: { ip: base.dst, port: base.dport }, to: { ip: dest.address, port: dest.port } },
      masquerade: !!masq,
      snatTo: masq?.after.ip,
      steps: [
        ...iptSteps(hooks),
        { kind: 'ipvs', text: `IPVS ${vs.proto}  ${vs.address.includes(':') ? `[${vs.address}]` : vs.address}:${vs.port} ${vs.scheduler}${vs.persistent ? ` persistent ${vs.persistent}` : ''} -> ${dest.address}:${dest.port} Masq (${reason})` },
        ...iptSteps([post]),
      ],
    };
  };
  const all = ipvsOutcomes(vs, client);
  if (!all.length) {
    const o: ServiceOutcome = { probability: 1, verdict: 'DROP', masquerade: false, steps: [...iptSteps(hooks), { kind: 'ipvs', text: `IPVS ${vs.proto} ${vs.address}:${vs.port} has no real servers: the connection is not answered (no ICMP reject as in iptables mode)` }] };
    return { mode: 'ipvs', node: nodeName, matched: true, service, outcomes: [o], chosen: o, notes };
  }
  const outcomes = all.map((o) => build(o.dest, o.probability, o.reason));
  const st = opts.ipvsState ?? new IpvsState();
  const pick = st.schedule(vs, client, opts.now ?? 0);
  const chosen = pick.dest ? build(pick.dest, all.find((o) => o.dest === pick.dest)?.probability ?? 1, pick.reason) : outcomes[0];
  return { mode: 'ipvs', node: nodeName, matched: true, service, outcomes, chosen, notes };
}

function ebpfLookup(
  topo: Topology,
  nodeName: string,
  packet: ServicePacket,
  base: Packet,
  nodeIPs: string[],
  useCache: boolean,
  opts: ServiceLookupOptions,
  notes: string[],
): ServiceLookupResult {
  const map: CiliumFrontend[] = cached(topo, `cilium|${nodeName}`, useCache, () => ciliumServiceMap(topo, nodeName));
  const f = ciliumLookup(map, base.dst, base.dport!, packet.proto);
  if (!f) {
    const o: ServiceOutcome = { probability: 1, verdict: 'NONE', masquerade: false, steps: [{ kind: 'ebpf', text: `LB lookup ${base.dst}:${base.dport}/${packet.proto.toUpperCase()}: no frontend in the service map` }] };
    return { mode: 'ebpf', node: nodeName, matched: false, outcomes: [o], chosen: o, notes };
  }
  const sp = f.servicePort;
  const service = { namespace: sp.namespace, name: sp.name, portName: sp.portName, port: sp.port, protocol: sp.Protocol, spn: sp.spn };
  const active = f.backends.filter((b) => b.state === 'active');
  const usable = active.length ? active : f.backends;
  const socketLB = packet.origin !== 'external';
  const head: LookupStep =
    socketLB
      ? { kind: 'ebpf', text: `bpf_sock (cgroup/connect${base.family === 4 ? '4' : '6'}): socket-LB looks up ${f.address}:${f.port}/${f.proto} (service ID ${f.id}, ${f.type}) and rewrites the destination at connect(); packets on the wire already carry the backend address (no DNAT, no nf_conntrack NAT entry)` }
      : { kind: 'ebpf', text: `bpf_host (tc ingress): LB lookup ${f.address}:${f.port}/${f.proto} → service ID ${f.id} (${f.type}); DNAT to the selected backend, reverse NAT ID ${f.id} kept in the BPF CT map` };
  if (!usable.length) {
    const o: ServiceOutcome = { probability: 1, verdict: 'DROP', masquerade: false, steps: [head, { kind: 'ebpf', text: `service ID ${f.id} has no backends${f.localOnly ? ' on this node (traffic policy Local)' : ''}: dropped (DROP_NO_SERVICE, "Service backend not found")` }] };
    return { mode: 'ebpf', node: nodeName, matched: true, service, outcomes: [o], chosen: o, notes };
  }
  const build = (i: number, probability: number): ServiceOutcome => {
    const b = usable[i];
    const snat = !socketLB && !f.localOnly && !b.endpoint.local;
    return {
      probability,
      verdict: 'DNAT',
      endpoint: endpointInfo(sp, { ip: b.address, port: b.port }, topo),
      dnat: { from: { ip: base.dst, port: base.dport }, to: { ip: b.address, port: b.port } },
      masquerade: snat,
      snatTo: snat ? nodeIPs[0] : undefined,
      steps: [
        head,
        { kind: 'ebpf', text: `backend ${i + 1} of ${usable.length}: ${b.address}:${b.port} (${b.state}), chosen at random (loadBalancer.algorithm=random)` },
        ...(snat ? [{ kind: 'ebpf' as const, text: `remote backend: SNAT to the node address ${nodeIPs[0] ?? ''} (loadBalancer.mode=snat) so the reply returns through this node` }] : []),
      ],
    };
  };
  const outcomes = usable.map((_, i) => build(i, 1 / usable.length));
  const rnd = opts.random ?? seededRandom(1);
  let pick = usable.length - 1;
  for (let i = 0; i < usable.length - 1; i++) {
    if (rnd.decide(1 / (usable.length - i), { table: 'nat', chain: `cilium-lb-${f.id}`, index: i + 1 })) {
      pick = i;
      break;
    }
  }
  return { mode: 'ebpf', node: nodeName, matched: true, service, outcomes, chosen: build(pick, 1 / usable.length), notes };
}
