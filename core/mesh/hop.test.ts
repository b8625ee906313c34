import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../model';
import { meshOutbound, meshRequest } from './hop';
import { nsYaml, pod, podYaml, svcYaml, topo } from './testkit';

const SAMPLE = 'resources/samples/mesh.yaml';
const t = loadTopology({ file: SAMPLE, text: readFileSync(SAMPLE, 'utf8') }).topology!;
const API = { ip: '10.96.20.10', port: 80, host: 'api-service.production' };
const OK_REQ = { method: 'GET', path: '/api/v1/users', headers: { authorization: 'Bearer t0k3n', 'user-agent': 'curl/8.10.1' } };
const fixed = (x: number) => () => x;

describe('meshRequest on the sample (the seed\'s objects)', () => {
  it('web (frontend/frontend-sa) → api-service: redirect, canary route, mTLS, STRICT, RBAC allow', () => {
    const r = meshRequest(t, pod(t, 'frontend/web'), API, OK_REQ, { random: fixed(0.95) });
    expect(r.steps.map((s) => `${s.at} ${s.kind} ${s.verdict}`)).toEqual([
      'pod/frontend/web iptables redirect',
      'pod/frontend/web listener pass',
      'pod/frontend/web route pass',
      'pod/frontend/web cluster pass',
      'pod/frontend/web endpoint pass',
      'pod/frontend/web tls-origination pass',
      'pod/frontend/web iptables pass',
      'pod/production/api-v2 iptables redirect',
      'pod/production/api-v2 peer-authentication pass',
      'pod/production/api-v2 tls-termination pass',
      'pod/production/api-v2 authorization allow',
      'pod/production/api-v2 forward allow',
    ]);
    expect(r.verdict.kind).toBe('allow');
    const up = r.outbound.upstream!;
    expect([up.src, up.dst, up.dport, up.uid, up.tls, up.cluster, up.sni, up.clientIdentity]).toEqual([
      '10.244.1.11',
      '10.244.3.10',
      8080,
      1337,
      'ISTIO_MUTUAL',
      'outbound|80|v2|api-service.production.svc.cluster.local',
      'outbound_.80_.v2_.api-service.production.svc.cluster.local',
      'spiffe://cluster.local/ns/frontend/sa/frontend-sa',
    ]);
    expect(r.steps[0].rule).toBe('-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    expect(r.steps[0].packet).toMatchObject({ dst: '127.0.0.1', dport: 15001, uid: 1000 });
    expect(r.steps[6].rule).toBe('-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN');
    expect(r.steps[7].rule).toBe('-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006');
    expect(r.steps[10].action).toBe('RBAC: allowed — ALLOW api-authz-without-time.production rule 0');
    expect(r.steps[10].detail).toMatch(/Not applied: api-authz.production \(Istio's validating webhook refuses it/);
    expect(r.steps[11].rule).toBe('-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN');
    expect(r.steps.every((s) => s.latencyUs >= 0)).toBe(true);
    expect(r.steps[0].seedNote).toMatch(/The app connects to the real destination/);
  });

  it('lists every endpoint the client sidecar could pick with its probability (90 / 10)', () => {
    const out = meshOutbound(t, pod(t, 'frontend/web'), API, OK_REQ);
    expect(out.outcomes).toEqual([
      { cluster: 'outbound|80|v1|api-service.production.svc.cluster.local', subset: 'v1', endpoint: '10.244.2.10:8080', pod: 'production/api-v1', probability: 0.9 },
      { cluster: 'outbound|80|v2|api-service.production.svc.cluster.local', subset: 'v2', endpoint: '10.244.3.10:8080', pod: 'production/api-v2', probability: 0.1 },
    ]);
    const mobile = meshOutbound(t, pod(t, 'frontend/web'), API, { ...OK_REQ, headers: { 'user-agent': 'Mozilla/5.0 (Android 14; Mobile)' } });
    expect(mobile.outcomes.map((o) => [o.subset, o.probability])).toEqual([['v2', 1]]);
  });

  it('production/frontend has the wrong identity: 403 RBAC: access denied', () => {
    const r = meshRequest(t, pod(t, 'production/frontend'), API, OK_REQ);
    expect(r.verdict).toMatchObject({ kind: 'rbac-denied', status: 403, body: 'RBAC: access denied' });
    expect(r.verdict.text).toMatch(/source principal "cluster.local\/ns\/production\/sa\/frontend-sa" matches none of "cluster.local\/ns\/frontend\/sa\/frontend-sa"/);
  });

  it('legacy-client has no sidecar (annotation only): plaintext to STRICT is reset', () => {
    const r = meshRequest(t, pod(t, 'legacy/legacy-client'), API, OK_REQ, { random: fixed(0) });
    expect(r.outbound.sidecar.injected).toBe(false);
    expect(r.outbound.steps[0].seedNote).toMatch(/ANNOTATION sidecar.istio.io\/inject/);
    expect(r.verdict.kind).toBe('connection-reset');
    expect(r.verdict.text).toMatch(/STRICT on production\/api-v1:8080 and the connection is plaintext.*Connection reset by peer/);
    expect(r.notes[0]).toBe('without a client sidecar kube-proxy DNATs 10.96.20.10:80 to 10.244.2.10:8080 (one of 2)');
  });

  it('backend-service: no VirtualService, the seed\'s DestinationRule, auto mTLS, no AuthorizationPolicy', () => {
    const r = meshRequest(t, pod(t, 'production/frontend'), { ip: '10.96.20.20', port: 80 }, { path: '/' }, { random: fixed(0) });
    expect(r.verdict.kind).toBe('allow');
    const cluster = r.steps.find((s) => s.kind === 'cluster')!;
    expect(cluster.action).toBe('cluster outbound|80||backend-service.production.svc.cluster.local');
    expect(cluster.detail).toMatch(/DestinationRule backend-circuit-breaker.production .*connectionPool \(maxConnections 100, http1MaxPendingRequests 50, http2MaxRequests 100\); outlierDetection \(consecutiveErrors 5 \(ignored since Istio 1.7; Envoy's consecutive_5xx default 5 applies\), interval 30s, baseEjectionTime 30s, maxEjectionPercent 50\)/);
    expect(r.steps.find((s) => s.kind === 'authorization')!.action).toBe('RBAC: allowed — no ALLOW policy applies');
  });
});

const base =
  nsYaml('mesh', { 'istio-injection': 'enabled' }) +
  nsYaml('outside') +
  podYaml({ ns: 'mesh', name: 'client', ip: '10.244.1.2', labels: { app: 'client' }, sa: 'client' }) +
  podYaml({ ns: 'mesh', name: 'server', ip: '10.244.2.2', node: 'node-2', labels: { app: 'server', version: 'v1' }, sa: 'server' }) +
  podYaml({ ns: 'outside', name: 'plain', ip: '10.244.2.3', node: 'node-2', labels: { app: 'plain' } }) +
  podYaml({ ns: 'mesh', name: 'sick', ip: '10.244.2.4', node: 'node-2', labels: { app: 'sick' }, annotations: { 'netlab.dev/ready': 'false' } }) +
  svcYaml('mesh', 'server', '10.96.40.1', { app: 'server' }) +
  svcYaml('outside', 'plain', '10.96.40.2', { app: 'plain' }) +
  svcYaml('mesh', 'sick', '10.96.40.3', { app: 'sick' });
const strict = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: mesh }
spec: { mtls: { mode: STRICT } }
---
`;

describe('meshRequest verdicts', () => {
  const SERVER = { ip: '10.96.40.1', port: 80 };

  it('503 no healthy upstream when the Service has no ready endpoint', () => {
    const f = topo(base);
    const r = meshRequest(f, pod(f, 'mesh/client'), { ip: '10.96.40.3', port: 80 });
    expect(r.verdict).toMatchObject({ kind: 'no-healthy-upstream', status: 503, body: 'no healthy upstream', responseFlags: 'UH' });
  });

  it('503 NC when a route names a subset no DestinationRule defines', () => {
    const f = topo(base + `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: server, namespace: mesh }
spec:
  hosts: [server]
  http:
  - route: [{ destination: { host: server, subset: v1 } }]
---
`);
    const r = meshRequest(f, pod(f, 'mesh/client'), SERVER);
    expect(r.verdict).toMatchObject({ kind: 'cluster-not-found', status: 503, responseFlags: 'NC' });
    expect(r.verdict.text).toMatch(/IST0101/);
  });

  it('a DestinationRule with tls DISABLE sends plaintext to a STRICT server: 503 upstream connect error (reset)', () => {
    const f = topo(base + strict + `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: server, namespace: mesh }
spec:
  host: server
  trafficPolicy: { tls: { mode: DISABLE } }
---
`);
    const r = meshRequest(f, pod(f, 'mesh/client'), SERVER);
    expect(r.outbound.upstream!.tls).toBe('plaintext');
    expect(r.verdict).toMatchObject({
      kind: 'upstream-connect-error',
      status: 503,
      responseFlags: 'UC',
      body: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
    });
  });

  it('auto mTLS sends plaintext to a pod without a sidecar, which gets the request unchecked', () => {
    const f = topo(base + strict);
    const r = meshRequest(f, pod(f, 'mesh/client'), { ip: '10.96.40.2', port: 80 });
    expect(r.outbound.upstream!.tls).toBe('plaintext');
    expect(r.steps.find((s) => s.kind === 'tls-origination')!.detail).toMatch(/the endpoint has no sidecar \(no tlsMode=istio\)/);
    expect(r.verdict.kind).toBe('not-in-mesh');
  });

  it('auto mTLS respects a DISABLE PeerAuthentication on the server', () => {
    const f = topo(base + `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: off, namespace: mesh }
spec:
  selector: { matchLabels: { app: server } }
  mtls: { mode: DISABLE }
---
`);
    const r = meshRequest(f, pod(f, 'mesh/client'), SERVER);
    expect(r.outbound.upstream!.tls).toBe('plaintext');
    expect(r.verdict.kind).toBe('allow');
  });

  it('calling a pod IP directly goes through PassthroughCluster in plaintext, which STRICT resets', () => {
    const f = topo(base + strict);
    const r = meshRequest(f, pod(f, 'mesh/client'), { ip: '10.244.2.2', port: 8080 });
    expect(r.outbound.upstream!.cluster).toBe('PassthroughCluster');
    expect(r.verdict.kind).toBe('upstream-connect-error');
  });

  it('opaque TCP: the server sidecar applies TCP rules, HTTP-only ALLOW rules never match', () => {
    const f = topo(base + strict + `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: get-only, namespace: mesh }
spec:
  selector: { matchLabels: { app: server } }
  rules: [{ to: [{ operation: { methods: [GET] } }] }]
---
`);
    const r = meshRequest(f, pod(f, 'mesh/client'), SERVER, { protocol: 'tcp' });
    expect(r.verdict.kind).toBe('rbac-denied');
    expect(r.verdict.status).toBeUndefined();
    expect(r.verdict.text).toMatch(/TCP: the sidecar closes the connection/);
  });

  it('with the mesh off nothing is injected and nothing is enforced', () => {
    const f = topo(base + strict, meshOffHeader());
    const r = meshRequest(f, pod(f, 'mesh/client'), SERVER);
    expect(r.steps.map((s) => s.kind)).toEqual(['passthrough', 'passthrough']);
    expect(r.verdict.kind).toBe('not-in-mesh');
  });
});

function meshOffHeader(): string {
  return `apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata: { name: t }
cluster:
  cni: calico-bgp
  clusterCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  nodeCIDR: 10.0.0.0/16
  mesh: false
nodes:
  - { name: node-1, ip: 10.0.1.5 }
  - { name: node-2, ip: 10.0.1.6 }
`;
}
