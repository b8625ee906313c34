// Weave Net (2.8, the last release; the project was archived in 2024) in
// its two data planes: fastdp (the kernel Open vSwitch datapath with VXLAN
// on UDP 6784, encrypted with IPsec ESP when a password is set) and sleeve
// (the weave router encapsulates frames itself in UDP 6783, NaCl-encrypted
// when a password is set).
//
// Weave is a flat L2 network: all pods share one subnet (IPALLOC_RANGE,
// here the cluster CIDR) and the `weave` bridge on each node; there are no
// per-node routes. Weave's IPAM hands each peer ranges of the subnet; the
// model uses the node's pod CIDR as that peer's range and gives the bridge
// its first address (weave expose).

import type { PodModel, Topology } from '../model/types';
import {
  NamespaceBuilder,
  addLoopback,
  addNodeUplink,
  addr4,
  clusterCidrV4,
  cniPodsOn,
  podIndexOnNode,
  containerIdFor,
  findNode,
  netnsNameFor,
  nodeIPv4,
  nodePodCidrV4,
  podIPv4,
} from './common';
import { formatIPv4 } from '../net';
import { syntheticMac } from './hash';
import { buildVethPod } from './pods';
import { formatCniResult } from './result';
import type { CniDescription, CniModel, CniResult, EncapsulationKind, NodeDataplane, PodDataplane } from './types';

export type WeaveMode = 'fastdp' | 'sleeve';

/** Weave Net's default MTU (WEAVE_MTU), chosen to leave room for its encapsulations and encryption. */
export const WEAVE_DEFAULT_MTU = 1376;
export const WEAVE_FASTDP_PORT = 6784;
export const WEAVE_SLEEVE_PORT = 6783;
export const WEAVE_CNI_VERSION = '0.3.0';

const MODELLED_ONLY = 'the local test-bed kernel has no Open vSwitch / IPIP / WireGuard / Geneve; this mode is modelled only';

/** weave's CNI plugin names the host end `vethwepl` + the first 7 characters of the container ID. */
export function weaveVethName(pod: PodModel): string {
  return `vethwepl${containerIdFor(pod).slice(0, 7)}`;
}

export class WeaveModel implements CniModel {
  readonly plugin = 'weave' as const;
  constructor(readonly mode: WeaveMode) {}

  describe(): CniDescription {
    const fastdp = this.mode === 'fastdp';
    return {
      summary: fastdp
        ? 'fastdp: the kernel Open vSwitch datapath ("datapath") switches pod frames and sends them to peers as VXLAN on UDP 6784 (ESP-encrypted when a password is set); the weave router only sets up flows.'
        : 'sleeve: the weave router captures frames on the bridge and sends them to peers in its own UDP encapsulation on port 6783 (NaCl-encrypted when a password is set); slower, works everywhere.',
      encapsulation: fastdp ? 'vxlan' : 'sleeve',
      overheadBytes: fastdp ? 50 : 1500 - WEAVE_DEFAULT_MTU,
      defaultMtu: WEAVE_DEFAULT_MTU,
      testbedSupported: false,
      testbedNote: MODELLED_ONLY,
      seedNotes: [
        'Weave encrypts only when a password is configured (WEAVE_PASSWORD); it is not automatic. fastdp encrypts with IPsec ESP, sleeve with NaCl.',
        `Weave's default MTU is ${WEAVE_DEFAULT_MTU} whatever the mode, to leave room for the encapsulation plus encryption; fastdp's VXLAN alone needs 50 bytes.`,
        'Weave Net was archived by Weaveworks in 2024; the model follows release 2.8.',
      ],
      modelledVersion: 'Weave Net 2.8.1',
    };
  }

  podMtu(topology: Topology): number {
    return topology.settings.cni.mtu ?? WEAVE_DEFAULT_MTU;
  }

  encapsulationBetween(_topology: Topology, srcNode: string, dstNode: string): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    return this.mode === 'fastdp' ? 'vxlan' : 'sleeve';
  }

  /** Weave Net has no IPv6 support: its IPAM, router (sleeve/fastdp) and weave bridge carry IPv4 only. */
  ipv6Unsupported(_topology: Topology): string {
    return 'Weave Net has no IPv6 support: its IPAM hands out IPv4 addresses only and neither the sleeve router nor fastdp carries IPv6, so on a dual-stack cluster CIDR Weave pods have an IPv4 address only (the lab loads them that way, with a cni-ipv4-only warning) and no IPv6 route. The model refuses IPv6 walks with Weave.';
  }

  private bridgeIP(topology: Topology, nodeName: string): string {
    const c = nodePodCidrV4(findNode(topology, nodeName));
    return formatIPv4(c.nth(1).value as number);
  }

  private fixed(): number {
    // lo, eth0, datapath, weave, vethwe-datapath, vethwe-bridge, vxlan-6784 | lo, eth0, weave, vethwe-bridge, vethwe-pcap
    return this.mode === 'fastdp' ? 7 : 5;
  }

  private hostIfindex(topology: Topology, pod: PodModel): number {
    return this.fixed() + 1 + podIndexOnNode(topology, pod);
  }

  buildNode(topology: Topology, nodeName: string): NodeDataplane {
    const node = findNode(topology, nodeName);
    const nodeIP = nodeIPv4(node);
    const b = new NamespaceBuilder(`node/${node.name}`);
    addLoopback(b);
    addNodeUplink(b, topology, node);
    const mtu = this.podMtu(topology);
    const range = clusterCidrV4(topology);
    const mac = (n: string) => syntheticMac(`node/${node.name}/${n}`);
    if (this.mode === 'fastdp') {
      b.addInterface({ name: 'datapath', kind: 'openvswitch', mac: mac('datapath'), mtu, operstate: 'UNKNOWN', txqlen: 1000, description: 'the Open vSwitch kernel datapath that switches frames between pods and peers' });
    }
    b.addInterface({
      name: 'weave',
      kind: 'bridge',
      mac: mac('weave'),
      mtu,
      txqlen: 1000,
      addresses: [addr4(this.bridgeIP(topology, node.name), range.prefix, 'global', true)],
      description: `the weave bridge; it holds an address of the Weave subnet ${range.text} so the host can reach pods (weave expose)`,
    });
    if (this.mode === 'fastdp') {
      b.addInterface({ name: 'vethwe-datapath', kind: 'veth', link: { kind: 'same-netns', name: 'vethwe-bridge' }, master: 'datapath', mac: mac('vethwe-datapath'), mtu, description: 'links the bridge to the OVS datapath' });
      b.addInterface({ name: 'vethwe-bridge', kind: 'veth', link: { kind: 'same-netns', name: 'vethwe-datapath' }, master: 'weave', mac: mac('vethwe-bridge'), mtu, description: 'links the bridge to the OVS datapath' });
      b.addInterface({
        name: `vxlan-${WEAVE_FASTDP_PORT}`,
        kind: 'vxlan',
        master: 'datapath',
        mac: mac('vxlan'),
        mtu: 65535,
        operstate: 'UNKNOWN',
        txqlen: 1000,
        vxlan: { external: true, dstport: WEAVE_FASTDP_PORT, learning: false, ageing: 300 },
        description: 'the OVS vport that sends VXLAN to peers (the VNI carries the source and destination peer IDs)',
      });
    } else {
      b.addInterface({ name: 'vethwe-bridge', kind: 'veth', link: { kind: 'same-netns', name: 'vethwe-pcap' }, master: 'weave', mac: mac('vethwe-bridge'), mtu, description: 'bridge end of the pcap veth' });
      b.addInterface({ name: 'vethwe-pcap', kind: 'veth', link: { kind: 'same-netns', name: 'vethwe-bridge' }, mac: mac('vethwe-pcap'), mtu: 65535, description: 'the weave router captures and injects frames here (sleeve)' });
    }
    // The weave bridge's FDB, as for flannel's cni0: the bridge's and each port's own
    // MAC (permanent, made by the kernel) and the MACs it learned (the weave router's
    // pcap end in sleeve mode, each pod's eth0).
    b.fdb.push({ mac: mac('weave'), dev: 'weave', master: 'weave', self: false, state: 'permanent', origin: "kernel: the bridge's own address", macSynthetic: true });
    if (this.mode !== 'fastdp') {
      b.fdb.push({ mac: mac('vethwe-pcap'), dev: 'vethwe-bridge', master: 'weave', self: false, origin: 'learned: frames the weave router injects through vethwe-pcap', macSynthetic: true });
    }
    b.fdb.push({ mac: mac('vethwe-bridge'), dev: 'vethwe-bridge', master: 'weave', self: false, state: 'permanent', origin: "kernel: the port's own address", macSynthetic: true });
    for (const pod of cniPodsOn(topology, node.name)) {
      b.fdb.push({ mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`), dev: weaveVethName(pod), master: 'weave', self: false, origin: `learned: pod ${pod.namespace}/${pod.name}'s MAC`, macSynthetic: true });
      b.fdb.push({ mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/host`), dev: weaveVethName(pod), master: 'weave', self: false, state: 'permanent', origin: "kernel: the port's own address", macSynthetic: true });
      b.addInterface({
        ifindex: this.hostIfindex(topology, pod),
        name: weaveVethName(pod),
        kind: 'veth',
        link: { kind: 'other-netns', ifindex: 2, netns: netnsNameFor(pod) },
        master: 'weave',
        mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/host`),
        mtu,
        description: `host side of pod ${pod.namespace}/${pod.name}, a port of the weave bridge`,
      });
    }
    const ns = b.finish();
    return {
      ...ns,
      kind: 'node',
      node: node.name,
      nodeIP,
      plugin: 'weave',
      mode: this.mode,
      maps: [],
      notes: [
        `Weave is one flat L2 subnet (${range.text}): pods on other nodes are reached by ARP across the mesh, so the node has no per-node pod routes.`,
        ...(topology.settings.clusterCIDRs.some((c) => c.includes(':')) ? [`${this.ipv6Unsupported(topology)} ${node.name}'s IPv6 pod CIDR${node.podCIDRs.some((c) => c.includes(':')) ? ` (${node.podCIDRs.find((c) => c.includes(':'))}, from kube-controller-manager)` : ''} is unused: no pod, bridge address or route takes it.`] : []),
      ],
    };
  }

  buildPod(topology: Topology, pod: PodModel): PodDataplane {
    const range = clusterCidrV4(topology);
    const gw = this.bridgeIP(topology, pod.nodeName);
    return buildVethPod({
      topology,
      pod,
      hostPeer: weaveVethName(pod),
      hostPeerIfindex: this.hostIfindex(topology, pod),
      ifindex: 2,
      mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`),
      mtu: this.podMtu(topology),
      addresses: [addr4(podIPv4(pod), range.prefix, 'global', true)],
      routes: [{ dst: 'default', gateway: gw, origin: 'weave CNI plugin: default route via the weave bridge address' }],
      description: `pod ${pod.namespace}/${pod.name}'s interface on the Weave subnet`,
    });
  }

  cniAddResult(topology: Topology, pod: PodModel): CniResult {
    const range = clusterCidrV4(topology);
    return formatCniResult(WEAVE_CNI_VERSION, {
      interfaces: [],
      ips: [{ address: `${podIPv4(pod)}/${range.prefix}`, gateway: this.bridgeIP(topology, pod.nodeName) }],
      routes: [],
    });
  }
}
