import { describe, expect, it } from 'vitest';
import { deriveEndpointSlices, loadTopology, MAX_ENDPOINTS_PER_SLICE, PodLabelIndex, resolveTargetPort, type PodModel, type Topology } from '.';

function load(text: string): Topology {
  const r = loadTopology({ file: 'eps.yaml', text });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.topology!;
}

const header = `apiVersion: netlab.dev/v1alpha1
kind: Topology
cluster: { cni: flannel-vxlan }
nodes: [{ name: node-1, zone: a }, { name: node-2, zone: b }]
`;

describe('EndpointSlice derivation', () => {
  it('resolves a named targetPort per pod: pods with different numbers land in different slices', () => {
    const t = load(`${header}---
apiVersion: v1
kind: Pod
metadata: { name: old, labels: { app: api } }
spec: { nodeName: node-1, containers: [{ name: c, ports: [{ name: http, containerPort: 8080 }, { name: admin, containerPort: 9000 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: new, labels: { app: api } }
spec: { nodeName: node-2, containers: [{ name: c, ports: [{ name: http, containerPort: 8081 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: udp, labels: { app: api } }
spec: { nodeName: node-2, containers: [{ name: c, ports: [{ name: http, containerPort: 7000, protocol: UDP }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: api }
spec:
  selector: { app: api }
  ports:
    - { name: web, port: 80, targetPort: http }
    - { name: admin, port: 9000, targetPort: admin }
    - { name: raw, port: 81, targetPort: 3000 }
`);
    const slices = t.endpointSlices.filter((s) => s.serviceName === 'api');
    expect(slices.map((s) => [s.ports.map((p) => `${p.name}:${p.port}/${p.protocol}`).join(','), s.endpoints.map((e) => e.targetRef!.name).join(',')])).toEqual([
      ['web:8080/TCP,admin:9000/TCP,raw:3000/TCP', 'old'],
      ['web:8081/TCP,raw:3000/TCP', 'new'],
      // The UDP port named http does not serve a TCP service port: only the numeric targetPort applies.
      ['raw:3000/TCP', 'udp'],
    ]);
    expect(new Set(slices.map((s) => s.name)).size).toBe(3);
    for (const s of slices) expect(s.name).toMatch(/^api-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(slices[1].endpoints[0]).toEqual({
      addresses: ['10.244.2.2'],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: 'node-2',
      zone: 'b',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'new' },
    });
  });

  it('includes not-ready and terminating pods with their conditions; publishNotReadyAddresses makes them ready', () => {
    const t = load(`${header}---
apiVersion: v1
kind: Pod
metadata: { name: ready, labels: { app: w } }
spec: { nodeName: node-1, containers: [{ name: c }] }
---
apiVersion: v1
kind: Pod
metadata: { name: notready, labels: { app: w } }
spec: { nodeName: node-1, containers: [{ name: c }] }
status: { conditions: [{ type: Ready, status: "False" }] }
---
apiVersion: v1
kind: Pod
metadata: { name: annotated, labels: { app: w }, annotations: { netlab.dev/ready: "false" } }
spec: { nodeName: node-2, containers: [{ name: c }] }
---
apiVersion: v1
kind: Pod
metadata: { name: leaving, labels: { app: w }, deletionTimestamp: "2025-03-14T10:00:00Z" }
spec: { nodeName: node-2, containers: [{ name: c }] }
---
apiVersion: v1
kind: Service
metadata: { name: w }
spec: { selector: { app: w }, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: w-headless }
spec: { clusterIP: None, publishNotReadyAddresses: true, selector: { app: w }, ports: [{ port: 80 }] }
`);
    const cond = (svc: string) => Object.fromEntries(t.endpointSlices.filter((s) => s.serviceName === svc).flatMap((s) => s.endpoints.map((e) => [e.targetRef!.name, e.conditions])));
    expect(cond('w')).toEqual({
      ready: { ready: true, serving: true, terminating: false },
      notready: { ready: false, serving: false, terminating: false },
      annotated: { ready: false, serving: false, terminating: false },
      leaving: { ready: false, serving: true, terminating: true },
    });
    expect(cond('w-headless')).toMatchObject({ notready: { ready: true }, leaving: { ready: true, terminating: true } });
    expect(t.services.find((s) => s.name === 'w-headless')!.clusterIPs).toEqual(['None']);
  });

  it(`splits at ${MAX_ENDPOINTS_PER_SLICE} endpoints a slice, and keeps an empty placeholder when nothing matches`, () => {
    const pods = Array.from({ length: 230 }, (_, i) => `  - { apiVersion: v1, kind: Pod, metadata: { name: p${i}, labels: { app: big } }, spec: { containers: [{ name: c }] } }`).join('\n');
    const t = load(`${header}manifests:
${pods}
  - { apiVersion: v1, kind: Service, metadata: { name: big }, spec: { selector: { app: big }, ports: [{ port: 80 }] } }
  - { apiVersion: v1, kind: Service, metadata: { name: none }, spec: { selector: { app: nothing }, ports: [{ port: 80 }] } }
`);
    expect(t.endpointSlices.filter((s) => s.serviceName === 'big').map((s) => s.endpoints.length)).toEqual([100, 100, 30]);
    const none = t.endpointSlices.filter((s) => s.serviceName === 'none');
    expect(none).toHaveLength(1);
    expect(none[0]).toMatchObject({ addressType: 'IPv4', ports: [], endpoints: [], derived: true });
  });

  it('does not derive for ExternalName Services, Services without selector, or Services that have slices', () => {
    const t = load(`${header}---
apiVersion: v1
kind: Pod
metadata: { name: a, labels: { app: a } }
spec: { nodeName: node-1, containers: [{ name: c }] }
---
{ apiVersion: v1, kind: Service, metadata: { name: ext }, spec: { type: ExternalName, externalName: db.example.com } }
---
{ apiVersion: v1, kind: Service, metadata: { name: manual }, spec: { ports: [{ port: 80 }] } }
---
{ apiVersion: v1, kind: Service, metadata: { name: given }, spec: { selector: { app: a }, ports: [{ port: 80 }] } }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: given-abcde, labels: { kubernetes.io/service-name: given } }
addressType: IPv4
endpoints: [{ addresses: [10.9.9.9] }]
ports: [{ port: 80, protocol: TCP }]
`);
    expect(t.endpointSlices.map((s) => [s.serviceName, s.name, s.derived])).toEqual([
      ['given', 'given-abcde', false],
      ['kubernetes', 'kubernetes', true],
    ]);
    expect(t.services.find((s) => s.name === 'ext')).toMatchObject({ type: 'ExternalName', externalName: 'db.example.com', clusterIPs: [], ipFamilies: [] });
  });

  it('re-derives in place after the pods change (for editors)', () => {
    const t = load(`${header}---
apiVersion: v1
kind: Pod
metadata: { name: a, labels: { app: a } }
spec: { nodeName: node-1, containers: [{ name: c }] }
---
{ apiVersion: v1, kind: Service, metadata: { name: a }, spec: { selector: { app: a }, ports: [{ port: 80 }] } }
`);
    const extra: PodModel = { ...t.pods[0], name: 'b', ips: ['10.244.2.9'], nodeName: 'node-2' };
    t.pods.push(extra);
    expect(deriveEndpointSlices(t)).toEqual([]);
    const a = t.endpointSlices.filter((s) => s.serviceName === 'a');
    expect(a).toHaveLength(1);
    expect(a[0].endpoints.map((e) => e.addresses[0])).toEqual(['10.244.1.2', '10.244.2.9']);
  });
});

describe('PodLabelIndex and resolveTargetPort', () => {
  const mk = (name: string, ns: string, labels: Record<string, string>): PodModel => ({
    namespace: ns,
    name,
    labels,
    annotations: {},
    nodeName: 'n',
    ips: [],
    hostNetwork: false,
    ports: [{ container: 'c', name: 'http', containerPort: 8080, protocol: 'TCP' }],
    serviceAccountName: 'default',
  });
  const pods = [mk('a', 'x', { app: 'web', tier: 'fe' }), mk('b', 'x', { app: 'web', tier: 'be' }), mk('c', 'y', { app: 'web' })];
  const idx = new PodLabelIndex(pods);

  it('answers map selectors by namespace; an empty selector selects nothing', () => {
    expect(idx.select('x', { app: 'web' }).map((p) => p.name)).toEqual(['a', 'b']);
    expect(idx.select('x', { app: 'web', tier: 'be' }).map((p) => p.name)).toEqual(['b']);
    expect(idx.select('y', { tier: 'be' })).toEqual([]);
    expect(idx.select('x', {})).toEqual([]);
    expect(idx.select('x', undefined)).toEqual([]);
    expect(idx.namespacePods('x')).toHaveLength(2);
  });

  it('resolves numbers as they are and names by protocol', () => {
    expect(resolveTargetPort(pods[0], 9090, 'TCP')).toBe(9090);
    expect(resolveTargetPort(pods[0], 'http', 'TCP')).toBe(8080);
    expect(resolveTargetPort(pods[0], 'http', 'UDP')).toBeUndefined();
    expect(resolveTargetPort(pods[0], 'grpc', 'TCP')).toBeUndefined();
  });
});
