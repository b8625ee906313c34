// What iproute2 (6.1, Debian 12) prints for a modelled namespace:
// `ip route show`, `ip -j route show`, `ip route get`, `ip addr show`,
// `ip link show`, `ip neigh show` and `bridge fdb show`.
//
// Formats follow iproute2's print_route() / print_linkinfo() /
// print_addrinfo() / print_neigh() / print_fdb(): every token is printed as
// "<text> ", so most lines end with a space; the IPv6 `pref medium` token
// and an FDB entry's state end without one. The exact strings were checked
// against real output captured in core/cni/fixtures/tools.txt.

import { Cidr } from '../net';
import { routeLookup } from '../cni/routing';
import { hasPrefix, markHex, ruleLine, rulesOf } from '../cni/rules';
import type { FdbEntry, IfAddress, NetInterface, NetNamespace, Route, RoutingRule } from '../cni/types';

export interface RouteShowOptions {
  /** `main` (default, like `ip route show`), `local`, `all`, or a table id. */
  table?: 'main' | 'local' | 'all' | number;
  /** Address family; default IPv4 (`ip route show`), both for `table all`. */
  family?: 4 | 6 | 'all';
  /** `-d`: print `unicast`, protocol and scope always. */
  details?: boolean;
}

function familyFilter(opts: RouteShowOptions): (r: Route) => boolean {
  const fam = opts.family ?? (opts.table === 'all' ? 'all' : 4);
  return (r) => fam === 'all' || r.family === fam;
}

function tableFilter(opts: RouteShowOptions): (r: Route) => boolean {
  const t = opts.table ?? 'main';
  if (t === 'all') return () => true;
  return (r) => r.table === t;
}

function shownRoutes(ns: NetNamespace, opts: RouteShowOptions): Route[] {
  const f = familyFilter(opts);
  const t = tableFilter(opts);
  return ns.routes.filter((r) => f(r) && t(r));
}

/** `default`, a bare host address for /32 and /128, else the CIDR. */
export function routeDstText(r: Route): string {
  const c = Cidr.parse(r.dst);
  if (c.prefix === 0) return 'default';
  if (c.prefix === c.bits) return r.dst.slice(0, r.dst.indexOf('/'));
  return c.text;
}

interface RouteFields {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  table?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
  mtu?: number;
  pref?: string;
}

function routeFields(r: Route, opts: RouteShowOptions): RouteFields {
  const details = opts.details ?? false;
  // The table is printed when it is not main, unless the user asked for that one table
  // (`ip -d route show` leaves main out too, as captured on iproute2 6.1).
  const explicitTable = opts.table !== undefined && opts.table !== 'all' && opts.table !== 'main';
  const showTable = r.table !== 'main' && !explicitTable;
  const metric = r.family === 6 ? (r.metric ?? 1024) : r.metric ? r.metric : undefined;
  return {
    type: r.type !== 'unicast' || details ? r.type : undefined,
    dst: routeDstText(r),
    gateway: r.gateway,
    dev: r.dev,
    table: showTable ? String(r.table) : undefined,
    protocol: r.protocol !== 'boot' || details ? r.protocol : undefined,
    scope: r.scope !== 'global' || details ? r.scope : undefined,
    prefsrc: r.prefsrc,
    metric,
    flags: r.flags,
    mtu: r.mtu,
    pref: r.family === 6 ? 'medium' : undefined,
  };
}

/** One line of `ip route show`, including iproute2's trailing space. */
export function formatRouteLine(r: Route, opts: RouteShowOptions = {}): string {
  const f = routeFields(r, opts);
  let s = '';
  if (f.type) s += `${f.type} `;
  s += `${f.dst} `;
  if (f.gateway) s += `via ${f.gateway} `;
  if (f.dev) s += `dev ${f.dev} `;
  if (f.table) s += `table ${f.table} `;
  if (f.protocol) s += `proto ${f.protocol} `;
  if (f.scope) s += `scope ${f.scope} `;
  if (f.prefsrc) s += `src ${f.prefsrc} `;
  if (f.metric !== undefined) s += `metric ${f.metric} `;
  for (const flag of f.flags) s += `${flag} `;
  if (f.mtu !== undefined) s += `mtu ${f.mtu} `;
  if (f.pref) s += `pref ${f.pref}`;
  return s;
}

/** `ip route show [table …]`: one line per route, each ending in a newline. */
export function renderIpRoute(ns: NetNamespace, opts: RouteShowOptions = {}): string {
  return shownRoutes(ns, opts)
    .map((r) => `${formatRouteLine(r, opts)}\n`)
    .join('');
}

/** `ip -j route show`: one JSON array, keys in iproute2's order, `flags` always present. */
export function renderIpRouteJson(ns: NetNamespace, opts: RouteShowOptions = {}): string {
  const out = shownRoutes(ns, opts).map((r) => {
    const f = routeFields(r, opts);
    const o: Record<string, unknown> = {};
    if (f.type) o.type = f.type;
    o.dst = f.dst;
    if (f.gateway) o.gateway = f.gateway;
    if (f.dev) o.dev = f.dev;
    if (f.table) o.table = f.table;
    if (f.protocol) o.protocol = f.protocol;
    if (f.scope) o.scope = f.scope;
    if (f.prefsrc) o.prefsrc = f.prefsrc;
    if (f.metric !== undefined) o.metric = f.metric;
    o.flags = f.flags;
    if (f.mtu !== undefined) o.metrics = [{ mtu: f.mtu }];
    if (f.pref) o.pref = f.pref;
    return o;
  });
  return `${JSON.stringify(out)}\n`;
}

export interface RouteGetOptions {
  /** `mark MARK`: the firewall mark the lookup carries (policy rules with fwmark selectors see it). */
  mark?: number;
}

/**
 * `ip route get ADDRESS [mark MARK]`: the route the kernel picks, or the error iproute2
 * prints (returned with `error: true`).
 */
export function renderIpRouteGet(ns: NetNamespace, dst: string, opts: RouteGetOptions = {}): { text: string; error: boolean } {
  const r = routeLookup(ns, dst, opts.mark ? { mark: opts.mark } : undefined);
  if (dst.includes(':') && (r.verdict === 'local' || r.verdict === 'forward')) return { text: routeGet6(r, dst), error: false };
  // The reply names the table unless it is main. Without policy rules the kernel keeps table local
  // merged into main's trie, so a local address comes back as main; once a namespace has rules of
  // its own (fib_has_custom_rules, e.g. Calico WireGuard's) it prints `table local` (both checked on
  // this machine's kernel).
  const table = r.table !== undefined && r.table !== 'main' && (r.table !== 'local' || r.rule !== undefined) ? `table ${r.table} ` : '';
  // iproute2 prints a mark below 16 in decimal (`mark 7`), larger ones in hex (`mark 0x100000`).
  const mark = opts.mark ? `mark ${opts.mark >= 16 ? `0x${(opts.mark >>> 0).toString(16)}` : opts.mark} ` : '';
  switch (r.verdict) {
    case 'local': {
      const brd = r.route!.type === 'broadcast';
      return { text: `${brd ? 'broadcast' : 'local'} ${dst} dev ${r.dev} ${table}src ${r.src} ${mark}uid 0 \n    cache <${brd ? 'local,brd' : 'local'}> \n`, error: false };
    }
    case 'forward': {
      let s = `${dst} `;
      // A gateway that is one of this host's own addresses (Cilium's `via <cilium_host IP>`)
      // resolves to a host-scope next hop: the kernel does not use it as a gateway
      // (rt_uses_gateway = 0), so `ip route get` prints no `via` (checked on a real kernel).
      const gwHost = r.gateway ? `${r.gateway}/${r.gateway.includes(':') ? 128 : 32}` : undefined;
      const ownGateway = gwHost !== undefined && ns.routes.some((x) => x.table === 'local' && x.type === 'local' && x.dst === gwHost);
      if (r.gateway && !ownGateway) s += `via ${r.gateway} `;
      s += `dev ${r.dev} ${table}`;
      if (r.src) s += `src ${r.src} `;
      s += `${mark}uid 0 \n    cache `;
      if (r.route?.mtu !== undefined) s += `mtu ${r.route.mtu} `;
      return { text: `${s}\n`, error: false };
    }
    case 'blackhole':
      return { text: 'RTNETLINK answers: Invalid argument\n', error: true };
    case 'unreachable':
      return { text: 'RTNETLINK answers: No route to host\n', error: true };
    case 'prohibit':
      return { text: 'RTNETLINK answers: Permission denied\n', error: true };
    case 'no-route':
      return { text: 'RTNETLINK answers: Network is unreachable\n', error: true };
  }
}

/**
 * `ip route get` for an IPv6 destination: iproute2 prints the cloned fib6 entry
 * like a route (`from ::`, the route's protocol unless boot, `src`, the metric and
 * `pref medium`), with no `uid`/`cache` line: e.g.
 * `2001:db8::1 from :: via fe80::1 dev eth0 src 2001:db8::5 metric 1024 pref medium`
 * (checked against iproute2 6.1 on this kernel).
 */
function routeGet6(r: ReturnType<typeof routeLookup>, dst: string): string {
  const rt = r.route!;
  if (r.verdict === 'local' && r.table !== undefined && r.table !== 'local') {
    // a local route in another table (Cilium's `local default dev lo table 2004`): the source is
    // chosen on lo, so ::1 (`local 2001:db8::1 from :: dev lo table 2004 proto kernel src ::1
    // metric 1024 pref medium`, checked on this kernel)
    return `local ${dst} from :: dev lo table ${r.table} ${rt.protocol !== 'boot' ? `proto ${rt.protocol} ` : ''}src ${rt.prefsrc ?? (rt.dev === 'lo' ? '::1' : dst)} metric ${rt.metric ?? 1024} pref medium\n`;
  }
  if (r.verdict === 'local') return `${rt.type === 'anycast' ? 'anycast' : 'local'} ${dst} from :: dev lo table local proto kernel src ${r.src ?? dst} metric 0 pref medium\n`;
  let s = `${dst} from :: `;
  if (r.gateway) s += `via ${r.gateway} `;
  s += `dev ${r.dev} `;
  // IPv6 replies name every table but main (`table 1` for felix's WireGuard routes); no mark is echoed.
  if (r.table !== undefined && r.table !== 'main') s += `table ${r.table} `;
  if (rt.protocol !== 'boot') s += `proto ${rt.protocol} `;
  if (r.src) s += `src ${r.src} `;
  s += `metric ${rt.metric ?? 1024} `;
  if (rt.mtu !== undefined) s += `mtu ${rt.mtu} `;
  return `${s}pref medium\n`;
}

// ---------------------------------------------------------------- policy rules

export interface RuleShowOptions {
  /** `ip rule show` lists IPv4 rules unless asked for `-6`. */
  family?: 4 | 6;
}

/**
 * `ip [-6] rule show`: `PRIO:\tSELECTOR lookup TABLE`, tokens separated by
 * single spaces and no trailing space (iproute2 6.1 print_rule, checked on
 * this machine's kernel). A namespace without rules of its own lists the
 * kernel's defaults.
 */
export function renderIpRule(ns: NetNamespace, opts: RuleShowOptions = {}): string {
  return rulesOf(ns, opts.family ?? 4)
    .map((r) => `${ruleLine(r)}\n`)
    .join('');
}

function prefixJson(o: Record<string, unknown>, key: 'src' | 'dst', cidr: string | undefined): void {
  if (!hasPrefix(cidr)) {
    if (key === 'src') o.src = 'all';
    return;
  }
  const c = Cidr.parse(cidr!);
  o[key] = c.text.slice(0, c.text.indexOf('/'));
  if (c.prefix !== c.bits) o[`${key}len`] = c.prefix;
}

/** `ip [-6] -j rule show`: keys in iproute2's order (priority, not, src, srclen, dst, dstlen, fwmark, fwmask, iif, oif, table). */
export function renderIpRuleJson(ns: NetNamespace, opts: RuleShowOptions = {}): string {
  const out = rulesOf(ns, opts.family ?? 4).map((r: RoutingRule) => {
    const o: Record<string, unknown> = { priority: r.priority };
    if (r.not) o.not = null;
    prefixJson(o, 'src', r.from);
    prefixJson(o, 'dst', r.to);
    if (r.fwmark !== undefined) {
      o.fwmark = markHex(r.fwmark);
      const mask = (r.fwmask ?? 0xffffffff) >>> 0;
      if (mask !== 0xffffffff) o.fwmask = markHex(mask);
    }
    if (r.iif) o.iif = r.iif;
    if (r.oif) o.oif = r.oif;
    o.table = String(r.table);
    return o;
  });
  return `${JSON.stringify(out)}\n`;
}

// ---------------------------------------------------------------- links and addresses

export interface LinkShowOptions {
  /** Only this interface (`ip addr show dev X`). */
  dev?: string;
  /** `-4` / `-6` for `ip addr`. */
  family?: 4 | 6;
}

function linkSuffix(i: NetInterface): string {
  const l = i.link;
  if (!l) return '';
  if (l.kind === 'none') return '@NONE';
  if (l.kind === 'same-netns') return `@${l.name}`;
  return `@if${l.ifindex}`;
}

function firstLine(i: NetInterface, withMode: boolean): string {
  let s = `${i.ifindex}: ${i.name}${linkSuffix(i)}: <${i.flags.join(',')}> mtu ${i.mtu} qdisc ${i.qdisc} `;
  if (i.master) s += `master ${i.master} `;
  s += `state ${i.operstate} `;
  if (withMode) s += 'mode DEFAULT ';
  s += 'group default ';
  if (i.txqlen !== undefined) s += `qlen ${i.txqlen}`;
  return s;
}

function linkLine(i: NetInterface): string {
  if (i.linkType === 'none') return '    link/none ';
  let s = `    link/${i.linkType} ${i.mac} brd ${i.brd}`;
  const l = i.link;
  if (l && l.kind === 'other-netns') {
    if (l.netns) s += ` link-netns ${l.netns}`;
    else s += ` link-netnsid ${l.netnsid ?? 0}`;
  }
  return s;
}

function addrLines(i: NetInterface, a: IfAddress): string[] {
  if (a.family === 4) {
    let s = `    inet ${a.local}/${a.prefixlen} `;
    if (a.broadcast) s += `brd ${a.broadcast} `;
    s += `scope ${a.scope} ${i.name}`;
    return [s, '       valid_lft forever preferred_lft forever'];
  }
  return [`    inet6 ${a.local}/${a.prefixlen} scope ${a.scope} `, '       valid_lft forever preferred_lft forever'];
}

function shownLinks(ns: NetNamespace, opts: LinkShowOptions): NetInterface[] {
  return ns.interfaces.filter((i) => !opts.dev || i.name === opts.dev);
}

/** `ip addr show`. */
export function renderIpAddr(ns: NetNamespace, opts: LinkShowOptions = {}): string {
  const lines: string[] = [];
  for (const i of shownLinks(ns, opts)) {
    const addrs = i.addresses.filter((a) => !opts.family || a.family === opts.family);
    if (opts.family && !addrs.length) continue; // `ip -4 addr` skips links without such addresses
    lines.push(firstLine(i, false));
    if (!opts.family) lines.push(linkLine(i));
    // IPv4 addresses are printed before IPv6 ones.
    for (const a of [...addrs.filter((x) => x.family === 4), ...addrs.filter((x) => x.family === 6)]) lines.push(...addrLines(i, a));
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** `ip link show`. */
export function renderIpLink(ns: NetNamespace, opts: LinkShowOptions = {}): string {
  const lines: string[] = [];
  for (const i of shownLinks(ns, opts)) {
    lines.push(firstLine(i, true));
    lines.push(linkLine(i));
  }
  return lines.map((l) => `${l}\n`).join('');
}

/** `ip -j addr show` (the fields the model knows; lifetimes are forever). */
export function renderIpAddrJson(ns: NetNamespace, opts: LinkShowOptions = {}): string {
  const out = shownLinks(ns, opts).map((i) => {
    const o: Record<string, unknown> = { ifindex: i.ifindex };
    const l = i.link;
    if (l?.kind === 'other-netns') o.link_index = l.ifindex;
    else if (l?.kind === 'same-netns') o.link = l.name;
    else if (l?.kind === 'none') o.link = null;
    o.ifname = i.name;
    o.flags = i.flags;
    o.mtu = i.mtu;
    o.qdisc = i.qdisc;
    if (i.master) o.master = i.master;
    o.operstate = i.operstate;
    o.group = 'default';
    if (i.txqlen !== undefined) o.txqlen = i.txqlen;
    o.link_type = i.linkType;
    if (i.linkType !== 'none') {
      o.address = i.mac;
      o.broadcast = i.brd;
    }
    if (l?.kind === 'other-netns') o.link_netnsid = l.netnsid ?? 0;
    o.addr_info = i.addresses
      .filter((a) => !opts.family || a.family === opts.family)
      .map((a) => {
        const ai: Record<string, unknown> = { family: a.family === 4 ? 'inet' : 'inet6', local: a.local, prefixlen: a.prefixlen };
        if (a.broadcast) ai.broadcast = a.broadcast;
        ai.scope = a.scope;
        if (a.family === 4) ai.label = i.name;
        ai.valid_life_time = 4294967295;
        ai.preferred_life_time = 4294967295;
        return ai;
      });
    return o;
  });
  return `${JSON.stringify(out)}\n`;
}

// ---------------------------------------------------------------- neighbours and FDB

/** `ip neigh show`. */
export function renderIpNeigh(ns: NetNamespace, opts: { dev?: string } = {}): string {
  return ns.neighbours
    .filter((n) => !opts.dev || n.dev === opts.dev)
    .map((n) => {
      let s = `${n.ip} `;
      if (!opts.dev) s += `dev ${n.dev} `;
      if (n.lladdr) s += `lladdr ${n.lladdr} `;
      return `${s}${n.state} \n`;
    })
    .join('');
}

function fdbLine(e: FdbEntry, showDev: boolean): string {
  let s = `${e.mac} `;
  if (showDev) s += `dev ${e.dev} `;
  if (e.vlan !== undefined) s += `vlan ${e.vlan} `;
  if (e.dst) s += `dst ${e.dst} `;
  if (e.self) s += 'self ';
  if (e.master) s += `master ${e.master} `;
  return `${s}${e.state ?? ''}\n`;
}

/**
 * `bridge fdb show [dev X | br B]` (with `dev`, the dev token is left out, as bridge does).
 * The kernel dumps device by device in ifindex order (rtnl_fdb_dump), so the
 * entries are ordered by their device's ifindex, keeping the model's order
 * within a device (checked against the real dump by test/live/conformance).
 */
export function renderBridgeFdb(ns: NetNamespace, opts: { dev?: string; br?: string } = {}): string {
  const index = new Map(ns.interfaces.map((i) => [i.name, i.ifindex]));
  const order = (e: FdbEntry): number => index.get(e.dev) ?? Number.MAX_SAFE_INTEGER;
  return ns.fdb
    .map((e, i) => ({ e, i }))
    .sort((a, b) => order(a.e) - order(b.e) || a.i - b.i)
    .map(({ e }) => e)
    .filter((e) => (!opts.dev || e.dev === opts.dev) && (!opts.br || e.master === opts.br || e.dev === opts.br))
    .map((e) => fdbLine(e, !opts.dev))
    .join('');
}
