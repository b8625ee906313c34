import type { NodeModel, PodModel, Protocol } from '../model/types';

/**
 * How ipBlock peers treat addresses that belong to the cluster (pod IPs, node IPs).
 * - `match` (default): ipBlock matches the packet's address whatever it belongs to.
 *   This is what the API reference's wording gives and what Calico does.
 * - `ignore`: ipBlock matches only cluster-external addresses. Cilium does this:
 *   pods and nodes carry security identities and CIDR rules only select `world`
 *   (and CIDR identities); see CILIUM_IPBLOCK_NOTE.
 */
export type IpBlockClusterMode = 'match' | 'ignore';

export interface EvalOptions {
  ipBlockClusterIPs?: IpBlockClusterMode;
}

/** One connection to judge. `from`/`to`: `ns/pod`, `ip:ADDR` or `node:NAME`. */
export interface ReachQuery {
  from: string;
  to: string;
  port: number;
  protocol?: Protocol;
  /**
   * The address family of the packet (ipBlock peers match the address of
   * that family). Default: IPv4 when both ends have an IPv4 address, else IPv6.
   */
  family?: 4 | 6;
}

export type Endpoint =
  | { kind: 'pod'; ref: string; pod: PodModel; ip: string }
  | { kind: 'host'; ref: string; nodeName: string; node?: NodeModel; ip: string; pod?: PodModel }
  | { kind: 'external'; ref: string; ip: string };

export type Direction = 'Ingress' | 'Egress';

export interface RuleRef {
  /** `namespace/name` */
  policy: string;
  direction: Direction;
  ruleIndex: number;
  /** Index in from/to, or null when the rule has no peers (all peers). */
  peerIndex: number | null;
  /** Index in ports, or null when the rule has no ports (all ports). */
  portIndex: number | null;
}

export interface RuleMiss {
  ruleIndex: number;
  /** Which part failed: the peers, the ports, or both. */
  failed: 'peers' | 'ports' | 'both';
  reason: string;
}

export interface PolicyDenial {
  policy: string;
  /** The policy isolates the pod but has no rules for this direction. */
  noRules: boolean;
  rules: RuleMiss[];
}

export interface SideVerdict {
  direction: Direction;
  allowed: boolean;
  /** The pod the direction is judged for (`ns/name`), or the endpoint text. */
  subject: string;
  /** Pod selected by no policy of this direction. */
  notIsolated?: true;
  /** The direction does not apply (the endpoint is not a pod): why. */
  notApplicable?: string;
  /** Source is the destination pod's own node (kubelet probes, hostNetwork pods). */
  hostLocal?: true;
  /** Source and destination are the same pod. */
  loopback?: true;
  allowedBy?: RuleRef[];
  deniedBy?: { isolatingPolicies: string[]; reasons: PolicyDenial[] };
  text: string;
}

export interface Verdict {
  allowed: boolean;
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  egress: SideVerdict;
  ingress: SideVerdict;
  /** One human sentence per side, joined. */
  text: string;
  /** Notes the UI can show (e.g. IPBLOCK_POD_IP_NOTE when an ipBlock matched a pod IP). */
  notes: string[];
}

/** A user-facing problem with a query or scenario. */
export class PolicyInputError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'PolicyInputError';
  }
}
