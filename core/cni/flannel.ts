// Flannel (v0.28, kube-subnet-mgr) with the vxlan and host-gw backends.
// Pods are wired by the flannel CNI meta-plugin, which delegates to the
// containernetworking `bridge` plugin with host-local IPAM.
//
// Followed upstream code:
// - flannel.1: VNI 1, kernel default port 8472, `nolearning`, MTU uplink-50,
//   address <subnet>.0/32 (pkg/backend/vxlan device.go, vxlan.go);
// - per remote lease: neighbour <subnet>.0 → VTEP MAC (PERMANENT), FDB
//   VTEP MAC → node IP (self permanent), route `<subnet> via <subnet>.0 dev
//   flannel.1 onlink` (vxlan_network.go); host-gw: `<subnet> via <node IP>
//   dev eth0` (pkg/backend/hostgw);
// - CNI: kube-flannel.yml's conflist (cniVersion 0.3.1, delegate
//   {hairpinMode, isDefaultGateway}); flannel-io/cni-plugin fills bridge
//   name cbr0 → bridge cni0, isGateway, ipMasq = !FLANNEL_IPMASQ, mtu =
//   FLANNEL_MTU, host-local ranges [[{subnet: FLANNEL_SUBNET}]] and routes
//   [{dst: FLANNEL_NETWORK}] (flannel_linux.go). The bridge plugin then
//   returns the result captured in fixtures/bridge-0.3.1.json.

import type { PodModel, Topology } from '../model/types';
import {
  NamespaceBuilder,
  addLoopback,
  addNodeUplink,
  addr4,
  addr6,
  clusterCidrV4,
  clusterCidrV6,
  nodeV6,
  podIPv6,
  sameSubnetV6,
  cniPodsOn,
  podIndexOnNode,
  findNode,
  netnsNameFor,
  nodeIPv4,
  nodePodCidrV4,
  otherNodes,
  podIPv4,
  sameSubnet,
} from './common';
import { formatIP, formatIPv4, type Cidr } from '../net';
import type { NodeModel } from '../model/types';
import { sha1Hex, syntheticMac } from './hash';
import { buildVethPod } from './pods';
import { bridgePluginResult } from './result';
import type { CniDescription, CniModel, CniResult, EncapsulationKind, NodeDataplane, PodDataplane } from './types';

export type FlannelMode = 'vxlan' | 'host-gw';

export const FLANNEL_CNI_VERSION = '0.3.1';
export const FLANNEL_VXLAN_VNI = 1;
export const FLANNEL_VXLAN_PORT = 8472;

/**
 * The bridge plugin names host veths `veth` + 8 random hex digits
 * (ip.RandomVethName); the model derives them from the pod so they stay
 * stable, and flags them as synthetic.
 */
export function flannelVethName(pod: PodModel): string {
  return `veth${sha1Hex(`veth:${pod.namespace}/${pod.name}`).slice(0, 8)}`;
}

export class FlannelModel implements CniModel {
  readonly plugin = 'flannel' as const;
  constructor(readonly mode: FlannelMode) {}

  describe(): CniDescription {
    return {
      summary:
        this.mode === 'vxlan'
          ? 'VXLAN overlay (VNI 1, UDP 8472, the Linux default port): flanneld programs one onlink route, one static ARP entry and one FDB entry per remote node subnet on flannel.1; pods hang off the cni0 bridge.'
          : 'host-gw: no encapsulation; flanneld routes each remote node subnet via that node\'s IP on eth0 (all nodes must share an L2 segment); pods hang off the cni0 bridge.',
      encapsulation: this.mode === 'vxlan' ? 'vxlan' : 'none',
      overheadBytes: this.mode === 'vxlan' ? 50 : 0,
      defaultMtu: this.mode === 'vxlan' ? 1450 : 1500,
      testbedSupported: true,
      testbedNote:
        this.mode === 'vxlan'
          ? 'The test-bed runs the real bridge + host-local plugins and builds flannel.1 with static neighbour and FDB entries, as flanneld does.'
          : 'The test-bed runs the real bridge + host-local plugins and adds the host-gw routes.',
      seedNotes: [
        'Flannel\'s VXLAN uses VNI 1 on UDP 8472 (the Linux kernel default), not VNI 4096 / port 4789 as in the seed\'s VXLAN section, which describes Calico.',
        'The CNI result with "gateway": "10.244.1.1" and a /24 that the seed attributes to Calico is the bridge plugin\'s result, i.e. what flannel pods get.',
        'The node\'s default gateway is modelled as the first host of its node network.',
        ...(this.mode === 'vxlan'
          ? ['tcpdump up to 4.99 (the Debian and Ubuntu packages) decodes UDP 8472 as OTV, not VXLAN: flannel.1\'s packets print as `OTV, flags [I] (0x08), overlay 0, instance 1`, the inner packet on the next line (the OTV header has VXLAN\'s layout, so the VNI shows as the instance). tcpdump\'s development branch prints VXLAN for 8472 since 2025; `tcpdump -T vxlan` forces it on older releases.']
          : []),
      ],
      modelledVersion: 'flannel v0.28 (kube-subnet-mgr) + containernetworking bridge/host-local',
    };
  }

  podMtu(topology: Topology): number {
    const s = topology.settings;
    if (s.cni.mtu) return s.cni.mtu;
    return s.nodeMTU - (this.mode === 'vxlan' ? 50 : 0);
  }

  encapsulationBetween(topology: Topology, srcNode: string, dstNode: string): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    return this.mode === 'vxlan' ? 'vxlan' : 'none';
  }

  vtepMac(nodeName: string): string {
    return syntheticMac(`node/${nodeName}/flannel.1`);
  }

  vtepMacV6(nodeName: string): string {
    return syntheticMac(`node/${nodeName}/flannel-v6.1`);
  }

  /** flannel-v6.1 carries IPv6 pod traffic in VXLAN over the nodes' IPv6 addresses (EnableIPv6, public-ipv6). */
  underlayFor(family: 4 | 6): 4 | 6 {
    return family === 6 && this.mode === 'vxlan' ? 6 : 4;
  }

  /** Dual-stack flannel (EnableIPv6 in net-conf.json): the cluster and the nodes have IPv6. */
  private dual(topology: Topology): boolean {
    return !!clusterCidrV6(topology) && topology.nodes.some((n) => nodeV6(topology, n) !== undefined);
  }

  private bridgeIndex(topology: Topology): number {
    return this.mode === 'vxlan' ? (this.dual(topology) ? 5 : 4) : 3;
  }

  private hostIfindex(topology: Topology, pod: PodModel): number {
    return this.bridgeIndex(topology) + 1 + podIndexOnNode(topology, pod);
  }

  /** The node's IPv6 lease and the bridge's IPv6 gateway (its first address), when the node is dual-stack. */
  private v6Lease(topology: Topology, node: NodeModel): { subnet: Cidr; gateway: string; ip: string } | undefined {
    const v6 = this.dual(topology) ? nodeV6(topology, node) : undefined;
    return v6 ? { subnet: v6.podCidr, gateway: formatIP(v6.podCidr.nth(1)), ip: v6.ip } : undefined;
  }

  private gateway(topology: Topology, nodeName: string): string {
    const c = nodePodCidrV4(findNode(topology, nodeName));
    return formatIPv4(c.nth(1).value as number);
  }

  buildNode(topology: Topology, nodeName: string): NodeDataplane {
    const node = findNode(topology, nodeName);
    const nodeIP = nodeIPv4(node);
    const b = new NamespaceBuilder(`node/${node.name}`);
    const notes: string[] = [];
    addLoopback(b);
    addNodeUplink(b, topology, node);
    const subnet = nodePodCidrV4(node);
    const mtu = this.podMtu(topology);
    if (this.mode === 'vxlan') {
      b.addInterface({
        name: 'flannel.1',
        kind: 'vxlan',
        mac: this.vtepMac(node.name),
        mtu: topology.settings.nodeMTU - 50,
        operstate: 'UNKNOWN',
        txqlen: 1000,
        vxlan: { id: FLANNEL_VXLAN_VNI, external: false, local: nodeIP, dev: 'eth0', dstport: FLANNEL_VXLAN_PORT, learning: false, ageing: 300 },
        addresses: [addr4(subnet.text.split('/')[0], 32)],
        description: 'flanneld\'s VXLAN device; its address is the network address of the node\'s subnet',
      });
    }
    const lease6 = this.v6Lease(topology, node);
    if (this.mode === 'vxlan' && this.dual(topology)) {
      b.addInterface({
        name: 'flannel-v6.1',
        kind: 'vxlan',
        mac: this.vtepMacV6(node.name),
        mtu: topology.settings.nodeMTU - 70,
        operstate: 'UNKNOWN',
        txqlen: 1000,
        vxlan: { id: FLANNEL_VXLAN_VNI, external: false, local: lease6?.ip, dev: 'eth0', dstport: FLANNEL_VXLAN_PORT, learning: false, ageing: 300 },
        addresses: lease6 ? [addr6(formatIP(lease6.subnet.nth(0)), 128)] : [],
        description: 'flanneld\'s IPv6 VXLAN device (EnableIPv6): the kernel sizes its MTU for the outer IPv6 header (node MTU - 70); its address is the network address of the node\'s IPv6 subnet',
      });
    }
    const pods = cniPodsOn(topology, node.name);
    const gw = this.gateway(topology, node.name);
    const bridgeMac = syntheticMac(`node/${node.name}/cni0`);
    if (pods.length) {
      b.addInterface({
        ifindex: this.bridgeIndex(topology),
        name: 'cni0',
        kind: 'bridge',
        mac: bridgeMac,
        mtu,
        txqlen: 1000,
        addresses: lease6 ? [addr4(gw, subnet.prefix, 'global', true), addr6(lease6.gateway, lease6.subnet.prefix)] : [addr4(gw, subnet.prefix, 'global', true)],
        description: 'the bridge plugin\'s Linux bridge (isGateway: it holds the subnet\'s first address)',
      });
      b.fdb.push({ mac: bridgeMac, dev: 'cni0', master: 'cni0', self: false, state: 'permanent', origin: 'kernel: the bridge\'s own address', macSynthetic: true });
    } else {
      notes.push('cni0 does not exist yet: the bridge plugin creates it when the first pod starts on this node.');
    }
    for (const pod of pods) {
      const name = flannelVethName(pod);
      const hostMac = syntheticMac(`pod/${pod.namespace}/${pod.name}/host`);
      b.addInterface({
        ifindex: this.hostIfindex(topology, pod),
        name,
        kind: 'veth',
        link: { kind: 'other-netns', ifindex: 2, netns: netnsNameFor(pod) },
        master: 'cni0',
        mac: hostMac,
        mtu,
        bridgeSlave: { hairpin: true },
        description: `host side of pod ${pod.namespace}/${pod.name}'s eth0, a port of cni0 (hairpin on)`,
      });
      b.fdb.push({ mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`), dev: name, master: 'cni0', self: false, origin: `learned: pod ${pod.namespace}/${pod.name}'s MAC`, macSynthetic: true });
      b.fdb.push({ mac: hostMac, dev: name, master: 'cni0', self: false, state: 'permanent', origin: 'kernel: the port\'s own address', macSynthetic: true });
    }
    for (const peer of otherNodes(topology, node.name)) {
      const peerSubnet = nodePodCidrV4(peer);
      const peerIP = nodeIPv4(peer);
      if (this.mode === 'vxlan') {
        const vtep = peerSubnet.text.split('/')[0];
        b.addRoute({ dst: peerSubnet.text, gateway: vtep, dev: 'flannel.1', flags: ['onlink'], origin: `flanneld: ${peer.name}'s subnet via its VTEP address ${vtep}` });
        b.neighbours.push({ ip: vtep, dev: 'flannel.1', lladdr: this.vtepMac(peer.name), state: 'PERMANENT', origin: `flanneld: ${peer.name}'s VTEP MAC (from the node's flannel.alpha.coreos.com/backend-data annotation)` });
        b.fdb.push({ mac: this.vtepMac(peer.name), dev: 'flannel.1', dst: peerIP, self: true, state: 'permanent', origin: `flanneld: ${peer.name}'s VTEP lives at ${peerIP}`, macSynthetic: true });
      } else if (sameSubnet(topology, node, peer)) {
        b.addRoute({ dst: peerSubnet.text, gateway: peerIP, dev: 'eth0', origin: `flanneld host-gw: ${peer.name}'s subnet via its node IP` });
      } else {
        notes.push(`host-gw cannot reach ${peer.name}: ${peerIP} is in another subnet, so a route via it would not be on-link; flanneld leaves it out (use the vxlan backend, or DirectRouting with vxlan)`);
      }
      const peer6 = lease6 ? this.v6Lease(topology, peer) : undefined;
      if (!peer6) continue;
      const net6 = peer6.subnet.text;
      if (this.mode === 'vxlan') {
        const vtep6 = formatIP(peer6.subnet.nth(0));
        b.addRoute({ dst: net6, gateway: vtep6, dev: 'flannel-v6.1', metric: 1024, flags: ['onlink'], origin: `flanneld: ${peer.name}'s IPv6 subnet via its IPv6 VTEP address ${vtep6}` });
        b.neighbours.push({ ip: vtep6, dev: 'flannel-v6.1', lladdr: this.vtepMacV6(peer.name), state: 'PERMANENT', origin: `flanneld: ${peer.name}'s IPv6 VTEP MAC (flannel.alpha.coreos.com/backend-v6-data)` });
        b.fdb.push({ mac: this.vtepMacV6(peer.name), dev: 'flannel-v6.1', dst: peer6.ip, self: true, state: 'permanent', origin: `flanneld: ${peer.name}'s IPv6 VTEP lives at ${peer6.ip} (flannel.alpha.coreos.com/public-ipv6)`, macSynthetic: true });
      } else if (sameSubnetV6(topology, node, peer)) {
        b.addRoute({ dst: net6, gateway: peer6.ip, dev: 'eth0', metric: 1024, origin: `flanneld host-gw: ${peer.name}'s IPv6 subnet via its node IPv6 address` });
      } else {
        notes.push(`host-gw cannot reach ${peer.name}'s IPv6 subnet: ${peer6.ip} is not on-link`);
      }
    }
    if (lease6 && this.mode === 'vxlan') notes.push(`IPv6 (EnableIPv6): flannel-v6.1 has MTU ${topology.settings.nodeMTU - 70} but pods keep FLANNEL_MTU ${this.podMtu(topology)} (flanneld computes it for the IPv4 VXLAN header only), so a full-size IPv6 pod packet gets ICMPv6 "packet too big" (mtu ${topology.settings.nodeMTU - 70}) at flannel-v6.1 and path MTU discovery shrinks the flow.`);
    b.sysctls['net.ipv4.conf.cni0.proxy_arp'] = '0';
    b.sysctls['net.bridge.bridge-nf-call-iptables'] = '1';
    const ns = b.finish();
    return { ...ns, kind: 'node', node: node.name, nodeIP, plugin: 'flannel', mode: this.mode, maps: [], notes };
  }

  buildPod(topology: Topology, pod: PodModel): PodDataplane {
    const gw = this.gateway(topology, pod.nodeName);
    const subnet = nodePodCidrV4(findNode(topology, pod.nodeName));
    const cluster = clusterCidrV4(topology);
    const lease6 = this.v6Lease(topology, findNode(topology, pod.nodeName));
    const ip6 = lease6 ? podIPv6(pod) : undefined;
    const cluster6 = clusterCidrV6(topology);
    return buildVethPod({
      topology,
      pod,
      hostPeer: flannelVethName(pod),
      hostPeerIfindex: this.hostIfindex(topology, pod),
      ifindex: 2,
      mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`),
      mtu: this.podMtu(topology),
      addresses: lease6 && ip6 ? [addr4(podIPv4(pod), subnet.prefix, 'global', true), addr6(ip6, lease6.subnet.prefix)] : [addr4(podIPv4(pod), subnet.prefix, 'global', true)],
      routes: [
        { dst: 'default', gateway: gw, origin: 'bridge plugin (isDefaultGateway): default route via cni0' },
        { dst: cluster.text, gateway: gw, origin: `host-local IPAM route for the flannel network ${cluster.text} (from subnet.env FLANNEL_NETWORK)` },
        ...(lease6 && ip6
          ? [
              { dst: '::/0', gateway: lease6.gateway, metric: 1024, origin: 'bridge plugin (isDefaultGateway): IPv6 default route via cni0' },
              ...(cluster6 ? [{ dst: cluster6.text, gateway: lease6.gateway, metric: 1024, origin: `host-local IPAM route for the flannel IPv6 network ${cluster6.text} (subnet.env FLANNEL_IPV6_NETWORK)` }] : []),
            ]
          : []),
      ],
      description: `pod ${pod.namespace}/${pod.name}'s interface on the cni0 bridge`,
    });
  }

  cniAddResult(topology: Topology, pod: PodModel): CniResult {
    const dp = this.buildPod(topology, pod);
    const subnet = nodePodCidrV4(findNode(topology, pod.nodeName));
    const eth0 = dp.interfaces.find((i) => i.name === 'eth0')!;
    return bridgePluginResult({
      cniVersion: FLANNEL_CNI_VERSION,
      bridge: { name: 'cni0', mac: syntheticMac(`node/${pod.nodeName}/cni0`) },
      hostVeth: { name: dp.hostPeer, mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/host`) },
      container: { ifname: 'eth0', mac: eth0.mac, sandbox: dp.netnsPath },
      address: `${podIPv4(pod)}/${subnet.prefix}`,
      gateway: this.gateway(topology, pod.nodeName),
      ipamRoutes: [{ dst: clusterCidrV4(topology).text }],
      isDefaultGateway: true,
    });
  }
}
