// The data plane a CNI plugin leaves on a node and in a pod: interfaces,
// addresses, routes (main and local tables), neighbours, FDB entries,
// sysctls, plugin maps and the CNI ADD result. Field names follow what
// `ip -j` and the CNI spec print, so renderers stay thin.

import type { CniPlugin, PodModel, Topology } from '../model/types';

export type EncapsulationKind = 'none' | 'vxlan' | 'ipip' | 'geneve' | 'sleeve' | 'wireguard';

/** Link kinds as `ip -d link` names them (`device` = a physical/virtio NIC). */
export type LinkKind =
  | 'loopback'
  | 'device'
  | 'veth'
  | 'bridge'
  | 'vxlan'
  | 'ipip'
  | 'geneve'
  | 'dummy'
  | 'openvswitch'
  | 'wireguard';

export type AddrScope = 'global' | 'link' | 'host';

export interface IfAddress {
  family: 4 | 6;
  local: string;
  prefixlen: number;
  /** IPv4 broadcast address (`brd`), when the address carries one. */
  broadcast?: string;
  scope: AddrScope;
  /** Derived from a synthetic MAC (IPv6 link-local EUI-64): differs on real nodes. */
  synthetic?: boolean;
}

export interface VxlanAttrs {
  /** VNI; absent for flow-based (`external`) devices such as cilium_vxlan. */
  id?: number;
  external: boolean;
  local?: string;
  dev?: string;
  dstport: number;
  learning: boolean;
  ageing: number;
}

export interface GeneveAttrs {
  id?: number;
  external: boolean;
  dstport: number;
}

export interface IpipAttrs {
  /** tunl0 is the catch-all fallback device: no local/remote. */
  local?: string;
  remote?: string;
}

/** The part after `@` in `ip link` output. */
export type LinkRef =
  | { kind: 'none' } // tunl0@NONE
  | { kind: 'same-netns'; name: string } // cilium_host@cilium_net
  | { kind: 'other-netns'; ifindex: number; netns?: string; netnsid?: number }; // eth0@if7 … link-netnsid 0

export interface NetInterface {
  ifindex: number;
  name: string;
  kind: LinkKind;
  link?: LinkRef;
  /** `link/ether`, `link/loopback`, `link/ipip`, `link/none`. */
  linkType: 'ether' | 'loopback' | 'ipip' | 'none';
  mac: string;
  /** Broadcast link-layer address printed after `brd`. */
  brd: string;
  /** True when the MAC is a deterministic stand-in (real MACs are random); compare ignores it. */
  macSynthetic: boolean;
  mtu: number;
  /** The flags between `<` and `>`, in iproute2's order. */
  flags: string[];
  qdisc: string;
  operstate: 'UP' | 'DOWN' | 'UNKNOWN' | 'LOWERLAYERDOWN';
  master?: string;
  /** Printed as `qlen N` when set (veths have none). */
  txqlen?: number;
  addresses: IfAddress[];
  vxlan?: VxlanAttrs;
  geneve?: GeneveAttrs;
  ipip?: IpipAttrs;
  /** Bridge port settings (the bridge plugin turns hairpin on for flannel). */
  bridgeSlave?: { hairpin: boolean };
  /** What created the interface and why (shown by the UI). */
  description: string;
}

/**
 * `anycast`: an IPv6 subnet-router anycast address (table local), added per prefix when the host forwards IPv6.
 * `throw`: ends the lookup in this table without a result, so the next policy rule is tried (felix's table 1).
 */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';
export type RouteScope = 'global' | 'link' | 'host';
export type RouteTable = 'main' | 'local' | number;

/** A route with exactly the attributes `ip route` prints. */
export interface Route {
  type: RouteType;
  family: 4 | 6;
  /** Canonical CIDR text (`0.0.0.0/0` for default, `/32` for hosts); the renderer shortens it. */
  dst: string;
  gateway?: string;
  dev?: string;
  table: RouteTable;
  /** `kernel`, `boot`, `static`, `bird`, `dhcp` or a number such as `80` (Calico felix). */
  protocol: string;
  scope: RouteScope;
  prefsrc?: string;
  metric?: number;
  /** Next-hop flags, e.g. `onlink`. */
  flags: string[];
  /** RTAX_MTU (`mtu N` after the flags). */
  mtu?: number;
  /** Who installed it and why (felix, BIRD, the kernel for an address, a CNI plugin…). */
  origin: string;
}

/**
 * One policy routing rule (RPDB entry), with the selectors `ip rule` prints.
 * A packet matches when every selector present matches (inverted by `not`);
 * the lookup then goes to `table`, and continues with the next rule when that
 * table has no route for the destination or its route is a `throw`.
 */
export interface RoutingRule {
  family: 4 | 6;
  /** The preference (`ip rule` prints it before the colon); lower is tried first. */
  priority: number;
  /** FIB_RULE_INVERT: the rule applies to packets its selectors do NOT match. */
  not?: boolean;
  /** Source prefix (canonical CIDR); absent: `from all`. */
  from?: string;
  /** Destination prefix (canonical CIDR); absent: any destination (iproute2 prints nothing). */
  to?: string;
  /** Firewall mark to compare (`fwmark MARK[/MASK]`). */
  fwmark?: number;
  /** Mask for `fwmark`; absent: 0xffffffff (printed without `/MASK`). */
  fwmask?: number;
  /** Input interface (`iif`); locally generated packets come from `lo`. */
  iif?: string;
  /** Output interface (`oif`): matches only when the sender bound the socket to it. */
  oif?: string;
  /** The table to look in (`lookup`): `default` is table 253. */
  table: RouteTable | 'default';
  /** Who installed it and why (the kernel's defaults, felix, …). */
  origin: string;
}

export type NeighbourState = 'PERMANENT' | 'REACHABLE' | 'STALE' | 'NOARP';

export interface Neighbour {
  ip: string;
  dev: string;
  lladdr?: string;
  state: NeighbourState;
  origin: string;
}

export interface FdbEntry {
  mac: string;
  dev: string;
  vlan?: number;
  dst?: string;
  self: boolean;
  master?: string;
  state?: 'permanent' | 'static';
  origin: string;
  /** True when the MAC in this entry is synthetic. */
  macSynthetic: boolean;
}

/** An eBPF map or OVS table a plugin keeps (Cilium ipcache / tunnel map, Antrea OVS ports). */
export interface PluginMap {
  name: string;
  /** The command whose output the rows imitate (e.g. `cilium bpf tunnel list`). */
  command: string;
  columns: string[];
  rows: string[][];
  description: string;
}

/** One network namespace: a node's host namespace or a pod's. */
export interface NetNamespace {
  /** `node/<name>` or `pod/<namespace>/<name>`. */
  id: string;
  interfaces: NetInterface[];
  /** Routes of all tables, in the kernel's dump order (per family: numbered tables, main, local). */
  routes: Route[];
  /**
   * The policy routing rules of both families, in priority order, as `ip rule`
   * lists them (the kernel's defaults included). Absent: only the kernel's
   * defaults (`0: from all lookup local`, `32766: from all lookup main`,
   * `32767: from all lookup default`; IPv6 has no 32767 rule).
   */
  rules?: RoutingRule[];
  neighbours: Neighbour[];
  fdb: FdbEntry[];
  /** sysctl name → value, e.g. `net.ipv4.conf.cali1234567890a.proxy_arp` → `1`. */
  sysctls: Record<string, string>;
}

export interface NodeDataplane extends NetNamespace {
  kind: 'node';
  node: string;
  nodeIP: string;
  plugin: CniPlugin;
  mode: string;
  maps: PluginMap[];
  /** Explanations the UI shows next to the node (modelled choices, corrections). */
  notes: string[];
}

export interface PodDataplane extends NetNamespace {
  kind: 'pod';
  namespace: string;
  pod: string;
  node: string;
  /** Name of the pod's interface (always `eth0`). */
  ifname: string;
  /** Name of the host-side interface the pod's eth0 is paired with. */
  hostPeer: string;
  /** Where the runtime pinned the pod netns (containerd: /var/run/netns/cni-<uuid>). */
  netnsPath: string;
  /** The sandbox container ID the model uses (real IDs are random; this one is derived). */
  containerId: string;
}

export interface CniDescription {
  summary: string;
  encapsulation: EncapsulationKind;
  /** Bytes the encapsulation adds to each inner IP packet (IPv4 underlay). */
  overheadBytes: number;
  /** Pod MTU the plugin derives from a 1500-byte node MTU. */
  defaultMtu: number;
  testbedSupported: boolean;
  testbedNote?: string;
  /** Where the seed document and the real plugin disagree, and what the model follows. */
  seedNotes: string[];
  /** The upstream release whose behaviour is modelled. */
  modelledVersion: string;
}

/** The CNI ADD result, as the plugin prints it (key order as in its JSON). */
export type CniResult = Record<string, unknown>;

export interface CniModel {
  plugin: CniPlugin;
  mode: string;
  describe(): CniDescription;
  buildNode(topology: Topology, nodeName: string): NodeDataplane;
  buildPod(topology: Topology, pod: PodModel): PodDataplane;
  cniAddResult(topology: Topology, pod: PodModel): CniResult;
  /** The pod (veth) MTU this plugin configures for the topology. */
  podMtu(topology: Topology): number;
  /**
   * What carries a packet from one node to another: none, a tunnel, or
   * WireGuard. `family` is the inner (pod) packet's family (default 4): a
   * plugin may carry IPv6 differently (Calico has no IPv6 IP-in-IP).
   */
  encapsulationBetween(topology: Topology, srcNode: string, dstNode: string, family?: 4 | 6): EncapsulationKind;
  /**
   * The outer header family of the tunnel that carries inner packets of
   * `family` (Calico's vxlan-v6.calico and flannel-v6.1 use the nodes' IPv6
   * addresses, and so does Antrea's flow-based tunnel port, whose peer is the
   * node's transport address of the inner family; Cilium keeps one IPv4
   * tunnel). Default 4.
   */
  underlayFor?(family: 4 | 6, kind?: EncapsulationKind): 4 | 6;
  /**
   * Why this plugin cannot carry IPv6 pod traffic in the model, or undefined
   * when it can (Weave Net has no IPv6 support at all).
   */
  ipv6Unsupported?(topology: Topology): string | undefined;
}

export class CniModelError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'CniModelError';
    this.hint = hint;
  }
}
