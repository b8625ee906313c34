// core/mesh: the Istio sidecar model. Injection decisions; the istio-init /
// istio-cni iptables rules of a pod as a core/dataplane Ruleset; the mesh
// hops the packet walk calls (meshOutbound / meshInbound / meshRequest) with
// Envoy listeners, routes, clusters, endpoints, auto mTLS, PeerAuthentication
// and AuthorizationPolicy; VirtualService / DestinationRule routing; a circuit
// breaker and outlier detection simulation; validation of the manifests;
// renderers (istio-iptables, istioctl-proxy-config-clusters, mesh-request).

export * from './types';
export * from './world';
export * from './match';
export {
  meshConfig,
  readPeerAuthentication,
  readAuthorizationPolicy,
  readVirtualService,
  readDestinationRule,
  validateAttribute,
  parseDurationMs,
  isRejected,
  configName,
  SECURITY_VERSIONS,
  NETWORKING_VERSIONS,
  type MeshConfigSet,
} from './manifests';
export * from './injection';
export * from './iptables';
export * from './peerauth';
export * from './authz';
export * from './routing';
export * from './hop';
export * from './circuit';
export * from './validate';
export * from './notes';
export { registerMeshRenderers, renderIstioIptables, renderProxyConfigClusters, renderMeshRequest, sidecarClusters, type ClusterRow } from './render';
