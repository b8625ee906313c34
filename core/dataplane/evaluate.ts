// Walks a packet through netfilter: hooks in kernel order, tables in priority
// order inside each hook, chains with jump/goto/RETURN and policies. Returns
// every rule that matched (table, chain, 1-based index), the verdict, NAT
// changes and marks. The nat table only sees the first packet of a connection
// (conntrack NEW); later packets follow the conntrack entry (see conntrack.ts).

import { Cidr, canonicalIP, parseIP, type IP } from '../net';
import type { IpsetStore } from './ipset';
import {
  type Chain,
  type Family,
  type Hook,
  type Match,
  type Rule,
  type Ruleset,
  type TableName,
  type Target,
  HOOK_TABLES,
  u32ToProbability,
} from './netfilter';
import { saveRule } from './iptables-save';
import { ownerMatches } from './owner';
import { fnv1a32 } from '../hash';

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

export interface Packet {
  family: Family;
  /** tcp, udp, sctp, icmp, ipv6-icmp… */
  proto: string;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  inIface?: string;
  outIface?: string;
  mark: number;
  ctstate: CtState;
  /**
   * The connection already has a conntrack entry with its NAT decided (e.g. a
   * retransmitted SYN: ctstate NEW, but nat chains are not consulted again).
   */
  ctConfirmed?: boolean;
  /** The connection's conntrack entry has DNAT / SNAT applied (for --ctstate DNAT/SNAT). */
  ctDnat?: boolean;
  ctSnat?: boolean;
  /** conntrack status names for --ctstatus (ASSURED, SEEN_REPLY, CONFIRMED, EXPECTED). */
  ctStatus?: string[];
  /**
   * Owner of the socket that sent a locally generated packet, for `-m owner`
   * (--uid-owner / --gid-owner). Undefined: no local socket (forwarded or
   * incoming packets).
   */
  uid?: number;
  gid?: number;
  /** TCP flags set on the packet (SYN, ACK, FIN, RST, PSH, URG), for --tcp-flags / --syn. */
  tcpFlags?: string[];
  icmpType?: string;
}

export interface RuleRef {
  table: TableName;
  chain: string;
  /** 1-based rule number, as `iptables -L --line-numbers` counts. */
  index: number;
}

/** Decides `-m statistic --mode random` matches. */
export interface RandomSource {
  decide(probability: number, where: RuleRef): boolean;
}

/** mulberry32: a small seeded PRNG, so a walk can be replayed. */
export function seededRandom(seed: number): RandomSource {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { decide: (p) => next() < p };
}

/** Follows the given decisions in order (statistic match i gets decisions[i]); false once they run out. */
export function scriptedRandom(decisions: readonly boolean[]): RandomSource {
  let i = 0;
  return { decide: () => (i < decisions.length ? decisions[i++] : false) };
}

export interface Outcome<R> {
  result: R;
  /** Probability of this path (product of the statistic decisions taken). */
  probability: number;
  decisions: boolean[];
}

/**
 * Runs `run` once per distinct path through the random decisions it meets and
 * returns every outcome with its probability (the probabilities sum to 1).
 */
export function enumerateOutcomes<R>(run: (rnd: RandomSource) => R, maxOutcomes = 10000): Outcome<R>[] {
  const out: Outcome<R>[] = [];
  const pending: boolean[][] = [[]];
  while (pending.length) {
    if (out.length >= maxOutcomes) throw new Error(`more than ${maxOutcomes} outcomes; narrow the packet or raise the limit`);
    const prefix = pending.pop()!;
    const decisions: boolean[] = [];
    let probability = 1;
    const branches: boolean[][] = [];
    const rnd: RandomSource = {
      decide(p) {
        const k = decisions.length;
        let d: boolean;
        if (k < prefix.length) d = prefix[k];
        else if (p <= 0) d = false;
        else if (p >= 1) d = true;
        else {
          d = true;
          branches.push([...decisions, false]);
        }
        decisions.push(d);
        probability *= d ? p : 1 - p;
        return d;
      },
    };
    const result = run(rnd);
    if (probability > 0) out.push({ result, probability, decisions });
    for (let i = branches.length - 1; i >= 0; i--) pending.push(branches[i]);
  }
  return out;
}

/** The `recent` match's lists (xt_recent): per list, per address, the times it was seen. */
export class RecentTable {
  readonly lists = new Map<string, Map<string, number[]>>();

  clone(): RecentTable {
    const c = new RecentTable();
    for (const [n, l] of this.lists) c.lists.set(n, new Map([...l].map(([k, v]) => [k, [...v]])));
    return c;
  }

  set(list: string, addr: string, now: number): void {
    let l = this.lists.get(list);
    if (!l) this.lists.set(list, (l = new Map()));
    const s = l.get(addr) ?? [];
    s.push(now);
    if (s.length > 20) s.shift(); // ip_pkt_list_tot default 20
    l.set(addr, s);
  }

  /** xt_recent check: a stamp newer than now-seconds (any when seconds is 0), counted up to hitcount. */
  check(list: string, addr: string, now: number, seconds = 0, hitcount = 0): boolean {
    const s = this.lists.get(list)?.get(addr);
    if (!s) return false;
    let hits = 0;
    for (const t of s) {
      if (seconds && t <= now - seconds) continue;
      if (!hitcount || ++hits >= hitcount) return true;
    }
    return false;
  }

  remove(list: string, addr: string): boolean {
    return this.lists.get(list)?.delete(addr) ?? false;
  }

  reap(list: string, now: number, seconds: number): void {
    const l = this.lists.get(list);
    if (!l) return;
    for (const [k, s] of l) if (s.every((t) => t <= now - seconds)) l.delete(k);
  }
}

export interface EvalContext {
  /** Whether an address is local to this node (addrtype LOCAL, the routing decision). */
  isLocal(ip: string): boolean;
  ipsets?: IpsetStore;
  /** Decides statistic matches; default: a seeded PRNG with seed 1. */
  random?: RandomSource;
  recent?: RecentTable;
  /** Seconds on the caller's clock (recent match); default 0. */
  now?: number;
  /** The address MASQUERADE picks on an outgoing interface. */
  masqueradeAddress?(outIface: string | undefined, family: Family, dst?: string): string | undefined;
  /** The address REDIRECT picks for packets arriving on an interface (undefined iface = locally generated). */
  redirectAddress?(inIface: string | undefined, family: Family): string | undefined;
  /** An address of that interface (addrtype --limit-iface-in/out); without it such matches use isLocal. */
  isLocalOn?(ip: string, iface: string | undefined): boolean;
  /**
   * The reverse-path check of `-m rpfilter`: true when a route lookup for
   * `src` (with `mark`) leaves through `inIface` (or, with `loose`, through any
   * interface).
   */
  reversePath?(src: string, inIface: string | undefined, o: { loose: boolean; mark: number }): boolean;
  /** Matches the model cannot interpret (opaque): treat as matching or not. Default: not matching. */
  opaqueMatches?: 'match' | 'nomatch';
}

export interface TraceStep extends RuleRef {
  /** `match`: a rule matched; `policy`: the built-in chain's policy decided; `skip`: a table not consulted. */
  event: 'match' | 'policy' | 'skip';
  rule?: Rule;
  /** The rule in iptables-save form (`-A CHAIN …`), or a description for policy/skip. */
  text: string;
}

export interface Endpoint {
  ip: string;
  port?: number;
}

export interface NatAction extends RuleRef {
  kind: 'DNAT' | 'SNAT' | 'MASQUERADE' | 'REDIRECT';
  before: Endpoint;
  after: Endpoint;
}

export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT' | 'QUEUE';

export interface HookResult {
  hook: Hook;
  verdict: Verdict;
  /** The packet after this hook (marks, NAT). */
  packet: Packet;
  steps: TraceStep[];
  nat: NatAction[];
  /** Rules whose matches were tested: the linear cost of iptables. */
  rulesEvaluated: number;
  rejectWith?: string;
  logs: string[];
  tproxy?: { ip: string; port: number; mark: number; mask: number };
  notes: string[];
}

// ---------------------------------------------------------------------------

function inCidr(ip: string, text: string): boolean {
  const a = parseIP(ip);
  return !!a && Cidr.cached(text).contains(a);
}

/** iptables interface names: a trailing `+` matches any suffix. */
export function ifaceMatches(pattern: string, name: string | undefined): boolean {
  const n = name ?? '';
  if (pattern.endsWith('+')) return n.startsWith(pattern.slice(0, -1));
  return n === pattern;
}

/** The `-m addrtype` types of an address (parsed when the caller has it parsed already). */
function addrType(ip: string, parsed: IP | null | undefined, ctx: EvalContext): string[] {
  const types: string[] = [];
  const a = parsed === undefined ? parseIP(ip) : parsed;
  if (!a) return types;
  const local = ctx.isLocal(ip);
  if (local) types.push('LOCAL');
  const multicast = a.family === 4 ? (a.value >>> 28) === 0xe : a.value >> 120n === 0xffn;
  const broadcast = a.family === 4 && a.value === 0xffffffff;
  if (multicast) types.push('MULTICAST');
  else if (broadcast) types.push('BROADCAST');
  else if (!local) types.push('UNICAST');
  return types;
}

function applyMask(ip: string, mask: string): string {
  const a = parseIP(ip);
  const m = parseIP(mask);
  if (!a || !m || a.family !== m.family) return canonicalIP(ip);
  if (a.family === 4) {
    const v = (a.value & (m.value as number)) >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  return canonicalIP(ip);
}

/**
 * What a match needs besides the packet: the evaluation context, the per-run
 * `-m statistic --mode nth` counters, where to put notes, and (optionally)
 * the packet's addresses already parsed. Shared by runHook and core/trace's
 * compiled evaluator, so both give every match the same meaning.
 */
export interface MatchEnv {
  ctx: EvalContext;
  nth: Map<Match, number>;
  notes: string[];
  /** The packet's parsed source/destination, when the caller keeps them (undefined: parse here). */
  src?: IP | null;
  dst?: IP | null;
}

/** One `-m` match (or protocol match) of a rule against a packet; `table/chain/index` locate the rule (1-based index). */
export function matchOne(m: Match, p: Packet, env: MatchEnv, table: TableName, chain: string, index: number): boolean {
  const { ctx } = env;
  switch (m.kind) {
    case 'comment':
    case 'nfacct':
      return true;
    case 'tcp':
    case 'udp':
    case 'sctp': {
      if (p.proto !== m.kind) return false;
      if (m.sport && ((p.sport !== undefined && p.sport >= m.sport.value.from && p.sport <= m.sport.value.to) === m.sport.neg)) return false;
      if (m.dport && ((p.dport !== undefined && p.dport >= m.dport.value.from && p.dport <= m.dport.value.to) === m.dport.neg)) return false;
      if (m.extra && m.kind === 'tcp') {
        const k = m.extra.indexOf('--tcp-flags');
        if (k >= 0) {
          const neg = m.extra[k - 1] === '!';
          const mask = m.extra[k + 1].split(',');
          const comp = m.extra[k + 2].split(',');
          const flags = p.tcpFlags ?? [];
          const ok = mask.every((f) => flags.includes(f) === comp.includes(f));
          if (ok === neg) return false;
        }
      }
      return true;
    }
    case 'icmp':
      if (p.proto !== 'icmp') return false;
      if (m.icmpType && m.icmpType.value !== 'any' && (p.icmpType === m.icmpType.value) === m.icmpType.neg) return false;
      return true;
    case 'multiport': {
      const inRanges = (port: number | undefined): boolean => port !== undefined && m.ports.some((r) => port >= r.from && port <= r.to);
      const hit = m.which === 'dports' ? inRanges(p.dport) : m.which === 'sports' ? inRanges(p.sport) : inRanges(p.sport) || inRanges(p.dport);
      return hit !== m.neg;
    }
    case 'set': {
      const r = ctx.ipsets?.test(m.name, p, m.flags);
      if (r === undefined) env.notes.push(`ipset ${m.name} does not exist (the rule ${chain}#${index} never matches)`);
      return (r ?? false) !== m.neg;
    }
    case 'conntrack': {
      if (m.ctstate) {
        const hit = m.ctstate.value.some((s) => s === p.ctstate || (s === 'DNAT' && !!p.ctDnat) || (s === 'SNAT' && !!p.ctSnat));
        if (hit === m.ctstate.neg) return false;
      }
      if (m.ctstatus) {
        const st = p.ctStatus ?? [];
        const hit = m.ctstatus.value.some((s) => st.includes(s));
        if (hit === m.ctstatus.neg) return false;
      }
      return true;
    }
    case 'state':
      return m.states.value.includes(p.ctstate) !== m.states.neg;
    case 'mark':
      return (((p.mark & m.mask) >>> 0) === (m.value >>> 0)) !== m.neg;
    case 'addrtype': {
      // --limit-iface-in/out: LOCAL means an address of that interface, not of any (when the caller can tell).
      const limit = m.limitIfaceOut ? p.outIface : m.limitIfaceIn ? p.inIface : undefined;
      const c = (m.limitIfaceOut || m.limitIfaceIn) && ctx.isLocalOn ? { ...ctx, isLocal: (ip: string) => ctx.isLocalOn!(ip, limit) } : ctx;
      if (m.srcType && addrType(p.src, env.src, c).some((t) => m.srcType!.value.includes(t)) === m.srcType.neg) return false;
      if (m.dstType && addrType(p.dst, env.dst, c).some((t) => m.dstType!.value.includes(t)) === m.dstType.neg) return false;
      return true;
    }
    case 'rpfilter': {
      // The caller answers the reverse-path lookup (a route to the source, with the mark when --validmark);
      // without one the packet is taken to come in where its source routes (the check passes).
      const local = m.acceptLocal && ctx.isLocal(p.src);
      const valid = local || (ctx.reversePath ? ctx.reversePath(p.src, p.inIface, { loose: m.loose, mark: m.validmark ? p.mark : 0 }) : true);
      if (!ctx.reversePath) env.notes.push(`rpfilter: the reverse-path lookup is not modelled here; assumed to pass (${chain}#${index})`);
      return valid !== m.invert;
    }
    case 'statistic': {
      if (m.mode === 'random') {
        const rnd = ctx.random ?? (ctx.random = seededRandom(1));
        return rnd.decide(u32ToProbability(m.probabilityU32), { table, chain, index }) !== m.neg;
      }
      const c = env.nth.get(m) ?? 0;
      env.nth.set(m, (c + 1) % Math.max(1, m.every));
      return (c === m.packet) !== m.neg;
    }
    case 'recent': {
      const table = ctx.recent ?? (ctx.recent = new RecentTable());
      const now = ctx.now ?? 0;
      const addr = applyMask(m.side === 'rsource' ? p.src : p.dst, m.mask);
      let hit: boolean;
      switch (m.op) {
        case 'set':
          table.set(m.name, addr, now);
          hit = true;
          break;
        case 'rcheck':
          hit = table.check(m.name, addr, now, m.seconds ?? 0, m.hitcount ?? 0);
          break;
        case 'update':
          hit = table.check(m.name, addr, now, m.seconds ?? 0, m.hitcount ?? 0);
          if (hit) table.set(m.name, addr, now);
          break;
        case 'remove':
          hit = table.remove(m.name, addr);
          break;
      }
      if (m.reap && m.seconds) table.reap(m.name, now, m.seconds);
      return hit !== m.neg;
    }
    case 'opaque': {
      // `-m owner` (Istio's uid-1337 rules) is evaluated; other unmodelled modules follow ctx.opaqueMatches.
      if (m.module === 'owner') {
        const hit = ownerMatches(m.args, p);
        if (hit !== undefined) return hit;
      }
      const assume = (ctx.opaqueMatches ?? 'nomatch') === 'match';
      env.notes.push(`match "-m ${m.module}" is not modelled; assumed ${assume ? 'to match' : 'not to match'} (${chain}#${index})`);
      return assume;
    }
  }
}

/** The interface and protocol parts of a rule (`-i`, `-o`, `-p`); addresses and `-m` matches are checked by the caller. */
export function ifaceProtoMatch(r: Rule, p: Packet): boolean {
  if (r.inIface && ifaceMatches(r.inIface.value, p.inIface) === r.inIface.neg) return false;
  if (r.outIface && ifaceMatches(r.outIface.value, p.outIface) === r.outIface.neg) return false;
  if (r.proto) {
    const pp = p.proto === 'icmpv6' ? 'ipv6-icmp' : p.proto;
    const rp = r.proto.value === 'icmpv6' ? 'ipv6-icmp' : r.proto.value;
    if ((rp === 'all' || pp === rp) === r.proto.neg) return false;
  }
  return true;
}

function ruleMatches(r: Rule, p: Packet, env: MatchEnv, ref: RuleRef): boolean {
  if (r.src && inCidr(p.src, r.src.value) === r.src.neg) return false;
  if (r.dst && inCidr(p.dst, r.dst.value) === r.dst.neg) return false;
  if (!ifaceProtoMatch(r, p)) return false;
  if (r.fragment && !r.fragment.neg) return false; // the model has no fragments
  for (const m of r.matches) if (!matchOne(m, p, env, ref.table, ref.chain, ref.index)) return false;
  return true;
}

/** `IP[:PORT]`, `[v6]:PORT`, bare v6, or ranges `A-B:P1-P2` (first of each range). */
export function parseNatTo(to: string, family: Family): Endpoint {
  let host = to;
  let port: string | undefined;
  if (family === 6) {
    const m = /^\[([^\]]+)\](?::(.+))?$/.exec(to);
    if (m) {
      host = m[1];
      port = m[2];
    }
  } else {
    const i = to.indexOf(':');
    if (i >= 0) {
      host = to.slice(0, i);
      port = to.slice(i + 1);
    }
  }
  host = host.split('-')[0];
  const pn = port ? Number(port.split('-')[0]) : undefined;
  return { ip: canonicalIP(host), port: pn !== undefined && Number.isFinite(pn) ? pn : undefined };
}

export type ChainResult = { verdict: Verdict; rejectWith?: string };

function runTable(rs: Ruleset, table: TableName, hook: Hook, p: Packet, ctx: EvalContext, res: HookResult, nth: Map<Match, number>): ChainResult {
  const t = rs.tables.get(table)!;
  const start = t.chains.get(hook)!;
  const stack: { chain: Chain; i: number }[] = [];
  let chain = start;
  let i = 0;
  let guard = 0;
  for (;;) {
    if (++guard > 2_000_000) throw new Error(`rule loop in table ${table} (chain ${chain.name})`);
    if (i >= chain.rules.length) {
      if (stack.length === 0) {
        const verdict = start.policy ?? 'ACCEPT';
        res.steps.push({ table, chain: start.name, index: 0, event: 'policy', text: `policy ${verdict} of ${table}/${start.name}` });
        return { verdict };
      }
      const f = stack.pop()!;
      chain = f.chain;
      i = f.i;
      continue;
    }
    const rule = chain.rules[i];
    const ref: RuleRef = { table, chain: chain.name, index: i + 1 };
    i++;
    res.rulesEvaluated++;
    if (!ruleMatches(rule, p, { ctx, notes: res.notes, nth }, ref)) continue;
    res.steps.push({ ...ref, event: 'match', rule, text: saveRule(chain.name, rule) });
    const tg = rule.target;
    if (!tg) continue;
    switch (tg.kind) {
      case 'RETURN':
        if (stack.length === 0) {
          i = chain.rules.length;
          continue;
        }
        ({ chain, i } = stack.pop()!);
        continue;
      case 'jump': {
        const next = t.chains.get(tg.chain);
        if (!next) {
          res.notes.push(`${chain.name}#${ref.index} jumps to missing chain ${tg.chain}`);
          continue;
        }
        if (!tg.goto) stack.push({ chain, i });
        chain = next;
        i = 0;
        continue;
      }
      default: {
        const r = applyTarget(tg, p, ctx, res, ref);
        if (r) return r;
        continue;
      }
    }
  }
}

/**
 * The source port NAT picks with --random / --random-fully
 * (nf_nat_l4proto_unique_tuple): ports below 1024 stay privileged (1–511 or
 * 600–1023), others land in 1024–65535. The kernel's choice is random; the
 * model's is a hash of the tuple (FNV-1a), repeatable for one connection.
 */
export function randomNatPort(p: Pick<Packet, 'proto' | 'src' | 'dst' | 'sport' | 'dport'>, newSrc: string): number {
  const h = fnv1a32(`${p.proto}|${p.src}|${p.sport}|${p.dst}|${p.dport}|${newSrc}`);
  const sport = p.sport ?? 0;
  const [min, size] = sport < 512 ? [1, 511] : sport < 1024 ? [600, 424] : [1024, 64512];
  return min + (h % size);
}

/**
 * A target that is not control flow (everything but jump/goto and RETURN),
 * applied to the packet: NAT rewrites (recorded in res.nat), marks, LOG,
 * TPROXY, NOTRACK. Returns the verdict when the target ends the table, or
 * undefined when traversal continues. Shared by runHook and core/trace.
 */
export function applyTarget(tg: Exclude<Target, { kind: 'RETURN' | 'jump' }>, p: Packet, ctx: EvalContext, res: HookResult, ref: RuleRef): ChainResult | undefined {
  switch (tg.kind) {
    case 'ACCEPT':
      return { verdict: 'ACCEPT' };
    case 'DROP':
      return { verdict: 'DROP' };
    case 'QUEUE':
      return { verdict: 'QUEUE' };
    case 'REJECT':
      return { verdict: 'REJECT', rejectWith: tg.with };
    case 'MARK':
      p.mark = ((p.mark & ~tg.mask) ^ tg.value) >>> 0;
      return undefined;
    case 'LOG':
      res.logs.push(`${tg.prefix ?? ''}IN=${p.inIface ?? ''} OUT=${p.outIface ?? ''} SRC=${p.src} DST=${p.dst} PROTO=${p.proto.toUpperCase()}${p.sport !== undefined ? ` SPT=${p.sport}` : ''}${p.dport !== undefined ? ` DPT=${p.dport}` : ''}`);
      return undefined;
    case 'DNAT':
    case 'REDIRECT': {
      const before = { ip: p.dst, port: p.dport };
      let after: Endpoint;
      if (tg.kind === 'DNAT') after = parseNatTo(tg.to, p.family);
      else {
        const ip = ctx.redirectAddress?.(p.inIface, p.family) ?? (p.family === 4 ? '127.0.0.1' : '::1');
        const port = tg.toPorts ? Number(tg.toPorts.split('-')[0]) : p.dport;
        after = { ip, port };
      }
      p.dst = after.ip;
      if (after.port !== undefined) p.dport = after.port;
      p.ctDnat = true;
      res.nat.push({ ...ref, kind: tg.kind, before, after: { ip: p.dst, port: p.dport } });
      return { verdict: 'ACCEPT' };
    }
    case 'SNAT':
    case 'MASQUERADE': {
      const before = { ip: p.src, port: p.sport };
      let ip: string | undefined;
      let port: number | undefined;
      if (tg.kind === 'SNAT') {
        const e = parseNatTo(tg.to, p.family);
        ip = e.ip;
        port = e.port;
      } else {
        ip = ctx.masqueradeAddress?.(p.outIface, p.family, p.dst);
        if (!ip) res.notes.push(`MASQUERADE: source becomes the primary address of ${p.outIface ?? 'the outgoing interface'} (not known to the model)`);
        if (tg.toPorts) port = Number(tg.toPorts.split('-')[0]);
      }
      if ((tg.random || tg.randomFully) && port === undefined && p.sport !== undefined && (p.proto === 'tcp' || p.proto === 'udp' || p.proto === 'sctp')) {
        port = randomNatPort(p, ip ?? p.src);
        res.notes.push(
          `${tg.kind} ${tg.randomFully ? '--random-fully' : '--random'}: the kernel picks the new source port ${tg.randomFully ? 'with a random number (prandom)' : 'by hashing the connection tuple with a boot-time secret'} from ${p.sport < 1024 ? (p.sport < 512 ? '1–511' : '600–1023') : '1024–65535'} instead of keeping ${p.sport}; the model derives port ${port} from the connection tuple so a walk is repeatable (a real node picks another one)`,
        );
      }
      if (ip) p.src = ip;
      if (port !== undefined) p.sport = port;
      p.ctSnat = true;
      res.nat.push({ ...ref, kind: tg.kind, before, after: { ip: p.src, port: p.sport } });
      return { verdict: 'ACCEPT' };
    }
    case 'TPROXY':
      p.mark = ((p.mark & ~tg.mask) ^ tg.value) >>> 0;
      res.tproxy = { ip: tg.onIp, port: tg.onPort, mark: tg.value, mask: tg.mask };
      return { verdict: 'ACCEPT' };
    case 'opaque':
      if (tg.name === 'NOTRACK' || (tg.name === 'CT' && tg.args.includes('--notrack'))) p.ctstate = 'UNTRACKED';
      else res.notes.push(`target ${tg.name} is not modelled; continuing (${ref.chain}#${ref.index})`);
      return undefined;
  }
}

/** Runs one hook: every table registered at it, in priority order. */
export function runHook(rs: Ruleset, hook: Hook, packet: Packet, ctx: EvalContext): HookResult {
  const p: Packet = { ...packet };
  const res: HookResult = { hook, verdict: 'ACCEPT', packet: p, steps: [], nat: [], rulesEvaluated: 0, logs: [], notes: [] };
  const nth = new Map<Match, number>();
  for (const table of HOOK_TABLES[hook]) {
    const t = rs.tables.get(table);
    if (!t || !t.chains.has(hook)) continue;
    if (table === 'nat' && (p.ctstate !== 'NEW' || p.ctConfirmed)) {
      res.steps.push({
        table,
        chain: hook,
        index: 0,
        event: 'skip',
        text:
          p.ctstate === 'UNTRACKED'
            ? `nat/${hook} skipped: the packet is untracked (raw table NOTRACK)`
            : `nat/${hook} skipped: not the first packet of the connection (conntrack ${p.ctstate}); NAT comes from the conntrack entry`,
      });
      continue;
    }
    const r = runTable(rs, table, hook, p, ctx, res, nth);
    if (r.verdict !== 'ACCEPT') {
      res.verdict = r.verdict;
      res.rejectWith = r.rejectWith;
      return res;
    }
  }
  return res;
}

export interface RouteDecision {
  /** Delivered to a local socket (INPUT) rather than forwarded. */
  local: boolean;
  outIface?: string;
}

export interface WalkResult {
  hooks: HookResult[];
  verdict: Verdict;
  packet: Packet;
  /** Where the packet ended: a local socket, forwarded out of an interface, or dropped/rejected. */
  delivered: 'local' | 'forwarded' | 'dropped';
}

/**
 * A packet arriving on an interface: PREROUTING → routing → INPUT, or
 * FORWARD → POSTROUTING. `route` is called with the packet after PREROUTING (DNAT).
 */
export function walkIncoming(rs: Ruleset, packet: Packet, ctx: EvalContext, route: (p: Packet) => RouteDecision): WalkResult {
  const hooks: HookResult[] = [];
  const pre = runHook(rs, 'PREROUTING', packet, ctx);
  hooks.push(pre);
  if (pre.verdict !== 'ACCEPT') return { hooks, verdict: pre.verdict, packet: pre.packet, delivered: 'dropped' };
  const rd = route(pre.packet);
  if (rd.local) {
    const inp = runHook(rs, 'INPUT', { ...pre.packet, outIface: undefined }, ctx);
    hooks.push(inp);
    return { hooks, verdict: inp.verdict, packet: inp.packet, delivered: inp.verdict === 'ACCEPT' ? 'local' : 'dropped' };
  }
  const fwd = runHook(rs, 'FORWARD', { ...pre.packet, outIface: rd.outIface }, ctx);
  hooks.push(fwd);
  if (fwd.verdict !== 'ACCEPT') return { hooks, verdict: fwd.verdict, packet: fwd.packet, delivered: 'dropped' };
  const post = runHook(rs, 'POSTROUTING', fwd.packet, ctx);
  hooks.push(post);
  return { hooks, verdict: post.verdict, packet: post.packet, delivered: post.verdict === 'ACCEPT' ? 'forwarded' : 'dropped' };
}

/**
 * A locally generated packet: routing → OUTPUT (→ re-route when nat/OUTPUT
 * changed the destination) → POSTROUTING.
 */
export function walkLocalOut(rs: Ruleset, packet: Packet, ctx: EvalContext, route: (p: Packet) => RouteDecision): WalkResult {
  const hooks: HookResult[] = [];
  const first = route(packet);
  const out = runHook(rs, 'OUTPUT', { ...packet, inIface: undefined, outIface: first.outIface }, ctx);
  hooks.push(out);
  if (out.verdict !== 'ACCEPT') return { hooks, verdict: out.verdict, packet: out.packet, delivered: 'dropped' };
  const rd = out.nat.length ? route(out.packet) : first;
  const post = runHook(rs, 'POSTROUTING', { ...out.packet, outIface: rd.outIface }, ctx);
  hooks.push(post);
  return { hooks, verdict: post.verdict, packet: post.packet, delivered: post.verdict !== 'ACCEPT' ? 'dropped' : rd.local ? 'local' : 'forwarded' };
}
