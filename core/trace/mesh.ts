// The Istio sidecar on the packet walk: core/mesh decides what the client and
// server sidecars do (istio-iptables redirect, Envoy listener/route/cluster,
// endpoint choice, mTLS, PeerAuthentication, AuthorizationPolicy); this module
// turns those steps into walk events and says how a mesh verdict ends a walk.
//
// What changes on the wire with a client sidecar: the application's SYN to the
// ClusterIP never leaves the pod. ISTIO_OUTPUT redirects it to Envoy on
// 127.0.0.1:15001; Envoy picks the endpoint itself and opens its own
// connection (uid 1337, a new ephemeral port) straight to the endpoint pod IP,
// so kube-proxy's KUBE-SERVICES rules on the node have nothing to translate.
// With a server sidecar, ISTIO_INBOUND in the destination pod redirects the
// arriving connection to 15006, where Envoy terminates mTLS, applies the
// policies and connects to the application.

import { meshInbound, meshOutbound, podInjected, type MeshInboundResult, type MeshOutboundResult, type MeshRequest, type MeshStep, type MeshVerdict } from '../mesh';
import type { PodModel, Topology } from '../model/types';
import type { DropReason, TraceEventKind, TraceRequest, TraceVerdict } from './types';

/** What the walk needs to emit one event for a mesh step. */
export interface MeshEventSpec {
  kind: TraceEventKind;
  action: string;
  detail: string;
  verdict: TraceVerdict;
  rule?: string;
  rules?: string[];
  latencyUs: number;
  seedNote?: string;
}

const KIND: Record<MeshStep['kind'], TraceEventKind> = {
  sidecar: 'proxy',
  iptables: 'netfilter',
  listener: 'proxy',
  route: 'proxy',
  cluster: 'proxy',
  endpoint: 'service',
  'circuit-breaker': 'proxy',
  'tls-origination': 'proxy',
  'tls-termination': 'proxy',
  'peer-authentication': 'policy',
  authorization: 'policy',
  forward: 'proxy',
  'local-reply': 'proxy',
  reset: 'drop',
  passthrough: 'proxy',
};

const VERDICT: Record<MeshStep['verdict'], TraceVerdict> = {
  pass: 'pass',
  redirect: 'dnat',
  allow: 'accept',
  deny: 'drop',
  reject: 'reject',
  info: 'info',
};

/** One walk event per mesh step; the actor (kernel, istio-proxy, app) leads the detail. */
export function meshStepEvent(s: MeshStep): MeshEventSpec {
  const who = s.actor === 'istio-proxy' ? 'istio-proxy (Envoy)' : s.actor === 'kernel' ? "the pod's netfilter (istio-iptables rules)" : 'the application';
  const envoy = s.envoy
    ? Object.entries(s.envoy)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : v}`)
        .join('; ')
    : '';
  const spec: MeshEventSpec = {
    // A reset is reported through the walk's drop; here it is the sidecar's step.
    kind: s.kind === 'reset' ? 'proxy' : KIND[s.kind],
    action: s.action,
    detail: `${who}: ${s.detail}${envoy ? ` [Envoy: ${envoy}]` : ''}`,
    verdict: VERDICT[s.verdict],
    latencyUs: s.latencyUs,
  };
  if (s.rule !== undefined) spec.rule = s.rule;
  if (s.rules?.length) spec.rules = s.rules;
  if (s.seedNote) spec.seedNote = s.seedNote;
  return spec;
}

/** How a mesh verdict that stops the request ends the walk (undefined: the request goes on). */
export function meshVerdictEnd(v: MeshVerdict): { reason: DropReason; text: string; ok: boolean } | undefined {
  const flags = v.responseFlags && v.responseFlags !== '-' ? ` (response flags ${v.responseFlags})` : '';
  const status = v.status !== undefined ? `HTTP ${v.status}${flags}${v.body ? ` "${v.body}"` : ''}: ` : '';
  switch (v.kind) {
    case 'allow':
    case 'not-in-mesh':
      return undefined;
    case 'direct-response':
      // The sidecar answers locally (VirtualService directResponse / redirect): the client gets a response.
      return { reason: 'unreachable', text: `${status}${v.text}`, ok: true };
    case 'rbac-denied':
      return { reason: 'policy', text: `${status}${v.text}`, ok: false };
    case 'no-healthy-upstream':
      return { reason: 'no-endpoints', text: `${status}${v.text}`, ok: false };
    default:
      return { reason: 'unreachable', text: `${status}${v.text}`, ok: false };
  }
}

const meshUse = new WeakMap<Topology, boolean>();

/** True when some pod of the topology gets a sidecar (cheap after the first call). */
export function topologyHasMesh(t: Topology): boolean {
  let v = meshUse.get(t);
  if (v === undefined) {
    v = t.pods.some((p) => !p.hostNetwork && podInjected(t, p).injected);
    meshUse.set(t, v);
  }
  return v;
}

/** The sidecar's view of the application's request. */
export function meshRequestOf(req: TraceRequest): MeshRequest {
  return req.kind === 'http' ? { protocol: 'http', method: req.method, path: req.path, ...(req.hostIsIP ? {} : { host: req.host }), ...(req.headers ? { headers: req.headers } : {}) } : { protocol: 'tcp' };
}

/** The client side, for a TCP/HTTP request from `pod` to `dst:port` (undefined: no sidecar acts). */
export function clientSidecar(t: Topology, pod: PodModel, dst: string, port: number, req: TraceRequest, opts: { sourcePort: number; random: () => number }): MeshOutboundResult | undefined {
  if (pod.hostNetwork || !topologyHasMesh(t) || !podInjected(t, pod).injected) return undefined;
  return meshOutbound(t, pod, { ip: dst, port, ...(req.hostIsIP ? {} : { host: req.host }) }, meshRequestOf(req), opts);
}

/** The server side, when the connection reaches `pod` (undefined: no sidecar acts and the client sent plaintext). */
export function serverSidecar(t: Topology, pod: PodModel, conn: Parameters<typeof meshInbound>[2], req: TraceRequest): MeshInboundResult | undefined {
  if (pod.hostNetwork || !topologyHasMesh(t)) return undefined;
  if (!podInjected(t, pod).injected && conn.tls === 'plaintext') return undefined;
  return meshInbound(t, pod, conn, meshRequestOf(req));
}
