// The topology model: cluster settings plus the Kubernetes objects that
// matter to networking. Objects stay close to their Kubernetes API shape so
// that users recognise them and so they write back out as manifests.

export type CniPlugin = 'calico' | 'cilium' | 'flannel' | 'weave' | 'antrea';

/** Modes per plugin. `cni` strings in files are `<plugin>-<mode>`, e.g. `calico-vxlan`. */
export const CNI_MODES: Record<CniPlugin, readonly string[]> = {
  calico: ['bgp', 'vxlan', 'ipip', 'ipip-crosssubnet', 'vxlan-crosssubnet'],
  cilium: ['native', 'vxlan', 'geneve'],
  flannel: ['vxlan', 'host-gw'],
  weave: ['fastdp', 'sleeve'],
  antrea: ['geneve', 'vxlan', 'noencap'],
};

export type KubeProxyMode = 'iptables' | 'ipvs' | 'ebpf';
export type IpvsScheduler = 'rr' | 'lc' | 'dh' | 'sh';

export interface ClusterSettings {
  name: string;
  cni: {
    plugin: CniPlugin;
    mode: string;
    /** Pod/veth MTU; default derived from the node MTU and the encapsulation. */
    mtu?: number;
    /** Calico natOutgoing / Cilium masquerade for traffic leaving the cluster CIDR. */
    natOutgoing: boolean;
    /** Weave encryption, Cilium/Calico WireGuard (modelled only). */
    encryption: boolean;
    /**
     * Cilium's L7 proxy (Helm `l7Proxy`, agent `--enable-l7-proxy`); absent:
     * on, Cilium's default. With it the agent moves the local rule to
     * priority 100 and adds `9: from all fwmark 0x200/0xf00 lookup 2004`.
     * Ignored by the other plugins.
     */
    l7Proxy?: boolean;
  };
  /** Pod CIDRs, one per IP family (dual-stack = two entries). */
  clusterCIDRs: string[];
  /** Service CIDRs, one per IP family. */
  serviceCIDRs: string[];
  /** The node network (cloud VPC) CIDRs. */
  nodeCIDRs: string[];
  /** Per-node pod CIDR mask size (kube-controller-manager --node-cidr-mask-size). */
  nodeCIDRMaskSize: { v4: number; v6: number };
  /** Calico IPAM block size (ipPools[].blockSize); used when the plugin is calico. */
  blockSize: { v4: number; v6: number };
  /**
   * Index of the first per-node pod CIDR handed out. The seed numbers node-1 as
   * 10.244.1.0/24 (index 1); kube-controller-manager starts at index 0.
   */
  firstNodeCIDRIndex: number;
  /** Offset of the first pod IP inside a node's pod CIDR (host-local starts at .2). */
  podIPOffset: number;
  nodeMTU: number;
  kubeProxy: {
    mode: KubeProxyMode;
    ipvsScheduler: IpvsScheduler;
    masqueradeAll: boolean;
    masqueradeBit: number;
  };
  dns: {
    clusterDomain: string;
    ndots: number;
    nodeLocalDNS: boolean;
    nodeLocalIP: string;
    /** CoreDNS record TTL (kubernetes plugin `ttl`, default 5 s upstream; the seed says 30). */
    ttl: number;
  };
  mesh: { enabled: boolean };
  conntrack: { max: number };
}

/** Where an object or field came from, for error messages and editors. */
export interface SourceRef {
  file: string;
  line: number;
  column: number;
  /** Field path inside the document, e.g. `spec.ports[0].targetPort`. */
  path?: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface NodeModel {
  name: string;
  /** InternalIP addresses, one per family. */
  ips: string[];
  zone?: string;
  labels: Record<string, string>;
  /** spec.podCIDRs; filled by IPAM when absent. */
  podCIDRs: string[];
  /** Calico IPAM blocks affine to this node (filled by IPAM for calico). */
  blocks?: string[];
  origin?: SourceRef;
}

export interface NamespaceModel {
  name: string;
  /** Always includes kubernetes.io/metadata.name (set by the API server since 1.21). */
  labels: Record<string, string>;
  origin?: SourceRef;
}

export interface ContainerPort {
  container: string;
  name?: string;
  containerPort: number;
  protocol: Protocol;
  hostPort?: number;
}

export interface PodModel {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeName: string;
  /** status.podIPs; filled by IPAM when absent (hostNetwork pods get the node's IPs). */
  ips: string[];
  hostNetwork: boolean;
  ports: ContainerPort[];
  serviceAccountName: string;
  /**
   * Set when the loader expanded the pod from a workload (Deployment, or a
   * DaemonSet/StatefulSet kept in `extra`). Pods read from the input never carry it.
   */
  owner?: { kind: 'Deployment' | 'DaemonSet' | 'StatefulSet'; name: string };
  /**
   * False when the pod is not Ready (status.conditions Ready=False, or the
   * `netlab.dev/ready: "false"` annotation); undefined means Ready.
   */
  ready?: boolean;
  /** True when the pod is being deleted (metadata.deletionTimestamp set). */
  terminating?: boolean;
  origin?: SourceRef;
}

export interface DeploymentModel {
  namespace: string;
  name: string;
  replicas: number;
  labels: Record<string, string>;
  /** The pod template as written (metadata.labels, spec). */
  template: {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    hostNetwork: boolean;
    ports: ContainerPort[];
    nodeName?: string;
    /** spec.template.spec.nodeSelector: replicas go round-robin over the nodes carrying these labels. */
    nodeSelector?: Record<string, string>;
    serviceAccountName: string;
  };
  /** Optional explicit placement per replica (netlab extension: netlab.dev/nodes annotation). */
  nodes?: string[];
  origin?: SourceRef;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServicePort {
  name?: string;
  protocol: Protocol;
  port: number;
  targetPort: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export interface ServiceModel {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  type: ServiceType;
  /** spec.clusterIPs; ['None'] for headless; filled by IPAM when absent. */
  clusterIPs: string[];
  selector?: Record<string, string>;
  ports: ServicePort[];
  sessionAffinity: 'None' | 'ClientIP';
  sessionAffinityTimeoutSeconds: number;
  internalTrafficPolicy: 'Cluster' | 'Local';
  externalTrafficPolicy: 'Cluster' | 'Local';
  externalName?: string;
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip */
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  healthCheckNodePort?: number;
  /** spec.publishNotReadyAddresses: endpoints are Ready even when their pods are not. */
  publishNotReadyAddresses?: boolean;
  ipFamilies: ('IPv4' | 'IPv6')[];
  origin?: SourceRef;
}

export interface EndpointModel {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string };
}

export interface EndpointSliceModel {
  namespace: string;
  name: string;
  serviceName: string;
  addressType: 'IPv4' | 'IPv6';
  ports: { name?: string; port: number; protocol: Protocol; appProtocol?: string }[];
  endpoints: EndpointModel[];
  /** True when the loader derived it from the Service selector (as the EndpointSlice controller would). */
  derived: boolean;
  origin?: SourceRef;
}

export interface NetworkPolicyPort {
  protocol?: Protocol;
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyIngressRule {
  from?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

/** networking.k8s.io/v1 NetworkPolicy, as written (absent vs empty lists preserved). */
export interface NetworkPolicyModel {
  namespace: string;
  name: string;
  podSelector: LabelSelector;
  /** As written; undefined when the manifest leaves it out (defaults apply). */
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
  origin?: SourceRef;
}

/** Any other manifest we keep verbatim (CiliumNetworkPolicy, Istio resources, ConfigMaps…). */
export interface RawManifest {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The whole object as parsed. */
  object: Record<string, unknown>;
  origin?: SourceRef;
}

export interface Topology {
  settings: ClusterSettings;
  nodes: NodeModel[];
  namespaces: NamespaceModel[];
  pods: PodModel[];
  deployments: DeploymentModel[];
  services: ServiceModel[];
  endpointSlices: EndpointSliceModel[];
  networkPolicies: NetworkPolicyModel[];
  /** CiliumNetworkPolicy, Istio and other kinds kept as written. */
  extra: RawManifest[];
}

export type Severity = 'error' | 'warning';

/** A problem found in user input, with where it is and what to do next. */
export interface Diagnostic {
  severity: Severity;
  /** Stable machine-readable code, e.g. `ip-outside-cidr`. */
  code: string;
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** Field path, e.g. `items[2].spec.ports[0].targetPort`. */
  path?: string;
  hint?: string;
}
