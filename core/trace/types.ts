// The packet walk's public types. The UI's packet stepper and the labs'
// trace/predict graders consume TraceResult: an ordered list of TraceEvents,
// each a single thing that happens to one packet at one place, with the
// packet's full headers at that point.

import type { EncapsulationKind } from '../cni';

// ---------------------------------------------------------------- requests

/** What the source pod does, parsed from `curl http://…`, `tcp://IP:PORT`, `udp://IP:PORT`, `ping IP`, `dns NAME`. */
export interface TraceRequest {
  kind: 'http' | 'tcp' | 'udp' | 'ping' | 'dns';
  /** The text as given. */
  text: string;
  /** A DNS name (resolved first, through the glibc search list) or an IP address. */
  host: string;
  /** True when `host` is an IP address (no DNS phase). */
  hostIsIP: boolean;
  /** Destination port (http default 80, https 443); absent for ping and dns. */
  port?: number;
  /** HTTP method and path (http only). */
  method?: string;
  path?: string;
  /** Request headers given with curl -H (names lower-cased; http only). */
  headers?: Record<string, string>;
}

// ---------------------------------------------------------------- headers

export interface EthHeader {
  src: string;
  dst: string;
  /** True when either MAC is a deterministic stand-in (real MACs are random). */
  synthetic: boolean;
}

export interface IpHeader {
  version: 4 | 6;
  src: string;
  dst: string;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl: number;
  /** Don't Fragment (IPv4); always true for IPv6 (routers never fragment). */
  df: boolean;
  /** IPv4 total length / IPv6 payload length + 40, in bytes. */
  length: number;
  protocol: 'TCP' | 'UDP' | 'ICMP' | 'ICMPv6';
}

export interface TcpHeader {
  sport: number;
  dport: number;
  /** tcpdump letters: S, F, R, P, . (ACK) — e.g. ['S'], ['S', '.'], ['P', '.']. */
  flags: string[];
  seq: number;
  ack?: number;
  window: number;
  /** TCP options as tcpdump prints them (SYN/SYN-ACK): `mss 1460,sackOK,TS val … ecr 0,nop,wscale 7`. */
  options?: string;
  /** Payload bytes. */
  payload: number;
}

export interface UdpHeader {
  sport: number;
  dport: number;
  /** UDP length (8 + payload). */
  length: number;
}

export interface IcmpHeader {
  type: number;
  code: number;
  /** Echo identifier / sequence (echo request/reply). */
  id?: number;
  seq?: number;
  /** tcpdump's text for the message, e.g. `echo request`, `10.96.5.20 tcp port 80 unreachable`. */
  text: string;
  /** ICMP length (header + data). */
  length: number;
}

export interface DnsHeader {
  id: number;
  /** Query or response. */
  qr: boolean;
  qname: string;
  qtype: 'A' | 'AAAA';
  rcode?: 'NOERROR' | 'NXDOMAIN';
  /** Answer records as `TYPE DATA` (e.g. `A 10.96.5.20`). */
  answers: string[];
  /** Authority records (the SOA of NXDOMAIN / NODATA). */
  authority: number;
  /** DNS message length in bytes (what tcpdump prints in parentheses). */
  length: number;
}

/** Outer headers of a tunnelled packet (VXLAN/Geneve/IPIP/WireGuard/sleeve), as core/cni's encapsulate() builds them. */
export interface OuterHeader {
  kind: EncapsulationKind;
  eth: { src: string; dst: string };
  /** `version: 6` only for an IPv6 underlay (Calico's vxlan-v6.calico, flannel-v6.1); absent means IPv4. */
  ip: { version?: 6; src: string; dst: string; protocol: number; ttl: number; df: boolean; length: number };
  udp?: { sport: number; dport: number; length: number };
  vxlan?: { flags: number; vni: number };
  geneve?: { vni: number };
  /** The inner Ethernet header a VXLAN/Geneve frame carries (VTEP MACs). */
  innerEth?: { src: string; dst: string };
}

/** The packet at one point of its walk. Objects are immutable: a change makes a new one. */
export interface PacketHeaders {
  eth?: EthHeader;
  ip: IpHeader;
  tcp?: TcpHeader;
  udp?: UdpHeader;
  icmp?: IcmpHeader;
  dns?: DnsHeader;
  /** Set while the packet is encapsulated. */
  outer?: OuterHeader;
}

// ---------------------------------------------------------------- events

export type TraceEventKind =
  /** DNS: the glibc search sequence starts (resolv.conf, candidates). */
  | 'dns-lookup'
  /** DNS: one query leaves the application (its own mini-walk follows). */
  | 'dns-query'
  /** DNS: the server (CoreDNS or node-local-dns) answers. */
  | 'dns-answer'
  /** DNS: the resolver has the address (or gives up). */
  | 'dns-result'
  /** The application's socket: connect()/sendto() with the ephemeral port. */
  | 'socket'
  /** A route lookup (pod or node namespace), with the route that matched. */
  | 'route'
  /** Crossing a veth pair between a pod's namespace and its node. */
  | 'veth'
  /** L2 forwarding on a Linux bridge (cni0, weave) or an OVS bridge port. */
  | 'bridge'
  /** One netfilter hook on a node: tables, chains and the rules that matched. */
  | 'netfilter'
  /** The Service load-balancing decision (kube-proxy iptables/IPVS, Cilium BPF, AntreaProxy). */
  | 'service'
  /** Destination NAT (Service → endpoint). */
  | 'dnat'
  /** Source NAT (masquerade). */
  | 'snat'
  /** Reverse NAT of a reply from the conntrack entry (the reply seen from the Service address). */
  | 'reverse-nat'
  /** A conntrack entry created or matched (`conntrack -L` line). */
  | 'conntrack'
  /** A NetworkPolicy enforcement point: egress at the source, ingress at the destination. */
  | 'policy'
  /** An eBPF program (Cilium bpf_lxc / bpf_host / bpf_overlay). */
  | 'bpf'
  /** The OVS pipeline (Antrea br-int). */
  | 'ovs'
  /** A service-mesh sidecar (Istio's Envoy) acts: listener, route, cluster, TLS, local reply. */
  | 'proxy'
  /** Tunnel encapsulation: outer headers added. */
  | 'encap'
  /** Tunnel decapsulation: outer headers removed. */
  | 'decap'
  /** An MTU check that did not pass silently (fragmentation, ICMP frag needed, black hole). */
  | 'mtu'
  /** On the wire between two nodes (the node network). */
  | 'wire'
  /** Delivered to the destination socket. */
  | 'deliver'
  /** The server works on the request (backend, CoreDNS). */
  | 'process'
  /** Packets that follow an established connection, summarised (ACK, request data, response). */
  | 'exchange'
  /** An ICMP error generated on the path (port unreachable, fragmentation needed). */
  | 'icmp'
  /** The walk ends here: the packet is dropped or rejected. */
  | 'drop';

export type TraceVerdict = 'pass' | 'accept' | 'forward' | 'dnat' | 'snat' | 'deliver' | 'drop' | 'reject' | 'info';

export type DropReason = 'policy' | 'no-route' | 'no-endpoints' | 'mtu' | 'conntrack-full' | 'nxdomain' | 'unreachable';

export type Phase = 'dns' | 'request' | 'reply' | 'exchange';

/** Latency categories, in the form of the seed's latency breakdown. */
export type LatencyCategory = 'dns' | 'service' | 'mesh' | 'encap' | 'transit' | 'backend';

/**
 * Where an event happens, in the UI graph's element ids: `node/<name>`,
 * `pod/<ns>/<name>`, `svc/<ns>/<name>` (see renderer/src/graph/elements.ts).
 */
export interface EventLocation {
  /** The element to highlight for this step. */
  element: string;
  /** The node whose kernel acts (absent for the wire and external hosts). */
  node?: string;
  /** The network namespace: `node/<name>` or `pod/<ns>/<name>`. */
  netns?: string;
  /** The interface the packet is on (e.g. `eth0`, `cali5e1c4d6c68c`, `vxlan.calico`). */
  iface?: string;
  /** For wire and veth events: the element the packet moves to. */
  to?: string;
}

export interface TraceEvent {
  /** 1-based position in the walk. */
  seq: number;
  phase: Phase;
  /** Which packet, e.g. `TCP SYN`, `DNS query 1 A backend.default.svc.cluster.local.default.svc.cluster.local.`. */
  packet: string;
  direction: 'request' | 'response';
  kind: TraceEventKind;
  at: EventLocation;
  /** One line: what happens. */
  action: string;
  /** Why, in the words of the kernel / plugin (longer). */
  detail: string;
  /**
   * The rule or route that acted, exactly as the real tool prints it
   * (`iptables-save` rule, `ip route` line, BPF/OVS description).
   */
  rule?: string;
  /** Every rule line traversed (netfilter: the matches in order, iptables-save form). */
  rules?: string[];
  /** Netfilter hook, for netfilter events. */
  hook?: 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';
  verdict: TraceVerdict;
  /** The packet's headers after this step. */
  headers: PacketHeaders;
  /** Header fields this step changed (`ip.dst`, `tcp.dport`, `eth.src`, `outer`, `ip.ttl`…). */
  changed: string[];
  /** Estimated cost of this step in microseconds (see latency.ts for the model). */
  latencyUs: number;
  category: LatencyCategory;
  /** Microseconds since the walk started, after this step. */
  timeUs: number;
  /** A command that shows this hop on a real node (for the UI's terminal). */
  command?: string;
  /** The conntrack entry as `conntrack -L` prints it (conntrack events, and NAT steps). */
  conntrack?: string;
  /** For Cilium walks: the `hubble observe` line this point produces. */
  hubble?: string;
  /** For drop events. */
  drop?: { reason: DropReason; text: string };
  /** Where the seed document is wrong about this step, and what the model follows. */
  seedNote?: string;
}

// ---------------------------------------------------------------- results

export interface LatencyBreakdown {
  /** Microseconds per category. */
  dnsUs: number;
  serviceUs: number;
  /**
   * Istio sidecars (istio-iptables redirects, Envoy listener/route/cluster,
   * mTLS, policy checks): present only when a sidecar took part. The seed's
   * five categories have no row for it.
   */
  meshUs?: number;
  encapUs: number;
  transitUs: number;
  backendUs: number;
  totalUs: number;
  /** Encapsulation label for the table (`VXLAN encap/decap`, `IPIP encap/decap`, `Encap/decap (none)`). */
  encapLabel: string;
  /** The table in the seed's form (Component / Time). */
  table: string;
  /** How the figures are estimated, and why they differ from the seed's 24 ms. */
  note: string;
}

export interface ServiceChoice {
  service: string;
  /** Every endpoint the data plane could pick, with its probability. */
  outcomes: { endpoint: string; probability: number; pod?: string; node?: string }[];
  /** The endpoint this walk took. */
  chosen?: string;
  mode: string;
}

export interface TraceResult {
  request: TraceRequest;
  source: { ref: string; ip: string; node: string; hostNetwork: boolean };
  /** The address finally contacted (after DNS), and the Service it belongs to. */
  target?: { ip: string; port?: number; service?: string };
  cni: { plugin: string; mode: string; encapsulation: EncapsulationKind };
  kubeProxy: string;
  family: 4 | 6;
  events: TraceEvent[];
  /** True when the request got its answer. */
  ok: boolean;
  /** The drop that ended the walk. */
  dropped?: { reason: DropReason; text: string; seq: number };
  /**
   * The HTTP status the client application receives when a proxy answers
   * instead of the server: Istio's sidecars (403 RBAC: access denied, 503 no
   * healthy upstream / upstream reset, a VirtualService local reply).
   */
  httpStatus?: number;
  services: ServiceChoice[];
  latency: LatencyBreakdown;
  /** conntrack -L per node touched, after the walk. */
  conntrack: Record<string, string[]>;
  /** Explanations the UI shows beside the walk (modelled choices, seed corrections). */
  notes: string[];
}
