// The packet walk's latency model: a cost per event, in microseconds.
//
// These are order-of-magnitude estimates for an idle 10/25 GbE data-centre
// LAN and current x86 servers, not measurements. They follow published
// figures of the same order: a node-to-node round trip of ~100 µs on a LAN
// (ping between VMs in one zone: 50–300 µs), a veth crossing of a few µs,
// iptables rule evaluation of tens of ns per rule (linear in the chain, which
// is why kube-proxy's iptables mode slows down with thousands of Services and
// IPVS / eBPF do not), a conntrack insert under a µs, VXLAN encapsulation of a
// few µs, and CoreDNS answering a cluster name from memory in a few hundred
// µs. A small HTTP request served by nginx from memory takes a few hundred µs.
//
// The seed document's breakdown (DNS 6 ms, Service load balancing 5 ms,
// VXLAN 1 ms, transit 10 ms, backend 2 ms, total 24 ms) is an illustration:
// on a real LAN the whole exchange is well under a millisecond apart from the
// backend's own work and the DNS search-list round trips. The walk reports
// the model's figures and says so.

import type { LatencyCategory } from './types';

export interface LatencyModel {
  /** connect()/sendto(): the syscall and the sender's stack down to the device. */
  socketUs: number;
  /** Crossing a veth pair (netns switch, backlog softirq). */
  vethUs: number;
  /** A Linux bridge or OVS port forwarding a frame (FDB / megaflow hit). */
  bridgeUs: number;
  /** One FIB lookup (LPM trie). */
  routeUs: number;
  /** Entering one netfilter hook that has tables registered. */
  hookUs: number;
  /** One iptables rule evaluated (linear scan; count from the evaluator's rulesEvaluated). */
  ruleUs: number;
  /** nf_conntrack: creating an entry (hash insert, NAT binding). */
  conntrackNewUs: number;
  /** nf_conntrack: finding an existing entry. */
  conntrackHitUs: number;
  /** A NAT header rewrite with checksum update. */
  natUs: number;
  /** IPVS: scheduling and connection entry. */
  ipvsUs: number;
  /** One eBPF program run with its map lookups (Cilium). */
  bpfUs: number;
  /** Encapsulation: outer headers plus the second pass through the stack. */
  encapUs: number;
  decapUs: number;
  /** One node-to-node hop on the node network: NIC, switch, interrupt, one way. */
  wireUs: number;
  /** Extra per routed underlay hop (nodes in different subnets). */
  routerHopUs: number;
  /** CoreDNS answering a cluster name (kubernetes plugin, in memory). */
  dnsServerUs: number;
  /** node-local-dns answering from its cache. */
  nodeLocalHitUs: number;
  /** The backend's own work for a small HTTP request (or echo for TCP/UDP). */
  backendUs: number;
  /** Waking the receiving application and copying the data. */
  deliverUs: number;
}

export const DEFAULT_LATENCY: Readonly<LatencyModel> = Object.freeze({
  socketUs: 5,
  vethUs: 2,
  bridgeUs: 1,
  routeUs: 0.1,
  hookUs: 0.3,
  ruleUs: 0.02,
  conntrackNewUs: 0.8,
  conntrackHitUs: 0.15,
  natUs: 0.2,
  ipvsUs: 1,
  bpfUs: 0.3,
  encapUs: 3,
  decapUs: 3,
  wireUs: 50,
  routerHopUs: 30,
  dnsServerUs: 150,
  nodeLocalHitUs: 40,
  backendUs: 500,
  deliverUs: 5,
});

export const LATENCY_NOTE =
  'Latencies come from a per-event cost model (core/trace/latency.ts): order-of-magnitude figures for an idle data-centre LAN ' +
  '(wire hop 50 µs one way, veth 2 µs, iptables 20 ns per rule evaluated, conntrack insert 0.8 µs, VXLAN encap/decap 3 µs each, ' +
  'CoreDNS 150 µs, backend 500 µs). They are estimates, not measurements. The seed\'s breakdown (24 ms in total, 6 ms of DNS, ' +
  '10 ms of transit) is an illustration: a real LAN carries this exchange in well under a millisecond apart from the backend\'s own work.';

export const CATEGORY_LABELS: Record<LatencyCategory, string> = {
  dns: 'DNS resolution',
  service: 'Service load balancing',
  mesh: 'Service mesh (Istio sidecars)',
  encap: 'encap/decap',
  transit: 'Network transit',
  backend: 'Backend processing',
};

/** `0.42ms`, `24ms`, `850µs` — the seed prints whole milliseconds; the model needs µs. */
export function formatUs(us: number): string {
  if (us >= 1000) {
    const ms = us / 1000;
    return `${ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)}ms`;
  }
  return `${us >= 10 ? us.toFixed(0) : us.toFixed(1)}µs`;
}
