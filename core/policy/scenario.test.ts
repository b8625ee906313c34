import { describe, expect, it } from 'vitest';
import { evaluateWith } from './naive';
import { parseScenario } from './scenario';
import { buildContext } from './semantics';

const good = `namespaces:
  - { name: prod, labels: { team: a } }
pods:
  - { namespace: prod, name: web, labels: { app: web }, ip: 10.244.1.2, ports: [{ name: http, port: 80 }] }
  - { namespace: prod, name: db, labels: { app: db }, ip: 10.244.1.3 }
policies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: db, namespace: prod }
    spec:
      podSelector: { matchLabels: { app: db } }
      ingress:
        - from: [{ podSelector: { matchLabels: { app: web } } }]
          ports: [{ port: 5432 }]
queries:
  - { from: prod/web, to: prod/db, port: 5432, protocol: TCP }
  - { from: prod/db, to: prod/web, port: 80 }
`;

describe('parseScenario', () => {
  it('parses a scenario into a topology and queries', () => {
    const { scenario, diagnostics } = parseScenario(good, 's.yaml');
    expect(diagnostics).toEqual([]);
    expect(scenario!.topology.namespaces[0].labels).toEqual({ team: 'a', 'kubernetes.io/metadata.name': 'prod' });
    expect(scenario!.topology.pods[0].ports).toEqual([{ container: 'main', name: 'http', containerPort: 80, protocol: 'TCP' }]);
    expect(scenario!.topology.networkPolicies[0]).toMatchObject({ namespace: 'prod', name: 'db', origin: { file: 's.yaml', line: 7, column: 5 } });
    expect(scenario!.topology.networkPolicies[0].policyTypes).toBeUndefined();
    expect(scenario!.queries).toEqual([
      { from: 'prod/web', to: 'prod/db', port: 5432, protocol: 'TCP' },
      { from: 'prod/db', to: 'prod/web', port: 80, protocol: 'TCP' },
    ]);
    const ctx = buildContext(scenario!.topology);
    expect(scenario!.queries.map((q) => evaluateWith(ctx, q).allowed)).toEqual([true, true]);
  });

  it('reports errors with file:line:column and the field path', () => {
    const bad = good
      .replace('ip: 10.244.1.3', 'ip: 10.244.1.300')
      .replace('ports: [{ port: 5432 }]', 'ports: [{ port: "5432", protocol: tcp }]')
      .replace('to: prod/web, port: 80', 'to: prod/nope, port: 80');
    const { scenario, diagnostics } = parseScenario(bad, 's.yaml');
    expect(scenario).toBeNull();
    expect(diagnostics.map((d) => [d.code, d.line, d.column, d.path])).toEqual([
      ['invalid-ip', 5, 59, 'pods[1].ip'],
      ['invalid-value', 14, 45, 'policies[0].spec.ingress[0].ports[0].protocol'],
      ['invalid-value', 14, 27, 'policies[0].spec.ingress[0].ports[0].port'],
      ['unknown-pod', 17, 26, 'queries[1].to'],
    ]);
    expect(diagnostics[2].message).toContain('port "5432" is a string');
    expect(diagnostics[2].hint).toContain('Write port: 5432');
  });

  it('reports YAML syntax errors with their position, and rejects unknown fields', () => {
    const r = parseScenario('pods: [\n  { name: a\n', 'x.yaml');
    expect(r.scenario).toBeNull();
    expect(r.diagnostics[0]).toMatchObject({ code: 'yaml-syntax', file: 'x.yaml' });
    const u = parseScenario('pods: []\nquerys: []\n', 'y.yaml');
    expect(u.diagnostics[0]).toMatchObject({ code: 'unknown-field', line: 2, column: 1, path: 'querys' });
  });

  it('checks peers: ipBlock with a selector, except outside cidr, empty peer', () => {
    const text = `pods:
  - { namespace: default, name: a, ip: 10.0.0.1 }
policies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: { name: p }
    spec:
      podSelector: {}
      egress:
        - to:
            - { ipBlock: { cidr: 10.0.0.0/8, except: [192.168.0.0/16] }, podSelector: {} }
            - {}
`;
    const { diagnostics } = parseScenario(text, 'p.yaml');
    expect(diagnostics.map((d) => [d.code, d.path])).toEqual([
      ['undeclared-namespace', 'pods[0].namespace'],
      ['invalid-value', 'policies[0].spec.egress[0].to[0].ipBlock'],
      ['except-outside-cidr', 'policies[0].spec.egress[0].to[0].ipBlock.except[0]'],
      ['invalid-value', 'policies[0].spec.egress[0].to[1]'],
    ]);
  });

  it('accepts JSON', () => {
    const { scenario } = parseScenario(JSON.stringify({ pods: [{ namespace: 'default', name: 'a', ip: '10.0.0.1' }], queries: [{ from: 'default/a', to: 'ip:1.1.1.1', port: 443 }] }), 's.json');
    expect(scenario!.queries[0]).toEqual({ from: 'default/a', to: 'ip:1.1.1.1', port: 443, protocol: 'TCP' });
  });
});
