// Kernel state the topology does not describe: routes deleted or added by
// hand, an interface MTU changed, a link set down. Faults inject them; the
// student repairs them with `ip` commands, which are parsed here and applied
// to copies of the CNI model's namespaces.

import { Cidr, canonicalIP, parseIP } from '../net';
import type { ClusterDataplane, NetNamespace, NodeDataplane, PodDataplane, Route } from '../cni';
import type { Topology } from '../model/types';
import { LabError, type NetChange } from './types';

/** `node-1` → `node:node-1`; `node:x` and `pod:ns/name` stay as they are. */
export function normalizeTarget(t: string): string {
  const s = t.trim();
  if (s.startsWith('node:') || s.startsWith('pod:')) return s;
  if (s.includes('/')) return `pod:${s}`;
  return `node:${s}`;
}

function canonicalDst(dst: string): string {
  if (dst === 'default') return '0.0.0.0/0';
  const c = Cidr.tryParse(dst.includes('/') ? dst : `${dst}/${dst.includes(':') ? 128 : 32}`);
  if (!c) throw new LabError(`"${dst}" is not a route destination`, 'write default, an address, or a CIDR such as 10.244.2.0/26');
  return c.text;
}

function tokens(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean);
}

/**
 * Parses one command a student ran on `target`:
 *   ip route add|replace|del DST [via GW] [dev DEV] [proto P] [scope S] [metric N] [onlink]
 *   ip route add blackhole|unreachable|prohibit DST
 *   ip link set [dev] DEV mtu N | down | up
 * `sudo` and a leading `$ ` / `# ` prompt are accepted. Throws LabError with a hint.
 */
export function parseCommand(target: string, line: string): NetChange[] {
  const t = normalizeTarget(target);
  // A shell prompt (`$ ` or root's `# `) before the command is dropped; other `#` lines are comments.
  if (/^\s*#/.test(line) && !/^\s*#\s*(sudo\s+)?ip\s/.test(line)) return [];
  let w = tokens(line.replace(/^\s*[$#]\s*/, ''));
  if (w[0] === 'sudo') w = w.slice(1);
  if (w.length === 0) return [];
  if (w[0] !== 'ip') throw new LabError(`"${line.trim()}": only ip route and ip link commands change the model`, 'use e.g. ip route add 10.244.3.0/26 via 10.0.1.7 dev eth0');
  w = w.slice(1);
  // ip -4 route …
  while (w[0] && /^-(4|6|d|details)$/.test(w[0])) w = w.slice(1);
  const obj = w[0];
  if (obj === 'route' || obj === 'r' || obj === 'ro' || obj === 'rou') return parseRoute(t, w.slice(1), line);
  if (obj === 'link' || obj === 'l' || obj === 'li') return parseLink(t, w.slice(1), line);
  throw new LabError(`"${line.trim()}": ip ${obj ?? ''} does not change routes or links`, 'use ip route add|del|replace … or ip link set DEV mtu N');
}

function parseRoute(target: string, w: string[], line: string): NetChange[] {
  const verb = w[0];
  const verbs: Record<string, 'add' | 'del' | 'replace'> = { add: 'add', a: 'add', append: 'add', del: 'del', delete: 'del', d: 'del', replace: 'replace', change: 'replace', repl: 'replace' };
  const v = verbs[verb ?? ''];
  if (!v) throw new LabError(`"${line.trim()}": ip route ${verb ?? ''} does not change the table`, 'use ip route add, ip route replace or ip route del');
  let i = 1;
  let type: 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' = 'unicast';
  if (['blackhole', 'unreachable', 'prohibit', 'unicast'].includes(w[i])) type = w[i++] as typeof type;
  if (w[i] === 'to') i++;
  const dstText = w[i++];
  if (!dstText) throw new LabError(`"${line.trim()}": no destination`, 'write ip route add DST via GATEWAY dev DEV');
  const dst = canonicalDst(dstText);
  const r: Extract<NetChange, { op: 'route-add' }> = { op: 'route-add', target, dst };
  if (type !== 'unicast') r.type = type;
  while (i < w.length) {
    const k = w[i++];
    const val = w[i];
    switch (k) {
      case 'via':
        if (val === 'inet' || val === 'inet6') i++;
        if (!w[i] || !parseIP(w[i])) throw new LabError(`"${line.trim()}": via needs an address`, 'write via 10.0.1.7');
        r.gateway = canonicalIP(w[i++]);
        break;
      case 'dev':
      case 'oif':
        if (!val) throw new LabError(`"${line.trim()}": dev needs an interface name`, 'write dev eth0');
        r.dev = val;
        i++;
        break;
      case 'proto':
      case 'protocol':
        r.protocol = val;
        i++;
        break;
      case 'scope':
        if (val !== 'global' && val !== 'link' && val !== 'host' && val !== 'universe') throw new LabError(`"${line.trim()}": scope ${val ?? ''}`, 'use scope link, host or global');
        r.scope = val === 'universe' ? 'global' : val;
        i++;
        break;
      case 'metric':
      case 'priority':
      case 'preference': {
        const n = Number(val);
        if (!Number.isInteger(n) || n < 0) throw new LabError(`"${line.trim()}": metric ${val ?? ''} is not a number`, 'write metric 100');
        r.metric = n;
        i++;
        break;
      }
      case 'onlink':
        r.onlink = true;
        break;
      case 'table':
        if (val !== 'main' && val !== '254') throw new LabError(`"${line.trim()}": only the main table is modelled`, 'leave out table, or write table main');
        i++;
        break;
      case 'src':
      case 'mtu':
      case 'advmss':
        i++;
        break;
      default:
        throw new LabError(`"${line.trim()}": unknown word "${k}"`, 'ip route add DST [via GW] [dev DEV] [proto P] [scope S] [metric N] [onlink]');
    }
  }
  if (v === 'del') {
    return [{ op: 'route-del', target, dst }];
  }
  if (type === 'unicast' && !r.gateway && !r.dev) throw new LabError(`"${line.trim()}": a route needs via GATEWAY or dev DEVICE`, 'write e.g. ip route add 10.244.3.0/26 via 10.0.1.7 dev eth0');
  if (v === 'replace') r.replace = true;
  return [r];
}

function parseLink(target: string, w: string[], line: string): NetChange[] {
  if (w[0] !== 'set') throw new LabError(`"${line.trim()}": only ip link set changes a link`, 'write ip link set dev eth0 mtu 1450');
  let i = 1;
  if (w[i] === 'dev') i++;
  const dev = w[i++];
  if (!dev) throw new LabError(`"${line.trim()}": no device`, 'write ip link set dev eth0 mtu 1450');
  const out: NetChange[] = [];
  while (i < w.length) {
    const k = w[i++];
    if (k === 'mtu') {
      const n = Number(w[i++]);
      if (!Number.isInteger(n) || n < 68 || n > 65535) throw new LabError(`"${line.trim()}": mtu must be a number between 68 and 65535`, 'write mtu 1450');
      out.push({ op: 'link-mtu', target, dev, mtu: n });
    } else if (k === 'down') out.push({ op: 'link-down', target, dev });
    else if (k === 'up') {
      /* links are up in the model; nothing to change */
    } else throw new LabError(`"${line.trim()}": unknown word "${k}"`, 'ip link set DEV mtu N | up | down');
  }
  return out;
}

/** Parses the commands of a submission (`node-1: [ip route add …]`). */
export function parseCommands(commands: Record<string, string[]>): NetChange[] {
  const out: NetChange[] = [];
  for (const [target, lines] of Object.entries(commands)) for (const l of lines) out.push(...parseCommand(target, l));
  return out;
}

function cloneNs<T extends NetNamespace>(ns: T): T {
  return { ...ns, interfaces: ns.interfaces.map((i) => ({ ...i, addresses: [...i.addresses] })), routes: ns.routes.map((r) => ({ ...r, flags: [...r.flags] })), neighbours: [...ns.neighbours], fdb: [...ns.fdb], sysctls: { ...ns.sysctls } };
}

function sameDst(r: Route, dst: string): boolean {
  return r.table === 'main' && Cidr.parse(r.dst).text === dst;
}

/** Applies one change to a namespace in place; returns an error text when the kernel would refuse it. */
export function applyChange(ns: NetNamespace, c: NetChange): string | undefined {
  switch (c.op) {
    case 'route-del': {
      const i = ns.routes.findIndex((r) => sameDst(r, c.dst));
      if (i < 0) return `RTNETLINK answers: No such process (no route to ${c.dst} on ${c.target})`;
      ns.routes.splice(i, 1);
      return undefined;
    }
    case 'route-add': {
      if (c.dev && !ns.interfaces.some((i) => i.name === c.dev)) return `Cannot find device "${c.dev}" on ${c.target}`;
      const exists = ns.routes.some((r) => sameDst(r, c.dst) && (r.metric ?? 0) === (c.metric ?? 0));
      if (exists && !c.replace) return `RTNETLINK answers: File exists (${c.dst} on ${c.target})`;
      if (c.replace) ns.routes = ns.routes.filter((r) => !(sameDst(r, c.dst) && (r.metric ?? 0) === (c.metric ?? 0)));
      const family = Cidr.parse(c.dst).family;
      let dev = c.dev;
      if (!dev && c.gateway) {
        // the kernel resolves the output device from the gateway's connected route
        const gw = parseIP(c.gateway)!;
        const conn = ns.routes.find((r) => r.table === 'main' && r.scope === 'link' && r.dev && Cidr.parse(r.dst).contains(gw));
        if (!conn) return `RTNETLINK answers: Network is unreachable (no connected route to ${c.gateway} on ${c.target})`;
        dev = conn.dev;
      }
      const route: Route = {
        type: c.type ?? 'unicast',
        family,
        dst: c.dst,
        gateway: c.gateway,
        dev: c.type && c.type !== 'unicast' ? undefined : dev,
        table: 'main',
        protocol: c.protocol ?? 'boot',
        scope: c.scope ?? (c.gateway || (c.type && c.type !== 'unicast') ? 'global' : 'link'),
        metric: c.metric,
        flags: c.onlink ? ['onlink'] : [],
        origin: `added by hand on ${c.target}`,
      };
      ns.routes.push(route);
      return undefined;
    }
    case 'link-mtu': {
      const i = ns.interfaces.find((x) => x.name === c.dev);
      if (!i) return `Cannot find device "${c.dev}" on ${c.target}`;
      i.mtu = c.mtu;
      return undefined;
    }
    case 'link-down': {
      const i = ns.interfaces.find((x) => x.name === c.dev);
      if (!i) return `Cannot find device "${c.dev}" on ${c.target}`;
      i.flags = i.flags.filter((f) => f !== 'UP' && f !== 'LOWER_UP');
      i.operstate = 'DOWN';
      // the kernel removes the routes through a downed link
      ns.routes = ns.routes.filter((r) => r.dev !== c.dev || r.table === 'local');
      return undefined;
    }
  }
}

export interface PatchedDataplane {
  dp: ClusterDataplane;
  /** Commands the kernel would have refused, with the error it prints. */
  errors: string[];
}

/**
 * The cluster data plane with `changes` applied to copies of the affected
 * namespaces (the cached model is never mutated).
 */
export function patchDataplane(base: ClusterDataplane, topology: Topology, changes: readonly NetChange[]): PatchedDataplane {
  if (changes.length === 0) return { dp: base, errors: [] };
  const nodes = new Map<string, NodeDataplane>(base.nodes);
  const pods = new Map<string, PodDataplane>(base.pods);
  const copied = new Set<string>();
  const errors: string[] = [];
  for (const c of changes) {
    let ns: NetNamespace | undefined;
    if (c.target.startsWith('node:')) {
      const name = c.target.slice(5);
      const n = nodes.get(name);
      if (!n) {
        errors.push(`${c.target}: no such node (nodes: ${[...nodes.keys()].join(', ')})`);
        continue;
      }
      if (!copied.has(c.target)) {
        nodes.set(name, cloneNs(n));
        copied.add(c.target);
      }
      ns = nodes.get(name);
    } else if (c.target.startsWith('pod:')) {
      const key = c.target.slice(4);
      const p = pods.get(key);
      if (!p) {
        errors.push(`${c.target}: no such pod namespace`);
        continue;
      }
      if (!copied.has(c.target)) {
        pods.set(key, cloneNs(p));
        copied.add(c.target);
      }
      ns = pods.get(key);
    } else {
      errors.push(`${c.target}: write node:NAME or pod:NAMESPACE/NAME`);
      continue;
    }
    const err = applyChange(ns!, c);
    if (err) errors.push(err);
  }
  const byIP = new Map<string, PodDataplane>();
  const byPeer = new Map<string, PodDataplane>();
  for (const p of topology.pods) {
    const dp = pods.get(`${p.namespace}/${p.name}`);
    if (!dp) continue;
    for (const ip of p.ips) byIP.set(ip, dp);
    byPeer.set(`${p.nodeName}/${dp.hostPeer}`, dp);
  }
  const dp: ClusterDataplane = {
    model: base.model,
    nodes,
    pods,
    podByIP: (ip) => byIP.get(ip),
    podOnInterface: (node, ifname) => byPeer.get(`${node}/${ifname}`),
    node: (name) => nodes.get(name) ?? base.node(name),
    pod: (ns, name) => pods.get(`${ns}/${name}`) ?? base.pod(ns, name),
  };
  return { dp, errors };
}

/** A change in words, for debriefs and the instructor view. */
export function describeChange(c: NetChange): string {
  switch (c.op) {
    case 'route-del':
      return `${c.target}: ip route del ${c.dst}`;
    case 'route-add':
      return `${c.target}: ip route ${c.replace ? 'replace' : 'add'} ${c.type && c.type !== 'unicast' ? `${c.type} ` : ''}${c.dst}${c.gateway ? ` via ${c.gateway}` : ''}${c.dev ? ` dev ${c.dev}` : ''}${c.protocol ? ` proto ${c.protocol}` : ''}${c.onlink ? ' onlink' : ''}`;
    case 'link-mtu':
      return `${c.target}: ip link set dev ${c.dev} mtu ${c.mtu}`;
    case 'link-down':
      return `${c.target}: ip link set dev ${c.dev} down`;
  }
}
