// Encapsulation between nodes (the outer headers a tunnel adds, their
// overhead and the MTU left for pods) and the MTU check the packet walk
// applies at every link.

import { type Topology } from '../model/types';
import { formatIP, formatIPv4 } from '../net';
import { findNode, nodeIPv4, nodeSubnet, nodeV6, sameSubnet, sameSubnetV6 } from './common';
import { ciliumIdentityFor } from './cilium';
import { fnv1a32, syntheticMac } from './hash';
import type { CniModel, EncapsulationKind } from './types';

export interface InnerPacket {
  srcIP: string;
  dstIP: string;
  /** IP protocol: 'TCP' | 'UDP' | 'ICMP' or a number. */
  protocol: 'TCP' | 'UDP' | 'ICMP' | number;
  srcPort?: number;
  dstPort?: number;
  /** IP total length of the inner packet, in bytes. */
  length: number;
}

export interface OuterHeaders {
  eth: { src: string; dst: string; ethertype: 'IPv4' | 'IPv6'; macSynthetic: true };
  /** The outer IP header; `version` 6 for an IPv6 underlay (ttl is then the hop limit, df always false, length the total packet length). */
  ip: { version?: 4 | 6; src: string; dst: string; protocol: number; protocolName: string; ttl: number; df: boolean; length: number };
  udp?: { srcPort: number; dstPort: number; length: number };
  vxlan?: { flags: number; vni: number };
  geneve?: { vni: number; protocolType: number; optionsLength: number };
  wireguard?: { messageType: 4; port: number };
  sleeve?: { port: number };
  /** The inner Ethernet header an L2 tunnel carries (VXLAN/Geneve): VTEP MACs. */
  innerEth?: { src: string; dst: string; macSynthetic: true };
}

export interface Encapsulation {
  kind: EncapsulationKind;
  /** Absent when the packet crosses unencapsulated. */
  outer?: OuterHeaders;
  /** Bytes added to the inner IP packet (70 for VXLAN over an IPv6 underlay, 50 over IPv4). */
  overhead: number;
  /** The outer header's family. */
  underlay: 4 | 6;
  /** The MTU the plugin gives pods, already reduced for the encapsulation. */
  podMtu: number;
  /** The largest inner IP packet that fits the underlay without fragmenting the outer packet. */
  maxInner: number;
  /** Tunnel device on the sending node (vxlan.calico, flannel.1, tunl0, cilium_vxlan…). */
  device?: string;
  approximate: boolean;
  explanation: string;
}

const OVERHEAD: Record<EncapsulationKind, number> = {
  none: 0,
  vxlan: 50, // outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14
  geneve: 50, // outer IPv4 20 + UDP 8 + Geneve 8 (no options) + inner Ethernet 14
  ipip: 20, // outer IPv4 20
  wireguard: 60, // outer IPv4 20 + UDP 8 + WireGuard data header 16 + Poly1305 tag 16
  sleeve: 124, // Weave reserves 1500-1376 for sleeve framing plus NaCl; per packet it varies with batching
};

/**
 * Bytes an encapsulation adds for an IPv4 or IPv6 underlay: the outer IPv6
 * header is 20 bytes longer (VXLAN 70, Geneve 70, IP6-in-IP 40, WireGuard 80).
 */
export function encapOverhead(kind: EncapsulationKind, underlay: 4 | 6 = 4): number {
  if (kind === 'none') return 0;
  return OVERHEAD[kind] + (underlay === 6 ? 20 : 0);
}

/** Cilium puts the source's security identity in the VNI; non-pod sources are the host (1) or world (2). */
function ciliumSourceIdentity(topology: Topology, srcIP: string): number {
  const pod = topology.pods.find((p) => !p.hostNetwork && p.ips.includes(srcIP));
  if (pod) return ciliumIdentityFor(pod.namespace, pod.labels);
  return topology.nodes.some((n) => n.ips.includes(srcIP)) ? 1 : 2;
}

/** Linux udp_flow_src_port(): a flow hash scaled into net.ipv4.ip_local_port_range (32768-60999). */
export function tunnelSourcePort(inner: InnerPacket): number {
  const h = fnv1a32(`${inner.srcIP}|${inner.dstIP}|${inner.protocol}|${inner.srcPort ?? 0}|${inner.dstPort ?? 0}`);
  const min = 32768;
  const max = 61000;
  return Math.floor((h * (max - min)) / 0x100000000) + min;
}

interface TunnelParams {
  device?: string;
  port?: number;
  vni?: number;
  vniNote?: string;
  innerEth?: { src: string; dst: string };
}

function tunnelParams(cni: CniModel, kind: EncapsulationKind, srcNode: string, dstNode: string, underlay: 4 | 6): TunnelParams {
  const key = `${cni.plugin}:${kind}${underlay === 6 ? ':6' : ''}`;
  switch (key) {
    case 'calico:vxlan:6':
      return { device: 'vxlan-v6.calico', port: 4789, vni: 4096, innerEth: { src: syntheticMac(`node/${srcNode}/vxlan-v6.calico`), dst: syntheticMac(`node/${dstNode}/vxlan-v6.calico`) } };
    case 'flannel:vxlan:6':
      return { device: 'flannel-v6.1', port: 8472, vni: 1, innerEth: { src: syntheticMac(`node/${srcNode}/flannel-v6.1`), dst: syntheticMac(`node/${dstNode}/flannel-v6.1`) } };
    case 'calico:vxlan':
      return { device: 'vxlan.calico', port: 4789, vni: 4096, innerEth: { src: syntheticMac(`node/${srcNode}/vxlan.calico`), dst: syntheticMac(`node/${dstNode}/vxlan.calico`) } };
    case 'calico:ipip':
      return { device: 'tunl0' };
    case 'calico:wireguard':
      return { device: 'wireguard.cali', port: 51820 };
    case 'calico:wireguard:6':
      return { device: 'wg-v6.cali', port: 51821 };
    case 'flannel:vxlan':
      return { device: 'flannel.1', port: 8472, vni: 1, innerEth: { src: syntheticMac(`node/${srcNode}/flannel.1`), dst: syntheticMac(`node/${dstNode}/flannel.1`) } };
    case 'cilium:vxlan':
      return { device: 'cilium_vxlan', port: 8472, vniNote: 'the VNI carries the source endpoint\'s security identity' };
    case 'cilium:geneve':
      return { device: 'cilium_geneve', port: 6081, vniNote: 'the VNI carries the source endpoint\'s security identity' };
    case 'cilium:wireguard':
      return { device: 'cilium_wg0', port: 51871 };
    // Antrea's flow-based tunnel devices carry both outer families (OVS sets tun_dst or tun_ipv6_dst per flow).
    case 'antrea:geneve':
    case 'antrea:geneve:6':
      return { device: 'genev_sys_6081', port: 6081, vni: 0 };
    case 'antrea:vxlan':
    case 'antrea:vxlan:6':
      return { device: 'vxlan_sys_4789', port: 4789, vni: 0 };
    case 'weave:vxlan':
      return { device: 'vxlan-6784', port: 6784, vniNote: 'the VNI carries the source and destination Weave peer short IDs' };
    case 'weave:sleeve':
      return { port: 6783 };
    default:
      return {};
  }
}

/**
 * What the sending node wraps around a pod packet bound for a pod on
 * `dstNode`. Returns kind `none` (no outer headers) when the plugin routes
 * natively between these two nodes.
 */
export function encapsulate(cni: CniModel, topology: Topology, srcNode: string, dstNode: string, inner: InnerPacket, known: { podMtu?: number } = {}): Encapsulation {
  const family: 4 | 6 = inner.srcIP.includes(':') ? 6 : 4;
  const kind = cni.encapsulationBetween(topology, srcNode, dstNode, family);
  // A caller that holds the topology fixed (core/trace's context) passes the pod MTU it computed once: Calico's is O(nodes).
  const podMtu = known.podMtu ?? cni.podMtu(topology);
  const nodeMtu = topology.settings.nodeMTU;
  // An IPv6 underlay: the VXLAN devices, Antrea's flow-based Geneve port and Calico's IPv6 WireGuard device (wg-v6.cali).
  const underlay: 4 | 6 = kind === 'vxlan' || kind === 'geneve' || kind === 'wireguard' ? (cni.underlayFor?.(family, kind) ?? 4) : 4;
  const overhead = encapOverhead(kind, underlay);
  const approximate = kind === 'sleeve';
  if (kind === 'none') {
    return { kind, overhead: 0, underlay, podMtu, maxInner: nodeMtu, approximate: false, explanation: `${cni.plugin} ${cni.mode} routes ${srcNode} → ${dstNode} without encapsulation` };
  }
  const a = findNode(topology, srcNode);
  const b = findNode(topology, dstNode);
  const a6 = underlay === 6 ? nodeV6(topology, a) : undefined;
  const b6 = underlay === 6 ? nodeV6(topology, b) : undefined;
  const srcIP = a6 ? a6.ip : nodeIPv4(a);
  const dstIP = b6 ? b6.ip : nodeIPv4(b);
  const p = tunnelParams(cni, kind, srcNode, dstNode, underlay);
  const same = underlay === 6 ? sameSubnetV6(topology, a, b) : sameSubnet(topology, a, b);
  const nextHopMac = same
    ? syntheticMac(`node/${dstNode}/eth0`)
    : syntheticMac(`gateway/${a6 ? formatIP(a6.subnet.nth(1)) : formatIPv4(nodeSubnet(topology, a).nth(1).value as number)}`);
  const outerLen = inner.length + overhead;
  const udp = kind !== 'ipip';
  const outer: OuterHeaders = {
    eth: { src: syntheticMac(`node/${srcNode}/eth0`), dst: nextHopMac, ethertype: underlay === 6 ? 'IPv6' : 'IPv4', macSynthetic: true },
    // Linux tunnel defaults leave DF clear on the outer header (vxlan/geneve `df unset`, tunl0 `nopmtudisc`);
    // an IPv6 header has no DF bit (only the sending host may fragment).
    ip: { src: srcIP, dst: dstIP, protocol: udp ? 17 : 4, protocolName: udp ? 'UDP' : 'IPIP', ttl: 64, df: false, length: outerLen },
  };
  if (underlay === 6) outer.ip.version = 6;
  const ipHeader = underlay === 6 ? 40 : 20;
  if (udp) outer.udp = { srcPort: kind === 'wireguard' ? (p.port ?? 51820) : tunnelSourcePort(inner), dstPort: p.port ?? 0, length: outerLen - ipHeader };
  const vni = p.vni ?? (cni.plugin === 'cilium' ? ciliumSourceIdentity(topology, inner.srcIP) : 0);
  if (kind === 'vxlan') outer.vxlan = { flags: 0x08, vni };
  if (kind === 'geneve') outer.geneve = { vni, protocolType: 0x6558, optionsLength: 0 };
  if (kind === 'wireguard') outer.wireguard = { messageType: 4, port: p.port ?? 51820 };
  if (kind === 'sleeve') outer.sleeve = { port: p.port ?? 6783 };
  if (p.innerEth) outer.innerEth = { ...p.innerEth, macSynthetic: true };
  const what =
    kind === 'ipip'
      ? 'an outer IPv4 header (protocol 4, IP-in-IP)'
      : underlay === 6 && kind === 'wireguard'
        ? `WireGuard (UDP ${p.port}) over IPv6, encrypting the inner packet (outer IPv6 40 + UDP 8 + WireGuard data header 16 + Poly1305 tag 16 bytes)`
      : underlay === 6
        ? `${kind.toUpperCase()} in UDP ${p.port} over IPv6${p.vni !== undefined ? `, VNI ${p.vni}` : ''} (outer IPv6 40 + UDP 8 + ${kind === 'geneve' ? 'Geneve 8 (no options)' : 'VXLAN 8'} + inner Ethernet 14 bytes)`
      : kind === 'wireguard'
        ? `WireGuard (UDP ${p.port}), encrypting the inner packet`
        : kind === 'sleeve'
          ? `Weave sleeve framing in UDP ${p.port}`
          : `${kind.toUpperCase()} in UDP ${p.port}${p.vni !== undefined ? `, VNI ${p.vni}` : ''}${p.vniNote ? ` (${p.vniNote})` : ''}`;
  return {
    kind,
    outer,
    overhead,
    underlay,
    podMtu,
    maxInner: nodeMtu - overhead,
    device: p.device,
    approximate,
    explanation: `${srcNode} (${srcIP}) wraps the pod packet in ${what} to ${dstNode} (${dstIP}): +${overhead} bytes${approximate ? ' (reserved; the exact size varies)' : ''}, so pods get MTU ${podMtu}`,
  };
}

export type MtuVerdict = 'fits' | 'fragmented' | 'icmp-frag-needed' | 'icmp-packet-too-big' | 'black-hole';

export interface MtuCheck {
  verdict: MtuVerdict;
  /** Number of IPv4 fragments when fragmented. */
  fragments?: number;
  icmp?: { type: number; code: number; nextHopMtu: number; text: string };
  message: string;
}

/**
 * What happens to an IP packet of `size` bytes (total length) at a link
 * with `mtu`: it fits, it is fragmented (IPv4 without DF), or it is
 * dropped with ICMP "fragmentation needed" (IPv4 with DF) / "packet too
 * big" (IPv6) — which becomes a black hole when that ICMP never reaches the
 * sender.
 */
export function mtuCheck(size: number, df: boolean, opts: { mtu: number; family?: 4 | 6; icmpBlocked?: boolean; where?: string }): MtuCheck {
  const where = opts.where ? ` on ${opts.where}` : '';
  if (size <= opts.mtu) return { verdict: 'fits', message: `${size} bytes fit the MTU ${opts.mtu}${where}` };
  const family = opts.family ?? 4;
  if (family === 4 && !df) {
    const perFragment = Math.floor((opts.mtu - 20) / 8) * 8;
    const fragments = Math.ceil((size - 20) / perFragment);
    return { verdict: 'fragmented', fragments, message: `${size} bytes exceed the MTU ${opts.mtu}${where}; DF is clear, so the packet is split into ${fragments} IPv4 fragments (the receiver reassembles them)` };
  }
  const icmp =
    family === 4
      ? { type: 3, code: 4, nextHopMtu: opts.mtu, text: `unreachable - need to frag (mtu ${opts.mtu})` }
      : { type: 2, code: 0, nextHopMtu: opts.mtu, text: `ICMP6, packet too big, mtu ${opts.mtu}` };
  if (opts.icmpBlocked) {
    return {
      verdict: 'black-hole',
      icmp,
      message: `${size} bytes exceed the MTU ${opts.mtu}${where} and cannot be fragmented (${family === 4 ? 'DF set' : 'IPv6'}); the ICMP error never reaches the sender, which keeps retransmitting full-size packets: the connection stalls after the handshake (a PMTU black hole)`,
    };
  }
  return {
    verdict: family === 4 ? 'icmp-frag-needed' : 'icmp-packet-too-big',
    icmp,
    message: `${size} bytes exceed the MTU ${opts.mtu}${where}; the packet is dropped and the sender gets ${family === 4 ? 'ICMP type 3 code 4 (fragmentation needed)' : 'ICMPv6 packet too big'} with next-hop MTU ${opts.mtu}, lowers its path MTU and resends`,
  };
}
