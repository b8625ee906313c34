// Cilium (1.16+, legacy host routing, cluster-pool IPAM on the node pod
// CIDRs) in native routing (with autoDirectNodeRoutes) and in tunnel mode
// (VXLAN 8472 / Geneve 6081).
//
// Followed upstream code:
// - host devices cilium_host / cilium_net (a veth pair) and the flow-based
//   tunnel device cilium_vxlan / cilium_geneve;
// - lxc + sha256("<containerID>:<ifname>")[:12] host veths
//   (pkg/datapath/connector Endpoint2IfName), created in the host netns with
//   a temporary peer that is moved into the pod and renamed eth0;
// - routes installed with `proto kernel` (linux_defaults.RTProto and the
//   route reconciler): `<alloc CIDR> via <router IP> dev cilium_host src
//   <router IP>`, `<router IP> dev cilium_host scope link`, remote node
//   CIDRs via cilium_host with the route MTU in tunnel mode
//   (linuxNodeHandler.createNodeRouteSpec), direct routes via the peer's IP
//   with autoDirectNodeRoutes;
// - pod: /32 address, `<router IP> dev eth0 scope link` and `default via
//   <router IP> dev eth0 mtu <route MTU>` (connector.IPv4Routes,
//   cilium-cni addIPConfigToLink); the veth keeps the device MTU.

import { fnv1a32, sha256Hex, syntheticMac } from './hash';
import type { PodModel, Topology } from '../model/types';
import { nodeReservedAddresses } from '../ipam';
import { formatIP } from '../net';
import {
  NamespaceBuilder,
  addLoopback,
  addNodeUplink,
  addr4,
  addr6,
  nodeV6,
  podIPv6,
  sameSubnetV6,
  cniPodsOn,
  podIndexOnNode,
  containerIdFor,
  findNode,
  firstFreeAddress,
  netnsNameFor,
  nodeIPv4,
  nodePodCidrV4,
  otherNodes,
  podIPv4,
  sameSubnet,
} from './common';
import { buildVethPod } from './pods';
import { markHex, moveLocalRule } from './rules';
import { formatCniResult } from './result';
import type { CniDescription, CniModel, CniResult, EncapsulationKind, NodeDataplane, PluginMap, PodDataplane } from './types';

export type CiliumMode = 'native' | 'vxlan' | 'geneve';

export const CILIUM_CNI_VERSION = '0.3.1';
/** pkg/mtu: outer IPv4 20 + UDP 8 + VXLAN/Geneve 8 + inner Ethernet 14. */
export const CILIUM_TUNNEL_OVERHEAD = 50;
/** pkg/mtu WireGuard overhead used by Cilium. */
export const CILIUM_WIREGUARD_OVERHEAD = 80;

// Policy routing for the L7 proxy (Cilium 1.16+, pkg/proxy/routes.go and
// pkg/datapath/linux/linux_defaults): with the L7 proxy enabled (the default,
// Helm `l7Proxy: true`) the agent
// - moves the kernel's `0: from all lookup local` rule to priority 100
//   (NodeEnsureLocalRoutingRule, IPv4 and, with IPv6 enabled, IPv6; proto kernel);
// - adds `9: from all fwmark 0x200/0xf00 lookup 2004` (toProxyRule:
//   MagicMarkIsToProxy under MagicMarkHostMask) and table 2004's
//   `local default dev lo proto kernel` (route4 / route6), per enabled family:
//   packets bpf_lxc / bpf_host marked for the proxy are delivered to the local
//   stack, where the proxy's TPROXY socket takes them.
// Not modelled, because they are off in this model's configurations:
// - `10: from all fwmark 0xa00/0xf00 lookup 2005` (fromIngressProxyRule) and
//   `10: … 0xb00/0xf00 …` (fromEgressProxyRule) with table 2005 (`local
//   <cilium_host IP> dev cilium_host`, `default via <cilium_host IP> dev
//   cilium_host`): since 1.15/1.16 (cilium/cilium#29761, #32367) installed only
//   in native routing with CiliumEnvoyConfig or IPsec (requireFromProxyRoutes);
//   Cilium ≤ 1.14 installed rule 10 on every node;
// - IPsec's `1: from all fwmark 0xd00/0xf00 lookup 200`; Cilium's WireGuard
//   (1.16+) routes to cilium_wg0 from eBPF and adds no rule (older releases
//   had `1: fwmark 0xe00/0xf00 lookup 201`).
// `proto kernel` on these rules is not printed by `ip rule` without -d.

/** linux_defaults.MagicMarkIsToProxy: bpf marks a packet for the L7 proxy. */
export const CILIUM_TO_PROXY_MARK = 0x200;
/** linux_defaults.MagicMarkHostMask: the 4 "Cilium mark" bits. */
export const CILIUM_MARK_HOST_MASK = 0xf00;
/** linux_defaults.RouteTableToProxy. */
export const CILIUM_TO_PROXY_TABLE = 2004;
/** linux_defaults.RulePriorityToProxyIngress. */
export const CILIUM_TO_PROXY_RULE_PRIORITY = 9;
/** linux_defaults.RulePriorityLocalLookup: where the agent moves the kernel's local rule. */
export const CILIUM_LOCAL_RULE_PRIORITY = 100;

/** True when the topology's Cilium runs the L7 proxy (settings.cni.l7Proxy, default on as in Cilium). */
export function ciliumL7Proxy(topology: Topology): boolean {
  return topology.settings.cni.l7Proxy !== false;
}

/** pkg/datapath/connector Endpoint2IfName: "lxc" + the first 12 hex digits of sha256(endpointID). */
export function ciliumVethName(containerId: string, ifname = 'eth0'): string {
  return `lxc${sha256Hex(`${containerId}:${ifname}`).slice(0, 12)}`;
}

/**
 * A stand-in for the security identity Cilium allocates for a label set
 * (real identities are allocated from 256 upward in cluster order, so the
 * numbers differ; equal label sets share one identity, as in Cilium).
 */
export function ciliumIdentityFor(namespace: string, labels: Record<string, string>): number {
  const key = [`k8s:io.kubernetes.pod.namespace=${namespace}`, ...Object.keys(labels).sort().map((k) => `k8s:${k}=${labels[k]}`)].join(';');
  return 256 + (fnv1a32(key) % 65000);
}

export class CiliumModel implements CniModel {
  readonly plugin = 'cilium' as const;
  constructor(readonly mode: CiliumMode) {}

  private get tunnel(): boolean {
    return this.mode !== 'native';
  }

  describe(): CniDescription {
    const seedNotes = [
      'eBPF programs run inside the kernel (tc hooks on lxc*, cilium_host and eth0; XDP only for NodePort acceleration); Cilium does not "bypass the kernel", and packets still use the kernel\'s routing table in legacy host routing.',
      'L7 rules of a CiliumNetworkPolicy are enforced by the node\'s Envoy proxy, to which eBPF redirects the flow; eBPF itself matches L3/L4 identities in the policy map.',
      'The seed\'s `kind: CiliumConfig` with `nativeRoutingCIDR` does not exist: Cilium is configured through Helm values / the cilium-config ConfigMap (`routingMode`, `ipv4NativeRoutingCIDR`, `loadBalancer.acceleration`).',
      'With kube-proxy replacement, Services are entries in the cilium_lb4_services_v2 / cilium_lb4_backends_v3 maps, not iptables rules.',
      'The router IP on cilium_host is taken from the node\'s pod CIDR by IPAM; the model uses the first free address.',
      ...(this.mode === 'vxlan' ? ['tcpdump up to 4.99 decodes UDP 8472 as OTV: cilium_vxlan\'s packets print as `OTV, flags [I] (0x08), overlay 0, instance <VNI>` (the VNI, the source identity, shows as the instance); `tcpdump -T vxlan` prints them as VXLAN.'] : []),
    ];
    const summaries: Record<CiliumMode, string> = {
      native: 'Native routing: pod packets leave eth0 unencapsulated; with autoDirectNodeRoutes every node installs `<peer pod CIDR> via <peer IP> dev eth0` (peers must share the L2 segment).',
      vxlan: 'VXLAN tunnel (UDP 8472) on the flow-based cilium_vxlan device: remote pod CIDRs are routed to cilium_host with MTU node-50, and eBPF encapsulates towards the node found in the tunnel map / ipcache.',
      geneve: 'Geneve tunnel (UDP 6081) on the flow-based cilium_geneve device; routing as in VXLAN mode, MTU node-50.',
    };
    return {
      summary: summaries[this.mode],
      encapsulation: this.mode === 'native' ? 'none' : this.mode,
      overheadBytes: this.tunnel ? CILIUM_TUNNEL_OVERHEAD : 0,
      defaultMtu: this.tunnel ? 1500 - CILIUM_TUNNEL_OVERHEAD : 1500,
      testbedSupported: false,
      testbedNote:
        this.mode === 'geneve'
          ? 'the local test-bed kernel has no Open vSwitch / IPIP / WireGuard / Geneve; this mode is modelled only'
          : "the test-bed cannot load Cilium's eBPF data path; this mode is modelled only",
      seedNotes,
      modelledVersion: 'Cilium 1.16+ (legacy host routing, cluster-pool IPAM)',
    };
  }

  /** The route MTU pods use (the veth itself stays at the device MTU). */
  podMtu(topology: Topology): number {
    const s = topology.settings;
    const device = s.cni.mtu ?? s.nodeMTU;
    return device - (this.tunnel ? CILIUM_TUNNEL_OVERHEAD : 0) - (s.cni.encryption ? CILIUM_WIREGUARD_OVERHEAD : 0);
  }

  private deviceMtu(topology: Topology): number {
    return topology.settings.cni.mtu ?? topology.settings.nodeMTU;
  }

  encapsulationBetween(topology: Topology, srcNode: string, dstNode: string): EncapsulationKind {
    if (srcNode === dstNode) return 'none';
    if (topology.settings.cni.encryption) return 'wireguard';
    return this.mode === 'native' ? 'none' : this.mode;
  }

  routerIP(topology: Topology, nodeName: string): string {
    const node = findNode(topology, nodeName);
    const reserved = nodeReservedAddresses(topology.settings, node).find((r) => r.role === 'router' && r.family === 4);
    if (reserved) return reserved.ip;
    return firstFreeAddress(topology, nodePodCidrV4(node), 1);
  }

  /** The IPv6 router IP on cilium_host (cluster-pool IPAM's reservation in the node's IPv6 pod CIDR), dual-stack nodes only. */
  routerIPv6(topology: Topology, nodeName: string): string | undefined {
    const node = findNode(topology, nodeName);
    const v6 = nodeV6(topology, node);
    if (!v6) return undefined;
    const reserved = nodeReservedAddresses(topology.settings, node).find((r) => r.role === 'router' && r.family === 6);
    return reserved ? reserved.ip : formatIP(v6.podCidr.nth(1));
  }

  private lxcIfindex(topology: Topology, pod: PodModel): number {
    const fixed = this.tunnel ? 5 : 4;
    return fixed + 1 + 2 * podIndexOnNode(topology, pod);
  }

  buildNode(topology: Topology, nodeName: string): NodeDataplane {
    const node = findNode(topology, nodeName);
    const nodeIP = nodeIPv4(node);
    const b = new NamespaceBuilder(`node/${node.name}`);
    const notes: string[] = [];
    addLoopback(b);
    addNodeUplink(b, topology, node);
    const mtu = this.deviceMtu(topology);
    const router = this.routerIP(topology, node.name);
    const router6 = this.routerIPv6(topology, node.name);
    const v6 = nodeV6(topology, node);
    b.addInterface({
      name: 'cilium_net',
      kind: 'veth',
      link: { kind: 'same-netns', name: 'cilium_host' },
      mac: syntheticMac(`node/${node.name}/cilium_net`),
      mtu,
      flags: ['BROADCAST', 'MULTICAST', 'NOARP', 'UP', 'LOWER_UP'],
      txqlen: 1000,
      description: 'peer of cilium_host; eBPF on it handles traffic the host stack sends towards endpoints',
    });
    b.addInterface({
      name: 'cilium_host',
      kind: 'veth',
      link: { kind: 'same-netns', name: 'cilium_net' },
      mac: syntheticMac(`node/${node.name}/cilium_host`),
      mtu,
      flags: ['BROADCAST', 'MULTICAST', 'NOARP', 'UP', 'LOWER_UP'],
      txqlen: 1000,
      addresses: router6 ? [addr4(router, 32, 'link'), addr6(router6, 128)] : [addr4(router, 32, 'link')],
      description: `the node's router for its endpoints; holds the router IP ${router}${router6 ? ` and the IPv6 router IP ${router6}` : ''}`,
    });
    if (this.tunnel) {
      const vxlan = this.mode === 'vxlan';
      b.addInterface({
        name: vxlan ? 'cilium_vxlan' : 'cilium_geneve',
        kind: vxlan ? 'vxlan' : 'geneve',
        mac: syntheticMac(`node/${node.name}/cilium_${this.mode}`),
        mtu,
        operstate: 'UNKNOWN',
        txqlen: 1000,
        ...(vxlan
          ? { vxlan: { external: true, dstport: 8472, learning: false, ageing: 300 } }
          : { geneve: { external: true, dstport: 6081 } }),
        description: `flow-based ${this.mode} device: eBPF sets the tunnel key (remote node, VNI = source identity) per packet`,
      });
    }
    const local = cniPodsOn(topology, node.name);
    for (const pod of local) {
      const name = ciliumVethName(containerIdFor(pod));
      const idx = this.lxcIfindex(topology, pod);
      b.addInterface({
        ifindex: idx,
        name,
        kind: 'veth',
        link: { kind: 'other-netns', ifindex: idx + 1, netns: netnsNameFor(pod) },
        mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/lxc`),
        mtu,
        description: `host side of pod ${pod.namespace}/${pod.name}; eBPF (from-container) runs on its ingress`,
      });
      b.sysctls[`net.ipv4.conf.${name}.rp_filter`] = '0';
      if (router6) b.sysctls[`net.ipv6.conf.${name}.forwarding`] = '1';
    }
    const podCidr = nodePodCidrV4(node);
    b.addRoute({ dst: podCidr.text, gateway: router, dev: 'cilium_host', protocol: 'kernel', prefsrc: router, origin: `cilium-agent: this node's allocation CIDR ${podCidr.text} via the router IP` });
    b.addRoute({ dst: router, dev: 'cilium_host', protocol: 'kernel', scope: 'link', origin: 'cilium-agent: makes the router IP reachable on cilium_host (next hop of the CIDR routes)' });
    const routeMtu = this.podMtu(topology);
    for (const peer of otherNodes(topology, node.name)) {
      const peerCidr = nodePodCidrV4(peer);
      if (this.tunnel) {
        b.addRoute({ dst: peerCidr.text, gateway: router, dev: 'cilium_host', protocol: 'kernel', prefsrc: router, mtu: routeMtu, origin: `cilium-agent: ${peer.name}'s CIDR goes to cilium_host; eBPF encapsulates it to ${nodeIPv4(peer)}` });
      } else if (sameSubnet(topology, node, peer)) {
        b.addRoute({ dst: peerCidr.text, gateway: nodeIPv4(peer), dev: 'eth0', protocol: 'kernel', origin: `cilium-agent autoDirectNodeRoutes: ${peer.name}'s CIDR via its node IP` });
      } else {
        notes.push(`autoDirectNodeRoutes skips ${peer.name}: ${nodeIPv4(peer)} is not directly reachable ("route to destination contains gateway"); its pods are reachable only if the underlay routes ${peerCidr.text}`);
      }
    }
    if (v6 && router6) {
      // The IPv6 routes carry the node's IPv6 address as source (the agent logs local=<node IPv6>, nexthop=<router IP>);
      // the kernel refuses a gateway that is already a local address, which the agent works around by adding the routes first.
      b.addRoute({ dst: v6.podCidr.text, gateway: router6, dev: 'cilium_host', protocol: 'kernel', prefsrc: v6.ip, metric: 1024, origin: `cilium-agent: this node's IPv6 allocation CIDR ${v6.podCidr.text} via the IPv6 router IP` });
      for (const peer of otherNodes(topology, node.name)) {
        const p6 = nodeV6(topology, peer);
        if (!p6) continue;
        if (this.tunnel) {
          b.addRoute({ dst: p6.podCidr.text, gateway: router6, dev: 'cilium_host', protocol: 'kernel', prefsrc: v6.ip, metric: 1024, mtu: routeMtu, origin: `cilium-agent: ${peer.name}'s IPv6 CIDR goes to cilium_host; eBPF encapsulates it in the IPv4 tunnel to ${nodeIPv4(peer)}` });
        } else if (sameSubnetV6(topology, node, peer)) {
          b.addRoute({ dst: p6.podCidr.text, gateway: p6.ip, dev: 'eth0', protocol: 'kernel', metric: 1024, origin: `cilium-agent autoDirectNodeRoutes: ${peer.name}'s IPv6 CIDR via its node IPv6 address` });
        } else {
          notes.push(`autoDirectNodeRoutes skips ${peer.name}'s IPv6 CIDR: ${p6.ip} is not directly reachable`);
        }
      }
      notes.push(this.tunnel
        ? `IPv6: the ${this.mode} tunnel runs between the nodes' IPv4 addresses (underlay-protocol ipv4, the default): IPv6 pod packets are carried inside an outer IPv4 header, 50 bytes of overhead as for IPv4.`
        : 'IPv6: native routing with autoDirectNodeRoutes installs a route per remote IPv6 pod CIDR via the peer\'s IPv6 address (ipv6-native-routing-cidr).');
    }
    notes.push(
      topology.settings.kubeProxy.mode === 'ebpf'
        ? 'kube-proxy replacement: Services are resolved by eBPF at the socket/tc layer from the cilium_lb4_* maps; there are no KUBE-* iptables chains.'
        : "kube-proxy runs alongside Cilium here (no kube-proxy replacement): ClusterIP traffic from Cilium-managed pods is still translated per packet by bpf_lxc from the cilium_lb4_* maps (cilium/cilium#10651), so kube-proxy's KUBE-SERVICES chains never see it; kube-proxy's iptables/IPVS rules serve host-network clients, NodePort and external traffic.",
    );
    const families: (4 | 6)[] = router6 ? [4, 6] : [4];
    const l7 = ciliumL7Proxy(topology);
    if (l7) {
      const mark = `${markHex(CILIUM_TO_PROXY_MARK)}/${markHex(CILIUM_MARK_HOST_MASK)}`;
      for (const family of families) {
        b.rules.push({
          family,
          priority: CILIUM_TO_PROXY_RULE_PRIORITY,
          fwmark: CILIUM_TO_PROXY_MARK,
          fwmask: CILIUM_MARK_HOST_MASK,
          table: CILIUM_TO_PROXY_TABLE,
          origin: `cilium-agent (pkg/proxy toProxyRule): ${family === 6 ? 'IPv6 ' : ''}packets eBPF marked ${mark} for the L7 proxy look in table ${CILIUM_TO_PROXY_TABLE}, whose local default route delivers them to the proxy's TPROXY socket`,
        });
        b.addRoute({
          type: 'local',
          dst: family === 6 ? '::/0' : 'default',
          dev: 'lo',
          table: CILIUM_TO_PROXY_TABLE,
          protocol: 'kernel',
          scope: family === 6 ? 'global' : 'host',
          ...(family === 6 ? { metric: 1024 } : {}),
          origin: `cilium-agent (pkg/proxy route${family}): every destination is local in table ${CILIUM_TO_PROXY_TABLE}, so a packet marked for the proxy is delivered to this host`,
        });
      }
      notes.push(`L7 proxy (l7Proxy, on by default): the agent moved the local rule to priority ${CILIUM_LOCAL_RULE_PRIORITY} and added \`${CILIUM_TO_PROXY_RULE_PRIORITY}: from all fwmark ${mark} lookup ${CILIUM_TO_PROXY_TABLE}\` with \`local default dev lo table ${CILIUM_TO_PROXY_TABLE}\`${router6 ? ' (IPv4 and IPv6)' : ''}; rule 10 / table 2005 (from the proxy) exists only with native routing plus CiliumEnvoyConfig or IPsec, not modelled.`);
    } else {
      notes.push('L7 proxy disabled (l7Proxy: false): no proxy rules; the local rule stays at priority 0.');
    }
    const ns = b.finish();
    if (l7 && ns.rules) {
      for (const family of families) {
        ns.rules = moveLocalRule(ns.rules, family, CILIUM_LOCAL_RULE_PRIORITY, `cilium-agent (NodeEnsureLocalRoutingRule): the kernel's ${family === 6 ? 'IPv6 ' : ''}local rule moved from 0 to ${CILIUM_LOCAL_RULE_PRIORITY}, leaving room for Cilium's rules before it`);
      }
    }
    return { ...ns, kind: 'node', node: node.name, nodeIP, plugin: 'cilium', mode: this.mode, maps: this.maps(topology, node.name), notes };
  }

  private maps(topology: Topology, nodeName: string): PluginMap[] {
    const maps: PluginMap[] = [];
    const ipcache: string[][] = [];
    for (const n of topology.nodes) {
      const ip = nodeIPv4(n);
      ipcache.push([`${ip}/32`, `identity=${n.name === nodeName ? 1 : 6} encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>`]);
      for (const p of cniPodsOn(topology, n.name)) {
        const tep = n.name === nodeName || !this.tunnel ? '0.0.0.0' : ip;
        ipcache.push([`${podIPv4(p)}/32`, `identity=${ciliumIdentityFor(p.namespace, p.labels)} encryptkey=0 tunnelendpoint=${tep} flags=<none>`]);
      }
    }
    ipcache.push(['0.0.0.0/0', 'identity=2 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>']);
    if (this.routerIPv6(topology, nodeName)) {
      for (const n of topology.nodes) {
        const v6 = nodeV6(topology, n);
        if (!v6) continue;
        ipcache.push([`${v6.ip}/128`, `identity=${n.name === nodeName ? 1 : 6} encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>`]);
        for (const p of cniPodsOn(topology, n.name)) {
          const ip6 = podIPv6(p);
          if (!ip6) continue;
          const tep = n.name === nodeName || !this.tunnel ? '0.0.0.0' : nodeIPv4(n);
          ipcache.push([`${ip6}/128`, `identity=${ciliumIdentityFor(p.namespace, p.labels)} encryptkey=0 tunnelendpoint=${tep} flags=<none>`]);
        }
      }
      ipcache.push(['::/0', 'identity=2 encryptkey=0 tunnelendpoint=0.0.0.0 flags=<none>']);
    }
    maps.push({
      name: 'cilium_ipcache',
      command: 'cilium bpf ipcache list',
      columns: ['IP PREFIX/ADDRESS', 'IDENTITY'],
      rows: ipcache,
      description: 'IP → security identity (and, in tunnel mode, the node to encapsulate to). Identity numbers are modelled: 1 host, 2 world, 6 remote-node, pods from their labels.',
    });
    if (this.tunnel) {
      maps.push({
        name: 'cilium_tunnel_map',
        command: 'cilium bpf tunnel list',
        columns: ['TUNNEL', 'VALUE'],
        rows: otherNodes(topology, nodeName).flatMap((n) => {
          const v6 = this.routerIPv6(topology, nodeName) ? nodeV6(topology, n) : undefined;
          const rows = [[`${nodePodCidrV4(n).text.split('/')[0]}:0`, `${nodeIPv4(n)}:0`]];
          if (v6) rows.push([`[${formatIP(v6.podCidr.nth(0))}]:0`, `${nodeIPv4(n)}:0`]);
          return rows;
        }),
        description: 'remote pod CIDR → node IP used as the outer destination',
      });
    }
    maps.push({
      name: 'cilium_lxc',
      command: 'cilium bpf endpoint list',
      columns: ['IP ADDRESS', 'LOCAL ENDPOINT INFO'],
      rows: cniPodsOn(topology, nodeName).map((p) => [
        `${podIPv4(p)}:0`,
        `id=${ciliumIdentityFor(p.namespace, p.labels) % 4096} sec_id=${ciliumIdentityFor(p.namespace, p.labels)} flags=0x0000 ifindex=${this.lxcIfindex(topology, p)} mac=${syntheticMac(`pod/${p.namespace}/${p.name}/eth0`)} nodemac=${syntheticMac(`pod/${p.namespace}/${p.name}/lxc`)}`,
      ]),
      description: 'local endpoints: where eBPF delivers packets for a local pod IP',
    });
    return maps;
  }

  buildPod(topology: Topology, pod: PodModel): PodDataplane {
    const router = this.routerIP(topology, pod.nodeName);
    const router6 = this.routerIPv6(topology, pod.nodeName);
    const ip6 = router6 ? podIPv6(pod) : undefined;
    const lxc = this.lxcIfindex(topology, pod);
    return buildVethPod({
      topology,
      pod,
      hostPeer: ciliumVethName(containerIdFor(pod)),
      hostPeerIfindex: lxc,
      ifindex: lxc + 1,
      mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/eth0`),
      mtu: this.deviceMtu(topology),
      addresses: ip6 ? [addr4(podIPv4(pod), 32), addr6(ip6, 128)] : [addr4(podIPv4(pod), 32)],
      routes: [
        { dst: router, scope: 'link', origin: 'cilium-cni: the router IP (cilium_host) is on-link' },
        { dst: 'default', gateway: router, mtu: this.podMtu(topology), origin: 'cilium-cni: default route via the router IP, with the route MTU' },
        ...(ip6 && router6
          ? [
              { dst: router6, metric: 1024, origin: 'cilium-cni: the IPv6 router IP (cilium_host) is on-link' },
              { dst: '::/0', gateway: router6, metric: 1024, mtu: this.podMtu(topology), origin: 'cilium-cni: IPv6 default route via the IPv6 router IP, with the route MTU' },
            ]
          : []),
      ],
      description: `pod ${pod.namespace}/${pod.name}'s interface (Cilium endpoint)`,
    });
  }

  cniAddResult(topology: Topology, pod: PodModel): CniResult {
    const dp = this.buildPod(topology, pod);
    const router = this.routerIP(topology, pod.nodeName);
    const router6 = this.routerIPv6(topology, pod.nodeName);
    const ip6 = router6 ? podIPv6(pod) : undefined;
    const eth0 = dp.interfaces.find((i) => i.name === 'eth0')!;
    return formatCniResult(CILIUM_CNI_VERSION, {
      interfaces: [
        { name: dp.hostPeer, mac: syntheticMac(`pod/${pod.namespace}/${pod.name}/lxc`) },
        { name: 'eth0', mac: eth0.mac, sandbox: dp.netnsPath },
      ],
      ips: ip6 && router6 ? [{ interface: 1, address: `${podIPv4(pod)}/32`, gateway: router }, { interface: 1, address: `${ip6}/128`, gateway: router6 }] : [{ interface: 1, address: `${podIPv4(pod)}/32`, gateway: router }],
      routes: ip6 && router6 ? [{ dst: `${router}/32` }, { dst: '0.0.0.0/0', gw: router }, { dst: `${router6}/128` }, { dst: '::/0', gw: router6 }] : [{ dst: `${router}/32` }, { dst: '0.0.0.0/0', gw: router }],
    });
  }
}
