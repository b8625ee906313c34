// Comparing a node with the model: collect what the node prints through a
// NodeRunner (read-only commands, plus test requests from pod namespaces when
// probes are allowed) and hand both sides to core/compare.
//
// Pod namespaces come from the test-bed's state when the node is a test-bed
// node; on other nodes (kind, VMs) they are found by the pod IPs
// (`ip -j netns list`, then `ip -n NS -j addr show` per namespace).

import type { Topology } from '../../../core/model';
import { parseIP } from '../../../core/net';
import { buildDataplane, cniModelFor } from '../../../core/cni';
import { parseIpLinkJson, parseIpRouteJson, parseIpRuleJson, parseTcpdump } from '../../../core/parse';
import {
  CHECK_NAMES,
  classifyNc,
  compareCapture,
  compareConntrack,
  compareCniResults,
  compareDns,
  compareIptables,
  comparePolicy,
  compareRoutes,
  compareRules,
  checkResult,
  expectProbe,
  expectedPluginResult,
  failedCheck,
  modelRuleset,
  type CheckName,
  type CheckResult,
  type CniResultPair,
  type DiffItem,
  type ExpectedProbe,
  type NodeReport,
  type PolicyAttempt,
  type SkippedCheck,
} from '../../../core/compare';
import { buildPlan } from '../testbed/plan';
import type { TestbedState } from '../testbed/state';
import { RemoteError, type NodeRunner, type RunResult } from './types';

export { modelRuleset };

export interface ProbeChoice {
  /** Client pod `namespace/name` (default: a pod on the node that is not an endpoint of the target). */
  client?: string;
  /** Name or address curl connects to (default: the first ClusterIP Service with a TCP port and endpoints, as `<svc>.<ns>.svc.<domain>`). */
  host?: string;
  port?: number;
}

export interface NodeCompareOptions {
  topology: Topology;
  node: string;
  runner: NodeRunner;
  /** Shown in the report (default runner.target). */
  via?: string;
  checks?: readonly CheckName[];
  /** The local test-bed's state when the node is a test-bed node. */
  testbed?: TestbedState | null;
  probe?: ProbeChoice;
  /** Allow test traffic from pod namespaces (curl, nc): needed by conntrack, tcpdump, policy and the DNS query check. */
  allowProbe?: boolean;
  /** Policy attempts from pods on this node only (default) or between all pods. */
  policyPairs?: 'from-node' | 'all';
  /** Per command (default 20 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Receives what the node printed, by name (`ip-j-route`, `ip-j-rule.json`, `iptables-save`, `tcpdump-any`, `conntrack-L`, `resolv.conf`…), e.g. to save it. */
  onRaw?: (name: string, text: string) => void;
}

/** Runs `fn` over items with at most `n` at once. */
async function pool<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

function errText(e: unknown): string {
  if (e instanceof RemoteError) return `${e.message} (${e.hint})`;
  return e instanceof Error ? e.message : String(e);
}

function ensureOk(r: RunResult, what: string): string {
  if (r.code !== 0) {
    const err = r.stderr.trim().split('\n').slice(0, 3).join(' ');
    throw new Error(`${what} exited with ${r.code ?? r.signal}${err ? `: ${err}` : ''}${r.code === 127 ? ' (not installed on the node?)' : ''}`);
  }
  return r.stdout;
}

function v4(ips: readonly string[]): string | undefined {
  return ips.find((ip) => parseIP(ip)?.family === 4);
}

/** Picks the request the probe checks make: a client pod on the node and a ClusterIP Service. */
export function chooseProbe(t: Topology, node: string, choice: ProbeChoice = {}): { client: string; host: string; port: number } | { reason: string } {
  const domain = t.settings.dns.clusterDomain.replace(/\.$/, '');
  let host = choice.host;
  let port = choice.port;
  let endpoints = new Set<string>();
  if (!host) {
    // (a dual-stack Service's name has A and AAAA records: a dual-stack client connects over IPv6, as the probe model says)
    const svc = t.services.find(
      (s) =>
        s.type !== 'ExternalName' &&
        s.clusterIPs.some((ip) => ip !== 'None' && parseIP(ip)?.family === 4) &&
        !(s.namespace === 'default' && s.name === 'kubernetes') &&
        !(s.namespace === 'kube-system' && s.name === 'kube-dns') &&
        s.ports.some((p) => p.protocol === 'TCP') &&
        t.endpointSlices.some((sl) => sl.namespace === s.namespace && sl.serviceName === s.name && sl.endpoints.some((e) => e.conditions.ready !== false)),
    );
    if (!svc) return { reason: 'the topology has no ClusterIP Service with a TCP port and ready endpoints to send a request to' };
    host = `${svc.name}.${svc.namespace}.svc.${domain}`;
    port ??= svc.ports.find((p) => p.protocol === 'TCP')!.port;
    endpoints = new Set(t.endpointSlices.filter((sl) => sl.namespace === svc.namespace && sl.serviceName === svc.name).flatMap((sl) => sl.endpoints.flatMap((e) => e.addresses)));
  }
  port ??= 80;
  let client = choice.client;
  if (!client) {
    const onNode = t.pods.filter((p) => p.nodeName === node && !p.hostNetwork && v4(p.ips));
    const pick = onNode.find((p) => !p.ips.some((ip) => endpoints.has(ip))) ?? onNode[0];
    if (!pick) return { reason: `node ${node} runs no pod with its own network namespace to send the request from` };
    client = `${pick.namespace}/${pick.name}`;
  }
  return { client, host, port };
}

/** Pod namespace names on the node, keyed `namespace/name`. */
export async function podNamespaces(o: NodeCompareOptions): Promise<{ map: Map<string, string>; how: string }> {
  const map = new Map<string, string>();
  if (o.testbed) {
    for (const p of o.testbed.pods) if (p.node === o.node && p.netns && !p.netns.startsWith('nl-n-')) map.set(`${p.namespace}/${p.name}`, p.netns);
    return { map, how: 'from the test-bed state' };
  }
  const byIP = new Map<string, string>();
  for (const p of o.topology.pods) if (p.nodeName === o.node && !p.hostNetwork) for (const ip of p.ips) byIP.set(ip, `${p.namespace}/${p.name}`);
  const list = await o.runner.run(['ip', '-j', 'netns', 'list'], { timeoutMs: o.timeoutMs, signal: o.signal });
  let names: string[];
  try {
    names = (JSON.parse(list.stdout || '[]') as { name: string }[]).map((x) => x.name);
  } catch {
    names = [];
  }
  await pool(names, 4, async (ns) => {
    const r = await o.runner.run(['ip', '-n', ns, '-j', 'addr', 'show'], { timeoutMs: o.timeoutMs, signal: o.signal });
    for (const l of parseIpLinkJson(r.stdout).records) {
      for (const a of l.addr_info) {
        const pod = byIP.get(a.local);
        if (pod) map.set(pod, ns);
      }
    }
  });
  return { map, how: `found by pod IP among ${names.length} named namespaces` };
}

async function checkRoutes(o: NodeCompareOptions, podNs: Map<string, string>): Promise<CheckResult> {
  const dp = buildDataplane(o.topology);
  const nodeDp = dp.node(o.node);
  const podVeths: Record<string, string> = {};
  for (const p of o.topology.pods) {
    if (p.nodeName !== o.node || p.hostNetwork) continue;
    const pd = dp.pods.get(`${p.namespace}/${p.name}`);
    if (pd) for (const ip of p.ips) podVeths[ip] = pd.hostPeer;
  }
  const devAliases: Record<string, string> = {};
  if (o.testbed) {
    for (const p of o.testbed.pods) {
      const pd = dp.pods.get(`${p.namespace}/${p.name}`);
      if (p.node === o.node && p.hostVeth && pd && p.hostVeth !== pd.hostPeer) devAliases[p.hostVeth] = pd.hostPeer;
    }
  }
  // IPv6 too when the topology is dual-stack (and the test-bed, if that is the target, built its IPv6 half)
  const families: (4 | 6)[] = [4];
  const dual = o.topology.settings.clusterCIDRs.some((c) => c.includes(':'));
  const notes: string[] = [];
  if (dual && o.testbed && !(o.testbed.families ?? [4]).includes(6)) notes.push('IPv6 routes not compared: the test-bed built only the IPv4 half of this dual-stack topology (see its warnings)');
  else if (dual) families.push(6);
  const items: DiffItem[] = [];
  let compared = 0;
  const summaries: string[] = [];
  for (const fam of families) {
    const flag = fam === 6 ? ['-6'] : [];
    const cmd = `ip ${fam === 6 ? '-6 ' : ''}-j route show`;
    const routeText = ensureOk(await o.runner.run(['ip', ...flag, '-j', 'route', 'show'], { timeoutMs: o.timeoutMs, signal: o.signal }), cmd);
    o.onRaw?.(fam === 6 ? 'ip-6-j-route.json' : 'ip-j-route.json', routeText);
    const real = parseIpRouteJson(routeText);
    const nodeRes = compareRoutes(nodeDp.routes, real.records, { podVeths, devAliases, family: fam });
    items.push(...nodeRes.items);
    compared += nodeRes.compared;
    notes.push(...(nodeRes.notes ?? []));
    summaries.push(nodeRes.summary);
  }
  let pods = 0;
  for (const [ref, ns] of podNs) {
    const pd = dp.pods.get(ref);
    if (!pd) continue;
    try {
      for (const fam of families) {
        const flag = fam === 6 ? ['-6'] : [];
        const r = await o.runner.run(['ip', 'netns', 'exec', ns, 'ip', ...flag, '-j', 'route', 'show'], { timeoutMs: o.timeoutMs, signal: o.signal });
        const text = ensureOk(r, `ip ${fam === 6 ? '-6 ' : ''}-j route show in ${ns}`);
        o.onRaw?.(`pod-${ref.replace('/', '_')}-ip-${fam === 6 ? '6-' : ''}j-route.json`, text);
        const res = compareRoutes(pd.routes, parseIpRouteJson(text).records, { family: fam });
        for (const it of res.items) items.push({ ...it, where: `pod ${ref} ${it.where ?? ''}`.trim() });
        compared += res.compared;
      }
      pods++;
    } catch (e) {
      notes.push(`pod ${ref}: routes not read (${errText(e)})`);
    }
  }
  const nodeRes = { summary: summaries.join('; ') };
  return checkResult('routes', items, compared, `${nodeRes.summary}; and the ${families.length === 2 ? 'IPv4 and IPv6 ' : ''}routes of ${pods} pod namespace(s) on the node`, notes);
}

/** The IP families the node checks compare: IPv6 too when the topology is dual-stack and the target built its IPv6 half. */
function comparedFamilies(o: NodeCompareOptions): { families: (4 | 6)[]; note?: string } {
  const dual = o.topology.settings.clusterCIDRs.some((c) => c.includes(':'));
  if (!dual) return { families: [4] };
  if (o.testbed && !(o.testbed.families ?? [4]).includes(6)) return { families: [4], note: 'the test-bed built only the IPv4 half of this dual-stack topology (see its warnings)' };
  return { families: [4, 6] };
}

/** `ip -j rule` (and `ip -6 -j rule` on dual-stack) of the node against the model's policy rules. */
async function checkRules(o: NodeCompareOptions): Promise<CheckResult> {
  const nodeDp = buildDataplane(o.topology).node(o.node);
  const { families, note } = comparedFamilies(o);
  const items: DiffItem[] = [];
  const notes: string[] = note ? [`IPv6 rules not compared: ${note}`] : [];
  const summaries: string[] = [];
  let compared = 0;
  for (const fam of families) {
    const flag = fam === 6 ? ['-6'] : [];
    const cmd = `ip ${fam === 6 ? '-6 ' : ''}-j rule show`;
    const text = ensureOk(await o.runner.run(['ip', ...flag, '-j', 'rule', 'show'], { timeoutMs: o.timeoutMs, signal: o.signal }), cmd);
    o.onRaw?.(fam === 6 ? 'ip-6-j-rule.json' : 'ip-j-rule.json', text);
    const parsed = parseIpRuleJson(text, { family: fam });
    for (const d of parsed.diagnostics) notes.push(`${cmd}: ${d.message}`);
    if (parsed.diagnostics.some((d) => d.severity === 'error')) {
      items.push({ kind: 'changed', where: cmd, explanation: `${cmd} printed output that could not be read completely (see the notes): the rules it lost are not compared`, explained: false });
    }
    const res = compareRules(nodeDp, parsed.records, { family: fam });
    items.push(...res.items);
    compared += res.compared;
    notes.push(...(res.notes ?? []));
    summaries.push(res.summary);
  }
  return checkResult('rules', items, compared, `${summaries.join('; ')}; the node's namespace only (pods keep the kernel's default rules)`, notes);
}

async function checkIptables(o: NodeCompareOptions): Promise<CheckResult> {
  const r = await o.runner.run(['iptables-save'], { timeoutMs: o.timeoutMs, signal: o.signal, maxBytes: 256 * 1024 * 1024 });
  const text = ensureOk(r, 'iptables-save');
  o.onRaw?.('iptables-save.txt', text);
  const prefixes = o.topology.settings.cni.plugin === 'calico' ? ['KUBE-', 'cali-'] : ['KUBE-'];
  const res = compareIptables(modelRuleset(o.topology, o.node), text, { chainPrefixes: prefixes });
  if (/^# Warning: iptables-legacy tables present/m.test(text)) (res.notes ??= []).push('the node also has iptables-legacy tables (iptables-legacy-save shows them); only the nft tables were compared');
  const dual = o.topology.settings.clusterCIDRs.some((c) => c.includes(':'));
  if (!dual || (o.testbed && !(o.testbed.families ?? [4]).includes(6))) return res;
  // dual-stack: kube-proxy's second (IPv6) proxier writes the same chains with ip6tables
  const r6 = await o.runner.run(['ip6tables-save'], { timeoutMs: o.timeoutMs, signal: o.signal, maxBytes: 256 * 1024 * 1024 });
  const text6 = ensureOk(r6, 'ip6tables-save');
  o.onRaw?.('ip6tables-save.txt', text6);
  // kube-proxy's IPv6 chains and, for Calico, felix's ip6tables chains (the same cali- chains as for IPv4)
  const res6 = compareIptables(modelRuleset(o.topology, o.node, 6), text6, { chainPrefixes: prefixes });
  const items = [...res.items, ...res6.items.map((it) => ({ ...it, where: `ip6tables ${it.where ?? ''}`.trim() }))];
  const notes = [...(res.notes ?? []), ...(res6.notes ?? []).map((n) => `ip6tables: ${n}`)];
  return checkResult('iptables', items, res.compared + res6.compared, `IPv4: ${res.summary}; IPv6 (ip6tables-save): ${res6.summary}`, notes);
}

interface ProbeRun {
  expected: ExpectedProbe;
  capture?: string;
  captureError?: string;
  conntrack?: string;
  conntrackError?: string;
  resolvConf?: string;
  resolvError?: string;
  curl?: { code: number | null; stdout: string; stderr: string };
  curlError?: string;
}

async function runProbe(o: NodeCompareOptions, spec: { client: string; host: string; port: number }, clientNs: string, want: Set<CheckName>): Promise<ProbeRun> {
  const expected = expectProbe(o.topology, { client: spec.client, host: spec.host, port: spec.port });
  const out: ProbeRun = { expected };
  const opt = { timeoutMs: o.timeoutMs, signal: o.signal };
  if (want.has('dns')) {
    if (!o.testbed) {
      // `ip netns exec` shows /etc/netns/NS/resolv.conf, which the test-bed writes; on containerd nodes the
      // pod's resolv.conf lives in the container's mount namespace, so this would show the node's own file
      out.resolvError = 'not read: on this node the pod\'s /etc/resolv.conf is inside its container, not visible through ip netns exec';
    } else {
      try {
        out.resolvConf = ensureOk(await o.runner.run(['ip', 'netns', 'exec', clientNs, 'cat', '/etc/resolv.conf'], opt), 'cat /etc/resolv.conf');
      } catch (e) {
        out.resolvError = errText(e);
      }
    }
  }
  const capture = want.has('tcpdump') || want.has('dns');
  let captureDone: Promise<void> | undefined;
  const stop = new AbortController();
  if (capture) {
    let ready: () => void = () => {};
    const listening = new Promise<void>((r) => (ready = r));
    let stderr = '';
    const secs = 15;
    captureDone = o.runner
      .run(['timeout', String(secs), 'tcpdump', '-n', '-l', '-i', 'any', '-c', '5000', 'host', expected.clientIP, ...(expected.clientIP6 ? ['or', 'host', expected.clientIP6] : []), 'or', 'udp', 'port', '4789', 'or', 'udp', 'port', '8472'], {
        timeoutMs: (secs + 5) * 1000,
        signal: stop.signal,
        onOutput: (s, chunk) => {
          if (s === 'stderr') {
            stderr += chunk;
            if (stderr.includes('listening on')) ready();
          }
        },
      })
      .then(
        (r) => {
          out.capture = r.stdout;
          if (r.code !== 0 && r.code !== 124 && !r.stdout) out.captureError = `tcpdump exited with ${r.code}: ${r.stderr.trim()}`;
        },
        (e: unknown) => {
          if (e instanceof RemoteError && e.code === 'aborted' && e.partial) out.capture = e.partial.stdout;
          else out.captureError = errText(e);
        },
      )
      .finally(() => ready());
    await Promise.race([listening, new Promise((r) => setTimeout(r, 5000))]);
  }
  try {
    const url = `http://${spec.host.includes(':') ? `[${spec.host}]` : spec.host}:${spec.port}/`;
    const r = await o.runner.run(['ip', 'netns', 'exec', clientNs, 'curl', '-sS', '-m', '5', '-o', '/dev/null', '-w', '%{http_code} %{remote_ip} %{local_port}', url], { ...opt, allowProbe: true, timeoutMs: 10_000 });
    out.curl = { code: r.code, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    out.curlError = errText(e);
  }
  if (captureDone) {
    // let the last packets (FIN/ACK, DNS answers) through, then stop the capture
    await new Promise((r) => setTimeout(r, 700));
    stop.abort();
    await captureDone;
  }
  if (want.has('conntrack')) {
    try {
      const r = await o.runner.run(['conntrack', '-L'], { ...opt, maxBytes: 256 * 1024 * 1024 });
      out.conntrack = ensureOk(r, 'conntrack -L');
      // conntrack -L lists IPv4 only: a request to an IPv6 target needs -f ipv6
      if (expected.target && parseIP(expected.target)?.family === 6) {
        const r6 = await o.runner.run(['conntrack', '-L', '-f', 'ipv6'], { ...opt, maxBytes: 256 * 1024 * 1024 });
        out.conntrack += ensureOk(r6, 'conntrack -L -f ipv6');
      }
    } catch (e) {
      out.conntrackError = errText(e);
    }
  }
  if (out.resolvConf !== undefined) o.onRaw?.('resolv.conf', out.resolvConf);
  if (out.capture !== undefined) o.onRaw?.('tcpdump-any.txt', out.capture);
  if (out.conntrack !== undefined) o.onRaw?.('conntrack-L.txt', out.conntrack);
  if (out.curl) o.onRaw?.('curl.txt', `${out.curl.stdout}\n${out.curl.stderr}`);
  return out;
}

function policyPorts(t: Topology): { numeric: Set<number>; named: Set<string> } {
  const numeric = new Set<number>();
  const named = new Set<string>();
  for (const p of t.networkPolicies) {
    for (const rule of [...(p.ingress ?? []), ...(p.egress ?? [])]) {
      for (const port of rule.ports ?? []) {
        if ((port.protocol ?? 'TCP') !== 'TCP' || port.port === undefined) continue;
        if (typeof port.port === 'number') numeric.add(port.port);
        else named.add(port.port);
      }
    }
  }
  return { numeric, named };
}

async function checkPolicy(o: NodeCompareOptions, allPodNs: Map<string, string>): Promise<CheckResult> {
  const t = o.topology;
  const pods = t.pods.filter((p) => !p.hostNetwork && v4(p.ips));
  // dual-stack: every pair is also tried over IPv6 (Calico enforces the policy in ip6tables too)
  const dual = t.settings.clusterCIDRs.some((c) => c.includes(':')) && !(o.testbed && !(o.testbed.families ?? [4]).includes(6));
  const v6 = (ips: readonly string[]): string | undefined => ips.find((ip) => parseIP(ip)?.family === 6);
  const { numeric, named } = policyPorts(t);
  const sources = pods.filter((p) => (o.policyPairs === 'all' || p.nodeName === o.node) && allPodNs.has(`${p.namespace}/${p.name}`));
  const attempts: { from: string; to: string; toIP: string; port: number; ns: string }[] = [];
  for (const s of sources) {
    for (const d of pods) {
      if (d === s) continue;
      const ports = new Set(numeric);
      for (const n of named) for (const cp of d.ports) if (cp.name === n && cp.protocol === 'TCP') ports.add(cp.containerPort);
      if (ports.size === 0) for (const cp of d.ports) if (cp.protocol === 'TCP') ports.add(cp.containerPort);
      for (const port of [...ports].sort((a, b) => a - b)) {
        attempts.push({ from: `${s.namespace}/${s.name}`, to: `${d.namespace}/${d.name}`, toIP: v4(d.ips)!, port, ns: allPodNs.get(`${s.namespace}/${s.name}`)! });
        const to6 = dual && v6(s.ips) ? v6(d.ips) : undefined;
        if (to6) attempts.push({ from: `${s.namespace}/${s.name}`, to: `${d.namespace}/${d.name}`, toIP: to6, port, ns: allPodNs.get(`${s.namespace}/${s.name}`)! });
      }
    }
  }
  const conc = o.runner.kind === 'ssh' ? 8 : 24;
  const results: PolicyAttempt[] = await pool(attempts, conc, async (a) => {
    try {
      const r = await o.runner.run(['ip', 'netns', 'exec', a.ns, 'nc', '-z', '-v', '-n', '-w', '1', a.toIP, String(a.port)], { timeoutMs: 8000, signal: o.signal, allowProbe: true });
      return { from: a.from, to: a.to, toIP: a.toIP, port: a.port, protocol: 'TCP', result: classifyNc(r.code, `${r.stdout}\n${r.stderr}`), detail: r.stderr.trim() };
    } catch (e) {
      return { from: a.from, to: a.to, toIP: a.toIP, port: a.port, protocol: 'TCP', result: 'error', detail: errText(e) };
    }
  });
  return comparePolicy(t, results, `${o.policyPairs === 'all' ? 'every pod pair' : `from the ${sources.length} pod(s) on ${o.node} to every other pod, on the policy ports`}${dual ? ', over IPv4 and IPv6' : ''}`);
}

async function checkCni(o: NodeCompareOptions): Promise<CheckResult> {
  const t = o.topology;
  const pairs: CniResultPair[] = [];
  const notes: string[] = [];
  if (o.testbed) {
    const plan = buildPlan(t);
    for (const sp of o.testbed.pods) {
      if (sp.node !== o.node || !sp.cniResultPath) continue;
      const pp = plan.pods.find((x) => x.namespace === sp.namespace && x.name === sp.name);
      if (!pp || pp.hostNetwork) continue;
      let real: string | undefined;
      try {
        real = ensureOk(await o.runner.run(['cat', sp.cniResultPath], { timeoutMs: o.timeoutMs, signal: o.signal }), `cat ${sp.cniResultPath}`);
      } catch (e) {
        notes.push(`${sp.namespace}/${sp.name}: ${errText(e)}`);
      }
      pairs.push({ pod: `${sp.namespace}/${sp.name}`, model: expectedPluginResult(pp.cniConfig, { ip: sp.ip, ip6: sp.ip6, sandbox: `/var/run/netns/${sp.netns}` }), real, source: sp.cniResultPath });
    }
    notes.push(`the test-bed wires pods with the ${String(plan.pods[0]?.cniConfig.type ?? 'ptp')} plugin; the model's result for that plugin and network config is compared (the ${t.settings.cni.plugin} plugin's own result would differ, see the test-bed's known differences)`);
  } else {
    const model = cniModelFor(t);
    const ls = await o.runner.run(['ls', '/var/lib/cni/results'], { timeoutMs: o.timeoutMs, signal: o.signal });
    const files = ls.code === 0 ? ls.stdout.split('\n').filter(Boolean) : [];
    const byIP = new Map<string, { text: string; file: string }>();
    for (const f of files) {
      const path = `/var/lib/cni/results/${f}`;
      const r = await o.runner.run(['cat', path], { timeoutMs: o.timeoutMs, signal: o.signal });
      if (r.code !== 0) continue;
      try {
        const j = JSON.parse(r.stdout) as { result?: { ips?: { address: string }[] } };
        for (const ip of j.result?.ips ?? []) byIP.set(ip.address.split('/')[0], { text: r.stdout, file: path });
      } catch {
        /* not a cache file */
      }
    }
    for (const p of t.pods) {
      if (p.nodeName !== o.node || p.hostNetwork) continue;
      const hit = p.ips.map((ip) => byIP.get(ip)).find(Boolean);
      pairs.push({ pod: `${p.namespace}/${p.name}`, model: model.cniAddResult(t, p), real: hit?.text, source: hit?.file ?? '/var/lib/cni/results' });
    }
    notes.push(`${files.length} result(s) in libcni's cache /var/lib/cni/results were matched to pods by address`);
  }
  const res = compareCniResults(pairs);
  (res.notes ??= []).push(...notes);
  return res;
}

/** Compares one node with the model. Never throws for a node's problems: a check that cannot run becomes an unexplained item saying why. */
export async function compareNode(o: NodeCompareOptions): Promise<NodeReport> {
  const t = o.topology;
  if (!t.nodes.some((n) => n.name === o.node)) throw new RemoteError('bad-target', `no node named "${o.node}" in the topology`, `use one of: ${t.nodes.map((n) => n.name).join(', ')}`);
  const want = new Set<CheckName>(o.checks ?? CHECK_NAMES);
  const checks: CheckResult[] = [];
  const skipped: SkippedCheck[] = [];
  const progress = (m: string) => o.onProgress?.(m);
  const allowProbe = o.allowProbe ?? o.runner.defaults.allowProbe ?? false;
  const guard = async (name: CheckName, fn: () => Promise<CheckResult>): Promise<void> => {
    progress(`${o.node}: ${name}`);
    try {
      checks.push(await fn());
    } catch (e) {
      if (e instanceof RemoteError && (e.code === 'aborted' || e.code === 'closed')) throw e;
      checks.push(failedCheck(name, `${name} could not be collected from ${o.node}`, errText(e)));
    }
  };
  let podNs = new Map<string, string>();
  let podNsHow = '';
  const needPods = ['routes', 'conntrack', 'tcpdump', 'dns', 'policy'].some((c) => want.has(c as CheckName));
  if (needPods) {
    try {
      const r = await podNamespaces(o);
      podNs = r.map;
      podNsHow = r.how;
    } catch (e) {
      podNsHow = `pod namespaces not found: ${errText(e)}`;
    }
  }
  if (want.has('routes')) await guard('routes', () => checkRoutes(o, podNs));
  if (want.has('rules')) await guard('rules', () => checkRules(o));
  if (want.has('iptables')) await guard('iptables', () => checkIptables(o));

  const probeChecks = (['conntrack', 'tcpdump', 'dns'] as CheckName[]).filter((c) => want.has(c));
  if (probeChecks.length) {
    const choice = chooseProbe(t, o.node, o.probe);
    const probeNeeded = probeChecks.filter((c) => c !== 'dns');
    if ('reason' in choice) {
      for (const c of probeChecks) skipped.push({ check: c, reason: choice.reason });
    } else if (!podNs.has(choice.client)) {
      for (const c of probeChecks) skipped.push({ check: c, reason: `the client pod ${choice.client}'s network namespace was not found on ${o.node} (${podNsHow})` });
    } else if (!allowProbe) {
      for (const c of probeNeeded) skipped.push({ check: c, reason: `sends a test request (curl from ${choice.client} to ${choice.host}:${choice.port}); allow probes with --probe (or --yes-modify)` });
      if (want.has('dns') && !o.testbed) {
        skipped.push({ check: 'dns', reason: `needs a test request (allow probes with --probe); the pod's resolv.conf is inside its container on this node` });
      } else if (want.has('dns')) {
        await guard('dns', async () => {
          const expected = expectProbe(t, choice);
          const r = await o.runner.run(['ip', 'netns', 'exec', podNs.get(choice.client)!, 'cat', '/etc/resolv.conf'], { timeoutMs: o.timeoutMs, signal: o.signal });
          const res = compareDns(expected, { resolvConf: ensureOk(r, 'cat /etc/resolv.conf') });
          (res.notes ??= []).push('the query sequence needs a test request: allow probes with --probe');
          return res;
        });
      }
    } else {
      progress(`${o.node}: request ${choice.client} → ${choice.host}:${choice.port}`);
      const run = await runProbe(o, choice, podNs.get(choice.client)!, want);
      const curlNote = run.curl
        ? `curl ${choice.host}:${choice.port} from ${choice.client}: exit ${run.curl.code}, ${run.curl.stdout.trim() || run.curl.stderr.trim()}`
        : `curl failed: ${run.curlError}`;
      const [, remoteIP] = run.curl?.stdout.trim().split(' ') ?? [];
      if (want.has('conntrack')) {
        checks.push(run.conntrack !== undefined ? compareConntrack(run.expected, run.conntrack) : failedCheck('conntrack', 'conntrack -L could not be read', run.conntrackError ?? 'unknown error'));
        (checks[checks.length - 1].notes ??= []).push(curlNote);
      }
      const packets = run.capture !== undefined ? parseTcpdump(run.capture).records : undefined;
      if (want.has('tcpdump')) {
        checks.push(packets ? compareCapture(run.expected, packets) : failedCheck('tcpdump', 'the capture failed', run.captureError ?? 'unknown error'));
        (checks[checks.length - 1].notes ??= []).push(curlNote);
      }
      if (want.has('dns')) {
        const res = compareDns(run.expected, { resolvConf: run.resolvConf, packets, connectedTo: remoteIP || undefined });
        if (run.resolvError) (res.notes ??= []).push(`resolv.conf: ${run.resolvError}`);
        checks.push(res);
      }
    }
  }
  if (want.has('policy')) {
    if (t.networkPolicies.length === 0) skipped.push({ check: 'policy', reason: 'the topology has no NetworkPolicy: every connection is allowed, nothing to compare' });
    else if (!allowProbe) skipped.push({ check: 'policy', reason: 'sends test connections (nc -z) between pod namespaces; allow probes with --probe (or --yes-modify)' });
    else if (podNs.size === 0) skipped.push({ check: 'policy', reason: `no pod namespace found on ${o.node} (${podNsHow})` });
    else {
      let all = podNs;
      if (o.policyPairs === 'all' && o.testbed) {
        all = new Map(o.testbed.pods.filter((p) => !p.netns.startsWith('nl-n-')).map((p) => [`${p.namespace}/${p.name}`, p.netns]));
      }
      await guard('policy', () => checkPolicy(o, all));
    }
  }
  if (want.has('cni')) await guard('cni', () => checkCni(o));
  const order = (c: CheckName) => CHECK_NAMES.indexOf(c);
  checks.sort((a, b) => order(a.check) - order(b.check));
  const report: NodeReport = { node: o.node, via: o.via ?? o.runner.target, checks };
  if (skipped.length) report.skipped = skipped;
  if (o.testbed?.differences.length) report.notes = [...o.testbed.differences];
  return report;
}
