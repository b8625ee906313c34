// TraceContext: everything a walk needs that depends only on the topology,
// built once and reused by every walk — node and pod data planes, address
// indexes, compiled netfilter rule sets, Service frontends, the policy
// engines, CoreDNS answers and resolv.conf per namespace.
//
// Rule sets are shared between nodes whose kube-proxy input is the same:
// kube-proxy writes identical nat/filter rules on every node except for
// Services with a Local traffic policy (their SVL/EXT chains list only the
// node's own endpoints) and, in IPVS mode, the per-node KUBE-LOOP-BACK set.
// nodeClassKey captures exactly those differences; context.test.ts checks
// that nodes with equal keys get identical iptables-restore documents.

import { Cidr, PrefixTable } from '../net';
import { canonicalIP, parseIP } from './ipcache';
import type { NodeModel, PodModel, ServiceModel, Topology } from '../model/types';
import { buildDataplane, cniModelFor, encapsulate, routeLookup, tunnelSourcePort, type Encapsulation, type InnerPacket, type ClusterDataplane, type CniDescription, type CniModel, type EncapsulationKind, type NetNamespace, type NodeDataplane, type PodDataplane, type RouteLookup } from '../cni';
import { IpsetStore, newRuleset, type Ruleset } from '../dataplane';
import { ciliumServiceMap, kubeProxyIpvs, nodeIptablesRuleset, type CiliumFrontend, type IpvsService } from '../kubeproxy';
import { buildCalicoDataplane, buildCiliumDataplane, buildContext, evaluateWith, mergeFelixRules, type CalicoDataplane, type CiliumDataplane, type PolicyContext, type Verdict } from '../policy';
import { CoreDns, podResolvConf, resolveName, type DnsAnswer, type Resolution, type ResolvConf } from '../dns';
import { compileRuleset, type CompiledRuleset } from './netfilter';
import { GenerationalMemo } from './memo';

/** Entries per generation of the context's hook memo (at most twice this many are kept). */
export const HOOK_MEMO_GENERATION = 20000;

/** Where an address lives. */
export type Place = { kind: 'pod'; pod: PodModel; node: string } | { kind: 'host'; node: string; pod?: PodModel } | { kind: 'external'; ip: string };

export interface NodeNetfilter {
  kind: 'iptables' | 'ipvs' | 'none';
  compiled: CompiledRuleset;
  ruleset: Ruleset;
  ipsets?: IpsetStore;
  ipvs?: { services: IpvsService[]; boundAddresses: string[]; byKey: Map<string, IpvsService> };
  /** Nodes sharing this rule set. */
  sharedBy: string[];
}

const contexts = new WeakMap<Topology, TraceContext>();

/** The context for a topology, built on first use and cached (treat the topology as immutable). */
export function traceContext(topology: Topology): TraceContext {
  let c = contexts.get(topology);
  if (!c) {
    c = new TraceContext(topology);
    contexts.set(topology, c);
  }
  return c;
}

function externallyAccessible(s: ServiceModel): boolean {
  return s.type === 'LoadBalancer' || s.type === 'NodePort' || s.externalIPs.length > 0;
}

/**
 * What makes kube-proxy's rules on `node` differ from other nodes: the local
 * endpoints of Services with a Local traffic policy (iptables and eBPF
 * modes); in IPVS mode every node differs (KUBE-LOOP-BACK lists local endpoints).
 */
export function nodeClassKey(topology: Topology, node: string): string {
  if (topology.settings.kubeProxy?.mode === 'ipvs') return `node:${node}`;
  const parts: string[] = [];
  for (const s of topology.services) {
    const local = s.internalTrafficPolicy === 'Local' || (s.externalTrafficPolicy === 'Local' && externallyAccessible(s));
    if (!local) continue;
    const eps: string[] = [];
    for (const sl of topology.endpointSlices) {
      if (sl.namespace !== s.namespace || sl.serviceName !== s.name) continue;
      for (const e of sl.endpoints) if (e.nodeName === node) eps.push(...e.addresses);
    }
    parts.push(`${s.namespace}/${s.name}=${eps.sort().join(',')}`);
  }
  return parts.join(';');
}

export class TraceContext {
  readonly topology: Topology;
  readonly cni: CniModel;
  readonly dp: ClusterDataplane;
  readonly podByIP = new Map<string, PodModel>();
  readonly podByKey = new Map<string, PodModel>();
  readonly nodeByIP = new Map<string, NodeModel>();
  readonly nodeByName = new Map<string, NodeModel>();
  /** Service addresses (ClusterIPs, externalIPs, LB IPs) → Service. */
  readonly serviceByIP = new Map<string, ServiceModel>();
  readonly clusterCidrs: Cidr[];
  private readonly netfilter = new Map<string, NodeNetfilter>();
  private readonly netfilterByNode = new Map<string, NodeNetfilter>();
  private readonly frontends = new Map<string, Map<string, CiliumFrontend>>();
  private readonly classKeys = new Map<string, string>();
  private readonly routes = new WeakMap<NetNamespace, Map<string, RouteLookup>>();
  private policyCtx?: PolicyContext;
  private calicoDp?: CalicoDataplane;
  private ciliumDp?: CiliumDataplane;
  private readonly verdicts = new Map<string, Verdict>();
  private coreDns?: CoreDns;
  private readonly answers = new Map<string, DnsAnswer>();
  private readonly resolutions = new Map<string, Resolution>();
  private readonly resolvConfs = new Map<string, ResolvConf>();
  private readonly localFns = new Map<string, (ip: string) => boolean>();
  /**
   * Memoised hook evaluations, Service outcome enumerations and felix chain
   * walks, per node, keyed on what the rules read (see hookKey). Bounded: an
   * entry takes 2–3 KB (the result and its rule lines), and an unbounded map
   * grew by ~25 entries per walk of a 3,000-pod cluster.
   */
  readonly hookMemo = new GenerationalMemo<unknown>(HOOK_MEMO_GENERATION);
  private readonly places = new Map<string, Place>();
  /** The CNI's pod MTU for this topology (computed once: Calico's scans every node). */
  private podMtuValue?: number;
  private readonly hostPods = new Map<string, PodModel | undefined>();
  private readonly encapKinds = new Map<string, EncapsulationKind>();
  private description?: CniDescription;
  private readonly encaps = new Map<string, Encapsulation>();
  private readonly hostPeers = new Map<string, Map<string, PodModel>>();
  private ranges?: PrefixTable<string>;
  private readonly locs = new Map<string, { element: string; node: string; netns: string; iface?: string }>();

  constructor(topology: Topology) {
    this.topology = topology;
    this.cni = cniModelFor(topology);
    this.dp = buildDataplane(topology);
    for (const p of topology.pods) {
      this.podByKey.set(`${p.namespace}/${p.name}`, p);
      if (!p.hostNetwork) for (const ip of p.ips) this.podByIP.set(canonicalIP(ip), p);
    }
    for (const n of topology.nodes) {
      this.nodeByName.set(n.name, n);
      for (const ip of n.ips) this.nodeByIP.set(canonicalIP(ip), n);
    }
    for (const s of topology.services) {
      for (const ip of [...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIPs]) if (ip !== 'None' && parseIP(ip)) this.serviceByIP.set(canonicalIP(ip), s);
    }
    this.clusterCidrs = topology.settings.clusterCIDRs.map((c) => Cidr.tryParse(c)).filter((c): c is Cidr => !!c);
  }

  /** Where an address lives: a pod, a node (host network), or outside the cluster. */
  placeOf(ip: string): Place {
    let pl = this.places.get(ip);
    if (!pl) {
      const c = canonicalIP(ip);
      const pod = this.podByIP.get(c);
      if (pod) pl = { kind: 'pod', pod, node: pod.nodeName };
      else {
        const node = this.nodeByIP.get(c);
        pl = node ? { kind: 'host', node: node.name, pod: this.hostPod(node.name) } : { kind: 'external', ip: c };
      }
      if (this.places.size > 100000) this.places.clear();
      this.places.set(ip, pl);
    }
    return pl;
  }

  /** The pod whose host-side interface (cali…, lxc…, veth…) is `iface` on `node`. */
  hostPeerPod(node: string, iface: string): PodModel | undefined {
    let m = this.hostPeers.get(node);
    if (!m) {
      m = new Map();
      for (const p of this.topology.pods) if (!p.hostNetwork && p.nodeName === node) m.set(this.podDp(p).hostPeer, p);
      this.hostPeers.set(node, m);
    }
    return m.get(iface);
  }

  /** A shared (immutable) event location on a node. */
  nodeLoc(node: string, iface?: string): { element: string; node: string; netns: string; iface?: string } {
    const k = `${node}|${iface ?? ''}`;
    let l = this.locs.get(k);
    if (!l) {
      l = iface ? { element: `node/${node}`, node, netns: `node/${node}`, iface } : { element: `node/${node}`, node, netns: `node/${node}` };
      this.locs.set(k, Object.freeze(l));
    }
    return l;
  }

  /** The node an address lives on (a pod's node, or the node itself). */
  ownerNode(ip: string): string | undefined {
    const pl = this.placeOf(ip);
    return pl.kind === 'external' ? undefined : pl.node;
  }

  /**
   * The node whose pod range holds an address (its pod CIDRs and IPAM blocks),
   * also for addresses no pod has (yet): the node the routes lead to.
   */
  rangeNode(ip: string): string | undefined {
    const own = this.ownerNode(ip);
    if (own) return own;
    if (!this.ranges) {
      this.ranges = new PrefixTable<string>();
      for (const n of this.topology.nodes) for (const c of [...n.podCIDRs, ...(n.blocks ?? [])]) {
        const cidr = Cidr.tryParse(c);
        if (cidr) this.ranges.insert(cidr, n.name);
      }
    }
    const a = parseIP(ip);
    return a ? this.ranges.lookup(a)?.value : undefined;
  }

  /** The first hostNetwork pod on a node (it owns the node's addresses in the UI), if any. */
  hostPod(node: string): PodModel | undefined {
    if (!this.hostPods.has(node)) this.hostPods.set(node, this.topology.pods.find((p) => p.hostNetwork && p.nodeName === node));
    return this.hostPods.get(node);
  }

  encapsulationBetween(a: string, b: string, family: 4 | 6 = 4): EncapsulationKind {
    const k = family === 6 ? `${a}|${b}|6` : `${a}|${b}`;
    let e = this.encapKinds.get(k);
    if (e === undefined) {
      e = this.cni.encapsulationBetween(this.topology, a, b, family);
      this.encapKinds.set(k, e);
    }
    return e;
  }

  /**
   * core/cni's encapsulate(), with the per node pair part built once: the
   * outer headers depend on the inner packet only through its length, the
   * flow hash (outer UDP source port) and, for Cilium, the source identity.
   */
  encapsulate(a: string, b: string, inner: InnerPacket): Encapsulation {
    const k = `${a}|${b}${this.cni.plugin === 'cilium' ? `|${inner.srcIP}` : inner.srcIP.includes(':') ? '|6' : ''}`;
    let t = this.encaps.get(k);
    if (!t) {
      t = encapsulate(this.cni, this.topology, a, b, { ...inner, length: 0 }, { podMtu: (this.podMtuValue ??= this.cni.podMtu(this.topology)) });
      if (this.encaps.size > 100000) this.encaps.clear();
      this.encaps.set(k, t);
    }
    if (!t.outer) return t;
    const len = inner.length + t.overhead;
    const o = t.outer;
    return {
      ...t,
      outer: {
        ...o,
        ip: { ...o.ip, length: len },
        udp: o.udp ? { ...o.udp, srcPort: t.kind === 'wireguard' ? o.udp.srcPort : tunnelSourcePort(inner), length: len - (t.underlay === 6 ? 40 : 20) } : undefined,
      },
    };
  }

  get cniDescription(): CniDescription {
    return (this.description ??= this.cni.describe());
  }

  get kubeProxyMode(): 'iptables' | 'ipvs' | 'ebpf' {
    return this.topology.settings.kubeProxy?.mode ?? 'iptables';
  }

  node(name: string): NodeModel {
    const n = this.nodeByName.get(name);
    if (!n) throw new Error(`node "${name}" is not in the topology`);
    return n;
  }

  nodeDp(name: string): NodeDataplane {
    return this.dp.node(name);
  }

  podDp(pod: PodModel): PodDataplane {
    return this.dp.pod(pod.namespace, pod.name);
  }

  /** routeLookup, memoised per namespace and destination. */
  route(ns: NetNamespace, dst: string): RouteLookup {
    let m = this.routes.get(ns);
    if (!m) this.routes.set(ns, (m = new Map()));
    let r = m.get(dst);
    if (!r) {
      r = routeLookup(ns, dst);
      if (m.size > 50000) m.clear();
      m.set(dst, r);
    }
    return r;
  }

  /** The node's addresses (node IPs, and every address on its interfaces) — addrtype LOCAL. */
  isLocalFn(node: string): (ip: string) => boolean {
    let f = this.localFns.get(node);
    if (!f) {
      const set = new Set<string>();
      for (const ip of this.node(node).ips) set.add(canonicalIP(ip));
      for (const i of this.nodeDp(node).interfaces) for (const a of i.addresses) set.add(canonicalIP(a.local));
      if (this.kubeProxyMode === 'ipvs') {
        const nf = this.netfilterFor(node, 4);
        for (const ip of nf.ipvs?.boundAddresses ?? []) set.add(ip);
      }
      f = (ip: string) => set.has(ip) || ip.startsWith('127.') || ip === '::1';
      this.localFns.set(node, f);
    }
    return f;
  }

  inClusterCidr(ip: string): boolean {
    const a = parseIP(ip);
    return !!a && this.clusterCidrs.some((c) => c.contains(a));
  }

  classKey(node: string): string {
    let k = this.classKeys.get(node);
    if (k === undefined) {
      k = nodeClassKey(this.topology, node);
      this.classKeys.set(node, k);
    }
    return k;
  }

  /**
   * On Calico, felix's raw, mangle and nat chains (cali-PREROUTING's workload
   * mark and reverse-path check, cali-OUTPUT, cali-POSTROUTING with
   * cali-nat-outgoing and the tunnel MASQUERADE) run in the same hooks as
   * kube-proxy's rules, so they are merged into the evaluated rule set, and
   * the IP-pool sets their rules test are added to `sets` (only those: the
   * node's other felix sets, such as cali40this-host, differ per node). They are the same
   * on every node (no host endpoints), so node classes keep sharing rule
   * sets. felix's filter chains are walked by core/policy (walk.ts
   * calicoForward), which reports them with NetworkPolicy's verdicts.
   */
  private withFelix(rs: Ruleset, sets: IpsetStore, node: string, family: 4 | 6): IpsetStore {
    if (this.topology.settings.cni.plugin !== 'calico') return sets;
    mergeFelixRules(rs, this.calico, node, family, ['raw', 'mangle', 'nat']);
    for (const s of this.calico.forNode(node, family).ipsets.values()) {
      if (!s.name.endsWith('ipam-pools') || sets.sets.has(s.name)) continue;
      const store = sets.create(s.name, s.type, family);
      for (const m of s.members) store.add(m);
    }
    return sets;
  }

  /** The node's netfilter rule set (kube-proxy iptables or IPVS mode, with felix's raw, mangle and nat chains on Calico; empty with Cilium's kube-proxy replacement). */
  netfilterFor(node: string, family: 4 | 6): NodeNetfilter {
    const byNode = `${node}|${family}`;
    const hit = this.netfilterByNode.get(byNode);
    if (hit) return hit;
    const key = `${family}|${this.classKey(node)}`;
    let nf = this.netfilter.get(key);
    if (!nf) {
      const mode = this.kubeProxyMode;
      if (mode === 'ipvs') {
        const ipvs = kubeProxyIpvs(this.topology, node, family);
        this.withFelix(ipvs.ruleset, ipvs.ipsets, node, family);
        const byKey = new Map(ipvs.services.map((s) => [`${s.proto}|${s.address}|${s.port}`, s]));
        nf = { kind: 'ipvs', ruleset: ipvs.ruleset, compiled: compileRuleset(ipvs.ruleset, ipvs.ipsets), ipsets: ipvs.ipsets, ipvs: { services: ipvs.services, boundAddresses: ipvs.boundAddresses, byKey }, sharedBy: [] };
      } else if (mode === 'ebpf') {
        const rs = newRuleset(family, []);
        nf = { kind: 'none', ruleset: rs, compiled: compileRuleset(rs), sharedBy: [] };
      } else {
        const { ruleset } = nodeIptablesRuleset(this.topology, node, family);
        const ipsets = this.withFelix(ruleset, new IpsetStore(), node, family);
        nf = { kind: 'iptables', ruleset, compiled: compileRuleset(ruleset, ipsets), ...(ipsets.sets.size ? { ipsets } : {}), sharedBy: [] };
      }
      this.netfilter.set(key, nf);
    }
    nf.sharedBy.push(node);
    this.netfilterByNode.set(byNode, nf);
    return nf;
  }

  /** Service frontends of a node (Cilium's LB map; also AntreaProxy's view), keyed `ADDR|PORT|PROTO`. */
  frontendsFor(node: string): Map<string, CiliumFrontend> {
    const key = this.classKey(node);
    let m = this.frontends.get(key);
    if (!m) {
      m = new Map();
      for (const f of ciliumServiceMap(this.topology, node)) m.set(`${f.address}|${f.port}|${f.proto}`, f);
      this.frontends.set(key, m);
    }
    return m;
  }

  // ------------------------------------------------------------ policy

  get policyContext(): PolicyContext {
    return (this.policyCtx ??= buildContext(this.topology));
  }

  get hasPolicies(): boolean {
    return this.topology.networkPolicies.length > 0;
  }

  /** The core/policy verdict (with explanations) for a connection; memoised. */
  policyVerdict(from: string, to: string, port: number, protocol: 'TCP' | 'UDP' | 'SCTP', family?: 4 | 6): Verdict {
    const key = `${from}|${to}|${port}|${protocol}|${family ?? ''}`;
    let v = this.verdicts.get(key);
    if (!v) {
      v = evaluateWith(this.policyContext, { from, to, port, protocol, ...(family ? { family } : {}) });
      if (this.verdicts.size > 100000) this.verdicts.clear();
      this.verdicts.set(key, v);
    }
    return v;
  }

  get calico(): CalicoDataplane {
    return (this.calicoDp ??= buildCalicoDataplane(this.topology));
  }

  get cilium(): CiliumDataplane {
    return (this.ciliumDp ??= buildCiliumDataplane(this.topology));
  }

  // ------------------------------------------------------------ DNS

  dnsAnswer(qname: string, qtype: 'A' | 'AAAA'): DnsAnswer {
    const key = `${qname}|${qtype}`;
    let a = this.answers.get(key);
    if (!a) {
      this.coreDns ??= new CoreDns(this.topology);
      a = this.coreDns.answer(qname, qtype);
      if (this.answers.size > 100000) this.answers.clear();
      this.answers.set(key, a);
    }
    return a;
  }

  resolvConf(pod: Pick<PodModel, 'namespace' | 'hostNetwork'>): ResolvConf {
    const key = `${pod.namespace}|${pod.hostNetwork}`;
    let r = this.resolvConfs.get(key);
    if (!r) {
      r = podResolvConf(this.topology, pod);
      this.resolvConfs.set(key, r);
    }
    return r;
  }

  /** The glibc query sequence and CoreDNS's answers (no cache: the walk applies NodeLocal DNSCache itself). */
  resolution(pod: Pick<PodModel, 'namespace' | 'hostNetwork'>, name: string, family: 'unspec' | 'inet' | 'inet6'): Resolution {
    const key = `${pod.namespace}|${pod.hostNetwork}|${name}|${family}`;
    let r = this.resolutions.get(key);
    if (!r) {
      r = resolveName(this.topology, pod, name, { family, server: (this.coreDns ??= new CoreDns(this.topology)), conf: this.resolvConf(pod) });
      if (this.resolutions.size > 100000) this.resolutions.clear();
      this.resolutions.set(key, r);
    }
    return r;
  }
}
