// kube-proxy iptables mode (1.30–1.32 line): the iptables-restore document
// syncProxyRules writes, line for line, and the node's resulting tables (with
// the jump rules kube-proxy and kubelet install with `iptables -I`).
// See shared/reference/kube-proxy-iptables-rules.md for the layout.
//
// Service order: real kube-proxy iterates a Go map, so services (and the SEP
// chains of a serving-terminating union) come out in a different order on each
// sync. This model sorts them by ServicePortName; anything comparing with a real
// node must compare rules as sets per chain (order matters only inside
// KUBE-SVC-*/KUBE-SVL-*/KUBE-SEP-* chains, which kube-proxy writes sorted).

import { Cidr, parseIP } from '../net';
import type { Topology } from '../model/types';
import {
  type Ruleset,
  ensureChain,
  ensureTable,
  newRuleset,
  parseRuleArgs,
  renderIptablesSave,
  restoreInto,
  type SaveOptions,
} from '../dataplane';
import { categorizeEndpoints, proxyServicePorts, type ProxyEndpoint, type ProxyServicePort } from './endpoints';
import { computeProbability } from './names';

export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

export interface KubeProxyOptions {
  /** --iptables-masquerade-bit (default from the topology, else 14). */
  masqueradeBit?: number;
  masqueradeAll?: boolean;
  /** Pod CIDR for the local-traffic detector (default: the topology's cluster CIDR of the family; null = no detector). */
  clusterCIDR?: string | null;
  /** --iptables-localhost-nodeports (default true; IPv4 only). */
  localhostNodePorts?: boolean;
  /** --nodeport-addresses CIDRs (default: all local addresses). */
  nodePortAddresses?: string[];
  /** iptables supports MASQUERADE --random-fully (any iptables ≥ 1.6.2: default true). */
  randomFully?: boolean;
  /** net.netfilter.nf_conntrack_tcp_be_liberal=1 drops the INVALID rule. */
  conntrackTCPLiberal?: boolean;
  /**
   * Spelling of the masquerade mark in the restore input: `go` = what kube-proxy
   * writes (fmt "%#08x" → 0x00004000), `short` = 0x4000 (as its unit tests inject).
   * iptables-save prints 0x4000 either way.
   */
  markFormat?: 'go' | 'short';
  /** kube-proxy ≥ 1.31 adds nfacct counters (-m nfacct) to two rules. */
  nfacct?: boolean;
}

export interface IptablesSync {
  family: 4 | 6;
  filterChains: string[];
  filterRules: string[];
  natChains: string[];
  natRules: string[];
  /** The document kube-proxy passes to `iptables-restore --noflush --counters`. */
  restore: string;
  largeClusterMode: boolean;
  servicePorts: ProxyServicePort[];
  masqueradeMark: string;
}

const q = (s: string): string => `"${s}"`;

function resolveOptions(topo: Topology, family: 4 | 6, o: KubeProxyOptions) {
  const bit = o.masqueradeBit ?? topo.settings.kubeProxy?.masqueradeBit ?? 14;
  const markNum = 1 << bit;
  const mark = (o.markFormat ?? 'go') === 'go' ? `0x${markNum.toString(16).padStart(8, '0')}` : `0x${markNum.toString(16)}`;
  let clusterCIDR: string | null;
  if (o.clusterCIDR !== undefined) clusterCIDR = o.clusterCIDR;
  else clusterCIDR = topo.settings.clusterCIDRs.map((c) => Cidr.tryParse(c)).find((c) => c?.family === family)?.text ?? null;
  return {
    mark,
    markNum,
    masqueradeAll: o.masqueradeAll ?? topo.settings.kubeProxy?.masqueradeAll ?? false,
    clusterCIDR,
    localhostNodePorts: o.localhostNodePorts ?? true,
    nodePortAddresses: o.nodePortAddresses ?? [],
    randomFully: o.randomFully ?? true,
    conntrackTCPLiberal: o.conntrackTCPLiberal ?? false,
    nfacct: o.nfacct ?? false,
  };
}

/** The restore document kube-proxy's syncProxyRules writes for one node and family (a full sync). */
export function kubeProxyIptables(topo: Topology, nodeName: string, family: 4 | 6, opts: KubeProxyOptions = {}): IptablesSync {
  const o = resolveOptions(topo, family, opts);
  const node = topo.nodes.find((n) => n.name === nodeName);
  const nodeIPs = (node?.ips ?? []).filter((ip) => parseIP(ip)?.family === family);
  const filterChains: string[] = [];
  const filterRules: string[] = [];
  const natChains: string[] = [];
  const natRules: string[] = [];
  const chainLine = (c: string): string => `:${c} - [0:0]`;
  const W = (buf: string[], ...args: string[]): void => {
    buf.push(args.join(' '));
  };

  for (const c of [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL]) filterChains.push(chainLine(c));
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) natChains.push(chainLine(c));

  W(natRules, '-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${o.mark}/${o.mark}`, '-j', 'RETURN');
  W(natRules, '-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', o.mark);
  W(natRules, '-A', KUBE_POSTROUTING, '-m', 'comment', '--comment', q('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE', ...(o.randomFully ? ['--random-fully'] : []));
  W(natRules, '-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', o.mark);

  if (family === 4 && o.localhostNodePorts) {
    filterChains.push(chainLine(KUBE_FIREWALL));
    W(filterRules, '-A', KUBE_FIREWALL, '-m', 'comment', '--comment', q('block incoming localnet connections'), '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', '-j', 'DROP');
  }

  const servicePorts = proxyServicePorts(topo, nodeName, family);
  const totalEndpoints = servicePorts.reduce((a, sp) => a + sp.endpoints.length, 0);
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;
  const svcComment = (text: string): string[] => (largeClusterMode ? [] : ['-m', 'comment', '--comment', text]);
  const ifNotLocal = o.clusterCIDR ? ['!', '-s', o.clusterCIDR] : [];
  const ifLocal = o.clusterCIDR ? ['-s', o.clusterCIDR] : [];

  for (const sp of servicePorts) {
    const p = sp.protocol;
    const spn = sp.spn;
    const { clusterEndpoints, localEndpoints, allReachable, hasAnyEndpoints: hasEndpoints } = categorizeEndpoints(sp);
    const clusterPolicyChain = sp.chains.svc;
    const usesClusterPolicyChain = clusterEndpoints.length > 0 && sp.usesClusterEndpoints;
    const localPolicyChain = sp.chains.svl;
    const usesLocalPolicyChain = localEndpoints.length > 0 && sp.usesLocalEndpoints;

    let internalPolicyChain = clusterPolicyChain;
    let hasInternalEndpoints = hasEndpoints;
    if (sp.iTPLocal) {
      internalPolicyChain = localPolicyChain;
      if (localEndpoints.length === 0) hasInternalEndpoints = false;
    }
    const internalTrafficChain = internalPolicyChain;
    let externalPolicyChain = clusterPolicyChain;
    let hasExternalEndpoints = hasEndpoints;
    if (sp.eTPLocal) {
      externalPolicyChain = localPolicyChain;
      if (localEndpoints.length === 0) hasExternalEndpoints = false;
    }
    const externalTrafficChain = sp.chains.ext;
    const usesExternalTrafficChain = hasEndpoints && sp.externallyAccessible;
    const fwChain = sp.chains.fw;
    const usesFWChain = hasEndpoints && sp.loadBalancerVIPs.length > 0 && sp.sourceRanges.length > 0;
    const loadBalancerTrafficChain = usesFWChain ? fwChain : externalTrafficChain;

    let internalFilterTarget = '';
    let internalFilterComment = '';
    let externalFilterTarget = '';
    let externalFilterComment = '';
    if (!hasEndpoints) {
      internalFilterTarget = externalFilterTarget = 'REJECT';
      internalFilterComment = externalFilterComment = q(`${spn} has no endpoints`);
    } else {
      if (!hasInternalEndpoints) {
        internalFilterTarget = 'DROP';
        internalFilterComment = q(`${spn} has no local endpoints`);
      }
      if (!hasExternalEndpoints) {
        externalFilterTarget = 'DROP';
        externalFilterComment = q(`${spn} has no local endpoints`);
      }
    }

    const port = String(sp.port);
    if (hasInternalEndpoints) {
      W(natRules, '-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(`${spn} cluster IP`), '-m', p, '-p', p, '-d', sp.clusterIP, '--dport', port, '-j', internalTrafficChain);
    } else {
      W(filterRules, '-A', KUBE_SERVICES, '-m', 'comment', '--comment', internalFilterComment, '-m', p, '-p', p, '-d', sp.clusterIP, '--dport', port, '-j', internalFilterTarget);
    }
    for (const extIP of sp.externalIPs) {
      if (hasEndpoints) W(natRules, '-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(`${spn} external IP`), '-m', p, '-p', p, '-d', extIP, '--dport', port, '-j', externalTrafficChain);
      if (!hasExternalEndpoints) W(filterRules, '-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, '-m', p, '-p', p, '-d', extIP, '--dport', port, '-j', externalFilterTarget);
    }
    for (const lbip of sp.loadBalancerVIPs) {
      if (hasEndpoints) W(natRules, '-A', KUBE_SERVICES, '-m', 'comment', '--comment', q(`${spn} loadbalancer IP`), '-m', p, '-p', p, '-d', lbip, '--dport', port, '-j', loadBalancerTrafficChain);
      if (usesFWChain) W(filterRules, '-A', KUBE_PROXY_FIREWALL, '-m', 'comment', '--comment', q(`${spn} traffic not accepted by ${fwChain}`), '-m', p, '-p', p, '-d', lbip, '--dport', port, '-j', 'DROP');
    }
    if (!hasExternalEndpoints) {
      for (const lbip of sp.loadBalancerVIPs) {
        W(filterRules, '-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, '-m', p, '-p', p, '-d', lbip, '--dport', port, '-j', externalFilterTarget);
      }
    }
    if (sp.nodePort !== 0) {
      if (hasEndpoints) {
        if (o.nfacct && family === 4 && o.localhostNodePorts) {
          W(natRules, '-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', spn, '-m', p, '-p', p, '-d', '127.0.0.0/8', '--dport', String(sp.nodePort), '-m', 'nfacct', '--nfacct-name', 'localhost_nps_accepted_pkts', '-j', externalTrafficChain);
        }
        W(natRules, '-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', spn, '-m', p, '-p', p, '--dport', String(sp.nodePort), '-j', externalTrafficChain);
      }
      if (!hasExternalEndpoints) {
        W(filterRules, '-A', KUBE_EXTERNAL_SERVICES, '-m', 'comment', '--comment', externalFilterComment, '-m', 'addrtype', '--dst-type', 'LOCAL', '-m', p, '-p', p, '--dport', String(sp.nodePort), '-j', externalFilterTarget);
      }
    }
    if (sp.healthCheckNodePort !== 0) {
      W(filterRules, '-A', KUBE_NODEPORTS, '-m', 'comment', '--comment', q(`${spn} health check node port`), '-m', 'tcp', '-p', 'tcp', '--dport', String(sp.healthCheckNodePort), '-j', 'ACCEPT');
    }

    if (hasInternalEndpoints) {
      const args = ['-m', 'comment', '--comment', q(`${spn} cluster IP`), '-m', p, '-p', p, '-d', sp.clusterIP, '--dport', port];
      if (o.masqueradeAll) W(natRules, '-A', internalTrafficChain, ...args, '-j', KUBE_MARK_MASQ);
      else if (o.clusterCIDR) W(natRules, '-A', internalTrafficChain, ...args, ...ifNotLocal, '-j', KUBE_MARK_MASQ);
    }

    if (usesExternalTrafficChain) {
      natChains.push(chainLine(externalTrafficChain));
      if (!sp.eTPLocal) {
        W(natRules, '-A', externalTrafficChain, '-m', 'comment', '--comment', q(`masquerade traffic for ${spn} external destinations`), '-j', KUBE_MARK_MASQ);
      } else {
        if (o.clusterCIDR) W(natRules, '-A', externalTrafficChain, '-m', 'comment', '--comment', q(`pod traffic for ${spn} external destinations`), ...ifLocal, '-j', clusterPolicyChain);
        W(natRules, '-A', externalTrafficChain, '-m', 'comment', '--comment', q(`masquerade LOCAL traffic for ${spn} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ);
        W(natRules, '-A', externalTrafficChain, '-m', 'comment', '--comment', q(`route LOCAL traffic for ${spn} external destinations`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', clusterPolicyChain);
      }
      if (hasExternalEndpoints) W(natRules, '-A', externalTrafficChain, '-j', externalPolicyChain);
    }

    if (usesFWChain) {
      natChains.push(chainLine(fwChain));
      const args = ['-A', fwChain, '-m', 'comment', '--comment', q(`${spn} loadbalancer IP`)];
      let allowFromNode = false;
      for (const cidr of sp.sourceRanges) {
        W(natRules, ...args, '-s', cidr, '-j', externalTrafficChain);
        const c = Cidr.parse(cidr);
        if (nodeIPs.some((ip) => c.contains(parseIP(ip)!))) allowFromNode = true;
      }
      if (allowFromNode) for (const lbip of sp.loadBalancerVIPs) W(natRules, ...args, '-s', lbip, '-j', externalTrafficChain);
      W(natRules, '-A', fwChain, '-m', 'comment', '--comment', q(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`));
    }

    const writeServiceToEndpointRules = (chain: string, endpoints: ProxyEndpoint[]): void => {
      if (sp.clientIPAffinity) {
        for (const ep of endpoints) {
          W(natRules, '-A', chain, ...svcComment(q(`${spn} -> ${ep.key}`)), '-m', 'recent', '--name', ep.chain, '--rcheck', '--seconds', String(sp.affinityTimeout), '--reap', '-j', ep.chain);
        }
      }
      const n = endpoints.length;
      endpoints.forEach((ep, i) => {
        const stat = i < n - 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', computeProbability(n - i)] : [];
        W(natRules, '-A', chain, ...svcComment(q(`${spn} -> ${ep.key}`)), ...stat, '-j', ep.chain);
      });
    };
    if (usesClusterPolicyChain) {
      natChains.push(chainLine(clusterPolicyChain));
      writeServiceToEndpointRules(clusterPolicyChain, clusterEndpoints);
    }
    if (usesLocalPolicyChain) {
      natChains.push(chainLine(localPolicyChain));
      writeServiceToEndpointRules(localPolicyChain, localEndpoints);
    }
    for (const ep of allReachable) {
      natChains.push(chainLine(ep.chain));
      W(natRules, '-A', ep.chain, ...svcComment(spn), '-s', ep.ip, '-j', KUBE_MARK_MASQ);
      const aff = sp.clientIPAffinity ? ['-m', 'recent', '--name', ep.chain, '--set'] : [];
      W(natRules, '-A', ep.chain, ...svcComment(spn), ...aff, '-m', p, '-p', p, '-j', 'DNAT', '--to-destination', ep.key);
    }
  }

  const nodePortsComment = q('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  if (o.nodePortAddresses.length === 0) {
    const dest = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
    if (family === 6) dest.push('!', '-d', '::1/128');
    else if (!o.localhostNodePorts) dest.push('!', '-d', '127.0.0.0/8');
    W(natRules, '-A', KUBE_SERVICES, '-m', 'comment', '--comment', nodePortsComment, ...dest, '-j', KUBE_NODEPORTS);
  } else {
    const cidrs = o.nodePortAddresses.map((c) => Cidr.parse(c)).filter((c) => c.family === family);
    const candidates = [...nodeIPs, ...(family === 4 ? ['127.0.0.1'] : ['::1'])];
    for (const ip of candidates) {
      const a = parseIP(ip)!;
      if (!cidrs.some((c) => c.contains(a))) continue;
      const loopback = family === 4 ? ip.startsWith('127.') : ip === '::1';
      if (loopback && (family === 6 || !o.localhostNodePorts)) continue;
      W(natRules, '-A', KUBE_SERVICES, '-m', 'comment', '--comment', nodePortsComment, '-d', ip, '-j', KUBE_NODEPORTS);
    }
  }

  if (!o.conntrackTCPLiberal) {
    W(filterRules, '-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID', ...(o.nfacct ? ['-m', 'nfacct', '--nfacct-name', 'ct_state_invalid_dropped_pkts'] : []), '-j', 'DROP');
  }
  W(filterRules, '-A', KUBE_FORWARD, '-m', 'comment', '--comment', q('kubernetes forwarding rules'), '-m', 'mark', '--mark', `${o.mark}/${o.mark}`, '-j', 'ACCEPT');
  W(filterRules, '-A', KUBE_FORWARD, '-m', 'comment', '--comment', q('kubernetes forwarding conntrack rule'), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');

  const restore = ['*filter', ...filterChains, ...filterRules, 'COMMIT', '*nat', ...natChains, ...natRules, 'COMMIT', ''].join('\n');
  return { family, filterChains, filterRules, natChains, natRules, restore, largeClusterMode, servicePorts, masqueradeMark: o.mark };
}

/** Jump rules kube-proxy ensures with `iptables -I` (iptablesJumpChains), in the order it ensures them. */
const JUMPS: { table: 'filter' | 'nat'; src: string; dst: string; comment: string; extra: string[] }[] = [
  { table: 'filter', src: 'INPUT', dst: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extra: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', src: 'FORWARD', dst: KUBE_EXTERNAL_SERVICES, comment: 'kubernetes externally-visible service portals', extra: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', src: 'INPUT', dst: KUBE_NODEPORTS, comment: 'kubernetes health check service ports', extra: [] },
  { table: 'filter', src: 'FORWARD', dst: KUBE_SERVICES, comment: 'kubernetes service portals', extra: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', src: 'OUTPUT', dst: KUBE_SERVICES, comment: 'kubernetes service portals', extra: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', src: 'FORWARD', dst: KUBE_FORWARD, comment: 'kubernetes forwarding rules', extra: [] },
  { table: 'filter', src: 'INPUT', dst: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extra: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', src: 'OUTPUT', dst: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extra: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'filter', src: 'FORWARD', dst: KUBE_PROXY_FIREWALL, comment: 'kubernetes load balancer firewall', extra: ['-m', 'conntrack', '--ctstate', 'NEW'] },
  { table: 'nat', src: 'OUTPUT', dst: KUBE_SERVICES, comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', src: 'PREROUTING', dst: KUBE_SERVICES, comment: 'kubernetes service portals', extra: [] },
  { table: 'nat', src: 'POSTROUTING', dst: KUBE_POSTROUTING, comment: 'kubernetes postrouting rules', extra: [] },
];

export interface NodeRulesetOptions extends KubeProxyOptions {
  /** Include kubelet's chains (KUBE-FIREWALL jumps, canaries, KUBE-IPTABLES-HINT); default true. */
  kubelet?: boolean;
}

/** Prepends a rule to a chain the way `iptables -I CHAIN` does (EnsureRule(Prepend)). */
export function prependRule(rs: Ruleset, table: 'filter' | 'nat' | 'mangle' | 'raw', chain: string, args: string[]): void {
  const t = ensureTable(rs, table);
  const c = ensureChain(t, chain);
  c.rules.unshift(parseRuleArgs(args, rs.family, (n) => t.chains.has(n)));
}

/**
 * The node's iptables state in kube-proxy's iptables mode: kubelet's chains
 * (created first), kube-proxy's jump rules (each prepended, so the last one
 * ensured is first), then the restore document applied with --noflush.
 */
export function nodeIptablesRuleset(topo: Topology, nodeName: string, family: 4 | 6, opts: NodeRulesetOptions = {}): { ruleset: Ruleset; sync: IptablesSync } {
  const rs = newRuleset(family, ['mangle', 'filter', 'nat']);
  const kubelet = opts.kubelet ?? true;
  const mangle = ensureTable(rs, 'mangle');
  const filter = ensureTable(rs, 'filter');
  const nat = ensureTable(rs, 'nat');
  if (kubelet) {
    ensureChain(mangle, 'KUBE-IPTABLES-HINT');
    for (const t of [mangle, filter, nat]) ensureChain(t, 'KUBE-KUBELET-CANARY');
    ensureChain(filter, KUBE_FIREWALL);
    prependRule(rs, 'filter', 'INPUT', ['-j', KUBE_FIREWALL]);
    prependRule(rs, 'filter', 'OUTPUT', ['-j', KUBE_FIREWALL]);
  }
  for (const t of [mangle, filter, nat]) ensureChain(t, 'KUBE-PROXY-CANARY');
  for (const j of JUMPS) {
    ensureChain(j.table === 'filter' ? filter : nat, j.dst);
    prependRule(rs, j.table, j.src, [...j.extra, '-m', 'comment', '--comment', j.comment, '-j', j.dst]);
  }
  // iptablesKubeletJumpChains: kube-proxy also ensures the KUBE-FIREWALL jumps (no-ops when kubelet made them).
  ensureChain(filter, KUBE_FIREWALL);
  for (const src of ['INPUT', 'OUTPUT']) {
    const c = filter.chains.get(src)!;
    if (!c.rules.some((r) => r.target?.kind === 'jump' && r.target.chain === KUBE_FIREWALL && r.matches.length === 0)) prependRule(rs, 'filter', src, ['-j', KUBE_FIREWALL]);
  }
  const sync = kubeProxyIptables(topo, nodeName, family, opts);
  restoreInto(rs, sync.restore, true);
  return { ruleset: rs, sync };
}

/** `iptables-save` (or `ip6tables-save`) of a node in kube-proxy iptables mode. */
export function renderNodeIptablesSave(topo: Topology, nodeName: string, family: 4 | 6, save: SaveOptions, opts: NodeRulesetOptions = {}): string {
  return renderIptablesSave(nodeIptablesRuleset(topo, nodeName, family, opts).ruleset, save);
}
