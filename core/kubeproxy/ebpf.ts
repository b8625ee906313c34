// Cilium kube-proxy replacement (kubeProxy mode `ebpf`): the LB service map —
// frontend VIP:port/proto → backends — and `cilium-dbg service list` output.
//
// Frontends per Service port: the ClusterIP, each externalIP, each
// LoadBalancer IP, and for NodePorts the surrogate 0.0.0.0:<port> plus one per
// node address. Local traffic policies keep only this node's backends on the
// affected frontends. Backends are picked at random (loadBalancer.algorithm
// random, the default; maglev is an option). Service IDs are allocated by the
// agent in the order it learns services; the model numbers them in sorted order.

import { joinHostPort, parseIP } from '../net';
import type { Topology } from '../model/types';
import { categorizeEndpoints, proxyServicePorts, type ProxyEndpoint, type ProxyServicePort } from './endpoints';

export type CiliumServiceType = 'ClusterIP' | 'NodePort' | 'ExternalIPs' | 'LoadBalancer';

export interface CiliumBackend {
  address: string;
  port: number;
  state: 'active' | 'terminating';
  endpoint: ProxyEndpoint;
}

export interface CiliumFrontend {
  id: number;
  address: string;
  port: number;
  /** TCP | UDP | SCTP */
  proto: string;
  type: CiliumServiceType;
  backends: CiliumBackend[];
  servicePort: ProxyServicePort;
  /** Only node-local backends are used (iTP/eTP Local). */
  localOnly: boolean;
}

/** The service map of one node (both families when the cluster is dual-stack). */
export function ciliumServiceMap(topo: Topology, nodeName: string): CiliumFrontend[] {
  const out: CiliumFrontend[] = [];
  let id = 1;
  const node = topo.nodes.find((n) => n.name === nodeName);
  for (const family of [4, 6] as const) {
    const nodeIPs = (node?.ips ?? []).filter((ip) => parseIP(ip)?.family === family);
    for (const sp of proxyServicePorts(topo, nodeName, family)) {
      const cat = categorizeEndpoints(sp);
      const backends = (eps: ProxyEndpoint[]): CiliumBackend[] => eps.map((e) => ({ address: e.ip, port: e.port, state: e.ready ? 'active' : 'terminating', endpoint: e }));
      const clusterB = backends(cat.clusterEndpoints);
      const localB = backends(cat.localEndpoints);
      const fe = (address: string, port: number, type: CiliumServiceType, local: boolean): void => {
        out.push({ id: id++, address, port, proto: sp.Protocol, type, backends: local ? localB : clusterB, servicePort: sp, localOnly: local });
      };
      fe(sp.clusterIP, sp.port, 'ClusterIP', sp.iTPLocal);
      for (const ip of sp.externalIPs) fe(ip, sp.port, 'ExternalIPs', sp.eTPLocal);
      for (const ip of sp.loadBalancerVIPs) fe(ip, sp.port, 'LoadBalancer', sp.eTPLocal);
      if (sp.nodePort) {
        fe(family === 4 ? '0.0.0.0' : '::', sp.nodePort, 'NodePort', sp.eTPLocal);
        for (const ip of nodeIPs) fe(ip, sp.nodePort, 'NodePort', sp.eTPLocal);
      }
    }
  }
  return out;
}

/** Finds the frontend a packet hits (NodePort frontends also match any local node address). */
export function ciliumLookup(map: readonly CiliumFrontend[], dst: string, dport: number, proto: string): CiliumFrontend | undefined {
  const P = proto.toUpperCase();
  return map.find((f) => f.address === dst && f.port === dport && f.proto === P);
}

/**
 * Go text/tabwriter with (minwidth 5, tabwidth 0, padding 3, ' ', 0), as the
 * Cilium CLI sets it up: each tab-terminated cell is padded to its column's
 * widest cell + 3.
 */
export function goTabwriter(lines: string[], minwidth = 5, padding = 3): string {
  const rows = lines.map((l) => l.split('\t'));
  const ncols = Math.max(...rows.map((r) => r.length - 1));
  const widths: number[] = [];
  for (let j = 0; j < ncols; j++) {
    let w = minwidth;
    for (const r of rows) if (j < r.length - 1) w = Math.max(w, [...r[j]].length + padding);
    widths.push(w);
  }
  return `${rows.map((r) => r.map((c, j) => (j < r.length - 1 ? c + ' '.repeat(widths[j] - [...c].length) : c)).join('')).join('\n')}\n`;
}

/**
 * `cilium-dbg service list` (Cilium ≥ 1.16 spelling: frontends and backends
 * carry `/PROTO`; older agents print `10.96.0.10:53` without it).
 */
export function renderCiliumServiceList(map: readonly CiliumFrontend[], opts: { protoSuffix?: boolean } = {}): string {
  const suffix = opts.protoSuffix ?? true;
  const addr = (ip: string, port: number, proto: string): string => `${joinHostPort(ip, port)}${suffix ? `/${proto}` : ''}`;
  const lines = ['ID\tFrontend\tService Type\tBackend\t'];
  for (const f of [...map].sort((a, b) => a.id - b.id)) {
    const bs = f.backends.map((b, i) => `${i + 1} => ${addr(b.address, b.port, f.proto)} (${b.state})`);
    if (!bs.length) {
      lines.push(`${f.id}\t${addr(f.address, f.port, f.proto)}\t${f.type}\t\t`);
      continue;
    }
    lines.push(`${f.id}\t${addr(f.address, f.port, f.proto)}\t${f.type}\t${bs[0]}\t`);
    for (const b of bs.slice(1)) lines.push(`\t\t\t${b}\t`);
  }
  return goTabwriter(lines);
}
