// Benchmark: routeLookup with policy rules (Calico WireGuard's rule 99 and
// table 1) against the same lookups on the same cluster without WireGuard,
// where a namespace with only the kernel's default rules takes the
// local-then-main fast path.
//
//   npx tsx bench/policy-routing.ts [--nodes 100] [--pods 3000] [--lookups 500000]
//
// Figures, measured in the same process, on the same destinations (every
// pod IP, from every node: mostly remote pods, so table 1 answers):
// - baseline: routeLookup on the calico-vxlan cluster (default rules);
// - routeLookup on the calico-vxlan cluster with WireGuard (rule walk:
//   local miss, rule 99 → table 1);
// - routeLookup on the WireGuard cluster for packets carrying the WireGuard
//   mark (rule 99 skipped, table main);
// - routeLookup on the WireGuard cluster for node addresses (table 1 has no
//   route, the walk falls through to main).

import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildDataplane, routeLookup, type NetNamespace } from '../core/cni';
import { CALICO_WIREGUARD_MARK } from '../core/cni/calico';
import { generateCluster, loadText } from '../core/trace/testing';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    pods: { type: 'string', default: '3000' },
    lookups: { type: 'string', default: '500000' },
  },
});
const NODES = Number(values.nodes);
const PODS = Number(values.pods);
const N = Number(values.lookups);

console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}`);
const text = (wg: boolean) => generateCluster({ nodes: NODES, pods: PODS, services: 10, cni: 'calico-vxlan', cluster: wg ? ['encryption: true'] : [] });
const plain = loadText(text(false));
const wg = loadText(text(true));
const nodesOf = (t: typeof plain): NetNamespace[] => {
  const dp = buildDataplane(t);
  return t.nodes.map((n) => dp.node(n.name));
};
const plainNodes = nodesOf(plain);
const wgNodes = nodesOf(wg);
if (!wgNodes[0].rules) throw new Error('the WireGuard cluster has no policy rules: encryption did not reach the settings');
const podDsts = plain.pods.map((p) => p.ips[0]);
const nodeDsts = plain.nodes.map((n) => n.ips[0]);
console.log(`cluster: ${NODES} nodes, ${PODS} pods, calico-vxlan; ${wgNodes[0].routes.filter((r) => r.table === 1).length} table-1 routes per WireGuard node`);

function rate(label: string, nodes: NetNamespace[], dsts: string[], mark?: number): number {
  const opts = mark === undefined ? undefined : { mark };
  for (let i = 0; i < 20_000; i++) routeLookup(nodes[i % nodes.length], dsts[i % dsts.length], opts);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) routeLookup(nodes[i % nodes.length], dsts[(i * 7) % dsts.length], opts);
  const ms = performance.now() - t0;
  const perSec = (N / ms) * 1000;
  console.log(`  ${label.padEnd(58)} ${perSec.toFixed(0).padStart(9)} lookups/s (${((ms / N) * 1e6).toFixed(0)} ns each)`);
  return perSec;
}

const base = rate('baseline: default rules (local, main), pod IPs', plainNodes, podDsts);
const walkRate = rate('WireGuard: rule 99 → table 1, pod IPs', wgNodes, podDsts);
const marked = rate('WireGuard: marked 0x100000 → table main, pod IPs', wgNodes, podDsts, CALICO_WIREGUARD_MARK);
const nodesRate = rate('WireGuard: node IPs (table 1 miss → main)', wgNodes, nodeDsts);
const baseNodes = rate('baseline: default rules, node IPs', plainNodes, nodeDsts);
console.log(`\nrule walk cost: pod IPs ${(base / walkRate).toFixed(2)}x, marked ${(base / marked).toFixed(2)}x, node IPs ${(baseNodes / nodesRate).toFixed(2)}x the default-rules lookup`);
