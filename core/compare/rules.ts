// Policy routing rules: the model's rules of a namespace (core/cni RoutingRule,
// the kernel's defaults when it has none of its own) against `ip [-6] -j rule`
// from the node (core/parse RuleRecord). Rules are paired on family, priority,
// selectors and action; what the model cannot express (uidrange, ipproto,
// ports, tos, l3mdev, suppress_*, goto, nop …) is kept and reported as such.
//
// What counts as a legitimate (explained) difference:
// - a priority change that leaves the order of the paired rules as it is (the
//   lookup walks rules in order; the numbers themselves do not matter) — e.g.
//   the local rule at 100 on a node where Cilium's agent (or an earlier Cilium
//   install) moved it, while the model keeps it at 0;
// - rules known to come from other software on the node (Tailscale's 52xx
//   rules and table 52) and rules after the main rule (they are only consulted
//   for destinations main has no route to);
// - the kernel's `32767: from all lookup default` missing or extra: table
//   default (253) is empty unless an administrator fills it;
// - `proto` (who installed the rule) never changes a lookup.
// Everything else — a missing rule, a different table, a node rule before
// main that the model does not have, a detached device — is unexplained.

import type { RoutingRule } from '../cni/types';
import { fwmarkText, rulePrefixText, rulesOf } from '../cni/rules';
import { Cidr } from '../net';
import type { RuleRecord } from '../parse/rule';
import { applyExplanations, checkResult, type CheckResult, type DiffItem } from './types';

const TABLE_NAMES: Record<string, string> = { '253': 'default', '254': 'main', '255': 'local' };

/** A table as compared: `local`, `main`, `default`, a number as text, or a name from the node's rt_tables. */
export function ruleTableName(t: string | number): string {
  const s = String(t);
  return TABLE_NAMES[s] ?? s;
}

function range(r: { start: number; end: number }): string {
  return r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
}

/** The rule's selectors (no priority, no action) in iproute2's order and spelling. */
function selectorText(r: RuleRecord): string {
  const p: string[] = [];
  if (r.not) p.push('not');
  p.push(`from ${rulePrefixText(r.from) ?? 'all'}`);
  const to = rulePrefixText(r.to);
  if (to) p.push(`to ${to}`);
  if (r.tos !== undefined) p.push(`tos ${r.tos}`);
  if (r.fwmark !== undefined) p.push(fwmarkText(r.fwmark, r.fwmask));
  if (r.iif) p.push(`iif ${r.iif}`);
  if (r.oif) p.push(`oif ${r.oif}`);
  if (r.uidrange) p.push(`uidrange ${r.uidrange.start}-${r.uidrange.end}`);
  if (r.ipproto !== undefined) p.push(`ipproto ${r.ipproto}`);
  if (r.sport) p.push(`sport ${range(r.sport)}`);
  if (r.dport) p.push(`dport ${range(r.dport)}`);
  if (r.tunId !== undefined) p.push(`tun_id ${r.tunId}`);
  if (r.extra?.length) p.push(...r.extra);
  return p.join(' ');
}

/** What the rule does, in iproute2's spelling. */
function actionText(r: RuleRecord): string {
  const p: string[] = [];
  if (r.action === 'lookup') {
    p.push(r.l3mdev ? 'lookup [l3mdev-table]' : `lookup ${r.table === undefined ? '?' : ruleTableName(r.table)}`);
    if (r.suppressPrefixlength !== undefined) p.push(`suppress_prefixlength ${r.suppressPrefixlength}`);
    if (r.suppressIfgroup !== undefined) p.push(`suppress_ifgroup ${r.suppressIfgroup}`);
  }
  if (r.realms !== undefined) p.push(`realms ${r.realms}`);
  if (r.action === 'goto') p.push(`goto ${r.goto}`);
  else if (r.action !== 'lookup') p.push(r.action);
  return p.join(' ');
}

/** One rule as `ip rule` prints it, with a space after the colon: `9: from all fwmark 0x200/0xf00 lookup 2004`. */
export function ruleRecordText(r: RuleRecord): string {
  return `${r.priority}: ${selectorText(r)} ${actionText(r)}`;
}

/** The model's rule as the record `ip -j rule` would give for it. */
export function modelRuleRecord(r: RoutingRule): RuleRecord {
  const rec: RuleRecord = { line: 0, family: r.family, priority: r.priority, not: !!r.not, action: 'lookup', table: ruleTableName(r.table) };
  const from = r.from && Cidr.tryParse(r.from);
  const to = r.to && Cidr.tryParse(r.to);
  if (from && from.prefix > 0) rec.from = from.text;
  if (to && to.prefix > 0) rec.to = to.text;
  if (r.fwmark !== undefined) {
    rec.fwmark = r.fwmark >>> 0;
    if (r.fwmask !== undefined && r.fwmask >>> 0 !== 0xffffffff) rec.fwmask = r.fwmask >>> 0;
  }
  if (r.iif) rec.iif = r.iif;
  if (r.oif) rec.oif = r.oif;
  return rec;
}

/** The selectors and actions of a node's rule the model's RoutingRule cannot hold, in iproute2's words. */
export function unsupportedSelectors(r: RuleRecord): string[] {
  const out: string[] = [];
  if (r.tos !== undefined) out.push(`tos ${r.tos}`);
  if (r.uidrange) out.push(`uidrange ${r.uidrange.start}-${r.uidrange.end}`);
  if (r.ipproto !== undefined) out.push(`ipproto ${r.ipproto}`);
  if (r.sport) out.push(`sport ${range(r.sport)}`);
  if (r.dport) out.push(`dport ${range(r.dport)}`);
  if (r.tunId !== undefined) out.push(`tun_id ${r.tunId}`);
  if (r.l3mdev) out.push('l3mdev');
  if (r.suppressPrefixlength !== undefined) out.push(`suppress_prefixlength ${r.suppressPrefixlength}`);
  if (r.suppressIfgroup !== undefined) out.push(`suppress_ifgroup ${r.suppressIfgroup}`);
  if (r.realms !== undefined) out.push(`realms ${r.realms}`);
  if (r.action !== 'lookup') out.push(r.action === 'goto' ? `goto ${r.goto}` : r.action);
  if (r.action === 'lookup' && !r.l3mdev && r.table !== undefined) {
    const t = ruleTableName(r.table);
    if (!['local', 'main', 'default'].includes(t) && !/^\d+$/.test(t)) out.push(`lookup ${t} (a table name from the node's rt_tables)`);
  }
  if (r.extra?.length) out.push(...r.extra);
  return out;
}

/**
 * The node's rule as the model's RoutingRule, or null with what the model
 * cannot express (for the round trip and for importing a node's rules).
 */
export function ruleRecordToModel(r: RuleRecord, origin = `the node's ip rule, line ${r.line}`): { rule: RoutingRule | null; unsupported: string[] } {
  const unsupported = unsupportedSelectors(r);
  if (unsupported.length || r.table === undefined) return { rule: null, unsupported: r.table === undefined && !unsupported.length ? ['a rule without a table'] : unsupported };
  const t = ruleTableName(r.table);
  const table: RoutingRule['table'] = t === 'local' || t === 'main' || t === 'default' ? t : Number(t);
  const rule: RoutingRule = { family: r.family, priority: r.priority, table, origin };
  if (r.not) rule.not = true;
  if (r.from) rule.from = r.from;
  if (r.to) rule.to = r.to;
  if (r.fwmark !== undefined) {
    rule.fwmark = r.fwmark;
    if (r.fwmask !== undefined) rule.fwmask = r.fwmask;
  }
  if (r.iif) rule.iif = r.iif;
  if (r.oif) rule.oif = r.oif;
  return { rule, unsupported: [] };
}

export interface RuleCompareOptions {
  /** Compare only this family (default 4, as `ip rule show` prints). */
  family?: 4 | 6;
  /** Extra explanations for the target; return undefined to leave an item as it is. */
  explain?: (item: DiffItem) => string | undefined;
}

interface Side {
  rec: RuleRecord;
  sel: string;
  act: string;
  text: string;
  /** The model rule's origin (who installs it and why). */
  origin?: string;
}

function side(rec: RuleRecord, origin?: string): Side {
  return { rec, sel: selectorText(rec), act: actionText(rec), text: ruleRecordText(rec), origin };
}

const isLocalRule = (s: Side) => s.sel === 'from all' && s.act === 'lookup local';
const isDefaultTableRule = (s: Side) => s.sel === 'from all' && s.act === 'lookup default';

/** Known rules of other software on a node, by their shape. */
function otherSoftware(s: Side): string | undefined {
  const r = s.rec;
  // tailscaled (net/routetable, wgengine/router): priorities 5210-5270, table 52, fwmark 0x80000/0xff0000
  if (r.priority >= 5200 && r.priority <= 5299 && (r.table === '52' || (r.fwmark === 0x80000 && r.fwmask === 0xff0000))) return 'tailscaled\'s policy rules (priorities 52xx, table 52 / its bypass mark 0x80000/0xff0000)';
  return undefined;
}

function selWhat(s: Side): string {
  return s.sel === 'from all' ? 'every packet' : `packets matching \`${s.sel}\``;
}

function actWhat(s: Side): string {
  return s.rec.action === 'lookup' ? `look in table ${s.rec.l3mdev ? '[l3mdev-table]' : ruleTableName(s.rec.table ?? '?')}` : `get \`${s.act}\``;
}

function what(s: Side): string {
  return `${selWhat(s)} ${actWhat(s)}`;
}

/** Compares the model's rules of one namespace with the node's parsed `ip rule` records. */
export function compareRules(ns: { rules?: RoutingRule[] }, realRecords: readonly RuleRecord[], opts: RuleCompareOptions = {}): CheckResult {
  const family = opts.family ?? 4;
  const model = rulesOf(ns, family).map((r) => side(modelRuleRecord(r), r.origin));
  const real = realRecords.filter((r) => r.family === family).map((r) => side(r));
  const items: DiffItem[] = [];
  const fam = family === 6 ? 'IPv6' : 'IPv4';
  const pairs: [Side, Side][] = [];
  let restM = [...model];
  let restR = [...real];
  // Pairs by a key, first come first served on both sides (hash lookups: nodes with per-pod rules have thousands).
  const take = (key: (s: Side) => string) => {
    const byKey = new Map<string, Side[]>();
    for (const r of restR) {
      const k = key(r);
      const l = byKey.get(k);
      if (l) l.push(r);
      else byKey.set(k, [r]);
    }
    const used = new Set<Side>();
    const leftM: Side[] = [];
    for (const m of restM) {
      const r = byKey.get(key(m))?.shift();
      if (r) {
        pairs.push([m, r]);
        used.add(r);
      } else leftM.push(m);
    }
    restM = leftM;
    restR = restR.filter((r) => !used.has(r));
  };
  // same priority, selectors and action; then the same rule at another priority; then same priority and selectors
  take((x) => `${x.rec.priority}|${x.sel}|${x.act}`);
  take((x) => `${x.sel}|${x.act}`);
  take((x) => `${x.rec.priority}|${x.sel}`);

  // The lookup depends on the order of the rules, not their numbers: a moved rule is harmless when
  // the paired rules keep their order and no unpaired node rule lands between its two positions.
  const modelPos = new Map(model.map((m, i) => [m, i]));
  const byModel = [...pairs].sort((a, b) => a[0].rec.priority - b[0].rec.priority || modelPos.get(a[0])! - modelPos.get(b[0])!);
  const realPos = new Map(real.map((r, i) => [r, i]));
  const byReal = [...pairs].sort((a, b) => a[1].rec.priority - b[1].rec.priority || realPos.get(a[1])! - realPos.get(b[1])!);
  const sameOrder = byModel.every((p, i) => p === byReal[i]);
  for (const [m, r] of pairs) {
    const where = `${fam} rule ${m.rec.priority}`;
    if (m.act !== r.act) {
      items.push({ kind: 'changed', where, model: m.text, real: r.text, explanation: `${selWhat(m)} ${actWhat(m)} in the model but ${actWhat(r)} on the node: they are routed differently${m.origin ? ` (model: ${m.origin})` : ''}`, explained: false });
      continue;
    }
    if (m.rec.priority !== r.rec.priority) {
      const lo = Math.min(m.rec.priority, r.rec.priority);
      const hi = Math.max(m.rec.priority, r.rec.priority);
      // (inclusive: a node rule at either end's priority may now be tried before or after it)
      const between = restR.filter((x) => x.rec.priority >= lo && x.rec.priority <= hi);
      const harmless = sameOrder && between.length === 0;
      const local = isLocalRule(m)
        ? r.rec.priority === 100
          ? ' (priority 100 is where Cilium\'s agent moves the local rule — NodeEnsureLocalRoutingRule — to make room for its own rules; on a node that is not running Cilium it is left over from an earlier Cilium install or set by an administrator)'
          : m.rec.priority === 100
            ? ' (the model has Cilium\'s agent move it to 100; the node keeps the kernel\'s 0: is the L7 proxy disabled there, or the agent not started?)'
            : ''
        : '';
      items.push({
        kind: 'changed',
        where,
        model: m.text,
        real: r.text,
        explanation: harmless
          ? `the rule is at priority ${r.rec.priority} on the node, ${m.rec.priority} in the model${local}; the rules keep the same order and nothing sits between the two positions, so every lookup walks them the same way`
          : `the rule is at priority ${r.rec.priority} on the node, ${m.rec.priority} in the model${local}, and that changes which rule is tried first${between.length ? ` (the node's \`${between[0].text}\` now comes ${r.rec.priority > m.rec.priority ? 'before' : 'after'} it)` : ''}`,
        explained: harmless,
      });
    }
    for (const [k, dev] of [['iif', r.rec.iifDetached], ['oif', r.rec.oifDetached]] as const) {
      if (dev) items.push({ kind: 'changed', where, model: m.text, real: `${r.text} (${k} [detached])`, explanation: `the node has no device ${r.rec[k]} now (\`[detached]\`): the rule matches no packet until the device exists`, explained: false });
    }
  }
  for (const m of restM) {
    const where = `${fam} rule ${m.rec.priority}`;
    if (isDefaultTableRule(m)) {
      items.push({ kind: 'missing', where, model: m.text, explanation: 'the node has deleted the kernel\'s rule for table default (253); that table is empty unless an administrator fills it, so no lookup changes', explained: true });
      continue;
    }
    items.push({ kind: 'missing', where, model: m.text, explanation: `the node has no rule \`${m.text}\`: ${what(m)} in the model, on the node they fall through to the next rule${isLocalRule(m) ? ' — without a local rule the host\'s own addresses are not delivered locally' : ''}${m.origin ? ` (model: ${m.origin})` : ''}`, explained: false });
  }
  const mainPriority = Math.min(...real.filter((s) => s.sel === 'from all' && s.act === 'lookup main').map((s) => s.rec.priority), Number.POSITIVE_INFINITY);
  for (const r of restR) {
    const where = `${fam} rule ${r.rec.priority}`;
    const unsupported = unsupportedSelectors(r.rec);
    const cannot = unsupported.length ? ` The model cannot express ${unsupported.join(', ')}.` : '';
    const other = otherSoftware(r);
    if (other) {
      items.push({ kind: 'extra', where, real: r.text, explanation: `${other}: installed by other software on the node, not by Kubernetes or the CNI; ${what(r)}.${cannot}`, explained: true });
    } else if (isDefaultTableRule(r)) {
      items.push({ kind: 'extra', where, real: r.text, explanation: 'the kernel\'s rule for table default (253), which is empty unless an administrator fills it: no lookup changes', explained: true });
    } else if (r.rec.priority > mainPriority && r.rec.action === 'lookup') {
      items.push({ kind: 'extra', where, real: r.text, explanation: `the node has \`${r.text}\` after the main rule (${mainPriority}): it is consulted only for destinations table main has no route to.${cannot}`, explained: true });
    } else {
      items.push({ kind: 'extra', where, real: r.text, explanation: `the node has \`${r.text}\`, which the model does not: ${what(r)} before the rules after it.${cannot}`, explained: false });
    }
  }
  applyExplanations(items, opts.explain);
  items.sort((a, b) => Number(/\d+$/.exec(a.where ?? '')?.[0] ?? 0) - Number(/\d+$/.exec(b.where ?? '')?.[0] ?? 0));
  const notes: string[] = [];
  const proto = real.filter((s) => s.rec.protocol && !['kernel', 'unspec', 'boot', 'static'].includes(s.rec.protocol));
  if (proto.length) notes.push(`rules with proto ${[...new Set(proto.map((s) => s.rec.protocol))].join(', ')} on the node: proto only records who installed a rule, it is not compared`);
  return checkResult('rules', items, Math.max(model.length, real.length), `${model.length} model rules vs ${real.length} node rules (ip ${family === 6 ? '-6 ' : ''}rule), matched on priority, selectors and table`, notes);
}
