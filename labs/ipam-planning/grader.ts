// Graders of the ipam-planning lab: address-plan arithmetic on the cluster
// settings (core/net CIDR math), checked against requirements given as
// check arguments. Pure: no Node imports.

import { Cidr } from '../../core/net';
import type { ClusterSettings } from '../../core/model';
import { compareValue, LabError, type GraderFn } from '../../core/labs';

function v4(list: string[], what: string): Cidr {
  const c = list.map((x) => Cidr.tryParse(x)).find((x): x is Cidr => !!x && x.family === 4);
  if (!c) throw new LabError(`the cluster has no IPv4 ${what}`);
  return c;
}

export interface Capacity {
  /** Per-node pod CIDRs kube-controller-manager can hand out (it starts at index 0). */
  nodes: number;
  /** Addresses per node pod CIDR usable for pods. */
  podsPerNode: number;
  /** ClusterIPs the service CIDR offers (kube-apiserver skips the network and broadcast address). */
  services: number;
}

/**
 * Capacity of an address plan. Pods per node: host-local (Flannel, Weave,
 * Antrea, Cilium cluster-pool) gives out the node range minus the network,
 * broadcast and gateway/router address; Calico IPAM uses every address of
 * its blocks, but only blocks of the node's range are counted here.
 */
export function capacity(s: ClusterSettings): Capacity {
  const cluster = v4(s.clusterCIDRs, 'cluster CIDR');
  const service = v4(s.serviceCIDRs, 'service CIDR');
  const mask = s.nodeCIDRMaskSize.v4;
  const nodes = mask >= cluster.prefix ? 2 ** (mask - cluster.prefix) : 0;
  const size = 2 ** (32 - mask);
  const podsPerNode = s.cni.plugin === 'calico' ? size : Math.max(0, size - 3);
  const services = 2 ** (32 - service.prefix) - 2;
  return { nodes, podsPerNode, services };
}

const plan: GraderFn = (ctx) => {
  const s = ctx.world.topology.settings;
  const need = { nodes: Number(ctx.args.nodes), podsPerNode: Number(ctx.args.podsPerNode), services: Number(ctx.args.services) };
  const avoid = (Array.isArray(ctx.args.avoid) ? ctx.args.avoid : []).map(String);
  const c = capacity(s);
  const problems: string[] = [];
  let parts = 0;
  let good = 0;
  const check = (ok: boolean, why: string) => {
    parts++;
    if (ok) good++;
    else problems.push(why);
  };
  check(c.nodes >= need.nodes, `the cluster CIDR gives only ${c.nodes} node pod CIDRs of /${s.nodeCIDRMaskSize.v4}; ${need.nodes} nodes are planned`);
  check(c.podsPerNode >= need.podsPerNode, `a /${s.nodeCIDRMaskSize.v4} per node holds ${c.podsPerNode} pod addresses; nodes run up to ${need.podsPerNode} pods`);
  check(c.services >= need.services, `the service CIDR offers ${c.services} ClusterIPs; ${need.services} Services are planned`);
  const ranges: [string, Cidr][] = [
    ['cluster CIDR', v4(s.clusterCIDRs, 'cluster CIDR')],
    ['service CIDR', v4(s.serviceCIDRs, 'service CIDR')],
    ['node CIDR', v4(s.nodeCIDRs, 'node CIDR')],
    ...avoid.map((a) => [`the reserved range ${a}`, Cidr.parse(a)] as [string, Cidr]),
  ];
  const clashes: string[] = [];
  for (let i = 0; i < ranges.length; i++) for (let j = i + 1; j < ranges.length; j++) if (ranges[i][1].overlaps(ranges[j][1])) clashes.push(`the ${ranges[i][0]} overlaps ${ranges[j][0]}`);
  check(clashes.length === 0, clashes.join('; '));
  if (s.cni.plugin === 'calico') check(s.blockSize.v4 >= s.nodeCIDRMaskSize.v4, `Calico blocks of /${s.blockSize.v4} are larger than a node's /${s.nodeCIDRMaskSize.v4}`);
  const score = good / parts;
  return score >= 1 ? { score: 1, message: `the plan holds: ${c.nodes} nodes × ${c.podsPerNode} pod addresses, ${c.services} ClusterIPs, no overlaps` } : { score, message: problems.join('; ') };
};

/** A typed number against the capacity of the starting plan. */
const capacityAnswer: GraderFn = (ctx) => {
  const what = String(ctx.args.what) as keyof Capacity;
  const c = capacity(ctx.start.topology.settings);
  if (!(what in c)) throw new LabError(`capacityAnswer: unknown "${what}"`);
  const got = ctx.answer && typeof ctx.answer === 'object' && !Array.isArray(ctx.answer) ? (ctx.answer as Record<string, unknown>)[what] : ctx.answer;
  if (got === undefined || got === '') return { score: 0, message: 'no answer given' };
  const r = compareValue('integer', String(got), String(c[what]));
  return r.diffs.length ? { score: 0, message: 'your number is not right', diffs: r.diffs } : { score: 1, message: 'correct' };
};

export const graders: Record<string, GraderFn> = { plan, capacityAnswer };
