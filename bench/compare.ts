// Benchmark: model-vs-real diff of a 100,000-entry conntrack table and a
// 20,000-rule iptables-save, beside the baseline of reading the same files
// (readFileSync) in the same process. The "real" files differ from the
// model's in what a real node changes anyway (ephemeral source ports,
// timeouts, ids, counters, Service order in KUBE-SERVICES) plus a few
// genuine differences, which the diff must find.
// Run: npx tsx bench/compare.ts [conntrackEntries] [services]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadTopology } from '../core/model';
import { nodeIptablesRuleset } from '../core/kubeproxy';
import { parseIptablesSave, renderIptablesSave } from '../core/dataplane';
import { parseConntrack } from '../core/parse';
import { compareIptablesText, compareRulesets, diffConntrackTables, diffConntrackText } from '../core/compare';

const N = Number(process.argv[2] ?? 100_000);
const SERVICES = Number(process.argv[3] ?? 1430);

const ip = (n: number): string => `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** conntrack -L lines for N flows; `real` shifts source ports, timeouts and ids as another run would. */
function conntrackText(n: number, real: boolean): string {
  const out: string[] = [];
  const states = ['ESTABLISHED', 'TIME_WAIT', 'FIN_WAIT', 'CLOSE_WAIT'];
  for (let i = 0; i < n; i++) {
    const client = ip(0xf40100 + (i % 50000));
    const backend = ip(0xf40300 + (i % 200));
    const sport = (real ? 41000 : 33000) + (i % 24000);
    const t = real ? (i * 7) % 120 : 120;
    const id = real ? ` id=${3000000000 + i}` : '';
    if (i % 5 === 4) {
      out.push(`udp      17 ${t % 30} src=${client} dst=10.96.0.10 sport=${sport} dport=53 src=10.244.2.15 dst=${client} sport=53 dport=${sport} mark=0 use=1${id}`);
    } else {
      const st = states[Math.floor(i / 5) % states.length];
      out.push(`tcp      6 ${t} ${st} src=${client} dst=${ip(0x0a6005 + (i % 1000))} sport=${sport} dport=${80 + (i % 3)} src=${backend} dst=${client} sport=8080 dport=${sport} [ASSURED] mark=0 use=1${id}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Applies a few genuine differences to the "real" table: 5 entries gone, 5 new, 5 in another state, 1 never answered. */
function perturbConntrack(text: string): string {
  const lines = text.trimEnd().split('\n');
  for (let k = 0; k < 5; k++) {
    const i = 20001 + k * 10; // tcp lines (i % 5 != 4)
    lines[i] = lines[i].replace(/ (ESTABLISHED|TIME_WAIT|FIN_WAIT|CLOSE_WAIT) /, ' SYN_RECV ');
  }
  lines[30001] = lines[30001].replace(/ (ESTABLISHED|TIME_WAIT|FIN_WAIT|CLOSE_WAIT) /, ' SYN_SENT ').replace(/ src=(\S+) dst=(\S+) sport=(\d+) dport=8080/, ' [UNREPLIED] src=$1 dst=$2 sport=$3 dport=8080').replace(' [ASSURED]', '');
  for (let k = 0; k < 5; k++) lines.splice(1000 + k * 7919, 1);
  for (let k = 0; k < 5; k++) lines.push(`tcp      6 100 ESTABLISHED src=10.99.0.${k} dst=10.96.77.${k} sport=5000${k} dport=443 src=10.244.9.${k} dst=10.99.0.${k} sport=443 dport=5000${k} [ASSURED] mark=0 use=1`);
  return `${lines.join('\n')}\n`;
}

function topologyYaml(services: number): string {
  const docs: string[] = [
    `apiVersion: netlab.dev/v1alpha1
kind: Topology
metadata: { name: bench }
cluster: { cni: calico-bgp, clusterCIDR: 10.240.0.0/12, serviceCIDR: 10.96.0.0/12, nodeCIDR: 10.0.0.0/16, nodeCIDRMaskSize: 20, blockSize: 20, kubeProxy: iptables }
nodes:
  - { name: node-1, ip: 10.0.1.5 }
  - { name: node-2, ip: 10.0.1.6 }`,
  ];
  for (let s = 0; s < services; s++) {
    docs.push(`apiVersion: apps/v1
kind: Deployment
metadata: { name: app${s}, namespace: default }
spec:
  replicas: 4
  selector: { matchLabels: { app: app${s} } }
  template:
    metadata: { labels: { app: app${s} } }
    spec: { containers: [ { name: c, image: x, ports: [ { name: http, containerPort: 8080 } ] } ] }`);
    docs.push(`apiVersion: v1
kind: Service
metadata: { name: svc${s}, namespace: default }
spec: { selector: { app: app${s} }, ports: [ { name: http, port: 80, targetPort: http } ] }`);
  }
  return docs.join('\n---\n');
}

/** The "real" iptables-save: counters, KUBE-SERVICES in another order, one endpoint's DNAT rule deleted, one rule added. */
function perturbIptables(text: string): { text: string; removed: string } {
  const lines = text.split('\n').map((l) => (l.startsWith('-A ') ? `[${l.length}:${l.length * 60}] ${l}` : l));
  const natStart = lines.indexOf('*nat');
  const svcIdx = lines.map((l, i) => (i > natStart && l.includes(' -A KUBE-SERVICES ') && !l.includes('nodeports') ? i : -1)).filter((i) => i >= 0);
  // reverse the Services' order (kube-proxy writes them in Go map order)
  const svcLines = svcIdx.map((i) => lines[i]).reverse();
  svcIdx.forEach((i, k) => (lines[i] = svcLines[k]));
  // (over 1000 endpoints kube-proxy drops the per-endpoint comments, as here: pick a DNAT rule halfway down)
  const dnat = lines.findIndex((l, i) => i > lines.length / 2 && l.includes(' -A KUBE-SEP-') && l.includes('-j DNAT'));
  const removed = lines[dnat].replace(/^\[\d+:\d+\] /, '');
  lines.splice(dnat, 1);
  const commit = lines.lastIndexOf('COMMIT');
  lines.splice(commit, 0, '[0:0] -A KUBE-MARK-MASQ -j LOG --log-prefix "masq "');
  return { text: lines.join('\n'), removed };
}

interface Timing<T> {
  wall: number;
  cpu: number;
  result: T;
}

/** Median wall and CPU (user+system) milliseconds over `runs`. */
function time<T>(fn: () => T, runs: number): Timing<T> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let result!: T;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    result = fn();
    walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { wall: med(walls), cpu: med(cpus), result };
}

const fmt = (ms: number) => `${ms.toFixed(1).padStart(7)} ms`;

function main(): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-bench-compare-'));
  try {
    console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, node ${process.version}`);

    // --- files
    const ctModelPath = path.join(dir, 'conntrack-model.txt');
    const ctRealPath = path.join(dir, 'conntrack-real.txt');
    writeFileSync(ctModelPath, conntrackText(N, false));
    writeFileSync(ctRealPath, perturbConntrack(conntrackText(N, true)));
    const g0 = Date.now();
    const topo = loadTopology([{ file: 'bench.yaml', text: topologyYaml(SERVICES) }]).topology!;
    const modelRs = nodeIptablesRuleset(topo, 'node-1', 4).ruleset;
    const modelSave = renderIptablesSave(modelRs, { date: new Date(0) });
    const rules = modelSave.split('\n').filter((l) => l.startsWith('-A ')).length;
    const iptModelPath = path.join(dir, 'iptables-model.txt');
    const iptRealPath = path.join(dir, 'iptables-real.txt');
    writeFileSync(iptModelPath, modelSave);
    const pert = perturbIptables(modelSave);
    writeFileSync(iptRealPath, pert.text);
    console.log(`generated in ${Date.now() - g0} ms (not timed): conntrack ${N} entries per side, iptables-save ${rules} rules (${SERVICES} Services × 4 endpoints)`);

    const RUNS = 5;
    // --- baseline: reading the files
    const readCt = time(() => readFileSync(ctModelPath, 'utf8').length + readFileSync(ctRealPath, 'utf8').length, RUNS);
    const readIpt = time(() => readFileSync(iptModelPath, 'utf8').length + readFileSync(iptRealPath, 'utf8').length, RUNS);

    // --- conntrack: read both + scan + diff (the fast path), and the record-by-record path for reference
    const ct = time(() => diffConntrackText(readFileSync(ctModelPath, 'utf8'), readFileSync(ctRealPath, 'utf8')), RUNS);
    const ctFull = time(() => diffConntrackTables(parseConntrack(readFileSync(ctModelPath, 'utf8')).records, parseConntrack(readFileSync(ctRealPath, 'utf8')).records), 3);

    // --- iptables: read both + compare chain by chain (same text pairs at once, the rest parsed)
    const ipt = time(() => compareIptablesText(readFileSync(iptModelPath, 'utf8'), readFileSync(iptRealPath, 'utf8')), RUNS);
    const iptFull = time(() => compareRulesets(parseIptablesSave(readFileSync(iptModelPath, 'utf8')), parseIptablesSave(readFileSync(iptRealPath, 'utf8'))), 3);

    // --- what was found (the bench fails loudly if the diff misses the planted differences)
    const ctNote = ct.result.notes?.[0] ?? '';
    const iptItems = ipt.result.items;
    if (ctNote !== ctFull.result.notes?.[0] || JSON.stringify(iptItems) !== JSON.stringify(iptFull.result.items)) {
      console.error('the fast and the full paths disagree:', ctNote, '|', ctFull.result.notes?.[0]);
      process.exitCode = 1;
    }
    const foundRemoved = iptItems.some((i) => i.kind === 'missing' && i.model === pert.removed);
    const foundExtra = iptItems.some((i) => i.kind === 'extra' && /-j LOG/.test(i.real ?? ''));
    if (!/^5 missing, 5 extra, 6 changed/.test(ctNote) || !foundRemoved || !foundExtra || iptItems.length !== 2) {
      console.error('the diff did not find exactly the planted differences:', ctNote, JSON.stringify(iptItems.map((i) => [i.kind, i.where])));
      process.exitCode = 1;
    }

    console.log('');
    console.log(`median of ${RUNS} runs             wall        cpu`);
    console.log(`baseline readFileSync, conntrack  ${fmt(readCt.wall)} ${fmt(readCt.cpu)}   (2 files, ${(readCt.result / 1e6).toFixed(1)} MB)`);
    console.log(`baseline readFileSync, iptables   ${fmt(readIpt.wall)} ${fmt(readIpt.cpu)}   (2 files, ${(readIpt.result / 1e6).toFixed(1)} MB)`);
    console.log(`conntrack read + scan + diff      ${fmt(ct.wall)} ${fmt(ct.cpu)}   → ${ctNote}`);
    console.log(`  (record path: parseConntrack ×2 + diffConntrackTables ${fmt(ctFull.wall)} wall ${fmt(ctFull.cpu)} cpu)`);
    console.log(`iptables read + compare           ${fmt(ipt.wall)} ${fmt(ipt.cpu)}   → ${iptItems.length} differences: ${iptItems.map((i) => `${i.kind} in ${i.where}`).join(', ')}`);
    console.log(`  (full path: parseIptablesSave ×2 + compareRulesets ${fmt(iptFull.wall)} wall ${fmt(iptFull.cpu)} cpu)`);
    const total = ct.wall + ipt.wall;
    const totalCpu = ct.cpu + ipt.cpu;
    console.log('');
    console.log(`total (conntrack + iptables, read + parse + diff): ${total.toFixed(0)} ms wall, ${totalCpu.toFixed(0)} ms CPU; goal ≤ 500 ms: ${total <= 500 ? 'met' : 'NOT met'} (wall), ${totalCpu <= 500 ? 'met' : 'NOT met'} (CPU)`);
    console.log(`the same files only read: ${(readCt.wall + readIpt.wall).toFixed(0)} ms wall, ${(readCt.cpu + readIpt.cpu).toFixed(0)} ms CPU (${(totalCpu / (readCt.cpu + readIpt.cpu)).toFixed(1)}× in CPU)`);
    console.log(`load average during the run: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (on ${os.cpus().length} cores: wall times include waiting for a CPU)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
