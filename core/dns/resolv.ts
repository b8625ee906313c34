// Pod /etc/resolv.conf as kubelet + the container runtime write it, and the
// glibc stub resolver's query sequence (search list under ndots).

import { Cidr, formatIP } from '../net';
import type { PodModel, Topology } from '../model/types';

export type DnsPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** Other `options` tokens (single-request, single-request-reopen, edns0, timeout:n…). */
  options: string[];
  /** The file text (containerd writes search, then nameserver lines, then options). */
  text: string;
  /** Why these values (policy, NodeLocal DNSCache, hostNetwork). */
  notes: string[];
  /** Where queries to the first nameserver are answered. */
  servedBy: 'kube-dns' | 'node-local-dns' | 'node resolver';
}

export interface ResolvOptions {
  /** spec.dnsPolicy (default ClusterFirst). */
  dnsPolicy?: DnsPolicy;
  /** kubelet --cluster-dns / clusterDNS; default: kube-dns's ClusterIP, or the NodeLocal address in IPVS mode. */
  kubeletClusterDNS?: string[];
  /** The node's own /etc/resolv.conf (for Default, hostNetwork+ClusterFirst, and the search domains kubelet appends). */
  nodeResolvConf?: { nameservers: string[]; search: string[] };
  /** Extra `options` (spec.dnsConfig.options), e.g. single-request-reopen. */
  options?: string[];
}

/** kube-dns's ClusterIP: the Service kube-system/kube-dns, else the 10th address of the first service CIDR (kubeadm). */
export function kubeDnsIP(topo: Topology): string {
  const svc = topo.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  const ip = svc?.clusterIPs.find((x) => x !== 'None');
  if (ip) return ip;
  const c = Cidr.tryParse(topo.settings.serviceCIDRs[0] ?? '10.96.0.0/12');
  return c ? formatIP(c.nth(10)) : '10.96.0.10';
}

function render(rc: Omit<ResolvConf, 'text' | 'notes' | 'servedBy'>): string {
  const lines: string[] = [];
  if (rc.search.length) lines.push(`search ${rc.search.join(' ')}`);
  for (const ns of rc.nameservers) lines.push(`nameserver ${ns}`);
  const opts = [`ndots:${rc.ndots}`, ...rc.options];
  if (rc.ndots !== 1 || rc.options.length) lines.push(`options ${opts.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** The resolv.conf a pod gets. */
export function podResolvConf(topo: Topology, pod: Pick<PodModel, 'namespace' | 'hostNetwork'>, opts: ResolvOptions = {}): ResolvConf {
  const domain = topo.settings.dns.clusterDomain;
  const nodeRc = opts.nodeResolvConf ?? { nameservers: [], search: [] };
  const notes: string[] = [];
  let policy = opts.dnsPolicy ?? 'ClusterFirst';
  if (pod.hostNetwork && policy === 'ClusterFirst') {
    notes.push('hostNetwork pod with dnsPolicy ClusterFirst falls back to "Default": it uses the node\'s resolv.conf and cannot resolve Service names; set dnsPolicy: ClusterFirstWithHostNet to use cluster DNS.');
    policy = 'Default';
  }
  if (policy === 'Default' || policy === 'None') {
    notes.push(policy === 'Default' ? "dnsPolicy Default: the node's own /etc/resolv.conf (not part of the topology unless given)." : 'dnsPolicy None: only spec.dnsConfig applies.');
    const rc = { nameservers: nodeRc.nameservers, search: nodeRc.search, ndots: 1, options: opts.options ?? [] };
    return { ...rc, text: render(rc), notes, servedBy: 'node resolver' };
  }
  const kubeDns = kubeDnsIP(topo);
  const nl = topo.settings.dns.nodeLocalDNS;
  const ipvs = topo.settings.kubeProxy?.mode === 'ipvs';
  let nameservers: string[];
  let servedBy: ResolvConf['servedBy'] = 'kube-dns';
  if (opts.kubeletClusterDNS) {
    nameservers = opts.kubeletClusterDNS;
    if (nl && nameservers.includes(topo.settings.dns.nodeLocalIP)) servedBy = 'node-local-dns';
    else if (nl && !ipvs && nameservers.includes(kubeDns)) servedBy = 'node-local-dns';
  } else if (nl && ipvs) {
    nameservers = [topo.settings.dns.nodeLocalIP];
    servedBy = 'node-local-dns';
    notes.push(`NodeLocal DNSCache with kube-proxy in IPVS mode: kubelet's clusterDNS must be ${topo.settings.dns.nodeLocalIP} (node-local-dns cannot bind ${kubeDns}, which kube-ipvs0 already holds), so pods list ${topo.settings.dns.nodeLocalIP}.`);
  } else if (nl) {
    nameservers = [kubeDns];
    servedBy = 'node-local-dns';
    notes.push(
      `NodeLocal DNSCache in iptables mode binds both ${topo.settings.dns.nodeLocalIP} and ${kubeDns} on the nodelocaldns dummy interface (with NOTRACK rules in the raw table), so pods keep "nameserver ${kubeDns}" and their queries are answered by the node's cache; pods list ${topo.settings.dns.nodeLocalIP} only when kubelet's clusterDNS is set to it.`,
    );
  } else {
    nameservers = [kubeDns];
  }
  const search = [`${pod.namespace}.svc.${domain}`, `svc.${domain}`, domain, ...nodeRc.search];
  if (search.length > 32) notes.push('glibc ≥ 2.26 reads at most 32 search domains (kubelet warns and truncates)');
  const rc = { nameservers, search, ndots: topo.settings.dns.ndots, options: opts.options ?? [] };
  return { ...rc, text: render(rc), notes, servedBy };
}

/** Parses resolv.conf text (nameserver, search/domain, options). */
export function parseResolvConf(text: string): Omit<ResolvConf, 'text' | 'notes' | 'servedBy'> {
  const rc = { nameservers: [] as string[], search: [] as string[], ndots: 1, options: [] as string[] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [kw, ...rest] = line.split(/\s+/);
    if (kw === 'nameserver' && rest[0] && rc.nameservers.length < 3) rc.nameservers.push(rest[0]);
    else if (kw === 'search' || kw === 'domain') rc.search = rest;
    else if (kw === 'options')
      for (const o of rest) {
        const m = /^ndots:(\d+)$/.exec(o);
        if (m) rc.ndots = Math.min(15, Number(m[1]));
        else rc.options.push(o);
      }
  }
  return rc;
}

export interface Candidate {
  /** Fully qualified query name, with the trailing dot. */
  fqdn: string;
  /** How glibc got it. */
  via: 'search' | 'as-is';
}

/**
 * glibc res_nsearch order: a name ending in "." is queried only as is; a name
 * with at least `ndots` dots is tried as is first, then with each search
 * domain; otherwise each search domain first, then the name as is.
 */
export function searchCandidates(name: string, rc: Pick<ResolvConf, 'search' | 'ndots'>): Candidate[] {
  if (name.endsWith('.')) return [{ fqdn: name, via: 'as-is' }];
  const dots = (name.match(/\./g) ?? []).length;
  const searched = rc.search.map((d) => ({ fqdn: `${name}.${d}.`, via: 'search' as const }));
  const asIs = { fqdn: `${name}.`, via: 'as-is' as const };
  return dots >= rc.ndots ? [asIs, ...searched] : [...searched, asIs];
}
