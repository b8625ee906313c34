import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../model';
import { burstThresholds, simulateBurst, UNLIMITED } from './circuit';
import { destinationRuleFor, effectiveTrafficPolicy } from './routing';
import type { TrafficPolicy } from './types';

const pool = (maxConnections?: number, pending?: number, maxRequests?: number): TrafficPolicy => ({
  connectionPool: { tcp: { maxConnections }, http: { http1MaxPendingRequests: pending, http2MaxRequests: maxRequests } },
});
const brief = (r: ReturnType<typeof simulateBurst>) => r.requests.map((q) => `${q.id}:${q.status}${q.flags !== '-' ? `/${q.flags}` : ''}${q.startMs !== undefined ? `@${q.startMs}-${q.endMs}` : ''}${q.queued ? ' queued' : ''}`);

describe('circuit breakers (connectionPool)', () => {
  it('a cold pool hit by a simultaneous burst overflows at http1MaxPendingRequests: requests wait while connections are set up', () => {
    // 5 requests at t=0, no connection yet: r0 is pending and opens a connection (ready at 1 ms),
    // the pending limit (1) is reached, r1–r4 fail at once with 503 UO.
    const r = simulateBurst({ endpoints: [{ name: 'a', behaviour: 'ok' }], policy: pool(2, 1), requests: 5, serviceTimeMs: 100 });
    expect(brief(r)).toEqual(['0:200@1-101 queued', '1:503/UO', '2:503/UO', '3:503/UO', '4:503/UO']);
    expect(r.summary).toMatchObject({ ok: 1, overflow: 4, peakConnections: 1, peakPending: 1 });
  });

  it('spaced arrivals: maxConnections busy connections, then one pending, then overflow', () => {
    // every 10 ms, 100 ms of work, 1 ms to connect: r0 and r1 get their own connections,
    // r2 waits (pending) for r0's connection at 101 ms, r3 and r4 overflow.
    const r = simulateBurst({ endpoints: [{ name: 'a', behaviour: 'ok' }], policy: pool(2, 1), requests: 5, arrivalIntervalMs: 10, serviceTimeMs: 100 });
    expect(brief(r)).toEqual(['0:200@1-101 queued', '1:200@11-111 queued', '2:200@101-201 queued', '3:503/UO', '4:503/UO']);
    expect(r.summary).toMatchObject({ ok: 3, overflow: 2, peakConnections: 2, peakPending: 1 });
    expect(r.events.find((e) => e.request === 3)!.text).toBe(
      'request 3: no idle connection to a and 1 pending = http1MaxPendingRequests 1: 503 (UO) "upstream connect error or disconnect/reset before headers. reset reason: overflow"',
    );
  });

  it('http2MaxRequests caps active requests when a request attaches to a connection', () => {
    const r = simulateBurst({ endpoints: [{ name: 'a', behaviour: 'ok' }], policy: pool(10, undefined, 2), requests: 4, arrivalIntervalMs: 10, serviceTimeMs: 100 });
    // r2 waits for a new connection (pending), which is ready at 21 ms: attaching it finds 2 active → UO;
    // r3 finds that idle connection at once and fails the same way.
    expect(brief(r)).toEqual(['0:200@1-101 queued', '1:200@11-111 queued', '2:503/UO queued', '3:503/UO']);
  });

  it('idle connections are reused: a sequential client needs one connection', () => {
    const r = simulateBurst({ endpoints: [{ name: 'a', behaviour: 'ok' }], policy: pool(1, 1), requests: 3, arrivalIntervalMs: 100, serviceTimeMs: 10 });
    expect(brief(r)).toEqual(['0:200@1-11 queued', '1:200@100-110', '2:200@200-210']);
    expect(r.summary.peakConnections).toBe(1);
  });

  it('no limits: Istio\'s defaults are 2^32-1', () => {
    expect(burstThresholds(undefined).thresholds).toMatchObject({ maxConnections: UNLIMITED, maxPendingRequests: UNLIMITED, maxRequests: UNLIMITED, lb: 'LEAST_REQUEST' });
    expect(burstThresholds(undefined).thresholds.consecutive5xx).toBeUndefined();
    const r = simulateBurst({ endpoints: [{ name: 'a', behaviour: 'ok' }, { name: 'b', behaviour: 'ok' }], requests: 200, serviceTimeMs: 50 });
    expect(r.summary).toMatchObject({ ok: 200, overflow: 0, peakConnections: 200 });
  });
});

describe('outlier detection', () => {
  const od = (consecutive5xxErrors: number, maxEjectionPercent: number): TrafficPolicy => ({
    loadBalancer: { simple: 'ROUND_ROBIN' },
    outlierDetection: { consecutive5xxErrors, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent },
  });

  it('ejects the failing host after consecutive5xxErrors and brings it back at the first sweep after baseEjectionTime', () => {
    // round robin over a, b, c; c answers 500. r2 and r5 go to c; the 2nd consecutive 5xx (r5 done at 505 ms)
    // ejects c for 30 s; r6–r11 alternate between a and b; c returns at the 40 s sweep.
    const r = simulateBurst({
      endpoints: [{ name: 'a', behaviour: 'ok' }, { name: 'b', behaviour: 'ok' }, { name: 'c', behaviour: '5xx' }],
      policy: od(2, 50),
      requests: 12,
      arrivalIntervalMs: 100,
      serviceTimeMs: 10,
      tailMs: 40_000,
    });
    expect(r.requests.map((q) => q.endpoint)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'a', 'b', 'a', 'b']);
    expect(r.summary).toMatchObject({ ok: 10, upstream5xx: 2 });
    expect(r.events.filter((e) => e.kind === 'eject' || e.kind === 'uneject').map((e) => [e.kind, e.endpoint, e.atMs])).toEqual([
      ['eject', 'c', 505],
      ['uneject', 'c', 40_000],
    ]);
    expect(r.events[0].text).toBe('c ejected after 2 consecutive 5xx for 30s (ejection #1: baseEjectionTime × 1); it returns at the first 10s interval sweep after 30.505s');
    expect(r.perEndpoint.c).toEqual({ requests: 2, errors: 2, ejections: 1 });
  });

  it('maxEjectionPercent: the first host is always ejectable, the next only within the limit', () => {
    const eps = [{ name: 'a', behaviour: '5xx' as const }, { name: 'b', behaviour: '5xx' as const }];
    const limited = simulateBurst({ endpoints: eps, policy: od(1, 10), requests: 4, arrivalIntervalMs: 100 });
    expect(limited.events.map((e) => [e.kind, e.endpoint])).toEqual([
      ['eject', 'a'],
      ['eject-refused', 'b'],
      ['eject-refused', 'b'],
      ['eject-refused', 'b'],
    ]);
    expect(limited.events[1].text).toMatch(/would exceed maxEjectionPercent 10% \(1 of 2 already ejected\)/);
    const all = simulateBurst({ endpoints: eps, policy: od(1, 100), requests: 4, arrivalIntervalMs: 100 });
    expect(brief(all)).toEqual(['0:500@1-6 queued', '1:500@101-106 queued', '2:503/UH', '3:503/UH']);
  });

  it('connect failures count as 5xx and end with UF', () => {
    const r = simulateBurst({ endpoints: [{ name: 'dead', behaviour: 'connect-failure' }, { name: 'ok', behaviour: 'ok' }], policy: od(1, 50), requests: 3, arrivalIntervalMs: 100, serviceTimeMs: 10 });
    expect(brief(r)).toEqual(['0:503/UF', '1:200@101-111 queued', '2:200@200-210']);
    expect(r.events[0]).toMatchObject({ kind: 'eject', endpoint: 'dead' });
  });
});

describe('the seed\'s backend-circuit-breaker', () => {
  const SAMPLE = 'resources/samples/mesh.yaml';
  const t = loadTopology({ file: SAMPLE, text: readFileSync(SAMPLE, 'utf8') }).topology!;
  const fqdn = 'backend-service.production.svc.cluster.local';
  const tp = effectiveTrafficPolicy(destinationRuleFor(t, 'production', fqdn), undefined, 80);

  it('reads as Envoy thresholds, with consecutiveErrors ignored and Envoy\'s consecutive_5xx = 5 instead', () => {
    const { thresholds, notes } = burstThresholds(tp);
    expect(thresholds).toEqual({ maxConnections: 100, maxPendingRequests: 50, maxRequests: 100, consecutive5xx: 5, intervalMs: 30_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50, lb: 'LEAST_REQUEST' });
    expect(notes[0]).toBe('consecutiveErrors 5 is ignored (Istio ≥ 1.7); Envoy\'s default consecutive_5xx = 5 applies');
  });

  it('a burst against three backends, one failing: ejection after 5 errors, overflow beyond 100 busy + 50 pending', () => {
    // 300 requests 0.1 ms apart, 50 ms of work: the healthy hosts fill up to 100 connections,
    // 50 more wait, the rest overflow; backend-3 answers 500 in 5 ms and is ejected at its 5th error.
    const r = simulateBurst({
      endpoints: [
        { name: 'backend-1', behaviour: 'ok' },
        { name: 'backend-2', behaviour: 'ok' },
        { name: 'backend-3', behaviour: '5xx' },
      ],
      policy: tp,
      requests: 300,
      arrivalIntervalMs: 0.1,
      serviceTimeMs: 50,
    });
    expect(r.perEndpoint['backend-3'].ejections).toBe(1);
    const eject = r.events.find((e) => e.kind === 'eject')!;
    expect(eject.text).toMatch(/^backend-3 ejected after 5 consecutive 5xx for 30s/);
    // the 5th completed 500 ejects it; requests already sent there still fail, nothing new goes there
    const b3 = r.requests.filter((q) => q.endpoint === 'backend-3' && q.startMs !== undefined).sort((a, b) => a.endMs - b.endMs);
    expect(eject.atMs).toBe(b3[4].endMs);
    expect(b3.every((q) => q.arrivalMs <= eject.atMs)).toBe(true);
    expect(r.requests.filter((q) => q.arrivalMs > eject.atMs && q.startMs !== undefined).every((q) => q.endpoint !== 'backend-3')).toBe(true);
    expect(r.summary.peakConnections).toBeLessThanOrEqual(100);
    expect(r.summary.peakPending).toBe(50);
    expect(r.summary.overflow).toBeGreaterThan(0);
    expect(r.summary.ok + r.summary.upstream5xx + r.summary.overflow).toBe(300);
  });
});
