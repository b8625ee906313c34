// Client-side traffic management: which VirtualService route a request takes,
// its weighted destinations, the DestinationRule (subsets, traffic policy) for
// each, the Envoy cluster names (`outbound|80|v2|api.prod.svc.cluster.local`)
// and the endpoints behind each cluster.

import type { PodModel, ServiceModel, ServicePort, Topology } from '../model/types';
import { configName, isRejected, meshConfig } from './manifests';
import { describeStringMatch, stringMatchMatches } from './match';
import type { DestinationRuleModel, HttpMatchRequest, HttpRouteModel, MeshRequest, TrafficPolicy, VirtualServiceModel } from './types';
import { hostMatches, labelsSubset, resolveHost, rootNs, serviceByFqdn, serviceEndpoints, serviceFqdn, type EndpointRef, type MeshOptions } from './world';

export function clusterName(direction: 'outbound' | 'inbound', port: number, subset: string | undefined, fqdn: string): string {
  return `${direction}|${port}|${subset ?? ''}|${fqdn}`;
}

/** Envoy's SNI for ISTIO_MUTUAL upstreams: `outbound_.80_.v2_.api.prod.svc.cluster.local`. */
export function istioSni(port: number, subset: string | undefined, fqdn: string): string {
  return `outbound_.${port}_.${subset ?? ''}_.${fqdn}`;
}

// ---------------------------------------------------------------- VirtualService

export interface RouteChoice {
  /** The destination host as an FQDN. */
  host: string;
  subset?: string;
  port: number;
  /** Weight as configured (100 for a single destination). */
  weight: number;
  /** weight / sum of weights. */
  probability: number;
  cluster: string;
  /** The Service behind the host, when the topology has it. */
  service?: ServiceModel;
}

export interface RouteDecision {
  virtualService?: VirtualServiceModel;
  /** Index in spec.http of the route taken. */
  routeIndex?: number;
  /** Index in match[] of the match that held (undefined: the route has no match). */
  matchIndex?: number;
  route?: HttpRouteModel;
  choices: RouteChoice[];
  /** 404 (NR): a VirtualService binds the host and no route matches. */
  noRoute?: boolean;
  /** A local reply (directResponse / redirect). */
  local?: { status: number; text: string };
  /** One line per route tried, for the UI. */
  tried: string[];
  text: string;
  /** The Envoy route configuration and virtual host names. */
  routeConfig: string;
  virtualHost: string;
}

function headerOf(req: MeshRequest, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of Object.entries(req.headers ?? {})) if (k.toLowerCase() === n) return v;
  return undefined;
}

function splitPath(p: string): { path: string; query: Record<string, string> } {
  const i = p.indexOf('?');
  if (i < 0) return { path: p, query: {} };
  const query: Record<string, string> = {};
  for (const kv of p.slice(i + 1).split('&')) {
    if (!kv) continue;
    const j = kv.indexOf('=');
    query[decodeURIComponent(j < 0 ? kv : kv.slice(0, j))] = decodeURIComponent(j < 0 ? '' : kv.slice(j + 1));
  }
  return { path: p.slice(0, i), query };
}

/** Whether one HTTPMatchRequest holds; `why` names the first condition that failed or all that held. */
export function httpMatchHolds(m: HttpMatchRequest, req: MeshRequest, ctx: { port: number; source?: PodModel; host: string }): { ok: boolean; why: string } {
  const held: string[] = [];
  const fullPath = req.path ?? '/';
  const { path, query } = splitPath(fullPath);
  const check = (what: string, sm: Parameters<typeof stringMatchMatches>[0], v: string | undefined, ignoreCase = false): string | undefined => {
    if (stringMatchMatches(sm, v, ignoreCase)) {
      held.push(`${what} ${v === undefined ? '(absent)' : `"${v}"`} ${describeStringMatch(sm)}`);
      return undefined;
    }
    return `${what} ${v === undefined ? '(absent)' : `"${v}"`} does not match ${describeStringMatch(sm)}`;
  };
  let f: string | undefined;
  if (m.uri) {
    // Envoy: prefix on the whole :path; exact and regex on the path without the query string.
    const v = 'prefix' in m.uri ? fullPath : path;
    if ((f = check('uri', m.uri, v, !!m.ignoreUriCase))) return { ok: false, why: f };
  }
  if (m.scheme && (f = check('scheme', m.scheme, 'http'))) return { ok: false, why: f };
  if (m.method && (f = check('method', m.method, req.method ?? 'GET'))) return { ok: false, why: f };
  if (m.authority && (f = check('authority', m.authority, ctx.host))) return { ok: false, why: f };
  for (const [name, sm] of Object.entries(m.headers ?? {})) {
    if ((f = check(`header ${name}`, sm, headerOf(req, name)))) return { ok: false, why: f };
  }
  for (const [name, sm] of Object.entries(m.withoutHeaders ?? {})) {
    const v = headerOf(req, name);
    if (stringMatchMatches(sm, v)) return { ok: false, why: `withoutHeaders: header ${name} "${v}" is present and matches ${describeStringMatch(sm)}` };
    held.push(`header ${name} does not match ${describeStringMatch(sm)}`);
  }
  for (const [name, sm] of Object.entries(m.queryParams ?? {})) {
    if ((f = check(`query parameter ${name}`, sm, query[name]))) return { ok: false, why: f };
  }
  if (m.port !== undefined) {
    if (m.port !== ctx.port) return { ok: false, why: `port ${ctx.port} is not ${m.port}` };
    held.push(`port ${m.port}`);
  }
  if (m.sourceLabels) {
    if (!ctx.source || !labelsSubset(m.sourceLabels, ctx.source.labels)) return { ok: false, why: `source labels do not include ${JSON.stringify(m.sourceLabels)}` };
    held.push(`source labels ${JSON.stringify(m.sourceLabels)}`);
  }
  if (m.sourceNamespace !== undefined) {
    if (ctx.source?.namespace !== m.sourceNamespace) return { ok: false, why: `source namespace ${ctx.source?.namespace ?? '(none)'} is not ${m.sourceNamespace}` };
    held.push(`source namespace ${m.sourceNamespace}`);
  }
  if (m.gateways && m.gateways.length && !m.gateways.includes('mesh')) return { ok: false, why: `the match is restricted to gateways ${m.gateways.join(', ')} (not the sidecars, "mesh")` };
  return { ok: true, why: held.length ? held.join(', ') : 'an empty match' };
}

/** The VirtualService a sidecar uses for a host (first by creation order; gateways must include `mesh`). */
export function virtualServiceFor(t: Topology, fqdn: string, opts: MeshOptions = {}): { vs?: VirtualServiceModel; others: VirtualServiceModel[]; refused: VirtualServiceModel[] } {
  const found: VirtualServiceModel[] = [];
  const refused: VirtualServiceModel[] = [];
  for (const vs of meshConfig(t).virtualServices) {
    if (vs.gateways.length && !vs.gateways.includes('mesh')) continue;
    if (vs.exportTo && !vs.exportTo.includes('*') && !vs.exportTo.includes('.') && !vs.exportTo.includes(vs.ref.namespace)) continue;
    if (!vs.hosts.some((h) => hostMatches(resolveHost(t, h, vs.ref.namespace), fqdn))) continue;
    if (opts.admissionWebhook !== false && isRejected(vs)) refused.push(vs);
    else found.push(vs);
  }
  found.sort((a, b) => a.order - b.order);
  return { vs: found[0], others: found.slice(1), refused };
}

/** The DestinationRule for a host as seen from a client namespace: client namespace, then the host's, then the root namespace. */
export function destinationRuleFor(t: Topology, clientNs: string, fqdn: string, opts: MeshOptions = {}): DestinationRuleModel | undefined {
  const svc = serviceByFqdn(t, fqdn);
  const order = [clientNs, svc?.namespace, rootNs(opts)].filter((x, i, a): x is string => !!x && a.indexOf(x) === i);
  const all = meshConfig(t).destinationRules.filter((dr) => !(opts.admissionWebhook !== false && isRejected(dr)) && !dr.workloadSelector);
  for (const ns of order) {
    const cands = all
      .filter((dr) => dr.ref.namespace === ns && hostMatches(resolveHost(t, dr.host, dr.ref.namespace), fqdn))
      .filter((dr) => !dr.exportTo || dr.exportTo.includes('*') || (ns === clientNs && (dr.exportTo.includes('.') || dr.exportTo.includes(clientNs))) || dr.exportTo.includes(clientNs))
      .sort((a, b) => {
        // the most specific host wins (exact before wildcard), then the oldest
        const ea = a.host.includes('*') ? 1 : 0;
        const eb = b.host.includes('*') ? 1 : 0;
        return ea - eb || a.order - b.order;
      });
    if (cands.length) return cands[0];
  }
  return undefined;
}

/** Merges a subset's (and a port's) traffic policy over the DestinationRule's: subset settings override field by field. */
export function effectiveTrafficPolicy(dr: DestinationRuleModel | undefined, subset: string | undefined, port: number): TrafficPolicy | undefined {
  if (!dr) return undefined;
  const layers: (TrafficPolicy | undefined)[] = [];
  const atPort = (tp: TrafficPolicy | undefined): TrafficPolicy | undefined => tp?.portLevelSettings?.find((p) => p.port === port)?.policy;
  layers.push(dr.trafficPolicy, atPort(dr.trafficPolicy));
  const sub = subset ? dr.subsets.find((s) => s.name === subset) : undefined;
  if (sub?.trafficPolicy) layers.push(sub.trafficPolicy, atPort(sub.trafficPolicy));
  let out: TrafficPolicy | undefined;
  for (const l of layers) {
    if (!l) continue;
    out = { ...(out ?? {}) };
    if (l.connectionPool) out.connectionPool = l.connectionPool;
    if (l.outlierDetection) out.outlierDetection = l.outlierDetection;
    if (l.loadBalancer) out.loadBalancer = l.loadBalancer;
    if (l.tls) out.tls = l.tls;
  }
  return out;
}

function portFor(t: Topology, host: string, requested: number | undefined, fallback: number): number {
  if (requested !== undefined) return requested;
  const svc = serviceByFqdn(t, host);
  if (svc && svc.ports.length === 1) return svc.ports[0].port;
  return fallback;
}

/** The route an HTTP request takes from `source` to a Service port, with its weighted destinations. */
export function selectRoute(t: Topology, source: PodModel | undefined, target: { fqdn: string; port: number }, req: MeshRequest, opts: MeshOptions = {}): RouteDecision {
  const host = req.host ?? target.fqdn;
  const routeConfig = String(target.port);
  const virtualHost = `${target.fqdn}:${target.port}`;
  const def = (text: string, vs?: VirtualServiceModel): RouteDecision => ({
    ...(vs ? { virtualService: vs } : {}),
    choices: [{ host: target.fqdn, port: target.port, weight: 100, probability: 1, cluster: clusterName('outbound', target.port, undefined, target.fqdn), service: serviceByFqdn(t, target.fqdn) }],
    tried: [],
    text,
    routeConfig,
    virtualHost,
  });
  const { vs, others, refused } = virtualServiceFor(t, target.fqdn, opts);
  if (!vs) {
    const extra = refused.length ? ` (${refused.map((v) => configName(v.ref)).join(', ')} was refused by the validating webhook)` : '';
    return def(`no VirtualService for ${target.fqdn}: the default route sends everything to ${clusterName('outbound', target.port, undefined, target.fqdn)}${extra}`);
  }
  const tried: string[] = [];
  if (others.length) tried.push(`other VirtualServices for the same host are merged after ${configName(vs.ref)} by creation time: ${others.map((o) => configName(o.ref)).join(', ')} (not evaluated by the model)`);
  for (let i = 0; i < vs.http.length; i++) {
    const r = vs.http[i];
    let matchIndex: number | undefined;
    if (r.match && r.match.length) {
      const whys: string[] = [];
      for (let j = 0; j < r.match.length; j++) {
        const h = httpMatchHolds(r.match[j], req, { port: target.port, source, host });
        if (h.ok) {
          matchIndex = j;
          tried.push(`http[${i}]${r.name ? ` (${r.name})` : ''} match[${j}]: ${h.why} — taken`);
          break;
        }
        whys.push(`match[${j}]: ${h.why}`);
      }
      if (matchIndex === undefined) {
        tried.push(`http[${i}]${r.name ? ` (${r.name})` : ''}: ${whys.join('; ')}`);
        continue;
      }
    } else tried.push(`http[${i}]${r.name ? ` (${r.name})` : ''}: no match conditions — taken`);
    const base = { virtualService: vs, routeIndex: i, ...(matchIndex !== undefined ? { matchIndex } : {}), route: r, tried, routeConfig, virtualHost };
    if (r.directResponse) return { ...base, choices: [], local: { status: r.directResponse.status, text: `directResponse ${r.directResponse.status}` }, text: `${configName(vs.ref)} http[${i}] answers directly with ${r.directResponse.status}` };
    if (r.redirect) {
      const code = r.redirect.redirectCode ?? 301;
      return { ...base, choices: [], local: { status: code, text: `redirect to ${r.redirect.authority ?? host}${r.redirect.uri ?? req.path ?? '/'}` }, text: `${configName(vs.ref)} http[${i}] redirects (${code})` };
    }
    const dests = r.route ?? [];
    const weights = dests.map((d) => (dests.length === 1 ? (d.weight ?? 100) || 100 : d.weight ?? 0));
    const total = weights.reduce((a, b) => a + b, 0);
    const choices: RouteChoice[] = dests.map((d, k) => {
      const h = resolveHost(t, d.host, vs.ref.namespace);
      const port = portFor(t, h, d.port, target.port);
      return { host: h, ...(d.subset ? { subset: d.subset } : {}), port, weight: weights[k], probability: total > 0 ? weights[k] / total : 0, cluster: clusterName('outbound', port, d.subset, h), service: serviceByFqdn(t, h) };
    });
    const text = `${configName(vs.ref)} http[${i}]${matchIndex !== undefined ? ` match[${matchIndex}]` : ''}: ${choices.map((c) => `${c.subset ? `subset ${c.subset}` : c.host} ${(c.probability * 100).toFixed(c.probability * 100 % 1 ? 1 : 0)}%`).join(', ')}`;
    return { ...base, choices, text };
  }
  return { virtualService: vs, choices: [], noRoute: true, tried, text: `${configName(vs.ref)} binds ${target.fqdn} but none of its ${vs.http.length} http routes matches: Envoy answers 404 (NR, route not found)`, routeConfig, virtualHost };
}

/** The endpoints of a cluster: the Service's ready endpoints whose pods carry the subset's labels. */
export function clusterEndpoints(t: Topology, choice: { host: string; port: number; subset?: string }, dr: DestinationRuleModel | undefined): { endpoints: EndpointRef[]; notReady: EndpointRef[]; subsetLabels?: Record<string, string>; subsetMissing?: boolean; service?: ServiceModel; servicePort?: ServicePort } {
  const svc = serviceByFqdn(t, choice.host);
  if (!svc) return { endpoints: [], notReady: [] };
  const sp = svc.ports.find((p) => p.port === choice.port && p.protocol === 'TCP');
  if (!sp) return { endpoints: [], notReady: [], service: svc };
  let eps = serviceEndpoints(t, svc, sp);
  let subsetLabels: Record<string, string> | undefined;
  if (choice.subset) {
    const sub = dr?.subsets.find((s) => s.name === choice.subset);
    if (!sub) return { endpoints: [], notReady: [], subsetMissing: true, service: svc, servicePort: sp };
    subsetLabels = sub.labels;
    eps = eps.filter((e) => e.pod && labelsSubset(sub.labels, e.pod.labels));
  }
  return { endpoints: eps.filter((e) => e.ready), notReady: eps.filter((e) => !e.ready), ...(subsetLabels ? { subsetLabels } : {}), service: svc, servicePort: sp };
}

/** `api-service.production.svc.cluster.local` for a Service. */
export { serviceFqdn };
