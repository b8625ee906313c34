// felix's chains merged into a node's rule set (kube-proxy's, kubelet's) the
// way felix writes them: its jumps inserted at the top of the built-in chains
// of every table (ChainInsertMode "insert": a real node's nat POSTROUTING has
// felix's cali-POSTROUTING jump before kube-proxy's KUBE-POSTROUTING), its
// FORWARD accept of policy-marked packets appended after kube-proxy's rules.

import { ensureChain, ensureTable, parseIptablesSave, type Ruleset } from '../dataplane';
import type { CalicoDataplane, CalicoFamily, CalicoTable } from './calico';

/** Merges felix's `tables` of `node` into `rs` (in place) and returns it. */
export function mergeFelixRules(rs: Ruleset, dp: CalicoDataplane, node: string, family: CalicoFamily, tables: readonly CalicoTable[]): Ruleset {
  const pol = parseIptablesSave(dp.iptablesSave(node, undefined, family, tables));
  const appended = dp.appendedHashes(node, family);
  const isAppended = (r: { args?: string[] }) => (r.args ?? []).some((a) => a.startsWith('cali:') && appended.has(a.slice(5)));
  for (const [name, table] of pol.tables) {
    const target = ensureTable(rs, name);
    for (const c of table.chains.values()) {
      const dst = ensureChain(target, c.name);
      if (c.builtin) {
        dst.rules.unshift(...c.rules.filter((r) => !isAppended(r)));
        dst.rules.push(...c.rules.filter(isAppended));
      } else dst.rules = [...c.rules];
    }
  }
  return rs;
}
