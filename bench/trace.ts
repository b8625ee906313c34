// Benchmark: full packet walks on a large generated cluster.
//
//   npx tsx bench/trace.ts [--nodes 100] [--pods 3000] [--services 1000] [--walks 3000] [--cni calico-vxlan]
//
// A full walk is `curl http://svc-N.ns-M` from a random pod: the glibc DNS
// search sequence (A and AAAA per candidate, each a UDP walk to kube-dns
// through its DNAT and back), the TCP handshake to the Service (kube-proxy
// chains, DNAT, conntrack, cross-node routing with encapsulation) and the
// reply with its reverse NAT, plus the HTTP exchange summary — every event
// with its headers, rules, verdict, latency and command.
//
// Figures, measured in the same process:
// - walks per second (and events per second) on a warm TraceContext;
// - baseline: routeLookup calls per second on the same cluster (the cost of
//   the cheapest step a walk repeats ~20 times);
// - the compiled netfilter evaluator against core/dataplane's runHook on the
//   same PREROUTING packets (the walk's hot path and its reference).
// Goal: ≥ 10,000 walks/s.

import os from 'node:os';
import { parseArgs } from 'node:util';
import { routeLookup } from '../core/cni';
import { runHook, scriptedRandom, type Packet } from '../core/dataplane';
import { nodeIptablesRuleset } from '../core/kubeproxy';
import { compileRuleset, runHookCompiled, traceContext, walk } from '../core/trace';
import { generateCluster, loadText } from '../core/trace/testing';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    pods: { type: 'string', default: '3000' },
    services: { type: 'string', default: '1000' },
    walks: { type: 'string', default: '3000' },
    cni: { type: 'string', default: 'calico-vxlan' },
  },
});
const NODES = Number(values.nodes);
const PODS = Number(values.pods);
const SERVICES = Number(values.services);
const WALKS = Number(values.walks);

console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`cluster: ${NODES} nodes, ${PODS} pods, ${SERVICES} services, CNI ${values.cni}, kube-proxy iptables`);

let t0 = performance.now();
const topo = loadText(generateCluster({ nodes: NODES, pods: PODS, services: SERVICES, cni: values.cni }));
console.log(`  load topology                        ${(performance.now() - t0).toFixed(0).padStart(8)} ms`);
t0 = performance.now();
const ctx = traceContext(topo);
console.log(`  TraceContext (data planes, indexes)  ${(performance.now() - t0).toFixed(0).padStart(8)} ms`);

const pods = topo.pods.filter((p) => p.namespace.startsWith('ns-'));
const svcs = topo.services.filter((s) => s.name.startsWith('svc-'));
let seed = 12345;
const rnd = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
const jobs = Array.from({ length: WALKS }, () => {
  const p = pick(pods);
  const s = pick(svcs);
  return { from: `${p.namespace}/${p.name}`, to: `curl http://${s.name}.${s.namespace}` };
});

// Correctness first: every walk must be answered, with the DNS, Service and cross-node parts present.
t0 = performance.now();
let events = 0;
for (let i = 0; i < Math.min(200, WALKS); i++) {
  const r = walk(ctx, jobs[i].from, jobs[i].to, { seed: i });
  if (!r.ok) throw new Error(`walk ${i} (${jobs[i].from} → ${jobs[i].to}) failed: ${r.dropped?.text}`);
  if (!r.events.some((e) => e.kind === 'dns-query') || !r.services.some((s) => !s.service.startsWith('kube-system/')) || !r.events.some((e) => e.phase === 'reply' && e.kind === 'reverse-nat')) {
    throw new Error(`walk ${i} is missing a part`);
  }
}
console.log(`  warm-up (200 walks, rule sets built)  ${(performance.now() - t0).toFixed(0).padStart(8)} ms`);
// A warm context has every node's rule sets built, not only the nodes the warm-up walks touched.
t0 = performance.now();
for (const n of topo.nodes) {
  ctx.netfilterFor(n.name, 4);
  if (topo.settings.cni.plugin === 'calico') ctx.calico.forNode(n.name);
}
console.log(`  every node's rule sets (kube-proxy, felix) ${(performance.now() - t0).toFixed(0).padStart(6)} ms`);

t0 = performance.now();
const cpu0 = process.cpuUsage();
let crossNode = 0;
for (let i = 0; i < WALKS; i++) {
  const r = walk(ctx, jobs[i].from, jobs[i].to, { seed: i });
  events += r.events.length;
  if (r.events.some((e) => e.kind === 'wire' && e.phase === 'request')) crossNode++;
}
const walkMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const walksPerSec = (WALKS / walkMs) * 1000;
console.log(`\nfull walks (DNS + Service + cross-node + reply): ${walksPerSec.toFixed(0).padStart(8)} walks/s   (${(walkMs / WALKS).toFixed(3)} ms/walk wall, ${((cpu.user + cpu.system) / 1000 / WALKS).toFixed(3)} ms/walk CPU incl. GC threads; ${(events / WALKS).toFixed(0)} events/walk, ${((events / walkMs) * 1000).toFixed(0)} events/s, ${crossNode} of ${WALKS} cross-node)`);

// Baseline: routeLookup alone, on the same cluster's nodes, for the same kinds of destinations.
const nodeDps = topo.nodes.map((n) => ctx.nodeDp(n.name));
const dsts = topo.pods.map((p) => p.ips[0]);
const N = 500_000;
for (let i = 0; i < 10_000; i++) routeLookup(nodeDps[i % nodeDps.length], dsts[i % dsts.length]);
t0 = performance.now();
for (let i = 0; i < N; i++) routeLookup(nodeDps[i % nodeDps.length], dsts[(i * 7) % dsts.length]);
const rlMs = performance.now() - t0;
console.log(`baseline: routeLookup alone:                    ${((N / rlMs) * 1000).toFixed(0).padStart(8)} lookups/s (${((rlMs / N) * 1e6).toFixed(0)} ns each)`);

// The hot path against its reference: PREROUTING of a pod → Service packet on a 1,000-Service node.
const { ruleset } = nodeIptablesRuleset(topo, topo.nodes[0].name, 4);
const compiled = compileRuleset(ruleset);
const packets: Packet[] = Array.from({ length: 2000 }, () => ({ family: 4, proto: 'tcp', src: pick(pods).ips[0], dst: pick(svcs).clusterIPs[0], sport: 40000, dport: 80, mark: 0, ctstate: 'NEW' }));
const ectx = () => ({ isLocal: () => false, random: scriptedRandom([true]) });
t0 = performance.now();
for (const p of packets) runHook(ruleset, 'PREROUTING', p, ectx());
const refMs = performance.now() - t0;
t0 = performance.now();
for (let k = 0; k < 10; k++) for (const p of packets) runHookCompiled(compiled, 'PREROUTING', p, ectx());
const cMs = (performance.now() - t0) / 10;
console.log(`netfilter PREROUTING, ${ruleset.tables.get('nat')!.chains.get('KUBE-SERVICES')!.rules.length} rules in KUBE-SERVICES:`);
console.log(`  compiled evaluator (core/trace)               ${((packets.length / cMs) * 1000).toFixed(0).padStart(8)} hooks/s`);
console.log(`  baseline: runHook (core/dataplane)            ${((packets.length / refMs) * 1000).toFixed(0).padStart(8)} hooks/s   (${(refMs / cMs).toFixed(1)}x slower)`);
console.log(`\ngoal ≥ 10,000 walks/s: ${walksPerSec >= 10000 ? 'met' : 'NOT met'} (${walksPerSec.toFixed(0)} walks/s)`);
