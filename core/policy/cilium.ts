// Cilium-style data plane: security identities from label sets, a policy map
// per endpoint keyed by (identity, direction, protocol, destination port
// prefix), the datapath's lookup order, and `cilium bpf policy get` output.
//
// Followed (cilium/cilium, read via the search tool):
// - reserved identities 1 host, 2 world, 3 unmanaged, 4 health, 5 init,
//   6 remote-node, 7 kube-apiserver, 8 ingress; cluster-local identities
//   from 256; CIDR identities are node-local, 1<<24 + n (16777217...);
// - pod identity labels: k8s:<label>=<value>, k8s:io.kubernetes.pod.namespace,
//   k8s:io.cilium.k8s.namespace.labels.<label>, k8s:io.cilium.k8s.policy.serviceaccount,
//   k8s:io.cilium.k8s.policy.cluster=default;
// - policy map key (pkg/maps/policymap): LPM over protocol (8 bits) and
//   destination port (16 bits); identity 0 = any peer, protocol 0 = any,
//   port prefix < 16 = a port range block; PREFIX column = bits after the
//   static 40 (0, 8, 9..24);
// - lookup precedence (bpf/lib/policy.h): 1 id/proto/port, 2 ANY/proto/port,
//   3 id/proto/ANY, 4 ANY/proto/ANY, 5 id/ANY/ANY, 6 ANY/ANY/ANY, else drop;
// - an endpoint selected by no policy in a direction has enforcement
//   disabled there (one allow-all entry); with enforcement on, reserved:host
//   is allowed in (allow-localhost=auto);
// - `cilium bpf policy get` columns and Go tabwriter(minwidth 5, padding 3).
//
// Approximations: numeric cluster identities are assigned in sorted label
// order (a real cluster allocates them through CiliumIdentity objects);
// endpoint IDs are derived from a hash of the pod name; egress named ports
// are resolved against the pods of each selected identity (Cilium resolves
// them against every endpoint's port names, which can over-allow); CIDR
// identities print `cidr:<prefix>` and `reserved:world`.
// CIDR rules never select pods or nodes (they have identities), so this data
// plane agrees with the semantic evaluator in ipBlockClusterIPs: 'ignore' mode.

import { Cidr, parseIP, type IP } from '../net';
import { selectorMatches } from '../model/labels';
import type { PodModel, Protocol } from '../model/types';
import { hex, sha1 } from '../hash';
import {
  buildContext,
  effectiveTypes,
  ipBlockContains,
  namespaceLabels,
  parseIpBlock,
  podKey,
  policySelectsPod,
  queryFamily,
  resolveEndpoint,
  rulesOf,
  type PolicyContext,
  type PolicyTopology,
} from './semantics';
import { tabwrite } from './tabwriter';
import { PolicyInputError, type Direction, type Endpoint, type ReachQuery } from './types';

export const ID_UNKNOWN = 0;
export const ID_HOST = 1;
export const ID_WORLD = 2;
export const ID_REMOTE_NODE = 6;
export const CIDR_IDENTITY_BASE = 1 << 24;

/** Labels Cilium's default label filter leaves out of identities (pkg/labelsfilter). */
const IGNORED_IDENTITY_LABELS = /^(pod-template-hash|pod-template-generation|controller-revision-hash|controller-uid|job-name|batch\.kubernetes\.io\/.*|statefulset\.kubernetes\.io\/.*|apps\.kubernetes\.io\/.*)$/;

const PROTO_NUM: Record<Protocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };
const PROTO_NAME: Record<number, string> = { 0: 'ANY', 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

export interface Identity {
  id: number;
  labels: string[];
}

export interface PolicyMapEntry {
  identity: number;
  direction: Direction;
  /** 0 = any protocol */
  proto: number;
  /** Port block start (0 when wildcarded). */
  port: number;
  /** Prefix bits over protocol+port: 0 (any), 8 (protocol, any port), 9..24 (port block). */
  prefix: number;
  /** Why the entry exists, e.g. `prod/db-policy ingress rule 0 peer 1`. */
  origin: string;
}

export interface LookupResult {
  allowed: boolean;
  /** Precedence step that matched (1..6), 0 when nothing did. */
  step: number;
  entry?: PolicyMapEntry;
  text: string;
}

/** Splits [lo, hi] into LPM port blocks: [start, portPrefixLen]. */
export function portBlocks(lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  let p = lo;
  while (p <= hi) {
    let size = 1;
    let bits = 16;
    while (bits > 0 && p % (size * 2) === 0 && p + size * 2 - 1 <= hi) {
      size *= 2;
      bits--;
    }
    out.push([p, bits]);
    p += size;
  }
  return out;
}

export class CiliumDataplane {
  readonly ctx: PolicyContext;
  readonly identities = new Map<number, Identity>();
  private readonly podIdentity = new Map<PodModel, number>();
  /** CIDR prefixes used by any ipBlock, each with its identity. */
  private readonly cidrs: { cidr: Cidr; id: number }[] = [];
  private readonly maps = new Map<PodModel, PolicyMapEntry[]>();
  readonly endpointIds = new Map<PodModel, number>();

  constructor(topology: PolicyTopology) {
    this.ctx = buildContext(topology, { ipBlockClusterIPs: 'ignore' });
    const reserved: [number, string][] = [
      [1, 'reserved:host'],
      [2, 'reserved:world'],
      [3, 'reserved:unmanaged'],
      [4, 'reserved:health'],
      [5, 'reserved:init'],
      [6, 'reserved:remote-node'],
      [7, 'reserved:kube-apiserver'],
      [8, 'reserved:ingress'],
    ];
    for (const [id, l] of reserved) this.identities.set(id, { id, labels: [l] });
    // Cluster identities.
    const byKey = new Map<string, PodModel[]>();
    for (const p of topology.pods) {
      if (p.hostNetwork) continue;
      const key = this.labelsOf(p).join('\n');
      const list = byKey.get(key);
      if (list) list.push(p);
      else byKey.set(key, [p]);
    }
    [...byKey.keys()].sort().forEach((key, i) => {
      const id = 256 + i;
      this.identities.set(id, { id, labels: key.split('\n') });
      for (const p of byKey.get(key)!) this.podIdentity.set(p, id);
    });
    // CIDR identities.
    const seen = new Set<string>();
    for (const pol of topology.networkPolicies)
      for (const dir of ['Ingress', 'Egress'] as const)
        for (const r of rulesOf(pol, dir))
          for (const peer of r.peers ?? []) {
            const b = parseIpBlock(this.ctx, peer);
            if (!b) continue;
            for (const c of [b.cidr, ...b.except]) {
              if (seen.has(c.text) || c.prefix === 0) continue;
              seen.add(c.text);
              const id = CIDR_IDENTITY_BASE + 1 + this.cidrs.length;
              this.cidrs.push({ cidr: c, id });
              this.identities.set(id, { id, labels: [`cidr:${c.text}`, 'reserved:world'] });
            }
          }
    // Endpoint IDs (1..4095, stable per pod name).
    const used = new Set<number>();
    for (const p of [...topology.pods].filter((x) => !x.hostNetwork).sort((a, b) => (podKey(a) < podKey(b) ? -1 : 1))) {
      let id = (parseInt(hex(sha1(podKey(p))).slice(0, 6), 16) % 4095) + 1;
      while (used.has(id)) id = (id % 4095) + 1;
      used.add(id);
      this.endpointIds.set(p, id);
    }
  }

  private labelsOf(p: PodModel): string[] {
    const l: string[] = [];
    // Cilium's default identity-relevant label filter drops controller bookkeeping labels.
    for (const [k, v] of Object.entries(p.labels)) if (!IGNORED_IDENTITY_LABELS.test(k)) l.push(`k8s:${k}=${v}`);
    for (const [k, v] of Object.entries(namespaceLabels(this.ctx, p.namespace))) l.push(`k8s:io.cilium.k8s.namespace.labels.${k}=${v}`);
    l.push('k8s:io.cilium.k8s.policy.cluster=default');
    l.push(`k8s:io.cilium.k8s.policy.serviceaccount=${p.serviceAccountName || 'default'}`);
    l.push(`k8s:io.kubernetes.pod.namespace=${p.namespace}`);
    return l.sort();
  }

  identityOfPod(p: PodModel): number {
    return this.podIdentity.get(p) ?? ID_WORLD;
  }

  /** ipcache: the identity of a peer as seen by an endpoint on `localNode`. */
  identityOf(e: Endpoint, localNode: string): number {
    if (e.kind === 'pod') return this.identityOfPod(e.pod);
    if (e.kind === 'host') return e.nodeName === localNode ? ID_HOST : ID_REMOTE_NODE;
    const ip = parseIP(e.ip);
    if (!ip) return ID_WORLD;
    let best: { cidr: Cidr; id: number } | null = null;
    for (const c of this.cidrs) if (c.cidr.contains(ip) && (!best || c.cidr.prefix > best.cidr.prefix)) best = c;
    return best ? best.id : ID_WORLD;
  }

  /** Identities selected by a peer of a policy in namespace `ns`. */
  private peerIdentities(peer: NonNullable<ReturnType<typeof rulesOf>[number]['peers']>[number], ns: string): number[] {
    if (peer.ipBlock) {
      const b = parseIpBlock(this.ctx, peer);
      if (!b) return [];
      const ids: number[] = [];
      const inside = (c: Cidr): boolean => b.cidr.containsCidr(c) && !b.except.some((e) => e.containsCidr(c));
      if (b.cidr.prefix === 0) ids.push(ID_WORLD);
      for (const c of this.cidrs) if (inside(c.cidr)) ids.push(c.id);
      return ids;
    }
    const ids = new Set<number>();
    for (const [pod, id] of this.podIdentity) {
      if (peer.namespaceSelector) {
        if (!selectorMatches(peer.namespaceSelector, namespaceLabels(this.ctx, pod.namespace))) continue;
      } else if (pod.namespace !== ns) continue;
      if (peer.podSelector && !selectorMatches(peer.podSelector, pod.labels)) continue;
      ids.add(id);
    }
    return [...ids];
  }

  /** The policy map of one endpoint (a non-hostNetwork pod). */
  policyMap(pod: PodModel): PolicyMapEntry[] {
    const hit = this.maps.get(pod);
    if (hit) return hit;
    const entries: PolicyMapEntry[] = [];
    const keys = new Set<string>();
    const add = (e: PolicyMapEntry): void => {
      const k = `${e.identity}/${e.direction}/${e.proto}/${e.port}/${e.prefix}`;
      if (keys.has(k)) return;
      keys.add(k);
      entries.push(e);
    };
    for (const dir of ['Ingress', 'Egress'] as const) {
      const pols = this.ctx.policies.filter((p) => {
        const t = effectiveTypes(p);
        return (dir === 'Ingress' ? t.ingress : t.egress) && policySelectsPod(p, pod);
      });
      if (pols.length === 0) {
        add({ identity: ID_UNKNOWN, direction: dir, proto: 0, port: 0, prefix: 0, origin: `policy enforcement disabled (${dir})` });
        continue;
      }
      if (dir === 'Ingress') add({ identity: ID_HOST, direction: dir, proto: 0, port: 0, prefix: 0, origin: 'allow-localhost (reserved:host)' });
      for (const p of pols) {
        rulesOf(p, dir).forEach((r, ri) => {
          const peerIds: { id: number; peer: number | null; pods: PodModel[] }[] = [];
          if (!r.peers || r.peers.length === 0) peerIds.push({ id: ID_UNKNOWN, peer: null, pods: [] });
          else
            r.peers.forEach((peer, pi) => {
              for (const id of this.peerIdentities(peer, p.namespace)) {
                const pods = [...this.podIdentity].filter(([, x]) => x === id).map(([pp]) => pp);
                peerIds.push({ id, peer: pi, pods });
              }
            });
          const origin = (peer: number | null): string => `${p.namespace}/${p.name} ${dir.toLowerCase()} rule ${ri}${peer !== null ? ` peer ${peer}` : ''}`;
          for (const pid of peerIds) {
            if (!r.ports || r.ports.length === 0) {
              add({ identity: pid.id, direction: dir, proto: 0, port: 0, prefix: 0, origin: origin(pid.peer) });
              continue;
            }
            for (const pe of r.ports) {
              const proto = PROTO_NUM[pe.protocol ?? 'TCP'];
              if (pe.port === undefined || pe.port === null) {
                add({ identity: pid.id, direction: dir, proto, port: 0, prefix: 8, origin: origin(pid.peer) });
              } else if (typeof pe.port === 'number') {
                for (const [start, bits] of portBlocks(pe.port, pe.endPort ?? pe.port)) {
                  add({ identity: pid.id, direction: dir, proto, port: start, prefix: 8 + bits, origin: origin(pid.peer) });
                }
              } else {
                // Named port: ingress resolves on this endpoint; egress on the selected peers.
                const targets = dir === 'Ingress' ? [pod] : pid.id === ID_UNKNOWN ? [...this.podIdentity.keys()] : pid.pods;
                const nums = new Set<number>();
                for (const t of targets) {
                  const cp = t.ports.find((c) => c.name === pe.port && c.protocol === (pe.protocol ?? 'TCP'));
                  if (cp) nums.add(cp.containerPort);
                }
                if (dir === 'Egress' && pid.id === ID_UNKNOWN) {
                  // Any peer: only pods have named ports, so key the entries by their identities.
                  for (const t of targets) {
                    const cp = t.ports.find((c) => c.name === pe.port && c.protocol === (pe.protocol ?? 'TCP'));
                    if (cp) add({ identity: this.identityOfPod(t), direction: dir, proto, port: cp.containerPort, prefix: 24, origin: origin(pid.peer) });
                  }
                } else {
                  for (const n of nums) add({ identity: pid.id, direction: dir, proto, port: n, prefix: 24, origin: origin(pid.peer) });
                }
              }
            }
          }
        });
      }
    }
    this.maps.set(pod, entries);
    return entries;
  }

  /** The datapath lookup (bpf/lib/policy.h __policy_can_access precedence). */
  lookup(pod: PodModel, dir: Direction, remoteId: number, dport: number, protocol: Protocol): LookupResult {
    const entries = this.policyMap(pod);
    const proto = PROTO_NUM[protocol];
    // LPM over (protocol, port) for one identity.
    const lpm = (id: number): PolicyMapEntry | undefined => {
      let best: PolicyMapEntry | undefined;
      for (const e of entries) {
        if (e.identity !== id || e.direction !== dir) continue;
        if (e.prefix >= 8 && e.proto !== proto) continue;
        if (e.prefix > 8) {
          const bits = e.prefix - 8;
          const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
          if ((dport & mask) !== (e.port & mask)) continue;
        }
        if (!best || e.prefix > best.prefix) best = e;
      }
      return best;
    };
    const l3 = lpm(remoteId);
    const l4 = remoteId === ID_UNKNOWN ? l3 : lpm(ID_UNKNOWN);
    const steps: [number, PolicyMapEntry | undefined, boolean][] = [
      [1, l3, !!l3 && l3.prefix > 8],
      [2, l4, !!l4 && l4.prefix > 8],
      [3, l3, !!l3 && l3.prefix >= 8],
      [4, l4, !!l4 && l4.prefix >= 8],
      [5, l3, !!l3],
      [6, l4, !!l4],
    ];
    const names = ['', 'L3/L4 (id/proto/port)', 'L4-only (ANY/proto/port)', 'L3-proto (id/proto/ANY)', 'proto-only (ANY/proto/ANY)', 'L3-only (id/ANY/ANY)', 'allow-all (ANY/ANY/ANY)'];
    for (const [step, e, ok] of steps) {
      if (ok && e) return { allowed: true, step, entry: e, text: `${dir} lookup for identity ${remoteId} ${dport}/${protocol}: match ${step} ${names[step]} (${e.origin})` };
    }
    return { allowed: false, step: 0, text: `${dir} lookup for identity ${remoteId} ${dport}/${protocol}: no entry, DROP (Policy denied)` };
  }

  verdict(q: ReachQuery): { allowed: boolean; egress?: LookupResult; ingress?: LookupResult } {
    const fam = q.family ?? queryFamily(this.ctx, q.from, q.to);
    const src = resolveEndpoint(this.ctx, q.from, fam);
    const dst = resolveEndpoint(this.ctx, q.to, fam);
    const protocol = q.protocol ?? 'TCP';
    if (src.kind === 'pod' && dst.kind === 'pod' && src.pod === dst.pod) return { allowed: true };
    let egress: LookupResult | undefined;
    if (src.kind === 'pod') {
      egress = this.lookup(src.pod, 'Egress', this.identityOf(dst, src.pod.nodeName), q.port, protocol);
      if (!egress.allowed) return { allowed: false, egress };
    }
    let ingress: LookupResult | undefined;
    if (dst.kind === 'pod') {
      ingress = this.lookup(dst.pod, 'Ingress', this.identityOf(src, dst.pod.nodeName), q.port, protocol);
      if (!ingress.allowed) return { allowed: false, egress, ingress };
    }
    return { allowed: true, egress, ingress };
  }

  /** Endpoints on a node, for `cilium endpoint list`-style listings. */
  endpointsOn(node: string): { id: number; pod: PodModel; identity: number }[] {
    const out: { id: number; pod: PodModel; identity: number }[] = [];
    for (const [pod, id] of this.endpointIds) if (pod.nodeName === node) out.push({ id, pod, identity: this.identityOfPod(pod) });
    return out.sort((a, b) => a.id - b.id);
  }

  /**
   * `cilium bpf policy get <endpoint>` for one endpoint, as cilium-dbg 1.16
   * prints it (POLICY DIRECTION LABELS PORT/PROTO PROXY PORT AUTH TYPE BYTES
   * PACKETS PREFIX; 1.17+ adds a COOKIE column, not rendered). Counters are 0.
   */
  renderPolicyGet(pod: PodModel): string {
    const entries = [...this.policyMap(pod)].sort((a, b) => {
      const da = a.direction === 'Ingress' ? 0 : 1;
      const db = b.direction === 'Ingress' ? 0 : 1;
      if (da !== db) return da - db;
      if (a.identity !== b.identity) return a.identity - b.identity;
      if (a.proto !== b.proto) return a.proto - b.proto;
      return a.port - b.port || a.prefix - b.prefix;
    });
    const rows: string[] = ['POLICY\tDIRECTION\tLABELS (source:key[=value])\tPORT/PROTO\tPROXY PORT\tAUTH TYPE\tBYTES\tPACKETS\tPREFIX'];
    for (const e of entries) {
      const port = portProtoString(e);
      const labels = e.identity === ID_UNKNOWN ? ['ANY'] : (this.identities.get(e.identity)?.labels ?? [String(e.identity)]);
      labels.forEach((l, i) => {
        if (i === 0) rows.push(['Allow', e.direction, l, port, 'NONE', 'disabled', '0', '0', String(e.prefix)].join('\t'));
        else rows.push(`\t\t${l}\t\t\t\t\t\t`);
      });
    }
    return tabwrite(rows.join('\n') + '\n', 5, 3);
  }
}

/** policymap PolicyKey.PortProtoString */
export function portProtoString(e: Pick<PolicyMapEntry, 'proto' | 'port' | 'prefix'>): string {
  const proto = PROTO_NAME[e.proto] ?? String(e.proto);
  if (e.prefix === 0 || e.prefix === 8) return proto;
  if (e.prefix < 24) return `0x${e.port.toString(16)}/${e.prefix - 8}/${proto}`;
  return `${e.port}/${proto}`;
}

export function buildCiliumDataplane(topology: PolicyTopology): CiliumDataplane {
  return new CiliumDataplane(topology);
}

/** Resolve an `ns/pod` reference to the pod for rendering commands. */
export function findPod(topology: PolicyTopology, ref: string): PodModel {
  const pod = topology.pods.find((p) => podKey(p) === ref);
  if (!pod) throw new PolicyInputError(`no pod "${ref}"`, 'write namespace/pod');
  if (pod.hostNetwork) throw new PolicyInputError(`${ref} is host-networked: it is not a Cilium endpoint and has no policy map`);
  return pod;
}

export { ipBlockContains, type IP };
