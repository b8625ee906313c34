// The compiled (fast) evaluator. compilePolicies() precomputes, per pod, the
// rules of the policies that isolate it in each direction, and per rule the
// set of peer pods as a bitset over pod indexes; label sets are interned so
// each selector is evaluated once per distinct (namespace, labels) identity.
// A verdict is then a handful of bit tests; a whole matrix for one port is
// row operations: allowed(s, *) = egressAllowedTo[s] AND transpose(ingressAllowedFrom)[s].
//
// Semantics are exactly those of semantics.ts; property.test.ts checks this
// evaluator against the naive one on random clusters.

import { parseIP, type IP } from '../net';
import { selectorMatches } from '../model/labels';
import type { LabelSelector, NetworkPolicyModel, PodModel, Protocol } from '../model/types';
import { naiveAllowedEndpoints } from './naive';
import {
  buildContext,
  effectiveTypes,
  ipBlockContains,
  namespaceLabels,
  parseIpBlock,
  podKey,
  queryFamily,
  resolveEndpoint,
  rulesOf,
  type ParsedIpBlock,
  type PolicyContext,
  type PolicyTopology,
} from './semantics';
import { evaluateWith } from './naive';
import type { Direction, Endpoint, EvalOptions, ReachQuery, Verdict } from './types';

export type Bitset = Uint32Array;

export function bitsetWords(n: number): number {
  return (n + 31) >>> 5;
}
export function bitGet(b: Bitset, i: number): boolean {
  return (b[i >>> 5] & (1 << (i & 31))) !== 0;
}
export function bitSet(b: Bitset, i: number): void {
  b[i >>> 5] |= 1 << (i & 31);
}
function orInto(dst: Bitset, src: Bitset): void {
  for (let i = 0; i < dst.length; i++) dst[i] |= src[i];
}
function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
export function bitCount(b: Bitset): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) n += popcount32(b[i]);
  return n;
}

const PROTO: Record<Protocol, number> = { TCP: 0, UDP: 1, SCTP: 2 };

interface CPort {
  proto: number;
  lo: number;
  hi: number;
}

interface CRule {
  policy: number;
  ruleIndex: number;
  allPeers: boolean;
  /** Pods matched by podSelector/namespaceSelector peers (never hostNetwork pods). */
  peerPods: Bitset | null;
  ipBlocks: ParsedIpBlock[];
  /** Pods whose v4 / v6 address is inside one of ipBlocks (ipBlockClusterIPs = match). */
  ipBlockPods4: Bitset | null;
  ipBlockPods6: Bitset | null;
  allPorts: boolean;
  ports: CPort[];
  /** Named ports: protocol code + name. */
  named: { proto: number; name: string }[];
}

export interface CompileStats {
  pods: number;
  identities: number;
  policies: number;
  rules: number;
  selectorEvaluations: number;
  peerSets: number;
  ms: number;
}

export class CompiledPolicies {
  readonly ctx: PolicyContext;
  /** Pods in index order (sorted by namespace, then name). */
  readonly pods: PodModel[];
  readonly podIndex: Map<PodModel, number>;
  /** "namespace/name" -> index */
  readonly keyIndex: Map<string, number>;
  readonly words: number;
  readonly stats: CompileStats;
  /** Per pod: isolated for ingress / egress, and the rules that can allow. */
  readonly ingressIsolated: Uint8Array;
  readonly egressIsolated: Uint8Array;
  readonly ingressRules: CRule[][];
  readonly egressRules: CRule[][];
  private readonly namedPorts: Map<string, number>[];
  private readonly ip4: (number | null)[];
  private readonly ip6: (IP | null)[];
  private readonly hostPod: Uint8Array;

  constructor(topology: PolicyTopology, opts: EvalOptions = {}) {
    const t0 = Date.now();
    const ctx = buildContext(topology, opts);
    this.ctx = ctx;
    const pods = [...topology.pods].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.pods = pods;
    const n = pods.length;
    this.words = bitsetWords(n);
    this.podIndex = new Map(pods.map((p, i) => [p, i]));
    this.keyIndex = new Map(pods.map((p, i) => [podKey(p), i]));
    this.hostPod = new Uint8Array(n);
    this.ip4 = new Array(n).fill(null);
    this.ip6 = new Array(n).fill(null);
    this.namedPorts = pods.map((p) => {
      const m = new Map<string, number>();
      for (const cp of p.ports) if (cp.name && !m.has(`${PROTO[cp.protocol]}/${cp.name}`)) m.set(`${PROTO[cp.protocol]}/${cp.name}`, cp.containerPort);
      return m;
    });
    pods.forEach((p, i) => {
      if (p.hostNetwork) this.hostPod[i] = 1;
      for (const s of p.ips) {
        const ip = parseIP(s);
        if (!ip) continue;
        if (ip.family === 4 && this.ip4[i] === null) this.ip4[i] = ip.value;
        if (ip.family === 6 && this.ip6[i] === null) this.ip6[i] = ip;
      }
    });

    // Namespace ranges (pods are sorted by namespace).
    const nsRange = new Map<string, [number, number]>();
    pods.forEach((p, i) => {
      const r = nsRange.get(p.namespace);
      if (r) r[1] = i + 1;
      else nsRange.set(p.namespace, [i, i + 1]);
    });
    const namespaces = [...new Set([...ctx.nsLabels.keys()])];

    // Intern (namespace, labels) identities.
    const identityOf = new Int32Array(n);
    const identityLabels: Record<string, string>[] = [];
    const identityKey = new Map<string, number>();
    pods.forEach((p, i) => {
      const key = JSON.stringify(Object.keys(p.labels).sort().map((k) => [k, p.labels[k]]));
      let id = identityKey.get(key);
      if (id === undefined) {
        id = identityLabels.length;
        identityLabels.push(p.labels);
        identityKey.set(key, id);
      }
      identityOf[i] = id;
    });

    let selectorEvaluations = 0;
    const selKey = (s: LabelSelector): string => JSON.stringify([Object.entries(s.matchLabels ?? {}).sort(), s.matchExpressions ?? []]);
    // selector key -> per identity 0 unknown / 1 no / 2 yes
    const podSelCache = new Map<string, Uint8Array>();
    const podSelMatches = (sel: LabelSelector, key: string, podIdx: number): boolean => {
      let c = podSelCache.get(key);
      if (!c) {
        c = new Uint8Array(identityLabels.length);
        podSelCache.set(key, c);
      }
      const id = identityOf[podIdx];
      if (c[id] === 0) {
        selectorEvaluations++;
        c[id] = selectorMatches(sel, identityLabels[id]) ? 2 : 1;
      }
      return c[id] === 2;
    };
    const nsSelCache = new Map<string, string[]>();
    const namespacesMatching = (sel: LabelSelector, key: string): string[] => {
      let hit = nsSelCache.get(key);
      if (!hit) {
        hit = namespaces.filter((ns) => {
          selectorEvaluations++;
          return selectorMatches(sel, namespaceLabels(ctx, ns));
        });
        nsSelCache.set(key, hit);
      }
      return hit;
    };

    const peerSetCache = new Map<string, Bitset>();
    const podsMatching = (nsList: string[], podSel: LabelSelector | undefined, cacheKey: string): Bitset => {
      let b = peerSetCache.get(cacheKey);
      if (b) return b;
      b = new Uint32Array(this.words);
      const pk = podSel ? selKey(podSel) : '';
      for (const ns of nsList) {
        const r = nsRange.get(ns);
        if (!r) continue;
        for (let i = r[0]; i < r[1]; i++) {
          if (this.hostPod[i]) continue;
          if (podSel && !podSelMatches(podSel, pk, i)) continue;
          bitSet(b, i);
        }
      }
      peerSetCache.set(cacheKey, b);
      return b;
    };

    const ipBlockPodCache = new Map<string, [Bitset | null, Bitset | null]>();
    const ipBlockPods = (blocks: ParsedIpBlock[]): [Bitset | null, Bitset | null] => {
      const key = blocks.map((b) => `${b.cidr.text}-${b.except.map((e) => e.text).join(',')}`).join('|');
      let hit = ipBlockPodCache.get(key);
      if (hit) return hit;
      let b4: Bitset | null = null;
      let b6: Bitset | null = null;
      for (let i = 0; i < n; i++) {
        if (this.hostPod[i]) continue;
        const v4 = this.ip4[i];
        if (v4 !== null && blocks.some((b) => ipBlockContains(b, { family: 4, value: v4 }))) {
          b4 ??= new Uint32Array(this.words);
          bitSet(b4, i);
        }
        const v6 = this.ip6[i];
        if (v6 !== null && blocks.some((b) => ipBlockContains(b, v6))) {
          b6 ??= new Uint32Array(this.words);
          bitSet(b6, i);
        }
      }
      hit = [b4, b6];
      ipBlockPodCache.set(key, hit);
      return hit;
    };

    this.ingressIsolated = new Uint8Array(n);
    this.egressIsolated = new Uint8Array(n);
    this.ingressRules = Array.from({ length: n }, () => []);
    this.egressRules = Array.from({ length: n }, () => []);
    let ruleCount = 0;

    const compileRules = (p: NetworkPolicyModel, pi: number, dir: Direction): CRule[] =>
      rulesOf(p, dir).map((r, ruleIndex) => {
        ruleCount++;
        const allPeers = !r.peers || r.peers.length === 0;
        let peerPods: Bitset | null = null;
        const ipBlocks: ParsedIpBlock[] = [];
        if (!allPeers) {
          for (const peer of r.peers!) {
            if (peer.ipBlock) {
              const b = parseIpBlock(ctx, peer);
              if (b) ipBlocks.push(b);
              continue;
            }
            const nsList = peer.namespaceSelector ? namespacesMatching(peer.namespaceSelector, selKey(peer.namespaceSelector)) : [p.namespace];
            const key = `${peer.namespaceSelector ? `nsSel:${selKey(peer.namespaceSelector)}` : `ns:${p.namespace}`}|${peer.podSelector ? selKey(peer.podSelector) : '*'}`;
            const b = podsMatching(nsList, peer.podSelector, key);
            if (!peerPods) peerPods = b;
            else {
              const u = new Uint32Array(this.words);
              orInto(u, peerPods);
              orInto(u, b);
              peerPods = u;
            }
          }
        }
        const [b4, b6] = ipBlocks.length && ctx.mode === 'match' ? ipBlockPods(ipBlocks) : [null, null];
        const allPorts = !r.ports || r.ports.length === 0;
        const ports: CPort[] = [];
        const named: { proto: number; name: string }[] = [];
        for (const pe of r.ports ?? []) {
          const proto = PROTO[pe.protocol ?? 'TCP'];
          if (pe.port === undefined || pe.port === null) ports.push({ proto, lo: 0, hi: 65535 });
          else if (typeof pe.port === 'number') ports.push({ proto, lo: pe.port, hi: pe.endPort ?? pe.port });
          else named.push({ proto, name: pe.port });
        }
        return { policy: pi, ruleIndex, allPeers, peerPods, ipBlocks, ipBlockPods4: b4, ipBlockPods6: b6, allPorts, ports, named };
      });

    topology.networkPolicies.forEach((p, pi) => {
      const t = effectiveTypes(p);
      if (!t.ingress && !t.egress) return;
      const r = nsRange.get(p.namespace);
      if (!r) return;
      const selected: number[] = [];
      const pk = selKey(p.podSelector);
      for (let i = r[0]; i < r[1]; i++) if (!this.hostPod[i] && podSelMatches(p.podSelector, pk, i)) selected.push(i);
      if (selected.length === 0) return;
      const ing = t.ingress ? compileRules(p, pi, 'Ingress') : [];
      const eg = t.egress ? compileRules(p, pi, 'Egress') : [];
      for (const i of selected) {
        if (t.ingress) {
          this.ingressIsolated[i] = 1;
          for (const cr of ing) this.ingressRules[i].push(cr);
        }
        if (t.egress) {
          this.egressIsolated[i] = 1;
          for (const cr of eg) this.egressRules[i].push(cr);
        }
      }
    });

    this.stats = {
      pods: n,
      identities: identityLabels.length,
      policies: topology.networkPolicies.length,
      rules: ruleCount,
      selectorEvaluations,
      peerSets: peerSetCache.size,
      ms: Date.now() - t0,
    };
  }

  // -------------------------------------------------------------------------
  // Single verdicts

  private portOk(r: CRule, dstPod: number, port: number, proto: number): boolean {
    if (r.allPorts) return true;
    for (const p of r.ports) if (p.proto === proto && port >= p.lo && port <= p.hi) return true;
    if (dstPod >= 0 && r.named.length) {
      const m = this.namedPorts[dstPod];
      for (const nm of r.named) if (nm.proto === proto && m.get(`${proto}/${nm.name}`) === port) return true;
    }
    return false;
  }

  /** Peer test for a pod peer at index `peer`, family of the connection `fam`. */
  private podPeerOk(r: CRule, peer: number, fam: 4 | 6): boolean {
    if (r.allPeers) return true;
    if (r.peerPods && (r.peerPods[peer >>> 5] & (1 << (peer & 31))) !== 0) return true;
    const b = fam === 4 ? r.ipBlockPods4 : r.ipBlockPods6;
    return !!b && (b[peer >>> 5] & (1 << (peer & 31))) !== 0;
  }

  /** Peer test for a non-pod address (node or external). */
  private addrPeerOk(r: CRule, ip: IP | null, isCluster: boolean): boolean {
    if (r.allPeers) return true;
    if (!ip || r.ipBlocks.length === 0) return false;
    if (isCluster && this.ctx.mode === 'ignore') return false;
    for (const b of r.ipBlocks) if (ipBlockContains(b, ip)) return true;
    return false;
  }

  /** Pod-to-pod verdict by index: O(rules of the two pods). */
  allowedPods(src: number, dst: number, port: number, protocol: Protocol, fam: 4 | 6 = 4): boolean {
    if (src === dst) return true;
    if (this.hostPod[src] || this.hostPod[dst]) return this.allowed(this.endpointOf(src, fam), this.endpointOf(dst, fam), port, protocol);
    const proto = PROTO[protocol];
    if (this.egressIsolated[src]) {
      let ok = false;
      for (const r of this.egressRules[src]) {
        if (this.podPeerOk(r, dst, fam) && this.portOk(r, dst, port, proto)) {
          ok = true;
          break;
        }
      }
      if (!ok) return false;
    }
    if (this.ingressIsolated[dst]) {
      for (const r of this.ingressRules[dst]) {
        if (this.podPeerOk(r, src, fam) && this.portOk(r, dst, port, proto)) return true;
      }
      return false;
    }
    return true;
  }

  private endpointOf(i: number, fam: 4 | 6): Endpoint {
    return resolveEndpoint(this.ctx, podKey(this.pods[i]), fam);
  }

  /** Verdict for resolved endpoints (any kind). */
  allowed(src: Endpoint, dst: Endpoint, port: number, protocol: Protocol): boolean {
    const si = src.kind === 'pod' ? this.podIndex.get(src.pod)! : -1;
    const di = dst.kind === 'pod' ? this.podIndex.get(dst.pod)! : -1;
    if (si >= 0 && di >= 0) {
      const fam = src.ip.includes(':') ? 6 : 4;
      return this.allowedPods(si, di, port, protocol, fam);
    }
    const proto = PROTO[protocol];
    const dstIP = dst.ip ? parseIP(dst.ip) : null;
    const srcIP = src.ip ? parseIP(src.ip) : null;
    if (si >= 0 && this.egressIsolated[si]) {
      // dst is a node or an external address.
      let ok = false;
      for (const r of this.egressRules[si]) {
        if (this.addrPeerOk(r, dstIP, dst.kind === 'host') && this.portOk(r, -1, port, proto)) {
          ok = true;
          break;
        }
      }
      if (!ok) return false;
    }
    if (di < 0) return true;
    if (src.kind === 'host' && src.nodeName === this.pods[di].nodeName) return true;
    if (!this.ingressIsolated[di]) return true;
    for (const r of this.ingressRules[di]) {
      if (this.addrPeerOk(r, srcIP, src.kind === 'host') && this.portOk(r, di, port, proto)) return true;
    }
    return false;
  }

  /** Verdict for a query with string endpoints. */
  verdict(q: ReachQuery): boolean {
    // Fast path: two non-host pods by name, same family available.
    const si = this.keyIndex.get(q.from);
    const di = si === undefined ? undefined : this.keyIndex.get(q.to);
    if (si !== undefined && di !== undefined && !this.hostPod[si] && !this.hostPod[di]) {
      if (q.family !== 6 && this.ip4[si] !== null && this.ip4[di] !== null) return this.allowedPods(si, di, q.port, q.protocol ?? 'TCP', 4);
      if (q.family !== 4 && this.ip6[si] !== null && this.ip6[di] !== null) return this.allowedPods(si, di, q.port, q.protocol ?? 'TCP', 6);
    }
    const fam = q.family ?? queryFamily(this.ctx, q.from, q.to);
    const src = resolveEndpoint(this.ctx, q.from, fam);
    const dst = resolveEndpoint(this.ctx, q.to, fam);
    return this.allowed(src, dst, q.port, q.protocol ?? 'TCP');
  }

  /** Full explanation (delegates to the naive evaluator over the same context). */
  explain(q: ReachQuery): Verdict {
    return evaluateWith(this.ctx, q);
  }

  // -------------------------------------------------------------------------
  // Matrix

  /**
   * The allowed matrix for one port over all pods, as one bitset row per
   * source pod (index order of `pods`). Pod-to-pod pairs use bitset row
   * operations; rows and columns of hostNetwork pods go through allowed().
   */
  matrix(port: number, protocol: Protocol = 'TCP'): Bitset[] {
    const n = this.pods.length;
    const W = this.words;
    const proto = PROTO[protocol];
    const all = new Uint32Array(W).fill(0xffffffff);
    if (n & 31) all[W - 1] = (1 << (n & 31)) - 1;
    // Family: v4 when every non-host pod has one; else v6 when all have v6; else per-pair fallback.
    let fam: 4 | 6 | null = 4;
    for (let i = 0; i < n; i++) if (!this.hostPod[i] && this.ip4[i] === null) fam = null;
    if (fam === null) {
      fam = 6;
      for (let i = 0; i < n; i++) if (!this.hostPod[i] && this.ip6[i] === null) fam = null;
    }
    if (fam === null) return this.matrixSlow(port, protocol);

    // Destinations whose named port (proto/name) resolves to `port`.
    const namedCache = new Map<string, Bitset>();
    const namedDst = (name: string): Bitset => {
      let b = namedCache.get(name);
      if (!b) {
        b = new Uint32Array(W);
        for (let i = 0; i < n; i++) if (this.namedPorts[i].get(`${proto}/${name}`) === port) bitSet(b, i);
        namedCache.set(name, b);
      }
      return b;
    };
    const peerBits = (r: CRule): Bitset => {
      if (r.allPeers) return all;
      const ib = fam === 4 ? r.ipBlockPods4 : r.ipBlockPods6;
      if (!ib) return r.peerPods ?? new Uint32Array(W);
      if (!r.peerPods) return ib;
      const u = new Uint32Array(W);
      orInto(u, r.peerPods);
      orInto(u, ib);
      return u;
    };

    // Egress: rows over destinations.
    const rows: Bitset[] = new Array(n);
    const tmp = new Uint32Array(W);
    for (let s = 0; s < n; s++) {
      const row = new Uint32Array(W);
      if (this.hostPod[s]) {
        rows[s] = row;
        continue;
      }
      if (!this.egressIsolated[s]) row.set(all);
      else {
        for (const r of this.egressRules[s]) {
          // ports -> destination set
          let portAll = r.allPorts;
          if (!portAll) for (const p of r.ports) if (p.proto === proto && port >= p.lo && port <= p.hi) portAll = true;
          const pb = peerBits(r);
          if (portAll) {
            orInto(row, pb);
          } else if (r.named.length) {
            tmp.fill(0);
            for (const nm of r.named) if (nm.proto === proto) orInto(tmp, namedDst(nm.name));
            for (let w = 0; w < W; w++) row[w] |= pb[w] & tmp[w];
          }
        }
      }
      rows[s] = row;
    }
    // Ingress: per destination, the set of allowed sources; AND into the transposed position.
    for (let d = 0; d < n; d++) {
      if (this.hostPod[d] || !this.ingressIsolated[d]) continue;
      const from = new Uint32Array(W);
      for (const r of this.ingressRules[d]) {
        if (!this.portOk(r, d, port, proto)) continue;
        orInto(from, peerBits(r));
      }
      // Clear bit d in rows[s] for every s not in `from`.
      const dw = d >>> 5;
      const mask = ~(1 << (d & 31));
      for (let w = 0; w < W; w++) {
        let notFrom = ~from[w];
        if (w === W - 1 && n & 31) notFrom &= (1 << (n & 31)) - 1;
        while (notFrom !== 0) {
          const b = notFrom & -notFrom;
          const s = (w << 5) + (31 - Math.clz32(b));
          rows[s][dw] &= mask;
          notFrom ^= b;
        }
      }
    }
    // Loopback and hostNetwork rows/columns.
    for (let s = 0; s < n; s++) bitSet(rows[s], s);
    for (let i = 0; i < n; i++) {
      if (!this.hostPod[i]) continue;
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const a = this.allowedPods(i, j, port, protocol, fam);
        if (a) bitSet(rows[i], j);
        else rows[i][j >>> 5] &= ~(1 << (j & 31));
        const b = this.allowedPods(j, i, port, protocol, fam);
        if (b) bitSet(rows[j], i);
        else rows[j][i >>> 5] &= ~(1 << (i & 31));
      }
    }
    return rows;
  }

  private matrixSlow(port: number, protocol: Protocol): Bitset[] {
    const n = this.pods.length;
    const rows: Bitset[] = [];
    for (let s = 0; s < n; s++) {
      const row = new Uint32Array(this.words);
      for (let d = 0; d < n; d++) {
        const fam = queryFamily(this.ctx, podKey(this.pods[s]), podKey(this.pods[d])) ?? 4;
        if (this.allowedPods(s, d, port, protocol, fam)) bitSet(row, d);
      }
      rows.push(row);
    }
    return rows;
  }
}

export function compilePolicies(topology: PolicyTopology, opts: EvalOptions = {}): CompiledPolicies {
  return new CompiledPolicies(topology, opts);
}

/** Boolean naive verdict on resolved endpoints, re-exported for tests and benchmarks. */
export { naiveAllowedEndpoints };
