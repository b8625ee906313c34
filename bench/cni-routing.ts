// Benchmark: building a cluster's data plane with core/cni and looking
// routes up in it (the packet walk does one lookup per hop).
//
//   npx tsx bench/cni-routing.ts [nodes] [podsPerNode]
//
// Figures and their baselines, measured in the same process:
// - routeLookup (PrefixTable index, longest prefix first) against a linear
//   longest-prefix scan over the same routes;
// - buildDataplane for the whole cluster against structuredClone of its
//   result (the cost of merely copying what was built).

import os from 'node:os';
import { Cidr, parseIP } from '../core/net';
import { buildDataplane, routeLookup, type NetNamespace, type Route } from '../core/cni';
import { testTopology, type TestNode, type TestPod } from '../core/cni/testing';

const nodes = Number(process.argv[2] ?? 300);
const podsPerNode = Number(process.argv[3] ?? 30);

function topology(plugin: 'calico' | 'flannel', mode: string) {
  const ns: TestNode[] = [];
  const ps: TestPod[] = [];
  for (let i = 0; i < nodes; i++) {
    const a = Math.floor(i / 250);
    const b = i % 250;
    ns.push({ name: `node-${i}`, ip: `10.${a}.${b}.5`, podCIDR: `10.${100 + a}.${b}.0/24` });
    for (let j = 0; j < podsPerNode; j++) ps.push({ name: `p-${i}-${j}`, node: `node-${i}`, ip: `10.${100 + a}.${b}.${10 + j}` });
  }
  return testTopology({ plugin, mode, nodes: ns, pods: ps, nodeCIDRs: ['10.0.0.0/8'], clusterCIDRs: ['10.96.0.0/11'] });
}

function linearLookup(ns: NetNamespace, dst: string): Route | undefined {
  const ip = parseIP(dst)!;
  let best: Route | undefined;
  let bestLen = -1;
  for (const r of ns.routes) {
    if (r.table !== 'main' || r.type === 'multicast') continue;
    const c = Cidr.parse(r.dst);
    if (c.contains(ip) && (c.prefix > bestLen || (c.prefix === bestLen && (r.metric ?? 0) < (best?.metric ?? 0)))) {
      best = r;
      bestLen = c.prefix;
    }
  }
  return best;
}

function time(label: string, iterations: number, fn: (i: number) => void): number {
  fn(0);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  const ms = performance.now() - start;
  const per = (ms * 1e6) / iterations;
  console.log(`  ${label.padEnd(48)} ${iterations.toString().padStart(8)} ops  ${per.toFixed(0).padStart(10)} ns/op`);
  return per;
}

console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, node ${process.version}`);
console.log(`cluster: ${nodes} nodes, ${podsPerNode} pods per node`);

for (const [plugin, mode] of [
  ['calico', 'bgp'],
  ['flannel', 'vxlan'],
] as const) {
  console.log(`\n${plugin}-${mode}`);
  const t = topology(plugin, mode);
  const buildStart = performance.now();
  const dp = buildDataplane(t);
  const buildMs = performance.now() - buildStart;
  const n0 = dp.node('node-0');
  const copyStart = performance.now();
  structuredClone({ nodes: [...dp.nodes.values()], pods: [...dp.pods.values()] });
  const copyMs = performance.now() - copyStart;
  console.log(`  buildDataplane (all nodes and pods)               ${buildMs.toFixed(1).padStart(10)} ms`);
  console.log(`  baseline: structuredClone of the result           ${copyMs.toFixed(1).padStart(10)} ms`);
  console.log(`  routes on node-0: ${n0.routes.length}`);
  const targets = t.pods.map((p) => p.ips[0]);
  // Both must agree before their speed means anything.
  for (const ip of targets.slice(0, 500)) {
    const a = routeLookup(n0, ip).route;
    const b = linearLookup(n0, ip);
    if (a !== b) throw new Error(`lookup mismatch for ${ip}: ${a?.dst} vs ${b?.dst}`);
  }
  const indexed = time('routeLookup (PrefixTable)', 200_000, (i) => void routeLookup(n0, targets[i % targets.length]));
  const linear = time('baseline: linear longest-prefix scan', 2_000, (i) => void linearLookup(n0, targets[i % targets.length]));
  console.log(`  speed-up: ${(linear / indexed).toFixed(0)}x`);
}
