// The iptables and ipset input the test-bed applies on each node, from the
// core models: kube-proxy (core/kubeproxy) and Calico policy (core/policy).
// Pluggable so that a test or a later model can provide its own.

import type { Topology } from '../../../core/model';
import { kubeProxyIptables, renderNodeIptablesSave } from '../../../core/kubeproxy';
import { buildCalicoDataplane, type CalicoDataplane } from '../../../core/policy';

export interface KubeProxyInput {
  /**
   * What kubelet and kube-proxy set up before the sync: their chains and the
   * jump rules from the built-in chains (`iptables -N`, `iptables -I`), as an
   * iptables-restore document applied with --noflush.
   */
  prelude: string;
  /** kube-proxy's own syncProxyRules document, applied with `iptables-restore --noflush --counters`. */
  restore: string;
}

export type KubeProxyProvider = (t: Topology, node: string) => KubeProxyInput;

export interface PolicyInput {
  /** `ipset restore` input (create + add lines). */
  ipsetRestore: string;
  /**
   * iptables-restore (ip6tables-restore for IPv6) document for felix's tables
   * (raw, mangle, filter, nat), applied with --noflush after kube-proxy.
   */
  restore: string;
}

export type PolicyProvider = (t: Topology, node: string) => PolicyInput | null;

function chainsDeclared(doc: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let table = '';
  for (const line of doc.split('\n')) {
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      if (!out.has(table)) out.set(table, new Set());
    } else if (line.startsWith(':')) out.get(table)?.add(line.slice(1).split(' ')[0]);
  }
  return out;
}

/** kube-proxy's restore document plus the node state before it (from the kube-proxy model). */
export const kubeProxyFromModel: KubeProxyProvider = (t, node) => kubeProxyInput(t, node, 4);

/** The same for IPv6 (dual-stack: kube-proxy's second proxier, applied with ip6tables-restore). */
export const kubeProxy6FromModel: KubeProxyProvider = (t, node) => kubeProxyInput(t, node, 6);

function kubeProxyInput(t: Topology, node: string, family: 4 | 6): KubeProxyInput {
  const sync = kubeProxyIptables(t, node, family);
  const full = renderNodeIptablesSave(t, node, family, { date: new Date(0) });
  const own = chainsDeclared(sync.restore);
  const out: string[] = [];
  let table = '';
  for (const line of full.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (line.startsWith('*')) {
      table = line.slice(1).trim();
      out.push(line);
    } else if (line.startsWith(':') || line === 'COMMIT') out.push(line);
    else if (line.startsWith('-A ')) {
      const chain = line.split(' ')[1];
      if (!own.get(table)?.has(chain)) out.push(line);
    }
  }
  return { prelude: `${out.join('\n')}\n`, restore: sync.restore };
}

const policyCache = new WeakMap<Topology, CalicoDataplane>();

/**
 * Calico-style policy from the policy model: the node's ipsets and felix's
 * chains in every table it programs (raw, mangle, filter, nat). The jumps from
 * the built-in chains are inserted at the top (felix's default
 * ChainInsertMode "insert"), ahead of kube-proxy's, per table.
 */
export const calicoPolicyFromModel: PolicyProvider = (t, node) => calicoPolicyInput(t, node, 4);

/**
 * The same for IPv6 (dual-stack): felix's ip6tables chains, applied with
 * ip6tables-restore, and the cali60 sets (`family inet6`).
 */
export const calicoPolicy6FromModel: PolicyProvider = (t, node) => calicoPolicyInput(t, node, 6);

function calicoPolicyInput(t: Topology, node: string, family: 4 | 6): PolicyInput | null {
  if (t.settings.cni.plugin !== 'calico') return null;
  let dp = policyCache.get(t);
  if (!dp) {
    dp = buildCalicoDataplane(t);
    policyCache.set(t, dp);
  }
  const save = dp.iptablesSave(node, undefined, family);
  const appended = dp.appendedHashes(node, family);
  const position = new Map<string, number>();
  let table = '';
  const restore = save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => {
      if (l.startsWith('*')) table = l.slice(1).trim();
      const m = /^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) (.*)$/.exec(l);
      if (!m) return l;
      // felix's ChainInsertMode "insert" puts its jumps above kube-proxy's rules (loaded before this);
      // what felix appends (FORWARD's "Policy explicitly accepted packet.") stays below them.
      const hash = /"cali:([\w-]{16})"/.exec(m[2])?.[1];
      if (hash && appended.has(hash)) return l;
      const key = `${table} ${m[1]}`;
      const n = (position.get(key) ?? 0) + 1;
      position.set(key, n);
      return `-I ${m[1]} ${n} ${m[2]}`;
    })
    .join('\n');
  return { ipsetRestore: dp.ipsetRestore(node, family), restore };
}
