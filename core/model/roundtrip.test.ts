import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadTopology, serializeTopology, type Topology } from '.';

/** The topology without `origin` fields (they name lines of the file read, which differ after a round trip). */
function withoutOrigins(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutOrigins);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'origin') out[k] = withoutOrigins(x);
    return out;
  }
  return v;
}

function roundTrip(first: Topology) {
  const text = serializeTopology(first);
  const again = loadTopology({ file: 'roundtrip.yaml', text });
  expect(again.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(withoutOrigins(again.topology)).toEqual(withoutOrigins(first));
  // And the serialised text is stable.
  expect(serializeTopology(again.topology!)).toBe(text);
  return text;
}

const samplesDir = new URL('../../resources/samples/', import.meta.url);
const samples = readdirSync(samplesDir).filter((f) => f.endsWith('.yaml'));

describe('load → serialize → load gives an equal topology', () => {
  it('covers every sample', () => {
    expect(samples).toEqual(expect.arrayContaining(['seed.yaml', 'three-tier.yaml', 'dual-stack.yaml']));
  });

  it.each(samples)('%s', (name) => {
    const r = loadTopology({ file: name, text: readFileSync(new URL(name, samplesDir), 'utf8') });
    expect(r.topology).not.toBeNull();
    roundTrip(r.topology!);
  });

  it('the seed with --set cni=calico-vxlan,kubeProxy=ipvs keeps the overrides', () => {
    const r = loadTopology({ file: 'seed.yaml', text: readFileSync(new URL('seed.yaml', samplesDir), 'utf8') }, { set: ['cni=calico-vxlan', 'kubeProxy=ipvs'] });
    const text = roundTrip(r.topology!);
    expect(text).toContain('mode: vxlan');
    expect(text).toContain('mode: ipvs');
  });

  it('the kubectl List fixture', () => {
    const r = loadTopology({ file: 'k.yaml', text: readFileSync(new URL('./testdata/kubectl-kind.yaml', import.meta.url), 'utf8') }, { set: ['nodeCIDR=172.18.0.0/16', 'cni=flannel-host-gw'] });
    roundTrip(r.topology!);
  });

  it('workloads, ExternalName, NodePort/LoadBalancer, session affinity, not-ready pods, policies', () => {
    const text = `apiVersion: netlab.dev/v1alpha1
kind: Topology
cluster: { cni: cilium-native, kubeProxy: { mode: ipvs, scheduler: sh } }
nodes: [{ name: a, labels: { pool: x } }, { name: b }]
---
{ apiVersion: apps/v1, kind: Deployment, metadata: { name: web }, spec: { replicas: 3, selector: { matchLabels: { app: web } }, template: { metadata: { labels: { app: web } }, spec: { nodeSelector: { pool: x }, containers: [{ name: c, ports: [{ name: http, containerPort: 80 }] }] } } } }
---
{ apiVersion: apps/v1, kind: DaemonSet, metadata: { name: agent }, spec: { selector: { matchLabels: { app: agent } }, template: { metadata: { labels: { app: agent } }, spec: { containers: [{ name: c }] } } } }
---
{ apiVersion: apps/v1, kind: StatefulSet, metadata: { name: db }, spec: { replicas: 2, selector: { matchLabels: { app: db } }, template: { metadata: { labels: { app: db } }, spec: { containers: [{ name: c }] } } } }
---
{ apiVersion: v1, kind: Pod, metadata: { name: lone, labels: { app: web }, annotations: { netlab.dev/ready: "false" } }, spec: { containers: [{ name: c, ports: [{ name: http, containerPort: 8080 }] }] } }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  sessionAffinity: ClientIP
  sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } }
  loadBalancerSourceRanges: [203.0.113.0/24]
  externalIPs: [198.51.100.7]
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
status: { loadBalancer: { ingress: [{ ip: 192.0.2.10 }] } }
---
{ apiVersion: v1, kind: Service, metadata: { name: np }, spec: { type: NodePort, selector: { app: db }, ports: [{ port: 5432, nodePort: 30432 }] } }
---
{ apiVersion: v1, kind: Service, metadata: { name: ext }, spec: { type: ExternalName, externalName: db.example.com } }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p }
spec:
  podSelector: { matchExpressions: [{ key: app, operator: In, values: [web] }] }
  policyTypes: [Ingress]
  ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: db } } }, { ipBlock: { cidr: 10.0.0.0/8, except: [10.0.1.0/24] } }], ports: [{ protocol: TCP, port: http }, { port: 1000, endPort: 2000 }] }, {}]
---
{ apiVersion: cilium.io/v2, kind: CiliumNetworkPolicy, metadata: { name: l7 }, spec: { endpointSelector: { matchLabels: { app: web } } } }
`;
    const r = loadTopology({ file: 'mix.yaml', text });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const t = r.topology!;
    expect(t.pods.filter((p) => p.owner?.name === 'web').map((p) => p.nodeName)).toEqual(['a', 'a', 'a']); // nodeSelector pool=x
    expect(t.services.find((s) => s.name === 'web')).toMatchObject({ healthCheckNodePort: 30001, ports: [{ nodePort: 30000 }], sessionAffinityTimeoutSeconds: 300 });
    roundTrip(t);
  });
});
