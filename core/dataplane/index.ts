// core/dataplane: the Linux data-plane pieces — netfilter (model, evaluator,
// iptables-save renderer and parser), conntrack, ipset, IPVS — plus, from
// core/hash, the sync SHA-256 and base32 kube-proxy's chain names need.

export { base32, sha256, hex as toHex } from '../hash';
export * from './netfilter';
export * from './iptables-save';
export * from './iptables-parse';
export * from './evaluate';
export * from './conntrack';
export * from './ipset';
export * from './ipvs';
export * from './owner';
