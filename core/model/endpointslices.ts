// EndpointSlices as the EndpointSlice controller would write them for
// Services with a selector (pkg/controller/endpointslice): one set of slices
// per address family, endpoints grouped by their resolved port numbers (a
// named targetPort may resolve differently per pod), at most 100 endpoints a
// slice, not-ready pods included with ready=false.

import { parseIP } from '../net';
import type { EndpointModel, EndpointSliceModel, PodModel, Protocol, ServiceModel, Topology } from './types';
import { generateName } from './names';

/** --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export interface DeriveIssue {
  severity: 'warning';
  code: string;
  message: string;
  hint?: string;
  service: ServiceModel;
  field: 'selector' | 'targetPort';
  index?: number;
}

/** Pods by namespace and `key=value` label, to answer selectors without scanning every pod. */
export class PodLabelIndex {
  private byNs = new Map<string, Map<string, PodModel[]>>();
  private allByNs = new Map<string, PodModel[]>();

  constructor(pods: Iterable<PodModel>) {
    for (const p of pods) {
      let m = this.byNs.get(p.namespace);
      if (!m) {
        this.byNs.set(p.namespace, (m = new Map()));
        this.allByNs.set(p.namespace, []);
      }
      this.allByNs.get(p.namespace)!.push(p);
      for (const k in p.labels) {
        const key = `${k}\u0000${p.labels[k]}`;
        let l = m.get(key);
        if (!l) m.set(key, (l = []));
        l.push(p);
      }
    }
  }

  /** Pods of `namespace` whose labels contain every pair of `selector` (a map selector; empty selects nothing). */
  select(namespace: string, selector: Record<string, string> | undefined): PodModel[] {
    if (!selector) return [];
    const keys = Object.keys(selector);
    if (keys.length === 0) return [];
    const m = this.byNs.get(namespace);
    if (!m) return [];
    let best: PodModel[] | undefined;
    for (const k of keys) {
      const l = m.get(`${k}\u0000${selector[k]}`);
      if (!l) return [];
      if (!best || l.length < best.length) best = l;
    }
    if (keys.length === 1) return best!.slice();
    return best!.filter((p) => {
      for (const k of keys) if (p.labels[k] !== selector[k]) return false;
      return true;
    });
  }

  namespacePods(namespace: string): PodModel[] {
    return this.allByNs.get(namespace) ?? [];
  }
}

/** podutil.FindPort: a numeric targetPort as is; a name looked up among the pod's container ports with the same protocol. */
export function resolveTargetPort(pod: PodModel, targetPort: number | string, protocol: Protocol): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  for (const cp of pod.ports) if (cp.name === targetPort && cp.protocol === protocol) return cp.containerPort;
  return undefined;
}

function familyOf(ip: string): 'IPv4' | 'IPv6' | undefined {
  const p = parseIP(ip);
  return p ? (p.family === 4 ? 'IPv4' : 'IPv6') : undefined;
}

/**
 * Replaces the derived slices of `t` with fresh ones: for every Service with
 * a selector and no slices of its own in the input, and the default/kubernetes
 * Service (first node's IP, port 6443). Returns warnings about selectors that
 * match nothing and port names no selected pod defines.
 */
export function deriveEndpointSlices(t: Topology, index?: PodLabelIndex): DeriveIssue[] {
  const issues: DeriveIssue[] = [];
  t.endpointSlices = t.endpointSlices.filter((s) => !s.derived);
  const given = new Set(t.endpointSlices.map((s) => `${s.namespace}/${s.serviceName}`));
  const idx = index ?? new PodLabelIndex(t.pods);
  const zoneOf = new Map(t.nodes.map((n) => [n.name, n.zone]));
  for (const svc of t.services) {
    if (given.has(`${svc.namespace}/${svc.name}`)) continue;
    if (svc.type === 'ExternalName') continue;
    if (svc.namespace === 'default' && svc.name === 'kubernetes' && !svc.selector) {
      const s = apiServerSlice(t, svc);
      if (s) t.endpointSlices.push(s);
      continue;
    }
    if (!svc.selector) continue;
    const pods = idx.select(svc.namespace, svc.selector);
    if (pods.length === 0) {
      issues.push({
        severity: 'warning',
        code: 'selector-matches-nothing',
        message: `Service ${svc.namespace}/${svc.name}: selector ${Object.entries(svc.selector).map(([k, v]) => `${k}=${v}`).join(',')} matches no pod in namespace ${svc.namespace}`,
        hint: 'The Service has no endpoints: connections to it are rejected. Check the pod labels and the namespace.',
        service: svc,
        field: 'selector',
      });
    }
    // Named target ports no selected pod defines.
    svc.ports.forEach((sp, i) => {
      if (typeof sp.targetPort !== 'string' || pods.length === 0) return;
      if (!pods.some((p) => resolveTargetPort(p, sp.targetPort, sp.protocol) !== undefined)) {
        issues.push({
          severity: 'warning',
          code: 'target-port-unresolved',
          message: `Service ${svc.namespace}/${svc.name}: targetPort "${sp.targetPort}" (${sp.protocol}) is not a container port name of any selected pod`,
          hint: `Name a container port "${sp.targetPort}" with protocol ${sp.protocol} in the pods, or use a port number.`,
          service: svc,
          field: 'targetPort',
          index: i,
        });
      }
    });
    for (const fam of svc.ipFamilies) t.endpointSlices.push(...slicesFor(svc, fam, pods, zoneOf));
  }
  return issues;
}

function slicesFor(svc: ServiceModel, fam: 'IPv4' | 'IPv6', pods: PodModel[], zoneOf: Map<string, string | undefined>): EndpointSliceModel[] {
  const groups = new Map<string, { ports: EndpointSliceModel['ports']; endpoints: EndpointModel[] }>();
  for (const pod of pods) {
    const addr = pod.ips.find((ip) => familyOf(ip) === fam);
    if (!addr) continue;
    const ports: EndpointSliceModel['ports'] = [];
    for (const sp of svc.ports) {
      const n = resolveTargetPort(pod, sp.targetPort, sp.protocol);
      if (n === undefined) continue;
      const p: EndpointSliceModel['ports'][number] = { port: n, protocol: sp.protocol };
      if (sp.name !== undefined) p.name = sp.name;
      if (sp.appProtocol !== undefined) p.appProtocol = sp.appProtocol;
      ports.push(p);
    }
    const key = ports.map((p) => `${p.name ?? ''}:${p.port}/${p.protocol}`).join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    const ready = pod.ready !== false;
    const terminating = pod.terminating === true;
    const ep: EndpointModel = {
      addresses: [addr],
      conditions: { ready: svc.publishNotReadyAddresses ? true : ready && !terminating, serving: ready, terminating },
      nodeName: pod.nodeName,
      targetRef: { kind: 'Pod', namespace: pod.namespace, name: pod.name },
    };
    const zone = zoneOf.get(pod.nodeName);
    if (zone) ep.zone = zone;
    g.endpoints.push(ep);
  }
  const out: EndpointSliceModel[] = [];
  const base = `${svc.name}-`;
  if (groups.size === 0) {
    // The controller keeps one empty placeholder slice per family.
    out.push({ namespace: svc.namespace, name: generateName(base, `${svc.namespace}/${svc.name}/${fam}/placeholder`), serviceName: svc.name, addressType: fam, ports: [], endpoints: [], derived: true });
    return out;
  }
  for (const [key, g] of groups) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) {
      out.push({
        namespace: svc.namespace,
        name: generateName(base, `${svc.namespace}/${svc.name}/${fam}/${key}/${i}`),
        serviceName: svc.name,
        addressType: fam,
        ports: g.ports.map((p) => ({ ...p })),
        endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
        derived: true,
      });
    }
  }
  return out;
}

/** The slice the API server keeps for default/kubernetes: the control-plane address, port 6443 (name https). */
function apiServerSlice(t: Topology, svc: ServiceModel): EndpointSliceModel | undefined {
  const fam = svc.ipFamilies[0] ?? 'IPv4';
  const node = t.nodes.find((n) => n.ips.some((ip) => familyOf(ip) === fam));
  if (!node) return undefined;
  const ip = node.ips.find((x) => familyOf(x) === fam)!;
  const sp = svc.ports.find((p) => p.name === 'https') ?? svc.ports[0];
  const port = sp ? (typeof sp.targetPort === 'number' ? sp.targetPort : 6443) : 6443;
  return {
    namespace: 'default',
    name: 'kubernetes',
    serviceName: 'kubernetes',
    addressType: fam,
    ports: [{ name: sp?.name ?? 'https', port, protocol: 'TCP' }],
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    derived: true,
  };
}
