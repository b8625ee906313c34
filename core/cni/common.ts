// Building blocks shared by the plugin models: a namespace builder that
// allocates ifindexes and derives the routes the kernel adds by itself for
// every address (connected routes, the local table, IPv6 link-local), the
// node's uplink, and helpers to find nodes, pods and pod CIDRs.

import { Cidr, formatIPv4, formatIPv6, parseIP, parseIPv4, parseIPv6 } from '../net';
import type { NodeModel, PodModel, Topology } from '../model/types';
import { sha256Hex, syntheticMac, syntheticUuid } from './hash';
import {
  CniModelError,
  type FdbEntry,
  type IfAddress,
  type NetInterface,
  type NetNamespace,
  type Neighbour,
  type Route,
  type RoutingRule,
} from './types';
import { withDefaultRules } from './rules';

export const ETHER_BRD = 'ff:ff:ff:ff:ff:ff';
export const UP_FLAGS = ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'];

// ---------------------------------------------------------------- topology

export function firstIPv4(ips: readonly string[]): string | undefined {
  return ips.find((ip) => parseIPv4(ip) !== null);
}

export function findNode(topology: Topology, name: string): NodeModel {
  const node = topology.nodes.find((n) => n.name === name);
  if (!node) {
    throw new CniModelError(
      `node "${name}" is not in the topology`,
      `use one of: ${topology.nodes.map((n) => n.name).join(', ') || '(no nodes defined)'}`,
    );
  }
  return node;
}

export function nodeIPv4(node: NodeModel): string {
  const ip = firstIPv4(node.ips);
  if (!ip) {
    throw new CniModelError(
      `node "${node.name}" has no IPv4 InternalIP`,
      'give the node an IPv4 address in its ips list: the CNI models build every node on an IPv4 underlay (dual-stack nodes carry IPv6 pod traffic too, but IPv6-only nodes and clusters are not modelled)',
    );
  }
  return ip;
}

export function firstIPv6(ips: readonly string[]): string | undefined {
  return ips.find((ip) => parseIP(ip)?.family === 6);
}

/** The node's IPv6 InternalIP, if it has one (dual-stack nodes). */
export function nodeIPv6(node: NodeModel): string | undefined {
  return firstIPv6(node.ips);
}

/** The pod's IPv6 address, if IPAM gave it one (dual-stack pods). */
export function podIPv6(pod: PodModel): string | undefined {
  return firstIPv6(pod.ips);
}

/** The node's IPv6 pod CIDR (spec.podCIDRs), if the cluster is dual-stack. */
export function nodePodCidrV6(node: NodeModel): Cidr | undefined {
  for (const text of node.podCIDRs) {
    const c = Cidr.tryParse(text);
    if (c && c.family === 6) return c;
  }
  return undefined;
}

export function clusterCidrV6(topology: Topology): Cidr | undefined {
  for (const text of topology.settings.clusterCIDRs) {
    const c = Cidr.tryParse(text);
    if (c && c.family === 6) return c;
  }
  return undefined;
}

/**
 * The node's IPv6 side, when the node is dual-stack: its IPv6 InternalIP, the
 * settings.nodeCIDRs entry holding it, its IPv6 pod CIDR. Undefined for
 * IPv4-only nodes (the CNI models then build no IPv6 routes at all).
 */
export function nodeV6(topology: Topology, node: NodeModel): { ip: string; subnet: Cidr; podCidr: Cidr } | undefined {
  const ip = nodeIPv6(node);
  const podCidr = nodePodCidrV6(node);
  if (!ip || !podCidr) return undefined;
  const a = parseIP(ip)!;
  for (const text of topology.settings.nodeCIDRs) {
    const c = Cidr.tryParse(text);
    if (c && c.family === 6 && c.contains(a)) return { ip, subnet: c, podCidr };
  }
  return undefined;
}

/** Same IPv6 node network (the IPv6 side of sameSubnet). */
export function sameSubnetV6(topology: Topology, a: NodeModel, b: NodeModel): boolean {
  const va = nodeV6(topology, a);
  const vb = nodeV6(topology, b);
  return !!va && !!vb && va.subnet.contains(parseIP(vb.ip)!);
}

/** The IPv6 node network's gateway: the model uses the first host address (::1) of the subnet. */
export function nodeGatewayV6(subnet: Cidr): string {
  return formatIPv6(subnet.nth(1).value as bigint);
}

export function addr6(local: string, prefixlen: number, scope: IfAddress['scope'] = 'global'): IfAddress {
  return { family: 6, local, prefixlen, scope };
}

/** The node network the node's uplink is attached to: the settings.nodeCIDRs entry holding its IP. */
export function nodeSubnet(topology: Topology, node: NodeModel): Cidr {
  const ip = parseIP(nodeIPv4(node))!;
  for (const text of topology.settings.nodeCIDRs) {
    const c = Cidr.tryParse(text);
    if (c && c.contains(ip)) return c;
  }
  throw new CniModelError(
    `node "${node.name}" IP ${nodeIPv4(node)} is outside every node network (settings.nodeCIDRs: ${topology.settings.nodeCIDRs.join(', ') || 'none'})`,
    'add the node network that holds this IP to settings.nodeCIDRs',
  );
}

/**
 * Same L2/L3 subnet, as Calico's CrossSubnet modes and flannel's DirectRouting
 * decide it: the peer's address lies inside the local uplink's prefix, i.e.
 * both node IPs fall in the same settings.nodeCIDRs entry. (Zones are not
 * subnets: a zone can span subnets and the reverse.)
 */
export function sameSubnet(topology: Topology, a: NodeModel, b: NodeModel): boolean {
  return nodeSubnet(topology, a).contains(parseIP(nodeIPv4(b))!);
}

/** The node network's gateway: the model uses the first host address of the subnet. */
export function nodeGateway(subnet: Cidr): string {
  return formatIPv4(subnet.nth(1).value as number);
}

export function nodePodCidrV4(node: NodeModel): Cidr {
  for (const text of node.podCIDRs) {
    const c = Cidr.tryParse(text);
    if (c && c.family === 4) return c;
  }
  throw new CniModelError(
    `node "${node.name}" has no IPv4 pod CIDR`,
    'run IPAM on the topology (loadTopology fills spec.podCIDRs) or set podCIDRs on the node',
  );
}

export function clusterCidrV4(topology: Topology): Cidr {
  for (const text of topology.settings.clusterCIDRs) {
    const c = Cidr.tryParse(text);
    if (c && c.family === 4) return c;
  }
  throw new CniModelError('settings.clusterCIDRs has no IPv4 pod range', 'add an IPv4 cluster CIDR such as 10.244.0.0/16');
}

export function podIPv4(pod: PodModel): string {
  const ip = firstIPv4(pod.ips);
  if (!ip) {
    throw new CniModelError(
      `pod ${pod.namespace}/${pod.name} has no IPv4 address`,
      'run IPAM on the topology (loadTopology fills status.podIPs) or give the pod an IP',
    );
  }
  return ip;
}

const podsByNodeCache = new WeakMap<Topology, { pods: PodModel[]; byNode: Map<string, PodModel[]>; index: Map<PodModel, number> }>();

function podsByNode(topology: Topology) {
  const hit = podsByNodeCache.get(topology);
  if (hit && hit.pods === topology.pods) return hit;
  const byNode = new Map<string, PodModel[]>();
  const index = new Map<PodModel, number>();
  for (const p of topology.pods) {
    if (p.hostNetwork) continue;
    let list = byNode.get(p.nodeName);
    if (!list) byNode.set(p.nodeName, (list = []));
    index.set(p, list.length);
    list.push(p);
  }
  const entry = { pods: topology.pods, byNode, index };
  podsByNodeCache.set(topology, entry);
  return entry;
}

/** Pods that get a network namespace from the CNI plugin (hostNetwork pods do not), in topology order. */
export function cniPodsOn(topology: Topology, nodeName: string): PodModel[] {
  return podsByNode(topology).byNode.get(nodeName) ?? [];
}

/** Position of a pod among the CNI pods of its node (the order the runtime created them in). */
export function podIndexOnNode(topology: Topology, pod: PodModel): number {
  const i = podsByNode(topology).index.get(pod);
  if (i !== undefined) return i;
  return cniPodsOn(topology, pod.nodeName).findIndex((p) => p.namespace === pod.namespace && p.name === pod.name);
}

export function otherNodes(topology: Topology, nodeName: string): NodeModel[] {
  return topology.nodes.filter((n) => n.name !== nodeName);
}

/** The sandbox container ID the model uses for a pod (64 hex digits, like containerd's). */
export function containerIdFor(pod: PodModel): string {
  return sha256Hex(`sandbox:${pod.namespace}/${pod.name}`);
}

/** containerd pins pod namespaces at /var/run/netns/cni-<uuid>. */
export function netnsNameFor(pod: PodModel): string {
  return `cni-${syntheticUuid(`${pod.namespace}/${pod.name}`)}`;
}

export function broadcastOf(c: Cidr): string {
  return formatIPv4(c.last().value as number);
}

// ---------------------------------------------------------------- interfaces

/** IPv6 link-local address (EUI-64) the kernel derives from a MAC. */
export function eui64LinkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const words = [0xfe80, 0, 0, 0, ((b[0] ^ 0x02) << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]];
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return formatIPv6(v);
}

export interface NewInterface extends Omit<NetInterface, 'ifindex' | 'flags' | 'qdisc' | 'operstate' | 'addresses' | 'brd' | 'linkType' | 'macSynthetic'> {
  ifindex?: number;
  flags?: string[];
  qdisc?: string;
  operstate?: NetInterface['operstate'];
  addresses?: IfAddress[];
  brd?: string;
  linkType?: NetInterface['linkType'];
  macSynthetic?: boolean;
  /** Add the kernel's IPv6 link-local address (default: for UP ether links). */
  ipv6LinkLocal?: boolean;
}

export interface NewRoute extends Partial<Omit<Route, 'dst' | 'origin'>> {
  dst: string;
  origin: string;
}

/** Normalises a route destination to canonical CIDR text. */
function canonicalDst(dst: string): { dst: string; family: 4 | 6 } {
  if (dst === 'default') return { dst: '0.0.0.0/0', family: 4 };
  const c = dst.includes('/') ? Cidr.tryParse(dst) : (() => {
    const ip = parseIP(dst);
    return ip ? Cidr.host(ip) : null;
  })();
  if (!c) throw new CniModelError(`route destination "${dst}" is not an address or CIDR`, 'this is a bug in the CNI model');
  return { dst: c.text, family: c.family };
}

const REJECT_OR_THROW = new Set<Route['type']>(['blackhole', 'unreachable', 'prohibit', 'throw']);

/**
 * Collects one namespace's interfaces and routes. `finish()` adds the
 * routes the kernel derives from addresses and sorts every table the way
 * the kernel dumps it.
 */
export class NamespaceBuilder {
  readonly interfaces: NetInterface[] = [];
  readonly routes: Route[] = [];
  readonly neighbours: Neighbour[] = [];
  readonly fdb: FdbEntry[] = [];
  readonly sysctls: Record<string, string> = {};
  /** Policy rules a plugin adds; finish() merges them with the kernel's defaults. */
  readonly rules: RoutingRule[] = [];
  private nextIndex = 1;
  private readonly linkLocal = new Set<string>();
  /** Interfaces whose connected (prefix) route a plugin deleted after adding the address (ptp does). */
  readonly withoutPrefixRoute = new Set<string>();

  constructor(readonly id: string) {}

  /** Reserves the next ifindex without creating an interface (e.g. an index used in another netns). */
  peekIndex(): number {
    return this.nextIndex;
  }

  addInterface(spec: NewInterface): NetInterface {
    const ifindex = spec.ifindex ?? this.nextIndex;
    this.nextIndex = Math.max(this.nextIndex, ifindex + 1);
    const { ipv6LinkLocal, ...rest } = spec;
    const iface: NetInterface = {
      ...rest,
      ifindex,
      flags: spec.flags ?? UP_FLAGS,
      qdisc: spec.qdisc ?? 'noqueue',
      operstate: spec.operstate ?? 'UP',
      addresses: spec.addresses ? [...spec.addresses] : [],
      brd: spec.brd ?? ETHER_BRD,
      linkType: spec.linkType ?? 'ether',
      macSynthetic: spec.macSynthetic ?? true,
    };
    this.interfaces.push(iface);
    const wantsLL = ipv6LinkLocal ?? (iface.linkType === 'ether' && iface.flags.includes('UP'));
    if (wantsLL) this.linkLocal.add(iface.name);
    return iface;
  }

  addRoute(spec: NewRoute): Route {
    const { dst, family } = canonicalDst(spec.dst);
    const route: Route = {
      type: spec.type ?? 'unicast',
      family: spec.family ?? family,
      dst,
      gateway: spec.gateway,
      dev: spec.dev,
      table: spec.table ?? 'main',
      protocol: spec.protocol ?? 'boot',
      // IPv6 routes are always RT_SCOPE_UNIVERSE (ip -6 route never prints a scope); so are
      // gateway routes and the ones without a device (blackhole, unreachable, prohibit, throw).
      scope: spec.scope ?? ((spec.family ?? family) === 6 || spec.gateway || (spec.type !== undefined && REJECT_OR_THROW.has(spec.type)) ? 'global' : 'link'),
      prefsrc: spec.prefsrc,
      metric: spec.metric,
      flags: spec.flags ?? [],
      mtu: spec.mtu,
      origin: spec.origin,
    };
    for (const k of Object.keys(route) as (keyof Route)[]) if (route[k] === undefined) delete route[k];
    this.routes.push(route);
    return route;
  }

  finish(): NetNamespace {
    // Addresses the kernel adds by itself: IPv6 link-local on ether links.
    for (const iface of this.interfaces) {
      if (this.linkLocal.has(iface.name) && !iface.addresses.some((a) => a.family === 6 && a.scope === 'link')) {
        iface.addresses.push({ family: 6, local: eui64LinkLocal(iface.mac), prefixlen: 64, scope: 'link', synthetic: iface.macSynthetic });
      }
    }
    this.addKernelRoutes();
    return {
      id: this.id,
      interfaces: [...this.interfaces].sort((a, b) => a.ifindex - b.ifindex),
      routes: sortRoutes(this.routes, new Map(this.interfaces.map((i) => [i.name, i.ifindex]))),
      neighbours: this.neighbours,
      fdb: this.fdb,
      sysctls: this.sysctls,
      ...(this.rules.length ? { rules: withDefaultRules(this.rules) } : {}),
    };
  }

  /** fib_add_ifaddr() and addrconf: connected, local and broadcast routes for every address. */
  private addKernelRoutes(): void {
    const up = (i: NetInterface) => i.flags.includes('UP');
    // With IPv6 forwarding on (a router), addrconf joins the subnet-router anycast address of
    // every prefix shorter than /127, link-local fe80::/64 included (addrconf_join_anycast).
    const v6Router = this.sysctls['net.ipv6.conf.all.forwarding'] === '1';
    const anycast = (iface: NetInterface, local: string, prefixlen: number) => {
      if (!v6Router || prefixlen >= 127 || iface.name === 'lo') return;
      const base = Cidr.parse(`${local}/${prefixlen}`).text.split('/')[0];
      this.addRoute({ type: 'anycast', dst: base, dev: iface.name, table: 'local', protocol: 'kernel', scope: 'global', metric: 0, origin: `kernel: IPv6 subnet-router anycast of ${base}/${prefixlen} on ${iface.name} (IPv6 forwarding is on)` });
    };
    for (const iface of [...this.interfaces].sort((a, b) => a.ifindex - b.ifindex)) {
      for (const a of iface.addresses) {
        if (a.family === 4) {
          const prefix = Cidr.parse(`${a.local}/${a.prefixlen}`);
          this.addRoute({ type: 'local', dst: a.local, dev: iface.name, table: 'local', protocol: 'kernel', scope: 'host', prefsrc: a.local, origin: `kernel: address ${a.local} on ${iface.name}` });
          if (a.prefixlen < 32 && iface.name === 'lo') {
            this.addRoute({ type: 'local', dst: prefix.text, dev: iface.name, table: 'local', protocol: 'kernel', scope: 'host', prefsrc: a.local, origin: `kernel: loopback prefix of ${a.local}` });
          }
          if (a.prefixlen < 31) {
            this.addRoute({ type: 'broadcast', dst: broadcastOf(prefix), dev: iface.name, table: 'local', protocol: 'kernel', scope: 'link', prefsrc: a.local, origin: `kernel: broadcast of ${prefix.text} on ${iface.name}` });
          }
          if (a.prefixlen < 32 && iface.name !== 'lo' && up(iface) && !this.withoutPrefixRoute.has(iface.name)) {
            this.addRoute({ dst: prefix.text, dev: iface.name, protocol: 'kernel', scope: 'link', prefsrc: a.local, origin: `kernel: connected route for ${a.local}/${a.prefixlen} on ${iface.name}` });
          }
        } else if (iface.name === 'lo') {
          this.addRoute({ type: 'local', dst: a.local, dev: 'lo', table: 'local', protocol: 'kernel', scope: 'global', metric: 0, origin: 'kernel: IPv6 loopback' });
        } else if (a.scope === 'global') {
          // addrconf_prefix_route() (also for a /128) and the local route in table local.
          const prefix = Cidr.parse(`${a.local}/${a.prefixlen}`);
          if (up(iface) && !this.withoutPrefixRoute.has(iface.name)) {
            this.addRoute({ dst: prefix.text, dev: iface.name, protocol: 'kernel', scope: 'global', metric: 256, origin: `kernel: connected route for ${a.local}/${a.prefixlen} on ${iface.name}` });
          }
          this.addRoute({ type: 'local', dst: a.local, dev: iface.name, table: 'local', protocol: 'kernel', scope: 'global', metric: 0, origin: `kernel: IPv6 address ${a.local} on ${iface.name}` });
          if (up(iface)) anycast(iface, a.local, a.prefixlen);
        } else if (a.scope === 'link') {
          this.addRoute({ dst: 'fe80::/64', dev: iface.name, protocol: 'kernel', scope: 'global', metric: 256, origin: `kernel: IPv6 link-local prefix on ${iface.name}` });
          anycast(iface, a.local, a.prefixlen);
          this.addRoute({ type: 'local', dst: a.local, dev: iface.name, table: 'local', protocol: 'kernel', scope: 'global', metric: 0, origin: `kernel: IPv6 link-local address on ${iface.name}` });
        }
      }
      if (iface.name !== 'lo' && this.linkLocal.has(iface.name)) {
        this.addRoute({ type: 'multicast', dst: 'ff00::/8', dev: iface.name, table: 'local', protocol: 'kernel', scope: 'global', metric: 256, origin: `kernel: IPv6 multicast on ${iface.name}` });
      }
    }
  }
}

/**
 * The order `ip route show table all` dumps tables in: the kernel walks its
 * table hash (FIB_TABLE_HASHSZ 256 buckets, id & 255) from bucket 0, so a
 * numbered table such as felix's table 1 comes before main (254) and local
 * (255) — checked on this machine's kernel for both families.
 */
function tableRank(t: Route['table']): number {
  return t === 'main' ? 254 : t === 'local' ? 255 : t & 255;
}

function dstKey(r: Route): { v: bigint; len: number; last: bigint } {
  const c = Cidr.parse(r.dst);
  const v = BigInt(c.base);
  return { v, len: c.prefix, last: c.family === 6 ? v + c.size - 1n : v };
}

function ifindexOrder(name: string | undefined, order: Map<string, number>): number {
  return name ? (order.get(name) ?? 0) : 0;
}

/**
 * Kernel dump order: IPv4 before IPv6, then per table (numbered tables, main, local); IPv4
 * by address, longer prefix first for the same address, then metric; IPv6 by
 * its last address (a prefix after the routes inside it, as the fib6 dump
 * walks the tree), then device index; both checked on a real kernel.
 */
export function sortRoutes(routes: Route[], ifOrder: Map<string, number> = new Map()): Route[] {
  const keyed = routes.map((r) => ({ r, k: dstKey(r) }));
  keyed.sort(({ r: a, k: ka }, { r: b, k: kb }) => {
    if (a.family !== b.family) return a.family - b.family;
    const t = tableRank(a.table) - tableRank(b.table);
    if (t) return t;
    // The fib6 dump walks the tree in address order, a node after its subtree: a prefix comes
    // after every more specific route inside it (Calico's /128 pod routes before their block's
    // blackhole, everything before the default route) — i.e. by last address, longer first.
    if (a.family === 6 && ka.last !== kb.last) return ka.last < kb.last ? -1 : 1;
    if (ka.v !== kb.v) return ka.v < kb.v ? -1 : 1;
    if (ka.len !== kb.len) return kb.len - ka.len;
    const m = (a.metric ?? 0) - (b.metric ?? 0);
    if (m) return m;
    return ifindexOrder(a.dev, ifOrder) - ifindexOrder(b.dev, ifOrder);
  });
  return keyed.map((x) => x.r);
}

/** Sorts routes again once interface indexes are known (IPv6 ties break on ifindex). */
export function finalizeNamespace(ns: NetNamespace): NetNamespace {
  const order = new Map(ns.interfaces.map((i) => [i.name, i.ifindex]));
  ns.routes = sortRoutes(ns.routes, order);
  return ns;
}

// ---------------------------------------------------------------- standard pieces

export function addLoopback(b: NamespaceBuilder): NetInterface {
  return b.addInterface({
    name: 'lo',
    kind: 'loopback',
    linkType: 'loopback',
    mac: '00:00:00:00:00:00',
    brd: '00:00:00:00:00:00',
    macSynthetic: false,
    mtu: 65536,
    flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
    operstate: 'UNKNOWN',
    txqlen: 1000,
    addresses: [
      { family: 4, local: '127.0.0.1', prefixlen: 8, scope: 'host' },
      { family: 6, local: '::1', prefixlen: 128, scope: 'host' },
    ],
    ipv6LinkLocal: false,
    description: 'loopback',
  });
}

/**
 * The node's uplink on the node network, with the connected route the
 * kernel adds and a default route via the subnet's first host (the model's
 * choice of gateway; clouds use the same convention, e.g. AWS VPC x.x.x.1).
 */
export function addNodeUplink(b: NamespaceBuilder, topology: Topology, node: NodeModel): NetInterface {
  const ip = nodeIPv4(node);
  const subnet = nodeSubnet(topology, node);
  const eth0 = b.addInterface({
    name: 'eth0',
    kind: 'device',
    mac: syntheticMac(`node/${node.name}/eth0`),
    mtu: topology.settings.nodeMTU,
    qdisc: 'fq_codel',
    txqlen: 1000,
    addresses: [{ family: 4, local: ip, prefixlen: subnet.prefix, broadcast: subnet.prefix < 31 ? broadcastOf(subnet) : undefined, scope: 'global' }],
    description: `uplink to the node network ${subnet.text}`,
  });
  b.addRoute({ dst: 'default', gateway: nodeGateway(subnet), dev: 'eth0', origin: `node network configuration: default gateway ${nodeGateway(subnet)} (first host of ${subnet.text}, the model's convention)` });
  b.sysctls['net.ipv4.ip_forward'] = '1';
  b.sysctls['net.ipv4.conf.all.rp_filter'] = '0';
  b.sysctls['net.ipv4.conf.eth0.proxy_arp'] = '0';
  const v6 = nodeV6(topology, node);
  if (v6) {
    eth0.addresses.push(addr6(v6.ip, v6.subnet.prefix));
    const gw = nodeGatewayV6(v6.subnet);
    b.addRoute({ dst: '::/0', gateway: gw, dev: 'eth0', metric: 1024, origin: `node network configuration: IPv6 default gateway ${gw} (first host of ${v6.subnet.text}, the model's convention; with router advertisements it would be the router's link-local address, proto ra)` });
    b.sysctls['net.ipv6.conf.all.forwarding'] = '1';
  }
  return eth0;
}

/** Strips the broadcast field when undefined so objects stay tidy. */
export function addr4(local: string, prefixlen: number, scope: IfAddress['scope'] = 'global', withBroadcast = false): IfAddress {
  const a: IfAddress = { family: 4, local, prefixlen, scope };
  if (withBroadcast && prefixlen < 31) a.broadcast = broadcastOf(Cidr.parse(`${local}/${prefixlen}`));
  return a;
}

/** The lowest address of `cidr` (from offset `start`) not used by any pod in the topology. */
export function firstFreeAddress(topology: Topology, cidr: Cidr, start: number, taken: Iterable<string> = []): string {
  const used = new Set<string>(taken);
  for (const p of topology.pods) for (const ip of p.ips) used.add(ip);
  const size = Number(cidr.size > 65536n ? 65536n : cidr.size);
  for (let i = start; i < size; i++) {
    const ip = formatIPv4(cidr.nth(i).value as number);
    if (!used.has(ip)) return ip;
  }
  throw new CniModelError(`no free address left in ${cidr.text}`, 'use a larger pod CIDR or fewer pods on the node');
}

export function ipv6Of(s: string): bigint | null {
  return parseIPv6(s);
}
