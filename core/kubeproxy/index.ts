// core/kubeproxy: Services + EndpointSlices → what kube-proxy (iptables or IPVS
// mode) or Cilium's kube-proxy replacement programs on a node, and
// serviceLookup for the packet walk.

export * from './names';
export * from './endpoints';
export * from './iptables';
export * from './ipvs';
export * from './ebpf';
export * from './lookup';
