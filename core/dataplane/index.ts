// core/dataplane: the Linux data-plane pieces — netfilter (model, evaluator,
// iptables-save renderer and parser), conntrack, ipset, IPVS — plus the sync
// SHA-256 kube-proxy's chain names need.

export * from './hash';
export * from './netfilter';
export * from './iptables-save';
export * from './iptables-parse';
export * from './evaluate';
export * from './conntrack';
export * from './ipset';
export * from './ipvs';
export * from './owner';
