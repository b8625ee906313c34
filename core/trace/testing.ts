// Test and benchmark fixtures for the packet walk: the samples, and a
// generated cluster of any size (nodes, pods, Services, a CoreDNS).

import { loadTopology, type SourceText } from '../model';
import type { Topology } from '../model/types';

/** Loads YAML text as a topology (with --set overrides); throws with the diagnostics when it fails. */
export function loadText(text: string, set: string[] = [], file = 'topology.yaml'): Topology {
  const src: SourceText = { file, text };
  const r = loadTopology(src, { set });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.topology || errors.length) throw new Error(`${file}: ${errors.map((d) => d.message).join('; ')}`);
  return r.topology;
}

export interface GeneratedCluster {
  nodes: number;
  pods: number;
  services: number;
  namespaces?: number;
  cni?: string;
  /** Extra `cluster:` lines (YAML, two-space indented). */
  cluster?: string[];
}

/**
 * A cluster of `nodes` nodes, `pods` pods spread over `services` Services
 * (each Service selects pods app-<i>, round-robin), in `namespaces`
 * namespaces, plus one CoreDNS pod and kube-dns.
 */
export function generateCluster(g: GeneratedCluster): string {
  const ns = g.namespaces ?? 20;
  const out: string[] = [];
  out.push(`apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata:
  name: generated
cluster:
  cni: ${g.cni ?? 'calico-vxlan'}
  clusterCIDR: 10.128.0.0/9
  serviceCIDR: 10.96.0.0/12
  nodeCIDR: 10.0.0.0/16
  nodeCIDRMaskSize: 24
${(g.cluster ?? []).map((l) => `  ${l}`).join('\n')}
nodes:
`);
  for (let i = 0; i < g.nodes; i++) out.push(`  - name: node-${i + 1}\n    zone: zone-${'abc'[i % 3]}\n`);
  for (let i = 0; i < ns; i++) out.push(`---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-${i}\n`);
  for (let i = 0; i < g.pods; i++) {
    const svc = i % g.services;
    out.push(`---
apiVersion: v1
kind: Pod
metadata:
  name: pod-${i}
  namespace: ns-${svc % ns}
  labels:
    app: app-${svc}
spec:
  containers:
    - name: main
      image: registry.example/app:1.0
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
`);
  }
  for (let s = 0; s < g.services; s++) {
    out.push(`---
apiVersion: v1
kind: Service
metadata:
  name: svc-${s}
  namespace: ns-${s % ns}
spec:
  selector:
    app: app-${s}
  ports:
    - name: http
      port: 80
      targetPort: http
`);
  }
  out.push(`---
apiVersion: v1
kind: Pod
metadata:
  name: coredns-0
  namespace: kube-system
  labels: { k8s-app: kube-dns }
spec:
  containers:
    - name: coredns
      image: registry.k8s.io/coredns/coredns:v1.11.3
      ports:
        - { name: dns, containerPort: 53, protocol: UDP }
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  clusterIP: 10.96.0.10
  selector: { k8s-app: kube-dns }
  ports:
    - { name: dns, port: 53, protocol: UDP }
`);
  return out.join('');
}
