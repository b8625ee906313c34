// Benchmark: iptables-save of a node for a large cluster.
//
//   npx tsx bench/render.ts [services] [endpointsPerService]
//
// Figures and their baseline, measured in the same process:
// - kube-proxy restore generation (kubeProxyIptables: chain hashing, sha256);
// - the full node iptables-save (generation + iptables-restore parse into the
//   netfilter model + iptables-save rendering);
// - rendering alone from an already built rule set;
// - baseline: writing the same number of lines by string concatenation of a
//   constant rule with an incrementing number.

import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { renderIptablesSave } from '../core/dataplane';
import { kubeProxyIptables, nodeIptablesRuleset } from '../core/kubeproxy';
import { TopologyBuilder } from '../core/kubeproxy/testing';

const services = Number(process.argv[2] ?? 5000);
const perService = Number(process.argv[3] ?? 4);
const DATE = new Date(Date.UTC(2024, 10, 4, 10, 30, 1));

const b = new TopologyBuilder().node('node-1', '10.0.1.5').node('node-2', '10.0.1.6');
for (let i = 0; i < services; i++) {
  const name = `svc-${i}`;
  b.service({ namespace: 'bench', name, clusterIP: `10.96.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  b.endpoints(
    'bench',
    name,
    [{ name: 'http', port: 8080 }],
    Array.from({ length: perService }, (_, j) => {
      const n = i * perService + j;
      return { ip: `10.${244 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, node: 'node-2' };
    }),
  );
}
const topo = b.build();

function time<T>(label: string, fn: () => T, runs = 3): { ms: number; value: T } {
  let best = Infinity;
  let value!: T;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    value = fn();
    best = Math.min(best, performance.now() - t0);
  }
  void label;
  return { ms: best, value };
}

const gen = time('generate', () => kubeProxyIptables(topo, 'node-1', 4));
const full = time('full', () => renderIptablesSave(nodeIptablesRuleset(topo, 'node-1', 4).ruleset, { date: DATE }));
const rs = nodeIptablesRuleset(topo, 'node-1', 4).ruleset;
const renderOnly = time('render', () => renderIptablesSave(rs, { date: DATE }));
const lines = full.value.split('\n').length - 1;
const baseline = time('baseline', () => {
  let s = '';
  for (let i = 0; i < lines; i++) s += `-A KUBE-SVC-BENCHMARKCHAIN00 -m comment --comment "bench/svc-${i}:http -> 10.244.0.1:8080" -j KUBE-SEP-${i}\n`;
  return s;
});

const cpu = os.cpus()[0];
console.log(`machine: ${cpu?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, node ${process.version}, ${os.platform()} ${os.arch()}`);
console.log(`cluster: ${services} services × ${perService} endpoints (large-cluster mode: ${gen.value.largeClusterMode ? 'yes, comments on SEP rules dropped' : 'no'})`);
console.log(`iptables-save output: ${lines} lines, ${(full.value.length / 1024 / 1024).toFixed(1)} MiB`);
console.log(`best of 3 runs:`);
console.log(`  kube-proxy restore generation        ${gen.ms.toFixed(1)} ms  (${gen.value.natRules.length + gen.value.filterRules.length} rules)`);
console.log(`  full node iptables-save              ${full.ms.toFixed(1)} ms  (generate + parse restore into the model + render)`);
console.log(`  render only (model → text)           ${renderOnly.ms.toFixed(1)} ms`);
console.log(`  baseline: ${lines} template lines    ${baseline.ms.toFixed(1)} ms  (string concatenation of a constant rule + counter)`);
console.log(`  render / baseline                    ${(renderOnly.ms / baseline.ms).toFixed(1)}×`);
