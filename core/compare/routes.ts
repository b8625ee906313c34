// Routes: the model's routing table of a node (core/cni) against `ip route`
// / `ip -j route` from the node (core/parse). Routes are matched on what
// forwards packets — table, type, destination, gateway, device — and the
// attributes that do not change forwarding (proto, scope, src, a lone
// route's metric, onlink when the gateway is on-link anyway) are shown as
// explained differences. A missing route names the route that now catches
// its traffic instead.

import { Cidr, PrefixTable, canonicalIP, parseIP } from '../net';
import type { Route } from '../cni/types';
import { formatRouteLine } from '../render/iproute';
import { routePrefix, type RouteRecord } from '../parse/route';
import { applyExplanations, checkResult, type CheckResult, type DiffItem } from './types';

export interface NormRoute {
  table: string;
  type: string;
  /** Canonical CIDR. */
  prefix: string;
  family: 4 | 6;
  gateway?: string;
  dev?: string;
  protocol: string;
  scope: string;
  prefsrc?: string;
  metric: number;
  flags: string[];
  mtu?: number;
  /** As `ip route` prints it. */
  text: string;
}

export interface RouteCompareOptions {
  /** Compare only this table (default main, as `ip route show` prints). */
  table?: string;
  /** Compare only this family (default 4, as `ip route show` prints). */
  family?: 4 | 6;
  /**
   * Real device name → model device name (e.g. the test-bed's record of each
   * pod's host veth). Applied before comparing.
   */
  devAliases?: Record<string, string>;
  /**
   * Model pod routes: pod IP → the model's host-side veth. When the node's
   * /32 route to that pod uses another veth-like name (cali…, veth…, lxc…),
   * the routes are paired by the pod IP and the name difference is explained.
   */
  podVeths?: Record<string, string>;
  /** Extra explanations for the target (e.g. documented test-bed choices); return undefined to leave an item as it is. */
  explain?: (item: DiffItem, model?: NormRoute, real?: NormRoute) => string | undefined;
}

function prefixText(prefix: string): string {
  const c = Cidr.parse(prefix);
  if (c.prefix === 0) return 'default';
  if (c.prefix === c.bits) return prefix.slice(0, prefix.indexOf('/'));
  return c.text;
}

/** One line as `ip route` prints it (without the trailing space). */
export function routeRecordText(r: Omit<NormRoute, 'text'>): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(prefixText(r.prefix));
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.table !== 'main') parts.push(`table ${r.table}`);
  if (r.protocol !== 'boot') parts.push(`proto ${r.protocol}`);
  if (r.scope !== 'global') parts.push(`scope ${r.scope}`);
  if (r.prefsrc) parts.push(`src ${r.prefsrc}`);
  if (r.metric && !(r.family === 6 && r.metric === 1024)) parts.push(`metric ${r.metric}`);
  parts.push(...r.flags);
  if (r.mtu !== undefined) parts.push(`mtu ${r.mtu}`);
  return parts.join(' ');
}

export function normalizeModelRoute(r: Route): NormRoute {
  const n: Omit<NormRoute, 'text'> = {
    table: String(r.table),
    type: r.type,
    prefix: Cidr.parse(r.dst).text,
    family: r.family,
    gateway: r.gateway ? canonicalIP(r.gateway) : undefined,
    dev: r.dev,
    protocol: r.protocol,
    scope: r.scope,
    prefsrc: r.prefsrc,
    metric: r.metric ?? (r.family === 6 ? 1024 : 0),
    flags: [...r.flags].sort(),
    mtu: r.mtu,
  };
  return { ...n, text: formatRouteLine(r).trimEnd() };
}

const TABLE_IDS: Record<string, string> = { '254': 'main', '255': 'local', '253': 'default' };

export function normalizeRealRoute(r: RouteRecord): NormRoute | null {
  const family = r.family ?? (r.dst.includes(':') ? 6 : 4);
  const c = Cidr.tryParse(routePrefix({ dst: r.dst, family }));
  if (!c) return null;
  const mtu = r.metrics && typeof r.metrics.mtu === 'number' ? r.metrics.mtu : undefined;
  const n: Omit<NormRoute, 'text'> = {
    table: r.table ? (TABLE_IDS[r.table] ?? r.table) : 'main',
    type: r.type,
    prefix: c.text,
    family: c.family,
    gateway: r.gateway ? canonicalIP(r.gateway) : undefined,
    dev: r.dev,
    protocol: r.protocol ?? 'boot',
    scope: r.scope ?? (r.type === 'local' ? 'host' : 'global'),
    prefsrc: r.prefsrc,
    metric: r.metric ?? (c.family === 6 ? 1024 : 0),
    flags: [...r.flags].sort(),
    mtu,
  };
  return { ...n, text: routeRecordText(n) };
}

const VETH_LIKE = /^(cali|veth|lxc|vxlan|azv|eni|gke|tap)/;

interface Ctx {
  opts: RouteCompareOptions;
  realTable: PrefixTable<NormRoute[]>;
  modelTable: PrefixTable<NormRoute[]>;
  real: NormRoute[];
}

function fwdKey(r: NormRoute): string {
  return `${r.type}|${r.gateway ?? ''}|${r.dev ?? ''}`;
}

/** The device the model would use for this real route, after aliases and the pod-veth rule. */
function mappedDev(real: NormRoute, ctx: Ctx, model?: NormRoute): { dev?: string; renamed?: string } {
  const alias = real.dev ? ctx.opts.devAliases?.[real.dev] : undefined;
  if (alias) return { dev: alias, renamed: `${real.dev} is the node's name for the model's ${alias}` };
  if (model && real.dev && model.dev && real.dev !== model.dev && ctx.opts.podVeths) {
    const c = Cidr.parse(real.prefix);
    if (c.prefix === c.bits) {
      const podIP = real.prefix.slice(0, real.prefix.indexOf('/'));
      const modelVeth = ctx.opts.podVeths[podIP];
      if (modelVeth && modelVeth === model.dev && VETH_LIKE.test(real.dev)) {
        return { dev: model.dev, renamed: `host veth names differ (${real.dev} on the node, ${model.dev} in the model): the route points at the same pod ${podIP}` };
      }
    }
  }
  return { dev: real.dev };
}

/** The best route for an address in a table (LPM, then lowest metric). */
function bestRoute(table: PrefixTable<NormRoute[]>, addr: string): NormRoute | undefined {
  const ip = parseIP(addr);
  if (!ip) return undefined;
  const hit = table.lookup(ip);
  if (!hit) return undefined;
  return [...hit.value].filter((r) => r.type !== 'local').sort((a, b) => a.metric - b.metric)[0] ?? hit.value[0];
}

function firstAddress(prefix: string): string {
  return prefix.slice(0, prefix.indexOf('/'));
}

function onLinkAnyway(r: NormRoute, table: NormRoute[]): boolean {
  if (!r.gateway || !r.dev) return false;
  const gw = parseIP(r.gateway);
  if (!gw) return false;
  return table.some((x) => x !== r && x.dev === r.dev && !x.gateway && x.type === 'unicast' && Cidr.parse(x.prefix).contains(gw));
}

function pairDiffs(m: NormRoute, r: NormRoute, ctx: Ctx, groupSize: number): DiffItem[] {
  const where = `${m.table} ${prefixText(m.prefix)}`;
  const out: DiffItem[] = [];
  const { dev, renamed } = mappedDev(r, ctx, m);
  // forwarding attributes
  const fwd: string[] = [];
  if (m.type !== r.type) fwd.push(`type ${m.type} → ${r.type}`);
  if ((m.gateway ?? '') !== (r.gateway ?? '')) fwd.push(`gateway ${m.gateway ?? 'none'} → ${r.gateway ?? 'none'}`);
  if ((m.dev ?? '') !== (dev ?? '')) fwd.push(`device ${m.dev ?? 'none'} → ${r.dev ?? 'none'}`);
  if (fwd.length) {
    out.push({
      kind: 'changed',
      where,
      model: m.text,
      real: r.text,
      explanation: `packets to ${prefixText(m.prefix)} are forwarded differently: ${fwd.join(', ')}`,
      explained: false,
    });
    return out;
  }
  const soft: string[] = [];
  let hard = false;
  if (renamed) soft.push(renamed);
  if (m.protocol !== r.protocol) soft.push(`proto ${m.protocol} → ${r.protocol}: proto only records who installed the route (kernel, boot, static, bird, 80 = Calico felix), it does not change forwarding`);
  if (m.scope !== r.scope) soft.push(`scope ${m.scope} → ${r.scope}: scope does not change how packets to this prefix are forwarded (it limits which routes can serve as next hops and which addresses are picked as source)`);
  if ((m.prefsrc ?? '') !== (r.prefsrc ?? '')) soft.push(`src ${m.prefsrc ?? 'none'} → ${r.prefsrc ?? 'none'}: src only picks the source address of packets the node itself sends`);
  if (m.metric !== r.metric) {
    if (groupSize <= 1) {
      const bird = r.protocol === 'bird' ? ' (BIRD 2\'s kernel protocol installs its routes with metric 32; calico-node\'s BIRD sets none)' : '';
      soft.push(`metric ${m.metric} → ${r.metric}: metric only orders routes to the same prefix, and there is one${bird}`);
    } else {
      hard = true;
    }
  }
  const mf = m.flags.filter((f) => f !== 'linkdown');
  const rf = r.flags.filter((f) => f !== 'linkdown');
  const onlinkOnly = mf.filter((f) => f !== 'onlink').join(',') === rf.filter((f) => f !== 'onlink').join(',');
  if (mf.join(',') !== rf.join(',')) {
    if (onlinkOnly && (onLinkAnyway(r, ctx.real) || onLinkAnyway(m, ctx.real))) {
      soft.push(`flags [${mf.join(' ')}] → [${rf.join(' ')}]: onlink makes no difference because the gateway ${m.gateway} is on-link on ${m.dev} anyway`);
    } else {
      out.push({ kind: 'changed', where, model: m.text, real: r.text, explanation: `route flags differ ([${mf.join(' ')}] in the model, [${rf.join(' ')}] on the node)${onlinkOnly ? `: without onlink the gateway ${m.gateway} must be reachable on ${m.dev} by another route` : ''}`, explained: false });
    }
  }
  if (r.flags.includes('linkdown')) {
    out.push({ kind: 'changed', where, model: m.text, real: r.text, explanation: `the device ${r.dev} is down (linkdown): packets routed here are lost`, explained: false });
  }
  if ((m.mtu ?? 0) !== (r.mtu ?? 0)) {
    out.push({ kind: 'changed', where, model: m.text, real: r.text, explanation: `route MTU ${m.mtu ?? 'unset'} in the model, ${r.mtu ?? 'unset'} on the node: packets larger than the smaller one are fragmented or dropped`, explained: false });
  }
  if (hard) {
    out.push({ kind: 'changed', where, model: m.text, real: r.text, explanation: `metric ${m.metric} in the model, ${r.metric} on the node, and ${prefixText(m.prefix)} has several routes: the metric decides which one is used`, explained: false });
  }
  if (soft.length) out.push({ kind: 'changed', where, model: m.text, real: r.text, explanation: soft.join('; '), explained: true });
  return out;
}

function describeCatch(table: PrefixTable<NormRoute[]>, prefix: string, side: 'node' | 'model'): string {
  const b = bestRoute(table, firstAddress(prefix));
  if (!b) return side === 'node' ? `the node has no route for ${firstAddress(prefix)} at all: packets to it are rejected (network unreachable)` : `the model has no route for ${firstAddress(prefix)}`;
  if (b.type === 'blackhole') return `on the ${side}, packets to ${firstAddress(prefix)} now hit \`${b.text}\` and are discarded`;
  return `on the ${side}, packets to ${firstAddress(prefix)} now follow \`${b.text}\``;
}

function tableOf(routes: NormRoute[]): PrefixTable<NormRoute[]> {
  const t = new PrefixTable<NormRoute[]>();
  for (const r of routes) {
    const c = Cidr.parse(r.prefix);
    const cur = t.get(c);
    if (cur) cur.push(r);
    else t.insert(c, [r]);
  }
  return t;
}

/** Compares the model's routes of one namespace with the node's parsed `ip route` records. */
export function compareRoutes(modelRoutes: readonly Route[], realRecords: readonly RouteRecord[], opts: RouteCompareOptions = {}): CheckResult {
  const table = opts.table ?? 'main';
  const family = opts.family ?? 4;
  const model = modelRoutes.map(normalizeModelRoute).filter((r) => r.table === table && r.family === family);
  const unreadable: string[] = [];
  const real: NormRoute[] = [];
  for (const rec of realRecords) {
    const n = normalizeRealRoute(rec);
    if (!n) unreadable.push(rec.dst);
    else if (n.table === table && n.family === family) real.push(n);
  }
  const ctx: Ctx = { opts, realTable: tableOf(real), modelTable: tableOf(model), real };
  const groups = new Map<string, { m: NormRoute[]; r: NormRoute[] }>();
  const group = (r: NormRoute) => {
    const k = `${r.table}|${r.prefix}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { m: [], r: [] }));
    return g;
  };
  for (const m of model) group(m).m.push(m);
  for (const r of real) group(r).r.push(r);

  const items: DiffItem[] = [];
  for (const g of groups.values()) {
    const size = Math.max(g.m.length, g.r.length);
    const restM = [...g.m];
    const restR = [...g.r];
    const pairs: [NormRoute, NormRoute][] = [];
    // exact forwarding matches first (device names mapped)
    for (const m of g.m) {
      const i = restR.findIndex((r) => fwdKey({ ...r, dev: mappedDev(r, ctx, m).dev }) === fwdKey(m) && restM.includes(m));
      if (i >= 0) {
        pairs.push([m, restR[i]]);
        restR.splice(i, 1);
        restM.splice(restM.indexOf(m), 1);
      }
    }
    // then one-to-one leftovers of the same prefix
    while (restM.length && restR.length && restM.length === restR.length) {
      pairs.push([restM.shift()!, restR.shift()!]);
    }
    for (const [m, r] of pairs) items.push(...pairDiffs(m, r, ctx, size));
    if (size > 1 && g.m.length > 1 && g.r.length > 1) {
      // which route wins among several for the prefix
      const bestM = [...g.m].sort((a, b) => a.metric - b.metric)[0];
      const bestR = [...g.r].sort((a, b) => a.metric - b.metric)[0];
      if (fwdKey(bestM) !== fwdKey({ ...bestR, dev: mappedDev(bestR, ctx, bestM).dev })) {
        items.push({ kind: 'changed', where: `${table} ${prefixText(bestM.prefix)}`, model: bestM.text, real: bestR.text, explanation: 'a different route of the same prefix has the lowest metric, so packets take another path', explained: false });
      }
    }
    for (const m of restM) {
      items.push({ kind: 'missing', where: `${table} ${prefixText(m.prefix)}`, model: m.text, explanation: `the route \`${m.text}\` is missing on the node; ${describeCatch(ctx.realTable, m.prefix, 'node')}`, explained: false });
    }
    for (const r of restR) {
      items.push({ kind: 'extra', where: `${table} ${prefixText(r.prefix)}`, real: r.text, explanation: `the node has \`${r.text}\`, which the model does not; ${describeCatch(ctx.modelTable, r.prefix, 'model')}`, explained: false });
    }
  }
  applyExplanations(items, opts.explain);
  items.sort((a, b) => (a.where ?? '').localeCompare(b.where ?? ''));
  const notes: string[] = [];
  if (unreadable.length) notes.push(`${unreadable.length} node route(s) with unreadable destinations were ignored: ${unreadable.slice(0, 5).join(', ')}`);
  return checkResult('routes', items, Math.max(model.length, real.length), `${model.length} model routes vs ${real.length} node routes (table ${table}, IPv${family}), matched on type, destination, gateway and device`, notes);
}
