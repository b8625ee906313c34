// The Istio sidecar on the packet walk (resources/samples/mesh.yaml: the
// seed's mesh section on Calico BGP). What an expert checks: with a client
// sidecar the ClusterIP never reaches the node (Envoy connects to the endpoint
// as uid 1337, so no KUBE-SVC/KUBE-SEP rule acts); the server sidecar
// redirects to 15006 and applies STRICT mTLS and the AuthorizationPolicy;
// without a client sidecar kube-proxy does the DNAT and STRICT resets the
// plaintext connection.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trace } from './index';
import { meshVerdictEnd, topologyHasMesh } from './mesh';
import { loadText } from './testing';

const read = (f: string) => readFileSync(new URL(`../../resources/samples/${f}`, import.meta.url), 'utf8');
const MESH = loadText(read('mesh.yaml'));
const kubeChains = (rules: string[] | undefined) => (rules ?? []).some((l) => /KUBE-(SVC|SEP)-/.test(l));
const AUTH = `curl -H 'authorization: Bearer token' http://api-service.production/api/v1/users`;

describe('Istio sidecars on the walk', () => {
  it('client sidecar: ISTIO_OUTPUT redirects to 15001, Envoy picks the endpoint and connects to it directly (no kube-proxy DNAT)', () => {
    const r = trace(MESH, 'frontend/web', AUTH);
    expect(r.ok, r.dropped?.text).toBe(true);
    expect(r.httpStatus).toBeUndefined(); // the application answers, not a proxy
    const req = r.events.filter((e) => e.phase === 'request');
    const redirect = req.find((e) => e.kind === 'netfilter' && e.at.element === 'pod/frontend/web')!;
    expect(redirect.action).toContain('REDIRECT 10.96.20.10:80 → 127.0.0.1:15001');
    expect(redirect.rule).toBe('-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    expect(req.some((e) => e.kind === 'proxy' && e.action.startsWith('route: api-canary.production'))).toBe(true);
    // Envoy's own connection: uid 1337 is not redirected, and it goes to the endpoint pod IP.
    expect(req.find((e) => e.rule === '-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN')).toBeDefined();
    const envoySyn = req.find((e) => e.kind === 'socket' && e.action.startsWith('istio-proxy connect()'))!;
    expect(envoySyn.changed).toEqual(expect.arrayContaining(['ip.dst', 'tcp.dport', 'tcp.sport']));
    expect(envoySyn.headers.ip.dst).toMatch(/^10\.244\./);
    expect(envoySyn.headers.tcp!.dport).toBe(8080);
    // No node translates the Service: no KUBE-SVC/KUBE-SEP rule and no DNAT event after the sidecar.
    expect(r.events.filter((e) => e.phase !== 'dns').some((e) => kubeChains(e.rules))).toBe(false);
    expect(r.events.filter((e) => e.phase !== 'dns').some((e) => e.kind === 'dnat')).toBe(false);
    const svc = r.services.find((s) => s.service === 'production/api-service:80')!;
    expect(svc.mode).toBe('istio-sidecar');
    expect(svc.outcomes.reduce((a, o) => a + o.probability, 0)).toBeCloseTo(1, 6);
    // Server sidecar: 15006, STRICT mTLS accepted, the AuthorizationPolicy allows frontend-sa with the Bearer header.
    const inbound = req.find((e) => e.kind === 'netfilter' && e.at.element.startsWith('pod/production/api-'))!;
    expect(inbound.action).toMatch(/REDIRECT 10\.244\.\d+\.\d+:8080 → 10\.244\.\d+\.\d+:15006/);
    expect(req.some((e) => e.kind === 'policy' && e.action.includes('STRICT — mTLS accepted') && e.verdict === 'pass')).toBe(true);
    expect(req.some((e) => e.kind === 'policy' && e.action.startsWith('RBAC: allowed'))).toBe(true);
    // The node's conntrack holds Envoy's connection to the pod, not a ClusterIP entry.
    const ct = r.conntrack['node-1'].find((l) => l.startsWith('tcp'))!;
    expect(ct).toContain(`dst=${envoySyn.headers.ip.dst} sport=${envoySyn.headers.tcp!.sport} dport=8080`);
    expect(ct).not.toContain('10.96.20.10');
    // The sidecars' cost is its own row of the breakdown, not "Service load balancing".
    const meshSteps = r.events.filter((e) => e.phase !== 'dns' && e.category === 'mesh');
    expect(meshSteps.some((e) => e.kind === 'proxy')).toBe(true);
    expect(r.events.filter((e) => e.kind === 'proxy').every((e) => e.category === 'mesh')).toBe(true);
    expect(r.latency.meshUs).toBeCloseTo(meshSteps.reduce((a, e) => a + e.latencyUs, 0), 3);
    expect(r.latency.meshUs).toBeGreaterThan(0);
    expect(r.latency.serviceUs).toBe(0); // no kube-proxy DNAT: Envoy chose the endpoint
    expect(r.latency.table).toMatch(/^Service mesh \(Istio sidecars\):\s+\S+/m);
    const parts = r.latency.dnsUs + r.latency.serviceUs + r.latency.meshUs! + r.latency.encapUs + r.latency.transitUs + r.latency.backendUs;
    expect(r.latency.totalUs).toBeCloseTo(parts, 2);
  });

  it('without sidecars the breakdown keeps the seed\'s five rows', () => {
    const plain = trace(loadText(read('seed.yaml')), 'default/pod-a', 'curl http://backend.default.svc.cluster.local');
    expect(plain.latency.meshUs).toBeUndefined();
    expect(plain.latency.table).not.toContain('Service mesh');
    expect(plain.latency.table.split('\n').filter((l) => /:\s+\S+$/.test(l))).toHaveLength(6); // five rows and the total
  });

  it('the seed\'s AuthorizationPolicy: without the Bearer header the server sidecar answers 403 RBAC: access denied', () => {
    const r = trace(MESH, 'frontend/web', 'curl http://api-service.production/api/v1/users');
    expect(r.ok).toBe(false);
    expect(r.dropped?.reason).toBe('policy');
    expect(r.dropped?.text).toContain('HTTP 403 "RBAC: access denied"');
    expect(r.httpStatus).toBe(403);
    expect(r.dropped?.text).toContain('request.headers[authorization]');
    expect(r.events[r.events.length - 1].at.element).toMatch(/^pod\/production\/api-v[12]$/);
  });

  it('a pod of another namespace with the same service account name is not the allowed principal', () => {
    const r = trace(MESH, 'production/frontend', AUTH.replace('.production', ''));
    expect(r.ok).toBe(false);
    expect(r.dropped?.text).toContain('cluster.local/ns/production/sa/frontend-sa');
  });

  it('no client sidecar (legacy-client): kube-proxy DNATs the ClusterIP, and STRICT mTLS resets the plaintext connection', () => {
    const r = trace(MESH, 'legacy/legacy-client', 'curl http://api-service.production/api/v1/users');
    expect(r.events.some((e) => e.phase === 'request' && kubeChains(e.rules))).toBe(true);
    expect(r.events.some((e) => e.phase === 'request' && e.kind === 'dnat')).toBe(true);
    expect(r.services.find((s) => s.service === 'production/api-service:80')!.mode).toBe('iptables');
    expect(r.ok).toBe(false);
    expect(r.dropped?.text).toMatch(/STRICT.*plaintext/);
    // No sidecar on the client: the application sees the reset itself, not an HTTP status.
    expect(r.httpStatus).toBeUndefined();
  });

  it('topologies without sidecars are untouched', () => {
    const seed = loadText(read('seed.yaml'));
    expect(topologyHasMesh(seed)).toBe(false);
    expect(topologyHasMesh(MESH)).toBe(true);
    const r = trace(seed, 'default/pod-a', 'curl http://backend.default.svc.cluster.local');
    expect(r.events.some((e) => e.kind === 'proxy')).toBe(false);
    expect(r.services.find((s) => s.service === 'default/backend:80')!.mode).toBe('iptables');
  });

  it('mesh verdicts end walks with the matching reason', () => {
    expect(meshVerdictEnd({ kind: 'allow', text: 'ok' })).toBeUndefined();
    expect(meshVerdictEnd({ kind: 'no-healthy-upstream', status: 503, responseFlags: 'UH', body: 'no healthy upstream', text: 'x' })).toEqual({ reason: 'no-endpoints', ok: false, text: 'HTTP 503 (response flags UH) "no healthy upstream": x' });
    expect(meshVerdictEnd({ kind: 'direct-response', status: 200, text: 'y' })?.ok).toBe(true);
  });
});
