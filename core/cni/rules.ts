// Policy routing rules (the RPDB, `ip rule`): the kernel's defaults, the
// selectors a rule matches on, and the text iproute2 prints for a rule.
//
// Kernel behaviour followed (net/core/fib_rules.c fib_rule_match and
// fib_rules_lookup): rules are tried in priority order; a rule matches when
// every selector it has matches (iif, oif, fwmark under its mask, then the
// family's source / destination prefixes), the whole result inverted by
// FIB_RULE_INVERT (`not`). A `lookup` rule whose table has no route for the
// destination, or whose route is a `throw`, lets the next rule be tried.
// Locally generated packets carry iif = lo (flowi_iif = LOOPBACK_IFINDEX);
// `oif` matches only when the sender bound its socket to that device.
//
// iproute2 6.1 (print_rule), checked on this machine's kernel in a scratch
// network namespace: "PRIO:\tSELECTOR ACTION" with single spaces and no
// trailing space, e.g. `99:\tnot from all fwmark 0x100000/0x100000 lookup 1`;
// a host prefix is printed without /32 (/128); `fwmark 0xM` without a mask
// when the mask is 0xffffffff; `to` only when the rule has a destination.

import { Cidr, parseIP, type IP } from '../net';
import type { RoutingRule } from './types';

const KERNEL = 'kernel: default rule (fib_default_rules_init)';

const DEFAULT_V4: readonly RoutingRule[] = Object.freeze([
  { family: 4, priority: 0, table: 'local', origin: `${KERNEL}: the local table first, so the host's own and broadcast addresses are found before any other table` },
  { family: 4, priority: 32766, table: 'main', origin: `${KERNEL}: the main table, where \`ip route\` adds routes by default` },
  { family: 4, priority: 32767, table: 'default', origin: `${KERNEL}: table default (253), empty unless an administrator fills it` },
] as RoutingRule[]);

const DEFAULT_V6: readonly RoutingRule[] = Object.freeze([
  { family: 6, priority: 0, table: 'local', origin: `${KERNEL}: the IPv6 local table first` },
  { family: 6, priority: 32766, table: 'main', origin: `${KERNEL}: the IPv6 main table (IPv6 has no 32767 "lookup default" rule)` },
] as RoutingRule[]);

/** The rules every new network namespace starts with: IPv4 0/32766/32767, IPv6 0/32766. */
export function defaultRules(family: 4 | 6): RoutingRule[] {
  return (family === 4 ? DEFAULT_V4 : DEFAULT_V6).map((r) => ({ ...r }));
}

/**
 * The namespace's rules of one family, in the order the kernel tries them:
 * its own list when it has one, else the kernel's defaults.
 */
export function rulesOf(ns: { rules?: RoutingRule[] }, family: 4 | 6): RoutingRule[] {
  if (!ns.rules) return defaultRules(family);
  return ns.rules.filter((r) => r.family === family);
}

/**
 * Merges extra rules into the kernel's defaults of both families and orders
 * them as the kernel keeps them: by priority, a rule added later after the
 * existing rules of the same priority (fib_nl_newrule).
 */
export function withDefaultRules(extra: RoutingRule[]): RoutingRule[] {
  const out: RoutingRule[] = [];
  for (const family of [4, 6] as const) {
    const list = [...defaultRules(family), ...extra.filter((r) => r.family === family)];
    // Array.prototype.sort is stable: same-priority rules keep insertion order.
    out.push(...list.sort((a, b) => a.priority - b.priority));
  }
  return out;
}

/**
 * Moves the kernel's `0: from all lookup local` rule of `family` to `priority`
 * (Cilium's NodeEnsureLocalRoutingRule: `100: from all lookup local`, added
 * before the priority-0 rule is deleted), keeping the list in the kernel's order.
 */
export function moveLocalRule(rules: readonly RoutingRule[], family: 4 | 6, priority: number, origin: string): RoutingRule[] {
  const out = rules.map((r) => (r.family === family && r.priority === 0 && r.table === 'local' && !r.not && !r.from && !r.to && r.fwmark === undefined && !r.iif && !r.oif ? { ...r, priority, origin } : r));
  const byFamily = (f: 4 | 6) => out.filter((r) => r.family === f).sort((a, b) => a.priority - b.priority);
  return [...byFamily(4), ...byFamily(6)];
}

/** True when `rules` (one family) are exactly the kernel's defaults: the lookup needs no rule walk. */
export function isDefaultRuleSet(rules: readonly RoutingRule[], family: 4 | 6): boolean {
  const d = family === 4 ? DEFAULT_V4 : DEFAULT_V6;
  if (rules.length !== d.length) return false;
  return rules.every((r, i) => r.priority === d[i].priority && r.table === d[i].table && !r.not && !r.from && !r.to && r.fwmark === undefined && !r.iif && !r.oif);
}

/** A mark or mask as iproute2 prints it (`%#x`): `0x200`, and `0` for zero (`fwmark 0/0x1`, checked on this kernel). */
export function markHex(n: number): string {
  return n >>> 0 === 0 ? '0' : `0x${(n >>> 0).toString(16)}`;
}
const hex = markHex;

/** A rule prefix the kernel keeps (a /0 is stored as no prefix: `from all`). */
export function hasPrefix(cidr: string | undefined): boolean {
  return cidr !== undefined && Cidr.parse(cidr).prefix > 0;
}

/**
 * A rule prefix as iproute2 prints it: a host prefix without its length;
 * undefined when there is none (absent, /0 or unreadable: `from all`).
 */
export function rulePrefixText(cidr: string | undefined): string | undefined {
  const c = cidr === undefined ? null : Cidr.tryParse(cidr);
  if (!c || c.prefix === 0) return undefined;
  return c.prefix === c.bits ? c.text.slice(0, c.text.indexOf('/')) : c.text;
}

/** The fwmark selector as iproute2 prints it: `fwmark 0x200/0xf00`, the mask left out when it is all ones. */
export function fwmarkText(mark: number, mask = 0xffffffff): string {
  return mask >>> 0 === 0xffffffff ? `fwmark ${hex(mark)}` : `fwmark ${hex(mark)}/${hex(mask)}`;
}

/** The table name iproute2 prints (rtnl_rttable_n2a): local, main, default or the number. */
export function tableName(t: RoutingRule['table']): string {
  return String(t);
}

/** The rule after `PRIO:\t` as `ip rule show` prints it, e.g. `not from all fwmark 0x100000/0x100000 lookup 1`. */
export function ruleSelectorText(r: RoutingRule): string {
  const parts: string[] = [];
  if (r.not) parts.push('not');
  parts.push(`from ${rulePrefixText(r.from) ?? 'all'}`);
  const to = rulePrefixText(r.to);
  if (to) parts.push(`to ${to}`);
  if (r.fwmark !== undefined) parts.push(fwmarkText(r.fwmark, r.fwmask));
  if (r.iif) parts.push(`iif ${r.iif}`);
  if (r.oif) parts.push(`oif ${r.oif}`);
  parts.push(`lookup ${tableName(r.table)}`);
  return parts.join(' ');
}

/** One line of `ip rule show` without its newline: `PRIO:\tSELECTOR lookup TABLE`. */
export function ruleLine(r: RoutingRule): string {
  return `${r.priority}:\t${ruleSelectorText(r)}`;
}

/** The rule as one readable line for explanations (a space instead of iproute2's tab). */
export function ruleText(r: RoutingRule): string {
  return `${r.priority}: ${ruleSelectorText(r)}`;
}

/** What the rules look at in a packet besides its destination. */
export interface RuleKeys {
  /** skb->mark (default 0). */
  mark?: number;
  /** Source address; default the unspecified address, as for a locally generated packet before source selection (`ip route get` without `from`). */
  src?: string;
  /** Input interface; default `lo` (a locally generated packet). */
  iif?: string;
  /** Output interface the socket is bound to; default none. */
  oif?: string;
}

/** fib_rule_match + fib4/fib6_rule_match for one packet (`src` from ruleSource). */
export function ruleMatches(r: RoutingRule, dst: IP, src: IP, keys: RuleKeys): boolean {
  let ok = true;
  if (r.iif && r.iif !== (keys.iif ?? 'lo')) ok = false;
  else if (r.oif && r.oif !== keys.oif) ok = false;
  else if (r.fwmark !== undefined && ((((keys.mark ?? 0) ^ r.fwmark) & (r.fwmask ?? 0xffffffff)) >>> 0) !== 0) ok = false;
  else if (r.from) ok = Cidr.cached(r.from).contains(src);
  if (ok && r.to) ok = Cidr.cached(r.to).contains(dst);
  return r.not ? !ok : ok;
}

const UNSPECIFIED = { 4: parseIP('0.0.0.0')!, 6: parseIP('::')! };

/** The packet's source for rule matching: `keys.src`, or the unspecified address (0.0.0.0 / ::) when absent or of the other family. */
export function ruleSource(keys: RuleKeys, family: 4 | 6): IP {
  const ip = keys.src ? parseIP(keys.src) : null;
  return ip && ip.family === family ? ip : UNSPECIFIED[family];
}
