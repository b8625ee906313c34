// A small builder for Topology objects in tests (and benchmarks): the
// seed's three-node cluster by default, with node pod CIDRs, Calico blocks
// and pod IPs filled in as IPAM would fill them.

import { Cidr } from '../net';
import type { ClusterSettings, CniPlugin, NodeModel, PodModel, Topology } from '../model/types';

export interface TestNode {
  name: string;
  ip: string;
  podCIDR: string;
  blocks?: string[];
  zone?: string;
}

export interface TestPod {
  namespace?: string;
  name: string;
  node: string;
  ip: string;
  labels?: Record<string, string>;
  hostNetwork?: boolean;
}

export interface TestTopologyOptions {
  plugin?: CniPlugin;
  mode?: string;
  nodes?: TestNode[];
  pods?: TestPod[];
  nodeCIDRs?: string[];
  clusterCIDRs?: string[];
  nodeMTU?: number;
  mtu?: number;
  encryption?: boolean;
  blockSize?: number;
}

export const SEED_NODES: TestNode[] = [
  { name: 'node-1', ip: '10.0.1.5', podCIDR: '10.244.1.0/24' },
  { name: 'node-2', ip: '10.0.1.6', podCIDR: '10.244.2.0/24' },
  { name: 'node-3', ip: '10.0.1.7', podCIDR: '10.244.3.0/24' },
];

export const SEED_PODS: TestPod[] = [
  { name: 'pod-a', node: 'node-1', ip: '10.244.1.5', labels: { app: 'frontend' } },
  { name: 'backend-1', node: 'node-2', ip: '10.244.2.8', labels: { app: 'backend' } },
  { name: 'backend-2', node: 'node-3', ip: '10.244.3.9', labels: { app: 'backend' } },
];

export function testSettings(o: TestTopologyOptions = {}): ClusterSettings {
  return {
    name: 'test',
    cni: { plugin: o.plugin ?? 'calico', mode: o.mode ?? 'bgp', mtu: o.mtu, natOutgoing: true, encryption: o.encryption ?? false },
    clusterCIDRs: o.clusterCIDRs ?? ['10.244.0.0/16'],
    serviceCIDRs: ['10.96.0.0/12'],
    nodeCIDRs: o.nodeCIDRs ?? ['10.0.0.0/16'],
    nodeCIDRMaskSize: { v4: 24, v6: 64 },
    blockSize: { v4: o.blockSize ?? 26, v6: 122 },
    firstNodeCIDRIndex: 1,
    podIPOffset: 2,
    nodeMTU: o.nodeMTU ?? 1500,
    kubeProxy: { mode: 'iptables', ipvsScheduler: 'rr', masqueradeAll: false, masqueradeBit: 14 },
    dns: { clusterDomain: 'cluster.local', ndots: 5, nodeLocalDNS: false, nodeLocalIP: '169.254.20.10', ttl: 30 },
    mesh: { enabled: false },
    conntrack: { max: 131072 },
  };
}

/** The Calico blocks IPAM would make affine to a node: the first /blockSize of its pod CIDR. */
function defaultBlocks(podCIDR: string, blockSize: number): string[] {
  const c = Cidr.parse(podCIDR);
  return c.prefix <= blockSize ? [c.subnet(blockSize, 0).text] : [c.text];
}

export function testTopology(o: TestTopologyOptions = {}): Topology {
  const settings = testSettings(o);
  const nodes: NodeModel[] = (o.nodes ?? SEED_NODES).map((n) => ({
    name: n.name,
    ips: [n.ip],
    zone: n.zone,
    labels: { 'kubernetes.io/hostname': n.name },
    podCIDRs: [n.podCIDR],
    blocks: n.blocks ?? defaultBlocks(n.podCIDR, settings.blockSize.v4),
  }));
  const pods: PodModel[] = (o.pods ?? SEED_PODS).map((p) => ({
    namespace: p.namespace ?? 'default',
    name: p.name,
    labels: p.labels ?? {},
    annotations: {},
    nodeName: p.node,
    ips: [p.ip],
    hostNetwork: p.hostNetwork ?? false,
    ports: [],
    serviceAccountName: 'default',
  }));
  const namespaces = [...new Set(pods.map((p) => p.namespace).concat('default'))].map((name) => ({
    name,
    labels: { 'kubernetes.io/metadata.name': name },
  }));
  return { settings, nodes, namespaces, pods, deployments: [], services: [], endpointSlices: [], networkPolicies: [], extra: [] };
}
