// What a node has before kube-proxy's first sync, made with the real
// iptables binaries: kubelet's chains (KUBE-IPTABLES-HINT,
// KUBE-KUBELET-CANARY, KUBE-FIREWALL with its INPUT/OUTPUT jumps), then
// kube-proxy's canaries and jump rules, each ensured with `iptables -I`
// (EnsureRule Prepend) in kube-proxy's order. Written from the reference
// (shared/reference/kube-proxy-iptables-rules.md §2), not taken from the model.

import { buildDataplane } from '../../../core/cni';
import { kubeProxyIptables } from '../../../core/kubeproxy';
import type { Topology } from '../../../core/model/types';
import { buildNode, type BuiltNode } from './build-netns';
import type { Netns } from './harness';

export type Variant = 'nft' | 'legacy';

/** `iptables -I` jump rules in the order kube-proxy ensures them (iptablesJumpChains). */
export const JUMPS: [table: string, src: string, dst: string, comment: string, extra: string[]][] = [
  ['filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'INPUT', 'KUBE-NODEPORTS', 'kubernetes health check service ports', []],
  ['filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules', []],
  ['filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', ['-m', 'conntrack', '--ctstate', 'NEW']],
  ['nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals', []],
  ['nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules', []],
];

export function iptablesTool(family: 4 | 6, variant: Variant, suffix = ''): string {
  return `${family === 4 ? 'iptables' : 'ip6tables'}-${variant}${suffix}`;
}

/** kubelet's chains, then kube-proxy's canaries and jumps, with the real iptables binary. */
export function prepareKubeNode(ns: Netns, family: 4 | 6, variant: Variant): void {
  const ipt = iptablesTool(family, variant);
  const x = (...args: string[]) => ns.exec([ipt, '-w', ...args]);
  x('-t', 'mangle', '-N', 'KUBE-IPTABLES-HINT');
  for (const t of ['mangle', 'filter', 'nat']) x('-t', t, '-N', 'KUBE-KUBELET-CANARY');
  x('-t', 'filter', '-N', 'KUBE-FIREWALL');
  x('-t', 'filter', '-I', 'INPUT', '-j', 'KUBE-FIREWALL');
  x('-t', 'filter', '-I', 'OUTPUT', '-j', 'KUBE-FIREWALL');
  for (const t of ['mangle', 'filter', 'nat']) x('-t', t, '-N', 'KUBE-PROXY-CANARY');
  const made = new Set<string>();
  for (const [table, src, dst, comment, extra] of JUMPS) {
    if (!made.has(`${table}/${dst}`)) {
      x('-t', table, '-N', dst);
      made.add(`${table}/${dst}`);
    }
    x('-t', table, '-I', src, ...extra, '-m', 'comment', '--comment', comment, '-j', dst);
  }
}

/** The model's kube-proxy restore document through the real `iptables-restore --noflush --counters`. */
export function applyKubeProxyRestore(ns: Netns, family: 4 | 6, variant: Variant, restore: string): void {
  ns.exec([iptablesTool(family, variant, '-restore'), '-w', '--noflush', '--counters'], { input: restore });
}

/**
 * seed.yaml's node-1 (Calico BGP) built from the model with its three pods,
 * kube-proxy's rules applied (iptables-nft), and the "lan" namespace standing
 * in for node-2 and node-3 with the addresses of the pods behind them
 * (backend-1 10.244.2.8, CoreDNS 10.244.2.15, backend-2 10.244.3.9).
 */
export function buildSeedNode1(tag: string, topology: Topology): BuiltNode {
  const dp = buildDataplane(topology);
  const b = buildNode(tag, dp.node('node-1'), [...dp.pods.values()].filter((p) => p.node === 'node-1'));
  b.lan.ipBatch([
    'address add 10.0.1.6/16 dev up0',
    'address add 10.0.1.7/16 dev up0',
    'address add 10.244.2.8/32 dev lo',
    'address add 10.244.2.15/32 dev lo',
    'address add 10.244.3.9/32 dev lo',
    'route add 10.244.1.0/24 via 10.0.1.5 dev up0',
  ]);
  prepareKubeNode(b.node, 4, 'nft');
  applyKubeProxyRestore(b.node, 4, 'nft', kubeProxyIptables(topology, 'node-1', 4).restore);
  return b;
}
