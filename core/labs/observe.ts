// Observables of a lab state, for "the student's matrix equals the answer's"
// and "nothing else broke" checks: reachability matrices keyed by stable pod
// names, Service endpoints, node routing tables (pod veths named by pod, not
// by their hashed interface names), settings, policies and DNS config.

import { formatRouteLine } from '../render/iproute';
import { podResolvConf } from '../dns';
import type { Protocol } from '../model/types';
import type { Observable } from './types';
import { LabWorld, parsePort, portText, stablePodKey, type EndpointRef, type PortProto } from './world';

export interface MatrixCell {
  from: string;
  to: string;
  port: string;
  allowed: boolean;
}

/** Rows: the selected pods; columns: the selected pods plus external addresses. Keyed by stable pod keys. */
export function observeMatrix(w: LabWorld, ports: PortProto[], podSel = '*', externals: string[] = []): Map<string, MatrixCell> {
  const rows = w.select(podSel).filter((e) => e.pod && !e.pod.hostNetwork);
  const cols: EndpointRef[] = [...rows, ...externals.map((ip) => ({ ref: `ip:${ip}`, label: ip }))];
  const out = new Map<string, MatrixCell>();
  for (const p of ports) {
    for (const f of rows) {
      for (const t of cols) {
        if (f.ref === t.ref) continue;
        const cell = { from: f.label, to: t.label, port: portText(p), allowed: w.allowed(f, t, p) };
        out.set(`${cell.from}|${cell.to}|${cell.port}`, cell);
      }
    }
  }
  return out;
}

export interface MatrixDiff {
  /** Cells whose verdict differs from the reference, or that exist on one side only. */
  wrong: { from: string; to: string; port: string; got: boolean | null; want: boolean | null }[];
  total: number;
}

export function diffMatrices(got: Map<string, MatrixCell>, want: Map<string, MatrixCell>): MatrixDiff {
  const wrong: MatrixDiff['wrong'] = [];
  for (const [k, c] of want) {
    const g = got.get(k);
    if (!g) wrong.push({ from: c.from, to: c.to, port: c.port, got: null, want: c.allowed });
    else if (g.allowed !== c.allowed) wrong.push({ from: c.from, to: c.to, port: c.port, got: g.allowed, want: c.allowed });
  }
  for (const [k, c] of got) if (!want.has(k)) wrong.push({ from: c.from, to: c.to, port: c.port, got: c.allowed, want: null });
  return { wrong, total: want.size };
}

export function describeCell(d: MatrixDiff['wrong'][number]): string {
  if (d.want === null) return `${d.from} → ${d.to} on ${d.port}: this pod pair should not exist (a pod was added or renamed)`;
  if (d.got === null) return `${d.from} → ${d.to} on ${d.port}: one of these pods is missing (a pod was removed or renamed)`;
  return `${d.from} → ${d.to} on ${d.port} is ${d.got ? 'allowed' : 'denied'} but should be ${d.want ? 'allowed' : 'denied'}`;
}

/** Container ports of every pod, every Service port, and 53/UDP. */
export function defaultPorts(w: LabWorld): PortProto[] {
  const seen = new Map<string, PortProto>();
  const add = (port: number, protocol: Protocol) => seen.set(`${port}/${protocol}`, { port, protocol });
  for (const p of w.topology.pods) for (const c of p.ports) add(c.containerPort, c.protocol);
  for (const s of w.topology.services) for (const sp of s.ports) if (typeof sp.targetPort === 'number') add(sp.targetPort, sp.protocol);
  add(53, 'UDP');
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

function endpointsLines(w: LabWorld): string[] {
  const out: string[] = [];
  for (const s of w.topology.services) {
    const slices = w.topology.endpointSlices.filter((x) => x.namespace === s.namespace && x.serviceName === s.name);
    for (const sl of slices) {
      for (const e of sl.endpoints) {
        const pod = e.targetRef ? w.topology.pods.find((p) => p.namespace === e.targetRef!.namespace && p.name === e.targetRef!.name) : undefined;
        const who = pod ? stablePodKey(pod) : e.addresses.join(',');
        for (const p of sl.ports) out.push(`Service ${s.namespace}/${s.name} → ${who} port ${p.port}/${p.protocol}${e.conditions.ready === false ? ' (not ready)' : ''}`);
      }
    }
    if (!slices.some((sl) => sl.endpoints.length)) out.push(`Service ${s.namespace}/${s.name} → no endpoints`);
  }
  return out.sort();
}

function routeLines(w: LabWorld): string[] {
  const dp = w.dataplane();
  const out: string[] = [];
  for (const n of w.topology.nodes) {
    const ns = dp.node(n.name);
    for (const r of ns.routes) {
      if (r.table !== 'main') continue;
      // proto and metric are left out: a route re-added by hand is the same route
      let line = formatRouteLine({ ...r, protocol: 'boot', metric: undefined }).trim();
      if (r.dev) {
        const pod = dp.podOnInterface(n.name, r.dev);
        if (pod) line = line.replace(`dev ${r.dev}`, `dev <veth of ${pod.namespace}/${stablePodKey(w.topology.pods.find((p) => p.namespace === pod.namespace && p.name === pod.pod)!).split('/')[1]}>`);
      }
      out.push(`node ${n.name}: ${line}`);
    }
    for (const i of ns.interfaces) if (!dp.podOnInterface(n.name, i.name)) out.push(`node ${n.name}: link ${i.name} mtu ${i.mtu} ${i.operstate}`);
  }
  return out.sort();
}

function settingsLines(w: LabWorld, allow: string[]): string[] {
  const flat: string[] = [];
  const walk = (o: unknown, path: string) => {
    if (o && typeof o === 'object' && !Array.isArray(o)) for (const [k, v] of Object.entries(o)) walk(v, path ? `${path}.${k}` : k);
    else flat.push(`${path} = ${JSON.stringify(o)}`);
  };
  walk(w.topology.settings, '');
  return flat.filter((l) => !allow.some((a) => l.startsWith(`${a} `) || l.startsWith(`${a}.`))).sort();
}

function policyLines(w: LabWorld): string[] {
  return w.topology.networkPolicies
    .map((p) => `NetworkPolicy ${p.namespace}/${p.name}: ${JSON.stringify({ podSelector: p.podSelector, policyTypes: p.policyTypes, ingress: p.ingress, egress: p.egress })}`)
    .concat(w.topology.extra.filter((x) => /NetworkPolicy$/.test(x.kind)).map((x) => `${x.kind} ${x.namespace ?? ''}/${x.name}: ${JSON.stringify((x.object as { spec?: unknown }).spec ?? {})}`))
    .sort();
}

function dnsLines(w: LabWorld): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of w.topology.pods) {
    if (seen.has(p.namespace) || p.hostNetwork) continue;
    seen.add(p.namespace);
    out.push(`resolv.conf in ${p.namespace}: ${podResolvConf(w.topology, p).text.replace(/\n/g, ' | ')}`);
  }
  return out.sort();
}

export interface ObservableDiff {
  observable: Observable;
  /** Human lines: what changed (no expected values of other tasks). */
  changes: string[];
}

/** Compares the student's observables with the reference's. */
export function diffObservables(student: LabWorld, reference: LabWorld, what: Observable[], opts: { ports?: string[]; allow?: string[] } = {}): ObservableDiff[] {
  const out: ObservableDiff[] = [];
  const setDiff = (observable: Observable, g: string[], r: string[]) => {
    const gs = new Set(g);
    const rs = new Set(r);
    const changes: string[] = [];
    for (const x of r) if (!gs.has(x)) changes.push(`missing now: ${x}`);
    for (const x of g) if (!rs.has(x)) changes.push(`new: ${x}`);
    out.push({ observable, changes });
  };
  for (const o of what) {
    switch (o) {
      case 'matrix': {
        const ports = opts.ports?.length ? opts.ports.map(parsePort) : defaultPorts(reference);
        const d = diffMatrices(observeMatrix(student, ports), observeMatrix(reference, ports));
        out.push({ observable: o, changes: d.wrong.map(describeCell) });
        break;
      }
      case 'endpoints':
        setDiff(o, endpointsLines(student), endpointsLines(reference));
        break;
      case 'routes':
        setDiff(o, routeLines(student), routeLines(reference));
        break;
      case 'settings':
        setDiff(o, settingsLines(student, opts.allow ?? []), settingsLines(reference, opts.allow ?? []));
        break;
      case 'policies':
        setDiff(o, policyLines(student), policyLines(reference));
        break;
      case 'dns':
        setDiff(o, dnsLines(student), dnsLines(reference));
        break;
    }
  }
  return out;
}
