// The policy overlay and the reachability matrix: which pod may open a
// connection to which pod on one port, from core/policy (NetworkPolicy
// semantics with explanations). Pure: no DOM, no Cytoscape.

import type { Protocol, Topology } from '../../../core/model/types';
import { buildContext, compilePolicies, effectiveTypes, evaluateWith, naiveAllowed, policySelectsPod, podKey, truthTable, type PolicyContext, type Verdict } from '../../../core/policy';
import type { GraphElement } from '../graph/elements';
import { podId } from '../graph/elements';

export interface PortChoice {
  port: number;
  protocol: Protocol;
  /** What uses it, e.g. "containerPort of 2 pods · Service backend". */
  used: string;
}

/** Ports worth offering in the overlay and matrix pickers: container ports and Service target ports, most used first. */
export function portsInUse(t: Topology): PortChoice[] {
  const count = new Map<string, { port: number; protocol: Protocol; pods: number; services: string[] }>();
  const bump = (port: number, protocol: Protocol) => {
    const k = `${port}/${protocol}`;
    let e = count.get(k);
    if (!e) count.set(k, (e = { port, protocol, pods: 0, services: [] }));
    return e;
  };
  for (const p of t.pods) for (const cp of p.ports) bump(cp.containerPort, cp.protocol).pods++;
  for (const s of t.services)
    for (const sp of s.ports) {
      if (typeof sp.targetPort === 'number') bump(sp.targetPort, sp.protocol).services.push(s.name);
    }
  return [...count.values()]
    .sort((a, b) => b.pods + b.services.length - (a.pods + a.services.length) || a.port - b.port)
    .map((e) => ({
      port: e.port,
      protocol: e.protocol,
      used: [e.pods ? `containerPort of ${e.pods} pod${e.pods > 1 ? 's' : ''}` : '', e.services.length ? `Service ${e.services.slice(0, 2).join(', ')}${e.services.length > 2 ? '…' : ''}` : ''].filter(Boolean).join(' · '),
    }));
}

/** Pod ids of pods that at least one NetworkPolicy selects (isolated in some direction). */
export function isolatedPods(t: Topology): Set<string> {
  const out = new Set<string>();
  if (!t.networkPolicies.length) return out;
  for (const pod of t.pods) {
    if (pod.hostNetwork) continue;
    for (const np of t.networkPolicies) {
      const types = effectiveTypes(np);
      if ((types.ingress || types.egress) && policySelectsPod(np, pod)) {
        out.add(podId(pod.namespace, pod.name));
        break;
      }
    }
  }
  return out;
}

export interface OverlayOptions {
  port: number;
  protocol: Protocol;
  /** Pod ids to focus on: only pairs from or to them. Empty: every pod towards the pods that listen on the port. */
  focus?: string[];
  /** At most this many edges (the rest are counted, not drawn). */
  maxEdges?: number;
}

export interface Overlay {
  edges: GraphElement[];
  allowed: number;
  denied: number;
  /** Pairs judged but not drawn because of maxEdges. */
  omitted: number;
  /** What the overlay shows, in one sentence. */
  scope: string;
}

const podRef = (p: { namespace: string; name: string }) => podKey(p);

/** Verdict edges for the chosen port: green allowed, red denied. */
export function verdictEdges(t: Topology, opts: OverlayOptions, ctx: PolicyContext = buildContext(t)): Overlay {
  const max = opts.maxEdges ?? 300;
  const pods = t.pods.filter((p) => p.ips.length > 0);
  const focus = new Set(opts.focus ?? []);
  const listening = pods.filter((p) => !p.hostNetwork && p.ports.some((cp) => cp.containerPort === opts.port && cp.protocol === opts.protocol));
  let pairs: [typeof pods[number], typeof pods[number]][] = [];
  let scope: string;
  if (focus.size) {
    for (const a of pods)
      for (const b of pods) {
        if (a === b || b.hostNetwork) continue;
        if (focus.has(podId(a.namespace, a.name)) || focus.has(podId(b.namespace, b.name))) pairs.push([a, b]);
      }
    scope = `connections from and to the selected pod${focus.size > 1 ? 's' : ''} on ${opts.port}/${opts.protocol}`;
  } else {
    const targets = listening.length ? listening : pods.filter((p) => !p.hostNetwork);
    for (const b of targets) for (const a of pods) if (a !== b) pairs.push([a, b]);
    scope = listening.length
      ? `every pod towards the ${listening.length} pod${listening.length > 1 ? 's' : ''} listening on ${opts.port}/${opts.protocol}`
      : `every pod pair on ${opts.port}/${opts.protocol} (no pod declares this containerPort)`;
  }
  const omitted = Math.max(0, pairs.length - max);
  pairs = pairs.slice(0, max);
  let allowed = 0;
  let denied = 0;
  const labelled = pairs.length <= 12;
  const edges: GraphElement[] = pairs.map(([a, b]) => {
    const ok = naiveAllowed(ctx, { from: podRef(a), to: podRef(b), port: opts.port, protocol: opts.protocol });
    if (ok) allowed++;
    else denied++;
    const source = podId(a.namespace, a.name);
    const target = podId(b.namespace, b.name);
    return {
      group: 'edges',
      data: {
        id: verdictEdgeId(source, target),
        kind: 'verdict',
        label: labelled ? `${opts.port}/${opts.protocol} ${ok ? '✓' : '✗'}` : '',
        source,
        target,
        verdict: ok ? 'allowed' : 'denied',
        port: opts.port,
        protocol: opts.protocol,
        detail: `${podRef(a)} → ${podRef(b)} ${opts.port}/${opts.protocol}: ${ok ? 'allowed' : 'denied'}`,
      },
      classes: ok ? 'verdict-allowed' : 'verdict-denied',
    };
  });
  return { edges, allowed, denied, omitted, scope };
}

export function verdictEdgeId(sourcePodId: string, targetPodId: string): string {
  return `verdict/${sourcePodId}->${targetPodId}`;
}

/** `pod/ns/name` → `ns/name` (the form core/policy takes). */
export function policyRefOfPodId(id: string): string {
  return id.replace(/^pod\//, '');
}

/** The full verdict with explanations, for an overlay edge or a matrix cell. */
export function explain(t: Topology, fromPodKey: string, toPodKey: string, port: number, protocol: Protocol, ctx: PolicyContext = buildContext(t)): Verdict {
  return evaluateWith(ctx, { from: fromPodKey, to: toPodKey, port, protocol });
}

export interface Matrix {
  pods: string[];
  /** Namespace of each pod (for the header colours). */
  namespaces: string[];
  values: boolean[][];
  allowed: number;
  denied: number;
  /** Pods left out because of the size limit. */
  omitted: number;
}

/**
 * The reachability matrix for one port (rows: sources, columns: destinations),
 * like the upstream netpol e2e truth tables, from the compiled evaluator.
 */
export function reachabilityMatrix(t: Topology, port: number, protocol: Protocol, opts: { namespaces?: string[]; maxPods?: number } = {}): Matrix {
  const max = opts.maxPods ?? 120;
  const keepNs = opts.namespaces && opts.namespaces.length ? new Set(opts.namespaces) : null;
  const candidates = t.pods.filter((p) => p.ips.length > 0 && (!keepNs || keepNs.has(p.namespace)));
  const chosen = candidates.slice().sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)).slice(0, max);
  const keep = new Set(chosen);
  // Policies judge against the whole cluster (peers in other namespaces still match); only the table is cut down.
  const sub: Topology = { ...t, pods: t.pods.filter((p) => keep.has(p)) };
  const table = truthTable(compilePolicies(sub), port, protocol);
  let allowed = 0;
  for (const row of table.values) for (const v of row) if (v) allowed++;
  const total = table.froms.length * table.tos.length;
  return {
    pods: table.froms,
    namespaces: table.froms.map((k) => k.split('/')[0]),
    values: table.values,
    allowed,
    denied: total - allowed,
    omitted: candidates.length - chosen.length,
  };
}
