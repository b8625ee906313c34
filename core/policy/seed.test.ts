import { describe, expect, it } from 'vitest';
import type { NetworkPolicyModel } from '../model/types';
import { lintPolicies } from './lint';
import { evaluateNaive } from './naive';
import { DNS_TCP_NOTE } from './notes';
import { AGREE, checkMatrix } from './policy-testutil';
import { mkTopology, np } from './testkit';

// The four NetworkPolicy patterns of the domain reference
// (kubernetes-advanced-networking.md, "Common Patterns" and "Multi-Tenancy"),
// with the seed's manifests as written, and full expected matrices.

const DNS_TO_NAME_LABEL = {
  to: [{ namespaceSelector: { matchLabels: { name: 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ protocol: 'UDP' as const, port: 53 }],
};

const threeTierPolicies: NetworkPolicyModel[] = [
  np('production/frontend-policy', {
    podSelector: { matchLabels: { tier: 'frontend' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { name: 'ingress-nginx' } } }], ports: [{ protocol: 'TCP', port: 80 }] }],
    egress: [{ to: [{ podSelector: { matchLabels: { tier: 'backend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }, DNS_TO_NAME_LABEL],
  }),
  np('production/backend-policy', {
    podSelector: { matchLabels: { tier: 'backend' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'frontend' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    egress: [{ to: [{ podSelector: { matchLabels: { tier: 'database' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }, DNS_TO_NAME_LABEL],
  }),
  np('production/database-policy', {
    podSelector: { matchLabels: { tier: 'database' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'backend' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
    egress: [DNS_TO_NAME_LABEL],
  }),
];

function cluster(policies: NetworkPolicyModel[], nameLabels = false) {
  const nl = (n: string): Record<string, string> => (nameLabels ? { name: n } : {});
  return mkTopology({
    namespaces: { production: { environment: 'production' }, 'kube-system': nl('kube-system'), 'ingress-nginx': nl('ingress-nginx') },
    pods: [
      { id: 'ingress-nginx/ctl', labels: { 'app.kubernetes.io/name': 'ingress-nginx' }, ip: '10.244.1.2', node: 'node-1' },
      { id: 'kube-system/coredns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.2.15', node: 'node-2', ports: ['dns:53/UDP', 'dns-tcp:53/TCP'] },
      { id: 'production/backend', labels: { tier: 'backend' }, ip: '10.244.2.8', node: 'node-2', ports: ['http:8080'] },
      { id: 'production/database', labels: { tier: 'database' }, ip: '10.244.2.9', node: 'node-2', ports: ['pg:5432'] },
      { id: 'production/frontend', labels: { tier: 'frontend' }, ip: '10.244.1.5', node: 'node-1', ports: ['http:80'] },
    ],
    policies,
  });
}

const HEADER = '-  ingress-nginx/ctl  kube-system/coredns  production/backend  production/database  production/frontend';

describe('seed pattern 1: default deny all (ingress and egress)', () => {
  it('production pods reach nothing and nothing reaches them', () => {
    const t = cluster([
      np('production/default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
      np('production/default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] }),
    ]);
    const m = `${HEADER}
ingress-nginx/ctl    .  .  X  X  X
kube-system/coredns  .  .  X  X  X
production/backend   X  X  .  X  X
production/database  X  X  X  .  X
production/frontend  X  X  X  X  .`;
    for (const [port, proto] of [
      [80, 'TCP'],
      [53, 'UDP'],
      [5432, 'TCP'],
    ] as const)
      expect(checkMatrix(t, port, proto, m)).toEqual(AGREE);
  });
});

describe('seed pattern 2: three-tier application', () => {
  const seedAsWritten = cluster(threeTierPolicies);

  it('as written (namespaces carry only kubernetes.io/metadata.name): port 80', () => {
    expect(
      checkMatrix(seedAsWritten, 80, 'TCP', `${HEADER}
ingress-nginx/ctl    .  .  X  X  X
kube-system/coredns  .  .  X  X  X
production/backend   X  X  .  X  X
production/database  X  X  X  .  X
production/frontend  X  X  X  X  .`),
    ).toEqual(AGREE);
  });

  it('as written: port 8080 (frontend -> backend only)', () => {
    expect(
      checkMatrix(seedAsWritten, 8080, 'TCP', `${HEADER}
ingress-nginx/ctl    .  .  X  X  X
kube-system/coredns  .  .  X  X  X
production/backend   X  X  .  X  X
production/database  X  X  X  .  X
production/frontend  X  X  .  X  .`),
    ).toEqual(AGREE);
  });

  it('as written: port 5432 (backend -> database only)', () => {
    expect(
      checkMatrix(seedAsWritten, 5432, 'TCP', `${HEADER}
ingress-nginx/ctl    .  .  X  X  X
kube-system/coredns  .  .  X  X  X
production/backend   X  X  .  .  X
production/database  X  X  X  .  X
production/frontend  X  X  X  X  .`),
    ).toEqual(AGREE);
  });

  it('as written: DNS is blocked for every tier because "name: kube-system" selects no namespace', () => {
    expect(
      checkMatrix(seedAsWritten, 53, 'UDP', `${HEADER}
ingress-nginx/ctl    .  .  X  X  X
kube-system/coredns  .  .  X  X  X
production/backend   X  X  .  X  X
production/database  X  X  X  .  X
production/frontend  X  X  X  X  .`),
    ).toEqual(AGREE);
    const v = evaluateNaive(seedAsWritten, { from: 'production/frontend', to: 'kube-system/coredns', port: 53, protocol: 'UDP' });
    expect(v.egress.text).toContain('namespace kube-system does not match namespaceSelector name=kube-system');
    const lint = lintPolicies(seedAsWritten);
    expect(lint.filter((d) => d.code === 'namespace-label-missing').length).toBe(4);
    expect(lint.filter((d) => d.code === 'egress-without-dns').map((d) => d.severity)).toEqual(['error', 'error', 'error']);
  });

  it('with name labels on the namespaces: ingress-nginx reaches the frontend, UDP DNS works, TCP DNS does not', () => {
    const fixed = cluster(threeTierPolicies, true);
    expect(
      checkMatrix(fixed, 80, 'TCP', `${HEADER}
ingress-nginx/ctl    .  .  X  X  .
kube-system/coredns  .  .  X  X  X
production/backend   X  X  .  X  X
production/database  X  X  X  .  X
production/frontend  X  X  X  X  .`),
    ).toEqual(AGREE);
    expect(
      checkMatrix(fixed, 53, 'UDP', `${HEADER}
ingress-nginx/ctl    .  .  X  X  X
kube-system/coredns  .  .  X  X  X
production/backend   X  .  .  X  X
production/database  X  .  X  .  X
production/frontend  X  .  X  X  .`),
    ).toEqual(AGREE);
    expect(
      checkMatrix(fixed, 53, 'TCP', `${HEADER}
ingress-nginx/ctl    .  .  X  X  X
kube-system/coredns  .  .  X  X  X
production/backend   X  X  .  X  X
production/database  X  X  X  .  X
production/frontend  X  X  X  X  .`),
    ).toEqual(AGREE);
    const dns = lintPolicies(fixed).filter((d) => d.code === 'egress-without-dns');
    expect(dns).toHaveLength(3);
    expect(dns[0].severity).toBe('warning');
    expect(dns[0].message).toContain('on UDP 53 but not TCP 53');
    expect(dns[0].hint).toContain(DNS_TCP_NOTE);
  });
});

describe('seed pattern 3: external API whitelisting', () => {
  const t = mkTopology({
    namespaces: { production: {}, 'kube-system': {} },
    pods: [
      { id: 'kube-system/coredns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.2.15', node: 'node-2', ports: ['dns:53/UDP', 'dns-tcp:53/TCP'] },
      { id: 'production/frontend', labels: { tier: 'frontend' }, ip: '10.244.1.5', node: 'node-1' },
      { id: 'production/payment', labels: { app: 'payment-service' }, ip: '10.244.1.9', node: 'node-1' },
    ],
    policies: [
      np('production/external-api-whitelist', {
        podSelector: { matchLabels: { app: 'payment-service' } },
        policyTypes: ['Egress'],
        egress: [
          { to: [{ ipBlock: { cidr: '52.45.67.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] },
          { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] },
        ],
      }),
    ],
  });

  it('payment reaches the gateway on 443 and DNS over UDP only', () => {
    const cases: [string, string, number, 'TCP' | 'UDP', boolean][] = [
      ['production/payment', 'ip:52.45.67.10', 443, 'TCP', true],
      ['production/payment', 'ip:52.45.67.10', 80, 'TCP', false],
      ['production/payment', 'ip:52.45.68.1', 443, 'TCP', false],
      ['production/payment', 'kube-system/coredns', 53, 'UDP', true],
      ['production/payment', 'kube-system/coredns', 53, 'TCP', false],
      ['production/payment', 'production/frontend', 443, 'TCP', false],
      ['production/frontend', 'ip:1.1.1.1', 443, 'TCP', true],
      ['ip:52.45.67.10', 'production/payment', 443, 'TCP', true],
    ];
    for (const [from, to, port, protocol, want] of cases) expect([from, to, port, protocol, evaluateNaive(t, { from, to, port, protocol }).allowed]).toEqual([from, to, port, protocol, want]);
    expect(
      checkMatrix(t, 53, 'UDP', `
-                    kube-system/coredns  production/frontend  production/payment
kube-system/coredns  .  .  .
production/frontend  .  .  .
production/payment   .  X  .`),
    ).toEqual(AGREE);
    expect(lintPolicies(t).find((d) => d.code === 'egress-without-dns')?.message).toContain('on UDP 53 but not TCP 53');
  });
});

describe('seed multi-tenancy: tenant isolation', () => {
  function tenants(nameLabel: boolean) {
    return mkTopology({
      namespaces: { 'tenant-a': { tenant: 'tenant-a' }, 'tenant-b': { tenant: 'tenant-b' }, 'kube-system': nameLabel ? { name: 'kube-system' } : {} },
      pods: [
        { id: 'kube-system/coredns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.2.15', node: 'node-2', ports: ['dns:53/UDP'] },
        { id: 'tenant-a/a1', labels: { app: 'web' }, ip: '10.244.1.10', node: 'node-1' },
        { id: 'tenant-a/a2', labels: { app: 'db' }, ip: '10.244.2.10', node: 'node-2' },
        { id: 'tenant-b/b1', labels: { app: 'web' }, ip: '10.244.2.11', node: 'node-2' },
      ],
      policies: [
        np('tenant-a/tenant-isolation', {
          podSelector: {},
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { tenant: 'tenant-a' } } }] }],
          egress: [
            { to: [{ namespaceSelector: { matchLabels: { tenant: 'tenant-a' } } }] },
            { to: [{ namespaceSelector: { matchLabels: { name: 'kube-system' } } }], ports: [{ protocol: 'UDP', port: 53 }] },
            { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: 443 }] },
          ],
        }),
      ],
    });
  }
  const H = '-  kube-system/coredns  tenant-a/a1  tenant-a/a2  tenant-b/b1';

  it('tenant-a talks only to itself; tenant-b cannot get in', () => {
    const m = `${H}
kube-system/coredns  .  X  X  .
tenant-a/a1          X  .  .  X
tenant-a/a2          X  .  .  X
tenant-b/b1          .  X  X  .`;
    expect(checkMatrix(tenants(false), 80, 'TCP', m)).toEqual(AGREE);
    // 443: the internet rule excludes 10.0.0.0/8, so other tenants' pods stay unreachable.
    expect(checkMatrix(tenants(false), 443, 'TCP', m)).toEqual(AGREE);
    const t = tenants(false);
    expect(evaluateNaive(t, { from: 'tenant-a/a1', to: 'ip:8.8.8.8', port: 443 }).allowed).toBe(true);
    expect(evaluateNaive(t, { from: 'tenant-a/a1', to: 'ip:172.16.0.1', port: 443 }).allowed).toBe(true);
    expect(evaluateNaive(t, { from: 'tenant-a/a1', to: 'ip:10.1.1.1', port: 443 }).allowed).toBe(false);
    expect(evaluateNaive(t, { from: 'tenant-a/a1', to: 'ip:8.8.8.8', port: 80 }).allowed).toBe(false);
  });

  it('DNS works only once kube-system carries the name label the seed selects on', () => {
    expect(
      checkMatrix(tenants(false), 53, 'UDP', `${H}
kube-system/coredns  .  X  X  .
tenant-a/a1          X  .  .  X
tenant-a/a2          X  .  .  X
tenant-b/b1          .  X  X  .`),
    ).toEqual(AGREE);
    expect(
      checkMatrix(tenants(true), 53, 'UDP', `${H}
kube-system/coredns  .  X  X  .
tenant-a/a1          .  .  .  X
tenant-a/a2          .  .  .  X
tenant-b/b1          .  X  X  .`),
    ).toEqual(AGREE);
  });
});
