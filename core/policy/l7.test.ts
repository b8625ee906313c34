import { describe, expect, it } from 'vitest';
import type { RawManifest } from '../model/types';
import { CiliumL7, httpRuleMatches } from './cilium-l7';
import { CILIUM_FQDN_NOTE, CILIUM_HEADER_NOTE, CILIUM_L7_DENY_NOTE } from './notes';
import { mkTopology, np } from './testkit';

function cnp(name: string, spec: Record<string, unknown>, namespace = 'default'): RawManifest {
  return { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', namespace, name, object: { apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name, namespace }, spec } };
}

// The seed's l7-http-policy, verbatim.
const seedL7 = cnp('l7-http-policy', {
  endpointSelector: { matchLabels: { app: 'api' } },
  ingress: [
    {
      fromEndpoints: [{ matchLabels: { app: 'frontend' } }],
      toPorts: [
        {
          ports: [{ port: '80', protocol: 'TCP' }],
          rules: {
            http: [
              { method: 'GET', path: '/api/v1/users' },
              { method: 'POST', path: '/api/v1/orders', headers: ['Authorization: Bearer .*'] },
              { method: 'GET', path: '/api/v1/products.*' },
            ],
          },
        },
      ],
    },
  ],
});

function cluster(extra: RawManifest[], policies = [] as ReturnType<typeof np>[]) {
  return {
    ...mkTopology({
      namespaces: { default: {}, 'kube-system': {} },
      pods: [
        { id: 'default/api', labels: { app: 'api' }, ip: '10.244.1.10', node: 'node-1', ports: ['http:80'] },
        { id: 'default/frontend', labels: { app: 'frontend' }, ip: '10.244.2.10', node: 'node-2' },
        { id: 'default/other', labels: { app: 'other' }, ip: '10.244.2.11', node: 'node-2' },
        { id: 'kube-system/coredns', labels: { 'k8s-app': 'kube-dns' }, ip: '10.244.2.15', node: 'node-2', ports: ['dns:53/UDP'] },
      ],
      policies,
    }),
    extra,
  };
}

describe('CiliumNetworkPolicy L7 HTTP rules (the seed example)', () => {
  const l7 = new CiliumL7(cluster([seedL7]));
  const req = (method: string, path: string, headers?: Record<string, string>, from = 'default/frontend', port = 80) => l7.evaluate({ from, to: 'default/api', port, http: { method, path, headers } });

  it('allows the listed requests, anchored', () => {
    expect(req('GET', '/api/v1/users')).toMatchObject({ connection: true, httpStatus: 200, allowed: true });
    expect(req('GET', '/api/v1/products/42')).toMatchObject({ httpStatus: 200 });
    expect(req('GET', '/api/v1/products')).toMatchObject({ httpStatus: 200 });
  });

  it('answers other requests with 403 from the proxy (the connection itself is allowed)', () => {
    const admin = req('GET', '/api/v1/admin');
    expect(admin).toMatchObject({ connection: true, httpStatus: 403, allowed: false });
    expect(admin.text).toContain('403 Access denied: GET /api/v1/admin matches no HTTP rule of default/l7-http-policy ingress[0]');
    expect(admin.notes).toContain(CILIUM_L7_DENY_NOTE);
    expect(req('GET', '/api/v1/users/1')).toMatchObject({ httpStatus: 403 }); // anchored: no prefix match
    expect(req('GET', '/api/v1/users?limit=5')).toMatchObject({ httpStatus: 403 }); // :path includes the query
    expect(req('get', '/api/v1/users')).toMatchObject({ httpStatus: 403 }); // methods are case-sensitive
  });

  it('matches headers by exact value: the seed\'s "Authorization: Bearer .*" rejects real tokens', () => {
    const real = req('POST', '/api/v1/orders', { Authorization: 'Bearer eyJhbGciOi.abc.def' });
    expect(real).toMatchObject({ httpStatus: 403 });
    expect(real.notes).toContain(CILIUM_HEADER_NOTE);
    expect(real.text).toContain('header authorization must be exactly "Bearer .*" (got "Bearer eyJhbGciOi.abc.def")');
    expect(req('POST', '/api/v1/orders')).toMatchObject({ httpStatus: 403 });
    expect(req('POST', '/api/v1/orders', { authorization: 'Bearer .*' })).toMatchObject({ httpStatus: 200 });
    expect(httpRuleMatches({ headers: ['X-Canary'] }, { method: 'GET', path: '/', headers: { 'x-canary': 'anything' } }).matched).toBe(true);
  });

  it('drops other peers and other ports at L3/L4', () => {
    const other = req('GET', '/api/v1/users', undefined, 'default/other');
    expect(other).toMatchObject({ connection: false, httpStatus: null, allowed: false });
    expect(other.text).toContain('no rule allows default/other on 80/TCP (dropped, Policy denied)');
    expect(req('GET', '/api/v1/users', undefined, 'default/frontend', 8080)).toMatchObject({ connection: false });
    expect(l7.evaluate({ from: 'node:node-1', to: 'default/api', port: 8080 })).toMatchObject({ connection: true });
  });

  it('a Kubernetes NetworkPolicy allowing the same peer and port lifts the L7 filter for that peer', () => {
    const both = new CiliumL7(cluster([seedL7], [np('default/allow-frontend', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'frontend' } } }], ports: [{ port: 80 }] }] })]));
    expect(both.evaluate({ from: 'default/frontend', to: 'default/api', port: 80, http: { method: 'DELETE', path: '/x' } })).toMatchObject({ httpStatus: 200 });
    expect(both.evaluate({ from: 'default/other', to: 'default/api', port: 80, http: { method: 'GET', path: '/api/v1/users' } })).toMatchObject({ connection: false });
  });
});

describe('toFQDNs needs the DNS proxy to have seen the name', () => {
  const egress = (withDns: boolean) =>
    cnp('frontend-egress', {
      endpointSelector: { matchLabels: { app: 'frontend' } },
      egress: [
        ...(withDns
          ? [
              {
                toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'kube-dns' } }],
                toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }],
              },
            ]
          : []),
        { toFQDNs: [{ matchName: 'api.example.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'TCP' }] }] },
      ],
    });
  const answers = { 'api.example.com': ['52.1.1.1'], 'evil.example.net': ['52.9.9.9'] };

  it('allows the learned IP with a DNS rule, and nothing else', () => {
    const l7 = new CiliumL7(cluster([egress(true)]), answers);
    expect(l7.evaluate({ from: 'default/frontend', to: 'ip:52.1.1.1', port: 443 })).toMatchObject({ connection: true });
    expect(l7.evaluate({ from: 'default/frontend', to: 'ip:52.9.9.9', port: 443 })).toMatchObject({ connection: false });
    expect(l7.evaluate({ from: 'default/frontend', to: 'kube-system/coredns', port: 53, protocol: 'UDP' })).toMatchObject({ connection: true });
    expect(l7.evaluate({ from: 'default/frontend', to: 'ip:52.1.1.1', port: 80 })).toMatchObject({ connection: false });
  });

  it('matches nothing without a DNS rule, and says why', () => {
    const l7 = new CiliumL7(cluster([egress(false)]), answers);
    const v = l7.evaluate({ from: 'default/frontend', to: 'ip:52.1.1.1', port: 443 });
    expect(v.connection).toBe(false);
    expect(v.notes).toContain(CILIUM_FQDN_NOTE);
  });
});
