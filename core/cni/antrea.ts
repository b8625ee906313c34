// Antrea (2.x) with its Open vSwitch bridge br-int, the gateway port
// antrea-gw0 (the first address of the node's pod CIDR) and the tunnel port
// antrea-tun0, whose kernel device is genev_sys_6081 (Geneve, default) or
// vxlan_sys_4789; or noEncap, routing pod CIDRs via the peer node's IP.
//
// Followed upstream behaviour: remote pod CIDRs are routed to antrea-gw0
// with the peer's gateway address as an onlink next hop, and OVS flows send
// them into the tunnel (pkg/agent/route); pod host-side interfaces are
// named <first 8 chars of the pod name>-<6 hex of sha1(containerID)>
// (pkg/agent/util GenerateContainerInterfaceName); OVS ofport 1 is the
// tunnel, 2 the gateway.
//
// Dual-stack (followed upstream, antrea-io/antrea main): antrea-gw0 also
// holds the first address of the node's IPv6 pod CIDR (agent.go
// configureGatewayInterface); the CNI server asks host-local for both range
// sets and appends a default route per family via the gateway
// (cniserver/server.go updateLocalIPAMSubnet, updateResultIfaceConfig); a
// remote IPv6 pod CIDR is routed via the peer's IPv6 gateway address, which
// gets a /128 route on antrea-gw0 and a PERMANENT neighbour entry with the
// global virtual MAC aa:bb:cc:dd:ee:ff instead of `onlink` (route_linux.go
// AddRoutes); the tunnel peer of an IPv6 pod CIDR is the peer node's IPv6
// transport address (openflow/client.go InstallNodeFlows: tun_ipv6_dst), so
// IPv6 pod packets ride Geneve over IPv6 (IPsec, not modelled, would keep
// IPv4); a node with an IPv6 address deducts 20 more bytes from the MTU
// (config/node_config.go ipv6ExtraOverhead); IPv6 connections are tracked
// in OVS ct zone 65510 (CtZoneV6, 0xffe6; SNAT: 65511) instead of 65520.

import type { PodModel, Topology } from '../model/types';
import {
  NamespaceBuilder,
  addLoopback,
  addNodeUplink,
  addr4,
  addr6,
  clusterCidrV6,
  cniPodsOn,
  podIndexOnNode,
  containerIdFor,
  findNode,
  netnsNameFor,
  nodeIPv4,
  nodePodCidrV4,
  nodeV6,
  otherNodes,
  podIPv4,
  podIPv6,
  sameSubnet,
  sameSubnetV6,
} from './common';
import { formatIP, formatIPv4, type Cidr } from '../net';
import type { NodeModel } from '../model/types';
import { sha1Hex, syntheticMac } from './hash';
import { buildVethPod } from './pods';
import { formatCniResult } from './result';
import type { CniDescription, CniModel, CniResult, EncapsulationKind, NodeDataplane, PodDataplane } from './types';

export type AntreaMode = 'geneve' | 'vxlan' | 'noencap';

export const ANTREA_CNI_VERSION = '0.3.0';
const MODELLED_ONLY = 'the local test-bed kernel has no Open vSwitch / IPIP / WireGuard / Geneve; this mode is modelled only';

/** OVS conntrack zones of Antrea's pipeline (pkg/agent/openflow/pipeline.go CtZone, CtZoneV6, SNATCtZoneV6). */
const ANTREA_CT_ZONE = 0xfff0; // 65520
const ANTREA_CT_ZONE_V6 = 0xffe6; // 65510
const ANTREA_SNAT_CT_ZONE_V6 = 0xffe7; // 65511

/** The MAC antrea-agent gives remote gateways (openflow GlobalVirtualMAC; route_linux globalVMAC). */
const ANTREA_GLOBAL_VIRTUAL_MAC = 'aa:bb:cc:dd:ee:ff';

/** The OVS ct zone Antrea tracks a connection of this family in (not SNAT'd). */
export function antreaCtZone(family: 4 | 6): number {
  return family === 6 ? ANTREA_CT_ZONE_V6 : ANTREA_CT_ZONE;
}

/** pkg/agent/util generateInterfaceName(containerID, podName, true). */
export function antreaInterfaceName(pod: PodModel): string {
  const prefix = pod.name.length > 8 ? pod.name.slice(0, 8).replace(/^-+/, '') : pod.name;
  return `${prefix}-${sha1Hex(containerIdFor(pod)).slice(0, 6)}`;
}

export class AntreaModel implements CniModel {
  readonly plugin = 'antrea' as const;
  constructor(readonly mode: AntreaMode) {}

  private get encap(): boolean {
    return this.mode !== 'noencap';
  }

  describe(): CniDescription {
    const summaries: Record<AntreaMode, string> = {
      geneve: 'Open vSwitch bridge br-int; remote pod CIDRs are routed to antrea-gw0 (onlink via the peer\'s gateway address) and OVS flows tunnel them over Geneve (UDP 6081, port antrea-tun0).',
      vxlan: 'As the Geneve mode, with VXLAN (UDP 4789) on the tunnel port.',
      noencap: 'noEncap: no tunnel; the node routes each remote pod CIDR via the peer node\'s IP (nodes must share the L2 segment, or the underlay must route pod CIDRs).',
    };
    return {
      summary: summaries[this.mode],
      encapsulation: this.mode === 'noencap' ? 'none' : this.mode,
      overheadBytes: this.encap ? 50 : 0,
      defaultMtu: this.encap ? 1450 : 1500,
      testbedSupported: false,
      testbedNote: MODELLED_ONLY,
      seedNotes: [
        'Antrea programs NetworkPolicy as OVS flows (conjunctive matches), not iptables rules.',
        'The CNI result shape is modelled from Antrea\'s use of host-local IPAM; it was not captured from a running agent.',
      ],
      modelledVersion: 'Antrea 2.x',
    };
  }

  /**
   * Pod MTU: node MTU minus the tunnel overhead, and 20 more bytes when the node has an
   * IPv6 address (Antrea's CalculateMTUDeduction(isIPv6): the IPv6 tunnel header is 20
   * bytes longer, and the agent sizes one MTU for both families). noEncap: the node MTU.
   */
  podMtu(topology: Topology): number {
    const s = topology.settings;
    if (s.cni.mtu) return s.cni.mtu;
    return s.nodeMTU - (this.encap ? 50 + (this.dual(topology) ? 20 : 0) : 0);
  }

  encapsulationBetween(_topology: Topology, srcNode: string, dstNode: string): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    return this.mode === 'noencap' ? 'none' : this.mode;
  }

  /**
   * The tunnel peer of a remote pod CIDR is the peer node's transport address of the
   * CIDR's family (InstallNodeFlows: tun_dst / tun_ipv6_dst), so IPv6 pod packets ride
   * Geneve/VXLAN over IPv6. (With IPsec, not modelled, Antrea keeps the IPv4 address.)
   */
  underlayFor(family: 4 | 6): 4 | 6 {
    return family;
  }

  /** Dual-stack: the cluster has an IPv6 pod range and nodes with IPv6 addresses and pod CIDRs. */
  private dual(topology: Topology): boolean {
    return !!clusterCidrV6(topology) && topology.nodes.some((n) => nodeV6(topology, n) !== undefined);
  }

  /** The node's IPv6 side (address, IPv6 pod CIDR, antrea-gw0's IPv6 address), when the node is dual-stack. */
  private v6(topology: Topology, node: NodeModel): { ip: string; podCidr: Cidr; gw: string } | undefined {
    const v6 = this.dual(topology) ? nodeV6(topology, node) : undefined;
    return v6 ? { ip: v6.ip, podCidr: v6.podCidr, gw: formatIP(v6.podCidr.nth(1)) } : undefined;
  }

  private gw(topology: Topology, nodeName: string): string {
    return formatIPv4(nodePodCidrV4(findNode(topology, nodeName)).nth(1).value as number);
  }

  private fixed(): number {
    return this.encap ? 6 : 5;
  }

  private hostIfindex(topology: Topology, pod: PodModel): number {
    return this.fixed() + 1 + podIndexOnNode(topology, pod);
  }

  buildNode(topology: Topology, nodeName: string): NodeDataplane {
    const node = findNode(topology, nodeName);
    const nodeIP = nodeIPv4(node);
    const b = new NamespaceBuilder(`node/${node.name}`);
    const notes: string[] = [];
    addLoopback(b);
    addNodeUplink(b, topology, node);
    const mtu = this.podMtu(topology);
    const subnet = nodePodCidrV4(node);
    const own6 = this.v6(topology, node);
    const mac = (n: string) => syntheticMac(`node/${node.name}/${n}`);
    b.addInterface({ name: 'ovs-system', kind: 'openvswitch', mac: mac('ovs-system'), mtu: 1500, flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN', txqlen: 1000, ipv6LinkLocal: false, description: 'the Open vSwitch kernel datapath' });
    if (this.encap) {
      const geneve = this.mode === 'geneve';
      b.addInterface({
        name: geneve ? 'genev_sys_6081' : 'vxlan_sys_4789',
        kind: geneve ? 'geneve' : 'vxlan',
        master: 'ovs-system',
        mac: mac('tun'),
        mtu: 65000,
        operstate: 'UNKNOWN',
        txqlen: 1000,
        ...(geneve ? { geneve: { external: true, dstport: 6081 } } : { vxlan: { external: true, dstport: 4789, learning: false, ageing: 300 } }),
        description: 'kernel device behind the OVS tunnel port antrea-tun0 (flow-based: OVS sets the remote per packet)',
      });
    }
    b.addInterface({ name: 'br-int', kind: 'openvswitch', mac: mac('br-int'), mtu, flags: ['BROADCAST', 'MULTICAST'], operstate: 'DOWN', txqlen: 1000, ipv6LinkLocal: false, description: 'the OVS bridge\'s internal port (down; the bridge is driven by flows)' });
    b.addInterface({
      name: 'antrea-gw0',
      kind: 'openvswitch',
      master: 'ovs-system',
      mac: mac('antrea-gw0'),
      mtu,
      operstate: 'UNKNOWN',
      txqlen: 1000,
      addresses: own6 ? [addr4(this.gw(topology, node.name), subnet.prefix, 'global', true), addr6(own6.gw, own6.podCidr.prefix)] : [addr4(this.gw(topology, node.name), subnet.prefix, 'global', true)],
      description: `OVS internal port connecting the host stack to br-int; the pods' gateway${own6 ? ` (IPv4 and IPv6: the first address of each pod CIDR)` : ''}`,
    });
    const ports: string[][] = [];
    if (this.encap) ports.push(['1', 'antrea-tun0', this.mode === 'geneve' ? 'geneve (remote_ip=flow)' : 'vxlan (remote_ip=flow)']);
    ports.push(['2', 'antrea-gw0', 'internal']);
    let ofport = 3;
    for (const pod of cniPodsOn(topology, node.name)) {
      const name = antreaInterfaceName(pod);
      b.addInterface({
        ifindex: this.hostIfindex(topology, pod),
        name,
        kind: 'veth',
        link: { kind: 'other-netns', ifindex: 2, netns: netnsNameFor(pod) },
        master: 'ovs-system',
        mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/host`),
        mtu,
        description: `host side of pod ${pod.namespace}/${pod.name}, an OVS port of br-int`,
      });
      ports.push([String(ofport++), name, 'system (veth)']);
    }
    for (const peer of otherNodes(topology, node.name)) {
      const peerSubnet = nodePodCidrV4(peer);
      if (this.encap) {
        const gw = this.gw(topology, peer.name);
        b.addRoute({ dst: peerSubnet.text, gateway: gw, dev: 'antrea-gw0', flags: ['onlink'], origin: `antrea-agent: ${peer.name}'s pod CIDR to br-int, whose flows tunnel it to ${nodeIPv4(peer)}` });
      } else if (sameSubnet(topology, node, peer)) {
        b.addRoute({ dst: peerSubnet.text, gateway: nodeIPv4(peer), dev: 'eth0', origin: `antrea-agent noEncap: ${peer.name}'s pod CIDR via its node IP` });
      } else {
        notes.push(`noEncap: ${peer.name} is in another subnet; its pod CIDR ${peerSubnet.text} must be routed by the underlay`);
      }
      const peer6 = own6 ? this.v6(topology, peer) : undefined;
      if (!own6 || !peer6) continue;
      const net6 = peer6.podCidr.text;
      if (this.encap) {
        // Antrea installs no `onlink` IPv6 route (route_linux.go: kernels before 4.16 reject it): a /128 to the
        // peer's gateway on antrea-gw0, the pod CIDR via that gateway, and a permanent neighbour entry.
        b.addRoute({ dst: `${peer6.gw}/128`, dev: 'antrea-gw0', metric: 1024, origin: `antrea-agent: ${peer.name}'s IPv6 gateway address is on-link on antrea-gw0 (IPv6 routes get no onlink flag)` });
        b.addRoute({ dst: net6, gateway: peer6.gw, dev: 'antrea-gw0', metric: 1024, origin: `antrea-agent: ${peer.name}'s IPv6 pod CIDR to br-int, whose flows tunnel it to ${peer6.ip} (tun_ipv6_dst)` });
        b.neighbours.push({ ip: peer6.gw, dev: 'antrea-gw0', lladdr: ANTREA_GLOBAL_VIRTUAL_MAC, state: 'PERMANENT', origin: `antrea-agent: ${peer.name}'s IPv6 gateway resolves to the global virtual MAC, so the host needs no neighbour solicitation across the tunnel` });
      } else if (sameSubnetV6(topology, node, peer)) {
        b.addRoute({ dst: net6, gateway: peer6.ip, dev: 'eth0', metric: 1024, origin: `antrea-agent noEncap: ${peer.name}'s IPv6 pod CIDR via its node IPv6 address` });
      } else {
        notes.push(`noEncap: ${peer.name}'s IPv6 address ${peer6.ip} is in another subnet; its IPv6 pod CIDR ${net6} must be routed by the underlay`);
      }
    }
    if (own6) {
      notes.push(
        this.encap
          ? `IPv6 (dual-stack): antrea-gw0 also holds ${own6.gw}/${own6.podCidr.prefix}; OVS sends IPv6 pod packets for another node into antrea-tun0 with tun_ipv6_dst set to that node's IPv6 address, so they ride ${this.mode === 'geneve' ? 'Geneve' : 'VXLAN'} over IPv6 (70 bytes of overhead); antrea-agent deducts 20 bytes more from the MTU when the node has an IPv6 address, so pods get MTU ${this.podMtu(topology)} for both families. IPv6 connections are tracked in OVS ct zone ${ANTREA_CT_ZONE_V6} (${ANTREA_SNAT_CT_ZONE_V6} for SNAT), IPv4 in ${ANTREA_CT_ZONE}.`
          : `IPv6 (dual-stack): antrea-gw0 also holds ${own6.gw}/${own6.podCidr.prefix}; noEncap routes each remote IPv6 pod CIDR via the peer's IPv6 node address. IPv6 connections are tracked in OVS ct zone ${ANTREA_CT_ZONE_V6} (${ANTREA_SNAT_CT_ZONE_V6} for SNAT), IPv4 in ${ANTREA_CT_ZONE}.`,
      );
    } else if (clusterCidrV6(topology)) {
      notes.push(`IPv6: ${node.name} has no IPv6 node address or IPv6 pod CIDR, so antrea-agent enables IPv4 only here (IsIPv6Enabled; with an IPv6 pod CIDR but no IPv6 node address the real agent refuses to start: "K8s Node should have an IPv6 address if IPv6 Pod CIDR is defined").`);
    }
    const ns = b.finish();
    return {
      ...ns,
      kind: 'node',
      node: node.name,
      nodeIP,
      plugin: 'antrea',
      mode: this.mode,
      maps: [{ name: 'br-int ports', command: 'ovs-ofctl show br-int', columns: ['OFPORT', 'NAME', 'TYPE'], rows: ports, description: 'OVS ports of br-int; flows between them implement switching, tunnelling and NetworkPolicy' }],
      notes,
    };
  }

  /** The pod's IPv6 address and its node's IPv6 side, when both exist. */
  private pod6(topology: Topology, pod: PodModel): { ip: string; podCidr: Cidr; gw: string } | undefined {
    const v6 = this.v6(topology, findNode(topology, pod.nodeName));
    const ip = v6 ? podIPv6(pod) : undefined;
    return v6 && ip ? { ...v6, ip } : undefined;
  }

  buildPod(topology: Topology, pod: PodModel): PodDataplane {
    const subnet = nodePodCidrV4(findNode(topology, pod.nodeName));
    const v6 = this.pod6(topology, pod);
    return buildVethPod({
      topology,
      pod,
      hostPeer: antreaInterfaceName(pod),
      hostPeerIfindex: this.hostIfindex(topology, pod),
      ifindex: 2,
      mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`),
      mtu: this.podMtu(topology),
      addresses: v6 ? [addr4(podIPv4(pod), subnet.prefix, 'global', true), addr6(v6.ip, v6.podCidr.prefix)] : [addr4(podIPv4(pod), subnet.prefix, 'global', true)],
      routes: [
        { dst: 'default', gateway: this.gw(topology, pod.nodeName), origin: 'antrea-cni: default route via antrea-gw0\'s address' },
        // ipam.ConfigureIface adds it without a priority: the kernel's IPv6 default metric 1024.
        ...(v6 ? [{ dst: '::/0', gateway: v6.gw, metric: 1024, origin: 'antrea-cni: IPv6 default route via antrea-gw0\'s IPv6 address (the agent appends ::/0 when IPAM returned no IPv6 default route)' }] : []),
      ],
      description: `pod ${pod.namespace}/${pod.name}'s interface, attached to br-int`,
    });
  }

  cniAddResult(topology: Topology, pod: PodModel): CniResult {
    const dp = this.buildPod(topology, pod);
    const subnet = nodePodCidrV4(findNode(topology, pod.nodeName));
    const gw = this.gw(topology, pod.nodeName);
    const eth0 = dp.interfaces.find((i) => i.name === 'eth0')!;
    const v6 = this.pod6(topology, pod);
    // host-local allocates from the range sets in order (IPv4, then IPv6); the agent fills each
    // family's gateway and appends one default route per family (updateResultIfaceConfig).
    return formatCniResult(ANTREA_CNI_VERSION, {
      interfaces: [
        { name: dp.hostPeer, mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/host`) },
        { name: 'eth0', mac: eth0.mac, sandbox: dp.netnsPath },
      ],
      ips: [{ interface: 1, address: `${podIPv4(pod)}/${subnet.prefix}`, gateway: gw }, ...(v6 ? [{ interface: 1, address: `${v6.ip}/${v6.podCidr.prefix}`, gateway: v6.gw }] : [])],
      routes: [{ dst: '0.0.0.0/0', gw }, ...(v6 ? [{ dst: '::/0', gw: v6.gw }] : [])],
    });
  }
}
