// Compact builders for small clusters, used by the policy tests, the
// property test and the benchmark. Pure data, no I/O.

import type { ContainerPort, NamespaceModel, NetworkPolicyModel, NodeModel, PodModel, Protocol } from '../model/types';
import type { PolicyTopology } from './semantics';

export interface PodSpec {
  /** `namespace/name` */
  id: string;
  labels?: Record<string, string>;
  ip: string;
  node?: string;
  hostNetwork?: boolean;
  /** `name:port/PROTO` or `port/PROTO` or `name:port` (TCP). */
  ports?: string[];
}

export function parsePortSpec(s: string): ContainerPort {
  const m = /^(?:([a-z0-9-]+):)?(\d+)(?:\/(TCP|UDP|SCTP))?$/.exec(s);
  if (!m) throw new Error(`bad port spec ${s}`);
  return { container: 'c', name: m[1], containerPort: Number(m[2]), protocol: (m[3] as Protocol | undefined) ?? 'TCP' };
}

export function mkPod(s: PodSpec): PodModel {
  const [namespace, name] = s.id.split('/');
  return {
    namespace,
    name,
    labels: s.labels ?? {},
    annotations: {},
    nodeName: s.node ?? 'node-1',
    ips: [s.ip],
    hostNetwork: s.hostNetwork ?? false,
    ports: (s.ports ?? []).map(parsePortSpec),
    serviceAccountName: 'default',
  };
}

export function mkNamespaces(ns: Record<string, Record<string, string>>): NamespaceModel[] {
  return Object.entries(ns).map(([name, labels]) => ({ name, labels: { 'kubernetes.io/metadata.name': name, ...labels } }));
}

export function mkNodes(nodes: Record<string, string>): NodeModel[] {
  return Object.entries(nodes).map(([name, ip]) => ({ name, ips: [ip], labels: {}, podCIDRs: [] }));
}

export function mkTopology(opts: {
  namespaces: Record<string, Record<string, string>>;
  pods: PodSpec[];
  policies?: NetworkPolicyModel[];
  nodes?: Record<string, string>;
}): PolicyTopology {
  return {
    namespaces: mkNamespaces(opts.namespaces),
    pods: opts.pods.map(mkPod),
    networkPolicies: opts.policies ?? [],
    nodes: mkNodes(opts.nodes ?? { 'node-1': '10.0.1.5', 'node-2': '10.0.1.6' }),
  };
}

/** A NetworkPolicy with namespace/name from `id`. */
export function np(id: string, spec: Omit<NetworkPolicyModel, 'namespace' | 'name'>): NetworkPolicyModel {
  const [namespace, name] = id.split('/');
  return { namespace, name, ...spec };
}
