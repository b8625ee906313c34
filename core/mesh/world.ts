// Lookups the mesh model shares: Service FQDNs, Istio's short-name
// resolution, workload identities, pods by address, endpoints of a Service
// port, and the options every mesh function accepts.

import { canonicalIP } from '../net';
import type { EndpointSliceModel, PodModel, ServiceModel, ServicePort, Topology } from '../model/types';
import { resolveTargetPort } from '../model';

export interface MeshOptions {
  /** meshConfig.rootNamespace; default istio-system. */
  rootNamespace?: string;
  /** meshConfig.trustDomain; default cluster.local (independent of the DNS cluster domain). */
  trustDomain?: string;
  /**
   * Whether Istio's validating webhook is installed (default true): objects
   * it refuses never exist. False models istiod reading them anyway (webhook
   * bypassed): invalid AuthorizationPolicy rules are then skipped by istiod.
   */
  admissionWebhook?: boolean;
  /** The decision of CUSTOM (ext_authz) providers, which the model cannot run; default 'allow'. */
  customAuthz?: 'allow' | 'deny';
  /** uid of the application container (anything but 1337); default 1000. */
  appUid?: number;
  /** Istio release for version-dependent behaviour (iptables layout); default 1.27. */
  istioVersion?: string;
  /** A number in [0,1) per weighted choice (VirtualService weights, endpoint pick); default: a seeded PRNG. */
  random?: () => number;
  /** Source port the application's socket uses; default 40000 (the sidecar's own connection uses +1). */
  sourcePort?: number;
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

export function rootNs(o?: MeshOptions): string {
  return o?.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
}

export function clusterDomain(t: Topology): string {
  return t.settings.dns?.clusterDomain ?? 'cluster.local';
}

export function serviceFqdn(t: Topology, s: { name: string; namespace: string }): string {
  return `${s.name}.${s.namespace}.svc.${clusterDomain(t)}`;
}

/**
 * Istio's short-name rule (ResolveShortnameToFQDN): a host without a dot is
 * `<host>.<namespace of the config>.svc.<domain>`; anything with a dot is taken
 * literally (so `reviews.prod` is NOT reviews.prod.svc.cluster.local).
 */
export function resolveHost(t: Topology, host: string, namespace: string): string {
  if (host === '*' || host.includes('.')) return host.toLowerCase();
  return `${host.toLowerCase()}.${namespace}.svc.${clusterDomain(t)}`;
}

/** Istio host matching: exact, or a `*.suffix` wildcard on either side. */
export function hostMatches(pattern: string, fqdn: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return fqdn.endsWith(pattern.slice(1));
  return pattern === fqdn;
}

/** The SPIFFE identity Istio's CA puts in a workload certificate. */
export function spiffeId(pod: PodModel, trustDomain = DEFAULT_TRUST_DOMAIN): string {
  return `spiffe://${trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccountName || 'default'}`;
}

/** The principal AuthorizationPolicy matches: the SPIFFE id without `spiffe://`. */
export function principalOf(pod: PodModel, trustDomain = DEFAULT_TRUST_DOMAIN): string {
  return spiffeId(pod, trustDomain).slice('spiffe://'.length);
}

export function podRef(p: PodModel): string {
  return `pod/${p.namespace}/${p.name}`;
}

export function podByIP(t: Topology, ip: string): PodModel | undefined {
  const c = canonicalIP(ip);
  return t.pods.find((p) => !p.hostNetwork && p.ips.some((x) => canonicalIP(x) === c));
}

export interface ServiceTarget {
  service: ServiceModel;
  port: ServicePort;
  fqdn: string;
}

/** The Service whose ClusterIP:port this is. */
export function serviceByClusterIP(t: Topology, ip: string, port: number): ServiceTarget | undefined {
  const c = canonicalIP(ip);
  for (const s of t.services) {
    if (s.clusterIPs.some((x) => x !== 'None' && canonicalIP(x) === c)) {
      const sp = s.ports.find((p) => p.port === port && p.protocol === 'TCP');
      if (sp) return { service: s, port: sp, fqdn: serviceFqdn(t, s) };
    }
  }
  return undefined;
}

/** Services whose FQDN is `fqdn`. */
export function serviceByFqdn(t: Topology, fqdn: string): ServiceModel | undefined {
  return t.services.find((s) => serviceFqdn(t, s) === fqdn);
}

export interface EndpointRef {
  ip: string;
  port: number;
  pod?: PodModel;
  ready: boolean;
  node?: string;
}

/** The endpoints of a Service port (from its EndpointSlices), with their pods. */
export function serviceEndpoints(t: Topology, svc: ServiceModel, sp: ServicePort): EndpointRef[] {
  const out: EndpointRef[] = [];
  const slices: EndpointSliceModel[] = t.endpointSlices.filter((s) => s.namespace === svc.namespace && s.serviceName === svc.name);
  for (const sl of slices) {
    const port = sl.ports.find((p) => (sp.name ? p.name === sp.name : true) && p.protocol === sp.protocol) ?? (sl.ports.length === 1 ? sl.ports[0] : undefined);
    for (const e of sl.endpoints) {
      const pod = e.targetRef ? t.pods.find((p) => p.namespace === e.targetRef!.namespace && p.name === e.targetRef!.name) : podByIP(t, e.addresses[0]);
      let target = port?.port;
      if (target === undefined && pod) target = resolveTargetPort(pod, sp.targetPort, sp.protocol);
      if (target === undefined) continue;
      for (const a of e.addresses) {
        if (!out.some((x) => x.ip === canonicalIP(a) && x.port === target)) {
          out.push({ ip: canonicalIP(a), port: target, pod, ready: e.conditions.ready !== false, node: e.nodeName });
        }
      }
    }
  }
  return out;
}

/** A small seeded PRNG (mulberry32) so that weighted choices can be replayed. */
export function seeded(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks an index by weights with a number in [0,1). */
export function pickWeighted(weights: number[], r: number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i] / total;
    if (r < acc) return i;
  }
  return weights.length - 1;
}

/** A label map is a subset of another (Istio workload selectors). */
export function labelsSubset(sel: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const k in sel) if (labels[k] !== sel[k]) return false;
  return true;
}
