// iptables: the model's rules (kube-proxy's KUBE-* chains, Calico-style
// cali-* policy chains) against the node's iptables-save, chain by chain.
//
// Both sides are parsed into the netfilter model and printed back in one
// canonical iptables-save spelling, which removes what legitimately differs
// in text: counters, comment quoting (kube-proxy writes `--comment ns/svc:p`,
// iptables-save prints `"ns/svc:p"`), `--probability` with 10 decimals
// (kube-proxy) or 11 (iptables-save, from the kernel's fixed-point value),
// MARK `--or-mark`/`--xor-mark` vs `--set-xmark`, match order of generic
// options. Order is compared where it matters: SVC chains (the probabilities
// depend on it), SEP chains, Calico chains, the jumps from built-in chains.
// Where kube-proxy writes Services in Go map order (KUBE-SERVICES,
// KUBE-NODEPORTS, the filter chains) rules are compared as sets, except that
// nat KUBE-SERVICES must end with the nodeports rule.

import { parseIptablesSave, saveRuleArgs, type Rule, type Ruleset, type TableName } from '../dataplane';
import { myersDiff, multisetDiff } from './diff';
import { checkResult, failedCheck, type CheckResult, type DiffItem } from './types';

export interface IptablesCompareOptions {
  /** Chains compared (default those starting with KUBE- or cali-). Built-in chains are compared through their jumps into these. */
  chainPrefixes?: string[];
  /** Family of the real text when it has no header (default the model's). */
  family?: 4 | 6;
  explain?: (item: DiffItem) => string | undefined;
}

const BUILTIN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** Chains whose rule order kube-proxy does not fix (Services in Go map order). */
function unordered(_table: TableName, chain: string): boolean {
  return chain === 'KUBE-SERVICES' || chain === 'KUBE-NODEPORTS' || chain === 'KUBE-EXTERNAL-SERVICES' || chain === 'KUBE-PROXY-FIREWALL';
}

const NODEPORTS_COMMENT = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';

interface CRule {
  chain: string;
  /** Canonical iptables-save arguments. */
  args: string;
  rule: Rule;
}

function canon(chain: string, rule: Rule): CRule {
  return { chain, args: saveRuleArgs(rule), rule };
}

function line(r: CRule): string {
  return `-A ${r.chain}${r.args ? ` ${r.args}` : ''}`;
}

function commentOf(r: Rule): string | undefined {
  for (const m of r.matches) if (m.kind === 'comment') return m.comment;
  return undefined;
}

function jumpsInto(r: Rule, inScope: (c: string) => boolean): boolean {
  return r.target?.kind === 'jump' && inScope(r.target.chain);
}

/** Says what a missing (or extra) rule means for packets. */
export function ruleMeaning(chain: string, r: Rule, side: 'missing' | 'extra'): string {
  const comment = commentOf(r);
  const t = r.target;
  const gone = side === 'missing';
  if (t?.kind === 'DNAT') {
    return gone
      ? `traffic kube-proxy sends to ${chain} is no longer DNATed to ${t.to}${comment ? ` (${comment})` : ''}: it keeps the Service address and the endpoint never sees it`
      : `the node DNATs traffic in ${chain} to ${t.to}, which the model does not`;
  }
  if (t?.kind === 'jump' && t.chain === 'KUBE-MARK-MASQ') {
    return gone ? `packets matching it are no longer marked for masquerading${chain.startsWith('KUBE-SEP-') ? ' (a pod reaching itself through its Service fails: hairpin)' : ''}` : 'the node marks extra packets for masquerading (SNAT to the node address)';
  }
  if (t?.kind === 'jump' && t.chain.startsWith('KUBE-SEP-')) {
    const stat = r.matches.some((m) => m.kind === 'statistic');
    return gone
      ? `endpoint chain ${t.chain}${comment ? ` (${comment})` : ''} is no longer reached from ${chain}: that endpoint gets no traffic${stat ? ', and the remaining probabilities no longer split traffic evenly' : ''}`
      : `${chain} sends traffic to ${t.chain}, an endpoint the model does not have`;
  }
  if (t?.kind === 'jump' && (t.chain.startsWith('KUBE-SVC-') || t.chain.startsWith('KUBE-SVL-') || t.chain.startsWith('KUBE-EXT-') || t.chain.startsWith('KUBE-FW-'))) {
    return gone ? `${comment ? `"${comment}": ` : ''}packets to this Service address are no longer load-balanced (they leave with the Service IP as destination)` : `the node load-balances a Service address the model does not have${comment ? ` ("${comment}")` : ''}`;
  }
  if (t?.kind === 'REJECT' || t?.kind === 'DROP') {
    return gone ? `packets this rule refuses${comment ? ` ("${comment}")` : ''} are let through on the node` : `the node ${t.kind === 'DROP' ? 'drops' : 'rejects'} packets the model lets through${comment ? ` ("${comment}")` : ''}`;
  }
  if (t?.kind === 'ACCEPT') return gone ? 'packets this rule accepts go on to later rules (and may be dropped)' : 'the node accepts packets here that the model sends on to later rules';
  if (t?.kind === 'jump') return gone ? `packets no longer enter ${t.chain} from ${chain}` : `the node sends packets from ${chain} into ${t.chain}, which the model does not`;
  return gone ? 'packets matching it are no longer handled this way' : 'the node handles packets matching it, the model does not';
}

function inScopeFn(prefixes: string[]): (c: string) => boolean {
  return (c) => prefixes.some((p) => c.startsWith(p));
}

interface ChainRules {
  table: TableName;
  chain: string;
  exists: boolean;
  rules: CRule[];
}

function collect(rs: Ruleset, inScope: (c: string) => boolean): Map<string, ChainRules> {
  const out = new Map<string, ChainRules>();
  for (const [tname, t] of rs.tables) {
    for (const c of t.chains.values()) {
      if (BUILTIN.has(c.name)) {
        const rules = c.rules.filter((r) => jumpsInto(r, inScope)).map((r) => canon(c.name, r));
        out.set(`${tname} ${c.name}`, { table: tname, chain: c.name, exists: true, rules });
      } else if (inScope(c.name)) {
        out.set(`${tname} ${c.name}`, { table: tname, chain: c.name, exists: true, rules: c.rules.map((r) => canon(c.name, r)) });
      }
    }
  }
  return out;
}

function countOutside(rs: Ruleset, inScope: (c: string) => boolean): number {
  let n = 0;
  for (const t of rs.tables.values()) for (const c of t.chains.values()) if (!inScope(c.name)) n += BUILTIN.has(c.name) ? c.rules.filter((r) => !jumpsInto(r, inScope)).length : c.rules.length;
  return n;
}

/**
 * Compares a model ruleset with the node's iptables-save text. The real
 * text is parsed here; a parse error becomes one unexplained item naming the
 * line.
 */
export function compareIptables(model: Ruleset, realText: string, opts: IptablesCompareOptions = {}): CheckResult {
  let real: Ruleset;
  try {
    real = parseIptablesSave(realText, { family: opts.family ?? (/^# Generated by ip6tables/m.test(realText) ? 6 : model.family) });
  } catch (e) {
    return failedCheck('iptables', 'the node\'s iptables-save could not be read', (e as Error).message);
  }
  return compareRulesets(model, real, opts);
}

export function compareRulesets(model: Ruleset, real: Ruleset, opts: IptablesCompareOptions = {}): CheckResult {
  const prefixes = opts.chainPrefixes ?? ['KUBE-', 'cali-'];
  const inScope = inScopeFn(prefixes);
  const m = collect(model, inScope);
  const r = collect(real, inScope);
  const items: DiffItem[] = [];
  let compared = 0;
  const keys = [...new Set([...m.keys(), ...r.keys()])].sort();
  for (const key of keys) {
    const mc = m.get(key);
    const rc = r.get(key);
    const table = (mc ?? rc)!.table;
    const chain = (mc ?? rc)!.chain;
    const where = `${table} ${chain}`;
    if (mc && !rc) {
      if (BUILTIN.has(chain) && mc.rules.length === 0) continue;
      items.push({
        kind: 'missing',
        where,
        model: `:${chain} - [0:0] (${mc.rules.length} rule${mc.rules.length === 1 ? '' : 's'})`,
        explanation: BUILTIN.has(chain)
          ? `the node has no ${table} table ${chain} jumps into ${prefixes.join('/')} chains`
          : `chain ${chain} (${mc.rules.length} rule${mc.rules.length === 1 ? '' : 's'}) is missing in the ${table} table${mc.rules.length ? `: ${mc.rules.map(line).slice(0, 3).join(' | ')}${mc.rules.length > 3 ? ' …' : ''}` : ''}`,
        explained: false,
      });
      compared += mc.rules.length;
      continue;
    }
    if (rc && !mc) {
      if (BUILTIN.has(chain) && rc.rules.length === 0) continue;
      items.push({
        kind: 'extra',
        where,
        real: `:${chain} - [0:0] (${rc.rules.length} rule${rc.rules.length === 1 ? '' : 's'})`,
        explanation: `the node has chain ${chain} in the ${table} table, which the model does not${rc.rules.length ? `: ${rc.rules.map(line).slice(0, 3).join(' | ')}${rc.rules.length > 3 ? ' …' : ''}` : ''}`,
        explained: false,
      });
      continue;
    }
    const a = mc!.rules;
    const b = rc!.rules;
    compared += a.length;
    if (unordered(table, chain)) {
      const d = multisetDiff(a, b, (x) => x.args);
      for (const x of d.missing) items.push({ kind: 'missing', where, model: line(x), explanation: `rule missing on the node: ${ruleMeaning(chain, x.rule, 'missing')}`, explained: false });
      for (const x of d.extra) items.push({ kind: 'extra', where, real: line(x), explanation: `rule on the node that the model does not have: ${ruleMeaning(chain, x.rule, 'extra')}`, explained: false });
      if (table === 'nat' && chain === 'KUBE-SERVICES') {
        const lastM = a[a.length - 1];
        const lastR = b[b.length - 1];
        const isNp = (x?: CRule) => !!x && commentOf(x.rule) === NODEPORTS_COMMENT;
        if (isNp(lastM) && lastR && !isNp(lastR) && b.some(isNp)) {
          items.push({ kind: 'changed', where, model: line(lastM), real: line(lastR), explanation: 'the nodeports rule is not the last rule of nat KUBE-SERVICES: rules after it never see packets to local addresses on those ports (kube-proxy requires it last)', explained: false });
        }
      }
      continue;
    }
    const edits = myersDiff(a, b, (x) => x.args);
    const dels = edits.filter((e) => e.op === 'delete').map((e) => (e as { a: CRule }).a);
    const ins = edits.filter((e) => e.op === 'insert').map((e) => (e as { b: CRule }).b);
    // a rule both deleted and inserted moved: order differs
    const insByArgs = new Map<string, CRule[]>();
    for (const x of ins) {
      const l = insByArgs.get(x.args) ?? [];
      l.push(x);
      insByArgs.set(x.args, l);
    }
    for (const x of dels) {
      const moved = insByArgs.get(x.args);
      if (moved && moved.length) {
        moved.pop();
        const pos = (list: CRule[]) => list.findIndex((y) => y.args === x.args) + 1;
        items.push({
          kind: 'changed',
          where,
          model: `${line(x)} (rule ${pos(a)})`,
          real: `${line(x)} (rule ${pos(b)})`,
          explanation: `the rule is at another position in ${chain}: ${chain.startsWith('KUBE-SVC-') || chain.startsWith('KUBE-SVL-') ? 'the probabilities are written for the model\'s order, so the endpoints no longer get equal shares' : 'rules are evaluated in order, so a different rule may decide first'}`,
          explained: false,
        });
      } else {
        items.push({ kind: 'missing', where, model: line(x), explanation: `rule missing on the node: ${ruleMeaning(chain, x.rule, 'missing')}`, explained: false });
      }
    }
    for (const list of insByArgs.values()) {
      for (const x of list) items.push({ kind: 'extra', where, real: line(x), explanation: `rule on the node that the model does not have: ${ruleMeaning(chain, x.rule, 'extra')}`, explained: false });
    }
  }
  if (opts.explain) {
    for (const it of items) {
      if (it.explained) continue;
      const e = opts.explain(it);
      if (e) {
        it.explanation = `${it.explanation}. ${e}`;
        it.explained = true;
      }
    }
  }
  const outsideReal = countOutside(real, inScope);
  const notes: string[] = ['counters, comment quoting, --probability decimals and MARK spellings are normalised (both sides parsed and printed as iptables-save does)'];
  if (outsideReal) notes.push(`${outsideReal} node rule(s) outside ${prefixes.join('/')} chains were not compared`);
  return checkResult('iptables', items, compared, `${keys.length} chains compared (${prefixes.join(', ')} and the jumps into them from built-in chains)`, notes);
}
