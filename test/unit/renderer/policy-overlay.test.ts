import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../../../core/model';
import type { Topology } from '../../../core/model/types';
import { appendDocument } from '../../../renderer/src/lib/topology-edit';
import { explain, isolatedPods, portsInUse, reachabilityMatrix, verdictEdgeId, verdictEdges } from '../../../renderer/src/lib/policy-overlay';

const read = (f: string) => readFileSync(join(__dirname, '../../../resources/samples', f), 'utf8');
const load = (text: string): Topology => loadTopology({ file: 't.yaml', text }).topology!;

const denyBackend = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: backend-from-client, namespace: default}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: client}}}]
      ports: [{port: 8080, protocol: TCP}]
`;

describe('policy overlay', () => {
  const open = load(read('seed.yaml'));
  const closed = load(appendDocument(read('seed.yaml'), denyBackend));

  it('offers the ports in use, most used first', () => {
    const ports = portsInUse(open).map((p) => `${p.port}/${p.protocol}`);
    expect(ports[0]).toBe('8080/TCP');
    expect(ports).toContain('53/UDP');
  });

  it('without policies every pair towards the listening pods is allowed', () => {
    const o = verdictEdges(open, { port: 8080, protocol: 'TCP' });
    // 6 pods, 2 listen on 8080: 2 × 5 pairs.
    expect(o.edges).toHaveLength(10);
    expect(o.denied).toBe(0);
    expect(o.edges.every((e) => e.classes === 'verdict-allowed' && e.data.verdict === 'allowed')).toBe(true);
  });

  it('a policy turns the pairs it does not allow red, and explains both sides', () => {
    const o = verdictEdges(closed, { port: 8080, protocol: 'TCP' });
    const byId = new Map(o.edges.map((e) => [e.data.id, e]));
    expect(byId.get(verdictEdgeId('pod/default/pod-a', 'pod/default/backend-1'))?.classes).toBe('verdict-allowed');
    expect(byId.get(verdictEdgeId('pod/default/pod-b', 'pod/default/backend-1'))?.classes).toBe('verdict-denied');
    expect(o.allowed).toBe(2);
    expect(o.denied).toBe(8);
    const v = explain(closed, 'default/pod-b', 'default/backend-1', 8080, 'TCP');
    expect(v.allowed).toBe(false);
    expect(v.ingress.deniedBy?.isolatingPolicies).toEqual(['default/backend-from-client']);
    expect(v.egress.allowed).toBe(true);
    expect(isolatedPods(closed)).toEqual(new Set(['pod/default/backend-1', 'pod/default/backend-2']));
    expect(isolatedPods(open).size).toBe(0);
  });

  it('focuses on selected pods and caps the number of edges', () => {
    const f = verdictEdges(closed, { port: 8080, protocol: 'TCP', focus: ['pod/default/pod-a'] });
    expect(f.edges.every((e) => e.data.source === 'pod/default/pod-a' || e.data.target === 'pod/default/pod-a')).toBe(true);
    expect(f.edges).toHaveLength(10);
    const capped = verdictEdges(closed, { port: 9999, protocol: 'TCP', maxEdges: 7 });
    expect(capped.edges).toHaveLength(7);
    expect(capped.omitted).toBe(30 - 7);
    expect(capped.scope).toContain('no pod declares');
  });

  it('builds the matrix like the netpol truth tables, and agrees with the overlay', () => {
    const m = reachabilityMatrix(closed, 8080, 'TCP');
    expect(m.pods).toEqual(['default/backend-1', 'default/backend-2', 'default/pod-a', 'default/pod-b', 'default/pod-c', 'kube-system/coredns-7db6d8ff4d-x5wq2']);
    const cell = (from: string, to: string) => m.values[m.pods.indexOf(from)][m.pods.indexOf(to)];
    expect(cell('default/pod-a', 'default/backend-1')).toBe(true);
    expect(cell('default/pod-c', 'default/backend-2')).toBe(false);
    expect(cell('default/backend-1', 'default/pod-a')).toBe(true);
    expect(m.denied).toBe(8);
    const onlyDefault = reachabilityMatrix(closed, 8080, 'TCP', { namespaces: ['default'], maxPods: 3 });
    expect(onlyDefault.pods).toHaveLength(3);
    expect(onlyDefault.omitted).toBe(2);
  });
});
