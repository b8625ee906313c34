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

import type { PodModel, Topology } from '../model/types';
import {
  NamespaceBuilder,
  addLoopback,
  addNodeUplink,
  addr4,
  cniPodsOn,
  podIndexOnNode,
  containerIdFor,
  findNode,
  netnsNameFor,
  nodeIPv4,
  nodePodCidrV4,
  otherNodes,
  podIPv4,
  sameSubnet,
} from './common';
import { formatIPv4 } from '../net';
import { sha1Hex, syntheticMac } from './hash';
import { buildVethPod } from './pods';
import { formatCniResult } from './result';
import type { CniDescription, CniModel, CniResult, EncapsulationKind, NodeDataplane, PodDataplane } from './types';

export type AntreaMode = 'geneve' | 'vxlan' | 'noencap';

export const ANTREA_CNI_VERSION = '0.3.0';
const MODELLED_ONLY = 'the local test-bed kernel has no Open vSwitch / IPIP / WireGuard / Geneve; this mode is modelled only';

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

  podMtu(topology: Topology): number {
    const s = topology.settings;
    if (s.cni.mtu) return s.cni.mtu;
    return s.nodeMTU - (this.encap ? 50 : 0);
  }

  encapsulationBetween(_topology: Topology, srcNode: string, dstNode: string): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    return this.mode === 'noencap' ? 'none' : this.mode;
  }

  /**
   * Real Antrea supports IPv6 and dual-stack (encap mode: IPv6 pod traffic in the
   * Geneve/VXLAN tunnel between the nodes' transport addresses; noEncap with routed
   * IPv6 pod CIDRs); the model's OVS pipeline (tables, antrea-gw0 addresses, flows) is
   * IPv4-only, so it refuses IPv6 walks rather than invent flows.
   */
  ipv6Unsupported(_topology: Topology): string {
    return 'Antrea\'s IPv6 data plane is not modelled: real Antrea 2.x supports dual-stack (antrea-gw0 gets an IPv6 address from the node\'s IPv6 pod CIDR, OVS handles IPv6 in the same pipeline tables, and in encap mode IPv6 pod packets ride the Geneve tunnel between the nodes\' transport addresses), but the model\'s OVS tables and flows are IPv4-only, so it refuses IPv6 walks instead of guessing flows.';
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
      addresses: [addr4(this.gw(topology, node.name), subnet.prefix, 'global', true)],
      description: 'OVS internal port connecting the host stack to br-int; the pods\' gateway',
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
      notes: topology.settings.clusterCIDRs.some((c) => c.includes(':')) ? [...notes, `${this.ipv6Unsupported(topology)} The IPv6 pod addresses of this dual-stack topology get no interface or route here.`] : notes,
    };
  }

  buildPod(topology: Topology, pod: PodModel): PodDataplane {
    const subnet = nodePodCidrV4(findNode(topology, pod.nodeName));
    return buildVethPod({
      topology,
      pod,
      hostPeer: antreaInterfaceName(pod),
      hostPeerIfindex: this.hostIfindex(topology, pod),
      ifindex: 2,
      mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`),
      mtu: this.podMtu(topology),
      addresses: [addr4(podIPv4(pod), subnet.prefix, 'global', true)],
      routes: [{ dst: 'default', gateway: this.gw(topology, pod.nodeName), origin: 'antrea-cni: default route via antrea-gw0\'s address' }],
      description: `pod ${pod.namespace}/${pod.name}'s interface, attached to br-int`,
    });
  }

  cniAddResult(topology: Topology, pod: PodModel): CniResult {
    const dp = this.buildPod(topology, pod);
    const subnet = nodePodCidrV4(findNode(topology, pod.nodeName));
    const gw = this.gw(topology, pod.nodeName);
    const eth0 = dp.interfaces.find((i) => i.name === 'eth0')!;
    return formatCniResult(ANTREA_CNI_VERSION, {
      interfaces: [
        { name: dp.hostPeer, mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/host`) },
        { name: 'eth0', mac: eth0.mac, sandbox: dp.netnsPath },
      ],
      ips: [{ interface: 1, address: `${podIPv4(pod)}/${subnet.prefix}`, gateway: gw }],
      routes: [{ dst: '0.0.0.0/0', gw }],
    });
  }
}
