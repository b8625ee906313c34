// NetworkPolicy semantics (networking.k8s.io/v1) shared by every evaluator:
// endpoint resolution, policyTypes defaults, peer and port matching. The
// naive evaluator (naive.ts) uses these directly; the compiled evaluator,
// the Calico-style iptables data plane and the Cilium-style map are checked
// against it.

import { Cidr, canonicalIP, ipFamily, parseIP, type IP } from '../net';
import { formatSelector, selectorMatches } from '../model/labels';
import type {
  ContainerPort,
  LabelSelector,
  NetworkPolicyModel,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NodeModel,
  PodModel,
  Protocol,
  Topology,
} from '../model/types';
import { PolicyInputError, type Direction, type Endpoint, type EvalOptions, type IpBlockClusterMode } from './types';

export const NS_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The minimum a policy evaluator needs from a topology. */
export type PolicyTopology = Pick<Topology, 'namespaces' | 'pods' | 'networkPolicies'> & {
  nodes?: NodeModel[];
};

export interface ParsedIpBlock {
  cidr: Cidr;
  except: Cidr[];
  text: string;
}

/** Indexes over a topology that all evaluators share. */
export interface PolicyContext {
  topology: PolicyTopology;
  mode: IpBlockClusterMode;
  nsLabels: Map<string, Record<string, string>>;
  podByKey: Map<string, PodModel>;
  /** canonical IP -> non-hostNetwork pod */
  podByIP: Map<string, PodModel>;
  nodeByName: Map<string, NodeModel>;
  /** canonical IP -> node */
  nodeByIP: Map<string, NodeModel>;
  policies: NetworkPolicyModel[];
  /** Parsed ipBlocks, keyed by the peer object. */
  ipBlocks: WeakMap<object, ParsedIpBlock | null>;
}

export function podKey(p: { namespace: string; name: string }): string {
  return `${p.namespace}/${p.name}`;
}

export function policyKey(p: NetworkPolicyModel): string {
  return `${p.namespace}/${p.name}`;
}

export function buildContext(topology: PolicyTopology, opts: EvalOptions = {}): PolicyContext {
  const nsLabels = new Map<string, Record<string, string>>();
  for (const ns of topology.namespaces) {
    nsLabels.set(ns.name, { [NS_NAME_LABEL]: ns.name, ...ns.labels });
  }
  const podByKey = new Map<string, PodModel>();
  const podByIP = new Map<string, PodModel>();
  for (const p of topology.pods) {
    podByKey.set(podKey(p), p);
    if (!nsLabels.has(p.namespace)) nsLabels.set(p.namespace, { [NS_NAME_LABEL]: p.namespace });
    if (!p.hostNetwork) for (const ip of p.ips) podByIP.set(safeCanonical(ip), p);
  }
  const nodeByName = new Map<string, NodeModel>();
  const nodeByIP = new Map<string, NodeModel>();
  for (const n of topology.nodes ?? []) {
    nodeByName.set(n.name, n);
    for (const ip of n.ips) nodeByIP.set(safeCanonical(ip), n);
  }
  return {
    topology,
    mode: opts.ipBlockClusterIPs ?? 'match',
    nsLabels,
    podByKey,
    podByIP,
    nodeByName,
    nodeByIP,
    policies: topology.networkPolicies,
    ipBlocks: new WeakMap(),
  };
}

function safeCanonical(ip: string): string {
  try {
    return canonicalIP(ip);
  } catch {
    return ip;
  }
}

export function namespaceLabels(ctx: PolicyContext, ns: string): Record<string, string> {
  return ctx.nsLabels.get(ns) ?? { [NS_NAME_LABEL]: ns };
}

// ---------------------------------------------------------------------------
// Endpoints

function pickIP(ips: string[], family: 4 | 6 | null): string {
  if (family) {
    const hit = ips.find((ip) => ipFamily(ip) === family);
    if (hit) return hit;
  }
  return ips[0] ?? '';
}

/**
 * Resolves `ns/pod`, `ip:ADDR` or `node:NAME`. A pod address resolves to the
 * pod, a node address to the node; anything else is external. hostNetwork
 * pods resolve to their node (kind `host`) and keep the pod for display.
 */
export function resolveEndpoint(ctx: PolicyContext, ref: string, family: 4 | 6 | null = null): Endpoint {
  if (ref.startsWith('ip:')) {
    const raw = ref.slice(3);
    if (!parseIP(raw)) throw new PolicyInputError(`"${raw}" in "${ref}" is not an IP address`, 'write ip:10.0.0.5 or ip:fd00::5');
    const ip = canonicalIP(raw);
    const pod = ctx.podByIP.get(ip);
    if (pod) return { kind: 'pod', ref, pod, ip };
    const node = ctx.nodeByIP.get(ip);
    if (node) return { kind: 'host', ref, nodeName: node.name, node, ip };
    return { kind: 'external', ref, ip };
  }
  if (ref.startsWith('node:')) {
    const name = ref.slice(5);
    const node = ctx.nodeByName.get(name);
    if (!node && !ctx.topology.pods.some((p) => p.nodeName === name)) {
      throw new PolicyInputError(`no node named "${name}"`, 'use node:<name> with a node from the topology');
    }
    return { kind: 'host', ref, nodeName: name, node, ip: node ? pickIP(node.ips, family) : '' };
  }
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) {
    throw new PolicyInputError(`"${ref}" is not an endpoint`, 'write namespace/pod, ip:ADDRESS or node:NAME');
  }
  const pod = ctx.podByKey.get(ref);
  if (!pod) throw new PolicyInputError(`no pod "${ref}"`, 'check the namespace and pod name');
  if (pod.hostNetwork) {
    const node = ctx.nodeByName.get(pod.nodeName);
    const ips = pod.ips.length ? pod.ips : (node?.ips ?? []);
    return { kind: 'host', ref, nodeName: pod.nodeName, node, ip: pickIP(ips, family), pod };
  }
  return { kind: 'pod', ref, pod, ip: pickIP(pod.ips, family) };
}

/** Chooses the address family for a query: the family of an ip: endpoint, else v4 when both ends have one. */
export function queryFamily(ctx: PolicyContext, from: string, to: string): 4 | 6 | null {
  for (const r of [to, from]) if (r.startsWith('ip:')) return ipFamily(r.slice(3));
  const ips = (r: string): string[] => {
    if (r.startsWith('node:')) return ctx.nodeByName.get(r.slice(5))?.ips ?? [];
    const p = ctx.podByKey.get(r);
    if (!p) return [];
    if (p.hostNetwork && p.ips.length === 0) return ctx.nodeByName.get(p.nodeName)?.ips ?? [];
    return p.ips;
  };
  const a = ips(from);
  const b = ips(to);
  for (const fam of [4, 6] as const) {
    if (a.some((ip) => ipFamily(ip) === fam) && b.some((ip) => ipFamily(ip) === fam)) return fam;
  }
  return null;
}

export function endpointText(e: Endpoint): string {
  if (e.kind === 'pod') return podKey(e.pod);
  if (e.kind === 'host') return e.pod ? `${podKey(e.pod)} (hostNetwork on ${e.nodeName})` : `node ${e.nodeName}${e.ip ? ` (${e.ip})` : ''}`;
  return e.ip;
}

// ---------------------------------------------------------------------------
// policyTypes

export interface EffectiveTypes {
  ingress: boolean;
  egress: boolean;
  /** policyTypes was absent or empty and the API-server default applied. */
  defaulted: boolean;
}

/** SetDefaults_NetworkPolicy: [Ingress], plus Egress when len(spec.egress) != 0. */
export function effectiveTypes(p: NetworkPolicyModel): EffectiveTypes {
  if (p.policyTypes && p.policyTypes.length > 0) {
    return { ingress: p.policyTypes.includes('Ingress'), egress: p.policyTypes.includes('Egress'), defaulted: false };
  }
  return { ingress: true, egress: (p.egress?.length ?? 0) > 0, defaulted: true };
}

export function policyAffects(p: NetworkPolicyModel, dir: Direction): boolean {
  const t = effectiveTypes(p);
  return dir === 'Ingress' ? t.ingress : t.egress;
}

/** A pod is a policy target only when it is in the policy's namespace, matches podSelector and is not hostNetwork. */
export function policySelectsPod(p: NetworkPolicyModel, pod: PodModel): boolean {
  return !pod.hostNetwork && pod.namespace === p.namespace && selectorMatches(p.podSelector, pod.labels);
}

export function rulesOf(p: NetworkPolicyModel, dir: Direction): { peers?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[] {
  if (dir === 'Ingress') return (p.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }));
  return (p.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
}

// ---------------------------------------------------------------------------
// Peers

export function parseIpBlock(ctx: PolicyContext | null, peer: NetworkPolicyPeer): ParsedIpBlock | null {
  if (!peer.ipBlock) return null;
  if (ctx) {
    const hit = ctx.ipBlocks.get(peer);
    if (hit !== undefined) return hit;
  }
  let parsed: ParsedIpBlock | null = null;
  const c = Cidr.tryParse(peer.ipBlock.cidr);
  if (c) {
    const except = (peer.ipBlock.except ?? []).map((e) => Cidr.tryParse(e)).filter((e): e is Cidr => !!e);
    parsed = { cidr: c, except, text: describeIpBlock(peer.ipBlock) };
  }
  if (ctx) ctx.ipBlocks.set(peer, parsed);
  return parsed;
}

function describeIpBlock(b: { cidr: string; except?: string[] }): string {
  return `ipBlock ${b.cidr}${b.except && b.except.length ? ` except ${b.except.join(',')}` : ''}`;
}

export function ipBlockContains(b: ParsedIpBlock, ip: IP): boolean {
  if (!b.cidr.contains(ip)) return false;
  for (const e of b.except) if (e.contains(ip)) return false;
  return true;
}

export function describePeer(peer: NetworkPolicyPeer): string {
  if (peer.ipBlock) return describeIpBlock(peer.ipBlock);
  const parts: string[] = [];
  if (peer.namespaceSelector) parts.push(`namespaceSelector ${formatSelector(peer.namespaceSelector)}`);
  if (peer.podSelector) parts.push(`podSelector ${formatSelector(peer.podSelector)}`);
  return parts.join(' + ') || 'empty peer';
}

export interface PeerMatch {
  matched: boolean;
  /** Why not (when !matched). */
  reason?: string;
  /** ipBlock matched a pod or node address. */
  ipBlockOnClusterIP?: boolean;
}

/**
 * Does `peer` (written in a policy of namespace `policyNs`) match endpoint `e`?
 * podSelector / namespaceSelector peers match only pods (not hostNetwork pods,
 * which are the node); ipBlock matches by address (see IpBlockClusterMode).
 */
export function peerMatches(ctx: PolicyContext, peer: NetworkPolicyPeer, policyNs: string, e: Endpoint): PeerMatch {
  return peerMatchesImpl(ctx, peer, policyNs, e, true);
}

/** Boolean form without reason strings (hot paths). */
export function peerMatchesFast(ctx: PolicyContext, peer: NetworkPolicyPeer, policyNs: string, e: Endpoint): boolean {
  return peerMatchesImpl(ctx, peer, policyNs, e, false).matched;
}

const NO: PeerMatch = { matched: false };

function peerMatchesImpl(ctx: PolicyContext, peer: NetworkPolicyPeer, policyNs: string, e: Endpoint, explain: boolean): PeerMatch {
  if (peer.ipBlock) {
    const b = parseIpBlock(ctx, peer);
    if (!b) return explain ? { matched: false, reason: `${describePeer(peer)} is not a valid CIDR` } : NO;
    const ip = e.ip ? parseIP(e.ip) : null;
    if (!ip) return explain ? { matched: false, reason: `${endpointText(e)} has no address of this family` } : NO;
    const inside = ipBlockContains(b, ip);
    if (!inside) {
      const why = b.cidr.contains(ip) ? `${e.ip} is excluded by except` : `${e.ip} is outside ${b.cidr.text}`;
      return explain ? { matched: false, reason: `${describePeer(peer)}: ${why}` } : NO;
    }
    if (e.kind !== 'external' && ctx.mode === 'ignore') {
      return explain ? { matched: false, reason: `${describePeer(peer)} contains ${e.ip}, but ipBlock does not apply to cluster addresses in this mode (Cilium)` } : NO;
    }
    return { matched: true, ipBlockOnClusterIP: e.kind !== 'external' };
  }
  if (e.kind !== 'pod') {
    return explain ? { matched: false, reason: `${describePeer(peer)} selects pods only; ${endpointText(e)} is not a pod` } : NO;
  }
  const pod = e.pod;
  if (peer.namespaceSelector) {
    const nsl = namespaceLabels(ctx, pod.namespace);
    if (!selectorMatches(peer.namespaceSelector, nsl)) {
      return explain ? { matched: false, reason: `${describePeer(peer)}: namespace ${pod.namespace} does not match namespaceSelector ${formatSelector(peer.namespaceSelector)}` } : NO;
    }
  } else if (pod.namespace !== policyNs) {
    return explain ? { matched: false, reason: `${describePeer(peer)} selects pods in namespace ${policyNs} only; ${podKey(pod)} is in ${pod.namespace}` } : NO;
  }
  if (peer.podSelector && !selectorMatches(peer.podSelector, pod.labels)) {
    return explain ? { matched: false, reason: `peer (${describePeer(peer)}) does not select ${podKey(pod)}` } : NO;
  }
  return { matched: true };
}

// ---------------------------------------------------------------------------
// Ports

export function portProtocol(p: NetworkPolicyPort): Protocol {
  return p.protocol ?? 'TCP';
}

/** Resolves a named port on a pod: the containerPort whose name and protocol match. */
export function resolveNamedPort(pod: PodModel, name: string, protocol: Protocol): ContainerPort | undefined {
  return pod.ports.find((cp) => cp.name === name && cp.protocol === protocol);
}

export interface PortMatch {
  matched: boolean;
  reason?: string;
}

/**
 * Does port entry `p` include `port/protocol` at destination `dst`? Named
 * ports resolve against the destination pod's container ports; a destination
 * that is not a pod has no named ports.
 */
export function portEntryMatches(p: NetworkPolicyPort, dst: Endpoint, port: number, protocol: Protocol): PortMatch {
  const proto = portProtocol(p);
  if (proto !== protocol) return { matched: false, reason: `protocol ${proto} is not ${protocol}` };
  if (p.port === undefined || p.port === null) return { matched: true };
  if (typeof p.port === 'number') {
    const hi = p.endPort ?? p.port;
    if (port >= p.port && port <= hi) return { matched: true };
    return { matched: false, reason: p.endPort !== undefined ? `${port} is outside ${p.port}-${p.endPort}` : `${port} is not ${p.port}` };
  }
  // Named port (strings that are all digits are numbers in the API; the loader converts them).
  if (dst.kind !== 'pod') {
    return { matched: false, reason: `named port "${p.port}" cannot match ${endpointText(dst)} (not a pod, it declares no container ports)` };
  }
  const cp = resolveNamedPort(dst.pod, p.port, proto);
  if (!cp) return { matched: false, reason: `${podKey(dst.pod)} declares no ${proto} port named "${p.port}"` };
  if (cp.containerPort !== port) return { matched: false, reason: `named port "${p.port}" is ${cp.containerPort}/${proto} on ${podKey(dst.pod)}, not ${port}` };
  return { matched: true };
}

export function describePortEntry(p: NetworkPolicyPort): string {
  const proto = portProtocol(p);
  if (p.port === undefined) return `all ${proto} ports`;
  if (typeof p.port === 'number' && p.endPort !== undefined) return `${p.port}-${p.endPort}/${proto}`;
  return `${p.port}/${proto}`;
}

export function describeSelector(sel: LabelSelector): string {
  return formatSelector(sel);
}

/** Boolean form of portEntryMatches (hot paths). */
export function portEntryMatchesFast(p: NetworkPolicyPort, dst: Endpoint, port: number, protocol: Protocol): boolean {
  if ((p.protocol ?? 'TCP') !== protocol) return false;
  if (p.port === undefined || p.port === null) return true;
  if (typeof p.port === 'number') return port >= p.port && port <= (p.endPort ?? p.port);
  if (dst.kind !== 'pod') return false;
  const cp = resolveNamedPort(dst.pod, p.port, protocol);
  return !!cp && cp.containerPort === port;
}
