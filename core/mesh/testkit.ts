// Test helpers: small topologies written as YAML, loaded with the real loader.

import { loadTopology } from '../model';
import type { PodModel, Topology } from '../model/types';

export const HEADER = `apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata: { name: t }
cluster:
  cni: calico-bgp
  clusterCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  nodeCIDR: 10.0.0.0/16
  mesh: true
nodes:
  - { name: node-1, ip: 10.0.1.5 }
  - { name: node-2, ip: 10.0.1.6 }
`;

/** Loads YAML documents (after the standard header); throws on loader errors. */
export function topo(docs: string, header = HEADER): Topology {
  const r = loadTopology({ file: 'test.yaml', text: `${header}---\n${docs}` });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.topology || errors.length) throw new Error(`fixture does not load: ${JSON.stringify(errors)}`);
  return r.topology;
}

export function pod(t: Topology, ref: string): PodModel {
  const [ns, name] = ref.split('/');
  const p = t.pods.find((x) => x.namespace === ns && x.name === name);
  if (!p) throw new Error(`no pod ${ref}`);
  return p;
}

/** A Pod manifest. */
export function podYaml(o: { ns: string; name: string; ip: string; node?: string; labels?: Record<string, string>; annotations?: Record<string, string>; sa?: string; port?: number; hostNetwork?: boolean }): string {
  const lab = o.labels ? `\n  labels:\n${Object.entries(o.labels).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}` : '';
  const ann = o.annotations ? `\n  annotations:\n${Object.entries(o.annotations).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}` : '';
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${o.name}
  namespace: ${o.ns}${lab}${ann}
spec:
  nodeName: ${o.node ?? 'node-1'}
  serviceAccountName: ${o.sa ?? 'default'}${o.hostNetwork ? '\n  hostNetwork: true' : ''}
  containers:
    - name: app
      image: nginx
      ports:
        - { name: http, containerPort: ${o.port ?? 8080}, protocol: TCP }
status:
  podIP: ${o.ip}
---
`;
}

export function nsYaml(name: string, labels: Record<string, string> = {}): string {
  const lab = Object.keys(labels).length ? `\n  labels:\n${Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`).join('\n')}` : '';
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}${lab}
---
`;
}

export function svcYaml(ns: string, name: string, ip: string, selector: Record<string, string>, port = 80, target = 8080): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  clusterIP: ${ip}
  selector: { ${Object.entries(selector).map(([k, v]) => `${k}: ${v}`).join(', ')} }
  ports:
    - { name: http, port: ${port}, targetPort: ${target}, protocol: TCP }
---
`;
}
