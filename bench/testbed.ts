// Benchmark: `testbed up` and `testbed down` for 3 nodes and 9 pods (the seed
// topology plus three pods), in calico-bgp and calico-vxlan mode, beside the
// baseline of creating and deleting the same number of bare network
// namespaces (ip netns add / del) in the same process. Then the dual-stack
// sample (2 nodes, 5 pods) built with both families against the same
// topology built IPv4-only (its nodes' IPv6 addresses removed, so the
// test-bed builds the IPv4 half), in calico-vxlan and calico-bgp mode. Needs root.
// Run: sudo npx tsx bench/testbed.ts [runs]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTopology, type Topology } from '../core/model';
import { testbedDown, testbedExec, testbedUp } from '../electron/host/testbed';

const RUNS = Number(process.argv[2] ?? 3);
const ROOT = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');

const EXTRA = [
  ['pod-d', 'node-2', '10.244.2.20'],
  ['pod-e', 'node-3', '10.244.3.20'],
  ['pod-f', 'node-3', '10.244.3.21'],
]
  .map(
    ([name, node, ip]) => `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default, labels: { app: worker } }
spec: { nodeName: ${node}, containers: [{ name: c, image: busybox }] }
status: { podIP: ${ip} }
`,
  )
  .join('');

function topology(mode: string): Topology {
  const seed = readFileSync(path.join(ROOT, 'resources', 'samples', 'seed.yaml'), 'utf8');
  const r = loadTopology(
    [
      { file: 'seed.yaml', text: seed },
      { file: 'extra.yaml', text: EXTRA },
    ],
    { set: [`cni=${mode}`] },
  );
  if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.topology;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench/testbed.ts needs root (it builds network namespaces)');
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, node ${process.version}, kernel ${os.release()}`);
  await testbedDown();

  // baseline: the same number of namespaces, bare
  const t0 = topology('calico-bgp');
  const count = 1 + t0.nodes.length + t0.pods.length;
  const base: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const s = process.hrtime.bigint();
    for (let i = 0; i < count; i++) execFileSync('ip', ['netns', 'add', `nl-bench-${i}`]);
    for (let i = 0; i < count; i++) execFileSync('ip', ['netns', 'del', `nl-bench-${i}`]);
    base.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  console.log(`topology: ${t0.nodes.length} nodes, ${t0.pods.length} pods (${count} namespaces with nl-net)`);
  console.log(`baseline  ip netns add + del x${count}: median ${median(base).toFixed(0)} ms (${RUNS} runs)`);

  for (const mode of ['calico-bgp', 'calico-vxlan']) {
    const ups: number[] = [];
    const downs: number[] = [];
    let timings: Record<string, number> = {};
    for (let r = 0; r < RUNS; r++) {
      const t = topology(mode);
      const s = process.hrtime.bigint();
      const st = await testbedUp(t);
      ups.push(Number(process.hrtime.bigint() - s) / 1e6);
      timings = st.timings;
      const c = await testbedExec('default/pod-a', ['curl', '-sS', '-m', '5', 'http://backend.default.svc.cluster.local']);
      if (c.code !== 0) throw new Error(`curl failed after up: ${c.stderr}`);
      const d = process.hrtime.bigint();
      const rep = await testbedDown();
      downs.push(Number(process.hrtime.bigint() - d) / 1e6);
      if (rep.leftovers.length) throw new Error(`down left: ${rep.leftovers.join('; ')}`);
    }
    console.log(`${mode.padEnd(12)} up:   median ${median(ups).toFixed(0)} ms, max ${Math.max(...ups).toFixed(0)} ms (${RUNS} runs; goal <= 15000 ms)`);
    console.log(`${mode.padEnd(12)} down: median ${median(downs).toFixed(0)} ms, max ${Math.max(...downs).toFixed(0)} ms`);
    console.log(`${mode.padEnd(12)} last up by step (ms): ${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join('; ')}`);
  }

  // dual-stack vs the same topology built IPv4-only
  const dualText = readFileSync(path.join(ROOT, 'resources', 'samples', 'dual-stack.yaml'), 'utf8');
  const dual = (mode: string, ipv6: boolean): Topology => {
    const r = loadTopology([{ file: 'dual-stack.yaml', text: dualText }], { set: ['podIPOffset=2', `cni=${mode}`] });
    if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
    if (!ipv6) for (const n of r.topology.nodes) n.ips = n.ips.filter((ip) => !ip.includes(':'));
    return r.topology;
  };
  const d0 = dual('calico-vxlan', true);
  console.log(`dual-stack.yaml: ${d0.nodes.length} nodes, ${d0.pods.length} pods`);
  for (const mode of ['calico-vxlan', 'calico-bgp']) {
    for (const ipv6 of [false, true]) {
      const ups: number[] = [];
      const downs: number[] = [];
      let timings: Record<string, number> = {};
      for (let r = 0; r < RUNS; r++) {
        const t = dual(mode, ipv6);
        const s = process.hrtime.bigint();
        const st = await testbedUp(t);
        ups.push(Number(process.hrtime.bigint() - s) / 1e6);
        timings = st.timings;
        if ((st.families ?? [4]).includes(6) !== ipv6) throw new Error(`expected families ${ipv6 ? '4,6' : '4'}, got ${st.families}`);
        const pod = st.pods.find((p) => p.node === 'node-1' && p.namespace === 'default')!;
        const url = ipv6 ? 'http://[fd00:10:96::c]/' : 'http://10.96.0.11/';
        const c = await testbedExec(`${pod.namespace}/${pod.name}`, ['curl', '-sS', '-m', '5', url]);
        if (c.code !== 0) throw new Error(`curl ${url} failed after up: ${c.stderr}`);
        const d = process.hrtime.bigint();
        const rep = await testbedDown();
        downs.push(Number(process.hrtime.bigint() - d) / 1e6);
        if (rep.leftovers.length) throw new Error(`down left: ${rep.leftovers.join('; ')}`);
      }
      const label = `${mode} ${ipv6 ? 'dual-stack' : 'IPv4-only'}`.padEnd(24);
      console.log(`${label} up:   median ${median(ups).toFixed(0)} ms, max ${Math.max(...ups).toFixed(0)} ms (${RUNS} runs)`);
      console.log(`${label} down: median ${median(downs).toFixed(0)} ms, max ${Math.max(...downs).toFixed(0)} ms`);
      console.log(`${label} last up by step (ms): ${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join('; ')}`);
    }
  }
  console.log(`load average: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

main().catch(async (e) => {
  console.error(e instanceof Error ? e.message : e);
  await testbedDown().catch(() => undefined);
  process.exit(1);
});
