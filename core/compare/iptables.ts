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

import { isTableName, parseIptablesSave, parseRuleArgs, renderIptablesSave, saveRuleArgs, tokenizeRuleLine, type Family, type Rule, type Ruleset, type TableName } from '../dataplane';
import { myersDiff, multisetDiff } from './diff';
import { applyExplanations, checkResult, failedCheck, type CheckResult, type DiffItem } from './types';

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
  /** The rule's arguments as the text had them (counters and `-A CHAIN` removed). */
  raw: string;
  /** 1-based line in its text. */
  line: number;
  /** Canonical iptables-save arguments (computed on demand with the full parser). */
  args?: string;
  rule?: Rule;
  /** Why the rule could not be read. */
  error?: string;
}

function line(r: CRule): string {
  const a = r.error ? r.raw : (r.args ?? r.raw);
  return `-A ${r.chain}${a ? ` ${a}` : ''}`;
}

/** Canonical form through the full parser (iptables-save spelling), cached on the rule. */
function canonical(r: CRule, family: Family): string {
  if (r.args !== undefined) return r.args;
  try {
    const rule = parseRuleArgs(
      tokenizeRuleLine(r.raw, r.line).map((x) => x.text),
      family,
    );
    r.rule = rule;
    r.args = saveRuleArgs(rule);
  } catch (e) {
    r.error = (e as Error).message;
    r.args = `\u0000unreadable ${r.raw}`;
  }
  return r.args;
}

function commentOf(r: Rule): string | undefined {
  for (const m of r.matches) if (m.kind === 'comment') return m.comment;
  return undefined;
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
  rules: CRule[];
}

interface Scanned {
  chains: Map<string, ChainRules>;
  /** Rules outside the compared chains (not compared). */
  outside: number;
  family: Family;
}

/** The `-j`/`-g` target of a rule's raw arguments (tokenised only when the text names an in-scope chain). */
function jumpTarget(raw: string, line: number): string | undefined {
  const toks = tokenizeRuleLine(raw, line).map((x) => x.text);
  for (let i = toks.length - 2; i >= 0; i--) if (toks[i] === '-j' || toks[i] === '-g' || toks[i] === '--jump' || toks[i] === '--goto') return toks[i + 1];
  return undefined;
}

/** A rule felix wrote into a built-in chain (its "cali:<hash>" comment), compared when cali- chains are. */
function felixOwned(raw: string, inScope: (c: string) => boolean): boolean {
  return inScope('cali-FORWARD') && /--comment "?cali:[\w-]{16}"?(\s|$)/.test(raw);
}

/**
 * One pass over an iptables-save text: tables, chain declarations and rules
 * (raw arguments). Throws IptablesParseError (via the full parser) for
 * structure the scanner does not accept, so the message names the line.
 */
function scanSave(text: string, inScope: (c: string) => boolean, family: Family): Scanned {
  const chains = new Map<string, ChainRules>();
  let outside = 0;
  let table: TableName | null = null;
  const n = text.length;
  let s = 0;
  let no = 0;
  while (s <= n) {
    let e = text.indexOf('\n', s);
    if (e < 0) e = n;
    no++;
    let le = e;
    if (le > s && text.charCodeAt(le - 1) === 13) le--;
    // skip blanks
    let a = s;
    while (a < le && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
    if (a < le) {
      const c = text.charCodeAt(a);
      if (c === 35 /* # */) {
        /* comment */
      } else if (c === 42 /* * */) {
        const name = text.slice(a + 1, le).trim();
        if (!isTableName(name) || table) parseIptablesSave(text, { family }); // throws with the line
        table = name as TableName;
      } else if (c === 58 /* : */ && table) {
        const sp = text.indexOf(' ', a);
        const name = text.slice(a + 1, sp < 0 || sp > le ? le : sp);
        if (BUILTIN.has(name) || inScope(name)) {
          const key = `${table} ${name}`;
          if (!chains.has(key)) chains.set(key, { table, chain: name, rules: [] });
        }
      } else if (text.startsWith('COMMIT', a) && table) {
        table = null;
      } else if (table && (c === 45 /* - */ || c === 91 /* [ */)) {
        // [p:b] -A CHAIN args
        let p = a;
        if (c === 91) {
          const close = text.indexOf('] ', p);
          if (close < 0 || close > le) parseIptablesSave(text, { family });
          p = close + 2;
        }
        if (!text.startsWith('-A ', p)) {
          // -I, -N, -X … in a save file: the full parser applies them
          return scanRuleset(parseIptablesSave(text, { family }), inScope);
        }
        p += 3;
        const sp = text.indexOf(' ', p);
        const chain = text.slice(p, sp < 0 || sp > le ? le : sp);
        const raw = sp < 0 || sp > le ? '' : text.slice(sp + 1, le).trim();
        const key = `${table} ${chain}`;
        const cr = chains.get(key);
        if (BUILTIN.has(chain)) {
          // built-in chains: the jumps into compared chains (whose names the text must contain), and
          // felix's own rules there (its "cali:" hash comment: FORWARD's appended accept and MARK)
          let jumps = false;
          if (cr) {
            for (const m of raw.matchAll(/-[jg] (\S+)/g)) if (inScope(m[1].replace(/"/g, ''))) jumps = true;
          }
          if (cr && felixOwned(raw, inScope)) cr.rules.push({ chain, raw, line: no });
          else if (jumps) {
            const tgt = jumpTarget(raw, no);
            if (tgt && inScope(tgt)) cr!.rules.push({ chain, raw, line: no });
            else outside++;
          } else outside++;
        } else if (inScope(chain)) {
          if (!cr) parseIptablesSave(text, { family }); // rule for an undeclared chain: the parser says where
          cr!.rules.push({ chain, raw, line: no });
        } else outside++;
      } else {
        parseIptablesSave(text, { family }); // throws naming the line
      }
    }
    if (e === n) break;
    s = e + 1;
  }
  if (table) parseIptablesSave(text, { family });
  return { chains, outside, family };
}

/** The same shape from an already parsed ruleset (rules printed in iptables-save form). */
function scanRuleset(rs: Ruleset, inScope: (c: string) => boolean): Scanned {
  const chains = new Map<string, ChainRules>();
  let outside = 0;
  for (const [tname, t] of rs.tables) {
    for (const c of t.chains.values()) {
      if (!BUILTIN.has(c.name) && !inScope(c.name)) {
        outside += c.rules.length;
        continue;
      }
      const rules: CRule[] = [];
      for (const r of c.rules) {
        const isJump = r.target?.kind === 'jump' && inScope(r.target.chain);
        if (BUILTIN.has(c.name) && !isJump && !felixOwned((r.args ?? []).join(' '), inScope)) {
          outside++;
          continue;
        }
        const args = saveRuleArgs(r);
        rules.push({ chain: c.name, raw: args, args, rule: r, line: 0 });
      }
      chains.set(`${tname} ${c.name}`, { table: tname, chain: c.name, rules });
    }
  }
  return { chains, outside, family: rs.family };
}

/**
 * Compares a model ruleset with the node's iptables-save text. The model is
 * printed in iptables-save form and both texts are compared chain by chain
 * (see compareIptablesText).
 */
export function compareIptables(model: Ruleset, realText: string, opts: IptablesCompareOptions = {}): CheckResult {
  return compareIptablesText(renderIptablesSave(model, { date: new Date(0) }), realText, { family: model.family, ...opts });
}

/**
 * Compares two iptables-save texts (model, node) chain by chain. Rules whose
 * text is the same on both sides pair at once; the rest go through the full
 * parser and are compared in canonical iptables-save spelling, so restore
 * input (kube-proxy's spelling) and save output compare equal when they mean
 * the same rule. A text the parser rejects becomes one unexplained item
 * naming the line.
 */
export function compareIptablesText(modelText: string, realText: string, opts: IptablesCompareOptions = {}): CheckResult {
  const prefixes = opts.chainPrefixes ?? ['KUBE-', 'cali-'];
  const inScope = inScopeFn(prefixes);
  const family: Family = opts.family ?? (/^# Generated by ip6tables/m.test(realText) ? 6 : 4);
  let m: Scanned;
  let r: Scanned;
  try {
    m = scanSave(modelText, inScope, family);
  } catch (e) {
    return failedCheck('iptables', 'the model\'s rules could not be read', (e as Error).message);
  }
  try {
    r = scanSave(realText, inScope, family);
  } catch (e) {
    return failedCheck('iptables', 'the node\'s iptables-save could not be read', (e as Error).message);
  }
  return compareScanned(m, r, prefixes, opts);
}

export function compareRulesets(model: Ruleset, real: Ruleset, opts: IptablesCompareOptions = {}): CheckResult {
  const prefixes = opts.chainPrefixes ?? ['KUBE-', 'cali-'];
  const inScope = inScopeFn(prefixes);
  return compareScanned(scanRuleset(model, inScope), scanRuleset(real, inScope), prefixes, opts);
}

function unreadable(r: CRule, where: string, side: 'model' | 'node'): DiffItem {
  return { kind: side === 'node' ? 'extra' : 'missing', where, [side === 'node' ? 'real' : 'model']: `-A ${r.chain} ${r.raw}`, explanation: `line ${r.line} of the ${side === 'node' ? "node's iptables-save" : "model's rules"} could not be read: ${r.error}`, explained: false };
}

function compareScanned(m: Scanned, r: Scanned, prefixes: string[], opts: IptablesCompareOptions): CheckResult {
  const family = r.family;
  const canon = (x: CRule) => canonical(x, family);
  const items: DiffItem[] = [];
  let compared = 0;
  const keys = [...new Set([...m.chains.keys(), ...r.chains.keys()])].sort();
  for (const key of keys) {
    const mc = m.chains.get(key);
    const rc = r.chains.get(key);
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
          : `chain ${chain} (${mc.rules.length} rule${mc.rules.length === 1 ? '' : 's'}) is missing in the ${table} table${mc.rules.length ? `: ${mc.rules.map((x) => line({ ...x, args: canon(x) })).slice(0, 3).join(' | ')}${mc.rules.length > 3 ? ' …' : ''}` : ''}`,
        explained: false,
      });
      compared += mc.rules.length;
      for (const x of mc.rules) if (x.error) items.push(unreadable(x, where, 'model'));
      continue;
    }
    if (rc && !mc) {
      if (BUILTIN.has(chain) && rc.rules.length === 0) continue;
      items.push({
        kind: 'extra',
        where,
        real: `:${chain} - [0:0] (${rc.rules.length} rule${rc.rules.length === 1 ? '' : 's'})`,
        explanation: `the node has chain ${chain} in the ${table} table, which the model does not${rc.rules.length ? `: ${rc.rules.map((x) => line({ ...x, args: canon(x) })).slice(0, 3).join(' | ')}${rc.rules.length > 3 ? ' …' : ''}` : ''}`,
        explained: false,
      });
      for (const x of rc.rules) if (x.error) items.push(unreadable(x, where, 'node'));
      continue;
    }
    const a = mc!.rules;
    const b = rc!.rules;
    compared += a.length;
    if (unordered(table, chain)) {
      // same text pairs at once; the rest is compared in canonical spelling
      const raw = multisetDiff(a, b, (x) => x.raw);
      const d = multisetDiff(raw.missing, raw.extra, canon);
      for (const x of d.missing) items.push(x.error ? unreadable(x, where, 'model') : { kind: 'missing', where, model: line(x), explanation: `rule missing on the node: ${ruleMeaning(chain, x.rule!, 'missing')}`, explained: false });
      for (const x of d.extra) items.push(x.error ? unreadable(x, where, 'node') : { kind: 'extra', where, real: line(x), explanation: `rule on the node that the model does not have: ${ruleMeaning(chain, x.rule!, 'extra')}`, explained: false });
      if (table === 'nat' && chain === 'KUBE-SERVICES' && a.length && b.length) {
        const lastM = a[a.length - 1];
        const lastR = b[b.length - 1];
        const isNp = (x: CRule) => x.raw.includes(NODEPORTS_COMMENT);
        if (isNp(lastM) && !isNp(lastR) && b.some(isNp)) {
          canon(lastM);
          canon(lastR);
          items.push({ kind: 'changed', where, model: line(lastM), real: line(lastR), explanation: 'the nodeports rule is not the last rule of nat KUBE-SERVICES: rules after it never see packets to local addresses on those ports (kube-proxy requires it last)', explained: false });
        }
      }
      continue;
    }
    // ordered: equal text → equal chain; otherwise the whole chain in canonical spelling
    if (a.length === b.length && a.every((x, i) => x.raw === b[i].raw)) continue;
    const edits = myersDiff(a, b, canon);
    const dels = edits.filter((e) => e.op === 'delete').map((e) => (e as { a: CRule }).a);
    const ins = edits.filter((e) => e.op === 'insert').map((e) => (e as { b: CRule }).b);
    const insByArgs = new Map<string, CRule[]>();
    for (const x of ins) {
      const l = insByArgs.get(canon(x)) ?? [];
      l.push(x);
      insByArgs.set(canon(x), l);
    }
    for (const x of dels) {
      const moved = insByArgs.get(canon(x));
      if (moved && moved.length && !x.error) {
        moved.pop();
        const pos = (list: CRule[]) => list.findIndex((y) => canon(y) === canon(x)) + 1;
        items.push({
          kind: 'changed',
          where,
          model: `${line(x)} (rule ${pos(a)})`,
          real: `${line(x)} (rule ${pos(b)})`,
          explanation: `the rule is at another position in ${chain}: ${chain.startsWith('KUBE-SVC-') || chain.startsWith('KUBE-SVL-') ? "the probabilities are written for the model's order, so the endpoints no longer get equal shares" : 'rules are evaluated in order, so a different rule may decide first'}`,
          explained: false,
        });
      } else {
        items.push(x.error ? unreadable(x, where, 'model') : { kind: 'missing', where, model: line(x), explanation: `rule missing on the node: ${ruleMeaning(chain, x.rule!, 'missing')}`, explained: false });
      }
    }
    for (const list of insByArgs.values()) {
      for (const x of list) items.push(x.error ? unreadable(x, where, 'node') : { kind: 'extra', where, real: line(x), explanation: `rule on the node that the model does not have: ${ruleMeaning(chain, x.rule!, 'extra')}`, explained: false });
    }
  }
  applyExplanations(items, opts.explain);
  const notes: string[] = ['counters, comment quoting, --probability decimals and MARK spellings are normalised (rules that differ in text are parsed and compared as iptables-save prints them)'];
  if (r.outside) notes.push(`${r.outside} node rule(s) outside ${prefixes.join('/')} chains were not compared`);
  return checkResult('iptables', items, compared, `${keys.length} chains compared (${prefixes.join(', ')} and the jumps into them from built-in chains)`, notes);
}
