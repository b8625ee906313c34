import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../model';
import { compileRe2, re2Check, stringMatchMatches } from './match';
import { meshConfig } from './manifests';
import { clusterEndpoints, destinationRuleFor, effectiveTrafficPolicy, selectRoute } from './routing';
import { nsYaml, pod, podYaml, svcYaml, topo } from './testkit';

const SAMPLE = 'resources/samples/mesh.yaml';
const sample = loadTopology({ file: SAMPLE, text: readFileSync(SAMPLE, 'utf8') }).topology!;
const API = { fqdn: 'api-service.production.svc.cluster.local', port: 80 };
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

describe('the seed\'s canary VirtualService', () => {
  const web = pod(sample, 'frontend/web');

  it('sends Mobile user agents to v2 (100%)', () => {
    const r = selectRoute(sample, web, API, { headers: { 'User-Agent': IPHONE } });
    expect([r.routeIndex, r.matchIndex]).toEqual([0, 0]);
    expect(r.choices.map((c) => [c.cluster, c.probability])).toEqual([['outbound|80|v2|api-service.production.svc.cluster.local', 1]]);
    expect(r.text).toBe('api-canary.production http[0] match[0]: subset v2 100%');
  });

  it('splits everything else 90 / 10 between v1 and v2', () => {
    const r = selectRoute(sample, web, API, { headers: { 'user-agent': 'curl/8.10.1' } });
    expect(r.routeIndex).toBe(1);
    expect(r.choices.map((c) => [c.subset, c.weight, c.probability])).toEqual([
      ['v1', 90, 0.9],
      ['v2', 10, 0.1],
    ]);
    expect(r.tried[0]).toBe('http[0]: match[0]: header user-agent "curl/8.10.1" does not match regex ".*Mobile.*" (RE2, full match)');
  });

  it('a missing User-Agent is not a match either', () => {
    expect(selectRoute(sample, web, API, {}).routeIndex).toBe(1);
  });

  it('the subsets resolve to the version-labelled pods', () => {
    const dr = destinationRuleFor(sample, 'frontend', API.fqdn);
    expect(dr?.ref.name).toBe('api-service-subsets');
    expect(clusterEndpoints(sample, { host: API.fqdn, port: 80, subset: 'v1' }, dr).endpoints.map((e) => `${e.pod!.name} ${e.ip}:${e.port}`)).toEqual(['api-v1 10.244.2.10:8080']);
    expect(clusterEndpoints(sample, { host: API.fqdn, port: 80, subset: 'v2' }, dr).endpoints.map((e) => e.pod!.name)).toEqual(['api-v2']);
    expect(clusterEndpoints(sample, { host: API.fqdn, port: 80, subset: 'v3' }, dr).subsetMissing).toBe(true);
  });
});

describe('RE2 regexes', () => {
  it('match the whole value', () => {
    expect(stringMatchMatches({ regex: 'Mobile' }, 'xx Mobile xx')).toBe(false);
    expect(stringMatchMatches({ regex: '.*Mobile.*' }, 'xx Mobile xx')).toBe(true);
    expect(stringMatchMatches({ regex: 'v[0-9]+' }, 'v12')).toBe(true);
    expect(stringMatchMatches({ regex: 'v[0-9]+' }, 'v12-beta')).toBe(false);
    expect(stringMatchMatches({ regex: '(?i)mobile.*' }, 'MOBILE safari')).toBe(true);
    expect(stringMatchMatches({ regex: '[[:digit:]]+' }, '123')).toBe(true);
    expect(stringMatchMatches({ regex: '(?P<v>v[12])' }, 'v2')).toBe(true);
  });

  it('refuse what Go\'s regexp refuses', () => {
    expect(re2Check('(?=foo)bar')).toBe('error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
    expect(re2Check('(a)\\1')).toBe('error parsing regexp: invalid escape sequence: `\\1`');
    expect(re2Check('a{1001}')).toBe('error parsing regexp: invalid repeat count: `{1001}`');
    expect(re2Check('.*Mobile.*')).toBeUndefined();
    expect(compileRe2('(unclosed').error).toMatch(/^error parsing regexp/);
  });
});

const fixture =
  nsYaml('shop', { 'istio-injection': 'enabled' }) +
  podYaml({ ns: 'shop', name: 'client', ip: '10.244.1.2', labels: { app: 'client' } }) +
  podYaml({ ns: 'shop', name: 'r1', ip: '10.244.1.3', labels: { app: 'reviews', version: 'v1' } }) +
  podYaml({ ns: 'shop', name: 'r2', ip: '10.244.2.3', node: 'node-2', labels: { app: 'reviews', version: 'v2' } }) +
  svcYaml('shop', 'reviews', '10.96.30.1', { app: 'reviews' });

function vs(http: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
${http}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
  subsets:
  - { name: v1, labels: { version: v1 } }
  - name: v2
    labels: { version: v2 }
    trafficPolicy:
      connectionPool: { tcp: { maxConnections: 10 } }
---
`;
}

describe('VirtualService matching and weights', () => {
  const R = { fqdn: 'reviews.shop.svc.cluster.local', port: 80 };

  it('uri prefix/exact/regex, method, query parameters and withoutHeaders', () => {
    const t = topo(
      fixture +
        vs(`  - match: [{ uri: { exact: /health } }]
    directResponse: { status: 200 }
  - match: [{ uri: { prefix: /v2/ }, method: { exact: POST } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - match: [{ queryParams: { beta: { exact: "1" } } }, { uri: { regex: "/items/[0-9]+" } }]
    route: [{ destination: { host: reviews, subset: v2 } }]
  - match: [{ withoutHeaders: { x-internal: {} } }]
    route: [{ destination: { host: reviews, subset: v1 } }]`),
    );
    const c = pod(t, 'shop/client');
    expect(selectRoute(t, c, R, { path: '/health?x=1' }).local).toEqual({ status: 200, text: 'directResponse 200' });
    expect(selectRoute(t, c, R, { path: '/v2/x', method: 'POST' }).routeIndex).toBe(1);
    expect(selectRoute(t, c, R, { path: '/v2/x', method: 'GET' }).routeIndex).toBe(3);
    expect(selectRoute(t, c, R, { path: '/items/12' }).matchIndex).toBe(1);
    expect(selectRoute(t, c, R, { path: '/items/12/x' }).routeIndex).toBe(3);
    expect(selectRoute(t, c, R, { path: '/x?beta=1' }).routeIndex).toBe(2);
    const nr = selectRoute(t, c, R, { path: '/x', headers: { 'x-internal': 'yes' } });
    expect(nr.noRoute).toBe(true);
    expect(nr.text).toMatch(/none of its 4 http routes matches: Envoy answers 404 \(NR, route not found\)/);
  });

  it('weights are relative (Istio ≥ 1.15): 1 and 3 give 25% / 75%, with a warning', () => {
    const t = topo(fixture + vs(`  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 1 }
    - { destination: { host: reviews, subset: v2 }, weight: 3 }`));
    expect(selectRoute(t, pod(t, 'shop/client'), R, {}).choices.map((c) => c.probability)).toEqual([0.25, 0.75]);
    const w = meshConfig(t).virtualServices[0].issues.find((i) => i.code === 'istio-weights')!;
    expect(w.severity).toBe('warning');
    expect(w.message).toMatch(/route weights sum to 4, not 100: .*v1 25\.0%, v2 75\.0%.* Istio ≤ 1\.14 rejected this with "total destination weight 4 != 100"/);
  });

  it('all-zero weights are refused', () => {
    const t = topo(fixture + vs(`  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 0 }
    - { destination: { host: reviews, subset: v2 }, weight: 0 }`));
    expect(meshConfig(t).virtualServices[0].issues.filter((i) => i.rejected).map((i) => i.message)).toEqual(['total destination weight = 0']);
  });

  it('subset traffic policy overrides the DestinationRule\'s field by field', () => {
    const t = topo(fixture + vs('  - route: [{ destination: { host: reviews } }]'));
    const dr = destinationRuleFor(t, 'shop', R.fqdn)!;
    expect(effectiveTrafficPolicy(dr, 'v2', 80)).toEqual({ loadBalancer: { simple: 'ROUND_ROBIN' }, connectionPool: { tcp: { maxConnections: 10 } } });
    expect(effectiveTrafficPolicy(dr, 'v1', 80)).toEqual({ loadBalancer: { simple: 'ROUND_ROBIN' } });
  });

  it('without a VirtualService the default route goes to outbound|80||FQDN', () => {
    const t = topo(fixture);
    const r = selectRoute(t, pod(t, 'shop/client'), R, {});
    expect(r.virtualService).toBeUndefined();
    expect(r.choices.map((c) => c.cluster)).toEqual(['outbound|80||reviews.shop.svc.cluster.local']);
  });
});
