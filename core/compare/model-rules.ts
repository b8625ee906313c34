// The rule set a node of the model should have in its raw/mangle/filter/nat
// tables, as one iptables-save would show it: kube-proxy's rules (iptables or
// IPVS mode) with Calico's felix chains merged in the way felix writes them —
// its jumps inserted at the top of the built-in chains of every table
// (ChainInsertMode "insert": a real node's nat POSTROUTING has felix's
// cali-POSTROUTING jump before kube-proxy's KUBE-POSTROUTING), its FORWARD
// accept of policy-marked packets appended after kube-proxy's rules.

import type { Topology } from '../model';
import type { Ruleset } from '../dataplane';
import { kubeProxyIpvs, nodeIptablesRuleset } from '../kubeproxy';
import { buildCalicoDataplane, CALICO_TABLES, mergeFelixRules, type CalicoTable } from '../policy';

export interface ModelRulesetOptions {
  /** felix's tables to merge (default all four: raw, mangle, filter, nat). */
  felixTables?: readonly CalicoTable[];
}

export function modelRuleset(t: Topology, node: string, family: 4 | 6 = 4, opts: ModelRulesetOptions = {}): Ruleset {
  const mode = t.settings.kubeProxy?.mode ?? 'iptables';
  const rs = mode === 'ipvs' ? kubeProxyIpvs(t, node, family).ruleset : nodeIptablesRuleset(t, node, family).ruleset;
  if (t.settings.cni.plugin !== 'calico') return rs;
  return mergeFelixRules(rs, buildCalicoDataplane(t), node, family, opts.felixTables ?? CALICO_TABLES);
}
