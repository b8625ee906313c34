// Test fixtures: a small builder for Topology objects, so kube-proxy, DNS and
// packet-walk tests can state a cluster in a few lines without the loader.
// Settings follow the seed (Calico BGP, 10.244.0.0/16 pods, 10.96.0.0/12
// services, kube-proxy iptables, cluster.local, ndots 5).

import type {
  ClusterSettings,
  EndpointModel,
  EndpointSliceModel,
  NodeModel,
  PodModel,
  Protocol,
  ServiceModel,
  ServicePort,
  ServiceType,
  Topology,
} from '../model/types';

export function testSettings(over: Partial<ClusterSettings> = {}): ClusterSettings {
  return {
    name: 'test',
    cni: { plugin: 'calico', mode: 'bgp', natOutgoing: true, encryption: false },
    clusterCIDRs: ['10.244.0.0/16'],
    serviceCIDRs: ['10.96.0.0/12'],
    nodeCIDRs: ['10.0.0.0/16'],
    nodeCIDRMaskSize: { v4: 24, v6: 64 },
    blockSize: { v4: 26, v6: 122 },
    firstNodeCIDRIndex: 1,
    podIPOffset: 0,
    nodeMTU: 1500,
    kubeProxy: { mode: 'iptables', ipvsScheduler: 'rr', masqueradeAll: false, masqueradeBit: 14 },
    dns: { clusterDomain: 'cluster.local', ndots: 5, nodeLocalDNS: false, nodeLocalIP: '169.254.20.10', ttl: 30 },
    mesh: { enabled: false },
    conntrack: { max: 131072 },
    ...over,
  };
}

export interface ServiceSpec {
  namespace?: string;
  name: string;
  type?: ServiceType;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: (Partial<ServicePort> & { port: number })[];
  selector?: Record<string, string>;
  sessionAffinity?: 'None' | 'ClientIP';
  sessionAffinityTimeoutSeconds?: number;
  internalTrafficPolicy?: 'Cluster' | 'Local';
  externalTrafficPolicy?: 'Cluster' | 'Local';
  externalIPs?: string[];
  loadBalancerIPs?: string[];
  loadBalancerSourceRanges?: string[];
  healthCheckNodePort?: number;
  externalName?: string;
}

export interface EndpointSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  hostname?: string;
  pod?: string;
}

export class TopologyBuilder {
  readonly topo: Topology;

  constructor(settings: Partial<ClusterSettings> = {}) {
    this.topo = {
      settings: testSettings(settings),
      nodes: [],
      namespaces: [{ name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } }, { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } }],
      pods: [],
      deployments: [],
      services: [],
      endpointSlices: [],
      networkPolicies: [],
      extra: [],
    };
  }

  node(name: string, ips: string | string[], podCIDRs: string | string[] = []): this {
    const n: NodeModel = { name, ips: ([] as string[]).concat(ips), labels: { 'kubernetes.io/hostname': name }, podCIDRs: ([] as string[]).concat(podCIDRs) };
    this.topo.nodes.push(n);
    return this;
  }

  namespace(name: string): this {
    if (!this.topo.namespaces.some((n) => n.name === name)) this.topo.namespaces.push({ name, labels: { 'kubernetes.io/metadata.name': name } });
    return this;
  }

  pod(namespace: string, name: string, node: string, ips: string | string[], opts: Partial<PodModel> = {}): this {
    this.namespace(namespace);
    this.topo.pods.push({
      namespace,
      name,
      labels: {},
      annotations: {},
      nodeName: node,
      ips: ([] as string[]).concat(ips),
      hostNetwork: false,
      ports: [],
      serviceAccountName: 'default',
      ...opts,
    });
    return this;
  }

  service(spec: ServiceSpec): this {
    const namespace = spec.namespace ?? 'default';
    this.namespace(namespace);
    const clusterIPs = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : spec.type === 'ExternalName' ? [] : ['None']);
    const s: ServiceModel = {
      namespace,
      name: spec.name,
      labels: {},
      type: spec.type ?? 'ClusterIP',
      clusterIPs,
      selector: spec.selector,
      ports: (spec.ports ?? []).map((p) => ({ protocol: 'TCP' as Protocol, targetPort: p.port, ...p })),
      sessionAffinity: spec.sessionAffinity ?? 'None',
      sessionAffinityTimeoutSeconds: spec.sessionAffinityTimeoutSeconds ?? 10800,
      internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
      externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
      externalName: spec.externalName,
      externalIPs: spec.externalIPs ?? [],
      loadBalancerIPs: spec.loadBalancerIPs ?? [],
      loadBalancerSourceRanges: spec.loadBalancerSourceRanges ?? [],
      healthCheckNodePort: spec.healthCheckNodePort,
      ipFamilies: clusterIPs.filter((ip) => ip !== 'None').map((ip) => (ip.includes(':') ? 'IPv6' : 'IPv4')),
    };
    this.topo.services.push(s);
    return this;
  }

  /** One EndpointSlice for a service: ports as the slice lists them (target ports). */
  endpoints(namespace: string, service: string, ports: { name?: string; port: number; protocol?: Protocol }[], endpoints: EndpointSpec[], addressType: 'IPv4' | 'IPv6' = 'IPv4'): this {
    const n = this.topo.endpointSlices.filter((s) => s.namespace === namespace && s.serviceName === service).length;
    const sl: EndpointSliceModel = {
      namespace,
      name: `${service}-${addressType === 'IPv4' ? 'v4' : 'v6'}${n}`,
      serviceName: service,
      addressType,
      ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
      endpoints: endpoints.map((e) => {
        const m: EndpointModel & { hostname?: string } = {
          addresses: [e.ip],
          conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
          nodeName: e.node,
        };
        if (e.pod) m.targetRef = { kind: 'Pod', namespace, name: e.pod };
        if (e.hostname) m.hostname = e.hostname;
        return m;
      }),
      derived: false,
    };
    this.topo.endpointSlices.push(sl);
    return this;
  }

  build(): Topology {
    return this.topo;
  }
}

/**
 * The seed's scenario: three nodes, Pod A 10.244.1.5 on node-1, Service
 * default/backend 10.96.5.20:80 → 10.244.2.8:8080 (node-2) and 10.244.3.9:8080
 * (node-3), kube-dns 10.96.0.10 → CoreDNS 10.244.2.15 (node-2).
 */
export function seedTopology(settings: Partial<ClusterSettings> = {}): Topology {
  return new TopologyBuilder(settings)
    .node('node-1', '10.0.1.5', '10.244.1.0/24')
    .node('node-2', '10.0.1.6', '10.244.2.0/24')
    .node('node-3', '10.0.1.7', '10.244.3.0/24')
    .pod('default', 'pod-a', 'node-1', '10.244.1.5')
    .pod('default', 'backend-1', 'node-2', '10.244.2.8', { labels: { app: 'backend' } })
    .pod('default', 'backend-2', 'node-3', '10.244.3.9', { labels: { app: 'backend' } })
    .pod('kube-system', 'coredns-1', 'node-2', '10.244.2.15', { labels: { 'k8s-app': 'kube-dns' } })
    .service({ name: 'kubernetes', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 6443 }] })
    .endpoints('default', 'kubernetes', [{ name: 'https', port: 6443 }], [{ ip: '10.0.1.5' }])
    .service({ name: 'backend', clusterIP: '10.96.5.20', selector: { app: 'backend' }, ports: [{ port: 80, targetPort: 8080 }] })
    .endpoints('default', 'backend', [{ port: 8080 }], [
      { ip: '10.244.2.8', node: 'node-2', pod: 'backend-1' },
      { ip: '10.244.3.9', node: 'node-3', pod: 'backend-2' },
    ])
    .service({
      namespace: 'kube-system',
      name: 'kube-dns',
      clusterIP: '10.96.0.10',
      selector: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'metrics', port: 9153, protocol: 'TCP' },
      ],
    })
    .endpoints('kube-system', 'kube-dns', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153, protocol: 'TCP' }], [
      { ip: '10.244.2.15', node: 'node-2', pod: 'coredns-1' },
    ])
    .build();
}
