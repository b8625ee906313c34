// Calico (v3.32, iptables data plane) in its five IPv4 pool modes:
// bgp (encapsulation None), ipip, ipip-crosssubnet, vxlan, vxlan-crosssubnet.
//
// What is modelled, with the upstream code it follows:
// - host veth `cali` + sha1("<namespace>.<pod>")[:11]
//   (libcalico-go conversion.VethNameForWorkload), MAC ee:ee:ee:ee:ee:ee,
//   no address, proxy_arp=1 (cni-plugin dataplane_linux.go);
// - pod eth0 with a /32 and the routes `default via 169.254.1.1 dev eth0`,
//   `169.254.1.1 dev eth0 scope link` (same file);
// - host route per local pod `<ip> dev cali… scope link` (CNI SetupRoutes,
//   then felix; protocol boot, which `ip route` hides);
// - per IPAM block: a blackhole for local blocks and a route per remote
//   block. BIRD installs them with `proto bird` (bgp, ipip modes); felix
//   with `proto 80` for blackholes and same-subnet routes
//   (dataplanedefs.DefaultRouteProto, felix route_mgr.go) and with the
//   default protocol (boot) for VXLAN routes, which are `onlink`
//   (felix routetable Target.Flags);
// - vxlan.calico: VNI 4096, UDP 4789, `nolearning`, MTU node-50, a /32
//   from the node's block, static neighbour + FDB entries per remote VTEP
//   (felix vxlan_mgr.go); tunl0: MTU node-20, a /32 from the block.

import { Cidr, parseIP } from '../net';
import type { NodeModel, PodModel, Topology } from '../model/types';
import { nodeReservedAddresses } from '../ipam';
import {
  NamespaceBuilder,
  addLoopback,
  addNodeUplink,
  addr4,
  addr6,
  cniPodsOn,
  podIndexOnNode,
  findNode,
  firstFreeAddress,
  netnsNameFor,
  nodeGateway,
  nodeIPv4,
  nodePodCidrV4,
  nodeSubnet,
  otherNodes,
  podIPv4,
  sameSubnet,
  sameSubnetV6,
  nodeGatewayV6,
  nodeV6,
  podIPv6,
} from './common';
import { formatIP } from '../net';
import { sha1Hex, syntheticMac } from './hash';
import { buildVethPod } from './pods';
import { formatCniResult } from './result';
import type { CniDescription, CniModel, CniResult, EncapsulationKind, NodeDataplane, PodDataplane } from './types';

export type CalicoMode = 'bgp' | 'vxlan' | 'ipip' | 'ipip-crosssubnet' | 'vxlan-crosssubnet';

export const CALICO_HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
/** The EUI-64 link-local address of every cali* host veth (MAC ee:ee:ee:ee:ee:ee): the pods' IPv6 default gateway. */
export const CALICO_V6_GATEWAY = 'fe80::ecee:eeff:feee:eeee';
/** felix: outer IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const CALICO_VXLAN_V6_OVERHEAD = 70;
export const CALICO_VXLAN_VNI = 4096;
export const CALICO_VXLAN_PORT = 4789;
export const CALICO_FELIX_PROTO = '80';
/**
 * felix's WireGuard firewall mark: driver.go takes single bits from
 * IptablesMarkMask (0xffff0000), lowest first — accept 0x10000, pass 0x20000,
 * scratch0 0x40000, scratch1 0x80000, then WireGuard 0x100000 (the 3.2x
 * allocation core/policy's felix chains follow; from v3.30 a drop bit
 * 0x40000 is taken before the scratch bits, which moves WireGuard to 0x200000).
 */
export const CALICO_WIREGUARD_MARK = 0x100000;
/** WireguardRoutingRulePriority (default 99). */
export const CALICO_WIREGUARD_RULE_PRIORITY = 99;
/**
 * The routing table felix's WireGuard routes live in: the first index of
 * RouteTableRanges (1-250), grabbed before anything else. felix also grabs a
 * second index for IPv6 (RoutingTableIndexV6 = 2) but its IPv6 WireGuard
 * manager uses RoutingTableIndex too, so IPv6 routes sit in the IPv6 FIB's table 1.
 */
export const CALICO_WIREGUARD_TABLE = 1;
export const CALICO_WIREGUARD_PORT = 51820;
export const CALICO_WIREGUARD_PORT_V6 = 51821;

/** The CNI config version in Calico's manifests (calico.yaml cni_network_config). */
export const CALICO_CNI_VERSION = '0.3.1';

/** libcalico-go VethNameForWorkload: "cali" + first 11 hex digits of sha1("<namespace>.<pod>"). */
export function calicoVethName(namespace: string, pod: string): string {
  return `cali${sha1Hex(`${namespace}.${pod}`).slice(0, 11)}`;
}

const OVERHEAD: Record<CalicoMode, number> = { bgp: 0, ipip: 20, 'ipip-crosssubnet': 20, vxlan: 50, 'vxlan-crosssubnet': 50 };

/** The node's IPv4 IPAM blocks (node.blocks from IPAM; otherwise the blocks holding its pods). */
export function calicoBlocks(topology: Topology, node: NodeModel): Cidr[] {
  const v4 = (node.blocks ?? []).map((b) => Cidr.tryParse(b)).filter((c): c is Cidr => !!c && c.family === 4);
  if (v4.length) return v4;
  const size = topology.settings.blockSize.v4;
  const seen = new Map<string, Cidr>();
  for (const p of cniPodsOn(topology, node.name)) {
    const ip = parseIP(podIPv4(p))!;
    const block = Cidr.fromIP(ip, size)!;
    seen.set(block.text, block);
  }
  if (!seen.size) {
    const first = nodePodCidrV4(node);
    const block = first.prefix <= size ? first.subnet(size, 0) : first;
    seen.set(block.text, block);
  }
  return [...seen.values()].sort((a, b) => (a.base as number) - (b.base as number));
}

/** The node's IPv6 IPAM blocks (node.blocks from IPAM; otherwise the blocks holding its pods' IPv6 addresses). */
export function calicoBlocksV6(topology: Topology, node: NodeModel): Cidr[] {
  const v6 = (node.blocks ?? []).map((b) => Cidr.tryParse(b)).filter((c): c is Cidr => !!c && c.family === 6);
  if (v6.length) return v6;
  const size = topology.settings.blockSize.v6;
  const seen = new Map<string, Cidr>();
  for (const p of cniPodsOn(topology, node.name)) {
    const ip = podIPv6(p);
    if (!ip) continue;
    const block = Cidr.fromIP(parseIP(ip)!, size)!;
    seen.set(block.text, block);
  }
  const cidr = nodeV6(topology, node)?.podCidr;
  if (!seen.size && cidr) {
    const block = cidr.prefix <= size ? cidr.subnet(size, 0) : cidr;
    seen.set(block.text, block);
  }
  return [...seen.values()].sort((a, b) => ((a.base as bigint) < (b.base as bigint) ? -1 : 1));
}

/** The cluster is dual-stack for Calico: an IPv6 pool (cluster CIDR) and IPv6 node addresses. */
export function calicoIPv6(topology: Topology): boolean {
  return topology.nodes.some((n) => nodeV6(topology, n) !== undefined);
}

export class CalicoModel implements CniModel {
  readonly plugin = 'calico' as const;
  constructor(readonly mode: CalicoMode) {}

  private get bird(): boolean {
    return this.mode === 'bgp' || this.mode === 'ipip' || this.mode === 'ipip-crosssubnet';
  }
  private get vxlan(): boolean {
    return this.mode === 'vxlan' || this.mode === 'vxlan-crosssubnet';
  }
  private get ipip(): boolean {
    return this.mode === 'ipip' || this.mode === 'ipip-crosssubnet';
  }

  describe(): CniDescription {
    const seedNotes = [
      'Calico names the host-side veth "cali" + the first 11 hex digits of sha1("<namespace>.<pod>") (libcalico-go VethNameForWorkload), not "cali-abc123" as the seed draws it.',
      'Calico gives each pod a /32 and no gateway (the CNI result has "address": "10.244.1.5/32"); the seed\'s result with "10.244.1.5/24" and "gateway": "10.244.1.1" is what the bridge plugin returns, not Calico. The pod reaches everything through the link-local next hop 169.254.1.1, answered by proxy ARP on the cali interface.',
      'Routes follow the IPAM blocks: with blockSize 26 (the default) Calico announces /26 blocks (plus a blackhole for each local block), not one /24 per node as the seed writes; the model uses the topology\'s blocks.',
      'On the receiving node Calico routes to each pod with a /32 host route (`10.244.2.8 dev cali… scope link`), not a `10.244.2.0/24 dev eth0` route as in the seed\'s BGP diagram.',
      'The node\'s default gateway is modelled as the first host of its node network (e.g. 10.0.0.1 for 10.0.0.0/16).',
    ];
    if (this.vxlan) seedNotes.push('In VXLAN mode the route to a remote block goes through the tunnel device (`10.244.2.0/26 via 10.244.2.0 dev vxlan.calico onlink`), not `via 10.0.1.6 dev eth0` as the seed\'s packet-flow section shows.');
    seedNotes.push('calico-ipam from v3.32 also returns one route per IP in the CNI result ({"dst": "<pod IP>/<block size>"}), a by-product of the KubeVirt IP persistence change; older releases return no routes.');
    const summaries: Record<CalicoMode, string> = {
      bgp: 'No encapsulation: BIRD announces each node\'s IPAM blocks over an iBGP full mesh (AS 64512) and installs `proto bird` routes via the peer node\'s IP.',
      ipip: 'IP-in-IP (protocol 4) between nodes: BIRD installs remote blocks via the peer\'s IP on tunl0 with `onlink`; pods get MTU node-20.',
      'ipip-crosssubnet': 'IP-in-IP only towards nodes in another subnet; same-subnet peers are routed natively via eth0 (BIRD).',
      vxlan: 'VXLAN (VNI 4096, UDP 4789) programmed by felix without BGP: routes via each remote VTEP on vxlan.calico `onlink`, static ARP and FDB entries; pods get MTU node-50.',
      'vxlan-crosssubnet': 'VXLAN only towards nodes in another subnet; felix routes same-subnet peers natively via eth0 (`proto 80 onlink`).',
    };
    const supported = this.mode === 'bgp' || this.vxlan;
    return {
      summary: summaries[this.mode],
      encapsulation: this.vxlan ? 'vxlan' : this.ipip ? 'ipip' : 'none',
      overheadBytes: OVERHEAD[this.mode],
      defaultMtu: 1500 - OVERHEAD[this.mode],
      testbedSupported: supported,
      testbedNote: supported
        ? this.mode === 'bgp'
          ? 'The test-bed wires pods with the ptp plugin and exchanges routes with BIRD 2, whose kernel protocol adds `metric 32` that Calico\'s BIRD 1.x does not.'
          : 'The test-bed builds a vxlan.calico device with static neighbour and FDB entries, as felix does.'
        : 'the local test-bed kernel has no Open vSwitch / IPIP / WireGuard / Geneve; this mode is modelled only',
      seedNotes,
      modelledVersion: 'Calico v3.32 (iptables data plane)',
    };
  }

  podMtu(topology: Topology): number {
    const s = topology.settings;
    if (s.cni.mtu) return s.cni.mtu;
    // felix takes the smallest MTU over the enabled encapsulations (docs "Configure MTU"): IPv4 WireGuard 60,
    // IPv6 WireGuard 80, IPv6 VXLAN 70 bytes.
    const dual = calicoIPv6(topology);
    const enc = s.cni.encryption ? (dual ? 80 : 60) : 0;
    const v6 = this.vxlan && dual ? CALICO_VXLAN_V6_OVERHEAD : 0;
    return s.nodeMTU - Math.max(OVERHEAD[this.mode], enc, v6);
  }

  encapsulationBetween(topology: Topology, srcNode: string, dstNode: string, family: 4 | 6 = 4): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    if (topology.settings.cni.encryption) return 'wireguard';
    return family === 6 ? this.tunnelBetweenV6(topology, srcNode, dstNode) : this.tunnelBetween(topology, srcNode, dstNode);
  }

  /**
   * vxlan-v6.calico carries IPv6 in IPv6 (the nodes' IPv6 addresses), and so does felix's IPv6
   * WireGuard device wg-v6.cali; Calico has no IPv6 IP-in-IP.
   */
  underlayFor(family: 4 | 6, kind?: EncapsulationKind): 4 | 6 {
    return family === 6 && (this.vxlan || kind === 'wireguard') ? 6 : 4;
  }

  /**
   * IPv6 pools: Calico supports VXLAN (vxlan-v6.calico) or no encapsulation for IPv6,
   * never IP-in-IP, so an ipip pool's IPv6 twin is routed natively by BIRD.
   */
  tunnelBetweenV6(topology: Topology, srcNode: string, dstNode: string): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    if (this.mode === 'vxlan') return 'vxlan';
    if (this.mode === 'vxlan-crosssubnet') return sameSubnetV6(topology, findNode(topology, srcNode), findNode(topology, dstNode)) ? 'none' : 'vxlan';
    return 'none';
  }

  /** The IPv6 tunnel address of vxlan-v6.calico: IPAM's reservation, else the first address of the first IPv6 block. */
  tunnelAddressV6(topology: Topology, node: NodeModel): string | undefined {
    const reserved = nodeReservedAddresses(topology.settings, node).find((r) => r.role === 'tunnel' && r.family === 6);
    if (reserved) return reserved.ip;
    const block = calicoBlocksV6(topology, node)[0];
    return block ? formatIP(block.nth(0)) : undefined;
  }

  vtepMacV6(node: NodeModel): string {
    return syntheticMac(`node/${node.name}/vxlan-v6.calico`);
  }

  /** The tunnel the IP pool's encapsulation setting selects (WireGuard aside). */
  tunnelBetween(topology: Topology, srcNode: string, dstNode: string): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    const a = findNode(topology, srcNode);
    const b = findNode(topology, dstNode);
    switch (this.mode) {
      case 'bgp':
        return 'none';
      case 'ipip':
        return 'ipip';
      case 'vxlan':
        return 'vxlan';
      case 'ipip-crosssubnet':
        return sameSubnet(topology, a, b) ? 'none' : 'ipip';
      case 'vxlan-crosssubnet':
        return sameSubnet(topology, a, b) ? 'none' : 'vxlan';
    }
  }

  /** The tunnel address felix/calico-node gives vxlan.calico or tunl0: the first free address of the first block. */
  tunnelAddress(topology: Topology, node: NodeModel): string {
    // IPAM reserves it when the topology's own settings select this mode; otherwise take the first free address.
    const reserved = nodeReservedAddresses(topology.settings, node).find((r) => r.role === 'tunnel' && r.family === 4);
    if (reserved) return reserved.ip;
    const block = calicoBlocks(topology, node)[0];
    return firstFreeAddress(topology, block, 0);
  }

  /** wireguard.cali's address (Node.Spec.Wireguard.InterfaceIPv4Address): the first free address of the node's first block, after the IPIP/VXLAN tunnel address. */
  wireguardAddress(topology: Topology, node: NodeModel): string {
    const blocks = calicoBlocks(topology, node);
    return firstFreeAddress(topology, blocks[0], 0, [this.ipip || this.vxlan ? this.tunnelAddress(topology, node) : '']);
  }

  /** wg-v6.cali's address (InterfaceIPv6Address): the first free address of the node's first IPv6 block, after vxlan-v6.calico's. */
  wireguardAddressV6(topology: Topology, node: NodeModel): string | undefined {
    const block6 = calicoBlocksV6(topology, node)[0];
    const taken = new Set<string>([...topology.pods.flatMap((p) => p.ips), ...(this.vxlan ? [this.tunnelAddressV6(topology, node) ?? ''] : [])]);
    for (let i = 0; block6 && i < 65536 && BigInt(i) < block6.size; i++) {
      const ip = formatIP(block6.nth(i));
      if (!taken.has(ip)) return ip;
    }
    return undefined;
  }

  vtepMac(node: NodeModel): string {
    return syntheticMac(`node/${node.name}/vxlan.calico`);
  }

  private fixedDevices(topology: Topology): number {
    const wg = topology.settings.cni.encryption ? (calicoIPv6(topology) ? 2 : 1) : 0; // wireguard.cali, and wg-v6.cali on dual-stack
    return 2 + (this.vxlan || this.ipip ? 1 : 0) + (this.vxlan && calicoIPv6(topology) ? 1 : 0) + wg;
  }

  /** Host-side veth ifindex: the pair is created in the pod netns and the host end moved out, taking the next free host index. */
  private hostIfindex(topology: Topology, pod: PodModel): number {
    return this.fixedDevices(topology) + 1 + podIndexOnNode(topology, pod);
  }

  buildNode(topology: Topology, nodeName: string): NodeDataplane {
    const node = findNode(topology, nodeName);
    const nodeIP = nodeIPv4(node);
    const b = new NamespaceBuilder(`node/${node.name}`);
    const notes: string[] = [];
    addLoopback(b);
    addNodeUplink(b, topology, node);
    const mtu = this.podMtu(topology);
    const nodeMtu = topology.settings.nodeMTU;
    const blocks = calicoBlocks(topology, node);
    if (!node.blocks?.length) notes.push(`node.blocks is empty: the model derived the Calico blocks ${blocks.map((c) => c.text).join(', ')} from the pods on the node`);

    if (this.ipip) {
      b.addInterface({
        name: 'tunl0',
        kind: 'ipip',
        link: { kind: 'none' },
        linkType: 'ipip',
        mac: '0.0.0.0',
        brd: '0.0.0.0',
        macSynthetic: false,
        mtu: nodeMtu - 20,
        flags: ['NOARP', 'UP', 'LOWER_UP'],
        operstate: 'UNKNOWN',
        txqlen: 1000,
        ipip: {},
        addresses: [addr4(this.tunnelAddress(topology, node), 32)],
        ipv6LinkLocal: false,
        description: 'the kernel\'s catch-all IPIP device; calico-node gives it the tunnel address from the node\'s block',
      });
    }
    if (this.vxlan) {
      b.addInterface({
        name: 'vxlan.calico',
        kind: 'vxlan',
        mac: this.vtepMac(node),
        mtu: nodeMtu - 50,
        operstate: 'UNKNOWN',
        txqlen: 1000,
        vxlan: { id: CALICO_VXLAN_VNI, external: false, local: nodeIP, dev: 'eth0', dstport: CALICO_VXLAN_PORT, learning: false, ageing: 300 },
        addresses: [addr4(this.tunnelAddress(topology, node), 32)],
        description: 'felix\'s VXLAN tunnel endpoint (VTEP)',
      });
    }
    const v6 = nodeV6(topology, node);
    const blocksV6 = v6 ? calicoBlocksV6(topology, node) : [];
    if (this.vxlan && calicoIPv6(topology)) {
      const tun6 = v6 ? this.tunnelAddressV6(topology, node) : undefined;
      b.addInterface({
        name: 'vxlan-v6.calico',
        kind: 'vxlan',
        mac: this.vtepMacV6(node),
        mtu: nodeMtu - CALICO_VXLAN_V6_OVERHEAD,
        operstate: 'UNKNOWN',
        txqlen: 1000,
        vxlan: { id: CALICO_VXLAN_VNI, external: false, local: v6?.ip, dev: 'eth0', dstport: CALICO_VXLAN_PORT, learning: false, ageing: 300 },
        addresses: tun6 ? [addr6(tun6, 128)] : [],
        description: 'felix\'s IPv6 VXLAN tunnel endpoint: IPv6 pod packets in VXLAN over the nodes\' IPv6 addresses (outer IPv6 header: 70 bytes of overhead)',
      });
    }
    if (topology.settings.cni.encryption) {
      b.addInterface({
        name: 'wireguard.cali',
        kind: 'wireguard',
        // no IFLA_LINK (dev_get_iflink is the device itself): `ip link` prints no @NONE, unlike tunl0
        linkType: 'none',
        mac: '',
        brd: '',
        macSynthetic: false,
        mtu: nodeMtu - 60,
        flags: ['POINTOPOINT', 'NOARP', 'UP', 'LOWER_UP'],
        operstate: 'UNKNOWN',
        txqlen: 1000,
        addresses: [addr4(this.wireguardAddress(topology, node), 32)],
        ipv6LinkLocal: false,
        description: 'felix\'s WireGuard device (UDP 51820); felix routes pod traffic to it through routing table 1 and an fwmark rule',
      });
      if (v6 && calicoIPv6(topology)) {
        // felix's IPv6 WireGuard device: its own interface, port 51821, peers at the nodes' IPv6 addresses.
        const wg6 = this.wireguardAddressV6(topology, node);
        b.addInterface({
          name: 'wg-v6.cali',
          kind: 'wireguard',
          linkType: 'none',
          mac: '',
          brd: '',
          macSynthetic: false,
          mtu: nodeMtu - 80,
          flags: ['POINTOPOINT', 'NOARP', 'UP', 'LOWER_UP'],
          operstate: 'UNKNOWN',
          txqlen: 1000,
          addresses: wg6 ? [addr6(wg6, 128)] : [],
          ipv6LinkLocal: false,
          description: "felix's IPv6 WireGuard device (UDP 51821): IPv6 pod packets, encrypted, over the nodes' IPv6 addresses (outer IPv6 header: 80 bytes of overhead)",
        });
      }
    }

    // Local pods: host veths and /32 routes.
    for (const pod of cniPodsOn(topology, node.name)) {
      const name = calicoVethName(pod.namespace, pod.name);
      b.addInterface({
        ifindex: this.hostIfindex(topology, pod),
        name,
        kind: 'veth',
        link: { kind: 'other-netns', ifindex: 2, netns: netnsNameFor(pod) },
        mac: CALICO_HOST_VETH_MAC,
        macSynthetic: false,
        mtu,
        description: `host side of pod ${pod.namespace}/${pod.name}'s eth0 (no address; proxy ARP answers for 169.254.1.1)`,
      });
      b.addRoute({ dst: podIPv4(pod), dev: name, scope: 'link', origin: `Calico CNI plugin and felix: route to local pod ${pod.namespace}/${pod.name}` });
      b.sysctls[`net.ipv4.conf.${name}.proxy_arp`] = '1';
      b.sysctls[`net.ipv4.neigh.${name}.proxy_delay`] = '0';
      b.sysctls[`net.ipv4.conf.${name}.forwarding`] = '1';
      b.sysctls[`net.ipv4.conf.${name}.rp_filter`] = '1';
      const ip6 = v6 ? podIPv6(pod) : undefined;
      if (ip6) {
        b.addRoute({ dst: ip6, dev: name, metric: 1024, origin: `Calico CNI plugin and felix: IPv6 route to local pod ${pod.namespace}/${pod.name}` });
        b.sysctls[`net.ipv6.conf.${name}.proxy_ndp`] = '1';
        b.sysctls[`net.ipv6.conf.${name}.forwarding`] = '1';
        b.sysctls[`net.ipv6.conf.${name}.accept_ra`] = '0';
      }
    }

    // Local blocks: blackholes, so addresses of the block that are not (yet) pods are dropped here.
    for (const block of blocks) {
      b.addRoute(
        this.bird
          ? { type: 'blackhole', dst: block.text, protocol: 'bird', origin: `BIRD: local IPAM block ${block.text} (static blackhole, announced to peers)` }
          : { type: 'blackhole', dst: block.text, protocol: CALICO_FELIX_PROTO, origin: `felix: local IPAM block ${block.text}` },
      );
    }

    for (const block of blocksV6) {
      b.addRoute(
        this.bird
          ? { type: 'blackhole', dst: block.text, dev: 'lo', protocol: 'bird', metric: 1024, origin: `BIRD: local IPv6 IPAM block ${block.text} (static blackhole, announced to peers)` }
          : { type: 'blackhole', dst: block.text, dev: 'lo', protocol: CALICO_FELIX_PROTO, metric: 1024, origin: `felix: local IPv6 IPAM block ${block.text}` },
      );
    }

    // Remote blocks.
    const subnet = nodeSubnet(topology, node);
    for (const peer of otherNodes(topology, node.name)) {
      const peerIP = nodeIPv4(peer);
      const same = sameSubnet(topology, node, peer);
      const peerBlocks = calicoBlocks(topology, peer);
      for (const block of peerBlocks) {
        const encap = this.tunnelBetween(topology, node.name, peer.name);
        if (encap === 'ipip') {
          b.addRoute({ dst: block.text, gateway: peerIP, dev: 'tunl0', protocol: 'bird', flags: ['onlink'], origin: `BIRD: block ${block.text} of ${peer.name}, learned over iBGP, sent IP-in-IP to ${peerIP}` });
        } else if (encap === 'vxlan') {
          const vtep = this.tunnelAddress(topology, peer);
          b.addRoute({ dst: block.text, gateway: vtep, dev: 'vxlan.calico', flags: ['onlink'], origin: `felix: block ${block.text} of ${peer.name} via its VTEP ${vtep}` });
        } else if (this.bird) {
          if (same) {
            b.addRoute({ dst: block.text, gateway: peerIP, dev: 'eth0', protocol: 'bird', origin: `BIRD: block ${block.text} of ${peer.name}, learned over iBGP` });
          } else {
            const gw = nodeGateway(subnet);
            b.addRoute({ dst: block.text, gateway: gw, dev: 'eth0', protocol: 'bird', origin: `BIRD: block ${block.text} of ${peer.name}; its next hop ${peerIP} is in another subnet, resolved recursively through ${gw} (the underlay router must know the pod routes)` });
          }
        } else {
          b.addRoute({ dst: block.text, gateway: peerIP, dev: 'eth0', protocol: CALICO_FELIX_PROTO, flags: ['onlink'], origin: `felix: block ${block.text} of ${peer.name} in the same subnet, routed without encapsulation` });
        }
      }
      if (this.bird && !same && this.mode === 'bgp') {
        notes.push(`${peer.name} (${peerIP}) is outside ${subnet.text}: plain BGP mode needs the underlay to route pod CIDRs (peer Calico with the router, or use IPIP/VXLAN CrossSubnet).`);
      }
      if (this.vxlan) {
        const vtep = this.tunnelAddress(topology, peer);
        const mac = this.vtepMac(peer);
        b.neighbours.push({ ip: vtep, dev: 'vxlan.calico', lladdr: mac, state: 'PERMANENT', origin: `felix: VTEP of ${peer.name}` });
        b.fdb.push({ mac, dev: 'vxlan.calico', dst: peerIP, self: true, state: 'permanent', origin: `felix: VTEP of ${peer.name} lives at ${peerIP}`, macSynthetic: true });
      }
      const peer6 = v6 ? nodeV6(topology, peer) : undefined;
      if (v6 && peer6) this.remoteV6(topology, b, node, peer, v6, peer6.ip);
    }
    if (topology.settings.cni.encryption) this.wireguardRouting(topology, b, node, blocks, v6 && calicoIPv6(topology) ? blocksV6 : undefined, notes);
    if (v6) notes.push(`IPv6: pods reach everything through ${CALICO_V6_GATEWAY}, the link-local address of their cali* host veth (MAC ${CALICO_HOST_VETH_MAC}); the host answers the pod's neighbour solicitation itself (net.ipv6.conf.cali*.proxy_ndp=1 is also set). ${this.ipip ? 'Calico has no IPv6 IP-in-IP: the IPv6 pool of an IPIP cluster is routed natively by BIRD (encapsulation None).' : this.vxlan ? `IPv6 blocks go through vxlan-v6.calico (VNI ${CALICO_VXLAN_VNI}, UDP ${CALICO_VXLAN_PORT}, MTU ${nodeMtu - CALICO_VXLAN_V6_OVERHEAD}) with an outer IPv6 header between the nodes' IPv6 addresses; felix gives pods the smallest MTU over its enabled encapsulations, so every pod (both families) gets MTU ${mtu}.` : 'IPv6 blocks are announced by BIRD like the IPv4 ones.'}`);

    const ns = b.finish();
    return { ...ns, kind: 'node', node: node.name, nodeIP, plugin: 'calico', mode: this.mode, maps: [], notes };
  }

  /**
   * felix's WireGuard policy routing (felix/wireguard/wireguard.go): the rule
   * `99: not from all fwmark 0x100000/0x100000 lookup 1` and routing table 1
   * (per family). Table 1 routes every CIDR a peer owns — its IPAM blocks and
   * its tunnel addresses (IPIP / VXLAN / WireGuard, REMOTE_TUNNEL routes from
   * the route resolver) — to the WireGuard device (routetable target type
   * unicast: scope link, DeviceRouteProtocol 3 = boot), and `throw`s the local
   * blocks (and local workload IPs outside them) back to the next rule, so
   * local delivery and WireGuard's own marked UDP packets use table main.
   */
  private wireguardRouting(topology: Topology, b: NamespaceBuilder, node: NodeModel, blocks: Cidr[], blocksV6: Cidr[] | undefined, notes: string[]): void {
    const mark = `0x${CALICO_WIREGUARD_MARK.toString(16)}`;
    const rule = (family: 4 | 6) =>
      b.rules.push({
        family,
        priority: CALICO_WIREGUARD_RULE_PRIORITY,
        not: true,
        fwmark: CALICO_WIREGUARD_MARK,
        fwmask: CALICO_WIREGUARD_MARK,
        table: CALICO_WIREGUARD_TABLE,
        origin: `felix (wireguard.go addRouteRule): every ${family === 6 ? 'IPv6 ' : ''}packet without the WireGuard mark ${mark} looks in table ${CALICO_WIREGUARD_TABLE} before main; ${family === 6 ? 'wg-v6.cali' : 'wireguard.cali'}'s own encrypted UDP packets carry the mark (the device's fwmark) and skip it`,
      });
    const T = CALICO_WIREGUARD_TABLE;
    rule(4);
    const localPods = cniPodsOn(topology, node.name);
    for (const block of blocks) b.addRoute({ type: 'throw', dst: block.text, table: T, scope: 'global', origin: `felix: local block ${block.text} is thrown back to the next rule (table main), so local pods are not sent into WireGuard` });
    for (const pod of localPods) {
      const ip = parseIP(podIPv4(pod))!;
      if (!blocks.some((c) => c.contains(ip))) b.addRoute({ type: 'throw', dst: podIPv4(pod), table: T, scope: 'global', origin: `felix: local pod ${pod.namespace}/${pod.name}'s address is outside the node's blocks (borrowed), thrown back to table main` });
    }
    for (const peer of otherNodes(topology, node.name)) {
      const peerIP = nodeIPv4(peer);
      for (const block of calicoBlocks(topology, peer)) {
        b.addRoute({ dst: block.text, dev: 'wireguard.cali', table: T, scope: 'link', origin: `felix: block ${block.text} of ${peer.name} goes through WireGuard (peer endpoint ${peerIP}:${CALICO_WIREGUARD_PORT})` });
      }
      const tunnels = new Map<string, string>();
      if (this.vxlan || this.ipip) tunnels.set(this.tunnelAddress(topology, peer), this.vxlan ? 'VXLAN tunnel address' : 'IPIP tunnel address');
      const wgAddr = this.wireguardAddress(topology, peer);
      tunnels.set(wgAddr, tunnels.has(wgAddr) ? `${tunnels.get(wgAddr)} and WireGuard address` : 'WireGuard interface address');
      for (const [addr, what] of tunnels) b.addRoute({ dst: addr, dev: 'wireguard.cali', table: T, scope: 'link', origin: `felix: ${peer.name}'s ${what} ${addr} (a REMOTE_TUNNEL route) goes through WireGuard` });
    }
    if (blocksV6) {
      rule(6);
      for (const block of blocksV6) b.addRoute({ type: 'throw', dst: block.text, dev: 'lo', table: T, metric: 1024, origin: `felix: local IPv6 block ${block.text} is thrown back to table main` });
      for (const pod of localPods) {
        const ip6 = podIPv6(pod);
        if (ip6 && !blocksV6.some((c) => c.contains(parseIP(ip6)!))) b.addRoute({ type: 'throw', dst: ip6, dev: 'lo', table: T, metric: 1024, origin: `felix: local pod ${pod.namespace}/${pod.name}'s IPv6 address is outside the node's blocks, thrown back to table main` });
      }
      for (const peer of otherNodes(topology, node.name)) {
        const peer6 = nodeV6(topology, peer);
        if (!peer6) continue;
        for (const block of calicoBlocksV6(topology, peer)) {
          b.addRoute({ dst: block.text, dev: 'wg-v6.cali', table: T, metric: 1024, origin: `felix: IPv6 block ${block.text} of ${peer.name} goes through WireGuard (peer endpoint [${peer6.ip}]:${CALICO_WIREGUARD_PORT_V6})` });
        }
        const tunnels = new Set<string>();
        if (this.vxlan) {
          const t6 = this.tunnelAddressV6(topology, peer);
          if (t6) tunnels.add(t6);
        }
        const wg6 = this.wireguardAddressV6(topology, peer);
        if (wg6) tunnels.add(wg6);
        for (const addr of tunnels) b.addRoute({ dst: addr, dev: 'wg-v6.cali', table: T, metric: 1024, origin: `felix: ${peer.name}'s IPv6 tunnel address ${addr} (a REMOTE_TUNNEL route) goes through WireGuard` });
      }
    }
    notes.push(
      `WireGuard: felix adds the policy rule "${CALICO_WIREGUARD_RULE_PRIORITY}: not from all fwmark ${mark}/${mark} lookup ${T}"${blocksV6 ? ' (IPv4 and IPv6)' : ''} and routing table ${T}: the other nodes' blocks and tunnel addresses go to ${blocksV6 ? 'wireguard.cali / wg-v6.cali' : 'wireguard.cali'}, the local blocks are thrown back to table main, which keeps felix's normal ${this.vxlan ? 'VXLAN' : this.ipip ? 'IPIP' : 'BGP'} routes for everything else (and for WireGuard's own UDP packets, which carry the mark). \`ip route show table ${T}\` and \`ip rule\` show them. The mark ${mark} is felix 3.2x's allocation (the one core/policy's chains use); Calico v3.30+ allocates a drop bit first, so a v3.30+ node prints 0x200000.`,
    );
  }

  /** Routes (and VTEP entries) towards one peer's IPv6 blocks. */
  private remoteV6(topology: Topology, b: NamespaceBuilder, node: NodeModel, peer: NodeModel, v6: NonNullable<ReturnType<typeof nodeV6>>, peerIP6: string): void {
    const encap = this.tunnelBetweenV6(topology, node.name, peer.name);
    const same = sameSubnetV6(topology, node, peer);
    for (const block of calicoBlocksV6(topology, peer)) {
      if (encap === 'vxlan') {
        const vtep = this.tunnelAddressV6(topology, peer)!;
        b.addRoute({ dst: block.text, gateway: vtep, dev: 'vxlan-v6.calico', metric: 1024, flags: ['onlink'], origin: `felix: IPv6 block ${block.text} of ${peer.name} via its IPv6 VTEP ${vtep}` });
      } else if (this.bird) {
        if (same) b.addRoute({ dst: block.text, gateway: peerIP6, dev: 'eth0', protocol: 'bird', metric: 1024, origin: `BIRD: IPv6 block ${block.text} of ${peer.name}, learned over iBGP (IPv6 session)` });
        else {
          const gw = nodeGatewayV6(v6.subnet);
          b.addRoute({ dst: block.text, gateway: gw, dev: 'eth0', protocol: 'bird', metric: 1024, origin: `BIRD: IPv6 block ${block.text} of ${peer.name}; its next hop ${peerIP6} is in another subnet, resolved recursively through ${gw}` });
        }
      } else {
        b.addRoute({ dst: block.text, gateway: peerIP6, dev: 'eth0', protocol: CALICO_FELIX_PROTO, metric: 1024, flags: ['onlink'], origin: `felix: IPv6 block ${block.text} of ${peer.name} in the same subnet, routed without encapsulation` });
      }
    }
    if (encap === 'vxlan' || (this.vxlan && calicoIPv6(topology))) {
      const vtep = this.tunnelAddressV6(topology, peer);
      if (vtep) {
        const mac = this.vtepMacV6(peer);
        b.neighbours.push({ ip: vtep, dev: 'vxlan-v6.calico', lladdr: mac, state: 'PERMANENT', origin: `felix: IPv6 VTEP of ${peer.name}` });
        b.fdb.push({ mac, dev: 'vxlan-v6.calico', dst: peerIP6, self: true, state: 'permanent', origin: `felix: IPv6 VTEP of ${peer.name} lives at ${peerIP6}`, macSynthetic: true });
      }
    }
  }

  buildPod(topology: Topology, pod: PodModel): PodDataplane {
    const ip = podIPv4(pod);
    const ip6 = nodeV6(topology, findNode(topology, pod.nodeName)) ? podIPv6(pod) : undefined;
    return buildVethPod({
      topology,
      pod,
      hostPeer: calicoVethName(pod.namespace, pod.name),
      hostPeerIfindex: this.hostIfindex(topology, pod),
      ifindex: 2,
      mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`),
      mtu: this.podMtu(topology),
      addresses: ip6 ? [addr4(ip, 32), addr6(ip6, 128)] : [addr4(ip, 32)],
      routes: [
        { dst: 'default', gateway: '169.254.1.1', origin: 'Calico CNI plugin: everything goes to the host through the link-local next hop 169.254.1.1' },
        { dst: '169.254.1.1', scope: 'link', origin: 'Calico CNI plugin: makes 169.254.1.1 reachable on eth0 (the host answers its ARP by proxy ARP)' },
        ...(ip6 ? [{ dst: '::/0', gateway: CALICO_V6_GATEWAY, metric: 1024, origin: `Calico CNI plugin: the IPv6 default route goes via the host veth's link-local address ${CALICO_V6_GATEWAY} (EUI-64 of ee:ee:ee:ee:ee:ee)` }] : []),
      ],
      description: `pod ${pod.namespace}/${pod.name}'s interface, a /32 with no on-link subnet`,
    });
  }

  cniAddResult(topology: Topology, pod: PodModel): CniResult {
    const dp = this.buildPod(topology, pod);
    const node = findNode(topology, pod.nodeName);
    const ip = podIPv4(pod);
    const block = calicoBlocks(topology, node).find((c) => c.contains(parseIP(ip)!));
    const blockLen = block ? block.prefix : topology.settings.blockSize.v4;
    const ip6 = nodeV6(topology, node) ? podIPv6(pod) : undefined;
    const block6 = ip6 ? calicoBlocksV6(topology, node).find((c) => c.contains(parseIP(ip6)!)) : undefined;
    const blockLen6 = block6 ? block6.prefix : topology.settings.blockSize.v6;
    const eth0 = dp.interfaces.find((i) => i.name === 'eth0')!;
    return formatCniResult(CALICO_CNI_VERSION, {
      interfaces: [
        { name: dp.hostPeer },
        { name: 'eth0', mac: eth0.mac, mtu: eth0.mtu, sandbox: dp.netnsPath },
      ],
      ips: ip6 ? [{ interface: 1, address: `${ip}/32` }, { interface: 1, address: `${ip6}/128` }] : [{ interface: 1, address: `${ip}/32` }],
      routes: ip6 ? [{ dst: `${ip}/${blockLen}` }, { dst: `${ip6}/${blockLen6}` }] : [{ dst: `${ip}/${blockLen}` }],
    });
  }
}
