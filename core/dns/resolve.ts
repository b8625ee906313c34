// A pod resolving a name: resolv.conf, the glibc search sequence (A and AAAA
// sent together on one socket for each candidate, A first; `single-request`
// serialises them), CoreDNS answers, and NodeLocal DNSCache when enabled.

import type { PodModel, Topology } from '../model/types';
import { CoreDns, type CoreDnsOptions, type DnsAnswer, type RR } from './coredns';
import { DnsCache } from './cache';
import { podResolvConf, searchCandidates, type Candidate, type ResolvConf, type ResolvOptions } from './resolv';

export interface QueryStep {
  qname: string;
  qtype: 'A' | 'AAAA';
  via: Candidate['via'];
  rcode: DnsAnswer['rcode'];
  answer: RR[];
  /** kube-dns (CoreDNS via the Service), or the node-local cache (hit or miss → kube-dns). */
  servedBy: 'kube-dns' | 'node-local-dns cache hit' | 'node-local-dns → kube-dns';
  /** `parallel`: sent together with its A/AAAA sibling on one socket; `sequential`: single-request. */
  sending: 'parallel' | 'sequential';
  explain: string;
}

export interface Resolution {
  resolv: ResolvConf;
  candidates: Candidate[];
  queries: QueryStep[];
  /** The name that produced addresses (with the trailing dot). */
  answeredBy?: string;
  addresses: string[];
  /** found / NXDOMAIN for every candidate / forwarded upstream (outside the model). */
  outcome: 'found' | 'nxdomain' | 'forwarded';
  notes: string[];
}

export interface ResolveOptions {
  /** getaddrinfo family: AF_UNSPEC asks A and AAAA, AF_INET only A, AF_INET6 only AAAA. */
  family?: 'unspec' | 'inet' | 'inet6';
  /** Seconds on the caller's clock (cache ages). */
  now?: number;
  /** NodeLocal DNSCache of the pod's node (used when settings.dns.nodeLocalDNS). */
  cache?: DnsCache;
  resolv?: ResolvOptions;
  /** The pod's resolv.conf, when the caller already built it (podResolvConf with no options); `resolv` options take precedence. */
  conf?: ResolvConf;
  coredns?: CoreDnsOptions;
  /** A CoreDns the caller keeps for this topology (its indexes are built once); ignored when `coredns` options are given. */
  server?: CoreDns;
}

export function resolveName(topo: Topology, pod: Pick<PodModel, 'namespace' | 'hostNetwork'>, name: string, opts: ResolveOptions = {}): Resolution {
  const resolv = opts.conf && !opts.resolv ? opts.conf : podResolvConf(topo, pod, opts.resolv);
  const notes = [...resolv.notes];
  const candidates = searchCandidates(name, resolv);
  const dns = opts.server && !opts.coredns ? opts.server : new CoreDns(topo, opts.coredns);
  const family = opts.family ?? 'unspec';
  const types: ('A' | 'AAAA')[] = family === 'inet' ? ['A'] : family === 'inet6' ? ['AAAA'] : ['A', 'AAAA'];
  const sending = resolv.options.includes('single-request') || resolv.options.includes('single-request-reopen') ? 'sequential' : 'parallel';
  const useCache = resolv.servedBy === 'node-local-dns';
  const cache = useCache ? (opts.cache ?? new DnsCache()) : undefined;
  const queries: QueryStep[] = [];
  if (resolv.servedBy === 'node resolver') {
    notes.push("queries go to the node's resolvers, outside the model");
    return { resolv, candidates, queries, addresses: [], outcome: 'forwarded', notes };
  }
  for (const c of candidates) {
    const got: RR[] = [];
    let forwarded = false;
    for (const t of types) {
      let a: DnsAnswer;
      let servedBy: QueryStep['servedBy'] = 'kube-dns';
      if (cache) {
        const r = cache.lookup(opts.now ?? 0, c.fqdn, t, () => dns.answer(c.fqdn, t));
        a = r.answer;
        servedBy = r.hit ? 'node-local-dns cache hit' : 'node-local-dns → kube-dns';
      } else a = dns.answer(c.fqdn, t);
      queries.push({ qname: c.fqdn, qtype: t, via: c.via, rcode: a.rcode, answer: a.answer, servedBy, sending: types.length > 1 ? sending : 'sequential', explain: a.explain });
      if (a.rcode === 'FORWARD') forwarded = true;
      got.push(...a.answer);
    }
    if (got.length) {
      return { resolv, candidates, queries, answeredBy: c.fqdn, addresses: got.filter((r) => r.type === 'A' || r.type === 'AAAA').map((r) => r.data), outcome: 'found', notes };
    }
    if (forwarded) {
      notes.push(`${c.fqdn} is outside the cluster domain: its answer comes from the upstream resolvers (not modelled)`);
      return { resolv, candidates, queries, answeredBy: c.fqdn, addresses: [], outcome: 'forwarded', notes };
    }
  }
  return { resolv, candidates, queries, addresses: [], outcome: 'nxdomain', notes };
}
