// Route lookup in one namespace, as the kernel's FIB does it. Without
// policy rules beyond the kernel's defaults (`0: lookup local`, `32766:
// lookup main`) the lookup consults table local, then main; a namespace with
// its own rules (Calico WireGuard's `99: not from all fwmark … lookup 1`)
// has them walked in priority order (core/cni/rules.ts), a table without a
// match or with a `throw` route passing the lookup on to the next rule.
// Within a table the longest prefix wins; among equal prefixes the lowest
// metric. The packet walk (core/trace) uses this for every hop.

import { Cidr, PrefixTable, parseIP, type IP } from '../net';
import { isDefaultRuleSet, ruleMatches, ruleSource, ruleText, rulesOf, type RuleKeys } from './rules';
import { CniModelError, type NetInterface, type NetNamespace, type Route, type RouteTable, type RoutingRule } from './types';

export type LookupVerdict = 'local' | 'forward' | 'blackhole' | 'unreachable' | 'prohibit' | 'no-route';

export interface RouteLookup {
  verdict: LookupVerdict;
  /** The route that decided (absent for `no-route`). */
  route?: Route;
  table?: RouteTable;
  /**
   * The policy rule whose table decided, as `ip rule` prints it (a space for
   * the tab), e.g. `99: not from all fwmark 0x100000/0x100000 lookup 1`.
   * Absent when the namespace has only the kernel's default rules.
   */
  rule?: string;
  /** Output device: `lo` for local addresses, as `ip route get` reports it. */
  dev?: string;
  gateway?: string;
  /** The address the neighbour lookup resolves: the gateway, or the destination itself. */
  nexthop?: string;
  /** Source address the kernel would pick (route `src`, else an address of the output device). */
  src?: string;
  /** Route MTU (RTAX_MTU) or, without one, the output device's MTU. */
  mtu?: number;
  onlink: boolean;
  explanation: string;
}

/** What the lookup may know about the packet besides its destination (the policy rules' selectors). */
export type LookupOptions = RuleKeys;

interface TableIndex {
  local: PrefixTable<Route[]>;
  main: PrefixTable<Route[]>;
  /** Every other table, by id (`default` is 253). */
  others: Map<number, PrefixTable<Route[]>>;
  byName: Map<string, NetInterface>;
  /** Rules to walk per family; null when they are the kernel's defaults (the local-then-main fast path). */
  rules4: RoutingRule[] | null;
  rules6: RoutingRule[] | null;
}

const indexCache = new WeakMap<NetNamespace, { routes: Route[]; rules: RoutingRule[] | undefined; index: TableIndex }>();

function tableId(t: RouteTable | 'default'): 'local' | 'main' | number {
  return t === 'default' ? 253 : t === 254 ? 'main' : t === 255 ? 'local' : t;
}

function buildIndex(ns: NetNamespace): TableIndex {
  const local = new PrefixTable<Route[]>();
  const main = new PrefixTable<Route[]>();
  const others = new Map<number, PrefixTable<Route[]>>();
  for (const r of ns.routes) {
    if (r.type === 'multicast') continue;
    const id = tableId(r.table);
    let table = id === 'local' ? local : id === 'main' ? main : others.get(id);
    if (!table) others.set(id as number, (table = new PrefixTable<Route[]>()));
    const c = Cidr.parse(r.dst);
    const list = table.get(c);
    if (list) list.push(r);
    else table.insert(c, [r]);
  }
  const policy = (family: 4 | 6): RoutingRule[] | null => {
    if (!ns.rules) return null;
    const list = rulesOf(ns, family);
    return isDefaultRuleSet(list, family) ? null : list;
  };
  return { local, main, others, byName: new Map(ns.interfaces.map((i) => [i.name, i])), rules4: policy(4), rules6: policy(6) };
}

function indexFor(ns: NetNamespace): TableIndex {
  const cached = indexCache.get(ns);
  if (cached && cached.routes === ns.routes && cached.rules === ns.rules) return cached.index;
  const index = buildIndex(ns);
  indexCache.set(ns, { routes: ns.routes, rules: ns.rules, index });
  return index;
}

function best(list: Route[]): Route {
  return list.reduce((a, b) => ((b.metric ?? 0) < (a.metric ?? 0) ? b : a));
}

function sourceFor(ns: NetNamespace, idx: TableIndex, route: Route, family: 4 | 6): string | undefined {
  if (route.prefsrc) return route.prefsrc;
  const onDev = route.dev ? idx.byName.get(route.dev) : undefined;
  const global = (i: NetInterface) => i.addresses.find((a) => a.family === family && a.scope === 'global');
  const own = onDev ? global(onDev) : undefined;
  if (own) return own.local;
  // inet_select_addr(): no address on the device, so any global address of the host
  // (Calico's host-side veths carry none; the node's eth0 address is used).
  for (const i of [...ns.interfaces].sort((a, b) => a.ifindex - b.ifindex)) {
    if (i.name === 'lo') continue;
    const a = global(i);
    if (a) return a.local;
  }
  return undefined;
}

function localResult(r: Route, dst: string, idx: TableIndex, table: RouteTable = 'local'): RouteLookup {
  if (table !== 'local') {
    // A local route in another table (Cilium's `local default dev lo table 2004`, reached by
    // rule 9 for packets marked for the L7 proxy): delivered to the local stack whatever the
    // destination (`ip route get … mark 0x200` → `local … dev lo table 2004`, checked on this kernel).
    return {
      verdict: 'local',
      route: r,
      table,
      dev: r.type === 'broadcast' ? r.dev : 'lo',
      nexthop: dst,
      src: r.prefsrc ?? dst,
      mtu: idx.byName.get('lo')?.mtu,
      onlink: false,
      explanation: `${dst} matches \`${r.type} ${r.dst === '0.0.0.0/0' || r.dst === '::/0' ? 'default' : r.dst} dev ${r.dev ?? 'lo'}\` in table ${String(table)} (${r.origin}): the packet is delivered to the local stack`,
    };
  }
  return {
    verdict: 'local',
    route: r,
    table: 'local',
    dev: r.type === 'broadcast' ? r.dev : 'lo',
    nexthop: dst,
    src: r.prefsrc ?? dst,
    mtu: idx.byName.get('lo')?.mtu,
    onlink: false,
    explanation: `${dst} is ${r.type === 'local' ? 'an address of this host' : r.type === 'anycast' ? `the IPv6 subnet-router anycast address of ${r.dev}'s prefix` : 'a broadcast address'} (table local: ${r.type} ${r.dst}); the packet is delivered to the local stack`,
  };
}

/** The result of a unicast / reject route found in `table` (main, or a numbered table reached by a rule). */
function routeResult(ns: NetNamespace, idx: TableIndex, r: Route, table: RouteTable, dst: string, family: 4 | 6): RouteLookup {
  if (r.type === 'blackhole' || r.type === 'unreachable' || r.type === 'prohibit') {
    const effect =
      r.type === 'blackhole'
        ? 'the packet is silently discarded (local senders get EINVAL)'
        : r.type === 'unreachable'
          ? 'the packet is dropped and ICMP host unreachable is returned (EHOSTUNREACH)'
          : 'the packet is dropped and ICMP administratively prohibited is returned (EACCES)';
    return { verdict: r.type, route: r, table, onlink: false, explanation: `${r.type} ${r.dst} matches ${dst} (${r.origin}): ${effect}` };
  }
  const onlink = r.flags.includes('onlink');
  const dev = r.dev;
  const iface = dev ? idx.byName.get(dev) : undefined;
  const nexthop = r.gateway ?? dst;
  return {
    verdict: 'forward',
    route: r,
    table,
    dev,
    gateway: r.gateway,
    nexthop,
    src: sourceFor(ns, idx, r, family),
    mtu: r.mtu ?? iface?.mtu,
    onlink,
    explanation: r.gateway
      ? `${r.dst} via ${r.gateway} dev ${dev}${onlink ? ' onlink' : ''} is the longest match for ${dst} (${r.origin})`
      : `${r.dst} dev ${dev} is the longest match for ${dst}: the destination is directly reachable on ${dev} (${r.origin})`,
  };
}

const ruleTexts = new WeakMap<RoutingRule, string>();
function textOf(rule: RoutingRule): string {
  let t = ruleTexts.get(rule);
  if (t === undefined) ruleTexts.set(rule, (t = ruleText(rule)));
  return t;
}

/** A rule whose table did not decide: no route there (route undefined), or a throw. */
interface Passed {
  rule: RoutingRule;
  route?: Route;
}

function passedText(passed: Passed[]): string {
  return passed.map((p) => `rule ${p.rule.priority} → table ${String(p.rule.table)}: ${p.route ? `throw ${p.route.dst} (${p.route.origin})` : 'no route'}`).join('; ');
}

/** The rule walk (fib_rules_lookup) for a namespace with rules beyond the kernel's defaults. */
function policyLookup(ns: NetNamespace, idx: TableIndex, rules: RoutingRule[], ip: IP, dst: string, keys: RuleKeys): RouteLookup {
  const src = ruleSource(keys, ip.family);
  // Built into text only once the walk ends (the walk is on the packet walk's hot path).
  const passed: Passed[] = [];
  for (const rule of rules) {
    if (!ruleMatches(rule, ip, src, keys)) continue;
    const id = tableId(rule.table);
    const table = id === 'local' ? idx.local : id === 'main' ? idx.main : idx.others.get(id);
    const hit = table?.lookup(ip);
    if (!hit) {
      // A miss in table local is every non-local destination's first step: not worth saying.
      if (id !== 'local') passed.push({ rule });
      continue;
    }
    let result: RouteLookup;
    if (id === 'local') {
      const r = (ip.family === 6 ? hit.value.find((x) => x.type === 'local') : undefined) ?? best(hit.value);
      if (r.type !== 'local' && r.type !== 'broadcast' && r.type !== 'anycast') {
        if (r.type === 'throw') {
          passed.push({ rule, route: r });
          continue;
        }
        result = routeResult(ns, idx, r, 'local', dst, ip.family);
      } else result = localResult(r, dst, idx);
    } else {
      const r = best(hit.value);
      if (r.type === 'throw') {
        passed.push({ rule, route: r });
        continue;
      }
      const t = id === 'main' ? 'main' : (rule.table as RouteTable);
      result = r.type === 'local' || r.type === 'broadcast' || r.type === 'anycast' ? localResult(r, dst, idx, t) : routeResult(ns, idx, r, t, dst, ip.family);
    }
    const text = textOf(rule);
    result.rule = text;
    if (id !== 'local' || passed.length) {
      result.explanation = `policy rule "${text}" → table ${String(rule.table)}${passed.length ? ` (after ${passedText(passed)})` : ''}: ${result.explanation}`;
    }
    return result;
  }
  const tried = rules.map((r) => `${r.priority}: lookup ${String(r.table)}`).join(', ');
  return {
    verdict: 'no-route',
    onlink: false,
    explanation: `no policy rule's table has a route to ${dst} (rules ${tried}${passed.length ? `; ${passedText(passed)}` : ''}): the sender gets ENETUNREACH "Network is unreachable"`,
  };
}

/**
 * Looks `dst` up in `ns` (a node's or a pod's namespace). `opts` carries what
 * the policy rules may select on (mark, source, input / output device); a
 * namespace with only the kernel's default rules ignores it.
 * Throws CniModelError when `dst` is not an IP address.
 */
export function routeLookup(ns: NetNamespace, dst: string, opts?: LookupOptions): RouteLookup {
  const ip: IP | null = parseIP(dst);
  if (!ip) throw new CniModelError(`"${dst}" is not an IP address`, 'pass an IPv4 or IPv6 address such as 10.244.2.8');
  const idx = indexFor(ns);
  const rules = ip.family === 4 ? idx.rules4 : idx.rules6;
  if (rules) return policyLookup(ns, idx, rules, ip, dst, opts ?? {});

  const localHit = idx.local.lookup(ip);
  if (localHit) {
    // An IPv6 address can be both local (on one device) and anycast (another device's prefix): local wins.
    const r = (ip.family === 6 ? localHit.value.find((x) => x.type === 'local') : undefined) ?? best(localHit.value);
    if (r.type === 'local' || r.type === 'broadcast' || r.type === 'anycast') return localResult(r, dst, idx);
  }

  const hit = idx.main.lookup(ip);
  if (!hit) {
    return { verdict: 'no-route', onlink: false, explanation: `no route to ${dst} in table main (no default route): the sender gets ENETUNREACH "Network is unreachable"` };
  }
  const r = best(hit.value);
  if (r.type === 'throw') {
    // A throw in main with only the default rules: the next rule (32767, table default) is empty.
    return { verdict: 'no-route', route: r, table: 'main', onlink: false, explanation: `throw ${r.dst} in table main (${r.origin}) and table default is empty: the sender gets ENETUNREACH "Network is unreachable"` };
  }
  return routeResult(ns, idx, r, 'main', dst, ip.family);
}

/**
 * The source address MASQUERADE gives a packet to `dst` leaving `ns` on the
 * device its route picks (or `outDev`). IPv4 (nf_nat_masquerade_ipv4 →
 * inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE)): a global address of the
 * output device — the one whose subnet holds the next hop first, so a pod
 * hairpinned through Flannel's cni0 is masqueraded to cni0's address — else,
 * on a device without one (Calico's host veths), the first global address in
 * device order (eth0's). IPv6 (ipv6_dev_get_saddr, RFC 6724): an address of
 * the output device first, else the global address with the longest prefix in
 * common with the destination.
 */
export function masqueradeSource(ns: NetNamespace, dst: string, outDev?: string): string | undefined {
  const ip = parseIP(dst);
  if (!ip) return undefined;
  const idx = indexFor(ns);
  let dev = outDev;
  let nexthop: IP = ip;
  if (!dev) {
    const r = routeLookup(ns, dst);
    if (r.verdict !== 'forward') return undefined;
    dev = r.dev;
    nexthop = (r.nexthop ? parseIP(r.nexthop) : null) ?? ip;
  }
  const globals = (i: NetInterface | undefined) => (i ? i.addresses.filter((a) => a.family === ip.family && a.scope === 'global') : []);
  const own = globals(dev ? idx.byName.get(dev) : undefined);
  if (own.length) {
    const holding = own.find((a) => Cidr.fromIP(parseIP(a.local)!, a.prefixlen)?.contains(nexthop));
    return (holding ?? own[0]).local;
  }
  const ordered = [...ns.interfaces].sort((a, b) => a.ifindex - b.ifindex).filter((i) => i.name !== 'lo');
  if (ip.family === 4) return ordered.map((i) => globals(i)[0]).find((a) => a)?.local;
  let best: string | undefined;
  let bestLen = -1;
  for (const i of ordered) {
    for (const a of globals(i)) {
      const c = parseIP(a.local);
      if (!c || c.family !== 6) continue;
      const diff = (c.value as bigint) ^ (ip.value as bigint);
      const common = diff === 0n ? 128 : 128 - diff.toString(2).length;
      if (common > bestLen) {
        best = a.local;
        bestLen = common;
      }
    }
  }
  return best;
}

/** The interface with that name in the namespace, or undefined. */
export function interfaceByName(ns: NetNamespace, name: string): NetInterface | undefined {
  return indexFor(ns).byName.get(name);
}
