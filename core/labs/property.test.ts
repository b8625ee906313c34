import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadTopology, serializeTopology } from '../model';
import { checkProperty, evaluate, parseProperty, PropertySyntaxError } from './property';
import { LabWorld } from './world';

const seedText = readFileSync(new URL('../../resources/samples/seed.yaml', import.meta.url), 'utf8');
const threeTier = readFileSync(new URL('../../resources/samples/three-tier.yaml', import.meta.url), 'utf8');

function world(text: string, set: string[] = []): LabWorld {
  const r = loadTopology({ file: 't.yaml', text }, { set });
  if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return new LabWorld({ topology: r.topology, changes: [] });
}

describe('property language: syntax', () => {
  it.each([
    ['reachable(a/b, c/d)', 0, /takes 3 arguments/],
    ['reach(a/b, c/d, 80)', 0, /unknown function "reach"/],
    ['reachable(a/b, c/d, 80', 22, /expected "\)"/],
    ['endpoints(x/y) == ', 18, /expected a value but found the end/],
    ['only(a/*) -> b/* 80/TCP', 17, /expected "on"/],
    ['reachable(ns/{app=x, c/d, 80)', 10, /unclosed \{/],
    ['denied(a/b, c/d, 80) or', 23, /expected a function/],
    ['"x" and reachable(a/b,c/d,80)', 0, /expected a function/],
    ['endpoints(x/y) == 2 extra', 20, /unexpected "extra"/],
  ])('%s → error at offset %i', (src, offset, msg) => {
    let err: unknown;
    try {
      parseProperty(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PropertySyntaxError);
    expect((err as PropertySyntaxError).offset).toBe(offset);
    expect((err as Error).message).toMatch(msg);
  });

  it('parses precedence: not > and > or, arrows, lists and reference', () => {
    const n = parseProperty('not reachable(a/*, b/*, 80) and endpoints(a/b) >= 2 or encap(node-1, node-2) in [vxlan, geneve] or route(node:x, 10.0.0.1) == reference');
    expect(n.t).toBe('or');
    const only = parseProperty('only(ns/{tier=backend}) → ns/{tier=database} on 5432/TCP');
    expect(only).toMatchObject({ t: 'call', name: 'only', arrow: { to: { text: 'ns/{tier=database}' }, on: { text: '5432/TCP' } } });
    expect(parseProperty('http(a/b, c/d, 80, "GET /x y", "Authorization: Bearer z") == 403')).toMatchObject({ t: 'cmp', op: '==', right: { value: 403 } });
  });
});

describe('property language: evaluation on the seed', () => {
  const seed = world(seedText);

  it('reachable / denied / only with counterexamples in feedback', () => {
    expect(checkProperty('reachable(default/pod-a, default/{app=backend}, 8080/TCP)', { world: seed }).value).toBe(true);
    const d = checkProperty('denied(default/pod-a, default/backend-1, 8080/TCP)', { world: seed });
    expect(d).toMatchObject({ value: false, whyFalse: 'default/pod-a → default/backend-1 on 8080/TCP is allowed but should be denied' });
    const n = checkProperty('not reachable(default/pod-a, default/backend-1, 8080/TCP)', { world: seed });
    expect(n.whyFalse).toBe('default/pod-a → default/backend-1 on 8080/TCP is allowed but should be denied');
    const only = checkProperty('only(default/pod-a) -> default/{app=backend} on 8080/TCP', { world: seed });
    expect(only.value).toBe(false);
    expect(only.whyFalse).toMatch(/→ default\/backend-\d on 8080\/TCP is allowed but should be denied/);
  });

  it('values: endpoints, settings, encap, podMtu, route, count, dnsQueries', () => {
    const v = (e: string, w = seed) => evaluate({ world: w }, parseProperty(e)).value;
    expect(v('endpoints(default/backend)')).toBe(2);
    expect(v('setting(kubeProxy.mode)')).toBe('iptables');
    expect(v('encap(node-1, node-2)')).toBe('none');
    expect(v('encap(node-1, node-2)', seed.withSettings(['cni=calico-vxlan']))).toBe('vxlan');
    expect(v('podMtu()', seed.withSettings(['cni=calico-vxlan']))).toBe(1450);
    expect(v('route(node:node-1, 10.244.2.8)')).toBe('via 10.0.1.6 dev eth0');
    expect(v('route(node:node-1, 10.244.1.50)')).toBe('blackhole');
    expect(v('count(default/*)')).toBe(5);
    expect(v('dnsQueries(default/pod-a, backend)')).toBe(2);
    expect(v('dnsQueries(default/pod-a, backend.default.svc.cluster.local)')).toBe(8);
  });

  it('comparisons report a field diff; "reference" compares with another state', () => {
    const r = checkProperty('endpoints(default/backend) == 3', { world: seed });
    expect(r).toMatchObject({ value: false, whyFalse: 'endpoints(default/backend) is 2, expected 3', diffs: [{ field: 'endpoints(default/backend)', got: '2', expected: '3' }] });
    const vx = seed.withSettings(['cni=calico-vxlan']);
    const ref = checkProperty('route(node:node-1, 10.244.2.8) == reference', { world: seed, reference: vx });
    expect(ref.value).toBe(false);
    expect(ref.whyFalse).toBe('route(node:node-1, 10.244.2.8) is via 10.0.1.6 dev eth0, expected the intended value');
    expect(() => checkProperty('route(node:node-1, 10.244.2.8) == reference', { world: seed })).toThrow(/needs the lab's answer state/);
  });

  it('fits: the pod MTU against the tunnel and the uplink', () => {
    const trap = seed.withSettings(['cni=calico-vxlan', 'cni.mtu=1500']);
    expect(checkProperty('fits(default/pod-a, default/backend-1, 1450)', { world: trap }).value).toBe(true);
    const f = checkProperty('fits(default/pod-a, default/backend-1, mtu)', { world: trap });
    expect(f.value).toBe(false);
    expect(f.whyFalse).toMatch(/1500-byte packet with DF from default\/pod-a is dropped at node-1's vxlan\.calico/);
    expect(checkProperty('fits(default/pod-a, default/backend-1, mtu)', { world: seed.withSettings(['cni=calico-vxlan']) }).value).toBe(true);
    const local = checkProperty('fits(default/pod-a, default/pod-b, mtu)', { world: trap });
    expect(local.value).toBe(true);
  });

  it('selector errors are LabErrors with hints', () => {
    expect(() => checkProperty('reachable(nowhere/*, default/pod-a, 80)', { world: seed })).toThrow(/selects nothing/);
    expect(() => checkProperty('endpoints(default/nope) == 1', { world: seed })).toThrow(/no Service default\/nope/);
    expect(() => checkProperty('setting(bogus) == 1', { world: seed })).toThrow(/no such setting/);
    expect(() => checkProperty('endpoints(default/backend)', { world: seed })).toThrow(/is a value \(2\), not a condition/);
    expect(() => checkProperty('reachable(default/pod-a, default/pod-b, 70000)', { world: seed })).toThrow(/is not a port/);
  });
});

describe('property language: policies, DNS and L7', () => {
  const tt = world(threeTier);

  it('isolated and resolves on the seed\'s three-tier policies', () => {
    expect(checkProperty('isolated(production/*, ingress) and isolated(production/*, egress)', { world: tt }).value).toBe(true);
    expect(checkProperty('isolated(ingress-nginx/*, ingress)', { world: tt }).whyFalse).toMatch(/is not isolated for ingress/);
    const dns = checkProperty('resolves(production/{tier=frontend}, backend)', { world: tt });
    expect(dns.value).toBe(false);
    expect(dns.whyFalse).toMatch(/cannot send DNS queries to kube-dns .* on 53\/UDP/);
    expect(checkProperty('resolves(kube-system/*, kubernetes.default)', { world: tt }).value).toBe(true);
    expect(checkProperty('resolves(ingress-nginx/*, nothing.default.svc.cluster.local.)', { world: tt }).whyFalse).toMatch(/NXDOMAIN for every search candidate/);
  });

  it('serves: a Service whose targetPort nobody listens on', () => {
    const t = loadTopology({ file: 's', text: seedText }).topology!;
    t.services.find((s) => s.name === 'backend')!.ports[0].targetPort = 9999;
    const r = loadTopology({ file: 's2', text: serializeTopology(t) }).topology!;
    const w = new LabWorld({ topology: r, changes: [] });
    expect(checkProperty('serves(default/backend)', { world: w }).whyFalse).toMatch(/sends TCP port 9999 to default\/backend-\d, which does not listen there/);
    expect(checkProperty('serves(default/backend)', { world: world(seedText) }).value).toBe(true);
  });
});

describe('http() with Istio sidecars (mesh sample)', () => {
  const w = world(readFileSync(new URL('../../resources/samples/mesh.yaml', import.meta.url), 'utf8'));
  const v = (expr: string) => evaluate({ world: w }, parseProperty(expr)).value;

  it('walks the request through both sidecars: the AuthorizationPolicy answers 403, STRICT mTLS resets a pod without sidecar (0)', () => {
    expect(v('http(frontend/web, svc:production/api-service, 80/TCP, "GET /api/v1/users", "authorization: Bearer abc")')).toBe(200);
    expect(v('http(frontend/web, svc:production/api-service, 80/TCP, "GET /api/v1/users")')).toBe(403);
    expect(v('http(frontend/web, svc:production/api-service, 80/TCP, "DELETE /api/v1/users", "authorization: Bearer abc")')).toBe(403);
    expect(v('http(production/frontend, svc:production/api-service, 80/TCP, "GET /api/v1/users", "authorization: Bearer abc")')).toBe(403);
    expect(v('http(legacy/legacy-client, svc:production/api-service, 80/TCP, "GET /api/v1/users", "authorization: Bearer abc")')).toBe(0);
  });

  it('says why, and refuses ambiguous endpoints', () => {
    const r = evaluate({ world: w }, parseProperty('http(production/frontend, svc:production/api-service, 80/TCP, "GET /api/v1/users")'));
    expect(r.whyFalse).toContain('RBAC: access denied');
    expect(() => v('http(production/*, svc:production/api-service, 80/TCP, "GET /")')).toThrow(/one source pod/);
  });
});
