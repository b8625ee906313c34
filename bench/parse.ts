// Benchmark: parse a 100,000-entry `conntrack -L` table, beside the baseline
// of reading the same file and splitting it into lines, in the same process.
// Run: npx tsx bench/parse.ts [entries]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConntrack } from '../core/parse';

const N = Number(process.argv[2] ?? 100_000);

function ip(n: number): string {
  return `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** A realistic mix: TCP ESTABLISHED/TIME_WAIT through Services, UDP DNS, ICMP, in conntrack's exact layout. */
function generate(n: number): string {
  const out: string[] = [];
  const states = ['ESTABLISHED', 'TIME_WAIT', 'SYN_SENT', 'CLOSE_WAIT', 'FIN_WAIT'];
  for (let i = 0; i < n; i++) {
    const src = ip(0xf40100 + (i % 60000));
    const pod = ip(0xf40200 + (i % 250));
    const sport = 30000 + (i % 30000);
    const kind = i % 10;
    if (kind < 7) {
      const st = states[i % states.length];
      const unrep = st === 'SYN_SENT' ? ' [UNREPLIED]' : '';
      const assured = st === 'SYN_SENT' ? '' : ' [ASSURED]';
      out.push(
        `tcp      6 ${86400 - (i % 86400)} ${st} src=${src} dst=10.96.5.20 sport=${sport} dport=80 packets=${(i % 40) + 1} bytes=${(i % 40) * 60 + 60}${unrep} src=${pod} dst=${src} sport=8080 dport=${sport} packets=${i % 30} bytes=${(i % 30) * 1500}${assured} mark=0 use=1 id=${1000000000 + i}`,
      );
    } else if (kind < 9) {
      out.push(`udp      17 ${i % 30} src=${src} dst=10.96.0.10 sport=${sport} dport=53 src=10.244.2.15 dst=${src} sport=53 dport=${sport} mark=0 use=1 id=${2000000000 + i}`);
    } else {
      out.push(`icmp     1 ${i % 30} src=${src} dst=${pod} type=8 code=0 id=${i % 65536} src=${pod} dst=${src} type=0 code=0 id=${i % 65536} mark=0 use=1 id=${3000000000 + i}`);
    }
  }
  return `${out.join('\n')}\n`;
}

interface Timing<T> {
  wall: number;
  cpu: number;
  result: T;
}

/** Median wall and CPU (user+system) milliseconds over `runs`; CPU time is steadier on a shared machine. */
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

const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-bench-'));
try {
  const file = path.join(dir, 'conntrack.txt');
  const text = generate(N);
  writeFileSync(file, text);
  const size = Buffer.byteLength(text);
  console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, node ${process.version}`);
  console.log(`input: ${N} conntrack entries, ${(size / 1024 / 1024).toFixed(1)} MiB`);
  const runs = 7;
  const baseline = time(() => readFileSync(file, 'utf8').split('\n').length, runs);
  const scan = time(() => {
    // the floor for any parser that looks at every character once
    const t = readFileSync(file, 'utf8');
    let spaces = 0;
    for (let i = 0; i < t.length; i++) if (t.charCodeAt(i) === 32) spaces++;
    return spaces;
  }, runs);
  const parse = time(() => parseConntrack(readFileSync(file, 'utf8')), runs);
  const r = parse.result;
  if (r.records.length !== N || r.diagnostics.length !== 0) {
    throw new Error(`parse check failed: ${r.records.length} records, ${r.diagnostics.length} diagnostics (${r.diagnostics[0]?.message ?? ''})`);
  }
  const fmt = (t: Timing<unknown>) => `median wall ${t.wall.toFixed(1)} ms, median CPU ${t.cpu.toFixed(1)} ms`;
  console.log(`baseline  readFileSync + split lines:    ${fmt(baseline)} (${runs} runs)`);
  console.log(`reference readFileSync + one charCodeAt pass: ${fmt(scan)} (${runs} runs)`);
  console.log(`conntrack readFileSync + parseConntrack: ${fmt(parse)} (${runs} runs)`);
  console.log(`ratio: ${(parse.wall / baseline.wall).toFixed(1)}x the baseline (wall), ${(parse.cpu / baseline.cpu).toFixed(1)}x (CPU); goal: well under 500 ms`);
  console.log(`load average during the run: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
