// kube-proxy IPVS mode: every Service address bound to the kube-ipvs0 dummy
// device, one IPVS virtual server per address and port, the ipsets of
// pkg/proxy/ipvs/ipset.go and the few iptables rules that match them
// (pkg/proxy/ipvs/proxier.go writeIptablesRules). No per-service chains.

import { Cidr, parseIP } from '../net';
import type { Topology } from '../model/types';
import {
  IpsetStore,
  type IpsetType,
  type Ruleset,
  type VirtualServer,
  ensureChain,
  ensureTable,
  newRuleset,
  parseRuleArgs,
  restoreInto,
} from '../dataplane';
import { categorizeEndpoints, proxyServicePorts, type ProxyEndpoint, type ProxyServicePort } from './endpoints';
import type { KubeProxyOptions } from './iptables';

export const KUBE_IPVS_DEVICE = 'kube-ipvs0';

/** ipsetInfo: name, type, comment (pkg/proxy/ipvs/ipset.go). */
export const IPVS_IPSETS: readonly { name: string; type: IpsetType | 'hash:ip,port,ip' | 'hash:ip,port,net'; comment: string }[] = [
  { name: 'KUBE-LOOP-BACK', type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { name: 'KUBE-EXTERNAL-IP', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { name: 'KUBE-EXTERNAL-IP-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { name: 'KUBE-LOAD-BALANCER', type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { name: 'KUBE-LOAD-BALANCER-FW', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  { name: 'KUBE-LOAD-BALANCER-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { name: 'KUBE-LOAD-BALANCER-SOURCE-IP', type: 'hash:ip,port,ip', comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose' },
  { name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', type: 'hash:ip,port,net', comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose' },
  { name: 'KUBE-NODE-PORT-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { name: 'KUBE-NODE-PORT-LOCAL-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { name: 'KUBE-NODE-PORT-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { name: 'KUBE-NODE-PORT-LOCAL-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { name: 'KUBE-NODE-PORT-SCTP-HASH', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  { name: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'" },
  { name: 'KUBE-HEALTH-CHECK-NODE-PORT', type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { name: 'KUBE-IPVS-IPS', type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

/** ipsetWithIptablesChain: set, table, from chain, target, match flags, protocol. */
const IPSET_JUMPS: { set: string; table: 'nat' | 'filter'; from: string; to: string; flags: string; proto: string }[] = [
  { set: 'KUBE-LOOP-BACK', table: 'nat', from: 'KUBE-POSTROUTING', to: 'MASQUERADE', flags: 'dst,dst,src', proto: '' },
  { set: 'KUBE-LOAD-BALANCER', table: 'nat', from: 'KUBE-SERVICES', to: 'KUBE-LOAD-BALANCER', flags: 'dst,dst', proto: '' },
  { set: 'KUBE-LOAD-BALANCER-LOCAL', table: 'nat', from: 'KUBE-LOAD-BALANCER', to: 'RETURN', flags: 'dst,dst', proto: '' },
  { set: 'KUBE-NODE-PORT-LOCAL-TCP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', flags: 'dst', proto: 'tcp' },
  { set: 'KUBE-NODE-PORT-TCP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', flags: 'dst', proto: 'tcp' },
  { set: 'KUBE-NODE-PORT-LOCAL-UDP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', flags: 'dst', proto: 'udp' },
  { set: 'KUBE-NODE-PORT-UDP', table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', flags: 'dst', proto: 'udp' },
  { set: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', table: 'nat', from: 'KUBE-NODE-PORT', to: 'RETURN', flags: 'dst,dst', proto: 'sctp' },
  { set: 'KUBE-NODE-PORT-SCTP-HASH', table: 'nat', from: 'KUBE-NODE-PORT', to: 'KUBE-MARK-MASQ', flags: 'dst,dst', proto: 'sctp' },
  { set: 'KUBE-LOAD-BALANCER-FW', table: 'filter', from: 'KUBE-PROXY-FIREWALL', to: 'KUBE-SOURCE-RANGES-FIREWALL', flags: 'dst,dst', proto: '' },
  { set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR', table: 'filter', from: 'KUBE-SOURCE-RANGES-FIREWALL', to: 'RETURN', flags: 'dst,dst,src', proto: '' },
  { set: 'KUBE-LOAD-BALANCER-SOURCE-IP', table: 'filter', from: 'KUBE-SOURCE-RANGES-FIREWALL', to: 'RETURN', flags: 'dst,dst,src', proto: '' },
];

/** iptablesJumpChain of the IPVS proxier (prepended, with these comments). */
const IPVS_JUMPS: { table: 'nat' | 'filter'; from: string; to: string; comment: string }[] = [
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES', comment: 'kubernetes service portals' },
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING', comment: 'kubernetes postrouting rules' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD', comment: 'kubernetes forwarding rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-NODE-PORT', comment: 'kubernetes health check rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-PROXY-FIREWALL', comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-PROXY-FIREWALL', comment: 'kube-proxy firewall rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-IPVS-FILTER', comment: 'kubernetes ipvs access filter' },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-IPVS-OUT-FILTER', comment: 'kubernetes ipvs access filter' },
];

const NAT_CHAINS = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'];
const FILTER_CHAINS = ['KUBE-FORWARD', 'KUBE-NODE-PORT', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'KUBE-IPVS-FILTER', 'KUBE-IPVS-OUT-FILTER'];

/** A virtual server with the Service port it serves. */
export interface IpvsService extends VirtualServer {
  servicePort: ProxyServicePort;
  kind: 'ClusterIP' | 'ExternalIP' | 'LoadBalancer' | 'NodePort';
  /** Endpoints behind each destination (same order as dests). */
  endpoints: ProxyEndpoint[];
}

export interface IpvsNode {
  family: 4 | 6;
  /** Addresses bound to kube-ipvs0 (`ip addr show kube-ipvs0`). */
  boundAddresses: string[];
  services: IpvsService[];
  ipsets: IpsetStore;
  /** nat and filter as kube-proxy restores them in IPVS mode. */
  restore: string;
  ruleset: Ruleset;
}

/** The IPVS-mode state of one node for one family. */
export function kubeProxyIpvs(topo: Topology, nodeName: string, family: 4 | 6, opts: KubeProxyOptions & { scheduler?: VirtualServer['scheduler'] } = {}): IpvsNode {
  const scheduler = opts.scheduler ?? topo.settings.kubeProxy?.ipvsScheduler ?? 'rr';
  const bit = opts.masqueradeBit ?? topo.settings.kubeProxy?.masqueradeBit ?? 14;
  const mark = (opts.markFormat ?? 'go') === 'go' ? `0x${(1 << bit).toString(16).padStart(8, '0')}` : `0x${(1 << bit).toString(16)}`;
  const masqueradeAll = opts.masqueradeAll ?? topo.settings.kubeProxy?.masqueradeAll ?? false;
  const clusterCIDR = opts.clusterCIDR !== undefined ? opts.clusterCIDR : (topo.settings.clusterCIDRs.map((c) => Cidr.tryParse(c)).find((c) => c?.family === family)?.text ?? null);
  const node = topo.nodes.find((n) => n.name === nodeName);
  const nodeIPs = (node?.ips ?? []).filter((ip) => parseIP(ip)?.family === family);
  const ipsets = new IpsetStore();
  const prefix = family === 6 ? 'KUBE-6-' : 'KUBE-';
  const setName = (n: string): string => (prefix + n.slice(5)).slice(0, 31);
  for (const s of IPVS_IPSETS) ipsets.create(setName(s.name), s.type as IpsetType, family, s.comment);
  const add = (set: string, entry: string): void => {
    ipsets.get(setName(set))!.add(entry);
  };
  const bound = new Set<string>();
  const services: IpvsService[] = [];
  const lbNoNodeAccess: { ip: string; proto: string; port: number }[] = [];

  for (const sp of proxyServicePorts(topo, nodeName, family)) {
    const p = sp.protocol;
    const cat = categorizeEndpoints(sp);
    const epsFor = (onlyLocal: boolean): ProxyEndpoint[] => {
      if (!onlyLocal) return cat.clusterEndpoints;
      // kubernetes#97081: with no local endpoints, fall back to cluster endpoints.
      return cat.localEndpoints.length ? cat.localEndpoints : cat.clusterEndpoints;
    };
    const vsFor = (address: string, port: number, kind: IpvsService['kind'], onlyLocal: boolean): void => {
      const endpoints = epsFor(onlyLocal);
      services.push({
        proto: sp.Protocol,
        address,
        port,
        scheduler,
        persistent: sp.clientIPAffinity ? sp.affinityTimeout : undefined,
        dests: endpoints.map((e) => ({ address: e.ip, port: e.port, forward: 'Masq', weight: 1, activeConns: 0, inactConns: 0 })),
        servicePort: sp,
        kind,
        endpoints,
      });
    };
    for (const e of sp.endpoints) if (e.local) add('KUBE-LOOP-BACK', `${e.ip},${p}:${e.port},${e.ip}`);
    add('KUBE-CLUSTER-IP', `${sp.clusterIP},${p}:${sp.port}`);
    vsFor(sp.clusterIP, sp.port, 'ClusterIP', sp.iTPLocal);
    bound.add(sp.clusterIP);
    for (const ext of sp.externalIPs) {
      add(sp.eTPLocal ? 'KUBE-EXTERNAL-IP-LOCAL' : 'KUBE-EXTERNAL-IP', `${ext},${p}:${sp.port}`);
      vsFor(ext, sp.port, 'ExternalIP', sp.eTPLocal);
      if (!nodeIPs.includes(ext)) bound.add(ext);
    }
    for (const lb of sp.loadBalancerVIPs) {
      const entry = `${lb},${p}:${sp.port}`;
      add('KUBE-LOAD-BALANCER', entry);
      if (sp.eTPLocal) add('KUBE-LOAD-BALANCER-LOCAL', entry);
      if (sp.sourceRanges.length) {
        add('KUBE-LOAD-BALANCER-FW', entry);
        let allowFromNode = false;
        for (const c of sp.sourceRanges) {
          add('KUBE-LOAD-BALANCER-SOURCE-CIDR', `${entry},${c}`);
          if (nodeIPs.some((ip) => Cidr.parse(c).contains(parseIP(ip)!))) allowFromNode = true;
        }
        if (allowFromNode) add('KUBE-LOAD-BALANCER-SOURCE-IP', `${entry},${lb}`);
        else lbNoNodeAccess.push({ ip: lb, proto: p, port: sp.port });
      }
      vsFor(lb, sp.port, 'LoadBalancer', sp.eTPLocal);
      if (!nodeIPs.includes(lb)) bound.add(lb);
    }
    if (sp.nodePort && nodeIPs.length) {
      const local = sp.eTPLocal;
      if (p === 'sctp') {
        for (const ip of nodeIPs) {
          add('KUBE-NODE-PORT-SCTP-HASH', `${ip},sctp:${sp.nodePort}`);
          if (local) add('KUBE-NODE-PORT-LOCAL-SCTP-HASH', `${ip},sctp:${sp.nodePort}`);
        }
      } else {
        add(`KUBE-NODE-PORT-${p.toUpperCase()}`, String(sp.nodePort));
        if (local) add(`KUBE-NODE-PORT-LOCAL-${p.toUpperCase()}`, String(sp.nodePort));
      }
      for (const ip of nodeIPs) vsFor(ip, sp.nodePort, 'NodePort', local);
    }
    if (sp.healthCheckNodePort) add('KUBE-HEALTH-CHECK-NODE-PORT', String(sp.healthCheckNodePort));
  }
  for (const a of bound) add('KUBE-IPVS-IPS', a);

  // iptables-restore document (nat first, then filter, as the IPVS proxier writes it).
  const nonEmpty = (n: string): boolean => (ipsets.get(setName(n))?.size ?? 0) > 0;
  const q = (s: string): string => `"${s}"`;
  const comment = (n: string): string => q(IPVS_IPSETS.find((s) => s.name === n)!.comment);
  const nat: string[] = [];
  const filter: string[] = [];
  const W = (buf: string[], ...a: string[]): void => {
    buf.push(a.join(' '));
  };
  W(nat, '-A', 'KUBE-SERVICES', '-s', family === 4 ? '127.0.0.0/8' : '::1/128', '-j', 'RETURN');
  for (const j of IPSET_JUMPS) {
    if (!nonEmpty(j.set)) continue;
    W(j.table === 'nat' ? nat : filter, '-A', j.from, ...(j.proto ? ['-p', j.proto] : []), '-m', 'comment', '--comment', comment(j.set), '-m', 'set', '--match-set', setName(j.set), j.flags, '-j', j.to);
  }
  if (nonEmpty('KUBE-CLUSTER-IP')) {
    const args = ['-A', 'KUBE-SERVICES', '-m', 'comment', '--comment', comment('KUBE-CLUSTER-IP'), '-m', 'set', '--match-set', setName('KUBE-CLUSTER-IP')];
    if (masqueradeAll) W(nat, ...args, 'dst,dst', '-j', 'KUBE-MARK-MASQ');
    else if (clusterCIDR) W(nat, ...args, 'dst,dst', '!', '-s', clusterCIDR, '-j', 'KUBE-MARK-MASQ');
    else W(nat, ...args, 'src,dst', '-j', 'KUBE-MARK-MASQ');
  }
  const externalIPRules = (args: string[]): void => {
    W(nat, ...args, '-m', 'physdev', '!', '--physdev-is-in', '-m', 'addrtype', '!', '--src-type', 'LOCAL', '-j', 'ACCEPT');
    W(nat, ...args, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'ACCEPT');
  };
  if (nonEmpty('KUBE-EXTERNAL-IP')) {
    const args = ['-A', 'KUBE-SERVICES', '-m', 'comment', '--comment', comment('KUBE-EXTERNAL-IP'), '-m', 'set', '--match-set', setName('KUBE-EXTERNAL-IP'), 'dst,dst'];
    W(nat, ...args, '-j', 'KUBE-MARK-MASQ');
    externalIPRules(args);
  }
  if (nonEmpty('KUBE-EXTERNAL-IP-LOCAL')) {
    externalIPRules(['-A', 'KUBE-SERVICES', '-m', 'comment', '--comment', comment('KUBE-EXTERNAL-IP-LOCAL'), '-m', 'set', '--match-set', setName('KUBE-EXTERNAL-IP-LOCAL'), 'dst,dst']);
  }
  W(nat, '-A', 'KUBE-SERVICES', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'KUBE-NODE-PORT');
  W(nat, '-A', 'KUBE-LOAD-BALANCER', '-j', 'KUBE-MARK-MASQ');
  W(filter, '-A', 'KUBE-SOURCE-RANGES-FIREWALL', '-j', 'DROP');
  for (const e of lbNoNodeAccess) W(filter, '-A', 'KUBE-IPVS-OUT-FILTER', '-s', e.ip, '-m', 'ipvs', '--vaddr', e.ip, '--vproto', e.proto, '--vport', String(e.port), '-j', 'DROP');
  for (const s of ['KUBE-CLUSTER-IP', 'KUBE-LOAD-BALANCER']) if (nonEmpty(s)) W(nat, '-A', 'KUBE-SERVICES', '-m', 'set', '--match-set', setName(s), 'dst,dst', '-j', 'ACCEPT');
  W(filter, '-A', 'KUBE-FORWARD', '-m', 'comment', '--comment', q('kubernetes forwarding rules'), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT');
  W(filter, '-A', 'KUBE-FORWARD', '-m', 'comment', '--comment', q('kubernetes forwarding conntrack rule'), '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT');
  W(filter, '-A', 'KUBE-NODE-PORT', '-m', 'comment', '--comment', comment('KUBE-HEALTH-CHECK-NODE-PORT'), '-m', 'set', '--match-set', setName('KUBE-HEALTH-CHECK-NODE-PORT'), 'dst', '-j', 'ACCEPT');
  for (const s of ['KUBE-LOAD-BALANCER', 'KUBE-CLUSTER-IP', 'KUBE-EXTERNAL-IP', 'KUBE-EXTERNAL-IP-LOCAL']) W(filter, '-A', 'KUBE-IPVS-FILTER', '-m', 'set', '--match-set', setName(s), 'dst,dst', '-j', 'RETURN');
  W(filter, '-A', 'KUBE-IPVS-FILTER', '-m', 'set', '--match-set', setName('KUBE-HEALTH-CHECK-NODE-PORT'), 'dst', '-j', 'RETURN');
  W(filter, '-A', 'KUBE-IPVS-FILTER', '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'set', '--match-set', setName('KUBE-IPVS-IPS'), 'dst', '-j', 'REJECT');
  W(nat, '-A', 'KUBE-POSTROUTING', '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  W(nat, '-A', 'KUBE-POSTROUTING', '-j', 'MARK', '--xor-mark', mark);
  W(nat, '-A', 'KUBE-POSTROUTING', '-m', 'comment', '--comment', q('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE', ...((opts.randomFully ?? true) ? ['--random-fully'] : []));
  W(nat, '-A', 'KUBE-MARK-MASQ', '-j', 'MARK', '--or-mark', mark);

  const restore = ['*nat', ...NAT_CHAINS.map((c) => `:${c} - [0:0]`), ...nat, 'COMMIT', '*filter', ...FILTER_CHAINS.map((c) => `:${c} - [0:0]`), ...filter, 'COMMIT', ''].join('\n');
  const ruleset = newRuleset(family, ['mangle', 'filter', 'nat']);
  for (const t of ['mangle', 'filter', 'nat'] as const) ensureChain(ensureTable(ruleset, t), 'KUBE-PROXY-CANARY');
  for (const j of IPVS_JUMPS) {
    const t = ensureTable(ruleset, j.table);
    ensureChain(t, j.to);
    t.chains.get(j.from)!.rules.unshift(parseRuleArgs(['-m', 'comment', '--comment', j.comment, '-j', j.to], family, () => true));
  }
  restoreInto(ruleset, restore, true);
  return { family, boundAddresses: [...bound], services, ipsets, restore, ruleset };
}
