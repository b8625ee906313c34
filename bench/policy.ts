// NetworkPolicy evaluation at scale: 5,000 pods in 500 namespaces with
// 10,000 policies. Prints each figure next to its baseline, measured in the
// same process:
//   compile time;
//   median single verdict, compiled vs the naive scan over all policies;
//   the full 5,000 x 5,000 matrix for one port (bitset rows) vs single
//   verdicts for every pair (measured on a sample of rows and extrapolated).
// Run: npx tsx bench/policy.ts [--pods 5000] [--namespaces 500] [--policies 10000]

import os from 'node:os';
import { bitGet, buildContext, compilePolicies, naiveAllowed, podKey, type PolicyTopology } from '../core/policy';
import type { LabelSelector, NetworkPolicyModel, NetworkPolicyPeer, Protocol } from '../core/model';
import { mkTopology, type PodSpec } from '../core/policy/testkit';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const PODS = arg('pods', 5000);
const NAMESPACES = arg('namespaces', 500);
const POLICIES = arg('policies', 10000);

// Deterministic PRNG (mulberry32) so runs are comparable.
let seed = 0x5eed;
function rnd(): number {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];

const APPS = ['web', 'api', 'db', 'cache', 'worker', 'gateway', 'auth', 'search'];
const TEAMS = Array.from({ length: 50 }, (_, i) => `team-${i}`);
const ENVS = ['prod', 'staging', 'dev'];
const PORTS: Record<string, string[]> = {
  web: ['http:80', 'metrics:9090'],
  api: ['http:8080', 'grpc:9000', 'metrics:9090'],
  db: ['pg:5432'],
  cache: ['redis:6379'],
  worker: ['metrics:9090'],
  gateway: ['https:443', 'http:80'],
  auth: ['http:8080'],
  search: ['http:9200'],
};

function buildCluster(): PolicyTopology {
  const namespaces: Record<string, Record<string, string>> = { 'kube-system': {} };
  const nsNames: string[] = [];
  for (let i = 0; i < NAMESPACES; i++) {
    const name = `ns-${i}`;
    nsNames.push(name);
    namespaces[name] = { team: pick(TEAMS), env: pick(ENVS) };
  }
  const pods: PodSpec[] = [
    { id: 'kube-system/coredns-a', labels: { 'k8s-app': 'kube-dns' }, ip: '10.96.200.2', node: 'node-0', ports: ['dns:53/UDP', 'dns-tcp:53/TCP'] },
    { id: 'kube-system/coredns-b', labels: { 'k8s-app': 'kube-dns' }, ip: '10.96.200.3', node: 'node-1', ports: ['dns:53/UDP', 'dns-tcp:53/TCP'] },
  ];
  for (let i = 0; i < PODS - 2; i++) {
    const ns = nsNames[i % NAMESPACES];
    const app = pick(APPS);
    const node = `node-${i % 100}`;
    pods.push({
      id: `${ns}/${app}-${i}`,
      labels: { app, tier: pick(['frontend', 'backend', 'data']), version: pick(['v1', 'v2']) },
      ip: `10.${64 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
      node,
      ports: PORTS[app],
    });
  }
  const policies: NetworkPolicyModel[] = [];
  const sel = (): LabelSelector => (rnd() < 0.3 ? {} : rnd() < 0.8 ? { matchLabels: { app: pick(APPS) } } : { matchExpressions: [{ key: 'tier', operator: 'In', values: [pick(['frontend', 'backend', 'data'])] }] });
  const peer = (): NetworkPolicyPeer => {
    const r = rnd();
    if (r < 0.45) return { podSelector: { matchLabels: { app: pick(APPS) } } };
    if (r < 0.65) return { namespaceSelector: { matchLabels: { team: pick(TEAMS) } }, podSelector: { matchLabels: { app: pick(APPS) } } };
    if (r < 0.75) return { namespaceSelector: { matchLabels: { env: pick(ENVS) } } };
    if (r < 0.9) return { ipBlock: { cidr: pick(['0.0.0.0/0', '52.0.0.0/8', '10.64.0.0/16', '192.168.0.0/16']), except: rnd() < 0.5 ? ['10.0.0.0/8'] : undefined } as { cidr: string; except?: string[] } };
    return { podSelector: {} };
  };
  const ports = () => (rnd() < 0.2 ? undefined : [rnd() < 0.3 ? { port: pick(['http', 'metrics', 'grpc']) } : { protocol: 'TCP' as Protocol, port: pick([80, 443, 8080, 5432, 6379, 9090]) }]);
  const dnsRule = {
    to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
    ports: [{ protocol: 'UDP' as Protocol, port: 53 }, { protocol: 'TCP' as Protocol, port: 53 }],
  };
  let n = 0;
  const perNs = Math.max(1, Math.floor(POLICIES / NAMESPACES));
  for (const ns of nsNames) {
    for (let k = 0; k < perNs && n < POLICIES; k++, n++) {
      const name = `p${k}`;
      if (k === 0) policies.push({ namespace: ns, name: 'default-deny', podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      else if (k === 1) policies.push({ namespace: ns, name: 'allow-dns', podSelector: {}, policyTypes: ['Egress'], egress: [dnsRule] });
      else if (rnd() < 0.6)
        policies.push({ namespace: ns, name, podSelector: sel(), policyTypes: ['Ingress'], ingress: Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => ({ from: [peer(), ...(rnd() < 0.3 ? [peer()] : [])], ports: ports() })) });
      else policies.push({ namespace: ns, name, podSelector: sel(), policyTypes: ['Egress'], egress: [{ to: [peer()], ports: ports() }] });
    }
  }
  return mkTopology({ namespaces, pods, policies, nodes: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`node-${i}`, `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`])) });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const fmt = (ns: number): string => (ns >= 1e9 ? `${(ns / 1e9).toFixed(2)} s` : ns >= 1e6 ? `${(ns / 1e6).toFixed(1)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const now = (): number => Number(process.hrtime.bigint());

console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cores, node ${process.version}`);
let t = now();
const topo = buildCluster();
console.log(`cluster: ${topo.pods.length} pods, ${topo.namespaces.length} namespaces, ${topo.networkPolicies.length} policies (built in ${fmt(now() - t)})`);

// Compile.
t = now();
const ctx = buildContext(topo);
const ctxTime = now() - t;
t = now();
const c = compilePolicies(topo);
const compileTime = now() - t;
console.log(`compile: ${fmt(compileTime)} (baseline: naive evaluator setup, buildContext: ${fmt(ctxTime)}); ${c.stats.identities} label identities, ${c.stats.rules} rules, ${c.stats.peerSets} distinct peer sets, ${c.stats.selectorEvaluations} selector evaluations`);

// Random pod pairs and ports.
const N = c.pods.length;
const portsToTry: [number, Protocol][] = [
  [80, 'TCP'],
  [8080, 'TCP'],
  [5432, 'TCP'],
  [53, 'UDP'],
  [9090, 'TCP'],
];
const queries = Array.from({ length: 4000 }, () => {
  const [port, protocol] = pick(portsToTry);
  return { s: Math.floor(rnd() * N), d: Math.floor(rnd() * N), port, protocol };
});

// Single verdicts: compiled (index API and string API) vs naive; batches timed, median per call.
function medianPerCall(batch: number, rounds: number, fn: (i: number) => boolean): number {
  const per: number[] = [];
  let k = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    for (let i = 0; i < batch; i++) fn(k++ % queries.length);
    per.push((now() - t0) / batch);
  }
  return median(per);
}
let sink = 0;
const fastIdx = (i: number): boolean => {
  const q = queries[i];
  const v = c.allowedPods(q.s, q.d, q.port, q.protocol);
  if (v) sink++;
  return v;
};
const qStr = queries.map((q) => ({ from: podKey(c.pods[q.s]), to: podKey(c.pods[q.d]), port: q.port, protocol: q.protocol }));
const fastStr = (i: number): boolean => c.verdict(qStr[i]);
const naive = (i: number): boolean => naiveAllowed(ctx, qStr[i]);
medianPerCall(1000, 20, fastIdx); // warm-up
medianPerCall(1000, 20, fastStr);
medianPerCall(5, 4, naive);
const mFast = medianPerCall(1000, 200, fastIdx);
const mFastStr = medianPerCall(1000, 50, fastStr);
const mNaive = medianPerCall(5, 40, naive);
console.log(`single verdict (median): compiled ${fmt(mFast)} by pod index, ${fmt(mFastStr)} with "ns/pod" strings; baseline naive scan ${fmt(mNaive)} -> ${(mNaive / mFast).toFixed(0)}x (index), ${(mNaive / mFastStr).toFixed(0)}x (strings)`);

// Agreement on a sample.
let agree = 0;
const SAMPLE = 400;
for (let i = 0; i < SAMPLE; i++) if (fastIdx(i) === naive(i)) agree++;
console.log(`agreement compiled vs naive: ${agree}/${SAMPLE}`);

// Full matrix for one port.
t = now();
const rows = c.matrix(80, 'TCP');
const matTime = now() - t;
let allowed = 0;
for (const r of rows) for (let w = 0; w < r.length; w++) allowed += popcount(r[w]);
// Baselines: single compiled verdicts for every pair (sample of rows, extrapolated) and the naive scan.
const SAMPLE_ROWS = 20;
t = now();
let mismatch = 0;
for (let s = 0; s < SAMPLE_ROWS; s++) {
  const src = Math.floor((s * N) / SAMPLE_ROWS);
  for (let d = 0; d < N; d++) if (c.allowedPods(src, d, 80, 'TCP') !== bitGet(rows[src], d)) mismatch++;
}
const singleRowsTime = ((now() - t) / (SAMPLE_ROWS * N)) * N * N;
console.log(
  `matrix ${N}x${N} for 80/TCP (${(N * N / 1e6).toFixed(1)}M pairs): ${fmt(matTime)}, ${allowed} allowed; baseline compiled single verdicts for every pair ~${fmt(singleRowsTime)} (extrapolated from ${SAMPLE_ROWS} rows), naive scan ~${fmt(mNaive * N * N)} (extrapolated); matrix rows vs single verdicts on the sampled rows: ${mismatch} mismatches`,
);
if (sink < 0) console.log(sink);

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
