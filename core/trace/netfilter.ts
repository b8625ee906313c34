// A compiled netfilter evaluator: the packet walk's hot path.
//
// core/dataplane's runHook is the reference: it interprets the rule model,
// parsing addresses for every rule it meets, and scans every chain linearly.
// A node with 1,000 Services has ~1,000 rules in KUBE-SERVICES, so one hook
// costs milliseconds there. This module compiles a Ruleset once (addresses
// and CIDRs parsed, iptables-save texts cached) and indexes long chains by
// their rules' static destination address: rules whose `-d ADDR/32` cannot
// match the packet are skipped but still counted in rulesEvaluated, because
// the kernel does evaluate them (that linear cost is what the latency model
// charges). Skipped rules fail on their generic `-d` field, before any match
// extension runs, so no side effect (statistic nth, recent) is lost.
//
// Results are the same HookResult objects runHook returns — same verdicts,
// steps (with 1-based rule numbers), NAT, marks and counts; netfilter.test.ts
// checks that on many packets against runHook.

import { Cidr, type IP } from '../net';
import { parseIP } from './ipcache';
import {
  HOOK_TABLES,
  applyTarget,
  ifaceProtoMatch,
  matchOne,
  saveRule,
  type Chain,
  type EvalContext,
  type Hook,
  type HookResult,
  type MatchEnv,
  type Packet,
  type Rule,
  type Ruleset,
  type TableName,
  type TraceStep,
  type IpsetStore,
  type Verdict,
} from '../dataplane';

interface CRule {
  rule: Rule;
  chain: string;
  src?: { cidr: Cidr; neg: boolean };
  dst?: { cidr: Cidr; neg: boolean };
  /** The rule can never match (an address that does not parse, `-f`). */
  never: boolean;
  text?: string;
}

interface CChain {
  chain: Chain;
  rules: CRule[];
  /** For long chains: rule positions per static destination, and the positions without one. */
  index?: { byDst: Map<string, number[]>; generic: number[]; merged: Map<string, number[]> };
}

interface CTable {
  name: TableName;
  chains: Map<string, CChain>;
}

/** The packet fields some rule of the ruleset can read (memo keys need only these). */
export interface FieldUse {
  src: boolean;
  dst: boolean;
  sport: boolean;
  dport: boolean;
  inIface: boolean;
  outIface: boolean;
  mark: boolean;
  ct: boolean;
  tcpFlags: boolean;
  icmpType: boolean;
  /** Random statistic matches: results depend on the RandomSource. */
  random: boolean;
  /** recent matches: results depend on (and change) xt_recent state. */
  recent: boolean;
  /**
   * SNAT/MASQUERADE with --random / --random-fully: the new source port
   * depends on the packet's ports, but only when such a target fires — memo
   * users re-evaluate results that carry an SNAT instead of keying every
   * packet on its ports.
   */
  randomNat: boolean;
}

export interface CompiledRuleset {
  source: Ruleset;
  tables: Map<TableName, CTable>;
  uses: FieldUse;
}

function fieldUse(rs: Ruleset, setType?: (name: string) => string | undefined): FieldUse {
  const u: FieldUse = { src: false, dst: false, sport: false, dport: false, inIface: false, outIface: false, mark: false, ct: false, tcpFlags: false, icmpType: false, random: false, recent: false, randomNat: false };
  for (const t of rs.tables.values())
    for (const c of t.chains.values())
      for (const r of c.rules) {
        if (r.src) u.src = true;
        if (r.dst) u.dst = true;
        if (r.inIface) u.inIface = true;
        if (r.outIface) u.outIface = true;
        if (r.target?.kind === 'REDIRECT') u.inIface = true;
        // --random / --random-fully pick the NAT source port from the tuple (see FieldUse.randomNat).
        if ((r.target?.kind === 'MASQUERADE' || r.target?.kind === 'SNAT') && (r.target.random || r.target.randomFully)) u.randomNat = true;
        if (r.target?.kind === 'LOG') {
          u.inIface = u.outIface = u.src = u.dst = u.sport = u.dport = true;
        }
        for (const m of r.matches) {
          switch (m.kind) {
            case 'tcp':
            case 'udp':
            case 'sctp':
              if (m.sport) u.sport = true;
              if (m.dport) u.dport = true;
              if (m.extra) u.tcpFlags = true;
              break;
            case 'icmp':
              u.icmpType = true;
              break;
            case 'multiport':
              u.sport = u.sport || m.which !== 'dports';
              u.dport = u.dport || m.which !== 'sports';
              break;
            case 'set': {
              // What `--match-set NAME dir[,dir…]` reads depends on the set's type (core/dataplane's
              // IpSet.test): an address per address dimension, a port per port dimension, a missing
              // direction repeating the one before; a set of unknown type may read anything.
              const type = setType?.(m.name);
              const f0 = m.flags[0] ?? 'src';
              const f1 = m.flags[1] ?? f0;
              const f2 = m.flags[2] ?? f1;
              const addr = (d: 'src' | 'dst') => (d === 'src' ? (u.src = true) : (u.dst = true));
              const port = (d: 'src' | 'dst') => (d === 'src' ? (u.sport = true) : (u.dport = true));
              if (type === 'hash:ip' || type === 'hash:net') addr(f0);
              else if (type === 'bitmap:port') port(f0);
              else if (type === 'hash:ip,port') {
                addr(f0);
                port(f1);
              } else if (type === 'hash:ip,port,ip' || type === 'hash:ip,port,net') {
                addr(f0);
                port(f1);
                addr(f2);
              } else u.src = u.dst = u.sport = u.dport = true;
              break;
            }
            case 'conntrack':
            case 'state':
              u.ct = true;
              break;
            case 'mark':
              u.mark = true;
              break;
            case 'addrtype':
              if (m.srcType) u.src = true;
              if (m.dstType) u.dst = true;
              if (m.limitIfaceIn) u.inIface = true;
              if (m.limitIfaceOut) u.outIface = true;
              break;
            case 'rpfilter':
              u.src = u.inIface = u.mark = true;
              break;
            case 'statistic':
              if (m.mode === 'random') u.random = true;
              break;
            case 'recent':
              u.recent = true;
              u.src = u.dst = true;
              break;
            case 'opaque':
              u.src = u.dst = u.sport = u.dport = u.inIface = u.outIface = u.mark = u.ct = u.tcpFlags = u.icmpType = true;
              break;
          }
        }
      }
  return u;
}

/**
 * A memo key for a hook evaluation: the hook and every packet field the
 * ruleset can read. Two packets with equal keys get equal results (given the
 * same node for addrtype / MASQUERADE, and no random or recent state involved).
 * NAT targets rewrite addresses, so the addresses are always part of the key.
 */
export function hookKey(crs: CompiledRuleset, hook: Hook, p: Packet): string {
  const u = crs.uses;
  return `${hook}|${p.family}|${p.proto}|${p.src}|${p.dst}|${u.sport ? p.sport : ''}|${p.dport}|${u.inIface ? p.inIface : ''}|${u.outIface ? p.outIface : ''}|${p.mark}|${p.ctstate}|${p.ctConfirmed ? 1 : 0}|${u.ct ? `${p.ctDnat ? 1 : 0}${p.ctSnat ? 1 : 0}${(p.ctStatus ?? []).join(',')}` : ''}|${u.tcpFlags ? (p.tcpFlags ?? []).join(',') : ''}|${u.icmpType ? p.icmpType : ''}`;
}

/** Chains longer than this get a destination index. */
const INDEX_THRESHOLD = 24;

function hostKey(c: Cidr): string | null {
  return c.prefix === c.bits ? String(c.base) : null;
}

function compileChain(chain: Chain): CChain {
  const rules: CRule[] = chain.rules.map((rule) => {
    const cr: CRule = { rule, chain: chain.name, never: false };
    if (rule.src) {
      const c = Cidr.tryParse(rule.src.value);
      if (c) cr.src = { cidr: c, neg: rule.src.neg };
      else cr.never = true;
    }
    if (rule.dst) {
      const c = Cidr.tryParse(rule.dst.value);
      if (c) cr.dst = { cidr: c, neg: rule.dst.neg };
      else cr.never = true;
    }
    if (rule.fragment && !rule.fragment.neg) cr.never = true;
    return cr;
  });
  const cc: CChain = { chain, rules };
  if (rules.length > INDEX_THRESHOLD) {
    const byDst = new Map<string, number[]>();
    const generic: number[] = [];
    rules.forEach((r, i) => {
      const k = r.dst && !r.dst.neg ? hostKey(r.dst.cidr) : null;
      if (k === null) generic.push(i);
      else {
        const list = byDst.get(k);
        if (list) list.push(i);
        else byDst.set(k, [i]);
      }
    });
    cc.index = { byDst, generic, merged: new Map() };
  }
  return cc;
}

/**
 * Compiles a rule set for the walk (once per node data plane; cheap to keep).
 * `ipsets` (the sets its `-m set` rules test) lets the memo key leave out the
 * fields a set's type does not read.
 */
export function compileRuleset(rs: Ruleset, ipsets?: IpsetStore): CompiledRuleset {
  const tables = new Map<TableName, CTable>();
  for (const [name, t] of rs.tables) {
    const chains = new Map<string, CChain>();
    for (const [cn, c] of t.chains) chains.set(cn, compileChain(c));
    tables.set(name, { name, chains });
  }
  return { source: rs, tables, uses: fieldUse(rs, ipsets ? (n) => ipsets.sets.get(n)?.type : undefined) };
}

/** Candidate positions of an indexed chain for a destination (sorted). */
function candidates(cc: CChain, dst: IP | null): number[] {
  const idx = cc.index!;
  const key = dst ? String(dst.value) : '';
  let m = idx.merged.get(key);
  if (m) return m;
  const own = key ? idx.byDst.get(key) : undefined;
  if (!own) m = idx.generic;
  else {
    m = [];
    let a = 0;
    let b = 0;
    const g = idx.generic;
    while (a < g.length || b < own.length) {
      if (b >= own.length || (a < g.length && g[a] < own[b])) m.push(g[a++]);
      else m.push(own[b++]);
    }
  }
  if (idx.merged.size > 4096) idx.merged.clear();
  idx.merged.set(key, m);
  return m;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------
// Matching: core/dataplane's matchOne (one meaning for every match), with the
// packet's addresses parsed once per NAT change.

interface Env extends MatchEnv {
  res: HookResult;
  table: TableName;
  /** Parsed packet addresses, refreshed when NAT changes them. */
  srcText: string;
  src: IP | null;
  dstText: string;
  dst: IP | null;
}

function refresh(env: Env, p: Packet): void {
  if (p.src !== env.srcText) {
    env.srcText = p.src;
    env.src = parseIP(p.src);
  }
  if (p.dst !== env.dstText) {
    env.dstText = p.dst;
    env.dst = parseIP(p.dst);
  }
}

function ruleMatches(cr: CRule, p: Packet, env: Env, index: number): boolean {
  if (cr.never) return false;
  const r = cr.rule;
  if (cr.src && (!!env.src && cr.src.cidr.contains(env.src)) === cr.src.neg) return false;
  if (cr.dst && (!!env.dst && cr.dst.cidr.contains(env.dst)) === cr.dst.neg) return false;
  if (!ifaceProtoMatch(r, p)) return false;
  for (const m of r.matches) if (!matchOne(m, p, env, env.table, cr.chain, index)) return false;
  return true;
}

function textOf(cr: CRule): string {
  return cr.text ?? (cr.text = saveRule(cr.chain, cr.rule));
}

function runTable(crs: CompiledRuleset, table: TableName, hook: Hook, p: Packet, env: Env): { verdict: Verdict; rejectWith?: string } {
  const t = crs.tables.get(table)!;
  const res = env.res;
  env.table = table;
  const start = t.chains.get(hook)!;
  const stack: { chain: CChain; i: number }[] = [];
  let chain = start;
  let i = 0;
  let guard = 0;
  for (;;) {
    if (++guard > 2_000_000) throw new Error(`rule loop in table ${table} (chain ${chain.chain.name})`);
    const rules = chain.rules;
    if (chain.index && i < rules.length) {
      refresh(env, p);
      const cand = candidates(chain, env.dst);
      const k = lowerBound(cand, i);
      const next = k < cand.length ? cand[k] : rules.length;
      res.rulesEvaluated += next - i;
      i = next;
    }
    if (i >= rules.length) {
      if (stack.length === 0) {
        const verdict = start.chain.policy ?? 'ACCEPT';
        res.steps.push({ table, chain: start.chain.name, index: 0, event: 'policy', text: `policy ${verdict} of ${table}/${start.chain.name}` });
        return { verdict };
      }
      const f = stack.pop()!;
      chain = f.chain;
      i = f.i;
      continue;
    }
    const cr = rules[i];
    const index = i + 1;
    i++;
    res.rulesEvaluated++;
    refresh(env, p);
    if (!ruleMatches(cr, p, env, index)) continue;
    const step: TraceStep = { table, chain: chain.chain.name, index, event: 'match', rule: cr.rule, text: textOf(cr) };
    res.steps.push(step);
    const tg = cr.rule.target;
    if (!tg) continue;
    switch (tg.kind) {
      case 'RETURN':
        if (stack.length === 0) {
          i = rules.length;
          continue;
        }
        ({ chain, i } = stack.pop()!);
        continue;
      case 'jump': {
        const next = t.chains.get(tg.chain);
        if (!next) {
          res.notes.push(`${chain.chain.name}#${index} jumps to missing chain ${tg.chain}`);
          continue;
        }
        if (!tg.goto) stack.push({ chain, i });
        chain = next;
        i = 0;
        continue;
      }
      default: {
        const r = applyTarget(tg, p, env.ctx, res, { table, chain: step.chain, index });
        if (r) return r;
        continue;
      }
    }
  }
}

/** runHook on a compiled ruleset: every table registered at the hook, in priority order. */
export function runHookCompiled(crs: CompiledRuleset, hook: Hook, packet: Packet, ctx: EvalContext): HookResult {
  const p: Packet = { ...packet };
  const res: HookResult = { hook, verdict: 'ACCEPT', packet: p, steps: [], nat: [], rulesEvaluated: 0, logs: [], notes: [] };
  const env: Env = { ctx, res, notes: res.notes, nth: new Map(), table: 'raw', srcText: p.src, src: parseIP(p.src), dstText: p.dst, dst: parseIP(p.dst) };
  for (const table of HOOK_TABLES[hook]) {
    const t = crs.tables.get(table);
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
    const r = runTable(crs, table, hook, p, env);
    if (r.verdict !== 'ACCEPT') {
      res.verdict = r.verdict;
      res.rejectWith = r.rejectWith;
      return res;
    }
  }
  return res;
}
