// Benchmark: loading a large topology (1,000 nodes, 30,000 pods, 5,000
// Services) against parsing the same YAML text alone.
//
//   npx tsx --expose-gc bench/model.ts [--nodes N] [--pods N] [--services N] [--runs N]
//
// (--expose-gc lets each timed run start from a collected heap; without it the
// figures are noisier.)
//
// Baseline: yaml's parseAllDocuments of the text (what any loader must pay).
// Measured: loadTopology — parse with positions, shape checks, models,
// placement, IPAM, EndpointSlice derivation (named targetPorts resolved per
// pod) and all validation. Goal: total ≤ 3× the parse alone.

import os from 'node:os';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadTopology } from '../core/model';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    pods: { type: 'string', default: '30000' },
    services: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '5' },
  },
});
const NODES = Number(values.nodes);
const PODS = Number(values.pods);
const SERVICES = Number(values.services);
const RUNS = Number(values.runs);
const NAMESPACES = 50;

function generate(): string {
  const out: string[] = [];
  out.push(`apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata:
  name: bench
cluster:
  cni: calico-vxlan
  clusterCIDR: 10.128.0.0/9
  serviceCIDR: 10.96.0.0/12
  nodeCIDR: 10.0.0.0/16
  nodeCIDRMaskSize: 24
nodes:
`);
  for (let i = 0; i < NODES; i++) out.push(`  - name: node-${i + 1}\n    zone: zone-${'abc'[i % 3]}\n`);
  for (let i = 0; i < NAMESPACES; i++) {
    out.push(`---
apiVersion: v1
kind: Namespace
metadata:
  name: ns-${i}
  labels:
    team: team-${i % 7}
`);
  }
  for (let i = 0; i < PODS; i++) {
    const svc = i % SERVICES;
    const ns = svc % NAMESPACES;
    out.push(`---
apiVersion: v1
kind: Pod
metadata:
  name: pod-${i}
  namespace: ns-${ns}
  labels:
    app: app-${svc}
    tier: ${i % 3 === 0 ? 'frontend' : 'backend'}
spec:
  containers:
    - name: main
      image: registry.example/app:1.0
      ports:
        - name: http
          containerPort: ${8000 + (i % 50)}
          protocol: TCP
        - name: metrics
          containerPort: 9090
          protocol: TCP
`);
  }
  for (let s = 0; s < SERVICES; s++) {
    out.push(`---
apiVersion: v1
kind: Service
metadata:
  name: svc-${s}
  namespace: ns-${s % NAMESPACES}
spec:
  selector:
    app: app-${s}
  ports:
    - name: http
      port: 80
      targetPort: http
    - name: metrics
      port: 9090
      targetPort: 9090
`);
  }
  out.push(`---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
spec:
  ports:
    - { name: dns, port: 53, protocol: UDP }
`);
  return out.join('');
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Wall-clock and CPU (user+system) milliseconds of one call. */
function time(fn: () => void): { wall: number; cpu: number } {
  gc?.();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`machine: ${cpu}, ${os.cpus().length} cores, node ${process.version}, ${os.platform()} ${os.release()}, gc between runs: ${gc ? 'yes' : 'no (run with --expose-gc)'}`);
const text = generate();
console.log(`input: ${NODES} nodes, ${PODS} pods, ${SERVICES} services, ${NAMESPACES} namespaces; ${(text.length / 1e6).toFixed(1)} MB of YAML`);

// Correctness first: the load must succeed and allocate everything.
const check = loadTopology({ file: 'bench.yaml', text });
const errors = check.diagnostics.filter((d) => d.severity === 'error');
if (!check.topology || errors.length) {
  console.error('load failed:', errors.slice(0, 5));
  process.exit(1);
}
const t = check.topology;
const endpoints = t.endpointSlices.reduce((n, s) => n + s.endpoints.length, 0);
console.log(
  `loaded: ${t.nodes.length} nodes, ${t.pods.length} pods (all with addresses: ${t.pods.every((p) => p.ips.length === 1)}), ` +
    `${t.services.length} services, ${t.endpointSlices.length} endpoint slices with ${endpoints} endpoints, ${check.diagnostics.length} diagnostics`,
);

const parse: { wall: number; cpu: number }[] = [];
const load: { wall: number; cpu: number }[] = [];
for (let r = 0; r < RUNS; r++) {
  // Alternate so both see the same GC and JIT conditions.
  parse.push(time(() => void parseAllDocuments(text)));
  load.push(time(() => void loadTopology({ file: 'bench.yaml', text })));
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
const pc = median(parse.map((x) => x.cpu));
const lc = median(load.map((x) => x.cpu));
const pw = median(parse.map((x) => x.wall));
const lw = median(load.map((x) => x.wall));
console.log(`baseline  yaml parseAllDocuments alone:   CPU median ${pc.toFixed(0)} ms (${fmt(parse.map((x) => x.cpu))}); wall median ${pw.toFixed(0)} ms (${fmt(parse.map((x) => x.wall))})`);
console.log(`measured  loadTopology (parse+validate+allocate+slices): CPU median ${lc.toFixed(0)} ms (${fmt(load.map((x) => x.cpu))}); wall median ${lw.toFixed(0)} ms (${fmt(load.map((x) => x.wall))})`);
console.log(`ratio     CPU ${(lc / pc).toFixed(2)}x, wall ${(lw / pw).toFixed(2)}x the parse alone (goal ≤ 3x)`);
