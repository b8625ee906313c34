// kube-proxy's names: ServicePortName strings, the hashed chain names
// (portProtoHash / servicePortEndpointChainName) and computeProbability.

import { base32, sha256 } from '../hash';

/** First 16 characters of base32(sha256(s)) — kube-proxy's portProtoHash. */
export function hash16(s: string): string {
  return base32(sha256(s)).slice(0, 16);
}

/** ServicePortName.String(): `ns/name` plus `:portName` when the port is named. */
export function servicePortName(namespace: string, name: string, portName?: string): string {
  return `${namespace}/${name}${portName ? `:${portName}` : ''}`;
}

export interface ServiceChains {
  /** KUBE-SVC-*: cluster-policy endpoints. */
  svc: string;
  /** KUBE-SVL-*: local-policy endpoints. */
  svl: string;
  /** KUBE-EXT-*: external destinations. */
  ext: string;
  /** KUBE-FW-*: loadBalancerSourceRanges. */
  fw: string;
}

/** The four per-service-port chains; protocol is lower case (tcp/udp/sctp). */
export function serviceChains(spn: string, protocol: string): ServiceChains {
  const h = hash16(spn + protocol);
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

/** KUBE-SEP-*: endpoint is `ip:port` as net.JoinHostPort writes it. */
export function endpointChain(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(spn + protocol + endpoint)}`;
}

/** computeProbability: fmt.Sprintf("%0.10f", 1.0/float64(n)). */
export function computeProbability(n: number): string {
  return (1 / n).toFixed(10);
}

/** isServiceChainName: chains kube-proxy may delete when stale. */
export function isServiceChainName(chain: string): boolean {
  return ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-SEP-', 'KUBE-FW-', 'KUBE-EXT-'].some((p) => chain.startsWith(p));
}
