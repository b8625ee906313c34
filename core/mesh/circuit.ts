// A small discrete-event simulation of one client sidecar's upstream cluster
// under a burst of requests: Envoy's circuit breakers (from the
// DestinationRule connectionPool) and outlier detection (outlierDetection).
//
// Modelled on Envoy's connection pool (source/common/conn_pool/conn_pool_base.cc)
// for an HTTP/1.1 upstream (Istio's default when the client speaks HTTP/1.1
// and no h2UpgradePolicy is set):
//   - the load balancer picks a host first (LEAST_REQUEST: fewest active +
//     pending requests, ties in host order — Envoy's power-of-two-choices
//     draws randomly; ROUND_ROBIN: rotation), skipping ejected hosts; none
//     left → 503 `no healthy upstream` (UH; Istio sets the panic threshold to
//     minHealthPercent, 0 by default, so Envoy never falls back to all hosts);
//   - a request takes an idle ("ready") connection of that host if there is
//     one; otherwise it becomes PENDING — also while a new connection is being
//     established — provided fewer than max_pending_requests
//     (http1MaxPendingRequests) are pending in the cluster, else it fails at
//     once: 503, flag UO, `upstream connect error or disconnect/reset before
//     headers. reset reason: overflow`;
//   - a pending request opens a new connection when the host has fewer
//     connections being set up than pending requests and the cluster is under
//     max_connections (tcp.maxConnections) — a host with no connection at all
//     may always open one; so a cold pool hit by a simultaneous burst
//     overflows at max_pending, not at max_connections;
//   - attaching a request to a connection checks max_requests
//     (http2MaxRequests, active requests in the cluster): over it → 503 UO;
//   - pending requests are served first-in first-out as connections become
//     ready (one HTTP/1.1 request per connection at a time, kept alive);
//   - outlier detection counts consecutive 5xx per host (connect failures
//     count: split_external_local_origin_errors is off) and ejects inline at
//     the threshold, if the ejected share stays within maxEjectionPercent
//     (Envoy ejects at least one host regardless); a host returns at the first
//     interval sweep after baseEjectionTime × (times ejected), capped at 300 s.
// Retries are off in the simulation (Istio's default retry policy would
// retry connect failures on another host).

import type { TrafficPolicy } from './types';

export type EndpointBehaviour = 'ok' | '5xx' | 'gateway-error' | 'connect-failure';

export interface BurstEndpoint {
  /** `10.244.2.8:8080` or a pod name. */
  name: string;
  behaviour: EndpointBehaviour;
  /** Time to answer (ms); default serviceTimeMs (failures: failTimeMs). */
  latencyMs?: number;
}

export interface BurstOptions {
  endpoints: BurstEndpoint[];
  /** The cluster's effective traffic policy (DestinationRule + subset). */
  policy?: TrafficPolicy;
  /** Number of requests. */
  requests: number;
  /** Gap between arrivals (ms); 0 = all at once. */
  arrivalIntervalMs?: number;
  /** Answer time of healthy endpoints; default 50 ms. */
  serviceTimeMs?: number;
  /** Answer time of failing endpoints; default 5 ms. */
  failTimeMs?: number;
  /** Time to set up a new upstream connection (TCP + mTLS handshake); default 1 ms. */
  connectTimeMs?: number;
  /** Simulated time after the last arrival, for ejection expiry; default 0 (stop when idle). */
  tailMs?: number;
}

export interface BurstRequestResult {
  id: number;
  arrivalMs: number;
  endpoint?: string;
  startMs?: number;
  endMs: number;
  status: number;
  /** Envoy response flags: - (none), UO, UH, UF. */
  flags: string;
  queued: boolean;
}

export interface BurstEvent {
  atMs: number;
  kind: 'eject' | 'eject-refused' | 'uneject' | 'overflow' | 'no-healthy' | 'queued';
  endpoint?: string;
  request?: number;
  text: string;
}

export interface BurstThresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  /** undefined: outlier detection off. */
  consecutive5xx?: number;
  consecutiveGateway?: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  lb: 'LEAST_REQUEST' | 'ROUND_ROBIN';
}

export interface BurstResult {
  thresholds: BurstThresholds;
  requests: BurstRequestResult[];
  events: BurstEvent[];
  summary: { total: number; ok: number; upstream5xx: number; overflow: number; noHealthyUpstream: number; connectFailure: number; peakConnections: number; peakPending: number };
  /** Per endpoint: requests answered, 5xx, times ejected. */
  perEndpoint: Record<string, { requests: number; errors: number; ejections: number }>;
  notes: string[];
}

export const UNLIMITED = 4294967295;
const MAX_EJECTION_TIME_MS = 300_000;

/** Envoy's thresholds for a traffic policy, with Istio's and Envoy's defaults. */
export function burstThresholds(tp: TrafficPolicy | undefined): { thresholds: BurstThresholds; notes: string[] } {
  const notes: string[] = [];
  const cp = tp?.connectionPool;
  const od = tp?.outlierDetection;
  let consecutive5xx: number | undefined;
  let consecutiveGateway: number | undefined;
  if (od) {
    consecutive5xx = od.consecutive5xxErrors ?? 5;
    if (od.consecutive5xxErrors === undefined) {
      notes.push(
        od.consecutiveErrors !== undefined
          ? `consecutiveErrors ${od.consecutiveErrors} is ignored (Istio ≥ 1.7); Envoy's default consecutive_5xx = 5 applies`
          : 'outlierDetection without consecutive5xxErrors: Envoy\'s default consecutive_5xx = 5 applies',
      );
    }
    if (consecutive5xx === 0) consecutive5xx = undefined;
    if (od.consecutiveGatewayErrors) consecutiveGateway = od.consecutiveGatewayErrors;
  }
  const lbName = tp?.loadBalancer?.simple;
  const lb: BurstThresholds['lb'] = lbName === 'ROUND_ROBIN' ? 'ROUND_ROBIN' : 'LEAST_REQUEST';
  if (lbName && lbName !== 'ROUND_ROBIN' && lbName !== 'LEAST_REQUEST' && lbName !== 'LEAST_CONN') notes.push(`loadBalancer ${lbName} is simulated as LEAST_REQUEST`);
  return {
    thresholds: {
      maxConnections: cp?.tcp?.maxConnections || UNLIMITED,
      maxPendingRequests: cp?.http?.http1MaxPendingRequests || UNLIMITED,
      maxRequests: cp?.http?.http2MaxRequests || UNLIMITED,
      ...(consecutive5xx !== undefined ? { consecutive5xx } : {}),
      ...(consecutiveGateway !== undefined ? { consecutiveGateway } : {}),
      intervalMs: od?.intervalMs ?? 10_000,
      baseEjectionTimeMs: od?.baseEjectionTimeMs ?? 30_000,
      maxEjectionPercent: od?.maxEjectionPercent ?? 10,
      lb,
    },
    notes,
  };
}

interface Host {
  name: string;
  behaviour: EndpointBehaviour;
  latency: number;
  active: number;
  /** Established idle connections. */
  ready: number;
  /** Connections being set up. */
  connecting: number;
  conns: number;
  /** FIFO of waiting request ids. */
  pending: number[];
  consecutive5xx: number;
  consecutiveGw: number;
  ejectedUntil?: number;
  ejections: number;
}

type Ev =
  | { at: number; seq: number; kind: 'arrive'; id: number }
  | { at: number; seq: number; kind: 'connected'; host: Host }
  | { at: number; seq: number; kind: 'done'; id: number; host: Host }
  | { at: number; seq: number; kind: 'sweep' };
type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const OVERFLOW_BODY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';

/** Runs the burst; deterministic for given options. */
export function simulateBurst(o: BurstOptions): BurstResult {
  const { thresholds: th, notes } = burstThresholds(o.policy);
  const service = o.serviceTimeMs ?? 50;
  const fail = o.failTimeMs ?? 5;
  const connectMs = o.connectTimeMs ?? 1;
  const hosts: Host[] = o.endpoints.map((e) => ({
    name: e.name,
    behaviour: e.behaviour,
    latency: e.latencyMs ?? (e.behaviour === 'ok' ? service : fail),
    active: 0,
    ready: 0,
    connecting: 0,
    conns: 0,
    pending: [],
    consecutive5xx: 0,
    consecutiveGw: 0,
    ejections: 0,
  }));
  const results = new Map<number, BurstRequestResult>();
  const events: BurstEvent[] = [];
  const queue: Ev[] = [];
  let seq = 0;
  const push = (e: DistOmit<Ev, 'seq'>): void => {
    const ev = { ...e, seq: seq++ } as Ev;
    let i = queue.length;
    while (i > 0 && (queue[i - 1].at > ev.at || (queue[i - 1].at === ev.at && queue[i - 1].seq > ev.seq))) i--;
    queue.splice(i, 0, ev);
  };
  const gap = o.arrivalIntervalMs ?? 0;
  for (let i = 0; i < o.requests; i++) push({ at: i * gap, kind: 'arrive', id: i });
  const endAt = (o.requests - 1) * gap + (o.tailMs ?? 0);
  if (th.consecutive5xx !== undefined || th.consecutiveGateway !== undefined) {
    for (let t = th.intervalMs; t <= endAt; t += th.intervalMs) push({ at: t, kind: 'sweep' });
  }
  let totalConns = 0;
  let totalActive = 0;
  let totalPending = 0;
  let peakConnections = 0;
  let peakPending = 0;
  let rr = 0;
  const ejectedCount = (): number => hosts.filter((h) => h.ejectedUntil !== undefined).length;

  const pick = (): Host | undefined => {
    const healthy = hosts.filter((h) => h.ejectedUntil === undefined);
    if (!healthy.length) return undefined;
    if (th.lb === 'ROUND_ROBIN') return healthy[rr++ % healthy.length];
    let best = healthy[0];
    for (const h of healthy) if (h.active + h.pending.length < best.active + best.pending.length) best = h;
    return best;
  };

  const eject = (h: Host, now: number, why: string): void => {
    const n = hosts.length;
    const active = ejectedCount();
    if ((100 * (active + 1)) / n > th.maxEjectionPercent && active > 0) {
      events.push({ atMs: now, kind: 'eject-refused', endpoint: h.name, text: `${h.name} reached ${why} but ejecting it would exceed maxEjectionPercent ${th.maxEjectionPercent}% (${active} of ${n} already ejected); it stays in the pool` });
      return;
    }
    h.ejections++;
    const dur = Math.min(th.baseEjectionTimeMs * h.ejections, Math.max(MAX_EJECTION_TIME_MS, th.baseEjectionTimeMs));
    h.ejectedUntil = now + dur;
    h.consecutive5xx = 0;
    h.consecutiveGw = 0;
    events.push({ atMs: now, kind: 'eject', endpoint: h.name, text: `${h.name} ejected after ${why} for ${dur / 1000}s (ejection #${h.ejections}: baseEjectionTime × ${h.ejections}); it returns at the first ${th.intervalMs / 1000}s interval sweep after ${(now + dur) / 1000}s` });
  };

  const failed = (h: Host, now: number): void => {
    h.consecutive5xx++;
    if (h.behaviour !== '5xx') h.consecutiveGw++;
    if (h.ejectedUntil !== undefined) return;
    if (th.consecutive5xx !== undefined && h.consecutive5xx >= th.consecutive5xx) eject(h, now, `${h.consecutive5xx} consecutive 5xx`);
    else if (th.consecutiveGateway !== undefined && h.consecutiveGw >= th.consecutiveGateway) eject(h, now, `${h.consecutiveGw} consecutive gateway errors`);
  };

  /** attachStreamToClient: the max_requests check, then the request runs on a ready connection. */
  const attach = (h: Host, id: number, now: number, queued: boolean): void => {
    const r = results.get(id)!;
    r.endpoint = h.name;
    r.queued = queued;
    if (totalActive >= th.maxRequests) {
      Object.assign(r, { status: 503, flags: 'UO', endMs: now });
      events.push({ atMs: now, kind: 'overflow', request: id, endpoint: h.name, text: `request ${id}: ${totalActive} active requests = http2MaxRequests ${th.maxRequests}: 503 (UO) "${OVERFLOW_BODY}"` });
      return;
    }
    h.ready--;
    h.active++;
    totalActive++;
    r.startMs = now;
    push({ at: now + h.latency, kind: 'done', id, host: h });
  };

  /** tryCreateNewConnections: one per pending request not yet covered by a connection being set up. */
  const connectMore = (h: Host, now: number): void => {
    while (h.pending.length > h.connecting && (totalConns < th.maxConnections || h.conns === 0)) {
      h.connecting++;
      h.conns++;
      totalConns++;
      peakConnections = Math.max(peakConnections, totalConns);
      push({ at: now + (h.behaviour === 'connect-failure' ? h.latency : connectMs), kind: 'connected', host: h });
    }
  };

  /** onUpstreamReady: pending requests (FIFO) take ready connections. */
  const drain = (h: Host, now: number): void => {
    while (h.pending.length && h.ready > 0) {
      const id = h.pending.shift()!;
      totalPending--;
      attach(h, id, now, true);
    }
  };

  while (queue.length) {
    const ev = queue.shift()!;
    const now = ev.at;
    if (ev.kind === 'sweep') {
      for (const h of hosts) {
        if (h.ejectedUntil !== undefined && h.ejectedUntil <= now) {
          h.ejectedUntil = undefined;
          events.push({ atMs: now, kind: 'uneject', endpoint: h.name, text: `${h.name} returns to the pool at the interval sweep (${now / 1000}s)` });
        }
      }
      continue;
    }
    if (ev.kind === 'arrive') {
      const r: BurstRequestResult = { id: ev.id, arrivalMs: now, endMs: now, status: 0, flags: '-', queued: false };
      results.set(ev.id, r);
      const h = pick();
      if (!h) {
        Object.assign(r, { status: 503, flags: 'UH', endMs: now });
        events.push({ atMs: now, kind: 'no-healthy', request: ev.id, text: `request ${ev.id}: every host is ejected: 503 no healthy upstream (UH)` });
        continue;
      }
      if (h.ready > 0) {
        attach(h, ev.id, now, false);
        continue;
      }
      if (totalPending >= th.maxPendingRequests) {
        Object.assign(r, { status: 503, flags: 'UO', endMs: now, endpoint: h.name });
        events.push({ atMs: now, kind: 'overflow', request: ev.id, endpoint: h.name, text: `request ${ev.id}: no idle connection to ${h.name} and ${totalPending} pending = http1MaxPendingRequests ${th.maxPendingRequests}: 503 (UO) "${OVERFLOW_BODY}"` });
        continue;
      }
      h.pending.push(ev.id);
      totalPending++;
      peakPending = Math.max(peakPending, totalPending);
      r.endpoint = h.name;
      const before = h.connecting;
      connectMore(h, now);
      if (h.connecting === before && h.pending.length > h.connecting) {
        events.push({ atMs: now, kind: 'queued', request: ev.id, endpoint: h.name, text: `request ${ev.id}: ${totalConns} connections = maxConnections ${th.maxConnections}; waits for a connection to ${h.name} (${totalPending} pending)` });
      }
      continue;
    }
    const h = ev.host;
    if (ev.kind === 'connected') {
      h.connecting--;
      if (h.behaviour === 'connect-failure') {
        h.conns--;
        totalConns--;
        const id = h.pending.shift();
        if (id !== undefined) {
          totalPending--;
          const r = results.get(id)!;
          Object.assign(r, { status: 503, flags: 'UF', endMs: now, endpoint: h.name });
        }
        failed(h, now);
        for (const x of [h, ...hosts.filter((y) => y !== h)]) connectMore(x, now);
        continue;
      }
      h.ready++;
      drain(h, now);
      continue;
    }
    // done
    const r = results.get(ev.id)!;
    h.active--;
    totalActive--;
    h.ready++;
    r.endMs = now;
    if (h.behaviour === 'ok') {
      r.status = 200;
      h.consecutive5xx = 0;
      h.consecutiveGw = 0;
    } else {
      r.status = h.behaviour === '5xx' ? 500 : 503;
      failed(h, now);
    }
    drain(h, now);
    for (const x of hosts) if (x !== h) connectMore(x, now);
  }

  const list = [...results.values()].sort((a, b) => a.id - b.id);
  const perEndpoint: BurstResult['perEndpoint'] = {};
  for (const h of hosts) perEndpoint[h.name] = { requests: 0, errors: 0, ejections: h.ejections };
  for (const r of list) {
    if (r.endpoint && (r.startMs !== undefined || r.flags === 'UF')) {
      perEndpoint[r.endpoint].requests++;
      if (r.status >= 500) perEndpoint[r.endpoint].errors++;
    }
  }
  const summary = {
    total: list.length,
    ok: list.filter((r) => r.status === 200).length,
    upstream5xx: list.filter((r) => (r.startMs !== undefined || r.flags === 'UF') && r.status >= 500).length,
    overflow: list.filter((r) => r.flags === 'UO').length,
    noHealthyUpstream: list.filter((r) => r.flags === 'UH').length,
    connectFailure: list.filter((r) => r.flags === 'UF').length,
    peakConnections,
    peakPending,
  };
  notes.push('retries are off in the simulation; Istio\'s default retry policy (2 attempts on connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes) would retry connect failures on another host');
  if (th.lb === 'LEAST_REQUEST') notes.push('LEAST_REQUEST is simulated deterministically (fewest active requests, ties in endpoint order); Envoy picks the better of two random hosts');
  return { thresholds: th, requests: list, events, summary, perEndpoint, notes };
}
