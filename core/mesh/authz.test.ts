import { describe, expect, it } from 'vitest';
import { evaluateAuthorization, type AuthzRequest } from './authz';
import { meshConfig } from './manifests';
import { nsYaml, pod, podYaml, topo } from './testkit';

const SEED_POLICY = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: api-authz
  namespace: production
spec:
  selector:
    matchLabels:
      app: api
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/frontend/sa/frontend-sa"]
    to:
    - operation:
        methods: ["GET", "POST"]
        paths: ["/api/v1/*"]
        ports: ["8080"]
    when:
    - key: request.headers[authorization]
      values: ["Bearer *"]
    - key: request.time
      values: ["09:00:00-17:00:00"]  # Business hours only!
---
`;
const FIXED_POLICY = SEED_POLICY.replace('    - key: request.time\n      values: ["09:00:00-17:00:00"]  # Business hours only!\n', '');

const base =
  nsYaml('istio-system') +
  nsYaml('production', { 'istio-injection': 'enabled' }) +
  nsYaml('frontend', { 'istio-injection': 'enabled' }) +
  podYaml({ ns: 'production', name: 'api', ip: '10.244.2.10', labels: { app: 'api' }, sa: 'api-sa' }) +
  podYaml({ ns: 'production', name: 'db', ip: '10.244.2.11', labels: { app: 'db' }, sa: 'db-sa', port: 5432 });

const FRONTEND = 'cluster.local/ns/frontend/sa/frontend-sa';
const req = (o: Partial<AuthzRequest> = {}): AuthzRequest => ({
  protocol: 'http',
  sourceIp: '10.244.1.11',
  sourcePrincipal: FRONTEND,
  destinationIp: '10.244.2.10',
  destinationPort: 8080,
  method: 'GET',
  path: '/api/v1/users',
  host: 'api-service.production.svc.cluster.local',
  headers: { authorization: 'Bearer eyJhbGciOi' },
  ...o,
});

function decide(policies: string, r: AuthzRequest, target = 'production/api', opts = {}) {
  const t = topo(base + policies);
  return evaluateAuthorization(t, pod(t, target), r, opts);
}

describe('the seed\'s AuthorizationPolicy', () => {
  it('is refused by validation: request.time is not an attribute', () => {
    const t = topo(base + SEED_POLICY);
    const ap = meshConfig(t).authorizationPolicies[0];
    expect(ap.issues.filter((i) => i.rejected).map((i) => [i.message, i.path.join('.')])).toEqual([
      ['invalid `value` for `key` request.time: unknown attribute: request.time', 'spec.rules.0.when.1.key'],
      ['invalid `notValue` for `key` request.time: unknown attribute: request.time', 'spec.rules.0.when.1.key'],
    ]);
    expect(ap.rules![0].invalid).toBe('unknown attribute request.time');
  });

  it('therefore never exists: with no ALLOW policy every request is allowed', () => {
    const d = decide(SEED_POLICY, req({ sourcePrincipal: 'cluster.local/ns/production/sa/anyone', path: '/admin' }));
    expect(d.allowed).toBe(true);
    expect(d.text).toMatch(/no ALLOW policy applies/);
    expect(d.ignored[0].why).toMatch(/validating webhook refuses it \("invalid policy api-authz.production: invalid `value` for `key` request.time: unknown attribute: request.time"\)/);
  });

  it('if the webhook were bypassed, istiod drops the invalid rule and the ALLOW policy denies everything', () => {
    const d = decide(SEED_POLICY, req(), 'production/api', { admissionWebhook: false });
    expect(d.allowed).toBe(false);
    expect(d.status).toBe(403);
    expect(d.checks[0].skipped).toBe('skipped invalid rule production.api-authz[0]: unknown attribute request.time');
  });

  it('without request.time: the frontend identity with a bearer token may GET /api/v1/*', () => {
    const d = decide(FIXED_POLICY, req());
    expect(d.allowed).toBe(true);
    expect(d.decidedBy).toMatchObject({ action: 'ALLOW', rule: 0, policy: { name: 'api-authz', namespace: 'production' } });
    expect(d.text).toMatch(/path "\/api\/v1\/users" matches "\/api\/v1\/\*" \(prefix match on "\/api\/v1\/"\)/);
    expect(d.text).toMatch(/request.headers\[authorization\] = "Bearer eyJhbGciOi" matches \["Bearer \*"\]/);
  });

  const denied: [string, Partial<AuthzRequest>, RegExp][] = [
    ['another namespace\'s frontend-sa', { sourcePrincipal: 'cluster.local/ns/production/sa/frontend-sa' }, /source principal "cluster.local\/ns\/production\/sa\/frontend-sa" matches none of "cluster.local\/ns\/frontend\/sa\/frontend-sa" \(exact\)/],
    ['plaintext (no mTLS, no principal)', { sourcePrincipal: undefined }, /source principal \(absent\) .*no peer identity: the connection is plaintext/],
    ['another API version', { path: '/api/v2/users' }, /path "\/api\/v2\/users" matches none of "\/api\/v1\/\*"/],
    ['the prefix needs the slash', { path: '/api/v1' }, /path "\/api\/v1" matches none/],
    ['DELETE', { method: 'DELETE' }, /method "DELETE" matches none of "GET" \(exact\), "POST" \(exact\)/],
    ['Basic credentials', { headers: { authorization: 'Basic dXNlcg==' } }, /request.headers\[authorization\] = "Basic dXNlcg==" matches none of "Bearer \*" \(prefix match on "Bearer "\)/],
    ['no authorization header', { headers: {} }, /request.headers\[authorization\] = \(absent\)/],
    ['header values are case-sensitive', { headers: { authorization: 'bearer x' } }, /"bearer x" matches none/],
    ['the Service port is not the workload port', { destinationPort: 80 }, /destination port "80" matches none of "8080"/],
  ];
  for (const [name, o, why] of denied) {
    it(`403 for ${name}`, () => {
      const d = decide(FIXED_POLICY, req(o));
      expect([d.allowed, d.status]).toEqual([false, 403]);
      expect(d.text).toMatch(/ALLOW policies apply to production\/api and none matches — api-authz.production rule 0: /);
      expect(d.text).toMatch(why);
    });
  }

  it('ignores the query string and reads header names case-insensitively', () => {
    expect(decide(FIXED_POLICY, req({ path: '/api/v1/users?limit=5', headers: { Authorization: 'Bearer x' } })).allowed).toBe(true);
  });
});

function policy(name: string, spec: string, ns = 'production', annotations = ''): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: ${ns}${annotations}
spec:
${spec}
---
`;
}

describe('AuthorizationPolicy evaluation order and semantics', () => {
  const allowFrontend = policy('allow-frontend', `  selector: { matchLabels: { app: api } }
  rules:
  - from: [{ source: { principals: ["${FRONTEND}"] } }]`);
  const denyAdmin = policy('deny-admin', `  action: DENY
  rules:
  - to: [{ operation: { paths: ["/admin*"] } }]`);

  it('no policy: allowed', () => {
    expect(decide('', req()).allowed).toBe(true);
  });

  it('DENY is evaluated before ALLOW', () => {
    const d = decide(allowFrontend + denyAdmin, req({ path: '/admin/users' }));
    expect([d.allowed, d.decidedBy?.action, d.decidedBy?.policy.name]).toEqual([false, 'DENY', 'deny-admin']);
    expect(d.text).toMatch(/^DENY policy deny-admin.production rule 0 matches: path "\/admin\/users" matches "\/admin\*"/);
    expect(decide(allowFrontend + denyAdmin, req({ path: '/api' })).decidedBy?.policy.name).toBe('allow-frontend');
  });

  it('an ALLOW policy with no rules allows nothing; a DENY with an empty rule denies everything', () => {
    const d = decide(policy('allow-nothing', '  {}'), req());
    expect(d.allowed).toBe(false);
    expect(d.text).toMatch(/allow-nothing.production has no rules \(it matches nothing: "allow-nothing"\)/);
    expect(decide(policy('deny-all', '  action: DENY\n  rules: [{}]'), req()).text).toMatch(/deny-all.production rule 0 matches: an empty rule matches every request/);
  });

  it('CUSTOM comes first and is delegated to the provider', () => {
    const custom = policy('ext', `  action: CUSTOM
  provider: { name: opa }
  rules: [{ to: [{ operation: { paths: ["/api/*"] } }] }]`);
    const denied = decide(custom + allowFrontend, req(), 'production/api', { customAuthz: 'deny' });
    expect([denied.allowed, denied.decidedBy?.action]).toEqual([false, 'CUSTOM']);
    expect(decide(custom + allowFrontend, req()).decidedBy?.policy.name).toBe('allow-frontend');
  });

  it('AUDIT and dry-run policies do not change the decision', () => {
    const audit = policy('audit', '  action: AUDIT\n  rules: [{}]');
    const dry = policy('dry-deny', '  action: DENY\n  rules: [{}]', 'production', '\n  annotations:\n    istio.io/dry-run: "true"');
    const d = decide(audit + dry, req());
    expect(d.allowed).toBe(true);
    expect(d.audited.map((c) => c.policy.name)).toEqual(['audit']);
    expect(d.shadow.map((c) => [c.policy.name, c.matched])).toEqual([['dry-deny', true]]);
  });

  it('mesh-wide policies from the root namespace apply; other namespaces\' do not', () => {
    const root = policy('root-deny', '  action: DENY\n  rules: [{ to: [{ operation: { methods: ["DELETE"] } }] }]', 'istio-system');
    const other = policy('other', '  action: DENY\n  rules: [{}]', 'frontend');
    expect(decide(root + other, req({ method: 'DELETE' })).decidedBy?.policy.name).toBe('root-deny');
    expect(decide(root + other, req()).allowed).toBe(true);
  });

  it('principals need mTLS; notPrincipals matches plaintext; "*" is presence', () => {
    const anyId = policy('any-identity', '  rules: [{ from: [{ source: { principals: ["*"] } }] }]');
    expect(decide(anyId, req()).allowed).toBe(true);
    expect(decide(anyId, req({ sourcePrincipal: undefined })).allowed).toBe(false);
    const notFront = policy('not-frontend', `  action: DENY\n  rules: [{ from: [{ source: { notPrincipals: ["${FRONTEND}"] } }] }]`);
    expect(decide(notFront, req({ sourcePrincipal: undefined })).allowed).toBe(false);
    expect(decide(notFront, req()).allowed).toBe(true);
    const nsOnly = policy('ns', '  rules: [{ from: [{ source: { namespaces: ["frontend"] } }] }]');
    expect(decide(nsOnly, req()).allowed).toBe(true);
    expect(decide(nsOnly, req({ sourcePrincipal: 'cluster.local/ns/production/sa/x' })).allowed).toBe(false);
  });

  it('when: source.ip CIDRs and notValues, suffix and path templates', () => {
    const ip = policy('ip', '  rules: [{ when: [{ key: source.ip, values: ["10.244.1.0/24"], notValues: ["10.244.1.99"] }] }]');
    expect(decide(ip, req()).allowed).toBe(true);
    expect(decide(ip, req({ sourceIp: '10.244.1.99' })).allowed).toBe(false);
    expect(decide(ip, req({ sourceIp: '10.244.2.5' })).allowed).toBe(false);
    const hosts = policy('hosts', '  rules: [{ to: [{ operation: { hosts: ["*.svc.cluster.local"] } }] }]');
    expect(decide(hosts, req({ host: 'API-SERVICE.production.SVC.cluster.local' })).allowed).toBe(true);
    expect(decide(hosts, req({ host: 'example.com' })).allowed).toBe(false);
    const tmpl = policy('tmpl', '  rules: [{ to: [{ operation: { paths: ["/api/{*}/users", "/files/{**}"] } }] }]');
    expect(decide(tmpl, req({ path: '/api/v9/users' })).allowed).toBe(true);
    expect(decide(tmpl, req({ path: '/api/a/b/users' })).allowed).toBe(false);
    expect(decide(tmpl, req({ path: '/files/a/b/c.txt' })).allowed).toBe(true);
  });

  it('plain TCP: ALLOW rules with HTTP-only fields never match; DENY rules drop them and match more', () => {
    const tcp = req({ protocol: 'tcp', destinationIp: '10.244.2.11', destinationPort: 5432 });
    const allowGet = policy('allow-get', '  selector: { matchLabels: { app: db } }\n  rules: [{ to: [{ operation: { methods: ["GET"], ports: ["5432"] } }] }]');
    const d = decide(allowGet, tcp, 'production/db');
    expect(d.allowed).toBe(false);
    expect(d.checks[0].reason).toMatch(/plain TCP: the rule uses HTTP-only fields \(to.operation.methods\)/);
    const denyPaths = policy('deny-paths', '  selector: { matchLabels: { app: db } }\n  action: DENY\n  rules: [{ to: [{ operation: { paths: ["/admin"] } }] }]');
    const e = decide(denyPaths, tcp, 'production/db');
    expect([e.allowed, e.decidedBy?.policy.name]).toEqual([false, 'deny-paths']);
    expect(e.text).toMatch(/HTTP-only fields \(to.operation.paths\) are dropped on TCP/);
    // ... and the validator warns about it
    const t = topo(base + denyPaths);
    expect(meshConfig(t).authorizationPolicies[0].issues.map((i) => i.message)).toContain(
      'configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port',
    );
  });
});
