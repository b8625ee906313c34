// Benchmark: `ip rule` text and `ip -j rule` JSON of a node with many rules
// (per-pod rules as AWS VPC CNI or Istio-style agents install them: two per
// pod, `from POD lookup N` and `to POD lookup main`, plus the kernel's and
// Cilium's), parsed and compared with a model holding the same rules. Each
// figure is printed beside its baseline measured in the same process:
// splitting the text into lines and tokens (the floor any text parser pays),
// and JSON.parse of the JSON.
// Run: npx tsx bench/ip-rule.ts [pods]
import os from 'node:os';
import { compareRules } from '../core/compare';
import { withDefaultRules } from '../core/cni/rules';
import type { RoutingRule } from '../core/cni/types';
import { parseIpRule, parseIpRuleJson, tokens } from '../core/parse';
import { renderIpRule, renderIpRuleJson } from '../core/render/iproute';

const PODS = Number(process.argv[2] ?? 10_000);

function podIP(i: number): string {
  return `10.${244 + ((i >>> 16) & 3)}.${(i >>> 8) & 255}.${i & 255}`;
}

const extra: RoutingRule[] = [{ family: 4, priority: 9, fwmark: 0x200, fwmask: 0xf00, table: 2004, origin: 'cilium' }];
for (let i = 0; i < PODS; i++) {
  extra.push({ family: 4, priority: 512, to: `${podIP(i)}/32`, table: 'main', origin: 'pod' });
  extra.push({ family: 4, priority: 1536, from: `${podIP(i)}/32`, table: 2 + (i % 3), origin: 'pod' });
}
const ns = { id: 'bench', interfaces: [], routes: [], neighbours: [], fdb: [], sysctls: {}, rules: withDefaultRules(extra) };
const text = renderIpRule(ns);
const json = renderIpRuleJson(ns);

interface Timing<T> {
  ms: number;
  result: T;
}

/** Median CPU (user+system) milliseconds over `runs` (steadier than wall time on a shared machine). */
function time<T>(fn: () => T, runs = 7): Timing<T> {
  const cpus: number[] = [];
  let result!: T;
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    result = fn();
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { ms: [...cpus].sort((a, b) => a - b)[Math.floor(cpus.length / 2)], result };
}

const cpu = os.cpus()[0];
console.log(`machine: ${cpu?.model ?? 'unknown'}, ${os.cpus().length} cores, node ${process.version}`);
const lines = text.split('\n').length - 1;
console.log(`input: ${lines} rules (${PODS} pods × 2 + Cilium's + the kernel's), ${(text.length / 1e6).toFixed(2)} MB text, ${(json.length / 1e6).toFixed(2)} MB JSON\n`);

const split = time(() => text.split('\n').reduce((n, l) => n + tokens(l).length, 0));
const parsedText = time(() => parseIpRule(text));
const jsonParse = time(() => (JSON.parse(json) as unknown[]).length);
const parsedJson = time(() => parseIpRuleJson(json));
if (parsedText.result.records.length !== lines || parsedJson.result.records.length !== lines) throw new Error('parse lost rules');
if (parsedText.result.diagnostics.length || parsedJson.result.diagnostics.length) throw new Error('diagnostics on generated input');
const compare = time(() => compareRules(ns, parsedJson.result.records));
if (compare.result.status !== 'match') throw new Error(`compare: ${compare.result.status}`);

const row = (label: string, ms: number, base?: number, baseName = 'baseline') =>
  console.log(`  ${label.padEnd(54)} ${ms.toFixed(1).padStart(8)} ms${base ? `  (${(ms / base).toFixed(2)}x ${baseName})` : ''}  ${Math.round((lines / ms) * 1000).toLocaleString('en-US')} rules/s`);
row('baseline: split text into lines and tokens', split.ms);
row('parseIpRule (text)', parsedText.ms, split.ms);
row('baseline: JSON.parse', jsonParse.ms);
row('parseIpRuleJson', parsedJson.ms, jsonParse.ms);
row('compareRules (model vs parsed JSON, all paired)', compare.ms, parsedJson.ms, 'parseIpRuleJson');
