import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTopology } from '../model';
import { meshConfig } from './manifests';
import { validateMesh } from './validate';
import { HEADER, nsYaml, podYaml, svcYaml, topo } from './testkit';

const SAMPLE = 'resources/samples/mesh.yaml';
const text = readFileSync(SAMPLE, 'utf8');
const loaded = loadTopology({ file: SAMPLE, text });

describe('the sample', () => {
  it('loads without loader diagnostics', () => {
    expect(loaded.diagnostics).toEqual([]);
  });

  it('has exactly the mesh findings it is meant to teach', () => {
    const d = validateMesh(loaded.topology!, { sources: [{ file: SAMPLE, text }] });
    expect(d.map((x) => `${x.severity} ${x.code} ${x.path}`)).toEqual([
      'warning inject-annotation metadata.annotations["sidecar.istio.io/inject"]',
      'error istio-authz-attribute spec.rules[0].when[1].key',
      'error istio-authz-attribute spec.rules[0].when[1].key',
      'warning istio-deprecated-consecutive-errors spec.trafficPolicy.outlierDetection.consecutiveErrors',
    ]);
  });

  it('points at the field, not just the object, when given the source', () => {
    const lines = text.split('\n');
    const timeLine = lines.findIndex((l) => l.includes('- key: request.time'));
    const ceLine = lines.findIndex((l) => l.includes('consecutiveErrors: 5'));
    const d = validateMesh(loaded.topology!, { sources: [{ file: SAMPLE, text }] });
    const authz = d.find((x) => x.code === 'istio-authz-attribute')!;
    expect([authz.file, authz.line, authz.column]).toEqual([SAMPLE, timeLine + 1, lines[timeLine].indexOf('request.time') + 1]);
    expect(authz.message).toBe('AuthorizationPolicy api-authz.production: invalid `value` for `key` request.time: unknown attribute: request.time');
    expect(authz.hint).toMatch(/^Istio's validating webhook refuses this object \("admission webhook \\"validation.istio.io\\" denied the request: configuration is invalid: invalid `value` for `key` request.time: unknown attribute: request.time"\), so kubectl apply fails/);
    expect(authz.hint).toMatch(/Istio has no time-of-day attribute/);
    const ce = d.find((x) => x.code === 'istio-deprecated-consecutive-errors')!;
    expect([ce.line, ce.column]).toEqual([ceLine + 1, lines[ceLine].indexOf('5') + 1]);
    expect(ce.hint).toMatch(/ignored consecutiveErrors since Istio 1\.7.*consecutive_5xx = 5 with enforcement 100% — the same number by coincidence/);
    // without the source: the object's own position
    const plain = validateMesh(loaded.topology!).find((x) => x.code === 'istio-authz-attribute')!;
    const apLine = lines.findIndex((l, i) => l === 'apiVersion: security.istio.io/v1beta1' && lines[i + 1] === 'kind: AuthorizationPolicy');
    expect([plain.line, plain.column]).toEqual([apLine + 1, 1]);
  });
});

const SEED_VS = `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: api-canary
spec:
  hosts:
  - api-service
  http:
  - match:
    - headers:
        user-agent:
          regex: ".*Mobile.*"
    route:
    - destination:
        host: api-service
        subset: v2
      weight: 100
  - route:
    - destination:
        host: api-service
        subset: v1
      weight: 90
    - destination:
        host: api-service
        subset: v2
      weight: 10
---
`;

describe('cross-object findings', () => {
  const app = nsYaml('production', { 'istio-injection': 'enabled' }) + podYaml({ ns: 'production', name: 'api', ip: '10.244.1.2', labels: { app: 'api' } }) + svcYaml('production', 'api-service', '10.96.20.10', { app: 'api' });

  it('the seed\'s VirtualService as written: no namespace (so default), and its host is then no Service', () => {
    const d = validateMesh(topo(app + SEED_VS));
    expect(d.map((x) => x.code)).toEqual(['istio-no-namespace', 'IST0101', 'IST0101', 'IST0101']);
    expect(d[1].message).toBe('VirtualService api-canary.default: Referenced host not found: "api-service" (api-service.default.svc.cluster.local) is no Service of the topology');
  });

  it('…in production it finds the Service but no DestinationRule with subsets v1/v2', () => {
    const d = validateMesh(topo(app + SEED_VS.replace('  name: api-canary\n', '  name: api-canary\n  namespace: production\n')));
    expect(d.map((x) => [x.severity, x.code, x.path])).toEqual([
      ['error', 'IST0101', 'spec.http[0].route[0].destination.subset'],
      ['error', 'IST0101', 'spec.http[1].route[0].destination.subset'],
      ['error', 'IST0101', 'spec.http[1].route[1].destination.subset'],
    ]);
    expect(d[0].message).toBe('VirtualService api-canary.production: Referenced host+subset in destinationrule not found: "api-service.production.svc.cluster.local+v2"');
  });

  it('AuthorizationPolicy ports are workload ports; typos in field names are unknown fields', () => {
    const d = validateMesh(
      topo(
        app +
          `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: p, namespace: production }
spec:
  selector: { matchLabels: { app: api } }
  rules:
  - to: [{ operation: { ports: ["80"] } }]
  - form: [{ source: { namespaces: [frontend] } }]
---
`,
      ),
    );
    expect(d.map((x) => [x.code, x.path, x.message])).toEqual([
      ['istio-unknown-field', 'spec.rules[1].form', 'AuthorizationPolicy p.production: unknown field "spec.rules[1].form"'],
      ['authz-service-port', 'spec.rules[0].to[0].operation.ports[0]', 'AuthorizationPolicy p.production: ports ["80"] is the Service port of api-service; the sidecar checks the port the workload receives on (8080)'],
    ]);
  });

  it('Istio\'s own validation messages', () => {
    const t = topo(
      app +
        `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: lower, namespace: production }
spec: { mtls: { mode: strict } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: dr, namespace: production }
spec:
  host: api-service
  subsets: [{ name: V1, labels: { version: v1 } }]
  trafficPolicy:
    outlierDetection: { interval: 10x, maxEjectionPercent: 120 }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-nothing, namespace: production }
spec: { action: DENY }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bad, namespace: production }
spec:
  hosts: ["*"]
  http: [{ match: [{ headers: { x: { regex: "(?=a)" } } }], route: [{ destination: { host: api-service } }] }]
---
`,
    );
    const msgs = validateMesh(t).filter((x) => x.severity === 'error').map((x) => x.message);
    expect(msgs).toEqual([
      'PeerAuthentication lower.production: mode "strict" must be upper case (STRICT)',
      'AuthorizationPolicy deny-nothing.production: DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request',
      'VirtualService bad.production: wildcard host * is not allowed for virtual services bound to the mesh gateway',
      'VirtualService bad.production: "headers": error parsing regexp: invalid or unsupported Perl syntax: `(?=`; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
      'DestinationRule dr.production: invalid duration "10x": use a Go/protobuf duration such as 30s, 100ms or 1m',
      'DestinationRule dr.production: percentage 120 is not in range 0..100',
      'DestinationRule dr.production: subset name is invalid: V1',
    ]);
    expect(meshConfig(t).peerAuthentications[0].mode).toBe('STRICT');
  });

  it('warns once per workload about the deprecated injection annotation', () => {
    const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: production }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
      annotations: { sidecar.istio.io/inject: "false" }
    spec:
      containers: [{ name: web, image: nginx }]
---
`;
    const d = validateMesh(topo(app + deploy)).filter((x) => x.code === 'inject-annotation');
    expect(d.map((x) => [x.message, x.path])).toEqual([
      ['Deployment production/web (pod template): sidecar.istio.io/inject is an annotation (deprecated); no sidecar: the pod opts out with the annotation sidecar.istio.io/inject: "false" (deprecated annotation, still honoured)', 'spec.template.metadata.annotations["sidecar.istio.io/inject"]'],
    ]);
  });

  it('warns that Istio objects do nothing with the mesh off', () => {
    const d = validateMesh(topo(app + SEED_VS, HEADER.replace('mesh: true', 'mesh: false')));
    expect(d[0].code).toBe('mesh-disabled');
    expect(d[0].message).toMatch(/settings.mesh.enabled is false/);
  });
});
