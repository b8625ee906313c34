// The mesh hops the packet walk (core/trace) calls:
//
//   meshOutbound(t, srcPod, dst, request)  — inside the client pod: the
//     app's connect() is caught by ISTIO_OUTPUT and REDIRECTed to Envoy's
//     15001, Envoy picks the route (VirtualService), the cluster
//     (DestinationRule subset) and an endpoint, originates mTLS (auto mTLS)
//     and opens its own connection (uid 1337, not redirected) straight to the
//     endpoint pod IP:targetPort — so kube-proxy's Service DNAT never sees it.
//   meshInbound(t, dstPod, conn, request)  — inside the server pod: PREROUTING
//     REDIRECTs to 15006, the inbound listener applies PeerAuthentication
//     (STRICT resets plaintext), terminates mTLS, runs the RBAC filter
//     (AuthorizationPolicy), and forwards from 127.0.0.6 to the app.
//   meshRequest(...) — both, with the combined verdict.
//
// Each returns MeshSteps (what acted, the rule or config, the connection
// after it, a latency estimate) and, when the mesh ends the request, a
// MeshVerdict with the status and body Envoy sends.

import { stringify } from 'yaml';
import { canonicalIP, parseIP } from '../net';
import type { PodModel, Topology } from '../model/types';
import { evaluateAuthorization, type AuthzDecision } from './authz';
import { podInjected, type InjectionDecision } from './injection';
import { INBOUND_PASSTHROUGH_V4, INBOUND_PASSTHROUGH_V6, INBOUND_PORT, OUTBOUND_PORT, PROXY_UID, iptablesConfigForPod, istioRuleset, matchedRules, walkPodInput, walkPodOutput, type PodNetns } from './iptables';
import { configName } from './manifests';
import { acceptsTransport, effectiveMtls, type EffectiveMtls } from './peerauth';
import { clusterEndpoints, clusterName, destinationRuleFor, effectiveTrafficPolicy, istioSni, selectRoute, type RouteDecision } from './routing';
import type { ConfigRef, MeshDestination, MeshRequest, MeshStep, MeshVerdict, TrafficPolicy } from './types';
import { podByIP, podRef, principalOf, seeded, serviceByClusterIP, serviceEndpoints, serviceFqdn, spiffeId, type MeshOptions, type ServiceTarget } from './world';

/** Per-step cost estimates (µs), same scale as core/trace's latency model. */
export const MESH_LATENCY = Object.freeze({
  /** One iptables rule evaluated. */
  ruleUs: 0.02,
  /** Entering a netfilter hook. */
  hookUs: 0.3,
  /** REDIRECT (a NAT rewrite). */
  natUs: 0.2,
  /** A connection over lo between the app and Envoy (both directions of the handshake). */
  loopbackUs: 10,
  /** Envoy HTTP processing per request per proxy (HCM, router, stats). */
  envoyHttpUs: 150,
  /** Envoy TCP proxy per connection per proxy. */
  envoyTcpUs: 30,
  /** An mTLS handshake on a new upstream connection (ECDHE + two certificate verifications). */
  mtlsHandshakeUs: 1000,
  /** The RBAC filter. */
  rbacUs: 5,
});

export const MESH_LATENCY_NOTE =
  'Sidecar costs are estimates: ~150 µs of Envoy processing per HTTP request per proxy (Istio\'s published p50 overhead is a fraction of a millisecond per hop), ' +
  '~1 ms for the mTLS handshake of a new connection (reused connections skip it), and the same netfilter per-rule costs as the packet walk.';

export const FLOW_SEED_NOTE =
  'The seed draws "App → localhost:8080 → iptables redirect → Envoy (15001)". The app connects to the real destination (e.g. the Service ClusterIP on port 80), not to localhost — ' +
  'traffic to 127.0.0.1 is exactly what ISTIO_OUTPUT leaves alone (-d 127.0.0.1/32 -j RETURN). nat/OUTPUT sends every outbound TCP connection, whatever its port, to ISTIO_REDIRECT ' +
  '(REDIRECT --to-ports 15001); inbound connections to the app\'s port (8080) are redirected by PREROUTING → ISTIO_INBOUND → ISTIO_IN_REDIRECT to 15006, and Envoy then connects to the app on 8080 from 127.0.0.6.';

export interface Upstream {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** 1337 when Envoy opened the connection; the app's uid otherwise. */
  uid: number;
  /** The destination pod, when the address is a pod of the topology. */
  pod?: PodModel;
  /** What goes on the wire. */
  tls: 'ISTIO_MUTUAL' | 'plaintext' | 'SIMPLE' | 'MUTUAL';
  sni?: string;
  /** SPIFFE id of the client certificate (ISTIO_MUTUAL). */
  clientIdentity?: string;
  cluster?: string;
  service?: string;
  subset?: string;
  protocol: 'http' | 'tcp';
  /** The Host header the request carries. */
  host?: string;
}

export interface MeshOutboundResult {
  source: PodModel;
  sidecar: InjectionDecision;
  steps: MeshStep[];
  /** Set when the client side ends the request (503 UH/NC/UO, 404 NR, a direct response). */
  verdict?: MeshVerdict;
  /** The connection the network walk carries next: source pod → endpoint. */
  upstream?: Upstream;
  route?: RouteDecision;
  /** Every endpoint the sidecar could pick, with its probability (route weight × 1/endpoints). */
  outcomes: { cluster: string; subset?: string; endpoint: string; pod?: string; probability: number }[];
  trafficPolicy?: TrafficPolicy;
  destinationRule?: ConfigRef;
  notes: string[];
}

export interface MeshInboundResult {
  destination: PodModel;
  sidecar: InjectionDecision;
  steps: MeshStep[];
  verdict: MeshVerdict;
  mtls?: EffectiveMtls;
  authz?: AuthzDecision;
  /** The port the application receives the connection on. */
  appPort: number;
}

export interface MeshRequestResult {
  outbound: MeshOutboundResult;
  inbound?: MeshInboundResult;
  verdict: MeshVerdict;
  steps: MeshStep[];
  notes: string[];
}

// ---------------------------------------------------------------- helpers

/**
 * The pod's network namespace as the sidecar's iptables rules leave it, for
 * the address family of `peer` (iptables for IPv4, ip6tables for IPv6).
 */
export function podMeshNetns(pod: PodModel, peer: string, opts: MeshOptions = {}): PodNetns {
  const { config } = iptablesConfigForPod(pod, opts.istioVersion);
  return { ips: pod.ips, ruleset: istioRuleset(config, (parseIP(peer)?.family ?? 4) as 4 | 6) };
}

function rawSpec(t: Topology, ref: ConfigRef): Record<string, unknown> | undefined {
  const raw = t.extra.find((x) => x.kind === ref.kind && (x.namespace ?? 'default') === ref.namespace && x.name === ref.name);
  const spec = (raw?.object as { spec?: unknown } | undefined)?.spec;
  return spec && typeof spec === 'object' ? (spec as Record<string, unknown>) : undefined;
}

function yamlOf(v: unknown): string {
  return stringify(v, { lineWidth: 0 }).trimEnd();
}

function hookCost(rulesEvaluated: number, hooks: number, nat: number): number {
  return Math.round((rulesEvaluated * MESH_LATENCY.ruleUs + hooks * MESH_LATENCY.hookUs + nat * MESH_LATENCY.natUs) * 100) / 100;
}

function protocolOf(target: ServiceTarget | undefined, req: MeshRequest): 'http' | 'tcp' {
  if (req.protocol) return req.protocol;
  const p = target?.port;
  const ap = (p?.appProtocol ?? '').toLowerCase();
  const name = (p?.name ?? '').toLowerCase();
  const tcpish = ['tcp', 'tls', 'https', 'mongo', 'mysql', 'redis'];
  if (tcpish.some((x) => ap === x || name === x || name.startsWith(`${x}-`))) return 'tcp';
  return 'http';
}

function describePolicy(tp: TrafficPolicy | undefined): string {
  if (!tp) return 'no traffic policy (defaults: LEAST_REQUEST, no circuit-breaker limits, no outlier detection)';
  const parts: string[] = [];
  if (tp.loadBalancer?.simple) parts.push(`loadBalancer ${tp.loadBalancer.simple}`);
  const cp = tp.connectionPool;
  if (cp) {
    const f: string[] = [];
    if (cp.tcp?.maxConnections !== undefined) f.push(`maxConnections ${cp.tcp.maxConnections}`);
    if (cp.http?.http1MaxPendingRequests !== undefined) f.push(`http1MaxPendingRequests ${cp.http.http1MaxPendingRequests}`);
    if (cp.http?.http2MaxRequests !== undefined) f.push(`http2MaxRequests ${cp.http.http2MaxRequests}`);
    if (cp.http?.maxRequestsPerConnection !== undefined) f.push(`maxRequestsPerConnection ${cp.http.maxRequestsPerConnection}`);
    parts.push(`connectionPool (${f.join(', ')})`);
  }
  const od = tp.outlierDetection;
  if (od) {
    const f: string[] = [];
    if (od.consecutive5xxErrors !== undefined) f.push(`consecutive5xxErrors ${od.consecutive5xxErrors}`);
    if (od.consecutiveGatewayErrors !== undefined) f.push(`consecutiveGatewayErrors ${od.consecutiveGatewayErrors}`);
    if (od.consecutiveErrors !== undefined) f.push(`consecutiveErrors ${od.consecutiveErrors} (ignored since Istio 1.7; Envoy's consecutive_5xx default 5 applies)`);
    if (od.interval) f.push(`interval ${od.interval}`);
    if (od.baseEjectionTime) f.push(`baseEjectionTime ${od.baseEjectionTime}`);
    if (od.maxEjectionPercent !== undefined) f.push(`maxEjectionPercent ${od.maxEjectionPercent}`);
    parts.push(`outlierDetection (${f.join(', ')})`);
  }
  if (tp.tls) parts.push(`tls ${tp.tls.mode}`);
  return parts.join('; ') || 'an empty traffic policy';
}

const UPSTREAM_RESET_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: connection termination';

// ---------------------------------------------------------------- outbound

/** The client side: from the application's connect() to the connection Envoy opens towards an endpoint. */
export function meshOutbound(t: Topology, src: PodModel, dst: MeshDestination, request: MeshRequest = {}, opts: MeshOptions = {}): MeshOutboundResult {
  const sidecar = podInjected(t, src);
  const at = podRef(src);
  const steps: MeshStep[] = [];
  const notes: string[] = [];
  const appUid = opts.appUid ?? 1000;
  const sport = opts.sourcePort ?? 40000;
  const srcIp = src.ips.find((x) => parseIP(x)?.family === parseIP(dst.ip)?.family) ?? src.ips[0] ?? '0.0.0.0';
  const rnd = opts.random ?? seeded(1);
  const dstIp = canonicalIP(dst.ip);
  const target = serviceByClusterIP(t, dstIp, dst.port);
  const protocol = protocolOf(target, request);
  const host = request.host ?? dst.host ?? (target ? target.fqdn : dstIp);
  const res: MeshOutboundResult = { source: src, sidecar, steps, outcomes: [], notes };
  const plain = (): Upstream => ({ src: srcIp, sport, dst: dstIp, dport: dst.port, uid: appUid, pod: podByIP(t, dstIp), tls: 'plaintext', protocol, host });

  if (!sidecar.injected) {
    steps.push({
      kind: 'passthrough',
      at,
      actor: 'app',
      action: 'no sidecar: the application\'s own connection leaves the pod unchanged (plaintext)',
      detail: `${src.namespace}/${src.name} has no istio-proxy: ${sidecar.reason}.`,
      verdict: 'pass',
      packet: { src: srcIp, sport, dst: dstIp, dport: dst.port, uid: appUid, transport: 'plaintext' },
      latencyUs: 0,
      ...(sidecar.seedNote ? { seedNote: sidecar.seedNote } : {}),
    });
    res.upstream = plain();
    return res;
  }

  // 1. netfilter in the pod: nat/OUTPUT → ISTIO_OUTPUT → ISTIO_REDIRECT
  const ns = podMeshNetns(src, dstIp, opts);
  const w = walkPodOutput(ns, { src: srcIp, sport, dst: dstIp, dport: dst.port, uid: appUid });
  const nat = w.hooks.flatMap((h) => h.nat);
  const redirected = nat.some((n) => n.kind === 'REDIRECT');
  const rules = matchedRules(w);
  steps.push({
    kind: 'iptables',
    at,
    actor: 'kernel',
    action: redirected
      ? `nat/OUTPUT: REDIRECT ${dstIp}:${dst.port} → ${w.packet.dst}:${w.packet.dport} (Envoy's outbound listener)`
      : `nat/OUTPUT: not captured (${rules[rules.length - 1] ?? 'no rule'}), the connection bypasses Envoy`,
    detail: redirected
      ? `The app (uid ${appUid}) connects to ${dstIp}:${dst.port}. ISTIO_OUTPUT does not return early (not uid/gid ${PROXY_UID}, not to 127.0.0.1, not out of lo), so ISTIO_REDIRECT rewrites the destination to 127.0.0.1:${OUTBOUND_PORT} — for any destination port. conntrack keeps the original destination, which Envoy reads back with getsockopt(SO_ORIGINAL_DST).`
      : 'A RETURN in ISTIO_OUTPUT (excluded port / CIDR annotation) leaves the connection alone: it goes out as plain kernel networking.',
    rule: rules[rules.length - 1],
    rules,
    verdict: redirected ? 'redirect' : 'pass',
    packet: { src: srcIp, sport, dst: w.packet.dst, dport: w.packet.dport ?? dst.port, uid: appUid, transport: 'plaintext' },
    latencyUs: hookCost(w.hooks.reduce((a, h) => a + h.rulesEvaluated, 0), w.hooks.length, nat.length) + (redirected ? MESH_LATENCY.loopbackUs : 0),
    seedNote: FLOW_SEED_NOTE,
  });
  if (!redirected) {
    res.upstream = plain();
    return res;
  }

  // 2. Envoy's outbound listener
  const listenerName = protocol === 'http' ? `0.0.0.0_${dst.port}` : `${dstIp}_${dst.port}`;
  let headless: ServiceTarget | undefined;
  if (!target) {
    for (const s of t.services) {
      if (!s.clusterIPs.includes('None')) continue;
      for (const sp of s.ports) {
        if (serviceEndpoints(t, s, sp).some((e) => e.ip === dstIp && e.port === dst.port)) headless = { service: s, port: sp, fqdn: serviceFqdn(t, s) };
      }
    }
  }
  const svc = target ?? headless;
  steps.push({
    kind: 'listener',
    at,
    actor: 'istio-proxy',
    action: svc
      ? `Envoy virtualOutbound (0.0.0.0:${OUTBOUND_PORT}) hands the connection to listener ${listenerName} (${protocol === 'http' ? 'HTTP connection manager' : 'TCP proxy'}) for ${svc.fqdn}:${svc.port.port}`
      : `Envoy virtualOutbound (0.0.0.0:${OUTBOUND_PORT}): ${dstIp}:${dst.port} is no Service of the mesh → PassthroughCluster`,
    detail: svc
      ? `The original destination ${dstIp}:${dst.port} (SO_ORIGINAL_DST) selects the filter chain. ${protocol === 'http' ? `HTTP: routes come from route configuration "${dst.port}", virtual host ${svc.fqdn}:${svc.port.port} (domains include the short names and the ClusterIP).` : 'Opaque TCP: no HTTP routing, AuthorizationPolicy HTTP fields do not apply.'}`
      : 'outboundTrafficPolicy ALLOW_ANY (the default) forwards unknown destinations through PassthroughCluster (ORIGINAL_DST) in plaintext — auto mTLS does not apply, so a pod IP behind a STRICT PeerAuthentication resets it.',
    verdict: 'pass',
    envoy: { listener: svc ? listenerName : 'virtualOutbound', ...(svc && protocol === 'http' ? { routeConfig: String(dst.port) } : {}) },
    packet: { src: srcIp, sport, dst: '127.0.0.1', dport: OUTBOUND_PORT, uid: appUid, transport: 'plaintext' },
    latencyUs: protocol === 'http' ? MESH_LATENCY.envoyHttpUs : MESH_LATENCY.envoyTcpUs,
  });
  const envoySport = sport + 1;
  const envoyConnect = (ip: string, port: number): { step: MeshStep } => {
    const ew = walkPodOutput(ns, { src: srcIp, sport: envoySport, dst: ip, dport: port, uid: PROXY_UID });
    const r = matchedRules(ew);
    const ret = r.some((x) => x.includes('--uid-owner 1337 -j RETURN'));
    return {
      step: {
        kind: 'iptables',
        at,
        actor: 'kernel',
        action: ret ? `nat/OUTPUT: Envoy's own connection (uid ${PROXY_UID}) → ${ip}:${port} is not redirected` : `nat/OUTPUT: Envoy's connection → ${ew.packet.dst}:${ew.packet.dport}`,
        detail: ret
          ? `"-m owner --uid-owner ${PROXY_UID} -j RETURN" keeps the proxy's traffic out of ISTIO_REDIRECT (no loop). The destination is the endpoint pod itself, so the node's kube-proxy Service rules (KUBE-SERVICES DNAT) have nothing to translate.`
          : 'The endpoint is this pod itself: ISTIO_OUTPUT sends the proxy\'s connection over lo to the inbound listener (ISTIO_IN_REDIRECT).',
        rule: r[r.length - 1],
        rules: r,
        verdict: ret ? 'pass' : 'redirect',
        packet: { src: srcIp, sport: envoySport, dst: ew.packet.dst, dport: ew.packet.dport ?? port, uid: PROXY_UID },
        latencyUs: hookCost(ew.hooks.reduce((a, h) => a + h.rulesEvaluated, 0), ew.hooks.length, ew.hooks.flatMap((h) => h.nat).length),
      },
    };
  };

  if (!svc) {
    const c = envoyConnect(dstIp, dst.port);
    steps.push(c.step);
    res.upstream = { ...plain(), sport: envoySport, uid: PROXY_UID, cluster: 'PassthroughCluster' };
    res.outcomes.push({ cluster: 'PassthroughCluster', endpoint: `${dstIp}:${dst.port}`, pod: res.upstream.pod ? `${res.upstream.pod.namespace}/${res.upstream.pod.name}` : undefined, probability: 1 });
    return res;
  }

  // 3. route (HTTP) or the service's cluster (TCP)
  let route: RouteDecision | undefined;
  let choices: { host: string; subset?: string; port: number; probability: number; cluster: string }[];
  if (protocol === 'http') {
    route = selectRoute(t, src, { fqdn: svc.fqdn, port: svc.port.port }, { ...request, host }, opts);
    res.route = route;
    const vs = route.virtualService;
    const routeSpec = vs && route.routeIndex !== undefined ? (rawSpec(t, vs.ref)?.http as unknown[] | undefined)?.[route.routeIndex] : undefined;
    steps.push({
      kind: 'route',
      at,
      actor: 'istio-proxy',
      action: route.noRoute ? `no route of ${configName(vs!.ref)} matches: 404 (NR)` : route.local ? `${route.text}` : `route: ${route.text}`,
      detail: [vs ? `VirtualService ${configName(vs.ref)} binds ${svc.fqdn} (routes are tried in order; the first match wins).` : route.text, ...route.tried].join('\n'),
      ...(routeSpec ? { rule: yamlOf(routeSpec) } : {}),
      ...(vs ? { config: vs.ref } : {}),
      verdict: route.noRoute ? 'reject' : 'pass',
      envoy: { listener: listenerName, routeConfig: route.routeConfig, virtualHost: route.virtualHost },
      latencyUs: 0,
    });
    if (route.noRoute) {
      res.verdict = { kind: 'route-not-found', status: 404, responseFlags: 'NR', body: '', text: route.text, ...(vs ? { config: vs.ref } : {}) };
      return res;
    }
    if (route.local) {
      res.verdict = { kind: 'direct-response', status: route.local.status, text: `${route.text}: ${route.local.text}`, ...(vs ? { config: vs.ref } : {}) };
      return res;
    }
    if (route.route?.fault) notes.push(`${configName(vs!.ref)} http[${route.routeIndex}] has fault injection (${JSON.stringify(route.route.fault)}); the model does not inject it`);
    if (route.route?.timeout) notes.push(`route timeout ${route.route.timeout} (Istio's default is none)`);
    notes.push(route.route?.retries ? `retries: ${JSON.stringify(route.route.retries)}` : 'retries: Istio\'s default policy, 2 attempts on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes');
    choices = route.choices;
  } else {
    choices = [{ host: svc.fqdn, port: svc.port.port, probability: 1, cluster: clusterName('outbound', svc.port.port, undefined, svc.fqdn) }];
    notes.push('opaque TCP: VirtualService tcp routes are not modelled; the connection goes to the Service\'s default cluster');
  }

  // weighted destination
  const r1 = rnd();
  let acc = 0;
  let chosen = choices[choices.length - 1];
  for (const c of choices) {
    acc += c.probability;
    if (r1 < acc) {
      chosen = c;
      break;
    }
  }
  // all outcomes
  for (const c of choices) {
    const dr = destinationRuleFor(t, src.namespace, c.host, opts);
    const eps = clusterEndpoints(t, c, dr);
    for (const e of eps.endpoints) res.outcomes.push({ cluster: c.cluster, ...(c.subset ? { subset: c.subset } : {}), endpoint: `${e.ip}:${e.port}`, pod: e.pod ? `${e.pod.namespace}/${e.pod.name}` : undefined, probability: c.probability / eps.endpoints.length });
  }

  // 4. cluster and DestinationRule
  const dr = destinationRuleFor(t, src.namespace, chosen.host, opts);
  const tp = effectiveTrafficPolicy(dr, chosen.subset, chosen.port);
  res.trafficPolicy = tp;
  if (dr) res.destinationRule = dr.ref;
  const eps = clusterEndpoints(t, chosen, dr);
  const drSpec = dr ? rawSpec(t, dr.ref) : undefined;
  const subsetSpec = chosen.subset && drSpec && Array.isArray(drSpec.subsets) ? (drSpec.subsets as { name?: string }[]).find((s) => s?.name === chosen.subset) : undefined;
  steps.push({
    kind: 'cluster',
    at,
    actor: 'istio-proxy',
    action: `cluster ${chosen.cluster}${choices.length > 1 ? ` (chosen with probability ${(chosen.probability * 100).toFixed(1)}%)` : ''}`,
    detail:
      (dr
        ? `DestinationRule ${configName(dr.ref)} (looked up in the client namespace ${src.namespace}, then the host's, then the root namespace)${chosen.subset ? `: subset ${chosen.subset} = pods with ${JSON.stringify(eps.subsetLabels ?? {})}` : ''}; ${describePolicy(tp)}.`
        : `No DestinationRule for ${chosen.host}: ${describePolicy(undefined)}.`) + (eps.subsetMissing ? ` No DestinationRule visible to ${src.namespace} defines subset ${chosen.subset}, so istiod generates no such cluster.` : ''),
    ...(subsetSpec ? { rule: yamlOf(subsetSpec) } : drSpec?.trafficPolicy ? { rule: yamlOf({ trafficPolicy: drSpec.trafficPolicy }) } : {}),
    ...(dr ? { config: dr.ref } : {}),
    verdict: eps.subsetMissing ? 'reject' : 'pass',
    envoy: { cluster: chosen.cluster },
    latencyUs: 0,
  });
  if (eps.subsetMissing) {
    res.verdict = {
      kind: 'cluster-not-found',
      status: 503,
      responseFlags: 'NC',
      text: `the route points at ${chosen.cluster}, but no DestinationRule defines subset ${chosen.subset} for ${chosen.host}: Envoy has no such cluster and answers 503 (NC) — istioctl analyze reports IST0101 (ReferencedResourceNotFound)`,
      ...(route?.virtualService ? { config: route.virtualService.ref } : {}),
    };
    return res;
  }

  // 5. endpoint
  if (eps.endpoints.length === 0) {
    steps.push({
      kind: 'endpoint',
      at,
      actor: 'istio-proxy',
      action: `no healthy endpoint in ${chosen.cluster}: 503 no healthy upstream (UH)`,
      detail: `EDS lists ${eps.notReady.length ? `${eps.notReady.length} endpoint(s), none Ready` : 'no endpoint'}${chosen.subset ? ` carrying the subset labels ${JSON.stringify(eps.subsetLabels)}` : ''}.`,
      verdict: 'reject',
      envoy: { cluster: chosen.cluster, responseFlags: 'UH' },
      latencyUs: 0,
    });
    res.verdict = { kind: 'no-healthy-upstream', status: 503, responseFlags: 'UH', body: 'no healthy upstream', text: `cluster ${chosen.cluster} has no ready endpoint: Envoy answers 503 "no healthy upstream"` };
    return res;
  }
  const lb = tp?.loadBalancer?.simple ?? 'LEAST_REQUEST';
  const ep = eps.endpoints[Math.min(eps.endpoints.length - 1, Math.floor(rnd() * eps.endpoints.length))];
  steps.push({
    kind: 'endpoint',
    at,
    actor: 'istio-proxy',
    action: `endpoint ${ep.ip}:${ep.port}${ep.pod ? ` (${ep.pod.namespace}/${ep.pod.name})` : ''} of ${eps.endpoints.length}`,
    detail: `${lb} load balancing over the cluster's EDS endpoints (${eps.endpoints.map((e) => `${e.ip}:${e.port}`).join(', ')}); with idle hosts each is equally likely (1/${eps.endpoints.length}). Envoy connects to the pod IP and target port directly.${tp?.connectionPool ? ` Circuit breakers: ${describePolicy({ connectionPool: tp.connectionPool })}; a single request is under every limit.` : ''}`,
    verdict: 'pass',
    envoy: { cluster: chosen.cluster },
    latencyUs: 0,
  });

  // 6. TLS origination (auto mTLS unless the DestinationRule sets tls)
  const dstPod = ep.pod;
  const dstSidecar = dstPod ? podInjected(t, dstPod) : undefined;
  let tls: Upstream['tls'];
  let why: string;
  if (tp?.tls) {
    tls = tp.tls.mode === 'DISABLE' ? 'plaintext' : tp.tls.mode;
    why = `DestinationRule ${configName(dr!.ref)} sets tls.mode ${tp.tls.mode}, which overrides auto mTLS`;
  } else if (dstSidecar?.injected) {
    const m = effectiveMtls(t, dstPod!, ep.port, opts);
    if (m.mode === 'DISABLE') {
      tls = 'plaintext';
      why = `auto mTLS: the endpoint has a sidecar but its PeerAuthentication is DISABLE (${m.explanation}), so the client sends plaintext`;
    } else {
      tls = 'ISTIO_MUTUAL';
      why = 'auto mTLS: the endpoint carries the sidecar (EDS metadata tlsMode=istio), so the client sidecar originates Istio mTLS';
    }
  } else {
    tls = 'plaintext';
    why = 'auto mTLS: the endpoint has no sidecar (no tlsMode=istio), so the client sidecar sends plaintext';
  }
  const sni = tls === 'ISTIO_MUTUAL' ? istioSni(chosen.port, chosen.subset, chosen.host) : tp?.tls?.sni;
  const clientId = spiffeId(src, opts.trustDomain);
  steps.push({
    kind: 'tls-origination',
    at,
    actor: 'istio-proxy',
    action: tls === 'ISTIO_MUTUAL' ? `mTLS origination as ${clientId}` : tls === 'plaintext' ? 'plaintext upstream (no TLS origination)' : `TLS origination (${tls})`,
    detail:
      `${why}.` +
      (tls === 'ISTIO_MUTUAL'
        ? ` Client certificate ${clientId} (issued by istiod's CA through the SDS of pilot-agent; 24 h lifetime, renewed at about half of it). SNI ${sni}; the server certificate must carry ${dstPod ? spiffeId(dstPod, opts.trustDomain) : 'the destination service account\'s SPIFFE id'}.`
        : ''),
    verdict: 'pass',
    envoy: { cluster: chosen.cluster, ...(sni ? { sni } : {}) },
    latencyUs: tls === 'plaintext' ? 0 : MESH_LATENCY.mtlsHandshakeUs,
    seedNote:
      tls === 'ISTIO_MUTUAL'
        ? 'The seed says certificates rotate "every 24 hours": 24 h is the default certificate lifetime (SECRET_TTL); pilot-agent renews it when half of that has passed (SECRET_GRACE_PERIOD_RATIO 0.5), so about every 12 hours.'
        : undefined,
  });

  // 7. Envoy's own connection to the endpoint
  const c = envoyConnect(ep.ip, ep.port);
  steps.push(c.step);
  res.upstream = {
    src: srcIp,
    sport: envoySport,
    dst: ep.ip,
    dport: ep.port,
    uid: PROXY_UID,
    ...(ep.pod ? { pod: ep.pod } : {}),
    tls,
    ...(sni ? { sni } : {}),
    ...(tls === 'ISTIO_MUTUAL' ? { clientIdentity: clientId } : {}),
    cluster: chosen.cluster,
    service: chosen.host,
    ...(chosen.subset ? { subset: chosen.subset } : {}),
    protocol,
    host,
  };
  return res;
}

// ---------------------------------------------------------------- inbound

export interface InboundConnection {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  tls: Upstream['tls'];
  /** SPIFFE id of the client certificate, for ISTIO_MUTUAL. */
  clientIdentity?: string;
  sni?: string;
  protocol?: 'http' | 'tcp';
  host?: string;
}

/** The server side: from the packet arriving on the pod's eth0 to the application (or the reset / 403). */
export function meshInbound(t: Topology, dstPod: PodModel, conn: InboundConnection, request: MeshRequest = {}, opts: MeshOptions = {}): MeshInboundResult {
  const sidecar = podInjected(t, dstPod);
  const at = podRef(dstPod);
  const steps: MeshStep[] = [];
  const protocol = conn.protocol ?? request.protocol ?? 'http';
  const mtls = conn.tls === 'ISTIO_MUTUAL';
  const base = { destination: dstPod, sidecar, steps, appPort: conn.dport };
  if (!sidecar.injected) {
    if (conn.tls !== 'plaintext') {
      steps.push({
        kind: 'reset',
        at,
        actor: 'app',
        action: `${conn.tls} from the client reaches an application without a sidecar: the TLS handshake fails`,
        detail: 'The destination has no istio-proxy to terminate TLS; the application reads a TLS ClientHello where it expects plaintext.',
        verdict: 'reject',
        latencyUs: 0,
      });
      return {
        ...base,
        verdict: {
          kind: 'upstream-connect-error',
          status: 503,
          responseFlags: 'UF',
          body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error: WRONG_VERSION_NUMBER',
          text: 'the client sidecar sends TLS to a pod without a sidecar (a DestinationRule forces tls); the handshake fails and the client gets 503',
        },
      };
    }
    steps.push({
      kind: 'passthrough',
      at,
      actor: 'app',
      action: `no sidecar: the connection reaches the application on :${conn.dport} directly`,
      detail: `${dstPod.namespace}/${dstPod.name} has no istio-proxy (${sidecar.reason}); no PeerAuthentication or AuthorizationPolicy is enforced here.`,
      verdict: 'allow',
      packet: { src: conn.src, sport: conn.sport, dst: conn.dst, dport: conn.dport, transport: 'plaintext' },
      latencyUs: 0,
    });
    return { ...base, verdict: { kind: 'not-in-mesh', text: `${dstPod.namespace}/${dstPod.name} is outside the mesh; the request reaches the application unchecked` } };
  }

  // 1. netfilter: PREROUTING → ISTIO_INBOUND → ISTIO_IN_REDIRECT
  const ns = podMeshNetns(dstPod, conn.dst, opts);
  const w = walkPodInput(ns, { src: conn.src, sport: conn.sport, dst: conn.dst, dport: conn.dport });
  const rules = matchedRules(w);
  const redirected = w.hooks.some((h) => h.nat.some((n) => n.kind === 'REDIRECT'));
  steps.push({
    kind: 'iptables',
    at,
    actor: 'kernel',
    action: redirected ? `nat/PREROUTING: REDIRECT ${conn.dst}:${conn.dport} → ${w.packet.dst}:${INBOUND_PORT} (Envoy's inbound listener)` : `nat/PREROUTING: port ${conn.dport} is excluded from capture; the connection goes straight to the socket on :${conn.dport}`,
    detail: redirected
      ? 'Inbound TCP to any port except 15008, 15090, 15021 and 15020 (and annotation exclusions) is redirected to 15006; conntrack keeps the original port for SO_ORIGINAL_DST.'
      : 'ISTIO_INBOUND returns early for the excluded ports (HBONE 15008, Envoy stats 15090, health 15021, merged metrics 15020), so no sidecar policy applies.',
    rule: rules[rules.length - 1],
    rules,
    verdict: redirected ? 'redirect' : 'pass',
    packet: { src: conn.src, sport: conn.sport, dst: w.packet.dst, dport: w.packet.dport ?? conn.dport, transport: mtls ? 'mTLS' : 'plaintext' },
    latencyUs: hookCost(w.hooks.reduce((a, h) => a + h.rulesEvaluated, 0), w.hooks.length, redirected ? 1 : 0),
  });
  if (!redirected) return { ...base, verdict: { kind: 'allow', text: `port ${conn.dport} is not captured; the request reaches its socket directly` } };

  // 2. inbound listener + PeerAuthentication
  const m = effectiveMtls(t, dstPod, conn.dport, opts);
  const acc = acceptsTransport(m.mode, mtls);
  steps.push({
    kind: 'peer-authentication',
    at,
    actor: 'istio-proxy',
    action: `virtualInbound 0.0.0.0:${INBOUND_PORT}, port ${conn.dport}: mTLS mode ${m.mode} — ${mtls ? 'mTLS' : 'plaintext'} ${acc.accepted ? 'accepted' : 'refused'}`,
    detail: `${m.explanation}. ${acc.text}.`,
    ...(m.decidedBy ? { config: m.decidedBy.ref, rule: yamlOf(rawSpec(t, m.decidedBy.ref) ?? {}) } : {}),
    verdict: acc.accepted ? 'pass' : 'reject',
    envoy: { listener: 'virtualInbound', filterChain: `0.0.0.0_${conn.dport}${mtls ? ' (tls)' : ' (raw_buffer)'}` },
    latencyUs: 0,
  });
  if (!acc.accepted) {
    steps.push({
      kind: 'reset',
      at,
      actor: 'istio-proxy',
      action: m.mode === 'STRICT' ? 'connection closed: plaintext to a STRICT workload' : 'connection fails: TLS to a DISABLE workload',
      detail: m.mode === 'STRICT' ? 'No filter chain of the inbound listener matches a plaintext connection; Envoy closes it right after accept. The client reads ECONNRESET / EOF.' : acc.text,
      verdict: 'reject',
      latencyUs: 0,
    });
    return {
      ...base,
      mtls: m,
      verdict: {
        kind: 'connection-reset',
        text:
          m.mode === 'STRICT'
            ? `PeerAuthentication ${m.decidedBy ? configName(m.decidedBy.ref) : ''} is STRICT on ${dstPod.namespace}/${dstPod.name}:${conn.dport} and the connection is plaintext: the server sidecar resets it`
            : `${dstPod.namespace}/${dstPod.name}:${conn.dport} is DISABLE but the client sent TLS`,
        ...(m.decidedBy ? { config: m.decidedBy.ref } : {}),
      },
    };
  }
  const peer = mtls && conn.clientIdentity ? conn.clientIdentity.replace(/^spiffe:\/\//, '') : undefined;
  if (mtls) {
    steps.push({
      kind: 'tls-termination',
      at,
      actor: 'istio-proxy',
      action: `mTLS terminated: peer ${conn.clientIdentity}`,
      detail: `The sidecar presents ${spiffeId(dstPod, opts.trustDomain)} and verifies the client certificate against the mesh root CA; the peer principal for AuthorizationPolicy is "${peer}".`,
      verdict: 'pass',
      packet: { src: conn.src, sport: conn.sport, dst: w.packet.dst, dport: INBOUND_PORT, transport: 'mTLS' },
      latencyUs: MESH_LATENCY.mtlsHandshakeUs / 2,
    });
  }

  // 3. RBAC
  const authz = evaluateAuthorization(
    t,
    dstPod,
    {
      protocol,
      sourceIp: conn.src,
      ...(peer ? { sourcePrincipal: peer } : {}),
      destinationIp: conn.dst,
      destinationPort: conn.dport,
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      host: request.host ?? conn.host,
      headers: request.headers ?? {},
      ...(request.auth ? { auth: request.auth } : {}),
      ...(conn.sni ? { sni: conn.sni } : {}),
    },
    opts,
  );
  const decided = authz.decidedBy;
  const ruleSpec = decided && decided.rule !== undefined ? ((rawSpec(t, decided.policy)?.rules as unknown[] | undefined) ?? [])[decided.rule] : undefined;
  const ignoredText = authz.ignored.length ? ` Not applied: ${authz.ignored.map((i) => `${configName(i.policy)} (${i.why})`).join('; ')}.` : '';
  steps.push({
    kind: 'authorization',
    at,
    actor: 'istio-proxy',
    action: authz.allowed ? `RBAC: allowed — ${decided ? `${decided.action} ${configName(decided.policy)} rule ${decided.rule}` : 'no ALLOW policy applies'}` : `RBAC: access denied${decided ? ` by ${decided.action} ${configName(decided.policy)} rule ${decided.rule}` : ' (no ALLOW policy matches)'}`,
    detail: `${authz.text}.${ignoredText}${authz.shadow.length ? ` Dry-run: ${authz.shadow.map((s) => `${configName(s.policy)} rule ${s.rule} ${s.matched ? 'would match' : 'would not match'}`).join('; ')}.` : ''}${authz.audited.length ? ` AUDIT matches: ${authz.audited.map((s) => `${configName(s.policy)} rule ${s.rule}`).join(', ')}.` : ''}`,
    ...(ruleSpec ? { rule: yamlOf(ruleSpec) } : {}),
    ...(decided ? { config: decided.policy } : {}),
    verdict: authz.allowed ? 'allow' : 'deny',
    latencyUs: MESH_LATENCY.rbacUs,
  });
  if (!authz.allowed) {
    return {
      ...base,
      mtls: m,
      authz,
      verdict:
        protocol === 'http'
          ? { kind: 'rbac-denied', status: 403, body: 'RBAC: access denied', responseFlags: '-', text: authz.text, ...(decided ? { config: decided.policy } : {}) }
          : { kind: 'rbac-denied', text: `${authz.text} (TCP: the sidecar closes the connection)`, ...(decided ? { config: decided.policy } : {}) },
    };
  }

  // 4. forward to the application: inbound|PORT|| from 127.0.0.6
  const family = parseIP(conn.dst)?.family ?? 4;
  const bind = family === 4 ? INBOUND_PASSTHROUGH_V4 : INBOUND_PASSTHROUGH_V6;
  const fw = walkPodOutput(ns, { src: bind, sport: conn.sport + 1, dst: conn.dst, dport: conn.dport, uid: PROXY_UID });
  const fr = matchedRules(fw);
  steps.push({
    kind: 'forward',
    at,
    actor: 'istio-proxy',
    action: `cluster inbound|${conn.dport}||: Envoy connects ${bind} → ${conn.dst}:${conn.dport} (the application)`,
    detail: `The inbound cluster forwards to the pod's own IP on the original port over lo, from ${bind} (InboundPassthroughBindIpv${family}); "-s ${bind}/${family === 4 ? 32 : 128} -o lo -j RETURN" keeps it from being captured again.`,
    rule: fr[fr.length - 1],
    rules: fr,
    verdict: 'allow',
    envoy: { cluster: `inbound|${conn.dport}||` },
    packet: { src: bind, sport: conn.sport + 1, dst: conn.dst, dport: conn.dport, uid: PROXY_UID, transport: 'plaintext' },
    latencyUs: (protocol === 'http' ? MESH_LATENCY.envoyHttpUs : MESH_LATENCY.envoyTcpUs) + MESH_LATENCY.loopbackUs + hookCost(fw.hooks.reduce((a, h) => a + h.rulesEvaluated, 0), fw.hooks.length, 0),
  });
  return { ...base, mtls: m, authz, verdict: { kind: 'allow', text: `${authz.text}; the request reaches ${dstPod.namespace}/${dstPod.name}:${conn.dport}`, ...(decided ? { config: decided.policy } : {}) } };
}

// ---------------------------------------------------------------- both sides

/** The whole mesh exchange from a client pod to a destination, with the combined verdict. */
export function meshRequest(t: Topology, src: PodModel, dst: MeshDestination, request: MeshRequest = {}, opts: MeshOptions = {}): MeshRequestResult {
  const out = meshOutbound(t, src, dst, request, opts);
  const notes = [...out.notes];
  if (out.verdict) return { outbound: out, verdict: out.verdict, steps: out.steps, notes };
  const up = out.upstream!;
  let dstPod = up.pod;
  // the app's connection went to a ClusterIP without a client sidecar: kube-proxy picks the endpoint
  if (!dstPod && up.uid !== PROXY_UID) {
    const svc = serviceByClusterIP(t, up.dst, up.dport);
    if (svc) {
      const eps = serviceEndpoints(t, svc.service, svc.port).filter((e) => e.ready);
      if (eps.length) {
        const rnd = opts.random ?? seeded(2);
        const e = eps[Math.min(eps.length - 1, Math.floor(rnd() * eps.length))];
        dstPod = e.pod;
        notes.push(`without a client sidecar kube-proxy DNATs ${up.dst}:${up.dport} to ${e.ip}:${e.port} (one of ${eps.length})`);
        up.dst = e.ip;
        up.dport = e.port;
      } else {
        const v: MeshVerdict = { kind: 'not-in-mesh', text: `Service ${svc.fqdn} has no ready endpoint (kube-proxy rejects the connection)` };
        return { outbound: out, verdict: v, steps: out.steps, notes };
      }
    }
  }
  if (!dstPod) {
    return { outbound: out, verdict: { kind: 'allow', text: `${up.dst}:${up.dport} is outside the topology's pods; the mesh does not act on the far side` }, steps: out.steps, notes };
  }
  const inbound = meshInbound(t, dstPod, { src: up.src, sport: up.sport, dst: up.dst, dport: up.dport, tls: up.tls, ...(up.clientIdentity ? { clientIdentity: up.clientIdentity } : {}), ...(up.sni ? { sni: up.sni } : {}), protocol: up.protocol, ...(up.host ? { host: up.host } : {}) }, request, opts);
  let verdict = inbound.verdict;
  if (verdict.kind === 'connection-reset' && up.uid === PROXY_UID) {
    verdict = {
      kind: 'upstream-connect-error',
      status: up.protocol === 'http' ? 503 : undefined,
      responseFlags: 'UC',
      body: up.protocol === 'http' ? UPSTREAM_RESET_BODY : undefined,
      text: `${inbound.verdict.text}; the client sidecar sees the reset and answers 503 "${UPSTREAM_RESET_BODY}"`,
      ...(inbound.verdict.config ? { config: inbound.verdict.config } : {}),
    };
  } else if (verdict.kind === 'connection-reset') {
    verdict = { ...verdict, text: `${verdict.text}; the client application (no sidecar) reads "Connection reset by peer" (curl: (56) Recv failure: Connection reset by peer)` };
  }
  return { outbound: out, inbound, verdict, steps: [...out.steps, ...inbound.steps], notes };
}

export { principalOf };
