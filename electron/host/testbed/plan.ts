// From a Topology to what the test-bed builds: names, addresses, CNI network
// configs, routes the CNI's daemon (felix, flanneld) would program, DNS
// records, servers. Pure data (no commands run here), so it is unit-tested
// without root.

import { Cidr, formatIP, formatIPv4, parseIP } from '../../../core/net';
import type { NodeModel, PodModel, Topology } from '../../../core/model';
import { buildDataplane, calicoBlocks, calicoVethName, cniModelFor, containerIdFor } from '../../../core/cni';
import { CoreDns, kubeDnsIP, podResolvConf } from '../../../core/dns';
import { TestbedError } from './errors';
import { bridgePort, nodeNetns, podNetns, RUN_DIR } from './names';
import { modeOf } from './preflight';

export interface PlanRoute {
  /** `ip route replace` arguments after the destination. */
  dst: string;
  type?: 'blackhole';
  via?: string;
  dev?: string;
  proto?: string;
  onlink?: boolean;
}

export interface PlanTunnel {
  dev: string;
  vni: number;
  port: number;
  mtu: number;
  /** The VTEP address (/32) on the tunnel device. */
  ip: string;
  mac: string;
}

export interface PlanNode {
  name: string;
  index: number;
  ip: string;
  /** Node network prefix length (10.0.1.5/16). */
  prefixLen: number;
  netns: string;
  /** Port of this node on br0 in nl-net. */
  bridgePort: string;
  /** The node's pod CIDR (host-local range). */
  podCIDR: string;
  /** Calico IPAM blocks (blackholed locally, announced by BIRD). */
  blocks: string[];
  tunnel?: PlanTunnel;
  /** IPv6 node address on eth0 (dual-stack topologies; absent when only the IPv4 part is built). */
  ip6?: string;
  prefixLen6?: number;
  /** The node's IPv6 pod CIDR (the second host-local range set). */
  podCIDR6?: string;
  /** IPv6 IPAM blocks (Calico: blackholed and announced; flannel: the pod CIDR). */
  blocks6: string[];
  /** vxlan-v6.calico / flannel-v6.1: VXLAN over the nodes' IPv6 addresses, VTEP address /128. */
  tunnel6?: PlanTunnel;
  /** Neighbour (ARP / NDP) and FDB entries for remote VTEPs, both families. */
  neighbours: { ip: string; mac: string; dev: string }[];
  fdb: { mac: string; dev: string; dst: string }[];
  /** Routes the CNI daemon (felix / flanneld) programs, both families; BGP routes come from BIRD instead. */
  routes: PlanRoute[];
  /** sysctls for the node namespace (felix/flanneld settings). */
  sysctls: Record<string, string>;
}

export interface PlanServer {
  port: number;
  protocol: 'TCP' | 'UDP';
  kind: 'http' | 'udp-echo' | 'dns';
}

export interface PlanPod {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  /** The pod's IPv6 address (dual-stack topologies). */
  ip6?: string;
  hostNetwork: boolean;
  /** The pod's namespace (the node's for hostNetwork pods). */
  netns: string;
  containerId: string;
  /** Calico: cali…; flannel: the bridge plugin picks veth…, recorded after ADD. */
  hostVeth?: string;
  /** The CNI network config given on stdin to ADD. */
  cniConfig: Record<string, unknown>;
  /** CNI_ARGS (host-local takes the fixed IP from IP=). */
  cniArgs: string;
  servers: PlanServer[];
  resolvConf: string;
  hostsFile: string;
}

export interface PlanDns {
  pod: PlanPod;
  listen: string;
  /** The DNS pod's IPv6 address, also listened on (dual-stack). */
  listen6?: string;
  /** dnsmasq arguments for the records (host-record, srv-host, ttl). */
  recordArgs: string[];
  clusterIP: string;
  /** kube-dns's IPv6 ClusterIP (dual-stack kube-dns). */
  clusterIP6?: string;
  /** 0 for the first DNS pod (dnsmasq.log), n for the others (dnsmasq-n.log). */
  id?: number;
}

export interface TestbedPlan {
  mode: string;
  plugin: 'calico' | 'flannel';
  topology: string;
  nodeCIDR: string;
  /** The node network's default gateway, held by br0 in nl-net (it forwards nothing). */
  gateway: string;
  /** True when the IPv6 half of a dual-stack topology is built too. */
  ipv6: boolean;
  /** IPv6 node network and its gateway on br0 (dual-stack). */
  nodeCIDR6?: string;
  gateway6?: string;
  nodes: PlanNode[];
  pods: PlanPod[];
  /** The first kube-dns endpoint pod's dnsmasq. */
  dns?: PlanDns;
  /** dnsmasq in the other kube-dns endpoint pods (same records). */
  dnsReplicas: PlanDns[];
  podMtu: number;
  clusterDomain: string;
  /** AS number of the iBGP full mesh (Calico's default). */
  asNumber: number;
  /** Where this test-bed differs from a real cluster (kept in the state file for compare). */
  differences: string[];
  warnings: string[];
}

const CNI_NETWORK_NAME = 'k8s-pod-network';

function v4(ips: readonly string[]): string | undefined {
  return ips.find((ip) => parseIP(ip)?.family === 4);
}

function v6(ips: readonly string[]): string | undefined {
  return ips.find((ip) => parseIP(ip)?.family === 6);
}

function cidrOf(list: readonly string[], family: 4 | 6): Cidr | undefined {
  return list.map((c) => Cidr.tryParse(c)).find((c): c is Cidr => c?.family === family);
}

/**
 * The node's IPv6 IPAM blocks as Calico IPAM hands them out: the node's
 * recorded blocks, else the blocks (of blockSize.v6) holding its pods' IPv6
 * addresses, else the first block of its IPv6 pod CIDR.
 */
function calicoBlocksV6(t: Topology, n: NodeModel, podCIDR6: Cidr): Cidr[] {
  const own = (n.blocks ?? []).map((b) => Cidr.tryParse(b)).filter((c): c is Cidr => c?.family === 6);
  if (own.length) return own;
  const size = t.settings.blockSize.v6;
  const seen = new Map<string, Cidr>();
  for (const p of t.pods) {
    if (p.nodeName !== n.name || p.hostNetwork) continue;
    const ip = v6(p.ips);
    if (!ip) continue;
    const b = Cidr.fromIP(parseIP(ip)!, size)!;
    seen.set(b.text, b);
  }
  if (!seen.size) {
    const b = podCIDR6.prefix <= size ? podCIDR6.subnet(size, 0) : podCIDR6;
    seen.set(b.text, b);
  }
  return [...seen.values()].sort((a, b) => ((a.base as bigint) < (b.base as bigint) ? -1 : 1));
}

/** A deterministic locally administered MAC for a VTEP when the model has none. */
function vtepMacFallback(seed: number): string {
  return `66:6e:6c:00:${((seed >> 8) & 255).toString(16).padStart(2, '0')}:${(seed & 255).toString(16).padStart(2, '0')}`;
}

function serversFor(pod: PodModel, isDns: boolean): PlanServer[] {
  const out: PlanServer[] = [];
  const seen = new Set<string>();
  for (const p of pod.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    if (seen.has(key) || p.protocol === 'SCTP') continue;
    seen.add(key);
    if (isDns && p.containerPort === 53) {
      if (p.protocol === 'UDP') out.push({ port: 53, protocol: 'UDP', kind: 'dns' });
      continue; // dnsmasq serves TCP 53 too
    }
    out.push({ port: p.containerPort, protocol: p.protocol, kind: p.protocol === 'UDP' ? 'udp-echo' : 'http' });
  }
  if (isDns && !out.some((s) => s.kind === 'dns')) out.push({ port: 53, protocol: 'UDP', kind: 'dns' });
  return out;
}

/** kubelet's /etc/hosts for a pod (Kubernetes-managed hosts file): a line per pod IP. */
export function kubeletHostsFile(ip: string | readonly string[], hostname: string): string {
  const ips = typeof ip === 'string' ? [ip] : ip;
  return [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...ips.map((a) => `${a}\t${hostname}`),
    '',
  ].join('\n');
}

/**
 * dnsmasq records for the cluster zone, taken from the CoreDNS model's own
 * answers (Service A records, headless endpoints, SRV for named ports), so
 * dnsmasq serves what CoreDNS would.
 */
export function dnsRecordArgs(t: Topology): string[] {
  const dns = new CoreDns(t);
  const zone = dns.zone;
  const args: string[] = [`--local=/${zone}/`, `--domain=${zone}`, `--local-ttl=${dns.ttl}`, `--auth-ttl=${dns.ttl}`];
  const hosts = new Map<string, string[]>();
  const srv: string[] = [];
  const addA = (name: string, ip: string) => {
    const n = name.replace(/\.$/, '');
    const list = hosts.get(n) ?? [];
    if (!list.includes(ip)) list.push(ip);
    hosts.set(n, list);
  };
  for (const s of t.services) {
    const fq = `${s.name}.${s.namespace}.svc.${zone}`;
    for (const type of ['A', 'AAAA'] as const) {
      const a = dns.answer(fq, type);
      for (const rr of a.answer) if (rr.type === 'A' || rr.type === 'AAAA') addA(rr.name, rr.data);
      for (const rr of a.answer) if (rr.type === 'CNAME') args.push(`--cname=${rr.name.replace(/\.$/, '')},${rr.data.replace(/\.$/, '')}`);
    }
    for (const p of s.ports) {
      if (!p.name) continue;
      const name = `_${p.name}._${p.protocol.toLowerCase()}.${fq}`;
      const a = dns.answer(name, 'SRV');
      for (const rr of a.answer) {
        if (rr.type !== 'SRV') continue;
        const [prio, weight, port, target] = rr.data.split(' ');
        srv.push(`--srv-host=${name},${target.replace(/\.$/, '')},${port},${prio},${weight}`);
      }
      for (const rr of a.additional) if (rr.type === 'A' || rr.type === 'AAAA') addA(rr.name, rr.data);
    }
  }
  // Pod records a-b-c-d.<ns>.pod.<zone> (CoreDNS `pods insecure`) for the pods of the topology.
  for (const p of t.pods) {
    for (const ip of p.ips) {
      if (parseIP(ip)?.family !== 4) continue;
      addA(`${ip.replace(/\./g, '-')}.${p.namespace}.pod.${zone}`, ip);
    }
  }
  for (const [name, ips] of [...hosts].sort()) args.push(`--host-record=${name},${ips.join(',')}`);
  return [...args, ...srv];
}

/**
 * Calico IPAM hands out every address of a block, the first one included;
 * host-local (the test-bed's IPAM) refuses a range's network address, the
 * IPv4 broadcast address and the range's gateway (its first host address).
 * Say so up front instead of failing inside the plugin.
 */
function checkHostLocalAddress(p: PodModel, ip: string, range: string): void {
  const r = Cidr.parse(range);
  const a = parseIP(ip)!;
  const off = r.offsetOf(a);
  const last = r.family === 4 && off === r.size - 1n;
  const fix = 'give the pod a fixed address, or let IPAM start later in each block: --set podIPOffset=2 (or cluster.podIPOffset: 2)';
  if (r.prefix < r.bits - 1 && (off === 0n || last)) {
    throw new TestbedError(
      'unsupported-topology',
      `pod ${p.namespace}/${p.name} has ${ip}, the ${off === 0n ? 'network' : 'broadcast'} address of ${range}: Calico IPAM can hand it out, but the test-bed's host-local IPAM cannot`,
      fix,
    );
  }
  if (r.prefix < r.bits - 1 && off === 1n) {
    throw new TestbedError('unsupported-topology', `pod ${p.namespace}/${p.name} has ${ip}, the first host address of ${range}, which host-local reserves as the range's gateway: the test-bed's IPAM cannot hand it out`, fix);
  }
}

export interface PlanOptions {
  /** Override the CNI_CONTAINERID derivation (tests). */
  containerId?: (pod: PodModel) => string;
}

export function buildPlan(t: Topology, opts: PlanOptions = {}): TestbedPlan {
  const mode = modeOf(t);
  const plugin = t.settings.cni.plugin;
  if (plugin !== 'calico' && plugin !== 'flannel') {
    throw new TestbedError('unsupported-mode', `the local test-bed cannot build ${mode}; it is modelled only`, 'use calico-bgp, calico-vxlan, flannel-vxlan or flannel-host-gw');
  }
  const nodeCIDR = cidrOf(t.settings.nodeCIDRs, 4);
  if (!nodeCIDR) throw new TestbedError('unsupported-topology', 'the topology has no IPv4 node network (nodeCIDR)', 'set cluster.nodeCIDR, e.g. 10.0.0.0/16');
  const clusterCIDR = cidrOf(t.settings.clusterCIDRs, 4);
  if (!clusterCIDR) throw new TestbedError('unsupported-topology', 'the topology has no IPv4 cluster (pod) CIDR', 'set cluster.clusterCIDR, e.g. 10.244.0.0/16');
  if (t.nodes.length === 0) throw new TestbedError('unsupported-topology', 'the topology has no nodes', 'add nodes: - { name: node-1, ip: 10.0.1.5 }');
  const model = cniModelFor(t);
  const dp = buildDataplane(t);
  const podMtu = model.podMtu(t);
  const warnings: string[] = [];
  const differences: string[] = [];
  const gateway = formatIPv4(nodeCIDR.nth(1).value as number);
  const domain = t.settings.dns.clusterDomain.replace(/\.$/, '');

  // The IPv6 half: built when every node has an IPv6 address and pod CIDR inside IPv6 node and cluster networks.
  const nodeCIDR6 = cidrOf(t.settings.nodeCIDRs, 6);
  const clusterCIDR6 = cidrOf(t.settings.clusterCIDRs, 6);
  const gateway6 = nodeCIDR6 ? formatIP(nodeCIDR6.nth(1)) : undefined;
  const anyV6 = !!clusterCIDR6 || t.nodes.some((n) => v6(n.ips));
  const noV6: string[] = [];
  if (anyV6) {
    if (!nodeCIDR6) noV6.push('no IPv6 node network (nodeCIDR)');
    if (!clusterCIDR6) noV6.push('no IPv6 cluster (pod) CIDR');
    for (const n of t.nodes) {
      const ip6 = v6(n.ips);
      if (!ip6) noV6.push(`node ${n.name} has no IPv6 address`);
      else if (nodeCIDR6 && !nodeCIDR6.contains(parseIP(ip6)!)) noV6.push(`node ${n.name}'s IPv6 address ${ip6} is outside ${nodeCIDR6.text}`);
      else if (ip6 === gateway6) noV6.push(`node ${n.name} uses ${ip6}, the IPv6 node network's gateway address`);
      if (!cidrOf(n.podCIDRs, 6)) noV6.push(`node ${n.name} has no IPv6 pod CIDR`);
    }
  }
  const ipv6 = anyV6 && noV6.length === 0;
  if (anyV6 && !ipv6) warnings.push(`the topology is dual-stack or IPv6, but the test-bed builds its IPv4 part only: ${noV6.join('; ')}`);

  const nodes: PlanNode[] = t.nodes.map((n, index) => {
    const ip = v4(n.ips);
    if (!ip) throw new TestbedError('unsupported-topology', `node ${n.name} has no IPv4 address`, 'the test-bed builds IPv4 node networks only');
    if (!nodeCIDR.contains(parseIP(ip)!)) throw new TestbedError('unsupported-topology', `node ${n.name}'s address ${ip} is outside the node network ${nodeCIDR.text}`, 'the test-bed puts all nodes on one bridge: use addresses inside nodeCIDR');
    if (ip === gateway) throw new TestbedError('unsupported-topology', `node ${n.name} uses ${ip}, the node network's gateway address`, `give it another address inside ${nodeCIDR.text}`);
    const podCIDR = cidrOf(n.podCIDRs, 4);
    if (!podCIDR) throw new TestbedError('unsupported-topology', `node ${n.name} has no IPv4 pod CIDR`, 'let IPAM allocate one (clusterCIDR + nodeCIDRMaskSize)');
    const ndp = dp.node(n.name);
    const vxlans = ndp.interfaces.filter((i) => i.kind === 'vxlan');
    const isV6 = (i: (typeof vxlans)[number]) => (i.vxlan?.local ? parseIP(i.vxlan.local)?.family === 6 : i.addresses.some((a) => a.family === 6 && a.scope === 'global'));
    const tunnelOf = (iface: (typeof vxlans)[number] | undefined, family: 4 | 6, fallbackIP: string, seed: number): PlanTunnel | undefined => {
      if (!iface) return undefined;
      const addr = iface.addresses.find((a) => a.family === family && a.scope !== 'link');
      return {
        dev: iface.name,
        vni: iface.vxlan?.id ?? (plugin === 'calico' ? 4096 : 1),
        port: iface.vxlan?.dstport ?? (plugin === 'calico' ? 4789 : 8472),
        mtu: iface.mtu,
        ip: addr?.local ?? fallbackIP,
        mac: iface.mac || vtepMacFallback(seed),
      };
    };
    const tunnel = tunnelOf(
      vxlans.find((i) => !isV6(i)),
      4,
      formatIPv4(podCIDR.base as number),
      index,
    );
    const blocks = plugin === 'calico' ? calicoBlocks(t, n).map((b) => b.text) : [podCIDR.text];
    const sysctls: Record<string, string> = { 'net.ipv4.ip_forward': '1' };
    const node: PlanNode = { name: n.name, index, ip, prefixLen: nodeCIDR.prefix, netns: nodeNetns(n.name), bridgePort: bridgePort(index), podCIDR: podCIDR.text, blocks, tunnel, blocks6: [], neighbours: [], fdb: [], routes: [], sysctls };
    if (ipv6) {
      const podCIDR6 = cidrOf(n.podCIDRs, 6)!;
      node.ip6 = v6(n.ips);
      node.prefixLen6 = nodeCIDR6!.prefix;
      node.podCIDR6 = podCIDR6.text;
      node.blocks6 = plugin === 'calico' ? calicoBlocksV6(t, n, podCIDR6).map((b) => b.text) : [podCIDR6.text];
      node.tunnel6 = tunnelOf(
        vxlans.find((i) => isV6(i)),
        6,
        formatIP(podCIDR6.nth(0)),
        0x8000 + index,
      );
      // felix / flanneld forward IPv6 too (only inside the node namespace)
      sysctls['net.ipv6.conf.all.forwarding'] = '1';
    }
    return node;
  });
  const byName = new Map(nodes.map((n) => [n.name, n]));

  // Routes, neighbours and FDB entries the CNI's daemon programs (computed here, not copied from the model), per family.
  const families = ipv6 ? ([4, 6] as const) : ([4] as const);
  for (const n of nodes) {
    for (const fam of families) {
      const blocksOf = (x: PlanNode) => (fam === 4 ? x.blocks : x.blocks6);
      const tunnelOf = (x: PlanNode) => (fam === 4 ? x.tunnel : x.tunnel6);
      const ipOf = (x: PlanNode) => (fam === 4 ? x.ip : x.ip6!);
      if (plugin === 'calico' && mode !== 'calico-bgp') for (const b of blocksOf(n)) n.routes.push({ dst: b, type: 'blackhole', proto: '80' });
      for (const peer of nodes) {
        if (peer === n) continue;
        const nt = tunnelOf(n);
        const pt = tunnelOf(peer);
        if (nt && pt && (mode === 'calico-vxlan' || mode === 'flannel-vxlan')) {
          for (const b of blocksOf(peer)) n.routes.push({ dst: b, via: pt.ip, dev: nt.dev, onlink: true });
          n.neighbours.push({ ip: pt.ip, mac: pt.mac, dev: nt.dev });
          n.fdb.push({ mac: pt.mac, dev: nt.dev, dst: ipOf(peer) });
        } else if (mode === 'calico-vxlan-crosssubnet') {
          // all test-bed nodes share one subnet: felix routes them natively
          for (const b of blocksOf(peer)) n.routes.push({ dst: b, via: ipOf(peer), dev: 'eth0', proto: '80', onlink: true });
        } else if (mode === 'flannel-host-gw') {
          for (const b of blocksOf(peer)) n.routes.push({ dst: b, via: ipOf(peer), dev: 'eth0' });
        }
      }
      const nt = tunnelOf(n);
      if (mode === 'calico-vxlan-crosssubnet' && nt) {
        // the tunnel device exists, but no peer needs it on one subnet
        for (const peer of nodes) {
          const pt = tunnelOf(peer);
          if (peer !== n && pt) {
            n.neighbours.push({ ip: pt.ip, mac: pt.mac, dev: nt.dev });
            n.fdb.push({ mac: pt.mac, dev: nt.dev, dst: ipOf(peer) });
          }
        }
      }
    }
  }

  // Pods.
  const dnsIP = kubeDnsIP(t);
  const dnsSvc = t.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
  const dnsEndpoints = new Set<string>();
  if (dnsSvc) {
    for (const sl of t.endpointSlices) if (sl.namespace === 'kube-system' && sl.serviceName === 'kube-dns') for (const ep of sl.endpoints) for (const a of ep.addresses) dnsEndpoints.add(a);
  }
  const pods: PlanPod[] = [];
  let dns: PlanDns | undefined;
  const dnsReplicas: PlanDns[] = [];
  let dnsRecords: string[] | undefined;
  for (const p of t.pods) {
    const node = byName.get(p.nodeName);
    if (!node) {
      warnings.push(`pod ${p.namespace}/${p.name} is on no known node (${p.nodeName || 'unscheduled'}); not built`);
      continue;
    }
    const ip = p.hostNetwork ? node.ip : v4(p.ips);
    if (!ip) {
      warnings.push(`pod ${p.namespace}/${p.name} has no IPv4 address; not built`);
      continue;
    }
    const range = Cidr.parse(node.podCIDR).contains(parseIP(ip)!) ? node.podCIDR : Cidr.fromIP(parseIP(ip)!, 24)!.text;
    let ip6: string | undefined;
    let range6: string | undefined;
    if (ipv6) {
      ip6 = p.hostNetwork ? node.ip6 : v6(p.ips);
      if (!ip6) warnings.push(`pod ${p.namespace}/${p.name} has no IPv6 address in a dual-stack topology; only its IPv4 side is built`);
      else if (!p.hostNetwork) range6 = Cidr.parse(node.podCIDR6!).contains(parseIP(ip6)!) ? node.podCIDR6! : Cidr.fromIP(parseIP(ip6)!, 64)!.text;
    }
    if (!p.hostNetwork) {
      checkHostLocalAddress(p, ip, range);
      if (ip6 && range6) checkHostLocalAddress(p, ip6, range6);
    }
    const mtu = podMtu;
    const routes4 = plugin === 'flannel' ? [{ dst: clusterCIDR.text }] : [{ dst: '0.0.0.0/0' }];
    const routes6 = plugin === 'flannel' ? [{ dst: clusterCIDR6?.text ?? '::/0' }] : [{ dst: '::/0' }];
    const ipam: Record<string, unknown> = {
      type: 'host-local',
      dataDir: `${RUN_DIR}/cni/ipam/${node.name}`,
      // one range set per family: the plugin's result then carries both addresses
      ranges: range6 ? [[{ subnet: range }], [{ subnet: range6 }]] : [[{ subnet: range }]],
      routes: range6 ? [...routes4, ...routes6] : routes4,
    };
    const cniConfig: Record<string, unknown> =
      plugin === 'calico'
        ? { cniVersion: '1.0.0', name: CNI_NETWORK_NAME, type: 'ptp', mtu, ipam }
        : { cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', bridge: 'cni0', isGateway: true, isDefaultGateway: true, hairpinMode: true, ipMasq: false, mtu, ipam };
    // host-local takes one fixed address from CNI_ARGS IP= (Debian's plugins 1.1 parse a single address
    // there); both families' addresses go in the network config's args.cni.ips instead
    if (range6) cniConfig.args = { cni: { ips: [ip, ip6] } };
    const isDns = dnsEndpoints.has(ip) && !p.hostNetwork;
    const rc = podResolvConf(t, p);
    const containerId = opts.containerId ? opts.containerId(p) : containerIdFor(p);
    const pod: PlanPod = {
      namespace: p.namespace,
      name: p.name,
      node: node.name,
      ip,
      ip6,
      hostNetwork: p.hostNetwork,
      netns: p.hostNetwork ? node.netns : podNetns(p.namespace, p.name),
      containerId,
      hostVeth: plugin === 'calico' && !p.hostNetwork ? calicoVethName(p.namespace, p.name) : undefined,
      cniConfig,
      cniArgs: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${p.namespace};K8S_POD_NAME=${p.name};K8S_POD_INFRA_CONTAINER_ID=${containerId}${range6 ? '' : `;IP=${ip}`}`,
      servers: serversFor(p, isDns),
      resolvConf: rc.text,
      hostsFile: kubeletHostsFile(ip6 ? [ip, ip6] : [ip], p.name),
    };
    pods.push(pod);
    if (isDns) {
      // every kube-dns endpoint answers (kube-proxy spreads queries over all of them)
      const d: PlanDns = { pod, listen: ip, recordArgs: dnsRecords ?? (dnsRecords = dnsRecordArgs(t)), clusterIP: dnsIP, id: dnsReplicas.length + (dns ? 1 : 0) };
      if (ip6 && !p.hostNetwork) {
        d.listen6 = ip6;
        d.clusterIP6 = dnsSvc?.clusterIPs.find((c) => parseIP(c)?.family === 6);
      }
      if (!dns) dns = d;
      else dnsReplicas.push(d);
    }
  }
  if (!dns) warnings.push('no kube-system/kube-dns endpoint pod in the topology: no cluster DNS server is started (names will not resolve)');

  if (plugin === 'calico') {
    differences.push(
      'Pods are wired by the ptp CNI plugin with host-local IPAM, then adjusted to look like Calico (host veth renamed to cali…, MAC ee:ee:ee:ee:ee:ee, no address, proxy ARP; pod address /32 with routes via 169.254.1.1). The CNI result JSON kept for each pod is ptp\'s (address /24 with a gateway), not calico-ipam\'s.',
      'host-local reserves the pod CIDR\'s first address as a gateway; calico-ipam does not.',
      'No calico-node/felix: the test-bed plays felix once at start (routes, ARP/FDB entries, sysctls, policy chains); nothing reconciles later changes.',
      'natOutgoing (cali-nat-outgoing MASQUERADE) is not programmed: the test-bed has no network outside the cluster.',
    );
    if (mode === 'calico-bgp') {
      differences.push(
        'BIRD 2 instead of Calico\'s BIRD 1.x fork: its kernel protocol installs routes with `metric 32` (Calico\'s routes carry no metric); BGP timers are shortened (connect delay 1 s) so sessions come up quickly.',
      );
    }
  } else {
    differences.push('Pods are wired by the bridge CNI plugin (as flannel\'s delegate is) directly, without the flannel CNI wrapper and subnet.env; flanneld is not running: its routes and VXLAN entries are programmed once at start.');
  }
  if (ipv6) {
    differences.push(
      plugin === 'calico'
        ? 'IPv6: host-local hands out the pods\' IPv6 addresses from the node\'s IPv6 pod CIDR (a second range set, so one ADD returns both families); the pods then get Calico\'s /128 address and a default route via the host veth\'s link-local fe80::ecee:eeff:feee:eeee. Calico policy is programmed for IPv6 as felix does it: the same cali- chains with ip6tables-restore and the cali60 sets with family inet6.'
        : 'IPv6: the bridge plugin gives cni0 the first address of the node\'s IPv6 pod CIDR and the pods an address from it (a second host-local range set), as flannel\'s delegate does with EnableIPv6.',
      'IPv6 duplicate address detection is off in the test-bed\'s namespaces (accept_dad=0), so addresses are usable at once; a real node runs DAD (addresses are "tentative" for a second or so).',
    );
    if (mode === 'calico-bgp') differences.push('IPv6 BGP: one BIRD 2 process per node carries both families (Calico runs bird and bird6); the IPv6 routes travel over IPv6 sessions between the nodes\' IPv6 addresses, as bird6 does.');
  }
  differences.push('dnsmasq\'s answers are not authoritative (no aa flag, no SOA in the authority section of NXDOMAIN answers), unlike CoreDNS\'s for the cluster zone: tcpdump shows `NXDomain 0/0/0` where CoreDNS answers `NXDomain* 0/1/0`.');
  differences.push('Cluster DNS is dnsmasq (records taken from the CoreDNS model: Services, headless endpoints, SRV, pod A records) instead of CoreDNS; names outside the cluster domain are refused, not forwarded.');
  differences.push('Pod namespaces are pinned at /var/run/netns/nl-p-<namespace>-<pod> (the test-bed prefix), not containerd\'s /var/run/netns/cni-<uuid>.');
  differences.push('Pods are network namespaces without containers: each runs only small servers (socat) on its container ports.');

  return {
    mode,
    plugin,
    topology: t.settings.name,
    nodeCIDR: nodeCIDR.text,
    gateway,
    ipv6,
    nodeCIDR6: ipv6 ? nodeCIDR6!.text : undefined,
    gateway6: ipv6 ? gateway6 : undefined,
    nodes,
    pods,
    dns,
    dnsReplicas,
    podMtu,
    clusterDomain: domain,
    asNumber: 64512,
    differences,
    warnings,
  };
}
