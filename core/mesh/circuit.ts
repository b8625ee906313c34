// A small discrete-event simulation of one client sidecar's upstream cluster
// under a burst of requests: Envoy's circuit breakers (from the
// DestinationRule connectionPool) and outlier detection (outlierDetection).
//
// Modelled as Envoy does it (HTTP/1.1 upstream, Istio's default when the
// client speaks HTTP/1.1 and no h2UpgradePolicy is set):
//   - the load balancer picks a host first (LEAST_REQUEST: fewest active
//     requests, ties in host order — Envoy's power-of-two-choices draws
//     randomly; ROUND_ROBIN: rotation), skipping ejected hosts; none left →
//     503 `no healthy upstream` (UH; Istio sets the panic threshold to
//     minHealthPercent, 0 by default, so Envoy never falls back to all hosts);
//   - max_requests (http2MaxRequests) caps active requests in the cluster,
//     max_connections (tcp.maxConnections) caps connections; one HTTP/1.1
//     request per connection, idle connections are reused per host, and a
//     host without any connection may always open one (conn_pool_base.cc);
//   - when no connection can be had the request waits in the host's pending
//     queue if the cluster has fewer than max_pending_requests
//     (http1MaxPendingRequests) waiting, else it fails at once with 503 and
//     the UO flag (`upstream connect error or disconnect/reset before headers.
//     reset reason: overflow`);
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
  idle: number;
  conns: number;
  pending: number[];
  consecutive5xx: number;
  consecutiveGw: number;
  ejectedUntil?: number;
  ejections: number;
}

type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Ev = { at: number; seq: number; kind: 'arrive'; id: number } | { at: number; seq: number; kind: 'done'; id: number; host: Host } | { at: number; seq: number; kind: 'sweep' };

/** Runs the burst; deterministic for given options. */
export function simulateBurst(o: BurstOptions): BurstResult {
  const { thresholds: th, notes } = burstThresholds(o.policy);
  const service = o.serviceTimeMs ?? 50;
  const fail = o.failTimeMs ?? 5;
  const hosts: Host[] = o.endpoints.map((e) => ({
    name: e.name,
    behaviour: e.behaviour,
    latency: e.latencyMs ?? (e.behaviour === 'ok' ? service : fail),
    active: 0,
    idle: 0,
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
  const lastArrival = (o.requests - 1) * gap;
  const endAt = lastArrival + (o.tailMs ?? 0);
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

  const start = (h: Host, id: number, now: number, queued: boolean): void => {
    const r = results.get(id)!;
    r.startMs = now;
    r.endpoint = h.name;
    r.queued = queued;
    h.active++;
    totalActive++;
    push({ at: now + h.latency, kind: 'done', id, host: h });
  };

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
      if (totalActive >= th.maxRequests) {
        Object.assign(r, { status: 503, flags: 'UO', endMs: now, endpoint: h.name });
        events.push({ atMs: now, kind: 'overflow', request: ev.id, text: `request ${ev.id}: ${totalActive} active requests = http2MaxRequests ${th.maxRequests}: 503 (UO)` });
        continue;
      }
      if (h.idle > 0) {
        h.idle--;
        start(h, ev.id, now, false);
      } else if (totalConns < th.maxConnections || h.conns === 0) {
        // Envoy (conn_pool_base.cc) always lets a host with no connection open one, even over the limit
        h.conns++;
        totalConns++;
        peakConnections = Math.max(peakConnections, totalConns);
        start(h, ev.id, now, false);
      } else if (totalPending < th.maxPendingRequests) {
        h.pending.push(ev.id);
        totalPending++;
        peakPending = Math.max(peakPending, totalPending);
        r.endpoint = h.name;
        events.push({ atMs: now, kind: 'queued', request: ev.id, endpoint: h.name, text: `request ${ev.id}: ${totalConns} connections = maxConnections ${th.maxConnections}; queued for ${h.name} (${totalPending} pending)` });
      } else {
        Object.assign(r, { status: 503, flags: 'UO', endMs: now, endpoint: h.name });
        events.push({ atMs: now, kind: 'overflow', request: ev.id, text: `request ${ev.id}: ${totalConns} connections = maxConnections ${th.maxConnections} and ${totalPending} pending = http1MaxPendingRequests ${th.maxPendingRequests}: 503 (UO) "upstream connect error or disconnect/reset before headers. reset reason: overflow"` });
      }
      continue;
    }
    // done
    const h = ev.host;
    const r = results.get(ev.id)!;
    h.active--;
    totalActive--;
    r.endMs = now;
    if (h.behaviour === 'ok') {
      r.status = 200;
      h.consecutive5xx = 0;
      h.consecutiveGw = 0;
    } else {
      r.status = h.behaviour === '5xx' ? 500 : 503;
      r.flags = h.behaviour === 'connect-failure' ? 'UF' : '-';
      h.consecutive5xx++;
      if (h.behaviour !== '5xx') h.consecutiveGw++;
      if (h.ejectedUntil === undefined) {
        if (th.consecutive5xx !== undefined && h.consecutive5xx >= th.consecutive5xx) eject(h, now, `${h.consecutive5xx} consecutive 5xx`);
        else if (th.consecutiveGateway !== undefined && h.consecutiveGw >= th.consecutiveGateway) eject(h, now, `${h.consecutiveGw} consecutive gateway errors`);
      }
    }
    // the connection is free (a failed connect leaves no connection behind)
    if (h.behaviour === 'connect-failure') {
      h.conns--;
      totalConns--;
    } else h.idle++;
    // serve this host's pending queue, then any host waiting for a connection slot
    const serve = (x: Host): boolean => {
      if (!x.pending.length) return false;
      if (x.idle > 0) x.idle--;
      else if (totalConns < th.maxConnections || x.conns === 0) {
        x.conns++;
        totalConns++;
      } else return false;
      const id = x.pending.shift()!;
      totalPending--;
      start(x, id, now, true);
      return true;
    };
    while (serve(h));
    for (const x of hosts) while (serve(x));
  }

  const list = [...results.values()].sort((a, b) => a.id - b.id);
  const perEndpoint: BurstResult['perEndpoint'] = {};
  for (const h of hosts) perEndpoint[h.name] = { requests: 0, errors: 0, ejections: h.ejections };
  for (const r of list) {
    if (r.endpoint && r.startMs !== undefined) {
      perEndpoint[r.endpoint].requests++;
      if (r.status >= 500) perEndpoint[r.endpoint].errors++;
    }
  }
  const summary = {
    total: list.length,
    ok: list.filter((r) => r.status === 200).length,
    upstream5xx: list.filter((r) => r.startMs !== undefined && r.status >= 500).length,
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
