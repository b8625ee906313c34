// IP address management for a topology: node IPs, per-node pod CIDRs,
// Calico blocks, pod IPs, service cluster IPs and node ports. Addresses the
// input already fixes are honoured and checked; the rest are handed out
// deterministically, in document order.

import { Cidr, formatIP, parseIP, tryParseCidr, type IP, type IPFamily } from '../net';
import type { ClusterSettings, NodeModel, PodModel, ServiceModel, Severity, Topology } from '../model/types';

/** Explanations the UI shows next to allocated values. */
export const IPAM_NOTES = {
  firstNodeCIDRIndex:
    'Per-node pod CIDRs are carved from the cluster CIDR in order, starting at index settings.firstNodeCIDRIndex. ' +
    'The lab defaults to 1 so node-1 gets 10.244.1.0/24 as in the seed; the real kube-controller-manager ' +
    '(--allocate-node-cidrs) starts at index 0, so its first node gets 10.244.0.0/24. Set firstNodeCIDRIndex=0 to match a real cluster.',
  calicoBlocks:
    'Calico IPAM hands each node blocks (ipPools[].blockSize, /26 by default) and allocates pod addresses from them, ' +
    'network address included. Real Calico picks any free block in the pool (e.g. 10.244.219.64/26) and ignores ' +
    'node.spec.podCIDR; the lab carves blocks from the node\'s pod CIDR so addresses read like the seed.',
  podIPs:
    'Pod addresses are handed out in order on each node starting at settings.podIPOffset, skipping addresses in use. ' +
    'Defaults per CNI: Calico from the block start (offset 0), with vxlan.calico / tunl0 taking the first address in ' +
    'VXLAN/IPIP modes (pods from offset 1); host-local (Flannel cni0, Antrea antrea-gw0, Weave) gives .1 to the bridge ' +
    'gateway and starts pods at .2; Cilium cluster-pool gives cilium_host one address (random in reality, .1 here) and starts pods at .2.',
  serviceIPs:
    'The kubernetes Service takes the first address of the service CIDR and kube-dns the tenth (as kubeadm does); other ' +
    'Services get addresses in order from the eleventh. The real API server picks cluster IPs at random (preferring the ' +
    'upper part of the range for dynamic allocation since Kubernetes 1.27), so real addresses differ.',
  nodePorts:
    'NodePorts are handed out in order from 30000 (range 30000-32767). The real API server picks them at random.',
  nodeIPs: 'Nodes without an address get one from the node CIDR, from x.x.1.5 upwards (as in the seed).',
  weaveIPv4Only:
    'Weave Net is IPv4-only: its IPAM allocates from IPALLOC_RANGE (IPv4) and neither sleeve nor fastdp carries IPv6, so in a ' +
    'dual-stack cluster Weave pods get an IPv4 address only. kube-controller-manager still gives each node an IPv6 pod CIDR ' +
    '(spec.podCIDRs) that no pod uses, and hostNetwork pods keep their node\'s IPv6 address.',
} as const;

/**
 * Why the CNI's IPAM hands pods no address of `family`, or undefined when it
 * does. Weave Net allocates IPv4 only (weaveworks/weave#19, never done before
 * the project was archived); every other modelled CNI is dual-stack capable.
 */
export function cniFamilyUnsupported(s: Pick<ClusterSettings, 'cni'>, family: IPFamily): string | undefined {
  if (family === 6 && s.cni.plugin === 'weave') return IPAM_NOTES.weaveIPv4Only;
  return undefined;
}

export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

export type IpamField = 'ips' | 'podCIDRs' | 'clusterIPs' | 'nodePort' | 'healthCheckNodePort';

export interface IpamIssue {
  severity: Severity;
  code: string;
  message: string;
  hint?: string;
  /** The model object the issue is about (node, pod or service), and which of its fields. */
  subject?: NodeModel | PodModel | ServiceModel;
  field?: IpamField;
  /** Index into the field's list (e.g. which IP, which port). */
  index?: number;
}

export interface IpamOptions {
  report?: (issue: IpamIssue) => void;
}

/** An address a CNI takes for itself on each node, out of the node's pod range. */
export interface ReservedAddress {
  role: 'tunnel' | 'gateway' | 'router';
  device: string;
  ip: string;
  family: IPFamily;
}

/** The node-local addresses the CNI keeps out of the pod range (see IPAM_NOTES.podIPs). */
export function nodeReservedAddresses(s: ClusterSettings, node: NodeModel): ReservedAddress[] {
  const out: ReservedAddress[] = [];
  for (const text of node.podCIDRs) {
    const c = tryParseCidr(text);
    if (!c || cniFamilyUnsupported(s, c.family)) continue; // the weave bridge has no IPv6 address
    const r = reservedFor(s, c);
    if (r) out.push({ role: r.role, device: r.device, ip: formatIP(c.nth(r.offset)), family: c.family });
  }
  return out;
}

function reservedFor(s: ClusterSettings, c: Cidr): { role: ReservedAddress['role']; device: string; offset: number } | undefined {
  const { plugin, mode } = s.cni;
  if (c.size < 4n) return undefined;
  switch (plugin) {
    case 'calico':
      if (mode.startsWith('vxlan')) return { role: 'tunnel', device: c.family === 4 ? 'vxlan.calico' : 'vxlan-v6.calico', offset: 0 };
      if (mode.startsWith('ipip') && c.family === 4) return { role: 'tunnel', device: 'tunl0', offset: 0 };
      return undefined;
    case 'cilium':
      return { role: 'router', device: 'cilium_host', offset: 1 };
    case 'flannel':
      return { role: 'gateway', device: 'cni0', offset: 1 };
    case 'antrea':
      return { role: 'gateway', device: 'antrea-gw0', offset: 1 };
    case 'weave':
      return { role: 'gateway', device: 'weave', offset: 1 };
  }
}

/** First and last offsets inside a node pod CIDR that may hold a pod. */
function usableRange(s: ClusterSettings, c: Cidr): { first: bigint; last: bigint } {
  if (s.cni.plugin === 'calico') return { first: 0n, last: c.size - 1n };
  // host-local / cluster-pool: no network address; no broadcast in IPv4.
  if (c.size <= 2n) return { first: 0n, last: c.size - 1n };
  return { first: 1n, last: c.family === 4 ? c.size - 2n : c.size - 1n };
}

function famOf(ip: string): IPFamily | null {
  const p = parseIP(ip);
  return p ? p.family : null;
}

function famName(f: IPFamily): 'IPv4' | 'IPv6' {
  return f === 4 ? 'IPv4' : 'IPv6';
}

function canonical(ip: string): string {
  const p = parseIP(ip);
  return p ? formatIP(p) : ip;
}

function describeOwner(o: NodeModel | PodModel | ServiceModel): string {
  if ('podCIDRs' in o) return `node ${o.name}`;
  if ('clusterIPs' in o) return `Service ${o.namespace}/${o.name}`;
  return `pod ${o.namespace}/${o.name}`;
}

/**
 * Fills every missing address in `t` (in place) and checks the fixed ones.
 * Pods that could not get any address keep an empty `ips` list; callers drop
 * them (an error has been reported).
 */
export function allocateTopology(t: Topology, opts: IpamOptions = {}): void {
  const report = opts.report ?? (() => undefined);
  const s = t.settings;
  const byFam = (list: string[]) => {
    const m = new Map<IPFamily, Cidr>();
    for (const x of list) {
      const c = tryParseCidr(x);
      if (c && !m.has(c.family)) m.set(c.family, c);
    }
    return m;
  };
  const cluster = byFam(s.clusterCIDRs);
  const service = byFam(s.serviceCIDRs);
  const nodeNets = [...byFam(s.nodeCIDRs).values()];
  const owners = new Map<string, NodeModel | PodModel | ServiceModel>();

  const claim = (ip: string, who: NodeModel | PodModel | ServiceModel, field: IpamField, index: number): boolean => {
    const prev = owners.get(ip);
    if (prev && prev !== who) {
      // hostNetwork pods share their node's address by design.
      const isHostShare = (a: object, b: object) => 'hostNetwork' in a && (a as PodModel).hostNetwork && 'podCIDRs' in b;
      const podOnSameNode = 'hostNetwork' in prev && 'hostNetwork' in who && prev.hostNetwork && who.hostNetwork;
      if (isHostShare(who, prev) || isHostShare(prev, who) || podOnSameNode) return true;
      report({
        severity: 'error',
        code: 'duplicate-ip',
        message: `${ip} is used twice: by ${describeOwner(prev)} and by ${describeOwner(who)}`,
        hint: 'Every pod, node and Service needs its own address; change or remove one of them.',
        subject: who,
        field,
        index,
      });
      return false;
    }
    owners.set(ip, who);
    return true;
  };

  // ---- nodes: addresses ---------------------------------------------------
  const nodeUsed = new Set<string>();
  for (const n of t.nodes) {
    n.ips = n.ips.map(canonical);
    n.ips.forEach((ip, i) => {
      const p = parseIP(ip);
      if (!p) {
        report({ severity: 'error', code: 'invalid-ip', message: `node ${n.name}: "${ip}" is not an IP address`, subject: n, field: 'ips', index: i });
        return;
      }
      const net = nodeNets.find((c) => c.family === p.family);
      if (!net || !net.contains(p)) {
        report({
          severity: 'error',
          code: 'ip-outside-cidr',
          message: `node ${n.name}: address ${ip} is outside the node CIDR ${net ? net.text : `(no ${famName(p.family)} node CIDR configured)`}`,
          hint: `Give the node an address inside ${s.nodeCIDRs.join(', ')}, or set nodeCIDR to the network the nodes are on (e.g. --set nodeCIDR=${Cidr.fromIP(p, p.family === 4 ? 16 : 64)!.text}).`,
          subject: n,
          field: 'ips',
          index: i,
        });
      }
      nodeUsed.add(ip);
      claim(ip, n, 'ips', i);
    });
  }
  for (const net of nodeNets) {
    // x.x.1.5 in IPv4 (the seed's node-1 = 10.0.1.5), ::1:5 in IPv6.
    const start = net.family === 4 ? (net.size >= 512n ? 261n : net.size > 8n ? 5n : 1n) : net.size >= 1n << 17n ? 0x10005n : 5n;
    let off = start;
    for (const n of t.nodes) {
      if (n.ips.some((ip) => famOf(ip) === net.family)) continue;
      if (net.family === 6 && n.ips.length > 0 && nodeNets.length > 1 && !n.ips.some((ip) => famOf(ip) === 4)) continue;
      let placed = false;
      while (off < net.size - 1n) {
        const ip = formatIP(net.nth(off++));
        if (nodeUsed.has(ip) || owners.has(ip)) continue;
        nodeUsed.add(ip);
        n.ips.push(ip);
        claim(ip, n, 'ips', n.ips.length - 1);
        placed = true;
        break;
      }
      if (!placed) {
        report({
          severity: 'error',
          code: 'cidr-exhausted',
          message: `node CIDR ${net.text} has no free address for node ${n.name} (${t.nodes.length} nodes)`,
          hint: 'Use a larger nodeCIDR.',
          subject: n,
          field: 'ips',
        });
      }
    }
    // Keep the primary family first.
  }
  const primaryNodeFam = nodeNets[0]?.family ?? 4;
  for (const n of t.nodes) {
    if (n.ips.length === 2 && famOf(n.ips[0]) !== primaryNodeFam) n.ips.reverse();
  }

  // ---- nodes: pod CIDRs -----------------------------------------------------
  const nodeCidrs = new Map<NodeModel, Map<IPFamily, Cidr>>();
  for (const [fam, cc] of cluster) {
    const mask = fam === 4 ? s.nodeCIDRMaskSize.v4 : s.nodeCIDRMaskSize.v6;
    const fixed: { c: Cidr; n: NodeModel; i: number }[] = [];
    for (const n of t.nodes) {
      n.podCIDRs.forEach((text, i) => {
        const c = tryParseCidr(text);
        if (!c) {
          report({ severity: 'error', code: 'invalid-cidr', message: `node ${n.name}: pod CIDR "${text}" is not a CIDR`, subject: n, field: 'podCIDRs', index: i });
          return;
        }
        if (c.family !== fam) return;
        if (c.hostBitsSet) {
          report({
            severity: 'warning',
            code: 'cidr-host-bits',
            message: `node ${n.name}: pod CIDR ${text} has host bits set; it means ${c.text}`,
            hint: `Write ${c.text}.`,
            subject: n,
            field: 'podCIDRs',
            index: i,
          });
        }
        n.podCIDRs[i] = c.text;
        if (!cc.containsCidr(c)) {
          report({
            severity: 'error',
            code: 'ip-outside-cidr',
            message: `node ${n.name}: pod CIDR ${c.text} is outside the cluster CIDR ${cc.text}`,
            hint: `Node pod CIDRs are carved from the cluster CIDR; use a range inside ${cc.text} or change clusterCIDR.`,
            subject: n,
            field: 'podCIDRs',
            index: i,
          });
        }
        fixed.push({ c, n, i });
      });
    }
    // Overlaps between fixed node pod CIDRs: sort by start, compare neighbours.
    const sorted = [...fixed].sort((a, b) => cmpBase(a.c, b.c));
    for (let k = 1; k < sorted.length; k++) {
      for (let j = k - 1; j >= 0; j--) {
        const a = sorted[j];
        const b = sorted[k];
        if (!a.c.overlaps(b.c)) {
          if (j === k - 1) break;
          continue;
        }
        report({
          severity: 'error',
          code: 'cidr-overlap',
          message: `node ${b.n.name}: pod CIDR ${b.c.text} overlaps node ${a.n.name}'s pod CIDR ${a.c.text}`,
          hint: 'Each node needs its own pod CIDR.',
          subject: b.n,
          field: 'podCIDRs',
          index: b.i,
        });
        break;
      }
    }
    for (const f of fixed) {
      let m = nodeCidrs.get(f.n);
      if (!m) nodeCidrs.set(f.n, (m = new Map()));
      if (!m.has(fam)) m.set(fam, f.c);
    }
    const needing = t.nodes.filter((n) => !nodeCidrs.get(n)?.has(fam));
    if (needing.length === 0) continue;
    if (mask < cc.prefix || mask > cc.bits) {
      report({
        severity: 'error',
        code: 'invalid-mask-size',
        message: `nodeCIDRMaskSize ${fam === 4 ? 'v4' : 'v6'} /${mask} cannot carve node pod CIDRs out of the cluster CIDR ${cc.text}`,
        hint: `Use a mask size between ${cc.prefix} and ${cc.bits}.`,
      });
      continue;
    }
    const total = 1n << BigInt(mask - cc.prefix);
    const fixedSorted = sorted.map((f) => f.c);
    let idx = BigInt(s.firstNodeCIDRIndex);
    let exhausted = false;
    for (const n of needing) {
      let got: Cidr | undefined;
      while (idx < total) {
        const cand = cc.subnet(mask, idx++);
        if (fixedSorted.some((f) => f.overlaps(cand))) continue;
        got = cand;
        break;
      }
      if (!got) {
        if (!exhausted) {
          const avail = total - BigInt(s.firstNodeCIDRIndex);
          report({
            severity: 'error',
            code: 'cidr-exhausted',
            message:
              `cluster CIDR ${cc.text} holds ${avail < 0n ? 0n : avail} /${mask} node pod CIDRs from index ${s.firstNodeCIDRIndex}` +
              `${fixed.length ? ` (${fixed.length} fixed by nodes)` : ''}, but ${t.nodes.length} nodes need one: no pod CIDR left for node ${n.name}`,
            hint: `Use a larger clusterCIDR, a longer nodeCIDRMaskSize (e.g. /${Math.min(mask + 2, cc.bits)}), or fewer nodes.`,
            subject: n,
            field: 'podCIDRs',
          });
          exhausted = true;
        }
        continue;
      }
      n.podCIDRs.push(got.text);
      let m = nodeCidrs.get(n);
      if (!m) nodeCidrs.set(n, (m = new Map()));
      m.set(fam, got);
    }
  }
  const primaryFam = cluster.keys().next().value ?? 4;
  for (const n of t.nodes) {
    if (n.podCIDRs.length === 2 && famOf(n.podCIDRs[0].split('/')[0]) !== primaryFam) n.podCIDRs.reverse();
  }

  // ---- pods ------------------------------------------------------------------
  const nodesByName = new Map(t.nodes.map((n) => [n.name, n]));
  const podsByNode = new Map<NodeModel, PodModel[]>();
  for (const p of t.pods) {
    const n = nodesByName.get(p.nodeName);
    if (!n) continue;
    if (p.hostNetwork) {
      if (p.ips.length === 0) p.ips = [...n.ips];
      else p.ips = p.ips.map(canonical);
      continue;
    }
    let l = podsByNode.get(n);
    if (!l) podsByNode.set(n, (l = []));
    l.push(p);
  }
  // Fixed pod addresses first, everywhere, so allocation can skip them.
  for (const p of t.pods) {
    if (p.hostNetwork || p.ips.length === 0) continue;
    const node = nodesByName.get(p.nodeName);
    const ips: string[] = [];
    p.ips.forEach((raw, i) => {
      const ip = parseIP(raw);
      if (!ip) {
        report({ severity: 'error', code: 'invalid-ip', message: `pod ${p.namespace}/${p.name}: "${raw}" is not an IP address`, subject: p, field: 'ips', index: i });
        return;
      }
      const text = formatIP(ip);
      const cc = cluster.get(ip.family);
      if (cniFamilyUnsupported(s, ip.family)) {
        report({
          severity: 'warning',
          code: 'cni-ipv4-only',
          message: `pod ${p.namespace}/${p.name}: ${s.cni.plugin} cannot give it the ${famName(ip.family)} address ${text} (Weave Net is IPv4-only); the address is left out`,
          hint: `A ${s.cni.plugin} pod has an IPv4 address only; remove ${text} from status.podIPs, or use calico, flannel or cilium for dual-stack pods.`,
          subject: p,
          field: 'ips',
          index: i,
        });
        return;
      }
      if (!cc || !cc.contains(ip)) {
        report({
          severity: 'error',
          code: 'ip-outside-cidr',
          message: `pod ${p.namespace}/${p.name}: address ${text} is outside the cluster CIDR ${cc ? cc.text : `(no ${famName(ip.family)} cluster CIDR configured)`}`,
          hint: `Pod addresses come from the cluster CIDR ${s.clusterCIDRs.join(', ')}; fix the address or set clusterCIDR (e.g. --set clusterCIDR=...).`,
          subject: p,
          field: 'ips',
          index: i,
        });
      } else if (node && s.cni.plugin !== 'calico') {
        const nc = nodeCidrs.get(node)?.get(ip.family);
        if (nc && !nc.contains(ip)) {
          report({
            severity: 'warning',
            code: 'pod-ip-outside-node-cidr',
            message: `pod ${p.namespace}/${p.name}: address ${text} is outside node ${node.name}'s pod CIDR ${nc.text}`,
            hint: `With ${s.cni.plugin} each node hands out addresses from its own pod CIDR; routes to this pod will point at the wrong node.`,
            subject: p,
            field: 'ips',
            index: i,
          });
        }
      }
      claim(text, p, 'ips', i);
      ips.push(text);
    });
    p.ips = ips;
  }
  const reservedUsed = new Map<NodeModel, ReservedAddress[]>();
  for (const n of t.nodes) {
    const r = nodeReservedAddresses(s, n);
    reservedUsed.set(n, r);
    for (const a of r) {
      const prev = owners.get(a.ip);
      if (prev && prev !== n) {
        report({
          severity: 'error',
          code: 'duplicate-ip',
          message: `${a.ip} is ${n.name}'s ${a.device} address (${a.role}) but is also used by ${describeOwner(prev)}`,
          hint: `${s.cni.plugin} gives this address to ${a.device} on the node; move the other user to a different address.`,
          subject: prev,
          field: 'ips',
        });
      } else owners.set(a.ip, n);
    }
  }
  for (const [n, pods] of podsByNode) {
    const fams = nodeCidrs.get(n);
    if (!fams) continue;
    for (const [fam, nc] of fams) {
      if (cniFamilyUnsupported(s, fam)) continue; // said once for the cluster (validateSettings: cni-ipv4-only)
      const todo = pods.filter((p) => !p.ips.some((ip) => famOf(ip) === fam));
      if (todo.length === 0) continue;
      const range = usableRange(s, nc);
      let off = BigInt(s.podIPOffset);
      if (off < range.first) off = range.first;
      const startOff = off;
      let k = 0;
      while (k < todo.length && off <= range.last) {
        const ip = formatIP(nc.nth(off++));
        if (owners.has(ip)) continue;
        const p = todo[k++];
        p.ips.push(ip);
        owners.set(ip, p);
      }
      if (k < todo.length) {
        const onNode = pods.length;
        const cap = range.last >= startOff ? range.last - startOff + 1n : 0n;
        report({
          severity: 'error',
          code: 'cidr-exhausted',
          message:
            `node ${n.name}: pod CIDR ${nc.text} has room for ${cap} pod addresses from offset ${startOff} ` +
            `(${formatIP(nc.nth(startOff <= range.last ? startOff : range.last))}-${formatIP(nc.nth(range.last))}), ` +
            `but ${onNode} pods are placed on ${n.name}; ${todo.length - k} got no ${famName(fam)} address`,
          hint: `Use a shorter nodeCIDRMaskSize (bigger per-node range), a lower podIPOffset, more nodes, or fewer pods on ${n.name}.`,
          subject: todo[k],
          field: 'ips',
        });
      }
    }
  }
  // Primary family first on every pod.
  for (const p of t.pods) {
    if (p.ips.length === 2 && famOf(p.ips[0]) !== primaryFam) p.ips.reverse();
  }

  // ---- Calico blocks -----------------------------------------------------------
  if (s.cni.plugin === 'calico') {
    for (const n of t.nodes) {
      const blocks = new Map<string, Cidr>();
      const add = (ipText: string) => {
        const ip = parseIP(ipText);
        if (!ip) return;
        const cc = cluster.get(ip.family);
        if (!cc || !cc.contains(ip)) return;
        const bs = ip.family === 4 ? s.blockSize.v4 : s.blockSize.v6;
        const nc = nodeCidrs.get(n)?.get(ip.family);
        const size = nc && nc.contains(ip) && bs < nc.prefix ? nc.prefix : Math.max(bs, cc.prefix);
        const b = Cidr.fromIP(ip, size)!;
        blocks.set(b.text, b);
      };
      for (const r of reservedUsed.get(n) ?? []) add(r.ip);
      for (const p of podsByNode.get(n) ?? []) for (const ip of p.ips) add(ip);
      n.blocks = [...blocks.values()].sort(cmpCidr).map((c) => c.text);
    }
  } else {
    for (const n of t.nodes) delete n.blocks;
  }

  // ---- services ------------------------------------------------------------------
  allocateServices(t, service, owners, claim, report);
  allocateNodePorts(t, report);
}

function cmpBase(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.base === b.base) return a.prefix - b.prefix;
  return a.base < b.base ? -1 : 1;
}

function cmpCidr(a: Cidr, b: Cidr): number {
  return cmpBase(a, b);
}

function allocateServices(
  t: Topology,
  service: Map<IPFamily, Cidr>,
  owners: Map<string, NodeModel | PodModel | ServiceModel>,
  claim: (ip: string, who: ServiceModel, field: IpamField, index: number) => boolean,
  report: (i: IpamIssue) => void,
): void {
  const needsIP = (svc: ServiceModel) => svc.type !== 'ExternalName' && !(svc.clusterIPs.length === 1 && svc.clusterIPs[0] === 'None');
  // Fixed cluster IPs.
  for (const svc of t.services) {
    if (!needsIP(svc)) continue;
    const kept: string[] = [];
    svc.clusterIPs.forEach((raw, i) => {
      const ip = parseIP(raw);
      if (!ip) {
        report({ severity: 'error', code: 'invalid-ip', message: `Service ${svc.namespace}/${svc.name}: clusterIP "${raw}" is not an IP address (or None)`, subject: svc, field: 'clusterIPs', index: i });
        return;
      }
      const text = formatIP(ip);
      const sc = service.get(ip.family);
      if (!sc || !sc.contains(ip) || ip.value === sc.first().value || (ip.family === 4 && ip.value === sc.last().value)) {
        report({
          severity: 'error',
          code: 'ip-outside-cidr',
          message: sc?.contains(ip)
            ? `Service ${svc.namespace}/${svc.name}: clusterIP ${text} is the ${ip.value === sc.first().value ? 'network' : 'broadcast'} address of the service CIDR ${sc.text}`
            : `Service ${svc.namespace}/${svc.name}: clusterIP ${text} is outside the service CIDR ${sc ? sc.text : `(no ${famName(ip.family)} service CIDR configured)`}`,
          hint: `Cluster IPs come from the service CIDR ${t.settings.serviceCIDRs.join(', ')}; pick another address or leave clusterIP out to have one allocated.`,
          subject: svc,
          field: 'clusterIPs',
          index: i,
        });
      }
      claim(text, svc, 'clusterIPs', i);
      kept.push(text);
    });
    svc.clusterIPs = kept;
  }
  const order: ServiceModel[] = [];
  const k8s = t.services.find((x) => x.namespace === 'default' && x.name === 'kubernetes');
  const dns = t.services.find((x) => x.namespace === 'kube-system' && x.name === 'kube-dns');
  if (k8s) order.push(k8s);
  if (dns) order.push(dns);
  for (const svc of t.services) if (svc !== k8s && svc !== dns) order.push(svc);
  for (const [fam, sc] of service) {
    const lastUsable = fam === 4 ? sc.size - 2n : sc.size - 1n;
    // Preference: 11.., then 2..10 (1 and 10 are the well-known ones).
    const want = order.filter((svc) => needsIP(svc) && svc.ipFamilies.includes(famName(fam)) && !svc.clusterIPs.some((ip) => famOf(ip) === fam));
    const needTotal = order.filter((svc) => needsIP(svc) && svc.ipFamilies.includes(famName(fam))).length;
    let cursor = 11n;
    let low = 2n;
    const next = (): string | undefined => {
      while (cursor <= lastUsable) {
        const ip = formatIP(sc.nth(cursor++));
        if (!owners.has(ip)) return ip;
      }
      while (low <= 10n && low <= lastUsable) {
        const ip = formatIP(sc.nth(low++));
        if (!owners.has(ip)) return ip;
      }
      return undefined;
    };
    let exhausted = false;
    for (const svc of want) {
      let ip: string | undefined;
      const special = svc === k8s ? 1n : svc === dns ? 10n : 0n;
      if (special && special <= lastUsable) {
        const cand = formatIP(sc.nth(special));
        if (!owners.has(cand)) ip = cand;
      }
      ip ??= next();
      if (!ip) {
        if (!exhausted) {
          report({
            severity: 'error',
            code: 'cidr-exhausted',
            message: `service CIDR ${sc.text} holds ${lastUsable} cluster IPs (${formatIP(sc.nth(1))}-${formatIP(sc.nth(lastUsable))}), but ${needTotal} Services need an ${famName(fam)} address: none left for Service ${svc.namespace}/${svc.name}`,
            hint: 'Use a larger serviceCIDR, or make some Services headless (clusterIP: None).',
            subject: svc,
            field: 'clusterIPs',
          });
          exhausted = true;
        }
        continue;
      }
      owners.set(ip, svc);
      // Keep the order of ipFamilies.
      const pos = svc.ipFamilies.indexOf(famName(fam));
      if (pos === 0) svc.clusterIPs.unshift(ip);
      else svc.clusterIPs.push(ip);
    }
  }
}

function allocateNodePorts(t: Topology, report: (i: IpamIssue) => void): void {
  const used = new Map<string, ServiceModel>();
  const key = (port: number, proto: string) => `${proto}/${port}`;
  const usedPorts = new Set<number>();
  const check = (svc: ServiceModel, port: number, proto: string, field: IpamField, index?: number) => {
    if (port < NODE_PORT_RANGE.min || port > NODE_PORT_RANGE.max) {
      report({
        severity: 'error',
        code: 'port-out-of-range',
        message: `Service ${svc.namespace}/${svc.name}: ${field} ${port} is outside the node port range ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
        hint: 'Pick a port in 30000-32767 or leave it out to have one allocated.',
        subject: svc,
        field,
        index,
      });
    }
    const prev = used.get(key(port, proto));
    if (prev && prev !== svc) {
      report({
        severity: 'error',
        code: 'duplicate-node-port',
        message: `Service ${svc.namespace}/${svc.name}: node port ${port}/${proto} is already used by Service ${prev.namespace}/${prev.name}`,
        hint: 'Node ports are cluster-wide; pick another or leave it out.',
        subject: svc,
        field,
        index,
      });
    }
    used.set(key(port, proto), svc);
    usedPorts.add(port);
  };
  const external = (svc: ServiceModel) => svc.type === 'NodePort' || svc.type === 'LoadBalancer';
  for (const svc of t.services) {
    svc.ports.forEach((p, i) => {
      if (p.nodePort !== undefined) {
        if (!external(svc)) {
          report({
            severity: 'warning',
            code: 'unused-node-port',
            message: `Service ${svc.namespace}/${svc.name}: nodePort ${p.nodePort} has no effect on a ${svc.type} Service`,
            subject: svc,
            field: 'nodePort',
            index: i,
          });
          return;
        }
        check(svc, p.nodePort, p.protocol, 'nodePort', i);
      }
    });
    if (svc.healthCheckNodePort !== undefined) check(svc, svc.healthCheckNodePort, 'TCP', 'healthCheckNodePort');
  }
  let cursor = NODE_PORT_RANGE.min;
  const next = (): number | undefined => {
    while (cursor <= NODE_PORT_RANGE.max) {
      const p = cursor++;
      if (!usedPorts.has(p)) {
        usedPorts.add(p);
        return p;
      }
    }
    return undefined;
  };
  for (const svc of t.services) {
    if (!external(svc)) continue;
    svc.ports.forEach((p, i) => {
      if (p.nodePort !== undefined) return;
      const n = next();
      if (n === undefined) {
        report({ severity: 'error', code: 'node-ports-exhausted', message: `Service ${svc.namespace}/${svc.name}: no node port left in ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`, subject: svc, field: 'nodePort', index: i });
        return;
      }
      p.nodePort = n;
      used.set(key(n, p.protocol), svc);
    });
    if (svc.type === 'LoadBalancer' && svc.externalTrafficPolicy === 'Local' && svc.healthCheckNodePort === undefined) {
      const n = next();
      if (n !== undefined) svc.healthCheckNodePort = n;
    }
  }
}

export type { IP };
