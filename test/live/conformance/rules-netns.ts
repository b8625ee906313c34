// Loads a modelled namespace's policy routing rules (core/cni RoutingRule)
// into a real network namespace with `ip [-6] rule add`, the way the agents
// do it: the rules the kernel's defaults lack are added first, then the
// defaults the model does not have are deleted (Cilium adds `100: lookup
// local` before it deletes the kernel's priority-0 rule, so local delivery
// never stops).

import { defaultRules, ruleSelectorText, rulesOf, tableName } from '../../../core/cni/rules';
import type { RoutingRule } from '../../../core/cni';
import type { Netns } from './harness';

/** `rule add priority P [not] [from X] [to Y] [fwmark M[/MASK]] [iif D] [oif D] lookup T` (for `ip -batch`). */
export function ruleAddLine(r: RoutingRule): string {
  const a = ['rule', 'add', 'priority', String(r.priority)];
  if (r.not) a.push('not');
  if (r.from) a.push('from', r.from);
  if (r.to) a.push('to', r.to);
  if (r.fwmark !== undefined) a.push('fwmark', r.fwmask !== undefined ? `0x${(r.fwmark >>> 0).toString(16)}/0x${(r.fwmask >>> 0).toString(16)}` : `0x${(r.fwmark >>> 0).toString(16)}`);
  if (r.iif) a.push('iif', r.iif);
  if (r.oif) a.push('oif', r.oif);
  a.push('lookup', tableName(r.table));
  return a.join(' ');
}

const key = (r: RoutingRule) => `${r.priority}|${ruleSelectorText(r)}`;

/** The `ip -batch` lines that turn the kernel's default rules of `family` into the model's. */
export function ruleBatch(model: { rules?: RoutingRule[] }, family: 4 | 6): string[] {
  if (!model.rules) return [];
  const want = rulesOf(model, family);
  const defaults = defaultRules(family);
  const have = new Set(defaults.map(key));
  const keep = new Set(want.map(key));
  return [
    ...want.filter((r) => !have.has(key(r))).map(ruleAddLine),
    ...defaults.filter((r) => !keep.has(key(r))).map((r) => `rule del priority ${r.priority} lookup ${tableName(r.table)}`),
  ];
}

/** Applies the model's rules of both families to `ns` (nothing for a namespace with the kernel's defaults). */
export function loadRules(ns: Netns, model: { rules?: RoutingRule[] }): void {
  for (const family of [4, 6] as const) {
    const lines = ruleBatch(model, family);
    if (lines.length) ns.exec(['ip', `-${family}`, '-batch', '-'], { input: `${lines.join('\n')}\n` });
  }
}
