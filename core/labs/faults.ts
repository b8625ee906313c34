// Fault injectors: code that breaks a healthy lab state the way real
// clusters break — a route gone from a node, a label typo, a Service
// selector that matches nothing, a pod that is not Ready, a targetPort the
// pods do not listen on, a pod MTU too large for the tunnel, a node uplink
// with a lowered MTU, a NetworkPolicy without its DNS egress rule.
//
// Each injector works on a copy of a Topology (reloaded afterwards so
// EndpointSlices and addresses are derived again) and/or adds kernel
// changes. Parameters left out (or "*") are picked with the run's seeded
// random source, so a seed always reproduces the same fault. Symptoms are
// not written by hand: they are the observable differences between the
// healthy and the faulted state, as property expressions.

import { routeLookup } from '../cni';
import { effectiveTypes } from '../policy';
import type { NetworkPolicyEgressRule, PodModel, Protocol, ServiceModel, Topology } from '../model/types';
import { reloadTopology } from './assemble';
import { describeChange } from './netchange';
import { checkProperty, evaluate, parseProperty } from './property';
import { LabError, type AppliedFault, type FaultSpec, type LabState, type NetChange } from './types';
import { LabWorld, stablePodKey } from './world';

/** mulberry32: a small, fast, seeded PRNG (values in [0, 1)). */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rng: () => number, list: readonly T[]): T {
  return list[Math.floor(rng() * list.length)];
}

function param(spec: FaultSpec, k: string): string | undefined {
  const v = spec[k];
  if (v === undefined || v === '*' || v === null) return undefined;
  return String(v);
}

export interface FaultOutcome {
  topology: Topology;
  changes: NetChange[];
  description: string;
  /** Commands that undo a kernel fault (for the answer of random-fault labs). */
  repair?: Record<string, string[]>;
}

export interface FaultType {
  summary: string;
  params: string;
  apply(t: Topology, spec: FaultSpec, rng: () => number): FaultOutcome;
}

function clone(t: Topology): Topology {
  return structuredClone(t);
}

function reload(t: Topology): Topology {
  const r = reloadTopology(t, 'faulted.yaml');
  if (!r.topology) throw new LabError(`fault produced an invalid topology: ${r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message).join('; ')}`);
  return r.topology;
}

function bareBackends(t: Topology): { pod: PodModel; svc: ServiceModel }[] {
  const out: { pod: PodModel; svc: ServiceModel }[] = [];
  for (const svc of t.services) {
    if (!svc.selector || !Object.keys(svc.selector).length) continue;
    for (const p of t.pods) {
      if (p.owner || p.namespace !== svc.namespace) continue;
      if (Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v)) out.push({ pod: p, svc });
    }
  }
  return out;
}

function typo(v: string, rng: () => number): string {
  if (v.length > 3) {
    const i = 1 + Math.floor(rng() * (v.length - 2));
    return v.slice(0, i) + v.slice(i + 1);
  }
  return `${v}-v2`;
}

function findPodRef(t: Topology, ref: string): PodModel {
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const p = t.pods.find((x) => x.namespace === ns && x.name === name);
  if (!p) throw new LabError(`fault: no pod ${ns}/${name}`, 'name a pod of the starting topology');
  return p;
}

function findSvcRef(t: Topology, ref: string): ServiceModel {
  const [ns, name] = ref.includes('/') ? ref.split('/', 2) : ['default', ref];
  const s = t.services.find((x) => x.namespace === ns && x.name === name);
  if (!s) throw new LabError(`fault: no Service ${ns}/${name}`, 'name a Service of the starting topology');
  return s;
}

function dnsPort(r: NetworkPolicyEgressRule): boolean {
  return (r.ports ?? []).some((p) => Number(p.port) === 53 || p.port === 'dns' || p.port === 'dns-tcp');
}

export const FAULTS: Record<string, FaultType> = {
  'delete-route': {
    summary: 'a route towards another node\'s pods is missing on a node (deleted by hand, or BIRD lost its BGP session)',
    params: 'node, peer (nodes; random when left out)',
    apply(t, spec, rng) {
      const w = new LabWorld({ topology: t, changes: [] });
      const candidates: { node: string; peer: string; dst: string; line: string }[] = [];
      for (const n of t.nodes) {
        if (param(spec, 'node') && n.name !== param(spec, 'node')) continue;
        for (const peer of t.nodes) {
          if (peer.name === n.name || (param(spec, 'peer') && peer.name !== param(spec, 'peer'))) continue;
          const pod = t.pods.find((p) => p.nodeName === peer.name && !p.hostNetwork && p.ips.length);
          if (!pod) continue;
          const r = routeLookup(w.namespace(`node:${n.name}`), pod.ips[0]);
          if (r.verdict !== 'forward' || !r.route || r.route.dst === '0.0.0.0/0') continue;
          candidates.push({ node: n.name, peer: peer.name, dst: r.route.dst, line: r.route.dst });
        }
      }
      if (!candidates.length) throw new LabError('delete-route: no node has a route to another node\'s pods', 'use a topology with pods on several nodes');
      const c = pick(rng, candidates);
      const change: NetChange = { op: 'route-del', target: `node:${c.node}`, dst: c.dst };
      const route = routeLookup(w.namespace(`node:${c.node}`), t.pods.find((p) => p.nodeName === c.peer && !p.hostNetwork && p.ips.length)!.ips[0]).route!;
      const repair = `ip route add ${c.dst}${route.gateway ? ` via ${route.gateway}` : ''}${route.dev ? ` dev ${route.dev}` : ''}${route.protocol !== 'boot' ? ` proto ${route.protocol}` : ''}${route.flags.includes('onlink') ? ' onlink' : ''}`;
      return { topology: t, changes: [change], description: `${describeChange(change)} (the route to ${c.peer}'s pods is gone from ${c.node})`, repair: { [c.node]: [repair] } };
    },
  },
  'link-mtu': {
    summary: 'a node\'s uplink MTU is lowered (a mis-set cloud NIC or a VPN underneath)',
    params: 'node, dev (default eth0), mtu (default node MTU − 100)',
    apply(t, spec, rng) {
      const node = param(spec, 'node') ?? pick(rng, t.nodes.filter((n) => t.pods.some((p) => p.nodeName === n.name && !p.hostNetwork)).map((n) => n.name));
      if (!node) throw new LabError('link-mtu: no node with pods');
      const dev = param(spec, 'dev') ?? 'eth0';
      const mtu = Number(param(spec, 'mtu') ?? t.settings.nodeMTU - 100);
      const change: NetChange = { op: 'link-mtu', target: `node:${node}`, dev, mtu };
      return { topology: t, changes: [change], description: describeChange(change), repair: { [node]: [`ip link set dev ${dev} mtu ${t.settings.nodeMTU}`] } };
    },
  },
  'pod-label': {
    summary: 'a backend pod\'s label has a typo, so its Service (and policies) no longer select it',
    params: 'pod (NS/NAME), key, value',
    apply(t0, spec, rng) {
      const t = clone(t0);
      let pod: PodModel;
      let key: string;
      if (param(spec, 'pod')) {
        pod = findPodRef(t, param(spec, 'pod')!);
        key = param(spec, 'key') ?? Object.keys(pod.labels)[0];
      } else {
        const c = bareBackends(t);
        if (!c.length) throw new LabError('pod-label: no bare pod is selected by a Service');
        const hit = pick(rng, c);
        pod = t.pods.find((p) => p.namespace === hit.pod.namespace && p.name === hit.pod.name)!;
        key = param(spec, 'key') ?? pick(rng, Object.keys(hit.svc.selector!));
      }
      if (!(key in pod.labels)) throw new LabError(`pod-label: ${pod.namespace}/${pod.name} has no label ${key}`);
      const old = pod.labels[key];
      const value = param(spec, 'value') ?? typo(old, rng);
      pod.labels[key] = value;
      return { topology: reload(t), changes: [], description: `pod ${pod.namespace}/${pod.name}: label ${key}=${old} changed to ${key}=${value}` };
    },
  },
  'service-selector': {
    summary: 'a Service selector has a typo and matches no pod (no endpoints: connections are rejected)',
    params: 'service (NS/NAME), key, value',
    apply(t0, spec, rng) {
      const t = clone(t0);
      const cands = t.services.filter((s) => s.selector && Object.keys(s.selector).length && !(s.namespace === 'kube-system'));
      const svc = param(spec, 'service') ? findSvcRef(t, param(spec, 'service')!) : pick(rng, cands);
      if (!svc?.selector) throw new LabError('service-selector: no Service with a selector');
      const key = param(spec, 'key') ?? pick(rng, Object.keys(svc.selector));
      const old = svc.selector[key];
      const value = param(spec, 'value') ?? typo(old, rng);
      svc.selector[key] = value;
      return { topology: reload(t), changes: [], description: `Service ${svc.namespace}/${svc.name}: selector ${key}=${old} changed to ${key}=${value}` };
    },
  },
  'pod-not-ready': {
    summary: 'a backend pod is not Ready (its readiness probe fails), so the Service has one endpoint fewer',
    params: 'pod (NS/NAME)',
    apply(t0, spec, rng) {
      const t = clone(t0);
      const pod = param(spec, 'pod') ? findPodRef(t, param(spec, 'pod')!) : (() => {
        const c = bareBackends(t);
        if (!c.length) throw new LabError('pod-not-ready: no bare pod is selected by a Service');
        const hit = pick(rng, c).pod;
        return t.pods.find((p) => p.namespace === hit.namespace && p.name === hit.name)!;
      })();
      if (pod.owner) throw new LabError(`pod-not-ready: ${pod.namespace}/${pod.name} belongs to a ${pod.owner.kind}; use a bare Pod`);
      pod.ready = false;
      return { topology: reload(t), changes: [], description: `pod ${pod.namespace}/${pod.name}: Ready=False (status.conditions)` };
    },
  },
  'wrong-target-port': {
    summary: 'a Service\'s targetPort points at a port its pods do not listen on (connection refused)',
    params: 'service (NS/NAME), port (default: the target port + 1)',
    apply(t0, spec, rng) {
      const t = clone(t0);
      const cands = t.services.filter((s) => s.selector && s.namespace !== 'kube-system' && s.ports.length && !(s.namespace === 'default' && s.name === 'kubernetes'));
      const svc = param(spec, 'service') ? findSvcRef(t, param(spec, 'service')!) : pick(rng, cands);
      if (!svc) throw new LabError('wrong-target-port: no Service with a selector');
      const sp = svc.ports[0];
      const pods = t.pods.filter((p) => p.namespace === svc.namespace && svc.selector && Object.entries(svc.selector).every(([k, v]) => p.labels[k] === v));
      const cur = typeof sp.targetPort === 'number' ? sp.targetPort : (pods[0]?.ports.find((c) => c.name === sp.targetPort)?.containerPort ?? sp.port);
      const port = Number(param(spec, 'port') ?? (cur === 80 ? 8080 : cur + 1));
      const old = sp.targetPort;
      sp.targetPort = port;
      return { topology: reload(t), changes: [], description: `Service ${svc.namespace}/${svc.name}: targetPort ${String(old)} changed to ${port}` };
    },
  },
  'wrong-mtu': {
    summary: 'the CNI is configured with a pod MTU too large for its tunnel (full-size packets are fragmented or dropped)',
    params: 'mtu (default: the node MTU)',
    apply(t0, spec) {
      const t = clone(t0);
      const mtu = Number(param(spec, 'mtu') ?? t.settings.nodeMTU);
      const old = t.settings.cni.mtu;
      t.settings.cni.mtu = mtu;
      return { topology: reload(t), changes: [], description: `cluster cni.mtu set to ${mtu}${old ? ` (was ${old})` : ' (was derived from the node MTU and the encapsulation)'}` };
    },
  },
  'drop-dns-egress': {
    summary: 'the egress rules allowing DNS (port 53) are gone from a namespace\'s NetworkPolicies',
    params: 'namespace',
    apply(t0, spec, rng) {
      const t = clone(t0);
      const nss = [...new Set(t.networkPolicies.filter((p) => effectiveTypes(p).egress && (p.egress ?? []).some(dnsPort)).map((p) => p.namespace))];
      const ns = param(spec, 'namespace') ?? pick(rng, nss);
      if (!ns || !nss.includes(ns)) throw new LabError(`drop-dns-egress: no egress policy in ${ns ?? 'any namespace'} allows port 53`);
      const touched: string[] = [];
      for (const p of t.networkPolicies) {
        if (p.namespace !== ns || !p.egress) continue;
        const before = p.egress.length;
        p.egress = p.egress
          .map((r) => {
            if (!dnsPort(r)) return r;
            const ports = (r.ports ?? []).filter((x) => !(Number(x.port) === 53 || x.port === 'dns' || x.port === 'dns-tcp'));
            return ports.length ? { ...r, ports } : null;
          })
          .filter((r): r is NetworkPolicyEgressRule => r !== null);
        if (p.egress.length !== before || touched.length === 0) touched.push(p.name);
      }
      return { topology: reload(t), changes: [], description: `the DNS egress rules (port 53) were removed from the NetworkPolicies of namespace ${ns} (${touched.join(', ')})` };
    },
  },
};

// ---------------------------------------------------------------------------
// Symptoms: what differs between the healthy and the faulted state

function portsOf(t: Topology): { port: number; protocol: Protocol }[] {
  const seen = new Map<string, { port: number; protocol: Protocol }>();
  for (const p of t.pods) for (const c of p.ports) seen.set(`${c.containerPort}/${c.protocol}`, { port: c.containerPort, protocol: c.protocol });
  seen.set('53/UDP', { port: 53, protocol: 'UDP' });
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

function holds(expr: string, w: LabWorld, ref?: LabWorld): boolean {
  try {
    return checkProperty(expr, { world: w, reference: ref }).value === true;
  } catch {
    return false;
  }
}

/** Property expressions that hold in `healthy` and fail in `faulted` (at most `max`). */
export function symptomsBetween(healthy: LabWorld, faulted: LabWorld, max = 6): string[] {
  const out: string[] = [];
  const add = (e: string) => {
    if (out.length < max && !out.includes(e) && holds(e, healthy, healthy) && !holds(e, faulted, healthy)) out.push(e);
  };
  const ht = healthy.topology;
  // Services: endpoints and ports
  for (const s of ht.services) {
    if (s.namespace === 'default' && s.name === 'kubernetes') continue;
    const id = `${s.namespace}/${s.name}`;
    if (!faulted.topology.services.some((x) => x.namespace === s.namespace && x.name === s.name)) continue;
    const n = evaluate({ world: healthy }, parseProperty(`endpoints(${id})`)).value;
    add(`endpoints(${id}) == ${String(n)}`);
    add(`serves(${id})`);
  }
  // Routes towards other nodes' pods
  for (const n of ht.nodes) {
    for (const peer of ht.nodes) {
      if (peer.name === n.name) continue;
      const pod = ht.pods.find((p) => p.nodeName === peer.name && !p.hostNetwork && p.ips.length);
      if (pod) add(`route(node:${n.name}, ${pod.ips[0]}) == reference`);
    }
  }
  // MTU: a packet as large as the sending pod's MTU crosses between nodes
  const pods = ht.pods.filter((p) => !p.hostNetwork && p.ips.length);
  for (const a of pods) {
    const b = pods.find((x) => x.nodeName !== a.nodeName);
    if (!b) continue;
    add(`fits(${stablePodKey(a)}, ${stablePodKey(b)}, mtu)`);
    if (out.some((x) => x.startsWith('fits('))) break;
  }
  // DNS per namespace
  const nsSeen = new Set<string>();
  for (const p of pods) {
    if (nsSeen.has(p.namespace) || p.namespace === 'kube-system') continue;
    nsSeen.add(p.namespace);
    add(`resolves(${stablePodKey(p)}, kubernetes.default)`);
  }
  // Reachability pairs
  const dnsBroken = out.some((x) => x.startsWith('resolves('));
  for (const pp of portsOf(ht)) {
    if (dnsBroken && pp.port === 53) continue;
    for (const a of pods) {
      for (const b of pods) {
        if (a === b || out.length >= max) continue;
        const fa = faulted.topology.pods.find((x) => stablePodKey(x) === stablePodKey(a));
        const fb = faulted.topology.pods.find((x) => stablePodKey(x) === stablePodKey(b));
        if (!fa || !fb) continue;
        const h = healthy.allowed(healthy.podEndpoint(a), healthy.podEndpoint(b), pp);
        const f = faulted.allowed(faulted.podEndpoint(fa), faulted.podEndpoint(fb), pp);
        if (h !== f) add(`${h ? 'reachable' : 'denied'}(${stablePodKey(a)}, ${stablePodKey(b)}, ${pp.port}/${pp.protocol})`);
      }
    }
  }
  return out;
}

export interface InjectResult {
  state: LabState;
  faults: AppliedFault[];
  /** Commands that repair the kernel faults. */
  repair: Record<string, string[]>;
}

/** Applies `specs` to a healthy state, in order. Throws LabError when a fault has no visible effect. */
export function injectFaults(healthy: LabState, specs: readonly FaultSpec[], seed: number): InjectResult {
  const rng = seededRng(seed);
  let t = healthy.topology;
  const changes = [...healthy.changes];
  const faults: AppliedFault[] = [];
  const repair: Record<string, string[]> = {};
  for (const spec of specs) {
    const f = FAULTS[spec.type];
    if (!f) throw new LabError(`unknown fault type "${spec.type}"`, `fault types: ${Object.keys(FAULTS).join(', ')}`);
    const before = new LabWorld({ topology: t, changes: [...changes] });
    const o = f.apply(t, spec, rng);
    t = o.topology;
    changes.push(...o.changes);
    for (const [k, v] of Object.entries(o.repair ?? {})) (repair[k] ??= []).push(...v);
    const after = new LabWorld({ topology: t, changes: [...changes] });
    const symptoms = symptomsBetween(before, after);
    if (!symptoms.length) throw new LabError(`fault ${spec.type} (${o.description}) has no visible effect on this topology`, 'choose parameters that break something observable');
    faults.push({ spec, description: o.description, symptoms });
  }
  return { state: { topology: t, changes }, faults, repair };
}

/**
 * Picks `count` distinct faults from `pool` with the seed and injects them;
 * a pool entry that has no effect on this topology is skipped for the next.
 */
export function injectRandomFaults(healthy: LabState, pool: readonly FaultSpec[], count: number, seed: number): InjectResult & { picked: FaultSpec[] } {
  const rng = seededRng(seed ^ 0x5bd1e995);
  const order = pool.map((p, i) => ({ p, k: rng(), i })).sort((a, b) => a.k - b.k || a.i - b.i).map((x) => x.p);
  const picked: FaultSpec[] = [];
  let last: InjectResult | null = null;
  for (const cand of order) {
    if (picked.length >= count) break;
    try {
      const r = injectFaults(healthy, [...picked, cand], seed);
      picked.push(cand);
      last = r;
    } catch (e) {
      if (!(e instanceof LabError)) throw e;
    }
  }
  if (!last || picked.length < count) throw new LabError(`only ${picked.length} of ${count} faults of the pool apply to this topology`, 'add fault types that fit the starting topology');
  return { ...last, picked };
}
